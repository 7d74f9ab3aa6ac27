/*
 * store.h - failoverd's durable state: one LMDB environment in state_dir.
 *
 * The store keeps everything the controller must remember across a crash
 * or a restart, in named LMDB databases:
 *
 *   meta       schema version, flags generation, history head, and free-form
 *              controller information (store_meta_get/put)
 *   groups     group name -> runtime state (opaque blob, encoded by the
 *              controller)
 *   flags      group name -> operator overrides (struct store_flags)
 *   journal    switch id -> journal entry (opaque blob, encoded by the
 *              controller)
 *   history    sequence number -> event, hash-chained (tamper-evident)
 *   addresses  address -> allocation or tombstone (struct store_addr)
 *   probelog   stack + start time -> run of equal probe outcomes
 *
 * On-disk encodings are described in store.c and store_log.c.
 *
 * Transactions.  Every read and write happens inside a transaction held on
 * the caller's stack, as Knot's knot_lmdb_txn_t:
 *
 *	struct store_txn txn;
 *
 *	store_txn_begin(st, true, &txn);
 *	store_group_put(&txn, "www", blob, len);
 *	store_history_append(&txn, now, "www", "switch_start", json, NULL);
 *	if ((rc = store_txn_commit(&txn)) != 0)
 *		log_error("store_write", "error=%s detail=%s",
 *		    store_errname(rc), log_q(txn.detail));
 *
 * The transaction carries a sticky error: after the first failure every
 * later step does nothing and returns that error, and commit aborts instead
 * and returns it, so the caller checks once.  Lookups return bool (found or
 * not; a missing record is not an error) and leave any failure in txn.err.
 * A write transaction is durable when commit returns 0 (LMDB's default
 * sync; the store never sets MDB_NOSYNC).  On STORE_E_MAP_FULL the
 * transaction is aborted; what was committed before stays readable and the
 * store accepts further (smaller) writes.
 *
 * Concurrency.  Readers never block the writer and the writer never blocks
 * readers; there is one writer at a time per environment, across processes,
 * so failoverd and failoverctl may both read and write the same state_dir at
 * once.  Keep write transactions short.  A struct store and its
 * transactions belong to one thread.  Rules inherited from LMDB:
 *   - a write transaction stays on the thread that began it; a process has
 *     at most one write transaction open (a second begin gets STORE_E_BUSY
 *     rather than a self-deadlock);
 *   - values borrowed from the store (store_*_get blobs, callback arguments)
 *     are valid only until the next write in the same transaction or the end
 *     of the transaction, whichever comes first: copy them out;
 *   - callbacks of the foreach functions must not write through the same
 *     transaction;
 *   - a process opens one environment at most once: store_open refuses a
 *     second handle on the same directory (STORE_E_BUSY), because closing
 *     it would drop the first one's locks.  Two handles need two processes.
 *
 * Errors are values: 0 or a negative STORE_E_* code, named by
 * store_errname() and store_strerror(), with the detail (LMDB's own text,
 * the path, the record) in txn.detail or the caller's err buffer.  The store
 * never logs and never exits.
 */
#ifndef FAILOVERD_STORE_H
#define FAILOVERD_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STORE_SCHEMA_VERSION	1	/* what this build reads and writes */

#define STORE_NAME_MAX		255	/* group, stack, address, switch id */
#define STORE_FLAG_NAME_MAX	64	/* sizeof store_flags.pinned, .switch_to */
#define STORE_PAYLOAD_MAX	(1024 * 1024) /* history payload, bytes */
#define STORE_BLOB_MAX		(64 * 1024 * 1024) /* group, journal blobs */
#define STORE_HASH_LEN		32	/* SHA-256 */
#define STORE_DETAIL_LEN	256

enum store_err {
	STORE_OK = 0,
	STORE_E_INVAL = -1,	/* bad argument or misuse (name too long,
				   write in a read transaction, ...) */
	STORE_E_MAP_FULL = -2,	/* MDB_MAP_FULL: raise [controller] map_size */
	STORE_E_TXN_FULL = -3,	/* MDB_TXN_FULL: one transaction too big */
	STORE_E_READONLY = -4,	/* EACCES, EROFS, EPERM, or opened read-only */
	STORE_E_CORRUPT = -5,	/* MDB_CORRUPTED, MDB_INVALID, a bad record */
	STORE_E_SCHEMA = -6,	/* unknown or newer schema version */
	STORE_E_BUSY = -7,	/* readers full, lock held, already open */
	STORE_E_NOMEM = -8,
	STORE_E_NOSPACE = -9,	/* ENOSPC, EDQUOT */
	STORE_E_IO = -10,	/* EIO and any other system error, MDB_PANIC */
	STORE_E_NOTFOUND = -11,	/* something that must exist does not */
	STORE_E_EXISTS = -12,	/* a record that may not be replaced */
	STORE_E_INTERNAL = -13,	/* LMDB misuse: a bug in failoverd */
	STORE_E_UNSAFE = -14,	/* state_dir or its files could be changed
				   by another user, or are links */
};

/* "map_full", "readonly", ...: for key=value log lines. */
const char	*store_errname(int err);
/* A short sentence: "LMDB map is full (raise [controller] map_size)". */
const char	*store_strerror(int err);

/* ---- environment ---- */

struct store;				/* opaque */

#define STORE_RDONLY	0x01		/* no writes; never creates anything */

/*
 * Open (and create when missing) the environment in DIR.  The directory is
 * created 0700 if it does not exist (its parent must); a path that exists
 * but is not a directory is refused.  Files are created 0600.  MAP_SIZE is
 * the LMDB map size in bytes (the largest the state may grow; 0: 64 MiB);
 * a larger map already in use by another process wins.
 *
 * A new environment gets every database and the schema record in one
 * transaction.  An existing one must carry a schema record this build
 * knows: a newer or unknown version is STORE_E_SCHEMA, an environment with
 * data but no schema record is STORE_E_CORRUPT; neither changes anything.
 * With STORE_RDONLY, a missing environment is STORE_E_NOTFOUND.
 *
 * Returns 0 and sets *out (close with store_close), or an error with the
 * detail in err (may be NULL).  Stale reader slots of dead processes are
 * cleared on open.
 */
int	 store_open(const char *dir, size_t map_size, int flags,
	    struct store **out, char *err, size_t errlen)
	    __attribute__((warn_unused_result));
/* No transaction may be open.  Accepts NULL. */
void	 store_close(struct store *);
/* The directory given to store_open; borrowed, valid until store_close. */
const char *store_path(const struct store *);

/* ---- transactions ---- */

struct store_txn {
	struct store	*store;
	struct MDB_txn	*txn;		/* NULL once ended */
	bool		 write;
	bool		 appended;	/* history appended (history_cb) */
	int		 err;		/* sticky: 0 or the first STORE_E_* */
	char		 detail[STORE_DETAIL_LEN]; /* what failed, or "" */
};

/*
 * Begin a transaction (WRITE: read-write, else a read-only snapshot).
 * Always initialises *txn; returns txn->err.  A write begin waits for the
 * writer of another process to finish; a read-modify-write inside one
 * write transaction (failoverctl pause: get the flags, set one, put them)
 * is therefore atomic across processes.  Even a failed txn must be ended
 * with store_txn_commit or store_txn_abort (both are then no-ops).
 *
 * XXX: LMDB has no try-lock for the writer, so a process stopped (SIGSTOP,
 * a debugger) inside a write transaction holds up every other writer until
 * it continues or dies; a killed one is recovered at once (robust mutex).
 * Hence: never wait for anything, least of all the user, inside a write.
 */
int	 store_txn_begin(struct store *, bool write, struct store_txn *txn);
/*
 * End the transaction: commit it if no step failed, else abort it.
 * Returns 0 (durable, for a write) or the sticky error, detail in
 * txn->detail.  A read transaction is simply released.
 */
int	 store_txn_commit(struct store_txn *txn)
	    __attribute__((warn_unused_result));
/* Throw the transaction away.  Safe on an ended transaction. */
void	 store_txn_abort(struct store_txn *txn);

/* ---- meta: free-form controller information ---- */

/*
 * KEY is any name not starting with "store." (reserved for the store's own
 * records: STORE_E_INVAL).  Values are bytes; get borrows them.
 */
int	 store_meta_put(struct store_txn *, const char *key, const void *val,
	    size_t len);
bool	 store_meta_get(struct store_txn *, const char *key,
	    const void **val, size_t *len);

/*
 * The flags generation: a counter bumped by every committed flags write
 * (store_flags_put, store_flags_del), by any process.  Polling it is one
 * short read transaction, cheap enough for every probe interval; when it
 * moved, reread the flags.  Returns 0 or an error (detail in err).
 */
int	 store_generation(struct store *, uint64_t *gen, char *err,
	    size_t errlen);
/*
 * Bump the generation in a write transaction that changed something the
 * pollers must reread besides the flags (the groups made at run time, in
 * the meta record "groups.runtime").  Returns txn->err.
 */
int	 store_generation_bump(struct store_txn *);

/* ---- groups: runtime state, opaque to the store ---- */

/*
 * The blob is the controller's encoding of a group's runtime state; the
 * store only keeps the bytes (at most STORE_BLOB_MAX).  get borrows.
 */
int	 store_group_put(struct store_txn *, const char *group,
	    const void *blob, size_t len);
bool	 store_group_get(struct store_txn *, const char *group,
	    const void **blob, size_t *len);
/* Deleting a missing record is not an error. */
int	 store_group_del(struct store_txn *, const char *group);

/* Foreach callbacks return true to go on, false to stop (not an error). */
typedef bool (*store_blob_cb)(const char *name, const void *blob, size_t len,
    void *arg);
/* Every group in name order.  Returns txn->err. */
int	 store_group_foreach(struct store_txn *, store_blob_cb, void *arg);

/* ---- flags: operator overrides ---- */

/*
 * A group's override flags.  A group without a record has all flags clear.
 * Names (stacks, actors) are NUL-terminated and shorter than
 * STORE_FLAG_NAME_MAX.
 */
struct store_flags {
	bool		paused;
	char		pinned[STORE_FLAG_NAME_MAX];	/* stack, "" = none */
	bool		rearm_requested;
	bool		switch_requested;
	char		switch_to[STORE_FLAG_NAME_MAX];	/* "" = the other */
	bool		switch_force;
	uint64_t	switch_request_id;
	int64_t		updated_ms;
	/* When each request was made (wall ms) and by whom ("uid:root",
	   "api:127.0.0.1"); actor: who last changed pause or pin. */
	int64_t		switch_requested_ms;
	int64_t		rearm_requested_ms;
	char		switch_actor[STORE_FLAG_NAME_MAX];
	char		rearm_actor[STORE_FLAG_NAME_MAX];
	char		actor[STORE_FLAG_NAME_MAX];
};

/* Writes and bumps the generation.  STORE_E_INVAL on an unterminated name. */
int	 store_flags_put(struct store_txn *, const char *group,
	    const struct store_flags *);
/* Copies out; when absent returns false with *flags cleared. */
bool	 store_flags_get(struct store_txn *, const char *group,
	    struct store_flags *flags);
int	 store_flags_del(struct store_txn *, const char *group);
typedef bool (*store_flags_cb)(const char *group,
    const struct store_flags *flags, void *arg);
int	 store_flags_foreach(struct store_txn *, store_flags_cb, void *arg);

/* ---- journal: one entry per switch, opaque to the store ---- */

int	 store_journal_put(struct store_txn *, const char *switch_id,
	    const void *blob, size_t len);
bool	 store_journal_get(struct store_txn *, const char *switch_id,
	    const void **blob, size_t *len);
int	 store_journal_del(struct store_txn *, const char *switch_id);
/* Every entry in switch id order (bytewise).  Returns txn->err. */
int	 store_journal_foreach(struct store_txn *, store_blob_cb, void *arg);

/* ---- history: the hash-chained event log ---- */

/*
 * An event as stored.  Strings are NUL-terminated and borrowed from the
 * map: valid until the callback returns (foreach) or the transaction ends
 * (get).  hash = SHA-256 over the previous event's hash and this event's
 * fields (see store.c); the first event's prev_hash is all zero.
 */
struct store_event {
	uint64_t	 seq;		/* 1, 2, ... with no gap */
	int64_t		 ts_ms;
	const char	*group;		/* "" when the event has none */
	const char	*event;		/* "switch_start", "health_change", ... */
	const char	*payload;	/* JSON text from the caller, or "" */
	size_t		 payload_len;
	uint8_t		 prev_hash[STORE_HASH_LEN];
	uint8_t		 hash[STORE_HASH_LEN];
};

/*
 * Append an event in a write transaction: it takes the next sequence number
 * and links to the previous event's hash.  GROUP and PAYLOAD may be NULL
 * (stored as ""); EVENT must be a non-empty name.  The store does not parse
 * the payload (at most STORE_PAYLOAD_MAX bytes, no NUL).  *seq (may be
 * NULL) gets the new number, valid once the commit succeeds.
 */
int	 store_history_append(struct store_txn *, int64_t ts_ms,
	    const char *group, const char *event, const char *payload,
	    uint64_t *seq);
/*
 * fn(arg) is called after each successful commit, in this process, of a
 * write transaction that appended to the history: the API pushes the new
 * events to its live streams.  fn runs inside store_txn_commit(), so it
 * only takes note (it must not begin a transaction).  NULL fn: none.
 */
void	 store_set_history_cb(struct store *, void (*fn)(void *), void *arg);
/* The newest sequence number, 0 when the history is empty. */
uint64_t store_history_last(struct store_txn *);
bool	 store_history_get(struct store_txn *, uint64_t seq,
	    struct store_event *ev);
typedef bool (*store_event_cb)(const struct store_event *ev, void *arg);
/*
 * Events with seq >= FROM (0 or 1: from the start), of GROUP only when not
 * NULL, oldest first; with LIMIT > 0 only the newest LIMIT of those (so
 * "history --limit 20" is from 0, limit 20).  Returns txn->err.
 */
int	 store_history_foreach(struct store_txn *, uint64_t from,
	    size_t limit, const char *group, store_event_cb, void *arg);
/*
 * Remove the events before BEFORE (the newest event always stays), keeping
 * the chain verifiable: the first kept event and the hash it links to are
 * recorded as the history's base, and an anchor event "history_pruned"
 * naming that base is appended at TS_MS (see store_log.c).  Sequence
 * numbers are never reused.  *removed (may be NULL) gets the number
 * removed (0: nothing removed, nothing appended).
 */
int	 store_history_prune(struct store_txn *, uint64_t before,
	    int64_t ts_ms, size_t *removed);
/*
 * Check the whole chain in its own read transaction: sequence numbers
 * without gap from 1 (or the base after a prune, which the newest
 * history_pruned anchor must name), each prev_hash equal to the hash
 * before (the first: zero, or the base's), each hash recomputed, the last
 * event equal to the head recorded in meta.  Returns
 * 0 with *first_bad = 0 when it all fits, or 0 with *first_bad = the
 * sequence number of the first event that does not (an event that should
 * be there but is missing is named by its number) and the reason in err;
 * or an error when the store could not be read.  *count (may be NULL)
 * gets the number of events read.
 */
int	 store_history_verify(struct store *, uint64_t *first_bad,
	    uint64_t *count, char *err, size_t errlen)
	    __attribute__((warn_unused_result));

/* ---- usage and retention ---- */

/* What the map holds, in bytes of pages. */
struct store_usage {
	size_t		 map_bytes;	/* the map's size */
	size_t		 used_bytes;	/* pages in use or free for reuse */
	size_t		 history_bytes, history_events;
	size_t		 probelog_bytes, probelog_runs;
	size_t		 journal_bytes, journal_entries;
};

/* Figures of the transaction's snapshot.  Returns txn->err. */
int	 store_usage(struct store_txn *, struct store_usage *);

/*
 * How much of the logs to keep.  Each log is bounded by age and by a
 * share of the map, so that the state and the switch journal (which are
 * never pruned) always have room: a log over its share is cut to 3/4 of
 * it, oldest first.
 */
struct store_retention {
	int64_t		 history_keep_ms;	/* 0: no age bound */
	double		 history_share;		/* of the map, e.g. 0.25 */
	int64_t		 probelog_keep_ms;
	double		 probelog_share;
	size_t		 probelog_max_runs;	/* per stack, 0: none */
	size_t		 nstack;		/* stacks in the probe log */
};

struct store_retained {
	size_t			 history_removed;
	size_t			 probelog_removed;
	struct store_usage	 usage;		/* before the cut */
};

/*
 * Apply the policy in a write transaction (one pass: O(1) figures, the
 * prefix older than the age bound, and the runs removed).  A history
 * prune appends its anchor event at NOW_MS.  Returns txn->err.
 */
int	 store_retain(struct store_txn *, const struct store_retention *,
	    int64_t now_ms, struct store_retained *out);

/* ---- addresses: allocations and tombstones ---- */

enum store_addr_state {
	STORE_ADDR_ALLOCATED = 1,	/* in use by group */
	STORE_ADDR_TOMBSTONE = 2,	/* deleted; never handed out again */
};

struct store_addr {
	enum store_addr_state	state;
	int64_t			time_ms;	/* allocated or tombstoned at */
	char			group[STORE_NAME_MAX + 1];
};

/*
 * KEY is the address as the controller names it (label or FQDN; pick one
 * form and keep it).  A tombstone is forever: putting anything over one is
 * STORE_E_EXISTS.
 */
int	 store_addr_put(struct store_txn *, const char *addr,
	    const struct store_addr *);
bool	 store_addr_get(struct store_txn *, const char *addr,
	    struct store_addr *);
typedef bool (*store_addr_cb)(const char *addr, const struct store_addr *a,
    void *arg);
int	 store_addr_foreach(struct store_txn *, store_addr_cb, void *arg);

/* ---- probelog: raw probe outcomes in runs, for replay ---- */

/*
 * A run of equal outcomes of one stack.  result, reason and status are the
 * caller's codes (e.g. the probe result class, its reason, the HTTP
 * status); the store compares them only for equality.
 */
struct store_probe_run {
	int64_t		start_ms;	/* first outcome of the run */
	int64_t		last_ms;	/* latest outcome of the run */
	uint32_t	count;		/* outcomes in the run, >= 1 */
	uint8_t		result;
	uint8_t		reason;
	uint16_t	status;
};

/*
 * Record one outcome at TS_MS: it extends the stack's newest run when
 * result, reason and status are equal, the run is not full and the outcome
 * comes at the run's pace (a replay spreads a run's outcomes evenly, so a
 * new period or a gap starts a new run), else starts a new run.  A time older than the newest run's last outcome is
 * taken as that time, so runs never overlap.  Each call is a write: batch
 * a probe round into one transaction.
 */
int	 store_probelog_append(struct store_txn *, const char *stack,
	    int64_t ts_ms, uint8_t result, uint8_t reason, uint16_t status);
/*
 * The same rule without the store, for a caller that keeps each stack's
 * newest run in memory and writes runs in batches: extend *run with one
 * outcome (true), or, when it does not continue the run (or run->count is
 * 0: no run yet), replace *run with a new run of that one outcome (false;
 * the old one is the caller's to keep).  Pure.
 */
bool	 store_probe_run_next(struct store_probe_run *run, int64_t ts_ms,
	    uint8_t result, uint8_t reason, uint16_t status);
/* Write one run of STACK (a new one, or the newer state of a run). */
int	 store_probelog_put(struct store_txn *, const char *stack,
	    const struct store_probe_run *);
typedef bool (*store_run_cb)(const char *stack,
    const struct store_probe_run *run, void *arg);
/*
 * Runs whose last outcome is at or after SINCE_MS, of STACK only when not
 * NULL, by stack name then time.  Returns txn->err.
 */
int	 store_probelog_foreach(struct store_txn *, const char *stack,
	    int64_t since_ms, store_run_cb, void *arg);
/*
 * Remove every run whose last outcome is before BEFORE_MS, and beyond the
 * newest MAX_RUNS runs of each stack (0: no count limit).  *removed (may
 * be NULL) gets the number of runs removed.
 */
int	 store_probelog_prune(struct store_txn *, int64_t before_ms,
	    size_t max_runs, size_t *removed);

#endif
