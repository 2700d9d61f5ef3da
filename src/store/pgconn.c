/*
 * pgconn: see pgconn.h.
 */
#include "store/pgconn.h"
#include "store/store.h"

#include "base/clock.h"
#include "base/log.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

/* Defaults the operator's conninfo may override (it comes after them:
 * with expand_dbname, later keys win). connect_timeout bounds a blocking
 * connect only; a worker's non-blocking one gives up with its batch
 * timeout. Keepalives and tcp_user_timeout make a server that vanished
 * without a reset (a machine lost, a path cut) a broken connection in
 * about 10 s instead of the kernel's 15 minutes. */
#define PGCONN_KEYS                                                                                \
	"target_session_attrs", "connect_timeout", "keepalives_idle", "keepalives_interval",       \
		"keepalives_count", "tcp_user_timeout", "application_name", "dbname"
#define PGCONN_VALS(app, conninfo) "read-write", "3", "5", "2", "3", "10000", app, conninfo

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static char primary[128];         /* under lock */
static uint64_t failovers;        /* under lock */
static unsigned generation;       /* atomic */
static unsigned stores, stores_up; /* under lock */
static uint64_t down_since_ms;    /* under lock; when stores_up fell short */
static uint64_t down_total_ms;    /* under lock */

PGconn *pgconn_connect(const char *conninfo, const char *app)
{
	const char *const keys[] = {PGCONN_KEYS, NULL};
	const char *const vals[] = {PGCONN_VALS(app, conninfo), NULL};

	return PQconnectdbParams(keys, vals, 1);
}

PGconn *pgconn_start(const char *conninfo, const char *app)
{
	const char *const keys[] = {PGCONN_KEYS, NULL};
	const char *const vals[] = {PGCONN_VALS(app, conninfo), NULL};

	return PQconnectStartParams(keys, vals, 1);
}

unsigned pgconn_connected(PGconn *c)
{
	char where[sizeof(primary)], was[sizeof(primary)];
	bool moved;

	snprintf(where, sizeof(where), "%s:%s", PQhost(c) ? PQhost(c) : "",
		 PQport(c) ? PQport(c) : "");
	pthread_mutex_lock(&lock);
	moved = primary[0] && strcmp(primary, where) != 0;
	memcpy(was, primary, sizeof(was));
	if (moved) {
		failovers++;
		__atomic_add_fetch(&generation, 1, __ATOMIC_RELEASE);
	}
	memcpy(primary, where, sizeof(primary));
	pthread_mutex_unlock(&lock);
	if (moved)
		log_warn("event=db_failover from=\"%s\" to=\"%s\"", was, where);
	return pgconn_generation();
}

unsigned pgconn_generation(void)
{
	return __atomic_load_n(&generation, __ATOMIC_ACQUIRE);
}

bool pgconn_must_replace(const PGresult *r)
{
	const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);

	if (!state)
		return false;
	if (strcmp(state, "25006") == 0) {
		/* read_only_sql_transaction: whatever this server was, the
		 * primary is elsewhere now, for every connection */
		__atomic_add_fetch(&generation, 1, __ATOMIC_RELEASE);
		return true;
	}
	return strncmp(state, "57P", 3) == 0 || strncmp(state, "08", 2) == 0;
}

/* Called under lock when stores_up or stores changed. */
static void account(bool was_available)
{
	bool now_available = stores_up == stores;

	if (was_available && !now_available)
		down_since_ms = clock_now_ms();
	else if (!was_available && now_available)
		down_total_ms += clock_now_ms() - down_since_ms;
}

void pgconn_store_new(void)
{
	pthread_mutex_lock(&lock);
	bool was = stores_up == stores;
	stores++;
	account(was);
	pthread_mutex_unlock(&lock);
}

void pgconn_store_up(void)
{
	pthread_mutex_lock(&lock);
	bool was = stores_up == stores;
	stores_up++;
	account(was);
	pthread_mutex_unlock(&lock);
}

void pgconn_store_down(void)
{
	pthread_mutex_lock(&lock);
	bool was = stores_up == stores;
	stores_up--;
	account(was);
	pthread_mutex_unlock(&lock);
}

void pgconn_store_gone(bool was_up)
{
	pthread_mutex_lock(&lock);
	bool was = stores_up == stores;
	stores--;
	stores_up -= was_up;
	account(was);
	pthread_mutex_unlock(&lock);
}

void store_health(struct store_health *out)
{
	pthread_mutex_lock(&lock);
	out->available = stores_up == stores;
	out->failovers = failovers;
	out->unavailable_s =
		(double)(down_total_ms + (out->available ? 0 : clock_now_ms() - down_since_ms)) /
		1000.0;
	memcpy(out->primary, primary, sizeof(out->primary));
	pthread_mutex_unlock(&lock);
}
