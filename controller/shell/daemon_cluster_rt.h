/*
 * daemon_cluster_rt.h - the groups made at run time, shared by a
 * cluster's members through etcd (daemon_cluster_rt.c).
 */
#ifndef FAILOVERD_DAEMON_CLUSTER_RT_H
#define FAILOVERD_DAEMON_CLUSTER_RT_H

struct daemon;
struct dclcmd_member;

/* The member joined: read PREFIX/runtime and watch it (every member). */
void	 dclrt_open(struct daemon *, const struct dclcmd_member *);
/* This member began to act: publish its groups if etcd has none. */
void	 dclrt_lead(struct daemon *);
/* Every lease_ttl/3: a first read that failed is made again. */
void	 dclrt_tick(struct daemon *);
/* The groups in force changed (daemon_groups_sync): the acting leader
 * publishes them. */
void	 dclrt_changed(struct daemon *);
void	 dclrt_close(struct daemon *);
/*
 * PREFIX/runtime as the acting leader's store has it now: *key (borrowed,
 * valid until dclrt_close) and *out (caller frees), for a transaction of
 * the caller's (an operator's change answered with it, daemon_cluster_cmd.c).
 * 0, or -1 (not open, no store, no memory).
 */
int	 dclrt_value(struct daemon *, const char **key, char **out);

#endif
