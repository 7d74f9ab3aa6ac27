/*
 * quorum_view.h - the engine's quorum input from the members' votes: the
 * quorum rule's decision (quorum.h) and who sees what, as struct
 * eng_quorum (engine.h) holds them.  Pure; shared by the daemon's leader
 * (shell/daemon_quorum.c) and the simulator (sim/sim_members.c), so that
 * both hand the engine the same view of the same votes.
 */
#ifndef FAILOVERD_QUORUM_VIEW_H
#define FAILOVERD_QUORUM_VIEW_H

#include <stddef.h>

#include "config/config.h"
#include "controller/core/engine.h"
#include "controller/core/quorum.h"

/*
 * Decide from n votes (borrowed) into *out, names sorted and truncated
 * to fit.  Bad votes (quorum_decide() refuses them) give no decision
 * (QUORUM_NONE): the switch holds.  *r (if not NULL) gets the rule's
 * result.
 */
void	 quorum_view_build(const struct cfg_quorum *, const struct quorum_vote *,
	    size_t n, struct eng_quorum *out, struct quorum_result *r);

#endif
