/*
 * simulate.c - `failoverd simulate`: scenario in, events in virtual time out.
 *
 * A discrete-event loop over one min-heap of (time, sequence) items: probe
 * starts and late probe results per stack; hook, precheck and DNS answers
 * and the engine's two timers per group.  Scenario lines are applied
 * before heap items of the same millisecond.  Items that may be replaced
 * (timers, answers) carry a generation number; a popped item whose
 * generation is not current is dropped, which is how a re-armed timer
 * cancels the old one without searching the heap.
 *
 * Speed: the steady state (a probe whose result changes nothing) costs one
 * source call, one health_step() and one heap push/pop; nothing is
 * allocated and nothing is formatted.  Lines are built only for events.
 */
#include "controller/sim/simulate.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controller/sim/sim_line.h"
#include "controller/sim/sim_members.h"
#include "probes/probe.h"

enum qkind {
	Q_PROBE = 0,	/* stack: a probe starts */
	Q_RESULT,	/* stack: a slow probe's result arrives */
	Q_HOOK,		/* group: the running hook ends */
	Q_PRE,		/* group: the precheck ends */
	Q_DNS,		/* group: the UPDATE is answered */
	Q_TIMER_DNS,	/* group: engine timer ENG_TIMER_DNS */
	Q_TIMER_GATE,	/* group: engine timer ENG_TIMER_GATE */
	Q_NKIND,
};

struct qitem {
	int64_t		t;
	uint64_t	seq;
	uint32_t	kind;
	uint32_t	idx;
	uint32_t	gen;
};

struct sim_stack {
	struct health	 h;
	/* the scenario's outcome for this stack */
	enum scn_probe	 mode;
	int		 status;
	int64_t		 flap_ms, flap_t0;
	int64_t		 outage_ms;	/* scenario made it fail; -1: healthy */
	int64_t		 down_ms;	/* health went down; -1 */
	/* a probe whose result is late */
	int64_t		 started_ms;
	bool		 pend_ok;
	int		 pend_reason;
	/* hooks that misbehave: runs left (SCN_ALWAYS: all), how */
	int		 hook_left[SCN_NHPHASE];
	enum scn_hook_act hook_act[SCN_NHPHASE];
	bool		 active;	/* takes some group's traffic */
};

struct sim_group {
	struct eng_group g;
	uint32_t	 gen[Q_NKIND];
	struct eng_event pend[Q_NKIND];	/* answer to deliver, by kind */
	int64_t		 failed_since;	/* -1 */
	int64_t		 failed_total;
	int		 switches, completed, failed;
	char		 flips[256];	/* outage_to_flip_ms list */
	char		 detects[256];	/* detect_ms list */
	int		 pre_stack;	/* the precheck's, while it runs */
};

struct sim {
	const struct config	*cfg;
	const struct scenario	*scn;
	const struct sim_options *opt;
	const struct sim_source	*src;
	int64_t			 now;
	uint64_t		 seq;
	struct qitem		*heap;
	size_t			 nheap, capheap;
	struct sim_stack	*st;
	struct sim_group	*gr;
	struct health		*health;	/* world view, per stack */
	struct eng_world	 world;
	struct eng_out		 eout;
	bool			 dns_up;
	const char		*dns_refuse;	/* refused with this, NULL */
	struct sim_stats	 stats;
	struct simm		*members;	/* the scenario's; NULL alone */
	struct sim_line		 ln;		/* the line being built */
};

static void	 scenario_probe(void *, int, int64_t, bool, struct sim_probe *);
static void	 line_begin(struct sim *, const char *);
static void	 line_kv(struct sim *, const char *, const char *);
static void	 line_kvf(struct sim *, const char *, const char *, ...)
		    __attribute__((format(printf, 3, 4)));
static void	 line_end(struct sim *);
static int	 qpush(struct sim *, int64_t, enum qkind, uint32_t, uint32_t);
static void	 qpop(struct sim *, struct qitem *);
static void	 step(struct sim *, int, const struct eng_event *);
static void	 exec(struct sim *, int);

/* ---- the heap ---- */

static bool
qless(const struct qitem *a, const struct qitem *b)
{
	return a->t < b->t || (a->t == b->t && a->seq < b->seq);
}

static int
qpush(struct sim *s, int64_t t, enum qkind kind, uint32_t idx, uint32_t gen)
{
	struct qitem it = { t, s->seq++, kind, idx, gen };
	size_t i;

	if (s->nheap == s->capheap) {
		size_t cap = s->capheap ? s->capheap * 2 : 64;
		struct qitem *h = realloc(s->heap, cap * sizeof(*h));

		if (h == NULL)
			return -1;
		s->heap = h;
		s->capheap = cap;
	}
	i = s->nheap++;
	while (i > 0) {
		size_t parent = (i - 1) / 2;

		if (!qless(&it, &s->heap[parent]))
			break;
		s->heap[i] = s->heap[parent];
		i = parent;
	}
	s->heap[i] = it;
	return 0;
}

static void
qpop(struct sim *s, struct qitem *top)
{
	struct qitem last;
	size_t i = 0, n;

	*top = s->heap[0];
	last = s->heap[--s->nheap];
	n = s->nheap;
	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= n)
			break;
		if (c + 1 < n && qless(&s->heap[c + 1], &s->heap[c]))
			c++;
		if (!qless(&s->heap[c], &last))
			break;
		s->heap[i] = s->heap[c];
		i = c;
	}
	if (n > 0)
		s->heap[i] = last;
}

/* ---- output (sim_line.c builds the lines) ---- */

static void
line_begin(struct sim *s, const char *event)
{
	sim_line_begin(&s->ln, s->now, event);
}

static void
line_kv(struct sim *s, const char *key, const char *val)
{
	sim_line_kv(&s->ln, key, val);
}

static void
line_kvf(struct sim *s, const char *key, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	sim_line_kv(&s->ln, key, buf);
}

static void
line_end(struct sim *s)
{
	sim_line_end(&s->ln);
	s->stats.lines++;
}

static const char *
sname(const struct sim *s, int i)
{
	return i >= 0 && (size_t)i < s->cfg->nstack ? s->cfg->stacks[i].name :
	    "-";
}

static void
argv_str(const struct cfg_hook *h, char *buf, size_t len)
{
	size_t at = 0;

	buf[0] = '\0';
	for (int i = 0; h != NULL && i < h->argc && at < len; i++)
		at += (size_t)snprintf(buf + at, len - at, "%s%s", i ? " " : "",
		    h->argv[i]);
}

static void
webhead_str(const struct config *cfg, int s, char *buf, size_t len)
{
	const struct cfg_webhead *wh = &cfg->stacks[s].web_head;
	size_t at = 0;

	if (wh->is_name) {
		snprintf(buf, len, "CNAME %s", wh->name);
		return;
	}
	buf[0] = '\0';
	for (size_t i = 0; i < wh->naddr && at < len; i++)
		at += (size_t)snprintf(buf + at, len - at, "%s%s",
		    i ? " " : "", wh->addrs[i]);
}

/* ---- the scenario as a probe source ---- */

/* The outcome of a probe of stack i at t under one member's (or the
   stack's) outcome o. */
static void
outcome(struct sim *s, int i, const struct simm_outcome *o, int64_t t,
    bool active, struct sim_probe *r)
{
	const struct cfg_stack *cs = &s->cfg->stacks[i];

	r->ok = true;
	r->reason = PROBE_R_OK;
	r->latency_ms = 0;
	switch (o->mode) {
	case SCN_P_UP:
		break;
	case SCN_P_DOWN:
		r->ok = false;
		r->reason = PROBE_R_CONNECT;
		break;
	case SCN_P_TIMEOUT:
		r->ok = false;
		r->reason = PROBE_R_TIMEOUT;
		r->latency_ms = cs->timeout_ms;
		break;
	case SCN_P_STATUS:
		r->ok = cfg_status_match(active || cs->standby_expect_status.n ==
		    0 ? &cs->expect_status : &cs->standby_expect_status,
		    o->status);
		r->reason = r->ok ? PROBE_R_OK : PROBE_R_STATUS;
		break;
	case SCN_P_FLAP:
		if (((t - o->flap_t0) / o->flap_ms) % 2 == 0) {
			r->ok = false;
			r->reason = PROBE_R_CONNECT;
		}
		break;
	}
}

static void
scenario_probe(void *ctx, int i, int64_t t, bool active, struct sim_probe *r)
{
	struct sim *s = ctx;
	const struct sim_stack *st = &s->st[i];
	const struct simm_outcome *own = s->members != NULL ?
	    simm_outcome(s->members, i, 0) : NULL;
	struct simm_outcome o = { st->mode, st->status, st->flap_ms,
	    st->flap_t0 };

	outcome(s, i, own != NULL ? own : &o, t, active, r);
}

/* ---- members (sim_members.h) ---- */

static void
member_probe(void *ctx, int i, int member, bool *ok, int *reason)
{
	struct sim *s = ctx;
	const struct sim_stack *st = &s->st[i];
	const struct simm_outcome *own = simm_outcome(s->members, i, member);
	struct simm_outcome o = { st->mode, st->status, st->flap_ms,
	    st->flap_t0 };
	struct sim_probe r;

	outcome(s, i, own != NULL ? own : &o, s->now, st->active, &r);
	*ok = r.ok;
	*reason = r.reason;
}

static void
member_line(void *ctx, const char *event, const char *const *kv, size_t n)
{
	struct sim *s = ctx;

	line_begin(s, event);
	for (size_t i = 0; i < n; i++)
		line_kv(s, kv[2 * i], kv[2 * i + 1]);
	line_end(s);
}

/* The quorum's view changed without a health event: every group looks. */
static void
evaluate_all(struct sim *s)
{
	struct eng_event ev = { .kind = ENG_EV_EVALUATE };

	for (size_t g = 0; g < s->cfg->ngroup; g++)
		step(s, (int)g, &ev);
}

/* ---- probes and health ---- */

static int64_t
period(const struct sim *s, int i)
{
	const struct health *h = &s->st[i].h;
	const struct cfg_stack *cs = &s->cfg->stacks[i];

	if (h->state == HEALTH_UNKNOWN ||
	    (h->state == HEALTH_UP && h->fail_run > 0) ||
	    (h->state == HEALTH_DOWN && h->ok_run > 0))
		return cs->fastinter_ms > 0 ? cs->fastinter_ms : cs->interval_ms;
	if (h->state == HEALTH_DOWN)
		return cs->downinter_ms > 0 ? cs->downinter_ms : cs->interval_ms;
	return cs->interval_ms;
}

static void
update_active(struct sim *s)
{
	for (size_t i = 0; i < s->cfg->nstack; i++)
		s->st[i].active = false;
	for (size_t g = 0; g < s->cfg->ngroup; g++)
		if (s->gr[g].g.active >= 0)
			s->st[s->gr[g].g.active].active = true;
}

static void
list_add(char *buf, size_t len, long long v)
{
	size_t at = strlen(buf);

	if (at + 24 < len)
		snprintf(buf + at, len - at, "%s%lld", at ? "," : "", v);
}

static void
result(struct sim *s, int i, bool ok, int reason)
{
	struct sim_stack *st = &s->st[i];
	enum health_state from = st->h.state;
	enum health_change ch;
	struct eng_event ev;

	s->stats.probes++;
	ch = health_step(&st->h, ok, reason, s->now);
	s->health[i] = st->h;
	if (s->src->next != NULL) {
		/*
		 * A replay: an outage runs from a failure to the first
		 * success after the stack is up again (so that a switch
		 * finishing just after it came back still counts it).
		 */
		if (!ok && st->outage_ms < 0)
			st->outage_ms = s->now;
		else if (ok && from == HEALTH_UP)
			st->outage_ms = -1;
	}
	if (s->members != NULL) {
		bool qch;

		/* The leader's own line first, as its log has it. */
		if (ch == HEALTH_CHANGED) {
			line_begin(s, "health_change");
			line_kv(s, "stack", sname(s, i));
			line_kv(s, "member", simm_name(s->members, 0));
			line_kv(s, "from", health_state_name(from));
			line_kv(s, "to", health_state_name(st->h.state));
			if (!ok)
				line_kv(s, "reason", probe_reason_name(reason));
			line_end(s);
			if (st->h.state == HEALTH_DOWN)
				st->down_ms = s->now;
		}
		qch = simm_round(s->members, i, s->now, &st->h, member_probe,
		    member_line, s);
		if (ch == HEALTH_SAME || ch == HEALTH_CHANGED) {
			if (ch == HEALTH_SAME && !qch)
				return;
			if (ch == HEALTH_SAME) {
				evaluate_all(s);
				return;
			}
			goto feed;
		}
	}
	if (ch == HEALTH_SAME)
		return;
	if (ch == HEALTH_CHANGED) {
		/* The daemon's names for the same events (health.c). */
		line_begin(s, "health_change");
		line_kv(s, "stack", sname(s, i));
		line_kv(s, "from", health_state_name(from));
		line_kv(s, "to", health_state_name(st->h.state));
		if (!ok)
			line_kv(s, "reason", probe_reason_name(reason));
		line_end(s);
		if (st->h.state == HEALTH_DOWN)
			st->down_ms = s->now;
	} else {
		line_begin(s, ch == HEALTH_SUSPECT ? "health_suspect" :
		    "health_cleared");
		line_kv(s, "stack", sname(s, i));
		if (!ok)
			line_kv(s, "reason", probe_reason_name(reason));
		line_end(s);
	}
feed:
	memset(&ev, 0, sizeof(ev));
	ev.kind = ENG_EV_HEALTH;
	ev.u.health.stack = i;
	ev.u.health.change = ch;
	for (size_t g = 0; g < s->cfg->ngroup; g++)
		step(s, (int)g, &ev);
	/* The isolation gate, in a cluster, looks at every stack's view. */
	if (s->members != NULL && ch == HEALTH_CHANGED)
		evaluate_all(s);
}

/*
 * Queue the stack's next probe: one period after the last one started, or
 * when the source says (a replay).
 */
static int
probe_next(struct sim *s, int i)
{
	int64_t next;

	if (s->src->next == NULL)
		next = s->st[i].started_ms + period(s, i);
	else if ((next = s->src->next(s->src->ctx, i)) < 0)
		return 0;	/* the source has no more */
	if (next < s->now)
		next = s->now;
	return qpush(s, next, Q_PROBE, (uint32_t)i, 0);
}

static int
probe_start(struct sim *s, int i)
{
	struct sim_stack *st = &s->st[i];
	struct sim_probe r;

	s->src->probe(s->src->ctx, i, s->now, st->active, &r);
	st->started_ms = s->now;
	if (r.latency_ms > 0) {
		st->pend_ok = r.ok;
		st->pend_reason = r.reason;
		return qpush(s, s->now + r.latency_ms, Q_RESULT, (uint32_t)i, 0);
	}
	result(s, i, r.ok, r.reason);
	return probe_next(s, i);
}

static int
probe_late(struct sim *s, int i)
{
	struct sim_stack *st = &s->st[i];

	result(s, i, st->pend_ok, st->pend_reason);
	return probe_next(s, i);
}

/* ---- the engine's actions ---- */

static int
sim_hook_outcome(struct sim *s, int stack, int hphase, int64_t timeout,
    struct eng_event *ev, int64_t *dur)
{
	struct sim_stack *st = &s->st[stack];
	enum scn_hook_act act = SCN_H_OK;

	if (st->hook_left[hphase] != 0) {
		act = st->hook_act[hphase];
		if (st->hook_left[hphase] > 0)
			st->hook_left[hphase]--;
	}
	*dur = act == SCN_H_HANG ? timeout : SIM_HOOK_MS;
	if (ev->kind == ENG_EV_HOOK_DONE) {
		ev->u.hook.outcome = act == SCN_H_OK ? ENG_HOOK_OK :
		    act == SCN_H_FAIL ? ENG_HOOK_FAILED : ENG_HOOK_TIMEOUT;
		ev->u.hook.exit_code = act == SCN_H_OK ? 0 :
		    act == SCN_H_FAIL ? 1 : -1;
		ev->u.hook.duration_ms = *dur;
	} else {
		ev->u.precheck.ok = act == SCN_H_OK;
		ev->u.precheck.exit_code = act == SCN_H_OK ? 0 :
		    act == SCN_H_FAIL ? 1 : -1;
	}
	return act;
}

static const char *const act_names[] = { "ok", "fail", "hang" };

static void
exec_one(struct sim *s, int gi, const struct eng_action *a)
{
	struct sim_group *sg = &s->gr[gi];
	const struct cfg_group *grp = &s->cfg->groups[gi];
	char buf[512];
	struct eng_event *ev;
	int64_t dur;
	int act;
	enum qkind qk;

	switch (a->kind) {
	case ENG_ACT_RECORD:
		line_begin(s, a->u.rec.name);
		for (int k = 0; k < a->u.rec.nkv; k++)
			line_kv(s, a->u.rec.kv[k].key, a->u.rec.kv[k].val);
		line_end(s);
		break;
	case ENG_ACT_PERSIST:
		break;
	case ENG_ACT_RUN_HOOK:
	case ENG_ACT_RUN_PRECHECK:
		qk = a->kind == ENG_ACT_RUN_HOOK ? Q_HOOK : Q_PRE;
		ev = &sg->pend[qk];
		memset(ev, 0, sizeof(*ev));
		ev->kind = qk == Q_HOOK ? ENG_EV_HOOK_DONE :
		    ENG_EV_PRECHECK_DONE;
		ev->u.hook.phase = a->u.hook.phase;
		ev->u.hook.attempt = a->u.hook.attempt;
		act = sim_hook_outcome(s, a->u.hook.stack, qk != Q_HOOK ?
		    SCN_H_PRECHECK : a->u.hook.phase == ENG_PH_RESTORE ?
		    SCN_H_RESTORE : (int)a->u.hook.phase, a->u.hook.timeout_ms,
		    ev, &dur);
		argv_str(a->u.hook.hook, buf, sizeof(buf));
		line_begin(s, "hook_start");
		line_kv(s, "group", grp->name);
		if (qk == Q_HOOK) {
			line_kv(s, "phase", eng_phase_name(a->u.hook.phase));
			line_kv(s, "id", a->u.hook.id);
			line_kvf(s, "attempt", "%d", a->u.hook.attempt);
		} else {
			line_kv(s, "phase", "precheck");
			sg->pre_stack = a->u.hook.stack;
		}
		line_kv(s, "stack", sname(s, a->u.hook.stack));
		line_kv(s, "argv", buf);
		line_kv(s, "sim", act_names[act]);
		line_end(s);
		if (qk == Q_PRE) {
			/* the answer is printed when it arrives */
			ev->u.precheck.exit_code = act == SCN_H_OK ? 0 :
			    act == SCN_H_FAIL ? 1 : -1;
		}
		qpush(s, s->now + dur, qk, (uint32_t)gi, ++sg->gen[qk]);
		break;
	case ENG_ACT_DNS_UPDATE:
		ev = &sg->pend[Q_DNS];
		memset(ev, 0, sizeof(*ev));
		ev->kind = ENG_EV_DNS_DONE;
		ev->u.dns.ticket = a->u.dns.ticket;
		ev->u.dns.ok = s->dns_up && s->dns_refuse == NULL;
		ev->u.dns.retryable = s->dns_refuse == NULL;
		ev->u.dns.error = s->dns_refuse != NULL ? s->dns_refuse :
		    s->dns_up ? NULL : "timeout";
		dur = SIM_DNS_MS;
		if (!s->dns_up && s->dns_refuse == NULL) {
			size_t ns = s->cfg->dns.nserver ? s->cfg->dns.nserver : 1;

			dur = s->cfg->dns.timeout_ms *
			    (s->cfg->dns.retries + 1) * (int64_t)ns;
			if (dur <= 0)
				dur = 1;
		}
		webhead_str(s->cfg, a->u.dns.stack, buf, sizeof(buf));
		line_begin(s, ev->u.dns.ok ? "dns_updated" :
		    "dns_update_failed");
		line_kv(s, "group", grp->name);
		line_kv(s, "name", grp->address != NULL ? grp->address :
		    "(auto)");
		line_kv(s, "records", buf);
		line_kvf(s, "ttl", "%u", a->u.dns.ttl);
		line_kv(s, "why", eng_dns_why_name(a->u.dns.why));
		line_kv(s, "sim", s->dns_refuse != NULL ? s->dns_refuse :
		    s->dns_up ? "ok" : "timeout");
		line_end(s);
		qpush(s, s->now + dur, Q_DNS, (uint32_t)gi, ++sg->gen[Q_DNS]);
		break;
	case ENG_ACT_SET_TIMER:
		qk = a->u.timer.timer == ENG_TIMER_DNS ? Q_TIMER_DNS :
		    Q_TIMER_GATE;
		qpush(s, a->u.timer.at_ms > s->now ? a->u.timer.at_ms : s->now,
		    qk, (uint32_t)gi, ++sg->gen[qk]);
		break;
	case ENG_ACT_STATUS_CHANGE:
		line_begin(s, "status_change");
		line_kv(s, "group", grp->name);
		line_kv(s, "stack", sname(s, a->u.status.stack));
		line_kv(s, "status", eng_online_name(a->u.status.status));
		if (a->u.status.hook != NULL) {
			argv_str(a->u.status.hook, buf, sizeof(buf));
			line_kv(s, "argv", buf);
		}
		line_end(s);
		break;
	}
}

static void
exec(struct sim *s, int gi)
{
	for (size_t i = 0; i < s->eout.n; i++)
		exec_one(s, gi, &s->eout.a[i]);
}

static void
step(struct sim *s, int gi, const struct eng_event *ev)
{
	struct sim_group *sg = &s->gr[gi];
	enum eng_status before = sg->g.status;
	int active = sg->g.active, rc;

	s->stats.steps++;
	/* One virtual clock: wall and monotonic are the same here. */
	rc = eng_step(&sg->g, &s->world, ev, (struct eng_now){ s->now, s->now },
	    &s->eout);
	if (rc < 0) {
		line_begin(s, "engine_error");
		line_kv(s, "group", s->cfg->groups[gi].name);
		line_end(s);
		return;
	}
	for (size_t i = 0; i < s->eout.n; i++) {
		const struct eng_action *a = &s->eout.a[i];

		if (a->kind != ENG_ACT_RECORD)
			continue;
		if (strcmp(a->u.rec.name, "switch_started") == 0)
			sg->switches++;
		else if (strcmp(a->u.rec.name, "switch_failed") == 0)
			sg->failed++;
		else if (strcmp(a->u.rec.name, "switch_finished") == 0) {
			const struct sim_stack *from = &s->st[sg->g.sw.from];

			sg->completed++;
			if (from->outage_ms >= 0) {
				list_add(sg->flips, sizeof(sg->flips),
				    (long long)(s->now - from->outage_ms));
				if (from->down_ms >= from->outage_ms)
					list_add(sg->detects,
					    sizeof(sg->detects), (long long)
					    (from->down_ms - from->outage_ms));
			}
		}
	}
	exec(s, gi);
	if (sg->g.status != before) {
		line_begin(s, "state");
		line_kv(s, "group", s->cfg->groups[gi].name);
		line_kv(s, "from", eng_status_name(before));
		line_kv(s, "to", eng_status_name(sg->g.status));
		if (sg->g.status == ENG_SWITCHING)
			line_kv(s, "phase", eng_phase_name(sg->g.sw.phase));
		line_kv(s, "active", sname(s, sg->g.active));
		line_end(s);
		if (sg->g.status == ENG_FAILED)
			sg->failed_since = s->now;
		else if (before == ENG_FAILED && sg->failed_since >= 0) {
			sg->failed_total += s->now - sg->failed_since;
			sg->failed_since = -1;
		}
	}
	if (sg->g.active != active)
		update_active(s);
}

static void
answer(struct sim *s, const struct qitem *it)
{
	struct sim_group *sg = &s->gr[it->idx];
	struct eng_event ev;

	if (it->gen != sg->gen[it->kind])
		return;		/* replaced since */
	switch (it->kind) {
	case Q_TIMER_DNS:
	case Q_TIMER_GATE:
		memset(&ev, 0, sizeof(ev));
		ev.kind = ENG_EV_TIMER;
		ev.u.timer = it->kind == Q_TIMER_DNS ? ENG_TIMER_DNS :
		    ENG_TIMER_GATE;
		step(s, (int)it->idx, &ev);
		return;
	case Q_PRE:
		line_begin(s, "hook_exited");
		line_kv(s, "group", s->cfg->groups[it->idx].name);
		line_kv(s, "phase", "precheck");
		line_kv(s, "stack", sname(s, sg->pre_stack));
		line_kv(s, "outcome", sg->pend[Q_PRE].u.precheck.exit_code < 0 ?
		    "timeout" : "exited");
		line_kvf(s, "exit", "%d", sg->pend[Q_PRE].u.precheck.exit_code);
		line_end(s);
		break;
	default:
		break;
	}
	ev = sg->pend[it->kind];
	step(s, (int)it->idx, &ev);
}

/* ---- scenario lines ---- */

static void
apply(struct sim *s, const struct scn_event *e)
{
	struct sim_stack *st;
	struct eng_event ev;
	static const char *const modes[] = { "up", "down", "timeout", "status",
	    "flap" };

	line_begin(s, e->kind == SCN_END ? "end" : "scenario");
	if (e->line > 0)	/* a replay's end has no line */
		line_kvf(s, "line", "%d", e->line);
	switch (e->kind) {
	case SCN_PROBE:
		st = &s->st[e->stack_idx];
		line_kv(s, "stack", e->stack);
		line_kv(s, "probes", modes[e->probe]);
		if (e->probe == SCN_P_STATUS)
			line_kvf(s, "status", "%d", e->status);
		if (e->probe == SCN_P_FLAP)
			line_kvf(s, "every_ms", "%lld", (long long)e->flap_ms);
		if (e->member != NULL)
			line_kv(s, "member", e->member);
		line_end(s);
		if (s->members != NULL)
			simm_set(s->members, e->stack_idx, e->member_idx, e);
		/* One member's path: the stack itself is not in an outage. */
		if (e->member != NULL)
			return;
		st->mode = e->probe;
		st->status = e->status;
		st->flap_ms = e->flap_ms;
		st->flap_t0 = e->at_ms;
		if (e->probe == SCN_P_UP)
			st->outage_ms = -1;
		else if (st->outage_ms < 0)
			st->outage_ms = e->at_ms;
		return;
	case SCN_HOOK:
		st = &s->st[e->stack_idx];
		line_kv(s, "stack", e->stack);
		line_kv(s, "hook", scn_hphase_name(e->hphase));
		line_kv(s, "action", act_names[e->hact]);
		if (e->hact != SCN_H_OK) {
			if (e->times == SCN_ALWAYS)
				line_kv(s, "times", "always");
			else
				line_kvf(s, "times", "%d", e->times);
		}
		line_end(s);
		st->hook_act[e->hphase] = e->hact;
		st->hook_left[e->hphase] = e->hact == SCN_H_OK ? 0 : e->times;
		return;
	case SCN_DNS:
		if (e->refuse != NULL) {
			line_kv(s, "dns", "refuse");
			line_kv(s, "reason", e->refuse);
		} else
			line_kv(s, "dns", e->up ? "up" : "down");
		line_end(s);
		s->dns_up = e->up || e->refuse != NULL;
		s->dns_refuse = e->refuse;
		return;
	case SCN_WITNESS:
		line_kv(s, "witness", e->up ? "up" : "down");
		line_end(s);
		s->world.witness = e->up ? ENG_WITNESS_OK : ENG_WITNESS_DOWN;
		memset(&ev, 0, sizeof(ev));
		ev.kind = ENG_EV_EVALUATE;
		for (size_t g = 0; g < s->cfg->ngroup; g++)
			step(s, (int)g, &ev);
		return;
	case SCN_CTL:
		line_kv(s, "ctl", e->text != NULL ? e->text : "");
		line_end(s);
		memset(&ev, 0, sizeof(ev));
		ev.kind = ENG_EV_CMD;
		ev.u.cmd.kind = e->cmd;
		ev.u.cmd.stack = e->stack_idx;
		ev.u.cmd.force = e->force;
		for (size_t g = 0; g < s->cfg->ngroup; g++) {
			int rc;

			if (!e->all && (int)g != e->group_idx)
				continue;
			rc = eng_cmd_check(&s->gr[g].g, &s->world, &ev.u.cmd);
			if (rc == ENG_OK && e->cmd == ENG_CMD_SWITCH) {
				struct eng_plan plan;
				char buf[2048], *p, *nl;

				/* What failoverctl switch would show. */
				eng_switch_plan(&s->gr[g].g, &s->world,
				    &ev.u.cmd, &plan);
				eng_plan_format(&plan, s->cfg, (int)g, buf,
				    sizeof(buf));
				for (p = buf; *p != '\0'; p = nl + 1) {
					if ((nl = strchr(p, '\n')) == NULL)
						break;
					*nl = '\0';
					line_begin(s, "plan");
					line_kv(s, "group",
					    s->cfg->groups[g].name);
					line_kv(s, "text", p);
					line_end(s);
				}
			}
			step(s, (int)g, &ev);
			if (rc != ENG_OK) {
				line_begin(s, "ctl_refused");
				line_kv(s, "group", s->cfg->groups[g].name);
				line_kv(s, "message", eng_refusal_str(rc));
				line_end(s);
			}
		}
		return;
	case SCN_MEMBER:
		line_kv(s, "member", e->member);
		line_kv(s, "action", e->up ? "start" : "stop");
		line_end(s);
		if (s->members != NULL && simm_live(s->members, e->member_idx,
		    e->up, s->now, s->health, member_line, s))
			evaluate_all(s);
		return;
	case SCN_END:
		line_end(s);
		return;
	}
}

/* ---- the run ---- */

static void
summary(struct sim *s)
{
	int sw = 0, done = 0, failed = 0;

	for (size_t g = 0; g < s->cfg->ngroup; g++) {
		struct sim_group *sg = &s->gr[g];
		int64_t ft = sg->failed_total;

		if (sg->failed_since >= 0)
			ft += s->now - sg->failed_since;
		line_begin(s, "summary");
		line_kv(s, "group", s->cfg->groups[g].name);
		line_kv(s, "status", eng_status_name(sg->g.status));
		line_kv(s, "active", sname(s, sg->g.active));
		line_kvf(s, "switches", "%d", sg->switches);
		line_kvf(s, "completed", "%d", sg->completed);
		line_kvf(s, "failed", "%d", sg->failed);
		line_kvf(s, "time_failed_ms", "%lld", (long long)ft);
		line_kv(s, "outage_to_flip_ms", sg->flips[0] ? sg->flips : "-");
		line_kv(s, "detect_ms", sg->detects[0] ? sg->detects : "-");
		line_end(s);
		sw += sg->switches;
		done += sg->completed;
		failed += sg->failed;
	}
	s->stats.switches = sw;
	s->stats.completed = done;
	s->stats.failed = failed;
	line_begin(s, "summary");
	line_kvf(s, "groups", "%zu", s->cfg->ngroup);
	line_kvf(s, "stacks", "%zu", s->cfg->nstack);
	line_kvf(s, "switches", "%d", sw);
	line_kvf(s, "completed", "%d", done);
	line_kvf(s, "failed", "%d", failed);
	line_kvf(s, "probes", "%llu", (unsigned long long)s->stats.probes);
	line_end(s);
}

int
sim_run(const struct config *cfg, const struct scenario *scn,
    const struct sim_options *opt, struct sim_stats *stats)
{
	struct sim *s;
	struct sim_source scen = { NULL, scenario_probe, NULL };
	struct eng_event resume = { .kind = ENG_EV_RESUME };
	size_t next = 0;
	int rc = -1;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return -1;
	s->cfg = cfg;
	s->scn = scn;
	s->opt = opt;
	s->ln.out = opt->out != NULL ? opt->out : stdout;
	s->ln.json = opt->json;
	scen.ctx = s;
	s->src = opt->source != NULL ? opt->source : &scen;
	s->dns_up = true;
	s->st = calloc(cfg->nstack ? cfg->nstack : 1, sizeof(*s->st));
	s->health = calloc(cfg->nstack ? cfg->nstack : 1, sizeof(*s->health));
	s->gr = calloc(cfg->ngroup ? cfg->ngroup : 1, sizeof(*s->gr));
	if (s->st == NULL || s->health == NULL || s->gr == NULL)
		goto out;
	s->world.cfg = cfg;
	s->world.health = s->health;
	s->world.witness = ENG_WITNESS_OK;
	s->world.dry_run = true;
	if (scn->nmembers > 0) {
		if ((s->members = simm_new(cfg, scn)) == NULL)
			goto out;
		s->world.quorum = simm_view(s->members);
	}

	for (size_t i = 0; i < cfg->nstack; i++) {
		struct sim_stack *st = &s->st[i];
		const struct cfg_stack *cs = &cfg->stacks[i];
		int64_t first;

		health_init(&st->h, cs->rise, cs->fall, 0);
		s->health[i] = st->h;
		st->mode = SCN_P_UP;
		st->outage_ms = -1;
		st->down_ms = -1;
		/* Spread the first probes over one interval. */
		first = cfg->nstack > 1 ? (int64_t)i * cs->interval_ms /
		    (int64_t)cfg->nstack : 0;
		if (s->src->next != NULL &&
		    (first = s->src->next(s->src->ctx, (int)i)) < 0)
			continue;	/* no outcome at all */
		if (qpush(s, first, Q_PROBE, (uint32_t)i, 0) != 0)
			goto out;
	}
	for (size_t g = 0; g < cfg->ngroup; g++) {
		if (eng_group_init(&s->gr[g].g, cfg, (int)g, false) != 0)
			goto out;
		s->gr[g].failed_since = -1;
	}
	/* The scenario's lines at 0 first: they describe the world at start. */
	s->now = 0;
	while (next < scn->n && scn->ev[next].kind != SCN_END &&
	    scn->ev[next].at_ms <= 0)
		apply(s, &scn->ev[next++]);
	update_active(s);
	for (size_t g = 0; g < cfg->ngroup; g++)
		step(s, (int)g, &resume);

	for (;;) {
		struct qitem it;
		int64_t tq = s->nheap > 0 ? s->heap[0].t : INT64_MAX;

		/* Scenario lines first at equal times; `end` last of all. */
		if (next < scn->n && scn->ev[next].kind != SCN_END &&
		    scn->ev[next].at_ms <= tq) {
			s->now = scn->ev[next].at_ms;
			apply(s, &scn->ev[next++]);
			continue;
		}
		if (tq >= scn->end_ms)
			break;
		qpop(s, &it);
		s->now = it.t;
		switch (it.kind) {
		case Q_PROBE:
			if (probe_start(s, (int)it.idx) != 0)
				goto out;
			break;
		case Q_RESULT:
			if (probe_late(s, (int)it.idx) != 0)
				goto out;
			break;
		default:
			answer(s, &it);
			break;
		}
	}
	s->now = scn->end_ms;
	while (next < scn->n)
		apply(s, &scn->ev[next++]);
	summary(s);
	rc = 0;
out:
	if (stats != NULL)
		*stats = s->stats;
	free(s->heap);
	free(s->st);
	free(s->health);
	free(s->gr);
	simm_free(s->members);
	free(s);
	return rc;
}
