/*
 * cl_election.c - the leader key, its lease and the validity bound
 * (cl_election.h says what and why; this says how).
 *
 * What we know of KEY is kept as one record with the revision it is as
 * of (known_rev): the txn's answer and every watch event update it only
 * with newer knowledge, so the answer of a txn and the watch events
 * that raced it can arrive in either order.  After each update,
 * evaluate() applies it:
 *
 *   LEADER      KEY absent or created anew  -> lost (key)
 *   FOLLOWER    KEY absent                  -> txn again
 *
 * Timers:
 *   ka_ev       the next keep-alive (renew_at after the last one sent
 *               and acknowledged; retry_us after a failure)
 *   expire_ev   valid_until (LEADER): lost (expired)
 *   retry_ev    a failed grant or txn is tried again
 *
 * Only one keep-alive is in flight at a time; a reply is judged against
 * the clock when it arrives: a renewal acknowledged after valid_until has
 * passed does not revive a leadership already over.
 */
#include "cluster/cl_election.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "cluster/cl_valid.h"

struct fenced {
	struct cl_election	*el;
	struct fenced		*next;
	struct cl_req		*req;
	cl_reply_cb		*cb;
	void			*arg;
	int64_t			 epoch;
	int64_t			 lease;
};

struct cl_election {
	struct cl_client	*c;
	char			*key;
	char			*value;
	size_t			 value_len;
	int64_t			 ttl_req_s;
	int64_t			 margin_opt_us;
	cl_election_cb		*cb;
	void			*arg;

	enum cl_election_state	 st;
	int64_t			 lease;
	int64_t			 ttl_s;		/* granted */
	int64_t			 last_ok_sent;	/* of the last acknowledged
						   renewal or grant */
	int64_t			 epoch;
	int64_t			 valid_until;

	struct cl_req		*grant_req;
	struct cl_req		*ka_req;
	struct cl_req		*txn_req;
	struct cl_req		*range_req;
	struct cl_watch		*watch;
	struct event		*ka_ev;
	struct event		*expire_ev;
	struct event		*retry_ev;
	struct fenced		*fenced;

	/* KEY as last known. */
	int64_t			 known_rev;
	bool			 key_present;
	int64_t			 key_create;
	int64_t			 key_lease;
	char			*key_value;
	size_t			 key_value_len;
	/* The leader last reported in OBSERVED. */
	int64_t			 seen_epoch;
	bool			 seen_valid;
};

static void	 grant_start(struct cl_election *);
static void	 grant_cb(const struct cl_reply *, void *);
static void	 txn_start(struct cl_election *);
static void	 txn_cb(const struct cl_reply *, void *);
static void	 ka_timer_cb(evutil_socket_t, short, void *);
static void	 ka_cb(const struct cl_reply *, void *);
static void	 expire_cb(evutil_socket_t, short, void *);
static void	 retry_cb(evutil_socket_t, short, void *);
static void	 watch_cb(struct cl_watch *, const struct cl_watch_result *,
		    void *);
static void	 range_cb(const struct cl_reply *, void *);
static void	 watch_ensure(struct cl_election *, int64_t);
static bool	 learn(struct cl_election *, int64_t, bool, const struct cl_kv *);
static void	 evaluate(struct cl_election *);
static void	 become_leader(struct cl_election *, int64_t);
static void	 lose(struct cl_election *, enum cl_lost_reason, int,
		    const char *);
static void	 stop_all(struct cl_election *);
static void	 notify_error(struct cl_election *, int, const char *);
static void	 notify_observed(struct cl_election *);
static void	 arm_us(struct event *, int64_t);
static int64_t	 margin_us(const struct cl_election *);
static int64_t	 ttl_us(const struct cl_election *);

const char *
cl_election_state_name(enum cl_election_state s)
{
	switch (s) {
	case CL_EL_IDLE:
		return "idle";
	case CL_EL_CAMPAIGNING:
		return "campaigning";
	case CL_EL_FOLLOWER:
		return "follower";
	case CL_EL_LEADER:
		return "leader";
	}
	return "unknown";
}

const char *
cl_lost_reason_name(enum cl_lost_reason r)
{
	switch (r) {
	case CL_LOST_EXPIRED:
		return "expired";
	case CL_LOST_LEASE:
		return "lease";
	case CL_LOST_KEY:
		return "key";
	case CL_LOST_FENCED:
		return "fenced";
	}
	return "unknown";
}

struct cl_election *
cl_election_new(struct cl_client *c, const struct cl_election_opts *o,
    cl_election_cb *cb, void *arg, int *err)
{
	struct cl_election	*el;
	int64_t			 ttl, m;
	int			 rc = CL_E_INVALID;

	if (c == NULL || o == NULL || o->key == NULL || o->key[0] == '\0' ||
	    o->ttl_s < 1 || o->ttl_s > 1000000 || o->margin_us < 0 ||
	    (o->value == NULL && o->value_len > 0) || cb == NULL)
		goto fail0;
	ttl = o->ttl_s * 1000000;
	m = o->margin_us > 0 ? o->margin_us : cl_valid_margin_us(ttl);
	if (!cl_valid_usable(ttl, m))
		goto fail0;
	rc = CL_E_NOMEM;
	if ((el = calloc(1, sizeof(*el))) == NULL)
		goto fail0;
	el->c = c;
	el->cb = cb;
	el->arg = arg;
	el->ttl_req_s = o->ttl_s;
	el->margin_opt_us = o->margin_us;
	if ((el->key = strdup(o->key)) == NULL ||
	    (el->value = malloc(o->value_len + 1)) == NULL ||
	    (el->key_value = strdup("")) == NULL)
		goto fail;
	if (o->value_len > 0)
		memcpy(el->value, o->value, o->value_len);
	el->value[o->value_len] = '\0';
	el->value_len = o->value_len;
	rc = CL_E_EVENT;
	if ((el->ka_ev = evtimer_new(cl_client_base(c), ka_timer_cb, el)) ==
	    NULL ||
	    (el->expire_ev = evtimer_new(cl_client_base(c), expire_cb, el)) ==
	    NULL ||
	    (el->retry_ev = evtimer_new(cl_client_base(c), retry_cb, el)) ==
	    NULL)
		goto fail;
	return el;
fail:
	cl_election_free(el);
fail0:
	if (err != NULL)
		*err = rc;
	return NULL;
}

void
cl_election_free(struct cl_election *el)
{
	if (el == NULL)
		return;
	struct fenced	*f;

	stop_all(el);
	while ((f = el->fenced) != NULL) {
		el->fenced = f->next;
		cl_cancel(f->req);
		free(f);
	}
	if (el->ka_ev != NULL)
		event_free(el->ka_ev);
	if (el->expire_ev != NULL)
		event_free(el->expire_ev);
	if (el->retry_ev != NULL)
		event_free(el->retry_ev);
	free(el->key_value);
	free(el->value);
	free(el->key);
	free(el);
}

/*
 * Cancel every request, watch and timer of the campaign.  Leader-only
 * txns in flight are left to finish: etcd fences them, and their callers
 * get their replies.
 */
static void
stop_all(struct cl_election *el)
{
	cl_cancel(el->grant_req);
	cl_cancel(el->ka_req);
	cl_cancel(el->txn_req);
	cl_cancel(el->range_req);
	el->grant_req = el->ka_req = el->txn_req = el->range_req = NULL;
	cl_watch_stop(el->watch);
	el->watch = NULL;
	if (el->ka_ev != NULL)
		evtimer_del(el->ka_ev);
	if (el->expire_ev != NULL)
		evtimer_del(el->expire_ev);
	if (el->retry_ev != NULL)
		evtimer_del(el->retry_ev);
}

static int64_t
ttl_us(const struct cl_election *el)
{
	return (el->ttl_s > 0 ? el->ttl_s : el->ttl_req_s) * 1000000;
}

static int64_t
margin_us(const struct cl_election *el)
{
	return el->margin_opt_us > 0 ? el->margin_opt_us :
	    cl_valid_margin_us(ttl_us(el));
}

static void
arm_us(struct event *ev, int64_t us)
{
	struct timeval	 tv;

	if (us < 0)
		us = 0;
	tv.tv_sec = us / 1000000;
	tv.tv_usec = us % 1000000;
	evtimer_add(ev, &tv);
}

/* --- getters --------------------------------------------------------- */

bool
cl_election_is_leader(const struct cl_election *el)
{
	return el->st == CL_EL_LEADER &&
	    cl_valid_holds(cl_client_now(el->c), el->valid_until);
}

int64_t
cl_election_valid_until(const struct cl_election *el)
{
	return el->st == CL_EL_LEADER ? el->valid_until : 0;
}

int64_t
cl_election_epoch(const struct cl_election *el)
{
	return el->st == CL_EL_LEADER ? el->epoch : 0;
}

int64_t
cl_election_lease(const struct cl_election *el)
{
	return el->lease;
}

int64_t
cl_election_ttl(const struct cl_election *el)
{
	return el->ttl_s;
}

enum cl_election_state
cl_election_state(const struct cl_election *el)
{
	return el->st;
}

const char *
cl_election_leader(const struct cl_election *el, size_t *len, int64_t *epoch)
{
	if (len != NULL)
		*len = el->key_present ? el->key_value_len : 0;
	if (epoch != NULL)
		*epoch = el->key_present ? el->key_create : 0;
	return el->key_present ? el->key_value : "";
}

int64_t
cl_election_last_renewal(const struct cl_election *el)
{
	return el->last_ok_sent;
}

/* --- campaign -------------------------------------------------------- */

int
cl_election_campaign(struct cl_election *el)
{
	if (el->st != CL_EL_IDLE)
		return 0;
	el->st = CL_EL_CAMPAIGNING;
	el->known_rev = 0;
	el->key_present = false;
	el->seen_valid = false;
	grant_start(el);
	return 0;
}

static void
notify_error(struct cl_election *el, int error, const char *detail)
{
	struct cl_election_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.kind = CL_EL_ERROR;
	ev.error = error;
	ev.detail = detail != NULL ? detail : "";
	ev.leader = "";
	ev.lease = el->lease;
	el->cb(el, &ev, el->arg);
}

static void
grant_start(struct cl_election *el)
{
	int	 rc;

	if ((rc = cl_grant(el->c, el->ttl_req_s, grant_cb, el,
	    &el->grant_req)) != 0) {
		arm_us(el->retry_ev, cl_valid_retry_us(ttl_us(el)));
		notify_error(el, rc, "lease grant");
	}
}

static void
grant_cb(const struct cl_reply *r, void *arg)
{
	struct cl_election	*el = arg;

	el->grant_req = NULL;
	if (r->error != 0) {
		arm_us(el->retry_ev, cl_valid_retry_us(ttl_us(el)));
		notify_error(el, r->error, r->detail);
		return;
	}
	el->lease = r->r.lease_id;
	el->ttl_s = r->r.lease_ttl;
	/* The lease lives at etcd until at least sent + ttl. */
	el->last_ok_sent = r->sent_us;
	arm_us(el->ka_ev, cl_valid_renew_at(el->last_ok_sent, ttl_us(el)) -
	    cl_client_now(el->c));
	txn_start(el);
}

static void
txn_start(struct cl_election *el)
{
	struct cl_cmp	 cmp;
	struct cl_op	 put;
	int		 rc;

	if (el->txn_req != NULL)
		return;
	memset(&cmp, 0, sizeof(cmp));
	cmp.key = el->key;
	cmp.target = CL_CMP_CREATE;
	cmp.result = CL_CMP_EQUAL;
	cmp.number = 0;
	memset(&put, 0, sizeof(put));
	put.kind = CL_OP_PUT;
	put.key = el->key;
	put.value = el->value;
	put.value_len = el->value_len;
	put.lease = el->lease;
	if ((rc = cl_txn_else_get(el->c, &cmp, &put, txn_cb, el,
	    &el->txn_req)) != 0) {
		arm_us(el->retry_ev, cl_valid_retry_us(ttl_us(el)));
		notify_error(el, rc, "campaign txn");
	}
}

static void
txn_cb(const struct cl_reply *r, void *arg)
{
	struct cl_election	*el = arg;
	const struct cl_op_result *op;
	struct cl_kv		 mine;
	int64_t			 rev = r->r.header.revision;

	el->txn_req = NULL;
	if (r->error != 0) {
		arm_us(el->retry_ev, cl_valid_retry_us(ttl_us(el)));
		notify_error(el, r->error, r->detail);
		return;
	}
	if (r->r.succeeded) {
		memset(&mine, 0, sizeof(mine));
		mine.key = el->key;
		mine.value = el->value;
		mine.value_len = el->value_len;
		mine.create_revision = rev;
		mine.mod_revision = rev;
		mine.lease = el->lease;
		(void)learn(el, rev, true, &mine);
	} else {
		if (r->r.nops != 1 || (op = &r->r.ops[0])->kind != CL_OP_RANGE) {
			arm_us(el->retry_ev, cl_valid_retry_us(ttl_us(el)));
			notify_error(el, CL_E_PROTOCOL,
			    "campaign txn: no range in the failure branch");
			return;
		}
		/* Same revision as the compare: KEY exists (or just went). */
		(void)learn(el, rev, op->nkvs > 0, op->nkvs > 0 ? &op->kvs[0] :
		    NULL);
	}
	if (el->key_present && el->key_lease == el->lease) {
		/* Ours: this txn, or an earlier try whose answer was lost. */
		watch_ensure(el, rev + 1);
		become_leader(el, el->key_create);
		return;
	}
	el->st = CL_EL_FOLLOWER;
	watch_ensure(el, rev + 1);
	notify_observed(el);
	evaluate(el);
}

static void
become_leader(struct cl_election *el, int64_t epoch)
{
	struct cl_election_event ev;
	int64_t			 now = cl_client_now(el->c);

	el->epoch = epoch;
	el->valid_until = cl_valid_until(el->last_ok_sent, ttl_us(el),
	    margin_us(el));
	el->st = CL_EL_LEADER;
	if (!cl_valid_holds(now, el->valid_until)) {
		/* Won, but too late to act on it: let it go. */
		lose(el, CL_LOST_EXPIRED, 0, "won after the lease's validity");
		return;
	}
	el->seen_epoch = epoch;
	el->seen_valid = true;
	arm_us(el->expire_ev, el->valid_until - now);
	memset(&ev, 0, sizeof(ev));
	ev.kind = CL_EL_ELECTED;
	ev.epoch = epoch;
	ev.valid_until_us = el->valid_until;
	ev.lease = el->lease;
	ev.leader = el->value;
	ev.leader_len = el->value_len;
	ev.detail = "";
	el->cb(el, &ev, el->arg);
}

/*
 * Take what a txn, range or watch event says about KEY as of rev, if it
 * is news.  kv NULL with present false: absent.  true if taken.
 */
static bool
learn(struct cl_election *el, int64_t rev, bool present,
    const struct cl_kv *kv)
{
	char	*v;

	if (rev < el->known_rev)
		return false;
	el->known_rev = rev;
	el->key_present = present && kv != NULL;
	if (!el->key_present) {
		el->key_create = 0;
		el->key_lease = 0;
		el->key_value[0] = '\0';
		el->key_value_len = 0;
		return true;
	}
	el->key_create = kv->create_revision;
	el->key_lease = kv->lease;
	if ((v = malloc(kv->value_len + 1)) != NULL) {
		memcpy(v, kv->value, kv->value_len);
		v[kv->value_len] = '\0';
		free(el->key_value);
		el->key_value = v;
		el->key_value_len = kv->value_len;
	}
	return true;
}

static void
notify_observed(struct cl_election *el)
{
	struct cl_election_event ev;
	int64_t			 epoch = el->key_present ? el->key_create : 0;

	if (el->seen_valid && el->seen_epoch == epoch)
		return;
	el->seen_valid = true;
	el->seen_epoch = epoch;
	memset(&ev, 0, sizeof(ev));
	ev.kind = CL_EL_OBSERVED;
	ev.epoch = epoch;
	ev.leader = el->key_present ? el->key_value : "";
	ev.leader_len = el->key_present ? el->key_value_len : 0;
	ev.lease = el->lease;
	ev.detail = "";
	el->cb(el, &ev, el->arg);
}

/* Act on what we know of KEY (see the top). */
static void
evaluate(struct cl_election *el)
{
	switch (el->st) {
	case CL_EL_LEADER:
		if (!el->key_present || el->key_create != el->epoch)
			lose(el, CL_LOST_KEY, 0, el->key_present ?
			    "leader key created anew by another" :
			    "leader key deleted");
		break;
	case CL_EL_FOLLOWER:
		if (!el->key_present && el->lease != 0 &&
		    el->txn_req == NULL && el->grant_req == NULL) {
			el->st = CL_EL_CAMPAIGNING;
			txn_start(el);
		}
		break;
	default:
		break;
	}
}

static void
retry_cb(evutil_socket_t fd, short kind, void *arg)
{
	struct cl_election	*el = arg;

	(void)fd;
	(void)kind;
	if (el->st != CL_EL_CAMPAIGNING && el->st != CL_EL_FOLLOWER)
		return;
	if (el->lease == 0) {
		if (el->grant_req == NULL)
			grant_start(el);
	} else if (el->txn_req == NULL && (el->st == CL_EL_CAMPAIGNING ||
	    !el->key_present))
		txn_start(el);
}

/* --- keeping the lease ----------------------------------------------- */

static void
ka_timer_cb(evutil_socket_t fd, short kind, void *arg)
{
	struct cl_election	*el = arg;
	int			 rc;

	(void)fd;
	(void)kind;
	if (el->lease == 0 || el->ka_req != NULL)
		return;
	if ((rc = cl_keepalive(el->c, el->lease, ka_cb, el, &el->ka_req)) !=
	    0) {
		arm_us(el->ka_ev, cl_valid_retry_us(ttl_us(el)));
		notify_error(el, rc, "keep-alive");
	}
}

static void
ka_cb(const struct cl_reply *r, void *arg)
{
	struct cl_election	*el = arg;
	int64_t			 now = cl_client_now(el->c), next;

	el->ka_req = NULL;
	if (el->st == CL_EL_LEADER && !cl_valid_holds(now, el->valid_until)) {
		/* Over already; a late answer does not bring it back. */
		lose(el, CL_LOST_EXPIRED, r->error, r->detail);
		return;
	}
	if (r->error == CL_E_NOTFOUND) {
		if (el->st == CL_EL_LEADER) {
			el->lease = 0;	/* nothing to revoke */
			lose(el, CL_LOST_LEASE, r->error, r->detail);
			return;
		}
		/* A follower's lease: take a new one, campaign with it. */
		el->lease = 0;
		cl_cancel(el->txn_req);
		el->txn_req = NULL;
		el->st = CL_EL_CAMPAIGNING;
		notify_error(el, r->error, r->detail);
		if (el->st == CL_EL_CAMPAIGNING && el->lease == 0 &&
		    el->grant_req == NULL)
			grant_start(el);
		return;
	}
	if (r->error != 0) {
		arm_us(el->ka_ev, cl_valid_retry_us(ttl_us(el)));
		notify_error(el, r->error, r->detail);
		return;
	}
	if (r->sent_us > el->last_ok_sent)
		el->last_ok_sent = r->sent_us;
	if (r->r.lease_ttl > 0)
		el->ttl_s = r->r.lease_ttl;
	if (el->st == CL_EL_LEADER) {
		el->valid_until = cl_valid_until(el->last_ok_sent, ttl_us(el),
		    margin_us(el));
		if (!cl_valid_holds(now, el->valid_until)) {
			lose(el, CL_LOST_EXPIRED, 0,
			    "renewal acknowledged too late");
			return;
		}
		arm_us(el->expire_ev, el->valid_until - now);
	}
	next = cl_valid_renew_at(el->last_ok_sent, ttl_us(el));
	arm_us(el->ka_ev, next - now);
	if (el->st == CL_EL_LEADER) {
		struct cl_election_event ev;

		memset(&ev, 0, sizeof(ev));
		ev.kind = CL_EL_RENEWED;
		ev.epoch = el->epoch;
		ev.valid_until_us = el->valid_until;
		ev.lease = el->lease;
		ev.leader = el->value;
		ev.leader_len = el->value_len;
		ev.detail = "";
		el->cb(el, &ev, el->arg);
	}
}

static void
expire_cb(evutil_socket_t fd, short kind, void *arg)
{
	struct cl_election	*el = arg;
	int64_t			 now = cl_client_now(el->c);

	(void)fd;
	(void)kind;
	if (el->st != CL_EL_LEADER)
		return;
	if (cl_valid_holds(now, el->valid_until)) {
		/* Early (timer and clock differ): wait for the rest. */
		arm_us(el->expire_ev, el->valid_until - now);
		return;
	}
	lose(el, CL_LOST_EXPIRED, 0, "no renewal acknowledged in time");
}

/* --- watching KEY ---------------------------------------------------- */

static void
watch_ensure(struct cl_election *el, int64_t from)
{
	struct cl_watch_spec	 s;
	int			 rc;

	if (el->watch != NULL)
		return;
	memset(&s, 0, sizeof(s));
	s.key = el->key;
	s.start_revision = from;
	if ((rc = cl_watch_start(el->c, &s, watch_cb, el, &el->watch)) != 0)
		notify_error(el, rc, "watch of the leader key");
}

static void
watch_cb(struct cl_watch *w, const struct cl_watch_result *r, void *arg)
{
	struct cl_election	*el = arg;
	const struct cl_event	*e;
	struct cl_op		 get;
	size_t			 i;
	int			 rc;

	if (r->error == CL_E_COMPACTED) {
		/* Read KEY again, then watch from after that read. */
		cl_watch_stop(w);
		el->watch = NULL;
		memset(&get, 0, sizeof(get));
		get.kind = CL_OP_RANGE;
		get.key = el->key;
		if (el->range_req == NULL && (rc = cl_range(el->c, &get,
		    range_cb, el, &el->range_req)) != 0)
			notify_error(el, rc, "range of the leader key");
		return;
	}
	if (r->error != 0) {
		notify_error(el, r->error, r->detail);
		return;
	}
	for (i = 0; i < r->nevents; i++) {
		e = &r->events[i];
		(void)learn(el, e->kv.mod_revision, e->type == CL_EV_PUT,
		    &e->kv);
	}
	if (r->nevents == 0)
		return;
	if (el->st == CL_EL_FOLLOWER)
		notify_observed(el);
	evaluate(el);
}

static void
range_cb(const struct cl_reply *r, void *arg)
{
	struct cl_election	*el = arg;

	el->range_req = NULL;
	if (r->error != 0) {
		/* Without a watch nothing else will ask again: retry. */
		notify_error(el, r->error, r->detail);
		watch_ensure(el, el->known_rev + 1);
		return;
	}
	(void)learn(el, r->r.header.revision, r->r.op.nkvs > 0,
	    r->r.op.nkvs > 0 ? &r->r.op.kvs[0] : NULL);
	watch_ensure(el, r->r.header.revision + 1);
	if (el->st == CL_EL_FOLLOWER)
		notify_observed(el);
	evaluate(el);
}

/* --- the end of leadership ------------------------------------------- */

/* Back to IDLE, revoke the lease, tell the caller (last thing done). */
static void
lose(struct cl_election *el, enum cl_lost_reason reason, int error,
    const char *detail)
{
	struct cl_election_event ev;
	int64_t			 lease = el->lease, epoch = el->epoch;

	stop_all(el);
	el->st = CL_EL_IDLE;
	el->epoch = 0;
	el->valid_until = 0;
	el->lease = 0;
	/* Fire and forget: if it fails, the lease expires by itself. */
	if (lease != 0 && cl_revoke(el->c, lease, NULL, NULL, NULL) != 0) {
		/* nothing more to try */
	}
	memset(&ev, 0, sizeof(ev));
	ev.kind = CL_EL_LOST;
	ev.reason = reason;
	ev.error = error;
	ev.detail = detail != NULL ? detail : "";
	ev.epoch = epoch;
	ev.lease = lease;
	ev.leader = "";
	el->cb(el, &ev, el->arg);
}

int
cl_election_resign(struct cl_election *el, cl_reply_cb *done, void *arg)
{
	int64_t	 lease = el->lease;

	stop_all(el);
	el->st = CL_EL_IDLE;
	el->epoch = 0;
	el->valid_until = 0;
	el->lease = 0;
	if (lease == 0)
		return CL_E_NOTFOUND;
	/* The client owns the request: it outlives the election. */
	return cl_revoke(el->c, lease, done, arg, NULL);
}

/* --- leader-only transactions ---------------------------------------- */

void
cl_election_fence(const char *key, int64_t epoch, int64_t lease,
    struct cl_cmp out[CL_FENCE_NCMP])
{
	memset(out, 0, CL_FENCE_NCMP * sizeof(*out));
	out[0].key = key;
	out[0].target = CL_CMP_CREATE;
	out[0].result = CL_CMP_EQUAL;
	out[0].number = epoch;
	out[1].key = key;
	out[1].target = CL_CMP_LEASE;
	out[1].result = CL_CMP_EQUAL;
	out[1].number = lease;
}

static void
fenced_unlink(struct cl_election *el, struct fenced *f)
{
	struct fenced	**pp;

	for (pp = &el->fenced; *pp != NULL; pp = &(*pp)->next)
		if (*pp == f) {
			*pp = f->next;
			return;
		}
}

static void
fenced_cb(const struct cl_reply *r, void *arg)
{
	struct fenced		*f = arg;
	struct cl_election	*el = f->el;
	struct cl_reply		 out = *r;
	const struct cl_op_result *lk;
	bool			 ours;
	cl_reply_cb		*cb = f->cb;
	void			*cbarg = f->arg;
	int64_t			 epoch = f->epoch, lease = f->lease;

	fenced_unlink(el, f);
	free(f);
	if (r->error == 0 && !r->r.succeeded) {
		if (r->r.nops < 1 || r->r.ops[0].kind != CL_OP_RANGE) {
			out.error = CL_E_PROTOCOL;
			out.detail = "leader-only txn: no range of the leader key";
			memset(&out.r, 0, sizeof(out.r));
		} else {
			lk = &r->r.ops[0];
			ours = lk->nkvs > 0 && lk->kvs[0].create_revision ==
			    epoch && lk->kvs[0].lease == lease;
			out.r.ops = r->r.ops + 1;
			out.r.nops = r->r.nops - 1;
			if (!ours) {
				out.error = CL_E_FENCED;
				out.detail = lk->nkvs > 0 ?
				    "the leader key belongs to another epoch" :
				    "the leader key is gone";
			}
		}
	}
	if (out.error == CL_E_FENCED && el->st == CL_EL_LEADER &&
	    el->epoch == epoch) {
		/* Tell the leader first, then the writer. */
		lose(el, CL_LOST_FENCED, CL_E_FENCED, out.detail);
	}
	if (cb != NULL)
		cb(&out, cbarg);
}

int
cl_election_txn(struct cl_election *el, const struct cl_txn *t,
    cl_reply_cb *cb, void *arg, struct cl_req **out)
{
	struct cl_cmp	*cmp = NULL;
	struct cl_op	*fail = NULL;
	struct cl_txn	 ft;
	struct fenced	*f = NULL;
	int		 rc = CL_E_NOMEM;

	if (out != NULL)
		*out = NULL;
	if (t == NULL || (t->ncmp > 0 && t->cmp == NULL) ||
	    (t->nfailure > 0 && t->failure == NULL))
		return CL_E_INVALID;
	if (!cl_election_is_leader(el))
		return CL_E_NOTLEADER;
	if ((cmp = calloc(t->ncmp + CL_FENCE_NCMP, sizeof(*cmp))) == NULL ||
	    (fail = calloc(t->nfailure + 1, sizeof(*fail))) == NULL ||
	    (f = calloc(1, sizeof(*f))) == NULL)
		goto out;
	cl_election_fence(el->key, el->epoch, el->lease, cmp);
	if (t->ncmp > 0)
		memcpy(cmp + CL_FENCE_NCMP, t->cmp, t->ncmp * sizeof(*cmp));
	fail[0].kind = CL_OP_RANGE;
	fail[0].key = el->key;
	if (t->nfailure > 0)
		memcpy(fail + 1, t->failure, t->nfailure * sizeof(*fail));
	ft = *t;
	ft.cmp = cmp;
	ft.ncmp = t->ncmp + CL_FENCE_NCMP;
	ft.failure = fail;
	ft.nfailure = t->nfailure + 1;
	f->el = el;
	f->cb = cb;
	f->arg = arg;
	f->epoch = el->epoch;
	f->lease = el->lease;
	if ((rc = cl_txn(el->c, &ft, fenced_cb, f, &f->req)) != 0)
		goto out;
	f->next = el->fenced;
	el->fenced = f;
	if (out != NULL)
		*out = f->req;
	f = NULL;
out:
	free(f);
	free(fail);
	free(cmp);
	return rc;
}

void
cl_election_cancel(struct cl_election *el, struct cl_req *req)
{
	struct fenced	*f;

	if (req == NULL)
		return;
	for (f = el->fenced; f != NULL; f = f->next)
		if (f->req == req) {
			fenced_unlink(el, f);
			cl_cancel(req);
			free(f);
			return;
		}
}
