/*
 * cfg_int.h - helpers shared by the files of config/ only; not part of the
 * module's interface (config.h is).
 *
 * Every checker takes the value alone and returns 0, or -1 with a short
 * reason in why ("expected ..."), which the loader prefixes with
 * "FILE:LINE: key: ".  None of them logs or keeps state.
 */
#ifndef FAILOVERD_CFG_INT_H
#define FAILOVERD_CFG_INT_H

#include <sys/stat.h>
#include <sys/types.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "config/config.h"

#define CFG_WHY	256	/* size of a reason buffer */

/* snprintf into why; never fails, truncates. */
void	 cfg_why(char *why, size_t len, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

/*
 * A DNS name (absolute with a trailing dot or not): labels of 1-63
 * letters, digits, '-' or '_', not starting or ending with '-', 253
 * characters at most.  "." alone is refused.
 */
int	 cfg_dname_check(const char *s, char *why, size_t len);
/* s lowercased with a trailing dot, malloc'd; NULL on out of memory. */
char	*cfg_dname_abs(const char *s);
/* true if the absolute names name and zone satisfy name == zone or name
   is below zone (case-insensitive). */
bool	 cfg_dname_in_zone(const char *name, const char *zone);

/* An http:// or https:// URL with a host and no blanks or controls. */
int	 cfg_url_check(const char *s, char *why, size_t len);
/* true if s holds a blank or control character. */
bool	 cfg_has_space(const char *s);
/* true if s is an IPv4 or IPv6 literal; the canonical form goes to out
   (at least 64 bytes) when out is not NULL. */
bool	 cfg_ip_literal(const char *s, int *family, char *out);

/*
 * Split a hook command on blanks into h (argv malloc'd, freed with
 * cfg_hook_clear) and check argv[0]: an absolute path to an existing
 * regular executable file that group and others cannot write.
 */
int	 cfg_hook_parse(const char *s, struct cfg_hook *h, char *why,
	    size_t len);
void	 cfg_hook_clear(struct cfg_hook *h);

/* The reason text for a secret file with mode m, shared with tsigkey.c. */
void	 cfg_secret_mode_why(const char *path, mode_t m, char *why,
	    size_t len);

/*
 * names.c.  cfg_names_put() adds key (borrowed: it must outlive the set)
 * with idx: 0, or 1 when the key is there already (its index to *old when
 * old is not NULL), or -1 when out of memory.  A set starts zeroed (set
 * nocase before the first put for a case-insensitive one).
 */
int	 cfg_names_put(struct cfg_names *, const char *key, size_t idx,
	    size_t *old);
bool	 cfg_names_get(const struct cfg_names *, const char *key, size_t *idx);
void	 cfg_names_clear(struct cfg_names *);

/*
 * trust.c.  Ours: owned by root or the effective user.  cfg_path_check():
 * every directory on the way to path (absolute, existing), as written and
 * as resolved, is ours and writable by no one else (or sticky, with the
 * entry under it ours).  cfg_dir_check(): a directory the daemon writes
 * (state_dir): ours, not writable by group or others, on a checked way;
 * or absent, in a parent that is ours and writable by no one else.  Each
 * returns 0, or -1 with the reason in why.
 */
bool	 cfg_owner_ok(uid_t uid);
void	 cfg_owner_why(const char *path, uid_t uid, char *why, size_t len);
int	 cfg_path_check(const char *path, char *why, size_t len);
int	 cfg_dir_check(const char *path, char *why, size_t len);

/* Standard base64 with '=' padding; the decoded length to *n. */
int	 cfg_base64_check(const char *s, size_t *n);

/* A size in bytes with an optional K, M, G, T suffix (powers of 1024,
   "KiB" and "KB" spellings accepted). */
int	 cfg_parse_size(const char *s, uint64_t *bytes);

/*
 * The loader: the state of one config_load().  config.c fills it in the
 * first pass (values alone); validate.c runs the second (defaults that
 * depend on other keys, then cross-key rules).
 */
enum cfg_sect_kind {
	CFG_S_CONTROLLER,
	CFG_S_DNS,
	CFG_S_CLUSTER,
	CFG_S_STACK,
	CFG_S_GROUP,
	CFG_S_NKIND
};

#define CFG_MAX_KEYS	32	/* keys per section, at most */

struct cfg_sect {
	enum cfg_sect_kind	 kind;
	int			 line;		/* of the header */
	size_t			 idx;		/* stacks[] or groups[] */
	int			 seen[CFG_MAX_KEYS]; /* line set; 0: unset */
};

struct cfg_err {
	int	 line;
	char	*msg;
};

/*
 * Bounds of what config_load() reads: a regular file of at most
 * CFG_FILE_MAX bytes, lines of at most CFG_LINE_MAX characters.
 */
#define CFG_FILE_MAX	((off_t)64 << 20)
#define CFG_LINE_MAX	65536

struct cfg_loader {
	const char		*path;
	unsigned		 flags;		/* CONFIG_* */
	struct config		*cfg;
	FILE			*fp;
	int			 lineno;
	char			*buf;		/* the line being read */
	size_t			 bufsz;
	off_t			 nread;		/* bytes read so far */
	bool			 eof;
	struct stat		 cfg_st;	/* of the file, once open */
	struct cfg_sect		*sects;
	size_t			 nsect, sectcap;
	size_t			 stackcap, groupcap, errcap;
	int			 cur;		/* index into sects, or: */
#define CFG_CUR_NONE	-1		/* before any section header */
#define CFG_CUR_IGNORE	-2		/* in a bad section: skip its keys */
	int			 ctl_sect;	/* index, -1: absent */
	int			 dns_sect;
	int			 cluster_sect;
	struct cfg_err		*errs;
	size_t			 nerr;
	bool			 oom;
	/* config_with_groups(): the run-time groups' text, read after the
	   file's; rt_line is the file's last line once it is being read. */
	FILE			*rt_fp;
	bool			 runtime;
	int			 rt_line;
};

/*
 * The grammar (keys.c).  A parser gets the section's struct as base and the
 * value, writes base + off, and returns 0, or -1 with the reason in why.
 */
struct cfg_keydef;
struct cfg_loader;
typedef int	(*cfg_parse_fn)(struct cfg_loader *, const struct cfg_keydef *,
		    void *base, const char *val, char *why, size_t len);

#define CFG_KF_REQ	0x1	/* required */
#define CFG_KF_REPEAT	0x2	/* may repeat: each line adds a value */

struct cfg_keydef {
	const char	*key;
	cfg_parse_fn	 fn;
	size_t		 off;
	unsigned	 flags;
	int64_t		 min, max;	/* bounds for numbers and durations */
};

struct cfg_sectdef {
	const char		*name;
	bool			 named;	/* [stack NAME] */
	const struct cfg_keydef	*keys;
	size_t			 nkeys;
};

const struct cfg_sectdef *cfg_sectdef(enum cfg_sect_kind);
/* The key's index in its section's table, -1 if unknown. */
int	 cfg_key_index(enum cfg_sect_kind, const char *key);
void	 cfg_webhead_clear(struct cfg_webhead *);

/* Record "PATH:LINE: key: what". */
void	 cfg_err_at(struct cfg_loader *, int line, const char *key,
	    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* The line where the section set key, 0 when it did not. */
int	 cfg_seen(const struct cfg_sect *, const char *key);
/* The section header as "[stack NAME]" in buf. */
const char *cfg_sect_label(const struct cfg_loader *,
	    const struct cfg_sect *, char *buf, size_t len);
/* A stack, group or controller name: 1-63 of [A-Za-z0-9._-], starting
   with a letter or digit. */
bool	 cfg_valid_ident(const char *s);
/* The second pass. */
void	 cfg_validate(struct cfg_loader *);

/* cluster.c: the parsers of [cluster] and source_address, and their rules
   between sections (called by cfg_validate). */
int	 cfg_p_etcd(struct cfg_loader *, const struct cfg_keydef *, void *,
	    const char *, char *, size_t);
int	 cfg_p_prefix(struct cfg_loader *, const struct cfg_keydef *, void *,
	    const char *, char *, size_t);
int	 cfg_p_lease_ttl(struct cfg_loader *, const struct cfg_keydef *,
	    void *, const char *, char *, size_t);
int	 cfg_p_quorum(struct cfg_loader *, const struct cfg_keydef *, void *,
	    const char *, char *, size_t);
int	 cfg_p_source(struct cfg_loader *, const struct cfg_keydef *, void *,
	    const char *, char *, size_t);
void	 cfg_check_cluster(struct cfg_loader *);

#endif
