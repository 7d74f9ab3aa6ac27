/*
 * notifyrecv.c - a stand-in for systemd's notification socket.
 *
 *   notifyrecv PATH [SECONDS]
 *
 * Binds a unix datagram socket at PATH, prints "ready=1", then one line
 * per datagram received ("msg=..." with newlines shown as '|'), until
 * SIGTERM or SECONDS (default 60) have passed.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stop;

static void
on_term(int sig)
{
	stop = 1;
}

int
main(int argc, char **argv)
{
	struct sockaddr_un sun;
	struct pollfd pfd;
	time_t end;
	char buf[4096];
	int fd;

	if (argc < 2) {
		fprintf(stderr, "usage: notifyrecv PATH [SECONDS]\n");
		return 2;
	}
	end = time(NULL) + (argc > 2 ? atoi(argv[2]) : 60);
	signal(SIGTERM, on_term);
	fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", argv[1]);
	unlink(argv[1]);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		perror("notifyrecv: bind");
		return 1;
	}
	printf("ready=1\n");
	fflush(stdout);
	pfd.fd = fd;
	pfd.events = POLLIN;
	while (!stop && time(NULL) < end) {
		ssize_t n;

		if (poll(&pfd, 1, 200) <= 0)
			continue;
		n = recv(fd, buf, sizeof(buf) - 1, 0);
		if (n <= 0)
			continue;
		buf[n] = '\0';
		for (ssize_t i = 0; i < n; i++)
			if (buf[i] == '\n')
				buf[i] = '|';
		printf("msg=%s\n", buf);
		fflush(stdout);
	}
	close(fd);
	unlink(argv[1]);
	return 0;
}
