/*
 * test_ops.c - the operator commands over a temporary store and a loaded
 * configuration: every verb's refusals and the flags it writes, the JSON
 * of status, stacks and events, failover-status, group delete, and the
 * groups made at run time (ops_group.h).
 *
 * The daemon is played by hand: its health meta records and committed
 * group states are written directly, as daemon.c writes them.
 */
#include <sys/stat.h>

#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "config/config.h"
#include "controller/core/engine.h"
#include "controller/core/engine_codec.h"
#include "controller/face/ops.h"
#include "controller/face/ops_group.h"
#include "controller/face/ops_remote.h"
#include "controller/face/ops_precheck.h"
#include "controller/store/store.h"

#define T0	1700000000000LL

struct fx {
	char		 tmp[64];
	char		 path[128];
	struct config	*cfg;
	struct store	*st;
};

static int
rm_cb(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb; (void)flag; (void)ftw;
	return remove(path);
}

static int
setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	struct config_errors errs = { 0 };
	char err[256];
	FILE *f;

	if (fx == NULL)
		return -1;
	snprintf(fx->tmp, sizeof(fx->tmp), "/tmp/test_ops.XXXXXX");
	if (mkdtemp(fx->tmp) == NULL)
		return -1;
	snprintf(fx->path, sizeof(fx->path), "%s/failoverd.conf", fx->tmp);
	if ((f = fopen(fx->path, "w")) == NULL)
		return -1;
	fprintf(f,
	    "[controller]\nstate_dir = %s/state\nlisten = off\nname = t\n"
	    "[dns]\nserver = 127.0.0.1:53\nzone = example.net\n"
	    "key_file = hmac-sha256:k:c2VjcmV0c2VjcmV0c2VjcmV0\n"
	    "[stack app1]\nweb_head = app1.example.net\n"
	    "health_url = http://127.0.0.1:1/health\n"
	    "maintenance_on = /bin/true on app1\npromote = /bin/true promote\n"
	    "[stack app2]\nweb_head = 192.0.2.2\n"
	    "health_url = http://127.0.0.1:2/health\n"
	    "promote = /bin/true promote app2\n"
	    "[stack app3]\nweb_head = app3.example.net\n"
	    "health_url = http://127.0.0.1:3/health\n"
	    "[stack app4]\nweb_head = app4.example.net\n"
	    "health_url = http://127.0.0.1:4/health\n"
	    "[group www]\naddress = www\nprimary = app1\nbackup = app2\n"
	    "ttl = 60s\n"
	    "[group solo]\naddress = solo\nprimary = app3\n"
	    "[group old]\naddress = auto\n", fx->tmp);
	fclose(f);
	chmod(fx->path, 0600);		/* it holds an inline key */
	if (config_load(fx->path, &fx->cfg, &errs) != 0) {
		for (size_t i = 0; i < errs.n; i++)
			fprintf(stderr, "%s\n", errs.msg[i]);
		config_errors_free(&errs);
		return -1;
	}
	if (store_open(fx->cfg->controller.state_dir, 0, 0, &fx->st, err,
	    sizeof(err)) != 0) {
		fprintf(stderr, "store_open: %s\n", err);
		return -1;
	}
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *fx = *state;

	store_close(fx->st);
	config_free(fx->cfg);
	nftw(fx->tmp, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	free(fx);
	return 0;
}

/* ---- helpers: play the daemon ---- */

static void
set_health(struct fx *fx, const char *stack, const char *state)
{
	struct store_txn txn;
	char key[128], val[128];

	snprintf(key, sizeof(key), "health/%s", stack);
	snprintf(val, sizeof(val), "{\"state\":\"%s\",\"since_ms\":%lld,"
	    "\"reason\":\"%s\"}", state, T0, strcmp(state, "up") == 0 ?
	    "ok" : "timeout");
	assert_int_equal(store_txn_begin(fx->st, true, &txn), 0);
	store_meta_put(&txn, key, val, strlen(val));
	assert_int_equal(store_txn_commit(&txn), 0);
}

static void
put_state(struct fx *fx, const struct eng_group *g)
{
	struct store_txn txn;
	char *blob;
	size_t len;

	assert_int_equal(eng_group_encode(g, fx->cfg, &blob, &len), 0);
	assert_int_equal(store_txn_begin(fx->st, true, &txn), 0);
	store_group_put(&txn, fx->cfg->groups[g->group].name, blob, len);
	assert_int_equal(store_txn_commit(&txn), 0);
	free(blob);
}

static void
init_state(struct fx *fx, int gi, struct eng_group *g)
{
	assert_int_equal(eng_group_init(g, fx->cfg, gi, false), 0);
}

static struct store_flags
flags_of(struct fx *fx, const char *group)
{
	struct store_txn txn;
	struct store_flags f;

	assert_int_equal(store_txn_begin(fx->st, false, &txn), 0);
	store_flags_get(&txn, group, &f);
	store_txn_abort(&txn);
	return f;
}

static uint64_t
gen(struct fx *fx)
{
	uint64_t g;
	char err[128];

	assert_int_equal(store_generation(fx->st, &g, err, sizeof(err)), 0);
	return g;
}

static int
cmd(struct fx *fx, enum ops_verb v, const char *group, const char *stack,
    bool force, struct ops_reply *r)
{
	struct ops_request req = { .verb = v, .group = group, .stack = stack,
	    .force = force };

	return ops_command(fx->st, fx->cfg, &req, T0 + 1000, r);
}

/* ---- pause, resume ---- */

static void
test_pause_resume(void **state)
{
	struct fx *fx = *state;
	struct ops_reply r;
	uint64_t g0 = gen(fx);

	assert_int_equal(cmd(fx, OPS_PAUSE, "www", NULL, false, &r), 0);
	assert_int_equal(r.outcome, OPS_DONE);
	assert_string_equal(r.message, "www: paused");
	assert_true(flags_of(fx, "www").paused);
	assert_false(flags_of(fx, "solo").paused);
	assert_int_equal(flags_of(fx, "www").updated_ms, T0 + 1000);
	assert_true(gen(fx) > g0);

	assert_int_equal(cmd(fx, OPS_RESUME, "www", NULL, false, &r), 0);
	assert_false(flags_of(fx, "www").paused);

	/* --all: every group, one transaction. */
	assert_int_equal(cmd(fx, OPS_PAUSE, NULL, NULL, false, &r), 0);
	assert_true(flags_of(fx, "www").paused);
	assert_true(flags_of(fx, "solo").paused);
	assert_true(flags_of(fx, "old").paused);
	assert_non_null(strstr(r.message, "3 of 3"));
	assert_int_equal(cmd(fx, OPS_RESUME, NULL, NULL, false, &r), 0);
	assert_false(flags_of(fx, "solo").paused);
}

/* The payload of history event seq, as a string (caller frees). */
static char *
event_at(struct fx *fx, uint64_t seq, char *name, size_t len)
{
	struct store_txn txn;
	struct store_event ev;
	char *p = NULL;

	assert_int_equal(store_txn_begin(fx->st, false, &txn), 0);
	if (store_history_get(&txn, seq, &ev)) {
		snprintf(name, len, "%s", ev.event);
		p = strdup(ev.payload);
	}
	store_txn_abort(&txn);
	assert_non_null(p);
	return p;
}

static uint64_t
last_seq(struct fx *fx)
{
	struct store_txn txn;
	uint64_t n;

	assert_int_equal(store_txn_begin(fx->st, false, &txn), 0);
	n = store_history_last(&txn);
	store_txn_abort(&txn);
	return n;
}

/* Every command is recorded with its actor; requests carry when. */
static void
test_actor_and_cancel(void **state)
{
	struct fx *fx = *state;
	struct ops_request req = { .verb = OPS_SWITCH, .group = "www",
	    .actor = "uid:alice" };
	struct ops_reply r;
	struct store_flags f;
	char name[64], *p;
	uint64_t seq = last_seq(fx);

	set_health(fx, "app2", "up");
	assert_int_equal(ops_command(fx->st, fx->cfg, &req, T0 + 5, &r), 0);
	f = flags_of(fx, "www");
	assert_true(f.switch_requested);
	assert_int_equal(f.switch_requested_ms, T0 + 5);
	assert_string_equal(f.switch_actor, "uid:alice");
	assert_int_equal(last_seq(fx), seq + 1);
	p = event_at(fx, seq + 1, name, sizeof(name));
	assert_string_equal(name, "command");
	assert_non_null(strstr(p, "\"cmd\":\"switch\""));
	assert_non_null(strstr(p, "\"actor\":\"uid:alice\""));
	free(p);

	/* A second request is refused, and the refusal recorded. */
	req.actor = "api:192.0.2.7";
	assert_int_equal(ops_command(fx->st, fx->cfg, &req, T0 + 6, &r), 1);
	assert_string_equal(r.reason, "switch_pending");
	assert_non_null(strstr(r.message, "--cancel"));
	p = event_at(fx, seq + 2, name, sizeof(name));
	assert_string_equal(name, "command_refused");
	assert_non_null(strstr(p, "\"actor\":\"api:192.0.2.7\""));
	assert_non_null(strstr(p, "\"reason\":\"switch_pending\""));
	free(p);

	/* Cancel: withdrawn, recorded with both actors. */
	req.verb = OPS_CANCEL;
	req.actor = "uid:bob";
	assert_int_equal(ops_command(fx->st, fx->cfg, &req, T0 + 7, &r), 0);
	assert_non_null(strstr(r.message, "withdrawn"));
	assert_false(flags_of(fx, "www").switch_requested);
	p = event_at(fx, seq + 3, name, sizeof(name));
	assert_string_equal(name, "request_cancelled");
	assert_non_null(strstr(p, "\"actor\":\"uid:bob\""));
	assert_non_null(strstr(p, "\"requested_by\":\"uid:alice\""));
	free(p);
	/* Nothing left to cancel. */
	assert_int_equal(ops_command(fx->st, fx->cfg, &req, T0 + 8, &r), 1);
	assert_string_equal(r.reason, "no_request");

	/* Levels keep who set them; rearm its own actor and time. */
	req.verb = OPS_PAUSE;
	req.actor = "uid:carol";
	assert_int_equal(ops_command(fx->st, fx->cfg, &req, T0 + 9, &r), 0);
	assert_string_equal(flags_of(fx, "www").actor, "uid:carol");
}

static void
test_unknown_and_bad(void **state)
{
	struct fx *fx = *state;
	struct ops_reply r;
	uint64_t g0 = gen(fx);

	assert_int_equal(cmd(fx, OPS_PAUSE, "nope", NULL, false, &r), 1);
	assert_int_equal(r.outcome, OPS_UNKNOWN);
	assert_string_equal(r.reason, "unknown_group");
	assert_int_equal(cmd(fx, OPS_SWITCH, NULL, NULL, false, &r), 1);
	assert_int_equal(r.outcome, OPS_BAD_REQUEST);
	assert_int_equal(cmd(fx, OPS_PIN, "www", NULL, false, &r), 1);
	assert_int_equal(r.outcome, OPS_BAD_REQUEST);
	assert_int_equal(cmd(fx, OPS_PIN, "www", "app9", false, &r), 1);
	assert_int_equal(r.outcome, OPS_UNKNOWN);
	assert_string_equal(r.reason, "unknown_stack");
	assert_int_equal(cmd(fx, OPS_SWITCH, "www", "app9", false, &r), 1);
	assert_string_equal(r.reason, "unknown_stack");
	assert_int_equal(cmd(fx, (enum ops_verb)42, "www", NULL, false, &r), 1);
	assert_int_equal(r.outcome, OPS_BAD_REQUEST);
	/* Nothing was written. */
	assert_int_equal(gen(fx), g0);
}

/* ---- pin, unpin ---- */

static void
test_pin(void **state)
{
	struct fx *fx = *state;
	struct ops_reply r;

	assert_int_equal(cmd(fx, OPS_PIN, "www", "app3", false, &r), 1);
	assert_int_equal(r.outcome, OPS_REFUSED);
	assert_string_equal(r.reason, "not_in_group");
	assert_int_equal(cmd(fx, OPS_PIN, "old", "app1", false, &r), 1);
	assert_string_equal(r.reason, "no_stacks");
	assert_int_equal(cmd(fx, OPS_PIN, "www", "app1", false, &r), 0);
	assert_string_equal(flags_of(fx, "www").pinned, "app1");
	assert_string_equal(r.message, "www: pinned to app1");

	/* Pinned elsewhere: a switch needs --force. */
	set_health(fx, "app2", "up");
	assert_int_equal(cmd(fx, OPS_SWITCH, "www", NULL, false, &r), 1);
	assert_string_equal(r.reason, "pinned");
	assert_false(flags_of(fx, "www").switch_requested);
	assert_int_equal(cmd(fx, OPS_UNPIN, "www", NULL, false, &r), 0);
	assert_string_equal(flags_of(fx, "www").pinned, "");
	assert_int_equal(cmd(fx, OPS_SWITCH, "www", NULL, false, &r), 0);
}

/* ---- switch ---- */

static void
test_switch_target_not_up(void **state)
{
	struct fx *fx = *state;
	struct ops_reply r;
	struct store_flags f;

	/* No health record yet: unknown, not up. */
	assert_int_equal(cmd(fx, OPS_SWITCH, "www", NULL, false, &r), 1);
	assert_int_equal(r.outcome, OPS_REFUSED);
	assert_string_equal(r.reason, "target_not_up");
	set_health(fx, "app2", "down");
	assert_int_equal(cmd(fx, OPS_SWITCH, "www", "app2", false, &r), 1);
	assert_string_equal(r.reason, "target_not_up");
	assert_false(flags_of(fx, "www").switch_requested);

	/* --force goes. */
	assert_int_equal(cmd(fx, OPS_SWITCH, "www", "app2", true, &r), 0);
	f = flags_of(fx, "www");
	assert_true(f.switch_requested);
	assert_true(f.switch_force);
	assert_string_equal(f.switch_to, "app2");
	assert_int_equal(f.switch_request_id, r.request_id);
	assert_true(r.request_id >= (uint64_t)T0);
	assert_int_equal(r.nswitch, 0);

	/* A second one while the first is pending. */
	assert_int_equal(cmd(fx, OPS_SWITCH, "www", NULL, true, &r), 1);
	assert_string_equal(r.reason, "switch_pending");
}

static void
test_switch_rules(void **state)
{
	struct fx *fx = *state;
	struct ops_reply r;
	struct eng_group g;
	struct store_flags f;

	set_health(fx, "app2", "up");
	set_health(fx, "app1", "up");
	assert_int_equal(cmd(fx, OPS_SWITCH, "www", "app1", false, &r), 1);
	assert_string_equal(r.reason, "already_active");
	assert_int_equal(cmd(fx, OPS_SWITCH, "solo", NULL, false, &r), 1);
	assert_string_equal(r.reason, "no_standby");
	assert_int_equal(cmd(fx, OPS_SWITCH, "www", "app3", true, &r), 1);
	assert_string_equal(r.reason, "not_in_group");
	assert_int_equal(cmd(fx, OPS_SWITCH, "old", NULL, true, &r), 1);
	assert_string_equal(r.reason, "no_stacks");

	/* A switch running (the daemon's committed state). */
	init_state(fx, 0, &g);
	g.status = ENG_SWITCHING;
	g.sw.from = 0;
	g.sw.to = 1;
	g.sw.phase = ENG_PH_PROMOTE;
	snprintf(g.sw.id, sizeof(g.sw.id), "www-1");
	put_state(fx, &g);
	assert_int_equal(cmd(fx, OPS_SWITCH, "www", NULL, true, &r), 1);
	assert_string_equal(r.reason, "switch_running");

	/* Done: now on app2, the standby app1 is up. */
	g.status = ENG_WAIT_REARM;
	g.active = 1;
	g.standby = 0;
	g.sw.phase = ENG_PH_DONE;
	g.nswitch = 1;
	put_state(fx, &g);
	assert_int_equal(cmd(fx, OPS_SWITCH, "www", NULL, false, &r), 0);
	assert_int_equal(r.nswitch, 1);
	f = flags_of(fx, "www");
	assert_true(f.switch_requested);
	assert_false(f.switch_force);
	assert_string_equal(f.switch_to, "");
	assert_non_null(strstr(r.message, "switch to app1 requested"));
}

static void
test_switch_plan(void **state)
{
	struct fx *fx = *state;
	struct ops_reply r;
	char buf[2048];

	assert_int_equal(ops_switch_plan(fx->st, fx->cfg, "www", NULL, false,
	    buf, sizeof(buf), &r), 1);
	assert_string_equal(r.reason, "target_not_up");
	set_health(fx, "app2", "up");
	assert_int_equal(ops_switch_plan(fx->st, fx->cfg, "www", NULL, false,
	    buf, sizeof(buf), &r), 0);
	assert_non_null(strstr(buf, "switch www from app1 to app2"));
	assert_non_null(strstr(buf, "maintenance_on on app1: /bin/true on app1"));
	assert_non_null(strstr(buf, "replication_off on app2: no hook"));
	assert_non_null(strstr(buf, "promote on app2: /bin/true promote app2"));
	assert_non_null(strstr(buf, "ttl 60s"));
	/* The plan writes nothing. */
	assert_false(flags_of(fx, "www").switch_requested);
	assert_int_equal(ops_switch_plan(fx->st, fx->cfg, "nope", NULL, false,
	    buf, sizeof(buf), &r), 1);
	assert_int_equal(r.outcome, OPS_UNKNOWN);
}

/* The API's plan is the same plan, with its parts as JSON. */
static void
test_switch_plan_json(void **state)
{
	struct fx *fx = *state;
	struct ops_reply r;
	char buf[2048];
	json_t *p = NULL, *st;

	assert_int_equal(ops_switch_plan_json(fx->st, fx->cfg, "www", NULL,
	    false, &p, &r), 1);
	assert_null(p);
	assert_string_equal(r.reason, "target_not_up");
	set_health(fx, "app2", "up");
	assert_int_equal(ops_switch_plan(fx->st, fx->cfg, "www", NULL, false,
	    buf, sizeof(buf), &r), 0);
	assert_non_null(strstr(buf, "  then www waits for rearm: no automatic"
	    " failover until failoverctl rearm www\n"));
	assert_int_equal(ops_switch_plan_json(fx->st, fx->cfg, "www", NULL,
	    false, &p, &r), 0);
	assert_non_null(p);
	assert_string_equal(json_string_value(json_object_get(p, "text")), buf);
	assert_string_equal(json_string_value(json_object_get(p, "from")),
	    "app1");
	assert_string_equal(json_string_value(json_object_get(p, "to")),
	    "app2");
	assert_true(json_is_null(json_object_get(p, "refused")));
	assert_int_equal(json_array_size(json_object_get(p, "steps")), 4);
	st = json_array_get(json_object_get(p, "steps"), 0);
	assert_string_equal(json_string_value(json_object_get(st, "phase")),
	    "maintenance_on");
	assert_string_equal(json_string_value(json_object_get(st, "stack")),
	    "app1");
	assert_string_equal(json_string_value(json_array_get(json_object_get(st,
	    "command"), 2)), "app1");
	/* A phase without a hook: command null. */
	st = json_array_get(json_object_get(p, "steps"), 1);
	assert_true(json_is_null(json_object_get(st, "command")));
	assert_int_equal(json_integer_value(json_object_get(json_object_get(p,
	    "dns"), "ttl")), 60);
	assert_non_null(strstr(json_string_value(json_object_get(p, "after")),
	    "waits for rearm"));
	json_decref(p);
	p = NULL;
	assert_int_equal(ops_switch_plan_json(fx->st, fx->cfg, "nope", NULL,
	    false, &p, &r), 1);
	assert_int_equal(r.outcome, OPS_UNKNOWN);
	assert_null(p);
	assert_false(flags_of(fx, "www").switch_requested);
}

/* ---- rearm ---- */

static void
test_rearm(void **state)
{
	struct fx *fx = *state;
	struct ops_reply r;
	struct eng_group g;

	assert_int_equal(cmd(fx, OPS_REARM, "www", NULL, false, &r), 1);
	assert_string_equal(r.reason, "nothing_to_rearm");
	init_state(fx, 0, &g);
	g.status = ENG_FAILED;
	put_state(fx, &g);
	assert_int_equal(cmd(fx, OPS_REARM, "www", NULL, false, &r), 0);
	assert_true(flags_of(fx, "www").rearm_requested);
	/* Asked again before the daemon consumed it: still fine. */
	assert_int_equal(cmd(fx, OPS_REARM, "www", NULL, false, &r), 0);
	/* resume clears a failed group even when it was not paused. */
	assert_int_equal(cmd(fx, OPS_REARM, "solo", NULL, false, &r), 1);
	init_state(fx, 1, &g);
	g.status = ENG_FAILED;
	put_state(fx, &g);
	assert_int_equal(cmd(fx, OPS_RESUME, "solo", NULL, false, &r), 0);
	assert_true(flags_of(fx, "solo").rearm_requested);
	assert_string_equal(r.message, "solo: resumed; failed state cleared");
	assert_int_equal(cmd(fx, OPS_RESUME, "www", NULL, false, &r), 0);
	assert_string_equal(r.message, "www: resumed; failed state cleared");

	init_state(fx, 0, &g);
	g.status = ENG_SWITCHING;
	g.sw.from = 0;
	g.sw.to = 1;
	g.sw.phase = ENG_PH_MAINT_ON;
	snprintf(g.sw.id, sizeof(g.sw.id), "www-2");
	put_state(fx, &g);
	assert_int_equal(cmd(fx, OPS_REARM, "www", NULL, false, &r), 1);
	assert_string_equal(r.reason, "switch_running");
}

/* ---- status ---- */

static json_t *
group_in(json_t *all, const char *name)
{
	size_t i;
	json_t *g;

	json_array_foreach(json_object_get(all, "groups"), i, g)
		if (strcmp(json_string_value(json_object_get(g, "name")),
		    name) == 0)
			return g;
	return NULL;
}

static void
test_status(void **state)
{
	struct fx *fx = *state;
	struct ops_reply r;
	struct store_txn txn;
	struct store_addr a = { .state = STORE_ADDR_ALLOCATED, .time_ms = T0 };
	json_t *o, *g, *s;
	char err[256];

	set_health(fx, "app1", "up");
	assert_int_equal(cmd(fx, OPS_PAUSE, "www", NULL, false, &r), 0);
	assert_int_equal(ops_status(fx->st, fx->cfg, NULL, &o, err,
	    sizeof(err)), 0);
	assert_int_equal(json_array_size(json_object_get(o, "groups")), 3);
	g = group_in(o, "www");
	assert_non_null(g);
	assert_string_equal(json_string_value(json_object_get(g, "address")),
	    "www.example.net.");
	assert_string_equal(json_string_value(json_object_get(g, "active")),
	    "app1");
	assert_string_equal(json_string_value(json_object_get(g, "status")),
	    "serving");
	assert_true(json_is_true(json_object_get(json_object_get(g, "flags"),
	    "paused")));
	assert_true(json_is_null(json_object_get(g, "last_switch")));
	assert_true(json_is_null(json_object_get(g, "state")));
	s = json_array_get(json_object_get(g, "stacks"), 0);
	assert_string_equal(json_string_value(json_object_get(s, "name")),
	    "app1");
	assert_string_equal(json_string_value(json_object_get(s, "health")),
	    "up");
	assert_int_equal(json_integer_value(json_object_get(s, "since_ms")), T0);
	assert_string_equal(json_string_value(json_object_get(s,
	    "failover_status")), "online");
	s = json_array_get(json_object_get(g, "stacks"), 1);
	assert_string_equal(json_string_value(json_object_get(s, "health")),
	    "unknown");
	assert_true(json_is_null(json_object_get(s, "since_ms")));
	g = group_in(o, "old");
	assert_string_equal(json_string_value(json_object_get(g, "status")),
	    "reserved");
	assert_true(json_is_null(json_object_get(g, "address")));
	json_decref(o);

	/* An auto address, once allocated. */
	snprintf(a.group, sizeof(a.group), "old");
	assert_int_equal(store_txn_begin(fx->st, true, &txn), 0);
	store_addr_put(&txn, "123-456-789", &a);
	assert_int_equal(store_txn_commit(&txn), 0);
	assert_int_equal(ops_status(fx->st, fx->cfg, "old", &o, err,
	    sizeof(err)), 0);
	assert_string_equal(json_string_value(json_object_get(o, "address")),
	    "123-456-789.example.net.");
	json_decref(o);

	assert_int_equal(ops_status(fx->st, fx->cfg, "nope", &o, err,
	    sizeof(err)), OPS_E_NOTFOUND);
	assert_null(o);
}

static void
test_status_switching(void **state)
{
	struct fx *fx = *state;
	struct eng_group g;
	json_t *o, *ls;
	char err[256], txt[64];

	init_state(fx, 0, &g);
	g.status = ENG_SWITCHING;
	g.sw.from = 0;
	g.sw.to = 1;
	g.sw.phase = ENG_PH_PROMOTE;
	g.sw.running = true;
	g.sw.started_ms = T0;
	snprintf(g.sw.id, sizeof(g.sw.id), "www-%lld", T0);
	put_state(fx, &g);
	ops_status_text(&g, txt, sizeof(txt));
	assert_string_equal(txt, "switching/promote");
	assert_int_equal(ops_status(fx->st, fx->cfg, "www", &o, err,
	    sizeof(err)), 0);
	assert_string_equal(json_string_value(json_object_get(o, "state_text")),
	    "switching/promote");
	assert_string_equal(json_string_value(json_object_get(o, "phase")),
	    "promote");
	ls = json_object_get(o, "last_switch");
	assert_string_equal(json_string_value(json_object_get(ls, "result")),
	    "running");
	assert_string_equal(json_string_value(json_object_get(ls, "to")),
	    "app2");
	assert_true(json_is_object(json_object_get(o, "state")));
	json_decref(o);

	g.status = ENG_FAILED;
	g.sw.running = false;
	g.sw.ended_ms = T0 + 500;
	put_state(fx, &g);
	assert_int_equal(ops_status(fx->st, fx->cfg, "www", &o, err,
	    sizeof(err)), 0);
	assert_string_equal(json_string_value(json_object_get(
	    json_object_get(o, "last_switch"), "result")), "failed");
	assert_string_equal(json_string_value(json_object_get(o, "status")),
	    "failed");
	json_decref(o);
}

/* ---- stacks and failover-status ---- */

static void
test_failover_status(void **state)
{
	struct fx *fx = *state;
	struct eng_group g;
	enum eng_online on;
	json_t *o;
	char err[256];

	assert_int_equal(ops_failover_status(fx->st, fx->cfg, "app1", &on, err,
	    sizeof(err)), 0);
	assert_int_equal(on, ENG_STATUS_ONLINE);
	assert_int_equal(ops_failover_status(fx->st, fx->cfg, "app2", &on, err,
	    sizeof(err)), 0);
	assert_int_equal(on, ENG_STATUS_OFFLINE);
	assert_int_equal(ops_failover_status(fx->st, fx->cfg, "app3", &on, err,
	    sizeof(err)), 0);
	assert_int_equal(on, ENG_STATUS_ONLINE);
	assert_int_equal(ops_failover_status(fx->st, fx->cfg, "app4", &on, err,
	    sizeof(err)), 0);
	assert_int_equal(on, ENG_STATUS_NONE);
	assert_int_equal(ops_failover_status(fx->st, fx->cfg, "app9", &on, err,
	    sizeof(err)), OPS_E_NOTFOUND);

	/* After a switch, traffic on app2. */
	init_state(fx, 0, &g);
	g.active = 1;
	g.standby = 0;
	g.online = 1;
	g.status = ENG_WAIT_REARM;
	put_state(fx, &g);
	assert_int_equal(ops_failover_status(fx->st, fx->cfg, "app2", &on, err,
	    sizeof(err)), 0);
	assert_int_equal(on, ENG_STATUS_ONLINE);
	assert_int_equal(ops_failover_status(fx->st, fx->cfg, "app1", &on, err,
	    sizeof(err)), 0);
	assert_int_equal(on, ENG_STATUS_OFFLINE);

	set_health(fx, "app2", "up");
	assert_int_equal(ops_stack_json(fx->st, fx->cfg, "app2", &o, err,
	    sizeof(err)), 0);
	assert_string_equal(json_string_value(json_object_get(o, "web_head")),
	    "192.0.2.2");
	assert_string_equal(json_string_value(json_object_get(o, "health")),
	    "up");
	assert_string_equal(json_string_value(json_object_get(o,
	    "failover_status")), "online");
	assert_int_equal(json_array_size(json_object_get(o, "groups")), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(
	    json_object_get(o, "groups"), 0), "role")), "backup");
	json_decref(o);
	assert_int_equal(ops_stack_json(fx->st, fx->cfg, "app4", &o, err,
	    sizeof(err)), 0);
	assert_string_equal(json_string_value(json_object_get(o,
	    "failover_status")), "none");
	assert_string_equal(json_string_value(json_object_get(o, "web_head")),
	    "CNAME app4.example.net.");
	json_decref(o);
	assert_int_equal(ops_stack_json(fx->st, fx->cfg, "app9", &o, err,
	    sizeof(err)), OPS_E_NOTFOUND);
}

/* ---- events ---- */

static void
test_events(void **state)
{
	struct fx *fx = *state;
	struct store_txn txn;
	json_t *o, *ev;
	char err[256];

	assert_int_equal(store_txn_begin(fx->st, true, &txn), 0);
	for (int i = 0; i < 10; i++)
		store_history_append(&txn, T0 + i, i % 2 ? "www" : "solo",
		    "phase_finished", i == 3 ? "not json" :
		    "{\"phase\":\"promote\",\"duration_ms\":\"12\"}", NULL);
	assert_int_equal(store_txn_commit(&txn), 0);

	assert_int_equal(ops_events_json(fx->st, 0, 0, NULL, &o, err,
	    sizeof(err)), 0);
	assert_int_equal(json_array_size(json_object_get(o, "events")), 10);
	assert_int_equal(json_integer_value(json_object_get(o, "last_seq")), 10);
	ev = json_array_get(json_object_get(o, "events"), 0);
	assert_int_equal(json_integer_value(json_object_get(ev, "seq")), 1);
	assert_string_equal(json_string_value(json_object_get(ev, "ts")),
	    "2023-11-14T22:13:20.000Z");
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    ev, "data"), "phase")), "promote");
	assert_int_equal(strlen(json_string_value(json_object_get(ev, "hash"))),
	    64);
	/* A payload that is not JSON comes back as a string. */
	ev = json_array_get(json_object_get(o, "events"), 3);
	assert_string_equal(json_string_value(json_object_get(ev, "data")),
	    "not json");
	json_decref(o);

	/* Newest 2 of www, oldest first. */
	assert_int_equal(ops_events_json(fx->st, 0, 2, "www", &o, err,
	    sizeof(err)), 0);
	assert_int_equal(json_array_size(json_object_get(o, "events")), 2);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(
	    json_object_get(o, "events"), 0), "seq")), 8);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(
	    json_object_get(o, "events"), 1), "seq")), 10);
	json_decref(o);

	/* From a sequence number (following a switch). */
	assert_int_equal(ops_events_json(fx->st, 9, 0, NULL, &o, err,
	    sizeof(err)), 0);
	assert_int_equal(json_array_size(json_object_get(o, "events")), 2);
	json_decref(o);
}

static void
test_history_seq(void **state)
{
	struct fx *fx = *state;
	struct store_txn txn;
	struct ops_reply r;

	set_health(fx, "app2", "up");
	assert_int_equal(store_txn_begin(fx->st, true, &txn), 0);
	store_history_append(&txn, T0, "www", "record_published", "{}", NULL);
	store_history_append(&txn, T0, "www", "confirmed", "{}", NULL);
	assert_int_equal(store_txn_commit(&txn), 0);
	assert_int_equal(cmd(fx, OPS_SWITCH, "www", NULL, false, &r), 0);
	assert_int_equal(r.history_seq, 2);
}

/* ---- group delete ---- */

static bool
addr_state(struct fx *fx, const char *key, struct store_addr *a)
{
	struct store_txn txn;
	bool found;

	assert_int_equal(store_txn_begin(fx->st, false, &txn), 0);
	found = store_addr_get(&txn, key, a);
	store_txn_abort(&txn);
	return found;
}

static void
test_group_delete(void **state)
{
	struct fx *fx = *state;
	struct ops_reply r;
	struct store_txn txn;
	struct store_addr a = { .state = STORE_ADDR_ALLOCATED, .time_ms = T0 };
	struct eng_group g;
	char addr[300];
	const void *blob;
	size_t len;

	assert_int_equal(ops_group_delete_check(fx->st, fx->cfg, "www", addr,
	    sizeof(addr), &r), 1);
	assert_int_equal(r.outcome, OPS_REFUSED);
	assert_string_equal(r.reason, "has_stacks");
	assert_int_equal(ops_group_delete_check(fx->st, fx->cfg, "nope", addr,
	    sizeof(addr), &r), 1);
	assert_int_equal(r.outcome, OPS_UNKNOWN);
	/* auto, never allocated: nothing to delete. */
	assert_int_equal(ops_group_delete_check(fx->st, fx->cfg, "old", addr,
	    sizeof(addr), &r), 1);
	assert_string_equal(r.reason, "no_address");

	snprintf(a.group, sizeof(a.group), "old");
	init_state(fx, 2, &g);
	put_state(fx, &g);
	assert_int_equal(cmd(fx, OPS_PAUSE, "old", NULL, false, &r), 0);
	assert_int_equal(store_txn_begin(fx->st, true, &txn), 0);
	store_addr_put(&txn, "111-222-333", &a);
	assert_int_equal(store_txn_commit(&txn), 0);
	assert_int_equal(ops_group_delete_check(fx->st, fx->cfg, "old", addr,
	    sizeof(addr), &r), 0);
	assert_string_equal(addr, "111-222-333.example.net.");
	assert_int_equal(ops_group_delete(fx->st, fx->cfg, "old", addr, T0,
	    &r), 0);
	assert_true(addr_state(fx, "111-222-333", &a));
	assert_int_equal(a.state, STORE_ADDR_TOMBSTONE);
	assert_string_equal(a.group, "old");
	assert_int_equal(store_txn_begin(fx->st, false, &txn), 0);
	assert_false(store_group_get(&txn, "old", &blob, &len));
	assert_int_equal(store_history_last(&txn), 2);
	store_txn_abort(&txn);
	assert_false(flags_of(fx, "old").paused);
	/* The tombstone is forever: the label is never handed out again. */
	a.state = STORE_ADDR_ALLOCATED;
	assert_int_equal(store_txn_begin(fx->st, true, &txn), 0);
	assert_int_equal(store_addr_put(&txn, "111-222-333", &a),
	    STORE_E_EXISTS);
	store_txn_abort(&txn);
	/* Gone from the store: a second delete finds nothing. */
	assert_int_equal(ops_group_delete_check(fx->st, fx->cfg, "old", addr,
	    sizeof(addr), &r), 1);
}

/* The text of the groups made at run time, as the store holds it. */
static char *
groups_text(struct fx *fx)
{
	struct store_txn txn;
	const void *v;
	size_t len;
	char *s = NULL;

	assert_int_equal(store_txn_begin(fx->st, false, &txn), 0);
	if (store_meta_get(&txn, OPS_GROUPS_META, &v, &len)) {
		s = calloc(1, len + 1);
		assert_non_null(s);
		memcpy(s, v, len);
	}
	store_txn_abort(&txn);
	return s != NULL ? s : strdup("");
}

static void
test_groups_runtime(void **state)
{
	struct fx *fx = *state;
	struct ops_group_spec sp = { .name = "shop", .primary = "app3",
	    .actor = "uid:test" };
	struct ops_reply r;
	struct config *cfg = NULL;
	char err[512], addr[300], *before;
	uint64_t gen0, gen1;
	json_t *def;

	assert_int_equal(store_generation(fx->st, &gen0, err, sizeof(err)), 0);
	assert_int_equal(ops_group_add(fx->st, fx->cfg, &sp, T0, &r), 0);
	assert_string_equal(r.message, "shop: added (primary app3, backup"
	    " none, ttl 60s)");
	before = groups_text(fx);
	assert_string_equal(before, "[group shop]\naddress = auto\n"
	    "primary = app3\n\n");
	assert_int_equal(store_generation(fx->st, &gen1, err, sizeof(err)), 0);
	assert_true(gen1 > gen0);
	assert_int_equal(ops_groups_config(fx->st, fx->cfg, &cfg, err,
	    sizeof(err)), 0);
	assert_int_equal(cfg->ngroup, fx->cfg->ngroup + 1);
	def = ops_group_definition(cfg, "shop");
	assert_non_null(def);
	assert_string_equal(json_string_value(json_object_get(def, "origin")),
	    "runtime");
	assert_true(json_is_null(json_object_get(def, "backup")));
	json_decref(def);

	/* Refusals write nothing. */
	sp.name = "www";
	assert_int_equal(ops_group_add(fx->st, fx->cfg, &sp, T0, &r), 1);
	assert_int_equal(r.outcome, OPS_REFUSED);
	assert_string_equal(r.reason, "in_config");
	sp.name = "bad";
	sp.primary = "app9";
	assert_int_equal(ops_group_add(fx->st, fx->cfg, &sp, T0, &r), 1);
	assert_int_equal(r.outcome, OPS_BAD_REQUEST);
	assert_non_null(strstr(r.message, "run-time group bad: primary: no"
	    " [stack app9] is defined"));
	sp.primary = "app1\nbackup";
	assert_int_equal(ops_group_add(fx->st, fx->cfg, &sp, T0, &r), 1);
	assert_string_equal(r.reason, "bad_stack");
	sp.primary = "app1";
	sp.address = "www";
	assert_int_equal(ops_group_add(fx->st, fx->cfg, &sp, T0, &r), 1);
	assert_non_null(strstr(r.message, "already the address of group www"));
	{
		char *now = groups_text(fx);

		assert_string_equal(now, before);
		free(now);
	}

	/* set: the backup later; the file's groups are read-only. */
	memset(&sp, 0, sizeof(sp));
	sp.name = "shop";
	sp.backup = "app4";
	sp.set_backup = true;
	assert_int_equal(ops_group_set(fx->st, cfg, &sp, T0, &r), 0);
	free(before);
	before = groups_text(fx);
	assert_string_equal(before, "[group shop]\naddress = auto\n"
	    "primary = app3\nbackup = app4\nttl = 60s\n\n");
	sp.name = "www";
	assert_int_equal(ops_group_set(fx->st, cfg, &sp, T0, &r), 1);
	assert_string_equal(r.reason, "in_config");
	sp.name = "nope";
	assert_int_equal(ops_group_set(fx->st, cfg, &sp, T0, &r), 1);
	assert_int_equal(r.outcome, OPS_UNKNOWN);

	/* delete: refused while it points at a stack. */
	config_free(cfg);
	assert_int_equal(ops_groups_config(fx->st, fx->cfg, &cfg, err,
	    sizeof(err)), 0);
	assert_int_equal(ops_group_remove(fx->st, cfg, "shop", false, NULL, T0,
	    addr, sizeof(addr), &r), 1);
	assert_string_equal(r.reason, "has_stacks");
	assert_string_equal(r.message, "shop: the group points at app3 and"
	    " app4: set it to no primary and no backup first");
	assert_int_equal(ops_group_remove(fx->st, cfg, "www", false, NULL, T0,
	    addr, sizeof(addr), &r), 1);
	assert_string_equal(r.reason, "in_config");
	memset(&sp, 0, sizeof(sp));
	sp.name = "shop";
	sp.set_primary = sp.set_backup = true;
	assert_int_equal(ops_group_set(fx->st, cfg, &sp, T0, &r), 0);
	/* Never allocated (no daemon ran): nothing to tombstone. */
	assert_int_equal(ops_group_remove(fx->st, cfg, "shop", false, NULL, T0,
	    addr, sizeof(addr), &r), 0);
	free(before);
	before = groups_text(fx);
	assert_string_equal(before, "");
	config_free(cfg);
	assert_int_equal(ops_groups_config(fx->st, fx->cfg, &cfg, err,
	    sizeof(err)), 0);
	assert_null(config_group_find(cfg, "shop"));
	config_free(cfg);
	free(before);
}

/* In a cluster the leader makes them as alone (kept in etcd by the shell). */
static void
test_groups_cluster(void **state)
{
	struct fx *fx = *state;
	struct ops_group_spec sp = { .name = "shop", .primary = "app3" };
	struct config_errors errs = { 0 };
	struct config *cfg = NULL;
	struct ops_reply r;
	char path[160];
	FILE *f;

	snprintf(path, sizeof(path), "%s/cluster.conf", fx->tmp);
	assert_non_null(f = fopen(path, "w"));
	fprintf(f, "[controller]\nstate_dir = %s/state\nlisten = off\n"
	    "[cluster]\netcd = http://127.0.0.1:2379\nmember = m1\n"
	    "[dns]\nserver = 127.0.0.1:53\nzone = example.net\n"
	    "key_file = hmac-sha256:k:c2VjcmV0c2VjcmV0c2VjcmV0\n"
	    "[stack app3]\nweb_head = app3.example.net\n"
	    "health_url = http://127.0.0.1:3/health\n", fx->tmp);
	fclose(f);
	chmod(path, 0600);
	if (config_load(path, &cfg, &errs) != 0) {
		for (size_t i = 0; i < errs.n; i++)
			fprintf(stderr, "%s\n", errs.msg[i]);
		fail();
	}
	/* The leader applies them as alone; the others never call these
	 * (they give the change to the leader, ops_remote.h). */
	assert_int_equal(ops_group_add(fx->st, cfg, &sp, T0, &r), 0);
	sp.set_ttl = true;
	sp.ttl = "30s";
	assert_int_equal(ops_group_set(fx->st, cfg, &sp, T0, &r), 0);
	config_free(cfg);
}

static void
test_names(void **state)
{
	(void)state;
	for (int v = OPS_PAUSE; v <= OPS_SWITCH; v++)
		assert_int_equal(ops_verb_parse(ops_verb_name(
		    (enum ops_verb)v)), v);
	assert_int_equal(ops_verb_parse("frob"), -1);
	assert_null(ops_verb_name((enum ops_verb)99));
	assert_string_equal(ops_strerror(OPS_E_NOTFOUND), "not found");
}

/*
 * A command given to a cluster member and the leader's answer, as they
 * are written to etcd (ops_remote.h): each field read back; pause --all
 * keeps its null group; a record of another version, or not a record, is
 * refused.
 */
static void
test_remote_records(void **state)
{
	struct ops_request req = { .verb = OPS_PIN, .group = "www",
	    .stack = "app1", .force = true, .actor = "uid:root" };
	struct ops_reply rp = { 0 };
	struct ops_remote_cmd cmd;
	char *v = NULL, *a = NULL, *t = NULL, *t2 = NULL;

	(void)state;
	assert_int_equal(ops_remote_cmd_build(&req, "ctl-b", 1234, &v), 0);
	assert_int_equal(ops_remote_cmd_parse(v, strlen(v), &cmd), 0);
	assert_int_equal(cmd.req.verb, OPS_PIN);
	assert_string_equal(cmd.req.group, "www");
	assert_string_equal(cmd.req.stack, "app1");
	assert_string_equal(cmd.req.actor, "uid:root");
	assert_true(cmd.req.force);
	assert_string_equal(cmd.member, "ctl-b");
	assert_int_equal(cmd.ms, 1234);
	assert_false(cmd.answered);
	assert_false(cmd.taken);

	/* Taken: still the command, not answered; taken again by another
	 * leader, the mark is that leader's. */
	assert_int_equal(ops_remote_taken_build(v, strlen(v), "ctl-a", 41,
	    &t), 0);
	assert_int_equal(ops_remote_cmd_parse(t, strlen(t), &cmd), 0);
	assert_true(cmd.taken);
	assert_false(cmd.answered);
	assert_string_equal(cmd.taken_by, "ctl-a");
	assert_int_equal(cmd.taken_epoch, 41);
	assert_string_equal(cmd.req.stack, "app1");
	assert_int_equal(ops_remote_taken_build(t, strlen(t), "ctl-c", 44,
	    &t2), 0);
	assert_int_equal(ops_remote_cmd_parse(t2, strlen(t2), &cmd), 0);
	assert_string_equal(cmd.taken_by, "ctl-c");
	assert_int_equal(cmd.taken_epoch, 44);
	free(t);
	free(t2);

	rp.code = 1;
	rp.outcome = OPS_REFUSED;
	snprintf(rp.reason, sizeof(rp.reason), "target_not_up");
	snprintf(rp.message, sizeof(rp.message), "www: app1 is not up");
	rp.history_seq = 17;
	assert_int_equal(ops_remote_answer_build(v, strlen(v), &rp, "ctl-a",
	    42, &a), 0);
	assert_int_equal(ops_remote_cmd_parse(a, strlen(a), &cmd), 0);
	assert_true(cmd.answered);
	assert_int_equal(cmd.reply.code, 1);
	assert_int_equal(cmd.reply.outcome, OPS_REFUSED);
	assert_string_equal(cmd.reply.reason, "target_not_up");
	assert_string_equal(cmd.reply.message, "www: app1 is not up");
	assert_int_equal(cmd.reply.history_seq, 17);
	assert_string_equal(cmd.leader, "ctl-a");
	assert_int_equal(cmd.epoch, 42);
	/* The command is still the command. */
	assert_int_equal(cmd.req.verb, OPS_PIN);
	assert_string_equal(cmd.req.stack, "app1");
	free(v);
	free(a);

	req.verb = OPS_PAUSE;
	req.group = NULL;
	req.stack = NULL;
	assert_int_equal(ops_remote_cmd_build(&req, "ctl-c", 1, &v), 0);
	assert_int_equal(ops_remote_cmd_parse(v, strlen(v), &cmd), 0);
	assert_int_equal(cmd.req.verb, OPS_PAUSE);
	assert_null(cmd.req.group);
	assert_null(cmd.req.stack);
	free(v);

	v = "{\"v\":2,\"verb\":\"pause\"}";
	assert_int_equal(ops_remote_cmd_parse(v, strlen(v), &cmd), -1);
	v = "{\"v\":1,\"verb\":\"explode\"}";
	assert_int_equal(ops_remote_cmd_parse(v, strlen(v), &cmd), -1);
	v = "not json";
	assert_int_equal(ops_remote_cmd_parse(v, strlen(v), &cmd), -1);
}

/*
 * A precheck asked through the store (ops_precheck.h): the target is the
 * standby or one of the group's own stacks; the request carries a fresh
 * id, moves the generation, and is answered only by an answer with its id.
 */
static void
test_precheck_store(void **state)
{
	struct fx *fx = *state;
	struct ops_precheck_req req, got, req2;
	struct ops_reply r;
	struct store_txn txn;
	uint64_t g0, g1;
	char stack[64], err[256], done[OPS_PRECHECK_ID_LEN];
	json_t *ans = NULL, *a;

	assert_int_equal(ops_precheck_target(fx->st, fx->cfg, "www", NULL,
	    stack, sizeof(stack), &r), 0);
	assert_string_equal(stack, "app2");
	assert_int_equal(ops_precheck_target(fx->st, fx->cfg, "www", "app1",
	    stack, sizeof(stack), &r), 0);
	assert_string_equal(stack, "app1");
	assert_int_equal(ops_precheck_target(fx->st, fx->cfg, "www", "app3",
	    stack, sizeof(stack), &r), 1);
	assert_string_equal(r.reason, "not_in_group");
	assert_int_equal(ops_precheck_target(fx->st, fx->cfg, "www", "app9",
	    stack, sizeof(stack), &r), 1);
	assert_string_equal(r.reason, "unknown_stack");
	assert_int_equal(ops_precheck_target(fx->st, fx->cfg, "solo", NULL,
	    stack, sizeof(stack), &r), 1);
	assert_string_equal(r.reason, "no_standby");
	assert_int_equal(ops_precheck_target(fx->st, fx->cfg, "nosuch", NULL,
	    stack, sizeof(stack), &r), 1);

	assert_int_equal(store_generation(fx->st, &g0, err, sizeof(err)), 0);
	assert_int_equal(ops_precheck_request(fx->st, "www", "app2",
	    "uid:root", 1000, &req, &r), 0);
	assert_int_equal(strlen(req.id), 32);
	assert_int_equal(store_generation(fx->st, &g1, err, sizeof(err)), 0);
	assert_true(g1 > g0);
	assert_int_equal(ops_precheck_request(fx->st, "www", "app2",
	    "uid:root", 1000, &req2, &r), 0);
	assert_string_not_equal(req.id, req2.id);

	assert_int_equal(store_txn_begin(fx->st, false, &txn), 0);
	assert_true(ops_precheck_request_get(&txn, "www", &got));
	assert_string_equal(got.id, req2.id);
	assert_string_equal(got.stack, "app2");
	assert_string_equal(got.actor, "uid:root");
	assert_int_equal(got.ms, 1000);
	assert_false(ops_precheck_request_get(&txn, "solo", &got));
	ops_precheck_answered(&txn, "www", done, sizeof(done));
	assert_string_equal(done, "");
	store_txn_abort(&txn);

	/* Not answered yet; then answered, but for another id. */
	assert_int_equal(ops_precheck_answer_get(fx->st, "www", req2.id, &ans,
	    err, sizeof(err)), 1);
	a = json_pack("{s:s, s:s}", "id", req.id, "verdict", "ok");
	assert_int_equal(store_txn_begin(fx->st, true, &txn), 0);
	assert_int_equal(ops_precheck_answer_put(&txn, "www", a), 0);
	assert_int_equal(store_txn_commit(&txn), 0);
	json_decref(a);
	assert_int_equal(ops_precheck_answer_get(fx->st, "www", req2.id, &ans,
	    err, sizeof(err)), 1);
	assert_int_equal(ops_precheck_answer_get(fx->st, "www", req.id, &ans,
	    err, sizeof(err)), 0);
	assert_string_equal(json_string_value(json_object_get(ans,
	    "verdict")), "ok");
	json_decref(ans);
}

/* How a precheck says its replication lag (ops_precheck.h). */
static void
test_precheck_lag(void **state)
{
	int64_t v = -1;

	(void)state;
	assert_true(ops_precheck_lag("replication_lag_ms=120", "replication_lag_ms", &v));
	assert_int_equal(v, 120);
	assert_true(ops_precheck_lag("lag ok replication_lag_ms=5 (max 10)",
	    "replication_lag_ms", &v));
	assert_int_equal(v, 5);
	/* The last word wins. */
	assert_true(ops_precheck_lag("replication_lag_ms=1 replication_lag_ms=2",
	    "replication_lag_ms", &v));
	assert_int_equal(v, 2);
	v = -1;
	/* Not a word of its own, not a whole number, another key. */
	assert_false(ops_precheck_lag("xreplication_lag_ms=3", "replication_lag_ms", &v));
	assert_false(ops_precheck_lag("replication_lag_ms=3s", "replication_lag_ms", &v));
	assert_false(ops_precheck_lag("replication_lag_ms=-3", "replication_lag_ms", &v));
	assert_false(ops_precheck_lag("replication_lag_ms=", "replication_lag_ms", &v));
	assert_false(ops_precheck_lag("replication_lag_msx=3", "replication_lag_ms", &v));
	assert_false(ops_precheck_lag("replication_lag_bytes=3", "replication_lag_ms", &v));
	assert_int_equal(v, -1);
	assert_true(ops_precheck_lag("replay lag replication_lag_bytes=16777216 (max 1)",
	    "replication_lag_bytes", &v));
	assert_int_equal(v, 16777216);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_pause_resume, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_actor_and_cancel, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_unknown_and_bad, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_pin, setup, teardown),
		cmocka_unit_test_setup_teardown(test_switch_target_not_up,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_switch_rules, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_switch_plan, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_switch_plan_json, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_rearm, setup, teardown),
		cmocka_unit_test_setup_teardown(test_status, setup, teardown),
		cmocka_unit_test_setup_teardown(test_status_switching, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_failover_status, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_events, setup, teardown),
		cmocka_unit_test_setup_teardown(test_history_seq, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_group_delete, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_groups_runtime, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_groups_cluster, setup,
		    teardown),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_remote_records),
		cmocka_unit_test(test_precheck_lag),
		cmocka_unit_test_setup_teardown(test_precheck_store, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
