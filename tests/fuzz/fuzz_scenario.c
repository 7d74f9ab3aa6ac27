/*
 * fuzz_scenario.c - libFuzzer target for the scenario parser, and for the
 * simulator (engine and health included) on what parses.
 *
 * Any input must parse or be refused with errors, never crash or leak.  An
 * input that parses and resolves against a small built-in configuration is
 * also simulated when it ends within 10 virtual minutes (to keep each run
 * short), with the output thrown away.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "config/config.h"
#include "controller/sim/scenario.h"
#include "controller/sim/simulate.h"

int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static char *h_true[] = { "/bin/true", "x", NULL };

static void
stack_init(struct cfg_stack *s, char *name)
{
	memset(s, 0, sizeof(*s));
	s->name = name;
	s->web_head.is_name = true;
	s->web_head.name = "lb.example.net.";
	s->expect_status.n = 1;
	s->expect_status.r[0].lo = 200;
	s->expect_status.r[0].hi = 399;
	s->standby_expect_status.n = 2;
	s->standby_expect_status.r[0].lo = 200;
	s->standby_expect_status.r[0].hi = 399;
	s->standby_expect_status.r[1].lo = 503;
	s->standby_expect_status.r[1].hi = 503;
	s->interval_ms = 1000;
	s->fastinter_ms = 200;
	s->downinter_ms = 5000;
	s->timeout_ms = 500;
	s->rise = 2;
	s->fall = 3;
	s->hook_timeout_ms = 5000;
	s->maintenance_on.argc = 2;
	s->maintenance_on.argv = h_true;
	s->promote.argc = 2;
	s->promote.argv = h_true;
	s->precheck.argc = 2;
	s->precheck.argv = h_true;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct cfg_stack stacks[3];
	static struct cfg_group groups[2];
	static char *witness[] = { "http://127.0.0.1/" };
	static struct config cfg;
	static FILE *devnull;
	struct scenario *scn = NULL;
	struct scn_errors errs = { 0 };

	if (devnull == NULL) {
		stack_init(&stacks[0], "app1");
		stack_init(&stacks[1], "app2");
		stack_init(&stacks[2], "app3");
		groups[0].name = "www";
		groups[0].address = "www.example.net.";
		groups[0].primary = 0;
		groups[0].backup = 1;
		groups[0].ttl = 60;
		groups[0].suspect_ttl = 5;
		groups[0].auto_failover = true;
		groups[0].hold_down_ms = 60000;
		groups[1].name = "spare";
		groups[1].address = "spare.example.net.";
		groups[1].primary = -1;
		groups[1].backup = -1;
		cfg.nstack = 3;
		cfg.stacks = stacks;
		cfg.ngroup = 2;
		cfg.groups = groups;
		cfg.controller.isolation_check = true;
		cfg.controller.nwitness = 1;
		cfg.controller.witness = witness;
		cfg.dns.timeout_ms = 2000;
		cfg.dns.retries = 1;
		devnull = fopen("/dev/null", "w");
	}
	if (scn_parse("fuzz.scn", (const char *)data, size, &scn, &errs) == 0) {
		if (scn_resolve(scn, &cfg, &errs) == 0 &&
		    scn->end_ms <= 10 * 60 * 1000 && devnull != NULL) {
			struct sim_options opt = { .json = size % 2 == 0,
			    .out = devnull };

			(void)sim_run(&cfg, scn, &opt, NULL);
		}
		scn_free(scn);
	}
	scn_errors_free(&errs);
	return 0;
}
