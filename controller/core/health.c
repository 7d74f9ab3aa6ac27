/*
 * health.c - rise/fall hysteresis over a stack's probe results.
 *
 * The rules, all on *consecutive* results (a single result of the other
 * kind starts the count again, so S S F S S with rise = 3 never goes up):
 *
 *   any state but up,   ok_run   >= rise  ->  up
 *   any state but down, fail_run >= fall  ->  down
 *   up, first failure of a run (fall > 1)  ->  suspect (state stays up)
 *   up and suspect, a success              ->  cleared
 *
 * Pure: the time is an argument and nothing here does I/O.  The run
 * counters saturate instead of overflowing, so a stack may stay up for ever.
 */
#include "controller/core/health.h"

#include <limits.h>

static int	 clamp_threshold(int);
static int	 run_inc(int);
static enum health_change health_enter(struct health *, enum health_state,
	    int64_t);

static int
clamp_threshold(int n)
{
	return n < 1 ? 1 : n;
}

static int
run_inc(int n)
{
	return n < INT_MAX ? n + 1 : n;
}

void
health_init(struct health *h, int rise, int fall, int64_t now_ms)
{
	h->state = HEALTH_UNKNOWN;
	h->prev = HEALTH_UNKNOWN;
	h->ok_run = 0;
	h->fail_run = 0;
	h->since_ms = now_ms;
	h->last_reason = 0;
	h->last_fail_ms = 0;
	h->rise = clamp_threshold(rise);
	h->fall = clamp_threshold(fall);
}

static enum health_change
health_enter(struct health *h, enum health_state to, int64_t now_ms)
{
	h->prev = h->state;
	h->state = to;
	h->since_ms = now_ms;
	return HEALTH_CHANGED;
}

enum health_change
health_step(struct health *h, bool ok, int reason, int64_t now_ms)
{
	bool	 was_suspect = health_is_suspect(h);

	if (ok) {
		h->ok_run = run_inc(h->ok_run);
		h->fail_run = 0;
		if (h->state != HEALTH_UP && h->ok_run >= h->rise)
			return health_enter(h, HEALTH_UP, now_ms);
		return was_suspect ? HEALTH_CLEARED : HEALTH_SAME;
	}

	h->fail_run = run_inc(h->fail_run);
	h->ok_run = 0;
	h->last_reason = reason;
	h->last_fail_ms = now_ms;
	if (h->state != HEALTH_DOWN && h->fail_run >= h->fall)
		return health_enter(h, HEALTH_DOWN, now_ms);
	if (h->state == HEALTH_UP && h->fail_run == 1)
		return HEALTH_SUSPECT;
	return HEALTH_SAME;
}

bool
health_is_suspect(const struct health *h)
{
	return h->state == HEALTH_UP && h->fail_run > 0;
}

const char *
health_state_name(enum health_state s)
{
	switch (s) {
	case HEALTH_UNKNOWN:
		return "unknown";
	case HEALTH_UP:
		return "up";
	case HEALTH_DOWN:
		return "down";
	}
	return "invalid";
}

const char *
health_change_name(enum health_change c)
{
	switch (c) {
	case HEALTH_SAME:
		return "same";
	case HEALTH_CHANGED:
		return "changed";
	case HEALTH_SUSPECT:
		return "suspect";
	case HEALTH_CLEARED:
		return "cleared";
	}
	return "invalid";
}
