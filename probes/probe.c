/*
 * probe.c - the probe engine: libcurl multi_socket on a libevent loop.
 *
 * The shape is curl's docs/examples/hiperfifo.c made daemon-grade:
 *
 *   struct probe_engine   event base, the shards, the schedule (a min-heap
 *                         of probes under one libevent timer), the result
 *                         callback
 *   struct probe_shard    one CURLM * and libcurl's timer event for it
 *                         (see "Shards" below)
 *   struct probe          one CURL * easy handle, reused round after round
 *                         (CURLOPT_PRIVATE points back), errbuf, schedule
 *   struct probe_sock     a socket libcurl asked us to watch, with its event
 *
 * and the five callbacks sock_cb, timer_cb, event_cb, timeout_cb and
 * check_multi_info.  libcurl is never called from inside timer_cb: it only
 * arms the libevent timer, and timeout_cb calls curl_multi_socket_action().
 *
 * Schedule.  One binary min-heap of probes keyed by the next due time
 * (sched.c), and one libevent timer armed for the earliest.  A wake-up
 * starts every probe due within PROBE_SLACK_US of now, so probes due close
 * together share one wake-up (NOTES.md: wake-ups per probe are a main
 * cost), and libcurl then drives a shard's new transfers from one
 * curl_multi_socket_action() call.  A probe stays in the heap while its
 * transfer runs: its next due time is set when it starts (planned + period,
 * skipping whole periods the loop already missed), and if that time comes
 * while the transfer still runs (timeout may exceed interval, as HAProxy's
 * `timeout check` may exceed `inter`), the round waits for it: it is
 * parked and starts as soon as the running transfer ends, so a stack never
 * has two checks in flight and the next one starts at the later of its
 * planned time and the end of the running one.  Each parked round counts
 * as skipped.
 *
 * Keep-alive.  Probes reuse their kept-alive connection (libcurl's default;
 * the multi's connection cache is sized to hold one per probe).  A new TCP
 * connection per check costs the web head and us a handshake and, on
 * loopback, about 3 times the CPU of the exchange itself (NOTES.md: 45 us
 * against 12 us).  Reuse does not hide a dead web head: a killed process
 * closes or resets the connection, the check goes to a fresh connection
 * (below) and the fresh connect is refused: reason "connect".  A vanished
 * host gives "timeout" either way.  What reuse would hide is a head that
 * serves old connections but no longer accepts new ones, or a certificate
 * that expired since the handshake, so a connection is used for at most
 * PROBE_CONN_LIFETIME_S seconds and then made again; spec.fresh_connect
 * forbids reuse altogether for those who want HAProxy's behaviour.
 *
 * Dead connections.  Keep-alive must never change a verdict, and a busy
 * server closes idle connections whenever it needs room (nginx at its
 * worker_connections "reuses" the least recently used ones), so a check
 * may find its connection closed, or see it closed under its request.
 * libcurl 7.88 does most of the work: before reusing a connection it
 * polls it and drops it if the peer closed it, and a request that got no
 * byte back on a reused connection is sent again on a fresh one.  But its
 * count of those retries lives in the easy handle and is reset only by
 * curl_easy_reset() (fixed in curl 8.17), so a handle reused round after
 * round, as ours are, gives up on every sixth dead connection with
 * "Connection died, tried 5 times before giving up".  That case, and any
 * other end with not a single response byte (no header byte: a close, a
 * reset, a failed send), is retried here by hand: the handle goes back
 * into the multi at once with CURLOPT_FRESH_CONNECT and the time left of
 * the check's timeout, and only that result counts.  Once per check, and
 * on a connection we made for the check too: nginx's "reusable"
 * connections, the ones it closes to make room, include those it has
 * accepted but whose request it has not read yet, and when none is left
 * it closes a new one outright, so a server at its limit also resets a
 * connection it has just accepted (seen as a rare failed check in
 * test_busy_webhead).  This hides no outage: a dead process refuses the
 * connect and a vanished host times out, neither of which is retried,
 * and a head that resets every connection fails the second attempt too.
 * Which probe used which connection is known from sock_cb (the transfer
 * that watches a socket owns it), so a check that began with a live
 * kept-alive connection and still had to make a new one is reported as
 * reconnected: the web head closed it, idle or under the request.
 *
 * Events.  A kept-alive connection stays in the event base between
 * checks (sock_cb), so when a web head's process dies the kernel closes
 * its end and our idle socket becomes readable at that instant, for free:
 * no system call is added to a check that finds nothing.  That event
 * starts the probe's check at once instead of at its next round
 * (probe_kick), which takes up to a whole interval off the detection of
 * a dead process, a closed port or a host that answers RST.  It is not a
 * failure: a server closing an idle connection at its keep-alive timeout
 * is normal, and the immediate check then succeeds on a new connection.
 * Bounded: at most one immediate check per fastinter, and none again
 * until a scheduled check has run, so a server that closes every
 * connection costs at most one extra check per round.  A check in flight
 * needs nothing of this: libcurl watches its socket, and a reset or a
 * close mid-check ends the transfer at once (retried once on a fresh
 * connection, which a dead process refuses).  A host that vanishes
 * without a packet (power, cable) sends nothing: only the schedule and
 * the timeout see it.
 *
 * Late.  libcurl fails a transfer whose deadline has passed before it
 * reads its socket, so a loop that looks late (stopped, or more checks
 * due than a core can run) turns answers waiting unread in the kernel
 * into timeouts: measured at 20,000 checks a second on one core, the
 * daemon fell 300 ms behind and started 1,756 switches of groups whose
 * web heads all answered.  A
 * timeout that ends more than PROBE_LATE_DIV-th of the timeout (at least
 * PROBE_LATE_MIN_US) after it was due is therefore the controller's
 * own lateness and says nothing of the stack: it is reported as
 * PROBE_R_LOCAL (probe_result.late), which the daemon does not count
 * (and says so, as local_fault).  A loop on time ends a timeout within a
 * few ms of it, so a real timeout stays one.  Such a timeout also halves
 * the number of checks allowed in flight (to running / 2, at least
 * PROBE_CAP_MIN, at most once per PROBE_CAP_SHRINK_US); each
 * PROBE_CAP_GROW_US with none adds an eighth back, until the cap is
 * gone.  Capped, due checks wait in the schedule (they start late and
 * are measured honestly) rather than start and time out unread: an
 * overloaded controller runs fewer checks, all of them true, instead of
 * all of them false.  Not counting a late timeout could hide a host that
 * vanished while the controller was overloaded; the cap is what lets
 * its checks time out on time again.
 *
 * Shards.  libcurl 7.88 walks its whole connection cache in every
 * curl_multi_remove_handle() of a transfer that left its connection
 * alive (to close "connect-only" connections), so one CURLM holding
 * 10,000 kept-alive connections costs O(N) per check and O(N^2) per
 * round: at 5,000 probes the loop fell a whole second behind.  Probes are
 * therefore spread over shards of PROBE_SHARD_SIZE, each its own CURLM
 * with its own connection cache and timer event; every shard shares the
 * one event base, the schedule and the socket contexts.  The cost of the
 * walk becomes a constant (a shard's few connections).
 *
 * Memory.  A probe holds no libcurl easy handle: easy handles (struct
 * probe_xfer) are lent to checks from one pool and given back when the
 * check ends, so there are about as many as checks run at once (a shard's
 * burst, a few dozen at 10,000 probes a second), not one per probe.  An
 * easy handle is some 8 KiB of libcurl's (struct Curl_easy alone is
 * 5.4 KiB, plus its buffers), which was most of a probe's 14 KiB; what
 * stays per probe is its parsed URL, its options and libcurl's kept-alive
 * connection, which lives in the shard's connection cache whatever handle
 * uses it.  A handle remembers whose options it carries (a generation of
 * struct probe_conf), so a probe running on the handle it had last sets
 * nothing; otherwise the few options that differ between probes are set
 * (CURLU, CONNECT_TO, timeouts, TLS, DNS cache): some hundreds of
 * instructions, against the 40,000 of a check.  Handles beyond what the
 * last two windows of PROBE_POOL_WINDOW_US (2 s) needed are freed: a
 * burst (the first rounds, a mass outage) gives its handles back within
 * 4 s (with 10 s windows they stayed 10 to 20 s, and the daemon of 10,000
 * stacks measured 19-20 KiB per endpoint 25 s after start instead of
 * 14-16); probes spread over their slots (probe_set_mode()) need about
 * the same number in any window longer than a few checks.  Everything a
 * round needs is allocated
 * when a probe is added or updated; socket contexts come from a free
 * list.  A steady round allocates nothing here (libcurl allocates inside
 * a transfer).  The program gives libcurl curlmem.c's allocator
 * (curlmem_global_init()): the 25 or so blocks libcurl makes and frees
 * per check come from size-class lists instead of glibc.
 *
 * Cost.  About 49,000 instructions per check in libcurl 7.88 (callgrind),
 * a quarter of them its printf building the request; the options below
 * that look odd (CURLOPT_CURLU, the User-Agent as a header, NOPROXY, the
 * DNS cache timeout) each remove a measured per-check cost.
 */
#include "probes/probe.h"

#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <curl/curl.h>

#include "probes/classify.h"
#include "probes/match.h"
#include "probes/sched.h"

#ifndef FAILOVERD_VERSION
#define FAILOVERD_VERSION "unknown"
#endif

/* Compile-time knobs, overridable for experiments (-D). */
#ifndef PROBE_SLACK_US
#define PROBE_SLACK_US		5000	/* start probes due this close */
#endif
#ifndef PROBE_RECV_BUFFER
#define PROBE_RECV_BUFFER	1024L	/* libcurl's read buffer: its minimum */
#endif
#ifndef PROBE_SHARD_SIZE
#define PROBE_SHARD_SIZE	64	/* probes per CURLM, see above */
#endif
#ifndef PROBE_GROUP_STEP_US
#define PROBE_GROUP_STEP_US	100	/* first rounds within a shard */
#endif
#ifndef PROBE_LATE_MIN_US
#define PROBE_LATE_MIN_US	50000	/* a timeout this late: see "Late" */
#define PROBE_LATE_DIV		4	/* ... or a quarter of the timeout */
#define PROBE_CAP_MIN		64	/* checks in flight, when capped */
#define PROBE_CAP_MAX		65536	/* above this: no cap */
#define PROBE_CAP_SHRINK_US	200000	/* halved at most this often */
#define PROBE_CAP_GROW_US	1000000	/* grown after this long on time */
#endif
#define PROBE_CONN_LIFETIME_S	60L	/* re-handshake at least this often */
#define PROBE_POOL_WINDOW_US	(2 * 1000000LL)	/* see xfer_put() */

enum probe_state {
	PROBE_S_IDLE = 0,	/* waiting in the heap */
	PROBE_S_RUNNING,	/* easy handle in the multi */
};

/* Why the write callback ended a transfer early. */
enum probe_stop {
	PROBE_STOP_NONE = 0,
	PROBE_STOP_FOUND,	/* expect_body seen, rest of body not needed */
	PROBE_STOP_CAP,		/* PROBE_BODY_MAX read */
};

/*
 * Everything built from one spec; swapped whole by probe_update().  gen
 * is unique per build: a handle carries this conf's options while its
 * applied_gen equals it.
 */
struct probe_conf {
	uint64_t		 gen;
	struct curl_slist	*connect_to;
	CURLU			*uh;		/* the URL, parsed once */
	char			*url;		/* ... and as libcurl formats it */
	char			*ca_file;	/* NULL: libcurl's default */
	char			*interface;	/* "host!ADDR" or NULL */
	long			 dns_cache_s;	/* CURLOPT_DNS_CACHE_TIMEOUT */
	long			 timeout_ms;	/* spec.timeout_ms, clamped */
	bool			 tls_verify;
	bool			 fresh_connect;	/* spec.fresh_connect */
	bool			 want_body;
	struct probe_match	 match;
	struct cfg_status_set	 expect;
	struct cfg_status_set	 standby_expect;
	int64_t			 period_us[3];	/* by enum probe_mode */
};

/* An easy handle, lent to one check at a time (see "Memory"). */
struct probe_xfer {
	CURL			*easy;		/* CURLOPT_PRIVATE: this */
	struct probe		*p;		/* the check it runs, or NULL */
	uint64_t		 applied_gen;	/* whose options it has, 0: none */
	struct probe_xfer	*next;		/* idle list */
	char			 errbuf[CURL_ERROR_SIZE];
};

struct probe {
	struct probe_engine	*e;
	struct probe_shard	*sh;
	void			*udata;
	struct probe_conf	 c;
	struct probe_xfer	*x;		/* while a check runs */
	struct probe_sock	*conn;		/* the connection it used last, while
						   it lives; see "Dead connections" */
	bool			 reuse_expected;	/* this check began with one */
	bool			 conn_lost;	/* its idle connection was closed
						   by the server and reaped */
	bool			 retried;	/* sent again on a fresh one */
	bool			 late;		/* this check's timeout came late */
	bool			 reconnected;	/* for the result */
	enum probe_state	 state;
	enum probe_mode		 mode;
	bool			 standby;
	struct sched_node	 node;		/* in e->sched */
	int64_t			 due_us;	/* next round */
	int64_t			 planned_us;	/* the round running/last run */
	int64_t			 phase0_us;	/* its slot: see probe_set_mode() */
	double			 phase;		/* of a period, 0 .. 1 */
	int64_t			 started_us;
	int64_t			 started_wall_ms;
	bool			 has_run;
	bool			 due_at_end;	/* due while running: start it
						   when the transfer ends */
	/* Immediate checks: see "Events" above. */
	bool			 kick_pending;	/* due now for an event */
	bool			 kick_armed;	/* a scheduled check ran since
						   the last immediate one */
	bool			 immediate;	/* the check running/last run
						   was one */
	int64_t			 kick_us;	/* the last one began */
	/* The transfer in flight. */
	int			 sock_errno;	/* socket() failed: why (then,
						   once finished: the errno
						   of a local fault) */
	size_t			 nread;
	enum probe_stop		 stop;
};

struct probe_sock {
	struct probe_shard	*sh;
	curl_socket_t		 fd;
	struct event		*ev;
	int			 what;		/* CURL_POLL_* */
	short			 kind;		/* EV_* in the event base, or 0 */
	bool			 conn;		/* a connection socket, closed
						   through sock_close_cb */
	bool			 idle;		/* libcurl removed it; kept */
	bool			 peer_closed;	/* readable while idle */
	struct probe		*owner;		/* the probe that used it last:
						   owner->conn == this */
	int64_t			 born_us;	/* connection made */
	struct probe_sock	*next;		/* free list */
	struct probe_sock	*all_next;	/* every context, for teardown */
};

/* One libcurl multi handle and its timer; see "Shards" above. */
struct probe_shard {
	struct probe_engine	*e;
	CURLM			*multi;
	struct event		*timer_ev;	/* libcurl's timeout */
	int			 running;	/* libcurl's count */
	size_t			 nprobes;
	size_t			 idx;		/* in e->shards */
};

struct probe_engine {
	struct event_base	*base;
	struct probe_shard	**shards;
	size_t			 nshards;
	struct event		*tick_ev;	/* the schedule */
	int64_t			 tick_at_us;	/* when tick_ev fires, or -1 */
	probe_result_cb		*cb;
	probe_clock_fn		*clock;
	void			*clock_arg;
	struct sched		 sched;		/* every probe, by due time */
	struct probe_sock	*free_socks;
	struct probe_sock	*all_socks;
	struct probe_sock	**fdtab;	/* connection sockets by fd */
	size_t			 nfdtab;
	/* The pool of easy handles. */
	struct probe_xfer	*idle_xfers;
	size_t			 nxfers, nidle;
	size_t			 xfer_need, xfer_need_last;	/* most at once,
						   this window and the last */
	int64_t			 xfer_window_us;	/* this window began */
	struct curl_slist	*headers;	/* the same for every check */
	char			*default_ca;	/* libcurl's CA file, or NULL */
	uint64_t		 conf_gen;
	/* Admission ("Late" above): checks in flight at most, 0 none. */
	size_t			 cap;
	int64_t			 cap_at_us;	/* when cap last moved */
	bool			 held;		/* the tick stopped at cap */
	struct probe_stats	 st;
};

static void	 default_clock(void *, int64_t *, int64_t *);
static int64_t	 now_us(struct probe_engine *, int64_t *);
static int	 sock_cb(CURL *, curl_socket_t, int, void *, void *);
static int	 sockopt_cb(void *, curl_socket_t, curlsocktype);
static curl_socket_t opensocket_cb(void *, curlsocktype,
		    struct curl_sockaddr *);
static int	 sock_close_cb(void *, curl_socket_t);
static struct probe_sock *sock_get(struct probe_engine *);
static void	 sock_put(struct probe_engine *, struct probe_sock *);
static void	 sock_disown(struct probe_sock *);
static void	 sock_own(struct probe_sock *, CURL *);
static void	 sock_unwatch(struct probe_sock *);
static int	 timer_cb(CURLM *, long, void *);
static void	 event_cb(evutil_socket_t, short, void *);
static void	 timeout_cb(evutil_socket_t, short, void *);
static void	 tick_cb(evutil_socket_t, short, void *);
static void	 check_multi_info(struct probe_shard *);
static size_t	 write_cb(char *, size_t, size_t, void *);
static void	 probe_start(struct probe *, int64_t);
static void	 probe_finish(struct probe *, CURLcode);
static bool	 probe_retry(struct probe *, CURLcode);
static bool	 probe_late_timeout(struct probe *, char *);
static void	 cap_adjust(struct probe_engine *, bool);
static void	 probe_stop_transfer(struct probe *);
static void	 probe_due_now(struct probe *);
static void	 probe_kick(struct probe *);
static void	 probe_release(struct probe *);
static struct probe_xfer *xfer_get(struct probe_engine *);
static void	 xfer_put(struct probe_engine *, struct probe_xfer *);
static void	 xfer_free(struct probe_xfer *);
static int	 xfer_apply(struct probe_engine *, struct probe_xfer *,
		    const struct probe_conf *);
static void	 probe_report(struct probe *, enum probe_reason, int,
		    const char *);
static void	 schedule_arm(struct probe_engine *);
static int	 conf_build(struct probe_conf *, struct probe_engine *,
		    const struct probe_spec *);
static void	 conf_free(struct probe_conf *);
static bool	 host_is_address(const char *);
static int	 conf_url(struct probe_conf *, const struct probe_spec *);
static void	 sched_fix(struct probe *);
static struct probe *sched_first(struct probe_engine *, int64_t *);
static void	 conns_resize(struct probe_shard *);
static struct probe_shard *shard_pick(struct probe_engine *);
static void	 shard_free(struct probe_shard *);

/* --- clock --------------------------------------------------------- */

static void
default_clock(void *arg, int64_t *mono, int64_t *wall)
{
	struct timespec	 ts;

	(void)arg;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	*mono = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
	if (wall != NULL) {
		clock_gettime(CLOCK_REALTIME, &ts);
		*wall = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	}
}

static int64_t
now_us(struct probe_engine *e, int64_t *wall_ms)
{
	int64_t	 mono = 0, wall = 0;

	e->clock(e->clock_arg, &mono, &wall);
	if (wall_ms != NULL)
		*wall_ms = wall;
	return mono;
}

void
probe_engine_set_clock(struct probe_engine *e, probe_clock_fn *fn,
    void *arg)
{
	e->clock = fn != NULL ? fn : default_clock;
	e->clock_arg = arg;
}

/* --- names ---------------------------------------------------------- */

void
probe_spec_init(struct probe_spec *s)
{
	memset(s, 0, sizeof(*s));
	s->interval_ms = 1000;
	s->timeout_ms = 2000;
	s->tls_verify = true;
}

const char *
probe_strerror(int err)
{
	switch (err) {
	case 0:
		return "no error";
	case PROBE_E_NOMEM:
		return "out of memory";
	case PROBE_E_URL:
		return "not a usable http or https URL";
	case PROBE_E_SPEC:
		return "bad interval, timeout or expect_body";
	case PROBE_E_CURL:
		return "libcurl refused an option";
	case PROBE_E_EVENT:
		return "libevent failed";
	}
	return "unknown error";
}

/* --- engine --------------------------------------------------------- */

struct probe_engine *
probe_engine_new(struct event_base *base, probe_result_cb *cb)
{
	struct probe_engine	*e;

	if ((e = calloc(1, sizeof(*e))) == NULL)
		return NULL;
	e->base = base;
	e->cb = cb;
	e->clock = default_clock;
	e->tick_at_us = -1;
	/*
	 * The User-Agent as a ready header line: given with CURLOPT_USERAGENT,
	 * libcurl formats it again for every request.
	 */
	e->headers = curl_slist_append(NULL,
	    "User-Agent: failoverd/" FAILOVERD_VERSION);
	if ((e->tick_ev = evtimer_new(base, tick_cb, e)) == NULL ||
	    e->headers == NULL) {
		probe_engine_free(e);
		return NULL;
	}
	return e;
}

void
probe_engine_free(struct probe_engine *e)
{
	struct probe_sock	*ps, *next;
	struct probe		*p;
	struct probe_xfer	*x;
	size_t			 i;

	if (e == NULL)
		return;
	while ((p = sched_first(e, NULL)) != NULL)
		probe_remove(p);
	while ((x = e->idle_xfers) != NULL) {
		e->idle_xfers = x->next;
		xfer_free(x);
	}
	for (i = 0; i < e->nshards; i++)
		shard_free(e->shards[i]);
	free(e->shards);
	for (ps = e->all_socks; ps != NULL; ps = next) {
		next = ps->all_next;
		if (ps->ev != NULL)
			event_free(ps->ev);
		free(ps);
	}
	free(e->fdtab);
	curl_slist_free_all(e->headers);
	free(e->default_ca);
	if (e->tick_ev != NULL)
		event_free(e->tick_ev);
	sched_deinit(&e->sched);
	free(e);
}

void
probe_engine_stats(const struct probe_engine *e, struct probe_stats *st)
{
	*st = e->st;
	st->probes = e->sched.n;
	st->handles = e->nxfers;
	st->cap = e->cap;
}

/*
 * Room in libcurl's connection cache for one kept-alive connection per
 * probe.  Its default (4 x the handles added *now*) would shrink to the
 * few transfers in flight and close the rest between rounds.
 */
static void
conns_resize(struct probe_shard *sh)
{
	long	 n = (long)sh->nprobes + 4;

	curl_multi_setopt(sh->multi, CURLMOPT_MAXCONNECTS, n);
}

static struct probe_shard *
shard_new(struct probe_engine *e)
{
	struct probe_shard	*sh, **v;

	v = reallocarray(e->shards, e->nshards + 1, sizeof(*v));
	if (v == NULL)
		return NULL;
	e->shards = v;
	if ((sh = calloc(1, sizeof(*sh))) == NULL)
		return NULL;
	sh->e = e;
	sh->timer_ev = evtimer_new(e->base, timeout_cb, sh);
	sh->multi = curl_multi_init();
	if (sh->timer_ev == NULL || sh->multi == NULL ||
	    curl_multi_setopt(sh->multi, CURLMOPT_SOCKETFUNCTION, sock_cb) ||
	    curl_multi_setopt(sh->multi, CURLMOPT_SOCKETDATA, sh) ||
	    curl_multi_setopt(sh->multi, CURLMOPT_TIMERFUNCTION, timer_cb) ||
	    curl_multi_setopt(sh->multi, CURLMOPT_TIMERDATA, sh)) {
		shard_free(sh);
		return NULL;
	}
	sh->idx = e->nshards;
	e->shards[e->nshards++] = sh;
	return sh;
}

/* The first shard with room (they stay filled: removal is rare). */
static struct probe_shard *
shard_pick(struct probe_engine *e)
{
	size_t	 i;

	for (i = 0; i < e->nshards; i++)
		if (e->shards[i]->nprobes < PROBE_SHARD_SIZE)
			return e->shards[i];
	return shard_new(e);
}

static void
shard_free(struct probe_shard *sh)
{
	if (sh == NULL)
		return;
	/* Closes the cached connections; may call sock_cb with REMOVE. */
	if (sh->multi != NULL)
		curl_multi_cleanup(sh->multi);
	if (sh->timer_ev != NULL)
		event_free(sh->timer_ev);
	free(sh);
}

/* --- libcurl <-> libevent ------------------------------------------ */

static struct probe_sock *
sock_get(struct probe_engine *e)
{
	struct probe_sock	*ps;

	if ((ps = e->free_socks) != NULL) {
		e->free_socks = ps->next;
		ps->next = NULL;
		return ps;
	}
	if ((ps = calloc(1, sizeof(*ps))) == NULL)
		return NULL;
	/* A placeholder; event_assign in sock_cb sets it up. */
	if ((ps->ev = event_new(e->base, -1, 0, event_cb, ps)) == NULL) {
		free(ps);
		return NULL;
	}
	ps->fd = CURL_SOCKET_BAD;
	ps->all_next = e->all_socks;
	e->all_socks = ps;
	return ps;
}

static void
sock_put(struct probe_engine *e, struct probe_sock *ps)
{
	sock_unwatch(ps);
	sock_disown(ps);
	if (ps->conn && ps->fd >= 0 && (size_t)ps->fd < e->nfdtab &&
	    e->fdtab[ps->fd] == ps)
		e->fdtab[ps->fd] = NULL;
	ps->conn = false;
	ps->idle = false;
	ps->peer_closed = false;
	ps->fd = CURL_SOCKET_BAD;
	ps->what = 0;
	ps->next = e->free_socks;
	e->free_socks = ps;
}

/* Take the socket out of the event base (an epoll_ctl). */
static void
sock_unwatch(struct probe_sock *ps)
{
	if (ps->kind != 0)
		event_del(ps->ev);
	ps->kind = 0;
}

/*
 * CURLOPT_OPENSOCKETFUNCTION: the socket libcurl asks for, as libcurl
 * would make it (close-on-exec as well), and why there is none: libcurl
 * reports a failed socket() as CURLE_COULDNT_CONNECT without the errno,
 * and EMFILE is the controller's trouble, not the stack's (classify.c).
 */
static curl_socket_t
opensocket_cb(void *arg, curlsocktype purpose, struct curl_sockaddr *a)
{
	struct probe_xfer	*x = arg;	/* the handle: see xfer_new() */
	curl_socket_t		 fd;

	(void)purpose;
	fd = socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
	if (fd == CURL_SOCKET_BAD && x->p != NULL)
		x->p->sock_errno = errno;
	return fd;
}

/*
 * The connection closes or changes hands: its last user forgets it.  A
 * connection the server had closed while its probe waited for the next
 * round (libcurl reaps such connections during any transfer of the
 * shard) leaves that probe knowing it lost one.
 */
static void
sock_disown(struct probe_sock *ps)
{
	struct probe	*p = ps->owner;

	if (p == NULL)
		return;
	if (ps->peer_closed && p->state == PROBE_S_IDLE)
		p->conn_lost = true;
	p->conn = NULL;
	ps->owner = NULL;
}

/* A transfer watches this connection socket: it is that probe's now. */
static void
sock_own(struct probe_sock *ps, CURL *easy)
{
	struct probe	*p;
	char		*priv = NULL;

	if (!ps->conn || easy == NULL ||
	    curl_easy_getinfo(easy, CURLINFO_PRIVATE, &priv) != CURLE_OK ||
	    priv == NULL || (p = ((struct probe_xfer *)priv)->p) == NULL ||
	    ps->owner == p)
		return;
	sock_disown(ps);
	if (p->conn != NULL)
		p->conn->owner = NULL;
	ps->owner = p;
	p->conn = ps;
}

/*
 * CURLOPT_SOCKOPTFUNCTION: libcurl made a connection socket.  Remember it,
 * so that its event can outlive a transfer (see sock_cb).  A context left
 * on the same number belonged to a socket closed without us: forget it.
 */
static int
sockopt_cb(void *arg, curl_socket_t fd, curlsocktype purpose)
{
	struct probe_engine	*e = arg;
	struct probe_sock	*ps, **v;
	size_t			 n;

	if (purpose != CURLSOCKTYPE_IPCXN || fd < 0)
		return CURL_SOCKOPT_OK;
	if ((size_t)fd >= e->nfdtab) {
		n = (size_t)fd + 1 > 2 * e->nfdtab ? (size_t)fd + 1 :
		    2 * e->nfdtab;
		if ((v = reallocarray(e->fdtab, n, sizeof(*v))) == NULL)
			return CURL_SOCKOPT_OK;	/* untracked: plain path */
		memset(v + e->nfdtab, 0, (n - e->nfdtab) * sizeof(*v));
		e->fdtab = v;
		e->nfdtab = n;
	}
	if ((ps = e->fdtab[fd]) != NULL) {
		e->fdtab[fd] = NULL;
		sock_disown(ps);
		ps->conn = false;
		sock_unwatch(ps);	/* stale: that socket is gone */
		if (ps->idle)
			sock_put(e, ps);
	}
	if ((ps = sock_get(e)) == NULL)
		return CURL_SOCKOPT_OK;
	ps->fd = fd;
	ps->conn = true;
	ps->idle = true;	/* not watched for libcurl yet */
	ps->born_us = now_us(e, NULL);
	e->fdtab[fd] = ps;
	return CURL_SOCKOPT_OK;
}

/* CURLOPT_CLOSESOCKETFUNCTION: out of the event base before the close. */
static int
sock_close_cb(void *arg, curl_socket_t fd)
{
	struct probe_engine	*e = arg;
	struct probe_sock	*ps;

	if (fd >= 0 && (size_t)fd < e->nfdtab &&
	    (ps = e->fdtab[fd]) != NULL) {
		e->fdtab[fd] = NULL;
		sock_disown(ps);
		ps->conn = false;
		sock_unwatch(ps);
		if (ps->idle)
			sock_put(e, ps);
		/* else libcurl still holds it: its REMOVE frees it */
	}
	return close(fd);
}

/*
 * CURLMOPT_SOCKETFUNCTION.
 *
 * libcurl removes a kept-alive connection's socket at the end of every
 * transfer and asks for it again at the start of the next: two epoll_ctl
 * calls per check.  A connection socket (made through sockopt_cb, closed
 * through sock_close_cb) that libcurl last watched for reading therefore
 * stays in the event base when libcurl removes it ("idle"), and the next
 * transfer's request for the same watch costs no system call.  If an idle
 * socket becomes readable (the web head closed it), it is taken out then;
 * libcurl finds the connection dead before reusing it.
 */
static int
sock_cb(CURL *easy, curl_socket_t fd, int what, void *cbp, void *sockp)
{
	struct probe_shard	*sh = cbp;
	struct probe_engine	*e = sh->e;
	struct probe_sock	*ps = sockp;
	short			 kind;

	if (what == CURL_POLL_REMOVE) {
		if (ps == NULL)
			return 0;
		if (ps->conn && ps->what == CURL_POLL_IN) {
			ps->idle = true;
			ps->what = 0;
		} else
			sock_put(e, ps);
		return 0;
	}
	if (ps == NULL) {
		if (fd >= 0 && (size_t)fd < e->nfdtab &&
		    (ps = e->fdtab[fd]) != NULL && ps->idle) {
			ps->idle = false;
			ps->peer_closed = false;
		} else if ((ps = sock_get(e)) == NULL)
			return -1;
		ps->fd = fd;
		curl_multi_assign(sh->multi, fd, ps);
	}
	sock_own(ps, easy);
	ps->sh = sh;
	ps->what = what;
	kind = ((what & CURL_POLL_IN) ? EV_READ : 0) |
	    ((what & CURL_POLL_OUT) ? EV_WRITE : 0) | EV_PERSIST;
	if (kind == ps->kind)
		return 0;
	sock_unwatch(ps);
	/*
	 * Re-aim the event we own (made by event_new, never embedded), so a
	 * socket of the next round costs no allocation.
	 */
	if (event_assign(ps->ev, e->base, fd, kind, event_cb, ps) != 0 ||
	    event_add(ps->ev, NULL) != 0)
		return -1;
	ps->kind = kind;
	return 0;
}

/* CURLMOPT_TIMERFUNCTION: only arms our timer, never calls libcurl. */
static int
timer_cb(CURLM *multi, long timeout_ms, void *arg)
{
	struct probe_shard	*sh = arg;
	struct timeval		 tv;

	(void)multi;
	if (timeout_ms < 0) {
		evtimer_del(sh->timer_ev);
		return 0;
	}
	tv.tv_sec = timeout_ms / 1000;
	tv.tv_usec = (timeout_ms % 1000) * 1000;
	return evtimer_add(sh->timer_ev, &tv) == 0 ? 0 : -1;
}

/* A watched socket is ready. */
static void
event_cb(evutil_socket_t fd, short kind, void *arg)
{
	struct probe_sock	*ps = arg;
	struct probe_shard	*sh = ps->sh;
	int			 action;

	if (ps->idle) {
		/* Not libcurl's now: the web head closed it, or garbage. */
		ps->peer_closed = true;
		sock_unwatch(ps);
		if (ps->owner != NULL && ps->owner->conn == ps)
			probe_kick(ps->owner);
		return;
	}
	action = ((kind & EV_READ) ? CURL_CSELECT_IN : 0) |
	    ((kind & EV_WRITE) ? CURL_CSELECT_OUT : 0);
	curl_multi_socket_action(sh->multi, fd, action, &sh->running);
	check_multi_info(sh);
}

/* libcurl's timeout expired. */
static void
timeout_cb(evutil_socket_t fd, short kind, void *arg)
{
	struct probe_shard	*sh = arg;

	(void)fd;
	(void)kind;
	curl_multi_socket_action(sh->multi, CURL_SOCKET_TIMEOUT, 0,
	    &sh->running);
	check_multi_info(sh);
}

/* Finish every transfer libcurl reports done, each exactly once. */
static void
check_multi_info(struct probe_shard *sh)
{
	CURLMsg		*msg;
	struct probe	*p;
	struct probe_xfer *x;
	CURLcode	 res;
	CURL		*easy;
	char		*priv;
	int		 left;

	while ((msg = curl_multi_info_read(sh->multi, &left)) != NULL) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		easy = msg->easy_handle;
		res = msg->data.result;
		priv = NULL;
		curl_easy_getinfo(easy, CURLINFO_PRIVATE, &priv);
		x = (struct probe_xfer *)priv;
		p = x != NULL ? x->p : NULL;
		if (p == NULL || p->state != PROBE_S_RUNNING || p->x != x) {
			/* Not ours to finish; drop it from the multi. */
			curl_multi_remove_handle(sh->multi, easy);
			continue;
		}
		probe_finish(p, res);	/* p may be freed by the callback */
	}
}

/* --- the schedule --------------------------------------------------- */

/* p->due_us changed: move it in the schedule. */
static void
sched_fix(struct probe *p)
{
	sched_update(&p->e->sched, &p->node, p->due_us);
}

static struct probe *
sched_first(struct probe_engine *e, int64_t *due)
{
	struct sched_node	*n = sched_top(&e->sched, due);

	if (n == NULL)
		return NULL;
	return (struct probe *)((char *)n - offsetof(struct probe, node));
}

static void
schedule_arm(struct probe_engine *e)
{
	struct timeval	 tv;
	int64_t		 due, delta;

	if (sched_first(e, &due) == NULL) {
		if (e->tick_at_us >= 0)
			evtimer_del(e->tick_ev);
		e->tick_at_us = -1;
		return;
	}
	if (e->tick_at_us == due && evtimer_pending(e->tick_ev, NULL))
		return;
	delta = due - now_us(e, NULL);
	if (delta < 0)
		delta = 0;
	tv.tv_sec = delta / 1000000;
	tv.tv_usec = delta % 1000000;
	evtimer_add(e->tick_ev, &tv);
	e->tick_at_us = due;
}

/* The schedule's timer: start (or skip) every probe now due. */
static void
tick_cb(evutil_socket_t fd, short kind, void *arg)
{
	struct probe_engine	*e = arg;
	struct probe		*p;
	int64_t			 now, due;

	(void)fd;
	(void)kind;
	e->tick_at_us = -1;
	e->st.wakeups++;
	now = now_us(e, NULL);
	while ((p = sched_first(e, &due)) != NULL &&
	    due <= now + PROBE_SLACK_US) {
		if (p->state == PROBE_S_RUNNING) {
			/* Not doubled: the round waits for the running one. */
			e->st.skipped++;
			p->due_at_end = true;
			p->due_us += p->c.period_us[p->mode];
			sched_fix(p);
			continue;
		}
		if (e->cap != 0 && e->st.running >= e->cap) {
			/* Re-armed by the next check that ends. */
			e->held = true;
			e->st.held++;
			return;
		}
		probe_start(p, now);	/* reschedules p; may report */
	}
	schedule_arm(e);
}

/*
 * A late timeout halves the checks in flight; time on time gives them
 * back ("Late" above).
 */
static void
cap_adjust(struct probe_engine *e, bool late)
{
	int64_t	 now = now_us(e, NULL);
	size_t	 n;

	if (late) {
		if (e->cap != 0 && now - e->cap_at_us < PROBE_CAP_SHRINK_US)
			return;
		n = e->cap != 0 && e->cap < e->st.running ? e->cap :
		    (size_t)e->st.running;
		n /= 2;
		e->cap = n < PROBE_CAP_MIN ? PROBE_CAP_MIN : n;
		e->cap_at_us = now;
		return;
	}
	if (e->cap == 0 || now - e->cap_at_us < PROBE_CAP_GROW_US)
		return;
	e->cap += e->cap / 8 > PROBE_CAP_MIN ? e->cap / 8 : PROBE_CAP_MIN;
	if (e->cap > PROBE_CAP_MAX)
		e->cap = 0;
	e->cap_at_us = now;
}

static int64_t	 slot_at_or_after(const struct probe *, int64_t, int64_t);

static void
probe_start(struct probe *p, int64_t now)
{
	struct probe_engine	*e = p->e;
	int64_t			 period = p->c.period_us[p->mode];
	CURLMcode		 mc;

	p->planned_us = p->due_us;
	p->has_run = true;
	p->immediate = p->kick_pending;
	p->kick_pending = false;
	if (p->immediate) {
		p->kick_armed = false;
		p->kick_us = now;
		e->st.immediate++;
	} else
		p->kick_armed = true;
	if (p->immediate && p->mode != PROBE_MODE_FAST) {
		/* Back to its slot after (see probe_set_mode()): a web head
		 * restarted closes all its connections at once, and the
		 * probes it kicked would otherwise stay together. */
		p->due_us = slot_at_or_after(p, period,
		    now + p->c.period_us[PROBE_MODE_FAST]);
	} else
		p->due_us += period;
	/* A loop late by whole periods skips them rather than bursting. */
	while (p->due_us <= now) {
		p->due_us += period;
		e->st.skipped++;
	}
	sched_fix(p);

	p->started_us = now_us(e, &p->started_wall_ms);
	p->sock_errno = 0;
	p->nread = 0;
	p->stop = PROBE_STOP_NONE;
	if (p->c.want_body)
		probe_match_reset(&p->c.match);
	/* Whether this check may count as a reconnect: "Dead connections". */
	p->reuse_expected = p->conn_lost || (p->conn != NULL &&
	    p->started_us - p->conn->born_us <
	    (PROBE_CONN_LIFETIME_S - 1) * 1000000);
	p->conn_lost = false;
	p->retried = false;
	p->reconnected = false;
	e->st.started++;
	if ((p->x = xfer_get(e)) == NULL) {
		probe_report(p, PROBE_R_LOCAL, 0, "out of memory");
		return;
	}
	p->x->p = p;
	if (xfer_apply(e, p->x, &p->c) != 0) {
		probe_report(p, PROBE_R_INTERNAL, 0, "libcurl refused an option");
		return;
	}
	p->x->errbuf[0] = '\0';
	if ((mc = curl_multi_add_handle(p->sh->multi, p->x->easy)) !=
	    CURLM_OK) {
		probe_report(p, mc == CURLM_OUT_OF_MEMORY ? PROBE_R_LOCAL :
		    PROBE_R_INTERNAL, 0, curl_multi_strerror(mc));
		return;
	}
	p->state = PROBE_S_RUNNING;
	e->st.running++;
}

/* --- the pool of easy handles (see "Memory") ----------------------- */

/* A handle with the options every check shares; NULL if out of memory. */
static struct probe_xfer *
xfer_new(struct probe_engine *e)
{
	struct probe_xfer	*x;
	CURL			*h;
	char			*ca = NULL;

	if ((x = calloc(1, sizeof(*x))) == NULL)
		return NULL;
	if ((x->easy = h = curl_easy_init()) == NULL) {
		free(x);
		return NULL;
	}
	/* The CA file a handle starts with, to give back after ca_file. */
	if (e->nxfers == 0 && e->default_ca == NULL &&
	    curl_easy_getinfo(h, CURLINFO_CAINFO, &ca) == CURLE_OK &&
	    ca != NULL)
		e->default_ca = strdup(ca);
	if (curl_easy_setopt(h, CURLOPT_PRIVATE, x) ||
	    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, x->errbuf) ||
	    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, write_cb) ||
	    curl_easy_setopt(h, CURLOPT_WRITEDATA, x) ||
	    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L) ||
	    curl_easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION, opensocket_cb) ||
	    curl_easy_setopt(h, CURLOPT_OPENSOCKETDATA, x) ||
	    curl_easy_setopt(h, CURLOPT_SOCKOPTFUNCTION, sockopt_cb) ||
	    curl_easy_setopt(h, CURLOPT_SOCKOPTDATA, e) ||
	    curl_easy_setopt(h, CURLOPT_CLOSESOCKETFUNCTION, sock_close_cb) ||
	    curl_easy_setopt(h, CURLOPT_CLOSESOCKETDATA, e) ||
	    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https") ||
	    /*
	     * Never through a proxy from the environment (http_proxy); the
	     * two settings also spare libcurl four getenv() per check.
	     */
	    curl_easy_setopt(h, CURLOPT_PROXY, "") ||
	    curl_easy_setopt(h, CURLOPT_NOPROXY, "*") ||
	    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L) ||
	    curl_easy_setopt(h, CURLOPT_HTTPHEADER, e->headers) ||
	    curl_easy_setopt(h, CURLOPT_HTTP_VERSION,
	    (long)CURL_HTTP_VERSION_1_1) ||
	    curl_easy_setopt(h, CURLOPT_BUFFERSIZE, PROBE_RECV_BUFFER) ||
	    curl_easy_setopt(h, CURLOPT_MAXLIFETIME_CONN,
	    PROBE_CONN_LIFETIME_S)) {
		xfer_free(x);
		return NULL;
	}
	e->nxfers++;
	return x;
}

static void
xfer_free(struct probe_xfer *x)
{
	if (x == NULL)
		return;
	curl_easy_cleanup(x->easy);
	free(x);
}

static struct probe_xfer *
xfer_get(struct probe_engine *e)
{
	struct probe_xfer	*x;
	size_t			 busy;

	if ((x = e->idle_xfers) != NULL) {
		e->idle_xfers = x->next;
		e->nidle--;
		x->next = NULL;
	} else if ((x = xfer_new(e)) == NULL)
		return NULL;
	busy = e->nxfers - e->nidle;
	if (busy > e->xfer_need)
		e->xfer_need = busy;
	return x;
}

/*
 * Back to the pool, or freed when the pool holds more than the most
 * checks that ran at once in this window of PROBE_POOL_WINDOW_US and the
 * last (the first round's connects, or an outage of every web head, make
 * thousands of checks run together; afterwards those handles go).
 */
static void
xfer_put(struct probe_engine *e, struct probe_xfer *x)
{
	int64_t	 now = now_us(e, NULL);
	size_t	 keep;

	x->p = NULL;
	if (now - e->xfer_window_us >= PROBE_POOL_WINDOW_US) {
		e->xfer_need_last = e->xfer_need;
		e->xfer_need = e->nxfers - e->nidle;
		e->xfer_window_us = now;
	}
	keep = e->xfer_need > e->xfer_need_last ? e->xfer_need :
	    e->xfer_need_last;
	if (e->nxfers > keep + 8) {
		e->nxfers--;
		xfer_free(x);
		return;
	}
	x->next = e->idle_xfers;
	e->idle_xfers = x;
	e->nidle++;
}

/*
 * Give the handle the options of a probe's conf, unless it has them.
 * 0, or -1 if libcurl refused one (the handle then carries none).
 */
static int
xfer_apply(struct probe_engine *e, struct probe_xfer *x,
    const struct probe_conf *c)
{
	CURL	*h = x->easy;

	if (x->applied_gen == c->gen)
		return 0;
	x->applied_gen = 0;
	/*
	 * Hand libcurl the parsed URL: from a string alone it would parse
	 * the URL again for every transfer (about a sixth of its
	 * instructions per check, measured with callgrind).  The string
	 * goes too, formatted once: libcurl keeps the string it formatted
	 * from the first CURLU a handle had, and resends a request that
	 * died on a reused connection to that string's URL.
	 */
	if (curl_easy_setopt(h, CURLOPT_URL, c->url) ||
	    curl_easy_setopt(h, CURLOPT_CURLU, c->uh) ||
	    curl_easy_setopt(h, CURLOPT_CONNECT_TO, c->connect_to) ||
	    curl_easy_setopt(h, CURLOPT_DNS_CACHE_TIMEOUT, c->dns_cache_s) ||
	    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, c->timeout_ms) ||
	    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, c->timeout_ms) ||
	    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, c->tls_verify ? 1L : 0L) ||
	    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, c->tls_verify ? 2L : 0L) ||
	    curl_easy_setopt(h, CURLOPT_CAINFO,
	    c->ca_file != NULL ? c->ca_file : e->default_ca) ||
	    curl_easy_setopt(h, CURLOPT_FORBID_REUSE,
	    c->fresh_connect ? 1L : 0L) ||
	    curl_easy_setopt(h, CURLOPT_FRESH_CONNECT,
	    c->fresh_connect ? 1L : 0L) ||
	    curl_easy_setopt(h, CURLOPT_INTERFACE, c->interface))
		return -1;
	x->applied_gen = c->gen;
	return 0;
}

/* Take a running probe's handle out of the multi; no result. */
static void
probe_stop_transfer(struct probe *p)
{
	if (p->state != PROBE_S_RUNNING)
		return;
	p->state = PROBE_S_IDLE;
	p->e->st.running--;
	curl_multi_remove_handle(p->sh->multi, p->x->easy);
	probe_due_now(p);
	if (p->e->held) {
		p->e->held = false;
		schedule_arm(p->e);
	}
}

/* A round that came due while the check ran starts now. */
static void
probe_due_now(struct probe *p)
{
	if (!p->due_at_end)
		return;
	p->due_at_end = false;
	p->due_us = now_us(p->e, NULL);
	sched_fix(p);
	schedule_arm(p->e);
}

/*
 * The probe's idle kept-alive connection closed, reset or spoke: check
 * now rather than at the next round ("Events" above).  Not a failure: the
 * check decides.  At most one per fastinter, and not again before a
 * scheduled check has run, so a server that closes every connection
 * cannot make us probe it in a loop; refused kicks are counted.
 */
static void
probe_kick(struct probe *p)
{
	struct probe_engine	*e = p->e;
	int64_t			 now;

	if (p->state != PROBE_S_IDLE || !p->has_run || p->kick_pending)
		return;
	now = now_us(e, NULL);
	if (!p->kick_armed ||
	    now - p->kick_us < p->c.period_us[PROBE_MODE_FAST] ||
	    p->due_us <= now + PROBE_SLACK_US) {
		e->st.kicks_held++;
		return;
	}
	p->kick_pending = true;
	p->due_us = now;
	sched_fix(p);
	schedule_arm(e);
}

/* The check is over (or cancelled): its handle goes back to the pool. */
static void
probe_release(struct probe *p)
{
	struct probe_xfer	*x = p->x;

	if (x == NULL)
		return;
	p->x = NULL;
	xfer_put(p->e, x);
}

static void
probe_finish(struct probe *p, CURLcode res)
{
	struct probe_facts	 f;
	long			 status = 0;
	const struct cfg_status_set *set;
	enum probe_reason	 reason;
	long			 nconn = 0;
	char			*errbuf = p->x->errbuf;
	bool			 due = p->due_at_end;

	/* Not yet: a resend on a fresh connection keeps the check going. */
	p->due_at_end = false;
	probe_stop_transfer(p);
	p->due_at_end = due;
	if (probe_retry(p, res))
		return;			/* the check goes on, on a new connection */
	probe_due_now(p);
	p->reconnected = p->retried || (p->reuse_expected &&
	    curl_easy_getinfo(p->x->easy, CURLINFO_NUM_CONNECTS, &nconn) ==
	    CURLE_OK && nconn > 0);
	curl_easy_getinfo(p->x->easy, CURLINFO_RESPONSE_CODE, &status);
	set = p->standby ? &p->c.standby_expect : &p->c.expect;
	memset(&f, 0, sizeof(f));
	f.curl_code = res;
	f.stopped = p->stop != PROBE_STOP_NONE;
	f.http_status = (int)status;
	f.status_ok = probe_status_match(set, (int)status);
	f.want_body = p->c.want_body;
	f.body_found = p->c.want_body && p->c.match.found;
	/* Whose fault: see classify.c ("local"). */
	f.os_errno = p->sock_errno;
	if (f.os_errno == 0 && (res == CURLE_COULDNT_CONNECT ||
	    res == CURLE_INTERFACE_FAILED)) {
		long oe = 0;

		curl_easy_getinfo(p->x->easy, CURLINFO_OS_ERRNO, &oe);
		f.os_errno = (int)oe;
	}
	reason = probe_classify(&f);
	p->late = reason == PROBE_R_TIMEOUT && probe_late_timeout(p, errbuf);
	if (p->late || p->e->cap != 0)
		cap_adjust(p->e, p->late);
	if (p->late) {
		reason = PROBE_R_LOCAL;
		f.os_errno = 0;		/* errbuf says why, not an errno */
	}
	/*
	 * The transfer is over, so errbuf is ours again: a completed check
	 * gets our own words (libcurl's would be "Failure writing output"
	 * when we stopped it on purpose).
	 */
	switch (reason) {
	case PROBE_R_OK:
		errbuf[0] = '\0';
		break;
	case PROBE_R_STATUS:
		snprintf(errbuf, CURL_ERROR_SIZE,
		    "HTTP status %ld is not in the %s set", status,
		    p->standby ? "standby_expect_status" : "expect_status");
		break;
	case PROBE_R_BODY:
		snprintf(errbuf, CURL_ERROR_SIZE,
		    "expect_body not found in %zu bytes of body", p->nread);
		break;
	case PROBE_R_LOCAL:
		if (f.os_errno != 0) {
			snprintf(errbuf, CURL_ERROR_SIZE, "%s",
			    strerror(f.os_errno));
			break;
		}
		/* FALLTHROUGH */
	default:
		if (errbuf[0] == '\0')
			snprintf(errbuf, CURL_ERROR_SIZE, "%s",
			    curl_easy_strerror(res));
		break;
	}
	p->sock_errno = f.os_errno;	/* for probe_report() */
	probe_report(p, reason, (int)status, errbuf);
}

/*
 * A timeout that ended too late to be the stack's ("Late" above): errbuf
 * then says so, with libcurl's words after it.
 */
static bool
probe_late_timeout(struct probe *p, char *errbuf)
{
	int64_t	 tmo_us = (int64_t)p->c.timeout_ms * 1000, over_us, limit;
	char	 curl_words[CURL_ERROR_SIZE];

	over_us = now_us(p->e, NULL) - p->started_us - tmo_us;
	limit = tmo_us / PROBE_LATE_DIV;
	if (limit < PROBE_LATE_MIN_US)
		limit = PROBE_LATE_MIN_US;
	if (over_us <= limit)
		return false;
	snprintf(curl_words, sizeof(curl_words), "%s", errbuf);
	snprintf(errbuf, CURL_ERROR_SIZE, "the controller looked %lld ms "
	    "after the %lld ms timeout (too busy: an answer may have waited "
	    "unread), not counted: %.100s", (long long)(over_us / 1000),
	    (long long)p->c.timeout_ms, curl_words);
	return true;
}

/*
 * A request that died on a reused connection with not a byte of answer is
 * sent again at once on a fresh connection, with what is left of the
 * check's timeout ("Dead connections" above).  Returns true if it was:
 * the check goes on and reports later.  Only connection deaths qualify
 * (an empty reply, a reset, a failed send) with no header byte back,
 * whether the request went out on a reused connection or a new one.
 * Once per check.
 */
static bool
probe_retry(struct probe *p, CURLcode res)
{
	struct probe_engine	*e = p->e;
	CURL			*h = p->x->easy;
	long			 hdr = -1, left;
	CURLMcode		 mc;

	if (p->retried || (res != CURLE_GOT_NOTHING &&
	    res != CURLE_SEND_ERROR && res != CURLE_RECV_ERROR) ||
	    p->nread > 0)
		return false;
	if (curl_easy_getinfo(h, CURLINFO_HEADER_SIZE, &hdr) != CURLE_OK ||
	    hdr != 0)
		return false;
	left = p->c.timeout_ms - (long)((now_us(e, NULL) - p->started_us) /
	    1000);
	if (left < 1)
		return false;
	/* The handle no longer carries the conf as built: set it again. */
	p->x->applied_gen = 0;
	if (curl_easy_setopt(h, CURLOPT_FRESH_CONNECT, 1L) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, left) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, left) != CURLE_OK)
		return false;		/* the first result stands */
	p->sock_errno = 0;
	p->nread = 0;
	p->stop = PROBE_STOP_NONE;
	p->x->errbuf[0] = '\0';
	if (p->c.want_body)
		probe_match_reset(&p->c.match);
	if ((mc = curl_multi_add_handle(p->sh->multi, h)) != CURLM_OK)
		return false;
	p->retried = true;
	p->state = PROBE_S_RUNNING;
	e->st.running++;
	return true;
}

/* Build the result and hand it over; p may be gone afterwards. */
static void
probe_report(struct probe *p, enum probe_reason reason, int status,
    const char *detail)
{
	struct probe_engine	*e = p->e;
	struct probe_xfer	*x = p->x;
	struct probe_result	 r;
	curl_off_t		 total = 0;

	memset(&r, 0, sizeof(r));
	r.ok = reason == PROBE_R_OK;
	r.reason = reason;
	r.http_status = status;
	if (p->retried)		/* both attempts: the check's duration */
		r.latency_us = now_us(e, NULL) - p->started_us;
	else if (x != NULL && curl_easy_getinfo(x->easy,
	    CURLINFO_TOTAL_TIME_T, &total) == CURLE_OK)
		r.latency_us = total;
	r.started_ms = p->started_us / 1000;
	r.wall_ms = p->started_wall_ms;
	r.planned_us = p->planned_us;
	r.late_us = p->started_us - p->planned_us;
	r.standby = p->standby;
	r.body_bytes = p->nread;
	r.reconnected = p->reconnected;
	r.retried = p->retried;
	r.immediate = p->immediate;
	r.late = p->late;
	p->late = false;
	r.detail = detail != NULL ? detail : "";
	r.os_errno = reason == PROBE_R_LOCAL ? p->sock_errno : 0;
	e->st.finished++;
	e->st.reconnects += r.reconnected;
	e->st.retries += r.retried;
	e->st.late += r.late;
	/*
	 * The handle leaves the probe before the callback, which may update
	 * or remove it, and goes back after: detail may live in its errbuf.
	 */
	p->x = NULL;
	if (x != NULL)
		x->p = NULL;
	if (e->cb != NULL)
		e->cb(p, &r, p->udata);
	if (x != NULL)
		xfer_put(e, x);
}

/* CURLOPT_WRITEFUNCTION: count, look for expect_body, stop when done. */
static size_t
write_cb(char *data, size_t size, size_t nmemb, void *arg)
{
	struct probe_xfer *x = arg;
	struct probe	*p = x->p;
	size_t		 len = size * nmemb, room, take;
	curl_off_t	 clen = -1;

	if (p == NULL || p->state != PROBE_S_RUNNING)
		return 0;
	room = PROBE_BODY_MAX - p->nread;
	take = len < room ? len : room;
	p->nread += take;
	if (p->c.want_body && !p->c.match.found &&
	    probe_match_feed(&p->c.match, data, take)) {
		/*
		 * Found.  Reading a short rest keeps the connection
		 * reusable; a long or unknown one is not worth it.
		 */
		curl_easy_getinfo(x->easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T,
		    &clen);
		if (clen < 0 || clen > PROBE_BODY_MAX) {
			p->stop = PROBE_STOP_FOUND;
			return 0;
		}
	}
	if (take < len) {
		p->stop = PROBE_STOP_CAP;
		return 0;
	}
	return len;
}

/* --- probes --------------------------------------------------------- */

/* An IPv4 literal, or an IPv6 one as the URL API gives it ("[::1]"). */
static bool
host_is_address(const char *host)
{
	unsigned char	 buf[sizeof(struct in6_addr)];
	char		 v6[INET6_ADDRSTRLEN + 1];
	size_t		 n = strlen(host);

	if (inet_pton(AF_INET, host, buf) == 1)
		return true;
	if (n < 3 || host[0] != '[' || host[n - 1] != ']' || n - 2 >= sizeof(v6))
		return false;
	memcpy(v6, host + 1, n - 2);
	v6[n - 2] = '\0';
	/* A zone id ("%eth0") is not part of the address. */
	v6[strcspn(v6, "%")] = '\0';
	return inet_pton(AF_INET6, v6, buf) == 1;
}

/*
 * Set the URL.  With a Host name, the URL is rewritten to carry that name
 * (so the Host header, TLS SNI and certificate check all use it) and
 * CURLOPT_CONNECT_TO sends the connection to the URL's own host and port.
 */
static int
conf_url(struct probe_conf *c, const struct probe_spec *s)
{
	CURLU		*u = NULL;
	char		*scheme = NULL, *host = NULL, *port = NULL, *url = NULL;
	char		*line = NULL;
	int		 rc = PROBE_E_URL;
	size_t		 n;

	if ((u = curl_url()) == NULL)
		return PROBE_E_NOMEM;
	if (curl_url_set(u, CURLUPART_URL, s->url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0) ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) !=
	    CURLUE_OK)
		goto out;
	if (s->host != NULL && s->host[0] != '\0') {
		if (strpbrk(s->host, ":/@ \t\r\n[]") != NULL)
			goto out;
		if (curl_url_set(u, CURLUPART_HOST, s->host, 0) != CURLUE_OK)
			goto out;
		/* "::HOST:PORT": any name and port connect to the URL's. */
		n = strlen(host) + strlen(port) + 4;
		rc = PROBE_E_NOMEM;
		if ((line = malloc(n)) == NULL)
			goto out;
		snprintf(line, n, "::%s:%s", host, port);
		if ((c->connect_to = curl_slist_append(NULL, line)) == NULL)
			goto out;
	}
	rc = PROBE_E_URL;
	if (curl_url_get(u, CURLUPART_URL, &url, 0) != CURLUE_OK)
		goto out;
	/*
	 * libcurl 7.88 walks its whole DNS cache after every transfer to
	 * prune stale names, unless entries live for ever.  An address has
	 * nothing to go stale, so an address-only probe opts out of the walk;
	 * a probe by name keeps the default (60 s) and so follows DNS.
	 */
	c->dns_cache_s = host_is_address(host) ? -1L : 60L;
	rc = PROBE_E_NOMEM;
	if ((c->url = strdup(url)) == NULL)
		goto out;
	c->uh = u;
	u = NULL;
	rc = 0;
out:
	free(line);
	curl_free(url);
	curl_free(port);
	curl_free(host);
	curl_free(scheme);
	curl_url_cleanup(u);
	return rc;
}

static int
conf_build(struct probe_conf *c, struct probe_engine *e,
    const struct probe_spec *s)
{
	struct probe_xfer	*x;
	int			 rc;
	int64_t			 fast, down;

	memset(c, 0, sizeof(*c));
	if (s->url == NULL || s->interval_ms <= 0 || s->timeout_ms <= 0 ||
	    s->expect_status.n > CFG_MAX_RANGES ||
	    s->standby_expect_status.n > CFG_MAX_RANGES ||
	    (s->expect_body != NULL &&
	    strlen(s->expect_body) > PROBE_EXPECT_MAX))
		return PROBE_E_SPEC;
	c->gen = ++e->conf_gen;
	fast = s->fastinter_ms > 0 ? s->fastinter_ms : s->interval_ms;
	down = s->downinter_ms > 0 ? s->downinter_ms : s->interval_ms;
	c->period_us[PROBE_MODE_NORMAL] = s->interval_ms * 1000;
	c->period_us[PROBE_MODE_FAST] = fast * 1000;
	c->period_us[PROBE_MODE_DOWN] = down * 1000;
	c->expect = s->expect_status;
	c->standby_expect = s->standby_expect_status.n > 0 ?
	    s->standby_expect_status : s->expect_status;
	c->timeout_ms = s->timeout_ms > 0x7fffffffL ? 0x7fffffffL :
	    (long)s->timeout_ms;
	c->tls_verify = s->tls_verify;
	c->fresh_connect = s->fresh_connect;
	if (s->expect_body != NULL && s->expect_body[0] != '\0') {
		if (probe_match_init(&c->match, s->expect_body) != 0)
			return PROBE_E_NOMEM;
		c->want_body = true;
	}
	if ((rc = conf_url(c, s)) != 0) {
		conf_free(c);
		return rc;
	}
	if (s->ca_file != NULL && (c->ca_file = strdup(s->ca_file)) == NULL) {
		conf_free(c);
		return PROBE_E_NOMEM;
	}
	/*
	 * "host!" makes libcurl bind to the address as given, never look
	 * for an interface of that name first.  libcurl does not reuse a
	 * kept-alive connection made from another local address, so a
	 * change takes effect at the next check.
	 */
	if (s->source_address != NULL && s->source_address[0] != '\0') {
		size_t n = strlen(s->source_address) + sizeof("host!");

		if (strpbrk(s->source_address, " \t\r\n!") != NULL) {
			conf_free(c);
			return PROBE_E_SPEC;
		}
		if ((c->interface = malloc(n)) == NULL) {
			conf_free(c);
			return PROBE_E_NOMEM;
		}
		snprintf(c->interface, n, "host!%s", s->source_address);
	}
	/* Would libcurl take these options?  Try them on a pool handle. */
	if ((x = xfer_get(e)) == NULL) {
		conf_free(c);
		return PROBE_E_NOMEM;
	}
	rc = xfer_apply(e, x, c) != 0 ? PROBE_E_CURL : 0;
	xfer_put(e, x);
	if (rc != 0)
		conf_free(c);
	return rc;
}

static void
conf_free(struct probe_conf *c)
{
	curl_slist_free_all(c->connect_to);
	c->connect_to = NULL;
	curl_url_cleanup(c->uh);
	c->uh = NULL;
	free(c->url);
	c->url = NULL;
	free(c->ca_file);
	c->ca_file = NULL;
	free(c->interface);
	c->interface = NULL;
	probe_match_deinit(&c->match);
	c->want_body = false;
}

int
probe_add(struct probe_engine *e, const struct probe_spec *s, void *udata,
    struct probe **out)
{
	struct probe	*p;
	int		 rc;
	double		 frac;

	*out = NULL;
	if (sched_reserve(&e->sched) != 0)
		return PROBE_E_NOMEM;
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return PROBE_E_NOMEM;
	if ((p->sh = shard_pick(e)) == NULL) {
		free(p);
		return PROBE_E_NOMEM;
	}
	p->e = e;
	p->udata = udata;
	if ((rc = conf_build(&p->c, e, s)) != 0) {
		free(p);
		return rc;
	}
	/*
	 * First round.  Shards are spread over the first interval by the
	 * golden-ratio sequence (even for any number, added in any order);
	 * a shard's probes follow each other PROBE_GROUP_STEP_US apart.
	 * Running a shard's probes together keeps its connection cache,
	 * hash tables and connections in the CPU cache for the walks
	 * libcurl does per transfer: at 10,000 probes this cut the CPU per
	 * check by a quarter against spreading every probe on its own.
	 */
	frac = (double)p->sh->idx * 0.6180339887498949;
	frac -= (double)(int64_t)frac;
	p->phase0_us = now_us(e, NULL);
	p->due_us = p->phase0_us +
	    (int64_t)(frac * (double)p->c.period_us[PROBE_MODE_NORMAL]) +
	    (int64_t)(p->sh->nprobes % PROBE_SHARD_SIZE) * PROBE_GROUP_STEP_US;
	p->phase = (double)(p->due_us - p->phase0_us) /
	    (double)p->c.period_us[PROBE_MODE_NORMAL];
	p->phase -= (double)(int64_t)p->phase;
	sched_push(&e->sched, &p->node, p->due_us);
	p->sh->nprobes++;
	conns_resize(p->sh);
	schedule_arm(e);
	*out = p;
	return 0;
}

int
probe_update(struct probe *p, const struct probe_spec *s)
{
	struct probe_engine	*e = p->e;
	struct probe_conf	 c;
	int			 rc;
	int64_t			 now, due;

	if ((rc = conf_build(&c, e, s)) != 0)
		return rc;
	probe_stop_transfer(p);
	probe_release(p);
	conf_free(&p->c);
	p->c = c;
	p->kick_pending = false;
	if (p->has_run) {
		now = now_us(e, NULL);
		due = p->planned_us + p->c.period_us[p->mode];
		p->due_us = due > now ? due : now;
		sched_fix(p);
		schedule_arm(e);
	}
	return 0;
}

void
probe_remove(struct probe *p)
{
	struct probe_engine	*e;
	struct probe_shard	*sh;

	if (p == NULL)
		return;
	e = p->e;
	sh = p->sh;
	probe_stop_transfer(p);
	probe_release(p);
	sched_remove(&e->sched, &p->node);
	if (p->conn != NULL)
		p->conn->owner = NULL;
	conf_free(&p->c);
	free(p);
	sh->nprobes--;
	conns_resize(sh);
	schedule_arm(e);
}

/*
 * The first round at or after t in the probe's own slot of a period:
 * its phase of the first round's spread, kept for good.
 */
static int64_t
slot_at_or_after(const struct probe *p, int64_t period, int64_t t)
{
	int64_t	 base = p->phase0_us + (int64_t)(p->phase * (double)period);

	if (t <= base)
		return base;
	return base + (t - base + period - 1) / period * period;
}

/*
 * Back to interval (or downinter), a probe takes its own slot again, not
 * its last check plus a period: the first rounds of a start (every stack
 * unknown, checked at fastinter until rise) or a mass outage run
 * thousands of checks together, and re-planning from them kept those
 * checks together in every round after.  Measured at 10,000 stacks on
 * one nginx-like server: 2,000 checks began within 3 ms once a second,
 * and the pool of easy handles kept 2,500 of them (about 20 MB) for the
 * burst; in their slots, checks are spread as in the first round.  Fast
 * checks (fastinter) keep following their last check: they are few, and
 * detection counts them from the failure.
 */
void
probe_set_mode(struct probe *p, enum probe_mode mode)
{
	struct probe_engine	*e = p->e;
	int64_t			 now, due, period;

	if ((int)mode < 0 || mode > PROBE_MODE_DOWN || mode == p->mode)
		return;
	p->mode = mode;
	if (!p->has_run)
		return;
	p->kick_pending = false;	/* re-planned: no immediate check */
	now = now_us(e, NULL);
	period = p->c.period_us[mode];
	if (mode == PROBE_MODE_FAST) {
		/* Re-plan from the last planned round with the new period. */
		due = p->planned_us + period;
	} else {
		/* Not sooner than a fast check would have come. */
		due = p->planned_us + p->c.period_us[PROBE_MODE_FAST];
		due = slot_at_or_after(p, period, due > now ? due : now);
	}
	p->due_us = due > now ? due : now;
	sched_fix(p);
	schedule_arm(e);
}

void
probe_set_standby(struct probe *p, bool standby)
{
	p->standby = standby;
}

void *
probe_udata(const struct probe *p)
{
	return p->udata;
}

void
probe_set_udata(struct probe *p, void *udata)
{
	p->udata = udata;
}

bool
probe_is_running(const struct probe *p)
{
	return p->state == PROBE_S_RUNNING;
}
