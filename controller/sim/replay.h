/*
 * replay.h - `failoverd simulate --replay`: the store's probe log played
 * through the simulator, under the configuration given.
 *
 * The daemon keeps every stack's raw probe outcomes as runs of equal
 * outcomes (store.h, "probelog").  A replay copies the runs of each stack
 * of the configuration out of the store, expands each run back into its
 * outcomes (count of them, spread evenly from start_ms to last_ms) and
 * hands them to sim_run() as a struct sim_source that keeps its own
 * schedule: each outcome is fed at its recorded time, on a virtual clock
 * whose 0 is the first outcome of the window, until REPLAY_SETTLE_MS after
 * the last.  Health, the engine, hooks
 * and DNS are the simulator's, so the thresholds of the configuration
 * given (rise, fall, hold_down, ...) decide, not those in force when the
 * outcomes were recorded.
 *
 * What a recorded outcome becomes:
 *   - one with an HTTP status that succeeded, or failed on its status
 *     alone, is judged again against the configuration's expect_status
 *     (for the stack that takes traffic in the replay) or
 *     standby_expect_status (for the others).  XXX: an outcome that
 *     failed on its status had its body unchecked; when the status now
 *     passes it counts as a success even with an expect_body.
 *   - any other outcome keeps its result and reason.
 *   - a timeout's result arrives the configuration's timeout after its
 *     recorded start, but never after the stack's next outcome (the log
 *     keeps no latency; this keeps replayed time from drifting).
 *
 * Known limits: every group starts as a fresh daemon would (the
 * configured primary active, every stack unknown), whatever state it was
 * really in at the start of the window; operator commands of that time
 * are not replayed; a gap in the log (the daemon stopped) is a time
 * without probes, during which health holds.  A stack of the
 * configuration without outcomes in the window stays unknown.
 */
#ifndef FAILOVERD_REPLAY_H
#define FAILOVERD_REPLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "controller/sim/simulate.h"
#include "controller/store/store.h"

/*
 * The replay goes on this long after the last outcome, without probes, so
 * that a switch started near the end can finish: simulated hooks and
 * UPDATEs take about a second (SIM_HOOK_MS, SIM_DNS_MS) and hooks never
 * hang in a replay.
 */
#define REPLAY_SETTLE_MS	10000

/*
 * The time of outcome K (0 <= K < run->count) of RUN: start_ms for the
 * first, last_ms for the last, evenly between (rounded down).  A run of
 * one outcome is at start_ms.
 */
int64_t	 replay_run_time(const struct store_probe_run *run, uint32_t k);

/*
 * Parse a --since/--until time into wall ms since the epoch: a duration
 * ago (cfg_parse_duration's forms, plus days: "7d", "1d12h") counted back
 * from NOW_MS, or an ISO-8601 UTC time ("2026-11-22", "2026-11-22T01:30Z",
 * "2026-11-22T01:30:00Z", "2026-11-22T01:30:00.250Z"; the Z may be left
 * out, the T may be a space).  Returns 0, or -1 with *ms unchanged.
 */
int	 replay_parse_time(const char *s, int64_t now_ms, int64_t *ms);

/* "2026-11-22T01:30:00.250Z" into buf (at least 25 bytes). */
void	 replay_format_time(int64_t ms, char *buf, size_t len);

struct replay;				/* opaque */

/*
 * An empty replay for NSTACK stacks, keeping the outcomes at SINCE_MS <=
 * t <= UNTIL_MS (wall ms; INT64_MIN, INT64_MAX: no bound).  Returns NULL
 * when out of memory.  Free with replay_free (accepts NULL).
 */
struct replay	*replay_new(size_t nstack, int64_t since_ms, int64_t until_ms);
void		 replay_free(struct replay *);

/*
 * Add a copy of RUN to STACK (0 <= stack < nstack).  Runs may come in any
 * order; a run wholly outside the window is dropped.  Returns 0, or -1
 * when out of memory (the replay is unchanged).
 */
int	 replay_add(struct replay *, int stack, const struct store_probe_run *run);

/*
 * Copy the probe-log runs of every stack of CFG out of the store through
 * TXN (a read transaction), by stack name; runs of stacks that are not in
 * CFG are never read.  Returns txn->err, or STORE_E_NOMEM.
 */
int	 replay_load(struct replay *, struct store_txn *txn,
	    const struct config *cfg);

/* Runs kept and outcomes in the window, of one stack. */
size_t	 replay_runs(const struct replay *, int stack);
uint64_t replay_outcomes(const struct replay *, int stack);

/*
 * The first and last outcome in the window over every stack (wall ms).
 * Returns false, with both left alone, when there is none.
 */
bool	 replay_span(const struct replay *, int64_t *first_ms, int64_t *last_ms);

/*
 * Make SRC a probe source playing the replay from its start (every
 * cursor rewound), times relative to the first outcome of the window.
 * CFG (the configuration the simulation runs, with the stacks numbered as
 * in replay_new) and the replay are borrowed for as long as SRC is used.
 */
void	 replay_source(struct replay *, const struct config *cfg,
	    struct sim_source *src);

/*
 * `failoverd simulate [-c FILE] --replay [--state-dir DIR] [--since T]
 * [--until T] [--json]`; argv[0] is "simulate".  Exit status: 0 done,
 * 1 configuration errors, a store that cannot be read, or no outcome in
 * the window (one line on stderr), 2 usage.
 */
int	 replay_main(int argc, char **argv);

#endif
