/*
 * ops_int.h - what the operator commands (ops.c) and the queries
 * (ops_query.c) share: reading a group's state and the stacks' health as
 * the daemon last committed them.  Not for ops' users, who see ops.h.
 */
#ifndef FAILOVERD_OPS_INT_H
#define FAILOVERD_OPS_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "controller/core/engine.h"
#include "controller/core/health.h"
#include "controller/store/store.h"
#include "config/config.h"

/* The health snapshot of one stack, from its meta record. */
struct ops_health {
	bool	 known;			/* a record exists */
	char	 state[16];		/* "up" "down" "unknown" */
	int64_t	 since_ms;
	char	 reason[48];
};

/* A group's index in CFG, or -1. */
int	 ops_group_index(const struct config *, const char *name);
/*
 * Fill h[] (cfg->nstack entries, for eng_world) and oh[] from the health
 * meta records.  A stack without a record is unknown.
 */
int	 ops_health_read(struct store_txn *, const struct config *,
	    struct health *, struct ops_health *);
/* Group GI's stored state (or a fresh one, *stored false); OPS_E_*. */
int	 ops_state_read(struct store_txn *, const struct config *, int gi,
	    struct eng_group *, bool *stored, char *err, size_t errlen);
/* A read transaction, or OPS_E_STORE with the store's error in err. */
int	 ops_txn_read(struct store *, struct store_txn *, char *err,
	    size_t errlen);
/* GROUP's name in DNS: its configured address, or the one allocated to
 * it in the zone; OPS_E_NOTFOUND when it has none yet. */
int	 ops_address_in(struct store_txn *, const struct config *,
	    const char *group, char *buf, size_t len);

#endif
