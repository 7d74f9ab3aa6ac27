/*
 * storetool.c - a small command-line window on the LMDB state store, for
 * integration tests (two real processes, a writer killed with kill -9)
 * and for looking at a state_dir by hand.
 *
 *   storetool [-r] [-m MAPSIZE] DIR dump         every record, one per line
 *   storetool [-r] DIR verify                    the history chain
 *   storetool [-r] DIR gen                       the flags generation
 *   storetool DIR put-group NAME VALUE           one write transaction
 *   storetool DIR event GROUP EVENT PAYLOAD      append a history event
 *   storetool DIR pause GROUP                    set the paused flag
 *   storetool [-m MAPSIZE] DIR fill GROUP PERCENT  append flapping events
 *                                                until the history takes
 *                                                PERCENT % of the map
 *   storetool [-m MAPSIZE] DIR fillup GROUP      append events, 60,000-byte
 *                                                payloads, then 2,000, then
 *                                                1, each in its own write
 *                                                until the map is full: the
 *                                                whole map in one go, faster
 *                                                than a daemon's retention
 *                                                can give room back
 *   storetool [-r] DIR usage                     what the map holds
 *   storetool DIR hold NAME VALUE                begin a write, put, append
 *                                                an event, print "holding",
 *                                                then wait to be killed
 *
 * -r opens read-only.  Exit 0 done, 1 a store error (printed as
 * "error=NAME detail=..."), 2 usage; verify exits 1 on a broken chain.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "controller/store/store.h"

static int	 fail(int, const char *);
static void	 print_text(const char *, const void *, size_t);
static bool	 group_cb(const char *, const void *, size_t, void *);
static bool	 journal_cb(const char *, const void *, size_t, void *);
static bool	 flags_cb(const char *, const struct store_flags *, void *);
static bool	 addr_cb(const char *, const struct store_addr *, void *);
static bool	 event_cb(const struct store_event *, void *);
static bool	 run_cb(const char *, const struct store_probe_run *, void *);
static int64_t	 now_ms(void);

static int
fail(int rc, const char *detail)
{
	printf("error=%s detail=\"%s\"\n", store_errname(rc), detail);
	return 1;
}

/* Bytes as text when printable, else as hex. */
static void
print_text(const char *key, const void *p, size_t n)
{
	const unsigned char *s = p;
	bool text = true;

	for (size_t i = 0; i < n; i++)
		if (!isprint(s[i]) || s[i] == '"')
			text = false;
	printf(" %s=", key);
	if (text)
		printf("\"%.*s\"", (int)n, (const char *)s);
	else
		for (size_t i = 0; i < n; i++)
			printf("%02x", s[i]);
}

static bool
group_cb(const char *name, const void *blob, size_t len, void *arg)
{
	(void)arg;
	printf("group name=%s len=%zu", name, len);
	print_text("value", blob, len < 200 ? len : 200);
	printf("\n");
	return true;
}

static bool
journal_cb(const char *name, const void *blob, size_t len, void *arg)
{
	(void)arg;
	printf("journal id=%s len=%zu", name, len);
	print_text("value", blob, len < 200 ? len : 200);
	printf("\n");
	return true;
}

static bool
flags_cb(const char *group, const struct store_flags *f, void *arg)
{
	(void)arg;
	printf("flags group=%s paused=%d pinned=%s rearm=%d switch=%d "
	    "switch_to=%s force=%d request_id=%" PRIu64 " updated_ms=%"
	    PRId64 "\n", group, f->paused, f->pinned, f->rearm_requested,
	    f->switch_requested, f->switch_to, f->switch_force,
	    f->switch_request_id, f->updated_ms);
	return true;
}

static bool
addr_cb(const char *addr, const struct store_addr *a, void *arg)
{
	(void)arg;
	printf("address name=%s state=%s group=%s time_ms=%" PRId64 "\n", addr,
	    a->state == STORE_ADDR_TOMBSTONE ? "tombstone" : "allocated",
	    a->group, a->time_ms);
	return true;
}

static bool
event_cb(const struct store_event *ev, void *arg)
{
	(void)arg;
	printf("event seq=%" PRIu64 " ts_ms=%" PRId64 " group=%s event=%s "
	    "payload=%s hash=", ev->seq, ev->ts_ms, ev->group, ev->event,
	    ev->payload);
	for (int i = 0; i < 8; i++)
		printf("%02x", ev->hash[i]);
	printf("\n");
	return true;
}

static bool
run_cb(const char *stack, const struct store_probe_run *r, void *arg)
{
	(void)arg;
	printf("run stack=%s start_ms=%" PRId64 " last_ms=%" PRId64
	    " count=%" PRIu32 " result=%u reason=%u status=%u\n", stack,
	    r->start_ms, r->last_ms, r->count, r->result, r->reason,
	    r->status);
	return true;
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
main(int argc, char **argv)
{
	struct store *st = NULL;
	struct store_txn txn;
	struct store_flags f;
	char err[STORE_DETAIL_LEN];
	size_t map = 0;
	uint64_t gen, bad, count;
	int c, flags = 0, rc = 0;
	const char *dir, *cmd;

	while ((c = getopt(argc, argv, "rm:")) != -1) {
		switch (c) {
		case 'r':
			flags |= STORE_RDONLY;
			break;
		case 'm':
			map = strtoul(optarg, NULL, 0);
			break;
		default:
			return 2;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 2) {
		fprintf(stderr, "usage: storetool [-r] [-m MAPSIZE] DIR CMD "
		    "[ARGS]\n");
		return 2;
	}
	dir = argv[0];
	cmd = argv[1];
	if ((rc = store_open(dir, map, flags, &st, err, sizeof(err))) != 0)
		return fail(rc, err);

	if (strcmp(cmd, "dump") == 0) {
		if (store_generation(st, &gen, err, sizeof(err)) == 0)
			printf("meta schema=%d generation=%" PRIu64 "\n",
			    STORE_SCHEMA_VERSION, gen);
		store_txn_begin(st, false, &txn);
		store_group_foreach(&txn, group_cb, NULL);
		store_flags_foreach(&txn, flags_cb, NULL);
		store_journal_foreach(&txn, journal_cb, NULL);
		store_addr_foreach(&txn, addr_cb, NULL);
		store_history_foreach(&txn, 0, 0, NULL, event_cb, NULL);
		store_probelog_foreach(&txn, NULL, 0, run_cb, NULL);
		if ((rc = store_txn_commit(&txn)) != 0)
			rc = fail(rc, txn.detail);
	} else if (strcmp(cmd, "verify") == 0) {
		if ((rc = store_history_verify(st, &bad, &count, err,
		    sizeof(err))) != 0)
			rc = fail(rc, err);
		else if (bad != 0) {
			printf("bad seq=%" PRIu64 " reason=\"%s\"\n", bad, err);
			rc = 1;
		} else
			printf("ok events=%" PRIu64 "\n", count);
	} else if (strcmp(cmd, "gen") == 0) {
		if ((rc = store_generation(st, &gen, err, sizeof(err))) != 0)
			rc = fail(rc, err);
		else
			printf("%" PRIu64 "\n", gen);
	} else if (strcmp(cmd, "put-group") == 0 && argc == 4) {
		store_txn_begin(st, true, &txn);
		store_group_put(&txn, argv[2], argv[3], strlen(argv[3]));
		if ((rc = store_txn_commit(&txn)) != 0)
			rc = fail(rc, txn.detail);
	} else if (strcmp(cmd, "event") == 0 && argc == 5) {
		store_txn_begin(st, true, &txn);
		store_history_append(&txn, now_ms(), argv[2], argv[3], argv[4],
		    NULL);
		if ((rc = store_txn_commit(&txn)) != 0)
			rc = fail(rc, txn.detail);
	} else if (strcmp(cmd, "fill") == 0 && argc == 4) {
		struct store_usage u = { 0 };
		double pct = strtod(argv[3], NULL);
		int64_t t = now_ms() - 1000000;

		rc = 0;
		do {
			store_txn_begin(st, true, &txn);
			for (int i = 0; i < 200; i++)
				store_history_append(&txn, t++, argv[2],
				    "ttl_lowered", "{\"level\":\"info\","
				    "\"stack\":\"app1\",\"from\":\"60\","
				    "\"to\":\"5\"}", NULL);
			store_usage(&txn, &u);
			if ((rc = store_txn_commit(&txn)) != 0)
				rc = fail(rc, txn.detail);
		} while (rc == 0 && (double)u.history_bytes <
		    (double)u.map_bytes * pct / 100.0);
		if (rc == 0)
			printf("history_bytes=%zu map_bytes=%zu\n",
			    u.history_bytes, u.map_bytes);
	} else if (strcmp(cmd, "fillup") == 0 && argc == 3) {
		static const size_t sizes[] = { 60000, 2000, 1 };
		static char pl[60000 + 3];
		size_t n = 0;

		rc = 0;
		for (size_t k = 0; k < 3 && rc == 0; k++) {
			/* A JSON string of sizes[k] x's. */
			pl[0] = '"';
			memset(pl + 1, 'x', sizes[k]);
			pl[sizes[k] + 1] = '"';
			pl[sizes[k] + 2] = '\0';
			for (;;) {
				store_txn_begin(st, true, &txn);
				store_history_append(&txn, now_ms(), argv[2],
				    "filler", pl, NULL);
				if ((rc = store_txn_commit(&txn)) != 0)
					break;
				n++;
			}
			if (rc == STORE_E_MAP_FULL)
				rc = 0;		/* the next, smaller size */
			else
				rc = fail(rc, txn.detail);
		}
		if (rc == 0)
			printf("events=%zu error=map_full\n", n);
	} else if (strcmp(cmd, "usage") == 0) {
		struct store_usage u;

		store_txn_begin(st, false, &txn);
		store_usage(&txn, &u);
		if ((rc = store_txn_commit(&txn)) != 0)
			rc = fail(rc, txn.detail);
		else
			printf("map_bytes=%zu used_bytes=%zu history_bytes=%zu"
			    " history_events=%zu probelog_bytes=%zu"
			    " journal_bytes=%zu\n", u.map_bytes, u.used_bytes,
			    u.history_bytes, u.history_events,
			    u.probelog_bytes, u.journal_bytes);
	} else if (strcmp(cmd, "pause") == 0 && argc == 3) {
		store_txn_begin(st, true, &txn);
		store_flags_get(&txn, argv[2], &f);
		f.paused = true;
		f.updated_ms = now_ms();
		store_flags_put(&txn, argv[2], &f);
		if ((rc = store_txn_commit(&txn)) != 0)
			rc = fail(rc, txn.detail);
	} else if (strcmp(cmd, "hold") == 0 && argc == 4) {
		store_txn_begin(st, true, &txn);
		store_group_put(&txn, argv[2], argv[3], strlen(argv[3]));
		store_history_append(&txn, now_ms(), argv[2], "held",
		    argv[3], NULL);
		if (txn.err != 0)
			rc = fail(txn.err, txn.detail);
		else {
			printf("holding\n");
			fflush(stdout);
			for (;;)
				pause();
		}
		store_txn_abort(&txn);
	} else {
		fprintf(stderr, "storetool: bad command %s\n", cmd);
		rc = 2;
	}
	store_close(st);
	return rc;
}
