/*
 * sdnotify: the service manager's readiness protocol (sd_notify(3)),
 * without libsystemd: a datagram of "KEY=VALUE" lines to the AF_UNIX
 * socket named by $NOTIFY_SOCKET ('@' first: the abstract namespace).
 *
 * Under systemd's Type=notify the node says READY=1 once it listens and
 * reaches its database, STOPPING=1 when it starts draining, and WATCHDOG=1
 * every quarter of $WATCHDOG_USEC while no worker is stalled, so systemd
 * restarts a node whose workers stopped. Without $NOTIFY_SOCKET every call
 * does nothing. Only the main thread calls these.
 */
#ifndef JCT_SDNOTIFY_H
#define JCT_SDNOTIFY_H

#include <stdbool.h>
#include <stdint.h>

/* Reads $NOTIFY_SOCKET, $WATCHDOG_USEC and $WATCHDOG_PID (the watchdog is
 * ours only when that PID is ours or unset), and removes them from the
 * environment so that no child inherits them. Returns false when there is
 * no socket to notify. */
bool sdnotify_init(void);

/* Sends state ("READY=1", "STOPPING=1\nSTATUS=draining", ...). Returns 0,
 * or a negative errno; 0 without a socket. */
int sdnotify(const char *state);

/* The watchdog interval asked for by the service manager, in microseconds;
 * 0: none. */
uint64_t sdnotify_watchdog_usec(void);

#endif
