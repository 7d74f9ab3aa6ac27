/*
 * log.h - the one logger of failoverd.
 *
 * One line per event on stderr (or the stream given to log_init):
 *
 *   ts=2026-01-01T12:00:00.123Z level=info event=health_change group=www ...
 *
 * Callers pass the event name and a printf format of "key=value" pairs.
 * Any value that may hold a space, '"' or '=' (names from the
 * configuration, hook output, error details) goes through log_q(), which
 * quotes and escapes it into scratch space that is reset after each line,
 * so callers free nothing.  Not thread-safe: failoverd is one event loop.
 *
 * State changes log at info; single probes at debug.  Never log a secret.
 */
#ifndef FAILOVERD_LOG_H
#define FAILOVERD_LOG_H

#include <stdio.h>

enum log_level {
	LOGL_ERROR = 0,
	LOGL_WARN,
	LOGL_INFO,
	LOGL_DEBUG,
};

/* Where lines go (NULL: stderr) and the most verbose level written. */
void	 log_init(FILE *out, enum log_level max);
/* Parse "error", "warn", "info", "debug"; -1 if none of them. */
int	 log_level_parse(const char *s);
enum log_level log_get_level(void);

void	 log_error(const char *event, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
void	 log_warn(const char *event, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
void	 log_info(const char *event, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
void	 log_debug(const char *event, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* For the impossible only (broken invariants): logs and aborts. */
void	 fatal(const char *event, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3), noreturn));

/*
 * Quote a value for a key=value line when it needs it: returns s itself
 * when it has no space, '"', '=' or control character, else a quoted and
 * escaped copy in scratch space valid until the current line is written.
 * NULL gives "-".  An empty string gives "".
 */
const char *log_q(const char *s);

#endif
