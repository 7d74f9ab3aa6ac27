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

#endif
