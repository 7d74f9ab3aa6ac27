/*
 * cl_election.h - leader election on etcd: one key, one lease, an epoch,
 * and a bound on how long the holder may believe it leads.  Mechanism
 * only: when to campaign, what a leader does and what it stops doing are
 * the caller's.
 *
 * Campaign.  Grant a lease of ttl_s, then one transaction:
 *
 *   if create_revision(KEY) == 0 (absent)
 *   then put KEY = value, attached to the lease
 *   else range KEY
 *
 * The member whose put ran leads; its *epoch* is the key's create
 * revision (the txn's revision), which only grows from one leader to the
 * next, because every etcd revision is greater than the ones before.
 * The others follow: they learn the leader's value and epoch from the
 * failure branch, watch KEY from the revision after, and try the txn
 * again when KEY is deleted (its holder's lease expired or was revoked).
 * Everyone keeps its own lease alive (a follower's lease is the one its
 * next try will use).  A retried txn that finds KEY held by our own lease
 * (an earlier try was applied though its answer was lost) has won.
 *
 * Validity.  A leader renews its lease every ttl/3 and considers itself
 * the leader only until
 *
 *   valid_until = S + ttl - margin,   margin = ttl * 1% + 100 ms
 *
 * where S is when the last renewal etcd acknowledged (or the grant) was
 * *sent*.  etcd counts ttl from when its leader received that renewal,
 * which is after S; nobody else can create KEY before etcd expired the
 * lease and deleted KEY, so before S + ttl on etcd's clock; so no other
 * member can be elected before this member stops considering itself the
 * leader.  The margin covers what that argument leaves out:
 *
 *  - clock rate: ttl is measured by two clocks (ours, etcd leader's).
 *    Linux slews CLOCK_BOOTTIME by at most 500 ppm and crystals are off
 *    by less than 100 ppm, so two clocks differ by well under 0.1 %;
 *    1 % of ttl leaves tenfold room (VMs whose clock rate jumps).
 *  - delay: a check of cl_election_is_leader() and the act it allowed
 *    (sending an UPDATE, spawning a hook) are not simultaneous; 100 ms
 *    covers a busy loop and scheduling.  A longer delay (the process
 *    frozen between the check and the act) is not covered by any margin:
 *    that is what the fencing below and the epoch in the DNS ownership
 *    record are for.
 *
 * Clock assumptions: one clock on this host, CLOCK_BOOTTIME (monotonic,
 * not set by NTP or by hand, and still running while the machine is
 * suspended, as etcd's time runs on meanwhile; CLOCK_MONOTONIC stops
 * then); no assumption about wall clocks or any synchrony with etcd's
 * hosts beyond the rate bound above.  etcd itself only ever lengthens
 * leases (a new etcd leader extends them; expired leases are revoked by
 * a loop that runs every 500 ms), which errs on the safe side.
 *
 * A lost leadership.  Leadership ends, with one CL_EL_LOST callback and
 * the election back in IDLE, when any of these comes first:
 *   expired  valid_until passed without an acknowledged renewal
 *   lease    etcd says the lease is gone (keep-alive: not found)
 *   key      the watch saw KEY deleted or created anew by someone else
 *   fenced   a leader-only txn found KEY no longer ours
 * The lease is then revoked (best effort), so another member need not
 * wait for it to expire.  cl_election_is_leader() reads the clock and
 * turns false at valid_until itself, possibly before the LOST callback is
 * delivered (after a SIGSTOP, the loop may run other callbacks first):
 * check it before every act.  A lost leadership never comes back by
 * itself: call cl_election_campaign() again to follow (and maybe lead).
 *
 * Fencing.  cl_election_txn() runs a caller's txn only while KEY's
 * create revision is our epoch and its lease ours (compares checked by
 * etcd when it applies the txn, however late that is), so the write of a
 * deposed leader fails even when that leader does not know it yet.
 *
 * Not thread-safe; from the loop only.  Callbacks may call campaign,
 * resign and the getters, never cl_election_free().
 */
#ifndef FAILOVERD_CL_ELECTION_H
#define FAILOVERD_CL_ELECTION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cluster/cl.h"

struct cl_election;

struct cl_election_opts {
	const char	*key;		/* the leader key, e.g. PREFIX "leader" */
	const void	*value;		/* this member's value (its name) */
	size_t		 value_len;
	int64_t		 ttl_s;		/* lease TTL, seconds (>= 1) */
	int64_t		 margin_us;	/* 0: cl_valid_margin_us(ttl) */
};

enum cl_election_state {
	CL_EL_IDLE = 0,		/* not campaigning */
	CL_EL_CAMPAIGNING,	/* lease grant or txn in flight */
	CL_EL_FOLLOWER,		/* someone else holds KEY: watching */
	CL_EL_LEADER,
};
/* "idle" "campaigning" "follower" "leader". */
const char	*cl_election_state_name(enum cl_election_state);

enum cl_lost_reason {
	CL_LOST_EXPIRED = 1,	/* no renewal acknowledged in time */
	CL_LOST_LEASE,		/* etcd no longer knows the lease */
	CL_LOST_KEY,		/* KEY deleted or replaced */
	CL_LOST_FENCED,		/* a leader-only txn found KEY not ours */
};
/* "expired" "lease" "key" "fenced"; "unknown". */
const char	*cl_lost_reason_name(enum cl_lost_reason);

enum cl_election_event_kind {
	CL_EL_ELECTED = 1,	/* we lead: epoch, valid_until_us */
	CL_EL_LOST,		/* we no longer lead: reason */
	CL_EL_OBSERVED,		/* the leader we know of changed: leader,
				   epoch (0 and "" when KEY is absent) */
	CL_EL_ERROR,		/* a request failed: error, detail; the
				   election goes on trying */
	CL_EL_RENEWED,		/* the leader's lease was renewed: the new
				   valid_until_us */
};

/* Borrowed: valid during the callback. */
struct cl_election_event {
	enum cl_election_event_kind kind;
	enum cl_lost_reason reason;
	int		 error;
	const char	*detail;
	int64_t		 epoch;
	const char	*leader;	/* the leader's value, NUL-terminated */
	size_t		 leader_len;
	int64_t		 valid_until_us;
	int64_t		 lease;		/* ours */
};
typedef void cl_election_cb(struct cl_election *,
    const struct cl_election_event *, void *arg);

/*
 * An idle election on client c (borrowed; must outlive it).  Strings are
 * copied.  NULL with *err set: CL_E_INVALID (no key, ttl_s < 1, a margin
 * that leaves no room for a failed renewal: margin >= ttl/3), NOMEM,
 * EVENT.
 */
struct cl_election *cl_election_new(struct cl_client *c,
    const struct cl_election_opts *, cl_election_cb *, void *arg, int *err);
/*
 * Cancel everything without callbacks and free; the lease is left to
 * expire (as if the process died).  Resign first for a quick handover.
 * NULL ok.
 */
void	 cl_election_free(struct cl_election *);

/* Start campaigning (from IDLE; 0 also if already campaigning). */
int	 cl_election_campaign(struct cl_election *)
	    __attribute__((warn_unused_result));
/*
 * Stop at once: not the leader from this call on (no LOST callback), back
 * to IDLE, and revoke the lease; done (may be NULL) gets the revoke's
 * reply, from the client (it may come after cl_election_free(), not
 * after cl_client_free()).  0, or CL_E_NOTFOUND when there was no lease,
 * or the revoke's error (no callback then).
 */
int	 cl_election_resign(struct cl_election *, cl_reply_cb *done,
	    void *arg);

/* In LEADER and the clock is before valid_until. */
bool	 cl_election_is_leader(const struct cl_election *);
/* The end of validity (CLOCK_BOOTTIME us, cl_client_now()); 0 unless
 * leader.  May lie in the past until the LOST callback. */
int64_t	 cl_election_valid_until(const struct cl_election *);
/* Our epoch while leader, else 0. */
int64_t	 cl_election_epoch(const struct cl_election *);
/* Our lease, 0 if none. */
int64_t	 cl_election_lease(const struct cl_election *);
/* The lease TTL etcd granted, in seconds (0 before a grant). */
int64_t	 cl_election_ttl(const struct cl_election *);
enum cl_election_state cl_election_state(const struct cl_election *);
/*
 * The leader last known (us too): its value (borrowed until the next
 * callback; "" if none) and epoch (0 if none).
 */
const char	*cl_election_leader(const struct cl_election *, size_t *len,
	    int64_t *epoch);
/* When the last renewal etcd acknowledged was sent (0: none yet). */
int64_t	 cl_election_last_renewal(const struct cl_election *);

/*
 * The compares that fence a txn to the leader of epoch with lease:
 * create_revision(key) == epoch and lease(key) == lease.
 */
#define CL_FENCE_NCMP	2
void	 cl_election_fence(const char *key, int64_t epoch, int64_t lease,
	    struct cl_cmp out[CL_FENCE_NCMP]);

/*
 * A txn that runs only while we lead: t's compares with the fence in
 * front, and a range of KEY in front of t's failure ops (taken out again
 * before cb sees the reply).  CL_E_NOTLEADER at once (no callback) unless
 * cl_election_is_leader().  The reply has error CL_E_FENCED when the
 * compares failed because KEY is not ours any more (the election then
 * loses, reason fenced); otherwise it is cl_txn()'s.  *out (may be NULL)
 * is for cl_election_cancel(), not cl_cancel().
 */
int	 cl_election_txn(struct cl_election *, const struct cl_txn *t,
	    cl_reply_cb *cb, void *arg, struct cl_req **out)
	    __attribute__((warn_unused_result));
/* Abandon a cl_election_txn(): no callback.  NULL ok. */
void	 cl_election_cancel(struct cl_election *, struct cl_req *);

#endif
