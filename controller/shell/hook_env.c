/*
 * hook_env.c - what a hook is given and how a run is shown: the
 * NAME=VALUE environment of DESIGN.md "Hook environment", and the
 * shell-quoted line that reproduces a run in --dry-run logs.  Pure
 * string work, no process.
 */
#include "controller/shell/hook.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static size_t	 shell_quote(char *, const char *);
static size_t	 put(char *, size_t, const char *);

char **
hook_env_build(const struct hook_env *env, const char *path)
{
	char attempt[16], epoch[24], **out, *s;
	size_t n = 0, i, size;

	if (env == NULL || env->group == NULL || env->phase == NULL)
		return NULL;
	snprintf(attempt, sizeof(attempt), "%u", env->attempt);
	snprintf(epoch, sizeof(epoch), "%llu", (unsigned long long)env->epoch);
	/* In DESIGN.md's order; a NULL value is left out. */
	const struct {
		const char	*name;
		const char	*value;
	} v[] = {
		{ "PATH",		path },
		{ "FAILOVER_GROUP",	env->group },
		{ "FAILOVER_PHASE",	env->phase },
		{ "FAILOVER_STACK",	env->stack },
		{ "FAILOVER_FROM",	env->from },
		{ "FAILOVER_TO",	env->to },
		{ "FAILOVER_ID",	env->id },
		{ "FAILOVER_ATTEMPT",	env->attempt > 0 ? attempt : NULL },
		{ "FAILOVER_REASON",	env->reason },
		{ "FAILOVER_ADDRESS",	env->address },
		{ "FAILOVER_DRY_RUN",	env->dry_run ? "1" : "0" },
		{ "FAILOVER_STATUS",	env->status },
		{ "FAILOVER_STATE_DIR",	env->state_dir },
		{ "FAILOVER_EPOCH",	env->epoch > 0 ? epoch : NULL },
	};

	size = sizeof(char *);
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		if (v[i].value != NULL)
			size += sizeof(char *) + strlen(v[i].name) +
			    strlen(v[i].value) + 2;
	if ((out = malloc(size)) == NULL)
		return NULL;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		if (v[i].value != NULL)
			n++;
	s = (char *)(out + n + 1);
	n = 0;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		if (v[i].value == NULL)
			continue;
		out[n++] = s;
		s = stpcpy(s, v[i].name);
		*s++ = '=';
		s = stpcpy(s, v[i].value) + 1;
	}
	out[n] = NULL;
	return out;
}

/*
 * Write S quoted for a POSIX shell to DST (when not NULL); returns the
 * length, without a NUL.  Single quotes, with ' as '\''.
 */
static size_t
shell_quote(char *dst, const char *s)
{
	static const char safe[] = "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789@%+=:,./-_";
	size_t n = 0;
	const char *c;

	if (*s != '\0' && strspn(s, safe) == strlen(s)) {
		n = strlen(s);
		if (dst != NULL)
			memcpy(dst, s, n);
		return n;
	}
	n = put(dst, n, "'");
	for (c = s; *c != '\0'; c++) {
		if (*c == '\'')
			n = put(dst, n, "'\\''");
		else {
			if (dst != NULL)
				dst[n] = *c;
			n++;
		}
	}
	return put(dst, n, "'");
}

/* Append S at DST + N (when DST is not NULL); returns the new length. */
static size_t
put(char *dst, size_t n, const char *s)
{
	size_t len = strlen(s);

	if (dst != NULL)
		memcpy(dst + n, s, len);
	return n + len;
}

char *
hook_render(char *const argv[], char *const envp[])
{
	static const char prefix[] = "env -i";
	size_t size = 1, i, n;
	char *out, *s;
	int pass;

	if (argv == NULL)
		return NULL;
	out = NULL;
	for (pass = 0; pass < 2; pass++) {
		s = out;
		n = 0;
		if (envp != NULL) {
			if (s != NULL)
				memcpy(s, prefix, sizeof(prefix) - 1);
			n += sizeof(prefix) - 1;
			for (i = 0; envp[i] != NULL; i++) {
				if (s != NULL)
					s[n] = ' ';
				n++;
				n += shell_quote(s != NULL ? s + n : NULL,
				    envp[i]);
			}
		}
		for (i = 0; argv[i] != NULL; i++) {
			if (n > 0) {
				if (s != NULL)
					s[n] = ' ';
				n++;
			}
			n += shell_quote(s != NULL ? s + n : NULL, argv[i]);
		}
		if (pass == 0) {
			size = n + 1;
			if ((out = malloc(size)) == NULL)
				return NULL;
		} else
			out[n] = '\0';
	}
	return out;
}
