/*
 * subcache: see subcache.h; a ttlcache keyed by "user@domain" with the
 * domain in lowercase (as NOTIFY sends it), holding struct subscriber.
 */
#include "registrar/subcache.h"

#include "base/ttlcache.h"

#include <errno.h>
#include <string.h>

#define SUBCACHE_KEY_MAX 256

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

int subcache_get(struct sip_str user, struct sip_str domain, uint64_t now_ms,
		 struct subscriber *out)
{
	char key[SUBCACHE_KEY_MAX];
	size_t klen = make_key(user, domain, key);

	if (!klen || !cache)
		return -ENOENT;
	return ttlcache_get(cache, key, klen, now_ms, out, sizeof(*out)) == sizeof(*out) ? 0
											 : -ENOENT;
}

void subcache_put(struct sip_str user, struct sip_str domain, const struct subscriber *sub,
		  uint64_t now_ms)
{
	char key[SUBCACHE_KEY_MAX];
	size_t klen = make_key(user, domain, key);

	if (klen && cache)
		ttlcache_put(cache, key, klen, sub, sizeof(*sub), now_ms);
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
