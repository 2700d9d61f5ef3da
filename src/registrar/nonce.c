/*
 * nonce: see nonce.h.
 *
 * The MAC is HMAC-SHA256 (RFC 2104) computed by hand over EVP: the key
 * keeps two SHA-256 contexts that have already absorbed key^ipad and
 * key^opad, and each MAC copies them, so a MAC costs one short hash of the
 * message and one of the inner digest, one EVP_MD_CTX per call. OpenSSL's
 * HMAC() one-shot fetches SHA-256 and re-keys on every call (about five
 * times slower); a reused EVP_MAC_CTX is as fast but belongs to one
 * thread. The copies only read the shared contexts, so one key serves
 * every thread.
 *
 * The nonce-count table is 64 stripes, each a mutex over a chained hash
 * table whose entries come from a fixed array through a free list. A
 * nonce hashes by its MAC bytes, which for genuine nonces are uniform and
 * unknown to clients, so neither the stripe nor the chain can be steered.
 * An entry lives until its nonce goes stale (time stamped in the nonce +
 * lifetime): after that nonce_verify() refuses the nonce, so its count is
 * no longer needed. Expired entries are dropped lazily, when a stripe runs
 * out of free entries and its earliest expiry has passed. A stripe full of
 * live entries drops those that expire first and raises its floor: nonces
 * expiring by the floor count as stale from then on, so a burst shortens
 * the lifetime of older nonces instead of refusing every new one. (A wall clock
 * stepped backwards can revive a nonce whose count was dropped; NTP slews.)
 */
#include "registrar/nonce.h"

#include "base/hex.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define TIME_BYTES   6 /* seconds: good until the year 8921556 */
#define SCOPE_BYTES  4
#define RANDOM_BYTES 6 /* 40,000 nonces in one second and scope: p(collision) 3e-6 */
#define TS_BYTES     (TIME_BYTES + SCOPE_BYTES + RANDOM_BYTES)
#define TIME_MAX     ((1ull << (8 * TIME_BYTES)) - 1)
#define MAC_BYTES    16 /* HMAC-SHA256 truncated (RFC 2104 §5 allows t >= L/2) */
#define SHA256_BLOCK 64
#define SHA256_LEN   32

/* HKDF-Extract (RFC 5869 §2.2) of the secret with a fixed salt: the MAC
 * key is uniform whatever the secret looks like, and used for nothing
 * else. */
static const char key_salt[] = "junction digest nonce v1";

struct nonce_key {
	EVP_MD *md;
	EVP_MD_CTX *inner; /* SHA-256 having absorbed key ^ ipad */
	EVP_MD_CTX *outer; /* SHA-256 having absorbed key ^ opad */
};

static int hex_value(char c)
{
	return hex_lower_value(sip_tolower(c));
}

/* Big-endian integers of n bytes (n <= 8) in the nonce. */
static uint64_t load_be(const uint8_t *p, int n)
{
	uint64_t v = 0;

	for (int i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

static void store_be(uint8_t *p, int n, uint64_t v)
{
	for (int i = n - 1; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

static uint64_t add_sat(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/* A SHA-256 context that has absorbed key (zero-padded to a block) XOR pad. */
static EVP_MD_CTX *pad_ctx(const EVP_MD *md, const uint8_t *key, size_t key_len, uint8_t pad)
{
	uint8_t block[SHA256_BLOCK];
	EVP_MD_CTX *c = EVP_MD_CTX_new();

	memset(block, pad, sizeof(block));
	for (size_t i = 0; i < key_len; i++)
		block[i] ^= key[i];
	if (c && (EVP_DigestInit_ex2(c, md, NULL) != 1 ||
		  EVP_DigestUpdate(c, block, sizeof(block)) != 1)) {
		EVP_MD_CTX_free(c);
		c = NULL;
	}
	OPENSSL_cleanse(block, sizeof(block));
	return c;
}

struct nonce_key *nonce_key_new(const char *secret)
{
	uint8_t key[SHA256_LEN];
	unsigned int key_len = 0;
	struct nonce_key *k = NULL;

	if (!secret || !*secret) {
		errno = EINVAL;
		return NULL;
	}
	k = calloc(1, sizeof(*k));
	if (!k)
		goto fail;
	k->md = EVP_MD_fetch(NULL, "SHA2-256", NULL);
	if (!k->md)
		goto fail;
	if (!HMAC(k->md, key_salt, (int)(sizeof(key_salt) - 1), (const unsigned char *)secret,
		  strlen(secret), key, &key_len))
		goto fail;
	k->inner = pad_ctx(k->md, key, key_len, 0x36);
	k->outer = pad_ctx(k->md, key, key_len, 0x5c);
	OPENSSL_cleanse(key, sizeof(key));
	if (!k->inner || !k->outer)
		goto fail;
	return k;
fail:
	nonce_key_free(k);
	errno = ENOMEM;
	return NULL;
}

void nonce_key_free(struct nonce_key *k)
{
	if (!k)
		return;
	EVP_MD_CTX_free(k->inner);
	EVP_MD_CTX_free(k->outer);
	EVP_MD_free(k->md);
	free(k);
}

/* HMAC-SHA256(key, ts || realm), truncated, as 2 * MAC_BYTES hex in out. */
static int nonce_mac(const struct nonce_key *k, const uint8_t ts[TS_BYTES], struct sip_str realm,
		     char out[2 * MAC_BYTES])
{
	uint8_t inner[SHA256_LEN], mac[SHA256_LEN];
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	int err = -EIO;

	if (!c) {
		err = -ENOMEM;
		goto out;
	}
	if (EVP_MD_CTX_copy_ex(c, k->inner) != 1 || EVP_DigestUpdate(c, ts, TS_BYTES) != 1 ||
	    (realm.len && EVP_DigestUpdate(c, realm.p, realm.len) != 1) ||
	    EVP_DigestFinal_ex(c, inner, NULL) != 1)
		goto out;
	if (EVP_MD_CTX_copy_ex(c, k->outer) != 1 ||
	    EVP_DigestUpdate(c, inner, sizeof(inner)) != 1 || EVP_DigestFinal_ex(c, mac, NULL) != 1)
		goto out;
	hex_encode(mac, MAC_BYTES, out);
	err = 0;
out:
	EVP_MD_CTX_free(c);
	return err;
}

int nonce_make(const struct nonce_key *k, struct sip_str realm, uint32_t scope, uint64_t now_s,
	       char out[NONCE_LEN + 1])
{
	uint8_t ts[TS_BYTES];
	int err;

	out[0] = '\0';
	/* A clock past 48 bits is broken: the stamp saturates, and the
	 * nonce is refused as from the future once the clock is mended. */
	store_be(ts, TIME_BYTES, now_s > TIME_MAX ? TIME_MAX : now_s);
	store_be(ts + TIME_BYTES, SCOPE_BYTES, scope);
	if (RAND_bytes(ts + TIME_BYTES + SCOPE_BYTES, RANDOM_BYTES) != 1)
		return -EIO;
	err = nonce_mac(k, ts, realm, out + 2 * TS_BYTES);
	if (err)
		return err;
	hex_encode(ts, TS_BYTES, out);
	out[NONCE_LEN] = '\0';
	return 0;
}

int nonce_verify(const struct nonce_key *k, struct sip_str nonce, struct sip_str realm,
		 uint32_t scope, uint64_t now_s, unsigned lifetime_s)
{
	uint8_t ts[TS_BYTES];
	char want[2 * MAC_BYTES];
	uint64_t issued;
	int err;

	if (nonce.len != NONCE_LEN || hex_decode_lower(nonce.p, TS_BYTES, ts))
		return -EINVAL;
	err = nonce_mac(k, ts, realm, want);
	if (err)
		return err;
	if (CRYPTO_memcmp(want, nonce.p + 2 * TS_BYTES, sizeof(want)) != 0)
		return -EINVAL;
	/* Genuine from here on: only now may the answer be "stale", which
	 * tells the client its password was right (RFC 7616 §3.3). */
	issued = load_be(ts, TIME_BYTES);
	if (issued > now_s && issued - now_s > NONCE_SKEW_S)
		return -EINVAL;
	if (now_s > issued && now_s - issued > lifetime_s)
		return -ESTALE;
	/* Issued to another source, or by another node: its nonce-counts
	 * are not kept here, so it is not valid here (a replay, or a client
	 * that moved: either way a fresh nonce). */
	if ((uint32_t)load_be(ts + TIME_BYTES, SCOPE_BYTES) != scope)
		return -ESTALE;
	return 0;
}

/* ---- nonce-count table ---- */

#define NC_STRIPES 64
#define NC_NIL     UINT32_MAX

struct nc_entry {
	uint8_t id[NONCE_LEN / 2]; /* the nonce, hex-decoded */
	uint64_t expires;          /* dead once now > expires */
	uint32_t nc;               /* highest nonce-count accepted */
	uint32_t next;             /* chain or free list */
};

struct nc_stripe {
	_Alignas(64) pthread_mutex_t lock; /* one cache line per stripe and up */
	struct nc_entry *e;
	uint32_t *bucket;     /* heads of the chains */
	uint32_t mask;        /* buckets - 1 */
	uint32_t free;        /* head of the free entries */
	uint64_t min_expires; /* no entry expires earlier: sweeping before is futile */
	uint64_t floor;       /* counts of nonces expiring by then were forgotten */
};

struct nonce_nc_table {
	struct nc_stripe s[NC_STRIPES];
	struct nc_entry *entries;
	uint32_t *buckets;
	unsigned lifetime_s;
};

struct nonce_nc_table *nonce_nc_table_new(unsigned max_entries, unsigned lifetime_s)
{
	struct nonce_nc_table *t;
	uint32_t per, nb = 1;

	if (max_entries == 0) {
		errno = EINVAL;
		return NULL;
	}
	per = (uint32_t)(((uint64_t)max_entries + NC_STRIPES - 1) / NC_STRIPES);
	while (nb < per)
		nb <<= 1; /* one bucket per entry at most: chains stay short */
	t = aligned_alloc(_Alignof(struct nonce_nc_table), sizeof(*t));
	if (!t)
		goto fail;
	memset(t, 0, sizeof(*t));
	t->lifetime_s = lifetime_s;
	t->entries = calloc((size_t)per * NC_STRIPES, sizeof(*t->entries));
	t->buckets = calloc((size_t)nb * NC_STRIPES, sizeof(*t->buckets));
	if (!t->entries || !t->buckets)
		goto fail;
	memset(t->buckets, 0xff, (size_t)nb * NC_STRIPES * sizeof(*t->buckets)); /* NC_NIL */
	for (unsigned i = 0; i < NC_STRIPES; i++) {
		struct nc_stripe *s = &t->s[i];

		pthread_mutex_init(&s->lock, NULL);
		s->e = t->entries + (size_t)i * per;
		s->bucket = t->buckets + (size_t)i * nb;
		s->mask = nb - 1;
		s->min_expires = UINT64_MAX;
		for (uint32_t j = 0; j < per; j++)
			s->e[j].next = j + 1 < per ? j + 1 : NC_NIL;
		s->free = 0;
	}
	return t;
fail:
	if (t) {
		free(t->entries);
		free(t->buckets);
		free(t);
	}
	errno = ENOMEM;
	return NULL;
}

void nonce_nc_table_free(struct nonce_nc_table *t)
{
	if (!t)
		return;
	for (unsigned i = 0; i < NC_STRIPES; i++)
		pthread_mutex_destroy(&t->s[i].lock);
	free(t->entries);
	free(t->buckets);
	free(t);
}

/* Returns to the free list the dead entries of s and those expiring by
 * cutoff. Bounded by the stripe's size, and run only when it is full. */
static void nc_sweep(struct nc_stripe *s, uint64_t now_s, uint64_t cutoff)
{
	uint64_t min = UINT64_MAX;

	for (uint32_t b = 0; b <= s->mask; b++) {
		uint32_t *link = &s->bucket[b];

		while (*link != NC_NIL) {
			uint32_t i = *link;
			struct nc_entry *e = &s->e[i];

			if (now_s > e->expires || e->expires <= cutoff) {
				*link = e->next;
				e->next = s->free;
				s->free = i;
			} else {
				if (e->expires < min)
					min = e->expires;
				link = &e->next;
			}
		}
	}
	s->min_expires = min;
}

int nonce_nc_check(struct nonce_nc_table *t, struct sip_str nonce, uint32_t nc, uint64_t now_s)
{
	uint8_t id[NONCE_LEN / 2];
	struct nc_stripe *s;
	struct nc_entry *e = NULL;
	uint64_t h, issued, expires;
	uint32_t b, i;
	int err;

	/* lower case only: we issue lowercase, and one spelling per nonce
	 * keeps the nonce-count table from seeing "AB.." and "ab.." as two */
	if (nonce.len != NONCE_LEN || hex_decode_lower(nonce.p, sizeof(id), id))
		return -EINVAL;
	/* The same time checks as nonce_verify(), so that an entry is never
	 * found expired: dropping the count of a nonce still accepted would
	 * let its old counts replay. */
	issued = load_be(id, TIME_BYTES);
	if (issued > now_s && issued - now_s > NONCE_SKEW_S)
		return -EINVAL;
	expires = add_sat(issued, t->lifetime_s);
	if (now_s > expires)
		return -ESTALE;
	memcpy(&h, id + TS_BYTES, sizeof(h)); /* MAC bytes: uniform */
	s = &t->s[h % NC_STRIPES];
	b = (uint32_t)(h / NC_STRIPES) & s->mask;

	pthread_mutex_lock(&s->lock);
	for (i = s->bucket[b]; i != NC_NIL; i = s->e[i].next) {
		if (memcmp(s->e[i].id, id, sizeof(id)) == 0) {
			e = &s->e[i];
			break;
		}
	}
	if (e) {
		err = nc > e->nc ? 0 : -EALREADY;
		if (!err)
			e->nc = nc;
		goto out;
	}
	if (nc == 0) {
		err = -EALREADY; /* counts start at 1 (RFC 7616 §3.4) */
		goto out;
	}
	if (expires <= s->floor) {
		err = -ESTALE; /* its count may have been forgotten: a replay? */
		goto out;
	}
	if (s->free == NC_NIL && now_s > s->min_expires)
		nc_sweep(s, now_s, 0);
	if (s->free == NC_NIL) {
		/* Full of live counts (a burst of authentications): forget the
		 * counts of the nonces that expire first, and from now on treat
		 * those nonces as stale, so that none can be replayed; their
		 * clients retry with a fresh nonce. A nonce of that same
		 * oldest second is refused without evicting. */
		if (expires <= s->min_expires) {
			err = -ESTALE;
			goto out;
		}
		s->floor = s->min_expires;
		nc_sweep(s, now_s, s->floor);
	}
	i = s->free;
	e = &s->e[i];
	s->free = e->next;
	memcpy(e->id, id, sizeof(id));
	e->nc = nc;
	e->expires = expires;
	e->next = s->bucket[b];
	s->bucket[b] = i;
	if (expires < s->min_expires)
		s->min_expires = expires;
	err = 0;
out:
	pthread_mutex_unlock(&s->lock);
	return err;
}

int nonce_nc_parse(struct sip_str s, uint32_t *nc)
{
	uint32_t v = 0;

	if (s.len != 8)
		return -EINVAL;
	for (size_t i = 0; i < 8; i++) {
		int d = hex_value(s.p[i]);

		if (d < 0)
			return -EINVAL;
		v = v << 4 | (uint32_t)d;
	}
	*nc = v;
	return 0;
}
