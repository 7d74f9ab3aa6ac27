/*
 * daemon_precheck.c - run a precheck now because an operator asked
 * (failoverctl switch's plan, failoverctl precheck), and write the answer
 * to the store (the format: face/ops_precheck.h).
 *
 * The hook is run as the engine's precheck gate runs it (the same
 * environment: FAILOVER_PHASE=precheck, FAILOVER_STACK the target, FROM
 * and TO, no FAILOVER_ID), bounded by the stack's hook_timeout.  It is
 * not the group's hook (g->hook stays the engine's): the engine never
 * waits for it and never hears of it; only the answer in the store and
 * the log lines (request= instead of id=) say it ran.  At most one runs
 * per group, and never beside a hook of that group's switch: refused
 * while one runs, cancelled when one starts (dprecheck_yield).
 */
#include "controller/shell/daemon_precheck.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "controller/base/clock.h"
#include "controller/base/log.h"
#include "controller/face/ops_precheck.h"
#include "controller/shell/daemon_int.h"
#include "controller/shell/hook.h"
#include "controller/store/store.h"

#define PC_LINE_MAX	512

struct pcrun {
	struct daemon	*d;
	struct pcrun	*next;
	struct hook	*hook;		/* NULL once done */
	char		 group[STORE_NAME_MAX + 1];
	char		 stack[STORE_NAME_MAX + 1];
	char		 id[OPS_PRECHECK_ID_LEN];
	const char	*cancelled;	/* why it was cancelled, or NULL */
	char		 lines[OPS_PRECHECK_LINES][PC_LINE_MAX];
	size_t		 nlines;	/* lines seen, the last kept */
	int64_t		 lag_ms, lag_bytes;	/* -1: not reported */
};

static struct pcrun	*running;	/* one per group at most */

static struct pcrun *
run_find(const char *group)
{
	for (struct pcrun *r = running; r != NULL; r = r->next)
		if (strcmp(r->group, group) == 0)
			return r;
	return NULL;
}

static void
run_unlink(struct pcrun *r)
{
	for (struct pcrun **pp = &running; *pp != NULL; pp = &(*pp)->next)
		if (*pp == r) {
			*pp = r->next;
			return;
		}
}

/* Cancel r's hook (once); its done callback answers. */
static void
run_cancel(struct pcrun *r, const char *why)
{
	if (r->hook == NULL || r->cancelled != NULL)
		return;
	r->cancelled = why;
	log_warn("precheck_cancelled", "group=%s stack=%s request=%s"
	    " reason=%s", log_q(r->group), log_q(r->stack), r->id, why);
	hook_cancel(r->hook);
}

/* A line as a JSON string: bytes that are not UTF-8 become '?'. */
static json_t *
line_json(const char *line)
{
	char buf[PC_LINE_MAX];
	json_t *j;

	if ((j = json_string(line)) != NULL)
		return j;
	snprintf(buf, sizeof(buf), "%s", line);
	for (char *p = buf; *p != '\0'; p++)
		if ((unsigned char)*p >= 0x80)
			*p = '?';
	return json_string(buf);
}

/* Write the answer; a store that fails is logged (nobody else will). */
static void
answer(struct daemon *d, const char *group, const char *stack,
    const char *id, const char *verdict, const char *reason,
    const struct hook_result *res, const struct pcrun *r)
{
	struct store_txn txn;
	json_t *o, *lines;
	int rc;

	o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I}", "id", id, "group",
	    group, "stack", stack, "verdict", verdict, "reason", reason,
	    "ended_ms", (json_int_t)clock_wall_ms());
	lines = json_array();
	if (o == NULL || lines == NULL)
		fatal("out_of_memory", "where=precheck_answer");
	json_object_set_new(o, "exit", res != NULL && res->status >= 0 ?
	    json_integer(res->status) : json_null());
	json_object_set_new(o, "duration_ms", json_integer(res != NULL ?
	    res->duration_ms : 0));
	if (r != NULL) {
		size_t n = r->nlines < OPS_PRECHECK_LINES ? r->nlines :
		    OPS_PRECHECK_LINES;

		for (size_t i = r->nlines - n; i < r->nlines; i++)
			json_array_append_new(lines, line_json(
			    r->lines[i % OPS_PRECHECK_LINES]));
	}
	json_object_set_new(o, "lines", lines);
	json_object_set_new(o, "replication_lag_ms", r != NULL &&
	    r->lag_ms >= 0 ? json_integer(r->lag_ms) : json_null());
	json_object_set_new(o, "replication_lag_bytes", r != NULL &&
	    r->lag_bytes >= 0 ? json_integer(r->lag_bytes) : json_null());
	log_info("precheck_answered", "group=%s stack=%s request=%s"
	    " verdict=%s%s%s", log_q(group), log_q(stack), id, verdict,
	    reason[0] ? " reason=" : "", reason);
	if ((rc = store_txn_begin(d->store, true, &txn)) == 0) {
		ops_precheck_answer_put(&txn, group, o);
		rc = store_txn_commit(&txn);
	}
	if (rc != 0)
		log_error("store_failed", "op=precheck_answer group=%s error=%s"
		    " detail=%s", log_q(group), store_errname(rc),
		    log_q(txn.detail));
	json_decref(o);
}

static void
pc_line_cb(struct hook *h, enum hook_stream stream, const char *line,
    size_t len, unsigned flags, void *arg)
{
	struct pcrun *r = arg;
	char *slot = r->lines[r->nlines % OPS_PRECHECK_LINES];
	int64_t v;

	if (flags & HOOK_LINE_TRUNCATED)
		return;
	if (len >= PC_LINE_MAX)
		len = PC_LINE_MAX - 1;
	memcpy(slot, line, len);
	slot[len] = '\0';
	r->nlines++;
	if (ops_precheck_lag(slot, "replication_lag_ms", &v))
		r->lag_ms = v;
	if (ops_precheck_lag(slot, "replication_lag_bytes", &v))
		r->lag_bytes = v;
	log_info("hook_output", "group=%s phase=precheck stack=%s request=%s"
	    " stream=%s line=%s", log_q(r->group), log_q(r->stack), r->id,
	    hook_stream_name(stream), log_q(slot));
}

static void
pc_done_cb(struct hook *h, const struct hook_result *res, void *arg)
{
	struct pcrun *r = arg;
	struct daemon *d = r->d;
	const char *verdict;

	log_info("hook_exited", "group=%s phase=precheck stack=%s request=%s"
	    " outcome=%s exit=%d signal=%d duration_ms=%lld pid=%ld%s%s",
	    log_q(r->group), log_q(r->stack), r->id,
	    hook_outcome_name(res->outcome), res->status, res->signal,
	    (long long)res->duration_ms, (long)res->pid,
	    res->detail[0] ? " detail=" : "",
	    res->detail[0] ? log_q(res->detail) : "");
	if (r->cancelled != NULL)
		verdict = "cancelled";
	else if (hook_result_ok(res))
		verdict = "ok";
	else if (res->outcome == HOOK_TIMEOUT)
		verdict = "timeout";
	else
		verdict = "failed";
	answer(r->d, r->group, r->stack, r->id, verdict, r->cancelled != NULL ?
	    r->cancelled : "", res, r);
	run_unlink(r);
	free(r);
	daemon_maybe_exit(d);
}

/* Why REQ for G may not run now ("" when it may). */
static const char *
refusal(struct daemon *d, struct dgroup *g, int stack)
{
	if (d->stopping)
		return "stopping";
	if (d->dry_run)
		return "dry_run";
	if (!daemon_may_act(d))
		return "not_leader";
	if (d->cfg->stacks[stack].precheck.argc == 0)
		return "no_precheck";
	if (g->waiting)
		return "not_ready";
	if (g->hook != NULL || g->st.status == ENG_SWITCHING)
		return "switching";
	if (run_find(dgroup_name(g)) != NULL)
		return "busy";
	return "";
}

static void
start(struct daemon *d, struct dgroup *g, const struct ops_precheck_req *req)
{
	const char *name = dgroup_name(g), *why;
	int stack = config_stack_index(d->cfg, req->stack);
	const struct cfg_stack *cs;
	struct hook_env env = { 0 };
	struct hook_spec spec = { 0 };
	struct pcrun *r;
	char **envp;

	log_info("precheck_requested", "group=%s stack=%s request=%s actor=%s",
	    log_q(name), log_q(req->stack), req->id,
	    log_q(req->actor[0] ? req->actor : "unknown"));
	if (stack < 0) {
		answer(d, name, req->stack, req->id, "not_run",
		    "unknown_stack", NULL, NULL);
		return;
	}
	if ((why = refusal(d, g, stack))[0] != '\0') {
		answer(d, name, req->stack, req->id, "not_run", why, NULL,
		    NULL);
		return;
	}
	cs = &d->cfg->stacks[stack];
	if ((r = calloc(1, sizeof(*r))) == NULL)
		fatal("out_of_memory", "where=precheck");
	r->d = d;
	r->lag_ms = r->lag_bytes = -1;
	snprintf(r->group, sizeof(r->group), "%s", name);
	snprintf(r->stack, sizeof(r->stack), "%s", cs->name);
	snprintf(r->id, sizeof(r->id), "%s", req->id);
	/* The gate's environment: the hook cannot tell the two apart. */
	env.group = name;
	env.phase = "precheck";
	env.stack = cs->name;
	env.from = g->st.active >= 0 ? d->cfg->stacks[g->st.active].name :
	    "-";
	env.to = cs->name;
	env.address = g->address;
	env.state_dir = d->state_real;
	env.epoch = daemon_epoch(d);
	if ((envp = hook_env_build(&env, NULL)) == NULL)
		fatal("out_of_memory", "where=hook_env_build");
	spec.argv = cs->precheck.argv;
	spec.envp = envp;
	spec.timeout_ms = cs->hook_timeout_ms;
	spec.group = name;
	spec.phase = "precheck";
	spec.line_cb = pc_line_cb;
	spec.done_cb = pc_done_cb;
	spec.arg = r;
	log_info("hook_start", "group=%s phase=precheck stack=%s argv0=%s"
	    " request=%s", log_q(name), log_q(cs->name),
	    log_q(cs->precheck.argv[0]), r->id);
	r->next = running;
	running = r;
	if (hook_start(d->hooks, &spec, &r->hook) != 0) {
		run_unlink(r);
		answer(d, name, r->stack, r->id, "failed", "nostart", NULL,
		    NULL);
		free(r);
	}
	free(envp);
}

void
dprecheck_poll(struct daemon *d)
{
	struct ops_precheck_req *reqs;
	struct store_txn txn;
	int64_t now = clock_wall_ms();
	size_t n = d->cfg->ngroup;

	if (d->store == NULL || n == 0)
		return;
	if ((reqs = calloc(n, sizeof(*reqs))) == NULL)
		fatal("out_of_memory", "where=precheck_poll");
	if (store_txn_begin(d->store, false, &txn) != 0) {
		log_error("store_failed", "op=precheck_poll error=%s detail=%s",
		    store_errname(txn.err), log_q(txn.detail));
		free(reqs);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		const char *name = d->cfg->groups[i].name;
		char done[OPS_PRECHECK_ID_LEN];
		struct pcrun *r;

		if (!ops_precheck_request_get(&txn, name, &reqs[i]))
			continue;
		ops_precheck_answered(&txn, name, done, sizeof(done));
		r = run_find(name);
		/* Answered, running, or too old for anyone to wait on. */
		if (strcmp(done, reqs[i].id) == 0 ||
		    (r != NULL && strcmp(r->id, reqs[i].id) == 0) ||
		    now - reqs[i].ms > OPS_PRECHECK_MAX_AGE_MS ||
		    reqs[i].ms - now > OPS_PRECHECK_MAX_AGE_MS)
			reqs[i].id[0] = '\0';
	}
	store_txn_abort(&txn);
	for (size_t i = 0; i < n; i++)
		if (reqs[i].id[0] != '\0')
			start(d, &d->groups[i], &reqs[i]);
	free(reqs);
}

void
dprecheck_yield(struct dgroup *g)
{
	struct pcrun *r = run_find(dgroup_name(g));

	if (r != NULL)
		run_cancel(r, "switch_started");
}

void
dprecheck_stop_all(void)
{
	struct pcrun *next;

	for (struct pcrun *r = running; r != NULL; r = next) {
		next = r->next;
		run_cancel(r, "stopping");
	}
}
