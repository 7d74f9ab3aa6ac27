/*
 * ctl_cluster.c - failoverctl's view of a cluster: one read-only
 * transaction on etcd (the leader key, the members, the digest, the
 * members' verdicts) on a short-lived event loop of its own.  The quorum's
 * decision per stack is the leader's rule (core/quorum.c) applied to the
 * verdicts read: the base is the members read, as the daemon's.
 */
#include "controller/face/ctl_cluster.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <event2/event.h>
#include <jansson.h>

#include "cluster/cl.h"
#include "cluster/cl_schema.h"
#include "config/config.h"
#include "controller/core/quorum.h"

struct rd {
	const struct config	*cfg;
	json_t			*out;
	char			*err;
	size_t			 errlen;
	bool			 done;
};

/*
 * "quorum": {"rule":"majority","stacks":{"app1":"decision=up ..."}}, the
 * quorum's decision for every configured stack, as quorum_format() says.
 */
/* A verdict of stack from a check other than this host's (its digest
 * said, and not ours). */
static bool
check_differs(const struct config *cfg, const char *stack, const char *check)
{
	char ours[CFG_CHECK_HEX];
	int s;

	return check[0] != '\0' && (s = config_stack_index(cfg, stack)) >= 0 &&
	    config_check_digest(&cfg->stacks[s], ours) == 0 &&
	    strcmp(ours, check) != 0;
}

static int
quorum_add(const struct config *cfg, json_t *o, json_t *ms)
{
	struct quorum_vote v[QUORUM_MAX_VOTES];
	struct quorum_result qr;
	json_t *q, *st, *mo;
	char buf[512], qbuf[16];
	size_t n, j;

	q = json_pack("{s:s}", "rule", cfg_quorum_name(&cfg->cluster.quorum,
	    qbuf, sizeof(qbuf)));
	st = json_object();
	if (q == NULL || st == NULL) {
		json_decref(q);
		json_decref(st);
		return -1;
	}
	for (size_t s = 0; s < cfg->nstack; s++) {
		const char *name = cfg->stacks[s].name;

		n = 0;
		json_array_foreach(ms, j, mo) {
			json_t *vo = json_object_get(json_object_get(mo,
			    "verdicts"), name);
			int view = vo != NULL ? quorum_view_parse(
			    json_string_value(json_object_get(vo, "view"))) :
			    QUORUM_V_UNKNOWN;

			if (n == QUORUM_MAX_VOTES)
				break;
			v[n].member = json_string_value(json_object_get(mo,
			    "member"));
			/* Of another check: unknown, as the daemon counts
			 * it (daemon_quorum.c). */
			v[n].view = view < 0 || json_is_true(json_object_get(vo,
			    "check_differs")) ? QUORUM_V_UNKNOWN :
			    (enum quorum_view)view;
			v[n].since_ms = vo != NULL ? json_integer_value(
			    json_object_get(vo, "since_ms")) : 0;
			v[n].live = true;
			n++;
		}
		if (quorum_decide(&cfg->cluster.quorum, v, n, &qr) != 0 ||
		    quorum_format(&cfg->cluster.quorum, v, n, &qr, buf,
		    sizeof(buf)) < 0)
			snprintf(buf, sizeof(buf), "decision=no_quorum");
		json_object_set_new(st, name, json_string(buf));
	}
	json_object_set_new(q, "stacks", st);
	json_object_set_new(o, "quorum", q);
	return 0;
}

static void
read_cb(const struct cl_reply *r, void *arg)
{
	struct rd *rd = arg;
	const char *prefix = rd->cfg->cluster.prefix;
	json_t *o = NULL, *ms = NULL;
	char detail[256];

	rd->done = true;
	if (r->error != 0 || r->r.nops != 4) {
		snprintf(rd->err, rd->errlen, "etcd: %s%s%s",
		    cl_error_name(r->error), r->detail[0] ? ": " : "",
		    r->detail);
		return;
	}
	if ((o = json_object()) == NULL || (ms = json_array()) == NULL)
		goto nomem;
	if (r->r.ops[0].nkvs == 1) {
		const struct cl_kv *kv = &r->r.ops[0].kvs[0];
		char name[CL_NAME_MAX];

		if (cl_leader_parse(kv->value, kv->value_len, name, detail,
		    sizeof(detail)) != 0)
			snprintf(name, sizeof(name), "?");
		json_object_set_new(o, "leader", json_string(name));
		json_object_set_new(o, "epoch",
		    json_integer(kv->create_revision));
	} else {
		json_object_set_new(o, "leader", json_null());
		json_object_set_new(o, "epoch", json_integer(0));
	}
	if (r->r.ops[2].nkvs == 1) {
		const struct cl_kv *kv = &r->r.ops[2].kvs[0];
		struct cl_digest_rec dr;

		const char *ln = json_string_value(json_object_get(o,
		    "leader"));

		if (cl_digest_parse(kv->value, kv->value_len, &dr, detail,
		    sizeof(detail)) == 0) {
			json_object_set_new(o, "leader_digest",
			    json_string(dr.digest));
			/* Written when that leader began: since when it leads. */
			if (ln != NULL && strcmp(ln, dr.member) == 0 &&
			    dr.since_ms > 0)
				json_object_set_new(o, "leader_since_ms",
				    json_integer(dr.since_ms));
		}
	}
	for (size_t i = 0; i < r->r.ops[1].nkvs; i++) {
		const struct cl_kv *kv = &r->r.ops[1].kvs[i];
		struct cl_key k;
		struct cl_member_rec m;
		json_t *mo;

		if (cl_key_parse(prefix, kv->key, kv->key_len, &k, detail,
		    sizeof(detail)) != 0 || k.kind != CL_KEY_MEMBER ||
		    cl_member_parse(kv->value, kv->value_len, k.a, &m, detail,
		    sizeof(detail)) != 0)
			continue;
		mo = json_pack("{s:s, s:s, s:s, s:I}", "member", m.member,
		    "digest", m.digest, "version", m.version, "started_ms",
		    (json_int_t)m.started_ms);
		if (mo == NULL)
			goto nomem;
		if (m.advertise[0])
			json_object_set_new(mo, "advertise",
			    json_string(m.advertise));
		json_object_set_new(mo, "verdicts", json_object());
		json_array_append_new(ms, mo);
	}
	/* Each verdict under its member (one that has no member record is
	 * left out: it is not counted either). */
	for (size_t i = 0; i < r->r.ops[3].nkvs; i++) {
		const struct cl_kv *kv = &r->r.ops[3].kvs[i];
		struct cl_key k;
		struct cl_verdict v;
		size_t j;
		json_t *mo, *vo;

		if (cl_key_parse(prefix, kv->key, kv->key_len, &k, detail,
		    sizeof(detail)) != 0 || k.kind != CL_KEY_VERDICT ||
		    cl_verdict_parse(kv->value, kv->value_len, &v, detail,
		    sizeof(detail)) != 0)
			continue;
		json_array_foreach(ms, j, mo) {
			if (strcmp(json_string_value(json_object_get(mo,
			    "member")), k.a) != 0)
				continue;
			vo = json_pack("{s:s, s:I}", "view", cl_view_name(v.view),
			    "since_ms", (json_int_t)v.since_ms);
			if (vo == NULL)
				goto nomem;
			if (v.reason[0])
				json_object_set_new(vo, "reason",
				    json_string(v.reason));
			if (check_differs(rd->cfg, k.b, v.check))
				json_object_set_new(vo, "check_differs",
				    json_true());
			json_object_set_new(json_object_get(mo, "verdicts"),
			    k.b, vo);
		}
	}
	json_object_set_new(o, "members", ms);
	if (quorum_add(rd->cfg, o, ms) != 0) {
		ms = NULL;
		goto nomem;
	}
	rd->out = o;
	return;
nomem:
	json_decref(o);
	json_decref(ms);
	snprintf(rd->err, rd->errlen, "out of memory");
}

json_t *
ctl_cluster_read(const struct config *cfg, char *err, size_t errlen)
{
	const struct cfg_cluster *cc = &cfg->cluster;
	struct event_base *base = NULL;
	struct cl_client *c = NULL;
	struct cl_opts o;
	struct cl_op ops[4] = { { 0 }, { 0 }, { 0 }, { 0 } };
	struct cl_txn t = { 0 };
	char kl[CL_KEY_MAX], km[CL_KEY_MAX], kd[CL_KEY_MAX], kv[CL_KEY_MAX];
	char detail[256];
	struct rd rd = { cfg, NULL, err, errlen, false };
	int e = 0;
	bool curl = false;

	snprintf(err, errlen, "no [cluster] section");
	if (!cc->enabled)
		return NULL;
	if (cl_key_build(cc->prefix, CL_KEY_LEADER, NULL, NULL, kl,
	    sizeof(kl)) < 0 || cl_key_dir(cc->prefix, CL_KEY_MEMBER, NULL, km,
	    sizeof(km)) < 0 || cl_key_build(cc->prefix, CL_KEY_DIGEST, NULL,
	    NULL, kd, sizeof(kd)) < 0 || cl_key_dir(cc->prefix, CL_KEY_VERDICT,
	    NULL, kv, sizeof(kv)) < 0) {
		snprintf(err, errlen, "bad prefix %s", cc->prefix);
		return NULL;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		snprintf(err, errlen, "curl_global_init failed");
		return NULL;
	}
	curl = true;
	if ((base = event_base_new()) == NULL) {
		snprintf(err, errlen, "event_base_new failed");
		goto out;
	}
	cl_opts_init(&o);
	o.endpoints = (const char *const *)cc->etcd;
	o.nendpoints = cc->netcd;
	if ((c = cl_client_new(base, &o, &e, detail, sizeof(detail))) == NULL) {
		snprintf(err, errlen, "etcd client: %s", detail);
		goto out;
	}
	ops[0].kind = CL_OP_RANGE;
	ops[0].key = kl;
	ops[1].kind = CL_OP_RANGE;
	ops[1].key = km;
	ops[1].prefix = true;
	ops[2].kind = CL_OP_RANGE;
	ops[2].key = kd;
	ops[3].kind = CL_OP_RANGE;
	ops[3].key = kv;
	ops[3].prefix = true;
	t.success = ops;
	t.nsuccess = 4;
	if ((e = cl_txn(c, &t, read_cb, &rd, NULL)) != 0) {
		snprintf(err, errlen, "etcd: %s", cl_error_name(e));
		goto out;
	}
	/* Bounded: the client ends a request within nendpoints x timeout. */
	while (!rd.done && event_base_loop(base, EVLOOP_ONCE) == 0)
		;
out:
	cl_client_free(c);
	if (base != NULL)
		event_base_free(base);
	if (curl)
		curl_global_cleanup();
	return rd.out;
}

/* " since 2026-12-06T23:00:31Z", or "" when not known. */
static void
since_text(const json_t *o, char *buf, size_t len)
{
	json_t *v = json_object_get(o, "leader_since_ms");
	time_t t;
	struct tm tm;

	buf[0] = '\0';
	if (!json_is_integer(v))
		return;
	t = (time_t)(json_integer_value(v) / 1000);
	if (gmtime_r(&t, &tm) != NULL)
		strftime(buf, len, " since %Y-%m-%dT%H:%M:%SZ", &tm);
}

void
ctl_cluster_print(const json_t *o)
{
	const json_t *ms = json_object_get(o, "members");
	const char *leader = json_string_value(json_object_get(o, "leader"));
	const char *ld = json_string_value(json_object_get(o, "leader_digest"));
	size_t i;
	json_t *m, *q;
	const json_t *qs;
	const char *qn;
	char since[48];

	since_text(o, since, sizeof(since));
	printf("leader: %s%s  epoch: %lld  members: %zu\n",
	    leader != NULL ? leader : "none", since,
	    (long long)json_integer_value(json_object_get(o, "epoch")),
	    json_array_size(ms));
	json_array_foreach(ms, i, m) {
		const char *name = json_string_value(json_object_get(m,
		    "member"));
		const char *dg = json_string_value(json_object_get(m, "digest"));
		const char *adv = json_string_value(json_object_get(m,
		    "advertise"));

		const json_t *vs = json_object_get(m, "verdicts");
		const char *stack;
		json_t *v;

		printf("  %-16s %-8s config=%s%s%s\n", name,
		    leader != NULL && strcmp(leader, name) == 0 ? "leader" :
		    "follower", ld == NULL ? "?" : strcmp(ld, dg) == 0 ?
		    "same" : "mismatch", adv != NULL ? "  " : "",
		    adv != NULL ? adv : "");
		if (json_object_size(vs) == 0)
			continue;
		printf("    verdicts:");
		json_object_foreach((json_t *)vs, stack, v) {
			const char *why = json_string_value(json_object_get(v,
			    "reason"));

			printf(" %s=%s%s%s%s%s", stack, json_string_value(
			    json_object_get(v, "view")), why != NULL ? "(" : "",
			    why != NULL ? why : "", why != NULL ? ")" : "",
			    json_is_true(json_object_get(v, "check_differs")) ?
			    "[another check: not counted]" : "");
		}
		printf("\n");
	}
	qs = json_object_get(json_object_get(o, "quorum"), "stacks");
	if (json_object_size(qs) == 0)
		return;
	printf("quorum: %s\n", json_string_value(json_object_get(
	    json_object_get(o, "quorum"), "rule")));
	json_object_foreach((json_t *)qs, qn, q)
		printf("  %-16s %s\n", qn, json_string_value(q));
}

void
ctl_cluster_status_line(const struct config *cfg)
{
	char err[512], since[48];
	json_t *o;

	if (!cfg->cluster.enabled)
		return;
	if ((o = ctl_cluster_read(cfg, err, sizeof(err))) == NULL) {
		printf("cluster: unknown (%s)\n", err);
		return;
	}
	since_text(o, since, sizeof(since));
	printf("cluster: leader %s%s, epoch %lld, %zu members\n",
	    json_string_value(json_object_get(o, "leader")) != NULL ?
	    json_string_value(json_object_get(o, "leader")) : "none", since,
	    (long long)json_integer_value(json_object_get(o, "epoch")),
	    json_array_size(json_object_get(o, "members")));
	json_decref(o);
}
