/*
 * daemon_cluster_rt.c - the groups made at run time in a cluster
 * (DESIGN.md: "Groups created at run time live in the state (in etcd in
 * a cluster)").
 *
 * One key, PREFIX/runtime, holds what each member's store keeps as the
 * meta record groups.runtime (face/ops_group.h: the text of the [group]
 * sections) and the address each of them with address = auto was given,
 * so that every member names it alike:
 *
 *   {"v":1,"text":"[group shop]\naddress = auto\n...",
 *    "addresses":{"shop":"123-456-789"}}
 *
 * Only the acting leader changes them: a change given to another member
 * is carried to it as a command (daemon_cluster_cmd.c), applied to its
 * store as alone (ops_group.c), taken in (daemon_groups_sync), and
 * written to etcd with the command's answer, fenced on its leader key
 * (dclrt_value); a change of another origin is published here, in the
 * same queue (dclcmd_put).  Every member reads the key
 * when it joins and watches it; a member that does not act takes a new
 * value into its store (the text, the allocations, the generation
 * bumped) and in force, as a group added by failoverctl on a controller
 * alone is.  A member that begins to act and finds no value publishes
 * its own groups (a cluster made from a controller that had some).
 */
#include "controller/shell/daemon_cluster_rt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cluster/cl.h"
#include "cluster/cl_election.h"
#include "cluster/cl_schema.h"
#include "controller/base/log.h"
#include "controller/face/ops_group.h"
#include "controller/shell/daemon_cluster_cmd.h"
#include "controller/shell/daemon_int.h"

#define RT_V	1

static struct {
	struct daemon		*d;
	struct dclcmd_member	 m;
	bool			 open;
	char			 key[CL_KEY_MAX];
	struct cl_watch		*w;
	struct cl_req		*rq;
	bool			 known;		/* etcd read at least once */
	char			*text;		/* etcd's, NULL: none there */
} R;

static void	 read_start(void);

struct addr_arg {
	const struct config	*cfg;
	json_t			*o;
};

static bool
addr_cb(const char *addr, const struct store_addr *a, void *arg)
{
	struct addr_arg *x = arg;
	const struct cfg_group *g;

	if (a->state == STORE_ADDR_ALLOCATED &&
	    (g = config_group_find(x->cfg, a->group)) != NULL && g->runtime)
		json_object_set_new(x->o, a->group, json_string(addr));
	return true;
}

int
dclrt_value(struct daemon *d, const char **key, char **out)
{
	struct store_txn txn;
	struct addr_arg x = { d->cfg, json_object() };
	json_t *v = NULL;
	const char *text = d->rt_text != NULL ? d->rt_text : "";

	*out = NULL;
	*key = R.key;
	if (!R.open || d->store == NULL || x.o == NULL) {
		json_decref(x.o);
		return -1;
	}
	if (store_txn_begin(d->store, false, &txn) == 0) {
		store_addr_foreach(&txn, addr_cb, &x);
		store_txn_abort(&txn);
	}
	v = json_pack("{s:i, s:s, s:O}", "v", RT_V, "text", text, "addresses",
	    x.o);
	if (v != NULL)
		*out = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(x.o);
	json_decref(v);
	return *out != NULL ? 0 : -1;
}

/* The acting leader's groups into etcd (when they differ from etcd's). */
static void
publish(void)
{
	struct daemon *d = R.d;
	const char *key;
	char *s = NULL;
	const char *text = d->rt_text != NULL ? d->rt_text : "";
	int rc;

	if (!R.open || !R.known || !daemon_may_act(d) || d->store == NULL ||
	    (R.text != NULL && strcmp(R.text, text) == 0) ||
	    (R.text == NULL && text[0] == '\0'))
		return;
	if (dclrt_value(d, &key, &s) != 0)
		return;
	/* In order with the answers that write it too. */
	if ((rc = dclcmd_put(d, key, s)) < 0)
		log_warn("cluster_request_failed", "op=runtime_groups");
	else if (rc == 0)
		log_info("cluster_groups_published", "member=%s bytes=%zu",
		    log_q(R.m.member), strlen(text));
}

/* etcd's groups into our store and in force (a member that does not act). */
static void
adopt(const char *val, size_t len)
{
	struct daemon *d = R.d;
	struct store_txn txn;
	json_t *j, *as, *a;
	const char *text, *group;

	if ((j = json_loadb(val, len, 0, NULL)) == NULL ||
	    json_integer_value(json_object_get(j, "v")) != RT_V ||
	    (text = json_string_value(json_object_get(j, "text"))) == NULL) {
		log_warn("cluster_groups_unreadable", "member=%s",
		    log_q(R.m.member));
		json_decref(j);
		return;
	}
	free(R.text);
	R.text = strdup(text);
	if (d->cl_acting || d->store == NULL || (d->rt_text != NULL &&
	    strcmp(d->rt_text, text) == 0)) {
		json_decref(j);
		return;
	}
	if (store_txn_begin(d->store, true, &txn) != 0)
		goto fail;
	store_meta_put(&txn, OPS_GROUPS_META, text, strlen(text));
	as = json_object_get(j, "addresses");
	json_object_foreach(as, group, a) {
		struct store_addr sa = { 0 }, cur;
		const char *label = json_string_value(a);

		if (label == NULL || store_addr_get(&txn, label, &cur))
			continue;
		sa.state = STORE_ADDR_ALLOCATED;
		sa.time_ms = clock_wall_ms();
		snprintf(sa.group, sizeof(sa.group), "%s", group);
		store_addr_put(&txn, label, &sa);
	}
	store_generation_bump(&txn);
	if (store_txn_commit(&txn) != 0)
		goto fail;
	log_info("cluster_groups_adopted", "member=%s bytes=%zu",
	    log_q(R.m.member), strlen(text));
	json_decref(j);		/* text was its */
	daemon_groups_sync(d);
	return;
fail:
	json_decref(j);
	log_warn("store_failed", "op=runtime_groups error=%s detail=%s",
	    store_errname(txn.err), log_q(txn.detail));
}

static void
watch_cb(struct cl_watch *w, const struct cl_watch_result *r, void *arg)
{
	if (r->error == CL_E_COMPACTED) {
		cl_watch_stop(w);
		R.w = NULL;
		read_start();
		return;
	}
	for (size_t i = 0; i < r->nevents; i++) {
		if (r->events[i].type == CL_EV_PUT)
			adopt(r->events[i].kv.value, r->events[i].kv.value_len);
		else {
			free(R.text);
			R.text = NULL;
		}
	}
}

static void
read_cb(const struct cl_reply *r, void *arg)
{
	struct cl_watch_spec ws = { 0 };

	R.rq = NULL;
	if (!R.open)
		return;
	if (r->error != 0) {
		/* Read again at the member's next tick (dclrt_tick). */
		log_warn("cluster_request_failed", "op=runtime_groups_read"
		    " error=%s detail=%s", cl_error_name(r->error),
		    log_q(r->detail));
		return;
	}
	R.known = true;
	if (r->r.op.nkvs == 1)
		adopt(r->r.op.kvs[0].value, r->r.op.kvs[0].value_len);
	else {
		free(R.text);
		R.text = NULL;
	}
	ws.key = R.key;
	ws.start_revision = r->r.header.revision + 1;
	if (R.w == NULL && cl_watch_start(R.m.client, &ws, watch_cb, NULL,
	    &R.w) != 0) {
		R.w = NULL;
		log_warn("cluster_request_failed", "op=runtime_groups_watch");
	}
	if (R.d->cl_acting)
		publish();
}

static void
read_start(void)
{
	struct cl_op op = { 0 };

	if (R.rq != NULL)
		return;
	op.kind = CL_OP_RANGE;
	op.key = R.key;
	if (cl_range(R.m.client, &op, read_cb, NULL, &R.rq) != 0)
		R.rq = NULL;
}

void
dclrt_open(struct daemon *d, const struct dclcmd_member *m)
{
	R.d = d;
	R.m = *m;
	if (cl_key_build(m->prefix, CL_KEY_RUNTIME, NULL, NULL, R.key,
	    sizeof(R.key)) < 0)
		return;
	R.open = true;
	read_start();
}

void
dclrt_lead(struct daemon *d)
{
	if (!R.open)
		return;
	if (!R.known) {
		read_start();	/* publishes, if need be, once read */
		return;
	}
	publish();
}

void
dclrt_tick(struct daemon *d)
{
	if (R.open && !R.known)
		read_start();
}

void
dclrt_changed(struct daemon *d)
{
	if (R.open && d->cl_acting)
		publish();
}

void
dclrt_close(struct daemon *d)
{
	R.open = false;
	cl_cancel(R.rq);
	R.rq = NULL;
	cl_watch_stop(R.w);
	R.w = NULL;
	free(R.text);
	R.text = NULL;
	R.known = false;
}
