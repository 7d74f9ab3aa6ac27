/*
 * cl_schema.c - the cluster's keys and records in etcd (cl_schema.h).
 */
#include "cluster/cl_schema.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cluster/cl.h"

_Static_assert(CFG_CLUSTER_MAX_ETCD <= CL_MAX_ENDPOINTS,
    "[cluster] may list more etcd URLs than the client takes");

static const struct {
	enum cl_key_kind kind;
	const char	*word;		/* after the prefix */
	int		 nnames;	/* names after word, each after '/' */
} kinds[] = {
	{ CL_KEY_LEADER,	"leader",	0 },
	{ CL_KEY_DIGEST,	"digest",	0 },
	{ CL_KEY_MEMBER,	"members",	1 },
	{ CL_KEY_VERDICT,	"verdicts",	2 },
	{ CL_KEY_GROUP,		"groups",	1 },
	{ CL_KEY_COMMAND,	"commands",	2 },
	{ CL_KEY_RUNTIME,	"runtime",	0 },
};
#define NKINDS	(sizeof(kinds) / sizeof(kinds[0]))

static void
why(char *detail, size_t dlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
why(char *detail, size_t dlen, const char *fmt, ...)
{
	va_list ap;

	if (detail == NULL || dlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(detail, dlen, fmt, ap);
	va_end(ap);
}

static int
kind_index(enum cl_key_kind kind)
{
	for (size_t i = 0; i < NKINDS; i++)
		if (kinds[i].kind == kind)
			return (int)i;
	return -1;
}

bool
cl_prefix_valid(const char *p)
{
	size_t n;

	if (p == NULL || p[0] != '/' || (n = strlen(p)) >
	    CFG_CLUSTER_PREFIX_MAX || p[n - 1] != '/')
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c == '/' ? i + 1 < n && p[i + 1] == '/' :
		    !isalnum(c) && c != '.' && c != '_' && c != '-')
			return false;
	}
	return true;
}

/* prefix word [/a [/b]] [/ when dir], or CL_E_INVALID with buf "". */
static int
build(const char *prefix, enum cl_key_kind kind, const char *a,
    const char *b, bool dir, char *buf, size_t len)
{
	int k = kind_index(kind), n;
	int want;

	if (buf != NULL && len > 0)
		buf[0] = '\0';
	if (buf == NULL || len == 0 || k < 0 || !cl_prefix_valid(prefix))
		return CL_E_INVALID;
	want = kinds[k].nnames;
	if (dir && want > 0)
		want = a != NULL && want == 2 ? 1 : 0;
	if ((want >= 1) != (a != NULL) || (want >= 2) != (b != NULL) ||
	    (a != NULL && !config_name_valid(a)) ||
	    (b != NULL && !config_name_valid(b)))
		return CL_E_INVALID;
	n = snprintf(buf, len, "%s%s%s%s%s%s%s", prefix, kinds[k].word,
	    a != NULL ? "/" : "", a != NULL ? a : "", b != NULL ? "/" : "",
	    b != NULL ? b : "", dir && kinds[k].nnames > want ? "/" : "");
	if (n < 0 || (size_t)n >= len) {
		buf[0] = '\0';
		return CL_E_INVALID;
	}
	return n;
}

int
cl_key_build(const char *prefix, enum cl_key_kind kind, const char *a,
    const char *b, char *buf, size_t len)
{
	return build(prefix, kind, a, b, false, buf, len);
}

int
cl_key_dir(const char *prefix, enum cl_key_kind kind, const char *a,
    char *buf, size_t len)
{
	return build(prefix, kind, a, NULL, true, buf, len);
}

/* One name of a key, up to '/' or the end, into out. */
static int
take_name(const char **p, const char *end, char out[CL_NAME_MAX])
{
	const char *s = *p, *slash = memchr(s, '/', (size_t)(end - s));
	size_t n = (size_t)((slash != NULL ? slash : end) - s);

	if (n == 0 || n >= CL_NAME_MAX)
		return -1;
	memcpy(out, s, n);
	out[n] = '\0';
	if (!config_name_valid(out))
		return -1;
	*p = s + n;
	return 0;
}

int
cl_key_parse(const char *prefix, const char *key, size_t len,
    struct cl_key *out, char *detail, size_t dlen)
{
	const char *p, *end = key + len;
	size_t plen;

	if (out != NULL)
		memset(out, 0, sizeof(*out));
	if (out == NULL || key == NULL || !cl_prefix_valid(prefix)) {
		why(detail, dlen, "bad prefix or argument");
		return CL_E_INVALID;
	}
	plen = strlen(prefix);
	if (len < plen || memcmp(key, prefix, plen) != 0) {
		why(detail, dlen, "not under %s", prefix);
		return CL_E_PROTOCOL;
	}
	if (memchr(key, '\0', len) != NULL) {
		why(detail, dlen, "holds a NUL byte");
		return CL_E_PROTOCOL;
	}
	p = key + plen;
	for (size_t i = 0; i < NKINDS; i++) {
		size_t wl = strlen(kinds[i].word);
		const char *q = p + wl;
		char *names[2] = { out->a, out->b };
		int j;

		if ((size_t)(end - p) < wl || memcmp(p, kinds[i].word, wl) != 0 ||
		    (q < end && *q != '/'))
			continue;
		for (j = 0; j < kinds[i].nnames; j++) {
			if (q >= end || *q != '/')
				break;
			q++;
			if (take_name(&q, end, names[j]) == -1) {
				why(detail, dlen, "%.*s: name %d is not a valid "
				    "name", (int)(len - plen), p, j + 1);
				memset(out, 0, sizeof(*out));
				return CL_E_PROTOCOL;
			}
		}
		if (j < kinds[i].nnames || q != end) {
			why(detail, dlen, "%.*s: expected %s%s", (int)(len -
			    plen), p, kinds[i].word, kinds[i].nnames == 0 ? "" :
			    kinds[i].nnames == 1 ? "/NAME" : "/NAME/NAME");
			memset(out, 0, sizeof(*out));
			return CL_E_PROTOCOL;
		}
		out->kind = kinds[i].kind;
		return 0;
	}
	why(detail, dlen, "%.*s: not a key of failoverd's", (int)(len - plen >
	    64 ? 64 : len - plen), p);
	return CL_E_PROTOCOL;
}

int
cl_leader_parse(const char *value, size_t len, char out[CL_NAME_MAX],
    char *detail, size_t dlen)
{
	out[0] = '\0';
	if (value == NULL || len == 0 || len >= CL_NAME_MAX ||
	    memchr(value, '\0', len) != NULL) {
		why(detail, dlen, "leader: expected a member name");
		return CL_E_PROTOCOL;
	}
	memcpy(out, value, len);
	out[len] = '\0';
	if (!config_name_valid(out)) {
		why(detail, dlen, "leader: '%s' is not a valid member name",
		    out);
		out[0] = '\0';
		return CL_E_PROTOCOL;
	}
	return 0;
}

/* --- records --------------------------------------------------------- */

static bool
is_digest(const char *s)
{
	return strlen(s) == 64 && strspn(s, "0123456789abcdef") == 64;
}

static bool
is_reason(const char *s)
{
	size_t n = strlen(s);

	return n < CL_REASON_MAX && strspn(s, "abcdefghijklmnopqrstuvwxyz"
	    "0123456789_") == n;
}

/* Printable ASCII without blanks, as in an http(s) URL or a version. */
static bool
is_word(const char *s)
{
	for (; *s != '\0'; s++)
		if (*s <= ' ' || *s > '~')
			return false;
	return true;
}

static bool
is_url(const char *s)
{
	return strlen(s) < CL_URL_MAX && is_word(s) &&
	    (strncmp(s, "http://", 7) == 0 || strncmp(s, "https://", 8) == 0) &&
	    s[strncmp(s, "http://", 7) == 0 ? 7 : 8] != '\0';
}

/* Parse value into an object and check "v". */
static json_t *
load(const char *value, size_t len, char *detail, size_t dlen, int *rc)
{
	json_error_t je;
	json_t *o, *v;

	*rc = CL_E_PROTOCOL;
	if (value == NULL || len > CL_VALUE_MAX) {
		why(detail, dlen, "value: %zu bytes, longer than %d", len,
		    CL_VALUE_MAX);
		return NULL;
	}
	if ((o = json_loadb(value, len, JSON_REJECT_DUPLICATES, &je)) == NULL) {
		why(detail, dlen, "value: not JSON: %s", je.text);
		return NULL;
	}
	if (!json_is_object(o)) {
		why(detail, dlen, "value: not a JSON object");
		json_decref(o);
		return NULL;
	}
	v = json_object_get(o, "v");
	if (!json_is_integer(v)) {
		why(detail, dlen, "v: missing, or not a number");
		json_decref(o);
		return NULL;
	}
	if (json_integer_value(v) != CL_RECORD_V) {
		why(detail, dlen, "v: version %lld is not known (this member "
		    "reads %d)", (long long)json_integer_value(v), CL_RECORD_V);
		json_decref(o);
		return NULL;
	}
	*rc = 0;
	return o;
}

/* A string field into out (size bytes); optional ones may be absent. */
static int
get_str(json_t *o, const char *field, bool required, char *out, size_t size,
    char *detail, size_t dlen)
{
	json_t *v = json_object_get(o, field);
	const char *s;

	out[0] = '\0';
	if (v == NULL && !required)
		return 0;
	if (!json_is_string(v)) {
		why(detail, dlen, "%s: %s", field, v == NULL ? "missing" :
		    "not a string");
		return -1;
	}
	s = json_string_value(v);
	if (json_string_length(v) != strlen(s) || strlen(s) >= size) {
		why(detail, dlen, "%s: longer than %zu bytes, or holds a NUL",
		    field, size - 1);
		return -1;
	}
	memcpy(out, s, strlen(s) + 1);
	return 0;
}

static int
get_time(json_t *o, const char *field, int64_t *out, char *detail,
    size_t dlen)
{
	json_t *v = json_object_get(o, field);

	if (!json_is_integer(v) || json_integer_value(v) < 0) {
		why(detail, dlen, "%s: %s", field, v == NULL ? "missing" :
		    "not a whole number of milliseconds from 0");
		return -1;
	}
	*out = (int64_t)json_integer_value(v);
	return 0;
}

static int
dump(json_t *o, char **out)
{
	if (o == NULL)
		return CL_E_NOMEM;
	*out = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	return *out != NULL ? 0 : CL_E_NOMEM;
}

/* json_pack's "s" of a string that may be "": left out with "s*"-like
   handling done by hand below. */

int
cl_member_build(const struct cl_member_rec *m, char **out)
{
	json_t *o;

	*out = NULL;
	if (m == NULL || !config_name_valid(m->member) ||
	    !is_digest(m->digest) || (m->advertise[0] != '\0' &&
	    !is_url(m->advertise)) || m->version[0] == '\0' ||
	    !is_word(m->version) || m->started_ms < 0)
		return CL_E_INVALID;
	o = json_pack("{s:i,s:s,s:s}", "v", CL_RECORD_V, "member", m->member,
	    "digest", m->digest);
	if (o != NULL && m->advertise[0] != '\0' && json_object_set_new(o,
	    "advertise", json_string(m->advertise)) != 0) {
		json_decref(o);
		o = NULL;
	}
	if (o != NULL && (json_object_set_new(o, "version",
	    json_string(m->version)) != 0 || json_object_set_new(o,
	    "started_ms", json_integer(m->started_ms)) != 0)) {
		json_decref(o);
		o = NULL;
	}
	return dump(o, out);
}

int
cl_member_parse(const char *value, size_t len, const char *key_member,
    struct cl_member_rec *m, char *detail, size_t dlen)
{
	json_t *o;
	int rc;

	memset(m, 0, sizeof(*m));
	if ((o = load(value, len, detail, dlen, &rc)) == NULL)
		return rc;
	rc = CL_E_PROTOCOL;
	if (get_str(o, "member", true, m->member, sizeof(m->member), detail,
	    dlen) == -1 ||
	    get_str(o, "digest", true, m->digest, sizeof(m->digest), detail,
	    dlen) == -1 ||
	    get_str(o, "advertise", false, m->advertise, sizeof(m->advertise),
	    detail, dlen) == -1 ||
	    get_str(o, "version", true, m->version, sizeof(m->version), detail,
	    dlen) == -1 ||
	    get_time(o, "started_ms", &m->started_ms, detail, dlen) == -1)
		goto out;
	if (!config_name_valid(m->member)) {
		why(detail, dlen, "member: '%s' is not a valid member name",
		    m->member);
		goto out;
	}
	if (key_member != NULL && strcmp(key_member, m->member) != 0) {
		why(detail, dlen, "member: '%s' is not the key's member '%s'",
		    m->member, key_member);
		goto out;
	}
	if (!is_digest(m->digest)) {
		why(detail, dlen, "digest: expected 64 lowercase hex digits");
		goto out;
	}
	if (m->advertise[0] != '\0' && !is_url(m->advertise)) {
		why(detail, dlen, "advertise: not an http:// or https:// URL");
		goto out;
	}
	if (m->version[0] == '\0' || !is_word(m->version)) {
		why(detail, dlen, "version: empty, or not printable");
		goto out;
	}
	rc = 0;
out:
	json_decref(o);
	if (rc != 0)
		memset(m, 0, sizeof(*m));
	return rc;
}

const char *
cl_view_name(enum cl_view v)
{
	switch (v) {
	case CL_VIEW_UP:
		return "up";
	case CL_VIEW_DOWN:
		return "down";
	default:
		return "unknown";
	}
}

int
cl_view_parse(const char *s)
{
	if (s == NULL)
		return -1;
	if (strcmp(s, "unknown") == 0)
		return CL_VIEW_UNKNOWN;
	if (strcmp(s, "up") == 0)
		return CL_VIEW_UP;
	if (strcmp(s, "down") == 0)
		return CL_VIEW_DOWN;
	return -1;
}

/* "" or 16 lowercase hex digits. */
static bool
is_check(const char *s)
{
	size_t n = strlen(s);

	if (n != 0 && n != CL_CHECK_MAX - 1)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

int
cl_verdict_build(const struct cl_verdict *v, char **out)
{
	json_t *o;

	*out = NULL;
	if (v == NULL || (v->view != CL_VIEW_UNKNOWN && v->view != CL_VIEW_UP &&
	    v->view != CL_VIEW_DOWN) || v->since_ms < 0 ||
	    !is_reason(v->reason) || !is_check(v->check))
		return CL_E_INVALID;
	o = json_pack("{s:i,s:s,s:I}", "v", CL_RECORD_V, "view",
	    cl_view_name(v->view), "since_ms", (json_int_t)v->since_ms);
	if (o != NULL && ((v->reason[0] != '\0' && json_object_set_new(o,
	    "reason", json_string(v->reason)) != 0) || (v->check[0] != '\0' &&
	    json_object_set_new(o, "check", json_string(v->check)) != 0))) {
		json_decref(o);
		o = NULL;
	}
	return dump(o, out);
}

int
cl_verdict_parse(const char *value, size_t len, struct cl_verdict *v,
    char *detail, size_t dlen)
{
	char view[16];
	json_t *o;
	int rc, k;

	memset(v, 0, sizeof(*v));
	if ((o = load(value, len, detail, dlen, &rc)) == NULL)
		return rc;
	rc = CL_E_PROTOCOL;
	if (get_str(o, "view", true, view, sizeof(view), detail, dlen) == -1 ||
	    get_time(o, "since_ms", &v->since_ms, detail, dlen) == -1 ||
	    get_str(o, "reason", false, v->reason, sizeof(v->reason), detail,
	    dlen) == -1 || get_str(o, "check", false, v->check,
	    sizeof(v->check), detail, dlen) == -1)
		goto out;
	if (!is_check(v->check)) {
		why(detail, dlen, "check: expected 16 hex digits");
		goto out;
	}
	if ((k = cl_view_parse(view)) < 0) {
		why(detail, dlen, "view: '%s': expected up, down or unknown",
		    view);
		goto out;
	}
	v->view = (enum cl_view)k;
	if (!is_reason(v->reason)) {
		why(detail, dlen, "reason: expected a short name of "
		    "[a-z0-9_]");
		goto out;
	}
	rc = 0;
out:
	json_decref(o);
	if (rc != 0)
		memset(v, 0, sizeof(*v));
	return rc;
}

int
cl_digest_build(const struct cl_digest_rec *d, char **out)
{
	*out = NULL;
	json_t *o;

	if (d == NULL || !is_digest(d->digest) ||
	    !config_name_valid(d->member) || d->since_ms < 0)
		return CL_E_INVALID;
	o = json_pack("{s:i,s:s,s:s}", "v", CL_RECORD_V, "digest", d->digest,
	    "member", d->member);
	if (o != NULL && d->since_ms > 0 && json_object_set_new(o, "since_ms",
	    json_integer(d->since_ms)) != 0) {
		json_decref(o);
		o = NULL;
	}
	return dump(o, out);
}

int
cl_digest_parse(const char *value, size_t len, struct cl_digest_rec *d,
    char *detail, size_t dlen)
{
	json_t *o;
	int rc;

	memset(d, 0, sizeof(*d));
	if ((o = load(value, len, detail, dlen, &rc)) == NULL)
		return rc;
	rc = CL_E_PROTOCOL;
	if (get_str(o, "digest", true, d->digest, sizeof(d->digest), detail,
	    dlen) == -1 || get_str(o, "member", true, d->member,
	    sizeof(d->member), detail, dlen) == -1 ||
	    (json_object_get(o, "since_ms") != NULL &&
	    get_time(o, "since_ms", &d->since_ms, detail, dlen) == -1))
		goto out;
	if (!is_digest(d->digest)) {
		why(detail, dlen, "digest: expected 64 lowercase hex digits");
		goto out;
	}
	if (!config_name_valid(d->member)) {
		why(detail, dlen, "member: '%s' is not a valid member name",
		    d->member);
		goto out;
	}
	rc = 0;
out:
	json_decref(o);
	if (rc != 0)
		memset(d, 0, sizeof(*d));
	return rc;
}
