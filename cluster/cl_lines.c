/*
 * cl_lines.c - newline framing for the gateway's streams.
 *
 * One buffer: bytes are appended at len, lines handed out from off; the
 * consumed head is dropped (memmove) at the next feed, so a line stays in
 * place while the caller reads it.  A stream of small messages thus moves
 * a few bytes per message and allocates only while the buffer grows.
 */
#include "cluster/cl_lines.h"

#include <stdlib.h>
#include <string.h>

#include "cluster/cl_msg.h"

void
cl_lines_init(struct cl_lines *l, size_t max)
{
	memset(l, 0, sizeof(*l));
	l->max = max;
}

void
cl_lines_deinit(struct cl_lines *l)
{
	free(l->buf);
	l->buf = NULL;
	l->len = l->off = l->tail = l->cap = 0;
}

void
cl_lines_reset(struct cl_lines *l)
{
	l->len = l->off = l->tail = 0;
}

int
cl_lines_feed(struct cl_lines *l, const void *data, size_t n)
{
	size_t	 need, cap, at, line;
	char	*nb, *nl;

	if (l->off > 0) {
		memmove(l->buf, l->buf + l->off, l->len - l->off);
		l->len -= l->off;
		l->tail -= l->off;
		l->off = 0;
	}
	need = l->len + n;
	if (need > l->cap) {
		cap = l->cap > 0 ? l->cap : 1024;
		while (cap < need)
			cap *= 2;
		if ((nb = realloc(l->buf, cap)) == NULL)
			return CL_E_NOMEM;
		l->buf = nb;
		l->cap = cap;
	}
	if (n > 0)
		memcpy(l->buf + l->len, data, n);
	at = l->len;
	l->len += n;
	/* Every line completed by these bytes, then the new tail. */
	while (at < l->len &&
	    (nl = memchr(l->buf + at, '\n', l->len - at)) != NULL) {
		line = (size_t)(nl - l->buf) - l->tail;
		if (line > 0 && nl[-1] == '\r')
			line--;
		if (line > l->max)
			goto toolong;
		l->tail = (size_t)(nl - l->buf) + 1;
		at = l->tail;
	}
	if (l->len - l->tail > l->max + 1)	/* + 1: a "\r" to come */
		goto toolong;
	return 0;
toolong:
	cl_lines_reset(l);
	return CL_E_PROTOCOL;
}

/* Trim a trailing "\r"; true if anything but blanks remains. */
static bool
line_trim(const char *s, size_t *len)
{
	size_t	 i;

	if (*len > 0 && s[*len - 1] == '\r')
		(*len)--;
	for (i = 0; i < *len; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
			return true;
	return false;
}

bool
cl_lines_next(struct cl_lines *l, const char **line, size_t *len)
{
	const char	*s, *nl;
	size_t		 n;

	while (l->off < l->len) {
		s = l->buf + l->off;
		if ((nl = memchr(s, '\n', l->len - l->off)) == NULL)
			return false;
		n = (size_t)(nl - s);
		l->off += n + 1;
		if (line_trim(s, &n)) {
			*line = s;
			*len = n;
			return true;
		}
	}
	return false;
}

bool
cl_lines_rest(struct cl_lines *l, const char **line, size_t *len)
{
	const char	*s;
	size_t		 n;

	if (l->off >= l->len)
		return false;
	s = l->buf + l->off;
	n = l->len - l->off;
	l->off = l->tail = l->len;
	if (memchr(s, '\n', n) != NULL)
		return false;	/* complete lines are cl_lines_next()'s */
	if (!line_trim(s, &n))
		return false;
	*line = s;
	*len = n;
	return true;
}
