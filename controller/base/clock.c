/*
 * clock.c - the monotonic and the wall clock (clock.h).
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "controller/base/clock.h"

int64_t
clock_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The test switch FAILOVERD_TEST_CLOCK_FILE: see clock.h. */
static int64_t
wall_offset_ms(void)
{
	static const char *path;
	static bool looked;
	static int64_t offset, read_at;
	static bool have_read;
	int64_t mono;
	FILE *f;

	if (!looked) {
		path = getenv("FAILOVERD_TEST_CLOCK_FILE");
		looked = true;
	}
	if (path == NULL)
		return 0;
	mono = clock_mono_ms();
	if (have_read && mono - read_at < 20)
		return offset;
	have_read = true;
	read_at = mono;
	if ((f = fopen(path, "re")) != NULL) {
		long long v;

		if (fscanf(f, "%lld", &v) == 1)
			offset = v;
		fclose(f);
	}
	return offset;
}

int64_t
clock_wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 +
	    wall_offset_ms();
}

