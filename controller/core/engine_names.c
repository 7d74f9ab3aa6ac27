/*
 * engine_names.c - the engine's vocabulary: the names of its statuses,
 * phases, gates, refusals, commands and levels, as they appear in logs,
 * the API, the history and DESIGN.md, and their parsers.  A table's order
 * is its enum's (engine.h).
 */
#include "controller/core/engine.h"
#include "controller/core/engine_int.h"

#include <string.h>

static const char *const status_names[] = {
	"reserved", "serving", "switching", "failed", "wait_rearm",
};
static const char *const phase_names[] = {
	"maintenance_on", "replication_off", "promote", "maintenance_off",
	"dns", "done", "restore",
};
static const char *const gate_names[] = {
	"none", "failed", "wait_rearm", "auto_failover_off", "paused",
	"pinned", "witness_down", "witness_unknown", "isolated",
	"no_standby", "standby_not_up", "standby_suspect", "hold_down",
	"precheck_pending",
	"precheck_failed", "dns_unusable", "no_quorum",
};
static const char *const refusal_names[] = {
	"ok", "no_stacks", "not_in_group", "no_standby", "already_active",
	"switch_running", "target_not_up", "pinned", "nothing_to_rearm",
	"expired", "stopping", "dns_unusable",
};
static const char *const refusal_strs[] = {
	"accepted",
	"the group has no stacks",
	"the stack is not one of the group's stacks",
	"the group has no standby stack to switch to",
	"the target is already the active stack",
	"a switch is already running for this group",
	"the target stack is not up (use --force to switch anyway)",
	"the group is pinned to another stack (unpin, or use --force)",
	"the group is not waiting for rearm and has not failed",
	"the request is older than request_ttl",
	"failoverd is stopping",
	"the group's DNS is unusable: the server refused the last UPDATE or"
	    " ownership check, so the flip would not finish (use --force to"
	    " switch anyway)",
};
static const char *const cmd_names[] = {
	"pause", "resume", "pin", "unpin", "rearm", "switch",
};
static const char *const online_names[] = { "none", "online", "offline" };
static const char *const reason_names[] = { "auto", "manual" };
static const char *const why_names[] = { "publish", "flip", "ttl", "check" };
static const char *const timer_names[] = { "dns", "gate" };
static const char *const level_names[] = { "info", "warn", "error" };

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))
#define NAME(tab, i)	((size_t)(i) < NELEM(tab) ? (tab)[(i)] : "unknown")

const char *eng_status_name(enum eng_status s) { return NAME(status_names, s); }
const char *eng_phase_name(enum eng_phase p) { return NAME(phase_names, p); }
const char *eng_gate_name(enum eng_gate g) { return NAME(gate_names, g); }
const char *eng_refusal_name(int r) { return NAME(refusal_names, r); }
const char *eng_refusal_str(int r) { return NAME(refusal_strs, r); }
const char *eng_cmd_name(enum eng_cmd_kind k) { return NAME(cmd_names, k); }
const char *eng_online_name(enum eng_online o) { return NAME(online_names, o); }
const char *eng_reason_name(enum eng_reason r) { return NAME(reason_names, r); }
const char *eng_dns_why_name(enum eng_dns_why w) { return NAME(why_names, w); }
const char *eng_timer_name(enum eng_timer t) { return NAME(timer_names, t); }
const char *eng_level_name(enum eng_level l) { return NAME(level_names, l); }

static int
parse_name(const char *const *tab, size_t n, const char *s)
{
	if (s == NULL)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (strcmp(tab[i], s) == 0)
			return (int)i;
	return -1;
}

int eng_status_parse(const char *s) { return parse_name(status_names, NELEM(status_names), s); }
int eng_phase_parse(const char *s) { return parse_name(phase_names, NELEM(phase_names), s); }
int eng_gate_parse(const char *s) { return parse_name(gate_names, NELEM(gate_names), s); }
int eng_cmd_parse(const char *s) { return parse_name(cmd_names, NELEM(cmd_names), s); }
