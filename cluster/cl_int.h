/*
 * cl_int.h - what cl.c (the client and its requests) and cl_watch.c (the
 * watch streams) share: the client struct and one libcurl transfer to
 * one endpoint.  Not for use outside cluster/.
 */
#ifndef FAILOVERD_CL_INT_H
#define FAILOVERD_CL_INT_H

#include <stdbool.h>
#include <stdint.h>

#include <curl/curl.h>

#include "cluster/cl.h"
#include "cluster/cl_lines.h"

struct event;
struct cl_xfer;

/*
 * A transfer's bytes arrived (from inside libcurl's write callback: only
 * buffer them, call nobody).  Return false to stop the transfer.
 */
typedef bool cl_xfer_data_fn(struct cl_xfer *, const char *, size_t);
/*
 * A transfer ended (from check_multi_info, outside libcurl): res is
 * libcurl's code, or CURLE_OK for a transfer stopped by its data
 * function.  The handle is already out of the multi.
 */
typedef void cl_xfer_done_fn(struct cl_xfer *, CURLcode res);

struct cl_xfer {
	struct cl_client	*c;
	CURL			*easy;
	void			*owner;
	cl_xfer_data_fn		*data;
	cl_xfer_done_fn		*done;
	bool			 running;	/* in the multi */
	bool			 stopped;	/* by its data function */
	size_t			 ep;		/* endpoint of this attempt */
	int64_t			 started_us;
	char			 errbuf[CURL_ERROR_SIZE];
};

struct cl_client {
	struct event_base	*base;
	CURLM			*multi;
	struct event		*timer_ev;	/* libcurl's timeout */
	int			 running;
	char			*eps[CL_MAX_ENDPOINTS];
	size_t			 neps;
	size_t			 cur;		/* sticky endpoint */
	int64_t			 timeout_ms;
	int64_t			 idle_ms;
	struct curl_slist	*hdrs;
	cl_clock_fn		*clock;
	void			*clock_arg;
	struct cl_req		*reqs;		/* in flight */
	struct cl_watch		*watches;	/* all of them */
	struct cl_watch		*pending;	/* with lines to hand out */
	bool			 freeing;
};

int	 cl_xfer_init(struct cl_xfer *, struct cl_client *, void *owner,
	    cl_xfer_data_fn *, cl_xfer_done_fn *);
/*
 * Start a POST of body (borrowed: must live until the transfer ends) to
 * endpoint ep + path.  timeout_ms bounds the whole transfer (0: only the
 * connection, for a stream).  0 or CL_E_CURL.
 */
int	 cl_xfer_start(struct cl_xfer *, size_t ep, const char *path,
	    const char *body, int64_t timeout_ms);
/* Take a running transfer out of the multi (no done call).  Idempotent. */
void	 cl_xfer_stop(struct cl_xfer *);
void	 cl_xfer_deinit(struct cl_xfer *);
long	 cl_xfer_status(struct cl_xfer *);
/* Whether any request byte went out (a write may have been applied). */
bool	 cl_xfer_sent(struct cl_xfer *);

/* An attempt at ep got an answer from etcd: make ep the sticky one. */
void	 cl_endpoint_ok(struct cl_client *, size_t ep);
/* ep failed (no connection, timeout, 5xx): move on from it, and make the
 * watches streaming from it move too. */
void	 cl_endpoint_failed(struct cl_client *, size_t ep);

/* cl_watch.c, for the client. */
void	 cl_watches_endpoint_failed(struct cl_client *, size_t ep);
void	 cl_watch_drain_pending(struct cl_client *);
void	 cl_watch_free_all(struct cl_client *);

#endif
