/*
 * engine.h - the decision engine: a pure state machine per failover group.
 *
 * eng_step() takes one group's state (struct eng_group, plain data the
 * daemon persists), a read-only view of the world (struct eng_world: the
 * configuration, the health of every stack, the witnesses), one event and
 * the current time, and returns the new state in place plus a list of
 * actions in struct eng_out.  It does no I/O, reads no clock, keeps no
 * globals, logs nothing and allocates nothing.  The daemon, --dry-run and
 * `failoverd simulate` all drive this one engine.
 *
 * Time.  Every step is handed two clocks (struct eng_now), read by the
 * caller, never by the engine:
 *   wall_ms  milliseconds since the Unix epoch (the simulator: virtual ms
 *            from 0).  Only for persisted facts: switch ids, the start of
 *            the last switch (hold_down's reference across a restart), the
 *            stamps in the journal and the history, a request's age.
 *   mono_ms  a monotonic clock (CLOCK_MONOTONIC; the simulator: the same
 *            virtual ms).  Every relative deadline: the DNS retry backoff
 *            (dns_retry_ms), the precheck's next ask (precheck_next_ms),
 *            hold_down within a run (last_switch_mono), the durations of
 *            phases and switches, and every SET_TIMER's at_ms.
 * A step of the wall clock therefore moves no deadline: a clock set back
 * an hour after promote does not leave the flip waiting an hour, and a
 * clock set forward does not cut hold_down short while the daemon runs.
 * A monotonic value means nothing in another boot, so ENG_EV_RESUME
 * rebases them: the retry and precheck deadlines are cleared (ask and send
 * at once), and hold_down's reference is rebuilt from the persisted wall
 * time of the last switch (a wall clock now behind that time counts as
 * "the switch happened just now": hold_down is held in full, and never
 * longer).  Across a restart, a wall clock set forward while the daemon
 * was down shortens hold_down by as much: the wall clock is all that a
 * restart has.
 *
 * Stacks are indexes into cfg->stacks; -1 (ENG_NONE) means none.  Groups
 * are indexes into cfg->groups.  Indexes are only valid for one struct
 * config: across a reload, encode the state with the old configuration and
 * decode it with the new one (engine_codec.h), which maps names to the new
 * indexes.
 *
 * THE CONTRACT BETWEEN ACTIONS AND THE DAEMON
 *
 * The daemon executes the actions of one eng_step() in order:
 *
 *   ENG_ACT_RECORD        append an event to the history (and log it at the
 *                         record's level).  Records are buffered until the
 *                         next PERSIST of the same call.
 *   ENG_ACT_PERSIST       commit, in ONE durable LMDB transaction, the group
 *                         state as returned by this call (eng_group_encode)
 *                         together with every RECORD buffered so far.  Only
 *                         when that commit succeeded may the following
 *                         actions run.  (Dry-run and simulate: no-op.)
 *   ENG_ACT_RUN_HOOK      start a sequence hook; answer with
 *                         ENG_EV_HOOK_DONE (same phase and attempt).
 *   ENG_ACT_RUN_PRECHECK  start the standby's precheck hook; answer with
 *                         ENG_EV_PRECHECK_DONE.
 *   ENG_ACT_DNS_UPDATE    send the UPDATE; answer with ENG_EV_DNS_DONE
 *                         carrying the same ticket.
 *   ENG_ACT_SET_TIMER     (re)arm the group's one timer of that kind at the
 *                         given absolute time on the MONOTONIC clock
 *                         (replacing an earlier one of the same kind);
 *                         when it fires send ENG_EV_TIMER.
 *   ENG_ACT_STATUS_CHANGE a stack's FAILOVER_STATUS for this group changed
 *                         (online/offline): run the group's on_status_change
 *                         hook when it has one (hook may be NULL), no answer.
 *
 * Shape of every output: zero or more RECORDs, then at most one PERSIST,
 * then the side effects (RUN_HOOK, RUN_PRECHECK, DNS_UPDATE, STATUS_CHANGE,
 * SET_TIMER).  A PERSIST is emitted whenever the state changed or a RECORD
 * was emitted, so "before a phase starts and after it ends the journal is
 * committed" holds: a phase is marked running in the committed state
 * before its hook is spawned, and its end is committed (together with the
 * start of the next phase) before the next hook is spawned.  If nothing was
 * emitted the call changed nothing.
 *
 * Stopping (world.stopping).  While the daemon stops (SIGTERM) it starts
 * nothing new, so the engine starts nothing new either: the end of a
 * running phase is still journaled, but the next phase is left not
 * running with attempt 0 (the restart runs it as attempt 1: the attempt
 * counts the times a phase was started); no switch, precheck or UPDATE
 * other than a flip's answer is begun.  A switch command is refused
 * (stopping).
 *
 * In dry-run, the daemon performs no side effect: it logs each RUN_HOOK /
 * DNS_UPDATE and answers at once with HOOK_DONE ok (exit 0), PRECHECK_DONE
 * ok and DNS_DONE ok, on a scratch state.
 *
 * EVENTS (struct eng_event)
 *
 *   ENG_EV_RESUME        once per group at daemon start, after the state
 *                        was loaded from the store (or eng_group_init()ed).
 *                        An unfinished switch continues: the phase that was
 *                        running when the daemon died runs again with
 *                        attempt + 1 and the same switch id, a finished
 *                        phase never runs again, a phase journaled as next
 *                        but never started runs as attempt 1; an UPDATE
 *                        that was in flight is sent again.  The monotonic
 *                        deadlines are rebased (see Time).  Then the gates and the
 *                        record are evaluated (publishing the record if it
 *                        was never published).
 *   ENG_EV_EVALUATE      re-check the gates and the wanted record: after
 *                        the witness state changed, after override flags
 *                        were read, after a reload.  Cheap; idempotent.
 *   ENG_EV_HEALTH        a stack's health changed (stack, change).  Deliver
 *                        it to every group that has the stack; with
 *                        isolation_check the gate also looks at every other
 *                        stack, so on a state change (HEALTH_CHANGED) either
 *                        deliver it to every group or send ENG_EV_EVALUATE
 *                        to the groups whose active stack is down.  The
 *                        world's health[] must already hold the new state.
 *                        HEALTH_SAME need not be delivered.
 *   ENG_EV_PRECHECK_DONE the precheck finished: ok (exit 0) or not
 *                        (non-zero exit, timeout, spawn error).
 *   ENG_EV_HOOK_DONE     a sequence hook finished: phase, attempt, outcome
 *                        (ok: exit 0; failed; timeout), exit code, duration.
 *                        An answer that does not match the running phase
 *                        and attempt is ignored (nothing emitted).
 *   ENG_EV_DNS_DONE      the UPDATE with this ticket was accepted (ok) or
 *                        not (error name such as "NOTAUTH", "BADKEY",
 *                        "timeout"; retryable false for errors that a retry
 *                        will not cure, which are retried anyway but
 *                        recorded at error level).  Stale tickets are
 *                        ignored.  The answer is also the server's
 *                        verdict on the group's DNS (the dns_unusable
 *                        gate) unless no_verdict (the UPDATE was
 *                        cancelled or could not be sent: the server said
 *                        nothing).
 *   ENG_EV_DNS_DRIFT     the daemon read the record back and it is not
 *                        what the engine believes published: the engine
 *                        forgets what it published and sends it again.
 *   ENG_EV_DNS_VERDICT   the server judged the group's DNS outside an
 *                        UPDATE of the engine's (an ownership check of
 *                        the name read back): accepted, or refused with
 *                        a reason, final when a retry cannot cure it.
 *   ENG_EV_TIMER         a timer of this kind fired.  Spurious or stale
 *                        timers are harmless.
 *   ENG_EV_CMD           an operator command (pause, resume, pin, unpin,
 *                        rearm, switch).  eng_step() returns 0 when it was
 *                        applied or a positive ENG_REFUSE_* when refused
 *                        (and records cmd_refused).  A request (switch,
 *                        rearm) carries the wall time it was made
 *                        (requested_ms, 0: now): one older than the
 *                        controller's request_ttl (or made more than
 *                        request_ttl "in the future": the clock went back,
 *                        its age is unknown) is not applied but recorded
 *                        as request_expired (ENG_REFUSE_EXPIRED).  Every
 *                        record of a command carries its actor
 *                        ("uid:NAME", "api:ADDR") when one is given.  Check first with
 *                        eng_cmd_check(): failoverctl and the HTTP API call
 *                        that one function to answer the operator.
 *
 * STATUSES
 *
 *   RESERVED    the group has no stacks: nothing is published, nothing runs.
 *   SERVING     traffic on `active`; automatic failover armed.
 *   SWITCHING   running phase sw.phase of switch sw.id (restore included).
 *   FAILED      a hook aborted the sequence; traffic unchanged; automation
 *               stopped until an operator acts (rearm, resume or switch).
 *   WAIT_REARM  after a completed switch: traffic on the new `active`, the
 *               old one is `standby`, but its database is no replica any
 *               more, so automation will neither fail back nor over until
 *               `rearm` confirms the old stack was rebuilt as standby.
 *
 * GATES of an automatic failover, checked in this order; the first that
 * holds is recorded as gate_held reason=NAME when it differs from the last
 * one recorded (not on every probe), and hold_cleared when the active stack
 * is no longer down:
 *   active down (no record: nothing to do), failed, wait_rearm,
 *   auto_failover_off, paused, pinned, witness_down / witness_unknown
 *   (witnesses configured and none answers / none answered yet), isolated
 *   (isolation_check = yes and every stack of the WHOLE configuration is
 *   down), no_standby, standby_not_up, standby_suspect (up but its last
 *   probe failed: wait for the next), hold_down (a switch started less
 *   than hold_down ago), precheck_pending (the standby's precheck hook was
 *   started, no answer yet), precheck_failed (it said no; asked again at
 *   most once per the standby's interval, via a GATE timer, silently while
 *   the answer stays no), dns_unusable (eng_dns_unusable(): the flip
 *   would surely be refused, so the hooks must not run; recorded with the
 *   reason, e.g. gate_held reason=dns_unusable dns=BADKEY).  In a
 *   cluster (world.quorum) "active down" is the quorum's decision, and
 *   no_quorum holds first while some live member sees the active stack
 *   down without the quorum (recorded with who sees what), and in place
 *   of standby_not_up while the standby has no decision.  The switch
 *   starts in the step that sees the last gate pass (for a precheck: in
 *   its PRECHECK_DONE ok).
 *
 * DNS VERDICT.  Every DNS_DONE (unless no_verdict) and DNS_VERDICT updates
 * dns_error; dns_unusable and dns_usable are recorded when the gate's
 * verdict changes, and gate_held again when the gate holds for another
 * reason than the one recorded (unchecked, then BADKEY).  While the last verdict is a refusal and no UPDATE is
 * in flight, the engine sends the wanted record again (even when it
 * believes the server has it), with the DNS backoff: that UPDATE is the
 * check that opens the gate once the server accepts again, so a refusal
 * never holds for good after its cause is gone.
 *
 * TTL.  While the group serves (SERVING, WAIT_REARM, FAILED) the wanted
 * record is the active stack with TTL suspect_ttl when the active stack is
 * suspect (up, with a failure run started) or down, and ttl otherwise.
 * Damped: once lowered, the TTL goes back to ttl only when the stack has
 * had no failure for ENG_TTL_SETTLE_ROUNDS of its intervals (or rise, if
 * more), so that a stack flapping faster than fall does not cost two
 * UPDATEs per flap; a GATE timer evaluates again when that time is up.  No
 * TTL update is sent while a switch runs; the flip uses ttl and forgets
 * an UPDATE still in flight (the flip is never held behind one).
 *
 * POLICIES.  maintenance_on fails -> recorded, sequence continues;
 * replication_off, promote or maintenance_off fails or times out -> the
 * sequence aborts, traffic unchanged.  When maintenance_on had succeeded,
 * the old stack (sw.from, still active) was put in maintenance by us: the
 * abort then runs that stack's maintenance_off hook as phase `restore`
 * (journaled like any other phase: resumed with attempt + 1 after a
 * crash), and when it ends (ok or not) switch_failed is recorded with
 * restore=ok|failed; without it restore=none (maintenance_on failed or had
 * no hook), off (group restore_on_abort = no) or no_hook (the old stack
 * has no maintenance_off hook).  Status FAILED.  The dns phase is retried
 * with exponential backoff (1 s, 2 s, 4 s ... capped at 30 s) until
 * accepted.  A phase whose stack has no hook configured is skipped
 * (phase_skipped reason=no_hook).  Manual switches: refused when the
 * target is the active stack, when a switch runs, when the target is not
 * up (unless force), when the group is pinned to another stack (unless
 * force), and when the group's DNS is unusable (dns_unusable, unless
 * force); paused only stops automation.
 */
#ifndef FAILOVERD_ENGINE_H
#define FAILOVERD_ENGINE_H

/* Failure-free intervals before a lowered TTL is restored (see TTL). */
#define ENG_TTL_SETTLE_ROUNDS	10

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "controller/core/health.h"
#include "controller/core/quorum.h"

#define ENG_NONE	(-1)
#define ENG_ID_MAX	128	/* switch id "<group>-<ms>", truncated */
#define ENG_KV_MAX	12	/* fields per record */
#define ENG_VAL_MAX	96	/* bytes per field value, truncated */
#define ENG_ACT_MAX	32	/* actions per step: enough for any event */

#define ENG_DNS_BACKOFF_MIN_MS	1000
#define ENG_DNS_BACKOFF_MAX_MS	30000
#define ENG_DNS_REASON_MAX	24	/* "BADKEY", "not_owner", truncated */
#define ENG_DNS_UNUSABLE_RUN	3	/* transient refusals in a row that
					   make the DNS unusable */

enum eng_status {
	ENG_RESERVED = 0,
	ENG_SERVING,
	ENG_SWITCHING,
	ENG_FAILED,
	ENG_WAIT_REARM,
};

/* The phases of a switch, in order. */
enum eng_phase {
	ENG_PH_MAINT_ON = 0,	/* hook of `from` */
	ENG_PH_REPL_OFF,	/* hook of `to` */
	ENG_PH_PROMOTE,		/* hook of `to` */
	ENG_PH_MAINT_OFF,	/* hook of `to` */
	ENG_PH_DNS,		/* failoverd's own UPDATE */
	ENG_PH_DONE,
	ENG_PH_RESTORE,		/* after an abort: maintenance_off of `from` */
};
#define ENG_NPHASE_HOOK	4	/* the four hook phases of a sequence */
#define ENG_NPHASE	(ENG_PH_RESTORE + 1)

enum eng_reason {
	ENG_REASON_AUTO = 0,
	ENG_REASON_MANUAL,
};

enum eng_witness {
	ENG_WITNESS_UNKNOWN = 0,	/* no witness answered or failed yet */
	ENG_WITNESS_OK,			/* at least one answers */
	ENG_WITNESS_DOWN,		/* none answers */
};

enum eng_gate {
	ENG_GATE_NONE = 0,
	ENG_GATE_FAILED,
	ENG_GATE_WAIT_REARM,
	ENG_GATE_AUTO_OFF,
	ENG_GATE_PAUSED,
	ENG_GATE_PINNED,
	ENG_GATE_WITNESS_DOWN,
	ENG_GATE_WITNESS_UNKNOWN,
	ENG_GATE_ISOLATED,
	ENG_GATE_NO_STANDBY,
	ENG_GATE_STANDBY_NOT_UP,
	ENG_GATE_STANDBY_SUSPECT,	/* up, but its last probe failed */
	ENG_GATE_HOLD_DOWN,
	ENG_GATE_PRECHECK_PENDING,	/* asked, no answer yet */
	ENG_GATE_PRECHECK_FAILED,
	ENG_GATE_DNS_UNUSABLE,		/* the flip would be refused */
	ENG_GATE_NO_QUORUM,		/* in a cluster: some members see the
					   stack down (or the standby up),
					   too few for the quorum */
};

/* Refusals of an operator command (positive; 0 = accepted). */
enum eng_refusal {
	ENG_OK = 0,
	ENG_REFUSE_NO_STACKS = 1,	/* the group has no stacks */
	ENG_REFUSE_NOT_IN_GROUP,	/* the stack is not one of the group's */
	ENG_REFUSE_NO_STANDBY,		/* switch without --to, no standby */
	ENG_REFUSE_ALREADY_ACTIVE,	/* target is the active stack */
	ENG_REFUSE_SWITCH_RUNNING,
	ENG_REFUSE_TARGET_NOT_UP,	/* needs --force */
	ENG_REFUSE_PINNED,		/* pinned elsewhere; needs --force */
	ENG_REFUSE_NOTHING_TO_REARM,	/* rearm outside wait_rearm/failed */
	ENG_REFUSE_EXPIRED,		/* older than request_ttl */
	ENG_REFUSE_STOPPING,		/* the daemon is stopping */
	ENG_REFUSE_DNS_UNUSABLE,	/* gate dns_unusable; needs --force */
};

/* Errors of misuse (negative). */
#define ENG_E_INVAL	(-1)		/* bad index or event */

/* One switch.  Kept after it ends, for status and history. */
struct eng_switch {
	char		 id[ENG_ID_MAX];	/* "" if never switched */
	int		 from, to;
	enum eng_reason	 reason;
	bool		 force;
	enum eng_phase	 phase;			/* current (or where it failed;
						   restore after an abort) */
	bool		 running;		/* phase started, end not journaled */
	int		 attempt;		/* times the phase was started */
	bool		 maint_on_ok;		/* maintenance_on succeeded */
	enum eng_phase	 failed_phase;		/* the phase that aborted */
	int64_t		 started_ms;		/* switch start, wall */
	int64_t		 phase_started_ms;	/* wall */
	int64_t		 ended_ms;		/* wall, 0 while running */
	int64_t		 started_mono;		/* the same, monotonic: */
	int64_t		 phase_started_mono;	/*   durations */
};

/*
 * A group's state.  Plain data: copy it, compare it, persist it with
 * eng_group_encode().  Initialise with eng_group_init() only.
 */
struct eng_group {
	int		 group;		/* index in cfg->groups */
	enum eng_status	 status;
	int		 active;	/* takes the traffic (ENG_NONE: reserved) */
	int		 standby;	/* ENG_NONE: no backup */
	bool		 paused;
	int		 pinned;	/* stack, or ENG_NONE */
	bool		 has_switched;
	int64_t		 last_switch_ms;	/* start of the last switch, wall */
	int64_t		 last_switch_mono;	/* the same, monotonic (RESUME
						   rebases it): hold_down */
	int		 nswitch;		/* switches started, ever */
	enum eng_gate	 held;		/* last gate recorded */
	struct eng_switch sw;

	/* The record: what the server accepted, what is wanted. */
	int		 pub_stack;	/* ENG_NONE: never published / forgotten */
	uint32_t	 pub_ttl;
	int		 want_stack;
	uint32_t	 want_ttl;
	uint32_t	 dns_ticket;	/* of the UPDATE in flight, 0: none */
	int		 dns_sent_stack;	/* what that UPDATE carries */
	uint32_t	 dns_sent_ttl;
	uint32_t	 dns_last_ticket;
	int		 dns_failures;	/* consecutive */
	int64_t		 dns_retry_ms;	/* no resend before (monotonic) */
	int		 online;	/* stack last announced online */
	/*
	 * The server's last verdict on this group's DNS (an UPDATE's answer
	 * or an ownership check): "" accepted, or never judged; else why it
	 * was refused, whether a retry cannot cure it, and how many verdicts
	 * in a row were refusals.  See eng_dns_unusable().
	 */
	char		 dns_error[ENG_DNS_REASON_MAX];
	bool		 dns_error_final;
	int		 dns_error_run;
	bool		 dns_checked;	/* a verdict came since RESUME */

	/* Precheck of the standby. */
	bool		 precheck_running;
	bool		 precheck_ok;	/* within one step only; false between */
	int64_t		 precheck_next_ms;	/* monotonic */
	int		 precheck_exit;
};

/*
 * In a cluster, the members' views of one stack through the quorum rule
 * (core/quorum.h), decided by the caller from the verdicts it holds: the
 * engine only reads the decision.  Names are comma lists, sorted, "-"
 * for none, truncated to fit.
 */
struct eng_quorum {
	enum quorum_decision	 decision;
	size_t			 required, live;
	size_t			 up, down, unknown;	/* among the live */
	char			 seen_up[ENG_VAL_MAX];
	char			 seen_down[ENG_VAL_MAX];
	char			 seen_unknown[ENG_VAL_MAX];
};

/* The world as the engine sees it: borrowed, read only. */
struct eng_world {
	const struct config	*cfg;
	const struct health	*health;	/* cfg->nstack entries */
	/*
	 * NULL alone.  In a cluster (cfg->nstack entries): a stack is down
	 * for the gates only when its decision is down and up only when it
	 * is up; the active stack seen down by some live member but not by
	 * the quorum holds with gate no_quorum, and so does a standby with
	 * no decision.  The TTL, the suspect gate and manual switches go by
	 * this member's own health.
	 */
	const struct eng_quorum	*quorum;
	enum eng_witness	 witness;	/* ignored without witnesses */
	bool			 dry_run;
	bool			 stopping;	/* start nothing new (SIGTERM) */
};

/* The two clocks of a step (see "Time" above). */
struct eng_now {
	int64_t		 wall_ms;	/* Unix epoch: persisted facts */
	int64_t		 mono_ms;	/* monotonic: deadlines, durations */
};

enum eng_event_kind {
	ENG_EV_RESUME = 0,
	ENG_EV_EVALUATE,
	ENG_EV_HEALTH,
	ENG_EV_PRECHECK_DONE,
	ENG_EV_HOOK_DONE,
	ENG_EV_DNS_DONE,
	ENG_EV_DNS_DRIFT,
	ENG_EV_TIMER,
	ENG_EV_CMD,
	ENG_EV_DNS_VERDICT,
};

enum eng_hook_outcome {
	ENG_HOOK_OK = 0,
	ENG_HOOK_FAILED,	/* non-zero exit, killed, could not spawn */
	ENG_HOOK_TIMEOUT,	/* hook_timeout reached */
};

enum eng_timer {
	ENG_TIMER_DNS = 0,	/* retry the UPDATE */
	ENG_TIMER_GATE,		/* hold_down expiry, precheck re-ask, the
				   suspect TTL's restoration (only
				   evaluates: any of them may come early) */
};
#define ENG_NTIMER	2

enum eng_cmd_kind {
	ENG_CMD_PAUSE = 0,
	ENG_CMD_RESUME,
	ENG_CMD_PIN,		/* stack: the stack to stay on */
	ENG_CMD_UNPIN,
	ENG_CMD_REARM,
	ENG_CMD_SWITCH,		/* stack: target, ENG_NONE = the standby */
};

#define ENG_ACTOR_MAX	64

struct eng_cmd {
	enum eng_cmd_kind	 kind;
	int			 stack;
	bool			 force;
	int64_t			 requested_ms;	/* wall; 0: made now */
	char			 actor[ENG_ACTOR_MAX];	/* "uid:root", "" */
};

struct eng_event {
	enum eng_event_kind	 kind;
	union {
		struct {		/* HEALTH */
			int			stack;
			enum health_change	change;
		} health;
		struct {		/* PRECHECK_DONE */
			bool		ok;
			int		exit_code;	/* -1: signal/timeout */
		} precheck;
		struct {		/* HOOK_DONE */
			enum eng_phase		phase;
			int			attempt;
			enum eng_hook_outcome	outcome;
			int			exit_code;
			int64_t			duration_ms;
		} hook;
		struct {		/* DNS_DONE */
			uint32_t	ticket;
			bool		ok;
			bool		retryable;
			const char	*error;		/* borrowed, "timeout" */
			bool		no_verdict;	/* not the server's
							   answer (cancelled,
							   internal): leaves
							   the gate alone */
		} dns;
		struct {		/* DNS_VERDICT */
			bool		ok;		/* accepted */
			bool		final;		/* a retry will not
							   cure it */
			const char	*reason;	/* borrowed, "not_owner" */
		} verdict;
		enum eng_timer		timer;		/* TIMER */
		struct eng_cmd		cmd;		/* CMD */
	} u;
};

enum eng_action_kind {
	ENG_ACT_RECORD = 0,
	ENG_ACT_PERSIST,
	ENG_ACT_RUN_HOOK,
	ENG_ACT_RUN_PRECHECK,
	ENG_ACT_DNS_UPDATE,
	ENG_ACT_SET_TIMER,
	ENG_ACT_STATUS_CHANGE,
};

enum eng_level {
	ENG_LVL_INFO = 0,
	ENG_LVL_WARN,
	ENG_LVL_ERROR,
};

enum eng_dns_why {
	ENG_DNS_PUBLISH = 0,	/* first publication, or after drift */
	ENG_DNS_FLIP,		/* the dns phase of a switch */
	ENG_DNS_TTL,		/* same stack, TTL lowered or restored */
	ENG_DNS_CHECK,		/* the same record again: its answer is the
				   verdict (after RESUME, after a refusal) */
};

enum eng_online {
	ENG_STATUS_NONE = 0,
	ENG_STATUS_ONLINE,
	ENG_STATUS_OFFLINE,
};

struct eng_kv {
	const char	*key;			/* static string */
	char		 val[ENG_VAL_MAX];
};

struct eng_action {
	enum eng_action_kind	 kind;
	union {
		struct {		/* RECORD */
			const char	*name;	/* static: "switch_started" */
			enum eng_level	 level;
			int		 nkv;
			struct eng_kv	 kv[ENG_KV_MAX];
		} rec;
		struct {		/* RUN_HOOK, RUN_PRECHECK */
			enum eng_phase		 phase;	/* RUN_HOOK only */
			int			 stack;	/* FAILOVER_STACK */
			int			 from, to;
			char			 id[ENG_ID_MAX]; /* "" for precheck */
			int			 attempt;
			enum eng_reason		 reason;
			bool			 dry_run;
			const struct cfg_hook	*hook;	/* borrowed from cfg */
			int64_t			 timeout_ms;
		} hook;
		struct {		/* DNS_UPDATE */
			int		 stack;		/* new target */
			int		 prev;		/* what we believe is there,
							   ENG_NONE: unknown */
			uint32_t	 ttl;		/* seconds */
			enum eng_dns_why why;
			uint32_t	 ticket;
		} dns;
		struct {		/* SET_TIMER */
			enum eng_timer	 timer;
			int64_t		 at_ms;
		} timer;
		struct {		/* STATUS_CHANGE */
			int			 stack;
			enum eng_online		 status;
			const struct cfg_hook	*hook;	/* NULL: none */
		} status;
	} u;
};

struct eng_out {
	size_t			 n;
	struct eng_action	 a[ENG_ACT_MAX];
};

/*
 * Initialise the state of group index `group` of cfg: SERVING on the
 * primary (RESERVED when it has none), nothing published yet, not paused
 * (paused when `paused`, for --paused).  Returns 0 or ENG_E_INVAL.
 */
int	 eng_group_init(struct eng_group *, const struct config *, int group,
	    bool paused);

/*
 * Feed one event.  Updates *g in place and fills *out (reset first).
 * Returns 0, a positive enum eng_refusal for a refused ENG_EV_CMD, or
 * ENG_E_INVAL (state untouched, nothing emitted).
 */
int	 eng_step(struct eng_group *g, const struct eng_world *w,
	    const struct eng_event *ev, struct eng_now now, struct eng_out *out);

/*
 * Would this operator command be accepted now?  0 or an enum eng_refusal.
 * The one check behind failoverctl, the HTTP API and ENG_EV_CMD.
 */
int	 eng_cmd_check(const struct eng_group *, const struct eng_world *,
	    const struct eng_cmd *);

/* What a switch would do, without doing it. */
struct eng_plan_step {
	enum eng_phase		 phase;
	int			 stack;		/* the hook acts on */
	const struct cfg_hook	*hook;		/* NULL: skipped, no hook */
};
struct eng_plan {
	int			 refusal;	/* 0 or enum eng_refusal */
	int			 from, to;
	bool			 force;
	struct eng_plan_step	 step[ENG_NPHASE_HOOK];
	uint32_t		 ttl;		/* of the new record */
	struct eng_plan_step	 restore;	/* after an abort; hook NULL:
						   none (see restore_on) */
	bool			 restore_on;	/* restore_on_abort */
};

/* Fill *plan for a CMD switch (refusal set if it would be refused). */
void	 eng_switch_plan(const struct eng_group *, const struct eng_world *,
	    const struct eng_cmd *, struct eng_plan *);
/*
 * Describe the plan in a few lines ("  1. maintenance_on on app1: argv..."
 * and the DNS change with its TTL).  snprintf semantics: returns the length
 * it needed.
 */
size_t	 eng_plan_format(const struct eng_plan *, const struct config *,
	    int group, char *buf, size_t len);

/* Names (stable: they appear in records, JSON and the CLI). */
const char *eng_status_name(enum eng_status);	/* "serving" "switching" ... */
const char *eng_phase_name(enum eng_phase);	/* "maintenance_on" ... "restore" */
const char *eng_gate_name(enum eng_gate);	/* "paused" "hold_down" ... */
const char *eng_refusal_name(int);		/* "target_not_up" ... */
const char *eng_refusal_str(int);		/* one line for the operator */
const char *eng_cmd_name(enum eng_cmd_kind);	/* "pause" ... "switch" */
const char *eng_online_name(enum eng_online);	/* "online" "offline" "none" */
const char *eng_reason_name(enum eng_reason);	/* "auto" "manual" */
const char *eng_dns_why_name(enum eng_dns_why);	/* "publish" "flip" "ttl" "check" */
const char *eng_timer_name(enum eng_timer);	/* "dns" "gate" */
const char *eng_level_name(enum eng_level);	/* "info" "warn" "error" */

/* Parse the names above back; -1 if unknown. */
int	 eng_status_parse(const char *);
int	 eng_phase_parse(const char *);
int	 eng_gate_parse(const char *);
int	 eng_cmd_parse(const char *);

/*
 * FAILOVER_STATUS of `stack` for one group (online: it takes the group's
 * traffic), as failoverctl failover-status prints it after combining
 * groups (online if online in any group, offline if in some group, none).
 */
enum eng_online eng_stack_status(const struct eng_group *, int stack);

/*
 * Why the group's DNS is unusable now (the gate dns_unusable: a switch
 * would run its hooks and then sit in its dns phase), or NULL when it is
 * usable.  Unusable: the last verdict was a refusal that a retry will not
 * cure (not_owner, BADKEY, NOTAUTH, REFUSED, ...), or the last
 * ENG_DNS_UNUSABLE_RUN verdicts were all refusals (a server that times
 * out consistently; one lost answer is not enough).
 */
const char *eng_dns_unusable(const struct eng_group *);
/*
 * What the gate dns_unusable holds an automatic switch for: the reason
 * above, or "unchecked" before the first verdict since RESUME (at start
 * the engine sends every group's record again for that verdict: a key the
 * server refuses shows only in an UPDATE's answer).  A manual switch is
 * refused for a known refusal only (eng_dns_unusable()).
 */
const char *eng_dns_gate(const struct eng_group *);

/* Look up a record field; NULL when absent. */
const char *eng_record_get(const struct eng_action *, const char *key);

#endif
