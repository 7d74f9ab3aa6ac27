/*
 * classify.h - pure judgement of one finished transfer: libcurl's code and
 * what the write callback saw become a probe reason.  No I/O.
 */
#ifndef FAILOVERD_PROBE_CLASSIFY_H
#define FAILOVERD_PROBE_CLASSIFY_H

#include <stdbool.h>

#include "probes/probe.h"

/* What is known when a transfer ends. */
struct probe_facts {
	int	 curl_code;	/* CURLcode of the transfer */
	bool	 stopped;	/* our write callback ended it on purpose
				   (expect_body found, or 64 KiB read) */
	int	 http_status;	/* 0: none */
	bool	 status_ok;	/* http_status is in the set that applies */
	bool	 want_body;	/* expect_body was set */
	bool	 body_found;
	int	 os_errno;	/* of the socket() or connect() that failed;
				   0: none known */
};

/* true if errno says the controller's host lacked something (EMFILE,
   ENFILE, ENOMEM, ENOBUFS, EADDRNOTAVAIL). */
bool	 probe_errno_is_local(int os_errno);

/* The reason class of a CURLcode alone (a table; unknown codes: protocol). */
enum probe_reason probe_reason_of_curl(int curl_code);

/*
 * The verdict: a transfer that completed (or that we stopped on purpose)
 * is judged by status, then body; any other end by its CURLcode.
 */
enum probe_reason probe_classify(const struct probe_facts *);

/* true if status is in set; an empty set means 200-399. */
bool	 probe_status_match(const struct cfg_status_set *, int status);

#endif
