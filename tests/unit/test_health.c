/*
 * test_health.c - table-driven tests of the rise/fall hysteresis.
 *
 * Each row feeds a sequence of results and checks, after every step, the
 * change reported and the state reached:
 *
 *   input   'S' success, 'c' connect failure, 't' timeout, 's' status
 *   change  '.' same, 'C' changed, '?' suspect, '!' cleared
 *   state   'u' unknown, 'U' up, 'D' down
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "controller/core/health.h"

/* Reason codes as the probe engine numbers them; any non-zero int works. */
#define R_CONNECT	1
#define R_TIMEOUT	2
#define R_STATUS	4

struct row {
	const char	*name;
	int		 rise, fall;
	const char	*input;
	const char	*changes;
	const char	*states;
};

static const struct row rows[] = {
	{ "unknown to up after rise", 3, 3,
	  "SSS", "..C", "uuU" },
	{ "unknown to down after fall", 3, 3,
	  "ccc", "..C", "uuD" },
	{ "rise 1 fall 1", 1, 1,
	  "ScSc", "CCCC", "UDUD" },
	{ "S S F S S does not rise (consecutive)", 3, 3,
	  "SSfSS", ".....", "uuuuu" },
	{ "S S F S S S rises on the third in a row", 3, 3,
	  "SStSSS", ".....C", "uuuuuU" },
	{ "F F S F F does not fall", 3, 3,
	  "ccScc", ".....", "uuuuu" },
	{ "up: one failure is suspect, a success clears", 2, 3,
	  "SScS", ".C?!", "uUUU" },
	{ "up: two failures stay suspect, third falls", 2, 3,
	  "SSctsS", ".C?.C.", "uUUUDD" },
	{ "up: alternating never falls", 2, 2,
	  "SScScScS", ".C?!?!?!", "uUUUUUUU" },
	{ "up with fall 1 falls at once, no suspect", 1, 1,
	  "Sc", "CC", "UD" },
	{ "down: successes short of rise stay down", 3, 2,
	  "ccSScSS", ".C.....", "uDDDDDD" },
	{ "down to up after rise", 3, 2,
	  "ccSSS", ".C..C", "uDDDU" },
	{ "down: failures do nothing more", 2, 2,
	  "cccc", ".C..", "uDDD" },
	{ "up stays up on successes", 1, 3,
	  "SSSS", "C...", "UUUU" },
	{ "full cycle", 2, 2,
	  "SSccSS", ".C?C.C", "uUUDDU" },
	{ "thresholds below 1 act as 1", 0, -5,
	  "Sc", "CC", "UD" },
};

static enum health_state
state_of(char c)
{
	return c == 'U' ? HEALTH_UP : c == 'D' ? HEALTH_DOWN : HEALTH_UNKNOWN;
}

static enum health_change
change_of(char c)
{
	switch (c) {
	case 'C':
		return HEALTH_CHANGED;
	case '?':
		return HEALTH_SUSPECT;
	case '!':
		return HEALTH_CLEARED;
	default:
		return HEALTH_SAME;
	}
}

static int
reason_of(char c)
{
	switch (c) {
	case 'c':
		return R_CONNECT;
	case 't':
		return R_TIMEOUT;
	case 's':
	case 'f':
		return R_STATUS;
	default:
		return 0;
	}
}

static void
test_table(void **state)
{
	size_t	 i, k;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *r = &rows[i];
		struct health	 h;
		int64_t		 now = 1000;
		int		 last_reason = 0;
		enum health_state before;

		assert_int_equal(strlen(r->input), strlen(r->changes));
		assert_int_equal(strlen(r->input), strlen(r->states));
		health_init(&h, r->rise, r->fall, now);
		assert_int_equal(h.state, HEALTH_UNKNOWN);
		assert_int_equal(h.since_ms, now);
		for (k = 0; r->input[k] != '\0'; k++) {
			bool	 ok = r->input[k] == 'S';
			int	 reason = reason_of(r->input[k]);
			enum health_change got;
			int64_t	 since = h.since_ms;

			now += 1000;
			before = h.state;
			got = health_step(&h, ok, reason, now);
			if (!ok)
				last_reason = reason;
			if (got != change_of(r->changes[k]) ||
			    h.state != state_of(r->states[k]))
				fail_msg("%s: step %zu ('%c'): change %s state %s,"
				    " want %c %c", r->name, k, r->input[k],
				    health_change_name(got),
				    health_state_name(h.state), r->changes[k],
				    r->states[k]);
			assert_int_equal(h.last_reason, last_reason);
			if (got == HEALTH_CHANGED) {
				assert_int_equal(h.since_ms, now);
				assert_int_equal(h.prev, before);
			} else
				assert_int_equal(h.since_ms, since);
			assert_true(health_is_suspect(&h) ==
			    (h.state == HEALTH_UP && !ok && h.fail_run > 0));
		}
	}
}

static void
test_last_reason_kept_through_successes(void **state)
{
	struct health	 h;

	(void)state;
	health_init(&h, 1, 3, 0);
	assert_int_equal(h.last_reason, 0);
	health_step(&h, true, 0, 1);
	health_step(&h, false, R_TIMEOUT, 2);
	health_step(&h, true, 0, 3);
	/* The last failure's reason stays for the status output. */
	assert_int_equal(h.last_reason, R_TIMEOUT);
	assert_int_equal(h.state, HEALTH_UP);
	assert_false(health_is_suspect(&h));
}

static void
test_down_records_reason_and_prev(void **state)
{
	struct health	 h;

	(void)state;
	health_init(&h, 1, 2, 0);
	assert_int_equal(health_step(&h, true, 0, 10), HEALTH_CHANGED);
	assert_int_equal(h.prev, HEALTH_UNKNOWN);
	assert_int_equal(health_step(&h, false, R_CONNECT, 20), HEALTH_SUSPECT);
	assert_true(health_is_suspect(&h));
	assert_int_equal(h.since_ms, 10);
	assert_int_equal(health_step(&h, false, R_STATUS, 30), HEALTH_CHANGED);
	assert_int_equal(h.state, HEALTH_DOWN);
	assert_int_equal(h.prev, HEALTH_UP);
	assert_int_equal(h.since_ms, 30);
	assert_int_equal(h.last_reason, R_STATUS);
	assert_false(health_is_suspect(&h));
}

static void
test_runs_saturate(void **state)
{
	struct health	 h;

	(void)state;
	health_init(&h, 1, 1, 0);
	h.ok_run = 2147483647;
	h.state = HEALTH_UP;
	assert_int_equal(health_step(&h, true, 0, 1), HEALTH_SAME);
	assert_int_equal(h.ok_run, 2147483647);
}

static void
test_names(void **state)
{
	(void)state;
	assert_string_equal(health_state_name(HEALTH_UNKNOWN), "unknown");
	assert_string_equal(health_state_name(HEALTH_UP), "up");
	assert_string_equal(health_state_name(HEALTH_DOWN), "down");
	assert_string_equal(health_change_name(HEALTH_SAME), "same");
	assert_string_equal(health_change_name(HEALTH_CHANGED), "changed");
	assert_string_equal(health_change_name(HEALTH_SUSPECT), "suspect");
	assert_string_equal(health_change_name(HEALTH_CLEARED), "cleared");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_last_reason_kept_through_successes),
		cmocka_unit_test(test_down_records_reason_and_prev),
		cmocka_unit_test(test_runs_saturate),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
