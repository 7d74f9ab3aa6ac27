/*
 * test_dnsup_msg.c - UPDATE building, TSIG signing and answer checking,
 * RRset comparison, the ownership TXT and its prerequisites, outcome names
 * with their numbers, nsupdate rendering.  No network: answers are made
 * from the request with dnsup_msg_answer(), or with ldns.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <ldns/ldns.h>

#include "dnsupdate/dnsup_msg.h"
#include "dnsupdate/dnsup_owner.h"

static struct cfg_tsig_key key1 = {
	"failoverd-key", CFG_TSIG_HMAC_SHA256,
	"5hUBpFUj6Fugd3A9V9kcK51Jzsx72ZE4zaoVEfLW4yI="
};
static struct cfg_tsig_key key_other_secret = {
	"failoverd-key", CFG_TSIG_HMAC_SHA256,
	"Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9vYmFyYmE="
};

static struct dnsup_msg *
make_update(const struct cfg_tsig_key *k, uint16_t id)
{
	struct dnsup_update u;
	struct dnsup_msg *m = NULL;
	char err[256];

	memset(&u, 0, sizeof(u));
	u.name = "www.failover.test.";
	assert_int_equal(dnsup_rrset_parse(&u.want, "app2.example.net", 60,
	    err, sizeof(err)), 0);
	u.prereq = DNSUP_PREREQ_IS;
	assert_int_equal(dnsup_rrset_parse(&u.prev, "CNAME app1.example.net.",
	    60, err, sizeof(err)), 0);
	u.owner_txt = "failoverd controller=c1 group=www";
	assert_int_equal(dnsup_msg_update("failover.test.", &u, 1, id, k, &m,
	    err, sizeof(err)), 0);
	assert_non_null(m);
	return m;
}

static void
test_update_sections(void **state)
{
	struct dnsup_msg *m = make_update(&key1, 0x1234);
	const uint8_t *w;
	size_t len;
	ldns_pkt *p = NULL;

	(void)state;
	w = dnsup_msg_wire(m, &len);
	assert_int_equal(dnsup_msg_id(m), 0x1234);
	assert_int_equal(ldns_wire2pkt(&p, w, len), LDNS_STATUS_OK);
	assert_int_equal(ldns_pkt_get_opcode(p), LDNS_PACKET_UPDATE);
	assert_int_equal(ldns_pkt_id(p), 0x1234);
	assert_false(ldns_pkt_rd(p));
	assert_int_equal(ldns_pkt_qdcount(p), 1);
	/* prereq: the CNAME it replaces, and our exact ownership TXT */
	assert_int_equal(ldns_pkt_ancount(p), 2);
	{
		ldns_rr *t = ldns_rr_list_rr(ldns_pkt_answer(p), 1);
		char *v;

		assert_int_equal(ldns_rr_get_type(t), LDNS_RR_TYPE_TXT);
		assert_int_equal(ldns_rr_get_class(t), LDNS_RR_CLASS_IN);
		assert_int_equal(ldns_rr_ttl(t), 0);
		v = ldns_rdf2str(ldns_rr_owner(t));
		assert_string_equal(v, "_failoverd.www.failover.test.");
		free(v);
		v = ldns_rdf2str(ldns_rr_rdf(t, 0));
		assert_string_equal(v, "\"failoverd controller=c1 group=www\"");
		free(v);
	}
	/*
	 * delete the CNAME it replaces (the prerequisite says no A or AAAA
	 * is there), add the new one; the TXT, required, stays
	 */
	assert_int_equal(ldns_pkt_nscount(p), 2);
	assert_non_null(ldns_pkt_tsig(p));
	assert_int_equal(ldns_rr_get_class(ldns_rr_list_rr(
	    ldns_pkt_authority(p), 0)), LDNS_RR_CLASS_ANY);
	assert_int_equal(ldns_rr_rd_count(ldns_rr_list_rr(
	    ldns_pkt_authority(p), 0)), 0);
	ldns_pkt_free(p);
	dnsup_msg_free(m);
}

static void
check_answer(struct dnsup_msg *m, const struct cfg_tsig_key *signer,
    const struct cfg_tsig_key *verifier, int rcode, time_t now,
    enum dnsup_verdict_kind kind, enum dnsup_result want)
{
	struct dnsup_verdict v;
	uint8_t *a;
	size_t alen;

	a = dnsup_msg_answer(m, signer, rcode, &alen);
	assert_non_null(a);
	dnsup_msg_check(m, verifier, a, alen, now, &v, NULL);
	if (v.kind != kind || v.result != want)
		fail_msg("verdict %d %s (%s), want %d %s", v.kind,
		    dnsup_result_name(v.result), v.detail, kind,
		    dnsup_result_name(want));
	free(a);
}

static void
test_sign_verify(void **state)
{
	struct dnsup_msg *m = make_update(&key1, 7);
	time_t now = time(NULL);

	(void)state;
	check_answer(m, &key1, &key1, 0, now, DNSUP_V_FINAL, DNSUP_R_NOERROR);
	check_answer(m, &key1, &key1, 8, now, DNSUP_V_FINAL, DNSUP_R_NXRRSET);
	check_answer(m, &key1, &key1, 7, now, DNSUP_V_FINAL, DNSUP_R_YXRRSET);
	check_answer(m, &key1, &key1, 10, now, DNSUP_V_FINAL, DNSUP_R_NOTZONE);
	/* Wrong key: the MAC does not verify. */
	check_answer(m, &key_other_secret, &key1, 0, now, DNSUP_V_REJECT,
	    DNSUP_R_BADRESP);
	/* Unsigned answers are rejected, but say what they claimed. */
	check_answer(m, NULL, &key1, 0, now, DNSUP_V_REJECT, DNSUP_R_UNSIGNED);
	check_answer(m, NULL, &key1, 5, now, DNSUP_V_REJECT, DNSUP_R_REFUSED);
	/* Outside the fudge (300 s) of the local clock. */
	check_answer(m, &key1, &key1, 0, now + 1000, DNSUP_V_FINAL,
	    DNSUP_R_BADTIME);
	check_answer(m, &key1, &key1, 0, now - 1000, DNSUP_V_FINAL,
	    DNSUP_R_BADTIME);
	check_answer(m, &key1, &key1, 0, now + 200, DNSUP_V_FINAL,
	    DNSUP_R_NOERROR);
	dnsup_msg_free(m);
}

static void
test_algorithms(void **state)
{
	struct cfg_tsig_key k = key1;
	struct dnsup_msg *m;
	enum cfg_tsig_alg algs[] = { CFG_TSIG_HMAC_SHA1, CFG_TSIG_HMAC_SHA256,
	    CFG_TSIG_HMAC_SHA512 };
	size_t i;

	(void)state;
	for (i = 0; i < 3; i++) {
		k.alg = algs[i];
		m = make_update(&k, 99);
		check_answer(m, &k, &k, 0, time(NULL), DNSUP_V_FINAL,
		    DNSUP_R_NOERROR);
		/* Same secret, other algorithm: rejected. */
		if (k.alg != key1.alg)
			check_answer(m, &k, &key1, 0, time(NULL),
			    DNSUP_V_REJECT, DNSUP_R_BADRESP);
		dnsup_msg_free(m);
	}
}

static void
test_mismatch(void **state)
{
	struct dnsup_msg *m = make_update(&key1, 42), *q = NULL;
	struct dnsup_verdict v;
	uint8_t *a, garbage[64];
	size_t alen, i;
	char err[128];

	(void)state;
	a = dnsup_msg_answer(m, &key1, 0, &alen);
	assert_non_null(a);
	/* Wrong id. */
	a[1] ^= 1;
	dnsup_msg_check(m, &key1, a, alen, time(NULL), &v, NULL);
	assert_int_equal(v.kind, DNSUP_V_IGNORE);
	a[1] ^= 1;
	/* Truncated. */
	a[2] |= 0x02;
	dnsup_msg_check(m, &key1, a, alen, time(NULL), &v, NULL);
	assert_int_equal(v.kind, DNSUP_V_TRUNCATED);
	a[2] &= ~0x02;
	/* Cut short: ignored. */
	for (i = 0; i < alen; i += 7) {
		dnsup_msg_check(m, &key1, a, i, time(NULL), &v, NULL);
		assert_true(v.kind == DNSUP_V_IGNORE ||
		    v.kind == DNSUP_V_REJECT);
	}
	/* The request itself is not an answer. */
	{
		size_t wl;
		const uint8_t *w = dnsup_msg_wire(m, &wl);

		dnsup_msg_check(m, &key1, w, wl, time(NULL), &v, NULL);
		assert_int_equal(v.kind, DNSUP_V_IGNORE);
	}
	free(a);
	/* Same id, other question. */
	assert_int_equal(dnsup_msg_query("other.failover.test.", 6, 42, &key1,
	    &q, err, sizeof(err)), 0);
	a = dnsup_msg_answer(q, &key1, 0, &alen);
	dnsup_msg_check(m, &key1, a, alen, time(NULL), &v, NULL);
	assert_int_equal(v.kind, DNSUP_V_IGNORE);
	free(a);
	/* Garbage. */
	memset(garbage, 0xff, sizeof(garbage));
	garbage[0] = 0;
	garbage[1] = 42;
	dnsup_msg_check(m, &key1, garbage, sizeof(garbage), time(NULL), &v,
	    NULL);
	assert_int_equal(v.kind, DNSUP_V_IGNORE);
	dnsup_msg_free(q);
	dnsup_msg_free(m);
}

static void
test_rrset_compare(void **state)
{
	struct dnsup_rrset a, b;
	char err[128], diff[256];

	(void)state;
	assert_int_equal(dnsup_rrset_parse(&a, "192.0.2.1 2001:db8::1", 60,
	    err, sizeof(err)), 0);
	assert_int_equal(dnsup_rrset_parse(&b, "2001:DB8:0::1 192.0.2.1", 60,
	    err, sizeof(err)), 0);
	assert_int_equal(dnsup_rrset_compare(&a, &b, true, diff,
	    sizeof(diff)), 0);
	b.ttl = 5;
	assert_int_equal(dnsup_rrset_compare(&a, &b, false, diff,
	    sizeof(diff)), 0);
	assert_int_equal(dnsup_rrset_compare(&a, &b, true, diff,
	    sizeof(diff)), 1);
	assert_int_equal(dnsup_rrset_parse(&b, "192.0.2.1", 60, err,
	    sizeof(err)), 0);
	assert_int_equal(dnsup_rrset_compare(&a, &b, false, diff,
	    sizeof(diff)), 1);
	assert_string_equal(diff, "want A 192.0.2.1 AAAA 2001:db8::1 found "
	    "A 192.0.2.1");
	assert_int_equal(dnsup_rrset_parse(&a, "App1.Example.NET", 60, err,
	    sizeof(err)), 0);
	assert_int_equal(dnsup_rrset_parse(&b, "CNAME app1.example.net.", 60,
	    err, sizeof(err)), 0);
	assert_int_equal(dnsup_rrset_compare(&a, &b, true, diff,
	    sizeof(diff)), 0);
	assert_int_equal(dnsup_rrset_parse(&b, "none", 60, err, sizeof(err)),
	    0);
	assert_int_equal(b.kind, DNSUP_RRSET_NONE);
	assert_int_equal(dnsup_rrset_compare(&a, &b, true, diff,
	    sizeof(diff)), 1);
	assert_string_equal(diff, "want CNAME App1.Example.NET. found none");
	assert_int_equal(dnsup_rrset_parse(&b, "CNAME a.net. b.net.", 60, err,
	    sizeof(err)), -1);
	assert_int_equal(dnsup_rrset_parse(&b, "", 60, err, sizeof(err)), -1);
}

static void
test_names(void **state)
{
	static const struct { int rc; const char *name; } tab[] = {
		{ 0, "NOERROR" }, { 1, "FORMERR" }, { 2, "SERVFAIL" },
		{ 3, "NXDOMAIN" }, { 4, "NOTIMP" }, { 5, "REFUSED" },
		{ 6, "YXDOMAIN" }, { 7, "YXRRSET" }, { 8, "NXRRSET" },
		{ 9, "NOTAUTH" }, { 10, "NOTZONE" }, { 16, "BADSIG" },
		{ 17, "BADKEY" }, { 18, "BADTIME" }, { 15, "other_rcode" },
		{ 11, "other_rcode" },
	};
	size_t i;
	int r;

	(void)state;
	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		assert_string_equal(dnsup_result_name(
		    dnsup_result_from_rcode(tab[i].rc)), tab[i].name);
	assert_string_equal(dnsup_result_name(dnsup_result_from_tsig_error(16)),
	    "BADSIG");
	assert_string_equal(dnsup_result_name(dnsup_result_from_tsig_error(17)),
	    "BADKEY");
	assert_string_equal(dnsup_result_name(dnsup_result_from_tsig_error(18)),
	    "BADTIME");
	assert_string_equal(dnsup_result_name(DNSUP_R_TIMEOUT), "timeout");
	assert_string_equal(dnsup_result_name(DNSUP_R_NETWORK),
	    "network_error");
	/* Every result has a name that is not a number. */
	for (r = 0; r < DNSUP_R__MAX; r++) {
		const char *n = dnsup_result_name(r);

		assert_true(n[0] >= 'A' && n[0] <= 'z');
		assert_string_not_equal(n, "unknown");
	}
	assert_string_equal(dnsup_result_name(DNSUP_R__MAX), "unknown");
	assert_true(dnsup_result_is_prereq(DNSUP_R_NXRRSET));
	assert_true(dnsup_result_is_prereq(DNSUP_R_YXDOMAIN));
	assert_false(dnsup_result_is_prereq(DNSUP_R_NOTAUTH));
}

static void
test_render(void **state)
{
	struct dnsup_update u[2];
	char buf[2048], err[128];

	(void)state;
	memset(u, 0, sizeof(u));
	u[0].name = "www.failover.test.";
	dnsup_rrset_parse(&u[0].want, "192.0.2.10 2001:db8::10", 60, err,
	    sizeof(err));
	u[0].prereq = DNSUP_PREREQ_IS;
	dnsup_rrset_parse(&u[0].prev, "app1.example.net.", 60, err,
	    sizeof(err));
	u[1].name = "api.failover.test.";
	dnsup_rrset_parse(&u[1].want, "app2.example.net.", 5, err, sizeof(err));
	u[1].prereq = DNSUP_PREREQ_EMPTY;
	u[1].owner_txt = "failoverd controller=c1 group=api";
	u[1].owner_prereq = DNSUP_TXT_ABSENT;
	dnsup_update_render(buf, sizeof(buf), "127.0.0.1 5353",
	    "failover.test.", u, 2);
	assert_string_equal(buf,
	    "server 127.0.0.1 5353\n"
	    "zone failover.test.\n"
	    "prereq yxrrset www.failover.test. IN CNAME app1.example.net.\n"
	    "update delete www.failover.test. CNAME\n"
	    "update add www.failover.test. 60 A 192.0.2.10\n"
	    "update add www.failover.test. 60 AAAA 2001:db8::10\n"
	    "prereq nxdomain api.failover.test.\n"
	    "prereq nxrrset _failoverd.api.failover.test. TXT\n"
	    "update add api.failover.test. 5 CNAME app2.example.net.\n"
	    "update add _failoverd.api.failover.test. 5 TXT "
	    "\"failoverd controller=c1 group=api\"\n"
	    "send\n");
	/* A small buffer is cut, never overrun. */
	assert_true(dnsup_update_render(buf, 20, NULL, "failover.test.", u, 2)
	    < 20);
}

static void
txt_found(struct dnsup_found *f, const char *v)
{
	struct dnsup_txt t;

	assert_int_equal(dnsup_txt_set(&t, v), 0);
	dnsup_txtset_add(&f->txt, &t);
}

static void
test_owner_value(void **state)
{
	struct dnsup_owner o, back;
	char v[300];

	(void)state;
	assert_int_equal(dnsup_owner_init(&o, "c1", "www", 0), 0);
	assert_int_equal(dnsup_owner_format(&o, v, sizeof(v)), 0);
	assert_string_equal(v, "failoverd controller=c1 group=www");
	assert_int_equal(dnsup_owner_parse(v, &back), 0);
	assert_string_equal(back.controller, "c1");
	assert_string_equal(back.group, "www");
	assert_true(back.epoch == 0);
	/* In a cluster: the leadership epoch. */
	assert_int_equal(dnsup_owner_init(&o, "ctl-a.x", "api_2", 42), 0);
	assert_int_equal(dnsup_owner_format(&o, v, sizeof(v)), 0);
	assert_string_equal(v, "failoverd controller=ctl-a.x group=api_2 "
	    "epoch=42");
	assert_int_equal(dnsup_owner_parse(v, &back), 0);
	assert_true(back.epoch == 42);
	/* Only version 1, exactly: anything else is someone else's. */
	assert_int_equal(dnsup_owner_parse("failoverd controller=c1", &back),
	    -1);
	assert_int_equal(dnsup_owner_parse("failoverd group=www "
	    "controller=c1", &back), -1);
	assert_int_equal(dnsup_owner_parse("failoverd controller=c1 "
	    "group=www epoch=0", &back), -1);
	assert_int_equal(dnsup_owner_parse("failoverd controller=c1 "
	    "group=www epoch=07", &back), -1);
	assert_int_equal(dnsup_owner_parse("failoverd controller=c1 "
	    "group=www epoch=7 role=x", &back), -1);
	assert_int_equal(dnsup_owner_parse("failoverd  controller=c1 "
	    "group=www", &back), -1);
	assert_int_equal(dnsup_owner_parse("v=spf1 -all", &back), -1);
	assert_int_equal(dnsup_owner_init(&o, "c 1", "www", 0), -1);
	assert_int_equal(dnsup_owner_init(&o, "-c1", "www", 0), -1);
}

static void
test_owner(void **state)
{
	struct dnsup_found f;
	struct dnsup_owner c1, c1e5;
	struct dnsup_owner_plan plan;
	struct dnsup_rrset cname, addrs;
	char d[1024], err[64];

	(void)state;
	dnsup_owner_init(&c1, "c1", "www", 0);
	dnsup_owner_init(&c1e5, "c1", "www", 5);
	dnsup_rrset_parse(&cname, "app1.example.net.", 60, err, sizeof(err));
	dnsup_rrset_parse(&addrs, "192.0.2.1", 60, err, sizeof(err));
	/* Nothing there: a first publication, nothing must appear. */
	memset(&f, 0, sizeof(f));
	assert_int_equal(dnsup_owner_check("www.z.", &f, &c1, false, &cname,
	    &plan, d, sizeof(d)), DNSUP_R_NOERROR);
	assert_int_equal(plan.verdict, DNSUP_OWN_FREE);
	assert_int_equal(plan.prereq, DNSUP_PREREQ_EMPTY);
	assert_int_equal(plan.txt_prereq, DNSUP_TXT_ABSENT);
	/* Records without a TXT: not ours, unless adopt. */
	dnsup_rrset_parse(&f.rrset, "legacy.example.net.", 60, err,
	    sizeof(err));
	assert_int_equal(dnsup_owner_check("www.z.", &f, &c1, false, &cname,
	    &plan, d, sizeof(d)), DNSUP_R_NOTOWNER);
	assert_non_null(strstr(d, "CNAME legacy.example.net."));
	assert_int_equal(plan.verdict, DNSUP_OWN_REFUSED);
	assert_int_equal(dnsup_owner_check("www.z.", &f, &c1, true, &cname,
	    &plan, d, sizeof(d)), DNSUP_R_NOERROR);
	assert_int_equal(plan.verdict, DNSUP_OWN_ADOPT);
	assert_int_equal(plan.prereq, DNSUP_PREREQ_IS);
	assert_string_equal(plan.prev.cname, "legacy.example.net.");
	assert_int_equal(plan.txt_prereq, DNSUP_TXT_ABSENT);
	/* Another controller's TXT: adopting requires exactly it. */
	txt_found(&f, "failoverd controller=c2 group=www");
	assert_int_equal(dnsup_owner_check("www.z.", &f, &c1, false, &cname,
	    &plan, d, sizeof(d)), DNSUP_R_NOTOWNER);
	assert_non_null(strstr(d, "controller=c2"));
	assert_int_equal(dnsup_owner_check("www.z.", &f, &c1, true, &cname,
	    &plan, d, sizeof(d)), DNSUP_R_NOERROR);
	assert_int_equal(plan.txt_prereq, DNSUP_TXT_WAS);
	assert_true(dnsup_txtset_is(&plan.txt_prev,
	    "failoverd controller=c2 group=www"));
	/* Ours. */
	memset(&f.txt, 0, sizeof(f.txt));
	txt_found(&f, "failoverd controller=c1 group=www");
	assert_int_equal(dnsup_owner_check("www.z.", &f, &c1, false, &cname,
	    &plan, d, sizeof(d)), DNSUP_R_NOERROR);
	assert_int_equal(plan.verdict, DNSUP_OWN_OURS);
	assert_int_equal(plan.txt_prereq, DNSUP_TXT_OURS);
	/* Ours with a lower epoch: a new leader supersedes it, exactly. */
	assert_int_equal(dnsup_owner_check("www.z.", &f, &c1e5, false, &cname,
	    &plan, d, sizeof(d)), DNSUP_R_NOERROR);
	assert_int_equal(plan.verdict, DNSUP_OWN_SUPERSEDE);
	assert_int_equal(plan.txt_prereq, DNSUP_TXT_WAS);
	assert_true(dnsup_txtset_is(&plan.txt_prev,
	    "failoverd controller=c1 group=www"));
	/* A newer epoch holds it: refused, even with adopt (fencing). */
	memset(&f.txt, 0, sizeof(f.txt));
	txt_found(&f, "failoverd controller=c1 group=www epoch=6");
	assert_int_equal(dnsup_owner_check("www.z.", &f, &c1e5, true, &cname,
	    &plan, d, sizeof(d)), DNSUP_R_NOTOWNER);
	assert_non_null(strstr(d, "newer epoch"));
	/* An empty name with our TXT is ours, with prerequisites. */
	memset(&f, 0, sizeof(f));
	txt_found(&f, "failoverd controller=c1 group=www");
	assert_int_equal(dnsup_owner_check("www.z.", &f, &c1, false, &cname,
	    &plan, d, sizeof(d)), DNSUP_R_NOERROR);
	assert_int_equal(plan.verdict, DNSUP_OWN_OURS);
	assert_int_equal(plan.prereq, DNSUP_PREREQ_IS);
	assert_int_equal(plan.prev.kind, DNSUP_RRSET_NONE);
	assert_int_equal(plan.txt_prereq, DNSUP_TXT_OURS);
	/* Other types only: not free; a CNAME cannot go beside them. */
	memset(&f, 0, sizeof(f));
	f.exists = true;
	snprintf(f.other, sizeof(f.other), "MX");
	assert_int_equal(dnsup_owner_check("mx.z.", &f, &c1, false, &addrs,
	    &plan, d, sizeof(d)), DNSUP_R_NOTOWNER);
	assert_non_null(strstr(d, "MX"));
	assert_int_equal(dnsup_owner_check("mx.z.", &f, &c1, true, &addrs,
	    &plan, d, sizeof(d)), DNSUP_R_NOERROR);
	assert_int_equal(plan.prereq, DNSUP_PREREQ_IS);
	assert_int_equal(plan.prev.kind, DNSUP_RRSET_NONE);
	assert_int_equal(dnsup_owner_check("mx.z.", &f, &c1, true, &cname,
	    &plan, d, sizeof(d)), DNSUP_R_CNAME_CONFLICT);
	txt_found(&f, "failoverd controller=c1 group=www");
	assert_int_equal(dnsup_owner_check("mx.z.", &f, &c1, false, &cname,
	    &plan, d, sizeof(d)), DNSUP_R_CNAME_CONFLICT);
}

/* Several TXT records: one verdict, whatever the order of the answer. */
static void
test_owner_several_txt(void **state)
{
	static const char *vals[] = { "failoverd controller=c1 group=www",
	    "failoverd controller=c9 group=www" };
	struct dnsup_found f[2];
	struct dnsup_owner c1;
	struct dnsup_owner_plan plan;
	struct dnsup_rrset want;
	char d[1024], err[64];
	int k;

	(void)state;
	dnsup_owner_init(&c1, "c1", "www", 0);
	dnsup_rrset_parse(&want, "app1.example.net.", 60, err, sizeof(err));
	for (k = 0; k < 2; k++) {
		memset(&f[k], 0, sizeof(f[k]));
		txt_found(&f[k], vals[k]);
		txt_found(&f[k], vals[1 - k]);
		assert_int_equal(dnsup_owner_check("www.z.", &f[k], &c1, false,
		    &want, &plan, d, sizeof(d)), DNSUP_R_NOTOWNER);
		assert_non_null(strstr(d, "2 TXT records"));
	}
	assert_memory_equal(&f[0].txt, &f[1].txt, sizeof(f[0].txt));
	/* Adopting states both. */
	assert_int_equal(dnsup_owner_check("www.z.", &f[0], &c1, true, &want,
	    &plan, d, sizeof(d)), DNSUP_R_NOERROR);
	assert_int_equal(plan.txt_prev.n, 2);
}

/* The TXT prerequisites on the wire, and a TXT read back in any order. */
static void
test_txt_prereq(void **state)
{
	struct dnsup_update u;
	struct dnsup_txtset prev;
	struct dnsup_txt t;
	struct dnsup_msg *m = NULL;
	const uint8_t *w;
	size_t len;
	ldns_pkt *p = NULL;
	ldns_rr *rr;
	char err[128];

	(void)state;
	memset(&u, 0, sizeof(u));
	u.name = "www.failover.test.";
	dnsup_rrset_parse(&u.want, "app1.example.net.", 60, err, sizeof(err));
	u.owner_txt = "failoverd controller=c1 group=www";
	/* First publication: no TXT may be there (class NONE). */
	u.prereq = DNSUP_PREREQ_EMPTY;
	u.owner_prereq = DNSUP_TXT_ABSENT;
	assert_int_equal(dnsup_msg_update("failover.test.", &u, 1, 1, &key1,
	    &m, err, sizeof(err)), 0);
	w = dnsup_msg_wire(m, &len);
	assert_int_equal(ldns_wire2pkt(&p, w, len), LDNS_STATUS_OK);
	assert_int_equal(ldns_pkt_ancount(p), 2);
	rr = ldns_rr_list_rr(ldns_pkt_answer(p), 1);
	assert_int_equal(ldns_rr_get_type(rr), LDNS_RR_TYPE_TXT);
	assert_int_equal(ldns_rr_get_class(rr), LDNS_RR_CLASS_NONE);
	assert_int_equal(ldns_rr_rd_count(rr), 0);
	ldns_pkt_free(p);
	p = NULL;
	dnsup_msg_free(m);
	/* Adoption: each foreign record exactly, strings kept apart. */
	memset(&prev, 0, sizeof(prev));
	t.len = 8;
	memcpy(t.rdata, "\003abc\003d\"e", 8);
	dnsup_txtset_add(&prev, &t);
	dnsup_txt_set(&t, "failoverd controller=c2 group=www");
	dnsup_txtset_add(&prev, &t);
	u.prereq = DNSUP_PREREQ_IS;
	u.owner_prereq = DNSUP_TXT_WAS;
	u.owner_prev = &prev;
	assert_int_equal(dnsup_msg_update("failover.test.", &u, 1, 2, &key1,
	    &m, err, sizeof(err)), 0);
	w = dnsup_msg_wire(m, &len);
	assert_int_equal(ldns_wire2pkt(&p, w, len), LDNS_STATUS_OK);
	/* CNAME none, A none, AAAA none, two TXT */
	assert_int_equal(ldns_pkt_ancount(p), 5);
	rr = ldns_rr_list_rr(ldns_pkt_answer(p), 3);
	assert_int_equal(ldns_rr_get_type(rr), LDNS_RR_TYPE_TXT);
	assert_int_equal(ldns_rr_get_class(rr), LDNS_RR_CLASS_IN);
	assert_int_equal(ldns_rr_rd_count(rr), 2);
	ldns_pkt_free(p);
	dnsup_msg_free(m);
	{
		char buf[2048];

		dnsup_update_render(buf, sizeof(buf), NULL, "failover.test.",
		    &u, 1);
		assert_non_null(strstr(buf, "prereq yxrrset "
		    "_failoverd.www.failover.test. IN TXT \"abc\" \"d\\\"e\"\n"));
		assert_non_null(strstr(buf, "prereq yxrrset "
		    "_failoverd.www.failover.test. IN TXT \"failoverd "
		    "controller=c2 group=www\"\n"));
	}
	/* No prerequisite (prereq = no, tools): delete all three kinds. */
	u.prereq = DNSUP_PREREQ_NONE;
	u.owner_txt = NULL;
	assert_int_equal(dnsup_msg_update("failover.test.", &u, 1, 4, &key1,
	    &m, err, sizeof(err)), 0);
	w = dnsup_msg_wire(m, &len);
	assert_int_equal(ldns_wire2pkt(&p, w, len), LDNS_STATUS_OK);
	assert_int_equal(ldns_pkt_ancount(p), 0);
	assert_int_equal(ldns_pkt_nscount(p), 4);
	ldns_pkt_free(p);
	dnsup_msg_free(m);
	/* A value that cannot be a TXT string is refused. */
	{
		char big[300];

		memset(big, 'x', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		u.owner_txt = big;
		u.owner_prereq = DNSUP_TXT_OURS;
		assert_int_equal(dnsup_msg_update("failover.test.", &u, 1, 3,
		    &key1, &m, err, sizeof(err)), -1);
	}
}

/* A query's answer, made with ldns: records, AA, rcode as given. */
static uint8_t *
query_answer(struct dnsup_msg *q, const char *const *rrs, size_t n, bool aa,
    int rcode, size_t *alen)
{
	const uint8_t *w;
	size_t wl, i;
	ldns_pkt *p = NULL;
	uint8_t *out = NULL;

	w = dnsup_msg_wire(q, &wl);
	assert_int_equal(ldns_wire2pkt(&p, w, wl), LDNS_STATUS_OK);
	ldns_pkt_set_qr(p, true);
	ldns_pkt_set_aa(p, aa);
	ldns_pkt_set_rcode(p, (uint8_t)rcode);
	for (i = 0; i < n; i++) {
		ldns_rr *rr = NULL;

		assert_int_equal(ldns_rr_new_frm_str(&rr, rrs[i], 60, NULL,
		    NULL), LDNS_STATUS_OK);
		ldns_pkt_push_rr(p, LDNS_SECTION_ANSWER, rr);
	}
	assert_int_equal(ldns_pkt2wire(&out, p, alen), LDNS_STATUS_OK);
	ldns_pkt_free(p);
	return out;
}

static void
test_query_answers(void **state)
{
	static const char *two[] = {
	    "_failoverd.www.z. 60 IN TXT \"failoverd controller=c1 group=www\"",
	    "_failoverd.www.z. 60 IN TXT \"failoverd controller=c9 group=www\"",
	};
	static const char *two_r[] = { NULL, NULL };
	static const char *any[] = {
	    "www.z. 60 IN A 192.0.2.1", "www.z. 60 IN MX 10 mail.z.",
	    "www.z. 60 IN TXT \"hello\"", "www.z. 60 IN MX 20 mail2.z.",
	};
	struct dnsup_msg *q = NULL;
	struct dnsup_verdict v;
	struct dnsup_found f1, f2;
	uint8_t *a;
	size_t alen;
	char err[128];

	(void)state;
	two_r[0] = two[1];
	two_r[1] = two[0];
	assert_int_equal(dnsup_msg_query("_failoverd.www.z.", 16, 9, NULL, &q,
	    err, sizeof(err)), 0);
	/* Without AA the answer says nothing about the zone. */
	a = query_answer(q, NULL, 0, false, 0, &alen);
	dnsup_msg_check(q, NULL, a, alen, time(NULL), &v, &f1);
	assert_int_equal(v.kind, DNSUP_V_FINAL);
	assert_int_equal(v.result, DNSUP_R_NOTAA);
	free(a);
	a = query_answer(q, NULL, 0, false, 3, &alen);
	dnsup_msg_check(q, NULL, a, alen, time(NULL), &v, &f1);
	assert_int_equal(v.result, DNSUP_R_NOTAA);
	free(a);
	/* The same TXT records in either order: the same set. */
	a = query_answer(q, two, 2, true, 0, &alen);
	dnsup_msg_check(q, NULL, a, alen, time(NULL), &v, &f1);
	assert_int_equal(v.result, DNSUP_R_NOERROR);
	free(a);
	a = query_answer(q, two_r, 2, true, 0, &alen);
	dnsup_msg_check(q, NULL, a, alen, time(NULL), &v, &f2);
	assert_int_equal(v.result, DNSUP_R_NOERROR);
	free(a);
	assert_int_equal(f1.txt.n, 2);
	assert_memory_equal(&f1.txt, &f2.txt, sizeof(f1.txt));
	dnsup_msg_free(q);
	/* ANY: the records, and the other types once each. */
	assert_int_equal(dnsup_msg_query("www.z.", 255, 10, NULL, &q, err,
	    sizeof(err)), 0);
	a = query_answer(q, any, 4, true, 0, &alen);
	dnsup_msg_check(q, NULL, a, alen, time(NULL), &v, &f1);
	assert_int_equal(v.result, DNSUP_R_NOERROR);
	assert_int_equal(f1.rrset.kind, DNSUP_RRSET_ADDRS);
	assert_string_equal(f1.other, "MX TXT");
	assert_true(f1.exists);
	assert_int_equal(f1.txt.n, 0);
	free(a);
	a = query_answer(q, NULL, 0, true, 3, &alen);
	dnsup_msg_check(q, NULL, a, alen, time(NULL), &v, &f1);
	assert_int_equal(v.result, DNSUP_R_NXDOMAIN);
	assert_false(f1.exists);
	free(a);
	dnsup_msg_free(q);
}

/* Error numbers stay in the detail; classes of results. */
static void
test_numbers(void **state)
{
	struct dnsup_msg *m = make_update(&key1, 77);
	struct dnsup_verdict v;
	uint8_t *a;
	size_t alen;
	const uint8_t *w;
	size_t wl;
	ldns_pkt *p = NULL;
	ldns_rr *t;
	ldns_rdf *rd;
	uint8_t *out = NULL;

	(void)state;
	a = dnsup_msg_answer(m, &key1, 11, &alen);
	dnsup_msg_check(m, &key1, a, alen, time(NULL), &v, NULL);
	assert_int_equal(v.result, DNSUP_R_OTHER_RCODE);
	assert_non_null(strstr(v.detail, "rcode 11"));
	free(a);
	a = dnsup_msg_answer(m, &key1, 9, &alen);
	dnsup_msg_check(m, &key1, a, alen, time(NULL), &v, NULL);
	assert_non_null(strstr(v.detail, "NOTAUTH (rcode 9)"));
	free(a);
	/* An unsigned TSIG with error 21 (BADALG), as named answers. */
	a = dnsup_msg_answer(m, &key1, 9, &alen);
	assert_int_equal(ldns_wire2pkt(&p, a, alen), LDNS_STATUS_OK);
	free(a);
	t = ldns_pkt_tsig(p);
	assert_non_null(t);
	rd = ldns_native2rdf_int16_data(0, NULL);
	ldns_rdf_deep_free(ldns_rr_set_rdf(t, rd, 3));
	ldns_rdf_deep_free(ldns_rr_set_rdf(t,
	    ldns_native2rdf_int16(LDNS_RDF_TYPE_INT16, 21), 5));
	assert_int_equal(ldns_pkt2wire(&out, p, &alen), LDNS_STATUS_OK);
	ldns_pkt_free(p);
	dnsup_msg_check(m, &key1, out, alen, time(NULL), &v, NULL);
	assert_int_equal(v.kind, DNSUP_V_REJECT);
	assert_int_equal(v.result, DNSUP_R_BADALG);
	assert_int_equal(v.tsig_error, 21);
	assert_non_null(strstr(v.detail, "(21)"));
	free(out);
	/* Error 20 has no name here: its number is still there. */
	assert_int_equal(dnsup_result_from_tsig_error(20), DNSUP_R_BADRESP);
	w = dnsup_msg_wire(m, &wl);
	(void)w;
	assert_true(dnsup_result_next_server(DNSUP_R_REFUSED));
	assert_true(dnsup_result_next_server(DNSUP_R_NOTAUTH));
	assert_true(dnsup_result_next_server(DNSUP_R_SERVFAIL));
	assert_true(dnsup_result_next_server(DNSUP_R_NOTIMP));
	assert_false(dnsup_result_next_server(DNSUP_R_NXRRSET));
	assert_true(dnsup_result_per_update(DNSUP_R_NXRRSET));
	assert_true(dnsup_result_per_update(DNSUP_R_NOTZONE));
	assert_true(dnsup_result_per_update(DNSUP_R_FORMERR));
	assert_false(dnsup_result_per_update(DNSUP_R_BADKEY));
	assert_false(dnsup_result_per_update(DNSUP_R_BADSIG));
	assert_false(dnsup_result_per_update(DNSUP_R_TIMEOUT));
	dnsup_msg_free(m);
}

/* Signed again: a new MAC, which the answer must cover. */
static void
test_resign(void **state)
{
	struct dnsup_msg *m = make_update(&key1, 5), *old = NULL;
	struct dnsup_verdict v;
	const uint8_t *w;
	size_t wl, alen;
	uint8_t *a;
	char err[128];

	(void)state;
	/*
	 * ldns signs with the time now, so the MAC changes only from one
	 * second to the next (test_dns_edges.sh sees it change); here: the
	 * message stays the same request, and its answer verifies.
	 */
	assert_int_equal(dnsup_msg_resign(m, &key1, err, sizeof(err)), 0);
	assert_int_equal(dnsup_msg_id(m), 5);
	w = dnsup_msg_wire(m, &wl);
	assert_int_equal(dnsup_msg_parse(w, wl, &old), 0);
	a = dnsup_msg_answer(old, &key1, 0, &alen);
	dnsup_msg_check(m, &key1, a, alen, time(NULL), &v, NULL);
	assert_int_equal(v.kind, DNSUP_V_FINAL);
	assert_int_equal(v.result, DNSUP_R_NOERROR);
	free(a);
	dnsup_msg_free(old);
	dnsup_msg_free(m);
}

static void
test_prereq_forms(void **state)
{
	struct dnsup_update u;
	struct dnsup_msg *m = NULL, *back = NULL;
	const uint8_t *w;
	size_t len;
	ldns_pkt *p = NULL;
	ldns_rr *rr;
	char err[128];

	(void)state;
	memset(&u, 0, sizeof(u));
	u.name = "www.failover.test.";
	dnsup_rrset_parse(&u.want, "app1.example.net.", 60, err, sizeof(err));
	/* Was A only: A records exist (IN, ttl 0), AAAA does not (NONE). */
	u.prereq = DNSUP_PREREQ_IS;
	dnsup_rrset_parse(&u.prev, "192.0.2.1 192.0.2.2", 60, err,
	    sizeof(err));
	assert_int_equal(dnsup_msg_update("failover.test.", &u, 1, 1, &key1,
	    &m, err, sizeof(err)), 0);
	w = dnsup_msg_wire(m, &len);
	assert_int_equal(ldns_wire2pkt(&p, w, len), LDNS_STATUS_OK);
	assert_int_equal(ldns_pkt_ancount(p), 3);
	rr = ldns_rr_list_rr(ldns_pkt_answer(p), 0);
	assert_int_equal(ldns_rr_get_type(rr), LDNS_RR_TYPE_AAAA);
	assert_int_equal(ldns_rr_get_class(rr), LDNS_RR_CLASS_NONE);
	rr = ldns_rr_list_rr(ldns_pkt_answer(p), 1);
	assert_int_equal(ldns_rr_get_type(rr), LDNS_RR_TYPE_A);
	assert_int_equal(ldns_rr_get_class(rr), LDNS_RR_CLASS_IN);
	assert_int_equal(ldns_rr_ttl(rr), 0);
	ldns_pkt_free(p);
	p = NULL;
	/* A request read back from the wire answers like the original. */
	assert_int_equal(dnsup_msg_parse(w, len, &back), 0);
	assert_int_equal(dnsup_msg_id(back), 1);
	assert_string_equal(dnsup_msg_qname(back), "failover.test.");
	{
		struct dnsup_verdict v;
		uint8_t *a;
		size_t alen;

		a = dnsup_msg_answer(back, &key1, 0, &alen);
		assert_non_null(a);
		dnsup_msg_check(m, &key1, a, alen, time(NULL), &v, NULL);
		assert_int_equal(v.kind, DNSUP_V_FINAL);
		assert_int_equal(v.result, DNSUP_R_NOERROR);
		free(a);
	}
	dnsup_msg_free(back);
	dnsup_msg_free(m);
	/* First publication: "name not in use" is ANY/NONE, no rdata. */
	u.prereq = DNSUP_PREREQ_EMPTY;
	assert_int_equal(dnsup_msg_update("failover.test.", &u, 1, 2, NULL,
	    &m, err, sizeof(err)), 0);
	w = dnsup_msg_wire(m, &len);
	assert_int_equal(ldns_wire2pkt(&p, w, len), LDNS_STATUS_OK);
	assert_int_equal(ldns_pkt_ancount(p), 1);
	rr = ldns_rr_list_rr(ldns_pkt_answer(p), 0);
	assert_int_equal(ldns_rr_get_type(rr), LDNS_RR_TYPE_ANY);
	assert_int_equal(ldns_rr_get_class(rr), LDNS_RR_CLASS_NONE);
	assert_null(ldns_pkt_tsig(p));
	ldns_pkt_free(p);
	dnsup_msg_free(m);
	/* A name the zone cannot hold is refused when building. */
	u.name = "a..b.failover.test.";
	assert_int_equal(dnsup_msg_update("failover.test.", &u, 1, 3, &key1,
	    &m, err, sizeof(err)), -1);
	assert_null(m);
}

static void
test_webhead(void **state)
{
	char *addrs[] = { "192.0.2.10", "2001:DB8::0:10" };
	struct cfg_webhead wh = { false, NULL, 2, addrs };
	struct dnsup_rrset rs;
	char buf[256], err[128];

	(void)state;
	assert_int_equal(dnsup_rrset_from_webhead(&rs, &wh, 30, err,
	    sizeof(err)), 0);
	dnsup_rrset_format(&rs, buf, sizeof(buf));
	assert_string_equal(buf, "A 192.0.2.10 AAAA 2001:db8::10");
	assert_int_equal(rs.ttl, 30);
	wh.is_name = true;
	wh.name = "app1.example.net";
	assert_int_equal(dnsup_rrset_from_webhead(&rs, &wh, 30, err,
	    sizeof(err)), 0);
	assert_string_equal(rs.cname, "app1.example.net.");
	wh.is_name = false;
	addrs[1] = "not-an-address";
	assert_int_equal(dnsup_rrset_from_webhead(&rs, &wh, 30, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "not-an-address"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_update_sections),
		cmocka_unit_test(test_sign_verify),
		cmocka_unit_test(test_algorithms),
		cmocka_unit_test(test_mismatch),
		cmocka_unit_test(test_rrset_compare),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_render),
		cmocka_unit_test(test_owner_value),
		cmocka_unit_test(test_owner),
		cmocka_unit_test(test_owner_several_txt),
		cmocka_unit_test(test_txt_prereq),
		cmocka_unit_test(test_query_answers),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_resign),
		cmocka_unit_test(test_prereq_forms),
		cmocka_unit_test(test_webhead),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
