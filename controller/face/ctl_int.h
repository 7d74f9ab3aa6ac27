/*
 * ctl_int.h - what failoverctl's files share: the invocation, the exit
 * codes and the small printers.  failoverctl.c parses the command line
 * and runs the small verbs; ctl_status.c is status, ctl_switch.c switch
 * (plan, ask, follow), ctl_group.c verify and the groups (DNS on a
 * private loop), ctl_cluster.c cluster.
 */
#ifndef FAILOVERD_CTL_INT_H
#define FAILOVERD_CTL_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "config/config.h"
#include "controller/face/ops.h"
#include "controller/store/store.h"

#define FOLLOW_POLL_MS	100

#define EX_OK		0
#define EX_FAIL		1
#define EX_USAGE	2

struct ctl {
	const char	*config_path;
	struct config	*cfg;
	struct store	*st;
	const char	*store_err;	/* failover-status: why st is NULL */
	int		 argc;		/* the verb's own arguments, argv[0] */
	char	       **argv;		/* is the verb */
};

/* The verbs (failoverctl.c's table). */
int	 ctl_v_status(struct ctl *);		/* ctl_status.c */
int	 ctl_v_switch(struct ctl *);		/* ctl_switch.c */
int	 ctl_v_precheck(struct ctl *);		/* ctl_switch.c */
int	 ctl_v_verify(struct ctl *);		/* ctl_group.c */
int	 ctl_v_group(struct ctl *);		/* ctl_group.c */

/* failoverctl.c */
/* "failoverctl: " and one line on stderr. */
void	 ctl_fail_line(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));
int64_t	 ctl_now_ms(void);			/* wall clock */
int64_t	 ctl_mono_ms(void);
void	 ctl_sleep_ms(int64_t ms);
/* One usage line for the verb on stderr (why first); returns EX_USAGE. */
int	 ctl_verb_usage(const struct ctl *, const char *why);
/* The verb's usage and help on stdout; returns EX_OK. */
int	 ctl_verb_help(const struct ctl *);
/* "56s", "3m12s", "2h05m", "4d03h" (age) and a local date and time. */
void	 ctl_age_text(int64_t ms, char *buf, size_t len);
void	 ctl_time_text(int64_t ms, char *buf, size_t len);
/* O's string member KEY, or "" (never NULL). */
const char *ctl_jstr(const json_t *o, const char *key);
/* A group's stack lines, as status prints them. */
void	 ctl_print_stacks(const json_t *g, int64_t now);
/* One operator command through ops.h, its answer in *r; EX_*. */
int	 ctl_command(struct ctl *, enum ops_verb verb, const char *group,
	    const char *stack, bool force, struct ops_reply *r);

/* ctl_status.c: whether a daemon holds STATE_DIR's lock (/proc/locks):
 * its pid, and when the state was last written. */
enum daemon_seen {
	DAEMON_UNKNOWN = 0,
	DAEMON_RUNNING,
	DAEMON_STOPPED,
};
enum daemon_seen ctl_daemon_probe(const char *state_dir, long *pid,
	    int64_t *written_ms);
/* ctl_status.c: group G's stack NAME, or NULL. */
const json_t *ctl_stack_find(const json_t *g, const char *name);

#endif
