/*
 * failoverctl.c - the operators' command line.
 */
#include <stdio.h>
#include <string.h>

int
main(int argc, char **argv)
{
	if (argc > 1 && (strcmp(argv[1], "--version") == 0)) {
		printf("failoverctl %s\n", FAILOVERD_VERSION);
		return 0;
	}
	fprintf(stderr, "usage: failoverctl [-c FILE] VERB ...\n");
	return 2;
}
