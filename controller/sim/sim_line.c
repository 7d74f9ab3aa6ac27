/*
 * sim_line.c - the simulator's output lines: "   T.mmm event key=value",
 * quoted where needed, or one JSON object per line (integers as
 * numbers).  Built in a fixed buffer and written whole, so the output is
 * byte for byte the same on every run.
 */
#include "controller/sim/sim_line.h"

#include <stdio.h>
#include <string.h>

static void
put(struct sim_line *s, const char *p, size_t n)
{
	if (s->len + n >= sizeof(s->line))
		n = sizeof(s->line) - 1 - s->len;
	memcpy(s->line + s->len, p, n);
	s->len += n;
}

void
sim_line_begin(struct sim_line *s, int64_t now, const char *event)
{
	char t[48];
	int n;

	s->len = 0;
	if (s->json) {
		n = snprintf(t, sizeof(t), "{\"t_ms\":%lld,\"event\":",
		    (long long)now);
		put(s, t, (size_t)n);
		sim_line_kv(s, NULL, event);
	} else {
		n = snprintf(t, sizeof(t), "%6lld.%03lld %s",
		    (long long)(now / 1000), (long long)(now % 1000),
		    event);
		put(s, t, (size_t)n);
	}
}

/* An integer JSON can carry as a number: -?(0|[1-9][0-9]*), short. */
static bool
json_number(const char *v)
{
	const char *p = v + (*v == '-');
	size_t n = strlen(p);

	if (n == 0 || n > 15 || (p[0] == '0' && n > 1))
		return false;
	for (size_t i = 0; i < n; i++)
		if (p[i] < '0' || p[i] > '9')
			return false;
	return true;
}

/*
 * key=value, quoted when needed; JSON: "key":"value" (integers as
 * numbers).  NULL key: the value alone, always a string.
 */
void
sim_line_kv(struct sim_line *s, const char *key, const char *val)
{
	bool quote = val[0] == '\0';

	if (s->json) {
		if (key != NULL) {
			put(s, ",\"", 2);
			put(s, key, strlen(key));
			put(s, "\":", 2);
		}
		if (key != NULL && json_number(val)) {
			put(s, val, strlen(val));
			return;
		}
		put(s, "\"", 1);
		for (const char *p = val; *p != '\0'; p++) {
			char esc[8];

			if (*p == '"' || *p == '\\') {
				esc[0] = '\\';
				esc[1] = *p;
				put(s, esc, 2);
			} else if ((unsigned char)*p < 0x20) {
				snprintf(esc, sizeof(esc), "\\u%04x",
				    (unsigned char)*p);
				put(s, esc, 6);
			} else
				put(s, p, 1);
		}
		put(s, "\"", 1);
		return;
	}
	for (const char *p = val; *p != '\0' && !quote; p++)
		if (*p == ' ' || *p == '"' || *p == '=' ||
		    (unsigned char)*p < 0x20)
			quote = true;
	put(s, " ", 1);
	put(s, key, strlen(key));
	put(s, "=", 1);
	if (!quote) {
		put(s, val, strlen(val));
		return;
	}
	put(s, "\"", 1);
	for (const char *p = val; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			put(s, "\\", 1);
		if ((unsigned char)*p < 0x20)
			put(s, "?", 1);
		else
			put(s, p, 1);
	}
	put(s, "\"", 1);
}

void
sim_line_end(struct sim_line *s)
{
	if (s->json)
		put(s, "}", 1);
	s->line[s->len++] = '\n';
	fwrite(s->line, 1, s->len, s->out);
}
