/*
 * httpfault.c - a test web head that misbehaves on purpose, one port per
 * way of misbehaving, for the probe fault tests.
 *
 *   httpfault [-T seconds] [-d slow_delay_ms]
 *
 * Listens on 127.0.0.1, each mode on its own port chosen by the kernel,
 * prints one "MODE=PORT" line per mode, then "ready=1", and serves until
 * SIGTERM/SIGINT or -T seconds (default 120) have passed:
 *
 *   ok200     200, body "OK alive\n", keep-alive
 *   s503      503, body "maintenance\n"
 *   refuse    a port below 32768 that was bound, then closed (nothing
 *             listens there; below the ephemeral range, so a client can
 *             not connect to itself)
 *   hang      accepts, reads, never answers
 *   slow      answers 200 one byte every slow_delay_ms (default 200)
 *   closemid  headers promise 100 bytes of body, 10 are sent, then close
 *   garbage   bytes that are not HTTP, then close
 *   huge      200 with an 8 MiB body that never holds the probe's text;
 *             counts the bytes it managed to send (see hugesent below)
 *   split     200, chunked, "...ALIVE-TOKEN..." cut across chunks sent
 *             20 ms apart
 *   echo      200, body "host=HOST\nua=USER-AGENT\n" from the request
 *   redir     302 to /elsewhere
 *   closeafter  200 as ok200 (no "Connection: close"), then closes the
 *             connection: a kept-alive connection that died while idle
 *   dropreuse 200 keep-alive for a connection's first request; its second
 *             request is read and the connection closed without a byte
 *             of answer (a busy server reclaiming an idle connection just
 *             as the request arrives)
 *   resetreuse  as dropreuse, but the second request gets a reset (RST)
 *   dropall   every connection is closed, unanswered, on its first
 *             request (a web head that accepts and drops everything)
 *   resetnew  every other connection is reset (RST), unanswered, on its
 *             first request; the others get 200 and "Connection: close"
 *             (a busy nginx closing connections it has just accepted)
 *
 * On SIGUSR1 it prints "hugesent=N" (bytes of huge bodies written to the
 * kernel so far), "requests=N" and "accepts=N" (connections).
 */
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

enum mode {
	M_OK200, M_S503, M_HANG, M_SLOW, M_CLOSEMID, M_GARBAGE, M_HUGE,
	M_SPLIT, M_ECHO, M_REDIR, M_CLOSEAFTER, M_DROPREUSE, M_RESETREUSE,
	M_DROPALL, M_RESETNEW, M_COUNT
};

static const char *const mode_names[M_COUNT] = {
	"ok200", "s503", "hang", "slow", "closemid", "garbage", "huge",
	"split", "echo", "redir", "closeafter", "dropreuse", "resetreuse",
	"dropall", "resetnew",
};

#define HUGE_BYTES	(8 * 1024 * 1024)

struct conn {
	struct bufferevent	*bev;
	enum mode		 mode;
	struct event		*tmr;
	const char		*pending;	/* slow/split: what is left */
	size_t			 npending;
	size_t			 huge_left;
	bool			 closing;
	int			 step;
	int			 nreq;		/* requests on this connection */
	struct conn		*prev, *next;	/* all open connections */
};

static struct event_base *base;
static long	 slow_ms = 200;
static unsigned long long hugesent, requests, accepts;
static struct conn *conns;

static void	 conn_free(struct conn *);
static void	 read_cb(struct bufferevent *, void *);
static void	 write_cb(struct bufferevent *, void *);
static void	 ev_cb(struct bufferevent *, short, void *);
static void	 tmr_cb(evutil_socket_t, short, void *);

static void
conn_free(struct conn *c)
{
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	if (c->tmr != NULL)
		event_free(c->tmr);
	bufferevent_free(c->bev);
	free(c);
}

static void
close_after_write(struct conn *c)
{
	c->closing = true;
	bufferevent_disable(c->bev, EV_READ);
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
		conn_free(c);
}

/* The close that ends this connection will be a reset (RST), not a FIN. */
static void
reset_on_close(struct conn *c)
{
	struct linger	 lg = { 1, 0 };

	setsockopt(bufferevent_getfd(c->bev), SOL_SOCKET, SO_LINGER, &lg,
	    sizeof(lg));
}

static void
respond(struct conn *c, int status, const char *reason, const char *body,
    bool close)
{
	evbuffer_add_printf(bufferevent_get_output(c->bev),
	    "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\n"
	    "Content-Length: %zu\r\n%s\r\n%s", status, reason, strlen(body),
	    close ? "Connection: close\r\n" : "", body);
	if (close)
		close_after_write(c);
}

static void
arm(struct conn *c, long ms)
{
	struct timeval	 tv = { ms / 1000, (ms % 1000) * 1000 };

	if (c->tmr == NULL)
		c->tmr = evtimer_new(base, tmr_cb, c);
	if (c->tmr != NULL)
		evtimer_add(c->tmr, &tv);
}

/* Copy header NAME's value (case-insensitive) from the request. */
static void
header_value(const char *req, const char *name, char *out, size_t outlen)
{
	const char	*p = req, *eol;
	size_t		 n = strlen(name), len;

	snprintf(out, outlen, "-");
	while ((p = strstr(p, "\r\n")) != NULL) {
		p += 2;
		if (strncasecmp(p, name, n) == 0 && p[n] == ':') {
			p += n + 1;
			while (*p == ' ')
				p++;
			eol = strstr(p, "\r\n");
			len = eol != NULL ? (size_t)(eol - p) : strlen(p);
			if (len >= outlen)
				len = outlen - 1;
			memcpy(out, p, len);
			out[len] = '\0';
			return;
		}
	}
}

static void
serve(struct conn *c, const char *req)
{
	static const char slowresp[] =
	    "HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nOK alive\n";
	static const char split[] =
	    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "5\r\nhello\r\n4\r\nALIV\r\n9\r\nE-TOKEN, \r\n3\r\nbye\r\n0\r\n\r\n";
	static const char garbage[] =
	    "SSH-2.0-OpenSSH_9.2p1\r\n\x00\x01\x02\xff\xfe not http at all\r\n";
	char		 host[256], ua[256], body[600];
	bool		 close = strstr(req, "HTTP/1.0") != NULL ||
	    strcasestr(req, "\r\nConnection: close") != NULL;
	struct evbuffer	*out = bufferevent_get_output(c->bev);

	requests++;
	c->nreq++;
	switch (c->mode) {
	case M_OK200:
		respond(c, 200, "OK", "OK alive\n", close);
		break;
	case M_S503:
		respond(c, 503, "Service Unavailable", "maintenance\n", close);
		break;
	case M_HANG:
		break;
	case M_SLOW:
		c->pending = slowresp;
		c->npending = sizeof(slowresp) - 1;
		arm(c, slow_ms);
		break;
	case M_CLOSEMID:
		evbuffer_add_printf(out, "HTTP/1.1 200 OK\r\n"
		    "Content-Length: 100\r\n\r\n0123456789");
		close_after_write(c);
		break;
	case M_GARBAGE:
		evbuffer_add(out, garbage, sizeof(garbage) - 1);
		close_after_write(c);
		break;
	case M_HUGE:
		evbuffer_add_printf(out, "HTTP/1.1 200 OK\r\n"
		    "Content-Length: %d\r\n\r\n", HUGE_BYTES);
		c->huge_left = HUGE_BYTES;
		bufferevent_setwatermark(c->bev, EV_WRITE, 64 * 1024, 0);
		write_cb(c->bev, c);
		break;
	case M_SPLIT:
		/* Headers and first chunk, then a piece every 20 ms. */
		c->pending = split;
		c->npending = sizeof(split) - 1;
		arm(c, 0);
		break;
	case M_ECHO:
		header_value(req, "Host", host, sizeof(host));
		header_value(req, "User-Agent", ua, sizeof(ua));
		snprintf(body, sizeof(body), "host=%s\nua=%s\n", host, ua);
		respond(c, 200, "OK", body, close);
		break;
	case M_REDIR:
		evbuffer_add_printf(out, "HTTP/1.1 302 Found\r\n"
		    "Location: /elsewhere\r\nContent-Length: 0\r\n\r\n");
		break;
	case M_CLOSEAFTER:
		respond(c, 200, "OK", "OK alive\n", false);
		close_after_write(c);
		break;
	case M_DROPREUSE:
	case M_RESETREUSE:
		if (c->nreq == 1) {
			respond(c, 200, "OK", "OK alive\n", close);
			break;
		}
		if (c->mode == M_RESETREUSE)
			reset_on_close(c);
		c->closing = true;
		break;
	case M_DROPALL:
		c->closing = true;
		break;
	case M_RESETNEW:
		if (c->step == 1) {
			respond(c, 200, "OK", "OK alive\n", true);
			break;
		}
		reset_on_close(c);
		c->closing = true;
		break;
	case M_COUNT:
		break;
	}
}

static void
tmr_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn	*c = arg;
	struct evbuffer	*out = bufferevent_get_output(c->bev);
	size_t		 n;

	(void)fd;
	(void)what;
	if (c->mode == M_SLOW) {
		if (c->npending == 0)
			return;
		evbuffer_add(out, c->pending, 1);
		c->pending++;
		c->npending--;
		if (c->npending > 0)
			arm(c, slow_ms);
		return;
	}
	/* split: cut just after each "\r\n" that ends a chunk's data. */
	if (c->npending == 0)
		return;
	n = c->step == 0 ? 52 : 7;
	if (n > c->npending)
		n = c->npending;
	evbuffer_add(out, c->pending, n);
	c->pending += n;
	c->npending -= n;
	c->step++;
	if (c->npending > 0)
		arm(c, 20);
}

static void
read_cb(struct bufferevent *bev, void *arg)
{
	struct conn	*c = arg;
	struct evbuffer	*in = bufferevent_get_input(bev);
	struct evbuffer_ptr end;
	char		 req[4096];
	size_t		 n;

	for (;;) {
		end = evbuffer_search(in, "\r\n\r\n", 4, NULL);
		if (end.pos < 0) {
			if (evbuffer_get_length(in) > sizeof(req))
				conn_free(c);	/* no such requests here */
			return;
		}
		n = (size_t)end.pos + 4;
		if (n >= sizeof(req)) {
			conn_free(c);
			return;
		}
		evbuffer_remove(in, req, n);
		req[n] = '\0';
		serve(c, req);
		if (c->closing && evbuffer_get_length(
		    bufferevent_get_output(c->bev)) == 0) {
			conn_free(c);	/* dropped unanswered */
			return;
		}
		if (c->closing || c->mode == M_HANG || c->mode == M_SLOW ||
		    c->mode == M_HUGE || c->mode == M_SPLIT)
			return;
	}
}

static void
write_cb(struct bufferevent *bev, void *arg)
{
	static char	 chunk[64 * 1024];
	struct conn	*c = arg;
	size_t		 n;

	if (c->mode == M_HUGE && c->huge_left > 0) {
		if (chunk[0] == '\0')
			memset(chunk, 'x', sizeof(chunk));
		n = c->huge_left < sizeof(chunk) ? c->huge_left : sizeof(chunk);
		bufferevent_write(bev, chunk, n);
		c->huge_left -= n;
		hugesent += n;
		return;
	}
	if (c->closing &&
	    evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		conn_free(c);
}

static void
ev_cb(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
		conn_free(arg);
}

static void
accept_cb(struct evconnlistener *l, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct conn	*c;

	(void)l;
	(void)sa;
	(void)salen;
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		close(fd);
		return;
	}
	accepts++;
	c->mode = (enum mode)(intptr_t)arg;
	if (c->mode == M_RESETNEW) {
		static unsigned	 nnew;

		c->step = (int)(nnew++ % 2);	/* 0: reset, 1: answer */
	}
	c->bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (c->bev == NULL) {
		close(fd);
		free(c);
		return;
	}
	c->next = conns;
	if (conns != NULL)
		conns->prev = c;
	conns = c;
	bufferevent_setcb(c->bev, read_cb, write_cb, ev_cb, c);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
}

static int
listen_port(struct evconnlistener *l)
{
	struct sockaddr_in	 sin;
	socklen_t		 len = sizeof(sin);

	if (getsockname(evconnlistener_get_fd(l), (struct sockaddr *)&sin,
	    &len) != 0)
		return -1;
	return ntohs(sin.sin_port);
}

/* A closed port below the ephemeral range: bind one, then close it. */
static int
closed_port(void)
{
	struct sockaddr_in	 sin;
	int			 fd, port, tries;

	srandom((unsigned)getpid());
	for (tries = 0; tries < 200; tries++) {
		port = 20000 + (int)(random() % 12000);
		if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0)
			return -1;
		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		sin.sin_port = htons((uint16_t)port);
		sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0) {
			close(fd);
			return port;
		}
		close(fd);
	}
	return -1;
}

static void
stop_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	event_base_loopexit(base, NULL);
}

static void
usr1_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	printf("hugesent=%llu\nrequests=%llu\naccepts=%llu\n", hugesent,
	    requests, accepts);
	fflush(stdout);
}

int
main(int argc, char **argv)
{
	struct evconnlistener	*ls[M_COUNT] = { NULL };
	struct event		*sigs[4] = { NULL };
	struct sockaddr_in	 sin;
	struct timeval		 life = { 120, 0 };
	int			 ch, i, rc = 1;

	while ((ch = getopt(argc, argv, "T:d:")) != -1) {
		switch (ch) {
		case 'T':
			life.tv_sec = atol(optarg);
			break;
		case 'd':
			slow_ms = atol(optarg);
			break;
		default:
			fprintf(stderr, "usage: httpfault [-T s] [-d ms]\n");
			return 2;
		}
	}
	signal(SIGPIPE, SIG_IGN);
	if ((base = event_base_new()) == NULL)
		return 1;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (i = 0; i < M_COUNT; i++) {
		ls[i] = evconnlistener_new_bind(base, accept_cb,
		    (void *)(intptr_t)i, LEV_OPT_CLOSE_ON_FREE |
		    LEV_OPT_REUSEABLE, 128, (struct sockaddr *)&sin,
		    sizeof(sin));
		if (ls[i] == NULL) {
			fprintf(stderr, "httpfault: listen: %s\n",
			    strerror(errno));
			goto out;
		}
		printf("%s=%d\n", mode_names[i], listen_port(ls[i]));
	}
	printf("refuse=%d\n", closed_port());
	printf("ready=1\n");
	fflush(stdout);
	sigs[0] = evsignal_new(base, SIGTERM, stop_cb, NULL);
	sigs[1] = evsignal_new(base, SIGINT, stop_cb, NULL);
	sigs[2] = evsignal_new(base, SIGUSR1, usr1_cb, NULL);
	sigs[3] = evtimer_new(base, stop_cb, NULL);
	for (i = 0; i < 3; i++)
		if (sigs[i] != NULL)
			event_add(sigs[i], NULL);
	if (sigs[3] != NULL)
		event_add(sigs[3], &life);
	event_base_dispatch(base);
	rc = 0;
out:
	for (i = 0; i < 4; i++)
		if (sigs[i] != NULL)
			event_free(sigs[i]);
	for (i = 0; i < M_COUNT; i++)
		if (ls[i] != NULL)
			evconnlistener_free(ls[i]);
	while (conns != NULL)
		conn_free(conns);
	event_base_free(base);
	return rc;
}
