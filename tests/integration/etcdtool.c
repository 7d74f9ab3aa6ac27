/*
 * etcdtool.c - cluster/ (libcluster.a) driven from the command line, for
 * the integration tests against a real etcd (tests/integration/
 * test_etcd_*.sh) and for trying things by hand.
 *
 *   etcdtool [-e URL,...] [-t TIMEOUT_MS] [-i IDLE_MS] COMMAND ARGS
 *
 *   put KEY VALUE [LEASE]        one put
 *   get KEY [prefix]             one range: every kv, then the count
 *   del KEY [prefix]             one delete
 *   create KEY VALUE             create-if-absent txn: won, or who holds it
 *   lease TTL                    grant, keep-alive, expiry, revoke (below)
 *   race KEY ROUNDS              two clients race create-if-absent
 *   writer PREFIX N INTERVAL_MS  create PREFIX/1..N, each exactly once
 *   watch KEY [prefix] [REV] [COUNT]   print events (until COUNT)
 *   elect KEY NAME TTL [MARGIN_US]     campaign, lead, write, follow
 *   ops KEY COUNT INTERVAL_MS    a put every interval, each timed
 *
 * Every line is key=value, starting with event=NAME; times t= and
 * valid_until= are CLOCK_BOOTTIME microseconds, comparable between
 * processes on this host.  Errors print error=NAME (cl_error_name) and
 * detail="...".  Exit 0 when the command's own checks held, 1 if not (a
 * line "FAIL ..." says why), 2 usage.  SIGTERM ends watch, elect and ops
 * (elect resigns first, so its lease is revoked).  elect also takes
 * SIGUSR1: send a stale write, fenced with the epoch it last led in,
 * whether it still leads or not (what a deposed leader that checked
 * before it was frozen would send).
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <curl/curl.h>

#include "cluster/cl.h"
#include "cluster/cl_election.h"

static struct event_base *base;
static struct cl_client *cli, *cli2;
static int	 status;	/* exit code */
static char	*endpoints_arg = "http://127.0.0.1:2379";
static int64_t	 timeout_ms = 1000, idle_ms = 10000;

static void
fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
fail(const char *fmt, ...)
{
	va_list	 ap;

	printf("FAIL ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	status = 1;
}

static int64_t
now_us(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Text as a quoted value; non-printing bytes as \xNN. */
static void
print_q(const char *k, const char *v, size_t n)
{
	size_t	 i;

	printf(" %s=\"", k);
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)v[i];

		if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\')
			printf("\\x%02x", c);
		else
			putchar(c);
	}
	putchar('"');
}

static void
print_err(const char *ev, int err, const char *detail)
{
	printf("event=%s error=%s", ev, cl_error_name(err));
	print_q("detail", detail, strlen(detail));
	printf(" t=%" PRId64 "\n", now_us());
}

static struct cl_client *
client_new(const char *eps, bool reverse)
{
	const char		*v[CL_MAX_ENDPOINTS];
	struct cl_opts		 o;
	struct cl_client	*c;
	char			*copy, *save = NULL, *tok, detail[256];
	size_t			 n = 0, i;
	int			 err = 0;

	if ((copy = strdup(eps)) == NULL)
		return NULL;
	for (tok = strtok_r(copy, ",", &save); tok != NULL && n < CL_MAX_ENDPOINTS;
	    tok = strtok_r(NULL, ",", &save))
		v[n++] = tok;
	if (reverse)
		for (i = 0; i < n / 2; i++) {
			const char *t = v[i];

			v[i] = v[n - 1 - i];
			v[n - 1 - i] = t;
		}
	cl_opts_init(&o);
	o.endpoints = v;
	o.nendpoints = n;
	o.timeout_ms = timeout_ms;
	o.watch_idle_ms = idle_ms;
	c = cl_client_new(base, &o, &err, detail, sizeof(detail));
	if (c == NULL)
		print_err("client", err, detail);
	free(copy);
	return c;
}

/* --- one request, waited for ---------------------------------------- */

struct wait {
	bool		 done;
	int		 error;
	char		 detail[1024];
	int64_t		 sent_us;
	int		 attempts;
	bool		 indeterminate;
	struct cl_resp	 r;		/* a copy of what matters */
	int64_t		 rev;
	int64_t		 lease_id, lease_ttl;
	bool		 succeeded;
	int64_t		 count;
	/* The first kv of the (first) range. */
	bool		 have_kv;
	char		 value[256];
	int64_t		 create, mod, kvlease;
	const char	*endpoint;
};

static void
wait_cb(const struct cl_reply *r, void *arg)
{
	struct wait			*w = arg;
	const struct cl_op_result	*op = NULL;

	w->done = true;
	w->error = r->error;
	snprintf(w->detail, sizeof(w->detail), "%s", r->detail);
	w->sent_us = r->sent_us;
	w->attempts = r->attempts;
	w->indeterminate = r->indeterminate;
	w->endpoint = r->endpoint;
	w->rev = r->r.header.revision;
	w->lease_id = r->r.lease_id;
	w->lease_ttl = r->r.lease_ttl;
	w->succeeded = r->r.succeeded;
	w->count = r->r.op.count;
	if (r->r.nops > 0)
		op = &r->r.ops[0];
	else if (r->r.op.nkvs > 0)
		op = &r->r.op;
	if (op != NULL && op->nkvs > 0) {
		w->have_kv = true;
		snprintf(w->value, sizeof(w->value), "%.*s",
		    (int)op->kvs[0].value_len, op->kvs[0].value);
		w->create = op->kvs[0].create_revision;
		w->mod = op->kvs[0].mod_revision;
		w->kvlease = op->kvs[0].lease;
	}
	event_base_loopbreak(base);
}

/* Run the loop until w is done (bounded by the client's own timeouts). */
static void
wait_for(struct wait *w)
{
	while (!w->done)
		event_base_loop(base, EVLOOP_ONCE);
}

static void
sleep_loop(int64_t ms)
{
	struct timeval	 tv = { ms / 1000, (ms % 1000) * 1000 };

	event_base_loopexit(base, &tv);
	event_base_dispatch(base);
}

/* --- put, get, del, create ------------------------------------------ */

static int
cmd_put(int argc, char **argv)
{
	struct cl_op	 op;
	struct wait	 w;
	int		 rc;

	if (argc < 3)
		return 2;
	memset(&op, 0, sizeof(op));
	memset(&w, 0, sizeof(w));
	op.kind = CL_OP_PUT;
	op.key = argv[1];
	op.value = argv[2];
	op.value_len = strlen(argv[2]);
	op.lease = argc > 3 ? strtoll(argv[3], NULL, 10) : 0;
	if ((rc = cl_put(cli, &op, wait_cb, &w, NULL)) != 0) {
		print_err("put", rc, "");
		return 1;
	}
	wait_for(&w);
	if (w.error != 0) {
		print_err("put", w.error, w.detail);
		return 1;
	}
	printf("event=put rev=%" PRId64 " endpoint=%s\n", w.rev, w.endpoint);
	return 0;
}

static void
get_cb(const struct cl_reply *r, void *arg)
{
	struct wait	*w = arg;
	size_t		 i;

	if (r->error == 0) {
		for (i = 0; i < r->r.op.nkvs; i++) {
			const struct cl_kv *kv = &r->r.op.kvs[i];

			printf("event=kv");
			print_q("key", kv->key, kv->key_len);
			print_q("value", kv->value, kv->value_len);
			printf(" create=%" PRId64 " mod=%" PRId64 " version=%"
			    PRId64 " lease=%" PRId64 "\n", kv->create_revision,
			    kv->mod_revision, kv->version, kv->lease);
		}
	}
	wait_cb(r, w);
}

static int
cmd_get(int argc, char **argv)
{
	struct cl_op	 op;
	struct wait	 w;
	int		 rc;

	if (argc < 2)
		return 2;
	memset(&op, 0, sizeof(op));
	memset(&w, 0, sizeof(w));
	op.kind = CL_OP_RANGE;
	op.key = argv[1];
	op.prefix = argc > 2 && strcmp(argv[2], "prefix") == 0;
	if ((rc = cl_range(cli, &op, get_cb, &w, NULL)) != 0) {
		print_err("range", rc, "");
		return 1;
	}
	wait_for(&w);
	if (w.error != 0) {
		print_err("range", w.error, w.detail);
		return 1;
	}
	printf("event=range count=%" PRId64 " rev=%" PRId64 "\n", w.count,
	    w.rev);
	return 0;
}

static int
cmd_del(int argc, char **argv)
{
	struct cl_op	 op;
	struct wait	 w;
	int		 rc;

	if (argc < 2)
		return 2;
	memset(&op, 0, sizeof(op));
	memset(&w, 0, sizeof(w));
	op.kind = CL_OP_DELETE;
	op.key = argv[1];
	op.prefix = argc > 2 && strcmp(argv[2], "prefix") == 0;
	if ((rc = cl_delete(cli, &op, wait_cb, &w, NULL)) != 0) {
		print_err("del", rc, "");
		return 1;
	}
	wait_for(&w);
	if (w.error != 0) {
		print_err("del", w.error, w.detail);
		return 1;
	}
	printf("event=del deleted=%" PRId64 " rev=%" PRId64 "\n", w.count,
	    w.rev);
	return 0;
}

/* The txn of cl_election.h's campaign, without a lease. */
static int
create_submit(struct cl_client *c, const char *key, const char *value,
    int64_t lease, struct wait *w)
{
	struct cl_cmp	 cmp;
	struct cl_op	 put;

	memset(&cmp, 0, sizeof(cmp));
	cmp.key = key;
	cmp.target = CL_CMP_CREATE;
	cmp.result = CL_CMP_EQUAL;
	memset(&put, 0, sizeof(put));
	put.kind = CL_OP_PUT;
	put.key = key;
	put.value = value;
	put.value_len = strlen(value);
	put.lease = lease;
	return cl_txn_else_get(c, &cmp, &put, wait_cb, w, NULL);
}

static int
cmd_create(int argc, char **argv)
{
	struct wait	 w;
	int		 rc;

	if (argc < 3)
		return 2;
	memset(&w, 0, sizeof(w));
	if ((rc = create_submit(cli, argv[1], argv[2], 0, &w)) != 0) {
		print_err("create", rc, "");
		return 1;
	}
	wait_for(&w);
	if (w.error != 0) {
		print_err("create", w.error, w.detail);
		return 1;
	}
	if (w.succeeded)
		printf("event=create won=1 rev=%" PRId64 "\n", w.rev);
	else
		printf("event=create won=0 holder=%s create=%" PRId64 " rev=%"
		    PRId64 "\n", w.value, w.create, w.rev);
	return 0;
}

/* --- lease ----------------------------------------------------------- */

static int
cmd_lease(int argc, char **argv)
{
	struct wait	 w;
	struct cl_op	 put, get;
	int64_t		 ttl, lease, last_sent = 0, gone_at = 0, deadline;
	char		 key[64];
	int		 i, rc;

	if (argc < 2)
		return 2;
	ttl = strtoll(argv[1], NULL, 10);
	snprintf(key, sizeof(key), "/etcdtool/lease/%d", (int)getpid());

	memset(&w, 0, sizeof(w));
	if ((rc = cl_grant(cli, ttl, wait_cb, &w, NULL)) != 0 ||
	    (wait_for(&w), w.error != 0)) {
		print_err("grant", rc != 0 ? rc : w.error, w.detail);
		return 1;
	}
	lease = w.lease_id;
	last_sent = w.sent_us;
	printf("event=grant lease=%" PRId64 " ttl=%" PRId64 " t=%" PRId64 "\n",
	    lease, w.lease_ttl, now_us());
	if (w.lease_ttl != ttl)
		fail("granted ttl %" PRId64 ", asked %" PRId64, w.lease_ttl,
		    ttl);

	memset(&put, 0, sizeof(put));
	put.kind = CL_OP_PUT;
	put.key = key;
	put.value = "held";
	put.value_len = 4;
	put.lease = lease;
	memset(&w, 0, sizeof(w));
	if ((rc = cl_put(cli, &put, wait_cb, &w, NULL)) != 0 ||
	    (wait_for(&w), w.error != 0)) {
		print_err("put", rc != 0 ? rc : w.error, w.detail);
		return 1;
	}

	/* Renewed past the ttl, the key stays. */
	for (i = 0; i < 3; i++) {
		sleep_loop(ttl * 1000 / 2);
		memset(&w, 0, sizeof(w));
		if ((rc = cl_keepalive(cli, lease, wait_cb, &w, NULL)) != 0 ||
		    (wait_for(&w), w.error != 0)) {
			print_err("keepalive", rc != 0 ? rc : w.error, w.detail);
			fail("keep-alive %d failed", i);
			return 1;
		}
		last_sent = w.sent_us;
		printf("event=keepalive ttl=%" PRId64 " attempts=%d t=%" PRId64
		    "\n", w.lease_ttl, w.attempts, now_us());
		if (w.lease_ttl != ttl)
			fail("keep-alive gave ttl %" PRId64, w.lease_ttl);
	}
	memset(&get, 0, sizeof(get));
	get.kind = CL_OP_RANGE;
	get.key = key;
	memset(&w, 0, sizeof(w));
	if ((rc = cl_range(cli, &get, wait_cb, &w, NULL)) != 0 ||
	    (wait_for(&w), w.error != 0) || !w.have_kv || w.kvlease != lease)
		fail("key not held by the lease after the renewals");

	/* Not renewed: the key goes between ttl and ttl + 1 s later. */
	deadline = last_sent + (ttl + 3) * 1000000;
	while (now_us() < deadline) {
		sleep_loop(50);
		memset(&w, 0, sizeof(w));
		if (cl_range(cli, &get, wait_cb, &w, NULL) != 0)
			continue;
		wait_for(&w);
		if (w.error == 0 && !w.have_kv) {
			gone_at = now_us();
			break;
		}
	}
	if (gone_at == 0) {
		fail("key still there %" PRId64 " s after the last renewal",
		    ttl + 3);
		return 1;
	}
	printf("event=expired after_ms=%" PRId64 "\n",
	    (gone_at - last_sent) / 1000);
	if (gone_at - last_sent < ttl * 1000000)
		fail("expired %" PRId64 " ms after the last renewal was sent, "
		    "before its ttl", (gone_at - last_sent) / 1000);

	memset(&w, 0, sizeof(w));
	if ((rc = cl_keepalive(cli, lease, wait_cb, &w, NULL)) == 0)
		wait_for(&w);
	printf("event=keepalive_after error=%s\n", cl_error_name(rc != 0 ? rc :
	    w.error));
	if (rc != 0 || w.error != CL_E_NOTFOUND)
		fail("keep-alive of an expired lease: %s", w.detail);
	memset(&w, 0, sizeof(w));
	if ((rc = cl_revoke(cli, lease, wait_cb, &w, NULL)) == 0)
		wait_for(&w);
	printf("event=revoke_after error=%s\n", cl_error_name(rc != 0 ? rc :
	    w.error));
	if (rc != 0 || w.error != CL_E_NOTFOUND)
		fail("revoke of an expired lease: %s", w.detail);

	/* A revoke deletes the lease's keys at once. */
	memset(&w, 0, sizeof(w));
	if ((rc = cl_grant(cli, ttl, wait_cb, &w, NULL)) != 0 ||
	    (wait_for(&w), w.error != 0)) {
		print_err("grant", rc != 0 ? rc : w.error, w.detail);
		return 1;
	}
	put.lease = lease = w.lease_id;
	memset(&w, 0, sizeof(w));
	if ((rc = cl_put(cli, &put, wait_cb, &w, NULL)) != 0 ||
	    (wait_for(&w), w.error != 0))
		fail("put with the second lease");
	memset(&w, 0, sizeof(w));
	if ((rc = cl_revoke(cli, lease, wait_cb, &w, NULL)) != 0 ||
	    (wait_for(&w), w.error != 0))
		fail("revoke: %s", w.detail);
	memset(&w, 0, sizeof(w));
	if ((rc = cl_range(cli, &get, wait_cb, &w, NULL)) != 0 ||
	    (wait_for(&w), w.error != 0) || w.have_kv)
		fail("key still there after its lease was revoked");
	else
		printf("event=revoked key_gone=1\n");
	return status;
}

/* --- race ------------------------------------------------------------ */

static int
cmd_race(int argc, char **argv)
{
	struct wait	 a, b;
	char		 key[256];
	int		 rounds, i, wins_a = 0, wins_b = 0;

	if (argc < 3)
		return 2;
	rounds = atoi(argv[2]);
	/* A second client, its own connections, endpoints the other way. */
	if ((cli2 = client_new(endpoints_arg, true)) == NULL)
		return 1;
	for (i = 0; i < rounds; i++) {
		snprintf(key, sizeof(key), "%s/%d", argv[1], i);
		memset(&a, 0, sizeof(a));
		memset(&b, 0, sizeof(b));
		/* Both out before either answer is read. */
		if (create_submit(cli, key, "a", 0, &a) != 0 ||
		    create_submit(cli2, key, "b", 0, &b) != 0) {
			fail("submit");
			return 1;
		}
		wait_for(&a);
		wait_for(&b);
		if (a.error != 0 || b.error != 0) {
			fail("round %d: %s / %s", i, a.detail, b.detail);
			continue;
		}
		if (a.succeeded == b.succeeded) {
			fail("round %d: both %s", i, a.succeeded ? "won" :
			    "lost");
			continue;
		}
		/* The loser's failure branch names the winner. */
		if (a.succeeded) {
			wins_a++;
			if (strcmp(b.value, "a") != 0 || b.create != a.rev)
				fail("round %d: b saw holder %s create %" PRId64,
				    i, b.value, b.create);
		} else {
			wins_b++;
			if (strcmp(a.value, "b") != 0 || a.create != b.rev)
				fail("round %d: a saw holder %s create %" PRId64,
				    i, a.value, a.create);
		}
	}
	printf("event=race rounds=%d wins_a=%d wins_b=%d\n", rounds, wins_a,
	    wins_b);
	return status;
}

/* --- writer ---------------------------------------------------------- */

/*
 * Create PREFIX/i for i = 1..n, one at a time, retrying until each is
 * there: create-if-absent, so a retry after a lost answer cannot write a
 * key twice; a retry that finds the key reports the revision it was made
 * in.  Prints "event=wrote key=K rev=R" once per key.
 */
static int
cmd_writer(int argc, char **argv)
{
	struct wait	 w;
	char		 key[256], val[32];
	int		 n, i, tries;
	int64_t		 interval;

	if (argc < 4)
		return 2;
	n = atoi(argv[2]);
	interval = strtoll(argv[3], NULL, 10);
	for (i = 1; i <= n; i++) {
		snprintf(key, sizeof(key), "%s/%d", argv[1], i);
		snprintf(val, sizeof(val), "%d", i);
		for (tries = 0;; tries++) {
			memset(&w, 0, sizeof(w));
			if (create_submit(cli, key, val, 0, &w) != 0) {
				fail("submit");
				return 1;
			}
			wait_for(&w);
			if (w.error == 0)
				break;
			print_err("write_retry", w.error, w.detail);
			if (tries > 200) {
				fail("%s: no success in 200 tries", key);
				return 1;
			}
			sleep_loop(100);
		}
		if (!w.succeeded && strcmp(w.value, val) != 0) {
			fail("%s holds %s", key, w.value);
			return 1;
		}
		printf("event=wrote key=%s rev=%" PRId64 " endpoint=%s t=%"
		    PRId64 "\n", key, w.succeeded ? w.rev : w.create,
		    w.endpoint, now_us());
		sleep_loop(interval);
	}
	return 0;
}

/* --- watch ----------------------------------------------------------- */

static long	 watch_want, watch_seen;

static void
watch_cb(struct cl_watch *wt, const struct cl_watch_result *r, void *arg)
{
	size_t	 i;

	(void)arg;
	if (r->error != 0) {
		print_err(r->error == CL_E_COMPACTED ? "compacted" :
		    "watch_error", r->error, r->detail);
		if (r->error == CL_E_COMPACTED) {
			printf("event=compacted compact_revision=%" PRId64
			    " next=%" PRId64 "\n", r->compact_revision,
			    cl_watch_next_revision(wt));
			event_base_loopbreak(base);
		}
		return;
	}
	if (r->created)
		printf("event=created endpoint=%s rev=%" PRId64 " next=%" PRId64
		    " streams=%" PRIu64 " t=%" PRId64 "\n", r->endpoint,
		    r->revision, cl_watch_next_revision(wt),
		    cl_watch_streams(wt), now_us());
	for (i = 0; i < r->nevents; i++) {
		const struct cl_event *e = &r->events[i];

		printf("event=watch type=%s", e->type == CL_EV_PUT ? "PUT" :
		    "DELETE");
		print_q("key", e->kv.key, e->kv.key_len);
		printf(" rev=%" PRId64 " create=%" PRId64 " endpoint=%s\n",
		    e->kv.mod_revision, e->kv.create_revision, r->endpoint);
		watch_seen++;
	}
	if (watch_want > 0 && watch_seen >= watch_want)
		event_base_loopbreak(base);
}

static void
stop_cb(evutil_socket_t fd, short kind, void *arg)
{
	(void)fd;
	(void)kind;
	*(bool *)arg = true;
	event_base_loopbreak(base);
}

static int
cmd_watch(int argc, char **argv)
{
	struct cl_watch_spec	 s;
	struct cl_watch		*wt = NULL;
	struct event		*sig;
	bool			 stop = false;
	int			 rc;

	if (argc < 2)
		return 2;
	memset(&s, 0, sizeof(s));
	s.key = argv[1];
	s.prefix = argc > 2 && strcmp(argv[2], "prefix") == 0;
	s.start_revision = argc > 3 ? strtoll(argv[3], NULL, 10) : 0;
	watch_want = argc > 4 ? atol(argv[4]) : 0;
	if ((rc = cl_watch_start(cli, &s, watch_cb, NULL, &wt)) != 0) {
		print_err("watch", rc, "");
		return 1;
	}
	sig = evsignal_new(base, SIGTERM, stop_cb, &stop);
	evsignal_add(sig, NULL);
	event_base_dispatch(base);
	printf("event=watch_end seen=%ld next=%" PRId64 " streams=%" PRIu64
	    "\n", watch_seen, cl_watch_next_revision(wt), cl_watch_streams(wt));
	cl_watch_stop(wt);
	event_free(sig);
	return 0;
}

/* --- elect ----------------------------------------------------------- */

struct elect {
	struct cl_election	*el;
	const char		*key;
	const char		*name;
	char			 datakey[256];
	struct event		*tick;
	int64_t			 last_epoch, last_lease;
	bool			 write_busy;
	bool			 stale_busy;
	bool			 stop;
	bool			 resigned;
	long			 writes;
};

static void
elect_cb(struct cl_election *el, const struct cl_election_event *ev,
    void *arg)
{
	struct elect	*e = arg;
	int		 rc;

	switch (ev->kind) {
	case CL_EL_ELECTED:
		e->last_epoch = ev->epoch;
		e->last_lease = ev->lease;
		printf("event=elected name=%s epoch=%" PRId64 " lease=%" PRId64
		    " t=%" PRId64 " valid_until=%" PRId64 " ttl=%" PRId64 "\n",
		    e->name, ev->epoch, ev->lease, now_us(), ev->valid_until_us,
		    cl_election_ttl(el));
		break;
	case CL_EL_LOST:
		printf("event=lost name=%s reason=%s epoch=%" PRId64 " t=%"
		    PRId64, e->name, cl_lost_reason_name(ev->reason), ev->epoch,
		    now_us());
		print_q("detail", ev->detail, strlen(ev->detail));
		printf("\n");
		/* Follow again (the caller's policy in a daemon). */
		if (!e->stop && (rc = cl_election_campaign(el)) != 0)
			print_err("campaign", rc, "");
		break;
	case CL_EL_OBSERVED:
		printf("event=observed name=%s", e->name);
		print_q("leader", ev->leader, ev->leader_len);
		printf(" epoch=%" PRId64 " t=%" PRId64 "\n", ev->epoch,
		    now_us());
		break;
	case CL_EL_RENEWED:
		printf("event=valid name=%s epoch=%" PRId64 " t=%" PRId64
		    " valid_until=%" PRId64 " renewal_sent=%" PRId64 "\n",
		    e->name, ev->epoch, now_us(), ev->valid_until_us,
		    cl_election_last_renewal(el));
		break;
	case CL_EL_ERROR:
		printf("event=election_error name=%s error=%s", e->name,
		    cl_error_name(ev->error));
		print_q("detail", ev->detail, strlen(ev->detail));
		printf(" t=%" PRId64 "\n", now_us());
		break;
	}
}

static void
write_cb(const struct cl_reply *r, void *arg)
{
	struct elect	*e = arg;

	e->write_busy = false;
	e->writes++;
	printf("event=write name=%s result=%s rev=%" PRId64 " sent=%" PRId64
	    " t=%" PRId64, e->name, r->error == 0 ? (r->r.succeeded ? "ok" :
	    "compare_failed") : cl_error_name(r->error), r->r.header.revision,
	    r->sent_us, now_us());
	print_q("detail", r->detail, strlen(r->detail));
	printf("\n");
}

static void
stale_cb(const struct cl_reply *r, void *arg)
{
	struct elect	*e = arg;

	e->stale_busy = false;
	printf("event=stale_write name=%s epoch=%" PRId64 " error=%s "
	    "succeeded=%d rev=%" PRId64 " t=%" PRId64 "\n", e->name,
	    e->last_epoch, cl_error_name(r->error), r->r.succeeded ? 1 : 0,
	    r->r.header.revision, now_us());
}

/* A put of datakey fenced with the last epoch, not checked locally. */
static void
stale_write(struct elect *e)
{
	struct cl_cmp	 cmp[CL_FENCE_NCMP];
	struct cl_op	 put;
	struct cl_txn	 t;

	if (e->last_epoch == 0 || e->stale_busy)
		return;
	cl_election_fence(e->key, e->last_epoch, e->last_lease, cmp);
	memset(&put, 0, sizeof(put));
	put.kind = CL_OP_PUT;
	put.key = e->datakey;
	put.value = "stale";
	put.value_len = 5;
	memset(&t, 0, sizeof(t));
	t.cmp = cmp;
	t.ncmp = CL_FENCE_NCMP;
	t.success = &put;
	t.nsuccess = 1;
	if (cl_txn(cli, &t, stale_cb, e, NULL) == 0)
		e->stale_busy = true;
}

/* Every 100 ms while leading: a leader-only write. */
static void
tick_cb(evutil_socket_t fd, short kind, void *arg)
{
	struct elect	*e = arg;
	struct cl_op	 put;
	struct cl_txn	 t;
	char		 val[128];
	int		 rc;

	(void)fd;
	(void)kind;
	if (e->write_busy || cl_election_state(e->el) != CL_EL_LEADER)
		return;
	snprintf(val, sizeof(val), "%s epoch=%" PRId64, e->name,
	    cl_election_epoch(e->el));
	memset(&put, 0, sizeof(put));
	put.kind = CL_OP_PUT;
	put.key = e->datakey;
	put.value = val;
	put.value_len = strlen(val);
	memset(&t, 0, sizeof(t));
	t.success = &put;
	t.nsuccess = 1;
	rc = cl_election_txn(e->el, &t, write_cb, e, NULL);
	if (rc == 0)
		e->write_busy = true;
	else
		printf("event=write name=%s result=%s t=%" PRId64 "\n",
		    e->name, cl_error_name(rc), now_us());
}

static void
usr1_cb(evutil_socket_t fd, short kind, void *arg)
{
	(void)fd;
	(void)kind;
	stale_write(arg);
}

static void
resigned_cb(const struct cl_reply *r, void *arg)
{
	struct elect	*e = arg;

	printf("event=resigned name=%s error=%s t=%" PRId64 "\n", e->name,
	    cl_error_name(r->error), now_us());
	e->resigned = true;
	event_base_loopbreak(base);
}

static void
term_cb(evutil_socket_t fd, short kind, void *arg)
{
	struct elect	*e = arg;

	(void)fd;
	(void)kind;
	e->stop = true;
	printf("event=resign_call name=%s epoch=%" PRId64 " t=%" PRId64 "\n",
	    e->name, cl_election_epoch(e->el), now_us());
	if (cl_election_resign(e->el, resigned_cb, e) != 0) {
		e->resigned = true;
		event_base_loopbreak(base);
	}
}

static int
cmd_elect(int argc, char **argv)
{
	struct cl_election_opts	 o;
	struct elect		 e;
	struct event		*term, *usr1;
	struct timeval		 tv = { 0, 100000 };
	int			 err = 0;

	if (argc < 4)
		return 2;
	memset(&e, 0, sizeof(e));
	e.key = argv[1];
	e.name = argv[2];
	snprintf(e.datakey, sizeof(e.datakey), "%s.data", e.key);
	memset(&o, 0, sizeof(o));
	o.key = e.key;
	o.value = e.name;
	o.value_len = strlen(e.name);
	o.ttl_s = strtoll(argv[3], NULL, 10);
	o.margin_us = argc > 4 ? strtoll(argv[4], NULL, 10) : 0;
	if ((e.el = cl_election_new(cli, &o, elect_cb, &e, &err)) == NULL) {
		print_err("election", err, "");
		return 1;
	}
	term = evsignal_new(base, SIGTERM, term_cb, &e);
	usr1 = evsignal_new(base, SIGUSR1, usr1_cb, &e);
	e.tick = event_new(base, -1, EV_PERSIST, tick_cb, &e);
	evsignal_add(term, NULL);
	evsignal_add(usr1, NULL);
	evtimer_add(e.tick, &tv);
	printf("event=start name=%s pid=%d t=%" PRId64 "\n", e.name,
	    (int)getpid(), now_us());
	if (cl_election_campaign(e.el) != 0)
		return 1;
	while (!e.resigned)
		event_base_dispatch(base);
	event_free(e.tick);
	event_free(usr1);
	event_free(term);
	cl_election_free(e.el);
	return 0;
}

/* --- ops ------------------------------------------------------------- */

static int
cmd_ops(int argc, char **argv)
{
	struct cl_op	 op;
	struct wait	 w;
	struct event	*sig;
	bool		 stop = false;
	char		 val[32];
	int64_t		 t0, interval;
	int		 n, i, rc;

	if (argc < 4)
		return 2;
	n = atoi(argv[2]);
	interval = strtoll(argv[3], NULL, 10);
	sig = evsignal_new(base, SIGTERM, stop_cb, &stop);
	evsignal_add(sig, NULL);
	for (i = 0; i < n && !stop; i++) {
		memset(&op, 0, sizeof(op));
		memset(&w, 0, sizeof(w));
		snprintf(val, sizeof(val), "%d", i);
		op.kind = CL_OP_PUT;
		op.key = argv[1];
		op.value = val;
		op.value_len = strlen(val);
		t0 = now_us();
		if ((rc = cl_put(cli, &op, wait_cb, &w, NULL)) != 0) {
			print_err("op", rc, "");
			break;
		}
		wait_for(&w);
		printf("event=op i=%d result=%s attempts=%d ms=%" PRId64
		    " indeterminate=%d endpoint=%s t=%" PRId64, i,
		    cl_error_name(w.error), w.attempts, (now_us() - t0) / 1000,
		    w.indeterminate ? 1 : 0, w.endpoint, now_us());
		print_q("detail", w.detail, strlen(w.detail));
		printf("\n");
		if (!stop)
			sleep_loop(interval);
	}
	event_free(sig);
	return 0;
}

/* --- main ------------------------------------------------------------ */

static int
usage(void)
{
	fprintf(stderr, "usage: etcdtool [-e URL,...] [-t TIMEOUT_MS] "
	    "[-i IDLE_MS] put|get|del|create|lease|race|writer|watch|elect|ops "
	    "ARGS\n");
	return 2;
}

int
main(int argc, char **argv)
{
	int	 ch, rc;

	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	/* Never outlive a test that lost track of us. */
	alarm(240);
	while ((ch = getopt(argc, argv, "e:t:i:")) != -1) {
		switch (ch) {
		case 'e':
			endpoints_arg = optarg;
			break;
		case 't':
			timeout_ms = strtoll(optarg, NULL, 10);
			break;
		case 'i':
			idle_ms = strtoll(optarg, NULL, 10);
			break;
		default:
			return usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		return usage();
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0 ||
	    (base = event_base_new()) == NULL)
		return 1;
	if ((cli = client_new(endpoints_arg, false)) == NULL)
		return 1;
	if (strcmp(argv[0], "put") == 0)
		rc = cmd_put(argc, argv);
	else if (strcmp(argv[0], "get") == 0)
		rc = cmd_get(argc, argv);
	else if (strcmp(argv[0], "del") == 0)
		rc = cmd_del(argc, argv);
	else if (strcmp(argv[0], "create") == 0)
		rc = cmd_create(argc, argv);
	else if (strcmp(argv[0], "lease") == 0)
		rc = cmd_lease(argc, argv);
	else if (strcmp(argv[0], "race") == 0)
		rc = cmd_race(argc, argv);
	else if (strcmp(argv[0], "writer") == 0)
		rc = cmd_writer(argc, argv);
	else if (strcmp(argv[0], "watch") == 0)
		rc = cmd_watch(argc, argv);
	else if (strcmp(argv[0], "elect") == 0)
		rc = cmd_elect(argc, argv);
	else if (strcmp(argv[0], "ops") == 0)
		rc = cmd_ops(argc, argv);
	else
		rc = usage();
	if (rc == 2)
		usage();
	cl_client_free(cli2);
	cl_client_free(cli);
	event_base_free(base);
	curl_global_cleanup();
	return rc;
}
