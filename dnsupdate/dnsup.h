/*
 * dnsup.h - the DNS update engine: TSIG-signed RFC 2136 UPDATEs and queries
 * on the caller's libevent loop, never blocking.
 *
 * Transport: each request has its own non-blocking socket connect()ed to
 * the server (so a server that is down shows as ECONNREFUSED at once, and
 * every answer on the socket comes from that server), a random message id
 * that no other request in flight holds, and a timeout per try.  A server is
 * tried 1 + retries times, then the next configured server, in order.  UDP
 * first; TCP when the answer is truncated, the message is larger than 512
 * bytes, or a try over UDP timed out (the server's later tries go over TCP,
 * and for a minute so do new requests to it), or always with tcp_only.
 * Every try is signed anew, so that the last try of a long schedule is
 * still within the TSIG fudge.  An answer must match the request's id and
 * question (zone section) and carry a TSIG that verifies against the
 * request's MAC, with a time within the fudge and no TSIG error: anything
 * else is dropped (garbage, other ids, other questions) or remembered as a
 * rejection (unsigned, bad MAC), while we keep waiting for a trustworthy
 * answer until the try times out; a server whose answer was rejected is
 * not asked again.  A server that answers REFUSED, NOTAUTH, SERVFAIL or
 * NOTIMP (or a query without AA) is not asked again either: the next one
 * is.  When no server gave an answer that settles it, the most telling
 * error is reported: a definite answer before a rejection (BADSIG, BADKEY,
 * unsigned_response, bad_response ...), a rejection before a timeout.
 *
 * Queries go to authoritative servers only, and are signed with the key
 * when they go to one of the configured servers (the primary knows it);
 * their answers must have AA set.
 *
 * Slots: UPDATE messages and queries have their own slots, so that a flip
 * never waits behind read-back traffic: queries max_inflight, UPDATEs at
 * most 32 of them (the server applies them one at a time anyway, and a
 * large one is a TCP connection: named serves 150 at once); urgent queries
 * (the read-backs that an UPDATE waits for) go before the others and have
 * a few slots of their own beyond max_inflight.
 *
 * Coalescing: updates submitted within coalesce_ms (0: the same loop
 * iteration) are packed, at most batch_max per message, into few UPDATEs,
 * which the server applies atomically (measured with named 9.18: 1,000
 * flips in batches of 40-80 finish sooner than in batches of 200 or more,
 * which named applies more slowly, or one per message, which it applies
 * one at a time); names in one message are distinct
 * (a second update for a name waits until the first completes, keeping
 * their order).  Except for an update marked supersede (a flip), which
 * must never wait behind a lesser one (a TTL change): the updates queued
 * for its name and not yet sent end with DNSUP_R_CANCELLED ("superseded"),
 * and if it carries a compare-and-swap on the records (DNSUP_PREREQ_IS) it
 * goes out beside one in flight: whichever the server applies second
 * finds the records it requires, or fails its prerequisite and changes
 * nothing, so the one sent earlier can never undo it.  Without that
 * prerequisite it waits, as any other.  When a message with several updates fails with an error
 * that belongs to one of them (a lost prerequisite, a name outside the
 * zone, FORMERR, REFUSED by a per-name policy), each is sent again alone,
 * so that one bad update never holds the others back; any other error
 * (BADKEY, a timeout ...) is every member's outcome at once.
 *
 * A lost answer.  A try that got no answer (a timeout, a TCP connection
 * closed after the request was written, a rejected answer) may have been
 * applied.  When a later try then fails its prerequisite, the name is read
 * back from the server that said so (signed, urgent): if it holds what
 * was sent (records and ownership TXT), the update succeeded.
 *
 * A late answer to a query.  A query over UDP is sent again within its
 * try at the server's retransmission timeout (its smoothed round trip, at
 * least 200 ms), doubled each time: a lost datagram costs that, not the
 * whole timeout and a retry over TCP.  UPDATEs are never sent twice in one
 * try.  Queries in flight start at 32 and grow by one per answer (up to
 * max_inflight); a query sent again halves them, so that a burst of
 * read-backs does not overflow the server's socket.
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
	size_t			   max_inflight; /* queries; 0: 256 (UPDATEs:
						   at most 32) */
	bool			   tcp_only;	/* always TCP ([dns] transport
						   = tcp) */
	time_t			 (*wallclock)(time_t *); /* NULL: time() */
	const char		  *hosts_file;	/* the system resolver's;
						   NULL: /etc/hosts */
	const char		  *resolv_conf;	/* NULL: /etc/resolv.conf */
	int			   priority;	/* of the engine's events, on a
						   base with priorities (0: the
						   first); -1: libevent's
						   default */
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
 * recursion, signed when the server is a configured one; the callback gets
 * the records found (NULL unless NOERROR or NXDOMAIN, with AA).  With
 * DNSUP_Q_URGENT the query goes before the others.  Returns 0 or -1 as
 * dnsup_submit().
 */
#define DNSUP_Q_URGENT	0x1
int	 dnsup_query(struct dnsup_engine *, const struct cfg_hostport *server,
	    const char *qname, int qtype, unsigned flags, dnsup_query_cb cb,
	    void *arg);

/*
 * The system resolver, for names outside the zone (the addresses of an NS
 * set's name servers): dnsup_hosts_lookup() reads the hosts file (a small
 * local file, read at each call) and returns how many addresses it found
 * for name into rs (0: none, -1: no file); dnsup_query_recursive() asks the
 * name servers of resolv.conf (127.0.0.1 when it names none), in order,
 * with recursion desired and unsigned, and takes an answer without AA.
 */
int	 dnsup_hosts_lookup(const struct dnsup_engine *, const char *name,
	    struct dnsup_rrset *rs);
int	 dnsup_query_recursive(struct dnsup_engine *, const char *qname,
	    int qtype, dnsup_query_cb cb, void *arg);

struct dnsup_stats {
	uint64_t	 updates;	/* submitted */
	uint64_t	 messages;	/* UPDATE messages built */
	uint64_t	 batched;	/* messages with more than one update */
	uint64_t	 split;		/* batches retried one by one */
	uint64_t	 queries;
	uint64_t	 tcp;		/* tries over TCP */
	uint64_t	 tcp_fallback;	/* UDP timeouts followed by TCP */
	uint64_t	 resent;	/* UDP queries sent again within a try
					   (their answer late: rto_ms()) */
	size_t		 qwnd;		/* queries allowed in flight now */
	uint64_t	 next_server;	/* definite errors, next server asked */
	uint64_t	 resigned;	/* tries signed again */
	uint64_t	 applied;	/* prerequisite failures found applied
					   by an earlier try */
	uint64_t	 rejected;	/* answers rejected */
	uint64_t	 superseded;	/* queued updates replaced by a
					   supersede (cancelled) */
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
/* Is hp one of the engine's configured servers (same address and port)? */
bool	 dnsup_engine_is_server(const struct dnsup_engine *,
	    const struct cfg_hostport *hp);
/* The engine's configured servers (borrowed, for the engine's life). */
const struct cfg_hostport *dnsup_engine_servers(const struct dnsup_engine *,
	    size_t *n);

#endif
