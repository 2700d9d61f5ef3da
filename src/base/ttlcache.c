/*
 * ttlcache: see ttlcache.h. Keys are hashed with the process's SipHash
 * key; the stripe comes from the hash's top bits, the bucket from its low
 * bits. An entry is one allocation: header, key, value.
 *
 * Entries come from slabs of the stripe's own (64 KiB mappings, cut into
 * slots of a size class, 16 bytes apart up to 512), not from malloc: a
 * cached entry lives for a minute, among the short-lived allocations of
 * the requests that made it, and scattered through the workers' malloc
 * arenas it kept their pages resident after the load was gone (100,000
 * subscribers cached by a registration storm held 113 MB of arenas for
 * 17 MB of entries). In slabs they take their own pages, densely, and the
 * arenas shrink back. A freed slot goes to its class's free list in the
 * stripe (under the stripe's lock, which every change holds already); a
 * slab is unmapped only with the cache, whose size is bounded. Larger
 * entries (a location with many targets), and every entry in a sanitizer
 * build, so that ASan sees each block, are plain malloc.
 */
#include "base/ttlcache.h"

#include "autoconfig.h" /* JCT_SANITIZE */
#include "base/siphash.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define TTLCACHE_STRIPES 64
#define SLAB_BYTES       (64 * 1024)
#define SLOT_STEP        16
#define SLOT_MAX         512
#define SLOT_CLASSES     (SLOT_MAX / SLOT_STEP)

struct entry {
	struct entry *next;
	uint64_t hash;
	uint64_t expires_ms;
	uint32_t klen, vlen;
	char data[]; /* key, then value */
};

struct slab {
	struct slab *next;
};

struct stripe {
	pthread_mutex_t lock;
	struct entry **buckets;
	unsigned count;
	/* per size class: freed slots, and the rest of the newest slab */
	void *free_slots[SLOT_CLASSES];
	char *fresh[SLOT_CLASSES];
	size_t fresh_left[SLOT_CLASSES];
	struct slab *slabs; /* every mapping, for ttlcache_free() */
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

/* The size class of an entry of n bytes, or -1 for malloc. */
static int slot_class(size_t n)
{
#ifdef JCT_SANITIZE
	(void)n;
	return -1;
#else
	return n <= SLOT_MAX ? (int)((n + SLOT_STEP - 1) / SLOT_STEP) - 1 : -1;
#endif
}

/* Under the stripe lock: a new entry of n bytes (header, key, value), or
 * NULL when out of memory. */
static struct entry *entry_alloc(struct stripe *st, size_t n)
{
	int k = slot_class(n);
	size_t size = ((size_t)k + 1) * SLOT_STEP;
	void *p;

	if (k < 0)
		return malloc(n);
	if ((p = st->free_slots[k])) {
		memcpy(&st->free_slots[k], p, sizeof(void *));
		return p;
	}
	if (st->fresh_left[k] < size) {
		struct slab *sl = mmap(NULL, SLAB_BYTES, PROT_READ | PROT_WRITE,
				       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (sl == MAP_FAILED)
			return NULL;
		sl->next = st->slabs;
		st->slabs = sl;
		/* slots start 16 bytes in: the header's 8, kept aligned */
		st->fresh[k] = (char *)sl + SLOT_STEP;
		st->fresh_left[k] = SLAB_BYTES - SLOT_STEP;
	}
	p = st->fresh[k];
	st->fresh[k] += size;
	st->fresh_left[k] -= size;
	return p;
}

/* Under the stripe lock: gives e back to its class (or to free()). */
static void entry_free(struct stripe *st, struct entry *e)
{
	int k = slot_class(sizeof(*e) + e->klen + e->vlen);

	if (k < 0) {
		free(e);
		return;
	}
	memcpy((void *)e, &st->free_slots[k], sizeof(void *));
	st->free_slots[k] = e;
}

static void drop_all(struct ttlcache *c, struct stripe *st)
{
	for (unsigned b = 0; b < c->nbuckets; b++) {
		struct entry *e = st->buckets[b];

		while (e) {
			struct entry *next = e->next;
			entry_free(st, e);
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
		for (struct slab *sl = c->stripes[i].slabs, *next; sl; sl = next) {
			next = sl->next;
			munmap(sl, SLAB_BYTES);
		}
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
			entry_free(st, e);
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
		entry_free(st, e);
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
			entry_free(st, e);
			st->count--;
			break;
		}
	}
	if (st->count >= c->stripe_cap)
		make_room(c, st, bucket, now_ms);
	if (st->count < c->stripe_cap && (e = entry_alloc(st, sizeof(*e) + klen + vlen))) {
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
			entry_free(st, e);
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
