/*
 * ops.c - the operator commands over the store: judge with the engine's
 * eng_cmd_check(), write override flags, plan a switch, delete a group.
 * What operators read (groups, stacks, the history as JSON) is in
 * ops_query.c.  Shared by failoverctl and the HTTP API.
 *
 * What ops believes about the world is what the daemon committed: the
 * group state blob (the engine's state after its last step), the health
 * meta records "health/<stack>" = {"state":"up","since_ms":N,"reason":".."}
 * written on every change, and the flags.  The flags are the operator's
 * wishes and win over the engine's state for the levels (paused, pinned):
 * the daemon makes the engine follow them within one interval, so a
 * command is judged as if they were already applied.
 *
 * XXX: while the daemon is stopped the health records are those of its
 * last run (stale, "since" tells how old); `switch --force` is the way
 * past a target that is not known to be up.
 */
#include "controller/face/ops.h"
#include "controller/face/ops_int.h"

#include <sys/types.h>

#include <errno.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "controller/core/engine_codec.h"

#define HEALTH_KEY_MAX	(STORE_NAME_MAX + 16)

static bool	 addr_find_cb(const char *, const struct store_addr *, void *);
static void	 flags_overlay(struct eng_group *, const struct config *,
		    const struct store_flags *);
static void	 reply_set(struct ops_reply *, enum ops_outcome, const char *,
		    const char *, ...) __attribute__((format(printf, 4, 5)));
static void	 set_actor(char *, const char *);

static const char *const verb_names[] = {
	[OPS_PAUSE] = "pause",
	[OPS_RESUME] = "resume",
	[OPS_PIN] = "pin",
	[OPS_UNPIN] = "unpin",
	[OPS_REARM] = "rearm",
	[OPS_SWITCH] = "switch",
	[OPS_CANCEL] = "cancel",
};

const char *
ops_verb_name(enum ops_verb v)
{
	if ((unsigned)v >= sizeof(verb_names) / sizeof(verb_names[0]))
		return NULL;
	return verb_names[v];
}

int
ops_verb_parse(const char *s)
{
	for (size_t i = 0; i < sizeof(verb_names) / sizeof(verb_names[0]); i++)
		if (strcmp(s, verb_names[i]) == 0)
			return (int)i;
	return -1;
}

const char *
ops_strerror(int err)
{
	switch (err) {
	case OPS_OK:		return "ok";
	case OPS_E_NOTFOUND:	return "not found";
	case OPS_E_STORE:	return "the store could not be read or written";
	case OPS_E_NOMEM:	return "out of memory";
	case OPS_E_INVAL:	return "invalid argument";
	case OPS_E_STATE:	return "a stored group state does not decode";
	}
	return "unknown error";
}

static void
reply_set(struct ops_reply *r, enum ops_outcome o, const char *reason,
    const char *fmt, ...)
{
	va_list ap;

	r->outcome = o;
	r->code = o == OPS_DONE ? 0 : 1;
	snprintf(r->reason, sizeof(r->reason), "%s", reason);
	va_start(ap, fmt);
	vsnprintf(r->message, sizeof(r->message), fmt, ap);
	va_end(ap);
}

int
ops_group_index(const struct config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->ngroup; i++)
		if (strcmp(cfg->groups[i].name, name) == 0)
			return (int)i;
	return -1;
}

static const char *
sname(const struct config *cfg, int s)
{
	return s >= 0 && (size_t)s < cfg->nstack ? cfg->stacks[s].name : "-";
}

/*
 * Fill h[] (cfg->nstack entries, for eng_world) and oh[] from the meta
 * records.  A stack without a record is unknown.
 */
int
ops_health_read(struct store_txn *txn, const struct config *cfg,
    struct health *h, struct ops_health *oh)
{
	for (size_t s = 0; s < cfg->nstack; s++) {
		const struct cfg_stack *cs = &cfg->stacks[s];
		char key[HEALTH_KEY_MAX];
		const void *val;
		size_t len;
		json_t *j;

		health_init(&h[s], cs->rise, cs->fall, 0);
		memset(&oh[s], 0, sizeof(oh[s]));
		snprintf(oh[s].state, sizeof(oh[s].state), "unknown");
		snprintf(key, sizeof(key), "health/%s", cs->name);
		if (!store_meta_get(txn, key, &val, &len))
			continue;
		j = json_loadb(val, len, 0, NULL);
		if (j == NULL)
			continue;
		const char *state = json_string_value(json_object_get(j,
		    "state"));
		const char *reason = json_string_value(json_object_get(j,
		    "reason"));
		json_t *since = json_object_get(j, "since_ms");

		oh[s].known = true;
		if (state != NULL)
			snprintf(oh[s].state, sizeof(oh[s].state), "%s", state);
		if (reason != NULL)
			snprintf(oh[s].reason, sizeof(oh[s].reason), "%s",
			    reason);
		if (json_is_integer(since))
			oh[s].since_ms = json_integer_value(since);
		h[s].since_ms = oh[s].since_ms;
		if (strcmp(oh[s].state, "up") == 0)
			h[s].state = HEALTH_UP;
		else if (strcmp(oh[s].state, "down") == 0)
			h[s].state = HEALTH_DOWN;
		json_decref(j);
	}
	return txn->err;
}

int
ops_state_read(struct store_txn *txn, const struct config *cfg, int gi,
    struct eng_group *g, bool *stored, char *err, size_t errlen)
{
	const void *blob;
	size_t len;
	int rc;

	*stored = false;
	if (!store_group_get(txn, cfg->groups[gi].name, &blob, &len)) {
		if (txn->err != 0) {
			snprintf(err, errlen, "%s: %s", store_errname(txn->err),
			    txn->detail);
			return OPS_E_STORE;
		}
		if (eng_group_init(g, cfg, gi, false) != 0) {
			snprintf(err, errlen, "cannot initialise group %s",
			    cfg->groups[gi].name);
			return OPS_E_INVAL;
		}
		return 0;
	}
	rc = eng_group_decode(blob, len, cfg, g, err, errlen);
	if (rc < 0)
		return OPS_E_STATE;
	*stored = true;
	return 0;
}

/* Judge as if the daemon had already applied the levels of the flags. */
static void
flags_overlay(struct eng_group *g, const struct config *cfg,
    const struct store_flags *f)
{
	int pin;

	g->paused = f->paused;
	pin = f->pinned[0] != '\0' ? config_stack_index(cfg, f->pinned) : -1;
	if (f->pinned[0] == '\0' || pin >= 0)
		g->pinned = pin < 0 ? ENG_NONE : pin;
}

/* A read transaction, or OPS_E_STORE with the store's error in err. */
int
ops_txn_read(struct store *st, struct store_txn *txn, char *err, size_t errlen)
{
	if (store_txn_begin(st, false, txn) == 0)
		return 0;
	snprintf(err, errlen, "%s: %s", store_errname(txn->err), txn->detail);
	store_txn_abort(txn);
	return OPS_E_STORE;
}

int
ops_group_state(struct store *st, const struct config *cfg, const char *group,
    struct eng_group *g, bool *stored, char *err, size_t errlen)
{
	struct store_txn txn;
	int gi, rc;

	if ((gi = ops_group_index(cfg, group)) < 0) {
		snprintf(err, errlen, "unknown group %s", group);
		return OPS_E_NOTFOUND;
	}
	if ((rc = ops_txn_read(st, &txn, err, errlen)) != 0)
		return rc;
	rc = ops_state_read(&txn, cfg, gi, g, stored, err, errlen);
	store_txn_abort(&txn);
	return rc;
}

/* ---- commands ---- */

static enum eng_cmd_kind
verb_cmd(enum ops_verb v)
{
	switch (v) {
	case OPS_PAUSE:		return ENG_CMD_PAUSE;
	case OPS_RESUME:	return ENG_CMD_RESUME;
	case OPS_PIN:		return ENG_CMD_PIN;
	case OPS_UNPIN:		return ENG_CMD_UNPIN;
	case OPS_REARM:		return ENG_CMD_REARM;
	case OPS_SWITCH:	return ENG_CMD_SWITCH;
	case OPS_CANCEL:	return ENG_CMD_SWITCH;
	}
	return ENG_CMD_PAUSE;
}

/*
 * Judge one group's command inside txn (read or write).  On acceptance
 * *f holds the group's flags as they should be written.  Returns
 * reply->code.
 */
static int
judge(struct store_txn *txn, const struct config *cfg, int gi,
    const struct ops_request *req, const struct health *h,
    struct store_flags *f, struct eng_group *g, int64_t now_ms,
    struct ops_reply *reply)
{
	const char *gname = cfg->groups[gi].name;
	struct eng_world w = { .cfg = cfg, .health = h };
	struct eng_cmd cmd = { .kind = verb_cmd(req->verb), .stack = ENG_NONE,
	    .force = req->force };
	char err[256];
	bool stored, state_paused;
	int r;

	if (ops_state_read(txn, cfg, gi, g, &stored, err, sizeof(err)) != 0) {
		reply_set(reply, OPS_FAILED, "state", "%s: %s", gname, err);
		return 1;
	}
	state_paused = g->paused;	/* as the daemon's engine has it */
	store_flags_get(txn, gname, f);
	if (txn->err != 0) {
		reply_set(reply, OPS_FAILED, "store", "%s: %s: %s", gname,
		    store_errname(txn->err), txn->detail);
		return 1;
	}
	flags_overlay(g, cfg, f);
	if (req->stack != NULL && (req->verb == OPS_PIN ||
	    req->verb == OPS_SWITCH)) {
		cmd.stack = config_stack_index(cfg, req->stack);
		if (cmd.stack < 0) {
			reply_set(reply, OPS_UNKNOWN, "unknown_stack",
			    "unknown stack %s", req->stack);
			return 1;
		}
	}
	if (req->verb == OPS_PIN && req->stack == NULL) {
		reply_set(reply, OPS_BAD_REQUEST, "usage",
		    "pin needs a stack");
		return 1;
	}
	if (req->verb == OPS_SWITCH && f->switch_requested) {
		reply_set(reply, OPS_REFUSED, "switch_pending",
		    "%s: a switch was already requested and has not started"
		    " yet (failoverctl switch %s --cancel withdraws it)", gname,
		    gname);
		return 1;
	}
	if (req->verb == OPS_CANCEL) {
		if (!f->switch_requested) {
			reply_set(reply, OPS_REFUSED, "no_request",
			    "%s: no switch request is pending (one that"
			    " failoverd took has started: see failoverctl"
			    " status %s)", gname, gname);
			return 1;
		}
		f->switch_requested = false;
		return 0;
	}
	r = eng_cmd_check(g, &w, &cmd);
	if (r == ENG_REFUSE_DNS_UNUSABLE) {
		/* The gate and the server's reason: what to fix. */
		reply_set(reply, OPS_REFUSED, eng_refusal_name(r),
		    "%s: refused by the gate dns_unusable (reason=%s): %s",
		    gname, eng_dns_unusable(g), eng_refusal_str(r));
		return 1;
	}
	if (r != ENG_OK) {
		reply_set(reply, OPS_REFUSED, eng_refusal_name(r), "%s: %s",
		    gname, eng_refusal_str(r));
		return 1;
	}
	switch (req->verb) {
	case OPS_PAUSE:
		f->paused = true;
		set_actor(f->actor, req->actor);
		break;
	case OPS_RESUME:
		f->paused = false;
		set_actor(f->actor, req->actor);
		/*
		 * The daemon feeds a level only when it changes: a failed
		 * group that was not paused is cleared by a rearm request,
		 * which the engine treats alike (failed_state_cleared).  A
		 * paused one is cleared by the RESUME itself: a rearm request
		 * as well would be refused (nothing_to_rearm) once it is.
		 */
		if (g->status == ENG_FAILED && !state_paused) {
			f->rearm_requested = true;
			f->rearm_requested_ms = now_ms;
			set_actor(f->rearm_actor, req->actor);
		}
		break;
	case OPS_PIN:
		snprintf(f->pinned, sizeof(f->pinned), "%s", req->stack);
		set_actor(f->actor, req->actor);
		break;
	case OPS_UNPIN:
		f->pinned[0] = '\0';
		set_actor(f->actor, req->actor);
		break;
	case OPS_REARM:
		f->rearm_requested = true;
		f->rearm_requested_ms = now_ms;
		set_actor(f->rearm_actor, req->actor);
		break;
	case OPS_SWITCH:
		f->switch_requested = true;
		snprintf(f->switch_to, sizeof(f->switch_to), "%s",
		    req->stack != NULL ? req->stack : "");
		f->switch_force = req->force;
		f->switch_requested_ms = now_ms;
		set_actor(f->switch_actor, req->actor);
		break;
	case OPS_CANCEL:
		break;
	}
	return 0;
}

void
ops_actor_self(char *buf, size_t len)
{
	struct passwd pw, *res = NULL;
	char pbuf[1024];
	uid_t uid = getuid();

	if (getpwuid_r(uid, &pw, pbuf, sizeof(pbuf), &res) == 0 &&
	    res != NULL && res->pw_name != NULL)
		snprintf(buf, len, "uid:%s", res->pw_name);
	else
		snprintf(buf, len, "uid:%ld", (long)uid);
}

static void
set_actor(char *dst, const char *actor)
{
	snprintf(dst, STORE_FLAG_NAME_MAX, "%s", actor != NULL ? actor : "");
}

/*
 * The operator's command in the history, in the same transaction as the
 * flags it wrote (or its refusal): who asked what, when.  The payload has
 * the shape of the daemon's records.
 */
static void
command_record(struct store_txn *txn, const struct config *cfg, int gi,
    const struct ops_request *req, const char *event, const char *reason,
    const struct store_flags *before, uint64_t request_id, int64_t now_ms)
{
	const char *gname = cfg->groups[gi].name;
	json_t *o = json_object();
	char *payload, buf[32];

	if (o == NULL)
		return;
	json_object_set_new(o, "level", json_string(reason != NULL ||
	    req->verb == OPS_CANCEL ? "warn" : "info"));
	json_object_set_new(o, "group", json_string(gname));
	json_object_set_new(o, "cmd", json_string(req->verb == OPS_CANCEL ?
	    "switch" : ops_verb_name(req->verb)));
	if (req->stack != NULL)
		json_object_set_new(o, "stack", json_string(req->stack));
	else if (req->verb == OPS_CANCEL && before->switch_to[0] != '\0')
		json_object_set_new(o, "stack", json_string(before->switch_to));
	if (req->verb == OPS_SWITCH)
		json_object_set_new(o, "force", json_string(req->force ?
		    "yes" : "no"));
	if (reason != NULL)
		json_object_set_new(o, "reason", json_string(reason));
	if (request_id != 0) {
		snprintf(buf, sizeof(buf), "%" PRIu64, request_id);
		json_object_set_new(o, "request", json_string(buf));
	}
	if (req->verb == OPS_CANCEL && before->switch_actor[0] != '\0')
		json_object_set_new(o, "requested_by",
		    json_string(before->switch_actor));
	json_object_set_new(o, "actor", json_string(req->actor != NULL ?
	    req->actor : "unknown"));
	payload = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	store_history_append(txn, now_ms, gname, event,
	    payload != NULL ? payload : "{}", NULL);
	free(payload);
}

int
ops_command(struct store *st, const struct config *cfg,
    const struct ops_request *req, int64_t now_ms, struct ops_reply *reply)
{
	struct store_txn txn;
	struct health *h = NULL;
	struct ops_health *oh = NULL;
	struct store_flags f;
	struct eng_group g;
	size_t first, last, ndone = 0;
	int gi;

	memset(reply, 0, sizeof(*reply));
	memset(&txn, 0, sizeof(txn));
	if (ops_verb_name(req->verb) == NULL) {
		reply_set(reply, OPS_BAD_REQUEST, "usage", "unknown command");
		return 1;
	}
	if (req->group == NULL && req->verb != OPS_PAUSE &&
	    req->verb != OPS_RESUME) {
		reply_set(reply, OPS_BAD_REQUEST, "usage",
		    "%s needs a group", ops_verb_name(req->verb));
		return 1;
	}
	if (req->group != NULL) {
		if ((gi = ops_group_index(cfg, req->group)) < 0) {
			reply_set(reply, OPS_UNKNOWN, "unknown_group",
			    "unknown group %s", req->group);
			return 1;
		}
		first = (size_t)gi;
		last = first + 1;
	} else {
		first = 0;
		last = cfg->ngroup;
	}
	h = calloc(cfg->nstack + 1, sizeof(*h));
	oh = calloc(cfg->nstack + 1, sizeof(*oh));
	if (h == NULL || oh == NULL) {
		reply_set(reply, OPS_FAILED, "nomem", "out of memory");
		goto out;
	}
	/*
	 * One write transaction: the check and the write are atomic against
	 * the daemon and other operators.  Nothing in it waits.
	 */
	if (store_txn_begin(st, true, &txn) != 0) {
		reply_set(reply, OPS_FAILED, "store", "store: %s: %s",
		    store_errname(txn.err), txn.detail);
		goto out;
	}
	ops_health_read(&txn, cfg, h, oh);
	reply->history_seq = store_history_last(&txn);
	for (size_t i = first; i < last; i++) {
		struct store_flags before;

		if (judge(&txn, cfg, (int)i, req, h, &f, &g, now_ms,
		    reply) != 0) {
			/* --all: a group that refuses does not stop the rest. */
			if (req->group == NULL &&
			    reply->outcome == OPS_REFUSED)
				continue;
			if (reply->outcome != OPS_REFUSED) {
				store_txn_abort(&txn);
				goto out;
			}
			/* Refused by the rules: say who tried, then stop. */
			command_record(&txn, cfg, (int)i, req,
			    "command_refused", reply->reason, &f, 0, now_ms);
			if (store_txn_commit(&txn) != 0)
				reply_set(reply, OPS_FAILED, "store",
				    "store: %s: %s", store_errname(txn.err),
				    txn.detail);
			goto out;
		}
		store_flags_get(&txn, cfg->groups[i].name, &before);
		if (req->verb == OPS_SWITCH) {
			uint64_t id = f.switch_request_id + 1;

			if (id < (uint64_t)now_ms)
				id = (uint64_t)now_ms;
			f.switch_request_id = id;
			reply->request_id = id;
			reply->nswitch = g.nswitch;
		}
		if (req->verb == OPS_CANCEL)
			reply->request_id = f.switch_request_id;
		f.updated_ms = now_ms;
		store_flags_put(&txn, cfg->groups[i].name, &f);
		command_record(&txn, cfg, (int)i, req, req->verb ==
		    OPS_CANCEL ? "request_cancelled" : "command", NULL,
		    &before, req->verb == OPS_SWITCH || req->verb ==
		    OPS_CANCEL ? reply->request_id : 0, now_ms);
		ndone++;
	}
	if (store_txn_commit(&txn) != 0) {
		reply_set(reply, OPS_FAILED, "store", "store: %s: %s",
		    store_errname(txn.err), txn.detail);
		goto out;
	}
	if (req->group == NULL) {
		reply_set(reply, OPS_DONE, "", "%s: %zu of %zu groups",
		    req->verb == OPS_PAUSE ? "paused" : "resumed", ndone,
		    cfg->ngroup);
		goto out;
	}
	switch (req->verb) {
	case OPS_PAUSE:
		reply_set(reply, OPS_DONE, "", "%s: paused", req->group);
		break;
	case OPS_RESUME:
		reply_set(reply, OPS_DONE, "", "%s: resumed%s", req->group,
		    g.status == ENG_FAILED ? "; failed state cleared" : "");
		break;
	case OPS_PIN:
		reply_set(reply, OPS_DONE, "", "%s: pinned to %s", req->group,
		    req->stack);
		break;
	case OPS_UNPIN:
		reply_set(reply, OPS_DONE, "", "%s: unpinned", req->group);
		break;
	case OPS_REARM:
		reply_set(reply, OPS_DONE, "", "%s: rearm requested",
		    req->group);
		break;
	case OPS_SWITCH:
		reply_set(reply, OPS_DONE, "", "%s: switch to %s requested"
		    " (request %" PRIu64 ")", req->group, req->stack != NULL ?
		    req->stack : sname(cfg, g.standby), reply->request_id);
		break;
	case OPS_CANCEL:
		reply_set(reply, OPS_DONE, "", "%s: switch request %" PRIu64
		    " withdrawn; nothing ran", req->group, reply->request_id);
		break;
	}
out:
	free(h);
	free(oh);
	return reply->code;
}

/*
 * The plan of a switch, judged like ops_command without writing: the one
 * plan behind failoverctl switch and the API's GET .../plan.  Returns
 * reply->code; *gi is the group's index.
 */
static int
plan_make(struct store *st, const struct config *cfg, const char *group,
    const char *to, bool force, struct eng_plan *plan, int *gi,
    struct ops_reply *reply)
{
	struct ops_request req = { .verb = OPS_SWITCH, .group = group,
	    .stack = to, .force = force };
	struct store_txn txn;
	struct health *h = NULL;
	struct ops_health *oh = NULL;
	struct store_flags f;
	struct eng_group g;
	struct eng_world w = { .cfg = cfg };
	struct eng_cmd cmd = { .kind = ENG_CMD_SWITCH, .stack = ENG_NONE,
	    .force = force };

	memset(reply, 0, sizeof(*reply));
	memset(plan, 0, sizeof(*plan));
	if (group == NULL || (*gi = ops_group_index(cfg, group)) < 0) {
		reply_set(reply, OPS_UNKNOWN, "unknown_group",
		    "unknown group %s", group ? group : "(none)");
		return 1;
	}
	h = calloc(cfg->nstack + 1, sizeof(*h));
	oh = calloc(cfg->nstack + 1, sizeof(*oh));
	if (h == NULL || oh == NULL) {
		reply_set(reply, OPS_FAILED, "nomem", "out of memory");
		goto out;
	}
	if (store_txn_begin(st, false, &txn) != 0) {
		reply_set(reply, OPS_FAILED, "store", "store: %s: %s",
		    store_errname(txn.err), txn.detail);
		store_txn_abort(&txn);
		goto out;
	}
	ops_health_read(&txn, cfg, h, oh);
	if (judge(&txn, cfg, *gi, &req, h, &f, &g, 0, reply) != 0) {
		store_txn_abort(&txn);
		goto out;
	}
	store_txn_abort(&txn);
	w.health = h;
	if (to != NULL)
		cmd.stack = config_stack_index(cfg, to);
	eng_switch_plan(&g, &w, &cmd, plan);
	reply_set(reply, OPS_DONE, "", "%s: switch from %s to %s", group,
	    sname(cfg, plan->from), sname(cfg, plan->to));
out:
	free(h);
	free(oh);
	return reply->code;
}

/* What every switch leaves behind (the engine ends it in wait_rearm). */
static void
plan_after(const char *group, char *buf, size_t len)
{
	snprintf(buf, len, "then %s waits for rearm: no automatic failover"
	    " until failoverctl rearm %s", group, group);
}

int
ops_switch_plan(struct store *st, const struct config *cfg, const char *group,
    const char *to, bool force, char *buf, size_t len,
    struct ops_reply *reply)
{
	struct eng_plan plan;
	char after[600];
	size_t at;
	int gi;

	if (len > 0)
		buf[0] = '\0';
	if (plan_make(st, cfg, group, to, force, &plan, &gi, reply) != 0)
		return reply->code;
	at = eng_plan_format(&plan, cfg, gi, buf, len);
	plan_after(group, after, sizeof(after));
	if (at < len)
		snprintf(buf + at, len - at, "  %s\n", after);
	return reply->code;
}

/* A stack's records as the plan shows them; null for no stack. */
static json_t *
webhead_json(const struct config *cfg, int s)
{
	const struct cfg_webhead *wh;
	char buf[1024];
	size_t at = 0;

	if (s < 0 || (size_t)s >= cfg->nstack)
		return json_null();
	wh = &cfg->stacks[s].web_head;
	if (wh->is_name)
		return json_sprintf("CNAME %s", wh->name != NULL ? wh->name :
		    "-");
	buf[0] = '\0';
	for (size_t i = 0; i < wh->naddr && at < sizeof(buf); i++)
		at += (size_t)snprintf(buf + at, sizeof(buf) - at, "%s%s",
		    i ? " " : "", wh->addrs[i]);
	return json_string(buf);
}

static json_t *
hook_json(const struct cfg_hook *hk)
{
	json_t *a;

	if (hk == NULL)
		return json_null();
	if ((a = json_array()) == NULL)
		return NULL;
	for (int j = 0; j < hk->argc; j++)
		json_array_append_new(a, json_string(hk->argv[j]));
	return a;
}

int
ops_switch_plan_json(struct store *st, const struct config *cfg,
    const char *group, const char *to, bool force, json_t **out,
    struct ops_reply *reply)
{
	struct eng_plan plan;
	char text[4096], after[600];
	json_t *o = NULL, *steps;
	size_t at;
	int gi;

	*out = NULL;
	if (plan_make(st, cfg, group, to, force, &plan, &gi, reply) != 0)
		return reply->code;
	at = eng_plan_format(&plan, cfg, gi, text, sizeof(text));
	plan_after(group, after, sizeof(after));
	if (at < sizeof(text))
		snprintf(text + at, sizeof(text) - at, "  %s\n", after);
	steps = json_array();
	o = json_pack("{s:s, s:s?, s:s?, s:b, s:s?, s:o, s:{s:s?, s:o, s:o,"
	    " s:i}, s:{s:b, s:s?, s:o}, s:s, s:s}",
	    "group", group,
	    "from", plan.from >= 0 ? sname(cfg, plan.from) : NULL,
	    "to", plan.to >= 0 ? sname(cfg, plan.to) : NULL,
	    "force", plan.force,
	    "refused", plan.refusal != ENG_OK ?
	    eng_refusal_str(plan.refusal) : NULL,
	    "steps", steps != NULL ? json_incref(steps) : json_null(),
	    "dns", "name", cfg->groups[gi].address,
	    "from", webhead_json(cfg, plan.from),
	    "to", webhead_json(cfg, plan.to),
	    "ttl", (int)plan.ttl,
	    "restore", "enabled", plan.restore_on && plan.step[0].hook != NULL,
	    "stack", sname(cfg, plan.from),
	    "command", hook_json(plan.restore.hook),
	    "after", after,
	    "text", text);
	for (int i = 0; o != NULL && steps != NULL && i < ENG_NPHASE_HOOK;
	    i++) {
		const struct eng_plan_step *ps = &plan.step[i];

		json_array_append_new(steps, json_pack("{s:s, s:s, s:o}",
		    "phase", eng_phase_name(ps->phase), "stack",
		    sname(cfg, ps->stack), "command", hook_json(ps->hook)));
	}
	json_decref(steps);
	if (o == NULL) {
		reply_set(reply, OPS_FAILED, "nomem", "out of memory");
		return reply->code;
	}
	/* The address a group with address = auto has been given. */
	if (cfg->groups[gi].address == NULL) {
		char name[256];

		if (ops_group_address(st, cfg, group, name, sizeof(name)) == 0)
			json_object_set_new(json_object_get(o, "dns"), "name",
			    json_string(name));
	}
	*out = o;
	return 0;
}

/* ---- addresses ---- */

struct addr_find {
	const char	*group;
	char		 label[STORE_NAME_MAX + 1];
};

static bool
addr_find_cb(const char *addr, const struct store_addr *a, void *arg)
{
	struct addr_find *f = arg;

	if (a->state == STORE_ADDR_ALLOCATED && strcmp(a->group, f->group) == 0) {
		snprintf(f->label, sizeof(f->label), "%s", addr);
		return false;
	}
	return true;
}

int
ops_address_in(struct store_txn *txn, const struct config *cfg, const char *group,
    char *buf, size_t len)
{
	const struct cfg_group *cg = config_group_find(cfg, group);
	struct addr_find f = { .group = group };

	if (cg != NULL && !cg->address_auto && cg->address != NULL) {
		snprintf(buf, len, "%s", cg->address);
		return 0;
	}
	store_addr_foreach(txn, addr_find_cb, &f);
	if (f.label[0] == '\0')
		return OPS_E_NOTFOUND;
	snprintf(buf, len, "%s.%s", f.label, cfg->dns.zone ? cfg->dns.zone :
	    "");
	return 0;
}

int
ops_group_address(struct store *st, const struct config *cfg,
    const char *group, char *buf, size_t len)
{
	struct store_txn txn;
	int rc;

	if (len > 0)
		buf[0] = '\0';
	if (store_txn_begin(st, false, &txn) != 0) {
		store_txn_abort(&txn);
		return OPS_E_STORE;
	}
	rc = ops_address_in(&txn, cfg, group, buf, len);
	store_txn_abort(&txn);
	return rc;
}

/* ---- group delete ---- */

int
ops_group_delete_check(struct store *st, const struct config *cfg,
    const char *group, char *addr, size_t addrlen, struct ops_reply *reply)
{
	const struct cfg_group *cg = config_group_find(cfg, group);
	int rc;

	memset(reply, 0, sizeof(*reply));
	if (cg != NULL && (cg->primary >= 0 || cg->backup >= 0)) {
		reply_set(reply, OPS_REFUSED, "has_stacks",
		    "%s: the group points at %s%s%s: remove its primary and"
		    " backup from the configuration first", group,
		    sname(cfg, cg->primary >= 0 ? cg->primary : cg->backup),
		    cg->primary >= 0 && cg->backup >= 0 ? " and " : "",
		    cg->primary >= 0 && cg->backup >= 0 ?
		    sname(cfg, cg->backup) : "");
		return 1;
	}
	rc = ops_group_address(st, cfg, group, addr, addrlen);
	if (rc == OPS_E_STORE) {
		reply_set(reply, OPS_FAILED, "store", "store could not be read");
		return 1;
	}
	if (rc != 0) {
		if (cg == NULL)
			reply_set(reply, OPS_UNKNOWN, "unknown_group",
			    "unknown group %s", group);
		else
			reply_set(reply, OPS_REFUSED, "no_address",
			    "%s: no address was ever allocated", group);
		return 1;
	}
	reply_set(reply, OPS_DONE, "", "%s: may be deleted (%s)", group, addr);
	return 0;
}

/* The tombstone's key: the label under the zone, else the name. */
static void
tomb_key(const struct config *cfg, const char *addr, char *buf, size_t len)
{
	const char *zone = cfg->dns.zone ? cfg->dns.zone : "";
	size_t al = strlen(addr), zl = strlen(zone);

	if (zl > 0 && al > zl + 1 && strcasecmp(addr + al - zl, zone) == 0 &&
	    addr[al - zl - 1] == '.') {
		snprintf(buf, len, "%.*s", (int)(al - zl - 1), addr);
		return;
	}
	snprintf(buf, len, "%s", addr);
}

int
ops_group_delete(struct store *st, const struct config *cfg,
    const char *group, const char *addr, int64_t now_ms,
    struct ops_reply *reply)
{
	struct store_txn txn;
	struct store_addr a, old;
	struct addr_find f = { .group = group };
	char key[STORE_NAME_MAX + 1];
	json_t *payload;
	char *text;

	memset(reply, 0, sizeof(*reply));
	tomb_key(cfg, addr, key, sizeof(key));
	if (store_txn_begin(st, true, &txn) != 0) {
		reply_set(reply, OPS_FAILED, "store", "store: %s: %s",
		    store_errname(txn.err), txn.detail);
		store_txn_abort(&txn);
		return 1;
	}
	memset(&a, 0, sizeof(a));
	a.state = STORE_ADDR_TOMBSTONE;
	a.time_ms = now_ms;
	snprintf(a.group, sizeof(a.group), "%s", group);
	/* An auto label allocated under another key form: tombstone it too. */
	store_addr_foreach(&txn, addr_find_cb, &f);
	if (f.label[0] != '\0' && strcmp(f.label, key) != 0)
		store_addr_put(&txn, f.label, &a);
	if (!store_addr_get(&txn, key, &old) ||
	    old.state != STORE_ADDR_TOMBSTONE)
		store_addr_put(&txn, key, &a);
	store_group_del(&txn, group);
	store_flags_del(&txn, group);
	payload = json_pack("{s:s,s:s,s:s}", "level", "info", "address",
	    addr, "tombstone", key);
	text = payload != NULL ? json_dumps(payload, JSON_COMPACT |
	    JSON_PRESERVE_ORDER) : NULL;
	json_decref(payload);
	store_history_append(&txn, now_ms, group, "group_deleted",
	    text != NULL ? text : "{}", NULL);
	free(text);
	if (store_txn_commit(&txn) != 0) {
		reply_set(reply, OPS_FAILED, "store", "store: %s: %s",
		    store_errname(txn.err), txn.detail);
		return 1;
	}
	reply_set(reply, OPS_DONE, "", "%s: deleted; address %s tombstoned",
	    group, addr);
	return 0;
}
