/*
 * api_conn.c - the API's connections; see api_conn.h.
 *
 * libevent 2.1's evhttp has no limit on connections, no deadline for a
 * request (its timeout is an idle timeout: a client sending a byte now and
 * then is never closed), and an accept that fails with EMFILE leaves the
 * listening socket readable, so evconnlistener calls accept() again at
 * once: the loop spins and libevent logs a line each time.  With 1,100
 * clients holding half-requests, that took every descriptor of a daemon
 * at `ulimit -n 1024`: probes and DNS failed, and a healthy stack was
 * failed over.  Here is what evhttp lacks, from its public interface:
 *
 * Counting.  evhttp accepts through an evconnlistener on our listening
 * socket and asks us for each new connection's bufferevent
 * (evhttp_set_bevcb), which is where a connection is counted and given
 * the API's priority.  When the count reaches the cap, evhttp's listener
 * is disabled (inside its own callback, so it accepts nothing more) and
 * our own event on the same socket takes over: it accepts, writes a 503
 * in JSON and closes, at most API_REFUSE_PER_S a second (beyond that the
 * kernel's backlog holds them, so refusing cannot eat a core either).
 *
 * Knowing when a connection ends.  evhttp_connection_set_closecb() needs
 * the evhttp_connection, which evhttp gives out only with a request.  It
 * is also the callback argument evhttp sets on the bufferevent, so it is
 * read back with bufferevent_getcb() on the next turn of the loop (until
 * then we hold a reference, so the bufferevent stays valid whatever evhttp
 * does), checked against evhttp_connection_get_bufferevent(), and given
 * our close callback.  XXX this relies on evhttp passing the connection as
 * the bufferevent's callback argument, which every libevent from 2.0 to
 * 2.2 does; a libevent that did not would fail that check and its
 * connections would be counted until they closed by the deadline's
 * shutdown(), never uncounted (the API would fill and refuse, nothing
 * else).
 *
 * Deadline.  Each connection has a timer: a request must arrive whole
 * within API_DEADLINE_S of the connection's opening or of the previous
 * answer on it; else the connection is closed (evhttp_connection_free()).
 * Handling a request stops it, the answer starts it again; a slow reader
 * of an answer gets the same time to read it.  A stream (an answer sent
 * in chunks as long as the client stays, api_conns_stream()) has no
 * deadline: its bufferevent's read timeout is off and its write timeout
 * closes a client that stops reading; its end is passed on to the
 * stream's owner from the close callback.
 *
 * Pausing.  accept() failing for want of a descriptor or of memory
 * (EMFILE, ENFILE, ENOBUFS, ENOMEM) pauses accepting for API_PAUSE_MS,
 * then tries again; one line when it starts (api_accept_paused), one when
 * an accept succeeds again (api_accept_resumed), whatever happened in
 * between.  Clients wait in the kernel's backlog meanwhile.
 *
 * evhttp's own answers.  For a request it cannot parse or that is too
 * large, evhttp answers by itself with an HTML page (evhttp_send_error),
 * and libevent 2.1 has no hook for it.  The output buffer of each
 * connection is watched (an evbuffer callback): an answer of 400 or more
 * that evhttp wrote while no handler of ours ran is replaced, once it is
 * whole in the buffer and before it is written out, by the same status
 * with a JSON body like every other error of the API.
 *
 * Everything here runs at DAEMON_PRIO_API, except evhttp's listener (an
 * evconnlistener gives no way to set its event's priority; it runs at the
 * core priority, at most the cap's worth of accepts at a time).
 */
#include "controller/face/api_conn.h"

#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/listener.h>

#include "controller/base/guard.h"
#include "controller/base/log.h"

#define API_PAUSE_MS		250	/* before accepting again */
#define API_REFUSE_BATCH	32	/* refused per wake-up */
#define API_REFUSE_PER_S	2000	/* refused per second at most */

struct conn {
	struct api_conns		*ac;
	struct bufferevent		*bev;
	struct evhttp_connection	*evcon;	/* NULL until adopted */
	struct event			*deadline;
	struct evbuffer_cb_entry	*out_cb;
	TAILQ_ENTRY(conn)		 link;	/* pending or conns */
	struct evhttp_request		*stream; /* api_conns_stream() */
	api_conns_closed_fn		*closed;
	void				*closed_arg;
	bool				 pending; /* holds a bev reference */
	bool				 ours;	/* a handler is answering */
	bool				 rewriting;
};
TAILQ_HEAD(connq, conn);

struct api_conns {
	struct event_base	*base;
	struct evhttp		*http;
	struct evconnlistener	*lev;		/* evhttp's; closes fd */
	int			 fd;
	struct event		*refuse_ev;	/* at the cap */
	struct event		*resume_ev;	/* end of a pause */
	struct event		*adopt_ev;	/* connections to adopt */
	struct event		*tick_ev;	/* every second */
	struct connq		 pending, conns;
	int			 nconn, max;
	struct timeval		 deadline;
	bool			 closing;
	bool			 paused;	/* not accepting now */
	bool			 episode;	/* paused since the last good
						   accept: logged once */
	bool			 throttled;	/* refused enough this second */
	int			 pause_errno;
	int64_t			 pause_start_ms;
	uint64_t		 pause_retries;
	unsigned		 refused_this_s;
	struct api_conns_stats	 st;
	struct api_conns	*next;		/* all_conns */
};

/*
 * evconnlistener calls its error callback with the argument evhttp gave
 * it (the struct evhttp), so the error callback finds us by that.
 */
static struct api_conns	*all_conns;

static void	 listen_update(struct api_conns *);
static void	 conn_free(struct conn *);

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const char *
errname(int e)
{
	const char *n = strerrorname_np(e);

	return n != NULL ? n : "unknown";
}

static const char *
sockaddr_str(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN] = "-";
	unsigned port = 0;

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const void *)ss;

		inet_ntop(AF_INET, &s4->sin_addr, host, sizeof(host));
		port = ntohs(s4->sin_port);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)ss;

		inet_ntop(AF_INET6, &s6->sin6_addr, host, sizeof(host));
		port = ntohs(s6->sin6_port);
	}
	snprintf(buf, len, "%s:%u", host, port);
	return buf;
}

static const char *
conn_peer(const struct conn *c, char *buf, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	int fd = c->bev != NULL ? bufferevent_getfd(c->bev) : -1;

	memset(&ss, 0, sizeof(ss));
	if (fd < 0 || getpeername(fd, (struct sockaddr *)&ss, &sl) != 0)
		ss.ss_family = AF_UNSPEC;
	return sockaddr_str(&ss, buf, len);
}

/* ---- pausing ---- */

static void
accept_good(struct api_conns *ac)
{
	if (!ac->episode)
		return;
	ac->episode = false;
	log_info("api_accept_resumed", "error=%s paused_ms=%lld retries=%llu",
	    errname(ac->pause_errno), (long long)(mono_ms() -
	    ac->pause_start_ms), (unsigned long long)ac->pause_retries);
}

static void
accept_pause(struct api_conns *ac, int err)
{
	struct timeval tv = { 0, API_PAUSE_MS * 1000 };

	if (!ac->episode) {
		ac->episode = true;
		ac->pause_errno = err;
		ac->pause_start_ms = mono_ms();
		ac->pause_retries = 0;
		ac->st.pauses++;
		log_warn("api_accept_paused", "error=%s detail=%s",
		    errname(err), log_q("accept failed: trying again every"
		    " 250 ms, new API clients wait meanwhile"));
	} else
		ac->pause_retries++;
	ac->paused = true;
	listen_update(ac);
	evtimer_add(ac->resume_ev, &tv);
}

/* An accept() that failed with err, not one to retry at once. */
static void
accept_failed(struct api_conns *ac, int err)
{
	static struct log_rl rl = LOG_RL_INIT("api_accept_error");

	switch (err) {
	/* accept(2): the connection's own network trouble; it is gone. */
	case ENETDOWN: case EPROTO: case ENOPROTOOPT: case EHOSTDOWN:
	case ENONET: case EHOSTUNREACH: case EOPNOTSUPP: case ENETUNREACH:
	case EPERM:
		if (log_rl_allow(&rl))
			log_info("api_accept_error", "error=%s", errname(err));
		return;
	default:	/* no descriptor, no memory, or unknown: pause */
		accept_pause(ac, err);
	}
}

static void
resume_cb(evutil_socket_t fd, short what, void *arg)
{
	struct api_conns *ac = arg;

	ac->paused = false;
	listen_update(ac);
}

/* evconnlistener's error callback: an accept() of evhttp's failed. */
static void
listener_error_cb(struct evconnlistener *lev, void *arg)
{
	int err = errno;

	for (struct api_conns *ac = all_conns; ac != NULL; ac = ac->next)
		if (ac->lev == lev) {
			accept_failed(ac, err);
			return;
		}
	evconnlistener_disable(lev);	/* not ours: never spin */
}

/* ---- the listener: evhttp's below the cap, ours at it ---- */

static void
listen_update(struct api_conns *ac)
{
	if (ac->closing)
		return;
	if (ac->paused) {
		evconnlistener_disable(ac->lev);
		event_del(ac->refuse_ev);
	} else if (ac->nconn < ac->max) {
		event_del(ac->refuse_ev);
		evconnlistener_enable(ac->lev);
	} else {
		evconnlistener_disable(ac->lev);
		if (ac->throttled)
			event_del(ac->refuse_ev);
		else
			event_add(ac->refuse_ev, NULL);
	}
}

/* At the cap: accept, answer 503, close. */
static void
refuse_cb(evutil_socket_t lfd, short what, void *arg)
{
	static struct log_rl rl = LOG_RL_INIT("api_connection_refused");
	struct api_conns *ac = arg;
	struct sockaddr_storage ss;
	char body[160], msg[512], drain[4096], peer[80];
	socklen_t sl;
	int fd, n, m;

	for (int i = 0; i < API_REFUSE_BATCH; i++) {
		if (ac->refused_this_s >= API_REFUSE_PER_S) {
			ac->throttled = true;
			listen_update(ac);
			return;
		}
		sl = sizeof(ss);
		fd = accept4(lfd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK |
		    SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR && errno != ECONNABORTED)
				accept_failed(ac, errno);
			return;
		}
		accept_good(ac);
		/* What was sent already: closing on it unread would reset
		   the connection before the client reads our answer. */
		(void)recv(fd, drain, sizeof(drain), MSG_DONTWAIT);
		n = snprintf(body, sizeof(body), "{\"error\":\"too many "
		    "connections: the API holds %d at once\",\"status\":503}\n",
		    ac->max);
		m = snprintf(msg, sizeof(msg), "HTTP/1.1 503 Service "
		    "Unavailable\r\nContent-Type: application/json\r\n"
		    "Cache-Control: no-store\r\nRetry-After: 1\r\n"
		    "Connection: close\r\nContent-Length: %d\r\n\r\n%s", n, body);
		(void)send(fd, msg, (size_t)m, MSG_DONTWAIT | MSG_NOSIGNAL);
		close(fd);
		ac->st.refused++;
		ac->refused_this_s++;
		if (log_rl_allow(&rl))
			log_info("api_connection_refused", "peer=%s "
			    "connections=%d max=%d detail=%s",
			    sockaddr_str(&ss, peer, sizeof(peer)), ac->nconn,
			    ac->max, log_q("answered 503: at api_max_connections"));
	}
}

static void
tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct api_conns *ac = arg;

	ac->refused_this_s = 0;
	if (ac->throttled) {
		ac->throttled = false;
		listen_update(ac);
	}
	log_rl_flush(false);
}

/* ---- connections ---- */

/* evhttp's own error answer, made JSON; see the top of the file. */
static void
out_cb(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{
	static struct log_rl rl = LOG_RL_INIT("api_malformed");
	struct conn *c = arg;
	const char *p, *e, *cl, *why;
	char minor, peer[80];
	size_t len, hdr, clen = 0;
	int code, n;
	char body[200];

	if (c->ours || c->rewriting || info->n_added == 0)
		return;
	len = evbuffer_get_length(buf);
	if (len < 16 || len > 65536 ||
	    (p = (const char *)evbuffer_pullup(buf, -1)) == NULL)
		return;
	if (strncmp(p, "HTTP/1.", 7) != 0 || p[8] != ' ')
		return;
	code = atoi(p + 9);
	if (code < 400 || code > 599)
		return;
	if ((e = memmem(p, len, "\r\n\r\n", 4)) == NULL)
		return;			/* the headers are not all there */
	hdr = (size_t)(e - p) + 4;
	if ((cl = memmem(p, hdr, "\r\nContent-Length: ", 18)) != NULL)
		clen = strtoul(cl + 18, NULL, 10);
	if (len != hdr + clen)
		return;			/* nor the body */
	minor = p[7];
	switch (code) {
	case 400:
		why = "malformed request";
		break;
	case 413:
		why = "request too large: headers at most 8 KiB, body at most "
		    "16 KiB";
		break;
	case 417:
		why = "Expect is not supported";
		break;
	case 501:
		why = "method not implemented";
		break;
	default:
		why = "request refused";
		break;
	}
	n = snprintf(body, sizeof(body), "{\"error\":\"%s\",\"status\":%d}\n",
	    why, code);
	c->rewriting = true;
	evbuffer_drain(buf, len);
	evbuffer_add_printf(buf, "HTTP/1.%c %d %s\r\nContent-Type: "
	    "application/json\r\nCache-Control: no-store\r\nConnection: close"
	    "\r\nContent-Length: %d\r\n\r\n%s", minor, code,
	    code == 400 ? "Bad Request" : code == 413 ? "Payload Too Large" :
	    code == 417 ? "Expectation Failed" : code == 501 ?
	    "Not Implemented" : "Error", n, body);
	c->rewriting = false;
	if (log_rl_allow(&rl))
		log_info("api_refused", "http_status=%d peer=%s detail=%s", code,
		    conn_peer(c, peer, sizeof(peer)), log_q(why));
}

static void
deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	static struct log_rl rl = LOG_RL_INIT("api_deadline");
	struct conn *c = arg;
	struct api_conns *ac = c->ac;
	char peer[80];
	int sfd;

	ac->st.deadline++;
	if (log_rl_allow(&rl))
		log_info("api_deadline", "peer=%s seconds=%ld detail=%s",
		    conn_peer(c, peer, sizeof(peer)), (long)ac->deadline.tv_sec,
		    log_q("no whole request in time: closed"));
	if (c->evcon != NULL) {
		evhttp_connection_free(c->evcon);	/* close_cb frees c */
		return;
	}
	/* Not adopted yet: evhttp sees the end of the stream and lets go. */
	if ((sfd = bufferevent_getfd(c->bev)) >= 0)
		shutdown(sfd, SHUT_RDWR);
}

static void
conn_free(struct conn *c)
{
	struct api_conns *ac = c->ac;

	TAILQ_REMOVE(c->pending ? &ac->pending : &ac->conns, c, link);
	if (c->out_cb != NULL)
		evbuffer_remove_cb_entry(bufferevent_get_output(c->bev),
		    c->out_cb);
	if (c->deadline != NULL)
		event_free(c->deadline);
	if (c->pending)
		bufferevent_decref(c->bev);
	free(c);
	ac->nconn--;
	listen_update(ac);
}

/* evhttp closes the connection (or evhttp_free() does). */
static void
close_cb(struct evhttp_connection *evcon, void *arg)
{
	struct conn *c = arg;
	api_conns_closed_fn *fn = c->closed;

	c->closed = NULL;
	if (fn != NULL)
		fn(c->stream, c->closed_arg);
	conn_free(c);
}

/* Adopt one pending connection; false (and c freed) if evhttp let go. */
static bool
adopt_one(struct conn *c)
{
	struct api_conns *ac = c->ac;
	bufferevent_event_cb ecb = NULL;
	void *cbarg = NULL;

	bufferevent_getcb(c->bev, NULL, NULL, &ecb, &cbarg);
	if (ecb == NULL || cbarg == NULL ||
	    evhttp_connection_get_bufferevent(cbarg) != c->bev) {
		/* evhttp let it go already */
		conn_free(c);
		return false;
	}
	TAILQ_REMOVE(&ac->pending, c, link);
	TAILQ_INSERT_TAIL(&ac->conns, c, link);
	c->pending = false;
	c->evcon = cbarg;
	evhttp_connection_set_closecb(c->evcon, close_cb, c);
	bufferevent_decref(c->bev);
	return true;
}

/* The connections made since the last turn: see the top of the file. */
static void
adopt_cb(evutil_socket_t fd, short what, void *arg)
{
	struct api_conns *ac = arg;
	struct conn *c, *next;

	for (c = TAILQ_FIRST(&ac->pending); c != NULL; c = next) {
		next = TAILQ_NEXT(c, link);
		adopt_one(c);
	}
}

/* evhttp_set_bevcb: evhttp accepted a connection and wants its bev. */
static struct bufferevent *
bev_cb(struct event_base *base, void *arg)
{
	static struct log_rl rl = LOG_RL_INIT("api_untracked");
	struct api_conns *ac = arg;
	struct conn *c;

	accept_good(ac);
	if ((c = calloc(1, sizeof(*c))) == NULL)
		goto fail;
	c->ac = ac;
	if ((c->bev = bufferevent_socket_new(base, -1,
	    BEV_OPT_CLOSE_ON_FREE)) == NULL ||
	    bufferevent_priority_set(c->bev, DAEMON_PRIO_API) != 0 ||
	    (c->deadline = evtimer_new(base, deadline_cb, c)) == NULL ||
	    event_priority_set(c->deadline, DAEMON_PRIO_API) != 0 ||
	    (c->out_cb = evbuffer_add_cb(bufferevent_get_output(c->bev),
	    out_cb, c)) == NULL)
		goto fail;
	bufferevent_incref(c->bev);
	c->pending = true;
	TAILQ_INSERT_TAIL(&ac->pending, c, link);
	ac->nconn++;
	ac->st.accepted++;
	evtimer_add(c->deadline, &ac->deadline);
	event_active(ac->adopt_ev, EV_TIMEOUT, 1);
	listen_update(ac);
	return c->bev;
fail:
	if (c != NULL) {
		if (c->deadline != NULL)
			event_free(c->deadline);
		if (c->bev != NULL)
			bufferevent_free(c->bev);
		free(c);
	}
	if (log_rl_allow(&rl))
		log_error("api_untracked", "detail=%s", log_q("out of memory:"
		    " a connection is served without a deadline"));
	return NULL;
}

static struct conn *
conn_of(struct api_conns *ac, struct evhttp_request *req)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	struct bufferevent *bev;
	struct conn *c;

	if (ac == NULL || evcon == NULL ||
	    (bev = evhttp_connection_get_bufferevent(evcon)) == NULL)
		return NULL;
	TAILQ_FOREACH(c, &ac->conns, link)
		if (c->bev == bev)
			return c;
	TAILQ_FOREACH(c, &ac->pending, link)
		if (c->bev == bev)
			return c;
	return NULL;
}

void
api_conns_request_begin(struct api_conns *ac, struct evhttp_request *req)
{
	struct conn *c = conn_of(ac, req);

	if (c == NULL)
		return;
	evtimer_del(c->deadline);
	c->ours = true;
}

void
api_conns_request_end(struct api_conns *ac, struct evhttp_request *req)
{
	struct conn *c = conn_of(ac, req);

	if (c == NULL)
		return;
	if (c->stream != NULL)
		return;		/* a stream is answered until it ends */
	c->ours = false;
	evtimer_add(c->deadline, &ac->deadline);
}

bool
api_conns_stream(struct api_conns *ac, struct evhttp_request *req,
    int write_s, api_conns_closed_fn *closed, void *arg)
{
	struct conn *c = conn_of(ac, req);
	struct timeval wtv = { write_s, 0 };

	if (c == NULL)
		return false;
	/* A stream learns of its end through the close callback. */
	if (c->pending && !adopt_one(c))
		return false;
	evtimer_del(c->deadline);
	c->ours = true;
	c->stream = req;
	c->closed = closed;
	c->closed_arg = arg;
	/*
	 * evhttp gave the connection its idle timeout for both directions;
	 * a stream's client sends nothing, so only writing is timed.
	 */
	bufferevent_set_timeouts(c->bev, NULL, &wtv);
	return true;
}

void
api_conns_stream_forget(struct api_conns *ac, struct evhttp_request *req)
{
	struct conn *c;

	if (ac == NULL)
		return;
	TAILQ_FOREACH(c, &ac->conns, link)
		if (c->stream == req) {
			c->closed = NULL;
			c->closed_arg = NULL;
		}
}

bool
api_conns_local(struct evhttp_request *req, struct sockaddr_storage *ss)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	struct bufferevent *bev;
	socklen_t sl = sizeof(*ss);
	int fd;

	if (evcon == NULL ||
	    (bev = evhttp_connection_get_bufferevent(evcon)) == NULL ||
	    (fd = bufferevent_getfd(bev)) < 0)
		return false;
	return getsockname(fd, (struct sockaddr *)ss, &sl) == 0;
}

/* ---- lifetime ---- */

static int
api_event(struct event **ev, struct event_base *base, int fd, short what,
    event_callback_fn cb, void *arg)
{
	if ((*ev = event_new(base, fd, what, cb, arg)) == NULL)
		return -1;
	return event_priority_set(*ev, DAEMON_PRIO_API);
}

struct api_conns *
api_conns_new(struct event_base *base, struct evhttp *http, int fd, int max,
    int deadline_s, char *err, size_t errlen)
{
	struct api_conns *ac;
	struct timeval sec = { 1, 0 };

	if ((ac = calloc(1, sizeof(*ac))) == NULL) {
		close(fd);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	ac->base = base;
	ac->http = http;
	ac->fd = fd;
	ac->max = max > 0 ? max : 1;
	ac->deadline.tv_sec = deadline_s;
	TAILQ_INIT(&ac->pending);
	TAILQ_INIT(&ac->conns);
	ac->lev = evconnlistener_new(base, NULL, NULL, LEV_OPT_CLOSE_ON_FREE |
	    LEV_OPT_CLOSE_ON_EXEC | LEV_OPT_DISABLED, 0, fd);
	if (ac->lev == NULL) {
		close(fd);
		snprintf(err, errlen, "evconnlistener_new failed");
		goto fail;
	}
	if (evhttp_bind_listener(http, ac->lev) == NULL) {
		evconnlistener_free(ac->lev);
		ac->lev = NULL;
		snprintf(err, errlen, "evhttp_bind_listener failed");
		goto fail;
	}
	/* From here on evhttp frees the listener, and it closes fd. */
	evconnlistener_set_error_cb(ac->lev, listener_error_cb);
	evhttp_set_bevcb(http, bev_cb, ac);
	if (api_event(&ac->refuse_ev, base, fd, EV_READ | EV_PERSIST,
	    refuse_cb, ac) != 0 ||
	    api_event(&ac->resume_ev, base, -1, 0, resume_cb, ac) != 0 ||
	    api_event(&ac->adopt_ev, base, -1, 0, adopt_cb, ac) != 0 ||
	    api_event(&ac->tick_ev, base, -1, EV_PERSIST, tick_cb, ac) != 0) {
		snprintf(err, errlen, "libevent failed");
		goto fail;
	}
	evtimer_add(ac->tick_ev, &sec);
	ac->next = all_conns;
	all_conns = ac;
	listen_update(ac);
	return ac;
fail:
	api_conns_close(ac);
	api_conns_free(ac);
	return NULL;
}

void
api_conns_set_max(struct api_conns *ac, int max)
{
	if (ac == NULL)
		return;
	ac->max = max > 0 ? max : 1;
	listen_update(ac);
}

void
api_conns_stats(const struct api_conns *ac, struct api_conns_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (ac == NULL)
		return;
	*st = ac->st;
	st->open = ac->nconn;
	st->max = ac->max;
	st->paused = ac->episode;
}

void
api_conns_close(struct api_conns *ac)
{
	struct api_conns **pp;

	if (ac == NULL || ac->closing)
		return;
	ac->closing = true;
	for (pp = &all_conns; *pp != NULL; pp = &(*pp)->next)
		if (*pp == ac) {
			*pp = ac->next;
			break;
		}
	if (ac->lev != NULL)
		evconnlistener_disable(ac->lev);
	if (ac->refuse_ev != NULL)
		event_free(ac->refuse_ev);
	if (ac->resume_ev != NULL)
		event_free(ac->resume_ev);
	if (ac->adopt_ev != NULL)
		event_free(ac->adopt_ev);
	if (ac->tick_ev != NULL)
		event_free(ac->tick_ev);
	ac->refuse_ev = ac->resume_ev = ac->adopt_ev = ac->tick_ev = NULL;
}

void
api_conns_free(struct api_conns *ac)
{
	struct conn *c;

	if (ac == NULL)
		return;
	api_conns_close(ac);
	/* These hold a reference: their bev is still ours to drop. */
	while ((c = TAILQ_FIRST(&ac->pending)) != NULL)
		conn_free(c);
	/* evhttp_free() closed the adopted ones; any left (none should be)
	   lost its bev with its connection. */
	while ((c = TAILQ_FIRST(&ac->conns)) != NULL) {
		TAILQ_REMOVE(&ac->conns, c, link);
		event_free(c->deadline);
		free(c);
	}
	free(ac);
}
