/*
 * test_probe_events.c - the probe engine against a web head in this
 * process (raw sockets on the same event base): detection on the event,
 * not on the schedule.
 *
 *   killed        the head's process "dies" (listener and every
 *                 connection closed) while its kept-alive connection is
 *                 idle: the failure comes at once (immediate), not at
 *                 the next round seconds later
 *   keepalive     the head closes idle connections (its keep-alive
 *                 timeout) but still serves: an immediate check that
 *                 succeeds, never a failure
 *   close_loop    the head closes every connection just after answering:
 *                 at most one extra check per round, no probe loop
 *   bound         a second idle close within fastinter starts nothing
 *   reset_mid     a reset under a check in flight is its result at once,
 *                 not at the timeout (before any byte, and after the
 *                 status line)
 *   slots         256 probes sent to fastinter at one instant and back
 *                 to interval at another (a start, a mass outage) go
 *                 back to their own slots of the first round's spread,
 *                 not all together one interval after their fast checks
 *   slots_kick    the same after their web head closed every idle
 *                 connection at once (a restart): the immediate checks
 *                 come together, the rounds after them in their slots
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <event2/event.h>

#include "probes/probe.h"

#define MAXC	300
#define MAXR	256

enum head_mode {
	HEAD_SERVE = 0,		/* answer 200, keep the connection */
	HEAD_CLOSE_AFTER,	/* answer 200, close 20 ms later */
	HEAD_RESET,		/* read the request, reset */
	HEAD_RESET_PARTIAL,	/* read it, send the status line, reset */
};

struct head;

struct conn {
	struct head	*h;
	int		 fd;
	struct event	*ev;
	struct event	*close_ev;
	char		 buf[4096];
	size_t		 n;
};

struct head {
	struct event_base *base;
	int		 lfd;
	int		 port;
	struct event	*lev;
	struct conn	 c[MAXC];
	enum head_mode	 mode;
	int		 requests;
};

struct got {
	int		 n;
	struct probe_result r[MAXR];
	int64_t		 at_us[MAXR];
};

static int64_t
mono_us(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void
conn_close(struct conn *c, bool reset)
{
	struct linger	 lg = { 1, 0 };

	if (c->fd < 0)
		return;
	if (reset)
		setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	event_free(c->ev);
	c->ev = NULL;
	if (c->close_ev != NULL)
		event_free(c->close_ev);
	c->close_ev = NULL;
	close(c->fd);
	c->fd = -1;
	c->n = 0;
}

static void
close_later_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	conn_close(arg, false);
}

static void
conn_cb(evutil_socket_t fd, short what, void *arg)
{
	static const char ok[] =
	    "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nOK\n";
	static const char part[] = "HTTP/1.1 200 OK\r\n";
	struct conn	*c = arg;
	struct head	*h = c->h;
	struct timeval	 tv = { 0, 20000 };
	ssize_t		 r;

	(void)what;
	r = read(fd, c->buf + c->n, sizeof(c->buf) - 1 - c->n);
	if (r <= 0) {
		conn_close(c, false);
		return;
	}
	c->n += (size_t)r;
	c->buf[c->n] = '\0';
	if (strstr(c->buf, "\r\n\r\n") == NULL)
		return;
	c->n = 0;
	h->requests++;
	switch (h->mode) {
	case HEAD_SERVE:
	case HEAD_CLOSE_AFTER:
		if (write(fd, ok, sizeof(ok) - 1) < 0) {
			conn_close(c, false);
			return;
		}
		if (h->mode == HEAD_CLOSE_AFTER && c->close_ev == NULL) {
			c->close_ev = evtimer_new(h->base, close_later_cb, c);
			evtimer_add(c->close_ev, &tv);
		}
		break;
	case HEAD_RESET_PARTIAL:
		if (write(fd, part, sizeof(part) - 1) < 0)
			break;
		usleep(20000);
		/* FALLTHROUGH */
	case HEAD_RESET:
		conn_close(c, true);
		break;
	}
}

static void
accept_cb(evutil_socket_t lfd, short what, void *arg)
{
	struct head	*h = arg;
	int		 fd, i;

	(void)what;
	if ((fd = accept(lfd, NULL, NULL)) < 0)
		return;
	for (i = 0; i < MAXC && h->c[i].fd >= 0; i++)
		;
	if (i == MAXC) {
		close(fd);
		return;
	}
	h->c[i].fd = fd;
	h->c[i].h = h;
	h->c[i].n = 0;
	h->c[i].ev = event_new(h->base, fd, EV_READ | EV_PERSIST, conn_cb,
	    &h->c[i]);
	event_add(h->c[i].ev, NULL);
}

static void
head_start(struct head *h, struct event_base *base)
{
	struct sockaddr_in	 a;
	socklen_t		 len = sizeof(a);
	int			 one = 1;

	memset(h, 0, sizeof(*h));
	for (int i = 0; i < MAXC; i++)
		h->c[i].fd = -1;
	h->base = base;
	h->lfd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(h->lfd >= 0);
	setsockopt(h->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(h->lfd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(h->lfd, 512), 0);
	assert_int_equal(getsockname(h->lfd, (struct sockaddr *)&a, &len), 0);
	h->port = ntohs(a.sin_port);
	h->lev = event_new(base, h->lfd, EV_READ | EV_PERSIST, accept_cb, h);
	event_add(h->lev, NULL);
}

/* Close every connection; with the listener too, a killed process. */
static void
head_drop(struct head *h, bool kill)
{
	for (int i = 0; i < MAXC; i++)
		conn_close(&h->c[i], false);
	if (kill && h->lfd >= 0) {
		event_free(h->lev);
		h->lev = NULL;
		close(h->lfd);
		h->lfd = -1;
	}
}

static void
head_stop(struct head *h)
{
	head_drop(h, true);
}

static void
result_cb(struct probe *p, const struct probe_result *r, void *udata)
{
	struct got	*g = udata;

	(void)p;
	if (g->n < MAXR) {
		g->r[g->n] = *r;
		g->r[g->n].detail = "";
		g->at_us[g->n] = mono_us();
	}
	g->n++;
}

static void
stop_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
}

/* Run the loop until got has n results or ms pass; true if it has. */
static bool
run_until(struct event_base *base, struct got *g, int n, int ms)
{
	int64_t		 end = mono_us() + (int64_t)ms * 1000;
	struct event	*t = evtimer_new(base, stop_cb, NULL);
	struct timeval	 tv;
	int64_t		 left;

	while (g->n < n && (left = end - mono_us()) > 0) {
		tv.tv_sec = left / 1000000;
		tv.tv_usec = left % 1000000;
		evtimer_add(t, &tv);
		event_base_loop(base, EVLOOP_ONCE);
	}
	event_free(t);
	return g->n >= n;
}

struct fx {
	struct event_base	*base;
	struct probe_engine	*e;
	struct head		 h;
	struct got		 g;
	struct probe		*p;
	char			 url[64];
};

static struct fx *
fx_new(int64_t interval_ms, int64_t fastinter_ms, int64_t timeout_ms)
{
	struct fx		*f = calloc(1, sizeof(*f));
	struct probe_spec	 s;

	assert_non_null(f);
	f->base = event_base_new();
	assert_non_null(f->base);
	head_start(&f->h, f->base);
	f->e = probe_engine_new(f->base, result_cb);
	assert_non_null(f->e);
	snprintf(f->url, sizeof(f->url), "http://127.0.0.1:%d/health",
	    f->h.port);
	probe_spec_init(&s);
	s.url = f->url;
	s.interval_ms = interval_ms;
	s.fastinter_ms = fastinter_ms;
	s.timeout_ms = timeout_ms;
	assert_int_equal(probe_add(f->e, &s, &f->g, &f->p), 0);
	return f;
}

static void
fx_free(struct fx *f)
{
	probe_engine_free(f->e);
	head_stop(&f->h);
	event_base_free(f->base);
	free(f);
}

/* A killed head: the failure is known at once, not a round later. */
static void
test_killed(void **state)
{
	struct fx	*f = fx_new(3000, 200, 2000);
	struct probe_stats st;
	int64_t		 t0;

	(void)state;
	/* The first round comes within the first interval. */
	assert_true(run_until(f->base, &f->g, 1, 4000));
	assert_true(f->g.r[0].ok);
	assert_false(f->g.r[0].immediate);
	/* Idle now, mid-interval; the process dies. */
	run_until(f->base, &f->g, 2, 300);
	assert_int_equal(f->g.n, 1);
	t0 = mono_us();
	head_stop(&f->h);
	assert_true(run_until(f->base, &f->g, 2, 2500));
	assert_false(f->g.r[1].ok);
	assert_int_equal(f->g.r[1].reason, PROBE_R_CONNECT);
	assert_true(f->g.r[1].immediate);
	/* Within 100 ms of the death, where the schedule said 2.7 s. */
	assert_true(f->g.at_us[1] - t0 < 100000);
	probe_engine_stats(f->e, &st);
	assert_int_equal(st.immediate, 1);
	fx_free(f);
}

/* The head closes an idle connection but serves: no failure. */
static void
test_keepalive(void **state)
{
	struct fx	*f = fx_new(3000, 200, 2000);
	int64_t		 t0;

	(void)state;
	assert_true(run_until(f->base, &f->g, 1, 4000));
	run_until(f->base, &f->g, 2, 300);
	t0 = mono_us();
	head_drop(&f->h, false);	/* its keep-alive timeout */
	assert_true(run_until(f->base, &f->g, 2, 2500));
	assert_true(f->g.r[1].ok);
	assert_true(f->g.r[1].immediate);
	assert_true(f->g.at_us[1] - t0 < 100000);
	/* Nothing more until the schedule: no loop. */
	run_until(f->base, &f->g, 3, 1000);
	assert_int_equal(f->g.n, 2);
	fx_free(f);
}

/* A head that closes each connection after its answer: no probe loop. */
static void
test_close_loop(void **state)
{
	struct fx	*f = fx_new(400, 100, 1000);
	int		 i, imm = 0;

	(void)state;
	f->h.mode = HEAD_CLOSE_AFTER;
	assert_true(run_until(f->base, &f->g, 1, 1000));
	f->g.n = 0;
	run_until(f->base, &f->g, MAXR, 4000);
	/* 10 rounds in 4 s: at most one immediate check beside each. */
	assert_true(f->g.n >= 9);
	assert_true(f->g.n <= 21);
	for (i = 0; i < f->g.n && i < MAXR; i++) {
		assert_true(f->g.r[i].ok);
		imm += f->g.r[i].immediate;
	}
	assert_true(imm <= f->g.n / 2 + 1);
	fx_free(f);
}

/* Two idle closes within fastinter: one immediate check. */
static void
test_bound(void **state)
{
	struct fx	*f = fx_new(3000, 1000, 2000);
	struct probe_stats st;

	(void)state;
	assert_true(run_until(f->base, &f->g, 1, 4000));
	run_until(f->base, &f->g, 2, 200);
	head_drop(&f->h, false);
	assert_true(run_until(f->base, &f->g, 2, 500));
	assert_true(f->g.r[1].immediate);
	run_until(f->base, &f->g, 3, 100);
	head_drop(&f->h, false);	/* again, 100 ms later */
	run_until(f->base, &f->g, 3, 1000);
	assert_int_equal(f->g.n, 2);
	probe_engine_stats(f->e, &st);
	assert_int_equal(st.immediate, 1);
	assert_int_equal(st.kicks_held, 1);
	fx_free(f);
}

/* A reset under a running check ends it now, not at the timeout. */
static void
reset_case(enum head_mode mode, enum probe_reason want)
{
	struct fx	*f = fx_new(3000, 200, 5000);
	int64_t		 t0;

	assert_true(run_until(f->base, &f->g, 1, 4000));
	assert_true(f->g.r[0].ok);
	/* The next check finds a reset: on its reused connection first
	 * (sent again on a fresh one, reset too), then for good. */
	f->h.mode = mode;
	t0 = mono_us();
	assert_int_equal(probe_update(f->p, &(struct probe_spec){
	    .url = f->url, .interval_ms = 3000, .fastinter_ms = 200,
	    .timeout_ms = 5000, .tls_verify = true }), 0);
	f->g.n = 1;
	assert_true(run_until(f->base, &f->g, 2, 4500));
	assert_false(f->g.r[1].ok);
	assert_int_equal(f->g.r[1].reason, want);
	/* latency: well under the 5 s timeout */
	assert_true(f->g.r[1].latency_us < 500000);
	assert_true(f->g.at_us[1] - t0 < 4000000);
	fx_free(f);
}

static void
test_reset_mid(void **state)
{
	(void)state;
	reset_case(HEAD_RESET, PROBE_R_PROTOCOL);
	reset_case(HEAD_RESET_PARTIAL, PROBE_R_PROTOCOL);
}

/* ---- slots ---- */

#define NSLOT	256		/* 4 shards of 64 */

struct slot {
	int	 n;
	int64_t	 at_us[8];
};

static void
slot_cb(struct probe *p, const struct probe_result *r, void *udata)
{
	struct slot	*sl = udata;

	(void)p;
	(void)r;
	if (sl->n < 8)
		sl->at_us[sl->n] = mono_us();
	sl->n++;
}

/* The time of slot's first result at or after t, or -1. */
static int64_t
slot_after(const struct slot *sl, int64_t t)
{
	for (int i = 0; i < sl->n && i < 8; i++)
		if (sl->at_us[i] >= t)
			return sl->at_us[i];
	return -1;
}

/*
 * Run until every slot has n results (after > 0: a result at or after
 * it), or ms pass; true if they have.
 */
static bool
run_slots(struct event_base *base, struct slot *sl, int n, int64_t after,
    int ms)
{
	int64_t		 end = mono_us() + (int64_t)ms * 1000;
	struct event	*t = evtimer_new(base, stop_cb, NULL);
	struct timeval	 tv = { 0, 20000 };
	bool		 all = false;

	while (!all && mono_us() < end) {
		evtimer_add(t, &tv);
		event_base_loop(base, EVLOOP_ONCE);
		all = true;
		for (int i = 0; i < NSLOT && all; i++)
			all = after > 0 ? slot_after(&sl[i], after) >= 0 :
			    sl[i].n >= n;
	}
	event_free(t);
	return all;
}

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/* at[] sorted: the span, and the most results within 50 ms. */
static void
spread_of(int64_t *at, int64_t *span, int *most)
{
	qsort(at, NSLOT, sizeof(at[0]), cmp_i64);
	*most = 0;
	for (int i = 0, j = 0; i < NSLOT; i++) {
		while (at[i] - at[j] > 50000)
			j++;
		if (i - j + 1 > *most)
			*most = i - j + 1;
	}
	*span = at[NSLOT - 1] - at[0];
}

struct slots_fx {
	struct event_base	*base;
	struct head		*h;
	struct probe_engine	*e;
	struct probe		*p[NSLOT];
	struct slot		 sl[NSLOT];
	char			 url[64];
};

static struct slots_fx *
slots_new(void)
{
	struct slots_fx		*f = calloc(1, sizeof(*f));
	struct probe_spec	 s;

	assert_non_null(f);
	assert_non_null(f->base = event_base_new());
	assert_non_null(f->h = calloc(1, sizeof(*f->h)));
	head_start(f->h, f->base);
	assert_non_null(f->e = probe_engine_new(f->base, slot_cb));
	snprintf(f->url, sizeof(f->url), "http://127.0.0.1:%d/health",
	    f->h->port);
	for (int i = 0; i < NSLOT; i++) {
		probe_spec_init(&s);
		s.url = f->url;
		s.interval_ms = 1000;
		s.fastinter_ms = 100;
		s.timeout_ms = 500;
		assert_int_equal(probe_add(f->e, &s, &f->sl[i], &f->p[i]), 0);
	}
	return f;
}

static void
slots_free(struct slots_fx *f)
{
	probe_engine_free(f->e);
	head_stop(f->h);
	free(f->h);
	event_base_free(f->base);
	free(f);
}

/* The web head closes every idle connection at once. */
static void
test_slots_kick(void **state)
{
	struct slots_fx	*f = slots_new();
	struct probe_stats st;
	int64_t		 at[NSLOT], t, span;
	int		 most;

	(void)state;
	assert_true(run_slots(f->base, f->sl, 2, 0, 4000));
	head_drop(f->h, false);
	t = mono_us();
	/* The immediate checks come at once; what follows them: */
	assert_true(run_slots(f->base, f->sl, 0, t + 50000, 3000));
	probe_engine_stats(f->e, &st);
	assert_true(st.immediate > NSLOT / 2);
	for (int i = 0; i < NSLOT; i++)
		at[i] = slot_after(&f->sl[i], t + 50000);
	spread_of(at, &span, &most);
	assert_true(span > 500000);
	assert_true(most <= 96);
	slots_free(f);
}

static void
test_slots(void **state)
{
	struct slots_fx	*f = slots_new();
	int64_t		 at[NSLOT], t, span;
	int		 most;

	(void)state;
	/* The first round, spread over the interval by shard. */
	assert_true(run_slots(f->base, f->sl, 1, 0, 3000));
	/* Every stack unknown at once: fast checks, then up at once. */
	for (int i = 0; i < NSLOT; i++)
		probe_set_mode(f->p[i], PROBE_MODE_FAST);
	assert_true(run_slots(f->base, f->sl, 2, 0, 2000));
	t = mono_us();
	for (int i = 0; i < NSLOT; i++)
		probe_set_mode(f->p[i], PROBE_MODE_NORMAL);
	/* The first check each begins after that (a check here takes a
	 * millisecond or two; one begun just before may end just after). */
	t += 50000;
	assert_true(run_slots(f->base, f->sl, 0, t, 3000));
	for (int i = 0; i < NSLOT; i++)
		at[i] = slot_after(&f->sl[i], t);
	spread_of(at, &span, &most);
	/* The shards' slots are 0, .62, .24, .85 of the interval apart:
	 * spread over more than half of it, one shard (64) or so at a time;
	 * re-planned from their fast checks, all 256 came within 50 ms. */
	assert_true(span > 500000);
	assert_true(most <= 96);
	slots_free(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_killed),
		cmocka_unit_test(test_keepalive),
		cmocka_unit_test(test_close_loop),
		cmocka_unit_test(test_bound),
		cmocka_unit_test(test_reset_mid),
		cmocka_unit_test(test_slots),
		cmocka_unit_test(test_slots_kick),
	};
	int	 rc;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	curl_global_cleanup();
	return rc;
}
