/*
 * dnstool.c - a command-line driver of dnsupdate/ for the integration tests
 * and by hand.  Every command runs on one libevent loop, as in failoverd.
 *
 *   dnstool -s ADDR#PORT [-s ...] -z ZONE -k KEYFILE [-t MS] [-r N] [-T]
 *           [-c MS] [-b BATCH] [-S SKEW_S] [-H HOSTS] [-R RESOLV_CONF]
 *           COMMAND ARGS
 *
 *   update NAME VALUE [--prev VALUE|--empty] [--owner CTL GROUP] [--ttl N]
 *           with --owner, the TXT must hold exactly that owner's value,
 *           as every update failoverd sends
 *   publish NAME VALUE --owner CTL GROUP [--adopt] [--epoch N] [--ttl N]
 *           read back (with the ownership TXT), refuse a name that is not
 *           ours, then update with the prerequisites that fit (as the
 *           daemon does when it does not know what the name holds)
 *   readback NAME [--at ADDR#PORT]
 *   verify NAME VALUE         exit 0 in sync, 1 drift
 *   repair NAME VALUE         read back; on drift, update from what was found
 *   confirm NAME VALUE [--at ADDR#PORT ...] [--ns-port P] [--bound MS]
 *   many N PREFIX VALUE       N concurrent updates PREFIX-0 .. PREFIX-N-1
 *   loaded N ADDR#PORT NAME VALUE
 *                             N queries to ADDR#PORT (a server that never
 *                             answers), then one update of NAME: how long
 *                             the update takes while they wait
 *   multi NAME|VALUE[|PREV[|FLAGS]] ...   updates submitted together
 *                             (coalesced); FLAGS: s supersede (a flip),
 *                             dMS submitted MS ms later
 *   render NAME VALUE ...     the update in nsupdate syntax (dry run)
 *
 * VALUE: "host.name." (CNAME), "192.0.2.1 2001:db8::1" (A/AAAA) or "none".
 * KEYFILE is BIND's format, or "alg:name:secret" inline.  Output is key=value
 * lines; the exit status is 0 when the outcome is NOERROR (in sync, owned).
 */
#include <ctype.h>
#include <errno.h>
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
#include "dnsupdate/dnsup_owner.h"

static struct event_base *base;
static struct dnsup_engine *eng;
static int exit_code = 1;
static int outstanding;
static struct dnsup_params prm;
static struct cfg_tsig_key key;
static struct cfg_hostport servers[8];
static size_t nservers;
static long skew;

/* -S: judge answers with a clock that is off by skew seconds. */
static time_t
skewed_time(time_t *t)
{
	time_t now = time(NULL) + skew;

	if (t != NULL)
		*t = now;
	return now;
}

static void
usage(void)
{
	fprintf(stderr, "usage: dnstool -s ADDR#PORT -z ZONE -k KEYFILE "
	    "[-t MS] [-r N] [-T] [-c MS] COMMAND ARGS\n");
	exit(2);
}

static int
parse_hostport(const char *s, struct cfg_hostport *hp)
{
	const char *sep = strrchr(s, '#');
	size_t l;

	memset(hp, 0, sizeof(*hp));
	if (sep == NULL)
		sep = strrchr(s, ':') && strchr(s, '.') ? strrchr(s, ':') :
		    NULL;
	l = sep ? (size_t)(sep - s) : strlen(s);
	if (l == 0 || l >= sizeof(hp->host))
		return -1;
	memcpy(hp->host, s, l);
	hp->port = sep ? (uint16_t)atoi(sep + 1) : 53;
	hp->family = strchr(hp->host, ':') ? AF_INET6 : AF_INET;
	return 0;
}

/* A BIND key file as tsig-keygen writes it, or alg:name:secret. */
static int
load_key(const char *arg, struct cfg_tsig_key *k)
{
	char buf[4096], alg[64] = "hmac-sha256", *p, *q;
	FILE *f;
	size_t n;

	memset(k, 0, sizeof(*k));
	if ((f = fopen(arg, "r")) == NULL) {
		if (sscanf(arg, "%63[^:]:%255[^:]:%511s", alg, k->name,
		    k->secret) != 3)
			return -1;
	} else {
		n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
		buf[n] = '\0';
		if ((p = strstr(buf, "key \"")) == NULL ||
		    (q = strchr(p + 5, '"')) == NULL)
			return -1;
		snprintf(k->name, sizeof(k->name), "%.*s", (int)(q - p - 5),
		    p + 5);
		if ((p = strstr(buf, "algorithm ")) != NULL)
			sscanf(p + 10, "%63[^; \n]", alg);
		if ((p = strstr(buf, "secret \"")) == NULL ||
		    sscanf(p + 8, "%511[^\"]", k->secret) != 1)
			return -1;
	}
	if (strcasecmp(alg, "hmac-sha256") == 0)
		k->alg = CFG_TSIG_HMAC_SHA256;
	else if (strcasecmp(alg, "hmac-sha1") == 0)
		k->alg = CFG_TSIG_HMAC_SHA1;
	else if (strcasecmp(alg, "hmac-sha512") == 0)
		k->alg = CFG_TSIG_HMAC_SHA512;
	else
		return -1;
	return 0;
}

static void
print_outcome(const char *what, const struct dnsup_outcome *o)
{
	printf("%s result=%s server=%s tries=%d batch=%zu elapsed_us=%lld "
	    "detail=\"%s\"\n", what, dnsup_result_name(o->result), o->server,
	    o->tries, o->batch, (long long)o->elapsed_us, o->detail);
}

static void
done_one(void)
{
	if (--outstanding == 0)
		event_base_loopexit(base, NULL);
}

static void
rrset_or_die(struct dnsup_rrset *rs, const char *v, uint32_t ttl)
{
	char err[128];

	if (dnsup_rrset_parse(rs, v, ttl, err, sizeof(err)) == -1) {
		fprintf(stderr, "dnstool: %s: %s\n", v, err);
		exit(2);
	}
}

/* update */

static void
update_cb(const struct dnsup_outcome *o, void *arg)
{
	print_outcome("update", o);
	exit_code = o->result == DNSUP_R_NOERROR ? 0 : 1;
	done_one();
}

/* readback / verify / repair / publish share one state. */
struct rbstate {
	const char		*cmd;
	const char		*name;
	struct dnsup_rrset	 want;
	const char		*controller, *group;
	uint64_t		 epoch;
	bool			 adopt;
	char			 txt[256];
	struct dnsup_update	 u;
	struct dnsup_owner_plan	 plan;
};

static void
print_found(const char *what, const struct dnsup_outcome *o,
    const struct dnsup_found *f)
{
	struct dnsup_stats st;
	char rs[512];

	if (f == NULL) {
		print_outcome(what, o);
		return;
	}
	char own[4200];
	size_t i, off = 0;

	own[0] = '\0';
	for (i = 0; i < f->txt.n; i++) {
		if (i > 0)
			off += (size_t)snprintf(own + off, sizeof(own) - off,
			    " | ");
		dnsup_txt_value(&f->txt.t[i], own + off, sizeof(own) - off);
		off = strlen(own);
	}
	dnsup_rrset_format(&f->rrset, rs, sizeof(rs));
	dnsup_engine_stats(eng, &st);
	printf("%s result=%s server=%s rrset=\"%s\" ttl=%u owner=\"%s\" "
	    "other=\"%s\" exists=%s tcp=%llu resent=%llu qwnd=%zu "
	    "elapsed_us=%lld\n",
	    what, dnsup_result_name(o->result), o->server, rs,
	    (unsigned)f->rrset.ttl, own, f->other, f->exists ? "yes" : "no",
	    (unsigned long long)st.tcp, (unsigned long long)st.resent,
	    st.qwnd, (long long)o->elapsed_us);
}

/* The update as nsupdate(1) would say it, on one line. */
static void
print_sent(const struct dnsup_update *u)
{
	char buf[8192];

	dnsup_update_render(buf, sizeof(buf), NULL, prm.zone, u, 1);
	for (char *p = buf; *p != '\0'; p++)
		if (*p == '\n')
			*p = ';';
	printf("sent nsupdate=\"%s\"\n", buf);
}

static void
submit_or_die(const struct dnsup_update *u, dnsup_update_cb cb, void *arg)
{
	if (dnsup_submit(eng, u, cb, arg) == -1) {
		fprintf(stderr, "dnstool: cannot submit\n");
		exit(1);
	}
	outstanding++;
}

static void
repaired_cb(const struct dnsup_outcome *o, void *arg)
{
	print_outcome("repair", o);
	exit_code = o->result == DNSUP_R_NOERROR ? 0 : 1;
	done_one();
}

static void
rb_cb(const struct dnsup_outcome *o, const struct dnsup_found *f, void *arg)
{
	struct rbstate *st = arg;
	char diff[600], d[1024];
	struct dnsup_owner mine;
	enum dnsup_result r;

	print_found("readback", o, f);
	if (f == NULL || strcmp(st->cmd, "readback") == 0) {
		exit_code = o->result == DNSUP_R_NOERROR ? 0 : 1;
		done_one();
		return;
	}
	if (strcmp(st->cmd, "publish") == 0) {
		if (dnsup_owner_init(&mine, st->controller, st->group,
		    st->epoch) == -1 || dnsup_owner_format(&mine, st->txt,
		    sizeof(st->txt)) == -1) {
			fprintf(stderr, "dnstool: bad owner\n");
			exit(2);
		}
		r = dnsup_owner_check(st->name, f, &mine, st->adopt, &st->want,
		    &st->plan, d, sizeof(d));
		printf("owner result=%s verdict=%s detail=\"%s\"\n",
		    dnsup_result_name(r),
		    dnsup_owner_verdict_name(st->plan.verdict), d);
		if (r != DNSUP_R_NOERROR) {
			exit_code = 1;
			done_one();
			return;
		}
		memset(&st->u, 0, sizeof(st->u));
		st->u.name = st->name;
		st->u.want = st->want;
		st->u.owner_txt = st->txt;
		dnsup_owner_apply(&st->plan, &st->u);
		print_sent(&st->u);
		submit_or_die(&st->u, update_cb, st);
		done_one();
		return;
	}
	if (dnsup_rrset_compare(&st->want, &f->rrset, true, diff,
	    sizeof(diff)) == 0) {
		printf("verify in_sync=yes\n");
		exit_code = 0;
		done_one();
		return;
	}
	printf("verify in_sync=no drift=\"%s\"\n", diff);
	if (strcmp(st->cmd, "repair") != 0) {
		exit_code = 1;
		done_one();
		return;
	}
	/* Repair: replace exactly what was found (compare-and-swap). */
	memset(&st->u, 0, sizeof(st->u));
	st->u.name = st->name;
	st->u.want = st->want;
	st->u.prereq = DNSUP_PREREQ_IS;
	st->u.prev = f->rrset;
	submit_or_die(&st->u, repaired_cb, st);
	done_one();
}

static void
confirm_cb(const struct dnsup_confirm_result *r, void *arg)
{
	printf("confirm result=%s servers=\"%s\" nserver=%zu nlag=%zu "
	    "elapsed_ms=%lld lagging=\"%s\" detail=\"%s\"\n",
	    dnsup_result_name(r->result), r->servers, r->nserver, r->nlag,
	    (long long)r->elapsed_ms, r->lagging, r->detail);
	exit_code = r->result == DNSUP_R_NOERROR ? 0 : 1;
	done_one();
}

/* multi: one line per update, in submission order */
static void
multi_cb(const struct dnsup_outcome *o, void *arg)
{
	char what[300];

	snprintf(what, sizeof(what), "multi name=%s", (const char *)arg);
	print_outcome(what, o);
	if (o->result != DNSUP_R_NOERROR)
		exit_code = 1;
	done_one();
}

/* multi's dMS: an update submitted later */
struct later {
	struct dnsup_update	 u;
	char			*spec;
	struct timeval		 tv;
};

static void
later_cb(evutil_socket_t fd, short what, void *arg)
{
	struct later *l = arg;

	(void)fd;
	(void)what;
	outstanding--;		/* submit_or_die counts it again */
	submit_or_die(&l->u, multi_cb, l->spec);
	free(l);
}

/* loaded: the queries only count down */
static void
loaded_query_cb(const struct dnsup_outcome *o, const struct dnsup_found *f,
    void *arg)
{
	done_one();
}

static void
loaded_update_cb(const struct dnsup_outcome *o, void *arg)
{
	print_outcome("update", o);
	exit_code = o->result == DNSUP_R_NOERROR ? 0 : 1;
	/* The queries are not waited for. */
	event_base_loopexit(base, NULL);
}

static struct dnsup_update loaded_u;

/* The update goes out once the queries are on the wire. */
static void
loaded_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	if (dnsup_submit(eng, &loaded_u, loaded_update_cb, NULL) == -1) {
		fprintf(stderr, "dnstool: cannot submit\n");
		exit(1);
	}
}

/* many */
static int many_ok, many_fail;
static size_t many_maxbatch;

static void
many_cb(const struct dnsup_outcome *o, void *arg)
{
	if (o->result == DNSUP_R_NOERROR)
		many_ok++;
	else if (many_fail++ < 3)
		print_outcome("many", o);
	if (o->batch > many_maxbatch)
		many_maxbatch = o->batch;
	done_one();
}

int
main(int argc, char **argv)
{
	struct dnsup_update u;
	struct rbstate st;
	struct dnsup_rrset want;
	struct cfg_hostport at[DNSUP_MAX_CONFIRM];
	size_t nat = 0;
	char err[256], *zone = NULL, txt[256], buf[16384];
	const char *cmd, *prev = NULL, *ctl = NULL, *grp = NULL;
	bool empty = false, adopt = false;
	uint32_t ttl = 60;
	int64_t bound = 3000;
	uint16_t ns_port = 53;
	int ch, i;

	memset(&prm, 0, sizeof(prm));
	memset(&st, 0, sizeof(st));
	prm.timeout_ms = 1000;
	prm.retries = 1;
	while ((ch = getopt(argc, argv, "+s:z:k:t:r:Tc:b:S:H:R:")) != -1) {
		switch (ch) {
		case 's':
			if (nservers == 8 || parse_hostport(optarg,
			    &servers[nservers++]) == -1)
				usage();
			break;
		case 'z':
			zone = optarg;
			break;
		case 'k':
			if (load_key(optarg, &key) == -1) {
				fprintf(stderr, "dnstool: bad key %s\n",
				    optarg);
				return 2;
			}
			prm.key = &key;
			break;
		case 't':
			prm.timeout_ms = atoi(optarg);
			break;
		case 'r':
			prm.retries = atoi(optarg);
			break;
		case 'T':
			prm.tcp_only = true;
			break;
		case 'c':
			prm.coalesce_ms = atoi(optarg);
			break;
		case 'b':
			prm.batch_max = (size_t)atoi(optarg);
			break;
		case 'S':
			skew = atol(optarg);
			prm.wallclock = skewed_time;
			break;
		case 'H':
			prm.hosts_file = optarg;
			break;
		case 'R':
			prm.resolv_conf = optarg;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 2 || zone == NULL)
		usage();
	cmd = argv[0];
	for (i = strcmp(cmd, "many") == 0 ? 4 : strcmp(cmd, "loaded") == 0 ?
	    5 : 3;
	    strcmp(cmd, "multi") != 0 && i < argc; i++) {
		if (strcmp(argv[i], "--prev") == 0 && i + 1 < argc)
			prev = argv[++i];
		else if (strcmp(argv[i], "--empty") == 0)
			empty = true;
		else if (strcmp(argv[i], "--adopt") == 0)
			adopt = true;
		else if (strcmp(argv[i], "--epoch") == 0 && i + 1 < argc)
			st.epoch = strtoull(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--owner") == 0 && i + 2 < argc) {
			ctl = argv[++i];
			grp = argv[++i];
		} else if (strcmp(argv[i], "--ttl") == 0 && i + 1 < argc)
			ttl = (uint32_t)atoi(argv[++i]);
		else if (strcmp(argv[i], "--bound") == 0 && i + 1 < argc)
			bound = atoi(argv[++i]);
		else if (strcmp(argv[i], "--ns-port") == 0 && i + 1 < argc)
			ns_port = (uint16_t)atoi(argv[++i]);
		else if (strcmp(argv[i], "--at") == 0 && i + 1 < argc &&
		    nat < DNSUP_MAX_CONFIRM) {
			if (parse_hostport(argv[++i], &at[nat++]) == -1)
				usage();
		} else
			usage();
	}
	if (strcmp(cmd, "readback") == 0 && argc > 2 &&
	    strcmp(argv[2], "--at") == 0 && argc > 3) {
		if (parse_hostport(argv[3], &at[nat++]) == -1)
			usage();
	}
	prm.zone = zone;
	prm.servers = servers;
	prm.nserver = nservers;
	if (strcmp(cmd, "render") != 0) {
		if ((base = event_base_new()) == NULL)
			return 1;
		if ((eng = dnsup_engine_new(base, &prm, err, sizeof(err))) ==
		    NULL) {
			fprintf(stderr, "dnstool: %s\n", err);
			return 2;
		}
	}
	memset(&u, 0, sizeof(u));
	u.name = argv[1];
	st.cmd = cmd;
	st.name = argv[1];
	st.controller = ctl;
	st.group = grp;
	st.adopt = adopt;
	if (argc > 2 && argv[2][0] != '-' && strcmp(cmd, "multi") != 0 &&
	    strcmp(cmd, "loaded") != 0 && strcmp(cmd, "many") != 0)
		rrset_or_die(&want, argv[2], ttl);
	else
		memset(&want, 0, sizeof(want));
	st.want = want;

	if (strcmp(cmd, "update") == 0 || strcmp(cmd, "render") == 0) {
		if (argc < 3)
			usage();
		u.want = want;
		if (prev != NULL) {
			u.prereq = DNSUP_PREREQ_IS;
			rrset_or_die(&u.prev, prev, 0);
		} else if (empty)
			u.prereq = DNSUP_PREREQ_EMPTY;
		if (ctl != NULL) {
			struct dnsup_owner o;

			if (dnsup_owner_init(&o, ctl, grp, st.epoch) == -1 ||
			    dnsup_owner_format(&o, txt, sizeof(txt)) == -1)
				usage();
			u.owner_txt = txt;
		}
		if (strcmp(cmd, "render") == 0) {
			char srv[96] = "";

			if (nservers > 0)
				snprintf(srv, sizeof(srv), "%s %u",
				    servers[0].host,
				    (unsigned)servers[0].port);
			dnsup_update_render(buf, sizeof(buf), nservers ? srv :
			    NULL, zone, &u, 1);
			fputs(buf, stdout);
			return 0;
		}
		submit_or_die(&u, update_cb, NULL);
	} else if (strcmp(cmd, "readback") == 0 ||
	    strcmp(cmd, "verify") == 0 || strcmp(cmd, "repair") == 0 ||
	    strcmp(cmd, "publish") == 0) {
		if (strcmp(cmd, "readback") != 0 && argc < 3)
			usage();
		if (strcmp(cmd, "publish") == 0 && ctl == NULL)
			usage();
		if (dnsup_readback(eng, nat ? &at[0] : NULL, argv[1],
		    DNSUP_RB_OWNER, rb_cb, &st) == -1)
			return 1;
		outstanding++;
	} else if (strcmp(cmd, "confirm") == 0) {
		if (argc < 3)
			usage();
		if (dnsup_confirm(eng, argv[1], &want, at, nat, ns_port, bound,
		    20, confirm_cb, NULL) == -1)
			return 1;
		outstanding++;
	} else if (strcmp(cmd, "multi") == 0) {
		/* multi NAME|VALUE[|PREV[|FLAGS]] ...: submitted together */
		exit_code = 0;
		for (i = 1; i < argc; i++) {
			char *spec = argv[i], *v, *pv, *fl = NULL, *dl;
			struct later *l;

			if ((v = strchr(spec, '|')) == NULL)
				usage();
			*v++ = '\0';
			if ((pv = strchr(v, '|')) != NULL) {
				*pv++ = '\0';
				if ((fl = strchr(pv, '|')) != NULL)
					*fl++ = '\0';
			}
			memset(&u, 0, sizeof(u));
			u.name = spec;
			rrset_or_die(&u.want, v, ttl);
			if (pv != NULL && pv[0] != '\0') {
				u.prereq = DNSUP_PREREQ_IS;
				rrset_or_die(&u.prev, pv, 0);
			}
			u.supersede = fl != NULL && strchr(fl, 's') != NULL;
			if (fl == NULL || (dl = strchr(fl, 'd')) == NULL) {
				submit_or_die(&u, multi_cb, spec);
				continue;
			}
			if ((l = calloc(1, sizeof(*l))) == NULL)
				return 1;
			l->u = u;
			l->spec = spec;
			l->tv.tv_sec = atoi(dl + 1) / 1000;
			l->tv.tv_usec = atoi(dl + 1) % 1000 * 1000;
			outstanding++;
			event_base_once(base, -1, EV_TIMEOUT, later_cb, l, &l->tv);
		}
	} else if (strcmp(cmd, "loaded") == 0) {
		struct cfg_hostport silent;
		int nq = atoi(argv[1]);

		if (argc < 5 || nq <= 0 || parse_hostport(argv[2], &silent) == -1)
			usage();
		for (i = 0; i < nq; i++) {
			if (dnsup_query(eng, &silent, argv[3], 1, 0,
			    loaded_query_cb, NULL) == -1)
				return 1;
			outstanding++;
		}
		memset(&loaded_u, 0, sizeof(loaded_u));
		loaded_u.name = argv[3];
		rrset_or_die(&loaded_u.want, argv[4], ttl);
		{
			struct timeval tv = { 0, 50000 };

			event_base_once(base, -1, EV_TIMEOUT, loaded_timer_cb,
			    NULL, &tv);
		}
	} else if (strcmp(cmd, "many") == 0) {
		int n = atoi(argv[1]);
		static char names[4096][DNSUP_NAME_MAX];

		if (argc < 4 || n <= 0 || n > 4096)
			usage();
		rrset_or_die(&want, argv[3], ttl);
		for (i = 0; i < n; i++) {
			snprintf(names[i], sizeof(names[i]), "%s-%d.%s",
			    argv[2], i, zone);
			u.name = names[i];
			u.want = want;
			submit_or_die(&u, many_cb, NULL);
		}
	} else
		usage();
	if (outstanding > 0)
		event_base_dispatch(base);
	if (strcmp(cmd, "many") == 0) {
		struct dnsup_stats s;

		dnsup_engine_stats(eng, &s);
		printf("many ok=%d failed=%d messages=%llu max_batch=%zu "
		    "split=%llu\n", many_ok, many_fail,
		    (unsigned long long)s.messages, many_maxbatch,
		    (unsigned long long)s.split);
		exit_code = many_fail == 0 ? 0 : 1;
	}
	dnsup_engine_free(eng);
	event_base_free(base);
	return exit_code;
}
