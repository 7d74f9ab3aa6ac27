/*
 * store_env.c - opening and closing the LMDB environment: the checks of
 * state_dir and its files before LMDB opens them, the schema record, and
 * the registry that refuses a second handle on one environment in one
 * process.
 *
 * What LMDB opens.  mdb_env_open() opens (and creates) state_dir/data.mdb
 * and state_dir/lock.mdb by name, following symbolic links: a link planted
 * there would have root create or overwrite its target.  So before LMDB
 * does, store_open() checks that the directory is ours (root's or the
 * effective user's) and writable by no one else, so that nothing can be
 * put in it between our check and LMDB's open, and opens each file itself
 * with O_NOFOLLOW (creating it 0600 when absent): each must be a regular
 * file with one link, ours.  LMDB has no call to take a descriptor we
 * opened, so this is the check, not the open LMDB uses.
 *
 * Why read first on open: an existing environment is checked in a read
 * transaction, so failoverctl can open the store while the daemon holds
 * the write lock.  Only an empty environment takes the write lock, and
 * checks again under it, since another process may have created it
 * meanwhile.
 */
#include "controller/store/store.h"
#include "controller/store/store_int.h"

#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lmdb.h>

#define DEFAULT_MAP_SIZE	(64UL * 1024 * 1024)
#define MAX_DBS			16
#define KEY_SCHEMA		"store.schema"

/*
 * The environments open in this process, to refuse a second handle on
 * one (LMDB's fcntl locks are per process).  Entries of another pid were
 * inherited through fork and do not count.
 */
static pthread_mutex_t	 open_lock = PTHREAD_MUTEX_INITIALIZER;
static struct store	*open_stores;

static int	 env_mkdir(const char *, char *, size_t);
static int	 env_dir_check(const char *, char *, size_t);
static int	 env_files_check(const char *, bool, char *, size_t);
static int	 env_setup(struct store *, char *, size_t);
static int	 env_inspect(struct store *, MDB_txn *, bool *, char *,
		    size_t);
static int	 env_create(struct store *, MDB_txn *, char *, size_t);
static int	 env_check(struct store *, MDB_txn *, char *, size_t);
static bool	 registry_add(struct store *);
static void	 registry_remove(struct store *);

/* ---- environment ---- */

static int
env_mkdir(const char *dir, char *err, size_t errlen)
{
	struct stat sb;

	if (mkdir(dir, 0700) == 0)
		return 0;
	if (errno != EEXIST) {
		int e = errno;

		store_set_err(err, errlen, "%s: cannot create directory: %s", dir,
		    strerror(e));
		return store_map_err(e);
	}
	if (stat(dir, &sb) == -1) {
		int e = errno;

		store_set_err(err, errlen, "%s: %s", dir, strerror(e));
		return store_map_err(e);
	}
	if (!S_ISDIR(sb.st_mode)) {
		store_set_err(err, errlen, "%s: not a directory", dir);
		return STORE_E_INVAL;
	}
	return 0;
}

/* The directory: ours, and writable by no one else; see the top. */
static int
env_dir_check(const char *dir, char *err, size_t errlen)
{
	struct stat sb;

	if (stat(dir, &sb) == -1) {
		int e = errno;

		store_set_err(err, errlen, "%s: %s", dir, strerror(e));
		return store_map_err(e);
	}
	if (sb.st_uid != 0 && sb.st_uid != geteuid()) {
		store_set_err(err, errlen, "%s is owned by uid %u, not by root "
		    "or the daemon's user (uid %u)", dir, (unsigned)sb.st_uid,
		    (unsigned)geteuid());
		return STORE_E_UNSAFE;
	}
	if (sb.st_mode & 022) {
		store_set_err(err, errlen, "%s is writable by group or others "
		    "(mode %04o); chmod 700 it", dir,
		    (unsigned)(sb.st_mode & 07777));
		return STORE_E_UNSAFE;
	}
	return 0;
}

/* data.mdb and lock.mdb, opened without following links; see the top. */
static int
env_files_check(const char *dir, bool rdonly, char *err, size_t errlen)
{
	static const char *const names[] = { "data.mdb", "lock.mdb" };
	char path[4096];
	struct stat sb;
	int fd, flags;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		flags = O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK |
		    O_NOCTTY;
		if (!rdonly)
			flags |= O_CREAT;
		if ((fd = open(path, flags, 0600)) == -1) {
			int e = errno;

			if (rdonly && e == ENOENT)
				continue;	/* LMDB says what is missing */
			if (e == ELOOP) {
				store_set_err(err, errlen, "%s is a symbolic "
				    "link", path);
				return STORE_E_UNSAFE;
			}
			store_set_err(err, errlen, "%s: %s", path, strerror(e));
			return store_map_err(e);
		}
		if (fstat(fd, &sb) == -1) {
			int e = errno;

			close(fd);
			store_set_err(err, errlen, "%s: %s", path, strerror(e));
			return store_map_err(e);
		}
		close(fd);
		if (!S_ISREG(sb.st_mode)) {
			store_set_err(err, errlen, "%s is not a regular file",
			    path);
			return STORE_E_UNSAFE;
		}
		if (sb.st_nlink != 1) {
			store_set_err(err, errlen, "%s has %ju links; it must "
			    "have one", path, (uintmax_t)sb.st_nlink);
			return STORE_E_UNSAFE;
		}
		if (sb.st_uid != 0 && sb.st_uid != geteuid()) {
			store_set_err(err, errlen, "%s is owned by uid %u, not "
			    "by root or the daemon's user", path,
			    (unsigned)sb.st_uid);
			return STORE_E_UNSAFE;
		}
	}
	return 0;
}

/*
 * Whether the environment is empty (no named database yet): the main
 * database holds one record per named database.
 */
static int
env_inspect(struct store *st, MDB_txn *txn, bool *empty, char *err,
    size_t errlen)
{
	MDB_dbi main;
	MDB_stat ms;
	int rc;

	if ((rc = mdb_dbi_open(txn, NULL, 0, &main)) != 0 ||
	    (rc = mdb_stat(txn, main, &ms)) != 0) {
		store_set_err(err, errlen, "%s: main database: %s", st->path,
		    mdb_strerror(rc));
		return store_map_err(rc);
	}
	*empty = ms.ms_entries == 0;
	return 0;
}

static int
env_create(struct store *st, MDB_txn *txn, char *err, size_t errlen)
{
	MDB_val k, v;
	uint8_t ver[4], gen[8];
	int rc;

	for (int i = 0; i < DB_COUNT; i++)
		if ((rc = mdb_dbi_open(txn, store_db_names[i], MDB_CREATE,
		    &st->dbi[i])) != 0) {
			store_set_err(err, errlen, "%s: create database %s: %s",
			    st->path, store_db_names[i], mdb_strerror(rc));
			return store_map_err(rc);
		}
	put_le32(ver, STORE_SCHEMA_VERSION);
	put_le64(gen, 0);
	k.mv_data = (void *)KEY_SCHEMA;
	k.mv_size = strlen(KEY_SCHEMA);
	v.mv_data = ver;
	v.mv_size = sizeof(ver);
	if ((rc = mdb_put(txn, st->dbi[DB_META], &k, &v, 0)) == 0) {
		k.mv_data = (void *)KEY_GENERATION;
		k.mv_size = strlen(KEY_GENERATION);
		v.mv_data = gen;
		v.mv_size = sizeof(gen);
		rc = mdb_put(txn, st->dbi[DB_META], &k, &v, 0);
	}
	if (rc != 0) {
		store_set_err(err, errlen, "%s: write schema record: %s", st->path,
		    mdb_strerror(rc));
		return store_map_err(rc);
	}
	return 0;
}

/* An existing environment: the schema must be ours, every database there. */
static int
env_check(struct store *st, MDB_txn *txn, char *err, size_t errlen)
{
	MDB_val k, v;
	uint32_t ver;
	int rc;

	if ((rc = mdb_dbi_open(txn, store_db_names[DB_META], 0,
	    &st->dbi[DB_META])) != 0) {
		store_set_err(err, errlen, "%s: state has data but no meta "
		    "database: %s", st->path, mdb_strerror(rc));
		return rc == MDB_NOTFOUND ? STORE_E_CORRUPT : store_map_err(rc);
	}
	k.mv_data = (void *)KEY_SCHEMA;
	k.mv_size = strlen(KEY_SCHEMA);
	if ((rc = mdb_get(txn, st->dbi[DB_META], &k, &v)) != 0) {
		store_set_err(err, errlen, "%s: state has data but no schema "
		    "record: %s", st->path, mdb_strerror(rc));
		return rc == MDB_NOTFOUND ? STORE_E_CORRUPT : store_map_err(rc);
	}
	if (v.mv_size != 4) {
		store_set_err(err, errlen, "%s: schema record of %zu bytes, "
		    "expected 4", st->path, v.mv_size);
		return STORE_E_CORRUPT;
	}
	ver = get_le32(v.mv_data);
	if (ver > STORE_SCHEMA_VERSION) {
		store_set_err(err, errlen, "%s: state schema version %u is newer "
		    "than this failoverd's version %d; refusing to touch it",
		    st->path, ver, STORE_SCHEMA_VERSION);
		return STORE_E_SCHEMA;
	}
	if (ver != STORE_SCHEMA_VERSION) {
		/* A migration from an older version would go here. */
		store_set_err(err, errlen, "%s: unknown state schema version %u "
		    "(this failoverd knows version %d); refusing to touch it",
		    st->path, ver, STORE_SCHEMA_VERSION);
		return STORE_E_SCHEMA;
	}
	for (int i = 1; i < DB_COUNT; i++)
		if ((rc = mdb_dbi_open(txn, store_db_names[i], 0,
		    &st->dbi[i])) != 0) {
			store_set_err(err, errlen, "%s: database %s: %s", st->path,
			    store_db_names[i], mdb_strerror(rc));
			return rc == MDB_NOTFOUND ? STORE_E_CORRUPT :
			    store_map_err(rc);
		}
	return 0;
}

static int
env_setup(struct store *st, char *err, size_t errlen)
{
	MDB_txn *txn = NULL;
	bool empty = false;
	int rc, ret;

	if ((rc = mdb_txn_begin(st->env, NULL, MDB_RDONLY, &txn)) != 0) {
		store_set_err(err, errlen, "%s: begin: %s", st->path,
		    mdb_strerror(rc));
		return store_map_err(rc);
	}
	if ((ret = env_inspect(st, txn, &empty, err, errlen)) != 0)
		goto fail;
	if (empty && st->rdonly) {
		store_set_err(err, errlen, "%s: no state here", st->path);
		ret = STORE_E_NOTFOUND;
		goto fail;
	}
	if (empty) {
		mdb_txn_abort(txn);
		txn = NULL;
		if ((rc = mdb_txn_begin(st->env, NULL, 0, &txn)) != 0) {
			store_set_err(err, errlen, "%s: begin: %s", st->path,
			    mdb_strerror(rc));
			return store_map_err(rc);
		}
		/* Someone may have created it while we waited for the lock. */
		if ((ret = env_inspect(st, txn, &empty, err, errlen)) != 0)
			goto fail;
	}
	ret = empty ? env_create(st, txn, err, errlen) :
	    env_check(st, txn, err, errlen);
	if (ret != 0)
		goto fail;
	rc = mdb_txn_commit(txn);	/* keeps the dbi handles */
	txn = NULL;
	if (rc != 0) {
		store_set_err(err, errlen, "%s: commit: %s", st->path,
		    mdb_strerror(rc));
		return store_map_err(rc);
	}
	return 0;
 fail:
	mdb_txn_abort(txn);
	return ret;
}

static bool
registry_add(struct store *st)
{
	struct store *s;
	bool ok = true;

	pthread_mutex_lock(&open_lock);
	for (s = open_stores; s != NULL; s = s->next)
		if (s->pid == st->pid && s->dev == st->dev &&
		    s->ino == st->ino)
			ok = false;
	if (ok) {
		st->next = open_stores;
		open_stores = st;
	}
	pthread_mutex_unlock(&open_lock);
	return ok;
}

static void
registry_remove(struct store *st)
{
	struct store **sp;

	pthread_mutex_lock(&open_lock);
	for (sp = &open_stores; *sp != NULL; sp = &(*sp)->next)
		if (*sp == st) {
			*sp = st->next;
			break;
		}
	pthread_mutex_unlock(&open_lock);
}

int
store_open(const char *dir, size_t map_size, int flags, struct store **out,
    char *err, size_t errlen)
{
	struct store *st = NULL;
	struct stat sb;
	bool registered = false;
	unsigned int envflags = MDB_NOTLS;
	int rc, ret, dead;

	*out = NULL;
	store_set_err(err, errlen, "%s", "");
	if (dir == NULL || *dir == '\0') {
		store_set_err(err, errlen, "no state directory given");
		return STORE_E_INVAL;
	}
	if ((st = calloc(1, sizeof(*st))) == NULL ||
	    (st->path = strdup(dir)) == NULL) {
		store_set_err(err, errlen, "%s: out of memory", dir);
		ret = STORE_E_NOMEM;
		goto fail;
	}
	st->rdonly = (flags & STORE_RDONLY) != 0;
	st->pid = getpid();
	if (st->rdonly) {
		envflags |= MDB_RDONLY;
		if (stat(dir, &sb) == -1) {
			int e = errno;

			store_set_err(err, errlen, "%s: %s", dir, strerror(e));
			ret = store_map_err(e);
			goto fail;
		}
		if (!S_ISDIR(sb.st_mode)) {
			store_set_err(err, errlen, "%s: not a directory", dir);
			ret = STORE_E_INVAL;
			goto fail;
		}
	} else if ((ret = env_mkdir(dir, err, errlen)) != 0)
		goto fail;
	if (stat(dir, &sb) == -1) {
		int e = errno;

		store_set_err(err, errlen, "%s: %s", dir, strerror(e));
		ret = store_map_err(e);
		goto fail;
	}
	st->dev = sb.st_dev;
	st->ino = sb.st_ino;
	if ((ret = env_dir_check(dir, err, errlen)) != 0 ||
	    (ret = env_files_check(dir, st->rdonly, err, errlen)) != 0)
		goto fail;
	if (!registry_add(st)) {
		store_set_err(err, errlen, "%s: already open in this process", dir);
		ret = STORE_E_BUSY;
		goto fail;
	}
	registered = true;

	if ((rc = mdb_env_create(&st->env)) != 0 ||
	    (rc = mdb_env_set_maxdbs(st->env, MAX_DBS)) != 0 ||
	    (rc = mdb_env_set_mapsize(st->env,
	    map_size ? map_size : DEFAULT_MAP_SIZE)) != 0) {
		store_set_err(err, errlen, "%s: %s", dir, mdb_strerror(rc));
		ret = store_map_err(rc);
		goto fail;
	}
	if ((rc = mdb_env_open(st->env, dir, envflags, 0600)) != 0) {
		store_set_err(err, errlen, "%s: cannot open LMDB environment: %s",
		    dir, mdb_strerror(rc));
		ret = store_map_err(rc);
		goto fail;
	}
	/* Reader slots of processes killed while reading. */
	(void)mdb_reader_check(st->env, &dead);
	if ((ret = env_setup(st, err, errlen)) != 0)
		goto fail;
	*out = st;
	return 0;
 fail:
	if (registered)
		registry_remove(st);
	if (st != NULL) {
		if (st->env != NULL)
			mdb_env_close(st->env);
		free(st->path);
		free(st);
	}
	return ret;
}

void
store_close(struct store *st)
{
	if (st == NULL)
		return;
	registry_remove(st);
	mdb_env_close(st->env);
	free(st->path);
	free(st);
}

const char *
store_path(const struct store *st)
{
	return st->path;
}
