/*
 * keys.c - the grammar of the configuration: one table per section of
 * {key, parser, field, flags, bounds}, and the parser of each kind of
 * value.
 *
 * A new key is a new row here, a field in config.h, a default in
 * config.c (or a derived one in validate.c), and an entry in
 * failoverd.conf(5); test_config_check.sh fails until the man page and the
 * example show it.  A parser gets the section's struct as base and writes
 * base + off; it returns 0, or -1 with the reason in why.  Out of memory
 * sets ld->oom and returns 0: config_load() reports it once.
 */
#include "config/config.h"

#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "config/cfg_int.h"

static int	 p_path(struct cfg_loader *, const struct cfg_keydef *, void *,
		    const char *, char *, size_t);
static int	 p_listen(struct cfg_loader *, const struct cfg_keydef *, void *,
		    const char *, char *, size_t);
static int	 p_token_file(struct cfg_loader *, const struct cfg_keydef *,
		    void *, const char *, char *, size_t);
static int	 p_api_host(struct cfg_loader *, const struct cfg_keydef *,
		    void *, const char *, char *, size_t);
static int	 p_witness(struct cfg_loader *, const struct cfg_keydef *, void *,
		    const char *, char *, size_t);
static int	 p_bool(struct cfg_loader *, const struct cfg_keydef *, void *,
		    const char *, char *, size_t);
static int	 p_ident(struct cfg_loader *, const struct cfg_keydef *, void *,
		    const char *, char *, size_t);
static int	 p_size(struct cfg_loader *, const struct cfg_keydef *, void *,
		    const char *, char *, size_t);
static int	 p_loglevel(struct cfg_loader *, const struct cfg_keydef *, void *,
		    const char *, char *, size_t);
static int	 p_server(struct cfg_loader *, const struct cfg_keydef *, void *,
		    const char *, char *, size_t);
static int	 p_confirm(struct cfg_loader *, const struct cfg_keydef *, void *,
		    const char *, char *, size_t);
static int	 p_zone(struct cfg_loader *, const struct cfg_keydef *, void *,
		    const char *, char *, size_t);
static int	 p_keyfile(struct cfg_loader *, const struct cfg_keydef *, void *,
		    const char *, char *, size_t);
static int	 p_duration(struct cfg_loader *, const struct cfg_keydef *, void *,
		    const char *, char *, size_t);
static int	 p_int(struct cfg_loader *, const struct cfg_keydef *, void *,
		    const char *, char *, size_t);
static int	 p_webhead(struct cfg_loader *, const struct cfg_keydef *, void *,
		    const char *, char *, size_t);
static int	 p_url(struct cfg_loader *, const struct cfg_keydef *, void *,
		    const char *, char *, size_t);
static int	 p_text(struct cfg_loader *, const struct cfg_keydef *, void *,
		    const char *, char *, size_t);
static int	 p_word(struct cfg_loader *, const struct cfg_keydef *, void *,
		    const char *, char *, size_t);
static int	 p_status(struct cfg_loader *, const struct cfg_keydef *, void *,
		    const char *, char *, size_t);
static int	 p_file(struct cfg_loader *, const struct cfg_keydef *, void *,
		    const char *, char *, size_t);
static int	 p_hook(struct cfg_loader *, const struct cfg_keydef *, void *,
		    const char *, char *, size_t);
static int	 p_address(struct cfg_loader *, const struct cfg_keydef *, void *,
		    const char *, char *, size_t);
static int	 p_ttl(struct cfg_loader *, const struct cfg_keydef *, void *,
		    const char *, char *, size_t);
static int	 p_transport(struct cfg_loader *, const struct cfg_keydef *,
		    void *, const char *, char *, size_t);

#define MS(x)	((int64_t)(x))
#define SEC(x)	((int64_t)(x) * 1000)
#define DAY	(SEC(86400))

#define C(f)	offsetof(struct cfg_controller, f)
static const struct cfg_keydef ctl_keys[] = {
	{ "state_dir",		p_path,		C(state_dir),	0, 0, 0 },
	{ "listen",		p_listen,	C(listen),	0, 0, 0 },
	{ "api_token_file",	p_token_file,	C(api_token_file), 0, 0, 0 },
	{ "api_host",		p_api_host,	C(api_host),	CFG_KF_REPEAT, 0, 0 },
	{ "api_max_connections", p_int,		C(api_max_connections), 0, 1,
	    10000 },
	{ "witness",		p_witness,	C(witness),	CFG_KF_REPEAT, 0, 0 },
	{ "isolation_check",	p_bool,		C(isolation_check), 0, 0, 0 },
	{ "name",		p_ident,	C(name),	0, 0, 0 },
	{ "map_size",		p_size,		C(map_size),	0, 1 << 20,
	    (int64_t)1 << 40 },
	{ "log_level",		p_loglevel,	C(log_level),	0, 0, 0 },
	{ "request_ttl",	p_duration,	C(request_ttl_ms), 0, SEC(1),
	    DAY },
	{ "source_address",	cfg_p_source,	C(source_address), 0, 0, 0 },
};
#undef C

/* The values are parsed in cluster.c, which says why these bounds. */
#define K(f)	offsetof(struct cfg_cluster, f)
static const struct cfg_keydef cluster_keys[] = {
	{ "etcd",		cfg_p_etcd,	K(etcd),	CFG_KF_REQ | CFG_KF_REPEAT,
	    0, 0 },
	{ "member",		p_ident,	K(member),	CFG_KF_REQ, 0, 0 },
	{ "prefix",		cfg_p_prefix,	K(prefix),	0, 0, 0 },
	{ "lease_ttl",		cfg_p_lease_ttl, K(lease_ttl_ms), 0, SEC(2),
	    SEC(300) },
	{ "quorum",		cfg_p_quorum,	K(quorum),	0, 0, 0 },
	{ "advertise",		p_url,		K(advertise),	0, 0, 0 },
};
#undef K

#define D(f)	offsetof(struct cfg_dns, f)
static const struct cfg_keydef dns_keys[] = {
	{ "server",		p_server,	D(server),	CFG_KF_REQ | CFG_KF_REPEAT,
	    0, 0 },
	{ "zone",		p_zone,		D(zone),	CFG_KF_REQ, 0, 0 },
	{ "key_file",		p_keyfile,	D(key_file),	CFG_KF_REQ, 0, 0 },
	{ "timeout",		p_duration,	D(timeout_ms),	0, MS(10),
	    SEC(60) },
	{ "retries",		p_int,		D(retries),	0, 0, 10 },
	{ "verify_interval",	p_duration,	D(verify_interval_ms), 0,
	    SEC(1), DAY },
	{ "confirm",		p_confirm,	D(confirm),	CFG_KF_REPEAT, 0, 0 },
	{ "prereq",		p_bool,		D(prereq),	0, 0, 0 },
	{ "transport",		p_transport,	D(transport),	0, 0, 0 },
};
#undef D

#define S(f)	offsetof(struct cfg_stack, f)
static const struct cfg_keydef stack_keys[] = {
	{ "web_head",		p_webhead,	S(web_head),	CFG_KF_REQ, 0, 0 },
	{ "health_url",		p_url,		S(health_url),	CFG_KF_REQ, 0, 0 },
	{ "health_host",	p_word,		S(health_host),	0, 0, 0 },
	{ "expect_status",	p_status,	S(expect_status), 0, 0, 0 },
	{ "standby_expect_status", p_status,	S(standby_expect_status), 0,
	    0, 0 },
	{ "expect_body",	p_text,		S(expect_body),	0, 0, 0 },
	{ "interval",		p_duration,	S(interval_ms),	0, MS(10),
	    DAY },
	{ "fastinter",		p_duration,	S(fastinter_ms), 0, MS(10),
	    DAY },
	{ "downinter",		p_duration,	S(downinter_ms), 0, MS(10),
	    DAY },
	{ "timeout",		p_duration,	S(timeout_ms),	0, MS(1),
	    DAY },
	{ "rise",		p_int,		S(rise),	0, 1, 1000 },
	{ "fall",		p_int,		S(fall),	0, 1, 1000 },
	{ "tls_verify",		p_bool,		S(tls_verify),	0, 0, 0 },
	{ "ca_file",		p_file,		S(ca_file),	0, 0, 0 },
	{ "maintenance_on",	p_hook,		S(maintenance_on), 0, 0, 0 },
	{ "maintenance_off",	p_hook,		S(maintenance_off), 0, 0, 0 },
	{ "replication_off",	p_hook,		S(replication_off), 0, 0, 0 },
	{ "promote",		p_hook,		S(promote),	0, 0, 0 },
	{ "precheck",		p_hook,		S(precheck),	0, 0, 0 },
	{ "hook_timeout",	p_duration,	S(hook_timeout_ms), 0, MS(100),
	    DAY },
};
#undef S

#define G(f)	offsetof(struct cfg_group, f)
static const struct cfg_keydef group_keys[] = {
	{ "address",		p_address,	G(address),	CFG_KF_REQ, 0, 0 },
	{ "primary",		p_ident,	G(primary_name), 0, 0, 0 },
	{ "backup",		p_ident,	G(backup_name),	0, 0, 0 },
	{ "ttl",		p_ttl,		G(ttl),		0, 1, 2147483647 },
	{ "suspect_ttl",	p_ttl,		G(suspect_ttl),	0, 1,
	    2147483647 },
	{ "auto_failover",	p_bool,		G(auto_failover), 0, 0, 0 },
	{ "hold_down",		p_duration,	G(hold_down_ms), 0, 0, DAY * 30 },
	{ "adopt",		p_bool,		G(adopt),	0, 0, 0 },
	{ "on_status_change",	p_hook,		G(on_status_change), 0, 0, 0 },
	{ "restore_on_abort",	p_bool,		G(restore_on_abort), 0, 0, 0 },
};
#undef G

#define NKEYS(t)	(sizeof(t) / sizeof((t)[0]))

static const struct cfg_sectdef sectdefs[CFG_S_NKIND] = {
	[CFG_S_CONTROLLER] = { "controller", false, ctl_keys, NKEYS(ctl_keys) },
	[CFG_S_DNS] = { "dns", false, dns_keys, NKEYS(dns_keys) },
	[CFG_S_CLUSTER] = { "cluster", false, cluster_keys,
	    NKEYS(cluster_keys) },
	[CFG_S_STACK] = { "stack", true, stack_keys, NKEYS(stack_keys) },
	[CFG_S_GROUP] = { "group", true, group_keys, NKEYS(group_keys) },
};

_Static_assert(NKEYS(ctl_keys) <= CFG_MAX_KEYS, "too many keys");
_Static_assert(NKEYS(dns_keys) <= CFG_MAX_KEYS, "too many keys");
_Static_assert(NKEYS(cluster_keys) <= CFG_MAX_KEYS, "too many keys");
_Static_assert(NKEYS(stack_keys) <= CFG_MAX_KEYS, "too many keys");
_Static_assert(NKEYS(group_keys) <= CFG_MAX_KEYS, "too many keys");

const struct cfg_sectdef *
cfg_sectdef(enum cfg_sect_kind kind)
{
	return &sectdefs[kind];
}

int
cfg_key_index(enum cfg_sect_kind kind, const char *key)
{
	const struct cfg_sectdef *sd = &sectdefs[kind];

	for (size_t i = 0; i < sd->nkeys; i++)
		if (strcmp(sd->keys[i].key, key) == 0)
			return (int)i;
	return -1;
}

int
cfg_seen(const struct cfg_sect *s, const char *key)
{
	int i = cfg_key_index(s->kind, key);

	return i < 0 ? 0 : s->seen[i];
}

bool
config_key_at(size_t i, const char **section, const char **key)
{
	for (size_t k = 0; k < NKEYS(sectdefs); k++) {
		if (i < sectdefs[k].nkeys) {
			*section = sectdefs[k].name;
			*key = sectdefs[k].keys[i].key;
			return true;
		}
		i -= sectdefs[k].nkeys;
	}
	return false;
}

/* Value parsers: field is base + off. */

#define FIELD(type)	((type)(void *)((char *)base + kd->off))

static int
set_string(struct cfg_loader *ld, char **dst, const char *val)
{
	char *s = strdup(val);

	if (s == NULL) {
		ld->oom = true;
		return 0;
	}
	free(*dst);
	*dst = s;
	return 0;
}

static int
p_path(struct cfg_loader *ld, const struct cfg_keydef *kd, void *base,
    const char *val, char *why, size_t len)
{
	if (val[0] != '/') {
		cfg_why(why, len, "'%s' is not an absolute path", val);
		return -1;
	}
	if (cfg_has_space(val)) {
		cfg_why(why, len, "path holds a blank or control character");
		return -1;
	}
	return set_string(ld, FIELD(char **), val);
}

static int
p_listen(struct cfg_loader *ld, const struct cfg_keydef *kd, void *base,
    const char *val, char *why, size_t len)
{
	struct cfg_controller *c = base;

	if (strcasecmp(val, "off") == 0) {
		c->listen_enabled = false;
		return 0;
	}
	if (cfg_parse_hostport(val, 8053, &c->listen) == -1) {
		cfg_why(why, len, "'%s': expected ADDRESS[:PORT] with a numeric "
		    "IPv4 or [IPv6] address, or off", val);
		return -1;
	}
	c->listen_enabled = true;
	return 0;
}

/* Read as the daemon reads it (cfg_token_read), then forgotten. */
static int
p_token_file(struct cfg_loader *ld, const struct cfg_keydef *kd, void *base,
    const char *val, char *why, size_t len)
{
	char tok[1024];
	size_t n;
	int rc;

	if (ld->flags & CONFIG_NO_SECRETS)
		return set_string(ld, FIELD(char **), val);
	rc = cfg_token_read(val, tok, sizeof(tok), &n, why, len);
	explicit_bzero(tok, sizeof(tok));
	if (rc == -1)
		return -1;
	return set_string(ld, FIELD(char **), val);
}

/* A name (or address) the Host header of an API request may give. */
static int
p_api_host(struct cfg_loader *ld, const struct cfg_keydef *kd, void *base,
    const char *val, char *why, size_t len)
{
	struct cfg_controller *c = base;
	char **v, *s;

	if (!cfg_ip_literal(val, NULL, NULL) &&
	    cfg_dname_check(val, why, len) == -1)
		return -1;
	if ((v = reallocarray(c->api_host, c->nhost + 2, sizeof(*v))) == NULL
	    || (c->api_host = v, (s = strdup(val)) == NULL)) {
		ld->oom = true;
		return 0;
	}
	/* Compared without a trailing dot, in any case. */
	if (s[0] != '\0' && s[strlen(s) - 1] == '.' && strlen(s) > 1)
		s[strlen(s) - 1] = '\0';
	v[c->nhost++] = s;
	v[c->nhost] = NULL;
	return 0;
}

static int
p_witness(struct cfg_loader *ld, const struct cfg_keydef *kd, void *base,
    const char *val, char *why, size_t len)
{
	struct cfg_controller *c = base;
	char **v, *s;

	if (cfg_url_check(val, why, len) == -1)
		return -1;
	if ((v = reallocarray(c->witness, c->nwitness + 2, sizeof(*v))) == NULL
	    || (c->witness = v, (s = strdup(val)) == NULL)) {
		ld->oom = true;
		return 0;
	}
	v[c->nwitness++] = s;
	v[c->nwitness] = NULL;
	return 0;
}

static int
p_bool(struct cfg_loader *ld, const struct cfg_keydef *kd, void *base,
    const char *val, char *why, size_t len)
{
	if (cfg_parse_bool(val, FIELD(bool *)) == -1) {
		cfg_why(why, len, "'%s': expected yes or no", val);
		return -1;
	}
	return 0;
}

static int
p_ident(struct cfg_loader *ld, const struct cfg_keydef *kd, void *base,
    const char *val, char *why, size_t len)
{
	if (!cfg_valid_ident(val)) {
		cfg_why(why, len, "'%s' is not a valid name (1-63 letters, "
		    "digits, '-', '_' or '.', starting with a letter or digit)",
		    val);
		return -1;
	}
	return set_string(ld, FIELD(char **), val);
}

static int
p_size(struct cfg_loader *ld, const struct cfg_keydef *kd, void *base,
    const char *val, char *why, size_t len)
{
	uint64_t n;

	if (cfg_parse_size(val, &n) == -1) {
		cfg_why(why, len, "'%s': expected a size such as 64M or 1G",
		    val);
		return -1;
	}
	if (n < (uint64_t)kd->min || n > (uint64_t)kd->max) {
		cfg_why(why, len, "%s is out of range (1M to 1T)", val);
		return -1;
	}
	*FIELD(size_t *) = (size_t)n;
	return 0;
}

static int
p_transport(struct cfg_loader *ld, const struct cfg_keydef *kd, void *base,
    const char *val, char *why, size_t len)
{
	if (strcasecmp(val, "udp") == 0)
		*FIELD(enum cfg_dns_transport *) = CFG_DNS_TRANSPORT_UDP;
	else if (strcasecmp(val, "tcp") == 0)
		*FIELD(enum cfg_dns_transport *) = CFG_DNS_TRANSPORT_TCP;
	else {
		cfg_why(why, len, "'%s': expected udp (TCP after a timeout) or "
		    "tcp", val);
		return -1;
	}
	return 0;
}

static int
p_loglevel(struct cfg_loader *ld, const struct cfg_keydef *kd, void *base,
    const char *val, char *why, size_t len)
{
	static const char *const names[] = { "error", "warn", "info", "debug" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcasecmp(val, names[i]) == 0) {
			*FIELD(int *) = (int)i;
			return 0;
		}
	}
	cfg_why(why, len, "'%s': expected error, warn, info or debug", val);
	return -1;
}

static int
hostport_add(struct cfg_loader *ld, struct cfg_hostport **arr, size_t *n,
    const char *val, char *why, size_t len)
{
	struct cfg_hostport hp, *v;

	if (cfg_parse_hostport(val, 53, &hp) == -1 || hp.port == 0) {
		cfg_why(why, len, "'%s': expected ADDRESS[:PORT] with a numeric "
		    "IPv4 or [IPv6] address (port 53 by default)", val);
		return -1;
	}
	for (size_t i = 0; i < *n; i++) {
		if (strcmp((*arr)[i].host, hp.host) == 0 &&
		    (*arr)[i].port == hp.port) {
			cfg_why(why, len, "%s is listed twice", val);
			return -1;
		}
	}
	if ((v = reallocarray(*arr, *n + 1, sizeof(*v))) == NULL) {
		ld->oom = true;
		return 0;
	}
	*arr = v;
	v[(*n)++] = hp;
	return 0;
}

static int
p_server(struct cfg_loader *ld, const struct cfg_keydef *kd, void *base,
    const char *val, char *why, size_t len)
{
	struct cfg_dns *d = base;

	return hostport_add(ld, &d->server, &d->nserver, val, why, len);
}

static int
p_confirm(struct cfg_loader *ld, const struct cfg_keydef *kd, void *base,
    const char *val, char *why, size_t len)
{
	struct cfg_dns *d = base;

	return hostport_add(ld, &d->confirm, &d->nconfirm, val, why, len);
}

static int
p_zone(struct cfg_loader *ld, const struct cfg_keydef *kd, void *base,
    const char *val, char *why, size_t len)
{
	char **dst = FIELD(char **), *z;

	if (cfg_dname_check(val, why, len) == -1)
		return -1;
	if ((z = cfg_dname_abs(val)) == NULL) {
		ld->oom = true;
		return 0;
	}
	free(*dst);
	*dst = z;
	return 0;
}

static int
p_keyfile(struct cfg_loader *ld, const struct cfg_keydef *kd, void *base,
    const char *val, char *why, size_t len)
{
	struct cfg_dns *d = base;
	int rc;

	if (val[0] == '/' && (ld->flags & CONFIG_NO_SECRETS))
		rc = 0;		/* the path is kept; the key is never used */
	else if (val[0] == '/')
		rc = cfg_tsig_key_read(val, &d->key, why, len);
	else if (strchr(val, ':') != NULL) {
		/* The secret is in this file: as secret as a key file. */
		if ((ld->cfg_st.st_mode & 077) &&
		    !(ld->flags & CONFIG_SIMULATION)) {
			cfg_why(why, len, "an inline key in %s, which group or "
			    "others may read (mode %04o): chmod 600 it, or give "
			    "the key in a key file", ld->path,
			    (unsigned)(ld->cfg_st.st_mode & 07777));
			return -1;
		}
		rc = cfg_tsig_key_parse_inline(val, &d->key, why, len);
	} else {
		cfg_why(why, len, "'%s': expected an absolute path to a key "
		    "file or an inline key ALGORITHM:NAME:BASE64", val);
		return -1;
	}
	if (rc == -1)
		return -1;
	/* Keep the path, but not an inline secret. */
	return set_string(ld, &d->key_file, val[0] == '/' ? val : "inline");
}

static void
fmt_ms(int64_t ms, char *buf, size_t len)
{
	if (ms % 3600000 == 0 && ms > 0)
		snprintf(buf, len, "%lldh", (long long)(ms / 3600000));
	else if (ms % 60000 == 0 && ms > 0)
		snprintf(buf, len, "%lldm", (long long)(ms / 60000));
	else if (ms % 1000 == 0)
		snprintf(buf, len, "%llds", (long long)(ms / 1000));
	else
		snprintf(buf, len, "%lldms", (long long)ms);
}

static int
p_duration(struct cfg_loader *ld, const struct cfg_keydef *kd, void *base,
    const char *val, char *why, size_t len)
{
	char lo[32], hi[32];
	int64_t ms;

	if (cfg_parse_duration(val, &ms) == -1) {
		cfg_why(why, len, "'%s' is not a duration: expected a whole "
		    "number with a unit ms, s, m or h (e.g. 250ms, 2s, 1m30s)",
		    val);
		return -1;
	}
	if (ms < kd->min || ms > kd->max) {
		fmt_ms(kd->min, lo, sizeof(lo));
		fmt_ms(kd->max, hi, sizeof(hi));
		cfg_why(why, len, "%s is out of range (%s to %s)", val, lo, hi);
		return -1;
	}
	*FIELD(int64_t *) = ms;
	return 0;
}

static int
p_int(struct cfg_loader *ld, const struct cfg_keydef *kd, void *base,
    const char *val, char *why, size_t len)
{
	char *end;
	long long n;

	errno = 0;
	n = strtoll(val, &end, 10);
	if (!isdigit((unsigned char)val[0]) || *end != '\0' || errno != 0) {
		cfg_why(why, len, "'%s': expected a whole number from %lld to "
		    "%lld", val, (long long)kd->min, (long long)kd->max);
		return -1;
	}
	if (n < kd->min || n > kd->max) {
		cfg_why(why, len, "%s is out of range (%lld to %lld)", val,
		    (long long)kd->min, (long long)kd->max);
		return -1;
	}
	*FIELD(int *) = (int)n;
	return 0;
}

void
cfg_webhead_clear(struct cfg_webhead *w)
{
	free(w->name);
	for (size_t i = 0; i < w->naddr; i++)
		free(w->addrs[i]);
	free(w->addrs);
	memset(w, 0, sizeof(*w));
}

static int
p_webhead(struct cfg_loader *ld, const struct cfg_keydef *kd, void *base,
    const char *val, char *why, size_t len)
{
	struct cfg_webhead *w = FIELD(struct cfg_webhead *), nw = { 0 };
	const char *p = val;
	char tok[256], canon[64];
	size_t ntok = 0;

	for (const char *q = val; *q != '\0';) {
		q += strspn(q, " \t,");
		if (*q == '\0')
			break;
		ntok++;
		q += strcspn(q, " \t,");
	}
	if (ntok == 1 && !cfg_ip_literal(val, NULL, NULL)) {
		if (cfg_dname_check(val, why, len) == -1)
			return -1;
		if (strchr(val, '.') == NULL || strcmp(strchr(val, '.'), ".")
		    == 0) {
			cfg_why(why, len, "'%s' is not a fully qualified host "
			    "name", val);
			return -1;
		}
		nw.is_name = true;
		if ((nw.name = cfg_dname_abs(val)) == NULL) {
			ld->oom = true;
			return 0;
		}
		cfg_webhead_clear(w);
		*w = nw;
		return 0;
	}
	while (*p != '\0') {
		size_t n;
		char **v;

		p += strspn(p, " \t,");
		if (*p == '\0')
			break;
		n = strcspn(p, " \t,");
		snprintf(tok, sizeof(tok), "%.*s", (int)(n < 200 ? n : 200), p);
		p += n;
		if (!cfg_ip_literal(tok, NULL, canon)) {
			cfg_why(why, len, "'%s' is not an IPv4 or IPv6 address "
			    "(give one host name, or a list of addresses)",
			    tok);
			cfg_webhead_clear(&nw);
			return -1;
		}
		for (size_t i = 0; i < nw.naddr; i++) {
			if (strcmp(nw.addrs[i], canon) == 0) {
				cfg_why(why, len, "%s is listed twice", tok);
				cfg_webhead_clear(&nw);
				return -1;
			}
		}
		v = reallocarray(nw.addrs, nw.naddr + 2, sizeof(*v));
		if (v == NULL || (nw.addrs = v,
		    (v[nw.naddr] = strdup(canon)) == NULL)) {
			ld->oom = true;
			cfg_webhead_clear(&nw);
			return 0;
		}
		v[++nw.naddr] = NULL;
	}
	cfg_webhead_clear(w);
	*w = nw;
	return 0;
}

static int
p_url(struct cfg_loader *ld, const struct cfg_keydef *kd, void *base,
    const char *val, char *why, size_t len)
{
	if (cfg_url_check(val, why, len) == -1)
		return -1;
	return set_string(ld, FIELD(char **), val);
}

static int
p_text(struct cfg_loader *ld, const struct cfg_keydef *kd, void *base,
    const char *val, char *why, size_t len)
{
	for (const char *p = val; *p != '\0'; p++) {
		if (iscntrl((unsigned char)*p)) {
			cfg_why(why, len, "holds a control character");
			return -1;
		}
	}
	return set_string(ld, FIELD(char **), val);
}

static int
p_word(struct cfg_loader *ld, const struct cfg_keydef *kd, void *base,
    const char *val, char *why, size_t len)
{
	if (cfg_has_space(val)) {
		cfg_why(why, len, "'%s' holds a blank or control character",
		    val);
		return -1;
	}
	return set_string(ld, FIELD(char **), val);
}

static int
p_status(struct cfg_loader *ld, const struct cfg_keydef *kd, void *base,
    const char *val, char *why, size_t len)
{
	if (cfg_parse_status_set(val, FIELD(struct cfg_status_set *)) == -1) {
		cfg_why(why, len, "'%s': expected HTTP statuses 100-599 as a "
		    "comma-separated list of codes or ranges, e.g. "
		    "200-399,503 (at most %d)", val, CFG_MAX_RANGES);
		return -1;
	}
	return 0;
}

static int
p_file(struct cfg_loader *ld, const struct cfg_keydef *kd, void *base,
    const char *val, char *why, size_t len)
{
	struct stat st;

	if (val[0] != '/') {
		cfg_why(why, len, "'%s' is not an absolute path", val);
		return -1;
	}
	if (stat(val, &st) == -1 || access(val, R_OK) == -1) {
		cfg_why(why, len, "%s: %s", val, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		cfg_why(why, len, "%s is not a regular file", val);
		return -1;
	}
	return set_string(ld, FIELD(char **), val);
}

static int
p_hook(struct cfg_loader *ld, const struct cfg_keydef *kd, void *base,
    const char *val, char *why, size_t len)
{
	struct cfg_hook *h = FIELD(struct cfg_hook *);

	if (cfg_hook_parse(val, h, why, len) == -1)
		return -1;
	h->line = ld->lineno;
	return 0;
}

/* Kept as written here; cfg_validate() resolves it against the zone. */
static int
p_address(struct cfg_loader *ld, const struct cfg_keydef *kd, void *base,
    const char *val, char *why, size_t len)
{
	struct cfg_group *g = base;

	if (strcasecmp(val, "auto") == 0) {
		g->address_auto = true;
		return 0;
	}
	if (cfg_dname_check(val, why, len) == -1)
		return -1;
	return set_string(ld, &g->address, val);
}

static int
p_ttl(struct cfg_loader *ld, const struct cfg_keydef *kd, void *base,
    const char *val, char *why, size_t len)
{
	int64_t ms;

	if (cfg_parse_duration(val, &ms) == -1) {
		cfg_why(why, len, "'%s' is not a duration: expected a whole "
		    "number with a unit s, m or h (e.g. 60s, 5m)", val);
		return -1;
	}
	if (ms % 1000 != 0) {
		cfg_why(why, len, "%s is not a whole number of seconds", val);
		return -1;
	}
	if (ms / 1000 < kd->min || ms / 1000 > kd->max) {
		cfg_why(why, len, "%s is out of range (1s to 2147483647s)",
		    val);
		return -1;
	}
	*FIELD(uint32_t *) = (uint32_t)(ms / 1000);
	return 0;
}
