/*
 * Unit tests for sip_reply: the responses Junction builds itself (RFC
 * 3261 §8.2.6), in particular the 400s to requests the parser refused,
 * which must be built from whatever the header index holds: a request
 * lacking From, To, Call-ID or CSeq (RFC 4475 §3.3.1), one whose Via
 * parameters are malformed (§3.1.2.1), one with a bad Request-Line
 * (§3.1.2.8). Without a readable Via nothing can be addressed.
 */
#include "runtime/sip_reply.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#define MAX_HDRS 64
static struct sip_hdr hdrs[MAX_HDRS];
static struct sip_msg m;
static char out[4096];

static int parse(const char *s)
{
	return sip_msg_parse(&m, s, strlen(s), hdrs, MAX_HDRS, NULL);
}

/* Builds the response to m into out (NUL-terminated); returns its length
 * or the error. */
static ssize_t build(unsigned status, const char *reason, const struct sip_source *src)
{
	struct sip_reply r = {.status = status, .reason = reason};
	ssize_t n = sip_reply_build(&m, src, &r, out, sizeof(out) - 1);

	if (n >= 0)
		out[n] = '\0';
	return n;
}

#define assert_has(text) cr_assert(strstr(out, (text)), "missing \"%s\" in:\n%s", (text), out)
#define assert_hasnt(text)                                                                         \
	cr_assert_null(strstr(out, (text)), "unexpected \"%s\" in:\n%s", (text), out)

Test(sip_reply, full_request_copies_and_tags)
{
	struct sip_source src = {.proto = SIP_PROTO_UDP};

	cr_assert_eq(netaddr_parse("192.0.2.9:5070", &src.remote), 0);
	cr_assert_eq(parse("OPTIONS sip:b@example.com SIP/2.0\r\n"
			   "Via: SIP/2.0/UDP h.example.com;branch=z9hG4bK1;rport\r\n"
			   "From: <sip:a@example.com>;tag=1\r\nTo: <sip:b@example.com>\r\n"
			   "Call-ID: c1@h\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"),
		     0);
	cr_assert_gt(build(404, NULL, &src), 0);
	cr_assert(strncmp(out, "SIP/2.0 404 Not Found\r\n", 23) == 0);
	assert_has(
		"Via: SIP/2.0/UDP h.example.com;branch=z9hG4bK1;rport=5070;received=192.0.2.9\r\n");
	assert_has("\r\nTo: <sip:b@example.com>;tag=");
	assert_has("\r\nCall-ID: c1@h\r\nCSeq: 1 OPTIONS\r\n");
	assert_has("\r\nContent-Length: 0\r\n\r\n");
}

Test(sip_reply, missing_headers_are_left_out)
{
	/* RFC 4475 §3.3.1 (insuf): no Call-ID, From or To. */
	cr_assert_eq(parse("INVITE sip:user@example.com SIP/2.0\r\n"
			   "CSeq: 193942 INVITE\r\n"
			   "Via: SIP/2.0/UDP 192.0.2.95;branch=z9hG4bKkdj.insuf\r\n"
			   "Content-Length: 0\r\n\r\n"),
		     0);
	cr_assert_eq(sip_msg_check_mandatory(&m, false), -EBADMSG);
	cr_assert_str_eq(m.error.reason, "Missing From, To, Call-ID");
	cr_assert_gt(build(m.error.status, m.error.reason, NULL), 0);
	cr_assert(strncmp(out, "SIP/2.0 400 Missing From, To, Call-ID\r\n", 39) == 0, "%s", out);
	assert_has("Via: SIP/2.0/UDP 192.0.2.95;branch=z9hG4bKkdj.insuf\r\n");
	assert_has("CSeq: 193942 INVITE\r\n");
	assert_hasnt("From:");
	assert_hasnt("To:");
	assert_hasnt("Call-ID:");

	/* Only a CSeq missing, and a To left untagged when it does not parse. */
	cr_assert_eq(
		parse("OPTIONS sip:b@example.com SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK2\r\n"
		      "From: <sip:a@example.com>;tag=1\r\nTo: \"unterminated <sip:b@h>\r\n"
		      "Call-ID: c2@h\r\n\r\n"),
		0);
	cr_assert_gt(build(400, "Missing CSeq", NULL), 0);
	assert_has("\r\nTo: \"unterminated <sip:b@h>\r\nCall-ID: c2@h\r\nContent-Length:");
	assert_hasnt("CSeq:");
}

/* No Server header unless [sip] server_header gives one: a scanner learns
 * nothing about the software from our answers. */
Test(sip_reply, server_header_only_when_configured)
{
	const char *req =
		"OPTIONS sip:b@example.com SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK3\r\n"
		"From: <sip:a@example.com>;tag=1\r\nTo: <sip:b@example.com>\r\n"
		"Call-ID: c3@h\r\nCSeq: 1 OPTIONS\r\n\r\n";

	cr_assert_eq(parse(req), 0);
	cr_assert_gt(build(200, NULL, NULL), 0);
	assert_hasnt("Server:");
	sip_reply_set_server("Acme SBC");
	cr_assert_eq(parse(req), 0);
	cr_assert_gt(build(200, NULL, NULL), 0);
	assert_has("\r\nServer: Acme SBC\r\nContent-Length: 0\r\n\r\n");
	sip_reply_set_server("");
	cr_assert_eq(parse(req), 0);
	cr_assert_gt(build(200, NULL, NULL), 0);
	assert_hasnt("Server:");
}

Test(sip_reply, malformed_via_parameters_still_addressed)
{
	/* RFC 4475 §3.1.2.1 (badinv01): the Via's parameters are garbage;
	 * its sent-by says where the 400 goes, and it is copied unstamped. */
	struct sip_source src = {.proto = SIP_PROTO_UDP};

	cr_assert_eq(netaddr_parse("198.51.100.1:5999", &src.remote), 0);
	cr_assert_eq(parse("INVITE sip:user@example.com SIP/2.0\r\n"
			   "To: sip:j.user@example.com\r\nFrom: sip:caller@example.net;tag=1\r\n"
			   "Call-ID: badinv01\r\nCSeq: 8 INVITE\r\n"
			   "Via: SIP/2.0/UDP 192.0.2.15;;,;,,\r\nContent-Length: 0\r\n\r\n"),
		     0);
	cr_assert_null(sip_msg_top_via(&m));
	cr_assert_gt(build(400, "Bad Via header", &src), 0);
	assert_has("\r\nVia: SIP/2.0/UDP 192.0.2.15;;,;,,\r\n");
	assert_hasnt("received=");
}

Test(sip_reply, bad_request_line_answered)
{
	cr_assert_eq(parse("INVITE sip:user@example.com; lr SIP/2.0\r\n"
			   "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKkdjuw2395\r\n"
			   "From: <sip:a@example.com>;tag=1\r\nTo: <sip:b@example.com>\r\n"
			   "Call-ID: lwsruri\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n"),
		     -EBADMSG);
	cr_assert_eq(m.error.status, 400);
	cr_assert_gt(build(m.error.status, m.error.reason, NULL), 0);
	cr_assert(strncmp(out, "SIP/2.0 400 Bad Request-Line\r\n", 30) == 0, "%s", out);
	assert_has("Call-ID: lwsruri\r\n");
}

Test(sip_reply, nothing_to_address)
{
	/* No Via, or no sent-by in it: nobody to answer. */
	cr_assert_eq(parse("INVITE sip:x@y SIP/2.0\r\nCall-ID: b\r\n\r\n"), 0);
	cr_assert_eq(build(400, NULL, NULL), -EBADMSG);
	cr_assert_eq(parse("INVITE sip:x@y SIP/2.0\r\nVia: broken\r\nCall-ID: b\r\n\r\n"), 0);
	cr_assert_eq(build(400, NULL, NULL), -EBADMSG);
	cr_assert_eq(parse("INVITE sip:x@y SIP/2.0\r\nVia: SIP/2.0/UDP host extra\r\n\r\n"), 0);
	cr_assert_eq(build(400, NULL, NULL), -EBADMSG);
}

Test(sip_reply, never_past_the_buffer)
{
	struct sip_reply r = {.status = 400};
	ssize_t n;

	cr_assert_eq(
		parse("OPTIONS sip:b@example.com SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK3\r\n"
		      "From: <sip:a@example.com>;tag=1\r\nTo: <sip:b@example.com>\r\n"
		      "Call-ID: c3@h\r\nCSeq: 1 OPTIONS\r\n\r\n"),
		0);
	n = sip_reply_build(&m, NULL, &r, out, sizeof(out));
	cr_assert_gt(n, 0);
	for (size_t cap = 0; cap < (size_t)n; cap++)
		cr_assert_eq(sip_reply_build(&m, NULL, &r, out, cap), -ENOSPC, "cap %zu", cap);
	/* putf() needs a byte for vsnprintf's NUL beyond what it keeps. */
	cr_assert_eq(sip_reply_build(&m, NULL, &r, out, (size_t)n + 1), n);
}

Test(sip_reply, reason_phrases)
{
	cr_assert_str_eq(sip_reason_phrase(404), "Not Found");
	cr_assert_str_eq(sip_reason_phrase(478), "Unresolvable Destination");
	cr_assert_str_eq(sip_reason_phrase(499), "Unknown");
}
