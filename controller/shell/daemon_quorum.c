/*
 * daemon_quorum.c - the quorum of vantage points (daemon_quorum.h): each
 * member publishes its own view of every stack, the leader decides from
 * every live member's.
 *
 * Publishing.  A member's verdict of a stack lives at
 * PREFIX/verdicts/MEMBER/STACK (cluster/cl_schema.h) on the member's own
 * lease, so that it vanishes with the member: a member killed while it
 * alone sees a stack down takes its "down" with it once etcd expires the
 * lease (lease_ttl), and nothing else has to notice.  It is written only
 * when the member's health of the stack changes state (up, down,
 * unknown), never per probe: a steady cluster writes nothing.  One put per
 * stack is in flight at a time; a change meanwhile is sent after it, and
 * a put that failed is tried again within a second.  A new lease (etcd
 * expired ours while it was away) gets every verdict again.
 *
 * Deciding.  Every member reads PREFIX/verdicts/ once and watches it from
 * the revision after (as daemon_cluster.c's mirror does), keeping each
 * member's latest verdict per stack; a delete (lease gone) drops it.  Its
 * own vote is taken from its health directly, not from etcd's copy, so the
 * leader's view is never behind its own probes.  The base is the live
 * members (core/quorum.h): those holding a verdict under the prefix, and
 * those whose member record was read last (a member not yet heard on a
 * stack counts there as unknown).  For each stack quorum_decide() gives
 * the cluster's view, handed to the engine as struct eng_quorum
 * (d->qview, read through daemon_world()).  When a stack's view changes
 * for a reason other than this member's own health (which daemon.c feeds
 * to the engine itself), the groups of the stack are evaluated again.
 * Followers decide too (their engines are fed nothing while they follow:
 * daemon_cluster.c), so that a new leader starts from a warm view and
 * every member shows the same verdicts.
 *
 * Cost.  One decision walks the stack's votes (at most the live members).
 * The tables are per stack, grown as members appear.
 * XXX a member's verdicts of a stack removed by a reload stay in etcd
 * until its lease ends; the other members ignore stacks they do not have.
 */
#include "controller/shell/daemon_quorum.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <jansson.h>

#include "cluster/cl.h"
#include "cluster/cl_schema.h"
#include "controller/base/log.h"
#include "controller/core/quorum.h"
#include "controller/core/quorum_view.h"
#include "controller/shell/daemon_int.h"
#include "probes/probe.h"

#define DQ_MEMBERS_MAX	QUORUM_MAX_VOTES
#define DQ_RETRY_MS	1000
#define DQ_BATCH	64	/* puts a transaction: etcd takes 128 */
#define DQ_INFLIGHT	8	/* transactions in flight (see flush_cb) */

struct dq_vote {
	char		 member[CL_NAME_MAX];
	enum quorum_view view;
	int64_t		 since_ms;
	char		 reason[CL_REASON_MAX];
	char		 check[CL_CHECK_MAX];	/* its check's digest */
	bool		 differs;	/* from ours: counted as unknown */
};

struct dq_stack {
	char		 name[CL_NAME_MAX];	/* carried by it on reload */
	char		 check[CL_CHECK_MAX];	/* our check's digest */
	struct dq_vote	*votes;		/* other members', as etcd holds */
	size_t		 n, cap;
	/* Ours: what etcd holds, whether it must be sent, and whether the
	   batch in flight carries it. */
	bool		 pub_valid;
	enum quorum_view pub_view;
	int64_t		 pub_since;
	bool		 dirty;
	bool		 inflight;
	struct dquorum	*dq;
};

/* One stack's verdict in a batch in flight: what etcd will hold. */
struct dq_sent {
	size_t		 s;
	enum quorum_view view;
	int64_t		 since;
};

/* One transaction of verdicts in flight. */
struct dq_batch {
	struct dquorum	*dq;
	struct cl_req	*req;		/* NULL: the slot is free */
	int64_t		 lease;		/* it was sent under */
	struct dq_sent	 sent[DQ_BATCH];
	size_t		 nsent;
};

struct dquorum {
	struct daemon	*d;
	struct cl_client *c;
	char		 prefix[CFG_CLUSTER_PREFIX_MAX + 1];
	char		 member[CL_NAME_MAX];
	char		 k_verdicts[CL_KEY_MAX];
	int64_t		 lease;
	struct dq_stack	*st;		/* d->cfg->nstack */
	size_t		 nst;
	struct eng_quorum *view;	/* d->cfg->nstack: d->qview */
	size_t		 ndown;		/* stacks the quorum decides down */
	char		(*members)[CL_NAME_MAX];	/* last read */
	size_t		 nmembers;
	struct cl_watch	*watch;
	struct cl_req	*read;
	struct event	*ev_retry;
	bool		 retry_armed;
	uint64_t	 puts, put_failures;
	/* Our verdicts go in batches, a few in flight (see flush_cb). */
	struct event	*ev_flush;
	struct dq_batch	 batch[DQ_INFLIGHT];
	size_t		 nbusy;		/* batches in flight */
};

static void	 publish(struct dquorum *, size_t);
static void	 read_start(struct dquorum *);

/* ---- this member's vote ---- */

static enum quorum_view
own_view(const struct daemon *d, size_t s)
{
	switch (d->health[s].state) {
	case HEALTH_UP:
		return QUORUM_V_UP;
	case HEALTH_DOWN:
		return QUORUM_V_DOWN;
	default:
		return QUORUM_V_UNKNOWN;
	}
}

/* ---- deciding ---- */

/*
 * Decide stack s again into dq->view[s].  Returns whether the view the
 * engine reads changed (decision, counts or names).
 */
static bool
decide(struct dquorum *dq, size_t s)
{
	struct daemon *d = dq->d;
	struct quorum_vote v[QUORUM_MAX_VOTES];
	struct quorum_result r;
	struct eng_quorum q, *old = &dq->view[s];
	struct dq_stack *st = &dq->st[s];
	size_t n = 0;
	char rbuf[512];

	v[n].member = dq->member;
	v[n].view = own_view(d, s);
	v[n].since_ms = d->health[s].since_ms;
	v[n].live = true;
	n++;
	for (size_t i = 0; i < st->n && n < QUORUM_MAX_VOTES; i++) {
		if (strcmp(st->votes[i].member, dq->member) == 0)
			continue;
		v[n].member = st->votes[i].member;
		/* A verdict of another check is not one of this stack. */
		v[n].view = st->votes[i].differs ? QUORUM_V_UNKNOWN :
		    st->votes[i].view;
		v[n].since_ms = st->votes[i].since_ms;
		v[n].live = true;
		n++;
	}
	/* Live members not heard on this stack yet: unknown. */
	for (size_t m = 0; m < dq->nmembers && n < QUORUM_MAX_VOTES; m++) {
		bool seen = false;

		for (size_t i = 0; i < n && !seen; i++)
			seen = strcmp(v[i].member, dq->members[m]) == 0;
		if (seen)
			continue;
		v[n].member = dq->members[m];
		v[n].view = QUORUM_V_UNKNOWN;
		v[n].since_ms = 0;
		v[n].live = true;
		n++;
	}
	quorum_view_build(&d->cfg->cluster.quorum, v, n, &q, &r);
	if (memcmp(&q, old, sizeof(q)) == 0)
		return false;
	/* Who sees what is a state of the cluster: logged on each change
	 * (members' verdicts change only when their health does). */
	if (quorum_format(&d->cfg->cluster.quorum, v, n, &r, rbuf,
	    sizeof(rbuf)) >= 0)
		log_info("quorum_change", "stack=%s from=%s to=%s %s",
		    log_q(d->cfg->stacks[s].name),
		    quorum_decision_name(old->decision),
		    quorum_decision_name(q.decision), rbuf);
	if (old->decision == QUORUM_DOWN && dq->ndown > 0)
		dq->ndown--;
	if (q.decision == QUORUM_DOWN)
		dq->ndown++;
	*old = q;
	return true;
}

/* The view of s changed by others' verdicts: its groups look again. */
static bool
all_down(const struct dquorum *dq)
{
	return dq->nst > 0 && dq->ndown == dq->nst;
}

/*
 * Stack s's view changed: its groups look again.  The isolation gate
 * looks at every stack, but only when "the quorum sees every stack down"
 * turns true or false can it change for a group that does not use s (as
 * deliver_health does alone): evaluating every group on every change was
 * stacks x groups steps when a mass outage's verdicts arrive - 2,000
 * changes times 1,000 groups stalled a leader's loop for 54 s.
 */
static void
evaluate_stack(struct dquorum *dq, size_t s, bool was_all_down)
{
	struct daemon *d = dq->d;
	struct eng_event ev = { .kind = ENG_EV_EVALUATE };
	struct dstack *ds = &d->stacks[s];

	for (int i = 0; i < ds->ngroups; i++)
		dgroup_feed(&d->groups[ds->groups[i]], &ev);
	if (d->cfg->controller.isolation_check &&
	    was_all_down != all_down(dq))
		daemon_evaluate_all(d);
}

static void
decide_all(struct dquorum *dq, bool evaluate)
{
	for (size_t s = 0; s < dq->nst; s++) {
		bool was = all_down(dq);

		if (decide(dq, s) && evaluate)
			evaluate_stack(dq, s, was);
	}
}

/* ---- the other members' verdicts ---- */

static struct dq_vote *
vote_find(struct dq_stack *st, const char *member)
{
	for (size_t i = 0; i < st->n; i++)
		if (strcmp(st->votes[i].member, member) == 0)
			return &st->votes[i];
	return NULL;
}

static void
vote_drop(struct dq_stack *st, const char *member)
{
	struct dq_vote *v = vote_find(st, member);

	if (v == NULL)
		return;
	*v = st->votes[--st->n];
}

/*
 * Does v come from the same check as ours?  A member whose [stack]
 * section probes another URL, host, expected answer or timing judges
 * something else: its verdict counts as unknown (live, but neither up nor
 * down), said once per change.  A verdict without a digest (a member of
 * an earlier version) is taken as it is.
 */
static void
vote_compare(struct dq_stack *st, struct dq_vote *v)
{
	bool differs = v->check[0] != '\0' && st->check[0] != '\0' &&
	    strcmp(v->check, st->check) != 0;

	if (differs && !v->differs)
		log_warn("verdict_check_differs", "member=%s stack=%s check=%s"
		    " ours=%s detail=%s", log_q(v->member), log_q(st->name),
		    v->check, st->check, log_q("its [stack] check differs"
		    " from this member's: its verdict counts as unknown"));
	else if (!differs && v->differs)
		log_info("verdict_check_agrees", "member=%s stack=%s check=%s",
		    log_q(v->member), log_q(st->name), st->check);
	v->differs = differs;
}

static int
vote_put(struct dq_stack *st, const char *member, const struct cl_verdict *cv)
{
	struct dq_vote *v = vote_find(st, member);

	if (v == NULL) {
		if (st->n == st->cap) {
			size_t cap = st->cap ? 2 * st->cap : 4;
			struct dq_vote *nv;

			if (cap > DQ_MEMBERS_MAX ||
			    (nv = realloc(st->votes, cap * sizeof(*nv))) ==
			    NULL)
				return -1;
			st->votes = nv;
			st->cap = cap;
		}
		v = &st->votes[st->n++];
		memset(v, 0, sizeof(*v));
		snprintf(v->member, sizeof(v->member), "%s", member);
	}
	v->view = cv->view == CL_VIEW_UP ? QUORUM_V_UP :
	    cv->view == CL_VIEW_DOWN ? QUORUM_V_DOWN : QUORUM_V_UNKNOWN;
	v->since_ms = cv->since_ms;
	snprintf(v->reason, sizeof(v->reason), "%s", cv->reason);
	snprintf(v->check, sizeof(v->check), "%s", cv->check);
	vote_compare(st, v);
	return 0;
}

/* One key of verdicts/: put (value) or deleted.  The stack's index, or
   -1 when the key says nothing this member counts. */
static int
take_kv(struct dquorum *dq, const struct cl_kv *kv, bool deleted)
{
	struct cl_key k;
	struct cl_verdict cv;
	char detail[128];
	int s;

	if (cl_key_parse(dq->prefix, kv->key, kv->key_len, &k, detail,
	    sizeof(detail)) != 0 || k.kind != CL_KEY_VERDICT ||
	    (s = config_stack_index(dq->d->cfg, k.b)) < 0 ||
	    (size_t)s >= dq->nst)
		return -1;
	if (deleted) {
		vote_drop(&dq->st[s], k.a);
		return s;
	}
	if (cl_verdict_parse(kv->value, kv->value_len, &cv, detail,
	    sizeof(detail)) != 0) {
		log_warn("verdict_unreadable", "member=%s stack=%s detail=%s",
		    log_q(k.a), log_q(k.b), log_q(detail));
		vote_drop(&dq->st[s], k.a);
		return s;
	}
	if (vote_put(&dq->st[s], k.a, &cv) != 0)
		log_warn("verdict_dropped", "member=%s stack=%s detail=%s",
		    log_q(k.a), log_q(k.b), log_q("too many members"));
	return s;
}

static void
watch_cb(struct cl_watch *w, const struct cl_watch_result *r, void *arg)
{
	struct dquorum *dq = arg;
	int s;

	if (r->error == CL_E_COMPACTED) {
		cl_watch_stop(w);
		dq->watch = NULL;
		read_start(dq);
		return;
	}
	if (r->error != 0)
		return;		/* the client is making it again */
	for (size_t i = 0; i < r->nevents; i++) {
		bool was = all_down(dq);

		s = take_kv(dq, &r->events[i].kv,
		    r->events[i].type != CL_EV_PUT);
		if (s >= 0 && decide(dq, (size_t)s))
			evaluate_stack(dq, (size_t)s, was);
	}
}

static void
read_cb(const struct cl_reply *r, void *arg)
{
	struct dquorum *dq = arg;
	struct cl_watch_spec ws = { 0 };
	int rc;

	dq->read = NULL;
	if (r->error != 0) {
		log_debug("cluster_request_failed", "op=verdicts error=%s"
		    " detail=%s", cl_error_name(r->error), log_q(r->detail));
		if (!dq->retry_armed) {
			struct timeval tv = { DQ_RETRY_MS / 1000, 0 };

			dq->retry_armed = true;
			evtimer_add(dq->ev_retry, &tv);
		}
		return;
	}
	for (size_t s = 0; s < dq->nst; s++)
		dq->st[s].n = 0;
	for (size_t i = 0; i < r->r.op.nkvs; i++)
		(void)take_kv(dq, &r->r.op.kvs[i], false);
	decide_all(dq, true);
	ws.key = dq->k_verdicts;
	ws.prefix = true;
	ws.start_revision = r->r.header.revision + 1;
	if ((rc = cl_watch_start(dq->c, &ws, watch_cb, dq, &dq->watch)) != 0)
		log_warn("cluster_request_failed", "op=watch_verdicts error=%s",
		    cl_error_name(rc));
}

static void
read_start(struct dquorum *dq)
{
	struct cl_op op = { 0 };

	if (dq->watch != NULL || dq->read != NULL)
		return;
	op.kind = CL_OP_RANGE;
	op.key = dq->k_verdicts;
	op.prefix = true;
	if (cl_range(dq->c, &op, read_cb, dq, &dq->read) != 0)
		dq->read = NULL;
}

/* ---- publishing ours ---- */

static void
retry_later(struct dquorum *dq)
{
	struct timeval tv = { DQ_RETRY_MS / 1000, (DQ_RETRY_MS % 1000) * 1000 };

	if (dq->retry_armed)
		return;
	dq->retry_armed = true;
	evtimer_add(dq->ev_retry, &tv);
}

/*
 * A verdict is sent when it changes, never per probe.  Changes are marked
 * (dirty) and sent together: at most DQ_BATCH puts in one transaction, at
 * most DQ_INFLIGHT transactions in flight; what changes meanwhile goes in
 * the next.  A stack is in one batch at a time (inflight), so that etcd
 * never holds an older verdict after a newer one; between stacks the
 * order does not matter.  One request per stack, as at first, made a
 * member with 2,000 stacks send 2,000 requests at once on each new lease,
 * and three such members left etcd answering nobody in time: nobody could
 * lead.  One transaction at a time, as next, made a mass outage of 1,000
 * stacks wait 16 round trips, one after another, before the leader heard
 * another member's "down" for the last of them.
 */
static void
flush_soon(struct dquorum *dq)
{
	if (dq->nbusy < DQ_INFLIGHT && dq->ev_flush != NULL)
		event_active(dq->ev_flush, EV_TIMEOUT, 1);
}

static void
batch_cb(const struct cl_reply *r, void *arg)
{
	struct dq_batch *b = arg;
	struct dquorum *dq = b->dq;
	bool ok = r->error == 0 && b->lease == dq->lease;

	b->req = NULL;
	dq->nbusy--;
	for (size_t i = 0; i < b->nsent; i++) {
		struct dq_sent *se = &b->sent[i];
		struct dq_stack *st;

		if (se->s >= dq->nst)
			continue;
		st = &dq->st[se->s];
		st->inflight = false;
		if (ok) {
			st->pub_valid = true;
			st->pub_view = se->view;
			st->pub_since = se->since;
		} else {
			/* Sent under an old lease, or not taken: again. */
			st->pub_valid = false;
			st->dirty = true;
		}
	}
	b->nsent = 0;
	if (r->error != 0) {
		dq->put_failures++;
		log_debug("cluster_request_failed", "op=verdicts error=%s"
		    " detail=%s", cl_error_name(r->error), log_q(r->detail));
		retry_later(dq);
		return;
	}
	flush_soon(dq);
}

/* Send one batch in slot B of the dirty stacks from *FROM on. */
static bool
flush_one(struct dquorum *dq, struct dq_batch *b, size_t *from)
{
	struct daemon *d = dq->d;
	struct cl_op ops[DQ_BATCH];
	char *vals[DQ_BATCH], keys[DQ_BATCH][CL_KEY_MAX];
	struct cl_txn t = { 0 };
	size_t k = 0, s;
	bool sent = false;

	memset(ops, 0, sizeof(ops));
	for (s = *from; s < dq->nst && k < DQ_BATCH; s++) {
		struct dq_stack *st = &dq->st[s];
		const struct health *h = &d->health[s];
		enum quorum_view view = own_view(d, s);
		struct cl_verdict cv = { 0 };
		const char *why;

		/* One put of a stack at a time: a change while its batch
		 * is in flight stays dirty and goes after it. */
		if (!st->dirty || st->inflight)
			continue;
		st->dirty = false;
		cv.view = view == QUORUM_V_UP ? CL_VIEW_UP :
		    view == QUORUM_V_DOWN ? CL_VIEW_DOWN : CL_VIEW_UNKNOWN;
		cv.since_ms = h->since_ms > 0 ? h->since_ms : 0;
		why = h->last_reason != 0 && view == QUORUM_V_DOWN ?
		    probe_reason_name((enum probe_reason)h->last_reason) : "";
		snprintf(cv.reason, sizeof(cv.reason), "%s", why);
		snprintf(cv.check, sizeof(cv.check), "%s", st->check);
		if (cl_key_build(dq->prefix, CL_KEY_VERDICT, dq->member,
		    d->cfg->stacks[s].name, keys[k], sizeof(keys[k])) < 0 ||
		    cl_verdict_build(&cv, &vals[k]) != 0)
			continue;
		ops[k].kind = CL_OP_PUT;
		ops[k].key = keys[k];
		ops[k].value = vals[k];
		ops[k].value_len = strlen(vals[k]);
		ops[k].lease = dq->lease;
		b->sent[k].s = s;
		b->sent[k].view = view;
		b->sent[k].since = h->since_ms;
		st->inflight = true;
		k++;
	}
	*from = s;
	if (k == 0)
		return false;
	t.success = ops;
	t.nsuccess = k;
	b->dq = dq;
	b->nsent = k;
	b->lease = dq->lease;
	if (cl_txn(dq->c, &t, batch_cb, b, &b->req) == 0) {
		dq->puts += k;
		dq->nbusy++;
		sent = true;
	} else {
		b->req = NULL;
		for (size_t i = 0; i < k; i++) {
			dq->st[b->sent[i].s].inflight = false;
			dq->st[b->sent[i].s].dirty = true;
		}
		b->nsent = 0;
		retry_later(dq);
	}
	for (size_t i = 0; i < k; i++)
		free(vals[i]);
	return sent;
}

static void
flush_cb(evutil_socket_t fd, short what, void *arg)
{
	struct dquorum *dq = arg;
	size_t from = 0;

	if (dq->lease == 0)
		return;		/* the next lease sends */
	for (size_t i = 0; i < DQ_INFLIGHT && from < dq->nst; i++)
		if (dq->batch[i].req == NULL &&
		    !flush_one(dq, &dq->batch[i], &from))
			break;
}

static void
publish(struct dquorum *dq, size_t s)
{
	struct daemon *d = dq->d;
	struct dq_stack *st = &dq->st[s];
	const struct health *h = &d->health[s];

	if (st->pub_valid && !st->inflight && st->pub_view == own_view(d, s) &&
	    st->pub_since == h->since_ms)
		return;
	st->dirty = true;
	flush_soon(dq);
}

static void
retry_cb(evutil_socket_t fd, short what, void *arg)
{
	struct dquorum *dq = arg;

	dq->retry_armed = false;
	read_start(dq);
	for (size_t s = 0; s < dq->nst; s++)
		publish(dq, s);
}

/* ---- the tables, sized to the configuration in force ---- */

static void
tables_free(struct dquorum *dq)
{
	for (size_t s = 0; s < dq->nst; s++)
		free(dq->st[s].votes);
	free(dq->st);
	free(dq->view);
	dq->st = NULL;
	dq->view = NULL;
	dq->nst = 0;
}

static int
tables_build(struct dquorum *dq)
{
	size_t n = dq->d->cfg->nstack;

	dq->st = calloc(n > 0 ? n : 1, sizeof(*dq->st));
	dq->view = calloc(n > 0 ? n : 1, sizeof(*dq->view));
	if (dq->st == NULL || dq->view == NULL) {
		free(dq->st);
		free(dq->view);
		dq->st = NULL;
		dq->view = NULL;
		return -1;
	}
	dq->nst = n;
	for (size_t s = 0; s < n; s++) {
		dq->st[s].dq = dq;
		snprintf(dq->st[s].name, sizeof(dq->st[s].name), "%s",
		    dq->d->cfg->stacks[s].name);
		if (config_check_digest(&dq->d->cfg->stacks[s],
		    dq->st[s].check) != 0)
			dq->st[s].check[0] = '\0';	/* compared with none */
	}
	return 0;
}

/* Let every batch in flight go: no callback, nothing of them kept. */
static void
batches_cancel(struct dquorum *dq)
{
	for (size_t i = 0; i < DQ_INFLIGHT; i++) {
		cl_cancel(dq->batch[i].req);
		dq->batch[i].req = NULL;
		dq->batch[i].nsent = 0;
	}
	dq->nbusy = 0;
}

/* ---- the interface ---- */

int
dquorum_open(struct daemon *d, struct cl_client *c, const char *prefix,
    const char *member)
{
	struct dquorum *dq;

	if ((dq = calloc(1, sizeof(*dq))) == NULL)
		return -1;
	dq->d = d;
	dq->c = c;
	snprintf(dq->prefix, sizeof(dq->prefix), "%s", prefix);
	snprintf(dq->member, sizeof(dq->member), "%s", member);
	if (cl_key_dir(prefix, CL_KEY_VERDICT, NULL, dq->k_verdicts,
	    sizeof(dq->k_verdicts)) < 0 || tables_build(dq) != 0 ||
	    (dq->ev_retry = evtimer_new(d->base, retry_cb, dq)) == NULL ||
	    (dq->ev_flush = event_new(d->base, -1, 0, flush_cb, dq)) == NULL) {
		if (dq->ev_retry != NULL)
			event_free(dq->ev_retry);
		tables_free(dq);
		free(dq);
		return -1;
	}
	d->quorum = dq;
	d->qview = dq->view;
	decide_all(dq, false);
	read_start(dq);
	return 0;
}

void
dquorum_close(struct daemon *d)
{
	struct dquorum *dq = d->quorum;

	if (dq == NULL)
		return;
	d->quorum = NULL;
	d->qview = NULL;
	cl_watch_stop(dq->watch);
	cl_cancel(dq->read);
	batches_cancel(dq);
	if (dq->ev_flush != NULL)
		event_free(dq->ev_flush);
	if (dq->ev_retry != NULL)
		event_free(dq->ev_retry);
	tables_free(dq);
	free(dq->members);
	free(dq);
}

void
dquorum_local(struct daemon *d, int stack)
{
	struct dquorum *dq = d->quorum;
	bool was;

	if (dq == NULL || stack < 0 || (size_t)stack >= dq->nst)
		return;
	was = all_down(dq);
	(void)decide(dq, (size_t)stack);
	/* The stack's groups hear the health change itself (the caller);
	 * the others only when the quorum's "all down" turns. */
	if (d->cfg->controller.isolation_check && was != all_down(dq))
		daemon_evaluate_all(d);
	publish(dq, (size_t)stack);
}

void
dquorum_lease(struct daemon *d, int64_t lease)
{
	struct dquorum *dq = d->quorum;

	if (dq == NULL || dq->lease == lease)
		return;
	dq->lease = lease;
	for (size_t s = 0; s < dq->nst; s++) {
		dq->st[s].pub_valid = false;
		if (lease != 0)
			publish(dq, s);
	}
}

void
dquorum_members(struct daemon *d, const char *const *names, size_t n)
{
	struct dquorum *dq = d->quorum;
	char (*m)[CL_NAME_MAX];

	if (dq == NULL)
		return;
	if (n > DQ_MEMBERS_MAX)
		n = DQ_MEMBERS_MAX;
	if ((m = calloc(n > 0 ? n : 1, sizeof(*m))) == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		snprintf(m[i], sizeof(m[i]), "%s", names[i]);
	free(dq->members);
	dq->members = m;
	dq->nmembers = n;
	decide_all(dq, true);
}

/*
 * The stacks are the new configuration's: the votes, the view and what
 * was published are carried by stack name (the watch goes on); a stack
 * new here starts with nobody heard.
 */
void
dquorum_reload(struct daemon *d)
{
	struct dquorum *dq = d->quorum, old;

	if (dq == NULL)
		return;
	old = *dq;
	if (tables_build(dq) != 0)
		fatal("out_of_memory", "where=dquorum_reload");
	for (size_t s = 0; s < dq->nst; s++)
		for (size_t o = 0; o < old.nst; o++) {
			struct dq_stack *ns = &dq->st[s], *os = &old.st[o];

			if (strcmp(ns->name, os->name) != 0)
				continue;
			ns->votes = os->votes;
			ns->n = os->n;
			ns->cap = os->cap;
			/* A check changed by the reload: its verdict is
			 * sent again with the new digest, and the others'
			 * compared with it. */
			ns->pub_valid = os->pub_valid && !os->inflight &&
			    strcmp(ns->check, os->check) == 0;
			for (size_t i = 0; i < ns->n; i++)
				vote_compare(ns, &ns->votes[i]);
			ns->pub_view = os->pub_view;
			ns->pub_since = os->pub_since;
			os->votes = NULL;
			os->n = os->cap = 0;
			/* The batch in flight answers to the old slots: it
			 * is let go below, and its stacks sent again. */
			dq->view[s] = old.view[o];
			break;
		}
	batches_cancel(dq);
	tables_free(&old);
	d->qview = dq->view;
	dq->ndown = 0;
	for (size_t s = 0; s < dq->nst; s++)
		dq->ndown += dq->view[s].decision == QUORUM_DOWN;
	decide_all(dq, false);
	for (size_t s = 0; s < dq->nst; s++)
		publish(dq, s);
}

static json_t *
vote_json(enum quorum_view view, int64_t since, const char *reason)
{
	json_t *o = json_pack("{s:s, s:I}", "view", quorum_view_name(view),
	    "since_ms", (json_int_t)since);

	if (o != NULL && reason != NULL && reason[0] != '\0')
		json_object_set_new(o, "reason", json_string(reason));
	return o;
}

json_t *
dquorum_json(struct daemon *d)
{
	struct dquorum *dq = d->quorum;
	json_t *o, *stacks;
	char qbuf[16];

	if (dq == NULL)
		return NULL;
	o = json_pack("{s:s}", "quorum", cfg_quorum_name(
	    &d->cfg->cluster.quorum, qbuf, sizeof(qbuf)));
	stacks = json_object();
	if (o == NULL || stacks == NULL) {
		json_decref(o);
		json_decref(stacks);
		return NULL;
	}
	for (size_t s = 0; s < dq->nst; s++) {
		const struct eng_quorum *q = &dq->view[s];
		const struct health *h = &d->health[s];
		json_t *so, *ms;

		so = json_pack("{s:s, s:I, s:I}", "decision",
		    quorum_decision_name(q->decision), "required",
		    (json_int_t)q->required, "live", (json_int_t)q->live);
		ms = json_object();
		if (so == NULL || ms == NULL) {
			json_decref(so);
			json_decref(ms);
			continue;
		}
		json_object_set_new(ms, dq->member, vote_json(own_view(d, s),
		    h->since_ms, own_view(d, s) == QUORUM_V_DOWN &&
		    h->last_reason != 0 ? probe_reason_name(
		    (enum probe_reason)h->last_reason) : NULL));
		for (size_t i = 0; i < dq->st[s].n; i++) {
			const struct dq_vote *v = &dq->st[s].votes[i];

			json_t *vo;

			if (strcmp(v->member, dq->member) == 0)
				continue;
			vo = vote_json(v->view, v->since_ms, v->reason);
			/* Its view as it said it, and that it is not
			 * counted (verdict_check_differs). */
			if (vo != NULL && v->differs)
				json_object_set_new(vo, "check_differs",
				    json_true());
			json_object_set_new(ms, v->member, vo);
		}
		json_object_set_new(so, "members", ms);
		json_object_set_new(stacks, d->cfg->stacks[s].name, so);
	}
	json_object_set_new(o, "stacks", stacks);
	return o;
}
