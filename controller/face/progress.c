/*
 * progress.c - the file format of progress.h, read side and path.
 */
#include "controller/face/progress.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

bool
progress_path(const char *state_dir, const char *group, char *buf,
    size_t len)
{
	int n = snprintf(buf, len, "%s/progress.%s", state_dir, group);

	return n > 0 && (size_t)n < len;
}

bool
progress_read(const char *state_dir, const char *group, const char *id,
    const char *phase, char *line, size_t len)
{
	char path[4096], buf[1024], *nl1, *nl2, *nl3, *sp;
	ssize_t n;
	int fd;

	if (len == 0 || !progress_path(state_dir, group, path, sizeof(path)))
		return false;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	if ((nl1 = strchr(buf, '\n')) == NULL ||
	    (nl2 = strchr(nl1 + 1, '\n')) == NULL ||
	    (nl3 = strchr(nl2 + 1, '\n')) == NULL)
		return false;
	*nl1 = *nl2 = *nl3 = '\0';
	if ((sp = strchr(nl1 + 1, ' ')) != NULL)
		*sp = '\0';
	if (strcmp(buf, id) != 0 || strcmp(nl1 + 1, phase) != 0)
		return false;
	snprintf(line, len, "%s", nl2 + 1);
	for (char *p = line; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	return true;
}
