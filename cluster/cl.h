/*
 * cl.h - an etcd v3 client on the daemon's libevent loop: leases, keys,
 * transactions and watches over etcd's HTTP/JSON gateway, through libcurl
 * multi.  No thread, no blocking call; results and errors come back as
 * values through callbacks.  It never logs and never exits.
 *
 * Endpoints.  A client knows the etcd cluster's client URLs and sends
 * each request to the one that answered last ("sticky").  When an
 * attempt cannot be answered by that member - no connection, no complete
 * answer within timeout_ms, HTTP 5xx (no leader, no quorum, request timed
 * out inside etcd) - the next endpoint is tried, each at most once per
 * request, so a request ends within nendpoints * timeout_ms.  An answer
 * that is etcd's verdict (lease not found, compacted, invalid) is final.
 * Every request carries gRPC metadata "hasleader" (the Grpc-Metadata-
 * hasleader header): a member cut off from its cluster's leader refuses
 * at once instead of letting the request wait, and ends watch streams.
 *
 * At least once.  A write (put, delete, txn) whose attempt timed out or
 * broke after it was sent may have been applied by etcd even though
 * another endpoint is then tried, or the request fails: the reply says
 * so (indeterminate).  Writes that matter are therefore transactions
 * whose compares make a repeat harmless (create-if-absent, the fenced
 * writes of cl_election.h), and a reader of an indeterminate result reads
 * back.
 *
 * Requests.  Each operation copies what it needs, returns 0 (the callback
 * will come exactly once, from the loop, never from inside the call) or a
 * negative enum cl_error (no callback).  cb may be NULL (fire and forget:
 * a revoke at shutdown).  The struct cl_req handle, if
 * asked for, is valid until its callback begins or cl_cancel(); the reply
 * is borrowed for the callback's duration.
 *
 * Watches.  A watch is one /v3/watch stream on one endpoint.  When the
 * stream breaks (member killed, connection reset, "no leader"), or says
 * nothing for watch_idle_ms (a member frozen by SIGSTOP keeps its TCP
 * connections open, so silence is the only sign), or another request on
 * the client found its endpoint dead, it is made again on the next
 * endpoint from the revision after the last event it delivered: no event
 * is lost or delivered twice.  If etcd compacted that revision away, the
 * watch ends with CL_E_COMPACTED and the caller must read the keys again
 * and start a new watch from that read's revision + 1.
 *
 * Clock.  Times are microseconds of CLOCK_BOOTTIME (monotonic, and it
 * counts a suspended machine's sleep, which etcd's lease clocks also
 * see pass), replaceable with cl_client_set_clock().
 *
 * Callbacks may start and cancel requests and watches (their own too),
 * never cl_client_free().  Not thread-safe: use from the loop's thread.
 */
#ifndef FAILOVERD_CL_H
#define FAILOVERD_CL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cluster/cl_msg.h"

struct event_base;
struct cl_client;
struct cl_req;
struct cl_watch;

#define CL_MAX_ENDPOINTS	16

struct cl_opts {
	const char *const *endpoints;	/* http(s)://HOST:PORT; copied */
	size_t		 nendpoints;	/* 1 .. CL_MAX_ENDPOINTS */
	int64_t		 timeout_ms;	/* one attempt at one endpoint */
	int64_t		 watch_idle_ms;	/* remake a silent watch stream */
};
/* timeout_ms 1000, watch_idle_ms 10000, no endpoint. */
void	 cl_opts_init(struct cl_opts *);

/*
 * Create a client on base (borrowed; must outlive the client).  NULL on
 * failure with *err (if not NULL) set and detail written.  Needs
 * curl_global_init() to have been called once by the program.
 */
struct cl_client *cl_client_new(struct event_base *base,
    const struct cl_opts *, int *err, char *detail, size_t dlen);
/* Cancel every request and watch (no callbacks) and free.  NULL ok. */
void	 cl_client_free(struct cl_client *);

typedef int64_t cl_clock_fn(void *arg);
void	 cl_client_set_clock(struct cl_client *, cl_clock_fn *, void *arg);
/* The client's clock now, in microseconds. */
int64_t	 cl_client_now(const struct cl_client *);
struct event_base *cl_client_base(const struct cl_client *);
/* The endpoint the next request goes to (borrowed, static). */
const char	*cl_client_endpoint(const struct cl_client *);

/* The outcome of one request.  Borrowed: valid during the callback. */
struct cl_reply {
	int		 error;		/* 0 or a negative enum cl_error */
	const char	*detail;	/* "" or why, e.g. each endpoint's
					   failure for CL_E_UNAVAILABLE */
	const char	*endpoint;	/* that answered, or tried last */
	int64_t		 sent_us;	/* when the attempt that was answered
					   began (before it was sent) */
	int		 attempts;	/* endpoints tried */
	bool		 indeterminate;	/* a write may have been applied by
					   an attempt that got no answer */
	struct cl_resp	 r;		/* the answer; zero on error */
};
typedef void cl_reply_cb(const struct cl_reply *, void *arg);

/*
 * Grant a lease of ttl_s seconds (etcd may raise it to its minimum;
 * r.lease_ttl says what was granted), r.lease_id.
 */
int	 cl_grant(struct cl_client *, int64_t ttl_s, cl_reply_cb *, void *arg,
	    struct cl_req **out) __attribute__((warn_unused_result));
/*
 * Renew a lease once: one POST to /v3/lease/keepalive per renewal, not a
 * long-lived stream.  Renewals are rare (ttl/3), and one request each
 * gets what the election needs for free: its own timeout and endpoint
 * failover, and an exact send time (sent_us) per renewal to base the
 * leadership validity on; a stream would need its own liveness checks
 * and would leave unclear which renewal an answer belongs to.
 * r.lease_ttl is the ttl counted again from etcd's receipt.
 * CL_E_NOTFOUND: the lease is gone (expired or revoked).
 */
int	 cl_keepalive(struct cl_client *, int64_t lease, cl_reply_cb *,
	    void *arg, struct cl_req **out) __attribute__((warn_unused_result));
/* Revoke a lease: the keys attached to it are deleted.  CL_E_NOTFOUND
 * if it was already gone. */
int	 cl_revoke(struct cl_client *, int64_t lease, cl_reply_cb *, void *arg,
	    struct cl_req **out) __attribute__((warn_unused_result));

/* One key or a prefix (op->kind CL_OP_RANGE): r.op.kvs, r.op.count. */
int	 cl_range(struct cl_client *, const struct cl_op *, cl_reply_cb *,
	    void *arg, struct cl_req **out) __attribute__((warn_unused_result));
/* op->kind CL_OP_PUT.  r.header.revision is the put's revision. */
int	 cl_put(struct cl_client *, const struct cl_op *, cl_reply_cb *,
	    void *arg, struct cl_req **out) __attribute__((warn_unused_result));
/* op->kind CL_OP_DELETE: r.op.count keys deleted. */
int	 cl_delete(struct cl_client *, const struct cl_op *, cl_reply_cb *,
	    void *arg, struct cl_req **out) __attribute__((warn_unused_result));
/*
 * A transaction: r.succeeded (the compares held), r.header.revision, and
 * r.ops the results of the branch that ran, in order.
 */
int	 cl_txn(struct cl_client *, const struct cl_txn *, cl_reply_cb *,
	    void *arg, struct cl_req **out) __attribute__((warn_unused_result));
/*
 * The conditional write: op if the one compare holds, else a range of
 * cmp->key, so that the caller learns what is there instead (a created
 * key's holder, a rewritten key's new owner): r.succeeded, and r.ops[0]
 * the op's result or the range's.
 */
int	 cl_txn_else_get(struct cl_client *, const struct cl_cmp *,
	    const struct cl_op *, cl_reply_cb *, void *arg, struct cl_req **out)
	    __attribute__((warn_unused_result));

/* Abandon a request: no callback.  Only before its callback; NULL ok. */
void	 cl_cancel(struct cl_req *);

/* --- watches --------------------------------------------------------- */

struct cl_watch_spec {
	const char	*key;
	bool		 prefix;	/* every key starting with key */
	int64_t		 start_revision; /* first revision wanted; 0: from
					   when the first stream is made */
};

/* What a watch reports.  Borrowed: valid during the callback. */
struct cl_watch_result {
	int		 error;		/* 0; CL_E_COMPACTED: the watch is
					   over (read again, watch anew);
					   other: no endpoint could carry
					   the stream, trying again */
	const char	*detail;
	bool		 created;	/* a stream was (re)made: what follows
					   starts at next_revision */
	int64_t		 revision;	/* the message's header revision */
	int64_t		 compact_revision; /* CL_E_COMPACTED: oldest kept */
	const struct cl_event *events;	/* in revision order */
	size_t		 nevents;
	const char	*endpoint;
};
/* May call cl_watch_stop() on this watch. */
typedef void cl_watch_cb(struct cl_watch *, const struct cl_watch_result *,
    void *arg);

/*
 * Start watching.  0 and *out (owned by the caller: cl_watch_stop() frees
 * it, also after CL_E_COMPACTED), or a negative enum cl_error.
 */
int	 cl_watch_start(struct cl_client *, const struct cl_watch_spec *,
	    cl_watch_cb *, void *arg, struct cl_watch **out)
	    __attribute__((warn_unused_result));
/* Stop and free: no callback after this.  NULL ok. */
void	 cl_watch_stop(struct cl_watch *);
/* The revision the next stream will start from (last event's + 1). */
int64_t	 cl_watch_next_revision(const struct cl_watch *);
/* Streams made so far (1 after the first "created"). */
uint64_t cl_watch_streams(const struct cl_watch *);

#endif
