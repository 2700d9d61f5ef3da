/*
 * store_bg: the database side thread. It holds its own connection and
 *   - LISTENs on junction_subscriber and junction_binding and tells the
 *     node's caches (through the hooks main gives it: the subscriber and
 *     location caches of the registrar) the moment any node or operator
 *     changes a subscriber or an AOR, and to resynchronise after a
 *     reconnect, when notifications may have been missed;
 *   - sweeps expired bindings every [registrar] sweep_interval seconds, in
 *     batches, so the table stays small without long locks;
 *   - when the node has Session Controller pools, LISTENs on
 *     junction_sip_server and hands the whole sip_server table to the pool
 *     after every change (and every reconnect), and writes what this node
 *     sees of each server to sip_server_node when a state changes and
 *     every BG_PUBLISH_MS besides (so updated_at shows a node is alive);
 *   - with session affinity, ends forgotten dialogs and drops sessions
 *     ended long ago every sweep interval (junction_session_sweep(), which
 *     one node at a time does), and reads the open sessions per Session
 *     Controller every BG_PUBLISH_MS for the pool's weighing and metrics;
 *   - with shared bans, writes this node's new bans and lifts to the ban
 *     table as soon as it is woken (and every BG_BANS_MS), LISTENs on
 *     junction_ban and reads the rows changed since it last looked, less
 *     BG_BANS_LAG_MS: a row whose transaction committed late carries an
 *     earlier changed_at, and reading it twice does no harm;
 *   - LISTENs on junction_route and junction_forward and hands the
 *     enabled rows of route and call_forward, each read whole, to the
 *     static routes and call forwards (proxy/statroute.c, callfwd.c) after
 *     every change and every reconnect;
 *   - writes this node's row of the node table (name, version, data
 *     centre, listeners, start) when it connects and every BG_NODE_MS
 *     after, which moves its last_seen: a heartbeat, from which the
 *     cluster_nodes view tells live nodes from gone ones. It writes its
 *     own row only; another node's, however old, is left to operators.
 * Blocking libpq calls are fine here: no SIP traffic waits on this thread.
 */
#include "autoconfig.h" /* PACKAGE_VERSION */

#include "store/store_bg.h"

#include "base/clock.h"
#include "base/log.h"
#include "store/pgconn.h"
#include "store/pgtext.h"

#include <errno.h>
#include <libpq-fe.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define STR_(x) #x
#define STR(x)  STR_(x)

#define BG_SWEEP_BATCH    1000
#define BG_BACKOFF_MAX_MS 5000
#define BG_PUBLISH_MS     5000
#define BG_MAX_SERVERS    256
#define BG_BANS_MS        1000
#define BG_BANS_LAG_MS    10000
#define BG_BANS_BATCH     256
#define BG_NODE_MS        10000 /* the heartbeat; cluster_nodes allows 30 s */

static pthread_t bg_thread;
static bool bg_started;
static int bg_stop_fd = -1;
static int bg_wake_fd = -1; /* store_bg_publish_soon() */
#define BG_GEN_CHECK_MS 1000
static unsigned bg_gen; /* pgconn_generation() of the connection */
static char *bg_conninfo;
static char *bg_node, *bg_geo;
static unsigned bg_sweep_interval_ms;
static _Atomic uint64_t bg_swept;
static _Atomic uint64_t bg_dialogs_expired, bg_sessions_open, bg_dialogs_open;
static unsigned bg_session_keep_s;
static struct store_bg_hooks bg_hooks;
static int64_t bg_bans_seen_ms; /* changed_at of the newest ban row read; 0: none yet */
/* This node's row of the node table (store_bg_set_node_info()); no
 * listeners: no row written. */
static char *bg_sip_listen, *bg_admin_listen;
static bool bg_node_nomem;     /* a copy failed */
static uint64_t bg_started_ms; /* wall clock */
static bool bg_node_failing;   /* the last heartbeat failed (logged once) */

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

/* After a failed statement r (freed here): whether c may go on. Not when
 * it broke, nor when its server no longer takes writes (the primary
 * moved: reconnect to the one that does). */
static bool bg_still_up(PGconn *c, PGresult *r)
{
	bool replace = pgconn_must_replace(r);

	PQclear(r);
	return PQstatus(c) == CONNECTION_OK && !replace;
}

static PGconn *bg_connect(void)
{
	unsigned backoff = 100;

	while (!bg_stopping()) {
		PGconn *c = pgconn_connect(bg_conninfo, "junction-listener");
		PGresult *r;

		if (PQstatus(c) == CONNECTION_OK) {
			r = PQexec(c, bg_hooks.sip_servers ? "LISTEN junction_subscriber; LISTEN "
							     "junction_binding; LISTEN "
							     "junction_sip_server"
							   : "LISTEN junction_subscriber; LISTEN "
							     "junction_binding");
			if (PQresultStatus(r) == PGRES_COMMAND_OK && bg_hooks.bans_in) {
				PQclear(r);
				r = PQexec(c, "LISTEN junction_ban");
				bg_bans_seen_ms = 0; /* all in force again */
			}
			if (PQresultStatus(r) == PGRES_COMMAND_OK &&
			    (bg_hooks.routes || bg_hooks.forwards)) {
				PQclear(r);
				r = PQexec(c, "LISTEN junction_route; LISTEN junction_forward");
			}
			if (PQresultStatus(r) == PGRES_COMMAND_OK) {
				PQclear(r);
				bg_gen = pgconn_connected(c);
				/* Changes while we were away went unheard, and after
				 * a failover the new primary may lack some of what
				 * the caches hold (not yet replicated). */
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
			return bg_still_up(c, r);
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

/* Dialogs past their expiry end, old sessions go (by one node at a time:
 * the function returns -1 when another holds its lock). Returns false
 * when the connection failed. */
static bool bg_sweep_sessions(PGconn *c)
{
	char keep[16];
	const char *params[2] = {STR(BG_SWEEP_BATCH), keep};
	long n, deleted, expired = 0;

	if (!bg_hooks.session_counts)
		return true;
	snprintf(keep, sizeof(keep), "%u", bg_session_keep_s);
	do {
		PGresult *r = PQexecParams(c,
					   "SELECT expired, deleted FROM "
					   "junction_session_sweep($1::integer, $2::integer)",
					   2, NULL, params, NULL, NULL, 0);

		if (PQresultStatus(r) != PGRES_TUPLES_OK) {
			log_warn("event=session_sweep_failed error=\"%s\"",
				 PQresultErrorMessage(r));
			return bg_still_up(c, r);
		}
		n = strtol(PQgetvalue(r, 0, 0), NULL, 10);
		deleted = strtol(PQgetvalue(r, 0, 1), NULL, 10);
		PQclear(r);
		if (n > 0) {
			expired += n;
			atomic_fetch_add(&bg_dialogs_expired, (uint64_t)n);
		}
		/* a full batch: more to do (-1: another node sweeps) */
	} while ((n >= BG_SWEEP_BATCH || deleted >= BG_SWEEP_BATCH) && !bg_stopping());
	if (expired > 0)
		log_info("event=dialogs_expired count=%ld", expired);
	return true;
}

/* The open sessions and dialogs per Session Controller, to the hook.
 * Returns false when the connection failed. */
static bool bg_session_counts(PGconn *c)
{
	const char *names[BG_MAX_SERVERS];
	unsigned counts[BG_MAX_SERVERS], n;
	uint64_t sessions = 0, dialogs = 0;
	PGresult *r;

	if (!bg_hooks.session_counts)
		return true;
	r = PQexec(c,
		   "SELECT sip_server, sessions, dialogs FROM junction_session_counts() LIMIT " STR(
			   BG_MAX_SERVERS));
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		log_warn("event=session_counts_failed error=\"%s\"", PQresultErrorMessage(r));
		return bg_still_up(c, r);
	}
	n = (unsigned)PQntuples(r);
	for (unsigned i = 0; i < n; i++) {
		names[i] = PQgetvalue(r, (int)i, 0);
		counts[i] = (unsigned)strtoul(PQgetvalue(r, (int)i, 1), NULL, 10);
		sessions += counts[i];
		dialogs += strtoull(PQgetvalue(r, (int)i, 2), NULL, 10);
	}
	bg_hooks.session_counts(names, counts, n);
	atomic_store(&bg_sessions_open, sessions);
	atomic_store(&bg_dialogs_open, dialogs);
	PQclear(r);
	return true;
}

/* Writes this node's new bans and lifts. Returns false when the
 * connection failed (the changes drained are then lost to the other
 * nodes, not to this one). */
static bool bg_bans_write(PGconn *c)
{
	static struct store_ban b[BG_BANS_BATCH];
	unsigned n;

	if (!bg_hooks.bans_out)
		return true;
	while ((n = bg_hooks.bans_out(b, BG_BANS_BATCH)) > 0) {
		for (unsigned i = 0; i < n; i++) {
			char since[24], until[24];
			const char *p[6] = {b[i].user ? "user" : "address",
					    b[i].target,
					    b[i].reason,
					    b[i].node,
					    since,
					    until};
			PGresult *r;

			snprintf(since, sizeof(since), "%llu", (unsigned long long)b[i].since_ms);
			snprintf(until, sizeof(until), "%llu", (unsigned long long)b[i].until_ms);
			if (b[i].lifted)
				r = PQexecParams(c, "SELECT junction_lift_ban($1, $2)", 2, NULL, p,
						 NULL, NULL, 0);
			else
				r = PQexecParams(
					c,
					"INSERT INTO ban (kind, target, reason, node, created_at, "
					"expires_at) VALUES ($1, $2, $3, $4, "
					"to_timestamp($5::bigint / 1000.0), "
					"to_timestamp($6::bigint / 1000.0))",
					6, NULL, p, NULL, NULL, 0);
			if (PQresultStatus(r) != PGRES_TUPLES_OK &&
			    PQresultStatus(r) != PGRES_COMMAND_OK) {
				log_warn("event=ban_write_failed target=\"%s\" error=\"%s\"",
					 b[i].target, PQresultErrorMessage(r));
				if (!bg_still_up(c, r))
					return false;
				continue;
			}
			PQclear(r);
		}
	}
	return true;
}

/* Reads the ban rows changed since the last look (all in force after a
 * reconnect). Returns false when the connection failed. */
static bool bg_bans_read(PGconn *c)
{
	static struct store_ban b[BG_BANS_BATCH];
	char since[24];
	const char *p[1] = {since};
	PGresult *r;
	int n;

	if (!bg_hooks.bans_in)
		return true;
	snprintf(since, sizeof(since), "%lld",
		 (long long)(bg_bans_seen_ms ? bg_bans_seen_ms - BG_BANS_LAG_MS : 0));
	r = PQexecParams(c,
			 "SELECT kind = 'user', target, reason, node, "
			 "(extract(epoch FROM created_at) * 1000)::bigint, "
			 "(extract(epoch FROM expires_at) * 1000)::bigint, lifted_at IS NOT NULL, "
			 "(extract(epoch FROM changed_at) * 1000)::bigint FROM ban "
			 "WHERE changed_at > to_timestamp($1::bigint / 1000.0) AND "
			 "(lifted_at IS NOT NULL OR expires_at > now()) ORDER BY changed_at",
			 1, NULL, p, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		log_warn("event=bans_read_failed error=\"%s\"", PQresultErrorMessage(r));
		return bg_still_up(c, r);
	}
	n = PQntuples(r);
	for (int i = 0; i < n;) {
		unsigned k = 0;

		for (; i < n && k < BG_BANS_BATCH; i++, k++) {
			b[k] = (struct store_ban){
				.user = PQgetvalue(r, i, 0)[0] == 't',
				.since_ms = strtoull(PQgetvalue(r, i, 4), NULL, 10),
				.until_ms = strtoull(PQgetvalue(r, i, 5), NULL, 10),
				.lifted = PQgetvalue(r, i, 6)[0] == 't'};
			snprintf(b[k].target, sizeof(b[k].target), "%s", PQgetvalue(r, i, 1));
			snprintf(b[k].reason, sizeof(b[k].reason), "%s", PQgetvalue(r, i, 2));
			snprintf(b[k].node, sizeof(b[k].node), "%s", PQgetvalue(r, i, 3));
			if (strtoll(PQgetvalue(r, i, 7), NULL, 10) > bg_bans_seen_ms)
				bg_bans_seen_ms = strtoll(PQgetvalue(r, i, 7), NULL, 10);
		}
		bg_hooks.bans_in(b, k);
	}
	PQclear(r);
	return true;
}

/* Deletes ban rows a day past their end. Returns false when the
 * connection failed. */
static bool bg_sweep_bans(PGconn *c)
{
	PGresult *r;

	if (!bg_hooks.bans_in)
		return true;
	r = PQexec(c, "SELECT junction_ban_sweep()");
	return bg_still_up(c, r);
}

/* Reads sip_server whole and hands it to the pool. Returns false when the
 * connection failed. */
static bool bg_load_servers(PGconn *c)
{
	static struct store_sip_server rows[BG_MAX_SERVERS];
	PGresult *r = PQexec(c, "SELECT name, uri, geo_location, ha_pair, role = 'backup', weight, "
				"enabled FROM sip_server ORDER BY name LIMIT " STR(BG_MAX_SERVERS));
	unsigned n;

	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		log_warn("event=sip_servers_load_failed error=\"%s\"",
			 PQresultErrorMessage(r)[0] ? PQresultErrorMessage(r) : PQerrorMessage(c));
		return bg_still_up(c, r);
	}
	n = (unsigned)PQntuples(r);
	for (unsigned i = 0; i < n; i++) {
		rows[i] = (struct store_sip_server){
			.name = PQgetvalue(r, (int)i, 0),
			.uri = PQgetvalue(r, (int)i, 1),
			.geo_location = PQgetvalue(r, (int)i, 2),
			.ha_pair = PQgetisnull(r, (int)i, 3) ? NULL : PQgetvalue(r, (int)i, 3),
			.backup = PQgetvalue(r, (int)i, 4)[0] == 't',
			.weight = (unsigned)strtoul(PQgetvalue(r, (int)i, 5), NULL, 10),
			.enabled = PQgetvalue(r, (int)i, 6)[0] == 't'};
	}
	bg_hooks.sip_servers(rows, n);
	PQclear(r);
	return true;
}

/* Reads a table whole (sql) into an array of n rows of size bytes, for a
 * loader named what. Returns the result (the array in *rows, the caller
 * frees both) or NULL: *conn_ok says whether the connection still works. */
static PGresult *bg_read_all(PGconn *c, const char *sql, const char *what, size_t size, void **rows,
			     unsigned *n, bool *conn_ok)
{
	PGresult *r = PQexec(c, sql);

	*conn_ok = true;
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		log_warn("event=%s_load_failed error=\"%s\"", what,
			 PQresultErrorMessage(r)[0] ? PQresultErrorMessage(r) : PQerrorMessage(c));
		*conn_ok = bg_still_up(c, r); /* frees r */
		return NULL;
	}
	*n = (unsigned)PQntuples(r);
	*rows = calloc(*n ? *n : 1, size);
	if (!*rows) {
		log_warn("event=%s_load_failed error=\"out of memory\"", what);
		PQclear(r);
		return NULL;
	}
	return r;
}

/* Reads the enabled routes whole and hands them to the hook (100k rows
 * are a few MB for a moment). Returns false when the connection failed. */
static bool bg_load_routes(PGconn *c)
{
	struct store_route *rows;
	unsigned n;
	bool ok;
	PGresult *r = bg_read_all(c,
				  "SELECT id, kind, match, next_hop, priority, weight FROM route "
				  "WHERE enabled ORDER BY id",
				  "routes", sizeof(*rows), (void **)&rows, &n, &ok);

	if (!r)
		return ok;
	for (unsigned i = 0; i < n; i++) {
		rows[i] = (struct store_route){
			.id = strtoll(PQgetvalue(r, (int)i, 0), NULL, 10),
			.kind = PQgetvalue(r, (int)i, 1),
			.match = PQgetvalue(r, (int)i, 2),
			.next_hop = PQgetvalue(r, (int)i, 3),
			.priority = (unsigned)strtoul(PQgetvalue(r, (int)i, 4), NULL, 10),
			.weight = (unsigned)strtoul(PQgetvalue(r, (int)i, 5), NULL, 10)};
	}
	bg_hooks.routes(rows, n);
	free(rows);
	PQclear(r);
	return true;
}

/* The same for the enabled call forwards. */
static bool bg_load_forwards(PGconn *c)
{
	struct store_forward *rows;
	unsigned n;
	bool ok;
	PGresult *r =
		bg_read_all(c, "SELECT aor, target FROM call_forward WHERE enabled ORDER BY aor",
			    "forwards", sizeof(*rows), (void **)&rows, &n, &ok);

	if (!r)
		return ok;
	for (unsigned i = 0; i < n; i++)
		rows[i] = (struct store_forward){.aor = PQgetvalue(r, (int)i, 0),
						 .target = PQgetvalue(r, (int)i, 1)};
	bg_hooks.forwards(rows, n);
	free(rows);
	PQclear(r);
	return true;
}

/* Writes this node's view of every server (junction_sip_server_seen(), its
 * columns as arrays). Returns false when the connection failed. */
static bool bg_publish(PGconn *c)
{
	static struct store_sip_server_seen v[BG_MAX_SERVERS];
	struct sip_str name[BG_MAX_SERVERS], state[BG_MAX_SERVERS], reason[BG_MAX_SERVERS];
	int64_t since[BG_MAX_SERVERS], rtt[BG_MAX_SERVERS], sw[BG_MAX_SERVERS];
	bool no_rtt[BG_MAX_SERVERS], no_sw[BG_MAX_SERVERS];
	unsigned n = bg_hooks.sip_server_seen ? bg_hooks.sip_server_seen(v, BG_MAX_SERVERS) : 0;
	const char *params[8];
	char *a[6] = {NULL};
	bool ok = true;
	PGresult *r;

	if (!n)
		return true;
	for (unsigned i = 0; i < n; i++) {
		name[i] = sip_str_cstr(v[i].name);
		state[i] = sip_str_cstr(v[i].state);
		reason[i] = v[i].reason[0] ? sip_str_cstr(v[i].reason) : SIP_STR_NULL;
		since[i] = (int64_t)v[i].since_ms;
		rtt[i] = v[i].rtt_us;
		no_rtt[i] = v[i].rtt_us < 0;
		sw[i] = (int64_t)v[i].switchover_ms;
		no_sw[i] = v[i].switchover_ms == 0;
	}
	a[0] = malloc(pgtext_text_array_max(name, n));
	a[1] = malloc(pgtext_text_array_max(state, n));
	a[2] = malloc(pgtext_int_array_max(n));
	a[3] = malloc(pgtext_int_array_max(n));
	a[4] = malloc(pgtext_int_array_max(n));
	a[5] = malloc(pgtext_text_array_max(reason, n));
	for (unsigned k = 0; k < 6; k++)
		ok = ok && a[k];
	if (ok) {
		pgtext_text_array(a[0], name, n);
		pgtext_text_array(a[1], state, n);
		pgtext_int_array(a[2], since, NULL, n);
		pgtext_int_array(a[3], rtt, no_rtt, n);
		pgtext_int_array(a[4], sw, no_sw, n);
		pgtext_text_array(a[5], reason, n);
		params[0] = bg_node;
		params[1] = bg_geo[0] ? bg_geo : NULL;
		for (unsigned k = 0; k < 6; k++)
			params[2 + k] = a[k];
		r = PQexecParams(c,
				 "SELECT junction_sip_server_seen($1, $2, $3::text[], $4::text[], "
				 "$5::bigint[], $6::bigint[], $7::bigint[], $8::text[])",
				 8, NULL, params, NULL, NULL, 0);
		if (PQresultStatus(r) != PGRES_TUPLES_OK)
			log_warn("event=sip_servers_publish_failed error=\"%s\"",
				 PQresultErrorMessage(r));
		PQclear(r);
	}
	for (unsigned k = 0; k < 6; k++)
		free(a[k]);
	return PQstatus(c) == CONNECTION_OK;
}

/* Upserts this node's row, last_seen now. Returns false when the
 * connection failed. */
static bool bg_node_beat(PGconn *c)
{
	char started[24];
	const char *params[6] = {bg_node,       PACKAGE_VERSION, bg_geo[0] ? bg_geo : NULL,
				 bg_sip_listen, bg_admin_listen, started};
	PGresult *r;

	if (!bg_sip_listen)
		return true;
	snprintf(started, sizeof(started), "%llu", (unsigned long long)bg_started_ms);
	r = PQexecParams(c,
			 "INSERT INTO node (name, version, geo_location, sip_listen, "
			 "admin_listen, started_at, last_seen) VALUES ($1, $2, $3, $4, $5, "
			 "to_timestamp($6::bigint / 1000.0), now()) ON CONFLICT (name) DO UPDATE "
			 "SET version = excluded.version, geo_location = excluded.geo_location, "
			 "sip_listen = excluded.sip_listen, admin_listen = excluded.admin_listen, "
			 "started_at = excluded.started_at, last_seen = excluded.last_seen",
			 6, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		/* once, not every BG_NODE_MS while it lasts */
		if (!bg_node_failing)
			log_warn("event=node_heartbeat_failed error=\"%s\"",
				 PQresultErrorMessage(r));
		bg_node_failing = true;
		return bg_still_up(c, r);
	}
	bg_node_failing = false;
	PQclear(r);
	return true;
}

static bool bg_woken(void)
{
	uint64_t v;

	return read(bg_wake_fd, &v, sizeof(v)) == sizeof(v);
}

static void *bg_main(void *unused)
{
	PGconn *c = NULL;
	uint64_t next_sweep = clock_now_ms(), next_publish = 0, next_bans = 0, next_node = 0;
	bool load = false, bans = false, routes = false, forwards = false;

	(void)unused;
	while (!bg_stopping()) {
		struct pollfd p[3] = {{.fd = bg_stop_fd, .events = POLLIN},
				      {.fd = bg_wake_fd, .events = POLLIN}};
		PGnotify *n;
		uint64_t now, next;
		bool woken;

		if (c && bg_gen != pgconn_generation()) {
			log_info("event=db_listen_reconnect reason=\"the primary moved\"");
			goto lost;
		}
		if (!c) {
			c = bg_connect();
			if (!c)
				break;
			load = bg_hooks.sip_servers != NULL;
			routes = bg_hooks.routes != NULL;
			forwards = bg_hooks.forwards != NULL;
			bans = bg_hooks.bans_in != NULL;
			next_publish = 0;
			next_node = 0;
		}
		if (load) {
			load = false;
			if (!bg_load_servers(c))
				goto lost;
		}
		if (routes) {
			routes = false;
			if (!bg_load_routes(c))
				goto lost;
		}
		if (forwards) {
			forwards = false;
			if (!bg_load_forwards(c))
				goto lost;
		}
		now = clock_now_ms();
		woken = bg_woken();
		if (woken || now >= next_bans) {
			if (!bg_bans_write(c))
				goto lost;
			next_bans = clock_now_ms() + BG_BANS_MS;
		}
		if (bans) {
			bans = false;
			if (!bg_bans_read(c))
				goto lost;
		}
		if (woken || now >= next_publish) {
			if (!bg_publish(c) || !bg_session_counts(c))
				goto lost;
			next_publish = clock_now_ms() + BG_PUBLISH_MS;
		}
		if (now >= next_node) {
			if (!bg_node_beat(c))
				goto lost;
			next_node = clock_now_ms() + BG_NODE_MS;
		}
		now = clock_now_ms();
		if (now >= next_sweep) {
			if (!bg_sweep(c) || !bg_sweep_sessions(c) || !bg_sweep_bans(c))
				goto lost;
			next_sweep = clock_now_ms() + bg_sweep_interval_ms;
			now = clock_now_ms();
		}
		next = next_sweep;
		if ((bg_hooks.sip_server_seen || bg_hooks.session_counts) && next_publish < next)
			next = next_publish;
		if (bg_hooks.bans_out && next_bans < next)
			next = next_bans;
		if (bg_sip_listen && next_node < next)
			next = next_node;
		/* a worker may see the primary move first (read-only): look
		 * at the generation at least this often */
		if (next > now + BG_GEN_CHECK_MS)
			next = now + BG_GEN_CHECK_MS;
		p[2].fd = PQsocket(c);
		p[2].events = POLLIN;
		(void)poll(p, 3, (int)(next > now ? next - now : 0));
		if (!PQconsumeInput(c)) {
			log_warn("event=db_listen_lost");
			goto lost;
		}
		while ((n = PQnotifies(c))) {
			if (strcmp(n->relname, "junction_binding") == 0)
				bg_hooks.binding_changed(n->extra);
			else if (strcmp(n->relname, "junction_sip_server") == 0)
				load = true; /* once for a burst of changes */
			else if (strcmp(n->relname, "junction_ban") == 0)
				bans = true;
			else if (strcmp(n->relname, "junction_route") == 0)
				routes = true; /* once for a burst, as above */
			else if (strcmp(n->relname, "junction_forward") == 0)
				forwards = true;
			else
				bg_hooks.subscriber_changed(n->extra);
			PQfreemem(n);
		}
		continue;
	lost:
		PQfinish(c);
		c = NULL;
	}
	if (c)
		PQfinish(c);
	return NULL;
}

int store_bg_start(const char *conninfo, unsigned sweep_interval_s,
		   const struct store_bg_hooks *hooks, const char *node, const char *geo_location)
{
	int rc;

	bg_hooks = *hooks;
	bg_conninfo = strdup(conninfo);
	bg_node = strdup(node);
	bg_geo = strdup(geo_location);
	if (!bg_conninfo || !bg_node || !bg_geo || bg_node_nomem)
		return -ENOMEM;
	bg_sweep_interval_ms = sweep_interval_s * 1000;
	bg_stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (bg_stop_fd < 0)
		return -errno;
	bg_wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (bg_wake_fd < 0)
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
	if (bg_wake_fd >= 0)
		close(bg_wake_fd);
	bg_wake_fd = -1;
	free(bg_conninfo);
	free(bg_node);
	free(bg_geo);
	bg_conninfo = bg_node = bg_geo = NULL;
	free(bg_sip_listen);
	free(bg_admin_listen);
	bg_sip_listen = bg_admin_listen = NULL;
}

void store_bg_set_node_info(const char *sip_listen, const char *admin_listen)
{
	bg_sip_listen = strdup(sip_listen);
	bg_admin_listen = admin_listen ? strdup(admin_listen) : NULL;
	bg_node_nomem = !bg_sip_listen || (admin_listen && !bg_admin_listen);
	bg_started_ms = clock_wall_ms();
}

void store_bg_publish_soon(void)
{
	uint64_t one = 1;

	if (bg_wake_fd >= 0)
		(void)!write(bg_wake_fd, &one, sizeof(one));
}

void store_bg_set_session_keep(unsigned keep_s)
{
	bg_session_keep_s = keep_s;
}

void store_bg_sessions(struct store_bg_sessions *out)
{
	out->open = atomic_load(&bg_sessions_open);
	out->dialogs = atomic_load(&bg_dialogs_open);
	out->expired = atomic_load(&bg_dialogs_expired);
}

uint64_t store_bg_swept(void)
{
	return atomic_load(&bg_swept);
}
