/*
 * api.h - the HTTP API and /metrics on the daemon's loop (libevent evhttp).
 */
#ifndef FAILOVERD_API_H
#define FAILOVERD_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "controller/face/ops_remote.h"	/* enum ops_remote_gop */

struct api;
struct config;
struct dnsup_engine;
struct evbuffer;
struct event_base;
struct store;
struct ops_request;
struct ops_reply;
struct ops_group_spec;

/* What the daemon alone knows of a stack: its last check. */
struct api_stack_live {
	int64_t		 last_probe_ms;		/* wall; 0: none yet */
	int64_t		 last_latency_us;
	int		 last_status;		/* HTTP status, 0: none */
};

/*
 * What the shell lends the API, so that the face reads the daemon through
 * this and never includes the shell.  The pointers to pointers follow
 * what a reload replaces.  The callbacks get arg.
 */
struct api_host {
	struct event_base		 *base;
	struct config *const		 *cfg;		/* in force */
	struct store			 *store;	/* NULL in dry-run */
	struct dnsup_engine *const	 *dns;		/* in force */
	const bool			 *stopping;
	long				  nofile;	/* descriptor limit */
	void				 *arg;
	/* The daemon's own metrics (probes, groups, phases, DNS). */
	void		(*metrics)(void *arg, struct evbuffer *);
	uint64_t	(*local_faults)(void *arg);
	/* A command wrote override flags: take them now. */
	void		(*flags_changed)(void *arg);
	/* Stack s's last check; false when it has none to say. */
	bool		(*stack_live)(void *arg, int s,
			    struct api_stack_live *);
	/*
	 * A group was added, changed or deleted in the store: take it in
	 * now (*cfg is replaced before this returns).
	 */
	void		(*groups_changed)(void *arg);
	/* GET /v1/cluster: this member's view of the cluster, a new JSON
	 * object the caller frees ({"enabled":false} alone); NULL: out of
	 * memory.  NULL pointer: 404. */
	struct json_t	*(*cluster)(void *arg);
	/*
	 * A command (pause ... switch), in a cluster: 1, apply it here as
	 * alone; 0, it was given to the leader and done(reply, leader,
	 * ctx) comes later, once (reply and leader borrowed for the call);
	 * -1, it could not be given (*now says why).  NULL: always here.
	 */
	int		(*command)(void *arg, const struct ops_request *,
			    void (*done)(const struct ops_reply *,
			    const char *leader, uint64_t epoch, void *ctx),
			    void *ctx, struct ops_reply *now);
	/* The same for a group made at run time, spec as ops_group.h's. */
	int		(*group)(void *arg, enum ops_remote_gop,
			    const struct ops_group_spec *,
			    void (*done)(const struct ops_reply *,
			    const char *leader, uint64_t epoch, void *ctx),
			    void *ctx, struct ops_reply *now);
};

/*
 * Listen on [controller] listen, on the daemon's event base, and read the
 * api_token_file.  NULL with err on failure (the address cannot be bound).
 * A token file that cannot be used is not a failure: it is logged, and
 * every POST is refused until a reload brings a usable one.
 */
struct api	*api_new(const struct api_host *, char *err, size_t errlen);
/*
 * The daemon's configuration was replaced (SIGHUP): read the token file
 * again.  The listener stays where it is (a changed listen address is
 * logged: it needs a restart).  NULL ok.
 */
void		 api_reload(struct api *);
/* Stop listening and free; no request is left waiting.  NULL ok. */
void		 api_free(struct api *);

#endif
