/*
 * ctl_group.c - failoverctl verify and group: what the DNS server
 * publishes against what the state says, and groups made at run time
 * (add, set, list, delete; delete removes the record with a signed
 * UPDATE), on a private event loop for the DNS.
 */

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/event.h>

#include "controller/face/ctl_int.h"
#include "controller/face/ops_remote.h"
#include "cluster/cl_schema.h"
#include "dnsupdate/dnsup_check.h"
#include "dnsupdate/dnsup_owner.h"

/* ---- DNS: verify and group delete, on a private loop ---- */

struct dnsjob {
	int			 pending;
	enum dnsup_result	 result;
	char			 detail[256];
	struct dnsup_found	 found;
	bool			 has_found;
};

static struct dnsup_engine *
dns_open(const struct config *cfg, struct event_base **base)
{
	struct dnsup_params p = { 0 };
	struct dnsup_engine *e;
	char err[256];

	if ((*base = event_base_new()) == NULL) {
		ctl_fail_line("cannot create an event loop");
		return NULL;
	}
	p.zone = cfg->dns.zone;
	p.key = &cfg->dns.key;
	p.servers = cfg->dns.server;
	p.nserver = cfg->dns.nserver;
	p.timeout_ms = cfg->dns.timeout_ms;
	p.retries = cfg->dns.retries;
	if ((e = dnsup_engine_new(*base, &p, err, sizeof(err))) == NULL) {
		ctl_fail_line("dns: %s", err);
		event_base_free(*base);
		*base = NULL;
	}
	return e;
}

static void
dns_close(struct dnsup_engine *e, struct event_base *base)
{
	dnsup_engine_free(e);
	if (base != NULL)
		event_base_free(base);
}

static void
readback_cb(const struct dnsup_outcome *o, const struct dnsup_found *f,
    void *arg)
{
	struct dnsjob *j = arg;

	j->pending--;
	j->result = o->result;
	snprintf(j->detail, sizeof(j->detail), "%s", o->detail);
	if (f != NULL) {
		j->found = *f;
		j->has_found = true;
	}
}

static void
update_cb(const struct dnsup_outcome *o, void *arg)
{
	struct dnsjob *j = arg;

	j->pending--;
	j->result = o->result;
	snprintf(j->detail, sizeof(j->detail), "%s", o->detail);
}

static int
readback(struct dnsup_engine *e, struct event_base *base, const char *name,
    bool with_owner, struct dnsjob *j)
{
	memset(j, 0, sizeof(*j));
	j->pending = 1;
	if (dnsup_readback(e, NULL, name, with_owner ? DNSUP_RB_OWNER : 0,
	    readback_cb, j) != 0) {
		snprintf(j->detail, sizeof(j->detail), "cannot ask for %s",
		    name);
		return -1;
	}
	while (j->pending > 0)
		if (event_base_loop(base, EVLOOP_ONCE) != 0)
			break;
	if (j->result != DNSUP_R_NOERROR || !j->has_found)
		return -1;
	return 0;
}

/* One group: 0 in sync, 1 drift, -1 could not tell. */
static int
verify_group(struct ctl *c, struct dnsup_engine *e, struct event_base *base,
    int gi)
{
	const char *name = c->cfg->groups[gi].name;
	struct eng_group g;
	struct dnsup_rrset want;
	struct dnsjob j;
	char addr[600], err[512], diff[512], wtxt[512];
	bool stored;
	int stack;
	uint32_t ttl;

	if (ops_group_state(c->st, c->cfg, name, &g, &stored, err,
	    sizeof(err)) != 0) {
		printf("%-12s error: %s\n", name, err);
		return -1;
	}
	if (ops_group_address(c->st, c->cfg, name, addr, sizeof(addr)) != 0) {
		printf("%-12s no address allocated yet\n", name);
		return g.status == ENG_RESERVED ? 0 : 1;
	}
	/* What the state says the server holds. */
	if (g.pub_stack >= 0) {
		stack = g.pub_stack;
		ttl = g.pub_ttl;
	} else {
		stack = g.status == ENG_RESERVED ? ENG_NONE : g.want_stack;
		ttl = g.want_ttl;
	}
	memset(&want, 0, sizeof(want));
	want.kind = DNSUP_RRSET_NONE;
	if (stack >= 0 && dnsup_rrset_from_webhead(&want,
	    &c->cfg->stacks[stack].web_head, ttl, err, sizeof(err)) != 0) {
		printf("%-12s %s: %s\n", name, addr, err);
		return -1;
	}
	if (readback(e, base, addr, false, &j) != 0) {
		printf("%-12s %s: cannot read back: %s %s\n", name, addr,
		    dnsup_result_name(j.result), j.detail);
		return -1;
	}
	dnsup_rrset_format(&want, wtxt, sizeof(wtxt));
	if (dnsup_rrset_compare(&want, &j.found.rrset, stack >= 0, diff,
	    sizeof(diff)) == 0) {
		printf("%-12s %s in sync: %s%s\n", name, addr, wtxt,
		    g.pub_stack < 0 && stack >= 0 ? " (state: not yet"
		    " confirmed published)" : "");
		return 0;
	}
	printf("%-12s %s DRIFT: %s (state: %s%s)\n", name, addr, diff,
	    stack >= 0 ? c->cfg->stacks[stack].name : "nothing published",
	    g.pub_stack < 0 && stack >= 0 ? ", not yet published" : "");
	return 1;
}

int
ctl_v_verify(struct ctl *c)
{
	static const struct option lo[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct event_base *base = NULL;
	struct dnsup_engine *e;
	int ch, gi = -1, worst = 0, r;

	optind = 0;
	while ((ch = getopt_long(c->argc, c->argv, "h", lo, NULL)) != -1) {
		if (ch == 'h')
			return ctl_verb_help(c);
		return ctl_verb_usage(c, NULL);
	}
	if (c->argc - optind > 1)
		return ctl_verb_usage(c, "too many arguments");
	if (optind < c->argc) {
		for (size_t i = 0; i < c->cfg->ngroup; i++)
			if (strcmp(c->cfg->groups[i].name,
			    c->argv[optind]) == 0)
				gi = (int)i;
		if (gi < 0) {
			ctl_fail_line("verify: unknown group %s", c->argv[optind]);
			return EX_FAIL;
		}
	}
	if ((e = dns_open(c->cfg, &base)) == NULL)
		return EX_FAIL;
	for (size_t i = 0; i < c->cfg->ngroup; i++) {
		if (gi >= 0 && (int)i != gi)
			continue;
		r = verify_group(c, e, base, (int)i);
		if (r != 0)
			worst = 1;
	}
	dns_close(e, base);
	if (worst != 0)
		ctl_fail_line("verify: drift or unreadable records (see above)");
	return worst ? EX_FAIL : EX_OK;
}

/* Remove group's record at addr with a signed UPDATE, if it is ours. */
static int
record_remove(struct ctl *c, const char *group, const char *addr)
{
	struct event_base *base = NULL;
	struct dnsup_engine *e;
	struct dnsup_update u;
	struct dnsup_owner owner;
	struct dnsup_owner_plan plan;
	struct dnsup_rrset none;
	struct dnsjob j;
	char mine[300], why[1024];

	if ((e = dns_open(c->cfg, &base)) == NULL)
		return EX_FAIL;
	/* Never delete a name that is not ours. */
	if (readback(e, base, addr, true, &j) != 0) {
		ctl_fail_line("group delete: cannot read %s back: %s %s", addr,
		    dnsup_result_name(j.result), j.detail);
		dns_close(e, base);
		return EX_FAIL;
	}
	memset(&none, 0, sizeof(none));
	if (dnsup_owner_init(&owner, c->cfg->controller.name, group, 0) ==
	    -1 || dnsup_owner_format(&owner, mine, sizeof(mine)) == -1 ||
	    dnsup_owner_check(addr, &j.found, &owner, false, &none, &plan, why,
	    sizeof(why)) != DNSUP_R_NOERROR) {
		ctl_fail_line("group delete: refused: %s", why);
		dns_close(e, base);
		return EX_FAIL;
	}
	/* The server checks it too: our TXT, and what was read back. */
	memset(&u, 0, sizeof(u));
	u.name = addr;
	u.want.kind = DNSUP_RRSET_NONE;
	u.owner_txt = mine;
	u.owner_delete = true;
	dnsup_owner_apply(&plan, &u);
	memset(&j, 0, sizeof(j));
	j.pending = 1;
	if (dnsup_submit(e, &u, update_cb, &j) != 0) {
		ctl_fail_line("group delete: cannot build the UPDATE for %s", addr);
		dns_close(e, base);
		return EX_FAIL;
	}
	while (j.pending > 0)
		if (event_base_loop(base, EVLOOP_ONCE) != 0)
			break;
	dns_close(e, base);
	if (j.result != DNSUP_R_NOERROR) {
		ctl_fail_line("group delete: UPDATE removing %s failed: %s %s",
		    addr, dnsup_result_name(j.result), j.detail);
		return EX_FAIL;
	}
	return EX_OK;
}

static int
group_delete(struct ctl *c, const char *group)
{
	struct ops_reply r;
	char addr[600];

	if (ops_group_delete_check(c->st, c->cfg, group, addr, sizeof(addr),
	    &r) != 0) {
		ctl_fail_line("group delete: refused: %s", r.message);
		return EX_FAIL;
	}
	if (record_remove(c, group, addr) != EX_OK)
		return EX_FAIL;
	if (ops_group_delete(c->st, c->cfg, group, addr, ctl_now_ms(), &r) != 0) {
		ctl_fail_line("group delete: record removed but %s", r.message);
		return EX_FAIL;
	}
	printf("%s\n", r.message);
	return EX_OK;
}

/* ---- groups made at run time (ops_group.h) ---- */

/*
 * In a cluster the leader makes the change (ops_remote.h) and keeps the
 * groups in etcd, whence every member's daemon takes them into its store.
 */
static int
group_remote(struct ctl *c, enum ops_remote_gop gop,
    const struct ops_group_spec *sp)
{
	struct ops_reply r;
	char leader[CL_NAME_MAX];

	ops_remote_group_command(c->cfg, gop, sp, 2 *
	    c->cfg->cluster.lease_ttl_ms + 1000, &r, leader, sizeof(leader));
	if (r.code != 0) {
		ctl_fail_line("group %s: %s: %s", ops_remote_gop_name(gop),
		    r.outcome ==
		    OPS_BAD_REQUEST ? "invalid" : "refused", r.message);
		return EX_FAIL;
	}
	printf("%s (applied by the leader %s)\n", r.message, leader);
	return EX_OK;
}

/* A group made at run time: its definition, state, address; its record
   too when it is still published. */
static int
group_delete_rt(struct ctl *c, const char *group)
{
	struct ops_reply r;
	char actor[ENG_ACTOR_MAX], addr[600];

	ops_actor_self(actor, sizeof(actor));
	if (c->cfg->cluster.enabled) {
		struct ops_group_spec sp = { .name = group, .actor = actor };

		return group_remote(c, OPS_RGROUP_DELETE, &sp);
	}
	if (ops_group_remove(c->st, c->cfg, group, false, actor, ctl_now_ms(),
	    addr, sizeof(addr), &r) != 0) {
		if (strcmp(r.reason, "published") != 0) {
			ctl_fail_line("group delete: refused: %s", r.message);
			return EX_FAIL;
		}
		if (record_remove(c, group, addr) != EX_OK)
			return EX_FAIL;
		if (ops_group_remove(c->st, c->cfg, group, true, actor,
		    ctl_now_ms(), addr, sizeof(addr), &r) != 0) {
			ctl_fail_line("group delete: record removed but %s",
			    r.message);
			return EX_FAIL;
		}
	}
	/*
	 * XXX: a running daemon lets go of the group at its next poll; a
	 * step it commits for the group before that would leave its state
	 * behind (group delete removes it then).  A group that points at no
	 * stack has none in flight.
	 */
	if (addr[0] != '\0' && ops_group_delete(c->st, c->cfg, group, addr,
	    ctl_now_ms(), &r) != 0) {
		ctl_fail_line("group delete: no longer defined, but %s", r.message);
		return EX_FAIL;
	}
	printf("%s\n", r.message);
	return EX_OK;
}

/* Wait a little for the daemon to allocate an auto address. */
#define ADDR_WAIT_MS	3000

/* group add GROUP ... | group set GROUP ... */
static int
group_change(struct ctl *c, int at)
{
	static const struct option lo[] = {
		{ "address", required_argument, NULL, 'a' },
		{ "primary", required_argument, NULL, 'p' },
		{ "backup", required_argument, NULL, 'b' },
		{ "ttl", required_argument, NULL, 't' },
		{ "no-primary", no_argument, NULL, 'P' },
		{ "no-backup", no_argument, NULL, 'B' },
		{ NULL, 0, NULL, 0 },
	};
	bool add = strcmp(c->argv[at], "add") == 0;
	struct ops_group_spec sp;
	struct ops_reply r;
	struct config *ncfg = NULL;
	char actor[ENG_ACTOR_MAX], addr[600], err[512];
	int ch, argc = c->argc - at;
	char **argv = c->argv + at;

	memset(&sp, 0, sizeof(sp));
	optind = 0;
	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (ch) {
		case 'a':
			if (!add)
				return ctl_verb_usage(c, "set: the address of a"
				    " group cannot change");
			sp.address = optarg;
			break;
		case 'p':
		case 'P':
			if (sp.set_primary || (ch == 'P' && add))
				return ctl_verb_usage(c, ch == 'P' ? "add: a new"
				    " group has no primary unless given" :
				    "give --primary once");
			sp.set_primary = true;
			sp.primary = ch == 'p' ? optarg : NULL;
			break;
		case 'b':
		case 'B':
			if (sp.set_backup || (ch == 'B' && add))
				return ctl_verb_usage(c, ch == 'B' ? "add: a new"
				    " group has no backup unless given" :
				    "give --backup once");
			sp.set_backup = true;
			sp.backup = ch == 'b' ? optarg : NULL;
			break;
		case 't':
			sp.set_ttl = true;
			sp.ttl = optarg;
			break;
		default:
			return ctl_verb_usage(c, NULL);
		}
	}
	if (argc - optind != 1)
		return ctl_verb_usage(c, "give one GROUP");
	sp.name = argv[optind];
	ops_actor_self(actor, sizeof(actor));
	sp.actor = actor;
	if (c->cfg->cluster.enabled)
		return group_remote(c, add ? OPS_RGROUP_ADD : OPS_RGROUP_SET,
		    &sp);
	if ((add ? ops_group_add(c->st, c->cfg, &sp, ctl_now_ms(), &r) :
	    ops_group_set(c->st, c->cfg, &sp, ctl_now_ms(), &r)) != 0) {
		ctl_fail_line("group %s: %s: %s", add ? "add" : "set",
		    r.outcome == OPS_BAD_REQUEST ? "invalid" : "refused",
		    r.message);
		return EX_FAIL;
	}
	printf("%s\n", r.message);
	if (!add || (sp.address != NULL && strcasecmp(sp.address, "auto") !=
	    0))
		return EX_OK;
	/* A running daemon takes it in within a poll and allocates. */
	if (ops_groups_config(c->st, c->cfg, &ncfg, err, sizeof(err)) != 0)
		return EX_OK;
	for (int64_t end = ctl_mono_ms() + ADDR_WAIT_MS; ctl_mono_ms() < end;
	    ctl_sleep_ms(FOLLOW_POLL_MS))
		if (ops_group_address(c->st, ncfg, sp.name, addr,
		    sizeof(addr)) == 0) {
			printf("%s: address %s\n", sp.name, addr);
			config_free(ncfg);
			return EX_OK;
		}
	printf("%s: address auto: allocated when failoverd takes the group"
	    " in (failoverctl group list shows it)\n", sp.name);
	config_free(ncfg);
	return EX_OK;
}

static int
group_list(struct ctl *c)
{
	char addr[600];

	printf("%-16s %-8s %-40s %-12s %-12s %s\n", "GROUP", "ORIGIN",
	    "ADDRESS", "PRIMARY", "BACKUP", "TTL");
	for (size_t i = 0; i < c->cfg->ngroup; i++) {
		const struct cfg_group *g = &c->cfg->groups[i];

		if (ops_group_address(c->st, c->cfg, g->name, addr,
		    sizeof(addr)) != 0)
			snprintf(addr, sizeof(addr), "auto (not allocated"
			    " yet)");
		printf("%-16s %-8s %-40s %-12s %-12s %us\n", g->name,
		    g->runtime ? "runtime" : "file", addr,
		    g->primary_name != NULL ? g->primary_name : "-",
		    g->backup_name != NULL ? g->backup_name : "-", g->ttl);
	}
	return EX_OK;
}

int
ctl_v_group(struct ctl *c)
{
	static const struct option lo[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	optind = 0;
	while ((ch = getopt_long(c->argc, c->argv, "+h", lo, NULL)) != -1) {
		if (ch == 'h')
			return ctl_verb_help(c);
		return ctl_verb_usage(c, NULL);
	}
	if (c->argc - optind < 1)
		return ctl_verb_usage(c, "give a subcommand: add, set, list or"
		    " delete");
	if (strcmp(c->argv[optind], "list") == 0)
		return c->argc - optind != 1 ? ctl_verb_usage(c, "list takes no"
		    " argument") : group_list(c);
	if (strcmp(c->argv[optind], "add") == 0 ||
	    strcmp(c->argv[optind], "set") == 0)
		return group_change(c, optind);
	if (strcmp(c->argv[optind], "delete") != 0)
		return ctl_verb_usage(c, "unknown subcommand");
	if (c->argc - optind != 2)
		return ctl_verb_usage(c, "give one GROUP");
	{
		const struct cfg_group *cg = config_group_find(c->cfg,
		    c->argv[optind + 1]);

		if (cg != NULL && cg->runtime)
			return group_delete_rt(c, c->argv[optind + 1]);
	}
	return group_delete(c, c->argv[optind + 1]);
}
