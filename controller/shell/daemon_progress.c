/*
 * daemon_progress.c - the last line of a switch's running hook, in a file
 * failoverctl reads while it follows the switch (face/progress.h).
 *
 * A hook may print thousands of lines: each is logged, but the file is
 * rewritten at most every PROGRESS_WRITE_MS per group (the newest line
 * waits on a timer), with a rename so that a reader never sees half of
 * it.  Small writes to a local file, not synced: cheap enough for the
 * loop.
 */
#include "controller/shell/daemon_progress.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "controller/base/clock.h"
#include "controller/base/log.h"
#include "controller/face/progress.h"
#include "controller/shell/daemon_int.h"

struct prog {
	struct prog	*next;
	struct daemon	*d;
	struct event	*ev;		/* the pending write */
	char		 group[STORE_NAME_MAX + 1];
	char		 id[ENG_ID_MAX];
	char		 phase[32];
	char		 stack[STORE_NAME_MAX + 1];
	char		 line[PROGRESS_LINE_MAX];
	int64_t		 written_mono;	/* 0: never */
};

static struct prog	*progs;

static struct prog *
prog_find(const char *group)
{
	for (struct prog *p = progs; p != NULL; p = p->next)
		if (strcmp(p->group, group) == 0)
			return p;
	return NULL;
}

static void
prog_write(struct prog *p)
{
	char path[4096], tmp[4200], buf[PROGRESS_LINE_MAX + 600];
	int fd, n;

	p->written_mono = clock_mono_ms();
	if (p->d->state_real == NULL || !progress_path(p->d->state_real,
	    p->group, path, sizeof(path)))
		return;
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	n = snprintf(buf, sizeof(buf), "%s\n%s %s\n%s\n", p->id, p->phase,
	    p->stack, p->line);
	if (n < 0 || (size_t)n >= sizeof(buf))
		return;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
	    0600);
	if (fd == -1)
		return;
	if (write(fd, buf, (size_t)n) != n) {
		close(fd);
		unlink(tmp);
		return;
	}
	close(fd);
	if (rename(tmp, path) == -1)
		unlink(tmp);
}

static void
prog_cb(evutil_socket_t fd, short what, void *arg)
{
	prog_write(arg);
}

void
dprogress_line(struct daemon *d, const char *group, const char *id,
    const char *phase, const char *stack, const char *line)
{
	struct prog *p = prog_find(group);
	int64_t since;

	if (d->dry_run || id[0] == '\0')
		return;
	if (p == NULL) {
		if ((p = calloc(1, sizeof(*p))) == NULL)
			fatal("out_of_memory", "where=progress");
		if ((p->ev = evtimer_new(d->base, prog_cb, p)) == NULL)
			fatal("out_of_memory", "where=progress");
		p->d = d;
		snprintf(p->group, sizeof(p->group), "%s", group);
		p->next = progs;
		progs = p;
	}
	snprintf(p->id, sizeof(p->id), "%s", id);
	snprintf(p->phase, sizeof(p->phase), "%s", phase);
	snprintf(p->stack, sizeof(p->stack), "%s", stack);
	snprintf(p->line, sizeof(p->line), "%s", line);
	/* One line per line of the file: a NUL or newline in it ends it. */
	p->line[strcspn(p->line, "\n")] = '\0';
	since = clock_mono_ms() - p->written_mono;
	if (p->written_mono == 0 || since >= PROGRESS_WRITE_MS) {
		evtimer_del(p->ev);
		prog_write(p);
	} else if (!evtimer_pending(p->ev, NULL)) {
		struct timeval tv = { 0, (suseconds_t)(PROGRESS_WRITE_MS -
		    since) * 1000 };

		evtimer_add(p->ev, &tv);
	}
}

void
dprogress_end(struct daemon *d, const char *group, const char *id)
{
	char path[4096];

	for (struct prog **pp = &progs; *pp != NULL; pp = &(*pp)->next) {
		struct prog *p = *pp;

		if (strcmp(p->group, group) != 0)
			continue;
		*pp = p->next;
		event_free(p->ev);
		free(p);
		break;
	}
	if (d->state_real != NULL && id[0] != '\0' &&
	    progress_path(d->state_real, group, path, sizeof(path)))
		unlink(path);
}
