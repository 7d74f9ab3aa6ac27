/*
 * engine_cmd.c - the operators' commands in the engine: whether one may
 * act (eng_cmd_check, shared with the switch plan and the API's answer),
 * and what each does to a group's state (pause, resume, pin, unpin,
 * rearm, switch), with the records that say who asked.
 */
#include "controller/core/engine.h"
#include "controller/core/engine_int.h"

#include <string.h>

bool
ei_target_of(const struct eng_group *g, const struct eng_cmd *cmd, int *to)
{
	*to = cmd->stack == ENG_NONE ? g->standby : cmd->stack;
	return *to != ENG_NONE;
}

int
eng_cmd_check(const struct eng_group *g, const struct eng_world *w,
    const struct eng_cmd *cmd)
{
	int to;

	switch (cmd->kind) {
	case ENG_CMD_PAUSE:
	case ENG_CMD_RESUME:
	case ENG_CMD_UNPIN:
		return ENG_OK;
	case ENG_CMD_PIN:
		if (g->status == ENG_RESERVED)
			return ENG_REFUSE_NO_STACKS;
		if (!ei_in_group(g, cmd->stack))
			return ENG_REFUSE_NOT_IN_GROUP;
		return ENG_OK;
	case ENG_CMD_REARM:
		if (g->status == ENG_RESERVED)
			return ENG_REFUSE_NO_STACKS;
		if (g->status == ENG_SWITCHING)
			return ENG_REFUSE_SWITCH_RUNNING;
		if (g->status != ENG_WAIT_REARM && g->status != ENG_FAILED)
			return ENG_REFUSE_NOTHING_TO_REARM;
		return ENG_OK;
	case ENG_CMD_SWITCH:
		if (g->status == ENG_RESERVED)
			return ENG_REFUSE_NO_STACKS;
		if (g->status == ENG_SWITCHING)
			return ENG_REFUSE_SWITCH_RUNNING;
		if (!ei_target_of(g, cmd, &to))
			return ENG_REFUSE_NO_STANDBY;
		if (!ei_in_group(g, to))
			return ENG_REFUSE_NOT_IN_GROUP;
		if (to == g->active)
			return ENG_REFUSE_ALREADY_ACTIVE;
		if (g->pinned != ENG_NONE && g->pinned != to && !cmd->force)
			return ENG_REFUSE_PINNED;
		if (!cmd->force && eng_dns_unusable(g) != NULL)
			return ENG_REFUSE_DNS_UNUSABLE;
		if (!cmd->force && (w->health == NULL ||
		    w->health[to].state != HEALTH_UP))
			return ENG_REFUSE_TARGET_NOT_UP;
		return ENG_OK;
	}
	return ENG_E_INVAL;
}

/*
 * A request (switch, rearm) taken later than request_ttl after it was
 * made, or made "later" than request_ttl from now (the clock went back:
 * its age is unknown), is stale: nobody is waiting for it any more.
 */
static bool
request_expired(const struct ctx *c, const struct eng_cmd *cmd)
{
	int64_t ttl = c->cfg->controller.request_ttl_ms, age;

	if (cmd->requested_ms <= 0 || ttl <= 0 ||
	    (cmd->kind != ENG_CMD_SWITCH && cmd->kind != ENG_CMD_REARM))
		return false;
	age = c->now - cmd->requested_ms;
	return age > ttl || age < -ttl;
}

static void
actor_kv(struct eng_action *a, const struct eng_cmd *cmd)
{
	if (cmd->actor[0] != '\0')
		ei_kv(a, "actor", "%.*s", ENG_ACTOR_MAX - 1, cmd->actor);
}

/* The switch_started record of this step. */
static struct eng_action *
switch_record(struct ctx *c)
{
	for (size_t i = c->out->n; i-- > 0; )
		if (c->out->a[i].kind == ENG_ACT_RECORD &&
		    strcmp(c->out->a[i].u.rec.name, "switch_started") == 0)
			return &c->out->a[i];
	return NULL;
}

int
ei_on_cmd(struct ctx *c, const struct eng_cmd *cmd)
{
	struct eng_group *g = c->g;
	struct eng_action *a;
	int r, to;

	if (request_expired(c, cmd)) {
		int64_t age = c->now - cmd->requested_ms;

		a = ei_record(c, "request_expired", ENG_LVL_WARN);
		ei_kv(a, "cmd", "%s", eng_cmd_name(cmd->kind));
		if (cmd->stack != ENG_NONE)
			ei_kv(a, "stack", "%s", ei_sname(c->cfg, cmd->stack));
		ei_kv(a, "age_ms", "%lld", (long long)age);
		ei_kv(a, "request_ttl_ms", "%lld",
		    (long long)c->cfg->controller.request_ttl_ms);
		actor_kv(a, cmd);
		return ENG_REFUSE_EXPIRED;
	}
	r = eng_cmd_check(g, c->w, cmd);
	if (r == ENG_OK && cmd->kind == ENG_CMD_SWITCH && c->w->stopping)
		r = ENG_REFUSE_STOPPING;
	if (r != ENG_OK) {
		a = ei_record(c, "cmd_refused", ENG_LVL_WARN);
		ei_kv(a, "cmd", "%s", eng_cmd_name(cmd->kind));
		ei_kv(a, "reason", "%s", eng_refusal_name(r));
		if (r == ENG_REFUSE_DNS_UNUSABLE)
			ei_kv(a, "dns", "%s", g->dns_error);
		if (cmd->stack != ENG_NONE)
			ei_kv(a, "stack", "%s", ei_sname(c->cfg, cmd->stack));
		actor_kv(a, cmd);
		return r;
	}
	switch (cmd->kind) {
	case ENG_CMD_PAUSE:
		g->paused = true;
		actor_kv(ei_record(c, "paused", ENG_LVL_INFO), cmd);
		break;
	case ENG_CMD_RESUME:
		g->paused = false;
		if (g->status == ENG_FAILED) {
			a = ei_record(c, "failed_state_cleared", ENG_LVL_INFO);
			ei_kv(a, "by", "resume");
			actor_kv(a, cmd);
			g->status = ENG_SERVING;
		}
		actor_kv(ei_record(c, "resumed", ENG_LVL_INFO), cmd);
		break;
	case ENG_CMD_PIN:
		g->pinned = cmd->stack;
		a = ei_record(c, "pinned", ENG_LVL_INFO);
		ei_kv(a, "stack", "%s", ei_sname(c->cfg, cmd->stack));
		actor_kv(a, cmd);
		break;
	case ENG_CMD_UNPIN:
		g->pinned = ENG_NONE;
		actor_kv(ei_record(c, "unpinned", ENG_LVL_INFO), cmd);
		break;
	case ENG_CMD_REARM:
		if (g->status == ENG_FAILED) {
			a = ei_record(c, "failed_state_cleared", ENG_LVL_INFO);
			ei_kv(a, "by", "rearm");
		} else {
			a = ei_record(c, "rearmed", ENG_LVL_INFO);
			ei_kv(a, "active", "%s", ei_sname(c->cfg, g->active));
			ei_kv(a, "standby", "%s", ei_sname(c->cfg, g->standby));
		}
		actor_kv(a, cmd);
		g->status = ENG_SERVING;
		break;
	case ENG_CMD_SWITCH:
		if (g->status == ENG_FAILED) {
			a = ei_record(c, "failed_state_cleared", ENG_LVL_INFO);
			ei_kv(a, "by", "switch");
			actor_kv(a, cmd);
			g->status = ENG_SERVING;
		}
		(void)ei_target_of(g, cmd, &to);
		ei_start_switch(c, to, ENG_REASON_MANUAL, cmd->force);
		/* switch_started is the step's record just made. */
		if (c->out->n > 0)
			actor_kv(switch_record(c), cmd);
		break;
	}
	return ENG_OK;
}
