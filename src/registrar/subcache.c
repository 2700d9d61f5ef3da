/*
 * subcache: see subcache.h; a ttlcache keyed by "user@domain" with the
 * domain in lowercase (as NOTIFY sends it).
 *
 * A subscriber is held packed, not as struct subscriber: a flags byte,
 * then each HA1 as a tag byte and, for the hex digest it nearly always
 * is, its bytes (16 for MD5, 32 for SHA-256); anything else as it was
 * given. 51 bytes instead of 100: with the key and the entry's header an
 * entry takes a 112-byte slot, 11 MB for 100,000 subscribers.
 */
#include "registrar/subcache.h"

#include "base/hex.h"
#include "base/ttlcache.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#define SUBCACHE_KEY_MAX 256
/* flags, and each HA1 at its longest as text: tag, length, characters */
#define PACKED_MAX (1 + 2 * (2 + 65))

enum { HA1_EMPTY, HA1_HEX, HA1_TEXT };
enum { SUB_EXISTS = 1, SUB_ENABLED = 2 };

static struct ttlcache *cache;

int subcache_init(unsigned max_entries, uint64_t ttl_ms)
{
	cache = ttlcache_new(max_entries, ttl_ms);
	return cache ? 0 : -ENOMEM;
}

void subcache_destroy(void)
{
	ttlcache_free(cache);
	cache = NULL;
}

/* The cache key of user@domain; 0 when too long. */
static size_t make_key(struct sip_str user, struct sip_str domain, char *key)
{
	return sip_user_at_domain(user, domain, key, SUBCACHE_KEY_MAX);
}

/* Appends the HA1 hex (a NUL-terminated string of at most 64 chars) at
 * out; returns the bytes written. */
static size_t pack_ha1(const char *hex, unsigned char *out)
{
	size_t n = strlen(hex);

	if (!n) {
		out[0] = HA1_EMPTY;
		return 1;
	}
	/* a failed decode leaves out[2..] to the text below */
	if (n % 2 == 0 && hex_decode_lower(hex, n / 2, out + 2) == 0) {
		out[0] = HA1_HEX;
		out[1] = (unsigned char)(n / 2);
		return 2 + n / 2;
	}
	out[0] = HA1_TEXT;
	out[1] = (unsigned char)n;
	memcpy(out + 2, hex, n);
	return 2 + n;
}

/* Reads an HA1 packed at in (avail bytes) into dst (cap bytes, NUL
 * terminated); returns the bytes read, or 0 when malformed. */
static size_t unpack_ha1(const unsigned char *in, size_t avail, char *dst, size_t cap)
{
	size_t n;

	if (avail < 1)
		return 0;
	if (in[0] == HA1_EMPTY) {
		dst[0] = '\0';
		return 1;
	}
	if (avail < 2 || (n = in[1]) + 2 > avail)
		return 0;
	if (in[0] == HA1_HEX) {
		if (2 * n >= cap)
			return 0;
		hex_encode(in + 2, n, dst);
		dst[2 * n] = '\0';
		return 2 + n;
	}
	if (n >= cap)
		return 0;
	memcpy(dst, in + 2, n);
	dst[n] = '\0';
	return 2 + n;
}

int subcache_get(struct sip_str user, struct sip_str domain, uint64_t now_ms,
		 struct subscriber *out)
{
	char key[SUBCACHE_KEY_MAX];
	size_t klen = make_key(user, domain, key);

	unsigned char packed[PACKED_MAX];
	ssize_t n;
	size_t a, b;

	if (!klen || !cache)
		return -ENOENT;
	n = ttlcache_get(cache, key, klen, now_ms, packed, sizeof(packed));
	if (n < 1)
		return -ENOENT;
	out->exists = packed[0] & SUB_EXISTS;
	out->enabled = packed[0] & SUB_ENABLED;
	a = unpack_ha1(packed + 1, (size_t)n - 1, out->ha1_md5, sizeof(out->ha1_md5));
	b = a ? unpack_ha1(packed + 1 + a, (size_t)n - 1 - a, out->ha1_sha256,
			   sizeof(out->ha1_sha256))
	      : 0;
	return b && 1 + a + b == (size_t)n ? 0 : -ENOENT;
}

void subcache_put(struct sip_str user, struct sip_str domain, const struct subscriber *sub,
		  uint64_t now_ms)
{
	char key[SUBCACHE_KEY_MAX];
	size_t klen = make_key(user, domain, key);

	unsigned char packed[PACKED_MAX];
	size_t n = 1;

	if (!klen || !cache)
		return;
	packed[0] = (sub->exists ? SUB_EXISTS : 0) | (sub->enabled ? SUB_ENABLED : 0);
	n += pack_ha1(sub->ha1_md5, packed + n);
	n += pack_ha1(sub->ha1_sha256, packed + n);
	ttlcache_put(cache, key, klen, packed, n, now_ms);
}

void subcache_invalidate(struct sip_str user_at_domain)
{
	char key[SUBCACHE_KEY_MAX];
	ptrdiff_t at = -1;

	/* The last '@' separates the domain (a SIP user cannot hold one). */
	for (size_t i = 0; i < user_at_domain.len; i++)
		if (user_at_domain.p[i] == '@')
			at = (ptrdiff_t)i;
	if (at < 0 || !cache)
		return;
	size_t klen = make_key(
		sip_str_make(user_at_domain.p, (size_t)at),
		sip_str_make(user_at_domain.p + at + 1, user_at_domain.len - (size_t)at - 1), key);
	if (klen)
		ttlcache_del(cache, key, klen);
}

void subcache_clear(void)
{
	if (cache)
		ttlcache_clear(cache);
}
