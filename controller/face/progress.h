/*
 * progress.h - the last line of output of a switch's running hook, for
 * failoverctl's progress display.
 *
 * The daemon writes it (shell/daemon_progress.c) to STATE_DIR/progress.GROUP
 * while a hook of a switch of GROUP runs, at most every
 * PROGRESS_WRITE_MS, and removes it when the hook ends; failoverctl reads
 * it while it follows the switch.  It is not the state: a plain file
 * beside the LMDB environment, replaced by rename(2), never synced, so
 * that a chatty hook costs no durable write.  Three lines:
 *
 *   www-1796609362980        the switch's id
 *   promote app2             the phase and the stack
 *   copying 42 of 100        the hook's last line (at most PROGRESS_LINE_MAX)
 */
#ifndef FAILOVERD_PROGRESS_H
#define FAILOVERD_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>

#define PROGRESS_WRITE_MS	200
#define PROGRESS_LINE_MAX	256

/* STATE_DIR/progress.GROUP into buf; false when it does not fit. */
bool	 progress_path(const char *state_dir, const char *group, char *buf,
	    size_t len);

/*
 * The last line of the hook of switch ID in PHASE of GROUP into line
 * (control characters replaced by '?').  false when there is none (no
 * file, another switch or phase, unreadable).
 */
bool	 progress_read(const char *state_dir, const char *group,
	    const char *id, const char *phase, char *line, size_t len);

#endif
