/*
 * probe.h - the HTTP(S) probe engine: many periodic health checks on one
 * libevent loop, driven by libcurl's multi_socket interface.
 *
 * The caller owns the event_base and runs it; the engine adds events to it
 * and reports every finished check through one callback as a struct
 * probe_result.  It never logs, never exits and never blocks; it decides
 * nothing: success or failure and a reason, the controller does the rest.
 *
 * Each probe has one deadline on the monotonic clock.  The next one is the
 * previous *planned* time plus the current period (interval, fastinter or
 * downinter, chosen by probe_set_mode()), so the schedule never drifts.  A
 * probe still running when its next round is due is not doubled: that
 * round waits and starts when the running check ends (HAProxy's semantics
 * for a timeout longer than the interval), counted in
 * struct probe_stats.skipped.  First rounds
 * are spread over the first interval, in groups of up to 64 probes 0.1 ms
 * apart (see probe.c for why).  Probes due within 5 ms of each other start
 * in the same wake-up, so a check may start up to 5 ms before its time.
 *
 * Keep-alive never changes a verdict.  Checks reuse their kept-alive
 * connection, and a server may close an idle connection at any moment (a
 * busy nginx reclaims them to accept new ones).  A check whose request
 * went out on a reused connection and got not a single byte back (closed,
 * reset, empty reply) is run again at once on a fresh connection, within
 * what is left of the same check's timeout, and only that second result
 * counts (RFC 9112 section 9.3.1: a GET may be retried).  A connection
 * found closed before it was used is simply replaced.  Both are reported
 * as probe_result.reconnected, so that a web head dropping connections
 * shows without ever being called down for it.
 *
 * An idle kept-alive connection that the web head closes or resets
 * starts the probe's check at once (probe_result.immediate), at most once
 * per fastinter and once per scheduled round; the result counts like any
 * other (see probe.c, "Events").
 *
 * Not thread-safe: call everything from the loop's thread.
 */
#ifndef FAILOVERD_PROBE_H
#define FAILOVERD_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"	/* struct cfg_status_set */

struct event_base;
struct probe_engine;
struct probe;

/* Why a check failed; PROBE_R_OK (0) when it succeeded. */
enum probe_reason {
	PROBE_R_OK = 0,
	PROBE_R_CONNECT,	/* refused, unreachable, reset on connect */
	PROBE_R_TIMEOUT,	/* no complete answer within timeout */
	PROBE_R_TLS,		/* handshake or certificate verification */
	PROBE_R_STATUS,		/* HTTP status outside the expected set */
	PROBE_R_BODY,		/* expect_body not in the first 64 KiB */
	PROBE_R_DNS,		/* the URL's host name did not resolve */
	PROBE_R_PROTOCOL,	/* not HTTP, or the answer broke off */
	PROBE_R_INTERNAL,	/* libcurl refused or failed (a bad option) */
	PROBE_R_LOCAL,		/* a fault of the controller's own host: no
				   descriptor, no memory, no local address
				   (EMFILE, ENFILE, ENOMEM, ENOBUFS,
				   EADDRNOTAVAIL), or a timeout the
				   controller itself was too late to see
				   (see "Late" in probe.c); says nothing of
				   the stack,
				   so the caller retries it (probe_is_local) */
};
#define PROBE_R_COUNT	(PROBE_R_LOCAL + 1)

/* "ok" "connect" "timeout" "tls" "status" "body" "dns" "protocol"
 * "internal" "local"; "invalid" for anything else.  Static strings. */
const char *probe_reason_name(enum probe_reason);

/* Which period schedules the next round. */
enum probe_mode {
	PROBE_MODE_NORMAL = 0,	/* interval */
	PROBE_MODE_FAST,	/* fastinter: between states */
	PROBE_MODE_DOWN,	/* downinter: down */
};

/* Bytes of body read at most; then the transfer is stopped. */
#define PROBE_BODY_MAX		(64 * 1024)
/* Longest expect_body accepted. */
#define PROBE_EXPECT_MAX	1024

/*
 * What to probe and how.  Every string is copied by probe_add() and
 * probe_update(): the spec may be freed once they return.
 */
struct probe_spec {
	const char	*url;		/* http:// or https:// */
	const char	*host;		/* NULL, or the name (no port) to send
					   as Host (and as TLS SNI, verified
					   against the certificate) while
					   connecting to url's host and port */
	int64_t		 timeout_ms;	/* whole transfer */
	int64_t		 interval_ms;
	int64_t		 fastinter_ms;	/* <= 0: interval_ms */
	int64_t		 downinter_ms;	/* <= 0: interval_ms */
	struct cfg_status_set expect_status;	/* n == 0: 200-399 */
	struct cfg_status_set standby_expect_status; /* n == 0: expect_status */
	const char	*expect_body;	/* NULL or a substring to find */
	bool		 tls_verify;	/* false turns verification off */
	const char	*ca_file;	/* NULL: the system's CAs */
	bool		 fresh_connect;	/* a new connection every round (no
					   keep-alive reuse); see probe.c */
	const char	*source_address; /* NULL, or the numeric local address
					   checks are sent from (a member's
					   own vantage point on a multi-homed
					   host); not one of this host's: the
					   checks fail as PROBE_R_LOCAL */
};

/*
 * Fill a spec with the defaults of failoverd.conf(5): interval 1s,
 * timeout 2s, fastinter and downinter as interval, 200-399, tls_verify
 * on; url NULL.  Start from this rather than from zeroes, where
 * tls_verify would be off.
 */
void	 probe_spec_init(struct probe_spec *);

/* One finished check.  detail is borrowed: valid during the callback. */
struct probe_result {
	bool		 ok;
	enum probe_reason reason;
	int		 http_status;	/* 0: none received */
	int64_t		 latency_us;	/* transfer time, as libcurl measured */
	int64_t		 started_ms;	/* monotonic, when the check began */
	int64_t		 wall_ms;	/* the same instant, ms since the epoch */
	int64_t		 planned_us;	/* monotonic, when it was due */
	int64_t		 late_us;	/* started - planned (may be < 0 by
					   the wake-up slack) */
	bool		 standby;	/* standby_expect_status applied */
	size_t		 body_bytes;	/* body bytes read */
	bool		 reconnected;	/* the kept-alive connection this check
					   was to reuse had been closed by the
					   web head (while idle, or as the
					   request went out): the check ran on
					   a new connection */
	bool		 retried;	/* ... and the request had already gone
					   out on the dead one: it was sent
					   again (reconnected is set too) */
	bool		 immediate;	/* started before its round because its
					   idle kept-alive connection closed */
	bool		 late;		/* PROBE_R_LOCAL: a timeout the
					   controller looked at too late to be
					   the stack's ("Late" in probe.c): it
					   is overloaded or was stopped */
	const char	*detail;	/* libcurl's message, or "" */
	int		 os_errno;	/* PROBE_R_LOCAL: the errno */
};

/*
 * Called once per finished check, from the event loop.  It may call
 * probe_set_mode(), probe_set_standby(), probe_update(), probe_remove()
 * (of this probe or any other) and probe_add(); not probe_engine_free().
 */
typedef void probe_result_cb(struct probe *, const struct probe_result *,
    void *udata);

/* Errors (negative). */
enum probe_error {
	PROBE_E_NOMEM = -1,
	PROBE_E_URL = -2,	/* not an http(s) URL, or host unusable */
	PROBE_E_SPEC = -3,	/* bad interval/timeout/expect_body */
	PROBE_E_CURL = -4,	/* libcurl refused an option */
	PROBE_E_EVENT = -5,	/* libevent failed */
};
const char *probe_strerror(int);

/*
 * The clock the engine reads, once per use: monotonic microseconds and
 * wall milliseconds.  Replaceable for tests and simulation.
 */
typedef void probe_clock_fn(void *arg, int64_t *mono_us, int64_t *wall_ms);

/*
 * Create an engine on base (borrowed; must outlive the engine).  cb gets
 * every result with the probe's udata.  NULL on failure.  Needs
 * curl_global_init() to have been called once by the program.
 */
struct probe_engine *probe_engine_new(struct event_base *base,
    probe_result_cb *cb);
/* Stop and free every probe (no callbacks), then the engine.  NULL ok. */
void	 probe_engine_free(struct probe_engine *);
void	 probe_engine_set_clock(struct probe_engine *, probe_clock_fn *,
	    void *arg);

/*
 * Add a probe; its first round comes within the first interval, spread
 * with the others.  Returns 0 and sets *out (owned by the engine until
 * probe_remove() or probe_engine_free()), or a negative enum probe_error.
 */
int	 probe_add(struct probe_engine *, const struct probe_spec *,
	    void *udata, struct probe **out) __attribute__((warn_unused_result));
/*
 * Replace a probe's spec.  All or nothing: on error the old spec stays.
 * A transfer in flight is cancelled without a result; the schedule keeps
 * its phase (the next round is the last planned one plus the new period,
 * or now if that has passed).
 */
int	 probe_update(struct probe *, const struct probe_spec *)
	    __attribute__((warn_unused_result));
/* Stop and free a probe, even mid-transfer (no callback).  NULL ok. */
void	 probe_remove(struct probe *);

/* Choose the period; takes effect for the next round. */
void	 probe_set_mode(struct probe *, enum probe_mode);
/* Judge statuses by standby_expect_status (true) or expect_status. */
void	 probe_set_standby(struct probe *, bool);
void	*probe_udata(const struct probe *);
/* Point a probe's results at another object (a reload moves stacks). */
void	 probe_set_udata(struct probe *, void *);
bool	 probe_is_running(const struct probe *);

struct probe_stats {
	uint64_t	 probes;	/* probes configured now */
	uint64_t	 started;	/* transfers begun */
	uint64_t	 finished;	/* results delivered */
	uint64_t	 skipped;	/* rounds not run: the last still ran,
					   or the loop was late by a period */
	uint64_t	 wakeups;	/* schedule timer wake-ups */
	uint64_t	 running;	/* transfers in flight now */
	uint64_t	 reconnects;	/* results with reconnected set */
	uint64_t	 retries;	/* results with retried set */
	uint64_t	 handles;	/* libcurl easy handles now (lent to
					   checks from a pool) */
	uint64_t	 immediate;	/* checks started early: their idle
					   connection closed */
	uint64_t	 kicks_held;	/* idle closes that started none (the
					   bound, or the round was due) */
	uint64_t	 late;		/* results with late set */
	uint64_t	 cap;		/* checks allowed in flight now, 0: no
					   limit ("Late" in probe.c) */
	uint64_t	 held;		/* times the schedule waited for it */
};
void	 probe_engine_stats(const struct probe_engine *, struct probe_stats *);

#endif
