/*
 * admin_status: what the node is doing, for people and for machines.
 *
 *   GET /v1/status        version, node, uptime, listeners, workers and
 *                         their queues, the database, bindings, transactions
 *   GET /v1/stats         every counter, as JSON
 *   GET /metrics          the same for Prometheus (metrics.c), no token
 *   GET /healthz          the process answers, no token
 *   GET /readyz           SIP listeners up and the database reachable, no token
 *   GET /v1/openapi.json  the API's OpenAPI 3 document
 *
 * The database figures come from the admin connection: a SELECT 1 (its
 * round trip is the latency shown) and a count of the active bindings.
 * /v1/status and /readyz ask afresh; /metrics reuses an answer up to
 * METRICS_DB_CACHE_MS old, so a scrape every few seconds from several
 * Prometheus servers costs the database next to nothing.
 */
#include "autoconfig.h"

#include "admin/admin_internal.h"
#include "admin/metrics.h"
#include "base/clock.h"
#include "config/config.h"
#include "net/dns.h"
#include "net/tcp.h"
#include "net/tls.h"
#include "net/transport.h"
#include "proxy/accesslog.h"
#include "proxy/callfwd.h"
#include "proxy/statroute.h"
#include "runtime/counters.h"
#include "runtime/worker.h"
#include "security/ban.h"
#include "store/store.h"
#include "store/store_bg.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define METRICS_DB_CACHE_MS 5000

struct db_state {
	int up; /* 1, 0; -1: no database configured */
	double latency_ms;
	int64_t bindings; /* -1: unknown */
};

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static struct db_state cache;
static uint64_t cache_at_ms;
static bool cache_valid;

/* Asks the database through r's connection (want_bindings: count them
 * too). Never answers r. */
static void db_probe(struct admin_req *r, bool want_bindings, struct db_state *s)
{
	struct store_admin *db;
	uint64_t rtt = 0, n = 0;

	s->up = -1;
	s->latency_ms = 0;
	s->bindings = -1;
	if (!admin_config()->database.conninfo[0])
		return;
	db = admin_db(r); /* cannot fail with a database configured */
	s->up = db && store_admin_ping(db, &rtt) == 0;
	if (!s->up)
		return;
	s->latency_ms = (double)rtt / 1000.0;
	if (want_bindings && store_admin_bindings_count(db, &n) == 0)
		s->bindings = (int64_t)n;
}

static void db_probe_cached(struct admin_req *r, struct db_state *s)
{
	uint64_t now = clock_now_ms();

	pthread_mutex_lock(&cache_lock);
	if (cache_valid && now - cache_at_ms < METRICS_DB_CACHE_MS) {
		*s = cache;
		pthread_mutex_unlock(&cache_lock);
		return;
	}
	pthread_mutex_unlock(&cache_lock);
	/* Two scrapes at once may both ask: harmless, and no lock is held
	 * across the query. */
	db_probe(r, true, s);
	pthread_mutex_lock(&cache_lock);
	cache = *s;
	cache_at_ms = now;
	cache_valid = true;
	pthread_mutex_unlock(&cache_lock);
}

/* Whether every worker's store has a connection up. */
static bool workers_connected(void)
{
	struct store_health h;

	store_health(&h);
	return h.available;
}

/* "up", "down", or "off" without a database. */
static const char *db_state(const struct db_state *s)
{
	if (s->up < 0)
		return "off";
	return s->up ? "up" : "down";
}

static const char *mode_name(enum proxy_mode m)
{
	return m == PROXY_MODE_STATEFUL   ? "stateful"
	       : m == PROXY_MODE_REDIRECT ? "redirect"
					  : "stateless";
}

static json_t *iso_time(double t)
{
	char buf[32];
	time_t s = (time_t)t;
	struct tm tm;

	gmtime_r(&s, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return json_string(buf);
}

static uint64_t get(const _Atomic uint64_t *v)
{
	return atomic_load_explicit(v, memory_order_relaxed);
}

static uint64_t dialogs_active(const struct counters *c)
{
	uint64_t a = get(&c->v[CTR_DIALOGS_CREATED]), b = get(&c->v[CTR_DIALOGS_ENDED]);

	return a > b ? a - b : 0;
}

/* The stream transports with a listener, and what each carried. */
static json_t *transports_json(void)
{
	json_t *a = json_array();

	for (int p = SIP_PROTO_TCP; p < SIP_PROTO__COUNT; p++) {
		struct tcp_stats st;

		if (!transport_has_proto(p))
			continue;
		tcp_stats(p, &st);
		json_array_append_new(a, json_pack("{s:s, s:I, s:I, s:I, s:I, s:I}", "transport",
						   sip_proto_name(p), "connections",
						   (json_int_t)st.connections, "bytes_in",
						   (json_int_t)st.bytes_in, "bytes_out",
						   (json_int_t)st.bytes_out, "handshakes",
						   (json_int_t)st.handshakes, "handshake_failures",
						   (json_int_t)st.handshake_failures));
	}
	return a;
}

/* The TLS server certificate in use, null without TLS. */
static json_t *tls_json(void)
{
	char subject[256] = "";
	int64_t not_after = 0;

	if (!tls_cert_info(&not_after, subject, sizeof(subject)))
		return json_null();
	return json_pack("{s:s, s:o, s:I}", "subject", subject, "expires_at",
			 iso_time((double)not_after), "days_left",
			 (json_int_t)((not_after - (int64_t)clock_wall_s()) / 86400));
}

void admin_status(struct admin_req *r)
{
	const struct config *cfg = admin_config();
	struct counters *c = malloc(sizeof(*c));
	struct db_state db;
	struct store_health health;
	json_t *listeners = json_array(), *workers = json_array(), *dbj;
	double now = (double)clock_wall_s();
	double up = now - admin_started_at();

	if (!c) {
		json_decref(listeners);
		json_decref(workers);
		admin_error(r, 500, ADMIN_E_INTERNAL, "out of memory");
		return;
	}
	if (!admin_args_only(r, (const char *const[]){NULL})) {
		free(c);
		json_decref(listeners);
		json_decref(workers);
		return;
	}
	counters_snapshot(c);
	for (unsigned i = 0; i < cfg->sip.nlisten; i++)
		json_array_append_new(listeners,
				      json_pack("{s:s, s:s}", "listen", cfg->sip.listen[i].text,
						"transport",
						sip_proto_name(cfg->sip.listen[i].proto)));
	for (unsigned i = 0; i < workers_count(); i++)
		json_array_append_new(workers,
				      json_pack("{s:I, s:I}", "index", (json_int_t)i, "queue_depth",
						(json_int_t)worker_queue_length(i)));
	db_probe(r, true, &db);
	store_health(&health);
	dbj = json_pack("{s:s, s:o, s:b, s:o, s:I, s:f}", "state", db_state(&db), "latency_ms",
			db.up > 0 ? json_real(db.latency_ms) : json_null(), "workers_connected",
			db.up >= 0 && health.available, "primary",
			health.primary[0] ? json_string(health.primary) : json_null(), "failovers",
			(json_int_t)health.failovers, "unavailable_seconds", health.unavailable_s);
	admin_json(r, 200,
		   json_pack("{s:s, s:o, s:o, s:I, s:s, s:o, s:o, s:o, s:o, s:I, s:I, s:I, s:o, "
			     "s:o}",
			     "version", PACKAGE_VERSION, "node", admin_col_str(cfg->node.name),
			     "started_at", iso_time(admin_started_at()), "uptime_seconds",
			     (json_int_t)(up > 0 ? up : 0), "mode", mode_name(cfg->sip.mode),
			     "listeners", listeners, "workers", workers, "database", dbj,
			     "bindings", db.bindings >= 0 ? json_integer(db.bindings) : json_null(),
			     "transactions", (json_int_t)get(&c->g_transactions), "dialogs",
			     (json_int_t)dialogs_active(c), "tcp_connections",
			     (json_int_t)tcp_connection_count(), "transports", transports_json(),
			     "tls", tls_json()));
	free(c);
}

static json_t *classes(const _Atomic uint64_t *v)
{
	json_t *o = json_object();
	char k[4];

	for (unsigned i = 1; i < CTR_CLASSES; i++) {
		snprintf(k, sizeof(k), "%uxx", i);
		json_object_set_new(o, k, json_integer((json_int_t)get(&v[i])));
	}
	return o;
}

void admin_stats(struct admin_req *r)
{
	struct counters *c = malloc(sizeof(*c));
	json_t *ctr, *methods, *codes, *buckets;
	char k[8];

	if (!c) {
		admin_error(r, 500, ADMIN_E_INTERNAL, "out of memory");
		return;
	}
	if (!admin_args_only(r, (const char *const[]){NULL})) {
		free(c);
		return;
	}
	counters_snapshot(c);
	ctr = json_object();
	for (unsigned i = 0; i < CTR__COUNT; i++)
		json_object_set_new(ctr, ctr_name(i), json_integer((json_int_t)get(&c->v[i])));
	methods = json_object();
	for (unsigned m = 0; m < SIP_METHOD__COUNT; m++)
		json_object_set_new(methods, m == SIP_METHOD_OTHER ? "OTHER" : sip_method_name(m),
				    json_integer((json_int_t)get(&c->rx_requests[m])));
	codes = json_object();
	for (unsigned st = 100; st < 700; st++) {
		if (!get(&c->tx_codes[st]))
			continue;
		snprintf(k, sizeof(k), "%u", st);
		json_object_set_new(codes, k, json_integer((json_int_t)get(&c->tx_codes[st])));
	}
	buckets = json_array();
	for (unsigned i = 0; i <= CTR_DB_BUCKETS; i++)
		json_array_append_new(
			buckets,
			json_pack("{s:o, s:I}", "le_seconds",
				  i < CTR_DB_BUCKETS ? json_real((double)ctr_db_bounds_us[i] / 1e6)
						     : json_null(),
				  "count", (json_int_t)get(&c->db_latency[i])));
	admin_json(
		r, 200,
		json_pack(
			"{s:o, s:o, s:o, s:o, s:o, s:o, s:{s:o, s:f, s:I}, s:{s:I, s:I, s:I, s:I}}",
			"counters", ctr, "requests_received", methods, "responses_received",
			classes(c->rx_responses), "responses_sent", classes(c->tx_responses),
			"responses_generated", classes(c->local_responses),
			"responses_sent_by_code", codes, "db_latency", "buckets", buckets,
			"sum_seconds", (double)get(&c->db_latency_sum_us) / 1e6, "count",
			(json_int_t)get(&c->db_latency_count), "gauges", "transactions",
			(json_int_t)get(&c->g_transactions), "dialogs",
			(json_int_t)dialogs_active(c), "db_connections_up",
			(json_int_t)get(&c->g_db_up), "db_pending",
			(json_int_t)get(&c->g_db_pending)));
	free(c);
}

void admin_metrics(struct admin_req *r)
{
	struct counters *c = malloc(sizeof(*c));
	unsigned n = workers_count();
	unsigned *depth = calloc(n ? n : 1, sizeof(*depth));
	struct metrics_process proc;
	struct metrics_input in = {0};
	struct scpool_stats pool;
	struct scpool_server_stat *servers = NULL;
	struct store_bg_sessions sessions;
	struct cdr_stats cdr;
	uint64_t access_dropped;
	struct db_state db;
	struct store_health health;
	size_t len = 0;
	char *text = NULL;

	if (!c || !depth)
		goto out;
	counters_snapshot(c);
	for (unsigned i = 0; i < n; i++)
		depth[i] = worker_queue_length(i);
	db_probe_cached(r, &db);
	in.ctr = c;
	in.version = PACKAGE_VERSION;
	in.nworkers = n;
	in.queue_depth = depth;
	in.tcp_connections = tcp_connection_count();
	for (int p = SIP_PROTO_TCP; p < SIP_PROTO__COUNT; p++)
		if ((in.transport_on[p] = transport_has_proto(p)))
			tcp_stats(p, &in.transport[p]);
	(void)tls_cert_info(&in.tls_not_after, NULL, 0);
	in.bans = (unsigned)ban_count(clock_wall_ms());
	in.db_up = db.up;
	store_health(&health);
	in.db_failovers = health.failovers;
	in.db_unavailable_s = health.unavailable_s;
	in.bindings_active = db.bindings;
	in.proc = metrics_process_read(&proc) == 0 ? &proc : NULL;
	if (scpool_on() && (servers = calloc(SCPOOL_MAX, sizeof(*servers)))) {
		scpool_stats(&pool);
		in.pool = &pool;
		in.servers = servers;
		in.nservers = scpool_server_stats(servers, SCPOOL_MAX);
		store_bg_sessions(&sessions);
		in.sessions = &sessions;
	}
	if (cdr_on()) {
		cdr_get_stats(&cdr);
		in.cdr = &cdr;
	}
	if (accesslog_on()) {
		access_dropped = accesslog_dropped();
		in.access_log_dropped = &access_dropped;
	}
	in.dns_cache_entries = dns_cache_count();
	in.routes_loaded = statroute_count();
	in.forwards_loaded = callfwd_count();
	text = metrics_format(&in, &len);
out:
	free(servers);
	free(c);
	free(depth);
	if (!text) {
		admin_error(r, 500, ADMIN_E_INTERNAL, "out of memory");
		return;
	}
	admin_text(r, 200, text, len, "text/plain; version=0.0.4; charset=utf-8");
}

void admin_healthz(struct admin_req *r)
{
	admin_json(r, 200, json_pack("{s:s}", "status", "ok"));
}

void admin_readyz(struct admin_req *r)
{
	struct db_state db;
	bool listeners = admin_serving(), ready;

	db_probe(r, false, &db);
	/* and every worker has a connection: a REGISTER on any is stored */
	if (db.up > 0 && !workers_connected())
		db.up = 0;
	ready = listeners && db.up != 0;
	admin_json(r, ready ? 200 : 503,
		   json_pack("{s:s, s:{s:s, s:s}}", "status", ready ? "ready" : "not_ready",
			     "checks", "listeners", listeners ? "up" : "down", "database",
			     db_state(&db)));
}

void admin_openapi(struct admin_req *r)
{
	r->status = 200;
	r->out_static = admin_openapi_json;
	r->ctype = "application/json";
}
