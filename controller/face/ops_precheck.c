/*
 * ops_precheck.c - the store side of a precheck asked by an operator (see
 * ops_precheck.h): the request failoverctl writes, the answer the daemon
 * writes, and the replication lag read from a hook's output.
 */
#include "controller/face/ops_precheck.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

static void	 reply_set(struct ops_reply *, enum ops_outcome, const char *,
		    const char *, ...) __attribute__((format(printf, 4, 5)));

static void
reply_set(struct ops_reply *r, enum ops_outcome o, const char *reason,
    const char *fmt, ...)
{
	va_list ap;

	r->outcome = o;
	r->code = o == OPS_DONE ? 0 : 1;
	snprintf(r->reason, sizeof(r->reason), "%s", reason);
	va_start(ap, fmt);
	vsnprintf(r->message, sizeof(r->message), fmt, ap);
	va_end(ap);
}

static void
meta_key(char *buf, size_t len, const char *prefix, const char *group)
{
	snprintf(buf, len, "%s%s", prefix, group);
}

int
ops_precheck_target(struct store *st, const struct config *cfg,
    const char *group, const char *to, char *stack, size_t len,
    struct ops_reply *reply)
{
	struct eng_group g;
	char err[256];
	bool stored;

	memset(reply, 0, sizeof(*reply));
	if (ops_group_state(st, cfg, group, &g, &stored, err,
	    sizeof(err)) != 0) {
		reply_set(reply, OPS_UNKNOWN, "unknown_group", "%s", err);
		return 1;
	}
	if (to != NULL) {
		const struct cfg_group *cg = config_group_find(cfg, group);
		int s = config_stack_index(cfg, to);

		if (s < 0) {
			reply_set(reply, OPS_UNKNOWN, "unknown_stack",
			    "unknown stack %s", to);
			return 1;
		}
		/* A switch goes only to one of the group's own stacks. */
		if (cg == NULL || (cg->primary != s && cg->backup != s)) {
			reply_set(reply, OPS_REFUSED, "not_in_group",
			    "stack %s is not in group %s", to, group);
			return 1;
		}
		snprintf(stack, len, "%s", to);
		return 0;
	}
	if (g.standby < 0 || (size_t)g.standby >= cfg->nstack) {
		reply_set(reply, OPS_REFUSED, "no_standby",
		    "%s has no standby stack", group);
		return 1;
	}
	snprintf(stack, len, "%s", cfg->stacks[g.standby].name);
	return 0;
}

int
ops_precheck_request(struct store *st, const char *group, const char *stack,
    const char *actor, int64_t now_ms, struct ops_precheck_req *req,
    struct ops_reply *reply)
{
	unsigned char rnd[(OPS_PRECHECK_ID_LEN - 1) / 2];
	struct store_txn txn;
	char key[STORE_NAME_MAX + 32], *text = NULL;
	json_t *o;
	int rc;

	memset(reply, 0, sizeof(*reply));
	memset(req, 0, sizeof(*req));
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
		reply_set(reply, OPS_FAILED, "random", "getrandom: %s",
		    strerror(errno));
		return 1;
	}
	for (size_t i = 0; i < sizeof(rnd); i++)
		snprintf(req->id + 2 * i, 3, "%02x", rnd[i]);
	snprintf(req->stack, sizeof(req->stack), "%s", stack);
	snprintf(req->actor, sizeof(req->actor), "%s", actor ? actor : "");
	req->ms = now_ms;
	o = json_pack("{s:s, s:s, s:s, s:I}", "id", req->id, "stack",
	    req->stack, "actor", req->actor, "ms", (json_int_t)now_ms);
	if (o == NULL || (text = json_dumps(o, JSON_COMPACT)) == NULL) {
		json_decref(o);
		reply_set(reply, OPS_FAILED, "nomem", "out of memory");
		return 1;
	}
	json_decref(o);
	meta_key(key, sizeof(key), OPS_PRECHECK_REQ, group);
	if ((rc = store_txn_begin(st, true, &txn)) == 0) {
		store_meta_put(&txn, key, text, strlen(text));
		store_generation_bump(&txn);
		rc = store_txn_commit(&txn);
	}
	free(text);
	if (rc != 0) {
		reply_set(reply, OPS_FAILED, "store", "%s: %s",
		    store_errname(rc), txn.detail);
		return 1;
	}
	reply_set(reply, OPS_DONE, "", "precheck of %s on %s requested (%s)",
	    group, stack, req->id);
	return 0;
}

static json_t *
meta_json(struct store_txn *txn, const char *prefix, const char *group)
{
	char key[STORE_NAME_MAX + 32];
	const void *v;
	size_t len;

	meta_key(key, sizeof(key), prefix, group);
	if (!store_meta_get(txn, key, &v, &len))
		return NULL;
	return json_loadb(v, len, 0, NULL);
}

static const char *
jstr_of(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s != NULL ? s : "";
}

bool
ops_precheck_request_get(struct store_txn *txn, const char *group,
    struct ops_precheck_req *req)
{
	json_t *o = meta_json(txn, OPS_PRECHECK_REQ, group);

	memset(req, 0, sizeof(*req));
	if (o == NULL)
		return false;
	snprintf(req->id, sizeof(req->id), "%s", jstr_of(o, "id"));
	snprintf(req->stack, sizeof(req->stack), "%s", jstr_of(o, "stack"));
	snprintf(req->actor, sizeof(req->actor), "%s", jstr_of(o, "actor"));
	req->ms = json_integer_value(json_object_get(o, "ms"));
	json_decref(o);
	return req->id[0] != '\0';
}

void
ops_precheck_answered(struct store_txn *txn, const char *group, char *id,
    size_t len)
{
	json_t *o = meta_json(txn, OPS_PRECHECK_RES, group);

	snprintf(id, len, "%s", jstr_of(o, "id"));
	json_decref(o);
}

int
ops_precheck_answer_put(struct store_txn *txn, const char *group,
    const json_t *answer)
{
	char key[STORE_NAME_MAX + 32], *text;

	if ((text = json_dumps(answer, JSON_COMPACT)) == NULL) {
		if (txn->err == 0) {
			txn->err = STORE_E_NOMEM;
			snprintf(txn->detail, sizeof(txn->detail),
			    "out of memory encoding a precheck answer");
		}
		return txn->err;
	}
	meta_key(key, sizeof(key), OPS_PRECHECK_RES, group);
	store_meta_put(txn, key, text, strlen(text));
	free(text);
	return txn->err;
}

int
ops_precheck_answer_get(struct store *st, const char *group, const char *id,
    json_t **out, char *err, size_t errlen)
{
	struct store_txn txn;
	json_t *o;

	*out = NULL;
	if (store_txn_begin(st, false, &txn) != 0) {
		snprintf(err, errlen, "%s: %s", store_errname(txn.err),
		    txn.detail);
		return OPS_E_STORE;
	}
	o = meta_json(&txn, OPS_PRECHECK_RES, group);
	store_txn_abort(&txn);
	if (o == NULL || strcmp(jstr_of(o, "id"), id) != 0) {
		json_decref(o);
		return 1;
	}
	*out = o;
	return 0;
}

bool
ops_precheck_lag(const char *line, const char *key, int64_t *val)
{
	size_t klen = strlen(key);
	bool found = false;

	for (const char *p = line; (p = strstr(p, key)) != NULL; p += klen) {
		const char *q = p + klen;
		char *end;
		long long v;

		/* A word of its own: at the start or after a blank. */
		if ((p != line && !isspace((unsigned char)p[-1])) || *q != '=')
			continue;
		q++;
		if (!isdigit((unsigned char)*q))
			continue;
		errno = 0;
		v = strtoll(q, &end, 10);
		if (errno != 0 || (*end != '\0' && !isspace((unsigned char)*end)))
			continue;
		*val = (int64_t)v;
		found = true;
	}
	return found;
}
