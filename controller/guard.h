/*
 * guard.h - the controller's guard against trouble of its own host:
 * descriptors, event priorities, libevent's own messages.
 *
 * The daemon's own trouble is never the stacks' trouble (DESIGN.md, "What
 * failoverd trusts"): load on the API must not starve probes, decisions,
 * the store or DNS of descriptors or of turns of the loop.
 */
#ifndef FAILOVERD_GUARD_H
#define FAILOVERD_GUARD_H

#include <stddef.h>

struct config;
struct event_base;

/*
 * Raise the soft RLIMIT_NOFILE to the hard limit (once, at start; a
 * failure is logged).  Returns the soft limit in force.
 */
long	 guard_nofile_raise(void);

/*
 * The API connections allowed with this configuration and descriptor
 * limit: api_max_connections, lowered so that what probes, DNS and hooks
 * may need (a reserve counted from the stacks, witnesses and groups) stays
 * free.  At least 1.  *reserve gets the reserve when not NULL.
 */
int	 guard_api_share(const struct config *, long nofile, long *reserve);

/*
 * The event base with DAEMON_NPRIO priorities, run so that API callbacks
 * (DAEMON_PRIO_API) give the loop back after a few: NULL on failure.
 */
struct event_base *guard_base_new(void);

/* Send libevent's own messages to our log, through a limiter. */
void	 guard_libevent_log(void);

#endif
