/*
 * daemon_progress.h - write the last line of a switch's running hook for
 * failoverctl (the format: face/progress.h).
 */
#ifndef FAILOVERD_DAEMON_PROGRESS_H
#define FAILOVERD_DAEMON_PROGRESS_H

struct daemon;

/*
 * LINE is the newest line of the hook of switch ID (PHASE, on STACK) of
 * GROUP: written at once when the last write is PROGRESS_WRITE_MS old,
 * else by a timer then.  Write errors are ignored: a progress display
 * that lags is no reason to log or to stop.
 */
void	 dprogress_line(struct daemon *, const char *group, const char *id,
	    const char *phase, const char *stack, const char *line);

/* That hook ended: the file goes. */
void	 dprogress_end(struct daemon *, const char *group, const char *id);

#endif
