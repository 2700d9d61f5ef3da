/*
 * store_bg: the database side thread. It holds its own connection and
 *   - LISTENs on junction_subscriber and junction_binding and tells the
 *     node's caches (through the hooks main gives it: the subscriber and
 *     location caches of the registrar) the moment any node or operator
 *     changes a subscriber or an AOR, and to resynchronise after a
 *     reconnect, when notifications may have been missed;
 *   - sweeps expired bindings every [registrar] sweep_interval seconds, in
 *     batches, so the table stays small without long locks.
 * Blocking libpq calls are fine here: no SIP traffic waits on this thread.
 */
#include "store/store_bg.h"

#include "base/clock.h"
#include "base/log.h"

#include <errno.h>
#include <libpq-fe.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define BG_SWEEP_BATCH    1000
#define BG_BACKOFF_MAX_MS 5000

static pthread_t bg_thread;
static bool bg_started;
static int bg_stop_fd = -1;
static char *bg_conninfo;
static unsigned bg_sweep_interval_ms;
static _Atomic uint64_t bg_swept;
static struct store_bg_hooks bg_hooks;

static void bg_sleep(unsigned ms)
{
	struct pollfd p = {.fd = bg_stop_fd, .events = POLLIN};

	(void)poll(&p, 1, (int)ms);
}

static bool bg_stopping(void)
{
	struct pollfd p = {.fd = bg_stop_fd, .events = POLLIN};

	return poll(&p, 1, 0) > 0;
}

static PGconn *bg_connect(void)
{
	unsigned backoff = 100;

	while (!bg_stopping()) {
		PGconn *c = PQconnectdb(bg_conninfo);
		PGresult *r;

		if (PQstatus(c) == CONNECTION_OK) {
			r = PQexec(c, "LISTEN junction_subscriber; LISTEN junction_binding");
			if (PQresultStatus(r) == PGRES_COMMAND_OK) {
				PQclear(r);
				/* Changes while we were away went unheard. */
				bg_hooks.resync();
				return c;
			}
			PQclear(r);
		}
		PQfinish(c);
		bg_sleep(backoff);
		backoff = backoff * 2 > BG_BACKOFF_MAX_MS ? BG_BACKOFF_MAX_MS : backoff * 2;
	}
	return NULL;
}

/* Returns false when the connection failed. */
static bool bg_sweep(PGconn *c)
{
	char batch[16];
	const char *params[1] = {batch};
	unsigned total = 0;

	snprintf(batch, sizeof(batch), "%d", BG_SWEEP_BATCH);
	for (;;) {
		PGresult *r = PQexecParams(c, "SELECT junction_sweep_expired($1::integer)", 1, NULL,
					   params, NULL, NULL, 0);
		unsigned n;

		if (PQresultStatus(r) != PGRES_TUPLES_OK) {
			PQclear(r);
			return PQstatus(c) == CONNECTION_OK;
		}
		n = (unsigned)strtoul(PQgetvalue(r, 0, 0), NULL, 10);
		PQclear(r);
		total += n;
		if (n < BG_SWEEP_BATCH || bg_stopping())
			break;
	}
	if (total) {
		atomic_fetch_add(&bg_swept, total);
		log_debug("event=bindings_swept count=%u", total);
	}
	return true;
}

static void *bg_main(void *unused)
{
	PGconn *c = NULL;
	uint64_t next_sweep = clock_now_ms();

	(void)unused;
	while (!bg_stopping()) {
		struct pollfd p[2] = {{.fd = bg_stop_fd, .events = POLLIN}};
		PGnotify *n;
		uint64_t now;

		if (!c) {
			c = bg_connect();
			if (!c)
				break;
		}
		now = clock_now_ms();
		if (now >= next_sweep) {
			if (!bg_sweep(c)) {
				PQfinish(c);
				c = NULL;
				continue;
			}
			next_sweep = clock_now_ms() + bg_sweep_interval_ms;
			now = clock_now_ms();
		}
		p[1].fd = PQsocket(c);
		p[1].events = POLLIN;
		(void)poll(p, 2, (int)(next_sweep > now ? next_sweep - now : 0));
		if (!PQconsumeInput(c)) {
			log_warn("event=db_listen_lost");
			PQfinish(c);
			c = NULL;
			continue;
		}
		while ((n = PQnotifies(c))) {
			if (strcmp(n->relname, "junction_binding") == 0)
				bg_hooks.binding_changed(n->extra);
			else
				bg_hooks.subscriber_changed(n->extra);
			PQfreemem(n);
		}
	}
	if (c)
		PQfinish(c);
	return NULL;
}

int store_bg_start(const char *conninfo, unsigned sweep_interval_s,
		   const struct store_bg_hooks *hooks)
{
	int rc;

	bg_hooks = *hooks;
	bg_conninfo = strdup(conninfo);
	if (!bg_conninfo)
		return -ENOMEM;
	bg_sweep_interval_ms = sweep_interval_s * 1000;
	bg_stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (bg_stop_fd < 0)
		return -errno;
	rc = pthread_create(&bg_thread, NULL, bg_main, NULL);
	if (rc)
		return -rc;
	bg_started = true;
	return 0;
}

void store_bg_stop(void)
{
	uint64_t one = 1;

	if (bg_started) {
		(void)!write(bg_stop_fd, &one, sizeof(one));
		pthread_join(bg_thread, NULL);
		bg_started = false;
	}
	if (bg_stop_fd >= 0)
		close(bg_stop_fd);
	bg_stop_fd = -1;
	free(bg_conninfo);
	bg_conninfo = NULL;
}

uint64_t store_bg_swept(void)
{
	return atomic_load(&bg_swept);
}
