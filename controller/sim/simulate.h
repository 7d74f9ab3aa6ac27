/*
 * simulate.h - `failoverd simulate`: the real engine and the real health
 * hysteresis on a virtual clock.
 *
 * Each stack is probed on its own schedule (interval; fastinter while
 * unknown or between states; downinter while down; first probes spread
 * deterministically over one interval), each result goes through
 * health_step(), and every health change is delivered to every group's
 * engine.  The engine's actions are played: hooks take SIM_HOOK_MS (a hang
 * takes hook_timeout), UPDATEs take SIM_DNS_MS (with the DNS down, they time
 * out after the [dns] timeout × (retries + 1) × servers), timers fire at
 * their time.  Every line printed depends only on the configuration and the
 * scenario: no wall clock, no randomness, no addresses.
 *
 * Where probe outcomes come from is a struct sim_source: the scenario, or
 * a replay of the store's probe log (controller/sim/replay.h).
 */
#ifndef FAILOVERD_SIMULATE_H
#define FAILOVERD_SIMULATE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "config/config.h"
#include "controller/sim/scenario.h"

#define SIM_HOOK_MS	200	/* a hook that exits (0 or 1) */
#define SIM_DNS_MS	20	/* an UPDATE the server answers */

/* One probe's outcome, as a source gives it. */
struct sim_probe {
	bool		ok;
	int		reason;		/* enum probe_reason when !ok */
	int64_t		latency_ms;	/* result arrives this much later */
};

/*
 * A source of probe outcomes: the outcome of the probe of `stack` started
 * at t_ms; `active` tells whether the stack takes some group's traffic
 * (expect_status applies) or not (standby_expect_status).  Called in time
 * order.
 */
struct sim_source {
	void	*ctx;
	void	(*probe)(void *ctx, int stack, int64_t t_ms, bool active,
		    struct sim_probe *out);
	/*
	 * NULL: probes follow the configuration's schedule.  Otherwise the
	 * source keeps the schedule itself (a replay of recorded outcomes):
	 * the time of the stack's next probe, or -1 when it has no more
	 * (a time already past is taken as now).  Such a source has no
	 * scenario lines saying when an outage began, so a stack's outage
	 * is taken to begin at its first failure since it was last up (and
	 * to end at its first success once up again).
	 */
	int64_t	(*next)(void *ctx, int stack);
};

struct sim_options {
	bool			 json;		/* JSON lines */
	FILE			*out;		/* stdout if NULL */
	const struct sim_source	*source;	/* NULL: the scenario's probes */
};

struct sim_stats {
	uint64_t	probes;		/* probe results fed to health */
	uint64_t	steps;		/* engine steps */
	uint64_t	lines;		/* lines printed */
	int		switches;	/* started */
	int		completed;
	int		failed;
};

/*
 * Run scenario scn (already scn_resolve()d against cfg) to its end.
 * Returns 0, or -1 when out of memory (nothing else can fail).
 */
int	 sim_run(const struct config *cfg, const struct scenario *scn,
	    const struct sim_options *opt, struct sim_stats *stats);

/*
 * `failoverd simulate [-c FILE] SCENARIO [--json]`; argv[0] is "simulate".
 * (`simulate --replay` is replay_main(): the program's entry chooses.)
 * Exit status: 0 done, 1 configuration or scenario errors (each printed
 * as FILE:LINE: what), 2 usage.
 */
int	 simulate_main(int argc, char **argv);

#endif
