/*
 * ctl_api.c - failoverctl's requests to the daemon's HTTP API.
 *
 * failover-status is what cron jobs on the application servers ask (the
 * reason FAILOVER_STATUS exists), and on the controller's own host they
 * may run as any user.  Such a user cannot open the state (state_dir is
 * the daemon's, 0700) but can ask the daemon, which reads it: the same
 * GET /v1/stacks/NAME/failover-status a remote cron job sends with curl,
 * which needs no token.  The answer is what the daemon last committed,
 * the same as the store would say.
 */
#include "controller/face/ctl_api.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <curl/curl.h>

#include "config/config.h"

#define CTL_API_TIMEOUT_MS	3000L

struct body {
	char	 buf[512];
	size_t	 len;
};

/* CURLOPT_WRITEFUNCTION: keep the first bytes; the answer is one word. */
static size_t
body_cb(char *p, size_t size, size_t n, void *arg)
{
	struct body *b = arg;
	size_t len = size * n, room = sizeof(b->buf) - 1 - b->len;

	if (len < room)
		room = len;
	memcpy(b->buf + b->len, p, room);
	b->len += room;
	b->buf[b->len] = '\0';
	return len;
}

/* The URL's host: a wildcard listen is reached on loopback. */
static void
api_host(const struct cfg_hostport *hp, char *buf, size_t len)
{
	if (hp->family == AF_INET6)
		snprintf(buf, len, "[%s]", strcmp(hp->host, "::") == 0 ? "::1" :
		    hp->host);
	else
		snprintf(buf, len, "%s", strcmp(hp->host, "0.0.0.0") == 0 ?
		    "127.0.0.1" : hp->host);
}

/* Only names the configuration accepts reach here; escape them anyway. */
static bool
url_build(CURL *h, const struct config *cfg, const char *stack, char *url,
    size_t len)
{
	char host[80], *esc;
	int n;

	if ((esc = curl_easy_escape(h, stack, 0)) == NULL)
		return false;
	api_host(&cfg->controller.listen, host, sizeof(host));
	n = snprintf(url, len, "http://%s:%u/v1/stacks/%s/failover-status",
	    host, (unsigned)cfg->controller.listen.port, esc);
	curl_free(esc);
	return n > 0 && (size_t)n < len;
}

int
ctl_api_failover_status(const struct config *cfg, const char *stack,
    char *out, size_t outlen, char *err, size_t errlen)
{
	struct body b = { .len = 0 };
	char url[512], cerr[CURL_ERROR_SIZE] = "";
	CURL *h = NULL;
	CURLcode cc;
	long code = 0;
	int rc = -1;

	if (!cfg->controller.listen_enabled) {
		snprintf(err, errlen, "the daemon's API is off (listen = off)");
		return -1;
	}
	if ((h = curl_easy_init()) == NULL ||
	    !url_build(h, cfg, stack, url, sizeof(url))) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, CTL_API_TIMEOUT_MS);
	curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, cerr);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, body_cb);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
	if ((cc = curl_easy_perform(h)) != CURLE_OK) {
		snprintf(err, errlen, "%s: %s", url, cerr[0] ? cerr :
		    curl_easy_strerror(cc));
		goto out;
	}
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
	b.buf[strcspn(b.buf, "\r\n")] = '\0';
	if (code == 200 && (strcmp(b.buf, "online") == 0 ||
	    strcmp(b.buf, "offline") == 0 || strcmp(b.buf, "none") == 0)) {
		snprintf(out, outlen, "%s", b.buf);
		rc = 0;
	} else if (code == 404) {
		snprintf(err, errlen, "unknown stack %s", stack);
		rc = 1;
	} else
		snprintf(err, errlen, "%s: HTTP %ld", url, code);
out:
	curl_easy_cleanup(h);
	return rc;
}
