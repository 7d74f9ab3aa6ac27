/*
 * ctl_switch.c - failoverctl switch: the plan (what each phase will run,
 * the target's health), the question on the terminal, and then following
 * the switch phase by phase from the history until it completes, fails
 * or the wait ends.
 */

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "controller/face/ctl_int.h"
#include "controller/face/ctl_precheck.h"
#include "controller/face/progress.h"

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
	    f->phase, f->stack, (double)(ctl_mono_ms() - f->phase_mono) / 1000.0);
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
	const char *name = ctl_jstr(ev, "event");
	const json_t *d = json_object_get(ev, "data");
	const char *id = ctl_jstr(d, "id");

	if (f->id[0] == '\0') {
		if (strcmp(name, "cmd_refused") == 0 &&
		    strcmp(ctl_jstr(d, "cmd"), "switch") == 0) {
			f->done = -1;
			/* dns_unusable comes with the server's reason. */
			snprintf(f->why, sizeof(f->why), "refused by failoverd:"
			    " %s%s%s%s", ctl_jstr(d, "reason"),
			    ctl_jstr(d, "dns")[0] ? " (reason=" : "", ctl_jstr(d, "dns"),
			    ctl_jstr(d, "dns")[0] ? ")" : "");
			return;
		}
		if (strcmp(name, "switch_started") != 0)
			return;
		snprintf(f->id, sizeof(f->id), "%s", id);
		printf("switch %s started: %s -> %s (%s%s)\n", id,
		    ctl_jstr(d, "from"), ctl_jstr(d, "to"), ctl_jstr(d, "reason"),
		    strcmp(ctl_jstr(d, "force"), "yes") == 0 ? ", forced" : "");
		return;
	}
	if (strcmp(id, f->id) != 0)
		return;
	follow_untick(f);
	f->phase_mono = 0;
	if (strcmp(name, "phase_started") == 0) {
		snprintf(f->phase, sizeof(f->phase), "%s", ctl_jstr(d, "phase"));
		snprintf(f->stack, sizeof(f->stack), "%s", ctl_jstr(d, "stack"));
		f->phase_mono = ctl_mono_ms();
		if (strcmp(ctl_jstr(d, "attempt"), "1") != 0)
			printf("  %-16s %-8s attempt %s\n", ctl_jstr(d, "phase"),
			    ctl_jstr(d, "stack"), ctl_jstr(d, "attempt"));
	} else if (strcmp(name, "phase_finished") == 0 ||
	    strcmp(name, "phase_failed") == 0)
		printf("  %-16s %-8s %-8s %6s ms%s%s%s%s\n", ctl_jstr(d, "phase"),
		    ctl_jstr(d, "stack"), ctl_jstr(d, "result"), ctl_jstr(d, "duration_ms"),
		    strcmp(name, "phase_failed") == 0 ? "  exit " : "",
		    strcmp(name, "phase_failed") == 0 ? ctl_jstr(d, "exit") : "",
		    ctl_jstr(d, "policy")[0] ? ", policy " : "", ctl_jstr(d, "policy"));
	else if (strcmp(name, "phase_skipped") == 0)
		printf("  %-16s %-8s skipped (%s)\n", ctl_jstr(d, "phase"),
		    ctl_jstr(d, "stack"), ctl_jstr(d, "reason"));
	else if (strcmp(name, "switch_finished") == 0) {
		printf("switch %s completed in %s ms: %s now points at %s\n",
		    f->id, ctl_jstr(d, "duration_ms"), address, ctl_jstr(d, "to"));
		f->done = 1;
	} else if (strcmp(name, "switch_failed") == 0) {
		const char *r = ctl_jstr(d, "restore"), *t = ctl_jstr(d, "traffic");
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
		    " resume or switch)", f->id, ctl_jstr(d, "phase"), what);
	}
}

static int
follow_switch(struct ctl *c, const char *group, const struct ops_reply *r,
    int64_t timeout_ms)
{
	struct follow f = { .seq = r->history_seq };
	int64_t start = ctl_mono_ms(), warned = 0;
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
			ctl_fail_line("switch: %s", err);
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
		if (f.id[0] == '\0' && !warned && ctl_mono_ms() - start > 5000) {
			fprintf(stderr, "failoverctl: switch: failoverd has not"
			    " picked up the request yet (is it running?)\n");
			warned = 1;
		}
		if (ctl_mono_ms() - start > timeout_ms) {
			follow_untick(&f);
			if (f.id[0] == '\0')
				ctl_fail_line("switch: timed out after %lld s: the"
				    " request is still pending in the store and"
				    " runs when failoverd picks it up",
				    (long long)(timeout_ms / 1000));
			else
				ctl_fail_line("switch: timed out after %lld s in"
				    " phase %s; switch %s goes on in failoverd"
				    " (failoverctl status %s)",
				    (long long)(timeout_ms / 1000), f.phase,
				    f.id, group);
			return EX_FAIL;
		}
		ctl_sleep_ms(FOLLOW_POLL_MS);
	}
	follow_untick(&f);
	if (f.done < 0) {
		ctl_fail_line("switch: %s", f.why);
		return EX_FAIL;
	}
	return EX_OK;
}

/*
 * In a cluster the leader's history is its own, but every member that
 * runs a daemon mirrors each group's state from etcd into its store (the
 * followers' watch; the leader commits its own): the switch is followed
 * from that state, polled, as a phase is seen to begin and end.  The
 * answer came only once the request was in etcd (daemon_cluster_cmd.c),
 * so the mirror has it within a moment.  A request the leader took and
 * started no switch for (refused by its engine, expired, or withdrawn)
 * shows as no request pending and no new switch, for a few seconds.
 * What a poll sees is the state then: a phase shorter than a poll
 * (FOLLOW_POLL_MS) may not get a line of its own.
 */
#define FOLLOW_NOT_STARTED_MS	3000

static const char *
phase_stack(const json_t *ls, const char *phase)
{
	if (strcmp(phase, "dns") == 0)
		return "-";
	if (strcmp(phase, "maintenance_on") == 0 ||
	    strcmp(phase, "restore") == 0)
		return ctl_jstr(ls, "from");
	return ctl_jstr(ls, "to");
}

/*
 * The phase seen last, which started at phase_ms (wall) and gave way to
 * the phase ls names now, or ended the switch: failed only when the
 * switch failed in it, its duration up to what came next.
 */
static void
phase_line(const json_t *ls, const char *phase, int64_t phase_ms)
{
	bool same = strcmp(ctl_jstr(ls, "phase"), phase) == 0;
	int64_t end = json_integer_value(json_object_get(ls, same ?
	    "ended_ms" : "phase_started_ms"));

	printf("  %-16s %-8s %-8s %6lld ms\n", phase, phase_stack(ls, phase),
	    same && strcmp(ctl_jstr(ls, "result"), "failed") == 0 ? "failed" :
	    "ok", (long long)(end - phase_ms));
}

static int
follow_state(struct ctl *c, const char *group, const struct ops_reply *r,
    int64_t timeout_ms)
{
	int64_t start = ctl_mono_ms(), idle_since = 0, phase_ms = 0;
	char id[ENG_ID_MAX] = "", phase[32] = "", address[600], err[512];
	long attempt = 0;

	if (ops_group_address(c->st, c->cfg, group, address,
	    sizeof(address)) != 0)
		snprintf(address, sizeof(address), "%s", group);
	for (;;) {
		json_t *o = NULL, *ls;
		const char *ph;
		bool ended;

		if (ops_status(c->st, c->cfg, group, &o, err,
		    sizeof(err)) != 0) {
			ctl_fail_line("switch: %s", err);
			return EX_FAIL;
		}
		ls = json_object_get(o, "last_switch");
		if (id[0] == '\0' && json_integer_value(json_object_get(o,
		    "nswitch")) > r->nswitch && json_is_object(ls)) {
			snprintf(id, sizeof(id), "%s", ctl_jstr(ls, "id"));
			printf("switch %s started: %s -> %s (%s%s)\n", id,
			    ctl_jstr(ls, "from"), ctl_jstr(ls, "to"),
			    ctl_jstr(ls, "reason"), json_is_true(
			    json_object_get(ls, "force")) ? ", forced" : "");
		}
		if (id[0] == '\0') {
			/* Taken, and nothing started: say so, not wait. */
			if (json_is_true(json_object_get(json_object_get(o,
			    "flags"), "switch_requested")))
				idle_since = 0;
			else if (idle_since == 0)
				idle_since = ctl_mono_ms();
			json_decref(o);
			if (idle_since != 0 && ctl_mono_ms() - idle_since >
			    FOLLOW_NOT_STARTED_MS) {
				ctl_fail_line("switch: the leader took the"
				    " request and started no switch (refused by"
				    " its engine, expired, or withdrawn): see"
				    " failoverctl events on the leader's host");
				return EX_FAIL;
			}
		} else if (strcmp(ctl_jstr(ls, "id"), id) == 0) {
			ph = ctl_jstr(ls, "phase");
			ended = strcmp(ctl_jstr(ls, "result"), "running") != 0;
			/* A phase that gave way to another, or the end. */
			if (phase[0] != '\0' && (strcmp(ph, phase) != 0 ||
			    ended))
				phase_line(ls, phase, phase_ms);
			if (!ended && (strcmp(ph, phase) != 0 ||
			    json_integer_value(json_object_get(ls, "attempt")) !=
			    attempt)) {
				attempt = (long)json_integer_value(
				    json_object_get(ls, "attempt"));
				if (strcmp(ph, phase) == 0 || attempt > 1)
					printf("  %-16s %-8s attempt %ld\n", ph,
					    phase_stack(ls, ph), attempt);
				snprintf(phase, sizeof(phase), "%s", ph);
				phase_ms = json_integer_value(json_object_get(ls,
				    "phase_started_ms"));
			}
			if (ended) {
				int rc = EX_OK;

				if (strcmp(ctl_jstr(ls, "result"), "completed")
				    == 0)
					printf("switch %s completed in %lld ms:"
					    " %s now points at %s\n", id,
					    (long long)(json_integer_value(
					    json_object_get(ls, "ended_ms")) -
					    json_integer_value(json_object_get(ls,
					    "started_ms"))), address,
					    ctl_jstr(ls, "to"));
				else {
					ctl_fail_line("switch: switch %s failed in"
					    " phase %s; the group is failed until"
					    " an operator acts (rearm, resume or"
					    " switch): failoverctl status %s", id,
					    ph, group);
					rc = EX_FAIL;
				}
				json_decref(o);
				return rc;
			}
			json_decref(o);
		} else
			json_decref(o);
		fflush(stdout);
		if (ctl_mono_ms() - start > timeout_ms) {
			if (id[0] == '\0')
				ctl_fail_line("switch: timed out after %lld s: the"
				    " request is still pending in the cluster"
				    " and runs when the leader picks it up",
				    (long long)(timeout_ms / 1000));
			else
				ctl_fail_line("switch: timed out after %lld s in"
				    " phase %s; switch %s goes on in the"
				    " cluster's leader (failoverctl status %s)",
				    (long long)(timeout_ms / 1000), phase, id,
				    group);
			return EX_FAIL;
		}
		ctl_sleep_ms(FOLLOW_POLL_MS);
	}
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
	target = to != NULL ? to : ctl_jstr(o, "standby");
	if ((s = ctl_stack_find(o, target)) != NULL) {
		const json_t *since = json_object_get(s, "since_ms");

		if (json_is_integer(since))
			ctl_age_text(ctl_now_ms() - json_integer_value(since), age,
			    sizeof(age));
		printf("  target %s is %s%s%s%s%s%s\n", target,
		    ctl_jstr(s, "health"), age[0] ? " since " : "", age,
		    strcmp(ctl_jstr(s, "health"), "up") != 0 &&
		    ctl_jstr(s, "reason")[0] ? " (" : "", strcmp(ctl_jstr(s, "health"),
		    "up") != 0 ? ctl_jstr(s, "reason") : "",
		    strcmp(ctl_jstr(s, "health"), "up") != 0 &&
		    ctl_jstr(s, "reason")[0] ? ")" : "");
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
	    ctl_daemon_probe(c->cfg->controller.state_dir, &pid, &written) !=
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

int
ctl_v_precheck(struct ctl *c)
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
			return ctl_verb_help(c);
		else
			return ctl_verb_usage(c, NULL);
	}
	if (c->argc - optind != 1)
		return ctl_verb_usage(c, "give one GROUP");
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

int
ctl_v_switch(struct ctl *c)
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
	bool stored, here;
	long pid;
	int64_t written;
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
				return ctl_verb_usage(c, "bad --timeout");
			break;
		case 'h':
			return ctl_verb_help(c);
		default:
			return ctl_verb_usage(c, NULL);
		}
	}
	if (c->argc - optind != 1)
		return ctl_verb_usage(c, "give one GROUP");
	group = c->argv[optind];
	if (cancel) {
		if (to != NULL || force || yes)
			return ctl_verb_usage(c, "--cancel takes no --to, --force"
			    " or --yes");
		if (ctl_command(c, OPS_CANCEL, group, NULL, false, &r) != 0)
			return EX_FAIL;
		printf("%s\n", r.message);
		return EX_OK;
	}
	/*
	 * In a cluster, a host without a daemon has no copy of the group's
	 * state to judge the plan against (its store is not mirrored): the
	 * leader judges the switch, and only --yes gives it without a plan.
	 */
	here = !c->cfg->cluster.enabled || ctl_daemon_probe(
	    c->cfg->controller.state_dir, &pid, &written) == DAEMON_RUNNING;
	if (!here && !yes) {
		ctl_fail_line("switch: refused: no failoverd member runs on this"
		    " host, so there is no state here to show the plan from;"
		    " add --yes to give the switch to the cluster's leader,"
		    " which judges it");
		return EX_FAIL;
	}
	if (here && ops_switch_plan(c->st, c->cfg, group, to, force, plan,
	    sizeof(plan), &r) != 0) {
		ctl_fail_line("switch: refused: %s", r.message);
		return EX_FAIL;
	}
	if (!yes) {
		if (!isatty(STDIN_FILENO)) {
			ctl_fail_line("switch: refused: no terminal to ask on; add"
			    " --yes to switch %s", group);
			return EX_FAIL;
		}
		printf("%s", plan);
		if (plan[0] != '\0' && plan[strlen(plan) - 1] != '\n')
			printf("\n");
		plan_target_print(c, group, to);
		precheck_show(c, group, to, NULL);
		if (!ask_yes()) {
			ctl_fail_line("switch: not confirmed; nothing changed");
			return EX_FAIL;
		}
	}
	if (ctl_command(c, OPS_SWITCH, group, to, force, &r) != 0)
		return EX_FAIL;
	if (nowait) {
		printf("%s\n", r.message);
		return EX_OK;
	}
	if (!here) {
		printf("%s\n", r.message);
		printf("%s: no failoverd member runs on this host, so the"
		    " cluster's state is not mirrored here: not following the"
		    " switch (failoverctl status %s on a member's host)\n",
		    group, group);
		return EX_OK;
	}
	if (timeout < 0) {
		if (ops_group_state(c->st, c->cfg, group, &g, &stored, err,
		    sizeof(err)) != 0) {
			ctl_fail_line("switch: %s", err);
			return EX_FAIL;
		}
		timeout = switch_timeout_ms(c->cfg, &g);
	}
	/*
	 * One id for the operator: the switch's, printed once failoverd
	 * starts it (the request's number is in the history and in
	 * --no-wait's answer, for --cancel).
	 */
	/* In a cluster: which leader took it. */
	if (c->cfg->cluster.enabled)
		printf("%s\n", r.message);
	printf("%s: switch requested; following it (up to %lld s)\n", group,
	    (long long)(timeout / 1000));
	fflush(stdout);
	if (c->cfg->cluster.enabled)
		return follow_state(c, group, &r, timeout);
	return follow_switch(c, group, &r, timeout);
}
