/*
 * connhog.c - keep a web head at its connection limit: a client that holds
 * more idle kept-alive connections than the server has room for.
 *
 *   connhog -p PORT [-a ADDR] [-n CONNS] [-P PARTIAL] [-r OPENS_PER_S]
 *           [-R MS] [-T SECONDS]
 *
 * Opens up to CONNS (default 200) connections to ADDR:PORT (default
 * 127.0.0.1), sends one "GET /health HTTP/1.1" on each, reads the answer
 * and then keeps the connection idle, as a browser or a pooling client
 * does.  It opens them all at once, then, whenever fewer than CONNS are
 * open, opens more, at most OPENS_PER_S a second (default 500), so that a server whose
 * worker_connections is smaller than CONNS keeps closing idle connections
 * to make room ("worker_connections are not enough, reusing connections"
 * in nginx) for as long as connhog runs.  With -R, each idle connection
 * sends another request every MS milliseconds: connhog's connections are
 * then the most recently used ones, and the server's least recently used
 * idle connections - those it closes first - are everyone else's.
 * With -P N, N more connections each send a request that never ends (no
 * final empty line): they hold a server slot that the server cannot
 * reclaim, so that its few reclaimable connections are closed one by one.
 *
 * Prints "ready=1" once the first connection was answered; SIGUSR1 and
 * the end print "opened=N answered=N closed_by_peer=N open=N".  Stops on
 * SIGTERM/SIGINT or after SECONDS (default 120).
 */
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdbool.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define TAG_SIGNAL	UINT64_MAX

enum cstate {
	C_FREE = 0,
	C_CONNECTING,
	C_WAITING,	/* request sent, answer not complete */
	C_IDLE,		/* answered, kept alive */
	C_PARTIAL,	/* -P: a request that never ends */
};

struct conn {
	int		 fd;
	enum cstate	 st;
	int64_t		 used_ms;	/* last request sent */
};

static const char request[] =
    "GET /health HTTP/1.1\r\nHost: connhog\r\nUser-Agent: connhog\r\n\r\n";

static struct conn	*conns;
static int		 nconns, nopen;
static unsigned long long opened, answered, closed_by_peer;
static struct sockaddr_in dst;
static int		 ep;
static int		 ready_said;
static int64_t		 refresh_ms;	/* -R: 0 = never */
static int		 npartial;	/* -P: the first slots */

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
report(void)
{
	printf("opened=%llu answered=%llu closed_by_peer=%llu open=%d\n",
	    opened, answered, closed_by_peer, nopen);
	fflush(stdout);
}

static void
conn_close(struct conn *c)
{
	if (c->st == C_FREE)
		return;
	close(c->fd);
	c->fd = -1;
	c->st = C_FREE;
	nopen--;
}

static int
conn_open(struct conn *c)
{
	struct epoll_event ev;
	int fd;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&dst, sizeof(dst)) != 0 &&
	    errno != EINPROGRESS) {
		close(fd);
		return -1;
	}
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLOUT | EPOLLIN | EPOLLRDHUP;
	ev.data.u64 = (uint64_t)(c - conns);
	if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
		close(fd);
		return -1;
	}
	c->fd = fd;
	c->st = C_CONNECTING;
	nopen++;
	opened++;
	return 0;
}

static int
conn_send(struct conn *c)
{
	bool partial = c - conns < npartial;

	/* A partial request lacks its final CRLF: the server keeps waiting. */
	if (write(c->fd, request, sizeof(request) - 1 - (partial ? 2 : 0)) <
	    0) {
		conn_close(c);
		return -1;
	}
	c->st = partial ? C_PARTIAL : C_WAITING;
	c->used_ms = now_ms();
	return 0;
}

static void
conn_event(struct conn *c, uint32_t events)
{
	struct epoll_event ev;
	char buf[4096];
	ssize_t n;

	if (c->st == C_FREE)
		return;
	if (c->st == C_CONNECTING && (events & EPOLLOUT)) {
		int err = 0;
		socklen_t len = sizeof(err);

		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 ||
		    err != 0) {
			conn_close(c);
			return;
		}
		if (conn_send(c) != 0)
			return;
		memset(&ev, 0, sizeof(ev));
		ev.events = EPOLLIN | EPOLLRDHUP;
		ev.data.u64 = (uint64_t)(c - conns);
		epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
	}
	if (!(events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)))
		return;
	for (;;) {
		n = read(c->fd, buf, sizeof(buf));
		if (n > 0) {
			/* One small answer per request: its end is enough. */
			if (c->st == C_WAITING) {
				c->st = C_IDLE;
				answered++;
				if (!ready_said) {
					printf("ready=1\n");
					fflush(stdout);
					ready_said = 1;
				}
			}
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		/* EOF or reset: the server dropped it. */
		closed_by_peer++;
		conn_close(c);
		return;
	}
}

int
main(int argc, char **argv)
{
	struct epoll_event	 ev, evs[256];
	struct signalfd_siginfo	 si;
	struct rlimit		 rl;
	sigset_t		 mask;
	const char		*addr = "127.0.0.1";
	int			 ch, port = 0, rate = 500, sfd, i, nev;
	long			 life = 120;
	int64_t			 end, tick, last;
	double			 budget = 0;

	nconns = 200;
	while ((ch = getopt(argc, argv, "a:p:n:r:P:R:T:")) != -1) {
		switch (ch) {
		case 'a':
			addr = optarg;
			break;
		case 'p':
			port = atoi(optarg);
			break;
		case 'n':
			nconns = atoi(optarg);
			break;
		case 'r':
			rate = atoi(optarg);
			break;
		case 'R':
			refresh_ms = atol(optarg);
			break;
		case 'P':
			npartial = atoi(optarg);
			break;
		case 'T':
			life = atol(optarg);
			break;
		default:
			goto usage;
		}
	}
	if (port <= 0 || port > 65535 || nconns <= 0 || rate <= 0 ||
	    npartial < 0)
		goto usage;
	nconns += npartial;
	memset(&dst, 0, sizeof(dst));
	dst.sin_family = AF_INET;
	dst.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, addr, &dst.sin_addr) != 1)
		goto usage;
	signal(SIGPIPE, SIG_IGN);
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
	    rl.rlim_cur < (rlim_t)nconns + 16) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if ((conns = calloc((size_t)nconns, sizeof(*conns))) == NULL ||
	    (ep = epoll_create1(0)) < 0)
		return 1;
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGUSR1);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	if ((sfd = signalfd(-1, &mask, SFD_NONBLOCK)) < 0)
		return 1;
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.u64 = TAG_SIGNAL;
	epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &ev);

	last = now_ms();
	end = last + life * 1000;
	for (i = 0; i < nconns; i++)
		if (conn_open(&conns[i]) != 0)
			break;
	for (;;) {
		tick = now_ms();
		if (tick >= end)
			break;
		/* Open what is missing: all at first, then `rate` a second. */
		budget += (double)(tick - last) * rate / 1000.0;
		if (budget > (rate < 10 ? 1.0 : rate / 10.0))
			budget = rate < 10 ? 1.0 : rate / 10.0;
		last = tick;
		for (i = 0; i < nconns && nopen < nconns && budget >= 1; i++)
			if (conns[i].st == C_FREE) {
				if (conn_open(&conns[i]) != 0)
					break;
				budget -= 1;
			}
		/* Keep our idle connections the most recently used. */
		for (i = 0; refresh_ms > 0 && i < nconns; i++)
			if (conns[i].st == C_IDLE &&
			    tick - conns[i].used_ms >= refresh_ms)
				conn_send(&conns[i]);
		nev = epoll_wait(ep, evs, 256, 10);
		for (i = 0; i < nev; i++) {
			if (evs[i].data.u64 == TAG_SIGNAL) {
				if (read(sfd, &si, sizeof(si)) != sizeof(si))
					continue;
				if (si.ssi_signo == SIGUSR1) {
					report();
					continue;
				}
				report();
				return 0;
			}
			conn_event(&conns[evs[i].data.u64], evs[i].events);
		}
	}
	report();
	return 0;
usage:
	fprintf(stderr, "usage: connhog -p PORT [-a ADDR] [-n CONNS]"
	    " [-P PARTIAL] [-r OPENS_PER_S] [-R MS] [-T SECONDS]\n");
	return 2;
}
