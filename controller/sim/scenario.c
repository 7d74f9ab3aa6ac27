/*
 * scenario.c - parse simulation scenarios (grammar in scenario.h).
 *
 * One pass over the lines: each is cut into words (a `#` ends it), checked
 * against the grammar and appended to a growing array.  Names are kept as
 * written; scn_resolve() maps them to configuration indexes afterwards, so
 * the parser itself needs no configuration (and the fuzzer can drive it
 * alone).
 */
#include "controller/sim/scenario.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAXWORDS	16

struct parser {
	const char		*path;
	struct scn_errors	*errs;
	int			 line;
	int			 nerr;
	struct scenario		*scn;
	size_t			 cap;
	int64_t			 last_ms;
	bool			 ended;
};

static void	 perr(struct parser *, int, const char *, ...)
		    __attribute__((format(printf, 3, 4)));
static int	 parse_time(const char *, int64_t *);
static int	 parse_line(struct parser *, char **, int);
static int	 parse_members(struct parser *, char **, int);
static int	 parse_ctl(struct parser *, struct scn_event *, char **, int);
static struct scn_event *push(struct parser *);
static char	*xstrdup(const char *);
static char	*join(char **, int);

static const char *const hphase_names[SCN_NHPHASE] = {
	"maintenance_on", "replication_off", "promote", "maintenance_off",
	"precheck", "restore",
};

const char *
scn_hphase_name(int p)
{
	return p >= 0 && p < SCN_NHPHASE ? hphase_names[p] : "unknown";
}

static void
add_error(struct scn_errors *errs, const char *msg)
{
	char **m;

	if (errs == NULL || errs->n >= SCN_MAX_ERRORS)
		return;
	if ((m = realloc(errs->msg, (errs->n + 1) * sizeof(*m))) == NULL)
		return;
	errs->msg = m;
	if ((m[errs->n] = xstrdup(msg)) != NULL)
		errs->n++;
}

static void
perr(struct parser *p, int line, const char *fmt, ...)
{
	char what[256], msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (line > 0)
		snprintf(msg, sizeof(msg), "%s:%d: %s", p->path, line, what);
	else
		snprintf(msg, sizeof(msg), "%s: %s", p->path, what);
	add_error(p->errs, msg);
	p->nerr++;
}

static char *
xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = malloc(n);

	if (d != NULL)
		memcpy(d, s, n);
	return d;
}

static char *
join(char **w, int n)
{
	size_t len = 1;
	char *s;

	for (int i = 0; i < n; i++)
		len += strlen(w[i]) + 1;
	if ((s = malloc(len)) == NULL)
		return NULL;
	s[0] = '\0';
	for (int i = 0; i < n; i++) {
		if (i > 0)
			strcat(s, " ");
		strcat(s, w[i]);
	}
	return s;
}

static int
parse_time(const char *s, int64_t *ms)
{
	if (strcmp(s, "0") == 0) {
		*ms = 0;
		return 0;
	}
	return cfg_parse_duration(s, ms);
}

static int
parse_int(const char *s, int lo, int hi, int *v)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || n < lo || n > hi)
		return -1;
	*v = (int)n;
	return 0;
}

static struct scn_event *
push(struct parser *p)
{
	struct scenario *scn = p->scn;
	struct scn_event *e;

	if (scn->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 16;

		if ((e = realloc(scn->ev, cap * sizeof(*e))) == NULL)
			return NULL;
		scn->ev = e;
		p->cap = cap;
	}
	e = &scn->ev[scn->n++];
	memset(e, 0, sizeof(*e));
	e->line = p->line;
	e->stack_idx = -1;
	e->group_idx = -1;
	e->member_idx = -1;
	e->times = 1;
	return e;
}

static int
parse_ctl(struct parser *p, struct scn_event *e, char **w, int n)
{
	int k;

	if (n < 1) {
		perr(p, p->line, "ctl: missing verb");
		return -1;
	}
	e->text = join(w, n);
	k = eng_cmd_parse(w[0]);
	if (k < 0) {
		perr(p, p->line, "ctl: unknown or unplayable verb '%s' "
		    "(pause, resume, pin, unpin, rearm, switch)", w[0]);
		return -1;
	}
	e->cmd = k;
	if (n < 2) {
		perr(p, p->line, "ctl %s: missing group", w[0]);
		return -1;
	}
	if (strcmp(w[1], "--all") == 0) {
		if (k != ENG_CMD_PAUSE && k != ENG_CMD_RESUME) {
			perr(p, p->line, "ctl %s: --all only for pause and "
			    "resume", w[0]);
			return -1;
		}
		e->all = true;
	} else if (w[1][0] == '-') {
		perr(p, p->line, "ctl %s: expected a group, not '%s'", w[0],
		    w[1]);
		return -1;
	} else if ((e->group = xstrdup(w[1])) == NULL)
		return -1;
	switch (k) {
	case ENG_CMD_PIN:
		if (n != 3) {
			perr(p, p->line, "ctl pin: expected GROUP STACK");
			return -1;
		}
		if ((e->stack = xstrdup(w[2])) == NULL)
			return -1;
		return 0;
	case ENG_CMD_SWITCH:
		for (int i = 2; i < n; i++) {
			if (strcmp(w[i], "--force") == 0)
				e->force = true;
			else if (strcmp(w[i], "--yes") == 0 ||
			    strcmp(w[i], "--no-wait") == 0)
				;
			else if (strcmp(w[i], "--to") == 0 && i + 1 < n &&
			    e->stack == NULL) {
				if ((e->stack = xstrdup(w[++i])) == NULL)
					return -1;
			} else {
				perr(p, p->line, "ctl switch: unexpected '%s' "
				    "(--to STACK, --force, --yes, --no-wait)",
				    w[i]);
				return -1;
			}
		}
		return 0;
	default:
		if (n != 2) {
			perr(p, p->line, "ctl %s: unexpected '%s'", w[0], w[2]);
			return -1;
		}
		return 0;
	}
}

/* members NAME... | quorum majority|all|N: before the first `at`. */
static int
parse_members(struct parser *p, char **w, int n)
{
	struct scenario *scn = p->scn;

	if (scn->n > 0) {
		perr(p, p->line, "'%s' must come before the first 'at' line",
		    w[0]);
		return -1;
	}
	if (strcmp(w[0], "quorum") == 0) {
		char *end;
		long v;

		if (scn->has_quorum || n != 2) {
			perr(p, p->line, scn->has_quorum ? "quorum given twice" :
			    "quorum: expected majority, all or a number");
			return -1;
		}
		if (strcmp(w[1], "majority") == 0)
			scn->quorum.kind = CFG_QUORUM_MAJORITY;
		else if (strcmp(w[1], "all") == 0)
			scn->quorum.kind = CFG_QUORUM_ALL;
		else {
			v = strtol(w[1], &end, 10);
			if (*end != '\0' || v < 1 ||
			    v > CFG_CLUSTER_MAX_QUORUM) {
				perr(p, p->line, "quorum: expected majority, all"
				    " or a number from 1 to %d, not '%s'",
				    CFG_CLUSTER_MAX_QUORUM, w[1]);
				return -1;
			}
			scn->quorum.kind = CFG_QUORUM_COUNT;
			scn->quorum.n = (int)v;
		}
		scn->has_quorum = true;
		return 0;
	}
	if (scn->members != NULL || n < 2) {
		perr(p, p->line, scn->members != NULL ? "members given twice" :
		    "members: expected at least one name");
		return -1;
	}
	if ((scn->members = calloc((size_t)n - 1, sizeof(char *))) == NULL)
		return -1;
	for (int i = 1; i < n; i++) {
		for (int j = 1; j < i; j++)
			if (strcmp(w[i], w[j]) == 0) {
				perr(p, p->line, "member '%s' named twice",
				    w[i]);
				return -1;
			}
		if (!config_name_valid(w[i])) {
			perr(p, p->line, "'%s' is not a member name", w[i]);
			return -1;
		}
		if ((scn->members[scn->nmembers] = xstrdup(w[i])) == NULL)
			return -1;
		scn->nmembers++;
	}
	return 0;
}

static int
parse_line(struct parser *p, char **w, int n)
{
	struct scn_event *e;
	int64_t at;
	const char *what;

	if (strcmp(w[0], "members") == 0 || strcmp(w[0], "quorum") == 0)
		return parse_members(p, w, n);
	if (strcmp(w[0], "at") != 0) {
		perr(p, p->line, "expected 'at TIME ...', not '%s'", w[0]);
		return -1;
	}
	if (n < 2 || parse_time(w[1], &at) != 0) {
		perr(p, p->line, n < 2 ? "missing time" :
		    "bad time '%s' (e.g. 30s, 250ms, 2h)", n < 2 ? "" : w[1]);
		return -1;
	}
	if (n < 3) {
		perr(p, p->line, "missing what happens at %s", w[1]);
		return -1;
	}
	if (p->ended) {
		perr(p, p->line, "line after 'end'");
		return -1;
	}
	if (at < p->last_ms) {
		perr(p, p->line, "time %s goes backwards", w[1]);
		return -1;
	}
	p->last_ms = at;
	if ((e = push(p)) == NULL)
		return -1;
	e->at_ms = at;
	what = w[2];
	w += 3;
	n -= 3;
	if (strcmp(what, "end") == 0) {
		e->kind = SCN_END;
		p->ended = true;
		p->scn->end_ms = at;
		if (n != 0)
			goto extra;
		return 0;
	}
	if (strcmp(what, "dns") == 0 && n >= 1 &&
	    strcmp(w[0], "refuse") == 0) {
		static const char *const refusals[] = { "REFUSED", "NOTAUTH",
		    "BADKEY", "BADSIG", "NOTZONE", "not_owner" };

		e->kind = SCN_DNS;
		for (size_t i = 0; n == 2 &&
		    i < sizeof(refusals) / sizeof(refusals[0]); i++)
			if (strcmp(w[1], refusals[i]) == 0)
				e->refuse = refusals[i];
		if (e->refuse == NULL) {
			perr(p, p->line, "dns refuse: expected REFUSED, NOTAUTH,"
			    " BADKEY, BADSIG, NOTZONE or not_owner");
			return -1;
		}
		return 0;
	}
	if (strcmp(what, "member") == 0) {
		e->kind = SCN_MEMBER;
		if (n != 2 || (strcmp(w[1], "stop") != 0 &&
		    strcmp(w[1], "start") != 0)) {
			perr(p, p->line, "member: expected NAME stop or NAME "
			    "start");
			return -1;
		}
		if ((e->member = xstrdup(w[0])) == NULL)
			return -1;
		e->up = strcmp(w[1], "start") == 0;
		return 0;
	}
	if (strcmp(what, "dns") == 0 || strcmp(what, "witness") == 0) {
		e->kind = what[0] == 'd' ? SCN_DNS : SCN_WITNESS;
		if (n != 1 || (strcmp(w[0], "up") != 0 &&
		    strcmp(w[0], "down") != 0)) {
			perr(p, p->line, "%s: expected %s", what,
			    what[0] == 'd' ? "up, down or refuse REASON" :
			    "up or down");
			return -1;
		}
		e->up = strcmp(w[0], "up") == 0;
		return 0;
	}
	if (strcmp(what, "ctl") == 0) {
		e->kind = SCN_CTL;
		return parse_ctl(p, e, w, n);
	}
	if (strcmp(what, "hook") == 0) {
		e->kind = SCN_HOOK;
		if (n < 3) {
			perr(p, p->line, "hook: expected STACK PHASE "
			    "fail|hang|ok");
			return -1;
		}
		if ((e->stack = xstrdup(w[0])) == NULL)
			return -1;
		e->hphase = -1;
		for (int i = 0; i < SCN_NHPHASE; i++)
			if (strcmp(w[1], hphase_names[i]) == 0)
				e->hphase = i;
		if (e->hphase < 0) {
			perr(p, p->line, "hook: unknown phase '%s' (precheck, "
			    "maintenance_on, replication_off, promote, "
			    "maintenance_off)", w[1]);
			return -1;
		}
		if (strcmp(w[2], "fail") == 0)
			e->hact = SCN_H_FAIL;
		else if (strcmp(w[2], "hang") == 0)
			e->hact = SCN_H_HANG;
		else if (strcmp(w[2], "ok") == 0)
			e->hact = SCN_H_OK;
		else {
			perr(p, p->line, "hook: expected fail, hang or ok, "
			    "not '%s'", w[2]);
			return -1;
		}
		if (n == 4 && e->hact != SCN_H_OK) {
			if (strcmp(w[3], "always") == 0)
				e->times = SCN_ALWAYS;
			else if (parse_int(w[3], 1, 1000000, &e->times) != 0) {
				perr(p, p->line, "hook: bad count '%s' "
				    "(a number or always)", w[3]);
				return -1;
			}
		} else if (n > 3) {
			w += 3;
			n -= 3;
			goto extra;
		}
		return 0;
	}

	/* STACK up|down|timeout|status N|flap DUR [@MEMBER] */
	e->kind = SCN_PROBE;
	if ((e->stack = xstrdup(what)) == NULL)
		return -1;
	if (n >= 1 && w[n - 1][0] == '@') {
		if (w[n - 1][1] == '\0') {
			perr(p, p->line, "'@' without a member name");
			return -1;
		}
		if ((e->member = xstrdup(w[n - 1] + 1)) == NULL)
			return -1;
		n--;
	}
	if (n < 1) {
		perr(p, p->line, "%s: expected up, down, timeout, status N or "
		    "flap DUR", what);
		return -1;
	}
	if (strcmp(w[0], "up") == 0)
		e->probe = SCN_P_UP;
	else if (strcmp(w[0], "down") == 0)
		e->probe = SCN_P_DOWN;
	else if (strcmp(w[0], "timeout") == 0)
		e->probe = SCN_P_TIMEOUT;
	else if (strcmp(w[0], "status") == 0) {
		e->probe = SCN_P_STATUS;
		if (n < 2 || parse_int(w[1], 100, 599, &e->status) != 0) {
			perr(p, p->line, "status: expected an HTTP status "
			    "100-599%s%s", n < 2 ? "" : ", not ",
			    n < 2 ? "" : w[1]);
			return -1;
		}
		w++;
		n--;
	} else if (strcmp(w[0], "flap") == 0) {
		e->probe = SCN_P_FLAP;
		if (n < 2 || parse_time(w[1], &e->flap_ms) != 0 ||
		    e->flap_ms <= 0) {
			perr(p, p->line, "flap: expected a duration above 0 "
			    "(e.g. 2s)%s%s", n < 2 ? "" : ", not ",
			    n < 2 ? "" : w[1]);
			return -1;
		}
		w++;
		n--;
	} else {
		perr(p, p->line, "%s: expected up, down, timeout, status N or "
		    "flap DUR, not '%s' (or: hook, dns, witness, ctl, end)",
		    what, w[0]);
		return -1;
	}
	w++;
	n--;
	if (n == 0)
		return 0;
extra:
	perr(p, p->line, "unexpected '%s'", w[0]);
	return -1;
}

int
scn_parse(const char *path, const char *buf, size_t len,
    struct scenario **out, struct scn_errors *errs)
{
	struct parser p;
	char *text = NULL, *line, *next, *w[MAXWORDS];
	int n;

	*out = NULL;
	memset(&p, 0, sizeof(p));
	p.path = path != NULL ? path : "-";
	p.errs = errs;
	if ((p.scn = calloc(1, sizeof(*p.scn))) == NULL ||
	    (p.scn->path = xstrdup(p.path)) == NULL ||
	    (text = malloc(len + 1)) == NULL) {
		perr(&p, 0, "out of memory");
		goto fail;
	}
	memcpy(text, buf, len);
	text[len] = '\0';
	if (memchr(buf, '\0', len) != NULL) {
		perr(&p, 0, "not a text file (NUL byte)");
		goto fail;
	}
	for (line = text; line != NULL; line = next) {
		char *c, *save = NULL, *tok;

		p.line++;
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if ((c = strchr(line, '#')) != NULL)
			*c = '\0';
		n = 0;
		for (tok = strtok_r(line, " \t\r\v\f", &save); tok != NULL;
		    tok = strtok_r(NULL, " \t\r\v\f", &save)) {
			if (n == MAXWORDS) {
				perr(&p, p.line, "too many words");
				n = -1;
				break;
			}
			w[n++] = tok;
		}
		if (n > 0)
			(void)parse_line(&p, w, n);
	}
	if (!p.ended && p.nerr == 0)
		perr(&p, 0, "no 'at TIME end' line: the scenario must say "
		    "when it ends");
	free(text);
	text = NULL;
	if (p.nerr > 0)
		goto fail;
	*out = p.scn;
	return 0;
fail:
	free(text);
	scn_free(p.scn);
	return -1;
}

int
scn_load(const char *path, struct scenario **out, struct scn_errors *errs)
{
	struct parser p;
	FILE *f;
	char *buf = NULL;
	size_t len = 0, cap = 0, r;
	int rc;

	*out = NULL;
	memset(&p, 0, sizeof(p));
	p.path = path;
	p.errs = errs;
	if ((f = fopen(path, "r")) == NULL) {
		perr(&p, 0, "%s", strerror(errno));
		return -1;
	}
	for (;;) {
		if (len == cap) {
			char *nb;

			cap = cap ? cap * 2 : 8192;
			if (cap > (64u << 20) ||
			    (nb = realloc(buf, cap)) == NULL) {
				perr(&p, 0, "too large or out of memory");
				free(buf);
				fclose(f);
				return -1;
			}
			buf = nb;
		}
		r = fread(buf + len, 1, cap - len, f);
		len += r;
		if (r == 0)
			break;
	}
	if (ferror(f)) {
		perr(&p, 0, "read error");
		free(buf);
		fclose(f);
		return -1;
	}
	fclose(f);
	rc = scn_parse(path, buf != NULL ? buf : "", len, out, errs);
	free(buf);
	return rc;
}

static int
find_stack(const struct config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->nstack; i++)
		if (strcmp(cfg->stacks[i].name, name) == 0)
			return (int)i;
	return -1;
}

int
scn_resolve(struct scenario *scn, const struct config *cfg,
    struct scn_errors *errs)
{
	struct parser p;

	memset(&p, 0, sizeof(p));
	p.path = scn->path;
	p.errs = errs;
	for (size_t i = 0; i < scn->n; i++) {
		struct scn_event *e = &scn->ev[i];
		const struct cfg_group *grp = NULL;

		e->stack_idx = -1;
		e->group_idx = -1;
		e->member_idx = -1;
		if (e->member != NULL) {
			for (size_t m = 0; m < scn->nmembers; m++)
				if (strcmp(scn->members[m], e->member) == 0)
					e->member_idx = (int)m;
			if (e->member_idx < 0) {
				perr(&p, e->line, scn->nmembers == 0 ?
				    "member '%s': the scenario has no "
				    "'members' line" : "unknown member '%s'",
				    e->member);
				continue;
			}
			if (e->kind == SCN_MEMBER && e->member_idx == 0) {
				perr(&p, e->line, "member '%s' leads the "
				    "simulation: it cannot stop or start",
				    e->member);
				continue;
			}
		}
		if (e->stack != NULL &&
		    (e->stack_idx = find_stack(cfg, e->stack)) < 0) {
			perr(&p, e->line, "unknown stack '%s'", e->stack);
			continue;
		}
		if (e->kind != SCN_CTL || e->all)
			continue;
		for (size_t g = 0; g < cfg->ngroup; g++)
			if (strcmp(cfg->groups[g].name, e->group) == 0) {
				e->group_idx = (int)g;
				grp = &cfg->groups[g];
			}
		if (grp == NULL) {
			perr(&p, e->line, "unknown group '%s'", e->group);
			continue;
		}
		if (e->stack_idx >= 0 && e->stack_idx != grp->primary &&
		    e->stack_idx != grp->backup)
			perr(&p, e->line, "stack '%s' is not in group '%s'",
			    e->stack, e->group);
	}
	return p.nerr > 0 ? -1 : 0;
}

void
scn_free(struct scenario *scn)
{
	if (scn == NULL)
		return;
	for (size_t i = 0; i < scn->n; i++) {
		free(scn->ev[i].stack);
		free(scn->ev[i].group);
		free(scn->ev[i].text);
		free(scn->ev[i].member);
	}
	for (size_t m = 0; m < scn->nmembers; m++)
		free(scn->members[m]);
	free(scn->members);
	free(scn->ev);
	free(scn->path);
	free(scn);
}

void
scn_errors_free(struct scn_errors *errs)
{
	if (errs == NULL)
		return;
	for (size_t i = 0; i < errs->n; i++)
		free(errs->msg[i]);
	free(errs->msg);
	errs->msg = NULL;
	errs->n = 0;
}
