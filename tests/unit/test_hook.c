/*
 * test_hook.c - the pure parts of controller/shell/hook.c: the contract
 * environment and the --dry-run rendering.  Running processes is tested
 * in tests/integration/test_hooks.sh.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <event2/event.h>

#include "controller/shell/hook.h"

static size_t
count(char **v)
{
	size_t n = 0;

	while (v[n] != NULL)
		n++;
	return n;
}

static void
test_env_full(void **state)
{
	struct hook_env e = {
		.group = "www", .phase = "promote", .stack = "app2",
		.from = "app1", .to = "app2", .id = "www-20260101T120000Z-1",
		.attempt = 2, .reason = "auto",
		.address = "www.failover.example.net.", .dry_run = false,
		.status = NULL,
	};
	static const char *want[] = {
		"PATH=/usr/sbin:/usr/bin:/sbin:/bin",
		"FAILOVER_GROUP=www",
		"FAILOVER_PHASE=promote",
		"FAILOVER_STACK=app2",
		"FAILOVER_FROM=app1",
		"FAILOVER_TO=app2",
		"FAILOVER_ID=www-20260101T120000Z-1",
		"FAILOVER_ATTEMPT=2",
		"FAILOVER_REASON=auto",
		"FAILOVER_ADDRESS=www.failover.example.net.",
		"FAILOVER_DRY_RUN=0",
	};
	char **v = hook_env_build(&e, HOOK_PATH_DEFAULT);
	size_t i;

	assert_non_null(v);
	assert_int_equal(count(v), sizeof(want) / sizeof(want[0]));
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		assert_string_equal(v[i], want[i]);
	free(v);
}

static void
test_env_status_change(void **state)
{
	struct hook_env e = {
		.group = "www", .phase = "status_change", .stack = "app1",
		.address = "www.example.net.", .dry_run = true,
		.status = "offline",
	};
	char **v = hook_env_build(&e, NULL);

	assert_non_null(v);
	assert_int_equal(count(v), 6);
	assert_string_equal(v[0], "FAILOVER_GROUP=www");
	assert_string_equal(v[1], "FAILOVER_PHASE=status_change");
	assert_string_equal(v[2], "FAILOVER_STACK=app1");
	assert_string_equal(v[3], "FAILOVER_ADDRESS=www.example.net.");
	assert_string_equal(v[4], "FAILOVER_DRY_RUN=1");
	assert_string_equal(v[5], "FAILOVER_STATUS=offline");
	free(v);
}

static void
test_env_required(void **state)
{
	struct hook_env e = { .group = "www" };

	assert_null(hook_env_build(&e, NULL));
	e.group = NULL;
	e.phase = "promote";
	assert_null(hook_env_build(&e, NULL));
	assert_null(hook_env_build(NULL, NULL));
}

static void
test_env_values_kept(void **state)
{
	/* Values are passed as they are: the child sees no shell. */
	struct hook_env e = {
		.group = "a b", .phase = "precheck", .reason = "x=$y'\"\n",
		.attempt = 4000000000u,
	};
	char **v = hook_env_build(&e, NULL);

	assert_non_null(v);
	assert_string_equal(v[0], "FAILOVER_GROUP=a b");
	assert_string_equal(v[2], "FAILOVER_ATTEMPT=4000000000");
	assert_string_equal(v[3], "FAILOVER_REASON=x=$y'\"\n");
	free(v);
}

static void
test_render(void **state)
{
	struct {
		const char	*argv[6];
		const char	*envp[4];
		bool		 has_env;
		const char	*want;
	} t[] = {
		{ { "/etc/failoverd/hooks/database", "promote", NULL }, { NULL },
		    false, "/etc/failoverd/hooks/database promote" },
		{ { "/x", "a b", "$HOME", "it's", "", NULL },
		    { "PATH=/bin", "FAILOVER_GROUP=my group", NULL }, true,
		    "env -i PATH=/bin 'FAILOVER_GROUP=my group' /x 'a b' "
		    "'$HOME' 'it'\\''s' ''" },
		{ { "/x", "*", "a;b", "@host:22,/p-q_r.s%+", NULL }, { NULL },
		    true, "env -i /x '*' 'a;b' @host:22,/p-q_r.s%+" },
		{ { "/x", "line\nbreak", NULL }, { NULL }, false,
		    "/x 'line\nbreak'" },
	};
	size_t i;
	char *s;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		s = hook_render((char *const *)t[i].argv,
		    t[i].has_env ? (char *const *)t[i].envp : NULL);
		assert_non_null(s);
		assert_string_equal(s, t[i].want);
		free(s);
	}
	assert_null(hook_render(NULL, NULL));
}

static void
test_render_built_env(void **state)
{
	struct hook_env e = { .group = "www", .phase = "maintenance_on",
	    .stack = "app1", .reason = "manual" };
	char *argv[] = { "/etc/failoverd/hooks/maintenance", "on",
	    "/srv/app 1", NULL };
	char **v = hook_env_build(&e, "/usr/bin:/bin");
	char *s;

	assert_non_null(v);
	s = hook_render(argv, v);
	assert_non_null(s);
	assert_string_equal(s, "env -i PATH=/usr/bin:/bin FAILOVER_GROUP=www "
	    "FAILOVER_PHASE=maintenance_on FAILOVER_STACK=app1 "
	    "FAILOVER_REASON=manual FAILOVER_DRY_RUN=0 "
	    "/etc/failoverd/hooks/maintenance on '/srv/app 1'");
	free(s);
	free(v);
}

static void
test_names(void **state)
{
	struct hook_result r = { .outcome = HOOK_EXITED, .status = 0 };

	assert_string_equal(hook_outcome_name(HOOK_EXITED), "exited");
	assert_string_equal(hook_outcome_name(HOOK_SIGNALED), "signaled");
	assert_string_equal(hook_outcome_name(HOOK_TIMEOUT), "timeout");
	assert_string_equal(hook_outcome_name(HOOK_CANCELLED), "cancelled");
	assert_string_equal(hook_outcome_name(HOOK_NOSTART), "nostart");
	assert_string_equal(hook_stream_name(HOOK_STDOUT), "stdout");
	assert_string_equal(hook_stream_name(HOOK_STDERR), "stderr");
	assert_true(hook_result_ok(&r));
	r.status = 1;
	assert_false(hook_result_ok(&r));
	r.status = 0;
	r.outcome = HOOK_TIMEOUT;	/* exited 0 after SIGTERM: not ok */
	assert_false(hook_result_ok(&r));
	assert_string_equal(hook_strerror(HOOK_E_INVAL), "invalid hook");
}

static void
test_start_invalid(void **state)
{
	struct event_base *base = event_base_new();
	struct hook_runner *r;
	struct hook *h = (struct hook *)&h;
	char *argv[] = { "/bin/true", NULL }, *empty[] = { "", NULL };
	char *noeq[] = { "FAILOVER_GROUP", NULL }, *noname[] = { "=x", NULL };
	struct hook_spec spec = { 0 };

	assert_non_null(base);
	r = hook_runner_new(base, NULL);
	assert_non_null(r);
	assert_int_equal(hook_start(r, NULL, &h), HOOK_E_INVAL);
	assert_null(h);
	assert_int_equal(hook_start(r, &spec, NULL), HOOK_E_INVAL);
	spec.argv = empty;
	assert_int_equal(hook_start(r, &spec, NULL), HOOK_E_INVAL);
	spec.argv = argv;
	spec.envp = noeq;
	assert_int_equal(hook_start(r, &spec, NULL), HOOK_E_INVAL);
	spec.envp = noname;
	assert_int_equal(hook_start(r, &spec, NULL), HOOK_E_INVAL);
	assert_int_equal(hook_runner_count(r), 0);
	hook_runner_free(r);
	hook_runner_free(NULL);
	event_base_free(base);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_env_full),
		cmocka_unit_test(test_env_status_change),
		cmocka_unit_test(test_env_required),
		cmocka_unit_test(test_env_values_kept),
		cmocka_unit_test(test_render),
		cmocka_unit_test(test_render_built_env),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_start_invalid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
