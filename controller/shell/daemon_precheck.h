/*
 * daemon_precheck.h - the daemon's side of a precheck asked by an
 * operator (face/ops_precheck.h): run the target stack's precheck hook
 * now and write its verdict, changing no group's state.
 */
#ifndef FAILOVERD_DAEMON_PRECHECK_H
#define FAILOVERD_DAEMON_PRECHECK_H

struct daemon;
struct dgroup;

/*
 * Look for requests not answered yet (after the flags generation moved)
 * and start them.  A request is refused at once (verdict not_run, with
 * the reason) while a switch of its group or any hook of it runs, in a
 * dry run, on a cluster member that does not lead, while stopping, or
 * when the stack has no precheck hook.
 */
void	 dprecheck_poll(struct daemon *);

/*
 * A hook of G's switch (or the engine's own precheck) is about to start:
 * an operator's precheck of G still running is cancelled (its process
 * group gets SIGTERM, then SIGKILL) and answered as cancelled, so that it
 * never delays the switch and runs beside it for the kill grace at most.
 */
void	 dprecheck_yield(struct dgroup *g);

/*
 * Stopping: cancel every operator's precheck still running (answered as
 * cancelled, reason stopping), so that none delays the daemon's exit.
 */
void	 dprecheck_stop_all(void);

#endif
