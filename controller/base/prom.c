/*
 * prom.c - the Prometheus text exposition format's two small rules: a
 * label value's escapes and a family's HELP and TYPE lines.
 */
#include "controller/base/prom.h"

#include <event2/buffer.h>

/* A label value, escaped as the text format wants (\\, \", \n). */
const char *
prom_label(const char *s, char *buf, size_t len)
{
	size_t o = 0;

	for (; s != NULL && *s != '\0' && o + 3 < len; s++) {
		if (*s == '\\' || *s == '"') {
			buf[o++] = '\\';
			buf[o++] = *s;
		} else if (*s == '\n') {
			buf[o++] = '\\';
			buf[o++] = 'n';
		} else
			buf[o++] = *s;
	}
	buf[o] = '\0';
	return buf;
}

void
prom_family(struct evbuffer *b, const char *name, const char *type,
    const char *help)
{
	evbuffer_add_printf(b, "# HELP failoverd_%s %s\n"
	    "# TYPE failoverd_%s %s\n", name, help, name, type);
}

