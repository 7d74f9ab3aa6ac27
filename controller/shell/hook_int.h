/*
 * hook_int.h - what hook.c (the hooks' life on the loop) and hook_spawn.c
 * (the spawner threads) share: the runner and one spawn request.  Not for
 * users of the runner, who see only hook.h.
 */
#ifndef FAILOVERD_HOOK_INT_H
#define FAILOVERD_HOOK_INT_H

#include <sys/queue.h>
#include <sys/types.h>

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "controller/shell/hook.h"

#define HOOK_SPAWN_THREADS_MAX	8

struct hook;
struct event;
struct event_base;
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

/* hook_spawn.c: posix_spawn REQ (on a thread or inline); free it. */
void	 hook_spawn_exec(struct spawn_req *);
void	 hook_spawn_req_free(struct spawn_req *);
/* Start the threads on first use: false means spawn inline. */
bool	 hook_spawners_ready(struct hook_runner *);
/* Stop them; spawns not seen by the loop are killed and reaped. */
void	 hook_spawners_stop(struct hook_runner *);
/* hook.c, on the loop: the spawn of REQ is over; watch the hook. */
void	 hook_spawn_done(struct spawn_req *);

#endif
