/*
 * assets.h - the dashboard's files, built into the binary: the table that
 * embed.sh generates from index.html, dashboard.css and dashboard.js
 * beside it (the generated file lives in the build tree only).
 */
#ifndef FAILOVERD_DASH_ASSETS_H
#define FAILOVERD_DASH_ASSETS_H

#include <stddef.h>

struct dash_asset {
	const char		*name;	/* "index.html"; NULL ends the table */
	const unsigned char	*data;	/* len bytes, then a NUL */
	size_t			 len;
};

extern const struct dash_asset dash_assets[];

#endif
