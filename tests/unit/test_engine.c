/*
 * test_engine.c - table-driven tests of the decision engine.
 *
 * Each case starts from a group serving on app1 with its record published
 * (app1 and app2 up), then plays steps: health changes, one event at a
 * virtual time, and compares the actions, rendered as one line, and the
 * status reached.  Rendering:
 *
 *   record     name(reason=..,phase=..,policy=..,by=..)   (those keys only)
 *   PERSIST
 *   HOOK(phase,stack,attempt)  PRECHECK(stack)  DNS(stack,ttl,why)
 *   TIMER(kind,at)  STATUS(stack,online|offline)
 *
 * In a step, a HOOK_DONE with attempt 0 means "the running attempt" and a
 * DNS_DONE with ticket 0 "the ticket in flight".
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
#include "controller/core/engine.h"
#include "controller/core/engine_codec.h"
#include "controller/core/health.h"

#define APP1	0
#define APP2	1
#define APP3	2
#define NSTACK	3
#define HOLD	600000
#define HOUR	3600000

/* One clock for both, as the simulator has. */
#define NOW(t)	((struct eng_now){ (t), (t) })

/* ---- fixture: a hand-built configuration ---- */

static char *h_mon[] = { "/bin/true", "maint", "on", NULL };
static char *h_moff[] = { "/bin/true", "maint", "off", NULL };
static char *h_repl[] = { "/bin/true", "db", "replication-off", NULL };
static char *h_prom[] = { "/bin/true", "db", "promote", NULL };
static char *h_pre[] = { "/bin/true", "db", "lag-ok", NULL };
static char *h_note[] = { "/bin/true", "notify", NULL };
static char *witness[] = { "http://127.0.0.1/ping" };

static struct cfg_stack stacks[NSTACK];
static struct cfg_group groups[2];
static struct config cfg;
static struct health health[NSTACK];
static struct eng_world world;

/*
 * The clocks a step sees: its `now` plus these offsets.  E_CLOCK sets them
 * (a: wall, b: monotonic): a step of the wall clock moves only the wall
 * offset; a restart in another boot moves the monotonic one.
 */
static int64_t wall_off, mono_off;

static void
hook_set(struct cfg_hook *h, char **argv)
{
	int n = 0;

	while (argv[n] != NULL)
		n++;
	h->argc = n;
	h->argv = argv;
}

static void
fixture(void)
{
	static char *names[NSTACK] = { "app1", "app2", "app3" };

	memset(stacks, 0, sizeof(stacks));
	memset(groups, 0, sizeof(groups));
	memset(&cfg, 0, sizeof(cfg));
	for (int i = 0; i < NSTACK; i++) {
		struct cfg_stack *s = &stacks[i];

		s->name = names[i];
		s->interval_ms = 1000;
		s->fastinter_ms = 200;
		s->downinter_ms = 5000;
		s->rise = s->fall = 3;
		s->hook_timeout_ms = 60000;
		hook_set(&s->maintenance_on, h_mon);
		hook_set(&s->maintenance_off, h_moff);
		hook_set(&s->replication_off, h_repl);
		hook_set(&s->promote, h_prom);
		s->web_head.is_name = true;
		s->web_head.name = i == 0 ? "app1-lb.example.net." :
		    i == 1 ? "app2-lb.example.net." : "app3-lb.example.net.";
		health[i].state = HEALTH_UP;
		health[i].fail_run = 0;
	}
	groups[0].name = "www";
	groups[0].address = "www.failover.example.net.";
	groups[0].primary = APP1;
	groups[0].backup = APP2;
	groups[0].ttl = 60;
	groups[0].suspect_ttl = 5;
	groups[0].auto_failover = true;
	groups[0].hold_down_ms = HOLD;
	groups[1].name = "spare";
	groups[1].address = "spare.failover.example.net.";
	groups[1].primary = -1;
	groups[1].backup = -1;
	groups[1].ttl = 60;
	groups[1].suspect_ttl = 5;
	cfg.nstack = NSTACK;
	cfg.stacks = stacks;
	cfg.ngroup = 2;
	cfg.groups = groups;
	cfg.controller.isolation_check = true;
	world.cfg = &cfg;
	world.health = health;
	world.witness = ENG_WITNESS_UNKNOWN;
	world.dry_run = false;
	world.stopping = false;
	groups[0].restore_on_abort = true;
	wall_off = mono_off = 0;
}

/* ---- configuration variants ---- */

static void mod_none(void) { }
static void mod_auto_off(void) { groups[0].auto_failover = false; }
static void mod_witness(void)
{
	cfg.controller.nwitness = 1;
	cfg.controller.witness = witness;
}
static void mod_no_iso(void) { cfg.controller.isolation_check = false; }
static void mod_precheck(void) { hook_set(&stacks[APP2].precheck, h_pre); }
static void mod_no_hooks(void)
{
	for (int i = 0; i < NSTACK; i++) {
		stacks[i].maintenance_on.argc = 0;
		stacks[i].replication_off.argc = 0;
		stacks[i].maintenance_off.argc = 0;
	}
}
static void mod_notify(void) { hook_set(&groups[0].on_status_change, h_note); }
static void mod_no_backup(void) { groups[0].backup = -1; }
static void mod_no_restore(void) { groups[0].restore_on_abort = false; }
static void mod_no_moff1(void) { stacks[APP1].maintenance_off.argc = 0; }

/* ---- rendering ---- */

static const char *
sn(int s)
{
	return s >= 0 && s < NSTACK ? stacks[s].name : "-";
}

static void
cat(char *buf, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
cat(char *buf, size_t len, const char *fmt, ...)
{
	size_t at = strlen(buf);
	va_list ap;

	if (at > 0 && at + 1 < len) {
		buf[at++] = ' ';
		buf[at] = '\0';
	}
	va_start(ap, fmt);
	vsnprintf(buf + at, len - at, fmt, ap);
	va_end(ap);
}

static void
render(const struct eng_out *out, char *buf, size_t len)
{
	static const char *keys[] = { "reason", "phase", "policy", "by",
	    "restore" };

	buf[0] = '\0';
	for (size_t i = 0; i < out->n; i++) {
		const struct eng_action *a = &out->a[i];
		char kvs[256] = "";

		switch (a->kind) {
		case ENG_ACT_RECORD:
			for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]);
			    k++) {
				const char *v = eng_record_get(a, keys[k]);

				if (v == NULL)
					continue;
				snprintf(kvs + strlen(kvs),
				    sizeof(kvs) - strlen(kvs), "%s%s=%s",
				    kvs[0] ? "," : "", keys[k], v);
			}
			if (kvs[0])
				cat(buf, len, "%s(%s)", a->u.rec.name, kvs);
			else
				cat(buf, len, "%s", a->u.rec.name);
			break;
		case ENG_ACT_PERSIST:
			cat(buf, len, "PERSIST");
			break;
		case ENG_ACT_RUN_HOOK:
			cat(buf, len, "HOOK(%s,%s,%d)",
			    eng_phase_name(a->u.hook.phase), sn(a->u.hook.stack),
			    a->u.hook.attempt);
			break;
		case ENG_ACT_RUN_PRECHECK:
			cat(buf, len, "PRECHECK(%s)", sn(a->u.hook.stack));
			break;
		case ENG_ACT_DNS_UPDATE:
			cat(buf, len, "DNS(%s,%u,%s)", sn(a->u.dns.stack),
			    a->u.dns.ttl, eng_dns_why_name(a->u.dns.why));
			break;
		case ENG_ACT_SET_TIMER:
			cat(buf, len, "TIMER(%s,%lld)",
			    eng_timer_name(a->u.timer.timer),
			    (long long)a->u.timer.at_ms);
			break;
		case ENG_ACT_STATUS_CHANGE:
			cat(buf, len, "STATUS(%s,%s)", sn(a->u.status.stack),
			    eng_online_name(a->u.status.status));
			break;
		}
	}
}

/* ---- the table ---- */

enum ek { E_END = 0, E_RESUME, E_EVAL, E_HEALTH, E_PRE, E_HOOK, E_DNS,
	E_DRIFT, E_TIMER, E_CMD, E_CODEC, E_CLOCK, E_STOP, E_VERDICT };


struct step {
	const char	*set;		/* "app1=down app2=suspect witness=ok" */
	enum ek		 ev;
	int		 a, b, c;	/* event arguments, see mkev() */
	int64_t		 now;
	const char	*expect;	/* rendered actions; NULL: unchecked */
	int		 status;	/* enum eng_status, -1: unchecked */
	int		 rc;		/* eng_step's return */
};

struct tcase {
	const char	*name;
	void		(*mod)(void);
	struct step	 steps[24];
};

/* Shorthands for the steps. */
#define HEALTH(set, t, exp, st)	{ set, E_HEALTH, APP1, 0, 0, t, exp, st, 0 }
#define HOOK(o, t, exp, st)	{ NULL, E_HOOK, o, 0, 0, t, exp, st, 0 }
#define DNSOK(t, exp, st)	{ NULL, E_DNS, 1, 0, 0, t, exp, st, 0 }
#define DNSERR(r, t, exp, st)	{ NULL, E_DNS, 0, r, 0, t, exp, st, 0 }
#define CMD(k, s, f, t, exp, st, rc) { NULL, E_CMD, k, s, f, t, exp, st, rc }
#define RESUME(t, exp, st)	{ NULL, E_RESUME, 0, 0, 0, t, exp, st, 0 }
#define CODEC(t)		{ NULL, E_CODEC, 0, 0, 0, t, NULL, -1, 0 }
#define TIMER(k, t, exp, st)	{ NULL, E_TIMER, k, 0, 0, t, exp, st, 0 }
#define PRE(ok, t, exp, st)	{ NULL, E_PRE, ok, 0, 0, t, exp, st, 0 }
#define EVAL(set, t, exp, st)	{ set, E_EVAL, 0, 0, 0, t, exp, st, 0 }
#define CLOCK(w, m)		{ NULL, E_CLOCK, w, m, 0, 0, NULL, -1, 0 }
#define STOPPING(on)		{ NULL, E_STOP, on, 0, 0, 0, NULL, -1, 0 }
/* An ownership check outside an UPDATE: ok, or not_owner (final). */
#define VERDICT(ok, t, exp, st)	{ NULL, E_VERDICT, ok, 0, 0, t, exp, st, 0 }
#define OK	ENG_HOOK_OK
#define FAIL	ENG_HOOK_FAILED
#define TMO	ENG_HOOK_TIMEOUT
#define SV	ENG_SERVING
#define SW	ENG_SWITCHING
#define FL	ENG_FAILED
#define WR	ENG_WAIT_REARM

/* The whole successful sequence after the switch started at T. */
#define SEQ_OK(t)							\
	HOOK(OK, t + 1000, "phase_finished(phase=maintenance_on) "	\
	    "phase_started(phase=replication_off) PERSIST "		\
	    "HOOK(replication_off,app2,1)", SW),			\
	HOOK(OK, t + 2000, "phase_finished(phase=replication_off) "	\
	    "phase_started(phase=promote) PERSIST HOOK(promote,app2,1)", SW), \
	HOOK(OK, t + 3000, "phase_finished(phase=promote) "		\
	    "phase_started(phase=maintenance_off) PERSIST "		\
	    "HOOK(maintenance_off,app2,1)", SW),			\
	HOOK(OK, t + 4000, "phase_finished(phase=maintenance_off) "	\
	    "phase_started(phase=dns) PERSIST DNS(app2,60,flip)", SW)

#define AUTO_START	"switch_started(reason=auto) " \
	"phase_started(phase=maintenance_on) PERSIST HOOK(maintenance_on,app1,1)"
#define FINISH(r)	"phase_finished(phase=dns) switch_finished(reason=" r ") " \
	"PERSIST STATUS(app1,offline) STATUS(app2,online)"

static const struct tcase cases[] = {
	{ "auto failover runs every phase, then waits for rearm", mod_none, {
		HEALTH("app1=down", 100000, AUTO_START, SW),
		SEQ_OK(100000),
		DNSOK(105000, FINISH("auto"), WR),
	} },
	{ "active up: nothing happens", mod_none, {
		HEALTH("app1=up", 1000, "", SV),
		HEALTH("app2=down", 2000, "", SV),
	} },
	{ "no failback: old primary back, nothing happens", mod_none, {
		HEALTH("app1=down", 100000, AUTO_START, SW),
		SEQ_OK(100000),
		DNSOK(105000, FINISH("auto"), WR),
		HEALTH("app1=up", 200000, "", WR),
		HEALTH("app2=down", 300000, "gate_held(reason=wait_rearm) "
		    "ttl_lowered PERSIST DNS(app2,5,ttl)", WR),
		HEALTH("app2=down", 301000, "", WR),
	} },
	{ "rearm confirms the roles; automation armed again", mod_none, {
		HEALTH("app1=down", 100000, AUTO_START, SW),
		SEQ_OK(100000),
		DNSOK(105000, FINISH("auto"), WR),
		HEALTH("app1=up", 200000, "", WR),
		CMD(ENG_CMD_REARM, -1, 0, 1000000, "rearmed PERSIST", SV, 0),
		CMD(ENG_CMD_REARM, -1, 0, 1000001,
		    "cmd_refused(reason=nothing_to_rearm) PERSIST", SV,
		    ENG_REFUSE_NOTHING_TO_REARM),
		HEALTH("app2=down", 1100000, "switch_started(reason=auto) "
		    "phase_started(phase=maintenance_on) PERSIST "
		    "HOOK(maintenance_on,app2,1)", SW),
	} },
	{ "gate: standby not up, released when it comes up", mod_none, {
		HEALTH("app2=unknown", 50000, "", SV),
		HEALTH("app1=down", 100000, "gate_held(reason=standby_not_up) "
		    "ttl_lowered PERSIST DNS(app1,5,ttl)", SV),
		HEALTH("app1=down", 101000, "", SV),
		HEALTH("app2=up", 110000, "switch_started(reason=auto) "
		    "phase_started(phase=maintenance_on) PERSIST "
		    "HOOK(maintenance_on,app1,1)", SW),
	} },
	{ "gate: standby suspect, released when it clears", mod_none, {
		HEALTH("app2=suspect", 50000, "", SV),
		HEALTH("app1=down", 100000, "gate_held(reason=standby_suspect) "
		    "ttl_lowered PERSIST DNS(app1,5,ttl)", SV),
		HEALTH("app2=up", 100200, AUTO_START, SW),
	} },
	{ "gate: both stacks of the group down, no isolation check", mod_no_iso, {
		HEALTH("app1=down app2=down", 100000,
		    "gate_held(reason=standby_not_up) ttl_lowered PERSIST "
		    "DNS(app1,5,ttl)", SV),
	} },
	{ "gate: every stack down is isolation", mod_none, {
		HEALTH("app1=down app2=down app3=down", 100000,
		    "gate_held(reason=isolated) ttl_lowered PERSIST "
		    "DNS(app1,5,ttl)", SV),
		HEALTH("app3=up", 101000, "gate_held(reason=standby_not_up) "
		    "PERSIST", SV),
	} },
	{ "gate: auto_failover = no", mod_auto_off, {
		HEALTH("app1=down", 100000, "gate_held(reason=auto_failover_off) "
		    "ttl_lowered PERSIST DNS(app1,5,ttl)", SV),
	} },
	{ "gate: paused, released by resume", mod_none, {
		CMD(ENG_CMD_PAUSE, -1, 0, 1000, "paused PERSIST", SV, 0),
		HEALTH("app1=down", 100000, "gate_held(reason=paused) "
		    "ttl_lowered PERSIST DNS(app1,5,ttl)", SV),
		HEALTH("app1=down", 101000, "", SV),
		CMD(ENG_CMD_RESUME, -1, 0, 102000, "resumed "
		    "switch_started(reason=auto) phase_started(phase=maintenance_on) "
		    "PERSIST HOOK(maintenance_on,app1,1)", SW, 0),
	} },
	{ "gate: pinned, released by unpin", mod_none, {
		CMD(ENG_CMD_PIN, APP1, 0, 1000, "pinned PERSIST", SV, 0),
		HEALTH("app1=down", 100000, "gate_held(reason=pinned) "
		    "ttl_lowered PERSIST DNS(app1,5,ttl)", SV),
		CMD(ENG_CMD_UNPIN, -1, 0, 102000, "unpinned "
		    "switch_started(reason=auto) phase_started(phase=maintenance_on) "
		    "PERSIST HOOK(maintenance_on,app1,1)", SW, 0),
	} },
	{ "gate: witness unknown, down, then ok", mod_witness, {
		HEALTH("app1=down", 100000, "gate_held(reason=witness_unknown) "
		    "ttl_lowered PERSIST DNS(app1,5,ttl)", SV),
		EVAL("witness=down", 101000, "gate_held(reason=witness_down) "
		    "PERSIST", SV),
		EVAL("witness=down", 102000, "", SV),
		EVAL("witness=ok", 103000, AUTO_START, SW),
	} },
	{ "gate cleared when the active comes back", mod_none, {
		HEALTH("app2=down", 50000, "", SV),
		HEALTH("app1=down", 100000, "gate_held(reason=standby_not_up) "
		    "ttl_lowered PERSIST DNS(app1,5,ttl)", SV),
		DNSOK(100100, "PERSIST", SV),
		HEALTH("app1=up", 110000, "hold_cleared(reason=standby_not_up) "
		    "ttl_restored PERSIST DNS(app1,60,ttl)", SV),
	} },
	{ "suspect lowers the TTL, clearing restores it", mod_none, {
		HEALTH("app1=suspect", 1000, "ttl_lowered PERSIST "
		    "DNS(app1,5,ttl)", SV),
		HEALTH("app1=suspect", 1200, "", SV),
		DNSOK(1300, "PERSIST", SV),
		HEALTH("app1=up", 2000, "ttl_restored PERSIST DNS(app1,60,ttl)",
		    SV),
		DNSOK(2100, "PERSIST", SV),
	} },
	{ "TTL change while an UPDATE is in flight waits for it", mod_none, {
		HEALTH("app1=suspect", 1000, "ttl_lowered PERSIST "
		    "DNS(app1,5,ttl)", SV),
		HEALTH("app1=up", 1100, "ttl_restored PERSIST", SV),
		DNSOK(1300, "PERSIST DNS(app1,60,ttl)", SV),
	} },
	{ "suspect then down: the flip carries the normal TTL", mod_none, {
		HEALTH("app1=suspect", 1000, "ttl_lowered PERSIST "
		    "DNS(app1,5,ttl)", SV),
		DNSOK(1100, "PERSIST", SV),
		HEALTH("app1=down", 3000, "switch_started(reason=auto) "
		    "phase_started(phase=maintenance_on) PERSIST "
		    "HOOK(maintenance_on,app1,1)", SW),
		SEQ_OK(3000),
	} },
	{ "hold_down holds a second automatic switch", mod_none, {
		HEALTH("app1=down", 100000, AUTO_START, SW),
		SEQ_OK(100000),
		DNSOK(105000, FINISH("auto"), WR),
		HEALTH("app1=up", 110000, "", WR),
		CMD(ENG_CMD_REARM, -1, 0, 120000, "rearmed PERSIST", SV, 0),
		HEALTH("app2=down", 130000, "gate_held(reason=hold_down) "
		    "ttl_lowered PERSIST TIMER(gate,700000) DNS(app2,5,ttl)", SV),
		HEALTH("app2=down", 140000, "TIMER(gate,700000)", SV),
		TIMER(ENG_TIMER_GATE, 700000, "switch_started(reason=auto) "
		    "phase_started(phase=maintenance_on) PERSIST "
		    "HOOK(maintenance_on,app2,1)", SW),
	} },
	{ "maintenance_on fails: the sequence continues", mod_none, {
		HEALTH("app1=down", 100000, AUTO_START, SW),
		HOOK(FAIL, 101000, "phase_failed(phase=maintenance_on,"
		    "policy=continue) phase_started(phase=replication_off) "
		    "PERSIST HOOK(replication_off,app2,1)", SW),
	} },
	{ "maintenance_on times out: the sequence continues", mod_none, {
		HEALTH("app1=down", 100000, AUTO_START, SW),
		HOOK(TMO, 160000, "phase_failed(phase=maintenance_on,"
		    "policy=continue) phase_started(phase=replication_off) "
		    "PERSIST HOOK(replication_off,app2,1)", SW),
	} },
	{ "replication_off fails: abort, restore, failed, traffic unchanged",
	  mod_none, {
		HEALTH("app1=down", 100000, AUTO_START, SW),
		HOOK(OK, 101000, NULL, SW),
		HOOK(FAIL, 102000, "phase_failed(phase=replication_off,"
		    "policy=abort) phase_started(phase=restore) PERSIST "
		    "HOOK(restore,app1,1)", SW),
		HOOK(OK, 102500, "phase_finished(phase=restore) "
		    "switch_failed(phase=replication_off,restore=ok) "
		    "gate_held(reason=failed) ttl_lowered PERSIST "
		    "DNS(app1,5,ttl)", FL),
		HEALTH("app1=down", 200000, "", FL),
		TIMER(ENG_TIMER_GATE, 900000, "", FL),
	} },
	{ "promote fails: abort, no further automatic attempt", mod_none, {
		HEALTH("app1=down", 100000, AUTO_START, SW),
		HOOK(OK, 101000, NULL, SW),
		HOOK(OK, 102000, NULL, SW),
		HOOK(FAIL, 103000, "phase_failed(phase=promote,policy=abort) "
		    "phase_started(phase=restore) PERSIST HOOK(restore,app1,1)",
		    SW),
		HOOK(OK, 103500, "phase_finished(phase=restore) "
		    "switch_failed(phase=promote,restore=ok) "
		    "gate_held(reason=failed) ttl_lowered PERSIST "
		    "DNS(app1,5,ttl)", FL),
		HEALTH("app2=up", 2000000, "", FL),
	} },
	{ "promote times out: abort", mod_none, {
		HEALTH("app1=down", 100000, AUTO_START, SW),
		HOOK(OK, 101000, NULL, SW),
		HOOK(OK, 102000, NULL, SW),
		HOOK(TMO, 163000, "phase_failed(phase=promote,policy=abort) "
		    "phase_started(phase=restore) PERSIST HOOK(restore,app1,1)",
		    SW),
		HOOK(TMO, 223000, "phase_failed(phase=restore) "
		    "switch_failed(phase=promote,restore=failed) "
		    "gate_held(reason=failed) ttl_lowered PERSIST "
		    "DNS(app1,5,ttl)", FL),
	} },
	{ "maintenance_off fails: abort", mod_none, {
		HEALTH("app1=down", 100000, AUTO_START, SW),
		HOOK(OK, 101000, NULL, SW),
		HOOK(OK, 102000, NULL, SW),
		HOOK(OK, 103000, NULL, SW),
		HOOK(FAIL, 104000, "phase_failed(phase=maintenance_off,"
		    "policy=abort) phase_started(phase=restore) PERSIST "
		    "HOOK(restore,app1,1)", SW),
		HOOK(FAIL, 104500, "phase_failed(phase=restore) "
		    "switch_failed(phase=maintenance_off,restore=failed) "
		    "gate_held(reason=failed) ttl_lowered PERSIST "
		    "DNS(app1,5,ttl)", FL),
	} },
	{ "failed cleared by resume: automation tries again", mod_none, {
		HEALTH("app1=down", 100000, AUTO_START, SW),
		HOOK(OK, 101000, NULL, SW),
		HOOK(FAIL, 102000, NULL, SW),
		HOOK(OK, 102500, NULL, FL),
		CMD(ENG_CMD_RESUME, -1, 0, 800000,
		    "failed_state_cleared(by=resume) resumed "
		    "switch_started(reason=auto) phase_started(phase=maintenance_on) "
		    "PERSIST HOOK(maintenance_on,app1,1)", SW, 0),
	} },
	{ "failed cleared by rearm, hold_down still counts", mod_none, {
		HEALTH("app1=down", 100000, AUTO_START, SW),
		HOOK(OK, 101000, NULL, SW),
		HOOK(FAIL, 102000, NULL, SW),
		HOOK(OK, 102500, NULL, FL),
		CMD(ENG_CMD_REARM, -1, 0, 200000,
		    "failed_state_cleared(by=rearm) gate_held(reason=hold_down) "
		    "PERSIST TIMER(gate,700000)", SV, 0),
	} },
	{ "failed cleared by a manual switch", mod_none, {
		HEALTH("app1=down", 100000, AUTO_START, SW),
		HOOK(OK, 101000, NULL, SW),
		HOOK(FAIL, 102000, NULL, SW),
		HOOK(OK, 102500, NULL, FL),
		CMD(ENG_CMD_SWITCH, -1, 0, 200000,
		    "failed_state_cleared(by=switch) switch_started(reason=manual) "
		    "phase_started(phase=maintenance_on) PERSIST "
		    "HOOK(maintenance_on,app1,1)", SW, 0),
	} },
	{ "dns refused: capped exponential backoff until accepted", mod_none, {
		/* Refusals within a switch are verdicts too (dns_unusable),
		 * which hold no running switch. */
		HEALTH("app1=down", 100000, AUTO_START, SW),
		SEQ_OK(100000),
		DNSERR(1, 105000, "dns_failed PERSIST TIMER(dns,106000)", SW),
		TIMER(ENG_TIMER_DNS, 105500, "TIMER(dns,106000)", SW),
		TIMER(ENG_TIMER_DNS, 106000, "PERSIST DNS(app2,60,flip)", SW),
		DNSERR(1, 106100, "dns_failed PERSIST TIMER(dns,108100)", SW),
		TIMER(ENG_TIMER_DNS, 108100, "PERSIST DNS(app2,60,flip)", SW),
		DNSERR(0, 108200, "dns_failed dns_unusable(reason=NOTAUTH) "
		    "PERSIST TIMER(dns,112200)", SW),
		TIMER(ENG_TIMER_DNS, 112200, "PERSIST DNS(app2,60,flip)", SW),
		DNSERR(1, 112300, "dns_failed dns_unusable(reason=timeout) "
		    "PERSIST TIMER(dns,120300)", SW),
		TIMER(ENG_TIMER_DNS, 120300, "PERSIST DNS(app2,60,flip)", SW),
		DNSERR(1, 120400, "dns_failed PERSIST TIMER(dns,136400)", SW),
		TIMER(ENG_TIMER_DNS, 136400, "PERSIST DNS(app2,60,flip)", SW),
		DNSERR(1, 136500, "dns_failed PERSIST TIMER(dns,166500)", SW),
		TIMER(ENG_TIMER_DNS, 166500, "PERSIST DNS(app2,60,flip)", SW),
		DNSERR(1, 166600, "dns_failed PERSIST TIMER(dns,196600)", SW),
		TIMER(ENG_TIMER_DNS, 196600, "PERSIST DNS(app2,60,flip)", SW),
		DNSOK(196700, "dns_usable " FINISH("auto"), WR),
	} },
	{ "a phase without a hook is skipped", mod_no_hooks, {
		HEALTH("app1=down", 100000, "switch_started(reason=auto) "
		    "phase_skipped(reason=no_hook,phase=maintenance_on) "
		    "phase_skipped(reason=no_hook,phase=replication_off) "
		    "phase_started(phase=promote) PERSIST HOOK(promote,app2,1)", SW),
		HOOK(OK, 101000, "phase_finished(phase=promote) "
		    "phase_skipped(reason=no_hook,phase=maintenance_off) "
		    "phase_started(phase=dns) PERSIST DNS(app2,60,flip)", SW),
	} },
	{ "on_status_change announced after the flip", mod_notify, {
		HEALTH("app1=down", 100000, AUTO_START, SW),
		SEQ_OK(100000),
		DNSOK(105000, FINISH("auto"), WR),
	} },
	{ "precheck: held while it runs and when it says no", mod_precheck, {
		HEALTH("app1=down", 100000, "gate_held(reason=precheck_pending) "
		    "ttl_lowered PERSIST PRECHECK(app2) DNS(app1,5,ttl)", SV),
		HEALTH("app1=down", 100100, "", SV),
		PRE(0, 100200, "gate_held(reason=precheck_failed) PERSIST "
		    "TIMER(gate,101200)", SV),
		TIMER(ENG_TIMER_GATE, 101000, "TIMER(gate,101200)", SV),
		TIMER(ENG_TIMER_GATE, 101200, "PERSIST PRECHECK(app2)", SV),
		PRE(0, 101300, "PERSIST TIMER(gate,102300)", SV),
		TIMER(ENG_TIMER_GATE, 102300, "PERSIST PRECHECK(app2)", SV),
		PRE(1, 102400, "switch_started(reason=auto) "
		    "phase_started(phase=maintenance_on) PERSIST "
		    "HOOK(maintenance_on,app1,1)", SW),
	} },
	{ "precheck ok but the active came back: no switch", mod_precheck, {
		HEALTH("app1=down", 100000, NULL, SV),
		HEALTH("app1=up", 100100, "hold_cleared(reason=precheck_pending) "
		    "ttl_restored PERSIST", SV),
		PRE(1, 100200, "PERSIST", SV),
	} },
	{ "precheck yes while paused is not used later", mod_precheck, {
		HEALTH("app1=down", 100000, NULL, SV),
		CMD(ENG_CMD_PAUSE, -1, 0, 100100, "paused gate_held(reason=paused) "
		    "PERSIST", SV, 0),
		PRE(1, 100200, "PERSIST", SV),
		CMD(ENG_CMD_RESUME, -1, 0, 100300, "resumed "
		    "gate_held(reason=precheck_pending) PERSIST "
		    "TIMER(gate,101200)", SV, 0),
		TIMER(ENG_TIMER_GATE, 101200, "PERSIST PRECHECK(app2)", SV),
		PRE(1, 101300, AUTO_START, SW),
	} },
	{ "precheck answer after a manual switch started is ignored",
	  mod_precheck, {
		HEALTH("app1=down", 100000, NULL, SV),
		CMD(ENG_CMD_SWITCH, -1, 0, 100100, NULL, SW, 0),
		PRE(1, 100200, "", SW),
	} },
	{ "manual switch to an up standby", mod_none, {
		CMD(ENG_CMD_SWITCH, -1, 0, 5000, "switch_started(reason=manual) "
		    "phase_started(phase=maintenance_on) PERSIST "
		    "HOOK(maintenance_on,app1,1)", SW, 0),
		SEQ_OK(5000),
		DNSOK(10000, FINISH("manual"), WR),
	} },
	{ "manual switch refused: target not up, forced works", mod_none, {
		HEALTH("app2=down", 1000, "", SV),
		CMD(ENG_CMD_SWITCH, APP2, 0, 5000,
		    "cmd_refused(reason=target_not_up) PERSIST", SV,
		    ENG_REFUSE_TARGET_NOT_UP),
		CMD(ENG_CMD_SWITCH, APP2, 1, 6000, "switch_started(reason=manual) "
		    "phase_started(phase=maintenance_on) PERSIST "
		    "HOOK(maintenance_on,app1,1)", SW, 0),
	} },
	{ "manual switch refused: already active, not in group", mod_none, {
		CMD(ENG_CMD_SWITCH, APP1, 1, 5000,
		    "cmd_refused(reason=already_active) PERSIST", SV,
		    ENG_REFUSE_ALREADY_ACTIVE),
		CMD(ENG_CMD_SWITCH, APP3, 1, 5000,
		    "cmd_refused(reason=not_in_group) PERSIST", SV,
		    ENG_REFUSE_NOT_IN_GROUP),
		CMD(ENG_CMD_PIN, APP3, 0, 5000,
		    "cmd_refused(reason=not_in_group) PERSIST", SV,
		    ENG_REFUSE_NOT_IN_GROUP),
	} },
	{ "manual switch refused while one runs, rearm too", mod_none, {
		HEALTH("app1=down", 100000, AUTO_START, SW),
		CMD(ENG_CMD_SWITCH, -1, 1, 100100,
		    "cmd_refused(reason=switch_running) PERSIST", SW,
		    ENG_REFUSE_SWITCH_RUNNING),
		CMD(ENG_CMD_REARM, -1, 0, 100200,
		    "cmd_refused(reason=switch_running) PERSIST", SW,
		    ENG_REFUSE_SWITCH_RUNNING),
		CMD(ENG_CMD_PAUSE, -1, 0, 100300, "paused PERSIST", SW, 0),
	} },
	{ "pinned: manual switch away refused unless forced", mod_none, {
		CMD(ENG_CMD_PIN, APP1, 0, 1000, "pinned PERSIST", SV, 0),
		CMD(ENG_CMD_SWITCH, -1, 0, 2000,
		    "cmd_refused(reason=pinned) PERSIST", SV, ENG_REFUSE_PINNED),
		CMD(ENG_CMD_SWITCH, -1, 1, 3000, "switch_started(reason=manual) "
		    "phase_started(phase=maintenance_on) PERSIST "
		    "HOOK(maintenance_on,app1,1)", SW, 0),
	} },
	{ "paused: a manual switch is still allowed", mod_none, {
		CMD(ENG_CMD_PAUSE, -1, 0, 1000, "paused PERSIST", SV, 0),
		CMD(ENG_CMD_SWITCH, -1, 0, 3000, "switch_started(reason=manual) "
		    "phase_started(phase=maintenance_on) PERSIST "
		    "HOOK(maintenance_on,app1,1)", SW, 0),
	} },
	{ "no backup: switch refused, gate no_standby", mod_no_backup, {
		CMD(ENG_CMD_SWITCH, -1, 1, 3000,
		    "cmd_refused(reason=no_standby) PERSIST", SV,
		    ENG_REFUSE_NO_STANDBY),
		HEALTH("app1=down", 100000, "gate_held(reason=no_standby) "
		    "ttl_lowered PERSIST DNS(app1,5,ttl)", SV),
	} },
	{ "stale answers are ignored", mod_none, {
		HEALTH("app1=down", 100000, AUTO_START, SW),
		{ NULL, E_HOOK, OK, ENG_PH_PROMOTE, 1, 100500, "", SW, 0 },
		{ NULL, E_HOOK, OK, ENG_PH_MAINT_ON, 7, 100600, "", SW, 0 },
		{ NULL, E_DNS, 1, 0, 99, 100700, "", SW, 0 },
		PRE(1, 100800, "", SW),
	} },
	{ "drift: the record is published again", mod_none, {
		{ NULL, E_DRIFT, 0, 0, 0, 5000, "PERSIST DNS(app1,60,publish)",
		  SV, 0 },
		DNSOK(5100, "record_published PERSIST", SV),
	} },
	/* An aborted sequence takes the old stack out of maintenance. */
	{ "manual switch, promote fails: restore on app1", mod_none, {
		CMD(ENG_CMD_SWITCH, -1, 0, 5000, NULL, SW, 0),
		HOOK(OK, 6000, NULL, SW),
		HOOK(OK, 7000, NULL, SW),
		HOOK(FAIL, 8000, "phase_failed(phase=promote,policy=abort) "
		    "phase_started(phase=restore) PERSIST HOOK(restore,app1,1)",
		    SW),
		HOOK(OK, 9000, "phase_finished(phase=restore) "
		    "switch_failed(phase=promote,restore=ok) PERSIST", FL),
	} },
	{ "maintenance_on failed: nothing to restore", mod_none, {
		CMD(ENG_CMD_SWITCH, -1, 0, 5000, NULL, SW, 0),
		HOOK(FAIL, 6000, NULL, SW),
		HOOK(OK, 7000, NULL, SW),
		HOOK(FAIL, 8000, "phase_failed(phase=promote,policy=abort) "
		    "switch_failed(phase=promote,restore=none) PERSIST", FL),
	} },
	{ "restore_on_abort = no: app1 left in maintenance", mod_no_restore, {
		CMD(ENG_CMD_SWITCH, -1, 0, 5000, NULL, SW, 0),
		HOOK(OK, 6000, NULL, SW),
		HOOK(OK, 7000, NULL, SW),
		HOOK(FAIL, 8000, "phase_failed(phase=promote,policy=abort) "
		    "switch_failed(phase=promote,restore=off) PERSIST", FL),
	} },
	{ "no maintenance_off hook on app1: restore=no_hook", mod_no_moff1, {
		CMD(ENG_CMD_SWITCH, -1, 0, 5000, NULL, SW, 0),
		HOOK(OK, 6000, NULL, SW),
		HOOK(OK, 7000, NULL, SW),
		HOOK(FAIL, 8000, "phase_failed(phase=promote,policy=abort) "
		    "switch_failed(phase=promote,restore=no_hook) PERSIST", FL),
	} },
	{ "kill inside restore: resumed as attempt 2", mod_none, {
		CMD(ENG_CMD_SWITCH, -1, 0, 5000, NULL, SW, 0),
		HOOK(OK, 6000, NULL, SW),
		HOOK(OK, 7000, NULL, SW),
		HOOK(FAIL, 8000, NULL, SW),
		CODEC(8001),
		RESUME(20000, "switch_resumed(phase=restore) "
		    "phase_started(phase=restore) PERSIST HOOK(restore,app1,2)",
		    SW),
		/* Serving again: the record, checked since the restart. */
		HOOK(OK, 21000, "phase_finished(phase=restore) "
		    "switch_failed(phase=promote,restore=ok) PERSIST "
		    "DNS(app1,60,check)", FL),
	} },
	/* A stop starts nothing: the attempt counts real starts. */
	{ "SIGTERM inside promote: next phase runs at restart as attempt 1",
	  mod_none, {
		HEALTH("app1=down", 100000, AUTO_START, SW),
		HOOK(OK, 101000, NULL, SW),
		HOOK(OK, 102000, NULL, SW),
		STOPPING(1),
		HOOK(OK, 103000, "phase_finished(phase=promote) PERSIST", SW),
		TIMER(ENG_TIMER_GATE, 104000, "", SW),
		CODEC(104001),
		STOPPING(0),
		RESUME(200000, "switch_resumed(phase=maintenance_off) "
		    "phase_started(phase=maintenance_off) PERSIST "
		    "HOOK(maintenance_off,app2,1)", SW),
	} },
	{ "SIGTERM inside maintenance_off: the flip waits for the restart",
	  mod_none, {
		HEALTH("app1=down", 100000, AUTO_START, SW),
		HOOK(OK, 101000, NULL, SW),
		HOOK(OK, 102000, NULL, SW),
		HOOK(OK, 103000, NULL, SW),
		STOPPING(1),
		HOOK(OK, 104000, "phase_finished(phase=maintenance_off) PERSIST",
		    SW),
		STOPPING(0),
		RESUME(200000, "switch_resumed(phase=dns) phase_started(phase=dns) "
		    "PERSIST DNS(app2,60,flip)", SW),
	} },
	{ "SIGTERM inside an aborting phase: restore waits for the restart",
	  mod_none, {
		CMD(ENG_CMD_SWITCH, -1, 0, 5000, NULL, SW, 0),
		HOOK(OK, 6000, NULL, SW),
		HOOK(OK, 7000, NULL, SW),
		STOPPING(1),
		HOOK(FAIL, 8000, "phase_failed(phase=promote,policy=abort) "
		    "PERSIST", SW),
		STOPPING(0),
		RESUME(20000, "switch_resumed(phase=restore) "
		    "phase_started(phase=restore) PERSIST HOOK(restore,app1,1)",
		    SW),
	} },
	{ "stopping: no switch starts, a manual one is refused", mod_none, {
		STOPPING(1),
		HEALTH("app1=down", 100000, "", SV),
		CMD(ENG_CMD_SWITCH, -1, 0, 100100,
		    "cmd_refused(reason=stopping) PERSIST", SV,
		    ENG_REFUSE_STOPPING),
	} },
	/* Deadlines are monotonic; the wall clock only stamps. */
	{ "wall clock set back an hour in the dns phase: retry on time",
	  mod_none, {
		HEALTH("app1=down", 100000, AUTO_START, SW),
		SEQ_OK(100000),
		DNSERR(1, 105000, "dns_failed PERSIST TIMER(dns,106000)", SW),
		CLOCK(-HOUR, 0),
		TIMER(ENG_TIMER_DNS, 106000, "PERSIST DNS(app2,60,flip)", SW),
		DNSOK(106100, FINISH("auto"), WR),
	} },
	{ "wall clock set back an hour: the precheck is asked on time",
	  mod_precheck, {
		HEALTH("app1=down", 100000, NULL, SV),
		PRE(0, 100200, "gate_held(reason=precheck_failed) PERSIST "
		    "TIMER(gate,101200)", SV),
		CLOCK(-HOUR, 0),
		TIMER(ENG_TIMER_GATE, 101200, "PERSIST PRECHECK(app2)", SV),
	} },
	{ "wall clock set forward an hour: hold_down still holds", mod_none, {
		HEALTH("app1=down", 100000, AUTO_START, SW),
		SEQ_OK(100000),
		DNSOK(105000, FINISH("auto"), WR),
		HEALTH("app1=up", 110000, "", WR),
		CMD(ENG_CMD_REARM, -1, 0, 120000, "rearmed PERSIST", SV, 0),
		CLOCK(HOUR, 0),
		HEALTH("app2=down", 130000, "gate_held(reason=hold_down) "
		    "ttl_lowered PERSIST TIMER(gate,700000) DNS(app2,5,ttl)", SV),
		TIMER(ENG_TIMER_GATE, 700000, "switch_started(reason=auto) "
		    "phase_started(phase=maintenance_on) PERSIST "
		    "HOOK(maintenance_on,app2,1)", SW),
	} },
	{ "restart with the wall clock behind the switch: hold_down in full",
	  mod_none, {
		HEALTH("app1=down", 100000, AUTO_START, SW),
		SEQ_OK(100000),
		DNSOK(105000, FINISH("auto"), WR),
		HEALTH("app1=up", 110000, "", WR),
		CMD(ENG_CMD_REARM, -1, 0, 120000, "rearmed PERSIST", SV, 0),
		CODEC(120001),
		/* Another boot: the monotonic clock starts again low. */
		CLOCK(-HOUR, -100000),
		RESUME(130000, "PERSIST DNS(app2,60,check)", SV),
		DNSOK(130100, "PERSIST", SV),
		HEALTH("app2=down", 140000, "gate_held(reason=hold_down) "
		    "ttl_lowered PERSIST TIMER(gate,630000) DNS(app2,5,ttl)", SV),
		TIMER(ENG_TIMER_GATE, 730000, "switch_started(reason=auto) "
		    "phase_started(phase=maintenance_on) PERSIST "
		    "HOOK(maintenance_on,app2,1)", SW),
	} },
	{ "restart in another boot: a stale retry deadline holds nothing",
	  mod_none, {
		HEALTH("app1=down", 100000, AUTO_START, SW),
		SEQ_OK(100000),
		DNSERR(1, 105000, NULL, SW),
		DNSERR(1, 106100, NULL, SW),
		CODEC(106101),
		CLOCK(0, -106000),
		RESUME(107000, "switch_resumed(phase=dns) phase_started(phase=dns) "
		    "PERSIST DNS(app2,60,flip)", SW),
	} },
	/* Resume from every phase boundary: before and inside each phase. */
	{ "resume inside maintenance_on: attempt 2, same id", mod_none, {
		HEALTH("app1=down", 100000, AUTO_START, SW),
		CODEC(100001),
		RESUME(200000, "switch_resumed(phase=maintenance_on) phase_started(phase=maintenance_on) "
		    "PERSIST HOOK(maintenance_on,app1,2)", SW),
		HOOK(OK, 201000, "phase_finished(phase=maintenance_on) "
		    "phase_started(phase=replication_off) PERSIST "
		    "HOOK(replication_off,app2,1)", SW),
	} },
	{ "resume inside replication_off", mod_none, {
		HEALTH("app1=down", 100000, AUTO_START, SW),
		HOOK(OK, 101000, NULL, SW),
		CODEC(101001),
		RESUME(200000, "switch_resumed(phase=replication_off) phase_started(phase=replication_off) "
		    "PERSIST HOOK(replication_off,app2,2)", SW),
	} },
	{ "resume inside promote", mod_none, {
		HEALTH("app1=down", 100000, AUTO_START, SW),
		HOOK(OK, 101000, NULL, SW),
		HOOK(OK, 102000, NULL, SW),
		CODEC(102001),
		RESUME(200000, "switch_resumed(phase=promote) phase_started(phase=promote) "
		    "PERSIST HOOK(promote,app2,2)", SW),
		HOOK(OK, 201000, NULL, SW),
		HOOK(OK, 202000, NULL, SW),
		DNSOK(203000, FINISH("auto"), WR),
	} },
	{ "resume inside maintenance_off", mod_none, {
		HEALTH("app1=down", 100000, AUTO_START, SW),
		HOOK(OK, 101000, NULL, SW),
		HOOK(OK, 102000, NULL, SW),
		HOOK(OK, 103000, NULL, SW),
		CODEC(103001),
		RESUME(200000, "switch_resumed(phase=maintenance_off) phase_started(phase=maintenance_off) "
		    "PERSIST HOOK(maintenance_off,app2,2)", SW),
	} },
	{ "resume inside dns: the UPDATE is sent again", mod_none, {
		HEALTH("app1=down", 100000, AUTO_START, SW),
		SEQ_OK(100000),
		CODEC(104001),
		RESUME(200000, "switch_resumed(phase=dns) phase_started(phase=dns) "
		    "PERSIST DNS(app2,60,flip)", SW),
		DNSOK(200100, FINISH("auto"), WR),
	} },
	/* No hook; the record is sent again, the check of the DNS. */
	{ "resume after the switch ended: nothing runs again", mod_none, {
		HEALTH("app1=down", 100000, AUTO_START, SW),
		SEQ_OK(100000),
		DNSOK(105000, FINISH("auto"), WR),
		CODEC(105001),
		RESUME(200000, "PERSIST DNS(app2,60,check)", WR),
		DNSOK(200100, "PERSIST", WR),
		RESUME(300000, "PERSIST DNS(app2,60,check)", WR),
	} },
	/* At start the gate waits for the first verdict (a few ms): with
	 * app1 already dead, a key the server refuses must be seen first. */
	{ "dns_unusable: unchecked after a restart until the first answer",
	    mod_none, {
		CODEC(1000),
		RESUME(2000, "PERSIST DNS(app1,60,check)", SV),
		HEALTH("app1=down", 2100, "gate_held(reason=dns_unusable) "
		    "ttl_lowered PERSIST", SV),
		/* Held now for what the server said: recorded again. */
		DNSERR(0, 2200, "dns_failed dns_unusable(reason=NOTAUTH) "
		    "gate_held(reason=dns_unusable) PERSIST TIMER(dns,3200)", SV),
		/* A manual switch is refused for a known refusal only. */
		RESUME(4000, "PERSIST DNS(app1,5,ttl)", SV),
		CMD(ENG_CMD_SWITCH, -1, 0, 4100, "cmd_refused(reason=dns_unusable) "
		    "PERSIST", SV, ENG_REFUSE_DNS_UNUSABLE),
		DNSOK(4200, "dns_usable switch_started(reason=auto) "
		    "phase_started(phase=maintenance_on) PERSIST "
		    "HOOK(maintenance_on,app1,1)", SW),
	} },
	{ "resume before the first phase started (not running)", mod_none, {
		HEALTH("app1=down", 100000, AUTO_START, SW),
		{ "stopped", E_CODEC, 0, 0, 0, 100001, NULL, -1, 0 },
		RESUME(200000, "switch_resumed(phase=maintenance_on) phase_started(phase=maintenance_on) "
		    "PERSIST HOOK(maintenance_on,app1,1)", SW),
	} },
	{ "resume between maintenance_on and replication_off", mod_none, {
		HEALTH("app1=down", 100000, AUTO_START, SW),
		HOOK(OK, 101000, NULL, SW),
		{ "stopped", E_CODEC, 0, 0, 0, 101001, NULL, -1, 0 },
		RESUME(200000, "switch_resumed(phase=replication_off) "
		    "phase_started(phase=replication_off) PERSIST "
		    "HOOK(replication_off,app2,1)", SW),
	} },
	{ "resume between replication_off and promote", mod_none, {
		HEALTH("app1=down", 100000, AUTO_START, SW),
		HOOK(OK, 101000, NULL, SW),
		HOOK(OK, 102000, NULL, SW),
		{ "stopped", E_CODEC, 0, 0, 0, 102001, NULL, -1, 0 },
		RESUME(200000, "switch_resumed(phase=promote) "
		    "phase_started(phase=promote) PERSIST HOOK(promote,app2,1)", SW),
	} },
	{ "resume between promote and maintenance_off", mod_none, {
		HEALTH("app1=down", 100000, AUTO_START, SW),
		HOOK(OK, 101000, NULL, SW),
		HOOK(OK, 102000, NULL, SW),
		HOOK(OK, 103000, NULL, SW),
		{ "stopped", E_CODEC, 0, 0, 0, 103001, NULL, -1, 0 },
		RESUME(200000, "switch_resumed(phase=maintenance_off) "
		    "phase_started(phase=maintenance_off) PERSIST "
		    "HOOK(maintenance_off,app2,1)", SW),
	} },
	{ "resume between maintenance_off and dns", mod_none, {
		HEALTH("app1=down", 100000, AUTO_START, SW),
		SEQ_OK(100000),
		{ "stopped", E_CODEC, 0, 0, 0, 104001, NULL, -1, 0 },
		RESUME(200000, "switch_resumed(phase=dns) phase_started(phase=dns) "
		    "PERSIST DNS(app2,60,flip)", SW),
		DNSOK(200100, FINISH("auto"), WR),
	} },
	{ "resume twice inside promote: attempt 3", mod_none, {
		HEALTH("app1=down", 100000, AUTO_START, SW),
		HOOK(OK, 101000, NULL, SW),
		HOOK(OK, 102000, NULL, SW),
		RESUME(200000, "switch_resumed(phase=promote) "
		    "phase_started(phase=promote) PERSIST HOOK(promote,app2,2)", SW),
		RESUME(300000, "switch_resumed(phase=promote) "
		    "phase_started(phase=promote) PERSIST HOOK(promote,app2,3)", SW),
		HOOK(OK, 301000, "phase_finished(phase=promote) "
		    "phase_started(phase=maintenance_off) PERSIST "
		    "HOOK(maintenance_off,app2,1)", SW),
	} },
	{ "resume after failed: still failed", mod_none, {
		HEALTH("app1=down", 100000, AUTO_START, SW),
		HOOK(OK, 101000, NULL, SW),
		HOOK(FAIL, 102000, NULL, SW),
		HOOK(OK, 102500, NULL, FL),
		CODEC(102001),
		RESUME(200000, "PERSIST DNS(app1,5,ttl)", FL),
	} },
	{ "resume while serving: TTL update resent", mod_none, {
		HEALTH("app1=suspect", 1000, "ttl_lowered PERSIST "
		    "DNS(app1,5,ttl)", SV),
		CODEC(1001),
		RESUME(2000, "PERSIST DNS(app1,5,ttl)", SV),
	} },	/*
	 * The gate dns_unusable (issue 10, defect 5): the server refused the
	 * key or the name is not ours, so a flip would be refused: no hook
	 * may run.  Before the gate, the first two cases started the switch.
	 */
	{ "dns_unusable: a refused key holds the automatic switch", mod_none, {
		HEALTH("app1=suspect", 1000, "ttl_lowered PERSIST "
		    "DNS(app1,5,ttl)", SV),
		DNSERR(0, 1100, "dns_failed dns_unusable(reason=NOTAUTH) "
		    "PERSIST TIMER(dns,2100)", SV),
		HEALTH("app1=down", 3000, "gate_held(reason=dns_unusable) "
		    "PERSIST DNS(app1,5,ttl)", SV),
		DNSERR(0, 3100, "dns_failed PERSIST TIMER(dns,5100)", SV),
		HEALTH("app1=down", 4000, "TIMER(dns,5100)", SV),
		/* The key is fixed: the retry is accepted, the gate opens. */
		TIMER(ENG_TIMER_DNS, 5100, "PERSIST DNS(app1,5,ttl)", SV),
		DNSOK(5200, "dns_usable switch_started(reason=auto) "
		    "phase_started(phase=maintenance_on) PERSIST "
		    "HOOK(maintenance_on,app1,1)", SW),
		SEQ_OK(5200),
		DNSOK(9300, FINISH("auto"), WR),
	} },
	{ "dns_unusable: the name is not ours (ownership check)", mod_none, {
		VERDICT(0, 1000, "dns_unusable(reason=not_owner) PERSIST "
		    "DNS(app1,60,check)", SV),
		DNSERR(0, 1100, "dns_failed dns_unusable(reason=NOTAUTH) "
		    "PERSIST TIMER(dns,2100)", SV),
		HEALTH("app1=down", 3000, "gate_held(reason=dns_unusable) "
		    "ttl_lowered PERSIST DNS(app1,5,ttl)", SV),
		CMD(ENG_CMD_SWITCH, -1, 0, 3050,
		    "cmd_refused(reason=dns_unusable) PERSIST", SV,
		    ENG_REFUSE_DNS_UNUSABLE),
		/* A restart keeps the verdict and checks it again at once. */
		CODEC(3060),
		RESUME(3070, "PERSIST DNS(app1,5,ttl)", SV),
		VERDICT(1, 3100, "dns_usable switch_started(reason=auto) "
		    "phase_started(phase=maintenance_on) PERSIST "
		    "HOOK(maintenance_on,app1,1)", SW),
	} },
	{ "dns_unusable: a manual switch is refused unless forced", mod_none, {
		HEALTH("app1=suspect", 1000, "ttl_lowered PERSIST "
		    "DNS(app1,5,ttl)", SV),
		DNSERR(0, 1100, "dns_failed dns_unusable(reason=NOTAUTH) "
		    "PERSIST TIMER(dns,2100)", SV),
		CMD(ENG_CMD_SWITCH, -1, 0, 1200,
		    "cmd_refused(reason=dns_unusable) PERSIST", SV,
		    ENG_REFUSE_DNS_UNUSABLE),
		CMD(ENG_CMD_SWITCH, APP2, 1, 1300, "switch_started(reason=manual) "
		    "phase_started(phase=maintenance_on) PERSIST "
		    "HOOK(maintenance_on,app1,1)", SW, 0),
	} },
	{ "dns: one timeout does not hold a failover", mod_none, {
		HEALTH("app1=suspect", 1000, "ttl_lowered PERSIST "
		    "DNS(app1,5,ttl)", SV),
		DNSERR(1, 1100, "dns_failed PERSIST TIMER(dns,2100)", SV),
		HEALTH("app1=down", 1500, AUTO_START, SW),
	} },
	{ "dns: a timeout once does not hold; the switch starts", mod_none, {
		HEALTH("app1=suspect", 1000, "ttl_lowered PERSIST "
		    "DNS(app1,5,ttl)", SV),
		DNSERR(1, 1100, "dns_failed PERSIST TIMER(dns,2100)", SV),
		TIMER(ENG_TIMER_DNS, 2100, "PERSIST DNS(app1,5,ttl)", SV),
		HEALTH("app1=down", 2200, AUTO_START, SW),
	} },
	{ "dns: timeouts three times in a row hold, until accepted", mod_none, {
		HEALTH("app1=suspect", 1000, "ttl_lowered PERSIST "
		    "DNS(app1,5,ttl)", SV),
		DNSERR(1, 1100, "dns_failed PERSIST TIMER(dns,2100)", SV),
		TIMER(ENG_TIMER_DNS, 2100, "PERSIST DNS(app1,5,ttl)", SV),
		DNSERR(1, 2200, "dns_failed PERSIST TIMER(dns,4200)", SV),
		TIMER(ENG_TIMER_DNS, 4200, "PERSIST DNS(app1,5,ttl)", SV),
		DNSERR(1, 4300, "dns_failed dns_unusable(reason=timeout) "
		    "PERSIST TIMER(dns,8300)", SV),
		HEALTH("app1=down", 5000, "gate_held(reason=dns_unusable) "
		    "PERSIST TIMER(dns,8300)", SV),
		TIMER(ENG_TIMER_DNS, 8300, "PERSIST DNS(app1,5,ttl)", SV),
		DNSOK(8400, "dns_usable switch_started(reason=auto) "
		    "phase_started(phase=maintenance_on) PERSIST "
		    "HOOK(maintenance_on,app1,1)", SW),
	} },
	{ "dns: a cancelled UPDATE is no verdict", mod_none, {
		HEALTH("app1=suspect", 1000, "ttl_lowered PERSIST "
		    "DNS(app1,5,ttl)", SV),
		DNSERR(0, 1100, "dns_failed dns_unusable(reason=NOTAUTH) "
		    "PERSIST TIMER(dns,2100)", SV),
		TIMER(ENG_TIMER_DNS, 2100, "PERSIST DNS(app1,5,ttl)", SV),
		{ "no_verdict", E_DNS, 0, 1, 0, 2200,
		    "dns_failed PERSIST TIMER(dns,4200)", SV, 0 },
		HEALTH("app1=down", 3000, "gate_held(reason=dns_unusable) "
		    "PERSIST TIMER(dns,4200)", SV),
	} },
};

/* ---- the runner ---- */

static void
apply_set(const char *set)
{
	char buf[256], *tok, *save = NULL;

	if (set == NULL)
		return;
	snprintf(buf, sizeof(buf), "%s", set);
	for (tok = strtok_r(buf, " ", &save); tok != NULL;
	    tok = strtok_r(NULL, " ", &save)) {
		char *eq = strchr(tok, '=');
		int s = -1;

		assert_non_null(eq);
		*eq++ = '\0';
		if (strcmp(tok, "witness") == 0) {
			world.witness = strcmp(eq, "ok") == 0 ? ENG_WITNESS_OK :
			    strcmp(eq, "down") == 0 ? ENG_WITNESS_DOWN :
			    ENG_WITNESS_UNKNOWN;
			continue;
		}
		for (int i = 0; i < NSTACK; i++)
			if (strcmp(stacks[i].name, tok) == 0)
				s = i;
		assert_true(s >= 0);
		health[s].fail_run = 0;
		if (strcmp(eq, "up") == 0)
			health[s].state = HEALTH_UP;
		else if (strcmp(eq, "suspect") == 0) {
			health[s].state = HEALTH_UP;
			health[s].fail_run = 1;
		} else if (strcmp(eq, "down") == 0)
			health[s].state = HEALTH_DOWN;
		else
			health[s].state = HEALTH_UNKNOWN;
	}
}

static void
serving(struct eng_group *g)
{
	struct eng_event ev = { .kind = ENG_EV_RESUME };
	struct eng_out out;
	char buf[1024];

	assert_int_equal(eng_group_init(g, &cfg, 0, false), 0);
	assert_int_equal(eng_step(g, &world, &ev, NOW(0), &out), 0);
	render(&out, buf, sizeof(buf));
	assert_string_equal(buf, "PERSIST DNS(app1,60,publish)");
	ev.kind = ENG_EV_DNS_DONE;
	ev.u.dns.ok = true;
	ev.u.dns.ticket = g->dns_ticket;
	assert_int_equal(eng_step(g, &world, &ev, NOW(10), &out), 0);
	render(&out, buf, sizeof(buf));
	if (groups[0].backup >= 0)
		assert_string_equal(buf, "record_published PERSIST "
		    "STATUS(app2,offline) STATUS(app1,online)");
	assert_int_equal(g->status, ENG_SERVING);
}

static void
codec_roundtrip(struct eng_group *g, bool stop)
{
	struct eng_group back;
	char *s = NULL, err[128];
	size_t len;

	if (stop) {
		g->sw.running = false;
		g->sw.attempt = 0;
	}
	assert_int_equal(eng_group_encode(g, &cfg, &s, &len), 0);
	assert_int_equal(eng_group_decode(s, len, &cfg, &back, err,
	    sizeof(err)), 0);
	assert_memory_equal(&back, g, sizeof(back));
	free(s);
}

static int failures;

#define CHECK_FAIL(...) do {						\
	print_error(__VA_ARGS__);					\
	failures++;							\
	return;								\
} while (0)

static void
run_case(const struct tcase *tc)
{
	struct eng_group g;
	struct eng_out out;
	char buf[2048];

	fixture();
	tc->mod();
	serving(&g);
	for (const struct step *st = tc->steps; st->ev != E_END; st++) {
		struct eng_event ev;
		int rc;

		memset(&ev, 0, sizeof(ev));
		if (st->ev != E_CODEC)
			if (st->set == NULL || strcmp(st->set, "no_verdict") != 0)
				apply_set(st->set);
		switch (st->ev) {
		case E_RESUME:
			ev.kind = ENG_EV_RESUME;
			break;
		case E_EVAL:
			ev.kind = ENG_EV_EVALUATE;
			break;
		case E_HEALTH:
			ev.kind = ENG_EV_HEALTH;
			ev.u.health.stack = st->a;
			ev.u.health.change = HEALTH_CHANGED;
			break;
		case E_PRE:
			ev.kind = ENG_EV_PRECHECK_DONE;
			ev.u.precheck.ok = st->a;
			ev.u.precheck.exit_code = st->a ? 0 : 1;
			break;
		case E_HOOK:
			ev.kind = ENG_EV_HOOK_DONE;
			ev.u.hook.outcome = st->a;
			ev.u.hook.phase = st->c ? (enum eng_phase)st->b :
			    g.sw.phase;
			ev.u.hook.attempt = st->c ? st->c : g.sw.attempt;
			ev.u.hook.exit_code = st->a == OK ? 0 : 1;
			break;
		case E_DNS:
			ev.kind = ENG_EV_DNS_DONE;
			ev.u.dns.ok = st->a;
			ev.u.dns.retryable = st->b;
			ev.u.dns.error = st->b ? "timeout" : "NOTAUTH";
			ev.u.dns.ticket = st->c ? (uint32_t)st->c : g.dns_ticket;
			ev.u.dns.no_verdict = st->set != NULL &&
			    strcmp(st->set, "no_verdict") == 0;
			break;
		case E_DRIFT:
			ev.kind = ENG_EV_DNS_DRIFT;
			break;
		case E_VERDICT:
			ev.kind = ENG_EV_DNS_VERDICT;
			ev.u.verdict.ok = st->a;
			ev.u.verdict.final = !st->a;
			ev.u.verdict.reason = st->a ? NULL : "not_owner";
			break;
		case E_TIMER:
			ev.kind = ENG_EV_TIMER;
			ev.u.timer = st->a;
			break;
		case E_CMD:
			ev.kind = ENG_EV_CMD;
			ev.u.cmd.kind = st->a;
			ev.u.cmd.stack = st->b;
			ev.u.cmd.force = st->c;
			break;
		case E_CODEC:
			codec_roundtrip(&g, st->set != NULL);
			continue;
		case E_CLOCK:
			wall_off = st->a;
			mono_off = st->b;
			continue;
		case E_STOP:
			world.stopping = st->a;
			continue;
		case E_END:
			break;
		}
		rc = eng_step(&g, &world, &ev, (struct eng_now){
		    st->now + wall_off, st->now + mono_off }, &out);
		render(&out, buf, sizeof(buf));
		if (st->expect != NULL && strcmp(buf, st->expect) != 0)
			CHECK_FAIL("%s: step at %lld:\n  got  %s\n  want %s\n",
			    tc->name, (long long)st->now, buf, st->expect);
		if (st->status >= 0 && (int)g.status != st->status)
			CHECK_FAIL("%s: step at %lld: status %s, want %s\n",
			    tc->name, (long long)st->now,
			    eng_status_name(g.status),
			    eng_status_name(st->status));
		if (rc != st->rc)
			CHECK_FAIL("%s: step at %lld: rc %d, want %d\n", tc->name,
			    (long long)st->now, rc, st->rc);
		/* What a PERSIST stores, a restart loads: exactly. */
		codec_roundtrip(&g, false);
		/* Shape: records, at most one PERSIST, then effects. */
		{
			bool seen_persist = false, seen_fx = false;

			for (size_t i = 0; i < out.n; i++) {
				enum eng_action_kind k = out.a[i].kind;

				if (k == ENG_ACT_RECORD)
					assert_false(seen_persist || seen_fx);
				else if (k == ENG_ACT_PERSIST) {
					assert_false(seen_persist || seen_fx);
					seen_persist = true;
				} else
					seen_fx = true;
			}
		}
	}
}

static void
test_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		run_case(&cases[i]);
	assert_int_equal(failures, 0);
}

/* The hook actions carry what the environment needs. */
static void
test_hook_action_fields(void **state)
{
	struct eng_group g;
	struct eng_event ev = { .kind = ENG_EV_HEALTH };
	struct eng_out out;
	const struct eng_action *h = NULL;

	(void)state;
	fixture();
	serving(&g);
	health[APP1].state = HEALTH_DOWN;
	ev.u.health.stack = APP1;
	world.dry_run = true;
	assert_int_equal(eng_step(&g, &world, &ev, NOW(1700000000123LL), &out), 0);
	for (size_t i = 0; i < out.n; i++)
		if (out.a[i].kind == ENG_ACT_RUN_HOOK)
			h = &out.a[i];
	assert_non_null(h);
	assert_string_equal(h->u.hook.id, "www-1700000000123");
	assert_int_equal(h->u.hook.stack, APP1);
	assert_int_equal(h->u.hook.from, APP1);
	assert_int_equal(h->u.hook.to, APP2);
	assert_int_equal(h->u.hook.attempt, 1);
	assert_int_equal(h->u.hook.reason, ENG_REASON_AUTO);
	assert_true(h->u.hook.dry_run);
	assert_ptr_equal(h->u.hook.hook, &stacks[APP1].maintenance_on);
	assert_int_equal(h->u.hook.timeout_ms, 60000);
	assert_string_equal(out.a[0].u.rec.name, "switch_started");
	assert_string_equal(eng_record_get(&out.a[0], "group"), "www");
	assert_string_equal(eng_record_get(&out.a[0], "id"),
	    "www-1700000000123");
	assert_string_equal(eng_record_get(&out.a[0], "from"), "app1");
	assert_string_equal(eng_record_get(&out.a[0], "to"), "app2");
}

static void
test_reserved(void **state)
{
	struct eng_group g;
	struct eng_event ev = { .kind = ENG_EV_RESUME };
	struct eng_out out;
	struct eng_cmd cmd = { .kind = ENG_CMD_SWITCH, .stack = ENG_NONE,
	    .force = true };

	(void)state;
	fixture();
	assert_int_equal(eng_group_init(&g, &cfg, 1, false), 0);
	assert_int_equal(g.status, ENG_RESERVED);
	assert_int_equal(eng_step(&g, &world, &ev, NOW(0), &out), 0);
	assert_int_equal(out.n, 0);
	assert_int_equal(eng_cmd_check(&g, &world, &cmd),
	    ENG_REFUSE_NO_STACKS);
	cmd.kind = ENG_CMD_PAUSE;
	assert_int_equal(eng_cmd_check(&g, &world, &cmd), ENG_OK);
	assert_int_equal(eng_stack_status(&g, APP1), ENG_STATUS_NONE);
	assert_int_equal(eng_group_init(&g, &cfg, 7, false), ENG_E_INVAL);
}

static void
test_invalid_events(void **state)
{
	struct eng_group g;
	struct eng_event ev = { .kind = ENG_EV_HEALTH };
	struct eng_out out;

	(void)state;
	fixture();
	serving(&g);
	ev.u.health.stack = 17;
	assert_int_equal(eng_step(&g, &world, &ev, NOW(0), &out), ENG_E_INVAL);
	ev.kind = ENG_EV_TIMER;
	ev.u.timer = 9;
	assert_int_equal(eng_step(&g, &world, &ev, NOW(0), &out), ENG_E_INVAL);
	ev.kind = 99;
	assert_int_equal(eng_step(&g, &world, &ev, NOW(0), &out), ENG_E_INVAL);
	assert_int_equal(out.n, 0);
}

static void
test_plan(void **state)
{
	struct eng_group g;
	struct eng_cmd cmd = { .kind = ENG_CMD_SWITCH, .stack = ENG_NONE,
	    .force = false };
	struct eng_plan p;
	char buf[1024];
	size_t n;

	(void)state;
	fixture();
	stacks[APP2].replication_off.argc = 0;
	serving(&g);
	eng_switch_plan(&g, &world, &cmd, &p);
	assert_int_equal(p.refusal, 0);
	n = eng_plan_format(&p, &cfg, 0, buf, sizeof(buf));
	assert_int_equal(n, strlen(buf));
	assert_string_equal(buf,
	    "switch www from app1 to app2\n"
	    "  1. maintenance_on on app1: /bin/true maint on\n"
	    "  2. replication_off on app2: no hook, skipped\n"
	    "  3. promote on app2: /bin/true db promote\n"
	    "  4. maintenance_off on app2: /bin/true maint off\n"
	    "  5. dns: www.failover.example.net. CNAME app1-lb.example.net. "
	    "-> CNAME app2-lb.example.net. ttl 60s\n"
	    "  restore (if replication_off, promote or maintenance_off "
	    "fails): maintenance_off on app1: /bin/true maint off\n");
	/* Truncation: snprintf semantics. */
	assert_int_equal(eng_plan_format(&p, &cfg, 0, buf, 10), n);
	assert_int_equal(strlen(buf), 9);
	health[APP2].state = HEALTH_DOWN;
	eng_switch_plan(&g, &world, &cmd, &p);
	assert_int_equal(p.refusal, ENG_REFUSE_TARGET_NOT_UP);
	eng_plan_format(&p, &cfg, 0, buf, sizeof(buf));
	assert_non_null(strstr(buf, "refused: the target stack is not up"));
	/* What an abort would leave: said, whatever the reason. */
	groups[0].restore_on_abort = false;
	eng_switch_plan(&g, &world, &cmd, &p);
	eng_plan_format(&p, &cfg, 0, buf, sizeof(buf));
	assert_non_null(strstr(buf, "fails): off, app1 stays in maintenance "
	    "(restore_on_abort = no)\n"));
	groups[0].restore_on_abort = true;
	stacks[APP1].maintenance_off.argc = 0;
	eng_switch_plan(&g, &world, &cmd, &p);
	eng_plan_format(&p, &cfg, 0, buf, sizeof(buf));
	assert_non_null(strstr(buf, "fails): no hook, app1 stays in "
	    "maintenance\n"));
}

static void
test_codec(void **state)
{
	struct eng_group g, back;
	char *s = NULL, err[128];
	size_t len;
	const char *bad[] = {
		"", "[]", "{\"v\":1}", "{\"v\":2,\"group\":\"www\"}",
		"{\"v\":1,\"group\":\"nope\"}",
		"{\"v\":1,\"group\":\"www\",\"switch\":{},\"dns\":{},\"precheck\":{}}",
	};
	const int badrc[] = { ENG_E_CODEC, ENG_E_CODEC, ENG_E_CODEC,
	    ENG_E_VERSION, ENG_E_NOGROUP, ENG_E_CODEC };

	(void)state;
	fixture();
	serving(&g);
	g.paused = true;
	g.pinned = APP1;
	assert_int_equal(eng_group_encode(&g, &cfg, &s, &len), 0);
	assert_non_null(strstr(s, "\"v\":1"));
	assert_non_null(strstr(s, "\"pinned\":\"app1\""));
	memset(&back, 0x55, sizeof(back));
	assert_int_equal(eng_group_decode(s, len, &cfg, &back, err,
	    sizeof(err)), 0);
	assert_memory_equal(&back, &g, sizeof(g));

	/* Decoding under a configuration whose stacks are in another order. */
	{
		struct cfg_stack tmp = stacks[APP1];

		stacks[APP1] = stacks[APP3];
		stacks[APP3] = tmp;
		groups[0].primary = APP3;
		assert_int_equal(eng_group_decode(s, len, &cfg, &back, err,
		    sizeof(err)), 0);
		assert_int_equal(back.active, APP3);
		assert_int_equal(back.pinned, APP3);
		assert_int_equal(back.pub_stack, APP3);
		/* Primary changed to another stack: roles reset. */
		groups[0].primary = APP1;
		assert_int_equal(eng_group_decode(s, len, &cfg, &back, err,
		    sizeof(err)), ENG_DECODE_RESET);
		assert_int_equal(back.active, APP1);
		assert_int_equal(back.pinned, ENG_NONE);
		fixture();
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(eng_group_decode(bad[i], strlen(bad[i]), &cfg,
		    &back, err, sizeof(err)), badrc[i]);
		assert_true(err[0] != '\0');
	}
	free(s);
}

/* A request older than request_ttl (or from "the future") expires. */
static void
test_request_expiry(void **state)
{
	struct eng_group g;
	struct eng_event ev = { .kind = ENG_EV_CMD };
	struct eng_out out;
	int64_t t = 1700000000000LL;
	char buf[1024];

	(void)state;
	fixture();
	cfg.controller.request_ttl_ms = 300000;
	serving(&g);
	ev.u.cmd.kind = ENG_CMD_SWITCH;
	ev.u.cmd.stack = ENG_NONE;
	snprintf(ev.u.cmd.actor, sizeof(ev.u.cmd.actor), "uid:alice");
	/* Made 5 min 1 s ago: expired, nothing runs. */
	ev.u.cmd.requested_ms = t - 301000;
	assert_int_equal(eng_step(&g, &world, &ev, NOW(t), &out),
	    ENG_REFUSE_EXPIRED);
	render(&out, buf, sizeof(buf));
	assert_string_equal(buf, "request_expired PERSIST");
	assert_string_equal(eng_record_get(&out.a[0], "actor"), "uid:alice");
	assert_string_equal(eng_record_get(&out.a[0], "cmd"), "switch");
	assert_string_equal(eng_record_get(&out.a[0], "age_ms"), "301000");
	assert_int_equal(g.status, ENG_SERVING);
	/* Made more than request_ttl in the future: the clock went back. */
	ev.u.cmd.requested_ms = t + 301000;
	assert_int_equal(eng_step(&g, &world, &ev, NOW(t), &out),
	    ENG_REFUSE_EXPIRED);
	/* A rearm expires alike; a level (pause) never does. */
	ev.u.cmd.kind = ENG_CMD_PAUSE;
	ev.u.cmd.requested_ms = t - 10 * 301000;
	assert_int_equal(eng_step(&g, &world, &ev, NOW(t), &out), 0);
	render(&out, buf, sizeof(buf));
	assert_string_equal(buf, "paused PERSIST");
	assert_string_equal(eng_record_get(&out.a[0], "actor"), "uid:alice");
	/* Fresh: the switch starts, switch_started names the actor. */
	ev.u.cmd.kind = ENG_CMD_SWITCH;
	ev.u.cmd.requested_ms = t - 299000;
	assert_int_equal(eng_step(&g, &world, &ev, NOW(t), &out), 0);
	assert_int_equal(g.status, ENG_SWITCHING);
	assert_string_equal(out.a[0].u.rec.name, "switch_started");
	assert_string_equal(eng_record_get(&out.a[0], "actor"), "uid:alice");
	/* A rearm request that waited too long does not clear anything. */
	fixture();
	cfg.controller.request_ttl_ms = 300000;
	serving(&g);
	g.status = ENG_WAIT_REARM;
	ev.u.cmd.kind = ENG_CMD_REARM;
	ev.u.cmd.requested_ms = t - 400000;
	assert_int_equal(eng_step(&g, &world, &ev, NOW(t), &out),
	    ENG_REFUSE_EXPIRED);
	assert_int_equal(g.status, ENG_WAIT_REARM);
}

static void
test_names(void **state)
{
	(void)state;
	assert_string_equal(eng_status_name(ENG_WAIT_REARM), "wait_rearm");
	assert_string_equal(eng_phase_name(ENG_PH_REPL_OFF), "replication_off");
	assert_string_equal(eng_gate_name(ENG_GATE_HOLD_DOWN), "hold_down");
	assert_string_equal(eng_refusal_name(ENG_REFUSE_TARGET_NOT_UP),
	    "target_not_up");
	assert_int_equal(eng_phase_parse("promote"), ENG_PH_PROMOTE);
	assert_int_equal(eng_cmd_parse("rearm"), ENG_CMD_REARM);
	assert_int_equal(eng_status_parse("bogus"), -1);
	assert_string_equal(eng_status_name(99), "unknown");
	for (int i = ENG_GATE_NONE; i <= ENG_GATE_PRECHECK_FAILED; i++)
		assert_int_equal(eng_gate_parse(eng_gate_name(i)), i);
}


/*
 * The suspect TTL, damped: a stack that fails one check in three (rise 2,
 * fall 3, interval 1 s, fastinter 200 ms after a failure, as the daemon
 * schedules it) for an hour of virtual time, every UPDATE answered at
 * once.  Undamped (before ENG_TTL_SETTLE_ROUNDS) that was two UPDATEs per
 * flap, 3,272 an hour; damped, the TTL is lowered once and stays low.
 * Then the stack heals and the TTL comes back after the settling time.
 */
static int
ttl_updates(struct eng_group *g, int64_t t, struct eng_event *ev,
    int64_t *timer_at)
{
	struct eng_out out;
	int n = 0;

	assert_int_equal(eng_step(g, &world, ev, NOW(t), &out), 0);
	for (size_t i = 0; i < out.n; i++) {
		if (out.a[i].kind == ENG_ACT_SET_TIMER &&
		    out.a[i].u.timer.timer == ENG_TIMER_GATE)
			*timer_at = out.a[i].u.timer.at_ms;
		if (out.a[i].kind != ENG_ACT_DNS_UPDATE)
			continue;
		struct eng_event done = { .kind = ENG_EV_DNS_DONE };

		done.u.dns.ok = true;
		done.u.dns.ticket = out.a[i].u.dns.ticket;
		n += 1 + ttl_updates(g, t + 1, &done, timer_at);
	}
	return n;
}

static int64_t timer_at = -1;	/* the GATE timer the engine asked for */

static int
flap_hour(struct eng_group *g, int every, int64_t t0, int64_t span,
    int64_t *end)
{
	struct health *h = &health[APP1];
	struct eng_event ev;
	int64_t t = t0;
	int n = 0, k = 0;
	bool ok;

	while (t < t0 + span) {
		if (timer_at >= 0 && timer_at <= t) {
			memset(&ev, 0, sizeof(ev));
			ev.kind = ENG_EV_TIMER;
			ev.u.timer = ENG_TIMER_GATE;
			timer_at = -1;
			n += ttl_updates(g, t, &ev, &timer_at);
		}
		ok = every == 0 || ++k % every != 0;
		memset(&ev, 0, sizeof(ev));
		ev.kind = ENG_EV_HEALTH;
		ev.u.health.stack = APP1;
		ev.u.health.change = health_step(h, ok, 1, t);
		if (ev.u.health.change != HEALTH_SAME)
			n += ttl_updates(g, t, &ev, &timer_at);
		assert_int_equal(h->state, HEALTH_UP);
		t += h->fail_run > 0 ? 200 : 1000;
	}
	*end = t;
	return n;
}

static void
test_ttl_damping(void **state)
{
	struct eng_group g;
	int64_t t;
	int n;

	(void)state;
	fixture();
	stacks[APP1].rise = stacks[APP2].rise = 2;
	health_init(&health[APP1], 2, 3, -10000);
	health_step(&health[APP1], true, 0, -3000);
	health_step(&health[APP1], true, 0, -2000);
	serving(&g);
	timer_at = -1;
	n = flap_hour(&g, 3, 1000, 3600 * 1000, &t);
	print_message("suspect TTL UPDATEs per hour, failing 1 check in 3: "
	    "%d\n", n);
	assert_true(n <= 2);
	assert_int_equal(g.want_ttl, 5);
	/* Healed: back to ttl once settled, and only then. */
	n = flap_hour(&g, 0, t, (ENG_TTL_SETTLE_ROUNDS - 2) * 1000, &t);
	assert_int_equal(n, 0);
	assert_int_equal(g.want_ttl, 5);
	n = flap_hour(&g, 0, t, 4000, &t);
	assert_int_equal(n, 1);
	assert_int_equal(g.want_ttl, 60);
}

/*
 * In a cluster the gates go by the quorum's decision (eng_world.quorum),
 * not this member's health: one member seeing the active stack down is
 * no_quorum (recorded once, with who sees what); the quorum seeing it
 * down switches even while this member sees it up, and the switch's
 * record names who saw it down; a standby without a decision holds too.
 */
static void
quorum_set(struct eng_quorum *q, enum quorum_decision d, const char *down,
    const char *up)
{
	memset(q, 0, sizeof(*q));
	q->decision = d;
	q->required = 2;
	q->live = 3;
	q->down = strcmp(down, "-") == 0 ? 0 : 1 + (strchr(down, ',') != NULL);
	q->up = 3 - q->down;
	snprintf(q->seen_down, sizeof(q->seen_down), "%s", down);
	snprintf(q->seen_up, sizeof(q->seen_up), "%s", up);
	snprintf(q->seen_unknown, sizeof(q->seen_unknown), "-");
}

static void
quorum_step(struct eng_group *g, int64_t now, char *buf, size_t len,
    struct eng_out *out)
{
	struct eng_event ev = { .kind = ENG_EV_EVALUATE };

	assert_int_equal(eng_step(g, &world, &ev, NOW(now), out), 0);
	render(out, buf, len);
}

static void
test_quorum_gates(void **state)
{
	struct eng_quorum q[NSTACK];
	struct eng_group g;
	struct eng_out out;
	char buf[1024];

	(void)state;
	fixture();
	for (int i = 0; i < NSTACK; i++)
		quorum_set(&q[i], QUORUM_UP, "-", "a,b,c");
	world.quorum = q;
	serving(&g);
	/* This member (say "a") sees app1 down, b and c up. */
	health[APP1].state = HEALTH_DOWN;
	quorum_set(&q[APP1], QUORUM_UP, "a", "b,c");
	quorum_step(&g, 1000, buf, sizeof(buf), &out);
	assert_string_equal(buf, "gate_held(reason=no_quorum) ttl_lowered "
	    "PERSIST DNS(app1,5,ttl)");
	assert_string_equal(eng_record_get(&out.a[0], "seen_down"), "a");
	assert_string_equal(eng_record_get(&out.a[0], "seen_up"), "b,c");
	assert_string_equal(eng_record_get(&out.a[0], "stack"), "app1");
	/* Once: the same view again records nothing. */
	quorum_step(&g, 1100, buf, sizeof(buf), &out);
	assert_string_equal(buf, "");
	/* A switch by the quorum while this member sees app1 up. */
	health[APP1].state = HEALTH_UP;
	quorum_set(&q[APP1], QUORUM_DOWN, "b,c", "a");
	quorum_step(&g, 1200, buf, sizeof(buf), &out);
	assert_non_null(strstr(buf, "switch_started(reason=auto)"));
	assert_string_equal(eng_record_get(&out.a[0], "seen_down"), "b,c");
	assert_int_equal(g.status, ENG_SWITCHING);

	/* The standby without a decision holds: no_quorum, not a switch. */
	fixture();
	for (int i = 0; i < NSTACK; i++)
		quorum_set(&q[i], QUORUM_UP, "-", "a,b,c");
	world.quorum = q;
	serving(&g);
	quorum_set(&q[APP1], QUORUM_DOWN, "a,b", "c");
	quorum_set(&q[APP2], QUORUM_NONE, "a", "b");
	quorum_step(&g, 1000, buf, sizeof(buf), &out);
	assert_non_null(strstr(buf, "gate_held(reason=no_quorum)"));
	assert_string_equal(eng_record_get(&out.a[0], "stack"), "app2");
	quorum_set(&q[APP2], QUORUM_UP, "-", "a,b,c");
	quorum_step(&g, 1100, buf, sizeof(buf), &out);
	assert_non_null(strstr(buf, "switch_started(reason=auto)"));

	/* Alone (no quorum) the same health switches on its own view, and
	 * the record has no seen_down. */
	fixture();
	world.quorum = NULL;
	serving(&g);
	health[APP1].state = HEALTH_DOWN;
	quorum_step(&g, 1000, buf, sizeof(buf), &out);
	assert_non_null(strstr(buf, "switch_started(reason=auto)"));
	assert_null(eng_record_get(&out.a[0], "seen_down"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_hook_action_fields),
		cmocka_unit_test(test_reserved),
		cmocka_unit_test(test_invalid_events),
		cmocka_unit_test(test_plan),
		cmocka_unit_test(test_codec),
		cmocka_unit_test(test_request_expiry),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_ttl_damping),
		cmocka_unit_test(test_quorum_gates),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
