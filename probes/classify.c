/*
 * classify.c - CURLcode and response facts to a probe reason.
 *
 * The table sorts libcurl's codes into the reasons operators see.  Where
 * libcurl's name is ambiguous the choice is written down here:
 *
 *   - A reset or a close in the middle of the exchange (CURLE_RECV_ERROR,
 *     CURLE_SEND_ERROR, CURLE_GOT_NOTHING, CURLE_PARTIAL_FILE) is
 *     "protocol": the connection was made, so "connect" would mislead, and
 *     the answer is not a usable HTTP response.  A web head whose process
 *     died still shows up as "connect", because libcurl retries a dead
 *     kept-alive connection once on a fresh one, which is then refused.
 *   - Codes this table does not know are "protocol", never "ok".
 *   - A misuse of libcurl (a bad option, a write error we did not ask
 *     for) is "internal".
 *   - A fault of the controller's own host is "local": out of memory, or
 *     a socket() or connect() that failed for want of a descriptor, of
 *     memory or of a local address (EMFILE, ENFILE, ENOMEM, ENOBUFS,
 *     EADDRNOTAVAIL: ephemeral ports used up).  libcurl calls all of these
 *     CURLE_COULDNT_CONNECT, like a refused connection, so the errno
 *     decides; probe.c gets it from its own socket callback and from
 *     CURLINFO_OS_ERRNO.  "local" says nothing about the stack: the
 *     daemon retries the check and never counts it (DESIGN.md, "Health
 *     and hysteresis").
 */
#include "probes/classify.h"

#include <errno.h>

#include <curl/curl.h>

static const struct {
	CURLcode		 code;
	enum probe_reason	 reason;
} curl_reasons[] = {
	{ CURLE_OK,			PROBE_R_OK },
	{ CURLE_COULDNT_RESOLVE_HOST,	PROBE_R_DNS },
	{ CURLE_COULDNT_RESOLVE_PROXY,	PROBE_R_DNS },
	{ CURLE_COULDNT_CONNECT,	PROBE_R_CONNECT },
	{ CURLE_INTERFACE_FAILED,	PROBE_R_CONNECT },
	{ CURLE_OPERATION_TIMEDOUT,	PROBE_R_TIMEOUT },
	{ CURLE_SSL_CONNECT_ERROR,	PROBE_R_TLS },
	{ CURLE_PEER_FAILED_VERIFICATION, PROBE_R_TLS },
	{ CURLE_SSL_CERTPROBLEM,	PROBE_R_TLS },
	{ CURLE_SSL_CIPHER,		PROBE_R_TLS },
	{ CURLE_SSL_CACERT_BADFILE,	PROBE_R_TLS },
	{ CURLE_SSL_ENGINE_NOTFOUND,	PROBE_R_TLS },
	{ CURLE_SSL_ENGINE_SETFAILED,	PROBE_R_TLS },
	{ CURLE_SSL_ENGINE_INITFAILED,	PROBE_R_TLS },
	{ CURLE_SSL_SHUTDOWN_FAILED,	PROBE_R_TLS },
	{ CURLE_SSL_CRL_BADFILE,	PROBE_R_TLS },
	{ CURLE_SSL_ISSUER_ERROR,	PROBE_R_TLS },
	{ CURLE_SSL_PINNEDPUBKEYNOTMATCH, PROBE_R_TLS },
	{ CURLE_SSL_INVALIDCERTSTATUS,	PROBE_R_TLS },
	{ CURLE_SSL_CLIENTCERT,		PROBE_R_TLS },
	{ CURLE_USE_SSL_FAILED,		PROBE_R_TLS },
	{ CURLE_WEIRD_SERVER_REPLY,	PROBE_R_PROTOCOL },
	{ CURLE_GOT_NOTHING,		PROBE_R_PROTOCOL },
	{ CURLE_PARTIAL_FILE,		PROBE_R_PROTOCOL },
	{ CURLE_RECV_ERROR,		PROBE_R_PROTOCOL },
	{ CURLE_SEND_ERROR,		PROBE_R_PROTOCOL },
	{ CURLE_HTTP2,			PROBE_R_PROTOCOL },
	{ CURLE_HTTP2_STREAM,		PROBE_R_PROTOCOL },
	{ CURLE_BAD_CONTENT_ENCODING,	PROBE_R_PROTOCOL },
	{ CURLE_UNSUPPORTED_PROTOCOL,	PROBE_R_PROTOCOL },
	{ CURLE_URL_MALFORMAT,		PROBE_R_PROTOCOL },
	{ CURLE_TOO_MANY_REDIRECTS,	PROBE_R_PROTOCOL },
	{ CURLE_FILESIZE_EXCEEDED,	PROBE_R_PROTOCOL },
	{ CURLE_OUT_OF_MEMORY,		PROBE_R_LOCAL },
	{ CURLE_FAILED_INIT,		PROBE_R_INTERNAL },
	{ CURLE_BAD_FUNCTION_ARGUMENT,	PROBE_R_INTERNAL },
	{ CURLE_WRITE_ERROR,		PROBE_R_INTERNAL },
	{ CURLE_ABORTED_BY_CALLBACK,	PROBE_R_INTERNAL },
	{ CURLE_UNRECOVERABLE_POLL,	PROBE_R_INTERNAL },
	{ CURLE_NOT_BUILT_IN,		PROBE_R_INTERNAL },
	{ CURLE_UNKNOWN_OPTION,		PROBE_R_INTERNAL },
};

static const char *const reason_names[PROBE_R_COUNT] = {
	[PROBE_R_OK] = "ok",
	[PROBE_R_CONNECT] = "connect",
	[PROBE_R_TIMEOUT] = "timeout",
	[PROBE_R_TLS] = "tls",
	[PROBE_R_STATUS] = "status",
	[PROBE_R_BODY] = "body",
	[PROBE_R_DNS] = "dns",
	[PROBE_R_PROTOCOL] = "protocol",
	[PROBE_R_INTERNAL] = "internal",
	[PROBE_R_LOCAL] = "local",
};

const char *
probe_reason_name(enum probe_reason r)
{
	if ((int)r < 0 || r >= PROBE_R_COUNT)
		return "invalid";
	return reason_names[r];
}

enum probe_reason
probe_reason_of_curl(int curl_code)
{
	size_t	 i;

	for (i = 0; i < sizeof(curl_reasons) / sizeof(curl_reasons[0]); i++)
		if ((int)curl_reasons[i].code == curl_code)
			return curl_reasons[i].reason;
	return PROBE_R_PROTOCOL;
}

enum probe_reason
probe_classify(const struct probe_facts *f)
{
	bool	 completed;

	completed = f->curl_code == CURLE_OK ||
	    (f->curl_code == CURLE_WRITE_ERROR && f->stopped);
	if (!completed && probe_errno_is_local(f->os_errno))
		return PROBE_R_LOCAL;
	if (!completed)
		return probe_reason_of_curl(f->curl_code);
	if (f->http_status <= 0)
		return PROBE_R_PROTOCOL;
	if (!f->status_ok)
		return PROBE_R_STATUS;
	if (f->want_body && !f->body_found)
		return PROBE_R_BODY;
	return PROBE_R_OK;
}

bool
probe_errno_is_local(int e)
{
	return e == EMFILE || e == ENFILE || e == ENOMEM || e == ENOBUFS ||
	    e == EADDRNOTAVAIL;
}

bool
probe_status_match(const struct cfg_status_set *set, int status)
{
	size_t	 i;

	if (set->n == 0)
		return status >= 200 && status <= 399;
	for (i = 0; i < set->n && i < CFG_MAX_RANGES; i++)
		if (status >= set->r[i].lo && status <= set->r[i].hi)
			return true;
	return false;
}
