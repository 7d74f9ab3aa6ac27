/*
 * config.c - load failoverd's configuration: the inih reader and handler,
 * sections, the error list, and the struct's lifetime.
 *
 * The grammar, one table per section of {key, parser, field, flags}, is in
 * keys.c.  Sections are [controller], [dns], [cluster], [stack NAME]
 * and [group NAME].
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
 *   - it takes a key = value line longer than inih's buffer (Debian's
 *     libinih is built with INI_MAX_LINE 200 on the stack, which would cut
 *     it into several lines) out of inih's hands: it splits the line with
 *     inih's own rules and calls the handler itself (long_pair() below),
 *     so hook command lines and URLs may be as long as CFG_LINE_MAX.
 *
 * What is read is bounded: a regular file only (a device, a FIFO or a
 * directory is refused before the first read, so -c /dev/zero fails at
 * once), at most CFG_FILE_MAX bytes, lines of at most CFG_LINE_MAX.
 *
 * The work is linear in the size of the file: sections and references are
 * found by name in hash tables (names.c), arrays grow by doubling, and the
 * errors are sorted by a merge sort.
 *
 * The first pass parses each value alone into the struct; cfg_validate()
 * (validate.c) then applies defaults that depend on other keys and checks
 * the rules between keys and sections.  All errors are kept with their line
 * and printed sorted by line.
 */
#include "config/config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <unistd.h>

#include <ini.h>

#include "config/cfg_int.h"

#define SEC(x)	((int64_t)(x) * 1000)

/* Errors. */

/*
 * An error in the run-time groups' text: named by its group, not by a
 * line of a text no one wrote by hand.  The section is the last one that
 * began at or before the line (a header refused is named by its key).
 */
static int
rt_err(struct cfg_loader *ld, int line, const char *key, const char *what,
    char **msg)
{
	const char *name = NULL;

	for (size_t i = ld->nsect; key[0] != '[' && i-- > 0;) {
		const struct cfg_sect *s = &ld->sects[i];

		if (s->line > line)
			continue;
		if (s->kind == CFG_S_GROUP && s->line > ld->rt_line)
			name = ld->cfg->groups[s->idx].name;
		break;
	}
	if (name != NULL)
		return asprintf(msg, "run-time group %s: %s: %s", name, key,
		    what);
	return asprintf(msg, "run-time groups: %s: %s", key, what);
}

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
	if (ld->rt_line > 0 && line > ld->rt_line) {
		if (rt_err(ld, line, key, what, &msg) == -1) {
			ld->oom = true;
			return;
		}
	} else if ((line > 0 ? asprintf(&msg, "%s:%d: %s: %s", ld->path, line,
	    key, what) : asprintf(&msg, "%s: %s: %s", ld->path, key, what)) ==
	    -1) {
		ld->oom = true;
		return;
	}
	if (ld->nerr == ld->errcap) {
		size_t cap = ld->errcap ? ld->errcap * 2 : 16;

		if ((e = reallocarray(ld->errs, cap, sizeof(*e))) == NULL) {
			free(msg);
			ld->oom = true;
			return;
		}
		ld->errs = e;
		ld->errcap = cap;
	}
	e = ld->errs;
	e[ld->nerr].line = line;
	e[ld->nerr].msg = msg;
	ld->nerr++;
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
		snprintf(buf, len, "[%s %s]", cfg_sectdef(s->kind)->name, name);
	else
		snprintf(buf, len, "[%s]", cfg_sectdef(s->kind)->name);
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
	const struct cfg_sectdef *sd = cfg_sectdef(kind);
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

		for (size_t k = 0; k < CFG_S_NKIND; k++) {
			if (k == kind ||
			    cfg_key_index((enum cfg_sect_kind)k, key) < 0)
				continue;
			n += (size_t)snprintf(where + n, sizeof(where) - n,
			    "%s[%s%s]", n ? " or " : "", cfg_sectdef(k)->name,
			    cfg_sectdef(k)->named ? " NAME" : "");
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

/* One rule for every name: config_name_valid() (config.h). */
bool
cfg_valid_ident(const char *s)
{
	return config_name_valid(s);
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
	c->api_max_connections = 64;
	c->map_size = (size_t)64 << 20;
	c->log_level = 2;
	c->request_ttl_ms = SEC(300);
}

static void
defaults_dns(struct cfg_dns *d)
{
	d->timeout_ms = SEC(2);
	d->retries = 2;
	d->verify_interval_ms = SEC(60);
	d->prereq = true;
}

/* Only once a [cluster] header is read: without it, nothing is set. */
static void
defaults_cluster(struct cfg_cluster *c, int line, bool *oom)
{
	c->enabled = true;
	c->line = line;
	if ((c->prefix = strdup("/failoverd/")) == NULL)
		*oom = true;
	c->lease_ttl_ms = SEC(10);
	c->quorum.kind = CFG_QUORUM_MAJORITY;
	c->quorum.n = 0;
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
	g->restore_on_abort = true;
}

static struct cfg_sect *
sect_add(struct cfg_loader *ld, enum cfg_sect_kind kind, size_t idx)
{
	struct cfg_sect *s;

	if (ld->nsect == ld->sectcap) {
		size_t cap = ld->sectcap ? ld->sectcap * 2 : 16;

		if ((s = reallocarray(ld->sects, cap, sizeof(*s))) == NULL) {
			ld->oom = true;
			return NULL;
		}
		ld->sects = s;
		ld->sectcap = cap;
	}
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
	const char *what = cfg_sectdef(kind)->name;
	struct cfg_names *names;
	size_t first, idx;
	char *copy;

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
	names = kind == CFG_S_STACK ? &cfg->stack_names : &cfg->group_names;
	if (cfg_names_get(names, name, &first)) {
		char key[128];

		snprintf(key, sizeof(key), "[%s %s]", what, name);
		cfg_err_at(ld, ld->lineno, key, "duplicate %s (first defined at "
		    "line %d)", what, kind == CFG_S_STACK ?
		    cfg->stacks[first].line : cfg->groups[first].line);
		return;
	}
	if ((copy = strdup(name)) == NULL) {
		ld->oom = true;
		return;
	}
	if (kind == CFG_S_STACK) {
		struct cfg_stack *v, *s;

		if (cfg->nstack == ld->stackcap) {
			size_t cap = ld->stackcap ? ld->stackcap * 2 : 8;

			if ((v = reallocarray(cfg->stacks, cap, sizeof(*v))) ==
			    NULL)
				goto oom;
			cfg->stacks = v;
			ld->stackcap = cap;
		}
		s = &cfg->stacks[cfg->nstack];
		memset(s, 0, sizeof(*s));
		defaults_stack(s);
		s->line = ld->lineno;
		s->name = copy;
		idx = cfg->nstack++;
	} else {
		struct cfg_group *v, *g;

		if (cfg->ngroup == ld->groupcap) {
			size_t cap = ld->groupcap ? ld->groupcap * 2 : 8;

			if ((v = reallocarray(cfg->groups, cap, sizeof(*v))) ==
			    NULL)
				goto oom;
			cfg->groups = v;
			ld->groupcap = cap;
		}
		g = &cfg->groups[cfg->ngroup];
		memset(g, 0, sizeof(*g));
		defaults_group(g);
		g->runtime = ld->runtime;
		g->line = ld->lineno;
		g->name = copy;
		idx = cfg->ngroup++;
	}
	/* The name is the array's now: freed with it even if what follows
	   fails. */
	if (cfg_names_put(names, copy, idx, NULL) == -1) {
		ld->oom = true;
		return;
	}
	sect_add(ld, kind, idx);
	return;
oom:
	free(copy);
	ld->oom = true;
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
	if (ld->runtime && strcmp(kind, "group") != 0) {
		cfg_err_at(ld, ld->lineno, label, "only [group NAME] can be "
		    "made at run time: stacks and hooks come only from the "
		    "configuration file");
		return;
	}
	if (strcmp(kind, "controller") == 0 || strcmp(kind, "dns") == 0 ||
	    strcmp(kind, "cluster") == 0) {
		enum cfg_sect_kind k = strcmp(kind, "controller") == 0 ?
		    CFG_S_CONTROLLER : kind[0] == 'd' ? CFG_S_DNS :
		    CFG_S_CLUSTER;
		int *slot = k == CFG_S_CONTROLLER ? &ld->ctl_sect :
		    k == CFG_S_DNS ? &ld->dns_sect : &ld->cluster_sect;

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
		if (sect_add(ld, k, 0) == NULL)
			return;
		*slot = ld->cur;
		if (k == CFG_S_CLUSTER)
			defaults_cluster(&ld->cfg->cluster, ld->lineno,
			    &ld->oom);
	} else if (strcmp(kind, "stack") == 0)
		named_begin(ld, CFG_S_STACK, name);
	else if (strcmp(kind, "group") == 0)
		named_begin(ld, CFG_S_GROUP, name);
	else
		cfg_err_at(ld, ld->lineno, label, "unknown section (expected "
		    "[controller], [dns], [cluster], [stack NAME] or "
		    "[group NAME])");
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

/*
 * Read one line into ld->buf without its end of line: its length, or -1
 * at the end of the file (or of what may be read).  A line longer than
 * CFG_LINE_MAX is read to its end and reported; it comes back empty.
 */
static ssize_t
read_line(struct cfg_loader *ld)
{
	size_t n = 0;
	bool toolong = false, nul = false;
	int c;

	if (ld->eof)
		return -1;
	if (ld->buf == NULL) {
		ld->bufsz = 256;
		if ((ld->buf = malloc(ld->bufsz)) == NULL) {
			ld->oom = true;
			ld->eof = true;
			return -1;
		}
	}
	for (;;) {
		if ((c = getc_unlocked(ld->fp)) == EOF) {
			if (ferror(ld->fp))
				cfg_err_at(ld, ld->lineno + 1, "read", "%s",
				    strerror(errno));
			if (n == 0 && !toolong && ld->rt_fp != NULL &&
			    !ferror(ld->fp)) {
				/* The file is read: the run-time groups,
				   each in its own section. */
				fclose(ld->fp);
				ld->fp = ld->rt_fp;
				ld->rt_fp = NULL;
				ld->runtime = true;
				ld->rt_line = ld->lineno;
				ld->cur = CFG_CUR_NONE;
				continue;
			}
			if (ld->rt_fp == NULL || ferror(ld->fp))
				ld->eof = true;
			if (n == 0 && !toolong)
				return -1;
			break;
		}
		if (++ld->nread > CFG_FILE_MAX) {
			cfg_err_at(ld, ld->lineno + 1, "read", "the file is "
			    "longer than %lld bytes", (long long)CFG_FILE_MAX);
			ld->eof = true;
			return -1;
		}
		if (c == '\n')
			break;
		if (c == '\0')
			nul = true;
		if (n >= CFG_LINE_MAX) {
			toolong = true;
			continue;
		}
		if (n + 2 > ld->bufsz) {
			size_t sz = ld->bufsz * 2;
			char *b;

			if ((b = realloc(ld->buf, sz)) == NULL) {
				ld->oom = true;
				ld->eof = true;
				return -1;
			}
			ld->buf = b;
			ld->bufsz = sz;
		}
		ld->buf[n++] = (char)c;
	}
	ld->lineno++;
	if (n > 0 && ld->buf[n - 1] == '\r')
		n--;
	ld->buf[n] = '\0';
	if (toolong) {
		cfg_err_at(ld, ld->lineno, "line", "longer than %d characters",
		    CFG_LINE_MAX);
		ld->buf[0] = '\0';
		return 0;
	}
	if (nul) {
		cfg_err_at(ld, ld->lineno, "line", "holds a NUL byte");
		ld->buf[0] = '\0';
		return 0;
	}
	return (ssize_t)n;
}

/* inih's rstrip() and find_chars_or_comment() (ini.c, r55). */
static char *
ini_rstrip(char *s)
{
	char *p = s + strlen(s);

	while (p > s && isspace((unsigned char)p[-1]))
		*--p = '\0';
	return s;
}

static char *
ini_find(char *s, const char *chars)
{
	bool was_space = false;

	while (*s != '\0' && (chars == NULL || strchr(chars, *s) == NULL) &&
	    !(was_space && *s == ';')) {
		was_space = isspace((unsigned char)*s);
		s++;
	}
	return s;
}

static int	 handler_cb(void *, const char *, const char *, const char *);
static int	 slurp(struct cfg_loader *, int fd);
static void	 parse_text(struct cfg_loader *, const char *rt);
static int	 load_end(struct cfg_loader *, struct config **,
		    struct config_errors *);

/*
 * A key = value line too long for inih's buffer (line_check() accepted
 * it): split as inih splits it, and handled here.  Comments and section
 * headers need nothing more.
 */
static void
long_pair(struct cfg_loader *ld, char *line)
{
	char *end, *name, *value;

	ini_rstrip(line);
	if (*line == '\0' || *line == ';' || *line == '#' || *line == '[')
		return;
	end = ini_find(line, "=:");
	if (*end != '=' && *end != ':')
		return;		/* line_check() reported it */
	*end = '\0';
	name = ini_rstrip(line);
	value = end + 1;
	end = ini_find(value, NULL);
	*end = '\0';
	value += strspn(value, " \t\n\v\f\r");
	ini_rstrip(value);
	handler_cb(ld, NULL, name, value);
}

/* The ini_reader: one line per call, counted; see the top of the file. */
static char *
read_line_cb(char *str, int num, void *arg)
{
	struct cfg_loader *ld = arg;
	ssize_t n;
	char *line;

	if ((n = read_line(ld)) < 0)
		return NULL;
	line = ld->buf;
	if (ld->lineno == 1 && strncmp(line, "\xef\xbb\xbf", 3) == 0)
		line += 3;
	line += strspn(line, " \t\f\v");
	if (!line_check(ld, line))
		goto blank;
	if (strlen(line) + 3 > (size_t)num) {
		long_pair(ld, line);
		goto blank;
	}
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
	const struct cfg_keydef *kd;
	struct cfg_sect *s;
	char why[CFG_WHY];
	void *base;
	int ki;

	(void)section;	/* the reader knows the section better */
	if (ld->cur == CFG_CUR_IGNORE)
		return 1;
	if (ld->cur == CFG_CUR_NONE) {
		cfg_err_at(ld, ld->lineno, key, "key outside of any section "
		    "(expected [controller], [dns], [cluster], [stack NAME] "
		    "or [group NAME] first)");
		return 1;
	}
	s = &ld->sects[ld->cur];
	if ((ki = cfg_key_index(s->kind, key)) < 0) {
		unknown_key(ld, s->kind, key);
		return 1;
	}
	kd = &cfg_sectdef(s->kind)->keys[ki];
	if (ld->runtime && !config_runtime_key(key)) {
		cfg_err_at(ld, ld->lineno, key, "cannot be set at run time "
		    "(only address, primary, backup and ttl; the rest comes "
		    "from the configuration file)");
		return 1;
	}
	if (s->seen[ki] != 0 && !(kd->flags & CFG_KF_REPEAT)) {
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
	case CFG_S_CLUSTER:
		base = &ld->cfg->cluster;
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

/* Loading and freeing. */

/* A stable merge sort of errors by line, tmp of n as scratch. */
static void
errs_sort(struct cfg_err *e, struct cfg_err *tmp, size_t n)
{
	size_t h = n / 2, i = 0, j = h, k = 0;

	if (n < 2)
		return;
	errs_sort(e, tmp, h);
	errs_sort(e + h, tmp, n - h);
	while (i < h && j < n)
		tmp[k++] = e[j].line < e[i].line ? e[j++] : e[i++];
	while (i < h)
		tmp[k++] = e[i++];
	while (j < n)
		tmp[k++] = e[j++];
	memcpy(e, tmp, n * sizeof(*e));
}

static void
move_errors(struct cfg_loader *ld, struct config_errors *errs)
{
	struct cfg_err *tmp;
	char **v;

	/* Sort by line, stable: the order of discovery within a line. */
	if (ld->nerr > 1 &&
	    (tmp = reallocarray(NULL, ld->nerr, sizeof(*tmp))) != NULL) {
		errs_sort(ld->errs, tmp, ld->nerr);
		free(tmp);
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
	return config_load_flags(path, 0, out, errs);
}

int
config_load_flags(const char *path, unsigned flags, struct config **out,
    struct config_errors *errs)
{
	struct cfg_loader ld = {
		.path = path,
		.flags = flags,
		.cur = CFG_CUR_NONE,
		.ctl_sect = -1,
		.dns_sect = -1,
		.cluster_sect = -1,
	};
	struct stat st;
	int fd = -1;

	*out = NULL;
	if ((ld.cfg = calloc(1, sizeof(*ld.cfg))) == NULL ||
	    (ld.cfg->path = strdup(path)) == NULL) {
		ld.oom = true;
		goto done;
	}
	defaults_controller(&ld.cfg->controller, &ld.oom);
	defaults_dns(&ld.cfg->dns);
	/*
	 * Non-blocking, so that a FIFO without a writer cannot hang us before
	 * fstat() has told what it is.
	 */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)) ==
	    -1) {
		cfg_err_at(&ld, 0, "open", "%s", strerror(errno));
		goto done;
	}
	if (fstat(fd, &st) == -1) {
		cfg_err_at(&ld, 0, "open", "%s", strerror(errno));
		goto done;
	}
	if (!S_ISREG(st.st_mode)) {
		cfg_err_at(&ld, 0, "open", "not a regular file (%s)",
		    S_ISDIR(st.st_mode) ? "a directory" : S_ISCHR(st.st_mode) ?
		    "a character device" : S_ISBLK(st.st_mode) ?
		    "a block device" : S_ISFIFO(st.st_mode) ? "a FIFO" :
		    S_ISSOCK(st.st_mode) ? "a socket" : "not a file");
		goto done;
	}
	/* It names the commands root runs: no one else may change it. */
	if (!cfg_owner_ok(st.st_uid)) {
		cfg_err_at(&ld, 0, "open", "owned by uid %u, not by root or "
		    "the daemon's user (uid %u)", (unsigned)st.st_uid,
		    (unsigned)geteuid());
		goto done;
	}
	if (st.st_mode & 022) {
		cfg_err_at(&ld, 0, "open", "writable by %s (mode %04o); chmod "
		    "go-w it", (st.st_mode & 022) == 022 ? "group and others" :
		    (st.st_mode & 020) ? "group" : "others",
		    (unsigned)(st.st_mode & 07777));
		goto done;
	}
	if (st.st_size > CFG_FILE_MAX) {
		cfg_err_at(&ld, 0, "open", "%lld bytes: longer than %lld",
		    (long long)st.st_size, (long long)CFG_FILE_MAX);
		goto done;
	}
	if (fcntl(fd, F_SETFL, 0) == -1) {
		cfg_err_at(&ld, 0, "open", "%s", strerror(errno));
		goto done;
	}
	ld.cfg_st = st;
	ld.cfg->file_mode = (unsigned)st.st_mode;
	if (slurp(&ld, fd) == 0)
		parse_text(&ld, NULL);
done:
	if (fd != -1)
		close(fd);
	return load_end(&ld, out, errs);
}

/*
 * Read the whole file into cfg->text (bounded: CFG_FILE_MAX and a byte,
 * so that a file grown since fstat() is still caught by read_line()).
 */
static int
slurp(struct cfg_loader *ld, int fd)
{
	size_t cap = 4096, n = 0;
	char *b = malloc(cap), *nb;
	ssize_t r;

	for (;;) {
		if (b == NULL) {
			ld->oom = true;
			return -1;
		}
		if (n == cap) {
			if (cap > (size_t)CFG_FILE_MAX)
				break;
			nb = realloc(b, cap * 2);
			if (nb == NULL) {
				free(b);
				b = NULL;
				continue;
			}
			b = nb;
			cap *= 2;
		}
		r = read(fd, b + n, cap - n);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			cfg_err_at(ld, 0, "read", "%s", strerror(errno));
			free(b);
			return -1;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	ld->cfg->text = b;
	ld->cfg->textlen = n;
	return 0;
}

/* Parse cfg->text, then rt (NULL: none), and validate the whole. */
static void
parse_text(struct cfg_loader *ld, const char *rt)
{
	struct config *cfg = ld->cfg;
	int rc;

	/* fmemopen() of zero bytes is refused by older C libraries. */
	ld->fp = cfg->textlen > 0 ? fmemopen(cfg->text, cfg->textlen, "r") :
	    fmemopen((char *)"\n", 1, "r");
	if (ld->fp == NULL) {
		ld->oom = true;
		return;
	}
	if (rt != NULL && rt[0] != '\0' &&
	    (ld->rt_fp = fmemopen((char *)rt, strlen(rt), "r")) == NULL) {
		ld->oom = true;
		return;
	}
	rc = ini_parse_stream(read_line_cb, ld, handler_cb, ld);
	if (rc == -2)
		ld->oom = true;
	else if (rc > 0)	/* every syntax error was caught by the reader */
		cfg_err_at(ld, rc, "line", "syntax error");
	cfg_validate(ld);
}

static int
load_end(struct cfg_loader *ld, struct config **out,
    struct config_errors *errs)
{
	if (ld->oom)
		cfg_err_at(ld, 0, "load", "out of memory");
	if (ld->fp != NULL)
		fclose(ld->fp);
	if (ld->rt_fp != NULL)
		fclose(ld->rt_fp);
	free(ld->buf);
	free(ld->sects);
	if (ld->nerr > 0 || ld->oom) {
		move_errors(ld, errs);
		config_free(ld->cfg);
		return -1;
	}
	*out = ld->cfg;
	return 0;
}

int
config_with_groups(const struct config *base, const char *groups,
    struct config **out, struct config_errors *errs)
{
	struct cfg_loader ld = {
		.path = base->path,
		.cur = CFG_CUR_NONE,
		.ctl_sect = -1,
		.dns_sect = -1,
		.cluster_sect = -1,
	};

	*out = NULL;
	if ((ld.cfg = calloc(1, sizeof(*ld.cfg))) == NULL ||
	    (ld.cfg->path = strdup(base->path)) == NULL ||
	    (ld.cfg->text = malloc(base->textlen + 1)) == NULL) {
		ld.oom = true;
		return load_end(&ld, out, errs);
	}
	memcpy(ld.cfg->text, base->text, base->textlen);
	ld.cfg->textlen = base->textlen;
	ld.cfg->file_mode = base->file_mode;
	ld.cfg_st.st_mode = (mode_t)base->file_mode;
	defaults_controller(&ld.cfg->controller, &ld.oom);
	defaults_dns(&ld.cfg->dns);
	parse_text(&ld, groups);
	return load_end(&ld, out, errs);
}

bool
config_runtime_key(const char *key)
{
	return strcmp(key, "address") == 0 || strcmp(key, "primary") == 0 ||
	    strcmp(key, "backup") == 0 || strcmp(key, "ttl") == 0;
}

static void
stack_free(struct cfg_stack *s)
{
	free(s->name);
	cfg_webhead_clear(&s->web_head);
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
	free(cfg->text);
	free(cfg->controller.state_dir);
	free(cfg->controller.api_token_file);
	for (size_t i = 0; i < cfg->controller.nwitness; i++)
		free(cfg->controller.witness[i]);
	free(cfg->controller.witness);
	for (size_t i = 0; i < cfg->controller.nhost; i++)
		free(cfg->controller.api_host[i]);
	free(cfg->controller.api_host);
	free(cfg->controller.name);
	free(cfg->controller.source_address);
	for (size_t i = 0; i < cfg->cluster.netcd; i++)
		free(cfg->cluster.etcd[i]);
	free(cfg->cluster.etcd);
	free(cfg->cluster.member);
	free(cfg->cluster.prefix);
	free(cfg->cluster.advertise);
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
	cfg_names_clear(&cfg->stack_names);
	cfg_names_clear(&cfg->group_names);
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
	size_t i;

	if (cfg->stack_names.cap == 0) {	/* not made by config_load() */
		for (i = 0; i < cfg->nstack; i++)
			if (strcmp(cfg->stacks[i].name, name) == 0)
				return (int)i;
		return -1;
	}
	if (cfg_names_get(&cfg->stack_names, name, &i))
		return (int)i;
	return -1;
}

const struct cfg_group *
config_group_find(const struct config *cfg, const char *name)
{
	size_t i;

	if (cfg->group_names.cap == 0) {	/* not made by config_load() */
		for (i = 0; i < cfg->ngroup; i++)
			if (strcmp(cfg->groups[i].name, name) == 0)
				return &cfg->groups[i];
		return NULL;
	}
	if (cfg_names_get(&cfg->group_names, name, &i))
		return &cfg->groups[i];
	return NULL;
}
