/*
 * probetool.c - run the probe engine against URLs and print each result
 * as one line of key=value pairs, for the probe fault tests.
 *
 *   probetool [-t timeout_ms] [-i interval_ms] [-f fastinter_ms]
 *             [-n rounds] [-s expect_status] [-S standby_expect_status]
 *             [-y] [-b expect_body] [-H host] [-k] [-C ca_file] [-F]
 *             [-m normal|fast|down] [-R remove_after_ms] [-T max_s]
 *             [-u new_url [-X update_after_ms]] URL...
 *
 *   -y   judge by the standby status set      -k   tls_verify off
 *   -F   a fresh connection every round      -n   rounds per URL (1)
 *   -R   remove every probe after this long (mid-transfer if need be)
 *   -u   after round 1, probe_update() to new_url from the callback;
 *        with -X, instead update every probe after that long (a transfer
 *        in flight is cancelled)
 *
 * Output, one line per result, then a summary:
 *
 *   url=http://127.0.0.1:4000/ round=1 ok=0 reason=timeout status=0
 *       latency_us=500123 late_us=-12 body_bytes=0 standby=0 reconnected=0
 *       retried=0 detail="..." started_ms=123456
 *   stats probes=0 started=1 finished=1 skipped=0 wakeups=1 reconnects=0
 *       retries=0 late=0 cap=0 held=0
 *
 * A probe is removed from inside the result callback after its last
 * round, so the tool also exercises removal from the callback.
 */
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <curl/curl.h>

#include "probes/curlmem.h"
#include "probes/probe.h"

struct target {
	const char	*url;
	struct probe	*p;
	int		 rounds;
};

static struct event_base *base;
static struct probe_engine *engine;
static struct target *targets;
static int	 ntargets, rounds_wanted = 1, live;
static struct probe_spec spec;
static const char *new_url;
static bool	 update_in_cb;

static int
parse_set(const char *s, struct cfg_status_set *set)
{
	char	*end;
	long	 lo, hi;

	memset(set, 0, sizeof(*set));
	while (*s != '\0') {
		if (set->n == CFG_MAX_RANGES)
			return -1;
		lo = strtol(s, &end, 10);
		if (end == s)
			return -1;
		hi = lo;
		s = end;
		if (*s == '-') {
			hi = strtol(s + 1, &end, 10);
			s = end;
		}
		set->r[set->n].lo = (int)lo;
		set->r[set->n].hi = (int)hi;
		set->n++;
		if (*s == ',')
			s++;
		else if (*s != '\0')
			return -1;
	}
	return 0;
}

static void
print_quoted(const char *s)
{
	putchar('"');
	for (; *s != '\0'; s++)
		putchar(*s == '"' ? '\'' : (*s == '\n' ? ' ' : *s));
	putchar('"');
}

static void
result_cb(struct probe *p, const struct probe_result *r, void *udata)
{
	struct target	*t = udata;

	t->rounds++;
	printf("url=%s round=%d ok=%d reason=%s status=%d latency_us=%lld"
	    " late_us=%lld body_bytes=%zu standby=%d reconnected=%d retried=%d"
	    " immediate=%d"
	    " detail=", t->url, t->rounds, r->ok, probe_reason_name(r->reason),
	    r->http_status, (long long)r->latency_us, (long long)r->late_us,
	    r->body_bytes, r->standby, r->reconnected, r->retried, r->immediate);
	print_quoted(r->detail);
	/* When the check started (monotonic ms): the schedule's tests. */
	printf(" started_ms=%lld\n", (long long)r->started_ms);
	fflush(stdout);
	if (update_in_cb && t->rounds == 1 && rounds_wanted > 1) {
		spec.url = new_url;
		if (probe_update(p, &spec) != 0)
			printf("update failed\n");
		t->url = new_url;
	}
	if (t->rounds >= rounds_wanted) {
		probe_remove(p);
		t->p = NULL;
		if (--live == 0)
			event_base_loopexit(base, NULL);
	}
}

static void
update_cb(evutil_socket_t fd, short what, void *arg)
{
	int	 i, running = 0, err;

	(void)fd;
	(void)what;
	(void)arg;
	spec.url = new_url;
	for (i = 0; i < ntargets; i++) {
		if (targets[i].p == NULL)
			continue;
		running += probe_is_running(targets[i].p);
		if ((err = probe_update(targets[i].p, &spec)) != 0)
			printf("update failed: %s\n", probe_strerror(err));
		targets[i].url = new_url;
	}
	printf("updated running=%d\n", running);
}

static void
stop_cb(evutil_socket_t fd, short what, void *arg)
{
	struct probe_stats st;
	int		 i, removed = 0, running = 0;

	(void)fd;
	(void)what;
	probe_engine_stats(engine, &st);
	for (i = 0; i < ntargets; i++) {
		if (targets[i].p == NULL)
			continue;
		running += probe_is_running(targets[i].p);
		probe_remove(targets[i].p);
		targets[i].p = NULL;
		removed++;
	}
	printf("removed=%d running=%d%s\n", removed, running,
	    arg != NULL ? " timeout=1" : "");
	event_base_loopexit(base, NULL);
}

int
main(int argc, char **argv)
{
	struct probe_stats st;
	struct event	*stop = NULL, *limit = NULL, *upd = NULL;
	struct timeval	 tv;
	long		 remove_ms = -1, max_s = 60, update_ms = -1;
	int		 ch, i, rc = 1;
	bool		 standby = false;
	enum probe_mode	 mode = PROBE_MODE_NORMAL;

	probe_spec_init(&spec);
	while ((ch = getopt(argc, argv, "t:i:f:n:s:S:yb:H:kC:Fm:R:T:u:X:")) != -1) {
		switch (ch) {
		case 't':
			spec.timeout_ms = atol(optarg);
			break;
		case 'i':
			spec.interval_ms = atol(optarg);
			break;
		case 'f':
			spec.fastinter_ms = atol(optarg);
			break;
		case 'n':
			rounds_wanted = atoi(optarg);
			break;
		case 's':
			if (parse_set(optarg, &spec.expect_status) != 0)
				goto usage;
			break;
		case 'S':
			if (parse_set(optarg, &spec.standby_expect_status) != 0)
				goto usage;
			break;
		case 'y':
			standby = true;
			break;
		case 'b':
			spec.expect_body = optarg;
			break;
		case 'H':
			spec.host = optarg;
			break;
		case 'k':
			spec.tls_verify = false;
			break;
		case 'C':
			spec.ca_file = optarg;
			break;
		case 'F':
			spec.fresh_connect = true;
			break;
		case 'm':
			mode = strcmp(optarg, "fast") == 0 ? PROBE_MODE_FAST :
			    strcmp(optarg, "down") == 0 ? PROBE_MODE_DOWN :
			    PROBE_MODE_NORMAL;
			break;
		case 'R':
			remove_ms = atol(optarg);
			break;
		case 'T':
			max_s = atol(optarg);
			break;
		case 'u':
			new_url = optarg;
			break;
		case 'X':
			update_ms = atol(optarg);
			break;
		default:
			goto usage;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0)
		goto usage;

	signal(SIGPIPE, SIG_IGN);
	curlmem_global_init(CURL_GLOBAL_DEFAULT);	/* as failoverd */
	if ((base = event_base_new()) == NULL ||
	    (engine = probe_engine_new(base, result_cb)) == NULL ||
	    (targets = calloc((size_t)argc, sizeof(*targets))) == NULL) {
		fprintf(stderr, "probetool: setup failed\n");
		goto out;
	}
	ntargets = argc;
	for (i = 0; i < argc; i++) {
		int	 err;

		targets[i].url = argv[i];
		spec.url = argv[i];
		if ((err = probe_add(engine, &spec, &targets[i],
		    &targets[i].p)) != 0) {
			printf("url=%s error=\"%s\"\n", argv[i],
			    probe_strerror(err));
			goto out;
		}
		probe_set_mode(targets[i].p, mode);
		probe_set_standby(targets[i].p, standby);
		live++;
	}
	if (remove_ms >= 0) {
		tv.tv_sec = remove_ms / 1000;
		tv.tv_usec = (remove_ms % 1000) * 1000;
		stop = evtimer_new(base, stop_cb, NULL);
		if (stop == NULL || evtimer_add(stop, &tv) != 0)
			goto out;
	}
	if (new_url != NULL && update_ms >= 0) {
		tv.tv_sec = update_ms / 1000;
		tv.tv_usec = (update_ms % 1000) * 1000;
		upd = evtimer_new(base, update_cb, NULL);
		if (upd == NULL || evtimer_add(upd, &tv) != 0)
			goto out;
	} else if (new_url != NULL)
		update_in_cb = true;
	tv.tv_sec = max_s;
	tv.tv_usec = 0;
	limit = evtimer_new(base, stop_cb, &limit);
	if (limit == NULL || evtimer_add(limit, &tv) != 0)
		goto out;
	event_base_dispatch(base);
	probe_engine_stats(engine, &st);
	printf("stats probes=%llu started=%llu finished=%llu skipped=%llu"
	    " wakeups=%llu reconnects=%llu retries=%llu late=%llu cap=%llu"
	    " held=%llu\n",
	    (unsigned long long)st.probes, (unsigned long long)st.started,
	    (unsigned long long)st.finished, (unsigned long long)st.skipped,
	    (unsigned long long)st.wakeups, (unsigned long long)st.reconnects,
	    (unsigned long long)st.retries, (unsigned long long)st.late,
	    (unsigned long long)st.cap, (unsigned long long)st.held);
	rc = 0;
out:
	if (stop != NULL)
		event_free(stop);
	if (limit != NULL)
		event_free(limit);
	if (upd != NULL)
		event_free(upd);
	probe_engine_free(engine);
	free(targets);
	if (base != NULL)
		event_base_free(base);
	curlmem_global_cleanup();
	return rc;
usage:
	fprintf(stderr, "usage: probetool [-t ms] [-i ms] [-f ms] [-n rounds]"
	    " [-s set] [-S set] [-y] [-b body] [-H host] [-k] [-C ca]"
	    " [-F] [-m mode] [-R ms] [-T s] [-u url [-X ms]] URL...\n");
	return 2;
}
