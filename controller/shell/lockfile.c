/*
 * lockfile.c - state_dir/lock: flock(2), held until the process ends.
 *
 * flock rather than fcntl record locks: an fcntl lock is dropped when the
 * process closes ANY descriptor of the file (LMDB's own files are not this
 * one, but a later reader of the file in this process would silently
 * unlock it), and flock's lock belongs to the open file description, which
 * nothing else in the daemon holds.  The file is never unlinked: removing
 * it while a second daemon has it open would let a third lock a new file
 * of the same name.
 */
#include "controller/shell/lockfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define LOCKFILE_NAME		"lock"
/* The holder writes its pid just after it locks: how long we wait for it. */
#define HOLDER_READ_TRIES	40
#define HOLDER_READ_WAIT_NS	(5 * 1000000L)

struct lockfile {
	int	 fd;
	char	 path[4096];
};

static pid_t	 holder_read(int);
static int	 pid_write(int);

enum lockfile_rc
lockfile_take(const char *dir, struct lockfile **out, pid_t *holder,
    char *err, size_t errlen)
{
	struct lockfile *lf;
	struct stat sb;
	int e;

	*out = NULL;
	*holder = 0;
	if (dir == NULL || *dir == '\0') {
		snprintf(err, errlen, "no state directory given");
		return LOCKFILE_ERROR;
	}
	if ((lf = calloc(1, sizeof(*lf))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return LOCKFILE_ERROR;
	}
	lf->fd = -1;
	if ((size_t)snprintf(lf->path, sizeof(lf->path), "%s/%s", dir,
	    LOCKFILE_NAME) >= sizeof(lf->path)) {
		snprintf(err, errlen, "%s: path too long", dir);
		goto fail;
	}
	/* As the store creates it (store.c): ours alone. */
	if (mkdir(dir, 0700) == -1 && errno != EEXIST) {
		snprintf(err, errlen, "%s: cannot create directory: %s", dir,
		    strerror(errno));
		goto fail;
	}
	if (stat(dir, &sb) == -1) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		goto fail;
	}
	if (!S_ISDIR(sb.st_mode)) {
		snprintf(err, errlen, "%s: not a directory", dir);
		goto fail;
	}
	lf->fd = open(lf->path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW |
	    O_NOCTTY | O_NONBLOCK, 0600);
	if (lf->fd == -1) {
		e = errno;
		if (e == ELOOP)
			snprintf(err, errlen, "%s is a symbolic link", lf->path);
		else
			snprintf(err, errlen, "cannot open %s: %s", lf->path,
			    strerror(e));
		goto fail;
	}
	if (fstat(lf->fd, &sb) == -1) {
		snprintf(err, errlen, "%s: %s", lf->path, strerror(errno));
		goto fail;
	}
	if (!S_ISREG(sb.st_mode)) {
		snprintf(err, errlen, "%s is not a regular file", lf->path);
		goto fail;
	}
	while (flock(lf->fd, LOCK_EX | LOCK_NB) == -1) {
		e = errno;
		if (e == EINTR)
			continue;
		if (e == EWOULDBLOCK) {
			*holder = holder_read(lf->fd);
			snprintf(err, errlen, "%s is held by another process",
			    lf->path);
			close(lf->fd);
			free(lf);
			return LOCKFILE_HELD;
		}
		snprintf(err, errlen, "cannot lock %s: %s", lf->path,
		    strerror(e));
		goto fail;
	}
	if (pid_write(lf->fd) != 0) {
		snprintf(err, errlen, "cannot write %s: %s", lf->path,
		    strerror(errno));
		goto fail;
	}
	*out = lf;
	return LOCKFILE_OK;
fail:
	if (lf->fd != -1)
		close(lf->fd);
	free(lf);
	return LOCKFILE_ERROR;
}

void
lockfile_release(struct lockfile *lf)
{
	if (lf == NULL)
		return;
	/* Closing the only descriptor of the description drops the lock. */
	close(lf->fd);
	free(lf);
}

const char *
lockfile_path(const struct lockfile *lf)
{
	return lf->path;
}

/* Our pid, replacing whatever a dead holder left. */
static int
pid_write(int fd)
{
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());

	if (ftruncate(fd, 0) == -1)
		return -1;
	if (pwrite(fd, buf, (size_t)n, 0) != n) {
		if (errno == 0)
			errno = EIO;
		return -1;
	}
	return 0;
}

/*
 * The holder's pid as it wrote it; 0 when the file holds none after a
 * short wait (the holder locks first and writes next).
 */
static pid_t
holder_read(int fd)
{
	struct timespec ts = { 0, HOLDER_READ_WAIT_NS };

	for (int i = 0; i < HOLDER_READ_TRIES; i++) {
		char buf[32], *end;
		ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
		long v;

		if (n > 0) {
			buf[n] = '\0';
			errno = 0;
			v = strtol(buf, &end, 10);
			if (errno == 0 && end != buf && *end == '\n' && v > 0)
				return (pid_t)v;
		}
		nanosleep(&ts, NULL);
	}
	return 0;
}
