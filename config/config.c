/*
 * config.c - load failoverd's configuration: the inih reader and handler,
 * the grammar tables, the error list, and the struct's lifetime.
 *
 * The grammar is one table per section of {key, parser, field, flags}: a
 * new key is a new row (and a line in failoverd.conf(5), which a test
 * checks through config_key_at()).  Sections are [controller], [dns],
 * [stack NAME] and [group NAME].
 *
 * Lines are counted in our reader, not by inih: the installed inih is built
 * with INI_HANDLER_LINENO 0, and its handler is called right after the
 * reader returned the line, so the reader's count is the handler's line.
 * The reader also does what inih cannot tell us:
 *   - it reads section headers itself (inih calls the handler only for
 *     key = value lines), so that a section's line is known, an empty
 *     section still exists, and a bad header is reported once;
 *   - it checks each line's syntax with inih's own rules and hands a bad
 *     line to inih as an empty one, so that every syntax error is reported
 *     (inih's return value names only the first);
 *   - it strips leading blanks, which turns off inih's multi-line values
 *     (an indented line would silently continue the previous key);
 *   - it refuses lines longer than inih's buffer, which inih would
 *     otherwise cut into several lines.
 *
 * The first pass parses each value alone into the struct; cfg_validate()
 * (validate.c) then applies defaults that depend on other keys and checks
 * the rules between keys and sections.  All errors are kept with their line
 * and printed sorted by line.
 */
#include "config/config.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <unistd.h>

#include <ini.h>

#include "config/cfg_int.h"

struct keydef;
typedef int	(*parse_fn)(struct cfg_loader *, const struct keydef *,
		    void *base, const char *val, char *why, size_t len);

#define KF_REQ		0x1	/* required */
#define KF_REPEAT	0x2	/* may repeat: each line adds a value */

struct keydef {
	const char	*key;
	parse_fn	 fn;
	size_t		 off;
	unsigned	 flags;
	int64_t		 min, max;	/* bounds for numbers and durations */
};

struct sectdef {
	const char		*name;
	bool			 named;	/* [stack NAME] */
	const struct keydef	*keys;
	size_t			 nkeys;
};

static int	 p_path(struct cfg_loader *, const struct keydef *, void *,
		    const char *, char *, size_t);
static int	 p_listen(struct cfg_loader *, const struct keydef *, void *,
		    const char *, char *, size_t);
static int	 p_secret_file(struct cfg_loader *, const struct keydef *,
		    void *, const char *, char *, size_t);
static int	 p_witness(struct cfg_loader *, const struct keydef *, void *,
		    const char *, char *, size_t);
static int	 p_bool(struct cfg_loader *, const struct keydef *, void *,
		    const char *, char *, size_t);
static int	 p_ident(struct cfg_loader *, const struct keydef *, void *,
		    const char *, char *, size_t);
static int	 p_size(struct cfg_loader *, const struct keydef *, void *,
		    const char *, char *, size_t);
static int	 p_loglevel(struct cfg_loader *, const struct keydef *, void *,
		    const char *, char *, size_t);
static int	 p_server(struct cfg_loader *, const struct keydef *, void *,
		    const char *, char *, size_t);
static int	 p_confirm(struct cfg_loader *, const struct keydef *, void *,
		    const char *, char *, size_t);
static int	 p_zone(struct cfg_loader *, const struct keydef *, void *,
		    const char *, char *, size_t);
static int	 p_keyfile(struct cfg_loader *, const struct keydef *, void *,
		    const char *, char *, size_t);
static int	 p_duration(struct cfg_loader *, const struct keydef *, void *,
		    const char *, char *, size_t);
static int	 p_int(struct cfg_loader *, const struct keydef *, void *,
		    const char *, char *, size_t);
static int	 p_webhead(struct cfg_loader *, const struct keydef *, void *,
		    const char *, char *, size_t);
static int	 p_url(struct cfg_loader *, const struct keydef *, void *,
		    const char *, char *, size_t);
static int	 p_text(struct cfg_loader *, const struct keydef *, void *,
		    const char *, char *, size_t);
static int	 p_word(struct cfg_loader *, const struct keydef *, void *,
		    const char *, char *, size_t);
static int	 p_status(struct cfg_loader *, const struct keydef *, void *,
		    const char *, char *, size_t);
static int	 p_file(struct cfg_loader *, const struct keydef *, void *,
		    const char *, char *, size_t);
static int	 p_hook(struct cfg_loader *, const struct keydef *, void *,
		    const char *, char *, size_t);
static int	 p_address(struct cfg_loader *, const struct keydef *, void *,
		    const char *, char *, size_t);
static int	 p_ttl(struct cfg_loader *, const struct keydef *, void *,
		    const char *, char *, size_t);

#define MS(x)	((int64_t)(x))
#define SEC(x)	((int64_t)(x) * 1000)
#define DAY	(SEC(86400))

#define C(f)	offsetof(struct cfg_controller, f)
static const struct keydef ctl_keys[] = {
	{ "state_dir",		p_path,		C(state_dir),	0, 0, 0 },
	{ "listen",		p_listen,	C(listen),	0, 0, 0 },
	{ "api_token_file",	p_secret_file,	C(api_token_file), 0, 0, 0 },
	{ "witness",		p_witness,	C(witness),	KF_REPEAT, 0, 0 },
	{ "isolation_check",	p_bool,		C(isolation_check), 0, 0, 0 },
	{ "name",		p_ident,	C(name),	0, 0, 0 },
	{ "map_size",		p_size,		C(map_size),	0, 1 << 20,
	    (int64_t)1 << 40 },
	{ "log_level",		p_loglevel,	C(log_level),	0, 0, 0 },
};
#undef C

#define D(f)	offsetof(struct cfg_dns, f)
static const struct keydef dns_keys[] = {
	{ "server",		p_server,	D(server),	KF_REQ | KF_REPEAT,
	    0, 0 },
	{ "zone",		p_zone,		D(zone),	KF_REQ, 0, 0 },
	{ "key_file",		p_keyfile,	D(key_file),	KF_REQ, 0, 0 },
	{ "timeout",		p_duration,	D(timeout_ms),	0, MS(10),
	    SEC(60) },
	{ "retries",		p_int,		D(retries),	0, 0, 10 },
	{ "verify_interval",	p_duration,	D(verify_interval_ms), 0,
	    SEC(1), DAY },
	{ "confirm",		p_confirm,	D(confirm),	KF_REPEAT, 0, 0 },
	{ "prereq",		p_bool,		D(prereq),	0, 0, 0 },
};
#undef D

#define S(f)	offsetof(struct cfg_stack, f)
static const struct keydef stack_keys[] = {
	{ "web_head",		p_webhead,	S(web_head),	KF_REQ, 0, 0 },
	{ "health_url",		p_url,		S(health_url),	KF_REQ, 0, 0 },
	{ "health_host",	p_word,		S(health_host),	0, 0, 0 },
	{ "expect_status",	p_status,	S(expect_status), 0, 0, 0 },
	{ "standby_expect_status", p_status,	S(standby_expect_status), 0,
	    0, 0 },
	{ "expect_body",	p_text,		S(expect_body),	0, 0, 0 },
	{ "interval",		p_duration,	S(interval_ms),	0, MS(10),
	    DAY },
	{ "fastinter",		p_duration,	S(fastinter_ms), 0, MS(10),
	    DAY },
	{ "downinter",		p_duration,	S(downinter_ms), 0, MS(10),
	    DAY },
	{ "timeout",		p_duration,	S(timeout_ms),	0, MS(1),
	    DAY },
	{ "rise",		p_int,		S(rise),	0, 1, 1000 },
	{ "fall",		p_int,		S(fall),	0, 1, 1000 },
	{ "tls_verify",		p_bool,		S(tls_verify),	0, 0, 0 },
	{ "ca_file",		p_file,		S(ca_file),	0, 0, 0 },
	{ "maintenance_on",	p_hook,		S(maintenance_on), 0, 0, 0 },
	{ "maintenance_off",	p_hook,		S(maintenance_off), 0, 0, 0 },
	{ "replication_off",	p_hook,		S(replication_off), 0, 0, 0 },
	{ "promote",		p_hook,		S(promote),	0, 0, 0 },
	{ "precheck",		p_hook,		S(precheck),	0, 0, 0 },
	{ "hook_timeout",	p_duration,	S(hook_timeout_ms), 0, MS(100),
	    DAY },
};
#undef S

#define G(f)	offsetof(struct cfg_group, f)
static const struct keydef group_keys[] = {
	{ "address",		p_address,	G(address),	KF_REQ, 0, 0 },
	{ "primary",		p_ident,	G(primary_name), 0, 0, 0 },
	{ "backup",		p_ident,	G(backup_name),	0, 0, 0 },
	{ "ttl",		p_ttl,		G(ttl),		0, 1, 2147483647 },
	{ "suspect_ttl",	p_ttl,		G(suspect_ttl),	0, 1,
	    2147483647 },
	{ "auto_failover",	p_bool,		G(auto_failover), 0, 0, 0 },
	{ "hold_down",		p_duration,	G(hold_down_ms), 0, 0, DAY * 30 },
	{ "adopt",		p_bool,		G(adopt),	0, 0, 0 },
	{ "on_status_change",	p_hook,		G(on_status_change), 0, 0, 0 },
};
#undef G

#define NKEYS(t)	(sizeof(t) / sizeof((t)[0]))

static const struct sectdef sectdefs[] = {
	[CFG_S_CONTROLLER] = { "controller", false, ctl_keys, NKEYS(ctl_keys) },
	[CFG_S_DNS] = { "dns", false, dns_keys, NKEYS(dns_keys) },
	[CFG_S_STACK] = { "stack", true, stack_keys, NKEYS(stack_keys) },
	[CFG_S_GROUP] = { "group", true, group_keys, NKEYS(group_keys) },
};

_Static_assert(NKEYS(ctl_keys) <= CFG_MAX_KEYS, "too many keys");
_Static_assert(NKEYS(dns_keys) <= CFG_MAX_KEYS, "too many keys");
_Static_assert(NKEYS(stack_keys) <= CFG_MAX_KEYS, "too many keys");
_Static_assert(NKEYS(group_keys) <= CFG_MAX_KEYS, "too many keys");

/* Errors. */

void
cfg_err_at(struct cfg_loader *ld, int line, const char *key,
    const char *fmt, ...)
{
	struct cfg_err *e;
	char what[1024];
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	/* Line 0: about the whole file (it cannot be opened, a section is
	   missing). */
	if ((line > 0 ? asprintf(&msg, "%s:%d: %s: %s", ld->path, line, key,
	    what) : asprintf(&msg, "%s: %s: %s", ld->path, key, what)) == -1) {
		ld->oom = true;
		return;
	}
	e = reallocarray(ld->errs, ld->nerr + 1, sizeof(*e));
	if (e == NULL) {
		free(msg);
		ld->oom = true;
		return;
	}
	ld->errs = e;
	e[ld->nerr].line = line;
	e[ld->nerr].msg = msg;
	ld->nerr++;
}

/* Keys and sections. */

static int
key_index(enum cfg_sect_kind kind, const char *key)
{
	const struct sectdef *sd = &sectdefs[kind];

	for (size_t i = 0; i < sd->nkeys; i++)
		if (strcmp(sd->keys[i].key, key) == 0)
			return (int)i;
	return -1;
}

int
cfg_seen(const struct cfg_sect *s, const char *key)
{
	int i = key_index(s->kind, key);

	return i < 0 ? 0 : s->seen[i];
}

bool
config_key_at(size_t i, const char **section, const char **key)
{
	for (size_t k = 0; k < NKEYS(sectdefs); k++) {
		if (i < sectdefs[k].nkeys) {
			*section = sectdefs[k].name;
			*key = sectdefs[k].keys[i].key;
			return true;
		}
		i -= sectdefs[k].nkeys;
	}
	return false;
}

const char *
cfg_sect_label(const struct cfg_loader *ld, const struct cfg_sect *s,
    char *buf, size_t len)
{
	const char *name = NULL;

	if (s->kind == CFG_S_STACK)
		name = ld->cfg->stacks[s->idx].name;
	else if (s->kind == CFG_S_GROUP)
		name = ld->cfg->groups[s->idx].name;
	if (name != NULL)
		snprintf(buf, len, "[%s %s]", sectdefs[s->kind].name, name);
	else
		snprintf(buf, len, "[%s]", sectdefs[s->kind].name);
	return buf;
}

/* Edit distance, for "did you mean"; short strings only. */
static size_t
distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), row[64], prev, tmp;

	if (la >= 64 || lb >= 64)
		return 64;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		prev = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t best = prev + (a[i - 1] != b[j - 1]);

			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			tmp = row[j];
			row[j] = best;
			prev = tmp;
		}
	}
	return row[lb];
}

static void
unknown_key(struct cfg_loader *ld, enum cfg_sect_kind kind, const char *key)
{
	const struct sectdef *sd = &sectdefs[kind];
	const char *best = NULL;
	size_t bestd = 3;

	for (size_t i = 0; i < sd->nkeys; i++) {
		size_t d = distance(key, sd->keys[i].key);

		if (d < bestd) {
			bestd = d;
			best = sd->keys[i].key;
		}
	}
	if (best == NULL) {
		char where[128] = "";
		size_t n = 0;

		for (size_t k = 0; k < NKEYS(sectdefs); k++) {
			if (k == kind ||
			    key_index((enum cfg_sect_kind)k, key) < 0)
				continue;
			n += (size_t)snprintf(where + n, sizeof(where) - n,
			    "%s[%s%s]", n ? " or " : "", sectdefs[k].name,
			    sectdefs[k].named ? " NAME" : "");
		}
		if (n > 0) {
			cfg_err_at(ld, ld->lineno, key, "unknown key in [%s%s]; "
			    "it belongs in %s", sd->name,
			    sd->named ? " NAME" : "", where);
			return;
		}
	}
	if (best != NULL)
		cfg_err_at(ld, ld->lineno, key, "unknown key in [%s%s] "
		    "(did you mean %s?)", sd->name, sd->named ? " NAME" : "",
		    best);
	else
		cfg_err_at(ld, ld->lineno, key, "unknown key in [%s%s]",
		    sd->name, sd->named ? " NAME" : "");
}

bool
cfg_valid_ident(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 63 || !isalnum((unsigned char)s[0]))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '-' &&
		    s[i] != '_' && s[i] != '.')
			return false;
	return true;
}

static void
defaults_controller(struct cfg_controller *c, bool *oom)
{
	c->state_dir = strdup("/var/lib/failoverd");
	if (c->state_dir == NULL)
		*oom = true;
	c->listen_enabled = true;
	cfg_parse_hostport("127.0.0.1:8053", 8053, &c->listen);
	c->isolation_check = true;
	c->map_size = (size_t)64 << 20;
	c->log_level = 2;
}

static void
defaults_dns(struct cfg_dns *d)
{
	d->timeout_ms = SEC(2);
	d->retries = 2;
	d->verify_interval_ms = SEC(60);
	d->prereq = true;
}

/* Defaults that depend on other keys are set by cfg_validate(). */
static void
defaults_stack(struct cfg_stack *s)
{
	cfg_parse_status_set("200-399", &s->expect_status);
	s->interval_ms = SEC(1);
	s->rise = 3;
	s->fall = 3;
	s->tls_verify = true;
	s->hook_timeout_ms = SEC(60);
}

static void
defaults_group(struct cfg_group *g)
{
	g->primary = -1;
	g->backup = -1;
	g->ttl = 60;
	g->suspect_ttl = 5;
	g->auto_failover = true;
	g->hold_down_ms = SEC(600);
}

static struct cfg_sect *
sect_add(struct cfg_loader *ld, enum cfg_sect_kind kind, size_t idx)
{
	struct cfg_sect *s;

	s = reallocarray(ld->sects, ld->nsect + 1, sizeof(*s));
	if (s == NULL) {
		ld->oom = true;
		return NULL;
	}
	ld->sects = s;
	s = &ld->sects[ld->nsect];
	memset(s, 0, sizeof(*s));
	s->kind = kind;
	s->line = ld->lineno;
	s->idx = idx;
	ld->cur = (int)ld->nsect++;
	return s;
}

/* A [stack NAME] or [group NAME] header. */
static void
named_begin(struct cfg_loader *ld, enum cfg_sect_kind kind, const char *name)
{
	struct config *cfg = ld->cfg;
	const char *what = sectdefs[kind].name;

	if (*name == '\0') {
		cfg_err_at(ld, ld->lineno, what[0] == 's' ? "[stack]" :
		    "[group]", "missing name: expected [%s NAME]", what);
		return;
	}
	if (!cfg_valid_ident(name)) {
		cfg_err_at(ld, ld->lineno, what[0] == 's' ? "[stack]" :
		    "[group]", "'%s' is not a valid name (1-63 letters, digits, "
		    "'-', '_' or '.', starting with a letter or digit)", name);
		return;
	}
	for (size_t i = 0; i < ld->nsect; i++) {
		const struct cfg_sect *o = &ld->sects[i];
		const char *oname;

		if (o->kind != kind)
			continue;
		oname = kind == CFG_S_STACK ? cfg->stacks[o->idx].name :
		    cfg->groups[o->idx].name;
		if (oname != NULL && strcmp(oname, name) == 0) {
			char key[128];

			snprintf(key, sizeof(key), "[%s %s]", what, name);
			cfg_err_at(ld, ld->lineno, key, "duplicate %s (first "
			    "defined at line %d)", what, o->line);
			return;
		}
	}
	if (kind == CFG_S_STACK) {
		struct cfg_stack *v, *s;

		v = reallocarray(cfg->stacks, cfg->nstack + 1, sizeof(*v));
		if (v == NULL) {
			ld->oom = true;
			return;
		}
		cfg->stacks = v;
		s = &v[cfg->nstack];
		memset(s, 0, sizeof(*s));
		defaults_stack(s);
		s->line = ld->lineno;
		if ((s->name = strdup(name)) == NULL) {
			ld->oom = true;
			return;
		}
		cfg->nstack++;
		sect_add(ld, kind, cfg->nstack - 1);
	} else {
		struct cfg_group *v, *g;

		v = reallocarray(cfg->groups, cfg->ngroup + 1, sizeof(*v));
		if (v == NULL) {
			ld->oom = true;
			return;
		}
		cfg->groups = v;
		g = &v[cfg->ngroup];
		memset(g, 0, sizeof(*g));
		defaults_group(g);
		g->line = ld->lineno;
		if ((g->name = strdup(name)) == NULL) {
			ld->oom = true;
			return;
		}
		cfg->ngroup++;
		sect_add(ld, kind, cfg->ngroup - 1);
	}
}

/* The text between '[' and ']', trimmed. */
static void
section_begin(struct cfg_loader *ld, char *inner)
{
	char *kind = inner, *name, *end;
	char label[160];

	ld->cur = CFG_CUR_IGNORE;
	name = kind + strcspn(kind, " \t");
	if (*name != '\0') {
		*name++ = '\0';
		name += strspn(name, " \t");
	}
	end = name + strlen(name);
	while (end > name && (end[-1] == ' ' || end[-1] == '\t'))
		*--end = '\0';
	snprintf(label, sizeof(label), "[%.60s%s%.60s]", kind,
	    *name ? " " : "", name);
	if (strcmp(kind, "controller") == 0 || strcmp(kind, "dns") == 0) {
		enum cfg_sect_kind k = kind[0] == 'c' ? CFG_S_CONTROLLER :
		    CFG_S_DNS;
		int *slot = k == CFG_S_CONTROLLER ? &ld->ctl_sect :
		    &ld->dns_sect;

		if (*name != '\0') {
			cfg_err_at(ld, ld->lineno, label, "[%s] takes no name",
			    kind);
			return;
		}
		if (*slot >= 0) {
			cfg_err_at(ld, ld->lineno, label, "duplicate section "
			    "(first at line %d)", ld->sects[*slot].line);
			return;
		}
		if (sect_add(ld, k, 0) != NULL)
			*slot = ld->cur;
	} else if (strcmp(kind, "stack") == 0)
		named_begin(ld, CFG_S_STACK, name);
	else if (strcmp(kind, "group") == 0)
		named_begin(ld, CFG_S_GROUP, name);
	else
		cfg_err_at(ld, ld->lineno, label, "unknown section (expected "
		    "[controller], [dns], [stack NAME] or [group NAME])");
}

/*
 * inih's rules, applied to a line with leading blanks removed: a comment
 * starts with ';' or '#'; an inline comment is ';' after a blank.  Returns
 * true when the line is a section header, a key = value pair, a comment
 * or empty; otherwise records the error.
 */
static bool
line_check(struct cfg_loader *ld, char *line)
{
	char *p, word[48], inner[160];
	size_t n;

	if (*line == '\0' || *line == ';' || *line == '#')
		return true;
	if (*line == '[') {
		char *close = NULL;

		/* Until a good header, keys belong to no section. */
		ld->cur = CFG_CUR_IGNORE;
		/* The first ']' before an inline comment closes it. */
		for (p = line + 1; *p != '\0'; p++) {
			if (*p == ']') {
				close = p;
				break;
			}
			if (*p == ';' && isspace((unsigned char)p[-1]))
				break;
		}
		if (close == NULL) {
			n = strcspn(line, ";");
			while (n > 0 && isspace((unsigned char)line[n - 1]))
				n--;
			snprintf(word, sizeof(word), "%.*s", (int)n, line);
			cfg_err_at(ld, ld->lineno, word, "section header "
			    "without ']'");
			return false;
		}
		p = close + 1;
		p += strspn(p, " \t");
		if (*p != '\0' && *p != ';' && *p != '#') {
			snprintf(word, sizeof(word), "%.*s",
			    (int)(close - line + 1), line);
			cfg_err_at(ld, ld->lineno, word, "text after the section "
			    "header (a comment starts with ';' or '#')");
			return false;
		}
		n = (size_t)(close - line - 1);
		if (n >= sizeof(inner)) {
			cfg_err_at(ld, ld->lineno, "[", "section header is too "
			    "long");
			return false;
		}
		memcpy(inner, line + 1, n);
		inner[n] = '\0';
		section_begin(ld, inner + strspn(inner, " \t"));
		return true;
	}
	for (p = line; *p != '\0'; p++) {
		if ((*p == '=' || *p == ':') && p == line) {
			cfg_err_at(ld, ld->lineno, "line", "syntax error: no key "
			    "before '%c'", *p);
			return false;
		}
		if (*p == '=' || *p == ':')
			return true;
		if (*p == ';' && p > line && isspace((unsigned char)p[-1]))
			break;
	}
	n = strcspn(line, " \t;");
	snprintf(word, sizeof(word), "%.*s", (int)(n > 40 ? 40 : n), line);
	cfg_err_at(ld, ld->lineno, word, "syntax error: expected "
	    "'key = value', '[section]' or a comment");
	return false;
}

/* The ini_reader: one line per call, counted; see the top of the file. */
static char *
read_line_cb(char *str, int num, void *arg)
{
	struct cfg_loader *ld = arg;
	ssize_t n;
	char *line;

	errno = 0;
	n = getline(&ld->buf, &ld->bufsz, ld->fp);
	if (n < 0) {
		if (errno != 0 && ferror(ld->fp))
			cfg_err_at(ld, ld->lineno + 1, "read", "%s",
			    strerror(errno));
		return NULL;
	}
	ld->lineno++;
	line = ld->buf;
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	if (strlen(line) != (size_t)n) {
		cfg_err_at(ld, ld->lineno, "line", "holds a NUL byte");
		goto blank;
	}
	if (ld->lineno == 1 && strncmp(line, "\xef\xbb\xbf", 3) == 0)
		line += 3;
	line += strspn(line, " \t\f\v");
	if (strlen(line) + 3 > (size_t)num) {
		cfg_err_at(ld, ld->lineno, "line", "longer than %d characters",
		    num - 3);
		goto blank;
	}
	if (!line_check(ld, line))
		goto blank;
	snprintf(str, (size_t)num, "%s\n", line);
	return str;
blank:
	snprintf(str, (size_t)num, "\n");
	return str;
}

/* The ini_handler: one key = value line. */
static int
handler_cb(void *arg, const char *section, const char *key, const char *val)
{
	struct cfg_loader *ld = arg;
	const struct keydef *kd;
	struct cfg_sect *s;
	char why[CFG_WHY];
	void *base;
	int ki;

	(void)section;	/* the reader knows the section better */
	if (ld->cur == CFG_CUR_IGNORE)
		return 1;
	if (ld->cur == CFG_CUR_NONE) {
		cfg_err_at(ld, ld->lineno, key, "key outside of any section "
		    "(expected [controller], [dns], [stack NAME] or "
		    "[group NAME] first)");
		return 1;
	}
	s = &ld->sects[ld->cur];
	if ((ki = key_index(s->kind, key)) < 0) {
		unknown_key(ld, s->kind, key);
		return 1;
	}
	kd = &sectdefs[s->kind].keys[ki];
	if (s->seen[ki] != 0 && !(kd->flags & KF_REPEAT)) {
		cfg_err_at(ld, ld->lineno, key, "duplicate key (first set at "
		    "line %d)", s->seen[ki]);
		return 1;
	}
	s->seen[ki] = ld->lineno;
	if (*val == '\0') {
		cfg_err_at(ld, ld->lineno, key, "empty value (remove the line "
		    "to use the default)");
		return 1;
	}
	switch (s->kind) {
	case CFG_S_CONTROLLER:
		base = &ld->cfg->controller;
		break;
	case CFG_S_DNS:
		base = &ld->cfg->dns;
		break;
	case CFG_S_STACK:
		base = &ld->cfg->stacks[s->idx];
		break;
	default:
		base = &ld->cfg->groups[s->idx];
		break;
	}
	why[0] = '\0';
	if (kd->fn(ld, kd, base, val, why, sizeof(why)) == -1)
		cfg_err_at(ld, ld->lineno, key, "%s", why);
	return 1;
}

/* Value parsers: field is base + off. */

#define FIELD(type)	((type)(void *)((char *)base + kd->off))

static int
set_string(struct cfg_loader *ld, char **dst, const char *val)
{
	char *s = strdup(val);

	if (s == NULL) {
		ld->oom = true;
		return 0;
	}
	free(*dst);
	*dst = s;
	return 0;
}

static int
p_path(struct cfg_loader *ld, const struct keydef *kd, void *base,
    const char *val, char *why, size_t len)
{
	if (val[0] != '/') {
		cfg_why(why, len, "'%s' is not an absolute path", val);
		return -1;
	}
	if (cfg_has_space(val)) {
		cfg_why(why, len, "path holds a blank or control character");
		return -1;
	}
	return set_string(ld, FIELD(char **), val);
}

static int
p_listen(struct cfg_loader *ld, const struct keydef *kd, void *base,
    const char *val, char *why, size_t len)
{
	struct cfg_controller *c = base;

	if (strcasecmp(val, "off") == 0) {
		c->listen_enabled = false;
		return 0;
	}
	if (cfg_parse_hostport(val, 8053, &c->listen) == -1) {
		cfg_why(why, len, "'%s': expected ADDRESS[:PORT] with a numeric "
		    "IPv4 or [IPv6] address, or off", val);
		return -1;
	}
	c->listen_enabled = true;
	return 0;
}

static int
p_secret_file(struct cfg_loader *ld, const struct keydef *kd, void *base,
    const char *val, char *why, size_t len)
{
	struct stat st;

	if (cfg_secret_file_check(val, why, len) == -1)
		return -1;
	if (stat(val, &st) == 0 && st.st_size == 0) {
		cfg_why(why, len, "%s is empty", val);
		return -1;
	}
	return set_string(ld, FIELD(char **), val);
}

static int
p_witness(struct cfg_loader *ld, const struct keydef *kd, void *base,
    const char *val, char *why, size_t len)
{
	struct cfg_controller *c = base;
	char **v, *s;

	if (cfg_url_check(val, why, len) == -1)
		return -1;
	if ((v = reallocarray(c->witness, c->nwitness + 2, sizeof(*v))) == NULL
	    || (c->witness = v, (s = strdup(val)) == NULL)) {
		ld->oom = true;
		return 0;
	}
	v[c->nwitness++] = s;
	v[c->nwitness] = NULL;
	return 0;
}

static int
p_bool(struct cfg_loader *ld, const struct keydef *kd, void *base,
    const char *val, char *why, size_t len)
{
	if (cfg_parse_bool(val, FIELD(bool *)) == -1) {
		cfg_why(why, len, "'%s': expected yes or no", val);
		return -1;
	}
	return 0;
}

static int
p_ident(struct cfg_loader *ld, const struct keydef *kd, void *base,
    const char *val, char *why, size_t len)
{
	if (!cfg_valid_ident(val)) {
		cfg_why(why, len, "'%s' is not a valid name (1-63 letters, "
		    "digits, '-', '_' or '.', starting with a letter or digit)",
		    val);
		return -1;
	}
	return set_string(ld, FIELD(char **), val);
}

static int
p_size(struct cfg_loader *ld, const struct keydef *kd, void *base,
    const char *val, char *why, size_t len)
{
	uint64_t n;

	if (cfg_parse_size(val, &n) == -1) {
		cfg_why(why, len, "'%s': expected a size such as 64M or 1G",
		    val);
		return -1;
	}
	if (n < (uint64_t)kd->min || n > (uint64_t)kd->max) {
		cfg_why(why, len, "%s is out of range (1M to 1T)", val);
		return -1;
	}
	*FIELD(size_t *) = (size_t)n;
	return 0;
}

static int
p_loglevel(struct cfg_loader *ld, const struct keydef *kd, void *base,
    const char *val, char *why, size_t len)
{
	static const char *const names[] = { "error", "warn", "info", "debug" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcasecmp(val, names[i]) == 0) {
			*FIELD(int *) = (int)i;
			return 0;
		}
	}
	cfg_why(why, len, "'%s': expected error, warn, info or debug", val);
	return -1;
}

static int
hostport_add(struct cfg_loader *ld, struct cfg_hostport **arr, size_t *n,
    const char *val, char *why, size_t len)
{
	struct cfg_hostport hp, *v;

	if (cfg_parse_hostport(val, 53, &hp) == -1 || hp.port == 0) {
		cfg_why(why, len, "'%s': expected ADDRESS[:PORT] with a numeric "
		    "IPv4 or [IPv6] address (port 53 by default)", val);
		return -1;
	}
	for (size_t i = 0; i < *n; i++) {
		if (strcmp((*arr)[i].host, hp.host) == 0 &&
		    (*arr)[i].port == hp.port) {
			cfg_why(why, len, "%s is listed twice", val);
			return -1;
		}
	}
	if ((v = reallocarray(*arr, *n + 1, sizeof(*v))) == NULL) {
		ld->oom = true;
		return 0;
	}
	*arr = v;
	v[(*n)++] = hp;
	return 0;
}

static int
p_server(struct cfg_loader *ld, const struct keydef *kd, void *base,
    const char *val, char *why, size_t len)
{
	struct cfg_dns *d = base;

	return hostport_add(ld, &d->server, &d->nserver, val, why, len);
}

static int
p_confirm(struct cfg_loader *ld, const struct keydef *kd, void *base,
    const char *val, char *why, size_t len)
{
	struct cfg_dns *d = base;

	return hostport_add(ld, &d->confirm, &d->nconfirm, val, why, len);
}

static int
p_zone(struct cfg_loader *ld, const struct keydef *kd, void *base,
    const char *val, char *why, size_t len)
{
	char **dst = FIELD(char **), *z;

	if (cfg_dname_check(val, why, len) == -1)
		return -1;
	if ((z = cfg_dname_abs(val)) == NULL) {
		ld->oom = true;
		return 0;
	}
	free(*dst);
	*dst = z;
	return 0;
}

static int
p_keyfile(struct cfg_loader *ld, const struct keydef *kd, void *base,
    const char *val, char *why, size_t len)
{
	struct cfg_dns *d = base;
	int rc;

	if (val[0] == '/')
		rc = cfg_tsig_key_read(val, &d->key, why, len);
	else if (strchr(val, ':') != NULL)
		rc = cfg_tsig_key_parse_inline(val, &d->key, why, len);
	else {
		cfg_why(why, len, "'%s': expected an absolute path to a key "
		    "file or an inline key ALGORITHM:NAME:BASE64", val);
		return -1;
	}
	if (rc == -1)
		return -1;
	/* Keep the path, but not an inline secret. */
	return set_string(ld, &d->key_file, val[0] == '/' ? val : "inline");
}

static void
fmt_ms(int64_t ms, char *buf, size_t len)
{
	if (ms % 3600000 == 0 && ms > 0)
		snprintf(buf, len, "%lldh", (long long)(ms / 3600000));
	else if (ms % 60000 == 0 && ms > 0)
		snprintf(buf, len, "%lldm", (long long)(ms / 60000));
	else if (ms % 1000 == 0)
		snprintf(buf, len, "%llds", (long long)(ms / 1000));
	else
		snprintf(buf, len, "%lldms", (long long)ms);
}

static int
p_duration(struct cfg_loader *ld, const struct keydef *kd, void *base,
    const char *val, char *why, size_t len)
{
	char lo[32], hi[32];
	int64_t ms;

	if (cfg_parse_duration(val, &ms) == -1) {
		cfg_why(why, len, "'%s' is not a duration: expected a whole "
		    "number with a unit ms, s, m or h (e.g. 250ms, 2s, 1m30s)",
		    val);
		return -1;
	}
	if (ms < kd->min || ms > kd->max) {
		fmt_ms(kd->min, lo, sizeof(lo));
		fmt_ms(kd->max, hi, sizeof(hi));
		cfg_why(why, len, "%s is out of range (%s to %s)", val, lo, hi);
		return -1;
	}
	*FIELD(int64_t *) = ms;
	return 0;
}

static int
p_int(struct cfg_loader *ld, const struct keydef *kd, void *base,
    const char *val, char *why, size_t len)
{
	char *end;
	long long n;

	errno = 0;
	n = strtoll(val, &end, 10);
	if (!isdigit((unsigned char)val[0]) || *end != '\0' || errno != 0) {
		cfg_why(why, len, "'%s': expected a whole number from %lld to "
		    "%lld", val, (long long)kd->min, (long long)kd->max);
		return -1;
	}
	if (n < kd->min || n > kd->max) {
		cfg_why(why, len, "%s is out of range (%lld to %lld)", val,
		    (long long)kd->min, (long long)kd->max);
		return -1;
	}
	*FIELD(int *) = (int)n;
	return 0;
}

static void
webhead_clear(struct cfg_webhead *w)
{
	free(w->name);
	for (size_t i = 0; i < w->naddr; i++)
		free(w->addrs[i]);
	free(w->addrs);
	memset(w, 0, sizeof(*w));
}

static int
p_webhead(struct cfg_loader *ld, const struct keydef *kd, void *base,
    const char *val, char *why, size_t len)
{
	struct cfg_webhead *w = FIELD(struct cfg_webhead *), nw = { 0 };
	const char *p = val;
	char tok[256], canon[64];
	size_t ntok = 0;

	for (const char *q = val; *q != '\0';) {
		q += strspn(q, " \t,");
		if (*q == '\0')
			break;
		ntok++;
		q += strcspn(q, " \t,");
	}
	if (ntok == 1 && !cfg_ip_literal(val, NULL, NULL)) {
		if (cfg_dname_check(val, why, len) == -1)
			return -1;
		if (strchr(val, '.') == NULL || strcmp(strchr(val, '.'), ".")
		    == 0) {
			cfg_why(why, len, "'%s' is not a fully qualified host "
			    "name", val);
			return -1;
		}
		nw.is_name = true;
		if ((nw.name = cfg_dname_abs(val)) == NULL) {
			ld->oom = true;
			return 0;
		}
		webhead_clear(w);
		*w = nw;
		return 0;
	}
	while (*p != '\0') {
		size_t n;
		char **v;

		p += strspn(p, " \t,");
		if (*p == '\0')
			break;
		n = strcspn(p, " \t,");
		snprintf(tok, sizeof(tok), "%.*s", (int)(n < 200 ? n : 200), p);
		p += n;
		if (!cfg_ip_literal(tok, NULL, canon)) {
			cfg_why(why, len, "'%s' is not an IPv4 or IPv6 address "
			    "(give one host name, or a list of addresses)",
			    tok);
			webhead_clear(&nw);
			return -1;
		}
		for (size_t i = 0; i < nw.naddr; i++) {
			if (strcmp(nw.addrs[i], canon) == 0) {
				cfg_why(why, len, "%s is listed twice", tok);
				webhead_clear(&nw);
				return -1;
			}
		}
		v = reallocarray(nw.addrs, nw.naddr + 2, sizeof(*v));
		if (v == NULL || (nw.addrs = v,
		    (v[nw.naddr] = strdup(canon)) == NULL)) {
			ld->oom = true;
			webhead_clear(&nw);
			return 0;
		}
		v[++nw.naddr] = NULL;
	}
	webhead_clear(w);
	*w = nw;
	return 0;
}

static int
p_url(struct cfg_loader *ld, const struct keydef *kd, void *base,
    const char *val, char *why, size_t len)
{
	if (cfg_url_check(val, why, len) == -1)
		return -1;
	return set_string(ld, FIELD(char **), val);
}

static int
p_text(struct cfg_loader *ld, const struct keydef *kd, void *base,
    const char *val, char *why, size_t len)
{
	for (const char *p = val; *p != '\0'; p++) {
		if (iscntrl((unsigned char)*p)) {
			cfg_why(why, len, "holds a control character");
			return -1;
		}
	}
	return set_string(ld, FIELD(char **), val);
}

static int
p_word(struct cfg_loader *ld, const struct keydef *kd, void *base,
    const char *val, char *why, size_t len)
{
	if (cfg_has_space(val)) {
		cfg_why(why, len, "'%s' holds a blank or control character",
		    val);
		return -1;
	}
	return set_string(ld, FIELD(char **), val);
}

static int
p_status(struct cfg_loader *ld, const struct keydef *kd, void *base,
    const char *val, char *why, size_t len)
{
	if (cfg_parse_status_set(val, FIELD(struct cfg_status_set *)) == -1) {
		cfg_why(why, len, "'%s': expected HTTP statuses 100-599 as a "
		    "comma-separated list of codes or ranges, e.g. "
		    "200-399,503 (at most %d)", val, CFG_MAX_RANGES);
		return -1;
	}
	return 0;
}

static int
p_file(struct cfg_loader *ld, const struct keydef *kd, void *base,
    const char *val, char *why, size_t len)
{
	struct stat st;

	if (val[0] != '/') {
		cfg_why(why, len, "'%s' is not an absolute path", val);
		return -1;
	}
	if (stat(val, &st) == -1 || access(val, R_OK) == -1) {
		cfg_why(why, len, "%s: %s", val, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		cfg_why(why, len, "%s is not a regular file", val);
		return -1;
	}
	return set_string(ld, FIELD(char **), val);
}

static int
p_hook(struct cfg_loader *ld, const struct keydef *kd, void *base,
    const char *val, char *why, size_t len)
{
	struct cfg_hook *h = FIELD(struct cfg_hook *);

	if (cfg_hook_parse(val, h, why, len) == -1)
		return -1;
	h->line = ld->lineno;
	return 0;
}

/* Kept as written here; cfg_validate() resolves it against the zone. */
static int
p_address(struct cfg_loader *ld, const struct keydef *kd, void *base,
    const char *val, char *why, size_t len)
{
	struct cfg_group *g = base;

	if (strcasecmp(val, "auto") == 0) {
		g->address_auto = true;
		return 0;
	}
	if (cfg_dname_check(val, why, len) == -1)
		return -1;
	return set_string(ld, &g->address, val);
}

static int
p_ttl(struct cfg_loader *ld, const struct keydef *kd, void *base,
    const char *val, char *why, size_t len)
{
	int64_t ms;

	if (cfg_parse_duration(val, &ms) == -1) {
		cfg_why(why, len, "'%s' is not a duration: expected a whole "
		    "number with a unit s, m or h (e.g. 60s, 5m)", val);
		return -1;
	}
	if (ms % 1000 != 0) {
		cfg_why(why, len, "%s is not a whole number of seconds", val);
		return -1;
	}
	if (ms / 1000 < kd->min || ms / 1000 > kd->max) {
		cfg_why(why, len, "%s is out of range (1s to 2147483647s)",
		    val);
		return -1;
	}
	*FIELD(uint32_t *) = (uint32_t)(ms / 1000);
	return 0;
}

/* Loading and freeing. */

static void
move_errors(struct cfg_loader *ld, struct config_errors *errs)
{
	char **v;

	/* Sort by line, stable: the order of discovery within a line. */
	for (size_t i = 0; i < ld->nerr; i++)
		for (size_t j = i + 1; j < ld->nerr; j++)
			if (ld->errs[j].line < ld->errs[i].line) {
				struct cfg_err t = ld->errs[j];

				memmove(&ld->errs[i + 1], &ld->errs[i],
				    (j - i) * sizeof(t));
				ld->errs[i] = t;
			}
	v = errs ? reallocarray(errs->msg, errs->n + ld->nerr + 1,
	    sizeof(*v)) : NULL;
	for (size_t i = 0; i < ld->nerr; i++) {
		if (v != NULL)
			v[errs->n++] = ld->errs[i].msg;
		else
			free(ld->errs[i].msg);
	}
	if (v != NULL) {
		v[errs->n] = NULL;
		errs->msg = v;
	}
	free(ld->errs);
	ld->errs = NULL;
	ld->nerr = 0;
}

int
config_load(const char *path, struct config **out,
    struct config_errors *errs)
{
	struct cfg_loader ld = {
		.path = path,
		.cur = CFG_CUR_NONE,
		.ctl_sect = -1,
		.dns_sect = -1,
	};
	struct stat st;
	int rc;

	*out = NULL;
	if ((ld.cfg = calloc(1, sizeof(*ld.cfg))) == NULL ||
	    (ld.cfg->path = strdup(path)) == NULL) {
		ld.oom = true;
		goto done;
	}
	defaults_controller(&ld.cfg->controller, &ld.oom);
	defaults_dns(&ld.cfg->dns);
	if ((ld.fp = fopen(path, "re")) == NULL) {
		cfg_err_at(&ld, 0, "open", "%s", strerror(errno));
		goto done;
	}
	if (fstat(fileno(ld.fp), &st) == 0 && !S_ISREG(st.st_mode) &&
	    !S_ISFIFO(st.st_mode) && !S_ISCHR(st.st_mode)) {
		cfg_err_at(&ld, 0, "open", "not a regular file");
		goto done;
	}
	rc = ini_parse_stream(read_line_cb, &ld, handler_cb, &ld);
	if (rc == -2)
		ld.oom = true;
	else if (rc > 0)	/* every syntax error was caught by the reader */
		cfg_err_at(&ld, rc, "line", "syntax error");
	cfg_validate(&ld);
done:
	if (ld.oom)
		cfg_err_at(&ld, 0, "load", "out of memory");
	if (ld.fp != NULL)
		fclose(ld.fp);
	free(ld.buf);
	free(ld.sects);
	if (ld.nerr > 0 || ld.oom) {
		move_errors(&ld, errs);
		config_free(ld.cfg);
		return -1;
	}
	*out = ld.cfg;
	return 0;
}

static void
stack_free(struct cfg_stack *s)
{
	free(s->name);
	webhead_clear(&s->web_head);
	free(s->health_url);
	free(s->health_host);
	free(s->expect_body);
	free(s->ca_file);
	cfg_hook_clear(&s->maintenance_on);
	cfg_hook_clear(&s->maintenance_off);
	cfg_hook_clear(&s->replication_off);
	cfg_hook_clear(&s->promote);
	cfg_hook_clear(&s->precheck);
}

void
config_free(struct config *cfg)
{
	if (cfg == NULL)
		return;
	free(cfg->path);
	free(cfg->controller.state_dir);
	free(cfg->controller.api_token_file);
	for (size_t i = 0; i < cfg->controller.nwitness; i++)
		free(cfg->controller.witness[i]);
	free(cfg->controller.witness);
	free(cfg->controller.name);
	free(cfg->dns.server);
	free(cfg->dns.zone);
	free(cfg->dns.key_file);
	free(cfg->dns.confirm);
	explicit_bzero(&cfg->dns.key, sizeof(cfg->dns.key));
	for (size_t i = 0; i < cfg->nstack; i++)
		stack_free(&cfg->stacks[i]);
	free(cfg->stacks);
	for (size_t i = 0; i < cfg->ngroup; i++) {
		struct cfg_group *g = &cfg->groups[i];

		free(g->name);
		free(g->address);
		free(g->primary_name);
		free(g->backup_name);
		cfg_hook_clear(&g->on_status_change);
	}
	free(cfg->groups);
	free(cfg);
}

void
config_errors_free(struct config_errors *errs)
{
	if (errs == NULL)
		return;
	for (size_t i = 0; i < errs->n; i++)
		free(errs->msg[i]);
	free(errs->msg);
	errs->msg = NULL;
	errs->n = 0;
}

const struct cfg_stack *
config_stack_find(const struct config *cfg, const char *name)
{
	int i = config_stack_index(cfg, name);

	return i < 0 ? NULL : &cfg->stacks[i];
}

int
config_stack_index(const struct config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->nstack; i++)
		if (strcmp(cfg->stacks[i].name, name) == 0)
			return (int)i;
	return -1;
}

const struct cfg_group *
config_group_find(const struct config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->ngroup; i++)
		if (strcmp(cfg->groups[i].name, name) == 0)
			return &cfg->groups[i];
	return NULL;
}
