/*
 * api_page.c - the dashboard's routes: the page itself (GET /), a
 * switch's plan, a group's record as the server answers it, the event
 * stream and the check of the history chain.  The page's connections
 * and streams are api_dash.c's.
 */
#include "controller/face/api_int.h"

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>

#include "controller/base/clock.h"
#include "controller/face/api_conn.h"
#include "controller/face/api_dash.h"

/* ==== the dashboard (issue 16): GET /, plan, dns, stream, verify ==== */

#define API_STREAMS_MAX		16	/* event streams at once, at most */
#define API_VERIFY_EVERY_MS	2000	/* a chain check at most this often */

/*
 * What only the daemon knows, added to a group object of ops_status(): of
 * each stack, its last check's latency, HTTP status and time.
 */
void
api_live_fields(struct api *a, json_t *g)
{
	const struct config *cfg = (*a->h.cfg);
	const char *gname = json_string_value(json_object_get(g, "name"));
	json_t *st, *def;
	size_t i;

	/* How the group is defined: the file, or made at run time. */
	if (gname != NULL && (def = ops_group_definition(cfg, gname)) != NULL)
		json_object_set_new(g, "definition", def);
	json_array_foreach(json_object_get(g, "stacks"), i, st) {
		const char *name = json_string_value(json_object_get(st,
		    "name"));
		int s = name != NULL ? config_stack_index(cfg, name) : -1;
		struct api_stack_live live;

		if (s < 0 || !a->h.stack_live(a->h.arg, s, &live))
			continue;
		if (live.last_probe_ms == 0) {
			json_object_set_new(st, "latency_ms", json_null());
			json_object_set_new(st, "last_check_ms", json_null());
			json_object_set_new(st, "http_status", json_null());
			continue;
		}
		json_object_set_new(st, "latency_ms",
		    json_real((double)live.last_latency_us / 1000.0));
		json_object_set_new(st, "last_check_ms",
		    json_integer(live.last_probe_ms));
		json_object_set_new(st, "http_status", live.last_status > 0 ?
		    json_integer(live.last_status) : json_null());
	}
}

/* Headers every answer of the page carries. */
static void
page_headers(struct call *c)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(c->req);

	evhttp_add_header(h, "Content-Security-Policy",
	    api_dash_csp(c->a->dash));
	evhttp_add_header(h, "Cache-Control", "no-store");
	evhttp_add_header(h, "ETag", api_dash_etag(c->a->dash));
	evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
	evhttp_add_header(h, "X-Frame-Options", "DENY");
	evhttp_add_header(h, "Referrer-Policy", "no-referrer");
}

void
api_h_page(struct call *c)
{
	const char *inm = evhttp_find_header(evhttp_request_get_input_headers(
	    c->req), "If-None-Match");
	size_t len;
	const char *page = api_dash_page(c->a->dash, &len);

	page_headers(c);
	if (inm != NULL && strcmp(inm, api_dash_etag(c->a->dash)) == 0) {
		api_log_reply(c, 304, NULL);
		evhttp_send_reply(c->req, 304, "Not Modified", NULL);
		return;
	}
	evhttp_add_header(evhttp_request_get_output_headers(c->req),
	    "Content-Type", "text/html; charset=utf-8");
	evbuffer_add(evhttp_request_get_output_buffer(c->req), page, len);
	api_log_reply(c, 200, NULL);
	evhttp_send_reply(c->req, 200, "OK", NULL);
}

/* GET /v1/groups/NAME/plan?to=STACK&force=1: what a switch would do. */
void
api_h_plan(struct call *c)
{
	const char *to = evhttp_find_header(&c->query, "to");
	const char *fv = evhttp_find_header(&c->query, "force");
	struct ops_reply rp;
	json_t *v = NULL;
	bool force = false;
	int code;

	if (!api_have_store(c))
		return;
	if (fv != NULL) {
		if (strcmp(fv, "1") == 0 || strcmp(fv, "true") == 0)
			force = true;
		else if (strcmp(fv, "0") != 0 && strcmp(fv, "false") != 0) {
			api_reply_error(c, 400, "force: 1 or 0");
			return;
		}
	}
	if (to != NULL && to[0] == '\0')
		to = NULL;
	if (ops_switch_plan_json(c->a->h.store, (*c->a->h.cfg), c->seg[2], to,
	    force, &v, &rp) == 0) {
		api_reply_json(c, 200, v);
		return;
	}
	code = api_outcome_status(rp.outcome);
	api_log_reply(c, code, rp.message);
	api_reply_json(c, code, json_pack("{s:s, s:s, s:i}", "error", rp.message,
	    "reason", rp.reason, "status", code));
}

/* GET /v1/groups/NAME/dns: each authoritative server's last answer. */
void
api_h_dns(struct call *c)
{
	const struct config *cfg = (*c->a->h.cfg);
	json_t *v;

	for (size_t i = 0; i < cfg->ngroup; i++) {
		if (strcmp(cfg->groups[i].name, c->seg[2]) != 0)
			continue;
		if ((v = api_dash_dns(c->a->dash, (int)i)) == NULL)
			api_reply_error(c, 500, "out of memory");
		else
			api_reply_json(c, 200, v);
		return;
	}
	api_reply_error(c, 404, "no such group");
}

/* GET /v1/events/stream: server-sent events (api_dash.h). */
void
api_h_stream(struct call *c)
{
	const char *lei = evhttp_find_header(evhttp_request_get_input_headers(
	    c->req), "Last-Event-ID");
	struct api_conns_stats st;
	uint64_t from = 0;
	int max;

	if (!api_have_store(c) || !api_query_u64(c, "from", &from))
		return;
	/* EventSource sends the last id it saw when it reconnects. */
	if (lei != NULL) {
		char *end;
		unsigned long long n = strtoull(lei, &end, 10);

		if (*lei >= '0' && *lei <= '9' && *end == '\0')
			from = n;
	}
	/* Streams may hold half the connections: commands need the rest. */
	api_conns_stats(c->a->conns, &st);
	max = st.max / 2;
	if (max > API_STREAMS_MAX)
		max = API_STREAMS_MAX;
	if (max < 1)
		max = 1;
	switch (api_dash_stream(c->a->dash, c->req, from, max)) {
	case API_DASH_STREAMING:
		api_log_reply(c, 200, NULL);
		return;
	case API_DASH_FULL:
		evhttp_add_header(evhttp_request_get_output_headers(c->req),
		    "Retry-After", "5");
		api_reply_error(c, 503, "too many event streams: at most %d at once"
		    " (half of the API's %d connections, at most %d)", max,
		    st.max, API_STREAMS_MAX);
		return;
	case API_DASH_FAILED:
		break;
	}
	api_reply_error(c, 500, "could not start the event stream");
}

/*
 * GET /v1/history/verify: the hash chain checked (store_history_verify).
 * Anyone may ask, so a check runs again only when the history grew, and
 * then at most every API_VERIFY_EVERY_MS; "checked_seq" says how far the
 * answer goes.
 */
void
api_h_verify(struct call *c)
{
	struct api *a = c->a;
	struct store_txn txn;
	uint64_t last = 0, bad = 0, count = 0;
	int64_t now = clock_mono_ms();
	char err[256] = "";

	if (!api_have_store(c))
		return;
	if (store_txn_begin(a->h.store, false, &txn) == 0)
		last = store_history_last(&txn);
	store_txn_abort(&txn);
	if (a->verify_mono == 0 || (last != a->verify_seq &&
	    now - a->verify_mono >= API_VERIFY_EVERY_MS)) {
		if (store_history_verify(a->h.store, &bad, &count, err,
		    sizeof(err)) != 0) {
			api_reply_error(c, 500, "history: %s", err);
			return;
		}
		a->verify_seq = last;
		a->verify_mono = now;
		a->verify_bad = bad;
		a->verify_count = count;
		snprintf(a->verify_detail, sizeof(a->verify_detail), "%s", err);
	}
	api_reply_json(c, 200, json_pack("{s:b, s:o, s:I, s:I, s:s}",
	    "ok", a->verify_bad == 0,
	    "first_bad", a->verify_bad != 0 ?
	    json_integer((json_int_t)a->verify_bad) : json_null(),
	    "count", (json_int_t)a->verify_count,
	    "checked_seq", (json_int_t)a->verify_seq,
	    "detail", a->verify_detail));
}
