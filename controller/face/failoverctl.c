/*
 * failoverctl.c - the operators' command line.
 *
 * Every verb reads the configuration (-c FILE, $FAILOVERD_CONFIG, or
 * /etc/failoverd/failoverd.conf) and the daemon's LMDB store in
 * [controller] state_dir; the store is opened read-write only by the verbs
 * that write.  The logic of the commands is in ops.c, shared with the HTTP
 * API; this file parses arguments, prints, asks, and follows a switch.
 *
 * Exit codes: 0 done, 1 refused or failed (one line on stderr), 2 usage.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <event2/event.h>
#include <jansson.h>

#include "config/config.h"
#include "controller/core/engine.h"
#include "controller/core/engine_codec.h"
#include "controller/face/ctl_api.h"
#include "controller/face/ctl_cluster.h"
#include "controller/face/ctl_precheck.h"
#include "controller/face/ops.h"
#include "controller/face/ops_group.h"
#include "controller/face/progress.h"
#include "controller/store/store.h"
#include "dnsupdate/dnsup.h"
#include "dnsupdate/dnsup_check.h"
#include "dnsupdate/dnsup_owner.h"

#define FOLLOW_POLL_MS	100

#define EX_OK		0
#define EX_FAIL		1
#define EX_USAGE	2

struct ctl {
	const char	*config_path;
	struct config	*cfg;
	struct store	*st;
	const char	*store_err;	/* failover-status: why st is NULL */
	int		 argc;		/* the verb's own arguments, argv[0] */
	char	       **argv;		/* is the verb */
};

struct verb {
	const char	*name;
	int		(*fn)(struct ctl *);
	bool		 write;		/* opens the store read-write */
	bool		 store;		/* needs the store at all */
	const char	*usage;
	const char	*help;
};

static int	 v_status(struct ctl *);
static int	 v_switch(struct ctl *);
static int	 v_precheck(struct ctl *);
static int	 v_flag(struct ctl *);
static int	 v_pin(struct ctl *);
static int	 v_history(struct ctl *);
static int	 v_failover_status(struct ctl *);
static int	 v_verify(struct ctl *);
static int	 v_group(struct ctl *);
static int	 v_cluster(struct ctl *);

static const struct verb verbs[] = {
	{ "status", v_status, false, true,
	  "status [GROUP] [--json] [--wide]",
	  "Show each group: address, active stack, each stack's health and\n"
	  "since when, state (serving, switching/PHASE, failed, wait_rearm,\n"
	  "not_published), override flags and the last switch, in 80 columns;\n"
	  "trouble first, on lines that start with '!'.  A banner says when\n"
	  "no failoverd runs on the state.  --wide: one line per group, as\n"
	  "before.  --json prints the same as GET /v1/groups." },
	{ "switch", v_switch, true, true,
	  "switch GROUP [--to STACK] [--yes] [--force] [--no-wait]"
	  " [--timeout DURATION] | switch GROUP --cancel",
	  "Move GROUP's traffic to its standby (or STACK).  Without --yes,\n"
	  "show what will happen (with the target's health and its precheck,\n"
	  "run now) and ask on the terminal.  Then follow the\n"
	  "switch phase by phase until it completed (exit 0) or failed\n"
	  "(exit 1).  --force switches to a target that is not up, or away\n"
	  "from a pin.  --no-wait returns once the switch is requested.\n"
	  "--timeout bounds the wait (default: the hook timeouts plus 60s).\n"
	  "A request failoverd has not taken within request_ttl expires;\n"
	  "--cancel withdraws one not taken yet (exit 1 if there is none)." },
	{ "pause", v_flag, true, true, "pause GROUP|--all",
	  "Stop automatic failover of GROUP (or every group) until resume." },
	{ "resume", v_flag, true, true, "resume GROUP|--all",
	  "Resume automatic failover; also clears a failed state." },
	{ "precheck", v_precheck, true, true,
	  "precheck GROUP [--to STACK] [--json]",
	  "Ask failoverd to run the precheck hook of GROUP's switch target\n"
	  "(STACK, or the standby) now, as the plan of switch does, and print\n"
	  "its verdict, its last lines and the replication lag it reports\n"
	  "(replication_lag_ms=N or replication_lag_bytes=N in its output).\n"
	  "Nothing changes.  Exit 0 when it passed, 1 otherwise." },
	{ "pin", v_pin, true, true, "pin GROUP STACK",
	  "Keep GROUP on STACK: no automatic failover away from it." },
	{ "unpin", v_flag, true, true, "unpin GROUP",
	  "Remove a pin." },
	{ "rearm", v_flag, true, true, "rearm GROUP",
	  "Confirm that the old stack was rebuilt as the new standby (after a\n"
	  "switch), or clear a failed switch: automatic failover is armed\n"
	  "again." },
	{ "history", v_history, false, true,
	  "history [GROUP] [--limit N] [--json] [--verify]",
	  "Show the event history, newest last.  --verify checks the SHA-256\n"
	  "chain of the whole history and names the first event that does\n"
	  "not fit (exit 1)." },
	{ "failover-status", v_failover_status, false, true,
	  "failover-status STACK",
	  "Print online (STACK takes a group's traffic), offline (it is in a\n"
	  "group but takes no traffic) or none (it is in no group)." },
	{ "verify", v_verify, false, true, "verify [GROUP]",
	  "Ask the DNS server what it publishes for each group and compare\n"
	  "with what the state says is published: exit 0 in sync, 1 drift\n"
	  "(the difference is shown)." },
	{ "group", v_group, true, true,
	  "group add GROUP [--address LABEL|auto] [--primary STACK]"
	  " [--backup STACK] [--ttl DURATION] | group set GROUP"
	  " [--primary STACK|--no-primary] [--backup STACK|--no-backup]"
	  " [--ttl DURATION] | group list | group delete GROUP",
	  "Groups made at run time, kept in the state (the configuration\n"
	  "file's groups are read-only here).  add: a new group on stacks of\n"
	  "the configuration file, judged by the file's own rules (address\n"
	  "auto by default: a random NNN-NNN-NNN label, shown by list once the\n"
	  "daemon allocated it; the backup may come later).  set: change its\n"
	  "primary, backup or TTL.  list: every group, where it is defined,\n"
	  "its address, stacks and TTL.  delete: a group that points at no\n"
	  "stack (set --no-primary --no-backup, or for a group of the file\n"
	  "remove it there first): remove its record with a signed UPDATE,\n"
	  "delete its state, and tombstone its address for ever." },
	{ "cluster", v_cluster, false, false, "cluster [--json]",
	  "With [cluster]: the leader, its epoch and each live member with\n"
	  "its role and whether its configuration is the leader's, read from\n"
	  "etcd.  --json prints the same as JSON." },
};
#define NVERB	(sizeof(verbs) / sizeof(verbs[0]))

/* ---- small helpers ---- */

static void __attribute__((format(printf, 1, 2)))
fail_line(const char *fmt, ...)
{
	va_list ap;

	fputs("failoverctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
sleep_ms(int64_t ms)
{
	struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static const struct verb *
verb_find(const char *name)
{
	for (size_t i = 0; i < NVERB; i++)
		if (strcmp(verbs[i].name, name) == 0)
			return &verbs[i];
	return NULL;
}

static void
usage_all(FILE *f)
{
	fprintf(f, "usage: failoverctl [-c FILE] VERB [ARGS]\n\nverbs:\n");
	for (size_t i = 0; i < NVERB; i++)
		fprintf(f, "  failoverctl %s\n", verbs[i].usage);
	fprintf(f, "\nfailoverctl VERB --help describes a verb.  Exit: 0 done,"
	    " 1 refused or failed, 2 usage.\n");
}

static int
verb_usage(const struct ctl *c, const char *why)
{
	const struct verb *v = verb_find(c->argv[0]);

	if (why != NULL)
		fprintf(stderr, "failoverctl %s: %s\n", c->argv[0], why);
	if (v != NULL)
		fprintf(stderr, "usage: failoverctl %s\n", v->usage);
	return EX_USAGE;
}

static int
verb_help(const struct ctl *c)
{
	const struct verb *v = verb_find(c->argv[0]);

	printf("usage: failoverctl [-c FILE] %s\n\n%s\n", v->usage, v->help);
	return EX_OK;
}

/* "5s", "3m12s", "2h5m", "4d3h" */
static void
age_text(int64_t ms, char *buf, size_t len)
{
	int64_t s = ms / 1000;

	if (s < 0)
		s = 0;
	if (s < 60)
		snprintf(buf, len, "%llds", (long long)s);
	else if (s < 3600)
		snprintf(buf, len, "%lldm%02llds", (long long)(s / 60),
		    (long long)(s % 60));
	else if (s < 86400)
		snprintf(buf, len, "%lldh%02lldm", (long long)(s / 3600),
		    (long long)(s % 3600 / 60));
	else
		snprintf(buf, len, "%lldd%02lldh", (long long)(s / 86400),
		    (long long)(s % 86400 / 3600));
}

static void
time_text(int64_t ms, char *buf, size_t len)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL)
		snprintf(buf, len, "?");
	else
		strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/*
 * A member as text: a string, or an integer written out (the events'
 * data has counts and durations as numbers).  The text of an integer
 * lives in one of a few rotating buffers: enough for one printf.
 */
static const char *
jstr(const json_t *o, const char *key)
{
	static char ring[8][24];
	static unsigned next;
	const json_t *v = json_object_get(o, key);
	const char *s = json_string_value(v);
	char *b;

	if (s != NULL)
		return s;
	if (!json_is_integer(v))
		return "";
	b = ring[next++ % 8];
	snprintf(b, sizeof(ring[0]), "%lld", (long long)json_integer_value(v));
	return b;
}

/* A group's stacks, a line each: role, health, FAILOVER_STATUS, since. */
static void
print_stacks(const json_t *g, int64_t now)
{
	size_t j;
	json_t *s;

	json_array_foreach(json_object_get(g, "stacks"), j, s) {
		const json_t *since = json_object_get(s, "since_ms");
		char age[32] = "", reason[80] = "";

		if (json_is_integer(since))
			age_text(now - json_integer_value(since), age,
			    sizeof(age));
		if (strcmp(jstr(s, "health"), "up") != 0 &&
		    jstr(s, "reason")[0] != '\0' &&
		    strcmp(jstr(s, "reason"), "ok") != 0)
			snprintf(reason, sizeof(reason), " (%s)",
			    jstr(s, "reason"));
		printf("  %-10s %-8s %-8s %-7s %s%s%s\n",
		    jstr(s, "name"), jstr(s, "role"), jstr(s, "health"),
		    jstr(s, "failover_status"), age[0] ? "since " : "",
		    age[0] ? age : "", reason);
	}
}

/* ---- status ---- */

static void
status_print(const json_t *groups)
{
	size_t i;
	json_t *g;
	int64_t now = now_ms();

	printf("%-12s %-32s %-8s %-20s %-16s %s\n", "GROUP", "ADDRESS",
	    "ACTIVE", "STATE", "FLAGS", "LAST SWITCH");
	json_array_foreach(groups, i, g) {
		const json_t *fl = json_object_get(g, "flags");
		const json_t *ls = json_object_get(g, "last_switch");
		char flags[128] = "", last[256] = "-", state[64];

		if (json_is_true(json_object_get(fl, "paused")))
			strcat(flags, "paused,");
		if (json_is_string(json_object_get(fl, "pinned")))
			snprintf(flags + strlen(flags), sizeof(flags) -
			    strlen(flags), "pinned=%s,", jstr(fl, "pinned"));
		if (json_is_true(json_object_get(fl, "rearm_requested")))
			strcat(flags, "rearm-pending,");
		if (json_is_true(json_object_get(fl, "switch_requested")))
			strcat(flags, "switch-pending,");
		if (flags[0] == '\0')
			strcpy(flags, "-");
		else
			flags[strlen(flags) - 1] = '\0';
		if (json_is_null(json_object_get(g, "state")))
			snprintf(state, sizeof(state), "not started");
		else if (strcmp(jstr(g, "held"), "none") == 0 ||
		    jstr(g, "held")[0] == '\0' ||
		    strcmp(jstr(g, "held"), jstr(g, "state_text")) == 0)
			snprintf(state, sizeof(state), "%s",
			    jstr(g, "state_text"));
		else if (strcmp(jstr(g, "held"), "dns_unusable") == 0)
			snprintf(state, sizeof(state), "%s (held: %s %s)",
			    jstr(g, "state_text"), jstr(g, "held"),
			    json_is_string(json_object_get(g, "dns_unusable")) ?
			    jstr(g, "dns_unusable") : "unchecked");
		else
			snprintf(state, sizeof(state), "%s (held: %s)",
			    jstr(g, "state_text"), jstr(g, "held"));
		/* Refused DNS is news before the active stack goes down. */
		if (json_is_string(json_object_get(g, "dns_unusable")) &&
		    strcmp(jstr(g, "held"), "dns_unusable") != 0)
			snprintf(state + strlen(state), sizeof(state) -
			    strlen(state), " (dns_unusable %s)",
			    jstr(g, "dns_unusable"));
		if (json_is_object(ls)) {
			char when[40], dur[32] = "";
			int64_t st = json_integer_value(json_object_get(ls,
			    "started_ms"));
			int64_t en = json_integer_value(json_object_get(ls,
			    "ended_ms"));

			time_text(st, when, sizeof(when));
			if (en > 0)
				snprintf(dur, sizeof(dur), " in %lld ms",
				    (long long)(en - st));
			snprintf(last, sizeof(last), "%s %s->%s %s %s%s", when,
			    jstr(ls, "from"), jstr(ls, "to"),
			    jstr(ls, "reason"), jstr(ls, "result"), dur);
		}
		printf("%-12s %-32s %-8s %-20s %-16s %s\n", jstr(g, "name"),
		    json_is_string(json_object_get(g, "address")) ?
		    jstr(g, "address") : "(not allocated)",
		    json_is_string(json_object_get(g, "active")) ?
		    jstr(g, "active") : "-", state, flags, last);
		print_stacks(g, now);
	}
}

/*
 * Is a daemon running on this state?  failoverd holds state_dir/lock with
 * flock for its whole life (shell/lockfile.c).  Testing the lock by taking
 * it, even shared and for a moment, could make a daemon starting at that
 * moment fail, so the kernel's table of locks (/proc/locks) is read
 * instead: a FLOCK entry on the lock file's inode is the daemon.
 * DAEMON_UNKNOWN when that cannot be told (no /proc): no banner then.
 */
enum daemon_seen {
	DAEMON_UNKNOWN = 0,
	DAEMON_RUNNING,
	DAEMON_STOPPED,
};

static enum daemon_seen
daemon_probe(const char *state_dir, long *pid, int64_t *written_ms)
{
	char path[PATH_MAX], line[256];
	struct stat lk, db;
	enum daemon_seen seen = DAEMON_STOPPED;
	FILE *f;

	*pid = 0;
	*written_ms = 0;
	snprintf(path, sizeof(path), "%s/data.mdb", state_dir);
	if (stat(path, &db) == 0)
		*written_ms = (int64_t)db.st_mtim.tv_sec * 1000 +
		    db.st_mtim.tv_nsec / 1000000;
	snprintf(path, sizeof(path), "%s/lock", state_dir);
	if (stat(path, &lk) != 0)
		return errno == ENOENT ? DAEMON_STOPPED : DAEMON_UNKNOWN;
	if ((f = fopen("/proc/locks", "r")) == NULL)
		return DAEMON_UNKNOWN;
	while (fgets(line, sizeof(line), f) != NULL) {
		char kind[16], mode[16], rw[16];
		unsigned int maj, min;
		unsigned long long ino;
		long p;

		/* "1: FLOCK  ADVISORY  WRITE 1234 08:01:5678 0 EOF"; a
		 * waiter's line has "->" after the number: skipped. */
		if (sscanf(line, "%*d: %15s %15s %15s %ld %x:%x:%llu", kind,
		    mode, rw, &p, &maj, &min, &ino) != 7 ||
		    strcmp(kind, "FLOCK") != 0)
			continue;
		if (ino == (unsigned long long)lk.st_ino &&
		    maj == major(lk.st_dev) && min == minor(lk.st_dev)) {
			seen = DAEMON_RUNNING;
			*pid = p;
			break;
		}
	}
	fclose(f);
	return seen;
}

/*
 * What the operator can do about the gate that holds a group: the verb of
 * failoverctl and the rest of the sentence (NULL: no advice).
 */
static bool
gate_hint(const char *gate, const char **verb, const char **rest)
{
	static const struct { const char *gate, *verb, *rest; } tab[] = {
		{ "wait_rearm", "rearm", "once the old stack is a standby"
		    " again" },
		{ "failed", "resume", "(or rearm, or switch)" },
		{ "paused", "resume", "to arm automatic failover" },
		{ "pinned", "unpin", "to let it fail over" },
		{ "auto_failover_off", "switch", "by hand (auto_failover = no)" },
		{ "dns_unusable", "switch", "--force, once the DNS is fixed" },
	};

	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		if (strcmp(tab[i].gate, gate) == 0) {
			*verb = tab[i].verb;
			*rest = tab[i].rest;
			return true;
		}
	return false;
}

/* The stack object of one group by name, or NULL. */
static const json_t *
stack_find(const json_t *g, const char *name)
{
	size_t j;
	json_t *s;

	json_array_foreach(json_object_get(g, "stacks"), j, s)
		if (strcmp(jstr(s, "name"), name) == 0)
			return s;
	return NULL;
}

/*
 * The 80-column table: one line per group (name, address, active stack,
 * state), then what is wrong ("  ! ..."), one line per stack, the flags
 * and the last switch, each on its own line.
 */
static void
status_print_narrow(const json_t *groups)
{
	size_t i;
	json_t *g;
	int64_t now = now_ms();

	printf("%-12s %-30s %-8s %s\n", "GROUP", "ADDRESS", "ACTIVE",
	    "STATE");
	json_array_foreach(groups, i, g) {
		const json_t *fl = json_object_get(g, "flags");
		const json_t *ls = json_object_get(g, "last_switch");
		const json_t *dns = json_object_get(json_object_get(g, "state"),
		    "dns");
		const char *derr = jstr(dns, "error"), *held = jstr(g, "held");
		const char *active = json_is_string(json_object_get(g,
		    "active")) ? jstr(g, "active") : NULL;
		const json_t *as = active != NULL ? stack_find(g, active) :
		    NULL;
		char flags[128] = "", state[64], gate[64];

		if (json_is_null(json_object_get(g, "state")))
			snprintf(state, sizeof(state), "not started");
		else if (derr[0] != '\0')
			snprintf(state, sizeof(state), "not_published");
		else
			snprintf(state, sizeof(state), "%s",
			    jstr(g, "state_text"));
		printf("%-12s %-30s %-8s %s\n", jstr(g, "name"),
		    json_is_string(json_object_get(g, "address")) ?
		    jstr(g, "address") : "(not allocated)",
		    active != NULL ? active : "-", state);
		if (derr[0] != '\0')
			printf("  ! not published: the DNS server refuses it"
			    " (%s); %s\n", derr,
			    json_is_true(json_object_get(dns, "error_final")) ?
			    "switches are held" : "retrying");
		if (strcmp(held, "none") == 0)
			held = "";
		if (strcmp(held, "dns_unusable") == 0)
			snprintf(gate, sizeof(gate), "dns_unusable %s",
			    json_is_string(json_object_get(g, "dns_unusable")) ?
			    jstr(g, "dns_unusable") : "unchecked");
		else
			snprintf(gate, sizeof(gate), "%s", held);
		if (as != NULL && strcmp(jstr(as, "health"), "down") == 0 &&
		    strcmp(jstr(g, "status"), "switching") != 0) {
			const char *verb, *rest;

			printf("  ! ALARM: active stack %s is down%s%s\n",
			    active, gate[0] ? "; no failover, held by gate " :
			    "", gate);
			if (gate_hint(held, &verb, &rest))
				printf("    failoverctl %s %s %s\n", verb,
				    jstr(g, "name"), rest);
		} else if (gate[0] != '\0' &&
		    strcmp(held, jstr(g, "state_text")) != 0)
			printf("  held: %s\n", gate);
		print_stacks(g, now);
		if (json_is_true(json_object_get(fl, "paused")))
			strcat(flags, " paused");
		if (json_is_string(json_object_get(fl, "pinned")))
			snprintf(flags + strlen(flags), sizeof(flags) -
			    strlen(flags), " pinned=%s", jstr(fl, "pinned"));
		if (json_is_true(json_object_get(fl, "rearm_requested")))
			strcat(flags, " rearm-pending");
		if (json_is_true(json_object_get(fl, "switch_requested")))
			strcat(flags, " switch-pending");
		if (flags[0] != '\0')
			printf("  flags:%s\n", flags);
		if (json_is_object(ls)) {
			char when[40], dur[32] = "";
			int64_t st = json_integer_value(json_object_get(ls,
			    "started_ms"));
			int64_t en = json_integer_value(json_object_get(ls,
			    "ended_ms"));

			time_text(st, when, sizeof(when));
			if (en > 0)
				snprintf(dur, sizeof(dur), " in %lld ms",
				    (long long)(en - st));
			printf("  last switch: %s %s->%s %s %s%s\n", when,
			    jstr(ls, "from"), jstr(ls, "to"),
			    jstr(ls, "reason"), jstr(ls, "result"), dur);
		}
	}
}

static int
v_status(struct ctl *c)
{
	static const struct option lo[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "wide", no_argument, NULL, 'w' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool js = false, wide = false;
	const char *group = NULL;
	json_t *o = NULL;
	char err[512];
	int ch, rc = 0;
	enum daemon_seen seen;
	long pid;
	int64_t written;

	optind = 0;
	while ((ch = getopt_long(c->argc, c->argv, "jwh", lo, NULL)) != -1) {
		if (ch == 'j')
			js = true;
		else if (ch == 'w')
			wide = true;
		else if (ch == 'h')
			return verb_help(c);
		else
			return verb_usage(c, NULL);
	}
	if (c->argc - optind > 1)
		return verb_usage(c, "too many arguments");
	if (optind < c->argc)
		group = c->argv[optind];
	rc = ops_status(c->st, c->cfg, group, &o, err, sizeof(err));
	if (rc != 0) {
		fail_line("%s", err);
		return EX_FAIL;
	}
	seen = daemon_probe(c->cfg->controller.state_dir, &pid, &written);
	if (js && group == NULL && seen != DAEMON_UNKNOWN)
		json_object_set_new(o, "daemon", json_pack("{s:b,s:o,s:o}",
		    "running", seen == DAEMON_RUNNING,
		    "pid", seen == DAEMON_RUNNING ? json_integer(pid) :
		    json_null(),
		    "state_written_ms", written > 0 ? json_integer(written) :
		    json_null()));
	if (!js && seen == DAEMON_STOPPED) {
		char when[40] = "never", ago[32] = "";

		if (written > 0) {
			time_text(written, when, sizeof(when));
			age_text(now_ms() - written, ago, sizeof(ago));
		}
		printf("! failoverd is NOT RUNNING: nothing is probed, nothing"
		    " fails over.\n! State last written %s%s%s%s; health as of"
		    " then.\n! (state_dir %s)\n\n", when,
		    ago[0] ? " (" : "", ago, ago[0] ? " ago)" : "",
		    c->cfg->controller.state_dir);
	}
	if (js) {
		char *s = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

		if (s != NULL)
			printf("%s\n", s);
		free(s);
	} else if (group != NULL) {
		json_t *arr = json_array();

		json_array_append(arr, o);
		if (wide)
			status_print(arr);
		else
			status_print_narrow(arr);
		json_decref(arr);
	} else if (wide)
		status_print(json_object_get(o, "groups"));
	else
		status_print_narrow(json_object_get(o, "groups"));
	json_decref(o);
	if (!js)
		ctl_cluster_status_line(c->cfg);
	return EX_OK;
}

/* ---- pause, resume, unpin, rearm, pin ---- */

static int
command(struct ctl *c, enum ops_verb verb, const char *group,
    const char *stack, bool force, struct ops_reply *r)
{
	struct ops_request req = { .verb = verb, .group = group,
	    .stack = stack, .force = force };
	char actor[ENG_ACTOR_MAX];

	ops_actor_self(actor, sizeof(actor));
	req.actor = actor;
	ops_command(c->st, c->cfg, &req, now_ms(), r);
	if (r->code != 0) {
		fail_line("%s: refused: %s", ops_verb_name(verb), r->message);
		return EX_FAIL;
	}
	return EX_OK;
}

static int
v_flag(struct ctl *c)
{
	static const struct option lo[] = {
		{ "all", no_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int verb = ops_verb_parse(c->argv[0]);
	bool all = false, can_all = verb == OPS_PAUSE || verb == OPS_RESUME;
	struct ops_reply r;
	int ch;

	optind = 0;
	while ((ch = getopt_long(c->argc, c->argv, "h", lo, NULL)) != -1) {
		if (ch == 'a' && can_all)
			all = true;
		else if (ch == 'h')
			return verb_help(c);
		else
			return verb_usage(c, NULL);
	}
	if (all ? optind != c->argc : c->argc - optind != 1)
		return verb_usage(c, all ? "--all takes no group" :
		    can_all ? "give a GROUP or --all" : "give one GROUP");
	if (command(c, (enum ops_verb)verb, all ? NULL : c->argv[optind], NULL,
	    false, &r) != 0)
		return EX_FAIL;
	printf("%s\n", r.message);
	return EX_OK;
}

static int
v_pin(struct ctl *c)
{
	static const struct option lo[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct ops_reply r;
	int ch;

	optind = 0;
	while ((ch = getopt_long(c->argc, c->argv, "h", lo, NULL)) != -1) {
		if (ch == 'h')
			return verb_help(c);
		return verb_usage(c, NULL);
	}
	if (c->argc - optind != 2)
		return verb_usage(c, "give a GROUP and a STACK");
	if (command(c, OPS_PIN, c->argv[optind], c->argv[optind + 1], false,
	    &r) != 0)
		return EX_FAIL;
	printf("%s\n", r.message);
	return EX_OK;
}

/* ---- switch ---- */

/* The default wait: every hook phase at its timeout, plus a minute. */
static int64_t
switch_timeout_ms(const struct config *cfg, const struct eng_group *g)
{
	int64_t t = 60000;

	for (size_t s = 0; s < cfg->nstack; s++)
		if ((int)s == g->active || (int)s == g->standby)
			t += 2 * cfg->stacks[s].hook_timeout_ms;
	return t;
}

struct follow {
	uint64_t	 seq;		/* events up to here were seen */
	char		 id[ENG_ID_MAX];	/* our switch, once started */
	int		 done;		/* 0 running, 1 completed, -1 failed */
	char		 phase[32];	/* last phase started */
	char		 stack[64];	/* its stack */
	int64_t		 phase_mono;	/* when we saw it start, 0: none */
	bool		 ticking;	/* a progress line is on the screen */
	char		 why[512];
};

/*
 * On a terminal: the running phase, its elapsed time and the hook's last
 * line of output (progress.h), in place, cut to 80 columns.
 */
static void
follow_tick(struct follow *f, const char *state_dir, const char *group)
{
	char line[PROGRESS_LINE_MAX], out[80];
	int n;

	if (f->phase_mono == 0 || f->done != 0)
		return;
	n = snprintf(out, sizeof(out), "  %-16s %-8s running %5.1f s",
	    f->phase, f->stack, (double)(mono_ms() - f->phase_mono) / 1000.0);
	if (n > 0 && (size_t)n < sizeof(out) - 4 &&
	    progress_read(state_dir, group, f->id, f->phase, line,
	    sizeof(line)) && line[0] != '\0') {
		size_t room = sizeof(out) - (size_t)n - 5;

		/* Cut to the line's room: the rest is in the log. */
		line[strlen(line) > room ? room : strlen(line)] = '\0';
		memcpy(out + n, "  | ", 4);
		memcpy(out + n + 4, line, strlen(line) + 1);
	}
	printf("\r%s\033[K", out);
	fflush(stdout);
	f->ticking = true;
}

static void
follow_untick(struct follow *f)
{
	if (!f->ticking)
		return;
	printf("\r\033[K");
	f->ticking = false;
}

static void
follow_event(struct follow *f, const json_t *ev, const char *address)
{
	const char *name = jstr(ev, "event");
	const json_t *d = json_object_get(ev, "data");
	const char *id = jstr(d, "id");

	if (f->id[0] == '\0') {
		if (strcmp(name, "cmd_refused") == 0 &&
		    strcmp(jstr(d, "cmd"), "switch") == 0) {
			f->done = -1;
			/* dns_unusable comes with the server's reason. */
			snprintf(f->why, sizeof(f->why), "refused by failoverd:"
			    " %s%s%s%s", jstr(d, "reason"),
			    jstr(d, "dns")[0] ? " (reason=" : "", jstr(d, "dns"),
			    jstr(d, "dns")[0] ? ")" : "");
			return;
		}
		if (strcmp(name, "switch_started") != 0)
			return;
		snprintf(f->id, sizeof(f->id), "%s", id);
		printf("switch %s started: %s -> %s (%s%s)\n", id,
		    jstr(d, "from"), jstr(d, "to"), jstr(d, "reason"),
		    strcmp(jstr(d, "force"), "yes") == 0 ? ", forced" : "");
		return;
	}
	if (strcmp(id, f->id) != 0)
		return;
	follow_untick(f);
	f->phase_mono = 0;
	if (strcmp(name, "phase_started") == 0) {
		snprintf(f->phase, sizeof(f->phase), "%s", jstr(d, "phase"));
		snprintf(f->stack, sizeof(f->stack), "%s", jstr(d, "stack"));
		f->phase_mono = mono_ms();
		if (strcmp(jstr(d, "attempt"), "1") != 0)
			printf("  %-16s %-8s attempt %s\n", jstr(d, "phase"),
			    jstr(d, "stack"), jstr(d, "attempt"));
	} else if (strcmp(name, "phase_finished") == 0 ||
	    strcmp(name, "phase_failed") == 0)
		printf("  %-16s %-8s %-8s %6s ms%s%s%s%s\n", jstr(d, "phase"),
		    jstr(d, "stack"), jstr(d, "result"), jstr(d, "duration_ms"),
		    strcmp(name, "phase_failed") == 0 ? "  exit " : "",
		    strcmp(name, "phase_failed") == 0 ? jstr(d, "exit") : "",
		    jstr(d, "policy")[0] ? ", policy " : "", jstr(d, "policy"));
	else if (strcmp(name, "phase_skipped") == 0)
		printf("  %-16s %-8s skipped (%s)\n", jstr(d, "phase"),
		    jstr(d, "stack"), jstr(d, "reason"));
	else if (strcmp(name, "switch_finished") == 0) {
		printf("switch %s completed in %s ms: %s now points at %s\n",
		    f->id, jstr(d, "duration_ms"), address, jstr(d, "to"));
		f->done = 1;
	} else if (strcmp(name, "switch_failed") == 0) {
		const char *r = jstr(d, "restore"), *t = jstr(d, "traffic");
		char what[160];

		/* Never "traffic stays on X" while X is in maintenance. */
		if (strcmp(r, "ok") == 0)
			snprintf(what, sizeof(what), "traffic stays on %s, which"
			    " the restore phase took out of maintenance again", t);
		else if (strcmp(r, "failed") == 0)
			snprintf(what, sizeof(what), "traffic stays on %s, BUT"
			    " %s IS STILL IN MAINTENANCE: its restore"
			    " (maintenance_off) failed", t, t);
		else if (strcmp(r, "off") == 0)
			snprintf(what, sizeof(what), "traffic stays on %s, BUT"
			    " %s WAS LEFT IN MAINTENANCE (restore_on_abort ="
			    " no)", t, t);
		else if (strcmp(r, "no_hook") == 0)
			snprintf(what, sizeof(what), "traffic stays on %s, BUT"
			    " %s WAS LEFT IN MAINTENANCE (it has no"
			    " maintenance_off hook)", t, t);
		else
			snprintf(what, sizeof(what), "traffic stays on %s", t);
		f->done = -1;
		snprintf(f->why, sizeof(f->why), "switch %s failed in phase %s;"
		    " %s; the group is failed until an operator acts (rearm,"
		    " resume or switch)", f->id, jstr(d, "phase"), what);
	}
}

static int
follow_switch(struct ctl *c, const char *group, const struct ops_reply *r,
    int64_t timeout_ms)
{
	struct follow f = { .seq = r->history_seq };
	int64_t start = mono_ms(), warned = 0;
	bool tty = isatty(STDOUT_FILENO);
	char address[600] = "", err[512];

	if (ops_group_address(c->st, c->cfg, group, address,
	    sizeof(address)) != 0)
		snprintf(address, sizeof(address), "%s", group);
	while (f.done == 0) {
		json_t *o = NULL, *ev;
		size_t i;

		if (ops_events_json(c->st, f.seq + 1, 0, group, &o, err,
		    sizeof(err)) != 0) {
			fail_line("switch: %s", err);
			return EX_FAIL;
		}
		json_array_foreach(json_object_get(o, "events"), i, ev) {
			f.seq = (uint64_t)json_integer_value(
			    json_object_get(ev, "seq"));
			follow_event(&f, ev, address);
			if (f.done != 0)
				break;
		}
		json_decref(o);
		if (tty)
			follow_tick(&f, c->cfg->controller.state_dir, group);
		fflush(stdout);
		if (f.done != 0)
			break;
		if (f.id[0] == '\0' && !warned && mono_ms() - start > 5000) {
			fprintf(stderr, "failoverctl: switch: failoverd has not"
			    " picked up the request yet (is it running?)\n");
			warned = 1;
		}
		if (mono_ms() - start > timeout_ms) {
			follow_untick(&f);
			if (f.id[0] == '\0')
				fail_line("switch: timed out after %lld s: the"
				    " request is still pending in the store and"
				    " runs when failoverd picks it up",
				    (long long)(timeout_ms / 1000));
			else
				fail_line("switch: timed out after %lld s in"
				    " phase %s; switch %s goes on in failoverd"
				    " (failoverctl status %s)",
				    (long long)(timeout_ms / 1000), f.phase,
				    f.id, group);
			return EX_FAIL;
		}
		sleep_ms(FOLLOW_POLL_MS);
	}
	follow_untick(&f);
	if (f.done < 0) {
		fail_line("switch: %s", f.why);
		return EX_FAIL;
	}
	return EX_OK;
}

/*
 * Below the plan: the target's health as the daemon last wrote it, so
 * that nobody confirms a switch to a stack that is down without seeing
 * it.  (The precheck follows, run now by the daemon: precheck_show.  A
 * manual switch does not wait for it; an automatic failover does.)
 */
static void
plan_target_print(struct ctl *c, const char *group, const char *to)
{
	json_t *o = NULL;
	const json_t *s;
	const char *target;
	char err[512], age[32] = "";

	if (ops_status(c->st, c->cfg, group, &o, err, sizeof(err)) != 0)
		return;
	target = to != NULL ? to : jstr(o, "standby");
	if ((s = stack_find(o, target)) != NULL) {
		const json_t *since = json_object_get(s, "since_ms");

		if (json_is_integer(since))
			age_text(now_ms() - json_integer_value(since), age,
			    sizeof(age));
		printf("  target %s is %s%s%s%s%s%s\n", target,
		    jstr(s, "health"), age[0] ? " since " : "", age,
		    strcmp(jstr(s, "health"), "up") != 0 &&
		    jstr(s, "reason")[0] ? " (" : "", strcmp(jstr(s, "health"),
		    "up") != 0 ? jstr(s, "reason") : "",
		    strcmp(jstr(s, "health"), "up") != 0 &&
		    jstr(s, "reason")[0] ? ")" : "");
	}
	json_decref(o);
}

/*
 * The target's precheck, run now by failoverd (ctl_precheck.c), below the
 * plan.  Returns whether it passed; with JS the answer goes there instead
 * (caller decrefs).
 */
static bool
precheck_show(struct ctl *c, const char *group, const char *to, json_t **js)
{
	char stack[STORE_NAME_MAX + 1], why[512];
	json_t *ans = NULL;
	int64_t written;
	long pid;
	bool ok;

	/* It may take up to the hook's timeout: say what we wait for. */
	if (js == NULL && isatty(STDOUT_FILENO))
		printf("  precheck: failoverd is running it...");
	fflush(stdout);
	ctl_precheck_ask(c->st, c->cfg, group, to,
	    daemon_probe(c->cfg->controller.state_dir, &pid, &written) !=
	    DAEMON_STOPPED, &ans, stack, sizeof(stack), why, sizeof(why));
	ok = ctl_precheck_ok(ans);
	if (js != NULL)
		*js = ans != NULL ? json_incref(ans) : json_pack("{s:s, s:s,"
		    " s:s}", "stack", stack, "verdict", "not_run", "reason",
		    why);
	else {
		if (isatty(STDOUT_FILENO))
			printf("\r\033[K");
		ctl_precheck_print(stdout, stack, ans, why);
	}
	json_decref(ans);
	return ok;
}

static int
v_precheck(struct ctl *c)
{
	static const struct option lo[] = {
		{ "to", required_argument, NULL, 't' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *to = NULL;
	json_t *js = NULL;
	bool json = false, ok;
	int ch;

	optind = 0;
	while ((ch = getopt_long(c->argc, c->argv, "t:jh", lo, NULL)) != -1) {
		if (ch == 't')
			to = optarg;
		else if (ch == 'j')
			json = true;
		else if (ch == 'h')
			return verb_help(c);
		else
			return verb_usage(c, NULL);
	}
	if (c->argc - optind != 1)
		return verb_usage(c, "give one GROUP");
	ok = precheck_show(c, c->argv[optind], to, json ? &js : NULL);
	if (js != NULL) {
		char *t = json_dumps(js, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

		if (t != NULL)
			printf("%s\n", t);
		free(t);
		json_decref(js);
	}
	return ok ? EX_OK : EX_FAIL;
}

static bool
ask_yes(void)
{
	char line[64];

	printf("Proceed? [y/N] ");
	fflush(stdout);
	if (fgets(line, sizeof(line), stdin) == NULL)
		return false;
	return line[0] == 'y' || line[0] == 'Y';
}

static int
v_switch(struct ctl *c)
{
	static const struct option lo[] = {
		{ "to", required_argument, NULL, 't' },
		{ "yes", no_argument, NULL, 'y' },
		{ "force", no_argument, NULL, 'f' },
		{ "no-wait", no_argument, NULL, 'n' },
		{ "timeout", required_argument, NULL, 'T' },
		{ "cancel", no_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *to = NULL, *group;
	bool yes = false, force = false, nowait = false, cancel = false;
	int64_t timeout = -1;
	struct ops_reply r;
	struct eng_group g;
	char plan[4096], err[512];
	bool stored;
	int ch;

	optind = 0;
	while ((ch = getopt_long(c->argc, c->argv, "t:yfnT:Ch", lo,
	    NULL)) != -1) {
		switch (ch) {
		case 'C':
			cancel = true;
			break;
		case 't':
			to = optarg;
			break;
		case 'y':
			yes = true;
			break;
		case 'f':
			force = true;
			break;
		case 'n':
			nowait = true;
			break;
		case 'T':
			if (cfg_parse_duration(optarg, &timeout) != 0 ||
			    timeout <= 0)
				return verb_usage(c, "bad --timeout");
			break;
		case 'h':
			return verb_help(c);
		default:
			return verb_usage(c, NULL);
		}
	}
	if (c->argc - optind != 1)
		return verb_usage(c, "give one GROUP");
	group = c->argv[optind];
	if (cancel) {
		if (to != NULL || force || yes)
			return verb_usage(c, "--cancel takes no --to, --force"
			    " or --yes");
		if (command(c, OPS_CANCEL, group, NULL, false, &r) != 0)
			return EX_FAIL;
		printf("%s\n", r.message);
		return EX_OK;
	}
	if (ops_switch_plan(c->st, c->cfg, group, to, force, plan,
	    sizeof(plan), &r) != 0) {
		fail_line("switch: refused: %s", r.message);
		return EX_FAIL;
	}
	if (!yes) {
		if (!isatty(STDIN_FILENO)) {
			fail_line("switch: refused: no terminal to ask on; add"
			    " --yes to switch %s", group);
			return EX_FAIL;
		}
		printf("%s", plan);
		if (plan[0] != '\0' && plan[strlen(plan) - 1] != '\n')
			printf("\n");
		plan_target_print(c, group, to);
		precheck_show(c, group, to, NULL);
		if (!ask_yes()) {
			fail_line("switch: not confirmed; nothing changed");
			return EX_FAIL;
		}
	}
	if (command(c, OPS_SWITCH, group, to, force, &r) != 0)
		return EX_FAIL;
	if (nowait) {
		printf("%s\n", r.message);
		return EX_OK;
	}
	if (timeout < 0) {
		if (ops_group_state(c->st, c->cfg, group, &g, &stored, err,
		    sizeof(err)) != 0) {
			fail_line("switch: %s", err);
			return EX_FAIL;
		}
		timeout = switch_timeout_ms(c->cfg, &g);
	}
	/*
	 * One id for the operator: the switch's, printed once failoverd
	 * starts it (the request's number is in the history and in
	 * --no-wait's answer, for --cancel).
	 */
	printf("%s: switch requested; following it (up to %lld s)\n", group,
	    (long long)(timeout / 1000));
	fflush(stdout);
	return follow_switch(c, group, &r, timeout);
}

/* ---- history ---- */

static void
event_print(const json_t *ev)
{
	const json_t *d = json_object_get(ev, "data");
	const char *k;
	json_t *v;
	char ts[48];

	snprintf(ts, sizeof(ts), "%s", jstr(ev, "ts"));
	printf("%6lld %s %-10s %-18s", (long long)json_integer_value(
	    json_object_get(ev, "seq")), ts, jstr(ev, "group")[0] ?
	    jstr(ev, "group") : "-", jstr(ev, "event"));
	if (json_is_object(d)) {
		json_object_foreach((json_t *)d, k, v) {
			if (strcmp(k, "level") == 0 || (strcmp(k, "group") ==
			    0 && json_is_string(v) && strcmp(json_string_value(v),
			    jstr(ev, "group")) == 0))
				continue;
			if (json_is_string(v)) {
				const char *s = json_string_value(v);

				printf(strpbrk(s, " \"=") || !*s ?
				    " %s=\"%s\"" : " %s=%s", k, s);
			} else {
				char *s = json_dumps(v, JSON_COMPACT |
				    JSON_ENCODE_ANY);

				printf(" %s=%s", k, s ? s : "?");
				free(s);
			}
		}
	} else if (json_is_string(d))
		printf(" %s", json_string_value(d));
	printf("\n");
}

static int
v_history(struct ctl *c)
{
	static const struct option lo[] = {
		{ "limit", required_argument, NULL, 'l' },
		{ "json", no_argument, NULL, 'j' },
		{ "verify", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool js = false, verify = false;
	const char *group = NULL;
	size_t limit = 0;
	json_t *o = NULL, *ev;
	char err[512], *end;
	int ch;
	size_t i;

	optind = 0;
	while ((ch = getopt_long(c->argc, c->argv, "l:jvh", lo, NULL)) != -1) {
		switch (ch) {
		case 'l': {
			unsigned long long n;

			errno = 0;
			n = strtoull(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || end == optarg ||
			    optarg[0] == '-' || n > SIZE_MAX)
				return verb_usage(c, "bad --limit");
			limit = (size_t)n;
			break;
		}
		case 'j':
			js = true;
			break;
		case 'v':
			verify = true;
			break;
		case 'h':
			return verb_help(c);
		default:
			return verb_usage(c, NULL);
		}
	}
	if (c->argc - optind > 1)
		return verb_usage(c, "too many arguments");
	if (optind < c->argc)
		group = c->argv[optind];
	if (verify) {
		uint64_t bad = 0, count = 0;
		char why[512] = "";

		if (store_history_verify(c->st, &bad, &count, why,
		    sizeof(why)) != 0) {
			fail_line("history: %s", why);
			return EX_FAIL;
		}
		if (bad != 0) {
			char pre[40];
			size_t pl;

			/* The store's reason may name the event already. */
			pl = (size_t)snprintf(pre, sizeof(pre), "event %" PRIu64
			    ": ", bad);
			if (strncmp(why, pre, pl) == 0)
				memmove(why, why + pl, strlen(why + pl) + 1);
			fail_line("history: event %" PRIu64 " does not fit the"
			    " chain: %s (%" PRIu64 " events read)", bad, why,
			    count);
			return EX_FAIL;
		}
		printf("history: %" PRIu64 " events, chain verified\n", count);
		return EX_OK;
	}
	if (ops_events_json(c->st, 0, limit, group, &o, err,
	    sizeof(err)) != 0) {
		fail_line("history: %s", err);
		return EX_FAIL;
	}
	if (js) {
		char *s = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

		if (s != NULL)
			printf("%s\n", s);
		free(s);
	} else
		json_array_foreach(json_object_get(o, "events"), i, ev)
			event_print(ev);
	json_decref(o);
	return EX_OK;
}

/* ---- failover-status ---- */

static int
v_failover_status(struct ctl *c)
{
	static const struct option lo[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	enum eng_online on;
	char err[512];
	int ch;

	optind = 0;
	while ((ch = getopt_long(c->argc, c->argv, "h", lo, NULL)) != -1) {
		if (ch == 'h')
			return verb_help(c);
		return verb_usage(c, NULL);
	}
	if (c->argc - optind != 1)
		return verb_usage(c, "give one STACK");
	if (c->st == NULL) {
		char word[16], why[512];

		/* Not ours to read: the daemon reads it for us. */
		switch (ctl_api_failover_status(c->cfg, c->argv[optind], word,
		    sizeof(word), why, sizeof(why))) {
		case 0:
			printf("%s\n", word);
			return EX_OK;
		case 1:
			fail_line("failover-status: %s", why);
			return EX_FAIL;
		default:
			fail_line("failover-status: cannot read the state (%s)"
			    " nor ask failoverd (%s)", c->store_err, why);
			return EX_FAIL;
		}
	}
	if (ops_failover_status(c->st, c->cfg, c->argv[optind], &on, err,
	    sizeof(err)) != 0) {
		fail_line("failover-status: %s", err);
		return EX_FAIL;
	}
	printf("%s\n", eng_online_name(on));
	return EX_OK;
}

/* ---- DNS: verify and group delete, on a private loop ---- */

struct dnsjob {
	int			 pending;
	enum dnsup_result	 result;
	char			 detail[256];
	struct dnsup_found	 found;
	bool			 has_found;
};

static struct dnsup_engine *
dns_open(const struct config *cfg, struct event_base **base)
{
	struct dnsup_params p = { 0 };
	struct dnsup_engine *e;
	char err[256];

	if ((*base = event_base_new()) == NULL) {
		fail_line("cannot create an event loop");
		return NULL;
	}
	p.zone = cfg->dns.zone;
	p.key = &cfg->dns.key;
	p.servers = cfg->dns.server;
	p.nserver = cfg->dns.nserver;
	p.timeout_ms = cfg->dns.timeout_ms;
	p.retries = cfg->dns.retries;
	if ((e = dnsup_engine_new(*base, &p, err, sizeof(err))) == NULL) {
		fail_line("dns: %s", err);
		event_base_free(*base);
		*base = NULL;
	}
	return e;
}

static void
dns_close(struct dnsup_engine *e, struct event_base *base)
{
	dnsup_engine_free(e);
	if (base != NULL)
		event_base_free(base);
}

static void
readback_cb(const struct dnsup_outcome *o, const struct dnsup_found *f,
    void *arg)
{
	struct dnsjob *j = arg;

	j->pending--;
	j->result = o->result;
	snprintf(j->detail, sizeof(j->detail), "%s", o->detail);
	if (f != NULL) {
		j->found = *f;
		j->has_found = true;
	}
}

static void
update_cb(const struct dnsup_outcome *o, void *arg)
{
	struct dnsjob *j = arg;

	j->pending--;
	j->result = o->result;
	snprintf(j->detail, sizeof(j->detail), "%s", o->detail);
}

static int
readback(struct dnsup_engine *e, struct event_base *base, const char *name,
    bool with_owner, struct dnsjob *j)
{
	memset(j, 0, sizeof(*j));
	j->pending = 1;
	if (dnsup_readback(e, NULL, name, with_owner ? DNSUP_RB_OWNER : 0,
	    readback_cb, j) != 0) {
		snprintf(j->detail, sizeof(j->detail), "cannot ask for %s",
		    name);
		return -1;
	}
	while (j->pending > 0)
		if (event_base_loop(base, EVLOOP_ONCE) != 0)
			break;
	if (j->result != DNSUP_R_NOERROR || !j->has_found)
		return -1;
	return 0;
}

/* One group: 0 in sync, 1 drift, -1 could not tell. */
static int
verify_group(struct ctl *c, struct dnsup_engine *e, struct event_base *base,
    int gi)
{
	const char *name = c->cfg->groups[gi].name;
	struct eng_group g;
	struct dnsup_rrset want;
	struct dnsjob j;
	char addr[600], err[512], diff[512], wtxt[512];
	bool stored;
	int stack;
	uint32_t ttl;

	if (ops_group_state(c->st, c->cfg, name, &g, &stored, err,
	    sizeof(err)) != 0) {
		printf("%-12s error: %s\n", name, err);
		return -1;
	}
	if (ops_group_address(c->st, c->cfg, name, addr, sizeof(addr)) != 0) {
		printf("%-12s no address allocated yet\n", name);
		return g.status == ENG_RESERVED ? 0 : 1;
	}
	/* What the state says the server holds. */
	if (g.pub_stack >= 0) {
		stack = g.pub_stack;
		ttl = g.pub_ttl;
	} else {
		stack = g.status == ENG_RESERVED ? ENG_NONE : g.want_stack;
		ttl = g.want_ttl;
	}
	memset(&want, 0, sizeof(want));
	want.kind = DNSUP_RRSET_NONE;
	if (stack >= 0 && dnsup_rrset_from_webhead(&want,
	    &c->cfg->stacks[stack].web_head, ttl, err, sizeof(err)) != 0) {
		printf("%-12s %s: %s\n", name, addr, err);
		return -1;
	}
	if (readback(e, base, addr, false, &j) != 0) {
		printf("%-12s %s: cannot read back: %s %s\n", name, addr,
		    dnsup_result_name(j.result), j.detail);
		return -1;
	}
	dnsup_rrset_format(&want, wtxt, sizeof(wtxt));
	if (dnsup_rrset_compare(&want, &j.found.rrset, stack >= 0, diff,
	    sizeof(diff)) == 0) {
		printf("%-12s %s in sync: %s%s\n", name, addr, wtxt,
		    g.pub_stack < 0 && stack >= 0 ? " (state: not yet"
		    " confirmed published)" : "");
		return 0;
	}
	printf("%-12s %s DRIFT: %s (state: %s%s)\n", name, addr, diff,
	    stack >= 0 ? c->cfg->stacks[stack].name : "nothing published",
	    g.pub_stack < 0 && stack >= 0 ? ", not yet published" : "");
	return 1;
}

static int
v_verify(struct ctl *c)
{
	static const struct option lo[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct event_base *base = NULL;
	struct dnsup_engine *e;
	int ch, gi = -1, worst = 0, r;

	optind = 0;
	while ((ch = getopt_long(c->argc, c->argv, "h", lo, NULL)) != -1) {
		if (ch == 'h')
			return verb_help(c);
		return verb_usage(c, NULL);
	}
	if (c->argc - optind > 1)
		return verb_usage(c, "too many arguments");
	if (optind < c->argc) {
		for (size_t i = 0; i < c->cfg->ngroup; i++)
			if (strcmp(c->cfg->groups[i].name,
			    c->argv[optind]) == 0)
				gi = (int)i;
		if (gi < 0) {
			fail_line("verify: unknown group %s", c->argv[optind]);
			return EX_FAIL;
		}
	}
	if ((e = dns_open(c->cfg, &base)) == NULL)
		return EX_FAIL;
	for (size_t i = 0; i < c->cfg->ngroup; i++) {
		if (gi >= 0 && (int)i != gi)
			continue;
		r = verify_group(c, e, base, (int)i);
		if (r != 0)
			worst = 1;
	}
	dns_close(e, base);
	if (worst != 0)
		fail_line("verify: drift or unreadable records (see above)");
	return worst ? EX_FAIL : EX_OK;
}

/* Remove group's record at addr with a signed UPDATE, if it is ours. */
static int
record_remove(struct ctl *c, const char *group, const char *addr)
{
	struct event_base *base = NULL;
	struct dnsup_engine *e;
	struct dnsup_update u;
	struct dnsup_owner owner;
	struct dnsup_owner_plan plan;
	struct dnsup_rrset none;
	struct dnsjob j;
	char mine[300], why[1024];

	if ((e = dns_open(c->cfg, &base)) == NULL)
		return EX_FAIL;
	/* Never delete a name that is not ours. */
	if (readback(e, base, addr, true, &j) != 0) {
		fail_line("group delete: cannot read %s back: %s %s", addr,
		    dnsup_result_name(j.result), j.detail);
		dns_close(e, base);
		return EX_FAIL;
	}
	memset(&none, 0, sizeof(none));
	if (dnsup_owner_init(&owner, c->cfg->controller.name, group, 0) ==
	    -1 || dnsup_owner_format(&owner, mine, sizeof(mine)) == -1 ||
	    dnsup_owner_check(addr, &j.found, &owner, false, &none, &plan, why,
	    sizeof(why)) != DNSUP_R_NOERROR) {
		fail_line("group delete: refused: %s", why);
		dns_close(e, base);
		return EX_FAIL;
	}
	/* The server checks it too: our TXT, and what was read back. */
	memset(&u, 0, sizeof(u));
	u.name = addr;
	u.want.kind = DNSUP_RRSET_NONE;
	u.owner_txt = mine;
	u.owner_delete = true;
	dnsup_owner_apply(&plan, &u);
	memset(&j, 0, sizeof(j));
	j.pending = 1;
	if (dnsup_submit(e, &u, update_cb, &j) != 0) {
		fail_line("group delete: cannot build the UPDATE for %s", addr);
		dns_close(e, base);
		return EX_FAIL;
	}
	while (j.pending > 0)
		if (event_base_loop(base, EVLOOP_ONCE) != 0)
			break;
	dns_close(e, base);
	if (j.result != DNSUP_R_NOERROR) {
		fail_line("group delete: UPDATE removing %s failed: %s %s",
		    addr, dnsup_result_name(j.result), j.detail);
		return EX_FAIL;
	}
	return EX_OK;
}

static int
group_delete(struct ctl *c, const char *group)
{
	struct ops_reply r;
	char addr[600];

	if (ops_group_delete_check(c->st, c->cfg, group, addr, sizeof(addr),
	    &r) != 0) {
		fail_line("group delete: refused: %s", r.message);
		return EX_FAIL;
	}
	if (record_remove(c, group, addr) != EX_OK)
		return EX_FAIL;
	if (ops_group_delete(c->st, c->cfg, group, addr, now_ms(), &r) != 0) {
		fail_line("group delete: record removed but %s", r.message);
		return EX_FAIL;
	}
	printf("%s\n", r.message);
	return EX_OK;
}

/* ---- groups made at run time (ops_group.h) ---- */

/* A group made at run time: its definition, state, address; its record
   too when it is still published. */
static int
group_delete_rt(struct ctl *c, const char *group)
{
	struct ops_reply r;
	char actor[ENG_ACTOR_MAX], addr[600];

	ops_actor_self(actor, sizeof(actor));
	if (ops_group_remove(c->st, c->cfg, group, false, actor, now_ms(),
	    addr, sizeof(addr), &r) != 0) {
		if (strcmp(r.reason, "published") != 0) {
			fail_line("group delete: refused: %s", r.message);
			return EX_FAIL;
		}
		if (record_remove(c, group, addr) != EX_OK)
			return EX_FAIL;
		if (ops_group_remove(c->st, c->cfg, group, true, actor,
		    now_ms(), addr, sizeof(addr), &r) != 0) {
			fail_line("group delete: record removed but %s",
			    r.message);
			return EX_FAIL;
		}
	}
	/*
	 * XXX: a running daemon lets go of the group at its next poll; a
	 * step it commits for the group before that would leave its state
	 * behind (group delete removes it then).  A group that points at no
	 * stack has none in flight.
	 */
	if (addr[0] != '\0' && ops_group_delete(c->st, c->cfg, group, addr,
	    now_ms(), &r) != 0) {
		fail_line("group delete: no longer defined, but %s", r.message);
		return EX_FAIL;
	}
	printf("%s\n", r.message);
	return EX_OK;
}

/* Wait a little for the daemon to allocate an auto address. */
#define ADDR_WAIT_MS	3000

/* group add GROUP ... | group set GROUP ... */
static int
group_change(struct ctl *c, int at)
{
	static const struct option lo[] = {
		{ "address", required_argument, NULL, 'a' },
		{ "primary", required_argument, NULL, 'p' },
		{ "backup", required_argument, NULL, 'b' },
		{ "ttl", required_argument, NULL, 't' },
		{ "no-primary", no_argument, NULL, 'P' },
		{ "no-backup", no_argument, NULL, 'B' },
		{ NULL, 0, NULL, 0 },
	};
	bool add = strcmp(c->argv[at], "add") == 0;
	struct ops_group_spec sp;
	struct ops_reply r;
	struct config *ncfg = NULL;
	char actor[ENG_ACTOR_MAX], addr[600], err[512];
	int ch, argc = c->argc - at;
	char **argv = c->argv + at;

	memset(&sp, 0, sizeof(sp));
	optind = 0;
	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (ch) {
		case 'a':
			if (!add)
				return verb_usage(c, "set: the address of a"
				    " group cannot change");
			sp.address = optarg;
			break;
		case 'p':
		case 'P':
			if (sp.set_primary || (ch == 'P' && add))
				return verb_usage(c, ch == 'P' ? "add: a new"
				    " group has no primary unless given" :
				    "give --primary once");
			sp.set_primary = true;
			sp.primary = ch == 'p' ? optarg : NULL;
			break;
		case 'b':
		case 'B':
			if (sp.set_backup || (ch == 'B' && add))
				return verb_usage(c, ch == 'B' ? "add: a new"
				    " group has no backup unless given" :
				    "give --backup once");
			sp.set_backup = true;
			sp.backup = ch == 'b' ? optarg : NULL;
			break;
		case 't':
			sp.set_ttl = true;
			sp.ttl = optarg;
			break;
		default:
			return verb_usage(c, NULL);
		}
	}
	if (argc - optind != 1)
		return verb_usage(c, "give one GROUP");
	sp.name = argv[optind];
	ops_actor_self(actor, sizeof(actor));
	sp.actor = actor;
	if ((add ? ops_group_add(c->st, c->cfg, &sp, now_ms(), &r) :
	    ops_group_set(c->st, c->cfg, &sp, now_ms(), &r)) != 0) {
		fail_line("group %s: %s: %s", add ? "add" : "set",
		    r.outcome == OPS_BAD_REQUEST ? "invalid" : "refused",
		    r.message);
		return EX_FAIL;
	}
	printf("%s\n", r.message);
	if (!add || (sp.address != NULL && strcasecmp(sp.address, "auto") !=
	    0))
		return EX_OK;
	/* A running daemon takes it in within a poll and allocates. */
	if (ops_groups_config(c->st, c->cfg, &ncfg, err, sizeof(err)) != 0)
		return EX_OK;
	for (int64_t end = mono_ms() + ADDR_WAIT_MS; mono_ms() < end;
	    sleep_ms(FOLLOW_POLL_MS))
		if (ops_group_address(c->st, ncfg, sp.name, addr,
		    sizeof(addr)) == 0) {
			printf("%s: address %s\n", sp.name, addr);
			config_free(ncfg);
			return EX_OK;
		}
	printf("%s: address auto: allocated when failoverd takes the group"
	    " in (failoverctl group list shows it)\n", sp.name);
	config_free(ncfg);
	return EX_OK;
}

static int
group_list(struct ctl *c)
{
	char addr[600];

	printf("%-16s %-8s %-40s %-12s %-12s %s\n", "GROUP", "ORIGIN",
	    "ADDRESS", "PRIMARY", "BACKUP", "TTL");
	for (size_t i = 0; i < c->cfg->ngroup; i++) {
		const struct cfg_group *g = &c->cfg->groups[i];

		if (ops_group_address(c->st, c->cfg, g->name, addr,
		    sizeof(addr)) != 0)
			snprintf(addr, sizeof(addr), "auto (not allocated"
			    " yet)");
		printf("%-16s %-8s %-40s %-12s %-12s %us\n", g->name,
		    g->runtime ? "runtime" : "file", addr,
		    g->primary_name != NULL ? g->primary_name : "-",
		    g->backup_name != NULL ? g->backup_name : "-", g->ttl);
	}
	return EX_OK;
}

static int
v_group(struct ctl *c)
{
	static const struct option lo[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	optind = 0;
	while ((ch = getopt_long(c->argc, c->argv, "+h", lo, NULL)) != -1) {
		if (ch == 'h')
			return verb_help(c);
		return verb_usage(c, NULL);
	}
	if (c->argc - optind < 1)
		return verb_usage(c, "give a subcommand: add, set, list or"
		    " delete");
	if (strcmp(c->argv[optind], "list") == 0)
		return c->argc - optind != 1 ? verb_usage(c, "list takes no"
		    " argument") : group_list(c);
	if (strcmp(c->argv[optind], "add") == 0 ||
	    strcmp(c->argv[optind], "set") == 0)
		return group_change(c, optind);
	if (strcmp(c->argv[optind], "delete") != 0)
		return verb_usage(c, "unknown subcommand");
	if (c->argc - optind != 2)
		return verb_usage(c, "give one GROUP");
	{
		const struct cfg_group *cg = config_group_find(c->cfg,
		    c->argv[optind + 1]);

		if (cg != NULL && cg->runtime)
			return group_delete_rt(c, c->argv[optind + 1]);
	}
	return group_delete(c, c->argv[optind + 1]);
}

/* ---- main ---- */

static bool
wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			return false;
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return true;
	}
	return false;
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct ctl c = { 0 };
	struct config_errors errs = { 0 };
	const struct verb *v;
	char err[512];
	int ch, rc = 0;

	c.config_path = getenv("FAILOVERD_CONFIG");
	if (c.config_path == NULL || c.config_path[0] == '\0')
		c.config_path = CFG_DEFAULT_PATH;
	while ((ch = getopt_long(argc, argv, "+c:hV", lo, NULL)) != -1) {
		switch (ch) {
		case 'c':
			c.config_path = optarg;
			break;
		case 'h':
			usage_all(stdout);
			return EX_OK;
		case 'V':
			printf("failoverctl %s\n", FAILOVERD_VERSION);
			return EX_OK;
		default:
			usage_all(stderr);
			return EX_USAGE;
		}
	}
	if (optind >= argc) {
		usage_all(stderr);
		return EX_USAGE;
	}
	if (strcmp(argv[optind], "help") == 0) {
		if (optind + 1 < argc && (v = verb_find(argv[optind + 1]))) {
			printf("usage: failoverctl [-c FILE] %s\n\n%s\n",
			    v->usage, v->help);
			return EX_OK;
		}
		usage_all(stdout);
		return EX_OK;
	}
	if ((v = verb_find(argv[optind])) == NULL) {
		fprintf(stderr, "failoverctl: unknown verb %s\n", argv[optind]);
		usage_all(stderr);
		return EX_USAGE;
	}
	c.argc = argc - optind;
	c.argv = argv + optind;
	/* --help needs no configuration. */
	if (wants_help(c.argc, c.argv))
		return v->fn(&c);

	/*
	 * failover-status needs the state, never a secret: any user may ask
	 * (ctl_api.c), so the key and the token are not read.
	 */
	if (config_load_flags(c.config_path, v->fn == v_failover_status ?
	    CONFIG_NO_SECRETS : 0, &c.cfg, &errs) != 0) {
		for (size_t i = 0; i < errs.n; i++)
			fprintf(stderr, "%s\n", errs.msg[i]);
		if (errs.n == 0)
			fail_line("%s: cannot load the configuration",
			    c.config_path);
		config_errors_free(&errs);
		return EX_FAIL;
	}
	if (v->store && (rc = store_open(c.cfg->controller.state_dir,
	    c.cfg->controller.map_size, v->write ? 0 : STORE_RDONLY, &c.st,
	    err, sizeof(err))) != 0 && v->fn == v_failover_status) {
		c.st = NULL;
		c.store_err = err;
	} else if (v->store && rc != 0) {
		if (rc == STORE_E_NOTFOUND)
			fail_line("no state in %s yet (failoverd never ran"
			    " there): %s", c.cfg->controller.state_dir, err);
		else
			fail_line("store %s: %s: %s",
			    c.cfg->controller.state_dir, store_errname(rc),
			    err);
		config_free(c.cfg);
		return EX_FAIL;
	}
	/* The groups made at run time are groups like the file's. */
	if (c.st != NULL) {
		struct config *ncfg;

		if (ops_groups_config(c.st, c.cfg, &ncfg, err,
		    sizeof(err)) == 0) {
			config_free(c.cfg);
			c.cfg = ncfg;
		} else
			fail_line("warning: the groups made at run time are"
			    " left out: %s", err);
	}
	rc = v->fn(&c);
	store_close(c.st);
	config_free(c.cfg);
	return rc;
}

/* ---- cluster (ctl_cluster.c) ---- */

static int
v_cluster(struct ctl *c)
{
	static const struct option lo[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char err[512];
	json_t *o;
	bool js = false;
	int ch;

	optind = 0;
	while ((ch = getopt_long(c->argc, c->argv, "jh", lo, NULL)) != -1) {
		if (ch == 'j')
			js = true;
		else if (ch == 'h')
			return verb_help(c);
		else
			return verb_usage(c, NULL);
	}
	if (optind < c->argc)
		return verb_usage(c, "too many arguments");
	if (!c->cfg->cluster.enabled) {
		fail_line("%s", "no [cluster] section in the configuration");
		return EX_FAIL;
	}
	if ((o = ctl_cluster_read(c->cfg, err, sizeof(err))) == NULL) {
		fail_line("%s", err);
		return EX_FAIL;
	}
	if (js) {
		char *s = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

		if (s != NULL)
			printf("%s\n", s);
		free(s);
	} else
		ctl_cluster_print(o);
	json_decref(o);
	return EX_OK;
}
