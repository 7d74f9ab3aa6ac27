/*
 * engine.c - the decision engine: one pure state machine per group.
 * The operators' commands are in engine_cmd.c, the switch plan in
 * engine_plan.c, the names in engine_names.c (engine_int.h is what they
 * share).
 *
 * Every entry point works on a context (struct ctx) that collects RECORD
 * actions straight into the caller's struct eng_out and side effects into a
 * small local list; eng_step() then appends one PERSIST (when the state or
 * the history changed) followed by the side effects, which gives every
 * output the shape documented in engine.h: records, persist, effects.
 *
 * Whether the state changed is decided by comparing the whole struct with a
 * byte copy taken on entry.  eng_group_init() clears the struct with memset
 * and fields are only ever assigned, so padding stays zero and the
 * comparison is exact.
 */
#include "controller/core/engine.h"
#include "controller/core/engine_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>


static struct eng_action *effect(struct ctx *, enum eng_action_kind);
static bool	 is_down(const struct ctx *, int);
static bool	 is_up(const struct ctx *, int);
static void	 evaluate(struct ctx *);
static bool	 ttl_settled(struct ctx *, int);
static void	 want_record(struct ctx *);
static void	 dns_send(struct ctx *, bool);
static int	 gate(struct ctx *);
static void	 run_phase(struct ctx *);
static void	 finish_switch(struct ctx *);
static void	 fail_switch(struct ctx *, const char *);
static void	 abort_switch(struct ctx *);
static void	 on_resume(struct ctx *);
static void	 on_hook_done(struct ctx *, const struct eng_event *);
static void	 on_precheck_done(struct ctx *, const struct eng_event *);
static void	 on_dns_done(struct ctx *, const struct eng_event *);
static void	 announce(struct ctx *, int);
static void	 dns_verdict(struct ctx *, bool, const char *, bool);

#define GATE_PENDING	(-1)

int
eng_group_init(struct eng_group *g, const struct config *cfg, int group,
    bool paused)
{
	const struct cfg_group *grp;

	if (cfg == NULL || group < 0 || (size_t)group >= cfg->ngroup)
		return ENG_E_INVAL;
	grp = &cfg->groups[group];
	memset(g, 0, sizeof(*g));
	g->group = group;
	g->active = grp->primary;
	g->standby = grp->primary >= 0 ? grp->backup : ENG_NONE;
	g->status = grp->primary >= 0 ? ENG_SERVING : ENG_RESERVED;
	g->paused = paused;
	g->pinned = ENG_NONE;
	g->held = ENG_GATE_NONE;
	g->sw.from = g->sw.to = ENG_NONE;
	g->pub_stack = ENG_NONE;
	g->want_stack = ENG_NONE;
	g->dns_sent_stack = ENG_NONE;
	g->online = ENG_NONE;
	return 0;
}

const char *
ei_sname(const struct config *cfg, int s)
{
	if (s < 0 || (size_t)s >= cfg->nstack)
		return "-";
	return cfg->stacks[s].name;
}

struct eng_action *
ei_record(struct ctx *c, const char *name, enum eng_level lvl)
{
	struct eng_action *a;

	/* Records never exceed the room left for PERSIST and effects. */
	if (c->out->n + 1 + FX_MAX >= ENG_ACT_MAX)
		return NULL;
	a = &c->out->a[c->out->n++];
	a->kind = ENG_ACT_RECORD;
	a->u.rec.name = name;
	a->u.rec.level = lvl;
	a->u.rec.nkv = 0;
	c->nrec++;
	ei_kv(a, "group", "%s", c->grp->name);
	return a;
}

void
ei_kv(struct eng_action *a, const char *key, const char *fmt, ...)
{
	va_list ap;
	struct eng_kv *p;

	if (a == NULL || a->u.rec.nkv >= ENG_KV_MAX)
		return;
	p = &a->u.rec.kv[a->u.rec.nkv++];
	p->key = key;
	va_start(ap, fmt);
	vsnprintf(p->val, sizeof(p->val), fmt, ap);
	va_end(ap);
}

const char *
eng_record_get(const struct eng_action *a, const char *key)
{
	if (a->kind != ENG_ACT_RECORD)
		return NULL;
	for (int i = 0; i < a->u.rec.nkv; i++)
		if (strcmp(a->u.rec.kv[i].key, key) == 0)
			return a->u.rec.kv[i].val;
	return NULL;
}

static struct eng_action *
effect(struct ctx *c, enum eng_action_kind kind)
{
	struct eng_action *a;

	if (c->nfx >= FX_MAX) {
		memset(&c->sink, 0, sizeof(c->sink));
		return &c->sink;
	}
	a = &c->fx[c->nfx++];
	memset(a, 0, sizeof(*a));
	a->kind = kind;
	return a;
}

static void
set_timer(struct ctx *c, enum eng_timer t, int64_t at)
{
	struct eng_action *a;

	/* One timer of a kind per step: the latest request wins. */
	for (size_t i = 0; i < c->nfx; i++)
		if (c->fx[i].kind == ENG_ACT_SET_TIMER &&
		    c->fx[i].u.timer.timer == t) {
			c->fx[i].u.timer.at_ms = at;
			return;
		}
	a = effect(c, ENG_ACT_SET_TIMER);
	a->u.timer.timer = t;
	a->u.timer.at_ms = at;
}

const struct cfg_hook *
ei_phase_hook(const struct config *cfg, int s, enum eng_phase p)
{
	const struct cfg_stack *st;
	const struct cfg_hook *h = NULL;

	if (s < 0 || (size_t)s >= cfg->nstack)
		return NULL;
	st = &cfg->stacks[s];
	switch (p) {
	case ENG_PH_MAINT_ON:
		h = &st->maintenance_on;
		break;
	case ENG_PH_REPL_OFF:
		h = &st->replication_off;
		break;
	case ENG_PH_PROMOTE:
		h = &st->promote;
		break;
	case ENG_PH_MAINT_OFF:
	case ENG_PH_RESTORE:
		h = &st->maintenance_off;
		break;
	default:
		return NULL;
	}
	return h->argc > 0 ? h : NULL;
}

int
ei_phase_stack(const struct eng_switch *sw, enum eng_phase p)
{
	return p == ENG_PH_MAINT_ON || p == ENG_PH_RESTORE ? sw->from : sw->to;
}

/* Down and up for the gates: this member's health alone, the quorum's
   decision in a cluster (eng_world.quorum). */
static bool
is_down(const struct ctx *c, int s)
{
	if (s >= 0 && c->w->quorum != NULL)
		return c->w->quorum[s].decision == QUORUM_DOWN;
	return s >= 0 && c->w->health[s].state == HEALTH_DOWN;
}

static bool
is_up(const struct ctx *c, int s)
{
	if (s >= 0 && c->w->quorum != NULL)
		return c->w->quorum[s].decision == QUORUM_UP;
	return s >= 0 && c->w->health[s].state == HEALTH_UP;
}

/* In a cluster: some live member sees s down, too few for the quorum. */
static bool
quorum_short(const struct ctx *c, int s)
{
	return s >= 0 && c->w->quorum != NULL &&
	    c->w->quorum[s].decision != QUORUM_DOWN &&
	    c->w->quorum[s].down > 0;
}

/* Who sees what, on a record about stack s (a cluster's only). */
static void
quorum_kv(struct eng_action *a, const struct ctx *c, int s)
{
	const struct eng_quorum *q;

	if (c->w->quorum == NULL || s < 0)
		return;
	q = &c->w->quorum[s];
	ei_kv(a, "quorum", "%s", quorum_decision_name(q->decision));
	ei_kv(a, "required", "%zu", q->required);
	ei_kv(a, "live", "%zu", q->live);
	ei_kv(a, "seen_down", "%s", q->seen_down);
	ei_kv(a, "seen_up", "%s", q->seen_up);
	ei_kv(a, "seen_unknown", "%s", q->seen_unknown);
}

bool
ei_in_group(const struct eng_group *g, int s)
{
	return s != ENG_NONE && (s == g->active || s == g->standby);
}

/*
 * May the short TTL of stack s go back to ttl?  Only once s has gone
 * ENG_TTL_SETTLE_ROUNDS intervals (or rise, if more) without a failure:
 * a stack flapping faster than that keeps the short TTL instead of
 * costing two UPDATEs per flap (measured in test_engine: a stack failing
 * one check in three sent 3,272 UPDATEs an hour undamped, 1 damped).  The
 * short TTL only makes caches ask more often.  Not yet: a GATE timer
 * (which only evaluates) comes back when it may.
 */
static bool
ttl_settled(struct ctx *c, int s)
{
	const struct health *h = &c->w->health[s];
	int64_t rounds = h->rise > ENG_TTL_SETTLE_ROUNDS ? h->rise :
	    ENG_TTL_SETTLE_ROUNDS;
	int64_t left;

	if (h->last_fail_ms <= 0)
		return true;
	left = h->last_fail_ms + rounds * c->cfg->stacks[s].interval_ms -
	    c->now;
	if (left <= 0)
		return true;
	set_timer(c, ENG_TIMER_GATE, c->mono + left);
	return false;
}

/*
 * The record the group should publish while it serves: the active stack,
 * with the short TTL while it is suspect or down.
 */
static void
want_record(struct ctx *c)
{
	struct eng_group *g = c->g;
	const struct health *h;
	uint32_t ttl;
	struct eng_action *a;

	if (g->active == ENG_NONE)
		return;
	h = &c->w->health[g->active];
	ttl = c->grp->ttl;
	if (h->state == HEALTH_DOWN ||
	    (h->state == HEALTH_UP && h->fail_run > 0))
		ttl = c->grp->suspect_ttl;
	else if (g->want_stack == g->active &&
	    g->want_ttl == c->grp->suspect_ttl && !ttl_settled(c, g->active))
		ttl = c->grp->suspect_ttl;	/* damped: see ttl_settled() */
	if (g->want_stack == g->active && g->want_ttl != ttl) {
		if (ttl < g->want_ttl) {
			a = ei_record(c, "ttl_lowered", ENG_LVL_INFO);
		} else
			a = ei_record(c, "ttl_restored", ENG_LVL_INFO);
		ei_kv(a, "stack", "%s", ei_sname(c->cfg, g->active));
		ei_kv(a, "from", "%u", g->want_ttl);
		ei_kv(a, "to", "%u", ttl);
	}
	g->want_stack = g->active;
	g->want_ttl = ttl;
}

/*
 * Send the wanted record if the server does not have it, nothing is in
 * flight and the backoff allows.  `force`: send even if we believe the
 * server already has it (the flip).
 */
static void
dns_send(struct ctx *c, bool force)
{
	struct eng_group *g = c->g;
	struct eng_action *a;
	enum eng_dns_why why;

	if (g->want_stack == ENG_NONE || g->dns_ticket != 0)
		return;
	if (!force && g->pub_stack == g->want_stack &&
	    g->pub_ttl == g->want_ttl)
		return;
	if (c->w->stopping)
		return;
	if (c->mono < g->dns_retry_ms) {
		set_timer(c, ENG_TIMER_DNS, g->dns_retry_ms);
		return;
	}
	if (g->status == ENG_SWITCHING && g->sw.phase == ENG_PH_DNS)
		why = ENG_DNS_FLIP;
	else if (g->pub_stack == g->want_stack && g->pub_ttl == g->want_ttl)
		why = ENG_DNS_CHECK;
	else if (g->pub_stack == g->want_stack)
		why = ENG_DNS_TTL;
	else
		why = ENG_DNS_PUBLISH;
	if (++g->dns_last_ticket == 0)
		g->dns_last_ticket = 1;
	g->dns_ticket = g->dns_last_ticket;
	g->dns_sent_stack = g->want_stack;
	g->dns_sent_ttl = g->want_ttl;
	a = effect(c, ENG_ACT_DNS_UPDATE);
	a->u.dns.stack = g->want_stack;
	a->u.dns.prev = g->pub_stack;
	a->u.dns.ttl = g->want_ttl;
	a->u.dns.why = why;
	a->u.dns.ticket = g->dns_ticket;
}

/* Announce that stack s now takes the group's traffic. */
static void
announce(struct ctx *c, int s)
{
	struct eng_group *g = c->g;
	struct eng_action *a;
	const struct cfg_hook *hook;

	if (g->online == s)
		return;
	hook = c->grp->on_status_change.argc > 0 ? &c->grp->on_status_change :
	    NULL;
	if (g->online != ENG_NONE) {
		a = effect(c, ENG_ACT_STATUS_CHANGE);
		a->u.status.stack = g->online;
		a->u.status.status = ENG_STATUS_OFFLINE;
		a->u.status.hook = hook;
	} else {
		for (int i = 0; i < 2; i++) {
			int o = i == 0 ? g->active : g->standby;

			if (o == ENG_NONE || o == s)
				continue;
			a = effect(c, ENG_ACT_STATUS_CHANGE);
			a->u.status.stack = o;
			a->u.status.status = ENG_STATUS_OFFLINE;
			a->u.status.hook = hook;
		}
	}
	a = effect(c, ENG_ACT_STATUS_CHANGE);
	a->u.status.stack = s;
	a->u.status.status = ENG_STATUS_ONLINE;
	a->u.status.hook = hook;
	g->online = s;
}

enum eng_online
eng_stack_status(const struct eng_group *g, int s)
{
	if (s == ENG_NONE || !ei_in_group(g, s))
		return ENG_STATUS_NONE;
	if (g->online == ENG_NONE)
		return s == g->active ? ENG_STATUS_ONLINE : ENG_STATUS_OFFLINE;
	return g->online == s ? ENG_STATUS_ONLINE : ENG_STATUS_OFFLINE;
}

/*
 * The gates of an automatic failover, the active stack being down.
 * Returns ENG_GATE_NONE when the switch may start, GATE_PENDING while the
 * precheck runs, or the gate that holds.
 */
static int
gate(struct ctx *c)
{
	struct eng_group *g = c->g;
	const struct config *cfg = c->cfg;
	const struct cfg_hook *pre;
	struct eng_action *a;
	const struct cfg_stack *sb;

	if (g->status == ENG_FAILED)
		return ENG_GATE_FAILED;
	if (g->status == ENG_WAIT_REARM)
		return ENG_GATE_WAIT_REARM;
	if (!c->grp->auto_failover)
		return ENG_GATE_AUTO_OFF;
	if (g->paused)
		return ENG_GATE_PAUSED;
	if (g->pinned != ENG_NONE)
		return ENG_GATE_PINNED;
	if (cfg->controller.nwitness > 0) {
		if (c->w->witness == ENG_WITNESS_DOWN)
			return ENG_GATE_WITNESS_DOWN;
		if (c->w->witness != ENG_WITNESS_OK)
			return ENG_GATE_WITNESS_UNKNOWN;
	}
	if (cfg->controller.isolation_check) {
		size_t i;

		for (i = 0; i < cfg->nstack; i++)
			if (!is_down(c, (int)i))
				break;
		if (i == cfg->nstack)
			return ENG_GATE_ISOLATED;
	}
	if (g->standby == ENG_NONE)
		return ENG_GATE_NO_STANDBY;
	if (!is_up(c, g->standby))
		return c->w->quorum != NULL &&
		    c->w->quorum[g->standby].decision == QUORUM_NONE ?
		    ENG_GATE_NO_QUORUM : ENG_GATE_STANDBY_NOT_UP;
	if (c->w->health[g->standby].fail_run > 0)
		return ENG_GATE_STANDBY_SUSPECT;
	/* Before hold_down and the precheck: nothing is worth asking when
	 * the flip would be refused. */
	if (eng_dns_gate(g) != NULL)
		return ENG_GATE_DNS_UNUSABLE;
	if (g->has_switched &&
	    c->mono - g->last_switch_mono < c->grp->hold_down_ms) {
		set_timer(c, ENG_TIMER_GATE,
		    g->last_switch_mono + c->grp->hold_down_ms);
		return ENG_GATE_HOLD_DOWN;
	}
	sb = &cfg->stacks[g->standby];
	pre = sb->precheck.argc > 0 ? &sb->precheck : NULL;
	if (pre == NULL)
		return ENG_GATE_NONE;
	if (g->precheck_ok) {
		g->precheck_ok = false;
		return ENG_GATE_NONE;
	}
	if (g->precheck_running)
		return GATE_PENDING;
	if (c->mono < g->precheck_next_ms) {
		set_timer(c, ENG_TIMER_GATE, g->precheck_next_ms);
		return g->held == ENG_GATE_PRECHECK_FAILED ?
		    ENG_GATE_PRECHECK_FAILED : GATE_PENDING;
	}
	g->precheck_running = true;
	a = effect(c, ENG_ACT_RUN_PRECHECK);
	a->u.hook.phase = ENG_PH_DONE;
	a->u.hook.stack = g->standby;
	a->u.hook.from = g->active;
	a->u.hook.to = g->standby;
	a->u.hook.attempt = 1;
	a->u.hook.reason = ENG_REASON_AUTO;
	a->u.hook.dry_run = c->w->dry_run;
	a->u.hook.hook = pre;
	a->u.hook.timeout_ms = sb->hook_timeout_ms;
	return GATE_PENDING;
}

static void
evaluate(struct ctx *c)
{
	struct eng_group *g = c->g;
	struct eng_action *a;
	int r;

	if (g->status == ENG_RESERVED || c->w->stopping)
		return;
	if (g->status == ENG_SWITCHING) {
		if (g->sw.phase == ENG_PH_DNS)
			dns_send(c, true);
		return;
	}
	if (!is_down(c, g->active) && !quorum_short(c, g->active)) {
		if (g->held != ENG_GATE_NONE) {
			a = ei_record(c, "hold_cleared", ENG_LVL_INFO);
			ei_kv(a, "reason", "%s", eng_gate_name(g->held));
			ei_kv(a, "active", "%s", ei_sname(c->cfg, g->active));
			ei_kv(a, "health", "%s", c->w->quorum != NULL ?
			    quorum_decision_name(
			    c->w->quorum[g->active].decision) :
			    health_state_name(c->w->health[g->active].state));
			g->held = ENG_GATE_NONE;
		}
		g->precheck_ok = false;
	} else {
		/* The cluster does not see it down: nothing else to ask. */
		r = quorum_short(c, g->active) ? ENG_GATE_NO_QUORUM : gate(c);
		if (r == ENG_GATE_NONE) {
			ei_start_switch(c, g->standby, ENG_REASON_AUTO, false);
			return;
		}
		if (r == GATE_PENDING) {
			if (g->held == ENG_GATE_PRECHECK_FAILED)
				r = ENG_GATE_PRECHECK_FAILED;
			else
				r = ENG_GATE_PRECHECK_PENDING;
		}
		if (r != (int)g->held) {
			a = ei_record(c, "gate_held",
			    r == ENG_GATE_ISOLATED || r == ENG_GATE_FAILED ||
			    r == ENG_GATE_DNS_UNUSABLE ?
			    ENG_LVL_WARN : ENG_LVL_INFO);
			ei_kv(a, "reason", "%s", eng_gate_name(r));
			ei_kv(a, "active", "%s", ei_sname(c->cfg, g->active));
			ei_kv(a, "standby", "%s", ei_sname(c->cfg, g->standby));
			if (r == ENG_GATE_PRECHECK_FAILED)
				ei_kv(a, "exit", "%d", g->precheck_exit);
			if (r == ENG_GATE_DNS_UNUSABLE)
				ei_kv(a, "dns", "%s", eng_dns_gate(g));
			if (r == ENG_GATE_HOLD_DOWN)
				ei_kv(a, "until_ms", "%lld", (long long)(c->now +
				    g->last_switch_mono + c->grp->hold_down_ms -
				    c->mono));
			if (r == ENG_GATE_NO_QUORUM) {
				int s = quorum_short(c, g->active) ?
				    g->active : g->standby;

				ei_kv(a, "stack", "%s", ei_sname(c->cfg, s));
				quorum_kv(a, c, s);
			}
			g->held = r;
		}
	}
	want_record(c);
	/* A refusal, or no verdict yet since RESUME, is checked by sending
	 * the record again. */
	dns_send(c, g->dns_error[0] != '\0' || !g->dns_checked);
}

void
ei_start_switch(struct ctx *c, int to, enum eng_reason reason, bool force)
{
	struct eng_group *g = c->g;
	struct eng_switch *sw = &g->sw;
	struct eng_action *a;

	memset(sw, 0, sizeof(*sw));
	snprintf(sw->id, sizeof(sw->id), "%s-%lld", c->grp->name,
	    (long long)c->now);
	sw->from = g->active;
	sw->to = to;
	sw->reason = reason;
	sw->force = force;
	sw->phase = ENG_PH_MAINT_ON;
	sw->failed_phase = ENG_PH_DONE;
	sw->started_ms = c->now;
	sw->started_mono = c->mono;
	g->status = ENG_SWITCHING;
	g->has_switched = true;
	g->last_switch_ms = c->now;
	g->last_switch_mono = c->mono;
	g->nswitch++;
	g->held = ENG_GATE_NONE;
	g->precheck_ok = false;
	g->precheck_running = false;	/* a late answer is ignored */
	a = ei_record(c, "switch_started", reason == ENG_REASON_AUTO ?
	    ENG_LVL_WARN : ENG_LVL_INFO);
	ei_kv(a, "id", "%s", sw->id);
	ei_kv(a, "from", "%s", ei_sname(c->cfg, sw->from));
	ei_kv(a, "to", "%s", ei_sname(c->cfg, sw->to));
	ei_kv(a, "reason", "%s", eng_reason_name(reason));
	ei_kv(a, "force", "%s", force ? "yes" : "no");
	/* In a cluster the history names who saw the active stack down. */
	if (c->w->quorum != NULL)
		ei_kv(a, "seen_down", "%s", c->w->quorum[sw->from].seen_down);
	run_phase(c);
}

/*
 * Start the current phase, skipping phases without a hook.  While the
 * daemon stops, the phase is left journaled as next, not started: the
 * restart runs it as attempt 1.
 */
static void
run_phase(struct ctx *c)
{
	struct eng_group *g = c->g;
	struct eng_switch *sw = &g->sw;
	const struct cfg_hook *hook;
	struct eng_action *a;
	int s;

	while (sw->phase < ENG_PH_DNS || sw->phase == ENG_PH_RESTORE) {
		s = ei_phase_stack(sw, sw->phase);
		hook = ei_phase_hook(c->cfg, s, sw->phase);
		if (hook != NULL)
			break;
		a = ei_record(c, "phase_skipped", ENG_LVL_INFO);
		ei_kv(a, "id", "%s", sw->id);
		ei_kv(a, "phase", "%s", eng_phase_name(sw->phase));
		ei_kv(a, "stack", "%s", ei_sname(c->cfg, s));
		ei_kv(a, "reason", "no_hook");
		if (sw->phase == ENG_PH_RESTORE) {
			/* The hook went with a reload since the abort. */
			fail_switch(c, "no_hook");
			return;
		}
		sw->phase++;
		sw->attempt = 0;
	}
	sw->running = false;
	if (c->w->stopping)
		return;
	sw->attempt++;
	sw->running = true;
	sw->phase_started_ms = c->now;
	sw->phase_started_mono = c->mono;
	a = ei_record(c, "phase_started", ENG_LVL_INFO);
	ei_kv(a, "id", "%s", sw->id);
	ei_kv(a, "phase", "%s", eng_phase_name(sw->phase));
	ei_kv(a, "stack", "%s", ei_sname(c->cfg, ei_phase_stack(sw, sw->phase)));
	ei_kv(a, "attempt", "%d", sw->attempt);
	if (sw->phase == ENG_PH_DNS) {
		g->want_stack = sw->to;
		g->want_ttl = c->grp->ttl;
		g->dns_ticket = 0;	/* forget an UPDATE still in flight */
		dns_send(c, true);
		return;
	}
	s = ei_phase_stack(sw, sw->phase);
	a = effect(c, ENG_ACT_RUN_HOOK);
	a->u.hook.phase = sw->phase;
	a->u.hook.stack = s;
	a->u.hook.from = sw->from;
	a->u.hook.to = sw->to;
	memcpy(a->u.hook.id, sw->id, sizeof(a->u.hook.id));
	a->u.hook.attempt = sw->attempt;
	a->u.hook.reason = sw->reason;
	a->u.hook.dry_run = c->w->dry_run;
	a->u.hook.hook = ei_phase_hook(c->cfg, s, sw->phase);
	a->u.hook.timeout_ms = c->cfg->stacks[s].hook_timeout_ms;
}

/*
 * The sequence aborted: traffic stays on `from`.  If we put `from` into
 * maintenance, take it out again (phase restore), unless the group says
 * not to or there is no hook for it.
 */
static void
abort_switch(struct ctx *c)
{
	struct eng_switch *sw = &c->g->sw;

	sw->failed_phase = sw->phase;
	if (!sw->maint_on_ok) {
		fail_switch(c, "none");
		return;
	}
	if (!c->grp->restore_on_abort) {
		fail_switch(c, "off");
		return;
	}
	if (ei_phase_hook(c->cfg, sw->from, ENG_PH_RESTORE) == NULL) {
		fail_switch(c, "no_hook");
		return;
	}
	sw->phase = ENG_PH_RESTORE;
	sw->attempt = 0;
	run_phase(c);
}

/* The switch ends failed; `restore` says what became of the old stack. */
static void
fail_switch(struct ctx *c, const char *restore)
{
	struct eng_group *g = c->g;
	struct eng_switch *sw = &g->sw;
	struct eng_action *a;

	a = ei_record(c, "switch_failed", ENG_LVL_ERROR);
	ei_kv(a, "id", "%s", sw->id);
	ei_kv(a, "phase", "%s", eng_phase_name(sw->failed_phase));
	ei_kv(a, "from", "%s", ei_sname(c->cfg, sw->from));
	ei_kv(a, "to", "%s", ei_sname(c->cfg, sw->to));
	ei_kv(a, "traffic", "%s", ei_sname(c->cfg, g->active));
	ei_kv(a, "restore", "%s", restore);
	sw->phase = sw->failed_phase;
	sw->running = false;
	sw->ended_ms = c->now;
	g->status = ENG_FAILED;
	g->held = ENG_GATE_NONE;
}

static void
finish_switch(struct ctx *c)
{
	struct eng_group *g = c->g;
	struct eng_switch *sw = &g->sw;
	struct eng_action *a;

	a = ei_record(c, "phase_finished", ENG_LVL_INFO);
	ei_kv(a, "id", "%s", sw->id);
	ei_kv(a, "phase", "dns");
	ei_kv(a, "stack", "%s", ei_sname(c->cfg, sw->to));
	ei_kv(a, "attempt", "%d", sw->attempt);
	ei_kv(a, "result", "ok");
	ei_kv(a, "duration_ms", "%lld",
	    (long long)(c->mono - sw->phase_started_mono));
	a = ei_record(c, "switch_finished", ENG_LVL_INFO);
	ei_kv(a, "id", "%s", sw->id);
	ei_kv(a, "from", "%s", ei_sname(c->cfg, sw->from));
	ei_kv(a, "to", "%s", ei_sname(c->cfg, sw->to));
	ei_kv(a, "reason", "%s", eng_reason_name(sw->reason));
	ei_kv(a, "duration_ms", "%lld", (long long)(c->mono - sw->started_mono));
	sw->phase = ENG_PH_DONE;
	sw->running = false;
	sw->ended_ms = c->now;
	g->active = sw->to;
	g->standby = sw->from;
	g->status = ENG_WAIT_REARM;
	g->held = ENG_GATE_NONE;
}

/* Wall milliseconds since t, 0 when t is in the future. */
static int64_t
since(const struct ctx *c, int64_t t)
{
	return c->now > t ? c->now - t : 0;
}

static void
on_resume(struct ctx *c)
{
	struct eng_group *g = c->g;
	struct eng_action *a;

	/* Whatever was in flight died with the previous process. */
	g->dns_ticket = 0;
	g->dns_retry_ms = 0;
	g->dns_failures = 0;
	g->dns_checked = false;		/* checked again: see evaluate() */
	g->precheck_running = false;
	g->precheck_ok = false;
	g->precheck_next_ms = 0;
	/*
	 * Monotonic values of another run mean nothing: rebuild them from
	 * the persisted wall times.  A wall clock behind them (set back
	 * since) counts as "just now".
	 */
	if (g->has_switched)
		g->last_switch_mono = c->mono - since(c, g->last_switch_ms);
	if (g->sw.id[0] != '\0') {
		g->sw.started_mono = c->mono - since(c, g->sw.started_ms);
		g->sw.phase_started_mono = c->mono -
		    since(c, g->sw.phase_started_ms);
	}
	if (g->status != ENG_SWITCHING)
		return;
	a = ei_record(c, "switch_resumed", ENG_LVL_WARN);
	ei_kv(a, "id", "%s", g->sw.id);
	ei_kv(a, "phase", "%s", eng_phase_name(g->sw.phase));
	ei_kv(a, "interrupted", "%s", g->sw.running ? "yes" : "no");
	ei_kv(a, "attempt", "%d", g->sw.attempt);
	g->sw.running = false;
	run_phase(c);
}

static void
on_hook_done(struct ctx *c, const struct eng_event *ev)
{
	struct eng_group *g = c->g;
	struct eng_switch *sw = &g->sw;
	struct eng_action *a;
	bool ok = ev->u.hook.outcome == ENG_HOOK_OK;
	bool restore = sw->phase == ENG_PH_RESTORE;
	bool abort_ = !ok && sw->phase != ENG_PH_MAINT_ON && !restore;

	a = ei_record(c, ok ? "phase_finished" : "phase_failed",
	    ok ? ENG_LVL_INFO : abort_ || restore ? ENG_LVL_ERROR :
	    ENG_LVL_WARN);
	ei_kv(a, "id", "%s", sw->id);
	ei_kv(a, "phase", "%s", eng_phase_name(sw->phase));
	ei_kv(a, "stack", "%s", ei_sname(c->cfg, ei_phase_stack(sw, sw->phase)));
	ei_kv(a, "attempt", "%d", sw->attempt);
	ei_kv(a, "result", "%s", ok ? "ok" :
	    ev->u.hook.outcome == ENG_HOOK_TIMEOUT ? "timeout" : "failed");
	ei_kv(a, "exit", "%d", ev->u.hook.exit_code);
	ei_kv(a, "duration_ms", "%lld", (long long)ev->u.hook.duration_ms);
	if (!ok && !restore)
		ei_kv(a, "policy", "%s", abort_ ? "abort" : "continue");
	sw->running = false;
	if (restore) {
		fail_switch(c, ok ? "ok" : "failed");
		return;
	}
	if (sw->phase == ENG_PH_MAINT_ON)
		sw->maint_on_ok = ok;
	if (abort_) {
		abort_switch(c);
		return;
	}
	sw->phase++;
	sw->attempt = 0;
	run_phase(c);
}

static void
on_precheck_done(struct ctx *c, const struct eng_event *ev)
{
	struct eng_group *g = c->g;
	int64_t iv = 1000;

	g->precheck_running = false;
	if (g->standby != ENG_NONE)
		iv = c->cfg->stacks[g->standby].interval_ms;
	g->precheck_next_ms = c->mono + iv;
	g->precheck_exit = ev->u.precheck.exit_code;
	g->precheck_ok = ev->u.precheck.ok;
	if (!ev->u.precheck.ok && g->held != ENG_GATE_PRECHECK_FAILED &&
	    is_down(c, g->active) && g->status == ENG_SERVING) {
		struct eng_action *a;

		a = ei_record(c, "gate_held", ENG_LVL_INFO);
		ei_kv(a, "reason", "precheck_failed");
		ei_kv(a, "active", "%s", ei_sname(c->cfg, g->active));
		ei_kv(a, "standby", "%s", ei_sname(c->cfg, g->standby));
		ei_kv(a, "exit", "%d", g->precheck_exit);
		g->held = ENG_GATE_PRECHECK_FAILED;
	}
}

static void
on_dns_done(struct ctx *c, const struct eng_event *ev)
{
	struct eng_group *g = c->g;
	struct eng_action *a;
	int64_t delay;
	int prev;

	g->dns_ticket = 0;
	if (!ev->u.dns.ok) {
		g->dns_failures++;
		delay = ENG_DNS_BACKOFF_MIN_MS;
		for (int i = 1; i < g->dns_failures &&
		    delay < ENG_DNS_BACKOFF_MAX_MS; i++)
			delay *= 2;
		if (delay > ENG_DNS_BACKOFF_MAX_MS)
			delay = ENG_DNS_BACKOFF_MAX_MS;
		g->dns_retry_ms = c->mono + delay;
		a = ei_record(c, "dns_failed", ev->u.dns.retryable ?
		    ENG_LVL_WARN : ENG_LVL_ERROR);
		ei_kv(a, "stack", "%s", ei_sname(c->cfg, g->dns_sent_stack));
		ei_kv(a, "error", "%s", ev->u.dns.error != NULL ?
		    ev->u.dns.error : "unknown");
		ei_kv(a, "retryable", "%s", ev->u.dns.retryable ? "yes" : "no");
		ei_kv(a, "failures", "%d", g->dns_failures);
		ei_kv(a, "retry_in_ms", "%lld", (long long)delay);
		/* What happens next, said once where it is decided. */
		ei_kv(a, "next", "%s", ev->u.dns.retryable ? "retry" :
		    "retry anyway; no switch starts until the server accepts");
		if (g->status == ENG_SWITCHING && g->sw.phase == ENG_PH_DNS)
			ei_kv(a, "id", "%s", g->sw.id);
		if (!ev->u.dns.no_verdict)
			dns_verdict(c, false, ev->u.dns.error,
			    !ev->u.dns.retryable);
		set_timer(c, ENG_TIMER_DNS, g->dns_retry_ms);
		return;
	}
	if (!ev->u.dns.no_verdict)
		dns_verdict(c, true, NULL, false);
	g->dns_failures = 0;
	g->dns_retry_ms = 0;
	prev = g->pub_stack;
	g->pub_stack = g->dns_sent_stack;
	g->pub_ttl = g->dns_sent_ttl;
	if (prev == ENG_NONE && g->status != ENG_SWITCHING) {
		a = ei_record(c, "record_published", ENG_LVL_INFO);
		ei_kv(a, "stack", "%s", ei_sname(c->cfg, g->pub_stack));
		ei_kv(a, "ttl", "%u", g->pub_ttl);
	}
	if (g->status == ENG_SWITCHING && g->sw.phase == ENG_PH_DNS &&
	    g->pub_stack == g->sw.to)
		finish_switch(c);
	announce(c, g->pub_stack);
}

const char *
eng_dns_unusable(const struct eng_group *g)
{
	if (g->dns_error[0] == '\0')
		return NULL;
	if (g->dns_error_final || g->dns_error_run >= ENG_DNS_UNUSABLE_RUN)
		return g->dns_error;
	return NULL;
}

const char *
eng_dns_gate(const struct eng_group *g)
{
	if (!g->dns_checked)
		return "unchecked";
	return eng_dns_unusable(g);
}

/*
 * The server's verdict on the group's DNS.  Recorded when it makes the
 * DNS unusable (and which reason) or usable again, not on every retry.
 */
static void
dns_verdict(struct ctx *c, bool ok, const char *reason, bool final)
{
	struct eng_group *g = c->g;
	struct eng_action *a;
	const char *was = eng_dns_unusable(g), *now, *gate_was = eng_dns_gate(g);
	char before[ENG_DNS_REASON_MAX], gate_before[ENG_DNS_REASON_MAX];

	snprintf(before, sizeof(before), "%s", was != NULL ? was : "");
	snprintf(gate_before, sizeof(gate_before), "%s",
	    gate_was != NULL ? gate_was : "");
	/* Whole: the state is compared and persisted byte for byte. */
	memset(g->dns_error, 0, sizeof(g->dns_error));
	if (ok) {
		g->dns_error_final = false;
		g->dns_error_run = 0;
	} else {
		snprintf(g->dns_error, sizeof(g->dns_error), "%s",
		    reason != NULL && reason[0] != '\0' ? reason : "unknown");
		g->dns_error_final = final;
		if (g->dns_error_run < ENG_DNS_UNUSABLE_RUN * 1000)
			g->dns_error_run++;
	}
	g->dns_checked = true;
	now = eng_dns_unusable(g);
	if (now != NULL && strcmp(before, now) != 0) {
		a = ei_record(c, "dns_unusable", ENG_LVL_ERROR);
		ei_kv(a, "reason", "%s", now);
		ei_kv(a, "final", "%s", g->dns_error_final ? "yes" : "no");
		ei_kv(a, "refusals", "%d", g->dns_error_run);
	} else if (now == NULL && before[0] != '\0') {
		a = ei_record(c, "dns_usable", ENG_LVL_INFO);
		ei_kv(a, "was", "%s", before);
	}
	/* Held for another reason now (unchecked -> BADKEY): say so again. */
	now = eng_dns_gate(g);
	if (g->held == ENG_GATE_DNS_UNUSABLE && now != NULL &&
	    strcmp(gate_before, now) != 0)
		g->held = ENG_GATE_NONE;
}

static bool
event_valid(const struct eng_group *g, const struct eng_world *w,
    const struct eng_event *ev)
{
	const struct config *cfg = w->cfg;

	if (cfg == NULL || w->health == NULL || g->group < 0 ||
	    (size_t)g->group >= cfg->ngroup)
		return false;
	if (g->active >= (int)cfg->nstack || g->standby >= (int)cfg->nstack)
		return false;
	switch (ev->kind) {
	case ENG_EV_HEALTH:
		return ev->u.health.stack >= 0 &&
		    (size_t)ev->u.health.stack < cfg->nstack;
	case ENG_EV_CMD:
		return ev->u.cmd.stack >= ENG_NONE &&
		    ev->u.cmd.stack < (int)cfg->nstack &&
		    (unsigned)ev->u.cmd.kind <= ENG_CMD_SWITCH;
	case ENG_EV_TIMER:
		return (unsigned)ev->u.timer < ENG_NTIMER;
	default:
		return (unsigned)ev->kind <= ENG_EV_DNS_VERDICT;
	}
}

int
eng_step(struct eng_group *g, const struct eng_world *w,
    const struct eng_event *ev, struct eng_now now, struct eng_out *out)
{
	struct eng_group before;
	struct ctx c;
	int rc = 0;

	out->n = 0;
	if (g == NULL || w == NULL || ev == NULL || !event_valid(g, w, ev))
		return ENG_E_INVAL;
	memcpy(&before, g, sizeof(before));
	c.g = g;
	c.w = w;
	c.cfg = w->cfg;
	c.grp = &w->cfg->groups[g->group];
	c.now = now.wall_ms;
	c.mono = now.mono_ms;
	c.out = out;
	c.nrec = 0;
	c.nfx = 0;

	switch (ev->kind) {
	case ENG_EV_RESUME:
		on_resume(&c);
		break;
	case ENG_EV_EVALUATE:
	case ENG_EV_HEALTH:
		break;
	case ENG_EV_PRECHECK_DONE:
		if (!g->precheck_running)
			return 0;
		on_precheck_done(&c, ev);
		break;
	case ENG_EV_HOOK_DONE:
		if (g->status != ENG_SWITCHING || !g->sw.running ||
		    (g->sw.phase >= ENG_PH_DNS &&
		    g->sw.phase != ENG_PH_RESTORE) ||
		    ev->u.hook.phase != g->sw.phase ||
		    ev->u.hook.attempt != g->sw.attempt)
			return 0;
		on_hook_done(&c, ev);
		break;
	case ENG_EV_DNS_DONE:
		if (ev->u.dns.ticket == 0 || ev->u.dns.ticket != g->dns_ticket)
			return 0;
		on_dns_done(&c, ev);
		break;
	case ENG_EV_DNS_DRIFT:
		g->pub_stack = ENG_NONE;
		g->pub_ttl = 0;
		break;
	case ENG_EV_TIMER:
		break;
	case ENG_EV_CMD:
		rc = ei_on_cmd(&c, &ev->u.cmd);
		break;
	case ENG_EV_DNS_VERDICT:
		dns_verdict(&c, ev->u.verdict.ok, ev->u.verdict.reason,
		    ev->u.verdict.final);
		break;
	}
	if (rc == ENG_OK)
		evaluate(&c);
	/* A precheck's yes is good for the step that received it only. */
	g->precheck_ok = false;

	if (c.nrec > 0 || memcmp(&before, g, sizeof(before)) != 0)
		out->a[out->n++].kind = ENG_ACT_PERSIST;
	for (size_t i = 0; i < c.nfx && out->n < ENG_ACT_MAX; i++)
		out->a[out->n++] = c.fx[i];
	return rc;
}

