/*
 * config.c - load failoverd's configuration: the inih reader and handler,
 * sections, the error list, and the struct's lifetime.
 *
 * The grammar, one table per section of {key, parser, field, flags}, is in
 * keys.c.  Sections are [controller], [dns], [stack NAME] and
 * [group NAME].
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

#define SEC(x)	((int64_t)(x) * 1000)

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
	const char *what = cfg_sectdef(kind)->name;

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
		    "(expected [controller], [dns], [stack NAME] or "
		    "[group NAME] first)");
		return 1;
	}
	s = &ld->sects[ld->cur];
	if ((ki = cfg_key_index(s->kind, key)) < 0) {
		unknown_key(ld, s->kind, key);
		return 1;
	}
	kd = &cfg_sectdef(s->kind)->keys[ki];
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
