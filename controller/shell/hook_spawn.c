/*
 * hook_spawn.c - the spawner threads of the hook runner.  posix_spawn
 * blocks until the child has called execve, about a millisecond here per
 * hook: a mass failover of 1,000 groups would stall the loop for seconds,
 * so the calls run on threads (which also run two execs at once on two
 * cores).  The threads touch only the spawn_req they hold and, under
 * r->mu, r->todo, r->done and r->notified; the hook itself, and every
 * libevent call but the notify event's, stay on the loop's thread
 * (hook.c).
 */
#include "controller/shell/hook_int.h"

#include <sys/queue.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <unistd.h>

#include <event2/event.h>

static void	*hook_spawner_main(void *);
static void	 hook_spawn_notify_cb(evutil_socket_t, short, void *);

/*
 * posix_spawn: own process group, default signal dispositions, empty mask,
 * stdin /dev/null, stdout and stderr to the pipes, nothing else open.
 * Runs on a spawner thread: touches REQ only.  glibc's posix_spawn returns
 * once the child has called execve (CLONE_VFORK), and reports a failed
 * execve as its own error.
 */
void
hook_spawn_exec(struct spawn_req *req)
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

void
hook_spawn_req_free(struct spawn_req *req)
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
bool
hook_spawners_ready(struct hook_runner *r)
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
	    hook_spawn_notify_cb, r);
	if (r->ev_notify == NULL || event_add(r->ev_notify, NULL) == -1)
		goto inline_only;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (i = 0; i < r->nthreads; i++) {
		if (pthread_create(&r->threads[r->nstarted], NULL,
		    hook_spawner_main, r) != 0)
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
void
hook_spawners_stop(struct hook_runner *r)
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
		hook_spawn_req_free(req);
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
hook_spawner_main(void *arg)
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
		hook_spawn_exec(req);
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
hook_spawn_notify_cb(evutil_socket_t fd, short what, void *arg)
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
		hook_spawn_done(req);
	}
}
