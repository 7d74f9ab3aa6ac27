/*
 * test_probe_match.c - expect_body search across chunk boundaries: every
 * way of cutting a body into chunks must find the needle exactly when the
 * whole body holds it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "probes/match.h"

/* Feed body in chunks of size step (the last one shorter). */
static bool
feed_in_steps(struct probe_match *m, const char *body, size_t step)
{
	size_t	 off = 0, len = strlen(body), n;
	bool	 found = false;

	probe_match_reset(m);
	while (off < len) {
		n = len - off < step ? len - off : step;
		found = probe_match_feed(m, body + off, n);
		off += n;
	}
	return found;
}

static void
test_every_chunking(void **state)
{
	static const struct {
		const char	*needle;
		const char	*body;
		bool		 want;
	} rows[] = {
		{ "OK", "OK", true },
		{ "OK", "status: OK\n", true },
		{ "OK", "O K", false },
		{ "ALIVE", "xxALIVxxALIVE", true },
		{ "ALIVE", "ALIVALIVALIV", false },
		{ "aab", "aaaaaaaab", true },		/* overlapping prefix */
		{ "abcabd", "abcabcabd", true },
		{ "abcabd", "abcabcab", false },
		{ "x", "yyyyyyx", true },
		{ "needle", "", false },
		{ "long-needle-here", "short", false },
	};
	size_t	 i, step;
	struct probe_match m;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		assert_int_equal(probe_match_init(&m, rows[i].needle), 0);
		for (step = 1; step <= strlen(rows[i].body) + 1; step++)
			if (feed_in_steps(&m, rows[i].body, step) != rows[i].want)
				fail_msg("needle \"%s\" body \"%s\" step %zu",
				    rows[i].needle, rows[i].body, step);
		probe_match_deinit(&m);
		probe_match_deinit(&m);	/* safe twice */
	}
}

/* Uneven chunks: 1, 2, 3, ... bytes. */
static void
test_growing_chunks(void **state)
{
	const char	*body = "0123456789abcdefghijTOKENklmnopqrstuvwxyz";
	struct probe_match m;
	size_t		 off = 0, n = 1, len = strlen(body);
	bool		 found = false;

	(void)state;
	assert_int_equal(probe_match_init(&m, "TOKEN"), 0);
	while (off < len) {
		if (n > len - off)
			n = len - off;
		found = probe_match_feed(&m, body + off, n);
		off += n;
		n++;
	}
	assert_true(found);
	/* Reset forgets it; a body without the needle is not found. */
	probe_match_reset(&m);
	assert_false(probe_match_feed(&m, "TOKE", 4));
	assert_true(probe_match_feed(&m, "N", 1));
	probe_match_deinit(&m);
}

static void
test_empty_needle_refused(void **state)
{
	struct probe_match m;

	(void)state;
	assert_int_equal(probe_match_init(&m, ""), -1);
	probe_match_deinit(&m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_chunking),
		cmocka_unit_test(test_growing_chunks),
		cmocka_unit_test(test_empty_needle_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
