/*
 * store.c - failoverd's durable state in LMDB: environment, transactions
 * with a sticky error, and the record encodings.
 *
 * The environment lives in state_dir (data.mdb and lock.mdb, 0600) and
 * holds seven named databases, all created in the one transaction that
 * writes the schema record.  Every multi-byte integer in a value is little
 * endian; integers in keys are big endian so that LMDB's bytewise order is
 * numeric order.  Every value that the store itself encodes starts with a
 * format byte (1 today), so that a record can change shape without a new
 * schema version for the whole environment.  Names (group, stack, switch
 * id, address) are keys of 1..255 bytes without a NUL.
 *
 * meta: "store.schema" -> u32 schema version (01 00 00 00).
 *       "store.generation" -> u64 count of flags writes.
 *       "store.history_head" -> u64 last seq, then its 32-byte hash.
 *       "store.history_base" -> u64 first kept seq, then the hash of the
 *       event before it (absent until store_history_prune removes any).
 *       Other keys: free-form controller information (store_meta_put).
 *
 * groups, journal: name -> the controller's bytes, unchanged.
 *
 * flags: group -> 20-byte header, then the two names without NUL:
 *	0  u8	format (1)
 *	1  u8	bits: 0x01 paused, 0x02 rearm_requested,
 *		0x04 switch_requested, 0x08 switch_force
 *	2  u8	length of pinned (0..63)
 *	3  u8	length of switch_to (0..63)
 *	4  u64	switch_request_id
 *	12 i64	updated_ms
 *	20	pinned, then switch_to
 *   Paused and pinned to app1 at 1700000000123 ms, nothing requested:
 *	01 01 04 00  00 00 00 00 00 00 00 00  7b 68 e5 cf 8b 01 00 00
 *	61 70 70 31
 *
 * history: BE u64 seq -> 82-byte header, then group, event and payload,
 * each followed by a NUL (so borrowed pointers are C strings):
 *	0  u8	format (1)
 *	1  u8	0
 *	2  u16	group length	4  u16	event length	6  u32 payload length
 *	10 i64	ts_ms
 *	18	prev_hash[32]	50	hash[32]
 *   hash = SHA-256(prev_hash || BE u64 seq || BE i64 ts_ms ||
 *	BE u16 glen || group || BE u16 elen || event || BE u32 plen || payload)
 *   The lengths in the hash make the field boundaries unambiguous.  Event 1
 *   at 1700000000123 ms, group "www", event "pause", payload {"by":"ctl"}:
 *	key   00 00 00 00 00 00 00 01
 *	value 01 00 03 00 05 00 0c 00 00 00 7b 68 e5 cf 8b 01 00 00
 *	      (32 zero bytes)
 *	      69 ad 28 a4 c3 fa 5e 77 71 14 66 6d 7a 6d 8f cc
 *	      78 d5 f7 59 43 b2 dc ff db 82 e2 08 69 f0 b2 02
 *	      77 77 77 00 70 61 75 73 65 00 7b 22 62 79 22 3a
 *	      22 63 74 6c 22 7d 00
 *   The chain is tamper-evident, not tamper-proof: whoever can write the
 *   file can rewrite every hash after the one changed.  The head in meta
 *   catches a truncated tail, the base a pruned start.  An event takes
 *   some 200 bytes of map with its share of pages, so a 64 MiB map holds
 *   about 300,000 events; store_history_prune keeps it bounded.
 *
 * addresses: address -> 11-byte header, then the group name:
 *	0  u8	format (1)	1  u8	state (1 allocated, 2 tombstone)
 *	2  i64	time_ms		10 u8	group length
 *   "www" tombstoned at 1700000000123 ms:
 *	01 02 7b 68 e5 cf 8b 01 00 00 03 77 77 77
 *
 * probelog: stack, 00, BE u64 start_ms -> 18 bytes:
 *	0  u8	format (1)	1  u8	result		2  u8	reason
 *	3  u8	0		4  u16	status		6  u32	count
 *	10 i64	last_ms
 *   app1 failed (result 0, reason 2) 5 times from 1700000000123 to
 *   1700000004123 ms:
 *	key   61 70 70 31 00 00 00 01 8b cf e5 68 7b
 *	value 01 00 02 00 00 00 05 00 00 00 1b 78 e5 cf 8b 01 00 00
 *
 * Why read first on open: an existing environment is checked in a read
 * transaction, so failoverctl can open the store while the daemon holds
 * the write lock.  Only an empty environment takes the write lock, and
 * checks again under it, since another process may have created it
 * meanwhile.
 */
#include "controller/store.h"

#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lmdb.h>
#include <openssl/evp.h>

#define DEFAULT_MAP_SIZE	(64UL * 1024 * 1024)
#define MAX_DBS			16

#define KEY_SCHEMA		"store.schema"
#define KEY_GENERATION		"store.generation"
#define KEY_HISTORY_HEAD	"store.history_head"
#define KEY_HISTORY_BASE	"store.history_base"
#define RESERVED_PREFIX		"store."

#define FLAGS_HDR		20
#define FLAG_PAUSED		0x01
#define FLAG_REARM		0x02
#define FLAG_SWITCH		0x04
#define FLAG_FORCE		0x08
#define HIST_HDR		82
#define ADDR_HDR		11
#define RUN_LEN			18
#define RUN_KEY_MAX		(STORE_NAME_MAX + 1 + 8)

enum store_db {
	DB_META = 0,
	DB_GROUPS,
	DB_FLAGS,
	DB_JOURNAL,
	DB_HISTORY,
	DB_ADDRESSES,
	DB_PROBELOG,
	DB_COUNT
};

static const char *const db_names[DB_COUNT] = {
	"meta", "groups", "flags", "journal", "history", "addresses",
	"probelog",
};

struct store {
	MDB_env		*env;
	MDB_dbi		 dbi[DB_COUNT];
	char		*path;
	bool		 rdonly;
	bool		 writing;	/* a write txn is open in this process */
	int		 ntxn;		/* txns open in this process */
	dev_t		 dev;
	ino_t		 ino;
	pid_t		 pid;
	struct store	*next;		/* open_stores */
};

/*
 * The environments open in this process, to refuse a second handle on
 * one (LMDB's fcntl locks are per process).  Entries of another pid were
 * inherited through fork and do not count.
 */
static pthread_mutex_t	 open_lock = PTHREAD_MUTEX_INITIALIZER;
static struct store	*open_stores;

static int	 map_err(int);
static void	 set_err(char *, size_t, const char *, ...)
		    __attribute__((format(printf, 3, 4)));
static int	 txn_fail(struct store_txn *, int, const char *, ...)
		    __attribute__((format(printf, 3, 4)));
static int	 txn_mdb_fail(struct store_txn *, int, const char *,
		    const char *);
static bool	 txn_usable(struct store_txn *, bool);
static int	 name_check(struct store_txn *, const char *, const char *,
		    size_t *);
static bool	 kv_get(struct store_txn *, enum store_db, const void *,
		    size_t, MDB_val *);
static int	 kv_put(struct store_txn *, enum store_db, const void *,
		    size_t, const void *, size_t);
static void	*kv_reserve(struct store_txn *, enum store_db, const void *,
		    size_t, size_t);
static int	 kv_del(struct store_txn *, enum store_db, const void *,
		    size_t);
static int	 blob_put(struct store_txn *, enum store_db, const char *,
		    const void *, size_t);
static bool	 blob_get(struct store_txn *, enum store_db, const char *,
		    const void **, size_t *);
static int	 blob_del(struct store_txn *, enum store_db, const char *);
static int	 blob_foreach(struct store_txn *, enum store_db,
		    store_blob_cb, void *);
static bool	 key_name(const MDB_val *, char *);
static int	 cursor_open(struct store_txn *, enum store_db,
		    MDB_cursor **);
static int	 env_mkdir(const char *, char *, size_t);
static int	 env_setup(struct store *, char *, size_t);
static int	 env_inspect(struct store *, MDB_txn *, bool *, char *,
		    size_t);
static int	 env_create(struct store *, MDB_txn *, char *, size_t);
static int	 env_check(struct store *, MDB_txn *, char *, size_t);
static bool	 registry_add(struct store *);
static void	 registry_remove(struct store *);
static int	 flags_encode(const struct store_flags *, uint8_t *, size_t *);
static bool	 flags_decode(const MDB_val *, struct store_flags *);
static int	 generation_bump(struct store_txn *);
static bool	 event_decode(uint64_t, const MDB_val *, struct store_event *);
static int	 event_hash(uint64_t, int64_t, const uint8_t *, const char *,
		    size_t, const char *, size_t, const char *, size_t,
		    uint8_t *);
static bool	 addr_decode(const MDB_val *, struct store_addr *);
static size_t	 run_key(const char *, size_t, int64_t, uint8_t *);
static bool	 run_decode(const MDB_val *, const MDB_val *, char *,
		    struct store_probe_run *);
static void	 put_le16(uint8_t *, uint16_t);
static void	 put_le32(uint8_t *, uint32_t);
static void	 put_le64(uint8_t *, uint64_t);
static uint16_t	 get_le16(const uint8_t *);
static uint32_t	 get_le32(const uint8_t *);
static uint64_t	 get_le64(const uint8_t *);
static void	 put_be64(uint8_t *, uint64_t);
static uint64_t	 get_be64(const uint8_t *);

/* ---- errors ---- */

static const struct {
	int		 code;
	const char	*name;
	const char	*text;
} store_errors[] = {
	{ STORE_OK,		"ok",		"success" },
	{ STORE_E_INVAL,	"invalid",	"invalid argument" },
	{ STORE_E_MAP_FULL,	"map_full",
	    "LMDB map is full (raise [controller] map_size)" },
	{ STORE_E_TXN_FULL,	"txn_full",	"transaction too large" },
	{ STORE_E_READONLY,	"readonly",
	    "state is read-only or permission denied" },
	{ STORE_E_CORRUPT,	"corrupt",	"state is corrupt" },
	{ STORE_E_SCHEMA,	"schema",
	    "state has an unknown schema version" },
	{ STORE_E_BUSY,		"busy",		"state is busy" },
	{ STORE_E_NOMEM,	"nomem",	"out of memory" },
	{ STORE_E_NOSPACE,	"nospace",	"no space left on device" },
	{ STORE_E_IO,		"io",		"I/O error" },
	{ STORE_E_NOTFOUND,	"notfound",	"not found" },
	{ STORE_E_EXISTS,	"exists",	"record exists" },
	{ STORE_E_INTERNAL,	"internal",	"internal error (LMDB misuse)" },
};

const char *
store_errname(int err)
{
	for (size_t i = 0; i < sizeof(store_errors) / sizeof(store_errors[0]);
	    i++)
		if (store_errors[i].code == err)
			return store_errors[i].name;
	return "unknown";
}

const char *
store_strerror(int err)
{
	for (size_t i = 0; i < sizeof(store_errors) / sizeof(store_errors[0]);
	    i++)
		if (store_errors[i].code == err)
			return store_errors[i].text;
	return "unknown error";
}

/* LMDB's return codes (its own and errno values) to ours. */
static int
map_err(int rc)
{
	switch (rc) {
	case MDB_SUCCESS:
		return STORE_OK;
	case MDB_MAP_FULL:
		return STORE_E_MAP_FULL;
	case MDB_TXN_FULL:
		return STORE_E_TXN_FULL;
	case MDB_CORRUPTED:
	case MDB_INVALID:
	case MDB_VERSION_MISMATCH:
	case MDB_PAGE_NOTFOUND:
	case MDB_INCOMPATIBLE:
	case MDB_PAGE_FULL:
	case MDB_CURSOR_FULL:
		return STORE_E_CORRUPT;
	case MDB_READERS_FULL:
	case MDB_MAP_RESIZED:
	case EAGAIN:
	case EBUSY:
		return STORE_E_BUSY;
	case MDB_NOTFOUND:
	case ENOENT:
		return STORE_E_NOTFOUND;
	case MDB_KEYEXIST:
		return STORE_E_EXISTS;
	case EACCES:
	case EROFS:
	case EPERM:
		return STORE_E_READONLY;
	case ENOMEM:
		return STORE_E_NOMEM;
	case ENOSPC:
	case EDQUOT:
		return STORE_E_NOSPACE;
	case MDB_BAD_RSLOT:
	case MDB_BAD_TXN:
	case MDB_BAD_VALSIZE:
	case MDB_BAD_DBI:
	case MDB_DBS_FULL:
	case MDB_TLS_FULL:
	case EINVAL:
		return STORE_E_INTERNAL;
	default:
		return STORE_E_IO;	/* EIO, MDB_PANIC, anything else */
	}
}

static void
set_err(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (buf == NULL || len == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
}

/* Record the first failure of TXN; later ones keep the first. */
static int
txn_fail(struct store_txn *txn, int code, const char *fmt, ...)
{
	va_list ap;

	if (txn->err != 0)
		return txn->err;
	txn->err = code;
	va_start(ap, fmt);
	vsnprintf(txn->detail, sizeof(txn->detail), fmt, ap);
	va_end(ap);
	return code;
}

static int
txn_mdb_fail(struct store_txn *txn, int rc, const char *what,
    const char *dbname)
{
	return txn_fail(txn, map_err(rc), "%s(%s): %s", what, dbname,
	    mdb_strerror(rc));
}

/* Whether TXN may take another step (a write step when WRITE). */
static bool
txn_usable(struct store_txn *txn, bool write)
{
	if (txn->err != 0)
		return false;
	if (txn->txn == NULL) {
		txn_fail(txn, STORE_E_INVAL, "transaction already ended");
		return false;
	}
	if (write && !txn->write) {
		txn_fail(txn, STORE_E_INVAL, "write in a read transaction");
		return false;
	}
	return true;
}

static int
name_check(struct store_txn *txn, const char *what, const char *name,
    size_t *len)
{
	size_t n;

	if (name == NULL || (n = strnlen(name, STORE_NAME_MAX + 1)) == 0)
		return txn_fail(txn, STORE_E_INVAL, "%s: empty name", what);
	if (n > STORE_NAME_MAX)
		return txn_fail(txn, STORE_E_INVAL,
		    "%s: name longer than %d bytes", what, STORE_NAME_MAX);
	*len = n;
	return 0;
}

/* ---- environment ---- */

static int
env_mkdir(const char *dir, char *err, size_t errlen)
{
	struct stat sb;

	if (mkdir(dir, 0700) == 0)
		return 0;
	if (errno != EEXIST) {
		int e = errno;

		set_err(err, errlen, "%s: cannot create directory: %s", dir,
		    strerror(e));
		return map_err(e);
	}
	if (stat(dir, &sb) == -1) {
		int e = errno;

		set_err(err, errlen, "%s: %s", dir, strerror(e));
		return map_err(e);
	}
	if (!S_ISDIR(sb.st_mode)) {
		set_err(err, errlen, "%s: not a directory", dir);
		return STORE_E_INVAL;
	}
	return 0;
}

/*
 * Whether the environment is empty (no named database yet): the main
 * database holds one record per named database.
 */
static int
env_inspect(struct store *st, MDB_txn *txn, bool *empty, char *err,
    size_t errlen)
{
	MDB_dbi main;
	MDB_stat ms;
	int rc;

	if ((rc = mdb_dbi_open(txn, NULL, 0, &main)) != 0 ||
	    (rc = mdb_stat(txn, main, &ms)) != 0) {
		set_err(err, errlen, "%s: main database: %s", st->path,
		    mdb_strerror(rc));
		return map_err(rc);
	}
	*empty = ms.ms_entries == 0;
	return 0;
}

static int
env_create(struct store *st, MDB_txn *txn, char *err, size_t errlen)
{
	MDB_val k, v;
	uint8_t ver[4], gen[8];
	int rc;

	for (int i = 0; i < DB_COUNT; i++)
		if ((rc = mdb_dbi_open(txn, db_names[i], MDB_CREATE,
		    &st->dbi[i])) != 0) {
			set_err(err, errlen, "%s: create database %s: %s",
			    st->path, db_names[i], mdb_strerror(rc));
			return map_err(rc);
		}
	put_le32(ver, STORE_SCHEMA_VERSION);
	put_le64(gen, 0);
	k.mv_data = (void *)KEY_SCHEMA;
	k.mv_size = strlen(KEY_SCHEMA);
	v.mv_data = ver;
	v.mv_size = sizeof(ver);
	if ((rc = mdb_put(txn, st->dbi[DB_META], &k, &v, 0)) == 0) {
		k.mv_data = (void *)KEY_GENERATION;
		k.mv_size = strlen(KEY_GENERATION);
		v.mv_data = gen;
		v.mv_size = sizeof(gen);
		rc = mdb_put(txn, st->dbi[DB_META], &k, &v, 0);
	}
	if (rc != 0) {
		set_err(err, errlen, "%s: write schema record: %s", st->path,
		    mdb_strerror(rc));
		return map_err(rc);
	}
	return 0;
}

/* An existing environment: the schema must be ours, every database there. */
static int
env_check(struct store *st, MDB_txn *txn, char *err, size_t errlen)
{
	MDB_val k, v;
	uint32_t ver;
	int rc;

	if ((rc = mdb_dbi_open(txn, db_names[DB_META], 0,
	    &st->dbi[DB_META])) != 0) {
		set_err(err, errlen, "%s: state has data but no meta "
		    "database: %s", st->path, mdb_strerror(rc));
		return rc == MDB_NOTFOUND ? STORE_E_CORRUPT : map_err(rc);
	}
	k.mv_data = (void *)KEY_SCHEMA;
	k.mv_size = strlen(KEY_SCHEMA);
	if ((rc = mdb_get(txn, st->dbi[DB_META], &k, &v)) != 0) {
		set_err(err, errlen, "%s: state has data but no schema "
		    "record: %s", st->path, mdb_strerror(rc));
		return rc == MDB_NOTFOUND ? STORE_E_CORRUPT : map_err(rc);
	}
	if (v.mv_size != 4) {
		set_err(err, errlen, "%s: schema record of %zu bytes, "
		    "expected 4", st->path, v.mv_size);
		return STORE_E_CORRUPT;
	}
	ver = get_le32(v.mv_data);
	if (ver > STORE_SCHEMA_VERSION) {
		set_err(err, errlen, "%s: state schema version %u is newer "
		    "than this failoverd's version %d; refusing to touch it",
		    st->path, ver, STORE_SCHEMA_VERSION);
		return STORE_E_SCHEMA;
	}
	if (ver != STORE_SCHEMA_VERSION) {
		/* A migration from an older version would go here. */
		set_err(err, errlen, "%s: unknown state schema version %u "
		    "(this failoverd knows version %d); refusing to touch it",
		    st->path, ver, STORE_SCHEMA_VERSION);
		return STORE_E_SCHEMA;
	}
	for (int i = 1; i < DB_COUNT; i++)
		if ((rc = mdb_dbi_open(txn, db_names[i], 0,
		    &st->dbi[i])) != 0) {
			set_err(err, errlen, "%s: database %s: %s", st->path,
			    db_names[i], mdb_strerror(rc));
			return rc == MDB_NOTFOUND ? STORE_E_CORRUPT :
			    map_err(rc);
		}
	return 0;
}

static int
env_setup(struct store *st, char *err, size_t errlen)
{
	MDB_txn *txn = NULL;
	bool empty = false;
	int rc, ret;

	if ((rc = mdb_txn_begin(st->env, NULL, MDB_RDONLY, &txn)) != 0) {
		set_err(err, errlen, "%s: begin: %s", st->path,
		    mdb_strerror(rc));
		return map_err(rc);
	}
	if ((ret = env_inspect(st, txn, &empty, err, errlen)) != 0)
		goto fail;
	if (empty && st->rdonly) {
		set_err(err, errlen, "%s: no state here", st->path);
		ret = STORE_E_NOTFOUND;
		goto fail;
	}
	if (empty) {
		mdb_txn_abort(txn);
		txn = NULL;
		if ((rc = mdb_txn_begin(st->env, NULL, 0, &txn)) != 0) {
			set_err(err, errlen, "%s: begin: %s", st->path,
			    mdb_strerror(rc));
			return map_err(rc);
		}
		/* Someone may have created it while we waited for the lock. */
		if ((ret = env_inspect(st, txn, &empty, err, errlen)) != 0)
			goto fail;
	}
	ret = empty ? env_create(st, txn, err, errlen) :
	    env_check(st, txn, err, errlen);
	if (ret != 0)
		goto fail;
	rc = mdb_txn_commit(txn);	/* keeps the dbi handles */
	txn = NULL;
	if (rc != 0) {
		set_err(err, errlen, "%s: commit: %s", st->path,
		    mdb_strerror(rc));
		return map_err(rc);
	}
	return 0;
 fail:
	mdb_txn_abort(txn);
	return ret;
}

static bool
registry_add(struct store *st)
{
	struct store *s;
	bool ok = true;

	pthread_mutex_lock(&open_lock);
	for (s = open_stores; s != NULL; s = s->next)
		if (s->pid == st->pid && s->dev == st->dev &&
		    s->ino == st->ino)
			ok = false;
	if (ok) {
		st->next = open_stores;
		open_stores = st;
	}
	pthread_mutex_unlock(&open_lock);
	return ok;
}

static void
registry_remove(struct store *st)
{
	struct store **sp;

	pthread_mutex_lock(&open_lock);
	for (sp = &open_stores; *sp != NULL; sp = &(*sp)->next)
		if (*sp == st) {
			*sp = st->next;
			break;
		}
	pthread_mutex_unlock(&open_lock);
}

int
store_open(const char *dir, size_t map_size, int flags, struct store **out,
    char *err, size_t errlen)
{
	struct store *st = NULL;
	struct stat sb;
	bool registered = false;
	unsigned int envflags = MDB_NOTLS;
	int rc, ret, dead;

	*out = NULL;
	set_err(err, errlen, "%s", "");
	if (dir == NULL || *dir == '\0') {
		set_err(err, errlen, "no state directory given");
		return STORE_E_INVAL;
	}
	if ((st = calloc(1, sizeof(*st))) == NULL ||
	    (st->path = strdup(dir)) == NULL) {
		set_err(err, errlen, "%s: out of memory", dir);
		ret = STORE_E_NOMEM;
		goto fail;
	}
	st->rdonly = (flags & STORE_RDONLY) != 0;
	st->pid = getpid();
	if (st->rdonly) {
		envflags |= MDB_RDONLY;
		if (stat(dir, &sb) == -1) {
			int e = errno;

			set_err(err, errlen, "%s: %s", dir, strerror(e));
			ret = map_err(e);
			goto fail;
		}
		if (!S_ISDIR(sb.st_mode)) {
			set_err(err, errlen, "%s: not a directory", dir);
			ret = STORE_E_INVAL;
			goto fail;
		}
	} else if ((ret = env_mkdir(dir, err, errlen)) != 0)
		goto fail;
	if (stat(dir, &sb) == -1) {
		int e = errno;

		set_err(err, errlen, "%s: %s", dir, strerror(e));
		ret = map_err(e);
		goto fail;
	}
	st->dev = sb.st_dev;
	st->ino = sb.st_ino;
	if (!registry_add(st)) {
		set_err(err, errlen, "%s: already open in this process", dir);
		ret = STORE_E_BUSY;
		goto fail;
	}
	registered = true;

	if ((rc = mdb_env_create(&st->env)) != 0 ||
	    (rc = mdb_env_set_maxdbs(st->env, MAX_DBS)) != 0 ||
	    (rc = mdb_env_set_mapsize(st->env,
	    map_size ? map_size : DEFAULT_MAP_SIZE)) != 0) {
		set_err(err, errlen, "%s: %s", dir, mdb_strerror(rc));
		ret = map_err(rc);
		goto fail;
	}
	if ((rc = mdb_env_open(st->env, dir, envflags, 0600)) != 0) {
		set_err(err, errlen, "%s: cannot open LMDB environment: %s",
		    dir, mdb_strerror(rc));
		ret = map_err(rc);
		goto fail;
	}
	/* Reader slots of processes killed while reading. */
	(void)mdb_reader_check(st->env, &dead);
	if ((ret = env_setup(st, err, errlen)) != 0)
		goto fail;
	*out = st;
	return 0;
 fail:
	if (registered)
		registry_remove(st);
	if (st != NULL) {
		if (st->env != NULL)
			mdb_env_close(st->env);
		free(st->path);
		free(st);
	}
	return ret;
}

void
store_close(struct store *st)
{
	if (st == NULL)
		return;
	registry_remove(st);
	mdb_env_close(st->env);
	free(st->path);
	free(st);
}

const char *
store_path(const struct store *st)
{
	return st->path;
}

/* ---- transactions ---- */

int
store_txn_begin(struct store *st, bool write, struct store_txn *txn)
{
	int rc, dead;

	memset(txn, 0, sizeof(*txn));
	txn->store = st;
	txn->write = write;
	if (write && st->rdonly)
		return txn_fail(txn, STORE_E_READONLY,
		    "%s: store opened read-only", st->path);
	if (write && st->writing)
		return txn_fail(txn, STORE_E_BUSY,
		    "a write transaction is already open in this process");
	/*
	 * A reader slot left by a killed process (failoverctl history piped
	 * into head) would pin every page freed after its snapshot until the
	 * map is full.  Clearing them costs a few fcntl calls per reading
	 * process, next to the fsync of the commit.
	 */
	if (write)
		(void)mdb_reader_check(st->env, &dead);
	rc = mdb_txn_begin(st->env, NULL, write ? 0 : MDB_RDONLY, &txn->txn);
	if (rc == MDB_MAP_RESIZED && st->ntxn == 0) {
		/*
		 * Another process with a larger map grew the data past ours:
		 * adopt its size and retry.  Remapping would pull the map
		 * from under our other transactions, so only with none open;
		 * else the caller gets STORE_E_BUSY and tries again later.
		 */
		if ((rc = mdb_env_set_mapsize(st->env, 0)) == 0)
			rc = mdb_txn_begin(st->env, NULL,
			    write ? 0 : MDB_RDONLY, &txn->txn);
	}
	if (rc != 0) {
		txn->txn = NULL;
		return txn_fail(txn, map_err(rc), "%s: begin: %s", st->path,
		    mdb_strerror(rc));
	}
	st->ntxn++;
	if (write)
		st->writing = true;
	return 0;
}

int
store_txn_commit(struct store_txn *txn)
{
	int rc;

	if (txn->txn == NULL)
		return txn->err != 0 ? txn->err : txn_fail(txn, STORE_E_INVAL,
		    "transaction already ended");
	if (txn->err != 0) {
		store_txn_abort(txn);
		return txn->err;
	}
	rc = mdb_txn_commit(txn->txn);
	txn->txn = NULL;
	txn->store->ntxn--;
	if (txn->write)
		txn->store->writing = false;
	if (rc != 0)
		return txn_fail(txn, map_err(rc), "%s: commit: %s",
		    txn->store->path, mdb_strerror(rc));
	return 0;
}

void
store_txn_abort(struct store_txn *txn)
{
	if (txn->txn == NULL)
		return;
	mdb_txn_abort(txn->txn);
	txn->txn = NULL;
	txn->store->ntxn--;
	if (txn->write)
		txn->store->writing = false;
}

/* ---- generic records ---- */

static bool
kv_get(struct store_txn *txn, enum store_db db, const void *key,
    size_t keylen, MDB_val *val)
{
	MDB_val k;
	int rc;

	if (!txn_usable(txn, false))
		return false;
	k.mv_data = (void *)key;
	k.mv_size = keylen;
	rc = mdb_get(txn->txn, txn->store->dbi[db], &k, val);
	if (rc == MDB_NOTFOUND)
		return false;
	if (rc != 0) {
		txn_mdb_fail(txn, rc, "get", db_names[db]);
		return false;
	}
	return true;
}

static int
kv_put(struct store_txn *txn, enum store_db db, const void *key,
    size_t keylen, const void *val, size_t vallen)
{
	MDB_val k, v;
	int rc;

	if (!txn_usable(txn, true))
		return txn->err;
	k.mv_data = (void *)key;
	k.mv_size = keylen;
	v.mv_data = (void *)val;
	v.mv_size = vallen;
	if ((rc = mdb_put(txn->txn, txn->store->dbi[db], &k, &v, 0)) != 0)
		return txn_mdb_fail(txn, rc, "put", db_names[db]);
	return 0;
}

/* Make room for a value of LEN bytes and return where to write it. */
static void *
kv_reserve(struct store_txn *txn, enum store_db db, const void *key,
    size_t keylen, size_t len)
{
	MDB_val k, v;
	int rc;

	if (!txn_usable(txn, true))
		return NULL;
	k.mv_data = (void *)key;
	k.mv_size = keylen;
	v.mv_data = NULL;
	v.mv_size = len;
	if ((rc = mdb_put(txn->txn, txn->store->dbi[db], &k, &v,
	    MDB_RESERVE)) != 0) {
		txn_mdb_fail(txn, rc, "put", db_names[db]);
		return NULL;
	}
	return v.mv_data;
}

static int
kv_del(struct store_txn *txn, enum store_db db, const void *key,
    size_t keylen)
{
	MDB_val k;
	int rc;

	if (!txn_usable(txn, true))
		return txn->err;
	k.mv_data = (void *)key;
	k.mv_size = keylen;
	rc = mdb_del(txn->txn, txn->store->dbi[db], &k, NULL);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return txn_mdb_fail(txn, rc, "del", db_names[db]);
	return 0;
}

static int
cursor_open(struct store_txn *txn, enum store_db db, MDB_cursor **cur)
{
	int rc;

	if ((rc = mdb_cursor_open(txn->txn, txn->store->dbi[db], cur)) != 0) {
		*cur = NULL;
		return txn_mdb_fail(txn, rc, "cursor", db_names[db]);
	}
	return 0;
}

/* Copy a name key into BUF (STORE_NAME_MAX + 1 bytes). */
static bool
key_name(const MDB_val *k, char *buf)
{
	if (k->mv_size == 0 || k->mv_size > STORE_NAME_MAX ||
	    memchr(k->mv_data, '\0', k->mv_size) != NULL)
		return false;
	memcpy(buf, k->mv_data, k->mv_size);
	buf[k->mv_size] = '\0';
	return true;
}

static int
blob_put(struct store_txn *txn, enum store_db db, const char *name,
    const void *blob, size_t len)
{
	size_t n;

	if (!txn_usable(txn, true) || name_check(txn, db_names[db], name,
	    &n) != 0)
		return txn->err;
	if (len > STORE_BLOB_MAX || (blob == NULL && len != 0))
		return txn_fail(txn, STORE_E_INVAL, "%s %s: bad blob of %zu "
		    "bytes", db_names[db], name, len);
	return kv_put(txn, db, name, n, blob, len);
}

static bool
blob_get(struct store_txn *txn, enum store_db db, const char *name,
    const void **blob, size_t *len)
{
	MDB_val v;
	size_t n;

	*blob = NULL;
	*len = 0;
	if (!txn_usable(txn, false) || name_check(txn, db_names[db], name,
	    &n) != 0 || !kv_get(txn, db, name, n, &v))
		return false;
	*blob = v.mv_data;
	*len = v.mv_size;
	return true;
}

static int
blob_del(struct store_txn *txn, enum store_db db, const char *name)
{
	size_t n;

	if (!txn_usable(txn, true) || name_check(txn, db_names[db], name,
	    &n) != 0)
		return txn->err;
	return kv_del(txn, db, name, n);
}

static int
blob_foreach(struct store_txn *txn, enum store_db db, store_blob_cb cb,
    void *arg)
{
	MDB_cursor *cur = NULL;
	MDB_val k, v;
	char name[STORE_NAME_MAX + 1];
	int rc;

	if (!txn_usable(txn, false) || cursor_open(txn, db, &cur) != 0)
		return txn->err;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (!key_name(&k, name)) {
			txn_fail(txn, STORE_E_CORRUPT, "%s: bad key of %zu "
			    "bytes", db_names[db], k.mv_size);
			break;
		}
		if (!cb(name, v.mv_data, v.mv_size, arg))
			break;
	}
	if (rc != 0 && rc != MDB_NOTFOUND)
		txn_mdb_fail(txn, rc, "cursor_get", db_names[db]);
	mdb_cursor_close(cur);
	return txn->err;
}

/* ---- meta ---- */

int
store_meta_put(struct store_txn *txn, const char *key, const void *val,
    size_t len)
{
	size_t n;

	if (!txn_usable(txn, true) || name_check(txn, "meta", key, &n) != 0)
		return txn->err;
	if (strncmp(key, RESERVED_PREFIX, strlen(RESERVED_PREFIX)) == 0)
		return txn_fail(txn, STORE_E_INVAL, "meta %s: reserved key",
		    key);
	if (len > STORE_BLOB_MAX || (val == NULL && len != 0))
		return txn_fail(txn, STORE_E_INVAL, "meta %s: bad value", key);
	return kv_put(txn, DB_META, key, n, val, len);
}

bool
store_meta_get(struct store_txn *txn, const char *key, const void **val,
    size_t *len)
{
	return blob_get(txn, DB_META, key, val, len);
}

static int
generation_bump(struct store_txn *txn)
{
	MDB_val v;
	uint8_t buf[8];
	uint64_t gen = 0;

	if (kv_get(txn, DB_META, KEY_GENERATION, strlen(KEY_GENERATION), &v)) {
		if (v.mv_size != 8)
			return txn_fail(txn, STORE_E_CORRUPT,
			    "meta %s: %zu bytes", KEY_GENERATION, v.mv_size);
		gen = get_le64(v.mv_data);
	}
	put_le64(buf, gen + 1);
	return kv_put(txn, DB_META, KEY_GENERATION, strlen(KEY_GENERATION),
	    buf, sizeof(buf));
}

int
store_generation(struct store *st, uint64_t *gen, char *err, size_t errlen)
{
	struct store_txn txn;
	MDB_val v;
	int ret;

	*gen = 0;
	if (store_txn_begin(st, false, &txn) == 0 &&
	    kv_get(&txn, DB_META, KEY_GENERATION, strlen(KEY_GENERATION),
	    &v)) {
		if (v.mv_size == 8)
			*gen = get_le64(v.mv_data);
		else
			txn_fail(&txn, STORE_E_CORRUPT, "meta %s: %zu bytes",
			    KEY_GENERATION, v.mv_size);
	}
	if ((ret = store_txn_commit(&txn)) != 0)
		set_err(err, errlen, "%s", txn.detail);
	return ret;
}

/* ---- groups, journal ---- */

int
store_group_put(struct store_txn *txn, const char *group, const void *blob,
    size_t len)
{
	return blob_put(txn, DB_GROUPS, group, blob, len);
}

bool
store_group_get(struct store_txn *txn, const char *group, const void **blob,
    size_t *len)
{
	return blob_get(txn, DB_GROUPS, group, blob, len);
}

int
store_group_del(struct store_txn *txn, const char *group)
{
	return blob_del(txn, DB_GROUPS, group);
}

int
store_group_foreach(struct store_txn *txn, store_blob_cb cb, void *arg)
{
	return blob_foreach(txn, DB_GROUPS, cb, arg);
}

int
store_journal_put(struct store_txn *txn, const char *id, const void *blob,
    size_t len)
{
	return blob_put(txn, DB_JOURNAL, id, blob, len);
}

bool
store_journal_get(struct store_txn *txn, const char *id, const void **blob,
    size_t *len)
{
	return blob_get(txn, DB_JOURNAL, id, blob, len);
}

int
store_journal_del(struct store_txn *txn, const char *id)
{
	return blob_del(txn, DB_JOURNAL, id);
}

int
store_journal_foreach(struct store_txn *txn, store_blob_cb cb, void *arg)
{
	return blob_foreach(txn, DB_JOURNAL, cb, arg);
}

/* ---- flags ---- */

static int
flags_encode(const struct store_flags *f, uint8_t *buf, size_t *len)
{
	size_t np, ns;

	np = strnlen(f->pinned, sizeof(f->pinned));
	ns = strnlen(f->switch_to, sizeof(f->switch_to));
	if (np == sizeof(f->pinned) || ns == sizeof(f->switch_to))
		return -1;
	buf[0] = 1;
	buf[1] = (f->paused ? FLAG_PAUSED : 0) |
	    (f->rearm_requested ? FLAG_REARM : 0) |
	    (f->switch_requested ? FLAG_SWITCH : 0) |
	    (f->switch_force ? FLAG_FORCE : 0);
	buf[2] = (uint8_t)np;
	buf[3] = (uint8_t)ns;
	put_le64(buf + 4, f->switch_request_id);
	put_le64(buf + 12, (uint64_t)f->updated_ms);
	memcpy(buf + FLAGS_HDR, f->pinned, np);
	memcpy(buf + FLAGS_HDR + np, f->switch_to, ns);
	*len = FLAGS_HDR + np + ns;
	return 0;
}

static bool
flags_decode(const MDB_val *v, struct store_flags *f)
{
	const uint8_t *p = v->mv_data;
	size_t np, ns;

	memset(f, 0, sizeof(*f));
	if (v->mv_size < FLAGS_HDR || p[0] != 1 ||
	    (p[1] & ~(FLAG_PAUSED | FLAG_REARM | FLAG_SWITCH | FLAG_FORCE)))
		return false;
	np = p[2];
	ns = p[3];
	if (np >= sizeof(f->pinned) || ns >= sizeof(f->switch_to) ||
	    v->mv_size != FLAGS_HDR + np + ns ||
	    memchr(p + FLAGS_HDR, '\0', np + ns) != NULL)
		return false;
	f->paused = (p[1] & FLAG_PAUSED) != 0;
	f->rearm_requested = (p[1] & FLAG_REARM) != 0;
	f->switch_requested = (p[1] & FLAG_SWITCH) != 0;
	f->switch_force = (p[1] & FLAG_FORCE) != 0;
	f->switch_request_id = get_le64(p + 4);
	f->updated_ms = (int64_t)get_le64(p + 12);
	memcpy(f->pinned, p + FLAGS_HDR, np);
	memcpy(f->switch_to, p + FLAGS_HDR + np, ns);
	return true;
}

int
store_flags_put(struct store_txn *txn, const char *group,
    const struct store_flags *f)
{
	uint8_t buf[FLAGS_HDR + 2 * STORE_FLAG_NAME_MAX];
	size_t n, len;

	if (!txn_usable(txn, true) || name_check(txn, "flags", group,
	    &n) != 0)
		return txn->err;
	if (flags_encode(f, buf, &len) != 0)
		return txn_fail(txn, STORE_E_INVAL, "flags %s: stack name "
		    "not terminated within %d bytes", group,
		    STORE_FLAG_NAME_MAX);
	if (kv_put(txn, DB_FLAGS, group, n, buf, len) != 0)
		return txn->err;
	return generation_bump(txn);
}

bool
store_flags_get(struct store_txn *txn, const char *group,
    struct store_flags *f)
{
	MDB_val v;
	size_t n;

	memset(f, 0, sizeof(*f));
	if (!txn_usable(txn, false) || name_check(txn, "flags", group,
	    &n) != 0 || !kv_get(txn, DB_FLAGS, group, n, &v))
		return false;
	if (!flags_decode(&v, f)) {
		txn_fail(txn, STORE_E_CORRUPT, "flags %s: bad record of %zu "
		    "bytes", group, v.mv_size);
		memset(f, 0, sizeof(*f));
		return false;
	}
	return true;
}

int
store_flags_del(struct store_txn *txn, const char *group)
{
	if (blob_del(txn, DB_FLAGS, group) != 0)
		return txn->err;
	return generation_bump(txn);
}

int
store_flags_foreach(struct store_txn *txn, store_flags_cb cb, void *arg)
{
	MDB_cursor *cur = NULL;
	MDB_val k, v;
	struct store_flags f;
	char name[STORE_NAME_MAX + 1];
	int rc;

	if (!txn_usable(txn, false) || cursor_open(txn, DB_FLAGS, &cur) != 0)
		return txn->err;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (!key_name(&k, name) || !flags_decode(&v, &f)) {
			txn_fail(txn, STORE_E_CORRUPT, "flags: bad record");
			break;
		}
		if (!cb(name, &f, arg))
			break;
	}
	if (rc != 0 && rc != MDB_NOTFOUND)
		txn_mdb_fail(txn, rc, "cursor_get", "flags");
	mdb_cursor_close(cur);
	return txn->err;
}

/* ---- history ---- */

static int
event_hash(uint64_t seq, int64_t ts, const uint8_t *prev, const char *group,
    size_t glen, const char *event, size_t elen, const char *payload,
    size_t plen, uint8_t *out)
{
	EVP_MD_CTX *ctx;
	uint8_t hdr[16], b2[2], b4[4];
	unsigned int outlen = 0;
	int ok;

	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return -1;
	put_be64(hdr, seq);
	put_be64(hdr + 8, (uint64_t)ts);
	ok = EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) &&
	    EVP_DigestUpdate(ctx, prev, STORE_HASH_LEN) &&
	    EVP_DigestUpdate(ctx, hdr, sizeof(hdr));
	b2[0] = (uint8_t)(glen >> 8);
	b2[1] = (uint8_t)glen;
	ok = ok && EVP_DigestUpdate(ctx, b2, 2) &&
	    EVP_DigestUpdate(ctx, group, glen);
	b2[0] = (uint8_t)(elen >> 8);
	b2[1] = (uint8_t)elen;
	ok = ok && EVP_DigestUpdate(ctx, b2, 2) &&
	    EVP_DigestUpdate(ctx, event, elen);
	b4[0] = (uint8_t)(plen >> 24);
	b4[1] = (uint8_t)(plen >> 16);
	b4[2] = (uint8_t)(plen >> 8);
	b4[3] = (uint8_t)plen;
	ok = ok && EVP_DigestUpdate(ctx, b4, 4) &&
	    EVP_DigestUpdate(ctx, payload, plen) &&
	    EVP_DigestFinal_ex(ctx, out, &outlen) && outlen == STORE_HASH_LEN;
	EVP_MD_CTX_free(ctx);
	return ok ? 0 : -1;
}

/* Parse a history value; the strings point into it. */
static bool
event_decode(uint64_t seq, const MDB_val *v, struct store_event *ev)
{
	const uint8_t *p = v->mv_data;
	size_t glen, elen, plen;
	const char *s;

	memset(ev, 0, sizeof(*ev));
	if (v->mv_size < HIST_HDR + 3 || p[0] != 1)
		return false;
	glen = get_le16(p + 2);
	elen = get_le16(p + 4);
	plen = get_le32(p + 6);
	if (v->mv_size != HIST_HDR + glen + 1 + elen + 1 + plen + 1)
		return false;
	s = (const char *)p + HIST_HDR;
	if (s[glen] != '\0' || s[glen + 1 + elen] != '\0' ||
	    s[glen + 1 + elen + 1 + plen] != '\0')
		return false;
	ev->seq = seq;
	ev->ts_ms = (int64_t)get_le64(p + 10);
	memcpy(ev->prev_hash, p + 18, STORE_HASH_LEN);
	memcpy(ev->hash, p + 50, STORE_HASH_LEN);
	ev->group = s;
	ev->event = s + glen + 1;
	ev->payload = s + glen + 1 + elen + 1;
	ev->payload_len = plen;
	return true;
}

uint64_t
store_history_last(struct store_txn *txn)
{
	MDB_cursor *cur = NULL;
	MDB_val k, v;
	uint64_t seq = 0;
	int rc;

	if (!txn_usable(txn, false) || cursor_open(txn, DB_HISTORY, &cur) != 0)
		return 0;
	rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
	if (rc == 0 && k.mv_size == 8)
		seq = get_be64(k.mv_data);
	else if (rc == 0)
		txn_fail(txn, STORE_E_CORRUPT, "history: bad key of %zu bytes",
		    k.mv_size);
	else if (rc != MDB_NOTFOUND)
		txn_mdb_fail(txn, rc, "cursor_get", "history");
	mdb_cursor_close(cur);
	return seq;
}

bool
store_history_get(struct store_txn *txn, uint64_t seq, struct store_event *ev)
{
	MDB_val v;
	uint8_t key[8];

	memset(ev, 0, sizeof(*ev));
	put_be64(key, seq);
	if (!kv_get(txn, DB_HISTORY, key, sizeof(key), &v))
		return false;
	if (!event_decode(seq, &v, ev)) {
		txn_fail(txn, STORE_E_CORRUPT, "history %llu: bad record",
		    (unsigned long long)seq);
		return false;
	}
	return true;
}

int
store_history_append(struct store_txn *txn, int64_t ts_ms, const char *group,
    const char *event, const char *payload, uint64_t *seqp)
{
	struct store_event last;
	uint8_t prev[STORE_HASH_LEN], hash[STORE_HASH_LEN];
	uint8_t key[8], head[8 + STORE_HASH_LEN];
	uint8_t *p;
	size_t glen, elen, plen;
	uint64_t seq;

	if (seqp != NULL)
		*seqp = 0;
	if (!txn_usable(txn, true))
		return txn->err;
	if (group == NULL)
		group = "";
	if (payload == NULL)
		payload = "";
	glen = strnlen(group, STORE_NAME_MAX + 1);
	elen = strnlen(event != NULL ? event : "", STORE_NAME_MAX + 1);
	plen = strnlen(payload, STORE_PAYLOAD_MAX + 1);
	if (glen > STORE_NAME_MAX || elen == 0 || elen > STORE_NAME_MAX ||
	    plen > STORE_PAYLOAD_MAX)
		return txn_fail(txn, STORE_E_INVAL, "history: bad event "
		    "(group %zu, event %zu, payload %zu bytes)", glen, elen,
		    plen);

	memset(prev, 0, sizeof(prev));
	seq = store_history_last(txn);
	if (txn->err != 0)
		return txn->err;
	if (seq != 0) {
		if (!store_history_get(txn, seq, &last))
			return txn_fail(txn, STORE_E_CORRUPT,
			    "history %llu: vanished", (unsigned long long)seq);
		memcpy(prev, last.hash, sizeof(prev));
	}
	seq++;
	if (event_hash(seq, ts_ms, prev, group, glen, event, elen, payload,
	    plen, hash) != 0)
		return txn_fail(txn, STORE_E_NOMEM, "history: SHA-256 failed");

	put_be64(key, seq);
	p = kv_reserve(txn, DB_HISTORY, key, sizeof(key),
	    HIST_HDR + glen + 1 + elen + 1 + plen + 1);
	if (p == NULL)
		return txn->err;
	p[0] = 1;
	p[1] = 0;
	put_le16(p + 2, (uint16_t)glen);
	put_le16(p + 4, (uint16_t)elen);
	put_le32(p + 6, (uint32_t)plen);
	put_le64(p + 10, (uint64_t)ts_ms);
	memcpy(p + 18, prev, STORE_HASH_LEN);
	memcpy(p + 50, hash, STORE_HASH_LEN);
	p += HIST_HDR;
	memcpy(p, group, glen + 1);
	p += glen + 1;
	memcpy(p, event, elen + 1);
	p += elen + 1;
	memcpy(p, payload, plen + 1);

	put_le64(head, seq);
	memcpy(head + 8, hash, STORE_HASH_LEN);
	if (kv_put(txn, DB_META, KEY_HISTORY_HEAD, strlen(KEY_HISTORY_HEAD),
	    head, sizeof(head)) != 0)
		return txn->err;
	if (seqp != NULL)
		*seqp = seq;
	return 0;
}

int
store_history_foreach(struct store_txn *txn, uint64_t from, size_t limit,
    const char *group, store_event_cb cb, void *arg)
{
	MDB_cursor *cur = NULL;
	MDB_val k, v;
	struct store_event ev;
	uint8_t key[8];
	uint64_t start = from, seq;
	size_t seen = 0;
	int rc;

	if (!txn_usable(txn, false) || cursor_open(txn, DB_HISTORY, &cur) != 0)
		return txn->err;
	if (limit > 0) {
		/* Walk back to the oldest of the newest LIMIT matches. */
		for (rc = mdb_cursor_get(cur, &k, &v, MDB_LAST); rc == 0;
		    rc = mdb_cursor_get(cur, &k, &v, MDB_PREV)) {
			if (k.mv_size != 8)
				goto bad;
			seq = get_be64(k.mv_data);
			if (seq < from)
				break;
			if (!event_decode(seq, &v, &ev))
				goto bad;
			if (group != NULL && strcmp(group, ev.group) != 0)
				continue;
			start = seq;
			if (++seen == limit)
				break;
		}
		if (rc != 0 && rc != MDB_NOTFOUND) {
			txn_mdb_fail(txn, rc, "cursor_get", "history");
			goto out;
		}
		if (seen == 0)
			goto out;
	}
	put_be64(key, start);
	k.mv_data = key;
	k.mv_size = sizeof(key);
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
	    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size != 8)
			goto bad;
		seq = get_be64(k.mv_data);
		if (!event_decode(seq, &v, &ev))
			goto bad;
		if (group != NULL && strcmp(group, ev.group) != 0)
			continue;
		if (!cb(&ev, arg))
			break;
	}
	if (rc != 0 && rc != MDB_NOTFOUND)
		txn_mdb_fail(txn, rc, "cursor_get", "history");
	goto out;
 bad:
	txn_fail(txn, STORE_E_CORRUPT, "history: bad record (key of %zu "
	    "bytes)", k.mv_size);
 out:
	mdb_cursor_close(cur);
	return txn->err;
}

int
store_history_verify(struct store *st, uint64_t *first_bad, uint64_t *count,
    char *err, size_t errlen)
{
	struct store_txn txn;
	MDB_cursor *cur = NULL;
	MDB_val k, v;
	struct store_event ev;
	uint8_t prev[STORE_HASH_LEN], hash[STORE_HASH_LEN];
	uint64_t expect = 1, n = 0, head_seq = 0;
	int rc, ret;

	*first_bad = 0;
	set_err(err, errlen, "%s", "");
	memset(prev, 0, sizeof(prev));
	if (store_txn_begin(st, false, &txn) != 0 ||
	    cursor_open(&txn, DB_HISTORY, &cur) != 0)
		goto out;
	/* After a prune the chain starts at the base, from its hash. */
	if (kv_get(&txn, DB_META, KEY_HISTORY_BASE, strlen(KEY_HISTORY_BASE),
	    &v)) {
		if (v.mv_size != 8 + STORE_HASH_LEN || get_le64(v.mv_data) == 0) {
			*first_bad = 1;
			set_err(err, errlen, "history base record is malformed");
			goto out;
		}
		expect = get_le64(v.mv_data);
		memcpy(prev, (uint8_t *)v.mv_data + 8, STORE_HASH_LEN);
	}
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size != 8) {
			*first_bad = expect;
			set_err(err, errlen, "event after %llu has a bad key",
			    (unsigned long long)(expect - 1));
			goto out;
		}
		ev.seq = get_be64(k.mv_data);
		n++;
		if (ev.seq != expect) {
			*first_bad = expect;
			set_err(err, errlen, "event %llu is missing (next is "
			    "%llu)", (unsigned long long)expect,
			    (unsigned long long)ev.seq);
			goto out;
		}
		if (!event_decode(ev.seq, &v, &ev)) {
			*first_bad = expect;
			set_err(err, errlen, "event %llu: malformed record",
			    (unsigned long long)expect);
			goto out;
		}
		if (memcmp(ev.prev_hash, prev, sizeof(prev)) != 0) {
			*first_bad = expect;
			set_err(err, errlen, "event %llu: prev_hash does not "
			    "match the hash of event %llu",
			    (unsigned long long)expect,
			    (unsigned long long)(expect - 1));
			goto out;
		}
		if (event_hash(ev.seq, ev.ts_ms, ev.prev_hash, ev.group,
		    strlen(ev.group), ev.event, strlen(ev.event), ev.payload,
		    ev.payload_len, hash) != 0) {
			txn_fail(&txn, STORE_E_NOMEM, "SHA-256 failed");
			goto out;
		}
		if (memcmp(hash, ev.hash, sizeof(hash)) != 0) {
			*first_bad = expect;
			set_err(err, errlen, "event %llu: content does not "
			    "match its hash", (unsigned long long)expect);
			goto out;
		}
		memcpy(prev, ev.hash, sizeof(prev));
		expect++;
	}
	if (rc != MDB_NOTFOUND) {
		txn_mdb_fail(&txn, rc, "cursor_get", "history");
		goto out;
	}
	/* The head in meta catches events cut off the end. */
	if (kv_get(&txn, DB_META, KEY_HISTORY_HEAD, strlen(KEY_HISTORY_HEAD),
	    &v)) {
		if (v.mv_size != 8 + STORE_HASH_LEN) {
			*first_bad = expect;
			set_err(err, errlen, "history head record is malformed");
			goto out;
		}
		head_seq = get_le64(v.mv_data);
		if (head_seq != expect - 1) {
			*first_bad = head_seq > expect - 1 ? expect :
			    head_seq + 1;
			set_err(err, errlen, "the history ends at %llu but its "
			    "head says %llu", (unsigned long long)(expect - 1),
			    (unsigned long long)head_seq);
		} else if (memcmp((uint8_t *)v.mv_data + 8, prev,
		    STORE_HASH_LEN) != 0) {
			*first_bad = head_seq;
			set_err(err, errlen, "event %llu: hash differs from the "
			    "head", (unsigned long long)head_seq);
		}
	} else if (n > 0 && txn.err == 0) {
		*first_bad = 1;
		set_err(err, errlen, "history has events but no head");
	}
 out:
	if (cur != NULL)
		mdb_cursor_close(cur);
	if (count != NULL)
		*count = n;
	if ((ret = store_txn_commit(&txn)) != 0) {
		*first_bad = 0;
		set_err(err, errlen, "%s", txn.detail);
	}
	return ret;
}

int
store_history_prune(struct store_txn *txn, uint64_t before, size_t *removed)
{
	MDB_cursor *cur = NULL;
	MDB_val k, v;
	struct store_event ev;
	uint8_t base[8 + STORE_HASH_LEN];
	uint64_t last, seq;
	size_t n = 0;
	int rc;

	if (removed != NULL)
		*removed = 0;
	if (!txn_usable(txn, true))
		return txn->err;
	last = store_history_last(txn);
	if (txn->err != 0)
		return txn->err;
	if (before > last)
		before = last;		/* the newest event always stays */
	if (before <= 1)
		return 0;
	/* The new base: the first kept event and the hash it links to. */
	if (!store_history_get(txn, before, &ev))
		return txn_fail(txn, STORE_E_CORRUPT, "history %llu: missing",
		    (unsigned long long)before);
	put_le64(base, before);
	memcpy(base + 8, ev.prev_hash, STORE_HASH_LEN);
	if (cursor_open(txn, DB_HISTORY, &cur) != 0)
		return txn->err;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size != 8) {
			mdb_cursor_close(cur);
			return txn_fail(txn, STORE_E_CORRUPT,
			    "history: bad key of %zu bytes", k.mv_size);
		}
		seq = get_be64(k.mv_data);
		if (seq >= before)
			break;
		if ((rc = mdb_cursor_del(cur, 0)) != 0)
			break;
		n++;
	}
	mdb_cursor_close(cur);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return txn_mdb_fail(txn, rc, "prune", "history");
	if (kv_put(txn, DB_META, KEY_HISTORY_BASE, strlen(KEY_HISTORY_BASE),
	    base, sizeof(base)) != 0)
		return txn->err;
	if (removed != NULL)
		*removed = n;
	return 0;
}

/* ---- addresses ---- */

static bool
addr_decode(const MDB_val *v, struct store_addr *a)
{
	const uint8_t *p = v->mv_data;
	size_t n;

	memset(a, 0, sizeof(*a));
	if (v->mv_size < ADDR_HDR || p[0] != 1 ||
	    (p[1] != STORE_ADDR_ALLOCATED && p[1] != STORE_ADDR_TOMBSTONE))
		return false;
	n = p[10];
	if (v->mv_size != ADDR_HDR + n ||
	    memchr(p + ADDR_HDR, '\0', n) != NULL)
		return false;
	a->state = p[1];
	a->time_ms = (int64_t)get_le64(p + 2);
	memcpy(a->group, p + ADDR_HDR, n);
	a->group[n] = '\0';
	return true;
}

int
store_addr_put(struct store_txn *txn, const char *addr,
    const struct store_addr *a)
{
	struct store_addr old;
	uint8_t buf[ADDR_HDR + STORE_NAME_MAX];
	size_t n, glen;

	if (!txn_usable(txn, true) || name_check(txn, "addresses", addr,
	    &n) != 0)
		return txn->err;
	glen = strnlen(a->group, sizeof(a->group));
	if (glen > STORE_NAME_MAX || (a->state != STORE_ADDR_ALLOCATED &&
	    a->state != STORE_ADDR_TOMBSTONE))
		return txn_fail(txn, STORE_E_INVAL, "address %s: bad record",
		    addr);
	if (store_addr_get(txn, addr, &old) &&
	    old.state == STORE_ADDR_TOMBSTONE)
		return txn_fail(txn, STORE_E_EXISTS, "address %s: tombstoned "
		    "(group %s)", addr, old.group);
	if (txn->err != 0)
		return txn->err;
	buf[0] = 1;
	buf[1] = (uint8_t)a->state;
	put_le64(buf + 2, (uint64_t)a->time_ms);
	buf[10] = (uint8_t)glen;
	memcpy(buf + ADDR_HDR, a->group, glen);
	return kv_put(txn, DB_ADDRESSES, addr, n, buf, ADDR_HDR + glen);
}

bool
store_addr_get(struct store_txn *txn, const char *addr, struct store_addr *a)
{
	MDB_val v;
	size_t n;

	memset(a, 0, sizeof(*a));
	if (!txn_usable(txn, false) || name_check(txn, "addresses", addr,
	    &n) != 0 || !kv_get(txn, DB_ADDRESSES, addr, n, &v))
		return false;
	if (!addr_decode(&v, a)) {
		txn_fail(txn, STORE_E_CORRUPT, "address %s: bad record", addr);
		return false;
	}
	return true;
}

int
store_addr_foreach(struct store_txn *txn, store_addr_cb cb, void *arg)
{
	MDB_cursor *cur = NULL;
	MDB_val k, v;
	struct store_addr a;
	char name[STORE_NAME_MAX + 1];
	int rc;

	if (!txn_usable(txn, false) || cursor_open(txn, DB_ADDRESSES,
	    &cur) != 0)
		return txn->err;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (!key_name(&k, name) || !addr_decode(&v, &a)) {
			txn_fail(txn, STORE_E_CORRUPT, "addresses: bad record");
			break;
		}
		if (!cb(name, &a, arg))
			break;
	}
	if (rc != 0 && rc != MDB_NOTFOUND)
		txn_mdb_fail(txn, rc, "cursor_get", "addresses");
	mdb_cursor_close(cur);
	return txn->err;
}

/* ---- probelog ---- */

static size_t
run_key(const char *stack, size_t n, int64_t start, uint8_t *key)
{
	memcpy(key, stack, n);
	key[n] = 0;
	put_be64(key + n + 1, (uint64_t)start);
	return n + 1 + 8;
}

/* Split a probelog record; STACK gets the name (STORE_NAME_MAX + 1). */
static bool
run_decode(const MDB_val *k, const MDB_val *v, char *stack,
    struct store_probe_run *r)
{
	const uint8_t *kp = k->mv_data, *p = v->mv_data;
	size_t n;

	memset(r, 0, sizeof(*r));
	if (k->mv_size < 1 + 1 + 8 || k->mv_size > RUN_KEY_MAX)
		return false;
	n = k->mv_size - 9;
	if (kp[n] != 0 || memchr(kp, 0, n) != NULL)
		return false;
	if (v->mv_size != RUN_LEN || p[0] != 1)
		return false;
	memcpy(stack, kp, n);
	stack[n] = '\0';
	r->start_ms = (int64_t)get_be64(kp + n + 1);
	r->result = p[1];
	r->reason = p[2];
	r->status = get_le16(p + 4);
	r->count = get_le32(p + 6);
	r->last_ms = (int64_t)get_le64(p + 10);
	return r->count > 0 && r->last_ms >= r->start_ms;
}

int
store_probelog_append(struct store_txn *txn, const char *stack,
    int64_t ts_ms, uint8_t result, uint8_t reason, uint16_t status)
{
	MDB_cursor *cur = NULL;
	MDB_val k, v;
	struct store_probe_run r;
	uint8_t key[RUN_KEY_MAX], val[RUN_LEN];
	char name[STORE_NAME_MAX + 1];
	size_t n, klen;
	bool have = false;
	int rc;

	if (!txn_usable(txn, true) || name_check(txn, "probelog", stack,
	    &n) != 0)
		return txn->err;
	if (ts_ms < 0)
		return txn_fail(txn, STORE_E_INVAL, "probelog %s: negative "
		    "time", stack);
	if (cursor_open(txn, DB_PROBELOG, &cur) != 0)
		return txn->err;
	/* The stack's newest run: the last key before stack\0 + 2^64-1. */
	klen = run_key(stack, n, -1, key);
	k.mv_data = key;
	k.mv_size = klen;
	rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	if (rc == 0)
		rc = mdb_cursor_get(cur, &k, &v, MDB_PREV);
	else if (rc == MDB_NOTFOUND)
		rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
	if (rc == 0 && k.mv_size == n + 9 && memcmp(k.mv_data, stack, n) == 0 &&
	    ((uint8_t *)k.mv_data)[n] == 0) {
		if (!run_decode(&k, &v, name, &r)) {
			mdb_cursor_close(cur);
			return txn_fail(txn, STORE_E_CORRUPT,
			    "probelog %s: bad record", stack);
		}
		have = true;
	} else if (rc != 0 && rc != MDB_NOTFOUND) {
		mdb_cursor_close(cur);
		return txn_mdb_fail(txn, rc, "cursor_get", "probelog");
	}
	mdb_cursor_close(cur);

	if (have && ts_ms < r.last_ms)
		ts_ms = r.last_ms;
	if (have && r.result == result && r.reason == reason &&
	    r.status == status && r.count < UINT32_MAX) {
		r.count++;
		r.last_ms = ts_ms;
	} else {
		if (have && ts_ms == r.start_ms)
			ts_ms++;	/* keys must differ; 1 ms is noise */
		memset(&r, 0, sizeof(r));
		r.start_ms = r.last_ms = ts_ms;
		r.count = 1;
		r.result = result;
		r.reason = reason;
		r.status = status;
	}
	klen = run_key(stack, n, r.start_ms, key);
	val[0] = 1;
	val[1] = r.result;
	val[2] = r.reason;
	val[3] = 0;
	put_le16(val + 4, r.status);
	put_le32(val + 6, r.count);
	put_le64(val + 10, (uint64_t)r.last_ms);
	return kv_put(txn, DB_PROBELOG, key, klen, val, sizeof(val));
}

int
store_probelog_foreach(struct store_txn *txn, const char *stack,
    int64_t since_ms, store_run_cb cb, void *arg)
{
	MDB_cursor *cur = NULL;
	MDB_val k, v;
	struct store_probe_run r;
	uint8_t key[RUN_KEY_MAX];
	char name[STORE_NAME_MAX + 1];
	size_t n = 0;
	int rc;

	if (!txn_usable(txn, false) || (stack != NULL &&
	    name_check(txn, "probelog", stack, &n) != 0) ||
	    cursor_open(txn, DB_PROBELOG, &cur) != 0)
		return txn->err;
	if (stack != NULL) {
		k.mv_data = key;
		k.mv_size = run_key(stack, n, 0, key);
		rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	} else
		rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
	for (; rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (!run_decode(&k, &v, name, &r)) {
			txn_fail(txn, STORE_E_CORRUPT, "probelog: bad record");
			break;
		}
		if (stack != NULL && strcmp(name, stack) != 0)
			break;
		if (r.last_ms < since_ms)
			continue;
		if (!cb(name, &r, arg))
			break;
	}
	if (rc != 0 && rc != MDB_NOTFOUND)
		txn_mdb_fail(txn, rc, "cursor_get", "probelog");
	mdb_cursor_close(cur);
	return txn->err;
}

int
store_probelog_prune(struct store_txn *txn, int64_t before_ms,
    size_t max_runs, size_t *removed)
{
	MDB_cursor *cur = NULL;
	MDB_val k, v;
	struct store_probe_run r;
	char name[STORE_NAME_MAX + 1], cur_stack[STORE_NAME_MAX + 1];
	size_t kept = 0, nrm = 0;
	int rc;

	if (removed != NULL)
		*removed = 0;
	if (!txn_usable(txn, true) || cursor_open(txn, DB_PROBELOG, &cur) != 0)
		return txn->err;
	/* Newest first, so the count limit keeps the newest runs. */
	cur_stack[0] = '\0';
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_LAST); rc == 0;
	    rc = mdb_cursor_get(cur, &k, &v, MDB_PREV)) {
		if (!run_decode(&k, &v, name, &r)) {
			txn_fail(txn, STORE_E_CORRUPT, "probelog: bad record");
			break;
		}
		if (strcmp(name, cur_stack) != 0) {
			memcpy(cur_stack, name, sizeof(cur_stack));
			kept = 0;
		}
		if (r.last_ms >= before_ms && (max_runs == 0 ||
		    kept < max_runs)) {
			kept++;
			continue;
		}
		if ((rc = mdb_cursor_del(cur, 0)) != 0)
			break;
		nrm++;
	}
	if (rc != 0 && rc != MDB_NOTFOUND)
		txn_mdb_fail(txn, rc, "prune", "probelog");
	mdb_cursor_close(cur);
	if (removed != NULL && txn->err == 0)
		*removed = nrm;
	return txn->err;
}

/* ---- byte order ---- */

static void
put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void
put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void
put_le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint16_t
get_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

static uint32_t
get_le32(const uint8_t *p)
{
	uint32_t v = 0;

	for (int i = 3; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static uint64_t
get_le64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static void
put_be64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (56 - 8 * i));
}

static uint64_t
get_be64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return v;
}
