/*
 * Unit tests for nexthop's RFC 2782 ordering of SRV records: lower
 * priorities always first, and within one priority a draw in proportion
 * to weight (3:1 over 40,000 draws within a few per mille), weight 0
 * only after every weighted record; and for the node's DNS cache, whose
 * entries now carry a lifetime each (ttlcache_put_ttl()).
 */
#include "base/ttlcache.h"
#include "net/nexthop.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

static struct dns_srv rec(uint16_t prio, uint16_t weight, const char *target)
{
	struct dns_srv s = {.priority = prio, .weight = weight};

	strcpy(s.target, target);
	return s;
}

Test(nexthop, priority_first)
{
	for (unsigned k = 0; k < 200; k++) {
		struct dns_srv s[4] = {rec(20, 5, "c"), rec(10, 1, "a"), rec(30, 9, "d"),
				       rec(10, 1, "b")};

		nexthop_srv_order(s, 4);
		cr_assert(s[0].priority == 10 && s[1].priority == 10);
		cr_assert_str_eq(s[2].target, "c");
		cr_assert_str_eq(s[3].target, "d");
	}
}

Test(nexthop, weights_in_proportion)
{
	unsigned first_a = 0, n = 40000;

	for (unsigned k = 0; k < n; k++) {
		struct dns_srv s[2] = {rec(10, 1, "b"), rec(10, 3, "a")};

		nexthop_srv_order(s, 2);
		first_a += s[0].target[0] == 'a';
	}
	/* 30,000 expected; the standard deviation is 87 */
	cr_assert(first_a > 29500 && first_a < 30500, "a first %u times of %u", first_a, n);
}

Test(nexthop, weight_zero_last)
{
	for (unsigned k = 0; k < 500; k++) {
		struct dns_srv s[3] = {rec(10, 0, "z"), rec(10, 1, "a"), rec(10, 2, "b")};

		nexthop_srv_order(s, 3);
		cr_assert_str_eq(s[2].target, "z");
	}
}

Test(nexthop, all_weights_zero_kept)
{
	struct dns_srv s[3] = {rec(10, 0, "a"), rec(10, 0, "b"), rec(10, 0, "c")};

	nexthop_srv_order(s, 3);
	cr_assert(s[0].target[0] && s[1].target[0] && s[2].target[0]);
}

Test(ttlcache, lifetime_per_entry)
{
	struct ttlcache *c = ttlcache_new(64, 1000);
	char buf[8];

	ttlcache_put_ttl(c, "short", 5, "1", 1, 100, 50);
	ttlcache_put_ttl(c, "long", 4, "2", 1, 100, 5000);
	ttlcache_put(c, "dflt", 4, "3", 1, 100);
	cr_assert_eq(ttlcache_get(c, "short", 5, 149, buf, sizeof(buf)), 1);
	cr_assert_eq(ttlcache_get(c, "short", 5, 150, buf, sizeof(buf)), -ENOENT);
	cr_assert_eq(ttlcache_get(c, "dflt", 4, 1099, buf, sizeof(buf)), 1);
	cr_assert_eq(ttlcache_get(c, "dflt", 4, 1100, buf, sizeof(buf)), -ENOENT);
	cr_assert_eq(ttlcache_get(c, "long", 4, 5099, buf, sizeof(buf)), 1);
	ttlcache_free(c);
}
