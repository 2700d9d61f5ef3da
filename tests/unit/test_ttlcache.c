/*
 * Unit tests for ttlcache: values copied in and out, replaced with another
 * size, expired, deleted, bounded when its stripes are full, and the slab
 * slots reused: entries of every size class and past it (plain malloc),
 * many more than one slab holds, each read back intact after its
 * neighbours were freed and their slots taken again.
 */
#include "base/ttlcache.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

static size_t key_of(unsigned i, char *key)
{
	return (size_t)snprintf(key, 32, "user%u@example.com", i);
}

/* A value of len bytes that says which key it belongs to. */
static void value_of(unsigned i, size_t len, unsigned char *v)
{
	for (size_t k = 0; k < len; k++)
		v[k] = (unsigned char)(i * 31 + k);
}

Test(ttlcache, put_get_replace_del)
{
	struct ttlcache *c = ttlcache_new(100, 1000);
	char buf[64];

	cr_assert_not_null(c);
	cr_expect_eq(ttlcache_get(c, "a", 1, 0, buf, sizeof(buf)), -ENOENT);
	ttlcache_put(c, "a", 1, "one", 3, 0);
	cr_expect_eq(ttlcache_get(c, "a", 1, 10, buf, sizeof(buf)), 3);
	cr_expect_eq(memcmp(buf, "one", 3), 0);
	cr_expect_eq(ttlcache_get(c, "a", 1, 10, buf, 2), -ENOSPC);
	/* a longer value: another size class */
	ttlcache_put(c, "a", 1, "a much longer value than before", 31, 10);
	cr_expect_eq(ttlcache_get(c, "a", 1, 20, buf, sizeof(buf)), 31);
	cr_expect_eq(memcmp(buf, "a much longer value than before", 31), 0);
	cr_expect_eq(ttlcache_count(c), 1);
	/* expiry: ttl after the last put */
	cr_expect_eq(ttlcache_get(c, "a", 1, 1010, buf, sizeof(buf)), -ENOENT);
	ttlcache_put(c, "b", 1, "two", 3, 0);
	ttlcache_del(c, "b", 1);
	cr_expect_eq(ttlcache_get(c, "b", 1, 1, buf, sizeof(buf)), -ENOENT);
	ttlcache_clear(c);
	cr_expect_eq(ttlcache_count(c), 0);
	ttlcache_free(c);
}

Test(ttlcache, many_entries_every_size)
{
	enum { N = 20000 };
	struct ttlcache *c = ttlcache_new(4 * N, 60000); /* room: no eviction */
	static unsigned char v[1200], out[1200];
	char key[32];

	cr_assert_not_null(c);
	/* sizes 0..1100: every slot class and larger ones (malloc) */
	for (unsigned i = 0; i < N; i++) {
		size_t klen = key_of(i, key), len = (i * 7) % 1100;

		value_of(i, len, v);
		ttlcache_put(c, key, klen, v, len, 0);
	}
	cr_expect_eq(ttlcache_count(c), N);
	/* free every other one, and put others in their slots */
	for (unsigned i = 0; i < N; i += 2) {
		size_t klen = key_of(i, key);

		ttlcache_del(c, key, klen);
	}
	for (unsigned i = N; i < N + N / 2; i++) {
		size_t klen = key_of(i, key), len = (i * 7) % 1100;

		value_of(i, len, v);
		ttlcache_put(c, key, klen, v, len, 0);
	}
	for (unsigned i = 0; i < N + N / 2; i++) {
		size_t klen = key_of(i, key), len = (i * 7) % 1100;
		ssize_t n = ttlcache_get(c, key, klen, 1, out, sizeof(out));

		if (i < N && i % 2 == 0) {
			cr_expect_eq(n, -ENOENT, "key %u", i);
			continue;
		}
		cr_assert_eq(n, (ssize_t)len, "key %u", i);
		value_of(i, len, v);
		cr_assert_eq(memcmp(out, v, len), 0, "key %u", i);
	}
	ttlcache_free(c);
}

Test(ttlcache, full_stripes_stay_bounded)
{
	/* max 64: a cap of 2 entries a stripe; many more keys than that,
	 * each put later than the one before */
	struct ttlcache *c = ttlcache_new(64, 1000);
	char key[32], buf[8];

	cr_assert_not_null(c);
	for (unsigned i = 0; i < 1000; i++) {
		char v = (char)i;

		ttlcache_put(c, key, key_of(i, key), &v, 1, i);
	}
	cr_expect_leq(ttlcache_count(c), 64 * 2);
	/* what is left is right */
	for (unsigned i = 0; i < 1000; i++) {
		ssize_t n = ttlcache_get(c, key, key_of(i, key), 999, buf, sizeof(buf));

		cr_expect(n == -ENOENT || (n == 1 && buf[0] == (char)i), "key %u", i);
	}
	ttlcache_free(c);
}
