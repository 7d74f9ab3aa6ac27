/*
 * test_probe_sched.c - the schedule heap against a plain array: random
 * pushes, moves and removals (a fixed seed, so every run is the same),
 * checking after each step that the top is the earliest and that every
 * node knows its place.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "probes/sched.h"

#define N	500

struct item {
	struct sched_node	 node;
	int64_t			 due;
	int			 in;
};

static uint64_t	 rng = 88172645463325252ULL;

static uint64_t
next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void
check(const struct sched *s, struct item *items)
{
	struct sched_node	*top;
	int64_t			 due, min = INT64_MAX;
	size_t			 i, count = 0;

	for (i = 0; i < N; i++) {
		if (!items[i].in)
			continue;
		count++;
		if (items[i].due < min)
			min = items[i].due;
		assert_true(items[i].node.idx < s->n);
		assert_ptr_equal(s->v[items[i].node.idx].n, &items[i].node);
		assert_int_equal(s->v[items[i].node.idx].due, items[i].due);
	}
	assert_int_equal(count, s->n);
	top = sched_top(s, &due);
	if (count == 0) {
		assert_null(top);
		return;
	}
	assert_non_null(top);
	assert_int_equal(due, min);
	for (i = 1; i < s->n; i++)
		assert_true(s->v[(i - 1) / 2].due <= s->v[i].due);
}

static void
test_random_operations(void **state)
{
	struct sched	 s;
	struct item	*items;
	int		 step, k;

	(void)state;
	memset(&s, 0, sizeof(s));
	items = calloc(N, sizeof(*items));
	assert_non_null(items);
	for (step = 0; step < 20000; step++) {
		k = (int)(next_rand() % N);
		switch (next_rand() % 3) {
		case 0:
			if (items[k].in)
				break;
			assert_int_equal(sched_reserve(&s), 0);
			items[k].due = (int64_t)(next_rand() % 1000);
			sched_push(&s, &items[k].node, items[k].due);
			items[k].in = 1;
			break;
		case 1:
			if (!items[k].in)
				break;
			items[k].due = (int64_t)(next_rand() % 1000);
			sched_update(&s, &items[k].node, items[k].due);
			break;
		case 2:
			if (!items[k].in)
				break;
			sched_remove(&s, &items[k].node);
			items[k].in = 0;
			break;
		}
		if (step % 97 == 0)
			check(&s, items);
	}
	check(&s, items);
	sched_deinit(&s);
	sched_deinit(&s);	/* safe twice */
	free(items);
}

/* Taking the top and pushing it one period later keeps the order: the
 * engine's steady state. */
static void
test_rounds_in_order(void **state)
{
	struct sched	 s;
	struct item	 items[8];
	struct sched_node *n;
	int64_t		 due, last = -1;
	int		 i;

	(void)state;
	memset(&s, 0, sizeof(s));
	memset(items, 0, sizeof(items));
	for (i = 0; i < 8; i++) {
		assert_int_equal(sched_reserve(&s), 0);
		items[i].due = 100 * (7 - i);
		sched_push(&s, &items[i].node, items[i].due);
	}
	for (i = 0; i < 80; i++) {
		n = sched_top(&s, &due);
		assert_true(due >= last);
		last = due;
		sched_update(&s, n, due + 1000);
	}
	assert_int_equal(s.n, 8);
	sched_deinit(&s);
	assert_null(sched_top(&s, NULL));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_random_operations),
		cmocka_unit_test(test_rounds_in_order),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
