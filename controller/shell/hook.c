/*
 * hook.c - run operator hooks as child processes on the event loop.
 *
 * Life of a hook:
 *
 *   hook_start: pipes for stdout and stderr, then posix_spawn into its own
 *     process group, on a spawner thread (see spawners_ready for why); the
 *     loop learns the pid from notify_cb, and then watches the pipes and
 *     arms the timeout.  A spawn failure is a result (HOOK_NOSTART),
 *     delivered from the loop like every other.
 *   running: read_cb splits the pipes into lines.  The timer, when it
 *     fires, condemns the hook: SIGTERM to the group, and the same timer
 *     re-armed for the grace period, after which SIGKILL goes to the group.
 *   exit: on SIGCHLD the runner looks for its own children with waitid;
 *     WNOWAIT first, so that a condemned hook's group is killed while its
 *     leader is still an unreaped zombie: a process group id cannot be
 *     reused while its leader's pid is held, so kill(-pid) never reaches a
 *     stranger.  Then the leader is reaped, and the timer waits drain_ms
 *     for the pipes to reach EOF.
 *   done: finish() activates the hook's own done event; its callback calls
 *     done_cb and frees the hook.  Ending always through that event means
 *     the caller's callback never runs inside a scan of the runner's list
 *     or a read, so it may start, cancel or detach hooks freely.
 *
 * Reaping: waitid(P_ALL, WNOWAIT) tells which child is waitable without
 * taking it.  When that is one of ours, it is reaped and the loop goes on;
 * this is O(1) per exit when the daemon has no other children.  When it is
 * someone else's, every hook's pid is checked with waitid(P_PID) instead,
 * so another module's children are never stolen.
 *
 * Close-on-exec: the child gets closefrom(3) from posix_spawn (glibc 2.34
 * and later), and our own pipe ends are O_CLOEXEC as well, which matters
 * now that another thread may spawn while the loop opens descriptors.
 *
 * Threads: the spawner threads share only r->todo, r->done and r->notified
 * (under r->mu) and the spawn_req they hold; everything else, the hooks
 * and all libevent calls, stays on the loop's thread.
 */
#include "controller/shell/hook.h"

#include <sys/queue.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#define HOOK_GRACE_DEFAULT_MS	5000
#define HOOK_DRAIN_DEFAULT_MS	1000
#define HOOK_LINE_MAX_DEFAULT	4096
#define HOOK_OUTPUT_MAX_DEFAULT	(1024 * 1024)
/*
 * Each reported line costs at least this much of output_max: every line
 * becomes a log line with its own prefix (~130 bytes), so without a floor
 * 20 MB of empty lines made a 108 MB log (1 M lines); with it, at most
 * output_max / 64 lines are reported.
 */
#define HOOK_LINE_COST_MIN	64
#define HOOK_READ_CHUNK		65536
#define HOOK_SPAWN_THREADS_DEFAULT 2
#define HOOK_SPAWN_THREADS_MAX	8

static const char truncated_note[] = "output truncated";

enum hook_timer {
	HT_NONE = 0,
	HT_TIMEOUT,		/* hook_timeout: condemn */
	HT_GRACE,		/* SIGTERM sent: SIGKILL next */
	HT_DRAIN,		/* exited: stop waiting for EOF */
};

struct hook_pipe {
	struct hook		*h;
	enum hook_stream	 stream;
	int			 fd;
	struct event		*ev;
	char			*buf;		/* line_max + 1 */
	size_t			 len;
	bool			 cutting;	/* dropping the rest of a line */
};

struct hook {
	TAILQ_ENTRY(hook)	 entry;
	struct hook_runner	*r;
	pid_t			 pid;
	char			*group;
	char			*phase;
	hook_line_cb		 line_cb;
	hook_done_cb		 done_cb;
	void			*arg;
	struct hook_pipe	 p[2];
	struct event		*ev_timer;
	enum hook_timer		 timer;
	struct event		*ev_done;
	enum hook_outcome	 condemned;	/* HOOK_EXITED: not condemned */
	bool			 spawning;	/* on a spawner thread */
	bool			 cancel_pending; /* hook_cancel while spawning */
	int64_t			 timeout_ms;
	bool			 reaped;
	bool			 finished;	/* ev_done is active */
	struct timespec		 t0;
	uint64_t		 reported;	/* bytes of lines reported */
	struct hook_result	 res;
};

TAILQ_HEAD(hook_list, hook);

/*
 * One posix_spawn call: prepared on the loop, run on a spawner thread (or
 * inline), finished on the loop.  The thread touches only this struct.
 */
struct spawn_req {
	STAILQ_ENTRY(spawn_req)	 entry;
	struct hook		*h;
	char			*prog;
	char			**argv;		/* deep copies, one block each */
	char			**env;
	int			 out_w;		/* the child's pipe ends */
	int			 err_w;
	pid_t			 pid;
	int			 err;		/* posix_spawn's errno */
};

STAILQ_HEAD(spawn_q, spawn_req);

struct hook_runner {
	struct event_base	*base;
	struct event		*ev_sigchld;
	char			*path_env;	/* "PATH=..." */
	int64_t			 grace_ms;
	int64_t			 drain_ms;
	size_t			 line_max;
	size_t			 output_max;
	struct hook_list	 hooks;
	size_t			 count;
	hook_idle_cb		 idle_cb;
	void			*idle_arg;

	/* The spawner threads; all below mu is shared with them. */
	int			 nthreads;	/* wanted; 0: spawn inline */
	int			 nstarted;
	pthread_t		 threads[HOOK_SPAWN_THREADS_MAX];
	int			 notify[2];	/* thread -> loop: done queued */
	struct event		*ev_notify;
	pthread_mutex_t		 mu;
	pthread_cond_t		 cv;
	struct spawn_q		 todo;
	struct spawn_q		 done;
	bool			 stopping;
	bool			 notified;	/* a byte is in notify[] */
};

static void	 sigchld_cb(evutil_socket_t, short, void *);
static void	 read_cb(evutil_socket_t, short, void *);
static void	 timer_cb(evutil_socket_t, short, void *);
static void	 done_cb(evutil_socket_t, short, void *);
static void	 spawn_start(struct hook *, char *const *, char *const *);
static void	 spawn_exec(struct spawn_req *);
static void	 spawn_done(struct spawn_req *);
static void	 spawn_req_free(struct spawn_req *);
static bool	 spawners_ready(struct hook_runner *);
static void	 spawners_stop(struct hook_runner *);
static void	*spawner_main(void *);
static void	 notify_cb(evutil_socket_t, short, void *);
static char	**strv_dup(char *const *);
static void	 nostart(struct hook *, int, const char *);
static int	 resolve(const struct hook_runner *, const char *, char **);
static int	 fd_above_stdio(int *);
static void	 pipe_feed(struct hook_pipe *, const char *, size_t);
static void	 pipe_emit(struct hook_pipe *, unsigned);
static void	 pipe_close(struct hook_pipe *);
static void	 timer_arm(struct hook *, enum hook_timer, int64_t);
static void	 condemn(struct hook *, enum hook_outcome);
static bool	 still_ours(struct hook *);
static bool	 try_reap(struct hook *);
static void	 reap(struct hook *, bool);
static void	 maybe_finish(struct hook *);
static void	 finish(struct hook *);
static void	 hook_free(struct hook *);
static struct hook *hook_find(struct hook_runner *, pid_t);
static int64_t	 elapsed_ms(const struct timespec *);
static size_t	 shell_quote(char *, const char *);
static size_t	 put(char *, size_t, const char *);

struct hook_runner *
hook_runner_new(struct event_base *base, const struct hook_runner_opts *opts)
{
	struct hook_runner *r = NULL;
	const char *path = HOOK_PATH_DEFAULT, *env;
	char *end;
	long v;

	if (base == NULL)
		return NULL;
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	r->base = base;
	TAILQ_INIT(&r->hooks);
	STAILQ_INIT(&r->todo);
	STAILQ_INIT(&r->done);
	r->notify[0] = r->notify[1] = -1;
	r->nthreads = HOOK_SPAWN_THREADS_DEFAULT;
	if (pthread_mutex_init(&r->mu, NULL) != 0) {
		free(r);
		return NULL;
	}
	if (pthread_cond_init(&r->cv, NULL) != 0) {
		pthread_mutex_destroy(&r->mu);
		free(r);
		return NULL;
	}
	r->grace_ms = HOOK_GRACE_DEFAULT_MS;
	r->drain_ms = HOOK_DRAIN_DEFAULT_MS;
	r->line_max = HOOK_LINE_MAX_DEFAULT;
	r->output_max = HOOK_OUTPUT_MAX_DEFAULT;
	/* Test switch: tests shorten the grace instead of sleeping 5 s. */
	if ((env = getenv("FAILOVERD_TEST_KILL_GRACE_MS")) != NULL &&
	    (v = strtol(env, &end, 10)) > 0 && *end == '\0')
		r->grace_ms = v;
	if (opts != NULL) {
		if (opts->path != NULL)
			path = opts->path;
		if (opts->kill_grace_ms > 0)
			r->grace_ms = opts->kill_grace_ms;
		if (opts->drain_ms > 0)
			r->drain_ms = opts->drain_ms;
		if (opts->line_max > 0)
			r->line_max = opts->line_max;
		if (opts->output_max > 0)
			r->output_max = opts->output_max;
		if (opts->spawn_threads < 0)
			r->nthreads = 0;
		else if (opts->spawn_threads > 0)
			r->nthreads = opts->spawn_threads;
		if (r->nthreads > HOOK_SPAWN_THREADS_MAX)
			r->nthreads = HOOK_SPAWN_THREADS_MAX;
	}
	if ((r->path_env = malloc(strlen(path) + 6)) == NULL)
		goto fail;
	snprintf(r->path_env, strlen(path) + 6, "PATH=%s", path);
	r->ev_sigchld = evsignal_new(base, SIGCHLD, sigchld_cb, r);
	if (r->ev_sigchld == NULL || event_add(r->ev_sigchld, NULL) == -1)
		goto fail;
	return r;
fail:
	if (r->ev_sigchld != NULL)
		event_free(r->ev_sigchld);
	free(r->path_env);
	pthread_cond_destroy(&r->cv);
	pthread_mutex_destroy(&r->mu);
	free(r);
	return NULL;
}

void
hook_runner_free(struct hook_runner *r)
{
	struct hook *h;

	if (r == NULL)
		return;
	if (r->ev_sigchld != NULL)
		event_free(r->ev_sigchld);
	spawners_stop(r);
	while ((h = TAILQ_FIRST(&r->hooks)) != NULL) {
		TAILQ_REMOVE(&r->hooks, h, entry);
		if (h->pid > 0 && !h->reaped && still_ours(h)) {
			/* Before the reap, so the group id is still ours. */
			kill(-h->pid, SIGKILL);
			while (waitpid(h->pid, NULL, 0) == -1 && errno == EINTR)
				;
		}
		hook_free(h);
	}
	free(r->path_env);
	pthread_cond_destroy(&r->cv);
	pthread_mutex_destroy(&r->mu);
	free(r);
}

size_t
hook_runner_count(const struct hook_runner *r)
{
	return r->count;
}

void
hook_runner_set_idle_cb(struct hook_runner *r, hook_idle_cb cb, void *arg)
{
	r->idle_cb = cb;
	r->idle_arg = arg;
}

void
hook_runner_cancel_all(struct hook_runner *r)
{
	struct hook *h;

	TAILQ_FOREACH(h, &r->hooks, entry)
		hook_cancel(h);
}

void
hook_runner_reap(struct hook_runner *r)
{
	struct hook *h;
	siginfo_t si;

	for (;;) {
		memset(&si, 0, sizeof(si));
		if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) == -1) {
			if (errno == EINTR)
				continue;
			return;		/* ECHILD: no children at all */
		}
		if (si.si_pid == 0)
			return;
		if ((h = hook_find(r, si.si_pid)) == NULL)
			break;		/* not ours: look at ours one by one */
		reap(h, false);
	}
	TAILQ_FOREACH(h, &r->hooks, entry)
		if (h->pid > 0 && !h->reaped)
			try_reap(h);
}

/* SIGCHLD (evsignal) */
static void
sigchld_cb(evutil_socket_t sig, short what, void *arg)
{
	hook_runner_reap(arg);
}

int
hook_start(struct hook_runner *r, const struct hook_spec *spec,
    struct hook **hp)
{
	struct hook *h = NULL;
	char **env = NULL;
	size_t n = 0, i;
	bool has_path = false;
	int rc = HOOK_E_NOMEM;

	if (hp != NULL)
		*hp = NULL;
	if (spec == NULL || spec->argv == NULL || spec->argv[0] == NULL ||
	    spec->argv[0][0] == '\0')
		return HOOK_E_INVAL;
	for (n = 0; spec->envp != NULL && spec->envp[n] != NULL; n++) {
		const char *eq = strchr(spec->envp[n], '=');

		if (eq == NULL || eq == spec->envp[n])
			return HOOK_E_INVAL;
		if (strncmp(spec->envp[n], "PATH=", 5) == 0)
			has_path = true;
	}
	if ((env = calloc(n + 2, sizeof(*env))) == NULL)
		goto fail;
	for (i = 0; i < n; i++)
		env[i] = spec->envp[i];
	if (!has_path)
		env[n] = r->path_env;

	if ((h = calloc(1, sizeof(*h))) == NULL)
		goto fail;
	h->r = r;
	h->p[0].fd = h->p[1].fd = -1;
	h->line_cb = spec->line_cb;
	h->done_cb = spec->done_cb;
	h->arg = spec->arg;
	h->condemned = HOOK_EXITED;
	h->group = strdup(spec->group != NULL ? spec->group : "");
	h->phase = strdup(spec->phase != NULL ? spec->phase : "");
	if (h->group == NULL || h->phase == NULL)
		goto fail;
	for (i = 0; i < 2; i++) {
		h->p[i].h = h;
		h->p[i].stream = i == 0 ? HOOK_STDOUT : HOOK_STDERR;
		if ((h->p[i].buf = malloc(r->line_max + 1)) == NULL)
			goto fail;
	}
	h->ev_timer = evtimer_new(r->base, timer_cb, h);
	h->ev_done = event_new(r->base, -1, 0, done_cb, h);
	if (h->ev_timer == NULL || h->ev_done == NULL)
		goto fail;
	h->res.status = -1;

	h->timeout_ms = spec->timeout_ms;

	TAILQ_INSERT_TAIL(&r->hooks, h, entry);
	r->count++;
	spawn_start(h, spec->argv, env);
	free(env);
	if (hp != NULL)
		*hp = h;
	return 0;
fail:
	free(env);
	hook_free(h);
	return rc;
}

/*
 * Prepare the spawn of H and hand it to a spawner thread, or run it
 * inline.  A failure here ends the hook with HOOK_NOSTART.
 */
static void
spawn_start(struct hook *h, char *const *argv, char *const *env)
{
	struct hook_runner *r = h->r;
	struct spawn_req *req = NULL;
	int out[2] = { -1, -1 }, err[2] = { -1, -1 };
	char *prog = NULL;
	int e;

	clock_gettime(CLOCK_MONOTONIC, &h->t0);
	if ((e = resolve(r, argv[0], &prog)) != 0) {
		nostart(h, e, argv[0]);
		return;
	}
	if (pipe2(out, O_CLOEXEC) == -1 || pipe2(err, O_CLOEXEC) == -1 ||
	    fd_above_stdio(&out[0]) == -1 || fd_above_stdio(&out[1]) == -1 ||
	    fd_above_stdio(&err[0]) == -1 || fd_above_stdio(&err[1]) == -1 ||
	    fcntl(out[0], F_SETFL, O_NONBLOCK) == -1 ||
	    fcntl(err[0], F_SETFL, O_NONBLOCK) == -1) {
		e = errno;
		goto fail;
	}
	e = ENOMEM;
	if ((req = calloc(1, sizeof(*req))) == NULL)
		goto fail;
	req->h = h;
	req->prog = prog;
	prog = NULL;
	if ((req->argv = strv_dup(argv)) == NULL ||
	    (req->env = strv_dup(env)) == NULL)
		goto fail;
	/* From here the read ends are the hook's, the write ends the req's. */
	h->p[0].fd = out[0];
	h->p[1].fd = err[0];
	req->out_w = out[1];
	req->err_w = err[1];
	h->spawning = true;
	if (spawners_ready(r)) {
		pthread_mutex_lock(&r->mu);
		STAILQ_INSERT_TAIL(&r->todo, req, entry);
		pthread_cond_signal(&r->cv);
		pthread_mutex_unlock(&r->mu);
	} else {
		spawn_exec(req);
		spawn_done(req);
	}
	return;
fail:
	for (int i = 0; i < 2; i++) {
		if (out[i] != -1)
			close(out[i]);
		if (err[i] != -1)
			close(err[i]);
	}
	if (req != NULL) {
		req->out_w = req->err_w = -1;
		spawn_req_free(req);
	}
	free(prog);
	nostart(h, e, "pipe");
}

/*
 * posix_spawn: own process group, default signal dispositions, empty mask,
 * stdin /dev/null, stdout and stderr to the pipes, nothing else open.
 * Runs on a spawner thread: touches REQ only.  glibc's posix_spawn returns
 * once the child has called execve (CLONE_VFORK), and reports a failed
 * execve as its own error.
 */
static void
spawn_exec(struct spawn_req *req)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t all, none;
	int e;

	req->pid = 0;
	if ((e = posix_spawn_file_actions_init(&fa)) != 0) {
		req->err = e;
		return;
	}
	if ((e = posix_spawnattr_init(&attr)) != 0) {
		posix_spawn_file_actions_destroy(&fa);
		req->err = e;
		return;
	}
	sigfillset(&all);
	sigemptyset(&none);
	if ((e = posix_spawn_file_actions_addopen(&fa, STDIN_FILENO,
	    "/dev/null", O_RDONLY, 0)) == 0 &&
	    (e = posix_spawn_file_actions_adddup2(&fa, req->out_w,
	    STDOUT_FILENO)) == 0 &&
	    (e = posix_spawn_file_actions_adddup2(&fa, req->err_w,
	    STDERR_FILENO)) == 0 &&
	    (e = posix_spawn_file_actions_addclosefrom_np(&fa, 3)) == 0 &&
	    (e = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP |
	    POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK)) == 0 &&
	    (e = posix_spawnattr_setpgroup(&attr, 0)) == 0 &&
	    (e = posix_spawnattr_setsigdefault(&attr, &all)) == 0 &&
	    (e = posix_spawnattr_setsigmask(&attr, &none)) == 0)
		e = posix_spawn(&req->pid, req->prog, &fa, &attr, req->argv,
		    req->env);
	if (e != 0)
		req->pid = 0;
	req->err = e;
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
}

/* On the loop: the spawn of REQ is over; start watching the hook. */
static void
spawn_done(struct spawn_req *req)
{
	struct hook *h = req->h;
	struct hook_runner *r = h->r;
	int i;

	h->spawning = false;
	if (req->err != 0) {
		nostart(h, req->err, req->prog);
		spawn_req_free(req);
		return;
	}
	h->pid = h->res.pid = req->pid;
	spawn_req_free(req);		/* closes the child's ends */
	for (i = 0; i < 2; i++) {
		h->p[i].ev = event_new(r->base, h->p[i].fd, EV_READ | EV_PERSIST,
		    read_cb, &h->p[i]);
		if (h->p[i].ev == NULL || event_add(h->p[i].ev, NULL) == -1)
			/* XXX cannot read it: let the drain bound end it. */
			pipe_close(&h->p[i]);
	}
	if (h->timeout_ms > 0)
		timer_arm(h, HT_TIMEOUT, h->timeout_ms);
	if (h->cancel_pending)
		condemn(h, HOOK_CANCELLED);
	else
		/* Its SIGCHLD may have come before we knew its pid. */
		try_reap(h);
}

static void
spawn_req_free(struct spawn_req *req)
{
	if (req == NULL)
		return;
	if (req->out_w != -1)
		close(req->out_w);
	if (req->err_w != -1)
		close(req->err_w);
	free(req->prog);
	free(req->argv);
	free(req->env);
	free(req);
}

/*
 * Start the spawner threads on first use.  posix_spawn blocks until the
 * child has called execve, about a millisecond here per hook: a mass
 * failover of 1,000 groups would stall the loop for seconds, so the calls
 * run on threads (which also run two execs at once on two cores).  They
 * block every signal, so signals keep reaching the loop's thread.
 * Returns false (spawn inline) when threads are off or cannot start.
 */
static bool
spawners_ready(struct hook_runner *r)
{
	sigset_t all, old;
	int i;

	if (r->nstarted > 0)
		return true;
	if (r->nthreads == 0)
		return false;
	if (pipe2(r->notify, O_CLOEXEC | O_NONBLOCK) == -1) {
		r->notify[0] = r->notify[1] = -1;
		goto inline_only;
	}
	r->ev_notify = event_new(r->base, r->notify[0], EV_READ | EV_PERSIST,
	    notify_cb, r);
	if (r->ev_notify == NULL || event_add(r->ev_notify, NULL) == -1)
		goto inline_only;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (i = 0; i < r->nthreads; i++) {
		if (pthread_create(&r->threads[r->nstarted], NULL,
		    spawner_main, r) != 0)
			break;
		r->nstarted++;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r->nstarted > 0)
		return true;
inline_only:
	if (r->ev_notify != NULL)
		event_free(r->ev_notify);
	r->ev_notify = NULL;
	for (i = 0; i < 2; i++) {
		if (r->notify[i] != -1)
			close(r->notify[i]);
		r->notify[i] = -1;
	}
	r->nthreads = 0;
	return false;
}

/*
 * Stop the threads (hook_runner_free).  Spawns not begun are dropped;
 * processes spawned but not yet seen by the loop are killed and reaped.
 */
static void
spawners_stop(struct hook_runner *r)
{
	struct spawn_q q = STAILQ_HEAD_INITIALIZER(q);
	struct spawn_req *req;
	int i;

	if (r->nstarted == 0)
		return;
	pthread_mutex_lock(&r->mu);
	STAILQ_CONCAT(&q, &r->todo);
	r->stopping = true;
	pthread_cond_broadcast(&r->cv);
	pthread_mutex_unlock(&r->mu);
	for (i = 0; i < r->nstarted; i++)
		pthread_join(r->threads[i], NULL);
	r->nstarted = 0;
	STAILQ_CONCAT(&q, &r->done);
	while ((req = STAILQ_FIRST(&q)) != NULL) {
		STAILQ_REMOVE_HEAD(&q, entry);
		if (req->pid > 0) {
			kill(-req->pid, SIGKILL);
			while (waitpid(req->pid, NULL, 0) == -1 &&
			    errno == EINTR)
				;
		}
		spawn_req_free(req);
	}
	event_free(r->ev_notify);
	r->ev_notify = NULL;
	for (i = 0; i < 2; i++) {
		close(r->notify[i]);
		r->notify[i] = -1;
	}
}

/* A spawner thread: take a request, spawn, queue the result. */
static void *
spawner_main(void *arg)
{
	struct hook_runner *r = arg;
	struct spawn_req *req;
	char c = 'x';
	ssize_t n;

	pthread_mutex_lock(&r->mu);
	for (;;) {
		while (!r->stopping && STAILQ_EMPTY(&r->todo))
			pthread_cond_wait(&r->cv, &r->mu);
		if (r->stopping)
			break;
		req = STAILQ_FIRST(&r->todo);
		STAILQ_REMOVE_HEAD(&r->todo, entry);
		pthread_mutex_unlock(&r->mu);
		spawn_exec(req);
		pthread_mutex_lock(&r->mu);
		STAILQ_INSERT_TAIL(&r->done, req, entry);
		/* One byte at most in the pipe: the write never blocks. */
		if (!r->notified) {
			r->notified = true;
			n = write(r->notify[1], &c, 1);
			(void)n;	/* full: a byte is there already */
		}
	}
	pthread_mutex_unlock(&r->mu);
	return NULL;
}

/* The spawner threads have finished some spawns (notify pipe, EV_READ). */
static void
notify_cb(evutil_socket_t fd, short what, void *arg)
{
	struct hook_runner *r = arg;
	struct spawn_q q = STAILQ_HEAD_INITIALIZER(q);
	struct spawn_req *req;
	char buf[16];

	while (read(fd, buf, sizeof(buf)) > 0)
		;
	pthread_mutex_lock(&r->mu);
	STAILQ_CONCAT(&q, &r->done);
	r->notified = false;
	pthread_mutex_unlock(&r->mu);
	while ((req = STAILQ_FIRST(&q)) != NULL) {
		STAILQ_REMOVE_HEAD(&q, entry);
		spawn_done(req);
	}
}

/* A deep copy of a NULL-terminated string vector, in one allocation. */
static char **
strv_dup(char *const *v)
{
	size_t n, size = sizeof(char *), i;
	char **out, *s;

	for (n = 0; v[n] != NULL; n++)
		size += sizeof(char *) + strlen(v[n]) + 1;
	if ((out = malloc(size)) == NULL)
		return NULL;
	s = (char *)(out + n + 1);
	for (i = 0; i < n; i++) {
		out[i] = s;
		s = stpcpy(s, v[i]) + 1;
	}
	out[n] = NULL;
	return out;
}

static void
nostart(struct hook *h, int e, const char *what)
{
	h->res.outcome = HOOK_NOSTART;
	h->res.error = e;
	if (what != NULL)
		snprintf(h->res.detail, sizeof(h->res.detail), "%s: %s",
		    what, strerror(e));
	else
		snprintf(h->res.detail, sizeof(h->res.detail), "%s",
		    strerror(e));
	h->reaped = true;
	finish(h);
}

/*
 * The program to run: NAME itself when it holds a '/', else the first
 * executable NAME in the runner's PATH.  Returns 0 or an errno.
 */
static int
resolve(const struct hook_runner *r, const char *name, char **prog)
{
	const char *dirs = r->path_env + 5, *colon;
	size_t nlen = strlen(name), dlen;
	char *p;
	int e = ENOENT;

	if (strchr(name, '/') != NULL) {
		*prog = strdup(name);
		return *prog == NULL ? ENOMEM : 0;
	}
	for (;;) {
		colon = strchr(dirs, ':');
		dlen = colon != NULL ? (size_t)(colon - dirs) : strlen(dirs);
		if (dlen > 0) {
			if ((p = malloc(dlen + nlen + 2)) == NULL)
				return ENOMEM;
			memcpy(p, dirs, dlen);
			p[dlen] = '/';
			memcpy(p + dlen + 1, name, nlen + 1);
			if (access(p, X_OK) == 0) {
				*prog = p;
				return 0;
			}
			if (errno == EACCES)
				e = EACCES;
			free(p);
		}
		if (colon == NULL)
			return e;
		dirs = colon + 1;
	}
}

/* Keep our pipe ends off 0-2, in case the daemon runs with them closed. */
static int
fd_above_stdio(int *fd)
{
	int nfd;

	if (*fd > STDERR_FILENO)
		return 0;
	if ((nfd = fcntl(*fd, F_DUPFD_CLOEXEC, STDERR_FILENO + 1)) == -1)
		return -1;
	close(*fd);
	*fd = nfd;
	return 0;
}

/* A pipe is readable (EV_READ | EV_PERSIST). */
static void
read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct hook_pipe *p = arg;
	struct hook *h = p->h;
	char chunk[HOOK_READ_CHUNK];
	ssize_t n;

	/* One read per wake-up, so a chatty hook cannot stall the loop. */
	n = read(fd, chunk, sizeof(chunk));
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		if (p->len > 0 && !p->cutting)
			pipe_emit(p, HOOK_LINE_NOEOL);
		pipe_close(p);
		maybe_finish(h);
		return;
	}
	h->res.out_bytes += (uint64_t)n;
	pipe_feed(p, chunk, (size_t)n);
}

static void
pipe_feed(struct hook_pipe *p, const char *data, size_t n)
{
	struct hook *h = p->h;
	size_t line_max = h->r->line_max, seg, room, adv;
	const char *nl;

	while (n > 0) {
		if (h->res.truncated) {
			h->res.dropped_bytes += n;
			return;
		}
		nl = memchr(data, '\n', n);
		seg = nl != NULL ? (size_t)(nl - data) : n;
		adv = seg + (nl != NULL);
		if (p->cutting) {
			h->res.dropped_bytes += adv;
			if (nl != NULL)
				p->cutting = false;
		} else if (seg > (room = line_max - p->len)) {
			memcpy(p->buf + p->len, data, room);
			p->len += room;
			pipe_emit(p, HOOK_LINE_CUT);
			h->res.dropped_bytes += adv - room;
			p->cutting = nl == NULL;
		} else {
			memcpy(p->buf + p->len, data, seg);
			p->len += seg;
			if (nl != NULL)
				pipe_emit(p, 0);
		}
		data += adv;
		n -= adv;
	}
}

/* Report the buffered line, or the truncation note instead. */
static void
pipe_emit(struct hook_pipe *p, unsigned flags)
{
	struct hook *h = p->h;
	size_t len = p->len;
	size_t cost = len + 1 < HOOK_LINE_COST_MIN ? HOOK_LINE_COST_MIN :
	    len + 1;

	p->len = 0;
	if (h->res.truncated) {
		h->res.dropped_bytes += len;
		return;
	}
	if (h->reported + cost > h->r->output_max) {
		h->res.truncated = true;
		h->res.dropped_bytes += len + 1;
		if (h->line_cb != NULL)
			h->line_cb(h, p->stream, truncated_note,
			    sizeof(truncated_note) - 1, HOOK_LINE_TRUNCATED,
			    h->arg);
		return;
	}
	h->reported += cost;
	p->buf[len] = '\0';
	if (h->line_cb != NULL)
		h->line_cb(h, p->stream, p->buf, len, flags, h->arg);
}

static void
pipe_close(struct hook_pipe *p)
{
	if (p->ev != NULL) {
		event_free(p->ev);
		p->ev = NULL;
	}
	if (p->fd != -1) {
		close(p->fd);
		p->fd = -1;
	}
}

static void
timer_arm(struct hook *h, enum hook_timer what, int64_t ms)
{
	struct timeval tv;

	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	h->timer = what;
	evtimer_add(h->ev_timer, &tv);
}

/* The hook's one timer (evtimer). */
static void
timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct hook *h = arg;
	enum hook_timer t = h->timer;
	int i;

	h->timer = HT_NONE;
	switch (t) {
	case HT_TIMEOUT:
		condemn(h, HOOK_TIMEOUT);
		break;
	case HT_GRACE:
		/*
		 * The leader is not reaped yet (see reap), so the id is ours;
		 * try_reap makes sure, in case SIGCHLD is still on its way.
		 */
		if (!try_reap(h)) {
			kill(-h->pid, SIGKILL);
			h->res.killed = true;
		}
		break;
	case HT_DRAIN:
		for (i = 0; i < 2; i++) {
			if (h->p[i].fd != -1 && h->p[i].len > 0 &&
			    !h->p[i].cutting)
				pipe_emit(&h->p[i], HOOK_LINE_NOEOL);
			pipe_close(&h->p[i]);
		}
		maybe_finish(h);
		break;
	case HT_NONE:
		break;
	}
}

static void
condemn(struct hook *h, enum hook_outcome why)
{
	if (h->pid <= 0 || h->reaped || h->condemned != HOOK_EXITED)
		return;
	if (try_reap(h))
		return;		/* it ended just now: not condemned */
	h->condemned = why;
	kill(-h->pid, SIGTERM);
	evtimer_del(h->ev_timer);
	timer_arm(h, HT_GRACE, h->r->grace_ms);
}

/* H's process is our child, running or a zombie: its pid is still ours. */
static bool
still_ours(struct hook *h)
{
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	while (waitid(P_PID, (id_t)h->pid, &si,
	    WEXITED | WNOHANG | WNOWAIT) == -1) {
		if (errno != EINTR)
			return false;
	}
	return true;
}

/*
 * Reap H if its process has exited.  Returns true when it is not running
 * any more: reaped now, or reaped by someone else (ECHILD), which breaks
 * the contract of hook.h but must not leave the hook waiting forever.
 */
static bool
try_reap(struct hook *h)
{
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	while (waitid(P_PID, (id_t)h->pid, &si,
	    WEXITED | WNOHANG | WNOWAIT) == -1) {
		if (errno == ECHILD) {
			reap(h, true);	/* records the status as lost */
			return true;
		}
		if (errno != EINTR)
			return false;
	}
	if (si.si_pid != h->pid)
		return false;
	reap(h, false);
	return true;
}

/*
 * H's process has exited and is still a zombie: reap it.  LOST: it is
 * gone already, taken by a wait() elsewhere.
 */
static void
reap(struct hook *h, bool lost)
{
	pid_t rc = -1;
	int st = 0;

	/*
	 * A condemned hook's leftovers go with it.  The leader is still a
	 * zombie here, which keeps its pid, and so the group id, ours.
	 */
	if (!lost && h->condemned != HOOK_EXITED)
		kill(-h->pid, SIGKILL);
	while (!lost && (rc = waitpid(h->pid, &st, WNOHANG)) == -1 &&
	    errno == EINTR)
		;
	h->reaped = true;
	h->res.duration_ms = elapsed_ms(&h->t0);
	if (rc != h->pid) {
		/* Someone else's wait() took it: no kill, the id is free. */
		h->res.status = -1;
		h->res.signal = 0;
		h->res.outcome = HOOK_SIGNALED;
		snprintf(h->res.detail, sizeof(h->res.detail),
		    "exit status lost: reaped outside the hook runner");
	} else if (WIFEXITED(st)) {
		h->res.status = WEXITSTATUS(st);
		h->res.outcome = HOOK_EXITED;
	} else {
		h->res.status = -1;
		h->res.signal = WIFSIGNALED(st) ? WTERMSIG(st) : 0;
		h->res.outcome = HOOK_SIGNALED;
	}
	if (h->condemned != HOOK_EXITED)
		h->res.outcome = h->condemned;
	evtimer_del(h->ev_timer);
	h->timer = HT_NONE;
	if (h->p[0].fd == -1 && h->p[1].fd == -1)
		finish(h);
	else
		timer_arm(h, HT_DRAIN, h->r->drain_ms);
}

static void
maybe_finish(struct hook *h)
{
	if (h->reaped && h->p[0].fd == -1 && h->p[1].fd == -1)
		finish(h);
}

static void
finish(struct hook *h)
{
	if (h->finished)
		return;
	h->finished = true;
	evtimer_del(h->ev_timer);
	h->timer = HT_NONE;
	pipe_close(&h->p[0]);
	pipe_close(&h->p[1]);
	event_active(h->ev_done, 0, 0);
}

/* The hook is done (activated by finish). */
static void
done_cb(evutil_socket_t fd, short what, void *arg)
{
	struct hook *h = arg;
	struct hook_runner *r = h->r;

	TAILQ_REMOVE(&r->hooks, h, entry);
	r->count--;
	if (h->done_cb != NULL)
		h->done_cb(h, &h->res, h->arg);
	hook_free(h);
	if (r->count == 0 && r->idle_cb != NULL)
		r->idle_cb(r, r->idle_arg);
}

static void
hook_free(struct hook *h)
{
	int i;

	if (h == NULL)
		return;
	for (i = 0; i < 2; i++) {
		pipe_close(&h->p[i]);
		free(h->p[i].buf);
	}
	if (h->ev_timer != NULL)
		event_free(h->ev_timer);
	if (h->ev_done != NULL)
		event_free(h->ev_done);
	free(h->group);
	free(h->phase);
	free(h);
}

static struct hook *
hook_find(struct hook_runner *r, pid_t pid)
{
	struct hook *h;

	TAILQ_FOREACH(h, &r->hooks, entry)
		if (h->pid == pid && !h->reaped)
			return h;
	return NULL;
}

void
hook_cancel(struct hook *h)
{
	if (h->spawning)
		h->cancel_pending = true;
	else
		condemn(h, HOOK_CANCELLED);
}

void
hook_detach(struct hook *h)
{
	h->line_cb = NULL;
	h->done_cb = NULL;
	h->arg = NULL;
}

pid_t
hook_pid(const struct hook *h)
{
	return h->pid;
}

const char *
hook_group(const struct hook *h)
{
	return h->group;
}

const char *
hook_phase(const struct hook *h)
{
	return h->phase;
}

static int64_t
elapsed_ms(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (int64_t)(now.tv_sec - t0->tv_sec) * 1000 +
	    (now.tv_nsec - t0->tv_nsec) / 1000000;
}

const char *
hook_outcome_name(enum hook_outcome o)
{
	switch (o) {
	case HOOK_EXITED:
		return "exited";
	case HOOK_SIGNALED:
		return "signaled";
	case HOOK_TIMEOUT:
		return "timeout";
	case HOOK_CANCELLED:
		return "cancelled";
	case HOOK_NOSTART:
		return "nostart";
	}
	return "unknown";
}

const char *
hook_stream_name(enum hook_stream s)
{
	return s == HOOK_STDERR ? "stderr" : "stdout";
}

bool
hook_result_ok(const struct hook_result *res)
{
	return res->outcome == HOOK_EXITED && res->status == 0;
}

const char *
hook_strerror(int err)
{
	switch (err) {
	case 0:
		return "success";
	case HOOK_E_INVAL:
		return "invalid hook";
	case HOOK_E_NOMEM:
		return "out of memory";
	}
	return "unknown error";
}

char **
hook_env_build(const struct hook_env *env, const char *path)
{
	char attempt[16], epoch[24], **out, *s;
	size_t n = 0, i, size;

	if (env == NULL || env->group == NULL || env->phase == NULL)
		return NULL;
	snprintf(attempt, sizeof(attempt), "%u", env->attempt);
	snprintf(epoch, sizeof(epoch), "%llu", (unsigned long long)env->epoch);
	/* In DESIGN.md's order; a NULL value is left out. */
	const struct {
		const char	*name;
		const char	*value;
	} v[] = {
		{ "PATH",		path },
		{ "FAILOVER_GROUP",	env->group },
		{ "FAILOVER_PHASE",	env->phase },
		{ "FAILOVER_STACK",	env->stack },
		{ "FAILOVER_FROM",	env->from },
		{ "FAILOVER_TO",	env->to },
		{ "FAILOVER_ID",	env->id },
		{ "FAILOVER_ATTEMPT",	env->attempt > 0 ? attempt : NULL },
		{ "FAILOVER_REASON",	env->reason },
		{ "FAILOVER_ADDRESS",	env->address },
		{ "FAILOVER_DRY_RUN",	env->dry_run ? "1" : "0" },
		{ "FAILOVER_STATUS",	env->status },
		{ "FAILOVER_STATE_DIR",	env->state_dir },
		{ "FAILOVER_EPOCH",	env->epoch > 0 ? epoch : NULL },
	};

	size = sizeof(char *);
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		if (v[i].value != NULL)
			size += sizeof(char *) + strlen(v[i].name) +
			    strlen(v[i].value) + 2;
	if ((out = malloc(size)) == NULL)
		return NULL;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		if (v[i].value != NULL)
			n++;
	s = (char *)(out + n + 1);
	n = 0;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		if (v[i].value == NULL)
			continue;
		out[n++] = s;
		s = stpcpy(s, v[i].name);
		*s++ = '=';
		s = stpcpy(s, v[i].value) + 1;
	}
	out[n] = NULL;
	return out;
}

/*
 * Write S quoted for a POSIX shell to DST (when not NULL); returns the
 * length, without a NUL.  Single quotes, with ' as '\''.
 */
static size_t
shell_quote(char *dst, const char *s)
{
	static const char safe[] = "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789@%+=:,./-_";
	size_t n = 0;
	const char *c;

	if (*s != '\0' && strspn(s, safe) == strlen(s)) {
		n = strlen(s);
		if (dst != NULL)
			memcpy(dst, s, n);
		return n;
	}
	n = put(dst, n, "'");
	for (c = s; *c != '\0'; c++) {
		if (*c == '\'')
			n = put(dst, n, "'\\''");
		else {
			if (dst != NULL)
				dst[n] = *c;
			n++;
		}
	}
	return put(dst, n, "'");
}

/* Append S at DST + N (when DST is not NULL); returns the new length. */
static size_t
put(char *dst, size_t n, const char *s)
{
	size_t len = strlen(s);

	if (dst != NULL)
		memcpy(dst + n, s, len);
	return n + len;
}

char *
hook_render(char *const argv[], char *const envp[])
{
	static const char prefix[] = "env -i";
	size_t size = 1, i, n;
	char *out, *s;
	int pass;

	if (argv == NULL)
		return NULL;
	out = NULL;
	for (pass = 0; pass < 2; pass++) {
		s = out;
		n = 0;
		if (envp != NULL) {
			if (s != NULL)
				memcpy(s, prefix, sizeof(prefix) - 1);
			n += sizeof(prefix) - 1;
			for (i = 0; envp[i] != NULL; i++) {
				if (s != NULL)
					s[n] = ' ';
				n++;
				n += shell_quote(s != NULL ? s + n : NULL,
				    envp[i]);
			}
		}
		for (i = 0; argv[i] != NULL; i++) {
			if (n > 0) {
				if (s != NULL)
					s[n] = ' ';
				n++;
			}
			n += shell_quote(s != NULL ? s + n : NULL, argv[i]);
		}
		if (pass == 0) {
			size = n + 1;
			if ((out = malloc(size)) == NULL)
				return NULL;
		} else
			out[n] = '\0';
	}
	return out;
}
