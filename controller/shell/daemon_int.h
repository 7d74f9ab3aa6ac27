/*
 * daemon_int.h - what the files of the daemon's shell (daemon.c,
 * daemon_world.c, daemon_act.c, daemon_dns.c, daemon_api.c, address.c)
 * share.  Not for the leaf libraries, the face (api*.c, failoverctl) nor
 * the simulator.  Calls go daemon.c -> daemon_world.c -> daemon_act.c ->
 * daemon_dns.c; what climbs back up is handed
 * down (struct ddns_host), and the clock and the world view are plain
 * data read here (daemon_now, daemon_world).
 *
 * Runtime objects borrow from the configuration (struct config) in force;
 * a reload builds new runtime objects against the new configuration and
 * moves what survives (probes, health, group state) across.
 */
#ifndef FAILOVERD_DAEMON_INT_H
#define FAILOVERD_DAEMON_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include <event2/util.h>

#include "config/config.h"
#include "controller/base/clock.h"
#include "controller/base/guard.h"
#include "controller/core/engine.h"
#include "controller/core/health.h"
#include "controller/store/store.h"

struct event;
struct event_base;
struct probe;
struct probe_engine;
struct dnsup_engine;
struct hook;
struct hook_runner;
struct daemon;
struct api;
struct dcluster;
struct dquorum;

/* What a probe's udata points at: a stack or a witness. */
enum prober_kind {
	PROBER_STACK = 1,
	PROBER_WITNESS,
};

/*
 * Phase results, as the metrics label them: ok, failed, timeout (the
 * records' result=), and the phase-duration histogram's buckets, seconds.
 */
#define DPHASE_NRESULT	3
#define DPHASE_NBUCKET	10
static inline double
dphase_le(int i)
{
	static const double le[DPHASE_NBUCKET] = { 0.1, 0.5, 1, 2.5, 5, 10,
	    30, 60, 120, 300 };

	return le[i];
}

/* A stack: its probe; its health is d->health[idx].  A new field: say
 * in dstack_carry (daemon_world.c) whether a reload carries it. */
struct dstack {
	enum prober_kind	 kind;		/* PROBER_STACK: first member */
	struct daemon		*d;
	int			 idx;		/* in d->cfg->stacks */
	struct probe		*probe;
	bool			 standby;	/* probed with standby statuses */
	bool			 health_dirty;	/* to write at the next flush */
	int			 hdirty_next;	/* next in d->hdirty_head, -1 */
	int			*groups;	/* groups that use this stack */
	int			 ngroups;
	uint64_t		 nprobe[2];	/* results: [0] fail, [1] ok */
	uint64_t		 nreason[16];
	unsigned		 local_run;	/* local faults in a row */
	uint64_t		 nreconnect;	/* results with reconnected */
	int64_t			 last_probe_ms;	/* wall */
	int64_t			 last_ok_ms;	/* wall, last successful probe */
	int			 last_status;
	int64_t			 last_latency_us;
	uint64_t		 hist_buckets[16];	/* probe latency histogram */
	double			 hist_sum;
	uint64_t		 hist_count;
};

/* A group: the engine's state and what is in flight for it.  A new
 * field: say in dgroup_carry (daemon_world.c) whether a reload carries it. */
struct dgroup {
	struct daemon		*d;
	int			 idx;		/* in d->cfg->groups */
	struct eng_group	 st;
	char			 address[256];	/* absolute, "" until known */
	struct event		*timer[ENG_NTIMER];
	int64_t			 timer_at[ENG_NTIMER];	/* monotonic ms, 0:
							   unset */
	struct hook		*hook;		/* sequence hook or precheck */
	bool			 owner_ok;	/* the server held our TXT at
						   the last UPDATE (daemon_dns.c) */
	bool			 owner_doubt;	/* read back before the next */
	int			 queued;	/* steps waiting for the flush */
	bool			 dns_busy;	/* query or update in flight */
	uint32_t		 dns_ticket;
	bool			 verify_busy;
	/*
	 * The world (world.h): until the group's record was read and its
	 * state reconciled with it, the group is waiting: its engine is fed
	 * nothing (it has nothing in flight: not resumed yet).
	 */
	bool			 waiting;
	bool			 had_state;	/* loaded from the store */
	bool			 record_busy;	/* read-back in flight */
	bool			 resume_pending;	/* record read: resume */
	int			 hold_logged;	/* verdict last logged, 0 */
	bool			 moved;		/* the record was found on the
						   group's other stack: held
						   (waiting) until a rearm or
						   switch request */
	uint64_t		 drift_repairs;
	uint64_t		 switches_ok, switches_failed;
	uint64_t		 switches_by[2][2];	/* [enum eng_reason]
							   [0 ok, 1 failed] */
	uint64_t		 phase_results[ENG_NPHASE][DPHASE_NRESULT];
	uint64_t		 not_owner;	/* read-backs judged not ours */
};

struct witness {
	enum prober_kind	 kind;		/* PROBER_WITNESS: first member */
	struct daemon		*d;
	struct probe		*probe;
	int			 state;		/* -1 unknown, 0 down, 1 ok */
};

struct daemon {
	struct event_base	*base;
	const char		*config_path;
	struct config		*cfg;
	bool			 dry_run;
	bool			 start_paused;
	bool			 stopping;
	bool			 stop_failed;	/* the exit status is 1 */

	struct store		*store;		/* NULL in dry-run */
	char			*state_real;	/* state_dir resolved, once
						   locked; NULL in dry-run */
	struct probe_engine	*probes;
	struct dnsup_engine	*dns;
	const struct ddns_host	*dns_host;	/* daemon_dns.c answers */
	struct hook_runner	*hooks;
	struct api		*api;

	struct dstack		*stacks;	/* cfg->nstack */
	struct dgroup		*groups;	/* cfg->ngroup */
	struct health		*health;	/* cfg->nstack, the engine's view */
	struct witness		*witnesses;	/* cfg->controller.nwitness */
	enum eng_witness	 witness;
	size_t			 ndown;		/* stacks whose health is down */
	int			 hdirty_head;	/* stacks whose health to write */

	struct event		*ev_hup, *ev_term, *ev_int, *ev_pipe;
	struct event		*ev_flags;	/* poll override flags */
	struct event		*ev_verify;	/* read back every record */
	struct event		*ev_watchdog;
	struct event		*ev_trim;	/* heap housekeeping */
	struct event		*ev_exitcheck;	/* while stopping */
	struct event		*ev_probelog;
	struct event		*ev_resume;	/* groups whose record was read */
	struct event		*ev_reload;	/* a reload waiting for etcd */
	struct plog		*plog;		/* pending probe-log runs */
	char			*rt_text;	/* the groups made at run time
						   in force (ops_group.h) */
	uint64_t		 flags_gen;
	uint64_t		 hist_seen;	/* history read up to (flags poll) */
	char			 sd_status[160];	/* the last STATUS= sent */
	bool			 hist_primed;
	bool			 flags_deferred; /* a request waits for health */

	/* Metrics. */
	uint64_t		 dns_results[32];	/* by enum dnsup_result */
	uint64_t		 persist_failures;
	uint64_t		 late_buckets[16];	/* probe lateness: started
							   - planned */
	double			 late_sum;
	uint64_t		 late_count;
	uint64_t		 local_faults;	/* probe results not counted */
	long			 nofile;	/* the descriptor limit */
	/* Phase durations: [phase][result] histograms (daemon_act.c). */
	uint64_t		 phase_buckets[ENG_NPHASE][DPHASE_NRESULT]
				    [DPHASE_NBUCKET + 1];
	double			 phase_sum[ENG_NPHASE][DPHASE_NRESULT];
	int64_t			 started_ms;

	/*
	 * The cluster (daemon_cluster.c); NULL without [cluster].  Who may
	 * act is a plain read here (daemon_may_act), written only there.
	 */
	struct dcluster		*cluster;
	/* The quorum of vantage points (daemon_quorum.c); NULL alone: then
	 * the engine decides from this member's health only. */
	struct dquorum		*quorum;
	const struct eng_quorum	*qview;		/* cfg->nstack, or NULL */
	bool			 cl_acting;	/* elected, digest agreed */
	uint64_t		 cl_epoch;	/* of the last leadership */
	int64_t			 cl_valid_until_us; /* CLOCK_BOOTTIME */
	bool			 cl_resigning;	/* revoke in flight, stopping */
	bool			 cl_resign_due;	/* stopping: resign once idle */
	/*
	 * In a cluster, the group commit's first step (daemon_act.c):
	 * write n groups' encoded states to etcd, fenced on our leader key;
	 * done(d, 0, gen) once etcd took all of them, done(d, err, gen) otherwise
	 * (the member then stops leading), gen handed back.  0, or -1 (no
	 * callback).
	 */
	int			(*cl_write)(struct daemon *,
				    const char *const *names,
				    char *const *blobs, const size_t *lens,
				    size_t n, void (*done)(struct daemon *,
				    int err, uint64_t gen), uint64_t gen);
	/*
	 * Operators' answers on their way to etcd with what their commands
	 * changed (daemon_cluster_cmd.c).  While cl_cmd_hold is set the
	 * group commit sends no batch, so that no batch encoded before a
	 * command (with the flags before it) lands in etcd after it; once a
	 * batch it sent is answered it calls cl_flushed (NULL: none), so
	 * that an answer held behind that batch goes.
	 */
	bool			 cl_cmd_hold;
	void			(*cl_flushed)(struct daemon *);
};

/* CLOCK_BOOTTIME in microseconds: the cluster's validity clock
 * (cluster/cl.h, cl_election.h). */
static inline int64_t
daemon_boot_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/*
 * Whether this process may start a hook or send an UPDATE now: always
 * alone; in a cluster only while it leads and its validity bound has not
 * passed (daemon_cluster.c).  Checked right before each act.
 */
static inline bool
daemon_may_act(const struct daemon *d)
{
	if (d->cluster == NULL)
		return true;
	return d->cl_acting && daemon_boot_us() < d->cl_valid_until_us;
}

/* The epoch in our ownership TXT and hooks' FAILOVER_EPOCH; 0 alone. */
static inline uint64_t
daemon_epoch(const struct daemon *d)
{
	return d->cluster != NULL ? d->cl_epoch : 0;
}

/* The group's name in the configuration in force. */
static inline const char *
dgroup_name(const struct dgroup *g)
{
	return g->d->cfg->groups[g->idx].name;
}

/* Both clocks (clock.h) in one, for eng_step(). */
static inline struct eng_now
daemon_now(void)
{
	struct eng_now now = { clock_wall_ms(), clock_mono_ms() };

	return now;
}

/* The engine's view of the world, valid until the next reload. */
static inline void
daemon_world(struct daemon *d, struct eng_world *w)
{
	w->cfg = d->cfg;
	w->health = d->health;
	w->quorum = d->qview;
	w->witness = d->witness;
	w->dry_run = d->dry_run;
	w->stopping = d->stopping;
}

/* A group by name in the configuration in force; NULL if gone. */
static inline struct dgroup *
daemon_group_find(struct daemon *d, const char *name)
{
	const struct cfg_group *cg = config_group_find(d->cfg, name);

	return cg == NULL ? NULL : &d->groups[cg - d->cfg->groups];
}

/* Feed one event to a group's engine and carry out its actions. */
void	 dgroup_feed(struct dgroup *, const struct eng_event *);
/* Probe each stack as standby or active after roles changed. */
void	 daemon_update_roles(struct daemon *);
/* The same for one stack (its groups only). */
void	 daemon_update_stack_role(struct daemon *, int stack);
/* Feed ENG_EV_EVALUATE to every group. */
void	 daemon_evaluate_all(struct daemon *);

/* daemon_act.c: timers of a group. */
int	 dgroup_timers_init(struct dgroup *);
void	 dgroup_timers_free(struct dgroup *);
void	 dgroup_timer_set(struct dgroup *, int kind, int64_t at_ms);
/* Stop the loop once stopping and nothing is in flight. */
void	 daemon_maybe_exit(struct daemon *);
/* Stop as SIGTERM does, but exit with status 1 (a fault found running). */
void	 daemon_stop_failed(struct daemon *, const char *why);

/* Event priorities: DAEMON_PRIO_* in guard.h. */

/* Group commit (daemon_act.c): queued steps committed once per turn. */
int	 daemon_flush_init(struct daemon *);
void	 daemon_flush_free(void);
void	 daemon_flush_schedule(struct daemon *);
/* Commit and carry out every queued step now. */
void	 daemon_flush(struct daemon *);
/*
 * Drop every queued step, uncommitted and not carried out: a start that
 * failed leaves the state as it found it.
 */
void	 daemon_flush_discard(struct daemon *);
/* A batch is being written to etcd, or steps are queued. */
bool	 daemon_flush_busy(void);
/* A batch is on its way to etcd (cl_write called, done not yet). */
bool	 daemon_flush_sending(void);
/* Stack health snapshots written with the flush (daemon_act.c). */
bool	 health_dirty_any(const struct daemon *);
void	 health_dirty_write(struct daemon *, struct store_txn *);
void	 health_dirty_clear(struct daemon *);

/* Feed an event to the group of that name after ms (0: next loop turn). */
void	 daemon_defer_event(struct daemon *, const char *group,
	    const struct eng_event *, int64_t ms);
void	 daemon_defers_free(void);
void	 probelog_sync(struct daemon *);

/* The probe log: raw outcomes in runs, flushed in batches (replay). */
struct probe_result;
void	 probelog_note(struct daemon *, int stack, const struct probe_result *);
int	 probelog_start(struct daemon *);
void	 probelog_stop(struct daemon *);
/* The log is near its bound: prune now, not at the next period. */
void	 daemon_retention_urgent(struct daemon *);

/* daemon_dns.c */
/* Read a group's record for the world (daemon_record_read answers);
 * -1 when it cannot be asked. */
int	 ddns_read_record(struct dgroup *);
/* daemon.c: what the record holds (NULL: it could not be read; refused:
 * the server answered, refusing this controller). */
struct dnsup_rrset;
void	 daemon_record_read(struct dgroup *, const struct dnsup_rrset *,
	    bool refused);
void	 ddns_update(struct dgroup *, const struct eng_action *);
void	 ddns_verify_all(struct daemon *);
/*
 * What the DNS glue hands back up, given to it rather than called by name
 * so that calls go one way: daemon.c -> daemon_act.c -> daemon_dns.c, and
 * an answer climbs back only through these.
 */
struct ddns_host {
	/* An answer, a drift: to the group's engine (dgroup_feed). */
	void	(*feed)(struct dgroup *, const struct eng_event *);
	/* The same on a later loop turn (daemon_defer_event). */
	void	(*defer)(struct daemon *, const char *group,
		    const struct eng_event *, int64_t ms);
	/* A group's record read for the world (daemon_record_read). */
	void	(*record_read)(struct dgroup *, const struct dnsup_rrset *,
		    bool refused);
	/* Something in flight ended (daemon_maybe_exit). */
	void	(*maybe_exit)(struct daemon *);
	/* A newer epoch of this controller holds a group's name: another
	 * cluster member leads (dcluster_fenced). */
	void	(*fenced)(struct daemon *, const char *group,
		    const char *detail);
};
/* Open (or at a reload replace) the DNS engine, answering through host. */
int	 ddns_engine_open(struct daemon *, const struct ddns_host *host,
	    char *err, size_t errlen);
/* The records a stack publishes for a group's address, "CNAME x." ... */
void	 ddns_describe(const struct daemon *, int stack, uint32_t ttl,
	    char *buf, size_t len);

/* daemon_world.c: the runtime objects, and the world built from the
 * committed state, the configuration and the published records. */
/*
 * What a reload builds from: the objects of the configuration it
 * replaces, and each group's state encoded against that configuration
 * (blobs[i], lens[i]).  NULL at start: there is nothing to carry.
 */
struct world_old {
	const struct config	*cfg;
	struct dstack		*stacks;	/* cfg->nstack */
	struct dgroup		*groups;	/* cfg->ngroup */
	const struct health	*health;	/* cfg->nstack */
	char			**blobs;
	const size_t		*lens;
};

enum probe_mode;
enum probe_mode daemon_stack_mode(const struct health *);
int	 world_build(struct daemon *, const struct world_old *old);
/*
 * A cluster member became the leader: every group's state loaded again
 * (from the states etcd holds, else from the store) and its record read
 * back (claimed), as at a start.  states may be NULL.
 */
struct world_states {
	size_t			 n;
	const char *const	*names;
	const char *const	*blobs;
	const size_t		*lens;
};
void	 world_take_over(struct daemon *, const struct world_states *);
void	 world_resume(struct daemon *);
void	 world_read(struct daemon *, struct dgroup *);
void	 world_reread(struct daemon *);
int	 stacks_start(struct daemon *);
void	 stacks_free(struct dstack *, size_t n);
void	 groups_free(struct dgroup *, size_t n);
int	 witnesses_start(struct daemon *);
void	 witnesses_free(struct daemon *, size_t n);

/* daemon.c: take the groups made at run time in from the store. */
void	 daemon_groups_sync(struct daemon *);
/* daemon_cluster.c: the member, the election, the digest. */
int	 dcluster_open(struct daemon *, char *err, size_t errlen);
void	 dcluster_resign(struct daemon *);
/* After a reload: the digest again, published; judged again. */
void	 dcluster_reload(struct daemon *);
void	 dcluster_close(struct daemon *);
void	 dcluster_fenced(struct daemon *, const char *group,
	    const char *detail);
struct json_t;
struct json_t *dcluster_json(struct daemon *);
void	 dcluster_metrics(struct daemon *, int *leader, int64_t *epoch,
	    size_t *members);

/* daemon_api.c: what the shell lends the API (face/api.h). */
struct api_host;
void	 daemon_api_host(struct daemon *, struct api_host *);

/* address.c: resolve `address = auto` through the store. */
/* Find or allocate the label of group in the store. */
int	 address_label_alloc(struct store *, const char *group, int64_t now_ms,
	    char *label, size_t len, char *err, size_t errlen);
int	 address_resolve(struct daemon *, struct dgroup *, char *err,
	    size_t errlen);

/* What a running hook answers to. */
enum hctx_kind {
	HCTX_SEQUENCE = 0,
	HCTX_PRECHECK,
	HCTX_STATUS,
};
/* daemon_hooks.c: run the hook of action A (a HOOK, PRECHECK or STATUS). */
void	 daemon_run_hook(struct dgroup *, const struct eng_action *a,
	    enum hctx_kind kind, const char *status, const char *sw_id);
/* daemon_act.c: a stack's name, "-" for none. */
const char *daemon_sname(const struct daemon *, int stack);
/* daemon_orphans.c: end the hooks a killed daemon left running. */
void	 daemon_orphans_kill(struct daemon *);
/* daemon_flags.c */
/* Log what another process added to the history since the last poll. */
void	 daemon_history_seen(struct daemon *, struct store_txn *);
/* Read the override flags and feed what changed to the engines. */
void	 daemon_flags_apply(struct daemon *);
/* After a start or reload: RESUME to every group (evtimer). */
void	 daemon_resume_cb(evutil_socket_t, short, void *);
/* daemon_reload.c */
/* The run-time groups' text in the store (caller frees); NULL: logged. */
char	*daemon_groups_text(struct daemon *);
/* BASE with the run-time groups of TEXT; NULL when one does not fit
 * (logged as EVENT; PARTIAL: keep the others). */
struct config *daemon_groups_derive(struct daemon *, const struct config *base,
	    const char *text, const char *event, bool partial);
/* Reload the configuration file now. */
void	 daemon_reload(struct daemon *);

#endif
