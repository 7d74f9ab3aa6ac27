/*
 * curlmem.c - libcurl's memory, kept in size classes for reuse.
 *
 * A class is a glibc chunk size (a multiple of 16, at least 32): a request
 * of n bytes gets the class glibc would give it, and a new block is made
 * with the whole usable size of its class (chunk - 8), which is exactly
 * the chunk glibc makes for n.  A freed block's class comes back from
 * malloc_usable_size(), so blocks carry no header; a block whose usable
 * size is not that of its class (made by glibc for someone else, or under
 * AddressSanitizer, which reports the size asked for) goes to glibc.
 *
 * Measured with tests/bench (probe_benchrun, 10,000 endpoints at 1 s,
 * against the same binary with glibc's allocator, both at once on one
 * CPU): CPU per check down by a sixth.  Raising glibc's tcache to 200
 * blocks a size (GLIBC_TUNABLES) gave half of that; it cannot be set from
 * the program.
 */
#include "probes/curlmem.h"

#include <malloc.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CURLMEM_ASAN	1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) && !defined(CURLMEM_ASAN)
#define CURLMEM_ASAN	1
#endif
#ifdef CURLMEM_ASAN
#include <sanitizer/asan_interface.h>
#define POISON(p, n)	ASAN_POISON_MEMORY_REGION((p), (n))
#define UNPOISON(p, n)	ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define POISON(p, n)	((void)(p), (void)(n))
#define UNPOISON(p, n)	((void)(p), (void)(n))
#endif

/* glibc on 64-bit: 16-byte chunks of at least 32, 8 bytes of them its. */
#define CHUNK_ALIGN	16
#define CHUNK_MIN	32
#define CHUNK_OVERHEAD	8
#define NCLASS		((CURLMEM_MAX + CHUNK_OVERHEAD + CHUNK_ALIGN - 1) / \
			    CHUNK_ALIGN + 1)

struct blk {
	struct blk	*next;
};

static struct blk	*lists[NCLASS];
static size_t		 cached_bytes, cached_blocks;
static unsigned long long reused, fresh;
static _Thread_local bool owner;

static size_t	 class_of(size_t);

/* The chunk glibc makes for n bytes, in units of CHUNK_ALIGN. */
static size_t
class_of(size_t n)
{
	size_t	 chunk = (n + CHUNK_OVERHEAD + CHUNK_ALIGN - 1) &
		    ~(size_t)(CHUNK_ALIGN - 1);

	return (chunk < CHUNK_MIN ? CHUNK_MIN : chunk) / CHUNK_ALIGN;
}

void
curlmem_own(void)
{
	owner = true;
}

void *
curlmem_malloc(size_t n)
{
	struct blk	*b;
	size_t		 k, usable;

	if (!owner || n > CURLMEM_MAX)
		return malloc(n);
	k = class_of(n);
	usable = k * CHUNK_ALIGN - CHUNK_OVERHEAD;
	if ((b = lists[k]) != NULL) {
		UNPOISON(b, usable);
		lists[k] = b->next;
		cached_bytes -= k * CHUNK_ALIGN;
		cached_blocks--;
		reused++;
		return b;
	}
	fresh++;
	return malloc(usable);
}

void
curlmem_free(void *p)
{
	struct blk	*b = p;
	size_t		 k, usable;

	if (p == NULL)
		return;
	if (!owner) {
		free(p);
		return;
	}
	usable = malloc_usable_size(p);
	k = class_of(usable);
	if (usable > CURLMEM_MAX ||
	    usable != k * CHUNK_ALIGN - CHUNK_OVERHEAD ||
	    cached_bytes + k * CHUNK_ALIGN > CURLMEM_CACHE_MAX) {
		free(p);
		return;
	}
	b->next = lists[k];
	lists[k] = b;
	cached_bytes += k * CHUNK_ALIGN;
	cached_blocks++;
	POISON(b, usable);
}

void *
curlmem_realloc(void *p, size_t n)
{
	void	*q;
	size_t	 usable;

	if (p == NULL)
		return curlmem_malloc(n);
	if (!owner || n > CURLMEM_MAX)
		return realloc(p, n);
	usable = malloc_usable_size(p);
	if (n <= usable)
		return p;
	if ((q = curlmem_malloc(n)) == NULL)
		return NULL;
	memcpy(q, p, usable);
	curlmem_free(p);
	return q;
}

void *
curlmem_calloc(size_t n, size_t size)
{
	void	*p;

	if (size != 0 && n > SIZE_MAX / size)
		return NULL;
	if ((p = curlmem_malloc(n * size)) != NULL)
		memset(p, 0, n * size);
	return p;
}

char *
curlmem_strdup(const char *s)
{
	size_t	 n = strlen(s) + 1;
	char	*p;

	if ((p = curlmem_malloc(n)) != NULL)
		memcpy(p, s, n);
	return p;
}

void
curlmem_trim(void)
{
	struct blk	*b;
	size_t		 k;

	for (k = 0; k < NCLASS; k++) {
		while ((b = lists[k]) != NULL) {
			UNPOISON(b, k * CHUNK_ALIGN - CHUNK_OVERHEAD);
			lists[k] = b->next;
			free(b);
		}
	}
	cached_bytes = cached_blocks = 0;
}

int
curlmem_global_init(long flags)
{
	curlmem_own();
	return (int)curl_global_init_mem(flags, curlmem_malloc, curlmem_free,
	    curlmem_realloc, curlmem_strdup, curlmem_calloc);
}

void
curlmem_global_cleanup(void)
{
	curl_global_cleanup();
	curlmem_trim();
}

void
curlmem_stats(struct curlmem_stats *st)
{
	st->cached_bytes = cached_bytes;
	st->cached_blocks = cached_blocks;
	st->reused = reused;
	st->fresh = fresh;
}
