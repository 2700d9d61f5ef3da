/*
 * service: what the node tells its service manager (systemd's Type=notify,
 * through base/sdnotify.h), and when.
 *
 * READY=1 once the listeners are open and every worker has reached the
 * database (not before: a unit ordered after junction.service expects a
 * registrar that stores), with STATUS=waiting for the database until then;
 * STOPPING=1 when the drain starts; WATCHDOG=1 each quarter of the
 * watchdog interval while no worker has been stuck in one round for half
 * of it (workers_stalled_ms()): a stalled worker stops the pings, is
 * logged once (event=worker_stalled), and systemd restarts the node.
 * Without a notification socket every call sends nothing. The main
 * thread's only.
 */
#ifndef JCT_SERVICE_H
#define JCT_SERVICE_H

#include <stdbool.h>

/* Once the workers and listeners run: readiness waits for the database
 * when there is one (with_database). Sends what is due already. */
void service_start(bool with_database);
/* Sends what is due now; about once a second. */
void service_tick(void);
/* STOPPING=1: the drain begins. */
void service_stopping(void);

#endif
