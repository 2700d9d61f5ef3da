/*
 * Unit tests for netaddr: numeric parsing and formatting of IPv4 and IPv6
 * socket addresses, equality, hashing and the transport names.
 */
#include "net/netaddr.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

/* Parses s and formats it back; the text must come back as expected. */
static void round_trip(const char *s, const char *expect, int family, uint16_t port)
{
	struct netaddr a;
	char buf[NETADDR_STRLEN];
	size_t n;

	cr_assert_eq(netaddr_parse(s, &a), 0, "parse '%s'", s);
	cr_assert_eq(netaddr_family(&a), family, "family of '%s'", s);
	cr_assert_eq(netaddr_port(&a), port, "port of '%s'", s);
	n = netaddr_format(&a, buf, sizeof(buf));
	cr_assert_str_eq(buf, expect);
	cr_assert_eq(n, strlen(expect));
}

Test(netaddr, round_trip_v4)
{
	round_trip("127.0.0.1:5060", "127.0.0.1:5060", AF_INET, 5060);
	round_trip("0.0.0.0:1", "0.0.0.0:1", AF_INET, 1);
	round_trip("255.255.255.255:65535", "255.255.255.255:65535", AF_INET, 65535);
	round_trip("192.0.2.1:0", "192.0.2.1:0", AF_INET, 0);
}

Test(netaddr, round_trip_v6)
{
	round_trip("[::1]:5060", "[::1]:5060", AF_INET6, 5060);
	round_trip("[2001:DB8:0:0::1]:5061", "[2001:db8::1]:5061", AF_INET6, 5061);
	round_trip("[::]:5060", "[::]:5060", AF_INET6, 5060);
	round_trip("[::ffff:192.0.2.1]:5060", "[::ffff:192.0.2.1]:5060", AF_INET6, 5060);
	round_trip("[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535",
		   "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535", AF_INET6, 65535);
}

Test(netaddr, parse_sets_sockaddr)
{
	struct netaddr a;

	cr_assert_eq(netaddr_parse("10.1.2.3:5060", &a), 0);
	cr_assert_eq(a.len, sizeof(struct sockaddr_in));
	cr_assert_eq(a.u.in.sin_family, AF_INET);
	cr_assert_eq(a.u.in.sin_addr.s_addr, htonl(0x0a010203));
	cr_assert_eq(a.u.in.sin_port, htons(5060));

	cr_assert_eq(netaddr_parse("[::1]:5060", &a), 0);
	cr_assert_eq(a.len, sizeof(struct sockaddr_in6));
	cr_assert(IN6_IS_ADDR_LOOPBACK(&a.u.in6.sin6_addr));
}

Test(netaddr, parse_rejects)
{
	static const char *const bad[] = {
		"",
		"127.0.0.1",        /* no port */
		"127.0.0.1:",       /* empty port */
		":5060",            /* no host */
		"127.0.0.1:65536",  /* port too big */
		"127.0.0.1:123456", /* six digits */
		"127.0.0.1:50a",    /* not a number */
		"127.0.0.1:-1",     /* sign */
		"127.0.0.1: 5060",  /* blank */
		"localhost:5060",   /* host name */
		"256.0.0.1:5060",   /* octet out of range */
		"1.2.3:5060",       /* three octets */
		"::1:5060",         /* IPv6 without brackets */
		"[::1]",            /* no port */
		"[::1]5060",        /* no colon */
		"[::1:5060",        /* no ']' */
		"[1.2.3.4]:5060",   /* brackets around IPv4 */
		"[::g]:5060",       /* bad IPv6 */
		"[1:2:3:4:5:6:7:8:9]:5060",
		"[fe80::1%eth0]:5060", /* zone ids are not supported */
	};
	struct netaddr a;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_expect_eq(netaddr_parse(bad[i], &a), -EINVAL, "'%s' must be refused", bad[i]);
}

Test(netaddr, from_host)
{
	struct netaddr a, b;
	char buf[NETADDR_STRLEN];

	cr_assert_eq(netaddr_from_host(SIP_STR("192.0.2.7"), 5070, &a), 0);
	netaddr_format(&a, buf, sizeof(buf));
	cr_assert_str_eq(buf, "192.0.2.7:5070");

	cr_assert_eq(netaddr_from_host(SIP_STR("[2001:db8::7]"), 5060, &a), 0);
	cr_assert_eq(netaddr_from_host(SIP_STR("2001:db8::7"), 5060, &b), 0);
	cr_assert(netaddr_equal(&a, &b));
	netaddr_format(&a, buf, sizeof(buf));
	cr_assert_str_eq(buf, "[2001:db8::7]:5060");

	/* A slice, not a C string: bytes past len are not part of the host. */
	cr_assert_eq(netaddr_from_host(sip_str_make("10.0.0.1junk", 8), 1, &a), 0);
	netaddr_format(&a, buf, sizeof(buf));
	cr_assert_str_eq(buf, "10.0.0.1:1");

	cr_assert_eq(netaddr_from_host(SIP_STR("example.com"), 5060, &a), -EINVAL);
	cr_assert_eq(netaddr_from_host(SIP_STR("[192.0.2.1]"), 5060, &a), -EINVAL);
	cr_assert_eq(netaddr_from_host(SIP_STR("[::1"), 5060, &a), -EINVAL);
	cr_assert_eq(netaddr_from_host(SIP_STR("::1]"), 5060, &a), -EINVAL);
	cr_assert_eq(netaddr_from_host(SIP_STR("[]"), 5060, &a), -EINVAL);
	cr_assert_eq(netaddr_from_host(SIP_STR(""), 5060, &a), -EINVAL);
	cr_assert_eq(netaddr_from_host(sip_str_make("1.2.3.4\0", 8), 5060, &a), -EINVAL);
}

Test(netaddr, format_host)
{
	struct netaddr a;
	char buf[NETADDR_STRLEN];

	cr_assert_eq(netaddr_parse("[2001:db8::1]:5060", &a), 0);
	cr_assert_eq(netaddr_format_host(&a, buf, sizeof(buf), true), strlen("[2001:db8::1]"));
	cr_assert_str_eq(buf, "[2001:db8::1]");
	cr_assert_eq(netaddr_format_host(&a, buf, sizeof(buf), false), strlen("2001:db8::1"));
	cr_assert_str_eq(buf, "2001:db8::1");

	cr_assert_eq(netaddr_parse("192.0.2.1:5060", &a), 0);
	netaddr_format_host(&a, buf, sizeof(buf), true);
	cr_assert_str_eq(buf, "192.0.2.1", "no brackets for IPv4");
}

Test(netaddr, format_truncates)
{
	struct netaddr a;
	char buf[8];

	memset(buf, 'x', sizeof(buf));
	cr_assert_eq(netaddr_parse("192.0.2.123:5060", &a), 0);
	cr_assert_eq(netaddr_format(&a, buf, sizeof(buf)), 7);
	cr_assert_str_eq(buf, "192.0.2");
	cr_assert_eq(netaddr_format(&a, buf, 0), 0);
	cr_assert_eq(netaddr_format_host(&a, buf, 1, false), 0);
	cr_assert_str_eq(buf, "");
}

Test(netaddr, port_and_any)
{
	struct netaddr a;

	cr_assert_eq(netaddr_parse("0.0.0.0:5060", &a), 0);
	cr_assert(netaddr_is_any(&a));
	netaddr_set_port(&a, 5080);
	cr_assert_eq(netaddr_port(&a), 5080);
	cr_assert_eq(netaddr_parse("[::]:5060", &a), 0);
	cr_assert(netaddr_is_any(&a));
	netaddr_set_port(&a, 1);
	cr_assert_eq(netaddr_port(&a), 1);
	cr_assert_eq(netaddr_parse("127.0.0.1:5060", &a), 0);
	cr_assert_not(netaddr_is_any(&a));
	cr_assert_eq(netaddr_parse("[::1]:5060", &a), 0);
	cr_assert_not(netaddr_is_any(&a));

	memset(&a, 0, sizeof(a));
	cr_assert_eq(netaddr_family(&a), AF_UNSPEC);
	cr_assert_eq(netaddr_port(&a), 0);
	cr_assert_not(netaddr_is_any(&a));
}

Test(netaddr, equal_and_hash)
{
	struct netaddr a, b, c, d, e;

	cr_assert_eq(netaddr_parse("192.0.2.1:5060", &a), 0);
	cr_assert_eq(netaddr_from_host(SIP_STR("192.0.2.1"), 5060, &b), 0);
	cr_assert_eq(netaddr_parse("192.0.2.1:5061", &c), 0);
	cr_assert_eq(netaddr_parse("192.0.2.2:5060", &d), 0);
	cr_assert_eq(netaddr_parse("[::ffff:192.0.2.1]:5060", &e), 0);

	/* Padding must not matter: b is built another way, with junk around. */
	memset(&b.u.in.sin_zero, 0xa5, sizeof(b.u.in.sin_zero));
	cr_assert(netaddr_equal(&a, &b));
	cr_assert_eq(netaddr_hash(&a), netaddr_hash(&b));

	cr_assert_not(netaddr_equal(&a, &c), "port differs");
	cr_assert(netaddr_equal_host(&a, &c), "same host, other port");
	cr_assert_not(netaddr_equal(&a, &d));
	cr_assert_not(netaddr_equal_host(&a, &d));
	cr_assert_not(netaddr_equal(&a, &e), "IPv4 and IPv4-mapped IPv6 are two families");
	cr_assert_not(netaddr_equal_host(&a, &e));

	cr_assert_neq(netaddr_hash(&a), netaddr_hash(&c));
	cr_assert_neq(netaddr_hash(&a), netaddr_hash(&d));
	cr_assert_neq(netaddr_hash(&a), netaddr_hash(&e));

	cr_assert_eq(netaddr_parse("[2001:db8::1]:5060", &a), 0);
	cr_assert_eq(netaddr_parse("[2001:0db8:0:0:0:0:0:1]:5060", &b), 0);
	b.u.in6.sin6_flowinfo = htonl(7); /* not part of the address */
	cr_assert(netaddr_equal(&a, &b));
	cr_assert_eq(netaddr_hash(&a), netaddr_hash(&b));
	b.u.in6.sin6_scope_id = 2;
	cr_assert_not(netaddr_equal_host(&a, &b), "another scope is another host");
}

Test(netaddr, hash_spreads_low_bits)
{
	/* Callers take hash % n; consecutive ports and addresses must not all
	 * land in a few buckets. */
	unsigned buckets[8] = {0};
	struct netaddr a;

	cr_assert_eq(netaddr_parse("10.0.0.1:5060", &a), 0);
	for (unsigned i = 0; i < 800; i++) {
		a.u.in.sin_addr.s_addr = htonl(0x0a000000u + i / 8);
		netaddr_set_port(&a, (uint16_t)(5060 + i % 8));
		buckets[netaddr_hash(&a) % 8]++;
	}
	for (unsigned i = 0; i < 8; i++)
		cr_expect(buckets[i] > 60 && buckets[i] < 140, "bucket %u holds %u of 800", i,
			  buckets[i]);
}

Test(netaddr, proto)
{
	enum sip_proto p = SIP_PROTO__COUNT;

	cr_assert_eq(sip_proto_parse(SIP_STR("udp"), &p), 0);
	cr_assert_eq(p, SIP_PROTO_UDP);
	cr_assert_eq(sip_proto_parse(SIP_STR("TCP"), &p), 0);
	cr_assert_eq(p, SIP_PROTO_TCP);
	cr_assert_eq(sip_proto_parse(SIP_STR("Tls"), &p), 0);
	cr_assert_eq(p, SIP_PROTO_TLS);
	cr_assert_eq(sip_proto_parse(SIP_STR("sctp"), &p), -EINVAL);
	cr_assert_eq(sip_proto_parse(SIP_STR("ud"), &p), -EINVAL);
	cr_assert_eq(sip_proto_parse(SIP_STR("udpx"), &p), -EINVAL);
	cr_assert_eq(sip_proto_parse(SIP_STR(""), &p), -EINVAL);

	cr_assert_str_eq(sip_proto_name(SIP_PROTO_TLS), "tls");
	cr_assert_str_eq(sip_proto_via_name(SIP_PROTO_UDP), "UDP");
	cr_assert_str_eq(sip_proto_via_name(SIP_PROTO_TCP), "TCP");
	cr_assert(sip_proto_is_stream(SIP_PROTO_TCP));
	cr_assert_not(sip_proto_is_stream(SIP_PROTO_UDP));
}
