/*
 * probe_benchsrv.c - many cheap web heads for the probe benchmark: one
 * process, one epoll loop, N listening ports on 127.0.0.1.
 *
 *   probe_benchsrv -n N [-a address] [-p first_port] [-o portsfile]
 *                  [-c] [-T seconds]
 *
 * Binds N ports of address (default 127.0.0.1; any 127.x.y.z works, so
 * that shards on their own addresses never run out of ports) from
 * first_port (default 12000) upward, skipping ports in use, all below
 * 32768 (the kernel's ephemeral range starts there, and both probers open
 * many connections).  Writes one "address:port" per line to portsfile,
 * then prints "ready=N".  Every request (a head ending in an empty line)
 * gets "200 OK" with a 3-byte body; HTTP/1.1 connections are kept alive,
 * HTTP/1.0 (HAProxy's httpchk) are closed after the answer, and with -c
 * every connection is (answered with "Connection: close").
 * SIGUSR1 prints "requests=N accepts=N"; SIGTERM or -T seconds (default
 * 600) stop it.
 */
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define TAG_LISTEN	(1ULL << 32)
#define TAG_SIGNAL	(1ULL << 33)

static const char resp11[] =
    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n"
    "\r\nOK\n";
static const char resp11c[] =
    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n"
    "Connection: close\r\n\r\nOK\n";
static const char resp10[] =
    "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n"
    "Connection: close\r\n\r\nOK\n";

static unsigned long long requests, accepts;
static int close_all;		/* -c */
static struct in_addr bind_addr;

static int
listen_on(int port)
{
	struct sockaddr_in	 sin;
	int			 fd, one = 1;

	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0)) < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr = bind_addr;
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
	    listen(fd, 1024) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void
serve(int fd)
{
	char	 buf[4096];
	ssize_t	 n;
	int	 nreq, i;
	int	 close10;

	for (;;) {
		n = read(fd, buf, sizeof(buf) - 1);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
			close(fd);
			return;
		}
		if (n < 0)
			return;
		buf[n] = '\0';
		/* One request per segment is all the probers send. */
		nreq = 0;
		for (i = 0; i + 3 < n; i++)
			if (memcmp(buf + i, "\r\n\r\n", 4) == 0)
				nreq++;
		if (nreq == 0)
			continue;
		requests += (unsigned)nreq;
		close10 = strstr(buf, "HTTP/1.0") != NULL;
		if (close10 || close_all) {
			if (close10 && write(fd, resp10, sizeof(resp10) - 1) < 0)
				(void)0;
			if (!close10 &&
			    write(fd, resp11c, sizeof(resp11c) - 1) < 0)
				(void)0;
			close(fd);
			return;
		}
		for (i = 0; i < nreq; i++)
			if (write(fd, resp11, sizeof(resp11) - 1) < 0)
				break;
	}
}

int
main(int argc, char **argv)
{
	struct epoll_event	 ev, evs[256];
	struct rlimit		 rl;
	struct signalfd_siginfo	 si;
	sigset_t		 mask;
	FILE			*pf = NULL;
	const char		*portsfile = NULL;
	int			 ch, n = 0, port = 12000, bound = 0, ep, sfd;
	int			 i, nev, fd, one = 1;
	long			 life = 600;
	time_t			 end;

	bind_addr.s_addr = htonl(INADDR_LOOPBACK);
	while ((ch = getopt(argc, argv, "a:cn:p:o:T:")) != -1) {
		switch (ch) {
		case 'a':
			if (inet_pton(AF_INET, optarg, &bind_addr) != 1)
				return 2;
			break;
		case 'c':
			close_all = 1;
			break;
		case 'n':
			n = atoi(optarg);
			break;
		case 'p':
			port = atoi(optarg);
			break;
		case 'o':
			portsfile = optarg;
			break;
		case 'T':
			life = atol(optarg);
			break;
		default:
			fprintf(stderr, "usage: probe_benchsrv -n N [-a addr]"
			    " [-p port] [-o file] [-c] [-T s]\n");
			return 2;
		}
	}
	if (n <= 0)
		return 2;
	signal(SIGPIPE, SIG_IGN);
	rl.rlim_cur = rl.rlim_max = 200000;
	if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
		getrlimit(RLIMIT_NOFILE, &rl);
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if ((ep = epoll_create1(0)) < 0)
		return 1;
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGUSR1);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	if ((sfd = signalfd(-1, &mask, SFD_NONBLOCK)) < 0)
		return 1;
	ev.events = EPOLLIN;
	ev.data.u64 = TAG_SIGNAL;
	epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &ev);
	if (portsfile != NULL && (pf = fopen(portsfile, "w")) == NULL)
		return 1;
	for (; bound < n && port < 32768; port++) {
		if ((fd = listen_on(port)) < 0)
			continue;
		ev.events = EPOLLIN;
		ev.data.u64 = TAG_LISTEN | (uint32_t)fd;
		epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
		if (pf != NULL)
			fprintf(pf, "%s:%d\n", inet_ntoa(bind_addr), port);
		bound++;
	}
	if (pf != NULL)
		fclose(pf);
	if (bound < n) {
		fprintf(stderr, "probe_benchsrv: only %d ports free\n", bound);
		return 1;
	}
	printf("ready=%d\n", bound);
	fflush(stdout);
	end = time(NULL) + life;
	for (;;) {
		nev = epoll_wait(ep, evs, 256, 1000);
		if (time(NULL) > end)
			break;
		for (i = 0; i < nev; i++) {
			uint64_t	 d = evs[i].data.u64;

			if (d & TAG_SIGNAL) {
				if (read(sfd, &si, sizeof(si)) != sizeof(si))
					continue;
				if (si.ssi_signo == SIGUSR1) {
					printf("requests=%llu accepts=%llu\n",
					    requests, accepts);
					fflush(stdout);
					continue;
				}
				return 0;
			}
			if (d & TAG_LISTEN) {
				int	 lfd = (int)(uint32_t)d;

				while ((fd = accept4(lfd, NULL, NULL,
				    SOCK_NONBLOCK)) >= 0) {
					accepts++;
					setsockopt(fd, IPPROTO_TCP, TCP_NODELAY,
					    &one, sizeof(one));
					ev.events = EPOLLIN;
					ev.data.u64 = (uint32_t)fd;
					if (epoll_ctl(ep, EPOLL_CTL_ADD, fd,
					    &ev) != 0)
						close(fd);
				}
				continue;
			}
			serve((int)(uint32_t)d);
		}
	}
	return 0;
}
