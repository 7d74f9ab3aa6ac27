/*
 * cl_lines.h - framing of a newline-delimited stream: etcd's gateway sends
 * each message of a streaming call (watch, lease keep-alive) as one JSON
 * object followed by "\n", and the bytes arrive in pieces of any size.
 * Pure: bytes in, complete lines out; it allocates only its buffer.
 *
 * The struct is public so that it can be embedded; touch it only through
 * these functions.
 */
#ifndef FAILOVERD_CL_LINES_H
#define FAILOVERD_CL_LINES_H

#include <stdbool.h>
#include <stddef.h>

struct cl_lines {
	char	*buf;
	size_t	 len;		/* bytes held */
	size_t	 off;		/* bytes already handed out */
	size_t	 tail;		/* where the unterminated line starts */
	size_t	 cap;
	size_t	 max;		/* longest line accepted */
};

/* An empty framer that refuses lines longer than max bytes.  No failure. */
void	 cl_lines_init(struct cl_lines *, size_t max);
/* Free the buffer; the framer may be initialised again. */
void	 cl_lines_deinit(struct cl_lines *);
/* Forget everything held (a new stream begins); keeps the buffer. */
void	 cl_lines_reset(struct cl_lines *);

/*
 * Append n bytes.  0, or CL_E_NOMEM, or CL_E_PROTOCOL when a line would
 * exceed max (the framer is then reset).  Lines handed out before are no
 * longer valid.
 */
int	 cl_lines_feed(struct cl_lines *, const void *data, size_t n);

/*
 * The next complete line, without its "\n" (or "\r\n"); blank lines are
 * skipped.  *line is borrowed: valid until the next call on the framer.
 * false when no complete line is held.
 */
bool	 cl_lines_next(struct cl_lines *, const char **line, size_t *len);

/*
 * At the end of the stream: what is left after the last "\n", if it is not
 * blank (a sender may end without a final newline, as the gateway does
 * after an error).  Consumes it.  Borrowed like cl_lines_next().
 */
bool	 cl_lines_rest(struct cl_lines *, const char **line, size_t *len);

#endif
