/*
 * store_log.c - the store's two logs: the hash-chained event history and
 * the probe log of raw outcomes in runs (for replay).
 *
 * Both are append-mostly, keyed so that LMDB's bytewise key order is time
 * order (big-endian integers in keys), and pruned from the old end.  Value
 * integers are little endian; each value starts with a format byte (1).
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
 *   about 300,000 events; store_retain keeps it bounded.
 *
 *   Pruning.  A prune removes a prefix and records the new base (the
 *   first kept seq and the hash it links to) in meta, and appends, in the
 *   same transaction, an anchor event "history_pruned" whose payload names
 *   that base: {"level":"info","removed":"N","first_kept":"S",
 *   "base_hash":"hex64"}.  The anchor is inside the chain, so the prune
 *   itself is tamper-evident: verify checks that the newest anchor names
 *   exactly the base in meta (cutting more of the start, or rewriting the
 *   base, no longer fits), and the chain links on from the base's hash.
 *
 * probelog: stack, 00, BE u64 start_ms -> 18 bytes:
 *	0  u8	format (1)	1  u8	result		2  u8	reason
 *	3  u8	0		4  u16	status		6  u32	count
 *	10 i64	last_ms
 *   app1 failed (result 0, reason 2) 5 times from 1700000000123 to
 *   1700000004123 ms:
 *	key   61 70 70 31 00 00 00 01 8b cf e5 68 7b
 *	value 01 00 02 00 00 00 05 00 00 00 1b 78 e5 cf 8b 01 00 00
 */
#include "controller/store/store.h"
#include "controller/store/store_int.h"

#include <stdio.h>
#include <string.h>

#include <lmdb.h>
#include <openssl/evp.h>

#define KEY_HISTORY_HEAD	"store.history_head"
#define KEY_HISTORY_BASE	"store.history_base"
#define ANCHOR_EVENT		"history_pruned"
#define HIST_HDR		82
#define RUN_LEN			18
#define RUN_KEY_MAX		(STORE_NAME_MAX + 1 + 8)

static bool	 event_decode(uint64_t, const MDB_val *, struct store_event *);
static int	 event_hash(uint64_t, int64_t, const uint8_t *, const char *,
		    size_t, const char *, size_t, const char *, size_t,
		    uint8_t *);
static size_t	 run_key(const char *, size_t, int64_t, uint8_t *);
static bool	 run_decode(const MDB_val *, const MDB_val *, char *,
		    struct store_probe_run *);
static bool	 anchor_parse(const struct store_event *, uint64_t *,
		    uint8_t *);
static void	 hex_of(const uint8_t *, char *);
static void	 run_encode(const struct store_probe_run *, uint8_t *);

/*
 * A run keeps no time but its first and last: a replay spreads its
 * outcomes evenly between them.  So an outcome extends the run only when it
 * comes at the run's pace (within a quarter of the mean gap, plus the
 * probe engine's wake-up jitter): a change of period (interval, fastinter,
 * downinter) or a gap (the daemon stopped) starts a new run, else a replay
 * would move failures from the fastinter burst into the downinter tail.
 */
#define RUN_SLACK_MS	20

static bool
run_regular(const struct store_probe_run *r, int64_t ts_ms)
{
	int64_t mean, gap;

	if (r->count < 2)
		return true;
	mean = (r->last_ms - r->start_ms) / (int64_t)(r->count - 1);
	gap = ts_ms - r->last_ms;
	return gap >= mean - mean / 4 - RUN_SLACK_MS &&
	    gap <= mean + mean / 4 + RUN_SLACK_MS;
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

	if (!store_usable(txn, false) || store_cursor_open(txn, DB_HISTORY, &cur) != 0)
		return 0;
	rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
	if (rc == 0 && k.mv_size == 8)
		seq = get_be64(k.mv_data);
	else if (rc == 0)
		store_fail(txn, STORE_E_CORRUPT, "history: bad key of %zu bytes",
		    k.mv_size);
	else if (rc != MDB_NOTFOUND)
		store_mdb_fail(txn, rc, "cursor_get", "history");
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
	if (!store_kv_get(txn, DB_HISTORY, key, sizeof(key), &v))
		return false;
	if (!event_decode(seq, &v, ev)) {
		store_fail(txn, STORE_E_CORRUPT, "history %llu: bad record",
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
	if (!store_usable(txn, true))
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
		return store_fail(txn, STORE_E_INVAL, "history: bad event "
		    "(group %zu, event %zu, payload %zu bytes)", glen, elen,
		    plen);

	memset(prev, 0, sizeof(prev));
	seq = store_history_last(txn);
	if (txn->err != 0)
		return txn->err;
	if (seq != 0) {
		if (!store_history_get(txn, seq, &last))
			return store_fail(txn, STORE_E_CORRUPT,
			    "history %llu: vanished", (unsigned long long)seq);
		memcpy(prev, last.hash, sizeof(prev));
	}
	seq++;
	if (event_hash(seq, ts_ms, prev, group, glen, event, elen, payload,
	    plen, hash) != 0)
		return store_fail(txn, STORE_E_NOMEM, "history: SHA-256 failed");

	put_be64(key, seq);
	p = store_kv_reserve(txn, DB_HISTORY, key, sizeof(key),
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
	if (store_kv_put(txn, DB_META, KEY_HISTORY_HEAD, strlen(KEY_HISTORY_HEAD),
	    head, sizeof(head)) != 0)
		return txn->err;
	if (seqp != NULL)
		*seqp = seq;
	txn->appended = true;
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

	if (!store_usable(txn, false) || store_cursor_open(txn, DB_HISTORY, &cur) != 0)
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
			store_mdb_fail(txn, rc, "cursor_get", "history");
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
		store_mdb_fail(txn, rc, "cursor_get", "history");
	goto out;
 bad:
	store_fail(txn, STORE_E_CORRUPT, "history: bad record (key of %zu "
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
	uint8_t base_hash[STORE_HASH_LEN], anc_hash[STORE_HASH_LEN];
	uint64_t expect = 1, n = 0, head_seq = 0, base_seq = 0, anc_seq = 0;
	int rc, ret;

	*first_bad = 0;
	store_set_err(err, errlen, "%s", "");
	memset(prev, 0, sizeof(prev));
	if (store_txn_begin(st, false, &txn) != 0 ||
	    store_cursor_open(&txn, DB_HISTORY, &cur) != 0)
		goto out;
	/* After a prune the chain starts at the base, from its hash. */
	if (store_kv_get(&txn, DB_META, KEY_HISTORY_BASE, strlen(KEY_HISTORY_BASE),
	    &v)) {
		if (v.mv_size != 8 + STORE_HASH_LEN || get_le64(v.mv_data) == 0) {
			*first_bad = 1;
			store_set_err(err, errlen, "history base record is malformed");
			goto out;
		}
		expect = base_seq = get_le64(v.mv_data);
		memcpy(prev, (uint8_t *)v.mv_data + 8, STORE_HASH_LEN);
		memcpy(base_hash, prev, STORE_HASH_LEN);
	}
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size != 8) {
			*first_bad = expect;
			store_set_err(err, errlen, "event after %llu has a bad key",
			    (unsigned long long)(expect - 1));
			goto out;
		}
		ev.seq = get_be64(k.mv_data);
		n++;
		if (ev.seq != expect) {
			*first_bad = expect;
			store_set_err(err, errlen, "event %llu is missing (next is "
			    "%llu)", (unsigned long long)expect,
			    (unsigned long long)ev.seq);
			goto out;
		}
		if (!event_decode(ev.seq, &v, &ev)) {
			*first_bad = expect;
			store_set_err(err, errlen, "event %llu: malformed record",
			    (unsigned long long)expect);
			goto out;
		}
		if (memcmp(ev.prev_hash, prev, sizeof(prev)) != 0) {
			*first_bad = expect;
			store_set_err(err, errlen, "event %llu: prev_hash does not "
			    "match the hash of event %llu",
			    (unsigned long long)expect,
			    (unsigned long long)(expect - 1));
			goto out;
		}
		if (event_hash(ev.seq, ev.ts_ms, ev.prev_hash, ev.group,
		    strlen(ev.group), ev.event, strlen(ev.event), ev.payload,
		    ev.payload_len, hash) != 0) {
			store_fail(&txn, STORE_E_NOMEM, "SHA-256 failed");
			goto out;
		}
		if (memcmp(hash, ev.hash, sizeof(hash)) != 0) {
			*first_bad = expect;
			store_set_err(err, errlen, "event %llu: content does not "
			    "match its hash", (unsigned long long)expect);
			goto out;
		}
		memcpy(prev, ev.hash, sizeof(prev));
		(void)anchor_parse(&ev, &anc_seq, anc_hash);
		expect++;
	}
	if (rc != MDB_NOTFOUND) {
		store_mdb_fail(&txn, rc, "cursor_get", "history");
		goto out;
	}
	/* A pruned start must be the one the newest anchor names. */
	if (base_seq != 0 && (anc_seq != base_seq ||
	    memcmp(anc_hash, base_hash, STORE_HASH_LEN) != 0)) {
		*first_bad = base_seq;
		store_set_err(err, errlen, "the history starts at %llu but its"
		    " newest history_pruned record %s",
		    (unsigned long long)base_seq, anc_seq == 0 ?
		    "is missing" : "names another start");
		goto out;
	}
	/* The head in meta catches events cut off the end. */
	if (store_kv_get(&txn, DB_META, KEY_HISTORY_HEAD, strlen(KEY_HISTORY_HEAD),
	    &v)) {
		if (v.mv_size != 8 + STORE_HASH_LEN) {
			*first_bad = expect;
			store_set_err(err, errlen, "history head record is malformed");
			goto out;
		}
		head_seq = get_le64(v.mv_data);
		if (head_seq != expect - 1) {
			*first_bad = head_seq > expect - 1 ? expect :
			    head_seq + 1;
			store_set_err(err, errlen, "the history ends at %llu but its "
			    "head says %llu", (unsigned long long)(expect - 1),
			    (unsigned long long)head_seq);
		} else if (memcmp((uint8_t *)v.mv_data + 8, prev,
		    STORE_HASH_LEN) != 0) {
			*first_bad = head_seq;
			store_set_err(err, errlen, "event %llu: hash differs from the "
			    "head", (unsigned long long)head_seq);
		}
	} else if (n > 0 && txn.err == 0) {
		*first_bad = 1;
		store_set_err(err, errlen, "history has events but no head");
	}
 out:
	if (cur != NULL)
		mdb_cursor_close(cur);
	if (count != NULL)
		*count = n;
	if ((ret = store_txn_commit(&txn)) != 0) {
		*first_bad = 0;
		store_set_err(err, errlen, "%s", txn.detail);
	}
	return ret;
}

int
store_history_prune(struct store_txn *txn, uint64_t before, int64_t ts_ms,
    size_t *removed)
{
	MDB_cursor *cur = NULL;
	MDB_val k, v;
	struct store_event ev;
	uint8_t base[8 + STORE_HASH_LEN];
	char payload[256], hex[2 * STORE_HASH_LEN + 1];
	uint64_t last, seq;
	size_t n = 0;
	int rc;

	if (removed != NULL)
		*removed = 0;
	if (!store_usable(txn, true))
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
		return store_fail(txn, STORE_E_CORRUPT, "history %llu: missing",
		    (unsigned long long)before);
	put_le64(base, before);
	memcpy(base + 8, ev.prev_hash, STORE_HASH_LEN);
	if (store_cursor_open(txn, DB_HISTORY, &cur) != 0)
		return txn->err;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size != 8) {
			mdb_cursor_close(cur);
			return store_fail(txn, STORE_E_CORRUPT,
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
		return store_mdb_fail(txn, rc, "prune", "history");
	if (n == 0)
		return 0;
	if (store_kv_put(txn, DB_META, KEY_HISTORY_BASE, strlen(KEY_HISTORY_BASE),
	    base, sizeof(base)) != 0)
		return txn->err;
	hex_of(base + 8, hex);
	snprintf(payload, sizeof(payload), "{\"level\":\"info\",\"removed\":"
	    "\"%zu\",\"first_kept\":\"%llu\",\"base_hash\":\"%s\"}", n,
	    (unsigned long long)before, hex);
	if (store_history_append(txn, ts_ms, NULL, ANCHOR_EVENT, payload,
	    NULL) != 0)
		return txn->err;
	if (removed != NULL)
		*removed = n;
	return 0;
}

/* The base an anchor event names; false when it is not one. */
static bool
anchor_parse(const struct store_event *ev, uint64_t *seq, uint8_t *hash)
{
	const char *p;
	unsigned long long s;
	char hex[2 * STORE_HASH_LEN + 1];

	if (ev->group[0] != '\0' || strcmp(ev->event, ANCHOR_EVENT) != 0)
		return false;
	if ((p = strstr(ev->payload, "\"first_kept\":\"")) == NULL ||
	    sscanf(p + 14, "%llu", &s) != 1)
		return false;
	if ((p = strstr(ev->payload, "\"base_hash\":\"")) == NULL ||
	    sscanf(p + 13, "%64[0-9a-f]", hex) != 1 ||
	    strlen(hex) != 2 * STORE_HASH_LEN)
		return false;
	for (int i = 0; i < STORE_HASH_LEN; i++) {
		unsigned int b;

		if (sscanf(hex + 2 * i, "%2x", &b) != 1)
			return false;
		hash[i] = (uint8_t)b;
	}
	*seq = s;
	return true;
}

static void
hex_of(const uint8_t *h, char *out)
{
	for (int i = 0; i < STORE_HASH_LEN; i++)
		snprintf(out + 2 * i, 3, "%02x", h[i]);
}

/* ---- retention ---- */

/* Bytes of map a database's pages take. */
static size_t
db_bytes(struct store_txn *txn, enum store_db db, size_t *entries)
{
	MDB_stat ms;

	if (mdb_stat(txn->txn, txn->store->dbi[db], &ms) != 0)
		return 0;
	if (entries != NULL)
		*entries = ms.ms_entries;
	return (size_t)ms.ms_psize * (ms.ms_branch_pages + ms.ms_leaf_pages +
	    ms.ms_overflow_pages);
}

int
store_usage(struct store_txn *txn, struct store_usage *u)
{
	MDB_envinfo info;
	MDB_stat st;

	memset(u, 0, sizeof(*u));
	if (!store_usable(txn, false))
		return txn->err;
	if (mdb_env_info(txn->store->env, &info) != 0 ||
	    mdb_env_stat(txn->store->env, &st) != 0)
		return store_fail(txn, STORE_E_INTERNAL, "env_info failed");
	u->map_bytes = info.me_mapsize;
	u->used_bytes = (size_t)(info.me_last_pgno + 1) * st.ms_psize;
	u->history_bytes = db_bytes(txn, DB_HISTORY, &u->history_events);
	u->probelog_bytes = db_bytes(txn, DB_PROBELOG, &u->probelog_runs);
	u->journal_bytes = db_bytes(txn, DB_JOURNAL, &u->journal_entries);
	return 0;
}

/* The first event at or after ts_ms, walking from the oldest. */
static uint64_t
history_first_at(struct store_txn *txn, int64_t ts_ms)
{
	MDB_cursor *cur = NULL;
	MDB_val k, v;
	struct store_event ev;
	uint64_t seq = 0;
	int rc;

	if (store_cursor_open(txn, DB_HISTORY, &cur) != 0)
		return 0;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size != 8 || !event_decode(get_be64(k.mv_data), &v,
		    &ev))
			break;
		seq = ev.seq;
		if (ev.ts_ms >= ts_ms)
			break;
		seq++;
	}
	mdb_cursor_close(cur);
	return seq;
}

int
store_retain(struct store_txn *txn, const struct store_retention *pol,
    int64_t now_ms, struct store_retained *out)
{
	struct store_usage u;
	uint64_t first, last, before = 0;
	size_t n, budget, cap;

	memset(out, 0, sizeof(*out));
	if (!store_usable(txn, true) || store_usage(txn, &u) != 0)
		return txn->err;

	/* History: by age, then by size (down to 3/4 of its budget). */
	last = store_history_last(txn);
	if (last > 0 && pol->history_keep_ms > 0)
		before = history_first_at(txn, now_ms - pol->history_keep_ms);
	budget = (size_t)((double)u.map_bytes * pol->history_share);
	if (last > 0 && u.history_bytes > budget && u.history_events > 0) {
		size_t keep = (size_t)((double)u.history_events * 0.75 *
		    (double)budget / (double)u.history_bytes);

		first = last - u.history_events + 1;
		if (last - first + 1 > keep && first + (u.history_events -
		    keep) > before)
			before = first + (u.history_events - keep);
	}
	if (before > 1 && store_history_prune(txn, before, now_ms, &n) == 0)
		out->history_removed = n;
	if (txn->err != 0)
		return txn->err;

	/* Probe log: by age, then each stack to its share of the budget. */
	budget = (size_t)((double)u.map_bytes * pol->probelog_share);
	cap = pol->probelog_max_runs;
	if (u.probelog_bytes > budget && u.probelog_runs > 0) {
		size_t fit = (size_t)((double)u.probelog_runs * 0.75 *
		    (double)budget / (double)u.probelog_bytes);
		size_t nstack = pol->nstack > 0 ? pol->nstack : 1;

		fit = fit / nstack > 0 ? fit / nstack : 1;
		if (cap == 0 || fit < cap)
			cap = fit;
	}
	if (store_probelog_prune(txn, now_ms - pol->probelog_keep_ms, cap,
	    &n) == 0)
		out->probelog_removed = n;
	if (txn->err != 0)
		return txn->err;
	out->usage = u;
	return 0;
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

static void
run_encode(const struct store_probe_run *r, uint8_t *val)
{
	val[0] = 1;
	val[1] = r->result;
	val[2] = r->reason;
	val[3] = 0;
	put_le16(val + 4, r->status);
	put_le32(val + 6, r->count);
	put_le64(val + 10, (uint64_t)r->last_ms);
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

	if (!store_usable(txn, true) || store_name_check(txn, "probelog", stack,
	    &n) != 0)
		return txn->err;
	if (ts_ms < 0)
		return store_fail(txn, STORE_E_INVAL, "probelog %s: negative "
		    "time", stack);
	if (store_cursor_open(txn, DB_PROBELOG, &cur) != 0)
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
			return store_fail(txn, STORE_E_CORRUPT,
			    "probelog %s: bad record", stack);
		}
		have = true;
	} else if (rc != 0 && rc != MDB_NOTFOUND) {
		mdb_cursor_close(cur);
		return store_mdb_fail(txn, rc, "cursor_get", "probelog");
	}
	mdb_cursor_close(cur);

	if (!have)
		memset(&r, 0, sizeof(r));
	(void)store_probe_run_next(&r, ts_ms, result, reason, status);
	klen = run_key(stack, n, r.start_ms, key);
	run_encode(&r, val);
	return store_kv_put(txn, DB_PROBELOG, key, klen, val, sizeof(val));
}

bool
store_probe_run_next(struct store_probe_run *r, int64_t ts_ms, uint8_t result,
    uint8_t reason, uint16_t status)
{
	bool have = r->count > 0;

	if (have && ts_ms < r->last_ms)
		ts_ms = r->last_ms;
	if (have && r->result == result && r->reason == reason &&
	    r->status == status && r->count < UINT32_MAX &&
	    run_regular(r, ts_ms)) {
		r->count++;
		r->last_ms = ts_ms;
		return true;
	}
	if (have && ts_ms == r->start_ms)
		ts_ms++;	/* keys must differ; 1 ms is noise */
	memset(r, 0, sizeof(*r));
	r->start_ms = r->last_ms = ts_ms;
	r->count = 1;
	r->result = result;
	r->reason = reason;
	r->status = status;
	return false;
}

int
store_probelog_put(struct store_txn *txn, const char *stack,
    const struct store_probe_run *r)
{
	uint8_t key[RUN_KEY_MAX], val[RUN_LEN];
	size_t n;

	if (!store_usable(txn, true) || store_name_check(txn, "probelog", stack,
	    &n) != 0)
		return txn->err;
	if (r->count == 0 || r->start_ms < 0 || r->last_ms < r->start_ms)
		return store_fail(txn, STORE_E_INVAL, "probelog %s: bad run",
		    stack);
	run_encode(r, val);
	return store_kv_put(txn, DB_PROBELOG, key, run_key(stack, n,
	    r->start_ms, key), val, sizeof(val));
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

	if (!store_usable(txn, false) || (stack != NULL &&
	    store_name_check(txn, "probelog", stack, &n) != 0) ||
	    store_cursor_open(txn, DB_PROBELOG, &cur) != 0)
		return txn->err;
	if (stack != NULL) {
		k.mv_data = key;
		k.mv_size = run_key(stack, n, 0, key);
		rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	} else
		rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
	for (; rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (!run_decode(&k, &v, name, &r)) {
			store_fail(txn, STORE_E_CORRUPT, "probelog: bad record");
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
		store_mdb_fail(txn, rc, "cursor_get", "probelog");
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
	if (!store_usable(txn, true) || store_cursor_open(txn, DB_PROBELOG, &cur) != 0)
		return txn->err;
	/* Newest first, so the count limit keeps the newest runs. */
	cur_stack[0] = '\0';
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_LAST); rc == 0;
	    rc = mdb_cursor_get(cur, &k, &v, MDB_PREV)) {
		if (!run_decode(&k, &v, name, &r)) {
			store_fail(txn, STORE_E_CORRUPT, "probelog: bad record");
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
		store_mdb_fail(txn, rc, "prune", "probelog");
	mdb_cursor_close(cur);
	if (removed != NULL && txn->err == 0)
		*removed = nrm;
	return txn->err;
}
