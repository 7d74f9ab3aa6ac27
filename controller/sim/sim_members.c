/*
 * sim_members.c - the members of a simulated cluster (sim_members.h).
 *
 * Each member keeps a struct health per stack, stepped at the times the
 * simulator probes the stack (the leader's schedule: every member probes
 * together, which keeps the output deterministic and the quorum's added
 * detection time at zero, where the daemon adds the verdicts' round trip
 * through etcd).  A member's vote is its health's state; the first
 * member's is the leader's own, which the simulator keeps.  A stopped
 * member counts for nothing, as a dead member whose lease etcd expired
 * (at once here: the simulator has no lease).
 */
#include "controller/sim/sim_members.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controller/core/quorum.h"
#include "controller/core/quorum_view.h"
#include "probes/probe.h"

struct simm {
	const struct config	*cfg;
	const struct scenario	*scn;
	const struct cfg_quorum	*quorum;
	size_t			 n;		/* members */
	bool			*live;		/* n */
	struct health		*h;		/* n x nstack: [m * nstack + s] */
	struct simm_outcome	*own;		/* n x nstack */
	bool			*has_own;	/* n x nstack */
	struct eng_quorum	*view;		/* nstack */
};

static const struct cfg_quorum majority = { CFG_QUORUM_MAJORITY, 0 };

static bool	 decide(struct simm *, size_t, const struct health *,
		    simm_line_fn *, void *);

struct simm *
simm_new(const struct config *cfg, const struct scenario *scn)
{
	struct simm *m;
	size_t ns = cfg->nstack > 0 ? cfg->nstack : 1, n = scn->nmembers;

	if ((m = calloc(1, sizeof(*m))) == NULL)
		return NULL;
	m->cfg = cfg;
	m->scn = scn;
	m->n = n;
	m->quorum = scn->has_quorum ? &scn->quorum : cfg->cluster.enabled ?
	    &cfg->cluster.quorum : &majority;
	m->live = calloc(n, sizeof(*m->live));
	m->h = calloc(n * ns, sizeof(*m->h));
	m->own = calloc(n * ns, sizeof(*m->own));
	m->has_own = calloc(n * ns, sizeof(*m->has_own));
	m->view = calloc(ns, sizeof(*m->view));
	if (m->live == NULL || m->h == NULL || m->own == NULL ||
	    m->has_own == NULL || m->view == NULL) {
		simm_free(m);
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		m->live[i] = true;
		for (size_t s = 0; s < cfg->nstack; s++)
			health_init(&m->h[i * ns + s], cfg->stacks[s].rise,
			    cfg->stacks[s].fall, 0);
	}
	/* Every member unknown: no decision, and no line for it. */
	for (size_t s = 0; s < cfg->nstack; s++)
		(void)decide(m, s, &m->h[s], NULL, NULL);
	return m;
}

void
simm_free(struct simm *m)
{
	if (m == NULL)
		return;
	free(m->live);
	free(m->h);
	free(m->own);
	free(m->has_own);
	free(m->view);
	free(m);
}

const struct eng_quorum *
simm_view(const struct simm *m)
{
	return m->view;
}

const char *
simm_name(const struct simm *m, int member)
{
	return member >= 0 && (size_t)member < m->n ?
	    m->scn->members[member] : "-";
}

const struct simm_outcome *
simm_outcome(const struct simm *m, int stack, int member)
{
	size_t k = (size_t)member * m->cfg->nstack + (size_t)stack;

	return m->has_own[k] ? &m->own[k] : NULL;
}

void
simm_set(struct simm *m, int stack, int member, const struct scn_event *e)
{
	size_t ns = m->cfg->nstack;

	if (member < 0) {
		for (size_t i = 0; i < m->n; i++)
			m->has_own[i * ns + (size_t)stack] = false;
		return;
	}
	m->has_own[(size_t)member * ns + (size_t)stack] = true;
	m->own[(size_t)member * ns + (size_t)stack] = (struct simm_outcome){
	    e->probe, e->status, e->flap_ms, e->at_ms };
}

static enum quorum_view
view_of(const struct health *h)
{
	return h->state == HEALTH_UP ? QUORUM_V_UP :
	    h->state == HEALTH_DOWN ? QUORUM_V_DOWN : QUORUM_V_UNKNOWN;
}

/* Decide stack s again; a line and true when the view changed. */
static bool
decide(struct simm *m, size_t s, const struct health *leader,
    simm_line_fn *line, void *ctx)
{
	struct quorum_vote v[QUORUM_MAX_VOTES];
	struct eng_quorum q, *old = &m->view[s];
	size_t n = 0, ns = m->cfg->nstack;
	char req[24], live[24], qb[16];

	for (size_t i = 0; i < m->n && n < QUORUM_MAX_VOTES; i++) {
		const struct health *h = i == 0 ? leader : &m->h[i * ns + s];

		if (!m->live[i])
			continue;
		v[n].member = m->scn->members[i];
		v[n].view = view_of(h);
		v[n].since_ms = h->since_ms;
		v[n].live = true;
		n++;
	}
	quorum_view_build(m->quorum, v, n, &q, NULL);
	if (memcmp(&q, old, sizeof(q)) == 0)
		return false;
	if (line == NULL) {
		*old = q;
		return true;
	}
	snprintf(req, sizeof(req), "%zu", q.required);
	snprintf(live, sizeof(live), "%zu", q.live);
	{
		/* The daemon's names (daemon_quorum.c, quorum_format). */
		const char *kv[] = { "stack", m->cfg->stacks[s].name,
		    "from", quorum_decision_name(old->decision),
		    "to", quorum_decision_name(q.decision),
		    "quorum", cfg_quorum_name(m->quorum, qb, sizeof(qb)),
		    "required", req, "live", live,
		    "down", q.seen_down, "up", q.seen_up,
		    "unknown", q.seen_unknown };

		*old = q;
		line(ctx, "quorum_change", kv, sizeof(kv) / sizeof(kv[0]) / 2);
	}
	return true;
}

bool
simm_round(struct simm *m, int stack, int64_t now,
    const struct health *leader, simm_probe_fn *probe, simm_line_fn *line,
    void *ctx)
{
	size_t ns = m->cfg->nstack;

	for (size_t i = 1; i < m->n; i++) {
		struct health *h = &m->h[i * ns + (size_t)stack];
		enum health_state from = h->state;
		bool ok;
		int reason;

		if (!m->live[i])
			continue;
		probe(ctx, stack, (int)i, &ok, &reason);
		if (health_step(h, ok, reason, now) == HEALTH_CHANGED) {
			const char *kv[] = { "stack",
			    m->cfg->stacks[stack].name, "member",
			    m->scn->members[i], "from",
			    health_state_name(from), "to",
			    health_state_name(h->state), "reason",
			    probe_reason_name((enum probe_reason)reason) };

			line(ctx, "health_change", kv, ok ? 4 : 5);
		}
	}
	return decide(m, (size_t)stack, leader, line, ctx);
}

bool
simm_live(struct simm *m, int member, bool live, int64_t now,
    const struct health *leaders, simm_line_fn *line, void *ctx)
{
	size_t ns = m->cfg->nstack;
	bool changed = false;

	if (member <= 0 || (size_t)member >= m->n)
		return false;
	m->live[member] = live;
	if (live)
		for (size_t s = 0; s < ns; s++)
			health_init(&m->h[(size_t)member * ns + s],
			    m->cfg->stacks[s].rise, m->cfg->stacks[s].fall, now);
	for (size_t s = 0; s < ns; s++)
		if (decide(m, s, &leaders[s], line, ctx))
			changed = true;
	return changed;
}
