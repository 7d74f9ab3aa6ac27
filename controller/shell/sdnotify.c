/*
 * sdnotify.c - the sd_notify(3) protocol: one AF_UNIX datagram per call to
 * the socket named by NOTIFY_SOCKET.  A fresh socket per message, as
 * libsystemd does: messages are rare (start, reload, stop, and a watchdog
 * ping every few seconds), and nothing is held open across a fork.
 */
#include "controller/shell/sdnotify.h"

#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int
sdnotify_send(const char *state)
{
	struct sockaddr_un sun;
	const char *path = getenv("NOTIFY_SOCKET");
	socklen_t len;
	size_t plen;
	ssize_t n;
	int fd, e;

	if (path == NULL || *path == '\0')
		return 0;
	plen = strlen(path);
	if ((path[0] != '/' && path[0] != '@') || plen < 2 ||
	    plen > sizeof(sun.sun_path) - (path[0] == '/'))
		return SDNOTIFY_E_ADDR;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, plen);
	len = offsetof(struct sockaddr_un, sun_path) + plen;
	if (path[0] == '@')
		sun.sun_path[0] = '\0';		/* abstract: no NUL counted */
	else
		len++;
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return SDNOTIFY_E_SEND;
	n = sendto(fd, state, strlen(state), MSG_NOSIGNAL | MSG_DONTWAIT,
	    (struct sockaddr *)&sun, len);
	e = errno;
	close(fd);
	if (n == -1) {
		errno = e;
		return SDNOTIFY_E_SEND;
	}
	return 1;
}

int
sdnotify_ready(void)
{
	return sdnotify_send("READY=1");
}

int
sdnotify_reloading(void)
{
	struct timespec ts;
	char buf[64];

	clock_gettime(CLOCK_MONOTONIC, &ts);
	snprintf(buf, sizeof(buf), "RELOADING=1\nMONOTONIC_USEC=%" PRIu64,
	    (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000);
	return sdnotify_send(buf);
}

int
sdnotify_stopping(void)
{
	return sdnotify_send("STOPPING=1");
}

int
sdnotify_watchdog(void)
{
	return sdnotify_send("WATCHDOG=1");
}

int
sdnotify_status(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	memcpy(buf, "STATUS=", 7);
	va_start(ap, fmt);
	n = vsnprintf(buf + 7, sizeof(buf) - 7, fmt, ap);
	va_end(ap);
	if (n < 0)
		buf[7] = '\0';
	for (char *c = buf + 7; *c != '\0'; c++)
		if (*c == '\n')
			*c = ' ';
	return sdnotify_send(buf);
}

uint64_t
sdnotify_watchdog_usec(void)
{
	const char *s, *pid;
	unsigned long long v;
	char *end;

	if ((s = getenv("WATCHDOG_USEC")) == NULL)
		return 0;
	if ((pid = getenv("WATCHDOG_PID")) != NULL) {
		errno = 0;
		v = strtoull(pid, &end, 10);
		if (errno != 0 || end == pid || *end != '\0' ||
		    v != (unsigned long long)getpid())
			return 0;
	}
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0')
		return 0;
	return v;
}

const char *
sdnotify_strerror(int err)
{
	switch (err) {
	case 0:
	case 1:
		return "success";
	case SDNOTIFY_E_ADDR:
		return "NOTIFY_SOCKET is not a unix socket address";
	case SDNOTIFY_E_SEND:
		return "cannot send to NOTIFY_SOCKET";
	}
	return "unknown error";
}
