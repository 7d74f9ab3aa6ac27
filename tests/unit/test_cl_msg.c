/*
 * test_cl_msg.c - etcd gateway JSON: base64, prefix range ends, request
 * bodies, and answers as etcd 3.4 writes them (captured with curl from a
 * real etcd on this machine), plus the ways an answer can be wrong:
 * error bodies, numbers as strings, absent defaults, missing fields,
 * wrong types, garbage.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "cluster/cl_b64.h"
#include "cluster/cl_msg.h"

#define HDR "\"header\":{\"cluster_id\":\"15118495548433857066\"," \
	"\"member_id\":\"13668033151171901709\",\"revision\":\"3\"," \
	"\"raft_term\":\"2\"}"

static char detail[256];

static int
parse(enum cl_msg_kind k, const char *s, struct cl_resp *r)
{
	return cl_msg_parse(k, s, strlen(s), r, detail, sizeof(detail));
}

/* --- base64 ---------------------------------------------------------- */

static void
check_b64(const char *plain, size_t n, const char *enc)
{
	char	 out[128];
	char	 dec[128];
	size_t	 dn;

	assert_int_equal(cl_b64_encoded_len(n), strlen(enc));
	cl_b64_encode(plain, n, out);
	assert_string_equal(out, enc);
	assert_true(cl_b64_decode(enc, strlen(enc), dec, &dn));
	assert_int_equal(dn, n);
	assert_memory_equal(dec, plain, n);
}

static void
test_b64_vectors(void **state)
{
	(void)state;
	/* RFC 4648 section 10. */
	check_b64("", 0, "");
	check_b64("f", 1, "Zg==");
	check_b64("fo", 2, "Zm8=");
	check_b64("foo", 3, "Zm9v");
	check_b64("foob", 4, "Zm9vYg==");
	check_b64("fooba", 5, "Zm9vYmE=");
	check_b64("foobar", 6, "Zm9vYmFy");
	check_b64("\0\xff\xfe", 3, "AP/+");
	check_b64("leader", 6, "bGVhZGVy");
}

static void
test_b64_rejects(void **state)
{
	const char *bad[] = {
		"Zg=", "Zg", "Z===", "====", "Zm9v\n", "Zm 9", "Zm9-",
		"Zh==",		/* unused bits set */
		"Zm9=",		/* unused bits set */
		"Zg==Zg==",	/* padding in the middle */
		"Z=9v",
	};
	char	 out[16];
	size_t	 i, n;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_false(cl_b64_decode(bad[i], strlen(bad[i]), out, &n));
}

/* --- prefix ends ----------------------------------------------------- */

static void
test_prefix_end(void **state)
{
	unsigned char	 out[16];
	size_t		 n;

	(void)state;
	cl_msg_prefix_end("abc", 3, out, &n);
	assert_int_equal(n, 3);
	assert_memory_equal(out, "abd", 3);
	cl_msg_prefix_end("/failoverd/", 11, out, &n);
	assert_int_equal(n, 11);
	assert_memory_equal(out, "/failoverd0", 11);	/* '/' + 1 */
	cl_msg_prefix_end("a\xff\xff", 3, out, &n);
	assert_int_equal(n, 1);
	assert_memory_equal(out, "b", 1);
	cl_msg_prefix_end("\xff\xff", 2, out, &n);
	assert_int_equal(n, 1);
	assert_int_equal(out[0], 0);
	cl_msg_prefix_end("", 0, out, &n);
	assert_int_equal(n, 1);
	assert_int_equal(out[0], 0);
}

/* --- requests -------------------------------------------------------- */

static json_t *
load(const char *s)
{
	json_t	*j = json_loads(s, 0, NULL);

	assert_non_null(j);
	return j;
}

static const char *
jstr(json_t *o, const char *path)
{
	char		 buf[128], *save = NULL, *tok;
	json_t		*v = o;

	snprintf(buf, sizeof(buf), "%s", path);
	for (tok = strtok_r(buf, ".", &save); tok != NULL;
	    tok = strtok_r(NULL, ".", &save)) {
		if (json_is_array(v))
			v = json_array_get(v, (size_t)atoi(tok));
		else
			v = json_object_get(v, tok);
		assert_non_null(v);
	}
	if (json_is_true(v))
		return "true";
	assert_true(json_is_string(v));
	return json_string_value(v);
}

static void
test_build_lease(void **state)
{
	char	*s;
	json_t	*j;

	(void)state;
	assert_int_equal(cl_msg_grant(5, 0, &s), 0);
	j = load(s);
	assert_string_equal(jstr(j, "TTL"), "5");
	assert_string_equal(jstr(j, "ID"), "0");
	json_decref(j);
	free(s);
	assert_int_equal(cl_msg_lease(4111120417220936454LL, &s), 0);
	assert_string_equal(s, "{\"ID\":\"4111120417220936454\"}");
	free(s);
	/* Negative IDs exist: etcd's are int64. */
	assert_int_equal(cl_msg_lease(-2, &s), 0);
	assert_string_equal(s, "{\"ID\":\"-2\"}");
	free(s);
	assert_int_equal(cl_msg_grant(0, 0, &s), CL_E_INVALID);
	assert_null(s);
	assert_int_equal(cl_msg_lease(0, &s), CL_E_INVALID);
}

static void
test_build_ops(void **state)
{
	struct cl_op	 op;
	char		*s;
	json_t		*j;

	(void)state;
	memset(&op, 0, sizeof(op));
	op.kind = CL_OP_RANGE;
	op.key = "/failoverd/groups/";
	op.prefix = true;
	op.limit = 10;
	assert_int_equal(cl_msg_op(&op, &s), 0);
	j = load(s);
	assert_string_equal(jstr(j, "key"), "L2ZhaWxvdmVyZC9ncm91cHMv");
	/* "/failoverd/groups0" */
	assert_string_equal(jstr(j, "range_end"), "L2ZhaWxvdmVyZC9ncm91cHMw");
	assert_string_equal(jstr(j, "limit"), "10");
	assert_null(json_object_get(j, "revision"));
	json_decref(j);
	free(s);

	/* The empty prefix: every key. */
	op.key = "";
	op.limit = 0;
	assert_int_equal(cl_msg_op(&op, &s), 0);
	assert_string_equal(s, "{\"key\":\"AA==\",\"range_end\":\"AA==\"}");
	free(s);

	memset(&op, 0, sizeof(op));
	op.kind = CL_OP_PUT;
	op.key = "k";
	op.value = "\0bin";
	op.value_len = 4;
	op.lease = 4111120417220936454LL;
	assert_int_equal(cl_msg_op(&op, &s), 0);
	j = load(s);
	assert_string_equal(jstr(j, "key"), "aw==");
	assert_string_equal(jstr(j, "value"), "AGJpbg==");
	assert_string_equal(jstr(j, "lease"), "4111120417220936454");
	assert_null(json_object_get(j, "range_end"));
	json_decref(j);
	free(s);

	/* An empty value is a value. */
	op.value = NULL;
	op.value_len = 0;
	op.lease = 0;
	assert_int_equal(cl_msg_op(&op, &s), 0);
	assert_string_equal(s, "{\"key\":\"aw==\",\"value\":\"\"}");
	free(s);

	memset(&op, 0, sizeof(op));
	op.kind = CL_OP_DELETE;
	op.key = "k";
	op.prev_kv = true;
	assert_int_equal(cl_msg_op(&op, &s), 0);
	assert_string_equal(s, "{\"key\":\"aw==\",\"prev_kv\":true}");
	free(s);

	/* Refused: empty key, a put with a prefix, value NULL with a length. */
	memset(&op, 0, sizeof(op));
	op.kind = CL_OP_RANGE;
	op.key = "";
	assert_int_equal(cl_msg_op(&op, &s), CL_E_INVALID);
	op.key = NULL;
	assert_int_equal(cl_msg_op(&op, &s), CL_E_INVALID);
	op.kind = CL_OP_PUT;
	op.key = "k";
	op.prefix = true;
	assert_int_equal(cl_msg_op(&op, &s), CL_E_INVALID);
	op.prefix = false;
	op.value_len = 3;
	assert_int_equal(cl_msg_op(&op, &s), CL_E_INVALID);
	op.kind = (enum cl_op_kind)7;
	op.value_len = 0;
	assert_int_equal(cl_msg_op(&op, &s), CL_E_INVALID);
	assert_int_equal(cl_msg_op(NULL, &s), CL_E_INVALID);
}

static void
test_build_txn(void **state)
{
	struct cl_cmp	 cmp[3];
	struct cl_op	 ok[2], ko[1];
	struct cl_txn	 t;
	char		*s;
	json_t		*j;

	(void)state;
	memset(cmp, 0, sizeof(cmp));
	cmp[0].key = "leader";
	cmp[0].target = CL_CMP_CREATE;
	cmp[0].result = CL_CMP_EQUAL;
	cmp[0].number = 0;
	cmp[1].key = "leader";
	cmp[1].target = CL_CMP_MOD;
	cmp[1].result = CL_CMP_LESS;
	cmp[1].number = 99;
	cmp[2].key = "v";
	cmp[2].target = CL_CMP_VALUE;
	cmp[2].result = CL_CMP_NOT_EQUAL;
	cmp[2].value = "me";
	cmp[2].value_len = 2;
	memset(ok, 0, sizeof(ok));
	ok[0].kind = CL_OP_PUT;
	ok[0].key = "leader";
	ok[0].value = "me";
	ok[0].value_len = 2;
	ok[0].lease = 7;
	ok[1].kind = CL_OP_DELETE;
	ok[1].key = "old/";
	ok[1].prefix = true;
	memset(ko, 0, sizeof(ko));
	ko[0].kind = CL_OP_RANGE;
	ko[0].key = "leader";
	memset(&t, 0, sizeof(t));
	t.cmp = cmp;
	t.ncmp = 3;
	t.success = ok;
	t.nsuccess = 2;
	t.failure = ko;
	t.nfailure = 1;
	assert_int_equal(cl_msg_txn(&t, &s), 0);
	j = load(s);
	assert_string_equal(jstr(j, "compare.0.key"), "bGVhZGVy");
	assert_string_equal(jstr(j, "compare.0.target"), "CREATE");
	assert_string_equal(jstr(j, "compare.0.result"), "EQUAL");
	assert_string_equal(jstr(j, "compare.0.create_revision"), "0");
	assert_string_equal(jstr(j, "compare.1.target"), "MOD");
	assert_string_equal(jstr(j, "compare.1.result"), "LESS");
	assert_string_equal(jstr(j, "compare.1.mod_revision"), "99");
	assert_string_equal(jstr(j, "compare.2.target"), "VALUE");
	assert_string_equal(jstr(j, "compare.2.result"), "NOT_EQUAL");
	assert_string_equal(jstr(j, "compare.2.value"), "bWU=");
	assert_string_equal(jstr(j, "success.0.request_put.key"), "bGVhZGVy");
	assert_string_equal(jstr(j, "success.0.request_put.value"), "bWU=");
	assert_string_equal(jstr(j, "success.0.request_put.lease"), "7");
	assert_string_equal(jstr(j, "success.1.request_delete_range.key"),
	    "b2xkLw==");
	assert_string_equal(jstr(j, "success.1.request_delete_range.range_end"),
	    "b2xkMA==");
	assert_string_equal(jstr(j, "failure.0.request_range.key"), "bGVhZGVy");
	json_decref(j);
	free(s);

	/* LEASE and VERSION targets. */
	memset(&t, 0, sizeof(t));
	cmp[0].target = CL_CMP_LEASE;
	cmp[0].number = -5;
	cmp[1].target = CL_CMP_VERSION;
	cmp[1].result = CL_CMP_GREATER;
	cmp[1].number = 1;
	t.cmp = cmp;
	t.ncmp = 2;
	assert_int_equal(cl_msg_txn(&t, &s), 0);
	j = load(s);
	assert_string_equal(jstr(j, "compare.0.lease"), "-5");
	assert_string_equal(jstr(j, "compare.1.version"), "1");
	assert_string_equal(jstr(j, "compare.1.result"), "GREATER");
	assert_null(json_object_get(j, "success"));
	json_decref(j);
	free(s);

	/* A bad op or compare refuses the whole txn. */
	t.ncmp = 1;
	cmp[0].key = "";
	assert_int_equal(cl_msg_txn(&t, &s), CL_E_INVALID);
	cmp[0].key = "k";
	cmp[0].target = (enum cl_cmp_target)42;
	assert_int_equal(cl_msg_txn(&t, &s), CL_E_INVALID);
	cmp[0].target = CL_CMP_CREATE;
	ok[0].key = "";
	t.success = ok;
	t.nsuccess = 1;
	assert_int_equal(cl_msg_txn(&t, &s), CL_E_INVALID);
	t.success = NULL;
	assert_int_equal(cl_msg_txn(&t, &s), CL_E_INVALID);
	assert_int_equal(cl_msg_txn(NULL, &s), CL_E_INVALID);
}

static void
test_build_watch(void **state)
{
	char	*s;
	json_t	*j;

	(void)state;
	assert_int_equal(cl_msg_watch("foo", true, 42, true, &s), 0);
	j = load(s);
	assert_string_equal(jstr(j, "create_request.key"), "Zm9v");
	assert_string_equal(jstr(j, "create_request.range_end"), "Zm9w");
	assert_string_equal(jstr(j, "create_request.start_revision"), "42");
	assert_string_equal(jstr(j, "create_request.progress_notify"), "true");
	json_decref(j);
	free(s);
	assert_int_equal(cl_msg_watch("foo", false, 0, false, &s), 0);
	assert_string_equal(s, "{\"create_request\":{\"key\":\"Zm9v\"}}");
	free(s);
	assert_int_equal(cl_msg_watch("", false, 0, false, &s), CL_E_INVALID);
	assert_int_equal(cl_msg_watch("k", false, -1, false, &s), CL_E_INVALID);
}

/* --- answers --------------------------------------------------------- */

static void
test_parse_grant_keepalive(void **state)
{
	struct cl_resp	 r;

	(void)state;
	assert_int_equal(parse(CL_MSG_GRANT, "{" HDR ",\"ID\":"
	    "\"4111120417220936454\",\"TTL\":\"5\"}", &r), 0);
	assert_int_equal(r.lease_id, 4111120417220936454LL);
	assert_int_equal(r.lease_ttl, 5);
	assert_int_equal(r.header.revision, 3);
	assert_int_equal(r.header.raft_term, 2);
	/* Unsigned, above INT64_MAX. */
	assert_true(r.header.cluster_id == 15118495548433857066ULL);
	assert_true(r.header.member_id == 13668033151171901709ULL);
	cl_resp_free(&r);

	/* Numbers as numbers are fine too. */
	assert_int_equal(parse(CL_MSG_GRANT, "{\"header\":{\"revision\":9},"
	    "\"ID\":77,\"TTL\":2}", &r), 0);
	assert_int_equal(r.lease_id, 77);
	assert_int_equal(r.lease_ttl, 2);
	cl_resp_free(&r);

	/* A grant without ID, or with the response's error field. */
	assert_int_equal(parse(CL_MSG_GRANT, "{" HDR ",\"TTL\":\"5\"}", &r),
	    CL_E_PROTOCOL);
	assert_int_equal(parse(CL_MSG_GRANT, "{" HDR ",\"ID\":\"1\",\"TTL\":"
	    "\"5\",\"error\":\"lease exists\"}", &r), CL_E_REFUSED);
	assert_string_equal(detail, "lease exists");

	/* Keep-alive: a stream message. */
	assert_int_equal(parse(CL_MSG_KEEPALIVE, "{\"result\":{" HDR ",\"ID\":"
	    "\"4111120417220936465\",\"TTL\":\"5\"}}", &r), 0);
	assert_int_equal(r.lease_id, 4111120417220936465LL);
	assert_int_equal(r.lease_ttl, 5);
	cl_resp_free(&r);
	/* A lease etcd no longer knows: no TTL at all. */
	assert_int_equal(parse(CL_MSG_KEEPALIVE, "{\"result\":{" HDR
	    ",\"ID\":\"12345\"}}", &r), CL_E_NOTFOUND);
	assert_int_equal(r.lease_ttl, 0);
	/* Not wrapped in result. */
	assert_int_equal(parse(CL_MSG_KEEPALIVE, "{" HDR ",\"ID\":\"1\","
	    "\"TTL\":\"5\"}", &r), CL_E_PROTOCOL);
	/* The stream's error form. */
	assert_int_equal(parse(CL_MSG_KEEPALIVE, "{\"error\":{\"grpc_code\":14,"
	    "\"http_code\":503,\"message\":\"etcdserver: no leader\","
	    "\"http_status\":\"Service Unavailable\"}}", &r), CL_E_UNAVAILABLE);
	assert_non_null(strstr(detail, "no leader"));

	assert_int_equal(parse(CL_MSG_REVOKE, "{" HDR "}", &r), 0);
	assert_int_equal(r.header.revision, 3);
	cl_resp_free(&r);
}

static void
test_parse_range(void **state)
{
	struct cl_resp	 r;

	(void)state;
	assert_int_equal(parse(CL_MSG_RANGE, "{" HDR ",\"kvs\":[{\"key\":"
	    "\"Zm9v\",\"create_revision\":\"2\",\"mod_revision\":\"5\","
	    "\"version\":\"3\",\"value\":\"YmFy\",\"lease\":"
	    "\"4111120417220936465\"},{\"key\":\"Zm9vMQ==\",\"mod_revision\":"
	    "\"7\",\"create_revision\":\"7\",\"version\":\"1\"}],\"count\":"
	    "\"5\",\"more\":true}", &r), 0);
	assert_int_equal(r.op.kind, CL_OP_RANGE);
	assert_int_equal(r.op.nkvs, 2);
	assert_int_equal(r.op.count, 5);
	assert_true(r.op.more);
	assert_string_equal(r.op.kvs[0].key, "foo");
	assert_int_equal(r.op.kvs[0].key_len, 3);
	assert_string_equal(r.op.kvs[0].value, "bar");
	assert_int_equal(r.op.kvs[0].create_revision, 2);
	assert_int_equal(r.op.kvs[0].mod_revision, 5);
	assert_int_equal(r.op.kvs[0].version, 3);
	assert_int_equal(r.op.kvs[0].lease, 4111120417220936465LL);
	/* An absent value is empty, an absent lease 0. */
	assert_string_equal(r.op.kvs[1].key, "foo1");
	assert_string_equal(r.op.kvs[1].value, "");
	assert_int_equal(r.op.kvs[1].value_len, 0);
	assert_int_equal(r.op.kvs[1].lease, 0);
	cl_resp_free(&r);

	/* Nothing found: no kvs, no count. */
	assert_int_equal(parse(CL_MSG_RANGE, "{" HDR "}", &r), 0);
	assert_int_equal(r.op.nkvs, 0);
	assert_null(r.op.kvs);
	assert_int_equal(r.op.count, 0);
	assert_false(r.op.more);
	cl_resp_free(&r);

	/* Binary values keep their length. */
	assert_int_equal(parse(CL_MSG_RANGE, "{" HDR ",\"kvs\":[{\"key\":"
	    "\"aw==\",\"value\":\"AGJpbg==\"}]}", &r), 0);
	assert_int_equal(r.op.kvs[0].value_len, 4);
	assert_memory_equal(r.op.kvs[0].value, "\0bin", 4);
	cl_resp_free(&r);
}

static void
test_parse_put_delete(void **state)
{
	struct cl_resp	 r;

	(void)state;
	assert_int_equal(parse(CL_MSG_PUT, "{" HDR "}", &r), 0);
	assert_int_equal(r.op.kind, CL_OP_PUT);
	assert_int_equal(r.header.revision, 3);
	cl_resp_free(&r);
	assert_int_equal(parse(CL_MSG_PUT, "{" HDR ",\"prev_kv\":{\"key\":"
	    "\"Zm9v\",\"value\":\"YmFy\",\"mod_revision\":\"2\"}}", &r), 0);
	assert_int_equal(r.op.nkvs, 1);
	assert_string_equal(r.op.kvs[0].value, "bar");
	cl_resp_free(&r);
	assert_int_equal(parse(CL_MSG_DELETE, "{" HDR ",\"deleted\":\"1\","
	    "\"prev_kvs\":[{\"key\":\"Zm9v\",\"create_revision\":\"2\","
	    "\"mod_revision\":\"2\",\"version\":\"1\",\"value\":\"YmFy\"}]}",
	    &r), 0);
	assert_int_equal(r.op.kind, CL_OP_DELETE);
	assert_int_equal(r.op.count, 1);
	assert_int_equal(r.op.nkvs, 1);
	assert_string_equal(r.op.kvs[0].key, "foo");
	cl_resp_free(&r);
	assert_int_equal(parse(CL_MSG_DELETE, "{" HDR "}", &r), 0);
	assert_int_equal(r.op.count, 0);
	cl_resp_free(&r);
}

static void
test_parse_txn(void **state)
{
	struct cl_resp	 r;

	(void)state;
	/* Won: the create-if-absent of the leader key. */
	assert_int_equal(parse(CL_MSG_TXN, "{" HDR ",\"succeeded\":true,"
	    "\"responses\":[{\"response_put\":{\"header\":{\"revision\":"
	    "\"3\"}}}]}", &r), 0);
	assert_true(r.succeeded);
	assert_int_equal(r.header.revision, 3);
	assert_int_equal(r.nops, 1);
	assert_int_equal(r.ops[0].kind, CL_OP_PUT);
	assert_int_equal(r.ops[0].revision, 3);
	cl_resp_free(&r);

	/* Lost: "succeeded" is absent, the failure branch's range. */
	assert_int_equal(parse(CL_MSG_TXN, "{" HDR ",\"responses\":[{"
	    "\"response_range\":{\"header\":{\"revision\":\"3\"},\"kvs\":[{"
	    "\"key\":\"bGVhZGVy\",\"create_revision\":\"3\",\"mod_revision\":"
	    "\"3\",\"version\":\"1\",\"value\":\"bWU=\",\"lease\":"
	    "\"4111120417220936465\"}],\"count\":\"1\"}}]}", &r), 0);
	assert_false(r.succeeded);
	assert_int_equal(r.nops, 1);
	assert_int_equal(r.ops[0].kind, CL_OP_RANGE);
	assert_int_equal(r.ops[0].nkvs, 1);
	assert_string_equal(r.ops[0].kvs[0].key, "leader");
	assert_string_equal(r.ops[0].kvs[0].value, "me");
	assert_int_equal(r.ops[0].kvs[0].create_revision, 3);
	assert_int_equal(r.ops[0].kvs[0].lease, 4111120417220936465LL);
	cl_resp_free(&r);

	/* A delete among them; no ops at all. */
	assert_int_equal(parse(CL_MSG_TXN, "{" HDR ",\"succeeded\":true,"
	    "\"responses\":[{\"response_delete_range\":{\"header\":{"
	    "\"revision\":\"4\"},\"deleted\":\"2\"}},{\"response_put\":{"
	    "\"header\":{\"revision\":\"4\"}}}]}", &r), 0);
	assert_int_equal(r.nops, 2);
	assert_int_equal(r.ops[0].kind, CL_OP_DELETE);
	assert_int_equal(r.ops[0].count, 2);
	assert_int_equal(r.ops[1].kind, CL_OP_PUT);
	cl_resp_free(&r);
	assert_int_equal(parse(CL_MSG_TXN, "{" HDR "}", &r), 0);
	assert_false(r.succeeded);
	assert_int_equal(r.nops, 0);
	cl_resp_free(&r);

	/* Unknown or doubled response kinds. */
	assert_int_equal(parse(CL_MSG_TXN, "{" HDR ",\"responses\":[{"
	    "\"response_txn\":{}}]}", &r), CL_E_PROTOCOL);
	assert_int_equal(parse(CL_MSG_TXN, "{" HDR ",\"responses\":[{"
	    "\"response_put\":{},\"response_range\":{}}]}", &r), CL_E_PROTOCOL);
	assert_int_equal(parse(CL_MSG_TXN, "{" HDR ",\"responses\":{}}", &r),
	    CL_E_PROTOCOL);
	assert_int_equal(parse(CL_MSG_TXN, "{" HDR ",\"succeeded\":\"yes\"}",
	    &r), CL_E_PROTOCOL);
}

static void
test_parse_bad_numbers_and_fields(void **state)
{
	struct cl_resp	 r;
	const char *bad_range[] = {
		/* numbers */
		"{\"header\":{\"revision\":\"3x\"}}",
		"{\"header\":{\"revision\":\" 3\"}}",
		"{\"header\":{\"revision\":\"\"}}",
		"{\"header\":{\"revision\":\"-\"}}",
		"{\"header\":{\"revision\":\"99999999999999999999\"}}",
		"{\"header\":{\"revision\":{}}}",
		"{\"header\":{\"revision\":3.5}}",
		"{\"header\":{\"revision\":true}}",
		"{\"header\":{\"revision\":\"3\",\"cluster_id\":\"-1\"}}",
		"{\"header\":{\"revision\":\"3\",\"member_id\":"
		    "\"18446744073709551616\"}}",
		/* missing or mistyped structure */
		"{}",
		"{\"header\":{}}",
		"{\"header\":[]}",
		"{\"header\":{\"revision\":\"0\"}}",
		"{\"header\":{\"revision\":\"3\"},\"kvs\":{}}",
		"{\"header\":{\"revision\":\"3\"},\"kvs\":[1]}",
		"{\"header\":{\"revision\":\"3\"},\"kvs\":[{}]}",
		"{\"header\":{\"revision\":\"3\"},\"kvs\":[{\"key\":\"\"}]}",
		"{\"header\":{\"revision\":\"3\"},\"kvs\":[{\"key\":5}]}",
		"{\"header\":{\"revision\":\"3\"},\"kvs\":[{\"key\":\"!!\"}]}",
		"{\"header\":{\"revision\":\"3\"},\"kvs\":[{\"key\":\"Zm9v\","
		    "\"value\":\"Zm9\"}]}",
		"{\"header\":{\"revision\":\"3\"},\"kvs\":[{\"key\":\"Zm9v\","
		    "\"version\":\"one\"}]}",
		"{\"header\":{\"revision\":\"3\"},\"more\":1}",
		/* not JSON, not an object, duplicated keys */
		"",
		"garbage",
		"{\"header\":",
		"[]",
		"\"header\"",
		"{\"header\":{\"revision\":\"3\"},\"header\":{\"revision\":\"4\"}}",
		"{\"header\":{\"revision\":\"3\"}} trailing",
	};
	size_t	 i;

	(void)state;
	for (i = 0; i < sizeof(bad_range) / sizeof(bad_range[0]); i++) {
		memset(&r, 0x5a, sizeof(r));
		if (parse(CL_MSG_RANGE, bad_range[i], &r) != CL_E_PROTOCOL)
			fail_msg("accepted: %s", bad_range[i]);
		assert_null(r.mem);
		assert_int_equal(r.op.nkvs, 0);
		assert_true(detail[0] != '\0');
	}
	/* The detail names the field. */
	assert_int_equal(parse(CL_MSG_RANGE, "{\"header\":{\"revision\":\"3\"},"
	    "\"count\":\"x\"}", &r), CL_E_PROTOCOL);
	assert_string_equal(detail, "count: not a 64-bit integer");
	/* Negative 64-bit values and the extremes are numbers. */
	assert_int_equal(parse(CL_MSG_RANGE, "{\"header\":{\"revision\":"
	    "\"9223372036854775807\"},\"kvs\":[{\"key\":\"aw==\",\"lease\":"
	    "\"-9223372036854775808\"}]}", &r), 0);
	assert_true(r.header.revision == INT64_MAX);
	assert_true(r.op.kvs[0].lease == INT64_MIN);
	cl_resp_free(&r);
	/* Fields we do not know are fine. */
	assert_int_equal(parse(CL_MSG_RANGE, "{\"header\":{\"revision\":\"3\","
	    "\"new\":[]},\"extra\":{\"x\":1}}", &r), 0);
	cl_resp_free(&r);
	/* A 200 body that is an error object. */
	assert_int_equal(parse(CL_MSG_RANGE, "{\"error\":\"etcdserver: no "
	    "leader\",\"message\":\"etcdserver: no leader\",\"code\":14}", &r),
	    CL_E_UNAVAILABLE);
	assert_int_equal(parse(CL_MSG_WATCH, "{}", &r), CL_E_INVALID);
}

static void
test_parse_error_bodies(void **state)
{
	const struct {
		const char	*body;
		int		 status;
		int		 want;
		const char	*in_detail;
	} t[] = {
		{ "{\"error\":\"etcdserver: requested lease not found\","
		  "\"message\":\"etcdserver: requested lease not found\","
		  "\"code\":5}", 404, CL_E_NOTFOUND, "lease not found" },
		{ "{\"error\":\"etcdserver: mvcc: required revision has been "
		  "compacted\",\"message\":\"etcdserver: mvcc: required revision"
		  " has been compacted\",\"code\":11}", 400, CL_E_COMPACTED,
		  "compacted" },
		{ "{\"error\":\"etcdserver: mvcc: required revision is a future "
		  "revision\",\"message\":\"etcdserver: mvcc: required revision "
		  "is a future revision\",\"code\":11}", 400, CL_E_REFUSED,
		  "future revision" },
		{ "{\"error\":\"etcdserver: request timed out\",\"message\":"
		  "\"etcdserver: request timed out\",\"code\":14}", 503,
		  CL_E_UNAVAILABLE, "timed out" },
		{ "{\"error\":\"etcdserver: no leader\",\"message\":"
		  "\"etcdserver: no leader\",\"code\":14}", 503,
		  CL_E_UNAVAILABLE, "no leader" },
		{ "{\"error\":\"context deadline exceeded\",\"message\":"
		  "\"context deadline exceeded\",\"code\":2}", 500,
		  CL_E_UNAVAILABLE, "deadline" },
		{ "{\"error\":\"invalid character 'g' looking for beginning of "
		  "value\",\"message\":\"invalid character 'g' looking for "
		  "beginning of value\",\"code\":3}", 400, CL_E_REFUSED,
		  "invalid character" },
		{ "{\"error\":\"etcdserver: permission denied\",\"code\":7}",
		  403, CL_E_REFUSED, "permission denied" },
		/* The stream form, and without a gRPC code. */
		{ "{\"error\":{\"grpc_code\":14,\"http_code\":503,\"message\":"
		  "\"etcdserver: no leader\",\"http_status\":\"Service "
		  "Unavailable\"}}", 200, CL_E_UNAVAILABLE, "no leader" },
		{ "{\"error\":\"boom\"}", 502, CL_E_UNAVAILABLE, "boom" },
		{ "{\"error\":\"boom\"}", 400, CL_E_REFUSED, "boom" },
		/* Not etcd at all. */
		{ "<html>Bad Gateway</html>", 502, CL_E_UNAVAILABLE, "502" },
		{ "", 503, CL_E_UNAVAILABLE, "503" },
		{ NULL, 504, CL_E_UNAVAILABLE, "504" },
		{ "<html>Not Found</html>", 404, CL_E_PROTOCOL, "404" },
		{ "", 408, CL_E_UNAVAILABLE, "408" },
		{ "", 429, CL_E_UNAVAILABLE, "429" },
		{ "{\"other\":1}", 400, CL_E_PROTOCOL, "400" },
		{ "{\"error\":17}", 400, CL_E_PROTOCOL, "400" },
	};
	size_t	 i;
	int	 rc;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		rc = cl_msg_parse_error(t[i].body, t[i].body != NULL ?
		    strlen(t[i].body) : 0, t[i].status, detail, sizeof(detail));
		if (rc != t[i].want)
			fail_msg("%zu: got %s, want %s", i, cl_error_name(rc),
			    cl_error_name(t[i].want));
		if (strstr(detail, t[i].in_detail) == NULL)
			fail_msg("%zu: detail \"%s\"", i, detail);
	}
}

static void
test_parse_watch(void **state)
{
	struct cl_watch_msg	 m;
	char			 d[256];
	const char		*s;

	(void)state;
	s = "{\"result\":{" HDR ",\"created\":true}}";
	assert_int_equal(cl_msg_parse_watch(s, strlen(s), &m, d, sizeof(d)), 0);
	assert_true(m.created);
	assert_false(m.canceled);
	assert_int_equal(m.watch_id, 0);
	assert_int_equal(m.nevents, 0);
	assert_int_equal(m.header.revision, 3);
	cl_watch_msg_free(&m);

	/* PUT has no "type"; a DELETE's kv only key and mod_revision. */
	s = "{\"result\":{\"header\":{\"revision\":\"6\"},\"events\":[{\"kv\":"
	    "{\"key\":\"Zm9v\",\"create_revision\":\"2\",\"mod_revision\":\"2\","
	    "\"version\":\"1\",\"value\":\"YmFy\"}},{\"type\":\"DELETE\","
	    "\"kv\":{\"key\":\"Zm9v\",\"mod_revision\":\"4\"}},{\"kv\":{"
	    "\"key\":\"Zm9v\",\"create_revision\":\"5\",\"mod_revision\":\"5\","
	    "\"version\":\"1\",\"value\":\"eA==\"}}]}}";
	assert_int_equal(cl_msg_parse_watch(s, strlen(s), &m, d, sizeof(d)), 0);
	assert_int_equal(m.nevents, 3);
	assert_int_equal(m.events[0].type, CL_EV_PUT);
	assert_string_equal(m.events[0].kv.value, "bar");
	assert_int_equal(m.events[1].type, CL_EV_DELETE);
	assert_int_equal(m.events[1].kv.mod_revision, 4);
	assert_int_equal(m.events[1].kv.create_revision, 0);
	assert_string_equal(m.events[1].kv.value, "");
	assert_int_equal(m.events[2].kv.create_revision, 5);
	cl_watch_msg_free(&m);

	/* Compacted: canceled, and no revision in the header. */
	s = "{\"result\":{\"header\":{\"cluster_id\":\"1\",\"raft_term\":\"2\"},"
	    "\"canceled\":true,\"compact_revision\":\"5\"}}";
	assert_int_equal(cl_msg_parse_watch(s, strlen(s), &m, d, sizeof(d)), 0);
	assert_true(m.canceled);
	assert_int_equal(m.compact_revision, 5);
	assert_string_equal(m.cancel_reason, "");
	cl_watch_msg_free(&m);
	s = "{\"result\":{\"canceled\":true,\"cancel_reason\":\"permission "
	    "denied\"}}";
	assert_int_equal(cl_msg_parse_watch(s, strlen(s), &m, d, sizeof(d)), 0);
	assert_string_equal(m.cancel_reason, "permission denied");
	cl_watch_msg_free(&m);

	/* Progress: no events; the stream-wide one has watch_id -1. */
	s = "{\"result\":{\"header\":{\"revision\":\"8\"},\"watch_id\":\"-1\"}}";
	assert_int_equal(cl_msg_parse_watch(s, strlen(s), &m, d, sizeof(d)), 0);
	assert_int_equal(m.watch_id, -1);
	assert_int_equal(m.nevents, 0);
	cl_watch_msg_free(&m);

	/* The end of a stream: both error forms. */
	s = "{\"error\":{\"grpc_code\":14,\"http_code\":503,\"message\":"
	    "\"etcdserver: no leader\",\"http_status\":\"Service Unavailable\"}}";
	assert_int_equal(cl_msg_parse_watch(s, strlen(s), &m, d, sizeof(d)),
	    CL_E_UNAVAILABLE);
	assert_non_null(strstr(d, "no leader"));
	s = "{\"error\":\"invalid character 'g' looking for beginning of value\","
	    "\"message\":\"invalid\",\"code\":2}";
	assert_int_equal(cl_msg_parse_watch(s, strlen(s), &m, d, sizeof(d)),
	    CL_E_UNAVAILABLE);

	/* Broken messages. */
	const char *bad[] = {
		"{\"result\":{\"header\":{\"revision\":\"6\"},\"events\":[{"
		    "\"type\":\"PATCH\",\"kv\":{\"key\":\"Zm9v\","
		    "\"mod_revision\":\"6\"}}]}}",
		"{\"result\":{\"header\":{\"revision\":\"6\"},\"events\":[{}]}}",
		"{\"result\":{\"header\":{\"revision\":\"6\"},\"events\":[{"
		    "\"kv\":{\"key\":\"Zm9v\"}}]}}",
		"{\"result\":{\"header\":{\"revision\":\"6\"},\"events\":7}}",
		"{\"result\":{\"events\":[]}}",
		"{\"result\":[]}",
		"{\"header\":{\"revision\":\"6\"}}",
		"{\"result\":{\"header\":{\"revision\":\"6\"},\"created\":\"1\"}}",
		"{\"result\":{\"canceled\":true,\"cancel_reason\":5}}",
		"not json",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (cl_msg_parse_watch(bad[i], strlen(bad[i]), &m, d,
		    sizeof(d)) != CL_E_PROTOCOL)
			fail_msg("accepted: %s", bad[i]);
		assert_null(m.mem);
	}
}

static void
test_names(void **state)
{
	int	 e;

	(void)state;
	assert_string_equal(cl_error_name(0), "ok");
	assert_string_equal(cl_error_name(CL_E_UNAVAILABLE), "unavailable");
	assert_string_equal(cl_error_name(CL_E_FENCED), "fenced");
	assert_string_equal(cl_error_name(1), "unknown");
	for (e = CL_E_MIN; e < 0; e++) {
		assert_string_not_equal(cl_error_name(e), "unknown");
		assert_string_not_equal(cl_strerror(e), "unknown error");
	}
	assert_string_equal(cl_msg_path(CL_MSG_TXN), "/v3/kv/txn");
	assert_string_equal(cl_msg_path(CL_MSG_DELETE), "/v3/kv/deleterange");
	assert_true(cl_msg_is_stream(CL_MSG_WATCH));
	assert_true(cl_msg_is_stream(CL_MSG_KEEPALIVE));
	assert_false(cl_msg_is_stream(CL_MSG_GRANT));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_b64_vectors),
		cmocka_unit_test(test_b64_rejects),
		cmocka_unit_test(test_prefix_end),
		cmocka_unit_test(test_build_lease),
		cmocka_unit_test(test_build_ops),
		cmocka_unit_test(test_build_txn),
		cmocka_unit_test(test_build_watch),
		cmocka_unit_test(test_parse_grant_keepalive),
		cmocka_unit_test(test_parse_range),
		cmocka_unit_test(test_parse_put_delete),
		cmocka_unit_test(test_parse_txn),
		cmocka_unit_test(test_parse_bad_numbers_and_fields),
		cmocka_unit_test(test_parse_error_bodies),
		cmocka_unit_test(test_parse_watch),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
