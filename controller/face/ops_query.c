/*
 * ops_query.c - what operators read: a group's status and its JSON (the
 * API's GET /v1/groups and failoverctl status), a stack's combined
 * status and FAILOVER_STATUS, the group's address, and the history as
 * JSON.  Read transactions only: nothing here changes the store.
 */
#include "controller/face/ops.h"
#include "controller/face/ops_int.h"

#include <sys/types.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "controller/core/engine_codec.h"

static json_t	*group_json(struct store_txn *, const struct config *, int,
		    const struct ops_health *, char *, size_t);

/* ---- queries ---- */

void
ops_status_text(const struct eng_group *g, char *buf, size_t len)
{
	if (g->status == ENG_SWITCHING)
		snprintf(buf, len, "switching/%s", eng_phase_name(g->sw.phase));
	else
		snprintf(buf, len, "%s", eng_status_name(g->status));
}

static json_t *
str_or_null(const char *s)
{
	return s != NULL && s[0] != '\0' ? json_string(s) : json_null();
}

static json_t *
stack_or_null(const struct config *cfg, int s)
{
	return s >= 0 && (size_t)s < cfg->nstack ?
	    json_string(cfg->stacks[s].name) : json_null();
}

static json_t *
flags_json(const struct store_flags *f)
{
	return json_pack("{s:b,s:o,s:b,s:b,s:o,s:b,s:o,s:o,s:o,s:o,s:o}",
	    "paused", f->paused,
	    "pinned", str_or_null(f->pinned),
	    "rearm_requested", f->rearm_requested,
	    "switch_requested", f->switch_requested,
	    "switch_to", str_or_null(f->switch_to),
	    "force", f->switch_requested && f->switch_force,
	    "switch_requested_ms", f->switch_requested ?
	    json_integer(f->switch_requested_ms) : json_null(),
	    "switch_actor", f->switch_requested ?
	    str_or_null(f->switch_actor) : json_null(),
	    "rearm_requested_ms", f->rearm_requested ?
	    json_integer(f->rearm_requested_ms) : json_null(),
	    "rearm_actor", f->rearm_requested ?
	    str_or_null(f->rearm_actor) : json_null(),
	    "actor", str_or_null(f->actor));
}

static json_t *
last_switch_json(const struct eng_group *g, const struct config *cfg)
{
	const struct eng_switch *sw = &g->sw;
	const char *result;

	if (sw->id[0] == '\0')
		return json_null();
	if (g->status == ENG_SWITCHING)
		result = "running";
	else if (sw->phase == ENG_PH_DONE)
		result = "completed";
	else
		result = "failed";
	return json_pack("{s:s,s:o,s:o,s:s,s:b,s:s,s:b,s:i,s:I,s:I,s:I,s:s}",
	    "id", sw->id,
	    "from", stack_or_null(cfg, sw->from),
	    "to", stack_or_null(cfg, sw->to),
	    "reason", eng_reason_name(sw->reason),
	    "force", sw->force,
	    "phase", eng_phase_name(sw->phase),
	    "running", sw->running,
	    "attempt", sw->attempt,
	    "started_ms", (json_int_t)sw->started_ms,
	    "phase_started_ms", (json_int_t)sw->phase_started_ms,
	    "ended_ms", (json_int_t)sw->ended_ms,
	    "result", result);
}

static json_t *
health_json(const struct ops_health *oh)
{
	return json_pack("{s:s,s:o,s:o}",
	    "health", oh->state,
	    "since_ms", oh->known ? json_integer(oh->since_ms) : json_null(),
	    "reason", str_or_null(oh->reason));
}

static json_t *
group_json(struct store_txn *txn, const struct config *cfg, int gi,
    const struct ops_health *oh, char *err, size_t errlen)
{
	const struct cfg_group *cg = &cfg->groups[gi];
	struct eng_group g;
	struct store_flags f;
	char addr[STORE_NAME_MAX + 300], status[64];
	bool stored;
	json_t *o = NULL, *stacks, *st;
	int roles[2] = { cg->primary, cg->backup };
	const char *rolename[2] = { "primary", "backup" };

	if (ops_state_read(txn, cfg, gi, &g, &stored, err, errlen) != 0)
		return NULL;
	store_flags_get(txn, cg->name, &f);
	if (ops_address_in(txn, cfg, cg->name, addr, sizeof(addr)) != 0)
		addr[0] = '\0';
	ops_status_text(&g, status, sizeof(status));
	if ((stacks = json_array()) == NULL)
		return NULL;
	for (int i = 0; i < 2; i++) {
		int s = roles[i];
		json_t *hj;

		if (s < 0)
			continue;
		hj = health_json(&oh[s]);
		if (hj == NULL)
			continue;
		json_object_set_new(hj, "name", json_string(cfg->stacks[s].name));
		json_object_set_new(hj, "role", json_string(rolename[i]));
		json_object_set_new(hj, "failover_status", json_string(
		    eng_online_name(eng_stack_status(&g, s))));
		json_array_append_new(stacks, hj);
	}
	st = stored ? eng_group_to_json(&g, cfg) : json_null();
	o = json_pack("{s:s,s:o,s:s,s:s,s:o,s:o,s:o,s:o,s:o,s:o,s:s,s:o,"
	    "s:i,s:o,s:o}",
	    "name", cg->name,
	    "address", str_or_null(addr),
	    "status", eng_status_name(g.status),
	    "state_text", status,
	    "phase", g.status == ENG_SWITCHING ?
		json_string(eng_phase_name(g.sw.phase)) : json_null(),
	    "active", stack_or_null(cfg, g.active),
	    "standby", stack_or_null(cfg, g.standby),
	    "stacks", stacks,
	    "flags", flags_json(&f),
	    "published", g.pub_stack >= 0 ? json_pack("{s:s,s:i}", "stack",
		cfg->stacks[g.pub_stack].name, "ttl", (int)g.pub_ttl) :
		json_null(),
	    "held", eng_gate_name(g.held),
	    "dns_unusable", eng_dns_unusable(&g) != NULL ?
		json_string(eng_dns_unusable(&g)) : json_null(),
	    "nswitch", g.nswitch,
	    "last_switch", last_switch_json(&g, cfg),
	    "state", st != NULL ? st : json_null());
	if (o == NULL)
		snprintf(err, errlen, "out of memory");
	return o;
}

/* Begin a read transaction and load the health snapshot. */
static int
read_begin(struct store *st, const struct config *cfg, struct store_txn *txn,
    struct health **h, struct ops_health **oh, char *err, size_t errlen)
{
	*h = calloc(cfg->nstack + 1, sizeof(**h));
	*oh = calloc(cfg->nstack + 1, sizeof(**oh));
	if (*h == NULL || *oh == NULL) {
		snprintf(err, errlen, "out of memory");
		return OPS_E_NOMEM;
	}
	if (ops_txn_read(st, txn, err, errlen) != 0)
		return OPS_E_STORE;
	if (ops_health_read(txn, cfg, *h, *oh) != 0) {
		snprintf(err, errlen, "%s: %s", store_errname(txn->err),
		    txn->detail);
		store_txn_abort(txn);
		return OPS_E_STORE;
	}
	return 0;
}

int
ops_status(struct store *st, const struct config *cfg, const char *group,
    json_t **out, char *err, size_t errlen)
{
	struct store_txn txn;
	struct health *h = NULL;
	struct ops_health *oh = NULL;
	json_t *arr = NULL, *o;
	int rc, gi = -1;

	*out = NULL;
	if (group != NULL && (gi = ops_group_index(cfg, group)) < 0) {
		snprintf(err, errlen, "unknown group %s", group);
		return OPS_E_NOTFOUND;
	}
	if ((rc = read_begin(st, cfg, &txn, &h, &oh, err, errlen)) != 0)
		goto out;
	if (group != NULL) {
		o = group_json(&txn, cfg, gi, oh, err, errlen);
		rc = o == NULL ? OPS_E_STATE : 0;
		*out = o;
	} else if ((arr = json_array()) == NULL)
		rc = OPS_E_NOMEM;
	else {
		for (size_t i = 0; i < cfg->ngroup && rc == 0; i++) {
			o = group_json(&txn, cfg, (int)i, oh, err, errlen);
			if (o == NULL)
				rc = OPS_E_STATE;
			else
				json_array_append_new(arr, o);
		}
		if (rc == 0)
			*out = json_pack("{s:o}", "groups", arr);
		else
			json_decref(arr);
		if (rc == 0 && *out == NULL)
			rc = OPS_E_NOMEM;
	}
	store_txn_abort(&txn);
out:
	free(h);
	free(oh);
	return rc;
}

static void
webhead_text(const struct cfg_webhead *wh, char *buf, size_t len)
{
	size_t off = 0;

	if (wh->is_name) {
		snprintf(buf, len, "CNAME %s", wh->name ? wh->name : "");
		return;
	}
	buf[0] = '\0';
	for (size_t i = 0; i < wh->naddr && off < len; i++) {
		int n = snprintf(buf + off, len - off, "%s%s", i ? " " : "",
		    wh->addrs[i]);
		if (n < 0)
			break;
		off += (size_t)n;
	}
}

/* Combine eng_stack_status over the groups that hold stack s. */
static int
combined_status(struct store_txn *txn, const struct config *cfg, int s,
    json_t *groups, enum eng_online *out, char *err, size_t errlen)
{
	enum eng_online res = ENG_STATUS_NONE;

	for (size_t i = 0; i < cfg->ngroup; i++) {
		const struct cfg_group *cg = &cfg->groups[i];
		struct eng_group g;
		enum eng_online o;
		bool stored;

		if (cg->primary != s && cg->backup != s)
			continue;
		if (ops_state_read(txn, cfg, (int)i, &g, &stored, err, errlen) != 0)
			return OPS_E_STATE;
		o = eng_stack_status(&g, s);
		if (o == ENG_STATUS_NONE)
			o = ENG_STATUS_OFFLINE;	/* in the group */
		if (o == ENG_STATUS_ONLINE || res == ENG_STATUS_NONE)
			res = o == ENG_STATUS_ONLINE ? o :
			    res == ENG_STATUS_ONLINE ? res : o;
		if (groups != NULL)
			json_array_append_new(groups, json_pack("{s:s,s:s,s:s}",
			    "group", cg->name,
			    "role", cg->primary == s ? "primary" : "backup",
			    "status", eng_online_name(o)));
	}
	*out = res;
	return 0;
}

int
ops_stack_json(struct store *st, const struct config *cfg, const char *stack,
    json_t **out, char *err, size_t errlen)
{
	struct store_txn txn;
	struct health *h = NULL;
	struct ops_health *oh = NULL;
	const struct cfg_stack *cs;
	enum eng_online on;
	json_t *o = NULL, *groups = NULL;
	char wh[1024];
	int s, rc;

	*out = NULL;
	if ((s = config_stack_index(cfg, stack)) < 0) {
		snprintf(err, errlen, "unknown stack %s", stack);
		return OPS_E_NOTFOUND;
	}
	cs = &cfg->stacks[s];
	if ((rc = read_begin(st, cfg, &txn, &h, &oh, err, errlen)) != 0)
		goto out;
	if ((groups = json_array()) == NULL) {
		rc = OPS_E_NOMEM;
		goto done;
	}
	if ((rc = combined_status(&txn, cfg, s, groups, &on, err,
	    errlen)) != 0)
		goto done;
	webhead_text(&cs->web_head, wh, sizeof(wh));
	o = health_json(&oh[s]);
	if (o == NULL) {
		rc = OPS_E_NOMEM;
		goto done;
	}
	json_object_set_new(o, "name", json_string(cs->name));
	json_object_set_new(o, "web_head", json_string(wh));
	json_object_set_new(o, "health_url", str_or_null(cs->health_url));
	json_object_set_new(o, "failover_status",
	    json_string(eng_online_name(on)));
	json_object_set_new(o, "groups", groups);
	groups = NULL;
	*out = o;
done:
	json_decref(groups);
	store_txn_abort(&txn);
out:
	free(h);
	free(oh);
	return rc;
}

int
ops_failover_status(struct store *st, const struct config *cfg,
    const char *stack, enum eng_online *out, char *err, size_t errlen)
{
	struct store_txn txn;
	int s, rc;

	*out = ENG_STATUS_NONE;
	if ((s = config_stack_index(cfg, stack)) < 0) {
		snprintf(err, errlen, "unknown stack %s", stack);
		return OPS_E_NOTFOUND;
	}
	if ((rc = ops_txn_read(st, &txn, err, errlen)) != 0)
		return rc;
	rc = combined_status(&txn, cfg, s, NULL, out, err, errlen);
	store_txn_abort(&txn);
	return rc;
}

/* ---- history ---- */

struct ev_arg {
	json_t	*arr;
	bool	 nomem;
};

static void
ts_format(int64_t ms, char *buf, size_t len)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL) {
		snprintf(buf, len, "?");
		return;
	}
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, (int)(ms % 1000));
}

/*
 * The engine's records keep every value as text; in JSON a count, a code
 * or a duration is a number ("attempt":1, not "1"), always, whatever the
 * event: the keys below and every *_ms and *_us, when the text is an
 * integer.  Names (stacks, ids) stay strings even when they look like
 * numbers, and so do from/to, which are stacks in most events.
 */
static bool
data_key_numeric(const char *k)
{
	static const char *const keys[] = { "attempt", "exit", "failures",
	    "ttl", "refusals", "signal", "pid", "count", "nswitch",
	    "request_id", "batch" };
	size_t n = strlen(k);

	if (n > 3 && (strcmp(k + n - 3, "_ms") == 0 ||
	    strcmp(k + n - 3, "_us") == 0))
		return true;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strcmp(k, keys[i]) == 0)
			return true;
	return false;
}

static void
data_types(json_t *data)
{
	const char *k;
	json_t *v;

	json_object_foreach(data, k, v) {
		const char *s = json_string_value(v);
		char *end;
		long long n;

		if (s == NULL || !data_key_numeric(k) || s[0] == '\0' ||
		    (s[0] == '0' && s[1] != '\0') || strlen(s) > 18)
			continue;
		errno = 0;
		n = strtoll(s, &end, 10);
		if (*end != '\0' || errno != 0 || s[0] == '+' || s[0] == ' ')
			continue;
		json_object_set_new(data, k, json_integer((json_int_t)n));
	}
}

static bool
ev_cb(const struct store_event *ev, void *arg)
{
	struct ev_arg *a = arg;
	char ts[96], hex[STORE_HASH_LEN * 2 + 1];
	json_t *data, *o;

	ts_format(ev->ts_ms, ts, sizeof(ts));
	for (int i = 0; i < STORE_HASH_LEN; i++)
		snprintf(hex + 2 * i, 3, "%02x", ev->hash[i]);
	data = ev->payload_len > 0 ? json_loadb(ev->payload, ev->payload_len,
	    0, NULL) : NULL;
	if (data == NULL && ev->payload_len > 0)
		data = json_stringn(ev->payload, ev->payload_len);
	if (json_is_object(data))
		data_types(data);
	o = json_pack("{s:I,s:I,s:s,s:s,s:s,s:o,s:s}",
	    "seq", (json_int_t)ev->seq,
	    "ts_ms", (json_int_t)ev->ts_ms,
	    "ts", ts,
	    "group", ev->group,
	    "event", ev->event,
	    "data", data != NULL ? data : json_object(),
	    "hash", hex);
	if (o == NULL || json_array_append_new(a->arr, o) != 0) {
		a->nomem = true;
		return false;
	}
	return true;
}

int
ops_events_json(struct store *st, uint64_t from, size_t limit,
    const char *group, json_t **out, char *err, size_t errlen)
{
	struct store_txn txn;
	struct ev_arg a = { .arr = json_array() };
	uint64_t last;
	int rc = 0;

	*out = NULL;
	if (a.arr == NULL) {
		snprintf(err, errlen, "out of memory");
		return OPS_E_NOMEM;
	}
	if ((rc = ops_txn_read(st, &txn, err, errlen)) != 0) {
		json_decref(a.arr);
		return rc;
	}
	last = store_history_last(&txn);
	if (store_history_foreach(&txn, from, limit, group, ev_cb, &a) != 0) {
		snprintf(err, errlen, "%s: %s", store_errname(txn.err),
		    txn.detail);
		rc = OPS_E_STORE;
	} else if (a.nomem) {
		snprintf(err, errlen, "out of memory");
		rc = OPS_E_NOMEM;
	}
	store_txn_abort(&txn);
	if (rc == 0 && (*out = json_pack("{s:o,s:I}", "events", a.arr,
	    "last_seq", (json_int_t)last)) == NULL)
		rc = OPS_E_NOMEM;
	else if (rc != 0)
		json_decref(a.arr);
	return rc;
}
