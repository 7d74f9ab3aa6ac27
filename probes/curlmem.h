/*
 * curlmem.h - libcurl's memory, kept in size classes for reuse.
 *
 * libcurl 7.88 makes and frees about 25 blocks for every check, most of
 * them a few dozen bytes; glibc's per-thread cache holds 7 blocks a size
 * and the rest went through its fast bins, consolidated on every check
 * when libcurl asked for its 1.5 KiB connection struct.  At 10,000 probes
 * a sixth of the engine's CPU was malloc and free.  These functions,
 * installed with curl_global_init_mem(), keep freed blocks of up to
 * CURLMEM_MAX bytes on one last-in first-out list per glibc chunk size and
 * hand them out again: a check then allocates nothing from glibc.
 *
 * Every block is an ordinary glibc block of the size glibc would have
 * made, so there is no header, no extra memory per block, and any block
 * may still be passed to glibc's free() or realloc().  The lists belong to
 * the thread that called curlmem_global_init(); in any other thread (the
 * threaded resolver's) the functions are glibc's own.  At most
 * CURLMEM_CACHE_MAX bytes wait on the lists; beyond that a free goes to
 * glibc.  Under AddressSanitizer a waiting block is poisoned, so a use
 * after free is still reported.
 */
#ifndef FAILOVERD_PROBE_CURLMEM_H
#define FAILOVERD_PROBE_CURLMEM_H

#include <stddef.h>

#define CURLMEM_MAX		4096		/* larger blocks: glibc's */
#define CURLMEM_CACHE_MAX	(8 * 1024 * 1024)	/* bytes on the lists */

/*
 * curl_global_init_mem(flags, the functions below).  Call once, from the
 * thread that runs libcurl, before any other libcurl call (otherwise
 * libcurl keeps its own allocator and this changes nothing).  Returns
 * libcurl's CURLcode: 0 on success.
 */
int	 curlmem_global_init(long flags);
/* curl_global_cleanup(), then give every waiting block back to glibc. */
void	 curlmem_global_cleanup(void);

/* The functions themselves, for tests. */
void	*curlmem_malloc(size_t);
void	 curlmem_free(void *);
void	*curlmem_realloc(void *, size_t);
void	*curlmem_calloc(size_t, size_t);
char	*curlmem_strdup(const char *);
/* Make the calling thread the lists' owner (curlmem_global_init does). */
void	 curlmem_own(void);
/* Give every waiting block back to glibc. */
void	 curlmem_trim(void);

struct curlmem_stats {
	size_t		 cached_bytes;	/* waiting on the lists now */
	size_t		 cached_blocks;
	unsigned long long reused;	/* allocations served from a list */
	unsigned long long fresh;	/* allocations passed to glibc */
};
void	 curlmem_stats(struct curlmem_stats *);

#endif
