/*
 * ops_remote.c - operator commands carried through etcd from the member
 * they were given to the leader, which applies them (ops_remote.h has the
 * protocol and the records).  Pure JSON for the records; the giver on
 * cluster/cl.h's client, on whatever loop that client runs on.
 */
#include "controller/face/ops_remote.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>
#include <event2/event.h>
#include <jansson.h>

#include "cluster/cl.h"
#include "cluster/cl_schema.h"
#include "controller/base/clock.h"

#define REMOTE_V	1

static const char *const outcome_names[] = {
	[OPS_DONE] = "done",
	[OPS_REFUSED] = "refused",
	[OPS_UNKNOWN] = "unknown",
	[OPS_BAD_REQUEST] = "bad_request",
	[OPS_FAILED] = "failed",
};

static json_t *
str_or_null(const char *s)
{
	return s != NULL ? json_string(s) : json_null();
}

int
ops_remote_cmd_build(const struct ops_request *req, const char *member,
    int64_t ms, char **out)
{
	const char *verb = ops_verb_name(req->verb);
	json_t *j;

	*out = NULL;
	if (verb == NULL)
		return -1;
	j = json_pack("{s:i, s:s, s:o, s:o, s:b, s:s, s:s, s:I}", "v",
	    REMOTE_V, "verb", verb, "group", str_or_null(req->group), "stack",
	    str_or_null(req->stack), "force", req->force, "actor",
	    req->actor != NULL ? req->actor : "", "member", member, "ms",
	    (json_int_t)ms);
	if (j == NULL)
		return -1;
	*out = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(j);
	return *out != NULL ? 0 : -1;
}

static const char *const gop_names[] = {
	[OPS_RGROUP_ADD] = "add",
	[OPS_RGROUP_SET] = "set",
	[OPS_RGROUP_DELETE] = "delete",
};
/* As the logs' cmd= says it, beside the verbs' names. */
static const char *const gop_cmds[] = {
	[OPS_RGROUP_ADD] = "group_add",
	[OPS_RGROUP_SET] = "group_set",
	[OPS_RGROUP_DELETE] = "group_delete",
};

const char *
ops_remote_gop_name(enum ops_remote_gop gop)
{
	return gop > OPS_RGROUP_NONE && gop <= OPS_RGROUP_DELETE ?
	    gop_names[gop] : "";
}

const char *
ops_remote_gop_cmd(enum ops_remote_gop gop)
{
	return gop > OPS_RGROUP_NONE && gop <= OPS_RGROUP_DELETE ?
	    gop_cmds[gop] : "";
}

int
ops_remote_group_build(enum ops_remote_gop gop,
    const struct ops_group_spec *sp, const char *member, int64_t ms,
    char **out)
{
	json_t *j;

	*out = NULL;
	if (gop <= OPS_RGROUP_NONE || gop > OPS_RGROUP_DELETE ||
	    sp->name == NULL)
		return -1;
	j = json_pack("{s:i, s:s, s:s, s:{s:s, s:o, s:o, s:o, s:o, s:b, s:b,"
	    " s:b}, s:s, s:s, s:I}", "v", REMOTE_V, "verb", "group", "op",
	    gop_names[gop], "spec", "name", sp->name, "address",
	    str_or_null(sp->address), "primary", str_or_null(sp->primary),
	    "backup", str_or_null(sp->backup), "ttl", str_or_null(sp->ttl),
	    "set_primary", sp->set_primary, "set_backup", sp->set_backup,
	    "set_ttl", sp->set_ttl, "actor", sp->actor != NULL ? sp->actor :
	    "", "member", member, "ms", (json_int_t)ms);
	if (j == NULL)
		return -1;
	*out = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(j);
	return *out != NULL ? 0 : -1;
}

static void
copy_str(const json_t *o, const char *k, char *buf, size_t len)
{
	const char *s = json_string_value(json_object_get(o, k));

	snprintf(buf, len, "%s", s != NULL ? s : "");
}

int
ops_remote_cmd_parse(const char *val, size_t len, struct ops_remote_cmd *out)
{
	json_t *j, *res;
	int verb, rc = -1;

	const char *vs, *op;
	json_t *sp;

	memset(out, 0, sizeof(*out));
	if ((j = json_loadb(val, len, 0, NULL)) == NULL)
		return -1;
	vs = json_string_value(json_object_get(j, "verb"));
	if (json_integer_value(json_object_get(j, "v")) != REMOTE_V ||
	    vs == NULL)
		goto out;
	if (strcmp(vs, "group") == 0) {
		op = json_string_value(json_object_get(j, "op"));
		sp = json_object_get(j, "spec");
		for (size_t i = 1; op != NULL && i < sizeof(gop_names) /
		    sizeof(gop_names[0]); i++)
			if (strcmp(op, gop_names[i]) == 0)
				out->gop = (enum ops_remote_gop)i;
		if (out->gop == OPS_RGROUP_NONE || !json_is_object(sp) ||
		    !json_is_string(json_object_get(sp, "name")))
			goto out;
		copy_str(sp, "name", out->s_name, sizeof(out->s_name));
		copy_str(sp, "address", out->s_address,
		    sizeof(out->s_address));
		copy_str(sp, "primary", out->s_primary,
		    sizeof(out->s_primary));
		copy_str(sp, "backup", out->s_backup, sizeof(out->s_backup));
		copy_str(sp, "ttl", out->s_ttl, sizeof(out->s_ttl));
		out->spec.name = out->s_name;
#define OPT(f)	(json_is_string(json_object_get(sp, #f)) ? out->s_##f : NULL)
		out->spec.address = OPT(address);
		out->spec.primary = OPT(primary);
		out->spec.backup = OPT(backup);
		out->spec.ttl = OPT(ttl);
#undef OPT
		out->spec.set_primary = json_is_true(json_object_get(sp,
		    "set_primary"));
		out->spec.set_backup = json_is_true(json_object_get(sp,
		    "set_backup"));
		out->spec.set_ttl = json_is_true(json_object_get(sp,
		    "set_ttl"));
		/* req says which group, for the logs. */
		out->req.group = out->s_name;
		verb = OPS_PAUSE;	/* not used with gop */
	} else if ((verb = ops_verb_parse(vs)) < 0)
		goto out;
	out->req.verb = (enum ops_verb)verb;
	copy_str(j, "group", out->group, sizeof(out->group));
	copy_str(j, "stack", out->stack, sizeof(out->stack));
	copy_str(j, "actor", out->actor, sizeof(out->actor));
	copy_str(j, "member", out->member, sizeof(out->member));
	if (out->gop == OPS_RGROUP_NONE) {
		out->req.group = json_is_string(json_object_get(j, "group")) ?
		    out->group : NULL;
		out->req.stack = json_is_string(json_object_get(j, "stack")) ?
		    out->stack : NULL;
	}
	out->req.actor = out->actor[0] ? out->actor : NULL;
	out->spec.actor = out->req.actor;
	out->req.force = json_is_true(json_object_get(j, "force"));
	out->ms = json_integer_value(json_object_get(j, "ms"));
	if (json_is_object(res = json_object_get(j, "taken"))) {
		out->taken = true;
		copy_str(res, "leader", out->taken_by, sizeof(out->taken_by));
		out->taken_epoch = (uint64_t)json_integer_value(
		    json_object_get(res, "epoch"));
	}
	if (json_is_object(res = json_object_get(j, "result"))) {
		const char *oc = json_string_value(json_object_get(res,
		    "outcome"));

		out->answered = true;
		out->reply.code = (int)json_integer_value(json_object_get(res,
		    "code"));
		out->reply.outcome = OPS_FAILED;
		for (size_t i = 0; oc != NULL && i < sizeof(outcome_names) /
		    sizeof(outcome_names[0]); i++)
			if (strcmp(oc, outcome_names[i]) == 0)
				out->reply.outcome = (enum ops_outcome)i;
		copy_str(res, "reason", out->reply.reason,
		    sizeof(out->reply.reason));
		copy_str(res, "message", out->reply.message,
		    sizeof(out->reply.message));
		out->reply.request_id = (uint64_t)json_integer_value(
		    json_object_get(res, "request_id"));
		out->reply.history_seq = (uint64_t)json_integer_value(
		    json_object_get(res, "history_seq"));
		out->reply.nswitch = (int)json_integer_value(
		    json_object_get(res, "nswitch"));
		copy_str(res, "leader", out->leader, sizeof(out->leader));
		out->epoch = (uint64_t)json_integer_value(json_object_get(res,
		    "epoch"));
	}
	rc = 0;
out:
	json_decref(j);
	return rc;
}

int
ops_remote_taken_build(const char *val, size_t len, const char *leader,
    uint64_t epoch, char **out)
{
	json_t *j, *t;

	*out = NULL;
	if ((j = json_loadb(val, len, 0, NULL)) == NULL)
		return -1;
	t = json_pack("{s:s, s:I}", "leader", leader, "epoch",
	    (json_int_t)epoch);
	if (t == NULL || json_object_set_new(j, "taken", t) != 0) {
		json_decref(j);
		return -1;
	}
	*out = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(j);
	return *out != NULL ? 0 : -1;
}

int
ops_remote_answer_build(const char *val, size_t len, const struct ops_reply *r,
    const char *leader, uint64_t epoch, char **out)
{
	json_t *j, *res;

	*out = NULL;
	if ((j = json_loadb(val, len, 0, NULL)) == NULL)
		return -1;
	res = json_pack("{s:i, s:s, s:s, s:s, s:I, s:I, s:i, s:s, s:I}",
	    "code", r->code, "outcome", (unsigned)r->outcome <
	    sizeof(outcome_names) / sizeof(outcome_names[0]) ?
	    outcome_names[r->outcome] : "failed", "reason", r->reason,
	    "message", r->message, "request_id", (json_int_t)r->request_id,
	    "history_seq", (json_int_t)r->history_seq, "nswitch", r->nswitch,
	    "leader", leader, "epoch", (json_int_t)epoch);
	if (res == NULL || json_object_set_new(j, "result", res) != 0) {
		json_decref(j);
		return -1;
	}
	*out = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(j);
	return *out != NULL ? 0 : -1;
}

/* ---- the giver ---- */

struct ops_remote {
	struct cl_client	*c;
	struct cl_req		*rq;		/* in flight, or NULL */
	struct cl_watch		*w;
	struct event		*ev_deadline;
	char			 key[CL_KEY_MAX];
	char			*val;
	int64_t			 lease;
	bool			 own_lease;
	int64_t			 ttl_s;
	int64_t			 wait_ms;
	int64_t			 put_rev;	/* the record as last seen */
	int			 takes;		/* takes seen */
	int64_t			 deadline_ms;	/* clock_mono_ms */
	char			 taken_by[64];
	ops_remote_cb		*cb;
	void			*arg;
	struct ops_remote_cmd	 answer;	/* once answered */
};

static void
remote_free(struct ops_remote *o)
{
	if (o == NULL)
		return;
	cl_cancel(o->rq);
	cl_watch_stop(o->w);
	if (o->ev_deadline != NULL)
		event_free(o->ev_deadline);
	free(o->val);
	free(o);
}

void
ops_remote_cancel(struct ops_remote *o)
{
	remote_free(o);
}

static void
reply_fail(struct ops_reply *r, const char *reason, const char *fmt,
    const char *detail)
{
	memset(r, 0, sizeof(*r));
	r->code = 1;
	r->outcome = OPS_FAILED;
	snprintf(r->reason, sizeof(r->reason), "%s", reason);
	snprintf(r->message, sizeof(r->message), fmt, detail);
}

/* The end: exactly one callback, then everything goes. */
static void
finish(struct ops_remote *o, const struct ops_reply *r, const char *leader,
    uint64_t epoch)
{
	ops_remote_cb *cb = o->cb;
	void *arg = o->arg;
	struct ops_reply rp = *r;	/* r and leader may be o's */
	char ld[sizeof(o->answer.leader)];

	snprintf(ld, sizeof(ld), "%s", leader);
	o->rq = NULL;		/* its callback is running, or it ended */
	/* Best effort: else the lease ends by itself. */
	if (o->own_lease && o->lease != 0) {
		int rc = cl_revoke(o->c, o->lease, NULL, NULL, NULL);

		(void)rc;
	}
	remote_free(o);
	cb(&rp, ld, epoch, arg);
}

static void
finish_error(struct ops_remote *o, const struct cl_reply *r)
{
	struct ops_reply rp;

	if (r->error == CL_E_UNAVAILABLE)
		reply_fail(&rp, "cluster_unavailable", "etcd cannot be"
		    " reached or has no quorum (%s): the command was not"
		    " given to the leader", r->detail);
	else
		reply_fail(&rp, "cluster_unavailable", "etcd: %s",
		    r->error != 0 ? cl_error_name(r->error) : "refused");
	finish(o, &rp, "", 0);
}

/* The answer's key (or our own lease, with it) is gone: now the end. */
static void
cleaned_cb(const struct cl_reply *r, void *arg)
{
	struct ops_remote *o = arg;

	o->rq = NULL;
	o->lease = 0;		/* revoked, or not ours */
	finish(o, &o->answer.reply, o->answer.leader, o->answer.epoch);
}

static bool
take_answer(struct ops_remote *o, const struct cl_kv *kv)
{
	struct cl_op del = { 0 };
	int rc;

	if (ops_remote_cmd_parse(kv->value, kv->value_len, &o->answer) != 0 ||
	    !o->answer.answered)
		return false;
	cl_watch_stop(o->w);
	o->w = NULL;
	evtimer_del(o->ev_deadline);
	/*
	 * Answered: the key has done its work.  Removed before the end
	 * (a failoverctl exits right after it): with our own lease, which
	 * takes the key along, or by itself on a member's lease.
	 */
	if (o->own_lease && o->lease != 0)
		rc = cl_revoke(o->c, o->lease, cleaned_cb, o, &o->rq);
	else {
		del.kind = CL_OP_DELETE;
		del.key = o->key;
		rc = cl_delete(o->c, &del, cleaned_cb, o, &o->rq);
	}
	if (rc != 0)
		finish(o, &o->answer.reply, o->answer.leader, o->answer.epoch);
	return true;
}

static void
no_leader(struct ops_remote *o)
{
	struct ops_reply rp;
	char ms[32];

	snprintf(ms, sizeof(ms), "%lld", (long long)o->wait_ms);
	reply_fail(&rp, "no_leader", "no cluster leader took the command"
	    " within %s ms: it was withdrawn, nothing was done", ms);
	finish(o, &rp, "", 0);
}

/*
 * Taken, and no answer within the last wait: the outcome is not known
 * (the leader may still answer; with our own lease ended, its answer
 * fails, but what it applied may hold).  Never "nothing was done".
 */
static void
no_answer(struct ops_remote *o)
{
	struct ops_reply rp;
	char what[160];

	snprintf(what, sizeof(what), "%s took the command but did not"
	    " answer within %lld ms", o->taken_by[0] ? o->taken_by :
	    "the leader", (long long)o->wait_ms);
	reply_fail(&rp, "no_answer", "%s: it may have been done, or not;"
	    " failoverctl status shows what holds", what);
	finish(o, &rp, "", 0);
}

static void	 watch_from(struct ops_remote *, int64_t rev);

/* What a record read or watched said. */
enum seen {
	SEEN_NOTHING,		/* neither taken nor answered */
	SEEN_TAKEN,		/* taken: o waits wait_ms more */
	SEEN_END,		/* answered, or taken too often: o ends */
};

/*
 * The record as kv has it now: answered (the end), taken (wait wait_ms
 * more for the answer, at most OPS_REMOTE_TAKES times), or neither.
 */
static enum seen
record_seen(struct ops_remote *o, const struct cl_kv *kv)
{
	struct ops_remote_cmd c;
	struct timeval tv;
	int64_t left;

	if (take_answer(o, kv))
		return SEEN_END;
	if (ops_remote_cmd_parse(kv->value, kv->value_len, &c) != 0 ||
	    !c.taken)
		return SEEN_NOTHING;
	o->put_rev = kv->mod_revision;
	snprintf(o->taken_by, sizeof(o->taken_by), "%s", c.taken_by);
	if (o->takes++ >= OPS_REMOTE_TAKES) {
		no_answer(o);
		return SEEN_END;
	}
	/* Each take gives the leader wait_ms more. */
	o->deadline_ms += o->wait_ms;
	left = o->deadline_ms - clock_mono_ms();
	tv.tv_sec = (time_t)(left > 0 ? left / 1000 : 0);
	tv.tv_usec = (suseconds_t)(left > 0 ? left % 1000 : 0) * 1000;
	evtimer_del(o->ev_deadline);
	evtimer_add(o->ev_deadline, &tv);
	if (o->w == NULL)
		watch_from(o, kv->mod_revision + 1);
	return SEEN_TAKEN;
}

static void
withdraw_cb(const struct cl_reply *r, void *arg)
{
	struct ops_remote *o = arg;

	o->rq = NULL;
	if (r->error != 0) {
		finish_error(o, r);
		return;
	}
	if (r->r.succeeded) {
		no_leader(o);
		return;
	}
	/* Taken or answered meanwhile: the failure branch read it. */
	if (r->r.nops == 1 && r->r.ops[0].nkvs == 1 &&
	    record_seen(o, &r->r.ops[0].kvs[0]) != SEEN_NOTHING)
		return;
	no_leader(o);
}

static void
deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ops_remote *o = arg;
	struct cl_cmp cmp = { 0 };
	struct cl_op del = { 0 };

	cl_watch_stop(o->w);
	o->w = NULL;
	if (o->takes > 0) {
		no_answer(o);	/* taken: never withdrawn */
		return;
	}
	cmp = cl_cmp_mod(o->key, o->put_rev);
	del.kind = CL_OP_DELETE;
	del.key = o->key;
	if (cl_txn_else_get(o->c, &cmp, &del, withdraw_cb, o, &o->rq) != 0)
		no_leader(o);
}

static void
watch_cb(struct cl_watch *w, const struct cl_watch_result *r, void *arg)
{
	struct ops_remote *o = arg;

	if (r->error == CL_E_COMPACTED) {
		/* Read it at the deadline instead. */
		cl_watch_stop(w);
		o->w = NULL;
		return;
	}
	for (size_t i = 0; i < r->nevents; i++) {
		if (r->events[i].type == CL_EV_DELETE) {
			no_leader(o);	/* its lease ended */
			return;
		}
		/* A take and its answer may come in one message. */
		if (record_seen(o, &r->events[i].kv) == SEEN_END)
			return;
	}
}

static void
watch_from(struct ops_remote *o, int64_t rev)
{
	struct cl_watch_spec ws = { 0 };

	ws.key = o->key;
	ws.start_revision = rev;
	if (cl_watch_start(o->c, &ws, watch_cb, o, &o->w) != 0)
		o->w = NULL;	/* the deadline reads it */
}

static void
put_cb(const struct cl_reply *r, void *arg)
{
	struct ops_remote *o = arg;
	struct timeval tv = { (time_t)(o->wait_ms / 1000),
	    (suseconds_t)(o->wait_ms % 1000) * 1000 };

	o->rq = NULL;
	if (r->error != 0 || !r->r.succeeded) {
		finish_error(o, r);
		return;
	}
	o->put_rev = r->r.header.revision;
	o->deadline_ms = clock_mono_ms() + o->wait_ms;
	watch_from(o, o->put_rev + 1);
	evtimer_add(o->ev_deadline, &tv);
}

static int
put_send(struct ops_remote *o)
{
	struct cl_cmp cmp = { 0 };
	struct cl_op put = { 0 };
	struct cl_txn t = { 0 };

	cmp.key = o->key;
	cmp.target = CL_CMP_CREATE;
	cmp.result = CL_CMP_EQUAL;
	cmp.number = 0;
	put.kind = CL_OP_PUT;
	put.key = o->key;
	put.value = o->val;
	put.value_len = strlen(o->val);
	put.lease = o->lease;
	t.cmp = &cmp;
	t.ncmp = 1;
	t.success = &put;
	t.nsuccess = 1;
	return cl_txn(o->c, &t, put_cb, o, &o->rq);
}

static void
grant_cb(const struct cl_reply *r, void *arg)
{
	struct ops_remote *o = arg;

	o->rq = NULL;
	if (r->error != 0) {
		finish_error(o, r);
		return;
	}
	o->lease = r->r.lease_id;
	if (put_send(o) != 0) {
		struct cl_reply e = { .error = CL_E_INVALID, .detail = "" };

		finish_error(o, &e);
	}
}

/* Give the record val (taken: freed here on failure too). */
static int
give_value(struct cl_client *c, const char *prefix, const char *member,
    int64_t lease, char *val, int64_t now, int64_t wait_ms, ops_remote_cb *cb,
    void *arg, struct ops_remote **out)
{
	static unsigned counter;
	struct ops_remote *o;
	char id[CL_NAME_MAX];

	if (out != NULL)
		*out = NULL;
	if (val == NULL || (o = calloc(1, sizeof(*o))) == NULL) {
		free(val);
		return -1;
	}
	o->val = val;
	o->c = c;
	o->cb = cb;
	o->arg = arg;
	o->wait_ms = wait_ms;
	o->lease = lease;
	o->own_lease = lease == 0;
	/* The key lives while we may wait: the first wait and a wait after
	 * each take. */
	o->ttl_s = (OPS_REMOTE_TAKES + 1) * wait_ms / 1000 + 5;
	snprintf(id, sizeof(id), "%lld-%ld-%u", (long long)now, (long)getpid(),
	    ++counter);
	if (cl_key_build(prefix, CL_KEY_COMMAND, member, id, o->key,
	    sizeof(o->key)) < 0 ||
	    (o->ev_deadline = evtimer_new(cl_client_base(c), deadline_cb,
	    o)) == NULL)
		goto fail;
	if (o->own_lease ? cl_grant(c, o->ttl_s, grant_cb, o, &o->rq) != 0 :
	    put_send(o) != 0)
		goto fail;
	if (out != NULL)
		*out = o;
	return 0;
fail:
	remote_free(o);
	return -1;
}

int
ops_remote_give(struct cl_client *c, const char *prefix, const char *member,
    int64_t lease, const struct ops_request *req, int64_t wait_ms,
    ops_remote_cb *cb, void *arg, struct ops_remote **out)
{
	int64_t now = clock_wall_ms();
	char *val = NULL;

	if (ops_remote_cmd_build(req, member, now, &val) != 0)
		val = NULL;
	return give_value(c, prefix, member, lease, val, now, wait_ms, cb, arg,
	    out);
}

int
ops_remote_give_group(struct cl_client *c, const char *prefix,
    const char *member, int64_t lease, enum ops_remote_gop gop,
    const struct ops_group_spec *spec, int64_t wait_ms, ops_remote_cb *cb,
    void *arg, struct ops_remote **out)
{
	int64_t now = clock_wall_ms();
	char *val = NULL;

	if (ops_remote_group_build(gop, spec, member, now, &val) != 0)
		val = NULL;
	return give_value(c, prefix, member, lease, val, now, wait_ms, cb, arg,
	    out);
}

/* ---- failoverctl's form ---- */

struct wait {
	bool			 done;
	struct ops_reply	*reply;
	char			*leader;
	size_t			 leaderlen;
};

static void
waited_cb(const struct ops_reply *r, const char *leader, uint64_t epoch,
    void *arg)
{
	struct wait *w = arg;

	*w->reply = *r;
	snprintf(w->leader, w->leaderlen, "%s", leader);
	w->done = true;
}

static int	 wait_for(const struct config *, const struct ops_request *,
		    enum ops_remote_gop, const struct ops_group_spec *, int64_t,
		    struct ops_reply *, char *, size_t);

int
ops_remote_command(const struct config *cfg, const struct ops_request *req,
    int64_t wait_ms, struct ops_reply *reply, char *leader, size_t leaderlen)
{
	return wait_for(cfg, req, OPS_RGROUP_NONE, NULL, wait_ms, reply,
	    leader, leaderlen);
}

int
ops_remote_group_command(const struct config *cfg, enum ops_remote_gop gop,
    const struct ops_group_spec *spec, int64_t wait_ms,
    struct ops_reply *reply, char *leader, size_t leaderlen)
{
	return wait_for(cfg, NULL, gop, spec, wait_ms, reply, leader,
	    leaderlen);
}

static int
wait_for(const struct config *cfg, const struct ops_request *req,
    enum ops_remote_gop gop, const struct ops_group_spec *spec,
    int64_t wait_ms, struct ops_reply *reply, char *leader, size_t leaderlen)
{
	const struct cfg_cluster *cc = &cfg->cluster;
	struct event_base *base = NULL;
	struct cl_client *c = NULL;
	struct cl_opts o;
	struct wait w = { false, reply, leader, leaderlen };
	char detail[256];
	int e = 0;

	reply_fail(reply, "cluster_unavailable", "%s", "etcd client could not"
	    " be started");
	snprintf(leader, leaderlen, "%s", "");
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return reply->code;
	if ((base = event_base_new()) == NULL)
		goto out;
	cl_opts_init(&o);
	o.endpoints = (const char *const *)cc->etcd;
	o.nendpoints = cc->netcd;
	if ((c = cl_client_new(base, &o, &e, detail, sizeof(detail))) == NULL)
		goto out;
	if (gop == OPS_RGROUP_NONE ? ops_remote_give(c, cc->prefix, cc->member,
	    0, req, wait_ms, waited_cb, &w, NULL) != 0 :
	    ops_remote_give_group(c, cc->prefix, cc->member, 0, gop, spec,
	    wait_ms, waited_cb, &w, NULL) != 0)
		goto out;
	/* Bounded: the deadline (renewed at most OPS_REMOTE_TAKES times),
	 * then one withdrawal of bounded length. */
	while (!w.done && event_base_loop(base, EVLOOP_ONCE) == 0)
		;
out:
	cl_client_free(c);
	if (base != NULL)
		event_base_free(base);
	curl_global_cleanup();
	return reply->code;
}
