/*
 * daemon.c - failoverd's imperative shell: set-up, probes to health to the
 * engine, override flags, witnesses, reload and shutdown.
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

#include "config/config.h"
#include "controller/face/api.h"
#include "controller/shell/daemon_int.h"
#include "controller/shell/daemon_precheck.h"
#include "controller/core/engine_codec.h"
#include "controller/base/guard.h"
#include "controller/shell/hook.h"
#include "controller/shell/lockfile.h"
#include "controller/base/log.h"
#include "controller/face/ops.h"
#include "controller/face/ops_group.h"
#include "controller/shell/sdnotify.h"
#include "controller/store/store.h"
#include "controller/core/world.h"
#include "dnsupdate/dnsup.h"
#include "dnsupdate/dnsup_msg.h"
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
static void	 resume_cb(evutil_socket_t, short, void *);

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
 * at fastinter once (later ones keep the schedule).  Logged through a
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
		if (ds->probe != NULL)
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
	if (change == HEALTH_CHANGED)
		health_save(d, ds->idx);
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

/* ---- hooks left behind by a killed daemon ---- */

/*
 * Does process pid carry one of WANT (NAME=VALUE strings) in its
 * environment?  Hooks get exactly the contract variables, so a switch's
 * id, or the state_dir they were run for, finds them (and their children,
 * which inherit the environment) without any pid bookkeeping.
 */
static bool
proc_env_has(pid_t pid, char *const want[], size_t nwant)
{
	static char buf[32768];
	char path[64];
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/environ", (long)pid);
	if ((f = fopen(path, "re")) == NULL)
		return false;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	for (size_t i = 0; i < n; i += strlen(buf + i) + 1)
		for (size_t w = 0; w < nwant; w++)
			if (strcmp(buf + i, want[w]) == 0)
				return true;
	return false;
}

/* Signal every process carrying one of WANT; returns how many were found. */
static int
orphans_signal(char *const want[], size_t nwant, int sig)
{
	DIR *dir = opendir("/proc");
	struct dirent *de;
	int found = 0;

	if (dir == NULL)
		return 0;
	while ((de = readdir(dir)) != NULL) {
		char *end;
		long pid = strtol(de->d_name, &end, 10);

		if (*end != '\0' || pid <= 1 || pid == (long)getpid())
			continue;
		if (!proc_env_has((pid_t)pid, want, nwant))
			continue;
		found++;
		kill((pid_t)pid, sig);
	}
	closedir(dir);
	return found;
}

/*
 * A daemon killed with SIGKILL leaves its running hook behind (hooks have
 * their own process group).  Before anything runs again, end what is left
 * of it: SIGTERM, then SIGKILL after a grace, so that two hooks of this
 * state never run at the same time.  Called holding the state's lock, so
 * every hook run for this state_dir (FAILOVER_STATE_DIR) is an orphan -
 * also one whose switch the state no longer knows (the state_dir wiped
 * under it); an interrupted switch's id (FAILOVER_ID) finds one run before
 * hooks carried the state_dir.  This blocks the start for at most
 * ORPHAN_GRACE_MS, and only after a crash.
 */
#define ORPHAN_GRACE_MS	5000

static void
orphans_kill(struct daemon *d)
{
	size_t nwant = 0, cap = d->cfg->ngroup + 1;
	char **want = calloc(cap, sizeof(*want));
	int n, waited = 0;

	if (want == NULL)
		fatal("out_of_memory", "where=orphans_kill");
	if (d->state_real != NULL &&
	    asprintf(&want[nwant], "FAILOVER_STATE_DIR=%s", d->state_real) >= 0)
		nwant++;
	for (size_t i = 0; i < d->cfg->ngroup; i++) {
		const struct eng_group *st = &d->groups[i].st;

		if (st->status == ENG_SWITCHING && st->sw.id[0] != '\0' &&
		    asprintf(&want[nwant], "FAILOVER_ID=%s", st->sw.id) >= 0)
			nwant++;
	}
	if (nwant > 0 && (n = orphans_signal(want, nwant, SIGTERM)) > 0) {
		log_warn("orphan_hook", "processes=%d detail=%s", n,
		    log_q("left running by a killed daemon; stopping them"
		    " before any hook runs again"));
		while (orphans_signal(want, nwant, 0) > 0 &&
		    waited < ORPHAN_GRACE_MS) {
			struct timespec ts = { 0, 5 * 1000000 };

			nanosleep(&ts, NULL);
			waited += 5;
		}
		if ((n = orphans_signal(want, nwant, SIGKILL)) > 0)
			log_warn("orphan_hook_killed", "processes=%d", n);
	}
	for (size_t w = 0; w < nwant; w++)
		free(want[w]);
	free(want);
}

/* ---- override flags ---- */

static int
stack_by_name(const struct config *cfg, const char *name)
{
	return name[0] == '\0' ? ENG_NONE : config_stack_index(cfg, name);
}

static void
feed_cmd(struct dgroup *g, enum eng_cmd_kind kind, int stack, bool force,
    int64_t requested_ms, const char *actor)
{
	struct eng_event ev = { .kind = ENG_EV_CMD };

	ev.u.cmd.kind = kind;
	ev.u.cmd.stack = stack;
	ev.u.cmd.force = force;
	ev.u.cmd.requested_ms = requested_ms;
	snprintf(ev.u.cmd.actor, sizeof(ev.u.cmd.actor), "%s", actor);
	log_info("command", "group=%s cmd=%s stack=%s force=%d actor=%s",
	    log_q(g->d->cfg->groups[g->idx].name), eng_cmd_name(kind),
	    stack >= 0 ? log_q(g->d->cfg->stacks[stack].name) : "-", force,
	    actor[0] != '\0' ? log_q(actor) : "unknown");
	dgroup_feed(g, &ev);
}

/*
 * Take a group's requests out of the store: under the write lock, a
 * request still there (the switch: the same request id) is cleared and
 * reported taken.  A cancel (failoverctl switch --cancel) therefore either
 * came first, and the switch is not fed, or finds it gone.
 */
static int
requests_take(struct daemon *d, struct store_flags *fl, bool *take_rearm,
    bool *take_switch)
{
	struct store_txn txn;

	if (store_txn_begin(d->store, true, &txn) != 0)
		goto fail;
	for (size_t i = 0; i < d->cfg->ngroup; i++) {
		struct store_flags cur;
		bool changed = false;

		if (!take_rearm[i] && !take_switch[i])
			continue;
		store_flags_get(&txn, d->cfg->groups[i].name, &cur);
		if (take_rearm[i] && cur.rearm_requested) {
			cur.rearm_requested = false;
			fl[i].rearm_requested_ms = cur.rearm_requested_ms;
			memcpy(fl[i].rearm_actor, cur.rearm_actor,
			    sizeof(cur.rearm_actor));
			changed = true;
		} else
			take_rearm[i] = false;
		if (take_switch[i] && cur.switch_requested &&
		    cur.switch_request_id == fl[i].switch_request_id) {
			cur.switch_requested = false;
			changed = true;
		} else
			take_switch[i] = false;
		if (changed)
			store_flags_put(&txn, d->cfg->groups[i].name, &cur);
	}
	if (store_txn_commit(&txn) == 0)
		return 0;
fail:
	log_error("store_failed", "op=flags_take error=%s detail=%s",
	    store_errname(txn.err), log_q(txn.detail));
	return -1;
}

static bool
history_seen_cb(const struct store_event *ev, void *arg)
{
	json_t *j;

	(void)arg;
	if (strcmp(ev->event, "group_deleted") != 0)
		return true;
	j = json_loadb(ev->payload, ev->payload_len, 0, NULL);
	log_info("group_deleted", "group=%s address=%s tombstone=%s seq=%llu"
	    " by=failoverctl", log_q(ev->group),
	    log_q(json_string_value(json_object_get(j, "address"))),
	    log_q(json_string_value(json_object_get(j, "tombstone"))),
	    (unsigned long long)ev->seq);
	json_decref(j);
	return true;
}

/*
 * What another process recorded in the history that this log must show:
 * a group deleted by failoverctl (group delete writes the store, not to
 * the daemon).  Read from where the last poll stopped; the history before
 * the first poll is not replayed.
 */
static void
history_note(struct daemon *d, struct store_txn *txn)
{
	uint64_t last = store_history_last(txn);

	if (d->hist_primed && last > d->hist_seen)
		store_history_foreach(txn, d->hist_seen + 1, 0, NULL,
		    history_seen_cb, d);
	d->hist_seen = last;
	d->hist_primed = true;
}

/*
 * The flags are the operator's wishes; the engine's state is what is in
 * force.  Pause and pin are levels (apply the difference); rearm and switch
 * are requests, taken out of the store (requests_take) before they are
 * fed.  A request carries the time it was made and its actor: the engine
 * expires one older than request_ttl.
 */
static void
flags_apply(struct daemon *d)
{
	struct store_txn txn;
	bool any = false;

	if (store_txn_begin(d->store, false, &txn) != 0) {
		log_error("store_failed", "op=flags error=%s detail=%s",
		    store_errname(txn.err), log_q(txn.detail));
		return;
	}
	size_t n = d->cfg->ngroup ? d->cfg->ngroup : 1;
	struct store_flags *fl = calloc(n, sizeof(*fl));
	bool *take_rearm = calloc(n, sizeof(bool));
	bool *take_switch = calloc(n, sizeof(bool));
	if (fl == NULL || take_rearm == NULL || take_switch == NULL) {
		store_txn_abort(&txn);
		goto out;
	}
	for (size_t i = 0; i < d->cfg->ngroup; i++)
		store_flags_get(&txn, d->cfg->groups[i].name, &fl[i]);
	history_note(d, &txn);
	store_txn_abort(&txn);

	for (size_t i = 0; i < d->cfg->ngroup; i++) {
		struct dgroup *g = &d->groups[i];
		struct store_flags *f = &fl[i];
		int pin = stack_by_name(d->cfg, f->pinned);

		/*
		 * Not resumed yet: its flags are read when it is.  Held
		 * because its record moved: a rearm or switch request reads
		 * the record again (adopted there, wait_rearm) and is taken
		 * once the group resumed.
		 */
		if (g->waiting) {
			if (g->moved && (f->rearm_requested ||
			    f->switch_requested)) {
				g->moved = false;
				world_read(d, g);
			}
			continue;
		}
		if (f->paused != g->st.paused)
			feed_cmd(g, f->paused ? ENG_CMD_PAUSE : ENG_CMD_RESUME,
			    ENG_NONE, false, 0, f->actor);
		if (pin != g->st.pinned && !(f->pinned[0] != '\0' && pin < 0))
			feed_cmd(g, pin >= 0 ? ENG_CMD_PIN : ENG_CMD_UNPIN,
			    pin, false, 0, f->actor);
		take_rearm[i] = f->rearm_requested;
		if (f->switch_requested) {
			int to = stack_by_name(d->cfg, f->switch_to);
			int tgt = f->switch_to[0] != '\0' ? to : g->st.standby;
			int64_t age = clock_wall_ms() - f->switch_requested_ms;

			/*
			 * A switch requested while we were stopped comes
			 * before the first probes: wait until the target's
			 * health is known rather than refuse it as not up
			 * (but not past request_ttl: then it expires).
			 */
			if (!f->switch_force && tgt >= 0 &&
			    d->health[tgt].state == HEALTH_UNKNOWN &&
			    age <= d->cfg->controller.request_ttl_ms) {
				d->flags_deferred = true;
				continue;
			}
			take_switch[i] = true;
		}
		any = any || take_rearm[i] || take_switch[i];
	}
	if (!any)
		goto out;
	if (requests_take(d, fl, take_rearm, take_switch) != 0) {
		d->flags_deferred = true;	/* try again at the next poll */
		goto out;
	}
	for (size_t i = 0; i < d->cfg->ngroup; i++) {
		struct dgroup *g = &d->groups[i];
		struct store_flags *f = &fl[i];

		if (take_rearm[i])
			feed_cmd(g, ENG_CMD_REARM, ENG_NONE, false,
			    f->rearm_requested_ms, f->rearm_actor);
		if (!take_switch[i])
			continue;
		int to = stack_by_name(d->cfg, f->switch_to);

		if (f->switch_to[0] != '\0' && to < 0)
			log_warn("command_refused", "group=%s cmd=switch"
			    " reason=unknown_stack stack=%s actor=%s",
			    log_q(d->cfg->groups[i].name), log_q(f->switch_to),
			    log_q(f->switch_actor));
		else
			feed_cmd(g, ENG_CMD_SWITCH, to, f->switch_force,
			    f->switch_requested_ms, f->switch_actor);
	}
out:
	free(fl);
	free(take_rearm);
	free(take_switch);
}

/*
 * Resume the groups whose record was read: their pause and pin first (a
 * pause set while we were stopped holds from the first decision on),
 * then RESUME (an unfinished switch goes on), and only then the requests
 * (a switch requested while we were stopped is a new switch after the
 * resume, not fed to a state that has not resumed).
 */
static void
resume_cb(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;
	struct store_txn txn;
	size_t n = d->cfg->ngroup ? d->cfg->ngroup : 1;
	struct store_flags *fl = calloc(n, sizeof(*fl));

	if (fl == NULL)
		fatal("out_of_memory", "where=resume");
	if (d->store != NULL) {
		if (store_txn_begin(d->store, false, &txn) != 0) {
			log_error("store_failed", "op=resume error=%s detail=%s",
			    store_errname(txn.err), log_q(txn.detail));
			free(fl);
			event_active(d->ev_resume, EV_TIMEOUT, 1);
			return;
		}
		for (size_t i = 0; i < d->cfg->ngroup; i++)
			if (d->groups[i].resume_pending)
				store_flags_get(&txn, d->cfg->groups[i].name,
				    &fl[i]);
		store_txn_abort(&txn);
	}
	for (size_t i = 0; i < d->cfg->ngroup; i++) {
		struct dgroup *g = &d->groups[i];
		struct eng_event ev = { .kind = ENG_EV_RESUME };
		struct store_flags *f = &fl[i];
		int pin = stack_by_name(d->cfg, f->pinned);

		if (!g->resume_pending)
			continue;
		g->resume_pending = false;
		g->waiting = false;
		if (d->store != NULL) {
			if (f->paused != g->st.paused)
				feed_cmd(g, f->paused ? ENG_CMD_PAUSE :
				    ENG_CMD_RESUME, ENG_NONE, false, 0,
				    f->actor);
			if (pin != g->st.pinned &&
			    !(f->pinned[0] != '\0' && pin < 0))
				feed_cmd(g, pin >= 0 ? ENG_CMD_PIN :
				    ENG_CMD_UNPIN, pin, false, 0, f->actor);
		}
		dgroup_feed(g, &ev);
	}
	free(fl);
	daemon_update_roles(d);
	d->flags_deferred = true;	/* the requests, at the next poll */
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
		flags_apply(d);
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

/* ---- reload ---- */

/*
 * The groups made at run time (face/ops_group.h): their text in the store,
 * copied ("" when there is none); NULL when the store cannot be read
 * (logged).
 */
static char *
groups_text(struct daemon *d)
{
	struct store_txn txn;
	const void *v;
	size_t len = 0;
	char *s;

	if (store_txn_begin(d->store, false, &txn) != 0) {
		log_error("store_failed", "op=groups error=%s detail=%s",
		    store_errname(txn.err), log_q(txn.detail));
		store_txn_abort(&txn);
		return NULL;
	}
	if (!store_meta_get(&txn, OPS_GROUPS_META, &v, &len))
		len = 0;
	if ((s = malloc(len + 1)) == NULL)
		fatal("out_of_memory", "where=groups");
	if (len > 0)
		memcpy(s, v, len);
	s[len] = '\0';
	store_txn_abort(&txn);
	return s;
}

/*
 * base and the groups of text: the configuration to put in force, or NULL
 * when they do not fit together (each error logged as event).  partial
 * (at start): rather than NULL, base with the groups that fit, each
 * judged with those kept before it, so that one group whose stack left the
 * file does not take the others with it.
 */
static struct config *
groups_derive(struct daemon *d, const struct config *base, const char *text,
    const char *event, bool partial)
{
	struct config_errors errs = { 0 };
	struct config *ncfg = NULL;
	char *keep, *cand;
	const char *p, *next;

	if (config_with_groups(base, text, &ncfg, &errs) == 0)
		return ncfg;
	for (size_t i = 0; i < errs.n; i++)
		log_error(event, "error=%s", log_q(errs.msg[i]));
	config_errors_free(&errs);
	if (!partial)
		return NULL;
	/* The text is ops_group.c's: one "[group NAME]" section a group. */
	if ((keep = strdup("")) == NULL)
		fatal("out_of_memory", "where=groups");
	for (p = text; *p != '\0'; p = next) {
		next = strstr(p + 1, "\n[group ");
		next = next != NULL ? next + 1 : p + strlen(p);
		if (asprintf(&cand, "%s%.*s", keep, (int)(next - p), p) == -1)
			fatal("out_of_memory", "where=groups");
		if (config_with_groups(base, cand, &ncfg, &errs) == 0) {
			config_free(ncfg);
			free(keep);
			keep = cand;
		} else {
			config_errors_free(&errs);
			free(cand);
		}
	}
	ncfg = NULL;
	if (config_with_groups(base, keep, &ncfg, &errs) != 0)
		config_errors_free(&errs);
	free(keep);
	return ncfg;
}

static int	 world_swap(struct daemon *, struct config *);

/*
 * A group was added, changed or deleted at run time (by the API, or by
 * failoverctl: the generation moved): take the store's groups in, as a
 * reload takes a new file in.  Groups that do not fit the file are
 * refused and the world in force is kept.
 */
void
daemon_groups_sync(struct daemon *d)
{
	struct config *ncfg;
	size_t nrt = 0;
	char *text;

	if (d->store == NULL || d->stopping ||
	    (text = groups_text(d)) == NULL)
		return;
	if (d->rt_text != NULL && strcmp(text, d->rt_text) == 0) {
		free(text);
		return;
	}
	free(d->rt_text);
	d->rt_text = text;
	daemon_flush(d);
	if ((ncfg = groups_derive(d, d->cfg, text, "groups_refused",
	    false)) == NULL)
		return;
	if (world_swap(d, ncfg) != 0)
		return;
	for (size_t i = 0; i < d->cfg->ngroup; i++)
		nrt += d->cfg->groups[i].runtime;
	log_info("groups_applied", "groups=%zu runtime=%zu", d->cfg->ngroup,
	    nrt);
}

static void	 reload(struct daemon *);

static void
reload_cb(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;

	if (!d->stopping)
		reload(d);
}

static void
reload(struct daemon *d)
{
	struct config *ncfg = NULL, *fcfg = NULL;
	struct config_errors errs = { 0 };
	char *text = NULL;

	sdnotify_reloading();
	probelog_sync(d);
	daemon_flush(d);
	/* A batch on its way to etcd names groups of this configuration:
	 * reload once it is answered. */
	if (d->cluster != NULL && daemon_flush_busy()) {
		struct timeval tv = { 0, 20000 };

		if (d->ev_reload == NULL)
			d->ev_reload = evtimer_new(d->base, reload_cb, d);
		if (d->ev_reload != NULL)
			evtimer_add(d->ev_reload, &tv);
		return;
	}
	if (config_load(d->config_path, &fcfg, &errs) != 0) {
		for (size_t i = 0; i < errs.n; i++)
			log_error("reload_refused", "error=%s",
			    log_q(errs.msg[i]));
		log_error("reload_failed", "file=%s errors=%zu"
		    " detail=\"the running configuration is kept\"",
		    log_q(d->config_path), errs.n);
		config_errors_free(&errs);
		sdnotify_ready();
		return;
	}
	/* The groups made at run time, judged against the new file. */
	if (d->store == NULL) {
		ncfg = fcfg;
		fcfg = NULL;
	} else if ((text = groups_text(d)) != NULL)
		ncfg = groups_derive(d, fcfg, text, "reload_refused", false);
	config_free(fcfg);
	if (ncfg == NULL) {
		log_error("reload_failed", "file=%s detail=%s",
		    log_q(d->config_path), log_q("the groups made at run time"
		    " do not fit the new file; the running configuration is"
		    " kept"));
		free(text);
		sdnotify_ready();
		return;
	}
	if (world_swap(d, ncfg) == 0) {
		if (text != NULL) {
			free(d->rt_text);
			d->rt_text = text;
			text = NULL;
		}
		log_info("reloaded", "file=%s stacks=%zu groups=%zu",
		    log_q(d->config_path), d->cfg->nstack, d->cfg->ngroup);
		api_reload(d->api);
		dcluster_reload(d);
	}
	free(text);
	sdnotify_ready();
}

/*
 * Put a new, fully validated configuration in force (ncfg is taken; on a
 * refusal it is freed and 0 is not returned).  Group states are carried
 * across by name (encode with the old configuration, decode with the
 * new); a stack whose probe settings did not change keeps its probe and
 * its health undisturbed.
 */
static int
world_swap(struct daemon *d, struct config *ncfg)
{
	struct config *ocfg = d->cfg;
	struct dstack *ostacks = d->stacks;
	struct dgroup *ogroups = d->groups;
	struct health *ohealth = d->health;
	size_t onstack = ocfg->nstack, ongroup = ocfg->ngroup;
	size_t onwitness = ocfg->controller.nwitness;
	char err[256];

	/*
	 * A group in the middle of a switch cannot go: its hook's answer
	 * would have nowhere to land and the journal entry would never end.
	 */
	for (size_t o = 0; o < ongroup; o++)
		if (ogroups[o].st.status == ENG_SWITCHING &&
		    config_group_find(ncfg, ocfg->groups[o].name) == NULL) {
			log_error("reload_failed", "file=%s group=%s detail=%s",
			    log_q(d->config_path), log_q(ocfg->groups[o].name),
			    log_q("a group cannot be removed while it is"
			    " switching; the running configuration is kept"));
			config_free(ncfg);
			return -1;
		}
	if (strcmp(ncfg->controller.state_dir, ocfg->controller.state_dir) != 0)
		log_warn("reload_partial", "key=state_dir detail=%s",
		    log_q("state_dir changes need a restart; ignored"));

	/* Encode every group state against the old configuration. */
	char **blobs = calloc(ongroup ? ongroup : 1, sizeof(char *));
	size_t *lens = calloc(ongroup ? ongroup : 1, sizeof(size_t));
	if (blobs == NULL || lens == NULL)
		goto nomem;
	for (size_t i = 0; i < ongroup; i++)
		if (eng_group_encode(&ogroups[i].st, ocfg, &blobs[i],
		    &lens[i]) != 0)
			goto nomem;

	struct world_old old = { ocfg, ostacks, ogroups, ohealth, blobs, lens };

	d->cfg = ncfg;
	d->stacks = NULL;
	d->groups = NULL;
	d->health = NULL;
	if (world_build(d, &old) != 0)
		goto nomem;
	if (!d->stopping)
		(void)stacks_start(d);	/* a failure is logged; the rest run */

	/* The DNS engine keeps in-flight work; reopen it on a change. */
	if (ddns_engine_open(d, &dns_host, err, sizeof(err)) != 0)
		log_error("reload_partial", "key=dns error=%s", log_q(err));

	/* Witnesses are cheap: start them again. */
	witnesses_free(d, onwitness);
	if (!d->stopping && witnesses_start(d) != 0)
		log_error("reload_partial", "key=witness");

	stacks_free(ostacks, onstack);
	groups_free(ogroups, ongroup);
	free(ohealth);
	for (size_t i = 0; i < ongroup; i++)
		free(blobs[i]);
	free(blobs);
	free(lens);
	config_free(ocfg);

	daemon_update_roles(d);
	world_resume(d);
	/* Pause and pin as the store has them now, for every group. */
	d->flags_deferred = true;
	return 0;
nomem:
	fatal("out_of_memory", "where=reload");
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

static void
signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct daemon *d = arg;

	switch (sig) {
	case SIGHUP:
		if (d->stopping)
			return;
		log_info("reload", "file=%s", log_q(d->config_path));
		reload(d);
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
		 * holder finds the hooks this one leaves (orphans_kill). */
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

		if ((d->rt_text = groups_text(d)) == NULL)
			goto out;
		if ((ncfg = groups_derive(d, d->cfg, d->rt_text,
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
		orphans_kill(d);
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
			history_note(d, &htxn);
		store_txn_abort(&htxn);
	}

	d->ev_hup = evsignal_new(d->base, SIGHUP, signal_cb, d);
	d->ev_term = evsignal_new(d->base, SIGTERM, signal_cb, d);
	d->ev_int = evsignal_new(d->base, SIGINT, signal_cb, d);
	d->ev_flags = evtimer_new(d->base, flags_cb, d);
	d->ev_verify = evtimer_new(d->base, verify_cb, d);
	d->ev_watchdog = evtimer_new(d->base, watchdog_cb, d);
	d->ev_trim = evtimer_new(d->base, trim_cb, d);
	d->ev_resume = event_new(d->base, -1, 0, resume_cb, d);
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
	 * then resumes (resume_cb: flags, RESUME, requests).  Probes start
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
	status = 0;
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
