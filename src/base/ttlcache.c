/*
 * ttlcache: see ttlcache.h. Keys are hashed with the process's SipHash
 * key; the stripe comes from the hash's top bits, the bucket from its low
 * bits. An entry is one allocation: header, key, value.
 */
#include "base/ttlcache.h"

#include "base/siphash.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define TTLCACHE_STRIPES 64

struct entry {
	struct entry *next;
	uint64_t hash;
	uint64_t expires_ms;
	uint32_t klen, vlen;
	char data[]; /* key, then value */
};

struct stripe {
	pthread_mutex_t lock;
	struct entry **buckets;
	unsigned count;
} __attribute__((aligned(64)));

struct ttlcache {
	struct stripe stripes[TTLCACHE_STRIPES];
	unsigned nbuckets; /* per stripe, a power of two */
	unsigned stripe_cap;
	uint64_t ttl;
};

struct ttlcache *ttlcache_new(unsigned max_entries, uint64_t ttl_ms)
{
	struct ttlcache *c = aligned_alloc(64, sizeof(*c));

	if (!c)
		return NULL;
	memset(c, 0, sizeof(*c));
	c->stripe_cap = max_entries / TTLCACHE_STRIPES + 1;
	/* chains of two on average when full: the table stays small */
	c->nbuckets = 16;
	while (c->nbuckets < c->stripe_cap / 2)
		c->nbuckets <<= 1;
	c->ttl = ttl_ms;
	for (unsigned i = 0; i < TTLCACHE_STRIPES; i++) {
		c->stripes[i].buckets = calloc(c->nbuckets, sizeof(struct entry *));
		if (!c->stripes[i].buckets) {
			ttlcache_free(c);
			return NULL;
		}
		pthread_mutex_init(&c->stripes[i].lock, NULL);
	}
	return c;
}

static void drop_all(struct ttlcache *c, struct stripe *st)
{
	for (unsigned b = 0; b < c->nbuckets; b++) {
		struct entry *e = st->buckets[b];

		while (e) {
			struct entry *next = e->next;
			free(e);
			e = next;
		}
		st->buckets[b] = NULL;
	}
	st->count = 0;
}

void ttlcache_free(struct ttlcache *c)
{
	if (!c)
		return;
	for (unsigned i = 0; i < TTLCACHE_STRIPES; i++) {
		if (!c->stripes[i].buckets)
			continue;
		drop_all(c, &c->stripes[i]);
		free(c->stripes[i].buckets);
		pthread_mutex_destroy(&c->stripes[i].lock);
	}
	free(c);
}

static struct stripe *stripe_of(struct ttlcache *c, uint64_t h)
{
	return &c->stripes[h >> 58]; /* 64 stripes: the top six bits */
}

static struct entry **bucket_of(struct ttlcache *c, struct stripe *st, uint64_t h)
{
	return &st->buckets[h & (c->nbuckets - 1)];
}

static bool same_key(const struct entry *e, uint64_t h, const char *key, size_t klen)
{
	return e->hash == h && e->klen == klen && memcmp(e->data, key, klen) == 0;
}

ssize_t ttlcache_get(struct ttlcache *c, const char *key, size_t klen, uint64_t now_ms, void *buf,
		     size_t cap)
{
	uint64_t h = siphash(siphash_process_key(), key, klen);
	struct stripe *st = stripe_of(c, h);
	ssize_t rc = -ENOENT;

	pthread_mutex_lock(&st->lock);
	for (struct entry *e = *bucket_of(c, st, h); e; e = e->next) {
		if (!same_key(e, h, key, klen))
			continue;
		if (now_ms < e->expires_ms) {
			if (e->vlen > cap) {
				rc = -ENOSPC;
			} else {
				memcpy(buf, e->data + e->klen, e->vlen);
				rc = (ssize_t)e->vlen;
			}
		}
		break;
	}
	pthread_mutex_unlock(&st->lock);
	return rc;
}

/* Under the stripe lock: unlinks expired entries of a bucket, then, if the
 * stripe is still full, the bucket's oldest. */
static void make_room(struct ttlcache *c, struct stripe *st, struct entry **bucket, uint64_t now_ms)
{
	struct entry **pp = bucket, **oldest = NULL;

	while (*pp) {
		struct entry *e = *pp;

		if (now_ms >= e->expires_ms) {
			*pp = e->next;
			free(e);
			st->count--;
			continue;
		}
		if (!oldest || e->expires_ms < (*oldest)->expires_ms)
			oldest = pp;
		pp = &e->next;
	}
	if (st->count >= c->stripe_cap && oldest) {
		struct entry *e = *oldest;
		*oldest = e->next;
		free(e);
		st->count--;
	}
}

void ttlcache_put(struct ttlcache *c, const char *key, size_t klen, const void *val, size_t vlen,
		  uint64_t now_ms)
{
	ttlcache_put_ttl(c, key, klen, val, vlen, now_ms, c->ttl);
}

void ttlcache_put_ttl(struct ttlcache *c, const char *key, size_t klen, const void *val,
		      size_t vlen, uint64_t now_ms, uint64_t ttl_ms)
{
	uint64_t h = siphash(siphash_process_key(), key, klen);
	struct stripe *st = stripe_of(c, h);
	struct entry **bucket, **pp, *e;

	pthread_mutex_lock(&st->lock);
	bucket = bucket_of(c, st, h);
	/* a replacement may differ in size: unlink the old one */
	for (pp = bucket; *pp; pp = &(*pp)->next) {
		if (same_key(*pp, h, key, klen)) {
			e = *pp;
			*pp = e->next;
			free(e);
			st->count--;
			break;
		}
	}
	if (st->count >= c->stripe_cap)
		make_room(c, st, bucket, now_ms);
	if (st->count < c->stripe_cap && (e = malloc(sizeof(*e) + klen + vlen))) {
		e->hash = h;
		e->expires_ms = now_ms + ttl_ms;
		e->klen = (uint32_t)klen;
		e->vlen = (uint32_t)vlen;
		memcpy(e->data, key, klen);
		memcpy(e->data + klen, val, vlen);
		e->next = *bucket;
		*bucket = e;
		st->count++;
	}
	pthread_mutex_unlock(&st->lock);
}

void ttlcache_del(struct ttlcache *c, const char *key, size_t klen)
{
	uint64_t h = siphash(siphash_process_key(), key, klen);
	struct stripe *st = stripe_of(c, h);

	pthread_mutex_lock(&st->lock);
	for (struct entry **pp = bucket_of(c, st, h); *pp; pp = &(*pp)->next) {
		struct entry *e = *pp;
		if (same_key(e, h, key, klen)) {
			*pp = e->next;
			free(e);
			st->count--;
			break;
		}
	}
	pthread_mutex_unlock(&st->lock);
}

void ttlcache_clear(struct ttlcache *c)
{
	for (unsigned i = 0; i < TTLCACHE_STRIPES; i++) {
		pthread_mutex_lock(&c->stripes[i].lock);
		drop_all(c, &c->stripes[i]);
		pthread_mutex_unlock(&c->stripes[i].lock);
	}
}

unsigned ttlcache_count(struct ttlcache *c)
{
	unsigned n = 0;

	for (unsigned i = 0; i < TTLCACHE_STRIPES; i++) {
		pthread_mutex_lock(&c->stripes[i].lock);
		n += c->stripes[i].count;
		pthread_mutex_unlock(&c->stripes[i].lock);
	}
	return n;
}
