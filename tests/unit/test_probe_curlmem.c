/*
 * test_probe_curlmem.c - the size-class cache behind libcurl's memory:
 * blocks come back for the same class, every size gets at least what it
 * asked for, realloc keeps the contents, calloc zeroes reused blocks, the
 * cache stays under its cap, other threads never touch the lists, and
 * libcurl runs on it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <malloc.h>
#include <pthread.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "probes/curlmem.h"

static int
setup(void **state)
{
	(void)state;
	curlmem_own();
	curlmem_trim();
	return 0;
}

static void
test_same_class_reused(void **state)
{
	struct curlmem_stats	 st0, st1;
	void			*p, *q;

	(void)state;
	p = curlmem_malloc(100);
	assert_non_null(p);
	curlmem_free(p);
	curlmem_stats(&st0);
	assert_int_equal(st0.cached_blocks, 1);
	/* 90 and 100 bytes are one glibc chunk size: the same block. */
	q = curlmem_malloc(90);
	assert_ptr_equal(q, p);
	curlmem_stats(&st1);
	assert_int_equal(st1.cached_blocks, 0);
	assert_int_equal(st1.reused, st0.reused + 1);
	curlmem_free(q);
	curlmem_free(NULL);
	curlmem_trim();
	curlmem_stats(&st1);
	assert_int_equal(st1.cached_bytes, 0);
	assert_int_equal(st1.cached_blocks, 0);
}

static void
test_every_size(void **state)
{
	unsigned char	*p[3];
	size_t		 n, i;

	(void)state;
	/* Twice over: fresh blocks, then blocks from the lists. */
	for (i = 0; i < 2; i++) {
		for (n = 0; n <= CURLMEM_MAX + 64; n++) {
			p[0] = curlmem_malloc(n);
			p[1] = curlmem_malloc(n);
			p[2] = curlmem_malloc(n);
			assert_non_null(p[0]);
			assert_true(p[0] != p[1] && p[1] != p[2]);
			assert_true(malloc_usable_size(p[0]) >= n);
			assert_int_equal((uintptr_t)p[0] % 16, 0);
			memset(p[0], 0xab, n);
			memset(p[1], 0xcd, n);
			memset(p[2], 0xef, n);
			if (n > 0)
				assert_int_equal(p[0][n - 1], 0xab);
			curlmem_free(p[1]);
			curlmem_free(p[0]);
			curlmem_free(p[2]);
		}
	}
	curlmem_trim();
}

static void
test_realloc_keeps_contents(void **state)
{
	unsigned char	*p, *q;
	size_t		 n, prev = 0, i;

	(void)state;
	p = NULL;
	for (n = 1; n <= 3 * CURLMEM_MAX; n = n * 3 / 2 + 1) {
		q = curlmem_realloc(p, n);
		assert_non_null(q);
		for (i = 0; i < prev; i++)
			assert_int_equal(q[i], (unsigned char)i);
		for (i = prev; i < n; i++)
			q[i] = (unsigned char)i;
		p = q;
		prev = n;
	}
	/* Shrinking keeps what is left. */
	q = curlmem_realloc(p, 10);
	assert_non_null(q);
	for (i = 0; i < 10; i++)
		assert_int_equal(q[i], (unsigned char)i);
	curlmem_free(q);
	curlmem_trim();
}

static void
test_calloc_and_strdup(void **state)
{
	unsigned char	*p;
	char		*s;
	size_t		 i;

	(void)state;
	p = curlmem_malloc(200);
	memset(p, 0xff, 200);
	curlmem_free(p);
	p = curlmem_calloc(20, 10);	/* the same block, dirty */
	assert_non_null(p);
	for (i = 0; i < 200; i++)
		assert_int_equal(p[i], 0);
	curlmem_free(p);
	assert_null(curlmem_calloc(SIZE_MAX / 2, 3));
	s = curlmem_strdup("failoverd");
	assert_string_equal(s, "failoverd");
	curlmem_free(s);
	s = curlmem_strdup("");
	assert_string_equal(s, "");
	curlmem_free(s);
	curlmem_trim();
}

static void
test_cache_capped(void **state)
{
	struct curlmem_stats	 st;
	void			**v;
	size_t			 n = 2 * CURLMEM_CACHE_MAX / 1024, i;

	(void)state;
	v = calloc(n, sizeof(*v));
	assert_non_null(v);
	for (i = 0; i < n; i++)
		assert_non_null(v[i] = curlmem_malloc(1000));
	for (i = 0; i < n; i++)
		curlmem_free(v[i]);
	curlmem_stats(&st);
	assert_true(st.cached_bytes <= CURLMEM_CACHE_MAX);
	assert_true(st.cached_bytes > CURLMEM_CACHE_MAX - 4096);
	curlmem_trim();
	free(v);
}

static void *
other_thread(void *arg)
{
	void	**blocks = arg;

	curlmem_free(blocks[0]);		/* made by the owner */
	blocks[1] = curlmem_malloc(100);	/* freed by the owner */
	blocks[2] = curlmem_realloc(curlmem_malloc(10), 5000);
	curlmem_free(curlmem_strdup("resolver"));
	return NULL;
}

static void
test_other_threads_pass_through(void **state)
{
	struct curlmem_stats	 st0, st1;
	pthread_t		 t;
	void			*blocks[3];

	(void)state;
	blocks[0] = curlmem_malloc(100);
	curlmem_stats(&st0);
	assert_int_equal(pthread_create(&t, NULL, other_thread, blocks), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
	curlmem_stats(&st1);
	assert_int_equal(st1.cached_blocks, st0.cached_blocks);
	assert_int_equal(st1.reused + st1.fresh, st0.reused + st0.fresh);
	curlmem_free(blocks[1]);	/* a glibc block: cached or freed */
	curlmem_free(blocks[2]);
	curlmem_trim();
}

static void
test_libcurl_on_it(void **state)
{
	struct curlmem_stats	 st;
	CURL			*h;
	CURLU			*u;
	char			*s = NULL;
	int			 i;

	(void)state;
	assert_int_equal(curlmem_global_init(CURL_GLOBAL_DEFAULT), 0);
	for (i = 0; i < 3; i++) {
		assert_non_null(h = curl_easy_init());
		assert_non_null(u = curl_url());
		assert_int_equal(curl_url_set(u, CURLUPART_URL,
		    "http://127.0.0.1:8080/health?x=1", 0), CURLUE_OK);
		assert_int_equal(curl_url_get(u, CURLUPART_PATH, &s, 0),
		    CURLUE_OK);
		assert_string_equal(s, "/health");
		curl_free(s);
		assert_int_equal(curl_easy_setopt(h, CURLOPT_CURLU, u),
		    CURLE_OK);
		curl_easy_cleanup(h);
		curl_url_cleanup(u);
	}
	curlmem_stats(&st);
	assert_true(st.reused > 0);
	curlmem_global_cleanup();
	curlmem_stats(&st);
	assert_int_equal(st.cached_blocks, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_same_class_reused, setup),
		cmocka_unit_test_setup(test_every_size, setup),
		cmocka_unit_test_setup(test_realloc_keeps_contents, setup),
		cmocka_unit_test_setup(test_calloc_and_strdup, setup),
		cmocka_unit_test_setup(test_cache_capped, setup),
		cmocka_unit_test_setup(test_other_threads_pass_through, setup),
		cmocka_unit_test_setup(test_libcurl_on_it, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
