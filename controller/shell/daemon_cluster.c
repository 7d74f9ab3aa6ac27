/*
 * daemon_cluster.c - the daemon as a member of a cluster ([cluster]):
 * its member record, the leader election (cluster/cl_election.h), the
 * configuration digest that a member must share with the leader to lead,
 * and what becoming and ceasing to be the leader mean for the groups.
 * The groups' state in etcd is daemon_cluster_state.c's; the commands,
 * the run-time groups and the quorum have their own files beside it.
 * Without [cluster] nothing here runs (d->cluster is NULL).
 *
 * Who acts.  Only the acting leader runs hooks and sends UPDATEs:
 * daemon_may_act() (daemon_int.h) is checked by the action runner before
 * every hook and by the DNS glue before every UPDATE.  It is true while
 * d->cl_acting (set here once elected, digest agreed) and the clock
 * (CLOCK_BOOTTIME) is before d->cl_valid_until_us, the election's
 * validity bound:
 *
 *   valid_until = S + lease_ttl - margin,  margin = 1 % of lease_ttl + 100 ms
 *
 * with S the moment the last renewal etcd acknowledged was sent
 * (cl_election.h states the argument and the clock assumptions: one
 * clock on this host, CLOCK_BOOTTIME, and a rate error between it and
 * etcd leader's clock far below 1 %).  So this member stops starting
 * anything before etcd can expire its lease and let another member
 * create the leader key.  What the margin cannot cover (a process frozen
 * between the check and the act) the DNS server covers: every UPDATE
 * requires the ownership TXT with our epoch, which the next leader
 * replaces first (daemon_dns.c, the claim).
 *
 * Followers hold, they do not drop.  A member that does not act keeps
 * every group `waiting` (as at start before the records are read): its
 * probes run and its health is kept and served, but its engines are fed
 * nothing, so no action is ever produced to be thrown away.  What a
 * follower has seen is not lost either: on becoming the leader each
 * group's state is loaded again from the store and its record read back
 * (world_take_over, as a restarted daemon does), then the engine is
 * resumed and evaluates against the health the member has kept warm.
 * A leader that steps down does the same in reverse: its groups wait; a
 * hook already running goes on until it exits or its hook_timeout kills
 * it, and its end is not fed to the engine, so no next phase starts; a
 * step committed but not yet carried out is withheld by
 * daemon_may_act().  The state in the store then says the phase was
 * started and not finished: a later leadership of this member resumes it
 * as a restart would (same id, attempt + 1).
 *
 * Membership and the digest.  Each member keeps PREFIX/members/MEMBER (a
 * member record with its configuration digest) on a lease of its own,
 * renewed every lease_ttl/3.  The name is claimed: the record is created
 * only if absent and rewritten only while it is on our lease, because
 * two members of one name would share their verdicts, their commands'
 * answers and their hooks' records.  Found on another lease, it may be
 * this member's previous life (killed, its lease not yet expired), so we
 * wait: a name still held by another lease after DCL_NAME_WAIT_TTLS
 * lease_ttls is another live member's, and we stop with member_duplicate
 * (exit status 1).  Until the name is ours we neither campaign nor
 * publish verdicts.  The member reads the members and PREFIX/digest (the
 * digest of the leader that wrote it last) at the same pace.  A member
 * campaigns only while it is eligible: no digest published yet, or the
 * same digest as ours, or a strict majority of the live members carrying
 * ours (a configuration rolled out to most members may take over when the
 * leader key is free).  Otherwise it does not campaign and says
 * config_mismatch, once per change.  An elected leader writes its digest
 * in a transaction fenced on its leader key and conditioned on the digest
 * key being as last read, and acts only once that succeeded.
 *
 * etcd unavailable.  When a request to etcd fails for want of an
 * endpoint or quorum, cluster_unavailable is logged once (and
 * cluster_available when an answer comes again).  The leader's renewals
 * fail with it, so its validity runs out and it stops acting; the
 * followers cannot be elected: nothing moves, probes go on.
 */
#include "controller/shell/daemon_int.h"
#include "controller/shell/daemon_cluster_cmd.h"
#include "controller/shell/daemon_cluster_rt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>
#include <jansson.h>

#include "controller/base/log.h"
#include "controller/shell/daemon_cluster_int.h"
#include "controller/shell/daemon_quorum.h"
#include "controller/shell/hook.h"


/* A name held by another lease this long (in lease_ttls) is a duplicate:
 * a dead member's lease ends after one lease_ttl (two allow for a previous
 * life started with a longer one, or for etcd's own lease checks). */
#define DCL_NAME_WAIT_TTLS	3

static void	 tick_cb(evutil_socket_t, short, void *);
static void	 member_put(struct dcluster *);
static void	 keepalive_cb(const struct cl_reply *, void *);
static void	 election_cb(struct cl_election *,
		    const struct cl_election_event *, void *);

/* ---- availability ---- */

static void
dcl_reachable(struct dcluster *cl)
{
	if (cl->available)
		return;
	cl->available = true;
	if (cl->unavailable_logged) {
		log_info("cluster_available", "member=%s endpoint=%s",
		    log_q(cl->member),
		    log_q(cl_client_endpoint(cl->c)));
		cl->unavailable_logged = false;
	}
}

static void
dcl_unreachable(struct dcluster *cl, int error, const char *detail)
{
	if (!cl->available && cl->unavailable_logged)
		return;
	cl->available = false;
	if (cl->unavailable_logged)
		return;
	cl->unavailable_logged = true;
	log_warn("cluster_unavailable", "member=%s error=%s detail=%s"
	    " consequence=%s", log_q(cl->member),
	    cl_error_name(error), log_q(detail != NULL ? detail : ""),
	    log_q("no phase and no switch starts; the published records"
	    " stay; probes go on"));
}

void
dcl_reply_seen(struct dcluster *cl, const struct cl_reply *r)
{
	if (r->error == 0 || r->error == CL_E_NOTFOUND ||
	    r->error == CL_E_FENCED)
		dcl_reachable(cl);
	else if (r->error == CL_E_UNAVAILABLE)
		dcl_unreachable(cl, r->error, r->detail);
}

/* ---- acting, and ceasing to act ---- */

/* Every group waits: the engines are fed nothing (see the top). */
static void
dcl_hold_all(struct daemon *d)
{
	for (size_t i = 0; i < d->cfg->ngroup; i++) {
		struct dgroup *g = &d->groups[i];

		g->waiting = true;
		g->resume_pending = false;
		g->owner_ok = false;
		g->owner_doubt = false;
	}
}

void
dcl_step_down(struct dcluster *cl, const char *why)
{
	struct daemon *d = cl->d;

	if (!d->cl_acting)
		return;
	d->cl_acting = false;
	d->cl_valid_until_us = 0;
	cl->lost++;
	dclcmd_follow(d);
	dcl_hold_all(d);
	log_warn("leader_lost", "member=%s epoch=%llu reason=%s"
	    " hooks_running=%zu detail=%s", log_q(cl->member),
	    (unsigned long long)d->cl_epoch, why, hook_runner_count(d->hooks),
	    log_q("no hook and no UPDATE starts any more; running hooks"
	    " end by themselves or at their hook_timeout"));
}

void
dcl_act(struct dcluster *cl, const struct world_states *ws)
{
	struct daemon *d = cl->d;

	if (d->cl_acting || d->stopping)
		return;
	d->cl_acting = true;
	d->cl_epoch = (uint64_t)cl_election_epoch(cl->el);
	d->cl_valid_until_us = cl->test_ignore_validity ? INT64_MAX :
	    cl_election_valid_until(cl->el);
	cl->acting_since_ms = clock_wall_ms();
	cl->elections++;
	/* Steps of an earlier leadership still queued are not ours to
	 * carry out: the states are loaded again below. */
	daemon_flush_discard(d);
	log_info("leader_elected", "member=%s epoch=%llu lease_ttl_s=%lld"
	    " groups=%zu", log_q(cl->member),
	    (unsigned long long)d->cl_epoch, (long long)cl->ttl_s,
	    d->cfg->ngroup);
	world_take_over(d, ws);
	dclcmd_lead(d);
	dclrt_lead(d);
}

/* ---- the digest, written once elected ---- */

static void
digest_written_cb(const struct cl_reply *r, void *arg)
{
	struct dcluster *cl = arg;

	cl->claim_busy = false;
	dcl_reply_seen(cl, r);
	if (cl_election_state(cl->el) != CL_EL_LEADER)
		return;
	if (r->error == 0 && r->r.succeeded) {
		snprintf(cl->leader_digest, sizeof(cl->leader_digest), "%s",
		    cl->digest);
		cl->digest_ok = true;
		dcl_load_states(cl);
		return;
	}
	if (r->error == 0) {
		/* The digest changed since we read it: read again, judge. */
		log_info("cluster_digest_changed", "member=%s detail=%s",
		    log_q(cl->member),
		    log_q("read again before leading"));
		cl->read_once = false;
		(void)cl_election_resign(cl->el, NULL, NULL);
		event_active(cl->ev_tick, EV_TIMEOUT, 1);
		return;
	}
	/* Fenced: the election loses too (its callback).  Otherwise try
	 * again at the next tick while we still lead. */
	log_warn("cluster_request_failed", "op=digest error=%s detail=%s",
	    cl_error_name(r->error), log_q(r->detail));
}

static void
dcl_claim(struct dcluster *cl)
{
	struct cl_cmp cmp = { 0 };
	struct cl_op put = { 0 };
	struct cl_txn t = { 0 };
	int rc;

	if (cl->claim_busy || cl->d->cl_acting)
		return;
	if (cl->digest_ok) {		/* the states read had failed */
		dcl_load_states(cl);
		return;
	}
	/* The record says since when we lead (failoverctl status). */
	{
		struct cl_digest_rec dr = { 0 };
		char *rec = NULL;

		snprintf(dr.digest, sizeof(dr.digest), "%s", cl->digest);
		snprintf(dr.member, sizeof(dr.member), "%s", cl->member);
		dr.since_ms = clock_wall_ms();
		if (cl_digest_build(&dr, &rec) == 0) {
			free(cl->digest_rec);
			cl->digest_rec = rec;
		}
	}
	cmp.key = cl->k_digest;
	if (cl->digest_mod == 0) {
		cmp.target = CL_CMP_CREATE;
		cmp.number = 0;
	} else {
		cmp.target = CL_CMP_MOD;
		cmp.number = cl->digest_mod;
	}
	cmp.result = CL_CMP_EQUAL;
	put.kind = CL_OP_PUT;
	put.key = cl->k_digest;
	put.value = cl->digest_rec;
	put.value_len = strlen(cl->digest_rec);
	t.cmp = &cmp;
	t.ncmp = 1;
	t.success = &put;
	t.nsuccess = 1;
	rc = cl_election_txn(cl->el, &t, digest_written_cb, cl, NULL);
	if (rc == 0)
		cl->claim_busy = true;
	else
		log_warn("cluster_request_failed", "op=digest error=%s",
		    cl_error_name(rc));
}

/* A leader's digest changed by a reload: published, fenced on the
 * leader key only (it is the leader's to define). */
static void
digest_published_cb(const struct cl_reply *r, void *arg)
{
	struct dcluster *cl = arg;

	dcl_reply_seen(cl, r);
	if (r->error != 0)
		log_warn("cluster_request_failed", "op=digest error=%s"
		    " detail=%s", cl_error_name(r->error), log_q(r->detail));
}

static void
dcl_publish_digest(struct dcluster *cl)
{
	struct cl_op put = { 0 };
	struct cl_txn t = { 0 };

	put.kind = CL_OP_PUT;
	put.key = cl->k_digest;
	put.value = cl->digest_rec;
	put.value_len = strlen(cl->digest_rec);
	t.success = &put;
	t.nsuccess = 1;
	if (cl_election_txn(cl->el, &t, digest_published_cb, cl, NULL) != 0)
		log_warn("cluster_request_failed", "op=digest");
}

/* ---- eligibility ---- */

/*
 * The digest last published is ours.  Or none is published yet and a
 * strict majority of the live members carry ours, as seen once we have
 * been a member for a lease_ttl (members started together see each other
 * first, so that one started a moment earlier with another configuration
 * does not lead them).  Or the published one is no live member's any more
 * (every member was given the new configuration, the leader last) and at
 * least two live members, a strict majority, carry ours: a member alone
 * with a configuration of its own never leads.
 */
static bool
dcl_eligible(const struct dcluster *cl)
{
	size_t same = 0, old = 0;

	if (cl->digest_mod != 0 && strcmp(cl->leader_digest, cl->digest) == 0)
		return true;
	if (clock_mono_ms() - cl->joined_ms < cl->ttl_s * 1000)
		return false;
	for (size_t i = 0; i < cl->nmembers; i++) {
		if (strcmp(cl->members[i].digest, cl->digest) == 0)
			same++;
		if (strcmp(cl->members[i].digest, cl->leader_digest) == 0)
			old++;
	}
	if (2 * same <= cl->nmembers)
		return false;
	return cl->digest_mod == 0 || (old == 0 && same >= 2);
}

static void
dcl_judge(struct dcluster *cl)
{
	struct daemon *d = cl->d;
	enum cl_election_state st = cl_election_state(cl->el);

	if (!cl->name_held) {
		cl->eligible = false;	/* see "Membership" above */
		return;
	}
	cl->eligible = dcl_eligible(cl);
	if (!cl->eligible && cl->digest_mod == 0 &&
	    clock_mono_ms() - cl->joined_ms < cl->ttl_s * 1000)
		return;		/* no digest yet: first see who else joins */
	if (!cl->eligible) {
		if (!cl->mismatch_logged)
			log_error("config_mismatch", "member=%s digest=%s"
			    " leader_digest=%s written_by=%s detail=%s",
			    log_q(cl->member), cl->digest,
			    cl->digest_mod != 0 ? cl->leader_digest : "none",
			    log_q(cl->digest_mod != 0 ? cl->leader_digest_by :
			    "none"), log_q(cl->digest_mod != 0 ?
			    "this member's [dns], [stack] and [group] sections"
			    " differ from the leader's: it does not lead (it"
			    " keeps probing)" : "no leader yet, and most live"
			    " members have another [dns], [stack] and [group]:"
			    " this member does not lead (it keeps probing)"));
		cl->mismatch_logged = 1;
		if (st != CL_EL_IDLE) {
			dcl_step_down(cl, "config_mismatch");
			(void)cl_election_resign(cl->el, NULL, NULL);
		}
		return;
	}
	if (cl->mismatch_logged)
		log_info("config_match", "member=%s digest=%s",
		    log_q(cl->member), cl->digest);
	cl->mismatch_logged = 0;
	if (st == CL_EL_IDLE && !d->stopping) {
		int rc = cl_election_campaign(cl->el);

		if (rc != 0)
			log_warn("cluster_request_failed", "op=campaign"
			    " error=%s", cl_error_name(rc));
	} else if (st == CL_EL_LEADER && !d->cl_acting)
		dcl_claim(cl);
}

static void
read_cb(const struct cl_reply *r, void *arg)
{
	struct dcluster *cl = arg;
	char detail[256];

	cl->read_busy = false;
	dcl_reply_seen(cl, r);
	if (r->error != 0 || r->r.nops != 2) {
		if (r->error != CL_E_UNAVAILABLE)
			log_warn("cluster_request_failed", "op=read error=%s"
			    " detail=%s", cl_error_name(r->error),
			    log_q(r->detail));
		return;
	}
	cl->nmembers = 0;
	for (size_t i = 0; i < r->r.ops[0].nkvs &&
	    cl->nmembers < DCL_MEMBERS_MAX; i++) {
		const struct cl_kv *kv = &r->r.ops[0].kvs[i];
		struct cl_key k;
		struct cl_member_rec m;
		struct dcl_member *dm = &cl->members[cl->nmembers];

		if (cl_key_parse(cl->prefix, kv->key, kv->key_len, &k, detail,
		    sizeof(detail)) != 0 || k.kind != CL_KEY_MEMBER ||
		    cl_member_parse(kv->value, kv->value_len, k.a, &m, detail,
		    sizeof(detail)) != 0)
			continue;
		snprintf(dm->name, sizeof(dm->name), "%s", m.member);
		snprintf(dm->digest, sizeof(dm->digest), "%s", m.digest);
		snprintf(dm->advertise, sizeof(dm->advertise), "%s",
		    m.advertise);
		dm->started_ms = m.started_ms;
		cl->nmembers++;
	}
	cl->digest_mod = 0;
	cl->leader_digest[0] = cl->leader_digest_by[0] = '\0';
	if (r->r.ops[1].nkvs == 1) {
		const struct cl_kv *kv = &r->r.ops[1].kvs[0];
		struct cl_digest_rec dr;

		cl->digest_mod = kv->mod_revision;
		if (cl_digest_parse(kv->value, kv->value_len, &dr, detail,
		    sizeof(detail)) == 0) {
			snprintf(cl->leader_digest, sizeof(cl->leader_digest),
			    "%s", dr.digest);
			snprintf(cl->leader_digest_by,
			    sizeof(cl->leader_digest_by), "%s", dr.member);
		} else
			snprintf(cl->leader_digest, sizeof(cl->leader_digest),
			    "unreadable");
	}
	cl->read_ms = clock_wall_ms();
	cl->read_once = true;
	{
		const char *names[DCL_MEMBERS_MAX];

		for (size_t i = 0; i < cl->nmembers; i++)
			names[i] = cl->members[i].name;
		dquorum_members(cl->d, names, cl->nmembers);
	}
	dcl_judge(cl);
	dcl_mirror_start(cl);
}

static void
dcl_read(struct dcluster *cl)
{
	struct cl_op ops[2] = { { 0 }, { 0 } };
	struct cl_txn t = { 0 };

	if (cl->read_busy)
		return;
	ops[0].kind = CL_OP_RANGE;
	ops[0].key = cl->k_members;
	ops[0].prefix = true;
	ops[1].kind = CL_OP_RANGE;
	ops[1].key = cl->k_digest;
	t.success = ops;
	t.nsuccess = 2;
	if (cl_txn(cl->c, &t, read_cb, cl, NULL) == 0)
		cl->read_busy = true;
}

/* ---- our member record, on our member lease ---- */

/* Our name is on our lease now: we may publish verdicts and campaign. */
static void
name_held(struct dcluster *cl)
{
	if (cl->name_taken_ms != 0)
		log_info("member_name_held", "member=%s lease=%lld",
		    log_q(cl->member), (long long)cl->mlease);
	cl->name_held = true;
	cl->name_taken_ms = 0;
	dquorum_lease(cl->d, cl->mlease);
}

/* Not (or no longer) ours: no verdicts go out under it. */
static void
name_lost(struct dcluster *cl)
{
	if (cl->name_held)
		dquorum_lease(cl->d, 0);
	cl->name_held = false;
}

/* The record on another lease: wait for it to end, or stop. */
static void
name_taken(struct dcluster *cl, const struct cl_kv *kv)
{
	struct cl_member_rec m = { 0 };
	char detail[256];
	int64_t now = clock_mono_ms();

	name_lost(cl);
	if (cl->name_taken_ms == 0) {
		cl->name_taken_ms = now;
		log_warn("member_name_taken", "member=%s lease=%lld"
		    " wait_ms=%lld detail=%s", log_q(cl->member),
		    (long long)kv->lease,
		    (long long)(DCL_NAME_WAIT_TTLS * cl->ttl_s * 1000),
		    log_q("another lease holds this member's name: a previous"
		    " life of this member, or another member of the same"
		    " name; this one waits and takes no part"));
	}
	if (now - cl->name_taken_ms < DCL_NAME_WAIT_TTLS * cl->ttl_s * 1000)
		return;
	if (cl_member_parse(kv->value, kv->value_len, cl->member, &m,
	    detail, sizeof(detail)) != 0)
		snprintf(m.advertise, sizeof(m.advertise), "unreadable");
	log_error("member_duplicate", "member=%s holder_advertise=%s"
	    " holder_started_ms=%lld detail=%s", log_q(cl->member),
	    log_q(m.advertise), (long long)m.started_ms,
	    log_q("another live member has this [cluster] member name:"
	    " each member needs a name of its own; stopping"));
	daemon_stop_failed(cl->d, "member_duplicate");
}

/*
 * Not held: create it if absent.  Held: rewrite it only while it is on
 * our lease.  Either way the failure branch reads it back, to know whose
 * it is.  At most two sends a tick, so that a name that flips between
 * absent and ours cannot spin.
 */
static void
member_put_cb(const struct cl_reply *r, void *arg)
{
	struct dcluster *cl = arg;
	const struct cl_op_result *o;

	cl->mlease_busy = false;
	dcl_reply_seen(cl, r);
	if (r->error == CL_E_NOTFOUND) {
		/* Our lease ran out (while we waited for the name, or etcd
		 * was away): the next tick asks for a new one. */
		cl->mlease = 0;
		name_lost(cl);
		return;
	}
	if (r->error != 0) {
		if (r->error != CL_E_UNAVAILABLE)
			log_warn("cluster_request_failed", "op=member_put"
			    " error=%s detail=%s", cl_error_name(r->error),
			    log_q(r->detail));
		dcl_read(cl);
		return;
	}
	if (r->r.succeeded) {
		if (!cl->name_held)
			name_held(cl);
	} else if (r->r.nops == 1 && (o = &r->r.ops[0])->nkvs == 1 &&
	    o->kvs[0].lease != cl->mlease) {
		name_taken(cl, &o->kvs[0]);
		/* Our own lease lives on meanwhile (the tick only claims). */
		if (!cl->d->stopping && cl_keepalive(cl->c, cl->mlease,
		    keepalive_cb, cl, NULL) == 0) {
			cl->mlease_busy = true;
			return;
		}
	} else {
		/* Absent (its lease just ended, or deleted by hand), or ours
		 * after all: again, as a claim or as a rewrite. */
		bool ours = r->r.nops == 1 && r->r.ops[0].nkvs == 1;

		if (ours && !cl->name_held)
			name_held(cl);
		else if (!ours)
			name_lost(cl);
		if (cl->mlease != 0 && cl->name_puts < 2 && !cl->d->stopping)
			member_put(cl);
	}
	dcl_read(cl);
}

static void
member_put(struct dcluster *cl)
{
	struct cl_cmp cmp = { 0 };
	struct cl_op put = { 0 };

	cmp.key = cl->k_member;
	cmp.result = CL_CMP_EQUAL;
	cmp.target = cl->name_held ? CL_CMP_LEASE : CL_CMP_CREATE;
	cmp.number = cl->name_held ? cl->mlease : 0;
	put.kind = CL_OP_PUT;
	put.key = cl->k_member;
	put.value = cl->member_rec;
	put.value_len = strlen(cl->member_rec);
	put.lease = cl->mlease;
	if (cl_txn_else_get(cl->c, &cmp, &put, member_put_cb, cl, NULL) == 0) {
		cl->mlease_busy = true;
		cl->name_puts++;
	}
}

static void
grant_cb(const struct cl_reply *r, void *arg)
{
	struct dcluster *cl = arg;

	cl->mlease_busy = false;
	dcl_reply_seen(cl, r);
	if (r->error != 0)
		return;
	cl->mlease = r->r.lease_id;
	member_put(cl);		/* a claim: the name went with the old lease */
}

static void
keepalive_cb(const struct cl_reply *r, void *arg)
{
	struct dcluster *cl = arg;

	cl->mlease_busy = false;
	dcl_reply_seen(cl, r);
	if (r->error == CL_E_NOTFOUND) {
		/* Expired (etcd was away too long): a new one, a new put. */
		cl->mlease = 0;
		name_lost(cl);
		if (cl_grant(cl->c, cl->ttl_s, grant_cb, cl, NULL) == 0)
			cl->mlease_busy = true;
		return;
	}
	dcl_read(cl);
}

static void
tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct dcluster *cl = arg;
	struct daemon *d = cl->d;
	int64_t ms = cl->ttl_s * 1000 / 3;
	struct timeval tv = { (time_t)(ms / 1000),
	    (suseconds_t)(ms % 1000) * 1000 };

	cl->name_puts = 0;
	if (!cl->mlease_busy && !d->stopping) {
		int rc = 0;

		/* Not ours yet: try again (our lease may lapse meanwhile; the
		 * claim's put then fails and a new one is granted). */
		if (cl->mlease != 0 && !cl->name_held)
			member_put(cl);
		else if ((rc = cl->mlease == 0 ?
		    cl_grant(cl->c, cl->ttl_s, grant_cb, cl, NULL) :
		    cl_keepalive(cl->c, cl->mlease, keepalive_cb, cl,
		    NULL)) == 0)
			cl->mlease_busy = true;
	}
	dclrt_tick(d);
	if (!d->stopping)
		evtimer_add(cl->ev_tick, &tv);
}

/* ---- the election ---- */

static void
election_cb(struct cl_election *el, const struct cl_election_event *ev,
    void *arg)
{
	struct dcluster *cl = arg;
	struct daemon *d = cl->d;
	const char *leader;
	size_t len;

	switch (ev->kind) {
	case CL_EL_ELECTED:
		dcl_reachable(cl);
		cl->digest_ok = false;
		snprintf(cl->leader, sizeof(cl->leader), "%s",
		    cl->member);
		cl->leader_epoch = ev->epoch;
		cl->leader_since_ms = clock_wall_ms();
		/* Eligible when we campaigned; the digest write checks the
		 * digest key has not changed since. */
		if (!cl->eligible) {
			(void)cl_election_resign(el, NULL, NULL);
			dcl_judge(cl);
			break;
		}
		dcl_claim(cl);
		break;
	case CL_EL_RENEWED:
		dcl_reachable(cl);
		if (d->cl_acting && !cl->test_ignore_validity)
			d->cl_valid_until_us = ev->valid_until_us;
		break;
	case CL_EL_LOST:
		if (cl->test_ignore_validity && d->cl_acting &&
		    ev->reason != CL_LOST_FENCED) {
			log_warn("test_switch", "name=%s detail=%s",
			    "FAILOVERD_TEST_STALE_LEADER",
			    log_q("leadership lost but still acting"));
			break;
		}
		dcl_step_down(cl, cl_lost_reason_name(ev->reason));
		if (ev->reason == CL_LOST_FENCED)
			cl->fenced++;
		cl->leader[0] = '\0';
		/* Follow again (and maybe lead) while eligible. */
		if (!d->stopping && cl->eligible &&
		    cl_election_campaign(el) != 0)
			log_warn("cluster_request_failed", "op=campaign");
		break;
	case CL_EL_OBSERVED:
		dcl_reachable(cl);
		leader = cl_election_leader(el, &len, NULL);
		if (strcmp(cl->leader, leader) != 0 ||
		    cl->leader_epoch != ev->epoch) {
			snprintf(cl->leader, sizeof(cl->leader), "%s", leader);
			cl->leader_epoch = ev->epoch;
			cl->leader_since_ms = clock_wall_ms();
			log_info("cluster_leader", "member=%s leader=%s"
			    " epoch=%lld", log_q(cl->member),
			    log_q(leader[0] ? leader : "none"),
			    (long long)ev->epoch);
		}
		break;
	case CL_EL_ERROR:
		if (ev->error == CL_E_UNAVAILABLE)
			dcl_unreachable(cl, ev->error, ev->detail);
		else
			log_debug("cluster_request_failed", "op=election"
			    " error=%s detail=%s", cl_error_name(ev->error),
			    log_q(ev->detail));
		break;
	}
}

/* ---- open, close ---- */

int
dcluster_open(struct daemon *d, char *err, size_t errlen)
{
	const struct cfg_cluster *cc = &d->cfg->cluster;
	struct cl_opts o;
	struct cl_election_opts eo = { 0 };
	struct cl_member_rec mr = { 0 };
	struct cl_digest_rec dr = { 0 };
	struct dcluster *cl;
	char detail[256];
	int e = 0;

	if (!cc->enabled)
		return 0;
	if ((cl = calloc(1, sizeof(*cl))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	cl->d = d;
	cl->ttl_s = cc->lease_ttl_ms / 1000;
	cl->available = true;
	cl->joined_ms = clock_mono_ms();
	snprintf(cl->member, sizeof(cl->member), "%s", cc->member);
	snprintf(cl->prefix, sizeof(cl->prefix), "%s", cc->prefix);
	if (cc->advertise != NULL)
		snprintf(cl->advertise, sizeof(cl->advertise), "%s",
		    cc->advertise);
	cl->test_ignore_validity = getenv("FAILOVERD_TEST_STALE_LEADER") != NULL;
	if (getenv("FAILOVERD_TEST_CLUSTER_WRITE_DELAY_MS") != NULL)
		cl->test_write_delay_ms = strtoll(getenv(
		    "FAILOVERD_TEST_CLUSTER_WRITE_DELAY_MS"), NULL, 10);
	if (config_digest(d->cfg, cl->digest) != 0 ||
	    cl_key_build(cc->prefix, CL_KEY_LEADER, NULL, NULL, cl->k_leader,
	    sizeof(cl->k_leader)) < 0 ||
	    cl_key_build(cc->prefix, CL_KEY_DIGEST, NULL, NULL, cl->k_digest,
	    sizeof(cl->k_digest)) < 0 ||
	    cl_key_build(cc->prefix, CL_KEY_MEMBER, cc->member, NULL,
	    cl->k_member, sizeof(cl->k_member)) < 0 ||
	    cl_key_dir(cc->prefix, CL_KEY_MEMBER, NULL, cl->k_members,
	    sizeof(cl->k_members)) < 0 ||
	    cl_key_dir(cc->prefix, CL_KEY_GROUP, NULL, cl->k_groups,
	    sizeof(cl->k_groups)) < 0) {
		snprintf(err, errlen, "cannot build the cluster's keys");
		goto fail;
	}
	snprintf(mr.member, sizeof(mr.member), "%s", cc->member);
	snprintf(mr.digest, sizeof(mr.digest), "%s", cl->digest);
	if (cc->advertise != NULL)
		snprintf(mr.advertise, sizeof(mr.advertise), "%s",
		    cc->advertise);
	snprintf(mr.version, sizeof(mr.version), "%s", FAILOVERD_VERSION);
	mr.started_ms = d->started_ms;
	snprintf(dr.digest, sizeof(dr.digest), "%s", cl->digest);
	snprintf(dr.member, sizeof(dr.member), "%s", cc->member);
	if (cl_member_build(&mr, &cl->member_rec) != 0 ||
	    cl_digest_build(&dr, &cl->digest_rec) != 0) {
		snprintf(err, errlen, "cannot build the member record");
		goto fail;
	}
	cl_opts_init(&o);
	o.endpoints = (const char *const *)cc->etcd;
	o.nendpoints = cc->netcd;
	o.timeout_ms = DCL_REQ_TIMEOUT_MS;
	o.watch_idle_ms = cc->lease_ttl_ms;
	cl->c = cl_client_new(d->base, &o, &e, detail, sizeof(detail));
	if (cl->c == NULL) {
		snprintf(err, errlen, "etcd client: %s: %s", cl_error_name(e),
		    detail);
		goto fail;
	}
	eo.key = cl->k_leader;
	eo.value = cc->member;
	eo.value_len = strlen(cc->member);
	eo.ttl_s = cl->ttl_s;
	cl->el = cl_election_new(cl->c, &eo, election_cb, cl, &e);
	cl->ev_tick = evtimer_new(d->base, tick_cb, cl);
	if (cl->el == NULL || cl->ev_tick == NULL) {
		snprintf(err, errlen, "election: %s", cl_error_name(e));
		goto fail;
	}
	d->cluster = cl;
	{
		struct dclcmd_member m = { cl->c, cl->el, cl->prefix,
		    cl->member, &cl->mlease, cc->lease_ttl_ms };

		dclcmd_open(d, &m);
		dclrt_open(d, &m);
	}
	if (dquorum_open(d, cl->c, cl->prefix, cl->member) != 0) {
		snprintf(err, errlen, "quorum: out of memory");
		goto fail;
	}
	/* The test switch leaves the DNS server as the only fence: the
	 * states are not written to etcd (whose fenced write would stop
	 * such a member first). */
	d->cl_write = cl->test_ignore_validity ? NULL : dcl_write;
	dcl_hold_all(d);
	log_info("cluster_join", "member=%s etcd=%zu prefix=%s lease_ttl_s=%lld"
	    " digest=%s", log_q(cc->member), cc->netcd, log_q(cc->prefix),
	    (long long)cl->ttl_s, cl->digest);
	event_active(cl->ev_tick, EV_TIMEOUT, 1);
	return 0;
fail:
	d->cluster = cl;
	dcluster_close(d);
	return -1;
}

static void
resigned_cb(const struct cl_reply *r, void *arg)
{
	struct dcluster *cl = arg;

	cl->d->cl_resigning = false;
	daemon_maybe_exit(cl->d);
}

/* At a stop: let another member take over at once. */
void
dcluster_resign(struct daemon *d)
{
	struct dcluster *cl = d->cluster;

	if (cl == NULL)
		return;
	dcl_step_down(cl, "stopping");
	if (cl->el != NULL &&
	    cl_election_resign(cl->el, resigned_cb, cl) == 0)
		d->cl_resigning = true;
	/* Best effort: else the member record goes with the lease. */
	if (cl->mlease != 0 &&
	    cl_revoke(cl->c, cl->mlease, NULL, NULL, NULL) != 0)
		log_debug("cluster_request_failed", "op=revoke");
	cl->mlease = 0;
	if (cl->ev_tick != NULL)
		evtimer_del(cl->ev_tick);
}

/*
 * A reload changed the configuration: [cluster] itself is kept as it was
 * started with (a restart applies it), but the digest follows [dns],
 * [stack] and [group].  The member record is written again; a leader
 * publishes its new digest (it defines the cluster's configuration: the
 * followers that differ now say config_mismatch), a follower is judged
 * against the leader's at the next read.
 */
void
dcluster_reload(struct daemon *d)
{
	struct dcluster *cl = d->cluster;
	struct cl_member_rec mr = { 0 };
	struct cl_digest_rec dr = { 0 };
	char digest[CFG_DIGEST_HEX];
	char *m = NULL, *g = NULL;

	if (cl == NULL)
		return;
	if (!d->cfg->cluster.enabled)
		log_warn("reload_partial", "key=cluster detail=%s",
		    log_q("[cluster] removed: still a member until a restart"));
	if (config_digest(d->cfg, digest) != 0 ||
	    strcmp(digest, cl->digest) == 0)
		return;
	snprintf(mr.member, sizeof(mr.member), "%s", cl->member);
	snprintf(mr.digest, sizeof(mr.digest), "%s", digest);
	snprintf(mr.advertise, sizeof(mr.advertise), "%s", cl->advertise);
	snprintf(mr.version, sizeof(mr.version), "%s", FAILOVERD_VERSION);
	mr.started_ms = d->started_ms;
	snprintf(dr.digest, sizeof(dr.digest), "%s", digest);
	snprintf(dr.member, sizeof(dr.member), "%s", cl->member);
	if (cl_member_build(&mr, &m) != 0 || cl_digest_build(&dr, &g) != 0) {
		free(m);
		free(g);
		return;
	}
	log_info("cluster_digest", "member=%s digest=%s previous=%s",
	    log_q(cl->member), digest, cl->digest);
	snprintf(cl->digest, sizeof(cl->digest), "%s", digest);
	free(cl->member_rec);
	free(cl->digest_rec);
	cl->member_rec = m;
	cl->digest_rec = g;
	if (cl->mlease != 0 && !cl->mlease_busy)
		member_put(cl);
	if (d->cl_acting)
		dcl_publish_digest(cl);
}

void
dcluster_close(struct daemon *d)
{
	struct dcluster *cl = d->cluster;

	if (cl == NULL)
		return;
	dquorum_close(d);
	dclcmd_close(d);
	dclrt_close(d);
	d->cluster = NULL;
	d->cl_acting = false;
	d->cl_write = NULL;
	if (cl->ev_tick != NULL)
		event_free(cl->ev_tick);
	cl_watch_stop(cl->mirror);
	cl_election_free(cl->el);
	cl_client_free(cl->c);
	free(cl->member_rec);
	free(cl->digest_rec);
	free(cl);
}

/*
 * The DNS server refused an UPDATE of ours because a newer epoch of this
 * controller holds the group's name: another member leads.  Nothing more
 * is sent; we follow.
 */
void
dcluster_fenced(struct daemon *d, const char *group, const char *detail)
{
	struct dcluster *cl = d->cluster;

	if (cl == NULL)
		return;
	cl->fenced++;
	log_error("fenced", "member=%s group=%s epoch=%llu detail=%s",
	    log_q(cl->member), log_q(group),
	    (unsigned long long)d->cl_epoch, log_q(detail));
	cl->test_ignore_validity = false;
	dcl_step_down(cl, "fenced");
	if (cl_election_state(cl->el) == CL_EL_LEADER) {
		(void)cl_election_resign(cl->el, NULL, NULL);
		if (cl->eligible && !d->stopping &&
		    cl_election_campaign(cl->el) != 0)
			log_warn("cluster_request_failed", "op=campaign");
	}
}

/* ---- what the API and the metrics show ---- */

static const char *
dcl_role(const struct dcluster *cl, const char *member)
{
	if (cl->leader[0] != '\0' && strcmp(cl->leader, member) == 0)
		return "leader";
	return "follower";
}

json_t *
dcluster_json(struct daemon *d)
{
	struct dcluster *cl = d->cluster;
	const char *self;
	json_t *o, *ms;
	int64_t last;

	if (cl == NULL)
		return json_pack("{s:b}", "enabled", 0);
	self = cl->member;
	o = json_object();
	ms = json_array();
	if (o == NULL || ms == NULL) {
		json_decref(o);
		json_decref(ms);
		return NULL;
	}
	last = cl_election_last_renewal(cl->el);
	json_object_set_new(o, "enabled", json_true());
	json_object_set_new(o, "member", json_string(self));
	json_object_set_new(o, "role", json_string(d->cl_acting &&
	    daemon_may_act(d) ? "leader" : "follower"));
	json_object_set_new(o, "election", json_string(
	    cl_election_state_name(cl_election_state(cl->el))));
	json_object_set_new(o, "leader", cl->leader[0] ? json_string(
	    cl->leader) : json_null());
	json_object_set_new(o, "epoch", json_integer(cl->leader_epoch));
	json_object_set_new(o, "leader_since_ms",
	    json_integer(cl->leader_since_ms));
	json_object_set_new(o, "available", json_boolean(cl->available));
	json_object_set_new(o, "eligible", json_boolean(cl->eligible));
	json_object_set_new(o, "digest", json_string(cl->digest));
	json_object_set_new(o, "leader_digest", json_string(
	    cl->leader_digest));
	json_object_set_new(o, "last_renewal_ago_ms", last > 0 ?
	    json_integer((cl_client_now(cl->c) - last) / 1000) : json_null());
	json_object_set_new(o, "lease_ttl_s", json_integer(cl->ttl_s));
	json_object_set_new(o, "members_read_ms", json_integer(cl->read_ms));
	for (size_t i = 0; i < cl->nmembers; i++) {
		const struct dcl_member *m = &cl->members[i];
		json_t *mo = json_pack("{s:s, s:s, s:s, s:b, s:I}", "member",
		    m->name, "role", dcl_role(cl, m->name), "digest", m->digest,
		    "config_match", strcmp(m->digest, cl->leader_digest[0] ?
		    cl->leader_digest : cl->digest) == 0, "started_ms",
		    (json_int_t)m->started_ms);

		if (mo == NULL)
			continue;
		if (m->advertise[0])
			json_object_set_new(mo, "advertise",
			    json_string(m->advertise));
		json_array_append_new(ms, mo);
	}
	json_object_set_new(o, "members", ms);
	{
		json_t *v = dquorum_json(d);

		if (v != NULL)
			json_object_set_new(o, "verdicts", v);
	}
	return o;
}

void
dcluster_metrics(struct daemon *d, int *leader, int64_t *epoch,
    size_t *members)
{
	struct dcluster *cl = d->cluster;

	*leader = cl != NULL && d->cl_acting && daemon_may_act(d);
	*epoch = cl != NULL ? cl->leader_epoch : 0;
	*members = cl != NULL ? cl->nmembers : 0;
}
