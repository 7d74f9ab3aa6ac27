/*
 * ops_precheck.h - a precheck run now, at an operator's request: what
 * failoverctl switch shows in its plan before it asks (the verdict of the
 * target's precheck hook, and the replication lag the hook reports).
 *
 * failoverctl cannot run hooks (they are the daemon's: its user, its
 * environment), so the request goes through the store, the channel every
 * command takes: failoverctl writes a request under the meta key
 * OPS_PRECHECK_REQ GROUP and bumps the flags generation; the daemon
 * (shell/daemon_precheck.c) sees the generation move at its next flags
 * poll, runs the target stack's precheck hook once, bounded by that
 * stack's hook_timeout and never while a switch of the group runs, and
 * writes the answer under OPS_PRECHECK_RES GROUP.  Neither changes any
 * group's state, flags or history.
 *
 *   request  {"id":"8f0c…" (16 random bytes, hex),"stack":"app2",
 *             "actor":"uid:root","ms":N (wall, when asked)}
 *   answer   {"id":..,"group":"www","stack":"app2",
 *             "verdict":"ok|failed|timeout|cancelled|not_run",
 *             "reason":"" or why it was not run or cancelled (switching,
 *               dry_run, not_leader, not_ready, busy, no_precheck,
 *               stopping, switch_started),
 *             "exit":N|null,"duration_ms":N,"lines":["..", ..] (the last
 *               OPS_PRECHECK_LINES lines of output),
 *             "replication_lag_ms":N|null,"replication_lag_bytes":N|null,
 *             "ended_ms":N}
 *
 * A request older than OPS_PRECHECK_MAX_AGE_MS is not run (the daemon was
 * stopped when it was made: nobody waits for it any more); one whose id
 * the answer already carries has been run.
 *
 * Replication lag: a precheck says it in its output, as a word
 * replication_lag_ms=N or replication_lag_bytes=N (N a whole number) on
 * any line; the last one wins.  The example hook config/hooks/database
 * lag-ok prints replication_lag_bytes=N.
 */
#ifndef FAILOVERD_OPS_PRECHECK_H
#define FAILOVERD_OPS_PRECHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "config/config.h"
#include "controller/face/ops.h"
#include "controller/store/store.h"

#define OPS_PRECHECK_REQ	"precheck.request/"
#define OPS_PRECHECK_RES	"precheck.answer/"
#define OPS_PRECHECK_MAX_AGE_MS	30000
#define OPS_PRECHECK_LINES	5
#define OPS_PRECHECK_ID_LEN	33	/* 32 hex digits and a NUL */

struct ops_precheck_req {
	char	 id[OPS_PRECHECK_ID_LEN];
	char	 stack[STORE_FLAG_NAME_MAX];
	char	 actor[STORE_FLAG_NAME_MAX];
	int64_t	 ms;
};

/*
 * The stack a switch of GROUP to TO would go to (TO, or the group's
 * standby as last committed), into stack.  Returns 0, or 1 with
 * reply filled (unknown group or stack, no standby).
 */
int	 ops_precheck_target(struct store *st, const struct config *cfg,
	    const char *group, const char *to, char *stack, size_t len,
	    struct ops_reply *reply);

/*
 * Ask the daemon to run STACK's precheck for GROUP now: write a request
 * with a fresh id (into req) and bump the generation, in one durable
 * transaction.  st read-write.  Returns 0, or 1 with reply filled.
 */
int	 ops_precheck_request(struct store *st, const char *group,
	    const char *stack, const char *actor, int64_t now_ms,
	    struct ops_precheck_req *req, struct ops_reply *reply);

/* GROUP's request, if any.  false when none or unreadable. */
bool	 ops_precheck_request_get(struct store_txn *txn, const char *group,
	    struct ops_precheck_req *req);

/* Write ANSWER (borrowed) for GROUP into txn.  Returns txn->err. */
int	 ops_precheck_answer_put(struct store_txn *txn, const char *group,
	    const json_t *answer);

/*
 * GROUP's answer to the request ID, into *out (caller decrefs).  Returns
 * 0, 1 when there is none for that id yet, or OPS_E_* with err filled.
 */
int	 ops_precheck_answer_get(struct store *st, const char *group,
	    const char *id, json_t **out, char *err, size_t errlen);

/* The id of GROUP's last answer into id ("" when none).  */
void	 ops_precheck_answered(struct store_txn *txn, const char *group,
	    char *id, size_t len);

/*
 * The value of the last word KEY=N (KEY e.g. "replication_lag_ms") in
 * LINE into *val.  Returns true when LINE has one.
 */
bool	 ops_precheck_lag(const char *line, const char *key, int64_t *val);

#endif
