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

#include <stdbool.h>
#include <stdint.h>
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

/*
 * A limiter for lines an outsider can cause: a refused API request, a
 * connection turned away, an accept error, libevent's own complaints.
 * Each limiter lets LOG_RL_BURST lines through per LOG_RL_WINDOW_S seconds
 * and counts the rest; once the window is over, one line says how many
 * were left out:
 *
 *   ts=... level=warn event=log_suppressed what=api_refused count=1234 seconds=10
 *
 * The summary is written by the next log_rl_allow() of that limiter or by
 * log_rl_flush(), which the daemon calls every second or so (and with
 * all at exit) so that the last count of a flood that stopped is not lost.
 * A limiter is a static struct log_rl initialised with LOG_RL_INIT; it
 * must outlive the program's last log_rl_flush().  Ask it before any
 * log_q() of the line: its summary is a line of its own, which reuses the
 * scratch space.
 */
#define LOG_RL_BURST	10
#define LOG_RL_WINDOW_S	10

struct log_rl {
	const char	*what;		/* names the limiter in the summary */
	int64_t		 start_ms;	/* of the window, monotonic; 0: none */
	unsigned	 n;		/* lines let through in the window */
	uint64_t	 dropped;	/* lines left out in the window */
	struct log_rl	*next;		/* on the list of those with drops */
	bool		 listed;
};
#define LOG_RL_INIT(what)	{ (what), 0, 0, 0, NULL, false }

/* true: write the line now; false: it is counted instead. */
bool	 log_rl_allow(struct log_rl *);
/* Summaries of the limiters whose window is over (all: every one). */
void	 log_rl_flush(bool all);
/* The monotonic clock of the limiters, in ms; NULL: the real one. */
void	 log_rl_set_clock(int64_t (*mono_ms)(void));

#endif
