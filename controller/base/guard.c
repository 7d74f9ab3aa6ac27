/*
 * guard.c - the controller's guard against trouble of its own host; see
 * guard.h.
 *
 * Descriptors.  At start the soft RLIMIT_NOFILE is raised to the hard
 * limit: the default soft limit (1024) is a relic of select(2), and every
 * probe, DNS query and hook needs descriptors.  The API takes at most its
 * share of them: api_max_connections, but never so many that the reserve
 * is touched.  The reserve counts what the daemon itself may hold at
 * once: GUARD_BASE_FDS for the loop, the store, the log and the listener;
 * two per probe (a kept-alive connection and the one replacing it);
 * GUARD_FDS_PER_GROUP per group (a running hook's three pipes and its
 * process, a DNS query's socket).  Half of what is left above the reserve
 * may go to the API, so that even a full API leaves room.  With the usual
 * limits (a hard limit of 1,048,576 under systemd; 1,024 at the least) the
 * share is api_max_connections; only with very many groups and a small
 * limit is it lowered, and then the daemon says so at start.
 *
 * Priorities: see DAEMON_PRIO_* in guard.h.  The loop is told to
 * look for other events after GUARD_API_BURST callbacks of the API's
 * priority, so that even a queue of busy API connections cannot hold it:
 * probes and DNS are polled again in between.
 *
 * libevent logs its own complaints to stderr, one line each, with no
 * limit (15 million "Error from accept() call" lines in 20 s, in the
 * attack that prompted this file).  They come to our log instead, as
 * event=libevent, through a limiter.
 */
#include "controller/base/guard.h"

#include <sys/resource.h>

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <event2/event.h>

#include "config/config.h"
#include "controller/base/log.h"

#define GUARD_BASE_FDS		64
#define GUARD_FDS_PER_GROUP	4
#define GUARD_API_BURST		8	/* API callbacks per look around */
#define GUARD_NOFILE_MAX	(1L << 20)	/* never more, whatever the
						   hard limit says */

_Static_assert(DAEMON_PRIO_CORE == DAEMON_NPRIO / 2,
    "the core priority must be libevent's default");

long
guard_nofile_raise(void)
{
	struct rlimit rl;
	rlim_t was, want;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0) {
		log_warn("nofile", "error=%s", log_q(strerror(errno)));
		return 1024;
	}
	was = rl.rlim_cur;
	want = rl.rlim_max == RLIM_INFINITY ||
	    rl.rlim_max > (rlim_t)GUARD_NOFILE_MAX ? (rlim_t)GUARD_NOFILE_MAX :
	    rl.rlim_max;
	if (want > rl.rlim_cur) {
		rl.rlim_cur = want;
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
			log_warn("nofile", "soft=%llu hard=%llu error=%s",
			    (unsigned long long)was,
			    (unsigned long long)rl.rlim_max,
			    log_q(strerror(errno)));
			rl.rlim_cur = was;
		}
	}
	return rl.rlim_cur > (rlim_t)LONG_MAX ? LONG_MAX : (long)rl.rlim_cur;
}

int
guard_api_share(const struct config *cfg, long nofile, long *reserve)
{
	long need, share;

	need = GUARD_BASE_FDS + 2 * (long)(cfg->nstack +
	    cfg->controller.nwitness) + GUARD_FDS_PER_GROUP *
	    (long)cfg->ngroup;
	if (reserve != NULL)
		*reserve = need;
	share = nofile > need ? (nofile - need) / 2 : 0;
	if (share > cfg->controller.api_max_connections)
		share = cfg->controller.api_max_connections;
	return share < 1 ? 1 : (int)share;
}

struct event_base *
guard_base_new(void)
{
	struct event_config *ec;
	struct event_base *base = NULL;
	struct timeval burst = { 0, 5000 };

	if ((ec = event_config_new()) == NULL)
		return NULL;
	if (event_config_set_max_dispatch_interval(ec, &burst,
	    GUARD_API_BURST, DAEMON_PRIO_API) == 0)
		base = event_base_new_with_config(ec);
	event_config_free(ec);
	if (base != NULL && event_base_priority_init(base, DAEMON_NPRIO) != 0) {
		event_base_free(base);
		base = NULL;
	}
	return base;
}

static void
libevent_log_cb(int severity, const char *msg)
{
	static struct log_rl rl = LOG_RL_INIT("libevent");
	const char *sev = severity == EVENT_LOG_DEBUG ? "debug" :
	    severity == EVENT_LOG_MSG ? "msg" : severity == EVENT_LOG_WARN ?
	    "warn" : "error";

	if (severity == EVENT_LOG_DEBUG || !log_rl_allow(&rl))
		return;
	log_warn("libevent", "severity=%s detail=%s", sev, log_q(msg));
}

void
guard_libevent_log(void)
{
	event_set_log_callback(libevent_log_cb);
}
