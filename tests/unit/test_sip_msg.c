/*
 * Unit tests for sip_msg: start lines, the header index (folding, compact
 * forms, chains, offsets), Content-Length framing, every limit at and one
 * past its value, the lazy accessors and their errors, the mandatory
 * header check, stream framing, the listeners' Call-ID scan, and
 * messages in the categories of RFC 4475 (odd but valid ones must parse,
 * invalid ones must be refused with the right status and reason).
 *
 * Every message is parsed from a read-only copy that ends where a
 * PROT_NONE page begins (guarded()), so an over-read or a write into the
 * buffer crashes the test. The messages are written for these tests.
 */
#include "sip/sip_msg.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

/* Copies s[0..n) so that it ends where an inaccessible page begins; the
 * copy is read-only. Not freed: each test runs in its own process. */
static const char *guarded(const char *s, size_t n)
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
	return dst;
}

#define MAX_HDRS 600
static struct sip_hdr hdrs[MAX_HDRS];
static struct sip_msg m;
static const char *gbuf; /* the guarded copy last parsed */

static int parse_n(const char *s, size_t n, const struct sip_limits *lim)
{
	gbuf = guarded(s, n);
	return sip_msg_parse(&m, gbuf, n, hdrs, MAX_HDRS, lim);
}

#define PARSE(lit) parse_n((lit), sizeof(lit) - 1, NULL)

#define assert_slice(s, want)                                                                      \
	cr_assert(sip_str_eq((s), sip_str_cstr(want)), "%s: expected \"%s\", got \"%.*s\"", #s,    \
		  (want), (int)(s).len, (s).p ? (s).p : "")

#define assert_error(st, why)                                                                      \
	do {                                                                                       \
		cr_assert_eq(m.error.status, (st), "status %u, want %u (%s)", m.error.status,      \
			     (st), m.error.reason ? m.error.reason : "");                          \
		cr_assert_str_eq(m.error.reason ? m.error.reason : "(none)", (why));               \
	} while (0)

/* A message builder for the bigger cases. */
static char mbuf[200000];
static size_t mlen;

__attribute__((format(printf, 1, 2))) static void madd(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(mbuf + mlen, sizeof(mbuf) - mlen, fmt, ap);
	va_end(ap);
	cr_assert(n >= 0 && (size_t)n < sizeof(mbuf) - mlen);
	mlen += (size_t)n;
}

static void madd_rep(char c, size_t n)
{
	cr_assert(mlen + n < sizeof(mbuf));
	memset(mbuf + mlen, c, n);
	mlen += n;
}

static int mparse(const struct sip_limits *lim)
{
	return parse_n(mbuf, mlen, lim);
}

#define MAND                                                                                       \
	"Via: SIP/2.0/UDP h.example.com;branch=z9hG4bK1\r\n"                                       \
	"From: <sip:a@example.com>;tag=1\r\n"                                                      \
	"To: <sip:b@example.com>\r\n"                                                              \
	"Call-ID: c1@h\r\n"                                                                        \
	"CSeq: 1 OPTIONS\r\n"
#define OPTIONS "OPTIONS sip:b@example.com SIP/2.0\r\n"

#define SDP                                                                                        \
	"v=0\r\n"                                                                                  \
	"o=alice 2890844526 2890844526 IN IP4 192.0.2.101\r\n"                                     \
	"s=-\r\n"                                                                                  \
	"c=IN IP4 192.0.2.101\r\n"                                                                 \
	"t=0 0\r\n"                                                                                \
	"m=audio 49172 RTP/AVP 0\r\n"                                                              \
	"a=rtpmap:0 PCMU/8000\r\n"

#define INVITE_HEAD                                                                                \
	"INVITE sip:bob@biloxi.example.com SIP/2.0\r\n"                                            \
	"Via: SIP/2.0/UDP pc33.atlanta.example.com:5060;branch=z9hG4bK776asdhds;rport\r\n"         \
	"Max-Forwards: 70\r\n"                                                                     \
	"To: Bob <sip:bob@biloxi.example.com>\r\n"                                                 \
	"From: \"Alice\" <sip:alice@atlanta.example.com>;tag=1928301774\r\n"                       \
	"Call-ID: a84b4c76e66710@pc33.atlanta.example.com\r\n"                                     \
	"CSeq: 314159 INVITE\r\n"                                                                  \
	"Via: SIP/2.0/TCP p1.example.com;branch=z9hG4bK1, SIP/2.0/UDP [2001:db8::1]:5070\r\n"      \
	"Contact: <sip:alice@pc33.atlanta.example.com>\r\n"                                        \
	"X-Trace: abc\r\n"                                                                         \
	"Content-Type: application/sdp\r\n"

static void build_invite(void)
{
	mlen = 0;
	madd("%sContent-Length: %zu\r\n\r\n%s", INVITE_HEAD, strlen(SDP), SDP);
}

/* --- start lines and the index ----------------------------------------- */

Test(sip_msg, request_fields)
{
	build_invite();
	cr_assert_eq(mparse(NULL), 0);
	cr_assert_eq(m.buf, gbuf);
	cr_assert_eq(m.len, mlen);
	cr_assert(m.request);
	assert_slice(m.method, "INVITE");
	cr_assert_eq(m.method_id, SIP_METHOD_INVITE);
	assert_slice(m.ruri, "sip:bob@biloxi.example.com");
	cr_assert_eq(m.ruri_off, 7);
	cr_assert_eq(m.buf + m.ruri_off, m.ruri.p);
	cr_assert_eq(m.status, 0);
	cr_assert_eq(m.headers_off, strlen("INVITE sip:bob@biloxi.example.com SIP/2.0\r\n"));
	cr_assert_eq(m.headers_end, strlen(INVITE_HEAD) + strlen("Content-Length: NNN\r\n"));
	cr_assert_eq(memcmp(m.buf + m.headers_end, "\r\n", 2), 0);
	cr_assert(m.has_content_length);
	assert_slice(m.body, SDP);
	cr_assert_eq(m.body.p, m.buf + m.headers_end + 2);
	cr_assert_eq(m.nhdrs, 11);
	cr_assert_eq(m.hdrs, hdrs);
	cr_assert_eq(m.max_hdrs, MAX_HDRS);
	cr_assert_eq(m.error.status, 0);
	cr_assert_null(m.error.reason);
	cr_assert_eq(m.parsed, 0);
	cr_assert_eq(m.parse_ok, 0);
}

Test(sip_msg, header_index_and_chains)
{
	static const struct {
		enum sip_hdr_id id;
		const char *name, *value;
	} want[] = {
		{SIP_HDR_VIA, "Via",
		 "SIP/2.0/UDP pc33.atlanta.example.com:5060;branch=z9hG4bK776asdhds;rport"},
		{SIP_HDR_MAX_FORWARDS, "Max-Forwards", "70"},
		{SIP_HDR_TO, "To", "Bob <sip:bob@biloxi.example.com>"},
		{SIP_HDR_FROM, "From", "\"Alice\" <sip:alice@atlanta.example.com>;tag=1928301774"},
		{SIP_HDR_CALL_ID, "Call-ID", "a84b4c76e66710@pc33.atlanta.example.com"},
		{SIP_HDR_CSEQ, "CSeq", "314159 INVITE"},
		{SIP_HDR_VIA, "Via",
		 "SIP/2.0/TCP p1.example.com;branch=z9hG4bK1, SIP/2.0/UDP [2001:db8::1]:5070"},
		{SIP_HDR_CONTACT, "Contact", "<sip:alice@pc33.atlanta.example.com>"},
		{SIP_HDR_OTHER, "X-Trace", "abc"},
		{SIP_HDR_CONTENT_TYPE, "Content-Type", "application/sdp"},
		{SIP_HDR_CONTENT_LENGTH, "Content-Length", "136"},
	};
	size_t i;
	int id;

	build_invite();
	cr_assert_eq(mparse(NULL), 0);
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		cr_assert_eq(hdrs[i].id, want[i].id, "header %zu", i);
		assert_slice(hdrs[i].name, want[i].name);
		assert_slice(hdrs[i].value, want[i].value);
	}
	cr_assert_eq(strlen(SDP), 136, "fixture: Content-Length above");

	/* Chains in order, first/last, counts. */
	cr_assert_eq(m.first[SIP_HDR_VIA], 0);
	cr_assert_eq(m.last[SIP_HDR_VIA], 6);
	cr_assert_eq(hdrs[0].next, 6);
	cr_assert_eq(hdrs[6].next, SIP_HDR_NONE);
	cr_assert_eq(sip_msg_hdr(&m, SIP_HDR_VIA), &hdrs[0]);
	cr_assert_eq(sip_msg_hdr_next(&m, &hdrs[0]), &hdrs[6]);
	cr_assert_null(sip_msg_hdr_next(&m, &hdrs[6]));
	cr_assert_eq(sip_msg_hdr_count(&m, SIP_HDR_VIA), 2);
	cr_assert_eq(sip_msg_hdr_count(&m, SIP_HDR_CSEQ), 1);
	cr_assert_eq(sip_msg_hdr_count(&m, SIP_HDR_ROUTE), 0);
	cr_assert_eq(sip_msg_hdr_count(&m, SIP_HDR_OTHER), 1);
	cr_assert_null(sip_msg_hdr(&m, SIP_HDR_ROUTE));
	for (id = 0; id < SIP_HDR__COUNT; id++) {
		if (m.first[id] == SIP_HDR_NONE) {
			cr_assert_eq(m.last[id], SIP_HDR_NONE);
			continue;
		}
		cr_assert_eq(hdrs[m.first[id]].id, id);
		cr_assert_eq(hdrs[m.last[id]].id, id);
		cr_assert_eq(hdrs[m.last[id]].next, SIP_HDR_NONE);
	}

	cr_assert_eq(sip_msg_hdr_by_name(&m, SIP_STR("x-TRACE")), &hdrs[8]);
	cr_assert_eq(sip_msg_hdr_by_name(&m, SIP_STR("i")), &hdrs[4]);
	cr_assert_eq(sip_msg_hdr_by_name(&m, SIP_STR("CSEQ")), &hdrs[5]);
	cr_assert_null(sip_msg_hdr_by_name(&m, SIP_STR("X-Other")));
	cr_assert_null(sip_msg_hdr_by_name(&m, SIP_STR("Route")));
}

Test(sip_msg, header_offsets_cover_whole_lines)
{
	uint16_t i;

	build_invite();
	cr_assert_eq(mparse(NULL), 0);
	cr_assert_eq(hdrs[0].start, m.headers_off);
	for (i = 0; i < m.nhdrs; i++) {
		const struct sip_hdr *h = &hdrs[i];

		cr_assert_eq(m.buf + h->start, h->name.p, "line %u starts with its name", i);
		cr_assert_eq(memcmp(m.buf + h->end - 2, "\r\n", 2), 0, "line %u ends with CRLF", i);
		cr_assert(h->value.p + h->value.len <= m.buf + h->end - 2);
		if (i + 1 < m.nhdrs)
			cr_assert_eq(h->end, hdrs[i + 1].start, "lines are contiguous");
		else
			cr_assert_eq(h->end, m.headers_end);
	}
	/* Deleting a whole line is cutting [start, end). */
	cr_assert_eq(memcmp(m.buf + hdrs[8].start, "X-Trace: abc\r\n", hdrs[8].end - hdrs[8].start),
		     0);
	cr_assert_eq(hdrs[8].end - hdrs[8].start, strlen("X-Trace: abc\r\n"));
}

Test(sip_msg, response_fields)
{
	cr_assert_eq(PARSE("SIP/2.0 180 Ringing\r\n" MAND "Content-Length: 0\r\n\r\n"), 0);
	cr_assert_not(m.request);
	cr_assert_eq(m.status, 180);
	assert_slice(m.reason, "Ringing");
	cr_assert_eq(m.method.len, 0);
	cr_assert_eq(m.ruri.len, 0);
	cr_assert_eq(m.nhdrs, 6);
	cr_assert_eq(m.body.len, 0);
	cr_assert_null(sip_msg_ruri(&m));

	cr_assert_eq(PARSE("SIP/2.0 699 Reason with  spaces\tand \xc3\xa9 UTF-8\r\n\r\n"), 0);
	cr_assert_eq(m.status, 699);
	assert_slice(m.reason, "Reason with  spaces\tand \xc3\xa9 UTF-8");
	cr_assert_eq(PARSE("SIP/2.0 100 \r\n\r\n"), 0);
	cr_assert_eq(m.status, 100);
	cr_assert_eq(m.reason.len, 0);
	/* Tolerated: no SP before an empty reason. */
	cr_assert_eq(PARSE("SIP/2.0 200\r\n\r\n"), 0);
	cr_assert_eq(m.status, 200);
	cr_assert_eq(m.reason.len, 0);
	cr_assert_eq(PARSE("sip/2.0 404 Not Found\r\n\r\n"), 0);
	cr_assert_eq(m.status, 404);
}

Test(sip_msg, leading_crlf_skipped)
{
	cr_assert_eq(PARSE("\r\n\r\n\n" OPTIONS MAND "\r\n"), 0);
	cr_assert_eq(m.buf, gbuf + 5);
	cr_assert_eq(m.len, strlen(OPTIONS MAND "\r\n"));
	assert_slice(m.method, "OPTIONS");
	cr_assert_eq(m.ruri_off, 8);
}

Test(sip_msg, bare_lf_line_ends)
{
	cr_assert_eq(PARSE("OPTIONS sip:b@example.com SIP/2.0\n"
			   "Via: SIP/2.0/UDP h;branch=z9hG4bK1\n"
			   "From: <sip:a@example.com>;tag=1\r\n"
			   "To: <sip:b@example.com>\n"
			   "Call-ID: c1@h\n"
			   "CSeq: 1 OPTIONS\n"
			   "Content-Length: 4\n"
			   "\n"
			   "body"),
		     0);
	cr_assert_eq(m.nhdrs, 6);
	assert_slice(hdrs[0].value, "SIP/2.0/UDP h;branch=z9hG4bK1");
	assert_slice(hdrs[2].value, "<sip:b@example.com>");
	cr_assert_eq(m.buf[hdrs[0].end - 1], '\n');
	cr_assert_eq(m.buf[hdrs[0].end - 2], '1');
	assert_slice(m.body, "body");
	cr_assert_eq(sip_msg_check_mandatory(&m, true), 0);
}

Test(sip_msg, folding)
{
	cr_assert_eq(PARSE(OPTIONS "Subject: first\r\n  second\r\n\tthird\r\n"
				   "Via: SIP/2.0/UDP\r\n h.example.com\r\n ;branch=z9hG4bK1\r\n"
				   "From:\r\n <sip:a@example.com>;tag=1\r\n"
				   "To: <sip:b@example.com>\r\n"
				   "Call-ID: c1@h\r\n"
				   "CSeq: 1\r\n OPTIONS\r\n"
				   "X-Empty-Fold:\r\n \r\n"
				   "Content-Length:\r\n 0\r\n"
				   "\r\n"),
		     0);
	cr_assert_eq(m.nhdrs, 8);
	assert_slice(hdrs[0].value, "first\r\n  second\r\n\tthird");
	cr_assert_eq(hdrs[0].start, m.headers_off);
	cr_assert_eq(hdrs[0].end, hdrs[1].start);
	cr_assert_eq(hdrs[0].end - hdrs[0].start,
		     strlen("Subject: first\r\n  second\r\n\tthird\r\n"));
	assert_slice(hdrs[1].value, "SIP/2.0/UDP\r\n h.example.com\r\n ;branch=z9hG4bK1");
	assert_slice(hdrs[2].value, "<sip:a@example.com>;tag=1");
	assert_slice(hdrs[5].value, "1\r\n OPTIONS");
	cr_assert_eq(hdrs[6].value.len, 0);
	assert_slice(hdrs[7].value, "0");
	cr_assert(m.has_content_length);

	/* The typed parsers read through the folds. */
	cr_assert_eq(sip_msg_check_mandatory(&m, true), 0);
	assert_slice(sip_msg_top_via(&m)->host, "h.example.com");
	assert_slice(sip_msg_top_via(&m)->branch, "z9hG4bK1");
	assert_slice(sip_msg_cseq(&m)->method, "OPTIONS");
}

Test(sip_msg, folding_errors)
{
	cr_assert_eq(PARSE(OPTIONS " Via: SIP/2.0/UDP h\r\n\r\n"), -EBADMSG);
	assert_error(400, "Bad Header Line");
	cr_assert_eq(PARSE(OPTIONS "\tX: y\r\n\r\n"), -EBADMSG);
	assert_error(400, "Bad Header Line");
}

Test(sip_msg, empty_values)
{
	cr_assert_eq(PARSE(OPTIONS "Subject:\r\ns:   \r\nX-A :\t\r\n" MAND "\r\n"), 0);
	cr_assert_eq(hdrs[0].id, SIP_HDR_SUBJECT);
	cr_assert_eq(hdrs[0].value.len, 0);
	cr_assert_eq(hdrs[1].id, SIP_HDR_SUBJECT);
	cr_assert_eq(hdrs[1].value.len, 0);
	assert_slice(hdrs[2].name, "X-A");
	cr_assert_eq(hdrs[2].value.len, 0);
	cr_assert_eq(sip_msg_hdr_count(&m, SIP_HDR_SUBJECT), 2);
}

Test(sip_msg, compact_forms)
{
	static const struct {
		const char *name;
		enum sip_hdr_id id;
	} compact[] = {
		{"i", SIP_HDR_CALL_ID},
		{"m", SIP_HDR_CONTACT},
		{"e", SIP_HDR_CONTENT_ENCODING},
		{"l", SIP_HDR_CONTENT_LENGTH},
		{"c", SIP_HDR_CONTENT_TYPE},
		{"f", SIP_HDR_FROM},
		{"s", SIP_HDR_SUBJECT},
		{"k", SIP_HDR_SUPPORTED},
		{"t", SIP_HDR_TO},
		{"v", SIP_HDR_VIA},
		{"o", SIP_HDR_EVENT},
		{"r", SIP_HDR_REFER_TO},
	};
	size_t i;

	for (i = 0; i < sizeof(compact) / sizeof(compact[0]); i++) {
		char upper[2] = {(char)(compact[i].name[0] - 32), 0};

		cr_assert_eq(sip_hdr_id_from_name(sip_str_cstr(compact[i].name)), compact[i].id);
		cr_assert_eq(sip_hdr_id_from_name(sip_str_cstr(upper)), compact[i].id);
	}
	cr_assert_eq(sip_hdr_id_from_name(SIP_STR("a")), SIP_HDR_OTHER);
	cr_assert_eq(sip_hdr_id_from_name(SIP_STR("x")), SIP_HDR_OTHER);
	cr_assert_eq(sip_hdr_id_from_name(SIP_STR("u")), SIP_HDR_OTHER);

	cr_assert_eq(PARSE("SIP/2.0 200 OK\r\n"
			   "v: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"
			   "F: <sip:a@example.com>;tag=1\r\n"
			   "t :<sip:b@example.com>;tag=2\r\n"
			   "I\t: c1@h\r\n"
			   "CSeq: 1 OPTIONS\r\n"
			   "m: <sip:a@192.0.2.1>\r\n"
			   "k: path\r\n"
			   "L: 0\r\n"
			   "\r\n"),
		     0);
	cr_assert_eq(hdrs[0].id, SIP_HDR_VIA);
	assert_slice(hdrs[0].name, "v");
	cr_assert_eq(hdrs[1].id, SIP_HDR_FROM);
	cr_assert_eq(hdrs[2].id, SIP_HDR_TO);
	assert_slice(hdrs[2].name, "t");
	cr_assert_eq(hdrs[3].id, SIP_HDR_CALL_ID);
	assert_slice(hdrs[3].name, "I");
	assert_slice(hdrs[3].value, "c1@h");
	cr_assert_eq(hdrs[5].id, SIP_HDR_CONTACT);
	cr_assert_eq(hdrs[6].id, SIP_HDR_SUPPORTED);
	cr_assert_eq(hdrs[7].id, SIP_HDR_CONTENT_LENGTH);
	cr_assert(m.has_content_length);
	cr_assert_eq(sip_msg_check_mandatory(&m, true), 0);
	assert_slice(sip_msg_call_id(&m), "c1@h");
	assert_slice(sip_msg_to(&m)->tag, "2");
}

Test(sip_msg, header_names_roundtrip_and_case)
{
	enum sip_hdr_id id;

	cr_assert_str_eq(sip_hdr_name(SIP_HDR_OTHER), "");
	cr_assert_str_eq(sip_hdr_name(SIP_HDR__COUNT), "");
	cr_assert_str_eq(sip_hdr_name(SIP_HDR_CALL_ID), "Call-ID");
	cr_assert_str_eq(sip_hdr_name(SIP_HDR_WWW_AUTHENTICATE), "WWW-Authenticate");
	for (id = 1; id < SIP_HDR__COUNT; id++) {
		const char *name = sip_hdr_name(id);
		char lower[32], upper[32];
		size_t i, n = strlen(name);

		cr_assert(n > 1 && n < sizeof(lower), "id %d has a name", id);
		for (i = 0; i <= n; i++) {
			lower[i] =
				(char)(name[i] >= 'A' && name[i] <= 'Z' ? name[i] + 32 : name[i]);
			upper[i] =
				(char)(name[i] >= 'a' && name[i] <= 'z' ? name[i] - 32 : name[i]);
		}
		cr_assert_eq(sip_hdr_id_from_name(sip_str_cstr(name)), id, "%s", name);
		cr_assert_eq(sip_hdr_id_from_name(sip_str_cstr(lower)), id, "%s", lower);
		cr_assert_eq(sip_hdr_id_from_name(sip_str_cstr(upper)), id, "%s", upper);
		/* One letter off, one longer, one shorter: unknown. */
		lower[n - 1] = lower[n - 1] == 'z' ? 'y' : 'z';
		cr_assert_eq(sip_hdr_id_from_name(sip_str_cstr(lower)), SIP_HDR_OTHER, "%s", lower);
		if (n > 2) /* "T" is the compact To */
			cr_assert_eq(sip_hdr_id_from_name(sip_str_make(name, n - 1)), SIP_HDR_OTHER,
				     "%s", name);
		upper[n] = 'X';
		cr_assert_eq(sip_hdr_id_from_name(sip_str_make(upper, n + 1)), SIP_HDR_OTHER);
	}
	/* Any single byte changed, at any position, makes a name unknown. */
	for (id = 1; id < SIP_HDR__COUNT; id++) {
		char tmp[32];
		size_t i, n = strlen(sip_hdr_name(id));

		for (i = 0; i < n; i++) {
			memcpy(tmp, sip_hdr_name(id), n);
			tmp[i] = '~';
			cr_assert_eq(sip_hdr_id_from_name(sip_str_make(tmp, n)), SIP_HDR_OTHER,
				     "%.*s", (int)n, tmp);
		}
	}
	cr_assert_eq(sip_hdr_id_from_name(SIP_STR("")), SIP_HDR_OTHER);
	cr_assert_eq(sip_hdr_id_from_name(SIP_STR("Call\rID")), SIP_HDR_OTHER);
	cr_assert_eq(sip_hdr_id_from_name(SIP_STR("Call ID")), SIP_HDR_OTHER);
	cr_assert_eq(sip_hdr_id_from_name(SIP_STR("Via ")), SIP_HDR_OTHER);
	cr_assert_eq(sip_hdr_id_from_name(SIP_STR("Vi@")), SIP_HDR_OTHER);
	cr_assert_eq(sip_hdr_id_from_name(SIP_STR("Contact-X")), SIP_HDR_OTHER);
	cr_assert_eq(sip_hdr_id_from_name(SIP_STR("Content-Lengthy")), SIP_HDR_OTHER);

	cr_assert_eq(PARSE(OPTIONS "cAlL-iD: x\r\nCONTENT-LENGTH: 0\r\nwww-authenticate: D\r\n"
				   "max-FORWARDS: 1\r\nrecord-route: <sip:p>\r\n\r\n"),
		     0);
	cr_assert_eq(hdrs[0].id, SIP_HDR_CALL_ID);
	cr_assert_eq(hdrs[1].id, SIP_HDR_CONTENT_LENGTH);
	cr_assert_eq(hdrs[2].id, SIP_HDR_WWW_AUTHENTICATE);
	cr_assert_eq(hdrs[3].id, SIP_HDR_MAX_FORWARDS);
	cr_assert_eq(hdrs[4].id, SIP_HDR_RECORD_ROUTE);
}

Test(sip_msg, methods)
{
	enum sip_method id;

	for (id = 1; id < SIP_METHOD__COUNT; id++) {
		const char *name = sip_method_name(id);

		cr_assert(strlen(name) >= 3);
		cr_assert_eq(sip_method_from_str(sip_str_cstr(name)), id, "%s", name);
	}
	cr_assert_str_eq(sip_method_name(SIP_METHOD_INVITE), "INVITE");
	cr_assert_str_eq(sip_method_name(SIP_METHOD_OTHER), "");
	cr_assert_str_eq(sip_method_name(SIP_METHOD__COUNT), "");
	/* Case-sensitive (§7.1). */
	cr_assert_eq(sip_method_from_str(SIP_STR("invite")), SIP_METHOD_OTHER);
	cr_assert_eq(sip_method_from_str(SIP_STR("Invite")), SIP_METHOD_OTHER);
	cr_assert_eq(sip_method_from_str(SIP_STR("INVITEX")), SIP_METHOD_OTHER);
	cr_assert_eq(sip_method_from_str(SIP_STR("INVIT")), SIP_METHOD_OTHER);
	cr_assert_eq(sip_method_from_str(SIP_STR("AAA")), SIP_METHOD_OTHER);
	cr_assert_eq(sip_method_from_str(SIP_STR("")), SIP_METHOD_OTHER);
	cr_assert_eq(sip_method_from_str(SIP_STR("ZZZZZZ")), SIP_METHOD_OTHER);
}

Test(sip_msg, unknown_method_and_headers)
{
	cr_assert_eq(PARSE("NEWMETHOD sip:b@example.com SIP/2.0\r\n"
			   "Via: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"
			   "From: <sip:a@example.com>;tag=1\r\n"
			   "To: <sip:b@example.com>\r\n"
			   "Call-ID: c1@h\r\n"
			   "CSeq: 1 NEWMETHOD\r\n"
			   "X-Unknown: 1\r\n"
			   "x-unknown: 2\r\n"
			   "P-Asserted-Identity: <sip:a@example.com>\r\n"
			   "!odd.name%*_+`'~: token characters all\r\n"
			   "\r\n"),
		     0);
	assert_slice(m.method, "NEWMETHOD");
	cr_assert_eq(m.method_id, SIP_METHOD_OTHER);
	cr_assert_eq(sip_msg_hdr_count(&m, SIP_HDR_OTHER), 4);
	cr_assert_eq(sip_msg_hdr_by_name(&m, SIP_STR("X-UNKNOWN")), &hdrs[5]);
	assert_slice(sip_msg_hdr_by_name(&m, SIP_STR("!ODD.NAME%*_+`'~"))->value,
		     "token characters all");
	cr_assert_eq(sip_msg_check_mandatory(&m, false), 0);
	cr_assert_not(m.has_content_length);
}

/* --- refusals of the start line and header lines ------------------------ */

struct bad_case {
	const char *msg;
	int err;
	uint16_t status;
	const char *reason;
};

static void check_bad_parses(const struct bad_case *c, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		int err = parse_n(c[i].msg, strlen(c[i].msg), NULL);

		cr_assert_eq(err, c[i].err, "case %zu \"%s\": err %d, want %d (%s)", i, c[i].msg,
			     err, c[i].err, m.error.reason ? m.error.reason : "");
		cr_assert_eq(m.error.status, c[i].status, "case %zu: status %u", i, m.error.status);
		cr_assert_str_eq(m.error.reason, c[i].reason, "case %zu", i);
	}
}

#define BAD_REQ "Bad Request-Line"

Test(sip_msg, request_line_refused)
{
	static const struct bad_case c[] = {
		/* RFC 4475 §3.1.2.10, §3.1.2.11, §3.1.2.7 */
		{"INVITE  sip:a@h SIP/2.0\r\n\r\n", -EBADMSG, 400, BAD_REQ},
		{"INVITE sip:a@h  SIP/2.0\r\n\r\n", -EBADMSG, 400, BAD_REQ},
		{"INVITE sip:a@h SIP/2.0 \r\n\r\n", -EBADMSG, 400, BAD_REQ},
		{"INVITE sip:a@h; lr SIP/2.0\r\n\r\n", -EBADMSG, 400, BAD_REQ},
		{"INVITE sip:a\th SIP/2.0\r\n\r\n", -EBADMSG, 400, BAD_REQ},
		{"INVITE\tsip:a@h SIP/2.0\r\n\r\n", -EBADMSG, 400, BAD_REQ},
		{" INVITE sip:a@h SIP/2.0\r\n\r\n", -EBADMSG, 400, BAD_REQ},
		{"INVITE sip:a@h\r\n\r\n", -EBADMSG, 400, BAD_REQ},
		{"INVITE\r\n\r\n", -EBADMSG, 400, BAD_REQ},
		{"INVITE \r\n\r\n", -EBADMSG, 400, BAD_REQ},
		{"INV@ITE sip:a@h SIP/2.0\r\n\r\n", -EBADMSG, 400, BAD_REQ},
		{"INVITE sip:a@h HTTP/1.1\r\n\r\n", -EBADMSG, 400, BAD_REQ},
		{"INVITE sip:a@h SIP/2.0a\r\n\r\n", -EBADMSG, 400, BAD_REQ},
		{"INVITE sip:a@h SIP/20\r\n\r\n", -EBADMSG, 400, BAD_REQ},
		{"INVITE sip:a@h SIP/.0\r\n\r\n", -EBADMSG, 400, BAD_REQ},
		{"INVITE sip:a@h SIP/2.\r\n\r\n", -EBADMSG, 400, BAD_REQ},
		{"INVITE sip:a@h SIP/2.0.1\r\n\r\n", -EBADMSG, 400, BAD_REQ},
		{"INVITE sip:a@h SIP/\r\n\r\n", -EBADMSG, 400, BAD_REQ},
		{"GET / HTTP/1.1\r\nHost: x\r\n\r\n", -EBADMSG, 400, BAD_REQ},
		{"HTTP/1.1 200 OK\r\n\r\n", -EBADMSG, 400, BAD_REQ},
		{"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n", -EBADMSG, 400, BAD_REQ},
		{"hello\r\n\r\n", -EBADMSG, 400, BAD_REQ},
		{"INVITE sip:a@h SIP/2.0\x1b\r\n\r\n", -EBADMSG, 400, BAD_REQ},
		{"INVITE sip:a@h\rSIP/2.0\r\n\r\n", -EBADMSG, 400, BAD_REQ},
		/* RFC 4475 §3.1.2.17: unknown version */
		{"INVITE sip:a@h SIP/7.0\r\n\r\n", -EPROTO, 505, "Version Not Supported"},
		{"INVITE sip:a@h SIP/2.1\r\n\r\n", -EPROTO, 505, "Version Not Supported"},
		{"OPTIONS sip:a@h sip/10.20\r\n\r\n", -EPROTO, 505, "Version Not Supported"},
	};

	check_bad_parses(c, sizeof(c) / sizeof(c[0]));
}

Test(sip_msg, errors_keep_the_headers_indexed)
{
	/* A 505 or a body error can still be answered: the headers are
	 * indexed even though the parse failed. */
	cr_assert_eq(PARSE("INVITE sip:a@h SIP/7.0\r\n" MAND "Content-Length: 0\r\n\r\n"), -EPROTO);
	assert_error(505, "Version Not Supported");
	cr_assert_eq(m.nhdrs, 6);
	cr_assert_not_null(sip_msg_top_via(&m));
	cr_assert_eq(sip_msg_cseq(&m)->num, 1);
	assert_slice(sip_msg_call_id(&m), "c1@h");

	cr_assert_eq(PARSE(OPTIONS MAND "Content-Length: -5\r\n\r\n"), -EBADMSG);
	assert_error(400, "Bad Content-Length");
	cr_assert_eq(m.nhdrs, 6);
	cr_assert_eq(sip_msg_check_mandatory(&m, false), 0);

	/* A later error in the headers wins over the version. */
	cr_assert_eq(PARSE("INVITE sip:a@h SIP/7.0\r\n" MAND "bad line\r\n\r\n"), -EBADMSG);
	assert_error(400, "Bad Header Line");
	cr_assert_eq(m.nhdrs, 5);
	cr_assert_eq(PARSE("SIP/3.0 200 OK\r\n" MAND "\r\n"), -EPROTO);
	assert_error(0, "Version Not Supported");
	cr_assert_eq(m.status, 200);
}

Test(sip_msg, bad_request_line_keeps_the_headers)
{
	/* RFC 4475 §3.1.2.8-3.1.2.10 want a 400 to these: everything a
	 * response copies is indexed behind the refused start line. */
	static const char *const lines[] = {
		"INVITE sip:user@example.com; lr SIP/2.0\r\n",
		"INVITE  sip:user@example.com  SIP/2.0\r\n",
		"OPTIONS sip:user@example.com SIP/2.0  \r\n",
		"hello\r\n",
	};

	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		mlen = 0;
		madd("%s" MAND "Content-Length: 0\r\n\r\n", lines[i]);
		cr_assert_eq(mparse(NULL), -EBADMSG, "case %zu", i);
		assert_error(400, BAD_REQ);
		cr_assert_eq(m.nhdrs, 6, "case %zu", i);
		cr_assert_not_null(sip_msg_top_via(&m));
		assert_slice(sip_msg_call_id(&m), "c1@h");
		cr_assert_eq(m.body.len, 0);
	}
	/* The method is known when its token was fine (an ACK is never
	 * answered, whatever is wrong with it). */
	cr_assert_eq(PARSE("ACK  sip:a@h SIP/2.0\r\n" MAND "\r\n"), -EBADMSG);
	cr_assert_eq(m.method_id, SIP_METHOD_ACK);
}

Test(sip_msg, bad_header_lines_skipped_and_reported)
{
	/* The first bad line is the error; the lines after it, folded ones
	 * included, are still indexed, the bad one and its folds are not. */
	cr_assert_eq(PARSE(OPTIONS
			   "Via: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"
			   "no colon here\r\n"
			   " folded onto the bad line\r\n"
			   "Fo@o: x\r\n"
			   "From: <sip:a@example.com>;tag=1\r\n"
			   "To:\r\n <sip:b@example.com>\r\n"
			   "Call-ID: c1@h\r\nCSeq: 1 OPTIONS\r\nContent-Length: 2\r\n\r\nab"),
		     -EBADMSG);
	assert_error(400, "Bad Header Line");
	cr_assert_eq(m.nhdrs, 6);
	assert_slice(sip_msg_to(&m)->uri_str, "sip:b@example.com");
	assert_slice(m.body, "ab");
	for (unsigned i = 0; i < m.nhdrs; i++)
		cr_assert_null(memmem(hdrs[i].value.p, hdrs[i].value.len, "folded", 6));
	/* A fatal error later still leaves the first one reported. */
	cr_assert_eq(PARSE(OPTIONS MAND "bad\r\nSubject: \x01\r\n\r\n"), -EBADMSG);
	assert_error(400, "Bad Header Line");
}

Test(sip_msg, request_line_nul_byte)
{
	cr_assert_eq(parse_n("INVITE sip:a\0@h SIP/2.0\r\n\r\n", 27, NULL), -EBADMSG);
	assert_error(400, BAD_REQ);
}

Test(sip_msg, request_line_oddities_accepted)
{
	/* Version case-insensitive; the URI's scheme is not checked here. */
	cr_assert_eq(PARSE("INVITE sip:a@h sip/2.0\r\n\r\n"), 0);
	cr_assert_eq(PARSE("INVITE <sip:a@h> SIP/2.0\r\n\r\n"), 0);
	assert_slice(m.ruri, "<sip:a@h>");
	cr_assert_eq(PARSE("INVITE mailto:a@h SIP/2.0\r\n\r\n"), 0);
	cr_assert_eq(PARSE("!interesting-Method0123456789_*+`.%indeed'~ sip:a@h SIP/2.0\r\n\r\n"),
		     0);
	assert_slice(m.method, "!interesting-Method0123456789_*+`.%indeed'~");
}

Test(sip_msg, status_line_refused)
{
	/* Responses cannot be answered: status 0. */
	static const struct bad_case c[] = {
		{"SIP/2.0 099 Low\r\n\r\n", -EBADMSG, 0, "Bad Status-Line"},
		{"SIP/2.0 700 High\r\n\r\n", -EBADMSG, 0, "Bad Status-Line"},
		{"SIP/2.0 000 Zero\r\n\r\n", -EBADMSG, 0, "Bad Status-Line"},
		/* RFC 4475 §3.1.2.20: overlarge response code */
		{"SIP/2.0 4294967301 better not break\r\n\r\n", -EBADMSG, 0, "Bad Status-Line"},
		{"SIP/2.0 2000 OK\r\n\r\n", -EBADMSG, 0, "Bad Status-Line"},
		{"SIP/2.0 20 OK\r\n\r\n", -EBADMSG, 0, "Bad Status-Line"},
		{"SIP/2.0 2x0 OK\r\n\r\n", -EBADMSG, 0, "Bad Status-Line"},
		{"SIP/2.0  200 OK\r\n\r\n", -EBADMSG, 0, "Bad Status-Line"},
		{"SIP/2.0\r\n\r\n", -EBADMSG, 0, "Bad Status-Line"},
		{"SIP/2.0 \r\n\r\n", -EBADMSG, 0, "Bad Status-Line"},
		{"SIP/2.0 200\tOK\r\n\r\n", -EBADMSG, 0, "Bad Status-Line"},
		{"SIP/2.0 200 O\x01K\r\n\r\n", -EBADMSG, 0, "Bad Status-Line"},
		{"SIP/2.0x 200 OK\r\n\r\n", -EBADMSG, 0, "Bad Status-Line"},
		{"SIP/3.0 200 OK\r\n\r\n", -EPROTO, 0, "Version Not Supported"},
	};

	check_bad_parses(c, sizeof(c) / sizeof(c[0]));
}

Test(sip_msg, empty_messages)
{
	cr_assert_eq(PARSE(""), -EBADMSG);
	assert_error(0, "Empty Message");
	cr_assert_eq(PARSE("\r\n\r\n"), -EBADMSG);
	assert_error(0, "Empty Message");
	cr_assert_eq(PARSE("\n"), -EBADMSG);
	assert_error(0, "Empty Message");
}

Test(sip_msg, header_lines_refused)
{
	static const struct bad_case c[] = {
		{OPTIONS "NoColonHere\r\n\r\n", -EBADMSG, 400, "Bad Header Line"},
		{OPTIONS ": no name\r\n\r\n", -EBADMSG, 400, "Bad Header Line"},
		{OPTIONS " : no name\r\n\r\n", -EBADMSG, 400, "Bad Header Line"},
		{OPTIONS "Fo@o: x\r\n\r\n", -EBADMSG, 400, "Bad Header Line"},
		{OPTIONS "Call ID: x\r\n\r\n", -EBADMSG, 400, "Bad Header Line"},
		{OPTIONS "X-\xc3\xa9: x\r\n\r\n", -EBADMSG, 400, "Bad Header Line"},
		{OPTIONS "<Via>: x\r\n\r\n", -EBADMSG, 400, "Bad Header Line"},
		{OPTIONS "Via;x: y\r\n\r\n", -EBADMSG, 400, "Bad Header Line"},
		{OPTIONS "Subject: esc \x1b[31m\r\n\r\n", -EBADMSG, 400,
		 "Control Character in Header"},
		{OPTIONS "Subject: bare\rCR\r\n\r\n", -EBADMSG, 400, "Control Character in Header"},
		{OPTIONS "Subject: a\r\rb\r\n\r\n", -EBADMSG, 400, "Control Character in Header"},
		{OPTIONS "Subject: \x7f is fine but \x01 is not\r\n\r\n", -EBADMSG, 400,
		 "Control Character in Header"},
		{"SIP/2.0 200 OK\r\nSubject: \x02\r\n\r\n", -EBADMSG, 0,
		 "Control Character in Header"},
		{"SIP/2.0 200 OK\r\nno colon\r\n\r\n", -EBADMSG, 0, "Bad Header Line"},
	};

	check_bad_parses(c, sizeof(c) / sizeof(c[0]));
}

Test(sip_msg, nul_bytes_refused_in_headers)
{
	/* strlen-based cases above stop at a NUL: these carry it. */
	static const char a[] = OPTIONS "Subject: a\0b\r\n\r\n";
	static const char b[] = OPTIONS "X\0Y: z\r\n\r\n";

	cr_assert_eq(parse_n(a, sizeof(a) - 1, NULL), -EBADMSG);
	assert_error(400, "Control Character in Header");
	cr_assert_eq(parse_n(b, sizeof(b) - 1, NULL), -EBADMSG);
	assert_error(400, "Control Character in Header");
}

Test(sip_msg, tabs_and_utf8_in_values)
{
	cr_assert_eq(PARSE(OPTIONS
			   "Subject:\ttab\tinside\t\r\nX-Utf8: J\xc3\xbcrgen \xe2\x82\xac\r\n"
			   "X-Del: \x7f\r\n\r\n"),
		     0);
	assert_slice(hdrs[0].value, "tab\tinside");
	assert_slice(hdrs[1].value, "J\xc3\xbcrgen \xe2\x82\xac");
	assert_slice(hdrs[2].value, "\x7f");
}

Test(sip_msg, truncated_messages)
{
	static const struct bad_case c[] = {
		{"INVITE sip:a@h SIP/2.0", -EBADMSG, 400, "Truncated Message"},
		{"INVITE sip:a@h SIP/2.0\r", -EBADMSG, 400, "Truncated Message"},
		{"INVITE sip:a@h SIP/2.0\r\n", -EBADMSG, 400, "Truncated Message"},
		{OPTIONS "Via: SIP/2.0/UDP h", -EBADMSG, 400, "Truncated Message"},
		{OPTIONS MAND, -EBADMSG, 400, "Truncated Message"},
		{OPTIONS MAND "\r", -EBADMSG, 400, "Truncated Message"},
		{OPTIONS MAND "X: y\r", -EBADMSG, 400, "Truncated Message"},
		{OPTIONS MAND "Content-Length: 10\r\n\r\n12345", -EBADMSG, 400, "Truncated Body"},
		{"SIP/2.0 200 OK\r\nVia: x", -EBADMSG, 0, "Truncated Message"},
	};

	check_bad_parses(c, sizeof(c) / sizeof(c[0]));
}

/* --- Content-Length ------------------------------------------------------ */

Test(sip_msg, content_length_frames_body)
{
	/* Extra datagram bytes after the body are discarded (§18.3,
	 * RFC 4475 §3.1.1.9). */
	static const char msg[] = OPTIONS MAND "Content-Length: 4\r\n\r\nbodyEXTRA BYTES";

	cr_assert_eq(PARSE(msg), 0);
	assert_slice(m.body, "body");
	cr_assert_eq(m.len, sizeof(msg) - 1 - strlen("EXTRA BYTES"));
	cr_assert(m.has_content_length);

	cr_assert_eq(PARSE(OPTIONS MAND "Content-Length: 0\r\n\r\n\r\n\r\ngarbage"), 0);
	cr_assert_eq(m.body.len, 0);
	cr_assert_eq(m.len, strlen(OPTIONS MAND "Content-Length: 0\r\n\r\n"));

	cr_assert_eq(PARSE(OPTIONS MAND "l: 000004\r\nContent-Length: 4\r\n\r\nbody"), 0);
	assert_slice(m.body, "body");

	/* Without Content-Length: the rest of the datagram. */
	cr_assert_eq(PARSE(OPTIONS MAND "\r\nall of\r\nthis"), 0);
	cr_assert_not(m.has_content_length);
	assert_slice(m.body, "all of\r\nthis");

	/* Binary bodies are not scanned. */
	static const char bin[] = OPTIONS MAND "Content-Length: 4\r\n\r\n\0\r\x01\n";
	cr_assert_eq(parse_n(bin, sizeof(bin) - 1, NULL), 0);
	cr_assert_eq(m.body.len, 4);
	cr_assert_eq(memcmp(m.body.p, "\0\r\x01\n", 4), 0);
}

Test(sip_msg, content_length_refused)
{
	static const struct bad_case c[] = {
		/* RFC 4475 §3.1.2.2: larger than the message */
		{OPTIONS MAND "Content-Length: 9999\r\n\r\nshort", -EBADMSG, 400, "Truncated Body"},
		{OPTIONS MAND "Content-Length: 1\r\n\r\n", -EBADMSG, 400, "Truncated Body"},
		/* §3.1.2.3: negative */
		{OPTIONS MAND "Content-Length: -999\r\n\r\n", -EBADMSG, 400, "Bad Content-Length"},
		/* §3.1.2.4: overlarge scalar */
		{OPTIONS MAND "Content-Length: 9999999999999999999999\r\n\r\n", -EBADMSG, 400,
		 "Bad Content-Length"},
		{OPTIONS MAND "Content-Length: 4294967296\r\n\r\n", -EBADMSG, 400,
		 "Bad Content-Length"},
		{OPTIONS MAND "Content-Length: 4294967295\r\n\r\n", -EMSGSIZE, 513,
		 "Message Too Large"},
		{OPTIONS MAND "Content-Length: 70000\r\n\r\nx", -EMSGSIZE, 513,
		 "Message Too Large"},
		{OPTIONS MAND "Content-Length: abc\r\n\r\n", -EBADMSG, 400, "Bad Content-Length"},
		{OPTIONS MAND "Content-Length:\r\n\r\n", -EBADMSG, 400, "Bad Content-Length"},
		{OPTIONS MAND "Content-Length: 1 2\r\n\r\nab", -EBADMSG, 400, "Bad Content-Length"},
		{OPTIONS MAND "Content-Length: 0x10\r\n\r\n", -EBADMSG, 400, "Bad Content-Length"},
		{OPTIONS MAND "Content-Length: 2\r\nl: 3\r\n\r\nabc", -EBADMSG, 400,
		 "Conflicting Content-Length"},
		{"SIP/2.0 200 OK\r\nContent-Length: 5\r\n\r\n", -EBADMSG, 0, "Truncated Body"},
	};

	check_bad_parses(c, sizeof(c) / sizeof(c[0]));
}

/* --- limits --------------------------------------------------------------- */

/* An OPTIONS of exactly total bytes (no Content-Length): padding goes in
 * X-Pad headers of at most 1000 bytes a line. */
static void build_sized(size_t total)
{
	mlen = 0;
	madd(OPTIONS MAND);
	while (total - mlen > 1000 + 12)
		madd("X-Pad: %0990d\r\n", 0);
	cr_assert(total - mlen >= 12);
	madd("X-Pad: ");
	madd_rep('p', total - mlen - 4);
	madd("\r\n\r\n");
	cr_assert_eq(mlen, total);
}

Test(sip_msg, limit_message_size)
{
	struct sip_limits lim = {.max_message_size = 600};

	build_sized(600);
	cr_assert_eq(mparse(&lim), 0);
	cr_assert_eq(m.len, 600);
	build_sized(601);
	cr_assert_eq(mparse(&lim), -EMSGSIZE);
	assert_error(513, "Message Too Large");

	/* The body counts: headers + Content-Length at and beyond. */
	mlen = 0;
	madd(OPTIONS MAND "Content-Length: 100\r\n\r\n");
	lim.max_message_size = (uint32_t)mlen + 100;
	madd_rep('b', 100);
	cr_assert_eq(mparse(&lim), 0);
	cr_assert_eq(m.body.len, 100);
	lim.max_message_size--;
	cr_assert_eq(mparse(&lim), -EMSGSIZE);
	assert_error(513, "Message Too Large");

	/* Bytes beyond a Content-Length body do not count. */
	mlen = 0;
	madd(OPTIONS MAND "Content-Length: 0\r\n\r\n");
	lim.max_message_size = (uint32_t)mlen;
	madd_rep('x', 1000);
	cr_assert_eq(mparse(&lim), 0);
}

Test(sip_msg, limit_message_size_default)
{
	build_sized(SIP_DEFAULT_MAX_MESSAGE_SIZE);
	cr_assert_eq(mparse(NULL), 0);
	build_sized(SIP_DEFAULT_MAX_MESSAGE_SIZE + 1);
	cr_assert_eq(mparse(NULL), -EMSGSIZE);
	assert_error(513, "Message Too Large");

	/* Headers that do not end within the limit: the scan stops there. */
	mlen = 0;
	madd(OPTIONS);
	while (mlen < 70000)
		madd("X-Long: %08000d\r\n", 0);
	cr_assert_eq(mparse(NULL), -EMSGSIZE);
	assert_error(513, "Message Too Large");
}

/* An OPTIONS with n header lines in total. */
static void build_headers(unsigned n)
{
	unsigned i;

	mlen = 0;
	madd(OPTIONS MAND);
	for (i = 5; i < n; i++)
		madd("X-H%u: %u\r\n", i, i);
	madd("\r\n");
}

Test(sip_msg, limit_header_count)
{
	struct sip_limits lim = {.max_headers = 20};

	build_headers(20);
	cr_assert_eq(mparse(&lim), 0);
	cr_assert_eq(m.nhdrs, 20);
	build_headers(21);
	cr_assert_eq(mparse(&lim), -EMSGSIZE);
	assert_error(400, "Too Many Headers");

	/* The caller's array is a limit too. */
	build_headers(20);
	gbuf = guarded(mbuf, mlen);
	cr_assert_eq(sip_msg_parse(&m, gbuf, mlen, hdrs, 20, NULL), 0);
	cr_assert_eq(sip_msg_parse(&m, gbuf, mlen, hdrs, 19, NULL), -EMSGSIZE);
	assert_error(400, "Too Many Headers");
	cr_assert_eq(m.nhdrs, 19, "no write beyond the array");
	cr_assert_eq(sip_msg_parse(&m, gbuf, mlen, hdrs, 0, NULL), -EMSGSIZE);

	/* Folded lines are part of their header, not new ones. */
	mlen = 0;
	madd(OPTIONS MAND "Subject: a\r\n b\r\n c\r\n d\r\n\r\n");
	lim.max_headers = 6;
	cr_assert_eq(mparse(&lim), 0);
	cr_assert_eq(m.nhdrs, 6);
}

Test(sip_msg, limit_header_count_default)
{
	build_headers(SIP_DEFAULT_MAX_HEADERS);
	cr_assert_eq(mparse(NULL), 0);
	cr_assert_eq(m.nhdrs, SIP_DEFAULT_MAX_HEADERS);
	build_headers(SIP_DEFAULT_MAX_HEADERS + 1);
	cr_assert_eq(mparse(NULL), -EMSGSIZE);
	assert_error(400, "Too Many Headers");
	/* A limits struct with zero fields means the defaults. */
	struct sip_limits zero = {0};
	cr_assert_eq(mparse(&zero), -EMSGSIZE);
	build_headers(SIP_DEFAULT_MAX_HEADERS);
	cr_assert_eq(mparse(&zero), 0);
}

/* An OPTIONS whose X-Line header line is exactly len bytes without CRLF. */
static void build_line(size_t len)
{
	mlen = 0;
	madd(OPTIONS MAND "X-Line: ");
	madd_rep('l', len - strlen("X-Line: "));
	madd("\r\n\r\n");
}

Test(sip_msg, limit_line_length)
{
	struct sip_limits lim = {.max_line_length = 100};

	build_line(100);
	cr_assert_eq(mparse(&lim), 0);
	cr_assert_eq(hdrs[5].value.len, 100 - strlen("X-Line: "));
	build_line(101);
	cr_assert_eq(mparse(&lim), -EMSGSIZE);
	assert_error(400, "Header Line Too Long");

	/* Each physical line of a folded header counts on its own. */
	mlen = 0;
	madd(OPTIONS MAND "X-Fold: ");
	madd_rep('a', 80);
	madd("\r\n ");
	madd_rep('b', 99);
	madd("\r\n\r\n");
	cr_assert_eq(mparse(&lim), 0);
	cr_assert_eq(hdrs[5].value.len, 80 + 3 + 99);

	/* The Request-Line and Status-Line too. */
	mlen = 0;
	madd("OPTIONS sip:");
	madd_rep('u', 100 - strlen("OPTIONS sip: SIP/2.0") - 2);
	madd("@h SIP/2.0\r\n" MAND "\r\n");
	cr_assert_eq(mparse(&lim), 0);
	cr_assert_eq(m.headers_off, 102);
	mlen = 0;
	madd("OPTIONS sip:");
	madd_rep('u', 100 - strlen("OPTIONS sip: SIP/2.0") - 1);
	madd("@h SIP/2.0\r\n" MAND "\r\n");
	cr_assert_eq(mparse(&lim), -EMSGSIZE);
	assert_error(400, "Request-Line Too Long");

	mlen = 0;
	madd("SIP/2.0 200 ");
	madd_rep('r', 101 - strlen("SIP/2.0 200 "));
	madd("\r\n\r\n");
	cr_assert_eq(mparse(&lim), -EMSGSIZE);
	assert_error(0, "Status-Line Too Long");

	/* A line that is too long and never ends: refused after
	 * max_line_length bytes, not after a scan of the whole buffer. */
	mlen = 0;
	madd(OPTIONS "X: ");
	madd_rep('z', 5000);
	cr_assert_eq(mparse(&lim), -EMSGSIZE);
	assert_error(400, "Header Line Too Long");
}

Test(sip_msg, limit_line_length_default)
{
	build_line(SIP_DEFAULT_MAX_LINE_LENGTH);
	cr_assert_eq(mparse(NULL), 0);
	build_line(SIP_DEFAULT_MAX_LINE_LENGTH + 1);
	cr_assert_eq(mparse(NULL), -EMSGSIZE);
	assert_error(400, "Header Line Too Long");
}

/* An OPTIONS with n Via values, three per header line. */
static void build_vias(unsigned n)
{
	unsigned i;

	mlen = 0;
	madd(OPTIONS "From: <sip:a@example.com>;tag=1\r\nTo: <sip:b@example.com>\r\n"
		     "Call-ID: c1@h\r\nCSeq: 1 OPTIONS\r\n");
	for (i = 0; i < n; i++)
		madd("%sSIP/2.0/UDP h%u.example.com;branch=z9hG4bK%u%s", i % 3 ? " , " : "Via: ", i,
		     i, i % 3 == 2 || i + 1 == n ? "\r\n" : "");
	madd("\r\n");
}

Test(sip_msg, limit_vias)
{
	struct sip_limits lim = {.max_vias = 7};

	build_vias(7);
	cr_assert_eq(mparse(&lim), 0);
	cr_assert_eq(sip_msg_hdr_count(&m, SIP_HDR_VIA), 3);
	cr_assert_eq(sip_msg_via_count(&m), 7);
	cr_assert_eq(sip_msg_check_mandatory(&m, false), 0);
	assert_slice(sip_msg_top_via(&m)->host, "h0.example.com");

	build_vias(8);
	cr_assert_eq(mparse(&lim), 0);
	cr_assert_eq(sip_msg_via_count(&m), 8);
	assert_error(400, "Too Many Via Headers");
	cr_assert_eq(sip_msg_check_mandatory(&m, false), -EBADMSG);
	assert_error(400, "Too Many Via Headers");

	/* Counting stops one past the limit. */
	build_vias(100);
	cr_assert_eq(mparse(&lim), 0);
	cr_assert_eq(sip_msg_via_count(&m), 8);
	cr_assert_eq(sip_msg_via_count(&m), 8, "cached");
	assert_error(400, "Too Many Via Headers");

	build_vias(SIP_DEFAULT_MAX_VIAS);
	cr_assert_eq(mparse(NULL), 0);
	cr_assert_eq(sip_msg_check_mandatory(&m, false), 0);
	build_vias(SIP_DEFAULT_MAX_VIAS + 1);
	cr_assert_eq(mparse(NULL), 0);
	cr_assert_eq(sip_msg_check_mandatory(&m, false), -EBADMSG);
	assert_error(400, "Too Many Via Headers");
}

/* --- accessors ------------------------------------------------------------- */

Test(sip_msg, accessors)
{
	const struct sip_via *v;
	const struct sip_addr *f, *t;
	const struct sip_cseq *c;
	const struct sip_uri *u;
	uint32_t mf = 0;

	build_invite();
	cr_assert_eq(mparse(NULL), 0);

	v = sip_msg_top_via(&m);
	cr_assert_not_null(v);
	assert_slice(v->transport, "UDP");
	assert_slice(v->host, "pc33.atlanta.example.com");
	cr_assert_eq(v->port, 5060);
	assert_slice(v->branch, "z9hG4bK776asdhds");
	cr_assert(v->rport);

	f = sip_msg_from(&m);
	cr_assert_not_null(f);
	assert_slice(f->display, "\"Alice\"");
	assert_slice(f->uri.user, "alice");
	assert_slice(f->tag, "1928301774");
	t = sip_msg_to(&m);
	cr_assert_not_null(t);
	assert_slice(t->display, "Bob");
	cr_assert_eq(t->tag.len, 0);

	c = sip_msg_cseq(&m);
	cr_assert_not_null(c);
	cr_assert_eq(c->num, 314159);
	assert_slice(c->method, "INVITE");
	assert_slice(sip_msg_call_id(&m), "a84b4c76e66710@pc33.atlanta.example.com");
	cr_assert_eq(sip_msg_max_forwards(&m, &mf), 0);
	cr_assert_eq(mf, 70);
	cr_assert_eq(sip_msg_via_count(&m), 3);

	u = sip_msg_ruri(&m);
	cr_assert_not_null(u);
	cr_assert_eq(u->scheme, SIP_URI_SIP);
	assert_slice(u->user, "bob");
	assert_slice(u->host, "biloxi.example.com");

	cr_assert_eq(sip_msg_check_mandatory(&m, true), 0);
	cr_assert_eq(m.error.status, 0);

	/* Cached: the same objects, and no re-parse (flip a byte of the
	 * cache and see it survive). */
	cr_assert_eq(sip_msg_top_via(&m), v);
	cr_assert_eq(sip_msg_from(&m), f);
	cr_assert_eq(sip_msg_cseq(&m), c);
	cr_assert_eq(sip_msg_ruri(&m), u);
	m.cseq.num = 42;
	cr_assert_eq(sip_msg_cseq(&m)->num, 42);
	m.max_forwards = 9;
	cr_assert_eq(sip_msg_max_forwards(&m, &mf), 0);
	cr_assert_eq(mf, 9);
	cr_assert_eq(m.parsed, m.parse_ok);
	cr_assert_neq(m.parsed, 0);
}

Test(sip_msg, accessors_reset_by_new_parse)
{
	build_invite();
	cr_assert_eq(mparse(NULL), 0);
	cr_assert_not_null(sip_msg_cseq(&m));
	cr_assert_eq(PARSE(OPTIONS "Via: SIP/2.0/UDP h\r\nCSeq: 7 OPTIONS\r\n\r\n"), 0);
	cr_assert_eq(m.parsed, 0);
	cr_assert_eq(sip_msg_cseq(&m)->num, 7);
	cr_assert_null(sip_msg_from(&m));
}

struct acc_case {
	const char *headers; /* between the start line and the empty line */
	const char *reason;
};

/* Runs check_mandatory on OPTIONS + headers and expects 400 + reason. */
static void check_mandatory_fails(const struct acc_case *c, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		mlen = 0;
		madd(OPTIONS "%s\r\n", c[i].headers);
		cr_assert_eq(mparse(NULL), 0, "case %zu parses", i);
		cr_assert_eq(sip_msg_check_mandatory(&m, false), -EBADMSG, "case %zu: %s", i,
			     c[i].reason);
		cr_assert_eq(m.error.status, 400, "case %zu", i);
		cr_assert_str_eq(m.error.reason, c[i].reason, "case %zu", i);
	}
}

#define V   "Via: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"
#define F   "From: <sip:a@example.com>;tag=1\r\n"
#define T   "To: <sip:b@example.com>\r\n"
#define I   "Call-ID: c1@h\r\n"
#define C   "CSeq: 1 OPTIONS\r\n"
#define ALL V F T I C

Test(sip_msg, mandatory_missing_duplicate_bad)
{
	static const struct acc_case c[] = {
		{F T I C, "Missing Via"},
		{V T I C, "Missing From"},
		{V F I C, "Missing To"},
		{V F T C, "Missing Call-ID"},
		{V F T I, "Missing CSeq"},
		/* every one missing is named (RFC 3261 §8.2, §16.3 step 1) */
		{V C, "Missing From, To, Call-ID"},
		{V F I, "Missing To, CSeq"},
		{V, "Missing From, To, Call-ID, CSeq"},
		{V F T "i: x@h\r\ni: y@h\r\n", "Missing CSeq"},
		{ALL F, "Duplicate From header"},
		{ALL "t: <sip:c@example.com>\r\n", "Duplicate To header"},
		{ALL "i: other@h\r\n", "Duplicate Call-ID header"},
		{ALL "CSeq: 1 OPTIONS\r\n", "Duplicate CSeq header"},
		{"Via: SIP/2.0/UDP 192.0.2.15;;,;,,\r\n" F T I C, "Bad Via header"},
		{"Via: SIP/2.0/UDP [2001:db8::1;branch=z9hG4bK1\r\n" F T I C, "Bad Via header"},
		{"Via:\r\n" F T I C, "Bad Via header"},
		{"Via: ,\r\n" F T I C, "Bad Via header"},
		{V "From: \"Bell <sip:a.g.bell@bell-tel.com>;tag=1\r\n" T I C, "Bad From header"},
		{V "From: Bell, Alexander <sip:a.g.bell@bell-tel.com>;tag=43\r\n" T I C,
		 "Bad From header"},
		{V "From: *\r\n" T I C, "Bad From header"},
		{V "From:\r\n" T I C, "Bad From header"},
		{V F "To: \"Watson, Thomas\" < sip:t.watson@example.org >\r\n" I C,
		 "Bad To header"},
		{V F "To: <sip:b@example.com>;tag=1;tag=2\r\n" I C, "Bad To header"},
		{V F T "Call-ID:\r\n" C, "Bad Call-ID header"},
		{V F T "Call-ID: has space\r\n" C, "Bad Call-ID header"},
		{V F T I "CSeq: INVITE 1\r\n", "Bad CSeq header"},
		{V F T I "CSeq: 36893488147419103232 OPTIONS\r\n", "Bad CSeq header"},
		{V F T I "CSeq: 2147483648 OPTIONS\r\n", "Bad CSeq header"},
		{V F T I "CSeq: 1\r\n", "Bad CSeq header"},
		/* RFC 4475 §3.1.2.17 */
		{V F T I "CSeq: 1 INVITE\r\n", "CSeq Method Mismatch"},
		{V F T I "CSeq: 1 options\r\n", "CSeq Method Mismatch"},
	};

	check_mandatory_fails(c, sizeof(c) / sizeof(c[0]));
}

Test(sip_msg, mandatory_unknown_method_mismatch_is_501)
{
	/* RFC 4475 §3.1.2.18: "choosing a 501 (particularly at proxies) has
	 * better future-proof characteristics". A known method stays 400. */
	cr_assert_eq(
		PARSE("NEWMETHOD sip:b@example.com SIP/2.0\r\n" V F T I "CSeq: 8 INVITE\r\n\r\n"),
		0);
	cr_assert_eq(sip_msg_check_mandatory(&m, false), -EBADMSG);
	assert_error(501, "CSeq Method Mismatch");
	cr_assert_eq(PARSE("NEWMETHOD sip:b@example.com SIP/2.0\r\n" V F T I
			   "CSeq: 8 NEWMETHOD\r\n\r\n"),
		     0);
	cr_assert_eq(sip_msg_check_mandatory(&m, false), 0);
}

Test(sip_msg, mandatory_stream_needs_content_length)
{
	cr_assert_eq(PARSE(OPTIONS ALL "\r\n"), 0);
	cr_assert_eq(sip_msg_check_mandatory(&m, false), 0);
	cr_assert_eq(sip_msg_check_mandatory(&m, true), -EBADMSG);
	assert_error(400, "Missing Content-Length");
	cr_assert_eq(PARSE(OPTIONS ALL "Content-Length: 0\r\n\r\n"), 0);
	cr_assert_eq(sip_msg_check_mandatory(&m, true), 0);
}

Test(sip_msg, mandatory_responses)
{
	/* A response's CSeq names the request's method, whatever it is; its
	 * errors cannot be answered (status 0). */
	cr_assert_eq(PARSE("SIP/2.0 200 OK\r\n" V F T I "CSeq: 1 INVITE\r\n\r\n"), 0);
	cr_assert_eq(sip_msg_check_mandatory(&m, false), 0);
	cr_assert_eq(PARSE("SIP/2.0 200 OK\r\n" V F T C "\r\n"), 0);
	cr_assert_eq(sip_msg_check_mandatory(&m, false), -EBADMSG);
	assert_error(0, "Missing Call-ID");
}

Test(sip_msg, accessor_errors_each_set_their_reason)
{
	cr_assert_eq(PARSE(OPTIONS V "From: bad\r\nCSeq: x\r\n\r\n"), 0);
	cr_assert_null(sip_msg_from(&m));
	assert_error(400, "Bad From header");
	cr_assert_null(sip_msg_cseq(&m));
	assert_error(400, "Bad CSeq header");
	cr_assert_null(sip_msg_to(&m));
	assert_error(400, "Missing To");
	cr_assert_eq(sip_msg_call_id(&m).len, 0);
	assert_error(400, "Missing Call-ID");
	/* A failed accessor says its reason again when asked again. */
	cr_assert_null(sip_msg_from(&m));
	assert_error(400, "Bad From header");
	cr_assert(m.parsed & ~m.parse_ok);
	cr_assert_not_null(sip_msg_top_via(&m));
}

Test(sip_msg, from_to_other_schemes)
{
	/* §8.1.1.3: any URI; tel and others are not refused here. */
	cr_assert_eq(PARSE(OPTIONS V "From: <tel:+12015550123>;tag=1\r\nTo: <mailto:b@example.com>"
				     "\r\n" I C "\r\n"),
		     0);
	cr_assert_eq(sip_msg_check_mandatory(&m, false), 0);
	cr_assert_eq(sip_msg_from(&m)->uri.scheme, SIP_URI_TEL);
	cr_assert_eq(sip_msg_to(&m)->uri.scheme, SIP_URI_OTHER);
	assert_slice(sip_msg_to(&m)->uri_str, "mailto:b@example.com");
}

Test(sip_msg, max_forwards)
{
	uint32_t v = 7;

	cr_assert_eq(PARSE(OPTIONS ALL "\r\n"), 0);
	cr_assert_eq(sip_msg_max_forwards(&m, &v), -ENOENT);
	cr_assert_eq(v, 7);
	cr_assert_eq(PARSE(OPTIONS ALL "Max-Forwards: 0\r\n\r\n"), 0);
	cr_assert_eq(sip_msg_max_forwards(&m, &v), 0);
	cr_assert_eq(v, 0);
	cr_assert_eq(PARSE(OPTIONS ALL "Max-Forwards: 255\r\n\r\n"), 0);
	cr_assert_eq(sip_msg_max_forwards(&m, &v), 0);
	cr_assert_eq(v, 255);
	cr_assert_eq(PARSE(OPTIONS ALL "Max-Forwards:\r\n 0068\r\n\r\n"), 0);
	cr_assert_eq(sip_msg_max_forwards(&m, &v), 0);
	cr_assert_eq(v, 68);

	static const char *const bad[] = {"256", "300", "-1",         "abc",
					  "",    "1 2", "4294967296", "99999999999999999999"};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		mlen = 0;
		madd(OPTIONS ALL "Max-Forwards: %s\r\n\r\n", bad[i]);
		cr_assert_eq(mparse(NULL), 0);
		cr_assert_eq(sip_msg_max_forwards(&m, &v), -EBADMSG, "%s", bad[i]);
		assert_error(400, "Bad Max-Forwards header");
	}
	cr_assert_eq(PARSE(OPTIONS ALL "Max-Forwards: 1\r\nMax-Forwards: 1\r\n\r\n"), 0);
	cr_assert_eq(sip_msg_max_forwards(&m, &v), -EBADMSG);
	assert_error(400, "Duplicate Max-Forwards header");
}

Test(sip_msg, ruri_accessor)
{
	const struct sip_uri *u;

	cr_assert_eq(
		PARSE("INVITE sips:%62ob;x=1@[2001:db8::1]:5061;transport=tls SIP/2.0\r\n\r\n"), 0);
	u = sip_msg_ruri(&m);
	cr_assert_not_null(u);
	cr_assert_eq(u->scheme, SIP_URI_SIPS);
	assert_slice(u->user, "%62ob;x=1");
	assert_slice(u->host, "[2001:db8::1]");
	cr_assert_eq(u->port, 5061);
	assert_slice(u->transport, "tls");

	cr_assert_eq(PARSE("INVITE tel:+12015550123 SIP/2.0\r\n\r\n"), 0);
	cr_assert_eq(sip_msg_ruri(&m)->scheme, SIP_URI_TEL);

	/* Another scheme is a URI: the caller answers 416. */
	cr_assert_eq(PARSE("INVITE mailto:bob@example.com SIP/2.0\r\n\r\n"), 0);
	u = sip_msg_ruri(&m);
	cr_assert_not_null(u);
	cr_assert_eq(u->scheme, SIP_URI_OTHER);

	/* Not a URI at all: 400 (RFC 4475 §3.1.2.9: <> around it). */
	static const char *const bad[] = {"<sip:user@example.com>",
					  "sip:user@",
					  "sip:h:65536",
					  "sip:[::1",
					  "nocolon",
					  "sip:@h"};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		mlen = 0;
		madd("INVITE %s SIP/2.0\r\n\r\n", bad[i]);
		cr_assert_eq(mparse(NULL), 0);
		cr_assert_null(sip_msg_ruri(&m), "%s", bad[i]);
		assert_error(400, "Bad Request-URI");
	}
}

Test(sip_msg, call_id_trimmed)
{
	cr_assert_eq(PARSE(OPTIONS V F T
			   "Call-ID:   f81d4fae-7dec-11d0-a765-00a0c91e6bf6@foo.bar.com"
			   "   \r\n" C "\r\n"),
		     0);
	assert_slice(sip_msg_call_id(&m), "f81d4fae-7dec-11d0-a765-00a0c91e6bf6@foo.bar.com");
	cr_assert_eq(PARSE(OPTIONS V F T "i:\r\n weird!\"%*<>:\\/[]?{}~@x\r\n" C "\r\n"), 0);
	assert_slice(sip_msg_call_id(&m), "weird!\"%*<>:\\/[]?{}~@x");
}

/* --- framing (streams) ------------------------------------------------------- */

static ssize_t frame(const char *s, size_t n, const struct sip_limits *lim, size_t *skipped,
		     struct sip_error *err)
{
	return sip_msg_frame(guarded(s, n), n, lim, skipped, err);
}

#define FRAME(lit, sk, e) frame((lit), sizeof(lit) - 1, NULL, (sk), (e))

Test(sip_msg, frame_complete_and_partial)
{
	static const char one[] = OPTIONS ALL "Content-Length: 4\r\n\r\nbody";
	size_t n = sizeof(one) - 1, i, sk = 99;
	struct sip_error e = {0, NULL};

	cr_assert_eq(FRAME(OPTIONS ALL "Content-Length: 4\r\n\r\nbody", &sk, &e), (ssize_t)n);
	cr_assert_eq(sk, 0);
	/* Every prefix is "need more". */
	for (i = 0; i < n; i++)
		cr_assert_eq(frame(one, i, NULL, &sk, &e), 0, "prefix %zu", i);
	/* Two messages back to back: the first one's length. */
	mlen = 0;
	madd("%s%s", one, one);
	cr_assert_eq(frame(mbuf, mlen, NULL, &sk, &e), (ssize_t)n);
	cr_assert_null(e.reason);
}

Test(sip_msg, frame_keepalives_and_forms)
{
	size_t sk = 99;
	struct sip_error e = {0, NULL};

	/* RFC 5626 keep-alives before a message. */
	cr_assert_eq(FRAME("\r\n\r\n" OPTIONS "l: 2\r\n\r\nab", &sk, &e),
		     (ssize_t)strlen(OPTIONS "l: 2\r\n\r\nab"));
	cr_assert_eq(sk, 4);
	cr_assert_eq(FRAME("\r\n\r\n", &sk, &e), 0);
	cr_assert_eq(sk, 4);
	cr_assert_eq(FRAME("", &sk, &e), 0);
	cr_assert_eq(sk, 0);

	cr_assert_eq(FRAME(OPTIONS "content-LENGTH  \t:  3 \r\n\r\nabc", &sk, &e),
		     (ssize_t)strlen(OPTIONS "content-LENGTH  \t:  3 \r\n\r\nabc"));
	cr_assert_eq(FRAME(OPTIONS "L:3\r\n\r\nabc", &sk, &e),
		     (ssize_t)strlen(OPTIONS "L:3\r\n\r\nabc"));
	/* LF-only line ends. */
	cr_assert_eq(FRAME("OPTIONS sip:b SIP/2.0\nl: 1\n\nx", &sk, &e),
		     (ssize_t)strlen("OPTIONS sip:b SIP/2.0\nl: 1\n\nx"));
	/* No Content-Length: an empty body (validation refuses it). */
	cr_assert_eq(FRAME(OPTIONS ALL "\r\nmore", &sk, &e), (ssize_t)strlen(OPTIONS ALL "\r\n"));
	/* Names that only start like Content-Length are not it. */
	cr_assert_eq(
		FRAME(OPTIONS "Content-Language: 99\r\nLocation: 5\r\nl-x: 7\r\n\r\n", &sk, &e),
		(ssize_t)strlen(OPTIONS "Content-Language: 99\r\nLocation: 5\r\nl-x: 7\r\n\r\n"));
	/* Equal copies are fine. */
	cr_assert_eq(FRAME(OPTIONS "l: 1\r\nContent-Length: 1\r\n\r\nx", &sk, &e),
		     (ssize_t)strlen(OPTIONS "l: 1\r\nContent-Length: 1\r\n\r\nx"));
	/* NULL out-parameters are allowed. */
	cr_assert_eq(frame("\r\n" OPTIONS "\r\n", strlen("\r\n" OPTIONS "\r\n"), NULL, NULL, NULL),
		     (ssize_t)strlen(OPTIONS "\r\n"));
}

Test(sip_msg, frame_refused)
{
	size_t sk;
	struct sip_error e = {0, NULL};

	cr_assert_eq(FRAME(OPTIONS "Content-Length: -1\r\n\r\n", &sk, &e), -EBADMSG);
	cr_assert_eq(e.status, 400);
	cr_assert_str_eq(e.reason, "Bad Content-Length");
	e.reason = NULL;
	cr_assert_eq(FRAME(OPTIONS "l: x\r\n", &sk, &e), -EBADMSG, "refused before the end");
	cr_assert_str_eq(e.reason, "Bad Content-Length");
	cr_assert_eq(FRAME(OPTIONS "Content-Length: 99999999999\r\n\r\n", &sk, &e), -EBADMSG);
	cr_assert_eq(FRAME(OPTIONS "Content-Length: 1\r\nl: 2\r\n\r\n", &sk, &e), -EBADMSG);
	cr_assert_str_eq(e.reason, "Bad Content-Length");
	cr_assert_eq(FRAME(OPTIONS "Content-Length: 65536\r\n\r\n", &sk, &e), -EMSGSIZE);
	cr_assert_eq(e.status, 513);
	cr_assert_str_eq(e.reason, "Message Too Large");
	cr_assert_eq(
		frame(OPTIONS "l: 1\r\n\r\nx", strlen(OPTIONS "l: 1\r\n\r\nx"), NULL, NULL, NULL),
		(ssize_t)strlen(OPTIONS "l: 1\r\n\r\nx"));
	cr_assert_eq(
		frame(OPTIONS "l: y\r\n\r\n", strlen(OPTIONS "l: y\r\n\r\n"), NULL, NULL, NULL),
		-EBADMSG);
}

Test(sip_msg, frame_limits)
{
	struct sip_limits lim = {.max_message_size = 200};
	struct sip_error e = {0, NULL};
	size_t sk;

	/* Exactly at the limit (headers + body), then one beyond. */
	mlen = 0;
	madd(OPTIONS "Content-Length: 100\r\n\r\n");
	lim.max_message_size = (uint32_t)mlen + 100;
	madd_rep('b', 100);
	cr_assert_eq(frame(mbuf, mlen, &lim, &sk, &e), (ssize_t)mlen);
	lim.max_message_size--;
	cr_assert_eq(frame(mbuf, mlen, &lim, &sk, &e), -EMSGSIZE);
	cr_assert_eq(e.status, 513);

	/* Headers without an end: need more up to the limit, then refused.
	 * The buffer ends at a guard page, so no scan goes beyond it. */
	lim.max_message_size = 300;
	mlen = 0;
	madd(OPTIONS);
	while (mlen < 300)
		madd("X: y\r\n");
	mlen = 300;
	cr_assert_eq(frame(mbuf, mlen, &lim, &sk, &e), 0);
	mlen = 301;
	cr_assert_eq(frame(mbuf, mlen, &lim, &sk, &e), -EMSGSIZE);
	cr_assert_eq(e.status, 513);

	/* Header block ending exactly at the limit. */
	mlen = 0;
	madd(OPTIONS);
	lim.max_message_size = (uint32_t)mlen + 2;
	madd("\r\n");
	cr_assert_eq(frame(mbuf, mlen, &lim, &sk, &e), (ssize_t)mlen);
	lim.max_message_size--;
	cr_assert_eq(frame(mbuf, mlen, &lim, &sk, &e), -EMSGSIZE);
}

/* --- resumable framing ------------------------------------------------------- */

/* Frames s[0..n) fed in pieces of `step` bytes, each call on a guarded
 * copy of the prefix received so far; returns what the last call said and
 * checks that every earlier call said "need more". */
static ssize_t frame_pieces(const char *s, size_t n, size_t step, const struct sip_limits *lim,
			    struct sip_frame *f, struct sip_error *err)
{
	ssize_t r = 0;

	*f = SIP_FRAME_INIT;
	for (size_t have = step < n ? step : n;; have = have + step < n ? have + step : n) {
		r = sip_msg_frame_resume(f, guarded(s, have), have, lim, err);
		if (r != 0 || have == n)
			return r;
	}
}

Test(sip_msg, frame_resume_any_cut)
{
	static const char *const msgs[] = {
		OPTIONS ALL "Content-Length: 4\r\n\r\nbody",
		OPTIONS "l: 2\r\n\r\nab",
		"OPTIONS sip:b SIP/2.0\nl: 1\n\nx",
		OPTIONS "content-LENGTH  \t:  3 \r\n\r\nabc",
		OPTIONS ALL "\r\n", /* no Content-Length: an empty body */
		OPTIONS "\r\n",
	};
	struct sip_error e = {0, NULL};
	struct sip_frame f;

	for (size_t i = 0; i < sizeof(msgs) / sizeof(msgs[0]); i++) {
		size_t n = strlen(msgs[i]);

		/* Whatever the cut, the answer sip_msg_frame gives in one go. */
		for (size_t step = 1; step <= n; step++)
			cr_assert_eq(frame_pieces(msgs[i], n, step, NULL, &f, &e), (ssize_t)n,
				     "message %zu, step %zu", i, step);
		cr_assert_eq(frame(msgs[i], n, NULL, NULL, &e), (ssize_t)n);
	}
	/* Followed by another message: the first one's length. */
	mlen = 0;
	madd("%s%s", msgs[0], msgs[1]);
	cr_assert_eq(frame_pieces(mbuf, mlen, 7, NULL, &f, &e), (ssize_t)strlen(msgs[0]));
}

Test(sip_msg, frame_resume_never_looks_back)
{
	static const char msg[] = OPTIONS ALL "Content-Length: 5\r\n\r\nhello";
	size_t n = sizeof(msg) - 1;
	struct sip_frame f = SIP_FRAME_INIT;
	struct sip_error e = {0, NULL};
	char copy[sizeof(msg)];

	/* After each byte, everything received was searched; the bytes
	 * before the current line are blanked out (empty lines, which would
	 * end the header block if looked at again) and never read. */
	for (size_t have = 1; have < n; have++) {
		ssize_t r;

		memcpy(copy, msg, have);
		memset(copy, '\n', f.line);
		r = sip_msg_frame_resume(&f, guarded(copy, have), have, NULL, &e);
		cr_assert_eq(r, 0, "prefix %zu", have);
		cr_assert_eq(f.scanned, f.head_len ? f.head_len : have, "prefix %zu", have);
		cr_assert_leq(f.line, f.scanned);
	}
	cr_assert_eq(f.cl, 5);
	cr_assert(f.cl_seen);
	cr_assert_eq(f.head_len, n - 5);
	/* The body only waits for its length: not a byte of it is read. */
	memset(copy, '\n', n);
	cr_assert_eq(sip_msg_frame_resume(&f, guarded(copy, n), n, NULL, &e), (ssize_t)n);
}

Test(sip_msg, frame_resume_errors)
{
	static const char bad_cl[] = OPTIONS "Content-Length: 1\r\nl: 2\r\n\r\n";
	static const char unparsable[] = OPTIONS "l: x\r\n";
	struct sip_limits lim = {.max_message_size = 200};
	struct sip_error e = {0, NULL};
	struct sip_frame f;

	/* Refused at the line that is wrong, however it arrived. */
	cr_assert_eq(frame_pieces(bad_cl, sizeof(bad_cl) - 1, 1, NULL, &f, &e), -EBADMSG);
	cr_assert_eq(e.status, 400);
	cr_assert_str_eq(e.reason, "Bad Content-Length");
	e = (struct sip_error){0, NULL};
	cr_assert_eq(frame_pieces(unparsable, sizeof(unparsable) - 1, 3, NULL, &f, &e), -EBADMSG);
	cr_assert_str_eq(e.reason, "Bad Content-Length");

	/* Headers without an end: need more up to the limit, then 513. */
	mlen = 0;
	madd(OPTIONS);
	while (mlen < 300)
		madd("X: y\r\n");
	e = (struct sip_error){0, NULL};
	cr_assert_eq(frame_pieces(mbuf, 200, 1, &lim, &f, &e), 0);
	cr_assert_eq(f.scanned, 200);
	cr_assert_eq(sip_msg_frame_resume(&f, guarded(mbuf, 201), 201, &lim, &e), -EMSGSIZE);
	cr_assert_eq(e.status, 513);

	/* A body beyond the limit is refused once the headers are in, before
	 * any of it arrives. */
	mlen = 0;
	madd(OPTIONS "Content-Length: 190\r\n\r\n");
	e = (struct sip_error){0, NULL};
	cr_assert_eq(frame_pieces(mbuf, mlen, 1, &lim, &f, &e), -EMSGSIZE);
	cr_assert_eq(e.status, 513);
}

/* --- the listeners' Call-ID scan ---------------------------------------------- */

static struct sip_str scan(const char *s)
{
	size_t n = strlen(s);

	return sip_msg_scan_call_id(guarded(s, n), n);
}

Test(sip_msg, scan_call_id)
{
	assert_slice(scan(OPTIONS V "Call-ID: abc@h\r\n\r\n"), "abc@h");
	assert_slice(scan(OPTIONS V "i:abc@h\r\n\r\n"), "abc@h");
	assert_slice(scan(OPTIONS V "I \t:  abc@h  \r\n\r\n"), "abc@h");
	assert_slice(scan(OPTIONS V "CALL-id : abc@h\r\n\r\n"), "abc@h");
	assert_slice(scan(OPTIONS V "call-id:abc@h\n\n"), "abc@h");
	assert_slice(scan("\r\n\r\n" OPTIONS "Call-ID: x1\r\n\r\n"), "x1");
	/* At the very end of the buffer, no line end. */
	assert_slice(scan(OPTIONS "Call-ID: end-of-buffer"), "end-of-buffer");
	assert_slice(scan(OPTIONS "i:"), "");
	/* Look-alikes are not it. */
	assert_slice(scan(OPTIONS "Call-Info: <x>\r\nIdentity: y\r\nIn: z\r\n"
				  "X-Call-ID: w\r\ni: real\r\n\r\n"),
		     "real");
	/* Not in the start line, not in the body. */
	cr_assert_eq(scan("i: x\r\n\r\n").len, 0);
	cr_assert_eq(scan(OPTIONS V "\r\nCall-ID: in-body\r\n").len, 0);
	cr_assert_eq(scan(OPTIONS V "\r\n").len, 0);
	cr_assert_eq(scan("").len, 0);
	cr_assert_eq(scan("\r\n").len, 0);
	cr_assert_eq(scan(OPTIONS).len, 0);
	cr_assert_eq(scan("OPTIONS sip:b SIP/2.0").len, 0);
	cr_assert_eq(scan(OPTIONS "Call-ID").len, 0);
	cr_assert_eq(scan(OPTIONS "Call-I").len, 0);
	cr_assert_eq(scan(OPTIONS "i").len, 0);
	cr_assert_eq(scan(OPTIONS "i ").len, 0);
}

/* --- RFC 4475 categories: odd but valid ----------------------------------- */

/* Parses buf[0..n) and runs every accessor; all must succeed. */
static void assert_valid(const char *s, size_t n)
{
	uint32_t mf;
	int err = parse_n(s, n, NULL);

	cr_assert_eq(err, 0, "parse: %d %s", err, m.error.reason ? m.error.reason : "");
	cr_assert_eq(sip_msg_check_mandatory(&m, false), 0, "mandatory: %s", m.error.reason);
	cr_assert_not_null(sip_msg_top_via(&m));
	cr_assert_not_null(sip_msg_from(&m));
	cr_assert_not_null(sip_msg_to(&m));
	cr_assert_not_null(sip_msg_cseq(&m));
	cr_assert_neq(sip_msg_call_id(&m).len, 0);
	cr_assert_neq(sip_msg_max_forwards(&m, &mf), -EBADMSG);
	if (m.request)
		cr_assert_not_null(sip_msg_ruri(&m), "%s", m.error.reason);
}

Test(sip_msg, torture_tortuous_invite)
{
	/* Unusual spacing, mixed case, folding everywhere, escapes, odd
	 * parameters, empty Subject, quotes and separators in display
	 * names (RFC 4475 §3.1.1.1 category). */
	static const char body[] = "v=0\r\no=- 1 1 IN IP4 198.51.100.7\r\ns=-\r\nt=0 0\r\n";
	const struct sip_via *v;
	const struct sip_addr *a;

	mlen = 0;
	madd("\r\n"
	     "INVITE sip:%%63arol;day=mon@chicago.example.com;unknownparam;lr SIP/2.0\r\n"
	     "tO :\r\n sip:carol@chicago.example.com ;   tag    = 7712x\r\n"
	     "fROM   : \"Caller, the \\\"Great\\\" <one>\"\r\n"
	     "   <sip:caller@boston.example.com>\r\n  ;\r\n  tag = 65kdj3\r\n"
	     "mAX-fORWARDS: 0042\r\n"
	     "cALL-iD: tortuous.4475@198.51.100.7\r\n"
	     "Content-Length   :   %zu\r\n"
	     "cSEQ: 0012\r\n  INVITE\r\n"
	     "Via  : SIP  /   2.0\r\n /UDP\r\n    198.51.100.7;rport;branch=z9hG4bKtort1\r\n"
	     "s :\r\n"
	     "X-Brand-New:   a value\r\n continued\r\n\tand continued again\r\n"
	     "X-Separators-Only: ;;,,;;,;\r\n"
	     "c: application/sdp\r\n"
	     "Route:\r\n <sip:edge.example.com;lr;unknownwith=value;unknown-no-value>\r\n"
	     "v:  SIP  / 2.0  / TCP     relay.example.com   ;\r\n  branch  =   z9hG4bKx1  ,\r\n"
	     " SIP  /    2.0   / UDP  192.0.2.99   ; branch=\r\n z9hG4bKx2\r\n"
	     "m:\"Quoted \\\"\\\"\" <sip:caller@boston.example.com> ; newparam =\r\n newvalue ;\r\n"
	     "  secondparam ; q = 0.33\r\n"
	     "\r\n%s",
	     strlen(body), body);
	assert_valid(mbuf, mlen);

	cr_assert_eq(m.nhdrs, 14);
	assert_slice(m.body, body);
	assert_slice(sip_msg_ruri(&m)->user, "%63arol;day=mon");
	cr_assert(sip_msg_ruri(&m)->lr);
	v = sip_msg_top_via(&m);
	assert_slice(v->protocol, "SIP  /   2.0");
	assert_slice(v->transport, "UDP");
	assert_slice(v->host, "198.51.100.7");
	assert_slice(v->branch, "z9hG4bKtort1");
	cr_assert_eq(sip_msg_via_count(&m), 3);
	a = sip_msg_from(&m);
	assert_slice(a->display, "\"Caller, the \\\"Great\\\" <one>\"");
	assert_slice(a->tag, "65kdj3");
	a = sip_msg_to(&m);
	assert_slice(a->uri_str, "sip:carol@chicago.example.com");
	assert_slice(a->tag, "7712x");
	cr_assert_eq(sip_msg_cseq(&m)->num, 12);
	uint32_t mf;
	cr_assert_eq(sip_msg_max_forwards(&m, &mf), 0);
	cr_assert_eq(mf, 42);
	cr_assert_eq(sip_msg_hdr(&m, SIP_HDR_SUBJECT)->value.len, 0);

	/* The Contact list splits despite the quotes and folds. */
	struct sip_str cur = sip_msg_hdr(&m, SIP_HDR_CONTACT)->value, item;
	struct sip_addr ct;
	cr_assert(sip_list_next(&cur, &item));
	cr_assert_eq(sip_addr_parse(item, &ct), 0);
	cr_assert_eq(ct.q, 330);
	cr_assert_not(sip_list_next(&cur, &item));
	/* Route and Via lists. */
	cur = sip_msg_hdr(&m, SIP_HDR_VIA)->next != SIP_HDR_NONE
		      ? hdrs[sip_msg_hdr(&m, SIP_HDR_VIA)->next].value
		      : SIP_STR_NULL;
	struct sip_via v2;
	cr_assert(sip_list_next(&cur, &item));
	cr_assert_eq(sip_via_parse(item, &v2), 0);
	assert_slice(v2.branch, "z9hG4bKx1");
	cr_assert(sip_list_next(&cur, &item));
	cr_assert_eq(sip_via_parse(item, &v2), 0);
	assert_slice(v2.branch, "z9hG4bKx2");
	assert_slice(v2.host, "192.0.2.99");
}

Test(sip_msg, torture_wide_character_range)
{
	/* Token characters everywhere a token goes, escapes and UTF-8
	 * where allowed (RFC 4475 §3.1.1.2 category). */
	static const char msg[] =
		"!odd-Method0123456789_*+`.%great'~ sip:1_unusual.URI~(to-be!sure)&isn't+it$/"
		"crazy?,/;;*:&it+has=1,weird!*pas$wo~d_too.(doesn't-it)@example.com SIP/2.0\r\n"
		"Via: SIP/2.0/TCP host1.example.com;branch=z9hG4bK-.!%66*_+`'~\r\n"
		"To: \"DEL:\\\x7f \\q\\u\\o\\t\\e\" <sip:1_unusual.URI~(to-be!sure)&isn't+it$/"
		"crazy?,/;;*@example.com>\r\n"
		"From: token1~` token2'+_ token3*%!.- "
		"<sip:mundane@example.com>;fromParam''~+*_!.-%="
		"\"\xd1\x80\xd0\xb0\xd0\xb1\xd0\xbe\xd1\x82\xd0\xb0\xd1\x8e\xd1\x89\xd0\xb8\xd0\xb9"
		"\""
		";tag=_token~1'+`*%!-.\r\n"
		"Call-ID: intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{\r\n"
		"CSeq: 139122385 !odd-Method0123456789_*+`.%great'~\r\n"
		"Max-Forwards: 255\r\n"
		"extensionHeader-!.%*+_`'~:\xef\xbb\xbf\xe5\xa4\xa7\xe5\x81\x9c\xe9\x9b\xbb\r\n"
		"Content-Length: 0\r\n"
		"\r\n";

	assert_valid(msg, sizeof(msg) - 1);
	cr_assert_eq(m.method_id, SIP_METHOD_OTHER);
	assert_slice(sip_msg_ruri(&m)->password, "&it+has=1,weird!*pas$wo~d_too.(doesn't-it)");
	assert_slice(sip_msg_top_via(&m)->branch, "z9hG4bK-.!%66*_+`'~");
	assert_slice(sip_msg_from(&m)->display, "token1~` token2'+_ token3*%!.-");
	assert_slice(sip_msg_from(&m)->tag, "_token~1'+`*%!-.");
	assert_slice(sip_msg_call_id(&m), "intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{");
	cr_assert_eq(sip_msg_hdr_count(&m, SIP_HDR_OTHER), 1);
}

Test(sip_msg, escaped_controls_in_quoted_strings_accepted)
{
	/* RFC 4475 §3.1.1.2 escapes NUL, BEL and DEL in a display name:
	 * quoted-pair = "\\" (%x00-09 / %x0B-0C / %x0E-7F) (§25.1). The
	 * database layer turns a NUL into '?' (store.c), so none reaches a
	 * C string there. */
	static const char msg[] =
		OPTIONS V F I C "To: \"BEL:\\\x07 NUL:\\\0 DEL:\\\x7f\" <sip:b@h>\r\n\r\n";
	const struct sip_addr *to;

	cr_assert_eq(parse_n(msg, sizeof(msg) - 1, NULL), 0, "%s", m.error.reason);
	to = sip_msg_to(&m);
	cr_assert_not_null(to);
	cr_assert_eq(to->display.len, 22);
	assert_slice(to->uri_str, "sip:b@h");
	cr_assert_eq(sip_msg_check_mandatory(&m, false), 0);
}

Test(sip_msg, unescaped_controls_still_refused)
{
	/* Only a control right after an odd run of backslashes is a
	 * quoted-pair; CR and LF never are (header smuggling), and the start
	 * line takes none. */
	static const char raw[] = OPTIONS ALL "Subject: a\x07"
					      "b\r\n\r\n";
	static const char even[] = OPTIONS ALL "Subject: \"a\\\\\x07\"\r\n\r\n";
	static const char cr[] = OPTIONS ALL "Subject: a\\\rb\r\n\r\n";
	static const char start[] = "OPTIONS sip:a\\\x07@h SIP/2.0\r\n" ALL "\r\n";
	static const char odd[] = OPTIONS ALL "X-Odd: \\\\\\\x01\r\n\r\n";

	cr_assert_eq(parse_n(raw, sizeof(raw) - 1, NULL), -EBADMSG);
	assert_error(400, "Control Character in Header");
	cr_assert_eq(parse_n(even, sizeof(even) - 1, NULL), -EBADMSG);
	assert_error(400, "Control Character in Header");
	cr_assert_eq(parse_n(cr, sizeof(cr) - 1, NULL), -EBADMSG);
	assert_error(400, "Control Character in Header");
	cr_assert_eq(parse_n(start, sizeof(start) - 1, NULL), -EBADMSG);
	assert_error(400, BAD_REQ);
	/* Three backslashes and a control: the last pair escapes it. */
	cr_assert_eq(parse_n(odd, sizeof(odd) - 1, NULL), 0);
}

Test(sip_msg, torture_escapes_and_percent)
{
	/* Escaped NULs and % that is not an escape in places that are not
	 * URIs (RFC 4475 §3.1.1.3 - §3.1.1.5 categories). */
	static const char msg[] = "REGISTER sip:example.com SIP/2.0\r\n"
				  "To: sip:null-%00-null@example.com\r\n"
				  "From: sip:null-%00-null@example.com;tag=839923423\r\n"
				  "Max-Forwards: 70\r\n"
				  "Call-ID: esc01.239409asdfakjkn23onasd0-3234\r\n"
				  "CSeq: 234234 REGISTER\r\n"
				  "Via: SIP/2.0/UDP host5.example.net;branch=z9hG4bKkdjuw\r\n"
				  "Contact: <sip:%00@host5.example.net>\r\n"
				  "Contact: <sip:%00%00@host5.example.net>\r\n"
				  "X-Percent: 100% sure, %zz is not an escape here\r\n"
				  "L:0\r\n"
				  "\r\n";
	struct sip_addr a;

	assert_valid(msg, sizeof(msg) - 1);
	cr_assert_eq(m.method_id, SIP_METHOD_REGISTER);
	assert_slice(sip_msg_to(&m)->uri.user, "null-%00-null");
	cr_assert_eq(sip_addr_parse(hdrs[m.last[SIP_HDR_CONTACT]].value, &a), 0);
	assert_slice(a.uri.user, "%00%00");
	char dec[4];
	cr_assert_eq(sip_unescape(a.uri.user, dec, sizeof(dec)), 2);
	cr_assert_eq(dec[0], 0);
}

Test(sip_msg, torture_long_values)
{
	/* Long values in header fields (RFC 4475 §3.1.1.7 category). */
	size_t i;

	mlen = 0;
	madd("INVITE sip:user@example.com SIP/2.0\r\nTo: \"I have a user name of ");
	for (i = 0; i < 10; i++)
		madd("extreme");
	madd(" proportion\" <sip:user@example.com:6000;unknownparam1=verylonngvalue");
	madd_rep('e', 300);
	madd(";longparam");
	madd_rep('n', 400);
	madd("=shortvalue;verylonglongparam>\r\nFrom: sip:");
	madd_rep('a', 700);
	madd("@example.com;tag=");
	madd_rep('1', 500);
	madd("\r\nCall-ID: ");
	madd_rep('c', 2000);
	madd("\r\nCSeq: 1 INVITE\r\nMax-Forwards: 70\r\n");
	for (i = 0; i < 30; i++)
		madd("Via: SIP/2.0/TCP sip%zu.example.com;branch=z9hG4bK%0200zu\r\n", i, i);
	madd("Unknown-LongName-");
	madd_rep('x', 200);
	madd(": unknown-");
	madd_rep('v', 4000);
	madd("\r\nl: 0\r\n\r\n");
	assert_valid(mbuf, mlen);
	cr_assert_eq(sip_msg_via_count(&m), 30);
	cr_assert_eq(sip_msg_call_id(&m).len, 2000);
	cr_assert_eq(sip_msg_from(&m)->tag.len, 500);
	cr_assert_eq(sip_msg_from(&m)->uri.user.len, 700);
	cr_assert_eq(sip_msg_to(&m)->uri.port, 6000);
}

Test(sip_msg, torture_user_part_params_and_no_lws)
{
	/* ';' in the user part (§3.1.1.11) and no LWS before '<'
	 * (§3.1.1.6); unknown transports (§3.1.1.12); a Route list. */
	static const char msg[] =
		"OPTIONS sip:user;par=u%40example.net@example.com SIP/2.0\r\n"
		"To: sip:j_user@example.com\r\n"
		"From: caller<sip:caller@example.com>;tag=323\r\n"
		"Max-Forwards: 70\r\n"
		"Call-ID: lwsdisp.1234abcd@funky.example.com\r\n"
		"CSeq: 60 OPTIONS\r\n"
		"Via: SIP/2.0/UNKNOWN t1.example.com;branch=z9hG4bKkdjuw, SIP/2.0/SCTP "
		"t2.example.com;branch=z9hG4bK1, SIP/2.0/TLS t3.example.com;branch=z9hG4bK2\r\n"
		"Route: <sip:p1.example.com;lr>, <sip:p2.example.com;lr>,\r\n "
		"<sip:[::1]:5070;lr>\r\n"
		"Record-Route: <sip:rr.example.com;lr>\r\n"
		"Require: 100rel\r\n"
		"Proxy-Require: foo, Bar\r\n"
		"Supported: timer,path\r\n"
		"l: 0\r\n\r\n";
	struct sip_str cur, item;
	struct sip_addr a;
	unsigned n = 0;

	assert_valid(msg, sizeof(msg) - 1);
	assert_slice(sip_msg_ruri(&m)->user, "user;par=u%40example.net");
	assert_slice(sip_msg_from(&m)->display, "caller");
	assert_slice(sip_msg_top_via(&m)->transport, "UNKNOWN");
	cr_assert_eq(sip_msg_via_count(&m), 3);
	cur = sip_msg_hdr(&m, SIP_HDR_ROUTE)->value;
	while (sip_list_next(&cur, &item)) {
		cr_assert_eq(sip_addr_parse(item, &a), 0);
		cr_assert(a.uri.lr);
		n++;
	}
	cr_assert_eq(n, 3);
	assert_slice(a.uri.host, "[::1]");
	cr_assert(sip_token_list_has(sip_msg_hdr(&m, SIP_HDR_PROXY_REQUIRE)->value, "bar"));
	cr_assert(sip_token_list_has(sip_msg_hdr(&m, SIP_HDR_SUPPORTED)->value, "path"));
	cr_assert(sip_token_list_has(sip_msg_hdr(&m, SIP_HDR_REQUIRE)->value, "100rel"));
	cr_assert_eq(sip_msg_hdr(&m, SIP_HDR_RECORD_ROUTE)->id, SIP_HDR_RECORD_ROUTE);
}

Test(sip_msg, torture_responses)
{
	static const char msg[] = "SIP/2.0 200 = 2**3 * 5**2 \xd0\xbd\xd0\xbe \xd1\x81\xd1\x82\r\n"
				  "Via: SIP/2.0/UDP 192.0.2.198;branch=z9hG4bK1324923\r\n"
				  "Call-ID: unreason.1234ksdfak3j2erwedfsASdf\r\n"
				  "CSeq: 35 INVITE\r\n"
				  "From: sip:user@example.com;tag=11141343\r\n"
				  "To: sip:user@example.edu;tag=2229\r\n"
				  "Content-Length: 0\r\n"
				  "\r\n";

	assert_valid(msg, sizeof(msg) - 1);
	cr_assert_eq(m.status, 200);
	assert_slice(m.reason, "= 2**3 * 5**2 \xd0\xbd\xd0\xbe \xd1\x81\xd1\x82");
	assert_valid("SIP/2.0 100 \r\nv: SIP/2.0/UDP h;branch=z9hG4bK1\r\nf: <sip:a@h>;tag=1\r\n"
		     "t: <sip:b@h>\r\ni: x@y\r\nCSeq: 1 INVITE\r\n\r\n",
		     strlen("SIP/2.0 100 \r\nv: SIP/2.0/UDP h;branch=z9hG4bK1\r\nf: <sip:a@h>;tag=1"
			    "\r\nt: <sip:b@h>\r\ni: x@y\r\nCSeq: 1 INVITE\r\n\r\n"));
}

/* --- RFC 4475 categories: invalid ----------------------------------------- */

/* Where the refusal must happen. */
enum stage {
	AT_PARSE,     /* sip_msg_parse */
	AT_MANDATORY, /* sip_msg_check_mandatory(stream = false) */
	AT_RURI,      /* sip_msg_ruri */
	AT_MAXFWD,    /* sip_msg_max_forwards */
	AT_CONTACT,   /* sip_addr_parse of the first Contact */
};

struct torture {
	const char *name;
	const char *msg;
	enum stage stage;
	int err;
	uint16_t status;
	const char *reason;
};

static const struct torture invalid[] = {
	{"extraneous separators",
	 "INVITE sip:u@example.com SIP/2.0\r\n" F T I
	 "CSeq: 1 INVITE\r\nVia: SIP/2.0/UDP 192.0.2.15;;,;,,\r\n\r\n",
	 AT_MANDATORY, -EBADMSG, 400, "Bad Via header"},
	{"content-length larger than message", OPTIONS ALL "Content-Length: 9999\r\n\r\nv=0\r\n",
	 AT_PARSE, -EBADMSG, 400, "Truncated Body"},
	{"negative content-length", OPTIONS ALL "Content-Length: -999\r\n\r\n", AT_PARSE, -EBADMSG,
	 400, "Bad Content-Length"},
	{"overlarge content-length", OPTIONS ALL "Content-Length: 18446744073709551618\r\n\r\n",
	 AT_PARSE, -EBADMSG, 400, "Bad Content-Length"},
	{"overlarge cseq", OPTIONS V F T I "CSeq: 36893488147419103232 OPTIONS\r\n\r\n",
	 AT_MANDATORY, -EBADMSG, 400, "Bad CSeq header"},
	{"overlarge max-forwards", OPTIONS ALL "Max-Forwards: 300\r\n\r\n", AT_MAXFWD, -EBADMSG,
	 400, "Bad Max-Forwards header"},
	{"negative max-forwards", OPTIONS ALL "Max-Forwards: -1\r\n\r\n", AT_MAXFWD, -EBADMSG, 400,
	 "Bad Max-Forwards header"},
	{"unterminated quoted display name",
	 OPTIONS V T I C "From: \"Bell <sip:a.g.bell@bell-tel.com>;tag=1\r\n\r\n", AT_MANDATORY,
	 -EBADMSG, 400, "Bad From header"},
	{"<> around request-uri", "INVITE <sip:user@example.com> SIP/2.0\r\n" ALL "\r\n", AT_RURI,
	 -EBADMSG, 400, "Bad Request-URI"},
	{"embedded LWS in request-uri", "INVITE sip:user@example.com; lr SIP/2.0\r\n" ALL "\r\n",
	 AT_PARSE, -EBADMSG, 400, "Bad Request-Line"},
	{"multiple SP in request-line", "INVITE  sip:user@example.com  SIP/2.0\r\n" ALL "\r\n",
	 AT_PARSE, -EBADMSG, 400, "Bad Request-Line"},
	{"SP at end of request-line", "OPTIONS sip:user@example.com SIP/2.0 \r\n" ALL "\r\n",
	 AT_PARSE, -EBADMSG, 400, "Bad Request-Line"},
	{"name-addr URI with headers not in <>",
	 OPTIONS ALL "Contact: sip:user@example.com?Subject=foo\r\n\r\n", AT_CONTACT, -EBADMSG, 0,
	 NULL},
	{"spaces within addr-spec",
	 OPTIONS V F I C "To: \"Watson, Thomas\" < sip:t.watson@example.org >\r\n\r\n",
	 AT_MANDATORY, -EBADMSG, 400, "Bad To header"},
	{"non-token characters in display name",
	 OPTIONS V T I C "From: Bell, Alexander <sip:a.g.bell@bell-tel.com>;tag=43\r\n\r\n",
	 AT_MANDATORY, -EBADMSG, 400, "Bad From header"},
	{"unknown protocol version", "OPTIONS sip:t.watson@example.org SIP/7.0\r\n" ALL "\r\n",
	 AT_PARSE, -EPROTO, 505, "Version Not Supported"},
	{"start line and cseq method mismatch",
	 "INVITE sip:j.user@example.com SIP/2.0\r\n" V F T I "CSeq: 1 OPTIONS\r\n\r\n",
	 AT_MANDATORY, -EBADMSG, 400, "CSeq Method Mismatch"},
	{"unknown method with cseq mismatch",
	 "NEWMETHOD sip:j.user@example.com SIP/2.0\r\n" V F T I "CSeq: 1 INVITE\r\n\r\n",
	 AT_MANDATORY, -EBADMSG, 501, "CSeq Method Mismatch"},
	{"overlarge response code",
	 "SIP/2.0 4294967301 better not break the receiver\r\n" ALL "\r\n", AT_PARSE, -EBADMSG, 0,
	 "Bad Status-Line"},
	{"missing call-id", OPTIONS V F T C "\r\n", AT_MANDATORY, -EBADMSG, 400, "Missing Call-ID"},
	{"missing call-id, from, to", OPTIONS V C "\r\n", AT_MANDATORY, -EBADMSG, 400,
	 "Missing From, To, Call-ID"},
	{"missing via", OPTIONS F T I C "\r\n", AT_MANDATORY, -EBADMSG, 400, "Missing Via"},
	{"duplicate from", OPTIONS ALL "From: <sip:x@example.com>;tag=2\r\n\r\n", AT_MANDATORY,
	 -EBADMSG, 400, "Duplicate From header"},
	{"bad cseq", OPTIONS V F T I "CSeq: OPTIONS 1\r\n\r\n", AT_MANDATORY, -EBADMSG, 400,
	 "Bad CSeq header"},
	{"bad IPv6 in via", OPTIONS F T I C "Via: SIP/2.0/UDP [2001:db8:::1]:5060\r\n\r\n",
	 AT_MANDATORY, -EBADMSG, 400, "Bad Via header"},
	{"bad IPv6 in request-uri", "OPTIONS sip:[2001:db8::1 SIP/2.0\r\n" ALL "\r\n", AT_RURI,
	 -EBADMSG, 400, "Bad Request-URI"},
	{"missing host", "OPTIONS sip:user@ SIP/2.0\r\n" ALL "\r\n", AT_RURI, -EBADMSG, 400,
	 "Bad Request-URI"},
	{"port overflow", "OPTIONS sip:user@example.com:65536 SIP/2.0\r\n" ALL "\r\n", AT_RURI,
	 -EBADMSG, 400, "Bad Request-URI"},
	{"port overflow in via", OPTIONS F T I C "Via: SIP/2.0/UDP h:99999;branch=z9hG4bK1\r\n\r\n",
	 AT_MANDATORY, -EBADMSG, 400, "Bad Via header"},
	{"bad version", "OPTIONS sip:u@example.com SIP/2.0a\r\n" ALL "\r\n", AT_PARSE, -EBADMSG,
	 400, "Bad Request-Line"},
	{"start-line garbage", "\xde\xad\xbe\xef junk\r\n" ALL "\r\n", AT_PARSE, -EBADMSG, 400,
	 "Bad Request-Line"},
	{"control character", OPTIONS ALL "Subject: \x08\r\n\r\n", AT_PARSE, -EBADMSG, 400,
	 "Control Character in Header"},
	{"truncated in headers", OPTIONS ALL "Subject: cut", AT_PARSE, -EBADMSG, 400,
	 "Truncated Message"},
	{"header without colon", OPTIONS ALL "Subject\r\n\r\n", AT_PARSE, -EBADMSG, 400,
	 "Bad Header Line"},
	{"continuation before any header", OPTIONS " " ALL "\r\n", AT_PARSE, -EBADMSG, 400,
	 "Bad Header Line"},
	{"conflicting content-length", OPTIONS ALL "l: 1\r\nl: 2\r\n\r\nab", AT_PARSE, -EBADMSG,
	 400, "Conflicting Content-Length"},
	{"unterminated quote in contact", OPTIONS ALL "Contact: \"Bob <sip:b@example.com>\r\n\r\n",
	 AT_CONTACT, -EBADMSG, 0, NULL},
	{"contact q out of range", OPTIONS ALL "Contact: <sip:b@example.com>;q=1.5\r\n\r\n",
	 AT_CONTACT, -EBADMSG, 0, NULL},
};

Test(sip_msg, torture_invalid)
{
	size_t i;

	for (i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
		const struct torture *t = &invalid[i];
		int err = parse_n(t->msg, strlen(t->msg), NULL);
		uint32_t mf;
		struct sip_addr a;

		if (t->stage == AT_PARSE) {
			cr_assert_eq(err, t->err, "%s: parse %d", t->name, err);
		} else {
			cr_assert_eq(err, 0, "%s: parses (%s)", t->name,
				     m.error.reason ? m.error.reason : "");
			switch (t->stage) {
			case AT_MANDATORY:
				err = sip_msg_check_mandatory(&m, false);
				break;
			case AT_RURI:
				err = sip_msg_ruri(&m) ? 0 : -EBADMSG;
				break;
			case AT_MAXFWD:
				cr_assert_eq(sip_msg_check_mandatory(&m, false), 0, "%s", t->name);
				err = sip_msg_max_forwards(&m, &mf);
				break;
			default:
				cr_assert_eq(sip_msg_check_mandatory(&m, false), 0, "%s", t->name);
				cr_assert_not_null(sip_msg_hdr(&m, SIP_HDR_CONTACT));
				err = sip_addr_parse(sip_msg_hdr(&m, SIP_HDR_CONTACT)->value, &a);
				cr_assert_eq(err, t->err, "%s: %d", t->name, err);
				continue;
			}
			cr_assert_eq(err, t->err, "%s: %d", t->name, err);
		}
		cr_assert_eq(m.error.status, t->status, "%s: status %u", t->name, m.error.status);
		cr_assert_str_eq(m.error.reason, t->reason, "%s", t->name);
	}
}
