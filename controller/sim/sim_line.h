/*
 * sim_line.h - one line of `failoverd simulate` output at a time.
 */
#ifndef FAILOVERD_SIM_LINE_H
#define FAILOVERD_SIM_LINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct sim_line {
	FILE		*out;
	bool		 json;		/* one JSON object per line */
	char		 line[4096];	/* longer lines are cut */
	size_t		 len;
};

/* Start the line of EVENT at virtual time NOW (ms). */
void	 sim_line_begin(struct sim_line *, int64_t now, const char *event);
/* Add key=value (JSON: "key":value); a NULL key adds the value alone. */
void	 sim_line_kv(struct sim_line *, const char *key, const char *val);
/* End the line and write it to out. */
void	 sim_line_end(struct sim_line *);

#endif
