/*
 * sched.h - the probe schedule: a binary min-heap of deadlines.
 *
 * Pure data structure, no clock and no I/O.  A node is embedded in the
 * scheduled object (struct probe) and remembers its place in the heap, so
 * any node can be moved or removed in O(log n).  Entries keep a copy of
 * their due time next to the node pointer: sifting compares inside the
 * array and touches a node only to tell it where it now sits.
 */
#ifndef FAILOVERD_PROBE_SCHED_H
#define FAILOVERD_PROBE_SCHED_H

#include <stddef.h>
#include <stdint.h>

struct sched_node {
	size_t		 idx;		/* position in the heap; owned by sched */
};

struct sched_ent {
	int64_t			 due;
	struct sched_node	*n;
};

struct sched {
	struct sched_ent	*v;
	size_t			 n, cap;
};

/* A zeroed struct sched is an empty heap.  Free its array (NULL ok). */
void	 sched_deinit(struct sched *);
/* Make room for one more push, so that push cannot fail.  0 or -1. */
int	 sched_reserve(struct sched *);
/* Insert (room reserved first). */
void	 sched_push(struct sched *, struct sched_node *, int64_t due);
/* Remove a node that is in the heap. */
void	 sched_remove(struct sched *, struct sched_node *);
/* Give a node in the heap a new due time. */
void	 sched_update(struct sched *, struct sched_node *, int64_t due);
/* The earliest node and its due time; NULL when empty. */
struct sched_node *sched_top(const struct sched *, int64_t *due);

#endif
