/*
 * engine_plan.c - what a manual switch would do, before it is asked for:
 * the refusal it would meet, each phase's stack and hook argv, the DNS
 * change and the restore on abort (failoverctl switch, POST .../plan).
 * Pure, like the engine: it reads the group and the world, changes
 * nothing.
 */
#include "controller/core/engine.h"
#include "controller/core/engine_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void
eng_switch_plan(const struct eng_group *g, const struct eng_world *w,
    const struct eng_cmd *cmd, struct eng_plan *p)
{
	struct eng_cmd sc = *cmd;
	int to = ENG_NONE;

	memset(p, 0, sizeof(*p));
	sc.kind = ENG_CMD_SWITCH;
	p->refusal = eng_cmd_check(g, w, &sc);
	(void)ei_target_of(g, &sc, &to);
	p->from = g->active;
	p->to = to;
	p->force = sc.force;
	p->ttl = w->cfg->groups[g->group].ttl;
	for (int i = 0; i < ENG_NPHASE_HOOK; i++) {
		struct eng_switch sw = { .from = p->from, .to = p->to };

		p->step[i].phase = (enum eng_phase)i;
		p->step[i].stack = ei_phase_stack(&sw, (enum eng_phase)i);
		p->step[i].hook = ei_phase_hook(w->cfg, p->step[i].stack,
		    (enum eng_phase)i);
	}
	p->restore.phase = ENG_PH_RESTORE;
	p->restore.stack = p->from;
	p->restore_on = w->cfg->groups[g->group].restore_on_abort;
	p->restore.hook = ei_phase_hook(w->cfg, p->from, ENG_PH_RESTORE);
}

static size_t
append(char *buf, size_t len, size_t at, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static size_t
append(char *buf, size_t len, size_t at, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(at < len ? buf + at : NULL, at < len ? len - at : 0,
	    fmt, ap);
	va_end(ap);
	return at + (n > 0 ? (size_t)n : 0);
}

static size_t
append_webhead(char *buf, size_t len, size_t at, const struct config *cfg,
    int s)
{
	const struct cfg_webhead *wh;

	if (s < 0 || (size_t)s >= cfg->nstack)
		return append(buf, len, at, "(nothing)");
	wh = &cfg->stacks[s].web_head;
	if (wh->is_name)
		return append(buf, len, at, "CNAME %s",
		    wh->name != NULL ? wh->name : "-");
	for (size_t i = 0; i < wh->naddr; i++)
		at = append(buf, len, at, "%s%s", i ? " " : "", wh->addrs[i]);
	return at;
}

size_t
eng_plan_format(const struct eng_plan *p, const struct config *cfg,
    int group, char *buf, size_t len)
{
	const struct cfg_group *grp = &cfg->groups[group];
	size_t at = 0;

	if (len > 0)
		buf[0] = '\0';
	at = append(buf, len, at, "switch %s from %s to %s%s\n", grp->name,
	    ei_sname(cfg, p->from), ei_sname(cfg, p->to), p->force ? " (forced)" : "");
	if (p->refusal != ENG_OK)
		at = append(buf, len, at, "  refused: %s\n",
		    eng_refusal_str(p->refusal));
	for (int i = 0; i < ENG_NPHASE_HOOK; i++) {
		const struct eng_plan_step *st = &p->step[i];

		at = append(buf, len, at, "  %d. %s on %s: ", i + 1,
		    eng_phase_name(st->phase), ei_sname(cfg, st->stack));
		if (st->hook == NULL) {
			at = append(buf, len, at, "no hook, skipped\n");
			continue;
		}
		for (int j = 0; j < st->hook->argc; j++)
			at = append(buf, len, at, "%s%s", j ? " " : "",
			    st->hook->argv[j]);
		at = append(buf, len, at, "\n");
	}
	at = append(buf, len, at, "  5. dns: %s ", grp->address != NULL ?
	    grp->address : "(auto address)");
	at = append_webhead(buf, len, at, cfg, p->from);
	at = append(buf, len, at, " -> ");
	at = append_webhead(buf, len, at, cfg, p->to);
	at = append(buf, len, at, " ttl %us\n", p->ttl);
	/* What an abort after maintenance_on would do to the old stack. */
	if (p->step[0].hook == NULL)
		return at;
	at = append(buf, len, at, "  restore (if replication_off, promote or"
	    " maintenance_off fails): ");
	if (!p->restore_on)
		at = append(buf, len, at, "off, %s stays in maintenance"
		    " (restore_on_abort = no)\n", ei_sname(cfg, p->from));
	else if (p->restore.hook == NULL)
		at = append(buf, len, at, "no hook, %s stays in maintenance"
		    "\n", ei_sname(cfg, p->from));
	else {
		at = append(buf, len, at, "maintenance_off on %s: ",
		    ei_sname(cfg, p->from));
		for (int j = 0; j < p->restore.hook->argc; j++)
			at = append(buf, len, at, "%s%s", j ? " " : "",
			    p->restore.hook->argv[j]);
		at = append(buf, len, at, "\n");
	}
	return at;
}
