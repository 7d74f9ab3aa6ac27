/*
 * dnsup_check.h - read-back and confirmation over the update engine.
 *
 * dnsup_readback() asks one server what a name holds: its CNAME or A/AAAA
 * records (queries for A and AAAA, without recursion: a CNAME at the name
 * comes back in either; or, with DNSUP_RB_ANY, one ANY query, which also
 * shows the other types at the name; A and AAAA after all when the server
 * will not answer ANY: NOTIMP, REFUSED, or RFC 8482's HINFO) and the
 * ownership TXT records at
 * _failoverd.<name> (DNSUP_RB_TXT).  Every answer must be authoritative
 * (AA); queries to the configured servers are signed.  The controller
 * compares the result with the desired RRset (dnsup_rrset_compare) to
 * detect drift, and judges ownership with dnsup_owner_check().
 *
 * dnsup_confirm() polls every authoritative server of the zone after a flip
 * until each answers with the new records, then reports how long that took;
 * or, after a bound, which servers still lag.  The servers are the ones
 * given, or the zone's NS set: NS asked of the engine's servers, then the
 * addresses of each name server, asked at port ns_port, from the engine's
 * servers when the name is in the zone, else through the system resolver
 * (/etc/hosts, /etc/resolv.conf, on the loop).  A name server that does not
 * resolve is not confirmed, and nothing is dropped for want of room: past
 * DNSUP_MAX_CONFIRM_NS names or DNSUP_MAX_CONFIRM addresses, the rest are
 * counted as not confirmed.
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

#define DNSUP_RB_TXT	0x1	/* the TXT records at _failoverd.<name> */
#define DNSUP_RB_ANY	0x2	/* one ANY query: the other types too */
#define DNSUP_RB_OWNER	(DNSUP_RB_TXT | DNSUP_RB_ANY)	/* for ownership */
#define DNSUP_RB_URGENT	0x4	/* before other queries (DNSUP_Q_URGENT) */

/*
 * Read name back from server (NULL: the engine's servers in order), as
 * flags say.  Returns 0 (one callback follows) or -1.
 */
int	 dnsup_readback(struct dnsup_engine *, const struct cfg_hostport *server,
	    const char *name, unsigned flags, dnsup_readback_cb cb, void *arg);

#define DNSUP_MAX_CONFIRM	128	/* addresses polled */
#define DNSUP_MAX_CONFIRM_NS	64	/* NS names resolved */

struct dnsup_confirm_result {
	enum dnsup_result	 result;	/* NOERROR: all confirmed;
						   timeout: some lag at the
						   bound; other: the NS set or
						   a name in it did not
						   resolve */
	int64_t			 elapsed_ms;	/* start to last confirmation */
	size_t			 nserver;	/* addresses, and names that
						   did not resolve */
	size_t			 nlag;		/* of those, not confirmed */
	size_t			 nskipped;	/* past the limits: not asked,
						   not confirmed */
	char			 servers[1024];	/* "a#53 b#53" */
	char			 lagging[2048];	/* "b#53 (want .. found ..)" */
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
