/*
 * daemon_dns.c - the daemon's side of the DNS: turning the engine's
 * DNS_UPDATE into a signed UPDATE, ownership, compare-and-swap, the
 * confirmation on every authoritative server, and the periodic read-back
 * that repairs drift.
 *
 * Ownership is enforced by the server.  Every UPDATE carries, beside the
 * compare-and-swap on the records, a prerequisite on the ownership TXT
 * (dnsupdate/dnsup_owner.h): exactly our value, or none there for a first
 * publication, or the exact foreign value read back for an adoption.  What
 * this process remembers only chooses which prerequisites to state; the
 * server decides.  Per group:
 *
 *	owner_ok	the server held our TXT at the last UPDATE: the next
 *			one states it and the record the engine believes is
 *			there (the action's prev), with no read-back
 *	owner_doubt	the last UPDATE failed a prerequisite, or the name is
 *			not ours: read it back first and judge it
 *			(dnsup_owner_check) before any UPDATE
 *	neither		(start-up) state what the engine's state
 *			says: our TXT and prev when it published the name,
 *			else a first publication (nothing there, no TXT).  So
 *			thousands of groups publish at start in a few coalesced
 *			UPDATEs, without a read-back each; when a prerequisite
 *			fails, the name is read back and judged at once, for
 *			the same ticket.
 *
 * A CNAME is never sent over records of another kind without a read-back
 * (ANY): named silently ignores a CNAME added beside other data.
 *
 * ddns_verdict() is the one place where the server's verdict on a group's
 * DNS is known (accepted, or refused with the reason): every UPDATE's
 * outcome and every ownership judgement pass there.
 */
#include "controller/shell/daemon_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <jansson.h>

#include "controller/base/log.h"
#include "controller/core/world.h"
#include "dnsupdate/dnsup.h"
#include "dnsupdate/dnsup_check.h"
#include "dnsupdate/dnsup_msg.h"
#include "dnsupdate/dnsup_owner.h"

#define CONFIRM_BOUND_MS	30000
#define CONFIRM_POLL_MS		100

struct dctx {
	struct daemon		*d;
	char			 group[256];
	char			 name[256];
	struct eng_action	 a;		/* the DNS_UPDATE */
	struct dnsup_rrset	 want;
	int64_t			 started_ms;
	int			 gidx;		/* where the group was */
	char			 owner[256];	/* our ownership TXT value */
	struct dnsup_owner_plan	 plan;		/* the prerequisites sent */
	bool			 read_back;	/* the plan comes from a
						   read-back of the name */
	char			 idkv[ENG_ID_MAX + 8];	/* " id=ID": the flip
						   of a switch, else "" */
};

static void	 update_done_cb(const struct dnsup_outcome *, void *);
static void	 readback_start(struct dctx *);

static int
rrset_of(const struct daemon *d, int stack, uint32_t ttl,
    struct dnsup_rrset *rr, char *err, size_t len)
{
	if (stack < 0 || (size_t)stack >= d->cfg->nstack) {
		memset(rr, 0, sizeof(*rr));
		rr->kind = DNSUP_RRSET_NONE;
		rr->ttl = ttl;
		return 0;
	}
	return dnsup_rrset_from_webhead(rr, &d->cfg->stacks[stack].web_head,
	    ttl, err, len);
}

void
ddns_describe(const struct daemon *d, int stack, uint32_t ttl, char *buf,
    size_t len)
{
	struct dnsup_rrset rr;
	char err[128];

	if (rrset_of(d, stack, ttl, &rr, err, sizeof(err)) != 0) {
		snprintf(buf, len, "(%s)", err);
		return;
	}
	dnsup_rrset_format(&rr, buf, len);
}

/* An event in the history that is not the engine's: confirmations, drift. */
static void
history_append(struct daemon *d, const char *group, const char *event,
    json_t *payload)
{
	struct store_txn txn;
	char *s;

	if (d->store == NULL) {
		json_decref(payload);
		return;
	}
	s = json_dumps(payload, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(payload);
	if (store_txn_begin(d->store, true, &txn) == 0) {
		store_history_append(&txn, clock_wall_ms(), group, event,
		    s != NULL ? s : "{}", NULL);
		if (store_txn_commit(&txn) != 0)
			log_error("store_failed", "op=history event=%s error=%s"
			    " detail=%s", event, store_errname(txn.err),
			    log_q(txn.detail));
	}
	free(s);
}

int
ddns_engine_open(struct daemon *d, const struct ddns_host *host, char *err,
    size_t errlen)
{
	struct dnsup_params p = { 0 };
	struct dnsup_engine *n;

	p.zone = d->cfg->dns.zone;
	p.key = &d->cfg->dns.key;
	p.servers = d->cfg->dns.server;
	p.nserver = d->cfg->dns.nserver;
	p.timeout_ms = d->cfg->dns.timeout_ms;
	p.retries = d->cfg->dns.retries;
	p.tcp_only = d->cfg->dns.transport == CFG_DNS_TRANSPORT_TCP;
	/* Flips due together share a message: see dnsup.h, coalescing. */
	p.coalesce_ms = 1;
	/*
	 * Answers before probe results: at start thousands of probes keep
	 * the default priority busy while the first publications go out.
	 */
	p.priority = 0;
	n = dnsup_engine_new(d->base, &p, err, errlen);
	if (n == NULL)
		return -1;
	/* Outstanding work on the old engine ends as cancelled and is
	 * retried by the engine: on the new one, so swap first. */
	{
		struct dnsup_engine *old = d->dns;

		d->dns = n;
		d->dns_host = host;
		dnsup_engine_free(old);
	}
	return 0;
}

/*
 * The server's verdict on a group's DNS: r is an UPDATE's outcome, or the
 * judgement of a read-back (not_owner, cname_conflict, or why the name
 * could not be read).  NOERROR: the last UPDATE was accepted.  The one
 * place that knows, so that whatever depends on the group's DNS being
 * usable (a gate on switches) is fed from here.
 */
static void
ddns_verdict(struct daemon *d, const char *group, enum dnsup_result r,
    const char *detail)
{
	if ((unsigned)r < sizeof(d->dns_results) / sizeof(d->dns_results[0]))
		d->dns_results[r]++;
	log_debug("dns_verdict", "group=%s accepted=%s reason=%s detail=%s",
	    log_q(group), r == DNSUP_R_NOERROR ? "yes" : "no",
	    dnsup_result_name(r), log_q(detail));
}

/*
 * The group of that name in the configuration in force (NULL if gone); idx
 * is where it was, which saves a search by name on every answer when
 * thousands of groups publish at once.
 */
static struct dgroup *
group_of(struct daemon *d, const char *group, int idx)
{
	if (idx >= 0 && (size_t)idx < d->cfg->ngroup &&
	    strcmp(d->cfg->groups[idx].name, group) == 0)
		return &d->groups[idx];
	return daemon_group_find(d, group);
}

/*
 * Answer the engine's ticket.  The answer is the server's verdict on the
 * group's DNS (the gate dns_unusable, in the engine) unless the server
 * said nothing: the UPDATE was cancelled or could not be sent.
 */
static void
feed_dns_answer(struct daemon *d, const char *group, int idx, uint32_t ticket,
    bool ok, bool retryable, const char *error, bool verdict)
{
	struct dgroup *g = group_of(d, group, idx);
	struct eng_event ev = { .kind = ENG_EV_DNS_DONE };

	if (g == NULL)
		return;
	if (ticket == g->dns_ticket)	/* not a superseded one */
		g->dns_busy = false;
	ev.u.dns.ticket = ticket;
	ev.u.dns.ok = ok;
	ev.u.dns.retryable = retryable;
	ev.u.dns.error = error;
	ev.u.dns.no_verdict = !verdict;
	d->dns_host->feed(g, &ev);
	d->dns_host->maybe_exit(d);
}

static void
feed_dns_done(struct daemon *d, const char *group, int idx, uint32_t ticket,
    bool ok, bool retryable, const char *error)
{
	feed_dns_answer(d, group, idx, ticket, ok, retryable, error, true);
}

/* Not the server's answer: retried, but no verdict. */
static void
feed_dns_unjudged(struct daemon *d, const char *group, int idx,
    uint32_t ticket, const char *error)
{
	feed_dns_answer(d, group, idx, ticket, false, true, error, false);
}

static void
confirm_cb(const struct dnsup_confirm_result *r, void *arg)
{
	struct dctx *c = arg;
	json_t *o;

	if (r->result == DNSUP_R_NOERROR) {
		log_info("confirmed", "group=%s%s name=%s servers=%s"
		    " elapsed_ms=%lld", log_q(c->group), c->idkv,
		    log_q(c->name), log_q(r->servers),
		    (long long)r->elapsed_ms);
		o = json_pack("{s:s, s:I, s:s}", "name", c->name,
		    "elapsed_ms", (json_int_t)r->elapsed_ms, "servers",
		    r->servers);
		history_append(c->d, c->group, "confirmed", o);
	} else if (r->result != DNSUP_R_CANCELLED) {
		log_warn("confirm_lagging", "group=%s%s name=%s result=%s"
		    " lagging=%s detail=%s", log_q(c->group), c->idkv,
		    log_q(c->name),
		    dnsup_result_name(r->result), log_q(r->lagging),
		    log_q(r->detail));
		o = json_pack("{s:s, s:s, s:s}", "name", c->name, "result",
		    dnsup_result_name(r->result), "lagging", r->lagging);
		history_append(c->d, c->group, "confirm_lagging", o);
	}
	free(c);
}

static void
start_confirm(struct dctx *c)
{
	struct daemon *d = c->d;
	const struct cfg_dns *cd = &d->cfg->dns;
	struct dctx *cc = malloc(sizeof(*cc));

	if (cc == NULL)
		return;
	*cc = *c;
	if (dnsup_confirm(d->dns, cc->name, &cc->want, cd->confirm,
	    cd->nconfirm, cd->server[0].port, CONFIRM_BOUND_MS,
	    CONFIRM_POLL_MS, confirm_cb, cc) != 0) {
		log_warn("confirm_failed", "group=%s detail=%s",
		    log_q(cc->group), log_q("could not start the confirmation"));
		free(cc);
	}
}

/* Our ownership value for c's group; -1 when it cannot be formatted. */
static int
owner_of(struct dctx *c, struct dnsup_owner *o)
{
	const struct daemon *d = c->d;

	/* In a cluster, the epoch of this member's leadership (0 alone). */
	if (dnsup_owner_init(o, d->cfg->controller.name, c->group,
	    daemon_epoch(d)) == -1 ||
	    dnsup_owner_format(o, c->owner, sizeof(c->owner)) == -1)
		return -1;
	return 0;
}

/* The UPDATE for c with c->plan's prerequisites. */
static void
update_fill(struct dctx *c, struct dnsup_update *u)
{
	memset(u, 0, sizeof(*u));
	u->name = c->name;
	u->want = c->want;
	u->owner_txt = c->owner;
	dnsup_owner_apply(&c->plan, u);
	/* prereq = no: no compare-and-swap on the records; the TXT stays. */
	if (!c->d->cfg->dns.prereq && u->prereq == DNSUP_PREREQ_IS)
		u->prereq = DNSUP_PREREQ_NONE;
	/* The flip never waits behind a TTL change (dnsup.h). */
	u->supersede = c->a.u.dns.why == ENG_DNS_FLIP;
}

/* An UPDATE the engine no longer waits for (a flip superseded it). */
static bool
stale(const struct dgroup *g, const struct dctx *c)
{
	return g != NULL && g->dns_ticket != c->a.u.dns.ticket;
}

/*
 * Whether f shows that a newer epoch of this controller holds the name:
 * another cluster member leads and has claimed it (mine has an epoch).
 */
static bool
newer_epoch(const struct dnsup_found *f, const struct dnsup_owner *mine)
{
	struct dnsup_owner t;
	char tv[300];

	if (mine->epoch == 0 || f->txt.n != 1)
		return false;
	dnsup_txt_value(&f->txt.t[0], tv, sizeof(tv));
	return dnsup_owner_parse(tv, &t) == 0 &&
	    strcmp(t.controller, mine->controller) == 0 &&
	    strcmp(t.group, mine->group) == 0 && t.epoch > mine->epoch;
}

static void
submit(struct dctx *c)
{
	struct daemon *d = c->d;
	struct dnsup_update u;
	struct dgroup *g;

	/* The last moment before the UPDATE leaves (daemon_int.h): a
	 * cluster member that no longer leads sends nothing. */
	if (!daemon_may_act(d)) {
		log_warn("action_withheld", "group=%s action=update epoch=%llu"
		    " detail=%s", log_q(c->group),
		    (unsigned long long)d->cl_epoch,
		    log_q("this cluster member does not lead (any more)"));
		if ((g = group_of(d, c->group, c->gidx)) != NULL) {
			g->waiting = true;
			g->dns_busy = false;
		}
		free(c);
		return;
	}
	update_fill(c, &u);
	if (dnsup_submit(d->dns, &u, update_done_cb, c) != 0) {
		log_error("dns_submit_failed", "group=%s name=%s",
		    log_q(c->group), log_q(c->name));
		ddns_verdict(d, c->group, DNSUP_R_INTERNAL, "cannot submit");
		feed_dns_unjudged(d, c->group, c->gidx, c->a.u.dns.ticket,
		    "internal");
		free(c);
	}
}

static void
update_done_cb(const struct dnsup_outcome *o, void *arg)
{
	struct dctx *c = arg;
	struct daemon *d = c->d;
	struct dgroup *g = group_of(d, c->group, c->gidx);
	const char *rname = dnsup_result_name(o->result);
	bool ok = o->result == DNSUP_R_NOERROR;
	char want[512];

	if (stale(g, c)) {
		/*
		 * Superseded by a flip: cancelled, or applied before it, or
		 * refused by its prerequisite after it.  Says nothing of
		 * the name's owner; the engine waits for the flip only.
		 */
		log_info("dns_superseded", "group=%s name=%s why=%s result=%s",
		    log_q(c->group), log_q(c->name),
		    eng_dns_why_name(c->a.u.dns.why), rname);
		feed_dns_done(d, c->group, c->gidx, c->a.u.dns.ticket, false,
		    true, rname);
		free(c);
		return;
	}
	if (o->result == DNSUP_R_CANCELLED) {
		/* The engine was replaced (reload): the engine retries. */
		feed_dns_unjudged(d, c->group, c->gidx, c->a.u.dns.ticket,
		    rname);
		free(c);
		return;
	}
	/*
	 * A first guess from the state (no read-back) that the server did
	 * not confirm: read the name back and judge it now, same ticket.
	 */
	if (dnsup_result_is_prereq(o->result) && !c->read_back && g != NULL &&
	    (!g->owner_ok || daemon_epoch(d) > 0)) {
		log_info("dns_readback", "group=%s name=%s why=%s detail=%s",
		    log_q(c->group), log_q(c->name), rname,
		    log_q("the name does not hold what the state says"));
		readback_start(c);
		return;
	}
	ddns_verdict(d, c->group, o->result, o->detail);
	dnsup_rrset_format(&c->want, want, sizeof(want));
	if (ok) {
		if (g != NULL) {
			g->owner_ok = true;
			g->owner_doubt = false;
		}
		log_info("dns_updated", "group=%s%s name=%s records=%s ttl=%u"
		    " why=%s server=%s elapsed_ms=%.3f batch=%zu",
		    log_q(c->group), c->idkv, log_q(c->name), log_q(want),
		    c->want.ttl, eng_dns_why_name(c->a.u.dns.why),
		    log_q(o->server), (double)o->elapsed_us / 1000.0, o->batch);
	} else {
		log_warn("dns_update_failed", "group=%s%s name=%s result=%s"
		    " server=%s detail=%s tries=%d", log_q(c->group), c->idkv,
		    log_q(c->name), rname, log_q(o->server), log_q(o->detail),
		    o->tries);
		/* The server refused what we believed: read back first. */
		if (dnsup_result_is_prereq(o->result) && g != NULL) {
			g->owner_ok = false;
			g->owner_doubt = true;
		}
	}
	if (ok && c->a.u.dns.why == ENG_DNS_FLIP)
		start_confirm(c);
	feed_dns_done(d, c->group, c->gidx, c->a.u.dns.ticket, ok,
	    ok || dnsup_result_is_transient(o->result) ||
	    dnsup_result_is_prereq(o->result), rname);
	free(c);
}

/*
 * A record found on the group's other stack than `stack` (the active one,
 * or the one an UPDATE would publish): someone moved the traffic outside
 * failoverd.  Not "repaired" (a move without a switch): the group holds
 * (waiting, moved) until an operator rearms (accepts it) or switches.
 */
static bool
hold_if_moved(struct dgroup *g, const struct dnsup_rrset *found, int stack)
{
	struct daemon *d = g->d;
	const struct cfg_group *cg = &d->cfg->groups[g->idx];
	struct world_record rec;

	world_record_of(d->cfg, found, &rec);
	if (rec.kind != WORLD_REC_STACK || rec.stack == stack || stack < 0 ||
	    (rec.stack != cg->primary && rec.stack != cg->backup))
		return false;
	log_error("record_moved", "group=%s name=%s record=%s active=%s"
	    " detail=%s", log_q(dgroup_name(g)), log_q(g->address),
	    log_q(d->cfg->stacks[rec.stack].name),
	    log_q(d->cfg->stacks[stack].name),
	    log_q("moved outside failoverd: not repaired; the group holds"
	    " until failoverctl rearm (accept it) or switch"));
	history_append(d, dgroup_name(g), "record_moved", json_pack(
	    "{s:s, s:s, s:s}", "name", g->address, "record",
	    d->cfg->stacks[rec.stack].name, "active",
	    d->cfg->stacks[stack].name));
	g->moved = true;
	g->waiting = true;
	g->had_state = true;
	return true;
}

static void
readback_cb(const struct dnsup_outcome *o, const struct dnsup_found *found,
    void *arg)
{
	struct dctx *c = arg;
	struct daemon *d = c->d;
	struct dgroup *g = group_of(d, c->group, c->gidx);
	struct dnsup_owner mine;
	char detail[1024];
	enum dnsup_result r;

	if (g == NULL) {
		free(c);
		return;
	}
	if (o->result != DNSUP_R_NOERROR || found == NULL) {
		log_warn("dns_readback_failed", "group=%s name=%s result=%s"
		    " detail=%s", log_q(c->group), log_q(c->name),
		    dnsup_result_name(o->result), log_q(o->detail));
		ddns_verdict(d, c->group, o->result, o->detail);
		feed_dns_done(d, c->group, c->gidx, c->a.u.dns.ticket, false, true,
		    dnsup_result_name(o->result));
		free(c);
		return;
	}
	/* Never over another of the group's stacks but by a switch's flip:
	 * the engine's ticket is cleared when the group resumes. */
	if (c->a.u.dns.why != ENG_DNS_FLIP &&
	    hold_if_moved(g, &found->rrset, c->a.u.dns.stack)) {
		g->dns_busy = false;
		free(c);
		return;
	}
	if (owner_of(c, &mine) == -1)
		r = DNSUP_R_INTERNAL;
	else
		r = dnsup_owner_check(c->name, found, &mine,
		    d->cfg->groups[g->idx].adopt, &c->want, &c->plan, detail,
		    sizeof(detail));
	if (r != DNSUP_R_NOERROR && newer_epoch(found, &mine)) {
		/* Refused by the server's prerequisite: fenced. */
		g->owner_ok = false;
		g->owner_doubt = true;
		g->dns_busy = false;
		ddns_verdict(d, c->group, r, detail);
		d->dns_host->fenced(d, c->group, detail);
		free(c);
		return;
	}
	if (r != DNSUP_R_NOERROR) {
		g->owner_ok = false;
		g->owner_doubt = true;
		if (r == DNSUP_R_CNAME_CONFLICT)
			log_error("dns_cname_conflict", "group=%s name=%s "
			    "detail=%s", log_q(c->group), log_q(c->name),
			    log_q(detail));
		else {
			g->not_owner++;
			log_error("dns_not_owner", "group=%s name=%s detail=%s"
			    " hint=%s", log_q(c->group), log_q(c->name),
			    log_q(detail), log_q("set adopt = yes in the group "
			    "to take it over"));
		}
		ddns_verdict(d, c->group, r, detail);
		feed_dns_done(d, c->group, c->gidx, c->a.u.dns.ticket, false, false,
		    dnsup_result_name(r));
		free(c);
		return;
	}
	if (c->plan.verdict != DNSUP_OWN_OURS)
		log_info("dns_owner", "group=%s name=%s verdict=%s detail=%s",
		    log_q(c->group), log_q(c->name),
		    dnsup_owner_verdict_name(c->plan.verdict), log_q(detail));
	c->read_back = true;
	submit(c);
}

/* Read the name back (records, other types, TXT), then submit. */
static void
readback_start(struct dctx *c)
{
	struct daemon *d = c->d;

	c->read_back = true;
	if (dnsup_readback(d->dns, NULL, c->name, DNSUP_RB_OWNER |
	    DNSUP_RB_URGENT, readback_cb, c) != 0) {
		log_error("dns_readback_failed", "group=%s name=%s detail=%s",
		    log_q(c->group), log_q(c->name),
		    log_q("could not start the read-back"));
		ddns_verdict(d, c->group, DNSUP_R_INTERNAL,
		    "could not start the read-back");
		feed_dns_unjudged(d, c->group, c->gidx, c->a.u.dns.ticket,
		    "internal");
		free(c);
	}
}

void
ddns_update(struct dgroup *g, const struct eng_action *a)
{
	struct daemon *d = g->d;
	struct dnsup_owner mine;
	struct dnsup_rrset prev;
	struct dctx *c;
	char err[256];
	bool have_prev = false;

	c = calloc(1, sizeof(*c));
	if (c == NULL)
		fatal("out_of_memory", "where=ddns_update");
	c->d = d;
	c->a = *a;
	c->started_ms = clock_wall_ms();
	c->gidx = g->idx;
	snprintf(c->group, sizeof(c->group), "%s", dgroup_name(g));
	snprintf(c->name, sizeof(c->name), "%s", g->address);
	/* The flip is a phase of the switch: its lines carry its id=. */
	if (a->u.dns.why == ENG_DNS_FLIP && g->st.sw.id[0] != '\0')
		snprintf(c->idkv, sizeof(c->idkv), " id=%s", log_q(g->st.sw.id));
	if (rrset_of(d, a->u.dns.stack, a->u.dns.ttl, &c->want, err,
	    sizeof(err)) != 0 || owner_of(c, &mine) == -1) {
		log_error("dns_records_invalid", "group=%s stack=%s error=%s",
		    log_q(c->group), log_q(d->cfg->stacks[a->u.dns.stack].name),
		    log_q(c->owner[0] ? err : "ownership value too long"));
		/* The engine waits for an answer to every ticket. */
		{
			struct eng_event ev = { .kind = ENG_EV_DNS_DONE };

			ev.u.dns.ticket = a->u.dns.ticket;
			ev.u.dns.error = "internal";
			ev.u.dns.no_verdict = true;	/* the server said nothing */
			d->dns_host->defer(d, c->group, &ev, 0);
		}
		free(c);
		return;
	}
	g->dns_busy = true;
	g->dns_ticket = a->u.dns.ticket;
	if (a->u.dns.prev != ENG_NONE &&
	    rrset_of(d, a->u.dns.prev, 0, &prev, err, sizeof(err)) == 0)
		have_prev = true;
	/* What to require: see the top of this file. */
	if (have_prev)
		dnsup_owner_plan_believed(&c->plan, &prev);
	else
		dnsup_owner_plan_fresh(&c->plan);

	if (d->dry_run) {
		struct dnsup_update u;
		char text[4096], server[80], want[1024];
		struct eng_event ev = { .kind = ENG_EV_DNS_DONE };

		update_fill(c, &u);
		dnsup_hostport_format(&d->cfg->dns.server[0], server,
		    sizeof(server));
		dnsup_update_render(text, sizeof(text), server, d->cfg->dns.zone,
		    &u, 1);
		dnsup_rrset_format(&c->want, want, sizeof(want));
		/* The daemon's event, marked: nothing was sent. */
		log_info("dns_updated", "group=%s%s name=%s records=%s ttl=%u"
		    " why=%s dry_run=yes nsupdate=%s", log_q(c->group),
		    c->idkv, log_q(c->name), log_q(want), c->want.ttl,
		    eng_dns_why_name(a->u.dns.why), log_q(text));
		ev.u.dns.ticket = a->u.dns.ticket;
		ev.u.dns.ok = true;
		ev.u.dns.retryable = true;
		ev.u.dns.error = "NOERROR";
		g->dns_busy = false;
		d->dns_host->defer(d, c->group, &ev, 0);
		free(c);
		return;
	}

	/*
	 * A first publication requires the name not to be in use at all;
	 * over records of another kind, a CNAME needs to know what else is
	 * there; and a name we published whose record the engine no longer
	 * knows (drift) is not a first publication.
	 */
	if (g->owner_doubt || (c->want.kind == DNSUP_RRSET_CNAME &&
	    have_prev && prev.kind != DNSUP_RRSET_CNAME) ||
	    (g->owner_ok && !have_prev)) {
		readback_start(c);
		return;
	}
	submit(c);
}

/* ---- periodic read-back ---- */

struct vctx {
	struct daemon	*d;
	char		 group[256];
	int		 stack;
	uint32_t	 ttl;
};

static void
verify_done_cb(const struct dnsup_outcome *o, const struct dnsup_found *f,
    void *arg)
{
	struct vctx *v = arg;
	struct daemon *d = v->d;
	struct dgroup *g = daemon_group_find(d, v->group);
	struct dnsup_rrset want;
	char diff[512], err[128];

	if (g == NULL)
		goto out;
	g->verify_busy = false;
	if (o->result != DNSUP_R_NOERROR || f == NULL) {
		log_warn("verify_failed", "group=%s result=%s detail=%s",
		    log_q(v->group), dnsup_result_name(o->result),
		    log_q(o->detail));
		goto out;
	}
	/* Changed while we asked: the next round will look again. */
	if (g->st.pub_stack != v->stack || g->st.pub_ttl != v->ttl ||
	    g->dns_busy || g->st.status == ENG_SWITCHING)
		goto out;
	if (rrset_of(d, v->stack, v->ttl, &want, err, sizeof(err)) != 0)
		goto out;
	if (dnsup_rrset_compare(&want, &f->rrset, true, diff,
	    sizeof(diff)) == 0) {
		log_debug("verified", "group=%s", log_q(v->group));
		goto out;
	}
	if (hold_if_moved(g, &f->rrset, g->st.active))
		goto out;
	g->drift_repairs++;
	log_warn("drift", "group=%s name=%s diff=%s", log_q(v->group),
	    log_q(g->address), log_q(diff));
	history_append(d, v->group, "drift", json_pack("{s:s, s:s}", "name",
	    g->address, "diff", diff));
	{
		struct eng_event ev = { .kind = ENG_EV_DNS_DRIFT };

		d->dns_host->feed(g, &ev);
	}
out:
	free(v);
}

void
ddns_verify_all(struct daemon *d)
{
	if (d->dry_run || d->dns == NULL)
		return;
	for (size_t i = 0; i < d->cfg->ngroup; i++) {
		struct dgroup *g = &d->groups[i];
		struct vctx *v;

		if (g->st.pub_stack < 0 || g->dns_busy || g->verify_busy ||
		    g->waiting ||
		    g->st.status == ENG_SWITCHING || g->address[0] == '\0')
			continue;
		v = calloc(1, sizeof(*v));
		if (v == NULL)
			return;
		v->d = d;
		snprintf(v->group, sizeof(v->group), "%s", dgroup_name(g));
		v->stack = g->st.pub_stack;
		v->ttl = g->st.pub_ttl;
		g->verify_busy = true;
		if (dnsup_readback(d->dns, NULL, g->address, 0,
		    verify_done_cb, v) != 0) {
			g->verify_busy = false;
			free(v);
		}
	}
}

/* ---- the record at start (world.h) ---- */

struct rctx {
	struct daemon	*d;
	char		 group[256];
	int		 gidx;
	/* The claim (a cluster's new leader): */
	struct dnsup_rrset	 found;
	char		 owner[256];
	struct dnsup_owner_plan	 plan;
	uint64_t	 epoch;
};

static void	 record_read_cb(const struct dnsup_outcome *,
		    const struct dnsup_found *, void *);

static void
record_read_cb(const struct dnsup_outcome *o, const struct dnsup_found *f,
    void *arg)
{
	struct rctx *r = arg;
	struct daemon *d = r->d;
	struct dgroup *g;

	/* Torn down (the groups are gone), or the group left by a reload. */
	if (d->groups == NULL || (g = group_of(d, r->group, r->gidx)) == NULL) {
		free(r);
		return;
	}
	g->record_busy = false;
	if (o->result == DNSUP_R_CANCELLED) {
		/* The engine was replaced (reload): ask the new one. */
		if (!d->stopping)
			ddns_read_record(g);
		free(r);
		return;
	}
	if (o->result != DNSUP_R_NOERROR || f == NULL) {
		bool refused = !dnsup_result_is_transient(o->result);

		if (g->hold_logged == 0)
			log_warn("record_unreadable", "group=%s name=%s result=%s"
			    " refused=%s detail=%s", log_q(r->group),
			    log_q(g->address), dnsup_result_name(o->result),
			    refused ? "yes" : "no", log_q(o->detail));
		d->dns_host->record_read(g, NULL, refused);
	} else
		d->dns_host->record_read(g, &f->rrset, false);
	free(r);
}

/*
 * The claim.  A cluster member that became the leader reads each group's
 * name with its ownership TXT before anything else for the group; where
 * the TXT is this controller's with a lower epoch (the previous leader's),
 * it replaces the TXT with its own epoch and leaves the records as they
 * are, requiring exactly the TXT and the records found.  From then on
 * every UPDATE of a deposed leader, which requires its own epoch's TXT,
 * is refused by the server (NXRRSET), whatever that leader believes.
 * Only then is the record handed to the world (daemon_record_read).  A
 * name that cannot be read or claimed keeps the group waiting; it is
 * tried again at every verify_interval (world_reread).
 */
static void
claim_fail(struct rctx *r, struct dgroup *g, const char *why,
    const char *detail)
{
	log_warn("claim_failed", "group=%s name=%s epoch=%llu reason=%s"
	    " detail=%s", log_q(r->group), log_q(g->address),
	    (unsigned long long)r->epoch, why, log_q(detail));
	g->record_busy = false;
	free(r);
}

static void
claim_done_cb(const struct dnsup_outcome *o, void *arg)
{
	struct rctx *r = arg;
	struct daemon *d = r->d;
	struct dgroup *g;

	if (d->groups == NULL || (g = group_of(d, r->group, r->gidx)) == NULL) {
		free(r);
		return;
	}
	ddns_verdict(d, r->group, o->result, o->detail);
	if (o->result != DNSUP_R_NOERROR) {
		claim_fail(r, g, dnsup_result_name(o->result), o->detail);
		return;
	}
	log_info("owner_claimed", "group=%s name=%s epoch=%llu txt=%s"
	    " server=%s", log_q(r->group), log_q(g->address),
	    (unsigned long long)r->epoch, log_q(r->owner), log_q(o->server));
	g->record_busy = false;
	g->owner_ok = true;
	if (daemon_may_act(d))
		d->dns_host->record_read(g, &r->found, false);
	free(r);
}

static void
claim_read_cb(const struct dnsup_outcome *o, const struct dnsup_found *f,
    void *arg)
{
	struct rctx *r = arg;
	struct daemon *d = r->d;
	struct dgroup *g;
	struct dnsup_owner mine;
	struct dnsup_update u;
	char detail[1024];
	enum dnsup_result res;

	if (d->groups == NULL || (g = group_of(d, r->group, r->gidx)) == NULL) {
		free(r);
		return;
	}
	if (o->result == DNSUP_R_CANCELLED) {
		g->record_busy = false;
		free(r);
		if (!d->stopping && daemon_may_act(d))
			ddns_read_record(g);
		return;
	}
	if (o->result != DNSUP_R_NOERROR || f == NULL) {
		claim_fail(r, g, dnsup_result_name(o->result), o->detail);
		return;
	}
	/* Stepped down meanwhile: the next leadership reads again. */
	if (!daemon_may_act(d) || r->epoch != daemon_epoch(d)) {
		g->record_busy = false;
		free(r);
		return;
	}
	if (dnsup_owner_init(&mine, d->cfg->controller.name, r->group,
	    r->epoch) == -1 || dnsup_owner_format(&mine, r->owner,
	    sizeof(r->owner)) == -1) {
		claim_fail(r, g, "internal", "ownership value too long");
		return;
	}
	if (newer_epoch(f, &mine)) {
		dnsup_txtset_format(&f->txt, detail, sizeof(detail));
		g->record_busy = false;
		free(r);
		d->dns_host->fenced(d, dgroup_name(g), detail);
		return;
	}
	r->found = f->rrset;
	res = dnsup_owner_check(g->address, f, &mine,
	    d->cfg->groups[g->idx].adopt, &f->rrset, &r->plan, detail,
	    sizeof(detail));
	if (res != DNSUP_R_NOERROR || r->plan.verdict != DNSUP_OWN_SUPERSEDE) {
		/* Free, ours already, or another's: the world decides, and
		 * the first UPDATE states what it must (see the top). */
		if (res == DNSUP_R_NOERROR && r->plan.verdict == DNSUP_OWN_OURS)
			g->owner_ok = true;
		g->record_busy = false;
		d->dns_host->record_read(g, &r->found, false);
		free(r);
		return;
	}
	memset(&u, 0, sizeof(u));
	u.name = g->address;
	u.want = f->rrset;
	u.want.more = false;
	u.owner_txt = r->owner;
	dnsup_owner_apply(&r->plan, &u);
	if (dnsup_submit(d->dns, &u, claim_done_cb, r) != 0)
		claim_fail(r, g, "internal", "cannot submit");
}

int
ddns_read_record(struct dgroup *g)
{
	struct daemon *d = g->d;
	struct rctx *r;

	if (g->record_busy)
		return 0;
	if (d->dns == NULL || g->address[0] == '\0')
		return -1;
	if ((r = calloc(1, sizeof(*r))) == NULL)
		fatal("out_of_memory", "where=ddns_read_record");
	r->d = d;
	r->gidx = g->idx;
	snprintf(r->group, sizeof(r->group), "%s", dgroup_name(g));
	g->record_busy = true;
	if (d->cluster != NULL) {
		if (!daemon_may_act(d)) {
			g->record_busy = false;
			free(r);
			return 0;	/* a follower: the group waits */
		}
		r->epoch = daemon_epoch(d);
		if (dnsup_readback(d->dns, NULL, g->address, DNSUP_RB_OWNER |
		    DNSUP_RB_URGENT, claim_read_cb, r) != 0) {
			g->record_busy = false;
			free(r);
			return -1;
		}
		return 0;
	}
	if (dnsup_readback(d->dns, NULL, g->address, DNSUP_RB_URGENT,
	    record_read_cb, r) != 0) {
		g->record_busy = false;
		free(r);
		return -1;
	}
	return 0;
}
