/*
 * test_world.c - the committed state read against the published record
 * (controller/core/world.h), one row per case of DESIGN.md "What failoverd
 * trusts".
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "controller/core/engine.h"
#include "controller/core/world.h"
#include "dnsupdate/dnsup_msg.h"

enum { APP1, APP2, APP3 };

static struct cfg_stack stacks[3];
static struct cfg_group groups[2];
static struct config cfg;

static void
fixture(void)
{
	static char *names[3] = { "app1", "app2", "app3" };
	static char *heads[3] = { "app1.example.net.", "app2.example.net.",
	    "app3.example.net." };

	memset(stacks, 0, sizeof(stacks));
	memset(groups, 0, sizeof(groups));
	memset(&cfg, 0, sizeof(cfg));
	for (int i = 0; i < 3; i++) {
		stacks[i].name = names[i];
		stacks[i].web_head.is_name = true;
		stacks[i].web_head.name = heads[i];
	}
	groups[0].name = "www";
	groups[0].primary = APP1;
	groups[0].backup = APP2;
	groups[1].name = "spare";
	groups[1].primary = groups[1].backup = -1;
	cfg.nstack = 3;
	cfg.stacks = stacks;
	cfg.ngroup = 2;
	cfg.groups = groups;
}

struct row {
	const char	*name;
	bool		 had_state;
	enum eng_status	 status;	/* of the state */
	int		 active;	/* of the state */
	const char	*found;		/* NULL: unreadable; "none"; a value */
	enum world_verdict verdict;
	enum eng_status	 status_after;
	int		 active_after;
};

static const struct row rows[] = {
	{ "first start, record on the primary", false, ENG_SERVING, APP1,
	  "CNAME app1.example.net.", WORLD_FIRST, ENG_SERVING, APP1 },
	{ "first start, no record", false, ENG_SERVING, APP1,
	  "none", WORLD_FIRST, ENG_SERVING, APP1 },
	{ "first start, something else there", false, ENG_SERVING, APP1,
	  "A 192.0.2.9", WORLD_FIRST, ENG_SERVING, APP1 },
	{ "state lost, record on the backup: adopted", false, ENG_SERVING,
	  APP1, "CNAME app2.example.net.", WORLD_ADOPT, ENG_WAIT_REARM, APP2 },
	{ "state lost, record unreadable: hold", false, ENG_SERVING, APP1,
	  NULL, WORLD_HOLD_UNREAD, ENG_SERVING, APP1 },
	{ "state and record agree", true, ENG_WAIT_REARM, APP2,
	  "CNAME app2.example.net.", WORLD_KEEP, ENG_WAIT_REARM, APP2 },
	{ "state reset to the primary (stack renamed), record on the backup",
	  true, ENG_SERVING, APP1, "CNAME app2.example.net.", WORLD_ADOPT,
	  ENG_WAIT_REARM, APP2 },
	{ "flipped by hand to the primary while stopped", true,
	  ENG_WAIT_REARM, APP2, "CNAME app1.example.net.", WORLD_ADOPT,
	  ENG_WAIT_REARM, APP1 },
	{ "state, record unreadable: the state's UPDATEs are checked", true,
	  ENG_SERVING, APP1, NULL, WORLD_KEEP, ENG_SERVING, APP1 },
	{ "state, record edited to something else: repaired", true,
	  ENG_SERVING, APP1, "A 192.0.2.9", WORLD_KEEP, ENG_SERVING, APP1 },
	{ "record on a stack not the group's: hold", true, ENG_SERVING, APP1,
	  "CNAME app3.example.net.", WORLD_HOLD_FOREIGN, ENG_SERVING, APP1 },
	{ "a switch runs its sequence", true, ENG_SWITCHING, APP1,
	  "CNAME app2.example.net.", WORLD_KEEP, ENG_SWITCHING, APP1 },
};

static void
test_rows(void **unused)
{
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *r = &rows[i];
		struct eng_group g;
		struct dnsup_rrset found;
		struct world_record rec;
		char err[128];
		int expected;
		enum world_verdict v;

		fixture();
		assert_int_equal(eng_group_init(&g, &cfg, 0, false), 0);
		g.status = r->status;
		g.active = r->active;
		g.standby = r->active == APP1 ? APP2 : APP1;
		g.pub_stack = r->active;
		if (r->found != NULL)
			assert_int_equal(dnsup_rrset_parse(&found, r->found, 60,
			    err, sizeof(err)), 0);
		world_record_of(&cfg, r->found != NULL ? &found : NULL, &rec);
		v = world_reconcile(&g, &cfg, r->had_state, &rec, &expected);
		if (v != r->verdict || g.status != r->status_after ||
		    g.active != r->active_after)
			fail_msg("%s: verdict %s status %s active %d", r->name,
			    world_verdict_name(v), eng_status_name(g.status),
			    g.active);
		assert_int_equal(expected, r->active);
		if (v == WORLD_ADOPT) {
			assert_int_equal(g.standby, r->active);
			assert_int_equal(g.pub_stack, ENG_NONE);
		}
	}
}

/* The server refuses this controller's reads: its UPDATEs are refused
 * alike, and say why; a transient failure holds instead. */
static void
test_refused(void **unused)
{
	struct eng_group g;
	struct world_record rec;
	int expected;

	fixture();
	assert_int_equal(eng_group_init(&g, &cfg, 0, false), 0);
	world_record_of(&cfg, NULL, &rec);
	assert_int_equal(world_reconcile(&g, &cfg, false, &rec, &expected),
	    WORLD_HOLD_UNREAD);
	rec.kind = WORLD_REC_REFUSED;
	assert_int_equal(world_reconcile(&g, &cfg, false, &rec, &expected),
	    WORLD_FIRST);
	assert_int_equal(g.active, APP1);
}

static void
test_reserved(void **unused)
{
	struct eng_group g;
	struct world_record rec;
	int expected;

	fixture();
	assert_int_equal(eng_group_init(&g, &cfg, 1, false), 0);
	world_record_of(&cfg, NULL, &rec);
	assert_int_equal(world_reconcile(&g, &cfg, false, &rec, &expected),
	    WORLD_KEEP);
	assert_int_equal(g.status, ENG_RESERVED);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rows),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_reserved),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
