/*
 * dnsup_check.h - read-back and confirmation over the update engine.
 *
 * dnsup_readback() asks one server what a name holds: its CNAME or A/AAAA
 * records (queries for A and AAAA, without recursion: a CNAME at the name
 * comes back in either) and the ownership TXT at _failoverd.<name>.  The
 * controller compares the result with the desired RRset
 * (dnsup_rrset_compare) to detect drift, and judges ownership with
 * dnsup_owner_check() before it first touches a name.
 *
 * dnsup_confirm() polls every authoritative server of the zone after a flip
 * until each answers with the new records, then reports how long that took;
 * or, after a bound, which servers still lag.  The servers are the ones
 * given, or the zone's NS set resolved through the engine's servers (NS,
 * then A and AAAA of each name server, asked at port ns_port).
 */
#ifndef FAILOVERD_DNSUP_CHECK_H
#define FAILOVERD_DNSUP_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "dnsupdate/dnsup.h"
#include "dnsupdate/dnsup_msg.h"

/*
 * found is NULL unless outcome->result is NOERROR (a name that does not
 * exist reads back as NOERROR with kind DNSUP_RRSET_NONE).
 */
typedef void (*dnsup_readback_cb)(const struct dnsup_outcome *,
    const struct dnsup_found *, void *arg);

/*
 * Read name back from server (NULL: the engine's servers in order), with its
 * _failoverd TXT when with_owner.  Returns 0 (one callback follows) or -1.
 */
int	 dnsup_readback(struct dnsup_engine *, const struct cfg_hostport *server,
	    const char *name, bool with_owner, dnsup_readback_cb cb, void *arg);

#define DNSUP_MAX_CONFIRM	16

struct dnsup_confirm_result {
	enum dnsup_result	 result;	/* NOERROR: all confirmed;
						   timeout: some lag; other:
						   the NS set did not resolve */
	int64_t			 elapsed_ms;	/* start to last confirmation */
	size_t			 nserver;
	size_t			 nlag;
	char			 servers[512];	/* "a#53 b#53" */
	char			 lagging[768];	/* "b#53 (want .. found ..)" */
	char			 detail[256];
};

typedef void (*dnsup_confirm_cb)(const struct dnsup_confirm_result *,
    void *arg);

/*
 * Poll name on servers[0..n) (n == 0: the zone's NS set, at ns_port) every
 * poll_ms until each holds want (TTL not compared), for at most bound_ms.
 * want is copied.  Returns 0 (one callback follows) or -1.
 */
int	 dnsup_confirm(struct dnsup_engine *, const char *name,
	    const struct dnsup_rrset *want, const struct cfg_hostport *servers,
	    size_t n, uint16_t ns_port, int64_t bound_ms, int64_t poll_ms,
	    dnsup_confirm_cb cb, void *arg);

#endif
