/*
 * health.h - rise/fall hysteresis: turns a stack's probe results into
 * unknown / up / down.  Pure: no I/O, no clock (the time is an argument).
 *
 * A stack starts unknown; rise consecutive successes make it up, fall
 * consecutive failures make it down.  While it is up but the last probe
 * failed it is *suspect* (the engine lowers the record's TTL then).
 */
#ifndef FAILOVERD_HEALTH_H
#define FAILOVERD_HEALTH_H

#include <stdbool.h>
#include <stdint.h>

enum health_state {
	HEALTH_UNKNOWN = 0,
	HEALTH_UP,
	HEALTH_DOWN,
};

/* What one result did to the stack's health. */
enum health_change {
	HEALTH_SAME = 0,	/* nothing an observer would act on */
	HEALTH_CHANGED,		/* state changed (see from/to in struct health) */
	HEALTH_SUSPECT,		/* up, and a failure has started a run */
	HEALTH_CLEARED,		/* was suspect, a success ended the run */
};

struct health {
	enum health_state	state;
	enum health_state	prev;		/* before the last change */
	int			ok_run;		/* consecutive successes */
	int			fail_run;	/* consecutive failures */
	int64_t			since_ms;	/* when state was entered */
	int			last_reason;	/* probe reason of the last failure
						   (enum probe_reason), 0 if none */
	int64_t			last_fail_ms;	/* when the last failure came (the
						   clock of since_ms), 0 if none:
						   the engine damps the suspect
						   TTL by it */
	int			rise, fall;
};

/* rise and fall below 1 are taken as 1. */
void	 health_init(struct health *, int rise, int fall, int64_t now_ms);
/* Feed one result; ok = success, reason = failure reason when !ok. */
enum health_change health_step(struct health *, bool ok, int reason,
	    int64_t now_ms);
/* Up with a failure run started. */
bool	 health_is_suspect(const struct health *);
const char *health_state_name(enum health_state);	/* "unknown" "up" "down" */
/* "same" "changed" "suspect" "cleared" */
const char *health_change_name(enum health_change);

#endif
