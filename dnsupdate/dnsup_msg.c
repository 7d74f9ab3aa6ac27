/*
 * dnsup_msg.c - UPDATE/query building, TSIG signing and answer checking.
 *
 * One UPDATE replaces the whole RRset at each of its names (RFC 2136 3.4):
 *
 *	zone     failover.test. SOA IN
 *	prereq   www CNAME IN 0 old.example.net.	("holds exactly prev")
 *	         _failoverd.www TXT IN 0 "failoverd controller=c1 group=www"
 *	                                         ("the TXT is exactly ours")
 *	update   www CNAME ANY 0				(delete)
 *	         www 60 IN CNAME new.example.net.			(add)
 *
 * Only what the prerequisites say is there is deleted (all of CNAME, A,
 * AAAA without one; nothing at a first publication).
 * The TXT is written (_failoverd.www TXT ANY 0, _failoverd.www 60 IN TXT
 * "...") when it is not already required to be ours: at a first
 * publication, an adoption, a new epoch.
 *
 * A value-dependent prerequisite must name the whole RRset (RFC 2136
 * 3.2.5): with several TXT records there, each one is stated.
 *
 * Records with empty rdata (deletes, "RRset does not exist") are built
 * field by field: ldns_rr_new_frm_str() refuses empty rdata.  The message id
 * is set before signing, since the MAC covers it.
 */
#include "dnsupdate/dnsup_msg.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <ldns/ldns.h>

#include "dnsupdate/dnsup_owner.h"

#define TSIG_FUDGE	300

struct dnsup_msg {
	uint8_t		*wire;
	size_t		 len;
	uint16_t	 id;
	int		 opcode;
	int		 qtype;
	ldns_rdf	*qname;
	char		 qname_str[DNSUP_NAME_MAX];
	ldns_rdf	*mac;		/* request MAC; NULL when unsigned */
	bool		 recursive;	/* RD: to a resolver, no AA */
};

static const char *result_names[DNSUP_R__MAX] = {
	[DNSUP_R_NOERROR] = "NOERROR",
	[DNSUP_R_FORMERR] = "FORMERR",
	[DNSUP_R_SERVFAIL] = "SERVFAIL",
	[DNSUP_R_NXDOMAIN] = "NXDOMAIN",
	[DNSUP_R_NOTIMP] = "NOTIMP",
	[DNSUP_R_REFUSED] = "REFUSED",
	[DNSUP_R_YXDOMAIN] = "YXDOMAIN",
	[DNSUP_R_YXRRSET] = "YXRRSET",
	[DNSUP_R_NXRRSET] = "NXRRSET",
	[DNSUP_R_NOTAUTH] = "NOTAUTH",
	[DNSUP_R_NOTZONE] = "NOTZONE",
	[DNSUP_R_BADSIG] = "BADSIG",
	[DNSUP_R_BADKEY] = "BADKEY",
	[DNSUP_R_BADTIME] = "BADTIME",
	[DNSUP_R_TIMEOUT] = "timeout",
	[DNSUP_R_NETWORK] = "network_error",
	[DNSUP_R_BADRESP] = "bad_response",
	[DNSUP_R_UNSIGNED] = "unsigned_response",
	[DNSUP_R_OTHER_RCODE] = "other_rcode",
	[DNSUP_R_NOTOWNER] = "not_owner",
	[DNSUP_R_INTERNAL] = "internal_error",
	[DNSUP_R_CANCELLED] = "cancelled",
	[DNSUP_R_NOTAA] = "not_authoritative",
	[DNSUP_R_BADALG] = "BADALG",
	[DNSUP_R_BADTRUNC] = "BADTRUNC",
	[DNSUP_R_CNAME_CONFLICT] = "cname_conflict",
};

static void	 fmt(char *, size_t, const char *, ...)
		    __attribute__((format(printf, 3, 4)));
static int	 name_eq(const char *, const char *);
static int	 addr_key(const char *, uint8_t[17]);
static ldns_rr	*rr_new(const char *, ldns_rr_type, ldns_rr_class, uint32_t);
static int	 rr_push_str(ldns_rr *, ldns_rdf_type, const char *);
static int	 add_prereq(ldns_rr_list *, const struct dnsup_update *);
static int	 add_rec_prereq(ldns_rr_list *, const struct dnsup_update *);
static int	 add_rrset(ldns_rr_list *, const char *, ldns_rr_class,
		    const struct dnsup_rrset *, uint32_t);
static int	 add_updates(ldns_rr_list *, const struct dnsup_update *);
static int	 msg_finish(ldns_pkt *, uint16_t, const struct cfg_tsig_key *,
		    const char *, int, bool, struct dnsup_msg **, char *,
		    size_t);
static ldns_status wire2pkt(ldns_pkt **, const uint8_t *, size_t);
static void	 collect(const ldns_pkt *, const struct dnsup_msg *,
		    struct dnsup_found *);

/*
 * How many TSIG records ldns_wire2pkt() would take from the message: its
 * own walk, record by record with ldns_wire2rr(), so that every record
 * ends where ldns ends it.  A hand-made walk by RDLENGTH did not: ldns
 * parses rdata field by field and goes on from where its fields end,
 * which fuzz_dns_response found can hide a second TSIG from a walk by
 * RDLENGTH (and leak).  Every record the header announces is walked, as
 * far as they parse: a TSIG that ldns might not reach still makes the
 * message one of more than one TSIG, which RFC 8945 does not allow.
 */
static int
wire_tsigs(const uint8_t *w, size_t len)
{
	static const ldns_pkt_section sections[4] = {
		LDNS_SECTION_QUESTION, LDNS_SECTION_ANSWER,
		LDNS_SECTION_AUTHORITY, LDNS_SECTION_ADDITIONAL,
	};
	size_t pos = 12;
	int n = 0;

	if (len < 12)
		return 0;
	for (unsigned sec = 0; sec < 4; sec++) {
		/* QDCOUNT, ANCOUNT, NSCOUNT, ARCOUNT: from offset 4 on. */
		unsigned count = (unsigned)(w[4 + 2 * sec] << 8 |
		    w[5 + 2 * sec]);

		for (unsigned i = 0; i < count; i++) {
			ldns_rr *rr = NULL;
			bool tsig;

			if (ldns_wire2rr(&rr, w, len, &pos, sections[sec]) !=
			    LDNS_STATUS_OK)
				return n;	/* ldns stops there too */
			tsig = ldns_rr_get_type(rr) == LDNS_RR_TYPE_TSIG;
			ldns_rr_free(rr);
			if (tsig && sections[sec] == LDNS_SECTION_ADDITIONAL)
				n++;
		}
	}
	return n;
}

/*
 * ldns_wire2pkt, for a message with at most one TSIG record.  ldns keeps
 * the last TSIG of the additional section as the packet's and loses the
 * ones before it (ldns 1.8.3: 690 bytes a message with two, found by
 * fuzz_dns_response), so anyone who can answer an UPDATE's id could make
 * the daemon leak.  RFC 8945 allows one TSIG, the last record: more is a
 * malformed message, refused before ldns reads it.  For bytes that came
 * from elsewhere only (a response, a request fakedns or a fuzzer hands
 * in): a message we built, or one already read through here, is read
 * with ldns_wire2pkt() itself, not walked twice.
 */
static ldns_status
wire2pkt(ldns_pkt **p, const uint8_t *wire, size_t len)
{
	if (wire_tsigs(wire, len) > 1)
		return LDNS_STATUS_WIRE_RDATA_ERR;
	return ldns_wire2pkt(p, wire, len);
}

const char *
dnsup_result_name(enum dnsup_result r)
{
	if ((int)r < 0 || r >= DNSUP_R__MAX || result_names[r] == NULL)
		return "unknown";
	return result_names[r];
}

enum dnsup_result
dnsup_result_from_rcode(int rcode)
{
	switch (rcode) {
	case 0:	return DNSUP_R_NOERROR;
	case 1:	return DNSUP_R_FORMERR;
	case 2:	return DNSUP_R_SERVFAIL;
	case 3:	return DNSUP_R_NXDOMAIN;
	case 4:	return DNSUP_R_NOTIMP;
	case 5:	return DNSUP_R_REFUSED;
	case 6:	return DNSUP_R_YXDOMAIN;
	case 7:	return DNSUP_R_YXRRSET;
	case 8:	return DNSUP_R_NXRRSET;
	case 9:	return DNSUP_R_NOTAUTH;
	case 10: return DNSUP_R_NOTZONE;
	case 16: return DNSUP_R_BADSIG;
	case 17: return DNSUP_R_BADKEY;
	case 18: return DNSUP_R_BADTIME;
	default: return DNSUP_R_OTHER_RCODE;
	}
}

enum dnsup_result
dnsup_result_from_tsig_error(int err)
{
	switch (err) {
	case 0:	 return DNSUP_R_NOERROR;
	case 16: return DNSUP_R_BADSIG;
	case 17: return DNSUP_R_BADKEY;
	case 18: return DNSUP_R_BADTIME;
	case 21: return DNSUP_R_BADALG;
	case 22: return DNSUP_R_BADTRUNC;
	default: return DNSUP_R_BADRESP;
	}
}

bool
dnsup_result_is_prereq(enum dnsup_result r)
{
	return r == DNSUP_R_YXDOMAIN || r == DNSUP_R_YXRRSET ||
	    r == DNSUP_R_NXDOMAIN || r == DNSUP_R_NXRRSET;
}

bool
dnsup_result_next_server(enum dnsup_result r)
{
	return r == DNSUP_R_REFUSED || r == DNSUP_R_NOTAUTH ||
	    r == DNSUP_R_SERVFAIL || r == DNSUP_R_NOTIMP || r == DNSUP_R_NOTAA;
}

/*
 * REFUSED is here because named's update-policy refuses the whole message
 * for one name it does not grant: the others must still go through.
 */
bool
dnsup_result_per_update(enum dnsup_result r)
{
	return dnsup_result_is_prereq(r) || r == DNSUP_R_NOTZONE ||
	    r == DNSUP_R_FORMERR || r == DNSUP_R_REFUSED;
}

bool
dnsup_result_is_transient(enum dnsup_result r)
{
	return r == DNSUP_R_TIMEOUT || r == DNSUP_R_NETWORK ||
	    r == DNSUP_R_SERVFAIL || r == DNSUP_R_BADRESP ||
	    r == DNSUP_R_UNSIGNED || r == DNSUP_R_BADTIME ||
	    r == DNSUP_R_CANCELLED || r == DNSUP_R_NOTAA;
}

const char *
dnsup_tsig_alg_name(enum cfg_tsig_alg alg)
{
	switch (alg) {
	case CFG_TSIG_HMAC_SHA1:	return "hmac-sha1.";
	case CFG_TSIG_HMAC_SHA512:	return "hmac-sha512.";
	case CFG_TSIG_HMAC_SHA256:
	default:			return "hmac-sha256.";
	}
}

static void
fmt(char *buf, size_t len, const char *f, ...)
{
	va_list ap;

	if (buf == NULL || len == 0)
		return;
	va_start(ap, f);
	vsnprintf(buf, len, f, ap);
	va_end(ap);
}

/* Names equal without regard to case or a final dot. */
static int
name_eq(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	if (la > 0 && a[la - 1] == '.')
		la--;
	if (lb > 0 && b[lb - 1] == '.')
		lb--;
	return la == lb && strncasecmp(a, b, la) == 0;
}

/* An address as a sortable key: family byte + 16 bytes. */
static int
addr_key(const char *s, uint8_t key[17])
{
	memset(key, 0, 17);
	if (inet_pton(AF_INET, s, key + 1) == 1) {
		key[0] = 4;
		return 4;
	}
	if (inet_pton(AF_INET6, s, key + 1) == 1) {
		key[0] = 6;
		return 6;
	}
	return -1;
}

static int
key_cmp(const void *a, const void *b)
{
	return memcmp(a, b, 17);
}

static int
rrset_add_addr(struct dnsup_rrset *rs, const char *a, char *err, size_t errlen)
{
	uint8_t key[17];
	int fam;

	if ((fam = addr_key(a, key)) < 0) {
		fmt(err, errlen, "not an IPv4 or IPv6 address: %s", a);
		return -1;
	}
	if (rs->naddr >= DNSUP_MAX_ADDRS) {
		fmt(err, errlen, "more than %d addresses", DNSUP_MAX_ADDRS);
		return -1;
	}
	/* Canonical text, so the same address always reads the same. */
	inet_ntop(fam == 4 ? AF_INET : AF_INET6, key + 1,
	    rs->addrs[rs->naddr], sizeof(rs->addrs[0]));
	rs->naddr++;
	rs->kind = DNSUP_RRSET_ADDRS;
	return 0;
}

static int
rrset_set_cname(struct dnsup_rrset *rs, const char *name, char *err,
    size_t errlen)
{
	size_t l = strlen(name);

	if (l == 0 || l + 2 > sizeof(rs->cname)) {
		fmt(err, errlen, "bad host name '%s'", name);
		return -1;
	}
	memcpy(rs->cname, name, l + 1);
	if (rs->cname[l - 1] != '.') {
		rs->cname[l] = '.';
		rs->cname[l + 1] = '\0';
	}
	rs->kind = DNSUP_RRSET_CNAME;
	return 0;
}

int
dnsup_rrset_from_webhead(struct dnsup_rrset *rs, const struct cfg_webhead *wh,
    uint32_t ttl, char *err, size_t errlen)
{
	size_t i;

	memset(rs, 0, sizeof(*rs));
	rs->ttl = ttl;
	if (wh->is_name)
		return rrset_set_cname(rs, wh->name ? wh->name : "", err,
		    errlen);
	for (i = 0; i < wh->naddr; i++)
		if (rrset_add_addr(rs, wh->addrs[i], err, errlen) == -1)
			return -1;
	return 0;
}

int
dnsup_rrset_parse(struct dnsup_rrset *rs, const char *s, uint32_t ttl,
    char *err, size_t errlen)
{
	char buf[1024], *tok, *save = NULL;
	bool want_cname = false, any = false;
	uint8_t key[17];

	memset(rs, 0, sizeof(*rs));
	rs->ttl = ttl;
	if (strlen(s) >= sizeof(buf)) {
		fmt(err, errlen, "value too long");
		return -1;
	}
	strcpy(buf, s);
	for (tok = strtok_r(buf, " \t,", &save); tok != NULL;
	    tok = strtok_r(NULL, " \t,", &save)) {
		if (strcasecmp(tok, "none") == 0 && !any)
			return 0;
		if (strcasecmp(tok, "CNAME") == 0) {
			want_cname = true;
			continue;
		}
		if (strcasecmp(tok, "A") == 0 || strcasecmp(tok, "AAAA") == 0)
			continue;
		any = true;
		if (!want_cname && addr_key(tok, key) > 0) {
			if (rrset_add_addr(rs, tok, err, errlen) == -1)
				return -1;
			continue;
		}
		if (rs->kind != DNSUP_RRSET_NONE) {
			fmt(err, errlen, "a CNAME takes one host name only");
			return -1;
		}
		if (rrset_set_cname(rs, tok, err, errlen) == -1)
			return -1;
	}
	if (!any) {
		fmt(err, errlen, "empty record value");
		return -1;
	}
	return 0;
}

void
dnsup_rrset_format(const struct dnsup_rrset *rs, char *buf, size_t len)
{
	size_t i, off = 0;
	int pass, n;

	if (len == 0)
		return;
	buf[0] = '\0';
	switch (rs->kind) {
	case DNSUP_RRSET_NONE:
		fmt(buf, len, "none");
		return;
	case DNSUP_RRSET_CNAME:
		fmt(buf, len, "CNAME %s", rs->cname);
		return;
	case DNSUP_RRSET_ADDRS:
		break;
	}
	for (pass = 4; pass <= 6; pass += 2) {
		bool first = true;

		for (i = 0; i < rs->naddr; i++) {
			uint8_t key[17];

			if (addr_key(rs->addrs[i], key) != pass)
				continue;
			n = snprintf(buf + off, len - off, "%s%s%s",
			    off ? " " : "", first ? (pass == 4 ? "A " :
			    "AAAA ") : "", rs->addrs[i]);
			first = false;
			if (n < 0 || (size_t)n >= len - off)
				return;
			off += (size_t)n;
		}
	}
}

int
dnsup_rrset_compare(const struct dnsup_rrset *want,
    const struct dnsup_rrset *found, bool check_ttl, char *diff, size_t difflen)
{
	uint8_t kw[DNSUP_MAX_ADDRS][17], kf[DNSUP_MAX_ADDRS][17];
	char a[512], b[512];
	size_t i;
	bool same = want->kind == found->kind;

	if (same && want->kind == DNSUP_RRSET_CNAME)
		same = name_eq(want->cname, found->cname);
	if (same && want->kind == DNSUP_RRSET_ADDRS) {
		same = want->naddr == found->naddr &&
		    want->naddr <= DNSUP_MAX_ADDRS;
		for (i = 0; same && i < want->naddr; i++) {
			addr_key(want->addrs[i], kw[i]);
			addr_key(found->addrs[i], kf[i]);
		}
		if (same) {
			qsort(kw, want->naddr, 17, key_cmp);
			qsort(kf, want->naddr, 17, key_cmp);
			same = memcmp(kw, kf, want->naddr * 17) == 0;
		}
	}
	if (same && check_ttl && want->kind != DNSUP_RRSET_NONE &&
	    want->ttl != found->ttl) {
		fmt(diff, difflen, "want ttl %u found ttl %u",
		    (unsigned)want->ttl, (unsigned)found->ttl);
		return 1;
	}
	if (same) {
		fmt(diff, difflen, "in sync");
		return 0;
	}
	dnsup_rrset_format(want, a, sizeof(a));
	dnsup_rrset_format(found, b, sizeof(b));
	fmt(diff, difflen, "want %s found %s", a, b);
	return 1;
}

void
dnsup_txt_value(const struct dnsup_txt *t, char *buf, size_t len)
{
	size_t i = 0, off = 0;

	if (len == 0)
		return;
	while (i < t->len) {
		size_t l = t->rdata[i++];

		for (; l > 0 && i < t->len; l--, i++)
			if (off + 1 < len)
				buf[off++] = (char)t->rdata[i];
	}
	buf[off] = '\0';
}

int
dnsup_txt_set(struct dnsup_txt *t, const char *value)
{
	size_t l = strlen(value);

	memset(t, 0, sizeof(*t));
	if (l > 255)
		return -1;
	t->rdata[0] = (uint8_t)l;
	memcpy(t->rdata + 1, value, l);
	t->len = (uint16_t)(l + 1);
	return 0;
}

static int
txt_cmp(const struct dnsup_txt *a, const struct dnsup_txt *b)
{
	size_t l = a->len < b->len ? a->len : b->len;
	int c = memcmp(a->rdata, b->rdata, l);

	if (c != 0)
		return c;
	return (int)a->len - (int)b->len;
}

void
dnsup_txtset_add(struct dnsup_txtset *s, const struct dnsup_txt *t)
{
	size_t i, j;

	for (i = 0; i < s->n; i++) {
		int c = txt_cmp(t, &s->t[i]);

		if (c == 0)
			return;
		if (c < 0)
			break;
	}
	if (s->n == DNSUP_MAX_TXT) {
		s->more = true;
		return;
	}
	for (j = s->n; j > i; j--)
		s->t[j] = s->t[j - 1];
	s->t[i] = *t;
	s->n++;
}

bool
dnsup_txtset_is(const struct dnsup_txtset *s, const char *value)
{
	struct dnsup_txt t;

	return !s->more && s->n == 1 && dnsup_txt_set(&t, value) == 0 &&
	    txt_cmp(&t, &s->t[0]) == 0;
}

void
dnsup_txtset_format(const struct dnsup_txtset *s, char *buf, size_t len)
{
	char v[300];
	size_t i, off = 0;
	int n;

	if (len == 0)
		return;
	buf[0] = '\0';
	if (s->n == 0 && !s->more) {
		fmt(buf, len, "none");
		return;
	}
	for (i = 0; i < s->n; i++) {
		dnsup_txt_value(&s->t[i], v, sizeof(v));
		n = snprintf(buf + off, len - off, "%s\"%s\"", i ? " " : "", v);
		if (n < 0 || (size_t)n >= len - off)
			return;
		off += (size_t)n;
	}
	if (s->more)
		snprintf(buf + off, len - off, "%s...", off ? " " : "");
}

static ldns_rr *
rr_new(const char *owner, ldns_rr_type type, ldns_rr_class class, uint32_t ttl)
{
	ldns_rr *rr;
	ldns_rdf *o;

	if ((o = ldns_dname_new_frm_str(owner)) == NULL)
		return NULL;
	if ((rr = ldns_rr_new()) == NULL) {
		ldns_rdf_deep_free(o);
		return NULL;
	}
	ldns_rr_set_owner(rr, o);
	ldns_rr_set_type(rr, type);
	ldns_rr_set_class(rr, class);
	ldns_rr_set_ttl(rr, ttl);
	return rr;
}

static int
rr_push_str(ldns_rr *rr, ldns_rdf_type t, const char *s)
{
	ldns_rdf *rd;

	if (t == LDNS_RDF_TYPE_DNAME)
		rd = ldns_dname_new_frm_str(s);
	else
		rd = ldns_rdf_new_frm_str(t, s);
	if (rd == NULL || !ldns_rr_push_rdf(rr, rd)) {
		ldns_rdf_deep_free(rd);
		return -1;
	}
	return 0;
}

static int
list_push(ldns_rr_list *l, ldns_rr *rr)
{
	if (rr == NULL)
		return -1;
	if (!ldns_rr_list_push_rr(l, rr)) {
		ldns_rr_free(rr);
		return -1;
	}
	return 0;
}

/* The records of rs at name, with class and ttl; nothing for NONE. */
static int
add_rrset(ldns_rr_list *l, const char *name, ldns_rr_class class,
    const struct dnsup_rrset *rs, uint32_t ttl)
{
	ldns_rr *rr;
	size_t i;

	if (rs->kind == DNSUP_RRSET_CNAME) {
		if ((rr = rr_new(name, LDNS_RR_TYPE_CNAME, class, ttl)) == NULL)
			return -1;
		if (rr_push_str(rr, LDNS_RDF_TYPE_DNAME, rs->cname) == -1) {
			ldns_rr_free(rr);
			return -1;
		}
		return list_push(l, rr);
	}
	for (i = 0; rs->kind == DNSUP_RRSET_ADDRS && i < rs->naddr; i++) {
		uint8_t key[17];
		int fam = addr_key(rs->addrs[i], key);

		if (fam < 0)
			return -1;
		rr = rr_new(name, fam == 4 ? LDNS_RR_TYPE_A : LDNS_RR_TYPE_AAAA,
		    class, ttl);
		if (rr == NULL)
			return -1;
		if (rr_push_str(rr, fam == 4 ? LDNS_RDF_TYPE_A :
		    LDNS_RDF_TYPE_AAAA, rs->addrs[i]) == -1) {
			ldns_rr_free(rr);
			return -1;
		}
		if (list_push(l, rr) == -1)
			return -1;
	}
	return 0;
}

static bool
rrset_has_family(const struct dnsup_rrset *rs, int fam)
{
	uint8_t key[17];
	size_t i;

	for (i = 0; rs->kind == DNSUP_RRSET_ADDRS && i < rs->naddr; i++)
		if (addr_key(rs->addrs[i], key) == fam)
			return true;
	return false;
}

/* A TXT record at owner with the character-strings of t (class IN). */
static ldns_rr *
txt_rr(const char *owner, ldns_rr_class class, uint32_t ttl,
    const struct dnsup_txt *t)
{
	ldns_rr *rr;
	size_t i = 0;

	if ((rr = rr_new(owner, LDNS_RR_TYPE_TXT, class, ttl)) == NULL)
		return NULL;
	while (i < t->len) {
		size_t l = (size_t)t->rdata[i] + 1;
		ldns_rdf *rd;

		if (i + l > t->len ||
		    (rd = ldns_rdf_new_frm_data(LDNS_RDF_TYPE_STR, l,
		    t->rdata + i)) == NULL || !ldns_rr_push_rdf(rr, rd)) {
			ldns_rr_free(rr);
			return NULL;
		}
		i += l;
	}
	return rr;
}

/* The prerequisite on _failoverd.<name>, RFC 2136 2.4.2 and 2.4.3. */
static int
add_txt_prereq(ldns_rr_list *l, const struct dnsup_update *u)
{
	char owner[DNSUP_NAME_MAX + 16];
	struct dnsup_txt t;
	size_t i;

	if (u->owner_txt == NULL || u->owner_prereq == DNSUP_TXT_UNCHECKED)
		return 0;
	if (dnsup_owner_name(owner, sizeof(owner), u->name) == -1)
		return -1;
	switch (u->owner_prereq) {
	case DNSUP_TXT_OURS:
		if (dnsup_txt_set(&t, u->owner_txt) == -1)
			return -1;
		return list_push(l, txt_rr(owner, LDNS_RR_CLASS_IN, 0, &t));
	case DNSUP_TXT_WAS:
		if (u->owner_prev == NULL || u->owner_prev->more)
			return -1;
		for (i = 0; i < u->owner_prev->n; i++)
			if (list_push(l, txt_rr(owner, LDNS_RR_CLASS_IN, 0,
			    &u->owner_prev->t[i])) == -1)
				return -1;
		if (u->owner_prev->n > 0)
			return 0;
		/* Nothing was there. */
		return list_push(l, rr_new(owner, LDNS_RR_TYPE_TXT,
		    LDNS_RR_CLASS_NONE, 0));
	case DNSUP_TXT_ABSENT:
		return list_push(l, rr_new(owner, LDNS_RR_TYPE_TXT,
		    LDNS_RR_CLASS_NONE, 0));
	case DNSUP_TXT_UNCHECKED:
		break;
	}
	return 0;
}

static int
add_prereq(ldns_rr_list *l, const struct dnsup_update *u)
{
	if (add_rec_prereq(l, u) == -1)
		return -1;
	return add_txt_prereq(l, u);
}

static int
add_rec_prereq(ldns_rr_list *l, const struct dnsup_update *u)
{
	const struct dnsup_rrset *p = &u->prev;

	switch (u->prereq) {
	case DNSUP_PREREQ_NONE:
		return 0;
	case DNSUP_PREREQ_EMPTY:
		/* "Name is not in use" (RFC 2136 2.4.5). */
		return list_push(l, rr_new(u->name, LDNS_RR_TYPE_ANY,
		    LDNS_RR_CLASS_NONE, 0));
	case DNSUP_PREREQ_IS:
		break;
	}
	/* Value-dependent "RRset exists" (2.4.2), "does not exist" (2.4.3). */
	if (p->kind == DNSUP_RRSET_CNAME)
		return add_rrset(l, u->name, LDNS_RR_CLASS_IN, p, 0);
	if (p->kind == DNSUP_RRSET_NONE && list_push(l, rr_new(u->name,
	    LDNS_RR_TYPE_CNAME, LDNS_RR_CLASS_NONE, 0)) == -1)
		return -1;
	if (!rrset_has_family(p, 4) && list_push(l, rr_new(u->name,
	    LDNS_RR_TYPE_A, LDNS_RR_CLASS_NONE, 0)) == -1)
		return -1;
	if (!rrset_has_family(p, 6) && list_push(l, rr_new(u->name,
	    LDNS_RR_TYPE_AAAA, LDNS_RR_CLASS_NONE, 0)) == -1)
		return -1;
	return add_rrset(l, u->name, LDNS_RR_CLASS_IN, p, 0);
}

/*
 * Which of CNAME, A, AAAA the update must delete: the prerequisites make
 * sure of what is there, so a first publication deletes nothing and a
 * flip only what it replaces (half of the server's work for a first
 * publication; a third fewer records in a flip).  Without a prerequisite,
 * all three.
 */
static void
types_to_delete(const struct dnsup_update *u, bool del[3])
{
	const struct dnsup_rrset *p = &u->prev;

	del[0] = del[1] = del[2] = u->prereq == DNSUP_PREREQ_NONE;
	if (u->prereq == DNSUP_PREREQ_IS) {
		del[0] = p->kind == DNSUP_RRSET_CNAME;
		del[1] = rrset_has_family(p, 4);
		del[2] = rrset_has_family(p, 6);
	}
}

static int
add_updates(ldns_rr_list *l, const struct dnsup_update *u)
{
	static const ldns_rr_type types[] = { LDNS_RR_TYPE_CNAME,
	    LDNS_RR_TYPE_A, LDNS_RR_TYPE_AAAA };
	char owner[DNSUP_NAME_MAX + 16];
	uint32_t ttl = u->want.ttl ? u->want.ttl : 60;
	struct dnsup_txt t;
	bool del[3];
	size_t i;

	types_to_delete(u, del);
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (del[i] && list_push(l, rr_new(u->name, types[i],
		    LDNS_RR_CLASS_ANY, 0)) == -1)
			return -1;
	if (add_rrset(l, u->name, LDNS_RR_CLASS_IN, &u->want, u->want.ttl) ==
	    -1)
		return -1;
	if (u->owner_txt == NULL && !u->owner_delete)
		return 0;
	/*
	 * Required to be exactly ours already: writing it again would only
	 * double the server's work for every flip.
	 */
	if (!u->owner_delete && u->owner_prereq == DNSUP_TXT_OURS)
		return 0;
	if (dnsup_owner_name(owner, sizeof(owner), u->name) == -1)
		return -1;
	/* Required to be absent: nothing to delete. */
	if (u->owner_prereq != DNSUP_TXT_ABSENT && list_push(l, rr_new(owner,
	    LDNS_RR_TYPE_TXT, LDNS_RR_CLASS_ANY, 0)) == -1)
		return -1;
	if (u->owner_delete)
		return 0;
	if (dnsup_txt_set(&t, u->owner_txt) == -1)
		return -1;
	return list_push(l, txt_rr(owner, LDNS_RR_CLASS_IN, ttl, &t));
}

/* Set the id, sign, and keep the wire form and the MAC. */
static int
msg_finish(ldns_pkt *pkt, uint16_t id, const struct cfg_tsig_key *key,
    const char *qname, int qtype, bool rd, struct dnsup_msg **out, char *err,
    size_t errlen)
{
	struct dnsup_msg *m;
	ldns_status st;
	ldns_rr *tsig;
	uint8_t *w;

	ldns_pkt_set_id(pkt, id);
	ldns_pkt_set_rd(pkt, rd);
	if (key != NULL) {
		st = ldns_pkt_tsig_sign(pkt, key->name, key->secret, TSIG_FUDGE,
		    dnsup_tsig_alg_name(key->alg), NULL);
		if (st != LDNS_STATUS_OK) {
			fmt(err, errlen, "TSIG signing failed: %s",
			    ldns_get_errorstr_by_id(st));
			return -1;
		}
	}
	if ((m = calloc(1, sizeof(*m))) == NULL) {
		fmt(err, errlen, "out of memory");
		return -1;
	}
	m->id = id;
	m->opcode = ldns_pkt_get_opcode(pkt);
	m->qtype = qtype;
	m->recursive = rd;
	if ((st = ldns_pkt2wire(&m->wire, pkt, &m->len)) != LDNS_STATUS_OK) {
		fmt(err, errlen, "cannot encode the message: %s",
		    ldns_get_errorstr_by_id(st));
		goto fail;
	}
	/*
	 * ldns hands over its whole 64 KiB work buffer: keep only the
	 * message (5,000 first publications in flight held 320 MiB).
	 */
	if (m->len > 0 && (w = realloc(m->wire, m->len)) != NULL)
		m->wire = w;
	if ((m->qname = ldns_dname_new_frm_str(qname)) == NULL) {
		fmt(err, errlen, "bad name '%s'", qname);
		goto fail;
	}
	snprintf(m->qname_str, sizeof(m->qname_str), "%s", qname);
	if (key != NULL && (tsig = ldns_pkt_tsig(pkt)) != NULL &&
	    ldns_rr_rd_count(tsig) > 3)
		m->mac = ldns_rdf_clone(ldns_rr_rdf(tsig, 3));
	if (key != NULL && m->mac == NULL) {
		fmt(err, errlen, "signed message has no MAC");
		goto fail;
	}
	*out = m;
	return 0;
fail:
	dnsup_msg_free(m);
	return -1;
}

int
dnsup_msg_update(const char *zone, const struct dnsup_update *ups, size_t n,
    uint16_t id, const struct cfg_tsig_key *key, struct dnsup_msg **out,
    char *err, size_t errlen)
{
	ldns_rr_list *pr = NULL, *up = NULL;
	ldns_rdf *zrdf = NULL;
	ldns_pkt *pkt = NULL;
	size_t i;
	int rc = -1;

	*out = NULL;
	if ((zrdf = ldns_dname_new_frm_str(zone)) == NULL) {
		fmt(err, errlen, "bad zone name '%s'", zone);
		goto done;
	}
	if ((pr = ldns_rr_list_new()) == NULL ||
	    (up = ldns_rr_list_new()) == NULL) {
		fmt(err, errlen, "out of memory");
		goto done;
	}
	for (i = 0; i < n; i++) {
		if (add_prereq(pr, &ups[i]) == -1 ||
		    add_updates(up, &ups[i]) == -1) {
			fmt(err, errlen, "cannot build the update for '%s'",
			    ups[i].name ? ups[i].name : "(null)");
			goto done;
		}
	}
	pkt = ldns_update_pkt_new(zrdf, LDNS_RR_CLASS_IN, pr, up, NULL);
	if (pkt == NULL) {
		fmt(err, errlen, "cannot build the update message");
		goto done;
	}
	zrdf = NULL;		/* owned by pkt */
	rc = msg_finish(pkt, id, key, zone, LDNS_RR_TYPE_SOA, false, out, err,
	    errlen);
done:
	ldns_pkt_free(pkt);
	ldns_rdf_deep_free(zrdf);
	ldns_rr_list_deep_free(pr);
	ldns_rr_list_deep_free(up);
	return rc;
}

static int
msg_query(const char *qname, int qtype, uint16_t id,
    const struct cfg_tsig_key *key, bool rd, struct dnsup_msg **out,
    char *err, size_t errlen)
{
	ldns_rdf *q;
	ldns_pkt *pkt;
	int rc;

	*out = NULL;
	if ((q = ldns_dname_new_frm_str(qname)) == NULL) {
		fmt(err, errlen, "bad name '%s'", qname);
		return -1;
	}
	pkt = ldns_pkt_query_new(q, (ldns_rr_type)qtype, LDNS_RR_CLASS_IN, 0);
	if (pkt == NULL) {
		ldns_rdf_deep_free(q);
		fmt(err, errlen, "cannot build the query");
		return -1;
	}
	rc = msg_finish(pkt, id, key, qname, qtype, rd, out, err, errlen);
	ldns_pkt_free(pkt);
	return rc;
}

int
dnsup_msg_query(const char *qname, int qtype, uint16_t id,
    const struct cfg_tsig_key *key, struct dnsup_msg **out, char *err,
    size_t errlen)
{
	return msg_query(qname, qtype, id, key, false, out, err, errlen);
}

int
dnsup_msg_query_recursive(const char *qname, int qtype, uint16_t id,
    struct dnsup_msg **out, char *err, size_t errlen)
{
	return msg_query(qname, qtype, id, NULL, true, out, err, errlen);
}

int
dnsup_msg_parse(const uint8_t *wire, size_t len, struct dnsup_msg **out)
{
	struct dnsup_msg *m = NULL;
	ldns_pkt *p = NULL;
	ldns_rr *q, *tsig;
	char *s = NULL;

	*out = NULL;
	if (wire2pkt(&p, wire, len) != LDNS_STATUS_OK)
		return -1;
	if (ldns_rr_list_rr_count(ldns_pkt_question(p)) != 1 ||
	    (m = calloc(1, sizeof(*m))) == NULL ||
	    (m->wire = malloc(len)) == NULL)
		goto fail;
	q = ldns_rr_list_rr(ldns_pkt_question(p), 0);
	memcpy(m->wire, wire, len);
	m->len = len;
	m->id = ldns_pkt_id(p);
	m->opcode = ldns_pkt_get_opcode(p);
	m->qtype = ldns_rr_get_type(q);
	if ((m->qname = ldns_rdf_clone(ldns_rr_owner(q))) == NULL ||
	    (s = ldns_rdf2str(m->qname)) == NULL)
		goto fail;
	snprintf(m->qname_str, sizeof(m->qname_str), "%s", s);
	free(s);
	if ((tsig = ldns_pkt_tsig(p)) != NULL && ldns_rr_rd_count(tsig) > 3)
		m->mac = ldns_rdf_clone(ldns_rr_rdf(tsig, 3));
	ldns_pkt_free(p);
	*out = m;
	return 0;
fail:
	ldns_pkt_free(p);
	dnsup_msg_free(m);
	return -1;
}

void
dnsup_msg_free(struct dnsup_msg *m)
{
	if (m == NULL)
		return;
	free(m->wire);
	ldns_rdf_deep_free(m->qname);
	ldns_rdf_deep_free(m->mac);
	free(m);
}

int
dnsup_msg_resign(struct dnsup_msg *m, const struct cfg_tsig_key *key,
    char *err, size_t errlen)
{
	ldns_pkt *p = NULL;
	ldns_rr *t;
	ldns_rdf *mac = NULL;
	uint8_t *w = NULL;
	size_t wl;
	ldns_status st;
	int rc = -1;

	if (key == NULL || m->mac == NULL)
		return 0;
	if ((st = ldns_wire2pkt(&p, m->wire, m->len)) != LDNS_STATUS_OK) {
		fmt(err, errlen, "cannot read the message back: %s",
		    ldns_get_errorstr_by_id(st));
		return -1;
	}
	if ((t = ldns_pkt_tsig(p)) != NULL) {
		ldns_pkt_set_tsig(p, NULL);
		ldns_rr_free(t);
	}
	st = ldns_pkt_tsig_sign(p, key->name, key->secret, TSIG_FUDGE,
	    dnsup_tsig_alg_name(key->alg), NULL);
	if (st != LDNS_STATUS_OK) {
		fmt(err, errlen, "TSIG signing failed: %s",
		    ldns_get_errorstr_by_id(st));
		goto done;
	}
	if ((t = ldns_pkt_tsig(p)) == NULL || ldns_rr_rd_count(t) <= 3 ||
	    (mac = ldns_rdf_clone(ldns_rr_rdf(t, 3))) == NULL ||
	    (st = ldns_pkt2wire(&w, p, &wl)) != LDNS_STATUS_OK) {
		fmt(err, errlen, "cannot encode the signed message");
		goto done;
	}
	free(m->wire);
	m->wire = w;
	/* As msg_finish(): not ldns's whole 64 KiB work buffer. */
	if (wl > 0 && (w = realloc(m->wire, wl)) != NULL)
		m->wire = w;
	m->len = wl;
	w = NULL;
	ldns_rdf_deep_free(m->mac);
	m->mac = mac;
	mac = NULL;
	rc = 0;
done:
	free(w);
	ldns_rdf_deep_free(mac);
	ldns_pkt_free(p);
	return rc;
}

const uint8_t *
dnsup_msg_wire(const struct dnsup_msg *m, size_t *len)
{
	*len = m->len;
	return m->wire;
}

uint16_t
dnsup_msg_id(const struct dnsup_msg *m)
{
	return m->id;
}

const char *
dnsup_msg_qname(const struct dnsup_msg *m)
{
	return m->qname_str;
}

int
dnsup_msg_qtype(const struct dnsup_msg *m)
{
	return m->qtype;
}

/* The 48-bit time signed of a TSIG record. */
static uint64_t
tsig_time(const ldns_rdf *rd)
{
	const uint8_t *p = ldns_rdf_data(rd);
	uint64_t t = 0;
	size_t i;

	if (ldns_rdf_size(rd) != 6)
		return 0;
	for (i = 0; i < 6; i++)
		t = (t << 8) | p[i];
	return t;
}

/* A TXT record's rdata as on the wire; -1 when it does not fit. */
static int
txt_from_rr(const ldns_rr *rr, struct dnsup_txt *t)
{
	size_t j, l;

	memset(t, 0, sizeof(*t));
	for (j = 0; j < ldns_rr_rd_count(rr); j++) {
		const ldns_rdf *rd = ldns_rr_rdf(rr, j);

		/* A character-string: length byte, bytes. */
		l = ldns_rdf_size(rd);
		if (l < 1 || t->len + l > sizeof(t->rdata))
			return -1;
		memcpy(t->rdata + t->len, ldns_rdf_data(rd), l);
		t->len = (uint16_t)(t->len + l);
	}
	return 0;
}

/* An RFC 8482 answer to ANY: one synthesized HINFO "RFC8482". */
static bool
is_rfc8482(const ldns_rr *rr)
{
	const ldns_rdf *rd;

	if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_HINFO ||
	    ldns_rr_rd_count(rr) < 1)
		return false;
	rd = ldns_rr_rdf(rr, 0);
	return ldns_rdf_size(rd) == 8 &&
	    memcmp(ldns_rdf_data(rd) + 1, "RFC8482", 7) == 0;
}

/* Types that only accompany data (DNSSEC) say nothing about its owner. */
static bool
type_ignored(ldns_rr_type t)
{
	return t == LDNS_RR_TYPE_RRSIG || t == LDNS_RR_TYPE_NSEC ||
	    t == LDNS_RR_TYPE_NSEC3 || t == LDNS_RR_TYPE_CDS ||
	    t == LDNS_RR_TYPE_CDNSKEY;
}

static void
other_add(struct dnsup_found *f, ldns_rr_type t)
{
	char *name = ldns_rr_type2str(t), *p;
	size_t l = strlen(f->other), nl;

	if (name == NULL)
		return;
	nl = strlen(name);
	/* Once per type. */
	for (p = f->other; (p = strstr(p, name)) != NULL; p += nl)
		if ((p == f->other || p[-1] == ' ') &&
		    (p[nl] == ' ' || p[nl] == '\0')) {
			free(name);
			return;
		}
	if (l + nl + 2 < sizeof(f->other))
		snprintf(f->other + l, sizeof(f->other) - l, "%s%s",
		    l ? " " : "", name);
	free(name);
}

static void
collect(const ldns_pkt *p, const struct dnsup_msg *req, struct dnsup_found *f)
{
	ldns_rr_list *an = ldns_pkt_answer(p);
	size_t i, n = ldns_rr_list_rr_count(an);
	bool ttl_set = false;

	memset(f, 0, sizeof(*f));
	f->exists = ldns_pkt_get_rcode(p) != LDNS_RCODE_NXDOMAIN;
	if (req->qtype == LDNS_RR_TYPE_NS && n > 0)
		f->ns = calloc(n, sizeof(*f->ns));
	for (i = 0; i < n; i++) {
		ldns_rr *rr = ldns_rr_list_rr(an, i);
		ldns_rr_type t = ldns_rr_get_type(rr);
		char *s;

		if (ldns_dname_compare(ldns_rr_owner(rr), req->qname) != 0 ||
		    ldns_rr_rd_count(rr) < 1 || type_ignored(t))
			continue;
		if (t == LDNS_RR_TYPE_TXT && req->qtype == LDNS_RR_TYPE_TXT) {
			struct dnsup_txt txt;

			if (txt_from_rr(rr, &txt) == -1)
				f->txt.more = true;
			else
				dnsup_txtset_add(&f->txt, &txt);
			continue;
		}
		if (t == LDNS_RR_TYPE_NS && req->qtype == LDNS_RR_TYPE_NS) {
			if (f->ns != NULL &&
			    (s = ldns_rdf2str(ldns_rr_rdf(rr, 0))) != NULL) {
				snprintf(f->ns[f->nns++], DNSUP_NAME_MAX, "%s",
				    s);
				free(s);
			}
			continue;
		}
		if (t != LDNS_RR_TYPE_CNAME && t != LDNS_RR_TYPE_A &&
		    t != LDNS_RR_TYPE_AAAA) {
			if (req->qtype == LDNS_RR_TYPE_ANY && is_rfc8482(rr))
				f->any_minimal = true;
			else if (req->qtype == LDNS_RR_TYPE_ANY)
				other_add(f, t);
			continue;
		}
		if ((s = ldns_rdf2str(ldns_rr_rdf(rr, 0))) == NULL)
			continue;
		if (t == LDNS_RR_TYPE_CNAME) {
			f->rrset.kind = DNSUP_RRSET_CNAME;
			f->rrset.naddr = 0;
			f->rrset.more = false;
			snprintf(f->rrset.cname, sizeof(f->rrset.cname), "%s", s);
		} else if (f->rrset.kind != DNSUP_RRSET_CNAME &&
		    rrset_add_addr(&f->rrset, s, NULL, 0) == -1)
			f->rrset.more = true;
		free(s);
		if (!ttl_set || ldns_rr_ttl(rr) < f->rrset.ttl)
			f->rrset.ttl = ldns_rr_ttl(rr);
		ttl_set = true;
	}
}

void
dnsup_found_clear(struct dnsup_found *f)
{
	if (f == NULL)
		return;
	free(f->ns);
	f->ns = NULL;
	f->nns = 0;
}

/* "NXRRSET (rcode 8)", "rcode 12": a name and its number. */
static void
rcode_text(int rcode, char *buf, size_t len)
{
	enum dnsup_result r = dnsup_result_from_rcode(rcode);

	if (r == DNSUP_R_OTHER_RCODE)
		fmt(buf, len, "rcode %d", rcode);
	else
		fmt(buf, len, "%s (rcode %d)", dnsup_result_name(r), rcode);
}

static void
tsig_error_text(int err, char *buf, size_t len)
{
	enum dnsup_result r = dnsup_result_from_tsig_error(err);

	if (r == DNSUP_R_BADRESP)
		fmt(buf, len, "TSIG error %d", err);
	else
		fmt(buf, len, "TSIG error %s (%d)", dnsup_result_name(r), err);
}

void
dnsup_msg_check(const struct dnsup_msg *req, const struct cfg_tsig_key *key,
    const uint8_t *wire, size_t len, time_t now, struct dnsup_verdict *v,
    struct dnsup_found *found)
{
	ldns_pkt *p = NULL;
	ldns_rr *q, *tsig;
	ldns_rdf *kname = NULL, *alg = NULL;
	uint64_t t;
	uint16_t fudge, err;
	int64_t skew;
	char rc[48], te[48];

	memset(v, 0, sizeof(*v));
	v->kind = DNSUP_V_IGNORE;
	v->result = DNSUP_R_BADRESP;
	if (found != NULL)
		memset(found, 0, sizeof(*found));
	/* Cheap checks first: id, QR, opcode. */
	if (len < 12) {
		fmt(v->detail, sizeof(v->detail), "short message");
		return;
	}
	if (((uint16_t)wire[0] << 8 | wire[1]) != req->id) {
		fmt(v->detail, sizeof(v->detail), "id mismatch");
		return;
	}
	if ((wire[2] & 0x80) == 0 || ((wire[2] >> 3) & 0xf) != req->opcode) {
		fmt(v->detail, sizeof(v->detail), "not a response");
		return;
	}
	if (wire2pkt(&p, wire, len) != LDNS_STATUS_OK) {
		fmt(v->detail, sizeof(v->detail), "malformed message");
		return;
	}
	v->rcode = ldns_pkt_get_rcode(p);
	rcode_text(v->rcode, rc, sizeof(rc));
	if (ldns_rr_list_rr_count(ldns_pkt_question(p)) != 1 ||
	    (q = ldns_rr_list_rr(ldns_pkt_question(p), 0)) == NULL ||
	    ldns_dname_compare(ldns_rr_owner(q), req->qname) != 0 ||
	    (int)ldns_rr_get_type(q) != req->qtype ||
	    ldns_rr_get_class(q) != LDNS_RR_CLASS_IN) {
		fmt(v->detail, sizeof(v->detail), "question mismatch");
		goto done;
	}
	if (ldns_pkt_tc(p)) {
		v->kind = DNSUP_V_TRUNCATED;
		fmt(v->detail, sizeof(v->detail), "truncated");
		goto done;
	}
	v->result = dnsup_result_from_rcode(v->rcode);
	if (key == NULL) {
		v->kind = DNSUP_V_FINAL;
		goto final;
	}
	v->kind = DNSUP_V_REJECT;
	if ((tsig = ldns_pkt_tsig(p)) == NULL) {
		if (v->result == DNSUP_R_NOERROR)
			v->result = DNSUP_R_UNSIGNED;
		fmt(v->detail, sizeof(v->detail), "unsigned answer (%s)", rc);
		goto done;
	}
	if (ldns_rr_rd_count(tsig) < 7) {
		v->result = DNSUP_R_BADRESP;
		fmt(v->detail, sizeof(v->detail), "malformed TSIG record");
		goto done;
	}
	err = ldns_rdf2native_int16(ldns_rr_rdf(tsig, 5));
	v->tsig_error = err;
	tsig_error_text(err, te, sizeof(te));
	kname = ldns_dname_new_frm_str(key->name);
	alg = ldns_dname_new_frm_str(dnsup_tsig_alg_name(key->alg));
	if (kname == NULL || alg == NULL ||
	    ldns_dname_compare(ldns_rr_owner(tsig), kname) != 0 ||
	    ldns_dname_compare(ldns_rr_rdf(tsig, 0), alg) != 0) {
		v->result = DNSUP_R_BADRESP;
		fmt(v->detail, sizeof(v->detail), "answer signed with another "
		    "key or algorithm (%s%s%s)", rc, err ? ", " : "",
		    err ? te : "");
		goto done;
	}
	/* The MAC field is length-prefixed: 2 bytes means empty. */
	if (ldns_rdf_size(ldns_rr_rdf(tsig, 3)) <= 2) {
		/* named's answer to a bad MAC or unknown key: unsigned. */
		v->result = err ? dnsup_result_from_tsig_error(err) :
		    DNSUP_R_UNSIGNED;
		fmt(v->detail, sizeof(v->detail), "unsigned answer: %s, %s",
		    rc, err ? te : "no TSIG error");
		goto done;
	}
	if (!ldns_pkt_tsig_verify(p, wire, len, key->name, key->secret,
	    req->mac)) {
		v->result = DNSUP_R_BADRESP;
		fmt(v->detail, sizeof(v->detail), "answer MAC does not verify "
		    "(%s)", rc);
		goto done;
	}
	/* The MAC covers the request's MAC: this answer is genuine. */
	v->kind = DNSUP_V_FINAL;
	if (err != 0) {
		v->result = dnsup_result_from_tsig_error(err);
		fmt(v->detail, sizeof(v->detail), "%s, %s", rc, te);
		goto done;
	}
	t = tsig_time(ldns_rr_rdf(tsig, 1));
	fudge = ldns_rdf2native_int16(ldns_rr_rdf(tsig, 2));
	skew = (int64_t)t - (int64_t)now;
	if (skew > fudge || skew < -(int64_t)fudge) {
		v->result = DNSUP_R_BADTIME;
		fmt(v->detail, sizeof(v->detail), "answer signed %lld s from "
		    "the local clock (fudge %u s)", (long long)skew,
		    (unsigned)fudge);
		goto done;
	}
final:
	/* Only an authoritative answer says what the zone holds. */
	if (req->opcode == LDNS_PACKET_QUERY && !req->recursive &&
	    !ldns_pkt_aa(p) &&
	    (v->result == DNSUP_R_NOERROR || v->result == DNSUP_R_NXDOMAIN)) {
		v->result = DNSUP_R_NOTAA;
		fmt(v->detail, sizeof(v->detail), "%s without AA: the server "
		    "is not authoritative for %s", rc, req->qname_str);
		goto done;
	}
	if (v->result == DNSUP_R_NOERROR)
		fmt(v->detail, sizeof(v->detail), "NOERROR");
	else
		fmt(v->detail, sizeof(v->detail), "%s", rc);
	if (found != NULL)
		collect(p, req, found);
done:
	ldns_rdf_deep_free(kname);
	ldns_rdf_deep_free(alg);
	ldns_pkt_free(p);
}

uint8_t *
dnsup_msg_answer(const struct dnsup_msg *req, const struct cfg_tsig_key *key,
    int rcode, size_t *len)
{
	ldns_pkt *p = NULL;
	uint8_t *wire = NULL;
	ldns_rr *t;

	*len = 0;
	if (ldns_wire2pkt(&p, req->wire, req->len) != LDNS_STATUS_OK)
		return NULL;
	if ((t = ldns_pkt_tsig(p)) != NULL) {
		ldns_pkt_set_tsig(p, NULL);
		ldns_rr_free(t);
	}
	ldns_pkt_set_qr(p, true);
	ldns_pkt_set_rcode(p, (uint8_t)rcode);
	ldns_pkt_set_aa(p, req->opcode == LDNS_PACKET_QUERY);
	if (req->opcode == LDNS_PACKET_UPDATE) {
		ldns_rr_list_deep_free(ldns_pkt_answer(p));
		ldns_rr_list_deep_free(ldns_pkt_authority(p));
		ldns_pkt_set_answer(p, ldns_rr_list_new());
		ldns_pkt_set_authority(p, ldns_rr_list_new());
		ldns_pkt_set_ancount(p, 0);
		ldns_pkt_set_nscount(p, 0);
	}
	if (key != NULL && ldns_pkt_tsig_sign(p, key->name, key->secret,
	    TSIG_FUDGE, dnsup_tsig_alg_name(key->alg), req->mac) !=
	    LDNS_STATUS_OK)
		goto done;
	if (ldns_pkt2wire(&wire, p, len) != LDNS_STATUS_OK) {
		wire = NULL;
		*len = 0;
	}
done:
	ldns_pkt_free(p);
	return wire;
}

/* Appends to a fixed buffer, truncating; off never passes len - 1. */
struct sbuf {
	char	*b;
	size_t	 len, off;
};

static void	 sb_add(struct sbuf *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));

static void
sb_add(struct sbuf *sb, const char *f, ...)
{
	va_list ap;
	int n;

	if (sb->off + 1 >= sb->len)
		return;
	va_start(ap, f);
	n = vsnprintf(sb->b + sb->off, sb->len - sb->off, f, ap);
	va_end(ap);
	if (n < 0)
		return;
	sb->off += (size_t)n;
	if (sb->off > sb->len - 1)
		sb->off = sb->len - 1;
}

static void
render_rrset(struct sbuf *sb, const char *verb, const char *name,
    const struct dnsup_rrset *rs, bool with_ttl)
{
	char ttl[16] = "IN";
	size_t i;

	if (with_ttl)
		snprintf(ttl, sizeof(ttl), "%u", (unsigned)rs->ttl);
	if (rs->kind == DNSUP_RRSET_CNAME)
		sb_add(sb, "%s %s %s CNAME %s\n", verb, name, ttl, rs->cname);
	for (i = 0; rs->kind == DNSUP_RRSET_ADDRS && i < rs->naddr; i++) {
		uint8_t key[17];

		sb_add(sb, "%s %s %s %s %s\n", verb, name, ttl,
		    addr_key(rs->addrs[i], key) == 4 ? "A" : "AAAA",
		    rs->addrs[i]);
	}
}

/* A TXT record's strings in presentation form: "a b" "c\"d". */
static void
render_txt(struct sbuf *sb, const struct dnsup_txt *t)
{
	size_t i = 0;

	while (i < t->len) {
		size_t l = t->rdata[i++];

		sb_add(sb, "%s\"", i > 1 ? " " : "");
		for (; l > 0 && i < t->len; l--, i++) {
			uint8_t c = t->rdata[i];

			if (c == '"' || c == '\\')
				sb_add(sb, "\\%c", c);
			else if (c < 0x20 || c > 0x7e)
				sb_add(sb, "\\%03u", (unsigned)c);
			else
				sb_add(sb, "%c", c);
		}
		sb_add(sb, "\"");
	}
}

static void
render_txt_prereq(struct sbuf *sb, const struct dnsup_update *u)
{
	struct dnsup_txt t;
	size_t i;

	if (u->owner_txt == NULL || u->owner_prereq == DNSUP_TXT_UNCHECKED)
		return;
	if (u->owner_prereq == DNSUP_TXT_OURS &&
	    dnsup_txt_set(&t, u->owner_txt) == 0) {
		sb_add(sb, "prereq yxrrset _failoverd.%s IN TXT ", u->name);
		render_txt(sb, &t);
		sb_add(sb, "\n");
		return;
	}
	if (u->owner_prereq == DNSUP_TXT_WAS && u->owner_prev != NULL &&
	    u->owner_prev->n > 0) {
		for (i = 0; i < u->owner_prev->n; i++) {
			sb_add(sb, "prereq yxrrset _failoverd.%s IN TXT ",
			    u->name);
			render_txt(sb, &u->owner_prev->t[i]);
			sb_add(sb, "\n");
		}
		return;
	}
	sb_add(sb, "prereq nxrrset _failoverd.%s TXT\n", u->name);
}

size_t
dnsup_update_render(char *buf, size_t len, const char *server,
    const char *zone, const struct dnsup_update *ups, size_t n)
{
	struct sbuf sb = { buf, len, 0 };
	size_t i;

	if (len == 0)
		return 0;
	buf[0] = '\0';
	if (server != NULL)
		sb_add(&sb, "server %s\n", server);
	sb_add(&sb, "zone %s\n", zone);
	for (i = 0; i < n; i++) {
		const struct dnsup_update *u = &ups[i];
		const struct dnsup_rrset *p = &u->prev;

		if (u->prereq == DNSUP_PREREQ_EMPTY)
			sb_add(&sb, "prereq nxdomain %s\n", u->name);
		else if (u->prereq == DNSUP_PREREQ_IS) {
			if (p->kind == DNSUP_RRSET_NONE)
				sb_add(&sb, "prereq nxrrset %s CNAME\n",
				    u->name);
			if (p->kind != DNSUP_RRSET_CNAME &&
			    !rrset_has_family(p, 4))
				sb_add(&sb, "prereq nxrrset %s A\n", u->name);
			if (p->kind != DNSUP_RRSET_CNAME &&
			    !rrset_has_family(p, 6))
				sb_add(&sb, "prereq nxrrset %s AAAA\n",
				    u->name);
			render_rrset(&sb, "prereq yxrrset", u->name, p, false);
		}
		render_txt_prereq(&sb, u);
		{
			static const char *tn[] = { "CNAME", "A", "AAAA" };
			bool del[3];

			types_to_delete(u, del);
			for (size_t k = 0; k < 3; k++)
				if (del[k])
					sb_add(&sb, "update delete %s %s\n",
					    u->name, tn[k]);
		}
		render_rrset(&sb, "update add", u->name, &u->want, true);
		if (u->owner_delete || (u->owner_txt != NULL &&
		    u->owner_prereq != DNSUP_TXT_OURS &&
		    u->owner_prereq != DNSUP_TXT_ABSENT))
			sb_add(&sb, "update delete _failoverd.%s TXT\n",
			    u->name);
		if (u->owner_txt != NULL && !u->owner_delete &&
		    u->owner_prereq != DNSUP_TXT_OURS) {
			struct dnsup_txt t;

			if (dnsup_txt_set(&t, u->owner_txt) == 0) {
				sb_add(&sb, "update add _failoverd.%s %u TXT ",
				    u->name, (unsigned)(u->want.ttl ?
				    u->want.ttl : 60));
				render_txt(&sb, &t);
				sb_add(&sb, "\n");
			}
		}
	}
	sb_add(&sb, "send\n");
	return sb.off;
}
