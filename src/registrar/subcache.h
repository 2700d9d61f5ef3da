/*
 * subcache: the node's cache of subscribers (username@domain -> HA1 values,
 * enabled), so that digest authentication costs no database round trip
 * for a user seen in the last [auth] cache_ttl seconds.
 *
 * Shared by all workers (a ttlcache: striped locks). Unknown users are
 * cached too (negative entries), so guessing user names does not turn into
 * database load. Entries are dropped when a subscriber changes on any node
 * (PostgreSQL NOTIFY, see store_bg.c) and after the TTL in any case, and
 * all of them when the notification channel was interrupted.
 */
#ifndef JCT_SUBCACHE_H
#define JCT_SUBCACHE_H

#include "sip/sip_str.h"

#include <stdbool.h>
#include <stdint.h>

struct subscriber {
	bool exists;
	bool enabled;
	char ha1_md5[33];
	char ha1_sha256[65];
};

/* Sizes the cache: at most max_entries, each valid for ttl_ms. */
int subcache_init(unsigned max_entries, uint64_t ttl_ms);
void subcache_destroy(void);

/* Copies the cached entry for user@domain (domain compared
 * case-insensitively) into *out. Returns 0, or -ENOENT on a miss or an
 * expired entry. */
int subcache_get(struct sip_str user, struct sip_str domain, uint64_t now_ms,
		 struct subscriber *out);
/* Stores (or replaces) the entry. */
void subcache_put(struct sip_str user, struct sip_str domain, const struct subscriber *sub,
		  uint64_t now_ms);
/* Drops one entry ("user@domain" as NOTIFY sends it) or all of them. */
void subcache_invalidate(struct sip_str user_at_domain);
void subcache_clear(void);

#endif
