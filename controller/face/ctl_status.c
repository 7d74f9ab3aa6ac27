/*
 * ctl_status.c - failoverctl status: trouble first, in 80 columns (or one
 * line per group with --wide), with a banner when no daemon holds the
 * state and an alarm naming the gate that holds a down active stack.
 */
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "controller/face/ctl_cluster.h"
#include "controller/face/ctl_int.h"

/* ---- status ---- */

/* A group's last switch: "WHEN FROM->TO REASON RESULT[ in N ms]". */
static void
last_switch_text(const json_t *ls, char *buf, size_t len)
{
	char when[40], dur[32] = "";
	int64_t st = json_integer_value(json_object_get(ls, "started_ms"));
	int64_t en = json_integer_value(json_object_get(ls, "ended_ms"));

	ctl_time_text(st, when, sizeof(when));
	if (en > 0)
		snprintf(dur, sizeof(dur), " in %lld ms", (long long)(en - st));
	snprintf(buf, len, "%s %s->%s %s %s%s", when, ctl_jstr(ls, "from"),
	    ctl_jstr(ls, "to"), ctl_jstr(ls, "reason"), ctl_jstr(ls, "result"),
	    dur);
}

static void
status_print(const json_t *groups)
{
	size_t i;
	json_t *g;
	int64_t now = ctl_now_ms();

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
			    strlen(flags), "pinned=%s,", ctl_jstr(fl, "pinned"));
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
		else if (strcmp(ctl_jstr(g, "held"), "none") == 0 ||
		    ctl_jstr(g, "held")[0] == '\0' ||
		    strcmp(ctl_jstr(g, "held"), ctl_jstr(g, "state_text")) == 0)
			snprintf(state, sizeof(state), "%s",
			    ctl_jstr(g, "state_text"));
		else if (strcmp(ctl_jstr(g, "held"), "dns_unusable") == 0)
			snprintf(state, sizeof(state), "%s (held: %s %s)",
			    ctl_jstr(g, "state_text"), ctl_jstr(g, "held"),
			    json_is_string(json_object_get(g, "dns_unusable")) ?
			    ctl_jstr(g, "dns_unusable") : "unchecked");
		else
			snprintf(state, sizeof(state), "%s (held: %s)",
			    ctl_jstr(g, "state_text"), ctl_jstr(g, "held"));
		/* Refused DNS is news before the active stack goes down. */
		if (json_is_string(json_object_get(g, "dns_unusable")) &&
		    strcmp(ctl_jstr(g, "held"), "dns_unusable") != 0)
			snprintf(state + strlen(state), sizeof(state) -
			    strlen(state), " (dns_unusable %s)",
			    ctl_jstr(g, "dns_unusable"));
		if (json_is_object(ls))
			last_switch_text(ls, last, sizeof(last));
		printf("%-12s %-32s %-8s %-20s %-16s %s\n", ctl_jstr(g, "name"),
		    json_is_string(json_object_get(g, "address")) ?
		    ctl_jstr(g, "address") : "(not allocated)",
		    json_is_string(json_object_get(g, "active")) ?
		    ctl_jstr(g, "active") : "-", state, flags, last);
		ctl_print_stacks(g, now);
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

enum daemon_seen
ctl_daemon_probe(const char *state_dir, long *pid, int64_t *written_ms)
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
const json_t *
ctl_stack_find(const json_t *g, const char *name)
{
	size_t j;
	json_t *s;

	json_array_foreach(json_object_get(g, "stacks"), j, s)
		if (strcmp(ctl_jstr(s, "name"), name) == 0)
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
	int64_t now = ctl_now_ms();

	printf("%-12s %-30s %-8s %s\n", "GROUP", "ADDRESS", "ACTIVE",
	    "STATE");
	json_array_foreach(groups, i, g) {
		const json_t *fl = json_object_get(g, "flags");
		const json_t *ls = json_object_get(g, "last_switch");
		const json_t *dns = json_object_get(json_object_get(g, "state"),
		    "dns");
		const char *derr = ctl_jstr(dns, "error"), *held = ctl_jstr(g, "held");
		const char *active = json_is_string(json_object_get(g,
		    "active")) ? ctl_jstr(g, "active") : NULL;
		const json_t *as = active != NULL ? ctl_stack_find(g, active) :
		    NULL;
		char flags[128] = "", state[64], gate[64];

		if (json_is_null(json_object_get(g, "state")))
			snprintf(state, sizeof(state), "not started");
		else if (derr[0] != '\0')
			snprintf(state, sizeof(state), "not_published");
		else
			snprintf(state, sizeof(state), "%s",
			    ctl_jstr(g, "state_text"));
		printf("%-12s %-30s %-8s %s\n", ctl_jstr(g, "name"),
		    json_is_string(json_object_get(g, "address")) ?
		    ctl_jstr(g, "address") : "(not allocated)",
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
			    ctl_jstr(g, "dns_unusable") : "unchecked");
		else
			snprintf(gate, sizeof(gate), "%s", held);
		if (as != NULL && strcmp(ctl_jstr(as, "health"), "down") == 0 &&
		    strcmp(ctl_jstr(g, "status"), "switching") != 0) {
			const char *verb, *rest;

			printf("  ! ALARM: active stack %s is down%s%s\n",
			    active, gate[0] ? "; no failover, held by gate " :
			    "", gate);
			if (gate_hint(held, &verb, &rest))
				printf("    failoverctl %s %s %s\n", verb,
				    ctl_jstr(g, "name"), rest);
		} else if (gate[0] != '\0' &&
		    strcmp(held, ctl_jstr(g, "state_text")) != 0)
			printf("  held: %s\n", gate);
		ctl_print_stacks(g, now);
		if (json_is_true(json_object_get(fl, "paused")))
			strcat(flags, " paused");
		if (json_is_string(json_object_get(fl, "pinned")))
			snprintf(flags + strlen(flags), sizeof(flags) -
			    strlen(flags), " pinned=%s", ctl_jstr(fl, "pinned"));
		if (json_is_true(json_object_get(fl, "rearm_requested")))
			strcat(flags, " rearm-pending");
		if (json_is_true(json_object_get(fl, "switch_requested")))
			strcat(flags, " switch-pending");
		if (flags[0] != '\0')
			printf("  flags:%s\n", flags);
		if (json_is_object(ls)) {
			char last[256];

			last_switch_text(ls, last, sizeof(last));
			printf("  last switch: %s\n", last);
		}
	}
}

int
ctl_v_status(struct ctl *c)
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
			return ctl_verb_help(c);
		else
			return ctl_verb_usage(c, NULL);
	}
	if (c->argc - optind > 1)
		return ctl_verb_usage(c, "too many arguments");
	if (optind < c->argc)
		group = c->argv[optind];
	rc = ops_status(c->st, c->cfg, group, &o, err, sizeof(err));
	if (rc != 0) {
		ctl_fail_line("%s", err);
		return EX_FAIL;
	}
	seen = ctl_daemon_probe(c->cfg->controller.state_dir, &pid, &written);
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
			ctl_time_text(written, when, sizeof(when));
			ctl_age_text(ctl_now_ms() - written, ago, sizeof(ago));
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
