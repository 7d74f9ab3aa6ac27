/*
 * daemon_quorum.h - the quorum of vantage points in the daemon (DESIGN.md
 * "Cluster", issue 15): this member's verdicts published to etcd, every
 * member's verdicts watched, and the cluster's view of each stack handed
 * to the engine (struct eng_quorum, through daemon_world()).  Runs only
 * in a cluster; daemon_cluster.c opens and feeds it, daemon.c tells it of
 * this member's own health changes.
 */
#ifndef FAILOVERD_DAEMON_QUORUM_H
#define FAILOVERD_DAEMON_QUORUM_H

#include <stddef.h>
#include <stdint.h>

struct daemon;
struct cl_client;
struct json_t;

/*
 * Start with the cluster's client c (borrowed; it outlives the quorum:
 * dquorum_close() first), its key prefix and this member's name (copied).
 * Sets d->qview.  0, or -1 (out of memory) with nothing set.
 */
int	 dquorum_open(struct daemon *, struct cl_client *c, const char *prefix,
	    const char *member);
/* Stop the watch, drop every request's callback, free; d->qview NULL. */
void	 dquorum_close(struct daemon *);
/*
 * This member's health of stack changed state: its vote counted again at
 * once (before the engine hears of the change) and its verdict published
 * when it differs from the one etcd holds.  No-op alone.
 */
void	 dquorum_local(struct daemon *, int stack);
/* This member's lease: 0 lost (its verdicts are gone), or a new one:
   every verdict is published again on it. */
void	 dquorum_lease(struct daemon *, int64_t lease);
/* The live members as last read (names borrowed for the call): a member
   without a verdict for a stack counts there as unknown. */
void	 dquorum_members(struct daemon *, const char *const *names, size_t n);
/* After a reload: the stacks may have changed; read and publish again. */
void	 dquorum_reload(struct daemon *);
/*
 * {"quorum":"majority","stacks":{"app1":{"decision":"up","required":2,
 * "live":3,"members":{"m1":{"view":"up","since_ms":N,"reason":"..."}}}}}
 * New reference, NULL alone or out of memory.
 */
struct json_t *dquorum_json(struct daemon *);

#endif
