/*
 * ops_group.h - groups made at run time: group add, set and delete, one
 * implementation behind failoverctl and the HTTP API (POST /v1/groups,
 * PATCH and DELETE /v1/groups/NAME).
 *
 * The groups are kept in the store as the text of [group NAME] sections
 * (the meta record OPS_GROUPS_META), and read with the configuration's own
 * parser and rules (config_with_groups): a group made here is judged
 * exactly as one written in the file, and behaves like one once taken in.
 * Only address, primary, backup and ttl may be given; stacks, and so every
 * hook command, come only from the configuration file.  A group of the
 * file is read-only here (OPS_REFUSED, 409).  With a [cluster] these
 * run on the acting leader only (the others give the change to it,
 * face/ops_remote.h), which keeps the groups in etcd for every member
 * (shell/daemon_cluster_rt.c).
 *
 * Every change is one durable write transaction: the new text, the
 * generation bumped (the daemon polls it, as it polls the flags) and a
 * history event (group_added, group_changed, group_deleted).  A change
 * the rules refuse writes nothing.  The running daemon takes the new text
 * in with config_with_groups() and world_build(), as at a reload.
 */
#ifndef FAILOVERD_OPS_GROUP_H
#define FAILOVERD_OPS_GROUP_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "config/config.h"
#include "controller/face/ops.h"
#include "controller/store/store.h"

#define OPS_GROUPS_META	"groups.runtime"

/*
 * A group as asked for.  add: address NULL is auto; primary, backup and
 * ttl NULL take the configuration's defaults (no primary: nothing is
 * published until one is set).  set: only the members whose set_* is true
 * change; primary or backup NULL then means none.  ttl is a duration as
 * in the file ("60s", "5m").  Borrowed.
 */
struct ops_group_spec {
	const char	*name;
	const char	*address;
	const char	*primary;
	const char	*backup;
	const char	*ttl;
	bool		 set_primary, set_backup, set_ttl;
	const char	*actor;		/* who asks; NULL: unknown */
};

/*
 * The configuration in force for this store: base's file part and the
 * groups made at run time that the store holds.  Returns 0 and *out
 * (config_free), or OPS_E_* with err: OPS_E_INVAL when the store's
 * groups no longer fit the file (a stack they name was removed from it):
 * err has the first error.
 */
int	 ops_groups_config(struct store *st, const struct config *base,
	    struct config **out, char *err, size_t errlen);

/*
 * Add, change or delete a group made at run time.  Returns reply->code
 * (0 done; 1 with outcome OPS_BAD_REQUEST for what the rules refuse, the
 * configuration's own error line in message; OPS_REFUSED for a group of
 * the file, a name taken, a group switching, or one that points at a
 * stack (delete); OPS_UNKNOWN; OPS_FAILED).  st read-write.
 *
 * ops_group_remove(): refused while the group has a primary or a backup,
 * and, unless record_gone, while its state says a record is published
 * (the caller removes it first: failoverctl group delete does, with a
 * signed UPDATE).  Then the group's text goes.  When addr is not "" on
 * success, the caller then deletes its state and flags and tombstones
 * addr with ops_group_delete(), once the daemon no longer has the group
 * (the API: after api_host.groups_changed), so that no step of the
 * daemon's writes the state again.
 */
int	 ops_group_add(struct store *st, const struct config *cfg,
	    const struct ops_group_spec *spec, int64_t now_ms,
	    struct ops_reply *reply);
int	 ops_group_set(struct store *st, const struct config *cfg,
	    const struct ops_group_spec *spec, int64_t now_ms,
	    struct ops_reply *reply);
int	 ops_group_remove(struct store *st, const struct config *cfg,
	    const char *group, bool record_gone, const char *actor,
	    int64_t now_ms, char *addr, size_t addrlen,
	    struct ops_reply *reply);

/*
 * How a group is defined: {"origin":"file"|"runtime","address":"auto"|
 * name,"primary":..|null,"backup":..|null,"ttl":N}; NULL when cfg has no
 * such group (or out of memory).  Caller decrefs.
 */
json_t	*ops_group_definition(const struct config *cfg, const char *group);

#endif
