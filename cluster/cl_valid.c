/*
 * cl_valid.c - the arithmetic of leadership validity (cl_valid.h).
 */
#include "cluster/cl_valid.h"

int64_t
cl_valid_margin_us(int64_t ttl_us)
{
	if (ttl_us <= 0)
		return CL_VALID_DELAY_US;
	return ttl_us / 1000000 * CL_VALID_DRIFT_PPM +
	    ttl_us % 1000000 * CL_VALID_DRIFT_PPM / 1000000 +
	    CL_VALID_DELAY_US;
}

int64_t
cl_valid_until(int64_t sent_us, int64_t ttl_us, int64_t margin_us)
{
	if (margin_us < 0)
		margin_us = 0;
	if (ttl_us <= margin_us)
		return sent_us;
	return sent_us + (ttl_us - margin_us);
}

bool
cl_valid_holds(int64_t now_us, int64_t until_us)
{
	return now_us < until_us;
}

int64_t
cl_valid_renew_at(int64_t sent_us, int64_t ttl_us)
{
	return sent_us + (ttl_us > 0 ? ttl_us / 3 : 0);
}

int64_t
cl_valid_retry_us(int64_t ttl_us)
{
	int64_t	 r = ttl_us / 10;

	return r < 50000 ? 50000 : r;
}

bool
cl_valid_usable(int64_t ttl_us, int64_t margin_us)
{
	return ttl_us > 0 && margin_us >= 0 && margin_us < ttl_us / 3;
}
