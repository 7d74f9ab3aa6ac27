/*
 * probe_benchrun.c - drive failoverd's probe engine against many URLs for
 * a fixed time and measure what it costs.
 *
 *   probe_benchrun -u urlfile [-i interval_ms] [-t timeout_ms]
 *                  [-w warmup_s] [-d seconds] [-F]
 *
 * Adds one probe per URL (one per line), runs the loop for warmup_s (the
 * first rounds spread over the first interval and connections open), then
 * measures for -d seconds and prints key=value lines:
 *
 *   probes=N  results=N  probes_per_s=...  failures=N  skipped=N
 *   cpu_us_per_probe=...  (user + system CPU of this process / results)
 *   cpu_util=...          (CPU seconds per second: 1.0 is one core)
 *   late_p50_us=... late_p99_us=... late_max_us=...
 *   rss_kib=... rss_per_endpoint_bytes=...  (VmRSS now / N, all of it)
 *   rss_added_per_endpoint_bytes=...         (growth since before the
 *                                             first probe / N)
 *   wakeups_per_probe=...
 */
#include <sys/resource.h>
#include <sys/time.h>

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <curl/curl.h>

#include "probes/curlmem.h"
#include "probes/probe.h"

#define HIST_US		10		/* bucket width */
#define HIST_N		200000		/* 2 s of buckets */

static struct event_base *base;
static struct probe_engine *engine;
static bool	 measuring;
static unsigned long long results, failures;
static unsigned long long *hist;
static long long late_max;
static struct rusage ru0;
static struct probe_stats st0;
static struct curlmem_stats ms0;
static double	 t0;
static int	 nurls;
static long	 rss_base;		/* before any probe was added */
static char	 first_fail[512];
static long long sec_late_max[64];	/* per measured second */
static int	 nsec;

static double
mono_s(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long
rss_kib(void)
{
	FILE	*f = fopen("/proc/self/status", "r");
	char	 line[256];
	long	 kib = -1;

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

static double
tv_s(const struct timeval *tv)
{
	return (double)tv->tv_sec + (double)tv->tv_usec / 1e6;
}

static void
result_cb(struct probe *p, const struct probe_result *r, void *udata)
{
	long long	 late = r->late_us, b;
	int		 i;

	(void)p;
	(void)udata;
	if (!measuring)
		return;
	results++;
	if (!r->ok) {
		failures++;
		if (first_fail[0] == '\0')
			snprintf(first_fail, sizeof(first_fail), "%s: %s",
			    probe_reason_name(r->reason), r->detail);
	}
	if (late > late_max)
		late_max = late;
	i = (int)(mono_s() - t0);
	if (i >= 0 && i < 64) {
		if (late > sec_late_max[i])
			sec_late_max[i] = late;
		if (i + 1 > nsec)
			nsec = i + 1;
	}
	b = late < 0 ? 0 : late / HIST_US;
	if (b >= HIST_N)
		b = HIST_N - 1;
	hist[b]++;
}

static long long
percentile(double q)
{
	unsigned long long	 want, seen = 0, total = 0;
	long			 i;

	for (i = 0; i < HIST_N; i++)
		total += hist[i];
	if (total == 0)
		return 0;
	want = (unsigned long long)(q * (double)total);
	if (want >= total)
		want = total - 1;
	for (i = 0; i < HIST_N; i++) {
		seen += hist[i];
		if (seen > want)
			return (long long)i * HIST_US;
	}
	return (long long)HIST_N * HIST_US;
}

static void
warm_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	measuring = true;
	getrusage(RUSAGE_SELF, &ru0);
	probe_engine_stats(engine, &st0);
	curlmem_stats(&ms0);
	t0 = mono_s();
}

static void
end_cb(evutil_socket_t fd, short what, void *arg)
{
	struct rusage		 ru1;
	struct probe_stats	 st1;
	struct curlmem_stats	 ms;
	double			 secs, cpu;
	long			 rss = rss_kib();
	int			 i;

	(void)fd;
	(void)what;
	(void)arg;
	getrusage(RUSAGE_SELF, &ru1);
	probe_engine_stats(engine, &st1);
	secs = mono_s() - t0;
	cpu = tv_s(&ru1.ru_utime) - tv_s(&ru0.ru_utime) +
	    tv_s(&ru1.ru_stime) - tv_s(&ru0.ru_stime);
	printf("probes=%d\n", nurls);
	printf("seconds=%.1f\n", secs);
	printf("results=%llu\n", results);
	printf("probes_per_s=%.0f\n", (double)results / secs);
	printf("failures=%llu\n", failures);
	if (first_fail[0] != '\0')
		printf("first_failure=\"%s\"\n", first_fail);
	printf("skipped=%llu\n", (unsigned long long)(st1.skipped - st0.skipped));
	printf("cpu_util=%.3f\n", cpu / secs);
	printf("cpu_user_s=%.2f\ncpu_sys_s=%.2f\n",
	    tv_s(&ru1.ru_utime) - tv_s(&ru0.ru_utime),
	    tv_s(&ru1.ru_stime) - tv_s(&ru0.ru_stime));
	printf("cpu_us_per_probe=%.1f\n",
	    results ? cpu * 1e6 / (double)results : 0.0);
	printf("late_p50_us=%lld\n", percentile(0.50));
	printf("late_p99_us=%lld\n", percentile(0.99));
	printf("late_max_us=%lld\n", late_max);
	printf("ctx_switches_vol=%ld\nctx_switches_invol=%ld\n",
	    ru1.ru_nvcsw - ru0.ru_nvcsw, ru1.ru_nivcsw - ru0.ru_nivcsw);
	printf("worst_second_late_max_us=");
	for (i = 0; i < 64 && i < nsec; i++)
		printf("%s%lld", i ? "," : "", sec_late_max[i]);
	printf("\n");
	printf("wakeups_per_probe=%.3f\n", results ? (double)(st1.wakeups -
	    st0.wakeups) / (double)results : 0.0);
	curlmem_stats(&ms);
	printf("curlmem_cached_kib=%zu\ncurlmem_reused_per_probe=%.1f\n"
	    "curlmem_fresh_per_probe=%.2f\n", ms.cached_bytes / 1024,
	    results ? (double)(ms.reused - ms0.reused) / (double)results : 0.0,
	    results ? (double)(ms.fresh - ms0.fresh) / (double)results : 0.0);
	printf("easy_handles=%llu\n", (unsigned long long)st1.handles);
	printf("reconnects=%llu\n", (unsigned long long)(st1.reconnects -
	    st0.reconnects));
	printf("rss_kib=%ld\n", rss);
	printf("rss_per_endpoint_bytes=%.0f\n", (double)rss * 1024.0 / nurls);
	printf("rss_base_kib=%ld\n", rss_base);
	printf("rss_added_per_endpoint_bytes=%.0f\n",
	    (double)(rss - rss_base) * 1024.0 / nurls);
	fflush(stdout);
	event_base_loopexit(base, NULL);
}

int
main(int argc, char **argv)
{
	struct probe_spec spec;
	struct event	*warm, *end;
	struct timeval	 tv;
	struct rlimit	 rl;
	FILE		*f;
	char		 line[512], **urls = NULL;
	const char	*urlfile = NULL;
	long		 warm_s = 3, dur_s = 20;
	int		 ch, i, cap = 0, err;
	struct probe	*p;

	probe_spec_init(&spec);
	spec.timeout_ms = 900;
	while ((ch = getopt(argc, argv, "u:i:t:w:d:F")) != -1) {
		switch (ch) {
		case 'u':
			urlfile = optarg;
			break;
		case 'i':
			spec.interval_ms = atol(optarg);
			break;
		case 't':
			spec.timeout_ms = atol(optarg);
			break;
		case 'w':
			warm_s = atol(optarg);
			break;
		case 'd':
			dur_s = atol(optarg);
			break;
		case 'F':
			spec.fresh_connect = true;
			break;
		default:
			return 2;
		}
	}
	if (urlfile == NULL || (f = fopen(urlfile, "r")) == NULL)
		return 2;
	while (fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '\0')
			continue;
		if (nurls == cap) {
			cap = cap ? cap * 2 : 1024;
			urls = realloc(urls, (size_t)cap * sizeof(*urls));
			if (urls == NULL)
				return 1;
		}
		if ((urls[nurls++] = strdup(line)) == NULL)
			return 1;
	}
	fclose(f);
	if (nurls == 0)
		return 2;
	rl.rlim_cur = rl.rlim_max = 200000;
	if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
		getrlimit(RLIMIT_NOFILE, &rl);
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	signal(SIGPIPE, SIG_IGN);
	if ((hist = calloc(HIST_N, sizeof(*hist))) == NULL)
		return 1;
	/* As failoverd does (controller/shell/daemon.c). */
	if (curlmem_global_init(CURL_GLOBAL_DEFAULT) != 0)
		return 1;
	if ((base = event_base_new()) == NULL ||
	    (engine = probe_engine_new(base, result_cb)) == NULL)
		return 1;
	rss_base = rss_kib();
	for (i = 0; i < nurls; i++) {
		spec.url = urls[i];
		if ((err = probe_add(engine, &spec, NULL, &p)) != 0) {
			fprintf(stderr, "probe_add %s: %s\n", urls[i],
			    probe_strerror(err));
			return 1;
		}
	}
	warm = evtimer_new(base, warm_cb, NULL);
	end = evtimer_new(base, end_cb, NULL);
	tv.tv_sec = warm_s;
	tv.tv_usec = 0;
	evtimer_add(warm, &tv);
	tv.tv_sec = warm_s + dur_s;
	evtimer_add(end, &tv);
	event_base_dispatch(base);
	event_free(warm);
	event_free(end);
	probe_engine_free(engine);
	event_base_free(base);
	curlmem_global_cleanup();
	for (i = 0; i < nurls; i++)
		free(urls[i]);
	free(urls);
	free(hist);
	return 0;
}
