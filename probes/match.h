/*
 * match.h - streaming substring search: finds a needle in data that
 * arrives in chunks, across chunk boundaries, in O(total) memory-free
 * steps.  Pure; allocates only in probe_match_init().
 */
#ifndef FAILOVERD_PROBE_MATCH_H
#define FAILOVERD_PROBE_MATCH_H

#include <stdbool.h>
#include <stddef.h>

struct probe_match {
	char	*needle;	/* owned copy */
	size_t	 nlen;
	char	*carry;		/* the last nlen - 1 bytes seen */
	size_t	 ncarry;
	char	*scratch;	/* carry + head of the next chunk */
	bool	 found;
};

/* Copy needle (non-empty).  0, or -1 if out of memory. */
int	 probe_match_init(struct probe_match *, const char *needle);
/* Free what init allocated; safe twice and on a zeroed struct. */
void	 probe_match_deinit(struct probe_match *);
/* Forget what was seen (a new body starts). */
void	 probe_match_reset(struct probe_match *);
/* Feed the next chunk; true once the needle has been seen. */
bool	 probe_match_feed(struct probe_match *, const char *, size_t);

#endif
