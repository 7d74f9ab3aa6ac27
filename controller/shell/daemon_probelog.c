/*
 * daemon_probelog.c - the probe log: every probe's raw outcome, kept in
 * the store for replay, and its retention.
 *
 * Raw outcomes go to the store in runs (store_probelog_*, for replay),
 * written in one transaction every few seconds: one write per probe would
 * cost a sync each.  Each stack's newest run is kept here and extended in
 * memory (store_probe_run_next, the store's own rule), so a flush writes
 * one record per stack that probed since the last one, plus the runs that
 * ended meanwhile, however many checks there were: at 10,000 stacks and
 * 1 s, 10,000 writes every 5 s instead of 50,000 read-modify-writes.
 * What a crash loses is the last few seconds of replay input, never
 * decision state.
 */
#include "controller/shell/daemon_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "controller/base/log.h"
#include "probes/probe.h"

struct plog_run {
	struct store_probe_run	 r;		/* count 0: none yet */
	bool			 dirty;		/* changed since written */
};

struct plog_done {
	int			 stack;
	struct store_probe_run	 r;
};

struct plog {
	struct plog_run		*cur;		/* by stack index */
	size_t			 ncur;
	size_t			 ndirty;	/* of cur */
	struct plog_done	*done;		/* ended, not written yet */
	size_t			 ndone, capdone;
};

#define PLOG_FLUSH_MS		5000
#define PLOG_KEEP_MS		(7LL * 24 * 3600 * 1000)	/* a week */
#define PLOG_MAX_RUNS		100000
#define PLOG_DONE_MAX		(1 << 16)	/* then flush early */

/*
 * Retention: the history and the probe log are each kept within a quarter
 * of the LMDB map (and the history 90 days, the probe log a week), so the
 * other half is always there for what must never fail to commit: the
 * group states and the switch journal, and the free pages LMDB needs to
 * write anything while readers hold old snapshots.  Applied with every
 * probe-log flush, in its transaction; after a commit failed for a full
 * map, once more at half the shares.
 */
#define HIST_KEEP_MS		(90LL * 24 * 3600 * 1000)
#define LOG_SHARE		0.25

static void
retention_policy(const struct daemon *d, bool urgent,
    struct store_retention *pol)
{
	memset(pol, 0, sizeof(*pol));
	pol->history_keep_ms = HIST_KEEP_MS;
	pol->history_share = urgent ? LOG_SHARE / 2 : LOG_SHARE;
	pol->probelog_keep_ms = PLOG_KEEP_MS;
	pol->probelog_share = urgent ? LOG_SHARE / 2 : LOG_SHARE;
	pol->probelog_max_runs = PLOG_MAX_RUNS;
	pol->nstack = d->cfg->nstack;
}

static void
retention_log(const struct store_retained *r, bool urgent)
{
	if (r->history_removed == 0 && r->probelog_removed == 0)
		return;
	log_info("store_pruned", "history_removed=%zu probelog_removed=%zu"
	    " history_bytes=%zu probelog_bytes=%zu map_bytes=%zu urgent=%d",
	    r->history_removed, r->probelog_removed, r->usage.history_bytes,
	    r->usage.probelog_bytes, r->usage.map_bytes, urgent);
}

/* A commit failed for a full map: make room now, in a transaction alone. */
void
daemon_retention_urgent(struct daemon *d)
{
	struct store_retention pol;
	struct store_retained r;
	struct store_txn txn;

	if (d->store == NULL)
		return;
	retention_policy(d, true, &pol);
	if (store_txn_begin(d->store, true, &txn) == 0)
		store_retain(&txn, &pol, clock_wall_ms(), &r);
	if (store_txn_commit(&txn) != 0)
		log_error("store_prune_failed", "error=%s detail=%s",
		    store_errname(txn.err), log_q(txn.detail));
	else
		retention_log(&r, true);
}

static void
plog_flush(struct daemon *d)
{
	struct plog *pl = d->plog;
	struct store_txn txn;
	struct store_retention pol;
	struct store_retained ret;

	if (pl == NULL || d->store == NULL ||
	    (pl->ndone == 0 && pl->ndirty == 0))
		return;
	if (store_txn_begin(d->store, true, &txn) != 0) {
		log_warn("probelog_failed", "error=%s", store_errname(txn.err));
		goto forget;
	}
	for (size_t i = 0; i < pl->ndone; i++)
		if ((size_t)pl->done[i].stack < d->cfg->nstack)
			store_probelog_put(&txn,
			    d->cfg->stacks[pl->done[i].stack].name,
			    &pl->done[i].r);
	for (size_t s = 0; s < pl->ncur && s < d->cfg->nstack; s++)
		if (pl->cur[s].dirty)
			store_probelog_put(&txn, d->cfg->stacks[s].name,
			    &pl->cur[s].r);
	retention_policy(d, false, &pol);
	store_retain(&txn, &pol, clock_wall_ms(), &ret);
	if (store_txn_commit(&txn) != 0) {
		log_warn("probelog_failed", "error=%s detail=%s",
		    store_errname(txn.err), log_q(txn.detail));
		if (txn.err == STORE_E_MAP_FULL)
			daemon_retention_urgent(d);
	} else
		retention_log(&ret, false);
forget:
	pl->ndone = 0;
	pl->ndirty = 0;
	for (size_t s = 0; s < pl->ncur; s++)
		pl->cur[s].dirty = false;
}

static void
plog_cb(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;
	struct timeval tv = { PLOG_FLUSH_MS / 1000, 0 };

	plog_flush(d);
	evtimer_add(d->ev_probelog, &tv);
}

void
probelog_note(struct daemon *d, int stack, const struct probe_result *r)
{
	struct plog *pl = d->plog;
	struct plog_run *c;
	struct store_probe_run old;
	bool was_dirty;

	if (pl == NULL || stack < 0)
		return;
	if ((size_t)stack >= pl->ncur) {
		size_t n = d->cfg->nstack > (size_t)stack ? d->cfg->nstack :
		    (size_t)stack + 1;
		struct plog_run *v = reallocarray(pl->cur, n, sizeof(*v));

		if (v == NULL)
			return;
		memset(v + pl->ncur, 0, (n - pl->ncur) * sizeof(*v));
		pl->cur = v;
		pl->ncur = n;
	}
	/* Room for the run this outcome may end (flushing writes it now). */
	if (pl->ndone == pl->capdone) {
		size_t n = pl->capdone ? pl->capdone * 2 : 256;
		struct plog_done *v;

		if (n > PLOG_DONE_MAX ||
		    (v = reallocarray(pl->done, n, sizeof(*v))) == NULL)
			plog_flush(d);
		else {
			pl->done = v;
			pl->capdone = n;
		}
	}
	c = &pl->cur[stack];
	old = c->r;
	was_dirty = c->dirty;
	if (!store_probe_run_next(&c->r, r->wall_ms, r->ok ? 1 : 0,
	    (uint8_t)r->reason, (uint16_t)(r->http_status > 0 ?
	    r->http_status : 0)) && old.count > 0 && was_dirty &&
	    pl->ndone < pl->capdone) {
		/* The run ended with outcomes not written yet: keep it. */
		pl->done[pl->ndone].stack = stack;
		pl->done[pl->ndone].r = old;
		pl->ndone++;
	}
	if (!was_dirty)
		pl->ndirty++;
	c->dirty = true;
}

int
probelog_start(struct daemon *d)
{
	struct timeval tv = { PLOG_FLUSH_MS / 1000, 0 };

	d->plog = calloc(1, sizeof(*d->plog));
	d->ev_probelog = evtimer_new(d->base, plog_cb, d);
	if (d->plog == NULL || d->ev_probelog == NULL)
		return -1;
	evtimer_add(d->ev_probelog, &tv);
	return 0;
}

void
probelog_stop(struct daemon *d)
{
	if (d->plog != NULL) {
		plog_flush(d);
		free(d->plog->cur);
		free(d->plog->done);
		free(d->plog);
		d->plog = NULL;
	}
	if (d->ev_probelog != NULL) {
		event_free(d->ev_probelog);
		d->ev_probelog = NULL;
	}
}

/*
 * Before a reload renumbers the stacks: write everything, then forget the
 * runs in memory (a stack's next outcome starts a new run; replay reads
 * two runs as it would one).
 */
void
probelog_sync(struct daemon *d)
{
	plog_flush(d);
	if (d->plog != NULL && d->plog->cur != NULL)
		memset(d->plog->cur, 0, d->plog->ncur * sizeof(*d->plog->cur));
}
