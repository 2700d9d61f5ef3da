/*
 * Unit tests for txn_build: the CANCEL (RFC 3261 §9.1) and the ACK of a
 * non-2xx (§17.1.1.3) built from a request as sent, byte for byte, for
 * the requests that used to get neither (issue 18): one with as many
 * header lines as [sip] max_headers allows (plus the proxy's own), and
 * one whose From, To and Route are 8 KiB each. Also the re-parse they
 * rest on, and what they refuse.
 */
#include "txn/txn_build.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PAD_LEN 8192

/* A new string, printf-formatted (freed by the test). */
static char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static char *fmt(const char *f, ...)
{
	va_list ap;
	char *s = NULL;

	va_start(ap, f);
	cr_assert(vasprintf(&s, f, ap) >= 0);
	va_end(ap);
	return s;
}

/* n times c, NUL-terminated (freed by the test). */
static char *run_of(char c, size_t n)
{
	char *s = malloc(n + 1);

	cr_assert_not_null(s);
	memset(s, c, n);
	s[n] = '\0';
	return s;
}

/* Builds method along req (To from the request, or to) and checks the
 * whole output against want. */
static void expect_hop(const char *req, enum sip_method method, const char *to, const char *want)
{
	struct sip_str t = to ? sip_str_cstr(to) : SIP_STR_NULL;
	char *out = NULL;
	size_t n = 0;

	cr_assert_eq(txn_build_hop(req, strlen(req), method, to ? &t : NULL, &out, &n), 0);
	cr_assert_not_null(out);
	cr_expect_eq(n, strlen(want), "length %zu, want %zu", n, strlen(want));
	cr_expect(n == strlen(want) && memcmp(out, want, n) == 0, "got:\n%.*s\nwant:\n%s", (int)n,
		  out, want);
	free(out);
}

/* A request as Junction sends it: our Via on top of the caller's, two
 * Record-Routes, and extra header lines X-Pad-1..n. */
static char *sent_invite(const char *from, const char *to, const char *route, unsigned extra)
{
	size_t cap = 4096 + strlen(from) + strlen(to) + strlen(route) + 32 * (size_t)extra, n;
	char *s = malloc(cap);

	cr_assert_not_null(s);
	n = (size_t)snprintf(
		s, cap,
		"INVITE sip:bob@192.0.2.4:5062 SIP/2.0\r\n"
		"Record-Route: <sip:192.0.2.1;lr>\r\n"
		"Record-Route: <sip:192.0.2.1;transport=tcp;lr>\r\n"
		"Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKab12.cd34\r\n"
		"Via: SIP/2.0/TCP 198.51.100.7:5070;branch=z9hG4bKcaller;rport=5070\r\n"
		"Route: %s\r\n"
		"Route: <sip:192.0.2.9;lr>\r\n"
		"Max-Forwards: 69\r\n"
		"From: %s\r\n"
		"To: %s\r\n"
		"Call-ID: big-1@198.51.100.7\r\n"
		"CSeq: 4711 INVITE\r\n"
		"Contact: <sip:alice@198.51.100.7:5070;transport=tcp>\r\n",
		route, from, to);
	for (unsigned i = 1; i <= extra; i++)
		n += (size_t)snprintf(s + n, cap - n, "X-Pad-%u: filler\r\n", i);
	n += (size_t)snprintf(s + n, cap - n,
			      "Content-Type: application/sdp\r\nContent-Length: 4\r\n\r\nv=0\n");
	cr_assert(n < cap);
	return s;
}

/* The CANCEL / ACK of sent_invite(): what §9.1 and §17.1.1.3 keep. */
static char *want_hop(const char *method, const char *from, const char *to, const char *route)
{
	return fmt("%s sip:bob@192.0.2.4:5062 SIP/2.0\r\n"
		   "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKab12.cd34\r\n"
		   "Route: %s\r\n"
		   "Route: <sip:192.0.2.9;lr>\r\n"
		   "From: %s\r\n"
		   "To: %s\r\n"
		   "Call-ID: big-1@198.51.100.7\r\n"
		   "CSeq: 4711 %s\r\n"
		   "Max-Forwards: 70\r\n"
		   "Content-Length: 0\r\n\r\n",
		   method, route, from, to, method);
}

/* (a) A request of as many header lines as max_headers can be set to
 * (1024, config.c) as the proxy sends it, with its Via and two
 * Record-Routes: 1027 lines, far past the old fixed 128. */
Test(txn_build, cancel_and_ack_at_max_headers)
{
	const char *from = "\"Alice\" <sip:alice@example.com>;tag=a1";
	const char *to = "<sip:bob@example.com>";
	const char *route = "<sip:192.0.2.8;lr>";
	char *req = sent_invite(from, to, route, 1027 - 14);
	char *want;

	want = want_hop("CANCEL", from, to, route);
	expect_hop(req, SIP_METHOD_CANCEL, NULL, want);
	free(want);
	want = want_hop("ACK", from, "<sip:bob@example.com>;tag=b9", route);
	expect_hop(req, SIP_METHOD_ACK, "<sip:bob@example.com>;tag=b9", want);
	free(want);
	free(req);
}

/* (b) From, To and Route of 8 KiB each: the old 4 KiB buffer and the
 * parser's default 8 KiB line limit both stopped these. */
Test(txn_build, cancel_and_ack_with_8k_from_to_route)
{
	char *pad = run_of('p', PAD_LEN);
	char *from = fmt("\"%s\" <sip:alice@example.com>;tag=a1", pad);
	char *to = fmt("\"%s\" <sip:bob@example.com>", pad);
	char *to_tagged = fmt("%s;tag=b9", to);
	char *route = fmt("<sip:192.0.2.8;lr;x-pad=%s>", pad);
	char *req = sent_invite(from, to, route, 0);
	char *want;

	want = want_hop("CANCEL", from, to, route);
	expect_hop(req, SIP_METHOD_CANCEL, NULL, want);
	free(want);
	want = want_hop("ACK", from, to_tagged, route);
	expect_hop(req, SIP_METHOD_ACK, to_tagged, want);
	free(want);
	free(req);
	free(route);
	free(to_tagged);
	free(to);
	free(from);
	free(pad);
}

/* Only the top Via value, even when the line holds more (§9.1: "a single
 * Via header field value matching the top Via value"); no Route when the
 * request had none; compact names are written out in full. */
Test(txn_build, top_via_value_only_and_no_route)
{
	const char *req = "INVITE sip:bob@192.0.2.4 SIP/2.0\r\n"
			  "v: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKtop, SIP/2.0/UDP "
			  "192.0.2.2;branch=z9hG4bKlow\r\n"
			  "f: <sip:alice@example.com>;tag=a1\r\n"
			  "t: <sip:bob@example.com>\r\n"
			  "i: c2@x\r\n"
			  "CSeq: 1 INVITE\r\n"
			  "l: 0\r\n\r\n";

	expect_hop(req, SIP_METHOD_CANCEL, NULL,
		   "CANCEL sip:bob@192.0.2.4 SIP/2.0\r\n"
		   "Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKtop\r\n"
		   "From: <sip:alice@example.com>;tag=a1\r\n"
		   "To: <sip:bob@example.com>\r\n"
		   "Call-ID: c2@x\r\n"
		   "CSeq: 1 CANCEL\r\n"
		   "Max-Forwards: 70\r\n"
		   "Content-Length: 0\r\n\r\n");
}

Test(txn_build, refuses_a_request_missing_what_it_needs)
{
	const char *no_from = "INVITE sip:bob@192.0.2.4 SIP/2.0\r\n"
			      "Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKx\r\n"
			      "To: <sip:bob@example.com>\r\n"
			      "Call-ID: c3@x\r\n"
			      "CSeq: 1 INVITE\r\n"
			      "Content-Length: 0\r\n\r\n";
	const char *response = "SIP/2.0 486 Busy Here\r\n"
			       "Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKx\r\n"
			       "From: <sip:alice@example.com>;tag=a1\r\n"
			       "To: <sip:bob@example.com>;tag=b\r\n"
			       "Call-ID: c3@x\r\n"
			       "CSeq: 1 INVITE\r\n"
			       "Content-Length: 0\r\n\r\n";
	char *out = (char *)1;
	size_t n = 1;

	cr_expect_eq(txn_build_hop(no_from, strlen(no_from), SIP_METHOD_CANCEL, NULL, &out, &n),
		     -EBADMSG);
	cr_expect_null(out);
	cr_expect_eq(n, 0);
	cr_expect_eq(txn_build_hop(response, strlen(response), SIP_METHOD_ACK, NULL, &out, &n),
		     -EBADMSG);
	cr_expect_null(out);
}

/* The re-parse indexes every line of a message beyond the default limits
 * (header count, line length), and its limits go with it. */
Test(txn_build, reparse_is_sized_from_the_message)
{
	char *pad = run_of('q', 3 * PAD_LEN);
	char *route = fmt("<sip:192.0.2.8;lr;x-pad=%s>", pad);
	char *req = sent_invite("<sip:a@x>;tag=1", "<sip:b@x>", route, 2000);
	struct txn_reparsed r;

	cr_assert_eq(txn_reparse(&r, req, strlen(req)), 0);
	cr_expect_eq(r.m.nhdrs, 2000 + 14);
	cr_expect_eq(sip_msg_hdr_count(&r.m, SIP_HDR_ROUTE), 2);
	cr_expect_eq(sip_msg_hdr(&r.m, SIP_HDR_ROUTE)->value.len, strlen(route));
	cr_expect_eq(sip_msg_via_count(&r.m), 2);
	cr_expect_eq(r.m.body.len, 4);
	txn_reparsed_free(&r);
	free(req);
	free(route);
	free(pad);
}
