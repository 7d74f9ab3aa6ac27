/*
 * prom.h - writing the Prometheus text exposition format (version 0.0.4).
 */
#ifndef FAILOVERD_PROM_H
#define FAILOVERD_PROM_H

#include <stddef.h>

struct evbuffer;

/* S as a label value, escaped (\\, \", \n) into buf; returns buf. */
const char	*prom_label(const char *s, char *buf, size_t len);
/* The "# HELP failoverd_NAME" and "# TYPE" lines of a family. */
void		 prom_family(struct evbuffer *, const char *name,
		    const char *type, const char *help);

#endif
