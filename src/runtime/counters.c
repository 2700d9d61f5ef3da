/*
 * counters: see counters.h. The registry is a fixed array filled at
 * thread start-up under a mutex; readers walk it without the lock after
 * reading the published count, since entries are never removed.
 */
#include "runtime/counters.h"

#include <pthread.h>
#include <string.h>

#define COUNTERS_MAX 1024

static struct counters *registry[COUNTERS_MAX];
static _Atomic unsigned registry_n;
static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;

static const char *const names[CTR__COUNT] = {
	[CTR_RX_MESSAGES] = "rx_messages",
	[CTR_RX_BYTES] = "rx_bytes",
	[CTR_TX_MESSAGES] = "tx_messages",
	[CTR_TX_BYTES] = "tx_bytes",
	[CTR_TX_ERRORS] = "tx_errors",
	[CTR_DROPPED] = "dropped",
	[CTR_PARSE_ERRORS] = "parse_errors",
	[CTR_OVERLOAD_REJECTED] = "overload_rejected",
	[CTR_KEEPALIVES] = "keepalives",
	[CTR_RELAYED_REQUESTS] = "relayed_requests",
	[CTR_RELAYED_RESPONSES] = "relayed_responses",
	[CTR_DIALOGS_CREATED] = "dialogs_created",
	[CTR_DIALOGS_ENDED] = "dialogs_ended",
	[CTR_REGISTRATIONS] = "registrations",
	[CTR_AUTH_CHALLENGES] = "auth_challenges",
	[CTR_AUTH_FAILURES] = "auth_failures",
	[CTR_ACKS_ABSORBED] = "acks_absorbed",
	[CTR_LOCATION_LOOKUPS] = "location_lookups",
	[CTR_LOCATION_CACHE_HITS] = "location_cache_hits",
	[CTR_TXN_EVICTED] = "transactions_evicted",
	[CTR_DIALOG_RATE_REJECTED] = "dialog_rate_rejected",
	[CTR_TO_SESSION_CONTROLLER] = "to_session_controller",
	[CTR_NO_SESSION_CONTROLLER] = "no_session_controller",
	[CTR_AFFINITY_CACHE_HITS] = "affinity_cache_hits",
	[CTR_AFFINITY_DB_LOOKUPS] = "affinity_db_lookups",
	[CTR_AFFINITY_ROUTE_SET] = "affinity_route_set",
	[CTR_AFFINITY_UNKNOWN] = "affinity_unknown",
	[CTR_SESSIONS_CREATED] = "sessions_created",
	[CTR_SESSIONS_JOINED] = "sessions_joined",
	[CTR_SESSIONS_MOVED] = "sessions_moved",
	[CTR_SESSION_WRITES_FAILED] = "session_writes_failed",
	[CTR_RELAY_DENIED] = "relay_denied",
	[CTR_RATE_LIMITED] = "rate_limited",
	[CTR_BANS_AUTH] = "bans_auth",
	[CTR_BANNED_DROPPED] = "banned_dropped",
	[CTR_SCANNERS_DROPPED] = "scanners_dropped",
	[CTR_TCP_SLOW_CLOSED] = "tcp_slow_closed",
	[CTR_TCP_OUTPUT_CLOSED] = "tcp_output_closed",
	[CTR_TCP_SOURCE_REFUSED] = "tcp_source_refused",
	[CTR_HOP_NOT_SENT] = "hop_not_sent",
	[CTR_DELEGATED_REGISTERS] = "delegated_registers",
	[CTR_DELEGATED_ACCEPTED] = "delegated_accepted",
	[CTR_DELEGATED_CHALLENGED] = "delegated_challenged",
	[CTR_DELEGATED_REJECTED] = "delegated_rejected",
	[CTR_DELEGATED_FAILED] = "delegated_failed",
	[CTR_REGEVENTS_SENT] = "regevents_sent",
	[CTR_REGEVENTS_RETRY] = "regevents_retry",
	[CTR_REGEVENTS_FAILED] = "regevents_failed",
	[CTR_AUTH_HTTP_ACCEPTED] = "auth_http_accepted",
	[CTR_AUTH_HTTP_REJECTED] = "auth_http_rejected",
	[CTR_AUTH_HTTP_FAILED] = "auth_http_failed",
	[CTR_AUTH_HTTP_CACHED] = "auth_http_cached",
	[CTR_DNS_QUERIES] = "dns_queries",
	[CTR_DNS_CACHE_HITS] = "dns_cache_hits",
	[CTR_DNS_FAILURES] = "dns_failures",
	[CTR_DNS_STATELESS_WAITS] = "dns_stateless_waits",
	[CTR_FAILOVERS] = "failovers",
	[CTR_TRANSLATED_FORWARD] = "translated_forward",
	[CTR_TRANSLATED_ENUM] = "translated_enum",
	[CTR_TRANSLATED_ROUTE] = "translated_route",
	[CTR_TRANSLATION_LOOPS] = "translation_loops",
};

const char *ctr_name(enum ctr_id id)
{
	return id < CTR__COUNT ? names[id] : "unknown";
}

static void sum_array(_Atomic uint64_t *dst, const _Atomic uint64_t *src, size_t n)
{
	for (size_t i = 0; i < n; i++)
		dst[i] += atomic_load_explicit(&src[i], memory_order_relaxed);
}

void counters_sum(struct counters *dst, const struct counters *src)
{
	sum_array(dst->v, src->v, CTR__COUNT);
	sum_array(dst->rx_requests, src->rx_requests, SIP_METHOD__COUNT);
	sum_array(dst->rx_responses, src->rx_responses, CTR_CLASSES);
	sum_array(dst->tx_responses, src->tx_responses, CTR_CLASSES);
	sum_array(dst->local_responses, src->local_responses, CTR_CLASSES);
	sum_array(dst->tx_codes, src->tx_codes, 700);
	sum_array(dst->db_latency, src->db_latency, CTR_DB_BUCKETS + 1);
	sum_array(&dst->db_latency_sum_us, &src->db_latency_sum_us, 1);
	sum_array(&dst->db_latency_count, &src->db_latency_count, 1);
	sum_array(&dst->g_transactions, &src->g_transactions, 1);
	sum_array(&dst->g_db_up, &src->g_db_up, 1);
	sum_array(&dst->g_db_pending, &src->g_db_pending, 1);
}

void counters_register(struct counters *c)
{
	pthread_mutex_lock(&registry_lock);
	unsigned n = atomic_load(&registry_n);
	if (n < COUNTERS_MAX) {
		registry[n] = c;
		atomic_store(&registry_n, n + 1);
	}
	pthread_mutex_unlock(&registry_lock);
}

void counters_snapshot(struct counters *out)
{
	unsigned n = atomic_load(&registry_n);

	memset(out, 0, sizeof(*out));
	for (unsigned i = 0; i < n; i++)
		counters_sum(out, registry[i]);
}
