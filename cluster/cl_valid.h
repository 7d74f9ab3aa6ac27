/*
 * cl_valid.h - leadership validity: until when a lease holder may act on
 * its last renewal.  Pure arithmetic on microseconds; the clock, the
 * assumptions and the reasons are in cl_election.h, which uses this.
 *
 *   valid_until = sent + ttl - margin
 *   margin      = ttl * CL_VALID_DRIFT_PPM / 1e6 + CL_VALID_DELAY_US
 *   renew at    = sent + ttl / 3, again CL_VALID_RETRY after a failure
 *
 * "sent" is when the renewal (or the grant) that etcd acknowledged was
 * sent: before etcd could have received it, so before the moment etcd
 * counts the lease's ttl from.
 */
#ifndef FAILOVERD_CL_VALID_H
#define FAILOVERD_CL_VALID_H

#include <stdbool.h>
#include <stdint.h>

/* Clock-rate difference allowed between us and etcd's leader: 1 %. */
#define CL_VALID_DRIFT_PPM	10000
/* Between a validity check and the act it allows landing: 100 ms. */
#define CL_VALID_DELAY_US	100000

/* The default margin for a lease of ttl_us. */
int64_t	 cl_valid_margin_us(int64_t ttl_us);
/* sent_us + ttl_us - margin_us; sent_us (never valid) if margin >= ttl. */
int64_t	 cl_valid_until(int64_t sent_us, int64_t ttl_us, int64_t margin_us);
/* Whether now is before until (until itself is not valid). */
bool	 cl_valid_holds(int64_t now_us, int64_t until_us);
/* When to send the next renewal after one sent at sent_us succeeded. */
int64_t	 cl_valid_renew_at(int64_t sent_us, int64_t ttl_us);
/* How long to wait before another try after a failed renewal: ttl/10,
 * at least 50 ms. */
int64_t	 cl_valid_retry_us(int64_t ttl_us);
/*
 * Whether a lease of ttl_us with margin_us leaves room for one failed
 * renewal and its retry before validity ends: margin < ttl/3.
 */
bool	 cl_valid_usable(int64_t ttl_us, int64_t margin_us);

#endif
