/*
 * daemon_flags.c - the operators' override flags: what failoverctl and
 * the API wrote to the store (pause, pin, requests to switch and rearm),
 * polled and fed to the engines as commands, and the resume after a
 * start or a reload.
 */
#include "controller/shell/daemon_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <jansson.h>

#include "controller/base/log.h"

/* ---- override flags ---- */

static int
stack_by_name(const struct config *cfg, const char *name)
{
	return name[0] == '\0' ? ENG_NONE : config_stack_index(cfg, name);
}

static void
feed_cmd(struct dgroup *g, enum eng_cmd_kind kind, int stack, bool force,
    int64_t requested_ms, const char *actor)
{
	struct eng_event ev = { .kind = ENG_EV_CMD };

	ev.u.cmd.kind = kind;
	ev.u.cmd.stack = stack;
	ev.u.cmd.force = force;
	ev.u.cmd.requested_ms = requested_ms;
	snprintf(ev.u.cmd.actor, sizeof(ev.u.cmd.actor), "%s", actor);
	log_info("command", "group=%s cmd=%s stack=%s force=%d actor=%s",
	    log_q(g->d->cfg->groups[g->idx].name), eng_cmd_name(kind),
	    stack >= 0 ? log_q(g->d->cfg->stacks[stack].name) : "-", force,
	    actor[0] != '\0' ? log_q(actor) : "unknown");
	dgroup_feed(g, &ev);
}

/*
 * Take a group's requests out of the store: under the write lock, a
 * request still there (the switch: the same request id) is cleared and
 * reported taken.  A cancel (failoverctl switch --cancel) therefore either
 * came first, and the switch is not fed, or finds it gone.
 */
static int
requests_take(struct daemon *d, struct store_flags *fl, bool *take_rearm,
    bool *take_switch)
{
	struct store_txn txn;

	if (store_txn_begin(d->store, true, &txn) != 0)
		goto fail;
	for (size_t i = 0; i < d->cfg->ngroup; i++) {
		struct store_flags cur;
		bool changed = false;

		if (!take_rearm[i] && !take_switch[i])
			continue;
		store_flags_get(&txn, d->cfg->groups[i].name, &cur);
		if (take_rearm[i] && cur.rearm_requested) {
			cur.rearm_requested = false;
			fl[i].rearm_requested_ms = cur.rearm_requested_ms;
			memcpy(fl[i].rearm_actor, cur.rearm_actor,
			    sizeof(cur.rearm_actor));
			changed = true;
		} else
			take_rearm[i] = false;
		if (take_switch[i] && cur.switch_requested &&
		    cur.switch_request_id == fl[i].switch_request_id) {
			cur.switch_requested = false;
			changed = true;
		} else
			take_switch[i] = false;
		if (changed)
			store_flags_put(&txn, d->cfg->groups[i].name, &cur);
	}
	if (store_txn_commit(&txn) == 0)
		return 0;
fail:
	log_error("store_failed", "op=flags_take error=%s detail=%s",
	    store_errname(txn.err), log_q(txn.detail));
	return -1;
}

static bool
history_seen_cb(const struct store_event *ev, void *arg)
{
	json_t *j;

	(void)arg;
	if (strcmp(ev->event, "group_deleted") != 0)
		return true;
	j = json_loadb(ev->payload, ev->payload_len, 0, NULL);
	log_info("group_deleted", "group=%s address=%s tombstone=%s seq=%llu"
	    " by=failoverctl", log_q(ev->group),
	    log_q(json_string_value(json_object_get(j, "address"))),
	    log_q(json_string_value(json_object_get(j, "tombstone"))),
	    (unsigned long long)ev->seq);
	json_decref(j);
	return true;
}

/*
 * What another process recorded in the history that this log must show:
 * a group deleted by failoverctl (group delete writes the store, not to
 * the daemon).  Read from where the last poll stopped; the history before
 * the first poll is not replayed.
 */
void
daemon_history_seen(struct daemon *d, struct store_txn *txn)
{
	uint64_t last = store_history_last(txn);

	if (d->hist_primed && last > d->hist_seen)
		store_history_foreach(txn, d->hist_seen + 1, 0, NULL,
		    history_seen_cb, d);
	d->hist_seen = last;
	d->hist_primed = true;
}

/*
 * The flags are the operator's wishes; the engine's state is what is in
 * force.  Pause and pin are levels (apply the difference); rearm and switch
 * are requests, taken out of the store (requests_take) before they are
 * fed.  A request carries the time it was made and its actor: the engine
 * expires one older than request_ttl.
 */
void
daemon_flags_apply(struct daemon *d)
{
	struct store_txn txn;
	bool any = false;

	if (store_txn_begin(d->store, false, &txn) != 0) {
		log_error("store_failed", "op=flags error=%s detail=%s",
		    store_errname(txn.err), log_q(txn.detail));
		return;
	}
	size_t n = d->cfg->ngroup ? d->cfg->ngroup : 1;
	struct store_flags *fl = calloc(n, sizeof(*fl));
	bool *take_rearm = calloc(n, sizeof(bool));
	bool *take_switch = calloc(n, sizeof(bool));
	if (fl == NULL || take_rearm == NULL || take_switch == NULL) {
		store_txn_abort(&txn);
		goto out;
	}
	for (size_t i = 0; i < d->cfg->ngroup; i++)
		store_flags_get(&txn, d->cfg->groups[i].name, &fl[i]);
	daemon_history_seen(d, &txn);
	store_txn_abort(&txn);

	for (size_t i = 0; i < d->cfg->ngroup; i++) {
		struct dgroup *g = &d->groups[i];
		struct store_flags *f = &fl[i];
		int pin = stack_by_name(d->cfg, f->pinned);

		/*
		 * Not resumed yet: its flags are read when it is.  Held
		 * because its record moved: a rearm or switch request reads
		 * the record again (adopted there, wait_rearm) and is taken
		 * once the group resumed.
		 */
		if (g->waiting) {
			if (g->moved && (f->rearm_requested ||
			    f->switch_requested)) {
				g->moved = false;
				world_read(d, g);
			}
			continue;
		}
		if (f->paused != g->st.paused)
			feed_cmd(g, f->paused ? ENG_CMD_PAUSE : ENG_CMD_RESUME,
			    ENG_NONE, false, 0, f->actor);
		if (pin != g->st.pinned && !(f->pinned[0] != '\0' && pin < 0))
			feed_cmd(g, pin >= 0 ? ENG_CMD_PIN : ENG_CMD_UNPIN,
			    pin, false, 0, f->actor);
		take_rearm[i] = f->rearm_requested;
		if (f->switch_requested) {
			int to = stack_by_name(d->cfg, f->switch_to);
			int tgt = f->switch_to[0] != '\0' ? to : g->st.standby;
			int64_t age = clock_wall_ms() - f->switch_requested_ms;

			/*
			 * A switch requested while we were stopped comes
			 * before the first probes: wait until the target's
			 * health is known rather than refuse it as not up
			 * (but not past request_ttl: then it expires).
			 */
			if (!f->switch_force && tgt >= 0 &&
			    d->health[tgt].state == HEALTH_UNKNOWN &&
			    age <= d->cfg->controller.request_ttl_ms) {
				d->flags_deferred = true;
				continue;
			}
			take_switch[i] = true;
		}
		any = any || take_rearm[i] || take_switch[i];
	}
	if (!any)
		goto out;
	if (requests_take(d, fl, take_rearm, take_switch) != 0) {
		d->flags_deferred = true;	/* try again at the next poll */
		goto out;
	}
	for (size_t i = 0; i < d->cfg->ngroup; i++) {
		struct dgroup *g = &d->groups[i];
		struct store_flags *f = &fl[i];

		if (take_rearm[i])
			feed_cmd(g, ENG_CMD_REARM, ENG_NONE, false,
			    f->rearm_requested_ms, f->rearm_actor);
		if (!take_switch[i])
			continue;
		int to = stack_by_name(d->cfg, f->switch_to);

		if (f->switch_to[0] != '\0' && to < 0)
			log_warn("command_refused", "group=%s cmd=switch"
			    " reason=unknown_stack stack=%s actor=%s",
			    log_q(d->cfg->groups[i].name), log_q(f->switch_to),
			    log_q(f->switch_actor));
		else
			feed_cmd(g, ENG_CMD_SWITCH, to, f->switch_force,
			    f->switch_requested_ms, f->switch_actor);
	}
out:
	free(fl);
	free(take_rearm);
	free(take_switch);
}

/*
 * Resume the groups whose record was read: their pause and pin first (a
 * pause set while we were stopped holds from the first decision on),
 * then RESUME (an unfinished switch goes on), and only then the requests
 * (a switch requested while we were stopped is a new switch after the
 * resume, not fed to a state that has not resumed).
 */
void
daemon_resume_cb(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;
	struct store_txn txn;
	size_t n = d->cfg->ngroup ? d->cfg->ngroup : 1;
	struct store_flags *fl = calloc(n, sizeof(*fl));

	if (fl == NULL)
		fatal("out_of_memory", "where=resume");
	if (d->store != NULL) {
		if (store_txn_begin(d->store, false, &txn) != 0) {
			log_error("store_failed", "op=resume error=%s detail=%s",
			    store_errname(txn.err), log_q(txn.detail));
			free(fl);
			event_active(d->ev_resume, EV_TIMEOUT, 1);
			return;
		}
		for (size_t i = 0; i < d->cfg->ngroup; i++)
			if (d->groups[i].resume_pending)
				store_flags_get(&txn, d->cfg->groups[i].name,
				    &fl[i]);
		store_txn_abort(&txn);
	}
	for (size_t i = 0; i < d->cfg->ngroup; i++) {
		struct dgroup *g = &d->groups[i];
		struct eng_event ev = { .kind = ENG_EV_RESUME };
		struct store_flags *f = &fl[i];
		int pin = stack_by_name(d->cfg, f->pinned);

		if (!g->resume_pending)
			continue;
		g->resume_pending = false;
		g->waiting = false;
		if (d->store != NULL) {
			if (f->paused != g->st.paused)
				feed_cmd(g, f->paused ? ENG_CMD_PAUSE :
				    ENG_CMD_RESUME, ENG_NONE, false, 0,
				    f->actor);
			if (pin != g->st.pinned &&
			    !(f->pinned[0] != '\0' && pin < 0))
				feed_cmd(g, pin >= 0 ? ENG_CMD_PIN :
				    ENG_CMD_UNPIN, pin, false, 0, f->actor);
		}
		dgroup_feed(g, &ev);
	}
	free(fl);
	daemon_update_roles(d);
	d->flags_deferred = true;	/* the requests, at the next poll */
}
