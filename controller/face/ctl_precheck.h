/*
 * ctl_precheck.h - failoverctl asking failoverd to run a switch target's
 * precheck now (face/ops_precheck.h) and printing its verdict, for the
 * switch plan and for `failoverctl precheck`.  For the CLI only: it
 * waits (polling the store) for the daemon's answer.
 */
#ifndef FAILOVERD_CTL_PRECHECK_H
#define FAILOVERD_CTL_PRECHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

#include "config/config.h"
#include "controller/store/store.h"

/*
 * Ask for the precheck of GROUP's switch target (TO, or its standby) and
 * wait for the answer, at most the stack's hook_timeout plus the kill
 * grace and a few seconds.  st must be read-write.  Returns 0 with *out
 * the answer (caller decrefs), or 1 with *out NULL and why filled: no
 * precheck hook on the stack, the daemon not running (daemon_running
 * false: no request is written), no answer in time, or a refusal of the
 * request (unknown group or stack).  stack gets the target's name ("" if
 * none).
 */
int	 ctl_precheck_ask(struct store *st, const struct config *cfg,
	    const char *group, const char *to, bool daemon_running,
	    json_t **out, char *stack, size_t stacklen, char *why,
	    size_t whylen);

/*
 * The plan's lines: the verdict (or why there is none), the hook's last
 * lines of output (control characters shown as '?'), and the replication
 * lag as the precheck reported it.  ans may be NULL (then why is said).
 */
void	 ctl_precheck_print(FILE *f, const char *stack, const json_t *ans,
	    const char *why);

/* True when ans says the precheck passed. */
bool	 ctl_precheck_ok(const json_t *ans);

#endif
