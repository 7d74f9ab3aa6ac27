/*
 * api_int.h - what the API's files share: the server's state, one request
 * as a handler sees it, the replies, and the handlers the route table in
 * api.c names.  api.c is the server (routing, authorization, Host, set-up,
 * /metrics, /healthz); api_v1.c the JSON resources and commands of /v1;
 * api_page.c the dashboard's routes; api_groups.c groups made at run time.
 * Not for the API's users, who see api.h.
 */
#ifndef FAILOVERD_API_INT_H
#define FAILOVERD_API_INT_H

#include <sys/socket.h>

#include <stdbool.h>
#include <stdint.h>

#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>
#include <openssl/sha.h>

#include "config/config.h"
#include "controller/face/api.h"
#include "controller/face/ops.h"

#define API_BODY_MAX		(16 * 1024)
#define API_HEADERS_MAX		(8 * 1024)
#define API_DEADLINE_S		5	/* a whole request, DESIGN.md */
#define API_TOKEN_MAX		4096	/* longest token, bytes */
#define API_SEGS_MAX		6
#define API_NAME_MAX		256
#define API_EVENTS_DEFAULT	100	/* GET /v1/events without limit */
#define API_EVENTS_MAX		10000

/* Methods a route may take (a subset of enum evhttp_cmd_type). */
#define M_GET	(EVHTTP_REQ_GET | EVHTTP_REQ_HEAD)
#define M_POST	EVHTTP_REQ_POST

enum api_token_state {
	TOKEN_NONE = 0,		/* no api_token_file configured */
	TOKEN_OK,
	TOKEN_BAD,		/* configured but unusable */
};

struct api {
	struct api_host		 h;		/* what the shell lends */
	struct evhttp		*http;
	struct api_conns	*conns;		/* api_conn.c */
	struct api_dash		*dash;		/* api_dash.c */
	struct cfg_hostport	 bound;		/* what we listen on */
	uint16_t		 port;		/* bound, even for port 0 */
	struct sockaddr_storage	 bound_sa;
	bool			 wildcard;	/* 0.0.0.0 or :: */
	char			 where[96];	/* "127.0.0.1:8053" */

	/* GET /v1/history/verify: the last check of the chain. */
	uint64_t		 verify_seq;	/* newest seq it covered */
	int64_t			 verify_mono;	/* when, 0: never */
	uint64_t		 verify_bad, verify_count;
	char			 verify_detail[256];

	/* The token, as a digest; see the top of the file. */
	const struct config	*token_cfg;	/* read for this one */
	enum api_token_state	 token_state;
	unsigned char		 token_sha[SHA256_DIGEST_LENGTH];
};

/* One request as the handlers see it. */
struct call {
	struct api		*a;
	struct evhttp_request	*req;
	enum evhttp_cmd_type	 method;
	const char		*path;		/* raw, for the log */
	int			 nseg;
	char			*seg[API_SEGS_MAX];	/* decoded */
	struct evkeyvalq	 query;
};

typedef void api_handler(struct call *);

/* The replies (api.c): each handler ends in exactly one. */
const char *api_peer_of(struct evhttp_request *, char *buf, size_t len);
void	 api_log_reply(struct call *, int code, const char *why);
void	 api_reply_json(struct call *, int code, json_t *v);	/* takes v */
void	 api_reply_error(struct call *, int code, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

/* api_v1.c */
/* The store behind ops.h; false (503 sent) when there is none (dry-run). */
bool	 api_have_store(struct call *);
/* The HTTP status of an ops outcome (200, 409, 404, 400, 500). */
int	 api_outcome_status(enum ops_outcome);
bool	 api_query_u64(struct call *, const char *key, uint64_t *out);
/* The request's JSON body, or NULL: *bad (reply sent) or no body. */
json_t	*api_body_json(struct call *, bool *bad);
api_handler api_h_groups, api_h_group, api_h_stack, api_h_stacks,
	    api_h_failover_status, api_h_events, api_h_command;

/* api_page.c: the dashboard's routes, and the live fields of a group. */
void	 api_live_fields(struct api *, json_t *group);
api_handler api_h_page, api_h_plan, api_h_dns, api_h_stream, api_h_verify;

/* api_groups.c: groups made at run time (ops_group.h). */
api_handler api_h_group_add, api_h_group_set, api_h_group_del;

/*
 * api_remote.c: on a member that does not lead, give the command RQ (or
 * the group change GOP) to the leader and answer
 * when it does.  1: not handed over, apply it here; 0: answered, or to be.
 */
int	 api_cmd_remote(struct call *, const struct ops_request *,
	    struct ops_reply *);
int	 api_group_remote(struct call *, enum ops_remote_gop,
	    const struct ops_group_spec *);

#endif
