/*
 * test_quorum.c - the quorum rule on tables: majority of 1, 2, 3, 4 and
 * 5 members, all, N larger than the members, dead members, unknowns,
 * ties, conflicts, the decision's time, the record and bad input.
 *
 * A row's votes are words "NAME=VIEW@SINCE", with "/dead" for a member
 * whose lease is gone: "a=down@10 b=up@5 c=down@3/dead".
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "controller/core/quorum.h"
#include "controller/core/quorum_view.h"

#define MAJ	{ CFG_QUORUM_MAJORITY, 0 }
#define ALL	{ CFG_QUORUM_ALL, 0 }
#define N(x)	{ CFG_QUORUM_COUNT, x }

struct row {
	const char		*name;
	struct cfg_quorum	 q;
	const char		*votes;
	enum quorum_decision	 want;
	size_t			 required, live, up, down, unknown, dead;
	int64_t			 since;
};

static const struct row rows[] = {
	/* Majority of 1: the one member decides. */
	{ "maj1 down", MAJ, "a=down@7", QUORUM_DOWN, 1, 1, 0, 1, 0, 0, 7 },
	{ "maj1 up", MAJ, "a=up@7", QUORUM_UP, 1, 1, 1, 0, 0, 0, 7 },
	{ "maj1 unknown", MAJ, "a=unknown@7", QUORUM_NONE, 1, 1, 0, 0, 1, 0,
	  7 },
	/* Majority of 2: both; a tie holds. */
	{ "maj2 both down", MAJ, "a=down@5 b=down@9", QUORUM_DOWN, 2, 2, 0, 2,
	  0, 0, 9 },
	{ "maj2 tie", MAJ, "a=down@5 b=up@9", QUORUM_NONE, 2, 2, 1, 1, 0, 0,
	  9 },
	{ "maj2 one unknown", MAJ, "a=down@5 b=unknown@1", QUORUM_NONE, 2, 2,
	  0, 1, 1, 0, 5 },
	/* Majority of 3. */
	{ "maj3 two down", MAJ, "a=down@30 b=up@1 c=down@20", QUORUM_DOWN, 2,
	  3, 1, 2, 0, 0, 30 },
	{ "maj3 one down, the leader or not", MAJ,
	  "a=down@30 b=up@1 c=up@2", QUORUM_UP, 2, 3, 2, 1, 0, 0, 2 },
	{ "maj3 one each", MAJ, "a=down@30 b=up@1 c=unknown@2", QUORUM_NONE,
	  2, 3, 1, 1, 1, 0, 30 },
	{ "maj3 two down, one unknown", MAJ, "a=down@3 b=down@4 c=unknown@9",
	  QUORUM_DOWN, 2, 3, 0, 2, 1, 0, 4 },
	{ "maj3 one down, two unknown", MAJ,
	  "a=down@3 b=unknown@4 c=unknown@9", QUORUM_NONE, 2, 3, 0, 1, 2, 0,
	  9 },
	{ "maj3 all down: since of the second", MAJ,
	  "a=down@10 b=down@30 c=down@20", QUORUM_DOWN, 2, 3, 0, 3, 0, 0, 20 },
	/* Majority of 4: 3 needed, 2-2 is a tie. */
	{ "maj4 tie", MAJ, "a=down@1 b=down@2 c=up@3 d=up@4", QUORUM_NONE, 3,
	  4, 2, 2, 0, 0, 4 },
	{ "maj4 three down", MAJ, "a=down@1 b=down@2 c=up@3 d=down@4",
	  QUORUM_DOWN, 3, 4, 1, 3, 0, 0, 4 },
	/* Majority of 5. */
	{ "maj5 three down", MAJ, "a=down@1 b=down@2 c=up@3 d=down@4 e=up@5",
	  QUORUM_DOWN, 3, 5, 2, 3, 0, 0, 4 },
	{ "maj5 two each", MAJ,
	  "a=down@1 b=down@2 c=up@3 d=up@4 e=unknown@5", QUORUM_NONE, 3, 5, 2,
	  2, 1, 0, 5 },
	{ "maj5 two down, three unknown", MAJ,
	  "a=down@1 b=down@2 c=unknown@3 d=unknown@4 e=unknown@5",
	  QUORUM_NONE, 3, 5, 0, 2, 3, 0, 5 },
	{ "maj5 three up", MAJ,
	  "a=up@1 b=up@2 c=up@3 d=unknown@4 e=unknown@5", QUORUM_UP, 3, 5, 3,
	  0, 2, 0, 3 },
	/* Dead members count for nothing. */
	{ "maj3, the only one seeing down died", MAJ,
	  "a=up@1 b=up@2 c=down@3/dead", QUORUM_UP, 2, 2, 2, 0, 0, 1, 2 },
	{ "maj3, one dead: 1-1 is a tie of two", MAJ,
	  "a=down@1 b=up@2 c=down@3/dead", QUORUM_NONE, 2, 2, 1, 1, 0, 1, 2 },
	{ "maj3, two dead: the survivor decides", MAJ,
	  "a=down@8 b=up@2/dead c=up@3/dead", QUORUM_DOWN, 1, 1, 0, 1, 0, 2,
	  8 },
	{ "maj, every member dead", MAJ, "a=down@1/dead b=down@2/dead",
	  QUORUM_NONE, 1, 0, 0, 0, 0, 2, 0 },
	{ "maj, no member at all", MAJ, "", QUORUM_NONE, 1, 0, 0, 0, 0, 0, 0 },
	/* all: every live member. */
	{ "all3 down", ALL, "a=down@1 b=down@5 c=down@3", QUORUM_DOWN, 3, 3, 0,
	  3, 0, 0, 5 },
	{ "all3 one up", ALL, "a=down@1 b=down@5 c=up@3", QUORUM_NONE, 3, 3, 1,
	  2, 0, 0, 5 },
	{ "all3 one unknown", ALL, "a=down@1 b=down@5 c=unknown@3",
	  QUORUM_NONE, 3, 3, 0, 2, 1, 0, 5 },
	{ "all3 up", ALL, "a=up@1 b=up@5 c=up@3", QUORUM_UP, 3, 3, 3, 0, 0, 0,
	  5 },
	{ "all3, one dead", ALL, "a=down@1 b=down@5 c=up@3/dead", QUORUM_DOWN,
	  2, 2, 0, 2, 0, 1, 5 },
	{ "all, no live member", ALL, "a=down@1/dead", QUORUM_NONE, 1, 0, 0, 0,
	  0, 1, 0 },
	{ "all, nothing at all", ALL, "", QUORUM_NONE, 1, 0, 0, 0, 0, 0, 0 },
	{ "all1", ALL, "a=down@4", QUORUM_DOWN, 1, 1, 0, 1, 0, 0, 4 },
	/* N: absolute. */
	{ "N=2 of 3, two down", N(2), "a=down@1 b=up@2 c=down@3", QUORUM_DOWN,
	  2, 3, 1, 2, 0, 0, 3 },
	{ "N=2 of 3, one down", N(2), "a=down@1 b=up@2 c=up@3", QUORUM_UP, 2,
	  3, 2, 1, 0, 0, 3 },
	{ "N=2, the others dead: one view is not enough", N(2),
	  "a=down@1 b=down@2/dead c=down@3/dead", QUORUM_NONE, 2, 1, 0, 1, 0,
	  2, 1 },
	{ "N=4 of 3 members: never", N(4), "a=down@1 b=down@2 c=down@3",
	  QUORUM_NONE, 4, 3, 0, 3, 0, 0, 3 },
	{ "N=4 of 3 members, all up: never", N(4), "a=up@1 b=up@2 c=up@3",
	  QUORUM_NONE, 4, 3, 3, 0, 0, 0, 3 },
	{ "N=1, any one down: down wins the conflict", N(1),
	  "a=up@1 b=down@6 c=up@3", QUORUM_DOWN, 1, 3, 2, 1, 0, 0, 6 },
	{ "N=1, up and unknown", N(1), "a=up@4 b=unknown@6", QUORUM_UP, 1, 2,
	  1, 0, 1, 0, 4 },
	{ "N=1, all unknown", N(1), "a=unknown@4 b=unknown@6", QUORUM_NONE, 1,
	  2, 0, 0, 2, 0, 6 },
	{ "N=2 of 4: 2-2 conflict, down wins", N(2),
	  "a=up@1 b=down@6 c=up@3 d=down@2", QUORUM_DOWN, 2, 4, 2, 2, 0, 0,
	  6 },
	{ "N=3 of 5", N(3), "a=down@1 b=down@2 c=down@9 d=up@4 e=up@5",
	  QUORUM_DOWN, 3, 5, 2, 3, 0, 0, 9 },
	/* Order of the votes does not matter. */
	{ "maj3 two down, other order", MAJ, "c=down@20 b=up@1 a=down@30",
	  QUORUM_DOWN, 2, 3, 1, 2, 0, 0, 30 },
};

/* Parse "NAME=VIEW@SINCE[/dead] ..." into v (names into store). */
static size_t
parse_votes(const char *spec, struct quorum_vote *v, char store[][32])
{
	char buf[1024], *save = NULL, *w;
	size_t n = 0;

	snprintf(buf, sizeof(buf), "%s", spec);
	for (w = strtok_r(buf, " ", &save); w != NULL;
	    w = strtok_r(NULL, " ", &save)) {
		char *eq = strchr(w, '='), *at = strchr(w, '@'), *sl;
		char view[16];
		int k;

		assert_non_null(eq);
		assert_non_null(at);
		*eq = '\0';
		*at = '\0';
		snprintf(store[n], 32, "%s", w);
		snprintf(view, sizeof(view), "%s", eq + 1);
		k = quorum_view_parse(view);
		assert_true(k >= 0);
		v[n].member = store[n];
		v[n].view = (enum quorum_view)k;
		v[n].since_ms = strtoll(at + 1, NULL, 10);
		sl = strchr(at + 1, '/');
		v[n].live = sl == NULL;
		if (sl != NULL)
			assert_string_equal(sl, "/dead");
		n++;
	}
	return n;
}

static void
test_row(void **state)
{
	const struct row *r = *state;
	struct quorum_vote v[16];
	struct quorum_result res;
	char store[16][32];
	size_t n;

	n = parse_votes(r->votes, v, store);
	assert_int_equal(quorum_decide(&r->q, v, n, &res), 0);
	if (res.decision != r->want)
		print_error("%s: got %s, want %s\n", r->name,
		    quorum_decision_name(res.decision),
		    quorum_decision_name(r->want));
	assert_int_equal(res.decision, r->want);
	assert_int_equal(res.required, r->required);
	assert_int_equal(res.live, r->live);
	assert_int_equal(res.up, r->up);
	assert_int_equal(res.down, r->down);
	assert_int_equal(res.unknown, r->unknown);
	assert_int_equal(res.dead, r->dead);
	assert_int_equal(res.since_ms, r->since);
	assert_int_equal(quorum_required(&r->q, res.live), r->required);
}

static void
test_required(void **state)
{
	struct cfg_quorum maj = MAJ, all = ALL, n3 = N(3);
	static const size_t want_maj[] = { 1, 1, 2, 2, 3, 3, 4, 4, 5 };

	for (size_t live = 0; live < sizeof(want_maj) / sizeof(want_maj[0]);
	    live++) {
		assert_int_equal(quorum_required(&maj, live), want_maj[live]);
		assert_int_equal(quorum_required(&all, live), live ? live : 1);
		assert_int_equal(quorum_required(&n3, live), 3);
	}
}

static void
test_record(void **state)
{
	struct cfg_quorum maj = MAJ, n2 = N(2);
	struct quorum_vote v[8];
	struct quorum_result res;
	char store[8][32], buf[256], small[16];
	size_t n;
	int len;

	n = parse_votes("ctl-c=down@5 ctl-a=up@1 ctl-b=down@4 ctl-d=down@2/dead"
	    " ctl-e=unknown@0", v, store);
	assert_int_equal(quorum_decide(&maj, v, n, &res), 0);
	assert_int_equal(res.decision, QUORUM_NONE);	/* 2 of 4 live */
	len = quorum_format(&maj, v, n, &res, buf, sizeof(buf));
	assert_string_equal(buf, "decision=no_quorum quorum=majority "
	    "required=3 live=4 down=ctl-b,ctl-c up=ctl-a unknown=ctl-e "
	    "dead=ctl-d");
	assert_int_equal(len, (int)strlen(buf));
	/* Truncated as snprintf does, with the whole length returned. */
	assert_int_equal(quorum_format(&maj, v, n, &res, small,
	    sizeof(small)), len);
	assert_string_equal(small, "decision=no_quo");
	assert_int_equal(quorum_format(&maj, v, n, &res, NULL, 0), len);

	n = parse_votes("b=down@5 a=down@1", v, store);
	assert_int_equal(quorum_decide(&n2, v, n, &res), 0);
	assert_int_equal(res.decision, QUORUM_DOWN);
	quorum_format(&n2, v, n, &res, buf, sizeof(buf));
	assert_string_equal(buf, "decision=down quorum=2 required=2 live=2 "
	    "down=a,b up=- unknown=- dead=-");

	assert_int_equal(quorum_decide(&maj, NULL, 0, &res), 0);
	quorum_format(&maj, NULL, 0, &res, buf, sizeof(buf));
	assert_string_equal(buf, "decision=no_quorum quorum=majority "
	    "required=1 live=0 down=- up=- unknown=- dead=-");
}

static void
test_bad_input(void **state)
{
	struct cfg_quorum maj = MAJ, n0 = N(0), bad = { (enum cfg_quorum_kind)9,
	    0 };
	struct quorum_vote v[QUORUM_MAX_VOTES + 1];
	struct quorum_result res;
	char store[4][32];
	size_t n;

	n = parse_votes("a=down@1 b=up@2 a=up@3", v, store);
	res.decision = QUORUM_DOWN;
	assert_int_equal(quorum_decide(&maj, v, n, &res), QUORUM_E_DUPLICATE);
	assert_int_equal(res.decision, QUORUM_NONE);
	assert_int_equal(res.live, 0);
	/* Dead or not, one member is one vote. */
	n = parse_votes("a=down@1 a=down@3/dead", v, store);
	assert_int_equal(quorum_decide(&maj, v, n, &res), QUORUM_E_DUPLICATE);
	n = parse_votes("a=down@1", v, store);
	assert_int_equal(quorum_decide(&n0, v, n, &res), QUORUM_E_INVALID);
	assert_int_equal(quorum_decide(&bad, v, n, &res), QUORUM_E_INVALID);
	assert_int_equal(quorum_decide(NULL, v, n, &res), QUORUM_E_INVALID);
	assert_int_equal(quorum_decide(&maj, v, n, NULL), QUORUM_E_INVALID);
	assert_int_equal(quorum_decide(&maj, NULL, 1, &res), QUORUM_E_INVALID);
	v[0].view = (enum quorum_view)7;
	assert_int_equal(quorum_decide(&maj, v, 1, &res), QUORUM_E_INVALID);
	v[0].view = QUORUM_V_UP;
	v[0].member = "";
	assert_int_equal(quorum_decide(&maj, v, 1, &res), QUORUM_E_INVALID);
	v[0].member = NULL;
	assert_int_equal(quorum_decide(&maj, v, 1, &res), QUORUM_E_INVALID);
	assert_int_equal(quorum_format(&maj, v, 1, &res, NULL, 0), -1);
	for (size_t i = 0; i <= QUORUM_MAX_VOTES; i++)
		v[i] = (struct quorum_vote){ "x", QUORUM_V_UP, 0, true };
	assert_int_equal(quorum_decide(&maj, v, QUORUM_MAX_VOTES + 1, &res),
	    QUORUM_E_INVALID);
	assert_string_equal(quorum_strerror(QUORUM_E_DUPLICATE),
	    "a member votes twice");
	assert_int_equal(quorum_view_parse("sideways"), -1);
	assert_string_equal(quorum_view_name(QUORUM_V_DOWN), "down");
	assert_string_equal(quorum_decision_name(QUORUM_NONE), "no_quorum");
}

/* The engine's input (quorum_view.h): the decision, the counts and who
   sees what, sorted; bad votes decide nothing. */
static void
test_view(void **state)
{
	struct cfg_quorum maj = MAJ;
	struct quorum_vote v[8];
	struct quorum_result r;
	struct eng_quorum q;
	char store[16][32];
	size_t n;

	(void)state;
	n = parse_votes("c=down@3 a=up@1 b=down@2 d=up@4/dead", v, store);
	quorum_view_build(&maj, v, n, &q, &r);
	assert_int_equal(q.decision, QUORUM_DOWN);
	assert_int_equal(r.decision, QUORUM_DOWN);
	assert_int_equal(q.required, 2);
	assert_int_equal(q.live, 3);
	assert_int_equal(q.down, 2);
	assert_int_equal(q.up, 1);
	assert_string_equal(q.seen_down, "b,c");
	assert_string_equal(q.seen_up, "a");
	assert_string_equal(q.seen_unknown, "-");
	n = parse_votes("a=up@1 a=down@2", v, store);
	quorum_view_build(&maj, v, n, &q, NULL);
	assert_int_equal(q.decision, QUORUM_NONE);
	assert_int_equal(q.live, 0);
}

int
main(void)
{
	size_t nrow = sizeof(rows) / sizeof(rows[0]);
	const struct CMUnitTest fixed[] = {
		cmocka_unit_test(test_required),
		cmocka_unit_test(test_record),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_view),
	};
	size_t nfixed = sizeof(fixed) / sizeof(fixed[0]);
	struct CMUnitTest *tests;
	int rc;

	if ((tests = calloc(nrow + nfixed, sizeof(*tests))) == NULL)
		return 1;
	for (size_t i = 0; i < nrow; i++) {
		tests[i].name = rows[i].name;
		tests[i].test_func = test_row;
		tests[i].initial_state = (void *)&rows[i];
	}
	memcpy(tests + nrow, fixed, sizeof(fixed));
	rc = _cmocka_run_group_tests("quorum", tests, nrow + nfixed, NULL,
	    NULL);
	free(tests);
	return rc;
}
