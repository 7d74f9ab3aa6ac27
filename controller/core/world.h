/*
 * world.h - one rule for the daemon's world at start and at reload: a
 * group's engine state is what was committed (LMDB), read against the
 * configuration (engine_codec.h), and then against the record the server
 * publishes, which is the truth about where traffic goes (DESIGN.md,
 * "What failoverd trusts").  Start-up and reload both pass here, so they
 * cannot disagree.
 *
 * Pure: no I/O, no clock, no log.  The daemon reads the record
 * (daemon_dns.c at start and for a group a reload adds; at any other
 * reload, what the server last accepted) and logs the verdict.
 */
#ifndef FAILOVERD_WORLD_H
#define FAILOVERD_WORLD_H

#include <stdbool.h>
#include <stdint.h>

#include "config/config.h"
#include "controller/core/engine.h"

struct dnsup_rrset;

/* What a group's record was found to hold. */
enum world_rec {
	WORLD_REC_UNREAD = 0,	/* could not be read (or never known) */
	WORLD_REC_EMPTY,	/* no record at the name */
	WORLD_REC_STACK,	/* a configured stack's web head: stack */
	WORLD_REC_OTHER,	/* anything else */
	WORLD_REC_REFUSED,	/* the server refused to answer this
				   controller (its key, its address): its
				   UPDATEs are refused alike */
};

struct world_record {
	enum world_rec	 kind;
	int		 stack;		/* WORLD_REC_STACK: index in cfg */
	uint32_t	 ttl;		/* as found */
};

enum world_verdict {
	WORLD_KEEP = 0,		/* the state stands (the record agrees, or
				   says nothing against it: repaired to the
				   active stack if need be) */
	WORLD_FIRST,		/* no state, record empty or on the primary:
				   the ordinary first start */
	WORLD_ADOPT,		/* the record is on the group's other stack:
				   adopted as wait_rearm there
				   (state_mismatch) */
	WORLD_HOLD_UNREAD,	/* no state and the record cannot be read:
				   nothing is published until it can */
	WORLD_HOLD_FOREIGN,	/* the record is on a configured stack that
				   is not one of the group's: nothing is
				   published over it */
};

/*
 * Classify what a read-back found at a group's name (found NULL: it could
 * not be read) against the web heads of cfg's stacks.
 */
void	 world_record_of(const struct config *cfg,
	    const struct dnsup_rrset *found, struct world_record *rec);

/*
 * Reconcile group state st (decoded from the store, had_state, or fresh
 * from eng_group_init) with the record.  Changes st for WORLD_ADOPT only
 * (active, standby, wait_rearm; what was published forgotten); *expected
 * is the stack the state (or the configuration) expected.  A group in the
 * middle of a switch is left to its sequence.
 */
enum world_verdict world_reconcile(struct eng_group *st,
	    const struct config *cfg, bool had_state,
	    const struct world_record *rec, int *expected);

const char *world_verdict_name(enum world_verdict);

#endif
