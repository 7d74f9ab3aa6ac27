/*
 * campaigncheck.c - the randomized campaign's recorder and invariant
 * checker (tests/integration/test_campaign.sh).
 *
 *   campaigncheck hook LOG STATE_DIR WEBHEAD_DIR [MIN_MS-]MAX_MS SEED
 *       A recording hook, run by failoverd for every phase.  Before it
 *       does anything it opens STATE_DIR read-only and looks in the
 *       history for this run's phase_started (FAILOVER_ID, _PHASE,
 *       _ATTEMPT) and for a phase_finished of the same phase; then it
 *       appends to LOG
 *         start t=US pid=P group=G phase=PH id=ID attempt=N stack=S
 *             from=F to=T journaled=yes|no finished=yes|no
 *       sets or clears WEBHEAD_DIR/maintenance (maintenance_on: set;
 *       maintenance_off, restore: cleared), sleeps MIN_MS..MAX_MS ms (chosen
 *       from SEED, the id, the phase and the attempt: the same run of a
 *       seed sleeps the same) and appends
 *         end t=US pid=P status=ok|term
 *       SIGTERM (hook_timeout, a daemon's orphan clean-up) ends the sleep
 *       and is recorded as status=term.  t is CLOCK_MONOTONIC in
 *       microseconds, the clock every record here shares.  The start
 *       line ends with member=M epoch=E: FAILOVER_EPOCH, and the
 *       cluster member that ran it ("-" alone).  STATE_DIR "-" (a
 *       cluster, where every member's hook line must be the same, as
 *       the members' configuration digests are compared): the state_dir
 *       is FAILOVER_STATE_DIR, and the member is named by the parent
 *       failoverd's configuration file (its -c argument, read from
 *       /proc); the line then also has state_dir=DIR, for a hook whose
 *       parent was killed before it could look (MAP's "member" lines).
 *
 *   campaigncheck poll -p PORT [-i MS] [-T SECONDS] -o FILE NAME...
 *       Asks 127.0.0.1#PORT over TCP for each NAME's A records every MS
 *       (default 3) and appends a line to FILE at each change:
 *         US NAME VALUE
 *       VALUE is "CNAME:target.", "A:addr,addr" (sorted) or "none"; a
 *       query that fails is not a change.  Stops on SIGTERM or after
 *       SECONDS (default 600).  -E: each NAME's ownership TXT
 *       (_failoverd.NAME) too, its VALUE "epoch=N" (N is 0 for a value
 *       without an epoch) or "none".
 *
 *   campaigncheck check -m MAP -p POLL -k HOOKS -H HISTORY [-J JOURNAL]
 *       MAP lines: "stack NAME VALUE" (every name a stack ever had, with
 *       its web head as the poller writes it), "group NAME FQDN" and, in
 *       a cluster, "member NAME STATE_DIR".
 *       HISTORY: storetool's dump (its "event" lines); an event named
 *       state_lost between two dumps says the state_dir was removed.  Prints one line
 *       per violation, "violation=NAME group=G detail=...", then a
 *       summary, and exits 1 when any fired, 2 on unreadable input:
 *         silent_move      the record moved between stacks and no switch
 *                          of the group towards that stack had finished
 *                          its hooks and journaled its dns phase before
 *         switch_overlap   two switch ids' hooks overlap in time for one
 *                          group
 *         phase_twice      two runs of one phase of one id at once
 *         unjournaled_hook a hook started with no committed
 *                          phase_started for its id, phase and attempt
 *         finished_rerun   a hook ran for a phase its id had journaled as
 *                          finished
 *         paused_switch    the history has an automatic switch_started
 *                          of a group whose last pause command (paused,
 *                          resumed) before it was a pause
 *       In a cluster (hook lines with member= and epoch=), also:
 *         member_overlap   hooks of one switch id run by two members at
 *                          once
 *         stale_epoch_hook a hook started under epoch E after the poller
 *                          had seen an ownership TXT with a higher epoch:
 *                          a deposed leader acted after its successor
 *       and with -J JOURNAL (named-journalprint's text of the zone's
 *       journal: every UPDATE named accepted, in serial order):
 *         epoch_order      an accepted UPDATE under a lower epoch than
 *                          one accepted before it (the epoch of an
 *                          UPDATE: its name's ownership TXT once applied;
 *                          a claim under epoch N needs every later
 *                          UPDATE, of any group, to be under N or above)
 *
 *   campaigncheck now       CLOCK_MONOTONIC in microseconds
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <ldns/ldns.h>

#include "controller/store/store.h"

#define LINE_MAX_CC	8192
#define NAME_MAX_CC	256

/*
 * The hook runs with the environment failoverd gives it, without the
 * test's sanitizer settings: a leak report at exit would turn every hook
 * of the sanitizer run into a failed one.
 */
const char *__asan_default_options(void);
const char *
__asan_default_options(void)
{
	return "detect_leaks=0";
}

static int64_t
mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* One write(2) with O_APPEND: lines of concurrent writers never mix. */
static void
append_line(const char *path, const char *line)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0644);

	if (fd < 0)
		return;
	if (write(fd, line, strlen(line)) < 0)
		perror("campaigncheck: write");
	close(fd);
}

/* ---- hook ---- */

struct jcheck {
	const char	*group, *id, *phase, *attempt;
	bool		 started, finished;
};

static bool
jfield_is(json_t *o, const char *key, const char *want)
{
	const char *v = json_string_value(json_object_get(o, key));

	return v != NULL && strcmp(v, want) == 0;
}

static bool
jcheck_cb(const struct store_event *ev, void *arg)
{
	struct jcheck *jc = arg;
	bool start = strcmp(ev->event, "phase_started") == 0;
	bool fin = strcmp(ev->event, "phase_finished") == 0;
	json_t *o;

	if (!start && !fin)
		return true;
	if ((o = json_loadb(ev->payload, ev->payload_len, 0, NULL)) == NULL)
		return true;
	if (jfield_is(o, "id", jc->id) && jfield_is(o, "phase", jc->phase)) {
		if (start && jfield_is(o, "attempt", jc->attempt))
			jc->started = true;
		if (fin)
			jc->finished = true;
	}
	json_decref(o);
	return true;
}

static volatile sig_atomic_t got_term;

static void
on_term(int sig)
{
	(void)sig;
	got_term = 1;
}

static const char *
env_or(const char *name)
{
	const char *v = getenv(name);

	return v != NULL && v[0] != '\0' ? v : "-";
}

static uint64_t
fnv1a(uint64_t h, const char *s)
{
	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return (h ^ 0xff) * 1099511628211ULL;
}

/* VALUE of "KEY = VALUE" lines of an INI file, the last one wins. */
static void
ini_value(const char *path, const char *key, char *out, size_t outlen)
{
	FILE *f = fopen(path, "r");
	char line[LINE_MAX_CC];
	size_t kl = strlen(key);

	if (f == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL) {
		char *p = line, *e;

		if (strncmp(p, key, kl) != 0)
			continue;
		p += kl;
		p += strspn(p, " \t");
		if (*p++ != '=')
			continue;
		p += strspn(p, " \t");
		for (e = p + strlen(p); e > p && strchr(" \t\r\n", e[-1]); e--)
			;
		*e = '\0';
		snprintf(out, outlen, "%s", p);
	}
	fclose(f);
}

/*
 * The parent failoverd's state_dir and cluster member, from the file its
 * -c argument names (both left as they are when it cannot be read).
 */
static void
parent_conf(char *dir, size_t dirlen, char *member, size_t mlen)
{
	char path[64], buf[8192], conf[4096] = "";
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%ld/cmdline", (long)getppid());
	if ((fd = open(path, O_RDONLY)) < 0)
		return;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = '\0';
	for (char *a = buf; a < buf + n; a += strlen(a) + 1)
		if (strcmp(a, "-c") == 0 && a + strlen(a) + 1 < buf + n) {
			snprintf(conf, sizeof(conf), "%s", a + strlen(a) + 1);
			break;
		}
	if (conf[0] == '\0')
		return;
	ini_value(conf, "state_dir", dir, dirlen);
	ini_value(conf, "member", member, mlen);
}

static int
cmd_hook(int argc, char **argv)
{
	const char *log, *dir, *wh;
	struct jcheck jc = { 0 };
	char line[LINE_MAX_CC], flag[4096], err[512];
	char pdir[4096] = "-", member[NAME_MAX_CC] = "-";
	struct store *st = NULL;
	struct store_txn txn;
	struct sigaction sa;
	long min_ms, max_ms;
	char *e;
	uint64_t h;
	int64_t deadline;

	if (argc < 6) {
		fprintf(stderr, "usage: campaigncheck hook LOG STATE_DIR "
		    "WEBHEAD_DIR MAX_MS SEED\n");
		return 2;
	}
	log = argv[1];
	dir = argv[2];
	wh = argv[3];
	if (strcmp(dir, "-") == 0) {
		parent_conf(pdir, sizeof(pdir), member, sizeof(member));
		if (getenv("FAILOVER_STATE_DIR") != NULL)
			snprintf(pdir, sizeof(pdir), "%s",
			    getenv("FAILOVER_STATE_DIR"));
		dir = pdir;
	}
	min_ms = max_ms = strtol(argv[4], &e, 10);
	if (*e == '-')
		max_ms = strtol(e + 1, NULL, 10);
	else
		min_ms = 0;
	if (max_ms < min_ms)
		max_ms = min_ms;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	sigaction(SIGTERM, &sa, NULL);

	jc.group = env_or("FAILOVER_GROUP");
	jc.id = env_or("FAILOVER_ID");
	jc.phase = env_or("FAILOVER_PHASE");
	jc.attempt = env_or("FAILOVER_ATTEMPT");
	/* What the journal holds now, before this hook has done anything. */
	if (store_open(dir, 0, STORE_RDONLY, &st, err, sizeof(err)) == 0) {
		if (store_txn_begin(st, false, &txn) == 0) {
			(void)store_history_foreach(&txn, 0, 0, jc.group,
			    jcheck_cb, &jc);
			store_txn_abort(&txn);
		}
		store_close(st);
	}
	snprintf(line, sizeof(line), "start t=%" PRId64 " pid=%ld group=%s "
	    "phase=%s id=%s attempt=%s stack=%s from=%s to=%s journaled=%s "
	    "finished=%s member=%s epoch=%s%s%s\n", mono_us(), (long)getpid(),
	    jc.group, jc.phase, jc.id, jc.attempt, env_or("FAILOVER_STACK"),
	    env_or("FAILOVER_FROM"), env_or("FAILOVER_TO"),
	    jc.started ? "yes" : "no", jc.finished ? "yes" : "no", member,
	    env_or("FAILOVER_EPOCH"), dir == pdir ? " state_dir=" : "",
	    dir == pdir ? pdir : "");
	append_line(log, line);

	snprintf(flag, sizeof(flag), "%s/maintenance", wh);
	if (strcmp(jc.phase, "maintenance_on") == 0) {
		int fd = open(flag, O_WRONLY | O_CREAT, 0644);

		if (fd >= 0)
			close(fd);
	} else if (strcmp(jc.phase, "maintenance_off") == 0 ||
	    strcmp(jc.phase, "restore") == 0)
		unlink(flag);

	h = fnv1a(fnv1a(fnv1a(fnv1a(1469598103934665603ULL, argv[5]), jc.id),
	    jc.phase), jc.attempt);
	deadline = mono_us() + ((int64_t)min_ms +
	    (int64_t)(h % (uint64_t)(max_ms - min_ms + 1))) * 1000;
	while (!got_term && mono_us() < deadline) {
		struct timespec ts = { 0, 2 * 1000000 };

		nanosleep(&ts, NULL);
	}
	snprintf(line, sizeof(line), "end t=%" PRId64 " pid=%ld status=%s\n",
	    mono_us(), (long)getpid(), got_term ? "term" : "ok");
	append_line(log, line);
	return got_term ? 143 : 0;
}

/* ---- poll ---- */

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* NAME's TYPE records, NOERROR or NXDOMAIN; NULL when the query failed. */
static ldns_pkt *
query(ldns_resolver *res, const char *name, ldns_rr_type type)
{
	ldns_rdf *dn = ldns_dname_new_frm_str(name);
	ldns_pkt *p = NULL;

	if (dn == NULL)
		return NULL;
	if (ldns_resolver_send(&p, res, dn, type, LDNS_RR_CLASS_IN, 0) !=
	    LDNS_STATUS_OK || p == NULL) {
		ldns_rdf_deep_free(dn);
		ldns_pkt_free(p);
		return NULL;
	}
	ldns_rdf_deep_free(dn);
	if (ldns_pkt_get_rcode(p) != LDNS_RCODE_NOERROR &&
	    ldns_pkt_get_rcode(p) != LDNS_RCODE_NXDOMAIN) {
		ldns_pkt_free(p);
		return NULL;
	}
	return p;
}

/* The name's A answer as one token; false when the query failed. */
static bool
poll_one(ldns_resolver *res, const char *name, char *out, size_t outlen)
{
	ldns_pkt *p = query(res, name, LDNS_RR_TYPE_A);
	ldns_rr_list *an;
	char *items[32];
	size_t n = 0;
	bool cname = false;

	if (p == NULL)
		return false;
	an = ldns_pkt_answer(p);
	for (size_t i = 0; an != NULL && i < ldns_rr_list_rr_count(an) &&
	    n < 32; i++) {
		ldns_rr *rr = ldns_rr_list_rr(an, i);
		ldns_rr_type t = ldns_rr_get_type(rr);

		if (t != LDNS_RR_TYPE_A && t != LDNS_RR_TYPE_CNAME)
			continue;
		if (t == LDNS_RR_TYPE_CNAME)
			cname = true;
		if ((items[n] = ldns_rdf2str(ldns_rr_rdf(rr, 0))) != NULL)
			n++;
	}
	ldns_pkt_free(p);
	if (n == 0) {
		snprintf(out, outlen, "none");
		return true;
	}
	qsort(items, n, sizeof(items[0]), cmp_str);
	snprintf(out, outlen, "%s:", cname ? "CNAME" : "A");
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			strncat(out, ",", outlen - strlen(out) - 1);
		strncat(out, items[i], outlen - strlen(out) - 1);
		free(items[i]);
	}
	return true;
}

/*
 * The ownership TXT of NAME (at _failoverd.NAME) as "epoch=N" or "none";
 * false when the query failed.
 */
static bool
poll_txt(ldns_resolver *res, const char *name, char *out, size_t outlen)
{
	char owner[NAME_MAX_CC + 16];
	ldns_pkt *p;
	ldns_rr_list *an;
	bool any = false;
	unsigned long long epoch = 0;

	snprintf(owner, sizeof(owner), "_failoverd.%s", name);
	if ((p = query(res, owner, LDNS_RR_TYPE_TXT)) == NULL)
		return false;
	an = ldns_pkt_answer(p);
	for (size_t i = 0; an != NULL && i < ldns_rr_list_rr_count(an); i++) {
		ldns_rr *rr = ldns_rr_list_rr(an, i);
		char *v, *e;

		if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_TXT ||
		    (v = ldns_rdf2str(ldns_rr_rdf(rr, 0))) == NULL)
			continue;
		any = true;
		if ((e = strstr(v, "epoch=")) != NULL)
			epoch = strtoull(e + 6, NULL, 10);
		free(v);
	}
	ldns_pkt_free(p);
	if (any)
		snprintf(out, outlen, "epoch=%llu", epoch);
	else
		snprintf(out, outlen, "none");
	return true;
}

static int
cmd_poll(int argc, char **argv)
{
	const char *out = NULL;
	long port = 0, interval = 3, limit = 600;
	bool txt = false;
	ldns_resolver *res;
	ldns_rdf *ns;
	char (*last)[NAME_MAX_CC];
	struct sigaction sa;
	int64_t end;
	int c, nnames;

	while ((c = getopt(argc, argv, "p:i:T:o:E")) != -1) {
		switch (c) {
		case 'E': txt = true; break;
		case 'p': port = strtol(optarg, NULL, 10); break;
		case 'i': interval = strtol(optarg, NULL, 10); break;
		case 'T': limit = strtol(optarg, NULL, 10); break;
		case 'o': out = optarg; break;
		default: return 2;
		}
	}
	nnames = argc - optind;
	if (port <= 0 || out == NULL || nnames <= 0) {
		fprintf(stderr, "usage: campaigncheck poll -p PORT [-i MS] "
		    "[-T SECONDS] [-E] -o FILE NAME...\n");
		return 2;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	sigaction(SIGTERM, &sa, NULL);
	if ((res = ldns_resolver_new()) == NULL ||
	    (ns = ldns_rdf_new_frm_str(LDNS_RDF_TYPE_A, "127.0.0.1")) == NULL)
		return 1;
	ldns_resolver_push_nameserver(res, ns);
	ldns_rdf_deep_free(ns);
	ldns_resolver_set_port(res, (uint16_t)port);
	ldns_resolver_set_usevc(res, true);
	ldns_resolver_set_recursive(res, false);
	ldns_resolver_set_retry(res, 1);
	ldns_resolver_set_timeout(res, (struct timeval){ 0, 300000 });
	if ((last = calloc((size_t)nnames * 2, sizeof(*last))) == NULL)
		return 1;
	printf("polling=1\n");
	fflush(stdout);
	end = mono_us() + (int64_t)limit * 1000000;
	while (!got_term && mono_us() < end) {
		for (int i = 0; i < nnames; i++) {
			char v[NAME_MAX_CC], line[LINE_MAX_CC];
			int64_t t;

			if (!poll_one(res, argv[optind + i], v, sizeof(v)) ||
			    strcmp(v, last[i]) == 0)
				continue;
			/* When the answer arrived: the record held V by then
			 * (a query sent before the change may be answered
			 * after it, so the sending time could precede it). */
			t = mono_us();
			snprintf(line, sizeof(line), "%" PRId64 " %s %s\n", t,
			    argv[optind + i], v);
			append_line(out, line);
			snprintf(last[i], sizeof(last[i]), "%s", v);
		}
		for (int i = 0; txt && i < nnames; i++) {
			char v[NAME_MAX_CC], line[LINE_MAX_CC];

			if (!poll_txt(res, argv[optind + i], v, sizeof(v)) ||
			    strcmp(v, last[nnames + i]) == 0)
				continue;
			snprintf(line, sizeof(line), "%" PRId64 " _failoverd.%s "
			    "%s\n", mono_us(), argv[optind + i], v);
			append_line(out, line);
			snprintf(last[nnames + i], sizeof(last[0]), "%s", v);
		}
		struct timespec ts = { 0, interval * 1000000 };
		nanosleep(&ts, NULL);
	}
	free(last);
	ldns_resolver_deep_free(res);
	return 0;
}

/* ---- check ---- */

struct mapent {
	bool		 group;		/* a group: name -> fqdn */
	bool		 member;	/* a member: name -> state_dir */
	char		 name[NAME_MAX_CC];
	char		 value[NAME_MAX_CC];
};

struct run {
	int64_t		 start, end;	/* end: -1 while unknown */
	long		 pid;
	char		 group[NAME_MAX_CC], phase[64], id[NAME_MAX_CC];
	char		 attempt[16], stack[NAME_MAX_CC], from[NAME_MAX_CC];
	char		 to[NAME_MAX_CC], member[NAME_MAX_CC];
	unsigned long long epoch;	/* 0: none (alone) */
	bool		 journaled, finished, ok;
};

struct move {
	int64_t		 t;
	char		 name[NAME_MAX_CC];
	char		 value[NAME_MAX_CC];
};

struct dnsstart {
	char		 group[NAME_MAX_CC], id[NAME_MAX_CC];
};

static struct mapent	*maps;
static size_t		 nmap;
static struct run	*runs;
static size_t		 nrun;
static struct move	*moves;
static size_t		 nmove;
static struct dnsstart	*dnss;
static size_t		 ndns;

/* The highest epoch the poller had seen in any ownership TXT, by time. */
struct txtobs {
	int64_t		 t;
	unsigned long long epoch;
	char		 name[NAME_MAX_CC];
};

static struct txtobs	*txts;
static size_t		 ntxt;
static size_t		 njtx, njupd;
static int		 violations;

static void	 violation(const char *, const char *, const char *, ...)
    __attribute__((format(printf, 3, 4)));

#define GROW(arr, n) do {						\
	if (((n) & ((n) + 1)) == 0 || (n) == 0) {			\
		void *np_ = realloc((arr), ((n) * 2 + 2) * sizeof(*(arr))); \
		if (np_ == NULL) { perror("realloc"); exit(2); }	\
		(arr) = np_;						\
	}								\
} while (0)

/* The value of KEY= in a line of key=value words ("" when absent). */
static void
kv(const char *line, const char *key, char *out, size_t outlen)
{
	size_t kl = strlen(key);
	const char *p = line;

	out[0] = '\0';
	while ((p = strstr(p, key)) != NULL) {
		if ((p == line || p[-1] == ' ') && p[kl] == '=') {
			size_t n = strcspn(p + kl + 1, " \n");

			if (n >= outlen)
				n = outlen - 1;
			memcpy(out, p + kl + 1, n);
			out[n] = '\0';
			return;
		}
		p += kl;
	}
}

static FILE *
open_or_die(const char *path)
{
	FILE *f = fopen(path, "r");

	if (f == NULL) {
		fprintf(stderr, "campaigncheck: %s: %s\n", path,
		    strerror(errno));
		exit(2);
	}
	return f;
}

static void
read_map(const char *path)
{
	FILE *f = open_or_die(path);
	char line[LINE_MAX_CC], kind[32], a[NAME_MAX_CC], b[NAME_MAX_CC];

	while (fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "%31s %255s %255s", kind, a, b) != 3)
			continue;
		GROW(maps, nmap);
		maps[nmap].group = strcmp(kind, "group") == 0;
		maps[nmap].member = strcmp(kind, "member") == 0;
		snprintf(maps[nmap].name, NAME_MAX_CC, "%s", a);
		snprintf(maps[nmap].value, NAME_MAX_CC, "%s", b);
		nmap++;
	}
	fclose(f);
}

/* A stack's record value, or NULL for a name no stack ever had. */
static const char *
stack_value(const char *stack)
{
	for (size_t i = 0; i < nmap; i++)
		if (!maps[i].group && !maps[i].member &&
		    strcmp(maps[i].name, stack) == 0)
			return maps[i].value;
	return NULL;
}

/* The member whose state_dir is DIR, or NULL. */
static const char *
member_of_dir(const char *sdir)
{
	for (size_t i = 0; i < nmap; i++)
		if (maps[i].member && strcmp(maps[i].value, sdir) == 0)
			return maps[i].name;
	return NULL;
}

static bool
is_stack_value(const char *v)
{
	for (size_t i = 0; i < nmap; i++)
		if (!maps[i].group && !maps[i].member &&
		    strcmp(maps[i].value, v) == 0)
			return true;
	return false;
}

static const char *
group_of_name(const char *fqdn)
{
	for (size_t i = 0; i < nmap; i++)
		if (maps[i].group && strcmp(maps[i].value, fqdn) == 0)
			return maps[i].name;
	return NULL;
}

static void
read_hooks(const char *path)
{
	FILE *f = open_or_die(path);
	char line[LINE_MAX_CC], v[NAME_MAX_CC];

	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, "start ", 6) == 0) {
			struct run *r;

			GROW(runs, nrun);
			r = &runs[nrun++];
			memset(r, 0, sizeof(*r));
			kv(line, "t", v, sizeof(v));
			r->start = strtoll(v, NULL, 10);
			r->end = -1;
			kv(line, "pid", v, sizeof(v));
			r->pid = strtol(v, NULL, 10);
			kv(line, "group", r->group, sizeof(r->group));
			kv(line, "phase", r->phase, sizeof(r->phase));
			kv(line, "id", r->id, sizeof(r->id));
			kv(line, "attempt", r->attempt, sizeof(r->attempt));
			kv(line, "stack", r->stack, sizeof(r->stack));
			kv(line, "from", r->from, sizeof(r->from));
			kv(line, "to", r->to, sizeof(r->to));
			kv(line, "journaled", v, sizeof(v));
			r->journaled = strcmp(v, "yes") == 0;
			kv(line, "finished", v, sizeof(v));
			r->finished = strcmp(v, "yes") == 0;
			kv(line, "member", r->member, sizeof(r->member));
			if (r->member[0] == '\0')
				snprintf(r->member, sizeof(r->member), "-");
			kv(line, "state_dir", v, sizeof(v));
			if (strcmp(r->member, "-") == 0 && v[0] != '\0' &&
			    member_of_dir(v) != NULL)
				snprintf(r->member, sizeof(r->member), "%s",
				    member_of_dir(v));
			kv(line, "epoch", v, sizeof(v));
			r->epoch = strtoull(v, NULL, 10);
		} else if (strncmp(line, "end ", 4) == 0) {
			long pid;
			int64_t t;

			kv(line, "pid", v, sizeof(v));
			pid = strtol(v, NULL, 10);
			kv(line, "t", v, sizeof(v));
			t = strtoll(v, NULL, 10);
			kv(line, "status", v, sizeof(v));
			/* The latest start of that pid still open. */
			for (size_t i = nrun; i-- > 0; )
				if (runs[i].pid == pid && runs[i].end < 0) {
					runs[i].end = t;
					runs[i].ok = strcmp(v, "ok") == 0;
					break;
				}
		}
	}
	fclose(f);
}

static void
read_poll(const char *path)
{
	FILE *f = open_or_die(path);
	char line[LINE_MAX_CC], name[NAME_MAX_CC], value[NAME_MAX_CC];
	long long t;

	while (fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "%lld %255s %255s", &t, name, value) != 3)
			continue;
		if (strncmp(value, "epoch=", 6) == 0) {
			GROW(txts, ntxt);
			txts[ntxt].t = t;
			txts[ntxt].epoch = strtoull(value + 6, NULL, 10);
			snprintf(txts[ntxt].name, NAME_MAX_CC, "%s", name);
			ntxt++;
			continue;
		}
		GROW(moves, nmove);
		moves[nmove].t = t;
		snprintf(moves[nmove].name, NAME_MAX_CC, "%s", name);
		snprintf(moves[nmove].value, NAME_MAX_CC, "%s", value);
		nmove++;
	}
	fclose(f);
}

/* A group's pause flag as the history has it so far (commit order). */
struct pausestate {
	char		 group[NAME_MAX_CC];
	bool		 paused;
};

static struct pausestate *pauses;
static size_t		 npause;

static struct pausestate *
pause_of(const char *group)
{
	for (size_t i = 0; i < npause; i++)
		if (strcmp(pauses[i].group, group) == 0)
			return &pauses[i];
	GROW(pauses, npause);
	memset(&pauses[npause], 0, sizeof(pauses[npause]));
	snprintf(pauses[npause].group, NAME_MAX_CC, "%s", group);
	return &pauses[npause++];
}

/*
 * The history, in commit order: the dns phases it says were started, and
 * automatic switches started while the group's last pause command said
 * paused.
 */
static void
read_history(const char *path)
{
	FILE *f = open_or_die(path);
	char line[LINE_MAX_CC], group[NAME_MAX_CC], event[64];

	while (fgets(line, sizeof(line), f) != NULL) {
		const char *pl = strstr(line, " payload="), *h;
		json_t *o;
		const char *id;

		if (strncmp(line, "event ", 6) != 0 || pl == NULL)
			continue;
		kv(line, "group", group, sizeof(group));
		kv(line, "event", event, sizeof(event));
		pl += strlen(" payload=");
		if ((h = strstr(pl, " hash=")) == NULL)
			continue;
		if ((o = json_loadb(pl, (size_t)(h - pl), 0, NULL)) == NULL)
			continue;
		id = json_string_value(json_object_get(o, "id"));
		if (strcmp(event, "phase_started") == 0 &&
		    jfield_is(o, "phase", "dns") && id != NULL) {
			GROW(dnss, ndns);
			snprintf(dnss[ndns].group, NAME_MAX_CC, "%s", group);
			snprintf(dnss[ndns].id, NAME_MAX_CC, "%s", id);
			ndns++;
		} else if (strcmp(event, "state_lost") == 0) {
			/* The campaign removed state_dir: the flags went. */
			for (size_t i = 0; i < npause; i++)
				pauses[i].paused = false;
		} else if (strcmp(event, "paused") == 0)
			pause_of(group)->paused = true;
		else if (strcmp(event, "resumed") == 0)
			pause_of(group)->paused = false;
		else if (strcmp(event, "switch_started") == 0 &&
		    jfield_is(o, "reason", "auto") && pause_of(group)->paused)
			violation("paused_switch", group, "id=%s an automatic "
			    "switch started while the group was paused",
			    id != NULL ? id : "?");
		json_decref(o);
	}
	fclose(f);
}

static void
violation(const char *name, const char *group, const char *fmt, ...)
{
	va_list ap;

	printf("violation=%s group=%s detail=\"", name, group);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\"\n");
	violations++;
}

static bool
dns_started(const char *group, const char *id)
{
	for (size_t i = 0; i < ndns; i++)
		if (strcmp(dnss[i].group, group) == 0 &&
		    strcmp(dnss[i].id, id) == 0)
			return true;
	return false;
}

/*
 * A move of GROUP's record to VALUE at T is a switch's when some id of
 * the group moving towards a stack with that web head had its last hook
 * (maintenance_off) end well before T and journaled its dns phase.
 */
static bool
move_explained(const char *group, const char *value, int64_t t)
{
	for (size_t i = 0; i < nrun; i++) {
		const struct run *r = &runs[i];
		const char *tv = stack_value(r->to);

		if (strcmp(r->group, group) != 0 || tv == NULL ||
		    strcmp(tv, value) != 0 ||
		    strcmp(r->phase, "maintenance_off") != 0 || !r->ok ||
		    r->end < 0 || r->end > t)
			continue;
		if (dns_started(group, r->id))
			return true;
	}
	return false;
}

static void
check_moves(void)
{
	for (size_t i = 0; i < nmove; i++) {
		const char *g = group_of_name(moves[i].name);
		const char *prev = NULL;

		if (g == NULL)
			continue;
		for (size_t j = i; j-- > 0; )
			if (strcmp(moves[j].name, moves[i].name) == 0) {
				prev = moves[j].value;
				break;
			}
		if (prev == NULL || !is_stack_value(prev) ||
		    !is_stack_value(moves[i].value) ||
		    strcmp(prev, moves[i].value) == 0)
			continue;
		if (!move_explained(g, moves[i].value, moves[i].t))
			violation("silent_move", g, "t=%" PRId64 " %s from %s "
			    "to %s with no switch towards it", moves[i].t,
			    moves[i].name, prev, moves[i].value);
	}
}

/* A run's end for overlap checks: a run never seen to end ends at once. */
static int64_t
run_end(const struct run *r)
{
	return r->end < 0 ? r->start : r->end;
}

static void
check_runs(void)
{
	for (size_t i = 0; i < nrun; i++) {
		const struct run *a = &runs[i];

		if (strcmp(a->id, "-") == 0)
			continue;
		if (!a->journaled)
			violation("unjournaled_hook", a->group, "t=%" PRId64
			    " id=%s phase=%s attempt=%s pid=%ld started with "
			    "no phase_started committed", a->start, a->id,
			    a->phase, a->attempt, a->pid);
		if (a->finished)
			violation("finished_rerun", a->group, "t=%" PRId64
			    " id=%s phase=%s attempt=%s pid=%ld ran after its "
			    "phase_finished", a->start, a->id, a->phase,
			    a->attempt, a->pid);
		for (size_t j = i + 1; j < nrun; j++) {
			const struct run *b = &runs[j];
			bool overlap = a->start < run_end(b) &&
			    b->start < run_end(a);

			if (!overlap || strcmp(a->group, b->group) != 0 ||
			    strcmp(b->id, "-") == 0)
				continue;
			if (strcmp(a->id, b->id) == 0 &&
			    strcmp(a->phase, b->phase) == 0)
				violation("phase_twice", a->group, "id=%s "
				    "phase=%s attempt %s (pid %ld, t=%" PRId64
				    "..%" PRId64 ") and attempt %s (pid %ld, "
				    "t=%" PRId64 "..%" PRId64 ") at once",
				    a->id, a->phase, a->attempt, a->pid,
				    a->start, run_end(a), b->attempt, b->pid,
				    b->start, run_end(b));
		}
	}
}

/*
 * Per group and id, the span from its first hook's start to its last
 * hook's end; spans of two ids of one group must not meet (two switches
 * interleaved are as wrong as two at once).
 */
struct span {
	const struct run *first;
	int64_t		 s, e;
};

static void
check_switches(void)
{
	struct span *sp = NULL;
	size_t nsp = 0;

	for (size_t i = 0; i < nrun; i++) {
		size_t k;

		if (strcmp(runs[i].id, "-") == 0)
			continue;
		for (k = 0; k < nsp; k++)
			if (strcmp(sp[k].first->id, runs[i].id) == 0 &&
			    strcmp(sp[k].first->group, runs[i].group) == 0)
				break;
		if (k == nsp) {
			GROW(sp, nsp);
			sp[nsp].first = &runs[i];
			sp[nsp].s = runs[i].start;
			sp[nsp].e = run_end(&runs[i]);
			nsp++;
			continue;
		}
		if (runs[i].start < sp[k].s)
			sp[k].s = runs[i].start;
		if (run_end(&runs[i]) > sp[k].e)
			sp[k].e = run_end(&runs[i]);
	}
	for (size_t i = 0; i < nsp; i++)
		for (size_t j = i + 1; j < nsp; j++) {
			const struct run *a = sp[i].first, *b = sp[j].first;

			if (strcmp(a->group, b->group) != 0 ||
			    !(sp[i].s < sp[j].e && sp[j].s < sp[i].e))
				continue;
			violation("switch_overlap", a->group, "id=%s (t=%"
			    PRId64 "..%" PRId64 ") and id=%s (t=%" PRId64
			    "..%" PRId64 ") at once", a->id, sp[i].s, sp[i].e,
			    b->id, sp[j].s, sp[j].e);
		}
	free(sp);
}

/*
 * Hooks of one switch id by two members at once: the new leader resumed
 * the switch while the deposed one still ran a hook of it.
 */
static void
check_members(void)
{
	for (size_t i = 0; i < nrun; i++) {
		const struct run *a = &runs[i];

		if (strcmp(a->id, "-") == 0 || strcmp(a->member, "-") == 0)
			continue;
		for (size_t j = i + 1; j < nrun; j++) {
			const struct run *b = &runs[j];

			if (strcmp(b->member, "-") == 0 ||
			    strcmp(a->member, b->member) == 0 ||
			    strcmp(a->group, b->group) != 0 ||
			    strcmp(a->id, b->id) != 0 ||
			    !(a->start < run_end(b) && b->start < run_end(a)))
				continue;
			violation("member_overlap", a->group, "id=%s %s of %s "
			    "(epoch %llu, t=%" PRId64 "..%" PRId64 ") and %s "
			    "of %s (epoch %llu, t=%" PRId64 "..%" PRId64 ") at "
			    "once", a->id, a->phase, a->member, a->epoch,
			    a->start, run_end(a), b->phase, b->member, b->epoch,
			    b->start, run_end(b));
		}
	}
}

/*
 * A hook started under epoch E once the poller had already seen an
 * ownership TXT with a higher epoch (the poller writes a line when the
 * answer arrived, so the TXT held it by then): two leaders acting.
 */
static void
check_stale_hooks(void)
{
	for (size_t i = 0; i < nrun; i++) {
		const struct run *r = &runs[i];

		if (r->epoch == 0)
			continue;
		for (size_t k = 0; k < ntxt; k++) {
			if (txts[k].t >= r->start || txts[k].epoch <= r->epoch)
				continue;
			violation("stale_epoch_hook", r->group, "t=%" PRId64
			    " id=%s phase=%s attempt=%s member=%s epoch=%llu "
			    "started after %s was seen at epoch=%llu (t=%"
			    PRId64 ")", r->start, r->id, r->phase, r->attempt,
			    r->member, r->epoch, txts[k].name, txts[k].epoch,
			    txts[k].t);
			break;
		}
	}
}

/* One name's ownership epoch in the journal replay so far. */
struct jname {
	char		 name[NAME_MAX_CC];
	unsigned long long epoch;
};

/*
 * named-journalprint's text: every transaction named accepted, in serial
 * order, each opening with the deletion of the old SOA and the addition
 * of the new ("del ZONE TTL IN SOA ..." / "add ..."), then its
 * deletions and additions.  The epoch of a transaction is, per name it
 * touched, the epoch of that name's ownership TXT once it is applied (an
 * UPDATE's prerequisite requires the TXT of its sender's epoch, and a
 * claim puts the new one in).  Every transaction's epoch must be at
 * least every earlier one's: once a leader of epoch N has claimed any
 * name, no UPDATE under a lower epoch may be accepted, for any group.
 */
static void
check_journal(const char *path)
{
	FILE *f = open_or_die(path);
	char line[LINE_MAX_CC], op[16], name[NAME_MAX_CC], type[32];
	struct jname *jn = NULL;
	size_t njn = 0;
	char touched[64][NAME_MAX_CC];
	size_t ntouched = 0;
	unsigned long long serial = 0, prev_serial = 0, maxep = 0;
	char maxname[NAME_MAX_CC] = "";
	bool in_tx = false, soa_del = false;

	for (;;) {
		bool eof = fgets(line, sizeof(line), f) == NULL;
		bool begin = false;
		char *ep;

		if (!eof) {
			long ttl;

			if (sscanf(line, "%15s %255s %ld IN %31s", op, name, &ttl,
			    type) != 4)
				continue;
			begin = strcmp(type, "SOA") == 0 &&
			    strcmp(op, "del") == 0;
			/* A journal's first transaction may lack the del. */
			if (strcmp(type, "SOA") == 0 && strcmp(op, "add") == 0 &&
			    !soa_del)
				begin = true;
			soa_del = begin && strcmp(op, "del") == 0;
		}
		if ((eof || begin) && in_tx) {
			/* The transaction before this line ends: judge it. */
			for (size_t i = 0; i < ntouched; i++) {
				unsigned long long e = 0;

				for (size_t k = 0; k < njn; k++)
					if (strcmp(jn[k].name, touched[i]) == 0)
						e = jn[k].epoch;
				njupd++;
				if (e < maxep)
					violation("epoch_order", touched[i],
					    "serial %llu: an UPDATE of %s "
					    "under epoch %llu accepted after "
					    "serial %llu under epoch %llu (%s)",
					    serial, touched[i], e, prev_serial,
					    maxep, maxname);
				else if (e > maxep || maxname[0] == '\0') {
					maxep = e;
					prev_serial = serial;
					memcpy(maxname, touched[i],
					    sizeof(maxname));
				}
			}
			njtx++;
			in_tx = false;
			ntouched = 0;
		}
		if (eof)
			break;
		if (begin) {
			in_tx = true;
			continue;
		}
		if (!in_tx)
			continue;
		if (strcmp(type, "SOA") == 0) {
			/* "add ZONE TTL IN SOA mname rname SERIAL ..." */
			char m[NAME_MAX_CC], r[NAME_MAX_CC];

			if (strcmp(op, "add") == 0 && sscanf(line,
			    "%*s %*s %*d IN SOA %255s %255s %llu", m, r,
			    &serial) != 3)
				serial = 0;
			continue;
		}
		if (strncmp(name, "_failoverd.", 11) == 0) {
			const char *owner = name + 11;
			size_t k;

			if (strcmp(type, "TXT") == 0 && strcmp(op, "add") == 0) {
				for (k = 0; k < njn; k++)
					if (strcmp(jn[k].name, owner) == 0)
						break;
				if (k == njn) {
					GROW(jn, njn);
					snprintf(jn[njn].name, NAME_MAX_CC, "%s",
					    owner);
					njn++;
				}
				ep = strstr(line, "epoch=");
				jn[k].epoch = ep != NULL ?
				    strtoull(ep + 6, NULL, 10) : 0;
			}
			memmove(name, owner, strlen(owner) + 1);
		}
		if (group_of_name(name) == NULL)
			continue;
		{
			size_t i;

			for (i = 0; i < ntouched; i++)
				if (strcmp(touched[i], name) == 0)
					break;
			if (i == ntouched && ntouched < 64)
				snprintf(touched[ntouched++], NAME_MAX_CC, "%s",
				    name);
		}
	}
	fclose(f);
	free(jn);
}

static int
cmd_check(int argc, char **argv)
{
	const char *map = NULL, *poll = NULL, *hooks = NULL, *hist = NULL;
	const char *journal = NULL;
	size_t open_runs = 0;
	int c;

	while ((c = getopt(argc, argv, "m:p:k:H:J:")) != -1) {
		switch (c) {
		case 'J': journal = optarg; break;
		case 'm': map = optarg; break;
		case 'p': poll = optarg; break;
		case 'k': hooks = optarg; break;
		case 'H': hist = optarg; break;
		default: return 2;
		}
	}
	if (map == NULL || poll == NULL || hooks == NULL || hist == NULL) {
		fprintf(stderr, "usage: campaigncheck check -m MAP -p POLL "
		    "-k HOOKS -H HISTORY [-J JOURNAL]\n");
		return 2;
	}
	read_map(map);
	read_hooks(hooks);
	read_poll(poll);
	read_history(hist);
	check_moves();
	check_runs();
	check_switches();
	check_members();
	check_stale_hooks();
	if (journal != NULL)
		check_journal(journal);
	for (size_t i = 0; i < nrun; i++)
		if (runs[i].end < 0)
			open_runs++;
	if (journal != NULL)
		printf("journal transactions=%zu group_updates=%zu "
		    "txt_changes_seen=%zu\n", njtx, njupd, ntxt);
	printf("checked hooks=%zu unended=%zu record_changes=%zu "
	    "dns_phases=%zu violations=%d\n", nrun, open_runs, nmove, ndns,
	    violations);
	free(maps);
	free(runs);
	free(moves);
	free(dnss);
	free(pauses);
	free(txts);
	return violations > 0 ? 1 : 0;
}

int
main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "hook") == 0)
		return cmd_hook(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "poll") == 0)
		return cmd_poll(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "check") == 0)
		return cmd_check(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "now") == 0) {
		printf("%" PRId64 "\n", mono_us());
		return 0;
	}
	fprintf(stderr, "usage: campaigncheck hook|poll|check|now ...\n");
	return 2;
}
