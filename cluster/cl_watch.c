/*
 * cl_watch.c - watch streams that survive their endpoint.
 *
 * A watch is in one of four states:
 *
 *   CONNECTING  a /v3/watch POST is out; its "created" answer is due
 *               within timeout_ms (the timer), else the next endpoint
 *   STREAMING   created; the timer is the idle limit, re-armed by every
 *               message
 *   BACKOFF     every endpoint failed in this round; the timer starts
 *               the next round (100 ms, doubling up to 2 s)
 *   DONE        compacted: nothing more comes
 *
 * Resuming.  next_rev is the revision after the last event handed out;
 * each stream is created with start_revision = next_rev, so etcd replays
 * whatever happened while there was no stream.  An event below next_rev
 * is one already handed out and is dropped: at most one stream at a time
 * feeds a watch, so that happens only if etcd resends, and then nothing is
 * delivered twice.  next_rev moves only with events: neither "created"
 * (etcd may still replay older events after it) nor a progress message
 * (etcd 3.4 can answer a progress request before it sent a lagging
 * watcher's events) proves that every earlier event was sent, and
 * skipping one is the one thing a watch must not do.  A consequence:
 * an idle watch restarted after a compaction past next_rev reports
 * CL_E_COMPACTED although it missed nothing; the caller's re-read costs
 * one range.
 *
 * Silence.  A member stopped with SIGSTOP keeps its sockets: the stream
 * stays open and says nothing, and so does a healthy member when nothing
 * changes (etcd's own progress notifications come every 10 minutes by
 * default).  So a watch silent for watch_idle_ms is made again, on the
 * same endpoint: a live member answers "created" at once, a frozen one
 * does not, and the next endpoint is tried.  Any request of the client
 * that finds an endpoint dead also moves the watches streaming from it
 * (cl_watches_endpoint_failed), so a keep-alive every ttl/3 bounds how
 * long a watch sits on a frozen member.
 *
 * Lines arrive inside libcurl's write callback; they are only buffered
 * there (struct cl_lines) and handed out by cl_watch_drain_pending()
 * after curl_multi_socket_action() returned, so the caller's callback may
 * stop this or any watch.
 */
#include "cluster/cl.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <curl/curl.h>

#include "cluster/cl_int.h"
#include "cluster/cl_lines.h"

#define W_LINE_MAX	(64u << 20)
#define W_BACKOFF_MIN_US 100000
#define W_BACKOFF_MAX_US 2000000
#define W_DETAIL_MAX	1024

enum w_state {
	W_CONNECTING = 0,
	W_STREAMING,
	W_BACKOFF,
	W_DONE,
};

struct cl_watch {
	struct cl_client	*c;
	struct cl_watch		*next;		/* c->watches */
	struct cl_watch		*pnext;		/* c->pending */
	bool			 pending;
	struct cl_xfer		 x;
	char			*key;
	bool			 prefix;
	int64_t			 next_rev;	/* 0: from now */
	cl_watch_cb		*cb;
	void			*arg;
	enum w_state		 st;
	struct event		*ev;
	struct cl_lines		 lines;
	char			*body;
	size_t			 first;		/* this round's first endpoint */
	size_t			 tries;		/* endpoints tried this round */
	int64_t			 backoff_us;
	uint64_t		 streams;
	bool			 move;		/* endpoint failed elsewhere */
	bool			 bad_line;	/* too long, or no memory */
	bool			 in_cb;
	bool			 stop_asked;	/* cl_watch_stop() in a callback */
	char			 detail[W_DETAIL_MAX];
};

static int	 w_attempt(struct cl_watch *);
static bool	 w_data(struct cl_xfer *, const char *, size_t);
static void	 w_done(struct cl_xfer *, CURLcode);
static void	 w_timer_cb(evutil_socket_t, short, void *);
static void	 w_arm(struct cl_watch *, int64_t);
static bool	 w_lines(struct cl_watch *, bool);
static bool	 w_line(struct cl_watch *, const char *, size_t);
static void	 w_fail(struct cl_watch *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static bool	 w_report(struct cl_watch *, const struct cl_watch_result *);
static void	 w_free(struct cl_watch *);
static void	 w_pending_remove(struct cl_watch *);

int
cl_watch_start(struct cl_client *c, const struct cl_watch_spec *s,
    cl_watch_cb *cb, void *arg, struct cl_watch **out)
{
	struct cl_watch	*w;
	int		 rc;

	*out = NULL;
	if (s == NULL || s->key == NULL || (s->key[0] == '\0' && !s->prefix) ||
	    s->start_revision < 0 || cb == NULL)
		return CL_E_INVALID;
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return CL_E_NOMEM;
	w->c = c;
	w->cb = cb;
	w->arg = arg;
	w->prefix = s->prefix;
	w->next_rev = s->start_revision;
	w->first = c->cur;
	w->backoff_us = W_BACKOFF_MIN_US;
	cl_lines_init(&w->lines, W_LINE_MAX);
	w->next = c->watches;
	c->watches = w;
	rc = CL_E_NOMEM;
	if ((w->key = strdup(s->key)) == NULL)
		goto fail;
	rc = CL_E_EVENT;
	if ((w->ev = evtimer_new(c->base, w_timer_cb, w)) == NULL)
		goto fail;
	if ((rc = cl_xfer_init(&w->x, c, w, w_data, w_done)) != 0)
		goto fail;
	if ((rc = w_attempt(w)) != 0)
		goto fail;
	*out = w;
	return 0;
fail:
	w_free(w);
	return rc;
}

void
cl_watch_stop(struct cl_watch *w)
{
	if (w == NULL)
		return;
	if (w->in_cb) {
		w->stop_asked = true;
		return;
	}
	w_free(w);
}

int64_t
cl_watch_next_revision(const struct cl_watch *w)
{
	return w->next_rev;
}

uint64_t
cl_watch_streams(const struct cl_watch *w)
{
	return w->streams;
}

static void
w_free(struct cl_watch *w)
{
	struct cl_watch	**pp;

	for (pp = &w->c->watches; *pp != NULL; pp = &(*pp)->next)
		if (*pp == w) {
			*pp = w->next;
			break;
		}
	w_pending_remove(w);
	cl_xfer_deinit(&w->x);
	if (w->ev != NULL)
		event_free(w->ev);
	cl_lines_deinit(&w->lines);
	free(w->body);
	free(w->key);
	free(w);
}

void
cl_watch_free_all(struct cl_client *c)
{
	while (c->watches != NULL)
		w_free(c->watches);
}

static void
w_pending_remove(struct cl_watch *w)
{
	struct cl_watch	**pp;

	if (!w->pending)
		return;
	for (pp = &w->c->pending; *pp != NULL; pp = &(*pp)->pnext)
		if (*pp == w) {
			*pp = w->pnext;
			break;
		}
	w->pending = false;
	w->pnext = NULL;
}

static void
w_arm(struct cl_watch *w, int64_t us)
{
	struct timeval	 tv;

	if (us < 0)
		us = 0;
	tv.tv_sec = us / 1000000;
	tv.tv_usec = us % 1000000;
	evtimer_add(w->ev, &tv);
}

/* Make a stream at the next endpoint of the round. */
static int
w_attempt(struct cl_watch *w)
{
	struct cl_client	*c = w->c;
	size_t			 ep = (w->first + w->tries) % c->neps;
	char			*body;
	int			 rc;

	w->tries++;
	w->st = W_CONNECTING;
	w->move = false;
	w->bad_line = false;
	cl_xfer_stop(&w->x);
	w_pending_remove(w);
	cl_lines_reset(&w->lines);
	if ((rc = cl_msg_watch(w->key, w->prefix, w->next_rev, true,
	    &body)) != 0)
		return rc;
	free(w->body);
	w->body = body;
	if ((rc = cl_xfer_start(&w->x, ep, cl_msg_path(CL_MSG_WATCH), w->body,
	    0)) != 0)
		return rc;
	w_arm(w, c->timeout_ms * 1000);
	return 0;
}

/* From inside libcurl: buffer, and ask to be drained. */
static bool
w_data(struct cl_xfer *x, const char *data, size_t len)
{
	struct cl_watch	*w = x->owner;

	if (cl_lines_feed(&w->lines, data, len) != 0) {
		w->bad_line = true;
		return false;
	}
	if (!w->pending) {
		w->pending = true;
		w->pnext = w->c->pending;
		w->c->pending = w;
	}
	return true;
}

void
cl_watch_drain_pending(struct cl_client *c)
{
	struct cl_watch	*w;

	while ((w = c->pending) != NULL) {
		c->pending = w->pnext;
		w->pnext = NULL;
		w->pending = false;
		(void)w_lines(w, false);	/* w may be gone */
	}
}

/*
 * Hand out every complete line (and, at the stream's end, the rest).
 * false if the watch was freed or its stream failed (nothing more to do
 * with this stream).
 */
static bool
w_lines(struct cl_watch *w, bool at_end)
{
	const char	*line;
	size_t		 n;

	while (cl_lines_next(&w->lines, &line, &n))
		if (!w_line(w, line, n))
			return false;
	if (at_end && cl_lines_rest(&w->lines, &line, &n))
		return w_line(w, line, n);
	return true;
}

/* Call the caller; false if it stopped the watch (now freed). */
static bool
w_report(struct cl_watch *w, const struct cl_watch_result *r)
{
	w->in_cb = true;
	w->cb(w, r, w->arg);
	w->in_cb = false;
	if (w->stop_asked) {
		w_free(w);
		return false;
	}
	return true;
}

/* One message.  false if the watch is gone or this stream is over. */
static bool
w_line(struct cl_watch *w, const char *line, size_t len)
{
	struct cl_client	*c = w->c;
	struct cl_watch_result	 r;
	struct cl_watch_msg	 m;
	char			 d[512];
	size_t			 i, skip;
	bool			 alive;
	int			 rc;

	if (w->st != W_CONNECTING && w->st != W_STREAMING)
		return false;
	if ((rc = cl_msg_parse_watch(line, len, &m, d, sizeof(d))) != 0) {
		w_fail(w, "%s", d);
		return false;
	}
	memset(&r, 0, sizeof(r));
	r.endpoint = c->eps[w->x.ep];
	r.revision = m.header.revision;
	r.detail = "";
	if (m.canceled) {
		if (m.compact_revision > 0) {
			w->st = W_DONE;
			evtimer_del(w->ev);
			cl_xfer_stop(&w->x);
			r.error = CL_E_COMPACTED;
			r.compact_revision = m.compact_revision;
			snprintf(d, sizeof(d), "revision %" PRId64 " is compacted;"
			    " oldest kept %" PRId64, w->next_rev,
			    m.compact_revision);
			r.detail = d;
			cl_watch_msg_free(&m);
			(void)w_report(w, &r);
			return false;
		}
		w_fail(w, "watch canceled: %s", m.cancel_reason[0] != '\0' ?
		    m.cancel_reason : "no reason given");
		cl_watch_msg_free(&m);
		return false;
	}
	if (m.created) {
		if (w->st == W_CONNECTING) {
			w->st = W_STREAMING;
			w->streams++;
			w->tries = 0;
			w->first = w->x.ep;
			w->backoff_us = W_BACKOFF_MIN_US;
			w->detail[0] = '\0';
			cl_endpoint_ok(c, w->x.ep);
			if (w->next_rev == 0)
				w->next_rev = m.header.revision + 1;
		}
		r.created = true;
	} else if (w->st != W_STREAMING) {
		/* Anything before "created" is not this stream's. */
		cl_watch_msg_free(&m);
		w_fail(w, "message before the watch was created");
		return false;
	}
	w_arm(w, c->idle_ms * 1000);
	/* Drop what was already handed out; keep revision order. */
	for (skip = 0; skip < m.nevents &&
	    m.events[skip].kv.mod_revision < w->next_rev; skip++)
		;
	r.events = m.events + skip;
	r.nevents = m.nevents - skip;
	for (i = 0; i < r.nevents; i++)
		if (r.events[i].kv.mod_revision >= w->next_rev)
			w->next_rev = r.events[i].kv.mod_revision + 1;
	alive = true;
	if (r.created || r.nevents > 0)
		alive = w_report(w, &r);
	cl_watch_msg_free(&m);
	return alive;
}

/* This stream failed: next endpoint, or the end of the round. */
static void
w_fail(struct cl_watch *w, const char *fmt, ...)
{
	struct cl_client	*c = w->c;
	struct cl_watch_result	 r;
	size_t			 n = strlen(w->detail), ep = w->x.ep;
	va_list			 ap;
	int			 rc;

	if (w->st == W_STREAMING) {
		/* A new round, the broken endpoint counted as tried. */
		w->first = ep;
		w->tries = 1;
		w->detail[0] = '\0';
		n = 0;
	}
	w->st = W_CONNECTING;	/* not moved again by the line below */
	cl_xfer_stop(&w->x);
	evtimer_del(w->ev);
	if (n + 3 < sizeof(w->detail)) {
		n += (size_t)snprintf(w->detail + n, sizeof(w->detail) - n,
		    "%s%s: ", n > 0 ? "; " : "", c->eps[ep]);
		if (n < sizeof(w->detail)) {
			va_start(ap, fmt);
			vsnprintf(w->detail + n, sizeof(w->detail) - n, fmt, ap);
			va_end(ap);
		}
	}
	cl_endpoint_failed(c, ep);
	if (w->tries < c->neps) {
		if ((rc = w_attempt(w)) == 0)
			return;
		snprintf(w->detail, sizeof(w->detail), "%s", cl_strerror(rc));
	}
	/* Every endpoint failed: say so, wait, start a new round. */
	w->st = W_BACKOFF;
	cl_xfer_stop(&w->x);
	w_arm(w, w->backoff_us);
	w->backoff_us = w->backoff_us * 2 > W_BACKOFF_MAX_US ?
	    W_BACKOFF_MAX_US : w->backoff_us * 2;
	memset(&r, 0, sizeof(r));
	r.error = CL_E_UNAVAILABLE;
	r.detail = w->detail;
	r.endpoint = c->eps[ep];
	if (w_report(w, &r))
		w->detail[0] = '\0';
}

/* The transfer ended: whatever it said, the stream is over. */
static void
w_done(struct cl_xfer *x, CURLcode res)
{
	struct cl_watch	*w = x->owner;
	long		 status;

	w_pending_remove(w);
	if (w->bad_line) {
		w_fail(w, "message too large or out of memory");
		return;
	}
	/* Lines that came with the end, including an error object. */
	if (!w_lines(w, true))
		return;
	if (w->st == W_DONE)
		return;
	status = cl_xfer_status(x);
	if (res != CURLE_OK)
		w_fail(w, "%s", x->errbuf[0] != '\0' ? x->errbuf :
		    curl_easy_strerror(res));
	else if (status != 200)
		w_fail(w, "HTTP status %ld", status);
	else
		w_fail(w, "stream ended");
}

static void
w_timer_cb(evutil_socket_t fd, short kind, void *arg)
{
	struct cl_watch	*w = arg;

	(void)fd;
	(void)kind;
	switch (w->st) {
	case W_CONNECTING:
		w_fail(w, "not created within %" PRId64 " ms",
		    w->c->timeout_ms);
		break;
	case W_STREAMING:
		/* Silence, or moved: make the stream again (see above). */
		w->first = w->move ? w->c->cur : w->x.ep;
		w->tries = 0;
		if (w_attempt(w) != 0)
			w_fail(w, "could not make a new stream");
		break;
	case W_BACKOFF:
		w->first = w->c->cur;
		w->tries = 0;
		if (w_attempt(w) != 0)
			w_fail(w, "could not make a new stream");
		break;
	case W_DONE:
		break;
	}
}

void
cl_watches_endpoint_failed(struct cl_client *c, size_t ep)
{
	struct cl_watch	*w;

	for (w = c->watches; w != NULL; w = w->next)
		if (w->st == W_STREAMING && w->x.ep == ep && !w->move) {
			w->move = true;
			w_arm(w, 0);
		}
}
