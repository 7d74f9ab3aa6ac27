/*
 * quorum.h - the quorum of vantage points (DESIGN.md "Cluster", issue
 * 15): from the members' views of one stack, whether the cluster sees it
 * up, down, or neither (no_quorum).  Pure: no I/O, no clock, no state;
 * the verdicts and their times are handed in.
 *
 * The base is the live members.  A member is live while etcd holds its
 * member lease; its verdicts live under that lease and vanish with it.
 * DESIGN.md counts "live members" for both sides, and there is no other
 * count to take: [cluster] names only this member, and the set of members
 * is whoever holds a lease under the prefix, arbitrated by etcd alone
 * (no home-made membership).  A count of members ever seen would let one
 * removed or long-dead host block every failover for good.  So:
 *
 *   majority   required = live / 2 + 1   (1 of 1, 2 of 2, 2 of 3, 3 of 4)
 *   all        required = live           (at least 1)
 *   N          required = N              (whatever live is)
 *
 * and a stack is down when at least required live members see it down,
 * up when at least required see it up, and otherwise no_quorum.  required
 * is never below 1: with no live member nothing is decided.  What this
 * base implies, and why the two forms exist side by side:
 *   - majority and all follow the cluster as it shrinks.  When two of
 *     three members die (their hosts fail with the primary's data centre),
 *     the survivor alone is the majority and may fail over, which is the
 *     point of having it; it still needs etcd's quorum to lead at all.
 *   - N is absolute.  quorum = 2 never acts on one vantage point, even
 *     when every other member is dead: for operators who would rather not
 *     fail over than fail over on one path's word.
 *   - A live member whose own view is still unknown (just started, or its
 *     probes hit local faults) counts in the base but on neither side:
 *     it makes a majority harder to reach, never easier.  Leaving it out
 *     would let one member's "down" be a majority of one while the others
 *     are still warming up.
 *   - A dead member counts for nothing, on no side and not in the base,
 *     even if the caller still holds its last verdict.
 *   - Both sides can reach required only when required <= live / 2,
 *     i.e. with quorum = N for a small N.  Then down wins: DESIGN.md
 *     defines quorum as the members "that must see a stack down", so N
 *     members seeing it down is enough by the operator's own setting.
 *     For a standby, down winning is also the cautious side: no failover
 *     onto a stack some vantage point cannot reach.
 * The leader is one member among the others: its view has no extra
 * weight, so a leader cut off from the primary alone never fails over.
 *
 * Time.  since_ms of the result is when the decision last became true on
 * the members' own clocks as they published it: for up or down, the
 * required-th earliest since of the members that agree (the moment the
 * last needed vote arrived); for no_quorum, the latest since of any live
 * member (the last change of view), 0 with none.
 */
#ifndef FAILOVERD_QUORUM_H
#define FAILOVERD_QUORUM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"

/* At most this many votes in one decision. */
#define QUORUM_MAX_VOTES	256

/* One member's view of one stack, as health.h's states. */
enum quorum_view {
	QUORUM_V_UNKNOWN = 0,
	QUORUM_V_UP,
	QUORUM_V_DOWN,
};

enum quorum_decision {
	QUORUM_NONE = 0,	/* no_quorum: neither side has required */
	QUORUM_UP,
	QUORUM_DOWN,
};

/* Negative results of quorum_decide(); nothing is decided. */
enum quorum_error {
	QUORUM_E_INVALID = -1,	/* NULL, too many votes, a bad view, an
				   empty member name, quorum = N below 1 */
	QUORUM_E_DUPLICATE = -2, /* one member twice */
};

struct quorum_vote {
	const char	 *member;	/* borrowed; not empty */
	enum quorum_view  view;
	int64_t		  since_ms;	/* since when the member sees it so */
	bool		  live;		/* its member lease is held */
};

struct quorum_result {
	enum quorum_decision decision;
	int64_t		 since_ms;	/* see "Time" above */
	size_t		 required;	/* votes one side needs, >= 1 */
	size_t		 live;		/* the base */
	size_t		 up, down, unknown;	/* among the live */
	size_t		 dead;		/* votes of members not live */
};

/* The votes one side needs among live members (>= 1). */
size_t	 quorum_required(const struct cfg_quorum *, size_t live);

/*
 * Decide from n votes (in any order; borrowed for the call).  Returns 0
 * with *out filled, or a negative enum quorum_error with *out zeroed.
 */
int	 quorum_decide(const struct cfg_quorum *, const struct quorum_vote *,
	    size_t n, struct quorum_result *out)
	    __attribute__((warn_unused_result));

/*
 * Who sees what, for the record (log line, history event): key=value
 * words, member names sorted, "-" for an empty list (no member name
 * starts with '-'):
 *   decision=down quorum=majority required=2 live=3 down=ctl-b,ctl-c
 *   up=ctl-a unknown=- dead=ctl-d
 * Written into buf as snprintf() does; returns the length the whole text
 * needs (not counting the NUL), or -1 on a bad argument or out of memory.
 */
int	 quorum_format(const struct cfg_quorum *, const struct quorum_vote *,
	    size_t n, const struct quorum_result *, char *buf, size_t len);

/* "no_quorum" "up" "down" */
const char *quorum_decision_name(enum quorum_decision);
/* "unknown" "up" "down" */
const char *quorum_view_name(enum quorum_view);
/* The view named s ("unknown", "up", "down"), or -1. */
int	 quorum_view_parse(const char *s);
/* A sentence for a negative result of quorum_decide(). */
const char *quorum_strerror(int err);

#endif
