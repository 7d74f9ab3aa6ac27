/*
 * api_v1.c - the JSON resources of /v1 (groups, stacks, FAILOVER_STATUS,
 * events) and the operator commands (POST /v1/groups/NAME/VERB), all
 * through ops.h, the one implementation shared with failoverctl.
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
#include "controller/base/log.h"

/* ---- the JSON endpoints (ops.h) ---- */

/* The store behind ops.h; false (503 sent) when there is none (dry-run). */
bool
api_have_store(struct call *c)
{
	if (c->a->h.store != NULL)
		return true;
	api_reply_error(c, 503, "dry-run: the daemon keeps no state store; only"
	    " /metrics and /healthz answer");
	return false;
}

/* Answer an ops query: the JSON on success, else 404 or 500. */
static void
reply_ops(struct call *c, int rc, json_t *v, const char *what,
    const char *err)
{
	if (rc == 0) {
		api_reply_json(c, 200, v);
		return;
	}
	json_decref(v);
	if (rc == OPS_E_NOTFOUND)
		api_reply_error(c, 404, "no such %s", what);
	else
		api_reply_error(c, 500, "%s: %s", ops_strerror(rc), err);
}

void
api_h_groups(struct call *c)
{
	json_t *v = NULL;
	char err[256] = "";
	int rc;

	if (!api_have_store(c))
		return;
	rc = ops_status(c->a->h.store, (*c->a->h.cfg), NULL, &v, err,
	    sizeof(err));
	if (rc == 0) {
		json_t *g;
		size_t i;

		json_array_foreach(json_object_get(v, "groups"), i, g)
			api_live_fields(c->a, g);
	}
	reply_ops(c, rc, v, "group", err);
}

void
api_h_group(struct call *c)
{
	json_t *v = NULL;
	char err[256] = "";
	int rc;

	if (!api_have_store(c))
		return;
	rc = ops_status(c->a->h.store, (*c->a->h.cfg), c->seg[2], &v, err,
	    sizeof(err));
	if (rc == 0)
		api_live_fields(c->a, v);
	reply_ops(c, rc, v, "group", err);
}

void
api_h_stack(struct call *c)
{
	json_t *v = NULL;
	char err[256] = "";
	int rc;

	if (!api_have_store(c))
		return;
	rc = ops_stack_json(c->a->h.store, (*c->a->h.cfg), c->seg[2], &v, err,
	    sizeof(err));
	reply_ops(c, rc, v, "stack", err);
}

/*
 * online, offline or none as text/plain: what a cron job on an
 * application server asks with one curl (FAILOVER_STATUS, combined over
 * the stack's groups as failoverctl failover-status prints it).
 */
void
api_h_failover_status(struct call *c)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(c->req);
	enum eng_online on;
	const char *s;
	char err[256] = "";
	int rc;

	if (!api_have_store(c))
		return;
	rc = ops_failover_status(c->a->h.store, (*c->a->h.cfg), c->seg[2], &on,
	    err, sizeof(err));
	if (rc != 0) {
		reply_ops(c, rc, NULL, "stack", err);
		return;
	}
	s = eng_online_name(on);
	evhttp_add_header(h, "Content-Type", "text/plain; charset=utf-8");
	evhttp_add_header(h, "Cache-Control", "no-store");
	evbuffer_add_printf(evhttp_request_get_output_buffer(c->req), "%s\n",
	    s);
	api_log_reply(c, 200, NULL);
	evhttp_send_reply(c->req, 200, "OK", NULL);
}

void
api_h_stacks(struct call *c)
{
	const struct config *cfg = (*c->a->h.cfg);
	json_t *o = NULL, *arr = NULL, *v = NULL;
	char err[256] = "";
	int rc = 0;

	if (!api_have_store(c))
		return;
	if ((o = json_object()) == NULL || (arr = json_array()) == NULL ||
	    json_object_set(o, "stacks", arr) != 0)
		rc = OPS_E_NOMEM;
	for (size_t s = 0; rc == 0 && s < cfg->nstack; s++) {
		rc = ops_stack_json(c->a->h.store, cfg, cfg->stacks[s].name,
		    &v, err, sizeof(err));
		if (rc == 0 && json_array_append_new(arr, v) != 0)
			rc = OPS_E_NOMEM;
		v = NULL;
	}
	json_decref(arr);
	reply_ops(c, rc, o, "stack", err);
}

/* A decimal query parameter; false (400 sent) when malformed. */
bool
api_query_u64(struct call *c, const char *key, uint64_t *out)
{
	const char *v = evhttp_find_header(&c->query, key);
	char *end;
	unsigned long long n;

	if (v == NULL)
		return true;
	errno = 0;
	n = strtoull(v, &end, 10);
	if (*v < '0' || *v > '9' || *end != '\0' || errno != 0) {
		api_reply_error(c, 400, "%s: not a number", key);
		return false;
	}
	*out = n;
	return true;
}

void
api_h_events(struct call *c)
{
	const char *group = evhttp_find_header(&c->query, "group");
	uint64_t from = 0, limit = API_EVENTS_DEFAULT;
	json_t *v = NULL;
	char err[256] = "";
	int rc;

	if (!api_have_store(c))
		return;
	if (!api_query_u64(c, "from", &from) || !api_query_u64(c, "limit", &limit))
		return;
	if (limit == 0 || limit > API_EVENTS_MAX) {
		api_reply_error(c, 400, "limit: between 1 and %d", API_EVENTS_MAX);
		return;
	}
	if (group != NULL && group[0] == '\0')
		group = NULL;
	rc = ops_events_json(c->a->h.store, from, (size_t)limit, group, &v,
	    err, sizeof(err));
	reply_ops(c, rc, v, "group", err);
}

/* ---- POST /v1/groups/NAME/VERB ---- */

/*
 * The request body: empty, or a JSON object with only the members the
 * verb takes.  Returns the object (caller decrefs; NULL for an empty
 * body), or sends 400 and sets *bad.
 */
/*
 * The request body as a JSON object: NULL with *bad false for an empty
 * body; NULL with *bad set once a 400 (or 500) is sent.  Caller decrefs.
 */
json_t *
api_body_json(struct call *c, bool *bad)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(c->req);
	size_t len = evbuffer_get_length(in);
	json_error_t je;
	json_t *o;
	char *buf;

	*bad = false;
	if (len == 0)
		return NULL;
	if ((buf = malloc(len)) == NULL) {
		api_reply_error(c, 500, "out of memory");
		*bad = true;
		return NULL;
	}
	evbuffer_copyout(in, buf, len);
	o = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
	free(buf);
	if (o == NULL) {
		api_reply_error(c, 400, "body: not JSON: %s (offset %d)", je.text,
		    je.position);
		*bad = true;
		return NULL;
	}
	if (!json_is_object(o)) {
		api_reply_error(c, 400, "body: not a JSON object");
		json_decref(o);
		*bad = true;
		return NULL;
	}
	return o;
}

static json_t *
body_object(struct call *c, enum ops_verb verb, bool *bad)
{
	const char *key;
	json_t *o, *val;

	if ((o = api_body_json(c, bad)) == NULL)
		return NULL;
	json_object_foreach(o, key, val) {
		bool known = false;

		if (verb == OPS_SWITCH)
			known = strcmp(key, "to") == 0 ||
			    strcmp(key, "force") == 0 ||
			    strcmp(key, "cancel") == 0;
		else if (verb == OPS_PIN)
			known = strcmp(key, "stack") == 0;
		if (!known) {
			api_reply_error(c, 400, "body: unknown member \"%.64s\""
			    " for %s", key, ops_verb_name(verb));
			goto bad;
		}
	}
	return o;
bad:
	json_decref(o);
	*bad = true;
	return NULL;
}

/* A string member, absent or null: NULL; false (400 sent) if not a string. */
static bool
member_str(struct call *c, json_t *o, const char *key, const char **out)
{
	json_t *v = o != NULL ? json_object_get(o, key) : NULL;

	*out = NULL;
	if (v == NULL || json_is_null(v))
		return true;
	if (!json_is_string(v) || json_string_length(v) == 0 ||
	    json_string_length(v) >= API_NAME_MAX ||
	    strlen(json_string_value(v)) != json_string_length(v)) {
		api_reply_error(c, 400, "body: \"%s\" must be a stack name", key);
		return false;
	}
	*out = json_string_value(v);
	return true;
}

static const int outcome_status[] = {
	[OPS_DONE] = 200,
	[OPS_REFUSED] = 409,
	[OPS_UNKNOWN] = 404,
	[OPS_BAD_REQUEST] = 400,
	[OPS_FAILED] = 500,
};

int
api_outcome_status(enum ops_outcome o)
{
	return (unsigned)o < sizeof(outcome_status) /
	    sizeof(outcome_status[0]) ? outcome_status[o] : 500;
}

void
api_h_command(struct call *c)
{
	struct ops_request rq;
	struct ops_reply rp;
	json_t *body, *v, *out;
	int verb = ops_verb_parse(c->seg[3]), code;
	bool bad;
	char actor[ENG_ACTOR_MAX], peer[80], *colon;

	if (verb < 0) {		/* the route table and ops disagree */
		api_reply_error(c, 500, "verb %s unknown to ops", c->seg[3]);
		return;
	}
	if (!api_have_store(c))
		return;
	body = body_object(c, (enum ops_verb)verb, &bad);
	if (bad)
		return;
	memset(&rq, 0, sizeof(rq));
	rq.verb = (enum ops_verb)verb;
	rq.group = c->seg[2];
	if (verb == OPS_SWITCH) {
		if (!member_str(c, body, "to", &rq.stack))
			goto out;
		v = body != NULL ? json_object_get(body, "force") : NULL;
		if (v != NULL && !json_is_boolean(v)) {
			api_reply_error(c, 400, "body: \"force\" must be true or"
			    " false");
			goto out;
		}
		rq.force = v != NULL && json_is_true(v);
		/* {"cancel": true}: withdraw a request not taken yet. */
		v = body != NULL ? json_object_get(body, "cancel") : NULL;
		if (v != NULL && !json_is_boolean(v)) {
			api_reply_error(c, 400, "body: \"cancel\" must be true or"
			    " false");
			goto out;
		}
		if (v != NULL && json_is_true(v))
			rq.verb = OPS_CANCEL;
	} else if (verb == OPS_PIN) {
		if (!member_str(c, body, "stack", &rq.stack))
			goto out;
		if (rq.stack == NULL) {
			api_reply_error(c, 400, "body: pin needs {\"stack\":"
			    " \"NAME\"}");
			goto out;
		}
	}
	/* The actor: the peer's address (the port is noise). */
	api_peer_of(c->req, peer, sizeof(peer));
	if ((colon = strrchr(peer, ':')) != NULL)
		*colon = '\0';
	snprintf(actor, sizeof(actor), "api:%.*s", ENG_ACTOR_MAX - 5, peer);
	rq.actor = actor;
	memset(&rp, 0, sizeof(rp));
	/* In a cluster a member that does not lead gives it to the leader. */
	if (c->a->h.command != NULL && api_cmd_remote(c, &rq, &rp) != 1)
		goto out;
	ops_command(c->a->h.store, (*c->a->h.cfg), &rq, clock_wall_ms(), &rp);
	code = api_outcome_status(rp.outcome);
	if (code != 200) {
		out = json_pack("{s:s, s:s, s:i}", "error", rp.message,
		    "reason", rp.reason, "status", code);
		log_info("api_command_refused", "group=%s cmd=%s stack=%s"
		    " force=%d http_status=%d reason=%s detail=%s peer=%s",
		    log_q(rq.group), ops_verb_name(rq.verb), log_q(rq.stack),
		    rq.force, code, log_q(rp.reason), log_q(rp.message),
		    log_q(api_peer_of(c->req, peer, sizeof(peer))));
	} else {
		out = json_pack("{s:b, s:s, s:s, s:s}", "ok", 1, "group",
		    rq.group, "command", ops_verb_name(rq.verb), "message",
		    rp.message);
		if (out != NULL && rq.verb == OPS_SWITCH) {
			json_object_set_new(out, "request_id",
			    json_integer((json_int_t)rp.request_id));
			json_object_set_new(out, "history_seq",
			    json_integer((json_int_t)rp.history_seq));
			json_object_set_new(out, "nswitch",
			    json_integer(rp.nswitch));
		}
		log_info("api_command", "group=%s cmd=%s stack=%s force=%d"
		    " peer=%s", log_q(rq.group), ops_verb_name(rq.verb),
		    log_q(rq.stack), rq.force,
		    log_q(api_peer_of(c->req, peer, sizeof(peer))));
		/*
		 * The flags are in the store, where the daemon polls them;
		 * poll now rather than at the next tick, so the command is
		 * in force by the next loop turn.
		 */
		if (!*c->a->h.stopping)
			c->a->h.flags_changed(c->a->h.arg);
	}
	api_reply_json(c, code, out);
out:
	json_decref(body);
}
