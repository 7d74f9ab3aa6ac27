/*
 * ctl_api.h - failoverctl asking the running daemon over its HTTP API,
 * for a user who cannot read the state (state_dir is 0700, the daemon's).
 * For the CLI only: one blocking request with a short timeout, which a
 * daemon never may make.
 */
#ifndef FAILOVERD_CTL_API_H
#define FAILOVERD_CTL_API_H

#include <stddef.h>

struct config;

/*
 * GET /v1/stacks/STACK/failover-status at cfg's listen address (a
 * wildcard listen is asked on loopback): "online", "offline" or "none"
 * into out.  Returns 0; 1 when the daemon answers that the stack is not
 * configured (its message in err); -1 when it cannot be asked (listen =
 * off, no answer, another status: the reason in err).
 */
int	 ctl_api_failover_status(const struct config *cfg, const char *stack,
	    char *out, size_t outlen, char *err, size_t errlen);

#endif
