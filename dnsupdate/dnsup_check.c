/*
 * dnsup_check.c - read-back (what does the server hold?) and confirmation
 * (do all authoritative servers hold the new records yet?).
 *
 * Both are built from dnsup_query(): a read-back is two or three queries in
 * parallel whose answers are merged; a confirmation is a read-back per
 * server, repeated every poll_ms until it matches or the bound passes.  A
 * confirmation owns timers, so it registers with the engine as a child and
 * is ended (callback with DNSUP_R_CANCELLED) when the engine is freed; it
 * is freed itself only when its last query has called back.
 */
#include "dnsupdate/dnsup_check.h"

#include <arpa/inet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#define QT_A	1
#define QT_NS	2
#define QT_TXT	16
#define QT_AAAA	28

struct rb;

struct rb_part {
	struct rb	*rb;
	int		 qtype;
};

struct rb {
	dnsup_readback_cb	 cb;
	void			*arg;
	int			 outstanding;
	bool			 failed;
	struct dnsup_outcome	 fail;
	struct dnsup_outcome	 last;
	struct dnsup_rrset	 cname, addrs;
	bool			 has_txt;
	char			 txt[256];
	struct rb_part		 part[3];
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
	f.has_txt = rb->has_txt;
	memcpy(f.txt, rb->txt, sizeof(f.txt));
	rb->last.result = DNSUP_R_NOERROR;
	rb->cb(&rb->last, &f, rb->arg);
	free(rb);
}

static void
rb_cb(const struct dnsup_outcome *o, const struct dnsup_found *found,
    void *arg)
{
	struct rb_part *part = arg;
	struct rb *rb = part->rb;
	size_t i;

	if (o->elapsed_us >= rb->last.elapsed_us || rb->last.server[0] == 0)
		rb->last = *o;
	if (found == NULL) {
		if (!rb->failed) {
			rb->failed = true;
			rb->fail = *o;
		}
	} else if (part->qtype == QT_TXT) {
		rb->has_txt = found->has_txt;
		memcpy(rb->txt, found->txt, sizeof(rb->txt));
	} else if (found->rrset.kind == DNSUP_RRSET_CNAME)
		rb->cname = found->rrset;
	else if (found->rrset.kind == DNSUP_RRSET_ADDRS) {
		for (i = 0; i < found->rrset.naddr &&
		    rb->addrs.naddr < DNSUP_MAX_ADDRS; i++)
			memcpy(rb->addrs.addrs[rb->addrs.naddr++],
			    found->rrset.addrs[i], sizeof(rb->addrs.addrs[0]));
		if (rb->addrs.kind == DNSUP_RRSET_NONE ||
		    found->rrset.ttl < rb->addrs.ttl)
			rb->addrs.ttl = found->rrset.ttl;
		rb->addrs.kind = DNSUP_RRSET_ADDRS;
	}
	if (--rb->outstanding == 0)
		rb_done(rb);
}

int
dnsup_readback(struct dnsup_engine *e, const struct cfg_hostport *server,
    const char *name, bool with_owner, dnsup_readback_cb cb, void *arg)
{
	struct rb *rb;
	char owner[DNSUP_NAME_MAX + 16];
	int n = 0, i;

	if (name == NULL || cb == NULL || (rb = calloc(1, sizeof(*rb))) == NULL)
		return -1;
	rb->cb = cb;
	rb->arg = arg;
	rb->part[0].qtype = QT_A;
	rb->part[1].qtype = QT_AAAA;
	rb->part[2].qtype = QT_TXT;
	for (i = 0; i < 3; i++)
		rb->part[i].rb = rb;
	if (with_owner && dnsup_owner_name(owner, sizeof(owner), name) == -1) {
		free(rb);
		return -1;
	}
	/* Count first: a callback never comes before we return. */
	rb->outstanding = with_owner ? 3 : 2;
	for (i = 0; i < (with_owner ? 3 : 2); i++) {
		if (dnsup_query(e, server, i == 2 ? owner : name,
		    rb->part[i].qtype, rb_cb, &rb->part[i]) == -1) {
			rb->outstanding--;
			if (!rb->failed) {
				rb->failed = true;
				rb->fail.result = DNSUP_R_INTERNAL;
				snprintf(rb->fail.detail,
				    sizeof(rb->fail.detail),
				    "cannot query %s", name);
			}
		} else
			n++;
	}
	if (n == 0) {
		free(rb);
		return -1;
	}
	return 0;
}

/* Confirmation. */

struct confirm;

struct csrv {
	struct confirm		*c;
	struct cfg_hostport	 hp;
	char			 text[72];
	bool			 ok;
	char			 diff[200];
	struct event		*poll;
};

struct ns_part {
	struct confirm		*c;
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
	int			 outstanding;
	bool			 done;
	size_t			 n;
	struct csrv		 srv[DNSUP_MAX_CONFIRM];
	/* NS resolution */
	size_t			 nns;
	struct ns_part		 nspart[DNSUP_MAX_NS * 2];
	char			 ns[DNSUP_MAX_NS][DNSUP_NAME_MAX];
	struct dnsup_outcome	 nsfail;
	bool			 nsfailed;
};

static void	 confirm_finish(struct confirm *, enum dnsup_result,
		    const char *);
static void	 confirm_poll(struct confirm *, struct csrv *);

static int64_t
since_ms(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (int64_t)(now.tv_sec - t0->tv_sec) * 1000 +
	    (now.tv_nsec - t0->tv_nsec) / 1000000;
}

static void
confirm_release(struct confirm *c)
{
	if (c->done && c->outstanding == 0)
		free(c);
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
	res.elapsed_ms = r == DNSUP_R_NOERROR ? c->last_ok_ms :
	    since_ms(&c->t0);
	for (i = 0; i < c->n; i++) {
		struct csrv *s = &c->srv[i];

		if (s->poll != NULL)
			event_free(s->poll);
		s->poll = NULL;
		if (off < sizeof(res.servers))
			off += (size_t)snprintf(res.servers + off,
			    sizeof(res.servers) - off, "%s%s", off ? " " : "",
			    s->text);
		if (s->ok)
			continue;
		res.nlag++;
		if (loff < sizeof(res.lagging))
			loff += (size_t)snprintf(res.lagging + loff,
			    sizeof(res.lagging) - loff, "%s%s (%s)",
			    loff ? " " : "", s->text, s->diff);
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

static void
srv_cb(const struct dnsup_outcome *o, const struct dnsup_found *f, void *arg)
{
	struct csrv *s = arg;
	struct confirm *c = s->c;
	struct timeval tv;
	size_t i;

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
		for (i = 0; i < c->n; i++)
			if (!c->srv[i].ok)
				return;
		confirm_finish(c, DNSUP_R_NOERROR, "every server holds the "
		    "new records");
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

	if (dnsup_readback(c->eng, &s->hp, c->name, false, srv_cb, s) == 0) {
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

	for (i = 0; i < c->n && !c->done; i++)
		confirm_poll(c, &c->srv[i]);
}

static void
ns_addr_cb(const struct dnsup_outcome *o, const struct dnsup_found *f,
    void *arg)
{
	struct ns_part *part = arg;
	struct confirm *c = part->c;
	size_t i, j;

	c->outstanding--;
	if (c->done) {
		confirm_release(c);
		return;
	}
	if (f == NULL && !c->nsfailed) {
		c->nsfailed = true;
		c->nsfail = *o;
	}
	for (i = 0; f != NULL && f->rrset.kind == DNSUP_RRSET_ADDRS &&
	    i < f->rrset.naddr && c->n < DNSUP_MAX_CONFIRM; i++) {
		struct csrv *s = &c->srv[c->n];
		bool dup = false;

		for (j = 0; j < c->n; j++)
			if (strcmp(c->srv[j].hp.host, f->rrset.addrs[i]) == 0)
				dup = true;
		if (dup)
			continue;
		memset(s, 0, sizeof(*s));
		s->c = c;
		snprintf(s->hp.host, sizeof(s->hp.host), "%s",
		    f->rrset.addrs[i]);
		s->hp.port = c->ns_port;
		s->hp.family = strchr(s->hp.host, ':') ? AF_INET6 : AF_INET;
		dnsup_hostport_format(&s->hp, s->text, sizeof(s->text));
		c->n++;
	}
	if (c->outstanding > 0)
		return;
	if (c->n == 0) {
		char d[256];

		snprintf(d, sizeof(d), "the NS set of %s resolved to no "
		    "address%s%.150s", dnsup_engine_zone(c->eng),
		    c->nsfailed ? ": " : "", c->nsfailed ? c->nsfail.detail :
		    "");
		confirm_finish(c, c->nsfailed ? c->nsfail.result :
		    DNSUP_R_NXDOMAIN, d);
		return;
	}
	confirm_start_polls(c);
}

static void
ns_cb(const struct dnsup_outcome *o, const struct dnsup_found *f, void *arg)
{
	struct confirm *c = arg;
	size_t i;
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
	c->nns = f->nns;
	for (i = 0; i < f->nns; i++)
		memcpy(c->ns[i], f->ns[i], sizeof(c->ns[i]));
	for (i = 0; i < 2 * c->nns; i++) {
		c->nspart[i].c = c;
		c->nspart[i].qtype = (i % 2) ? QT_AAAA : QT_A;
		if (dnsup_query(c->eng, NULL, c->ns[i / 2], c->nspart[i].qtype,
		    ns_addr_cb, &c->nspart[i]) == 0)
			c->outstanding++;
	}
	if (c->outstanding == 0)
		confirm_finish(c, DNSUP_R_INTERNAL, "cannot query the name "
		    "servers' addresses");
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
		free(c);
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
	} else if (dnsup_query(e, NULL, dnsup_engine_zone(e), QT_NS, ns_cb,
	    c) == 0)
		c->outstanding++;
	if (n == 0 && c->outstanding == 0) {
		/* Nothing started: undo quietly, no callback. */
		c->done = true;
		dnsup_child_remove(e, &c->child);
		event_free(c->bound);
		for (i = 0; i < c->n; i++)
			if (c->srv[i].poll != NULL)
				event_free(c->srv[i].poll);
		free(c);
		return -1;
	}
	return 0;
}
