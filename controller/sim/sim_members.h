/*
 * sim_members.h - the members of a simulated cluster (scenario.h,
 * "Members"): each member's own health of every stack, stepped by its own
 * probe outcomes at the leader's probe times, and the quorum's view of
 * each stack (core/quorum.c, the daemon's rule) handed to the engine as
 * eng_world.quorum.  Pure and deterministic: the caller gives the time,
 * the outcomes and where the lines go.
 */
#ifndef FAILOVERD_SIM_MEMBERS_H
#define FAILOVERD_SIM_MEMBERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "controller/core/engine.h"
#include "controller/core/health.h"
#include "controller/sim/scenario.h"

struct simm;

/* A member's own outcome of a stack, set by a probe line with @NAME. */
struct simm_outcome {
	enum scn_probe	 mode;
	int		 status;
	int64_t		 flap_ms, flap_t0;
};

/* The outcome of one probe of stack by member (>= 1). */
typedef void simm_probe_fn(void *ctx, int stack, int member, bool *ok,
    int *reason);
/* One output line: event and nkv key/value pairs (borrowed). */
typedef void simm_line_fn(void *ctx, const char *event,
    const char *const *kv, size_t nkv);

/* For scn->nmembers > 0 members; NULL when out of memory.  scn and cfg
   are borrowed and outlive it. */
struct simm	*simm_new(const struct config *, const struct scenario *);
void		 simm_free(struct simm *);
/* cfg->nstack views, for eng_world.quorum; valid until simm_free(). */
const struct eng_quorum *simm_view(const struct simm *);
const char	*simm_name(const struct simm *, int member);
/* Member's own outcome of stack, or NULL: it follows the stack's. */
const struct simm_outcome *simm_outcome(const struct simm *, int stack,
	    int member);
/* A probe line: member >= 0 gets its own outcome, -1 every member
   follows the stack's again. */
void		 simm_set(struct simm *, int stack, int member,
		    const struct scn_event *);
/*
 * A probe round of stack at now: every live member but the first (whose
 * health, leader, the caller keeps) probes and steps its health; the
 * view is decided again.  Returns whether the view changed (then the
 * groups must evaluate again).
 */
bool		 simm_round(struct simm *, int stack, int64_t now,
		    const struct health *leader, simm_probe_fn *,
		    simm_line_fn *, void *ctx);
/*
 * Member stops (its votes vanish) or starts (health unknown again); every
 * view decided again with the leader's healths (cfg->nstack).  Returns
 * whether any view changed.
 */
bool		 simm_live(struct simm *, int member, bool live, int64_t now,
		    const struct health *leaders, simm_line_fn *, void *ctx);

#endif
