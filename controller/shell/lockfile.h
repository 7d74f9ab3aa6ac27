/*
 * lockfile.h - one controller per state: state_dir/lock, held with flock
 * for the daemon's whole life (DESIGN.md, "What failoverd trusts").
 *
 * A second failoverd on the same state_dir finds the lock held and exits
 * before it touches anything.  The lock is the kernel's, not the file's:
 * it ends with the process however it ends (SIGKILL included), so a file
 * left behind by a dead daemon is no obstacle and is never removed.  The
 * file holds the holder's pid, for the message only.  The descriptor is
 * close-on-exec, so a hook that outlives the daemon does not keep the
 * state locked against the daemon that must stop it.
 *
 * Leaf-style: nothing is logged; errors come back as values and text.
 */
#ifndef FAILOVERD_LOCKFILE_H
#define FAILOVERD_LOCKFILE_H

#include <stddef.h>
#include <sys/types.h>

struct lockfile;

enum lockfile_rc {
	LOCKFILE_OK = 0,
	LOCKFILE_HELD = 1,	/* another process holds it: *holder */
	LOCKFILE_ERROR = -1,	/* cannot be taken at all: err */
};

/*
 * Take DIR/lock, creating DIR (mode 0700, as the store does) and the file
 * when missing, and write our pid into it.  Never blocks.  LOCKFILE_HELD:
 * *holder is the pid written by the holder (0 when it cannot be read).
 * LOCKFILE_ERROR: err says what (a read-only or foreign directory, a
 * symbolic link in place of the file, ...).  *out is set on LOCKFILE_OK
 * only; release it with lockfile_release().
 */
enum lockfile_rc lockfile_take(const char *dir, struct lockfile **out,
		    pid_t *holder, char *err, size_t errlen);

/* Drop the lock (the file stays).  NULL is allowed. */
void	 lockfile_release(struct lockfile *);

/* The lock file's path, for messages. */
const char *lockfile_path(const struct lockfile *);

#endif
