/*
 * cl_msg.c - JSON for etcd's v3 gateway: build requests, parse answers.
 *
 * Parsing is strict about types and lenient about absence, as proto3's
 * JSON form requires (cl_msg.h): a missing number is 0, a number that is
 * a string of digits is a number, anything else where a number belongs
 * (an object, "12x", a value beyond 64 bits) is CL_E_PROTOCOL naming the
 * field.  Only what an answer cannot lack is required: the header with
 * its revision (every unary answer has one; etcd's revisions start at 1),
 * a key in every kv, a lease ID in a grant.
 *
 * Everything an answer yields lives in one arena (struct cl_mem, a list
 * of blocks), so a parse that fails half-way frees with one call, and a
 * caller frees a whole answer with one call.
 */
#include "cluster/cl_msg.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cluster/cl_b64.h"

/* gRPC status codes (google.golang.org/grpc/codes). */
enum {
	GRPC_UNKNOWN = 2,
	GRPC_INVALID_ARGUMENT = 3,
	GRPC_DEADLINE_EXCEEDED = 4,
	GRPC_NOT_FOUND = 5,
	GRPC_RESOURCE_EXHAUSTED = 8,
	GRPC_FAILED_PRECONDITION = 9,
	GRPC_ABORTED = 10,
	GRPC_OUT_OF_RANGE = 11,
	GRPC_INTERNAL = 13,
	GRPC_UNAVAILABLE = 14,
};

struct cl_mem {
	struct cl_mem	*next;
	size_t		 used, cap;
	/* data follows, max_align_t aligned */
};
#define MEM_ALIGN	(sizeof(max_align_t))
#define MEM_HDR		((sizeof(struct cl_mem) + MEM_ALIGN - 1) / MEM_ALIGN * MEM_ALIGN)
#define MEM_BLOCK	4096

static void	*mem_alloc(struct cl_mem **, size_t);
static void	 mem_free(struct cl_mem *);
static void	 detail_set(char *, size_t, const char *, ...)
		    __attribute__((format(printf, 3, 4)));
static int	 load(const char *, size_t, json_t **, char *, size_t);
static int	 get_i64(json_t *, const char *, int64_t *, char *, size_t);
static int	 get_u64(json_t *, const char *, uint64_t *, char *, size_t);
static int	 get_bool(json_t *, const char *, bool *, char *, size_t);
static int	 get_bytes(struct cl_mem **, json_t *, const char *, bool,
		    const char **, size_t *, char *, size_t);
static int	 parse_header(json_t *, struct cl_header *, bool, char *,
		    size_t);
static int	 parse_kv(struct cl_mem **, json_t *, struct cl_kv *, char *,
		    size_t);
static int	 parse_kvs(struct cl_mem **, json_t *, const char *,
		    struct cl_op_result *, char *, size_t);
static int	 parse_op_result(struct cl_mem **, enum cl_op_kind, json_t *,
		    struct cl_op_result *, char *, size_t);
static int	 parse_txn(struct cl_mem **, json_t *, struct cl_resp *,
		    char *, size_t);
static int	 error_object(json_t *, int, char *, size_t);
static int	 grpc_to_error(int, const char *);
static int	 put_i64(json_t *, const char *, int64_t);
static int	 put_bytes(json_t *, const char *, const void *, size_t);
static int	 put_key_range(json_t *, const char *, bool);
static json_t	*op_object(const struct cl_op *);
static int	 dump(json_t *, char **);

/* --- errors ---------------------------------------------------------- */

const char *
cl_strerror(int err)
{
	switch (err) {
	case 0:
		return "no error";
	case CL_E_NOMEM:
		return "out of memory";
	case CL_E_INVALID:
		return "invalid argument";
	case CL_E_UNAVAILABLE:
		return "no etcd endpoint could serve the request";
	case CL_E_PROTOCOL:
		return "not an answer of the etcd gateway";
	case CL_E_NOTFOUND:
		return "lease not found (expired or revoked)";
	case CL_E_COMPACTED:
		return "revision compacted";
	case CL_E_REFUSED:
		return "etcd refused the request";
	case CL_E_CURL:
		return "libcurl failed";
	case CL_E_EVENT:
		return "libevent failed";
	case CL_E_NOTLEADER:
		return "not the leader";
	case CL_E_FENCED:
		return "the leader key is no longer ours";
	}
	return "unknown error";
}

const char *
cl_error_name(int err)
{
	switch (err) {
	case 0:
		return "ok";
	case CL_E_NOMEM:
		return "no_memory";
	case CL_E_INVALID:
		return "invalid";
	case CL_E_UNAVAILABLE:
		return "unavailable";
	case CL_E_PROTOCOL:
		return "protocol";
	case CL_E_NOTFOUND:
		return "not_found";
	case CL_E_COMPACTED:
		return "compacted";
	case CL_E_REFUSED:
		return "refused";
	case CL_E_CURL:
		return "curl";
	case CL_E_EVENT:
		return "event";
	case CL_E_NOTLEADER:
		return "not_leader";
	case CL_E_FENCED:
		return "fenced";
	}
	return "unknown";
}

static void
detail_set(char *d, size_t dl, const char *fmt, ...)
{
	va_list	 ap;

	if (d == NULL || dl == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(d, dl, fmt, ap);
	va_end(ap);
}

/* --- the arena ------------------------------------------------------- */

static void *
mem_alloc(struct cl_mem **head, size_t n)
{
	struct cl_mem	*m = *head;
	size_t		 cap;
	void		*p;

	n = (n + MEM_ALIGN - 1) / MEM_ALIGN * MEM_ALIGN;
	if (n == 0)
		n = MEM_ALIGN;
	if (m == NULL || m->cap - m->used < n) {
		cap = n > MEM_BLOCK ? n : MEM_BLOCK;
		if ((m = malloc(MEM_HDR + cap)) == NULL)
			return NULL;
		m->used = 0;
		m->cap = cap;
		m->next = *head;
		*head = m;
	}
	p = (char *)m + MEM_HDR + m->used;
	m->used += n;
	memset(p, 0, n);
	return p;
}

static void
mem_free(struct cl_mem *m)
{
	struct cl_mem	*next;

	for (; m != NULL; m = next) {
		next = m->next;
		free(m);
	}
}

void
cl_resp_free(struct cl_resp *r)
{
	if (r == NULL)
		return;
	mem_free(r->mem);
	memset(r, 0, sizeof(*r));
}

void
cl_watch_msg_free(struct cl_watch_msg *w)
{
	if (w == NULL)
		return;
	mem_free(w->mem);
	memset(w, 0, sizeof(*w));
}

/* --- fields ---------------------------------------------------------- */

static int
load(const char *body, size_t len, json_t **out, char *d, size_t dl)
{
	json_error_t	 je;

	*out = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
	if (*out == NULL) {
		detail_set(d, dl, "not JSON: %s", je.text);
		return CL_E_PROTOCOL;
	}
	if (!json_is_object(*out)) {
		json_decref(*out);
		*out = NULL;
		detail_set(d, dl, "not a JSON object");
		return CL_E_PROTOCOL;
	}
	return 0;
}

/* A decimal integer in a string, all of it; false if not or too big. */
static bool
str_to_i64(const char *s, int64_t *out)
{
	char		*end;
	long long	 v;

	if (*s == '\0' || (*s != '-' && (*s < '0' || *s > '9')))
		return false;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || (s[0] == '-' && s[1] == '\0'))
		return false;
	*out = v;
	return true;
}

static bool
str_to_u64(const char *s, uint64_t *out)
{
	char			*end;
	unsigned long long	 v;

	if (*s < '0' || *s > '9')
		return false;	/* strtoull takes "-1" */
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return false;
	*out = v;
	return true;
}

static int
get_i64(json_t *o, const char *name, int64_t *out, char *d, size_t dl)
{
	json_t	*v = json_object_get(o, name);

	*out = 0;
	if (v == NULL || json_is_null(v))
		return 0;
	if (json_is_integer(v)) {
		*out = json_integer_value(v);
		return 0;
	}
	if (json_is_string(v) && str_to_i64(json_string_value(v), out))
		return 0;
	detail_set(d, dl, "%s: not a 64-bit integer", name);
	return CL_E_PROTOCOL;
}

static int
get_u64(json_t *o, const char *name, uint64_t *out, char *d, size_t dl)
{
	json_t	*v = json_object_get(o, name);

	*out = 0;
	if (v == NULL || json_is_null(v))
		return 0;
	if (json_is_integer(v) && json_integer_value(v) >= 0) {
		*out = (uint64_t)json_integer_value(v);
		return 0;
	}
	if (json_is_string(v) && str_to_u64(json_string_value(v), out))
		return 0;
	detail_set(d, dl, "%s: not an unsigned 64-bit integer", name);
	return CL_E_PROTOCOL;
}

static int
get_bool(json_t *o, const char *name, bool *out, char *d, size_t dl)
{
	json_t	*v = json_object_get(o, name);

	*out = false;
	if (v == NULL || json_is_null(v))
		return 0;
	if (json_is_boolean(v)) {
		*out = json_is_true(v);
		return 0;
	}
	detail_set(d, dl, "%s: not a boolean", name);
	return CL_E_PROTOCOL;
}

/* A base64 field, decoded into the arena and NUL-terminated. */
static int
get_bytes(struct cl_mem **mem, json_t *o, const char *name, bool required,
    const char **out, size_t *len, char *d, size_t dl)
{
	json_t		*v = json_object_get(o, name);
	const char	*s;
	size_t		 n;
	char		*buf;

	*out = "";
	*len = 0;
	if (v == NULL || json_is_null(v)) {
		if (!required)
			return 0;
		detail_set(d, dl, "%s: missing", name);
		return CL_E_PROTOCOL;
	}
	if (!json_is_string(v)) {
		detail_set(d, dl, "%s: not a string", name);
		return CL_E_PROTOCOL;
	}
	s = json_string_value(v);
	n = json_string_length(v);
	if (n == 0 && required) {
		detail_set(d, dl, "%s: empty", name);
		return CL_E_PROTOCOL;
	}
	if ((buf = mem_alloc(mem, cl_b64_decoded_max(n) + 1)) == NULL)
		return CL_E_NOMEM;
	if (!cl_b64_decode(s, n, buf, len)) {
		detail_set(d, dl, "%s: not base64", name);
		return CL_E_PROTOCOL;
	}
	buf[*len] = '\0';
	*out = buf;
	return 0;
}

static int
parse_header(json_t *o, struct cl_header *h, bool need_revision, char *d,
    size_t dl)
{
	json_t	*hv = json_object_get(o, "header");
	int	 rc;

	memset(h, 0, sizeof(*h));
	if (hv == NULL || !json_is_object(hv)) {
		if (!need_revision && hv == NULL)
			return 0;
		detail_set(d, dl, "header: missing or not an object");
		return CL_E_PROTOCOL;
	}
	if ((rc = get_u64(hv, "cluster_id", &h->cluster_id, d, dl)) != 0 ||
	    (rc = get_u64(hv, "member_id", &h->member_id, d, dl)) != 0 ||
	    (rc = get_i64(hv, "revision", &h->revision, d, dl)) != 0 ||
	    (rc = get_i64(hv, "raft_term", &h->raft_term, d, dl)) != 0)
		return rc;
	if (need_revision && h->revision <= 0) {
		detail_set(d, dl, "header: no revision");
		return CL_E_PROTOCOL;
	}
	return 0;
}

static int
parse_kv(struct cl_mem **mem, json_t *o, struct cl_kv *kv, char *d,
    size_t dl)
{
	int	 rc;

	if (!json_is_object(o)) {
		detail_set(d, dl, "kv: not an object");
		return CL_E_PROTOCOL;
	}
	if ((rc = get_bytes(mem, o, "key", true, &kv->key, &kv->key_len, d,
	    dl)) != 0 ||
	    (rc = get_bytes(mem, o, "value", false, &kv->value,
	    &kv->value_len, d, dl)) != 0 ||
	    (rc = get_i64(o, "create_revision", &kv->create_revision, d,
	    dl)) != 0 ||
	    (rc = get_i64(o, "mod_revision", &kv->mod_revision, d, dl)) != 0 ||
	    (rc = get_i64(o, "version", &kv->version, d, dl)) != 0 ||
	    (rc = get_i64(o, "lease", &kv->lease, d, dl)) != 0)
		return rc;
	return 0;
}

/* An array of kvs under name (absent: none) into r->kvs. */
static int
parse_kvs(struct cl_mem **mem, json_t *o, const char *name,
    struct cl_op_result *r, char *d, size_t dl)
{
	json_t		*a = json_object_get(o, name), *v;
	struct cl_kv	*kvs;
	size_t		 i;
	int		 rc;

	r->kvs = NULL;
	r->nkvs = 0;
	if (a == NULL || json_is_null(a))
		return 0;
	if (!json_is_array(a)) {
		detail_set(d, dl, "%s: not an array", name);
		return CL_E_PROTOCOL;
	}
	if (json_array_size(a) == 0)
		return 0;
	if ((kvs = mem_alloc(mem, json_array_size(a) * sizeof(*kvs))) == NULL)
		return CL_E_NOMEM;
	json_array_foreach(a, i, v) {
		if ((rc = parse_kv(mem, v, &kvs[i], d, dl)) != 0)
			return rc;
	}
	r->kvs = kvs;
	r->nkvs = json_array_size(a);
	return 0;
}

/* A RangeResponse, PutResponse or DeleteRangeResponse object. */
static int
parse_op_result(struct cl_mem **mem, enum cl_op_kind kind, json_t *o,
    struct cl_op_result *r, char *d, size_t dl)
{
	struct cl_header h;
	int		 rc;

	memset(r, 0, sizeof(*r));
	r->kind = kind;
	if (!json_is_object(o)) {
		detail_set(d, dl, "response: not an object");
		return CL_E_PROTOCOL;
	}
	/* Inside a txn a response's header holds only the revision. */
	if ((rc = parse_header(o, &h, false, d, dl)) != 0)
		return rc;
	r->revision = h.revision;
	switch (kind) {
	case CL_OP_RANGE:
		if ((rc = parse_kvs(mem, o, "kvs", r, d, dl)) != 0 ||
		    (rc = get_i64(o, "count", &r->count, d, dl)) != 0 ||
		    (rc = get_bool(o, "more", &r->more, d, dl)) != 0)
			return rc;
		break;
	case CL_OP_PUT:
		if ((rc = parse_kvs(mem, o, "prev_kv", r, d, dl)) != 0)
			return rc;
		break;
	case CL_OP_DELETE:
		if ((rc = parse_kvs(mem, o, "prev_kvs", r, d, dl)) != 0 ||
		    (rc = get_i64(o, "deleted", &r->count, d, dl)) != 0)
			return rc;
		break;
	}
	return 0;
}

/*
 * PutResponse.prev_kv is one object, not an array: wrap it so that
 * parse_kvs reads both shapes the same way.
 */
static int
fix_prev_kv(json_t *o)
{
	json_t	*pk, *a;

	if (!json_is_object(o) || (pk = json_object_get(o, "prev_kv")) == NULL ||
	    !json_is_object(pk))
		return 0;
	if ((a = json_array()) == NULL || json_array_append(a, pk) != 0 ||
	    json_object_set_new(o, "prev_kv", a) != 0)
		return CL_E_NOMEM;
	return 0;
}

static int
parse_txn(struct cl_mem **mem, json_t *o, struct cl_resp *r, char *d,
    size_t dl)
{
	json_t			*a, *v, *inner;
	struct cl_op_result	*ops;
	enum cl_op_kind		 kind;
	size_t			 i;
	int			 rc;

	if ((rc = get_bool(o, "succeeded", &r->succeeded, d, dl)) != 0)
		return rc;
	a = json_object_get(o, "responses");
	if (a == NULL || json_is_null(a))
		return 0;
	if (!json_is_array(a)) {
		detail_set(d, dl, "responses: not an array");
		return CL_E_PROTOCOL;
	}
	if (json_array_size(a) == 0)
		return 0;
	if ((ops = mem_alloc(mem, json_array_size(a) * sizeof(*ops))) == NULL)
		return CL_E_NOMEM;
	json_array_foreach(a, i, v) {
		if (!json_is_object(v) || json_object_size(v) != 1) {
			detail_set(d, dl, "responses[%zu]: not one response",
			    i);
			return CL_E_PROTOCOL;
		}
		if ((inner = json_object_get(v, "response_range")) != NULL)
			kind = CL_OP_RANGE;
		else if ((inner = json_object_get(v, "response_put")) != NULL)
			kind = CL_OP_PUT;
		else if ((inner = json_object_get(v,
		    "response_delete_range")) != NULL)
			kind = CL_OP_DELETE;
		else {
			detail_set(d, dl, "responses[%zu]: unknown response",
			    i);
			return CL_E_PROTOCOL;
		}
		if (kind == CL_OP_PUT && (rc = fix_prev_kv(inner)) != 0)
			return rc;
		if ((rc = parse_op_result(mem, kind, inner, &ops[i], d,
		    dl)) != 0)
			return rc;
	}
	r->ops = ops;
	r->nops = json_array_size(a);
	return 0;
}

/* --- errors from etcd ------------------------------------------------ */

static int
grpc_to_error(int code, const char *msg)
{
	switch (code) {
	case GRPC_NOT_FOUND:
		return CL_E_NOTFOUND;
	case GRPC_OUT_OF_RANGE:
		if (msg != NULL && strstr(msg, "compacted") != NULL)
			return CL_E_COMPACTED;
		return CL_E_REFUSED;
	case GRPC_UNKNOWN:		/* "context deadline exceeded" */
	case GRPC_DEADLINE_EXCEEDED:
	case GRPC_RESOURCE_EXHAUSTED:
	case GRPC_ABORTED:
	case GRPC_INTERNAL:
	case GRPC_UNAVAILABLE:		/* no leader, request timed out */
		return CL_E_UNAVAILABLE;
	}
	return CL_E_REFUSED;
}

/*
 * If o is an error object, the error it names (never 0) with etcd's
 * message in detail; 0 if it is not one.
 */
static int
error_object(json_t *o, int http_status, char *d, size_t dl)
{
	json_t		*e = json_object_get(o, "error"), *m;
	const char	*msg = NULL;
	int64_t		 code = -1;

	if (e == NULL)
		return 0;
	if (json_is_object(e)) {
		/* The stream form. */
		if (get_i64(e, "grpc_code", &code, NULL, 0) != 0 ||
		    json_object_get(e, "grpc_code") == NULL)
			code = -1;
		m = json_object_get(e, "message");
		msg = json_is_string(m) ? json_string_value(m) : NULL;
		if (code < 0 && http_status == 0) {
			int64_t hc = 0;

			if (get_i64(e, "http_code", &hc, NULL, 0) == 0)
				http_status = (int)hc;
		}
	} else if (json_is_string(e) && json_string_length(e) > 0) {
		m = json_object_get(o, "message");
		msg = json_is_string(m) ? json_string_value(m) :
		    json_string_value(e);
		if (json_object_get(o, "code") == NULL ||
		    get_i64(o, "code", &code, NULL, 0) != 0)
			code = -1;
	} else
		return 0;
	if (code >= 0)
		detail_set(d, dl, "%s (grpc code %" PRId64 ")",
		    msg != NULL ? msg : "error", code);
	else
		detail_set(d, dl, "%s", msg != NULL ? msg : "error");
	if (code >= 0)
		return grpc_to_error((int)code, msg);
	return http_status >= 500 ? CL_E_UNAVAILABLE : CL_E_REFUSED;
}

int
cl_msg_parse_error(const char *body, size_t len, int http_status, char *d,
    size_t dl)
{
	json_t	*o = NULL;
	int	 rc;
	json_error_t je;

	o = json_loadb(body != NULL ? body : "", body != NULL ? len : 0, 0,
	    &je);
	if (o != NULL && json_is_object(o) &&
	    (rc = error_object(o, http_status, d, dl)) != 0) {
		json_decref(o);
		return rc;
	}
	json_decref(o);
	/* 408: Go's server gave up reading the request (a member shutting
	 * down); 429: too many requests.  Both are the member's, not etcd's. */
	if (http_status >= 500 || http_status == 408 || http_status == 429) {
		detail_set(d, dl, "HTTP status %d", http_status);
		return CL_E_UNAVAILABLE;
	}
	detail_set(d, dl, "HTTP status %d without an etcd error", http_status);
	return CL_E_PROTOCOL;
}

/* --- answers --------------------------------------------------------- */

int
cl_msg_parse(enum cl_msg_kind kind, const char *body, size_t len,
    struct cl_resp *out, char *d, size_t dl)
{
	json_t		*root = NULL, *o;
	struct cl_mem	*mem = NULL;
	int		 rc;

	memset(out, 0, sizeof(*out));
	out->kind = kind;
	if (d != NULL && dl > 0)
		d[0] = '\0';
	if (kind == CL_MSG_WATCH || cl_msg_path(kind)[0] == '\0') {
		detail_set(d, dl, "not a unary call");
		return CL_E_INVALID;
	}
	if ((rc = load(body, len, &root, d, dl)) != 0)
		return rc;
	if ((rc = error_object(root, 0, d, dl)) != 0)
		goto fail;
	o = root;
	if (kind == CL_MSG_KEEPALIVE) {
		o = json_object_get(root, "result");
		if (o == NULL || !json_is_object(o)) {
			detail_set(d, dl, "result: missing or not an object");
			rc = CL_E_PROTOCOL;
			goto fail;
		}
	}
	if ((rc = parse_header(o, &out->header, true, d, dl)) != 0)
		goto fail;
	switch (kind) {
	case CL_MSG_GRANT:
	case CL_MSG_KEEPALIVE:
		if ((rc = get_i64(o, "ID", &out->lease_id, d, dl)) != 0 ||
		    (rc = get_i64(o, "TTL", &out->lease_ttl, d, dl)) != 0)
			goto fail;
		if (kind == CL_MSG_GRANT) {
			/* (LeaseGrantResponse.error was error_object's.) */
			if (out->lease_id == 0 || out->lease_ttl <= 0) {
				detail_set(d, dl, "grant without ID or TTL");
				rc = CL_E_PROTOCOL;
				goto fail;
			}
		} else if (out->lease_ttl <= 0) {
			/* etcd answers a lease it does not know with TTL 0. */
			detail_set(d, dl, "lease %" PRId64 " not found",
			    out->lease_id);
			rc = CL_E_NOTFOUND;
			goto fail;
		}
		break;
	case CL_MSG_REVOKE:
		break;
	case CL_MSG_RANGE:
	case CL_MSG_PUT:
	case CL_MSG_DELETE:
		if (kind == CL_MSG_PUT && (rc = fix_prev_kv(o)) != 0)
			goto fail;
		rc = parse_op_result(&mem, kind == CL_MSG_RANGE ? CL_OP_RANGE :
		    kind == CL_MSG_PUT ? CL_OP_PUT : CL_OP_DELETE, o, &out->op,
		    d, dl);
		if (rc != 0)
			goto fail;
		break;
	case CL_MSG_TXN:
		if ((rc = parse_txn(&mem, o, out, d, dl)) != 0)
			goto fail;
		break;
	default:
		detail_set(d, dl, "not a unary call");
		rc = CL_E_INVALID;
		goto fail;
	}
	json_decref(root);
	out->mem = mem;
	return 0;
fail:
	json_decref(root);
	mem_free(mem);
	memset(out, 0, sizeof(*out));
	out->kind = kind;
	return rc;
}

int
cl_msg_parse_watch(const char *line, size_t len, struct cl_watch_msg *out,
    char *d, size_t dl)
{
	json_t		*root = NULL, *o, *a, *v;
	struct cl_mem	*mem = NULL;
	struct cl_event	*evs = NULL;
	const char	*type, *reason = "";
	size_t		 i;
	int		 rc;

	memset(out, 0, sizeof(*out));
	if (d != NULL && dl > 0)
		d[0] = '\0';
	if ((rc = load(line, len, &root, d, dl)) != 0)
		return rc;
	if ((rc = error_object(root, 0, d, dl)) != 0)
		goto fail;
	o = json_object_get(root, "result");
	if (o == NULL || !json_is_object(o)) {
		detail_set(d, dl, "result: missing or not an object");
		rc = CL_E_PROTOCOL;
		goto fail;
	}
	if ((rc = parse_header(o, &out->header, false, d, dl)) != 0 ||
	    (rc = get_i64(o, "watch_id", &out->watch_id, d, dl)) != 0 ||
	    (rc = get_bool(o, "created", &out->created, d, dl)) != 0 ||
	    (rc = get_bool(o, "canceled", &out->canceled, d, dl)) != 0 ||
	    (rc = get_i64(o, "compact_revision", &out->compact_revision, d,
	    dl)) != 0)
		goto fail;
	if ((v = json_object_get(o, "cancel_reason")) != NULL) {
		char *s;

		if (!json_is_string(v)) {
			detail_set(d, dl, "cancel_reason: not a string");
			rc = CL_E_PROTOCOL;
			goto fail;
		}
		rc = CL_E_NOMEM;
		if ((s = mem_alloc(&mem, json_string_length(v) + 1)) == NULL)
			goto fail;
		memcpy(s, json_string_value(v), json_string_length(v));
		reason = s;
	}
	out->cancel_reason = reason;
	if (!out->canceled && !out->created && out->header.revision <= 0) {
		/* Events and progress carry the revision they are as of. */
		detail_set(d, dl, "header: no revision");
		rc = CL_E_PROTOCOL;
		goto fail;
	}
	a = json_object_get(o, "events");
	if (a != NULL && !json_is_null(a)) {
		if (!json_is_array(a)) {
			detail_set(d, dl, "events: not an array");
			rc = CL_E_PROTOCOL;
			goto fail;
		}
		rc = CL_E_NOMEM;
		if (json_array_size(a) > 0 && (evs = mem_alloc(&mem,
		    json_array_size(a) * sizeof(*evs))) == NULL)
			goto fail;
		json_array_foreach(a, i, v) {
			json_t *t;

			if (!json_is_object(v)) {
				detail_set(d, dl, "events[%zu]: not an object",
				    i);
				rc = CL_E_PROTOCOL;
				goto fail;
			}
			t = json_object_get(v, "type");
			type = t == NULL ? "PUT" : json_string_value(t);
			if (type != NULL && strcmp(type, "PUT") == 0)
				evs[i].type = CL_EV_PUT;
			else if (type != NULL && strcmp(type, "DELETE") == 0)
				evs[i].type = CL_EV_DELETE;
			else {
				detail_set(d, dl, "events[%zu]: bad type", i);
				rc = CL_E_PROTOCOL;
				goto fail;
			}
			if ((rc = parse_kv(&mem, json_object_get(v, "kv"),
			    &evs[i].kv, d, dl)) != 0)
				goto fail;
			if (evs[i].kv.mod_revision <= 0) {
				detail_set(d, dl, "events[%zu]: no mod_revision",
				    i);
				rc = CL_E_PROTOCOL;
				goto fail;
			}
		}
		if (json_array_size(a) > 0) {
			out->events = evs;
			out->nevents = json_array_size(a);
		}
	}
	json_decref(root);
	out->mem = mem;
	return 0;
fail:
	json_decref(root);
	mem_free(mem);
	memset(out, 0, sizeof(*out));
	return rc;
}

/* --- requests -------------------------------------------------------- */

const char *
cl_msg_path(enum cl_msg_kind kind)
{
	switch (kind) {
	case CL_MSG_GRANT:
		return "/v3/lease/grant";
	case CL_MSG_KEEPALIVE:
		return "/v3/lease/keepalive";
	case CL_MSG_REVOKE:
		return "/v3/lease/revoke";
	case CL_MSG_RANGE:
		return "/v3/kv/range";
	case CL_MSG_PUT:
		return "/v3/kv/put";
	case CL_MSG_DELETE:
		return "/v3/kv/deleterange";
	case CL_MSG_TXN:
		return "/v3/kv/txn";
	case CL_MSG_WATCH:
		return "/v3/watch";
	}
	return "";
}

bool
cl_msg_is_stream(enum cl_msg_kind kind)
{
	return kind == CL_MSG_KEEPALIVE || kind == CL_MSG_WATCH;
}

void
cl_msg_prefix_end(const void *key, size_t len, void *out, size_t *outlen)
{
	const unsigned char	*k = key;
	unsigned char		*o = out;
	size_t			 i;

	for (i = len; i > 0; i--) {
		if (k[i - 1] != 0xff) {
			memcpy(o, k, i);
			o[i - 1] = k[i - 1] + 1;
			*outlen = i;
			return;
		}
	}
	o[0] = 0;
	*outlen = 1;
}

/* As a string: the gateway reads 64-bit numbers either way. */
static int
put_i64(json_t *o, const char *name, int64_t v)
{
	char	 buf[24];

	snprintf(buf, sizeof(buf), "%" PRId64, v);
	return json_object_set_new(o, name, json_string(buf)) == 0 ? 0 :
	    CL_E_NOMEM;
}

static int
put_bytes(json_t *o, const char *name, const void *p, size_t n)
{
	char	*buf;
	int	 rc;

	if ((buf = malloc(cl_b64_encoded_len(n) + 1)) == NULL)
		return CL_E_NOMEM;
	cl_b64_encode(p != NULL ? p : "", p != NULL ? n : 0, buf);
	rc = json_object_set_new(o, name, json_string(buf)) == 0 ? 0 :
	    CL_E_NOMEM;
	free(buf);
	return rc;
}

/* "key" and, for a prefix, "range_end".  The empty prefix is all keys:
 * key "\0", range_end "\0". */
static int
put_key_range(json_t *o, const char *key, bool prefix)
{
	size_t	 n = strlen(key), en;
	char	*end;
	int	 rc;

	if (n == 0) {
		if (!prefix)
			return CL_E_INVALID;
		if ((rc = put_bytes(o, "key", "", 1)) != 0)
			return rc;
		return put_bytes(o, "range_end", "", 1);
	}
	if ((rc = put_bytes(o, "key", key, n)) != 0 || !prefix)
		return rc;
	if ((end = malloc(n)) == NULL)
		return CL_E_NOMEM;
	cl_msg_prefix_end(key, n, end, &en);
	rc = put_bytes(o, "range_end", end, en);
	free(end);
	return rc;
}

static int
dump(json_t *o, char **out)
{
	*out = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	return *out != NULL ? 0 : CL_E_NOMEM;
}

int
cl_msg_grant(int64_t ttl_s, int64_t id, char **out)
{
	json_t	*o;

	*out = NULL;
	if (ttl_s < 1)
		return CL_E_INVALID;
	if ((o = json_object()) == NULL)
		return CL_E_NOMEM;
	if (put_i64(o, "TTL", ttl_s) != 0 || put_i64(o, "ID", id) != 0) {
		json_decref(o);
		return CL_E_NOMEM;
	}
	return dump(o, out);
}

int
cl_msg_lease(int64_t id, char **out)
{
	json_t	*o;

	*out = NULL;
	if (id == 0)
		return CL_E_INVALID;
	if ((o = json_object()) == NULL)
		return CL_E_NOMEM;
	if (put_i64(o, "ID", id) != 0) {
		json_decref(o);
		return CL_E_NOMEM;
	}
	return dump(o, out);
}

static bool
op_valid(const struct cl_op *op)
{
	if (op == NULL || op->key == NULL)
		return false;
	switch (op->kind) {
	case CL_OP_RANGE:
		return op->limit >= 0 && op->revision >= 0 &&
		    (op->key[0] != '\0' || op->prefix);
	case CL_OP_PUT:
		return op->key[0] != '\0' && !op->prefix &&
		    (op->value != NULL || op->value_len == 0) &&
		    op->lease >= 0;
	case CL_OP_DELETE:
		return op->key[0] != '\0' || op->prefix;
	}
	return false;
}

/* The request object of one op (RangeRequest, PutRequest ...), or NULL. */
static json_t *
op_object(const struct cl_op *op)
{
	json_t	*o;
	int	 rc = 0;

	if ((o = json_object()) == NULL)
		return NULL;
	rc = put_key_range(o, op->key, op->kind != CL_OP_PUT && op->prefix);
	switch (op->kind) {
	case CL_OP_RANGE:
		if (rc == 0 && op->limit > 0)
			rc = put_i64(o, "limit", op->limit);
		if (rc == 0 && op->revision > 0)
			rc = put_i64(o, "revision", op->revision);
		break;
	case CL_OP_PUT:
		if (rc == 0)
			rc = put_bytes(o, "value", op->value, op->value_len);
		if (rc == 0 && op->lease != 0)
			rc = put_i64(o, "lease", op->lease);
		break;
	case CL_OP_DELETE:
		break;
	}
	if (rc == 0 && op->prev_kv && op->kind != CL_OP_RANGE)
		rc = json_object_set_new(o, "prev_kv", json_true());
	if (rc != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

int
cl_msg_op(const struct cl_op *op, char **out)
{
	json_t	*o;

	*out = NULL;
	if (!op_valid(op))
		return CL_E_INVALID;
	if ((o = op_object(op)) == NULL)
		return CL_E_NOMEM;
	return dump(o, out);
}

static const char *
cmp_target_name(enum cl_cmp_target t)
{
	switch (t) {
	case CL_CMP_VERSION:
		return "VERSION";
	case CL_CMP_CREATE:
		return "CREATE";
	case CL_CMP_MOD:
		return "MOD";
	case CL_CMP_VALUE:
		return "VALUE";
	case CL_CMP_LEASE:
		return "LEASE";
	}
	return NULL;
}

static const char *
cmp_result_name(enum cl_cmp_result r)
{
	switch (r) {
	case CL_CMP_EQUAL:
		return "EQUAL";
	case CL_CMP_GREATER:
		return "GREATER";
	case CL_CMP_LESS:
		return "LESS";
	case CL_CMP_NOT_EQUAL:
		return "NOT_EQUAL";
	}
	return NULL;
}

static json_t *
cmp_object(const struct cl_cmp *c)
{
	json_t		*o;
	const char	*tn = cmp_target_name(c->target);
	const char	*rn = cmp_result_name(c->result);
	int		 rc;

	if ((o = json_object()) == NULL)
		return NULL;
	rc = put_bytes(o, "key", c->key, strlen(c->key));
	if (rc == 0)
		rc = json_object_set_new(o, "target", json_string(tn));
	if (rc == 0)
		rc = json_object_set_new(o, "result", json_string(rn));
	if (rc == 0) {
		switch (c->target) {
		case CL_CMP_VERSION:
			rc = put_i64(o, "version", c->number);
			break;
		case CL_CMP_CREATE:
			rc = put_i64(o, "create_revision", c->number);
			break;
		case CL_CMP_MOD:
			rc = put_i64(o, "mod_revision", c->number);
			break;
		case CL_CMP_VALUE:
			rc = put_bytes(o, "value", c->value, c->value_len);
			break;
		case CL_CMP_LEASE:
			rc = put_i64(o, "lease", c->number);
			break;
		}
	}
	if (rc != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* Append the ops as RequestOp objects to a new array under name. */
static int
put_ops(json_t *txn, const char *name, const struct cl_op *ops, size_t n)
{
	json_t		*a, *w, *o;
	const char	*field;
	size_t		 i;

	if (n == 0)
		return 0;
	if ((a = json_array()) == NULL || json_object_set_new(txn, name, a) != 0)
		return CL_E_NOMEM;
	for (i = 0; i < n; i++) {
		field = ops[i].kind == CL_OP_RANGE ? "request_range" :
		    ops[i].kind == CL_OP_PUT ? "request_put" :
		    "request_delete_range";
		if ((o = op_object(&ops[i])) == NULL)
			return CL_E_NOMEM;
		if ((w = json_object()) == NULL) {
			json_decref(o);
			return CL_E_NOMEM;
		}
		if (json_object_set_new(w, field, o) != 0 ||
		    json_array_append_new(a, w) != 0)
			return CL_E_NOMEM;
	}
	return 0;
}

int
cl_msg_txn(const struct cl_txn *t, char **out)
{
	json_t	*o, *a, *c;
	size_t	 i;
	int	 rc;

	*out = NULL;
	if (t == NULL || (t->ncmp > 0 && t->cmp == NULL) ||
	    (t->nsuccess > 0 && t->success == NULL) ||
	    (t->nfailure > 0 && t->failure == NULL))
		return CL_E_INVALID;
	for (i = 0; i < t->ncmp; i++) {
		const struct cl_cmp *cm = &t->cmp[i];

		if (cm->key == NULL || cm->key[0] == '\0' ||
		    cmp_target_name(cm->target) == NULL ||
		    cmp_result_name(cm->result) == NULL ||
		    (cm->target == CL_CMP_VALUE && cm->value == NULL &&
		    cm->value_len > 0))
			return CL_E_INVALID;
	}
	for (i = 0; i < t->nsuccess; i++)
		if (!op_valid(&t->success[i]))
			return CL_E_INVALID;
	for (i = 0; i < t->nfailure; i++)
		if (!op_valid(&t->failure[i]))
			return CL_E_INVALID;
	if ((o = json_object()) == NULL)
		return CL_E_NOMEM;
	rc = 0;
	if (t->ncmp > 0) {
		if ((a = json_array()) == NULL ||
		    json_object_set_new(o, "compare", a) != 0)
			rc = CL_E_NOMEM;
		for (i = 0; rc == 0 && i < t->ncmp; i++) {
			if ((c = cmp_object(&t->cmp[i])) == NULL ||
			    json_array_append_new(a, c) != 0)
				rc = CL_E_NOMEM;
		}
	}
	if (rc == 0)
		rc = put_ops(o, "success", t->success, t->nsuccess);
	if (rc == 0)
		rc = put_ops(o, "failure", t->failure, t->nfailure);
	if (rc != 0) {
		json_decref(o);
		return rc;
	}
	return dump(o, out);
}

int
cl_msg_watch(const char *key, bool prefix, int64_t start_revision,
    bool progress_notify, char **out)
{
	json_t	*o, *cr;
	int	 rc;

	*out = NULL;
	if (key == NULL || (key[0] == '\0' && !prefix) || start_revision < 0)
		return CL_E_INVALID;
	if ((o = json_object()) == NULL)
		return CL_E_NOMEM;
	if ((cr = json_object()) == NULL ||
	    json_object_set_new(o, "create_request", cr) != 0) {
		json_decref(o);
		return CL_E_NOMEM;
	}
	rc = put_key_range(cr, key, prefix);
	if (rc == 0 && start_revision > 0)
		rc = put_i64(cr, "start_revision", start_revision);
	if (rc == 0 && progress_notify)
		rc = json_object_set_new(cr, "progress_notify", json_true());
	if (rc != 0) {
		json_decref(o);
		return rc;
	}
	return dump(o, out);
}

struct cl_cmp
cl_cmp_mod(const char *key, int64_t rev)
{
	struct cl_cmp c = { 0 };

	c.key = key;
	c.target = CL_CMP_MOD;
	c.result = CL_CMP_EQUAL;
	c.number = rev;
	return c;
}
