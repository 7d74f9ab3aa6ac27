/*
 * ctl_cluster.h - what failoverctl says of a cluster ([cluster]): the
 * leader, its epoch and the live members, read from etcd once (the same
 * keys the daemons keep: cluster/cl_schema.h).  For the CLI only: it runs
 * its own short event loop and waits for the answer (bounded by the etcd
 * client's timeouts), which a daemon never may.
 */
#ifndef FAILOVERD_CTL_CLUSTER_H
#define FAILOVERD_CTL_CLUSTER_H

#include <stdbool.h>
#include <stddef.h>

struct config;
struct json_t;

/*
 * Read the cluster of cfg (which has [cluster]) into a new JSON object
 * (caller frees): {"leader", "epoch", "leader_digest", "members": [...]}.
 * NULL with err on failure (etcd unreachable: the reason).
 */
struct json_t	*ctl_cluster_read(const struct config *cfg, char *err,
		    size_t errlen);

/* The lines `failoverctl cluster` prints for o (from ctl_cluster_read). */
void		 ctl_cluster_print(const struct json_t *o);

/* One line for `failoverctl status`: "cluster: leader m2, epoch 14, 3
 * members" (or why it cannot be known).  Nothing without [cluster]. */
void		 ctl_cluster_status_line(const struct config *cfg);

#endif
