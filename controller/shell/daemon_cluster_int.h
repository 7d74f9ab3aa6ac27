/*
 * daemon_cluster_int.h - what the cluster member's files share: its
 * state.  daemon_cluster.c is the member (election, eligibility, member
 * record, digest, open and close, what the API shows);
 * daemon_cluster_state.c the groups' state in etcd.
 */
#ifndef FAILOVERD_DAEMON_CLUSTER_INT_H
#define FAILOVERD_DAEMON_CLUSTER_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "cluster/cl.h"
#include "cluster/cl_election.h"
#include "cluster/cl_schema.h"
#include "config/config.h"
#include "controller/shell/daemon_int.h"

#define DCL_MEMBERS_MAX		64
#define DCL_REQ_TIMEOUT_MS	1000

struct dcl_member {
	char		 name[CL_NAME_MAX];
	char		 digest[CFG_DIGEST_HEX];
	char		 advertise[CL_URL_MAX];
	int64_t		 started_ms;
};

struct dcluster {
	struct daemon		*d;
	struct cl_client	*c;
	struct cl_election	*el;
	struct event		*ev_tick;
	char			 k_leader[CL_KEY_MAX];
	char			 k_digest[CL_KEY_MAX];
	char			 k_member[CL_KEY_MAX];
	char			 k_members[CL_KEY_MAX];
	char			 k_groups[CL_KEY_MAX];
	bool			 states_busy;	/* reading groups/ */
	struct cl_watch		*mirror;	/* groups/, the warm copy */
	bool			 mirror_busy;	/* its first read */
	char			 digest[CFG_DIGEST_HEX];
	char			*member_rec;	/* our member record */
	char			*digest_rec;	/* our digest record */
	int64_t			 ttl_s;

	int64_t			 mlease;	/* our member lease, 0 none */
	bool			 mlease_busy;	/* grant/keepalive/put */
	bool			 name_held;	/* members/MEMBER on mlease */
	int64_t			 name_taken_ms;	/* monotonic: first seen on
						   another lease; 0 not */
	int			 name_puts;	/* sent since the last tick */
	bool			 read_busy;
	bool			 claim_busy;	/* digest write in flight */
	bool			 digest_ok;	/* written in this leadership */
	bool			 read_once;	/* eligibility known */
	bool			 eligible;
	int			 mismatch_logged;	/* 0 no, 1 yes */
	bool			 available;
	bool			 unavailable_logged;
	int64_t			 digest_mod;	/* PREFIX/digest's mod
						   revision; 0 absent */
	char			 leader_digest[CFG_DIGEST_HEX];
	char			 leader_digest_by[CL_NAME_MAX];

	struct dcl_member	 members[DCL_MEMBERS_MAX];
	size_t			 nmembers;
	int64_t			 read_ms;	/* wall time of the last read */

	char			 leader[CL_NAME_MAX];	/* "" none known */
	int64_t			 leader_epoch;
	int64_t			 leader_since_ms;	/* wall, as seen here */
	uint64_t		 elections, fenced, lost;
	int64_t			 acting_since_ms;
	bool			 test_ignore_validity;
	int64_t			 test_write_delay_ms;
	int64_t			 joined_ms;	/* monotonic */
	/* [cluster] as started with (a reload does not change it). */
	char			 member[CL_NAME_MAX];
	char			 advertise[CL_URL_MAX];
	char			 prefix[CFG_CLUSTER_PREFIX_MAX + 1];
};

/* daemon_cluster.c */
/* A reply from etcd: note whether it was reachable. */
void	 dcl_reply_seen(struct dcluster *, const struct cl_reply *);
/* Stop acting (the validity bound, or leadership lost). */
void	 dcl_step_down(struct dcluster *, const char *why);
/* Begin to act, from the states WS read from etcd. */
void	 dcl_act(struct dcluster *, const struct world_states *ws);

/* daemon_cluster_state.c */
/* The flags kept in etcd with the states, into this member's store. */
void	 dcl_adopt_flags(struct dcluster *, const struct world_states *);
/* Read the groups' states (then act). */
void	 dcl_load_states(struct dcluster *);
/* The followers' warm copy of groups/. */
void	 dcl_mirror_start(struct dcluster *);
/* The group commit's etcd step (d->cl_write): the N states, fenced on
 * the leader key, then DONE(d, error, gen). */
int	 dcl_write(struct daemon *, const char *const *names,
	    char *const *blobs, const size_t *lens, size_t n,
	    void (*done)(struct daemon *, int, uint64_t), uint64_t gen);

#endif
