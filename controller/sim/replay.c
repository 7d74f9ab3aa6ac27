/*
 * replay.c - `failoverd simulate --replay`: probe-log runs in, the
 * simulator's events out.
 *
 * Runs are copied out of the store (24 bytes each; a week of a stack is at
 * most 100,000 runs) and expanded lazily: each stack has a cursor (run,
 * outcome within the run), and the time of outcome k is computed from the
 * run when the simulator asks for it, so a week of 1 s probes of 100
 * stacks costs the runs, not 60 million outcomes.
 *
 * Each run also records which of its outcomes fall in the window (k0 to
 * k1, exclusive): a run straddling --since or --until contributes only
 * the outcomes inside.
 *
 * Output: the simulator's lines, framed by `replay` and `replay_stack`
 * lines at 0 (the window in UTC, what each stack contributed, and the
 * stacks without data) and a last `summary` line with the window in UTC.
 * Every line depends only on the store's content, the configuration and
 * the window: no wall clock (unless --since/--until count back from now).
 */
#include "controller/sim/replay.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config/config.h"
#include "controller/sim/scenario.h"
#include "controller/sim/simulate.h"
#include "controller/store/store.h"
#include "probes/probe.h"

struct rrun {
	struct store_probe_run	run;
	uint32_t		k0, k1;	/* outcomes in the window */
};

struct rstack {
	struct rrun	*v;
	size_t		 n, cap;
	uint64_t	 outcomes;
	bool		 sorted;
	size_t		 r;		/* cursor: run */
	uint32_t	 k;		/* cursor: outcome in the run */
};

struct replay {
	size_t			 nstack;
	int64_t			 since, until;
	struct rstack		*st;
	const struct config	*cfg;	/* of the source */
	int64_t			 t0;	/* wall ms of virtual 0 */
};

/* A line of our own, in the simulator's format. */
struct rline {
	FILE	*f;
	bool	 json;
	char	 buf[1024];
	size_t	 len;
};

static void	 src_probe(void *, int, int64_t, bool, struct sim_probe *);
static int64_t	 src_next(void *, int);
static void	 rl_begin(struct rline *, int64_t, const char *);
static void	 rl_kv(struct rline *, const char *, const char *);
static void	 rl_num(struct rline *, const char *, long long);
static void	 rl_end(struct rline *);

/* ---- runs ---- */

int64_t
replay_run_time(const struct store_probe_run *run, uint32_t k)
{
	uint64_t span, n, q, rem;

	if (run->count <= 1 || k == 0 || run->last_ms <= run->start_ms)
		return run->start_ms;
	if (k >= run->count - 1)
		return run->last_ms;
	/* start + span * k / (count - 1), without overflow. */
	span = (uint64_t)run->last_ms - (uint64_t)run->start_ms;
	n = run->count - 1;
	q = span / n;
	rem = span % n;
	return (int64_t)((uint64_t)run->start_ms + q * k + rem * k / n);
}

/* The first k of run whose time is > t (after_eq false) or >= t (true). */
static uint32_t
first_k(const struct store_probe_run *run, int64_t t, bool after_eq)
{
	uint32_t lo = 0, hi = run->count;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		int64_t tm = replay_run_time(run, mid);

		if (after_eq ? tm >= t : tm > t)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

struct replay *
replay_new(size_t nstack, int64_t since_ms, int64_t until_ms)
{
	struct replay *rp;

	if ((rp = calloc(1, sizeof(*rp))) == NULL)
		return NULL;
	if ((rp->st = calloc(nstack ? nstack : 1, sizeof(*rp->st))) == NULL) {
		free(rp);
		return NULL;
	}
	rp->nstack = nstack;
	rp->since = since_ms;
	rp->until = until_ms;
	return rp;
}

void
replay_free(struct replay *rp)
{
	if (rp == NULL)
		return;
	for (size_t i = 0; i < rp->nstack; i++)
		free(rp->st[i].v);
	free(rp->st);
	free(rp);
}

int
replay_add(struct replay *rp, int stack, const struct store_probe_run *run)
{
	struct rstack *st;
	struct rrun *rr;
	uint32_t k0, k1;

	if (stack < 0 || (size_t)stack >= rp->nstack || run->count == 0)
		return 0;
	k0 = first_k(run, rp->since, true);
	k1 = first_k(run, rp->until, false);
	if (k0 >= k1)
		return 0;	/* wholly outside the window */
	st = &rp->st[stack];
	if (st->n == st->cap) {
		size_t cap = st->cap ? st->cap * 2 : 64;
		struct rrun *v = realloc(st->v, cap * sizeof(*v));

		if (v == NULL)
			return -1;
		st->v = v;
		st->cap = cap;
	}
	rr = &st->v[st->n++];
	rr->run = *run;
	rr->k0 = k0;
	rr->k1 = k1;
	st->outcomes += k1 - k0;
	st->sorted = false;
	return 0;
}

struct load_ctx {
	struct replay	*rp;
	int		 stack;
	bool		 nomem;
};

static bool
load_cb(const char *stack, const struct store_probe_run *run, void *arg)
{
	struct load_ctx *lc = arg;

	(void)stack;
	if (replay_add(lc->rp, lc->stack, run) != 0) {
		lc->nomem = true;
		return false;
	}
	return true;
}

int
replay_load(struct replay *rp, struct store_txn *txn, const struct config *cfg)
{
	struct load_ctx lc = { rp, 0, false };
	int rc;

	for (size_t i = 0; i < cfg->nstack && i < rp->nstack; i++) {
		lc.stack = (int)i;
		rc = store_probelog_foreach(txn, cfg->stacks[i].name, rp->since,
		    load_cb, &lc);
		if (lc.nomem)
			return STORE_E_NOMEM;
		if (rc != 0)
			return rc;
	}
	return 0;
}

size_t
replay_runs(const struct replay *rp, int stack)
{
	return stack >= 0 && (size_t)stack < rp->nstack ? rp->st[stack].n : 0;
}

uint64_t
replay_outcomes(const struct replay *rp, int stack)
{
	return stack >= 0 && (size_t)stack < rp->nstack ?
	    rp->st[stack].outcomes : 0;
}

bool
replay_span(const struct replay *rp, int64_t *first_ms, int64_t *last_ms)
{
	int64_t first = INT64_MAX, last = INT64_MIN;
	bool any = false;

	for (size_t i = 0; i < rp->nstack; i++)
		for (size_t j = 0; j < rp->st[i].n; j++) {
			const struct rrun *rr = &rp->st[i].v[j];
			int64_t a = replay_run_time(&rr->run, rr->k0);
			int64_t b = replay_run_time(&rr->run, rr->k1 - 1);

			if (a < first)
				first = a;
			if (b > last)
				last = b;
			any = true;
		}
	if (any) {
		*first_ms = first;
		*last_ms = last;
	}
	return any;
}

/* ---- the source ---- */

static int
rrun_cmp(const void *a, const void *b)
{
	const struct rrun *x = a, *y = b;

	if (x->run.start_ms != y->run.start_ms)
		return x->run.start_ms < y->run.start_ms ? -1 : 1;
	if (x->run.last_ms != y->run.last_ms)
		return x->run.last_ms < y->run.last_ms ? -1 : 1;
	return 0;
}

void
replay_source(struct replay *rp, const struct config *cfg,
    struct sim_source *src)
{
	int64_t last;

	for (size_t i = 0; i < rp->nstack; i++) {
		struct rstack *st = &rp->st[i];

		if (!st->sorted && st->n > 1)
			qsort(st->v, st->n, sizeof(*st->v), rrun_cmp);
		st->sorted = true;
		st->r = 0;
		st->k = st->n > 0 ? st->v[0].k0 : 0;
	}
	rp->cfg = cfg;
	rp->t0 = 0;
	(void)replay_span(rp, &rp->t0, &last);
	memset(src, 0, sizeof(*src));
	src->ctx = rp;
	src->probe = src_probe;
	src->next = src_next;
}

/* The virtual time of the stack's outcome under the cursor, or -1. */
static int64_t
src_next(void *ctx, int stack)
{
	struct replay *rp = ctx;
	struct rstack *st;

	if (stack < 0 || (size_t)stack >= rp->nstack)
		return -1;
	st = &rp->st[stack];
	if (st->r >= st->n)
		return -1;
	return replay_run_time(&st->v[st->r].run, st->k) - rp->t0;
}

static void
src_probe(void *ctx, int stack, int64_t t, bool active, struct sim_probe *r)
{
	struct replay *rp = ctx;
	struct rstack *st;
	const struct cfg_stack *cs;
	const struct store_probe_run *run;
	int64_t next;

	r->ok = true;
	r->reason = PROBE_R_OK;
	r->latency_ms = 0;
	if (stack < 0 || (size_t)stack >= rp->nstack ||
	    rp->st[stack].r >= rp->st[stack].n)
		return;		/* not asked for: the simulator follows next */
	st = &rp->st[stack];
	cs = &rp->cfg->stacks[stack];
	run = &st->v[st->r].run;
	if (++st->k >= st->v[st->r].k1 && ++st->r < st->n)
		st->k = st->v[st->r].k0;

	r->ok = run->result != 0;
	r->reason = r->ok ? PROBE_R_OK : run->reason;
	if (!r->ok && r->reason == PROBE_R_OK)
		r->reason = PROBE_R_INTERNAL;	/* a failure without reason */
	if (run->status > 0 && (r->ok || r->reason == PROBE_R_STATUS)) {
		/* Judge the status again, as this configuration would. */
		r->ok = cfg_status_match(active ||
		    cs->standby_expect_status.n == 0 ? &cs->expect_status :
		    &cs->standby_expect_status, run->status);
		r->reason = r->ok ? PROBE_R_OK : PROBE_R_STATUS;
	}
	if (!r->ok && r->reason == PROBE_R_TIMEOUT) {
		r->latency_ms = cs->timeout_ms;
		next = src_next(rp, stack);
		if (next >= 0 && next - t < r->latency_ms)
			r->latency_ms = next - t;
		if (r->latency_ms < 0)
			r->latency_ms = 0;
	}
}

/* ---- times ---- */

static int64_t
wall_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* "7d", "1d12h", "24h", "90m": a duration, with days. */
static int
parse_ago(const char *s, int64_t *ms)
{
	const char *p = s;
	int64_t days = 0, rest = 0;

	while (*p >= '0' && *p <= '9')
		p++;
	if (p > s && *p == 'd') {
		if (p - s > 5)
			return -1;
		days = strtoll(s, NULL, 10);
		s = p + 1;
		if (*s != '\0' && cfg_parse_duration(s, &rest) != 0)
			return -1;
	} else if (cfg_parse_duration(s, &rest) != 0)
		return -1;
	*ms = days * 86400000LL + rest;
	return 0;
}

static bool
digits(const char *s, int n, int *v)
{
	*v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		*v = *v * 10 + (s[i] - '0');
	}
	return true;
}

/* YYYY-MM-DD[(T| )HH:MM[:SS[.fff]]][Z] */
static int
parse_iso(const char *s, int64_t *ms)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31,
	    30, 31 };
	struct tm tm;
	int y, mo, d, h = 0, mi = 0, sec = 0, frac = 0, nf = 0;
	time_t t;

	if (!digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) ||
	    s[7] != '-' || !digits(s + 8, 2, &d))
		return -1;
	s += 10;
	if (*s == 'T' || *s == ' ') {
		if (!digits(s + 1, 2, &h) || s[3] != ':' ||
		    !digits(s + 4, 2, &mi))
			return -1;
		s += 6;
		if (*s == ':') {
			if (!digits(s + 1, 2, &sec))
				return -1;
			s += 3;
			if (*s == '.') {
				for (s++; *s >= '0' && *s <= '9'; s++, nf++)
					if (nf < 3)
						frac = frac * 10 + (*s - '0');
				if (nf == 0)
					return -1;
				for (int i = nf; i < 3; i++)
					frac *= 10;
			}
		}
	}
	if (*s == 'Z')
		s++;
	if (*s != '\0' || y < 1970 || mo < 1 || mo > 12 || d < 1 ||
	    d > mdays[mo - 1] || h > 23 || mi > 59 || sec > 60)
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	if ((t = timegm(&tm)) == (time_t)-1)
		return -1;
	*ms = (int64_t)t * 1000 + frac;
	return 0;
}

int
replay_parse_time(const char *s, int64_t now_ms, int64_t *ms)
{
	int64_t v;

	if (s == NULL || *s == '\0')
		return -1;
	if (strlen(s) >= 10 && s[4] == '-')
		return parse_iso(s, ms);
	if (parse_ago(s, &v) != 0)
		return -1;
	*ms = now_ms - v;
	return 0;
}

void
replay_format_time(int64_t ms, char *buf, size_t len)
{
	time_t t = (time_t)(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
	struct tm tm;
	int64_t frac = ms - (int64_t)t * 1000;

	if (gmtime_r(&t, &tm) == NULL) {
		snprintf(buf, len, "%lld", (long long)ms);
		return;
	}
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, (int)frac);
}

/* ---- output ---- */

static void
rl_put(struct rline *l, const char *p, size_t n)
{
	if (l->len + n >= sizeof(l->buf) - 2)
		n = sizeof(l->buf) - 2 - l->len;
	memcpy(l->buf + l->len, p, n);
	l->len += n;
}

static void
rl_begin(struct rline *l, int64_t t, const char *event)
{
	char b[64];
	int n;

	if (l->json)
		n = snprintf(b, sizeof(b), "{\"t_ms\":%lld,\"event\":\"%s\"",
		    (long long)t, event);
	else
		n = snprintf(b, sizeof(b), "%6lld.%03lld %s",
		    (long long)(t / 1000), (long long)(t % 1000), event);
	l->len = 0;
	rl_put(l, b, (size_t)n);
}

/* A string value; quoted (text) when it holds a space, '"' or '='. */
static void
rl_kv(struct rline *l, const char *key, const char *val)
{
	bool quote = val[0] == '\0';

	rl_put(l, l->json ? ",\"" : " ", l->json ? 2 : 1);
	rl_put(l, key, strlen(key));
	rl_put(l, l->json ? "\":" : "=", l->json ? 2 : 1);
	for (const char *p = val; *p != '\0'; p++)
		if (*p == ' ' || *p == '"' || *p == '=' || *p == '\\' ||
		    (unsigned char)*p < 0x20)
			quote = true;
	if (l->json)
		quote = true;
	if (!quote) {
		rl_put(l, val, strlen(val));
		return;
	}
	rl_put(l, "\"", 1);
	for (const char *p = val; *p != '\0'; p++) {
		if ((unsigned char)*p < 0x20) {
			rl_put(l, "?", 1);
			continue;
		}
		if (*p == '"' || *p == '\\')
			rl_put(l, "\\", 1);
		rl_put(l, p, 1);
	}
	rl_put(l, "\"", 1);
}

static void
rl_num(struct rline *l, const char *key, long long v)
{
	char b[32];

	snprintf(b, sizeof(b), "%lld", v);
	rl_put(l, l->json ? ",\"" : " ", l->json ? 2 : 1);
	rl_put(l, key, strlen(key));
	rl_put(l, l->json ? "\":" : "=", l->json ? 2 : 1);
	rl_put(l, b, strlen(b));
}

static void
rl_end(struct rline *l)
{
	if (l->json)
		l->buf[l->len++] = '}';
	l->buf[l->len++] = '\n';
	fwrite(l->buf, 1, l->len, l->f);
}

/* ---- the command ---- */

static void
usage(FILE *f)
{
	fprintf(f, "usage: failoverd simulate [-c FILE] --replay"
	    " [--state-dir DIR] [--since T] [--until T]\n"
	    "           [--json]\n"
	    "  T: a duration ago (30m, 24h, 7d) or an ISO-8601 UTC time"
	    " (2026-11-22T01:30:00Z)\n");
}

/* Print the window and what each stack brings; all at virtual 0. */
static void
print_head(struct rline *l, const struct replay *rp, const struct config *cfg,
    int64_t first, int64_t last)
{
	char a[40], b[40];
	size_t runs = 0;
	uint64_t n = 0;

	for (size_t i = 0; i < cfg->nstack; i++) {
		runs += replay_runs(rp, (int)i);
		n += replay_outcomes(rp, (int)i);
	}
	replay_format_time(first, a, sizeof(a));
	replay_format_time(last, b, sizeof(b));
	rl_begin(l, 0, "replay");
	rl_kv(l, "from", a);
	rl_kv(l, "to", b);
	rl_num(l, "stacks", (long long)cfg->nstack);
	rl_num(l, "runs", (long long)runs);
	rl_num(l, "outcomes", (long long)n);
	rl_end(l);
	for (size_t i = 0; i < cfg->nstack; i++) {
		const struct rstack *st = &rp->st[i];

		rl_begin(l, 0, "replay_stack");
		rl_kv(l, "stack", cfg->stacks[i].name);
		rl_num(l, "runs", (long long)st->n);
		rl_num(l, "outcomes", (long long)st->outcomes);
		if (st->n == 0)
			rl_kv(l, "data", "none (no probe log in the window:"
			    " stays unknown)");
		else {
			int64_t f = INT64_MAX, t = INT64_MIN;

			for (size_t j = 0; j < st->n; j++) {
				const struct rrun *rr = &st->v[j];
				int64_t x = replay_run_time(&rr->run, rr->k0);
				int64_t y = replay_run_time(&rr->run,
				    rr->k1 - 1);

				f = x < f ? x : f;
				t = y > t ? y : t;
			}
			rl_num(l, "first_ms", (long long)(f - first));
			rl_num(l, "last_ms", (long long)(t - first));
		}
		rl_end(l);
	}
}

int
replay_main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config",	required_argument,	NULL, 'c' },
		{ "json",	no_argument,		NULL, 'j' },
		{ "replay",	no_argument,		NULL, 'r' },
		{ "state-dir",	required_argument,	NULL, 'd' },
		{ "since",	required_argument,	NULL, 's' },
		{ "until",	required_argument,	NULL, 'u' },
		{ "help",	no_argument,		NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = getenv("FAILOVERD_CONFIG");
	const char *dir = NULL, *since_arg = NULL, *until_arg = NULL;
	struct config *cfg = NULL;
	struct config_errors cerr = { 0 };
	struct store *st = NULL;
	struct store_txn txn;
	struct replay *rp = NULL;
	struct sim_source src;
	struct sim_options opt = { 0 };
	struct scn_event end;
	struct scenario scn;
	struct rline line;
	int64_t now = wall_now_ms(), since = INT64_MIN, until = INT64_MAX;
	int64_t first, last;
	char err[STORE_DETAIL_LEN + 256], a[40], b[40];
	char scnpath[] = "replay";
	int ch, rc, serr;

	if (path == NULL)
		path = CFG_DEFAULT_PATH;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			path = optarg;
			break;
		case 'j':
			opt.json = true;
			break;
		case 'r':
			break;
		case 'd':
			dir = optarg;
			break;
		case 's':
			since_arg = optarg;
			break;
		case 'u':
			until_arg = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "failoverd simulate: --replay takes no"
		    " scenario: %s\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	if (since_arg != NULL &&
	    replay_parse_time(since_arg, now, &since) != 0) {
		fprintf(stderr, "failoverd simulate: --since %s: not a duration"
		    " ago (24h, 7d) or an ISO-8601 UTC time\n", since_arg);
		return 2;
	}
	if (until_arg != NULL &&
	    replay_parse_time(until_arg, now, &until) != 0) {
		fprintf(stderr, "failoverd simulate: --until %s: not a duration"
		    " ago (24h, 7d) or an ISO-8601 UTC time\n", until_arg);
		return 2;
	}
	if (since > until) {
		fprintf(stderr, "failoverd simulate: --since %s is after"
		    " --until %s\n", since_arg, until_arg);
		return 2;
	}
	if (config_load_flags(path, CONFIG_SIMULATION, &cfg, &cerr) != 0) {
		for (size_t i = 0; i < cerr.n; i++)
			fprintf(stderr, "%s\n", cerr.msg[i]);
		config_errors_free(&cerr);
		return 1;
	}
	rc = 1;
	if (dir == NULL)
		dir = cfg->controller.state_dir;
	if ((serr = store_open(dir, cfg->controller.map_size, STORE_RDONLY,
	    &st, err, sizeof(err))) != 0) {
		fprintf(stderr, "failoverd simulate: cannot read the store in"
		    " %s: %s (%s)\n", dir, store_strerror(serr), err);
		goto out;
	}
	if ((rp = replay_new(cfg->nstack, since, until)) == NULL) {
		fprintf(stderr, "failoverd simulate: out of memory\n");
		goto out;
	}
	store_txn_begin(st, false, &txn);
	if (txn.err == 0 && replay_load(rp, &txn, cfg) == STORE_E_NOMEM) {
		store_txn_abort(&txn);
		fprintf(stderr, "failoverd simulate: out of memory\n");
		goto out;
	}
	if (store_txn_commit(&txn) != 0) {
		fprintf(stderr, "failoverd simulate: cannot read the probe log"
		    " in %s: %s: %s\n", dir, store_strerror(txn.err),
		    txn.detail);
		goto out;
	}
	store_close(st);
	st = NULL;
	if (!replay_span(rp, &first, &last)) {
		fprintf(stderr, "failoverd simulate: no probe outcome of any"
		    " configured stack in %s", dir);
		if (since_arg != NULL) {
			replay_format_time(since, a, sizeof(a));
			fprintf(stderr, " since %s", a);
		}
		if (until_arg != NULL) {
			replay_format_time(until, b, sizeof(b));
			fprintf(stderr, " until %s", b);
		}
		fprintf(stderr, "\n");
		goto out;
	}

	line.f = stdout;
	line.json = opt.json;
	print_head(&line, rp, cfg, first, last);
	replay_source(rp, cfg, &src);
	opt.source = &src;
	/* No scenario line but the end. */
	memset(&end, 0, sizeof(end));
	end.kind = SCN_END;
	end.at_ms = last - first + REPLAY_SETTLE_MS;
	end.stack_idx = -1;
	end.group_idx = -1;
	memset(&scn, 0, sizeof(scn));
	scn.path = scnpath;
	scn.n = 1;
	scn.ev = &end;
	scn.end_ms = end.at_ms;
	if (sim_run(cfg, &scn, &opt, NULL) != 0) {
		fprintf(stderr, "failoverd simulate: out of memory\n");
		goto out;
	}
	replay_format_time(first, a, sizeof(a));
	replay_format_time(last, b, sizeof(b));
	rl_begin(&line, end.at_ms, "summary");
	rl_kv(&line, "replay_from", a);
	rl_kv(&line, "replay_to", b);
	rl_num(&line, "replay_start_epoch_ms", (long long)first);
	rl_end(&line);
	if (fflush(stdout) != 0) {
		perror("failoverd simulate: stdout");
		goto out;
	}
	rc = 0;
out:
	replay_free(rp);
	store_close(st);
	config_free(cfg);
	return rc;
}
