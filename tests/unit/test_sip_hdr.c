/*
 * Unit tests for sip_hdr: comma lists, Via, name-addr/addr-spec (From,
 * To, Contact, Route), q-values, CSeq, token lists and digest
 * credentials, including folded LWS and the malformed forms of RFC 4475
 * §3.1.2 that concern header bodies.
 *
 * Every value is parsed from a copy that ends at an inaccessible page
 * (guarded()), so reading past the slice crashes the test.
 */
#include "sip/sip_hdr.h"

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

/* --- comma lists ------------------------------------------------------ */

/* Splits s and checks the elements against want[] (NULL-terminated). */
static void assert_list(struct sip_str s, const char *const *want)
{
	struct sip_str item;
	size_t i = 0;

	while (sip_list_next(&s, &item)) {
		cr_assert_not_null(want[i], "extra element \"%.*s\"", (int)item.len, item.p);
		assert_slice(item, want[i]);
		i++;
	}
	cr_assert_null(want[i], "missing element \"%s\"", want[i]);
	cr_assert_eq(s.len, 0, "cursor consumed");
}

#define LIST(lit, ...) assert_list(G(lit), (const char *const[]){__VA_ARGS__, NULL})

Test(sip_hdr, list_split)
{
	LIST("a, b ,c", "a", "b", "c");
	LIST(",,a,,b,,", "a", "b");
	LIST("single", "single");
	LIST("a,\r\n b", "a", "b");
	LIST("\"x, y\" <sip:a@h>, <sip:b@h>", "\"x, y\" <sip:a@h>", "<sip:b@h>");
	LIST("<sip:a@h;x=1,2>;q=1, b", "<sip:a@h;x=1,2>;q=1", "b");
	LIST("\"a\\\",\" <sip:x@h>, b", "\"a\\\",\" <sip:x@h>", "b");
	LIST("\"<\" <sip:x@h>, y", "\"<\" <sip:x@h>", "y");
	/* Unterminated quote or '<': the rest is one element for the typed
	 * parser to refuse. */
	LIST("a, \"b, c", "a", "\"b, c");
	LIST("a, <sip:b, c", "a", "<sip:b, c");
	LIST("SIP/2.0/UDP a;branch=1, SIP/2.0/TCP b", "SIP/2.0/UDP a;branch=1", "SIP/2.0/TCP b");

	struct sip_str s = G(" , \r\n ,"), item;
	cr_assert_not(sip_list_next(&s, &item));
	s = G("");
	cr_assert_not(sip_list_next(&s, &item));
}

Test(sip_hdr, list_long_values)
{
	/* Elements longer than the 16-byte SIMD stride, with the separator
	 * at every offset of a block. */
	char buf[128];
	size_t i;

	for (i = 1; i < 40; i++) {
		struct sip_str s, item;

		memset(buf, 'a', i);
		buf[i] = ',';
		memset(buf + i + 1, 'b', 20);
		s = guarded(buf, i + 21);
		cr_assert(sip_list_next(&s, &item));
		cr_assert_eq(item.len, i);
		cr_assert(sip_list_next(&s, &item));
		cr_assert_eq(item.len, 20);
		cr_assert_not(sip_list_next(&s, &item));
	}
}

Test(sip_hdr, token_list_has)
{
	cr_assert(sip_token_list_has(G("100rel, timer,  replaces"), "TIMER"));
	cr_assert(sip_token_list_has(G("100rel"), "100rel"));
	cr_assert(sip_token_list_has(G("a,\r\n\tpath"), "path"));
	cr_assert_not(sip_token_list_has(G("100rel, timer"), "time"));
	cr_assert_not(sip_token_list_has(G("100rel, timer"), "timers"));
	cr_assert_not(sip_token_list_has(G(""), "timer"));
	cr_assert_not(sip_token_list_has(G(",,"), ""));
}

/* --- Via -------------------------------------------------------------- */

static struct sip_via via_ok(struct sip_str s)
{
	struct sip_via v;
	int err = sip_via_parse(s, &v);

	cr_assert_eq(err, 0, "\"%.*s\" should parse", (int)s.len, s.p);
	return v;
}

Test(sip_hdr, via_all_fields)
{
	struct sip_via v = via_ok(G("SIP/2.0/UDP pc33.atlanta.com:5066;branch=z9hG4bK776asdhds"
				    ";received=192.0.2.1;rport=5066;ttl=16;maddr=224.2.0.1;x=y"));

	assert_slice(v.raw, "SIP/2.0/UDP pc33.atlanta.com:5066;branch=z9hG4bK776asdhds"
			    ";received=192.0.2.1;rport=5066;ttl=16;maddr=224.2.0.1;x=y");
	assert_slice(v.protocol, "SIP/2.0");
	assert_slice(v.transport, "UDP");
	assert_slice(v.host, "pc33.atlanta.com");
	cr_assert_eq(v.port, 5066);
	cr_assert_not(v.host_ipv6);
	assert_slice(v.params, ";branch=z9hG4bK776asdhds;received=192.0.2.1;rport=5066;ttl=16"
			       ";maddr=224.2.0.1;x=y");
	assert_slice(v.branch, "z9hG4bK776asdhds");
	assert_slice(v.received, "192.0.2.1");
	assert_slice(v.maddr, "224.2.0.1");
	assert_slice(v.ttl, "16");
	cr_assert(v.rport);
	cr_assert_eq(v.rport_value, 5066);
}

Test(sip_hdr, via_minimal)
{
	struct sip_via v = via_ok(G("SIP/2.0/TCP h"));

	assert_slice(v.transport, "TCP");
	assert_slice(v.host, "h");
	cr_assert_eq(v.port, 0);
	cr_assert_eq(v.params.len, 0);
	cr_assert_eq(v.branch.len, 0);
	cr_assert_not(v.rport);
	cr_assert_eq(v.received.len, 0);
}

Test(sip_hdr, via_lws_everywhere)
{
	/* LWS around '/', before ':' and ';', around '=' (RFC 4475 §3.1.1.1). */
	struct sip_via v = via_ok(G("  SIP / 2.0 / UDP \t host.example.com : 5070 ;\r\n branch = "
				    "z9hG4bKnashds7 ; rport\r\n "));

	assert_slice(v.protocol, "SIP / 2.0");
	assert_slice(v.transport, "UDP");
	assert_slice(v.host, "host.example.com");
	cr_assert_eq(v.port, 5070);
	assert_slice(v.branch, "z9hG4bKnashds7");
	cr_assert(v.rport);
	cr_assert_eq(v.rport_value, 0);

	v = via_ok(G("SIP/2.0/UDP\r\n\thost;branch=z9hG4bK1"));
	assert_slice(v.host, "host");
}

Test(sip_hdr, via_ipv6_and_odd_transports)
{
	struct sip_via v = via_ok(G("SIP/2.0/UDP [2001:db8::9:1]:5070;branch=z9hG4bK-x;rport"
				    ";received=2001:db8::9:255"));

	assert_slice(v.host, "[2001:db8::9:1]");
	cr_assert(v.host_ipv6);
	cr_assert_eq(v.port, 5070);
	cr_assert(v.rport);
	assert_slice(v.received, "2001:db8::9:255");

	v = via_ok(G("SIP/2.0/TLS [::1];received=[::2]"));
	assert_slice(v.received, "[::2]");

	/* Unknown transports and versions are the caller's business. */
	v = via_ok(G("SIP/2.0/WS df7jal23ls0d.invalid;branch=z9hG4bKasudf"));
	assert_slice(v.transport, "WS");
	v = via_ok(G("SIP/2.0/Unknown-Transport-1 h"));
	assert_slice(v.transport, "Unknown-Transport-1");
	v = via_ok(G("XSIP/3.1/UDP h"));
	assert_slice(v.protocol, "XSIP/3.1");
}

Test(sip_hdr, via_params_case_and_quoted)
{
	struct sip_via v = via_ok(G("SIP/2.0/UDP h;BRANCH=z9hG4bKX;RPort=1;Received=10.0.0.1"
				    ";ext=\"quoted;value, with comma\";alias"));

	assert_slice(v.branch, "z9hG4bKX");
	cr_assert_eq(v.rport_value, 1);
	assert_slice(v.received, "10.0.0.1");
	struct sip_str val;
	cr_assert(sip_param_find(v.params, "ext", &val));
	assert_slice(val, "\"quoted;value, with comma\"");
	cr_assert(sip_param_find(v.params, "alias", NULL));
	v = via_ok(G("SIP/2.0/UDP h;ttl=0;rport=65535"));
	assert_slice(v.ttl, "0");
	cr_assert_eq(v.rport_value, 65535);
	v = via_ok(G("SIP/2.0/UDP h;ttl=255;maddr=[::1]"));
	assert_slice(v.maddr, "[::1]");
}

static void via_bad(struct sip_str s)
{
	struct sip_via v;

	cr_assert_eq(sip_via_parse(s, &v), -EBADMSG, "\"%.*s\" should be refused", (int)s.len, s.p);
}

#define VIA_BAD(lit) via_bad(G(lit))

Test(sip_hdr, via_refused)
{
	VIA_BAD("");
	VIA_BAD("SIP");
	VIA_BAD("SIP/2.0 host");
	VIA_BAD("SIP/2.0/UDP");
	VIA_BAD("SIP/2.0/UDP ");
	VIA_BAD("SIP/2.0/UDPhost");
	VIA_BAD("SIP//UDP host");
	VIA_BAD("SIP/2.0/ host");
	VIA_BAD("/2.0/UDP host");
	VIA_BAD("SIP/2.0/UDP host:");
	VIA_BAD("SIP/2.0/UDP host:0");
	VIA_BAD("SIP/2.0/UDP host:65536");
	VIA_BAD("SIP/2.0/UDP host:5060x");
	VIA_BAD("SIP/2.0/UDP [::1");
	VIA_BAD("SIP/2.0/UDP [zz::1]");
	VIA_BAD("SIP/2.0/UDP host_1");
	VIA_BAD("SIP/2.0/UDP -host");
	VIA_BAD("SIP/2.0/UDP host extra");
	VIA_BAD("SIP/2.0/UDP host;");
	VIA_BAD("SIP/2.0/UDP host;;");
	VIA_BAD("SIP/2.0/UDP 192.0.2.15;;,;,,");
	VIA_BAD("SIP/2.0/UDP host;branch");
	VIA_BAD("SIP/2.0/UDP host;branch=");
	VIA_BAD("SIP/2.0/UDP host;branch=\"z9hG4bK\"");
	VIA_BAD("SIP/2.0/UDP host;branch=a;branch=b");
	VIA_BAD("SIP/2.0/UDP host;rport=0");
	VIA_BAD("SIP/2.0/UDP host;rport=65536");
	VIA_BAD("SIP/2.0/UDP host;rport=x");
	VIA_BAD("SIP/2.0/UDP host;rport;rport");
	VIA_BAD("SIP/2.0/UDP host;ttl=256");
	VIA_BAD("SIP/2.0/UDP host;ttl=0001");
	VIA_BAD("SIP/2.0/UDP host;ttl=");
	VIA_BAD("SIP/2.0/UDP host;received=example.com");
	VIA_BAD("SIP/2.0/UDP host;received=1.2.3");
	VIA_BAD("SIP/2.0/UDP host;received=");
	VIA_BAD("SIP/2.0/UDP host;maddr=bad_host");
	VIA_BAD("SIP/2.0/UDP host;a=\"unterminated");
	VIA_BAD("SIP/2.0/UDP host;a=b c");
	VIA_BAD("SIP/2.0/UDP host;a=<b>");
	VIA_BAD("SIP/2.0/UDP host, SIP/2.0/UDP other");
}

Test(sip_hdr, via_sent_by_alone)
{
	/* Enough of a Via with bad parameters to address its 400 (RFC 4475
	 * §3.1.2.1); what is no sent-by at all stays refused. */
	struct sip_via v;

	cr_assert_eq(sip_via_parse_sent_by(G("SIP/2.0/UDP 192.0.2.15;;"), &v), 0);
	assert_slice(v.transport, "UDP");
	assert_slice(v.host, "192.0.2.15");
	cr_assert_eq(v.port, 0);
	cr_assert_eq(v.params.len, 0);
	cr_assert_eq(v.branch.len, 0);
	cr_assert_not(v.rport);
	cr_assert_eq(sip_via_parse_sent_by(G("SIP / 2.0 / TCP [::1] : 5070 ;branch"), &v), 0);
	assert_slice(v.host, "[::1]");
	cr_assert(v.host_ipv6);
	cr_assert_eq(v.port, 5070);
	cr_assert_eq(sip_via_parse_sent_by(G("SIP/2.0/UDP h.example.com"), &v), 0);
	assert_slice(v.raw, "SIP/2.0/UDP h.example.com");
	cr_assert_eq(sip_via_parse_sent_by(G("broken"), &v), -EBADMSG);
	cr_assert_eq(sip_via_parse_sent_by(G("SIP/2.0/UDP"), &v), -EBADMSG);
	cr_assert_eq(sip_via_parse_sent_by(G("SIP/2.0/UDP host extra"), &v), -EBADMSG);
	cr_assert_eq(sip_via_parse_sent_by(G("SIP/2.0/UDP host:99999;x"), &v), -EBADMSG);
	cr_assert_eq(sip_via_parse_sent_by(G("SIP/2.0/UDP host_1;x"), &v), -EBADMSG);
	cr_assert_eq(sip_via_parse_sent_by(G(""), &v), -EBADMSG);
}

/* --- name-addr / addr-spec -------------------------------------------- */

static struct sip_addr addr_ok(struct sip_str s)
{
	struct sip_addr a;
	int err = sip_addr_parse(s, &a);

	cr_assert_eq(err, 0, "\"%.*s\" should parse, got %d", (int)s.len, s.p, err);
	return a;
}

Test(sip_hdr, addr_quoted_display)
{
	struct sip_addr a = addr_ok(G(" \"Alice Smith\" <sip:alice@atlanta.com>;tag=88sja8x "));

	assert_slice(a.raw, "\"Alice Smith\" <sip:alice@atlanta.com>;tag=88sja8x");
	assert_slice(a.display, "\"Alice Smith\"");
	assert_slice(a.uri_str, "sip:alice@atlanta.com");
	cr_assert_eq(a.uri.scheme, SIP_URI_SIP);
	assert_slice(a.uri.user, "alice");
	assert_slice(a.uri.host, "atlanta.com");
	assert_slice(a.params, ";tag=88sja8x");
	assert_slice(a.tag, "88sja8x");
	cr_assert_not(a.star);
	cr_assert_eq(a.q, -1);
	cr_assert_eq(a.expires, -1);
}

Test(sip_hdr, addr_display_forms)
{
	struct sip_addr a;

	a = addr_ok(G("Bob Smith <sip:bob@x.com>"));
	assert_slice(a.display, "Bob Smith");
	assert_slice(a.uri_str, "sip:bob@x.com");
	cr_assert_eq(a.params.len, 0);

	a = addr_ok(G("<sip:bob@x.com>"));
	cr_assert_eq(a.display.len, 0);
	assert_slice(a.uri_str, "sip:bob@x.com");

	/* No LWS between display name and '<' (RFC 4475 §3.1.1.6). */
	a = addr_ok(G("caller<sip:caller@example.com>;tag=323"));
	assert_slice(a.display, "caller");
	assert_slice(a.tag, "323");
	a = addr_ok(G("\"Quoted\"<sip:q@example.com>"));
	assert_slice(a.display, "\"Quoted\"");

	/* Escapes, separators and UTF-8 inside a quoted display name. */
	a = addr_ok(G("\"\\\"Joe\\\" \\\\ <semi;colon, comma>\" <sip:joe@x.com>"));
	assert_slice(a.display, "\"\\\"Joe\\\" \\\\ <semi;colon, comma>\"");
	assert_slice(a.uri_str, "sip:joe@x.com");
	a = addr_ok(G("\"J\xc3\xbcrgen\" <sip:j@x.com>"));
	assert_slice(a.display, "\"J\xc3\xbcrgen\"");
	a = addr_ok(G("\"\" <sip:e@x.com>"));
	assert_slice(a.display, "\"\"");

	/* Token characters in a display name (RFC 4475 §3.1.1.2 flavour). */
	a = addr_ok(G("!+-.%*_`'~ <sip:t@x.com>"));
	assert_slice(a.display, "!+-.%*_`'~");

	/* Folding inside the value. */
	a = addr_ok(G("Bob\r\n <sip:b@x.com>\r\n ;tag=1"));
	assert_slice(a.display, "Bob");
	assert_slice(a.tag, "1");
}

Test(sip_hdr, addr_spec_params_belong_to_header)
{
	/* §20.10: without <>, ;params are header parameters. */
	struct sip_addr a = addr_ok(G("sip:bob@x.com;tag=abc;q=0.5"));

	assert_slice(a.uri_str, "sip:bob@x.com");
	cr_assert_eq(a.uri.params.len, 0);
	assert_slice(a.params, ";tag=abc;q=0.5");
	assert_slice(a.tag, "abc");
	cr_assert_eq(a.q, 500);

	/* With <>, they are the URI's. */
	a = addr_ok(G("<sip:bob@x.com;transport=tcp;lr>;tag=t"));
	assert_slice(a.uri.params, ";transport=tcp;lr");
	assert_slice(a.uri.transport, "tcp");
	cr_assert(a.uri.lr);
	assert_slice(a.params, ";tag=t");
	assert_slice(a.tag, "t");

	a = addr_ok(G("sip:bob@x.com"));
	cr_assert_eq(a.params.len, 0);
	a = addr_ok(G("sip:bob@x.com ;tag=1"));
	assert_slice(a.tag, "1");
}

Test(sip_hdr, addr_contact_params)
{
	struct sip_addr a =
		addr_ok(G("<sip:a@192.0.2.4:5070;transport=tcp>;q=0.7;expires=3600;+sip.instance="
			  "\"<urn:uuid:00000000-0000-1000-8000-000A95A0E128>\";reg-id=1"));

	cr_assert_eq(a.q, 700);
	cr_assert_eq(a.expires, 3600);
	cr_assert_eq(a.uri.port, 5070);
	struct sip_str v;
	cr_assert(sip_param_find(a.params, "+sip.instance", &v));
	assert_slice(v, "\"<urn:uuid:00000000-0000-1000-8000-000A95A0E128>\"");
	cr_assert(sip_param_find(a.params, "reg-id", &v));
	assert_slice(v, "1");

	a = addr_ok(G("<sip:a@h>;EXPIRES=0;Q=1"));
	cr_assert_eq(a.expires, 0);
	cr_assert_eq(a.q, 1000);
	a = addr_ok(G("<sip:a@h>;expires=4294967295"));
	cr_assert_eq(a.expires, 4294967295ll);
	a = addr_ok(G("<sip:a@h> ; q = 0.25 ; tag = x"));
	cr_assert_eq(a.q, 250);
	assert_slice(a.tag, "x");
	a = addr_ok(G("<sip:a@h>;received=[2001:db8::1]:5060"));
}

Test(sip_hdr, addr_star_and_schemes)
{
	struct sip_addr a;

	a = addr_ok(G(" * "));
	cr_assert(a.star);
	cr_assert_eq(a.uri_str.len, 0);

	a = addr_ok(G("<tel:+12015550123>;tag=1"));
	cr_assert_eq(a.uri.scheme, SIP_URI_TEL);
	assert_slice(a.uri.user, "+12015550123");
	a = addr_ok(G("<sips:a@h>"));
	cr_assert_eq(a.uri.scheme, SIP_URI_SIPS);

	/* Another scheme: -EPROTO, with everything still filled. */
	cr_assert_eq(sip_addr_parse(G("\"M\" <mailto:a@b.com>;tag=9"), &a), -EPROTO);
	cr_assert_eq(a.uri.scheme, SIP_URI_OTHER);
	assert_slice(a.uri_str, "mailto:a@b.com");
	assert_slice(a.uri.raw, "mailto:a@b.com");
	assert_slice(a.display, "\"M\"");
	assert_slice(a.tag, "9");
	cr_assert_eq(sip_addr_parse(G("urn:service:sos"), &a), -EPROTO);
	assert_slice(a.uri_str, "urn:service:sos");
}

static void addr_bad(struct sip_str s)
{
	struct sip_addr a;

	cr_assert_eq(sip_addr_parse(s, &a), -EBADMSG, "\"%.*s\" should be refused", (int)s.len,
		     s.p);
}

#define ADDR_BAD(lit) addr_bad(G(lit))

Test(sip_hdr, addr_refused)
{
	ADDR_BAD("");
	ADDR_BAD("  ");
	/* RFC 4475 §3.1.2.16: a comma is not a display-name character. */
	ADDR_BAD("Bell, Alexander <sip:a.g.bell@bell-tel.com>;tag=43");
	/* §3.1.2.8: unterminated quoted display name. */
	ADDR_BAD("\"Mr J. User <sip:j.user@example.com>");
	ADDR_BAD("\"bad\\");
	/* §3.1.2.13: spaces inside the <>. */
	ADDR_BAD("\"Watson, Thomas\" < sip:t.watson@example.org >");
	ADDR_BAD("<sip:a@b >");
	/* §3.1.2.12: a URI with headers (or ',') needs <>. */
	ADDR_BAD("sip:user@example.com?Subject=foo");
	ADDR_BAD("sip:a@b,c");
	ADDR_BAD("<sip:a@b");
	ADDR_BAD("<>");
	ADDR_BAD("<sip:@h>");
	ADDR_BAD("<sip:a@b> garbage");
	ADDR_BAD("<sip:a@b>>");
	ADDR_BAD("<sip:a@b>;");
	ADDR_BAD("<sip:a@b>;tag");
	ADDR_BAD("<sip:a@b>;tag=");
	ADDR_BAD("<sip:a@b>;tag=\"x\"");
	ADDR_BAD("<sip:a@b>;tag=1;tag=2");
	ADDR_BAD("<sip:a@b>;=x");
	ADDR_BAD("<sip:a@b>;x=\"open");
	ADDR_BAD("Bob sip:b@x");
	ADDR_BAD("\"Bob\" sip:b@x");
	ADDR_BAD("B@b <sip:b@x>");
	ADDR_BAD("*;q=1");
	ADDR_BAD("**");
	ADDR_BAD("<*>");
	ADDR_BAD("<sip:a@b> <sip:c@d>");
	ADDR_BAD("<not a uri>");
	ADDR_BAD("<sip:a@b>;expires=4294967296");
	ADDR_BAD("<sip:a@b>;expires=-1");
	ADDR_BAD("<sip:a@b>;expires=");
	ADDR_BAD("<sip:a@b>;expires=1;expires=2");
	ADDR_BAD("<sip:a@b>;q=1.5");
	ADDR_BAD("<sip:a@b>;q=0.1234");
	ADDR_BAD("<sip:a@b>;q=");
	ADDR_BAD("<sip:a@b>;q=0.5;q=0.5");
	ADDR_BAD("\"nul\0\" <sip:a@b>");
	ADDR_BAD("<sip:a@b>;tag=1\x01");
}

Test(sip_hdr, qvalue)
{
	static const struct {
		const char *s;
		int32_t q;
	} ok[] = {
		{"0", 0},     {"1", 1000},    {"0.", 0},       {"1.", 1000},
		{"0.5", 500}, {"0.123", 123}, {"1.000", 1000}, {"0.05", 50},
		{"0.001", 1}, {"1.0", 1000},  {"0.999", 999},
	};
	static const char *const bad[] = {
		"",     "1.5",  "0.1234", "2",      "-0.5", ".5",  "01", "1.001",
		"0.5 ", " 0.5", "0,5",    "1.0000", "00",   "0.a", "q",
	};
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		int32_t q = -7;

		cr_assert_eq(sip_qvalue_parse(sip_str_cstr(ok[i].s), &q), 0, "%s", ok[i].s);
		cr_assert_eq(q, ok[i].q, "%s -> %d", ok[i].s, q);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int32_t q = -7;

		cr_assert_eq(sip_qvalue_parse(guarded(bad[i], strlen(bad[i])), &q), -EBADMSG, "%s",
			     bad[i]);
		cr_assert_eq(q, -7);
	}
}

/* --- CSeq -------------------------------------------------------------- */

Test(sip_hdr, cseq)
{
	struct sip_cseq c;

	cr_assert_eq(sip_cseq_parse(G("4711 INVITE"), &c), 0);
	cr_assert_eq(c.num, 4711);
	assert_slice(c.method, "INVITE");
	cr_assert_eq(sip_cseq_parse(G("  1\r\n INVITE  "), &c), 0);
	cr_assert_eq(c.num, 1);
	assert_slice(c.method, "INVITE");
	cr_assert_eq(sip_cseq_parse(G("0 ACK"), &c), 0);
	cr_assert_eq(c.num, 0);
	cr_assert_eq(sip_cseq_parse(G("2147483647 BYE"), &c), 0);
	cr_assert_eq(c.num, 2147483647u);
	cr_assert_eq(sip_cseq_parse(G("8\tNEWMETHOD"), &c), 0);
	assert_slice(c.method, "NEWMETHOD");
	cr_assert_eq(sip_cseq_parse(G("0009 invite"), &c), 0);
	cr_assert_eq(c.num, 9);
	assert_slice(c.method, "invite");
}

Test(sip_hdr, cseq_refused)
{
	static const char *const bad[] = {
		"",
		"INVITE",
		"1",
		"1 ",
		"1INVITE",
		"1 INV ITE",
		"1 INVITE;x",
		"1 INVITE,",
		"-1 INVITE",
		"+1 INVITE",
		"2147483648 BYE",
		"4294967296 BYE",
		"99999999999999999999999 INVITE",
		"1.5 INVITE",
		"0x1 INVITE",
		"1 \"INVITE\"",
		"1 INVITE\x01",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct sip_cseq c;

		cr_assert_eq(sip_cseq_parse(guarded(bad[i], strlen(bad[i])), &c), -EBADMSG,
			     "\"%s\" should be refused", bad[i]);
	}
}

/* --- digest credentials ------------------------------------------------ */

Test(sip_hdr, digest_full)
{
	struct sip_digest_cred c;

	cr_assert_eq(sip_digest_cred_parse(
			     G("Digest username=\"bob\", realm=\"biloxi.com\", "
			       "nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", "
			       "uri=\"sip:bob@biloxi.com\", "
			       "qop=auth, nc=00000001, cnonce=\"0a4f113b\", "
			       "response=\"6629fae49393a05397450978507c4ef1\", "
			       "opaque=\"5ccc069c403ebaf9f0171e9517f40e41\", algorithm=MD5"),
			     &c),
		     0);
	assert_slice(c.username, "bob");
	assert_slice(c.realm, "biloxi.com");
	assert_slice(c.nonce, "dcd98b7102dd2f0e8b11d0f600bfb0c093");
	assert_slice(c.uri, "sip:bob@biloxi.com");
	assert_slice(c.qop, "auth");
	assert_slice(c.nc, "00000001");
	assert_slice(c.cnonce, "0a4f113b");
	assert_slice(c.response, "6629fae49393a05397450978507c4ef1");
	assert_slice(c.opaque, "5ccc069c403ebaf9f0171e9517f40e41");
	assert_slice(c.algorithm, "MD5");
	cr_assert_not(c.userhash);
	cr_assert_not(c.username_escaped);
}

Test(sip_hdr, digest_lws_case_and_extras)
{
	struct sip_digest_cred c;

	cr_assert_eq(sip_digest_cred_parse(G("  digest  USERNAME = \"a\" ,REALM=\"r\"\r\n ,"
					     " nonce=\"n,with;comma\", x-ext=tok, y=\"q\","
					     " algorithm=SHA-256 ,userhash=TRUE, "),
					   &c),
		     0);
	assert_slice(c.username, "a");
	assert_slice(c.realm, "r");
	assert_slice(c.nonce, "n,with;comma");
	assert_slice(c.algorithm, "SHA-256");
	cr_assert(c.userhash);
	cr_assert_eq(c.response.len, 0);
	cr_assert_eq(c.algorithm.len, 7);

	cr_assert_eq(sip_digest_cred_parse(G("Digest username=\"a\\\"b\", realm=\"\""), &c), 0);
	assert_slice(c.username, "a\\\"b");
	cr_assert(c.username_escaped);
	cr_assert_eq(c.realm.len, 0);
	cr_assert_not_null(c.realm.p, "an empty quoted value is present, not absent");

	cr_assert_eq(sip_digest_cred_parse(G("Digest userhash=false"), &c), 0);
	cr_assert_not(c.userhash);
}

Test(sip_hdr, digest_refused)
{
	struct sip_digest_cred c;

	cr_assert_eq(sip_digest_cred_parse(G("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="), &c), -EPROTO);
	cr_assert_eq(sip_digest_cred_parse(G("Bearer abc"), &c), -EPROTO);
	cr_assert_eq(sip_digest_cred_parse(G("Digestusername=\"a\""), &c), -EPROTO);
	cr_assert_eq(sip_digest_cred_parse(G(""), &c), -EBADMSG);
	cr_assert_eq(sip_digest_cred_parse(G("Digest"), &c), -EBADMSG);
	cr_assert_eq(sip_digest_cred_parse(G("Digest   "), &c), -EBADMSG);
	cr_assert_eq(sip_digest_cred_parse(G("Digest ,,"), &c), -EBADMSG);
	cr_assert_eq(sip_digest_cred_parse(G("Digest username=\"bob"), &c), -EBADMSG);
	cr_assert_eq(sip_digest_cred_parse(G("Digest username=\"bob\\\""), &c), -EBADMSG);
	cr_assert_eq(sip_digest_cred_parse(G("Digest username"), &c), -EBADMSG);
	cr_assert_eq(sip_digest_cred_parse(G("Digest username="), &c), -EBADMSG);
	cr_assert_eq(sip_digest_cred_parse(G("Digest =x"), &c), -EBADMSG);
	cr_assert_eq(sip_digest_cred_parse(G("Digest realm=\"a\" nonce=\"b\""), &c), -EBADMSG);
	cr_assert_eq(sip_digest_cred_parse(G("Digest realm=\"a\", realm=\"b\""), &c), -EBADMSG);
	cr_assert_eq(sip_digest_cred_parse(G("Digest realm=a b"), &c), -EBADMSG);
	cr_assert_eq(sip_digest_cred_parse(G("Digest realm=<a>"), &c), -EBADMSG);
	cr_assert_eq(sip_digest_cred_parse(G("Digest realm=\"a\x01\""), &c), -EBADMSG);
	cr_assert_eq(sip_digest_cred_parse(G("\"Digest\" realm=a"), &c), -EBADMSG);
}
