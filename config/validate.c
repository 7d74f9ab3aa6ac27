/*
 * validate.c - the second pass of config_load(): required keys, defaults
 * that depend on other keys, and the rules between keys and sections.
 *
 * Each value has been parsed alone by then; a value that failed is left at
 * its default, and its key still counts as set, so one mistake gives one
 * error rather than a cascade.  Rules that need a value that failed (the
 * zone, for a group's address) are skipped.
 *
 * timeout >= interval is accepted (HAProxy's semantics: the next check
 * waits for the running one); fastinter > interval is refused.
 *
 * Derived defaults (documented in failoverd.conf(5)):
 *   fastinter = min(interval, 200ms)
 *   downinter = max(5s, interval)
 *   timeout   = min(2s, interval / 2)
 *   standby_expect_status = expect_status
 *   controller name = the host name up to its first dot
 */
#include "config/config.h"

#include <sys/socket.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "config/cfg_int.h"

static void	 check_required(struct cfg_loader *, const struct cfg_sect *);
static void	 check_controller(struct cfg_loader *);
static void	 check_stack(struct cfg_loader *, const struct cfg_sect *);
static void	 check_group(struct cfg_loader *, const struct cfg_sect *);
static void	 check_addresses(struct cfg_loader *);

static const char *const required[][4] = {
	[CFG_S_CONTROLLER] = { NULL },
	[CFG_S_DNS] = { "server", "zone", "key_file", NULL },
	[CFG_S_CLUSTER] = { "etcd", "member", NULL },
	[CFG_S_STACK] = { "web_head", "health_url", NULL },
	[CFG_S_GROUP] = { "address", NULL },
};

static void
fmt_ms(int64_t ms, char *buf, size_t len)
{
	if (ms % 1000 == 0)
		snprintf(buf, len, "%llds", (long long)(ms / 1000));
	else
		snprintf(buf, len, "%lldms", (long long)ms);
}

static void
check_required(struct cfg_loader *ld, const struct cfg_sect *s)
{
	char label[128];

	for (size_t i = 0; required[s->kind][i] != NULL; i++) {
		const char *key = required[s->kind][i];

		if (cfg_seen(s, key) == 0)
			cfg_err_at(ld, s->line, key, "required key is missing "
			    "from %s", cfg_sect_label(ld, s, label,
			    sizeof(label)));
	}
}

/* 127.0.0.0/8 or ::1 (also as ::ffff:127.x.y.z). */
static bool
is_loopback(const struct cfg_hostport *hp)
{
	if (hp->family == AF_INET)
		return strncmp(hp->host, "127.", 4) == 0;
	return strcmp(hp->host, "::1") == 0 ||
	    strncasecmp(hp->host, "::ffff:127.", 11) == 0;
}

static void
check_controller(struct cfg_loader *ld)
{
	struct cfg_controller *c = &ld->cfg->controller;
	const struct cfg_sect *cs = ld->ctl_sect >= 0 ?
	    &ld->sects[ld->ctl_sect] : NULL;
	char host[256], why[CFG_WHY];

	/* The store is written as root: no one else may touch the way. */
	if (c->state_dir != NULL && cfg_dir_check(c->state_dir, why,
	    sizeof(why)) == -1)
		cfg_err_at(ld, cs != NULL && cfg_seen(cs, "state_dir") ?
		    cfg_seen(cs, "state_dir") : cs != NULL ? cs->line : 0,
		    "state_dir", "%s", why);
	/*
	 * Reachable from other hosts, the API would take changes from anyone
	 * there who finds it; with no token it takes none, which is not what
	 * such a listen asks for.
	 */
	if (c->listen_enabled && !is_loopback(&c->listen) &&
	    c->api_token_file == NULL)
		cfg_err_at(ld, cs != NULL && cfg_seen(cs, "listen") ?
		    cfg_seen(cs, "listen") : cs != NULL ? cs->line : 0,
		    "listen", "%s is not a loopback address: set "
		    "api_token_file, or listen on 127.0.0.1", c->listen.host);
	if (c->name != NULL)
		return;
	if (gethostname(host, sizeof(host)) == -1)
		host[0] = '\0';
	host[sizeof(host) - 1] = '\0';
	host[strcspn(host, ".")] = '\0';
	if (!cfg_valid_ident(host)) {
		cfg_err_at(ld, ld->ctl_sect >= 0 ?
		    ld->sects[ld->ctl_sect].line : 0, "name",
		    "the host name '%.64s' is not a valid controller name; "
		    "set name in [controller]", host);
		return;
	}
	if ((c->name = strdup(host)) == NULL)
		ld->oom = true;
}

static void
check_stack(struct cfg_loader *ld, const struct cfg_sect *sc)
{
	struct cfg_stack *s = &ld->cfg->stacks[sc->idx];
	char a[32], b[32];
	int line;

	if (cfg_seen(sc, "fastinter") == 0)
		s->fastinter_ms = s->interval_ms < 200 ? s->interval_ms : 200;
	if (cfg_seen(sc, "downinter") == 0)
		s->downinter_ms = s->interval_ms > 5000 ? s->interval_ms : 5000;
	if (cfg_seen(sc, "timeout") == 0)
		s->timeout_ms = s->interval_ms / 2 < 2000 ?
		    s->interval_ms / 2 : 2000;
	if (cfg_seen(sc, "standby_expect_status") == 0)
		s->standby_expect_status = s->expect_status;

	if (s->fastinter_ms > s->interval_ms) {
		line = cfg_seen(sc, "fastinter");
		fmt_ms(s->fastinter_ms, a, sizeof(a));
		fmt_ms(s->interval_ms, b, sizeof(b));
		cfg_err_at(ld, line ? line : sc->line, "fastinter",
		    "fastinter (%s) must not be longer than interval (%s%s)",
		    a, b, cfg_seen(sc, "interval") ? "" : ", the default");
	}
	/*
	 * timeout may be longer than interval, as HAProxy's `timeout check`
	 * may exceed `inter`: a stack never has two checks in flight, the
	 * next one starts at the later of its planned time and the end of
	 * the running one (probe.c).
	 */
}

/* Resolve a group's address against the zone: label, FQDN or auto. */
static void
resolve_address(struct cfg_loader *ld, const struct cfg_sect *sc,
    struct cfg_group *g)
{
	const char *zone = ld->cfg->dns.zone, *raw = g->address;
	int line = cfg_seen(sc, "address");
	char *abs;

	if (g->address_auto || raw == NULL || zone == NULL)
		return;
	if (strchr(raw, '.') == NULL) {
		/* A label: relative to the zone. */
		if (asprintf(&abs, "%s.%s", raw, zone) == -1) {
			ld->oom = true;
			return;
		}
		for (char *p = abs; *p != '\0'; p++)
			if (*p >= 'A' && *p <= 'Z')
				*p = (char)(*p - 'A' + 'a');
		if (strlen(abs) > 254) {
			cfg_err_at(ld, line, "address", "%s is longer than 253 "
			    "characters", abs);
			free(abs);
			return;
		}
	} else if ((abs = cfg_dname_abs(raw)) == NULL) {
		ld->oom = true;
		return;
	}
	if (!cfg_dname_in_zone(abs, zone)) {
		cfg_err_at(ld, line, "address", "%s is not inside zone %s "
		    "(give a label, or a name ending in the zone)", abs, zone);
		free(abs);
		return;
	}
	if (strcasecmp(abs, zone) == 0) {
		cfg_err_at(ld, line, "address", "%s is the zone's apex, which "
		    "cannot hold a CNAME; use a name inside the zone", abs);
		free(abs);
		return;
	}
	free(g->address);
	g->address = abs;
}

static int
stack_ref(struct cfg_loader *ld, const struct cfg_sect *sc, const char *key,
    const char *name)
{
	int i;

	if (name == NULL)
		return -1;
	if ((i = config_stack_index(ld->cfg, name)) < 0)
		cfg_err_at(ld, cfg_seen(sc, key), key, "no [stack %s] is "
		    "defined", name);
	return i;
}

static void
check_group(struct cfg_loader *ld, const struct cfg_sect *sc)
{
	struct cfg_group *g = &ld->cfg->groups[sc->idx];

	resolve_address(ld, sc, g);
	g->primary = stack_ref(ld, sc, "primary", g->primary_name);
	g->backup = stack_ref(ld, sc, "backup", g->backup_name);
	if (g->backup_name != NULL && g->primary_name == NULL)
		cfg_err_at(ld, cfg_seen(sc, "backup"), "backup", "a backup "
		    "needs a primary: set primary in [group %s]", g->name);
	if (g->primary_name != NULL && g->backup_name != NULL &&
	    strcmp(g->primary_name, g->backup_name) == 0)
		cfg_err_at(ld, cfg_seen(sc, "backup"), "backup", "the same "
		    "stack as primary (%s)", g->primary_name);
	if (g->suspect_ttl > g->ttl) {
		int line = cfg_seen(sc, "suspect_ttl");

		cfg_err_at(ld, line ? line : sc->line, "suspect_ttl",
		    "suspect_ttl (%us) must not be longer than ttl (%us%s)",
		    g->suspect_ttl, g->ttl, cfg_seen(sc, "ttl") ? "" :
		    ", the default");
	}
}

/* Two groups may not share one address. */
static void
check_addresses(struct cfg_loader *ld)
{
	struct config *cfg = ld->cfg;
	struct cfg_names seen = { .nocase = true };

	for (size_t i = 0; i < ld->nsect; i++) {
		const struct cfg_sect *a = &ld->sects[i];
		const struct cfg_group *ga, *gb;
		size_t first;
		int rc;

		if (a->kind != CFG_S_GROUP)
			continue;
		ga = &cfg->groups[a->idx];
		if (ga->address == NULL || ga->address_auto ||
		    ga->address[strlen(ga->address) - 1] != '.')
			continue;
		if ((rc = cfg_names_put(&seen, ga->address, i, &first)) == -1) {
			ld->oom = true;
			break;
		}
		if (rc == 0)
			continue;
		gb = &cfg->groups[ld->sects[first].idx];
		cfg_err_at(ld, cfg_seen(a, "address"), "address",
		    "%s is already the address of group %s (line %d)",
		    ga->address, gb->name, cfg_seen(&ld->sects[first],
		    "address"));
	}
	cfg_names_clear(&seen);
}

void
cfg_validate(struct cfg_loader *ld)
{
	if (ld->dns_sect < 0)
		cfg_err_at(ld, 0, "[dns]", "required section is missing "
		    "(it needs server, zone and key_file)");
	check_controller(ld);
	for (size_t i = 0; i < ld->nsect; i++) {
		const struct cfg_sect *s = &ld->sects[i];

		check_required(ld, s);
		if (s->kind == CFG_S_STACK)
			check_stack(ld, s);
		else if (s->kind == CFG_S_GROUP)
			check_group(ld, s);
	}
	check_addresses(ld);
	cfg_check_cluster(ld);
}
