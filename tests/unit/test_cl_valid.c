/*
 * test_cl_valid.c - the arithmetic of leadership validity: the margin,
 * the bound from the renewal's send time, the renewal schedule, and that
 * the bound always ends before etcd could let the lease go.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "cluster/cl_valid.h"

#define S	1000000LL

static void
test_margin(void **state)
{
	(void)state;
	/* 1 % of ttl plus 100 ms. */
	assert_int_equal(cl_valid_margin_us(2 * S), 20000 + 100000);
	assert_int_equal(cl_valid_margin_us(10 * S), 100000 + 100000);
	assert_int_equal(cl_valid_margin_us(1500000), 15000 + 100000);
	assert_int_equal(cl_valid_margin_us(0), 100000);
	/* No overflow for a long ttl. */
	assert_int_equal(cl_valid_margin_us(1000000 * S),
	    10000 * S + 100000);
}

static void
test_until(void **state)
{
	int64_t	 sent = 5000 * S;

	(void)state;
	assert_int_equal(cl_valid_until(sent, 2 * S, 120000),
	    sent + 2 * S - 120000);
	/* A margin as long as ttl: never valid. */
	assert_int_equal(cl_valid_until(sent, 2 * S, 2 * S), sent);
	assert_int_equal(cl_valid_until(sent, 2 * S, 3 * S), sent);
	assert_int_equal(cl_valid_until(sent, 2 * S, -5), sent + 2 * S);
	assert_true(cl_valid_holds(sent, cl_valid_until(sent, 2 * S, 1)));
	/* The bound itself is not valid. */
	assert_false(cl_valid_holds(sent + 2 * S - 1, sent + 2 * S - 1));
	assert_true(cl_valid_holds(sent + 2 * S - 2, sent + 2 * S - 1));
	assert_false(cl_valid_holds(sent, sent));
}

/*
 * The claim of cl_election.h: etcd receives the renewal at r >= sent and
 * lets the lease go at r + ttl on its clock, which runs at most 1 % fast
 * against ours; our validity must end before that, with the delay margin
 * to spare.
 */
static void
test_before_etcd_expiry(void **state)
{
	const int64_t	 ttls[] = { 1 * S, 2 * S, 5 * S, 10 * S, 60 * S };
	const int64_t	 delays[] = { 0, 1000, 300000, 5 * S };
	size_t		 i, j;
	int64_t		 sent = 123 * S, ttl, until, recv, expiry_ours;

	(void)state;
	for (i = 0; i < sizeof(ttls) / sizeof(ttls[0]); i++) {
		ttl = ttls[i];
		until = cl_valid_until(sent, ttl, cl_valid_margin_us(ttl));
		for (j = 0; j < sizeof(delays) / sizeof(delays[0]); j++) {
			recv = sent + delays[j];
			/* etcd's ttl, 1 % fast, seen on our clock. */
			expiry_ours = recv + ttl - ttl / 100;
			assert_true(until + CL_VALID_DELAY_US <= expiry_ours);
		}
	}
}

static void
test_schedule(void **state)
{
	int64_t	 sent = 77 * S, ttl = 3 * S;

	(void)state;
	assert_int_equal(cl_valid_renew_at(sent, ttl), sent + S);
	/* A renewal failed at renew time and its retry gets in before the
	 * bound, for every ttl that is usable. */
	assert_true(cl_valid_renew_at(sent, ttl) + cl_valid_retry_us(ttl) <
	    cl_valid_until(sent, ttl, cl_valid_margin_us(ttl)));
	assert_int_equal(cl_valid_retry_us(2 * S), 200000);
	assert_int_equal(cl_valid_retry_us(100000), 50000);
	assert_true(cl_valid_usable(1 * S, cl_valid_margin_us(1 * S)));
	assert_true(cl_valid_usable(2 * S, cl_valid_margin_us(2 * S)));
	assert_false(cl_valid_usable(2 * S, 700000));
	assert_false(cl_valid_usable(0, 0));
	assert_false(cl_valid_usable(2 * S, -1));
	/* The smallest ttl the default margin fits. */
	assert_false(cl_valid_usable(300000, cl_valid_margin_us(300000)));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_margin),
		cmocka_unit_test(test_until),
		cmocka_unit_test(test_before_etcd_expiry),
		cmocka_unit_test(test_schedule),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
