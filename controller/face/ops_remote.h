/*
 * ops_remote.h - an operator command given to a cluster member that does
 * not lead, carried through etcd to the leader (ops_remote.c).
 *
 * The giver (failoverctl on any member's host, or a follower's HTTP API)
 * writes the command at PREFIX/commands/MEMBER/ID (cluster/cl_schema.h),
 * created only if absent and on a lease, so that an unanswered command
 * goes away with its giver.  The leader watches PREFIX/commands/, judges
 * and applies each command exactly as ops_command() does on its own
 * store, and answers in the same key: one transaction, fenced on its
 * leader key and on the command's mod_revision as it read it, puts the
 * command record again with "result" (so an answer is written once, by
 * a leader that still leads).  Before it applies a command the leader
 * takes it, in a transaction fenced the same way: the record again with
 * "taken".  The giver watches its key and takes the answer, or at its
 * deadline withdraws the command (deleted only if untouched since it
 * wrote it: the same compare) and says no leader took it - then the
 * leader's take fails and nothing is done.  A command taken is never
 * withdrawn: the giver waits for its answer, wait_ms longer for each
 * take (a leader that died after taking it leaves it to the next one,
 * which takes it again), at most OPS_REMOTE_TAKES times, and then says
 * "no_answer": the outcome is not known.
 *
 * Records (JSON, compact, "v" 1; unknown fields ignored):
 *
 *   command  {"v":1,"verb":"pin","group":"www","stack":"app1",
 *             "force":false,"actor":"uid:root","member":"ctl-b",
 *             "ms":1767225600000}
 *            group or stack null when not given (pause --all: group
 *            null); ms the giver's wall clock, for the record.
 *   group    {"v":1,"verb":"group","op":"add","spec":{"name":"shop",
 *             "address":"auto","primary":"app1","backup":null,"ttl":null,
 *             "set_primary":false,"set_backup":false,"set_ttl":false},
 *             "actor":..,"member":..,"ms":N}
 *            a group made at run time (ops_group.h): op add, set or
 *            delete, spec as ops_group_spec (null: not given).
 *   taken    the command, plus "taken":{"leader":"ctl-a","epoch":42}:
 *            a leader took it and is doing it; the giver no longer
 *            withdraws it, and waits for the answer.
 *   answer   the command, plus
 *             "result":{"code":0,"outcome":"done","reason":"",
 *               "message":"www paused","request_id":0,"history_seq":12,
 *               "nswitch":0,"leader":"ctl-a","epoch":42}
 */
#ifndef FAILOVERD_OPS_REMOTE_H
#define FAILOVERD_OPS_REMOTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "controller/face/ops.h"
#include "controller/face/ops_group.h"

struct cl_client;
struct ops_remote;

/* A change of the groups made at run time, or none (a command). */
enum ops_remote_gop {
	OPS_RGROUP_NONE = 0,
	OPS_RGROUP_ADD,
	OPS_RGROUP_SET,
	OPS_RGROUP_DELETE,
};

/* "add" "set" "delete"; as cmd= in the logs: "group_add"...; "": none. */
const char *ops_remote_gop_name(enum ops_remote_gop);
const char *ops_remote_gop_cmd(enum ops_remote_gop);

/* A command as read back; strings are copies. */
struct ops_remote_cmd {
	enum ops_remote_gop	 gop;		/* NONE: req is the command */
	struct ops_group_spec	 spec;		/* gop: points into s_* */
	char			 s_name[64];
	char			 s_address[256];
	char			 s_primary[64];
	char			 s_backup[64];
	char			 s_ttl[32];
	struct ops_request	 req;		/* points into the buffers */
	char			 group[64];
	char			 stack[64];
	char			 actor[64];
	char			 member[64];
	int64_t			 ms;
	bool			 taken;		/* a leader took it */
	char			 taken_by[64];
	uint64_t		 taken_epoch;
	bool			 answered;
	struct ops_reply	 reply;		/* when answered */
	char			 leader[64];
	uint64_t		 epoch;
};

/* The command record of req given on member at ms: *out, caller frees.
 * 0 or -1 (no memory, or a verb out of range). */
int	 ops_remote_cmd_build(const struct ops_request *, const char *member,
	    int64_t ms, char **out);
/* The record of a group change gop of spec given on member at ms. */
int	 ops_remote_group_build(enum ops_remote_gop gop,
	    const struct ops_group_spec *spec, const char *member, int64_t ms,
	    char **out);
/* Parse a command or answer record.  0, or -1 when it is not one. */
int	 ops_remote_cmd_parse(const char *val, size_t len,
	    struct ops_remote_cmd *out);
/* The answer record: the command val plus the leader's reply.  *out,
 * caller frees.  0 or -1. */
int	 ops_remote_answer_build(const char *val, size_t len,
	    const struct ops_reply *, const char *leader, uint64_t epoch,
	    char **out);

/* The record of val taken by leader at epoch: *out, caller frees.  0 or
 * -1. */
int	 ops_remote_taken_build(const char *val, size_t len, const char *leader,
	    uint64_t epoch, char **out);

/* How many takes a giver waits through (a take, and two new leaders'). */
#define OPS_REMOTE_TAKES	3

/*
 * The giver's side: the outcome, exactly once.  reply is borrowed for
 * the call; leader is "" when no leader answered.  The reply of a
 * command nobody took is OPS_FAILED with reason "no_leader"; of one taken
 * but not answered in time, reason "no_answer"; of an etcd
 * that cannot be reached, reason "cluster_unavailable".
 */
typedef void ops_remote_cb(const struct ops_reply *reply, const char *leader,
    uint64_t epoch, void *arg);

/*
 * Give req (copied) to the leader through etcd on client c (borrowed; on
 * its loop): under prefix, as member, on lease (0: the giver grants one
 * of its own and revokes it when done), waiting at most wait_ms for the
 * answer.  0 and *out (the handle, valid until cb begins; may be NULL),
 * cb later from the loop; or -1 with nothing started.
 */
int	 ops_remote_give(struct cl_client *c, const char *prefix,
	    const char *member, int64_t lease, const struct ops_request *req,
	    int64_t wait_ms, ops_remote_cb *cb, void *arg,
	    struct ops_remote **out);
/* The same for a group change (a record of ops_remote_group_build). */
int	 ops_remote_give_group(struct cl_client *c, const char *prefix,
	    const char *member, int64_t lease, enum ops_remote_gop gop,
	    const struct ops_group_spec *spec, int64_t wait_ms,
	    ops_remote_cb *cb, void *arg, struct ops_remote **out);
/* Abandon a command given: no callback; the command is left to its
 * lease.  NULL ok. */
void	 ops_remote_cancel(struct ops_remote *);

/*
 * failoverctl's form: give req on a short-lived loop of its own and wait
 * (at most wait_ms plus the client's own bounds).  Fills reply (and
 * leader, leaderlen) and returns reply->code.
 */
int	 ops_remote_command(const struct config *, const struct ops_request *,
	    int64_t wait_ms, struct ops_reply *reply, char *leader,
	    size_t leaderlen);
int	 ops_remote_group_command(const struct config *, enum ops_remote_gop,
	    const struct ops_group_spec *, int64_t wait_ms,
	    struct ops_reply *reply, char *leader, size_t leaderlen);

#endif
