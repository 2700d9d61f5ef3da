/*
 * metrics: the Prometheus text exposition format (version 0.0.4) of a
 * counters snapshot and a few gauges, for GET /metrics.
 *
 * metrics_format() is a pure function of its input: the admin server
 * gathers the snapshot (counters_snapshot()), the queue depths and the
 * database figures, and a unit test can hand it made-up ones. Every
 * family has HELP and TYPE lines, counters end in _total, and units are
 * base units (seconds, bytes), so that `promtool check metrics` is clean.
 */
#ifndef JCT_METRICS_H
#define JCT_METRICS_H

#include "net/tcp.h"
#include "proxy/cdr.h"
#include "proxy/scpool.h"
#include "runtime/counters.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What the kernel says about this process (/proc/self). */
struct metrics_process {
	uint64_t rss_bytes;
	uint64_t vsize_bytes;
	double start_time_s; /* Unix time */
	double cpu_s;        /* user + system */
	uint64_t open_fds;
	uint64_t max_fds;
};

struct metrics_input {
	const struct counters *ctr; /* a snapshot (borrowed) */
	const char *version;
	unsigned nworkers;
	const unsigned *queue_depth; /* nworkers entries */
	unsigned tcp_connections;
	unsigned bans; /* in force on this node */
	int db_up;     /* 1, 0; -1: no database configured (not exported) */
	/* store_health(): exported with db_up >= 0 */
	uint64_t db_failovers;              /* the primary moved */
	double db_unavailable_s;            /* seconds some worker had no connection */
	int64_t bindings_active;            /* -1: unknown (not exported) */
	const struct metrics_process *proc; /* NULL: not exported */
	/* Session Controller pools; NULL: not in use (not exported, nor
	 * are the session affinity counters) */
	const struct scpool_stats *pool;
	const struct scpool_server_stat *servers; /* nservers entries */
	unsigned nservers;
	/* The cluster's sessions (store_bg_sessions()), with pool; NULL: not
	 * exported */
	const struct store_bg_sessions *sessions;
	/* Call records ([cdr] enabled); NULL: off (not exported) */
	const struct cdr_stats *cdr;
	/* Access log lines dropped ([log] access); NULL: off (not exported) */
	const uint64_t *access_log_dropped;
	/* What the node holds: DNS answers cached, static routes and call
	 * forwards loaded */
	unsigned dns_cache_entries, routes_loaded, forwards_loaded;
	/* Each stream transport with a listener (tcp, tls, ws, wss): what
	 * tcp_stats() says; the others are not exported. */
	bool transport_on[SIP_PROTO__COUNT];
	struct tcp_stats transport[SIP_PROTO__COUNT];
	/* The TLS certificate's notAfter (Unix seconds); 0: no TLS */
	int64_t tls_not_after;
};

/* Reads /proc/self. Returns 0 or a negative errno. */
int metrics_process_read(struct metrics_process *p);

/* The exposition text, NUL-terminated, in a new buffer (free(3) it);
 * *len gets its length. NULL when out of memory. */
char *metrics_format(const struct metrics_input *in, size_t *len);

#endif
