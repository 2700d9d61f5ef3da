/*
 * counters: per-thread event counters, written by their owner thread only
 * and read by anyone (the admin API, the metrics exporter).
 *
 * Each counter is a relaxed 64-bit atomic: the owner increments it with a
 * plain load and store (no locked instruction, no shared cache line with
 * other threads), a reader sums the per-thread sets and may see a value a
 * few events old, which is all a counter needs.
 */
#ifndef JCT_COUNTERS_H
#define JCT_COUNTERS_H

#include "sip/sip_msg.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

enum ctr_id {
	CTR_RX_MESSAGES = 0, /* messages received (requests and responses) */
	CTR_RX_BYTES,
	CTR_TX_MESSAGES, /* messages sent (relayed or generated) */
	CTR_TX_BYTES,
	CTR_TX_ERRORS,         /* sends that failed */
	CTR_DROPPED,           /* messages dropped without an answer */
	CTR_PARSE_ERRORS,      /* messages that failed to parse */
	CTR_OVERLOAD_REJECTED, /* requests answered 503 because a queue was full */
	CTR_KEEPALIVES,        /* RFC 5626 CRLF keep-alives */
	CTR_RELAYED_REQUESTS,
	CTR_RELAYED_RESPONSES,
	CTR_DIALOGS_CREATED,       /* 2xx to INVITE relayed (stateful) */
	CTR_DIALOGS_ENDED,         /* 2xx to BYE relayed (stateful) */
	CTR_REGISTRATIONS,         /* REGISTERs answered 200 (binding committed) */
	CTR_AUTH_CHALLENGES,       /* 401/407 sent */
	CTR_AUTH_FAILURES,         /* credentials given and refused */
	CTR_ACKS_ABSORBED,         /* ACKs of our own final responses */
	CTR_LOCATION_LOOKUPS,      /* location service queries (cached or not) */
	CTR_LOCATION_CACHE_HITS,   /* of which answered from the node's cache */
	CTR_TXN_EVICTED,           /* lingering transactions ended early: table full */
	CTR_DIALOG_RATE_REJECTED,  /* new dialogs answered 503: [routing] overload_dialog_rate */
	CTR_TO_SESSION_CONTROLLER, /* out-of-dialog requests sent to a Session Controller */
	CTR_NO_SESSION_CONTROLLER, /* answered 503: no Session Controller in service */
	CTR_AFFINITY_CACHE_HITS,   /* dialogs' sessions found in the node's cache */
	CTR_AFFINITY_DB_LOOKUPS,   /* ... asked of the database (in-dialog, not cached) */
	CTR_AFFINITY_ROUTE_SET,    /* ... named by the request's target, a Session Controller */
	CTR_AFFINITY_UNKNOWN,      /* in-dialog requests of no known dialog: by route set */
	CTR_SESSIONS_CREATED,      /* new dialogs that started a session */
	CTR_SESSIONS_JOINED,       /* new dialogs related to an open session */
	CTR_SESSIONS_MOVED,        /* ... whose controller's pair was out of service */
	CTR_SESSION_WRITES_FAILED, /* dialog confirm/end/touch writes lost (database down) */
	CTR_RELAY_DENIED,          /* answered 403: a relay to another domain, not allowed */
	CTR_RATE_LIMITED,          /* sources over [security] rate_limit (bans started) */
	CTR_BANS_AUTH,             /* bans for authentication failures (source or user) */
	CTR_BANNED_DROPPED,        /* requests of banned sources or users, dropped or 403 */
	CTR_SCANNERS_DROPPED,      /* requests whose User-Agent names a scanner */
	CTR_TCP_SLOW_CLOSED,       /* TCP connections closed: a message too slow to arrive */
	CTR_TCP_OUTPUT_CLOSED,     /* ... closed: output queue over its cap (slow reader) */
	CTR_TCP_SOURCE_REFUSED,    /* ... refused: [sip] tcp_max_per_source */
	CTR_HOP_NOT_SENT,          /* CANCELs and hop-by-hop ACKs that could not be built */
	/* [auth] mode = delegate: REGISTERs forwarded, and their outcomes */
	CTR_DELEGATED_REGISTERS,
	CTR_DELEGATED_ACCEPTED,   /* 2xx and the bindings stored */
	CTR_DELEGATED_CHALLENGED, /* 401/407 */
	CTR_DELEGATED_REJECTED,   /* another final from the back end */
	CTR_DELEGATED_FAILED,     /* no answer, or accepted but not stored */
	/* registration events ([notify], proxy/regevent.c) */
	CTR_REGEVENTS_SENT,   /* delivered (2xx) */
	CTR_REGEVENTS_RETRY,  /* 5xx, timeout, transport failure: tried again (or given up, in SQL)
			       */
	CTR_REGEVENTS_FAILED, /* refused for good: another final, or 481 to a subscription's */
	/* [auth] mode = http: the service's answers, and what needed none */
	CTR_AUTH_HTTP_ACCEPTED, /* 200 */
	CTR_AUTH_HTTP_REJECTED, /* 403 */
	CTR_AUTH_HTTP_FAILED,   /* another status, no answer in time, queue full: 503 */
	CTR_AUTH_HTTP_CACHED,   /* accepted on a nonce the service accepted before */
	/* where requests go (net/dns.c, net/nexthop.c, proxy/translate.c) */
	CTR_DNS_QUERIES,         /* sent to a name server (set from the resolver) */
	CTR_DNS_CACHE_HITS,      /* answered from the node's cache */
	CTR_DNS_FAILURES,        /* timeouts and server failures */
	CTR_DNS_STATELESS_WAITS, /* stateless requests kept while their hop resolves */
	CTR_FAILOVERS,           /* RFC 3263 §4.3: a request moved to the next destination */
	CTR_TRANSLATED_FORWARD,  /* Request-URIs replaced by a call forward */
	CTR_TRANSLATED_ENUM,     /* ... by ENUM */
	CTR_TRANSLATED_ROUTE,    /* requests sent by a static route or outbound proxy */
	CTR_TRANSLATION_LOOPS,   /* refused: a forward loop or too many replacements (482) */
	CTR__COUNT
};

/* Database round trips (one batch, BEGIN to COMMIT), upper bounds in
 * microseconds of the histogram buckets; one more bucket for the rest. */
#define CTR_DB_BUCKETS 10
static const uint64_t ctr_db_bounds_us[CTR_DB_BUCKETS] = {500,   1000,  2500,   5000,   10000,
							  25000, 50000, 100000, 250000, 1000000};

/* Response classes 1xx..6xx are indexed 1..6; 0 is unused. */
#define CTR_CLASSES 7

struct counters {
	_Atomic uint64_t v[CTR__COUNT];
	_Atomic uint64_t rx_requests[SIP_METHOD__COUNT];
	_Atomic uint64_t rx_responses[CTR_CLASSES];
	_Atomic uint64_t tx_responses[CTR_CLASSES];    /* relayed and local */
	_Atomic uint64_t local_responses[CTR_CLASSES]; /* generated here */
	_Atomic uint64_t tx_codes[700];                /* sent responses by status code */
	_Atomic uint64_t db_latency[CTR_DB_BUCKETS + 1];
	_Atomic uint64_t db_latency_sum_us;
	_Atomic uint64_t db_latency_count;
	/* Gauges, set by the owner (summed across threads by readers). */
	_Atomic uint64_t g_transactions; /* transactions alive */
	_Atomic uint64_t g_db_up;        /* 1 when its database connection is up */
	_Atomic uint64_t g_db_pending;   /* operations waiting for the database */
} __attribute__((aligned(64)));

static inline void ctr_add(_Atomic uint64_t *c, uint64_t n)
{
	/* Single writer: load + store is enough and costs no lock prefix. */
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n,
			      memory_order_relaxed);
}

static inline void ctr_inc(struct counters *c, enum ctr_id id)
{
	ctr_add(&c->v[id], 1);
}

static inline unsigned ctr_class(unsigned status)
{
	unsigned k = status / 100;
	return k < CTR_CLASSES ? k : 0;
}

static inline void ctr_set(_Atomic uint64_t *g, uint64_t v)
{
	atomic_store_explicit(g, v, memory_order_relaxed);
}

/* A response sent (relayed or our own): by class and by code. */
static inline void ctr_response_sent(struct counters *c, unsigned status, bool local)
{
	ctr_add(&c->tx_responses[ctr_class(status)], 1);
	if (local)
		ctr_add(&c->local_responses[ctr_class(status)], 1);
	if (status >= 100 && status < 700)
		ctr_add(&c->tx_codes[status], 1);
}

/* A response of our own of `bytes` bytes went out. */
static inline void ctr_local_reply_sent(struct counters *c, unsigned status, uint64_t bytes)
{
	ctr_inc(c, CTR_TX_MESSAGES);
	ctr_add(&c->v[CTR_TX_BYTES], bytes);
	ctr_response_sent(c, status, true);
}

/* One database round trip of us microseconds. */
static inline void ctr_db_latency(struct counters *c, uint64_t us)
{
	unsigned i = 0;

	while (i < CTR_DB_BUCKETS && us > ctr_db_bounds_us[i])
		i++;
	ctr_add(&c->db_latency[i], 1);
	ctr_add(&c->db_latency_sum_us, us);
	ctr_add(&c->db_latency_count, 1);
}

/* Adds every counter of src into dst (dst is a private snapshot). */
void counters_sum(struct counters *dst, const struct counters *src);

/* Name of a counter for logs and the API ("rx_messages"). */
const char *ctr_name(enum ctr_id id);

/* Registry of every thread's counters, so readers can sum them. The
 * registered struct must outlive the process's readers (threads keep
 * theirs in static or never-freed storage). */
void counters_register(struct counters *c);
/* Sums every registered set into out (zeroed first). */
void counters_snapshot(struct counters *out);

#endif
