/*
 * dnsbench.c - flip many names at once with dnsupdate/ on one libevent loop,
 * as failoverd does when a whole stack fails, and read every one back.
 *
 *   dnsbench -s ADDR#PORT -z ZONE -k KEYFILE -n N -p PREFIX -f FROM -t TO
 *            [-b BATCH] [-r RTT_SAMPLES] [-o CONTROLLER] [-q QUERIES] [-F]
 *
 * Every update is what failoverd sends: the compare-and-swap on the record
 * it replaces and, with -o, the prerequisite that the ownership TXT at
 * _failoverd.<name> holds exactly "failoverd controller=CONTROLLER
 * group=<first label>", which it writes again.
 *
 * 1. rtt: RTT_SAMPLES single updates one after the other (name PREFIX-rtt,
 *    flipping between FROM and TO): one update's round trip, p50 and p99.
 * 2. flip: N updates PREFIX-0 .. PREFIX-(N-1), from FROM to TO, submitted
 *    together: wall time from the first submit to the last completion, and
 *    each update's latency.  With -F, first publications instead: the
 *    names do not exist, and each update requires that nothing is there
 *    (name not in use, no TXT) and writes TO and the TXT.
 * 3. verify: read all N back (A/AAAA/CNAME) and compare with TO.
 * 4. loaded: QUERIES (default 1,000) read-back queries to a server that
 *    never answers (a UDP socket of ours that nobody reads), then the rtt
 *    samples again while they wait: a flip's latency behind read-back
 *    traffic, against the idle figure of step 1.
 * Prints key=value lines; exits 0 when every flip and every read-back is
 * right.
 */
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "config/config.h"
#include "dnsupdate/dnsup.h"
#include "dnsupdate/dnsup_check.h"
#include "dnsupdate/dnsup_msg.h"

static struct event_base *base;
static struct dnsup_engine *eng;
static struct dnsup_rrset from, to;
static char (*names)[DNSUP_NAME_MAX];
static int64_t *lat;
static size_t n, ndone, nok, nverified, nbad;
static int rtt_left;
static int64_t *rtts;
static size_t nrtt;
static char rttname[DNSUP_NAME_MAX];
static bool rtt_flip;
static const char *controller;
static char (*owners)[256];
static char rttowner[256];
static size_t nquery_done;
static bool first_pub;

static int64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int
cmp64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

static double
pct(int64_t *v, size_t k, double p)
{
	size_t i;

	if (k == 0)
		return 0;
	qsort(v, k, sizeof(*v), cmp64);
	i = (size_t)(p * (double)(k - 1) + 0.5);
	return (double)v[i] / 1000.0;
}

static void	 rtt_next(void);

/* The ownership value failoverd writes for the name's first label. */
static void
owner_of(const char *name, char *buf, size_t len)
{
	snprintf(buf, len, "failoverd controller=%s group=%.*s", controller,
	    (int)strcspn(name, "."), name);
}

static void
query_cb(const struct dnsup_outcome *o, const struct dnsup_found *f,
    void *arg)
{
	nquery_done++;
}

static void
start_rtt_cb(evutil_socket_t fd, short what, void *arg)
{
	rtt_next();
}

static int
load_key(const char *path, struct cfg_tsig_key *k)
{
	char buf[4096], *p, *q;
	FILE *f;
	size_t l;

	memset(k, 0, sizeof(*k));
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	l = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[l] = '\0';
	if ((p = strstr(buf, "key \"")) == NULL ||
	    (q = strchr(p + 5, '"')) == NULL)
		return -1;
	snprintf(k->name, sizeof(k->name), "%.*s", (int)(q - p - 5), p + 5);
	k->alg = strstr(buf, "hmac-sha512") ? CFG_TSIG_HMAC_SHA512 :
	    strstr(buf, "hmac-sha1;") ? CFG_TSIG_HMAC_SHA1 :
	    CFG_TSIG_HMAC_SHA256;
	if ((p = strstr(buf, "secret \"")) == NULL ||
	    sscanf(p + 8, "%511[^\"]", k->secret) != 1)
		return -1;
	return 0;
}

static void	 rtt_next(void);

static void
rtt_cb(const struct dnsup_outcome *o, void *arg)
{
	if (o->result != DNSUP_R_NOERROR)
		fprintf(stderr, "rtt: %s %s\n", dnsup_result_name(o->result),
		    o->detail);
	else
		rtts[nrtt++] = o->elapsed_us;
	rtt_next();
}

static void
rtt_next(void)
{
	struct dnsup_update u;

	if (rtt_left-- <= 0) {
		event_base_loopexit(base, NULL);
		return;
	}
	memset(&u, 0, sizeof(u));
	u.name = rttname;
	u.want = rtt_flip ? from : to;
	u.prereq = DNSUP_PREREQ_IS;
	u.prev = rtt_flip ? to : from;
	if (controller != NULL)
		u.owner_txt = rttowner;
	rtt_flip = !rtt_flip;
	if (dnsup_submit(eng, &u, rtt_cb, NULL) == -1)
		event_base_loopexit(base, NULL);
}

static void
flip_cb(const struct dnsup_outcome *o, void *arg)
{
	size_t i = (size_t)(uintptr_t)arg;

	lat[i] = o->elapsed_us;
	if (o->result == DNSUP_R_NOERROR)
		nok++;
	else if (nok + ndone < 5 || o->result != DNSUP_R_NOERROR)
		fprintf(stderr, "flip %s: %s %s\n", names[i],
		    dnsup_result_name(o->result), o->detail);
	if (++ndone == n)
		event_base_loopexit(base, NULL);
}

static void
verify_cb(const struct dnsup_outcome *o, const struct dnsup_found *f,
    void *arg)
{
	size_t i = (size_t)(uintptr_t)arg;
	char diff[512];

	if (f != NULL && dnsup_rrset_compare(&to, &f->rrset, false, diff,
	    sizeof(diff)) == 0)
		nverified++;
	else if (nbad++ < 5)
		fprintf(stderr, "verify %s: %s %s\n", names[i],
		    dnsup_result_name(o->result), f ? diff : o->detail);
	if (++ndone == n)
		event_base_loopexit(base, NULL);
}

int
main(int argc, char **argv)
{
	struct dnsup_params prm;
	struct cfg_tsig_key key;
	struct cfg_hostport srv;
	struct dnsup_stats st;
	const char *zone = NULL, *prefix = "fo", *sfrom = NULL, *sto = NULL;
	char err[256], *h;
	int ch, samples = 200, nquery = 1000, silent = -1;
	size_t i;
	int64_t t0, t1, t_first_done = 0;
	double idle_p50, idle_p99;

	memset(&prm, 0, sizeof(prm));
	memset(&srv, 0, sizeof(srv));
	n = 1000;
	while ((ch = getopt(argc, argv, "s:z:k:n:p:f:t:b:r:o:q:F")) != -1) {
		switch (ch) {
		case 's':
			if ((h = strchr(optarg, '#')) == NULL)
				return 2;
			snprintf(srv.host, sizeof(srv.host), "%.*s",
			    (int)(h - optarg), optarg);
			srv.port = (uint16_t)atoi(h + 1);
			break;
		case 'z': zone = optarg; break;
		case 'k':
			if (load_key(optarg, &key) == -1)
				return 2;
			prm.key = &key;
			break;
		case 'n': n = (size_t)atoi(optarg); break;
		case 'p': prefix = optarg; break;
		case 'f': sfrom = optarg; break;
		case 't': sto = optarg; break;
		case 'b': prm.batch_max = (size_t)atoi(optarg); break;
		case 'r': samples = atoi(optarg); break;
		case 'o': controller = optarg; break;
		case 'q': nquery = atoi(optarg); break;
		case 'F': first_pub = true; break;
		default: return 2;
		}
	}
	if (zone == NULL || sfrom == NULL || sto == NULL || srv.port == 0 ||
	    n == 0)
		return 2;
	if (dnsup_rrset_parse(&from, sfrom, 60, err, sizeof(err)) == -1 ||
	    dnsup_rrset_parse(&to, sto, 60, err, sizeof(err)) == -1) {
		fprintf(stderr, "dnsbench: %s\n", err);
		return 2;
	}
	prm.zone = zone;
	prm.servers = &srv;
	prm.nserver = 1;
	/* Long enough for the unanswered queries to outlast step 4. */
	prm.timeout_ms = 10000;
	prm.retries = 2;
	names = calloc(n, sizeof(*names));
	owners = calloc(n, sizeof(*owners));
	lat = calloc(n, sizeof(*lat));
	rtts = calloc((size_t)samples + 1, sizeof(*rtts));
	if (names == NULL || owners == NULL || lat == NULL || rtts == NULL ||
	    (base = event_base_new()) == NULL ||
	    (eng = dnsup_engine_new(base, &prm, err, sizeof(err))) == NULL) {
		fprintf(stderr, "dnsbench: %s\n", err);
		return 1;
	}

	/* 1. One update's round trip, alone on the wire. */
	snprintf(rttname, sizeof(rttname), "%s-rtt.%s", prefix, zone);
	if (controller != NULL)
		owner_of(rttname, rttowner, sizeof(rttowner));
	rtt_left = samples;
	rtt_next();
	event_base_dispatch(base);
	printf("dns_update_rtt_samples=%zu\n", nrtt);
	idle_p50 = pct(rtts, nrtt, 0.50);
	idle_p99 = pct(rtts, nrtt, 0.99);
	printf("dns_update_rtt_p50_ms=%.3f\n", idle_p50);
	printf("dns_update_rtt_p99_ms=%.3f\n", idle_p99);

	/* 2. All flips at once. */
	for (i = 0; i < n; i++)
		snprintf(names[i], sizeof(names[i]), "%s-%04zu.%s", prefix, i,
		    zone);
	t0 = now_us();
	for (i = 0; i < n; i++) {
		struct dnsup_update u;

		memset(&u, 0, sizeof(u));
		u.name = names[i];
		u.want = to;
		u.prereq = first_pub ? DNSUP_PREREQ_EMPTY : DNSUP_PREREQ_IS;
		u.prev = from;
		if (controller != NULL) {
			owner_of(names[i], owners[i], sizeof(owners[i]));
			u.owner_txt = owners[i];
			u.owner_prereq = first_pub ? DNSUP_TXT_ABSENT :
			    DNSUP_TXT_OURS;
		}
		if (dnsup_submit(eng, &u, flip_cb, (void *)(uintptr_t)i) == -1)
			return 1;
	}
	event_base_dispatch(base);
	t1 = now_us();
	(void)t_first_done;
	dnsup_engine_stats(eng, &st);
	printf("dns_flips=%zu\n", n);
	printf("dns_flips_ok=%zu\n", nok);
	printf("dns_flip_all_ms=%.1f\n", (double)(t1 - t0) / 1000.0);
	printf("dns_flip_messages=%llu\n",
	    (unsigned long long)(st.messages - (uint64_t)samples));
	printf("dns_flip_latency_p50_ms=%.3f\n", pct(lat, n, 0.50));
	printf("dns_flip_latency_p99_ms=%.3f\n", pct(lat, n, 0.99));

	/* 3. Read every one back. */
	ndone = 0;
	t0 = now_us();
	for (i = 0; i < n; i++)
		if (dnsup_readback(eng, NULL, names[i], false, verify_cb,
		    (void *)(uintptr_t)i) == -1)
			return 1;
	event_base_dispatch(base);
	t1 = now_us();
	printf("dns_verified=%zu/%zu\n", nverified, n);
	printf("dns_verify_all_ms=%.1f\n", (double)(t1 - t0) / 1000.0);

	/* 4. The rtt again, behind queries that are never answered. */
	if (nquery > 0) {
		struct sockaddr_in sin;
		socklen_t sl = sizeof(sin);
		struct cfg_hostport hole;
		struct timeval tv = { 0, 50000 };
		struct dnsup_stats qs;

		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		if ((silent = socket(AF_INET, SOCK_DGRAM, 0)) == -1 ||
		    bind(silent, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
		    getsockname(silent, (struct sockaddr *)&sin, &sl) == -1) {
			perror("dnsbench: silent socket");
			return 1;
		}
		memset(&hole, 0, sizeof(hole));
		snprintf(hole.host, sizeof(hole.host), "127.0.0.1");
		hole.port = ntohs(sin.sin_port);
		hole.family = AF_INET;
		for (i = 0; i < (size_t)nquery; i++)
			if (dnsup_query(eng, &hole, names[i % n], 1, 0,
			    query_cb, NULL) == -1)
				return 1;
		nrtt = 0;
		rtt_left = samples;
		/* The queries go on the wire first. */
		event_base_once(base, -1, EV_TIMEOUT, start_rtt_cb, NULL, &tv);
		event_base_dispatch(base);
		dnsup_engine_stats(eng, &qs);
		printf("dns_loaded_queries=%d\n", nquery);
		printf("dns_loaded_queries_answered=%zu\n", nquery_done);
		printf("dns_loaded_rtt_samples=%zu\n", nrtt);
		printf("dns_loaded_rtt_p50_ms=%.3f\n", pct(rtts, nrtt, 0.50));
		printf("dns_loaded_rtt_p99_ms=%.3f\n", pct(rtts, nrtt, 0.99));
		printf("dns_loaded_vs_idle_p50=%.2f\n", idle_p50 > 0 ?
		    pct(rtts, nrtt, 0.50) / idle_p50 : 0);
		if (nrtt != (size_t)samples)
			return 1;
	}
	dnsup_engine_free(eng);
	event_base_free(base);
	if (silent != -1)
		close(silent);
	free(names);
	free(owners);
	free(lat);
	free(rtts);
	return (nok == n && nverified == n) ? 0 : 1;
}
