/*
 * daemon_cluster_cmd.h - operator commands in a cluster: the leader
 * applies what any member was given; a member that does not lead gives
 * what it is given to the leader (daemon_cluster_cmd.c, on
 * face/ops_remote.h's protocol).
 */
#ifndef FAILOVERD_DAEMON_CLUSTER_CMD_H
#define FAILOVERD_DAEMON_CLUSTER_CMD_H

#include <stdint.h>

#include "controller/face/ops_remote.h"

struct daemon;
struct cl_client;
struct cl_election;

/* What the member lends (daemon_cluster.c); borrowed for its life. */
struct dclcmd_member {
	struct cl_client	*client;
	struct cl_election	*election;
	const char		*prefix;
	const char		*member;
	const int64_t		*lease;		/* the member lease, 0 none */
	int64_t			 lease_ttl_ms;
};

/* The member joined (dcluster_open): m is copied, its pointers borrowed
 * until dclcmd_close(). */
void	 dclcmd_open(struct daemon *, const struct dclcmd_member *m);
/* This member began acting as the leader: apply the commands waiting in
 * etcd and those that come (a watch), until dclcmd_follow(). */
void	 dclcmd_lead(struct daemon *);
/* It stopped acting: apply nothing more. */
void	 dclcmd_follow(struct daemon *);
/*
 * The acting leader writes key = val (val taken, freed here) in order
 * with the answers to commands, fenced on its leader key: PREFIX/runtime
 * published by daemon_cluster_rt.c, so that no value sent late overwrites
 * a later one's.  0 queued; 1 not needed, the answer to the group change
 * being applied writes it; -1 not (not acting, no memory).
 */
int	 dclcmd_put(struct daemon *, const char *key, char *val);
/* A test's hold of WHAT (claim, apply, answer, runtime) in ms, read from the
 * file FAILOVERD_TEST_CLUSTER_DELAY_FILE names; 0: none. */
int64_t	 dclcmd_test_delay(const char *what);
/* The member goes: everything stops, commands given are abandoned (no
 * callback; their lease takes them). */
void	 dclcmd_close(struct daemon *);

/*
 * A command given to this member (its HTTP API).  Returns 1 when it is
 * to be applied here as a controller alone does (no cluster); 0 when it
 * was given to the leader, whichever member leads, this one too: cb
 * comes later, once, with the leader's answer or why there is none;
 * -1 when it could not be given (*now filled: cluster_unavailable).
 */
int	 dclcmd_give(struct daemon *, const struct ops_request *,
	    ops_remote_cb *cb, void *arg, struct ops_reply *now);

/* The same for a change of the groups made at run time. */
int	 dclcmd_give_group(struct daemon *, enum ops_remote_gop,
	    const struct ops_group_spec *, ops_remote_cb *cb, void *arg,
	    struct ops_reply *now);

#endif
