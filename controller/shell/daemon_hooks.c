/*
 * daemon_hooks.c - running the hooks an engine asks for: a switch's
 * phases, the precheck, the status notifications.  Each hook gets the
 * contract environment (hook.h, DESIGN.md "Hook environment"); its output
 * lines are logged with the switch's id, and its end is fed back to the
 * group's engine as an event, found by name (a reload may have replaced
 * the group meanwhile).
 */
#include "controller/shell/daemon_int.h"
#include "controller/shell/daemon_progress.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "controller/shell/hook.h"
#include "controller/base/log.h"

struct hctx {
	struct daemon	*d;
	enum hctx_kind	 kind;
	char		 group[STORE_NAME_MAX + 1];
	char		 phase[32];
	char		 stack[STORE_NAME_MAX + 1];	/* the hook acts on */
	char		 id[ENG_ID_MAX];	/* the switch's, "" outside one */
	enum eng_phase	 eng_phase;
	int		 attempt;
	int64_t		 timeout_ms;
};

/* " id=ID" of the switch a hook belongs to, "" outside one. */
static const char *
hctx_id(const struct hctx *c, char *buf, size_t len)
{
	if (c->id[0] == '\0')
		buf[0] = '\0';
	else
		snprintf(buf, len, " id=%s", log_q(c->id));
	return buf;
}

static void
hk_line_cb(struct hook *h, enum hook_stream stream, const char *line,
    size_t len, unsigned flags, void *arg)
{
	struct hctx *c = arg;
	char buf[4200], id[ENG_ID_MAX + 8];

	if (len >= sizeof(buf))
		len = sizeof(buf) - 1;
	memcpy(buf, line, len);
	buf[len] = '\0';
	if (flags & HOOK_LINE_TRUNCATED)
		log_warn("hook_output_truncated", "group=%s phase=%s stack=%s%s"
		    " stream=%s", log_q(c->group), c->phase, log_q(c->stack),
		    hctx_id(c, id, sizeof(id)), hook_stream_name(stream));
	else
		log_info("hook_output", "group=%s phase=%s stack=%s%s stream=%s"
		    " line=%s%s", log_q(c->group), c->phase, log_q(c->stack),
		    hctx_id(c, id, sizeof(id)), hook_stream_name(stream),
		    log_q(buf), (flags & HOOK_LINE_CUT) ? " cut=1" : "");
	/* failoverctl switch shows a running phase's last line. */
	if (c->kind == HCTX_SEQUENCE && !(flags & HOOK_LINE_TRUNCATED))
		dprogress_line(c->d, c->group, c->id, c->phase, c->stack, buf);
}

static void
hk_done_cb(struct hook *h, const struct hook_result *r, void *arg)
{
	struct hctx *c = arg;
	struct daemon *d = c->d;
	struct dgroup *g = daemon_group_find(d, c->group);
	struct eng_event ev;
	char id[ENG_ID_MAX + 8];

	/* exit=, as in phase_finished: status= is FAILOVER_STATUS's. */
	log_info("hook_exited", "group=%s phase=%s stack=%s%s outcome=%s"
	    " exit=%d signal=%d duration_ms=%lld pid=%ld%s%s",
	    log_q(c->group), c->phase, log_q(c->stack),
	    hctx_id(c, id, sizeof(id)), hook_outcome_name(r->outcome),
	    r->status, r->signal, (long long)r->duration_ms, (long)r->pid,
	    r->detail[0] ? " detail=" : "", r->detail[0] ? log_q(r->detail) : "");
	if (g != NULL && g->hook == h)
		g->hook = NULL;
	if (c->kind == HCTX_SEQUENCE)
		dprogress_end(d, c->group, c->id);
	memset(&ev, 0, sizeof(ev));
	if (g != NULL && c->kind == HCTX_SEQUENCE) {
		ev.kind = ENG_EV_HOOK_DONE;
		ev.u.hook.phase = c->eng_phase;
		ev.u.hook.attempt = c->attempt;
		ev.u.hook.outcome = hook_result_ok(r) ? ENG_HOOK_OK :
		    r->outcome == HOOK_TIMEOUT ? ENG_HOOK_TIMEOUT :
		    ENG_HOOK_FAILED;
		ev.u.hook.exit_code = r->status;
		ev.u.hook.duration_ms = r->duration_ms;
		/* Fed even while stopping: the phase's end is journaled. */
		dgroup_feed(g, &ev);
	} else if (g != NULL && c->kind == HCTX_PRECHECK) {
		ev.kind = ENG_EV_PRECHECK_DONE;
		ev.u.precheck.ok = hook_result_ok(r);
		ev.u.precheck.exit_code = r->status;
		dgroup_feed(g, &ev);
	}
	free(c);
	daemon_maybe_exit(d);
}

/* sw_id: for a status_change hook, the switch it ends ("" or NULL: none). */
void
daemon_run_hook(struct dgroup *g, const struct eng_action *a, enum hctx_kind kind,
    const char *status, const char *sw_id)
{
	struct daemon *d = g->d;
	const struct cfg_group *cg = &d->cfg->groups[g->idx];
	const struct cfg_hook *hk;
	struct hook_env env = { 0 };
	struct hook_spec spec = { 0 };
	struct hctx *c;
	char **envp, idkv[ENG_ID_MAX + 8];
	int stack, rc;

	c = calloc(1, sizeof(*c));
	if (c == NULL)
		fatal("out_of_memory", "where=daemon_run_hook");
	c->d = d;
	c->kind = kind;
	snprintf(c->group, sizeof(c->group), "%s", cg->name);
	if (kind == HCTX_STATUS) {
		stack = a->u.status.stack;
		hk = a->u.status.hook;
		snprintf(c->phase, sizeof(c->phase), "status_change");
		env.status = status;
		if (sw_id != NULL && sw_id[0] != '\0')
			env.id = sw_id;
		c->timeout_ms = d->cfg->stacks[stack].hook_timeout_ms;
	} else {
		stack = a->u.hook.stack;
		hk = a->u.hook.hook;
		c->eng_phase = a->u.hook.phase;
		c->attempt = a->u.hook.attempt;
		c->timeout_ms = a->u.hook.timeout_ms;
		snprintf(c->phase, sizeof(c->phase), "%s", kind ==
		    HCTX_PRECHECK ? "precheck" : eng_phase_name(a->u.hook.phase));
		env.from = daemon_sname(d, a->u.hook.from);
		env.to = daemon_sname(d, a->u.hook.to);
		if (kind == HCTX_SEQUENCE) {
			env.id = a->u.hook.id;
			env.attempt = (unsigned)a->u.hook.attempt;
			env.reason = eng_reason_name(a->u.hook.reason);
		}
	}
	env.group = cg->name;
	env.phase = c->phase;
	env.stack = daemon_sname(d, stack);
	snprintf(c->stack, sizeof(c->stack), "%s", env.stack);
	if (env.id != NULL)
		snprintf(c->id, sizeof(c->id), "%s", env.id);
	env.address = g->address;
	env.dry_run = d->dry_run;
	env.state_dir = d->state_real;
	env.epoch = daemon_epoch(d);
	envp = hook_env_build(&env, d->dry_run ? HOOK_PATH_DEFAULT : NULL);
	if (envp == NULL)
		fatal("out_of_memory", "where=hook_env_build");

	if (d->dry_run) {
		char *line = hook_render(hk->argv, envp);

		/* The daemon's event, marked: nothing is run. */
		log_info("hook_start", "group=%s phase=%s stack=%s%s"
		    " dry_run=yes command=%s", log_q(cg->name), c->phase,
		    log_q(env.stack), hctx_id(c, idkv, sizeof(idkv)),
		    log_q(line));
		free(line);
		free(envp);
		if (kind == HCTX_SEQUENCE) {
			struct eng_event ev = { .kind = ENG_EV_HOOK_DONE };

			ev.u.hook.phase = c->eng_phase;
			ev.u.hook.attempt = c->attempt;
			ev.u.hook.outcome = ENG_HOOK_OK;
			daemon_defer_event(d, cg->name, &ev, 0);
		} else if (kind == HCTX_PRECHECK) {
			struct eng_event ev = { .kind = ENG_EV_PRECHECK_DONE };

			ev.u.precheck.ok = true;
			daemon_defer_event(d, cg->name, &ev, 0);
		}
		free(c);
		return;
	}

	spec.argv = hk->argv;
	spec.envp = envp;
	spec.timeout_ms = c->timeout_ms;
	spec.group = cg->name;
	spec.phase = c->phase;
	spec.line_cb = hk_line_cb;
	spec.done_cb = hk_done_cb;
	spec.arg = c;
	log_info("hook_start", "group=%s phase=%s stack=%s argv0=%s%s",
	    log_q(cg->name), c->phase, log_q(env.stack), log_q(hk->argv[0]),
	    hctx_id(c, idkv, sizeof(idkv)));
	rc = hook_start(d->hooks, &spec, kind == HCTX_STATUS ? NULL : &g->hook);
	free(envp);
	if (rc != 0) {
		struct hook_result r = { .outcome = HOOK_NOSTART, .status = -1 };

		snprintf(r.detail, sizeof(r.detail), "%s", hook_strerror(rc));
		hk_done_cb(NULL, &r, c);
	}
}
