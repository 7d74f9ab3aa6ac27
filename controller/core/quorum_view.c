/*
 * quorum_view.c - struct eng_quorum from the votes (quorum_view.h).
 */
#include "controller/core/quorum_view.h"

#include <stdio.h>
#include <string.h>

/* The names of the live votes with view, sorted, comma-joined ("-" for
   none) into buf.  Few names: an insertion sort. */
static void
join(const struct quorum_vote *v, size_t n, enum quorum_view view, char *buf,
    size_t len)
{
	const char *t[QUORUM_MAX_VOTES];
	size_t k = 0, off = 0;

	for (size_t i = 0; i < n && k < QUORUM_MAX_VOTES; i++)
		if (v[i].live && v[i].view == view)
			t[k++] = v[i].member;
	for (size_t i = 1; i < k; i++)
		for (size_t j = i; j > 0 && strcmp(t[j - 1], t[j]) > 0; j--) {
			const char *x = t[j];

			t[j] = t[j - 1];
			t[j - 1] = x;
		}
	snprintf(buf, len, "-");
	for (size_t i = 0; i < k && off < len; i++) {
		int w = snprintf(buf + off, len - off, "%s%s", i ? "," : "",
		    t[i]);

		if (w < 0)
			break;
		off += (size_t)w;
	}
}

void
quorum_view_build(const struct cfg_quorum *q, const struct quorum_vote *v,
    size_t n, struct eng_quorum *out, struct quorum_result *rp)
{
	struct quorum_result r;

	if (quorum_decide(q, v, n, &r) != 0)
		memset(&r, 0, sizeof(r));
	memset(out, 0, sizeof(*out));
	out->decision = r.decision;
	out->required = r.required;
	out->live = r.live;
	out->up = r.up;
	out->down = r.down;
	out->unknown = r.unknown;
	join(v, n, QUORUM_V_UP, out->seen_up, sizeof(out->seen_up));
	join(v, n, QUORUM_V_DOWN, out->seen_down, sizeof(out->seen_down));
	join(v, n, QUORUM_V_UNKNOWN, out->seen_unknown,
	    sizeof(out->seen_unknown));
	if (rp != NULL)
		*rp = r;
}
