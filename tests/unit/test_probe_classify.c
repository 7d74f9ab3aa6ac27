/*
 * test_probe_classify.c - the CURLcode table, the verdict on a finished
 * transfer, status sets and reason names: pure tables, checked row by row.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "probes/classify.h"
#include "probes/probe.h"

static void
test_curl_codes(void **state)
{
	static const struct {
		CURLcode		 code;
		enum probe_reason	 want;
	} rows[] = {
		{ CURLE_OK, PROBE_R_OK },
		{ CURLE_COULDNT_CONNECT, PROBE_R_CONNECT },
		{ CURLE_COULDNT_RESOLVE_HOST, PROBE_R_DNS },
		{ CURLE_OPERATION_TIMEDOUT, PROBE_R_TIMEOUT },
		{ CURLE_PEER_FAILED_VERIFICATION, PROBE_R_TLS },
		{ CURLE_SSL_CONNECT_ERROR, PROBE_R_TLS },
		{ CURLE_SSL_CACERT_BADFILE, PROBE_R_TLS },
		{ CURLE_WEIRD_SERVER_REPLY, PROBE_R_PROTOCOL },
		{ CURLE_UNSUPPORTED_PROTOCOL, PROBE_R_PROTOCOL },
		{ CURLE_GOT_NOTHING, PROBE_R_PROTOCOL },
		{ CURLE_PARTIAL_FILE, PROBE_R_PROTOCOL },
		{ CURLE_RECV_ERROR, PROBE_R_PROTOCOL },
		{ CURLE_SEND_ERROR, PROBE_R_PROTOCOL },
		{ CURLE_OUT_OF_MEMORY, PROBE_R_LOCAL },
		{ CURLE_WRITE_ERROR, PROBE_R_INTERNAL },
		{ (CURLcode)9999, PROBE_R_PROTOCOL },	/* unknown: never ok */
	};
	size_t	 i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		if (probe_reason_of_curl(rows[i].code) != rows[i].want)
			fail_msg("CURLcode %d: %s, want %s", rows[i].code,
			    probe_reason_name(probe_reason_of_curl(rows[i].code)),
			    probe_reason_name(rows[i].want));
}

/* Every CURLcode libcurl defines maps to a failure, except CURLE_OK. */
static void
test_no_code_is_ok_by_accident(void **state)
{
	int	 c;

	(void)state;
	for (c = 1; c < CURL_LAST; c++)
		assert_int_not_equal(probe_reason_of_curl(c), PROBE_R_OK);
}

static void
test_verdict(void **state)
{
	static const struct {
		const char		*name;
		struct probe_facts	 f;
		enum probe_reason	 want;
	} rows[] = {
		{ "200 ok", { CURLE_OK, false, 200, true, false, false, 0 },
		  PROBE_R_OK },
		{ "503 not in set", { CURLE_OK, false, 503, false, false, false, 0 },
		  PROBE_R_STATUS },
		{ "body wanted, found",
		  { CURLE_OK, false, 200, true, true, true, 0 }, PROBE_R_OK },
		{ "body wanted, missing",
		  { CURLE_OK, false, 200, true, true, false, 0 }, PROBE_R_BODY },
		{ "status beats body",
		  { CURLE_OK, false, 500, false, true, false, 0 }, PROBE_R_STATUS },
		{ "stopped on purpose after finding",
		  { CURLE_WRITE_ERROR, true, 200, true, true, true, 0 },
		  PROBE_R_OK },
		{ "stopped at 64 KiB, not found",
		  { CURLE_WRITE_ERROR, true, 200, true, true, false, 0 },
		  PROBE_R_BODY },
		{ "stopped at 64 KiB, no body wanted",
		  { CURLE_WRITE_ERROR, true, 200, true, false, false, 0 },
		  PROBE_R_OK },
		{ "write error not ours",
		  { CURLE_WRITE_ERROR, false, 200, true, false, false, 0 },
		  PROBE_R_INTERNAL },
		{ "timeout mid-body with body found so far",
		  { CURLE_OPERATION_TIMEDOUT, false, 200, true, true, true, 0 },
		  PROBE_R_TIMEOUT },
		{ "refused", { CURLE_COULDNT_CONNECT, false, 0, false, false,
		  false, 0 }, PROBE_R_CONNECT },
		{ "completed without a status",
		  { CURLE_OK, false, 0, false, false, false, 0 }, PROBE_R_PROTOCOL },
		/* The controller's own trouble: never the stack's. */
		{ "no descriptor for the socket", { CURLE_COULDNT_CONNECT,
		  false, 0, false, false, false, EMFILE }, PROBE_R_LOCAL },
		{ "none in the system", { CURLE_COULDNT_CONNECT, false, 0,
		  false, false, false, ENFILE }, PROBE_R_LOCAL },
		{ "no memory for the socket", { CURLE_COULDNT_CONNECT, false,
		  0, false, false, false, ENOMEM }, PROBE_R_LOCAL },
		{ "no buffer space", { CURLE_COULDNT_CONNECT, false, 0, false,
		  false, false, ENOBUFS }, PROBE_R_LOCAL },
		{ "ephemeral ports used up", { CURLE_COULDNT_CONNECT, false, 0,
		  false, false, false, EADDRNOTAVAIL }, PROBE_R_LOCAL },
		{ "source address gone", { CURLE_INTERFACE_FAILED, false, 0,
		  false, false, false, EADDRNOTAVAIL }, PROBE_R_LOCAL },
		{ "out of memory in libcurl", { CURLE_OUT_OF_MEMORY, false, 0,
		  false, false, false, 0 }, PROBE_R_LOCAL },
		{ "refused is the stack's", { CURLE_COULDNT_CONNECT, false, 0,
		  false, false, false, ECONNREFUSED }, PROBE_R_CONNECT },
		{ "unreachable is the stack's", { CURLE_COULDNT_CONNECT, false,
		  0, false, false, false, EHOSTUNREACH }, PROBE_R_CONNECT },
		{ "a completed check is judged, whatever the errno",
		  { CURLE_OK, false, 503, false, false, false, EMFILE },
		  PROBE_R_STATUS },
	};
	size_t	 i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		if (probe_classify(&rows[i].f) != rows[i].want)
			fail_msg("%s: %s, want %s", rows[i].name,
			    probe_reason_name(probe_classify(&rows[i].f)),
			    probe_reason_name(rows[i].want));
}

static void
test_status_sets(void **state)
{
	struct cfg_status_set	 empty, set;

	(void)state;
	memset(&empty, 0, sizeof(empty));
	assert_true(probe_status_match(&empty, 200));
	assert_true(probe_status_match(&empty, 302));
	assert_true(probe_status_match(&empty, 399));
	assert_false(probe_status_match(&empty, 199));
	assert_false(probe_status_match(&empty, 400));
	assert_false(probe_status_match(&empty, 503));
	assert_false(probe_status_match(&empty, 0));

	memset(&set, 0, sizeof(set));
	set.n = 2;
	set.r[0].lo = 200;
	set.r[0].hi = 299;
	set.r[1].lo = 503;
	set.r[1].hi = 503;
	assert_true(probe_status_match(&set, 204));
	assert_true(probe_status_match(&set, 503));
	assert_false(probe_status_match(&set, 302));
	assert_false(probe_status_match(&set, 502));
}

static void
test_names(void **state)
{
	static const char *const want[PROBE_R_COUNT] = {
		"ok", "connect", "timeout", "tls", "status", "body", "dns",
		"protocol", "internal", "local",
	};
	int	 r;

	(void)state;
	for (r = 0; r < PROBE_R_COUNT; r++)
		assert_string_equal(probe_reason_name(r), want[r]);
	assert_string_equal(probe_reason_name(PROBE_R_COUNT), "invalid");
	assert_string_equal(probe_reason_name(-1), "invalid");
	assert_string_equal(probe_strerror(PROBE_E_URL),
	    "not a usable http or https URL");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_curl_codes),
		cmocka_unit_test(test_no_code_is_ok_by_accident),
		cmocka_unit_test(test_verdict),
		cmocka_unit_test(test_status_sets),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
