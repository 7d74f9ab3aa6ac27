/*
 * config.h - failoverd's configuration: parsed with inih, validated whole,
 * then immutable.
 *
 * config_load() reads an INI file (the format of DESIGN.md and
 * failoverd.conf(5)) into a struct config that the rest of the program reads
 * directly.  Every error is collected, not just the first, each as one line
 * "FILE:LINE: key: what is wrong"; a configuration with any error is never
 * returned.  The parser has no side effects beyond reading the file and the
 * TSIG key file and looking at the files it names (hooks, token, CA file):
 * it opens no socket, touches no state and writes no log.  The rules and
 * defaults are in failoverd.conf(5) (docs/failoverd.conf.5).
 *
 * Units: every duration is held in milliseconds (*_ms); DNS TTLs in seconds.
 * Ownership: everything hangs off the struct config and is freed by
 * config_free(); runtime objects borrow from it and must not outlive it.
 */
#ifndef FAILOVERD_CONFIG_H
#define FAILOVERD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CFG_MAX_RANGES	16

/* Where every command looks without -c (or $FAILOVERD_CONFIG). */
#define CFG_DEFAULT_PATH	"/etc/failoverd/failoverd.conf"

/* An inclusive range of HTTP statuses, "200-399" or "503". */
struct cfg_range {
	int	lo, hi;
};

struct cfg_status_set {
	size_t			n;
	struct cfg_range	r[CFG_MAX_RANGES];
};

/* A numeric address and port (DNS servers, listen address). */
struct cfg_hostport {
	char		 host[64];	/* IPv4 or IPv6 literal, no brackets */
	uint16_t	 port;
	int		 family;	/* AF_INET or AF_INET6 */
};

/* A hook command: argv split on blanks (no shell). argc == 0: not set. */
struct cfg_hook {
	int	  argc;
	char	**argv;			/* NULL-terminated */
	int	  line;			/* where it was configured */
};

/* What the address should point at: one host name (CNAME) or addresses. */
struct cfg_webhead {
	bool	  is_name;
	char	 *name;			/* absolute, with trailing dot; is_name */
	size_t	  naddr;
	char	**addrs;		/* IPv4/IPv6 literals; !is_name */
};

enum cfg_tsig_alg {
	CFG_TSIG_HMAC_SHA256 = 0,	/* default */
	CFG_TSIG_HMAC_SHA1,
	CFG_TSIG_HMAC_SHA512,
};

struct cfg_tsig_key {
	char			name[256];	/* key name, as in the key file */
	enum cfg_tsig_alg	alg;
	char			secret[512];	/* base64, as in the key file */
};

struct cfg_controller {
	char		 *state_dir;		/* default /var/lib/failoverd */
	bool		  listen_enabled;	/* "off" disables */
	struct cfg_hostport listen;		/* default 127.0.0.1:8053 */
	char		 *api_token_file;	/* optional; POSTs refused without */
	size_t		  nwitness;
	char		**witness;		/* http(s) URLs */
	bool		  isolation_check;	/* default yes */
	char		 *name;			/* controller id in ownership TXT;
						   default: host name */
	size_t		  nhost;
	char		**api_host;		/* Host names the API answers to,
						   besides the listen address */
	int		  api_max_connections;	/* default 64 */
	size_t		  map_size;		/* LMDB map size, bytes; default 64 MiB */
	int		  log_level;		/* enum log_level (0 error .. 3
						   debug); default 2, info */
	int64_t		  request_ttl_ms;	/* a switch or rearm request not
						   taken by then expires; 5m */
	char		 *source_address;	/* probes are sent from it
						   (canonical numeric literal,
						   an address of this host);
						   NULL: the kernel chooses */
	int		  source_family;	/* AF_INET or AF_INET6; 0 */
};

enum cfg_dns_transport {
	CFG_DNS_TRANSPORT_UDP = 0,	/* UDP, TCP after a timeout or TC */
	CFG_DNS_TRANSPORT_TCP,		/* always TCP */
};

struct cfg_dns {
	size_t			 nserver;
	struct cfg_hostport	*server;	/* at least one; tried in order */
	char			*zone;		/* absolute, trailing dot */
	char			*key_file;	/* the key file's path, or
						   "inline"; the key is in key */
	struct cfg_tsig_key	 key;
	int64_t			 timeout_ms;	/* default 2s */
	int			 retries;	/* per server; default 2 */
	int64_t			 verify_interval_ms; /* default 60s */
	size_t			 nconfirm;
	struct cfg_hostport	*confirm;	/* empty: the zone's NS set */
	bool			 prereq;	/* compare-and-swap; default yes */
	enum cfg_dns_transport	 transport;	/* default udp */
};

/*
 * [cluster]: several failoverd members on etcd, one leader (DESIGN.md
 * "Cluster").  enabled is false without the section, and then nothing
 * else here is set.  quorum counts *live* members (those whose member
 * lease etcd holds): controller/core/quorum.h says why.
 */
#define CFG_CLUSTER_MAX_ETCD	16	/* = CL_MAX_ENDPOINTS (cluster/cl.h) */
#define CFG_CLUSTER_MAX_QUORUM	64	/* quorum = N: 1 .. this */
#define CFG_CLUSTER_PREFIX_MAX	128	/* bytes of prefix, with its '/' */

enum cfg_quorum_kind {
	CFG_QUORUM_MAJORITY = 0,	/* default: more than half */
	CFG_QUORUM_ALL,			/* every live member */
	CFG_QUORUM_COUNT,		/* n members, however many live */
};

struct cfg_quorum {
	enum cfg_quorum_kind	 kind;
	int			 n;		/* CFG_QUORUM_COUNT: 1 .. 64 */
};

struct cfg_cluster {
	bool		  enabled;	/* a [cluster] section is present */
	int		  line;		/* of its header */
	size_t		  netcd;
	char		**etcd;		/* client URLs, without a trailing
					   '/', in file order; at least one */
	char		 *member;	/* this member's name (required) */
	char		 *prefix;	/* starts and ends with '/';
					   default /failoverd/ */
	int64_t		  lease_ttl_ms;	/* whole seconds, 2s .. 5m; 10s */
	struct cfg_quorum quorum;	/* default majority */
	char		 *advertise;	/* http(s) URL of this member's API,
					   or NULL */
};

struct cfg_stack {
	char			*name;
	int			 line;		/* of the [stack NAME] header */
	struct cfg_webhead	 web_head;
	char			*health_url;	/* http:// or https:// */
	char			*health_host;	/* optional Host header */
	struct cfg_status_set	 expect_status;		/* default 200-399 */
	struct cfg_status_set	 standby_expect_status;	/* default expect_status */
	char			*expect_body;	/* optional substring */
	int64_t			 interval_ms;	/* default 1s */
	int64_t			 fastinter_ms;	/* default min(interval, 200ms) */
	int64_t			 downinter_ms;	/* default max(5s, interval) */
	int64_t			 timeout_ms;	/* default min(2s, interval / 2) */
	int			 rise;		/* default 3 */
	int			 fall;		/* default 3 */
	bool			 tls_verify;	/* default yes */
	char			*ca_file;	/* optional */
	struct cfg_hook		 maintenance_on;
	struct cfg_hook		 maintenance_off;
	struct cfg_hook		 replication_off;
	struct cfg_hook		 promote;
	struct cfg_hook		 precheck;
	int64_t			 hook_timeout_ms; /* default 60s */
};

struct cfg_group {
	char		*name;
	int		 line;
	char		*address;	/* absolute FQDN with trailing dot; NULL
					   when address_auto */
	bool		 address_auto;
	int		 primary;	/* index into config.stacks, -1: none */
	int		 backup;	/* index, -1: none */
	char		*primary_name;	/* as configured; NULL: none */
	char		*backup_name;	/* as configured; NULL: none */
	uint32_t	 ttl;		/* seconds; default 60 */
	uint32_t	 suspect_ttl;	/* seconds; default 5 */
	bool		 auto_failover;	/* default yes */
	int64_t		 hold_down_ms;	/* default 10m */
	bool		 adopt;		/* default no */
	struct cfg_hook	 on_status_change;
	bool		 restore_on_abort; /* maintenance_off on the old stack
					   after an aborted sequence; yes */
	bool		 runtime;	/* made at run time, kept in the state
					   (config_with_groups); not in the
					   file */
};

/*
 * A set of names, each with an index (names.c): config_load() keeps its
 * work linear with them, and the lookups below are constant in time.  The
 * fields are config/'s own.
 */
struct cfg_names_slot;
struct cfg_names {
	size_t			 cap, n;
	bool			 nocase;
	struct cfg_names_slot	*slot;
};

struct config {
	char			*path;		/* the file read */
	struct cfg_controller	 controller;
	struct cfg_dns		 dns;
	struct cfg_cluster	 cluster;
	size_t			 nstack;
	struct cfg_stack	*stacks;	/* in file order */
	size_t			 ngroup;
	struct cfg_group	*groups;	/* in file order */
	struct cfg_names	 stack_names;	/* name -> index in stacks */
	struct cfg_names	 group_names;	/* name -> index in groups */
	/* The file's bytes as read, for config_with_groups(): a group made
	   at run time never makes the daemon read the file again. */
	char			*text;
	size_t			 textlen;
	unsigned		 file_mode;	/* of the file, as read */
};

/* The errors of one load, each a full "FILE:LINE: key: what" line. */
struct config_errors {
	size_t	  n;
	char	**msg;
};

/*
 * Read and validate PATH.  Returns 0 and sets *out (caller frees with
 * config_free), or -1 with every problem appended to errs (caller frees
 * with config_errors_free) and *out left NULL.
 */
int	 config_load(const char *path, struct config **out,
	    struct config_errors *errs) __attribute__((warn_unused_result));
/*
 * The same with flags.  CONFIG_SIMULATION: the configuration only drives
 * the simulator (simulate, replay), which sends nothing: an inline TSIG
 * key in a file others may read is not refused.
 */
#define CONFIG_SIMULATION	0x1
/*
 * CONFIG_NO_SECRETS: the caller only reads the state (failoverctl
 * failover-status, which an unprivileged user may run): the key file and
 * the token file are not read, their paths are kept, and dns.key stays
 * empty.  Never for a process that sends an UPDATE or checks a token.
 */
#define CONFIG_NO_SECRETS	0x2
int	 config_load_flags(const char *path, unsigned flags,
	    struct config **out, struct config_errors *errs)
	    __attribute__((warn_unused_result));
void	 config_free(struct config *);
void	 config_errors_free(struct config_errors *);

/*
 * Groups made at run time (DESIGN.md "Dashboard and groups at run time")
 * are kept in the state as the text of [group NAME] sections, and read
 * with this parser and its rules, so that a group made over the API is
 * judged exactly as one in the file.  config_with_groups() parses base's
 * file text again (base->text: no file is opened; hook files and the key
 * file are looked at again) followed by groups, and validates the whole.
 * In groups only [group NAME] sections may appear, with only the keys
 * address, primary, backup and ttl: stacks, and so every hook command,
 * come only from the file.  Those groups are marked runtime.  An error in
 * groups reads "run-time group NAME: key: what".  Returns 0 and *out
 * (config_free), or -1 with errs (config_errors_free).  base may itself
 * be the result of an earlier call: only its file part is read.
 */
int	 config_with_groups(const struct config *base, const char *groups,
	    struct config **out, struct config_errors *errs)
	    __attribute__((warn_unused_result));
/* Whether key may be set in a group made at run time. */
bool	 config_runtime_key(const char *key);

/* Lookups by name; NULL / -1 when absent. */
const struct cfg_stack	*config_stack_find(const struct config *, const char *);
int			 config_stack_index(const struct config *, const char *);
const struct cfg_group	*config_group_find(const struct config *, const char *);

/* true if status is in the set. */
bool	 cfg_status_match(const struct cfg_status_set *, int status);

/* "hmac-sha256" etc. */
const char *cfg_tsig_alg_name(enum cfg_tsig_alg);

/*
 * Parse helpers, exposed for the scenario parser and the tests.  Each
 * returns 0 or -1 (value left unchanged) and never allocates.
 */
int	 cfg_parse_duration(const char *s, int64_t *ms);	/* "250ms" "2s" "10m" "1h" */
int	 cfg_parse_bool(const char *s, bool *b);		/* yes/no true/false on/off 1/0 */
int	 cfg_parse_status_set(const char *s, struct cfg_status_set *);
int	 cfg_parse_hostport(const char *s, uint16_t defport, struct cfg_hostport *);

/*
 * TSIG keys.  cfg_tsig_key_read() reads a BIND key file as tsig-keygen
 * writes it (one key statement; #, // and C comments allowed) and refuses a
 * file that group or others may read or write.  cfg_tsig_key_parse_inline()
 * takes "[ALG:]NAME:BASE64" (ALG defaults to hmac-sha256).  Both return 0,
 * or -1 with a one-line reason (no file name or line prefix of the
 * configuration; a key file's own line is named) in why.  The secret is
 * never copied into why.
 */
int	 cfg_tsig_key_read(const char *path, struct cfg_tsig_key *,
	    char *why, size_t whylen);
int	 cfg_tsig_key_parse_inline(const char *s, struct cfg_tsig_key *,
	    char *why, size_t whylen);
/*
 * The API token: the first line of the token file, without the blanks
 * around it, into tok (toklen bytes, NUL-terminated; caller wipes it).
 * The file must be a regular file that group and others cannot access,
 * not a symbolic link (opened with O_NOFOLLOW), and the token at least
 * CFG_TOKEN_MIN bytes without control characters.  Returns 0 with the
 * length in *len, or -1 with a one-line reason (never the token) in why.
 * The one reader of the file: `failoverd -t` and the daemon agree.
 */
#define CFG_TOKEN_MIN	16
int	 cfg_token_read(const char *path, char *tok, size_t toklen,
	    size_t *len, char *why, size_t whylen);

/* "hmac-sha256", "hmac-sha1", "hmac-sha512" (any case); -1 otherwise. */
int	 cfg_tsig_alg_parse(const char *s, enum cfg_tsig_alg *);

/*
 * Whether s is a valid name of a stack, group, controller or cluster
 * member: 1-63 of [A-Za-z0-9._-], starting with a letter or digit (so
 * never "." or "..", and never holding '/').  Inline, so that cluster/,
 * linked after config/, may use it without a link-order dependency.
 */
static inline bool
config_name_valid(const char *s)
{
	size_t n = 0;

	if (s == NULL || !((s[0] >= 'a' && s[0] <= 'z') ||
	    (s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= '0' && s[0] <= '9')))
		return false;
	for (; s[n] != '\0'; n++)
		if (!((s[n] >= 'a' && s[n] <= 'z') ||
		    (s[n] >= 'A' && s[n] <= 'Z') ||
		    (s[n] >= '0' && s[n] <= '9') || s[n] == '-' ||
		    s[n] == '_' || s[n] == '.'))
			return false;
	return n <= 63;
}

/* "majority", "all" or the number (into buf, at least 12 bytes). */
const char *cfg_quorum_name(const struct cfg_quorum *, char *buf, size_t len);

/*
 * The configuration digest of a cluster member (digest.c): SHA-256 of a
 * canonical form of the [dns], [stack] and [group] sections as parsed, so
 * that two members agree exactly when those sections mean the same.  The
 * order of keys and of sections, comments, blanks and the spelling of a
 * value (1s or 1000ms, an address list in any order) do not count;
 * [controller] and [cluster], which differ between members, are left out,
 * and so is the TSIG secret itself (the digest is published in etcd: it
 * must not let a reader test guesses of the secret) and the key file's
 * path; the key's name and algorithm count.  hex gets 64 lowercase hex
 * digits and a NUL.  Returns 0, or -1 when libcrypto fails.
 */
#define CFG_DIGEST_HEX	65
int	 config_digest(const struct config *, char hex[CFG_DIGEST_HEX])
	    __attribute__((warn_unused_result));

/* The digest of one stack's check (web head, health request, expected
 * answer, timings, TLS): what a member's verdict of it depends on, so
 * that verdicts of different checks are not counted together (16 hex
 * digits, the first 64 bits of a SHA-256).  0, or -1. */
#define CFG_CHECK_HEX	17
int	 config_check_digest(const struct cfg_stack *, char hex[CFG_CHECK_HEX])
	    __attribute__((warn_unused_result));

/*
 * The grammar, for documentation checks: the i-th key as its section
 * ("controller", "dns", "cluster", "stack" or "group") and name.  Returns false when
 * i is past the last key.
 */
bool	 config_key_at(size_t i, const char **section, const char **key);

#endif
