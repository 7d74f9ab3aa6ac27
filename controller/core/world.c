/*
 * world.c - the committed state read against the published record
 * (world.h).
 */
#include "controller/core/world.h"

#include <string.h>

#include "dnsupdate/dnsup_msg.h"

void
world_record_of(const struct config *cfg, const struct dnsup_rrset *found,
    struct world_record *rec)
{
	memset(rec, 0, sizeof(*rec));
	rec->stack = ENG_NONE;
	if (found == NULL) {
		rec->kind = WORLD_REC_UNREAD;
		return;
	}
	rec->ttl = found->ttl;
	if (found->kind == DNSUP_RRSET_NONE) {
		rec->kind = WORLD_REC_EMPTY;
		return;
	}
	rec->kind = WORLD_REC_OTHER;
	for (size_t s = 0; s < cfg->nstack; s++) {
		struct dnsup_rrset want;
		char err[128], diff[256];

		if (dnsup_rrset_from_webhead(&want, &cfg->stacks[s].web_head,
		    0, err, sizeof(err)) != 0)
			continue;
		if (dnsup_rrset_compare(&want, found, false, diff,
		    sizeof(diff)) == 0) {
			rec->kind = WORLD_REC_STACK;
			rec->stack = (int)s;
			return;
		}
	}
}

enum world_verdict
world_reconcile(struct eng_group *st, const struct config *cfg,
    bool had_state, const struct world_record *rec, int *expected)
{
	const struct cfg_group *grp = &cfg->groups[st->group];
	int s = rec->stack;

	*expected = st->active;
	/* No stacks: nothing is published.  A switch runs its sequence. */
	if (st->status == ENG_RESERVED || grp->primary < 0 ||
	    st->status == ENG_SWITCHING)
		return WORLD_KEEP;
	switch (rec->kind) {
	case WORLD_REC_UNREAD:
		/*
		 * With a state, its UPDATEs state what it believes is there
		 * and the server refuses them otherwise; without one, a
		 * first publication would be blind.
		 */
		return had_state ? WORLD_KEEP : WORLD_HOLD_UNREAD;
	case WORLD_REC_EMPTY:
	case WORLD_REC_OTHER:
	/*
	 * Refused, not lost: the first publication is refused alike, and
	 * says why by name; it could only ever land on an empty name (its
	 * prerequisite), and over anything there the daemon reads first.
	 */
	case WORLD_REC_REFUSED:
		return had_state ? WORLD_KEEP : WORLD_FIRST;
	case WORLD_REC_STACK:
		break;
	}
	/*
	 * What the server holds is not noted as published: whether the
	 * ownership TXT beside it is ours is for the UPDATE's prerequisites
	 * to find out (daemon_dns.c); an UPDATE of the same records moves
	 * nothing.
	 */
	if (s == st->active)
		return had_state ? WORLD_KEEP : WORLD_FIRST;
	if (s != grp->primary && s != grp->backup)
		return WORLD_HOLD_FOREIGN;
	/*
	 * The record is on the group's other stack: traffic is there.  Its
	 * database may or may not be a replica still: failoverd cannot
	 * know, so automation waits for an operator's rearm.
	 */
	st->status = ENG_WAIT_REARM;
	st->standby = s == grp->primary ? grp->backup : grp->primary;
	st->active = s;
	st->held = ENG_GATE_NONE;
	st->pub_stack = ENG_NONE;	/* the state's belief was wrong */
	st->pub_ttl = 0;
	st->want_stack = ENG_NONE;
	st->dns_sent_stack = ENG_NONE;
	if (st->pinned != ENG_NONE && st->pinned != st->active &&
	    st->pinned != st->standby)
		st->pinned = ENG_NONE;
	return WORLD_ADOPT;
}

const char *
world_verdict_name(enum world_verdict v)
{
	static const char *const names[] = { "keep", "first", "adopt",
	    "hold_unread", "hold_foreign" };

	if ((unsigned)v < sizeof(names) / sizeof(names[0]))
		return names[v];
	return "?";
}
