/*
 * api_dash.h - what the dashboard needs of the API beyond its JSON: the
 * page built into the binary (GET /), the live stream of history events
 * (GET /v1/events/stream) and what each authoritative server answers for
 * a group now.  For api.c only; everything runs on the daemon's loop.
 */
#ifndef FAILOVERD_API_DASH_H
#define FAILOVERD_API_DASH_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct api_host;
struct api_conns;
struct evhttp_request;
struct api_dash;

/*
 * Assemble the page from the built-in files (the style sheet and the
 * script put inline, each named by its SHA-256 in the Content-Security-
 * Policy) and get ready for streams on conns' connections.  NULL with err
 * when the built-in files do not fit together or memory is short.
 */
struct api_dash	*api_dash_new(const struct api_host *, struct api_conns *,
		    char *err, size_t errlen);
/*
 * End every stream and drop every event of ours; call before evhttp_free()
 * (the connections, and their requests, are evhttp's to free).  Queries
 * still out come back to nothing.  NULL ok.
 */
void		 api_dash_free(struct api_dash *);

/* The page: its bytes (borrowed, valid until api_dash_free), ... */
const char	*api_dash_page(const struct api_dash *, size_t *len);
/* ... its Content-Security-Policy and its ETag (a quoted string). */
const char	*api_dash_csp(const struct api_dash *);
const char	*api_dash_etag(const struct api_dash *);

/* How api_dash_stream() ended. */
enum api_dash_stream_rc {
	API_DASH_STREAMING = 0,	/* answered 200, the stream is ours now */
	API_DASH_FULL,		/* at the cap: nothing sent, answer 503 */
	API_DASH_FAILED,	/* nothing sent, answer 500 */
};

/*
 * Answer req with a text/event-stream: every history event recorded from
 * now on (after from when from > 0: at most API_DASH_REPLAY of the events
 * since, oldest first) as "id: SEQ / event: history / data: EVENT-JSON",
 * a first "event: hello" with the newest sequence number, and a comment
 * every API_DASH_KEEPALIVE_S.  At most max_streams at once.  The stream
 * ends when the client goes, when it falls more than API_DASH_BACKLOG
 * bytes behind, or at api_dash_free().
 */
#define API_DASH_REPLAY		500
#define API_DASH_KEEPALIVE_S	15
#define API_DASH_BACKLOG	(1024 * 1024)
enum api_dash_stream_rc api_dash_stream(struct api_dash *,
		    struct evhttp_request *, uint64_t from, int max_streams);
/* Streams open now. */
int		 api_dash_streams(const struct api_dash *);

/*
 * {"group":..,"name":..,"servers":[{"server":"127.0.0.1#53",
 * "answer":"CNAME app1.example.net."|null,"ttl":N|null,"result":
 * "NOERROR"|..,"asked_ms":N|null,"detail":..}]} for the group at index
 * gi of the configuration in force: each [dns] server and confirm server
 * as last asked, asked again (in the background) when that is older than
 * API_DASH_DNS_FRESH_MS.  NULL when memory is short.
 */
#define API_DASH_DNS_FRESH_MS	2000
json_t		*api_dash_dns(struct api_dash *, int gi);

#endif
