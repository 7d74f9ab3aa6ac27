/*
 * store_int.h - internals shared by the store's own files: store.c (the
 * environment, transactions and keyed records) and store_log.c (the
 * history chain and the probe log).  No other module includes this: the
 * store's interface is store.h.
 */
#ifndef FAILOVERD_STORE_INT_H
#define FAILOVERD_STORE_INT_H

#include <sys/types.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <lmdb.h>

#include "controller/store/store.h"

enum store_db {
	DB_META = 0,
	DB_GROUPS,
	DB_FLAGS,
	DB_JOURNAL,
	DB_HISTORY,
	DB_ADDRESSES,
	DB_PROBELOG,
	DB_COUNT
};

extern const char *const store_db_names[DB_COUNT];

/* meta: the count of flags writes (store.c), zero when created (store_env.c). */
#define KEY_GENERATION		"store.generation"

struct store {
	MDB_env		*env;
	MDB_dbi		 dbi[DB_COUNT];
	char		*path;
	bool		 rdonly;
	bool		 writing;	/* a write txn is open in this process */
	int		 ntxn;		/* txns open in this process */
	dev_t		 dev;
	ino_t		 ino;
	pid_t		 pid;
	void		(*history_cb)(void *);	/* store_set_history_cb */
	void		*history_arg;
	struct store	*next;		/* the open stores of this process */
};

/* A store error code (STORE_E_*) for an LMDB or errno return code. */
int	 store_map_err(int);
/* printf into a caller's error buffer (NULL or 0 length: nothing). */
void	 store_set_err(char *, size_t, const char *, ...)
	    __attribute__((format(printf, 3, 4)));
/* Record the first failure of a txn (later ones keep it); returns it. */
int	 store_fail(struct store_txn *, int code, const char *, ...)
	    __attribute__((format(printf, 3, 4)));
/* The same for an LMDB return code, with mdb_strerror in the detail. */
int	 store_mdb_fail(struct store_txn *, int rc, const char *what,
	    const char *dbname);
/* Whether the txn may take another step (a write step when WRITE). */
bool	 store_usable(struct store_txn *, bool write);
/* A name key of 1..STORE_NAME_MAX bytes; its length in *len. */
int	 store_name_check(struct store_txn *, const char *what,
	    const char *name, size_t *len);
/* Raw records; the value of get borrows from the map. */
bool	 store_kv_get(struct store_txn *, enum store_db, const void *key,
	    size_t keylen, MDB_val *val);
int	 store_kv_put(struct store_txn *, enum store_db, const void *key,
	    size_t keylen, const void *val, size_t vallen);
/* Room for LEN bytes of value, to be written at once; NULL on failure. */
void	*store_kv_reserve(struct store_txn *, enum store_db, const void *key,
	    size_t keylen, size_t len);
int	 store_cursor_open(struct store_txn *, enum store_db, MDB_cursor **);

/* Byte order of the on-disk encodings. */
static inline void
put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static inline void
put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline void
put_le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline uint16_t
get_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

static inline uint32_t
get_le32(const uint8_t *p)
{
	uint32_t v = 0;

	for (int i = 3; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static inline uint64_t
get_le64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static inline void
put_be64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (56 - 8 * i));
}

static inline uint64_t
get_be64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return v;
}

#endif
