/*
 * quorum.c - the quorum rule (quorum.h): count live votes per side
 * against the required number.  O(n log n) in the votes, with n at most
 * QUORUM_MAX_VOTES; the duplicate check sorts the names once.
 */
#include "controller/core/quorum.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

size_t
quorum_required(const struct cfg_quorum *q, size_t live)
{
	size_t r;

	switch (q->kind) {
	case CFG_QUORUM_ALL:
		r = live;
		break;
	case CFG_QUORUM_COUNT:
		r = q->n > 0 ? (size_t)q->n : 1;
		break;
	case CFG_QUORUM_MAJORITY:
	default:
		r = live / 2 + 1;
		break;
	}
	return r > 0 ? r : 1;
}

static int
cmp_name(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/* The checks of quorum_decide(); names sorted into tmp. */
static int
check_votes(const struct cfg_quorum *q, const struct quorum_vote *v,
    size_t n, const char **tmp)
{
	if (q == NULL || (v == NULL && n > 0) || n > QUORUM_MAX_VOTES)
		return QUORUM_E_INVALID;
	if (q->kind != CFG_QUORUM_MAJORITY && q->kind != CFG_QUORUM_ALL &&
	    (q->kind != CFG_QUORUM_COUNT || q->n < 1))
		return QUORUM_E_INVALID;
	for (size_t i = 0; i < n; i++) {
		if (v[i].member == NULL || v[i].member[0] == '\0' ||
		    (v[i].view != QUORUM_V_UNKNOWN && v[i].view != QUORUM_V_UP &&
		    v[i].view != QUORUM_V_DOWN))
			return QUORUM_E_INVALID;
		tmp[i] = v[i].member;
	}
	qsort(tmp, n, sizeof(*tmp), cmp_name);
	for (size_t i = 1; i < n; i++)
		if (strcmp(tmp[i - 1], tmp[i]) == 0)
			return QUORUM_E_DUPLICATE;
	return 0;
}

int
quorum_decide(const struct cfg_quorum *q, const struct quorum_vote *v,
    size_t n, struct quorum_result *out)
{
	const char *names[QUORUM_MAX_VOTES];
	int64_t since[QUORUM_MAX_VOTES];
	enum quorum_view side;
	size_t k = 0;
	int rc;

	if (out == NULL)
		return QUORUM_E_INVALID;
	memset(out, 0, sizeof(*out));
	if ((rc = check_votes(q, v, n, names)) != 0)
		return rc;
	for (size_t i = 0; i < n; i++) {
		if (!v[i].live) {
			out->dead++;
			continue;
		}
		out->live++;
		if (v[i].view == QUORUM_V_UP)
			out->up++;
		else if (v[i].view == QUORUM_V_DOWN)
			out->down++;
		else
			out->unknown++;
		if (out->live == 1 || v[i].since_ms > out->since_ms)
			out->since_ms = v[i].since_ms;
	}
	out->required = quorum_required(q, out->live);
	/* Down first: see "down wins" in quorum.h. */
	if (out->down >= out->required) {
		out->decision = QUORUM_DOWN;
		side = QUORUM_V_DOWN;
	} else if (out->up >= out->required) {
		out->decision = QUORUM_UP;
		side = QUORUM_V_UP;
	} else
		return 0;
	for (size_t i = 0; i < n; i++)
		if (v[i].live && v[i].view == side)
			since[k++] = v[i].since_ms;
	qsort(since, k, sizeof(*since), cmp_i64);
	out->since_ms = since[out->required - 1];
	return 0;
}

/* Append the sorted names of the votes matching (live, view) as one
   comma list, "-" when none. */
static int
put_list(FILE *f, const struct quorum_vote *v, size_t n, bool live,
    enum quorum_view view, bool any_view, const char **tmp)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		if (v[i].live == live && (any_view || v[i].view == view))
			tmp[k++] = v[i].member;
	qsort(tmp, k, sizeof(*tmp), cmp_name);
	if (k == 0)
		return fputs("-", f) < 0 ? -1 : 0;
	for (size_t i = 0; i < k; i++)
		if (fprintf(f, "%s%s", i ? "," : "", tmp[i]) < 0)
			return -1;
	return 0;
}

int
quorum_format(const struct cfg_quorum *q, const struct quorum_vote *v,
    size_t n, const struct quorum_result *r, char *buf, size_t len)
{
	const char *tmp[QUORUM_MAX_VOTES];
	char qbuf[16], *text = NULL;
	size_t tlen = 0;
	FILE *f;
	int rc = -1;

	if (q == NULL || r == NULL || (v == NULL && n > 0) ||
	    n > QUORUM_MAX_VOTES || (buf == NULL && len > 0))
		return -1;
	for (size_t i = 0; i < n; i++)
		if (v[i].member == NULL)
			return -1;
	if ((f = open_memstream(&text, &tlen)) == NULL)
		return -1;
	if (fprintf(f, "decision=%s quorum=%s required=%zu live=%zu down=",
	    quorum_decision_name(r->decision), cfg_quorum_name(q, qbuf,
	    sizeof(qbuf)), r->required, r->live) < 0 ||
	    put_list(f, v, n, true, QUORUM_V_DOWN, false, tmp) == -1 ||
	    fputs(" up=", f) < 0 ||
	    put_list(f, v, n, true, QUORUM_V_UP, false, tmp) == -1 ||
	    fputs(" unknown=", f) < 0 ||
	    put_list(f, v, n, true, QUORUM_V_UNKNOWN, false, tmp) == -1 ||
	    fputs(" dead=", f) < 0 ||
	    put_list(f, v, n, false, QUORUM_V_UNKNOWN, true, tmp) == -1) {
		fclose(f);
		goto out;
	}
	if (fclose(f) != 0)
		goto out;
	if (len > 0)
		snprintf(buf, len, "%s", text);
	rc = tlen > (size_t)INT32_MAX ? -1 : (int)tlen;
out:
	free(text);
	return rc;
}

const char *
quorum_decision_name(enum quorum_decision d)
{
	switch (d) {
	case QUORUM_UP:
		return "up";
	case QUORUM_DOWN:
		return "down";
	default:
		return "no_quorum";
	}
}

const char *
quorum_view_name(enum quorum_view v)
{
	switch (v) {
	case QUORUM_V_UP:
		return "up";
	case QUORUM_V_DOWN:
		return "down";
	default:
		return "unknown";
	}
}

int
quorum_view_parse(const char *s)
{
	if (s == NULL)
		return -1;
	if (strcmp(s, "unknown") == 0)
		return QUORUM_V_UNKNOWN;
	if (strcmp(s, "up") == 0)
		return QUORUM_V_UP;
	if (strcmp(s, "down") == 0)
		return QUORUM_V_DOWN;
	return -1;
}

const char *
quorum_strerror(int err)
{
	switch (err) {
	case 0:
		return "ok";
	case QUORUM_E_INVALID:
		return "invalid votes or quorum";
	case QUORUM_E_DUPLICATE:
		return "a member votes twice";
	default:
		return "unknown error";
	}
}
