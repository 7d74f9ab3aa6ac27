/*
 * values.c - the value parsers of the configuration: durations, booleans,
 * status ranges, host:port, sizes, DNS names, URLs, hooks, secret files.
 *
 * Each takes one value and answers alone, without knowing the key or the
 * line; config.c adds those.  Durations are whole numbers with a unit, and
 * may be chained ("1m30s"); a bare number is refused, because "60" is
 * ambiguous between seconds and milliseconds.
 */
#include "config/config.h"

#include <sys/stat.h>

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "config/cfg_int.h"

/* Longest duration accepted: 100 days, far beyond any sensible value. */
#define DURATION_MAX_MS	(100LL * 24 * 3600 * 1000)

void
cfg_why(char *why, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (why == NULL || len == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(why, len, fmt, ap);
	va_end(ap);
}

int
cfg_parse_duration(const char *s, int64_t *ms)
{
	int64_t total = 0;
	const char *p = s;

	if (s == NULL || *s == '\0')
		return -1;
	while (*p != '\0') {
		int64_t n = 0, unit;

		if (!isdigit((unsigned char)*p))
			return -1;
		while (isdigit((unsigned char)*p)) {
			n = n * 10 + (*p - '0');
			if (n > DURATION_MAX_MS)
				return -1;
			p++;
		}
		if (strncmp(p, "ms", 2) == 0) {
			unit = 1;
			p += 2;
		} else if (*p == 's') {
			unit = 1000;
			p++;
		} else if (*p == 'm') {
			unit = 60 * 1000;
			p++;
		} else if (*p == 'h') {
			unit = 3600 * 1000;
			p++;
		} else
			return -1;
		if (n > DURATION_MAX_MS / unit)
			return -1;
		total += n * unit;
		if (total > DURATION_MAX_MS)
			return -1;
	}
	*ms = total;
	return 0;
}

int
cfg_parse_bool(const char *s, bool *b)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };

	if (s == NULL)
		return -1;
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*b = true;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*b = false;
			return 0;
		}
	}
	return -1;
}

/* A status code of exactly three digits, 100-599; the end to *end. */
static int
parse_status(const char *p, const char **end, int *v)
{
	int n = 0, i;

	for (i = 0; i < 3; i++) {
		if (!isdigit((unsigned char)p[i]))
			return -1;
		n = n * 10 + (p[i] - '0');
	}
	if (isdigit((unsigned char)p[i]) || n < 100 || n > 599)
		return -1;
	*v = n;
	*end = p + 3;
	return 0;
}

int
cfg_parse_status_set(const char *s, struct cfg_status_set *out)
{
	struct cfg_status_set set = { 0 };
	const char *p = s;

	if (s == NULL)
		return -1;
	for (;;) {
		struct cfg_range r;

		while (*p == ' ' || *p == '\t')
			p++;
		if (parse_status(p, &p, &r.lo) == -1)
			return -1;
		r.hi = r.lo;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '-') {
			p++;
			while (*p == ' ' || *p == '\t')
				p++;
			if (parse_status(p, &p, &r.hi) == -1 || r.hi < r.lo)
				return -1;
			while (*p == ' ' || *p == '\t')
				p++;
		}
		if (set.n == CFG_MAX_RANGES)
			return -1;
		set.r[set.n++] = r;
		if (*p == '\0')
			break;
		if (*p != ',')
			return -1;
		p++;
	}
	*out = set;
	return 0;
}

bool
cfg_status_match(const struct cfg_status_set *set, int status)
{
	for (size_t i = 0; i < set->n; i++)
		if (status >= set->r[i].lo && status <= set->r[i].hi)
			return true;
	return false;
}

bool
cfg_ip_literal(const char *s, int *family, char *out)
{
	unsigned char buf[sizeof(struct in6_addr)];
	char tmp[INET6_ADDRSTRLEN];
	int af;

	if (inet_pton(AF_INET, s, buf) == 1)
		af = AF_INET;
	else if (inet_pton(AF_INET6, s, buf) == 1)
		af = AF_INET6;
	else
		return false;
	if (family != NULL)
		*family = af;
	if (out != NULL) {
		if (inet_ntop(af, buf, tmp, sizeof(tmp)) == NULL)
			return false;
		memcpy(out, tmp, strlen(tmp) + 1);
	}
	return true;
}

static int
parse_port(const char *s, uint16_t *port)
{
	long n = 0;

	if (*s == '\0' || strlen(s) > 5)
		return -1;
	for (const char *p = s; *p != '\0'; p++) {
		if (!isdigit((unsigned char)*p))
			return -1;
		n = n * 10 + (*p - '0');
	}
	if (n > 65535)
		return -1;
	*port = (uint16_t)n;
	return 0;
}

int
cfg_parse_hostport(const char *s, uint16_t defport, struct cfg_hostport *out)
{
	struct cfg_hostport hp = { .port = defport };
	char host[INET6_ADDRSTRLEN + 1];
	const char *port = NULL, *colon;
	size_t hlen;

	if (s == NULL || *s == '\0')
		return -1;
	if (*s == '[') {
		const char *close = strchr(s, ']');

		if (close == NULL)
			return -1;
		hlen = (size_t)(close - s - 1);
		if (hlen == 0 || hlen >= sizeof(host))
			return -1;
		memcpy(host, s + 1, hlen);
		host[hlen] = '\0';
		if (close[1] == ':')
			port = close + 2;
		else if (close[1] != '\0')
			return -1;
		if (!cfg_ip_literal(host, &hp.family, hp.host) ||
		    hp.family != AF_INET6)
			return -1;
	} else {
		colon = strchr(s, ':');
		if (colon != NULL && strchr(colon + 1, ':') != NULL) {
			/* Several colons and no brackets: a bare IPv6. */
			hlen = strlen(s);
		} else if (colon != NULL) {
			hlen = (size_t)(colon - s);
			port = colon + 1;
		} else
			hlen = strlen(s);
		if (hlen == 0 || hlen >= sizeof(host))
			return -1;
		memcpy(host, s, hlen);
		host[hlen] = '\0';
		if (!cfg_ip_literal(host, &hp.family, hp.host))
			return -1;
	}
	if (port != NULL && parse_port(port, &hp.port) == -1)
		return -1;
	*out = hp;
	return 0;
}

int
cfg_parse_size(const char *s, uint64_t *bytes)
{
	static const struct {
		const char	*sfx;
		int		 shift;
	} sfx[] = {
		{ "", 0 }, { "b", 0 },
		{ "k", 10 }, { "kb", 10 }, { "kib", 10 },
		{ "m", 20 }, { "mb", 20 }, { "mib", 20 },
		{ "g", 30 }, { "gb", 30 }, { "gib", 30 },
		{ "t", 40 }, { "tb", 40 }, { "tib", 40 },
	};
	uint64_t n = 0;
	const char *p = s;

	if (s == NULL || !isdigit((unsigned char)*s))
		return -1;
	while (isdigit((unsigned char)*p)) {
		if (n > (UINT64_MAX - 9) / 10)
			return -1;
		n = n * 10 + (uint64_t)(*p - '0');
		p++;
	}
	while (*p == ' ')
		p++;
	for (size_t i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++) {
		if (strcasecmp(p, sfx[i].sfx) != 0)
			continue;
		if (n > (UINT64_MAX >> sfx[i].shift))
			return -1;
		*bytes = n << sfx[i].shift;
		return 0;
	}
	return -1;
}

int
cfg_dname_check(const char *s, char *why, size_t len)
{
	size_t n = strlen(s), lab = 0;

	if (n == 0) {
		cfg_why(why, len, "empty name");
		return -1;
	}
	if (strcmp(s, ".") == 0) {
		cfg_why(why, len, "the root name \".\" is not allowed here");
		return -1;
	}
	if (s[n - 1] == '.')
		n--;
	if (n > 253) {
		cfg_why(why, len, "name is longer than 253 characters");
		return -1;
	}
	for (size_t i = 0; i <= n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (i == n || c == '.') {
			if (lab == 0) {
				cfg_why(why, len, "'%s' has an empty label", s);
				return -1;
			}
			if (s[i - 1] == '-') {
				cfg_why(why, len, "'%s': a label ends with '-'",
				    s);
				return -1;
			}
			lab = 0;
			continue;
		}
		if (!isalnum(c) && c != '-' && c != '_') {
			cfg_why(why, len, "'%s' is not a valid DNS name "
			    "(letters, digits, '-', '_' and dots only)", s);
			return -1;
		}
		if (lab == 0 && c == '-') {
			cfg_why(why, len, "'%s': a label starts with '-'", s);
			return -1;
		}
		if (++lab > 63) {
			cfg_why(why, len, "'%s': a label is longer than 63 "
			    "characters", s);
			return -1;
		}
	}
	return 0;
}

char *
cfg_dname_abs(const char *s)
{
	size_t n = strlen(s);
	char *d;

	if (n > 0 && s[n - 1] == '.')
		n--;
	if ((d = malloc(n + 2)) == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++)
		d[i] = (char)tolower((unsigned char)s[i]);
	d[n] = '.';
	d[n + 1] = '\0';
	return d;
}

bool
cfg_dname_in_zone(const char *name, const char *zone)
{
	size_t n = strlen(name), z = strlen(zone);

	if (n < z || strcasecmp(name + n - z, zone) != 0)
		return false;
	return n == z || name[n - z - 1] == '.';
}

bool
cfg_has_space(const char *s)
{
	for (; *s != '\0'; s++)
		if (isspace((unsigned char)*s) || iscntrl((unsigned char)*s))
			return true;
	return false;
}

int
cfg_url_check(const char *s, char *why, size_t len)
{
	const char *host, *end, *p;
	uint16_t port;

	if (strncasecmp(s, "http://", 7) == 0)
		host = s + 7;
	else if (strncasecmp(s, "https://", 8) == 0)
		host = s + 8;
	else {
		const char *colon = strstr(s, "://");

		if (colon != NULL)
			cfg_why(why, len, "'%.*s' is not http or https: "
			    "expected an http:// or https:// URL",
			    (int)(colon - s > 20 ? 20 : colon - s), s);
		else
			cfg_why(why, len, "'%s' is not a URL: expected "
			    "http://HOST[:PORT]/PATH or https://...", s);
		return -1;
	}
	if (cfg_has_space(s)) {
		cfg_why(why, len, "URL holds a blank or control character");
		return -1;
	}
	end = host + strcspn(host, "/?#");
	if (memchr(host, '@', (size_t)(end - host)) != NULL) {
		cfg_why(why, len, "credentials in a URL are not supported");
		return -1;
	}
	if (*host == '[') {
		p = memchr(host, ']', (size_t)(end - host));
		if (p == NULL || p == host + 1) {
			cfg_why(why, len, "bad IPv6 address in URL '%s'", s);
			return -1;
		}
		p++;
	} else {
		p = memchr(host, ':', (size_t)(end - host));
		if (p == NULL)
			p = end;
		if (p == host) {
			cfg_why(why, len, "URL '%s' has no host", s);
			return -1;
		}
	}
	if (p < end) {
		char buf[8];
		size_t n = (size_t)(end - p - 1);

		if (*p != ':' || n == 0 || n >= sizeof(buf)) {
			cfg_why(why, len, "bad port in URL '%s'", s);
			return -1;
		}
		memcpy(buf, p + 1, n);
		buf[n] = '\0';
		if (parse_port(buf, &port) == -1 || port == 0) {
			cfg_why(why, len, "bad port in URL '%s'", s);
			return -1;
		}
	}
	return 0;
}

void
cfg_hook_clear(struct cfg_hook *h)
{
	if (h->argv != NULL) {
		for (int i = 0; i < h->argc; i++)
			free(h->argv[i]);
		free(h->argv);
	}
	h->argv = NULL;
	h->argc = 0;
}

int
cfg_hook_parse(const char *s, struct cfg_hook *h, char *why, size_t len)
{
	struct cfg_hook nh = { 0 };
	const char *p = s;
	struct stat st;
	size_t cap = 0;

	while (*p != '\0') {
		size_t n;

		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			break;
		n = strcspn(p, " \t");
		if ((size_t)nh.argc + 2 > cap) {
			char **v;

			cap = cap ? cap * 2 : 4;
			if ((v = realloc(nh.argv, cap * sizeof(*v))) == NULL)
				goto oom;
			nh.argv = v;
		}
		if ((nh.argv[nh.argc] = strndup(p, n)) == NULL)
			goto oom;
		nh.argv[++nh.argc] = NULL;
		p += n;
	}
	if (nh.argc == 0) {
		cfg_why(why, len, "empty command");
		goto fail;
	}
	if (nh.argv[0][0] != '/') {
		cfg_why(why, len, "'%s' is not an absolute path: a hook is run "
		    "without a shell or PATH search", nh.argv[0]);
		goto fail;
	}
	if (stat(nh.argv[0], &st) == -1) {
		cfg_why(why, len, "%s: %s", nh.argv[0], strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		cfg_why(why, len, "%s is not a regular file", nh.argv[0]);
		goto fail;
	}
	if ((st.st_mode & 0111) == 0 || access(nh.argv[0], X_OK) == -1) {
		cfg_why(why, len, "%s is not executable (mode %04o)",
		    nh.argv[0], (unsigned)(st.st_mode & 07777));
		goto fail;
	}
	if (st.st_mode & 022) {
		cfg_why(why, len, "%s is writable by %s (mode %04o); "
		    "chmod go-w it", nh.argv[0],
		    (st.st_mode & 022) == 022 ? "group and others" :
		    (st.st_mode & 020) ? "group" : "others",
		    (unsigned)(st.st_mode & 07777));
		goto fail;
	}
	/* Run as root: no one else may change it or where it lies. */
	if (!cfg_owner_ok(st.st_uid)) {
		cfg_owner_why(nh.argv[0], st.st_uid, why, len);
		goto fail;
	}
	if (cfg_path_check(nh.argv[0], why, len) == -1)
		goto fail;
	cfg_hook_clear(h);
	*h = nh;
	return 0;
oom:
	cfg_why(why, len, "out of memory");
fail:
	cfg_hook_clear(&nh);
	return -1;
}

void
cfg_secret_mode_why(const char *path, mode_t m, char *why, size_t len)
{
	cfg_why(why, len, "%s is %s by group or others (mode %04o); "
	    "chmod 600 it", path,
	    (m & 044) ? "readable" : (m & 022) ? "writable" : "accessible",
	    (unsigned)(m & 07777));
}

static int
b64val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int
cfg_base64_check(const char *s, size_t *n)
{
	size_t len = strlen(s), pad = 0;

	if (len == 0 || len % 4 != 0)
		return -1;
	if (s[len - 1] == '=')
		pad++;
	if (s[len - 2] == '=')
		pad++;
	for (size_t i = 0; i < len - pad; i++)
		if (b64val((unsigned char)s[i]) < 0)
			return -1;
	/* The bits after the last whole byte must be zero. */
	if (pad == 1 && (b64val((unsigned char)s[len - 2]) & 0x3) != 0)
		return -1;
	if (pad == 2 && (b64val((unsigned char)s[len - 3]) & 0xf) != 0)
		return -1;
	*n = len / 4 * 3 - pad;
	return 0;
}
