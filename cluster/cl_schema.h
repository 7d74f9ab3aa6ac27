/*
 * cl_schema.h - what failoverd keeps in etcd: the keys under the cluster's
 * prefix and the values of those whose form cluster/ owns.  Pure: strings
 * and JSON (jansson) in and out, no I/O, no clock, no logging.
 *
 * Keys, under PREFIX ([cluster] prefix: starts and ends with '/'):
 *
 *   PREFIX leader                      the leader key (cl_election.h);
 *                                      value: the leader's member name
 *   PREFIX digest                      the leader's configuration digest
 *                                      (config_digest()), written by the
 *                                      leader; value: a digest record
 *   PREFIX members/MEMBER              one per live member, on its lease;
 *                                      value: a member record
 *   PREFIX verdicts/MEMBER/STACK       a member's view of a stack, on the
 *                                      member's lease (so it vanishes with
 *                                      the member); value: a verdict
 *   PREFIX groups/GROUP                a group's state, journal and
 *                                      override flags, written by the
 *                                      leader fenced on its epoch; the
 *                                      value is the controller's encoding
 *   PREFIX commands/MEMBER/ID          an operator command given on MEMBER,
 *                                      for the leader to apply; ID is
 *                                      unique on that member; the value is
 *                                      the controller's encoding
 *   PREFIX runtime                     the groups made at run time, written
 *                                      by the leader fenced on its epoch;
 *                                      the controller's encoding
 *
 * MEMBER, STACK, GROUP and ID are names as config_name_valid() says: 1-63
 * of [A-Za-z0-9._-] starting with a letter or digit, so never empty, "."
 * or "..", and never holding '/': a key splits one way only.  Every name
 * of a kind lists with one prefix range (cl_key_dir()); verdicts/MEMBER/
 * lists one member's.
 *
 * Values (JSON objects, compact, fields in this order; "v" is the
 * record's version: another version is refused, unknown fields are
 * ignored, so a later version may add fields without breaking this one):
 *
 *   member   {"v":1,"member":"ctl-a","digest":"<64 hex>",
 *             "advertise":"http://10.0.0.11:8053","version":"0.1.0",
 *             "started_ms":1767225600000}
 *            advertise is left out when not set; member must equal the
 *            key's MEMBER.  started_ms: the member's wall clock at start,
 *            for display only.
 *   verdict  {"v":1,"view":"down","since_ms":1767225600123,
 *             "reason":"timeout"}
 *            view is up, down or unknown; since_ms when the member came
 *            to see it so, on its wall clock (for display and the record:
 *            the quorum counts views, not times); reason the last failing
 *            probe's short name, left out when none.
 *   digest   {"v":1,"digest":"<64 hex>","member":"ctl-a",
 *             "since_ms":1767225600000}
 *            since_ms (optional, the writer's wall clock when it began
 *            to lead, for display only) is left out when 0.
 *
 * Parsers return 0, or CL_E_PROTOCOL with "FIELD: what is wrong" in
 * detail for a value that is not such a record (bad JSON, a missing or
 * mistyped field, a value out of its range) and CL_E_NOMEM; builders
 * return 0 with a string the caller frees, or CL_E_INVALID for a record
 * that breaks the same rules (nothing is written to etcd that this module
 * would not read back), or CL_E_NOMEM.
 */
#ifndef FAILOVERD_CL_SCHEMA_H
#define FAILOVERD_CL_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"

#define CL_NAME_MAX	64	/* a name and its NUL */
#define CL_KEY_MAX	(CFG_CLUSTER_PREFIX_MAX + 16 + 2 * CL_NAME_MAX)
#define CL_URL_MAX	256	/* advertise, with its NUL */
#define CL_VERSION_MAX	32	/* version, with its NUL */
#define CL_REASON_MAX	32	/* a verdict's reason, with its NUL */
#define CL_CHECK_MAX	17	/* a verdict's check digest, with its NUL */
#define CL_VALUE_MAX	4096	/* longest record parsed */
#define CL_RECORD_V	1	/* the records' version */

enum cl_key_kind {
	CL_KEY_LEADER = 1,
	CL_KEY_DIGEST,
	CL_KEY_MEMBER,		/* a = MEMBER */
	CL_KEY_VERDICT,		/* a = MEMBER, b = STACK */
	CL_KEY_GROUP,		/* a = GROUP */
	CL_KEY_COMMAND,		/* a = MEMBER, b = ID */
	CL_KEY_RUNTIME,		/* the groups made at run time */
};

/* A key taken apart. */
struct cl_key {
	enum cl_key_kind kind;
	char		 a[CL_NAME_MAX];	/* "" when the kind has none */
	char		 b[CL_NAME_MAX];
};

/* Whether prefix is a [cluster] prefix: '/' first and last, segments of
   [A-Za-z0-9._-], at most CFG_CLUSTER_PREFIX_MAX bytes. */
bool	 cl_prefix_valid(const char *prefix);

/*
 * The key of kind with its names (a, b; NULL where the kind has none)
 * into buf (len bytes; CL_KEY_MAX is always enough).  Returns its length,
 * or CL_E_INVALID (a bad prefix or name, a name given where the kind has
 * none, or too small a buf: then buf holds "").
 */
int	 cl_key_build(const char *prefix, enum cl_key_kind, const char *a,
	    const char *b, char *buf, size_t len);
/*
 * The prefix every key of kind starts with, for a range or a watch:
 * PREFIX members/, PREFIX verdicts/ (a NULL) or PREFIX verdicts/MEMBER/,
 * PREFIX groups/, PREFIX commands/ or PREFIX commands/MEMBER/.  For the
 * leader and digest keys: the key itself.  As cl_key_build() returns.
 */
int	 cl_key_dir(const char *prefix, enum cl_key_kind, const char *a,
	    char *buf, size_t len);
/*
 * Take key (len bytes, as etcd gives it) apart.  0 and *out; CL_E_INVALID
 * for a bad prefix; CL_E_PROTOCOL when the key is not under prefix or not
 * of a form above, with why in detail.
 */
int	 cl_key_parse(const char *prefix, const char *key, size_t len,
	    struct cl_key *out, char *detail, size_t dlen);

/* The leader key's value: a member name.  0 with the name in out, or
   CL_E_PROTOCOL. */
int	 cl_leader_parse(const char *value, size_t len, char out[CL_NAME_MAX],
	    char *detail, size_t dlen);

struct cl_member_rec {
	char		 member[CL_NAME_MAX];
	char		 digest[CFG_DIGEST_HEX];	/* 64 lowercase hex */
	char		 advertise[CL_URL_MAX];		/* "" none */
	char		 version[CL_VERSION_MAX];	/* failoverd's */
	int64_t		 started_ms;			/* >= 0 */
};

int	 cl_member_build(const struct cl_member_rec *, char **out)
	    __attribute__((warn_unused_result));
/* key_member: the MEMBER of the key it was read at, which the record
   must name (NULL: not checked). */
int	 cl_member_parse(const char *value, size_t len, const char *key_member,
	    struct cl_member_rec *out, char *detail, size_t dlen)
	    __attribute__((warn_unused_result));

enum cl_view {
	CL_VIEW_UNKNOWN = 0,
	CL_VIEW_UP,
	CL_VIEW_DOWN,
};
/* "unknown" "up" "down"; the view named s, or -1. */
const char *cl_view_name(enum cl_view);
int	 cl_view_parse(const char *s);

struct cl_verdict {
	enum cl_view	 view;
	int64_t		 since_ms;			/* >= 0 */
	char		 reason[CL_REASON_MAX];		/* "" or [a-z0-9_]+ */
	/* The digest of the check the verdict comes from (its member's
	 * [stack] probe settings, config_check_digest): 16 hex digits, or
	 * "" when not said (left out). */
	char		 check[CL_CHECK_MAX];
};

int	 cl_verdict_build(const struct cl_verdict *, char **out)
	    __attribute__((warn_unused_result));
int	 cl_verdict_parse(const char *value, size_t len, struct cl_verdict *out,
	    char *detail, size_t dlen) __attribute__((warn_unused_result));

struct cl_digest_rec {
	char		 digest[CFG_DIGEST_HEX];
	char		 member[CL_NAME_MAX];		/* who wrote it */
	int64_t		 since_ms;	/* when it began to lead, on its wall
					   clock, for display; 0: not said
					   (left out) */
};

int	 cl_digest_build(const struct cl_digest_rec *, char **out)
	    __attribute__((warn_unused_result));
int	 cl_digest_parse(const char *value, size_t len,
	    struct cl_digest_rec *out, char *detail, size_t dlen)
	    __attribute__((warn_unused_result));

#endif
