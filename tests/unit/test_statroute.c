/*
 * Unit tests for statroute and callfwd, the static routes and call
 * forwards every node holds: the longest matching prefix, the fallback
 * to the domain's route, case-insensitive domains, outbound proxies kept
 * apart, the order by priority, RFC 2782's weighted order within one
 * priority (1000 draws at 3:1 come out near 750:250; weight 0 last), the
 * cap of STATROUTE_MAX_HOPS, rows the loader refuses, a reload that
 * replaces everything, 100k prefixes, and lookups racing reloads. The
 * tables are fed as the database thread feeds them (store_bg.h rows).
 */
#include "base/log.h"
#include "proxy/callfwd.h"
#include "proxy/statroute.h"

#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void setup(void)
{
	log_open(LOG_LVL_ERROR, "stderr");
}

static void teardown(void)
{
	statroute_free();
	callfwd_free();
}

TestSuite(statroute, .init = setup, .fini = teardown);
TestSuite(callfwd, .init = setup, .fini = teardown);

#define R(k, m, hop, prio, w)                                                                      \
	{                                                                                          \
		.id = __LINE__, .kind = (k), .match = (m), .next_hop = (hop), .priority = (prio),  \
		.weight = (w)                                                                      \
	}
#define NROWS(a) (sizeof(a) / sizeof((a)[0]))

static const char *find1(const char *number, const char *domain)
{
	static struct statroute_hops h;

	if (!statroute_find(number, sip_str_cstr(domain), &h))
		return "none";
	cr_assert_geq(h.n, 1);
	return h.uri[0];
}

Test(statroute, longest_prefix_then_domain)
{
	static const struct store_route rows[] = {
		R("prefix", "49", "sip:de.example.net", 0, 1),
		R("prefix", "4930", "sip:berlin.example.net", 0, 1),
		R("prefix", "493012", "sip:10.0.0.12:5070", 0, 1),
		R("prefix", "1", "sips:nanp.example.net;transport=tcp", 0, 1),
		R("domain", "example.com", "sip:sbc.example.com:5080", 0, 1),
		R("domain", "other.org", "sip:other-gw.example.net", 0, 1),
	};

	statroute_replace(rows, NROWS(rows));
	cr_expect_eq(statroute_count(), 6);
	cr_expect_str_eq(find1("4930123456", "example.com"), "sip:10.0.0.12:5070");
	cr_expect_str_eq(find1("493099", "example.com"), "sip:berlin.example.net");
	cr_expect_str_eq(find1("4930", "example.com"), "sip:berlin.example.net", "exact length");
	cr_expect_str_eq(find1("4989123", "example.com"), "sip:de.example.net");
	cr_expect_str_eq(find1("12125550100", NULL), "sips:nanp.example.net;transport=tcp");
	cr_expect_str_eq(find1("493", "example.com"), "sip:de.example.net", "shorter than 4930");
	/* no prefix matches: the domain's route */
	cr_expect_str_eq(find1("3314", "example.com"), "sip:sbc.example.com:5080");
	cr_expect_str_eq(find1(NULL, "example.com"), "sip:sbc.example.com:5080");
	cr_expect_str_eq(find1(NULL, "other.org"), "sip:other-gw.example.net");
	cr_expect_str_eq(find1("3314", "elsewhere.net"), "none");
	cr_expect_str_eq(find1(NULL, "elsewhere.net"), "none");
	cr_expect_str_eq(find1("", "elsewhere.net"), "none");
	cr_expect_str_eq(find1(NULL, NULL), "none");
	cr_expect_str_eq(find1("1234567890123456", "example.com"), "sip:sbc.example.com:5080",
			 "16 digits are no E.164 number");
}

Test(statroute, domains_case_insensitive)
{
	static const struct store_route rows[] = {
		R("domain", "Example.COM", "sip:a.example.net", 0, 1),
	};
	const char buf[] = "EXAMPLE.com;transport=udp";

	statroute_replace(rows, NROWS(rows));
	cr_expect_str_eq(find1(NULL, "example.com"), "sip:a.example.net");
	cr_expect_str_eq(find1(NULL, "eXaMpLe.CoM"), "sip:a.example.net");
	{
		struct statroute_hops h;

		cr_expect(statroute_find(NULL, sip_str_make(buf, 11), &h), "a slice, no NUL");
		cr_expect_str_eq(h.uri[0], "sip:a.example.net");
	}
	cr_expect_str_eq(find1(NULL, "example.co"), "none");
	cr_expect_str_eq(find1(NULL, "www.example.com"), "none", "no wildcard");
}

Test(statroute, outbound_apart)
{
	static const struct store_route rows[] = {
		R("outbound", "example.com", "sip:out1.example.com", 0, 1),
		R("outbound", "example.com", "sip:out2.example.com", 1, 1),
		R("domain", "example.org", "sip:in.example.org", 0, 1),
	};
	struct statroute_hops h;

	statroute_replace(rows, NROWS(rows));
	cr_expect_str_eq(find1(NULL, "example.com"), "none",
			 "an outbound route is not a domain route");
	cr_assert(statroute_outbound(SIP_STR("EXAMPLE.com"), &h));
	cr_expect_eq(h.n, 2);
	cr_expect_str_eq(h.uri[0], "sip:out1.example.com");
	cr_expect_str_eq(h.uri[1], "sip:out2.example.com");
	cr_expect_not(statroute_outbound(SIP_STR("example.org"), &h));
	cr_expect_eq(h.n, 0);
}

Test(statroute, priority_order)
{
	static const struct store_route rows[] = {
		R("prefix", "44", "sip:third.example.net", 20, 5),
		R("prefix", "44", "sip:first.example.net", 0, 1),
		R("prefix", "44", "sip:second.example.net", 10, 100),
		R("prefix", "44", "sip:last.example.net", 65535, 1),
	};
	struct statroute_hops h;

	statroute_replace(rows, NROWS(rows));
	for (int i = 0; i < 50; i++) {
		cr_assert(statroute_find("4420", SIP_STR_NULL, &h));
		cr_assert_eq(h.n, 4);
		cr_assert_str_eq(h.uri[0], "sip:first.example.net");
		cr_assert_str_eq(h.uri[1], "sip:second.example.net");
		cr_assert_str_eq(h.uri[2], "sip:third.example.net");
		cr_assert_str_eq(h.uri[3], "sip:last.example.net");
	}
}

Test(statroute, weights_3_to_1)
{
	static const struct store_route rows[] = {
		R("domain", "example.com", "sip:a.example.net", 0, 3),
		R("domain", "example.com", "sip:b.example.net", 0, 1),
		R("domain", "example.com", "sip:backup.example.net", 1, 1),
	};
	struct statroute_hops h;
	unsigned a = 0, b = 0;

	statroute_replace(rows, NROWS(rows));
	for (int i = 0; i < 1000; i++) {
		cr_assert(statroute_find(NULL, SIP_STR("example.com"), &h));
		cr_assert_eq(h.n, 3);
		cr_assert_str_neq(h.uri[0], h.uri[1], "each hop once");
		cr_assert_str_eq(h.uri[2], "sip:backup.example.net", "the next priority last");
		if (strcmp(h.uri[0], "sip:a.example.net") == 0)
			a++;
		else if (strcmp(h.uri[0], "sip:b.example.net") == 0)
			b++;
	}
	cr_expect_eq(a + b, 1000);
	/* 750 expected, standard deviation 13.7: +-60 is over 4 of them */
	cr_expect(a >= 690 && a <= 810, "a first %u times of 1000 (weight 3 of 4)", a);
	cr_expect(b >= 190 && b <= 310, "b first %u times of 1000 (weight 1 of 4)", b);
}

Test(statroute, weights_three_ways)
{
	static const struct store_route rows[] = {
		R("prefix", "7", "sip:a.example.net", 0, 60),
		R("prefix", "7", "sip:b.example.net", 0, 30),
		R("prefix", "7", "sip:c.example.net", 0, 10),
	};
	struct statroute_hops h;
	unsigned first[3] = {0};

	statroute_replace(rows, NROWS(rows));
	for (int i = 0; i < 3000; i++) {
		cr_assert(statroute_find("7495", SIP_STR_NULL, &h));
		cr_assert_eq(h.n, 3);
		first[h.uri[0][4] - 'a']++;
	}
	/* 1800 / 900 / 300, standard deviations 27, 25, 16 */
	cr_expect(first[0] >= 1680 && first[0] <= 1920, "a first %u of 3000", first[0]);
	cr_expect(first[1] >= 790 && first[1] <= 1010, "b first %u of 3000", first[1]);
	cr_expect(first[2] >= 230 && first[2] <= 370, "c first %u of 3000", first[2]);
}

Test(statroute, weight_zero_last)
{
	static const struct store_route rows[] = {
		R("domain", "example.com", "sip:standby.example.net", 0, 0),
		R("domain", "example.com", "sip:a.example.net", 0, 1),
		R("domain", "example.com", "sip:b.example.net", 0, 1),
	};
	static const struct store_route zeros[] = {
		R("domain", "example.com", "sip:x.example.net", 0, 0),
		R("domain", "example.com", "sip:y.example.net", 0, 0),
	};
	struct statroute_hops h;
	unsigned x = 0;

	statroute_replace(rows, NROWS(rows));
	for (int i = 0; i < 200; i++) {
		cr_assert(statroute_find(NULL, SIP_STR("example.com"), &h));
		cr_assert_eq(h.n, 3);
		cr_assert_str_eq(h.uri[2], "sip:standby.example.net");
	}
	/* only weight 0: every hop, in a uniform order */
	statroute_replace(zeros, NROWS(zeros));
	for (int i = 0; i < 1000; i++) {
		cr_assert(statroute_find(NULL, SIP_STR("example.com"), &h));
		cr_assert_eq(h.n, 2);
		cr_assert_str_neq(h.uri[0], h.uri[1]);
		x += strcmp(h.uri[0], "sip:x.example.net") == 0;
	}
	cr_expect(x >= 420 && x <= 580, "x first %u times of 1000", x);
}

Test(statroute, at_most_max_hops)
{
	static struct store_route rows[70];
	static char hops[70][64];
	struct statroute_hops h;

	for (unsigned i = 0; i < 70; i++) {
		snprintf(hops[i], sizeof(hops[i]), "sip:gw%u.example.net", i);
		rows[i] = (struct store_route){.id = i + 1,
					       .kind = "prefix",
					       .match = "33",
					       .next_hop = hops[i],
					       .priority = 69 - i,
					       .weight = 1};
	}
	statroute_replace(rows, 70);
	cr_expect_eq(statroute_count(), STATROUTE_GROUP_MAX, "the hops past 64 are left out");
	cr_assert(statroute_find("331", SIP_STR_NULL, &h));
	cr_assert_eq(h.n, STATROUTE_MAX_HOPS);
	for (unsigned k = 0; k < STATROUTE_MAX_HOPS; k++) {
		char want[64];

		snprintf(want, sizeof(want), "sip:gw%u.example.net", 69 - k);
		cr_expect_str_eq(h.uri[k], want, "priority %u", k);
	}
}

Test(statroute, bad_rows_left_out)
{
	static const struct store_route rows[] = {
		R("prefix", "49", "sip:good.example.net", 0, 1),
		R("prefix", "49a", "sip:bad.example.net", 0, 1),
		R("prefix", "1234567890123456", "sip:bad.example.net", 0, 1),
		R("prefix", "", "sip:bad.example.net", 0, 1),
		R("country", "33", "sip:bad.example.net", 0, 1),
		R("domain", "bad domain", "sip:bad.example.net", 0, 1),
		R("domain", "example.com", "http://bad.example.net", 0, 1),
		R("domain", "example.com", "sip:user@bad.example.net", 0, 1),
		R("domain", "example.com", "sip:bad.example.net?subject=x", 0, 1),
		R("domain", "example.com", "sip:", 0, 1),
		R("domain", "example.com", "sip:ok.example.com", 0, 1),
	};

	statroute_replace(rows, NROWS(rows));
	cr_expect_eq(statroute_count(), 2);
	cr_expect_str_eq(find1("4930", NULL), "sip:good.example.net");
	cr_expect_str_eq(find1("4930", "example.com"), "sip:good.example.net");
	cr_expect_str_eq(find1(NULL, "example.com"), "sip:ok.example.com");
}

Test(statroute, reload_replaces)
{
	static const struct store_route one[] = {R("prefix", "49", "sip:one.example.net", 0, 1)};
	static const struct store_route two[] = {R("prefix", "33", "sip:two.example.net", 0, 1),
						 R("prefix", "34", "sip:two.example.net", 0, 1)};

	cr_expect_eq(statroute_count(), 0);
	cr_expect_str_eq(find1("49", NULL), "none", "nothing loaded yet");
	statroute_replace(one, 1);
	cr_expect_str_eq(find1("49", NULL), "sip:one.example.net");
	statroute_replace(two, 2);
	cr_expect_eq(statroute_count(), 2);
	cr_expect_str_eq(find1("49", NULL), "none");
	cr_expect_str_eq(find1("331", NULL), "sip:two.example.net");
	statroute_replace(NULL, 0);
	cr_expect_eq(statroute_count(), 0);
	cr_expect_str_eq(find1("331", NULL), "none");
}

/* 100k prefixes of 6 to 10 digits, each with its own hop. */
Test(statroute, hundred_thousand_prefixes)
{
	enum { N = 100000 };
	struct store_route *rows = calloc(N, sizeof(*rows));
	char(*match)[16] = calloc(N, 16), (*hop)[48] = calloc(N, 48);
	struct statroute_hops h;
	char num[32], want[48];

	cr_assert(rows && match && hop);
	for (unsigned i = 0; i < N; i++) {
		/* 100000..199999 with 0-4 more digits: all distinct */
		snprintf(match[i], 16, "%u%.*s", 100000 + i, (int)(i % 5), "7777");
		snprintf(hop[i], 48, "sip:gw%u.example.net", i);
		rows[i] = (struct store_route){.id = i + 1,
					       .kind = "prefix",
					       .match = match[i],
					       .next_hop = hop[i],
					       .priority = 0,
					       .weight = 1};
	}
	statroute_replace(rows, N);
	cr_assert_eq(statroute_count(), N);
	for (unsigned i = 0; i < N; i += 97) {
		snprintf(num, sizeof(num), "%s12345", match[i]);
		num[15] = '\0';
		snprintf(want, sizeof(want), "sip:gw%u.example.net", i);
		cr_assert(statroute_find(num, SIP_STR_NULL, &h), "%s", num);
		cr_assert_str_eq(h.uri[0], want, "%s", num);
	}
	cr_expect_not(statroute_find("99999999", SIP_STR_NULL, &h));
	free(rows);
	free(match);
	free(hop);
}

static atomic_bool racing;

static void *reader(void *arg)
{
	struct statroute_hops h;
	unsigned long bad = 0;

	(void)arg;
	while (atomic_load(&racing)) {
		if (statroute_find("4930123", SIP_STR("example.com"), &h) &&
		    strcmp(h.uri[0], "sip:a.example.net") != 0 &&
		    strcmp(h.uri[0], "sip:b.example.net") != 0)
			bad++;
	}
	return (void *)bad;
}

Test(statroute, lookups_during_reloads)
{
	static const struct store_route a[] = {R("prefix", "49", "sip:a.example.net", 0, 1)};
	static const struct store_route b[] = {
		R("domain", "example.com", "sip:b.example.net", 0, 1),
		R("prefix", "4930", "sip:b.example.net", 0, 1)};
	pthread_t t[4];
	void *bad;

	atomic_store(&racing, true);
	for (int i = 0; i < 4; i++)
		cr_assert_eq(pthread_create(&t[i], NULL, reader, NULL), 0);
	for (int i = 0; i < 300; i++)
		statroute_replace(i % 2 ? a : b, i % 2 ? 1 : 2);
	atomic_store(&racing, false);
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], &bad);
		cr_expect_eq((unsigned long)bad, 0);
	}
}

/* ---- call forward ------------------------------------------------------ */

static const char *fwd(const char *user, const char *domain)
{
	static char uri[CALLFWD_URI_MAX];

	if (!callfwd_find(sip_str_cstr(user), sip_str_cstr(domain), uri, sizeof(uri)))
		return "none";
	return uri;
}

Test(callfwd, user_exact_domain_any_case)
{
	static const struct store_forward rows[] = {
		{.aor = "alice@example.com", .target = "sip:bob@example.org"},
		{.aor = "Carol@Example.COM", .target = "sips:voicemail.example.com;user=carol"},
		{.aor = "+4930123@example.com", .target = "sip:+4930999@gw.example.net;user=phone"},
		{.aor = "nobody", .target = "sip:x@example.net"},
		{.aor = "dave@example.com", .target = "mailto:dave@example.com"},
	};

	callfwd_replace(rows, NROWS(rows));
	cr_expect_eq(callfwd_count(), 3, "the AOR without a domain and the mailto: are left out");
	cr_expect_str_eq(fwd("alice", "example.com"), "sip:bob@example.org");
	cr_expect_str_eq(fwd("alice", "EXAMPLE.Com"), "sip:bob@example.org");
	cr_expect_str_eq(fwd("Alice", "example.com"), "none", "users compare exactly");
	cr_expect_str_eq(fwd("Carol", "example.com"), "sips:voicemail.example.com;user=carol");
	cr_expect_str_eq(fwd("carol", "example.com"), "none");
	cr_expect_str_eq(fwd("+4930123", "example.com"), "sip:+4930999@gw.example.net;user=phone");
	cr_expect_str_eq(fwd("alice", "example.org"), "none");
	cr_expect_str_eq(fwd("dave", "example.com"), "none");
	cr_expect_str_eq(fwd("", "example.com"), "none");
	cr_expect_str_eq(fwd("alice", ""), "none");
}

Test(callfwd, room_and_reload)
{
	static const struct store_forward one[] = {
		{.aor = "alice@example.com", .target = "sip:bob@example.org"}};
	char uri[20];

	callfwd_replace(one, 1);
	cr_expect_not(callfwd_find(SIP_STR("alice"), SIP_STR("example.com"), uri, 19),
		      "19 characters need 20 bytes");
	cr_expect(callfwd_find(SIP_STR("alice"), SIP_STR("example.com"), uri, 20));
	cr_expect_str_eq(uri, "sip:bob@example.org");
	callfwd_replace(NULL, 0);
	cr_expect_eq(callfwd_count(), 0);
	cr_expect_str_eq(fwd("alice", "example.com"), "none");
}
