/*
 * subcache: see subcache.h. Keys are "user@domain" with the domain in
 * lowercase, hashed with the process's SipHash key; the stripe is chosen
 * from the hash's high bits and the bucket from its low bits. When a
 * stripe is full, an insert first drops the expired entries of its bucket,
 * then the bucket's oldest entry, so memory stays bounded without a
 * separate sweep.
 */
#include "subcache.h"

#include "siphash.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define SUBCACHE_STRIPES 64
#define SUBCACHE_KEY_MAX 256

struct entry {
	struct entry *next;
	uint64_t hash;
	uint64_t stored_ms;
	struct subscriber sub;
	uint16_t klen;
	char key[]; /* klen bytes, no NUL */
};

struct stripe {
	pthread_mutex_t lock;
	struct entry **buckets;
	unsigned count;
} __attribute__((aligned(64)));

static struct stripe stripes[SUBCACHE_STRIPES];
static unsigned nbuckets; /* per stripe, a power of two */
static unsigned stripe_cap;
static uint64_t ttl;

int subcache_init(unsigned max_entries, uint64_t ttl_ms)
{
	stripe_cap = max_entries / SUBCACHE_STRIPES + 1;
	nbuckets = 16;
	while (nbuckets < stripe_cap)
		nbuckets <<= 1;
	ttl = ttl_ms;
	for (unsigned i = 0; i < SUBCACHE_STRIPES; i++) {
		stripes[i].buckets = calloc(nbuckets, sizeof(struct entry *));
		if (!stripes[i].buckets)
			return -ENOMEM;
		stripes[i].count = 0;
		pthread_mutex_init(&stripes[i].lock, NULL);
	}
	return 0;
}

static void drop_all(struct stripe *st)
{
	for (unsigned b = 0; b < nbuckets; b++) {
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

void subcache_destroy(void)
{
	for (unsigned i = 0; i < SUBCACHE_STRIPES; i++) {
		if (!stripes[i].buckets)
			continue;
		drop_all(&stripes[i]);
		free(stripes[i].buckets);
		stripes[i].buckets = NULL;
		pthread_mutex_destroy(&stripes[i].lock);
	}
}

/* "user@domain" with the domain lowercased into key; 0 when too long. */
static size_t make_key(struct sip_str user, struct sip_str domain, char *key)
{
	size_t n = user.len + 1 + domain.len;

	if (n > SUBCACHE_KEY_MAX)
		return 0;
	memcpy(key, user.p, user.len);
	key[user.len] = '@';
	for (size_t i = 0; i < domain.len; i++)
		key[user.len + 1 + i] = sip_tolower(domain.p[i]);
	return n;
}

static struct stripe *stripe_of(uint64_t h)
{
	return &stripes[h >> 58]; /* 64 stripes: the top six bits */
}

static struct entry **bucket_of(struct stripe *st, uint64_t h)
{
	return &st->buckets[h & (nbuckets - 1)];
}

int subcache_get(struct sip_str user, struct sip_str domain, uint64_t now_ms,
		 struct subscriber *out)
{
	char key[SUBCACHE_KEY_MAX];
	size_t klen = make_key(user, domain, key);
	struct stripe *st;
	uint64_t h;
	int rc = -ENOENT;

	if (!klen || !nbuckets)
		return -ENOENT;
	h = siphash(siphash_process_key(), key, klen);
	st = stripe_of(h);
	pthread_mutex_lock(&st->lock);
	for (struct entry *e = *bucket_of(st, h); e; e = e->next) {
		if (e->hash == h && e->klen == klen && memcmp(e->key, key, klen) == 0) {
			if (now_ms - e->stored_ms < ttl) {
				*out = e->sub;
				rc = 0;
			}
			break;
		}
	}
	pthread_mutex_unlock(&st->lock);
	return rc;
}

/* Under the stripe lock: unlinks expired entries of a bucket, then, if the
 * stripe is still full, the bucket's oldest. */
static void make_room(struct stripe *st, struct entry **bucket, uint64_t now_ms)
{
	struct entry **pp = bucket, **oldest = NULL;

	while (*pp) {
		struct entry *e = *pp;

		if (now_ms - e->stored_ms >= ttl) {
			*pp = e->next;
			free(e);
			st->count--;
			continue;
		}
		if (!oldest || e->stored_ms < (*oldest)->stored_ms)
			oldest = pp;
		pp = &e->next;
	}
	if (st->count >= stripe_cap && oldest) {
		struct entry *e = *oldest;
		*oldest = e->next;
		free(e);
		st->count--;
	}
}

void subcache_put(struct sip_str user, struct sip_str domain, const struct subscriber *sub,
		  uint64_t now_ms)
{
	char key[SUBCACHE_KEY_MAX];
	size_t klen = make_key(user, domain, key);
	struct entry **bucket, *e;
	struct stripe *st;
	uint64_t h;

	if (!klen || !nbuckets)
		return;
	h = siphash(siphash_process_key(), key, klen);
	st = stripe_of(h);
	pthread_mutex_lock(&st->lock);
	bucket = bucket_of(st, h);
	for (e = *bucket; e; e = e->next)
		if (e->hash == h && e->klen == klen && memcmp(e->key, key, klen) == 0)
			break;
	if (!e) {
		if (st->count >= stripe_cap)
			make_room(st, bucket, now_ms);
		if (st->count >= stripe_cap || !(e = malloc(sizeof(*e) + klen))) {
			pthread_mutex_unlock(&st->lock);
			return; /* full of fresh entries elsewhere: just not cached */
		}
		e->hash = h;
		e->klen = (uint16_t)klen;
		memcpy(e->key, key, klen);
		e->next = *bucket;
		*bucket = e;
		st->count++;
	}
	e->sub = *sub;
	e->stored_ms = now_ms;
	pthread_mutex_unlock(&st->lock);
}

void subcache_invalidate(struct sip_str user_at_domain)
{
	ptrdiff_t at = -1;
	struct sip_str user, domain;
	char key[SUBCACHE_KEY_MAX];
	struct stripe *st;
	size_t klen;
	uint64_t h;

	/* The user part may itself hold an '@'? Not in a SIP user; the last
	 * one separates the domain. */
	for (size_t i = 0; i < user_at_domain.len; i++)
		if (user_at_domain.p[i] == '@')
			at = (ptrdiff_t)i;
	if (at < 0 || !nbuckets)
		return;
	user = sip_str_make(user_at_domain.p, (size_t)at);
	domain = sip_str_make(user_at_domain.p + at + 1, user_at_domain.len - (size_t)at - 1);
	klen = make_key(user, domain, key);
	if (!klen)
		return;
	h = siphash(siphash_process_key(), key, klen);
	st = stripe_of(h);
	pthread_mutex_lock(&st->lock);
	for (struct entry **pp = bucket_of(st, h); *pp; pp = &(*pp)->next) {
		struct entry *e = *pp;
		if (e->hash == h && e->klen == klen && memcmp(e->key, key, klen) == 0) {
			*pp = e->next;
			free(e);
			st->count--;
			break;
		}
	}
	pthread_mutex_unlock(&st->lock);
}

void subcache_clear(void)
{
	for (unsigned i = 0; i < SUBCACHE_STRIPES; i++) {
		if (!stripes[i].buckets)
			continue;
		pthread_mutex_lock(&stripes[i].lock);
		drop_all(&stripes[i]);
		pthread_mutex_unlock(&stripes[i].lock);
	}
}
