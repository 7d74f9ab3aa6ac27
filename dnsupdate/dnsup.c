/*
 * dnsup.c - the DNS update engine: coalescing, transport, matching.
 *
 * Objects: a struct pending is one submitted update, queued until the
 * coalescing timer fires; a struct txn is one message on the wire (an
 * UPDATE carrying one or more pendings, or a query) with its socket, its
 * timer, and where it is in its list of servers.  Every txn ends in
 * txn_finish(), which closes it and reports once.  A pending whose
 * prerequisite failed after a try that may have been applied is parked
 * (its name still held) while its name is read back, then done.
 *
 * Names in flight are kept in a hash table so that an update for a name
 * already in a message waits in the queue: two messages for one name never
 * race on the server.
 *
 * Waiting txns are in one queue per class (UPDATEs, urgent queries, other
 * queries); a freed slot goes to the first class that has one free.
 *
 * XXX Each try opens its own socket.  With batching the count stays small
 * for updates; queries (read-back of many names) are bounded by
 * max_inflight, the rest wait their turn.
 */
#include "dnsupdate/dnsup.h"

#include <sys/queue.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <event2/event.h>

#include "dnsupdate/dnsup_check.h"
#include "dnsupdate/dnsup_owner.h"

#define NAME_BUCKETS	1024
#define UDP_MAX		512
#define RBUF_SIZE	65536
#define URGENT_EXTRA	32	/* slots only urgent queries may use */
/*
 * UPDATE messages in flight.  named applies one zone's updates one at a
 * time, so more gain nothing; and each large message is a TCP connection,
 * of which named serves 150 at once by default (tcp-clients): past that,
 * connections wait unanswered until the timeout.
 */
#define UPDATE_SLOTS	32
#define BUILD_BURST	4	/* UPDATE messages built per loop turn */
#define TCP_STICKY_MS	60000	/* a server that needed TCP gets it first */
/*
 * A query over UDP whose answer is late is sent again (the same datagram,
 * the same id) within its try, at the server's retransmission timeout
 * (RFC 6298: srtt + 4 x rttvar from answers to queries sent once, Karn's
 * rule), doubled each time: a datagram lost on the way (named drops what
 * overflows its socket's buffer when thousands of read-backs arrive at
 * once, as at a start with 5,000 groups) then costs about that timeout,
 * not the whole try's `timeout` (2 s) and a TCP retry.  Only queries: a
 * duplicate is answered twice and the second answer is ignored, where an
 * UPDATE sent twice would be applied twice.  The floor keeps a server that
 * answers in 1 ms from being asked twice whenever the loop is a little
 * late to read its answer.
 */
#define RESEND_FLOOR_MS		200
#define RESEND_INITIAL_MS	500	/* before the server's first sample */
/*
 * Queries in flight grow from QWND_INITIAL by one per answer to a query
 * sent once (doubling per round trip, up to max_inflight) and halve when
 * one had to be sent again (at most once per RESEND_FLOOR_MS): a server's
 * socket holds some 160 small datagrams by default (212,992 bytes of
 * buffer, over 1 KB each as the kernel counts them), and a burst of 256
 * read-backs at a start overflowed it whenever named was busy.
 */
#define QWND_INITIAL		32
#define QWND_MIN		16

struct server {
	struct sockaddr_storage	 ss;
	socklen_t		 len;
	char			 text[72];
	struct cfg_hostport	 hp;
	int64_t			 tcp_until_ms;	/* monotonic; 0: UDP first */
	int64_t			 srtt_us, rttvar_us;	/* UDP queries; 0:
						   no sample yet */
};

struct pending {
	struct dnsup_engine	*eng;
	struct dnsup_update	 u;
	char			 name[DNSUP_NAME_MAX];
	char			 txt[256];
	struct dnsup_txtset	*prevtxt;	/* copy of u.owner_prev */
	dnsup_update_cb		 cb;
	void			*arg;
	struct timespec		 t0;
	int			 tries;
	bool			 solo;		/* send alone */
	bool			 superseded;	/* a later supersede replaced it:
						   ends at the next flush */
	bool			 maybe_applied;	/* a try got no answer */
	/* While its name is read back after a prerequisite failure. */
	bool			 requeue;	/* not applied: send again alone */
	enum dnsup_result	 fail;
	char			 fail_detail[200];
	char			 fail_server[72];
	size_t			 fail_batch;
	TAILQ_ENTRY(pending)	 q;
	struct pending		*hnext;		/* names in flight */
};
TAILQ_HEAD(pendq, pending);

enum txn_state { TXN_IDLE, TXN_CONNECTING, TXN_WRITING, TXN_READING };
enum txn_class { TC_UPDATE = 0, TC_URGENT, TC_BULK, TC_N };

/* An error seen on the way, and where. */
struct txn_err {
	bool			 set;
	enum dnsup_result	 result;
	char			 detail[200];
	char			 server[72];
};

struct txn {
	struct dnsup_engine	*eng;
	struct dnsup_msg	*msg;
	enum txn_class		 cls;
	bool			 is_query;
	bool			 signed_;
	struct server		*srv;		/* borrowed or own */
	struct server		 own;
	struct server		*ownv;		/* the resolvers, own */
	size_t			 nsrv, si;
	int			 try_;
	bool			 tcp, rejected_here;
	bool			 udp_timed_out;	/* at this server: TCP now */
	bool			 sent;		/* this try's request is out */
	bool			 maybe_applied;
	enum txn_state		 state;
	int			 fd;
	struct event		*ev, *tmo;
	struct event		*rsnd;		/* a query's resend over UDP */
	int64_t			 rsnd_ms;	/* its next interval */
	struct timespec		 sent_at;	/* this try's first datagram */
	bool			 resent;	/* this try sent it again */
	uint8_t			*tbuf;		/* TCP answer */
	size_t			 tlen, tneed, woff;
	struct txn_err		 definite;	/* REFUSED, SERVFAIL ... */
	struct txn_err		 reject;	/* answers not trusted */
	struct txn_err		 last;		/* timeouts, socket errors */
	int			 tries;
	struct pending		**mem;
	size_t			 nmem;
	dnsup_query_cb		 qcb;
	void			*qarg;
	struct timespec		 t0;
	bool			 running;
	TAILQ_ENTRY(txn)	 link;
};
TAILQ_HEAD(txnq, txn);

struct dnsup_engine {
	struct event_base	*base;
	char			 zone[DNSUP_NAME_MAX];
	struct cfg_tsig_key	 key;
	bool			 has_key;
	struct server		*srv;
	struct cfg_hostport	*hps;
	size_t			 nsrv;
	int64_t			 timeout_ms;
	int			 retries;
	int			 coalesce_ms;
	size_t			 batch_max, max_inflight;
	size_t			 qwnd;		/* queries allowed in flight now */
	int64_t			 qwnd_cut_ms;	/* when it last halved */
	bool			 tcp_only;
	int			 priority;	/* of our events; -1: default */
	time_t			(*wallclock)(time_t *);
	char			 hosts_file[256], resolv_conf[256];
	struct event		*flush_ev;
	bool			 flush_armed, closing;
	struct pendq		 queue;
	struct txnq		 running, waiting[TC_N];
	size_t			 nrun[TC_N];
	size_t			 nparked;	/* pendings being read back */
	struct pending		*names[NAME_BUCKETS];
	uint64_t		 ids[65536 / 64];
	uint8_t			 rnd[256];
	size_t			 rndpos;
	uint8_t			*rbuf;
	struct dnsup_child	*children;
	struct dnsup_stats	 st;
};

static void	 flush_cb(evutil_socket_t, short, void *);
static void	 timeout_cb(evutil_socket_t, short, void *);
static void	 udp_cb(evutil_socket_t, short, void *);
static void	 tcp_cb(evutil_socket_t, short, void *);
static void	 start_waiting(struct dnsup_engine *);
static void	 txn_start(struct txn *);
static void	 txn_try(struct txn *);
static void	 txn_next(struct txn *, enum dnsup_result, const char *, bool);
static void	 txn_answer(struct txn *, const uint8_t *, size_t);
static int64_t	 rto_ms(const struct server *);
static void	 resend_arm(struct txn *, int64_t);
static void	 resend_cb(evutil_socket_t, short, void *);
static void	 rtt_sample(struct txn *, struct server *);
static void	 qwnd_cut(struct dnsup_engine *);
static void	 txn_finish(struct txn *, enum dnsup_result, const char *,
		    const struct dnsup_found *);
static void	 txn_close(struct txn *);
static void	 txn_free(struct txn *);
static int	 launch_batch(struct dnsup_engine *, struct pending **, size_t);
static void	 pending_done(struct pending *, enum dnsup_result, const char *,
		    const char *, size_t);
static void	 pending_requeue(struct pending *);
static void	 pending_check(struct pending *, const struct server *,
		    enum dnsup_result, const char *, size_t, bool);

/* Our events at the engine's priority, when one was given. */
static void
prio(const struct dnsup_engine *e, struct event *ev)
{
	if (ev != NULL && e->priority >= 0)
		event_priority_set(ev, e->priority);
}

static int64_t
mono_ms(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

static int64_t
elapsed_us(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (int64_t)(now.tv_sec - t0->tv_sec) * 1000000 +
	    (now.tv_nsec - t0->tv_nsec) / 1000;
}

void
dnsup_hostport_format(const struct cfg_hostport *hp, char *buf, size_t len)
{
	snprintf(buf, len, "%s#%u", hp->host, (unsigned)hp->port);
}

static int
server_set(struct server *s, const struct cfg_hostport *hp)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)&s->ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&s->ss;

	memset(s, 0, sizeof(*s));
	if (inet_pton(AF_INET, hp->host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(hp->port ? hp->port : 53);
		s->len = sizeof(*sin);
	} else if (inet_pton(AF_INET6, hp->host, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(hp->port ? hp->port : 53);
		s->len = sizeof(*sin6);
	} else
		return -1;
	snprintf(s->text, sizeof(s->text), "%s#%u", hp->host,
	    (unsigned)(hp->port ? hp->port : 53));
	s->hp = *hp;
	if (s->hp.port == 0)
		s->hp.port = 53;
	s->hp.family = s->ss.ss_family;
	return 0;
}

static unsigned
name_hash(const char *s)
{
	unsigned h = 2166136261u;

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c >= 'A' && c <= 'Z')
			c += 'a' - 'A';
		if (c == '.' && s[1] == '\0')
			break;
		h = (h ^ c) * 16777619u;
	}
	return h % NAME_BUCKETS;
}

static bool
name_eq(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	if (la && a[la - 1] == '.')
		la--;
	if (lb && b[lb - 1] == '.')
		lb--;
	return la == lb && strncasecmp(a, b, la) == 0;
}

static bool
name_busy(struct dnsup_engine *e, const char *name)
{
	struct pending *p;

	for (p = e->names[name_hash(name)]; p != NULL; p = p->hnext)
		if (name_eq(p->name, name))
			return true;
	return false;
}

static void
name_hold(struct pending *p)
{
	unsigned h = name_hash(p->name);

	p->hnext = p->eng->names[h];
	p->eng->names[h] = p;
}

static void
name_release(struct pending *p)
{
	struct pending **pp;

	for (pp = &p->eng->names[name_hash(p->name)]; *pp != NULL;
	    pp = &(*pp)->hnext)
		if (*pp == p) {
			*pp = p->hnext;
			p->hnext = NULL;
			return;
		}
}

/* A random id no other request in flight holds. */
static uint16_t
id_get(struct dnsup_engine *e)
{
	uint16_t id = 0;
	int i;

	for (i = 0; i < 100000; i++) {
		if (e->rndpos + 2 > sizeof(e->rnd)) {
			if (getrandom(e->rnd, sizeof(e->rnd), 0) !=
			    (ssize_t)sizeof(e->rnd)) {
				size_t k;

				for (k = 0; k < sizeof(e->rnd); k++)
					e->rnd[k] = (uint8_t)random();
			}
			e->rndpos = 0;
		}
		id = (uint16_t)(e->rnd[e->rndpos] << 8 | e->rnd[e->rndpos + 1]);
		e->rndpos += 2;
		if ((e->ids[id / 64] & (1ULL << (id % 64))) == 0)
			break;
	}
	e->ids[id / 64] |= 1ULL << (id % 64);
	return id;
}

static void
id_put(struct dnsup_engine *e, uint16_t id)
{
	e->ids[id / 64] &= ~(1ULL << (id % 64));
}

struct dnsup_engine *
dnsup_engine_new(struct event_base *base, const struct dnsup_params *p,
    char *err, size_t errlen)
{
	struct dnsup_engine *e;
	size_t i, zl;
	int c;

	if (p->zone == NULL || (zl = strlen(p->zone)) == 0 ||
	    zl + 2 > DNSUP_NAME_MAX) {
		snprintf(err, errlen, "no zone");
		return NULL;
	}
	if (p->nserver == 0) {
		snprintf(err, errlen, "no DNS server");
		return NULL;
	}
	if ((e = calloc(1, sizeof(*e))) == NULL ||
	    (e->srv = calloc(p->nserver, sizeof(*e->srv))) == NULL ||
	    (e->hps = calloc(p->nserver, sizeof(*e->hps))) == NULL ||
	    (e->rbuf = malloc(RBUF_SIZE)) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	e->base = base;
	memcpy(e->zone, p->zone, zl + 1);
	if (e->zone[zl - 1] != '.')
		strcat(e->zone, ".");
	if (p->key != NULL) {
		e->key = *p->key;
		e->has_key = true;
	}
	for (i = 0; i < p->nserver; i++) {
		if (server_set(&e->srv[i], &p->servers[i]) == -1) {
			snprintf(err, errlen, "bad server address '%s'",
			    p->servers[i].host);
			goto fail;
		}
		e->hps[i] = e->srv[i].hp;
	}
	e->nsrv = p->nserver;
	e->timeout_ms = p->timeout_ms > 0 ? p->timeout_ms : 2000;
	e->retries = p->retries > 0 ? p->retries : 0;
	e->coalesce_ms = p->coalesce_ms > 0 ? p->coalesce_ms : 0;
	e->batch_max = p->batch_max ? p->batch_max : 64;
	e->max_inflight = p->max_inflight ? p->max_inflight : 256;
	e->qwnd = e->max_inflight < QWND_INITIAL ? e->max_inflight :
	    QWND_INITIAL;
	e->tcp_only = p->tcp_only;
	e->wallclock = p->wallclock ? p->wallclock : time;
	snprintf(e->hosts_file, sizeof(e->hosts_file), "%s", p->hosts_file ?
	    p->hosts_file : "/etc/hosts");
	snprintf(e->resolv_conf, sizeof(e->resolv_conf), "%s",
	    p->resolv_conf ? p->resolv_conf : "/etc/resolv.conf");
	e->rndpos = sizeof(e->rnd);
	TAILQ_INIT(&e->queue);
	TAILQ_INIT(&e->running);
	for (c = 0; c < TC_N; c++)
		TAILQ_INIT(&e->waiting[c]);
	e->priority = p->priority;
	if ((e->flush_ev = evtimer_new(base, flush_cb, e)) == NULL) {
		snprintf(err, errlen, "cannot create a timer");
		goto fail;
	}
	prio(e, e->flush_ev);
	return e;
fail:
	if (e != NULL) {
		free(e->srv);
		free(e->hps);
		free(e->rbuf);
		free(e);
	}
	return NULL;
}

void
dnsup_engine_free(struct dnsup_engine *e)
{
	struct pending *p;
	struct txn *t;
	int c;

	if (e == NULL)
		return;
	e->closing = true;
	while (e->children != NULL)
		e->children->cancel(e->children);
	/*
	 * Updates first: a cancelled query may end a parked pending's
	 * read-back, which then reports; nothing is queued again.
	 */
	for (;;) {
		TAILQ_FOREACH(t, &e->running, link)
			if (!t->is_query)
				break;
		if (t == NULL)
			t = TAILQ_FIRST(&e->running);
		if (t == NULL)
			break;
		txn_finish(t, DNSUP_R_CANCELLED, "engine stopped", NULL);
	}
	for (c = 0; c < TC_N; c++)
		while ((t = TAILQ_FIRST(&e->waiting[c])) != NULL)
			txn_finish(t, DNSUP_R_CANCELLED, "engine stopped",
			    NULL);
	while ((p = TAILQ_FIRST(&e->queue)) != NULL) {
		TAILQ_REMOVE(&e->queue, p, q);
		pending_done(p, DNSUP_R_CANCELLED, "engine stopped", "", 0);
	}
	if (e->flush_ev != NULL)
		event_free(e->flush_ev);
	free(e->srv);
	free(e->hps);
	free(e->rbuf);
	free(e);
}

struct event_base *
dnsup_engine_base(const struct dnsup_engine *e)
{
	return e->base;
}

const char *
dnsup_engine_zone(const struct dnsup_engine *e)
{
	return e->zone;
}

bool
dnsup_engine_is_server(const struct dnsup_engine *e,
    const struct cfg_hostport *hp)
{
	struct server s;
	size_t i;

	if (server_set(&s, hp) == -1)
		return false;
	for (i = 0; i < e->nsrv; i++)
		if (s.len == e->srv[i].len &&
		    memcmp(&s.ss, &e->srv[i].ss, s.len) == 0)
			return true;
	return false;
}

const struct cfg_hostport *
dnsup_engine_servers(const struct dnsup_engine *e, size_t *n)
{
	*n = e->nsrv;
	return e->hps;
}

void
dnsup_engine_stats(const struct dnsup_engine *e, struct dnsup_stats *st)
{
	struct pending *p;
	struct txn *t;
	int c;

	*st = e->st;
	st->qwnd = e->qwnd;
	st->inflight = e->nparked;
	TAILQ_FOREACH(p, &e->queue, q)
		st->inflight++;
	for (c = 0; c < TC_N; c++) {
		st->inflight += e->nrun[c];
		TAILQ_FOREACH(t, &e->waiting[c], link)
			st->inflight++;
	}
}

void
dnsup_child_add(struct dnsup_engine *e, struct dnsup_child *c)
{
	c->prev = NULL;
	c->next = e->children;
	if (c->next != NULL)
		c->next->prev = c;
	e->children = c;
}

void
dnsup_child_remove(struct dnsup_engine *e, struct dnsup_child *c)
{
	if (c->prev != NULL)
		c->prev->next = c->next;
	else if (e->children == c)
		e->children = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	c->next = c->prev = NULL;
}

static void
arm_flush(struct dnsup_engine *e)
{
	struct timeval tv = { 0, 0 };

	if (e->flush_armed || e->closing)
		return;
	tv.tv_usec = e->coalesce_ms * 1000;
	if (evtimer_add(e->flush_ev, &tv) == 0)
		e->flush_armed = true;
}

int
dnsup_submit(struct dnsup_engine *e, const struct dnsup_update *u,
    dnsup_update_cb cb, void *arg)
{
	struct pending *p;
	size_t l;

	if (e->closing || u == NULL || u->name == NULL || cb == NULL ||
	    (l = strlen(u->name)) == 0 || l + 1 >= DNSUP_NAME_MAX ||
	    (u->owner_txt != NULL && strlen(u->owner_txt) > 255) ||
	    (u->owner_txt != NULL && u->owner_prereq == DNSUP_TXT_WAS &&
	    (u->owner_prev == NULL || u->owner_prev->more)))
		return -1;
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return -1;
	p->eng = e;
	p->u = *u;
	memcpy(p->name, u->name, l + 1);
	p->u.name = p->name;
	if (u->owner_txt != NULL) {
		snprintf(p->txt, sizeof(p->txt), "%s", u->owner_txt);
		p->u.owner_txt = p->txt;
	}
	p->u.owner_prev = NULL;
	if (u->owner_txt != NULL && u->owner_prereq == DNSUP_TXT_WAS) {
		if ((p->prevtxt = malloc(sizeof(*p->prevtxt))) == NULL) {
			free(p);
			return -1;
		}
		*p->prevtxt = *u->owner_prev;
		p->u.owner_prev = p->prevtxt;
	}
	p->cb = cb;
	p->arg = arg;
	clock_gettime(CLOCK_MONOTONIC, &p->t0);
	if (u->supersede) {
		struct pending *o;

		/* Ended by flush_cb: callbacks never come from here. */
		TAILQ_FOREACH(o, &e->queue, q)
			if (name_eq(o->name, p->name))
				o->superseded = true;
	}
	TAILQ_INSERT_TAIL(&e->queue, p, q);
	e->st.updates++;
	arm_flush(e);
	return 0;
}

static void
pending_done(struct pending *p, enum dnsup_result r, const char *detail,
    const char *server, size_t batch)
{
	struct dnsup_outcome o;

	memset(&o, 0, sizeof(o));
	o.result = r;
	snprintf(o.detail, sizeof(o.detail), "%s", detail);
	snprintf(o.server, sizeof(o.server), "%s", server);
	o.elapsed_us = elapsed_us(&p->t0);
	o.tries = p->tries;
	o.batch = batch;
	p->cb(&o, p->arg);
	free(p->prevtxt);
	free(p);
}

/* Send again, alone (its name released: it goes through the queue). */
static void
pending_requeue(struct pending *p)
{
	struct dnsup_engine *e = p->eng;

	name_release(p);
	p->solo = true;
	TAILQ_INSERT_HEAD(&e->queue, p, q);
	arm_flush(e);
}

/* The name read back after a prerequisite failure: applied or not? */
static void
applied_cb(const struct dnsup_outcome *o, const struct dnsup_found *f,
    void *arg)
{
	struct pending *p = arg;
	struct dnsup_engine *e = p->eng;
	bool applied = false;
	char diff[300];

	e->nparked--;
	if (o->result == DNSUP_R_CANCELLED) {
		p->fail = DNSUP_R_CANCELLED;
		snprintf(p->fail_detail, sizeof(p->fail_detail), "engine "
		    "stopped while reading back after %s",
		    dnsup_result_name(p->fail));
		p->requeue = false;
	}
	if (f != NULL && o->result == DNSUP_R_NOERROR &&
	    dnsup_rrset_compare(&p->u.want, &f->rrset, false, diff,
	    sizeof(diff)) == 0) {
		if (p->u.owner_txt == NULL)
			applied = true;
		else if (p->u.owner_delete)
			applied = f->txt.n == 0 && !f->txt.more;
		else
			applied = dnsup_txtset_is(&f->txt, p->u.owner_txt);
	}
	if (applied) {
		name_release(p);
		e->st.applied++;
		snprintf(diff, sizeof(diff), "applied by an earlier try whose "
		    "answer was lost (the retry got %s; the server holds what "
		    "was sent)", dnsup_result_name(p->fail));
		pending_done(p, DNSUP_R_NOERROR, diff, p->fail_server,
		    p->fail_batch);
	} else if (p->requeue && !e->closing)
		pending_requeue(p);
	else {
		name_release(p);
		pending_done(p, p->fail, p->fail_detail, p->fail_server,
		    p->fail_batch);
	}
	if (!TAILQ_EMPTY(&e->queue))
		arm_flush(e);
}

/*
 * p's prerequisite failed (r) after a try of it may have been applied:
 * read its name back from srv before calling it failed (or, requeue,
 * sending it again alone).  Its name stays held meanwhile.
 */
static void
pending_check(struct pending *p, const struct server *srv,
    enum dnsup_result r, const char *detail, size_t batch, bool requeue)
{
	struct dnsup_engine *e = p->eng;
	unsigned fl = DNSUP_RB_URGENT;

	p->fail = r;
	snprintf(p->fail_detail, sizeof(p->fail_detail), "%s", detail);
	snprintf(p->fail_server, sizeof(p->fail_server), "%s", srv->text);
	p->fail_batch = batch;
	p->requeue = requeue;
	if (p->u.owner_txt != NULL || p->u.owner_delete)
		fl |= DNSUP_RB_TXT;
	e->nparked++;
	if (e->closing || dnsup_readback(e, &srv->hp, p->name, fl, applied_cb,
	    p) == -1) {
		e->nparked--;
		if (requeue && !e->closing)
			pending_requeue(p);
		else {
			name_release(p);
			pending_done(p, r, detail, srv->text, batch);
		}
	}
}

/* An upper bound of one update's size on the wire (no compression). */
static size_t
pending_size(const struct pending *p)
{
	size_t nl = strlen(p->name) + 2, rr = nl + 10, n, i;

	n = 3 * rr;				/* delete CNAME, A, AAAA */
	n += p->u.want.kind == DNSUP_RRSET_ADDRS ? p->u.want.naddr *
	    (rr + 16) : rr + strlen(p->u.want.cname) + 2;
	if (p->u.prereq == DNSUP_PREREQ_IS)
		n += p->u.prev.kind == DNSUP_RRSET_ADDRS ? (p->u.prev.naddr +
		    2) * (rr + 16) : 3 * rr + strlen(p->u.prev.cname) + 2;
	else if (p->u.prereq == DNSUP_PREREQ_EMPTY)
		n += rr;
	if (p->u.owner_txt != NULL || p->u.owner_delete)
		n += 3 * (rr + 11) + 2 * (strlen(p->txt) + 1);
	if (p->prevtxt != NULL)
		for (i = 0; i < p->prevtxt->n; i++)
			n += rr + 11 + p->prevtxt->t[i].len;
	return n;
}

static void
flush_cb(evutil_socket_t fd, short what, void *arg)
{
	struct dnsup_engine *e = arg;
	struct pending *p, *next, **batch;
	size_t n = 0, bytes = 0, cap = e->batch_max;

	e->flush_armed = false;
	if ((batch = calloc(cap, sizeof(*batch))) == NULL) {
		arm_flush(e);	/* XXX try again; nothing else to do */
		return;
	}
	for (p = TAILQ_FIRST(&e->queue); p != NULL; p = next) {
		size_t sz = pending_size(p);

		next = TAILQ_NEXT(p, q);
		if (p->superseded) {
			TAILQ_REMOVE(&e->queue, p, q);
			e->st.superseded++;
			pending_done(p, DNSUP_R_CANCELLED, "superseded", "", 0);
			continue;
		}
		/* A supersede with a compare-and-swap may overtake. */
		if (name_busy(e, p->name) && !(p->u.supersede &&
		    p->u.prereq == DNSUP_PREREQ_IS))
			continue;	/* waits for the message in flight */
		TAILQ_REMOVE(&e->queue, p, q);
		name_hold(p);
		if (p->solo) {
			launch_batch(e, &p, 1);
			continue;
		}
		if (n > 0 && (n == cap || bytes + sz > 60000)) {
			launch_batch(e, batch, n);
			n = 0;
			bytes = 0;
		}
		batch[n++] = p;
		bytes += sz;
	}
	if (n > 0)
		launch_batch(e, batch, n);
	free(batch);
	start_waiting(e);
}

static struct txn *
txn_new(struct dnsup_engine *e)
{
	struct txn *t;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	t->eng = e;
	t->fd = -1;
	t->srv = e->srv;
	t->nsrv = e->nsrv;
	clock_gettime(CLOCK_MONOTONIC, &t->t0);
	return t;
}

/*
 * One UPDATE for n pendings (names already held), waiting for a slot: its
 * message is built when it gets one (update_build), so that thousands of
 * updates submitted at once do not hold the loop while every message is
 * signed.
 */
static int
launch_batch(struct dnsup_engine *e, struct pending **mem, size_t n)
{
	struct txn *t = NULL;
	size_t i;

	if ((t = txn_new(e)) == NULL ||
	    (t->mem = calloc(n, sizeof(*t->mem))) == NULL) {
		free(t);
		for (i = n; i-- > 0;) {
			name_release(mem[i]);
			pending_done(mem[i], DNSUP_R_INTERNAL, "out of memory",
			    "", 1);
		}
		return -1;
	}
	for (i = 0; i < n; i++)
		t->mem[i] = mem[i];
	t->nmem = n;
	t->cls = TC_UPDATE;
	TAILQ_INSERT_TAIL(&e->waiting[TC_UPDATE], t, link);
	return 0;
}

/*
 * Build t's message.  Returns 0; or -1 when it cannot be built, and then t
 * is gone: its members are tried one by one (a batch) or fail.
 */
static int
update_build(struct txn *t)
{
	struct dnsup_engine *e = t->eng;
	struct dnsup_update *ups;
	char err[256] = "out of memory";
	size_t i, n = t->nmem, wl;
	uint16_t id;

	if ((ups = calloc(n, sizeof(*ups))) == NULL)
		goto fail;
	for (i = 0; i < n; i++)
		ups[i] = t->mem[i]->u;
	id = id_get(e);
	if (dnsup_msg_update(e->zone, ups, n, id, e->has_key ? &e->key :
	    NULL, &t->msg, err, sizeof(err)) == -1) {
		id_put(e, id);
		goto fail;
	}
	free(ups);
	ups = NULL;
	t->signed_ = e->has_key;
	dnsup_msg_wire(t->msg, &wl);
	if (wl > 65535) {
		snprintf(err, sizeof(err), "message too large (%zu bytes)", wl);
		goto fail;
	}
	e->st.messages++;
	if (n > 1)
		e->st.batched++;
	return 0;
fail:
	free(ups);
	if (t->msg != NULL)
		id_put(e, dnsup_msg_id(t->msg));
	dnsup_msg_free(t->msg);
	t->msg = NULL;
	/* A batch that cannot be built is tried one by one. */
	for (i = n; i-- > 0;) {
		struct pending *p = t->mem[i];

		name_release(p);
		if (n > 1) {
			p->solo = true;
			TAILQ_INSERT_HEAD(&e->queue, p, q);
		} else
			pending_done(p, DNSUP_R_INTERNAL, err, "", 1);
	}
	if (n > 1)
		arm_flush(e);
	free(t->mem);
	free(t->ownv);
	free(t);
	return -1;
}

int
dnsup_query(struct dnsup_engine *e, const struct cfg_hostport *server,
    const char *qname, int qtype, unsigned flags, dnsup_query_cb cb,
    void *arg)
{
	struct txn *t;
	char err[128];
	uint16_t id;

	if (e->closing || qname == NULL || cb == NULL ||
	    (t = txn_new(e)) == NULL)
		return -1;
	if (server != NULL) {
		if (server_set(&t->own, server) == -1) {
			free(t);
			return -1;
		}
		t->srv = &t->own;
		t->nsrv = 1;
	}
	/* The configured servers know the key; others may not. */
	t->signed_ = e->has_key && (server == NULL ||
	    dnsup_engine_is_server(e, server));
	id = id_get(e);
	if (dnsup_msg_query(qname, qtype, id, t->signed_ ? &e->key : NULL,
	    &t->msg, err, sizeof(err)) == -1) {
		id_put(e, id);
		free(t);
		return -1;
	}
	t->is_query = true;
	t->cls = (flags & DNSUP_Q_URGENT) ? TC_URGENT : TC_BULK;
	t->qcb = cb;
	t->qarg = arg;
	e->st.queries++;
	/* Started from the loop: the callback never runs inside this call. */
	TAILQ_INSERT_TAIL(&e->waiting[t->cls], t, link);
	arm_flush(e);
	return 0;
}

/* Names equal to a hosts file entry: case-insensitive, no final dot. */
static bool
host_eq(const char *entry, const char *name)
{
	return name_eq(entry, name);
}

int
dnsup_hosts_lookup(const struct dnsup_engine *e, const char *name,
    struct dnsup_rrset *rs)
{
	struct dnsup_rrset one;
	char line[1024], err[64], *tok, *save, *addr;
	FILE *f;

	memset(rs, 0, sizeof(*rs));
	if ((f = fopen(e->hosts_file, "re")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "#\n")] = '\0';
		if ((addr = strtok_r(line, " \t", &save)) == NULL)
			continue;
		while ((tok = strtok_r(NULL, " \t", &save)) != NULL) {
			if (!host_eq(tok, name))
				continue;
			if (dnsup_rrset_parse(&one, addr, 0, err,
			    sizeof(err)) == 0 && one.kind == DNSUP_RRSET_ADDRS &&
			    rs->naddr < DNSUP_MAX_ADDRS) {
				memcpy(rs->addrs[rs->naddr++], one.addrs[0],
				    sizeof(rs->addrs[0]));
				rs->kind = DNSUP_RRSET_ADDRS;
			}
			break;
		}
	}
	fclose(f);
	return (int)rs->naddr;
}

/* The name servers of resolv.conf, at most 3 as the C library reads. */
static size_t
resolvers_read(const struct dnsup_engine *e, struct server *v, size_t max)
{
	char line[512], *tok, *save;
	struct cfg_hostport hp;
	size_t n = 0;
	FILE *f;

	if ((f = fopen(e->resolv_conf, "re")) != NULL) {
		while (n < max && fgets(line, sizeof(line), f) != NULL) {
			if ((tok = strtok_r(line, " \t\n", &save)) == NULL ||
			    strcmp(tok, "nameserver") != 0 ||
			    (tok = strtok_r(NULL, " \t\n", &save)) == NULL)
				continue;
			memset(&hp, 0, sizeof(hp));
			snprintf(hp.host, sizeof(hp.host), "%s", tok);
			hp.port = 53;
			if (server_set(&v[n], &hp) == 0)
				n++;
		}
		fclose(f);
	}
	if (n == 0) {
		memset(&hp, 0, sizeof(hp));
		snprintf(hp.host, sizeof(hp.host), "127.0.0.1");
		hp.port = 53;
		if (server_set(&v[0], &hp) == 0)
			n = 1;
	}
	return n;
}

int
dnsup_query_recursive(struct dnsup_engine *e, const char *qname, int qtype,
    dnsup_query_cb cb, void *arg)
{
	struct txn *t;
	char err[128];
	uint16_t id;

	if (e->closing || qname == NULL || cb == NULL ||
	    (t = txn_new(e)) == NULL)
		return -1;
	if ((t->ownv = calloc(3, sizeof(*t->ownv))) == NULL ||
	    (t->nsrv = resolvers_read(e, t->ownv, 3)) == 0) {
		free(t->ownv);
		free(t);
		return -1;
	}
	t->srv = t->ownv;
	id = id_get(e);
	if (dnsup_msg_query_recursive(qname, qtype, id, &t->msg, err,
	    sizeof(err)) == -1) {
		id_put(e, id);
		free(t->ownv);
		free(t);
		return -1;
	}
	t->is_query = true;
	t->cls = TC_BULK;
	t->qcb = cb;
	t->qarg = arg;
	e->st.queries++;
	TAILQ_INSERT_TAIL(&e->waiting[t->cls], t, link);
	arm_flush(e);
	return 0;
}

static bool
slot_free(const struct dnsup_engine *e, enum txn_class c)
{
	size_t q = e->nrun[TC_URGENT] + e->nrun[TC_BULK];

	switch (c) {
	case TC_UPDATE:
		return e->nrun[TC_UPDATE] < (e->max_inflight < UPDATE_SLOTS ?
		    e->max_inflight : UPDATE_SLOTS);
	case TC_URGENT:
		return q < e->qwnd + URGENT_EXTRA;
	default:
		return q < e->qwnd;
	}
}

/*
 * Start what waits for a slot.  At most BUILD_BURST UPDATE messages are
 * built per call (about 1.7 ms each for 64 updates): the rest on the next
 * loop turn, so that probes and answers are not kept waiting.
 */
static void
start_waiting(struct dnsup_engine *e)
{
	struct txn *w;
	int c, built = 0;

	for (c = 0; c < TC_N; c++)
		while (!e->closing && slot_free(e, c) &&
		    (w = TAILQ_FIRST(&e->waiting[c])) != NULL) {
			if (w->msg == NULL && built++ == BUILD_BURST) {
				arm_flush(e);
				break;
			}
			TAILQ_REMOVE(&e->waiting[c], w, link);
			if (w->msg == NULL && update_build(w) == -1)
				continue;
			txn_start(w);
		}
}

/* Over TCP from the start at server si? */
static bool
starts_tcp(const struct txn *t)
{
	size_t wl;

	dnsup_msg_wire(t->msg, &wl);
	return t->eng->tcp_only || wl > UDP_MAX ||
	    (t->si < t->nsrv && t->srv[t->si].tcp_until_ms > mono_ms());
}

static void
txn_start(struct txn *t)
{
	struct dnsup_engine *e = t->eng;

	if (!slot_free(e, t->cls)) {
		TAILQ_INSERT_TAIL(&e->waiting[t->cls], t, link);
		return;
	}
	e->nrun[t->cls]++;
	t->running = true;
	TAILQ_INSERT_TAIL(&e->running, t, link);
	t->si = 0;
	t->try_ = 0;
	t->tcp = starts_tcp(t);
	txn_try(t);
}

static void
txn_close(struct txn *t)
{
	if (t->ev != NULL) {
		event_free(t->ev);
		t->ev = NULL;
	}
	if (t->tmo != NULL)
		evtimer_del(t->tmo);
	if (t->rsnd != NULL)
		evtimer_del(t->rsnd);
	if (t->fd != -1) {
		close(t->fd);
		t->fd = -1;
	}
	free(t->tbuf);
	t->tbuf = NULL;
	t->tlen = t->tneed = t->woff = 0;
	t->state = TXN_IDLE;
	t->sent = false;
}

static void
txn_free(struct txn *t)
{
	txn_close(t);
	if (t->tmo != NULL)
		event_free(t->tmo);
	if (t->rsnd != NULL)
		event_free(t->rsnd);
	if (t->msg != NULL)
		id_put(t->eng, dnsup_msg_id(t->msg));
	dnsup_msg_free(t->msg);
	free(t->mem);
	free(t->ownv);
	free(t);
}

static void
err_set(struct txn_err *x, enum dnsup_result r, const char *detail,
    const char *server)
{
	x->set = true;
	x->result = r;
	snprintf(x->detail, sizeof(x->detail), "%.199s", detail);
	snprintf(x->server, sizeof(x->server), "%s", server);
}

/* The most telling error of all tries: definite, rejected, transport. */
static const struct txn_err *
txn_worst(const struct txn *t)
{
	if (t->definite.set)
		return &t->definite;
	if (t->reject.set)
		return &t->reject;
	return &t->last;
}

/* One try at server si. */
static void
txn_try(struct txn *t)
{
	struct dnsup_engine *e = t->eng;
	const struct txn_err *w;
	struct server *s;
	struct timeval tv;
	const uint8_t *wire;
	size_t wl;
	short ev;
	char d[200];

	txn_close(t);
	if (t->si >= t->nsrv) {
		w = txn_worst(t);
		if (!w->set)
			txn_finish(t, DNSUP_R_TIMEOUT, "no server answered",
			    NULL);
		else
			txn_finish(t, w->result, w->detail, NULL);
		return;
	}
	s = &t->srv[t->si];
	/* Every try after the first is signed anew (the fudge). */
	if (t->tries > 0 && t->signed_) {
		if (dnsup_msg_resign(t->msg, &e->key, d, sizeof(d)) == -1) {
			txn_finish(t, DNSUP_R_INTERNAL, d, NULL);
			return;
		}
		e->st.resigned++;
	}
	t->tries++;
	if (t->tcp)
		e->st.tcp++;
	if (t->tmo == NULL) {
		if ((t->tmo = evtimer_new(e->base, timeout_cb, t)) == NULL) {
			txn_finish(t, DNSUP_R_INTERNAL, "cannot create a timer",
			    NULL);
			return;
		}
		prio(e, t->tmo);
	}
	t->fd = socket(s->ss.ss_family, (t->tcp ? SOCK_STREAM : SOCK_DGRAM) |
	    SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (t->fd == -1) {
		snprintf(d, sizeof(d), "socket: %s", strerror(errno));
		txn_next(t, DNSUP_R_NETWORK, d, true);
		return;
	}
	if (connect(t->fd, (struct sockaddr *)&s->ss, s->len) == -1 &&
	    errno != EINPROGRESS) {
		snprintf(d, sizeof(d), "connect %s: %s", s->text,
		    strerror(errno));
		txn_next(t, DNSUP_R_NETWORK, d, true);
		return;
	}
	wire = dnsup_msg_wire(t->msg, &wl);
	if (t->tcp) {
		t->state = TXN_CONNECTING;
		ev = EV_WRITE | EV_PERSIST;
	} else {
		if (send(t->fd, wire, wl, 0) != (ssize_t)wl) {
			snprintf(d, sizeof(d), "send to %s: %s", s->text,
			    strerror(errno));
			txn_next(t, DNSUP_R_NETWORK, d, true);
			return;
		}
		t->sent = true;
		t->state = TXN_READING;
		ev = EV_READ | EV_PERSIST;
		clock_gettime(CLOCK_MONOTONIC, &t->sent_at);
		t->resent = false;
	}
	t->ev = event_new(e->base, t->fd, ev, t->tcp ? tcp_cb : udp_cb, t);
	prio(e, t->ev);
	if (t->ev == NULL || event_add(t->ev, NULL) == -1) {
		txn_finish(t, DNSUP_R_INTERNAL, "cannot watch a socket", NULL);
		return;
	}
	tv.tv_sec = e->timeout_ms / 1000;
	tv.tv_usec = (e->timeout_ms % 1000) * 1000;
	evtimer_add(t->tmo, &tv);
	if (t->is_query && !t->tcp)
		resend_arm(t, rto_ms(s));
}

/* The server's retransmission timeout for a UDP query, in ms. */
static int64_t
rto_ms(const struct server *s)
{
	int64_t ms;

	if (s->srtt_us == 0)
		return RESEND_INITIAL_MS;
	ms = (s->srtt_us + 4 * s->rttvar_us + 999) / 1000;
	return ms < RESEND_FLOOR_MS ? RESEND_FLOOR_MS : ms;
}

/* Send this try's datagram again after ms, if that is before its timeout. */
static void
resend_arm(struct txn *t, int64_t ms)
{
	struct dnsup_engine *e = t->eng;
	struct timeval tv;

	if (elapsed_us(&t->sent_at) / 1000 + ms >= e->timeout_ms)
		return;
	if (t->rsnd == NULL) {
		if ((t->rsnd = evtimer_new(e->base, resend_cb, t)) == NULL)
			return;		/* no resend: the timeout still ends it */
		prio(e, t->rsnd);
	}
	t->rsnd_ms = ms;
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(t->rsnd, &tv);
}

static void
resend_cb(evutil_socket_t fd, short what, void *arg)
{
	struct txn *t = arg;
	const uint8_t *wire;
	size_t wl;

	if (t->state != TXN_READING || t->tcp || t->fd == -1)
		return;
	wire = dnsup_msg_wire(t->msg, &wl);
	if (send(t->fd, wire, wl, 0) == (ssize_t)wl) {
		t->resent = true;
		t->eng->st.resent++;
	}
	qwnd_cut(t->eng);
	resend_arm(t, t->rsnd_ms * 2);
}

/* A query had to be sent again: fewer at once (see QWND_INITIAL). */
static void
qwnd_cut(struct dnsup_engine *e)
{
	int64_t now = mono_ms();

	if (now - e->qwnd_cut_ms < RESEND_FLOOR_MS)
		return;
	e->qwnd_cut_ms = now;
	e->qwnd = e->qwnd / 2 < QWND_MIN ? QWND_MIN : e->qwnd / 2;
	if (e->qwnd > e->max_inflight)
		e->qwnd = e->max_inflight;
}

/*
 * An answer: a query answered without being sent again widens the window
 * (QWND_INITIAL); one over UDP sent once is the server's round trip
 * (RFC 6298).
 */
static void
rtt_sample(struct txn *t, struct server *s)
{
	int64_t r, d;

	if (t->is_query && !t->resent && t->eng->qwnd < t->eng->max_inflight)
		t->eng->qwnd++;
	if (!t->is_query || t->tcp || t->resent || !t->sent)
		return;
	if ((r = elapsed_us(&t->sent_at)) <= 0)
		r = 1;
	if (s->srtt_us == 0) {
		s->srtt_us = r;
		s->rttvar_us = r / 2;
		return;
	}
	d = s->srtt_us > r ? s->srtt_us - r : r - s->srtt_us;
	s->rttvar_us += (d - s->rttvar_us) / 4;
	s->srtt_us += (r - s->srtt_us) / 8;
}

/*
 * This try failed: retry this server, or move to the next one.  A network
 * error, a rejected answer or a definite error moves on at once: asking
 * the same server again gets the same.
 */
static void
txn_next(struct txn *t, enum dnsup_result why, const char *detail,
    bool skip_server)
{
	const char *srv = t->si < t->nsrv ? t->srv[t->si].text : "";

	if (why == DNSUP_R_TIMEOUT || why == DNSUP_R_NETWORK)
		err_set(&t->last, why, detail, srv);
	if (!skip_server && !t->rejected_here && t->try_ < t->eng->retries)
		t->try_++;
	else {
		t->si++;
		t->try_ = 0;
		t->rejected_here = false;
		t->udp_timed_out = false;
		t->tcp = starts_tcp(t);
	}
	txn_try(t);
}

/* An answer that cannot be used, over TCP: this server is done. */
static void
txn_reject(struct txn *t, enum dnsup_result why, const char *detail)
{
	err_set(&t->reject, why, detail, t->si < t->nsrv ?
	    t->srv[t->si].text : "");
	t->maybe_applied = true;
	txn_next(t, why, detail, true);
}

static void
timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct txn *t = arg;
	char d[200];

	snprintf(d, sizeof(d), "no answer from %s within %lld ms%s",
	    t->srv[t->si].text, (long long)t->eng->timeout_ms,
	    t->tcp ? " (TCP)" : "");
	if (t->sent)
		t->maybe_applied = true;
	/* The server may drop UDP: its next tries go over TCP. */
	if (!t->tcp && t->try_ < t->eng->retries) {
		t->udp_timed_out = true;
		t->tcp = true;
		t->eng->st.tcp_fallback++;
	}
	txn_next(t, DNSUP_R_TIMEOUT, d, false);
}

static void
udp_cb(evutil_socket_t fd, short what, void *arg)
{
	struct txn *t = arg;
	struct dnsup_engine *e = t->eng;
	ssize_t n;
	char d[200];

	if (t->state != TXN_READING || t->tcp)
		return;
	n = recv(t->fd, e->rbuf, RBUF_SIZE, 0);
	if (n == -1) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return;
		snprintf(d, sizeof(d), "%s: %s", t->srv[t->si].text,
		    errno == ECONNREFUSED ? "connection refused (server down?)" :
		    strerror(errno));
		txn_next(t, DNSUP_R_NETWORK, d, true);
		return;
	}
	/* One datagram per wake-up; txn_answer may free t. */
	txn_answer(t, e->rbuf, (size_t)n);
}

/* Judge one answer; may finish t (then t is freed). */
static void
txn_answer(struct txn *t, const uint8_t *buf, size_t len)
{
	struct dnsup_engine *e = t->eng;
	struct server *s = &t->srv[t->si];
	struct dnsup_verdict v;
	struct dnsup_found f;
	char d[300];

	dnsup_msg_check(t->msg, t->signed_ ? &e->key : NULL, buf, len,
	    e->wallclock(NULL), &v, t->is_query ? &f : NULL);
	switch (v.kind) {
	case DNSUP_V_IGNORE:
		e->st.ignored++;
		if (t->tcp) {	/* a stream out of step: give up on it */
			snprintf(d, sizeof(d), "%.60s: unexpected answer over "
			    "TCP (%.190s)", s->text, v.detail);
			txn_reject(t, DNSUP_R_BADRESP, d);
		}
		return;
	case DNSUP_V_TRUNCATED:
		if (t->tcp) {
			txn_reject(t, DNSUP_R_BADRESP, "truncated answer over "
			    "TCP");
			return;
		}
		t->tcp = true;
		t->tries--;	/* the same try, over TCP */
		txn_try(t);
		return;
	case DNSUP_V_REJECT:
		e->st.rejected++;
		t->rejected_here = true;
		t->maybe_applied = true;
		snprintf(d, sizeof(d), "%.60s: %.130s", s->text, v.detail);
		err_set(&t->reject, v.result, d, s->text);
		if (t->tcp)
			txn_next(t, v.result, d, true);
		return;		/* keep waiting for a genuine answer */
	case DNSUP_V_FINAL:
		rtt_sample(t, s);
		/* A server that needed TCP after a UDP timeout keeps it. */
		if (t->udp_timed_out)
			s->tcp_until_ms = mono_ms() + TCP_STICKY_MS;
		if (dnsup_result_next_server(v.result)) {
			if (v.result == DNSUP_R_SERVFAIL)
				t->maybe_applied = true;
			snprintf(d, sizeof(d), "%.60s: %.180s", s->text,
			    v.detail);
			err_set(&t->definite, v.result, d, s->text);
			e->st.next_server++;
			dnsup_found_clear(t->is_query ? &f : NULL);
			txn_next(t, v.result, d, true);
			return;
		}
		snprintf(d, sizeof(d), "%s", v.detail);
		if (t->is_query) {
			txn_finish(t, v.result, d, &f);
			dnsup_found_clear(&f);
		} else
			txn_finish(t, v.result, d, NULL);
		return;
	}
}

static void
tcp_cb(evutil_socket_t fd, short what, void *arg)
{
	struct txn *t = arg;
	struct dnsup_engine *e = t->eng;
	const uint8_t *w;
	size_t wl;
	ssize_t n;
	int soerr = 0;
	socklen_t sl = sizeof(soerr);
	char d[200];

	if (t->state == TXN_CONNECTING) {
		if (getsockopt(t->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == -1)
			soerr = errno;
		if (soerr != 0) {
			snprintf(d, sizeof(d), "connect %s (TCP): %s",
			    t->srv[t->si].text, strerror(soerr));
			txn_next(t, DNSUP_R_NETWORK, d, true);
			return;
		}
		w = dnsup_msg_wire(t->msg, &wl);
		if ((t->tbuf = malloc(wl + 2)) == NULL) {
			txn_finish(t, DNSUP_R_INTERNAL, "out of memory", NULL);
			return;
		}
		t->tbuf[0] = (uint8_t)(wl >> 8);
		t->tbuf[1] = (uint8_t)wl;
		memcpy(t->tbuf + 2, w, wl);
		t->tneed = wl + 2;
		t->woff = 0;
		t->state = TXN_WRITING;
	}
	if (t->state == TXN_WRITING) {
		n = send(t->fd, t->tbuf + t->woff, t->tneed - t->woff,
		    MSG_NOSIGNAL);
		if (n == -1) {
			if (errno == EAGAIN || errno == EINTR)
				return;
			if (t->woff > 0)
				t->maybe_applied = true;
			snprintf(d, sizeof(d), "send to %s (TCP): %s",
			    t->srv[t->si].text, strerror(errno));
			txn_next(t, DNSUP_R_NETWORK, d, true);
			return;
		}
		t->woff += (size_t)n;
		if (t->woff < t->tneed)
			return;
		t->sent = true;
		free(t->tbuf);
		t->tbuf = NULL;
		t->tlen = 0;
		t->tneed = 2;
		t->state = TXN_READING;
		event_free(t->ev);
		t->ev = event_new(e->base, t->fd, EV_READ | EV_PERSIST, tcp_cb,
		    t);
		prio(e, t->ev);
		if (t->ev == NULL || event_add(t->ev, NULL) == -1 ||
		    (t->tbuf = malloc(RBUF_SIZE + 2)) == NULL) {
			txn_finish(t, DNSUP_R_INTERNAL, "cannot watch a socket",
			    NULL);
			return;
		}
		return;
	}
	if (t->state != TXN_READING)
		return;
	n = recv(t->fd, t->tbuf + t->tlen, t->tneed - t->tlen, 0);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		/* The request was written: the server may have applied it. */
		t->maybe_applied = true;
		snprintf(d, sizeof(d), "%s (TCP): %s", t->srv[t->si].text,
		    n == 0 ? "connection closed before the answer" :
		    strerror(errno));
		txn_next(t, DNSUP_R_NETWORK, d, true);
		return;
	}
	t->tlen += (size_t)n;
	if (t->tlen < t->tneed)
		return;
	if (t->tneed == 2) {
		t->tneed = 2 + ((size_t)t->tbuf[0] << 8 | t->tbuf[1]);
		if (t->tneed == 2) {
			txn_reject(t, DNSUP_R_BADRESP, "empty TCP message");
			return;
		}
		return;
	}
	/* One whole message; an ignored one resets for the next. */
	{
		size_t ml = t->tneed - 2;

		memcpy(e->rbuf, t->tbuf + 2, ml);
		t->tlen = 0;
		t->tneed = 2;
		txn_answer(t, e->rbuf, ml);
	}
}

/* An UPDATE ended with r: report to its members, or split or check them. */
static void
update_finish(struct txn *t, enum dnsup_result r, const char *detail,
    const char *server)
{
	struct dnsup_engine *e = t->eng;
	const struct server *srv = &t->srv[t->si < t->nsrv ? t->si :
	    t->nsrv - 1];
	bool split = t->nmem > 1 && dnsup_result_per_update(r) && !e->closing;
	bool check = dnsup_result_is_prereq(r) && !e->closing;
	size_t i;

	if (split)
		e->st.split++;
	for (i = 0; i < t->nmem; i++) {
		struct pending *p = t->mem[i];

		p->tries += t->tries;
		p->maybe_applied = p->maybe_applied || t->maybe_applied;
	}
	/*
	 * The server that failed the prerequisite is the one to read back:
	 * srv, the last one asked, is the one that answered.
	 */
	for (i = t->nmem; i-- > 0;) {
		struct pending *p = t->mem[i];

		t->mem[i] = NULL;
		if (check && p->maybe_applied)
			pending_check(p, srv, r, detail, t->nmem, split);
		else if (split)
			pending_requeue(p);
		else {
			name_release(p);
			pending_done(p, r, detail, server, t->nmem);
		}
	}
	if (!TAILQ_EMPTY(&e->queue))
		arm_flush(e);
}

/* The end of a message: report to its members or its caller; free it. */
static void
txn_finish(struct txn *t, enum dnsup_result r, const char *detail,
    const struct dnsup_found *found)
{
	struct dnsup_engine *e = t->eng;
	struct dnsup_outcome o;
	const struct txn_err *w = txn_worst(t);
	char server[72];

	/* The server of the error reported, else the last one asked. */
	if (r != DNSUP_R_NOERROR && w->set && w->result == r &&
	    strcmp(w->detail, detail) == 0)
		snprintf(server, sizeof(server), "%s", w->server);
	else
		snprintf(server, sizeof(server), "%s", t->nsrv == 0 ? "" :
		    t->srv[t->si < t->nsrv ? t->si : t->nsrv - 1].text);
	txn_close(t);
	if (t->running) {
		TAILQ_REMOVE(&e->running, t, link);
		e->nrun[t->cls]--;
	} else
		TAILQ_REMOVE(&e->waiting[t->cls], t, link);
	if (t->is_query) {
		memset(&o, 0, sizeof(o));
		o.result = r;
		snprintf(o.detail, sizeof(o.detail), "%s", detail);
		snprintf(o.server, sizeof(o.server), "%s", server);
		o.elapsed_us = elapsed_us(&t->t0);
		o.tries = t->tries;
		o.batch = 1;
		t->qcb(&o, (r == DNSUP_R_NOERROR || r == DNSUP_R_NXDOMAIN) ?
		    found : NULL, t->qarg);
	} else
		update_finish(t, r, detail, server);
	txn_free(t);
	start_waiting(e);
}
