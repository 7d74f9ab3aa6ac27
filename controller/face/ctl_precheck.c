/*
 * ctl_precheck.c - the precheck in failoverctl's switch plan: ask the
 * daemon (it owns the hooks), wait for its answer, print it.
 */
#include "controller/face/ctl_precheck.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "controller/face/ops.h"
#include "controller/face/ops_precheck.h"

#define CTL_PRECHECK_POLL_MS	100
/* The daemon's flags poll (at most 1 s) and the hook's kill grace. */
#define CTL_PRECHECK_SLACK_MS	(1000 + 5000 + 3000)

static int64_t
clock_ms(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
nap(int64_t ms)
{
	struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

int
ctl_precheck_ask(struct store *st, const struct config *cfg,
    const char *group, const char *to, bool daemon_running, json_t **out,
    char *stack, size_t stacklen, char *why, size_t whylen)
{
	struct ops_precheck_req req;
	struct ops_reply r;
	char actor[STORE_FLAG_NAME_MAX], err[256];
	int64_t until;
	int s;

	*out = NULL;
	stack[0] = '\0';
	if (ops_precheck_target(st, cfg, group, to, stack, stacklen,
	    &r) != 0) {
		snprintf(why, whylen, "%s", r.message);
		return 1;
	}
	s = config_stack_index(cfg, stack);
	if (cfg->stacks[s].precheck.argc == 0) {
		snprintf(why, whylen, "none configured");
		return 1;
	}
	if (!daemon_running) {
		snprintf(why, whylen, "not run: failoverd is not running (it"
		    " runs the hooks)");
		return 1;
	}
	ops_actor_self(actor, sizeof(actor));
	if (ops_precheck_request(st, group, stack, actor,
	    clock_ms(CLOCK_REALTIME), &req, &r) != 0) {
		snprintf(why, whylen, "not run: %s", r.message);
		return 1;
	}
	until = clock_ms(CLOCK_MONOTONIC) + cfg->stacks[s].hook_timeout_ms +
	    CTL_PRECHECK_SLACK_MS;
	for (;;) {
		int rc = ops_precheck_answer_get(st, group, req.id, out, err,
		    sizeof(err));

		if (rc == 0)
			return 0;
		if (rc < 0) {
			snprintf(why, whylen, "no answer: %s", err);
			return 1;
		}
		if (clock_ms(CLOCK_MONOTONIC) > until)
			break;
		nap(CTL_PRECHECK_POLL_MS);
	}
	snprintf(why, whylen, "no answer from failoverd within %lld s",
	    (long long)((cfg->stacks[s].hook_timeout_ms +
	    CTL_PRECHECK_SLACK_MS) / 1000));
	return 1;
}

bool
ctl_precheck_ok(const json_t *ans)
{
	const char *v = json_string_value(json_object_get(ans, "verdict"));

	return v != NULL && strcmp(v, "ok") == 0;
}

static const char *
str(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s != NULL ? s : "";
}

/* Why a precheck was not run, in words. */
static const char *
reason_text(const char *reason)
{
	static const struct { const char *name, *text; } t[] = {
		{ "switching", "a switch of the group is running" },
		{ "dry_run", "failoverd runs as --dry-run" },
		{ "not_leader", "this cluster member does not lead" },
		{ "not_ready", "the group's record is not read yet" },
		{ "busy", "another precheck of the group is running" },
		{ "no_precheck", "the stack has no precheck hook" },
		{ "stopping", "failoverd is stopping" },
		{ "switch_started", "a switch of the group started" },
		{ "unknown_stack", "failoverd does not know the stack" },
		{ "nostart", "the hook could not be started" },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (strcmp(t[i].name, reason) == 0)
			return t[i].text;
	return reason;
}

/* A hook's line for a terminal: no control characters. */
static void
line_print(FILE *f, const char *s)
{
	fputs("    > ", f);
	for (; *s != '\0'; s++)
		fputc((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s, f);
	fputc('\n', f);
}

void
ctl_precheck_print(FILE *f, const char *stack, const json_t *ans,
    const char *why)
{
	const json_t *ex, *lag_ms, *lag_b, *l;
	const char *v, *reason;
	size_t i;

	if (ans == NULL) {
		fprintf(f, "  precheck on %s: %s\n", stack[0] ? stack : "-",
		    why);
		return;
	}
	v = str(ans, "verdict");
	reason = str(ans, "reason");
	ex = json_object_get(ans, "exit");
	if (strcmp(v, "not_run") == 0) {
		fprintf(f, "  precheck on %s: not run (%s)\n", stack,
		    reason_text(reason));
		return;
	}
	fprintf(f, "  precheck on %s: %s", stack, strcmp(v, "ok") == 0 ? "ok" :
	    strcmp(v, "failed") == 0 ? "FAILED" : strcmp(v, "timeout") == 0 ?
	    "TIMED OUT" : v);
	if (json_is_integer(ex))
		fprintf(f, " (exit %" JSON_INTEGER_FORMAT ", %" JSON_INTEGER_FORMAT
		    " ms)", json_integer_value(ex),
		    json_integer_value(json_object_get(ans, "duration_ms")));
	if (reason[0] != '\0')
		fprintf(f, " (%s)", reason_text(reason));
	if (strcmp(v, "ok") != 0 && strcmp(v, "cancelled") != 0)
		fprintf(f, ": an automatic failover would be held; a manual"
		    " switch does not wait for it");
	fputc('\n', f);
	json_array_foreach(json_object_get(ans, "lines"), i, l)
		line_print(f, json_string_value(l) ? json_string_value(l) : "");
	lag_ms = json_object_get(ans, "replication_lag_ms");
	lag_b = json_object_get(ans, "replication_lag_bytes");
	if (json_is_integer(lag_ms) || json_is_integer(lag_b)) {
		fprintf(f, "  replication lag on %s:", stack);
		if (json_is_integer(lag_ms))
			fprintf(f, " %" JSON_INTEGER_FORMAT " ms",
			    json_integer_value(lag_ms));
		if (json_is_integer(lag_b))
			fprintf(f, "%s %" JSON_INTEGER_FORMAT " bytes",
			    json_is_integer(lag_ms) ? "," : "",
			    json_integer_value(lag_b));
		fputc('\n', f);
	} else
		fprintf(f, "  replication lag on %s: not reported by the"
		    " precheck\n", stack);
}
