/*
 * engine_codec.c - struct eng_group <-> versioned JSON (see engine_codec.h).
 */
#include "controller/core/engine_codec.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

static json_t	*jstack(const struct config *, int);
static int	 get_stack(const struct config *, json_t *, const char *, int *);
static int	 get_int64(json_t *, const char *, int64_t *);
static int	 get_bool(json_t *, const char *, bool *);
static int	 get_name(json_t *, const char *, int (*)(const char *), int *);
static void	 seterr(char *, size_t, const char *, ...)
		    __attribute__((format(printf, 3, 4)));

static json_t *
jstack(const struct config *cfg, int s)
{
	if (s < 0 || (size_t)s >= cfg->nstack)
		return json_null();
	return json_string(cfg->stacks[s].name);
}

json_t *
eng_group_to_json(const struct eng_group *g, const struct config *cfg)
{
	const struct eng_switch *sw = &g->sw;

	if (g->group < 0 || (size_t)g->group >= cfg->ngroup)
		return NULL;
	return json_pack("{s:i, s:s, s:s, s:o, s:o, s:b, s:o, s:b, s:I, s:I,"
	    " s:i, s:s, s:{s:s, s:o, s:o, s:s, s:b, s:s, s:b, s:i, s:b, s:s,"
	    " s:I, s:I, s:I, s:I, s:I},"
	    " s:{s:o, s:I, s:o, s:I, s:I, s:o, s:I, s:I, s:i, s:I, s:o,"
	    " s:s, s:b, s:i, s:b},"
	    " s:{s:b, s:b, s:I, s:i}}",
	    "v", ENG_CODEC_VERSION,
	    "group", cfg->groups[g->group].name,
	    "status", eng_status_name(g->status),
	    "active", jstack(cfg, g->active),
	    "standby", jstack(cfg, g->standby),
	    "paused", g->paused,
	    "pinned", jstack(cfg, g->pinned),
	    "has_switched", g->has_switched,
	    "last_switch_ms", (json_int_t)g->last_switch_ms,
	    "last_switch_mono_ms", (json_int_t)g->last_switch_mono,
	    "nswitch", g->nswitch,
	    "held", eng_gate_name(g->held),
	    "switch",
	    "id", sw->id,
	    "from", jstack(cfg, sw->from),
	    "to", jstack(cfg, sw->to),
	    "reason", eng_reason_name(sw->reason),
	    "force", sw->force,
	    "phase", eng_phase_name(sw->phase),
	    "running", sw->running,
	    "attempt", sw->attempt,
	    "maint_on_ok", sw->maint_on_ok,
	    "failed_phase", eng_phase_name(sw->failed_phase),
	    "started_ms", (json_int_t)sw->started_ms,
	    "phase_started_ms", (json_int_t)sw->phase_started_ms,
	    "ended_ms", (json_int_t)sw->ended_ms,
	    "started_mono_ms", (json_int_t)sw->started_mono,
	    "phase_started_mono_ms", (json_int_t)sw->phase_started_mono,
	    "dns",
	    "pub", jstack(cfg, g->pub_stack),
	    "pub_ttl", (json_int_t)g->pub_ttl,
	    "want", jstack(cfg, g->want_stack),
	    "want_ttl", (json_int_t)g->want_ttl,
	    "ticket", (json_int_t)g->dns_ticket,
	    "sent", jstack(cfg, g->dns_sent_stack),
	    "sent_ttl", (json_int_t)g->dns_sent_ttl,
	    "last_ticket", (json_int_t)g->dns_last_ticket,
	    "failures", g->dns_failures,
	    "retry_ms", (json_int_t)g->dns_retry_ms,
	    "online", jstack(cfg, g->online),
	    "error", g->dns_error,
	    "error_final", g->dns_error_final,
	    "error_run", g->dns_error_run,
	    "checked", g->dns_checked,
	    "precheck",
	    "running", g->precheck_running,
	    "ok", g->precheck_ok,
	    "next_ms", (json_int_t)g->precheck_next_ms,
	    "exit", g->precheck_exit);
}

int
eng_group_encode(const struct eng_group *g, const struct config *cfg,
    char **out, size_t *len)
{
	json_t *j;
	char *s;

	*out = NULL;
	*len = 0;
	if ((j = eng_group_to_json(g, cfg)) == NULL)
		return ENG_E_CODEC;
	s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(j);
	if (s == NULL)
		return ENG_E_CODEC;
	*out = s;
	*len = strlen(s);
	return 0;
}

static void
seterr(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || len == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
}

/* A stack by name; null or a name not in cfg gives ENG_NONE. */
static int
get_stack(const struct config *cfg, json_t *o, const char *key, int *s)
{
	json_t *v = json_object_get(o, key);

	*s = ENG_NONE;
	if (v == NULL)
		return -1;
	if (json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return -1;
	for (size_t i = 0; i < cfg->nstack; i++)
		if (strcmp(cfg->stacks[i].name, json_string_value(v)) == 0) {
			*s = (int)i;
			return 0;
		}
	return 1;	/* a stack that no longer exists */
}

static int
get_int64(json_t *o, const char *key, int64_t *v)
{
	json_t *j = json_object_get(o, key);

	if (!json_is_integer(j))
		return -1;
	*v = json_integer_value(j);
	return 0;
}

static int
get_bool(json_t *o, const char *key, bool *v)
{
	json_t *j = json_object_get(o, key);

	if (!json_is_boolean(j))
		return -1;
	*v = json_is_true(j);
	return 0;
}

static int
get_name(json_t *o, const char *key, int (*parse)(const char *), int *v)
{
	json_t *j = json_object_get(o, key);

	if (!json_is_string(j) || (*v = parse(json_string_value(j))) < 0)
		return -1;
	return 0;
}

static int
parse_reason(const char *s)
{
	if (strcmp(s, "auto") == 0)
		return ENG_REASON_AUTO;
	if (strcmp(s, "manual") == 0)
		return ENG_REASON_MANUAL;
	return -1;
}

int
eng_group_decode(const char *buf, size_t len, const struct config *cfg,
    struct eng_group *out, char *err, size_t errlen)
{
	struct eng_group g;
	const struct cfg_group *grp = NULL;
	json_t *root = NULL, *sw, *dns, *pre, *j;
	json_error_t jerr;
	int64_t v64, version;
	int iv, rc = ENG_E_CODEC;
	const char *bad = NULL;

	memset(&g, 0, sizeof(g));
	root = json_loadb(buf, len, 0, &jerr);
	if (root == NULL || !json_is_object(root)) {
		seterr(err, errlen, "group state: not a JSON object: %s",
		    root == NULL ? jerr.text : "wrong type");
		goto out;
	}
	if (get_int64(root, "v", &version) != 0) {
		seterr(err, errlen, "group state: no version");
		goto out;
	}
	if (version != ENG_CODEC_VERSION) {
		seterr(err, errlen, "group state: unknown version %lld",
		    (long long)version);
		rc = ENG_E_VERSION;
		goto out;
	}
	j = json_object_get(root, "group");
	if (!json_is_string(j)) {
		bad = "group";
		goto bad;
	}
	g.group = -1;
	for (size_t i = 0; i < cfg->ngroup; i++)
		if (strcmp(cfg->groups[i].name, json_string_value(j)) == 0) {
			g.group = (int)i;
			grp = &cfg->groups[i];
		}
	if (grp == NULL) {
		seterr(err, errlen, "group state: group %s not configured",
		    json_string_value(j));
		rc = ENG_E_NOGROUP;
		goto out;
	}
	sw = json_object_get(root, "switch");
	dns = json_object_get(root, "dns");
	pre = json_object_get(root, "precheck");
	if (!json_is_object(sw) || !json_is_object(dns) ||
	    !json_is_object(pre)) {
		bad = "switch/dns/precheck";
		goto bad;
	}

#define STACK(o, k, f) do {						\
	int r_ = get_stack(cfg, (o), (k), &(f));			\
	if (r_ < 0) { bad = (k); goto bad; }				\
} while (0)
#define I64(o, k, f) do {						\
	if (get_int64((o), (k), &v64) != 0) { bad = (k); goto bad; }	\
	(f) = v64;							\
} while (0)
#define BOOL(o, k, f) do {						\
	if (get_bool((o), (k), &(f)) != 0) { bad = (k); goto bad; }	\
} while (0)
#define NAME(o, k, p, f) do {						\
	if (get_name((o), (k), (p), &iv) != 0) { bad = (k); goto bad; }	\
	(f) = iv;							\
} while (0)
/* Fields added after version 1 was first written: absent means 0. */
#define OPT_I64(o, k, f) do {						\
	if (json_object_get((o), (k)) == NULL) (f) = 0;			\
	else I64(o, k, f);						\
} while (0)
#define OPT_BOOL(o, k, f) do {						\
	if (json_object_get((o), (k)) == NULL) (f) = false;		\
	else BOOL(o, k, f);						\
} while (0)

	NAME(root, "status", eng_status_parse, g.status);
	STACK(root, "active", g.active);
	STACK(root, "standby", g.standby);
	BOOL(root, "paused", g.paused);
	STACK(root, "pinned", g.pinned);
	BOOL(root, "has_switched", g.has_switched);
	I64(root, "last_switch_ms", g.last_switch_ms);
	OPT_I64(root, "last_switch_mono_ms", g.last_switch_mono);
	I64(root, "nswitch", g.nswitch);
	NAME(root, "held", eng_gate_parse, g.held);

	j = json_object_get(sw, "id");
	if (!json_is_string(j) || strlen(json_string_value(j)) >=
	    sizeof(g.sw.id)) {
		bad = "switch.id";
		goto bad;
	}
	strcpy(g.sw.id, json_string_value(j));
	STACK(sw, "from", g.sw.from);
	STACK(sw, "to", g.sw.to);
	NAME(sw, "reason", parse_reason, g.sw.reason);
	BOOL(sw, "force", g.sw.force);
	NAME(sw, "phase", eng_phase_parse, g.sw.phase);
	BOOL(sw, "running", g.sw.running);
	I64(sw, "attempt", g.sw.attempt);
	I64(sw, "started_ms", g.sw.started_ms);
	I64(sw, "phase_started_ms", g.sw.phase_started_ms);
	I64(sw, "ended_ms", g.sw.ended_ms);
	OPT_I64(sw, "started_mono_ms", g.sw.started_mono);
	OPT_I64(sw, "phase_started_mono_ms", g.sw.phase_started_mono);
	OPT_BOOL(sw, "maint_on_ok", g.sw.maint_on_ok);
	g.sw.failed_phase = ENG_PH_DONE;
	if (json_object_get(sw, "failed_phase") != NULL)
		NAME(sw, "failed_phase", eng_phase_parse, g.sw.failed_phase);

	STACK(dns, "pub", g.pub_stack);
	I64(dns, "pub_ttl", g.pub_ttl);
	STACK(dns, "want", g.want_stack);
	I64(dns, "want_ttl", g.want_ttl);
	I64(dns, "ticket", g.dns_ticket);
	STACK(dns, "sent", g.dns_sent_stack);
	I64(dns, "sent_ttl", g.dns_sent_ttl);
	I64(dns, "last_ticket", g.dns_last_ticket);
	I64(dns, "failures", g.dns_failures);
	I64(dns, "retry_ms", g.dns_retry_ms);
	STACK(dns, "online", g.online);
	/* The server's last verdict (the dns_unusable gate). */
	j = json_object_get(dns, "error");
	if (j != NULL && (!json_is_string(j) ||
	    strlen(json_string_value(j)) >= sizeof(g.dns_error))) {
		bad = "dns.error";
		goto bad;
	}
	if (j != NULL)
		strcpy(g.dns_error, json_string_value(j));
	OPT_BOOL(dns, "error_final", g.dns_error_final);
	OPT_I64(dns, "error_run", g.dns_error_run);
	OPT_BOOL(dns, "checked", g.dns_checked);

	BOOL(pre, "running", g.precheck_running);
	BOOL(pre, "ok", g.precheck_ok);
	I64(pre, "next_ms", g.precheck_next_ms);
	I64(pre, "exit", g.precheck_exit);
#undef STACK
#undef I64
#undef BOOL
#undef NAME
#undef OPT_I64
#undef OPT_BOOL

	rc = 0;
	/*
	 * Reconcile with the configuration: the roles must be the group's
	 * two stacks.  A stack renamed or removed, or a group whose
	 * primary/backup changed, resets the roles to the configuration.
	 */
	if (grp->primary < 0) {
		if (g.status != ENG_RESERVED || g.active != ENG_NONE)
			rc = ENG_DECODE_RESET;
		g.status = ENG_RESERVED;
		g.active = g.standby = ENG_NONE;
		g.pinned = ENG_NONE;
		g.want_stack = ENG_NONE;
	} else {
		bool ok = g.status != ENG_RESERVED &&
		    ((g.active == grp->primary && g.standby == grp->backup) ||
		    (g.active == grp->backup && g.standby == grp->primary &&
		    grp->backup != ENG_NONE));

		if (g.status == ENG_SWITCHING && ok &&
		    (g.sw.from != g.active || g.sw.to != g.standby))
			ok = false;
		if (!ok) {
			rc = ENG_DECODE_RESET;
			if (g.status == ENG_SWITCHING) {
				g.status = ENG_FAILED;
				g.sw.running = false;
			} else if (g.status == ENG_RESERVED)
				g.status = ENG_SERVING;
			g.active = grp->primary;
			g.standby = grp->backup;
			if (g.pinned != g.active && g.pinned != g.standby)
				g.pinned = ENG_NONE;
		}
	}
	memcpy(out, &g, sizeof(g));
	goto out;
bad:
	seterr(err, errlen, "group state: field %s missing or invalid", bad);
	rc = ENG_E_CODEC;
out:
	json_decref(root);
	return rc;
}

int
eng_journal_encode(const struct eng_group *g, const struct config *cfg,
    uint64_t epoch, char **out, size_t *len)
{
	json_t *j;
	char *s;

	*out = NULL;
	*len = 0;
	if ((j = eng_group_to_json(g, cfg)) == NULL)
		return ENG_E_CODEC;
	if (epoch > 0 && json_object_set_new(j, "epoch",
	    json_integer((json_int_t)epoch)) != 0) {
		json_decref(j);
		return ENG_E_CODEC;
	}
	s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(j);
	if (s == NULL)
		return ENG_E_CODEC;
	*out = s;
	*len = strlen(s);
	return 0;
}

int
eng_journal_decode(const char *buf, size_t len, const struct config *cfg,
    struct eng_group *g, uint64_t *epoch, char *err, size_t errlen)
{
	struct eng_group tmp;
	json_t *root, *e;
	json_int_t v = 0;
	int rc;

	if ((rc = eng_group_decode(buf, len, cfg, &tmp, err, errlen)) < 0)
		return rc;
	/* Decoded once already: it is a JSON object. */
	root = json_loadb(buf, len, 0, NULL);
	e = json_object_get(root, "epoch");
	if (e != NULL && (!json_is_integer(e) ||
	    (v = json_integer_value(e)) < 0)) {
		json_decref(root);
		seterr(err, errlen, "journal entry: epoch: not a non-negative"
		    " integer");
		return ENG_E_CODEC;
	}
	json_decref(root);
	*g = tmp;
	if (epoch != NULL)
		*epoch = (uint64_t)v;
	return rc;
}
