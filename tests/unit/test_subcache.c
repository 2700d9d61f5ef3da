/*
 * Unit tests for subcache: a subscriber comes back as it was put, whether
 * its HA1s are lower-case hex (kept packed), empty, or anything else (kept
 * as text: upper case, odd lengths, other characters); unknown users
 * (negative entries); invalidation by "user@domain", the domain in any
 * case; expiry.
 */
#include "registrar/subcache.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

static struct sip_str s(const char *c)
{
	return sip_str_make(c, strlen(c));
}

static void init(void)
{
	cr_assert_eq(subcache_init(1000, 60000), 0);
}

static void fini(void)
{
	subcache_destroy();
}

static void round_trip(const char *md5, const char *sha)
{
	struct subscriber in = {.exists = true, .enabled = true}, out;

	strcpy(in.ha1_md5, md5);
	strcpy(in.ha1_sha256, sha);
	subcache_put(s("alice"), s("example.com"), &in, 0);
	memset(&out, 0x55, sizeof(out));
	cr_assert_eq(subcache_get(s("alice"), s("example.com"), 1, &out), 0);
	cr_expect(out.exists);
	cr_expect(out.enabled);
	cr_expect_str_eq(out.ha1_md5, md5);
	cr_expect_str_eq(out.ha1_sha256, sha);
}

Test(subcache, hex_round_trip, .init = init, .fini = fini)
{
	round_trip("0123456789abcdef0123456789abcdef",
		   "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
	round_trip("ffffffffffffffffffffffffffffffff", "");
	round_trip("", "");
}

Test(subcache, text_kept_as_given, .init = init, .fini = fini)
{
	round_trip("0123456789ABCDEF0123456789ABCDEF", "abc");
	round_trip("not hex at all",
		   "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde");
}

Test(subcache, negative_and_disabled, .init = init, .fini = fini)
{
	struct subscriber none = {.exists = false}, off = {.exists = true, .enabled = false}, out;

	subcache_put(s("mallory"), s("example.com"), &none, 0);
	cr_assert_eq(subcache_get(s("mallory"), s("example.com"), 1, &out), 0);
	cr_expect(!out.exists);
	strcpy(off.ha1_md5, "00000000000000000000000000000000");
	subcache_put(s("bob"), s("example.com"), &off, 0);
	cr_assert_eq(subcache_get(s("bob"), s("EXAMPLE.com"), 1, &out), 0);
	cr_expect(out.exists && !out.enabled);
	cr_expect_str_eq(out.ha1_md5, "00000000000000000000000000000000");
}

Test(subcache, invalidate_and_expire, .init = init, .fini = fini)
{
	struct subscriber in = {.exists = true, .enabled = true}, out;

	subcache_put(s("alice"), s("Example.COM"), &in, 0);
	cr_expect_eq(subcache_get(s("alice"), s("example.com"), 59999, &out), 0);
	cr_expect_eq(subcache_get(s("alice"), s("example.com"), 60000, &out), -ENOENT);
	subcache_put(s("alice"), s("example.com"), &in, 0);
	subcache_invalidate(s("alice@example.com"));
	cr_expect_eq(subcache_get(s("alice"), s("example.com"), 1, &out), -ENOENT);
	subcache_put(s("alice"), s("example.com"), &in, 0);
	subcache_clear();
	cr_expect_eq(subcache_get(s("alice"), s("example.com"), 1, &out), -ENOENT);
}
