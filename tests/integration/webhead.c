/*
 * webhead.c - a controllable test web head for the end-to-end tests.
 *
 *   webhead [-a ADDR] [-p PORT] [-d DIR] [-T SECONDS] [-C] [-K MS] [-D MS] [-v]
 *
 * Listens on ADDR (default 127.0.0.1):PORT (0: the kernel picks; the port is printed as
 * "port=N" then "ready=1").  Every request is answered 200 "OK\n", unless
 * DIR/maintenance exists (503 "maintenance\n") or DIR/fail exists (500);
 * while DIR/flap exists every other request gets 500 (a flapping head that
 * never fails twice in a row).  DIR/fail.ADDR (e.g. DIR/fail.127.0.0.11)
 * fails (500) only the requests from client address ADDR: one vantage
 * point's path broken while the others see the head up.
 * With -C every answer says "Connection: close" and the connection is
 * closed after it: a web head without keep-alive, so that each check
 * needs a new socket.
 * With -K an idle kept-alive connection is closed after MS milliseconds
 * (a server's keep-alive timeout).  With -D each answer is sent MS
 * milliseconds after its request was read (a slow but healthy head).  With -v each request prints a line
 * "request n=N from=ADDR" (flushed), so a test can count and time the checks.
 * Stops on SIGTERM/SIGINT or after SECONDS (default 300), so that a test
 * that dies never leaves it behind for long.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>

static const char *dir;
static int close_each;
static int verbose;
static struct event_base *base;
static struct timeval delay;
static void answer(struct evhttp_request *);

static int
exists(const char *name)
{
	char path[4096];
	struct stat st;

	if (dir == NULL)
		return 0;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return stat(path, &st) == 0;
}

static void
delayed_cb(evutil_socket_t, short, void *);

static void
req_cb(struct evhttp_request *req, void *arg)
{
	static unsigned long seen;
	struct evhttp_connection *conn = evhttp_request_get_connection(req);
	char *peer = NULL;
	ev_uint16_t pport = 0;

	if (conn != NULL)
		evhttp_connection_get_peer(conn, &peer, &pport);
	if (verbose) {
		printf("request n=%lu from=%s\n", ++seen,
		    peer != NULL ? peer : "-");
		fflush(stdout);
	}

	if (close_each)
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Connection", "close");
	if (delay.tv_sec > 0 || delay.tv_usec > 0)
		event_base_once(base, -1, EV_TIMEOUT, delayed_cb, req, &delay);
	else
		answer(req);
}

static void
delayed_cb(evutil_socket_t fd, short what, void *arg)
{
	answer(arg);
}

static void
answer(struct evhttp_request *req)
{
	static unsigned long n;
	struct evbuffer *b = evbuffer_new();
	struct evhttp_connection *conn = evhttp_request_get_connection(req);
	char *peer = NULL, fail_from[128];
	ev_uint16_t pport = 0;

	if (conn != NULL)
		evhttp_connection_get_peer(conn, &peer, &pport);
	snprintf(fail_from, sizeof(fail_from), "fail.%s",
	    peer != NULL ? peer : "-");
	if (exists("flap") && (n++ % 2) == 0) {
		evbuffer_add_printf(b, "flapping\n");
		evhttp_send_reply(req, 500, "Internal Server Error", b);
	} else if (exists("maintenance")) {
		evbuffer_add_printf(b, "maintenance\n");
		evhttp_send_reply(req, 503, "Service Unavailable", b);
	} else if (exists("fail") || exists(fail_from)) {
		evbuffer_add_printf(b, "failing\n");
		evhttp_send_reply(req, 500, "Internal Server Error", b);
	} else {
		evbuffer_add_printf(b, "OK\n");
		evhttp_send_reply(req, 200, "OK", b);
	}
	evbuffer_free(b);
}

static void
stop_cb(evutil_socket_t fd, short what, void *arg)
{
	event_base_loopexit(arg, NULL);
}

int
main(int argc, char **argv)
{
	struct evhttp *http;
	struct evhttp_bound_socket *bs;
	struct event *sterm, *sint, *tmo;
	struct timeval tv = { 300, 0 };
	struct timeval ka = { 0, 0 };
	const char *addr = "127.0.0.1";
	int port = 0, ch;

	while ((ch = getopt(argc, argv, "a:p:d:T:CK:D:v")) != -1) {
		switch (ch) {
		case 'a':
			addr = optarg;
			break;
		case 'p':
			port = atoi(optarg);
			break;
		case 'd':
			dir = optarg;
			break;
		case 'T':
			tv.tv_sec = atoi(optarg);
			break;
		case 'C':
			close_each = 1;
			break;
		case 'K':
			ka.tv_sec = atoi(optarg) / 1000;
			ka.tv_usec = atoi(optarg) % 1000 * 1000;
			break;
		case 'D':
			delay.tv_sec = atoi(optarg) / 1000;
			delay.tv_usec = atoi(optarg) % 1000 * 1000;
			break;
		case 'v':
			verbose = 1;
			break;
		default:
			fprintf(stderr, "usage: webhead [-a ADDR] [-p PORT] [-d DIR] [-T S] "
			    "[-C] [-K MS] [-D MS] [-v]\n");
			return 2;
		}
	}
	signal(SIGPIPE, SIG_IGN);
	base = event_base_new();
	http = evhttp_new(base);
	evhttp_set_gencb(http, req_cb, NULL);
	if (ka.tv_sec > 0 || ka.tv_usec > 0)
		evhttp_set_timeout_tv(http, &ka);
	bs = evhttp_bind_socket_with_handle(http, addr, (uint16_t)port);
	if (bs == NULL) {
		fprintf(stderr, "webhead: cannot bind %s:%d\n", addr, port);
		return 1;
	}
	if (port == 0) {
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);

		getsockname(evhttp_bound_socket_get_fd(bs),
		    (struct sockaddr *)&ss, &len);
		port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	}
	printf("port=%d\nready=1\n", port);
	fflush(stdout);
	sterm = evsignal_new(base, SIGTERM, stop_cb, base);
	sint = evsignal_new(base, SIGINT, stop_cb, base);
	tmo = evtimer_new(base, stop_cb, base);
	evsignal_add(sterm, NULL);
	evsignal_add(sint, NULL);
	evtimer_add(tmo, &tv);
	event_base_dispatch(base);
	event_free(sterm);
	event_free(sint);
	event_free(tmo);
	evhttp_free(http);
	event_base_free(base);
	return 0;
}
