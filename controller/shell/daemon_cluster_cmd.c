/*
 * daemon_cluster_cmd.c - operator commands in a cluster (DESIGN.md:
 * "failoverctl and the API work on any member: commands are written to
 * etcd and applied by the leader").
 *
 * No member applies a command given to its API itself, not even the
 * acting leader: its API gives it to the leader through etcd
 * (face/ops_remote.h has the records and the protocol) and answers with
 * the leader's answer, or, when no leader takes it within two lease_ttl
 * and a second (time enough for a leader to be elected after one died),
 * with no_leader - never a silent local act.  failoverctl gives its
 * commands the same way, on any host.
 *
 * The acting leader takes each command before it applies it: the record
 * again with "taken" (its name and epoch), in a transaction fenced on
 * its leader key and on the command's mod_revision as read.  A caller
 * that waited no longer withdraws the command with the same compare, so
 * exactly one of the two wins: withdrawn first, the take fails and
 * nothing is done (cluster_command_withdrawn), and the caller was told
 * so; taken first, the withdrawal fails, and the caller waits for the
 * answer (face/ops_remote.h).  Then the leader applies the command with
 * ops_command() on its own store, as a controller alone's API does, and
 * answers in the command's key in one transaction fenced on its leader
 * key and on the record as taken: the answer is written once, and only
 * by a leader that still leads.  A leader that cannot act (its validity
 * bound passed) leaves the command for the next one.  Commands are read
 * once when this member begins to act, then watched from the revision
 * after.
 *
 * Durable when answered.  The answer goes to etcd in the transaction
 * that writes what the command changed: each group's value with its new
 * flags (daemon_cluster_val.c), or PREFIX/runtime for a group made at
 * run time (answer_values has the case of each verb).  So "accepted"
 * means the next leader has it.  Answers go one at a time, in order, and
 * never while a batch of the group commit is on its way to etcd (that
 * batch was encoded with the flags before the command); the group commit
 * sends no batch while an answer waits (d->cl_cmd_hold).
 *
 * Exactly once.  The command is applied after its take and before its
 * answer is written.  A leader that dies in between leaves the command
 * taken, unanswered, and nothing of it in etcd (or, for --all over more
 * than DCC_TXN_PUTS groups, the values of its first parts: pause and
 * resume are levels); the next leader takes it again and does it whole;
 * what the dead one applied lived only in its own store, which is no
 * longer the cluster's (a member that leads again takes the flags kept
 * in etcd).  Within one leadership, a command already seen (key and
 * mod_revision) is not applied again.
 *
 * A command given to the acting leader's own API takes the same way
 * (dclcmd_give): applied locally, it would be answered before its flags
 * are in etcd.  It costs a few etcd round trips.
 *
 * In order.  Every write of this module, and PREFIX/runtime when
 * daemon_cluster_rt.c publishes it (dclcmd_put), goes through one queue,
 * one transaction at a time: a value sent late never overwrites a later
 * one's.
 */
#include "controller/shell/daemon_cluster_cmd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "cluster/cl.h"
#include "cluster/cl_election.h"
#include "cluster/cl_schema.h"
#include "controller/base/log.h"
#include "controller/shell/daemon_cluster_rt.h"
#include "controller/shell/daemon_cluster_val.h"
#include "controller/shell/daemon_int.h"

#define DCC_SEEN	64
#define DCC_TXN_PUTS	64	/* etcd refuses more than 128 ops a txn */

/*
 * The leader's writes of commands and of PREFIX/runtime, one at a time,
 * in the order they were made (X.aq), so that no value sent late can
 * overwrite a later one.  A command is first taken (its record again with
 * "taken", if it is as read: a caller that withdrew it first wins, and
 * nothing is done), then applied, then written: puts[0..n-2] the values
 * of what it changed (PREFIX/groups/NAME, or PREFIX/runtime), puts[n-1]
 * the answer, written last and only if the record is as taken.  A put
 * (dclcmd_put) is one value alone.
 */
enum job_kind {
	JOB_COMMAND,
	JOB_PUT,
};

#define JOB_HELD_TAKE	0x1	/* a test's holds done */
#define JOB_HELD_APPLY	0x2
#define JOB_HELD_PUTS	0x4

struct job {
	struct job		*next;
	enum job_kind		 kind;
	bool			 taken;		/* ours in etcd */
	bool			 applied;	/* then applied here */
	unsigned		 held;
	char			*cmd_key;	/* a command's record as read */
	char			*cmd_val;
	size_t			 cmd_len;
	size_t			 n, sent;
	char			**keys, **vals;
	int64_t			 cmd_rev;	/* its mod_revision: read, taken */
	int64_t			 lease;		/* the command's */
};

static struct {
	struct daemon		*d;
	struct dclcmd_member	 m;
	bool			 leading;
	bool			 have_m;
	struct cl_watch		*w;
	struct cl_req		*rq;		/* the first read */
	struct event		*ev_retry;	/* it failed: read again */
	struct event		*ev_hold;	/* a test's hold */
	char			 dir[CL_KEY_MAX];
	char			 seen[DCC_SEEN][CL_KEY_MAX];
	int64_t			 seen_rev[DCC_SEEN];
	size_t			 seen_next;
	struct job		*aq;		/* writes to send, in order */
	struct job		*aq_last;
	struct cl_req		*a_req;		/* the head's txn in flight */
	bool			 applying;	/* job_apply: the head not whole */
} X;

static void	 read_start(void);
static void	 jobs_send(void);

int64_t
dclcmd_test_delay(const char *what)
{
	const char *path = getenv("FAILOVERD_TEST_CLUSTER_DELAY_FILE");
	char w[32];
	long long ms;
	int64_t r = 0;
	FILE *f;

	if (path == NULL || (f = fopen(path, "r")) == NULL)
		return 0;
	while (fscanf(f, "%31s %lld", w, &ms) == 2)
		if (strcmp(w, what) == 0)
			r = ms;
	fclose(f);
	return r;
}

static void
hold_cb(evutil_socket_t fd, short what, void *arg)
{
	jobs_send();
}

/* A test holds the head's next step (once): true, and it goes later. */
static bool
held(struct job *j, unsigned step, const char *what)
{
	int64_t ms;
	struct timeval tv;

	if ((j->held & step) != 0 || (ms = dclcmd_test_delay(what)) <= 0)
		return false;
	j->held |= step;
	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
	if (X.ev_hold == NULL)
		X.ev_hold = evtimer_new(X.d->base, hold_cb, NULL);
	if (X.ev_hold == NULL)
		return false;
	evtimer_add(X.ev_hold, &tv);
	return true;
}

static void
retry_cb(evutil_socket_t fd, short what, void *arg)
{
	if (X.leading && X.rq == NULL && X.w == NULL)
		read_start();
}

/*
 * Until the commands are read and watched, the leader answers no one's
 * and every follower's caller waits for no_leader: read again a second
 * later, for as long as this member acts.
 */
static void
retry_later(void)
{
	struct timeval tv = { 1, 0 };

	if (X.ev_retry == NULL)
		X.ev_retry = evtimer_new(X.d->base, retry_cb, NULL);
	if (X.ev_retry != NULL)
		evtimer_add(X.ev_retry, &tv);
}

static bool
seen(const struct cl_kv *kv)
{
	for (size_t i = 0; i < DCC_SEEN; i++)
		if (X.seen_rev[i] == kv->mod_revision &&
		    strcmp(X.seen[i], kv->key) == 0)
			return true;
	snprintf(X.seen[X.seen_next], sizeof(X.seen[0]), "%s", kv->key);
	X.seen_rev[X.seen_next] = kv->mod_revision;
	X.seen_next = (X.seen_next + 1) % DCC_SEEN;
	return false;
}


static void
job_free(struct job *j)
{
	if (j == NULL)
		return;
	for (size_t i = 0; i < j->n; i++) {
		free(j->keys[i]);
		free(j->vals[i]);
	}
	free(j->keys);
	free(j->vals);
	free(j->cmd_key);
	free(j->cmd_val);
	free(j);
}

static void
job_pop(void)
{
	struct job *j = X.aq;

	if (j == NULL)
		return;
	X.aq = j->next;
	if (X.aq == NULL)
		X.aq_last = NULL;
	job_free(j);
	if (X.aq == NULL && X.d->cl_cmd_hold) {
		/* The batches held behind the answers go now. */
		X.d->cl_cmd_hold = false;
		daemon_flush_schedule(X.d);
	}
}

static void
job_push(struct job *j)
{
	if (X.aq_last != NULL)
		X.aq_last->next = j;
	else
		X.aq = j;
	X.aq_last = j;
}

/* Why a job ends without its last write. */
static void
job_failed(const struct job *j, const char *error, const char *detail)
{
	if (j->kind == JOB_PUT)
		log_warn("cluster_request_failed", "op=runtime_groups error=%s"
		    " detail=%s", error, log_q(detail));
	else
		log_warn("cluster_command_unanswered", "key=%s error=%s"
		    " detail=%s", log_q(j->cmd_key), error, log_q(detail));
}

static void
puts_cb(const struct cl_reply *r, void *arg)
{
	struct job *j = arg;

	X.a_req = NULL;
	if (j != X.aq)
		return;		/* abandoned meanwhile */
	if (r->error != 0 || !r->r.succeeded) {
		/*
		 * Unanswered, and (the last part failed with it) the
		 * caller told nothing: it waits, and the next leader takes
		 * the command again.  The record no longer as taken: its
		 * caller's lease ended (the caller is gone), and what was
		 * applied here reaches etcd with the group's next state.
		 */
		job_failed(j, r->error != 0 ? cl_error_name(r->error) :
		    "compare_failed", r->error != 0 ? r->detail : "not the"
		    " leader any more, or the command's record is gone");
		job_pop();
	} else if (j->sent >= j->n)
		job_pop();
	jobs_send();
}

static int	 job_apply(struct job *);

/* event=WHAT member= given_on= id= group= cmd= epoch=, of j's command. */
static void
cmd_log(const char *what, const struct job *j)
{
	struct ops_remote_cmd cmd;
	struct cl_key k;
	char detail[128];

	if (ops_remote_cmd_parse(j->cmd_val, j->cmd_len, &cmd) != 0)
		memset(&cmd, 0, sizeof(cmd));
	if (cl_key_parse(X.m.prefix, j->cmd_key, strlen(j->cmd_key), &k,
	    detail, sizeof(detail)) != 0)
		memset(&k, 0, sizeof(k));
	log_info(what, "member=%s given_on=%s id=%s group=%s cmd=%s"
	    " epoch=%llu", log_q(X.m.member), log_q(k.a), log_q(k.b),
	    log_q(cmd.req.group), cmd.gop != OPS_RGROUP_NONE ?
	    ops_remote_gop_cmd(cmd.gop) : ops_verb_name(cmd.req.verb),
	    (unsigned long long)daemon_epoch(X.d));
}

static void
take_cb(const struct cl_reply *r, void *arg)
{
	struct job *j = arg;

	X.a_req = NULL;
	if (j != X.aq)
		return;
	if (r->error != 0) {
		job_failed(j, cl_error_name(r->error), r->detail);
		job_pop();
	} else if (!r->r.succeeded) {
		/* Withdrawn by its caller first (or changed): not done. */
		cmd_log("cluster_command_withdrawn", j);
		job_pop();
	} else {
		j->cmd_rev = r->r.header.revision;	/* the take's */
		j->taken = true;
		cmd_log("cluster_command_taken", j);
	}
	jobs_send();
}

/* The head's take: its record again, if it is as read. */
static int
take_send(struct job *j)
{
	struct cl_op put = { 0 };
	struct cl_cmp cmp = { 0 };
	struct cl_txn t = { 0 };
	char *v = NULL;
	int rc;

	if (ops_remote_taken_build(j->cmd_val, j->cmd_len, X.m.member,
	    daemon_epoch(X.d), &v) != 0)
		return -1;
	cmp = cl_cmp_mod(j->cmd_key, j->cmd_rev);
	put.kind = CL_OP_PUT;
	put.key = j->cmd_key;
	put.value = v;
	put.value_len = strlen(v);
	put.lease = j->lease;
	t.cmp = &cmp;
	t.ncmp = 1;
	t.success = &put;
	t.nsuccess = 1;
	rc = cl_election_txn(X.m.election, &t, take_cb, j, &X.a_req);
	free(v);
	return rc;
}

/*
 * Send the head's next step, unless a batch of the group commit is on its
 * way to etcd: that batch was encoded with the flags as they were before,
 * and must land first (cl_flushed brings us back).
 */
static void
jobs_send(void)
{
	struct job *j;
	struct cl_op ops[DCC_TXN_PUTS];
	struct cl_cmp cmp = { 0 };
	struct cl_txn t = { 0 };
	size_t k = 0;
	int rc;

	/* Not from within job_apply (its group change publishes). */
	while (!X.applying && (j = X.aq) != NULL && X.a_req == NULL &&
	    !daemon_flush_sending()) {
		if (j->kind == JOB_COMMAND && !j->taken) {
			if (held(j, JOB_HELD_TAKE, "claim"))
				return;
			if (take_send(j) == 0)
				return;
			X.a_req = NULL;
			job_failed(j, "not_sent", "");
			job_pop();
			continue;
		}
		if (j->kind == JOB_COMMAND && !j->applied) {
			if (held(j, JOB_HELD_APPLY, "apply"))
				return;
			j->applied = true;
			if (!X.leading || !daemon_may_act(X.d)) {
				/* Taken, not applied: the next leader
				 * takes it. */
				job_failed(j, "not_acting", "the validity"
				    " bound passed");
				job_pop();
				continue;
			}
			X.applying = true;
			rc = job_apply(j);
			X.applying = false;
			if (rc != 0)
				job_pop();
			continue;
		}
		if (held(j, JOB_HELD_PUTS, j->kind == JOB_PUT ? "runtime" :
		    "answer"))
			return;
		memset(ops, 0, sizeof(ops));
		for (k = 0; j->sent < j->n && k < DCC_TXN_PUTS; j->sent++,
		    k++) {
			ops[k].kind = CL_OP_PUT;
			ops[k].key = j->keys[j->sent];
			ops[k].value = j->vals[j->sent];
			ops[k].value_len = strlen(j->vals[j->sent]);
		}
		memset(&t, 0, sizeof(t));
		t.success = ops;
		t.nsuccess = k;
		if (j->kind == JOB_COMMAND && j->sent == j->n) {
			/* The part with the answer: once, to the record as
			 * we took it, on its lease. */
			ops[k - 1].lease = j->lease;
			cmp = cl_cmp_mod(j->keys[j->n - 1], j->cmd_rev);
			t.cmp = &cmp;
			t.ncmp = 1;
		}
		if (cl_election_txn(X.m.election, &t, puts_cb, j,
		    &X.a_req) == 0)
			return;
		X.a_req = NULL;
		job_failed(j, "not_sent", "");
		job_pop();
	}
}

/* A batch of the group commit was answered: a write held goes. */
static void
flushed_cb(struct daemon *d)
{
	jobs_send();
}

static int
answer_add(struct job *a, const char *key, char *val)
{
	char **nk, **nv;

	if (val == NULL)
		return -1;
	nk = realloc(a->keys, (a->n + 1) * sizeof(*nk));
	if (nk != NULL)
		a->keys = nk;
	nv = realloc(a->vals, (a->n + 1) * sizeof(*nv));
	if (nv != NULL)
		a->vals = nv;
	if (nk == NULL || nv == NULL || (nk[a->n] = strdup(key)) == NULL) {
		free(val);
		return -1;
	}
	nv[a->n++] = val;
	return 0;
}

/* Group gi's value as etcd must have it now: its state, its flags. */
static int
answer_add_group(struct job *a, struct store_txn *rt, size_t gi)
{
	struct daemon *d = X.d;
	const char *name = d->cfg->groups[gi].name;
	char key[CL_KEY_MAX], *v = NULL, *z;
	size_t len;

	if (cl_key_build(X.m.prefix, CL_KEY_GROUP, name, NULL, key,
	    sizeof(key)) < 0 || dclv_encode(d->cfg, rt, name,
	    &d->groups[gi].st, daemon_epoch(d), &v, &len) != 0)
		return -1;
	/* A value is a string here (the codec writes no NUL in it). */
	if ((z = realloc(v, len + 1)) == NULL) {
		free(v);
		return -1;
	}
	z[len] = '\0';
	return answer_add(a, key, z);
}

/*
 * What the command changed, read back now (nothing has run since it was
 * applied: the engines hear of it at the next loop turn), so that the
 * answer goes to etcd with it.  Per verb, what "accepted" then means for
 * the next leader, which takes the flags kept with each state
 * (daemon_cluster_val.c) before it resumes:
 *
 *   pause, resume, pin, unpin: levels in the flags, in force as soon as
 *     they are adopted (daemon_resume_cb feeds their difference); a
 *     resume of a failed group carries its rearm request with it.
 *   rearm, switch: requests in the flags, with their time and, for the
 *     switch, its request id.  Taken by this leader later (requests_take
 *     clears them and the engine's new state is persisted), the batch
 *     that writes the taken state and the cleared request is sent after
 *     this answer (cl_cmd_hold), so etcd holds either the request not
 *     taken or its switch started, never neither; the next leader takes
 *     a request it finds as a restarted daemon does (request_ttl and
 *     all).
 *   cancel: the cleared request, so the next leader runs nothing; a
 *     request already taken is refused here (no_request) and changed
 *     nothing.
 *   --all pause/resume: every group's value, in parts of DCC_TXN_PUTS,
 *     the answer in the last one.
 *   group add, set, delete: PREFIX/runtime, the groups' text and their
 *     addresses as the store has them now (daemon_cluster_rt.c).
 *   refused: nothing changed; the answer alone.
 *
 * The group's state written is the engine's now (d->groups[i].st): never
 * older than any batch already in etcd (those wait before us), and a
 * state etcd has before its side effect is the normal order.
 */
static int
answer_values(struct job *a, const struct ops_remote_cmd *cmd,
    const struct ops_reply *rp)
{
	struct daemon *d = X.d;
	struct store_txn rt, *rtp = NULL;
	const char *key;
	char *v = NULL;
	int rc = 0;

	if (rp->code != 0)
		return 0;
	if (cmd->gop != OPS_RGROUP_NONE) {
		if (dclrt_value(d, &key, &v) != 0)
			return -1;
		return answer_add(a, key, v);
	}
	if (d->store == NULL || store_txn_begin(d->store, false, &rt) != 0)
		return -1;
	rtp = &rt;
	for (size_t i = 0; i < d->cfg->ngroup && rc == 0; i++)
		if (cmd->req.group == NULL ||
		    strcmp(cmd->req.group, d->cfg->groups[i].name) == 0)
			rc = answer_add_group(a, rtp, i);
	store_txn_abort(rtp);
	return rc;
}

/*
 * A group made at run time, added, changed or deleted as the leader's own
 * API does it (face/api.c): in the store, then in force (and so in etcd,
 * daemon_cluster_rt.c), then for a delete its state and address.
 */
static void
apply_group(const struct ops_remote_cmd *cmd, struct ops_reply *rp)
{
	struct daemon *d = X.d;
	int64_t now = clock_wall_ms();
	char addr[600];
	int rc;

	switch (cmd->gop) {
	case OPS_RGROUP_ADD:
		rc = ops_group_add(d->store, d->cfg, &cmd->spec, now, rp);
		break;
	case OPS_RGROUP_SET:
		rc = ops_group_set(d->store, d->cfg, &cmd->spec, now, rp);
		break;
	default:
		rc = ops_group_remove(d->store, d->cfg, cmd->spec.name, false,
		    cmd->spec.actor, now, addr, sizeof(addr), rp);
		break;
	}
	if (rc != 0)
		return;
	daemon_groups_sync(d);
	if (cmd->gop == OPS_RGROUP_DELETE && addr[0] != '\0')
		(void)ops_group_delete(d->store, d->cfg, cmd->spec.name, addr,
		    now, rp);
}


/*
 * The head, taken: apply it as the leader's own API would, and add the
 * writes of what it changed and of its answer.  0, or -1 (it ends here,
 * unanswered: its caller hears no_answer, or the next leader takes it).
 */
static int
job_apply(struct job *j)
{
	struct daemon *d = X.d;
	struct ops_remote_cmd cmd;
	struct ops_reply rp;
	struct cl_key k;
	char detail[128], actor[ENG_ACTOR_MAX], *ans = NULL;

	if (cl_key_parse(X.m.prefix, j->cmd_key, strlen(j->cmd_key), &k,
	    detail, sizeof(detail)) != 0 ||
	    ops_remote_cmd_parse(j->cmd_val, j->cmd_len, &cmd) != 0) {
		job_failed(j, "unreadable", detail);
		return -1;
	}
	/* Who asked, and on which member. */
	snprintf(actor, sizeof(actor), "%.40s@%.20s", cmd.actor[0] ?
	    cmd.actor : "unknown", k.a);
	cmd.req.actor = actor;
	cmd.spec.actor = actor;
	memset(&rp, 0, sizeof(rp));
	if (cmd.gop != OPS_RGROUP_NONE)
		apply_group(&cmd, &rp);
	else
		ops_command(d->store, d->cfg, &cmd.req, clock_wall_ms(), &rp);
	log_info("cluster_command", "member=%s given_on=%s id=%s group=%s"
	    " cmd=%s stack=%s force=%d actor=%s result=%s reason=%s",
	    log_q(X.m.member), log_q(k.a), log_q(k.b), log_q(cmd.req.group),
	    cmd.gop != OPS_RGROUP_NONE ? ops_remote_gop_cmd(cmd.gop) :
	    ops_verb_name(cmd.req.verb),
	    log_q(cmd.req.stack), cmd.req.force,
	    log_q(actor), rp.code == 0 ? "accepted" : "refused",
	    log_q(rp.reason));
	/* In force at once, as the API's own commands are. */
	if (rp.code == 0 && d->ev_flags != NULL)
		event_active(d->ev_flags, EV_TIMEOUT, 1);
	if (answer_values(j, &cmd, &rp) != 0 ||
	    ops_remote_answer_build(j->cmd_val, j->cmd_len, &rp, X.m.member,
	    daemon_epoch(d), &ans) != 0 || answer_add(j, j->cmd_key,
	    ans) != 0) {
		job_failed(j, "nomem", "");
		return -1;
	}
	return 0;
}

/* A command's record seen (read or watched): queued to be taken. */
static void
apply(const struct cl_kv *kv)
{
	struct daemon *d = X.d;
	struct ops_remote_cmd cmd;
	struct cl_key k;
	struct job *j;
	char detail[128];

	if (!X.leading || !daemon_may_act(d) ||
	    cl_key_parse(X.m.prefix, kv->key, kv->key_len, &k, detail,
	    sizeof(detail)) != 0 || k.kind != CL_KEY_COMMAND ||
	    ops_remote_cmd_parse(kv->value, kv->value_len, &cmd) != 0 ||
	    cmd.answered)
		return;
	/* Our own take coming back. */
	if (cmd.taken && cmd.taken_epoch == daemon_epoch(d) &&
	    strcmp(cmd.taken_by, X.m.member) == 0)
		return;
	if (seen(kv))
		return;
	if (cmd.taken)
		/* By a leader that stopped leading before it answered: what
		 * it applied was its own; it is done here, whole. */
		log_info("cluster_command_retaken", "member=%s key=%s"
		    " taken_by=%s taken_epoch=%llu", log_q(X.m.member),
		    log_q(kv->key), log_q(cmd.taken_by),
		    (unsigned long long)cmd.taken_epoch);
	if ((j = calloc(1, sizeof(*j))) == NULL ||
	    (j->cmd_key = strndup(kv->key, kv->key_len)) == NULL ||
	    (j->cmd_val = malloc(kv->value_len + 1)) == NULL) {
		log_warn("cluster_command_unanswered", "key=%s error=%s",
		    log_q(kv->key), "nomem");
		job_free(j);
		return;
	}
	memcpy(j->cmd_val, kv->value, kv->value_len);
	j->cmd_val[kv->value_len] = '\0';
	j->cmd_len = kv->value_len;
	j->kind = JOB_COMMAND;
	j->cmd_rev = kv->mod_revision;
	j->lease = kv->lease;
	job_push(j);
	d->cl_cmd_hold = true;
	jobs_send();
}

int
dclcmd_put(struct daemon *d, const char *key, char *val)
{
	struct job *j;

	/* A group change being applied: its answer writes this same value
	 * (answer_values), in its place in the queue. */
	if (X.applying && val != NULL) {
		free(val);
		return 1;
	}
	if (!X.leading || val == NULL || (j = calloc(1, sizeof(*j))) == NULL) {
		free(val);
		return -1;
	}
	j->kind = JOB_PUT;
	if (answer_add(j, key, val) != 0) {
		job_free(j);
		return -1;
	}
	job_push(j);
	jobs_send();
	return 0;
}

static void
watch_cb(struct cl_watch *w, const struct cl_watch_result *r, void *arg)
{
	if (r->error == CL_E_COMPACTED) {
		cl_watch_stop(w);
		X.w = NULL;
		read_start();
		return;
	}
	for (size_t i = 0; i < r->nevents; i++)
		if (r->events[i].type == CL_EV_PUT)
			apply(&r->events[i].kv);
}

static void
read_cb(const struct cl_reply *r, void *arg)
{
	struct cl_watch_spec ws = { 0 };

	X.rq = NULL;
	if (!X.leading)
		return;
	if (r->error != 0) {
		log_warn("cluster_request_failed", "op=commands error=%s"
		    " detail=%s", cl_error_name(r->error), log_q(r->detail));
		retry_later();
		return;
	}
	for (size_t i = 0; i < r->r.op.nkvs; i++)
		apply(&r->r.op.kvs[i]);
	ws.key = X.dir;
	ws.prefix = true;
	ws.start_revision = r->r.header.revision + 1;
	if (cl_watch_start(X.m.client, &ws, watch_cb, NULL, &X.w) != 0) {
		X.w = NULL;
		log_warn("cluster_request_failed", "op=commands_watch");
		retry_later();
	}
}

static void
read_start(void)
{
	struct cl_op op = { 0 };

	op.kind = CL_OP_RANGE;
	op.key = X.dir;
	op.prefix = true;
	if (cl_range(X.m.client, &op, read_cb, NULL, &X.rq) != 0) {
		X.rq = NULL;
		log_warn("cluster_request_failed", "op=commands");
		retry_later();
	}
}

void
dclcmd_open(struct daemon *d, const struct dclcmd_member *m)
{
	X.d = d;
	X.m = *m;
	X.have_m = cl_key_dir(m->prefix, CL_KEY_COMMAND, NULL, X.dir,
	    sizeof(X.dir)) >= 0;
	d->cl_flushed = flushed_cb;
}

void
dclcmd_lead(struct daemon *d)
{
	if (X.leading || !X.have_m)
		return;
	X.leading = true;
	memset(X.seen_rev, 0, sizeof(X.seen_rev));
	read_start();
}

void
dclcmd_follow(struct daemon *d)
{
	X.leading = false;
	/* Writes not sent: the next leader takes their commands (and
	 * publishes its own groups). */
	cl_election_cancel(X.m.election, X.a_req);
	X.a_req = NULL;
	while (X.aq != NULL)
		job_pop();
	if (X.ev_hold != NULL)
		evtimer_del(X.ev_hold);
	if (d->cl_cmd_hold) {
		d->cl_cmd_hold = false;
		daemon_flush_schedule(d);
	}
	if (X.ev_retry != NULL)
		evtimer_del(X.ev_retry);
	cl_cancel(X.rq);
	X.rq = NULL;
	cl_watch_stop(X.w);
	X.w = NULL;
}

/* ---- given here, for the leader ---- */

/* Commands given and not answered yet, abandoned at the close. */
struct give {
	struct give		*next;
	struct ops_remote	*o;
	ops_remote_cb		*cb;
	void			*arg;
};
static struct give *gives;

static void
given_cb(const struct ops_reply *r, const char *leader, uint64_t epoch,
    void *arg)
{
	struct give *g = arg, **pp;

	for (pp = &gives; *pp != NULL; pp = &(*pp)->next)
		if (*pp == g) {
			*pp = g->next;
			break;
		}
	log_info("cluster_command_answered", "leader=%s epoch=%llu result=%s"
	    " reason=%s", log_q(leader[0] ? leader : "none"),
	    (unsigned long long)epoch, r->code == 0 ? "accepted" : "refused",
	    log_q(r->reason));
	g->cb(r, leader, epoch, g->arg);
	free(g);
}

/*
 * A command or a change about to be given: *now says why it could not be
 * (cluster_unavailable) until it is.  NULL when this member is not in the
 * cluster yet.
 */
static struct give *
give_new(ops_remote_cb *cb, void *arg, struct ops_reply *now)
{
	struct give *g;

	memset(now, 0, sizeof(*now));
	now->code = 1;
	now->outcome = OPS_FAILED;
	snprintf(now->reason, sizeof(now->reason), "cluster_unavailable");
	if (!X.have_m || (g = calloc(1, sizeof(*g))) == NULL) {
		snprintf(now->message, sizeof(now->message), "this member is"
		    " not connected to the cluster yet: nothing was done");
		return NULL;
	}
	g->cb = cb;
	g->arg = arg;
	return g;
}

/* Given (0: linked, waits for the answer), or not written (-1). */
static int
give_sent(struct give *g, int rc, const char *what, struct ops_reply *now)
{
	if (rc != 0) {
		free(g);
		snprintf(now->message, sizeof(now->message), "the %s could not"
		    " be written to etcd: nothing was done", what);
		return -1;
	}
	g->next = gives;
	gives = g;
	return 0;
}

/* How long a caller waits for the leader: time for one to be elected. */
static int64_t
give_wait_ms(void)
{
	return 2 * X.m.lease_ttl_ms + 1000;
}

int
dclcmd_give(struct daemon *d, const struct ops_request *req,
    ops_remote_cb *cb, void *arg, struct ops_reply *now)
{
	struct give *g;

	/* The acting leader too: its answer is durable only this way. */
	if (d->cluster == NULL)
		return 1;
	if ((g = give_new(cb, arg, now)) == NULL ||
	    give_sent(g, ops_remote_give(X.m.client, X.m.prefix, X.m.member,
	    *X.m.lease, req, give_wait_ms(), given_cb, g, &g->o), "command",
	    now) != 0)
		return -1;
	log_info("cluster_command_given", "member=%s group=%s cmd=%s"
	    " wait_ms=%lld", log_q(X.m.member), log_q(req->group),
	    ops_verb_name(req->verb), (long long)give_wait_ms());
	return 0;
}

int
dclcmd_give_group(struct daemon *d, enum ops_remote_gop gop,
    const struct ops_group_spec *spec, ops_remote_cb *cb, void *arg,
    struct ops_reply *now)
{
	struct give *g;

	/* The acting leader too: its answer is durable only this way. */
	if (d->cluster == NULL)
		return 1;
	if ((g = give_new(cb, arg, now)) == NULL ||
	    give_sent(g, ops_remote_give_group(X.m.client, X.m.prefix,
	    X.m.member, *X.m.lease, gop, spec, give_wait_ms(), given_cb, g,
	    &g->o), "change", now) != 0)
		return -1;
	log_info("cluster_command_given", "member=%s group=%s cmd=%s"
	    " wait_ms=%lld", log_q(X.m.member), log_q(spec->name),
	    ops_remote_gop_cmd(gop), (long long)give_wait_ms());
	return 0;
}

void
dclcmd_close(struct daemon *d)
{
	struct give *g, *next;

	dclcmd_follow(d);
	for (g = gives; g != NULL; g = next) {
		next = g->next;
		ops_remote_cancel(g->o);
		free(g);
	}
	gives = NULL;
	if (X.ev_retry != NULL)
		event_free(X.ev_retry);
	X.ev_retry = NULL;
	if (X.ev_hold != NULL)
		event_free(X.ev_hold);
	X.ev_hold = NULL;
	X.have_m = false;
	d->cl_flushed = NULL;
}
