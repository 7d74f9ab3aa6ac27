/*
 * daemon_api.c - what the shell lends the API (struct api_host, face/api.h):
 * the daemon's own Prometheus metrics (its probes, groups, phases, DNS
 * answers, witnesses), a stack's last check, and "the flags changed".
 * They read the daemon's runtime objects, which are the shell's; the face
 * sees none of them.
 */
#include "controller/shell/daemon_int.h"
#include "controller/shell/daemon_cluster_cmd.h"

#include <stdio.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "config/config.h"
#include "controller/base/prom.h"
#include "controller/core/engine.h"
#include "controller/core/health.h"
#include "controller/face/api.h"
#include "dnsupdate/dnsup_msg.h"
#include "probes/probe.h"

#define lv	prom_label
#define family	prom_family

static const char *
stack_label(const struct config *cfg, int s, char *buf, size_t len)
{
	return lv(s >= 0 && (size_t)s < cfg->nstack ? cfg->stacks[s].name :
	    "", buf, len);
}

static void
metrics_probes(struct evbuffer *b, struct daemon *d)
{
	static const double le[] = { 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
	    0.1, 0.25, 0.5, 1, 2.5, 5 };
	const struct config *cfg = d->cfg;
	char l1[600];
	uint64_t cum = 0;

	family(b, "probes_total", "counter",
	    "Health probes finished, by stack and result (ok or the reason"
	    " of the failure).");
	for (size_t s = 0; s < cfg->nstack; s++) {
		lv(cfg->stacks[s].name, l1, sizeof(l1));
		for (int r = 0; r < PROBE_R_COUNT; r++)
			evbuffer_add_printf(b, "failoverd_probes_total"
			    "{stack=\"%s\",result=\"%s\"} %llu\n", l1,
			    probe_reason_name((enum probe_reason)r),
			    (unsigned long long)d->stacks[s].nreason[r]);
	}

	family(b, "probe_reconnects_total", "counter",
	    "Probes whose kept-alive connection the web head had closed"
	    " (while idle, or under the request) and that ran on a new"
	    " connection; never counted as failures.");
	for (size_t s = 0; s < cfg->nstack; s++)
		evbuffer_add_printf(b, "failoverd_probe_reconnects_total"
		    "{stack=\"%s\"} %llu\n", lv(cfg->stacks[s].name, l1,
		    sizeof(l1)), (unsigned long long)d->stacks[s].nreconnect);

	family(b, "probe_duration_seconds", "histogram",
	    "Duration of the health probes, by stack.");
	for (size_t s = 0; s < cfg->nstack; s++) {
		const struct dstack *ds = &d->stacks[s];

		lv(cfg->stacks[s].name, l1, sizeof(l1));
		cum = 0;
		for (size_t i = 0; i < sizeof(le) / sizeof(le[0]); i++) {
			cum += ds->hist_buckets[i];
			evbuffer_add_printf(b, "failoverd_probe_duration_seconds"
			    "_bucket{stack=\"%s\",le=\"%g\"} %llu\n", l1,
			    le[i], (unsigned long long)cum);
		}
		evbuffer_add_printf(b, "failoverd_probe_duration_seconds_bucket"
		    "{stack=\"%s\",le=\"+Inf\"} %llu\n", l1,
		    (unsigned long long)ds->hist_count);
		evbuffer_add_printf(b, "failoverd_probe_duration_seconds_sum"
		    "{stack=\"%s\"} %.6f\n"
		    "failoverd_probe_duration_seconds_count{stack=\"%s\"}"
		    " %llu\n", l1, ds->hist_sum, l1,
		    (unsigned long long)ds->hist_count);
	}

	family(b, "probe_lateness_seconds", "histogram",
	    "How late checks started against their schedule (of every stack;"
	    " a check started early within the wake-up slack counts as 0).");
	cum = 0;
	for (size_t i = 0; i < sizeof(le) / sizeof(le[0]); i++) {
		cum += d->late_buckets[i];
		evbuffer_add_printf(b, "failoverd_probe_lateness_seconds_bucket"
		    "{le=\"%g\"} %llu\n", le[i], (unsigned long long)cum);
	}
	evbuffer_add_printf(b, "failoverd_probe_lateness_seconds_bucket"
	    "{le=\"+Inf\"} %llu\n", (unsigned long long)d->late_count);
	evbuffer_add_printf(b, "failoverd_probe_lateness_seconds_sum %.6f\n"
	    "failoverd_probe_lateness_seconds_count %llu\n", d->late_sum,
	    (unsigned long long)d->late_count);

	if (d->probes != NULL) {
		struct probe_stats pst;

		probe_engine_stats(d->probes, &pst);
		family(b, "probe_late_timeouts_total", "counter",
		    "Timeouts the controller looked at too late to be the"
		    " stack's (its loop stopped or overloaded): not counted,"
		    " logged as local_fault.");
		evbuffer_add_printf(b, "failoverd_probe_late_timeouts_total"
		    " %llu\n", (unsigned long long)pst.late);
		family(b, "probe_inflight_limit", "gauge",
		    "Checks allowed in flight at once after late timeouts; 0:"
		    " no limit.");
		evbuffer_add_printf(b, "failoverd_probe_inflight_limit %llu\n",
		    (unsigned long long)pst.cap);
	}

	family(b, "stack_health", "gauge",
	    "Health of each stack: 1 for the state it is in, 0 for the"
	    " others.");
	for (size_t s = 0; s < cfg->nstack; s++) {
		lv(cfg->stacks[s].name, l1, sizeof(l1));
		for (int st = HEALTH_UNKNOWN; st <= HEALTH_DOWN; st++)
			evbuffer_add_printf(b, "failoverd_stack_health"
			    "{stack=\"%s\",state=\"%s\"} %d\n", l1,
			    health_state_name((enum health_state)st),
			    d->health[s].state == (enum health_state)st);
	}
	family(b, "stack_suspect", "gauge",
	    "1 while a stack is up but its last probe failed.");
	for (size_t s = 0; s < cfg->nstack; s++)
		evbuffer_add_printf(b, "failoverd_stack_suspect{stack=\"%s\"}"
		    " %d\n", lv(cfg->stacks[s].name, l1, sizeof(l1)),
		    health_is_suspect(&d->health[s]));
	family(b, "stack_last_probe_timestamp_seconds", "gauge",
	    "When each stack's last probe finished (0: none yet).");
	for (size_t s = 0; s < cfg->nstack; s++)
		evbuffer_add_printf(b, "failoverd_stack_last_probe_timestamp_"
		    "seconds{stack=\"%s\"} %.3f\n",
		    lv(cfg->stacks[s].name, l1, sizeof(l1)),
		    (double)d->stacks[s].last_probe_ms / 1000.0);
	family(b, "stack_last_success_timestamp_seconds", "gauge",
	    "When each stack's last successful probe finished (0: none"
	    " since the daemon started).");
	for (size_t s = 0; s < cfg->nstack; s++)
		evbuffer_add_printf(b, "failoverd_stack_last_success_timestamp_"
		    "seconds{stack=\"%s\"} %.3f\n",
		    lv(cfg->stacks[s].name, l1, sizeof(l1)),
		    (double)d->stacks[s].last_ok_ms / 1000.0);
	family(b, "stack_health_since_timestamp_seconds", "gauge",
	    "When each stack entered its current health state.");
	for (size_t s = 0; s < cfg->nstack; s++)
		evbuffer_add_printf(b, "failoverd_stack_health_since_timestamp_"
		    "seconds{stack=\"%s\"} %.3f\n",
		    lv(cfg->stacks[s].name, l1, sizeof(l1)),
		    (double)d->health[s].since_ms / 1000.0);
}

static const char *const phase_result[DPHASE_NRESULT] = {
	"ok", "failed", "timeout",
};

/* The record of each group: in sync, failing and why, refusals. */
static void
metrics_groups_dns(struct evbuffer *b, struct daemon *d)
{
	const struct config *cfg = d->cfg;
	char l1[600], l2[600];

	family(b, "group_record_in_sync", "gauge",
	    "1 while the server holds the record each group wants (the"
	    " last UPDATE accepted, nothing pending), 0 otherwise.");
	for (size_t i = 0; i < cfg->ngroup; i++) {
		const struct eng_group *st = &d->groups[i].st;

		evbuffer_add_printf(b, "failoverd_group_record_in_sync"
		    "{group=\"%s\"} %d\n", lv(cfg->groups[i].name, l1,
		    sizeof(l1)), st->status == ENG_RESERVED ||
		    (st->dns_error[0] == '\0' && st->dns_ticket == 0 &&
		    st->pub_stack >= 0 && st->pub_stack == st->want_stack &&
		    st->pub_ttl == st->want_ttl && !d->groups[i].moved));
	}
	family(b, "group_publication_failing", "gauge",
	    "1 while the server refuses each group's record, with the"
	    " reason (not_owner, BADKEY, REFUSED, timeout, ...); 0 with"
	    " reason=\"\" while it accepts it.");
	for (size_t i = 0; i < cfg->ngroup; i++) {
		const struct eng_group *st = &d->groups[i].st;

		evbuffer_add_printf(b, "failoverd_group_publication_failing"
		    "{group=\"%s\",reason=\"%s\"} %d\n",
		    lv(cfg->groups[i].name, l1, sizeof(l1)),
		    lv(st->dns_error, l2, sizeof(l2)),
		    st->dns_error[0] != '\0');
	}
	family(b, "dns_not_owner_total", "counter",
	    "Read-backs of each group's name that found it is not ours"
	    " (no or another controller's ownership TXT): counted whether"
	    " or not an UPDATE was sent.");
	for (size_t i = 0; i < cfg->ngroup; i++)
		evbuffer_add_printf(b, "failoverd_dns_not_owner_total"
		    "{group=\"%s\"} %llu\n", lv(cfg->groups[i].name, l1,
		    sizeof(l1)), (unsigned long long)d->groups[i].not_owner);
	family(b, "group_last_switch_timestamp_seconds", "gauge",
	    "When each group's last switch started (0: never).");
	for (size_t i = 0; i < cfg->ngroup; i++)
		evbuffer_add_printf(b, "failoverd_group_last_switch_timestamp_"
		    "seconds{group=\"%s\"} %.3f\n", lv(cfg->groups[i].name,
		    l1, sizeof(l1)),
		    (double)d->groups[i].st.last_switch_ms / 1000.0);
}

/* Phases ended, by group, phase and result: a failed-but-continued
 * maintenance_on shows here. */
static void
metrics_groups_phases(struct evbuffer *b, struct daemon *d)
{
	const struct config *cfg = d->cfg;
	char l1[600];

	family(b, "phase_results_total", "counter",
	    "Switch phases (hooks and the dns flip) ended since the daemon"
	    " started, by group, phase and result (ok, failed, timeout).");
	for (size_t i = 0; i < cfg->ngroup; i++) {
		lv(cfg->groups[i].name, l1, sizeof(l1));
		for (int p = 0; p < ENG_NPHASE; p++) {
			if (p == ENG_PH_DONE)
				continue;
			for (int r = 0; r < DPHASE_NRESULT; r++)
				evbuffer_add_printf(b, "failoverd_phase_results"
				    "_total{group=\"%s\",phase=\"%s\","
				    "result=\"%s\"} %llu\n", l1,
				    eng_phase_name((enum eng_phase)p),
				    phase_result[r], (unsigned long long)
				    d->groups[i].phase_results[p][r]);
		}
	}
}

static void
metrics_groups(struct evbuffer *b, struct daemon *d)
{
	const struct config *cfg = d->cfg;
	char l1[600], l2[600];
	unsigned inflight = 0;

	family(b, "group_active_stack", "gauge",
	    "1 for the stack that takes each group's traffic, 0 for its other"
	    " stack.");
	for (size_t i = 0; i < cfg->ngroup; i++) {
		const struct cfg_group *cg = &cfg->groups[i];
		const struct eng_group *st = &d->groups[i].st;
		int stk[2] = { cg->primary, cg->backup };

		lv(cg->name, l1, sizeof(l1));
		for (int k = 0; k < 2; k++) {
			if (stk[k] < 0 || (k == 1 && stk[1] == stk[0]))
				continue;
			evbuffer_add_printf(b, "failoverd_group_active_stack"
			    "{group=\"%s\",stack=\"%s\"} %d\n", l1,
			    stack_label(cfg, stk[k], l2, sizeof(l2)),
			    st->active == stk[k]);
		}
		/* A stack no longer in the group (reload) still active. */
		if (st->active >= 0 && st->active != stk[0] &&
		    st->active != stk[1])
			evbuffer_add_printf(b, "failoverd_group_active_stack"
			    "{group=\"%s\",stack=\"%s\"} 1\n", l1,
			    stack_label(cfg, st->active, l2, sizeof(l2)));
	}

	family(b, "group_status", "gauge",
	    "Status of each group: 1 for the one it is in, 0 for the others.");
	for (size_t i = 0; i < cfg->ngroup; i++) {
		lv(cfg->groups[i].name, l1, sizeof(l1));
		for (int s = ENG_RESERVED; s <= ENG_WAIT_REARM; s++)
			evbuffer_add_printf(b, "failoverd_group_status"
			    "{group=\"%s\",status=\"%s\"} %d\n", l1,
			    eng_status_name((enum eng_status)s),
			    d->groups[i].st.status == (enum eng_status)s);
		if (d->groups[i].st.status == ENG_SWITCHING)
			inflight++;
	}
	family(b, "group_paused", "gauge", "1 while a group is paused.");
	for (size_t i = 0; i < cfg->ngroup; i++)
		evbuffer_add_printf(b, "failoverd_group_paused{group=\"%s\"}"
		    " %d\n", lv(cfg->groups[i].name, l1, sizeof(l1)),
		    d->groups[i].st.paused);
	family(b, "group_pinned", "gauge", "1 while a group is pinned.");
	for (size_t i = 0; i < cfg->ngroup; i++)
		evbuffer_add_printf(b, "failoverd_group_pinned{group=\"%s\"}"
		    " %d\n", lv(cfg->groups[i].name, l1, sizeof(l1)),
		    d->groups[i].st.pinned >= 0);

	family(b, "switches_total", "counter",
	    "Switches ended since the daemon started, by group, reason (auto,"
	    " manual) and result (ok, failed).");
	for (size_t i = 0; i < cfg->ngroup; i++) {
		lv(cfg->groups[i].name, l1, sizeof(l1));
		for (int k = 0; k < 4; k++)
			evbuffer_add_printf(b, "failoverd_switches_total"
			    "{group=\"%s\",reason=\"%s\",result=\"%s\"}"
			    " %llu\n", l1, eng_reason_name((enum eng_reason)
			    (k / 2)), k % 2 == 0 ? "ok" : "failed",
			    (unsigned long long)
			    d->groups[i].switches_by[k / 2][k % 2]);
	}
	family(b, "switches_in_flight", "gauge",
	    "Journal entries in flight: switches running now.");
	evbuffer_add_printf(b, "failoverd_switches_in_flight %u\n", inflight);

	family(b, "drift_repairs_total", "counter",
	    "Records found edited or stale on the server and published"
	    " again, by group.");
	for (size_t i = 0; i < cfg->ngroup; i++)
		evbuffer_add_printf(b, "failoverd_drift_repairs_total"
		    "{group=\"%s\"} %llu\n",
		    lv(cfg->groups[i].name, l1, sizeof(l1)),
		    (unsigned long long)d->groups[i].drift_repairs);

	metrics_groups_dns(b, d);
	metrics_groups_phases(b, d);
}

static void
metrics_misc(struct evbuffer *b, struct daemon *d)
{
	family(b, "phase_duration_seconds", "histogram",
	    "Duration of the switch phases that ended, by phase and result"
	    " (ok, failed, timeout).");
	for (int p = 0; p < ENG_NPHASE; p++) {
		const char *n = eng_phase_name((enum eng_phase)p);

		if (p == ENG_PH_DONE)
			continue;
		for (int r = 0; r < DPHASE_NRESULT; r++) {
			const uint64_t *bk = d->phase_buckets[p][r];
			uint64_t cum = 0;

			for (int i = 0; i < DPHASE_NBUCKET; i++) {
				cum += bk[i];
				evbuffer_add_printf(b, "failoverd_phase_duration"
				    "_seconds_bucket{phase=\"%s\",result=\"%s\","
				    "le=\"%g\"} %llu\n", n, phase_result[r],
				    dphase_le(i), (unsigned long long)cum);
			}
			cum += bk[DPHASE_NBUCKET];
			evbuffer_add_printf(b, "failoverd_phase_duration_seconds"
			    "_bucket{phase=\"%s\",result=\"%s\",le=\"+Inf\"}"
			    " %llu\n", n, phase_result[r],
			    (unsigned long long)cum);
			evbuffer_add_printf(b, "failoverd_phase_duration_seconds"
			    "_sum{phase=\"%s\",result=\"%s\"} %.3f\n"
			    "failoverd_phase_duration_seconds_count{phase=\"%s\","
			    "result=\"%s\"} %llu\n", n, phase_result[r],
			    d->phase_sum[p][r], n, phase_result[r],
			    (unsigned long long)cum);
		}
	}

	family(b, "dns_updates_total", "counter",
	    "DNS UPDATEs answered, by result (NOERROR or the error's name).");
	for (int r = 0; r < DNSUP_R__MAX && (size_t)r <
	    sizeof(d->dns_results) / sizeof(d->dns_results[0]); r++)
		evbuffer_add_printf(b, "failoverd_dns_updates_total"
		    "{result=\"%s\"} %llu\n",
		    dnsup_result_name((enum dnsup_result)r),
		    (unsigned long long)d->dns_results[r]);

	family(b, "persist_failures_total", "counter",
	    "State commits to LMDB that failed (and were retried).");
	evbuffer_add_printf(b, "failoverd_persist_failures_total %llu\n",
	    (unsigned long long)d->persist_failures);

	family(b, "witness_state", "gauge",
	    "Witnesses: 1 for the aggregate state (ok, down, unknown), 0 for"
	    " the others; all 0 without witnesses.");
	for (int w = ENG_WITNESS_UNKNOWN; w <= ENG_WITNESS_DOWN; w++)
		evbuffer_add_printf(b, "failoverd_witness_state{state=\"%s\"}"
		    " %d\n", w == ENG_WITNESS_OK ? "ok" :
		    w == ENG_WITNESS_DOWN ? "down" : "unknown",
		    d->cfg->controller.nwitness > 0 &&
		    d->witness == (enum eng_witness)w);

	family(b, "dry_run", "gauge", "1 when running with --dry-run.");
	evbuffer_add_printf(b, "failoverd_dry_run %d\n", d->dry_run);
	family(b, "start_time_seconds", "gauge",
	    "When the daemon started, seconds since the epoch.");
	evbuffer_add_printf(b, "failoverd_start_time_seconds %.3f\n",
	    (double)d->started_ms / 1000.0);
	family(b, "build_info", "gauge", "The version of failoverd running.");
	evbuffer_add_printf(b, "failoverd_build_info{version=\"%s\"} 1\n",
	    FAILOVERD_VERSION);
}

/* Only with [cluster]: alone, /metrics is as it always was. */
static void
metrics_cluster(struct evbuffer *b, struct daemon *d)
{
	int leader;
	int64_t epoch;
	size_t members;

	if (d->cluster == NULL)
		return;
	dcluster_metrics(d, &leader, &epoch, &members);
	family(b, "cluster_leader", "gauge",
	    "1 while this member leads the cluster and may act, else 0.");
	evbuffer_add_printf(b, "failoverd_cluster_leader %d\n", leader);
	family(b, "cluster_epoch", "gauge",
	    "The epoch of the leader this member knows of (0: none).");
	evbuffer_add_printf(b, "failoverd_cluster_epoch %lld\n",
	    (long long)epoch);
	family(b, "cluster_members", "gauge",
	    "Live members of the cluster, as last read from etcd.");
	evbuffer_add_printf(b, "failoverd_cluster_members %zu\n", members);
	if (d->qview == NULL)
		return;
	family(b, "quorum_members", "gauge",
	    "Live members seeing the stack up, down or unknown (the quorum's"
	    " votes).");
	for (size_t i = 0; i < d->cfg->nstack; i++) {
		const struct eng_quorum *q = &d->qview[i];
		const char *n = d->cfg->stacks[i].name;

		evbuffer_add_printf(b, "failoverd_quorum_members{stack=\"%s\","
		    "view=\"up\"} %zu\n", n, q->up);
		evbuffer_add_printf(b, "failoverd_quorum_members{stack=\"%s\","
		    "view=\"down\"} %zu\n", n, q->down);
		evbuffer_add_printf(b, "failoverd_quorum_members{stack=\"%s\","
		    "view=\"unknown\"} %zu\n", n, q->unknown);
	}
	family(b, "quorum_decision", "gauge",
	    "1 for the quorum's decision on the stack: up, down or no_quorum.");
	for (size_t i = 0; i < d->cfg->nstack; i++)
		for (int k = QUORUM_NONE; k <= QUORUM_DOWN; k++)
			evbuffer_add_printf(b, "failoverd_quorum_decision{stack="
			    "\"%s\",decision=\"%s\"} %d\n",
			    d->cfg->stacks[i].name, quorum_decision_name(
			    (enum quorum_decision)k),
			    (int)d->qview[i].decision == k);
}

static void
host_metrics(void *arg, struct evbuffer *b)
{
	metrics_probes(b, arg);
	metrics_groups(b, arg);
	metrics_misc(b, arg);
	metrics_cluster(b, arg);
}

static uint64_t
host_local_faults(void *arg)
{
	const struct daemon *d = arg;

	return d->local_faults;
}

static void
host_flags_changed(void *arg)
{
	struct daemon *d = arg;

	if (d->ev_flags != NULL)
		event_active(d->ev_flags, EV_TIMEOUT, 1);
}

/* In a cluster a member that does not lead gives it to the leader. */
static int
host_command(void *arg, const struct ops_request *req,
    void (*done)(const struct ops_reply *, const char *, uint64_t, void *),
    void *ctx, struct ops_reply *now)
{
	return dclcmd_give(arg, req, done, ctx, now);
}

static int
host_group(void *arg, enum ops_remote_gop gop,
    const struct ops_group_spec *spec,
    void (*done)(const struct ops_reply *, const char *, uint64_t, void *),
    void *ctx, struct ops_reply *now)
{
	return dclcmd_give_group(arg, gop, spec, done, ctx, now);
}

static void
host_groups_changed(void *arg)
{
	daemon_groups_sync(arg);
}

static bool
host_stack_live(void *arg, int s, struct api_stack_live *live)
{
	const struct daemon *d = arg;
	const struct dstack *ds;

	if (d->stacks == NULL || s < 0 || (size_t)s >= d->cfg->nstack)
		return false;
	ds = &d->stacks[s];
	live->last_probe_ms = ds->last_probe_ms;
	live->last_latency_us = ds->last_latency_us;
	live->last_status = ds->last_status;
	return true;
}

static struct json_t *
host_cluster(void *arg)
{
	return dcluster_json(arg);
}

void
daemon_api_host(struct daemon *d, struct api_host *h)
{
	h->base = d->base;
	h->cfg = &d->cfg;
	h->store = d->store;
	h->dns = &d->dns;
	h->stopping = &d->stopping;
	h->nofile = d->nofile;
	h->arg = d;
	h->metrics = host_metrics;
	h->local_faults = host_local_faults;
	h->flags_changed = host_flags_changed;
	h->stack_live = host_stack_live;
	h->groups_changed = host_groups_changed;
	h->cluster = host_cluster;
	h->command = d->cfg->cluster.enabled ? host_command : NULL;
	h->group = d->cfg->cluster.enabled ? host_group : NULL;
}
