/*
 * daemon_orphans.c - hooks left behind by a killed daemon.  A daemon
 * killed in the middle of a switch leaves its hooks running; the next
 * start finds them by the contract variables in their environment and
 * ends them before it resumes the switch, so that no phase runs twice at
 * once.
 */
#include "controller/shell/daemon_int.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "controller/base/log.h"

/* ---- hooks left behind by a killed daemon ---- */

/*
 * Does process pid carry one of WANT (NAME=VALUE strings) in its
 * environment?  Hooks get exactly the contract variables, so a switch's
 * id, or the state_dir they were run for, finds them (and their children,
 * which inherit the environment) without any pid bookkeeping.
 */
static bool
proc_env_has(pid_t pid, char *const want[], size_t nwant)
{
	static char buf[32768];
	char path[64];
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/environ", (long)pid);
	if ((f = fopen(path, "re")) == NULL)
		return false;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	for (size_t i = 0; i < n; i += strlen(buf + i) + 1)
		for (size_t w = 0; w < nwant; w++)
			if (strcmp(buf + i, want[w]) == 0)
				return true;
	return false;
}

/* Signal every process carrying one of WANT; returns how many were found. */
static int
orphans_signal(char *const want[], size_t nwant, int sig)
{
	DIR *dir = opendir("/proc");
	struct dirent *de;
	int found = 0;

	if (dir == NULL)
		return 0;
	while ((de = readdir(dir)) != NULL) {
		char *end;
		long pid = strtol(de->d_name, &end, 10);

		if (*end != '\0' || pid <= 1 || pid == (long)getpid())
			continue;
		if (!proc_env_has((pid_t)pid, want, nwant))
			continue;
		found++;
		kill((pid_t)pid, sig);
	}
	closedir(dir);
	return found;
}

/*
 * A daemon killed with SIGKILL leaves its running hook behind (hooks have
 * their own process group).  Before anything runs again, end what is left
 * of it: SIGTERM, then SIGKILL after a grace, so that two hooks of this
 * state never run at the same time.  Called holding the state's lock, so
 * every hook run for this state_dir (FAILOVER_STATE_DIR) is an orphan -
 * also one whose switch the state no longer knows (the state_dir wiped
 * under it); an interrupted switch's id (FAILOVER_ID) finds one run before
 * hooks carried the state_dir.  This blocks the start for at most
 * ORPHAN_GRACE_MS, and only after a crash.
 *
 * Not the id in a cluster: a switch's id is the cluster's, not this
 * member's (a new leader resumes it with the same FAILOVER_ID), and the
 * state a follower keeps is the leader's, mirrored from etcd.  Members
 * that share a host would take the leader's running hook for their own
 * orphan and end it.  There only the state_dir, which is each member's
 * own, says whose hook it is.
 */
#define ORPHAN_GRACE_MS	5000

void
daemon_orphans_kill(struct daemon *d)
{
	size_t nwant = 0, cap = d->cfg->ngroup + 1;
	char **want = calloc(cap, sizeof(*want));
	int n, waited = 0;

	if (want == NULL)
		fatal("out_of_memory", "where=daemon_orphans_kill");
	if (d->state_real != NULL &&
	    asprintf(&want[nwant], "FAILOVER_STATE_DIR=%s", d->state_real) >= 0)
		nwant++;
	for (size_t i = 0; !d->cfg->cluster.enabled && i < d->cfg->ngroup;
	    i++) {
		const struct eng_group *st = &d->groups[i].st;

		if (st->status == ENG_SWITCHING && st->sw.id[0] != '\0' &&
		    asprintf(&want[nwant], "FAILOVER_ID=%s", st->sw.id) >= 0)
			nwant++;
	}
	if (nwant > 0 && (n = orphans_signal(want, nwant, SIGTERM)) > 0) {
		log_warn("orphan_hook", "processes=%d detail=%s", n,
		    log_q("left running by a killed daemon; stopping them"
		    " before any hook runs again"));
		while (orphans_signal(want, nwant, 0) > 0 &&
		    waited < ORPHAN_GRACE_MS) {
			struct timespec ts = { 0, 5 * 1000000 };

			nanosleep(&ts, NULL);
			waited += 5;
		}
		if ((n = orphans_signal(want, nwant, SIGKILL)) > 0)
			log_warn("orphan_hook_killed", "processes=%d", n);
	}
	for (size_t w = 0; w < nwant; w++)
		free(want[w]);
	free(want);
}
