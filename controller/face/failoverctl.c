/*
 * failoverctl.c - the operators' ctl_command line.
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

#include "controller/face/ctl_api.h"
#include "controller/face/ctl_cluster.h"
#include "controller/face/ops_remote.h"
#include "cluster/cl_schema.h"
#include "controller/face/ctl_int.h"


struct verb {
	const char	*name;
	int		(*fn)(struct ctl *);
	bool		 write;		/* opens the store read-write */
	bool		 store;		/* needs the store at all */
	const char	*usage;
	const char	*help;
};

static int	 v_flag(struct ctl *);
static int	 v_pin(struct ctl *);
static int	 v_history(struct ctl *);
static int	 v_failover_status(struct ctl *);
static int	 v_cluster(struct ctl *);

static const struct verb verbs[] = {
	{ "status", ctl_v_status, false, true,
	  "status [GROUP] [--json] [--wide]",
	  "Show each group: address, active stack, each stack's health and\n"
	  "since when, state (serving, switching/PHASE, failed, wait_rearm,\n"
	  "not_published), override flags and the last switch, in 80 columns;\n"
	  "trouble first, on lines that start with '!'.  A banner says when\n"
	  "no failoverd runs on the state.  --wide: one line per group, as\n"
	  "before.  --json prints the same as GET /v1/groups." },
	{ "switch", ctl_v_switch, true, true,
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
	{ "precheck", ctl_v_precheck, true, true,
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
	{ "verify", ctl_v_verify, false, true, "verify [GROUP]",
	  "Ask the DNS server what it publishes for each group and compare\n"
	  "with what the state says is published: exit 0 in sync, 1 drift\n"
	  "(the difference is shown)." },
	{ "group", ctl_v_group, true, true,
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

void
ctl_fail_line(const char *fmt, ...)
{
	va_list ap;

	fputs("failoverctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int64_t
ctl_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
ctl_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
ctl_sleep_ms(int64_t ms)
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

int
ctl_verb_usage(const struct ctl *c, const char *why)
{
	const struct verb *v = verb_find(c->argv[0]);

	if (why != NULL)
		fprintf(stderr, "failoverctl %s: %s\n", c->argv[0], why);
	if (v != NULL)
		fprintf(stderr, "usage: failoverctl %s\n", v->usage);
	return EX_USAGE;
}

int
ctl_verb_help(const struct ctl *c)
{
	const struct verb *v = verb_find(c->argv[0]);

	printf("usage: failoverctl [-c FILE] %s\n\n%s\n", v->usage, v->help);
	return EX_OK;
}

/* "5s", "3m12s", "2h5m", "4d3h" */
void
ctl_age_text(int64_t ms, char *buf, size_t len)
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

void
ctl_time_text(int64_t ms, char *buf, size_t len)
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
const char *
ctl_jstr(const json_t *o, const char *key)
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
void
ctl_print_stacks(const json_t *g, int64_t now)
{
	size_t j;
	json_t *s;

	json_array_foreach(json_object_get(g, "stacks"), j, s) {
		const json_t *since = json_object_get(s, "since_ms");
		char age[32] = "", reason[80] = "";

		if (json_is_integer(since))
			ctl_age_text(now - json_integer_value(since), age,
			    sizeof(age));
		if (strcmp(ctl_jstr(s, "health"), "up") != 0 &&
		    ctl_jstr(s, "reason")[0] != '\0' &&
		    strcmp(ctl_jstr(s, "reason"), "ok") != 0)
			snprintf(reason, sizeof(reason), " (%s)",
			    ctl_jstr(s, "reason"));
		printf("  %-10s %-8s %-8s %-7s %s%s%s\n",
		    ctl_jstr(s, "name"), ctl_jstr(s, "role"), ctl_jstr(s, "health"),
		    ctl_jstr(s, "failover_status"), age[0] ? "since " : "",
		    age[0] ? age : "", reason);
	}
}

/* ---- pause, resume, unpin, rearm, pin ---- */

/* Through etcd to the leader (ops_remote.h), its name in the message. */
static void
ctl_remote(struct ctl *c, const struct ops_request *req, struct ops_reply *r)
{
	char leader[CL_NAME_MAX], msg[OPS_MSG_MAX + CL_NAME_MAX + 32];

	ops_remote_command(c->cfg, req, 2 * c->cfg->cluster.lease_ttl_ms +
	    1000, r, leader, sizeof(leader));
	if (leader[0] == '\0')
		return;
	snprintf(msg, sizeof(msg), "%s (applied by the leader %s)",
	    r->message, leader);
	snprintf(r->message, sizeof(r->message), "%.*s",
	    (int)sizeof(r->message) - 1, msg);
}

int
ctl_command(struct ctl *c, enum ops_verb verb, const char *group,
    const char *stack, bool force, struct ops_reply *r)
{
	struct ops_request req = { .verb = verb, .group = group,
	    .stack = stack, .force = force };
	char actor[ENG_ACTOR_MAX];

	ops_actor_self(actor, sizeof(actor));
	req.actor = actor;
	/* In a cluster the leader applies it, whichever member this is. */
	if (c->cfg->cluster.enabled)
		ctl_remote(c, &req, r);
	else
		ops_command(c->st, c->cfg, &req, ctl_now_ms(), r);
	if (r->code != 0) {
		ctl_fail_line("%s: refused: %s", ops_verb_name(verb), r->message);
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
			return ctl_verb_help(c);
		else
			return ctl_verb_usage(c, NULL);
	}
	if (all ? optind != c->argc : c->argc - optind != 1)
		return ctl_verb_usage(c, all ? "--all takes no group" :
		    can_all ? "give a GROUP or --all" : "give one GROUP");
	if (ctl_command(c, (enum ops_verb)verb, all ? NULL : c->argv[optind], NULL,
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
			return ctl_verb_help(c);
		return ctl_verb_usage(c, NULL);
	}
	if (c->argc - optind != 2)
		return ctl_verb_usage(c, "give a GROUP and a STACK");
	if (ctl_command(c, OPS_PIN, c->argv[optind], c->argv[optind + 1], false,
	    &r) != 0)
		return EX_FAIL;
	printf("%s\n", r.message);
	return EX_OK;
}

/* ---- history ---- */

static void
event_print(const json_t *ev)
{
	const json_t *d = json_object_get(ev, "data");
	const char *k;
	json_t *v;
	char ts[48];

	snprintf(ts, sizeof(ts), "%s", ctl_jstr(ev, "ts"));
	printf("%6lld %s %-10s %-18s", (long long)json_integer_value(
	    json_object_get(ev, "seq")), ts, ctl_jstr(ev, "group")[0] ?
	    ctl_jstr(ev, "group") : "-", ctl_jstr(ev, "event"));
	if (json_is_object(d)) {
		json_object_foreach((json_t *)d, k, v) {
			if (strcmp(k, "level") == 0 || (strcmp(k, "group") ==
			    0 && json_is_string(v) && strcmp(json_string_value(v),
			    ctl_jstr(ev, "group")) == 0))
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
				return ctl_verb_usage(c, "bad --limit");
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
			return ctl_verb_help(c);
		default:
			return ctl_verb_usage(c, NULL);
		}
	}
	if (c->argc - optind > 1)
		return ctl_verb_usage(c, "too many arguments");
	if (optind < c->argc)
		group = c->argv[optind];
	if (verify) {
		uint64_t bad = 0, count = 0;
		char why[512] = "";

		if (store_history_verify(c->st, &bad, &count, why,
		    sizeof(why)) != 0) {
			ctl_fail_line("history: %s", why);
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
			ctl_fail_line("history: event %" PRIu64 " does not fit the"
			    " chain: %s (%" PRIu64 " events read)", bad, why,
			    count);
			return EX_FAIL;
		}
		printf("history: %" PRIu64 " events, chain verified\n", count);
		return EX_OK;
	}
	if (ops_events_json(c->st, 0, limit, group, &o, err,
	    sizeof(err)) != 0) {
		ctl_fail_line("history: %s", err);
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
			return ctl_verb_help(c);
		return ctl_verb_usage(c, NULL);
	}
	if (c->argc - optind != 1)
		return ctl_verb_usage(c, "give one STACK");
	if (c->st == NULL) {
		char word[16], why[512];

		/* Not ours to read: the daemon reads it for us. */
		switch (ctl_api_failover_status(c->cfg, c->argv[optind], word,
		    sizeof(word), why, sizeof(why))) {
		case 0:
			printf("%s\n", word);
			return EX_OK;
		case 1:
			ctl_fail_line("failover-status: %s", why);
			return EX_FAIL;
		default:
			ctl_fail_line("failover-status: cannot read the state (%s)"
			    " nor ask failoverd (%s)", c->store_err, why);
			return EX_FAIL;
		}
	}
	if (ops_failover_status(c->st, c->cfg, c->argv[optind], &on, err,
	    sizeof(err)) != 0) {
		ctl_fail_line("failover-status: %s", err);
		return EX_FAIL;
	}
	printf("%s\n", eng_online_name(on));
	return EX_OK;
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
			ctl_fail_line("%s: cannot load the configuration",
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
			ctl_fail_line("no state in %s yet (failoverd never ran"
			    " there): %s", c.cfg->controller.state_dir, err);
		else
			ctl_fail_line("store %s: %s: %s",
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
			ctl_fail_line("warning: the groups made at run time are"
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
			return ctl_verb_help(c);
		else
			return ctl_verb_usage(c, NULL);
	}
	if (optind < c->argc)
		return ctl_verb_usage(c, "too many arguments");
	if (!c->cfg->cluster.enabled) {
		ctl_fail_line("%s", "no [cluster] section in the configuration");
		return EX_FAIL;
	}
	if ((o = ctl_cluster_read(c->cfg, err, sizeof(err))) == NULL) {
		ctl_fail_line("%s", err);
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
