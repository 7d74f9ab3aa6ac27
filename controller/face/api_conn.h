/*
 * api_conn.h - the API's connections: accepting, a cap on how many are
 * held, a deadline for each request, a pause when the host has no
 * descriptor left, and evhttp's own error answers made JSON.  For api.c
 * only.
 *
 * All of it runs at DAEMON_PRIO_API (guard.h): load on the API never
 * delays probes, decisions, the store or DNS.
 */
#ifndef FAILOVERD_API_CONN_H
#define FAILOVERD_API_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event_base;
struct evhttp;
struct evhttp_request;
struct sockaddr_storage;
struct api_conns;

struct api_conns_stats {
	int		 open;		/* connections held now */
	int		 max;		/* the cap in force */
	uint64_t	 accepted;	/* handed to evhttp */
	uint64_t	 refused;	/* answered 503 and closed at the cap */
	uint64_t	 deadline;	/* closed without a whole request in time */
	uint64_t	 pauses;	/* times accepting paused (EMFILE, ...) */
	bool		 paused;	/* paused now */
};

/*
 * Take over fd (a listening socket; closed by api_conns_free) and accept
 * on it for http, holding at most max connections; a request must arrive
 * whole within deadline_s seconds of its connection's opening or of the
 * previous answer on it.  NULL with err on failure (fd is closed).
 */
struct api_conns *api_conns_new(struct event_base *, struct evhttp *, int fd,
	    int max, int deadline_s, char *err, size_t errlen);
/*
 * Stop accepting and drop every event of ours; call before evhttp_free(),
 * then api_conns_free() after it.  NULL ok.
 */
void	 api_conns_close(struct api_conns *);
void	 api_conns_free(struct api_conns *);
void	 api_conns_set_max(struct api_conns *, int max);
void	 api_conns_stats(const struct api_conns *, struct api_conns_stats *);

/*
 * Around the handling of one request: begin stops the connection's
 * deadline and marks what is written as ours (api_conn.c rewrites only
 * evhttp's own error answers); end starts the deadline for the next
 * request.  Every evhttp request callback calls both.
 */
void	 api_conns_request_begin(struct api_conns *, struct evhttp_request *);
void	 api_conns_request_end(struct api_conns *, struct evhttp_request *);

/*
 * The answer to req is a stream (evhttp_send_reply_start, then chunks)
 * that outlives its handler: from now on its connection has no request
 * deadline, reading never times out, and writing times out after write_s
 * seconds (a client that stops reading is closed).  closed(req, arg) is
 * called once when the connection ends, unless api_conns_stream_forget()
 * came first; a request evhttp let go of then (evhttp_request_get_
 * connection() is NULL) is the callee's to end with evhttp_send_reply_end,
 * which frees it.  false if the connection is not one of ours.
 */
typedef void api_conns_closed_fn(struct evhttp_request *, void *);
bool	 api_conns_stream(struct api_conns *, struct evhttp_request *,
	    int write_s, api_conns_closed_fn *closed, void *arg);
void	 api_conns_stream_forget(struct api_conns *, struct evhttp_request *);

/* The local address of the request's connection; false if unknown. */
bool	 api_conns_local(struct evhttp_request *, struct sockaddr_storage *);

#endif
