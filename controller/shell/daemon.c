/*
 * daemon.c - failoverd's imperative shell: set-up, probes to health to the
 * engine, witnesses, the periodic timers and shutdown.  The override
 * flags are in daemon_flags.c, reload in daemon_reload.c, the hooks a
 * killed daemon left in daemon_orphans.c.
 *
 * Start-up order: configuration, store, the three I/O engines (probes,
 * DNS, hooks), the runtime objects, the state of every group (decoded from
 * the store, or new), RESUME to every group (which finishes interrupted
 * switches and publishes or verifies each record), then the probes, the
 * timers and the HTTP listener, and finally READY=1 to systemd.  Teardown
 * is the reverse.
 *
 * Health changes are delivered to the groups that use the stack.  With
 * isolation_check the engine looks at every stack of the configuration, so
 * a change to or from down also re-evaluates the groups whose active stack
 * is down: they are the only ones an isolation verdict can hold back.
 */
#include "controller/shell/daemon.h"

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
#include <jansson.h>

#include "controller/face/api.h"
#include "controller/shell/daemon_int.h"
#include "controller/shell/daemon_precheck.h"
#include "controller/shell/daemon_quorum.h"
#include "controller/shell/hook.h"
#include "controller/shell/lockfile.h"
#include "controller/base/log.h"
#include "controller/shell/sdnotify.h"
#include "dnsupdate/dnsup.h"
#include "probes/curlmem.h"
#include "probes/probe.h"

#define FLAGS_POLL_MAX_MS	1000
#define FLAGS_POLL_MIN_MS	100
#define PROBELOG_FLUSH_MS	10000

static void	 probe_done_cb(struct probe *, const struct probe_result *,
		    void *);
static void	 signal_cb(evutil_socket_t, short, void *);
static void	 flags_cb(evutil_socket_t, short, void *);
static void	 verify_cb(evutil_socket_t, short, void *);
static void	 watchdog_cb(evutil_socket_t, short, void *);
static void	 trim_cb(evutil_socket_t, short, void *);
static void	 hooks_idle_cb(struct hook_runner *, void *);

/* Where the DNS glue's answers go (daemon_int.h). */
static const struct ddns_host dns_host = {
	.feed = dgroup_feed,
	.defer = daemon_defer_event,
	.record_read = daemon_record_read,
	.maybe_exit = daemon_maybe_exit,
	.fenced = dcluster_fenced,
};

void
daemon_evaluate_all(struct daemon *d)
{
	struct eng_event ev = { .kind = ENG_EV_EVALUATE };

	for (size_t i = 0; i < d->cfg->ngroup; i++)
		dgroup_feed(&d->groups[i], &ev);
}

static void
deliver_health(struct daemon *d, int stack, enum health_change change)
{
	struct eng_event ev = { .kind = ENG_EV_HEALTH };
	struct dstack *ds = &d->stacks[stack];
	bool was_all_down = d->ndown == d->cfg->nstack;

	/* Keep the count of down stacks in step with the health. */
	if (change == HEALTH_CHANGED) {
		if (d->health[stack].prev == HEALTH_DOWN && d->ndown > 0)
			d->ndown--;
		if (d->health[stack].state == HEALTH_DOWN)
			d->ndown++;
	}

	/*
	 * A result that changed nothing an observer acts on is not fed to
	 * the engine (engine.h allows it; the simulator does the same): a
	 * steady fleet costs the groups nothing per check.
	 */
	if (change == HEALTH_SAME)
		return;
	ev.u.health.stack = stack;
	ev.u.health.change = change;
	for (int i = 0; i < ds->ngroups; i++)
		dgroup_feed(&d->groups[ds->groups[i]], &ev);
	/*
	 * The isolation gate looks at every stack of the configuration: only
	 * when "every stack is down" turns true or false can it change for a
	 * group that does not use this stack.
	 */
	if (d->cfg->controller.isolation_check && change == HEALTH_CHANGED &&
	    was_all_down != (d->ndown == d->cfg->nstack))
		daemon_evaluate_all(d);
}

static void
latency_observe(struct dstack *ds, int64_t us)
{
	/* Buckets: 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000 ms. */
	static const int64_t le_us[] = { 1000, 2500, 5000, 10000, 25000, 50000,
	    100000, 250000, 500000, 1000000, 2500000, 5000000 };
	size_t i;

	for (i = 0; i < sizeof(le_us) / sizeof(le_us[0]); i++)
		if (us <= le_us[i])
			break;
	ds->hist_buckets[i]++;
	ds->hist_sum += (double)us / 1e6;
	ds->hist_count++;
}

static void
health_save(struct daemon *d, int stack)
{
	struct dstack *ds = &d->stacks[stack];

	if (d->store == NULL)
		return;
	if (!ds->health_dirty) {
		ds->health_dirty = true;
		ds->hdirty_next = d->hdirty_head;
		d->hdirty_head = stack;
	}
	daemon_flush_schedule(d);
}

/* How late checks start against their plan (same buckets as latency). */
static void
lateness_observe(struct daemon *d, int64_t us)
{
	static const int64_t le_us[] = { 1000, 2500, 5000, 10000, 25000, 50000,
	    100000, 250000, 500000, 1000000, 2500000, 5000000 };
	size_t i;

	if (us < 0)
		us = 0;		/* started early, within the wake-up slack */
	for (i = 0; i < sizeof(le_us) / sizeof(le_us[0]); i++)
		if (us <= le_us[i])
			break;
	d->late_buckets[i]++;
	d->late_sum += (double)us / 1e6;
	d->late_count++;
}

/*
 * A fault of the controller's own host (no descriptor, no memory, no
 * local address: PROBE_R_LOCAL) says nothing of the stack: it is not fed
 * to the health nor written to the probe log, and the check is retried
 * at fastinter once (later ones keep the schedule).  So is a timeout the
 * controller saw too late to be the stack's (probe_result.late: its loop
 * was stopped or overloaded), but that one keeps the schedule.  Logged through a
 * limiter, counted in probes_total{result="local"}.
 */
static bool
local_fault(struct daemon *d, const char *what, const char *name,
    const struct probe_result *r)
{
	static struct log_rl rl = LOG_RL_INIT("local_fault");
	const char *en;

	if (r->reason != PROBE_R_LOCAL)
		return false;
	d->local_faults++;
	if (log_rl_allow(&rl)) {
		en = r->os_errno != 0 ? strerrorname_np(r->os_errno) : NULL;
		log_warn("local_fault", "%s=%s error=%s detail=%s", what,
		    log_q(name), en != NULL ? en : "none", log_q(r->detail));
	}
	return true;
}

static void
stack_result(struct dstack *ds, const struct probe_result *r)
{
	struct daemon *d = ds->d;
	const struct cfg_stack *cs = &d->cfg->stacks[ds->idx];
	struct health *h = &d->health[ds->idx];
	enum health_state from = h->state;
	enum health_change change;

	lateness_observe(d, r->late_us);
	if (local_fault(d, "stack", cs->name, r)) {
		ds->nreason[PROBE_R_LOCAL]++;
		/*
		 * Not retried sooner when the controller was too busy to
		 * see the answer: another check would only add to the load
		 * that made it late.
		 */
		if (ds->probe != NULL && !r->late)
			probe_set_mode(ds->probe, ds->local_run++ == 0 ?
			    PROBE_MODE_FAST : daemon_stack_mode(h));
		return;
	}
	ds->local_run = 0;
	ds->nprobe[r->ok ? 1 : 0]++;
	if ((unsigned)r->reason < 16)
		ds->nreason[r->reason]++;
	ds->nreconnect += r->reconnected;
	ds->last_probe_ms = r->wall_ms;
	if (r->ok)
		ds->last_ok_ms = r->wall_ms;
	ds->last_status = r->http_status;
	ds->last_latency_us = r->latency_us;
	latency_observe(ds, r->latency_us);
	log_debug("probe", "stack=%s ok=%d reason=%s http_status=%d"
	    " latency_ms=%.3f reconnected=%d retried=%d immediate=%d"
	    " detail=%s", log_q(cs->name), r->ok,
	    probe_reason_name(r->reason), r->http_status,
	    (double)r->latency_us / 1000.0, r->reconnected,
	    r->retried, r->immediate, log_q(r->detail));
	if (d->store != NULL)
		probelog_note(d, ds->idx, r);

	change = health_step(h, r->ok, r->reason, clock_wall_ms());
	if (ds->probe != NULL)
		probe_set_mode(ds->probe, daemon_stack_mode(h));
	switch (change) {
	case HEALTH_SAME:
		return;
	case HEALTH_CHANGED:
		/* A stack going down is a warning; status= is reserved
		 * for FAILOVER_STATUS, the HTTP answer is http_status=. */
		if (h->state == HEALTH_DOWN)
			log_warn("health_change", "stack=%s from=%s to=%s"
			    " reason=%s http_status=%d detail=%s",
			    log_q(cs->name), health_state_name(from),
			    health_state_name(h->state),
			    probe_reason_name(r->reason), r->http_status,
			    log_q(r->detail));
		else
			log_info("health_change", "stack=%s from=%s to=%s"
			    " reason=%s http_status=%d detail=%s",
			    log_q(cs->name), health_state_name(from),
			    health_state_name(h->state),
			    r->ok ? "ok" : probe_reason_name(r->reason),
			    r->http_status, log_q(r->detail));
		break;
	case HEALTH_SUSPECT:
		log_info("health_suspect", "stack=%s reason=%s http_status=%d"
		    " immediate=%s detail=%s", log_q(cs->name),
		    probe_reason_name(r->reason), r->http_status,
		    r->immediate ? "yes" : "no", log_q(r->detail));
		break;
	case HEALTH_CLEARED:
		log_info("health_cleared", "stack=%s", log_q(cs->name));
		break;
	}
	if (change == HEALTH_CHANGED) {
		health_save(d, ds->idx);
		/* In a cluster: our vote counted before the engine hears. */
		dquorum_local(d, ds->idx);
	}
	deliver_health(d, ds->idx, change);
}

static void
witness_result(struct witness *w, const struct probe_result *r)
{
	struct daemon *d = w->d;
	enum eng_witness agg = ENG_WITNESS_DOWN;
	bool unknown = false;

	if (local_fault(d, "witness", d->cfg->controller.witness[w -
	    d->witnesses], r))
		return;
	w->state = r->ok ? 1 : 0;
	for (size_t i = 0; i < d->cfg->controller.nwitness; i++) {
		if (d->witnesses[i].state == 1) {
			agg = ENG_WITNESS_OK;
			break;
		}
		if (d->witnesses[i].state < 0)
			unknown = true;
	}
	if (agg != ENG_WITNESS_OK && unknown)
		agg = ENG_WITNESS_UNKNOWN;
	if (agg == d->witness)
		return;
	log_info("witness_change", "from=%s to=%s",
	    d->witness == ENG_WITNESS_OK ? "ok" :
	    d->witness == ENG_WITNESS_DOWN ? "down" : "unknown",
	    agg == ENG_WITNESS_OK ? "ok" :
	    agg == ENG_WITNESS_DOWN ? "down" : "unknown");
	d->witness = agg;
	daemon_evaluate_all(d);
}

static void
probe_done_cb(struct probe *p, const struct probe_result *r, void *udata)
{
	enum prober_kind *kind = udata;

	if (*kind == PROBER_STACK)
		stack_result(udata, r);
	else
		witness_result(udata, r);
}

/*
 * --paused: pause every group through the override flags, so that the
 * pause shows in `failoverctl status` and survives until `resume`.
 */
static int
pause_all(struct daemon *d)
{
	struct store_txn txn;

	if (d->store == NULL) {
		for (size_t i = 0; i < d->cfg->ngroup; i++)
			d->groups[i].st.paused = true;
		return 0;
	}
	if (store_txn_begin(d->store, true, &txn) != 0)
		goto fail;
	for (size_t i = 0; i < d->cfg->ngroup; i++) {
		struct store_flags f;

		store_flags_get(&txn, d->cfg->groups[i].name, &f);
		f.paused = true;
		f.updated_ms = clock_wall_ms();
		ops_actor_self(f.actor, sizeof(f.actor));
		store_flags_put(&txn, d->cfg->groups[i].name, &f);
	}
	if (store_txn_commit(&txn) == 0)
		return 0;
fail:
	log_error("store_failed", "op=pause_all error=%s detail=%s",
	    store_errname(txn.err), log_q(txn.detail));
	return -1;
}

static int64_t
flags_period_ms(const struct config *cfg)
{
	int64_t p = FLAGS_POLL_MAX_MS;

	for (size_t s = 0; s < cfg->nstack; s++)
		if (cfg->stacks[s].interval_ms < p)
			p = cfg->stacks[s].interval_ms;
	return p < FLAGS_POLL_MIN_MS ? FLAGS_POLL_MIN_MS : p;
}

static void
arm_ms(struct event *ev, int64_t ms)
{
	struct timeval tv = { (time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000 };

	evtimer_add(ev, &tv);
}

/*
 * STATUS= for systemctl status: how many groups serve, switch, wait for
 * rearm, failed, and how many a gate holds; sent when it changes.
 */
static void
status_notify(struct daemon *d)
{
	unsigned n[ENG_WAIT_REARM + 1] = { 0 }, held = 0;
	char buf[sizeof(d->sd_status)];

	for (size_t i = 0; i < d->cfg->ngroup; i++) {
		const struct eng_group *st = &d->groups[i].st;

		if ((unsigned)st->status <= ENG_WAIT_REARM)
			n[st->status]++;
		if (st->held != ENG_GATE_NONE)
			held++;
	}
	snprintf(buf, sizeof(buf), "%zu group%s: %u serving, %u switching,"
	    " %u waiting for rearm, %u failed, %u held%s", d->cfg->ngroup,
	    d->cfg->ngroup == 1 ? "" : "s", n[ENG_SERVING], n[ENG_SWITCHING],
	    n[ENG_WAIT_REARM], n[ENG_FAILED], held,
	    d->dry_run ? " (dry run)" : "");
	if (strcmp(buf, d->sd_status) == 0)
		return;
	snprintf(d->sd_status, sizeof(d->sd_status), "%s", buf);
	sdnotify_status("%s", buf);
}

static void
flags_cb(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;
	uint64_t gen;
	char err[256];

	if (d->stopping)
		return;
	if (store_generation(d->store, &gen, err, sizeof(err)) != 0)
		log_error("store_failed", "op=generation detail=%s", log_q(err));
	else if (gen != d->flags_gen || d->flags_deferred) {
		if (gen != d->flags_gen)
			daemon_groups_sync(d);
		d->flags_gen = gen;
		d->flags_deferred = false;
		daemon_flags_apply(d);
		dprecheck_poll(d);	/* an operator's precheck, now */
	}
	status_notify(d);
	arm_ms(d->ev_flags, flags_period_ms(d->cfg));
}

static void
verify_cb(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;

	if (d->stopping)
		return;
	world_reread(d);
	ddns_verify_all(d);
	arm_ms(d->ev_verify, d->cfg->dns.verify_interval_ms);
}

static void
watchdog_cb(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;
	uint64_t usec = sdnotify_watchdog_usec();

	sdnotify_watchdog();
	if (usec > 0)
		arm_ms(d->ev_watchdog, (int64_t)(usec / 2000));
}

/*
 * Heap housekeeping.  Bursts (the first publication of thousands of
 * records, the first round of connects, a mass failover) leave megabytes
 * free inside glibc's heap, among blocks still in use, and free() gives
 * back only the top of the heap: measured at 10,000 stacks, a start left
 * 60 MB of RSS that nothing used.  Every TRIM_PERIOD_MS, when more than
 * TRIM_FREE_MIN bytes lie free in the heap, malloc_trim(0) returns their
 * pages (a walk of glibc's free lists: well under a millisecond).
 */
#define TRIM_PERIOD_MS	10000
#define TRIM_FREE_MIN	((size_t)8 << 20)

static void
trim_cb(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;
	struct mallinfo2 mi = mallinfo2();

	if (mi.fordblks > TRIM_FREE_MIN)
		malloc_trim(0);
	arm_ms(d->ev_trim, TRIM_PERIOD_MS);
}

/* ---- shutdown ---- */

/*
 * A stopping cluster leader resigns once its hooks have ended and their
 * ends are written (to etcd, then LMDB): the next leader then resumes
 * after the phase that finished, not before it.
 */
static void
maybe_exit(struct daemon *d)
{
	if (d->cl_resign_due && hook_runner_count(d->hooks) == 0 &&
	    !daemon_flush_busy()) {
		d->cl_resign_due = false;
		dcluster_resign(d);
	}
	daemon_maybe_exit(d);
}

static void
hooks_idle_cb(struct hook_runner *r, void *arg)
{
	maybe_exit(arg);
}

/*
 * While stopping, look every 50 ms whether anything is still in flight:
 * simpler and surer than having every completion path (hooks, updates,
 * read-backs, confirmations) remember to ask.
 */
static void
exitcheck_cb(evutil_socket_t fd, short what, void *arg)
{
	maybe_exit(arg);
}

static void
stop(struct daemon *d, const char *why)
{
	if (d->stopping) {
		log_warn("stopping", "signal=%s detail=%s", why,
		    log_q("already stopping; waiting for running hooks"));
		return;
	}
	d->stopping = true;
	sdnotify_stopping();
	/* A leader hands over instead of letting its lease run out. */
	if (d->cluster != NULL)
		d->cl_resign_due = true;
	log_info("stopping", "signal=%s hooks_running=%zu", why,
	    hook_runner_count(d->hooks));
	/* No new probe results: nothing new to decide while we wind down. */
	for (size_t s = 0; s < d->cfg->nstack; s++) {
		probe_remove(d->stacks[s].probe);
		d->stacks[s].probe = NULL;
	}
	witnesses_free(d, d->cfg->controller.nwitness);
	if (d->api != NULL) {
		api_free(d->api);
		d->api = NULL;
	}
	d->ev_exitcheck = event_new(d->base, -1, EV_PERSIST, exitcheck_cb, d);
	if (d->ev_exitcheck != NULL) {
		struct timeval tv = { 0, 50000 };

		evtimer_add(d->ev_exitcheck, &tv);
	}
	maybe_exit(d);
}

void
daemon_stop_failed(struct daemon *d, const char *why)
{
	d->stop_failed = true;
	stop(d, why);
}

static void
signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct daemon *d = arg;

	switch (sig) {
	case SIGHUP:
		if (d->stopping)
			return;
		log_info("daemon_reload", "file=%s", log_q(d->config_path));
		daemon_reload(d);
		break;
	case SIGTERM:
		stop(d, "TERM");
		break;
	case SIGINT:
		stop(d, "INT");
		break;
	}
}

/* ---- main ---- */

/*
 * Test switch: FAILOVERD_TEST_START_FAIL=STEP fails the start at STEP as
 * its own failure would (a one-line error, exit 1), so that a test can
 * walk every path out of a partial start (test_start_fail.sh).  Unset,
 * nothing fails.
 */
static bool
start_fault(const char *step)
{
	const char *v = getenv("FAILOVERD_TEST_START_FAIL");

	if (v == NULL || strcmp(v, step) != 0)
		return false;
	log_error("start_failed", "what=%s error=%s", step,
	    log_q("FAILOVERD_TEST_START_FAIL"));
	return true;
}

/*
 * One controller per state (lockfile.h): taken before anything reads or
 * writes the state_dir, kills an orphan hook, runs a hook, sends DNS or
 * listens, and held until the process ends.  A dry run takes none: it
 * neither reads nor writes the state (scratch state, no hook, no UPDATE),
 * so it may run beside the daemon it previews.
 */
static int
state_lock(struct daemon *d, struct lockfile **lf)
{
	const char *dir = d->cfg->controller.state_dir;
	char err[512];
	pid_t holder;

	switch (lockfile_take(dir, lf, &holder, err, sizeof(err))) {
	case LOCKFILE_OK:
		/* Named to every hook (FAILOVER_STATE_DIR), so that the next
		 * holder finds the hooks this one leaves (daemon_orphans_kill). */
		if ((d->state_real = realpath(dir, NULL)) == NULL &&
		    (d->state_real = strdup(dir)) == NULL)
			fatal("out_of_memory", "where=state_lock");
		return 0;
	case LOCKFILE_HELD:
		if (holder > 0)
			log_error("state_locked", "dir=%s pid=%ld detail=%s",
			    log_q(dir), (long)holder, log_q("another failoverd"
			    " runs on this state_dir; this one exits without"
			    " touching it"));
		else
			log_error("state_locked", "dir=%s pid=unknown detail=%s",
			    log_q(dir), log_q("another process holds the lock"
			    " on this state_dir; this one exits without"
			    " touching it"));
		return -1;
	case LOCKFILE_ERROR:
		break;
	}
	/* The state cannot be had: said as the store says it (open_store). */
	log_error("store_open_failed", "dir=%s error=lock detail=%s",
	    log_q(dir), log_q(err));
	return -1;
}

static int
open_store(struct daemon *d)
{
	char err[512];
	int rc;

	if (d->dry_run) {
		log_info("dry_run", "detail=%s", log_q("scratch state: no hook"
		    " runs, no UPDATE is sent, the state in LMDB is not"
		    " touched"));
		return 0;
	}
	rc = store_open(d->cfg->controller.state_dir,
	    d->cfg->controller.map_size, 0, &d->store, err, sizeof(err));
	if (rc != 0) {
		log_error("store_open_failed", "dir=%s error=%s detail=%s",
		    log_q(d->cfg->controller.state_dir), store_errname(rc),
		    log_q(err));
		return -1;
	}
	return 0;
}

int
daemon_main(const struct daemon_opts *opts)
{
	struct daemon dd, *d = &dd;
	struct config_errors errs = { 0 };
	struct hook_runner_opts hro = { 0 };
	struct lockfile *lock = NULL;
	char err[512];
	int status = 1;
	size_t nwitness = 0;

	memset(d, 0, sizeof(*d));
	d->config_path = opts->config_path;
	d->dry_run = opts->dry_run;
	d->start_paused = opts->paused;
	d->started_ms = clock_wall_ms();

	if (config_load(d->config_path, &d->cfg, &errs) != 0) {
		for (size_t i = 0; i < errs.n; i++)
			fprintf(stderr, "%s\n", errs.msg[i]);
		config_errors_free(&errs);
		return 1;
	}
	if (getenv("FAILOVERD_LOG_LEVEL") != NULL &&
	    log_level_parse(getenv("FAILOVERD_LOG_LEVEL")) >= 0)
		log_init(NULL, (enum log_level)log_level_parse(
		    getenv("FAILOVERD_LOG_LEVEL")));
	else
		log_init(NULL, (enum log_level)d->cfg->controller.log_level);
	if (!d->dry_run && state_lock(d, &lock) != 0)
		goto out;
	signal(SIGPIPE, SIG_IGN);
	/* The controller's own trouble is never the stacks' (guard.h). */
	guard_libevent_log();
	d->nofile = guard_nofile_raise();
	/* libcurl on size-class caches: a sixth of the probe CPU (curlmem.h) */
	if (curlmem_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		log_error("start_failed", "detail=curl_global_init");
		goto out;
	}
	if ((d->base = guard_base_new()) == NULL ||
	    daemon_flush_init(d) != 0) {
		log_error("start_failed", "detail=event_base_new");
		goto out;
	}
	if (open_store(d) != 0 || start_fault("store"))
		goto out;
	/*
	 * The groups made at run time join the file's before anything is
	 * built.  Groups that no longer fit the file (a stack they name was
	 * removed) are left out, loudly, and kept in the store as they are:
	 * neither the file's groups nor the other run-time groups are held
	 * hostage by them.
	 */
	if (d->store != NULL) {
		struct config *ncfg;

		if ((d->rt_text = daemon_groups_text(d)) == NULL)
			goto out;
		if ((ncfg = daemon_groups_derive(d, d->cfg, d->rt_text,
		    "groups_refused", true)) != NULL) {
			config_free(d->cfg);
			d->cfg = ncfg;
		}
	}
	if ((d->hooks = hook_runner_new(d->base, &hro)) == NULL ||
	    (d->probes = probe_engine_new(d->base, probe_done_cb)) == NULL) {
		log_error("start_failed", "detail=%s",
		    log_q("could not create the hook runner or probe engine"));
		goto out;
	}
	hook_runner_set_idle_cb(d->hooks, hooks_idle_cb, d);
	if (ddns_engine_open(d, &dns_host, err, sizeof(err)) != 0) {
		log_error("start_failed", "what=dns error=%s", log_q(err));
		goto out;
	}
	if (start_fault("dns"))
		goto out;
	if (world_build(d, NULL) != 0 || start_fault("state"))
		goto out;
	if (!d->dry_run)
		daemon_orphans_kill(d);
	if (d->start_paused && pause_all(d) != 0)
		goto out;
	if (d->store != NULL) {
		struct store_txn htxn;

		if (store_generation(d->store, &d->flags_gen, err,
		    sizeof(err)) != 0) {
			log_error("store_failed", "op=generation detail=%s",
			    log_q(err));
			goto out;
		}
		/* The history before the start is not replayed. */
		if (store_txn_begin(d->store, false, &htxn) == 0)
			daemon_history_seen(d, &htxn);
		store_txn_abort(&htxn);
	}

	d->ev_hup = evsignal_new(d->base, SIGHUP, signal_cb, d);
	d->ev_term = evsignal_new(d->base, SIGTERM, signal_cb, d);
	d->ev_int = evsignal_new(d->base, SIGINT, signal_cb, d);
	d->ev_flags = evtimer_new(d->base, flags_cb, d);
	d->ev_verify = evtimer_new(d->base, verify_cb, d);
	d->ev_watchdog = evtimer_new(d->base, watchdog_cb, d);
	d->ev_trim = evtimer_new(d->base, trim_cb, d);
	d->ev_resume = event_new(d->base, -1, 0, daemon_resume_cb, d);
	if (d->ev_hup == NULL || d->ev_term == NULL || d->ev_int == NULL ||
	    d->ev_flags == NULL || d->ev_verify == NULL ||
	    d->ev_watchdog == NULL || d->ev_trim == NULL ||
	    d->ev_resume == NULL) {
		log_error("start_failed", "detail=libevent");
		goto out;
	}
	evsignal_add(d->ev_hup, NULL);
	evsignal_add(d->ev_term, NULL);
	evsignal_add(d->ev_int, NULL);
	/*
	 * Listen before any group resumes: a listener that cannot be had
	 * (port taken, address not on the host) ends the start before a
	 * record is published or a hook runs.
	 */
	if (d->cfg->controller.listen_enabled) {
		struct api_host host;

		daemon_api_host(d, &host);
		d->api = api_new(&host, err, sizeof(err));
		if (d->api == NULL) {
			log_error("start_failed", "what=api error=%s",
			    log_q(err));
			goto out;
		}
	}
	if (start_fault("api"))
		goto out;
	/*
	 * With [cluster], every group waits until this member leads
	 * (daemon_cluster.c); world_resume below then does nothing.  A dry
	 * run previews alone: it acts on nothing anyway.
	 */
	if (!d->dry_run && dcluster_open(d, err, sizeof(err)) != 0) {
		log_error("start_failed", "what=cluster error=%s", log_q(err));
		goto out;
	}

	log_info("start", "version=%s config=%s stacks=%zu groups=%zu"
	    " dry_run=%d paused=%d", FAILOVERD_VERSION, log_q(d->config_path),
	    d->cfg->nstack, d->cfg->ngroup, d->dry_run, d->start_paused);

	/*
	 * The published record is the truth: each group waits for its
	 * record to be read and its state reconciled with it (world.h),
	 * then resumes (daemon_resume_cb: flags, RESUME, requests).  Probes start
	 * at once; until then their results reach no group's engine.
	 */
	daemon_update_roles(d);
	world_resume(d);
	if (stacks_start(d) != 0)
		goto out;
	if (start_fault("probes"))
		goto out;
	if (witnesses_start(d) != 0 || start_fault("witness"))
		goto out;
	nwitness = d->cfg->controller.nwitness;
	if (d->store != NULL) {
		arm_ms(d->ev_flags, flags_period_ms(d->cfg));
		if (probelog_start(d) != 0 || start_fault("probelog"))
			goto out;
	}
	arm_ms(d->ev_verify, d->cfg->dns.verify_interval_ms);
	if (sdnotify_watchdog_usec() > 0)
		arm_ms(d->ev_watchdog, 0);
	arm_ms(d->ev_trim, TRIM_PERIOD_MS);
	if (start_fault("ready"))
		goto out;
	sdnotify_ready();
	status_notify(d);
	log_info("ready", "stacks=%zu groups=%zu", d->cfg->nstack,
	    d->cfg->ngroup);

	event_base_dispatch(d->base);
	daemon_flush(d);
	log_rl_flush(true);
	log_info("stopped", "detail=%s", log_q("state journaled"));
	status = d->stop_failed ? 1 : 0;
out:
	/*
	 * Teardown, the reverse of the start, ordered so that nothing calls
	 * back into what is already freed: first what feeds the groups (the
	 * API, probes, witnesses), then the DNS engine, whose cancelled work
	 * still finds its groups and stacks (stopping: it starts nothing
	 * new), then the steps that work queued, then the hooks, then the
	 * groups and stacks themselves.  A start that failed commits none
	 * of the steps it queued: the state stays as it was found.
	 */
	d->stopping = true;
	api_free(d->api);
	d->api = NULL;
	dcluster_close(d);
	probelog_stop(d);
	if (d->cfg != NULL) {
		nwitness = d->cfg->controller.nwitness;
		witnesses_free(d, nwitness);
		for (size_t s = 0; d->stacks != NULL && s < d->cfg->nstack; s++) {
			probe_remove(d->stacks[s].probe);
			d->stacks[s].probe = NULL;
		}
	}
	probe_engine_free(d->probes);
	d->probes = NULL;
	{
		struct dnsup_engine *dns = d->dns;

		d->dns = NULL;
		dnsup_engine_free(dns);
	}
	if (d->cfg != NULL && d->stacks != NULL && d->groups != NULL) {
		if (status == 0)
			daemon_flush(d);
		else
			daemon_flush_discard(d);
	}
	daemon_flush_free();
	daemon_defers_free();
	if (d->hooks != NULL) {
		hook_runner_cancel_all(d->hooks);
		hook_runner_free(d->hooks);
		d->hooks = NULL;
	}
	if (d->cfg != NULL) {
		stacks_free(d->stacks, d->cfg->nstack);
		groups_free(d->groups, d->cfg->ngroup);
		d->groups = NULL;	/* a cancelled read-back finds none */
	}
	free(d->health);
	store_close(d->store);
	if (d->ev_hup) event_free(d->ev_hup);
	if (d->ev_term) event_free(d->ev_term);
	if (d->ev_int) event_free(d->ev_int);
	if (d->ev_flags) event_free(d->ev_flags);
	if (d->ev_verify) event_free(d->ev_verify);
	if (d->ev_watchdog) event_free(d->ev_watchdog);
	if (d->ev_trim) event_free(d->ev_trim);
	if (d->ev_resume) event_free(d->ev_resume);
	if (d->ev_reload) event_free(d->ev_reload);
	if (d->ev_exitcheck) event_free(d->ev_exitcheck);
	if (d->base != NULL)
		event_base_free(d->base);
	config_free(d->cfg);
	free(d->rt_text);
	curlmem_global_cleanup();
	/* Last: the hooks are stopped and the store closed. */
	lockfile_release(lock);
	free(d->state_real);
	return status;
}
