/*
 * api.h - the HTTP API and /metrics on the daemon's loop (libevent evhttp).
 */
#ifndef FAILOVERD_API_H
#define FAILOVERD_API_H

#include <stddef.h>

struct daemon;
struct api;

/*
 * Listen on [controller] listen, on the daemon's event base, and read the
 * api_token_file.  NULL with err on failure (the address cannot be bound).
 * A token file that cannot be used is not a failure: it is logged, and
 * every POST is refused until a reload brings a usable one.
 */
struct api	*api_new(struct daemon *, char *err, size_t errlen);
/*
 * The daemon's configuration was replaced (SIGHUP): read the token file
 * again.  The listener stays where it is (a changed listen address is
 * logged: it needs a restart).  NULL ok.
 */
void		 api_reload(struct api *);
/* Stop listening and free; no request is left waiting.  NULL ok. */
void		 api_free(struct api *);

#endif
