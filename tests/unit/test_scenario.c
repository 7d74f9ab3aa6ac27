/*
 * test_scenario.c - the scenario parser: every form of line, every error
 * with its line number, and name resolution against a configuration.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config/config.h"
#include "controller/sim/scenario.h"

static struct scenario *
parse_ok(const char *text)
{
	struct scenario *scn = NULL;
	struct scn_errors errs = { 0 };
	int rc;

	rc = scn_parse("t.scn", text, strlen(text), &scn, &errs);
	for (size_t i = 0; i < errs.n; i++)
		print_error("unexpected: %s\n", errs.msg[i]);
	assert_int_equal(rc, 0);
	assert_int_equal(errs.n, 0);
	assert_non_null(scn);
	scn_errors_free(&errs);
	return scn;
}

/* Parse text expecting exactly the errors given, one per line. */
static void
parse_err(const char *text, const char *want)
{
	struct scenario *scn = (struct scenario *)1;
	struct scn_errors errs = { 0 };
	char got[4096] = "";

	assert_int_equal(scn_parse("t.scn", text, strlen(text), &scn, &errs),
	    -1);
	assert_null(scn);
	for (size_t i = 0; i < errs.n; i++) {
		strcat(got, errs.msg[i]);
		strcat(got, "\n");
	}
	assert_string_equal(got, want);
	scn_errors_free(&errs);
}

static void
test_design_example(void **state)
{
	/* The example of DESIGN.md, verbatim. */
	const char *text =
	    "at 0s    app1 up                 # probes of app1 succeed from now on\n"
	    "at 30s   app1 down               # … are refused\n"
	    "at 30s   app2 timeout            # … time out\n"
	    "at 40s   app1 status 503\n"
	    "at 50s   app1 flap 2s            # alternate up and down every 2 s\n"
	    "at 60s   hook app2 promote fail  # the next promote on app2 exits 1 (or: hang)\n"
	    "at 70s   dns down                # the DNS server does not answer (dns up)\n"
	    "at 80s   witness down\n"
	    "at 90s   ctl pause www           # any failoverctl verb\n"
	    "at 2h    end\n";
	struct scenario *scn;

	(void)state;
	scn = parse_ok(text);
	assert_int_equal(scn->n, 10);
	assert_int_equal(scn->end_ms, 7200000);
	assert_int_equal(scn->ev[0].kind, SCN_PROBE);
	assert_string_equal(scn->ev[0].stack, "app1");
	assert_int_equal(scn->ev[0].probe, SCN_P_UP);
	assert_int_equal(scn->ev[1].probe, SCN_P_DOWN);
	assert_int_equal(scn->ev[1].at_ms, 30000);
	assert_int_equal(scn->ev[2].probe, SCN_P_TIMEOUT);
	assert_int_equal(scn->ev[3].probe, SCN_P_STATUS);
	assert_int_equal(scn->ev[3].status, 503);
	assert_int_equal(scn->ev[4].probe, SCN_P_FLAP);
	assert_int_equal(scn->ev[4].flap_ms, 2000);
	assert_int_equal(scn->ev[5].kind, SCN_HOOK);
	assert_int_equal(scn->ev[5].hphase, ENG_PH_PROMOTE);
	assert_int_equal(scn->ev[5].hact, SCN_H_FAIL);
	assert_int_equal(scn->ev[5].times, 1);
	assert_int_equal(scn->ev[6].kind, SCN_DNS);
	assert_false(scn->ev[6].up);
	assert_null(scn->ev[6].refuse);
	assert_int_equal(scn->ev[7].kind, SCN_WITNESS);
	assert_int_equal(scn->ev[8].kind, SCN_CTL);
	assert_int_equal(scn->ev[8].cmd, ENG_CMD_PAUSE);
	assert_string_equal(scn->ev[8].group, "www");
	assert_string_equal(scn->ev[8].text, "pause www");
	assert_int_equal(scn->ev[9].kind, SCN_END);
	assert_int_equal(scn->ev[9].line, 10);
	scn_free(scn);
}

/* dns refuse REASON: a refusal a retry does not cure (the gate
 * dns_unusable). */
static void
test_dns_refuse(void **state)
{
	struct scenario *scn;

	(void)state;
	scn = parse_ok("at 0s dns refuse BADKEY\nat 1s dns refuse not_owner\n"
	    "at 2s dns up\nat 3s end\n");
	assert_int_equal(scn->n, 4);
	assert_int_equal(scn->ev[0].kind, SCN_DNS);
	assert_string_equal(scn->ev[0].refuse, "BADKEY");
	assert_string_equal(scn->ev[1].refuse, "not_owner");
	assert_null(scn->ev[2].refuse);
	assert_true(scn->ev[2].up);
	scn_free(scn);
}

static void
test_forms(void **state)
{
	struct scenario *scn;

	(void)state;
	scn = parse_ok(
	    "\n  # only a comment\n\r\n"
	    "at 0 app1 up\r\n"
	    "at 250ms hook app1 precheck hang always\n"
	    "at 1h30m hook app2 maintenance_off fail 3\n"
	    "at 1h30m hook app2 maintenance_off ok\n"
	    "at 2h ctl switch www --to app2 --force --yes --no-wait\n"
	    "at 2h ctl switch www\n"
	    "at 2h ctl pin www app1\n"
	    "at 2h ctl resume --all\n"
	    "at 2h ctl unpin www\n"
	    "at 2h ctl rearm www\n"
	    "at 3h\tdns\tup\n"
	    "at 3h end # done\n");
	assert_int_equal(scn->n, 12);
	assert_int_equal(scn->ev[0].line, 4);
	assert_int_equal(scn->ev[1].hphase, SCN_H_PRECHECK);
	assert_int_equal(scn->ev[1].hact, SCN_H_HANG);
	assert_int_equal(scn->ev[1].times, SCN_ALWAYS);
	assert_int_equal(scn->ev[1].at_ms, 250);
	assert_int_equal(scn->ev[2].at_ms, 5400000);
	assert_int_equal(scn->ev[2].times, 3);
	assert_int_equal(scn->ev[3].hact, SCN_H_OK);
	assert_int_equal(scn->ev[4].cmd, ENG_CMD_SWITCH);
	assert_string_equal(scn->ev[4].stack, "app2");
	assert_true(scn->ev[4].force);
	assert_null(scn->ev[5].stack);
	assert_false(scn->ev[5].force);
	assert_int_equal(scn->ev[6].cmd, ENG_CMD_PIN);
	assert_string_equal(scn->ev[6].stack, "app1");
	assert_true(scn->ev[7].all);
	assert_null(scn->ev[7].group);
	assert_int_equal(scn->ev[8].cmd, ENG_CMD_UNPIN);
	assert_int_equal(scn->ev[9].cmd, ENG_CMD_REARM);
	assert_true(scn->ev[10].up);
	assert_string_equal(scn_hphase_name(SCN_H_PRECHECK), "precheck");
	scn_free(scn);
}

static void
test_errors(void **state)
{
	(void)state;
	parse_err("", "t.scn: no 'at TIME end' line: the scenario must say "
	    "when it ends\n");
	parse_err("at 1s app1 up\n", "t.scn: no 'at TIME end' line: the "
	    "scenario must say when it ends\n");
	parse_err("after 1s app1 up\nat 1s end\n",
	    "t.scn:1: expected 'at TIME ...', not 'after'\n");
	parse_err("at\nat 1s end\n", "t.scn:1: missing time\n");
	parse_err("at 5x app1 up\nat -1s end\n",
	    "t.scn:1: bad time '5x' (e.g. 30s, 250ms, 2h)\n"
	    "t.scn:2: bad time '-1s' (e.g. 30s, 250ms, 2h)\n");
	parse_err("at 5s\nat 6s end\n", "t.scn:1: missing what happens at 5s\n");
	parse_err("at 5s app1\nat 6s end\n", "t.scn:1: app1: expected up, "
	    "down, timeout, status N or flap DUR\n");
	parse_err("at 5s app1 up now\nat 6s end\n", "t.scn:1: unexpected 'now'\n");
	parse_err("at 5s app1 status\nat 5s app1 status 42\nat 6s end\n",
	    "t.scn:1: status: expected an HTTP status 100-599\n"
	    "t.scn:2: status: expected an HTTP status 100-599, not 42\n");
	parse_err("at 5s app1 flap 0s\nat 5s app1 flap\nat 6s end\n",
	    "t.scn:1: flap: expected a duration above 0 (e.g. 2s), not 0s\n"
	    "t.scn:2: flap: expected a duration above 0 (e.g. 2s)\n");
	parse_err("at 5s hook app1\nat 5s hook app1 dns fail\n"
	    "at 5s hook app1 promote fail 0\n"
	    "at 5s hook app1 promote ok 2\nat 6s end\n",
	    "t.scn:1: hook: expected STACK PHASE fail|hang|ok\n"
	    "t.scn:2: hook: unknown phase 'dns' (precheck, maintenance_on, "
	    "replication_off, promote, maintenance_off)\n"
	    "t.scn:3: hook: bad count '0' (a number or always)\n"
	    "t.scn:4: unexpected '2'\n");
	parse_err("at 5s witness\nat 5s dns up up\nat 6s end\n",
	    "t.scn:1: witness: expected up or down\n"
	    "t.scn:2: dns: expected up, down or refuse REASON\n");
	parse_err("at 5s ctl\nat 5s ctl history\nat 5s ctl pause\n"
	    "at 5s ctl pin www\nat 5s ctl rearm --all\n"
	    "at 5s ctl switch www --to\nat 5s ctl unpin www app1\n"
	    "at 5s ctl pause --www\nat 6s end\n",
	    "t.scn:1: ctl: missing verb\n"
	    "t.scn:2: ctl: unknown or unplayable verb 'history' (pause, "
	    "resume, pin, unpin, rearm, switch)\n"
	    "t.scn:3: ctl pause: missing group\n"
	    "t.scn:4: ctl pin: expected GROUP STACK\n"
	    "t.scn:5: ctl rearm: --all only for pause and resume\n"
	    "t.scn:6: ctl switch: unexpected '--to' (--to STACK, --force, "
	    "--yes, --no-wait)\n"
	    "t.scn:7: ctl unpin: unexpected 'app1'\n"
	    "t.scn:8: ctl pause: expected a group, not '--www'\n");
	parse_err("at 10s app1 up\nat 5s app1 down\nat 1m end\nat 2m end\n",
	    "t.scn:2: time 5s goes backwards\nt.scn:4: line after 'end'\n");
	parse_err("at 1s a b c d e f g h i j k l m n o p q\nat 2s end\n",
	    "t.scn:1: too many words\n");
	{
		const char nul[] = "at 1s app1 up\0\nat 2s end\n";

		struct scenario *scn = NULL;
		struct scn_errors errs = { 0 };

		assert_int_equal(scn_parse("t.scn", nul, sizeof(nul) - 1,
		    &scn, &errs), -1);
		assert_string_equal(errs.msg[0],
		    "t.scn: not a text file (NUL byte)");
		scn_errors_free(&errs);
	}
}

static void
test_error_cap(void **state)
{
	struct scenario *scn = NULL;
	struct scn_errors errs = { 0 };
	size_t len = 200 * 8 + 16;
	char *text = malloc(len), *p = text;

	(void)state;
	for (int i = 0; i < 200; i++)
		p += sprintf(p, "bogus!\n");
	strcpy(p, "at 1s end\n");
	assert_int_equal(scn_parse("t.scn", text, strlen(text), &scn, &errs),
	    -1);
	assert_int_equal(errs.n, SCN_MAX_ERRORS);
	scn_errors_free(&errs);
	free(text);
}

static void
test_resolve(void **state)
{
	static struct cfg_stack stacks[3] = {
		{ .name = "app1" }, { .name = "app2" }, { .name = "app3" },
	};
	static struct cfg_group groups[1] = {
		{ .name = "www", .primary = 0, .backup = 1 },
	};
	struct config cfg = { .nstack = 3, .stacks = stacks, .ngroup = 1,
	    .groups = groups };
	struct scenario *scn;
	struct scn_errors errs = { 0 };

	(void)state;
	scn = parse_ok("at 0s app2 up\nat 1s ctl switch www --to app2\n"
	    "at 1s ctl pause --all\nat 1s hook app3 promote fail\n"
	    "at 2s end\n");
	assert_int_equal(scn_resolve(scn, &cfg, &errs), 0);
	assert_int_equal(scn->ev[0].stack_idx, 1);
	assert_int_equal(scn->ev[1].stack_idx, 1);
	assert_int_equal(scn->ev[1].group_idx, 0);
	assert_int_equal(scn->ev[2].group_idx, -1);
	assert_int_equal(scn->ev[3].stack_idx, 2);
	scn_free(scn);

	scn = parse_ok("at 0s app9 up\nat 1s ctl pin www app3\n"
	    "at 1s ctl rearm shop\nat 2s end\n");
	assert_int_equal(scn_resolve(scn, &cfg, &errs), -1);
	assert_int_equal(errs.n, 3);
	assert_string_equal(errs.msg[0], "t.scn:1: unknown stack 'app9'");
	assert_string_equal(errs.msg[1],
	    "t.scn:2: stack 'app3' is not in group 'www'");
	assert_string_equal(errs.msg[2], "t.scn:3: unknown group 'shop'");
	scn_errors_free(&errs);
	scn_free(scn);
}

/* Members (scenario.h "Members"): the header lines, @NAME, member
   stop|start, and their errors. */
static void
test_members(void **state)
{
	static struct cfg_stack stacks[2] = {
		{ .name = "app1" }, { .name = "app2" },
	};
	struct config cfg = { .nstack = 2, .stacks = stacks };
	struct scenario *scn;
	struct scn_errors errs = { 0 };

	(void)state;
	scn = parse_ok("members ctl-a ctl-b ctl-c\nquorum all\n"
	    "at 0s app1 up\nat 30s app1 down @ctl-b\n"
	    "at 40s member ctl-c stop\nat 50s member ctl-c start\n"
	    "at 60s end\n");
	assert_int_equal(scn->nmembers, 3);
	assert_string_equal(scn->members[1], "ctl-b");
	assert_true(scn->has_quorum);
	assert_int_equal(scn->quorum.kind, CFG_QUORUM_ALL);
	assert_null(scn->ev[0].member);
	assert_string_equal(scn->ev[1].member, "ctl-b");
	assert_int_equal(scn->ev[1].probe, SCN_P_DOWN);
	assert_int_equal(scn->ev[2].kind, SCN_MEMBER);
	assert_false(scn->ev[2].up);
	assert_true(scn->ev[3].up);
	assert_int_equal(scn_resolve(scn, &cfg, &errs), 0);
	assert_int_equal(scn->ev[1].member_idx, 1);
	assert_int_equal(scn->ev[2].member_idx, 2);
	scn_free(scn);

	scn = parse_ok("quorum 2\nat 0s app1 up\nat 1s end\n");
	assert_int_equal(scn->quorum.kind, CFG_QUORUM_COUNT);
	assert_int_equal(scn->quorum.n, 2);
	assert_int_equal(scn->nmembers, 0);
	scn_free(scn);

	parse_err("members\nmembers a a\nquorum\nquorum none\nquorum 0\n"
	    "at 1s app1 down @\nmembers b\nat 2s member b\nat 3s end\n",
	    "t.scn:1: members: expected at least one name\n"
	    "t.scn:2: member 'a' named twice\n"
	    "t.scn:3: quorum: expected majority, all or a number\n"
	    "t.scn:4: quorum: expected majority, all or a number from 1 to "
	    "64, not 'none'\n"
	    "t.scn:5: quorum: expected majority, all or a number from 1 to "
	    "64, not '0'\n"
	    "t.scn:6: '@' without a member name\n"
	    "t.scn:7: 'members' must come before the first 'at' line\n"
	    "t.scn:8: member: expected NAME stop or NAME start\n");

	/* A members line with an error still counts as given (its names
	 * are not kept twice: found by the fuzzer as a leak). */
	parse_err("members -a\nmembers c\nat 1s end\n",
	    "t.scn:1: '-a' is not a member name\n"
	    "t.scn:2: members given twice\n");

	scn = parse_ok("at 0s app1 down @ctl-a\nat 1s end\n");
	assert_int_equal(scn_resolve(scn, &cfg, &errs), -1);
	assert_string_equal(errs.msg[0], "t.scn:1: member 'ctl-a': the "
	    "scenario has no 'members' line");
	scn_errors_free(&errs);
	scn_free(scn);
	scn = parse_ok("members a b\nat 0s app1 down @c\n"
	    "at 1s member a stop\nat 2s end\n");
	assert_int_equal(scn_resolve(scn, &cfg, &errs), -1);
	assert_int_equal(errs.n, 2);
	assert_string_equal(errs.msg[0], "t.scn:2: unknown member 'c'");
	assert_string_equal(errs.msg[1], "t.scn:3: member 'a' leads the "
	    "simulation: it cannot stop or start");
	scn_errors_free(&errs);
	scn_free(scn);
}

static void
test_load(void **state)
{
	struct scenario *scn = NULL;
	struct scn_errors errs = { 0 };
	char path[] = "/tmp/test_scenario.XXXXXX";
	int fd;
	FILE *f;

	(void)state;
	assert_int_equal(scn_load("/nonexistent/x.scn", &scn, &errs), -1);
	assert_string_equal(errs.msg[0],
	    "/nonexistent/x.scn: No such file or directory");
	scn_errors_free(&errs);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	fputs("at 0s app1 up\nat 1m end\n", f);
	fclose(f);
	assert_int_equal(scn_load(path, &scn, &errs), 0);
	assert_int_equal(scn->n, 2);
	assert_string_equal(scn->path, path);
	scn_free(scn);
	remove(path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_design_example),
		cmocka_unit_test(test_forms),
		cmocka_unit_test(test_dns_refuse),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_error_cap),
		cmocka_unit_test(test_resolve),
		cmocka_unit_test(test_load),
		cmocka_unit_test(test_members),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
