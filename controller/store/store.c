/*
 * store.c - failoverd's durable state in LMDB: transactions with a sticky
 * error, and the keyed records (meta, groups, flags, journal, addresses).
 * Opening the environment is in store_env.c; the two logs, history and
 * probelog, are in store_log.c.
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
 * flags: group -> 40-byte header, then five names without NUL:
 *	0  u8	format (2)
 *	1  u8	bits: 0x01 paused, 0x02 rearm_requested,
 *		0x04 switch_requested, 0x08 switch_force
 *	2  u8	length of pinned (0..63)
 *	3  u8	length of switch_to (0..63)
 *	4  u64	switch_request_id
 *	12 i64	updated_ms
 *	20 i64	switch_requested_ms	28 i64	rearm_requested_ms
 *	36 u8	length of switch_actor	37 u8	length of rearm_actor
 *	38 u8	length of actor		39 u8	0
 *	40	pinned, switch_to, switch_actor, rearm_actor, actor
 *   Paused and pinned to app1 by uid:root at 1700000000123 ms, nothing
 *   requested:
 *	02 01 04 00  00 00 00 00 00 00 00 00  7b 68 e5 cf 8b 01 00 00
 *	00 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00  00 00 08 00
 *	61 70 70 31  75 69 64 3a 72 6f 6f 74
 *   Format 1 (a 20-byte header, pinned and switch_to only) is still read:
 *   its requests count as made at updated_ms, by nobody named.
 *
 * addresses: address -> 11-byte header, then the group name:
 *	0  u8	format (1)	1  u8	state (1 allocated, 2 tombstone)
 *	2  i64	time_ms		10 u8	group length
 *   "www" tombstoned at 1700000000123 ms:
 *	01 02 7b 68 e5 cf 8b 01 00 00 03 77 77 77
 */
#include "controller/store/store.h"
#include "controller/store/store_int.h"

#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lmdb.h>

#define RESERVED_PREFIX		"store."

#define FLAGS_HDR1		20	/* format 1, read only */
#define FLAGS_HDR		40
#define FLAG_PAUSED		0x01
#define FLAG_REARM		0x02
#define FLAG_SWITCH		0x04
#define FLAG_FORCE		0x08
#define ADDR_HDR		11

const char *const store_db_names[DB_COUNT] = {
	"meta", "groups", "flags", "journal", "history", "addresses",
	"probelog",
};

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
static int	 flags_encode(const struct store_flags *, uint8_t *, size_t *);
static bool	 flags_decode(const MDB_val *, struct store_flags *);
static int	 generation_bump(struct store_txn *);
static bool	 addr_decode(const MDB_val *, struct store_addr *);

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
	{ STORE_E_UNSAFE,	"unsafe",
	    "another user could change the state's files" },
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
int
store_map_err(int rc)
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

void
store_set_err(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (buf == NULL || len == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
}

/* Record the first failure of TXN; later ones keep the first. */
int
store_fail(struct store_txn *txn, int code, const char *fmt, ...)
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

int
store_mdb_fail(struct store_txn *txn, int rc, const char *what,
    const char *dbname)
{
	return store_fail(txn, store_map_err(rc), "%s(%s): %s", what, dbname,
	    mdb_strerror(rc));
}

/* Whether TXN may take another step (a write step when WRITE). */
bool
store_usable(struct store_txn *txn, bool write)
{
	if (txn->err != 0)
		return false;
	if (txn->txn == NULL) {
		store_fail(txn, STORE_E_INVAL, "transaction already ended");
		return false;
	}
	if (write && !txn->write) {
		store_fail(txn, STORE_E_INVAL, "write in a read transaction");
		return false;
	}
	return true;
}

int
store_name_check(struct store_txn *txn, const char *what, const char *name,
    size_t *len)
{
	size_t n;

	if (name == NULL || (n = strnlen(name, STORE_NAME_MAX + 1)) == 0)
		return store_fail(txn, STORE_E_INVAL, "%s: empty name", what);
	if (n > STORE_NAME_MAX)
		return store_fail(txn, STORE_E_INVAL,
		    "%s: name longer than %d bytes", what, STORE_NAME_MAX);
	*len = n;
	return 0;
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
		return store_fail(txn, STORE_E_READONLY,
		    "%s: store opened read-only", st->path);
	if (write && st->writing)
		return store_fail(txn, STORE_E_BUSY,
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
		return store_fail(txn, store_map_err(rc), "%s: begin: %s", st->path,
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
		return txn->err != 0 ? txn->err : store_fail(txn, STORE_E_INVAL,
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
		return store_fail(txn, store_map_err(rc), "%s: commit: %s",
		    txn->store->path, mdb_strerror(rc));
	if (txn->appended && txn->store->history_cb != NULL)
		txn->store->history_cb(txn->store->history_arg);
	return 0;
}

void
store_set_history_cb(struct store *st, void (*fn)(void *), void *arg)
{
	if (st == NULL)
		return;
	st->history_cb = fn;
	st->history_arg = fn != NULL ? arg : NULL;
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

bool
store_kv_get(struct store_txn *txn, enum store_db db, const void *key,
    size_t keylen, MDB_val *val)
{
	MDB_val k;
	int rc;

	if (!store_usable(txn, false))
		return false;
	k.mv_data = (void *)key;
	k.mv_size = keylen;
	rc = mdb_get(txn->txn, txn->store->dbi[db], &k, val);
	if (rc == MDB_NOTFOUND)
		return false;
	if (rc != 0) {
		store_mdb_fail(txn, rc, "get", store_db_names[db]);
		return false;
	}
	return true;
}

int
store_kv_put(struct store_txn *txn, enum store_db db, const void *key,
    size_t keylen, const void *val, size_t vallen)
{
	MDB_val k, v;
	int rc;

	if (!store_usable(txn, true))
		return txn->err;
	k.mv_data = (void *)key;
	k.mv_size = keylen;
	v.mv_data = (void *)val;
	v.mv_size = vallen;
	if ((rc = mdb_put(txn->txn, txn->store->dbi[db], &k, &v, 0)) != 0)
		return store_mdb_fail(txn, rc, "put", store_db_names[db]);
	return 0;
}

/* Make room for a value of LEN bytes and return where to write it. */
void *
store_kv_reserve(struct store_txn *txn, enum store_db db, const void *key,
    size_t keylen, size_t len)
{
	MDB_val k, v;
	int rc;

	if (!store_usable(txn, true))
		return NULL;
	k.mv_data = (void *)key;
	k.mv_size = keylen;
	v.mv_data = NULL;
	v.mv_size = len;
	if ((rc = mdb_put(txn->txn, txn->store->dbi[db], &k, &v,
	    MDB_RESERVE)) != 0) {
		store_mdb_fail(txn, rc, "put", store_db_names[db]);
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

	if (!store_usable(txn, true))
		return txn->err;
	k.mv_data = (void *)key;
	k.mv_size = keylen;
	rc = mdb_del(txn->txn, txn->store->dbi[db], &k, NULL);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return store_mdb_fail(txn, rc, "del", store_db_names[db]);
	return 0;
}

int
store_cursor_open(struct store_txn *txn, enum store_db db, MDB_cursor **cur)
{
	int rc;

	if ((rc = mdb_cursor_open(txn->txn, txn->store->dbi[db], cur)) != 0) {
		*cur = NULL;
		return store_mdb_fail(txn, rc, "cursor", store_db_names[db]);
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

	if (!store_usable(txn, true) || store_name_check(txn, store_db_names[db], name,
	    &n) != 0)
		return txn->err;
	if (len > STORE_BLOB_MAX || (blob == NULL && len != 0))
		return store_fail(txn, STORE_E_INVAL, "%s %s: bad blob of %zu "
		    "bytes", store_db_names[db], name, len);
	return store_kv_put(txn, db, name, n, blob, len);
}

static bool
blob_get(struct store_txn *txn, enum store_db db, const char *name,
    const void **blob, size_t *len)
{
	MDB_val v;
	size_t n;

	*blob = NULL;
	*len = 0;
	if (!store_usable(txn, false) || store_name_check(txn, store_db_names[db], name,
	    &n) != 0 || !store_kv_get(txn, db, name, n, &v))
		return false;
	*blob = v.mv_data;
	*len = v.mv_size;
	return true;
}

static int
blob_del(struct store_txn *txn, enum store_db db, const char *name)
{
	size_t n;

	if (!store_usable(txn, true) || store_name_check(txn, store_db_names[db], name,
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

	if (!store_usable(txn, false) || store_cursor_open(txn, db, &cur) != 0)
		return txn->err;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (!key_name(&k, name)) {
			store_fail(txn, STORE_E_CORRUPT, "%s: bad key of %zu "
			    "bytes", store_db_names[db], k.mv_size);
			break;
		}
		if (!cb(name, v.mv_data, v.mv_size, arg))
			break;
	}
	if (rc != 0 && rc != MDB_NOTFOUND)
		store_mdb_fail(txn, rc, "cursor_get", store_db_names[db]);
	mdb_cursor_close(cur);
	return txn->err;
}

/* ---- meta ---- */

int
store_meta_put(struct store_txn *txn, const char *key, const void *val,
    size_t len)
{
	size_t n;

	if (!store_usable(txn, true) || store_name_check(txn, "meta", key, &n) != 0)
		return txn->err;
	if (strncmp(key, RESERVED_PREFIX, strlen(RESERVED_PREFIX)) == 0)
		return store_fail(txn, STORE_E_INVAL, "meta %s: reserved key",
		    key);
	if (len > STORE_BLOB_MAX || (val == NULL && len != 0))
		return store_fail(txn, STORE_E_INVAL, "meta %s: bad value", key);
	return store_kv_put(txn, DB_META, key, n, val, len);
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

	if (store_kv_get(txn, DB_META, KEY_GENERATION, strlen(KEY_GENERATION), &v)) {
		if (v.mv_size != 8)
			return store_fail(txn, STORE_E_CORRUPT,
			    "meta %s: %zu bytes", KEY_GENERATION, v.mv_size);
		gen = get_le64(v.mv_data);
	}
	put_le64(buf, gen + 1);
	return store_kv_put(txn, DB_META, KEY_GENERATION, strlen(KEY_GENERATION),
	    buf, sizeof(buf));
}

int
store_generation_bump(struct store_txn *txn)
{
	if (!store_usable(txn, true))
		return txn->err;
	return generation_bump(txn);
}

int
store_generation(struct store *st, uint64_t *gen, char *err, size_t errlen)
{
	struct store_txn txn;
	MDB_val v;
	int ret;

	*gen = 0;
	if (store_txn_begin(st, false, &txn) == 0 &&
	    store_kv_get(&txn, DB_META, KEY_GENERATION, strlen(KEY_GENERATION),
	    &v)) {
		if (v.mv_size == 8)
			*gen = get_le64(v.mv_data);
		else
			store_fail(&txn, STORE_E_CORRUPT, "meta %s: %zu bytes",
			    KEY_GENERATION, v.mv_size);
	}
	if ((ret = store_txn_commit(&txn)) != 0)
		store_set_err(err, errlen, "%s", txn.detail);
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
	const char *str[5] = { f->pinned, f->switch_to, f->switch_actor,
	    f->rearm_actor, f->actor };
	size_t n[5], at = FLAGS_HDR;

	for (int i = 0; i < 5; i++) {
		n[i] = strnlen(str[i], STORE_FLAG_NAME_MAX);
		if (n[i] == STORE_FLAG_NAME_MAX)
			return -1;
	}
	memset(buf, 0, FLAGS_HDR);
	buf[0] = 2;
	buf[1] = (f->paused ? FLAG_PAUSED : 0) |
	    (f->rearm_requested ? FLAG_REARM : 0) |
	    (f->switch_requested ? FLAG_SWITCH : 0) |
	    (f->switch_force ? FLAG_FORCE : 0);
	buf[2] = (uint8_t)n[0];
	buf[3] = (uint8_t)n[1];
	put_le64(buf + 4, f->switch_request_id);
	put_le64(buf + 12, (uint64_t)f->updated_ms);
	put_le64(buf + 20, (uint64_t)f->switch_requested_ms);
	put_le64(buf + 28, (uint64_t)f->rearm_requested_ms);
	buf[36] = (uint8_t)n[2];
	buf[37] = (uint8_t)n[3];
	buf[38] = (uint8_t)n[4];
	for (int i = 0; i < 5; i++) {
		memcpy(buf + at, str[i], n[i]);
		at += n[i];
	}
	*len = at;
	return 0;
}

static bool
flags_decode(const MDB_val *v, struct store_flags *f)
{
	const uint8_t *p = v->mv_data;
	char *str[5] = { f->pinned, f->switch_to, f->switch_actor,
	    f->rearm_actor, f->actor };
	size_t n[5] = { 0 }, hdr, at, total = 0;

	memset(f, 0, sizeof(*f));
	if (v->mv_size < FLAGS_HDR1 || (p[0] != 1 && p[0] != 2) ||
	    (p[1] & ~(FLAG_PAUSED | FLAG_REARM | FLAG_SWITCH | FLAG_FORCE)))
		return false;
	hdr = p[0] == 1 ? FLAGS_HDR1 : FLAGS_HDR;
	if (v->mv_size < hdr)
		return false;
	n[0] = p[2];
	n[1] = p[3];
	if (p[0] == 2) {
		n[2] = p[36];
		n[3] = p[37];
		n[4] = p[38];
	}
	for (int i = 0; i < 5; i++) {
		if (n[i] >= STORE_FLAG_NAME_MAX)
			return false;
		total += n[i];
	}
	if (v->mv_size != hdr + total ||
	    memchr(p + hdr, '\0', total) != NULL)
		return false;
	f->paused = (p[1] & FLAG_PAUSED) != 0;
	f->rearm_requested = (p[1] & FLAG_REARM) != 0;
	f->switch_requested = (p[1] & FLAG_SWITCH) != 0;
	f->switch_force = (p[1] & FLAG_FORCE) != 0;
	f->switch_request_id = get_le64(p + 4);
	f->updated_ms = (int64_t)get_le64(p + 12);
	if (p[0] == 2) {
		f->switch_requested_ms = (int64_t)get_le64(p + 20);
		f->rearm_requested_ms = (int64_t)get_le64(p + 28);
	} else
		f->switch_requested_ms = f->rearm_requested_ms = f->updated_ms;
	at = hdr;
	for (int i = 0; i < 5; i++) {
		memcpy(str[i], p + at, n[i]);
		at += n[i];
	}
	return true;
}

int
store_flags_put(struct store_txn *txn, const char *group,
    const struct store_flags *f)
{
	uint8_t buf[FLAGS_HDR + 5 * STORE_FLAG_NAME_MAX];
	size_t n, len;

	if (!store_usable(txn, true) || store_name_check(txn, "flags", group,
	    &n) != 0)
		return txn->err;
	if (flags_encode(f, buf, &len) != 0)
		return store_fail(txn, STORE_E_INVAL, "flags %s: stack or "
		    "actor name not terminated within %d bytes", group,
		    STORE_FLAG_NAME_MAX);
	if (store_kv_put(txn, DB_FLAGS, group, n, buf, len) != 0)
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
	if (!store_usable(txn, false) || store_name_check(txn, "flags", group,
	    &n) != 0 || !store_kv_get(txn, DB_FLAGS, group, n, &v))
		return false;
	if (!flags_decode(&v, f)) {
		store_fail(txn, STORE_E_CORRUPT, "flags %s: bad record of %zu "
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

	if (!store_usable(txn, false) || store_cursor_open(txn, DB_FLAGS, &cur) != 0)
		return txn->err;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (!key_name(&k, name) || !flags_decode(&v, &f)) {
			store_fail(txn, STORE_E_CORRUPT, "flags: bad record");
			break;
		}
		if (!cb(name, &f, arg))
			break;
	}
	if (rc != 0 && rc != MDB_NOTFOUND)
		store_mdb_fail(txn, rc, "cursor_get", "flags");
	mdb_cursor_close(cur);
	return txn->err;
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

	if (!store_usable(txn, true) || store_name_check(txn, "addresses", addr,
	    &n) != 0)
		return txn->err;
	glen = strnlen(a->group, sizeof(a->group));
	if (glen > STORE_NAME_MAX || (a->state != STORE_ADDR_ALLOCATED &&
	    a->state != STORE_ADDR_TOMBSTONE))
		return store_fail(txn, STORE_E_INVAL, "address %s: bad record",
		    addr);
	if (store_addr_get(txn, addr, &old) &&
	    old.state == STORE_ADDR_TOMBSTONE)
		return store_fail(txn, STORE_E_EXISTS, "address %s: tombstoned "
		    "(group %s)", addr, old.group);
	if (txn->err != 0)
		return txn->err;
	buf[0] = 1;
	buf[1] = (uint8_t)a->state;
	put_le64(buf + 2, (uint64_t)a->time_ms);
	buf[10] = (uint8_t)glen;
	memcpy(buf + ADDR_HDR, a->group, glen);
	return store_kv_put(txn, DB_ADDRESSES, addr, n, buf, ADDR_HDR + glen);
}

bool
store_addr_get(struct store_txn *txn, const char *addr, struct store_addr *a)
{
	MDB_val v;
	size_t n;

	memset(a, 0, sizeof(*a));
	if (!store_usable(txn, false) || store_name_check(txn, "addresses", addr,
	    &n) != 0 || !store_kv_get(txn, DB_ADDRESSES, addr, n, &v))
		return false;
	if (!addr_decode(&v, a)) {
		store_fail(txn, STORE_E_CORRUPT, "address %s: bad record", addr);
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

	if (!store_usable(txn, false) || store_cursor_open(txn, DB_ADDRESSES,
	    &cur) != 0)
		return txn->err;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (!key_name(&k, name) || !addr_decode(&v, &a)) {
			store_fail(txn, STORE_E_CORRUPT, "addresses: bad record");
			break;
		}
		if (!cb(name, &a, arg))
			break;
	}
	if (rc != 0 && rc != MDB_NOTFOUND)
		store_mdb_fail(txn, rc, "cursor_get", "addresses");
	mdb_cursor_close(cur);
	return txn->err;
}
