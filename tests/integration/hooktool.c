/*
 * hooktool.c - drive controller/shell/hook.c and controller/shell/sdnotify.c from
 * tests, printing what they report as key=value lines.
 *
 *   hooktool run [-n COUNT] [-t TIMEOUT_MS] [-g GRACE_MS] [-d DRAIN_MS]
 *       [-l LINE_MAX] [-o OUTPUT_MAX] [-c CANCEL_MS] [-T LIMIT_MS] [-q]
 *       [-P SPAWN_THREADS] [-R] [-F N] [-S MS] [-e NAME=VALUE]...
 *       -- PROGRAM [ARG]...
 *     Runs COUNT copies of the hook at once on one loop and prints
 *       start idx=I pid=P
 *       line idx=I stream=stdout|stderr flags=F len=N text=TEXT
 *       done idx=I outcome=O status=S signal=G killed=K duration_ms=D
 *           out_bytes=B dropped_bytes=X truncated=T [detail=...]
 *       summary hooks=N done=N lines=N fds_before=A fds_after=B
 *           rss_grew_kb=R start_ms=S elapsed_ms=E
 *     -q leaves out the line records.  -R makes hooktool a child
 *     subreaper, so that grandchildren orphaned by a hook become its own
 *     children, not the runner's: they are reaped here at the end, as
 *     "foreign pid=P", which shows the runner left them alone.  -F N
 *     forks N children of hooktool's own that exit at once with status 5,
 *     before the hooks start, and reaps them only at the end: children
 *     that are not hooks, which the runner must not take.  -S MS: after
 *     MS, take the first hook's exit with a blocking waitpid, as a careless
 *     module would (the runner must still end that hook, at its timeout).  Exits 0 when every hook reported
 *     done exactly once and no fd leaked, 1 otherwise.
 *
 *   hooktool notify DIR
 *     Binds unix datagram sockets (a path in DIR, and an abstract name),
 *     points NOTIFY_SOCKET at each in turn, sends every kind of message
 *     and prints what arrived: "notify sock=path|abstract msg=A|B".
 *     Also prints watchdog_usec for a few WATCHDOG_* settings.
 */
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "controller/shell/hook.h"
#include "controller/shell/sdnotify.h"

struct run {
	int		 idx;
	int		 ndone;
	struct hook	*h;
};

static int	 quiet;
static size_t	 nlines;
static size_t	 ndone;
static size_t	 nhooks;

static int
count_fds(void)
{
	DIR *d;
	int n = 0;

	if ((d = opendir("/proc/self/fd")) == NULL)
		return -1;
	while (readdir(d) != NULL)
		n++;
	closedir(d);
	return n;
}

static long
maxrss_kb(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
line_cb(struct hook *h, enum hook_stream stream, const char *line, size_t len,
    unsigned flags, void *arg)
{
	struct run *run = arg;
	char f[32] = "";

	nlines++;
	if (quiet && !(flags & HOOK_LINE_TRUNCATED))
		return;
	if (flags & HOOK_LINE_CUT)
		strcat(f, "cut,");
	if (flags & HOOK_LINE_NOEOL)
		strcat(f, "noeol,");
	if (flags & HOOK_LINE_TRUNCATED)
		strcat(f, "truncated,");
	if (f[0] == '\0')
		strcpy(f, "-");
	else
		f[strlen(f) - 1] = '\0';
	printf("line idx=%d group=%s phase=%s stream=%s flags=%s len=%zu "
	    "text=%s\n", run->idx, hook_group(h), hook_phase(h),
	    hook_stream_name(stream), f, len, line);
}

static void
done_cb(struct hook *h, const struct hook_result *res, void *arg)
{
	struct run *run = arg;

	run->ndone++;
	run->h = NULL;
	ndone++;
	printf("done idx=%d outcome=%s status=%d signal=%d killed=%d "
	    "duration_ms=%lld out_bytes=%llu dropped_bytes=%llu truncated=%d "
	    "ok=%d", run->idx, hook_outcome_name(res->outcome), res->status,
	    res->signal, res->killed, (long long)res->duration_ms,
	    (unsigned long long)res->out_bytes,
	    (unsigned long long)res->dropped_bytes, res->truncated,
	    hook_result_ok(res));
	if (res->outcome == HOOK_NOSTART)
		printf(" error=%d", res->error);
	if (res->detail[0] != '\0')
		printf(" detail=%s", res->detail);
	printf("\n");
	fflush(stdout);
}

static void
idle_cb(struct hook_runner *r, void *arg)
{
	event_base_loopexit(arg, NULL);
}

static void
limit_cb(evutil_socket_t fd, short what, void *arg)
{
	printf("error limit reached\n");
	event_base_loopexit(arg, NULL);
}

static void
steal_cb(evutil_socket_t fd, short what, void *arg)
{
	struct run *run = arg;
	pid_t pid = run->h != NULL ? hook_pid(run->h) : 0;

	if (pid > 0 && waitpid(pid, NULL, 0) == pid)
		printf("stole pid=%ld\n", (long)pid);
}

static void
cancel_cb(evutil_socket_t fd, short what, void *arg)
{
	hook_runner_cancel_all(arg);
}

static int
cmd_run(int argc, char **argv)
{
	struct hook_runner_opts opts = { 0 };
	struct hook_spec spec = { 0 };
	struct event_base *base = NULL;
	struct hook_runner *r = NULL;
	struct event *limit = NULL, *cancel = NULL, *steal = NULL;
	struct run *runs = NULL;
	struct timeval tv;
	char **env = NULL;
	size_t nenv = 0;
	long count = 1, cancel_ms = -1, steal_ms = -1, limit_ms = 60000, rss0, nforeign = 0;
	int fds0, fds1, ch, i, rc = 1, subreaper = 0, st;
	pid_t pid;
	int64_t t0, start_ms = 0;

	if ((env = calloc((size_t)argc + 1, sizeof(*env))) == NULL)
		return 1;
	while ((ch = getopt(argc, argv, "n:t:g:d:l:o:c:T:qRF:S:P:e:")) != -1) {
		switch (ch) {
		case 'n':
			count = atol(optarg);
			break;
		case 't':
			spec.timeout_ms = atol(optarg);
			break;
		case 'g':
			opts.kill_grace_ms = atol(optarg);
			break;
		case 'd':
			opts.drain_ms = atol(optarg);
			break;
		case 'l':
			opts.line_max = (size_t)atol(optarg);
			break;
		case 'o':
			opts.output_max = (size_t)atol(optarg);
			break;
		case 'c':
			cancel_ms = atol(optarg);
			break;
		case 'T':
			limit_ms = atol(optarg);
			break;
		case 'q':
			quiet = 1;
			break;
		case 'R':
			subreaper = 1;
			break;
		case 'P':
			opts.spawn_threads = atoi(optarg);
			break;
		case 'S':
			steal_ms = atol(optarg);
			break;
		case 'F':
			nforeign = atol(optarg);
			break;
		case 'e':
			env[nenv++] = optarg;
			break;
		default:
			goto out;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1 || count < 1) {
		fprintf(stderr, "hooktool run: no program\n");
		goto out;
	}
	if ((runs = calloc((size_t)count, sizeof(*runs))) == NULL)
		goto out;

	if (subreaper && prctl(PR_SET_CHILD_SUBREAPER, 1) == -1) {
		perror("prctl");
		goto out;
	}
	for (i = 0; i < nforeign; i++) {
		if ((pid = fork()) == -1) {
			perror("fork");
			goto out;
		}
		if (pid == 0)
			_exit(5);
		printf("forked pid=%ld\n", (long)pid);
	}
	if ((base = event_base_new()) == NULL)
		goto out;
	/* After the base exists: it holds fds of its own. */
	fds0 = count_fds();
	rss0 = maxrss_kb();
	t0 = now_ms();
	if ((r = hook_runner_new(base, &opts)) == NULL) {
		fprintf(stderr, "hooktool: hook_runner_new failed\n");
		goto out;
	}
	hook_runner_set_idle_cb(r, idle_cb, base);
	spec.argv = argv;
	spec.envp = env;
	spec.group = "g1";
	spec.phase = "promote";
	spec.line_cb = line_cb;
	spec.done_cb = done_cb;
	for (i = 0; i < count; i++) {
		int e;

		runs[i].idx = i;
		spec.arg = &runs[i];
		if ((e = hook_start(r, &spec, &runs[i].h)) != 0) {
			printf("error idx=%d start=%s\n", i, hook_strerror(e));
			goto out;
		}
		nhooks++;
		printf("start idx=%d pid=%ld\n", i, (long)hook_pid(runs[i].h));
	}
	start_ms = now_ms() - t0;
	fflush(stdout);
	limit = evtimer_new(base, limit_cb, base);
	tv.tv_sec = limit_ms / 1000;
	tv.tv_usec = (limit_ms % 1000) * 1000;
	evtimer_add(limit, &tv);
	if (cancel_ms >= 0) {
		cancel = evtimer_new(base, cancel_cb, r);
		tv.tv_sec = cancel_ms / 1000;
		tv.tv_usec = (cancel_ms % 1000) * 1000;
		evtimer_add(cancel, &tv);
	}
	if (steal_ms >= 0) {
		steal = evtimer_new(base, steal_cb, &runs[0]);
		tv.tv_sec = steal_ms / 1000;
		tv.tv_usec = (steal_ms % 1000) * 1000;
		evtimer_add(steal, &tv);
	}
	event_base_dispatch(base);
	printf("running_after_loop=%zu\n", hook_runner_count(r));
	hook_runner_free(r);
	r = NULL;
	if (limit != NULL)
		event_free(limit);
	if (cancel != NULL)
		event_free(cancel);
	if (steal != NULL)
		event_free(steal);
	limit = cancel = steal = NULL;
	fds1 = count_fds();
	/* Orphans the runner must not have taken; bounded: 5 s. */
	for (i = 0; (subreaper || nforeign > 0) && i < 500; i++) {
		pid = waitpid(-1, &st, WNOHANG);
		if (pid > 0) {
			printf("foreign pid=%ld status=%d signal=%d\n",
			    (long)pid, WIFEXITED(st) ? WEXITSTATUS(st) : -1,
			    WIFSIGNALED(st) ? WTERMSIG(st) : 0);
			i = 0;
			continue;
		}
		if (pid == -1)
			break;		/* ECHILD: none left */
		usleep(10000);
	}
	printf("summary hooks=%zu done=%zu lines=%zu fds_before=%d "
	    "fds_after=%d rss_grew_kb=%ld start_ms=%lld elapsed_ms=%lld\n",
	    nhooks, ndone, nlines, fds0, fds1, maxrss_kb() - rss0,
	    (long long)start_ms, (long long)(now_ms() - t0));
	rc = 0;
	for (i = 0; i < count; i++)
		if (runs[i].ndone != 1)
			rc = 1;
	if (fds0 != fds1)
		rc = 1;
out:
	hook_runner_free(r);
	if (steal != NULL)
		event_free(steal);
	if (limit != NULL)
		event_free(limit);
	if (cancel != NULL)
		event_free(cancel);
	if (base != NULL)
		event_base_free(base);
	free(runs);
	free(env);
	return rc;
}

static int
recv_print(int fd, const char *name)
{
	char buf[1024];
	ssize_t n;

	n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
	if (n < 0) {
		printf("notify sock=%s msg=NONE\n", name);
		return -1;
	}
	buf[n] = '\0';
	for (char *c = buf; *c != '\0'; c++)
		if (*c == '\n')
			*c = '|';
	printf("notify sock=%s msg=%s\n", name, buf);
	return 0;
}

static int
notify_round(const char *name)
{
	int rc;

	rc = sdnotify_ready();
	printf("notify sock=%s call=ready rc=%d\n", name, rc);
	rc = sdnotify_reloading();
	printf("notify sock=%s call=reloading rc=%d\n", name, rc);
	rc = sdnotify_status("serving %d groups\nsecond line", 3);
	printf("notify sock=%s call=status rc=%d\n", name, rc);
	rc = sdnotify_watchdog();
	printf("notify sock=%s call=watchdog rc=%d\n", name, rc);
	rc = sdnotify_stopping();
	printf("notify sock=%s call=stopping rc=%d\n", name, rc);
	return 0;
}

static int
bind_dgram(const char *path, size_t plen, bool abstract)
{
	struct sockaddr_un sun;
	socklen_t len;
	int fd;

	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, plen);
	len = offsetof(struct sockaddr_un, sun_path) + plen;
	if (abstract)
		sun.sun_path[0] = '\0';
	else
		len++;
	if (bind(fd, (struct sockaddr *)&sun, len) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

static int
cmd_notify(int argc, char **argv)
{
	char path[108], abs[64], pid[32];
	int fd, i, rc = 0;

	if (argc < 2)
		return 1;
	unsetenv("NOTIFY_SOCKET");
	printf("notify sock=unset call=ready rc=%d\n", sdnotify_ready());

	snprintf(path, sizeof(path), "%s/notify.sock", argv[1]);
	unlink(path);
	if ((fd = bind_dgram(path, strlen(path), false)) == -1) {
		perror("bind");
		return 1;
	}
	setenv("NOTIFY_SOCKET", path, 1);
	notify_round("path");
	for (i = 0; i < 5; i++)
		rc |= recv_print(fd, "path");
	close(fd);
	unlink(path);

	snprintf(abs, sizeof(abs), "@failoverd-hooktool-%ld", (long)getpid());
	if ((fd = bind_dgram(abs, strlen(abs), true)) == -1) {
		perror("bind abstract");
		return 1;
	}
	setenv("NOTIFY_SOCKET", abs, 1);
	notify_round("abstract");
	for (i = 0; i < 5; i++)
		rc |= recv_print(fd, "abstract");
	close(fd);
	/* Nobody listens any more: an error, not a hang. */
	printf("notify sock=gone call=ready rc=%d\n", sdnotify_ready());
	setenv("NOTIFY_SOCKET", "relative/path", 1);
	printf("notify sock=bad call=ready rc=%d\n", sdnotify_ready());

	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
	printf("watchdog case=unset usec=%llu\n",
	    (unsigned long long)sdnotify_watchdog_usec());
	setenv("WATCHDOG_USEC", "20000000", 1);
	printf("watchdog case=nopid usec=%llu\n",
	    (unsigned long long)sdnotify_watchdog_usec());
	snprintf(pid, sizeof(pid), "%ld", (long)getpid());
	setenv("WATCHDOG_PID", pid, 1);
	printf("watchdog case=ourpid usec=%llu\n",
	    (unsigned long long)sdnotify_watchdog_usec());
	setenv("WATCHDOG_PID", "1", 1);
	printf("watchdog case=otherpid usec=%llu\n",
	    (unsigned long long)sdnotify_watchdog_usec());
	return rc != 0;
}

int
main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc >= 2 && strcmp(argv[1], "run") == 0)
		return cmd_run(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "notify") == 0)
		return cmd_notify(argc - 1, argv + 1);
	fprintf(stderr, "usage: hooktool run [options] -- PROGRAM [ARG]...\n"
	    "       hooktool notify DIR\n");
	return 2;
}
