/*
 * clock.h - the controller's two clocks, in milliseconds.
 *
 * Relative deadlines (timeouts, retries, hysteresis timers) run on the
 * monotonic clock, which a step of the system clock does not move;
 * persisted facts (a hold-down's start, switch ids, history times) are
 * wall-clock times.  Both are read here so that a test can step the wall
 * clock of one daemon without touching the host's.
 */
#ifndef FAILOVERD_CLOCK_H
#define FAILOVERD_CLOCK_H

#include <stdint.h>

/* CLOCK_MONOTONIC in ms. */
int64_t	 clock_mono_ms(void);

/*
 * CLOCK_REALTIME in ms, plus the test switch FAILOVERD_TEST_CLOCK_FILE:
 * a file holding a number of milliseconds added to the wall clock, read
 * again at most every 20 ms, so that a test can step the daemon's wall
 * clock as an NTP step or an operator's `date -s` would.
 */
int64_t	 clock_wall_ms(void);

#endif
