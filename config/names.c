/*
 * names.c - a set of names, each mapped to an index, in a hash table:
 * what keeps config_load() linear (duplicate sections, references from
 * groups to stacks, one address per group) and the lookups by name of a
 * loaded configuration constant in time.
 *
 * Open addressing with linear probing over a power-of-two table kept at
 * most half full; FNV-1a over the bytes (folded to lower case for a
 * case-insensitive set).  Keys are borrowed: they must outlive the set,
 * as the names of a struct config do.  Nothing is ever removed.
 */
#include "config/config.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config/cfg_int.h"

struct cfg_names_slot {
	const char	*key;		/* NULL: empty */
	size_t		 idx;
};

static uint64_t
names_hash(const char *s, bool nocase)
{
	uint64_t h = 14695981039346656037ULL;

	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		h ^= nocase ? (unsigned char)tolower(c) : c;
		h *= 1099511628211ULL;
	}
	return h;
}

static bool
names_eq(const struct cfg_names *t, const char *a, const char *b)
{
	return t->nocase ? strcasecmp(a, b) == 0 : strcmp(a, b) == 0;
}

/* The slot holding key, or the empty slot where it would go. */
static struct cfg_names_slot *
names_slot(const struct cfg_names *t, const char *key)
{
	size_t mask = t->cap - 1, i = (size_t)names_hash(key, t->nocase) & mask;

	while (t->slot[i].key != NULL && !names_eq(t, t->slot[i].key, key))
		i = (i + 1) & mask;
	return &t->slot[i];
}

static int
names_grow(struct cfg_names *t)
{
	struct cfg_names old = *t;
	size_t cap = t->cap ? t->cap * 2 : 64;

	if ((t->slot = calloc(cap, sizeof(*t->slot))) == NULL) {
		t->slot = old.slot;
		return -1;
	}
	t->cap = cap;
	for (size_t i = 0; i < old.cap; i++)
		if (old.slot[i].key != NULL)
			*names_slot(t, old.slot[i].key) = old.slot[i];
	free(old.slot);
	return 0;
}

int
cfg_names_put(struct cfg_names *t, const char *key, size_t idx, size_t *old)
{
	struct cfg_names_slot *s;

	if ((t->n + 1) * 2 > t->cap && names_grow(t) == -1)
		return -1;
	s = names_slot(t, key);
	if (s->key != NULL) {
		if (old != NULL)
			*old = s->idx;
		return 1;
	}
	s->key = key;
	s->idx = idx;
	t->n++;
	return 0;
}

bool
cfg_names_get(const struct cfg_names *t, const char *key, size_t *idx)
{
	const struct cfg_names_slot *s;

	if (t == NULL || t->cap == 0 || key == NULL)
		return false;
	s = names_slot(t, key);
	if (s->key == NULL)
		return false;
	if (idx != NULL)
		*idx = s->idx;
	return true;
}

void
cfg_names_clear(struct cfg_names *t)
{
	if (t == NULL)
		return;
	free(t->slot);
	t->slot = NULL;
	t->cap = t->n = 0;
}
