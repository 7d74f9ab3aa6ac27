/*
 * ops.c - the operator commands over the store: judge with the engine's
 * eng_cmd_check(), write override flags, and describe groups, stacks and
 * the history as JSON.  Shared by failoverctl and the HTTP API.
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
#include "controller/core/health.h"

#define HEALTH_KEY_MAX	(STORE_NAME_MAX + 16)

/* The health snapshot of one stack, from its meta record. */
struct ops_health {
	bool	 known;			/* a record exists */
	char	 state[16];		/* "up" "down" "unknown" */
	int64_t	 since_ms;
	char	 reason[48];
};

static int	 health_read(struct store_txn *, const struct config *,
		    struct health *, struct ops_health *);
static int	 state_read(struct store_txn *, const struct config *, int,
		    struct eng_group *, bool *, char *, size_t);
static void	 flags_overlay(struct eng_group *, const struct config *,
		    const struct store_flags *);
static void	 reply_set(struct ops_reply *, enum ops_outcome, const char *,
		    const char *, ...) __attribute__((format(printf, 4, 5)));
static int	 group_index(const struct config *, const char *);
static void	 set_actor(char *, const char *);
static json_t	*group_json(struct store_txn *, const struct config *, int,
		    const struct ops_health *, char *, size_t);
static bool	 addr_find_cb(const char *, const struct store_addr *, void *);

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

static int
group_index(const struct config *cfg, const char *name)
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
static int
health_read(struct store_txn *txn, const struct config *cfg,
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

static int
state_read(struct store_txn *txn, const struct config *cfg, int gi,
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
static int
txn_read(struct store *st, struct store_txn *txn, char *err, size_t errlen)
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

	if ((gi = group_index(cfg, group)) < 0) {
		snprintf(err, errlen, "unknown group %s", group);
		return OPS_E_NOTFOUND;
	}
	if ((rc = txn_read(st, &txn, err, errlen)) != 0)
		return rc;
	rc = state_read(&txn, cfg, gi, g, stored, err, errlen);
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

	if (state_read(txn, cfg, gi, g, &stored, err, sizeof(err)) != 0) {
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
		if ((gi = group_index(cfg, req->group)) < 0) {
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
	health_read(&txn, cfg, h, oh);
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
	if (group == NULL || (*gi = group_index(cfg, group)) < 0) {
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
	health_read(&txn, cfg, h, oh);
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

/* ---- queries ---- */

void
ops_status_text(const struct eng_group *g, char *buf, size_t len)
{
	if (g->status == ENG_SWITCHING)
		snprintf(buf, len, "switching/%s", eng_phase_name(g->sw.phase));
	else
		snprintf(buf, len, "%s", eng_status_name(g->status));
}

static json_t *
str_or_null(const char *s)
{
	return s != NULL && s[0] != '\0' ? json_string(s) : json_null();
}

static json_t *
stack_or_null(const struct config *cfg, int s)
{
	return s >= 0 && (size_t)s < cfg->nstack ?
	    json_string(cfg->stacks[s].name) : json_null();
}

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

static int
address_in(struct store_txn *txn, const struct config *cfg, const char *group,
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
	rc = address_in(&txn, cfg, group, buf, len);
	store_txn_abort(&txn);
	return rc;
}

static json_t *
flags_json(const struct store_flags *f)
{
	return json_pack("{s:b,s:o,s:b,s:b,s:o,s:b,s:o,s:o,s:o,s:o,s:o}",
	    "paused", f->paused,
	    "pinned", str_or_null(f->pinned),
	    "rearm_requested", f->rearm_requested,
	    "switch_requested", f->switch_requested,
	    "switch_to", str_or_null(f->switch_to),
	    "force", f->switch_requested && f->switch_force,
	    "switch_requested_ms", f->switch_requested ?
	    json_integer(f->switch_requested_ms) : json_null(),
	    "switch_actor", f->switch_requested ?
	    str_or_null(f->switch_actor) : json_null(),
	    "rearm_requested_ms", f->rearm_requested ?
	    json_integer(f->rearm_requested_ms) : json_null(),
	    "rearm_actor", f->rearm_requested ?
	    str_or_null(f->rearm_actor) : json_null(),
	    "actor", str_or_null(f->actor));
}

static json_t *
last_switch_json(const struct eng_group *g, const struct config *cfg)
{
	const struct eng_switch *sw = &g->sw;
	const char *result;

	if (sw->id[0] == '\0')
		return json_null();
	if (g->status == ENG_SWITCHING)
		result = "running";
	else if (sw->phase == ENG_PH_DONE)
		result = "completed";
	else
		result = "failed";
	return json_pack("{s:s,s:o,s:o,s:s,s:b,s:s,s:b,s:i,s:I,s:I,s:I,s:s}",
	    "id", sw->id,
	    "from", stack_or_null(cfg, sw->from),
	    "to", stack_or_null(cfg, sw->to),
	    "reason", eng_reason_name(sw->reason),
	    "force", sw->force,
	    "phase", eng_phase_name(sw->phase),
	    "running", sw->running,
	    "attempt", sw->attempt,
	    "started_ms", (json_int_t)sw->started_ms,
	    "phase_started_ms", (json_int_t)sw->phase_started_ms,
	    "ended_ms", (json_int_t)sw->ended_ms,
	    "result", result);
}

static json_t *
health_json(const struct ops_health *oh)
{
	return json_pack("{s:s,s:o,s:o}",
	    "health", oh->state,
	    "since_ms", oh->known ? json_integer(oh->since_ms) : json_null(),
	    "reason", str_or_null(oh->reason));
}

static json_t *
group_json(struct store_txn *txn, const struct config *cfg, int gi,
    const struct ops_health *oh, char *err, size_t errlen)
{
	const struct cfg_group *cg = &cfg->groups[gi];
	struct eng_group g;
	struct store_flags f;
	char addr[STORE_NAME_MAX + 300], status[64];
	bool stored;
	json_t *o = NULL, *stacks, *st;
	int roles[2] = { cg->primary, cg->backup };
	const char *rolename[2] = { "primary", "backup" };

	if (state_read(txn, cfg, gi, &g, &stored, err, errlen) != 0)
		return NULL;
	store_flags_get(txn, cg->name, &f);
	if (address_in(txn, cfg, cg->name, addr, sizeof(addr)) != 0)
		addr[0] = '\0';
	ops_status_text(&g, status, sizeof(status));
	if ((stacks = json_array()) == NULL)
		return NULL;
	for (int i = 0; i < 2; i++) {
		int s = roles[i];
		json_t *hj;

		if (s < 0)
			continue;
		hj = health_json(&oh[s]);
		if (hj == NULL)
			continue;
		json_object_set_new(hj, "name", json_string(cfg->stacks[s].name));
		json_object_set_new(hj, "role", json_string(rolename[i]));
		json_object_set_new(hj, "failover_status", json_string(
		    eng_online_name(eng_stack_status(&g, s))));
		json_array_append_new(stacks, hj);
	}
	st = stored ? eng_group_to_json(&g, cfg) : json_null();
	o = json_pack("{s:s,s:o,s:s,s:s,s:o,s:o,s:o,s:o,s:o,s:o,s:s,s:o,"
	    "s:i,s:o,s:o}",
	    "name", cg->name,
	    "address", str_or_null(addr),
	    "status", eng_status_name(g.status),
	    "state_text", status,
	    "phase", g.status == ENG_SWITCHING ?
		json_string(eng_phase_name(g.sw.phase)) : json_null(),
	    "active", stack_or_null(cfg, g.active),
	    "standby", stack_or_null(cfg, g.standby),
	    "stacks", stacks,
	    "flags", flags_json(&f),
	    "published", g.pub_stack >= 0 ? json_pack("{s:s,s:i}", "stack",
		cfg->stacks[g.pub_stack].name, "ttl", (int)g.pub_ttl) :
		json_null(),
	    "held", eng_gate_name(g.held),
	    "dns_unusable", eng_dns_unusable(&g) != NULL ?
		json_string(eng_dns_unusable(&g)) : json_null(),
	    "nswitch", g.nswitch,
	    "last_switch", last_switch_json(&g, cfg),
	    "state", st != NULL ? st : json_null());
	if (o == NULL)
		snprintf(err, errlen, "out of memory");
	return o;
}

/* Begin a read transaction and load the health snapshot. */
static int
read_begin(struct store *st, const struct config *cfg, struct store_txn *txn,
    struct health **h, struct ops_health **oh, char *err, size_t errlen)
{
	*h = calloc(cfg->nstack + 1, sizeof(**h));
	*oh = calloc(cfg->nstack + 1, sizeof(**oh));
	if (*h == NULL || *oh == NULL) {
		snprintf(err, errlen, "out of memory");
		return OPS_E_NOMEM;
	}
	if (txn_read(st, txn, err, errlen) != 0)
		return OPS_E_STORE;
	if (health_read(txn, cfg, *h, *oh) != 0) {
		snprintf(err, errlen, "%s: %s", store_errname(txn->err),
		    txn->detail);
		store_txn_abort(txn);
		return OPS_E_STORE;
	}
	return 0;
}

int
ops_status(struct store *st, const struct config *cfg, const char *group,
    json_t **out, char *err, size_t errlen)
{
	struct store_txn txn;
	struct health *h = NULL;
	struct ops_health *oh = NULL;
	json_t *arr = NULL, *o;
	int rc, gi = -1;

	*out = NULL;
	if (group != NULL && (gi = group_index(cfg, group)) < 0) {
		snprintf(err, errlen, "unknown group %s", group);
		return OPS_E_NOTFOUND;
	}
	if ((rc = read_begin(st, cfg, &txn, &h, &oh, err, errlen)) != 0)
		goto out;
	if (group != NULL) {
		o = group_json(&txn, cfg, gi, oh, err, errlen);
		rc = o == NULL ? OPS_E_STATE : 0;
		*out = o;
	} else if ((arr = json_array()) == NULL)
		rc = OPS_E_NOMEM;
	else {
		for (size_t i = 0; i < cfg->ngroup && rc == 0; i++) {
			o = group_json(&txn, cfg, (int)i, oh, err, errlen);
			if (o == NULL)
				rc = OPS_E_STATE;
			else
				json_array_append_new(arr, o);
		}
		if (rc == 0)
			*out = json_pack("{s:o}", "groups", arr);
		else
			json_decref(arr);
		if (rc == 0 && *out == NULL)
			rc = OPS_E_NOMEM;
	}
	store_txn_abort(&txn);
out:
	free(h);
	free(oh);
	return rc;
}

static void
webhead_text(const struct cfg_webhead *wh, char *buf, size_t len)
{
	size_t off = 0;

	if (wh->is_name) {
		snprintf(buf, len, "CNAME %s", wh->name ? wh->name : "");
		return;
	}
	buf[0] = '\0';
	for (size_t i = 0; i < wh->naddr && off < len; i++) {
		int n = snprintf(buf + off, len - off, "%s%s", i ? " " : "",
		    wh->addrs[i]);
		if (n < 0)
			break;
		off += (size_t)n;
	}
}

/* Combine eng_stack_status over the groups that hold stack s. */
static int
combined_status(struct store_txn *txn, const struct config *cfg, int s,
    json_t *groups, enum eng_online *out, char *err, size_t errlen)
{
	enum eng_online res = ENG_STATUS_NONE;

	for (size_t i = 0; i < cfg->ngroup; i++) {
		const struct cfg_group *cg = &cfg->groups[i];
		struct eng_group g;
		enum eng_online o;
		bool stored;

		if (cg->primary != s && cg->backup != s)
			continue;
		if (state_read(txn, cfg, (int)i, &g, &stored, err, errlen) != 0)
			return OPS_E_STATE;
		o = eng_stack_status(&g, s);
		if (o == ENG_STATUS_NONE)
			o = ENG_STATUS_OFFLINE;	/* in the group */
		if (o == ENG_STATUS_ONLINE || res == ENG_STATUS_NONE)
			res = o == ENG_STATUS_ONLINE ? o :
			    res == ENG_STATUS_ONLINE ? res : o;
		if (groups != NULL)
			json_array_append_new(groups, json_pack("{s:s,s:s,s:s}",
			    "group", cg->name,
			    "role", cg->primary == s ? "primary" : "backup",
			    "status", eng_online_name(o)));
	}
	*out = res;
	return 0;
}

int
ops_stack_json(struct store *st, const struct config *cfg, const char *stack,
    json_t **out, char *err, size_t errlen)
{
	struct store_txn txn;
	struct health *h = NULL;
	struct ops_health *oh = NULL;
	const struct cfg_stack *cs;
	enum eng_online on;
	json_t *o = NULL, *groups = NULL;
	char wh[1024];
	int s, rc;

	*out = NULL;
	if ((s = config_stack_index(cfg, stack)) < 0) {
		snprintf(err, errlen, "unknown stack %s", stack);
		return OPS_E_NOTFOUND;
	}
	cs = &cfg->stacks[s];
	if ((rc = read_begin(st, cfg, &txn, &h, &oh, err, errlen)) != 0)
		goto out;
	if ((groups = json_array()) == NULL) {
		rc = OPS_E_NOMEM;
		goto done;
	}
	if ((rc = combined_status(&txn, cfg, s, groups, &on, err,
	    errlen)) != 0)
		goto done;
	webhead_text(&cs->web_head, wh, sizeof(wh));
	o = health_json(&oh[s]);
	if (o == NULL) {
		rc = OPS_E_NOMEM;
		goto done;
	}
	json_object_set_new(o, "name", json_string(cs->name));
	json_object_set_new(o, "web_head", json_string(wh));
	json_object_set_new(o, "health_url", str_or_null(cs->health_url));
	json_object_set_new(o, "failover_status",
	    json_string(eng_online_name(on)));
	json_object_set_new(o, "groups", groups);
	groups = NULL;
	*out = o;
done:
	json_decref(groups);
	store_txn_abort(&txn);
out:
	free(h);
	free(oh);
	return rc;
}

int
ops_failover_status(struct store *st, const struct config *cfg,
    const char *stack, enum eng_online *out, char *err, size_t errlen)
{
	struct store_txn txn;
	int s, rc;

	*out = ENG_STATUS_NONE;
	if ((s = config_stack_index(cfg, stack)) < 0) {
		snprintf(err, errlen, "unknown stack %s", stack);
		return OPS_E_NOTFOUND;
	}
	if ((rc = txn_read(st, &txn, err, errlen)) != 0)
		return rc;
	rc = combined_status(&txn, cfg, s, NULL, out, err, errlen);
	store_txn_abort(&txn);
	return rc;
}

/* ---- history ---- */

struct ev_arg {
	json_t	*arr;
	bool	 nomem;
};

static void
ts_format(int64_t ms, char *buf, size_t len)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL) {
		snprintf(buf, len, "?");
		return;
	}
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, (int)(ms % 1000));
}

/*
 * The engine's records keep every value as text; in JSON a count, a code
 * or a duration is a number ("attempt":1, not "1"), always, whatever the
 * event: the keys below and every *_ms and *_us, when the text is an
 * integer.  Names (stacks, ids) stay strings even when they look like
 * numbers, and so do from/to, which are stacks in most events.
 */
static bool
data_key_numeric(const char *k)
{
	static const char *const keys[] = { "attempt", "exit", "failures",
	    "ttl", "refusals", "signal", "pid", "count", "nswitch",
	    "request_id", "batch" };
	size_t n = strlen(k);

	if (n > 3 && (strcmp(k + n - 3, "_ms") == 0 ||
	    strcmp(k + n - 3, "_us") == 0))
		return true;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strcmp(k, keys[i]) == 0)
			return true;
	return false;
}

static void
data_types(json_t *data)
{
	const char *k;
	json_t *v;

	json_object_foreach(data, k, v) {
		const char *s = json_string_value(v);
		char *end;
		long long n;

		if (s == NULL || !data_key_numeric(k) || s[0] == '\0' ||
		    (s[0] == '0' && s[1] != '\0') || strlen(s) > 18)
			continue;
		errno = 0;
		n = strtoll(s, &end, 10);
		if (*end != '\0' || errno != 0 || s[0] == '+' || s[0] == ' ')
			continue;
		json_object_set_new(data, k, json_integer((json_int_t)n));
	}
}

static bool
ev_cb(const struct store_event *ev, void *arg)
{
	struct ev_arg *a = arg;
	char ts[96], hex[STORE_HASH_LEN * 2 + 1];
	json_t *data, *o;

	ts_format(ev->ts_ms, ts, sizeof(ts));
	for (int i = 0; i < STORE_HASH_LEN; i++)
		snprintf(hex + 2 * i, 3, "%02x", ev->hash[i]);
	data = ev->payload_len > 0 ? json_loadb(ev->payload, ev->payload_len,
	    0, NULL) : NULL;
	if (data == NULL && ev->payload_len > 0)
		data = json_stringn(ev->payload, ev->payload_len);
	if (json_is_object(data))
		data_types(data);
	o = json_pack("{s:I,s:I,s:s,s:s,s:s,s:o,s:s}",
	    "seq", (json_int_t)ev->seq,
	    "ts_ms", (json_int_t)ev->ts_ms,
	    "ts", ts,
	    "group", ev->group,
	    "event", ev->event,
	    "data", data != NULL ? data : json_object(),
	    "hash", hex);
	if (o == NULL || json_array_append_new(a->arr, o) != 0) {
		a->nomem = true;
		return false;
	}
	return true;
}

int
ops_events_json(struct store *st, uint64_t from, size_t limit,
    const char *group, json_t **out, char *err, size_t errlen)
{
	struct store_txn txn;
	struct ev_arg a = { .arr = json_array() };
	uint64_t last;
	int rc = 0;

	*out = NULL;
	if (a.arr == NULL) {
		snprintf(err, errlen, "out of memory");
		return OPS_E_NOMEM;
	}
	if ((rc = txn_read(st, &txn, err, errlen)) != 0) {
		json_decref(a.arr);
		return rc;
	}
	last = store_history_last(&txn);
	if (store_history_foreach(&txn, from, limit, group, ev_cb, &a) != 0) {
		snprintf(err, errlen, "%s: %s", store_errname(txn.err),
		    txn.detail);
		rc = OPS_E_STORE;
	} else if (a.nomem) {
		snprintf(err, errlen, "out of memory");
		rc = OPS_E_NOMEM;
	}
	store_txn_abort(&txn);
	if (rc == 0 && (*out = json_pack("{s:o,s:I}", "events", a.arr,
	    "last_seq", (json_int_t)last)) == NULL)
		rc = OPS_E_NOMEM;
	else if (rc != 0)
		json_decref(a.arr);
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
