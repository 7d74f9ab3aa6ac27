/*
 * dnsup_msg.h - RFC 2136 UPDATE and query messages with TSIG: build, sign,
 * check answers; compare RRsets; name outcomes.  Pure: no I/O, no clock
 * (the caller passes "now"), no logging.
 *
 * ldns builds, signs, parses and verifies; nothing here sends.  A request is
 * a struct dnsup_msg: its wire form, its id, its question and (when signed)
 * its MAC, which is kept because the answer's MAC covers it.  An answer is
 * judged by dnsup_msg_check() against its request:
 *
 *	IGNORE     not an answer to this request (garbage, wrong id, not a
 *	           response, another question): drop it and keep waiting.
 *	TRUNCATED  TC is set: ask again over TCP.
 *	REJECT     an answer to this request that cannot be trusted (unsigned,
 *	           MAC does not verify); its result says what it claimed.  The
 *	           caller keeps waiting for a trustworthy answer and reports
 *	           the rejection only if none comes.
 *	FINAL      a verified answer: result is its rcode, or the TSIG error.
 *
 * ldns_pkt_tsig_verify() checks only the MAC, so the time signed (against
 * "now", within the answer's fudge) and the TSIG error field are checked
 * here.  named answers a wrong secret or unknown key with NOTAUTH and an
 * unsigned TSIG record carrying BADSIG or BADKEY: that is a REJECT whose
 * result is BADSIG/BADKEY, since anyone could have sent it.
 */
#ifndef FAILOVERD_DNSUP_MSG_H
#define FAILOVERD_DNSUP_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "config/config.h"

/* Every outcome of a DNS exchange, by name (dnsup_result_name). */
enum dnsup_result {
	DNSUP_R_NOERROR = 0,
	DNSUP_R_FORMERR,
	DNSUP_R_SERVFAIL,
	DNSUP_R_NXDOMAIN,
	DNSUP_R_NOTIMP,
	DNSUP_R_REFUSED,
	DNSUP_R_YXDOMAIN,
	DNSUP_R_YXRRSET,
	DNSUP_R_NXRRSET,
	DNSUP_R_NOTAUTH,
	DNSUP_R_NOTZONE,
	DNSUP_R_BADSIG,		/* TSIG errors (RFC 8945) */
	DNSUP_R_BADKEY,
	DNSUP_R_BADTIME,
	DNSUP_R_TIMEOUT,	/* no answer from any server */
	DNSUP_R_NETWORK,	/* socket error, e.g. connection refused */
	DNSUP_R_BADRESP,	/* answer rejected: bad MAC, malformed */
	DNSUP_R_UNSIGNED,	/* answer rejected: not signed */
	DNSUP_R_OTHER_RCODE,	/* an rcode without a name here (number in
				   the detail) */
	DNSUP_R_NOTOWNER,	/* name exists and is not ours (ownership) */
	DNSUP_R_INTERNAL,	/* could not build the message, no memory */
	DNSUP_R_CANCELLED,	/* engine freed before the answer */
	DNSUP_R_NOTAA,		/* a query answered without AA: the server
				   is not authoritative for the name */
	DNSUP_R_BADALG,		/* TSIG error 21 */
	DNSUP_R_BADTRUNC,	/* TSIG error 22 */
	DNSUP_R_CNAME_CONFLICT,	/* a CNAME cannot be published beside the
				   name's other records */
	DNSUP_R__MAX
};

/* "NOERROR", "BADSIG", "timeout", "network_error" ...; never NULL. */
const char	*dnsup_result_name(enum dnsup_result);
/* DNS rcode (0..23) to a result; unknown ones are DNSUP_R_OTHER_RCODE. */
enum dnsup_result dnsup_result_from_rcode(int rcode);
/*
 * TSIG error field (16 BADSIG, 17 BADKEY, 18 BADTIME, 21 BADALG, 22
 * BADTRUNC) to a result; others are DNSUP_R_BADRESP.
 */
enum dnsup_result dnsup_result_from_tsig_error(int err);
/* A failed prerequisite: YXDOMAIN, YXRRSET, NXDOMAIN, NXRRSET. */
bool		 dnsup_result_is_prereq(enum dnsup_result);
/* Worth trying again later (timeout, network, SERVFAIL ...). */
bool		 dnsup_result_is_transient(enum dnsup_result);
/*
 * An answer that says this server will not do it (REFUSED, NOTAUTH,
 * SERVFAIL, NOTIMP, or a query answered without AA): the next server may.
 */
bool		 dnsup_result_next_server(enum dnsup_result);
/*
 * An error that belongs to one update of a message carrying several (a
 * prerequisite, NOTZONE, FORMERR, REFUSED by a per-name update policy):
 * the message is split so that the others go through.  Any other error
 * (BADKEY, a timeout ...) would end every part the same way.
 */
bool		 dnsup_result_per_update(enum dnsup_result);

/* The contents of a name: nothing, a CNAME, or A/AAAA addresses. */
#define DNSUP_MAX_ADDRS	16
#define DNSUP_NAME_MAX	256

enum dnsup_rrkind {
	DNSUP_RRSET_NONE = 0,	/* no CNAME, A or AAAA at the name */
	DNSUP_RRSET_CNAME,
	DNSUP_RRSET_ADDRS,
};

struct dnsup_rrset {
	enum dnsup_rrkind	 kind;
	uint32_t		 ttl;
	char			 cname[DNSUP_NAME_MAX];	/* absolute, "x.net." */
	size_t			 naddr;
	char			 addrs[DNSUP_MAX_ADDRS][48]; /* v4/v6 literals */
	bool			 more;		/* read back: more addresses
						   than DNSUP_MAX_ADDRS */
};

/*
 * Fill an RRset from a configured web head.  Returns 0, or -1 when an
 * address does not parse or there are too many (detail in err).
 */
int	 dnsup_rrset_from_webhead(struct dnsup_rrset *, const struct cfg_webhead *,
	    uint32_t ttl, char *err, size_t errlen);
/* Parse "CNAME name", "A ADDR...", an address list "ADDR ADDR", or "none". */
int	 dnsup_rrset_parse(struct dnsup_rrset *, const char *s, uint32_t ttl,
	    char *err, size_t errlen);
/*
 * Compare what a name should hold with what was found: names without regard
 * to case or a final dot, addresses as sets in binary form, TTLs only when
 * check_ttl.  Returns 0 when equal, else 1 with the difference described in
 * diff ("want CNAME a.net. found A 192.0.2.1").
 */
int	 dnsup_rrset_compare(const struct dnsup_rrset *want,
	    const struct dnsup_rrset *found, bool check_ttl, char *diff,
	    size_t difflen);
/* "CNAME a.net.", "A 192.0.2.1 AAAA 2001:db8::1", "none". */
void	 dnsup_rrset_format(const struct dnsup_rrset *, char *buf, size_t len);

/*
 * TXT records as read back: each record's rdata as on the wire (its
 * character-strings, each with its length byte), so that a prerequisite
 * can state exactly what was found.  A set is sorted by rdata: the same
 * records compare equal whatever order the server answered them in.
 */
#define DNSUP_MAX_TXT		4
#define DNSUP_TXT_RDATA_MAX	1024

struct dnsup_txt {
	uint16_t		 len;
	uint8_t			 rdata[DNSUP_TXT_RDATA_MAX];
};

struct dnsup_txtset {
	size_t			 n;		/* records kept, sorted */
	bool			 more;		/* more than DNSUP_MAX_TXT, or
						   one longer than the rdata
						   buffer: not kept */
	struct dnsup_txt	 t[DNSUP_MAX_TXT];
};

/* The strings of a TXT record concatenated (cut to len - 1). */
void	 dnsup_txt_value(const struct dnsup_txt *, char *buf, size_t len);
/* A one-string TXT record holding value; -1 if longer than 255. */
int	 dnsup_txt_set(struct dnsup_txt *, const char *value);
/* Add to a set, keeping it sorted and without duplicates. */
void	 dnsup_txtset_add(struct dnsup_txtset *, const struct dnsup_txt *);
/* true when the set is exactly the one record holding value. */
bool	 dnsup_txtset_is(const struct dnsup_txtset *, const char *value);
/* "\"a\" \"b\"" for logs and renderings: each record's value, quoted. */
void	 dnsup_txtset_format(const struct dnsup_txtset *, char *buf,
	    size_t len);

/* Compare-and-swap, checked by the server before anything is changed. */
enum dnsup_prereq {
	DNSUP_PREREQ_NONE = 0,
	DNSUP_PREREQ_IS,	/* the name holds exactly "prev" (NXRRSET) */
	DNSUP_PREREQ_EMPTY,	/* the name does not exist (YXDOMAIN) */
};

/*
 * The prerequisite on the ownership TXT at _failoverd.<name>, when
 * owner_txt is set.  The default is the fence: the server applies the
 * UPDATE only while the TXT holds exactly this controller's value.
 */
enum dnsup_txt_prereq {
	DNSUP_TXT_OURS = 0,	/* exactly owner_txt (NXRRSET otherwise) */
	DNSUP_TXT_ABSENT,	/* no TXT there: a first publication
				   (YXRRSET otherwise) */
	DNSUP_TXT_WAS,		/* exactly owner_prev: an adoption, or a new
				   leader replacing a lower epoch */
	DNSUP_TXT_UNCHECKED,	/* none: tools and tests only */
};

/* One name's new contents; strings are borrowed for the call only. */
struct dnsup_update {
	const char		*name;		/* absolute, in the zone */
	struct dnsup_rrset	 want;		/* NONE: delete CNAME/A/AAAA */
	enum dnsup_prereq	 prereq;
	struct dnsup_rrset	 prev;		/* for DNSUP_PREREQ_IS */
	const char		*owner_txt;	/* this controller's ownership
						   value (dnsup_owner.h); the
						   TXT at _failoverd.<name> is
						   replaced with it */
	bool			 owner_delete;	/* delete that TXT instead */
	enum dnsup_txt_prereq	 owner_prereq;	/* with owner_txt */
	const struct dnsup_txtset *owner_prev;	/* for DNSUP_TXT_WAS */
	bool			 supersede;	/* dnsup_submit(): replaces what
						   is queued for the name, and
						   with DNSUP_PREREQ_IS does not
						   wait for one in flight */
};

/* A built request (opaque): wire form, id, question, MAC. */
struct dnsup_msg;

/*
 * Build one UPDATE for zone carrying n updates (one replaced RRset each, in
 * one atomic message), with id, signed with key (NULL: unsigned, for tests).
 * Returns 0 and *out (caller frees with dnsup_msg_free), or -1 with err.
 */
int	 dnsup_msg_update(const char *zone, const struct dnsup_update *ups,
	    size_t n, uint16_t id, const struct cfg_tsig_key *key,
	    struct dnsup_msg **out, char *err, size_t errlen);
/*
 * A query (no RD) for qname/qtype (1 A, 28 AAAA, 5 CNAME, 16 TXT, 2 NS,
 * 6 SOA, 255 ANY), signed with key (NULL: unsigned).
 */
int	 dnsup_msg_query(const char *qname, int qtype, uint16_t id,
	    const struct cfg_tsig_key *key, struct dnsup_msg **out, char *err,
	    size_t errlen);
/*
 * A query to a recursive resolver (RD set, unsigned); its answer needs no
 * AA.
 */
int	 dnsup_msg_query_recursive(const char *qname, int qtype, uint16_t id,
	    struct dnsup_msg **out, char *err, size_t errlen);
void	 dnsup_msg_free(struct dnsup_msg *);
/*
 * Sign m again (same id, the time signed now), so that a late try of a long
 * retry schedule is not outside the fudge.  The answer must then verify
 * against the new MAC.  Returns 0, or -1 with err (m unchanged).
 */
int	 dnsup_msg_resign(struct dnsup_msg *, const struct cfg_tsig_key *key,
	    char *err, size_t errlen);
/*
 * For test servers and the fuzzer: take a request from its wire form (id,
 * question, and the MAC when signed; the MAC is not verified).  Returns 0
 * and *out (caller frees), or -1 when it does not parse.
 */
int	 dnsup_msg_parse(const uint8_t *wire, size_t len,
	    struct dnsup_msg **out);
/* Borrowed, valid until dnsup_msg_free. */
const uint8_t	*dnsup_msg_wire(const struct dnsup_msg *, size_t *len);
uint16_t	 dnsup_msg_id(const struct dnsup_msg *);
const char	*dnsup_msg_qname(const struct dnsup_msg *);
int		 dnsup_msg_qtype(const struct dnsup_msg *);

/*
 * What a query's answer held at qname (a read-back merges several: the
 * records at the name, the TXT at _failoverd.<name>).
 */
struct dnsup_found {
	struct dnsup_rrset	 rrset;		/* CNAME or addresses at qname */
	bool			 exists;	/* the name exists (not
						   NXDOMAIN) */
	char			 other[96];	/* other types at the name
						   (an ANY query): "MX TXT" */
	bool			 any_minimal;	/* ANY answered with RFC 8482's
						   HINFO: ask A and AAAA */
	struct dnsup_txtset	 txt;		/* TXT records (a TXT query) */
	size_t			 nns;		/* NS records (an NS query) */
	char			(*ns)[DNSUP_NAME_MAX]; /* borrowed: valid in
						   the callback only */
};

enum dnsup_verdict_kind {
	DNSUP_V_IGNORE = 0,
	DNSUP_V_TRUNCATED,
	DNSUP_V_REJECT,
	DNSUP_V_FINAL,
};

struct dnsup_verdict {
	enum dnsup_verdict_kind	 kind;
	enum dnsup_result	 result;
	int			 rcode;		/* as received */
	int			 tsig_error;	/* as received, 0: none */
	char			 detail[200];	/* names with their numbers:
						   "NOTAUTH (rcode 9), TSIG
						   error BADKEY (17)" */
};

/*
 * Judge wire (an answer) against req, at time now (seconds since the epoch).
 * When found is non-NULL and the verdict is FINAL, the answer's records for
 * the question are stored there; free them with dnsup_found_clear().  key
 * must be the request's key (NULL when the request was not signed: then an
 * answer needs no TSIG).  An answer to a query (NOERROR or NXDOMAIN) must
 * have AA set: every server asked is authoritative for the zone, and an
 * answer without AA says nothing about it (DNSUP_R_NOTAA).
 */
void	 dnsup_msg_check(const struct dnsup_msg *req,
	    const struct cfg_tsig_key *key, const uint8_t *wire, size_t len,
	    time_t now, struct dnsup_verdict *v, struct dnsup_found *found);
/* Free what dnsup_msg_check() allocated in found (the NS names). */
void	 dnsup_found_clear(struct dnsup_found *);

/*
 * For tests and tools: sign a response.  Parses the request, makes it an
 * answer with rcode (AA set for a query, as an authoritative server does),
 * signs it with key (NULL: unsigned) against the request's MAC, and returns
 * its wire form (caller frees) or NULL.
 */
uint8_t	*dnsup_msg_answer(const struct dnsup_msg *req,
	    const struct cfg_tsig_key *key, int rcode, size_t *len);

/*
 * Render updates in nsupdate(1) syntax (for --dry-run): "server", "zone",
 * "prereq ...", "update delete ...", "update add ...", "send".  server may be
 * NULL.  Returns the length written (truncated to len - 1 at most).
 */
size_t	 dnsup_update_render(char *buf, size_t len, const char *server,
	    const char *zone, const struct dnsup_update *ups, size_t n);

/* The ldns name of an algorithm, "hmac-sha256." */
const char *dnsup_tsig_alg_name(enum cfg_tsig_alg);

#endif
