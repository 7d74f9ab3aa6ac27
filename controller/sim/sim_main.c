/*
 * sim_main.c - the command line of `failoverd simulate`: the
 * configuration and the scenario (or --replay of a recorded probe log),
 * each error reported once with its file and line, then sim_run.
 */
#include "controller/sim/simulate.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
usage(FILE *f)
{
	fprintf(f, "usage: failoverd simulate [-c FILE] SCENARIO [--json]\n"
	    "       failoverd simulate [-c FILE] --replay [--state-dir DIR]"
	    " [--since T]\n"
	    "           [--until T] [--json]\n");
}

int
simulate_main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config",	required_argument,	NULL, 'c' },
		{ "json",	no_argument,		NULL, 'j' },
		{ "help",	no_argument,		NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = getenv("FAILOVERD_CONFIG");
	struct config *cfg = NULL;
	struct config_errors cerr = { 0 };
	struct scenario *scn = NULL;
	struct scn_errors serr = { 0 };
	struct sim_options opt = { 0 };
	int ch, rc = 1;

	if (path == NULL)
		path = CFG_DEFAULT_PATH;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			path = optarg;
			break;
		case 'j':
			opt.json = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		return 2;
	}
	if (config_load_flags(path, CONFIG_SIMULATION, &cfg, &cerr) != 0) {
		for (size_t i = 0; i < cerr.n; i++)
			fprintf(stderr, "%s\n", cerr.msg[i]);
		config_errors_free(&cerr);
		return 1;
	}
	if (scn_load(argv[optind], &scn, &serr) != 0 ||
	    scn_resolve(scn, cfg, &serr) != 0) {
		for (size_t i = 0; i < serr.n; i++)
			fprintf(stderr, "%s\n", serr.msg[i]);
		goto out;
	}
	if (sim_run(cfg, scn, &opt, NULL) != 0) {
		fprintf(stderr, "failoverd simulate: out of memory\n");
		goto out;
	}
	if (fflush(stdout) != 0) {
		perror("failoverd simulate: stdout");
		goto out;
	}
	rc = 0;
out:
	scn_errors_free(&serr);
	scn_free(scn);
	config_free(cfg);
	return rc;
}
