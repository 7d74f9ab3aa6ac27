/*
 * daemon_world.c - the daemon's runtime objects (stacks, groups,
 * witnesses) and the world they stand for, built one way at start and at
 * reload (world_build) from the committed state, the configuration and,
 * once read, the published records (core/world.h); then resumed
 * (world_resume) group by group as each record is read.
 *
 * The rest of the shell calls in here; this file calls down only (the
 * store, the probes, the engine's codec, daemon_act.c, daemon_dns.c).
 */
#include "controller/shell/daemon_int.h"

#include <dirent.h>
#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <curl/curl.h>

#include "config/config.h"
#include "controller/face/api.h"
#include "controller/shell/daemon_int.h"
#include "controller/core/engine_codec.h"
#include "controller/base/guard.h"
#include "controller/shell/hook.h"
#include "controller/shell/lockfile.h"
#include "controller/base/log.h"
#include "controller/face/ops.h"
#include "controller/shell/sdnotify.h"
#include "controller/store/store.h"
#include "controller/core/world.h"
#include "dnsupdate/dnsup.h"
#include "dnsupdate/dnsup_msg.h"
#include "probes/curlmem.h"
#include "probes/probe.h"

/* src: [controller] source_address, NULL for the system's choice. */
static void
stack_spec(const struct cfg_stack *s, const char *src,
    struct probe_spec *spec)
{
	memset(spec, 0, sizeof(*spec));
	spec->source_address = src;
	spec->url = s->health_url;
	spec->host = s->health_host;
	spec->timeout_ms = s->timeout_ms;
	spec->interval_ms = s->interval_ms;
	spec->fastinter_ms = s->fastinter_ms;
	spec->downinter_ms = s->downinter_ms;
	spec->expect_status = s->expect_status;
	spec->standby_expect_status = s->standby_expect_status;
	spec->expect_body = s->expect_body;
	spec->tls_verify = s->tls_verify;
	spec->ca_file = s->ca_file;
}

static bool
stack_spec_equal(const struct cfg_stack *a, const struct cfg_stack *b)
{
#define STREQ(x, y) ((x) == NULL ? (y) == NULL : (y) != NULL && strcmp((x), (y)) == 0)
	return STREQ(a->health_url, b->health_url) &&
	    STREQ(a->health_host, b->health_host) &&
	    STREQ(a->expect_body, b->expect_body) &&
	    STREQ(a->ca_file, b->ca_file) &&
	    a->timeout_ms == b->timeout_ms && a->interval_ms == b->interval_ms &&
	    a->fastinter_ms == b->fastinter_ms &&
	    a->downinter_ms == b->downinter_ms &&
	    a->tls_verify == b->tls_verify &&
	    memcmp(&a->expect_status, &b->expect_status,
	    sizeof(a->expect_status)) == 0 &&
	    memcmp(&a->standby_expect_status, &b->standby_expect_status,
	    sizeof(a->standby_expect_status)) == 0;
#undef STREQ
}

/* The probe period follows the health: fast between states, slow down. */
enum probe_mode
daemon_stack_mode(const struct health *h)
{
	switch (h->state) {
	case HEALTH_UNKNOWN:
		return PROBE_MODE_FAST;
	case HEALTH_UP:
		return h->fail_run > 0 ? PROBE_MODE_FAST : PROBE_MODE_NORMAL;
	case HEALTH_DOWN:
		return h->ok_run > 0 ? PROBE_MODE_FAST : PROBE_MODE_DOWN;
	}
	return PROBE_MODE_NORMAL;
}

/* ---- runtime objects ---- */

static int
stacks_build(struct daemon *d)
{
	struct config *cfg = d->cfg;

	d->stacks = calloc(cfg->nstack ? cfg->nstack : 1, sizeof(*d->stacks));
	d->health = calloc(cfg->nstack ? cfg->nstack : 1, sizeof(*d->health));
	d->hdirty_head = -1;
	if (d->stacks == NULL || d->health == NULL)
		return -1;
	for (size_t s = 0; s < cfg->nstack; s++) {
		struct dstack *ds = &d->stacks[s];

		ds->kind = PROBER_STACK;
		ds->d = d;
		ds->idx = (int)s;
		ds->hdirty_next = -1;
		health_init(&d->health[s], cfg->stacks[s].rise,
		    cfg->stacks[s].fall, clock_wall_ms());
	}
	/*
	 * Each stack's groups, in group order: counted, then filled, in two
	 * passes over the groups (an array of every group per stack was
	 * 20 KiB a stack at 5,000 groups, and filling it O(stacks x groups)).
	 */
	for (int pass = 0; pass < 2; pass++) {
		for (size_t g = 0; g < cfg->ngroup; g++) {
			int st[2] = { cfg->groups[g].primary,
			    cfg->groups[g].backup };

			for (int k = 0; k < 2; k++) {
				struct dstack *ds;

				if (st[k] < 0 || (size_t)st[k] >= cfg->nstack ||
				    (k == 1 && st[1] == st[0]))
					continue;
				ds = &d->stacks[st[k]];
				if (pass == 1)
					ds->groups[ds->ngroups] = (int)g;
				ds->ngroups++;
			}
		}
		for (size_t s = 0; pass == 0 && s < cfg->nstack; s++) {
			struct dstack *ds = &d->stacks[s];

			if (ds->ngroups > 0 && (ds->groups = calloc(
			    (size_t)ds->ngroups, sizeof(int))) == NULL)
				return -1;
			ds->ngroups = 0;
		}
	}
	return 0;
}

void
stacks_free(struct dstack *stacks, size_t n)
{
	if (stacks == NULL)
		return;
	for (size_t s = 0; s < n; s++) {
		probe_remove(stacks[s].probe);
		free(stacks[s].groups);
	}
	free(stacks);
}

static int
stack_probe_start(struct daemon *d, struct dstack *ds)
{
	struct probe_spec spec;
	int rc;

	stack_spec(&d->cfg->stacks[ds->idx], d->cfg->controller.source_address,
	    &spec);
	rc = probe_add(d->probes, &spec, ds, &ds->probe);
	if (rc != 0) {
		log_error("probe_add_failed", "stack=%s error=%s",
		    log_q(d->cfg->stacks[ds->idx].name), probe_strerror(rc));
		return -1;
	}
	probe_set_standby(ds->probe, ds->standby);
	probe_set_mode(ds->probe, daemon_stack_mode(&d->health[ds->idx]));
	return 0;
}

int
witnesses_start(struct daemon *d)
{
	const struct cfg_controller *cc = &d->cfg->controller;
	int64_t interval = 1000;

	d->witness = ENG_WITNESS_UNKNOWN;
	if (cc->nwitness == 0)
		return 0;
	d->witnesses = calloc(cc->nwitness, sizeof(*d->witnesses));
	if (d->witnesses == NULL)
		return -1;
	for (size_t s = 0; s < d->cfg->nstack; s++)
		if (d->cfg->stacks[s].interval_ms < interval)
			interval = d->cfg->stacks[s].interval_ms;
	for (size_t i = 0; i < cc->nwitness; i++) {
		struct probe_spec spec = { 0 };
		struct witness *w = &d->witnesses[i];
		int rc;

		w->kind = PROBER_WITNESS;
		w->d = d;
		w->state = -1;
		spec.url = cc->witness[i];
		/* A witness proves this member's own path: the same one. */
		spec.source_address = cc->source_address;
		spec.interval_ms = interval;
		spec.timeout_ms = interval > 200 ? interval - 100 : interval / 2;
		spec.tls_verify = true;
		/* Any HTTP answer at all proves the path to the witness. */
		spec.expect_status.n = 1;
		spec.expect_status.r[0].lo = 100;
		spec.expect_status.r[0].hi = 599;
		rc = probe_add(d->probes, &spec, w, &w->probe);
		if (rc != 0) {
			log_error("probe_add_failed", "witness=%s error=%s",
			    log_q(cc->witness[i]), probe_strerror(rc));
			return -1;
		}
	}
	return 0;
}

void
witnesses_free(struct daemon *d, size_t n)
{
	if (d->witnesses == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		probe_remove(d->witnesses[i].probe);
	free(d->witnesses);
	d->witnesses = NULL;
}

/* Load a group's state from the store, or start it fresh. */
static int
group_load(struct daemon *d, struct dgroup *g, struct store_txn *txn)
{
	const struct cfg_group *cg = &d->cfg->groups[g->idx];
	const void *blob;
	size_t len;
	char err[256];
	int rc;

	if (txn != NULL && store_group_get(txn, cg->name, &blob, &len)) {
		rc = eng_group_decode(blob, len, d->cfg, &g->st, err,
		    sizeof(err));
		if (rc < 0) {
			log_error("state_unreadable", "group=%s error=%s",
			    log_q(cg->name), log_q(err));
			return -1;
		}
		if (rc == ENG_DECODE_RESET)
			log_warn("state_reset", "group=%s detail=%s",
			    log_q(cg->name), log_q(err));
		g->st.group = g->idx;
		g->had_state = true;
		return 0;
	}
	if (eng_group_init(&g->st, d->cfg, g->idx, false) != 0) {
		log_error("state_init_failed", "group=%s", log_q(cg->name));
		return -1;
	}
	return 0;
}

static int
groups_build(struct daemon *d)
{
	struct config *cfg = d->cfg;

	d->groups = calloc(cfg->ngroup ? cfg->ngroup : 1, sizeof(*d->groups));
	if (d->groups == NULL)
		return -1;
	for (size_t i = 0; i < cfg->ngroup; i++) {
		struct dgroup *g = &d->groups[i];

		g->d = d;
		g->idx = (int)i;
		if (dgroup_timers_init(g) != 0)
			return -1;
	}
	return 0;
}

void
groups_free(struct dgroup *groups, size_t n)
{
	if (groups == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		dgroup_timers_free(&groups[i]);
	free(groups);
}

static int
groups_address(struct daemon *d)
{
	char err[256];

	for (size_t i = 0; i < d->cfg->ngroup; i++) {
		struct dgroup *g = &d->groups[i];
		const struct cfg_group *cg = &d->cfg->groups[i];

		if (!cg->address_auto) {
			snprintf(g->address, sizeof(g->address), "%s",
			    cg->address);
			continue;
		}
		if (address_resolve(d, g, err, sizeof(err)) != 0) {
			log_error("address_failed", "group=%s error=%s",
			    log_q(cg->name), log_q(err));
			return -1;
		}
	}
	return 0;
}

/* ---- the world: committed state, configuration, record (world.h) ---- */

static const char *
sname_of(const struct config *cfg, int s)
{
	return s >= 0 && (size_t)s < cfg->nstack ? cfg->stacks[s].name : "-";
}

static void
world_log_mismatch(const struct dgroup *g, int expected)
{
	const struct config *cfg = g->d->cfg;

	log_warn("state_mismatch", "group=%s expected=%s record=%s state=%s"
	    " status=wait_rearm detail=%s", log_q(dgroup_name(g)),
	    log_q(sname_of(cfg, expected)), log_q(sname_of(cfg, g->st.active)),
	    g->had_state ? "stored" : "none",
	    log_q("the published record is the truth: traffic stays where"
	    " it is; failoverctl rearm once the other stack is a standby"
	    " again"));
}

/*
 * At a reload, a group that keeps running: its state against what the
 * server last accepted for it (its record, known without asking).  A
 * record on a stack that is no longer one of the group's: read it back
 * and hold (world_read).
 */
static void
world_known(struct dgroup *g, const struct config *ocfg,
    const struct dgroup *og)
{
	struct dnsup_rrset known;
	struct world_record rec;
	char err[128];
	int op = og->st.pub_stack, expected;
	enum world_verdict v;

	if (op >= 0 && (size_t)op < ocfg->nstack &&
	    dnsup_rrset_from_webhead(&known, &ocfg->stacks[op].web_head,
	    og->st.pub_ttl, err, sizeof(err)) == 0)
		world_record_of(g->d->cfg, &known, &rec);
	else
		world_record_of(g->d->cfg, NULL, &rec);
	v = world_reconcile(&g->st, g->d->cfg, true, &rec, &expected);
	if (v == WORLD_ADOPT)
		world_log_mismatch(g, expected);
	else if (v == WORLD_HOLD_FOREIGN || v == WORLD_HOLD_UNREAD)
		g->waiting = true;
}

/* Wait for g's record before its engine is fed anything. */
void
world_read(struct daemon *d, struct dgroup *g)
{
	g->waiting = true;
	if (d->cfg->groups[g->idx].primary < 0 || ddns_read_record(g) != 0)
		daemon_record_read(g, NULL, false);
}

/* Ask again for the records of groups held because of them. */
void
world_reread(struct daemon *d)
{
	/* A cluster follower reads nothing for its engines: they wait. */
	if (!daemon_may_act(d))
		return;
	for (size_t i = 0; i < d->cfg->ngroup; i++) {
		struct dgroup *g = &d->groups[i];

		if (g->waiting && !g->moved && !g->resume_pending &&
		    !g->record_busy)
			world_read(d, g);
	}
}

void
daemon_record_read(struct dgroup *g, const struct dnsup_rrset *found,
    bool refused)
{
	struct daemon *d = g->d;
	const struct config *cfg = d->cfg;
	struct world_record rec;
	enum world_verdict v;
	int expected;
	char what[512];

	if (!g->waiting || g->resume_pending)
		return;
	world_record_of(cfg, found, &rec);
	if (found == NULL && refused)
		rec.kind = WORLD_REC_REFUSED;
	v = world_reconcile(&g->st, cfg, g->had_state, &rec, &expected);
	if (found != NULL)
		dnsup_rrset_format(found, what, sizeof(what));
	else
		snprintf(what, sizeof(what), "unknown");
	switch (v) {
	case WORLD_ADOPT:
		world_log_mismatch(g, expected);
		break;
	case WORLD_HOLD_UNREAD:
	case WORLD_HOLD_FOREIGN:
		if (g->hold_logged != (int)v + 1)
			log_error(v == WORLD_HOLD_UNREAD ? "record_unknown" :
			    "record_foreign", "group=%s name=%s record=%s"
			    " detail=%s", log_q(dgroup_name(g)),
			    log_q(g->address), log_q(what),
			    log_q(v == WORLD_HOLD_UNREAD ? "no state, and the"
			    " record cannot be read: nothing is published"
			    " until it can be (asked again at every"
			    " verify_interval)" : "the record is on a stack"
			    " that is not one of the group's: nothing is"
			    " published over it until it moves"));
		g->hold_logged = (int)v + 1;
		return;
	default:
		log_debug("world", "group=%s verdict=%s record=%s",
		    log_q(dgroup_name(g)), world_verdict_name(v), log_q(what));
		break;
	}
	if (g->hold_logged != 0)
		log_info("record_read", "group=%s record=%s verdict=%s",
		    log_q(dgroup_name(g)), log_q(what), world_verdict_name(v));
	g->hold_logged = 0;
	g->resume_pending = true;
	event_active(d->ev_resume, EV_TIMEOUT, 1);
}

/* ---- the world, built one way at start and at reload ---- */

/*
 * The fields of struct dstack and struct dgroup, each either carried from
 * the old object below or rebuilt as at start.  A field added to either
 * struct changes its size: these fail until dstack_carry / dgroup_carry
 * say what becomes of it (then update the size here).  A field small
 * enough to fit in padding goes unseen: the comments in daemon_int.h
 * ask for the same.
 */
#if defined(__x86_64__) && defined(__LP64__)
_Static_assert(sizeof(struct dstack) == 392,
    "struct dstack changed: update dstack_carry, then this size");
/* The engine's state (st) is decoded whole, whatever it holds. */
_Static_assert(sizeof(struct dgroup) - sizeof(struct eng_group) == 576,
    "struct dgroup changed: update dgroup_carry, then this size");
#endif

/*
 * A stack that stays: what the old object holds that the configuration
 * and the store cannot give again.  Every field, carried or not.
 */
static void
dstack_carry(struct daemon *d, struct dstack *ds, struct dstack *os,
    const struct health *oh, const struct cfg_stack *ocs, const char *osrc)
{
	const char *src = d->cfg->controller.source_address;
	const struct cfg_stack *ncs = &d->cfg->stacks[ds->idx];

	/* kind, d, idx: rebuilt (stacks_build), the new configuration's. */
	/* probe: carried, the running one; its results now reach ds. */
	ds->probe = os->probe;
	os->probe = NULL;
	probe_set_udata(ds->probe, ds);
	if (!stack_spec_equal(ocs, ncs) || (src == NULL ? osrc != NULL :
	    osrc == NULL || strcmp(src, osrc) != 0)) {
		struct probe_spec spec;

		stack_spec(ncs, src, &spec);
		if (probe_update(ds->probe, &spec) != 0)
			log_error("probe_update_failed", "stack=%s",
			    log_q(ncs->name));
		log_info("stack_changed", "stack=%s", log_q(ncs->name));
	}
	/* standby: carried, what the probe is set to (roles push
	 * differences: daemon_update_roles). */
	ds->standby = os->standby;
	/* health_dirty, hdirty_next: rebuilt (none): reload flushed first. */
	/* groups, ngroups: rebuilt from the new configuration. */
	/* The counters and the last result: carried (metrics, status). */
	memcpy(ds->nprobe, os->nprobe, sizeof(ds->nprobe));
	memcpy(ds->nreason, os->nreason, sizeof(ds->nreason));
	ds->local_run = os->local_run;
	ds->nreconnect = os->nreconnect;
	ds->last_probe_ms = os->last_probe_ms;
	ds->last_ok_ms = os->last_ok_ms;
	ds->last_status = os->last_status;
	ds->last_latency_us = os->last_latency_us;
	memcpy(ds->hist_buckets, os->hist_buckets, sizeof(ds->hist_buckets));
	ds->hist_sum = os->hist_sum;
	ds->hist_count = os->hist_count;
	/* Its health (d->health): carried, with the new rise and fall. */
	d->health[ds->idx] = *oh;
	d->health[ds->idx].rise = ncs->rise;
	d->health[ds->idx].fall = ncs->fall;
}

/*
 * A group that stays: what is in flight for it and its counters.  Its
 * state (st) is not carried but decoded (world_build), and whether it
 * waits for its record is decided there, as at start.  Every field.
 */
static void
dgroup_carry(struct dgroup *g, struct dgroup *og, const struct cfg_group *ocg)
{
	const struct cfg_group *ncg = &g->d->cfg->groups[g->idx];
	bool same_address = ncg->address_auto == ocg->address_auto &&
	    (ncg->address_auto || strcmp(ncg->address, ocg->address) == 0);

	/* d, idx: rebuilt.  st: decoded from the old state (world_build). */
	/* address: carried while its configuration is the same, else
	 * rebuilt (groups_address; auto ones are allocated again anyway). */
	if (same_address)
		memcpy(g->address, og->address, sizeof(g->address));
	/* timer: rebuilt (dgroup_timers_init); timer_at: carried, the
	 * engine's timers keep their deadlines. */
	for (int k = 0; k < ENG_NTIMER; k++)
		if (og->timer_at[k] > 0)
			dgroup_timer_set(g, k, og->timer_at[k]);
	/* hook: carried, the running one (its answer lands here). */
	g->hook = og->hook;
	og->hook = NULL;
	/* owner_ok: carried while the name and the adopt rule are the
	 * same; owner_doubt: not carried (false: the next UPDATE's
	 * prerequisite proves ownership again). */
	g->owner_ok = og->owner_ok && same_address && ncg->adopt == ocg->adopt;
	/* queued: rebuilt (0): reload flushed every queued step first. */
	/* dns_busy, dns_ticket: carried, an UPDATE in flight answers
	 * by the group's name and its ticket. */
	g->dns_busy = og->dns_busy;
	g->dns_ticket = og->dns_ticket;
	/* verify_busy: not carried: the DNS engine may be replaced, and a
	 * periodic read-back that lands twice is harmless. */
	/* waiting, had_state: decided in world_build.  moved: carried,
	 * a group held because its record moved stays held. */
	g->moved = og->moved;
	/* record_busy, resume_pending, hold_logged: not carried: a waiting
	 * group's record is read again after the reload (world_resume). */
	/* The counters: carried (metrics). */
	g->drift_repairs = og->drift_repairs;
	g->switches_ok = og->switches_ok;
	g->switches_failed = og->switches_failed;
	memcpy(g->switches_by, og->switches_by, sizeof(g->switches_by));
	memcpy(g->phase_results, og->phase_results, sizeof(g->phase_results));
	g->not_owner = og->not_owner;
}

/*
 * Build the daemon's stacks and groups for d->cfg, from the committed
 * state (the store, or at a reload the old group's state), the
 * configuration and, once read, the published records (world.h).  At
 * start (old NULL) every group waits for its record; at a reload a group
 * that was running keeps its state (encoded with the old configuration,
 * decoded with the new) and is checked against what the server last
 * accepted; one whose state the new configuration cannot take as it is
 * (a stack renamed, a role edited), one still waiting, and one this
 * process did not run (its state, if any, from the store, as at start)
 * wait for their record.  Starts no probe and feeds no group: the caller
 * does (world_resume, stacks_start).  -1: out of memory, or at start a
 * state that cannot be had (logged).
 */
int
world_build(struct daemon *d, const struct world_old *old)
{
	const struct config *cfg = d->cfg;
	const struct config *ocfg = old != NULL ? old->cfg : NULL;
	struct store_txn txn;
	struct store_txn *tp = NULL;
	char err[256];
	int rc = 0;

	if (stacks_build(d) != 0 || groups_build(d) != 0) {
		if (old == NULL)
			log_error("start_failed", "detail=out_of_memory");
		return -1;
	}
	for (size_t s = 0; old != NULL && s < cfg->nstack; s++) {
		int o = config_stack_index(ocfg, cfg->stacks[s].name);

		if (o >= 0 && old->stacks[o].probe != NULL)
			dstack_carry(d, &d->stacks[s], &old->stacks[o],
			    &old->health[o], &ocfg->stacks[o],
			    ocfg->controller.source_address);
		else if (!d->stopping)
			log_info("stack_added", "stack=%s",
			    log_q(cfg->stacks[s].name));
	}
	for (size_t o = 0; old != NULL && o < ocfg->nstack; o++)
		if (config_stack_index(cfg, ocfg->stacks[o].name) < 0)
			log_info("stack_removed", "stack=%s",
			    log_q(ocfg->stacks[o].name));
	d->ndown = 0;
	for (size_t s = 0; s < cfg->nstack; s++)
		if (d->health[s].state == HEALTH_DOWN)
			d->ndown++;

	if (d->store != NULL) {
		if (store_txn_begin(d->store, false, &txn) == 0)
			tp = &txn;
		else {
			log_error("store_failed", "op=%s error=%s detail=%s",
			    old != NULL ? "reload" : "load",
			    store_errname(txn.err), log_q(txn.detail));
			if (old == NULL)
				return -1;
		}
	}
	for (size_t i = 0; i < cfg->ngroup && rc == 0; i++) {
		struct dgroup *g = &d->groups[i];
		const struct cfg_group *ng = &cfg->groups[i];
		const struct cfg_group *og = ocfg != NULL ?
		    config_group_find(ocfg, ng->name) : NULL;

		if (og == NULL) {
			if (old != NULL)
				log_info("group_added", "group=%s",
				    log_q(ng->name));
			if (group_load(d, g, tp) != 0) {
				if (old == NULL)
					rc = -1;
				else
					eng_group_init(&g->st, cfg, (int)i,
					    false);
			}
			g->waiting = true;
			continue;
		}
		size_t o = (size_t)(og - ocfg->groups);
		struct dgroup *ogr = &old->groups[o];
		int drc = eng_group_decode(old->blobs[o], old->lens[o], cfg,
		    &g->st, err, sizeof(err));

		if (drc < 0) {
			log_error("state_unreadable", "group=%s error=%s",
			    log_q(ng->name), log_q(err));
			eng_group_init(&g->st, cfg, (int)i, false);
		} else if (drc == ENG_DECODE_RESET)
			log_warn("state_reset", "group=%s detail=%s",
			    log_q(ng->name), log_q(err));
		g->st.group = (int)i;
		g->had_state = drc >= 0 || ogr->had_state;
		dgroup_carry(g, ogr, og);
		if (drc != 0 || ogr->waiting)
			g->waiting = true;
		else
			world_known(g, ocfg, ogr);
	}
	if (tp != NULL)
		store_txn_abort(tp);
	if (rc != 0)
		return -1;
	for (size_t o = 0; old != NULL && o < ocfg->ngroup; o++)
		if (config_group_find(cfg, ocfg->groups[o].name) == NULL)
			log_info("group_removed", "group=%s detail=%s",
			    log_q(ocfg->groups[o].name),
			    log_q("no longer managed; its record is left as"
			    " it is (failoverctl group delete removes it)"));
	if (groups_address(d) != 0) {
		if (old == NULL)
			return -1;
		log_error("reload_partial", "key=address detail=%s",
		    log_q("an auto address could not be allocated"));
	}
	return 0;
}

/*
 * Start the probe of every stack that has none (all of them at start);
 * -1 if one could not be started (logged), the others started still.
 */
int
stacks_start(struct daemon *d)
{
	int rc = 0;

	for (size_t s = 0; s < d->cfg->nstack; s++)
		if (d->stacks[s].probe == NULL &&
		    stack_probe_start(d, &d->stacks[s]) != 0)
			rc = -1;
	return rc;
}

/*
 * After world_build: a group that need not wait is evaluated; every other
 * waits for its record to be read and resumes then (resume_cb), but for
 * one held because its record moved.
 */
void
world_resume(struct daemon *d)
{
	/* In a cluster every group waits until this member leads
	 * (daemon_cluster.c, world_take_over). */
	if (d->cluster != NULL && !daemon_may_act(d))
		return;
	for (size_t i = 0; i < d->cfg->ngroup; i++) {
		struct eng_event ev = { .kind = ENG_EV_EVALUATE };
		struct dgroup *g = &d->groups[i];

		if (!g->waiting)
			dgroup_feed(g, &ev);
		else if (!g->moved)
			world_read(d, g);
	}
}


/*
 * A cluster member became the leader (daemon_cluster.c): the world is
 * built again as a restarted daemon builds it.  Each group's state is
 * loaded from the store (what this member last committed, or fresh), then
 * its record is read back (daemon_dns.c replaces the ownership TXT with
 * our epoch first) and reconciled with it by the same rule as at start,
 * so that a record a previous leader moved is adopted, not reverted.  The
 * stacks, their probes and their health stay as they are: they are what
 * the follower kept warm.
 */
/* A group's state from what etcd holds: 1 loaded, 0 none there, -1 bad. */
static int
group_load_etcd(struct daemon *d, struct dgroup *g,
    const struct world_states *ws)
{
	const char *name = dgroup_name(g);
	char err[256];
	int rc;

	for (size_t i = 0; ws != NULL && i < ws->n; i++) {
		if (strcmp(ws->names[i], name) != 0)
			continue;
		rc = eng_group_decode(ws->blobs[i], ws->lens[i], d->cfg, &g->st,
		    err, sizeof(err));
		if (rc < 0) {
			log_error("state_unreadable", "group=%s source=etcd"
			    " error=%s", log_q(name), log_q(err));
			return -1;
		}
		if (rc == ENG_DECODE_RESET)
			log_warn("state_reset", "group=%s source=etcd detail=%s",
			    log_q(name), log_q(err));
		g->st.group = g->idx;
		g->had_state = true;
		return 1;
	}
	return 0;
}

void
world_take_over(struct daemon *d, const struct world_states *ws)
{
	struct store_txn txn;
	struct store_txn *tp = NULL;
	size_t from_etcd = 0;

	if (d->store != NULL) {
		if (store_txn_begin(d->store, false, &txn) == 0)
			tp = &txn;
		else
			log_error("store_failed", "op=take_over error=%s"
			    " detail=%s", store_errname(txn.err),
			    log_q(txn.detail));
	}
	for (size_t i = 0; i < d->cfg->ngroup; i++) {
		struct dgroup *g = &d->groups[i];

		g->had_state = false;
		/* etcd's is the leaders' state; the store has only ours. */
		if (group_load_etcd(d, g, ws) == 1)
			from_etcd++;
		else if (group_load(d, g, tp) != 0)
			eng_group_init(&g->st, d->cfg, (int)i, false);
		g->st.group = (int)i;
		g->owner_ok = false;
		g->owner_doubt = false;
		g->moved = false;
		g->resume_pending = false;
		g->hold_logged = 0;
		/* A ticket of the engine state replaced: not waited for. */
		g->dns_busy = false;
		/* As at a start: no timer; the engine sets what it needs
		 * when it resumes. */
		for (int k = 0; k < ENG_NTIMER; k++) {
			evtimer_del(g->timer[k]);
			g->timer_at[k] = 0;
		}
	}
	if (tp != NULL)
		store_txn_abort(tp);
	log_info("take_over", "groups=%zu from_etcd=%zu", d->cfg->ngroup,
	    from_etcd);
	for (size_t i = 0; i < d->cfg->ngroup; i++)
		world_read(d, &d->groups[i]);
}
