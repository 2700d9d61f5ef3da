/*
 * Unit tests for hdr_list and route: deleting values from multi-value
 * headers byte-exactly, and the route set processing of RFC 3261 §16.4 and
 * §16.6 step 6 as edits on a received request.
 */
#include "config/config.h"
#include "proxy/route.h"
#include "proxy/self.h"
#include "sip/hdr_list.h"
#include "sip/msg_edit.h"
#include "sip/sip_msg.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

static struct config cfg;
static struct sip_hdr hdrs[64];
static struct sip_msg m;
static struct msg_edits ed;
static char out[4096];

static void setup(void)
{
	static const char *text = "[sip]\n"
				  "listen = udp:127.0.0.1:5060 tcp:127.0.0.1:5060\n"
				  "domain = example.com\n";
	cr_assert_eq(config_load_string(text, "test.conf", &cfg, stderr), 0);
	cr_assert_eq(self_init(&cfg), 0);
	msg_edits_init(&ed);
}

TestSuite(route, .init = setup);
TestSuite(hdr_list, .init = setup);

/* Parses a request whose header lines are given with \n ends. */
static void parse(const char *head)
{
	static char buf[4096];
	size_t o = 0;

	for (const char *p = head; *p; p++) {
		if (*p == '\n')
			buf[o++] = '\r';
		buf[o++] = *p;
	}
	memcpy(buf + o, "Content-Length: 0\r\n\r\n", 21);
	o += 21;
	cr_assert_eq(sip_msg_parse(&m, buf, o, hdrs, 64, NULL), 0, "parse: %s",
		     m.error.reason ? m.error.reason : "?");
}

#define BASE                                                                                       \
	"Via: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK1\n"                                              \
	"From: <sip:a@example.com>;tag=1\n"                                                        \
	"To: <sip:b@example.net>\n"                                                                \
	"Call-ID: c1\n"                                                                            \
	"CSeq: 1 INVITE\n"

static bool starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static const char *applied(void)
{
	ssize_t n = msg_edit_apply(&ed, m.buf, m.len, out, sizeof(out) - 1);
	cr_assert(n >= 0);
	out[n] = '\0';
	return out;
}

static const char *header_block(void)
{
	/* the text after the request line, for readable asserts */
	const char *s = applied();
	return strstr(s, "\r\n") + 2;
}

Test(hdr_list, delete_first_of_a_line)
{
	struct hdr_list l;

	parse("INVITE sip:b@example.net SIP/2.0\nRoute: <sip:a;lr>, <sip:b;lr>,<sip:c;lr>\n" BASE);
	cr_assert_eq(hdr_list_collect(&m, SIP_HDR_ROUTE, &l, HDR_LIST_MAX), 3);
	cr_assert_eq(hdr_list_delete(&m, &l, 1, &ed), 0);
	cr_assert(strstr(applied(), "\r\nRoute: <sip:b;lr>,<sip:c;lr>\r\n"));
}

Test(hdr_list, delete_last_and_middle)
{
	struct hdr_list l;

	parse("INVITE sip:b@example.net SIP/2.0\nRoute: <sip:a;lr>, <sip:b;lr> , "
	      "<sip:c;lr>\n" BASE);
	cr_assert_eq(hdr_list_collect(&m, SIP_HDR_ROUTE, &l, HDR_LIST_MAX), 3);
	cr_assert_eq(hdr_list_delete(&m, &l, (1 << 1) | (1 << 2), &ed), 0);
	cr_assert(strstr(applied(), "\r\nRoute: <sip:a;lr>\r\n"), "%s", out);
}

Test(hdr_list, delete_all_values_removes_the_line)
{
	struct hdr_list l;

	parse("INVITE sip:b@example.net SIP/2.0\nRoute: <sip:a;lr>, <sip:b;lr>\nRoute: "
	      "<sip:c;lr>\n" BASE);
	cr_assert_eq(hdr_list_collect(&m, SIP_HDR_ROUTE, &l, HDR_LIST_MAX), 3);
	cr_assert_eq(l.e[2].hdr, m.last[SIP_HDR_ROUTE]);
	cr_assert_eq(hdr_list_delete(&m, &l, 3, &ed), 0);
	cr_assert(starts_with(header_block(), "Route: <sip:c;lr>\r\nVia:"), "%s", out);
}

Test(hdr_list, collect_limit)
{
	struct hdr_list l;

	parse("INVITE sip:b@example.net SIP/2.0\nRoute: <sip:a>, <sip:b>, <sip:c>\n" BASE);
	cr_assert_eq(hdr_list_collect(&m, SIP_HDR_ROUTE, &l, 2), -E2BIG);
	cr_assert_eq(l.n, 2);
}

Test(route, no_route_targets_request_uri)
{
	struct route_state rs;

	parse("INVITE sip:b@example.net SIP/2.0\n" BASE);
	cr_assert_eq(route_preprocess(&m, &rs), 0);
	cr_assert_not(route_has_next(&rs));
	cr_assert_eq(route_next_hop(&m, &rs), 0);
	cr_assert_eq(rs.hop.host.len, strlen("example.net"));
	cr_assert_eq(route_commit(&m, &rs, &ed), 0);
	cr_assert_eq(ed.n, 0, "nothing to edit");
}

Test(route, our_loose_route_removed_next_one_is_hop)
{
	struct route_state rs;

	parse("INVITE sip:b@example.net SIP/2.0\n"
	      "Route: <sip:127.0.0.1;lr>\nRoute: <sip:10.9.9.9:5080;lr>\n" BASE);
	cr_assert_eq(route_preprocess(&m, &rs), 0);
	cr_assert(route_has_next(&rs));
	cr_assert_eq(route_next_hop(&m, &rs), 0);
	cr_assert_eq(rs.hop.port, 5080);
	cr_assert_eq(route_commit(&m, &rs, &ed), 0);
	cr_assert(
		starts_with(
			applied(),
			"INVITE sip:b@example.net SIP/2.0\r\nRoute: <sip:10.9.9.9:5080;lr>\r\nVia"),
		"%s", out);
}

Test(route, double_record_route_both_removed)
{
	struct route_state rs;

	parse("INVITE sip:b@example.net SIP/2.0\n"
	      "Route: <sip:127.0.0.1:5060;transport=tcp;lr>, <sip:127.0.0.1;lr>\n" BASE);
	cr_assert_eq(route_preprocess(&m, &rs), 0);
	cr_assert_not(route_has_next(&rs));
	cr_assert_eq(route_commit(&m, &rs, &ed), 0);
	cr_assert(starts_with(header_block(), "Via:"), "%s", out);
}

Test(route, served_domain_route_is_ours)
{
	struct route_state rs;

	parse("INVITE sip:b@example.net SIP/2.0\nRoute: <sip:example.com;lr>\n" BASE);
	cr_assert_eq(route_preprocess(&m, &rs), 0);
	cr_assert_not(route_has_next(&rs));
}

Test(route, other_port_is_not_ours)
{
	struct route_state rs;

	parse("INVITE sip:b@example.net SIP/2.0\nRoute: <sip:127.0.0.1:5070;lr>\n" BASE);
	cr_assert_eq(route_preprocess(&m, &rs), 0);
	cr_assert(route_has_next(&rs));
}

Test(route, strict_router_before_us)
{
	struct route_state rs;

	/* §16.4: our RR URI in the Request-URI; the real target is last. */
	parse("INVITE sip:127.0.0.1 SIP/2.0\n"
	      "Route: <sip:10.1.1.1;lr>, <sip:bob@10.2.2.2>\n" BASE);
	cr_assert_eq(route_preprocess(&m, &rs), 0);
	cr_assert(rs.ruri_changed);
	cr_assert_eq(route_next_hop(&m, &rs), 0);
	cr_assert_eq(route_commit(&m, &rs, &ed), 0);
	cr_assert(starts_with(applied(),
			      "INVITE sip:bob@10.2.2.2 SIP/2.0\r\nRoute: <sip:10.1.1.1;lr>\r\nVia"),
		  "%s", out);
	cr_assert_eq(rs.hop.host.len, strlen("10.1.1.1"));
}

Test(route, strict_next_hop)
{
	struct route_state rs;

	/* §16.6 step 6: the strict route becomes the Request-URI. */
	parse("INVITE sip:b@example.net SIP/2.0\n"
	      "Route: <sip:10.1.1.1>, <sip:10.3.3.3;lr>\n" BASE);
	cr_assert_eq(route_preprocess(&m, &rs), 0);
	cr_assert_eq(route_next_hop(&m, &rs), 0);
	cr_assert_eq(route_commit(&m, &rs, &ed), 0);
	cr_assert(starts_with(applied(),
			      "INVITE sip:10.1.1.1 SIP/2.0\r\nRoute: <sip:10.3.3.3;lr>\r\n"
			      "Route: <sip:b@example.net>\r\nVia"),
		  "%s", out);
}

Test(route, malformed_route_is_400)
{
	struct route_state rs;

	parse("INVITE sip:b@example.net SIP/2.0\nRoute: <mailto:x@y>\n" BASE);
	cr_assert_eq(route_preprocess(&m, &rs), 400);
}
