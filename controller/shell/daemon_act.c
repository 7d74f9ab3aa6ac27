/*
 * daemon_act.c - carrying out the engine's actions: the journal commit,
 * timers, records, and the events fed back to the engine; the hooks
 * themselves are run by daemon_hooks.c.
 *
 * The contract is engine.h's: RECORDs are buffered until the PERSIST of the
 * same step, which commits the group state, its journal entry and the
 * records in one durable LMDB transaction; only then do the side effects
 * run.  If that commit fails, the step is undone (the state before it is
 * restored, nothing is run) and the same event is fed again a little later:
 * the engine is pure, so replaying an event on the old state is exactly the
 * step that failed.
 *
 * Completions (hooks, DNS, deferred answers in dry-run) find their group by
 * name, not by pointer: a reload replaces the group objects while a hook
 * may still be running.
 *
 * Also here, since the actions change them: which stacks are probed as
 * standbys (the roles), the health snapshots written with the flush, and
 * the end of the loop once stopping and nothing is in flight.  The probe
 * log is daemon_probelog.c's.  The file
 * calls down (hooks, daemon_dns.c, the store), never up into daemon.c.
 */
#include "controller/shell/daemon_int.h"
#include "controller/shell/daemon_cluster_val.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <jansson.h>

#include "controller/core/engine_codec.h"
#include "controller/shell/daemon_precheck.h"
#include "controller/shell/hook.h"
#include "controller/base/log.h"
#include "dnsupdate/dnsup.h"
#include "probes/probe.h"

#define PERSIST_RETRY_MS	2000

/* An event to feed later: a retry, or a dry-run answer. */
struct defer {
	struct daemon	*d;
	struct event	*ev;
	struct defer	*next, *prev;
	char		 group[STORE_NAME_MAX + 1];
	struct eng_event e;
	char		 error[64];	/* copy of e.u.dns.error */
};

static struct defer *defers;	/* pending deferred events, for teardown */

static void	 defer_cb(evutil_socket_t, short, void *);
static void	 timer_cb(evutil_socket_t, short, void *);

const char *
daemon_sname(const struct daemon *d, int stack)
{
	return stack >= 0 && (size_t)stack < d->cfg->nstack ?
	    d->cfg->stacks[stack].name : "-";
}

/* ---- deferred events ---- */

static void
defer_event(struct daemon *d, const char *group, const struct eng_event *e,
    int64_t ms)
{
	struct defer *df = calloc(1, sizeof(*df));
	struct timeval tv = { (time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000 };

	if (df == NULL)
		fatal("out_of_memory", "where=defer");
	df->d = d;
	snprintf(df->group, sizeof(df->group), "%s", group);
	df->e = *e;
	if (e->kind == ENG_EV_DNS_DONE && e->u.dns.error != NULL) {
		snprintf(df->error, sizeof(df->error), "%s", e->u.dns.error);
		df->e.u.dns.error = df->error;
	}
	df->ev = evtimer_new(d->base, defer_cb, df);
	if (df->ev == NULL)
		fatal("out_of_memory", "where=defer");
	df->next = defers;
	if (defers != NULL)
		defers->prev = df;
	defers = df;
	evtimer_add(df->ev, &tv);
}

static void
defer_unlink(struct defer *df)
{
	if (df->prev != NULL)
		df->prev->next = df->next;
	else
		defers = df->next;
	if (df->next != NULL)
		df->next->prev = df->prev;
	event_free(df->ev);
}

static void
defer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct defer *df = arg;
	struct dgroup *g = daemon_group_find(df->d, df->group);

	defer_unlink(df);
	if (g != NULL) {
		if (df->e.kind == ENG_EV_DNS_DONE)
			df->e.u.dns.error = df->error;
		dgroup_feed(g, &df->e);
	}
	free(df);
}

void
daemon_defer_event(struct daemon *d, const char *group,
    const struct eng_event *e, int64_t ms)
{
	defer_event(d, group, e, ms);
}

void
daemon_defers_free(void)
{
	while (defers != NULL) {
		struct defer *df = defers;

		defer_unlink(df);
		free(df);
	}
}

/* ---- timers ---- */

int
dgroup_timers_init(struct dgroup *g)
{
	for (int k = 0; k < ENG_NTIMER; k++) {
		g->timer[k] = evtimer_new(g->d->base, timer_cb, g);
		if (g->timer[k] == NULL)
			return -1;
	}
	return 0;
}

void
dgroup_timers_free(struct dgroup *g)
{
	for (int k = 0; k < ENG_NTIMER; k++)
		if (g->timer[k] != NULL) {
			event_free(g->timer[k]);
			g->timer[k] = NULL;
		}
}

void
dgroup_timer_set(struct dgroup *g, int kind, int64_t at_ms)
{
	int64_t ms = at_ms - clock_mono_ms();
	struct timeval tv;

	if (ms < 0)
		ms = 0;
	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
	g->timer_at[kind] = at_ms;
	evtimer_add(g->timer[kind], &tv);
}

static void
timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct dgroup *g = arg;
	struct eng_event ev = { .kind = ENG_EV_TIMER };

	for (int k = 0; k < ENG_NTIMER; k++) {
		if (g->timer_at[k] == 0 || evtimer_pending(g->timer[k], NULL))
			continue;
		g->timer_at[k] = 0;
		ev.u.timer = (enum eng_timer)k;
		dgroup_feed(g, &ev);
	}
}

/* ---- records and the journal ---- */

static char *
record_payload(const struct eng_action *a, uint64_t epoch)
{
	json_t *o = json_object();
	char *s;

	if (o == NULL)
		return NULL;
	json_object_set_new(o, "level", json_string(eng_level_name(
	    a->u.rec.level)));
	for (int i = 0; i < a->u.rec.nkv; i++)
		json_object_set_new(o, a->u.rec.kv[i].key,
		    json_string(a->u.rec.kv[i].val));
	/* In a cluster, the leadership that recorded it. */
	if (epoch > 0)
		json_object_set_new(o, "epoch", json_integer(
		    (json_int_t)epoch));
	s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	return s;
}

static void
record_log(struct dgroup *g, const struct eng_action *a)
{
	char line[1024];
	size_t off = 0;
	const char *gk = eng_record_get(a, "group") == NULL ? "group=" : "";
	const char *gv = *gk ? log_q(dgroup_name(g)) : "";

	line[0] = '\0';
	for (int i = 0; i < a->u.rec.nkv && off < sizeof(line); i++) {
		int n = snprintf(line + off, sizeof(line) - off, " %s=%s",
		    a->u.rec.kv[i].key, log_q(a->u.rec.kv[i].val));
		if (n < 0)
			break;
		off += (size_t)n;
	}
	if (daemon_epoch(g->d) > 0 && off < sizeof(line))
		snprintf(line + off, sizeof(line) - off, " epoch=%llu",
		    (unsigned long long)daemon_epoch(g->d));
	switch (a->u.rec.level) {
	case ENG_LVL_ERROR:
		log_error(a->u.rec.name, "%s%s%s", gk, gv, *gk ? line : line + 1);
		break;
	case ENG_LVL_WARN:
		log_warn(a->u.rec.name, "%s%s%s", gk, gv, *gk ? line : line + 1);
		break;
	default:
		log_info(a->u.rec.name, "%s%s%s", gk, gv, *gk ? line : line + 1);
		break;
	}
}

/* Metrics that follow from records. */
static void
record_count(struct dgroup *g, const struct eng_action *a)
{
	struct daemon *d = g->d;
	int why = g->st.sw.reason == ENG_REASON_MANUAL;	/* switches_by */

	if (strcmp(a->u.rec.name, "switch_finished") == 0) {
		g->switches_ok++;
		g->switches_by[why][0]++;
	} else if (strcmp(a->u.rec.name, "switch_failed") == 0) {
		g->switches_failed++;
		g->switches_by[why][1]++;
	} else if (strcmp(a->u.rec.name, "phase_finished") == 0 ||
	    strcmp(a->u.rec.name, "phase_failed") == 0) {
		const char *ph = eng_record_get(a, "phase");
		const char *ms = eng_record_get(a, "duration_ms");
		const char *res = eng_record_get(a, "result");
		int p = ph != NULL ? eng_phase_parse(ph) : -1;
		int r = res == NULL || strcmp(res, "ok") == 0 ? 0 :
		    strcmp(res, "timeout") == 0 ? 2 : 1;
		double sec;
		int i;

		if (p >= 0 && p < ENG_NPHASE) {
			g->phase_results[p][r]++;
			if (ms != NULL) {
				sec = (double)strtoull(ms, NULL, 10) / 1000.0;
				for (i = 0; i < DPHASE_NBUCKET; i++)
					if (sec <= dphase_le(i))
						break;
				d->phase_buckets[p][r][i]++;
				d->phase_sum[p][r] += sec;
			}
		}
	}
}

/* ---- the step, and group commit ---- */

/*
 * Group commit.  Every step whose output holds a PERSIST is queued with a
 * copy of the state it produced; one flush per loop turn (a low-priority
 * event, so it runs after every callback that was ready) commits all of
 * them in ONE durable transaction, then logs their records and runs their
 * side effects in order.  A thousand groups failing over together cost a
 * few syncs per phase instead of a thousand.  The engine's contract holds:
 * no side effect of a step runs before its state is committed.  A group
 * with a step in the queue queues its later steps too, so its side effects
 * keep their order.  Under load (thousands of probes a second keep the
 * default priority busy) the low priority alone would starve: a flush
 * waits FLUSH_MAX_WAIT_MS at most, then runs at the default priority.
 */
#define FLUSH_MAX_WAIT_MS	5

struct pending {
	struct pending		*next;
	int			 gidx;
	bool			 persist;
	struct eng_group	 before, after;
	struct eng_event	 ev;
	char			 error[64];
	size_t			 n;
	struct eng_action	 a[];		/* the step's actions */
};

static struct pending	*pq_head, **pq_tail = &pq_head;
static struct event	*ev_flush, *ev_flush_late;
static struct daemon	*flush_daemon;

/*
 * In a cluster, a step committed while this member led may reach here
 * after it stopped leading (its validity ran out in between): its hook or
 * UPDATE is not carried out.  The group is waiting by then (or is about
 * to, at the election's LOST): its engine hears nothing more, and the
 * state committed says the phase started, so a later leadership resumes
 * it as a restart does.  Alone, always false.
 */
static bool
withheld(struct dgroup *g, const char *what)
{
	struct daemon *d = g->d;

	if (daemon_may_act(d))
		return false;
	log_warn("action_withheld", "group=%s action=%s epoch=%llu detail=%s",
	    log_q(dgroup_name(g)), what, (unsigned long long)d->cl_epoch,
	    log_q("this cluster member does not lead (any more)"));
	g->waiting = true;
	return true;
}

/*
 * The switch a step belongs to, or "": a status change at the end of a
 * switch (the flip's answer) is a line of that switch, so it carries its
 * id= as the phases do (and the notify hook gets FAILOVER_ID).
 */
static const char *
step_switch_id(const struct eng_group *before, const struct eng_group *after)
{
	if (after->status == ENG_SWITCHING)
		return after->sw.id;
	if (before->status == ENG_SWITCHING)
		return before->sw.id;
	return "";
}

static void
run_actions(struct dgroup *g, const struct eng_action *acts, size_t n,
    const char *sw_id)
{
	struct daemon *d = g->d;
	char idkv[ENG_ID_MAX + 8] = "";

	if (sw_id[0] != '\0')
		snprintf(idkv, sizeof(idkv), " id=%s", log_q(sw_id));

	for (size_t i = 0; i < n; i++) {
		const struct eng_action *a = &acts[i];

		switch (a->kind) {
		case ENG_ACT_RECORD:
			/* Logged once committed: the log never claims more
			 * than the journal holds. */
			record_log(g, a);
			record_count(g, a);
			break;
		case ENG_ACT_PERSIST:
			break;
		case ENG_ACT_RUN_HOOK:
			if (!d->stopping && !withheld(g, "hook")) {
				dprecheck_yield(g);
				daemon_run_hook(g, a, HCTX_SEQUENCE, NULL, NULL);
			}
			break;
		case ENG_ACT_RUN_PRECHECK:
			if (!d->stopping && !withheld(g, "precheck")) {
				dprecheck_yield(g);
				daemon_run_hook(g, a, HCTX_PRECHECK, NULL, NULL);
			}
			break;
		case ENG_ACT_DNS_UPDATE:
			if (!d->stopping && !withheld(g, "update"))
				ddns_update(g, a);
			break;
		case ENG_ACT_SET_TIMER:
			dgroup_timer_set(g, a->u.timer.timer, a->u.timer.at_ms);
			break;
		case ENG_ACT_STATUS_CHANGE:
			log_info("status_change", "group=%s%s stack=%s status=%s",
			    log_q(dgroup_name(g)), idkv,
			    log_q(daemon_sname(d, a->u.status.stack)),
			    eng_online_name(a->u.status.status));
			if (a->u.status.hook != NULL &&
			    a->u.status.hook->argc > 0 && !d->stopping &&
			    !withheld(g, "status_hook"))
				daemon_run_hook(g, a, HCTX_STATUS,
				    eng_online_name(a->u.status.status), sw_id);
			break;
		}
	}
}


/* Write one queued step into the open transaction. */
static void
persist_one(struct daemon *d, struct store_txn *txn, const struct pending *p,
    int64_t now)
{
	const char *name = d->cfg->groups[p->gidx].name;
	char *blob = NULL;
	size_t blen = 0;

	if (eng_group_encode(&p->after, d->cfg, &blob, &blen) != 0) {
		if (txn->err == 0) {
			txn->err = STORE_E_NOMEM;
			snprintf(txn->detail, sizeof(txn->detail),
			    "out of memory encoding the state");
		}
		return;
	}
	store_group_put(txn, name, blob, blen);
	free(blob);
	blob = NULL;
	/* The journal entry says which leadership wrote it (0: alone). */
	if (p->after.sw.id[0] != '\0' && eng_journal_encode(&p->after, d->cfg,
	    daemon_epoch(d), &blob, &blen) == 0)
		store_journal_put(txn, p->after.sw.id, blob, blen);
	else if (p->after.sw.id[0] != '\0' && txn->err == 0) {
		txn->err = STORE_E_NOMEM;
		snprintf(txn->detail, sizeof(txn->detail),
		    "out of memory encoding the journal entry");
	}
	free(blob);
	for (size_t i = 0; i < p->n; i++) {
		const struct eng_action *a = &p->a[i];
		char *payload;

		if (a->kind != ENG_ACT_RECORD)
			continue;
		payload = record_payload(a, daemon_epoch(d));
		store_history_append(txn, now, name, a->u.rec.name,
		    payload != NULL ? payload : "{}", NULL);
		free(payload);
	}
}

/* Forget the queue's counts: the steps were taken off the queue. */
static void
unqueue_all(struct daemon *d, struct pending *list)
{
	for (struct pending *p = list; p != NULL; p = p->next)
		d->groups[p->gidx].queued--;
}

static void	 flush_commit(struct daemon *, struct pending *);
static void	 flush_written(struct daemon *, int err, uint64_t gen);

/*
 * In a cluster the states a batch persists are first written to etcd, in
 * transactions fenced on this member's leader key (d->cl_write,
 * daemon_cluster.c), and only once etcd took them committed to LMDB and
 * carried out: a new leader reads them from etcd and resumes from there.
 * One batch at a time: while one is being written the queue grows behind
 * it, and the steps of the batch keep their groups queued (their later
 * steps wait behind them, side effects in order).  A batch etcd did not
 * take is dropped, not committed nor carried out: the member stops
 * leading (daemon_cluster.c), its groups wait, and whoever leads next
 * resumes from what etcd holds.
 */
static struct pending	*flush_batch;	/* being written to etcd */
static bool		 flush_inflight;
static uint64_t		 flush_gen;	/* of the batch in flight; a
					   discard moves it on, so that a
					   late answer finds nothing */

static bool
flush_persists(const struct pending *list)
{
	for (const struct pending *p = list; p != NULL; p = p->next)
		if (p->persist)
			return true;
	return false;
}

/*
 * The batch's last state of each group it persists, encoded.  The last is
 * found in one pass (a later step of a group replaces the one before): a
 * scan of the rest of the list per step was quadratic, 3 million
 * comparisons for a batch of 2,500 steps.
 */
static int
flush_to_etcd(struct daemon *d, struct pending *list)
{
	size_t n = 0, k = 0;
	const char **names = NULL;
	char **blobs = NULL;
	size_t *lens = NULL;
	struct pending **last = NULL;
	struct store_txn rt, *rtp = NULL;
	int rc = -1;

	for (struct pending *p = list; p != NULL; p = p->next)
		n++;
	/* The flags go with the state (daemon_cluster_val.c). */
	if (d->store != NULL && store_txn_begin(d->store, false, &rt) == 0)
		rtp = &rt;
	names = calloc(n, sizeof(*names));
	blobs = calloc(n, sizeof(*blobs));
	lens = calloc(n, sizeof(*lens));
	last = calloc(d->cfg->ngroup > 0 ? d->cfg->ngroup : 1, sizeof(*last));
	if (names == NULL || blobs == NULL || lens == NULL || last == NULL)
		goto out;
	for (struct pending *p = list; p != NULL; p = p->next)
		if (p->persist)
			last[p->gidx] = p;
	for (struct pending *p = list; p != NULL; p = p->next) {
		if (last[p->gidx] != p)
			continue;
		if (dclv_encode(d->cfg, rtp, d->cfg->groups[p->gidx].name,
		    &p->after, daemon_epoch(d), &blobs[k], &lens[k]) != 0)
			goto out;
		names[k++] = d->cfg->groups[p->gidx].name;
	}
	if (rtp != NULL) {
		store_txn_abort(rtp);
		rtp = NULL;
	}
	rc = d->cl_write(d, names, (char *const *)blobs, lens, k,
	    flush_written, ++flush_gen);
out:
	if (rtp != NULL)
		store_txn_abort(rtp);
	for (size_t i = 0; blobs != NULL && i < k; i++)
		free(blobs[i]);
	free(names);
	free(blobs);
	free(lens);
	free(last);
	return rc;
}

static void
flush_drop(struct daemon *d, struct pending *list)
{
	struct pending *next;

	unqueue_all(d, list);
	for (struct pending *p = list; p != NULL; p = next) {
		next = p->next;
		free(p);
	}
}

static void
flush_written(struct daemon *d, int err, uint64_t gen)
{
	struct pending *list = flush_batch;

	if (gen != flush_gen || !flush_inflight)
		return;		/* discarded meanwhile */
	flush_batch = NULL;
	flush_inflight = false;
	if (err != 0) {
		/* Not taken by etcd: not ours to commit any more. */
		flush_drop(d, list);
		health_dirty_clear(d);
		/* Steps queued behind it are flushed (or dropped, by a member
		 * that may no longer act) as after a success: left queued,
		 * daemon_flush_busy() stayed true, and a stopping member
		 * waited for them for ever before it resigned. */
		if (pq_head != NULL)
			daemon_flush_schedule(d);
	} else {
		unqueue_all(d, list);
		flush_commit(d, list);
		if (pq_head != NULL)
			daemon_flush_schedule(d);
	}
	if (d->cl_flushed != NULL)
		d->cl_flushed(d);
}

bool
daemon_flush_busy(void)
{
	return flush_inflight || pq_head != NULL;
}

bool
daemon_flush_sending(void)
{
	return flush_inflight;
}

void
daemon_flush(struct daemon *d)
{
	struct pending *list = pq_head;

	if (flush_inflight)
		return;		/* flush_written takes the queue next */
	if (d->cl_cmd_hold)
		return;		/* an operator's answer goes first, then
				   it schedules us (daemon_cluster_cmd.c) */
	pq_head = NULL;
	pq_tail = &pq_head;
	if (ev_flush_late != NULL)
		evtimer_del(ev_flush_late);
	if (ev_flush != NULL)
		event_del(ev_flush);
	if (d->cl_write != NULL && flush_persists(list)) {
		if (!daemon_may_act(d)) {
			flush_drop(d, list);
			return;
		}
		flush_batch = list;
		flush_inflight = true;
		if (flush_to_etcd(d, list) != 0) {
			flush_batch = NULL;
			flush_inflight = false;
			log_error("cluster_write_failed", "detail=%s",
			    log_q("the batch could not be sent to etcd"));
			flush_drop(d, list);
		}
		return;
	}
	unqueue_all(d, list);
	flush_commit(d, list);
}

static void
flush_commit(struct daemon *d, struct pending *list)
{
	struct pending *p, *next;
	struct store_txn txn;
	int rc = 0;

	if (list == NULL && !health_dirty_any(d))
		return;
	if (d->store != NULL) {
		int64_t now = clock_wall_ms();

		rc = store_txn_begin(d->store, true, &txn);
		if (rc == 0) {
			for (p = list; p != NULL; p = p->next)
				if (p->persist)
					persist_one(d, &txn, p, now);
			health_dirty_write(d, &txn);
			rc = store_txn_commit(&txn);
		}
	}
	if (rc != 0) {
		/* Undo every queued step and feed its event again later. */
		size_t nsteps = 0;

		for (p = list; p != NULL; p = p->next)
			nsteps++;
		d->persist_failures++;
		log_error("persist_failed", "steps=%zu error=%s detail=%s"
		    " retry_ms=%d", nsteps, store_errname(rc),
		    log_q(txn.detail), PERSIST_RETRY_MS);
		/* The logs give way to the journal. */
		if (rc == STORE_E_MAP_FULL)
			daemon_retention_urgent(d);
		for (p = list; p != NULL; p = p->next) {
			struct dgroup *g = &d->groups[p->gidx];
			bool first = true;

			for (struct pending *q = list; q != p; q = q->next)
				if (q->gidx == p->gidx)
					first = false;
			if (first)
				g->st = p->before;
			if (p->ev.kind == ENG_EV_DNS_DONE)
				p->ev.u.dns.error = p->error;
			defer_event(d, d->cfg->groups[p->gidx].name, &p->ev,
			    PERSIST_RETRY_MS);
		}
		health_dirty_clear(d);
	} else {
		health_dirty_clear(d);
		for (p = list; p != NULL; p = p->next)
			run_actions(&d->groups[p->gidx], p->a, p->n,
			    step_switch_id(&p->before, &p->after));
	}
	for (p = list; p != NULL; p = next) {
		next = p->next;
		free(p);
	}
}

void
daemon_flush_discard(struct daemon *d)
{
	struct pending *list = pq_head, *next;

	/* A batch etcd has not answered is dropped with the rest. */
	if (flush_batch != NULL) {
		flush_drop(d, flush_batch);
		flush_batch = NULL;
		flush_inflight = false;
	}
	flush_gen++;

	pq_head = NULL;
	pq_tail = &pq_head;
	if (ev_flush_late != NULL)
		evtimer_del(ev_flush_late);
	if (ev_flush != NULL)
		event_del(ev_flush);
	unqueue_all(d, list);
	for (struct pending *p = list; p != NULL; p = next) {
		next = p->next;
		free(p);
	}
	health_dirty_clear(d);
}

static void
flush_cb(evutil_socket_t fd, short what, void *arg)
{
	daemon_flush(arg);
}

int
daemon_flush_init(struct daemon *d)
{
	flush_daemon = d;
	ev_flush = event_new(d->base, -1, 0, flush_cb, d);
	ev_flush_late = evtimer_new(d->base, flush_cb, d);
	if (ev_flush == NULL || ev_flush_late == NULL)
		return -1;
	/* After every core callback that is ready now (daemon_int.h). */
	event_priority_set(ev_flush, DAEMON_PRIO_FLUSH);
	return 0;
}

void
daemon_flush_free(void)
{
	if (ev_flush != NULL)
		event_free(ev_flush);
	if (ev_flush_late != NULL)
		event_free(ev_flush_late);
	ev_flush = ev_flush_late = NULL;
}

void
daemon_flush_schedule(struct daemon *d)
{
	struct timeval tv = { 0, FLUSH_MAX_WAIT_MS * 1000 };

	if (ev_flush != NULL && !event_pending(ev_flush, EV_TIMEOUT, NULL)) {
		event_active(ev_flush, EV_TIMEOUT, 0);
		evtimer_add(ev_flush_late, &tv);
	}
}

/*
 * The group's active stack changed: only its stacks can change role (a
 * walk of every stack per switch was O(stacks x groups) in a mass
 * failover).
 */
static void
dgroup_update_roles(struct dgroup *g, const struct eng_group *before)
{
	struct daemon *d = g->d;
	const struct cfg_group *cg = &d->cfg->groups[g->idx];
	int s[4] = { before->active, g->st.active, cg->primary, cg->backup };

	for (int i = 0; i < 4; i++)
		daemon_update_stack_role(d, s[i]);
}

void
dgroup_feed(struct dgroup *g, const struct eng_event *ev)
{
	struct daemon *d = g->d;
	struct eng_group before = g->st;
	struct eng_world w;
	struct eng_out out;
	struct pending *p;
	bool persist = false;
	int rc;

	/*
	 * Its record not read yet (world.h): nothing is in flight for it,
	 * and what it would be told now is seen again when it resumes.
	 */
	if (g->waiting)
		return;
	daemon_world(d, &w);
	rc = eng_step(&g->st, &w, ev, daemon_now(), &out);
	if (rc < 0) {
		log_error("engine_refused_event", "group=%s event=%d",
		    log_q(dgroup_name(g)), (int)ev->kind);
		return;
	}
	for (size_t i = 0; i < out.n; i++)
		if (out.a[i].kind == ENG_ACT_PERSIST)
			persist = true;
	if (!persist && g->queued == 0) {
		run_actions(g, out.a, out.n, step_switch_id(&before, &g->st));
		if (g->st.active != before.active)
			dgroup_update_roles(g, &before);
		return;
	}
	p = malloc(sizeof(*p) + out.n * sizeof(out.a[0]));
	if (p == NULL)
		fatal("out_of_memory", "where=dgroup_feed");
	p->next = NULL;
	p->gidx = g->idx;
	p->persist = persist;
	p->before = before;
	p->after = g->st;
	p->ev = *ev;
	if (ev->kind == ENG_EV_DNS_DONE && ev->u.dns.error != NULL) {
		snprintf(p->error, sizeof(p->error), "%s", ev->u.dns.error);
		p->ev.u.dns.error = p->error;
	}
	p->n = out.n;
	memcpy(p->a, out.a, out.n * sizeof(out.a[0]));
	*pq_tail = p;
	pq_tail = &p->next;
	g->queued++;
	daemon_flush_schedule(d);
	/* A switch changes who is standby: probe with the right statuses. */
	if (g->st.active != before.active)
		dgroup_update_roles(g, &before);
}

/* ---- the end of the loop ---- */

/*
 * Stopping, the loop ends once nothing is in flight: no hook runs and no
 * DNS message waits for its answer.
 */
void
daemon_maybe_exit(struct daemon *d)
{
	struct dnsup_stats ds = { 0 };

	if (!d->stopping)
		return;
	/* An operator's precheck is nobody's step: it does not hold us. */
	dprecheck_stop_all();
	if (d->dns != NULL)
		dnsup_engine_stats(d->dns, &ds);
	/* A cluster member's resignation is answered first (bounded by
	 * the etcd client's timeouts), so that another leads at once. */
	if (hook_runner_count(d->hooks) == 0 && ds.inflight == 0 &&
	    !d->cl_resigning && !d->cl_resign_due)
		event_base_loopexit(d->base, NULL);
}

/* ---- roles ---- */

/*
 * A stack that takes no group's traffic is a standby: a maintenance page
 * (standby_expect_status) counts as able to take over.
 */
void
daemon_update_stack_role(struct daemon *d, int s)
{
	struct dstack *ds;
	bool standby;

	if (s < 0 || (size_t)s >= d->cfg->nstack)
		return;
	ds = &d->stacks[s];
	standby = ds->ngroups > 0;
	for (int i = 0; i < ds->ngroups; i++)
		if (d->groups[ds->groups[i]].st.active == s)
			standby = false;
	if (standby != ds->standby) {
		ds->standby = standby;
		if (ds->probe != NULL)
			probe_set_standby(ds->probe, standby);
	}
}

void
daemon_update_roles(struct daemon *d)
{
	for (size_t s = 0; s < d->cfg->nstack; s++)
		daemon_update_stack_role(d, (int)s);
}

/* ---- health snapshots, written with the flush ---- */

/*
 * Stack health goes to the store's meta records ("health/<stack>") on
 * every change, so that failoverctl can judge a switch (is the target
 * up?) and show the health while the daemon runs.  Written with the next
 * group commit (daemon_flush), in the same transaction as the steps the
 * change caused.  The stacks to write are a list (d->hdirty_head, through
 * dstack.hdirty_next), not a flag to look for in every stack: a flush
 * comes with every loop turn that changed anything.
 */
bool
health_dirty_any(const struct daemon *d)
{
	return d->hdirty_head >= 0;
}

void
health_dirty_clear(struct daemon *d)
{
	int s, next;

	for (s = d->hdirty_head; s >= 0; s = next) {
		next = d->stacks[s].hdirty_next;
		d->stacks[s].health_dirty = false;
		d->stacks[s].hdirty_next = -1;
	}
	d->hdirty_head = -1;
}

void
health_dirty_write(struct daemon *d, struct store_txn *txn)
{
	for (int s = d->hdirty_head; s >= 0; s = d->stacks[s].hdirty_next) {
		const struct health *h = &d->health[s];
		char key[300], val[256];
		int n;

		snprintf(key, sizeof(key), "health/%s", d->cfg->stacks[s].name);
		n = snprintf(val, sizeof(val), "{\"state\":\"%s\",\"since_ms\":"
		    "%lld,\"reason\":\"%s\"}", health_state_name(h->state),
		    (long long)h->since_ms, h->last_reason ?
		    probe_reason_name((enum probe_reason)h->last_reason) : "ok");
		store_meta_put(txn, key, val, (size_t)n);
	}
}
