/*
 * ops.h - the operator commands: one implementation behind failoverctl and
 * the HTTP API.
 *
 * Every function works on the LMDB store and the configuration only, so it
 * runs the same in failoverctl (a second process on the same environment,
 * with the daemon running or stopped) and inside the daemon (the HTTP API,
 * on the daemon's own store handle and loop thread).
 *
 * Commands (pause, resume, pin, unpin, rearm, switch) are judged with the
 * engine's own eng_cmd_check() against the group's state as last committed
 * by the daemon (or eng_group_init() when the daemon never ran) and the
 * stack health the daemon records in the meta records "health/<stack>";
 * when accepted they are written as override flags (store_flags_put, one
 * durable write transaction, read-modify-write).  The daemon polls the
 * flags generation every min(interval) and feeds them to the engine:
 * pause and pin are levels, rearm and switch are requests it clears once
 * fed.  Flags written while the daemon is stopped take effect when it
 * starts.  The engine checks again when it receives the command (the world
 * may have changed in between) and records cmd_refused if it no longer
 * fits.
 *
 * JSON shapes (jansson; the caller json_decref()s what it gets):
 *
 *   group  {"name":"www","address":"www.failover.example.net.",
 *           "status":"serving","state_text":"switching/promote" (status
 *           with the phase),"phase":null,"active":"app1",
 *           "standby":"app2","stacks":[{"name":"app1","role":"primary",
 *             "health":"up","since_ms":N,"reason":"ok",
 *             "failover_status":"online"}, ...],
 *           "flags":{"paused":false,"pinned":null,"rearm_requested":false,
 *             "switch_requested":false,"switch_to":null,"force":false,
 *             "switch_requested_ms":N|null,"switch_actor":..|null,
 *             "rearm_requested_ms":N|null,"rearm_actor":..|null,
 *             "actor":..|null (who last set pause or pin)},
 *           "published":{"stack":"app1","ttl":60} (or null),
 *           "held":"none", "nswitch":1,
 *           "last_switch":{"id":..,"from":..,"to":..,"reason":"auto",
 *             "phase":"done","running":false,"started_ms":N,
 *             "ended_ms":N,"result":"completed|failed|running"} (or null),
 *           "state":{ eng_group_to_json() } (or null before the daemon ran)}
 *   stack  {"name":"app1","web_head":"CNAME app1-lb.example.net." or
 *           addresses,"health_url":..,"health":"up","since_ms":N,
 *           "reason":"ok","failover_status":"online",
 *           "groups":[{"group":"www","role":"primary",
 *             "status":"online"}]}
 *   event  {"seq":N,"ts_ms":N,"ts":"2026-01-01T12:00:00.123Z","group":"www",
 *           "event":"switch_started","data":{payload},"hash":"hex64"}
 */
#ifndef FAILOVERD_OPS_H
#define FAILOVERD_OPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "config/config.h"
#include "controller/core/engine.h"
#include "controller/store/store.h"

#define OPS_MSG_MAX	512

/* Errors of the query functions (negative); 0 is success. */
enum ops_err {
	OPS_OK = 0,
	OPS_E_NOTFOUND = -1,	/* unknown group or stack */
	OPS_E_STORE = -2,	/* the store could not be read or written */
	OPS_E_NOMEM = -3,
	OPS_E_INVAL = -4,	/* bad argument */
	OPS_E_STATE = -5,	/* a stored state that does not decode */
};

/* The operator commands that write override flags. */
enum ops_verb {
	OPS_PAUSE = 0,
	OPS_RESUME,
	OPS_PIN,
	OPS_UNPIN,
	OPS_REARM,
	OPS_SWITCH,
	OPS_CANCEL,		/* withdraw a switch request not taken yet */
};

struct ops_request {
	enum ops_verb	 verb;
	const char	*group;		/* NULL: every group (pause, resume) */
	const char	*stack;		/* pin: required; switch: target, NULL
					   for the standby; others: NULL */
	bool		 force;		/* switch: target not up, pinned */
	const char	*actor;		/* who asks: "uid:root",
					   "api:127.0.0.1"; NULL: unknown */
};

/* How a command ended: the HTTP API maps it to a status code. */
enum ops_outcome {
	OPS_DONE = 0,		/* flags written (200) */
	OPS_REFUSED,		/* refused by the engine's rules (409) */
	OPS_UNKNOWN,		/* unknown group or stack (404) */
	OPS_BAD_REQUEST,	/* malformed request (400) */
	OPS_FAILED,		/* the store failed (500) */
};

struct ops_reply {
	int		 code;		/* 0 done, 1 refused or failed */
	enum ops_outcome outcome;
	char		 reason[48];	/* "target_not_up", "unknown_group",
					   "store", ... ("" when done) */
	char		 message[OPS_MSG_MAX];	/* one line for the operator */
	uint64_t	 request_id;	/* switch: the switch_request_id written */
	uint64_t	 history_seq;	/* newest history event before the write
					   (follow a switch from there) */
	int		 nswitch;	/* switch: the group's switches started
					   before the request */
};

/*
 * Judge and apply one command: read the group state, the health snapshot
 * and the flags, check with eng_cmd_check() (plus: a switch already
 * requested and not yet consumed is refused as switch_pending; a rearm
 * asked again is accepted; resume of a failed group also requests a rearm,
 * which clears the failed state as resume would), and write the flags
 * durably, together with a history event `command` (cmd, actor, stack,
 * force, request id) in the same transaction; a command refused by the
 * rules is recorded as `command_refused` with its reason.  A request
 * carries the time it was made and its actor, so that the daemon can
 * expire it after request_ttl and name who asked.  OPS_CANCEL withdraws a
 * switch request the daemon has not taken yet (refused as no_request when
 * there is none: it ran, expired, or was never made) and records
 * `request_cancelled`.  For every group (group
 * NULL) the command applies to each group of the configuration in one
 * transaction.  Returns reply->code: 0 done, 1 refused or failed; reply is
 * always filled.  st must be opened read-write.
 */
int	 ops_command(struct store *st, const struct config *cfg,
	    const struct ops_request *req, int64_t now_ms,
	    struct ops_reply *reply);

/*
 * Describe what a switch would do (stacks, hooks with argv, the DNS change
 * and its TTL) into buf (eng_plan_format), with a last line saying that
 * the group then waits for rearm, and judge it like ops_command without
 * writing anything.  Returns reply->code.
 */
int	 ops_switch_plan(struct store *st, const struct config *cfg,
	    const char *group, const char *to, bool force, char *buf,
	    size_t len, struct ops_reply *reply);

/*
 * The same plan as JSON into *out (caller decrefs): {"group","from","to",
 * "force","refused":null|"...","steps":[{"phase","stack","command":[argv]
 * |null}],"dns":{"name","from","to","ttl"},"restore":{"enabled","stack",
 * "command"},"after":"...","text": what ops_switch_plan writes}.
 * Returns reply->code (*out NULL unless 0).
 */
int	 ops_switch_plan_json(struct store *st, const struct config *cfg,
	    const char *group, const char *to, bool force, json_t **out,
	    struct ops_reply *reply);

/*
 * Status of one group (a group object) or of every group (group NULL:
 * {"groups":[group, ...]}) into *out.  Returns 0, OPS_E_NOTFOUND for an
 * unknown group, or another OPS_E_* with err filled.
 */
int	 ops_status(struct store *st, const struct config *cfg,
	    const char *group, json_t **out, char *err, size_t errlen);

/* A stack object into *out.  Returns 0, OPS_E_NOTFOUND, or OPS_E_*. */
int	 ops_stack_json(struct store *st, const struct config *cfg,
	    const char *stack, json_t **out, char *err, size_t errlen);

/*
 * History events with seq >= from (0: from the start), of group only when
 * not NULL, the newest `limit` of those when limit > 0, oldest first:
 * {"events":[event, ...],"last_seq":N} into *out.  Returns 0 or OPS_E_*.
 */
int	 ops_events_json(struct store *st, uint64_t from, size_t limit,
	    const char *group, json_t **out, char *err, size_t errlen);

/*
 * FAILOVER_STATUS of a stack combined over the groups (online in any
 * group: online; else offline if it is in some group; none when it is in
 * no group).  Returns 0, or OPS_E_NOTFOUND for a stack not in the
 * configuration, or OPS_E_*.
 */
int	 ops_failover_status(struct store *st, const struct config *cfg,
	    const char *stack, enum eng_online *out, char *err, size_t errlen);

/*
 * A group's engine state as last committed, or eng_group_init() when the
 * store holds none (*stored false).  Returns 0, OPS_E_NOTFOUND (not in the
 * configuration), OPS_E_STATE or OPS_E_STORE.  Read-only.
 */
int	 ops_group_state(struct store *st, const struct config *cfg,
	    const char *group, struct eng_group *g, bool *stored, char *err,
	    size_t errlen);

/*
 * The group's address as an absolute name: the configured one, or for
 * address = auto the label allocated in the store under the zone.  For a
 * group no longer in the configuration, its auto label if the store still
 * holds one.  Returns 0, or OPS_E_NOTFOUND (unknown group, or auto and
 * not allocated yet).
 */
int	 ops_group_address(struct store *st, const struct config *cfg,
	    const char *group, char *buf, size_t len);

/*
 * group delete, store side.  ops_group_delete_check(): refused (1) while
 * the group has stacks in the configuration, unknown (1) when neither the
 * configuration nor the store knows it; 0 when it may be deleted, with its
 * absolute address in addr.  ops_group_delete(): delete its state and flags
 * and tombstone its address (the label under the zone, or the name when
 * outside it) in one transaction.  The caller removes the DNS record in
 * between.  Both return reply->code.
 */
int	 ops_group_delete_check(struct store *st, const struct config *cfg,
	    const char *group, char *addr, size_t addrlen,
	    struct ops_reply *reply);
int	 ops_group_delete(struct store *st, const struct config *cfg,
	    const char *group, const char *addr, int64_t now_ms,
	    struct ops_reply *reply);

/*
 * This process's actor for ops_request.actor: "uid:NAME" (the user name
 * of the real uid, or its number when it has none).
 */
void	 ops_actor_self(char *buf, size_t len);

/* "serving", "switching/promote", "failed", "wait_rearm", "reserved". */
void	 ops_status_text(const struct eng_group *g, char *buf, size_t len);
/* "pause" ... "switch"; NULL if out of range. */
const char *ops_verb_name(enum ops_verb);
/* Parse a verb name; -1 if unknown. */
int	 ops_verb_parse(const char *);
const char *ops_strerror(int err);

#endif
