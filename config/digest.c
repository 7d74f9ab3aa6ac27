/*
 * digest.c - the configuration digest of a cluster member (config.h):
 * SHA-256 of a canonical form of [dns], [stack NAME] and [group NAME] as
 * parsed.
 *
 * The canonical form is a sequence of fields, each "TAG=LEN:BYTES\n"
 * for a string (LEN its length in decimal: no value can run into the
 * next), "TAG=-\n" for an absent one and "TAG=#N\n" for a number, after
 * a version line.  It is hashed as it is made, never kept.  What makes it
 * canonical:
 *   - it is built from the parsed struct, never the file: comments,
 *     blanks, the order of keys and the spelling of values are gone
 *     (durations are milliseconds, names are lower case and absolute,
 *     hooks are their argv, derived defaults are filled in);
 *   - stacks and groups are taken sorted by name, not in file order;
 *   - sets are sorted: a web_head's addresses (one RRset), the confirm
 *     servers (each must confirm), and status lists, whose ranges are
 *     also merged (200-299,300-399 is 200-399);
 *   - [dns] server keeps its order: servers are tried in order, which is
 *     part of what the section says.
 * Left out: [controller] and [cluster] (they differ between members),
 * the TSIG secret (the digest is published in etcd, where it must not let
 * a reader test guesses of a weak inline secret; a member with another
 * secret is refused by the DNS server instead, BADSIG), the key file's
 * path and the lines where things were written.
 *
 * Version 1.  Changing what goes in, or how, must change the version
 * line: members running two versions then disagree, which is right, since
 * they cannot tell whether they agree.
 */
#include "config/config.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#define DIGEST_VERSION	"failoverd-config-digest 1\n"

struct dg {
	EVP_MD_CTX	*ctx;
	bool		 failed;
};

static void
dg_bytes(struct dg *d, const void *p, size_t n)
{
	if (!d->failed && n > 0 && EVP_DigestUpdate(d->ctx, p, n) != 1)
		d->failed = true;
}

static void
dg_str(struct dg *d, const char *tag, const char *s)
{
	char head[96];
	int n;

	if (s == NULL)
		n = snprintf(head, sizeof(head), "%s=-\n", tag);
	else
		n = snprintf(head, sizeof(head), "%s=%zu:", tag, strlen(s));
	dg_bytes(d, head, (size_t)n);
	if (s != NULL) {
		dg_bytes(d, s, strlen(s));
		dg_bytes(d, "\n", 1);
	}
}

/* A string compared without case: hashed lower case. */
static void
dg_lower(struct dg *d, const char *tag, const char *s)
{
	char *l;

	if (s == NULL) {
		dg_str(d, tag, NULL);
		return;
	}
	if ((l = strdup(s)) == NULL) {
		d->failed = true;
		return;
	}
	for (char *p = l; *p != '\0'; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	dg_str(d, tag, l);
	free(l);
}

static void
dg_num(struct dg *d, const char *tag, long long v)
{
	char buf[96];
	int n = snprintf(buf, sizeof(buf), "%s=#%lld\n", tag, v);

	dg_bytes(d, buf, (size_t)n);
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int
cmp_hostport(const void *a, const void *b)
{
	const struct cfg_hostport *x = a, *y = b;
	int c = strcmp(x->host, y->host);

	return c != 0 ? c : (int)x->port - (int)y->port;
}

static int
cmp_range(const void *a, const void *b)
{
	const struct cfg_range *x = a, *y = b;

	return x->lo != y->lo ? x->lo - y->lo : x->hi - y->hi;
}

static void
dg_hostport(struct dg *d, const char *tag, const struct cfg_hostport *hp)
{
	char buf[96];

	snprintf(buf, sizeof(buf), "%s/%u", hp->host, (unsigned)hp->port);
	dg_str(d, tag, buf);
}

/* A status set as sorted, merged ranges. */
static void
dg_status(struct dg *d, const char *tag, const struct cfg_status_set *set)
{
	struct cfg_range r[CFG_MAX_RANGES];
	size_t n = 0;
	char buf[32];

	memcpy(r, set->r, set->n * sizeof(r[0]));
	qsort(r, set->n, sizeof(r[0]), cmp_range);
	for (size_t i = 0; i < set->n; i++) {
		if (n > 0 && r[i].lo <= r[n - 1].hi + 1) {
			if (r[i].hi > r[n - 1].hi)
				r[n - 1].hi = r[i].hi;
		} else
			r[n++] = r[i];
	}
	dg_num(d, tag, (long long)n);
	for (size_t i = 0; i < n; i++) {
		snprintf(buf, sizeof(buf), "%d-%d", r[i].lo, r[i].hi);
		dg_str(d, "range", buf);
	}
}

static void
dg_hook(struct dg *d, const char *tag, const struct cfg_hook *h)
{
	dg_num(d, tag, h->argc);
	for (int i = 0; i < h->argc; i++)
		dg_str(d, "arg", h->argv[i]);
}

static void
dg_dns(struct dg *d, const struct cfg_dns *dns)
{
	struct cfg_hostport *confirm = NULL;

	dg_str(d, "section", "dns");
	dg_num(d, "server", (long long)dns->nserver);
	for (size_t i = 0; i < dns->nserver; i++)
		dg_hostport(d, "server", &dns->server[i]);
	dg_lower(d, "zone", dns->zone);
	dg_lower(d, "key_name", dns->key.name);
	dg_str(d, "key_alg", cfg_tsig_alg_name(dns->key.alg));
	dg_num(d, "timeout", dns->timeout_ms);
	dg_num(d, "retries", dns->retries);
	dg_num(d, "verify_interval", dns->verify_interval_ms);
	if (dns->nconfirm > 0) {
		if ((confirm = reallocarray(NULL, dns->nconfirm,
		    sizeof(*confirm))) == NULL) {
			d->failed = true;
			return;
		}
		memcpy(confirm, dns->confirm, dns->nconfirm * sizeof(*confirm));
		qsort(confirm, dns->nconfirm, sizeof(*confirm), cmp_hostport);
	}
	dg_num(d, "confirm", (long long)dns->nconfirm);
	for (size_t i = 0; i < dns->nconfirm; i++)
		dg_hostport(d, "confirm", &confirm[i]);
	free(confirm);
	dg_num(d, "prereq", dns->prereq);
	dg_num(d, "transport", dns->transport);
}

static void	 dg_check(struct dg *, const struct cfg_stack *);

static void
dg_stack(struct dg *d, const struct cfg_stack *s)
{

	dg_str(d, "section", "stack");
	dg_str(d, "name", s->name);
	dg_check(d, s);
	dg_hook(d, "maintenance_on", &s->maintenance_on);
	dg_hook(d, "maintenance_off", &s->maintenance_off);
	dg_hook(d, "replication_off", &s->replication_off);
	dg_hook(d, "promote", &s->promote);
	dg_hook(d, "precheck", &s->precheck);
	dg_num(d, "hook_timeout", s->hook_timeout_ms);
}

/* What a verdict of the stack depends on: its probe's settings. */
static void
dg_check(struct dg *d, const struct cfg_stack *s)
{
	const struct cfg_webhead *w = &s->web_head;

	if (w->is_name)
		dg_lower(d, "web_head_name", w->name);
	else {
		char **a = NULL;

		if (w->naddr > 0 && (a = reallocarray(NULL, w->naddr,
		    sizeof(*a))) == NULL) {
			d->failed = true;
			return;
		}
		if (w->naddr > 0) {
			memcpy(a, w->addrs, w->naddr * sizeof(*a));
			qsort(a, w->naddr, sizeof(*a), cmp_str);
		}
		dg_num(d, "web_head_addrs", (long long)w->naddr);
		for (size_t i = 0; i < w->naddr; i++)
			dg_str(d, "addr", a[i]);
		free(a);
	}
	dg_str(d, "health_url", s->health_url);
	dg_lower(d, "health_host", s->health_host);
	dg_status(d, "expect_status", &s->expect_status);
	dg_status(d, "standby_expect_status", &s->standby_expect_status);
	dg_str(d, "expect_body", s->expect_body);
	dg_num(d, "interval", s->interval_ms);
	dg_num(d, "fastinter", s->fastinter_ms);
	dg_num(d, "downinter", s->downinter_ms);
	dg_num(d, "timeout", s->timeout_ms);
	dg_num(d, "rise", s->rise);
	dg_num(d, "fall", s->fall);
	dg_num(d, "tls_verify", s->tls_verify);
	dg_str(d, "ca_file", s->ca_file);
}

static void
dg_group(struct dg *d, const struct cfg_group *g)
{
	dg_str(d, "section", "group");
	dg_str(d, "name", g->name);
	dg_lower(d, "address", g->address_auto ? "auto" : g->address);
	dg_str(d, "primary", g->primary_name);
	dg_str(d, "backup", g->backup_name);
	dg_num(d, "ttl", g->ttl);
	dg_num(d, "suspect_ttl", g->suspect_ttl);
	dg_num(d, "auto_failover", g->auto_failover);
	dg_num(d, "hold_down", g->hold_down_ms);
	dg_num(d, "adopt", g->adopt);
	dg_hook(d, "on_status_change", &g->on_status_change);
	dg_num(d, "restore_on_abort", g->restore_on_abort);
}

struct named {
	const char	*name;
	size_t		 i;
};

static int
cmp_named(const void *a, const void *b)
{
	return strcmp(((const struct named *)a)->name,
	    ((const struct named *)b)->name);
}

/*
 * Indices 0..n-1 sorted by the name at base + i * size (its first field):
 * O(n log n), since a file may hold 100,000 groups.
 */
static size_t *
by_name(const void *base, size_t n, size_t size)
{
	struct named *v;
	size_t *idx;

	if ((idx = reallocarray(NULL, n ? n : 1, sizeof(*idx))) == NULL ||
	    (v = reallocarray(NULL, n ? n : 1, sizeof(*v))) == NULL) {
		free(idx);
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		v[i].name = *(const char *const *)(const void *)
		    ((const char *)base + i * size);
		v[i].i = i;
	}
	qsort(v, n, sizeof(*v), cmp_named);
	for (size_t i = 0; i < n; i++)
		idx[i] = v[i].i;
	free(v);
	return idx;
}

int
config_digest(const struct config *cfg, char hex[CFG_DIGEST_HEX])
{
	struct dg d = { 0 };
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	size_t *si = NULL, *gi = NULL;
	int rc = -1;

	hex[0] = '\0';
	if ((d.ctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(d.ctx, EVP_sha256(), NULL) != 1)
		goto out;
	_Static_assert(offsetof(struct cfg_stack, name) == 0, "name first");
	_Static_assert(offsetof(struct cfg_group, name) == 0, "name first");
	if ((si = by_name(cfg->stacks, cfg->nstack, sizeof(*cfg->stacks))) ==
	    NULL || (gi = by_name(cfg->groups, cfg->ngroup,
	    sizeof(*cfg->groups))) == NULL)
		goto out;
	dg_bytes(&d, DIGEST_VERSION, strlen(DIGEST_VERSION));
	dg_dns(&d, &cfg->dns);
	dg_num(&d, "stacks", (long long)cfg->nstack);
	for (size_t i = 0; i < cfg->nstack; i++)
		dg_stack(&d, &cfg->stacks[si[i]]);
	/* Groups made at run time are state, not configuration. */
	size_t nfile = 0;
	for (size_t i = 0; i < cfg->ngroup; i++)
		nfile += !cfg->groups[i].runtime;
	dg_num(&d, "groups", (long long)nfile);
	for (size_t i = 0; i < cfg->ngroup; i++)
		if (!cfg->groups[gi[i]].runtime)
			dg_group(&d, &cfg->groups[gi[i]]);
	if (d.failed || EVP_DigestFinal_ex(d.ctx, md, &mdlen) != 1 ||
	    mdlen != 32)
		goto out;
	for (unsigned int i = 0; i < mdlen; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	rc = 0;
out:
	free(si);
	free(gi);
	EVP_MD_CTX_free(d.ctx);
	return rc;
}

int
config_check_digest(const struct cfg_stack *s, char hex[CFG_CHECK_HEX])
{
	struct dg d = { 0 };
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	int rc = -1;

	hex[0] = '\0';
	if ((d.ctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(d.ctx, EVP_sha256(), NULL) != 1)
		goto out;
	dg_bytes(&d, DIGEST_VERSION, strlen(DIGEST_VERSION));
	dg_check(&d, s);
	if (d.failed || EVP_DigestFinal_ex(d.ctx, md, &mdlen) != 1 ||
	    mdlen < (CFG_CHECK_HEX - 1) / 2)
		goto out;
	for (unsigned int i = 0; i < (CFG_CHECK_HEX - 1) / 2; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	rc = 0;
out:
	EVP_MD_CTX_free(d.ctx);
	return rc;
}
