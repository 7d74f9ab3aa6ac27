/*
 * log.c - key=value line logger; see log.h.
 *
 * The scratch arena behind log_q() is a fixed buffer; a value that does not
 * fit is cut (and marked with "...") rather than allocated, because the
 * logger must work when memory is short.
 *
 * The limiters (log_rl_*) bound what an outsider can make us write: a
 * flood of 401s or of refused connections costs a line a second and a
 * count, not a disk.  Limiters with drops are kept on one list, so a flush
 * touches only those.
 */
#include "controller/base/log.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define SCRATCH_SIZE	16384

static FILE		*log_out;
static enum log_level	 log_max = LOGL_INFO;
static char		 scratch[SCRATCH_SIZE];
static size_t		 scratch_used;

static const char *const level_names[] = { "error", "warn", "info", "debug" };

static struct log_rl	*rl_list;	/* limiters with drops */
static int64_t		(*rl_clock)(void);

static void	 log_vline(enum log_level, const char *, const char *, va_list)
		    __attribute__((format(printf, 3, 0)));

void
log_init(FILE *out, enum log_level max)
{
	log_out = out;
	log_max = max;
}

int
log_level_parse(const char *s)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++)
		if (strcasecmp(s, level_names[i]) == 0)
			return (int)i;
	return -1;
}

enum log_level
log_get_level(void)
{
	return log_max;
}

static bool
needs_quote(const char *s)
{
	if (*s == '\0')
		return true;
	for (; *s; s++)
		if (*s == ' ' || *s == '"' || *s == '=' || (unsigned char)*s < 0x20 ||
		    *s == 0x7f)
			return true;
	return false;
}

const char *
log_q(const char *s)
{
	static const char hex[] = "0123456789abcdef";
	char *out, *p, *end;

	if (s == NULL)
		return "-";
	if (!needs_quote(s))
		return s;
	/* Room for the quotes, "..." and the NUL. */
	if (SCRATCH_SIZE - scratch_used < 8)
		return "\"...\"";
	out = p = scratch + scratch_used;
	end = scratch + SCRATCH_SIZE - 6;
	*p++ = '"';
	for (; *s && p < end - 4; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			*p++ = '\\';
			*p++ = (char)c;
		} else if (c == '\n') {
			*p++ = '\\';
			*p++ = 'n';
		} else if (c == '\t') {
			*p++ = '\\';
			*p++ = 't';
		} else if (c < 0x20 || c == 0x7f) {
			*p++ = '\\';
			*p++ = 'x';
			*p++ = hex[c >> 4];
			*p++ = hex[c & 15];
		} else
			*p++ = (char)c;
	}
	if (*s) {
		memcpy(p, "...", 3);
		p += 3;
	}
	*p++ = '"';
	*p++ = '\0';
	scratch_used = (size_t)(p - scratch);
	return out;
}

static void
log_vline(enum log_level lvl, const char *event, const char *fmt, va_list ap)
{
	struct timespec ts;
	struct tm tm;
	char tbuf[32];
	FILE *out = log_out ? log_out : stderr;

	if (lvl > log_max) {
		scratch_used = 0;
		return;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(tbuf, sizeof(tbuf), "%Y-%m-%dT%H:%M:%S", &tm);
	/* One fprintf-family sequence on a locked stream: lines never interleave. */
	flockfile(out);
	fprintf(out, "ts=%s.%03ldZ level=%s event=%s", tbuf,
	    ts.tv_nsec / 1000000, level_names[lvl], event);
	if (fmt != NULL && *fmt != '\0') {
		fputc(' ', out);
		vfprintf(out, fmt, ap);
	}
	fputc('\n', out);
	fflush(out);
	funlockfile(out);
	scratch_used = 0;
}

#define LOG_FN(name, lvl)						\
void									\
name(const char *event, const char *fmt, ...)				\
{									\
	va_list ap;							\
	va_start(ap, fmt);						\
	log_vline(lvl, event, fmt, ap);					\
	va_end(ap);							\
}

LOG_FN(log_error, LOGL_ERROR)
LOG_FN(log_warn, LOGL_WARN)
LOG_FN(log_info, LOGL_INFO)
LOG_FN(log_debug, LOGL_DEBUG)

void
fatal(const char *event, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vline(LOGL_ERROR, event, fmt, ap);
	va_end(ap);
	abort();
}

/* ---- limiters ---- */

static int64_t
rl_now(void)
{
	struct timespec ts;

	if (rl_clock != NULL)
		return rl_clock();
	clock_gettime(CLOCK_MONOTONIC, &ts);
	/* Never 0, which marks a limiter that has no window yet. */
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + 1;
}

void
log_rl_set_clock(int64_t (*mono_ms)(void))
{
	rl_clock = mono_ms;
}

static void
rl_unlist(struct log_rl *rl)
{
	struct log_rl **pp;

	for (pp = &rl_list; *pp != NULL; pp = &(*pp)->next)
		if (*pp == rl) {
			*pp = rl->next;
			break;
		}
	rl->next = NULL;
	rl->listed = false;
}

static void
rl_summary(struct log_rl *rl)
{
	if (rl->dropped == 0)
		return;
	log_warn("log_suppressed", "what=%s count=%llu seconds=%d",
	    log_q(rl->what), (unsigned long long)rl->dropped,
	    LOG_RL_WINDOW_S);
	rl->dropped = 0;
}

bool
log_rl_allow(struct log_rl *rl)
{
	int64_t now = rl_now();

	if (rl->start_ms == 0 || now - rl->start_ms >= LOG_RL_WINDOW_S * 1000) {
		rl_summary(rl);
		if (rl->listed)
			rl_unlist(rl);
		rl->start_ms = now;
		rl->n = 0;
	}
	if (rl->n < LOG_RL_BURST) {
		rl->n++;
		return true;
	}
	rl->dropped++;
	if (!rl->listed) {
		rl->next = rl_list;
		rl_list = rl;
		rl->listed = true;
	}
	return false;
}

void
log_rl_flush(bool all)
{
	int64_t now = rl_now();
	struct log_rl *rl, *next;

	for (rl = rl_list; rl != NULL; rl = next) {
		next = rl->next;
		if (!all && now - rl->start_ms < LOG_RL_WINDOW_S * 1000)
			continue;
		rl_summary(rl);
		rl_unlist(rl);
	}
}
