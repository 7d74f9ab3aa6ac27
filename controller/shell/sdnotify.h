/*
 * sdnotify.h - tell systemd about the daemon's state, without libsystemd.
 *
 * When NOTIFY_SOCKET is set (a path, or an abstract name written with a
 * leading '@'), each call sends one datagram of newline-separated
 * assignments (sd_notify(3)); when it is not set, calls do nothing and
 * return 0.  Sends never block: a full queue on systemd's side is an
 * error, not a wait.  Leaf-style: nothing is logged.
 *
 * Reload, as systemd 253 and later expect it: sdnotify_reloading() before
 * reading the configuration (it carries MONOTONIC_USEC), sdnotify_ready()
 * once the result, good or refused, is in place.
 */
#ifndef FAILOVERD_SDNOTIFY_H
#define FAILOVERD_SDNOTIFY_H

#include <stdint.h>

enum sdnotify_err {
	SDNOTIFY_E_ADDR = -1,		/* NOTIFY_SOCKET is not a usable
					   address */
	SDNOTIFY_E_SEND = -2,		/* socket or sendto failed: errno */
};

/*
 * Send STATE, e.g. "READY=1\nSTATUS=ok".  Returns 1 when sent, 0 when
 * NOTIFY_SOCKET is not set, or a negative enum sdnotify_err.
 */
int	 sdnotify_send(const char *state);
int	 sdnotify_ready(void);		/* READY=1 */
int	 sdnotify_reloading(void);	/* RELOADING=1, MONOTONIC_USEC=now */
int	 sdnotify_stopping(void);	/* STOPPING=1 */
int	 sdnotify_watchdog(void);	/* WATCHDOG=1 */
/* STATUS=..., one line: newlines in the text become spaces. */
int	 sdnotify_status(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));
/*
 * The watchdog interval in microseconds when systemd asks this process for
 * keep-alives (WATCHDOG_USEC set, and WATCHDOG_PID unset or our pid), else
 * 0.  Send sdnotify_watchdog() at half of it.
 */
uint64_t sdnotify_watchdog_usec(void);
const char *sdnotify_strerror(int err);

#endif
