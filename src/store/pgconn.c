/*
 * pgconn: see pgconn.h.
 */
#include "store/pgconn.h"
#include "store/store.h"

#include "base/clock.h"
#include "base/log.h"

#include <errno.h>
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
#define PGCONN_NKEYS               8
#define PGCONN_MAX_KEYS            64 /* libpq knows about 50 */
#define PGCONN_MAX_HOSTS           16

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static char primary[128];          /* under lock */
static uint64_t failovers;         /* under lock */
static unsigned generation;        /* atomic */
static unsigned stores, stores_up; /* under lock */
static uint64_t down_since_ms;     /* under lock; when stores_up fell short */
static uint64_t down_total_ms;     /* under lock */

PGconn *pgconn_connect(const char *conninfo, const char *app)
{
	const char *const keys[] = {PGCONN_KEYS, NULL};
	const char *const vals[] = {PGCONN_VALS(app, conninfo), NULL};

	return PQconnectdbParams(keys, vals, 1);
}

/* Elements of a comma-separated list. */
static unsigned count_list(const char *v)
{
	unsigned n = 1;

	for (const char *p = v; (p = strchr(p, ',')); p++)
		n++;
	return n;
}

/* The comma-separated list v rotated left by k, into out (NULL: it does
 * not have n elements, or does not fit). */
static const char *rotate(const char *v, unsigned n, unsigned k, char *out, size_t size)
{
	const char *item[PGCONN_MAX_HOSTS + 1];
	unsigned m = 0;
	size_t len = 0;

	for (const char *p = v; m <= PGCONN_MAX_HOSTS; m++) {
		item[m] = p;
		p = strchr(p, ',');
		if (!p)
			break;
		p++;
	}
	if (m + 1 != n || strlen(v) >= size)
		return NULL;
	for (unsigned i = 0; i < n; i++) {
		const char *s = item[(i + k) % n];
		size_t l = strcspn(s, ",");

		if (i)
			out[len++] = ',';
		memcpy(out + len, s, l);
		len += l;
	}
	out[len] = '\0';
	return out;
}

PGconn *pgconn_start(const char *conninfo, const char *app, unsigned first)
{
	/* the defaults but dbname, then the conninfo's own keys (later keys
	 * win), its host lists rotated */
	const char *keys[PGCONN_MAX_KEYS + 1] = {PGCONN_KEYS, NULL};
	const char *vals[PGCONN_MAX_KEYS + 1] = {PGCONN_VALS(app, conninfo), NULL};
	static const char *const lists[] = {"host", "hostaddr", "port"};
	char rotated[3][512];
	unsigned k = PGCONN_NKEYS - 1, nhosts = 1;
	PQconninfoOption *opts = PQconninfoParse(conninfo, NULL), *o;
	PGconn *c;

	if (!opts) /* unreadable: libpq says why when it fails */
		return PQconnectStartParams(keys, vals, 1);
	for (o = opts; o->keyword; o++) {
		if (strcmp(o->keyword, "host") == 0 && o->val)
			nhosts = count_list(o->val);
	}
	for (o = opts; o->keyword && k < PGCONN_MAX_KEYS; o++) {
		const char *v = o->val;

		if (!v)
			continue;
		for (unsigned i = 0; i < 3 && nhosts > 1; i++) {
			if (strcmp(o->keyword, lists[i]) == 0 &&
			    rotate(v, nhosts, first % nhosts, rotated[i], sizeof(rotated[i])))
				v = rotated[i];
		}
		keys[k] = o->keyword;
		vals[k++] = v;
	}
	keys[k] = vals[k] = NULL;
	c = PQconnectStartParams(keys, vals, 0); /* copies what it keeps */
	PQconninfoFree(opts);
	return c;
}

int store_conninfo_check(const char *conninfo, char *err, size_t cap)
{
	char *why = NULL;
	PQconninfoOption *opts = PQconninfoParse(conninfo, &why), *o;
	unsigned hosts = 1, ports = 1, addrs = 0;

	if (!opts) {
		snprintf(err, cap, "%s", why ? why : "out of memory");
		err[strcspn(err, "\r\n")] = '\0';
		PQfreemem(why);
		return -EINVAL;
	}
	for (o = opts; o->keyword; o++) {
		if (!o->val)
			continue;
		if (strcmp(o->keyword, "host") == 0)
			hosts = count_list(o->val);
		else if (strcmp(o->keyword, "port") == 0)
			ports = count_list(o->val);
		else if (strcmp(o->keyword, "hostaddr") == 0)
			addrs = count_list(o->val);
	}
	PQconninfoFree(opts);
	if (addrs > hosts)
		hosts = addrs; /* hostaddr alone names the servers */
	if ((ports != 1 && ports != hosts) || (addrs && addrs != hosts)) {
		snprintf(err, cap, "%u hosts but %u ports%s: give one port, or one per host", hosts,
			 ports,
			 addrs && addrs != hosts ? " and a hostaddr list of another length" : "");
		return -EINVAL;
	}
	return 0;
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

/* Moves the count of worker stores and of those with a connection up,
 * and the time without one: some store down since down_since_ms. */
static void stores_move(int dstores, int dup)
{
	pthread_mutex_lock(&lock);
	bool was = stores_up == stores;
	stores += (unsigned)dstores;
	stores_up += (unsigned)dup;
	bool now = stores_up == stores;
	if (was && !now)
		down_since_ms = clock_now_ms();
	else if (!was && now)
		down_total_ms += clock_now_ms() - down_since_ms;
	pthread_mutex_unlock(&lock);
}

void pgconn_store_new(void)
{
	stores_move(1, 0);
}

void pgconn_store_up(void)
{
	stores_move(0, 1);
}

void pgconn_store_down(void)
{
	stores_move(0, -1);
}

void pgconn_store_gone(bool was_up)
{
	stores_move(-1, was_up ? -1 : 0);
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
