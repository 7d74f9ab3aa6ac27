/*
 * dnsup.h - the DNS update engine: TSIG-signed RFC 2136 UPDATEs and plain
 * queries on the caller's libevent loop, never blocking.
 *
 * Transport: each request has its own non-blocking socket connect()ed to
 * the server (so a server that is down shows as ECONNREFUSED at once, and
 * every answer on the socket comes from that server), a random message id
 * that no other request in flight holds, and a timeout per try.  A server is
 * tried 1 + retries times, then the next configured server, in order.  UDP
 * first; TCP when the answer is truncated or the message is larger than 512
 * bytes.  An answer must match the request's id and question (zone section)
 * and carry a TSIG that verifies against the request's MAC, with a time
 * within the fudge and no TSIG error: anything else is dropped (garbage,
 * other ids, other questions) or remembered as a rejection (unsigned, bad
 * MAC), while we keep waiting for a trustworthy answer until the try times
 * out; a server whose answer was rejected is not asked again.  Only when no
 * server gave a trustworthy answer is the rejection reported (BADSIG,
 * BADKEY, unsigned_response, bad_response ...) rather than a timeout.
 *
 * Coalescing: updates submitted within coalesce_ms (0: the same loop
 * iteration) are packed, at most batch_max per message, into few UPDATEs,
 * which the server applies atomically (measured with named 9.18: 1,000
 * flips in batches of 40-80 finish sooner than in batches of 200 or more,
 * which named applies more slowly, or one per message, which it applies
 * one at a time); names in one message are distinct
 * (a second update for a name waits until the first completes, keeping
 * their order).  When a message with several updates fails for any reason,
 * each of its updates is sent again alone, so that one bad update (a lost
 * prerequisite, a name outside the zone) never holds the others back.
 *
 * Every accepted update and query gets exactly one callback, from the loop,
 * never from within dnsup_submit()/dnsup_query(); dnsup_engine_free() calls
 * the outstanding ones with DNSUP_R_CANCELLED.  Callbacks may submit more
 * work but must not free the engine.  The engine never logs.
 */
#ifndef FAILOVERD_DNSUP_H
#define FAILOVERD_DNSUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "config/config.h"
#include "dnsupdate/dnsup_msg.h"

struct event_base;
struct dnsup_engine;

struct dnsup_params {
	const char		  *zone;	/* absolute; copied */
	const struct cfg_tsig_key *key;		/* copied; NULL: unsigned */
	const struct cfg_hostport *servers;	/* copied; tried in order */
	size_t			   nserver;
	int64_t			   timeout_ms;	/* per try; 0: 2000 */
	int			   retries;	/* per server, after the first */
	int			   coalesce_ms;	/* 0: same loop iteration */
	size_t			   batch_max;	/* updates per message; 0: 64 */
	size_t			   max_inflight; /* messages; 0: 256 */
	bool			   tcp_only;	/* always TCP */
	time_t			 (*wallclock)(time_t *); /* NULL: time() */
};

/* How one update or query ended. */
struct dnsup_outcome {
	enum dnsup_result	 result;
	char			 detail[256];
	char			 server[72];	/* "127.0.0.1#53" last asked */
	int64_t			 elapsed_us;	/* submit to completion */
	int			 tries;		/* messages sent for it */
	size_t			 batch;		/* updates in the message that
						   carried it (1: alone) */
};

typedef void (*dnsup_update_cb)(const struct dnsup_outcome *, void *arg);
typedef void (*dnsup_query_cb)(const struct dnsup_outcome *,
    const struct dnsup_found *, void *arg);

/*
 * Create an engine on base.  Returns NULL with err on bad parameters (no
 * server, bad zone or address).  Free with dnsup_engine_free().
 */
struct dnsup_engine *dnsup_engine_new(struct event_base *base,
	    const struct dnsup_params *, char *err, size_t errlen);
/* Cancel everything outstanding (callbacks get DNSUP_R_CANCELLED); free. */
void	 dnsup_engine_free(struct dnsup_engine *);
struct event_base *dnsup_engine_base(const struct dnsup_engine *);
const char	*dnsup_engine_zone(const struct dnsup_engine *);

/*
 * Queue one update (copied; u->name must be in the zone).  Returns 0, the
 * callback then comes exactly once; or -1 (bad argument, no memory, engine
 * closing) and no callback.
 */
int	 dnsup_submit(struct dnsup_engine *, const struct dnsup_update *u,
	    dnsup_update_cb cb, void *arg);

/*
 * Ask server (NULL: the configured servers in order) for qname/qtype without
 * recursion and unsigned; the callback gets the records found (NULL unless
 * NOERROR or NXDOMAIN).  Returns 0 or -1 as dnsup_submit().
 */
int	 dnsup_query(struct dnsup_engine *, const struct cfg_hostport *server,
	    const char *qname, int qtype, dnsup_query_cb cb, void *arg);

struct dnsup_stats {
	uint64_t	 updates;	/* submitted */
	uint64_t	 messages;	/* UPDATE messages built */
	uint64_t	 batched;	/* messages with more than one update */
	uint64_t	 split;		/* batches retried one by one */
	uint64_t	 queries;
	uint64_t	 tcp;		/* tries over TCP */
	uint64_t	 rejected;	/* answers rejected */
	uint64_t	 ignored;	/* datagrams dropped (no match) */
	size_t		 inflight;	/* updates + queries outstanding now */
};
void	 dnsup_engine_stats(const struct dnsup_engine *, struct dnsup_stats *);

/*
 * Helpers of the engine for dnsup_check.c: objects with their own timers
 * register so that dnsup_engine_free() can end them first (cancel must
 * remove the child, free its timers and call its callback once).
 */
struct dnsup_child {
	void			(*cancel)(struct dnsup_child *);
	struct dnsup_child	 *next, *prev;
};
void	 dnsup_child_add(struct dnsup_engine *, struct dnsup_child *);
void	 dnsup_child_remove(struct dnsup_engine *, struct dnsup_child *);
/* "ADDR#PORT" */
void	 dnsup_hostport_format(const struct cfg_hostport *, char *, size_t);

#endif
