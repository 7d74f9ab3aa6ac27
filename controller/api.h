/*
 * api.h - the HTTP API and /metrics on the daemon's loop (libevent evhttp).
 */
#ifndef FAILOVERD_API_H
#define FAILOVERD_API_H

#include <stddef.h>

struct daemon;
struct api;

/* Listen on [controller] listen.  NULL with err on failure. */
struct api	*api_new(struct daemon *, char *err, size_t errlen);
/* Stop listening and free.  NULL ok. */
void		 api_free(struct api *);

#endif
