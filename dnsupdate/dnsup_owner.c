/*
 * dnsup_owner.c - the ownership TXT value and the prerequisites that
 * follow from what a read-back found (see dnsup_owner.h for the format).
 */
#include "dnsupdate/dnsup_owner.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PREFIX		"failoverd "

static void	 fmt(char *, size_t, const char *, ...)
		    __attribute__((format(printf, 3, 4)));

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

/* A configuration name: 1-63 of [A-Za-z0-9._-], not starting with . - _ */
static bool
valid_id(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n >= DNSUP_OWNER_ID_MAX || !isalnum((unsigned char)s[0]))
		return false;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '-' &&
		    s[i] != '_' && s[i] != '.')
			return false;
	return true;
}

int
dnsup_owner_init(struct dnsup_owner *o, const char *controller,
    const char *group, uint64_t epoch)
{
	memset(o, 0, sizeof(*o));
	if (controller == NULL || group == NULL ||
	    !valid_id(controller, strlen(controller)) ||
	    !valid_id(group, strlen(group)))
		return -1;
	memcpy(o->controller, controller, strlen(controller) + 1);
	memcpy(o->group, group, strlen(group) + 1);
	o->epoch = epoch;
	return 0;
}

int
dnsup_owner_format(const struct dnsup_owner *o, char *buf, size_t len)
{
	int n;

	if (o->epoch > 0)
		n = snprintf(buf, len, PREFIX "controller=%s group=%s "
		    "epoch=%" PRIu64, o->controller, o->group, o->epoch);
	else
		n = snprintf(buf, len, PREFIX "controller=%s group=%s",
		    o->controller, o->group);
	return (n < 0 || (size_t)n >= len || n > 255) ? -1 : 0;
}

/* "KEY=" at *p, then a value up to a space or the end: its length. */
static const char *
field(const char *p, const char *key, size_t *vlen)
{
	size_t kl = strlen(key);

	if (strncmp(p, key, kl) != 0 || p[kl] != '=')
		return NULL;
	p += kl + 1;
	*vlen = strcspn(p, " ");
	return p;
}

int
dnsup_owner_parse(const char *value, struct dnsup_owner *o)
{
	const char *p = value, *v;
	size_t n;
	char num[24], *end;
	unsigned long long e;

	memset(o, 0, sizeof(*o));
	if (strncmp(p, PREFIX, strlen(PREFIX)) != 0)
		return -1;
	p += strlen(PREFIX);
	if ((v = field(p, "controller", &n)) == NULL || !valid_id(v, n))
		return -1;
	memcpy(o->controller, v, n);
	p = v + n;
	if (*p++ != ' ' || (v = field(p, "group", &n)) == NULL ||
	    !valid_id(v, n))
		goto bad;
	memcpy(o->group, v, n);
	p = v + n;
	if (*p == '\0')
		return 0;
	if (*p++ != ' ' || (v = field(p, "epoch", &n)) == NULL ||
	    n == 0 || n >= sizeof(num) || v[n] != '\0' || v[0] == '0')
		goto bad;
	memcpy(num, v, n);
	num[n] = '\0';
	for (size_t i = 0; i < n; i++)
		if (!isdigit((unsigned char)num[i]))
			goto bad;
	errno = 0;
	e = strtoull(num, &end, 10);
	if (errno != 0 || *end != '\0')
		goto bad;
	o->epoch = e;
	return 0;
bad:
	memset(o, 0, sizeof(*o));
	return -1;
}

int
dnsup_owner_name(char *buf, size_t len, const char *name)
{
	int n = snprintf(buf, len, "_failoverd.%s", name);

	return (n < 0 || (size_t)n >= len) ? -1 : 0;
}

const char *
dnsup_owner_verdict_name(enum dnsup_owner_verdict v)
{
	switch (v) {
	case DNSUP_OWN_FREE:		return "free";
	case DNSUP_OWN_OURS:		return "ours";
	case DNSUP_OWN_SUPERSEDE:	return "supersede";
	case DNSUP_OWN_ADOPT:		return "adopt";
	case DNSUP_OWN_REFUSED:		return "refused";
	}
	return "unknown";
}

void
dnsup_owner_plan_believed(struct dnsup_owner_plan *p,
    const struct dnsup_rrset *prev)
{
	memset(p, 0, sizeof(*p));
	p->verdict = DNSUP_OWN_OURS;
	p->prereq = DNSUP_PREREQ_IS;
	if (prev != NULL)
		p->prev = *prev;
	p->txt_prereq = DNSUP_TXT_OURS;
}

void
dnsup_owner_plan_fresh(struct dnsup_owner_plan *p)
{
	memset(p, 0, sizeof(*p));
	p->verdict = DNSUP_OWN_FREE;
	p->prereq = DNSUP_PREREQ_EMPTY;
	p->txt_prereq = DNSUP_TXT_ABSENT;
}

int
dnsup_owner_plan_supersede(struct dnsup_owner_plan *p,
    const struct dnsup_rrset *prev, const struct dnsup_owner *old)
{
	char v[300];
	struct dnsup_txt t;

	memset(p, 0, sizeof(*p));
	if (dnsup_owner_format(old, v, sizeof(v)) == -1 ||
	    dnsup_txt_set(&t, v) == -1)
		return -1;
	p->verdict = DNSUP_OWN_SUPERSEDE;
	p->prereq = DNSUP_PREREQ_IS;
	if (prev != NULL)
		p->prev = *prev;
	p->txt_prereq = DNSUP_TXT_WAS;
	dnsup_txtset_add(&p->txt_prev, &t);
	return 0;
}

void
dnsup_owner_apply(const struct dnsup_owner_plan *p, struct dnsup_update *u)
{
	u->prereq = p->prereq;
	u->prev = p->prev;
	u->owner_prereq = p->txt_prereq;
	u->owner_prev = p->txt_prereq == DNSUP_TXT_WAS ? &p->txt_prev : NULL;
}

static enum dnsup_result
refuse(struct dnsup_owner_plan *p, enum dnsup_result r)
{
	p->verdict = DNSUP_OWN_REFUSED;
	return r;
}

/*
 * We may write the name: can want go there?  named ignores a CNAME added
 * beside other data and answers NOERROR: the old records would be gone
 * and the new one never there.
 */
static enum dnsup_result
may_write(const char *name, const struct dnsup_found *f,
    const struct dnsup_rrset *want, struct dnsup_owner_plan *p, char *detail,
    size_t len)
{
	if (want != NULL && want->kind == DNSUP_RRSET_CNAME &&
	    f->other[0] != '\0') {
		fmt(detail, len, "%s holds %s: a CNAME cannot be published "
		    "beside other records", name, f->other);
		return refuse(p, DNSUP_R_CNAME_CONFLICT);
	}
	return DNSUP_R_NOERROR;
}

enum dnsup_result
dnsup_owner_check(const char *name, const struct dnsup_found *f,
    const struct dnsup_owner *mine, bool adopt,
    const struct dnsup_rrset *want, struct dnsup_owner_plan *p,
    char *detail, size_t len)
{
	struct dnsup_owner theirs;
	char mv[300], tv[300], what[600], txts[600];
	bool in_use = f->rrset.kind != DNSUP_RRSET_NONE || f->other[0] != '\0';
	bool one_failoverd = false;

	memset(p, 0, sizeof(*p));
	if (dnsup_owner_format(mine, mv, sizeof(mv)) == -1) {
		fmt(detail, len, "our ownership value does not fit a TXT "
		    "string");
		return refuse(p, DNSUP_R_INTERNAL);
	}
	dnsup_rrset_format(&f->rrset, what, sizeof(what));
	if (f->other[0] != '\0') {
		size_t l = strlen(what);

		if (f->rrset.kind == DNSUP_RRSET_NONE)
			l = 0;
		snprintf(what + l, sizeof(what) - l, "%s%s", l ? " " : "",
		    f->other);
	}
	dnsup_txtset_format(&f->txt, txts, sizeof(txts));
	/* The records found, as the prerequisite of the next UPDATE. */
	p->prereq = DNSUP_PREREQ_IS;
	p->prev = f->rrset;
	p->prev.more = false;

	if (f->rrset.more) {
		fmt(detail, len, "%s holds more than %d addresses: cannot "
		    "state them as a prerequisite", name, DNSUP_MAX_ADDRS);
		return refuse(p, DNSUP_R_NOTOWNER);
	}
	if (f->txt.more) {
		fmt(detail, len, "_failoverd.%s holds more or longer TXT "
		    "records than can be stated as a prerequisite", name);
		return refuse(p, DNSUP_R_NOTOWNER);
	}
	if (f->txt.n == 1) {
		dnsup_txt_value(&f->txt.t[0], tv, sizeof(tv));
		one_failoverd = dnsup_owner_parse(tv, &theirs) == 0;
	}
	if (one_failoverd && strcmp(theirs.controller, mine->controller) ==
	    0 && strcmp(theirs.group, mine->group) == 0) {
		if (theirs.epoch == mine->epoch &&
		    f->txt.t[0].len == strlen(mv) + 1) {
			p->verdict = DNSUP_OWN_OURS;
			p->txt_prereq = DNSUP_TXT_OURS;
			fmt(detail, len, "ours: _failoverd.%s TXT %s, %s", name,
			    txts, what);
			return may_write(name, f, want, p, detail, len);
		}
		if (theirs.epoch < mine->epoch) {
			p->verdict = DNSUP_OWN_SUPERSEDE;
			p->txt_prereq = DNSUP_TXT_WAS;
			p->txt_prev = f->txt;
			fmt(detail, len, "superseding epoch %llu: "
			    "_failoverd.%s TXT %s, %s",
			    (unsigned long long)theirs.epoch, name, txts, what);
			return may_write(name, f, want, p, detail, len);
		}
		fmt(detail, len, "%s is held by a newer epoch of this "
		    "controller: _failoverd.%s TXT %s (we are \"%s\")", name,
		    name, txts, mv);
		return refuse(p, DNSUP_R_NOTOWNER);
	}
	if (f->txt.n == 0 && !in_use) {
		dnsup_owner_plan_fresh(p);
		fmt(detail, len, "free: %s holds nothing, no _failoverd TXT",
		    name);
		return DNSUP_R_NOERROR;
	}
	if (adopt) {
		p->verdict = DNSUP_OWN_ADOPT;
		if (f->txt.n == 0)
			p->txt_prereq = DNSUP_TXT_ABSENT;
		else {
			p->txt_prereq = DNSUP_TXT_WAS;
			p->txt_prev = f->txt;
		}
		fmt(detail, len, "adopting %s (%s%s%s)", name, what,
		    f->txt.n ? ", _failoverd TXT " : "", f->txt.n ? txts : "");
		return may_write(name, f, want, p, detail, len);
	}
	if (f->txt.n > 1)
		fmt(detail, len, "%s is not ours: _failoverd.%s holds %zu TXT "
		    "records %s (we are \"%s\"); set adopt = yes to take it "
		    "over", name, name, f->txt.n, txts, mv);
	else if (f->txt.n == 1)
		fmt(detail, len, "%s is not ours: _failoverd.%s TXT %s (we are "
		    "\"%s\"); set adopt = yes to take it over", name, name,
		    txts, mv);
	else
		fmt(detail, len, "%s is not ours: it holds %s and has no "
		    "_failoverd.%s TXT record; set adopt = yes to take it over",
		    name, what, name);
	return refuse(p, DNSUP_R_NOTOWNER);
}
