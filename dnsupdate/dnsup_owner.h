/*
 * dnsup_owner.h - the ownership TXT record: its value, and what an UPDATE
 * must require of it.  Pure: no I/O, no clock, no logging.
 *
 * Beside each address failoverd publishes, at _failoverd.<address>, one TXT
 * record with one character-string.  Its value is a contract with every
 * other failoverd (another controller, an older or newer version, a member
 * of a cluster), so it is built and read here only.  Version 1:
 *
 *	failoverd controller=NAME group=GROUP
 *	failoverd controller=NAME group=GROUP epoch=N	(in a cluster)
 *
 * NAME and GROUP are configuration names (1-63 of [A-Za-z0-9._-]), N a
 * decimal number from 1, without leading zeros; single spaces, keys in
 * this order.  Anything else is not a version 1 value and is treated as
 * another owner's: a value a later version writes with more keys is never
 * mistaken for ours.
 *
 * The server enforces ownership, not our memory: every UPDATE carries a
 * prerequisite on the TXT (dnsup_msg.h, enum dnsup_txt_prereq), so that an
 * UPDATE from anyone else than the writer of the TXT - a second
 * controller, a deposed cluster leader with a lower epoch - is refused by
 * the server with NXRRSET.  What that prerequisite is comes from a plan:
 *
 *	believed    we published the name: the TXT is exactly ours and the
 *	            records are what we last published (no read-back)
 *	fresh       a first publication: no TXT, nothing at the name
 *	from a read-back (dnsup_owner_check): ours (exactly what was found),
 *	            adopted (the exact foreign TXT, or its absence), superseded
 *	            (our controller and group with a lower epoch, replaced by a
 *	            new leader), or refused with the reason.
 */
#ifndef FAILOVERD_DNSUP_OWNER_H
#define FAILOVERD_DNSUP_OWNER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dnsupdate/dnsup_msg.h"

#define DNSUP_OWNER_VERSION	1
#define DNSUP_OWNER_ID_MAX	64	/* a name, with its NUL */

struct dnsup_owner {
	char		 controller[DNSUP_OWNER_ID_MAX];
	char		 group[DNSUP_OWNER_ID_MAX];
	uint64_t	 epoch;		/* 0: none (one controller alone) */
};

/*
 * Fill o (controller and group are copied; epoch 0 for none).  Returns 0, or
 * -1 when a name is not a valid configuration name.
 */
int	 dnsup_owner_init(struct dnsup_owner *, const char *controller,
	    const char *group, uint64_t epoch);
/* The value, at most 255 bytes.  Returns 0, or -1 when it does not fit. */
int	 dnsup_owner_format(const struct dnsup_owner *, char *buf, size_t len);
/* Read a version 1 value.  Returns 0, or -1 when it is not one. */
int	 dnsup_owner_parse(const char *value, struct dnsup_owner *);
/* "_failoverd.<name>"; -1 when it does not fit. */
int	 dnsup_owner_name(char *buf, size_t len, const char *name);

/* How a name stands for this controller, from a read-back. */
enum dnsup_owner_verdict {
	DNSUP_OWN_FREE = 0,	/* nothing at the name, no TXT */
	DNSUP_OWN_OURS,		/* exactly our TXT */
	DNSUP_OWN_SUPERSEDE,	/* our controller and group, lower epoch */
	DNSUP_OWN_ADOPT,	/* not ours, and adopt = yes */
	DNSUP_OWN_REFUSED,	/* not ours, or the records cannot go there */
};

/* The prerequisites of the next UPDATE of a name. */
struct dnsup_owner_plan {
	enum dnsup_owner_verdict verdict;
	enum dnsup_prereq	 prereq;	/* on the records */
	struct dnsup_rrset	 prev;		/* for DNSUP_PREREQ_IS */
	enum dnsup_txt_prereq	 txt_prereq;	/* on the TXT */
	struct dnsup_txtset	 txt_prev;	/* for DNSUP_TXT_WAS */
};

/* We published the name: our TXT, and prev at the name. */
void	 dnsup_owner_plan_believed(struct dnsup_owner_plan *,
	    const struct dnsup_rrset *prev);
/* A first publication: nothing at the name, no TXT. */
void	 dnsup_owner_plan_fresh(struct dnsup_owner_plan *);
/*
 * A new leader takes a name over from old (our controller and group, a
 * lower epoch) that published prev.  Returns 0, or -1 when old's value
 * cannot be formatted.
 */
int	 dnsup_owner_plan_supersede(struct dnsup_owner_plan *,
	    const struct dnsup_rrset *prev, const struct dnsup_owner *old);

/*
 * Judge what a read-back found (dnsup_readback with DNSUP_RB_OWNER: the
 * records and other types at name, the TXT records at _failoverd.<name>)
 * for mine, which wants to publish want there.  Returns DNSUP_R_NOERROR
 * with the plan filled; or DNSUP_R_NOTOWNER (the name is someone else's,
 * or a newer epoch of ours holds it: adopt never overrides that), or
 * DNSUP_R_CNAME_CONFLICT (want is a CNAME and the name holds other
 * types), with plan->verdict DNSUP_OWN_REFUSED.  detail says why, in
 * either case.  The verdict depends on the set of TXT records found, never
 * on their order.
 */
enum dnsup_result dnsup_owner_check(const char *name,
	    const struct dnsup_found *found, const struct dnsup_owner *mine,
	    bool adopt, const struct dnsup_rrset *want,
	    struct dnsup_owner_plan *plan, char *detail, size_t len);

/*
 * Put the plan's prerequisites into u (prereq, prev, owner_prereq,
 * owner_prev, which points into plan: keep plan until u is submitted).
 */
void	 dnsup_owner_apply(const struct dnsup_owner_plan *,
	    struct dnsup_update *u);

/* "free", "ours", "supersede", "adopt", "refused". */
const char *dnsup_owner_verdict_name(enum dnsup_owner_verdict);

#endif
