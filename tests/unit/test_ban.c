/*
 * Unit tests for ban: the per-source rate limit, authentication failures
 * per address and per user, manual bans and lifts, and what travels to
 * and from the store thread; and for the address blocks of [security]
 * trusted (netaddr_prefix_*).
 */
#include "base/clock.h"
#include "config/config.h"
#include "security/ban.h"
#include "store/store_bg.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#define T0 1796400000000ULL /* an arbitrary wall-clock millisecond */

static struct config cfg;

static void setup(void)
{
	config_defaults(&cfg);
	cfg.security.rate_limit = 5;
	cfg.security.ban_time = 60;
	cfg.security.auth_failures = 3;
	cfg.security.auth_failures_user = 4;
	cfg.security.auth_window = 60;
	cr_assert_eq(ban_init(&cfg, "node-a"), 0);
}

static void teardown(void)
{
	ban_fini();
}

static struct netaddr addr(const char *s)
{
	struct netaddr a;

	cr_assert_eq(netaddr_parse(s, &a), 0, "%s", s);
	return a;
}

#define S(lit) sip_str_cstr(lit)

TestSuite(ban, .init = setup, .fini = teardown);

Test(ban, rate_limit_bans_at_the_request_over_it)
{
	struct netaddr a = addr("192.0.2.1:5060"), b = addr("192.0.2.2:5060");
	bool started;
	struct ban_info bi;

	for (int i = 0; i < 5; i++) {
		cr_assert(ban_admit(&a, T0 + i, &started), "request %d", i);
		cr_assert_not(started);
	}
	cr_assert_not(ban_admit(&a, T0 + 10, &started));
	cr_assert(started, "the sixth starts the ban");
	cr_assert_not(ban_admit(&a, T0 + 11, &started));
	cr_assert_not(started, "once");
	/* by address, whatever the port; others untouched */
	struct netaddr a2 = addr("192.0.2.1:40000");
	cr_assert_not(ban_admit(&a2, T0 + 12, &started));
	cr_assert(ban_admit(&b, T0 + 12, &started));
	cr_assert(ban_get(BAN_ADDRESS, "192.0.2.1", T0 + 20, &bi));
	cr_assert_eq(bi.reason, BAN_RATE_LIMIT);
	cr_assert_str_eq(bi.node, "node-a");
	cr_assert_eq(bi.until_ms, T0 + 10 + 60000);
	/* over at until: admitted again, with a new second's count */
	cr_assert(ban_admit(&a, T0 + 10 + 60000, &started));
	cr_assert_eq(ban_count(T0 + 10 + 60000), 0);
}

Test(ban, a_new_second_starts_a_new_count)
{
	struct netaddr a = addr("192.0.2.3:5060");
	bool started;

	for (int s = 0; s < 4; s++)
		for (int i = 0; i < 5; i++)
			cr_assert(ban_admit(&a, T0 + s * 1000 + i, &started));
}

Test(ban, ipv4_mapped_is_ipv4)
{
	struct netaddr v4 = addr("192.0.2.4:5060"), m = addr("[::ffff:192.0.2.4]:5060");
	bool started;

	for (int i = 0; i < 6; i++)
		(void)ban_admit(&m, T0, &started);
	cr_assert_not(ban_admit(&v4, T0 + 1, &started));
	cr_assert_eq(ban_list((struct ban_info[4]){0}, 4, T0 + 1), 1);
}

Test(ban, auth_failures_per_address_and_per_user)
{
	struct netaddr a = addr("198.51.100.1:5060");
	bool started;

	cr_assert_not(ban_auth_failed(&a, S("alice"), S("Example.COM"), T0));
	cr_assert_not(ban_auth_failed(&a, S("bob"), S("example.com"), T0 + 1));
	cr_assert(ban_auth_failed(&a, S(""), S("example.com"), T0 + 2), "third from one address");
	cr_assert_not(ban_admit(&a, T0 + 3, &started));
	/* four failures for one user from four addresses ban the user */
	for (int i = 0; i < 3; i++) {
		char s[32];
		struct netaddr x;

		snprintf(s, sizeof(s), "203.0.113.%d:5060", i + 1);
		x = addr(s);
		cr_assert_not(ban_auth_failed(&x, S("carol"), S("example.com"), T0 + 10 + i));
	}
	cr_assert_not(ban_user_banned(S("carol"), S("example.com"), T0 + 20));
	struct netaddr y = addr("203.0.113.9:5060");
	cr_assert(ban_auth_failed(&y, S("carol"), S("EXAMPLE.com"), T0 + 20));
	cr_assert(ban_user_banned(S("carol"), S("example.com"), T0 + 21), "the realm in any case");
	cr_assert_not(ban_user_banned(S("Carol"), S("example.com"), T0 + 21), "the user as sent");
	cr_assert_not(ban_user_banned(S("alice"), S("example.com"), T0 + 21));
	cr_assert(ban_admit(&y, T0 + 22, &started), "a user's ban is not its sources'");
}

Test(ban, failures_outside_the_window_start_over)
{
	struct netaddr a = addr("198.51.100.2:5060");
	bool started;

	cr_assert_not(ban_auth_failed(&a, S("u"), S("d"), T0));
	cr_assert_not(ban_auth_failed(&a, S("u"), S("d"), T0 + 1000));
	cr_assert_not(ban_auth_failed(&a, S("u"), S("d"), T0 + 61000));
	cr_assert(ban_admit(&a, T0 + 61001, &started));
}

Test(ban, manual_ban_lift_and_list)
{
	struct ban_info out[8];
	struct netaddr a = addr("[2001:db8::7]:5060");
	bool started;

	cr_assert_eq(ban_add(BAN_ADDRESS, "2001:DB8:0::7", 30, T0), 0);
	cr_assert_eq(ban_add(BAN_USER, "mallory@Example.com", 30, T0), 0);
	cr_assert_eq(ban_add(BAN_ADDRESS, "10.0.0.0/8", 30, T0), -EINVAL);
	cr_assert_eq(ban_add(BAN_ADDRESS, "not an address", 30, T0), -EINVAL);
	cr_assert_eq(ban_add(BAN_USER, "nobody", 30, T0), -EINVAL);
	cr_assert_eq(ban_add(BAN_USER, "@example.com", 30, T0), -EINVAL);
	cr_assert_eq(ban_add(BAN_ADDRESS, "192.0.2.9", 0, T0), -EINVAL);
	cr_assert_not(ban_admit(&a, T0 + 1, &started));
	cr_assert(ban_user_banned(S("mallory"), S("example.com"), T0 + 1));
	cr_assert_eq(ban_list(out, 8, T0 + 1), 2);
	cr_assert_eq(out[0].kind, BAN_ADDRESS, "addresses first");
	cr_assert_str_eq(out[0].target, "2001:db8::7", "as inet_ntop writes it");
	cr_assert_str_eq(out[1].target, "mallory@example.com");
	cr_assert_eq(out[1].reason, BAN_MANUAL);
	/* a longer ban extends, a shorter one does not shorten */
	cr_assert_eq(ban_add(BAN_ADDRESS, "2001:db8::7", 10, T0 + 2), 0);
	cr_assert(ban_get(BAN_ADDRESS, "2001:db8::7", T0 + 3, &out[0]));
	cr_assert_eq(out[0].until_ms, T0 + 30000);
	cr_assert_eq(ban_lift(BAN_ADDRESS, "2001:db8::7", T0 + 4), 0);
	cr_assert_eq(ban_lift(BAN_ADDRESS, "2001:db8::7", T0 + 5), -ENOENT);
	cr_assert(ban_admit(&a, T0 + 6, &started));
	cr_assert_eq(ban_count(T0 + 6), 1);
}

Test(ban, changes_go_out_and_come_back)
{
	struct store_ban rows[8];
	unsigned n;

	cr_assert_eq(ban_add(BAN_ADDRESS, "192.0.2.50", 30, T0), 0);
	cr_assert_eq(ban_lift(BAN_ADDRESS, "192.0.2.50", T0 + 1), 0);
	n = ban_store_out(rows, 8);
	cr_assert_eq(n, 2);
	cr_assert_not(rows[0].user);
	cr_assert_str_eq(rows[0].target, "192.0.2.50");
	cr_assert_str_eq(rows[0].reason, "manual");
	cr_assert_str_eq(rows[0].node, "node-a");
	cr_assert_not(rows[0].lifted);
	cr_assert(rows[1].lifted);
	cr_assert_eq(ban_store_out(rows, 8), 0, "drained");
}

Test(ban, from_the_database)
{
	struct store_ban row = {
		.user = false, .target = "192.0.2.60", .reason = "rate_limit", .node = "node-b"};
	uint64_t now = clock_wall_ms();
	struct ban_info bi;
	struct store_ban out[2];

	row.since_ms = now - 1000;
	row.until_ms = now + 60000;
	ban_store_in(&row, 1);
	cr_assert(ban_get(BAN_ADDRESS, "192.0.2.60", now, &bi));
	cr_assert_str_eq(bi.node, "node-b");
	cr_assert_eq(bi.reason, BAN_RATE_LIMIT);
	cr_assert_eq(ban_store_out(out, 2), 0, "another node's ban is not written back");
	/* the same row again changes nothing; its lift ends it */
	ban_store_in(&row, 1);
	row.lifted = true;
	ban_store_in(&row, 1);
	cr_assert_not(ban_get(BAN_ADDRESS, "192.0.2.60", now, &bi));
	/* an old lift does not end a newer ban */
	cr_assert_eq(ban_add(BAN_ADDRESS, "192.0.2.60", 120, now + 5), 0);
	ban_store_in(&row, 1);
	cr_assert(ban_get(BAN_ADDRESS, "192.0.2.60", now + 6, &bi));
	/* an expired row is not applied */
	row = (struct store_ban){.target = "192.0.2.61",
				 .reason = "manual",
				 .node = "n",
				 .since_ms = now - 5000,
				 .until_ms = now - 1};
	ban_store_in(&row, 1);
	cr_assert_not(ban_get(BAN_ADDRESS, "192.0.2.61", now, &bi));
}

Test(ban, rate_limit_off)
{
	struct netaddr a = addr("192.0.2.70:5060");
	bool started;

	cfg.security.rate_limit = 0;
	for (int i = 0; i < 1000; i++)
		cr_assert(ban_admit(&a, T0, &started));
}

/* ---- address blocks --------------------------------------------------------- */

static bool in(const char *block, const char *a)
{
	struct netaddr_prefix p;
	struct netaddr x = addr(a);

	cr_assert_eq(netaddr_prefix_parse(block, strlen(block), &p), 0, "%s", block);
	return netaddr_prefix_match(&p, &x);
}

Test(netaddr_prefix, match)
{
	cr_assert(in("10.0.0.0/8", "10.255.1.2:5060"));
	cr_assert_not(in("10.0.0.0/8", "11.0.0.1:5060"));
	cr_assert(in("192.0.2.128/25", "192.0.2.200:1"));
	cr_assert_not(in("192.0.2.128/25", "192.0.2.127:1"));
	cr_assert(in("192.0.2.7", "192.0.2.7:1"));
	cr_assert_not(in("192.0.2.7", "192.0.2.8:1"));
	cr_assert(in("0.0.0.0/0", "203.0.113.1:1"));
	cr_assert(in("127.0.0.0/8", "[::ffff:127.0.0.5]:1"), "IPv4-mapped");
	cr_assert_not(in("127.0.0.0/8", "[::1]:1"));
	cr_assert(in("2001:db8::/32", "[2001:db8:ffff::1]:1"));
	cr_assert_not(in("2001:db8::/32", "[2001:db9::1]:1"));
	cr_assert(in("::1", "[::1]:1"));
	cr_assert(in("2001:db8::/31", "[2001:db9::1]:1"));
}

Test(netaddr_prefix, refused)
{
	static const char *const bad[] = {"10.1.2.3/8", "10.0.0.0/33",  "::1/129",
					  "10.0.0.0/",  "10.0.0.0/x",   "example.com",
					  "",           "10.0.0.0/8/8", "2001:db8::1/32"};
	struct netaddr_prefix p;
	char buf[64];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(netaddr_prefix_parse(bad[i], strlen(bad[i]), &p), -EINVAL, "%s",
			     bad[i]);
	cr_assert_eq(netaddr_prefix_parse("2001:DB8::/32", 13, &p), 0);
	netaddr_prefix_format(&p, buf, sizeof(buf));
	cr_assert_str_eq(buf, "2001:db8::/32");
}

/* The database echoes this node's own writes, the ban's insert maybe
 * after its lift: the echo does not bring the lifted ban back, while a
 * later ban of the same target still applies. */
Test(ban, a_lift_survives_the_echo_of_its_ban)
{
	uint64_t now = clock_wall_ms();
	struct store_ban rows[4];
	struct ban_info bi;

	cr_assert_eq(ban_add(BAN_ADDRESS, "192.0.2.80", 60, now), 0);
	cr_assert_eq(ban_lift(BAN_ADDRESS, "192.0.2.80", now + 1), 0);
	cr_assert_eq(ban_store_out(rows, 4), 2);
	ban_store_in(&rows[0], 1); /* the insert, read back after the lift */
	cr_assert_not(ban_get(BAN_ADDRESS, "192.0.2.80", now + 2, &bi));
	rows[0].since_ms = now + 10;
	rows[0].until_ms = now + 60000;
	ban_store_in(&rows[0], 1); /* another node's later ban */
	cr_assert(ban_get(BAN_ADDRESS, "192.0.2.80", now + 11, &bi));
}
