/*
 * scenario.h - the simulation scenario language (DESIGN.md "Simulation
 * scenarios"): parse a text of timed lines into a list of events.
 *
 *   at TIME STACK up|down|timeout|status N|flap DUR
 *   at TIME hook STACK PHASE fail|hang|ok [TIMES|always]
 *   at TIME dns down|up|refuse REASON
 *   at TIME witness down|up
 *   at TIME ctl VERB ARGS...
 *   at TIME member NAME stop|start
 *   at TIME end
 *
 * Members.  A scenario may model a cluster's members, each probing every
 * stack from its own vantage point, with two lines before the first `at`:
 *
 *   members NAME...            the members, the first one leading
 *   quorum majority|all|N      default: the configuration's [cluster]
 *                              quorum (majority without [cluster])
 *
 * A probe line then applies to every member, or with `@NAME` at its end
 * to that member's probes only (`at 30s app1 down @ctl-b`); a line
 * without `@` replaces every member's outcome of the stack.  `member NAME
 * stop` ends a member (its verdicts vanish, as with its lease), `start`
 * brings it back with its health unknown.  The first member leads for
 * the whole scenario and cannot stop.  The engine decides from the
 * quorum of the live members' views, as the daemon's leader does.
 *
 * TIME and DUR are durations ("0", "250ms", "30s", "10m", "2h", "1h30m").
 * `#` starts a comment.  Lines must come in time order (equal times keep
 * their order) and the scenario must end with exactly one `end`, after
 * every other line.
 *
 *   up        probes succeed (200)         down     connection refused
 *   timeout   probes time out              status N the web head answers N
 *   flap DUR  down for DUR, up for DUR, down ... from TIME on
 *
 * dns: `down` makes every UPDATE time out (transient), `refuse REASON`
 * makes the server answer it with REASON at once, a refusal a retry does
 * not cure (REFUSED, NOTAUTH, BADKEY, BADSIG, NOTZONE, or not_owner: the
 * name is not ours), `up` answers again.
 *
 * hook: PHASE is precheck, maintenance_on, replication_off, promote or
 * maintenance_off.  `fail` makes the next run of that hook on STACK exit
 * 1, `hang` makes it hang until hook_timeout; TIMES (default 1) or
 * `always` makes that many runs misbehave; `ok` cancels.
 *
 * ctl: the failoverctl verbs that steer the engine:
 *   pause GROUP|--all   resume GROUP|--all   pin GROUP STACK   unpin GROUP
 *   rearm GROUP         switch GROUP [--to STACK] [--force] [--yes] [--no-wait]
 *
 * Parsing is two steps: scn_parse() checks the grammar alone; scn_resolve()
 * then checks stack and group names against a configuration.  Every error
 * is collected as "FILE:LINE: what is wrong" (parsing goes on, at most
 * SCN_MAX_ERRORS kept).  Pure: no I/O besides scn_load() reading the file.
 */
#ifndef FAILOVERD_SCENARIO_H
#define FAILOVERD_SCENARIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "controller/core/engine.h"

#define SCN_MAX_ERRORS	50
#define SCN_ALWAYS	(-1)	/* hook misbehaves on every run */

enum scn_kind {
	SCN_PROBE = 0,
	SCN_HOOK,
	SCN_DNS,
	SCN_WITNESS,
	SCN_CTL,
	SCN_END,
	SCN_MEMBER,		/* member NAME stop|start (up) */
};

enum scn_probe {
	SCN_P_UP = 0,
	SCN_P_DOWN,
	SCN_P_TIMEOUT,
	SCN_P_STATUS,
	SCN_P_FLAP,
};

/*
 * Hook phases: the four sequence phases keep enum eng_phase's numbers;
 * then precheck, and restore (the old stack's maintenance_off after an
 * aborted sequence: "hook app1 restore fail").
 */
#define SCN_H_PRECHECK	ENG_NPHASE_HOOK
#define SCN_H_RESTORE	(ENG_NPHASE_HOOK + 1)
#define SCN_NHPHASE	(ENG_NPHASE_HOOK + 2)

enum scn_hook_act {
	SCN_H_OK = 0,
	SCN_H_FAIL,
	SCN_H_HANG,
};

struct scn_event {
	int64_t			 at_ms;
	int			 line;
	enum scn_kind		 kind;
	char			*stack;		/* PROBE, HOOK; CTL pin/--to */
	int			 stack_idx;	/* after scn_resolve, else -1 */
	/* PROBE */
	enum scn_probe		 probe;
	int			 status;	/* SCN_P_STATUS */
	int64_t			 flap_ms;	/* SCN_P_FLAP */
	/* HOOK */
	int			 hphase;	/* enum eng_phase or SCN_H_PRECHECK */
	enum scn_hook_act	 hact;
	int			 times;		/* >= 1, or SCN_ALWAYS */
	/* DNS, WITNESS */
	bool			 up;
	const char		*refuse;	/* DNS refuse: static, else NULL */
	/* CTL */
	enum eng_cmd_kind	 cmd;
	char			*group;		/* NULL with all */
	int			 group_idx;	/* after scn_resolve, else -1 */
	bool			 all;
	bool			 force;
	char			*text;		/* the ctl line as written */
	/* PROBE @NAME, MEMBER */
	char			*member;	/* NULL: every member */
	int			 member_idx;	/* after scn_resolve, else -1 */
};

struct scenario {
	char			*path;
	size_t			 n;
	struct scn_event	*ev;		/* in time order; last is END */
	int64_t			 end_ms;
	char			**members;	/* nmembers; none alone */
	size_t			 nmembers;
	bool			 has_quorum;	/* a quorum line was given */
	struct cfg_quorum	 quorum;
};

struct scn_errors {
	size_t	  n;
	char	**msg;
};

/*
 * Parse len bytes of scenario text (NUL bytes are an error).  path names
 * it in messages.  Returns 0 and *out (caller scn_free()s), or -1 with
 * the errors appended to errs (caller scn_errors_free()s) and *out NULL.
 */
int	 scn_parse(const char *path, const char *buf, size_t len,
	    struct scenario **out, struct scn_errors *errs)
	    __attribute__((warn_unused_result));
/* Read the file and scn_parse() it; a file that cannot be read is an error. */
int	 scn_load(const char *path, struct scenario **out,
	    struct scn_errors *errs) __attribute__((warn_unused_result));
/*
 * Resolve stack and group names against cfg (unknown names are errors,
 * and so is a pin or switch --to naming a stack outside the group).
 * Returns 0 or -1 with errors appended.
 */
int	 scn_resolve(struct scenario *, const struct config *,
	    struct scn_errors *) __attribute__((warn_unused_result));
void	 scn_free(struct scenario *);
void	 scn_errors_free(struct scn_errors *);

const char *scn_hphase_name(int);	/* "precheck" "promote" ... */

#endif
