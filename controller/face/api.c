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
 * implementation shared with failoverctl; their handlers are in api_v1.c,
 * the dashboard's in api_page.c, run-time groups' in api_groups.c (what
 * they share is api_int.h).  /metrics and /healthz are here.
 */
#include "controller/face/api.h"
#include "controller/face/api_int.h"

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

#include "controller/face/api_conn.h"
#include "controller/face/api_dash.h"
#include "controller/base/prom.h"
#include "controller/base/guard.h"
#include "controller/base/log.h"


struct route {
	const char	*pat[API_SEGS_MAX];	/* "*": any one segment */
	int		 methods;
	api_handler	*fn;
};

static void	 request_cb(struct evhttp_request *, void *);
static void	 request_handle(struct api *, struct evhttp_request *);
static api_handler h_healthz, h_metrics, h_cluster;

static const struct route routes[] = {
	{ { "healthz" }, M_GET, h_healthz },
	{ { "metrics" }, M_GET, h_metrics },
	{ { "v1", "groups" }, M_GET, api_h_groups },
	{ { "v1", "groups", "*" }, M_GET, api_h_group },
	{ { "v1", "groups", "*", "switch" }, M_POST, api_h_command },
	{ { "v1", "groups", "*", "pause" }, M_POST, api_h_command },
	{ { "v1", "groups", "*", "resume" }, M_POST, api_h_command },
	{ { "v1", "groups", "*", "pin" }, M_POST, api_h_command },
	{ { "v1", "groups", "*", "unpin" }, M_POST, api_h_command },
	{ { "v1", "groups", "*", "rearm" }, M_POST, api_h_command },
	{ { "v1", "stacks" }, M_GET, api_h_stacks },
	{ { "v1", "stacks", "*" }, M_GET, api_h_stack },
	{ { "v1", "stacks", "*", "failover-status" }, M_GET, api_h_failover_status },
	{ { "v1", "events" }, M_GET, api_h_events },
	/* The dashboard (api_dash.c) */
	{ { NULL }, M_GET, api_h_page },
	{ { "v1", "groups", "*", "plan" }, M_GET, api_h_plan },
	{ { "v1", "groups", "*", "dns" }, M_GET, api_h_dns },
	{ { "v1", "events", "stream" }, M_GET, api_h_stream },
	{ { "v1", "history", "verify" }, M_GET, api_h_verify },
	/* Groups made at run time */
	{ { "v1", "groups" }, M_POST, api_h_group_add },
	{ { "v1", "groups", "*" }, EVHTTP_REQ_PATCH, api_h_group_set },
	{ { "v1", "groups", "*" }, EVHTTP_REQ_DELETE, api_h_group_del },
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

const char *
api_peer_of(struct evhttp_request *req, char *buf, size_t len)
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
void
api_log_reply(struct call *c, int code, const char *why)
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
			    log_q(c->path), code, api_peer_of(c->req, peer,
			    sizeof(peer)), log_q(why));
		else
			log_info("api_refused", "method=%s path=%s http_status=%d"
			    " peer=%s detail=%s", method_name(c->method),
			    log_q(c->path), code, api_peer_of(c->req, peer,
			    sizeof(peer)), log_q(why));
	} else if (log_get_level() >= LOGL_DEBUG && log_rl_allow(&rl_debug))
		log_debug("api_request", "method=%s path=%s http_status=%d peer=%s",
		    method_name(c->method), log_q(c->path), code,
		    api_peer_of(c->req, peer, sizeof(peer)));
}

/* Send a JSON value (reference stolen) with code. */
void
api_reply_json(struct call *c, int code, json_t *v)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(c->req);
	struct evbuffer *b = evhttp_request_get_output_buffer(c->req);
	char *s = NULL;

	if (v != NULL)
		s = json_dumps(v, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(v);
	if (s == NULL) {
		api_log_reply(c, 500, "out of memory");
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
		api_log_reply(c, code, NULL);
	evhttp_send_reply(c->req, code, reason_phrase(code), NULL);
}

/* {"error": "...", "status": code} */

void
api_reply_error(struct call *c, int code, const char *fmt, ...)
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
	api_log_reply(c, code, msg);
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
		api_reply_error(c, 403, "no api_token_file is configured: the"
		    " API refuses every change");
		return false;
	}
	if (a->token_state != TOKEN_OK) {
		api_reply_error(c, 403, "the api_token_file is unusable (see the"
		    " daemon's log): the API refuses every change");
		return false;
	}
	v = evhttp_find_header(h, "Authorization");
	if (v == NULL || strncasecmp(v, "Bearer ", 7) != 0) {
		evhttp_add_header(evhttp_request_get_output_headers(c->req),
		    "WWW-Authenticate", "Bearer realm=\"failoverd\"");
		api_reply_error(c, 401, "missing bearer token");
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
		api_reply_error(c, 401, "wrong bearer token");
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
	api_log_reply(c, 200, NULL);
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
	api_log_reply(c, 200, NULL);
	evhttp_send_reply(c->req, 200, "OK", NULL);
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
		api_reply_error(&c, 421, "Host %s does not name this API (%s, "
		    "localhost, or an api_host): refused, as a DNS rebinding "
		    "would be", named, a->where);
		goto out;
	}
	if (!split_path(&c, c.path)) {
		api_reply_error(&c, 404, "no such resource");
		goto out;
	}
	q = uri != NULL ? evhttp_uri_get_query(uri) : NULL;
	if (q != NULL && evhttp_parse_query_str(q, &c.query) != 0) {
		api_reply_error(&c, 400, "malformed query string");
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
		api_reply_error(&c, 405, "method %s not allowed here",
		    method_name(c.method));
	} else
		api_reply_error(&c, 404, "no such resource");
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


/* ---- the cluster (issue 14) ---- */

/* GET /v1/cluster: members, roles, the leader and its epoch. */
static void
h_cluster(struct call *c)
{
	json_t *o;

	if (c->a->h.cluster == NULL) {
		api_log_reply(c, 404, "no cluster");
		evhttp_send_error(c->req, 404, NULL);
		return;
	}
	if ((o = c->a->h.cluster(c->a->h.arg)) == NULL) {
		api_log_reply(c, 500, "out of memory");
		evhttp_send_error(c->req, 500, NULL);
		return;
	}
	api_reply_json(c, 200, o);
}
