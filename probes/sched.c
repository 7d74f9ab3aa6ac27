/*
 * sched.c - binary min-heap of deadlines with movable nodes.
 *
 * With 10,000 probes a move costs about 14 levels; libevent's own timer
 * heap then holds one event for the whole schedule instead of 10,000.
 * Sifting carries the moving entry in a register and writes each entry
 * once per level (a hole, not swaps).
 */
#include "probes/sched.h"

#include <stdlib.h>

static void	 sched_place(struct sched *, size_t, struct sched_ent);
static void	 sched_up(struct sched *, size_t);
static void	 sched_down(struct sched *, size_t);

void
sched_deinit(struct sched *s)
{
	free(s->v);
	s->v = NULL;
	s->n = s->cap = 0;
}

int
sched_reserve(struct sched *s)
{
	struct sched_ent	*v;
	size_t			 cap;

	if (s->n < s->cap)
		return 0;
	cap = s->cap ? s->cap * 2 : 64;
	if ((v = reallocarray(s->v, cap, sizeof(*v))) == NULL)
		return -1;
	s->v = v;
	s->cap = cap;
	return 0;
}

static void
sched_place(struct sched *s, size_t i, struct sched_ent ent)
{
	s->v[i] = ent;
	ent.n->idx = i;
}

static void
sched_up(struct sched *s, size_t i)
{
	struct sched_ent	 ent = s->v[i];
	size_t			 parent;

	while (i > 0) {
		parent = (i - 1) / 2;
		if (s->v[parent].due <= ent.due)
			break;
		sched_place(s, i, s->v[parent]);
		i = parent;
	}
	sched_place(s, i, ent);
}

static void
sched_down(struct sched *s, size_t i)
{
	struct sched_ent	 ent = s->v[i];
	size_t			 c;

	for (;;) {
		c = 2 * i + 1;
		if (c >= s->n)
			break;
		if (c + 1 < s->n && s->v[c + 1].due < s->v[c].due)
			c++;
		if (ent.due <= s->v[c].due)
			break;
		sched_place(s, i, s->v[c]);
		i = c;
	}
	sched_place(s, i, ent);
}

void
sched_push(struct sched *s, struct sched_node *n, int64_t due)
{
	struct sched_ent	 ent = { due, n };

	sched_place(s, s->n++, ent);
	sched_up(s, n->idx);
}

void
sched_update(struct sched *s, struct sched_node *n, int64_t due)
{
	size_t	 i = n->idx;

	s->v[i].due = due;
	if (i > 0 && s->v[(i - 1) / 2].due > due)
		sched_up(s, i);
	else
		sched_down(s, i);
}

void
sched_remove(struct sched *s, struct sched_node *n)
{
	size_t	 i = n->idx, last = --s->n;

	if (i != last) {
		sched_place(s, i, s->v[last]);
		sched_update(s, s->v[i].n, s->v[i].due);
	}
}

struct sched_node *
sched_top(const struct sched *s, int64_t *due)
{
	if (s->n == 0)
		return NULL;
	if (due != NULL)
		*due = s->v[0].due;
	return s->v[0].n;
}
