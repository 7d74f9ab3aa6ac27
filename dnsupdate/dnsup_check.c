/*
 * dnsup_check.c - read-back (what does the server hold?) and confirmation
 * (do all authoritative servers hold the new records yet?).
 *
 * Both are built from dnsup_query(): a read-back is two or three queries in
 * parallel whose answers are merged; a confirmation is a read-back per
 * server, repeated every poll_ms until it matches or the bound passes.  A
 * confirmation owns timers, so it registers with the engine as a child and is ended (callback with DNSUP_R_CANCELLED) when
 * the engine is freed; it is freed itself only when its last query or
 * lookup has called back.
 */
#include "dnsupdate/dnsup_check.h"

#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <event2/event.h>

#include "dnsupdate/dnsup_owner.h"

#define QT_A	1
#define QT_NS	2
#define QT_TXT	16
#define QT_AAAA	28
#define QT_ANY	255

struct rb;

struct rb_part {
	struct rb	*rb;
	int		 qtype;
};

struct rb {
	struct dnsup_engine	*eng;
	struct cfg_hostport	 server;
	bool			 has_server;
	char			 name[DNSUP_NAME_MAX];
	unsigned		 flags;
	dnsup_readback_cb	 cb;
	void			*arg;
	int			 outstanding;
	bool			 failed;
	struct dnsup_outcome	 fail;
	struct dnsup_outcome	 last;
	struct dnsup_rrset	 cname, addrs;
	bool			 exists;
	char			 other[96];
	struct dnsup_txtset	 txt;
	struct rb_part		 part[5];
	int			 nparts;
};

static void	 rb_cb(const struct dnsup_outcome *, const struct dnsup_found *,
		    void *);

static void
rb_done(struct rb *rb)
{
	struct dnsup_found f;

	if (rb->failed) {
		rb->cb(&rb->fail, NULL, rb->arg);
		free(rb);
		return;
	}
	memset(&f, 0, sizeof(f));
	if (rb->cname.kind == DNSUP_RRSET_CNAME)
		f.rrset = rb->cname;
	else
		f.rrset = rb->addrs;
	f.exists = rb->exists;
	memcpy(f.other, rb->other, sizeof(f.other));
	f.txt = rb->txt;
	rb->last.result = DNSUP_R_NOERROR;
	rb->cb(&rb->last, &f, rb->arg);
	free(rb);
}

/* Start one query of rb; false when it could not start. */
static bool
rb_ask(struct rb *rb, const char *qname, int qtype)
{
	struct rb_part *part;

	if (rb->nparts == (int)(sizeof(rb->part) / sizeof(rb->part[0])))
		return false;
	part = &rb->part[rb->nparts++];
	part->rb = rb;
	part->qtype = qtype;
	rb->outstanding++;
	if (dnsup_query(rb->eng, rb->has_server ? &rb->server : NULL, qname,
	    qtype, (rb->flags & DNSUP_RB_URGENT) ? DNSUP_Q_URGENT : 0, rb_cb,
	    part) == 0)
		return true;
	rb->outstanding--;
	if (!rb->failed) {
		rb->failed = true;
		rb->fail.result = DNSUP_R_INTERNAL;
		snprintf(rb->fail.detail, sizeof(rb->fail.detail),
		    "cannot query %s", qname);
	}
	return false;
}

static void
rb_addrs(struct rb *rb, const struct dnsup_rrset *rs)
{
	size_t i;

	for (i = 0; i < rs->naddr; i++) {
		if (rb->addrs.naddr == DNSUP_MAX_ADDRS) {
			rb->addrs.more = true;
			break;
		}
		memcpy(rb->addrs.addrs[rb->addrs.naddr++], rs->addrs[i],
		    sizeof(rb->addrs.addrs[0]));
	}
	if (rs->more)
		rb->addrs.more = true;
	if (rb->addrs.kind == DNSUP_RRSET_NONE || rs->ttl < rb->addrs.ttl)
		rb->addrs.ttl = rs->ttl;
	rb->addrs.kind = DNSUP_RRSET_ADDRS;
}

static void
rb_cb(const struct dnsup_outcome *o, const struct dnsup_found *found,
    void *arg)
{
	struct rb_part *part = arg;
	struct rb *rb = part->rb;

	if (o->elapsed_us >= rb->last.elapsed_us || rb->last.server[0] == 0)
		rb->last = *o;
	if (found == NULL && part->qtype == QT_ANY && !rb->failed &&
	    (o->result == DNSUP_R_NOTIMP || o->result == DNSUP_R_FORMERR ||
	    o->result == DNSUP_R_REFUSED)) {
		/* A server that will not answer ANY: ask for each type. */
		rb_ask(rb, rb->name, QT_A);
		rb_ask(rb, rb->name, QT_AAAA);
	} else if (found == NULL) {
		if (!rb->failed) {
			rb->failed = true;
			rb->fail = *o;
		}
	} else if (part->qtype == QT_TXT)
		rb->txt = found->txt;
	else {
		if (found->exists)
			rb->exists = true;
		if (part->qtype == QT_ANY) {
			memcpy(rb->other, found->other, sizeof(rb->other));
			/* A server that will not say: ask for each type. */
			if (found->any_minimal && !rb->failed) {
				rb_ask(rb, rb->name, QT_A);
				rb_ask(rb, rb->name, QT_AAAA);
			}
		}
		if (found->rrset.kind == DNSUP_RRSET_CNAME)
			rb->cname = found->rrset;
		else if (found->rrset.kind == DNSUP_RRSET_ADDRS)
			rb_addrs(rb, &found->rrset);
	}
	if (--rb->outstanding == 0)
		rb_done(rb);
}

int
dnsup_readback(struct dnsup_engine *e, const struct cfg_hostport *server,
    const char *name, unsigned flags, dnsup_readback_cb cb, void *arg)
{
	struct rb *rb;
	char owner[DNSUP_NAME_MAX + 16];
	int started = 0;

	if (name == NULL || cb == NULL || strlen(name) >= DNSUP_NAME_MAX ||
	    (rb = calloc(1, sizeof(*rb))) == NULL)
		return -1;
	rb->eng = e;
	if (server != NULL) {
		rb->server = *server;
		rb->has_server = true;
	}
	snprintf(rb->name, sizeof(rb->name), "%s", name);
	rb->flags = flags;
	rb->cb = cb;
	rb->arg = arg;
	if ((flags & DNSUP_RB_TXT) &&
	    dnsup_owner_name(owner, sizeof(owner), name) == -1) {
		free(rb);
		return -1;
	}
	/*
	 * One extra count while the queries start: callbacks never come
	 * before we return, but keep it obvious.
	 */
	rb->outstanding = 1;
	if (flags & DNSUP_RB_ANY)
		started += rb_ask(rb, name, QT_ANY);
	else {
		started += rb_ask(rb, name, QT_A);
		started += rb_ask(rb, name, QT_AAAA);
	}
	if (flags & DNSUP_RB_TXT)
		started += rb_ask(rb, owner, QT_TXT);
	rb->outstanding--;
	if (started == 0) {
		free(rb);
		return -1;
	}
	if (rb->outstanding == 0)	/* cannot happen: callbacks are later */
		rb_done(rb);
	return 0;
}

/* Confirmation. */

struct confirm;

struct csrv {
	struct confirm		*c;
	struct cfg_hostport	 hp;
	char			 text[DNSUP_NAME_MAX + 8];
	bool			 ok;
	bool			 unresolved;	/* a name with no address */
	char			 diff[200];
	struct event		*poll;
};

/* One NS name being resolved. */
struct nsname {
	struct confirm		*c;
	char			 name[DNSUP_NAME_MAX];
	int			 pending;	/* lookups outstanding */
	size_t			 naddr;
	enum dnsup_result	 fail;
	char			 why[160];
};

struct ns_part {
	struct nsname		*ns;
	int			 qtype;
};

struct confirm {
	struct dnsup_child	 child;		/* first: the engine's handle */
	struct dnsup_engine	*eng;
	char			 name[DNSUP_NAME_MAX];
	struct dnsup_rrset	 want;
	dnsup_confirm_cb	 cb;
	void			*arg;
	uint16_t		 ns_port;
	int64_t			 poll_ms;
	struct timespec		 t0;
	int64_t			 last_ok_ms;
	struct event		*bound;
	int			 outstanding;	/* queries and lookups */
	bool			 done, polling;
	size_t			 n;
	struct csrv		*srv;		/* DNSUP_MAX_CONFIRM */
	size_t			 nskipped;
	/* NS resolution */
	size_t			 nns;
	struct nsname		*ns;		/* DNSUP_MAX_CONFIRM_NS */
	struct ns_part		*nspart;	/* 2 per name */
	int			 resolving;	/* names not done yet */
};

static void	 confirm_finish(struct confirm *, enum dnsup_result,
		    const char *);
static void	 confirm_poll(struct confirm *, struct csrv *);
static void	 confirm_check_done(struct confirm *);

static int64_t
since_ms(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (int64_t)(now.tv_sec - t0->tv_sec) * 1000 +
	    (now.tv_nsec - t0->tv_nsec) / 1000000;
}

static void
confirm_free(struct confirm *c)
{
	free(c->srv);
	free(c->ns);
	free(c->nspart);
	free(c);
}

static void
confirm_release(struct confirm *c)
{
	if (c->done && c->outstanding == 0)
		confirm_free(c);
}

static void
sb_cat(char *buf, size_t len, size_t *off, const char *f, const char *a,
    const char *b)
{
	int n;

	if (*off + 1 >= len)
		return;
	n = snprintf(buf + *off, len - *off, f, *off ? " " : "", a, b);
	if (n < 0)
		return;
	*off += (size_t)n;
	if (*off > len - 1)
		*off = len - 1;
}

static void
confirm_finish(struct confirm *c, enum dnsup_result r, const char *detail)
{
	struct dnsup_confirm_result res;
	size_t i, off = 0, loff = 0;

	if (c->done)
		return;
	c->done = true;
	dnsup_child_remove(c->eng, &c->child);
	if (c->bound != NULL)
		event_free(c->bound);
	c->bound = NULL;
	memset(&res, 0, sizeof(res));
	res.result = r;
	res.nserver = c->n;
	res.nskipped = c->nskipped;
	res.elapsed_ms = r == DNSUP_R_NOERROR ? c->last_ok_ms :
	    since_ms(&c->t0);
	for (i = 0; i < c->n; i++) {
		struct csrv *s = &c->srv[i];

		if (s->poll != NULL)
			event_free(s->poll);
		s->poll = NULL;
		if (!s->unresolved)
			sb_cat(res.servers, sizeof(res.servers), &off,
			    "%s%s%s", s->text, "");
		if (s->ok)
			continue;
		res.nlag++;
		sb_cat(res.lagging, sizeof(res.lagging), &loff, "%s%s (%s)",
		    s->text, s->diff);
	}
	if (c->nskipped > 0) {
		char more[80];

		snprintf(more, sizeof(more), "%zu more name server addresses "
		    "or names", c->nskipped);
		sb_cat(res.lagging, sizeof(res.lagging), &loff, "%s%s (%s)",
		    more, "not asked: past the limit");
	}
	snprintf(res.detail, sizeof(res.detail), "%s", detail);
	c->cb(&res, c->arg);
	confirm_release(c);
}

static void
confirm_cancel(struct dnsup_child *ch)
{
	confirm_finish((struct confirm *)ch, DNSUP_R_CANCELLED,
	    "engine stopped");
}

static void
bound_cb(evutil_socket_t fd, short what, void *arg)
{
	struct confirm *c = arg;
	char d[128];

	snprintf(d, sizeof(d), "not every server holds the new records "
	    "after %lld ms", (long long)since_ms(&c->t0));
	confirm_finish(c, DNSUP_R_TIMEOUT, d);
}

static void
poll_cb(evutil_socket_t fd, short what, void *arg)
{
	struct csrv *s = arg;

	confirm_poll(s->c, s);
}

/*
 * Every server that can be asked holds the records: done, confirmed when
 * nothing is left out (no unresolved name, nothing past the limits).
 */
static void
confirm_check_done(struct confirm *c)
{
	enum dnsup_result r = DNSUP_R_NOERROR;
	size_t i, nun = 0;
	char d[256];

	if (c->done || !c->polling)
		return;
	for (i = 0; i < c->n; i++) {
		if (c->srv[i].unresolved) {
			nun++;
			if (r == DNSUP_R_NOERROR)
				r = DNSUP_R_NXDOMAIN;
			continue;
		}
		if (!c->srv[i].ok)
			return;
	}
	for (i = 0; i < c->nns && nun > 0; i++)
		if (c->ns[i].naddr == 0 && c->ns[i].fail != DNSUP_R_NOERROR) {
			r = c->ns[i].fail;
			break;
		}
	if (nun == 0 && c->nskipped == 0) {
		confirm_finish(c, DNSUP_R_NOERROR, "every server holds the "
		    "new records");
		return;
	}
	if (nun > 0)
		snprintf(d, sizeof(d), "every server that resolved holds the "
		    "new records; %zu name server%s did not resolve", nun,
		    nun == 1 ? "" : "s");
	else {
		snprintf(d, sizeof(d), "every server asked holds the new "
		    "records; %zu not asked (more than the limit)",
		    c->nskipped);
		r = DNSUP_R_INTERNAL;
	}
	confirm_finish(c, r, d);
}

static void
srv_cb(const struct dnsup_outcome *o, const struct dnsup_found *f, void *arg)
{
	struct csrv *s = arg;
	struct confirm *c = s->c;
	struct timeval tv;

	c->outstanding--;
	if (c->done) {
		confirm_release(c);
		return;
	}
	if (f == NULL)
		snprintf(s->diff, sizeof(s->diff), "%s: %.150s",
		    dnsup_result_name(o->result), o->detail);
	else if (dnsup_rrset_compare(&c->want, &f->rrset, false, s->diff,
	    sizeof(s->diff)) == 0) {
		s->ok = true;
		c->last_ok_ms = since_ms(&c->t0);
		confirm_check_done(c);
		return;
	}
	tv.tv_sec = c->poll_ms / 1000;
	tv.tv_usec = (c->poll_ms % 1000) * 1000;
	if (s->poll == NULL)
		s->poll = evtimer_new(dnsup_engine_base(c->eng), poll_cb, s);
	if (s->poll == NULL || evtimer_add(s->poll, &tv) == -1)
		confirm_finish(c, DNSUP_R_INTERNAL, "cannot arm a timer");
}

/* Ask s again; when that cannot start, try at the next poll. */
static void
confirm_poll(struct confirm *c, struct csrv *s)
{
	struct timeval tv;

	if (dnsup_readback(c->eng, &s->hp, c->name, 0, srv_cb, s) == 0) {
		c->outstanding++;
		return;
	}
	snprintf(s->diff, sizeof(s->diff), "cannot query");
	tv.tv_sec = c->poll_ms / 1000;
	tv.tv_usec = (c->poll_ms % 1000) * 1000;
	if (s->poll == NULL)
		s->poll = evtimer_new(dnsup_engine_base(c->eng), poll_cb, s);
	if (s->poll != NULL)
		evtimer_add(s->poll, &tv);
}

static void
confirm_start_polls(struct confirm *c)
{
	size_t i;

	c->polling = true;
	for (i = 0; i < c->n && !c->done; i++)
		if (!c->srv[i].unresolved)
			confirm_poll(c, &c->srv[i]);
	confirm_check_done(c);
}

/* One more server to poll (deduplicated); false past the limit. */
static void
csrv_add(struct confirm *c, const char *addr, const char *label,
    bool unresolved, const char *why)
{
	struct csrv *s;
	size_t j;

	for (j = 0; !unresolved && j < c->n; j++)
		if (!c->srv[j].unresolved &&
		    strcmp(c->srv[j].hp.host, addr) == 0)
			return;
	if (c->n == DNSUP_MAX_CONFIRM) {
		c->nskipped++;
		return;
	}
	s = &c->srv[c->n++];
	memset(s, 0, sizeof(*s));
	s->c = c;
	s->unresolved = unresolved;
	if (unresolved) {
		snprintf(s->text, sizeof(s->text), "%s", label);
		snprintf(s->diff, sizeof(s->diff), "unresolved: %s", why);
		return;
	}
	snprintf(s->hp.host, sizeof(s->hp.host), "%s", addr);
	s->hp.port = c->ns_port;
	s->hp.family = strchr(s->hp.host, ':') ? AF_INET6 : AF_INET;
	dnsup_hostport_format(&s->hp, s->text, sizeof(s->text));
}

/* A name server's lookups are all in: poll, when it was the last one. */
static void
ns_name_done(struct nsname *ns)
{
	struct confirm *c = ns->c;

	if (ns->naddr == 0)
		csrv_add(c, "", ns->name, true, ns->why[0] ? ns->why :
		    "no address");
	if (--c->resolving > 0)
		return;
	if (c->n == 0) {
		confirm_finish(c, DNSUP_R_INTERNAL, "the NS set had no name "
		    "to ask");
		return;
	}
	confirm_start_polls(c);
}

static void
ns_fail(struct nsname *ns, enum dnsup_result r, const char *what,
    const char *detail)
{
	if (ns->fail == DNSUP_R_NOERROR) {
		ns->fail = r;
		snprintf(ns->why, sizeof(ns->why), "%s %s: %.100s", what,
		    dnsup_result_name(r), detail);
	}
}

/* An in-zone name server's A or AAAA, from the engine's servers. */
static void
ns_addr_cb(const struct dnsup_outcome *o, const struct dnsup_found *f,
    void *arg)
{
	struct ns_part *part = arg;
	struct nsname *ns = part->ns;
	struct confirm *c = ns->c;
	size_t i;

	c->outstanding--;
	if (c->done) {
		confirm_release(c);
		return;
	}
	if (f == NULL)
		ns_fail(ns, o->result, part->qtype == QT_A ? "A" : "AAAA",
		    o->detail);
	else if (f->rrset.kind == DNSUP_RRSET_ADDRS) {
		for (i = 0; i < f->rrset.naddr; i++) {
			csrv_add(c, f->rrset.addrs[i], NULL, false, NULL);
			ns->naddr++;
		}
		if (f->rrset.more)
			c->nskipped++;
	} else if (!f->exists)
		ns_fail(ns, DNSUP_R_NXDOMAIN, "name", "no such name");
	if (--ns->pending == 0)
		ns_name_done(ns);
}

/* Is name at or under the zone? */
static bool
in_zone(const char *name, const char *zone)
{
	size_t nl = strlen(name), zl = strlen(zone);

	if (nl > 0 && name[nl - 1] == '.')
		nl--;
	if (zl > 0 && zone[zl - 1] == '.')
		zl--;
	if (zl == 0)
		return true;
	if (nl < zl || strncasecmp(name + nl - zl, zone, zl) != 0)
		return false;
	return nl == zl || name[nl - zl - 1] == '.';
}

/*
 * In the zone: A and AAAA from the engine's servers.  Elsewhere: the
 * system resolver, its hosts file first, then its name servers.
 */
static void
ns_resolve(struct confirm *c, struct nsname *ns)
{
	struct dnsup_rrset hosts;
	bool local = in_zone(ns->name, dnsup_engine_zone(c->eng));
	size_t i;
	int k, rc;

	if (!local && dnsup_hosts_lookup(c->eng, ns->name, &hosts) > 0) {
		for (i = 0; i < hosts.naddr; i++) {
			csrv_add(c, hosts.addrs[i], NULL, false, NULL);
			ns->naddr++;
		}
		ns_name_done(ns);
		return;
	}
	ns->pending = 2;
	for (k = 0; k < 2; k++) {
		struct ns_part *part = &c->nspart[(ns - c->ns) * 2 + k];

		part->ns = ns;
		part->qtype = k == 0 ? QT_A : QT_AAAA;
		if (local)
			rc = dnsup_query(c->eng, NULL, ns->name, part->qtype, 0,
			    ns_addr_cb, part);
		else
			rc = dnsup_query_recursive(c->eng, ns->name,
			    part->qtype, ns_addr_cb, part);
		if (rc == 0)
			c->outstanding++;
		else {
			ns_fail(ns, DNSUP_R_INTERNAL, "query", "cannot start");
			ns->pending--;
		}
	}
	if (ns->pending == 0)
		ns_name_done(ns);
}

static void
ns_cb(const struct dnsup_outcome *o, const struct dnsup_found *f, void *arg)
{
	struct confirm *c = arg;
	size_t i, n;
	char d[256];

	c->outstanding--;
	if (c->done) {
		confirm_release(c);
		return;
	}
	if (f == NULL || f->nns == 0) {
		snprintf(d, sizeof(d), "no NS set for %s: %s %.150s",
		    dnsup_engine_zone(c->eng), dnsup_result_name(o->result),
		    o->detail);
		confirm_finish(c, f == NULL ? o->result : DNSUP_R_NXDOMAIN, d);
		return;
	}
	n = f->nns;
	if (n > DNSUP_MAX_CONFIRM_NS) {
		c->nskipped += n - DNSUP_MAX_CONFIRM_NS;
		n = DNSUP_MAX_CONFIRM_NS;
	}
	if ((c->ns = calloc(n, sizeof(*c->ns))) == NULL ||
	    (c->nspart = calloc(2 * n, sizeof(*c->nspart))) == NULL) {
		confirm_finish(c, DNSUP_R_INTERNAL, "out of memory");
		return;
	}
	c->nns = n;
	for (i = 0; i < n; i++) {
		c->ns[i].c = c;
		snprintf(c->ns[i].name, sizeof(c->ns[i].name), "%s",
		    f->ns[i]);
	}
	/* Count first: a lookup may end before the next one starts. */
	c->resolving = (int)n;
	c->outstanding++;
	for (i = 0; i < n && !c->done; i++)
		ns_resolve(c, &c->ns[i]);
	c->outstanding--;
	confirm_release(c);
}

int
dnsup_confirm(struct dnsup_engine *e, const char *name,
    const struct dnsup_rrset *want, const struct cfg_hostport *servers,
    size_t n, uint16_t ns_port, int64_t bound_ms, int64_t poll_ms,
    dnsup_confirm_cb cb, void *arg)
{
	struct confirm *c;
	struct timeval tv;
	size_t i;

	if (name == NULL || want == NULL || cb == NULL ||
	    strlen(name) >= DNSUP_NAME_MAX || n > DNSUP_MAX_CONFIRM ||
	    (c = calloc(1, sizeof(*c))) == NULL)
		return -1;
	if ((c->srv = calloc(DNSUP_MAX_CONFIRM, sizeof(*c->srv))) == NULL) {
		free(c);
		return -1;
	}
	c->eng = e;
	snprintf(c->name, sizeof(c->name), "%s", name);
	c->want = *want;
	c->cb = cb;
	c->arg = arg;
	c->ns_port = ns_port ? ns_port : 53;
	c->poll_ms = poll_ms > 0 ? poll_ms : 100;
	clock_gettime(CLOCK_MONOTONIC, &c->t0);
	c->child.cancel = confirm_cancel;
	if ((c->bound = evtimer_new(dnsup_engine_base(e), bound_cb, c)) ==
	    NULL) {
		confirm_free(c);
		return -1;
	}
	tv.tv_sec = bound_ms / 1000;
	tv.tv_usec = (bound_ms % 1000) * 1000;
	evtimer_add(c->bound, &tv);
	dnsup_child_add(e, &c->child);
	if (n > 0) {
		for (i = 0; i < n; i++) {
			c->srv[i].c = c;
			c->srv[i].hp = servers[i];
			dnsup_hostport_format(&servers[i], c->srv[i].text,
			    sizeof(c->srv[i].text));
		}
		c->n = n;
		confirm_start_polls(c);
	} else if (dnsup_query(e, NULL, dnsup_engine_zone(e), QT_NS, 0, ns_cb,
	    c) == 0)
		c->outstanding++;
	if (n == 0 && c->outstanding == 0) {
		/* Nothing started: undo quietly, no callback. */
		c->done = true;
		dnsup_child_remove(e, &c->child);
		event_free(c->bound);
		confirm_free(c);
		return -1;
	}
	return 0;
}
