/*
 * daemon_cluster_state.c - the groups' state in etcd: read by a new
 * leader before it acts (with the flags the leaders before it left), the
 * followers' warm copy through a watch, and the group commit's fenced
 * write, which comes before the local LMDB commit and before any side
 * effect of the steps it carries.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "controller/base/log.h"
#include "controller/shell/daemon_cluster_int.h"
#include "controller/shell/daemon_cluster_val.h"

/*
 * Before acting, the groups' states as the leaders before us left them in
 * etcd (PREFIX/groups/NAME): the new leader resumes from them as a
 * restarted daemon resumes from its store.  No reply, no leading: tried
 * again at the next tick.
 */
static void
states_read_cb(const struct cl_reply *r, void *arg)
{
	struct dcluster *cl = arg;
	struct world_states ws = { 0 };
	const char **names = NULL, **blobs = NULL;
	size_t *lens = NULL, n = 0;
	char (*gname)[CL_NAME_MAX] = NULL;
	char detail[256];

	cl->states_busy = false;
	dcl_reply_seen(cl, r);
	if (r->error != 0) {
		log_warn("cluster_request_failed", "op=states error=%s detail=%s",
		    cl_error_name(r->error), log_q(r->detail));
		return;
	}
	if (!cl_election_is_leader(cl->el))
		return;
	if (r->r.op.nkvs > 0) {
		names = calloc(r->r.op.nkvs, sizeof(*names));
		blobs = calloc(r->r.op.nkvs, sizeof(*blobs));
		lens = calloc(r->r.op.nkvs, sizeof(*lens));
		gname = calloc(r->r.op.nkvs, sizeof(*gname));
		if (names == NULL || blobs == NULL || lens == NULL ||
		    gname == NULL)
			goto out;
	}
	for (size_t i = 0; i < r->r.op.nkvs; i++) {
		const struct cl_kv *kv = &r->r.op.kvs[i];
		struct cl_key k;

		if (cl_key_parse(cl->prefix, kv->key, kv->key_len, &k, detail,
		    sizeof(detail)) != 0 || k.kind != CL_KEY_GROUP)
			continue;
		snprintf(gname[n], sizeof(gname[n]), "%s", k.a);
		names[n] = gname[n];
		blobs[n] = kv->value;
		lens[n] = kv->value_len;
		n++;
	}
	ws.n = n;
	ws.names = names;
	ws.blobs = blobs;
	ws.lens = lens;
	dcl_adopt_flags(cl, &ws);
	dcl_act(cl, &ws);
out:
	free(names);
	free(blobs);
	free(lens);
	free(gname);
}

/*
 * The override flags and journal entries the leaders before us kept with
 * the states (daemon_cluster_val.c) into our store before we resume: a
 * pause or a pin given to the member that led then holds here too.
 */
void
dcl_adopt_flags(struct dcluster *cl, const struct world_states *ws)
{
	struct daemon *d = cl->d;
	struct store_txn txn;
	size_t k = 0;

	if (d->store == NULL || ws->n == 0)
		return;
	if (store_txn_begin(d->store, true, &txn) != 0)
		goto fail;
	for (size_t i = 0; i < ws->n; i++)
		if (config_group_find(d->cfg, ws->names[i]) != NULL &&
		    dclv_adopt(&txn, d->cfg, ws->names[i], ws->blobs[i],
		    ws->lens[i]))
			k++;
	if (store_txn_commit(&txn) == 0) {
		log_info("cluster_flags_adopted", "member=%s groups=%zu",
		    log_q(cl->member), k);
		return;
	}
fail:
	log_warn("store_failed", "op=adopt_flags error=%s detail=%s",
	    store_errname(txn.err), log_q(txn.detail));
}

void
dcl_load_states(struct dcluster *cl)
{
	struct cl_op op = { 0 };

	if (cl->states_busy)
		return;
	op.kind = CL_OP_RANGE;
	op.key = cl->k_groups;
	op.prefix = true;
	if (cl_range(cl->c, &op, states_read_cb, cl, NULL) == 0)
		cl->states_busy = true;
}

/*
 * The warm copy.  A follower mirrors the group states the leader writes
 * to etcd into its own store, so that its status, API and dashboard say
 * what the cluster does (within a watch's delay), not what it last did
 * itself: one read of PREFIX/groups/, then a watch from the revision
 * after (cluster/cl.h resumes it across endpoints; a compacted one is
 * read again).  The leader writes its store itself; a member whose
 * configuration differs copies nothing (the states are the leader's
 * configuration's).  The flags and journal entry kept with each state
 * (daemon_cluster_val.c) are copied too, so a follower shows the pause
 * or pin in force.
 */

static void
mirror_put(struct dcluster *cl, const struct cl_kv *kvs, size_t n,
    bool events, const struct cl_event *evs)
{
	struct daemon *d = cl->d;
	struct store_txn txn;
	char detail[256];
	size_t k = 0;

	if (d->store == NULL || d->cl_acting || !cl->eligible || n == 0)
		return;
	if (store_txn_begin(d->store, true, &txn) != 0) {
		log_warn("store_failed", "op=mirror error=%s detail=%s",
		    store_errname(txn.err), log_q(txn.detail));
		return;
	}
	for (size_t i = 0; i < n; i++) {
		const struct cl_kv *kv = events ? &evs[i].kv : &kvs[i];
		struct cl_key key;

		if (events && evs[i].type != CL_EV_PUT)
			continue;
		if (cl_key_parse(cl->prefix, kv->key, kv->key_len, &key, detail,
		    sizeof(detail)) != 0 || key.kind != CL_KEY_GROUP ||
		    config_group_find(d->cfg, key.a) == NULL)
			continue;
		store_group_put(&txn, key.a, kv->value, kv->value_len);
		(void)dclv_adopt(&txn, d->cfg, key.a, kv->value, kv->value_len);
		k++;
	}
	if (k == 0) {
		store_txn_abort(&txn);
		return;
	}
	if (store_txn_commit(&txn) != 0)
		log_warn("store_failed", "op=mirror error=%s detail=%s",
		    store_errname(txn.err), log_q(txn.detail));
	else
		log_debug("cluster_mirror", "groups=%zu", k);
}

static void
mirror_watch_cb(struct cl_watch *w, const struct cl_watch_result *r,
    void *arg)
{
	struct dcluster *cl = arg;

	if (r->error == CL_E_COMPACTED) {
		cl_watch_stop(w);
		cl->mirror = NULL;
		dcl_mirror_start(cl);
		return;
	}
	if (r->error != 0)
		return;		/* the client is making it again */
	mirror_put(cl, NULL, r->nevents, true, r->events);
}

static void
mirror_read_cb(const struct cl_reply *r, void *arg)
{
	struct dcluster *cl = arg;
	struct cl_watch_spec ws = { 0 };
	int rc;

	cl->mirror_busy = false;
	dcl_reply_seen(cl, r);
	if (r->error != 0)
		return;		/* again at the next tick */
	mirror_put(cl, r->r.op.kvs, r->r.op.nkvs, false, NULL);
	ws.key = cl->k_groups;
	ws.prefix = true;
	ws.start_revision = r->r.header.revision + 1;
	if ((rc = cl_watch_start(cl->c, &ws, mirror_watch_cb, cl,
	    &cl->mirror)) != 0)
		log_warn("cluster_request_failed", "op=watch error=%s",
		    cl_error_name(rc));
}

void
dcl_mirror_start(struct dcluster *cl)
{
	struct cl_op op = { 0 };

	if (cl->mirror != NULL || cl->mirror_busy || cl->d->store == NULL)
		return;
	op.kind = CL_OP_RANGE;
	op.key = cl->k_groups;
	op.prefix = true;
	if (cl_range(cl->c, &op, mirror_read_cb, cl, NULL) == 0)
		cl->mirror_busy = true;
}

/* ---- the group commit's etcd step (d->cl_write) ---- */

#define DCL_TXN_PUTS	64	/* etcd refuses more than 128 ops a txn */

/*
 * A batch goes to etcd as transactions of at most DCL_TXN_PUTS puts, all
 * sent at once: each is fenced on the leader key by itself, so their
 * order does not matter, and one after another a mass failover of 1,000
 * groups waited 16 round trips per phase.  The batch is written when all
 * are; the first that fails ends it (done, once) and the rest are only
 * waited for, since the request owns W until its callback.
 */
struct dcl_wr {
	struct dcluster	*cl;
	size_t		 n;
	size_t		 inflight;	/* transactions not answered yet */
	bool		 failed;	/* done() was told already */
	char		**keys;
	char		**vals;
	size_t		*lens;
	void		(*done)(struct daemon *, int, uint64_t);
	uint64_t	 gen;		/* the batch's, handed back */
	uint64_t	 epoch;		/* the leadership that wrote it */
};

static void
wr_free(struct dcl_wr *w)
{
	for (size_t i = 0; i < w->n; i++) {
		free(w->keys[i]);
		free(w->vals[i]);
	}
	free(w->keys);
	free(w->vals);
	free(w->lens);
	free(w);
}

/* etcd did not take a batch: this member stops leading. */
static void
wr_fail(struct dcl_wr *w, int err, const char *detail)
{
	struct dcluster *cl = w->cl;
	struct daemon *d = cl->d;
	bool ours = d->cl_acting && w->epoch == d->cl_epoch;

	log_error("cluster_write_failed", "member=%s epoch=%llu error=%s"
	    " detail=%s consequence=%s", log_q(cl->member),
	    (unsigned long long)w->epoch, cl_error_name(err),
	    log_q(detail != NULL ? detail : ""), log_q("the group states"
	    " could not be written: this member stops leading"));
	w->done(d, err, w->gen);
	/* A batch of an earlier leadership says nothing of this one. */
	if (!ours)
		return;
	dcl_step_down(cl, "write_failed");
	if (cl_election_state(cl->el) == CL_EL_LEADER) {
		(void)cl_election_resign(cl->el, NULL, NULL);
		if (cl->eligible && !d->stopping &&
		    cl_election_campaign(cl->el) != 0)
			log_warn("cluster_request_failed", "op=campaign");
	}
}

static void
wr_cb(const struct cl_reply *r, void *arg)
{
	struct dcl_wr *w = arg;

	w->inflight--;
	dcl_reply_seen(w->cl, r);
	if (!w->failed && (r->error != 0 || !r->r.succeeded)) {
		w->failed = true;
		wr_fail(w, r->error != 0 ? r->error : CL_E_FENCED, r->detail);
	}
	if (w->inflight > 0)
		return;
	if (!w->failed)
		w->done(w->cl->d, 0, w->gen);
	wr_free(w);
}

/* Send the puts from FROM on (at most DCL_TXN_PUTS) as one transaction. */
static int
wr_send(struct dcl_wr *w, size_t from)
{
	struct cl_op ops[DCL_TXN_PUTS];
	struct cl_txn t = { 0 };
	size_t k = 0;

	memset(ops, 0, sizeof(ops));
	for (size_t i = from; i < w->n && k < DCL_TXN_PUTS; i++, k++) {
		ops[k].kind = CL_OP_PUT;
		ops[k].key = w->keys[i];
		ops[k].value = w->vals[i];
		ops[k].value_len = w->lens[i];
	}
	t.success = ops;
	t.nsuccess = k;
	if (cl_election_txn(w->cl->el, &t, wr_cb, w, NULL) != 0)
		return -1;
	w->inflight++;
	return 0;
}

/*
 * Send every transaction of W.  -1 when none could be sent (W is the
 * caller's); else 0, and a failure after the first ends the batch once
 * the others are answered.
 */
static int
wr_send_all(struct dcl_wr *w)
{
	for (size_t from = 0; from < w->n; from += DCL_TXN_PUTS)
		if (wr_send(w, from) != 0) {
			if (w->inflight == 0)
				return -1;
			/* Those sent are answered: the batch fails then. */
			w->failed = true;
			wr_fail(w, CL_E_NOTLEADER, "not the leader");
			return 0;
		}
	return 0;
}

/*
 * Test switch: FAILOVERD_TEST_CLUSTER_WRITE_DELAY_MS=N holds each batch
 * N ms before it is sent, so that a test can kill a leader while its
 * states are on their way to etcd (the window an operator's answer must
 * not fall into, daemon_cluster_cmd.c).
 */
static void
wr_delayed_cb(evutil_socket_t fd, short what, void *arg)
{
	struct dcl_wr *w = arg;

	if (wr_send_all(w) != 0) {
		w->failed = true;
		wr_fail(w, CL_E_NOTLEADER, "not the leader");
		wr_free(w);
	}
}

int
dcl_write(struct daemon *d, const char *const *names, char *const *blobs,
    const size_t *lens, size_t n, void (*done)(struct daemon *, int,
    uint64_t), uint64_t gen)
{
	struct dcluster *cl = d->cluster;
	struct dcl_wr *w;
	char key[CL_KEY_MAX];

	if (cl == NULL || n == 0 || (w = calloc(1, sizeof(*w))) == NULL)
		return -1;
	w->cl = cl;
	w->done = done;
	w->gen = gen;
	w->epoch = d->cl_epoch;
	w->n = n;
	w->keys = calloc(n, sizeof(*w->keys));
	w->vals = calloc(n, sizeof(*w->vals));
	w->lens = calloc(n, sizeof(*w->lens));
	if (w->keys == NULL || w->vals == NULL || w->lens == NULL) {
		w->n = 0;
		goto fail;
	}
	for (size_t i = 0; i < n; i++) {
		if (cl_key_build(cl->prefix, CL_KEY_GROUP, names[i], NULL, key,
		    sizeof(key)) < 0 || (w->keys[i] = strdup(key)) == NULL ||
		    (w->vals[i] = malloc(lens[i] + 1)) == NULL)
			goto fail;
		memcpy(w->vals[i], blobs[i], lens[i]);
		w->vals[i][lens[i]] = '\0';
		w->lens[i] = lens[i];
	}
	if (cl->test_write_delay_ms > 0) {
		struct timeval tv = { cl->test_write_delay_ms / 1000,
		    (cl->test_write_delay_ms % 1000) * 1000 };

		if (event_base_once(d->base, -1, EV_TIMEOUT, wr_delayed_cb, w,
		    &tv) != 0)
			goto fail;
		return 0;
	}
	if (wr_send_all(w) != 0)
		goto fail;
	return 0;
fail:
	wr_free(w);
	return -1;
}
