/*
 * daemon_cluster_val.c - what a leader keeps in etcd for each group, so
 * that whoever leads next finds everything a restarted daemon finds in
 * its own store: the engine state, the journal entry of its switch, and
 * the override flags (pause, pin, the requests not taken yet).
 *
 * One value per group, PREFIX/groups/NAME, written by the group commit
 * in its fenced transaction (daemon_act.c, daemon_cluster.c), so the
 * three can never disagree: the engine state as the journal codec
 * writes it (core/engine_codec.h: the state plus "epoch"), and
 *
 *   "flags":{"paused":true,"pinned":"app1","rearm_requested":false,
 *            "rearm_requested_ms":0,"rearm_actor":"",
 *            "switch_requested":false,"switch_to":"","switch_force":false,
 *            "switch_request_id":0,"switch_requested_ms":0,
 *            "switch_actor":"","actor":"uid:root","updated_ms":N}
 *
 * The engine's decoder ignores both extra fields, so the value is also a
 * state record as the store keeps it (the followers' mirror writes it
 * as it is), and a value written before the fields existed is a plain
 * state: then the store's own flags are left as they are.
 *
 * The flags travel with the state, not on their own: a pause or a pin
 * changes the engine state (st.paused, st.pinned), so the batch that
 * persists it carries the flags that caused it.  An operator's command
 * given through etcd does not wait for that batch: the leader writes the
 * value of each group it changed, with its new flags, in the fenced
 * transaction that carries its answer (daemon_cluster_cmd.c), so a
 * command answered "accepted" is in etcd for the next leader even when
 * it changed no engine state (a rearm or switch request, a cancel).
 */
#include "controller/shell/daemon_cluster_val.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "controller/core/engine_codec.h"

static json_t *
flags_json(const struct store_flags *f)
{
	return json_pack("{s:b, s:s, s:b, s:I, s:s, s:b, s:s, s:b, s:I, s:I,"
	    " s:s, s:s, s:I}",
	    "paused", f->paused, "pinned", f->pinned,
	    "rearm_requested", f->rearm_requested,
	    "rearm_requested_ms", (json_int_t)f->rearm_requested_ms,
	    "rearm_actor", f->rearm_actor,
	    "switch_requested", f->switch_requested,
	    "switch_to", f->switch_to, "switch_force", f->switch_force,
	    "switch_request_id", (json_int_t)f->switch_request_id,
	    "switch_requested_ms", (json_int_t)f->switch_requested_ms,
	    "switch_actor", f->switch_actor, "actor", f->actor,
	    "updated_ms", (json_int_t)f->updated_ms);
}

static void
str_get(const json_t *o, const char *k, char *buf, size_t len)
{
	const char *s = json_string_value(json_object_get(o, k));

	snprintf(buf, len, "%s", s != NULL ? s : "");
}

static int64_t
int_get(const json_t *o, const char *k)
{
	return json_integer_value(json_object_get(o, k));
}

static void
flags_from(const json_t *o, struct store_flags *f)
{
	memset(f, 0, sizeof(*f));
	f->paused = json_is_true(json_object_get(o, "paused"));
	str_get(o, "pinned", f->pinned, sizeof(f->pinned));
	f->rearm_requested = json_is_true(json_object_get(o,
	    "rearm_requested"));
	f->rearm_requested_ms = int_get(o, "rearm_requested_ms");
	str_get(o, "rearm_actor", f->rearm_actor, sizeof(f->rearm_actor));
	f->switch_requested = json_is_true(json_object_get(o,
	    "switch_requested"));
	str_get(o, "switch_to", f->switch_to, sizeof(f->switch_to));
	f->switch_force = json_is_true(json_object_get(o, "switch_force"));
	f->switch_request_id = (uint64_t)int_get(o, "switch_request_id");
	f->switch_requested_ms = int_get(o, "switch_requested_ms");
	str_get(o, "switch_actor", f->switch_actor, sizeof(f->switch_actor));
	str_get(o, "actor", f->actor, sizeof(f->actor));
	f->updated_ms = int_get(o, "updated_ms");
}

int
dclv_encode(const struct config *cfg, struct store_txn *rtxn,
    const char *group, const struct eng_group *st, uint64_t epoch,
    char **out, size_t *len)
{
	struct store_flags f;
	json_t *j, *fj;
	char *s;

	*out = NULL;
	*len = 0;
	if (rtxn == NULL)
		return eng_journal_encode(st, cfg, epoch, out, len);
	/* As eng_journal_encode writes it, plus the flags, in one dump:
	 * dumping the journal entry, parsing it and dumping it again did
	 * the work twice, for every group of every batch. */
	store_flags_get(rtxn, group, &f);
	if ((j = eng_group_to_json(st, cfg)) == NULL)
		return -1;
	if ((epoch > 0 && json_object_set_new(j, "epoch",
	    json_integer((json_int_t)epoch)) != 0) ||
	    (fj = flags_json(&f)) == NULL ||
	    json_object_set_new(j, "flags", fj) != 0 ||
	    (s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER)) == NULL) {
		json_decref(j);
		return -1;
	}
	json_decref(j);
	*out = s;
	*len = strlen(s);
	return 0;
}

bool
dclv_adopt(struct store_txn *txn, const struct config *cfg,
    const char *group, const char *val, size_t len)
{
	struct eng_group g;
	struct store_flags f;
	json_t *j, *fj;
	bool had = false;
	char err[256];

	if ((j = json_loadb(val, len, 0, NULL)) == NULL)
		return false;
	if (json_is_object(fj = json_object_get(j, "flags"))) {
		flags_from(fj, &f);
		store_flags_put(txn, group, &f);
		had = true;
	}
	json_decref(j);
	if (eng_journal_decode(val, len, cfg, &g, NULL, err,
	    sizeof(err)) >= 0 && g.sw.id[0] != '\0')
		store_journal_put(txn, g.sw.id, val, len);
	return had;
}
