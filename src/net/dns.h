/*
 * dns: asynchronous DNS for a worker, over c-ares, with one answer cache
 * for the node.
 *
 * Each worker has its own resolver (struct dns): its sockets sleep in the
 * worker's epoll beside the queue and the database (dns_fds()), its
 * timeouts bound the worker's sleep (dns_timeout_ms()), and its answers come back
 * as callbacks on the worker's thread, so a request waiting for DNS holds
 * no worker and a slow name server delays only the requests that wait on
 * it. Answers (positive and negative) are kept in a cache every worker
 * shares, for their TTL (RFC 1035 §3.2.1; a negative answer for its SOA
 * minimum, RFC 2308 §5, at most [dns] negative_ttl, which one without a
 * SOA gets). A lookup the cache answers costs no socket and no callback
 * delay: dns_lookup() answers it before it returns.
 */
#ifndef JCT_DNS_H
#define JCT_DNS_H

#include "net/netaddr.h"

#include <stdbool.h>
#include <stdint.h>

/* A worker's resolver; opaque. */
struct dns;

/* The record types RFC 3263 and ENUM use (RFC 1035, 3596, 2782, 3403). */
enum dns_type { DNS_A = 1, DNS_AAAA = 28, DNS_SRV = 33, DNS_NAPTR = 35 };

#define DNS_NAME_MAX    256
#define DNS_MAX_RECORDS 16

struct dns_srv {
	uint16_t priority, weight, port;
	char target[DNS_NAME_MAX];
};

struct dns_naptr {
	uint16_t order, preference;
	char flags[16];
	char service[64];
	char regexp[DNS_NAME_MAX];
	char replacement[DNS_NAME_MAX]; /* "" for the root (".") */
};

/* An answer; valid during the callback only (copy what you keep). */
struct dns_answer {
	/* 0; -ENOENT: no such name or no record of that type (NXDOMAIN or
	 * NODATA); -ETIMEDOUT: no server answered; -EIO: a server failure or
	 * a malformed answer; -ECANCELED: the resolver is going away. */
	int status;
	enum dns_type type;
	bool cached;  /* from the cache, not the network */
	uint32_t ttl; /* seconds it may be kept */
	unsigned n;   /* records (0 unless status is 0) */
	union {
		struct netaddr addr[DNS_MAX_RECORDS]; /* A, AAAA (port 0) */
		struct dns_srv srv[DNS_MAX_RECORDS];
		struct dns_naptr naptr[DNS_MAX_RECORDS];
	} r;
};

/* The answer to a lookup, on the worker's thread; ans is borrowed. */
typedef void (*dns_cb)(void *arg, const struct dns_answer *ans);

/* Counts for the metrics (a worker's own; read on its thread). */
struct dns_stats {
	uint64_t queries;    /* sent to a server */
	uint64_t cache_hits; /* answered from the cache */
	uint64_t failures;   /* timeouts and server failures (not "no such name") */
};

/* The node's cache, made once before the workers start: at most size
 * answers ([dns] cache_size; 0: none), a negative one kept at most
 * negative_ttl seconds. Returns 0 or -ENOMEM. */
int dns_cache_init(unsigned size, unsigned negative_ttl);
void dns_cache_free(void);
/* Answers cached (for monitoring, any thread). */
unsigned dns_cache_count(void);

/* A worker's resolver asking servers[0..n) (n = 0: /etc/resolv.conf's),
 * each try waiting timeout_ms, tries times per server ([dns] servers,
 * timeout, tries). NULL on failure (logged). */
struct dns *dns_new(const struct netaddr *servers, unsigned n, unsigned timeout_ms, unsigned tries);
/* Ends every pending lookup with -ECANCELED (callbacks run), then frees. */
void dns_free(struct dns *d);

/*
 * Looks up name (no trailing dot needed) for records of type. From the
 * cache: cb runs before dns_lookup returns, and it returns 1. Else a
 * query is sent (or joins the same one in flight) and it returns 0; cb
 * runs later from dns_process(), exactly once. Returns -EINVAL for a name too long or empty.
 * The caller keeps arg alive until cb (a lookup ends within [dns]
 * timeout x tries x servers). -ECANCELED once the resolver is going away.
 */
int dns_lookup(struct dns *d, const char *name, enum dns_type type, dns_cb cb, void *arg);

/* The sockets to watch for reading; changes are told by dns_serial(). */
unsigned dns_fds(const struct dns *d, int *fds, unsigned cap);
unsigned dns_serial(const struct dns *d);
/* Lookups waiting for an answer. */
unsigned dns_pending(const struct dns *d);
/* Milliseconds until a try times out (-1: nothing pending). */
int dns_timeout_ms(const struct dns *d);
/* Reads what the sockets have and handles the tries that timed out,
 * without blocking; runs the callbacks. */
void dns_process(struct dns *d);

void dns_get_stats(const struct dns *d, struct dns_stats *st);

#endif
