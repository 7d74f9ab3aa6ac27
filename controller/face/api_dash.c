/*
 * api_dash.c - the dashboard's page, its live stream of history events
 * and the authoritative servers' answers; see api_dash.h.
 *
 * The page.  index.html, dashboard.css and dashboard.js are kept as
 * ordinary files (controller/face/dashboard/) and built into the binary
 * (embed.sh).  At start the page is assembled once: the <link> of the
 * style sheet and the <script src> of the script in index.html are
 * replaced by the files themselves, inline, so GET / is one answer that
 * fetches nothing else (index.html opened from the source folder loads
 * the two files beside it, which is how the page is worked on).  The
 * Content-Security-Policy allows exactly that style sheet and that script,
 * by their SHA-256, and requests to this origin only; the ETag is the
 * page's SHA-256 too.
 *
 * Streams.  GET /v1/events/stream is answered with evhttp_send_reply_start
 * and then one chunk per event (server-sent events).  A stream is a
 * connection like any other, counted against api_max_connections by
 * api_conn.c, and streams are capped on top of that (api.c passes the cap)
 * so that they never take all the connections that commands need.  The
 * store calls us after each commit that appended history
 * (store_set_history_cb); that only activates an event, and at the API's
 * priority the new events are read in one read transaction and written to
 * every stream.  Events appended by another process (failoverctl) are
 * found by a poll of the newest sequence number every second, while a
 * stream is open.  A client that reads too slowly (API_DASH_BACKLOG bytes
 * queued) is ended: EventSource reconnects, with Last-Event-ID, and gets
 * what it missed (up to API_DASH_REPLAY events).
 *
 * Answers.  For the page's "what each server answers now", each [dns]
 * server and confirm server is asked for the group's name (dnsup_readback,
 * on the daemon's DNS engine, never blocking), at most once per
 * API_DASH_DNS_FRESH_MS per group, and the last answers are kept here; a
 * GET returns what is known at once and never waits for DNS.  Queries
 * outlive us (the daemon frees the DNS engine after the API): each holds a
 * context that api_dash_free() detaches.
 */
#include "controller/face/api_dash.h"

#include <sys/queue.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include "config/config.h"
#include "controller/base/clock.h"
#include "controller/face/api_conn.h"
#include "controller/base/guard.h"
#include "controller/face/api.h"
#include "controller/face/dashboard/assets.h"
#include "controller/face/ops.h"
#include "controller/store/store.h"
#include "dnsupdate/dnsup.h"
#include "dnsupdate/dnsup_check.h"
#include "dnsupdate/dnsup_msg.h"

#define DASH_WRITE_S		30	/* a stream's client must read */
#define DASH_PUSH_MAX		2000	/* events read per push */
#define DASH_CSS_LINK	"<link rel=\"stylesheet\" href=\"dashboard.css\">"
#define DASH_JS_TAG	"<script src=\"dashboard.js\"></script>"

struct stream {
	struct api_dash		*ad;
	struct evhttp_request	*req;
	uint64_t		 sent;		/* newest seq sent */
	TAILQ_ENTRY(stream)	 link;
};
TAILQ_HEAD(streamq, stream);

/* The last answer of one server for one group. */
struct answer {
	char		 server[72];	/* "127.0.0.1#53" */
	bool		 known;
	char		 result[32];
	char		 text[600];
	uint32_t	 ttl;
	bool		 has_ttl;
	int64_t		 asked_ms;
	char		 detail[256];
};

struct dnsq;

struct dnsgroup {
	char			 group[256];
	char			 name[256];	/* the address asked for */
	int64_t			 asked_mono;
	size_t			 nanswer;
	struct answer		*answer;
	struct dnsgroup		*next;
};

/* One query out: detached (ad NULL) when we are freed first. */
struct dnsq {
	struct api_dash		*ad;
	char			 group[256];
	char			 server[72];
	struct dnsq		*next, *prev;
};

struct api_dash {
	const struct api_host	*h;	/* the api's, lent by the shell */
	struct api_conns	*conns;
	char			*page;
	size_t			 page_len;
	char			 csp[512];
	char			 etag[48];

	struct streamq		 streams;
	int			 nstream;
	uint64_t		 last_seq;	/* newest seq pushed */
	struct event		*push_ev;	/* the store appended */
	struct event		*tick_ev;	/* poll, keep-alive */
	int			 ticks;

	struct dnsgroup		*dns;
	struct dnsq		*queries;
};

static const struct dash_asset *
asset(const char *name)
{
	for (const struct dash_asset *a = dash_assets; a->name != NULL; a++)
		if (strcmp(a->name, name) == 0)
			return a;
	return NULL;
}

/* 'sha256-BASE64' of len bytes. */
static void
csp_hash(const void *p, size_t len, char *buf, size_t buflen)
{
	unsigned char sha[SHA256_DIGEST_LENGTH];
	unsigned char b64[4 * ((SHA256_DIGEST_LENGTH + 2) / 3) + 1];

	SHA256(p, len, sha);
	EVP_EncodeBlock(b64, sha, sizeof(sha));
	snprintf(buf, buflen, "'sha256-%s'", b64);
}

/* Replace the one `tag` in html by open + a + close; NULL on failure. */
static char *
inline_asset(const char *html, const char *tag, const char *open,
    const struct dash_asset *a, const char *close, char *err, size_t errlen)
{
	const char *at = strstr(html, tag);
	size_t pre, lo = strlen(open), lc = strlen(close), lt = strlen(tag);
	char *out;

	if (at == NULL || strstr(at + lt, tag) != NULL) {
		snprintf(err, errlen, "dashboard: index.html must hold %s once",
		    tag);
		return NULL;
	}
	pre = (size_t)(at - html);
	if ((out = malloc(strlen(html) - lt + lo + a->len + lc + 1)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	memcpy(out, html, pre);
	memcpy(out + pre, open, lo);
	memcpy(out + pre + lo, a->data, a->len);
	memcpy(out + pre + lo + a->len, close, lc);
	strcpy(out + pre + lo + a->len + lc, at + lt);
	return out;
}

static int
page_build(struct api_dash *ad, char *err, size_t errlen)
{
	const struct dash_asset *html = asset("index.html");
	const struct dash_asset *css = asset("dashboard.css");
	const struct dash_asset *js = asset("dashboard.js");
	unsigned char sha[SHA256_DIGEST_LENGTH];
	char hcss[80], hjs[80], *p1;

	if (html == NULL || css == NULL || js == NULL ||
	    strlen((const char *)html->data) != html->len ||
	    strlen((const char *)css->data) != css->len ||
	    strlen((const char *)js->data) != js->len) {
		snprintf(err, errlen, "dashboard: the built-in files are"
		    " missing or hold a NUL");
		return -1;
	}
	if ((p1 = inline_asset((const char *)html->data, DASH_CSS_LINK,
	    "<style>", css, "</style>", err, errlen)) == NULL)
		return -1;
	ad->page = inline_asset(p1, DASH_JS_TAG, "<script>", js, "</script>",
	    err, errlen);
	free(p1);
	if (ad->page == NULL)
		return -1;
	ad->page_len = strlen(ad->page);
	csp_hash(css->data, css->len, hcss, sizeof(hcss));
	csp_hash(js->data, js->len, hjs, sizeof(hjs));
	/*
	 * Only our own script and style run; requests go to this origin
	 * only; no frame, form target or base may be set elsewhere.
	 */
	snprintf(ad->csp, sizeof(ad->csp), "default-src 'self'; script-src %s;"
	    " style-src %s; img-src 'self' data:; connect-src 'self';"
	    " object-src 'none'; base-uri 'none'; form-action 'none';"
	    " frame-ancestors 'none'", hjs, hcss);
	SHA256((const unsigned char *)ad->page, ad->page_len, sha);
	snprintf(ad->etag, sizeof(ad->etag), "\"");
	for (int i = 0; i < 16; i++)
		snprintf(ad->etag + 1 + 2 * i, sizeof(ad->etag) - 1 - 2 * i,
		    "%02x", sha[i]);
	strcat(ad->etag, "\"");
	return 0;
}

const char *
api_dash_page(const struct api_dash *ad, size_t *len)
{
	*len = ad->page_len;
	return ad->page;
}

const char *
api_dash_csp(const struct api_dash *ad)
{
	return ad->csp;
}

const char *
api_dash_etag(const struct api_dash *ad)
{
	return ad->etag;
}

/* ---- streams ---- */

static void
stream_free(struct stream *s)
{
	struct api_dash *ad = s->ad;

	TAILQ_REMOVE(&ad->streams, s, link);
	ad->nstream--;
	free(s);
}

/* We end it: the terminating chunk, then evhttp's to finish and free. */
static void
stream_end(struct stream *s)
{
	api_conns_stream_forget(s->ad->conns, s->req);
	evhttp_send_reply_end(s->req);
	stream_free(s);
}

/* api_conn.c: the client went (or it stopped reading). */
static void
stream_closed_cb(struct evhttp_request *req, void *arg)
{
	struct stream *s = arg;

	/* Let go of by evhttp: ours to end, which frees it. */
	if (evhttp_request_get_connection(req) == NULL)
		evhttp_send_reply_end(req);
	stream_free(s);
}

static size_t
stream_queued(const struct stream *s)
{
	struct evhttp_connection *c = evhttp_request_get_connection(s->req);
	struct bufferevent *bev = c != NULL ?
	    evhttp_connection_get_bufferevent(c) : NULL;

	return bev != NULL ? evbuffer_get_length(bufferevent_get_output(bev)) :
	    0;
}

/* Send b (drained) on s; false if s was ended for being too far behind. */
static bool
stream_send(struct stream *s, struct evbuffer *b)
{
	if (stream_queued(s) > API_DASH_BACKLOG) {
		evbuffer_drain(b, evbuffer_get_length(b));
		stream_end(s);
		return false;
	}
	evhttp_send_reply_chunk(s->req, b);
	return true;
}

/* One event as a server-sent event into b. */
static void
sse_event(struct evbuffer *b, json_t *ev)
{
	char *s = json_dumps(ev, JSON_COMPACT | JSON_PRESERVE_ORDER);

	if (s == NULL)
		return;
	/* JSON_COMPACT holds no newline: one data line. */
	evbuffer_add_printf(b, "id: %lld\nevent: history\ndata: %s\n\n",
	    (long long)json_integer_value(json_object_get(ev, "seq")), s);
	free(s);
}

/* The events after `from`, at most DASH_PUSH_MAX; NULL on failure. */
static json_t *
events_since(struct api_dash *ad, uint64_t from, size_t limit)
{
	json_t *v = NULL;
	char err[256];

	if (ad->h->store == NULL || ops_events_json(ad->h->store, from + 1,
	    limit, NULL, &v, err, sizeof(err)) != 0) {
		json_decref(v);
		return NULL;
	}
	return v;
}

static uint64_t
newest_seq(struct api_dash *ad)
{
	struct store_txn txn;
	uint64_t n = 0;

	if (ad->h->store == NULL)
		return 0;
	if (store_txn_begin(ad->h->store, false, &txn) == 0)
		n = store_history_last(&txn);
	store_txn_abort(&txn);
	return n;
}

/* Write what was recorded since the last push to every stream. */
static void
push(struct api_dash *ad)
{
	struct stream *s, *next;
	struct evbuffer *b = NULL;
	json_t *v, *arr, *ev;
	uint64_t seq;
	size_t i;

	if (ad->nstream == 0) {
		ad->last_seq = newest_seq(ad);
		return;
	}
	/* Oldest first; the newest DASH_PUSH_MAX when more were recorded. */
	if ((v = events_since(ad, ad->last_seq, DASH_PUSH_MAX)) == NULL)
		return;
	arr = json_object_get(v, "events");
	if (json_array_size(arr) == 0 || (b = evbuffer_new()) == NULL)
		goto out;
	for (s = TAILQ_FIRST(&ad->streams); s != NULL; s = next) {
		next = TAILQ_NEXT(s, link);
		json_array_foreach(arr, i, ev) {
			seq = (uint64_t)json_integer_value(json_object_get(ev,
			    "seq"));
			if (seq > s->sent)
				sse_event(b, ev);
		}
		if (evbuffer_get_length(b) > 0)
			(void)stream_send(s, b);
	}
	ev = json_array_get(arr, json_array_size(arr) - 1);
	seq = (uint64_t)json_integer_value(json_object_get(ev, "seq"));
	if (seq > ad->last_seq)
		ad->last_seq = seq;
	TAILQ_FOREACH(s, &ad->streams, link)
		if (s->sent < ad->last_seq)
			s->sent = ad->last_seq;
out:
	if (b != NULL)
		evbuffer_free(b);
	json_decref(v);
}

static void
push_cb(evutil_socket_t fd, short what, void *arg)
{
	push(arg);
}

/* store_set_history_cb: inside a commit; only take note. */
static void
history_cb(void *arg)
{
	struct api_dash *ad = arg;

	if (ad->nstream > 0)
		event_active(ad->push_ev, EV_TIMEOUT, 1);
}

/*
 * Seconds between keep-alive comments; FAILOVERD_TEST_SSE_KEEPALIVE_S
 * shortens it so that a test need not wait the real one out.
 */
static int
keepalive_s(void)
{
	const char *e = getenv("FAILOVERD_TEST_SSE_KEEPALIVE_S");
	int t;

	if (e != NULL && (t = atoi(e)) > 0 && t < API_DASH_KEEPALIVE_S)
		return t;
	return API_DASH_KEEPALIVE_S;
}

static void
tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct api_dash *ad = arg;
	struct stream *s, *next;
	struct evbuffer *b;

	if (ad->nstream == 0)
		return;
	/* Another process (failoverctl) may have appended. */
	if (newest_seq(ad) > ad->last_seq)
		push(ad);
	if (++ad->ticks % keepalive_s() != 0 ||
	    (b = evbuffer_new()) == NULL)
		return;
	for (s = TAILQ_FIRST(&ad->streams); s != NULL; s = next) {
		next = TAILQ_NEXT(s, link);
		evbuffer_add_printf(b, ": keep-alive %llu\n\n",
		    (unsigned long long)ad->last_seq);
		stream_send(s, b);
	}
	evbuffer_free(b);
}

int
api_dash_streams(const struct api_dash *ad)
{
	return ad != NULL ? ad->nstream : 0;
}

enum api_dash_stream_rc
api_dash_stream(struct api_dash *ad, struct evhttp_request *req,
    uint64_t from, int max_streams)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	struct evbuffer *b = NULL;
	struct stream *s;
	json_t *v = NULL, *ev;
	size_t i;

	if (ad->nstream >= max_streams)
		return API_DASH_FULL;
	/* Catch up first, so that this stream starts where the others are. */
	push(ad);
	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (b = evbuffer_new()) == NULL) {
		free(s);
		return API_DASH_FAILED;
	}
	s->ad = ad;
	s->req = req;
	s->sent = ad->last_seq;
	if (!api_conns_stream(ad->conns, req, DASH_WRITE_S, stream_closed_cb,
	    s)) {
		evbuffer_free(b);
		free(s);
		return API_DASH_FAILED;
	}
	TAILQ_INSERT_TAIL(&ad->streams, s, link);
	ad->nstream++;
	evhttp_add_header(h, "Content-Type", "text/event-stream; charset=utf-8");
	evhttp_add_header(h, "Cache-Control", "no-store");
	evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
	evhttp_add_header(h, "X-Accel-Buffering", "no");
	evhttp_send_reply_start(req, 200, "OK");
	evbuffer_add_printf(b, "retry: 2000\nevent: hello\ndata: {\"last_seq\":"
	    "%llu,\"streams\":%d,\"max\":%d}\n\n",
	    (unsigned long long)ad->last_seq, ad->nstream, max_streams);
	/* What a reconnecting client missed (Last-Event-ID or ?from=). */
	if (from > 0 && from < ad->last_seq) {
		/* The newest API_DASH_REPLAY of those after from. */
		if ((v = events_since(ad, from, API_DASH_REPLAY)) != NULL)
			json_array_foreach(json_object_get(v, "events"), i, ev)
				if ((uint64_t)json_integer_value(
				    json_object_get(ev, "seq")) <= ad->last_seq)
					sse_event(b, ev);
		json_decref(v);
	}
	evhttp_send_reply_chunk(req, b);
	evbuffer_free(b);
	return API_DASH_STREAMING;
}

/* ---- what the servers answer ---- */

static void
dnsq_unlink(struct api_dash *ad, struct dnsq *q)
{
	if (q->prev != NULL)
		q->prev->next = q->next;
	else
		ad->queries = q->next;
	if (q->next != NULL)
		q->next->prev = q->prev;
	q->next = q->prev = NULL;
}

static struct dnsgroup *
dnsgroup_find(struct api_dash *ad, const char *group)
{
	for (struct dnsgroup *g = ad->dns; g != NULL; g = g->next)
		if (strcmp(g->group, group) == 0)
			return g;
	return NULL;
}

static void
readback_cb(const struct dnsup_outcome *o, const struct dnsup_found *f,
    void *arg)
{
	struct dnsq *q = arg;
	struct api_dash *ad = q->ad;
	struct dnsgroup *g;
	struct answer *a;

	if (ad == NULL || o->result == DNSUP_R_CANCELLED)
		goto out;
	if ((g = dnsgroup_find(ad, q->group)) == NULL)
		goto out;
	for (size_t i = 0; i < g->nanswer; i++) {
		a = &g->answer[i];
		if (strcmp(a->server, q->server) != 0)
			continue;
		a->known = true;
		a->asked_ms = clock_wall_ms();
		snprintf(a->result, sizeof(a->result), "%s",
		    dnsup_result_name(o->result));
		snprintf(a->detail, sizeof(a->detail), "%.200s", o->detail);
		a->text[0] = '\0';
		a->has_ttl = false;
		if (f != NULL) {
			dnsup_rrset_format(&f->rrset, a->text, sizeof(a->text));
			a->has_ttl = f->rrset.kind != DNSUP_RRSET_NONE;
			a->ttl = f->rrset.ttl;
		}
	}
out:
	if (ad != NULL)
		dnsq_unlink(ad, q);
	free(q);
}

/* The servers to ask: every [dns] server, then every other confirm. */
static size_t
servers_of(const struct config *cfg, const struct cfg_hostport **out,
    size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < cfg->dns.nserver && n < max; i++)
		out[n++] = &cfg->dns.server[i];
	for (size_t i = 0; i < cfg->dns.nconfirm && n < max; i++) {
		const struct cfg_hostport *c = &cfg->dns.confirm[i];
		bool dup = false;

		for (size_t j = 0; j < n; j++)
			dup |= strcmp(out[j]->host, c->host) == 0 &&
			    out[j]->port == c->port;
		if (!dup)
			out[n++] = c;
	}
	return n;
}

/* Ask every server again for g (in the background). */
static void
dns_refresh(struct api_dash *ad, struct dnsgroup *g,
    const struct cfg_hostport **srv, size_t nsrv)
{
	struct dnsup_engine *dns = *ad->h->dns;

	g->asked_mono = clock_mono_ms();
	if (dns == NULL || *ad->h->stopping || g->name[0] == '\0')
		return;
	for (size_t i = 0; i < nsrv; i++) {
		struct dnsq *q = calloc(1, sizeof(*q));

		if (q == NULL)
			return;
		q->ad = ad;
		snprintf(q->group, sizeof(q->group), "%s", g->group);
		dnsup_hostport_format(srv[i], q->server, sizeof(q->server));
		q->next = ad->queries;
		if (q->next != NULL)
			q->next->prev = q;
		ad->queries = q;
		if (dnsup_readback(dns, srv[i], g->name, false,
		    readback_cb, q) != 0) {
			dnsq_unlink(ad, q);
			free(q);
		}
	}
}

json_t *
api_dash_dns(struct api_dash *ad, int gi)
{
	const struct config *cfg = (*ad->h->cfg);
	const struct cfg_hostport *srv[DNSUP_MAX_CONFIRM * 2];
	struct dnsgroup *g;
	const char *group = cfg->groups[gi].name;
	char name[256] = "", sname[72];
	size_t nsrv = servers_of(cfg, srv, sizeof(srv) / sizeof(srv[0]));
	json_t *o, *arr;
	bool changed;

	if (ad->h->store != NULL)
		(void)ops_group_address(ad->h->store, cfg, group, name,
		    sizeof(name));
	if ((g = dnsgroup_find(ad, group)) == NULL) {
		if ((g = calloc(1, sizeof(*g))) == NULL)
			return NULL;
		snprintf(g->group, sizeof(g->group), "%s", group);
		g->next = ad->dns;
		ad->dns = g;
	}
	/* The servers or the name changed (reload): start again. */
	changed = g->nanswer != nsrv || strcmp(g->name, name) != 0;
	for (size_t i = 0; !changed && i < nsrv; i++) {
		dnsup_hostport_format(srv[i], sname, sizeof(sname));
		changed = strcmp(sname, g->answer[i].server) != 0;
	}
	if (changed) {
		struct answer *a = calloc(nsrv + 1, sizeof(*a));

		if (a == NULL)
			return NULL;
		free(g->answer);
		g->answer = a;
		g->nanswer = nsrv;
		snprintf(g->name, sizeof(g->name), "%s", name);
		for (size_t i = 0; i < nsrv; i++)
			dnsup_hostport_format(srv[i], a[i].server,
			    sizeof(a[i].server));
		g->asked_mono = 0;
	}
	if (g->asked_mono == 0 ||
	    clock_mono_ms() - g->asked_mono >= API_DASH_DNS_FRESH_MS)
		dns_refresh(ad, g, srv, nsrv);
	if ((o = json_object()) == NULL || (arr = json_array()) == NULL) {
		json_decref(o);
		return NULL;
	}
	json_object_set_new(o, "group", json_string(group));
	json_object_set_new(o, "name", name[0] ? json_string(name) :
	    json_null());
	json_object_set_new(o, "servers", arr);
	if ((*ad->h->dns) == NULL)
		json_object_set_new(o, "detail", json_string("dry-run: no DNS"
		    " is asked"));
	for (size_t i = 0; i < g->nanswer; i++) {
		const struct answer *a = &g->answer[i];
		json_t *s = json_object();

		if (s == NULL)
			break;
		json_object_set_new(s, "server", json_string(a->server));
		json_object_set_new(s, "answer", a->known && a->text[0] ?
		    json_string(a->text) : json_null());
		json_object_set_new(s, "ttl", a->has_ttl ?
		    json_integer(a->ttl) : json_null());
		json_object_set_new(s, "result", a->known ?
		    json_string(a->result) : json_null());
		json_object_set_new(s, "asked_ms", a->known ?
		    json_integer(a->asked_ms) : json_null());
		json_object_set_new(s, "detail", json_string(a->detail));
		json_array_append_new(arr, s);
	}
	return o;
}

/* ---- lifetime ---- */

struct api_dash *
api_dash_new(const struct api_host *h, struct api_conns *conns, char *err,
    size_t errlen)
{
	struct api_dash *ad;
	struct timeval sec = { 1, 0 };

	if ((ad = calloc(1, sizeof(*ad))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	ad->h = h;
	ad->conns = conns;
	TAILQ_INIT(&ad->streams);
	if (page_build(ad, err, errlen) != 0)
		goto fail;
	if ((ad->push_ev = event_new(h->base, -1, 0, push_cb, ad)) == NULL ||
	    event_priority_set(ad->push_ev, DAEMON_PRIO_API) != 0 ||
	    (ad->tick_ev = event_new(h->base, -1, EV_PERSIST, tick_cb,
	    ad)) == NULL ||
	    event_priority_set(ad->tick_ev, DAEMON_PRIO_API) != 0 ||
	    evtimer_add(ad->tick_ev, &sec) != 0) {
		snprintf(err, errlen, "libevent failed");
		goto fail;
	}
	ad->last_seq = newest_seq(ad);
	store_set_history_cb(h->store, history_cb, ad);
	return ad;
fail:
	api_dash_free(ad);
	return NULL;
}

void
api_dash_free(struct api_dash *ad)
{
	struct stream *s;
	struct dnsgroup *g;

	if (ad == NULL)
		return;
	store_set_history_cb(ad->h->store, NULL, NULL);
	while ((s = TAILQ_FIRST(&ad->streams)) != NULL)
		stream_end(s);
	while (ad->queries != NULL) {
		struct dnsq *q = ad->queries;

		dnsq_unlink(ad, q);
		q->ad = NULL;		/* its callback frees it */
	}
	while ((g = ad->dns) != NULL) {
		ad->dns = g->next;
		free(g->answer);
		free(g);
	}
	if (ad->push_ev != NULL)
		event_free(ad->push_ev);
	if (ad->tick_ev != NULL)
		event_free(ad->tick_ev);
	free(ad->page);
	free(ad);
}
