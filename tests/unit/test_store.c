/*
 * test_store.c - the LMDB state store: round trips of every record kind,
 * schema refusal, file modes, read-only and full maps, the history chain,
 * two processes at once, and a writer killed in the middle of a
 * transaction.
 *
 * Each test gets a fresh temporary directory (removed afterwards) with the
 * state in DIR/state.  Tests that need a second handle on one environment
 * fork, since LMDB forbids two in one process; children report by exit
 * status and never call cmocka.  Raw LMDB is used only to play the
 * attacker or a newer failoverd (tampering, a newer schema).
 */
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <pwd.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <lmdb.h>

#include "controller/core/engine.h"
#include "controller/core/engine_codec.h"
#include "controller/store/store.h"

#define T0	1700000000123LL

struct fx {
	char	 tmp[64];
	char	 dir[128];
	struct store *st;
};

/* ---- fixture ---- */

static int
rm_cb(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb; (void)flag; (void)ftw;
	return remove(path);
}

static int
setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));

	if (fx == NULL)
		return -1;
	snprintf(fx->tmp, sizeof(fx->tmp), "/tmp/test_store.XXXXXX");
	if (mkdtemp(fx->tmp) == NULL) {
		free(fx);
		return -1;
	}
	snprintf(fx->dir, sizeof(fx->dir), "%s/state", fx->tmp);
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *fx = *state;

	store_close(fx->st);
	chmod(fx->tmp, 0700);
	chmod(fx->dir, 0700);
	nftw(fx->tmp, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	free(fx);
	return 0;
}

static struct store *
open_ok(struct fx *fx, size_t map)
{
	char err[256];
	int rc;

	rc = store_open(fx->dir, map, 0, &fx->st, err, sizeof(err));
	if (rc != 0)
		fail_msg("store_open: %s: %s", store_errname(rc), err);
	return fx->st;
}

static void
reopen(struct fx *fx)
{
	store_close(fx->st);
	fx->st = NULL;
	open_ok(fx, 0);
}

/* Raw LMDB, as a newer failoverd or an attacker would use it. */
static MDB_env *
raw_open(const char *dir)
{
	MDB_env *env;

	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 16), 0);
	assert_int_equal(mdb_env_open(env, dir, 0, 0600), 0);
	return env;
}

static void
raw_put(const char *dir, const char *db, const void *key, size_t klen,
    const void *val, size_t vlen)
{
	MDB_env *env = raw_open(dir);
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_val k = { klen, (void *)key }, v = { vlen, (void *)val };

	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, db, MDB_CREATE, &dbi), 0);
	assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
}

/* Copy of a raw value into BUF; returns its length, or -1 if absent. */
static long
raw_get(const char *dir, const char *db, const void *key, size_t klen,
    void *buf, size_t buflen)
{
	MDB_env *env = raw_open(dir);
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_val k = { klen, (void *)key }, v;
	long n = -1;

	assert_int_equal(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), 0);
	if (mdb_dbi_open(txn, db, 0, &dbi) == 0 &&
	    mdb_get(txn, dbi, &k, &v) == 0) {
		n = (long)v.mv_size;
		memcpy(buf, v.mv_data, v.mv_size < buflen ? v.mv_size : buflen);
	}
	mdb_txn_abort(txn);
	mdb_env_close(env);
	return n;
}

static void
put_group(struct store *st, const char *name, const char *val)
{
	struct store_txn txn;

	store_txn_begin(st, true, &txn);
	store_group_put(&txn, name, val, strlen(val));
	assert_int_equal(store_txn_commit(&txn), 0);
}

/* The group's blob as a string, "" when absent. */
static void
get_group(struct store *st, const char *name, char *buf, size_t len)
{
	struct store_txn txn;
	const void *b;
	size_t n;

	buf[0] = '\0';
	store_txn_begin(st, false, &txn);
	if (store_group_get(&txn, name, &b, &n)) {
		assert_true(n < len);
		memcpy(buf, b, n);
		buf[n] = '\0';
	}
	assert_int_equal(store_txn_commit(&txn), 0);
}

/* Wait up to MS for one byte on FD; returns it or -1. */
static int
read_byte(int fd, int ms)
{
	struct pollfd pfd = { fd, POLLIN, 0 };
	char c;

	if (poll(&pfd, 1, ms) != 1 || read(fd, &c, 1) != 1)
		return -1;
	return (unsigned char)c;
}

/* Bounded wait for PID; returns its exit status, or -1 (then killed). */
static int
wait_child(pid_t pid, int ms)
{
	int status;

	for (int i = 0; i < ms; i++) {
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r == pid)
			return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
		usleep(1000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	return -1;
}

/* ---- round trips ---- */

struct collect {
	char	 names[16][64];
	size_t	 n;
	size_t	 stop_after;
};

static bool
collect_blob_cb(const char *name, const void *blob, size_t len, void *arg)
{
	struct collect *c = arg;

	(void)blob; (void)len;
	snprintf(c->names[c->n++], sizeof(c->names[0]), "%s", name);
	return c->n != c->stop_after;
}

static void
test_groups_journal_meta(void **state)
{
	struct fx *fx = *state;
	struct store *st = open_ok(fx, 0);
	struct store_txn txn;
	struct collect c = { .n = 0 };
	const void *b;
	size_t n;
	char buf[64];
	const uint8_t bin[] = { 0, 1, 2, 0xff, 0 };

	store_txn_begin(st, true, &txn);
	store_group_put(&txn, "www", "state-www", 9);
	store_group_put(&txn, "api", bin, sizeof(bin));
	store_group_put(&txn, "empty", NULL, 0);
	store_journal_put(&txn, "sw-2", "j2", 2);
	store_journal_put(&txn, "sw-1", "j1", 2);
	store_meta_put(&txn, "controller.name", "ctl-a", 5);
	assert_int_equal(store_txn_commit(&txn), 0);

	reopen(fx);
	st = fx->st;
	store_txn_begin(st, false, &txn);
	assert_true(store_group_get(&txn, "api", &b, &n));
	assert_int_equal(n, sizeof(bin));
	assert_memory_equal(b, bin, sizeof(bin));
	assert_true(store_group_get(&txn, "empty", &b, &n));
	assert_int_equal(n, 0);
	assert_false(store_group_get(&txn, "nope", &b, &n));
	assert_null(b);
	assert_true(store_journal_get(&txn, "sw-1", &b, &n));
	assert_int_equal(n, 2);
	assert_memory_equal(b, "j1", 2);
	assert_true(store_meta_get(&txn, "controller.name", &b, &n));
	assert_memory_equal(b, "ctl-a", 5);
	assert_int_equal(store_group_foreach(&txn, collect_blob_cb, &c), 0);
	assert_int_equal(c.n, 3);
	assert_string_equal(c.names[0], "api");
	assert_string_equal(c.names[1], "empty");
	assert_string_equal(c.names[2], "www");
	c.n = 0;
	c.stop_after = 1;
	assert_int_equal(store_journal_foreach(&txn, collect_blob_cb, &c), 0);
	assert_int_equal(c.n, 1);
	assert_string_equal(c.names[0], "sw-1");
	assert_int_equal(store_txn_commit(&txn), 0);

	store_txn_begin(st, true, &txn);
	store_group_del(&txn, "www");
	store_group_del(&txn, "never-there");
	store_journal_del(&txn, "sw-1");
	assert_int_equal(store_txn_commit(&txn), 0);
	get_group(st, "www", buf, sizeof(buf));
	assert_string_equal(buf, "");
	store_txn_begin(st, false, &txn);
	assert_false(store_journal_get(&txn, "sw-1", &b, &n));
	assert_true(store_journal_get(&txn, "sw-2", &b, &n));
	assert_int_equal(store_txn_commit(&txn), 0);
}

static void
test_sticky_error(void **state)
{
	struct fx *fx = *state;
	struct store *st = open_ok(fx, 0);
	struct store_txn txn;
	char longname[STORE_NAME_MAX + 2];
	const void *b;
	size_t n;
	char buf[32];

	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	store_txn_begin(st, true, &txn);
	assert_int_equal(store_group_put(&txn, "a", "1", 1), 0);
	assert_int_equal(store_group_put(&txn, longname, "2", 1),
	    STORE_E_INVAL);
	assert_non_null(strstr(txn.detail, "longer than"));
	/* Later steps do nothing and return the first error. */
	assert_int_equal(store_group_put(&txn, "b", "3", 1), STORE_E_INVAL);
	assert_false(store_group_get(&txn, "a", &b, &n));
	assert_int_equal(store_meta_put(&txn, "x", "y", 1), STORE_E_INVAL);
	assert_int_equal(store_txn_commit(&txn), STORE_E_INVAL);
	assert_null(txn.txn);
	store_txn_abort(&txn);		/* harmless twice */
	get_group(st, "a", buf, sizeof(buf));
	assert_string_equal(buf, "");	/* nothing of it was committed */

	/* Misuse: write in a read txn, reserved meta key, empty name. */
	store_txn_begin(st, false, &txn);
	assert_int_equal(store_group_put(&txn, "a", "1", 1), STORE_E_INVAL);
	assert_int_equal(store_txn_commit(&txn), STORE_E_INVAL);
	store_txn_begin(st, true, &txn);
	assert_int_equal(store_meta_put(&txn, "store.schema", "x", 1),
	    STORE_E_INVAL);
	store_txn_abort(&txn);
	store_txn_begin(st, true, &txn);
	assert_int_equal(store_group_put(&txn, "", "x", 1), STORE_E_INVAL);
	store_txn_abort(&txn);

	/* One write txn per process: a second is refused, not deadlocked. */
	struct store_txn t2;
	store_txn_begin(st, true, &txn);
	assert_int_equal(store_txn_begin(st, true, &t2), STORE_E_BUSY);
	assert_int_equal(store_txn_commit(&t2), STORE_E_BUSY);
	assert_int_equal(store_txn_begin(st, false, &t2), 0);
	store_txn_abort(&t2);
	store_txn_abort(&txn);
	assert_int_equal(store_txn_begin(st, true, &txn), 0);
	store_txn_abort(&txn);
}

static bool
flags_cb(const char *group, const struct store_flags *f, void *arg)
{
	int *n = arg;

	if (strcmp(group, "www") == 0)
		assert_true(f->paused);
	(*n)++;
	return true;
}

static void
test_flags(void **state)
{
	struct fx *fx = *state;
	struct store *st = open_ok(fx, 0);
	struct store_txn txn;
	struct store_flags f, g;
	uint64_t gen0, gen;
	uint8_t raw[64];
	char err[256];
	int n = 0;
	static const uint8_t example[] = {
		0x02, 0x01, 0x04, 0x00, 0, 0, 0, 0, 0, 0, 0, 0,
		0x7b, 0x68, 0xe5, 0xcf, 0x8b, 0x01, 0x00, 0x00,
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		0x00, 0x00, 0x08, 0x00,
		'a', 'p', 'p', '1', 'u', 'i', 'd', ':', 'r', 'o', 'o', 't',
	};
	/* Format 1, as earlier builds wrote it: still read. */
	static const uint8_t v1[] = {
		0x01, 0x06, 0x00, 0x04, 8, 7, 6, 5, 4, 3, 2, 1,
		0x7b, 0x68, 0xe5, 0xcf, 0x8b, 0x01, 0x00, 0x00,
		'a', 'p', 'p', '2',
	};

	assert_int_equal(store_generation(st, &gen0, err, sizeof(err)), 0);
	assert_int_equal(gen0, 0);

	/* Absent: all clear. */
	store_txn_begin(st, false, &txn);
	memset(&f, 0xa5, sizeof(f));
	assert_false(store_flags_get(&txn, "www", &f));
	assert_false(f.paused);
	assert_string_equal(f.pinned, "");
	assert_int_equal(store_txn_commit(&txn), 0);

	memset(&f, 0, sizeof(f));
	f.paused = true;
	strcpy(f.pinned, "app1");
	strcpy(f.actor, "uid:root");
	f.updated_ms = T0;
	store_txn_begin(st, true, &txn);
	store_flags_put(&txn, "www", &f);
	memset(&g, 0, sizeof(g));
	g.rearm_requested = true;
	g.switch_requested = true;
	g.switch_force = true;
	strcpy(g.switch_to, "app2");
	g.switch_request_id = 0x0102030405060708ULL;
	g.updated_ms = -5;
	g.switch_requested_ms = T0 + 1;
	g.rearm_requested_ms = T0 + 2;
	strcpy(g.switch_actor, "api:127.0.0.1");
	strcpy(g.rearm_actor, "uid:alice");
	store_flags_put(&txn, "api", &g);
	assert_int_equal(store_txn_commit(&txn), 0);
	assert_int_equal(store_generation(st, &gen, err, sizeof(err)), 0);
	assert_int_equal(gen, 2);

	reopen(fx);
	st = fx->st;
	store_txn_begin(st, false, &txn);
	memset(&f, 0, sizeof(f));
	assert_true(store_flags_get(&txn, "api", &f));
	assert_memory_equal(&f.paused, &g.paused, sizeof(bool));
	assert_true(f.rearm_requested && f.switch_requested && f.switch_force);
	assert_false(f.paused);
	assert_string_equal(f.switch_to, "app2");
	assert_string_equal(f.pinned, "");
	assert_int_equal(f.switch_request_id, 0x0102030405060708ULL);
	assert_int_equal(f.updated_ms, -5);
	assert_int_equal(f.switch_requested_ms, T0 + 1);
	assert_int_equal(f.rearm_requested_ms, T0 + 2);
	assert_string_equal(f.switch_actor, "api:127.0.0.1");
	assert_string_equal(f.rearm_actor, "uid:alice");
	assert_string_equal(f.actor, "");
	assert_int_equal(store_flags_foreach(&txn, flags_cb, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(store_txn_commit(&txn), 0);

	/* A name that fills the array without a NUL is refused. */
	memset(&f, 0, sizeof(f));
	memset(f.pinned, 'p', sizeof(f.pinned));
	store_txn_begin(st, true, &txn);
	assert_int_equal(store_flags_put(&txn, "x", &f), STORE_E_INVAL);
	store_txn_abort(&txn);

	store_txn_begin(st, true, &txn);
	store_flags_del(&txn, "api");
	assert_int_equal(store_txn_commit(&txn), 0);
	assert_int_equal(store_generation(st, &gen, err, sizeof(err)), 0);
	assert_int_equal(gen, 3);

	/* The documented encoding, byte for byte. */
	store_close(fx->st);
	fx->st = NULL;
	assert_int_equal(raw_get(fx->dir, "flags", "www", 3, raw, sizeof(raw)),
	    sizeof(example));
	assert_memory_equal(raw, example, sizeof(example));
	assert_int_equal(raw_get(fx->dir, "flags", "api", 3, raw, sizeof(raw)),
	    -1);

	/* A format 1 record: its requests count as made at updated_ms. */
	raw_put(fx->dir, "flags", "old", 3, v1, sizeof(v1));
	st = open_ok(fx, 0);
	store_txn_begin(st, false, &txn);
	assert_true(store_flags_get(&txn, "old", &f));
	assert_true(f.rearm_requested && f.switch_requested && !f.paused);
	assert_string_equal(f.switch_to, "app2");
	assert_int_equal(f.switch_request_id, 0x0102030405060708ULL);
	assert_int_equal(f.switch_requested_ms, T0);
	assert_int_equal(f.rearm_requested_ms, T0);
	assert_string_equal(f.switch_actor, "");
	assert_int_equal(store_txn_commit(&txn), 0);
}

static void
test_addresses(void **state)
{
	struct fx *fx = *state;
	struct store *st = open_ok(fx, 0);
	struct store_txn txn;
	struct store_addr a, b;

	memset(&a, 0, sizeof(a));
	a.state = STORE_ADDR_ALLOCATED;
	a.time_ms = T0;
	strcpy(a.group, "www");
	store_txn_begin(st, true, &txn);
	store_addr_put(&txn, "123-456-789", &a);
	store_addr_put(&txn, "www.failover.example.net.", &a);
	assert_int_equal(store_txn_commit(&txn), 0);

	store_txn_begin(st, false, &txn);
	assert_true(store_addr_get(&txn, "123-456-789", &b));
	assert_int_equal(b.state, STORE_ADDR_ALLOCATED);
	assert_int_equal(b.time_ms, T0);
	assert_string_equal(b.group, "www");
	assert_false(store_addr_get(&txn, "000-000-000", &b));
	assert_int_equal(store_txn_commit(&txn), 0);

	/* Tombstone, then it may never be replaced. */
	a.state = STORE_ADDR_TOMBSTONE;
	a.time_ms = T0 + 1;
	store_txn_begin(st, true, &txn);
	store_addr_put(&txn, "123-456-789", &a);
	assert_int_equal(store_txn_commit(&txn), 0);
	a.state = STORE_ADDR_ALLOCATED;
	strcpy(a.group, "other");
	store_txn_begin(st, true, &txn);
	assert_int_equal(store_addr_put(&txn, "123-456-789", &a),
	    STORE_E_EXISTS);
	assert_int_equal(store_txn_commit(&txn), STORE_E_EXISTS);
	store_txn_begin(st, false, &txn);
	assert_true(store_addr_get(&txn, "123-456-789", &b));
	assert_int_equal(b.state, STORE_ADDR_TOMBSTONE);
	assert_string_equal(b.group, "www");
	assert_int_equal(b.time_ms, T0 + 1);
	assert_int_equal(store_txn_commit(&txn), 0);
}

/* ---- history ---- */

struct evlist {
	uint64_t	 seq[64];
	size_t		 n;
};

static bool
ev_cb(const struct store_event *ev, void *arg)
{
	struct evlist *l = arg;

	l->seq[l->n++] = ev->seq;
	return true;
}

static void
append_events(struct store *st, int n)
{
	struct store_txn txn;
	char payload[64];
	uint64_t seq;

	for (int i = 0; i < n; i++) {
		snprintf(payload, sizeof(payload), "{\"i\":%d}", i);
		store_txn_begin(st, true, &txn);
		store_history_append(&txn, T0 + i, i % 2 ? "api" : "www",
		    "test_event", payload, &seq);
		assert_int_equal(store_txn_commit(&txn), 0);
	}
}

static void
test_history(void **state)
{
	struct fx *fx = *state;
	struct store *st = open_ok(fx, 0);
	struct store_txn txn;
	struct store_event ev;
	struct evlist l = { .n = 0 };
	uint64_t seq, bad, count;
	char err[256];
	static const uint8_t hash1[] = {
		0x69, 0xad, 0x28, 0xa4, 0xc3, 0xfa, 0x5e, 0x77,
		0x71, 0x14, 0x66, 0x6d, 0x7a, 0x6d, 0x8f, 0xcc,
		0x78, 0xd5, 0xf7, 0x59, 0x43, 0xb2, 0xdc, 0xff,
		0xdb, 0x82, 0xe2, 0x08, 0x69, 0xf0, 0xb2, 0x02,
	};
	static const uint8_t zero[32];

	assert_int_equal(store_history_verify(st, &bad, &count, err,
	    sizeof(err)), 0);
	assert_int_equal(bad, 0);
	assert_int_equal(count, 0);

	/* The worked example of store.c. */
	store_txn_begin(st, true, &txn);
	assert_int_equal(store_history_last(&txn), 0);
	store_history_append(&txn, T0, "www", "pause", "{\"by\":\"ctl\"}",
	    &seq);
	assert_int_equal(seq, 1);
	store_history_append(&txn, T0 + 1, NULL, "controller_start", NULL,
	    &seq);
	assert_int_equal(seq, 2);
	assert_int_equal(store_history_append(&txn, T0, "www", "", NULL, NULL),
	    STORE_E_INVAL);
	assert_int_equal(store_txn_commit(&txn), STORE_E_INVAL);
	assert_int_equal(store_txn_begin(st, false, &txn), 0);
	assert_int_equal(store_history_last(&txn), 0);	/* all or nothing */
	store_txn_abort(&txn);

	store_txn_begin(st, true, &txn);
	store_history_append(&txn, T0, "www", "pause", "{\"by\":\"ctl\"}",
	    &seq);
	store_history_append(&txn, T0 + 1, NULL, "controller_start", NULL,
	    &seq);
	assert_int_equal(store_txn_commit(&txn), 0);
	append_events(st, 10);			/* seq 3..12 */

	reopen(fx);
	st = fx->st;
	store_txn_begin(st, false, &txn);
	assert_int_equal(store_history_last(&txn), 12);
	assert_true(store_history_get(&txn, 1, &ev));
	assert_int_equal(ev.ts_ms, T0);
	assert_string_equal(ev.group, "www");
	assert_string_equal(ev.event, "pause");
	assert_string_equal(ev.payload, "{\"by\":\"ctl\"}");
	assert_int_equal(ev.payload_len, 12);
	assert_memory_equal(ev.prev_hash, zero, 32);
	assert_memory_equal(ev.hash, hash1, 32);
	assert_true(store_history_get(&txn, 2, &ev));
	assert_string_equal(ev.group, "");
	assert_string_equal(ev.payload, "");
	assert_memory_equal(ev.prev_hash, hash1, 32);
	assert_false(store_history_get(&txn, 13, &ev));

	/* Everything, oldest first. */
	assert_int_equal(store_history_foreach(&txn, 0, 0, NULL, ev_cb, &l), 0);
	assert_int_equal(l.n, 12);
	for (size_t i = 0; i < l.n; i++)
		assert_int_equal(l.seq[i], i + 1);
	/* The newest 3 of group www, oldest first: 7, 9, 11. */
	l.n = 0;
	assert_int_equal(store_history_foreach(&txn, 0, 3, "www", ev_cb, &l),
	    0);
	assert_int_equal(l.n, 3);
	assert_int_equal(l.seq[0], 7);
	assert_int_equal(l.seq[2], 11);
	/* From 10 on, limit larger than what is there. */
	l.n = 0;
	assert_int_equal(store_history_foreach(&txn, 10, 50, NULL, ev_cb, &l),
	    0);
	assert_int_equal(l.n, 3);
	assert_int_equal(l.seq[0], 10);
	l.n = 0;
	assert_int_equal(store_history_foreach(&txn, 5, 0, "nobody", ev_cb,
	    &l), 0);
	assert_int_equal(l.n, 0);
	l.n = 0;
	assert_int_equal(store_history_foreach(&txn, 20, 5, NULL, ev_cb, &l),
	    0);
	assert_int_equal(l.n, 0);
	assert_int_equal(store_txn_commit(&txn), 0);

	assert_int_equal(store_history_verify(st, &bad, &count, err,
	    sizeof(err)), 0);
	assert_int_equal(bad, 0);
	assert_int_equal(count, 12);
}

/* Change one byte of event SEQ's value at OFF from its end. */
static void
tamper(const char *dir, uint64_t seq, size_t off_from_end)
{
	MDB_env *env = raw_open(dir);
	MDB_txn *txn;
	MDB_dbi dbi;
	uint8_t key[8], buf[512];
	MDB_val k = { 8, key }, v;

	for (int i = 0; i < 8; i++)
		key[i] = (uint8_t)(seq >> (56 - 8 * i));
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, "history", 0, &dbi), 0);
	assert_int_equal(mdb_get(txn, dbi, &k, &v), 0);
	assert_true(v.mv_size <= sizeof(buf));
	memcpy(buf, v.mv_data, v.mv_size);
	buf[v.mv_size - 1 - off_from_end] ^= 0x01;
	v.mv_data = buf;
	assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
}

static void
raw_del_history(const char *dir, uint64_t seq)
{
	MDB_env *env = raw_open(dir);
	MDB_txn *txn;
	MDB_dbi dbi;
	uint8_t key[8];
	MDB_val k = { 8, key };

	for (int i = 0; i < 8; i++)
		key[i] = (uint8_t)(seq >> (56 - 8 * i));
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, "history", 0, &dbi), 0);
	assert_int_equal(mdb_del(txn, dbi, &k, NULL), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
}

static void
test_history_tamper(void **state)
{
	struct fx *fx = *state;
	uint64_t bad, count;
	char err[256];

	append_events(open_ok(fx, 0), 10);
	store_close(fx->st);
	fx->st = NULL;
	/* A payload byte of event 5 ('}' becomes '|'). */
	tamper(fx->dir, 5, 1);
	open_ok(fx, 0);
	assert_int_equal(store_history_verify(fx->st, &bad, &count, err,
	    sizeof(err)), 0);
	assert_int_equal(bad, 5);
	assert_non_null(strstr(err, "event 5"));
	store_close(fx->st);
	fx->st = NULL;
	tamper(fx->dir, 5, 1);			/* undo */
	open_ok(fx, 0);
	assert_int_equal(store_history_verify(fx->st, &bad, &count, err,
	    sizeof(err)), 0);
	assert_int_equal(bad, 0);
	assert_int_equal(count, 10);

	/* A deleted middle event is named, and so is a cut-off tail. */
	store_close(fx->st);
	fx->st = NULL;
	raw_del_history(fx->dir, 7);
	open_ok(fx, 0);
	assert_int_equal(store_history_verify(fx->st, &bad, &count, err,
	    sizeof(err)), 0);
	assert_int_equal(bad, 7);
	assert_non_null(strstr(err, "missing"));
	store_close(fx->st);
	fx->st = NULL;
	raw_del_history(fx->dir, 8);
	raw_del_history(fx->dir, 9);
	raw_del_history(fx->dir, 10);
	open_ok(fx, 0);
	assert_int_equal(store_history_verify(fx->st, &bad, &count, err,
	    sizeof(err)), 0);
	assert_int_equal(bad, 7);
	assert_int_equal(count, 6);
	assert_non_null(strstr(err, "head says 10"));
}

static void
test_history_prune(void **state)
{
	struct fx *fx = *state;
	struct store *st = open_ok(fx, 0);
	struct store_txn txn;
	struct store_event ev;
	struct evlist l = { .n = 0 };
	uint64_t bad, count, seq;
	size_t removed;
	char err[256];

	append_events(st, 10);
	store_txn_begin(st, true, &txn);
	store_history_prune(&txn, 6, T0 + 50, &removed);
	assert_int_equal(store_txn_commit(&txn), 0);
	assert_int_equal(removed, 5);
	assert_int_equal(store_history_verify(st, &bad, &count, err,
	    sizeof(err)), 0);
	assert_int_equal(bad, 0);
	assert_int_equal(count, 6);		/* 6..10 and the anchor, 11 */
	/* The anchor names the base, inside the chain. */
	store_txn_begin(st, false, &txn);
	assert_true(store_history_get(&txn, 11, &ev));
	assert_string_equal(ev.event, "history_pruned");
	assert_string_equal(ev.group, "");
	assert_non_null(strstr(ev.payload, "\"removed\":\"5\""));
	assert_non_null(strstr(ev.payload, "\"first_kept\":\"6\""));
	store_txn_abort(&txn);
	/* Numbers go on; the chain links on from the kept events. */
	store_txn_begin(st, true, &txn);
	store_history_append(&txn, T0 + 99, "www", "after_prune", NULL, &seq);
	assert_int_equal(store_txn_commit(&txn), 0);
	assert_int_equal(seq, 12);
	store_txn_begin(st, false, &txn);
	assert_false(store_history_get(&txn, 5, &ev));
	assert_int_equal(store_history_foreach(&txn, 0, 0, NULL, ev_cb, &l), 0);
	assert_int_equal(l.n, 7);
	assert_int_equal(l.seq[0], 6);
	assert_int_equal(store_txn_commit(&txn), 0);
	/* Pruning past the end keeps the newest event (and anchors it). */
	store_txn_begin(st, true, &txn);
	store_history_prune(&txn, 1000, T0 + 100, &removed);
	assert_int_equal(store_txn_commit(&txn), 0);
	assert_int_equal(removed, 6);
	assert_int_equal(store_history_verify(st, &bad, &count, err,
	    sizeof(err)), 0);
	assert_int_equal(bad, 0);
	assert_int_equal(count, 2);
	/* Tampering after a prune is still found. */
	append_events(st, 3);			/* 14..16 */
	store_close(fx->st);
	fx->st = NULL;
	tamper(fx->dir, 15, 1);
	open_ok(fx, 0);
	assert_int_equal(store_history_verify(fx->st, &bad, &count, err,
	    sizeof(err)), 0);
	assert_int_equal(bad, 15);
}

/*
 * Cutting more of the start than a prune did, and moving the base to
 * match, no longer verifies: the anchor inside the chain names the base.
 */
static void
test_history_prune_anchor(void **state)
{
	struct fx *fx = *state;
	struct store *st = open_ok(fx, 0);
	struct store_txn txn;
	struct store_event ev;
	uint8_t base[8 + 32];
	uint64_t bad, count;
	size_t removed;
	char err[256];

	append_events(st, 10);
	store_txn_begin(st, true, &txn);
	store_history_prune(&txn, 4, T0 + 50, &removed);	/* base 4 */
	assert_int_equal(store_txn_commit(&txn), 0);
	store_txn_begin(st, false, &txn);
	assert_true(store_history_get(&txn, 7, &ev));
	memcpy(base + 8, ev.prev_hash, 32);
	store_txn_abort(&txn);
	store_close(fx->st);
	fx->st = NULL;
	/* Delete 4..6 by hand and point the base at 7. */
	raw_del_history(fx->dir, 4);
	raw_del_history(fx->dir, 5);
	raw_del_history(fx->dir, 6);
	for (int i = 0; i < 8; i++)
		base[i] = (uint8_t)((uint64_t)7 >> (8 * i));
	raw_put(fx->dir, "meta", "store.history_base", 18, base, sizeof(base));
	open_ok(fx, 0);
	assert_int_equal(store_history_verify(fx->st, &bad, &count, err,
	    sizeof(err)), 0);
	assert_int_equal(bad, 7);
	assert_non_null(strstr(err, "history_pruned"));
}

/*
 * A year of flapping in a small map (virtual time through the store API):
 * every day a stack flaps every ten minutes (health and TTL records, probe
 * runs) and a switch is journaled; retention runs with each day's commit,
 * as the daemon's does.  The journal and the state always commit, and the
 * history verifies after every prune.
 */
static void
test_year_of_flapping(void **state)
{
	struct fx *fx = *state;
	struct store *st = open_ok(fx, 4 << 20);
	struct store_retention pol = {
		.history_keep_ms = 90LL * 86400000, .history_share = 0.25,
		.probelog_keep_ms = 7LL * 86400000, .probelog_share = 0.25,
		.probelog_max_runs = 100000, .nstack = 2,
	};
	struct store_retained ret;
	struct store_txn txn;
	struct store_usage u;
	char blob[900], id[64], err[256];
	uint64_t bad, count;
	size_t pruned = 0;
	int64_t t = T0;

	memset(blob, 'x', sizeof(blob));
	for (int day = 0; day < 365; day++) {
		assert_int_equal(store_txn_begin(st, true, &txn), 0);
		for (int f = 0; f < 144; f++, t += 600000) {
			store_history_append(&txn, t, "www", "health_change",
			    "{\"level\":\"info\",\"stack\":\"app1\","
			    "\"from\":\"up\",\"to\":\"down\"}", NULL);
			store_history_append(&txn, t + 1, "www", "ttl_lowered",
			    "{\"level\":\"info\",\"from\":\"60\","
			    "\"to\":\"5\"}", NULL);
			store_history_append(&txn, t + 300000, "www",
			    "ttl_restored", "{\"level\":\"info\"}", NULL);
			for (int k = 0; k < 3; k++) {
				store_probelog_append(&txn, "app1", t + k *
				    200000, (uint8_t)(k & 1), 2, 503);
				store_probelog_append(&txn, "app2", t + k *
				    200000, (uint8_t)(f & 1), 0, 200);
			}
		}
		snprintf(id, sizeof(id), "www-%lld", (long long)t);
		store_journal_put(&txn, id, blob, sizeof(blob));
		store_group_put(&txn, "www", blob, sizeof(blob));
		store_retain(&txn, &pol, t, &ret);
		if (txn.err != 0)
			fail_msg("day %d: %s: %s", day, store_errname(txn.err),
			    txn.detail);
		assert_int_equal(store_txn_commit(&txn), 0);
		pruned += ret.history_removed;
		if (ret.history_removed > 0) {
			assert_int_equal(store_history_verify(st, &bad, &count,
			    err, sizeof(err)), 0);
			if (bad != 0)
				fail_msg("day %d: chain broken at %llu: %s", day,
				    (unsigned long long)bad, err);
		}
	}
	assert_true(pruned > 100000);
	/* The map still takes a switch's journal entry. */
	assert_int_equal(store_txn_begin(st, true, &txn), 0);
	store_journal_put(&txn, "www-last", blob, sizeof(blob));
	store_usage(&txn, &u);
	assert_int_equal(store_txn_commit(&txn), 0);
	assert_true(u.history_bytes <= u.map_bytes / 4 + u.map_bytes / 16);
	assert_true(u.probelog_bytes <= u.map_bytes / 4 + u.map_bytes / 16);
	assert_int_equal(store_history_verify(st, &bad, &count, err,
	    sizeof(err)), 0);
	assert_int_equal(bad, 0);
}

/* ---- probelog ---- */

struct runs {
	struct store_probe_run r[8];
	char	 stack[8][16];
	size_t	 n;
};

static bool
run_cb(const char *stack, const struct store_probe_run *r, void *arg)
{
	struct runs *rs = arg;

	if (rs->n < 8) {
		rs->r[rs->n] = *r;
		snprintf(rs->stack[rs->n], sizeof(rs->stack[0]), "%s", stack);
	}
	rs->n++;
	return true;
}

static void
test_probelog(void **state)
{
	struct fx *fx = *state;
	struct store *st = open_ok(fx, 0);
	struct store_txn txn;
	struct runs rs = { .n = 0 };
	size_t removed;

	store_txn_begin(st, true, &txn);
	for (int i = 0; i < 5; i++)		/* app1 up x5 */
		store_probelog_append(&txn, "app1", T0 + i * 1000, 1, 0, 200);
	for (int i = 5; i < 8; i++)		/* app1 timeout x3 */
		store_probelog_append(&txn, "app1", T0 + i * 1000, 0, 2, 0);
	store_probelog_append(&txn, "app1", T0 + 8000, 1, 0, 503);
	store_probelog_append(&txn, "app1", T0 + 7000, 1, 0, 503); /* late */
	store_probelog_append(&txn, "app", T0, 1, 0, 200);  /* prefix of app1 */
	store_probelog_append(&txn, "app10", T0, 0, 1, 0);
	assert_int_equal(store_txn_commit(&txn), 0);

	store_txn_begin(st, false, &txn);
	assert_int_equal(store_probelog_foreach(&txn, "app1", 0, run_cb, &rs),
	    0);
	assert_int_equal(rs.n, 3);
	assert_int_equal(rs.r[0].start_ms, T0);
	assert_int_equal(rs.r[0].last_ms, T0 + 4000);
	assert_int_equal(rs.r[0].count, 5);
	assert_int_equal(rs.r[0].status, 200);
	assert_int_equal(rs.r[1].start_ms, T0 + 5000);
	assert_int_equal(rs.r[1].count, 3);
	assert_int_equal(rs.r[1].reason, 2);
	assert_int_equal(rs.r[2].count, 2);
	assert_int_equal(rs.r[2].last_ms, T0 + 8000);	/* clamped */
	rs.n = 0;
	assert_int_equal(store_probelog_foreach(&txn, "app1", T0 + 6000, run_cb,
	    &rs), 0);
	assert_int_equal(rs.n, 2);
	rs.n = 0;
	assert_int_equal(store_probelog_foreach(&txn, NULL, 0, run_cb, &rs), 0);
	assert_int_equal(rs.n, 5);
	assert_string_equal(rs.stack[0], "app");
	assert_string_equal(rs.stack[4], "app10");
	assert_int_equal(store_txn_commit(&txn), 0);

	/* Many runs over many pages, then prune by age and by count. */
	store_txn_begin(st, true, &txn);
	for (int i = 0; i < 3000; i++)
		store_probelog_append(&txn, i % 3 ? "s1" : "s2",
		    T0 + 10000 + i, (uint8_t)(i / 3 % 2), 0, 200);
	assert_int_equal(store_txn_commit(&txn), 0);
	store_txn_begin(st, true, &txn);
	store_probelog_prune(&txn, T0 + 5000, 0, &removed);
	assert_int_equal(store_txn_commit(&txn), 0);
	assert_int_equal(removed, 3);		/* app1's first, app, app10 */
	store_txn_begin(st, true, &txn);
	store_probelog_prune(&txn, 0, 10, &removed);
	assert_int_equal(store_txn_commit(&txn), 0);
	assert_int_equal(removed, 1000 - 10 + 1000 - 10);
	rs.n = 0;
	store_txn_begin(st, false, &txn);
	assert_int_equal(store_probelog_foreach(&txn, NULL, 0, run_cb, &rs), 0);
	assert_int_equal(rs.n, 22);		/* 2 app1 + 10 s1 + 10 s2 */
	rs.n = 0;
	assert_int_equal(store_probelog_foreach(&txn, "s2", 0, run_cb, &rs), 0);
	assert_int_equal(rs.n, 10);
	assert_int_equal(rs.r[7].start_ms, T0 + 10000 + 2997 - 6);
	assert_int_equal(store_txn_commit(&txn), 0);
}

/*
 * Runs kept in memory (store_probe_run_next) and written in batches
 * (store_probelog_put), as the daemon does, give the records that one
 * append per outcome gives: the same rule, in one place.
 */
static void
test_probelog_batched(void **state)
{
	static const struct { int64_t at; uint8_t ok, reason; uint16_t st; }
	    seq[] = {
		{ 0, 1, 0, 200 }, { 1000, 1, 0, 200 }, { 2000, 1, 0, 200 },
		{ 2200, 0, 2, 0 }, { 2400, 0, 2, 0 }, { 2600, 0, 2, 0 },
		{ 7600, 0, 2, 0 }, { 12600, 0, 2, 0 }, { 12700, 1, 0, 200 },
		{ 12500, 1, 0, 200 } /* late: clamped */, { 12800, 1, 0, 503 },
	};
	struct fx *fx = *state;
	struct store *st = open_ok(fx, 0);
	struct store_txn txn;
	struct store_probe_run cur = { 0 }, old;
	struct runs a = { .n = 0 }, b = { .n = 0 };

	store_txn_begin(st, true, &txn);
	for (size_t i = 0; i < sizeof(seq) / sizeof(seq[0]); i++) {
		store_probelog_append(&txn, "one", T0 + seq[i].at, seq[i].ok,
		    seq[i].reason, seq[i].st);
		old = cur;
		if (!store_probe_run_next(&cur, T0 + seq[i].at, seq[i].ok,
		    seq[i].reason, seq[i].st) && old.count > 0)
			store_probelog_put(&txn, "batch", &old);
		if (i % 4 == 3)		/* a flush now and then */
			store_probelog_put(&txn, "batch", &cur);
	}
	store_probelog_put(&txn, "batch", &cur);
	assert_int_equal(store_txn_commit(&txn), 0);

	store_txn_begin(st, false, &txn);
	assert_int_equal(store_probelog_foreach(&txn, "one", 0, run_cb, &a), 0);
	assert_int_equal(store_probelog_foreach(&txn, "batch", 0, run_cb, &b),
	    0);
	assert_int_equal(store_txn_commit(&txn), 0);
	assert_int_equal(a.n, 5);	/* up, fast fails, slow fails, up, 503 */
	assert_int_equal(b.n, a.n);
	for (size_t i = 0; i < a.n; i++)
		assert_memory_equal(&a.r[i], &b.r[i], sizeof(a.r[i]));

	/* A bad run is refused, naming the stack. */
	store_txn_begin(st, true, &txn);
	memset(&cur, 0, sizeof(cur));
	assert_int_equal(store_probelog_put(&txn, "batch", &cur),
	    STORE_E_INVAL);
	store_txn_abort(&txn);
}

/* ---- the environment ---- */

static void
test_schema_refused(void **state)
{
	struct fx *fx = *state;
	struct store *st = NULL;
	uint8_t v99[4] = { 99, 0, 0, 0 }, v0[4] = { 0 }, buf[8];
	char err[256];

	put_group(open_ok(fx, 0), "www", "A");
	store_close(fx->st);
	fx->st = NULL;
	assert_int_equal(raw_get(fx->dir, "meta", "store.schema", 12, buf,
	    sizeof(buf)), 4);
	assert_int_equal(buf[0], STORE_SCHEMA_VERSION);

	raw_put(fx->dir, "meta", "store.schema", 12, v99, 4);
	assert_int_equal(store_open(fx->dir, 0, 0, &st, err, sizeof(err)),
	    STORE_E_SCHEMA);
	assert_null(st);
	assert_non_null(strstr(err, "99"));
	assert_non_null(strstr(err, "version 1"));
	assert_int_equal(store_open(fx->dir, 0, STORE_RDONLY, &st, err,
	    sizeof(err)), STORE_E_SCHEMA);
	/* Nothing changed. */
	assert_int_equal(raw_get(fx->dir, "meta", "store.schema", 12, buf,
	    sizeof(buf)), 4);
	assert_int_equal(buf[0], 99);
	assert_int_equal(raw_get(fx->dir, "groups", "www", 3, buf,
	    sizeof(buf)), 1);
	assert_int_equal(buf[0], 'A');

	raw_put(fx->dir, "meta", "store.schema", 12, v0, 4);
	assert_int_equal(store_open(fx->dir, 0, 0, &st, err, sizeof(err)),
	    STORE_E_SCHEMA);
	raw_put(fx->dir, "meta", "store.schema", 12, v0, 3);
	assert_int_equal(store_open(fx->dir, 0, 0, &st, err, sizeof(err)),
	    STORE_E_CORRUPT);
}

static void
test_missing_meta_is_corrupt(void **state)
{
	struct fx *fx = *state;
	struct store *st = NULL;
	char err[256];

	assert_int_equal(mkdir(fx->dir, 0700), 0);
	raw_put(fx->dir, "groups", "www", 3, "A", 1);
	assert_int_equal(store_open(fx->dir, 0, 0, &st, err, sizeof(err)),
	    STORE_E_CORRUPT);
	assert_non_null(strstr(err, "no meta"));
	raw_put(fx->dir, "meta", "other", 5, "x", 1);
	assert_int_equal(store_open(fx->dir, 0, 0, &st, err, sizeof(err)),
	    STORE_E_CORRUPT);
	assert_non_null(strstr(err, "no schema"));

	/* A file that is not LMDB at all. */
	FILE *f;
	char path[256];

	snprintf(path, sizeof(path), "%s/data.mdb", fx->tmp);
	assert_non_null(f = fopen(path, "w"));
	for (int i = 0; i < 4096; i++)
		fputc('z', f);
	fclose(f);
	assert_int_equal(store_open(fx->tmp, 0, 0, &st, err, sizeof(err)),
	    STORE_E_CORRUPT);
	assert_null(st);
}

static void
test_modes_and_paths(void **state)
{
	struct fx *fx = *state;
	struct store *st = NULL;
	struct stat sb;
	char path[256], err[256];
	mode_t old = umask(0);

	open_ok(fx, 0);
	umask(old);
	assert_int_equal(stat(fx->dir, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0700);
	snprintf(path, sizeof(path), "%s/data.mdb", fx->dir);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0600);
	snprintf(path, sizeof(path), "%s/lock.mdb", fx->dir);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0600);
	assert_string_equal(store_path(fx->st), fx->dir);

	/* A second handle in one process is refused. */
	assert_int_equal(store_open(fx->dir, 0, 0, &st, err, sizeof(err)),
	    STORE_E_BUSY);
	assert_null(st);
	assert_non_null(strstr(err, "already open"));

	/* Not a directory; a missing parent. */
	snprintf(path, sizeof(path), "%s/file", fx->tmp);
	assert_int_equal(close(open(path, O_WRONLY | O_CREAT, 0600)), 0);
	assert_int_equal(store_open(path, 0, 0, &st, err, sizeof(err)),
	    STORE_E_INVAL);
	assert_non_null(strstr(err, "not a directory"));
	assert_int_equal(store_open(path, 0, STORE_RDONLY, &st, err,
	    sizeof(err)), STORE_E_INVAL);
	snprintf(path, sizeof(path), "%s/no/such", fx->tmp);
	assert_int_equal(store_open(path, 0, 0, &st, err, sizeof(err)),
	    STORE_E_NOTFOUND);
	assert_int_equal(store_open("", 0, 0, &st, err, sizeof(err)),
	    STORE_E_INVAL);
	/* Read-only open of a directory with no state. */
	snprintf(path, sizeof(path), "%s/empty", fx->tmp);
	assert_int_equal(mkdir(path, 0700), 0);
	assert_int_equal(store_open(path, 0, STORE_RDONLY, &st, err,
	    sizeof(err)), STORE_E_NOTFOUND);
	assert_null(st);
}

/*
 * LMDB opens data.mdb and lock.mdb by name: a link planted there, a hard
 * link, another user's file, or a directory others may write is refused
 * before LMDB follows it, and the link's target is not created.
 */
static void
test_unsafe_files(void **state)
{
	struct fx *fx = *state;
	struct store *st = NULL;
	char path[256], target[256], err[256];
	struct stat sb;

	assert_int_equal(mkdir(fx->dir, 0700), 0);
	snprintf(target, sizeof(target), "%s/elsewhere", fx->tmp);
	snprintf(path, sizeof(path), "%s/data.mdb", fx->dir);
	assert_int_equal(symlink(target, path), 0);
	assert_int_equal(store_open(fx->dir, 0, 0, &st, err, sizeof(err)),
	    STORE_E_UNSAFE);
	assert_null(st);
	assert_non_null(strstr(err, "data.mdb is a symbolic link"));
	assert_int_equal(lstat(target, &sb), -1);
	assert_int_equal(store_open(fx->dir, 0, STORE_RDONLY, &st, err,
	    sizeof(err)), STORE_E_UNSAFE);
	unlink(path);

	/* A hard link to another file. */
	assert_int_equal(close(open(target, O_WRONLY | O_CREAT, 0600)), 0);
	assert_int_equal(link(target, path), 0);
	assert_int_equal(store_open(fx->dir, 0, 0, &st, err, sizeof(err)),
	    STORE_E_UNSAFE);
	assert_non_null(strstr(err, "has 2 links"));
	unlink(path);

	/* lock.mdb as a link. */
	snprintf(path, sizeof(path), "%s/lock.mdb", fx->dir);
	assert_int_equal(symlink(target, path), 0);
	assert_int_equal(store_open(fx->dir, 0, 0, &st, err, sizeof(err)),
	    STORE_E_UNSAFE);
	assert_non_null(strstr(err, "lock.mdb is a symbolic link"));
	unlink(path);
	snprintf(path, sizeof(path), "%s/data.mdb", fx->dir);
	unlink(path);

	/* Another user's file. */
	assert_int_equal(close(open(path, O_WRONLY | O_CREAT, 0600)), 0);
	assert_int_equal(chown(path, 65534, 65534), 0);
	assert_int_equal(store_open(fx->dir, 0, 0, &st, err, sizeof(err)),
	    STORE_E_UNSAFE);
	assert_non_null(strstr(err, "owned by uid 65534"));
	unlink(path);

	/* The directory: open to others, or another user's. */
	assert_int_equal(chmod(fx->dir, 0777), 0);
	assert_int_equal(store_open(fx->dir, 0, 0, &st, err, sizeof(err)),
	    STORE_E_UNSAFE);
	assert_non_null(strstr(err, "writable by group or others (mode 0777)"));
	assert_int_equal(chmod(fx->dir, 0700), 0);
	assert_int_equal(chown(fx->dir, 65534, 65534), 0);
	assert_int_equal(store_open(fx->dir, 0, 0, &st, err, sizeof(err)),
	    STORE_E_UNSAFE);
	assert_non_null(strstr(err, "owned by uid 65534"));
	assert_int_equal(chown(fx->dir, 0, 0), 0);
	assert_null(st);
	/* Once safe, it opens. */
	open_ok(fx, 0);
}

static void
test_readonly(void **state)
{
	struct fx *fx = *state;
	struct store *st = NULL;
	struct store_txn txn;
	char buf[32], err[256];
	struct passwd *pw;
	pid_t pid;
	int rc;

	put_group(open_ok(fx, 0), "www", "A");
	store_close(fx->st);
	fx->st = NULL;

	/* STORE_RDONLY reads, and refuses to write. */
	assert_int_equal(store_open(fx->dir, 0, STORE_RDONLY, &fx->st, err,
	    sizeof(err)), 0);
	get_group(fx->st, "www", buf, sizeof(buf));
	assert_string_equal(buf, "A");
	assert_int_equal(store_txn_begin(fx->st, true, &txn),
	    STORE_E_READONLY);
	assert_int_equal(store_txn_commit(&txn), STORE_E_READONLY);
	store_close(fx->st);
	fx->st = NULL;

	/*
	 * A state directory the process may not write.  Tests run as root,
	 * whom mode bits do not stop, so a child drops to nobody first.
	 */
	if ((pw = getpwnam("nobody")) == NULL)
		skip();
	assert_int_equal(chmod(fx->tmp, 0755), 0);
	char ro[192];
	snprintf(ro, sizeof(ro), "%s/ro", fx->tmp);
	assert_int_equal(mkdir(ro, 0555), 0);
	assert_int_equal(chmod(ro, 0555), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		bool dropped = false;

		alarm(10);
		if (getuid() == 0) {
			if (setgid(pw->pw_gid) != 0 ||
			    setuid(pw->pw_uid) != 0)
				_exit(77);
			dropped = true;
		}
		rc = store_open(ro, 0, 0, &st, err, sizeof(err));
		if (rc != STORE_E_READONLY)
			_exit(1);
		if (!dropped)
			_exit(0);
		/* The existing state, root's, 0600. */
		rc = store_open(fx->dir, 0, 0, &st, err, sizeof(err));
		_exit(rc == STORE_E_READONLY ? 0 : 2);
	}
	rc = wait_child(pid, 10000);
	if (rc == 77)
		skip();
	assert_int_equal(rc, 0);
	assert_string_equal(store_errname(STORE_E_READONLY), "readonly");
}

static void
test_map_full(void **state)
{
	struct fx *fx = *state;
	struct store *st = open_ok(fx, 64 * 1024);
	struct store_txn txn;
	char small[32], *big;
	size_t bigsize = 48 * 1024;
	int rc;

	put_group(st, "www", "A");
	big = malloc(bigsize);
	assert_non_null(big);
	memset(big, 'b', bigsize);
	store_txn_begin(st, true, &txn);
	store_group_put(&txn, "x", "1", 1);
	rc = store_group_put(&txn, "big", big, bigsize);
	if (rc == 0)
		rc = store_txn_commit(&txn);
	else
		assert_int_equal(store_txn_commit(&txn), rc);
	assert_int_equal(rc, STORE_E_MAP_FULL);
	assert_non_null(strstr(txn.detail, "MDB_MAP_FULL"));
	assert_non_null(store_strerror(rc));

	/* What was committed is there; the store takes smaller writes. */
	get_group(st, "www", small, sizeof(small));
	assert_string_equal(small, "A");
	get_group(st, "x", small, sizeof(small));
	assert_string_equal(small, "");
	put_group(st, "www", "B");
	get_group(st, "www", small, sizeof(small));
	assert_string_equal(small, "B");

	/* A bigger map (the configuration changed) takes the big write. */
	store_close(fx->st);
	fx->st = NULL;
	st = open_ok(fx, 1024 * 1024);
	store_txn_begin(st, true, &txn);
	store_group_put(&txn, "big", big, bigsize);
	assert_int_equal(store_txn_commit(&txn), 0);
	free(big);
}

/*
 * failoverctl may open the state with a larger map than the daemon's and
 * write past the daemon's map: the daemon's next transaction adopts the
 * larger map instead of failing.
 */
static void
test_map_resized(void **state)
{
	struct fx *fx = *state;
	struct store *st = open_ok(fx, 128 * 1024);
	struct store_txn txn;
	const void *b;
	size_t n;
	char buf[32];
	pid_t pid;

	put_group(st, "www", "A");
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct store *cs = NULL;
		struct store_txn t;
		static char blob[4096];
		char name[32];

		alarm(10);
		if (store_open(fx->dir, 4 * 1024 * 1024, 0, &cs, NULL, 0) != 0)
			_exit(1);
		store_txn_begin(cs, true, &t);
		for (int i = 0; i < 256; i++) {
			snprintf(name, sizeof(name), "g%03d", i);
			store_group_put(&t, name, blob, sizeof(blob));
		}
		store_group_put(&t, "www", "B", 1);
		_exit(store_txn_commit(&t) == 0 ? 0 : 2);
	}
	assert_int_equal(wait_child(pid, 10000), 0);
	get_group(st, "www", buf, sizeof(buf));
	assert_string_equal(buf, "B");
	store_txn_begin(st, false, &txn);
	assert_true(store_group_get(&txn, "g255", &b, &n));
	assert_int_equal(n, 4096);
	assert_int_equal(store_txn_commit(&txn), 0);
	put_group(st, "www", "C");
	get_group(st, "www", buf, sizeof(buf));
	assert_string_equal(buf, "C");
}

/*
 * Two processes: a reader's snapshot is not disturbed by another
 * process's commit, a writer is not blocked by a reader, a reader is not
 * blocked by a writer, and the generation shows the other's flags write.
 */
static void
test_two_processes(void **state)
{
	struct fx *fx = *state;
	struct store *st = open_ok(fx, 0);
	struct store_txn rd, wr;
	struct store_flags f;
	const void *b;
	size_t n;
	uint64_t gen;
	char buf[32], err[256];
	int p[2];
	pid_t pid;

	put_group(st, "www", "A");
	assert_int_equal(store_txn_begin(st, false, &rd), 0);

	/* Child writes B and a flag while we hold a read snapshot. */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct store *cs = NULL;
		struct store_txn t;
		struct store_flags cf;

		alarm(10);
		if (store_open(fx->dir, 0, 0, &cs, NULL, 0) != 0)
			_exit(1);
		store_txn_begin(cs, true, &t);
		store_group_put(&t, "www", "B", 1);
		memset(&cf, 0, sizeof(cf));
		cf.paused = true;
		store_flags_put(&t, "www", &cf);
		if (store_txn_commit(&t) != 0)
			_exit(2);
		store_close(cs);
		_exit(0);
	}
	assert_int_equal(wait_child(pid, 10000), 0);
	assert_true(store_group_get(&rd, "www", &b, &n));
	assert_memory_equal(b, "A", 1);		/* our snapshot */
	store_txn_abort(&rd);
	get_group(st, "www", buf, sizeof(buf));
	assert_string_equal(buf, "B");
	assert_int_equal(store_generation(st, &gen, err, sizeof(err)), 0);
	assert_int_equal(gen, 1);
	store_txn_begin(st, false, &rd);
	assert_true(store_flags_get(&rd, "www", &f));
	assert_true(f.paused);
	store_txn_abort(&rd);

	/* We hold the write lock; a child opens and reads the last commit. */
	store_txn_begin(st, true, &wr);
	store_group_put(&wr, "www", "C", 1);
	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct store *cs = NULL;
		struct store_txn t;
		const void *cb;
		size_t cn;
		char ok;

		close(p[0]);
		alarm(10);
		if (store_open(fx->dir, 0, 0, &cs, NULL, 0) != 0)
			_exit(1);
		store_txn_begin(cs, false, &t);
		ok = store_group_get(&t, "www", &cb, &cn) && cn == 1 &&
		    memcmp(cb, "B", 1) == 0 ? 'y' : 'n';
		store_txn_abort(&t);
		if (write(p[1], &ok, 1) != 1)
			_exit(3);
		store_close(cs);
		_exit(0);
	}
	close(p[1]);
	assert_int_equal(read_byte(p[0], 10000), 'y');
	close(p[0]);
	assert_int_equal(wait_child(pid, 10000), 0);
	assert_int_equal(store_txn_commit(&wr), 0);
	get_group(st, "www", buf, sizeof(buf));
	assert_string_equal(buf, "C");
}

/*
 * A reader killed in the middle of a read (failoverctl history | head)
 * must not pin the pages freed after its snapshot: rewriting a big
 * record many times in a small map would otherwise fill it.
 */
static void
test_stale_reader(void **state)
{
	struct fx *fx = *state;
	struct store *st = open_ok(fx, 256 * 1024);
	struct store_txn txn;
	static char blob[32 * 1024];
	int p[2], status;
	pid_t pid;

	put_group(st, "www", "A");
	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct store *cs = NULL;
		struct store_txn t;

		close(p[0]);
		alarm(10);
		if (store_open(fx->dir, 0, STORE_RDONLY, &cs, NULL, 0) != 0 ||
		    store_txn_begin(cs, false, &t) != 0 ||
		    write(p[1], "r", 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	close(p[1]);
	assert_int_equal(read_byte(p[0], 10000), 'r');
	close(p[0]);
	kill(pid, SIGKILL);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	for (int i = 0; i < 64; i++) {
		blob[0] = (char)i;
		store_txn_begin(st, true, &txn);
		store_group_put(&txn, "big", blob, sizeof(blob));
		if (store_txn_commit(&txn) != 0)
			fail_msg("rewrite %d: %s", i, txn.detail);
	}
}

/*
 * The crash: a child commits A, begins a write transaction, writes B (and
 * enough else to dirty many pages), says so, and is killed.  The last
 * commit must be intact, and the store writable (LMDB's robust writer
 * mutex is recovered from the dead owner).
 */
static void
test_crash_mid_txn(void **state)
{
	struct fx *fx = *state;
	struct store_txn txn;
	uint64_t bad, count;
	char buf[32], err[256];
	int p[2], status;
	pid_t pid;

	/* We keep the store open throughout, as the daemon would. */
	open_ok(fx, 0);
	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct store *cs = NULL;
		struct store_txn t;
		char name[32], blob[512];

		close(p[0]);
		alarm(20);
		if (store_open(fx->dir, 0, 0, &cs, NULL, 0) != 0)
			_exit(1);
		store_txn_begin(cs, true, &t);
		store_group_put(&t, "www", "A", 1);
		store_history_append(&t, T0, "www", "state", "A", NULL);
		if (store_txn_commit(&t) != 0)
			_exit(2);
		store_txn_begin(cs, true, &t);
		store_group_put(&t, "www", "B", 1);
		store_history_append(&t, T0 + 1, "www", "state", "B", NULL);
		memset(blob, 'x', sizeof(blob));
		for (int i = 0; i < 2000; i++) {
			snprintf(name, sizeof(name), "g%05d", i);
			store_group_put(&t, name, blob, sizeof(blob));
		}
		if (t.err != 0 || write(p[1], "w", 1) != 1)
			_exit(3);
		for (;;)
			pause();
	}
	close(p[1]);
	assert_int_equal(read_byte(p[0], 20000), 'w');
	close(p[0]);
	kill(pid, SIGKILL);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));

	get_group(fx->st, "www", buf, sizeof(buf));
	assert_string_equal(buf, "A");
	get_group(fx->st, "g00001", buf, sizeof(buf));
	assert_string_equal(buf, "");
	assert_int_equal(store_history_verify(fx->st, &bad, &count, err,
	    sizeof(err)), 0);
	assert_int_equal(bad, 0);
	assert_int_equal(count, 1);
	store_txn_begin(fx->st, true, &txn);
	store_group_put(&txn, "www", "C", 1);
	store_history_append(&txn, T0 + 2, "www", "state", "C", NULL);
	assert_int_equal(store_txn_commit(&txn), 0);
	reopen(fx);
	get_group(fx->st, "www", buf, sizeof(buf));
	assert_string_equal(buf, "C");
	assert_int_equal(store_history_verify(fx->st, &bad, &count, err,
	    sizeof(err)), 0);
	assert_int_equal(bad, 0);
	assert_int_equal(count, 2);
}

static void
test_errnames(void **state)
{
	(void)state;
	for (int e = STORE_OK; e >= STORE_E_UNSAFE; e--) {
		assert_string_not_equal(store_errname(e), "unknown");
		assert_string_not_equal(store_strerror(e), "unknown error");
	}
	assert_string_equal(store_errname(STORE_E_MAP_FULL), "map_full");
	assert_string_equal(store_errname(-99), "unknown");
}

/*
 * The journal entry carries the epoch it was written under (a cluster's
 * leadership), through the store and back; an entry of a controller alone
 * is what eng_group_encode() writes, and one written before the field
 * existed reads back as epoch 0.
 */
static void
test_journal_epoch(void **state)
{
	struct fx *fx = *state;
	static struct cfg_stack stacks[2];
	static struct cfg_group grp;
	struct config cfg;
	struct eng_group g, back;
	struct store_txn txn;
	const void *b;
	size_t n, blen, plen;
	char *blob = NULL, *plain = NULL, err[256];
	uint64_t epoch = 99;

	open_ok(fx, 0);
	memset(&cfg, 0, sizeof(cfg));
	memset(stacks, 0, sizeof(stacks));
	memset(&grp, 0, sizeof(grp));
	stacks[0].name = "app1";
	stacks[1].name = "app2";
	grp.name = "www";
	grp.address = "www.failover.example.net.";
	grp.primary = 0;
	grp.backup = 1;
	grp.ttl = 60;
	cfg.nstack = 2;
	cfg.stacks = stacks;
	cfg.ngroup = 1;
	cfg.groups = &grp;
	eng_group_init(&g, &cfg, 0, false);
	snprintf(g.sw.id, sizeof(g.sw.id), "www-1");
	g.nswitch = 1;

	assert_int_equal(eng_journal_encode(&g, &cfg, 42, &blob, &blen), 0);
	assert_non_null(strstr(blob, "\"epoch\":42"));
	assert_int_equal(store_txn_begin(fx->st, true, &txn), 0);
	store_journal_put(&txn, "www-1", blob, blen);
	assert_int_equal(store_txn_commit(&txn), 0);
	assert_int_equal(store_txn_begin(fx->st, false, &txn), 0);
	assert_true(store_journal_get(&txn, "www-1", &b, &n));
	assert_int_equal(eng_journal_decode(b, n, &cfg, &back, &epoch, err,
	    sizeof(err)), 0);
	store_txn_abort(&txn);
	assert_int_equal(epoch, 42);
	assert_string_equal(back.sw.id, "www-1");
	assert_int_equal(back.nswitch, 1);

	/* Alone (epoch 0): no field, the state's own encoding. */
	free(blob);
	assert_int_equal(eng_journal_encode(&g, &cfg, 0, &blob, &blen), 0);
	assert_int_equal(eng_group_encode(&g, &cfg, &plain, &plen), 0);
	assert_int_equal(blen, plen);
	assert_memory_equal(blob, plain, blen);
	/* An entry of before the field: readable, epoch 0. */
	epoch = 99;
	assert_int_equal(eng_journal_decode(plain, plen, &cfg, &back, &epoch,
	    err, sizeof(err)), 0);
	assert_int_equal(epoch, 0);
	/* A broken epoch is refused, not read as 0. */
	free(blob);
	blob = strdup("{\"v\":1,\"group\":\"www\",\"epoch\":\"x\"}");
	assert_int_equal(eng_journal_decode(blob, strlen(blob), &cfg, &back,
	    &epoch, err, sizeof(err)) < 0, 1);
	free(blob);
	free(plain);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_groups_journal_meta,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_sticky_error, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_flags, setup, teardown),
		cmocka_unit_test_setup_teardown(test_history_prune_anchor,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_year_of_flapping, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_addresses, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_history, setup, teardown),
		cmocka_unit_test_setup_teardown(test_history_tamper, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_history_prune, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_probelog, setup, teardown),
		cmocka_unit_test_setup_teardown(test_probelog_batched, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_schema_refused, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_missing_meta_is_corrupt,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_modes_and_paths, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_unsafe_files, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_readonly, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_map_full, setup, teardown),
		cmocka_unit_test_setup_teardown(test_map_resized, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_two_processes, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_stale_reader, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_crash_mid_txn, setup,
		    teardown),
		cmocka_unit_test(test_errnames),
		cmocka_unit_test_setup_teardown(test_journal_epoch, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
