/*
 * daemon_cluster_val.h - the value a leader writes to PREFIX/groups/NAME
 * and what the other members take from it (daemon_cluster_val.c).
 */
#ifndef FAILOVERD_DAEMON_CLUSTER_VAL_H
#define FAILOVERD_DAEMON_CLUSTER_VAL_H

#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "controller/core/engine.h"
#include "controller/store/store.h"

/*
 * Encode group's state st as the journal codec does (its epoch), plus
 * "flags", the override flags rtxn (a read transaction; NULL: none) holds
 * for it now.  *out (caller frees) is *len bytes.  0 or -1 (no memory).
 */
int	 dclv_encode(const struct config *, struct store_txn *rtxn,
	    const char *group, const struct eng_group *st, uint64_t epoch,
	    char **out, size_t *len);

/*
 * Take one value read from etcd into the local store, in the open write
 * transaction txn: its "flags" become the group's override flags (a value
 * without them leaves the store's), and a state inside a switch becomes
 * that switch's journal entry, epoch and all.  Returns true when the
 * value held flags.  Errors stay in txn (sticky).
 */
bool	 dclv_adopt(struct store_txn *txn, const struct config *,
	    const char *group, const char *val, size_t len);

#endif
