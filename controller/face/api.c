/*
 * api.c - the HTTP API, /metrics and /healthz on the daemon's loop
 * (libevent evhttp).
 *
 * Routing.  evhttp matches callbacks on exact paths only, and most routes
 * carry a name (/v1/groups/NAME/pause), so one general callback splits the
 * path into segments (each one percent-decoded on its own, so that "%2F"
 * stays inside a name) and looks them up in the route table below.  A path
 * that matches no row is 404; a path that matches with a method the row
 * does not take is 405 with Allow.  Every handler ends in exactly one
 * reply (evhttp_send_reply or evhttp_send_error), as libevent's
 * sample/http-server.c does; every request is answered at once, nothing is
 * held across loop turns, so api_free() never leaves a request waiting.
 *
 * Authorization.  Every POST, PATCH and DELETE carries "Authorization: Bearer TOKEN", TOKEN
 * being the first line of [controller] api_token_file.  The file is read
 * at start and again when the configuration in force changes (reload);
 * one that group or others may read is refused, as the TSIG key file is.
 * The presented token and the stored one are compared as SHA-256 digests
 * with CRYPTO_memcmp, so the time taken reveals neither the token's bytes
 * nor its length.  No token file configured: every POST is 403; missing
 * or wrong token: 401; in neither case is anything changed.
 *
 * Bounds: the body (16 KiB) and the headers (8 KiB) are limited by evhttp
 * itself (413).  Connections are api_conn.c's: at most
 * api_max_connections at once (more are answered 503 and closed), a whole
 * request within API_DEADLINE_S, accepting paused while the host has no
 * descriptor, evhttp's own error answers made JSON, all at the lowest
 * priority of the loop.  Every line an unauthenticated client can cause
 * goes through a limiter (log.h).
 *
 * Host.  A web page on a name its author controls can have that name
 * resolve to 127.0.0.1 (DNS rebinding), and then read what the browser
 * reads there: the API's GETs.  Its requests carry that name in Host, so
 * a request is answered only when its Host names this API: the listen
 * address (for a wildcard listen: the address the client connected to),
 * localhost when listening on loopback, or an [controller] api_host, with
 * the listen port or none.  Any other is 421.  A request without Host
 * (HTTP/1.0) names nothing to rebind and is answered.
 *
 * Commands and the JSON of the GET endpoints come from ops.h, the one
 * implementation shared with failoverctl; /metrics and /healthz are here.
 */
#include "controller/face/api.h"

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "config/config.h"
#include "controller/base/clock.h"
#include "controller/face/api_conn.h"
#include "controller/face/api_dash.h"
#include "controller/base/prom.h"
#include "controller/core/engine.h"
#include "controller/base/guard.h"
#include "controller/core/health.h"
#include "controller/base/log.h"
#include "controller/face/ops.h"
#include "controller/face/ops_group.h"
#include "dnsupdate/dnsup_msg.h"
#include "probes/probe.h"

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

struct route {
	const char	*pat[API_SEGS_MAX];	/* "*": any one segment */
	int		 methods;
	api_handler	*fn;
};

static void	 request_cb(struct evhttp_request *, void *);
static void	 request_handle(struct api *, struct evhttp_request *);
static api_handler h_healthz, h_metrics, h_groups, h_group, h_stacks,
		    h_stack, h_events, h_command, h_failover_status;
/* The dashboard's routes (issue 16), at the end of the file. */
static api_handler h_page, h_plan, h_dns, h_stream, h_verify;
/* Groups made at run time (ops_group.h), at the end of the file. */
static api_handler h_group_add, h_group_set, h_group_del;
/* The cluster (issue 14), at the end of the file. */
static api_handler h_cluster;
static void	 live_fields(struct api *, json_t *);

static const struct route routes[] = {
	{ { "healthz" }, M_GET, h_healthz },
	{ { "metrics" }, M_GET, h_metrics },
	{ { "v1", "groups" }, M_GET, h_groups },
	{ { "v1", "groups", "*" }, M_GET, h_group },
	{ { "v1", "groups", "*", "switch" }, M_POST, h_command },
	{ { "v1", "groups", "*", "pause" }, M_POST, h_command },
	{ { "v1", "groups", "*", "resume" }, M_POST, h_command },
	{ { "v1", "groups", "*", "pin" }, M_POST, h_command },
	{ { "v1", "groups", "*", "unpin" }, M_POST, h_command },
	{ { "v1", "groups", "*", "rearm" }, M_POST, h_command },
	{ { "v1", "stacks" }, M_GET, h_stacks },
	{ { "v1", "stacks", "*" }, M_GET, h_stack },
	{ { "v1", "stacks", "*", "failover-status" }, M_GET, h_failover_status },
	{ { "v1", "events" }, M_GET, h_events },
	/* The dashboard (api_dash.c) */
	{ { NULL }, M_GET, h_page },
	{ { "v1", "groups", "*", "plan" }, M_GET, h_plan },
	{ { "v1", "groups", "*", "dns" }, M_GET, h_dns },
	{ { "v1", "events", "stream" }, M_GET, h_stream },
	{ { "v1", "history", "verify" }, M_GET, h_verify },
	/* Groups made at run time */
	{ { "v1", "groups" }, M_POST, h_group_add },
	{ { "v1", "groups", "*" }, EVHTTP_REQ_PATCH, h_group_set },
	{ { "v1", "groups", "*" }, EVHTTP_REQ_DELETE, h_group_del },
	/* The cluster */
	{ { "v1", "cluster" }, M_GET, h_cluster },
};

/* ---- replies ---- */

static const char *
method_name(enum evhttp_cmd_type m)
{
	switch (m) {
	case EVHTTP_REQ_GET:		return "GET";
	case EVHTTP_REQ_POST:		return "POST";
	case EVHTTP_REQ_HEAD:		return "HEAD";
	case EVHTTP_REQ_PUT:		return "PUT";
	case EVHTTP_REQ_DELETE:		return "DELETE";
	case EVHTTP_REQ_OPTIONS:	return "OPTIONS";
	case EVHTTP_REQ_TRACE:		return "TRACE";
	case EVHTTP_REQ_CONNECT:	return "CONNECT";
	case EVHTTP_REQ_PATCH:		return "PATCH";
	}
	return "?";
}

static const char *
peer_of(struct evhttp_request *req, char *buf, size_t len)
{
	struct evhttp_connection *c = evhttp_request_get_connection(req);
	const char *host = NULL;
	ev_uint16_t port = 0;

	if (c != NULL)
		evhttp_connection_get_peer(c, (char **)&host, &port);
	snprintf(buf, len, "%s:%u", host != NULL ? host : "-", port);
	return buf;
}

static const char *
reason_phrase(int code)
{
	switch (code) {
	case 200:	return "OK";
	case 201:	return "Created";
	case 202:	return "Accepted";
	case 204:	return "No Content";
	case 400:	return "Bad Request";
	case 401:	return "Unauthorized";
	case 403:	return "Forbidden";
	case 404:	return "Not Found";
	case 405:	return "Method Not Allowed";
	case 409:	return "Conflict";
	case 421:	return "Misdirected Request";
	case 413:	return "Payload Too Large";
	case 415:	return "Unsupported Media Type";
	case 500:	return "Internal Server Error";
	case 503:	return "Service Unavailable";
	}
	return "Error";
}

/*
 * Debug for every answer; info for a refusal (4xx but 404, and 503); error
 * for a failure of ours (500).
 */
static void
log_reply(struct call *c, int code, const char *why)
{
	/* Any client may cause these: limited (log.h). */
	static struct log_rl rl_error = LOG_RL_INIT("api_error");
	static struct log_rl rl_refused = LOG_RL_INIT("api_refused");
	static struct log_rl rl_debug = LOG_RL_INIT("api_request");
	char peer[80];

	if (code >= 400 && code != 404) {
		if (!log_rl_allow(code == 500 ? &rl_error : &rl_refused))
			return;
		if (code == 500)
			log_error("api_error", "method=%s path=%s http_status=%d"
			    " peer=%s detail=%s", method_name(c->method),
			    log_q(c->path), code, peer_of(c->req, peer,
			    sizeof(peer)), log_q(why));
		else
			log_info("api_refused", "method=%s path=%s http_status=%d"
			    " peer=%s detail=%s", method_name(c->method),
			    log_q(c->path), code, peer_of(c->req, peer,
			    sizeof(peer)), log_q(why));
	} else if (log_get_level() >= LOGL_DEBUG && log_rl_allow(&rl_debug))
		log_debug("api_request", "method=%s path=%s http_status=%d peer=%s",
		    method_name(c->method), log_q(c->path), code,
		    peer_of(c->req, peer, sizeof(peer)));
}

/* Send a JSON value (reference stolen) with code. */
static void
reply_json(struct call *c, int code, json_t *v)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(c->req);
	struct evbuffer *b = evhttp_request_get_output_buffer(c->req);
	char *s = NULL;

	if (v != NULL)
		s = json_dumps(v, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(v);
	if (s == NULL) {
		log_reply(c, 500, "out of memory");
		evhttp_send_error(c->req, 500, NULL);
		return;
	}
	evhttp_add_header(h, "Content-Type", "application/json");
	evhttp_add_header(h, "Cache-Control", "no-store");
	evbuffer_add(b, s, strlen(s));
	evbuffer_add(b, "\n", 1);
	free(s);
	/* A refusal sent as JSON was logged by its handler. */
	if (code < 400)
		log_reply(c, code, NULL);
	evhttp_send_reply(c->req, code, reason_phrase(code), NULL);
}

/* {"error": "...", "status": code} */
static void
reply_error(struct call *c, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
reply_error(struct call *c, int code, const char *fmt, ...)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(c->req);
	struct evbuffer *b = evhttp_request_get_output_buffer(c->req);
	char msg[512];
	json_t *o;
	char *s = NULL;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_reply(c, code, msg);
	o = json_pack("{s:s, s:i}", "error", msg, "status", code);
	if (o != NULL)
		s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (s == NULL) {
		evhttp_send_error(c->req, code, NULL);
		return;
	}
	evhttp_add_header(h, "Content-Type", "application/json");
	evhttp_add_header(h, "Cache-Control", "no-store");
	evbuffer_add(b, s, strlen(s));
	evbuffer_add(b, "\n", 1);
	free(s);
	evhttp_send_reply(c->req, code, reason_phrase(code), NULL);
}

/* ---- the token ---- */

/*
 * Read the token file as `failoverd -t` does (cfg_token_read): returns 0
 * with the digest in a, or -1 with why.  The token itself is never logged.
 */
static int
token_read(struct api *a, const char *path, char *why, size_t whylen)
{
	char tok[API_TOKEN_MAX];
	size_t len;

	if (cfg_token_read(path, tok, sizeof(tok), &len, why, whylen) != 0) {
		explicit_bzero(tok, sizeof(tok));
		return -1;
	}
	SHA256((const unsigned char *)tok, len, a->token_sha);
	explicit_bzero(tok, sizeof(tok));
	return 0;
}

/* (Re)read the token when the configuration in force is not the one seen. */
static void
token_refresh(struct api *a)
{
	const struct config *cfg = (*a->h.cfg);
	const char *path = cfg->controller.api_token_file;
	char why[512];

	/*
	 * A new configuration is allocated while the old one is alive, so a
	 * different pointer always means a reload happened since.
	 */
	if (a->token_cfg == cfg)
		return;
	a->token_cfg = cfg;
	explicit_bzero(a->token_sha, sizeof(a->token_sha));
	if (path == NULL || path[0] == '\0') {
		a->token_state = TOKEN_NONE;
		log_info("api_token", "state=none detail=%s", log_q("no"
		    " api_token_file: every POST is refused"));
		return;
	}
	if (token_read(a, path, why, sizeof(why)) != 0) {
		a->token_state = TOKEN_BAD;
		log_error("api_token_unusable", "file=%s error=%s detail=%s",
		    log_q(path), log_q(why), log_q("every POST is refused"
		    " until it is fixed and the configuration reloaded"));
		return;
	}
	a->token_state = TOKEN_OK;
	log_info("api_token", "state=loaded file=%s", log_q(path));
}

/*
 * Answer 401/403 and return false unless the request carries the token.
 */
static bool
authorized(struct call *c)
{
	struct api *a = c->a;
	struct evkeyvalq *h = evhttp_request_get_input_headers(c->req);
	const char *v;
	unsigned char sha[SHA256_DIGEST_LENGTH];
	size_t len;

	token_refresh(a);
	if (a->token_state == TOKEN_NONE) {
		reply_error(c, 403, "no api_token_file is configured: the"
		    " API refuses every change");
		return false;
	}
	if (a->token_state != TOKEN_OK) {
		reply_error(c, 403, "the api_token_file is unusable (see the"
		    " daemon's log): the API refuses every change");
		return false;
	}
	v = evhttp_find_header(h, "Authorization");
	if (v == NULL || strncasecmp(v, "Bearer ", 7) != 0) {
		evhttp_add_header(evhttp_request_get_output_headers(c->req),
		    "WWW-Authenticate", "Bearer realm=\"failoverd\"");
		reply_error(c, 401, "missing bearer token");
		return false;
	}
	v += 7;
	while (*v == ' ' || *v == '\t')
		v++;
	len = strlen(v);
	while (len > 0 && (v[len - 1] == ' ' || v[len - 1] == '\t'))
		len--;
	SHA256((const unsigned char *)v, len, sha);
	if (len == 0 || CRYPTO_memcmp(sha, a->token_sha, sizeof(sha)) != 0) {
		evhttp_add_header(evhttp_request_get_output_headers(c->req),
		    "WWW-Authenticate", "Bearer realm=\"failoverd\","
		    " error=\"invalid_token\"");
		reply_error(c, 401, "wrong bearer token");
		return false;
	}
	return true;
}

/* ---- /healthz ---- */

static void
h_healthz(struct call *c)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(c->req);

	evhttp_add_header(h, "Content-Type", "text/plain; charset=utf-8");
	evhttp_add_header(h, "Cache-Control", "no-store");
	evbuffer_add(evhttp_request_get_output_buffer(c->req), "ok\n", 3);
	log_reply(c, 200, NULL);
	evhttp_send_reply(c->req, 200, "OK", NULL);
}

/* ---- /metrics ---- */

static void
metrics_api(struct evbuffer *b, struct api *a)
{
	struct api_conns_stats st;

	api_conns_stats(a->conns, &st);
	prom_family(b, "api_connections", "gauge", "API connections held now.");
	evbuffer_add_printf(b, "failoverd_api_connections %d\n", st.open);
	prom_family(b, "api_connections_max", "gauge",
	    "API connections held at most (api_max_connections, within the "
	    "descriptor limit).");
	evbuffer_add_printf(b, "failoverd_api_connections_max %d\n", st.max);
	prom_family(b, "api_accepted_total", "counter",
	    "API connections accepted and served.");
	evbuffer_add_printf(b, "failoverd_api_accepted_total %llu\n",
	    (unsigned long long)st.accepted);
	prom_family(b, "api_refused_total", "counter",
	    "API connections answered 503 and closed at once: too many.");
	evbuffer_add_printf(b, "failoverd_api_refused_total %llu\n",
	    (unsigned long long)st.refused);
	prom_family(b, "api_deadline_total", "counter",
	    "API connections closed for not sending a whole request in time.");
	evbuffer_add_printf(b, "failoverd_api_deadline_total %llu\n",
	    (unsigned long long)st.deadline);
	prom_family(b, "api_accept_paused", "gauge",
	    "1 while accepting is paused: the host lacks descriptors.");
	evbuffer_add_printf(b, "failoverd_api_accept_paused %d\n", st.paused);
	prom_family(b, "api_accept_pauses_total", "counter",
	    "Times accepting paused (EMFILE, ENFILE, ENOBUFS, ENOMEM).");
	evbuffer_add_printf(b, "failoverd_api_accept_pauses_total %llu\n",
	    (unsigned long long)st.pauses);
	prom_family(b, "local_faults_total", "counter",
	    "Checks (of stacks and witnesses) that failed for want of a "
	    "descriptor, memory or a local address: retried, never counted "
	    "against the stack.");
	evbuffer_add_printf(b, "failoverd_local_faults_total %llu\n",
	    (unsigned long long)a->h.local_faults(a->h.arg));
}

static void
h_metrics(struct call *c)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(c->req);
	struct evbuffer *b = evhttp_request_get_output_buffer(c->req);

	c->a->h.metrics(c->a->h.arg, b);
	metrics_api(b, c->a);
	evhttp_add_header(h, "Content-Type",
	    "text/plain; version=0.0.4; charset=utf-8");
	evhttp_add_header(h, "Cache-Control", "no-store");
	log_reply(c, 200, NULL);
	evhttp_send_reply(c->req, 200, "OK", NULL);
}

/* ---- the JSON endpoints (ops.h) ---- */

/* The store behind ops.h; false (503 sent) when there is none (dry-run). */
static bool
have_store(struct call *c)
{
	if (c->a->h.store != NULL)
		return true;
	reply_error(c, 503, "dry-run: the daemon keeps no state store; only"
	    " /metrics and /healthz answer");
	return false;
}

/* Answer an ops query: the JSON on success, else 404 or 500. */
static void
reply_ops(struct call *c, int rc, json_t *v, const char *what,
    const char *err)
{
	if (rc == 0) {
		reply_json(c, 200, v);
		return;
	}
	json_decref(v);
	if (rc == OPS_E_NOTFOUND)
		reply_error(c, 404, "no such %s", what);
	else
		reply_error(c, 500, "%s: %s", ops_strerror(rc), err);
}

static void
h_groups(struct call *c)
{
	json_t *v = NULL;
	char err[256] = "";
	int rc;

	if (!have_store(c))
		return;
	rc = ops_status(c->a->h.store, (*c->a->h.cfg), NULL, &v, err,
	    sizeof(err));
	if (rc == 0) {
		json_t *g;
		size_t i;

		json_array_foreach(json_object_get(v, "groups"), i, g)
			live_fields(c->a, g);
	}
	reply_ops(c, rc, v, "group", err);
}

static void
h_group(struct call *c)
{
	json_t *v = NULL;
	char err[256] = "";
	int rc;

	if (!have_store(c))
		return;
	rc = ops_status(c->a->h.store, (*c->a->h.cfg), c->seg[2], &v, err,
	    sizeof(err));
	if (rc == 0)
		live_fields(c->a, v);
	reply_ops(c, rc, v, "group", err);
}

static void
h_stack(struct call *c)
{
	json_t *v = NULL;
	char err[256] = "";
	int rc;

	if (!have_store(c))
		return;
	rc = ops_stack_json(c->a->h.store, (*c->a->h.cfg), c->seg[2], &v, err,
	    sizeof(err));
	reply_ops(c, rc, v, "stack", err);
}

/*
 * online, offline or none as text/plain: what a cron job on an
 * application server asks with one curl (FAILOVER_STATUS, combined over
 * the stack's groups as failoverctl failover-status prints it).
 */
static void
h_failover_status(struct call *c)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(c->req);
	enum eng_online on;
	const char *s;
	char err[256] = "";
	int rc;

	if (!have_store(c))
		return;
	rc = ops_failover_status(c->a->h.store, (*c->a->h.cfg), c->seg[2], &on,
	    err, sizeof(err));
	if (rc != 0) {
		reply_ops(c, rc, NULL, "stack", err);
		return;
	}
	s = eng_online_name(on);
	evhttp_add_header(h, "Content-Type", "text/plain; charset=utf-8");
	evhttp_add_header(h, "Cache-Control", "no-store");
	evbuffer_add_printf(evhttp_request_get_output_buffer(c->req), "%s\n",
	    s);
	log_reply(c, 200, NULL);
	evhttp_send_reply(c->req, 200, "OK", NULL);
}

static void
h_stacks(struct call *c)
{
	const struct config *cfg = (*c->a->h.cfg);
	json_t *o = NULL, *arr = NULL, *v = NULL;
	char err[256] = "";
	int rc = 0;

	if (!have_store(c))
		return;
	if ((o = json_object()) == NULL || (arr = json_array()) == NULL ||
	    json_object_set(o, "stacks", arr) != 0)
		rc = OPS_E_NOMEM;
	for (size_t s = 0; rc == 0 && s < cfg->nstack; s++) {
		rc = ops_stack_json(c->a->h.store, cfg, cfg->stacks[s].name,
		    &v, err, sizeof(err));
		if (rc == 0 && json_array_append_new(arr, v) != 0)
			rc = OPS_E_NOMEM;
		v = NULL;
	}
	json_decref(arr);
	reply_ops(c, rc, o, "stack", err);
}

/* A decimal query parameter; false (400 sent) when malformed. */
static bool
query_u64(struct call *c, const char *key, uint64_t *out)
{
	const char *v = evhttp_find_header(&c->query, key);
	char *end;
	unsigned long long n;

	if (v == NULL)
		return true;
	errno = 0;
	n = strtoull(v, &end, 10);
	if (*v < '0' || *v > '9' || *end != '\0' || errno != 0) {
		reply_error(c, 400, "%s: not a number", key);
		return false;
	}
	*out = n;
	return true;
}

static void
h_events(struct call *c)
{
	const char *group = evhttp_find_header(&c->query, "group");
	uint64_t from = 0, limit = API_EVENTS_DEFAULT;
	json_t *v = NULL;
	char err[256] = "";
	int rc;

	if (!have_store(c))
		return;
	if (!query_u64(c, "from", &from) || !query_u64(c, "limit", &limit))
		return;
	if (limit == 0 || limit > API_EVENTS_MAX) {
		reply_error(c, 400, "limit: between 1 and %d", API_EVENTS_MAX);
		return;
	}
	if (group != NULL && group[0] == '\0')
		group = NULL;
	rc = ops_events_json(c->a->h.store, from, (size_t)limit, group, &v,
	    err, sizeof(err));
	reply_ops(c, rc, v, "group", err);
}

/* ---- POST /v1/groups/NAME/VERB ---- */

/*
 * The request body: empty, or a JSON object with only the members the
 * verb takes.  Returns the object (caller decrefs; NULL for an empty
 * body), or sends 400 and sets *bad.
 */
/*
 * The request body as a JSON object: NULL with *bad false for an empty
 * body; NULL with *bad set once a 400 (or 500) is sent.  Caller decrefs.
 */
static json_t *
body_json(struct call *c, bool *bad)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(c->req);
	size_t len = evbuffer_get_length(in);
	json_error_t je;
	json_t *o;
	char *buf;

	*bad = false;
	if (len == 0)
		return NULL;
	if ((buf = malloc(len)) == NULL) {
		reply_error(c, 500, "out of memory");
		*bad = true;
		return NULL;
	}
	evbuffer_copyout(in, buf, len);
	o = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
	free(buf);
	if (o == NULL) {
		reply_error(c, 400, "body: not JSON: %s (offset %d)", je.text,
		    je.position);
		*bad = true;
		return NULL;
	}
	if (!json_is_object(o)) {
		reply_error(c, 400, "body: not a JSON object");
		json_decref(o);
		*bad = true;
		return NULL;
	}
	return o;
}

static json_t *
body_object(struct call *c, enum ops_verb verb, bool *bad)
{
	const char *key;
	json_t *o, *val;

	if ((o = body_json(c, bad)) == NULL)
		return NULL;
	json_object_foreach(o, key, val) {
		bool known = false;

		if (verb == OPS_SWITCH)
			known = strcmp(key, "to") == 0 ||
			    strcmp(key, "force") == 0 ||
			    strcmp(key, "cancel") == 0;
		else if (verb == OPS_PIN)
			known = strcmp(key, "stack") == 0;
		if (!known) {
			reply_error(c, 400, "body: unknown member \"%.64s\""
			    " for %s", key, ops_verb_name(verb));
			goto bad;
		}
	}
	return o;
bad:
	json_decref(o);
	*bad = true;
	return NULL;
}

/* A string member, absent or null: NULL; false (400 sent) if not a string. */
static bool
member_str(struct call *c, json_t *o, const char *key, const char **out)
{
	json_t *v = o != NULL ? json_object_get(o, key) : NULL;

	*out = NULL;
	if (v == NULL || json_is_null(v))
		return true;
	if (!json_is_string(v) || json_string_length(v) == 0 ||
	    json_string_length(v) >= API_NAME_MAX ||
	    strlen(json_string_value(v)) != json_string_length(v)) {
		reply_error(c, 400, "body: \"%s\" must be a stack name", key);
		return false;
	}
	*out = json_string_value(v);
	return true;
}

static const int outcome_status[] = {
	[OPS_DONE] = 200,
	[OPS_REFUSED] = 409,
	[OPS_UNKNOWN] = 404,
	[OPS_BAD_REQUEST] = 400,
	[OPS_FAILED] = 500,
};

static int	 cmd_remote(struct call *, const struct ops_request *,
		    struct ops_reply *);
static int	 group_remote(struct call *, int,
		    const struct ops_group_spec *);

static void
h_command(struct call *c)
{
	struct ops_request rq;
	struct ops_reply rp;
	json_t *body, *v, *out;
	int verb = ops_verb_parse(c->seg[3]), code;
	bool bad;
	char actor[ENG_ACTOR_MAX], peer[80], *colon;

	if (verb < 0) {		/* the route table and ops disagree */
		reply_error(c, 500, "verb %s unknown to ops", c->seg[3]);
		return;
	}
	if (!have_store(c))
		return;
	body = body_object(c, (enum ops_verb)verb, &bad);
	if (bad)
		return;
	memset(&rq, 0, sizeof(rq));
	rq.verb = (enum ops_verb)verb;
	rq.group = c->seg[2];
	if (verb == OPS_SWITCH) {
		if (!member_str(c, body, "to", &rq.stack))
			goto out;
		v = body != NULL ? json_object_get(body, "force") : NULL;
		if (v != NULL && !json_is_boolean(v)) {
			reply_error(c, 400, "body: \"force\" must be true or"
			    " false");
			goto out;
		}
		rq.force = v != NULL && json_is_true(v);
		/* {"cancel": true}: withdraw a request not taken yet. */
		v = body != NULL ? json_object_get(body, "cancel") : NULL;
		if (v != NULL && !json_is_boolean(v)) {
			reply_error(c, 400, "body: \"cancel\" must be true or"
			    " false");
			goto out;
		}
		if (v != NULL && json_is_true(v))
			rq.verb = OPS_CANCEL;
	} else if (verb == OPS_PIN) {
		if (!member_str(c, body, "stack", &rq.stack))
			goto out;
		if (rq.stack == NULL) {
			reply_error(c, 400, "body: pin needs {\"stack\":"
			    " \"NAME\"}");
			goto out;
		}
	}
	/* The actor: the peer's address (the port is noise). */
	peer_of(c->req, peer, sizeof(peer));
	if ((colon = strrchr(peer, ':')) != NULL)
		*colon = '\0';
	snprintf(actor, sizeof(actor), "api:%.*s", ENG_ACTOR_MAX - 5, peer);
	rq.actor = actor;
	memset(&rp, 0, sizeof(rp));
	/* In a cluster a member that does not lead gives it to the leader. */
	if (c->a->h.command != NULL && cmd_remote(c, &rq, &rp) != 1)
		goto out;
	ops_command(c->a->h.store, (*c->a->h.cfg), &rq, clock_wall_ms(), &rp);
	code = (unsigned)rp.outcome < sizeof(outcome_status) /
	    sizeof(outcome_status[0]) ? outcome_status[rp.outcome] : 500;
	if (code != 200) {
		out = json_pack("{s:s, s:s, s:i}", "error", rp.message,
		    "reason", rp.reason, "status", code);
		log_info("api_command_refused", "group=%s cmd=%s stack=%s"
		    " force=%d http_status=%d reason=%s detail=%s peer=%s",
		    log_q(rq.group), ops_verb_name(rq.verb), log_q(rq.stack),
		    rq.force, code, log_q(rp.reason), log_q(rp.message),
		    log_q(peer_of(c->req, peer, sizeof(peer))));
	} else {
		out = json_pack("{s:b, s:s, s:s, s:s}", "ok", 1, "group",
		    rq.group, "command", ops_verb_name(rq.verb), "message",
		    rp.message);
		if (out != NULL && rq.verb == OPS_SWITCH) {
			json_object_set_new(out, "request_id",
			    json_integer((json_int_t)rp.request_id));
			json_object_set_new(out, "history_seq",
			    json_integer((json_int_t)rp.history_seq));
			json_object_set_new(out, "nswitch",
			    json_integer(rp.nswitch));
		}
		log_info("api_command", "group=%s cmd=%s stack=%s force=%d"
		    " peer=%s", log_q(rq.group), ops_verb_name(rq.verb),
		    log_q(rq.stack), rq.force,
		    log_q(peer_of(c->req, peer, sizeof(peer))));
		/*
		 * The flags are in the store, where the daemon polls them;
		 * poll now rather than at the next tick, so the command is
		 * in force by the next loop turn.
		 */
		if (!*c->a->h.stopping)
			c->a->h.flags_changed(c->a->h.arg);
	}
	reply_json(c, code, out);
out:
	json_decref(body);
}

/* ---- dispatch ---- */

/*
 * Split the path into decoded segments.  Returns false for a path that
 * cannot name anything (too many segments, an empty one, a NUL).
 */
static bool
split_path(struct call *c, const char *path)
{
	const char *p = path;

	c->nseg = 0;
	if (p == NULL || *p != '/')
		return false;
	if (strcmp(p, "/") == 0)
		return true;
	while (*p == '/') {
		const char *s = ++p;
		size_t n = strcspn(s, "/");
		char raw[API_NAME_MAX * 3 + 1];
		size_t dlen = 0;
		char *dec;

		if (n == 0 || n >= sizeof(raw) || c->nseg == API_SEGS_MAX)
			return false;
		memcpy(raw, s, n);
		raw[n] = '\0';
		dec = evhttp_uridecode(raw, 0, &dlen);
		if (dec == NULL)
			return false;
		c->seg[c->nseg++] = dec;
		if (dlen != strlen(dec) || dlen >= API_NAME_MAX)
			return false;
		p = s + n;
	}
	return *p == '\0';
}

static bool
route_match(const struct route *r, const struct call *c)
{
	int n = 0;

	while (n < API_SEGS_MAX && r->pat[n] != NULL)
		n++;
	if (n != c->nseg)
		return false;
	for (int i = 0; i < n; i++)
		if (strcmp(r->pat[i], "*") != 0 &&
		    strcmp(r->pat[i], c->seg[i]) != 0)
			return false;
	return true;
}

static void
allow_header(struct call *c, int methods)
{
	char allow[64] = "";

	if (methods & EVHTTP_REQ_GET)
		strcat(allow, "GET, HEAD");
	if (methods & EVHTTP_REQ_POST)
		strcat(allow, allow[0] ? ", POST" : "POST");
	if (methods & EVHTTP_REQ_PATCH)
		strcat(allow, allow[0] ? ", PATCH" : "PATCH");
	if (methods & EVHTTP_REQ_DELETE)
		strcat(allow, allow[0] ? ", DELETE" : "DELETE");
	evhttp_add_header(evhttp_request_get_output_headers(c->req), "Allow",
	    allow);
}

/* ---- Host: see the top of the file ---- */

static bool
same_addr(const struct sockaddr_storage *ss, int family, const void *addr)
{
	if (ss->ss_family != family)
		return false;
	if (family == AF_INET)
		return memcmp(&((const struct sockaddr_in *)(const void *)ss)->
		    sin_addr, addr, sizeof(struct in_addr)) == 0;
	return memcmp(&((const struct sockaddr_in6 *)(const void *)ss)->
	    sin6_addr, addr, sizeof(struct in6_addr)) == 0;
}

static bool
is_loopback(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)(const void *)ss)->
		    sin_addr.s_addr) >> 24) == 127;
	if (ss->ss_family == AF_INET6) {
		const struct in6_addr *a =
		    &((const struct sockaddr_in6 *)(const void *)ss)->sin6_addr;

		return IN6_IS_ADDR_LOOPBACK(a) || (IN6_IS_ADDR_V4MAPPED(a) &&
		    a->s6_addr[12] == 127);
	}
	return false;
}

/* Does the request's Host name this API?  false with what it named. */
static bool
host_ok(struct call *c, char *named, size_t namedlen)
{
	struct api *a = c->a;
	const struct cfg_controller *cc = &(*a->h.cfg)->controller;
	const char *h, *end, *port = NULL;
	struct sockaddr_storage local;
	unsigned char bin[sizeof(struct in6_addr)];
	char name[256];
	size_t n;

	h = evhttp_find_header(evhttp_request_get_input_headers(c->req),
	    "Host");
	if (h == NULL)
		return true;
	snprintf(named, namedlen, "%.100s", h);
	if (*h == '[') {
		if ((end = strchr(h, ']')) == NULL)
			return false;
		n = (size_t)(end - h - 1);
		h++;
		if (end[1] == ':')
			port = end + 2;
		else if (end[1] != '\0')
			return false;
	} else {
		end = strchr(h, ':');
		if (end != NULL && strchr(end + 1, ':') != NULL)
			return false;
		n = end != NULL ? (size_t)(end - h) : strlen(h);
		if (end != NULL)
			port = end + 1;
	}
	if (n == 0 || n >= sizeof(name))
		return false;
	memcpy(name, h, n);
	name[n] = '\0';
	if (n > 1 && name[n - 1] == '.')
		name[n - 1] = '\0';
	if (port != NULL) {
		char *pe;
		unsigned long p = strtoul(port, &pe, 10);

		if (*port < '0' || *port > '9' || *pe != '\0' || p != a->port)
			return false;
	}
	/* An address: this API's, or for a wildcard the one connected to. */
	if (inet_pton(AF_INET, name, bin) == 1 ||
	    inet_pton(AF_INET6, name, bin) == 1) {
		int fam = strchr(name, ':') != NULL ? AF_INET6 : AF_INET;

		if (!a->wildcard)
			return same_addr(&a->bound_sa, fam, bin);
		return api_conns_local(c->req, &local) &&
		    same_addr(&local, fam, bin);
	}
	if (strcasecmp(name, "localhost") == 0)
		return a->wildcard ? api_conns_local(c->req, &local) &&
		    is_loopback(&local) : is_loopback(&a->bound_sa);
	for (size_t i = 0; i < cc->nhost; i++)
		if (strcasecmp(name, cc->api_host[i]) == 0)
			return true;
	return false;
}

static void
request_cb(struct evhttp_request *req, void *arg)
{
	struct api *a = arg;

	api_conns_request_begin(a->conns, req);
	request_handle(a, req);
	api_conns_request_end(a->conns, req);
}

static void
request_handle(struct api *a, struct evhttp_request *req)
{
	struct call c;
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *q;
	char named[128];
	int allowed = 0;

	memset(&c, 0, sizeof(c));
	c.a = a;
	token_refresh(c.a);
	c.req = req;
	c.method = evhttp_request_get_command(req);
	c.path = uri != NULL ? evhttp_uri_get_path(uri) : NULL;
	TAILQ_INIT(&c.query);
	if (c.path == NULL)
		c.path = "";
	if (!host_ok(&c, named, sizeof(named))) {
		reply_error(&c, 421, "Host %s does not name this API (%s, "
		    "localhost, or an api_host): refused, as a DNS rebinding "
		    "would be", named, a->where);
		goto out;
	}
	if (!split_path(&c, c.path)) {
		reply_error(&c, 404, "no such resource");
		goto out;
	}
	q = uri != NULL ? evhttp_uri_get_query(uri) : NULL;
	if (q != NULL && evhttp_parse_query_str(q, &c.query) != 0) {
		reply_error(&c, 400, "malformed query string");
		goto out;
	}
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		if (!route_match(&routes[i], &c))
			continue;
		if ((routes[i].methods & (int)c.method) == 0) {
			allowed |= routes[i].methods;
			continue;
		}
		if ((c.method & (EVHTTP_REQ_POST | EVHTTP_REQ_PATCH |
		    EVHTTP_REQ_DELETE)) && !authorized(&c))
			goto out;
		routes[i].fn(&c);
		goto out;
	}
	if (allowed != 0) {
		allow_header(&c, allowed);
		reply_error(&c, 405, "method %s not allowed here",
		    method_name(c.method));
	} else
		reply_error(&c, 404, "no such resource");
out:
	evhttp_clear_headers(&c.query);
	for (int i = 0; i < c.nseg; i++)
		free(c.seg[i]);
}

/* ---- set-up ---- */

static int
listen_socket(const struct cfg_hostport *hp, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int fd, one = 1;

	memset(&ss, 0, sizeof(ss));
	if (hp->family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(hp->port);
		if (inet_pton(AF_INET6, hp->host, &s6->sin6_addr) != 1)
			goto bad;
		sl = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(hp->port);
		if (inet_pton(AF_INET, hp->host, &s4->sin_addr) != 1)
			goto bad;
		sl = sizeof(*s4);
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, sl) != 0 || listen(fd, 64) != 0) {
		snprintf(err, errlen, "listen on %s port %u: %s", hp->host,
		    hp->port, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
bad:
	snprintf(err, errlen, "listen: %s is not a numeric address", hp->host);
	return -1;
}

/*
 * The request deadline; FAILOVERD_TEST_API_TIMEOUT_S shortens it so that
 * a test need not wait the real one out.
 */
static int
deadline_s(void)
{
	const char *e = getenv("FAILOVERD_TEST_API_TIMEOUT_S");
	int t;

	if (e != NULL && (t = atoi(e)) > 0 && t < API_DEADLINE_S)
		return t;
	return API_DEADLINE_S;
}

/* api_max_connections, within the API's share of descriptors (guard.h). */
static int
conns_max(struct api *a, long *reserve_out)
{
	const struct config *cfg = (*a->h.cfg);
	long reserve = 0;
	int max = guard_api_share(cfg, a->h.nofile > 0 ? a->h.nofile : 1024,
	    &reserve);

	if (reserve_out != NULL)
		*reserve_out = reserve;
	if (max < cfg->controller.api_max_connections)
		log_warn("api_connections_lowered", "configured=%d max=%d "
		    "nofile=%ld reserve=%ld detail=%s",
		    cfg->controller.api_max_connections, max, a->h.nofile,
		    reserve, log_q("the descriptor limit leaves no more for the"
		    " API: raise LimitNOFILE"));
	return max;
}

struct api *
api_new(const struct api_host *host, char *err, size_t errlen)
{
	const struct cfg_hostport *hp = &(*host->cfg)->controller.listen;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	struct api *a;
	long reserve;
	int fd, max;

	if ((a = calloc(1, sizeof(*a))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	a->h = *host;
	a->bound = *hp;
	if ((a->http = evhttp_new(host->base)) == NULL) {
		snprintf(err, errlen, "evhttp_new failed");
		goto fail;
	}
	evhttp_set_allowed_methods(a->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST |
	    EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
	    EVHTTP_REQ_OPTIONS | EVHTTP_REQ_TRACE | EVHTTP_REQ_PATCH);
	evhttp_set_max_body_size(a->http, API_BODY_MAX);
	evhttp_set_max_headers_size(a->http, API_HEADERS_MAX);
	/* Idle timeout; the deadline (api_conn.c) is the stricter bound. */
	evhttp_set_timeout(a->http, deadline_s() + 1);
	evhttp_set_gencb(a->http, request_cb, a);
	if ((fd = listen_socket(hp, err, errlen)) < 0)
		goto fail;
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) != 0) {
		snprintf(err, errlen, "getsockname: %s", strerror(errno));
		close(fd);
		goto fail;
	}
	a->bound_sa = ss;
	a->port = ntohs(ss.ss_family == AF_INET6 ?
	    ((struct sockaddr_in6 *)&ss)->sin6_port :
	    ((struct sockaddr_in *)&ss)->sin_port);
	a->wildcard = ss.ss_family == AF_INET6 ?
	    IN6_IS_ADDR_UNSPECIFIED(&((struct sockaddr_in6 *)&ss)->sin6_addr) :
	    ((struct sockaddr_in *)&ss)->sin_addr.s_addr == htonl(INADDR_ANY);
	snprintf(a->where, sizeof(a->where), hp->family == AF_INET6 ?
	    "[%s]:%u" : "%s:%u", hp->host, a->port);
	max = conns_max(a, &reserve);
	if ((a->conns = api_conns_new(host->base, a->http, fd, max, deadline_s(),
	    err, errlen)) == NULL)
		goto fail;
	if ((a->dash = api_dash_new(&a->h, a->conns, err, errlen)) == NULL)
		goto fail;
	token_refresh(a);
	log_info("api_listening", "address=%s max_connections=%d "
	    "deadline_ms=%d nofile=%ld reserve=%ld", log_q(a->where), max,
	    deadline_s() * 1000, host->nofile, reserve);
	return a;
fail:
	api_free(a);
	return NULL;
}

void
api_reload(struct api *a)
{
	const struct config *cfg;
	const struct cfg_hostport *hp;

	if (a == NULL)
		return;
	cfg = (*a->h.cfg);
	hp = &cfg->controller.listen;
	if (!cfg->controller.listen_enabled || hp->port != a->bound.port ||
	    hp->family != a->bound.family ||
	    strcmp(hp->host, a->bound.host) != 0)
		log_warn("reload_partial", "key=listen address=%s detail=%s",
		    log_q(a->where), log_q("listen changes need a restart;"
		    " still listening on the old address"));
	api_conns_set_max(a->conns, conns_max(a, NULL));
	token_refresh(a);
}

void
api_free(struct api *a)
{
	if (a == NULL)
		return;
	/* Our events first; evhttp_free() closes the connections (our close
	   callbacks run) and the listening socket; then what we hold. */
	api_dash_free(a->dash);
	api_conns_close(a->conns);
	if (a->http != NULL)
		evhttp_free(a->http);
	api_conns_free(a->conns);
	explicit_bzero(a->token_sha, sizeof(a->token_sha));
	free(a);
}

/* ==== the dashboard (issue 16): GET /, plan, dns, stream, verify ==== */

#define API_STREAMS_MAX		16	/* event streams at once, at most */
#define API_VERIFY_EVERY_MS	2000	/* a chain check at most this often */

/*
 * What only the daemon knows, added to a group object of ops_status(): of
 * each stack, its last check's latency, HTTP status and time.
 */
static void
live_fields(struct api *a, json_t *g)
{
	const struct config *cfg = (*a->h.cfg);
	const char *gname = json_string_value(json_object_get(g, "name"));
	json_t *st, *def;
	size_t i;

	/* How the group is defined: the file, or made at run time. */
	if (gname != NULL && (def = ops_group_definition(cfg, gname)) != NULL)
		json_object_set_new(g, "definition", def);
	json_array_foreach(json_object_get(g, "stacks"), i, st) {
		const char *name = json_string_value(json_object_get(st,
		    "name"));
		int s = name != NULL ? config_stack_index(cfg, name) : -1;
		struct api_stack_live live;

		if (s < 0 || !a->h.stack_live(a->h.arg, s, &live))
			continue;
		if (live.last_probe_ms == 0) {
			json_object_set_new(st, "latency_ms", json_null());
			json_object_set_new(st, "last_check_ms", json_null());
			json_object_set_new(st, "http_status", json_null());
			continue;
		}
		json_object_set_new(st, "latency_ms",
		    json_real((double)live.last_latency_us / 1000.0));
		json_object_set_new(st, "last_check_ms",
		    json_integer(live.last_probe_ms));
		json_object_set_new(st, "http_status", live.last_status > 0 ?
		    json_integer(live.last_status) : json_null());
	}
}

/* Headers every answer of the page carries. */
static void
page_headers(struct call *c)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(c->req);

	evhttp_add_header(h, "Content-Security-Policy",
	    api_dash_csp(c->a->dash));
	evhttp_add_header(h, "Cache-Control", "no-store");
	evhttp_add_header(h, "ETag", api_dash_etag(c->a->dash));
	evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
	evhttp_add_header(h, "X-Frame-Options", "DENY");
	evhttp_add_header(h, "Referrer-Policy", "no-referrer");
}

static void
h_page(struct call *c)
{
	const char *inm = evhttp_find_header(evhttp_request_get_input_headers(
	    c->req), "If-None-Match");
	size_t len;
	const char *page = api_dash_page(c->a->dash, &len);

	page_headers(c);
	if (inm != NULL && strcmp(inm, api_dash_etag(c->a->dash)) == 0) {
		log_reply(c, 304, NULL);
		evhttp_send_reply(c->req, 304, "Not Modified", NULL);
		return;
	}
	evhttp_add_header(evhttp_request_get_output_headers(c->req),
	    "Content-Type", "text/html; charset=utf-8");
	evbuffer_add(evhttp_request_get_output_buffer(c->req), page, len);
	log_reply(c, 200, NULL);
	evhttp_send_reply(c->req, 200, "OK", NULL);
}

/* GET /v1/groups/NAME/plan?to=STACK&force=1: what a switch would do. */
static void
h_plan(struct call *c)
{
	const char *to = evhttp_find_header(&c->query, "to");
	const char *fv = evhttp_find_header(&c->query, "force");
	struct ops_reply rp;
	json_t *v = NULL;
	bool force = false;
	int code;

	if (!have_store(c))
		return;
	if (fv != NULL) {
		if (strcmp(fv, "1") == 0 || strcmp(fv, "true") == 0)
			force = true;
		else if (strcmp(fv, "0") != 0 && strcmp(fv, "false") != 0) {
			reply_error(c, 400, "force: 1 or 0");
			return;
		}
	}
	if (to != NULL && to[0] == '\0')
		to = NULL;
	if (ops_switch_plan_json(c->a->h.store, (*c->a->h.cfg), c->seg[2], to,
	    force, &v, &rp) == 0) {
		reply_json(c, 200, v);
		return;
	}
	code = (unsigned)rp.outcome < sizeof(outcome_status) /
	    sizeof(outcome_status[0]) ? outcome_status[rp.outcome] : 500;
	log_reply(c, code, rp.message);
	reply_json(c, code, json_pack("{s:s, s:s, s:i}", "error", rp.message,
	    "reason", rp.reason, "status", code));
}

/* GET /v1/groups/NAME/dns: each authoritative server's last answer. */
static void
h_dns(struct call *c)
{
	const struct config *cfg = (*c->a->h.cfg);
	json_t *v;

	for (size_t i = 0; i < cfg->ngroup; i++) {
		if (strcmp(cfg->groups[i].name, c->seg[2]) != 0)
			continue;
		if ((v = api_dash_dns(c->a->dash, (int)i)) == NULL)
			reply_error(c, 500, "out of memory");
		else
			reply_json(c, 200, v);
		return;
	}
	reply_error(c, 404, "no such group");
}

/* GET /v1/events/stream: server-sent events (api_dash.h). */
static void
h_stream(struct call *c)
{
	const char *lei = evhttp_find_header(evhttp_request_get_input_headers(
	    c->req), "Last-Event-ID");
	struct api_conns_stats st;
	uint64_t from = 0;
	int max;

	if (!have_store(c) || !query_u64(c, "from", &from))
		return;
	/* EventSource sends the last id it saw when it reconnects. */
	if (lei != NULL) {
		char *end;
		unsigned long long n = strtoull(lei, &end, 10);

		if (*lei >= '0' && *lei <= '9' && *end == '\0')
			from = n;
	}
	/* Streams may hold half the connections: commands need the rest. */
	api_conns_stats(c->a->conns, &st);
	max = st.max / 2;
	if (max > API_STREAMS_MAX)
		max = API_STREAMS_MAX;
	if (max < 1)
		max = 1;
	switch (api_dash_stream(c->a->dash, c->req, from, max)) {
	case API_DASH_STREAMING:
		log_reply(c, 200, NULL);
		return;
	case API_DASH_FULL:
		evhttp_add_header(evhttp_request_get_output_headers(c->req),
		    "Retry-After", "5");
		reply_error(c, 503, "too many event streams: at most %d at once"
		    " (half of the API's %d connections, at most %d)", max,
		    st.max, API_STREAMS_MAX);
		return;
	case API_DASH_FAILED:
		break;
	}
	reply_error(c, 500, "could not start the event stream");
}

/*
 * GET /v1/history/verify: the hash chain checked (store_history_verify).
 * Anyone may ask, so a check runs again only when the history grew, and
 * then at most every API_VERIFY_EVERY_MS; "checked_seq" says how far the
 * answer goes.
 */
static void
h_verify(struct call *c)
{
	struct api *a = c->a;
	struct store_txn txn;
	uint64_t last = 0, bad = 0, count = 0;
	int64_t now = clock_mono_ms();
	char err[256] = "";

	if (!have_store(c))
		return;
	if (store_txn_begin(a->h.store, false, &txn) == 0)
		last = store_history_last(&txn);
	store_txn_abort(&txn);
	if (a->verify_mono == 0 || (last != a->verify_seq &&
	    now - a->verify_mono >= API_VERIFY_EVERY_MS)) {
		if (store_history_verify(a->h.store, &bad, &count, err,
		    sizeof(err)) != 0) {
			reply_error(c, 500, "history: %s", err);
			return;
		}
		a->verify_seq = last;
		a->verify_mono = now;
		a->verify_bad = bad;
		a->verify_count = count;
		snprintf(a->verify_detail, sizeof(a->verify_detail), "%s", err);
	}
	reply_json(c, 200, json_pack("{s:b, s:o, s:I, s:I, s:s}",
	    "ok", a->verify_bad == 0,
	    "first_bad", a->verify_bad != 0 ?
	    json_integer((json_int_t)a->verify_bad) : json_null(),
	    "count", (json_int_t)a->verify_count,
	    "checked_seq", (json_int_t)a->verify_seq,
	    "detail", a->verify_detail));
}

/* ---- groups made at run time: POST, PATCH, DELETE (ops_group.h) ---- */

/*
 * The body of POST /v1/groups (add) or PATCH /v1/groups/NAME into sp,
 * its strings borrowed from *out (caller decrefs).  false: 400 sent.
 */
static bool
group_body(struct call *c, bool add, struct ops_group_spec *sp, json_t **out,
    char *ttlbuf, size_t ttllen)
{
	const char *key;
	json_t *o, *v;
	bool bad;

	if ((*out = o = body_json(c, &bad)) == NULL) {
		if (!bad)
			reply_error(c, 400, "body: a JSON object is needed");
		return false;
	}
	json_object_foreach(o, key, v) {
		const char **slot = NULL;
		bool *set = NULL;

		if (add && strcmp(key, "name") == 0)
			slot = &sp->name;
		else if (strcmp(key, "address") == 0)
			slot = &sp->address;
		else if (strcmp(key, "primary") == 0) {
			slot = &sp->primary;
			set = &sp->set_primary;
		} else if (strcmp(key, "backup") == 0) {
			slot = &sp->backup;
			set = &sp->set_backup;
		} else if (strcmp(key, "ttl") == 0) {
			sp->set_ttl = true;
			if (json_is_integer(v) && json_integer_value(v) > 0 &&
			    json_integer_value(v) <= 2147483647) {
				snprintf(ttlbuf, ttllen, "%llds", (long long)
				    json_integer_value(v));
				sp->ttl = ttlbuf;
				continue;
			}
			slot = &sp->ttl;
		} else {
			reply_error(c, 400, "body: unknown member \"%.64s\""
			    " (%s)", key, add ? "name, address, primary,"
			    " backup, ttl" : "primary, backup, ttl");
			return false;
		}
		if (set != NULL)
			*set = true;
		if (json_is_null(v) && (set != NULL || slot == &sp->address))
			continue;		/* none; an address: auto */
		if (!json_is_string(v) || json_string_length(v) == 0 ||
		    strlen(json_string_value(v)) != json_string_length(v)) {
			reply_error(c, 400, "body: \"%s\" must be a%s string",
			    key, set != NULL ? " stack name or null:" : "");
			return false;
		}
		*slot = json_string_value(v);
	}
	if (add && sp->name == NULL) {
		reply_error(c, 400, "body: \"name\" is required");
		return false;
	}
	if (add && sp->address != NULL && strcmp(sp->address, "") == 0)
		sp->address = NULL;
	return true;
}

/* The actor of a request: "api:" and the peer's address. */
static void
call_actor(struct call *c, char *actor, size_t len)
{
	char peer[80], *colon;

	peer_of(c->req, peer, sizeof(peer));
	if ((colon = strrchr(peer, ':')) != NULL)
		*colon = '\0';
	snprintf(actor, len, "api:%.*s", (int)(len > 5 ? len - 5 : 0), peer);
}

/* A refusal of ops_group_*: its status, error and reason. */
static void
group_refused(struct call *c, const char *verb, const char *group,
    const struct ops_reply *rp)
{
	int code = (unsigned)rp->outcome < sizeof(outcome_status) /
	    sizeof(outcome_status[0]) ? outcome_status[rp->outcome] : 500;

	log_info("api_group_refused", "group=%s cmd=%s status=%d reason=%s"
	    " detail=%s", log_q(group), verb, code, log_q(rp->reason),
	    log_q(rp->message));
	reply_json(c, code, json_pack("{s:s, s:s, s:i}", "error", rp->message,
	    "reason", rp->reason, "status", code));
}

/* Done: take it in, then answer with the group as it is now. */
static void
group_done(struct call *c, int code, const char *verb, const char *group,
    const struct ops_reply *rp)
{
	json_t *v = NULL;
	char err[256] = "";

	log_info("api_group", "group=%s cmd=%s", log_q(group), verb);
	if (!*c->a->h.stopping)
		c->a->h.groups_changed(c->a->h.arg);
	if (ops_status(c->a->h.store, (*c->a->h.cfg), group, &v, err,
	    sizeof(err)) != 0 || v == NULL) {
		/* In the store, not in force (see the daemon's log). */
		v = json_object();
		json_object_set_new(v, "name", json_string(group));
	} else
		live_fields(c->a, v);
	json_object_set_new(v, "message", json_string(rp->message));
	reply_json(c, code, v);
}

static void
h_group_add(struct call *c)
{
	struct ops_group_spec sp;
	struct ops_reply rp;
	json_t *body = NULL;
	char actor[ENG_ACTOR_MAX], ttl[32];

	if (!have_store(c))
		return;
	memset(&sp, 0, sizeof(sp));
	if (!group_body(c, true, &sp, &body, ttl, sizeof(ttl)))
		goto out;
	call_actor(c, actor, sizeof(actor));
	sp.actor = actor;
	if (group_remote(c, 1, &sp) != 1)
		goto out;
	if (ops_group_add(c->a->h.store, (*c->a->h.cfg), &sp, clock_wall_ms(),
	    &rp) != 0)
		group_refused(c, "add", sp.name, &rp);
	else
		group_done(c, 201, "add", sp.name, &rp);
out:
	json_decref(body);
}

static void
h_group_set(struct call *c)
{
	struct ops_group_spec sp;
	struct ops_reply rp;
	json_t *body = NULL;
	char actor[ENG_ACTOR_MAX], ttl[32];

	if (!have_store(c))
		return;
	memset(&sp, 0, sizeof(sp));
	if (!group_body(c, false, &sp, &body, ttl, sizeof(ttl)))
		goto out;
	sp.name = c->seg[2];
	call_actor(c, actor, sizeof(actor));
	sp.actor = actor;
	if (group_remote(c, 2, &sp) != 1)
		goto out;
	if (ops_group_set(c->a->h.store, (*c->a->h.cfg), &sp, clock_wall_ms(),
	    &rp) != 0)
		group_refused(c, "set", sp.name, &rp);
	else
		group_done(c, 200, "set", sp.name, &rp);
out:
	json_decref(body);
}

static void
h_group_del(struct call *c)
{
	struct ops_reply rp;
	char actor[ENG_ACTOR_MAX], addr[600];

	if (!have_store(c))
		return;
	call_actor(c, actor, sizeof(actor));
	{
		struct ops_group_spec sp = { .name = c->seg[2],
		    .actor = actor };

		if (group_remote(c, 3, &sp) != 1)
			return;
	}
	if (ops_group_remove(c->a->h.store, (*c->a->h.cfg), c->seg[2], false,
	    actor, clock_wall_ms(), addr, sizeof(addr), &rp) != 0) {
		group_refused(c, "delete", c->seg[2], &rp);
		return;
	}
	/* The daemon lets go of the group, then its state goes. */
	if (!*c->a->h.stopping)
		c->a->h.groups_changed(c->a->h.arg);
	if (addr[0] != '\0' && ops_group_delete(c->a->h.store, (*c->a->h.cfg),
	    c->seg[2], addr, clock_wall_ms(), &rp) != 0) {
		reply_error(c, 500, "%s: no longer defined, but %s",
		    c->seg[2], rp.message);
		return;
	}
	log_info("api_group", "group=%s cmd=delete address=%s",
	    log_q(c->seg[2]), log_q(addr));
	log_reply(c, 204, NULL);
	evhttp_send_reply(c->req, 204, "No Content", NULL);
}

/* ---- the cluster (issue 14) ---- */

/* GET /v1/cluster: members, roles, the leader and its epoch. */
static void
h_cluster(struct call *c)
{
	json_t *o;

	if (c->a->h.cluster == NULL) {
		log_reply(c, 404, "no cluster");
		evhttp_send_error(c->req, 404, NULL);
		return;
	}
	if ((o = c->a->h.cluster(c->a->h.arg)) == NULL) {
		log_reply(c, 500, "out of memory");
		evhttp_send_error(c->req, 500, NULL);
		return;
	}
	reply_json(c, 200, o);
}

/* ---- commands given to the cluster's leader (issue 14) ---- */

/*
 * A follower's command waits for the leader's answer (bounded by
 * daemon_cluster_cmd.c): the request outlives its handler, so its
 * connection is taken out of the request deadline as an event stream's
 * is, and closed() says when the client went away before the answer.
 */
struct remote_call {
	struct api		*a;
	struct evhttp_request	*req;
	bool			 gone;
	enum ops_verb		 verb;
	int			 gop;		/* a group change: 1 add, 2 set,
						   3 delete; 0 a command */
	char			 group[API_NAME_MAX];
	char			 peer[80];
};

static void
remote_closed(struct evhttp_request *req, void *arg)
{
	struct remote_call *rc = arg;

	rc->gone = true;
}

static void
remote_reply(struct remote_call *rc, const struct ops_reply *rp,
    const char *leader)
{
	struct call c;
	json_t *out;
	int code;

	memset(&c, 0, sizeof(c));
	c.a = rc->a;
	c.req = rc->req;
	c.path = "(command given to the leader)";
	code = (unsigned)rp->outcome < sizeof(outcome_status) /
	    sizeof(outcome_status[0]) ? outcome_status[rp->outcome] : 500;
	if (strcmp(rp->reason, "no_leader") == 0 ||
	    strcmp(rp->reason, "cluster_unavailable") == 0)
		code = 503;
	if (code != 200)
		out = json_pack("{s:s, s:s, s:i}", "error", rp->message,
		    "reason", rp->reason, "status", code);
	else if (rc->gop != 0) {
		/* The group as the leader made it: this member's store has
		 * it once etcd's copy arrives (failoverctl group list). */
		code = rc->gop == 1 ? 201 : rc->gop == 2 ? 200 : 204;
		out = code == 204 ? NULL : json_pack("{s:s, s:s}", "name",
		    rc->group, "message", rp->message);
	} else {
		out = json_pack("{s:b, s:s, s:s, s:s}", "ok", 1, "group",
		    rc->group, "command", ops_verb_name(rc->verb), "message",
		    rp->message);
		if (out != NULL && rc->verb == OPS_SWITCH) {
			json_object_set_new(out, "request_id",
			    json_integer((json_int_t)rp->request_id));
			json_object_set_new(out, "nswitch",
			    json_integer(rp->nswitch));
		}
	}
	if (out != NULL && leader[0] != '\0')
		json_object_set_new(out, "leader", json_string(leader));
	/* The connection was taken out of the guard's request deadline
	 * (api_conns_stream): it ends with this answer. */
	evhttp_add_header(evhttp_request_get_output_headers(rc->req),
	    "Connection", "close");
	log_info(rc->gop != 0 ? (code < 300 ? "api_group" :
	    "api_group_refused") : code < 300 ? "api_command" :
	    "api_command_refused",
	    "group=%s cmd=%s http_status=%d reason=%s leader=%s peer=%s",
	    log_q(rc->group), rc->gop == 1 ? "group_add" : rc->gop == 2 ?
	    "group_set" : rc->gop == 3 ? "group_delete" :
	    ops_verb_name(rc->verb), code, log_q(rp->reason),
	    log_q(leader[0] ? leader : "none"), log_q(rc->peer));
	if (code == 204) {
		log_reply(&c, 204, NULL);
		evhttp_send_reply(rc->req, 204, "No Content", NULL);
		return;
	}
	reply_json(&c, code, out);
}

static void
remote_done(const struct ops_reply *rp, const char *leader, uint64_t epoch,
    void *ctx)
{
	struct remote_call *rc = ctx;

	if (!rc->gone)
		api_conns_stream_forget(rc->a->conns, rc->req);
	/* Gone: evhttp let go of the request, and replying frees it. */
	remote_reply(rc, rp, leader);
	free(rc);
}

/* 1: apply it here; 0: answered or to be answered. */
static int
remote_give(struct call *c, const struct ops_request *rq, int gop,
    const struct ops_group_spec *sp, struct ops_reply *rp)
{
	struct remote_call *rc = calloc(1, sizeof(*rc));
	const char *group = gop != 0 ? sp->name : rq->group;
	int r;

	if (rc == NULL) {
		reply_error(c, 500, "out of memory");
		return 0;
	}
	rc->a = c->a;
	rc->req = c->req;
	rc->verb = rq != NULL ? rq->verb : OPS_PAUSE;
	rc->gop = gop;
	snprintf(rc->group, sizeof(rc->group), "%s", group != NULL ? group :
	    "");
	peer_of(c->req, rc->peer, sizeof(rc->peer));
	if (!api_conns_stream(c->a->conns, c->req, 5, remote_closed, rc)) {
		free(rc);
		reply_error(c, 500, "connection not known");
		return 0;
	}
	r = gop != 0 ? c->a->h.group(c->a->h.arg, gop, sp, remote_done, rc,
	    rp) : c->a->h.command(c->a->h.arg, rq, remote_done, rc, rp);
	if (r == 0)
		return 0;
	api_conns_stream_forget(c->a->conns, c->req);
	if (r < 0)
		remote_reply(rc, rp, "");
	free(rc);
	return r < 0 ? 0 : 1;
}

static int
cmd_remote(struct call *c, const struct ops_request *rq, struct ops_reply *rp)
{
	return remote_give(c, rq, 0, NULL, rp);
}

/* A group change on a member that does not lead: 1 to apply it here. */
static int
group_remote(struct call *c, int gop, const struct ops_group_spec *sp)
{
	struct ops_reply rp;

	if (c->a->h.group == NULL)
		return 1;
	memset(&rp, 0, sizeof(rp));
	return remote_give(c, NULL, gop, sp, &rp);
}
