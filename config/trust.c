/*
 * trust.c - what failoverd checks before it trusts a file: the hooks it
 * runs as root and the state directory it writes (who may change them),
 * and the API token file (who may read it, what it holds).
 *
 * "Ours" means owned by root or by the effective user (the daemon's user).
 * A file we run or a directory we write must be ours and writable by no
 * one else, and so must every directory on the way to it: whoever may
 * write a directory may rename what is in it and put something else in
 * its place.  The one exception is a sticky directory (/tmp): others may
 * write it but not rename or remove what they do not own, so the entry
 * under it need only be ours.  The way is checked as written (whoever may
 * change a directory holding a symbolic link may change where it points)
 * and as resolved by realpath(3) (where the links lead), as OpenSSH's
 * safe_path() does, with the sticky exception added.
 *
 * The token file is read by one function, cfg_token_read(), for both
 * `failoverd -t` and the running daemon, so the two cannot disagree.
 */
#include "config/config.h"

#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/cfg_int.h"

#define TOKEN_FILE_MAX	4096	/* bytes of the token file read */

bool
cfg_owner_ok(uid_t uid)
{
	return uid == 0 || uid == geteuid();
}

void
cfg_owner_why(const char *path, uid_t uid, char *why, size_t len)
{
	cfg_why(why, len, "%s is owned by uid %u, not by root or the daemon's "
	    "user (uid %u)", path, (unsigned)uid, (unsigned)geteuid());
}

/*
 * One directory on the way: ours, and writable by no one else unless it
 * is sticky and next (the entry in it, not followed) is ours.
 */
static int
dir_ok(const char *dir, const char *next, char *why, size_t len)
{
	struct stat st, nst;

	if (stat(dir, &st) == -1) {
		cfg_why(why, len, "%s: %s", dir, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		cfg_why(why, len, "%s is not a directory", dir);
		return -1;
	}
	if (!cfg_owner_ok(st.st_uid)) {
		cfg_owner_why(dir, st.st_uid, why, len);
		return -1;
	}
	if ((st.st_mode & 022) == 0)
		return 0;
	if ((st.st_mode & S_ISVTX) && next != NULL &&
	    lstat(next, &nst) == 0 && cfg_owner_ok(nst.st_uid))
		return 0;
	cfg_why(why, len, "directory %s is writable by %s (mode %04o), so "
	    "what is in it can be replaced", dir,
	    (st.st_mode & 022) == 022 ? "group and others" :
	    (st.st_mode & 020) ? "group" : "others",
	    (unsigned)(st.st_mode & 07777));
	return -1;
}

/* Every directory from / down to the one holding path (absolute). */
static int
chain_ok(const char *path, char *why, size_t len)
{
	char dir[PATH_MAX], next[PATH_MAX];
	size_t n = strlen(path);

	if (path[0] != '/' || n >= sizeof(dir)) {
		cfg_why(why, len, "'%s' is not a usable absolute path", path);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		size_t j;

		if (path[i] != '/')
			continue;
		j = i + 1;
		while (j < n && path[j] != '/')
			j++;
		if (j == i + 1)		/* "//" or a trailing '/' */
			continue;
		if (j == n && i + 1 == n)
			break;
		memcpy(dir, path, i == 0 ? 1 : i);
		dir[i == 0 ? 1 : i] = '\0';
		memcpy(next, path, j);
		next[j] = '\0';
		if (dir_ok(dir, next, why, len) == -1)
			return -1;
	}
	return 0;
}

int
cfg_path_check(const char *path, char *why, size_t len)
{
	char *real;
	int rc;

	if (chain_ok(path, why, len) == -1)
		return -1;
	if ((real = realpath(path, NULL)) == NULL) {
		cfg_why(why, len, "%s: %s", path, strerror(errno));
		return -1;
	}
	rc = strcmp(real, path) == 0 ? 0 : chain_ok(real, why, len);
	free(real);
	return rc;
}

/*
 * The files LMDB opens by name in the state directory (the store opens
 * them itself with O_NOFOLLOW before LMDB does; this says so at -t):
 * absent, or regular files with one link, ours.
 */
static int
store_files_ok(const char *dir, char *why, size_t len)
{
	static const char *const names[] = { "data.mdb", "lock.mdb" };
	char p[PATH_MAX];
	struct stat st;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, names[i]);
		if (lstat(p, &st) == -1)
			continue;
		if (S_ISLNK(st.st_mode)) {
			cfg_why(why, len, "%s is a symbolic link", p);
			return -1;
		}
		if (!S_ISREG(st.st_mode)) {
			cfg_why(why, len, "%s is not a regular file", p);
			return -1;
		}
		if (st.st_nlink != 1) {
			cfg_why(why, len, "%s has %ju links; it must have one",
			    p, (uintmax_t)st.st_nlink);
			return -1;
		}
		if (!cfg_owner_ok(st.st_uid)) {
			cfg_owner_why(p, st.st_uid, why, len);
			return -1;
		}
	}
	return 0;
}

int
cfg_dir_check(const char *path, char *why, size_t len)
{
	struct stat st;
	char parent[PATH_MAX], *slash;

	if (stat(path, &st) == 0) {
		if (!S_ISDIR(st.st_mode)) {
			cfg_why(why, len, "%s is not a directory", path);
			return -1;
		}
		if (!cfg_owner_ok(st.st_uid)) {
			cfg_owner_why(path, st.st_uid, why, len);
			return -1;
		}
		if (st.st_mode & 022) {
			cfg_why(why, len, "%s is writable by %s (mode %04o); "
			    "chmod 700 it", path, (st.st_mode & 022) == 022 ?
			    "group and others" : (st.st_mode & 020) ? "group" :
			    "others", (unsigned)(st.st_mode & 07777));
			return -1;
		}
		if (store_files_ok(path, why, len) == -1)
			return -1;
		return cfg_path_check(path, why, len);
	}
	if (errno != ENOENT) {
		cfg_why(why, len, "%s: %s", path, strerror(errno));
		return -1;
	}
	/*
	 * Not there yet: the daemon will create it in its parent, which must
	 * then be ours and writable by no one else (sticky is not enough:
	 * another user could make the directory first).
	 */
	if (strlen(path) >= sizeof(parent)) {
		cfg_why(why, len, "'%s' is too long", path);
		return -1;
	}
	strcpy(parent, path);
	while ((slash = strrchr(parent, '/')) != NULL && slash[1] == '\0' &&
	    slash > parent)
		*slash = '\0';
	if ((slash = strrchr(parent, '/')) == NULL)
		return 0;
	slash[slash == parent ? 1 : 0] = '\0';
	if (stat(parent, &st) == -1)
		return 0;	/* the store says what is missing */
	if (!cfg_owner_ok(st.st_uid)) {
		cfg_owner_why(parent, st.st_uid, why, len);
		return -1;
	}
	if (st.st_mode & 022) {
		cfg_why(why, len, "%s does not exist, and its directory %s is "
		    "writable by %s (mode %04o): another user could make it "
		    "first", path, parent, (st.st_mode & 022) == 022 ?
		    "group and others" : (st.st_mode & 020) ? "group" :
		    "others", (unsigned)(st.st_mode & 07777));
		return -1;
	}
	return cfg_path_check(parent, why, len);
}

int
cfg_token_read(const char *path, char *tok, size_t toklen, size_t *outlen,
    char *why, size_t len)
{
	char buf[TOKEN_FILE_MAX + 1];
	struct stat st;
	const char *t;
	ssize_t n;
	size_t tl;
	int fd;

	*outlen = 0;
	if (path[0] != '/') {
		cfg_why(why, len, "'%s' is not an absolute path", path);
		return -1;
	}
	/* O_NOFOLLOW: a link could be pointed elsewhere after the check. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK |
	    O_NOCTTY);
	if (fd == -1) {
		if (errno == ELOOP)
			cfg_why(why, len, "%s is a symbolic link; give the file "
			    "itself", path);
		else
			cfg_why(why, len, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		cfg_why(why, len, "%s is not a regular file", path);
		goto fail;
	}
	if (st.st_mode & 077) {
		cfg_secret_mode_why(path, st.st_mode, why, len);
		goto fail;
	}
	if ((n = read(fd, buf, TOKEN_FILE_MAX)) == -1) {
		cfg_why(why, len, "%s: %s", path, strerror(errno));
		goto fail;
	}
	close(fd);
	fd = -1;
	buf[n] = '\0';
	if (n == 0) {
		cfg_why(why, len, "%s is empty", path);
		goto fail;
	}
	/* The first line, without the blanks around it. */
	t = buf + strspn(buf, " \t");
	tl = strcspn(t, "\r\n");
	while (tl > 0 && (t[tl - 1] == ' ' || t[tl - 1] == '\t'))
		tl--;
	if (tl == 0) {
		cfg_why(why, len, "%s: the first line holds no token", path);
		goto fail;
	}
	if (t + tl == buf + TOKEN_FILE_MAX) {
		cfg_why(why, len, "%s: the token is longer than %d bytes", path,
		    TOKEN_FILE_MAX - 1);
		goto fail;
	}
	for (size_t i = 0; i < tl; i++) {
		if ((unsigned char)t[i] < 0x20 || t[i] == 0x7f) {
			cfg_why(why, len, "%s: the token holds a control "
			    "character", path);
			goto fail;
		}
	}
	if (tl < CFG_TOKEN_MIN) {
		cfg_why(why, len, "%s: the token is %zu bytes long; at least %d "
		    "are needed (e.g. head -c 32 /dev/urandom | base64)", path,
		    tl, CFG_TOKEN_MIN);
		goto fail;
	}
	if (tl >= toklen) {
		cfg_why(why, len, "%s: the token is longer than %zu bytes",
		    path, toklen - 1);
		goto fail;
	}
	memcpy(tok, t, tl);
	tok[tl] = '\0';
	*outlen = tl;
	explicit_bzero(buf, sizeof(buf));
	return 0;
fail:
	explicit_bzero(buf, sizeof(buf));
	if (fd != -1)
		close(fd);
	return -1;
}
