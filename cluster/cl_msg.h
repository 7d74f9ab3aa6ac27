/*
 * cl_msg.h - etcd v3 over its HTTP/JSON gateway: the requests cluster/
 * sends, the answers it reads, and the error codes of the whole library.
 * Pure: JSON in and out (jansson), no I/O, no clock, no logging.
 *
 * What the gateway of etcd 3.4 (grpc-gateway v1) does, as seen on this
 * machine (NOTES.md), and what the parsers below therefore expect:
 *
 * - Keys and values are base64 strings ("Zm9v" is "foo").
 * - 64-bit integers (revisions, lease IDs, TTLs, counts, versions) are
 *   JSON strings: "ID":"4111120417220936454".  A JSON number is accepted
 *   too.  cluster_id and member_id are unsigned and do not fit an int64.
 * - A field at its default value is left out: "succeeded" is absent when
 *   a txn's compares failed, "type" is absent for a PUT event, "kvs" for
 *   an empty range, "TTL" in the keep-alive answer for a lease etcd does
 *   not know (any more).  Absent therefore means 0, false or empty.
 * - A unary call that fails answers HTTP 4xx/5xx with
 *   {"error":"etcdserver: ...","message":"...","code":GRPC_CODE}.
 * - A streaming call (watch, lease keep-alive) answers HTTP 200 and one
 *   JSON object per line, each {"result":{...}}; an error ends the stream
 *   with either the unary form or {"error":{"grpc_code":N,"http_code":H,
 *   "message":"...","http_status":"..."}}, not always newline-terminated.
 *
 * A request is built into a string the caller frees with free(); field
 * names are the proto names (create_revision, range_end), which the
 * gateway accepts as it accepts the camelCase ones.
 *
 * A parsed answer (struct cl_resp, struct cl_watch_msg) owns its keys,
 * values and arrays, freed together by cl_resp_free()/cl_watch_msg_free().
 * Keys and values are decoded from base64 and NUL-terminated, so that text
 * can be used as a C string (binary values are fine: use the length).
 */
#ifndef FAILOVERD_CL_MSG_H
#define FAILOVERD_CL_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Errors of cluster/ (negative; 0 is success).  cl_strerror() gives a
 * sentence, cl_error_name() a stable snake_case name for key=value logs.
 */
enum cl_error {
	CL_E_NOMEM = -1,	/* out of memory */
	CL_E_INVALID = -2,	/* a bad argument: empty key, bad URL ... */
	CL_E_UNAVAILABLE = -3,	/* no endpoint could serve: refused, timed
				   out, or etcd said it cannot (no leader,
				   no quorum, request timed out: HTTP 5xx) */
	CL_E_PROTOCOL = -4,	/* an answer that is not the gateway's:
				   bad JSON, a missing or mistyped field */
	CL_E_NOTFOUND = -5,	/* lease not found: expired or revoked */
	CL_E_COMPACTED = -6,	/* the revision asked for is compacted */
	CL_E_REFUSED = -7,	/* etcd refused the request (HTTP 4xx:
				   invalid, too large, permission ...) */
	CL_E_CURL = -8,		/* libcurl refused an option or a handle */
	CL_E_EVENT = -9,	/* libevent failed */
	CL_E_NOTLEADER = -10,	/* election: not (or no longer) the leader */
	CL_E_FENCED = -11,	/* election: a leader-only txn found the
				   leader key is not ours any more */
};
#define CL_E_MIN	CL_E_FENCED

const char	*cl_strerror(int err);
/* "ok" "no_memory" "invalid" "unavailable" "protocol" "not_found"
 * "compacted" "refused" "curl" "event" "not_leader" "fenced";
 * "unknown" for anything else.  Static strings. */
const char	*cl_error_name(int err);

/* What every answer starts with. */
struct cl_header {
	uint64_t	 cluster_id;
	uint64_t	 member_id;	/* the member that answered */
	int64_t		 revision;	/* the store's revision then */
	int64_t		 raft_term;
};

/* One key-value, decoded.  Borrowed from the answer that holds it. */
struct cl_kv {
	const char	*key;		/* NUL-terminated */
	size_t		 key_len;
	const char	*value;		/* NUL-terminated; "" when absent */
	size_t		 value_len;
	int64_t		 create_revision;
	int64_t		 mod_revision;
	int64_t		 version;
	int64_t		 lease;		/* 0: none */
};

enum cl_event_type {
	CL_EV_PUT = 0,
	CL_EV_DELETE,
};

/* A watch event.  A DELETE's kv has only key and mod_revision. */
struct cl_event {
	enum cl_event_type type;
	struct cl_kv	 kv;
};

/* A txn compare: target of key, compared by result against a number or
 * a value. */
enum cl_cmp_target {
	CL_CMP_VERSION = 0,
	CL_CMP_CREATE,		/* create_revision; 0: the key is absent */
	CL_CMP_MOD,		/* mod_revision */
	CL_CMP_VALUE,
	CL_CMP_LEASE,		/* the key's lease ID; 0: none */
};
enum cl_cmp_result {
	CL_CMP_EQUAL = 0,
	CL_CMP_GREATER,
	CL_CMP_LESS,
	CL_CMP_NOT_EQUAL,
};

struct cl_cmp {
	const char	*key;
	enum cl_cmp_target target;
	enum cl_cmp_result result;
	int64_t		 number;	/* VERSION, CREATE, MOD, LEASE */
	const void	*value;		/* VALUE */
	size_t		 value_len;
};

/* key's mod_revision equals rev: the compare of a write to a record as it
 * was read (or last written). */
struct cl_cmp	 cl_cmp_mod(const char *key, int64_t rev);

enum cl_op_kind {
	CL_OP_RANGE = 0,
	CL_OP_PUT,
	CL_OP_DELETE,
};

/* A request: alone (range, put, delete) or inside a txn. */
struct cl_op {
	enum cl_op_kind	 kind;
	const char	*key;		/* not empty (unless prefix) */
	bool		 prefix;	/* RANGE, DELETE: every key starting
					   with key ("" with prefix: all) */
	const void	*value;		/* PUT; NULL with value_len 0 ok */
	size_t		 value_len;
	int64_t		 lease;		/* PUT: attach to this lease; 0 none */
	int64_t		 limit;		/* RANGE: at most this many; 0 all */
	int64_t		 revision;	/* RANGE: as of; 0 the latest */
	bool		 prev_kv;	/* PUT, DELETE: return what was there */
};

/* If every compare holds, the success ops run, else the failure ops; all
 * in one revision. */
struct cl_txn {
	const struct cl_cmp *cmp;
	size_t		 ncmp;
	const struct cl_op *success;
	size_t		 nsuccess;
	const struct cl_op *failure;
	size_t		 nfailure;
};

/* The outcome of one op. */
struct cl_op_result {
	enum cl_op_kind	 kind;
	int64_t		 revision;	/* its header's revision */
	const struct cl_kv *kvs;	/* RANGE: the keys found; PUT, DELETE
					   with prev_kv: what was there */
	size_t		 nkvs;
	int64_t		 count;		/* RANGE: keys in range (beyond the
					   limit too); DELETE: keys deleted */
	bool		 more;		/* RANGE: more past the limit */
};

/* Which call an answer belongs to. */
enum cl_msg_kind {
	CL_MSG_GRANT = 0,	/* /v3/lease/grant */
	CL_MSG_KEEPALIVE,	/* /v3/lease/keepalive (a stream) */
	CL_MSG_REVOKE,		/* /v3/lease/revoke */
	CL_MSG_RANGE,		/* /v3/kv/range */
	CL_MSG_PUT,		/* /v3/kv/put */
	CL_MSG_DELETE,		/* /v3/kv/deleterange */
	CL_MSG_TXN,		/* /v3/kv/txn */
	CL_MSG_WATCH,		/* /v3/watch (a stream; cl_msg_parse_watch) */
};
/* The gateway path of a call ("/v3/kv/txn"); "" for a bad kind. */
const char	*cl_msg_path(enum cl_msg_kind);
/* Stream calls answer line by line. */
bool		 cl_msg_is_stream(enum cl_msg_kind);

/* A parsed unary answer; the fields of its kind are set, others zero. */
struct cl_resp {
	enum cl_msg_kind kind;
	struct cl_header header;
	int64_t		 lease_id;	/* GRANT, KEEPALIVE */
	int64_t		 lease_ttl;	/* GRANT, KEEPALIVE: seconds granted */
	struct cl_op_result op;		/* RANGE, PUT, DELETE */
	bool		 succeeded;	/* TXN: the compares held */
	const struct cl_op_result *ops;	/* TXN: the branch's results */
	size_t		 nops;
	void		*mem;		/* owns the above */
};

/* Free what a cl_resp owns and zero it.  NULL ok. */
void	 cl_resp_free(struct cl_resp *);

/* --- requests -------------------------------------------------------- */

/* Each returns 0 and sets *out (caller frees), or CL_E_INVALID/NOMEM. */

/* {"TTL":"ttl_s","ID":"id"}; id 0 lets etcd choose.  ttl_s >= 1. */
int	 cl_msg_grant(int64_t ttl_s, int64_t id, char **out);
/* {"ID":"id"}: the body of keep-alive and revoke.  id != 0. */
int	 cl_msg_lease(int64_t id, char **out);
/* The body of /v3/kv/range, /put or /deleterange, by op->kind. */
int	 cl_msg_op(const struct cl_op *, char **out);
/* The body of /v3/kv/txn. */
int	 cl_msg_txn(const struct cl_txn *, char **out);
/*
 * {"create_request":{...}} for /v3/watch: key (or every key under it with
 * prefix) from start_revision (0: from now on); progress_notify asks etcd
 * for its periodic empty "progress" answers.
 */
int	 cl_msg_watch(const char *key, bool prefix, int64_t start_revision,
	    bool progress_notify, char **out);

/*
 * The range_end that makes [key, range_end) every key starting with key:
 * key with its last byte below 0xff incremented and what follows dropped;
 * a single 0 byte (meaning "to the end") when there is none (an empty key,
 * or all 0xff).  out has room for len bytes (1 at least); *outlen is set.
 */
void	 cl_msg_prefix_end(const void *key, size_t len, void *out,
	    size_t *outlen);

/* --- answers --------------------------------------------------------- */

/*
 * Parse the body of an HTTP 200 answer of kind (for KEEPALIVE: its first
 * line).  0 and *out filled (free it with cl_resp_free), or an error with
 * detail written (NUL-terminated, truncated to dlen): CL_E_PROTOCOL for
 * anything that is not a well-formed answer, CL_E_NOMEM, the error an
 * error object in the body names, and for KEEPALIVE CL_E_NOTFOUND when
 * etcd no longer knows the lease (TTL 0).  On error *out is zero.
 */
int	 cl_msg_parse(enum cl_msg_kind, const char *body, size_t len,
	    struct cl_resp *out, char *detail, size_t dlen);

/*
 * The error an answer with HTTP status http_status (0: unknown) and this
 * body means, with etcd's message in detail.  Never 0:
 *   gRPC NotFound                               CL_E_NOTFOUND
 *   OutOfRange "... compacted"                  CL_E_COMPACTED
 *   Unavailable, DeadlineExceeded, Unknown,
 *   Internal, Aborted, ResourceExhausted; any
 *   HTTP 5xx, 408 or 429 whose body says nothing CL_E_UNAVAILABLE
 *   other gRPC codes                            CL_E_REFUSED
 *   a body that is no error object, not 5xx     CL_E_PROTOCOL
 * CL_E_UNAVAILABLE is the one worth trying on another endpoint.
 */
int	 cl_msg_parse_error(const char *body, size_t len, int http_status,
	    char *detail, size_t dlen);

/* One message of a watch stream. */
struct cl_watch_msg {
	struct cl_header header;	/* revision 0 in a cancel */
	int64_t		 watch_id;	/* -1: stream-wide progress */
	bool		 created;	/* the answer to create_request */
	bool		 canceled;	/* etcd ended the watch */
	int64_t		 compact_revision; /* with canceled: the events
					   from the start revision are gone;
					   the oldest still kept is this */
	const char	*cancel_reason;	/* "" or why */
	const struct cl_event *events;
	size_t		 nevents;
	void		*mem;
};

/*
 * Parse one line of a watch stream.  0 and *out filled (free it with
 * cl_watch_msg_free), or an error as cl_msg_parse() says; an error object
 * (the stream's end) gives the error it names (CL_E_UNAVAILABLE for "no
 * leader").  A message with no event that is neither created nor canceled
 * is a progress notification.
 */
int	 cl_msg_parse_watch(const char *line, size_t len,
	    struct cl_watch_msg *out, char *detail, size_t dlen);
void	 cl_watch_msg_free(struct cl_watch_msg *);

#endif
