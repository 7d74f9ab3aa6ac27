/*
 * hook.c - run operator hooks as child processes on the event loop.
 *
 * Life of a hook:
 *
 *   hook_start: pipes for stdout and stderr, then posix_spawn into its own
 *     process group, on a spawner thread (hook_spawn.c says why); the
 *     loop learns the pid from the threads' notify pipe, and then watches
 *     the pipes and arms the timeout.  A spawn failure is a result (HOOK_NOSTART),
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
 * Threads: the spawner threads (hook_spawn.c) share only r->todo, r->done
 * and r->notified (under r->mu) and the spawn_req they hold; everything
 * else, the hooks and all libevent calls, stays on the loop's thread.
 */
#include "controller/shell/hook.h"
#include "controller/shell/hook_int.h"

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


static void	 sigchld_cb(evutil_socket_t, short, void *);
static void	 read_cb(evutil_socket_t, short, void *);
static void	 timer_cb(evutil_socket_t, short, void *);
static void	 done_cb(evutil_socket_t, short, void *);
static void	 spawn_start(struct hook *, char *const *, char *const *);
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
	hook_spawners_stop(r);
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
	if (hook_spawners_ready(r)) {
		pthread_mutex_lock(&r->mu);
		STAILQ_INSERT_TAIL(&r->todo, req, entry);
		pthread_cond_signal(&r->cv);
		pthread_mutex_unlock(&r->mu);
	} else {
		hook_spawn_exec(req);
		hook_spawn_done(req);
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
		hook_spawn_req_free(req);
	}
	free(prog);
	nostart(h, e, "pipe");
}

/* On the loop: the spawn of REQ is over; start watching the hook. */
void
hook_spawn_done(struct spawn_req *req)
{
	struct hook *h = req->h;
	struct hook_runner *r = h->r;
	int i;

	h->spawning = false;
	if (req->err != 0) {
		nostart(h, req->err, req->prog);
		hook_spawn_req_free(req);
		return;
	}
	h->pid = h->res.pid = req->pid;
	hook_spawn_req_free(req);		/* closes the child's ends */
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
