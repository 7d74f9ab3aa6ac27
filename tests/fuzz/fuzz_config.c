/*
 * fuzz_config.c - libFuzzer target for config_load(): the input is written
 * to a memfd and loaded through /proc/self/fd, then everything is freed.
 * A crash, a sanitizer report or a leak is a bug; so is a load that
 * succeeds with errors reported or fails without any.
 */
#include <sys/mman.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "config/config.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config_errors errs = { 0 };
	struct config *cfg = NULL;
	char path[64];
	int fd, rc;

	if ((fd = memfd_create("fuzz_config", MFD_CLOEXEC)) == -1)
		return 0;
	if (size > 0 && write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return 0;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	rc = config_load(path, &cfg, &errs);
	if ((rc == 0) != (cfg != NULL) || (rc == 0) != (errs.n == 0))
		abort();
	config_free(cfg);
	config_errors_free(&errs);
	close(fd);
	return 0;
}
