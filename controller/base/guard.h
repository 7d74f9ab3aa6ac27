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

/*
 * Event priorities: a lower number runs first, and libevent runs one only
 * when nothing of a higher priority is ready.  DAEMON_PRIO_CORE is
 * libevent's default (NPRIO / 2), so every event not told otherwise has
 * it: the probes, DNS and hooks of the leaf libraries, the signals, the
 * engine's timers, evhttp's listener.  DAEMON_PRIO_FLUSH, the group commit
 * of decisions to the store, runs once every core callback ready now has
 * run.  DAEMON_PRIO_API, everything of the API's connections (face/api_conn.c),
 * runs only when nothing else is ready, a few callbacks at a time
 * (guard.c): load on the API never delays probes, decisions, the store or
 * DNS.  0 and 1 are free for what must run before the core.
 */
#define DAEMON_NPRIO		5
#define DAEMON_PRIO_CORE	2
#define DAEMON_PRIO_FLUSH	3
#define DAEMON_PRIO_API		4

#endif
