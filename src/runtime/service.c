/*
 * service: the readiness and watchdog policy of service.h over
 * sdnotify(3)'s messages. The state is the main thread's alone (it ticks
 * once a second between signals, main.c), so it has no lock; the workers'
 * side is two relaxed counters each (worker.c).
 */
#include "runtime/service.h"

#include "base/clock.h"
#include "base/log.h"
#include "base/sdnotify.h"
#include "runtime/worker.h"

#include <stdint.h>
#include <stdio.h>

static bool with_db;          /* readiness waits for the workers' database */
static bool ready;            /* READY=1 sent */
static bool stalled;          /* a stalled worker was logged (once per stall) */
static uint64_t wd_ms;        /* the watchdog interval; 0: none */
static uint64_t last_ping_ms; /* the last WATCHDOG=1 */

void service_start(bool with_database)
{
	with_db = with_database;
	wd_ms = sdnotify_watchdog_usec() / 1000;
	if (with_db && !workers_db_up())
		sdnotify("STATUS=waiting for the database");
	service_tick();
}

void service_tick(void)
{
	uint64_t now = clock_now_ms(), stuck;
	unsigned which = 0;

	if (!ready && (!with_db || workers_db_up())) {
		char msg[128];

		snprintf(msg, sizeof(msg), "READY=1\nSTATUS=serving, %u workers", workers_count());
		sdnotify(msg);
		ready = true;
	}
	if (!wd_ms)
		return;
	stuck = workers_stalled_ms(now, &which);
	if (stuck >= wd_ms / 2) {
		/* No ping: systemd ends the node at the interval's end. */
		if (!stalled)
			log_error(
				"event=worker_stalled worker=%u ms=%llu detail=\"no watchdog ping: "
				"the service manager restarts the node\"",
				which, (unsigned long long)stuck);
		stalled = true;
		return;
	}
	stalled = false;
	if (now - last_ping_ms >= wd_ms / 4) {
		sdnotify("WATCHDOG=1");
		last_ping_ms = now;
	}
}

void service_stopping(void)
{
	sdnotify("STOPPING=1\nSTATUS=draining");
}
