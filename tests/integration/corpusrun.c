/*
 * corpusrun.c - replay the fuzz corpus through the fuzz targets' own entry
 * points, in the normal test run (no clang, no libFuzzer): the regression
 * inputs kept in tests/fuzz/corpus/NAME/ go through exactly the code that
 * tests/fuzz/fuzz_NAME.c fuzzes, here built with the project's compiler
 * and, under SAN=1, with ASan and UBSan.
 *
 *   corpusrun CORPUS_DIR              every NAME/ under it, every file
 *   corpusrun NAME FILE...            these files through target NAME
 *
 * The targets are the fuzz sources themselves, included below with their
 * LLVMFuzzerTestOneInput renamed, so the two can never drift apart.  A
 * target aborts on an inconsistent result and the sanitizers abort on a
 * bad access; otherwise each file prints "ok NAME FILE BYTES" and the run
 * ends with "total N files" and exit 0.  A directory under CORPUS_DIR
 * with no target of that name, or an unreadable file, is an error (exit
 * 1); usage errors exit 2.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LLVMFuzzerTestOneInput	fuzz_config_one
#include "tests/fuzz/fuzz_config.c"
#undef LLVMFuzzerTestOneInput

#define LLVMFuzzerTestOneInput	fuzz_scenario_one
#include "tests/fuzz/fuzz_scenario.c"
#undef LLVMFuzzerTestOneInput

#define LLVMFuzzerTestOneInput	fuzz_dns_response_one
#include "tests/fuzz/fuzz_dns_response.c"
#undef LLVMFuzzerTestOneInput

struct target {
	const char	*name;
	int		(*one)(const uint8_t *, size_t);
};

static const struct target targets[] = {
	{ "config",		fuzz_config_one },
	{ "scenario",		fuzz_scenario_one },
	{ "dns_response",	fuzz_dns_response_one },
};

#define NTARGETS	(sizeof(targets) / sizeof(targets[0]))
#define FILE_MAX	(4 * 1024 * 1024)	/* libFuzzer's default -max_len
						   is far smaller */

static const struct target *target_find(const char *);
static int	 run_file(const struct target *, const char *);
static int	 run_dir(const struct target *, const char *);
static int	 name_cmp(const void *, const void *);

static size_t	 nfiles;

static const struct target *
target_find(const char *name)
{
	for (size_t i = 0; i < NTARGETS; i++)
		if (strcmp(targets[i].name, name) == 0)
			return &targets[i];
	return NULL;
}

/* Feed one file to the target; 0, or -1 when it cannot be read. */
static int
run_file(const struct target *t, const char *path)
{
	FILE *f = NULL;
	uint8_t *buf = NULL;
	size_t n;
	int rc = -1;

	if ((f = fopen(path, "rb")) == NULL) {
		fprintf(stderr, "corpusrun: %s: %s\n", path, strerror(errno));
		goto out;
	}
	/* One byte more than the limit, to tell "too big" from "full". */
	if ((buf = malloc(FILE_MAX + 1)) == NULL) {
		fprintf(stderr, "corpusrun: out of memory\n");
		goto out;
	}
	n = fread(buf, 1, FILE_MAX + 1, f);
	if (ferror(f) || n > FILE_MAX) {
		fprintf(stderr, "corpusrun: %s: %s\n", path,
		    ferror(f) ? "read error" : "larger than 4 MiB");
		goto out;
	}
	/*
	 * Exactly the input's bytes in a buffer of that size, as libFuzzer
	 * hands them over, so that ASan sees a read past the end.
	 */
	{
		uint8_t *copy = malloc(n ? n : 1);

		if (copy == NULL) {
			fprintf(stderr, "corpusrun: out of memory\n");
			goto out;
		}
		memcpy(copy, buf, n);
		t->one(copy, n);
		free(copy);
	}
	printf("ok %s %s %zu\n", t->name, path, n);
	nfiles++;
	rc = 0;
out:
	free(buf);
	if (f != NULL)
		fclose(f);
	return rc;
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every regular file of DIR, in name order; -1 on the first failure. */
static int
run_dir(const struct target *t, const char *dir)
{
	DIR *d = NULL;
	struct dirent *de;
	char **names = NULL, path[4096];
	size_t n = 0, cap = 0;
	int rc = -1;

	if ((d = opendir(dir)) == NULL) {
		fprintf(stderr, "corpusrun: %s: %s\n", dir, strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (n == cap) {
			char **v;

			cap = cap ? cap * 2 : 64;
			if ((v = realloc(names, cap * sizeof(*v))) == NULL)
				goto oom;
			names = v;
		}
		if ((names[n] = strdup(de->d_name)) == NULL)
			goto oom;
		n++;
	}
	if (n > 0)
		qsort(names, n, sizeof(*names), name_cmp);
	rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		struct stat st;

		if (snprintf(path, sizeof(path), "%s/%s", dir, names[i]) >=
		    (int)sizeof(path)) {
			fprintf(stderr, "corpusrun: %s/%s: path too long\n",
			    dir, names[i]);
			rc = -1;
			break;
		}
		if (stat(path, &st) == -1 || !S_ISREG(st.st_mode))
			continue;
		rc = run_file(t, path);
	}
	goto out;
oom:
	fprintf(stderr, "corpusrun: out of memory\n");
out:
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	closedir(d);
	return rc;
}

int
main(int argc, char **argv)
{
	const struct target *t;
	char path[4096];
	DIR *d;
	struct dirent *de;
	int rc = 0;

	if (argc == 2) {
		/* A corpus root: one directory per target. */
		if ((d = opendir(argv[1])) == NULL) {
			fprintf(stderr, "corpusrun: %s: %s\n", argv[1],
			    strerror(errno));
			return 1;
		}
		while (rc == 0 && (de = readdir(d)) != NULL) {
			if (de->d_name[0] == '.')
				continue;
			if ((t = target_find(de->d_name)) == NULL) {
				fprintf(stderr, "corpusrun: %s/%s: no fuzz "
				    "target of that name\n", argv[1],
				    de->d_name);
				rc = -1;
				break;
			}
			if (snprintf(path, sizeof(path), "%s/%s", argv[1],
			    de->d_name) >= (int)sizeof(path)) {
				fprintf(stderr, "corpusrun: %s: path too "
				    "long\n", argv[1]);
				rc = -1;
				break;
			}
			rc = run_dir(t, path);
		}
		closedir(d);
	} else if (argc >= 3) {
		if ((t = target_find(argv[1])) == NULL) {
			fprintf(stderr, "corpusrun: no fuzz target %s\n",
			    argv[1]);
			return 2;
		}
		for (int i = 2; i < argc && rc == 0; i++)
			rc = run_file(t, argv[i]);
	} else {
		fprintf(stderr, "usage: corpusrun CORPUS_DIR | "
		    "corpusrun TARGET FILE...\n");
		return 2;
	}
	if (rc != 0)
		return 1;
	printf("total %zu files\n", nfiles);
	return 0;
}
