/*
 * hostile.c - an outsider on the same host, against failoverd's API.
 *
 *   hostile [-r] [-b] [-H HOST] -n N -i MS -d SECONDS ADDR PORT
 *
 * Opens N connections to ADDR:PORT and sends half a request on each
 * ("GET /healthz HTTP/1.1", a Host line), then one more header line every
 * MS milliseconds (with -b: one byte every MS, slowloris), never ending
 * the headers.  With -r a connection the server closes is opened again
 * (at most once per 100 ms each), so the N keep pressing.  After SECONDS
 * it prints what happened, one key=value per line:
 *
 *   opened          connections established
 *   connect_failed  connects that failed (refused, reset, timed out)
 *   closed          connections the server closed (or reset)
 *   answered_503    of those, the ones that got a 503 first
 *   answered_other  the ones that got any other answer first
 *   open_max        most connections established and not closed at once
 *   open_end        established and not closed at the end
 *   life_max_ms     longest life of a connection the server closed
 *                   (established to closed)
 *   life_min_ms     shortest one
 *
 * It raises its own descriptor limit to fit N.  Loopback only by intent:
 * it is the fixture of test_hostile.sh.
 */
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct hconn {
	int		 fd;		/* -1: not open */
	bool		 connected;
	bool		 answered;
	int64_t		 next_ms;	/* next byte or line, or reconnect */
	int64_t		 since_ms;	/* established at */
	unsigned	 nsent;
};

static struct sockaddr_in	 peer;
static const char		*hosthdr;
static int			 ep;
static bool			 reconnect, bytewise;
static int64_t			 interval_ms;
static uint64_t			 opened, connect_failed, closed, ans503,
				 ansother;
static long			 nopen, open_max;
static int64_t			 life_max = -1, life_min = -1;

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
hc_close(struct hconn *c, bool by_peer, int64_t now)
{
	if (c->fd < 0)
		return;
	epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->fd = -1;
	if (c->connected) {
		nopen--;
		if (by_peer) {
			int64_t life = now - c->since_ms;

			closed++;
			if (life > life_max)
				life_max = life;
			if (life_min < 0 || life < life_min)
				life_min = life;
		}
	} else
		connect_failed++;
	c->connected = false;
	c->next_ms = now + 100;
}

static void
hc_open(struct hconn *c, int64_t now)
{
	struct epoll_event ev;

	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		connect_failed++;
		c->next_ms = now + 100;
		return;
	}
	c->connected = false;
	c->answered = false;
	c->nsent = 0;
	if (connect(c->fd, (struct sockaddr *)&peer, sizeof(peer)) != 0 &&
	    errno != EINPROGRESS) {
		close(c->fd);
		c->fd = -1;
		connect_failed++;
		c->next_ms = now + 100;
		return;
	}
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP;
	ev.data.ptr = c;
	epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
	c->next_ms = now + 10000;	/* a connect that takes this long failed */
}

/* The first part of the request, then one line (or byte) at a time. */
static void
hc_send(struct hconn *c, int64_t now)
{
	char buf[512];
	int n;

	if (c->nsent == 0) {
		n = snprintf(buf, sizeof(buf), "GET /healthz HTTP/1.1\r\n"
		    "Host: %s\r\n", hosthdr);
		if (bytewise)
			n = snprintf(buf, sizeof(buf), "G");
	} else if (bytewise) {
		static const char req[] = "GET /healthz HTTP/1.1\r\nX-Slow: ";
		size_t i = c->nsent;

		buf[0] = i < sizeof(req) - 1 ? req[i] : 'a';
		n = 1;
	} else
		n = snprintf(buf, sizeof(buf), "X-Hold-%u: y\r\n", c->nsent);
	if (send(c->fd, buf, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT) < 0 &&
	    errno != EAGAIN) {
		hc_close(c, true, now);
		return;
	}
	c->nsent++;
	c->next_ms = now + interval_ms;
}

static void
hc_event(struct hconn *c, uint32_t what, int64_t now)
{
	struct epoll_event ev;
	char buf[4096];
	ssize_t n;

	if (!c->connected) {
		int err = 0;
		socklen_t len = sizeof(err);

		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 ||
		    err != 0 || (what & (EPOLLERR | EPOLLHUP))) {
			hc_close(c, false, now);
			return;
		}
		c->connected = true;
		c->since_ms = now;
		opened++;
		if (++nopen > open_max)
			open_max = nopen;
		memset(&ev, 0, sizeof(ev));
		ev.events = EPOLLIN | EPOLLRDHUP;
		ev.data.ptr = c;
		epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
		hc_send(c, now);
		return;
	}
	for (;;) {
		n = recv(c->fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
		if (n > 0) {
			buf[n] = '\0';
			if (!c->answered) {
				c->answered = true;
				if (strncmp(buf, "HTTP/1.1 503", 12) == 0 ||
				    strncmp(buf, "HTTP/1.0 503", 12) == 0)
					ans503++;
				else
					ansother++;
			}
			continue;
		}
		if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
			hc_close(c, true, now);
			return;
		}
		break;
	}
	if (what & (EPOLLHUP | EPOLLERR | EPOLLRDHUP))
		hc_close(c, true, now);
}

int
main(int argc, char **argv)
{
	struct epoll_event evs[256];
	struct hconn *conns;
	struct rlimit rl;
	long n = 0;
	int64_t end, now, dur = 0;
	int ch;

	while ((ch = getopt(argc, argv, "rbH:n:i:d:")) != -1) {
		switch (ch) {
		case 'r':
			reconnect = true;
			break;
		case 'b':
			bytewise = true;
			break;
		case 'H':
			hosthdr = optarg;
			break;
		case 'n':
			n = atol(optarg);
			break;
		case 'i':
			interval_ms = atol(optarg);
			break;
		case 'd':
			dur = atol(optarg);
			break;
		default:
			goto usage;
		}
	}
	if (argc - optind != 2 || n <= 0 || interval_ms <= 0 || dur <= 0)
		goto usage;
	memset(&peer, 0, sizeof(peer));
	peer.sin_family = AF_INET;
	peer.sin_port = htons((uint16_t)atoi(argv[optind + 1]));
	if (inet_pton(AF_INET, argv[optind], &peer.sin_addr) != 1)
		goto usage;
	if (hosthdr == NULL) {
		static char h[64];

		snprintf(h, sizeof(h), "%s:%s", argv[optind], argv[optind + 1]);
		hosthdr = h;
	}
	signal(SIGPIPE, SIG_IGN);
	rl.rlim_cur = rl.rlim_max = (rlim_t)n + 64;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)n + 64) {
		rl.rlim_cur = (rlim_t)n + 64;
		if (rl.rlim_max < rl.rlim_cur)
			rl.rlim_max = rl.rlim_cur;
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
			perror("hostile: setrlimit");
			return 1;
		}
	}
	if ((ep = epoll_create1(EPOLL_CLOEXEC)) < 0 ||
	    (conns = calloc((size_t)n, sizeof(*conns))) == NULL) {
		perror("hostile");
		return 1;
	}
	now = now_ms();
	end = now + dur * 1000;
	for (long i = 0; i < n; i++) {
		conns[i].fd = -1;
		hc_open(&conns[i], now);
	}
	while ((now = now_ms()) < end) {
		int k = epoll_wait(ep, evs, 256, 10);

		now = now_ms();
		for (int j = 0; j < k; j++)
			if (((struct hconn *)evs[j].data.ptr)->fd >= 0)
				hc_event(evs[j].data.ptr, evs[j].events, now);
		for (long i = 0; i < n; i++) {
			struct hconn *c = &conns[i];

			if (c->next_ms > now)
				continue;
			if (c->fd < 0) {
				if (reconnect)
					hc_open(c, now);
				else
					c->next_ms = end + 1;
			} else if (!c->connected)
				hc_close(c, false, now);
			else
				hc_send(c, now);
		}
	}
	printf("opened=%llu\nconnect_failed=%llu\nclosed=%llu\n"
	    "answered_503=%llu\nanswered_other=%llu\nopen_max=%ld\n"
	    "open_end=%ld\nlife_max_ms=%lld\nlife_min_ms=%lld\n",
	    (unsigned long long)opened, (unsigned long long)connect_failed,
	    (unsigned long long)closed, (unsigned long long)ans503,
	    (unsigned long long)ansother, open_max, nopen,
	    (long long)life_max, (long long)life_min);
	for (long i = 0; i < n; i++)
		if (conns[i].fd >= 0)
			close(conns[i].fd);
	free(conns);
	close(ep);
	return 0;
usage:
	fprintf(stderr, "usage: hostile [-r] [-b] [-H HOST] -n N -i MS "
	    "-d SECONDS ADDR PORT\n");
	return 2;
}
