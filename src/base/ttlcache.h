/*
 * ttlcache: a bounded, thread-safe map from short string keys to small
 * values that expire, for the caches a node keeps in front of PostgreSQL
 * (subscribers, locations).
 *
 * 64 stripes, each a hash table under its own mutex, so workers rarely
 * meet on a lock. Values are copied in and out: a reader never holds a
 * pointer into the cache. When a stripe is full an insert first drops the
 * expired entries of its bucket, then the bucket's soonest to expire.
 */
#ifndef JCT_TTLCACHE_H
#define JCT_TTLCACHE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct ttlcache;

/* At most max_entries, each valid ttl_ms after it was stored. */
struct ttlcache *ttlcache_new(unsigned max_entries, uint64_t ttl_ms);
void ttlcache_free(struct ttlcache *c);

/* Copies the value of key into buf. Returns its length, -ENOENT on a miss
 * or an expired entry, -ENOSPC when cap is too small. */
ssize_t ttlcache_get(struct ttlcache *c, const char *key, size_t klen, uint64_t now_ms, void *buf,
		     size_t cap);
/* Stores (or replaces) key's value. Silently not stored when out of
 * memory or when every entry of the stripe is fresh and it is full. */
void ttlcache_put(struct ttlcache *c, const char *key, size_t klen, const void *val, size_t vlen,
		  uint64_t now_ms);
/* The same with a lifetime of its own (a DNS answer's TTL). */
void ttlcache_put_ttl(struct ttlcache *c, const char *key, size_t klen, const void *val,
		      size_t vlen, uint64_t now_ms, uint64_t ttl_ms);
void ttlcache_del(struct ttlcache *c, const char *key, size_t klen);
void ttlcache_clear(struct ttlcache *c);
/* Entries held (for monitoring). */
unsigned ttlcache_count(struct ttlcache *c);

#endif
