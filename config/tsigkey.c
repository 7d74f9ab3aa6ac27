/*
 * tsigkey.c - TSIG keys: BIND key files and the inline NAME:SECRET form.
 *
 * A key file is what tsig-keygen prints, for example:
 *
 *	key "failoverd" {
 *		algorithm hmac-sha256;
 *		secret "q3Kq...Y0=";
 *	};
 *
 * with #, // and C comments allowed anywhere between tokens.  Exactly one
 * key statement is accepted: failoverd signs with one key, and a file of
 * several would leave it guessing.  The file must not be readable or
 * writable by group or others (OpenBSD's check_file_secrecy() does the
 * same); its mode is checked on the open descriptor, not the name.
 *
 * Algorithms: hmac-sha256, hmac-sha1 and hmac-sha512, the ones ldns 1.8
 * signs with correctly (hmac-sha384 is broken there, hmac-sha224 absent,
 * hmac-md5 obsolete); anything else is refused by name.
 */
#include "config/config.h"

#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "config/cfg_int.h"

#define KEYFILE_MAX	65536

static const char *const alg_names[] = {
	[CFG_TSIG_HMAC_SHA256] = "hmac-sha256",
	[CFG_TSIG_HMAC_SHA1] = "hmac-sha1",
	[CFG_TSIG_HMAC_SHA512] = "hmac-sha512",
};

#define ACCEPTED_ALGS	"hmac-sha256, hmac-sha1 or hmac-sha512"

enum tok {
	T_EOF,
	T_WORD,
	T_STRING,
	T_LBRACE,
	T_RBRACE,
	T_SEMI,
	T_ERROR,
};

struct lexer {
	const char	*p, *end;
	int		 line;
	char		 text[600];	/* the current word or string */
	char		 err[128];
};

const char *
cfg_tsig_alg_name(enum cfg_tsig_alg a)
{
	if ((size_t)a < sizeof(alg_names) / sizeof(alg_names[0]))
		return alg_names[a];
	return "unknown";
}

int
cfg_tsig_alg_parse(const char *s, enum cfg_tsig_alg *a)
{
	for (size_t i = 0; i < sizeof(alg_names) / sizeof(alg_names[0]); i++) {
		if (strcasecmp(s, alg_names[i]) == 0) {
			*a = (enum cfg_tsig_alg)i;
			return 0;
		}
	}
	return -1;
}

/* Copy s into dst of len bytes, cut short if needed. */
static void
copy_cut(char *dst, size_t len, const char *s)
{
	size_t n = strlen(s);

	if (n >= len)
		n = len - 1;
	memcpy(dst, s, n);
	dst[n] = '\0';
}

static void
alg_why(const char *alg, char *why, size_t len)
{
	char shown[40];
	size_t i;

	/* Show the algorithm as written, but never more than a word. */
	for (i = 0; i < sizeof(shown) - 1 && alg[i] != '\0'; i++)
		shown[i] = isprint((unsigned char)alg[i]) ? alg[i] : '?';
	shown[i] = '\0';
	cfg_why(why, len, "TSIG algorithm '%s' is not supported (accepted: "
	    ACCEPTED_ALGS ")", shown);
}

/* Check and store a name, algorithm and base64 secret. */
static int
key_set(struct cfg_tsig_key *key, const char *name, const char *alg,
    const char *secret, char *why, size_t len)
{
	struct cfg_tsig_key k = { 0 };
	size_t n;

	if (cfg_dname_check(name, why, len) == -1)
		return -1;
	if (strlen(name) >= sizeof(k.name)) {
		cfg_why(why, len, "key name is too long");
		return -1;
	}
	if (cfg_tsig_alg_parse(alg, &k.alg) == -1) {
		alg_why(alg, why, len);
		return -1;
	}
	if (strlen(secret) >= sizeof(k.secret)) {
		cfg_why(why, len, "secret of key %s is too long", name);
		return -1;
	}
	if (cfg_base64_check(secret, &n) == -1) {
		cfg_why(why, len, "secret of key %s is not valid base64", name);
		return -1;
	}
	if (n < 8) {
		cfg_why(why, len, "secret of key %s is too short (%zu bytes; "
		    "use tsig-keygen)", name, n);
		return -1;
	}
	memcpy(k.name, name, strlen(name) + 1);
	memcpy(k.secret, secret, strlen(secret) + 1);
	*key = k;
	return 0;
}

int
cfg_tsig_key_parse_inline(const char *s, struct cfg_tsig_key *key,
    char *why, size_t len)
{
	char buf[1024], *name, *secret, *c1, *c2;
	const char *alg = "hmac-sha256";
	int rc;

	if (strlen(s) >= sizeof(buf)) {
		cfg_why(why, len, "inline key is too long");
		return -1;
	}
	memcpy(buf, s, strlen(s) + 1);
	if ((c1 = strchr(buf, ':')) == NULL) {
		cfg_why(why, len, "expected an inline key "
		    "ALGORITHM:NAME:BASE64 or an absolute path");
		return -1;
	}
	*c1 = '\0';
	if ((c2 = strchr(c1 + 1, ':')) != NULL) {
		*c2 = '\0';
		alg = buf;
		name = c1 + 1;
		secret = c2 + 1;
	} else {
		name = buf;
		secret = c1 + 1;
	}
	rc = key_set(key, name, alg, secret, why, len);
	explicit_bzero(buf, sizeof(buf));
	return rc;
}

static void
skip_space_and_comments(struct lexer *lx)
{
	while (lx->p < lx->end) {
		char c = *lx->p;

		if (c == '\n') {
			lx->line++;
			lx->p++;
		} else if (isspace((unsigned char)c)) {
			lx->p++;
		} else if (c == '#' || (c == '/' && lx->p + 1 < lx->end &&
		    lx->p[1] == '/')) {
			while (lx->p < lx->end && *lx->p != '\n')
				lx->p++;
		} else if (c == '/' && lx->p + 1 < lx->end && lx->p[1] == '*') {
			int start = lx->line;

			lx->p += 2;
			while (lx->p + 1 < lx->end &&
			    !(lx->p[0] == '*' && lx->p[1] == '/')) {
				if (*lx->p == '\n')
					lx->line++;
				lx->p++;
			}
			if (lx->p + 1 >= lx->end) {
				/* Unterminated: let lex() report it. */
				lx->line = start;
				lx->p = lx->end;
				snprintf(lx->err, sizeof(lx->err),
				    "unterminated comment");
				return;
			}
			lx->p += 2;
		} else
			return;
	}
}

static enum tok
lex(struct lexer *lx)
{
	size_t n = 0;

	lx->text[0] = '\0';
	skip_space_and_comments(lx);
	if (lx->err[0] != '\0')
		return T_ERROR;
	if (lx->p >= lx->end)
		return T_EOF;
	switch (*lx->p) {
	case '{':
		lx->p++;
		return T_LBRACE;
	case '}':
		lx->p++;
		return T_RBRACE;
	case ';':
		lx->p++;
		return T_SEMI;
	case '"':
		lx->p++;
		while (lx->p < lx->end && *lx->p != '"') {
			char c = *lx->p++;

			if (c == '\\' && lx->p < lx->end)
				c = *lx->p++;
			if (c == '\n') {
				lx->line++;
				continue;
			}
			if (c == ' ' || c == '\t')
				continue;	/* base64 may be wrapped */
			if (c == '\0' || n + 1 >= sizeof(lx->text)) {
				snprintf(lx->err, sizeof(lx->err),
				    c == '\0' ? "NUL byte in string" :
				    "string too long");
				return T_ERROR;
			}
			lx->text[n++] = c;
		}
		if (lx->p >= lx->end) {
			snprintf(lx->err, sizeof(lx->err),
			    "unterminated string");
			return T_ERROR;
		}
		lx->p++;
		lx->text[n] = '\0';
		return T_STRING;
	default:
		while (lx->p < lx->end && !isspace((unsigned char)*lx->p) &&
		    strchr("{};\"#", *lx->p) == NULL && *lx->p != '\0' &&
		    !(*lx->p == '/' && lx->p + 1 < lx->end &&
		    (lx->p[1] == '/' || lx->p[1] == '*'))) {
			if (n + 1 >= sizeof(lx->text)) {
				snprintf(lx->err, sizeof(lx->err),
				    "word too long");
				return T_ERROR;
			}
			lx->text[n++] = *lx->p++;
		}
		if (n == 0) {
			snprintf(lx->err, sizeof(lx->err),
			    "unexpected character 0x%02x",
			    (unsigned char)*lx->p);
			return T_ERROR;
		}
		lx->text[n] = '\0';
		return T_WORD;
	}
}

static int
lex_error(struct lexer *lx, const char *path, const char *expected,
    enum tok t, char *why, size_t len)
{
	if (t == T_ERROR)
		cfg_why(why, len, "%s:%d: %s", path, lx->line, lx->err);
	else if (t == T_EOF)
		cfg_why(why, len, "%s:%d: expected %s, found the end of the "
		    "file", path, lx->line, expected);
	else
		cfg_why(why, len, "%s:%d: expected %s", path, lx->line,
		    expected);
	return -1;
}

/* Parse the text of a key file (secret erased by the caller). */
static int
parse_keyfile(const char *path, const char *text, size_t n,
    struct cfg_tsig_key *key, char *why, size_t len)
{
	struct lexer lx = { .p = text, .end = text + n, .line = 1 };
	char name[300], alg[64] = "", secret[600] = "";
	int rc = -1, nkeys = 0, name_line = 0, alg_line = 0, secret_line = 0;
	enum cfg_tsig_alg a;
	enum tok t;

	for (;;) {
		t = lex(&lx);
		if (t == T_EOF)
			break;
		if (t != T_WORD || strcmp(lx.text, "key") != 0) {
			lex_error(&lx, path, "a key statement "
			    "(key \"NAME\" { ... };)", t, why, len);
			goto done;
		}
		if (++nkeys > 1) {
			cfg_why(why, len, "%s:%d: a second key statement; "
			    "the file must hold exactly one key", path,
			    lx.line);
			goto done;
		}
		t = lex(&lx);
		if (t != T_WORD && t != T_STRING) {
			lex_error(&lx, path, "the key name", t, why, len);
			goto done;
		}
		copy_cut(name, sizeof(name), lx.text);
		name_line = lx.line;
		if ((t = lex(&lx)) != T_LBRACE) {
			lex_error(&lx, path, "'{' after the key name", t,
			    why, len);
			goto done;
		}
		for (;;) {
			char *dst;
			size_t dlen;

			t = lex(&lx);
			if (t == T_RBRACE)
				break;
			if (t != T_WORD) {
				lex_error(&lx, path, "algorithm, secret or "
				    "'}'", t, why, len);
				goto done;
			}
			if (strcmp(lx.text, "algorithm") == 0) {
				alg_line = lx.line;
				dst = alg;
				dlen = sizeof(alg);
			} else if (strcmp(lx.text, "secret") == 0) {
				dst = secret;
				dlen = sizeof(secret);
				secret_line = lx.line;
			} else {
				cfg_why(why, len, "%s:%d: unknown statement "
				    "'%.40s' in key %s (expected algorithm or "
				    "secret)", path, lx.line, lx.text, name);
				goto done;
			}
			t = lex(&lx);
			if (t != T_WORD && t != T_STRING) {
				lex_error(&lx, path, "a value", t, why, len);
				goto done;
			}
			copy_cut(dst, dlen, lx.text);
			if ((t = lex(&lx)) != T_SEMI) {
				lex_error(&lx, path, "';'", t, why, len);
				goto done;
			}
		}
		if ((t = lex(&lx)) != T_SEMI) {
			lex_error(&lx, path, "';' after '}'", t, why, len);
			goto done;
		}
	}
	if (nkeys == 0) {
		cfg_why(why, len, "%s: holds no key statement", path);
		goto done;
	}
	if (alg[0] == '\0') {
		cfg_why(why, len, "%s: key %s has no algorithm", path, name);
		goto done;
	}
	if (secret[0] == '\0') {
		cfg_why(why, len, "%s: key %s has no secret", path, name);
		goto done;
	}
	if (cfg_dname_check(name, why, len) == -1) {
		char inner[CFG_WHY];

		copy_cut(inner, sizeof(inner), why);
		cfg_why(why, len, "%s:%d: key name: %s", path, name_line,
		    inner);
		goto done;
	}
	if (cfg_tsig_alg_parse(alg, &a) == -1) {
		char inner[CFG_WHY];

		alg_why(alg, inner, sizeof(inner));
		cfg_why(why, len, "%s:%d: %s", path, alg_line, inner);
		goto done;
	}
	if (key_set(key, name, alg, secret, why, len) == -1) {
		char inner[CFG_WHY];

		copy_cut(inner, sizeof(inner), why);
		cfg_why(why, len, "%s:%d: %s", path, secret_line, inner);
		goto done;
	}
	rc = 0;
done:
	explicit_bzero(lx.text, sizeof(lx.text));
	explicit_bzero(secret, sizeof(secret));
	return rc;
}

int
cfg_tsig_key_read(const char *path, struct cfg_tsig_key *key, char *why,
    size_t len)
{
	struct stat st;
	char *buf = NULL;
	size_t n = 0;
	int fd = -1, rc = -1;

	if (path[0] != '/') {
		cfg_why(why, len, "'%s' is not an absolute path", path);
		return -1;
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) == -1) {
		cfg_why(why, len, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1) {
		cfg_why(why, len, "%s: %s", path, strerror(errno));
		goto done;
	}
	if (!S_ISREG(st.st_mode)) {
		cfg_why(why, len, "%s is not a regular file", path);
		goto done;
	}
	if (st.st_mode & 077) {
		cfg_secret_mode_why(path, st.st_mode, why, len);
		goto done;
	}
	if (st.st_size > KEYFILE_MAX) {
		cfg_why(why, len, "%s is too large for a key file", path);
		goto done;
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL) {
		cfg_why(why, len, "out of memory");
		goto done;
	}
	while (n < (size_t)st.st_size) {
		ssize_t r = read(fd, buf + n, (size_t)st.st_size - n);

		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			cfg_why(why, len, "%s: %s", path, strerror(errno));
			goto done;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	buf[n] = '\0';
	rc = parse_keyfile(path, buf, n, key, why, len);
done:
	if (buf != NULL) {
		explicit_bzero(buf, n);
		free(buf);
	}
	if (fd != -1)
		close(fd);
	return rc;
}
