/*
 * api.c - the HTTP API (placeholder until the operators' issue lands: the
 * listener is not opened yet).
 */
#include "controller/api.h"

#include <stdlib.h>

struct api {
	struct daemon	*d;
};

struct api *
api_new(struct daemon *d, char *err, size_t errlen)
{
	struct api *a = calloc(1, sizeof(*a));

	if (a != NULL)
		a->d = d;
	return a;
}

void
api_free(struct api *a)
{
	free(a);
}
