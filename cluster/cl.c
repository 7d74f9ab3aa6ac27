/*
 * cl.c - the etcd client: libcurl multi_socket on a libevent loop, and
 * the unary requests (lease grant, keep-alive, revoke, range, put,
 * delete, txn) with their endpoint failover.
 *
 * The shape is curl's docs/examples/hiperfifo.c, as in probes/probe.c:
 *
 *   struct cl_client   event base, one CURLM *, libcurl's timer event,
 *                      the endpoints and which one is sticky
 *   struct cl_xfer     one CURL * easy handle on one endpoint
 *                      (CURLOPT_PRIVATE points back)
 *   struct cl_sock     a socket libcurl asked us to watch, with its event
 *
 * and the five callbacks sock_cb, timer_cb, event_cb, timeout_cb and
 * check_multi_info.  libcurl is never called from inside timer_cb: it only
 * arms the libevent timer, and timeout_cb calls curl_multi_socket_action().
 * Nobody outside is called from inside a libcurl callback either: write
 * callbacks only buffer, and answers are handed out after
 * curl_multi_socket_action() returns, so a callback may remove any handle.
 *
 * Volume.  A failoverd member sends a few requests per second at most
 * (a keep-alive every ttl/3, writes on state changes), so a request gets
 * its own easy handle, allocated when it starts; connections are reused
 * through the multi's cache, so the sticky endpoint keeps one open.
 *
 * A request is tried at the sticky endpoint, then at the next ones in
 * turn, each at most once (cl.h).  Failures are collected in the
 * request's detail, "URL: what; URL: what", for the one reply.
 */
#include "cluster/cl.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>
#include <curl/curl.h>

#include "cluster/cl_int.h"

#ifndef FAILOVERD_VERSION
#define FAILOVERD_VERSION "unknown"
#endif

#define CL_RESP_MAX	(64u << 20)	/* largest answer read */
#define CL_DETAIL_MAX	1024
#define CL_LINGER_MS	50		/* keep-alive: wait for the end */

struct cl_sock {
	struct cl_client	*c;
	curl_socket_t		 fd;
	struct event		*ev;
	short			 kind;		/* EV_* added, or 0 */
};

struct cl_req {
	struct cl_client	*c;
	struct cl_req		*prev, *next;	/* c->reqs */
	struct cl_xfer		 x;
	enum cl_msg_kind	 kind;
	char			*body;
	cl_reply_cb		*cb;
	void			*arg;
	size_t			 first;		/* endpoint of the first try */
	int			 tries;
	bool			 indeterminate;
	bool			 delivering;
	char			 detail[CL_DETAIL_MAX];
	/* The answer of the attempt in flight. */
	char			*resp;
	size_t			 rlen, rcap;
	bool			 toolong;
	bool			 have_line;	/* KEEPALIVE: a whole message */
	struct event		*linger_ev;
};

static int	 sock_cb(CURL *, curl_socket_t, int, void *, void *);
static int	 timer_cb(CURLM *, long, void *);
static void	 event_cb(evutil_socket_t, short, void *);
static void	 timeout_cb(evutil_socket_t, short, void *);
static void	 check_multi_info(struct cl_client *);
static size_t	 write_cb(char *, size_t, size_t, void *);
static int64_t	 clock_boottime(void *);
static int	 req_submit(struct cl_client *, enum cl_msg_kind, char *,
		    cl_reply_cb *, void *, struct cl_req **);
static int	 req_attempt(struct cl_req *);
static bool	 req_data(struct cl_xfer *, const char *, size_t);
static void	 req_done(struct cl_xfer *, CURLcode);
static void	 req_linger_cb(evutil_socket_t, short, void *);
static void	 req_fail_attempt(struct cl_req *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static void	 req_finish(struct cl_req *, int, const char *,
		    struct cl_resp *);
static void	 req_free(struct cl_req *);

/* --- the client ------------------------------------------------------ */

void
cl_opts_init(struct cl_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->timeout_ms = 1000;
	o->watch_idle_ms = 10000;
}

static int64_t
clock_boottime(void *arg)
{
	struct timespec	 ts;

	(void)arg;
	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* An http(s) URL with a host; a trailing "/" is dropped. */
static int
endpoint_copy(const char *url, char **out, char *detail, size_t dlen)
{
	CURLU	*u;
	char	*scheme = NULL, *host = NULL, *path = NULL;
	size_t	 n;
	int	 rc = CL_E_INVALID;

	*out = NULL;
	if ((u = curl_url()) == NULL)
		return CL_E_NOMEM;
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0) ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    (curl_url_get(u, CURLUPART_PATH, &path, 0) == CURLUE_OK &&
	    strcmp(path, "/") != 0 && path[0] != '\0')) {
		snprintf(detail, dlen, "%s: not an http(s)://HOST:PORT URL",
		    url);
		goto out;
	}
	rc = CL_E_NOMEM;
	if ((*out = strdup(url)) == NULL)
		goto out;
	n = strlen(*out);
	while (n > 0 && (*out)[n - 1] == '/')
		(*out)[--n] = '\0';
	rc = 0;
out:
	curl_free(path);
	curl_free(host);
	curl_free(scheme);
	curl_url_cleanup(u);
	return rc;
}

struct cl_client *
cl_client_new(struct event_base *base, const struct cl_opts *o, int *err,
    char *detail, size_t dlen)
{
	struct cl_client	*c = NULL;
	char			 dummy[8];
	size_t			 i;
	int			 rc = CL_E_NOMEM;

	if (detail == NULL || dlen == 0) {
		detail = dummy;
		dlen = sizeof(dummy);
	}
	detail[0] = '\0';
	if (base == NULL || o == NULL || o->nendpoints == 0 ||
	    o->nendpoints > CL_MAX_ENDPOINTS || o->endpoints == NULL ||
	    o->timeout_ms <= 0 || o->watch_idle_ms <= 0) {
		snprintf(detail, dlen, "need 1 to %d endpoints and positive "
		    "timeouts", CL_MAX_ENDPOINTS);
		rc = CL_E_INVALID;
		goto fail;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL)
		goto fail;
	c->base = base;
	c->timeout_ms = o->timeout_ms;
	c->idle_ms = o->watch_idle_ms;
	c->clock = clock_boottime;
	for (i = 0; i < o->nendpoints; i++) {
		if (o->endpoints[i] == NULL) {
			rc = CL_E_INVALID;
			goto fail;
		}
		if ((rc = endpoint_copy(o->endpoints[i], &c->eps[i], detail,
		    dlen)) != 0)
			goto fail;
		c->neps++;
	}
	rc = CL_E_NOMEM;
	if ((c->hdrs = curl_slist_append(NULL,
	    "Content-Type: application/json")) == NULL ||
	    curl_slist_append(c->hdrs, "Expect:") == NULL ||
	    /* Refuse at once, and end watches, when cut off from the leader. */
	    curl_slist_append(c->hdrs, "Grpc-Metadata-hasleader: true") ==
	    NULL ||
	    curl_slist_append(c->hdrs, "User-Agent: failoverd/"
	    FAILOVERD_VERSION) == NULL)
		goto fail;
	rc = CL_E_EVENT;
	if ((c->timer_ev = evtimer_new(base, timeout_cb, c)) == NULL)
		goto fail;
	rc = CL_E_CURL;
	if ((c->multi = curl_multi_init()) == NULL ||
	    curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, sock_cb) ||
	    curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c) ||
	    curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, timer_cb) ||
	    curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c))
		goto fail;
	return c;
fail:
	if (err != NULL)
		*err = rc;
	if (detail[0] == '\0')
		snprintf(detail, dlen, "%s", cl_strerror(rc));
	cl_client_free(c);
	return NULL;
}

void
cl_client_free(struct cl_client *c)
{
	size_t	 i;

	if (c == NULL)
		return;
	c->freeing = true;
	while (c->reqs != NULL)
		req_free(c->reqs);
	cl_watch_free_all(c);
	/* Closes cached connections; sock_cb frees their contexts. */
	if (c->multi != NULL)
		curl_multi_cleanup(c->multi);
	if (c->timer_ev != NULL)
		event_free(c->timer_ev);
	curl_slist_free_all(c->hdrs);
	for (i = 0; i < c->neps; i++)
		free(c->eps[i]);
	free(c);
}

void
cl_client_set_clock(struct cl_client *c, cl_clock_fn *fn, void *arg)
{
	c->clock = fn != NULL ? fn : clock_boottime;
	c->clock_arg = arg;
}

int64_t
cl_client_now(const struct cl_client *c)
{
	return c->clock(c->clock_arg);
}

struct event_base *
cl_client_base(const struct cl_client *c)
{
	return c->base;
}

const char *
cl_client_endpoint(const struct cl_client *c)
{
	return c->eps[c->cur];
}

void
cl_endpoint_ok(struct cl_client *c, size_t ep)
{
	c->cur = ep;
}

void
cl_endpoint_failed(struct cl_client *c, size_t ep)
{
	if (c->cur == ep)
		c->cur = (ep + 1) % c->neps;
	cl_watches_endpoint_failed(c, ep);
}

/* --- transfers ------------------------------------------------------- */

int
cl_xfer_init(struct cl_xfer *x, struct cl_client *c, void *owner,
    cl_xfer_data_fn *data, cl_xfer_done_fn *done)
{
	CURL	*h;

	memset(x, 0, sizeof(*x));
	x->c = c;
	x->owner = owner;
	x->data = data;
	x->done = done;
	if ((x->easy = h = curl_easy_init()) == NULL)
		return CL_E_NOMEM;
	if (curl_easy_setopt(h, CURLOPT_PRIVATE, x) ||
	    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, x->errbuf) ||
	    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, write_cb) ||
	    curl_easy_setopt(h, CURLOPT_WRITEDATA, x) ||
	    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L) ||
	    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https") ||
	    curl_easy_setopt(h, CURLOPT_PROXY, "") ||
	    curl_easy_setopt(h, CURLOPT_NOPROXY, "*") ||
	    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L) ||
	    curl_easy_setopt(h, CURLOPT_HTTPHEADER, c->hdrs) ||
	    curl_easy_setopt(h, CURLOPT_HTTP_VERSION,
	    (long)CURL_HTTP_VERSION_1_1)) {
		curl_easy_cleanup(h);
		x->easy = NULL;
		return CL_E_CURL;
	}
	return 0;
}

int
cl_xfer_start(struct cl_xfer *x, size_t ep, const char *path,
    const char *body, int64_t timeout_ms)
{
	struct cl_client	*c = x->c;
	char			 url[512];
	long			 cto = c->timeout_ms > 0x7fffffffL ?
				    0x7fffffffL : (long)c->timeout_ms;
	long			 to = timeout_ms > 0x7fffffffL ? 0x7fffffffL :
				    (long)timeout_ms;

	cl_xfer_stop(x);
	if ((size_t)snprintf(url, sizeof(url), "%s%s", c->eps[ep], path) >=
	    sizeof(url))
		return CL_E_INVALID;
	x->ep = ep;
	x->stopped = false;
	x->errbuf[0] = '\0';
	if (curl_easy_setopt(x->easy, CURLOPT_URL, url) ||
	    curl_easy_setopt(x->easy, CURLOPT_POSTFIELDS, body) ||
	    curl_easy_setopt(x->easy, CURLOPT_POSTFIELDSIZE, (long)strlen(body)) ||
	    curl_easy_setopt(x->easy, CURLOPT_TIMEOUT_MS, to) ||
	    curl_easy_setopt(x->easy, CURLOPT_CONNECTTIMEOUT_MS, cto))
		return CL_E_CURL;
	x->started_us = cl_client_now(c);
	if (curl_multi_add_handle(c->multi, x->easy) != CURLM_OK)
		return CL_E_CURL;
	x->running = true;
	return 0;
}

void
cl_xfer_stop(struct cl_xfer *x)
{
	if (!x->running)
		return;
	x->running = false;
	curl_multi_remove_handle(x->c->multi, x->easy);
}

void
cl_xfer_deinit(struct cl_xfer *x)
{
	cl_xfer_stop(x);
	if (x->easy != NULL)
		curl_easy_cleanup(x->easy);
	x->easy = NULL;
}

long
cl_xfer_status(struct cl_xfer *x)
{
	long	 status = 0;

	curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
	return status;
}

bool
cl_xfer_sent(struct cl_xfer *x)
{
	long	 n = 0;

	curl_easy_getinfo(x->easy, CURLINFO_REQUEST_SIZE, &n);
	return n > 0;
}

/* CURLOPT_WRITEFUNCTION: hand the bytes to the transfer's owner. */
static size_t
write_cb(char *data, size_t size, size_t nmemb, void *arg)
{
	struct cl_xfer	*x = arg;
	size_t		 len = size * nmemb;

	if (!x->running || x->stopped)
		return 0;
	if (!x->data(x, data, len)) {
		x->stopped = true;
		return 0;
	}
	return len;
}

/* --- libcurl <-> libevent -------------------------------------------- */

/* CURLMOPT_SOCKETFUNCTION */
static int
sock_cb(CURL *easy, curl_socket_t fd, int what, void *cbp, void *sockp)
{
	struct cl_client	*c = cbp;
	struct cl_sock		*s = sockp;
	short			 kind;

	(void)easy;
	if (what == CURL_POLL_REMOVE) {
		if (s != NULL) {
			event_free(s->ev);
			free(s);
		}
		return 0;
	}
	if (s == NULL) {
		if ((s = calloc(1, sizeof(*s))) == NULL)
			return -1;
		s->c = c;
		s->fd = fd;
		if ((s->ev = event_new(c->base, fd, 0, event_cb, s)) == NULL) {
			free(s);
			return -1;
		}
		curl_multi_assign(c->multi, fd, s);
	}
	kind = ((what & CURL_POLL_IN) ? EV_READ : 0) |
	    ((what & CURL_POLL_OUT) ? EV_WRITE : 0) | EV_PERSIST;
	if (kind == s->kind)
		return 0;
	if (s->kind != 0)
		event_del(s->ev);
	s->kind = 0;
	if (event_assign(s->ev, c->base, fd, kind, event_cb, s) != 0 ||
	    event_add(s->ev, NULL) != 0)
		return -1;
	s->kind = kind;
	return 0;
}

/* CURLMOPT_TIMERFUNCTION: only arms our timer, never calls libcurl. */
static int
timer_cb(CURLM *multi, long timeout_ms, void *arg)
{
	struct cl_client	*c = arg;
	struct timeval		 tv;

	(void)multi;
	if (timeout_ms < 0) {
		evtimer_del(c->timer_ev);
		return 0;
	}
	tv.tv_sec = timeout_ms / 1000;
	tv.tv_usec = (timeout_ms % 1000) * 1000;
	return evtimer_add(c->timer_ev, &tv) == 0 ? 0 : -1;
}

/* A watched socket is ready. */
static void
event_cb(evutil_socket_t fd, short kind, void *arg)
{
	struct cl_sock		*s = arg;
	struct cl_client	*c = s->c;	/* s may be freed below */
	int			 action;

	action = ((kind & EV_READ) ? CURL_CSELECT_IN : 0) |
	    ((kind & EV_WRITE) ? CURL_CSELECT_OUT : 0);
	curl_multi_socket_action(c->multi, fd, action, &c->running);
	cl_watch_drain_pending(c);
	check_multi_info(c);
}

/* libcurl's timeout expired. */
static void
timeout_cb(evutil_socket_t fd, short kind, void *arg)
{
	struct cl_client	*c = arg;

	(void)fd;
	(void)kind;
	curl_multi_socket_action(c->multi, CURL_SOCKET_TIMEOUT, 0,
	    &c->running);
	cl_watch_drain_pending(c);
	check_multi_info(c);
}

/* End every transfer libcurl reports done, each exactly once. */
static void
check_multi_info(struct cl_client *c)
{
	CURLMsg		*msg;
	struct cl_xfer	*x;
	CURLcode	 res;
	CURL		*easy;
	char		*priv;
	int		 left;

	while ((msg = curl_multi_info_read(c->multi, &left)) != NULL) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		easy = msg->easy_handle;
		res = msg->data.result;
		priv = NULL;
		curl_easy_getinfo(easy, CURLINFO_PRIVATE, &priv);
		x = (struct cl_xfer *)priv;
		if (x == NULL || !x->running || x->easy != easy) {
			curl_multi_remove_handle(c->multi, easy);
			continue;
		}
		if (x->stopped)
			res = CURLE_OK;
		cl_xfer_stop(x);
		x->done(x, res);	/* may free x */
	}
}

/* --- requests -------------------------------------------------------- */

static void
req_free(struct cl_req *q)
{
	struct cl_client	*c;

	if (q == NULL)
		return;
	c = q->c;
	if (q->prev != NULL)
		q->prev->next = q->next;
	else if (c->reqs == q)
		c->reqs = q->next;
	if (q->next != NULL)
		q->next->prev = q->prev;
	cl_xfer_deinit(&q->x);
	if (q->linger_ev != NULL)
		event_free(q->linger_ev);
	free(q->resp);
	free(q->body);
	free(q);
}

void
cl_cancel(struct cl_req *q)
{
	if (q == NULL || q->delivering)
		return;
	req_free(q);
}

/* Take body (malloc'd) and start; on error body is freed, no callback. */
static int
req_submit(struct cl_client *c, enum cl_msg_kind kind, char *body,
    cl_reply_cb *cb, void *arg, struct cl_req **out)
{
	struct cl_req	*q;
	int		 rc;

	if (out != NULL)
		*out = NULL;
	if ((q = calloc(1, sizeof(*q))) == NULL) {
		free(body);
		return CL_E_NOMEM;
	}
	q->c = c;
	q->kind = kind;
	q->body = body;
	q->cb = cb;
	q->arg = arg;
	q->first = c->cur;
	if ((rc = cl_xfer_init(&q->x, c, q, req_data, req_done)) != 0) {
		req_free(q);
		return rc;
	}
	if (kind == CL_MSG_KEEPALIVE &&
	    (q->linger_ev = evtimer_new(c->base, req_linger_cb, q)) == NULL) {
		req_free(q);
		return CL_E_EVENT;
	}
	q->next = c->reqs;
	if (c->reqs != NULL)
		c->reqs->prev = q;
	c->reqs = q;
	if ((rc = req_attempt(q)) != 0) {
		req_free(q);
		return rc;
	}
	if (out != NULL)
		*out = q;
	return 0;
}

static int
req_attempt(struct cl_req *q)
{
	struct cl_client	*c = q->c;
	size_t			 ep = (q->first + (size_t)q->tries) % c->neps;

	q->tries++;
	q->rlen = 0;
	q->toolong = false;
	q->have_line = false;
	return cl_xfer_start(&q->x, ep, cl_msg_path(q->kind), q->body,
	    c->timeout_ms);
}

/* From inside libcurl: buffer only. */
static bool
req_data(struct cl_xfer *x, const char *data, size_t len)
{
	struct cl_req	*q = x->owner;
	size_t		 cap;
	char		*nb;

	if (q->have_line)
		return true;	/* the rest of a keep-alive stream */
	if (q->rlen + len > CL_RESP_MAX) {
		q->toolong = true;
		return false;
	}
	if (q->rlen + len + 1 > q->rcap) {
		cap = q->rcap > 0 ? q->rcap : 4096;
		while (cap < q->rlen + len + 1)
			cap *= 2;
		if ((nb = realloc(q->resp, cap)) == NULL) {
			q->toolong = true;
			return false;
		}
		q->resp = nb;
		q->rcap = cap;
	}
	memcpy(q->resp + q->rlen, data, len);
	q->rlen += len;
	q->resp[q->rlen] = '\0';
	/*
	 * A keep-alive is a stream whose first message is the answer.  The
	 * gateway ends the stream after it; if it does not, stop it shortly
	 * (outside libcurl).
	 */
	if (q->kind == CL_MSG_KEEPALIVE && memchr(data, '\n', len) != NULL) {
		struct timeval tv = { 0, CL_LINGER_MS * 1000 };

		q->have_line = true;
		q->rlen = (size_t)((char *)memchr(q->resp, '\n', q->rlen) -
		    q->resp);
		q->resp[q->rlen] = '\0';
		if (q->linger_ev != NULL)
			evtimer_add(q->linger_ev, &tv);
	}
	return true;
}

/* A keep-alive answer is in and the stream stayed open: end it. */
static void
req_linger_cb(evutil_socket_t fd, short kind, void *arg)
{
	struct cl_req	*q = arg;

	(void)fd;
	(void)kind;
	if (!q->x.running || !q->have_line)
		return;
	cl_xfer_stop(&q->x);
	req_done(&q->x, CURLE_OK);
}

static void
req_fail_attempt(struct cl_req *q, const char *fmt, ...)
{
	struct cl_client	*c = q->c;
	size_t			 n = strlen(q->detail);
	va_list			 ap;

	if (n + 3 < sizeof(q->detail)) {
		n += (size_t)snprintf(q->detail + n, sizeof(q->detail) - n,
		    "%s%s: ", n > 0 ? "; " : "", c->eps[q->x.ep]);
		if (n < sizeof(q->detail)) {
			va_start(ap, fmt);
			vsnprintf(q->detail + n, sizeof(q->detail) - n, fmt, ap);
			va_end(ap);
		}
	}
	cl_endpoint_failed(c, q->x.ep);
	if ((size_t)q->tries < c->neps) {
		int rc = req_attempt(q);

		if (rc == 0)
			return;
		req_finish(q, rc, cl_strerror(rc), NULL);
		return;
	}
	req_finish(q, CL_E_UNAVAILABLE, q->detail, NULL);
}

/* An attempt ended: judge it, try the next endpoint, or reply. */
static void
req_done(struct cl_xfer *x, CURLcode res)
{
	struct cl_req	*q = x->owner;
	struct cl_resp	 r;
	char		 d[512];
	long		 status;
	int		 rc;

	if (q->linger_ev != NULL)
		evtimer_del(q->linger_ev);
	if (q->toolong) {
		req_finish(q, CL_E_PROTOCOL, "answer too large or out of memory",
		    NULL);
		return;
	}
	/* A keep-alive's answer is in even if the stream then broke. */
	if (res != CURLE_OK && !q->have_line) {
		if (cl_xfer_sent(x))
			q->indeterminate = true;
		req_fail_attempt(q, "%s", x->errbuf[0] != '\0' ? x->errbuf :
		    curl_easy_strerror(res));
		return;
	}
	status = cl_xfer_status(x);
	d[0] = '\0';
	if (status != 200) {
		rc = cl_msg_parse_error(q->resp, q->rlen, (int)status, d,
		    sizeof(d));
		if (rc == CL_E_UNAVAILABLE) {
			q->indeterminate = true;
			req_fail_attempt(q, "HTTP %ld: %s", status, d);
			return;
		}
		cl_endpoint_ok(q->c, x->ep);
		req_finish(q, rc, d, NULL);
		return;
	}
	if (q->rlen == 0) {
		q->indeterminate = true;
		req_fail_attempt(q, "empty answer");
		return;
	}
	rc = cl_msg_parse(q->kind, q->resp != NULL ? q->resp : "", q->rlen, &r,
	    d, sizeof(d));
	if (rc == CL_E_UNAVAILABLE) {
		/* A stream's error object: no leader. */
		req_fail_attempt(q, "%s", d);
		return;
	}
	cl_endpoint_ok(q->c, x->ep);
	req_finish(q, rc, d, rc == 0 ? &r : NULL);
}

/* The one reply; frees q.  r (if any) is freed here too. */
static void
req_finish(struct cl_req *q, int error, const char *detail,
    struct cl_resp *r)
{
	struct cl_reply	 rep;

	memset(&rep, 0, sizeof(rep));
	rep.error = error;
	rep.detail = error != 0 && detail != NULL ? detail : "";
	rep.endpoint = q->c->eps[q->x.ep];
	rep.sent_us = q->x.started_us;
	rep.attempts = q->tries;
	rep.indeterminate = q->indeterminate;
	if (r != NULL)
		rep.r = *r;
	q->delivering = true;
	if (q->cb != NULL)
		q->cb(&rep, q->arg);
	cl_resp_free(&rep.r);
	req_free(q);
}

/* --- operations ------------------------------------------------------ */

int
cl_grant(struct cl_client *c, int64_t ttl_s, cl_reply_cb *cb, void *arg,
    struct cl_req **out)
{
	char	*body;
	int	 rc;

	if (out != NULL)
		*out = NULL;
	if ((rc = cl_msg_grant(ttl_s, 0, &body)) != 0)
		return rc;
	return req_submit(c, CL_MSG_GRANT, body, cb, arg, out);
}

int
cl_keepalive(struct cl_client *c, int64_t lease, cl_reply_cb *cb, void *arg,
    struct cl_req **out)
{
	char	*body;
	int	 rc;

	if (out != NULL)
		*out = NULL;
	if ((rc = cl_msg_lease(lease, &body)) != 0)
		return rc;
	return req_submit(c, CL_MSG_KEEPALIVE, body, cb, arg, out);
}

int
cl_revoke(struct cl_client *c, int64_t lease, cl_reply_cb *cb, void *arg,
    struct cl_req **out)
{
	char	*body;
	int	 rc;

	if (out != NULL)
		*out = NULL;
	if ((rc = cl_msg_lease(lease, &body)) != 0)
		return rc;
	return req_submit(c, CL_MSG_REVOKE, body, cb, arg, out);
}

static int
op_submit(struct cl_client *c, const struct cl_op *op, enum cl_op_kind want,
    enum cl_msg_kind kind, cl_reply_cb *cb, void *arg, struct cl_req **out)
{
	char	*body;
	int	 rc;

	if (out != NULL)
		*out = NULL;
	if (op == NULL || op->kind != want)
		return CL_E_INVALID;
	if ((rc = cl_msg_op(op, &body)) != 0)
		return rc;
	return req_submit(c, kind, body, cb, arg, out);
}

int
cl_range(struct cl_client *c, const struct cl_op *op, cl_reply_cb *cb,
    void *arg, struct cl_req **out)
{
	return op_submit(c, op, CL_OP_RANGE, CL_MSG_RANGE, cb, arg, out);
}

int
cl_put(struct cl_client *c, const struct cl_op *op, cl_reply_cb *cb,
    void *arg, struct cl_req **out)
{
	return op_submit(c, op, CL_OP_PUT, CL_MSG_PUT, cb, arg, out);
}

int
cl_delete(struct cl_client *c, const struct cl_op *op, cl_reply_cb *cb,
    void *arg, struct cl_req **out)
{
	return op_submit(c, op, CL_OP_DELETE, CL_MSG_DELETE, cb, arg, out);
}

int
cl_txn(struct cl_client *c, const struct cl_txn *t, cl_reply_cb *cb,
    void *arg, struct cl_req **out)
{
	char	*body;
	int	 rc;

	if (out != NULL)
		*out = NULL;
	if ((rc = cl_msg_txn(t, &body)) != 0)
		return rc;
	return req_submit(c, CL_MSG_TXN, body, cb, arg, out);
}

int
cl_txn_else_get(struct cl_client *c, const struct cl_cmp *cmp,
    const struct cl_op *op, cl_reply_cb *cb, void *arg, struct cl_req **out)
{
	struct cl_op	 get = { 0 };
	struct cl_txn	 t = { 0 };

	get.kind = CL_OP_RANGE;
	get.key = cmp->key;
	t.cmp = cmp;
	t.ncmp = 1;
	t.success = op;
	t.nsuccess = 1;
	t.failure = &get;
	t.nfailure = 1;
	return cl_txn(c, &t, cb, arg, out);
}
