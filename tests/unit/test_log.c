/*
 * test_log.c - the logger's line format, log_q() quoting, and the
 * limiters that bound the lines an outsider can cause.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "controller/base/log.h"

static int64_t	 now_ms = 1000;
static FILE	*out;

static int64_t
fake_clock(void)
{
	return now_ms;
}

static int
setup(void **state)
{
	if ((out = tmpfile()) == NULL)
		return -1;
	log_init(out, LOGL_DEBUG);
	log_rl_set_clock(fake_clock);
	return 0;
}

static int
teardown(void **state)
{
	log_rl_set_clock(NULL);
	log_init(NULL, LOGL_INFO);
	fclose(out);
	return 0;
}

/* Lines written since the last call, and how many match needle. */
static size_t
lines(const char *needle, size_t *matching)
{
	static long pos;
	char buf[1024];
	size_t n = 0, m = 0;

	fflush(out);
	fseek(out, pos, SEEK_SET);
	while (fgets(buf, sizeof(buf), out) != NULL) {
		n++;
		if (needle != NULL && strstr(buf, needle) != NULL)
			m++;
	}
	pos = ftell(out);
	if (matching != NULL)
		*matching = m;
	return n;
}

static void
test_format(void **state)
{
	char buf[1024];
	size_t m;

	lines(NULL, NULL);
	log_info("probe", "stack=%s detail=%s", log_q("app1"),
	    log_q("a \"b\"=c\n"));
	assert_int_equal(lines("level=info event=probe stack=app1 "
	    "detail=\"a \\\"b\\\"=c\\n\"", &m), 1);
	assert_int_equal(m, 1);
	log_debug("x", NULL);
	assert_int_equal(lines("level=debug event=x", &m), 1);
	assert_int_equal(m, 1);
	(void)buf;
}

/* A flood: ten lines, then a count; the count comes once the window is
   over, from the limiter itself or from a flush. */
static void
test_limiter(void **state)
{
	static struct log_rl rl = LOG_RL_INIT("api_refused");
	static struct log_rl other = LOG_RL_INIT("api_accept");
	size_t m, written = 0;

	lines(NULL, NULL);
	for (int i = 0; i < 1000; i++) {
		if (log_rl_allow(&rl)) {
			log_info("api_refused", "status=401 n=%d", i);
			written++;
		}
		now_ms += 1;	/* one second for the thousand */
	}
	assert_int_equal(written, LOG_RL_BURST);
	assert_int_equal(lines("event=api_refused", &m), LOG_RL_BURST);
	assert_int_equal(m, LOG_RL_BURST);
	/* Within the window, a flush writes nothing. */
	log_rl_flush(false);
	assert_int_equal(lines(NULL, NULL), 0);
	/* After it, the count. */
	now_ms += LOG_RL_WINDOW_S * 1000;
	log_rl_flush(false);
	assert_int_equal(lines("event=log_suppressed what=api_refused "
	    "count=990 seconds=10", &m), 1);
	assert_int_equal(m, 1);
	/* A new window: lines again; its count comes with the next line. */
	for (int i = 0; i < 15; i++)
		if (log_rl_allow(&rl))
			log_info("api_refused", "n=%d", i);
	assert_int_equal(lines("event=api_refused", &m), LOG_RL_BURST);
	now_ms += LOG_RL_WINDOW_S * 1000;
	assert_true(log_rl_allow(&rl));
	log_info("api_refused", "again");
	assert_int_equal(lines("count=5 ", &m), 2);
	assert_int_equal(m, 1);
	/* Limiters are separate; flush(true) writes what is pending now. */
	for (int i = 0; i < LOG_RL_BURST + 3; i++)
		log_rl_allow(&other);
	log_rl_flush(true);
	assert_int_equal(lines("what=api_accept count=3 ", &m), 1);
	assert_int_equal(m, 1);
	log_rl_flush(true);
	assert_int_equal(lines(NULL, NULL), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_limiter),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
