/*
 * cluster.c - the values of [cluster] and of [controller] source_address,
 * and the rules between them and the rest (DESIGN.md "Cluster").
 *
 * [cluster] (all of it optional as a section; without it nothing here is
 * set and failoverd runs alone):
 *   etcd       http(s)://HOST[:PORT], no path, query or credentials;
 *              repeatable, 1 .. CFG_CLUSTER_MAX_ETCD, no two alike;
 *              required.  The form cluster/cl.c accepts (it appends the
 *              /v3/... paths itself).
 *   member     a name as for [stack NAME] (no '/': it is a path segment of
 *              the etcd keys members/NAME and verdicts/NAME/STACK);
 *              required, with no default: two hosts whose names share the
 *              part before the first dot must not become one member.
 *   prefix     /SEGMENT/.../ of [A-Za-z0-9._-], at most
 *              CFG_CLUSTER_PREFIX_MAX bytes; a missing final '/' is added,
 *              so that /failoverd and /failoverd-test never overlap in a
 *              prefix range.  Default /failoverd/.
 *   lease_ttl  whole seconds (etcd grants leases in seconds), 2s .. 5m.
 *              2s is etcd's own minimum with its default election timeout
 *              (it raises any shorter grant to 3 * election ticks / 2 *
 *              heartbeat = 1.5 s, rounded up); past 5 m a dead leader would
 *              leave the groups unattended longer than any failover it is
 *              there to make.  Default 10s.
 *   quorum     majority | all | N (1 .. CFG_CLUSTER_MAX_QUORUM).
 *   advertise  http(s) URL of this member's API, optional; refused when
 *              [controller] listen = off (there would be nothing there).
 *
 * source_address is a numeric IPv4 or IPv6 address of this host: the
 * unspecified, multicast, broadcast, IPv4-mapped and IPv6 link-local
 * (which needs an interface to mean anything) forms are refused, and the
 * address must be one of this host's (getifaddrs(3), read only; an address
 * inside the network of a loopback interface counts, since Linux routes
 * all of 127.0.0.0/8 to lo: 127.0.0.11 is a valid source with only
 * 127.0.0.1/8 configured).  The simulator (CONFIG_SIMULATION) sends
 * nothing and skips that last check, so a member's file can be simulated
 * on another host.  A stack whose health_url names an address literal of
 * the other family could never be probed from it: refused too.
 */
#include "config/config.h"

#include <sys/socket.h>
#include <sys/types.h>

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config/cfg_int.h"

/* [cluster] etcd: one more client URL. */
int
cfg_p_etcd(struct cfg_loader *ld, const struct cfg_keydef *kd, void *base,
    const char *val, char *why, size_t len)
{
	struct cfg_cluster *c = base;
	const char *host, *rest;
	char **v, *s;
	size_t n;

	if (cfg_url_check(val, why, len) == -1)
		return -1;
	host = strstr(val, "://") + 3;
	rest = host + strcspn(host, "/?#");
	if (*rest != '\0' && strcmp(rest, "/") != 0) {
		cfg_why(why, len, "'%s': expected http://HOST:PORT, with no "
		    "path (the etcd client URL, as etcd's "
		    "--advertise-client-urls gives it)", val);
		return -1;
	}
	if (c->netcd >= CFG_CLUSTER_MAX_ETCD) {
		cfg_why(why, len, "more than %d etcd URLs", CFG_CLUSTER_MAX_ETCD);
		return -1;
	}
	n = (size_t)(rest - val);
	for (size_t i = 0; i < c->netcd; i++) {
		if (strlen(c->etcd[i]) == n &&
		    strncasecmp(c->etcd[i], val, n) == 0) {
			cfg_why(why, len, "%.*s is listed twice", (int)n, val);
			return -1;
		}
	}
	if ((v = reallocarray(c->etcd, c->netcd + 2, sizeof(*v))) == NULL ||
	    (c->etcd = v, (s = strndup(val, n)) == NULL)) {
		ld->oom = true;
		return 0;
	}
	v[c->netcd++] = s;
	v[c->netcd] = NULL;
	return 0;
}

/* [cluster] prefix. */
int
cfg_p_prefix(struct cfg_loader *ld, const struct cfg_keydef *kd, void *base,
    const char *val, char *why, size_t len)
{
	struct cfg_cluster *c = base;
	size_t n = strlen(val);
	char *s;

	if (val[0] != '/') {
		cfg_why(why, len, "'%s' does not start with '/' (e.g. "
		    "/failoverd/)", val);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)val[i];

		if (ch == '/' && i + 1 < n && val[i + 1] == '/') {
			cfg_why(why, len, "'%s' has an empty segment ('//')",
			    val);
			return -1;
		}
		if (ch != '/' && !isalnum(ch) && ch != '.' && ch != '_' &&
		    ch != '-') {
			cfg_why(why, len, "'%s': expected segments of letters, "
			    "digits, '.', '_' or '-' between '/'", val);
			return -1;
		}
	}
	if (n + (val[n - 1] != '/') > CFG_CLUSTER_PREFIX_MAX) {
		cfg_why(why, len, "longer than %d bytes",
		    CFG_CLUSTER_PREFIX_MAX);
		return -1;
	}
	if (asprintf(&s, "%s%s", val, val[n - 1] == '/' ? "" : "/") == -1) {
		ld->oom = true;
		return 0;
	}
	free(c->prefix);
	c->prefix = s;
	return 0;
}

/* [cluster] lease_ttl: bounds in the table, whole seconds here. */
int
cfg_p_lease_ttl(struct cfg_loader *ld, const struct cfg_keydef *kd,
    void *base, const char *val, char *why, size_t len)
{
	struct cfg_cluster *c = base;
	int64_t ms;

	if (cfg_parse_duration(val, &ms) == -1) {
		cfg_why(why, len, "'%s' is not a duration: expected whole "
		    "seconds with a unit (e.g. 10s, 1m)", val);
		return -1;
	}
	if (ms % 1000 != 0) {
		cfg_why(why, len, "%s is not a whole number of seconds (etcd "
		    "grants leases in seconds)", val);
		return -1;
	}
	if (ms < kd->min || ms > kd->max) {
		cfg_why(why, len, "%s is out of range (%llds to %lldm)", val,
		    (long long)(kd->min / 1000), (long long)(kd->max / 60000));
		return -1;
	}
	c->lease_ttl_ms = ms;
	return 0;
}

/* [cluster] quorum. */
int
cfg_p_quorum(struct cfg_loader *ld, const struct cfg_keydef *kd, void *base,
    const char *val, char *why, size_t len)
{
	struct cfg_cluster *c = base;
	char *end;
	long n;

	if (strcasecmp(val, "majority") == 0) {
		c->quorum.kind = CFG_QUORUM_MAJORITY;
		c->quorum.n = 0;
		return 0;
	}
	if (strcasecmp(val, "all") == 0) {
		c->quorum.kind = CFG_QUORUM_ALL;
		c->quorum.n = 0;
		return 0;
	}
	errno = 0;
	n = strtol(val, &end, 10);
	if (!isdigit((unsigned char)val[0]) || *end != '\0' || errno != 0 ||
	    n < 1 || n > CFG_CLUSTER_MAX_QUORUM) {
		cfg_why(why, len, "'%s': expected majority, all, or a number "
		    "of members from 1 to %d", val, CFG_CLUSTER_MAX_QUORUM);
		return -1;
	}
	c->quorum.kind = CFG_QUORUM_COUNT;
	c->quorum.n = (int)n;
	return 0;
}

const char *
cfg_quorum_name(const struct cfg_quorum *q, char *buf, size_t len)
{
	switch (q->kind) {
	case CFG_QUORUM_MAJORITY:
		return "majority";
	case CFG_QUORUM_ALL:
		return "all";
	default:
		snprintf(buf, len, "%d", q->n);
		return buf;
	}
}

/*
 * Whether a (in network order, of family af) is an address of this host:
 * -1 with why when the interfaces cannot be listed.
 */
static int
is_local(int af, const unsigned char *a, char *why, size_t len)
{
	struct ifaddrs *ifs, *i;
	int found = 0;

	if (getifaddrs(&ifs) == -1) {
		cfg_why(why, len, "cannot list this host's addresses: %s",
		    strerror(errno));
		return -1;
	}
	for (i = ifs; i != NULL && !found; i = i->ifa_next) {
		if (i->ifa_addr == NULL || i->ifa_addr->sa_family != af)
			continue;
		if (af == AF_INET) {
			struct sockaddr_in *sa = (void *)i->ifa_addr;
			struct sockaddr_in *nm = (void *)i->ifa_netmask;
			uint32_t want, have, mask;

			memcpy(&want, a, 4);
			have = sa->sin_addr.s_addr;
			mask = nm != NULL ? nm->sin_addr.s_addr : 0xffffffffu;
			if (want == have)
				found = 1;
			/* lo's network is routed to lo whole. */
			else if ((i->ifa_flags & IFF_LOOPBACK) &&
			    (want & mask) == (have & mask))
				found = 1;
		} else {
			struct sockaddr_in6 *sa = (void *)i->ifa_addr;

			if (memcmp(&sa->sin6_addr, a, 16) == 0)
				found = 1;
		}
	}
	freeifaddrs(ifs);
	return found;
}

/* [controller] source_address. */
int
cfg_p_source(struct cfg_loader *ld, const struct cfg_keydef *kd, void *base,
    const char *val, char *why, size_t len)
{
	struct cfg_controller *c = base;
	unsigned char a[16];
	char canon[64], *s;
	int af, rc;

	if (!cfg_ip_literal(val, &af, canon) || inet_pton(af, canon, a) != 1) {
		cfg_why(why, len, "'%s' is not a numeric IPv4 or IPv6 address "
		    "(the local address probes are sent from)", val);
		return -1;
	}
	if (af == AF_INET) {
		if (a[0] == 0 && a[1] == 0 && a[2] == 0 && a[3] == 0) {
			cfg_why(why, len, "%s is the unspecified address: "
			    "remove the line to let the system choose", val);
			return -1;
		}
		if ((a[0] & 0xf0) == 0xe0 || memcmp(a, "\xff\xff\xff\xff", 4)
		    == 0) {
			cfg_why(why, len, "%s is a multicast or broadcast "
			    "address, not a host's", val);
			return -1;
		}
	} else {
		static const unsigned char mapped[12] =
		    { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
		static const unsigned char zero[16];

		if (memcmp(a, zero, 16) == 0) {
			cfg_why(why, len, "%s is the unspecified address: "
			    "remove the line to let the system choose", val);
			return -1;
		}
		if (a[0] == 0xff) {
			cfg_why(why, len, "%s is a multicast address, not a "
			    "host's", val);
			return -1;
		}
		if (memcmp(a, mapped, 12) == 0) {
			cfg_why(why, len, "%s is an IPv4-mapped address: give "
			    "the IPv4 address %u.%u.%u.%u", val, a[12], a[13],
			    a[14], a[15]);
			return -1;
		}
		if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80) {
			cfg_why(why, len, "%s is link-local, which needs an "
			    "interface to mean anything: give a global or "
			    "unique local address", val);
			return -1;
		}
	}
	if (!(ld->flags & CONFIG_SIMULATION)) {
		if ((rc = is_local(af, a, why, len)) == -1)
			return -1;
		if (rc == 0) {
			cfg_why(why, len, "%s is not an address of this host "
			    "(probes could not be sent from it)", val);
			return -1;
		}
	}
	if ((s = strdup(canon)) == NULL) {
		ld->oom = true;
		return 0;
	}
	free(c->source_address);
	c->source_address = s;
	c->source_family = af;
	return 0;
}

/* The family of the address literal a URL's host is, or 0 for a name. */
static int
url_host_family(const char *url)
{
	const char *host = strstr(url, "://"), *end;
	char buf[64];
	size_t n;
	int af;

	if (host == NULL)
		return 0;
	host += 3;
	end = host + strcspn(host, "/?#");
	if (*host == '[') {
		const char *close = memchr(host, ']', (size_t)(end - host));

		if (close == NULL)
			return 0;
		host++;
		n = (size_t)(close - host);
	} else
		n = strcspn(host, ":/?#");
	if (n == 0 || n >= sizeof(buf))
		return 0;
	memcpy(buf, host, n);
	buf[n] = '\0';
	return cfg_ip_literal(buf, &af, NULL) ? af : 0;
}

void
cfg_check_cluster(struct cfg_loader *ld)
{
	const struct config *cfg = ld->cfg;
	const struct cfg_controller *ctl = &cfg->controller;
	const struct cfg_sect *cs;
	int line;

	if (ctl->source_address != NULL) {
		for (size_t i = 0; i < ld->nsect; i++) {
			const struct cfg_sect *s = &ld->sects[i];
			const struct cfg_stack *st;
			int af;

			if (s->kind != CFG_S_STACK)
				continue;
			st = &cfg->stacks[s->idx];
			if (st->health_url == NULL ||
			    (af = url_host_family(st->health_url)) == 0 ||
			    af == ctl->source_family)
				continue;
			cfg_err_at(ld, cfg_seen(s, "health_url"), "health_url",
			    "%s is an %s address, but [controller] "
			    "source_address %s is %s: it cannot be probed "
			    "from there", st->health_url, af == AF_INET ?
			    "IPv4" : "IPv6", ctl->source_address,
			    ctl->source_family == AF_INET ? "IPv4" : "IPv6");
		}
	}
	if (ld->cluster_sect < 0)
		return;
	cs = &ld->sects[ld->cluster_sect];
	if ((line = cfg_seen(cs, "advertise")) != 0 && !ctl->listen_enabled)
		cfg_err_at(ld, line, "advertise", "[controller] listen is off: "
		    "there is no API to reach at %s", cfg->cluster.advertise ?
		    cfg->cluster.advertise : "it");
}
