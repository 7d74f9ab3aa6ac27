/*
 * test_cl_lines.c - framing of the gateway's newline-delimited streams:
 * messages split anywhere, several in one chunk, "\r\n", blank lines, an
 * unterminated last message, the length limit.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cluster/cl_lines.h"
#include "cluster/cl_msg.h"

/* Take every complete line, joined with '|'. */
static void
take(struct cl_lines *l, char *out, size_t n)
{
	const char	*line;
	size_t		 len, at = strlen(out);

	while (cl_lines_next(l, &line, &len)) {
		at += (size_t)snprintf(out + at, n - at, "%s%.*s",
		    at > 0 ? "|" : "", (int)len, line);
		assert_true(at < n);
	}
}

static void
test_split_everywhere(void **state)
{
	const char	*stream = "{\"result\":{\"created\":true}}\n"
			    "{\"result\":{\"events\":[1]}}\n{\"a\":2}\n";
	const char	*want = "{\"result\":{\"created\":true}}|"
			    "{\"result\":{\"events\":[1]}}|{\"a\":2}";
	struct cl_lines	 l;
	char		 got[256];
	size_t		 n = strlen(stream), cut, cut2;

	(void)state;
	/* Every split into three pieces gives the same lines. */
	for (cut = 0; cut <= n; cut++) {
		for (cut2 = cut; cut2 <= n; cut2++) {
			cl_lines_init(&l, 1024);
			got[0] = '\0';
			assert_int_equal(cl_lines_feed(&l, stream, cut), 0);
			take(&l, got, sizeof(got));
			assert_int_equal(cl_lines_feed(&l, stream + cut,
			    cut2 - cut), 0);
			take(&l, got, sizeof(got));
			assert_int_equal(cl_lines_feed(&l, stream + cut2,
			    n - cut2), 0);
			take(&l, got, sizeof(got));
			assert_string_equal(got, want);
			cl_lines_deinit(&l);
		}
	}
}

static void
test_byte_by_byte(void **state)
{
	const char	*stream = "one\r\n\n  \ntwo\nthree";
	struct cl_lines	 l;
	const char	*line;
	char		 got[64] = "";
	size_t		 i, len;

	(void)state;
	cl_lines_init(&l, 16);
	for (i = 0; stream[i] != '\0'; i++) {
		assert_int_equal(cl_lines_feed(&l, stream + i, 1), 0);
		take(&l, got, sizeof(got));
	}
	/* "\r" dropped, blank lines skipped, "three" still incomplete. */
	assert_string_equal(got, "one|two");
	assert_true(cl_lines_rest(&l, &line, &len));
	assert_int_equal(len, 5);
	assert_memory_equal(line, "three", 5);
	assert_false(cl_lines_rest(&l, &line, &len));
	assert_false(cl_lines_next(&l, &line, &len));
	/* Usable again after the rest was taken. */
	assert_int_equal(cl_lines_feed(&l, "four\n", 5), 0);
	got[0] = '\0';
	take(&l, got, sizeof(got));
	assert_string_equal(got, "four");
	cl_lines_deinit(&l);
}

static void
test_rest(void **state)
{
	struct cl_lines	 l;
	const char	*line;
	size_t		 len;

	(void)state;
	cl_lines_init(&l, 64);
	assert_false(cl_lines_rest(&l, &line, &len));
	assert_int_equal(cl_lines_feed(&l, "a\n   ", 5), 0);
	assert_true(cl_lines_next(&l, &line, &len));
	/* Only blanks left. */
	assert_false(cl_lines_rest(&l, &line, &len));
	/* An error object at the end, no newline (as the gateway ends). */
	cl_lines_reset(&l);
	assert_int_equal(cl_lines_feed(&l, "{\"error\":{}}", 12), 0);
	assert_false(cl_lines_next(&l, &line, &len));
	assert_true(cl_lines_rest(&l, &line, &len));
	assert_int_equal(len, 12);
	cl_lines_deinit(&l);
}

static void
test_limit(void **state)
{
	struct cl_lines	 l;
	const char	*line;
	char		 big[40];
	size_t		 len;

	(void)state;
	memset(big, 'x', sizeof(big));
	cl_lines_init(&l, 8);
	/* Exactly the limit is fine, with or without "\r". */
	assert_int_equal(cl_lines_feed(&l, "12345678\n12345678\r\n", 19), 0);
	assert_true(cl_lines_next(&l, &line, &len));
	assert_int_equal(len, 8);
	assert_true(cl_lines_next(&l, &line, &len));
	assert_int_equal(len, 8);
	/* One more, in one piece or growing piece by piece. */
	assert_int_equal(cl_lines_feed(&l, "123456789\n", 10), CL_E_PROTOCOL);
	assert_false(cl_lines_next(&l, &line, &len));
	assert_int_equal(cl_lines_feed(&l, "12345", 5), 0);
	assert_int_equal(cl_lines_feed(&l, "6789", 4), 0);	/* \r may come */
	assert_int_equal(cl_lines_feed(&l, "0", 1), CL_E_PROTOCOL);
	/* A long line inside a chunk of short ones. */
	assert_int_equal(cl_lines_feed(&l, "ok\n", 3), 0);
	assert_int_equal(cl_lines_feed(&l, big, sizeof(big)), CL_E_PROTOCOL);
	assert_false(cl_lines_next(&l, &line, &len));	/* reset: "ok" gone */
	cl_lines_deinit(&l);
}

static void
test_many_in_one_chunk(void **state)
{
	struct cl_lines	 l;
	char		 buf[64 * 1024], got[64];
	const char	*line;
	size_t		 at = 0, len, count = 0;
	int		 i;

	(void)state;
	for (i = 0; i < 5000; i++)
		at += (size_t)snprintf(buf + at, sizeof(buf) - at, "%d\n", i);
	cl_lines_init(&l, 100);
	assert_int_equal(cl_lines_feed(&l, buf, at), 0);
	while (cl_lines_next(&l, &line, &len)) {
		snprintf(got, sizeof(got), "%zu", count);
		assert_int_equal(len, strlen(got));
		assert_memory_equal(line, got, len);
		count++;
	}
	assert_int_equal(count, 5000);
	cl_lines_deinit(&l);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split_everywhere),
		cmocka_unit_test(test_byte_by_byte),
		cmocka_unit_test(test_rest),
		cmocka_unit_test(test_limit),
		cmocka_unit_test(test_many_in_one_chunk),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
