/*
 * Unit tests for sip_uri: SIP/SIPS/tel parsing field by field, the
 * refusals, parameter lookup, escaping and comparison (RFC 3261 §19.1.4,
 * whose examples are reproduced in uri_equal_*).
 *
 * Every URI is parsed from a copy that ends at an inaccessible page
 * (guarded()), so a parser reading past the slice crashes the test.
 */
#include "sip/sip_uri.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>

/* Copies s[0..n) so that it ends where an inaccessible page begins; the
 * copy is read-only. Not freed: each test runs in its own process. */
static struct sip_str guarded(const char *s, size_t n)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	size_t data = (n + pg - 1) / pg * pg;
	char *map =
		mmap(NULL, data + pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *dst;

	cr_assert(map != MAP_FAILED);
	dst = map + data - n;
	memcpy(dst, s, n);
	cr_assert(data == 0 || mprotect(map, data, PROT_READ) == 0);
	cr_assert(mprotect(map + data, pg, PROT_NONE) == 0);
	return sip_str_make(dst, n);
}

#define G(lit) guarded((lit), sizeof(lit) - 1)

#define assert_slice(s, want)                                                                      \
	cr_assert(sip_str_eq((s), sip_str_cstr(want)), "%s: expected \"%s\", got \"%.*s\"", #s,    \
		  (want), (int)(s).len, (s).p ? (s).p : "")

static struct sip_uri parse_ok(struct sip_str s)
{
	struct sip_uri u;
	int err = sip_uri_parse(s, &u);

	cr_assert_eq(err, 0, "\"%.*s\" should parse, got %d", (int)s.len, s.p, err);
	cr_assert(sip_str_eq(u.raw, s));
	return u;
}

Test(sip_uri, basic_sip)
{
	struct sip_uri u = parse_ok(G("sip:alice@atlanta.example.com"));

	cr_assert_eq(u.scheme, SIP_URI_SIP);
	cr_assert(u.has_user);
	assert_slice(u.user, "alice");
	cr_assert_eq(u.password.len, 0);
	assert_slice(u.host, "atlanta.example.com");
	cr_assert_not(u.host_ipv6);
	cr_assert_eq(u.port, 0);
	cr_assert_eq(u.params.len, 0);
	cr_assert_eq(u.headers.len, 0);
	cr_assert_eq(u.transport.len, 0);
	cr_assert_eq(u.maddr.len, 0);
	cr_assert_eq(u.user_param.len, 0);
	cr_assert_not(u.lr);
}

Test(sip_uri, all_components)
{
	struct sip_uri u =
		parse_ok(G("sips:alice:secret%20word@Atlanta.Example.COM:5061;transport=tcp"
			   ";maddr=239.255.255.1;user=ip;lr;x-foo=bar?subject=project%20x"
			   "&priority=urgent"));

	cr_assert_eq(u.scheme, SIP_URI_SIPS);
	assert_slice(u.user, "alice");
	assert_slice(u.password, "secret%20word");
	assert_slice(u.host, "Atlanta.Example.COM");
	cr_assert_eq(u.port, 5061);
	assert_slice(u.params, ";transport=tcp;maddr=239.255.255.1;user=ip;lr;x-foo=bar");
	assert_slice(u.transport, "tcp");
	assert_slice(u.maddr, "239.255.255.1");
	assert_slice(u.user_param, "ip");
	cr_assert(u.lr);
	assert_slice(u.headers, "subject=project%20x&priority=urgent");
}

Test(sip_uri, user_forms)
{
	struct sip_uri u;

	/* A telephone-subscriber as user, with user=phone (§19.1.6). */
	u = parse_ok(G("sip:+1-212-555-1212:1234@gateway.com;user=phone"));
	assert_slice(u.user, "+1-212-555-1212");
	assert_slice(u.password, "1234");
	assert_slice(u.user_param, "phone");

	/* ';' '?' '/' '&' '=' '+' '$' ',' are user-unreserved (RFC 4475 §3.1.1.11). */
	u = parse_ok(G("sip:user;par=u%40example.net@example.com"));
	assert_slice(u.user, "user;par=u%40example.net");
	assert_slice(u.host, "example.com");
	cr_assert_eq(u.params.len, 0);
	u = parse_ok(G("sip:a&b=c+d$e,f?g/h@example.com"));
	assert_slice(u.user, "a&b=c+d$e,f?g/h");

	/* Escapes stay escaped, including an escaped NUL (RFC 4475 §3.1.1.4). */
	u = parse_ok(G("sip:%61lice%00@example.com"));
	assert_slice(u.user, "%61lice%00");

	/* Empty password is allowed; marks are unreserved. */
	u = parse_ok(G("sip:-_.!~*'()@example.com"));
	assert_slice(u.user, "-_.!~*'()");
	u = parse_ok(G("sip:user:@example.com"));
	assert_slice(u.user, "user");
	cr_assert_eq(u.password.len, 0);
}

Test(sip_uri, hosts)
{
	struct sip_uri u;

	u = parse_ok(G("sip:192.0.2.4"));
	cr_assert_not(u.has_user);
	assert_slice(u.host, "192.0.2.4");
	u = parse_ok(G("sip:010.000.002.004:5060"));
	assert_slice(u.host, "010.000.002.004");
	cr_assert_eq(u.port, 5060);
	u = parse_ok(G("sip:host.example.com."));
	assert_slice(u.host, "host.example.com.");
	u = parse_ok(G("sip:a-b.c-d.x1"));
	assert_slice(u.host, "a-b.c-d.x1");
	u = parse_ok(G("sip:localhost"));
	assert_slice(u.host, "localhost");

	u = parse_ok(G("sip:bob@[2001:db8::10]:5070;lr"));
	assert_slice(u.host, "[2001:db8::10]");
	cr_assert(u.host_ipv6);
	cr_assert_eq(u.port, 5070);
	cr_assert(u.lr);
	u = parse_ok(G("sip:[::ffff:192.0.2.1]"));
	assert_slice(u.host, "[::ffff:192.0.2.1]");
	cr_assert(u.host_ipv6);
	u = parse_ok(G("sip:[2001:0db8:0000:0000:0000:0000:0000:0001]"));
	cr_assert(u.host_ipv6);
}

Test(sip_uri, ports)
{
	struct sip_uri u;

	u = parse_ok(G("sip:h:1"));
	cr_assert_eq(u.port, 1);
	u = parse_ok(G("sip:h:65535"));
	cr_assert_eq(u.port, 65535);
	u = parse_ok(G("sip:h:0005060;lr"));
	cr_assert_eq(u.port, 5060);
}

Test(sip_uri, scheme_case_and_other_schemes)
{
	struct sip_uri u;

	u = parse_ok(G("SIP:Bob@EXAMPLE.com"));
	cr_assert_eq(u.scheme, SIP_URI_SIP);
	assert_slice(u.user, "Bob");
	u = parse_ok(G("SiPs:example.com"));
	cr_assert_eq(u.scheme, SIP_URI_SIPS);

	u = parse_ok(G("mailto:bob@example.com"));
	cr_assert_eq(u.scheme, SIP_URI_OTHER);
	cr_assert_eq(u.host.len, 0);
	u = parse_ok(G("urn:service:sos"));
	cr_assert_eq(u.scheme, SIP_URI_OTHER);
	u = parse_ok(G("http://example.com/a?b=c"));
	cr_assert_eq(u.scheme, SIP_URI_OTHER);
	u = parse_ok(G("x-my.scheme+1:anything"));
	cr_assert_eq(u.scheme, SIP_URI_OTHER);
	/* "sip" is only the whole scheme: "sipx:" is another scheme. */
	u = parse_ok(G("sipx:a@b"));
	cr_assert_eq(u.scheme, SIP_URI_OTHER);
}

Test(sip_uri, tel)
{
	struct sip_uri u;

	u = parse_ok(G("tel:+1-201-555-0123"));
	cr_assert_eq(u.scheme, SIP_URI_TEL);
	assert_slice(u.user, "+1-201-555-0123");
	cr_assert_eq(u.host.len, 0);
	cr_assert_not(u.has_user);
	cr_assert_eq(u.params.len, 0);

	u = parse_ok(G("tel:7042;phone-context=example.com"));
	assert_slice(u.user, "7042");
	assert_slice(u.params, ";phone-context=example.com");
	struct sip_str v;
	cr_assert(sip_uri_param(&u, "phone-context", &v));
	assert_slice(v, "example.com");

	u = parse_ok(G("TEL:+44(0)20.7946.0000;ext=22"));
	cr_assert_eq(u.scheme, SIP_URI_TEL);
	assert_slice(u.user, "+44(0)20.7946.0000");
	u = parse_ok(G("tel:*21#;phone-context=+1"));
	assert_slice(u.user, "*21#");
	u = parse_ok(G("tel:0a1B;phone-context=example.com"));
	assert_slice(u.user, "0a1B");
}

static void assert_bad(struct sip_str s)
{
	struct sip_uri u;

	cr_assert_eq(sip_uri_parse(s, &u), -EBADMSG, "\"%.*s\" should be refused", (int)s.len, s.p);
}

#define BAD(lit) assert_bad(G(lit))

Test(sip_uri, refused_scheme_and_structure)
{
	BAD("");
	BAD("sip");
	BAD("sip:");
	BAD(":x");
	BAD("1sip:x");
	BAD("s p:x");
	BAD("<sip:a@b>");
	BAD(" sip:a@b");
	BAD("sip:a@b ");
	BAD("sip:a@b\r\n");
	BAD("sip:a b@c");
	BAD("mailto:");
	BAD("mailto:a b");
	BAD("mailto:a\tb");
	BAD("mailto:<x>");
	BAD("http://\x01");
	BAD("sip:a\0b@host");
	BAD("sip:host\0");
}

Test(sip_uri, refused_userinfo)
{
	BAD("sip:@host");
	BAD("sip::pw@host");
	BAD("sip:a@b@c");
	BAD("sip:us%4@host");
	BAD("sip:us%zzer@host");
	BAD("sip:user%");
	BAD("sip:user%4");
	BAD("sip:us\"er@host");
	BAD("sip:user:pa:ss@host");
	BAD("sip:user:p;w@host");
	BAD("sip:user:%g0@host");
	BAD("sip:user@");
}

Test(sip_uri, refused_hosts)
{
	BAD("sip:user@:5060");
	BAD("sip:-host.com");
	BAD("sip:host-.com");
	BAD("sip:a..b");
	BAD("sip:.a");
	BAD("sip:.");
	BAD("sip:1.2.3");
	BAD("sip:1.2.3.4.5");
	BAD("sip:256.1.1.1");
	BAD("sip:1.2.3.4.");
	BAD("sip:1234.1.1.1");
	BAD("sip:example.123");
	BAD("sip:host_name.com");
	BAD("sip:host!");
	BAD("sip:[::1");
	BAD("sip:[]");
	BAD("sip:[1:2:3]");
	BAD("sip:[gggg::1]");
	BAD("sip:[::1]x");
	BAD("sip:[192.0.2.1]");
	BAD("sip:[fe80::1%25eth0]");
	BAD("sip:[::1:5060");
	BAD("sip:[0123456789012345678901234567890123456789012345678901234567890]");
}

Test(sip_uri, refused_ports)
{
	BAD("sip:host:");
	BAD("sip:host:0");
	BAD("sip:host:65536");
	BAD("sip:host:99999999999999999999");
	BAD("sip:host:12a");
	BAD("sip:host:-1");
	BAD("sip:host: 5060");
	BAD("sip:[::1]:");
}

Test(sip_uri, refused_params_and_headers)
{
	BAD("sip:host;");
	BAD("sip:host;=x");
	BAD("sip:host;a=b;");
	BAD("sip:host;a=\"b\"");
	BAD("sip:host;a=%zz");
	BAD("sip:host;a b");
	BAD("sip:host?");
	BAD("sip:host?a");
	BAD("sip:host?=b");
	BAD("sip:host?a=b&");
	BAD("sip:host?a=b&&c=d");
	BAD("sip:host?a=%");
	BAD("sip:host?a=<b>");
	BAD("sip:host;lr?a=b=c");
	parse_ok(G("sip:host;lr?a=b?c")); /* '?' is hnv-unreserved */
}

Test(sip_uri, refused_tel)
{
	BAD("tel:");
	BAD("tel:+");
	BAD("tel:+-()");
	BAD("tel:+1x");
	BAD("tel:+1*2");
	BAD("tel:12 34");
	BAD("tel:12?x=y");
	BAD("tel:+1;=x");
	BAD("tel:+1;");
	BAD("tel:;phone-context=x");
}

Test(sip_uri, guarded_truncations_do_not_overread)
{
	/* Each of these stops at the guard page mid-token. */
	BAD("sip:user@host:");
	BAD("sip:a%4");
	BAD("sip:a%");
	BAD("sip:[::1");
	BAD("sip:[");
	BAD("sip:h;x=%1");
	BAD("sip:h?x");
	BAD("sip:h?x=%");
	BAD("s");
	BAD("tel:+");
	parse_ok(G("sip:h;x"));
	parse_ok(G("sip:h?x="));
	parse_ok(G("sip:a@h"));
}

Test(sip_uri, params_lookup)
{
	struct sip_uri u = parse_ok(G("sip:h;Transport=TCP;lr;x=1;empty="));
	struct sip_str v;

	cr_assert(sip_uri_param(&u, "transport", &v));
	assert_slice(v, "TCP");
	assert_slice(u.transport, "TCP");
	cr_assert(sip_uri_param(&u, "LR", &v));
	cr_assert_eq(v.len, 0);
	cr_assert(sip_uri_param(&u, "x", NULL));
	cr_assert(sip_uri_param(&u, "empty", &v));
	cr_assert_eq(v.len, 0);
	cr_assert_not(sip_uri_param(&u, "maddr", &v));
	cr_assert_not(sip_uri_param(&u, "l", &v));
	cr_assert_not(sip_uri_param(&u, "lrx", &v));

	/* First occurrence wins for the remembered parameters. */
	u = parse_ok(G("sip:h;transport=udp;transport=tcp"));
	assert_slice(u.transport, "udp");
}

Test(sip_uri, param_find_generic)
{
	struct sip_str v;

	/* Header parameters: SWS around ';' and '=', quoted values kept. */
	cr_assert(sip_param_find(G(" ; tag = abc ; q=0.5"), "TAG", &v));
	assert_slice(v, "abc");
	cr_assert(sip_param_find(G("tag=abc;q=0.5"), "q", &v));
	assert_slice(v, "0.5");
	cr_assert(sip_param_find(G(";x=\"a;b=c\";b=d"), "b", &v));
	assert_slice(v, "d");
	cr_assert(sip_param_find(G(";x=\"a;b=c\";b=d"), "x", &v));
	assert_slice(v, "\"a;b=c\"");
	cr_assert(sip_param_find(G(";rport;branch=z9"), "rport", &v));
	cr_assert_eq(v.len, 0);
	cr_assert_not(sip_param_find(G(";;;"), "x", &v));
	cr_assert_not(sip_param_find(G(""), "x", &v));
	cr_assert_not(sip_param_find(G(";x=\"unterminated;y=1"), "y", &v));
	cr_assert(sip_param_find(G(";=1;y=2"), "y", &v));
	assert_slice(v, "2");
	cr_assert(sip_param_find(G(";a\r\n ;b=1"), "b", &v));
	assert_slice(v, "1");
	cr_assert(sip_param_find(G(";abc"), "abc", NULL));
}

Test(sip_uri, unescape)
{
	char buf[8];

	cr_assert_eq(sip_unescape(G("a%41b"), buf, sizeof(buf)), 3);
	cr_assert_eq(memcmp(buf, "aAb", 3), 0);
	cr_assert_eq(sip_unescape(G("%00%7e%7E"), buf, sizeof(buf)), 3);
	cr_assert_eq(memcmp(buf, "\0~~", 3), 0);
	cr_assert_eq(sip_unescape(G(""), buf, sizeof(buf)), 0);
	cr_assert_eq(sip_unescape(G("12345678"), buf, sizeof(buf)), 8);
	cr_assert_eq(sip_unescape(G("%31%32%33%34%35%36%37%38"), buf, sizeof(buf)), 8);
	cr_assert_eq(memcmp(buf, "12345678", 8), 0);
	cr_assert_eq(sip_unescape(G("123456789"), buf, sizeof(buf)), -ENOSPC);
	cr_assert_eq(sip_unescape(G("%4"), buf, sizeof(buf)), -EBADMSG);
	cr_assert_eq(sip_unescape(G("%"), buf, sizeof(buf)), -EBADMSG);
	cr_assert_eq(sip_unescape(G("%zz"), buf, sizeof(buf)), -EBADMSG);
	cr_assert_eq(sip_unescape(G("a%g1"), buf, sizeof(buf)), -EBADMSG);
}

Test(sip_uri, default_port)
{
	struct sip_uri u;

	u = parse_ok(G("sip:h"));
	cr_assert_eq(sip_uri_default_port(&u), 5060);
	u = parse_ok(G("sips:h"));
	cr_assert_eq(sip_uri_default_port(&u), 5061);
	u = parse_ok(G("sip:h;transport=TLS"));
	cr_assert_eq(sip_uri_default_port(&u), 5061);
	u = parse_ok(G("sip:h:5080;transport=tcp"));
	cr_assert_eq(sip_uri_default_port(&u), 5060);
}

Test(sip_uri, host_check)
{
	cr_assert_eq(sip_host_check(G("example.com")), SIP_HOST_NAME);
	cr_assert_eq(sip_host_check(G("EXAMPLE.COM.")), SIP_HOST_NAME);
	cr_assert_eq(sip_host_check(G("a")), SIP_HOST_NAME);
	cr_assert_eq(sip_host_check(G("1a.example.com")), SIP_HOST_NAME);
	cr_assert_eq(sip_host_check(G("192.0.2.1")), SIP_HOST_IPV4);
	cr_assert_eq(sip_host_check(G("0.0.0.0")), SIP_HOST_IPV4);
	cr_assert_eq(sip_host_check(G("255.255.255.255")), SIP_HOST_IPV4);
	cr_assert_eq(sip_host_check(G("[::1]")), SIP_HOST_IPV6);
	cr_assert_eq(sip_host_check(G("")), -EBADMSG);
	cr_assert_eq(sip_host_check(G("::1")), -EBADMSG);
	cr_assert_eq(sip_host_check(G("[")), -EBADMSG);
	cr_assert_eq(sip_host_check(G("[::1")), -EBADMSG);
	cr_assert_eq(sip_host_check(G("1.2.3.256")), -EBADMSG);
	cr_assert_eq(sip_host_check(G("a.-b")), -EBADMSG);
	cr_assert_eq(sip_host_check(G("a b")), -EBADMSG);
	cr_assert_eq(sip_host_check(G("a:1")), -EBADMSG);

	cr_assert(sip_ipv6_check(G("2001:db8::1")));
	cr_assert(sip_ipv6_check(G("::")));
	cr_assert_not(sip_ipv6_check(G("[::1]")));
	cr_assert_not(sip_ipv6_check(G("192.0.2.1")));
	cr_assert_not(sip_ipv6_check(G("")));
	cr_assert_not(sip_ipv6_check(G("2001:db8::1::2")));
	cr_assert_not(sip_ipv6_check(G("0000:0000:0000:0000:0000:0000:0000:0000:0000:0000")));
}

static bool uri_eq(struct sip_str a, struct sip_str b)
{
	struct sip_uri ua = parse_ok(a), ub = parse_ok(b);
	bool ab = sip_uri_equal(&ua, &ub), ba = sip_uri_equal(&ub, &ua);

	cr_assert_eq(ab, ba, "equality must be symmetric: \"%.*s\" \"%.*s\"", (int)a.len, a.p,
		     (int)b.len, b.p);
	return ab;
}

#define EQ(a, b)  cr_assert(uri_eq(G(a), G(b)), "%s == %s", a, b)
#define NEQ(a, b) cr_assert_not(uri_eq(G(a), G(b)), "%s != %s", a, b)

Test(sip_uri, uri_equal_rfc3261_examples)
{
	/* §19.1.4, the equivalent pairs */
	EQ("sip:%61lice@atlanta.com;transport=TCP", "sip:alice@AtLanTa.CoM;Transport=tcp");
	EQ("sip:carol@chicago.com", "sip:carol@chicago.com;newparam=5");
	EQ("sip:carol@chicago.com", "sip:carol@chicago.com;security=on");
	EQ("sip:carol@chicago.com;newparam=5", "sip:carol@chicago.com;security=on");
	EQ("sip:biloxi.com;transport=tcp;method=REGISTER?to=sip:bob%40biloxi.com",
	   "sip:biloxi.com;method=REGISTER;transport=tcp?to=sip:bob%40biloxi.com");
	EQ("sip:alice@atlanta.com?subject=project%20x&priority=urgent",
	   "sip:alice@atlanta.com?priority=urgent&subject=project%20x");

	/* §19.1.4, the non-equivalent pairs */
	NEQ("SIP:ALICE@AtLanTa.CoM;Transport=udp", "sip:alice@AtLanTa.CoM;Transport=UDP");
	NEQ("sip:bob@biloxi.com", "sip:bob@biloxi.com:5060");
	NEQ("sip:bob@biloxi.com", "sip:bob@biloxi.com;transport=udp");
	NEQ("sip:bob@biloxi.com", "sip:bob@biloxi.com:6000;transport=tcp");
	NEQ("sip:carol@chicago.com", "sip:carol@chicago.com?Subject=next%20meeting");
	NEQ("sip:bob@phone21.boxesbybob.com", "sip:bob@192.0.2.4");
	NEQ("sip:carol@chicago.com;security=on", "sip:carol@chicago.com;security=off");
}

Test(sip_uri, uri_equal_more)
{
	EQ("sip:a@h", "sip:a@h");
	EQ("sip:[::1]", "sip:[0:0::1]");
	EQ("sip:[2001:DB8::1]:5060", "sip:[2001:db8:0::1]:5060");
	NEQ("sip:[::1]", "sip:[::2]");
	NEQ("sip:[::1]", "sip:localhost");
	NEQ("sip:a@h", "sips:a@h");
	NEQ("sip:a@h", "sip:h");
	NEQ("sip:a:pw@h", "sip:a:PW@h");
	EQ("sip:a:p%77@h", "sip:a:pw@h");
	NEQ("sip:a:pw@h", "sip:a@h");
	NEQ("sip:a@h;user=phone", "sip:a@h");
	NEQ("sip:a@h;ttl=1", "sip:a@h");
	NEQ("sip:a@h;maddr=1.2.3.4", "sip:a@h");
	NEQ("sip:a@h;method=INVITE", "sip:a@h");
	EQ("sip:a@h;lr", "sip:a@h");
	EQ("sip:a@h;maddr=X.COM", "sip:a@h;MADDR=x.com");
	NEQ("sip:a@h;x=1", "sip:a@h;x=2");
	NEQ("sip:a@h?x=1", "sip:a@h?x=2");
	NEQ("sip:a@h?x=1&y=2", "sip:a@h?x=1");
	NEQ("sip:a@h?x=1&x=1", "sip:a@h?x=1&y=1");
	EQ("sip:a@h?X=1", "sip:a@h?x=1");
	NEQ("sip:a@h?x=A", "sip:a@h?x=a");
	/* Escaped and unescaped forms of a byte above 0x7f compare equal. */
	EQ("sip:%C3%A9@h", "sip:%c3%a9@h");
	EQ("tel:+1-201-555-0123", "TEL:+1-201-555-0123");
	NEQ("tel:+1-201-555-0123", "tel:+1-201-555-0124");
	NEQ("tel:+1", "sip:+1@h");
	EQ("mailto:a@b", "MAILTO:a@b");
}
