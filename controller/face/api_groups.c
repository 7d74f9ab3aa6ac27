/*
 * api_groups.c - groups made at run time: POST /v1/groups, PATCH and
 * DELETE /v1/groups/NAME, through ops_group.h (shared with failoverctl
 * group).  The configuration file's groups are read-only here (409).
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

#include <event2/http.h>
#include <jansson.h>

#include "controller/base/clock.h"
#include "controller/base/log.h"

/* ---- groups made at run time: POST, PATCH, DELETE (ops_group.h) ---- */

/*
 * The body of POST /v1/groups (add) or PATCH /v1/groups/NAME into sp,
 * its strings borrowed from *out (caller decrefs).  false: 400 sent.
 */
static bool
group_body(struct call *c, bool add, struct ops_group_spec *sp, json_t **out,
    char *ttlbuf, size_t ttllen)
{
	const char *key;
	json_t *o, *v;
	bool bad;

	if ((*out = o = api_body_json(c, &bad)) == NULL) {
		if (!bad)
			api_reply_error(c, 400, "body: a JSON object is needed");
		return false;
	}
	json_object_foreach(o, key, v) {
		const char **slot = NULL;
		bool *set = NULL;

		if (add && strcmp(key, "name") == 0)
			slot = &sp->name;
		else if (strcmp(key, "address") == 0)
			slot = &sp->address;
		else if (strcmp(key, "primary") == 0) {
			slot = &sp->primary;
			set = &sp->set_primary;
		} else if (strcmp(key, "backup") == 0) {
			slot = &sp->backup;
			set = &sp->set_backup;
		} else if (strcmp(key, "ttl") == 0) {
			sp->set_ttl = true;
			if (json_is_integer(v) && json_integer_value(v) > 0 &&
			    json_integer_value(v) <= 2147483647) {
				snprintf(ttlbuf, ttllen, "%llds", (long long)
				    json_integer_value(v));
				sp->ttl = ttlbuf;
				continue;
			}
			slot = &sp->ttl;
		} else {
			api_reply_error(c, 400, "body: unknown member \"%.64s\""
			    " (%s)", key, add ? "name, address, primary,"
			    " backup, ttl" : "primary, backup, ttl");
			return false;
		}
		if (set != NULL)
			*set = true;
		if (json_is_null(v) && (set != NULL || slot == &sp->address))
			continue;		/* none; an address: auto */
		if (!json_is_string(v) || json_string_length(v) == 0 ||
		    strlen(json_string_value(v)) != json_string_length(v)) {
			api_reply_error(c, 400, "body: \"%s\" must be a%s string",
			    key, set != NULL ? " stack name or null:" : "");
			return false;
		}
		*slot = json_string_value(v);
	}
	if (add && sp->name == NULL) {
		api_reply_error(c, 400, "body: \"name\" is required");
		return false;
	}
	if (add && sp->address != NULL && strcmp(sp->address, "") == 0)
		sp->address = NULL;
	return true;
}

/* The actor of a request: "api:" and the peer's address. */
static void
call_actor(struct call *c, char *actor, size_t len)
{
	char peer[80], *colon;

	api_peer_of(c->req, peer, sizeof(peer));
	if ((colon = strrchr(peer, ':')) != NULL)
		*colon = '\0';
	snprintf(actor, len, "api:%.*s", (int)(len > 5 ? len - 5 : 0), peer);
}

/* A refusal of ops_group_*: its status, error and reason. */
static void
group_refused(struct call *c, const char *verb, const char *group,
    const struct ops_reply *rp)
{
	int code = api_outcome_status(rp->outcome);

	log_info("api_group_refused", "group=%s cmd=%s status=%d reason=%s"
	    " detail=%s", log_q(group), verb, code, log_q(rp->reason),
	    log_q(rp->message));
	api_reply_json(c, code, json_pack("{s:s, s:s, s:i}", "error", rp->message,
	    "reason", rp->reason, "status", code));
}

/* Done: take it in, then answer with the group as it is now. */
static void
group_done(struct call *c, int code, const char *verb, const char *group,
    const struct ops_reply *rp)
{
	json_t *v = NULL;
	char err[256] = "";

	log_info("api_group", "group=%s cmd=%s", log_q(group), verb);
	if (!*c->a->h.stopping)
		c->a->h.groups_changed(c->a->h.arg);
	if (ops_status(c->a->h.store, (*c->a->h.cfg), group, &v, err,
	    sizeof(err)) != 0 || v == NULL) {
		/* In the store, not in force (see the daemon's log). */
		v = json_object();
		json_object_set_new(v, "name", json_string(group));
	} else
		api_live_fields(c->a, v);
	json_object_set_new(v, "message", json_string(rp->message));
	api_reply_json(c, code, v);
}

void
api_h_group_add(struct call *c)
{
	struct ops_group_spec sp;
	struct ops_reply rp;
	json_t *body = NULL;
	char actor[ENG_ACTOR_MAX], ttl[32];

	if (!api_have_store(c))
		return;
	memset(&sp, 0, sizeof(sp));
	if (!group_body(c, true, &sp, &body, ttl, sizeof(ttl)))
		goto out;
	call_actor(c, actor, sizeof(actor));
	sp.actor = actor;
	if (api_group_remote(c, OPS_RGROUP_ADD, &sp) != 1)
		goto out;
	if (ops_group_add(c->a->h.store, (*c->a->h.cfg), &sp, clock_wall_ms(),
	    &rp) != 0)
		group_refused(c, "add", sp.name, &rp);
	else
		group_done(c, 201, "add", sp.name, &rp);
out:
	json_decref(body);
}

void
api_h_group_set(struct call *c)
{
	struct ops_group_spec sp;
	struct ops_reply rp;
	json_t *body = NULL;
	char actor[ENG_ACTOR_MAX], ttl[32];

	if (!api_have_store(c))
		return;
	memset(&sp, 0, sizeof(sp));
	if (!group_body(c, false, &sp, &body, ttl, sizeof(ttl)))
		goto out;
	sp.name = c->seg[2];
	call_actor(c, actor, sizeof(actor));
	sp.actor = actor;
	if (api_group_remote(c, OPS_RGROUP_SET, &sp) != 1)
		goto out;
	if (ops_group_set(c->a->h.store, (*c->a->h.cfg), &sp, clock_wall_ms(),
	    &rp) != 0)
		group_refused(c, "set", sp.name, &rp);
	else
		group_done(c, 200, "set", sp.name, &rp);
out:
	json_decref(body);
}

void
api_h_group_del(struct call *c)
{
	struct ops_reply rp;
	char actor[ENG_ACTOR_MAX], addr[600];

	if (!api_have_store(c))
		return;
	call_actor(c, actor, sizeof(actor));
	{
		struct ops_group_spec sp = { .name = c->seg[2],
		    .actor = actor };

		if (api_group_remote(c, OPS_RGROUP_DELETE, &sp) != 1)
			return;
	}
	if (ops_group_remove(c->a->h.store, (*c->a->h.cfg), c->seg[2], false,
	    actor, clock_wall_ms(), addr, sizeof(addr), &rp) != 0) {
		group_refused(c, "delete", c->seg[2], &rp);
		return;
	}
	/* The daemon lets go of the group, then its state goes. */
	if (!*c->a->h.stopping)
		c->a->h.groups_changed(c->a->h.arg);
	if (addr[0] != '\0' && ops_group_delete(c->a->h.store, (*c->a->h.cfg),
	    c->seg[2], addr, clock_wall_ms(), &rp) != 0) {
		api_reply_error(c, 500, "%s: no longer defined, but %s",
		    c->seg[2], rp.message);
		return;
	}
	log_info("api_group", "group=%s cmd=delete address=%s",
	    log_q(c->seg[2]), log_q(addr));
	api_log_reply(c, 204, NULL);
	evhttp_send_reply(c->req, 204, "No Content", NULL);
}
