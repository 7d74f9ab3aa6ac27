/*
 * test_cl_schema.c - the cluster's etcd keys and records: every key built
 * and taken apart again, the ranges, records built to their exact JSON and
 * read back, and bad keys and values refused with their reason.
 */
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cluster/cl_msg.h"
#include "cluster/cl_schema.h"

#define P	"/failoverd/"
#define HEX	"0123456789abcdef0123456789abcdef" \
		"0123456789abcdef0123456789abcdef"
#define NAME63	"a23456789012345678901234567890123456789012345678901234567890123"

struct keyrow {
	enum cl_key_kind kind;
	const char	*a, *b, *key;
};

static const struct keyrow keyrows[] = {
	{ CL_KEY_LEADER, NULL, NULL, P "leader" },
	{ CL_KEY_DIGEST, NULL, NULL, P "digest" },
	{ CL_KEY_RUNTIME, NULL, NULL, P "runtime" },
	{ CL_KEY_MEMBER, "ctl-a", NULL, P "members/ctl-a" },
	{ CL_KEY_VERDICT, "ctl-a", "app1", P "verdicts/ctl-a/app1" },
	{ CL_KEY_GROUP, "www", NULL, P "groups/www" },
	{ CL_KEY_COMMAND, "ctl-b", "1767225600-7", P "commands/ctl-b/"
	  "1767225600-7" },
	{ CL_KEY_GROUP, NAME63, NULL, P "groups/" NAME63 },
	{ CL_KEY_VERDICT, "m.1", "s_2", P "verdicts/m.1/s_2" },
};

static void
test_keys(void **state)
{
	char buf[CL_KEY_MAX], detail[256];
	struct cl_key k;

	for (size_t i = 0; i < sizeof(keyrows) / sizeof(keyrows[0]); i++) {
		const struct keyrow *r = &keyrows[i];

		assert_int_equal(cl_key_build(P, r->kind, r->a, r->b, buf,
		    sizeof(buf)), (int)strlen(r->key));
		assert_string_equal(buf, r->key);
		assert_int_equal(cl_key_parse(P, buf, strlen(buf), &k, detail,
		    sizeof(detail)), 0);
		assert_int_equal(k.kind, r->kind);
		assert_string_equal(k.a, r->a ? r->a : "");
		assert_string_equal(k.b, r->b ? r->b : "");
	}
	/* Another prefix, nested. */
	assert_true(cl_key_build("/fo/prod/", CL_KEY_MEMBER, "x", NULL, buf,
	    sizeof(buf)) > 0);
	assert_string_equal(buf, "/fo/prod/members/x");
	assert_true(cl_key_build("/", CL_KEY_LEADER, NULL, NULL, buf,
	    sizeof(buf)) > 0);
	assert_string_equal(buf, "/leader");
}

static void
test_dirs(void **state)
{
	char buf[CL_KEY_MAX];

	cl_key_dir(P, CL_KEY_MEMBER, NULL, buf, sizeof(buf));
	assert_string_equal(buf, P "members/");
	cl_key_dir(P, CL_KEY_VERDICT, NULL, buf, sizeof(buf));
	assert_string_equal(buf, P "verdicts/");
	cl_key_dir(P, CL_KEY_VERDICT, "ctl-a", buf, sizeof(buf));
	assert_string_equal(buf, P "verdicts/ctl-a/");
	cl_key_dir(P, CL_KEY_GROUP, NULL, buf, sizeof(buf));
	assert_string_equal(buf, P "groups/");
	cl_key_dir(P, CL_KEY_COMMAND, NULL, buf, sizeof(buf));
	assert_string_equal(buf, P "commands/");
	assert_int_equal(cl_key_dir(P, CL_KEY_COMMAND, "ctl-b", buf,
	    sizeof(buf)), (int)strlen(P "commands/ctl-b/"));
	assert_string_equal(buf, P "commands/ctl-b/");
	cl_key_dir(P, CL_KEY_LEADER, NULL, buf, sizeof(buf));
	assert_string_equal(buf, P "leader");
	/* members/ and groups/ have no deeper range. */
	assert_int_equal(cl_key_dir(P, CL_KEY_MEMBER, "a", buf, sizeof(buf)),
	    CL_E_INVALID);
	assert_int_equal(cl_key_dir(P, CL_KEY_LEADER, "a", buf, sizeof(buf)),
	    CL_E_INVALID);
}

static void
test_keys_refused(void **state)
{
	static const char *const bad_names[] = { "", "a/b", ".", "..", "-x",
	    "_x", "a b", "é", NAME63 "4" };
	static const char *const bad_prefixes[] = { "", "failoverd/", "/fo",
	    "/a//b/", "/a b/", "//" };
	char buf[CL_KEY_MAX], small[12];

	for (size_t i = 0; i < sizeof(bad_names) / sizeof(bad_names[0]); i++) {
		assert_int_equal(cl_key_build(P, CL_KEY_MEMBER, bad_names[i],
		    NULL, buf, sizeof(buf)), CL_E_INVALID);
		assert_string_equal(buf, "");
		assert_int_equal(cl_key_build(P, CL_KEY_VERDICT, "m",
		    bad_names[i], buf, sizeof(buf)), CL_E_INVALID);
	}
	for (size_t i = 0; i < sizeof(bad_prefixes) / sizeof(bad_prefixes[0]);
	    i++)
		assert_int_equal(cl_key_build(bad_prefixes[i], CL_KEY_LEADER,
		    NULL, NULL, buf, sizeof(buf)), CL_E_INVALID);
	assert_int_equal(cl_key_build(NULL, CL_KEY_LEADER, NULL, NULL, buf,
	    sizeof(buf)), CL_E_INVALID);
	/* A name where the kind has none, none where it has one. */
	assert_int_equal(cl_key_build(P, CL_KEY_LEADER, "a", NULL, buf,
	    sizeof(buf)), CL_E_INVALID);
	assert_int_equal(cl_key_build(P, CL_KEY_MEMBER, NULL, NULL, buf,
	    sizeof(buf)), CL_E_INVALID);
	assert_int_equal(cl_key_build(P, CL_KEY_MEMBER, "a", "b", buf,
	    sizeof(buf)), CL_E_INVALID);
	assert_int_equal(cl_key_build(P, CL_KEY_VERDICT, "a", NULL, buf,
	    sizeof(buf)), CL_E_INVALID);
	assert_int_equal(cl_key_build(P, (enum cl_key_kind)99, NULL, NULL, buf,
	    sizeof(buf)), CL_E_INVALID);
	/* Too small a buffer: nothing half written. */
	assert_int_equal(cl_key_build(P, CL_KEY_LEADER, NULL, NULL, small,
	    sizeof(small)), CL_E_INVALID);
	assert_string_equal(small, "");
	/* The longest key fits CL_KEY_MAX. */
	{
		char prefix[CFG_CLUSTER_PREFIX_MAX + 1];

		memset(prefix, 'p', sizeof(prefix) - 1);
		prefix[0] = '/';
		prefix[sizeof(prefix) - 2] = '/';
		prefix[sizeof(prefix) - 1] = '\0';
		assert_true(cl_prefix_valid(prefix));
		assert_true(cl_key_build(prefix, CL_KEY_COMMAND, NAME63, NAME63,
		    buf, sizeof(buf)) > 0);
	}
}

struct parserow {
	const char	*key;
	size_t		 len;		/* 0: strlen */
	int		 rc;
	const char	*detail;
};

static const struct parserow parserows[] = {
	{ "/other/leader", 0, CL_E_PROTOCOL, "not under /failoverd/" },
	{ "/failoverd-test/leader", 0, CL_E_PROTOCOL, "not under /failoverd/" },
	{ "/failoverd", 0, CL_E_PROTOCOL, "not under /failoverd/" },
	{ P, 0, CL_E_PROTOCOL, ": not a key of failoverd's" },
	{ P "leaderx", 0, CL_E_PROTOCOL, "leaderx: not a key of failoverd's" },
	{ P "leader/x", 0, CL_E_PROTOCOL, "leader/x: expected leader" },
	{ P "members", 0, CL_E_PROTOCOL, "members: expected members/NAME" },
	{ P "members/", 0, CL_E_PROTOCOL, "members/: name 1 is not a valid "
	  "name" },
	{ P "members/a/b", 0, CL_E_PROTOCOL, "members/a/b: expected "
	  "members/NAME" },
	{ P "members/..", 0, CL_E_PROTOCOL, "members/..: name 1 is not a valid "
	  "name" },
	{ P "members/" NAME63 "4", 0, CL_E_PROTOCOL, "members/" NAME63 "4: "
	  "name 1 is not a valid name" },
	{ P "verdicts/a", 0, CL_E_PROTOCOL, "verdicts/a: expected "
	  "verdicts/NAME/NAME" },
	{ P "verdicts/a/", 0, CL_E_PROTOCOL, "verdicts/a/: name 2 is not a "
	  "valid name" },
	{ P "verdicts/a/b/c", 0, CL_E_PROTOCOL, "verdicts/a/b/c: expected "
	  "verdicts/NAME/NAME" },
	{ P "verdicts//b", 0, CL_E_PROTOCOL, "verdicts//b: name 1 is not a "
	  "valid name" },
	{ P "groups/w w", 0, CL_E_PROTOCOL, "groups/w w: name 1 is not a valid "
	  "name" },
	{ P "commands/a", 0, CL_E_PROTOCOL, "commands/a: expected "
	  "commands/NAME/NAME" },
	{ P "unknown/x", 0, CL_E_PROTOCOL, "unknown/x: not a key of "
	  "failoverd's" },
	{ P "members/a\0b", sizeof(P "members/a\0b") - 1, CL_E_PROTOCOL,
	  "holds a NUL byte" },
};

static void
test_parse_refused(void **state)
{
	char detail[256];
	struct cl_key k;

	for (size_t i = 0; i < sizeof(parserows) / sizeof(parserows[0]); i++) {
		const struct parserow *r = &parserows[i];
		size_t len = r->len ? r->len : strlen(r->key);

		detail[0] = '\0';
		k.kind = CL_KEY_MEMBER;
		assert_int_equal(cl_key_parse(P, r->key, len, &k, detail,
		    sizeof(detail)), r->rc);
		if (strcmp(detail, r->detail) != 0)
			print_error("%s\n  want: %s\n  got:  %s\n", r->key,
			    r->detail, detail);
		assert_string_equal(detail, r->detail);
		assert_int_equal(k.kind, 0);
		assert_string_equal(k.a, "");
	}
	assert_int_equal(cl_key_parse("bad", P "leader", strlen(P "leader"),
	    &k, detail, sizeof(detail)), CL_E_INVALID);
}

static void
test_leader(void **state)
{
	char name[CL_NAME_MAX], detail[128];

	assert_int_equal(cl_leader_parse("ctl-a", 5, name, detail,
	    sizeof(detail)), 0);
	assert_string_equal(name, "ctl-a");
	assert_int_equal(cl_leader_parse("", 0, name, detail, sizeof(detail)),
	    CL_E_PROTOCOL);
	assert_int_equal(cl_leader_parse("a/b", 3, name, detail,
	    sizeof(detail)), CL_E_PROTOCOL);
	assert_string_equal(detail, "leader: 'a/b' is not a valid member name");
	assert_string_equal(name, "");
	assert_int_equal(cl_leader_parse("a\0b", 3, name, detail,
	    sizeof(detail)), CL_E_PROTOCOL);
	assert_int_equal(cl_leader_parse(NAME63 "4", 64, name, detail,
	    sizeof(detail)), CL_E_PROTOCOL);
}

static void
test_member(void **state)
{
	struct cl_member_rec m = { 0 }, back;
	char detail[256], *json = NULL;

	snprintf(m.member, sizeof(m.member), "ctl-a");
	snprintf(m.digest, sizeof(m.digest), HEX);
	snprintf(m.advertise, sizeof(m.advertise), "http://10.0.0.11:8053");
	snprintf(m.version, sizeof(m.version), "0.1.0");
	m.started_ms = 1767225600000;
	assert_int_equal(cl_member_build(&m, &json), 0);
	assert_string_equal(json, "{\"v\":1,\"member\":\"ctl-a\",\"digest\":\""
	    HEX "\",\"advertise\":\"http://10.0.0.11:8053\",\"version\":"
	    "\"0.1.0\",\"started_ms\":1767225600000}");
	assert_int_equal(cl_member_parse(json, strlen(json), "ctl-a", &back,
	    detail, sizeof(detail)), 0);
	assert_memory_equal(&m, &back, sizeof(m));
	free(json);

	m.advertise[0] = '\0';
	assert_int_equal(cl_member_build(&m, &json), 0);
	assert_null(strstr(json, "advertise"));
	assert_int_equal(cl_member_parse(json, strlen(json), NULL, &back,
	    detail, sizeof(detail)), 0);
	assert_string_equal(back.advertise, "");
	free(json);

	/* Nothing is written that would not be read back. */
	back = m;
	snprintf(back.member, sizeof(back.member), "a/b");
	assert_int_equal(cl_member_build(&back, &json), CL_E_INVALID);
	assert_null(json);
	back = m;
	snprintf(back.digest, sizeof(back.digest), "ABC");
	assert_int_equal(cl_member_build(&back, &json), CL_E_INVALID);
	back = m;
	snprintf(back.advertise, sizeof(back.advertise), "ftp://x");
	assert_int_equal(cl_member_build(&back, &json), CL_E_INVALID);
	back = m;
	back.version[0] = '\0';
	assert_int_equal(cl_member_build(&back, &json), CL_E_INVALID);
	back = m;
	back.started_ms = -1;
	assert_int_equal(cl_member_build(&back, &json), CL_E_INVALID);
}

struct valrow {
	const char	*value;
	const char	*detail;
};

#define MEMBER_OK(extra) "{\"v\":1,\"member\":\"ctl-a\",\"digest\":\"" HEX \
	"\",\"version\":\"0.1.0\",\"started_ms\":5" extra "}"

static const struct valrow member_bad[] = {
	{ "", "value: not JSON: *" },
	{ "[1]", "value: not a JSON object" },
	{ "{\"member\":\"ctl-a\"}", "v: missing, or not a number" },
	{ "{\"v\":\"1\"}", "v: missing, or not a number" },
	{ "{\"v\":2,\"member\":\"ctl-a\"}", "v: version 2 is not known (this "
	  "member reads 1)" },
	{ "{\"v\":1,\"digest\":\"" HEX "\"}", "member: missing" },
	{ "{\"v\":1,\"member\":7}", "member: not a string" },
	{ "{\"v\":1,\"member\":\"ctl-b\",\"digest\":\"" HEX "\",\"version\":"
	  "\"1\",\"started_ms\":0}", "member: 'ctl-b' is not the key's member "
	  "'ctl-a'" },
	{ "{\"v\":1,\"member\":\"a/b\",\"digest\":\"" HEX "\",\"version\":"
	  "\"1\",\"started_ms\":0}", "member: 'a/b' is not a valid member "
	  "name" },
	{ "{\"v\":1,\"member\":\"ctl-a\",\"digest\":\"ABC\",\"version\":\"1\","
	  "\"started_ms\":0}", "digest: expected 64 lowercase hex digits" },
	{ "{\"v\":1,\"member\":\"ctl-a\",\"digest\":\"" HEX "0\",\"version\":"
	  "\"1\",\"started_ms\":0}", "digest: longer than 64 bytes, or holds a "
	  "NUL" },
	{ MEMBER_OK(",\"advertise\":\"ftp://x\""), "advertise: not an http:// "
	  "or https:// URL" },
	{ MEMBER_OK(",\"advertise\":\"http://\""), "advertise: not an http:// "
	  "or https:// URL" },
	{ "{\"v\":1,\"member\":\"ctl-a\",\"digest\":\"" HEX "\",\"version\":"
	  "\"\",\"started_ms\":0}", "version: empty, or not printable" },
	{ "{\"v\":1,\"member\":\"ctl-a\",\"digest\":\"" HEX "\",\"version\":"
	  "\"1\"}", "started_ms: missing" },
	{ "{\"v\":1,\"member\":\"ctl-a\",\"digest\":\"" HEX "\",\"version\":"
	  "\"1\",\"started_ms\":-5}", "started_ms: not a whole number of "
	  "milliseconds from 0" },
	{ "{\"v\":1,\"member\":\"ctl-a\",\"digest\":\"" HEX "\",\"version\":"
	  "\"1\",\"started_ms\":\"5\"}", "started_ms: not a whole number of "
	  "milliseconds from 0" },
	{ "{\"v\":1,\"v\":1}", "value: not JSON: duplicate object key*" },
	{ "{\"v\":1,\"member\":\"ctl\\u0000a\"}", "value: not JSON: *" },
};

/* want, or its start when it ends in '*' (jansson's own words follow). */
static bool
same(const char *got, const char *want)
{
	size_t n = strlen(want);

	if (n > 0 && want[n - 1] == '*')
		return strncmp(got, want, n - 1) == 0;
	return strcmp(got, want) == 0;
}

static void
test_member_refused(void **state)
{
	struct cl_member_rec m;
	char detail[256], *big;

	for (size_t i = 0; i < sizeof(member_bad) / sizeof(member_bad[0]);
	    i++) {
		const char *v = member_bad[i].value;

		detail[0] = '\0';
		assert_int_equal(cl_member_parse(v, strlen(v), "ctl-a", &m,
		    detail, sizeof(detail)), CL_E_PROTOCOL);
		if (!same(detail, member_bad[i].detail))
			print_error("%s\n  want: %s\n  got:  %s\n", v,
			    member_bad[i].detail, detail);
		assert_true(same(detail, member_bad[i].detail));
		assert_string_equal(m.member, "");
	}
	/* Unknown fields are a later version's: ignored. */
	assert_int_equal(cl_member_parse(MEMBER_OK(",\"zone\":\"eu\""),
	    strlen(MEMBER_OK(",\"zone\":\"eu\"")), "ctl-a", &m, detail,
	    sizeof(detail)), 0);
	assert_int_equal(m.started_ms, 5);
	/* Bounded. */
	big = malloc(CL_VALUE_MAX + 2);
	assert_non_null(big);
	memset(big, ' ', CL_VALUE_MAX + 1);
	big[CL_VALUE_MAX + 1] = '\0';
	assert_int_equal(cl_member_parse(big, CL_VALUE_MAX + 1, NULL, &m,
	    detail, sizeof(detail)), CL_E_PROTOCOL);
	assert_string_equal(detail, "value: 4097 bytes, longer than 4096");
	free(big);
}

static void
test_verdict(void **state)
{
	static const struct valrow bad[] = {
		{ "{\"v\":1,\"since_ms\":1}", "view: missing" },
		{ "{\"v\":1,\"view\":\"sideways\",\"since_ms\":1}", "view: "
		  "'sideways': expected up, down or unknown" },
		{ "{\"v\":1,\"view\":\"up\"}", "since_ms: missing" },
		{ "{\"v\":1,\"view\":\"up\",\"since_ms\":-1}", "since_ms: not a "
		  "whole number of milliseconds from 0" },
		{ "{\"v\":1,\"view\":\"up\",\"since_ms\":1.5}", "since_ms: not a "
		  "whole number of milliseconds from 0" },
		{ "{\"v\":1,\"view\":\"down\",\"since_ms\":1,\"reason\":"
		  "\"Time Out\"}", "reason: expected a short name of [a-z0-9_]" },
		{ "{\"v\":1,\"view\":\"down\",\"since_ms\":1,\"reason\":3}",
		  "reason: not a string" },
		{ "{\"v\":1,\"view\":\"down\",\"since_ms\":1,\"check\":"
		  "\"0123456789ABCDEF\"}", "check: expected 16 hex digits" },
		{ "{\"v\":0,\"view\":\"down\",\"since_ms\":1}", "v: version 0 is "
		  "not known (this member reads 1)" },
	};
	struct cl_verdict v = { CL_VIEW_DOWN, 1767225600123, "timeout",
	    "0123456789abcdef" }, back;
	char detail[256], *json = NULL;

	assert_int_equal(cl_verdict_build(&v, &json), 0);
	assert_string_equal(json, "{\"v\":1,\"view\":\"down\",\"since_ms\":"
	    "1767225600123,\"reason\":\"timeout\",\"check\":"
	    "\"0123456789abcdef\"}");
	assert_int_equal(cl_verdict_parse(json, strlen(json), &back, detail,
	    sizeof(detail)), 0);
	assert_memory_equal(&v, &back, sizeof(v));
	free(json);
	v = (struct cl_verdict){ CL_VIEW_UP, 0, "", "" };
	assert_int_equal(cl_verdict_build(&v, &json), 0);
	assert_string_equal(json, "{\"v\":1,\"view\":\"up\",\"since_ms\":0}");
	assert_int_equal(cl_verdict_parse(json, strlen(json), &back, detail,
	    sizeof(detail)), 0);
	assert_int_equal(back.view, CL_VIEW_UP);
	free(json);
	v = (struct cl_verdict){ CL_VIEW_UNKNOWN, 3, "", "" };
	assert_int_equal(cl_verdict_build(&v, &json), 0);
	assert_string_equal(json, "{\"v\":1,\"view\":\"unknown\","
	    "\"since_ms\":3}");
	free(json);

	v = (struct cl_verdict){ (enum cl_view)9, 0, "", "" };
	assert_int_equal(cl_verdict_build(&v, &json), CL_E_INVALID);
	v = (struct cl_verdict){ CL_VIEW_UP, -1, "", "" };
	assert_int_equal(cl_verdict_build(&v, &json), CL_E_INVALID);
	v = (struct cl_verdict){ CL_VIEW_UP, 1, "Bad", "" };
	assert_int_equal(cl_verdict_build(&v, &json), CL_E_INVALID);
	v = (struct cl_verdict){ CL_VIEW_UP, 1, "", "0123" };
	assert_int_equal(cl_verdict_build(&v, &json), CL_E_INVALID);
	assert_null(json);

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		detail[0] = '\0';
		assert_int_equal(cl_verdict_parse(bad[i].value,
		    strlen(bad[i].value), &back, detail, sizeof(detail)),
		    CL_E_PROTOCOL);
		if (strcmp(detail, bad[i].detail) != 0)
			print_error("%s\n  want: %s\n  got:  %s\n",
			    bad[i].value, bad[i].detail, detail);
		assert_string_equal(detail, bad[i].detail);
	}
	assert_int_equal(cl_view_parse("down"), CL_VIEW_DOWN);
	assert_int_equal(cl_view_parse("DOWN"), -1);
	assert_string_equal(cl_view_name(CL_VIEW_UNKNOWN), "unknown");
}

static void
test_digest(void **state)
{
	struct cl_digest_rec d = { HEX, "ctl-a", 0 }, back;
	char detail[256], *json = NULL;
	const char *bad = "{\"v\":1,\"digest\":\"" HEX "\"}";

	assert_int_equal(cl_digest_build(&d, &json), 0);
	assert_string_equal(json, "{\"v\":1,\"digest\":\"" HEX "\",\"member\":"
	    "\"ctl-a\"}");
	assert_int_equal(cl_digest_parse(json, strlen(json), &back, detail,
	    sizeof(detail)), 0);
	assert_string_equal(back.digest, d.digest);
	assert_string_equal(back.member, d.member);
	assert_int_equal(back.since_ms, d.since_ms);
	free(json);
	assert_int_equal(cl_digest_parse(bad, strlen(bad), &back, detail,
	    sizeof(detail)), CL_E_PROTOCOL);
	assert_string_equal(detail, "member: missing");
	/* since_ms: optional, left out at 0. */
	d.since_ms = 1767225600000;
	assert_int_equal(cl_digest_build(&d, &json), 0);
	assert_string_equal(json, "{\"v\":1,\"digest\":\"" HEX "\",\"member\":"
	    "\"ctl-a\",\"since_ms\":1767225600000}");
	assert_int_equal(cl_digest_parse(json, strlen(json), &back, detail,
	    sizeof(detail)), 0);
	assert_string_equal(back.digest, d.digest);
	assert_string_equal(back.member, d.member);
	assert_int_equal(back.since_ms, d.since_ms);
	free(json);
	d.since_ms = 0;
	d.digest[3] = 'X';
	assert_int_equal(cl_digest_build(&d, &json), CL_E_INVALID);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_dirs),
		cmocka_unit_test(test_keys_refused),
		cmocka_unit_test(test_parse_refused),
		cmocka_unit_test(test_leader),
		cmocka_unit_test(test_member),
		cmocka_unit_test(test_member_refused),
		cmocka_unit_test(test_verdict),
		cmocka_unit_test(test_digest),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
