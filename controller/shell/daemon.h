/*
 * daemon.h - the imperative shell around the decision engine.
 *
 * One libevent loop owns everything: the probe engine, the DNS engine, the
 * hook runner, the timers, the signal events and (when configured) the
 * HTTP listener.  daemon_run() loads the state from LMDB, resumes every
 * unfinished switch, publishes or verifies each group's record, starts the
 * probes and runs the loop until SIGTERM/SIGINT.
 */
#ifndef FAILOVERD_DAEMON_H
#define FAILOVERD_DAEMON_H

#include <stdbool.h>

struct daemon_opts {
	const char	*config_path;
	bool		 dry_run;	/* no hook, no UPDATE, scratch state */
	bool		 paused;	/* every group starts paused */
};

/* Run until stopped.  Returns the process exit status (0 clean stop). */
int	 daemon_main(const struct daemon_opts *);

#endif
