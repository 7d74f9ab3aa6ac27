/*
 * match.c - substring search across chunk boundaries.
 *
 * A match that straddles two chunks starts in the last nlen - 1 bytes of
 * what came before and ends in the first nlen - 1 bytes of the new chunk,
 * so those two pieces, side by side in a scratch buffer, are searched
 * first, then the chunk itself.  The carry always holds the last nlen - 1
 * bytes seen, whatever the chunk sizes (down to one byte at a time).
 */
#include "probes/match.h"

#include <stdlib.h>
#include <string.h>

int
probe_match_init(struct probe_match *m, const char *needle)
{
	size_t	 n = strlen(needle);

	memset(m, 0, sizeof(*m));
	if (n == 0)
		return -1;
	m->needle = strdup(needle);
	m->carry = malloc(n);
	m->scratch = malloc(2 * n);
	if (m->needle == NULL || m->carry == NULL || m->scratch == NULL) {
		probe_match_deinit(m);
		return -1;
	}
	m->nlen = n;
	return 0;
}

void
probe_match_deinit(struct probe_match *m)
{
	free(m->needle);
	free(m->carry);
	free(m->scratch);
	m->needle = m->carry = m->scratch = NULL;
	m->nlen = m->ncarry = 0;
	m->found = false;
}

void
probe_match_reset(struct probe_match *m)
{
	m->ncarry = 0;
	m->found = false;
}

bool
probe_match_feed(struct probe_match *m, const char *data, size_t len)
{
	size_t	 keep = m->nlen - 1, head, drop;

	if (m->found || m->nlen == 0 || len == 0)
		return m->found;
	if (m->ncarry > 0) {
		head = len < keep ? len : keep;
		memcpy(m->scratch, m->carry, m->ncarry);
		memcpy(m->scratch + m->ncarry, data, head);
		if (memmem(m->scratch, m->ncarry + head, m->needle,
		    m->nlen) != NULL)
			return m->found = true;
	}
	if (memmem(data, len, m->needle, m->nlen) != NULL)
		return m->found = true;
	if (len >= keep) {
		memcpy(m->carry, data + len - keep, keep);
		m->ncarry = keep;
	} else {
		if (m->ncarry + len > keep) {
			drop = m->ncarry + len - keep;
			memmove(m->carry, m->carry + drop, m->ncarry - drop);
			m->ncarry -= drop;
		}
		memcpy(m->carry + m->ncarry, data, len);
		m->ncarry += len;
	}
	return false;
}
