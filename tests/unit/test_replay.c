/*
 * test_replay.c - the replay of the probe log: run expansion, windows,
 * times on the command line, the source the simulator reads (status judged
 * again, timeouts capped), loading from a real store, and whole replays
 * whose outcome follows the thresholds of the configuration given.
 */
#include <sys/stat.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config/config.h"
#include "controller/sim/replay.h"
#include "controller/sim/simulate.h"
#include "controller/store/store.h"
#include "probes/probe.h"

#define T0	1795300000000LL		/* 2026-11-22T00:26:40Z */

static struct store_probe_run
mkrun(int64_t start, int64_t last, uint32_t count, int result, int reason,
    int status)
{
	struct store_probe_run r;

	memset(&r, 0, sizeof(r));
	r.start_ms = start;
	r.last_ms = last;
	r.count = count;
	r.result = (uint8_t)result;
	r.reason = (uint8_t)reason;
	r.status = (uint16_t)status;
	return r;
}

/* ---- run expansion ---- */

static void
test_run_time(void **state)
{
	static const struct {
		int64_t		start, last;
		uint32_t	count;
		int64_t		want[6];
	} t[] = {
		{ 1000, 1000, 1, { 1000 } },
		{ 1000, 2000, 2, { 1000, 2000 } },
		{ 1000, 2000, 3, { 1000, 1500, 2000 } },
		{ 0, 10, 4, { 0, 3, 6, 10 } },		/* rounded down */
		{ 0, 1000, 5, { 0, 250, 500, 750, 1000 } },
		{ 500, 500, 3, { 500, 500, 500 } },	/* same millisecond */
		{ 900, 100, 3, { 900, 900, 900 } },	/* bad: last < start */
		{ -1000, 1000, 3, { -1000, 0, 1000 } },
	};
	struct store_probe_run r;

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		r = mkrun(t[i].start, t[i].last, t[i].count, 1, 0, 200);
		for (uint32_t k = 0; k < t[i].count; k++)
			assert_int_equal(replay_run_time(&r, k), t[i].want[k]);
	}
	/* A week of outcomes, a full run: no overflow, monotonic, exact ends. */
	r = mkrun(T0, T0 + 7LL * 86400000, UINT32_MAX, 0, 1, 0);
	assert_int_equal(replay_run_time(&r, 0), T0);
	assert_int_equal(replay_run_time(&r, UINT32_MAX - 1), T0 + 7LL * 86400000);
	assert_int_equal(replay_run_time(&r, UINT32_MAX / 2),
	    T0 + (int64_t)((7ULL * 86400000 * (UINT32_MAX / 2)) /
	    (UINT32_MAX - 1)));
	for (uint32_t k = 1; k < 100000; k += 997)
		assert_true(replay_run_time(&r, k) >= replay_run_time(&r, k - 1));
}

/* ---- times ---- */

static void
test_parse_time(void **state)
{
	static const struct {
		const char	*s;
		int64_t		 want;	/* -1: refused */
	} t[] = {
		{ "24h", T0 - 86400000LL },
		{ "7d", T0 - 7 * 86400000LL },
		{ "1d12h", T0 - 36 * 3600000LL },
		{ "90m", T0 - 90 * 60000LL },
		{ "0s", T0 },
		{ "250ms", T0 - 250 },
		{ "2026-11-22", 1795305600000LL },
		{ "2026-11-22T01:30Z", 1795311000000LL },
		{ "2026-11-22T01:30:00Z", 1795311000000LL },
		{ "2026-11-22T01:30:00.25Z", 1795311000250LL },
		{ "2026-11-22T01:30:00.123456Z", 1795311000123LL },
		{ "2026-11-22 01:30:05", 1795311005000LL },
		{ "1970-01-01T00:00:00Z", 0 },
		{ "", -1 },
		{ "yesterday", -1 },
		{ "7", -1 },
		{ "d", -1 },
		{ "7x", -1 },
		{ "1.5h", -1 },
		{ "7d1", -1 },
		{ "2026-13-01", -1 },
		{ "2026-02-30", -1 },
		{ "2026-11-22T25:00Z", -1 },
		{ "2026-11-22T01:30:00.Z", -1 },
		{ "2026-11-22T01:30:00+01:00", -1 },
		{ "1969-12-31", -1 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		int64_t ms = 42;
		int rc = replay_parse_time(t[i].s, T0, &ms);

		if (t[i].want == -1) {
			if (rc != -1)
				print_error("accepted: %s\n", t[i].s);
			assert_int_equal(rc, -1);
			assert_int_equal(ms, 42);
		} else {
			if (rc != 0 || ms != t[i].want)
				print_error("%s: rc %d, %lld\n", t[i].s, rc,
				    (long long)ms);
			assert_int_equal(rc, 0);
			assert_int_equal(ms, t[i].want);
		}
	}
	assert_int_equal(replay_parse_time(NULL, T0, &(int64_t){ 0 }), -1);
}

static void
test_format_time(void **state)
{
	char buf[40];
	int64_t back;

	(void)state;
	replay_format_time(1795311000250LL, buf, sizeof(buf));
	assert_string_equal(buf, "2026-11-22T01:30:00.250Z");
	replay_format_time(0, buf, sizeof(buf));
	assert_string_equal(buf, "1970-01-01T00:00:00.000Z");
	replay_format_time(T0 + 7, buf, sizeof(buf));
	assert_int_equal(replay_parse_time(buf, 0, &back), 0);
	assert_int_equal(back, T0 + 7);
}

/* ---- windows ---- */

static void
test_window(void **state)
{
	struct replay *rp;
	struct store_probe_run r;
	int64_t first = 1, last = 2;

	(void)state;
	/* Outcomes at 1000, 1250, ..., 3000 (9) and at 5000, 6000 (2). */
	assert_non_null(rp = replay_new(2, 1200, 5500));
	assert_false(replay_span(rp, &first, &last));
	assert_int_equal(first, 1);
	r = mkrun(1000, 3000, 9, 1, 0, 200);
	assert_int_equal(replay_add(rp, 0, &r), 0);
	r = mkrun(5000, 6000, 2, 0, PROBE_R_CONNECT, 0);
	assert_int_equal(replay_add(rp, 0, &r), 0);
	r = mkrun(100, 900, 3, 1, 0, 200);	/* before the window */
	assert_int_equal(replay_add(rp, 0, &r), 0);
	r = mkrun(5600, 9000, 3, 1, 0, 200);	/* after it */
	assert_int_equal(replay_add(rp, 0, &r), 0);
	r = mkrun(0, 0, 0, 1, 0, 200);		/* empty */
	assert_int_equal(replay_add(rp, 0, &r), 0);
	r = mkrun(1000, 2000, 2, 1, 0, 200);	/* no such stack */
	assert_int_equal(replay_add(rp, 2, &r), 0);
	assert_int_equal(replay_add(rp, -1, &r), 0);
	assert_int_equal(replay_runs(rp, 0), 2);
	/* 1250 ... 3000 is 8 outcomes; 5000 is one. */
	assert_int_equal(replay_outcomes(rp, 0), 9);
	assert_int_equal(replay_runs(rp, 1), 0);
	assert_int_equal(replay_outcomes(rp, 1), 0);
	assert_int_equal(replay_outcomes(rp, 7), 0);
	assert_true(replay_span(rp, &first, &last));
	assert_int_equal(first, 1250);
	assert_int_equal(last, 5000);
	/* Stack 1 has earlier outcomes: they start the clock. */
	r = mkrun(1200, 1200, 1, 1, 0, 200);
	assert_int_equal(replay_add(rp, 1, &r), 0);
	assert_true(replay_span(rp, &first, &last));
	assert_int_equal(first, 1200);
	replay_free(rp);
	replay_free(NULL);

	/* Bounds are inclusive. */
	assert_non_null(rp = replay_new(1, 2000, 2000));
	r = mkrun(1000, 3000, 3, 1, 0, 200);
	assert_int_equal(replay_add(rp, 0, &r), 0);
	assert_int_equal(replay_outcomes(rp, 0), 1);
	replay_free(rp);
}

/* ---- a configuration ---- */

struct fx {
	char		 tmp[64];
	char		 path[128];
	struct config	*cfg;
};

static void
write_conf(struct fx *fx, int fall, int64_t timeout_ms)
{
	FILE *f;
	struct config_errors errs = { 0 };

	snprintf(fx->path, sizeof(fx->path), "%s/f.conf", fx->tmp);
	assert_non_null(f = fopen(fx->path, "w"));
	fprintf(f,
	    "[controller]\nstate_dir = %s/state\nlisten = off\n"
	    "[dns]\nserver = 192.0.2.2:53\nzone = failover.example.net\n"
	    "key_file = hmac-sha256:k:c2ltdWxhdGlvbi1vbmx5LW5vdC1hLXJlYWwta2V5IQ==\n",
	    fx->tmp);
	for (int i = 0; i < 2; i++)
		fprintf(f,
		    "[stack %s]\nweb_head = %s.example.net\n"
		    "health_url = http://192.0.2.1%d/health\n"
		    "standby_expect_status = 200-399,503\n"
		    "interval = 1s\nfastinter = 200ms\ndowninter = 5s\n"
		    "timeout = %lldms\nrise = 2\nfall = %d\n"
		    "maintenance_on = /bin/true on\n"
		    "maintenance_off = /bin/true off\n"
		    "replication_off = /bin/true repl\n"
		    "promote = /bin/true promote\n",
		    i ? "b" : "a", i ? "b" : "a", i, (long long)timeout_ms,
		    fall);
	fprintf(f, "[group g]\naddress = www\nprimary = a\nbackup = b\n"
	    "ttl = 60s\nhold_down = 10m\n");
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(fx->path, 0600), 0);	/* an inline key */
	config_free(fx->cfg);
	fx->cfg = NULL;
	if (config_load(fx->path, &fx->cfg, &errs) != 0)
		for (size_t i = 0; i < errs.n; i++)
			print_error("%s\n", errs.msg[i]);
	assert_non_null(fx->cfg);
	config_errors_free(&errs);
}

static int
setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));

	if (fx == NULL)
		return -1;
	snprintf(fx->tmp, sizeof(fx->tmp), "/tmp/test_replay.XXXXXX");
	if (mkdtemp(fx->tmp) == NULL)
		return -1;
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *fx = *state;
	char cmd[128];

	config_free(fx->cfg);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx->tmp);
	if (system(cmd) != 0)
		return -1;
	free(fx);
	return 0;
}

/* ---- the source ---- */

static void
test_source(void **state)
{
	struct fx *fx = *state;
	struct replay *rp;
	struct store_probe_run r;
	struct sim_source src;
	struct sim_probe p;

	write_conf(fx, 3, 500);
	assert_non_null(rp = replay_new(2, INT64_MIN, INT64_MAX));
	/* Added out of order: the source sorts. */
	r = mkrun(T0 + 2000, T0 + 2000, 1, 0, PROBE_R_TIMEOUT, 0);
	assert_int_equal(replay_add(rp, 0, &r), 0);
	r = mkrun(T0 + 2200, T0 + 2300, 2, 0, PROBE_R_TIMEOUT, 0);
	assert_int_equal(replay_add(rp, 0, &r), 0);
	r = mkrun(T0, T0 + 1000, 2, 1, PROBE_R_OK, 200);
	assert_int_equal(replay_add(rp, 0, &r), 0);
	r = mkrun(T0 + 500, T0 + 500, 1, 1, PROBE_R_OK, 503);
	assert_int_equal(replay_add(rp, 1, &r), 0);
	r = mkrun(T0 + 1500, T0 + 1500, 1, 0, PROBE_R_STATUS, 503);
	assert_int_equal(replay_add(rp, 1, &r), 0);
	r = mkrun(T0 + 1600, T0 + 1600, 1, 0, PROBE_R_BODY, 200);
	assert_int_equal(replay_add(rp, 1, &r), 0);
	r = mkrun(T0 + 1700, T0 + 1700, 1, 0, PROBE_R_OK, 0);
	assert_int_equal(replay_add(rp, 1, &r), 0);
	replay_source(rp, fx->cfg, &src);
	assert_non_null(src.next);

	/* Stack a: 0, 1000 ok; 2000 timeout; 2200, 2300 timeouts. */
	assert_int_equal(src.next(src.ctx, 0), 0);
	src.probe(src.ctx, 0, 0, true, &p);
	assert_true(p.ok);
	assert_int_equal(p.latency_ms, 0);
	assert_int_equal(src.next(src.ctx, 0), 1000);
	src.probe(src.ctx, 0, 1000, true, &p);
	assert_true(p.ok);
	assert_int_equal(src.next(src.ctx, 0), 2000);
	src.probe(src.ctx, 0, 2000, true, &p);
	assert_false(p.ok);
	assert_int_equal(p.reason, PROBE_R_TIMEOUT);
	assert_int_equal(p.latency_ms, 200);	/* capped by the next, 2200 */
	assert_int_equal(src.next(src.ctx, 0), 2200);
	src.probe(src.ctx, 0, 2200, true, &p);
	assert_int_equal(p.latency_ms, 100);
	src.probe(src.ctx, 0, 2300, true, &p);
	assert_int_equal(p.latency_ms, 500);	/* the last: the timeout */
	assert_int_equal(src.next(src.ctx, 0), -1);
	assert_int_equal(src.next(src.ctx, 5), -1);

	/* Stack b: a 503 is judged by the role it has in the replay. */
	assert_int_equal(src.next(src.ctx, 1), 500);
	src.probe(src.ctx, 1, 500, true, &p);	/* active: 503 fails */
	assert_false(p.ok);
	assert_int_equal(p.reason, PROBE_R_STATUS);
	src.probe(src.ctx, 1, 1500, false, &p);	/* standby: 503 passes */
	assert_true(p.ok);
	assert_int_equal(p.reason, PROBE_R_OK);
	src.probe(src.ctx, 1, 1600, false, &p);	/* the body: stays failed */
	assert_false(p.ok);
	assert_int_equal(p.reason, PROBE_R_BODY);
	src.probe(src.ctx, 1, 1700, false, &p);	/* a failure without reason */
	assert_false(p.ok);
	assert_int_equal(p.reason, PROBE_R_INTERNAL);
	assert_int_equal(src.next(src.ctx, 1), -1);

	/* Rewound by replay_source. */
	replay_source(rp, fx->cfg, &src);
	assert_int_equal(src.next(src.ctx, 0), 0);
	assert_int_equal(src.next(src.ctx, 1), 500);
	replay_free(rp);
}

/* ---- whole replays ---- */

/*
 * a: up for 10 s at 1 s, then refused 8 times at 200 ms (10.2 to 11.6 s),
 * then 3 more times at 5 s (16.6 to 26.6 s): 11 failures in a row.
 * b: standby in maintenance (503) every second.
 */
static void
fill(struct replay *rp)
{
	struct store_probe_run r;

	r = mkrun(T0, T0 + 10000, 11, 1, PROBE_R_OK, 200);
	assert_int_equal(replay_add(rp, 0, &r), 0);
	r = mkrun(T0 + 10200, T0 + 11600, 8, 0, PROBE_R_CONNECT, 0);
	assert_int_equal(replay_add(rp, 0, &r), 0);
	r = mkrun(T0 + 16600, T0 + 26600, 3, 0, PROBE_R_CONNECT, 0);
	assert_int_equal(replay_add(rp, 0, &r), 0);
	r = mkrun(T0 + 500, T0 + 29500, 30, 1, PROBE_R_OK, 503);
	assert_int_equal(replay_add(rp, 1, &r), 0);
}

static char *
run_replay(struct fx *fx, struct replay *rp, int64_t end_ms,
    struct sim_stats *stats)
{
	struct sim_source src;
	struct sim_options opt = { 0 };
	struct scn_event end = { 0 };
	struct scenario scn = { 0 };
	char *buf = NULL;
	size_t len = 0;

	replay_source(rp, fx->cfg, &src);
	opt.source = &src;
	assert_non_null(opt.out = open_memstream(&buf, &len));
	end.kind = SCN_END;
	end.at_ms = end_ms;
	end.stack_idx = end.group_idx = -1;
	scn.n = 1;
	scn.ev = &end;
	scn.end_ms = end_ms;
	assert_int_equal(sim_run(fx->cfg, &scn, &opt, stats), 0);
	assert_int_equal(fclose(opt.out), 0);
	return buf;
}

static void
assert_has(const char *out, const char *want)
{
	if (strstr(out, want) == NULL)
		print_error("no \"%s\" in:\n%s", want, out);
	assert_non_null(strstr(out, want));
}

static void
test_replay_thresholds(void **state)
{
	struct fx *fx = *state;
	struct replay *rp;
	struct sim_stats st;
	char *out, *out2;

	/* fall = 3: down at the third refusal (10.6 s), a switch. */
	write_conf(fx, 3, 500);
	assert_non_null(rp = replay_new(2, INT64_MIN, INT64_MAX));
	fill(rp);
	out = run_replay(fx, rp, 40000, &st);
	assert_has(out, "    10.600 health_change stack=a from=up to=down"
	    " reason=connect\n");
	assert_has(out, "    10.600 switch_started group=g id=g-10600 from=a"
	    " to=b reason=auto");
	assert_has(out, " switch_finished group=g ");
	assert_has(out, "    40.000 end\n");
	/* The outage began at the first refusal: 10.2 s. */
	assert_has(out, "summary group=g status=wait_rearm active=b switches=1"
	    " completed=1 failed=0 time_failed_ms=0 outage_to_flip_ms=1220"
	    " detect_ms=400\n");
	assert_int_equal(st.probes, 11 + 8 + 3 + 30);
	/* Same input, same output. */
	out2 = run_replay(fx, rp, 40000, NULL);
	assert_string_equal(out, out2);
	free(out);
	free(out2);

	/* fall = 12: eleven refusals in a row, never twelve: no switch. */
	write_conf(fx, 12, 500);
	out = run_replay(fx, rp, 40000, &st);
	assert_has(out, "    10.200 health_suspect stack=a reason=connect\n");
	assert_null(strstr(out, "switch_started"));
	assert_null(strstr(out, "to=down"));
	assert_int_equal(st.switches, 0);
	free(out);

	/* fall = 11: the eleventh failure, at 26.6 s, takes it down. */
	write_conf(fx, 11, 500);
	out = run_replay(fx, rp, 40000, &st);
	assert_has(out, "    26.600 health_change stack=a from=up to=down");
	assert_int_equal(st.switches, 1);
	free(out);
	replay_free(rp);

	/* A window that leaves out the outage. */
	write_conf(fx, 3, 500);
	assert_non_null(rp = replay_new(2, INT64_MIN, T0 + 10000));
	fill(rp);
	out = run_replay(fx, rp, 20000, &st);
	assert_null(strstr(out, "switch_started"));
	assert_int_equal(st.probes, 11 + 10);
	free(out);
	replay_free(rp);
}

/* A stack with no outcome at all stays unknown: no switch to it. */
static void
test_replay_no_data(void **state)
{
	struct fx *fx = *state;
	struct replay *rp;
	struct store_probe_run r;
	char *out;

	write_conf(fx, 3, 500);
	assert_non_null(rp = replay_new(2, INT64_MIN, INT64_MAX));
	r = mkrun(T0, T0 + 5000, 6, 1, PROBE_R_OK, 200);
	assert_int_equal(replay_add(rp, 0, &r), 0);
	r = mkrun(T0 + 5200, T0 + 8000, 10, 0, PROBE_R_TIMEOUT, 0);
	assert_int_equal(replay_add(rp, 0, &r), 0);
	out = run_replay(fx, rp, 20000, NULL);
	assert_has(out, "health_change stack=a from=up to=down reason=timeout");
	assert_null(strstr(out, "health_change stack=b"));
	assert_null(strstr(out, "switch_started"));
	free(out);
	replay_free(rp);
}

/* ---- from a real store ---- */

static void
test_load_store(void **state)
{
	struct fx *fx = *state;
	struct store *st = NULL;
	struct store_txn txn;
	struct replay *rp;
	char dir[128], err[256];
	int64_t first, last;

	write_conf(fx, 3, 500);
	snprintf(dir, sizeof(dir), "%s/state", fx->tmp);
	assert_int_equal(store_open(dir, 0, 0, &st, err, sizeof(err)), 0);
	assert_int_equal(store_txn_begin(st, true, &txn), 0);
	for (int i = 0; i < 10; i++)
		store_probelog_append(&txn, "a", T0 + i * 1000, 1, 0, 200);
	for (int i = 10; i < 13; i++)
		store_probelog_append(&txn, "a", T0 + i * 1000, 0,
		    PROBE_R_CONNECT, 0);
	/* Not in the configuration: never read. */
	store_probelog_append(&txn, "c", T0 + 5000, 0, PROBE_R_CONNECT, 0);
	store_probelog_append(&txn, "ab", T0 + 20000, 0, PROBE_R_CONNECT, 0);
	assert_int_equal(store_txn_commit(&txn), 0);
	store_close(st);

	assert_int_equal(store_open(dir, 0, STORE_RDONLY, &st, err,
	    sizeof(err)), 0);
	assert_non_null(rp = replay_new(fx->cfg->nstack, T0 + 2000,
	    INT64_MAX));
	assert_int_equal(store_txn_begin(st, false, &txn), 0);
	assert_int_equal(replay_load(rp, &txn, fx->cfg), 0);
	assert_int_equal(store_txn_commit(&txn), 0);
	store_close(st);
	assert_int_equal(replay_runs(rp, 0), 2);
	assert_int_equal(replay_outcomes(rp, 0), 11);	/* 2 s .. 12 s */
	assert_int_equal(replay_runs(rp, 1), 0);	/* b: no log */
	assert_true(replay_span(rp, &first, &last));
	assert_int_equal(first, T0 + 2000);
	assert_int_equal(last, T0 + 12000);
	replay_free(rp);
}

/*
 * The store starts a new run where the pace changes, so that the replay
 * puts every outcome back at its time: a fastinter burst, then downinter,
 * then a gap (the daemon stopped), then interval again.
 */
static void
test_store_pace(void **state)
{
	static const int64_t at[] = {
	    0, 1000, 2000, 3000,		/* ok at interval */
	    4000, 4200, 4400, 9400, 14400,	/* refused: fastinter, downinter */
	    3600000, 3601000, 3602000,		/* refused again an hour later */
	    3603010, 3604000 };			/* within the jitter */
	struct fx *fx = *state;
	struct store *st = NULL;
	struct store_txn txn;
	struct replay *rp;
	struct sim_source src;
	struct sim_probe p;
	char dir[128], err[256];
	size_t n = sizeof(at) / sizeof(at[0]);

	write_conf(fx, 3, 500);
	snprintf(dir, sizeof(dir), "%s/state", fx->tmp);
	assert_int_equal(store_open(dir, 0, 0, &st, err, sizeof(err)), 0);
	assert_int_equal(store_txn_begin(st, true, &txn), 0);
	for (size_t i = 0; i < n; i++)
		store_probelog_append(&txn, "a", T0 + at[i], i < 4,
		    i < 4 ? PROBE_R_OK : PROBE_R_CONNECT, i < 4 ? 200 : 0);
	assert_int_equal(store_txn_commit(&txn), 0);
	assert_non_null(rp = replay_new(fx->cfg->nstack, INT64_MIN,
	    INT64_MAX));
	assert_int_equal(store_txn_begin(st, false, &txn), 0);
	assert_int_equal(replay_load(rp, &txn, fx->cfg), 0);
	assert_int_equal(store_txn_commit(&txn), 0);
	store_close(st);
	/* [0..3000] [4000..4400] [9400, 14400] [3600000..3604000] */
	assert_int_equal(replay_runs(rp, 0), 4);
	assert_int_equal(replay_outcomes(rp, 0), n);
	replay_source(rp, fx->cfg, &src);
	for (size_t i = 0; i < n; i++) {
		int64_t want = at[i];

		if (i == n - 2)		/* spread evenly, not 3603010 */
			want = 3603000;
		assert_int_equal(src.next(src.ctx, 0), want);
		src.probe(src.ctx, 0, want, true, &p);
		assert_int_equal(p.ok, i < 4);
	}
	assert_int_equal(src.next(src.ctx, 0), -1);
	replay_free(rp);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_run_time),
		cmocka_unit_test(test_parse_time),
		cmocka_unit_test(test_format_time),
		cmocka_unit_test(test_window),
		cmocka_unit_test_setup_teardown(test_source, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replay_thresholds, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_replay_no_data, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_load_store, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_store_pace, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
