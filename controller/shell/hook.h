/*
 * hook.h - run operator hooks as child processes on the event loop.
 *
 * A hook is one executable run with posix_spawn (no shell), in its own
 * process group, with an explicit environment (the caller's NAME=VALUE
 * list plus PATH, nothing inherited from the daemon), stdin from /dev/null
 * and stdout/stderr read from pipes on the loop and reported line by line.
 * A hook that outlives its timeout gets SIGTERM on its whole process group,
 * then SIGKILL after the runner's grace period.  Nothing here blocks and
 * nothing here logs: lines and results go to the caller's callbacks, and
 * the daemon logs them with group, phase and stream.
 *
 * One runner per event_base.  It owns a SIGCHLD signal event and reaps only
 * the pids of its own hooks (waitid on each known pid), so other code may
 * run and reap children of its own, by pid: a wait() or waitpid(-1)
 * elsewhere would take hooks' exit statuses (such a hook ends at its
 * timeout as HOOK_SIGNALED, signal 0, "exit status lost").
 *
 * A hook ends (the done callback runs) when its process has been reaped
 * and both pipes are at EOF, or a short drain bound after the process
 * exited, since a grandchild left running may hold the pipes open.  A hook
 * that exits normally leaves such a grandchild alone; a hook that timed
 * out or was cancelled has whatever is left of its process group killed
 * when its main process exits.
 *
 * Output is bounded: a line longer than line_max is cut (reported with
 * HOOK_LINE_CUT, the rest of it dropped), and once output_max bytes of
 * lines have been reported (a short line counts as 64 bytes, so that a
 * flood of empty lines is bounded too) the runner reports one
 * HOOK_LINE_TRUNCATED note and from then on only counts what it reads.  The pipes are always
 * drained, so a chatty hook never blocks on a full pipe.
 */
#ifndef FAILOVERD_HOOK_H
#define FAILOVERD_HOOK_H

#include <sys/types.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event_base;
struct hook;
struct hook_runner;

#define HOOK_PATH_DEFAULT	"/usr/sbin:/usr/bin:/sbin:/bin"

enum hook_err {
	HOOK_E_INVAL = -1,	/* no argv, or a malformed environment */
	HOOK_E_NOMEM = -2,
};

enum hook_stream {
	HOOK_STDOUT = 0,
	HOOK_STDERR = 1,
};

enum hook_outcome {
	HOOK_EXITED = 0,	/* exited on its own: status */
	HOOK_SIGNALED,		/* ended by a signal we did not send: signal */
	HOOK_TIMEOUT,		/* ran past its timeout; its group was killed */
	HOOK_CANCELLED,		/* hook_cancel(); its group was killed */
	HOOK_NOSTART,		/* could not be started: error, detail */
};

/* Flags of a reported line. */
#define HOOK_LINE_CUT		0x1	/* longer than line_max; rest dropped */
#define HOOK_LINE_TRUNCATED	0x2	/* not output: the note "output
					   truncated", once, when output_max
					   is reached */
#define HOOK_LINE_NOEOL		0x4	/* last line, without a newline */

struct hook_result {
	enum hook_outcome outcome;
	pid_t		 pid;		/* 0 when it never started */
	int		 status;	/* exit status, or -1 (killed by a signal
					   or never started) */
	int		 signal;	/* the signal that ended it, or 0 */
	bool		 killed;	/* we sent SIGKILL to its group */
	int		 error;		/* errno, HOOK_NOSTART */
	int64_t		 duration_ms;	/* spawn to exit */
	uint64_t	 out_bytes;	/* read from both pipes */
	uint64_t	 dropped_bytes;	/* read but not reported */
	bool		 truncated;	/* output_max was reached */
	char		 detail[192];	/* HOOK_NOSTART: what failed, e.g.
					   "/x/y: No such file or directory" */
};

/*
 * One line of output; line is NUL-terminated at len (it may hold other
 * NULs).  Borrowed: valid until the callback returns.
 */
typedef void (*hook_line_cb)(struct hook *h, enum hook_stream stream,
    const char *line, size_t len, unsigned flags, void *arg);
/* The end of a hook, exactly once.  h is freed when the callback returns. */
typedef void (*hook_done_cb)(struct hook *h, const struct hook_result *res,
    void *arg);
/* The runner has no hook left (see hook_runner_set_idle_cb). */
typedef void (*hook_idle_cb)(struct hook_runner *r, void *arg);

struct hook_runner_opts {
	const char	*path;		/* PATH given to hooks; NULL: the
					   default above.  Copied. */
	int64_t		 kill_grace_ms;	/* SIGTERM to SIGKILL; 0: 5000, or
					   the test switch
					   FAILOVERD_TEST_KILL_GRACE_MS */
	int64_t		 drain_ms;	/* wait for EOF after exit; 0: 1000 */
	size_t		 line_max;	/* 0: 4096 */
	size_t		 output_max;	/* reported bytes per run; 0: 1 MiB */
	int		 spawn_threads;	/* threads calling posix_spawn, so the
					   loop never waits for an execve;
					   0: 2, < 0: none, spawn on the
					   loop */
};

struct hook_spec {
	char *const	*argv;		/* argv[0] is the program: a path, or a
					   name looked up in the runner's PATH.
					   Borrowed for the call. */
	char *const	*envp;		/* NAME=VALUE, NULL-terminated, may be
					   NULL; PATH is added unless present.
					   Borrowed for the call. */
	int64_t		 timeout_ms;	/* <= 0: none */
	const char	*group;		/* context for the caller's log lines,
					   copied; may be NULL */
	const char	*phase;
	hook_line_cb	 line_cb;	/* may be NULL */
	hook_done_cb	 done_cb;	/* may be NULL */
	void		*arg;
};

/*
 * Create a runner on BASE (opts may be NULL).  Adds a SIGCHLD signal event
 * to the base.  Returns NULL when out of memory or when the signal event
 * cannot be added.
 */
struct hook_runner *hook_runner_new(struct event_base *base,
    const struct hook_runner_opts *opts);
/*
 * Free the runner.  No callback runs after this; hooks still running have
 * their process groups killed (SIGKILL) and are reaped, which waits for
 * them to die.  Accepts NULL.  Not from inside a hook callback.
 */
void	 hook_runner_free(struct hook_runner *r);
/* Hooks started and not yet done (detached ones included). */
size_t	 hook_runner_count(const struct hook_runner *r);
/*
 * Call CB (from the loop) each time the last running hook is done, e.g. to
 * leave the loop at shutdown once running hooks have finished or timed out.
 * CB NULL clears it.
 */
void	 hook_runner_set_idle_cb(struct hook_runner *r, hook_idle_cb cb,
	    void *arg);
/* hook_cancel() every running hook. */
void	 hook_runner_cancel_all(struct hook_runner *r);
/*
 * Look for exited hooks now.  The runner does this on SIGCHLD by itself;
 * a daemon that handles SIGCHLD elsewhere may call it too.  Reaps only
 * the runner's own children.
 */
void	 hook_runner_reap(struct hook_runner *r);

/*
 * Start a hook.  Returns 0 and, if hp is not NULL, the handle in *hp: then
 * done_cb runs exactly once, from the loop, never from inside hook_start
 * (a hook that cannot be started ends with HOOK_NOSTART).  The handle is
 * valid until done_cb returns or hook_detach().  Returns a negative
 * enum hook_err and calls nothing when SPEC is unusable or memory runs out.
 */
int	 hook_start(struct hook_runner *r, const struct hook_spec *spec,
	    struct hook **hp) __attribute__((warn_unused_result));
/*
 * Stop a running hook now: SIGTERM to its group, SIGKILL after the grace
 * period.  It ends with HOOK_CANCELLED.  No effect once it has exited.
 */
void	 hook_cancel(struct hook *h);
/*
 * No more callbacks for this hook; the runner still enforces its timeout
 * and reaps it.  The handle is invalid after this.
 */
void	 hook_detach(struct hook *h);
/* The process id; 0 until a spawner thread has started it, or never. */
pid_t	 hook_pid(const struct hook *h);
const char *hook_group(const struct hook *h);	/* "" when not given */
const char *hook_phase(const struct hook *h);

/* "exited", "signaled", "timeout", "cancelled", "nostart". */
const char *hook_outcome_name(enum hook_outcome o);
/* "stdout" or "stderr". */
const char *hook_stream_name(enum hook_stream s);
/* True when the hook exited with status 0. */
bool	 hook_result_ok(const struct hook_result *res);
const char *hook_strerror(int err);

/*
 * The contract environment (DESIGN.md, "Sequence, journal and crash
 * safety").  NULL strings and a zero attempt are left out; group and phase
 * are required; FAILOVER_DRY_RUN is always set.
 */
struct hook_env {
	const char	*group;		/* FAILOVER_GROUP */
	const char	*phase;		/* FAILOVER_PHASE */
	const char	*stack;		/* FAILOVER_STACK */
	const char	*from;		/* FAILOVER_FROM */
	const char	*to;		/* FAILOVER_TO */
	const char	*id;		/* FAILOVER_ID */
	unsigned	 attempt;	/* FAILOVER_ATTEMPT, 0: unset */
	const char	*reason;	/* FAILOVER_REASON: auto, manual */
	const char	*address;	/* FAILOVER_ADDRESS */
	bool		 dry_run;	/* FAILOVER_DRY_RUN: 0, 1 */
	const char	*status;	/* FAILOVER_STATUS: online, offline,
					   none */
	const char	*state_dir;	/* FAILOVER_STATE_DIR */
	uint64_t	 epoch;		/* FAILOVER_EPOCH (a cluster's
					   leadership), 0: unset */
};

/*
 * Build the NULL-terminated NAME=VALUE list for ENV, with PATH=path first
 * when PATH is not NULL.  Returns it in one allocation (caller frees with
 * free()), or NULL: out of memory, or group or phase missing.
 */
char	**hook_env_build(const struct hook_env *env, const char *path);
/*
 * One shell-quoted line that reproduces the run, for --dry-run logs:
 *   env -i PATH=... FAILOVER_GROUP=www ... /etc/failoverd/hooks/x 'a b'
 * ENVP may be NULL (then no "env -i" prefix).  Caller frees; NULL when out
 * of memory.
 */
char	 *hook_render(char *const argv[], char *const envp[]);

#endif
