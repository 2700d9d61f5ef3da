/*
 * Unit tests for accesslog_format(): the line of a transaction in logfmt
 * and in JSON, exactly; values an attacker writes (quotes, backslashes,
 * line ends, control characters, bytes that are not UTF-8, Unicode line
 * separators) escaped so that they can neither end the line nor the
 * value; long values cut on a character boundary; and the worst case
 * fitting ACCESSLOG_LINE_MAX.
 */
#include "proxy/accesslog.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static char line[ACCESSLOG_LINE_MAX];

/* 2026-12-05T12:00:00.123Z */
#define AT_MS 1796472000123ULL

static struct netaddr src4;

static struct accesslog_entry entry(void)
{
	cr_assert_eq(netaddr_parse("127.0.0.1:5061", &src4), 0);
	return (struct accesslog_entry){.at_ms = AT_MS,
					.duration_ms = 12,
					.proto = SIP_PROTO_UDP,
					.src = &src4,
					.method = SIP_STR("INVITE"),
					.ruri = SIP_STR("sip:bob@example.com"),
					.from_user = SIP_STR("alice"),
					.call_id = SIP_STR("a84b4c76e66710@pc33"),
					.target = SIP_STR("sip:10.0.0.1:5060"),
					.status = 200};
}

static const char *fmt(const struct accesslog_entry *e, enum access_format f)
{
	int n = accesslog_format(e, "n1", f, line, sizeof(line));

	cr_assert_gt(n, 0);
	cr_assert_lt((size_t)n, sizeof(line));
	line[n] = '\0';
	/* One line: a newline at the end and nowhere else. */
	cr_assert_eq(line[n - 1], '\n');
	cr_assert_eq(strchr(line, '\n'), line + n - 1, "a line end inside: %s", line);
	cr_assert_null(strchr(line, '\r'));
	return line;
}

/* The JSON line parsed (new reference); fails when it is not JSON. */
static json_t *parse(const char *text)
{
	json_error_t err;
	json_t *j = json_loads(text, 0, &err);

	cr_assert_not_null(j, "not JSON (%s): %s", err.text, text);
	return j;
}

Test(accesslog, logfmt_line)
{
	struct accesslog_entry e = entry();

	cr_assert_str_eq(
		fmt(&e, ACCESS_FORMAT_LOGFMT),
		"time=2026-12-05T12:00:00.123Z node=n1 proto=udp src=127.0.0.1:5061 "
		"method=INVITE ruri=\"sip:bob@example.com\" from=alice status=200 "
		"target=\"sip:10.0.0.1:5060\" duration_ms=12 call_id=\"a84b4c76e66710@pc33\"\n");
}

Test(accesslog, json_line)
{
	struct accesslog_entry e = entry();

	cr_assert_str_eq(fmt(&e, ACCESS_FORMAT_JSON),
			 "{\"time\":\"2026-12-05T12:00:00.123Z\",\"node\":\"n1\",\"proto\":\"udp\","
			 "\"src\":\"127.0.0.1:5061\",\"method\":\"INVITE\","
			 "\"ruri\":\"sip:bob@example.com\",\"from\":\"alice\",\"status\":200,"
			 "\"target\":\"sip:10.0.0.1:5060\",\"duration_ms\":12,"
			 "\"call_id\":\"a84b4c76e66710@pc33\"}\n");
	json_decref(parse(line));
}

/* No answer (a MESSAGE that timed out), no target, no source, over TCP
 * from IPv6, a From without a user. */
Test(accesslog, empty_values)
{
	struct accesslog_entry e = entry();
	struct netaddr a6;

	e.status = 0;
	e.target = SIP_STR_NULL;
	e.from_user = SIP_STR_NULL;
	e.method = SIP_STR("MESSAGE");
	e.src = NULL;
	e.duration_ms = 32000;
	cr_assert_str_eq(
		fmt(&e, ACCESS_FORMAT_LOGFMT),
		"time=2026-12-05T12:00:00.123Z node=n1 proto=udp src= method=MESSAGE "
		"ruri=\"sip:bob@example.com\" from= status=0 target=\"\" duration_ms=32000 "
		"call_id=\"a84b4c76e66710@pc33\"\n");
	cr_assert_eq(netaddr_parse("[2001:db8::1]:5062", &a6), 0);
	e.src = &a6;
	e.proto = SIP_PROTO_TCP;
	cr_assert(strstr(fmt(&e, ACCESS_FORMAT_LOGFMT), " proto=tcp src=[2001:db8::1]:5062 "), "%s",
		  line);
	json_t *j = parse(fmt(&e, ACCESS_FORMAT_JSON));
	cr_assert_str_eq(json_string_value(json_object_get(j, "target")), "");
	cr_assert_str_eq(json_string_value(json_object_get(j, "from")), "");
	cr_assert_eq(json_integer_value(json_object_get(j, "status")), 0);
	cr_assert_str_eq(json_string_value(json_object_get(j, "src")), "[2001:db8::1]:5062");
	json_decref(j);
}

/* A Call-ID and a From user crafted to forge a second line and fields. */
Test(accesslog, injection_escaped)
{
	static const char cid[] = "x\" status=200 \\\nfake=1\r\t\x01\x1b[31m\x7f";
	struct accesslog_entry e = entry();
	json_t *j;

	e.call_id = sip_str_make(cid, sizeof(cid) - 1);
	e.from_user = SIP_STR("al ice=\"x\"");
	e.ruri = SIP_STR("sip:bob@example.com;x=\"\n");
	fmt(&e, ACCESS_FORMAT_LOGFMT);
	cr_assert(strstr(line, " from=\"al ice=\\\"x\\\"\" "), "%s", line);
	cr_assert(strstr(line, " ruri=\"sip:bob@example.com;x=\\\"\\n\" "), "%s", line);
	cr_assert(strstr(line, " call_id=\"x\\\" status=200 \\\\\\nfake=1\\r\\t\\u0001\\u001b[31m"
			       "\\u007f\"\n"),
		  "%s", line);
	/* The JSON line is JSON, and gives back exactly what was sent. */
	j = parse(fmt(&e, ACCESS_FORMAT_JSON));
	cr_assert_str_eq(json_string_value(json_object_get(j, "call_id")), cid);
	cr_assert_str_eq(json_string_value(json_object_get(j, "from")), "al ice=\"x\"");
	cr_assert_eq(json_integer_value(json_object_get(j, "status")), 200);
	cr_assert_eq(json_object_size(j), 11);
	json_decref(j);
}

/* UTF-8 kept; bytes that are not UTF-8 (a lone continuation byte, an
 * overlong '/', a surrogate, a cut sequence) as U+FFFD; C1 controls and
 * the Unicode line separators escaped. */
Test(accesslog, utf8)
{
	static const char user[] = "J\xc3\xbcrgen\x80\xc0\xaf\xed\xa0\x80\xc2\x85\xe2\x80\xa8\xe2";
	struct accesslog_entry e = entry();
	json_t *j;

	e.from_user = sip_str_make(user, sizeof(user) - 1);
	fmt(&e, ACCESS_FORMAT_LOGFMT);
	cr_assert(strstr(line, " from=\"J\xc3\xbcrgen\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd"
			       "\\u0085\\u2028\\ufffd\" "),
		  "%s", line);
	j = parse(fmt(&e, ACCESS_FORMAT_JSON));
	cr_assert_str_eq(json_string_value(json_object_get(j, "from")),
			 "J\xc3\xbcrgen\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
			 "\xef\xbf\xbd\xc2\x85\xe2\x80\xa8\xef\xbf\xbd");
	json_decref(j);
}

/* A long value is cut at ACCESSLOG_FIELD_MAX bytes, never inside a
 * character, and says so with "...". */
Test(accesslog, long_value_cut)
{
	char *ruri = malloc(4000);
	struct accesslog_entry e = entry();
	const char *v;

	memset(ruri, 'a', 4000);
	memcpy(ruri, "sip:", 4);
	/* a 2-byte character across the cut: bytes 511 and 512 */
	ruri[ACCESSLOG_FIELD_MAX - 1] = (char)0xc3;
	ruri[ACCESSLOG_FIELD_MAX] = (char)0xbc;
	e.ruri = sip_str_make(ruri, 4000);
	fmt(&e, ACCESS_FORMAT_LOGFMT);
	v = strstr(line, " ruri=\"");
	cr_assert_not_null(v);
	v += 7;
	cr_assert_eq(strchr(v, '"') - v, ACCESSLOG_FIELD_MAX - 1 + 3, "%s", line);
	cr_assert_eq(memcmp(v + ACCESSLOG_FIELD_MAX - 1, "...\"", 4), 0);
	free(ruri);
}

/* Every field as long as it may be and made of what escapes longest fits
 * ACCESSLOG_LINE_MAX; a buffer too small is -ENOSPC, not a cut line. */
Test(accesslog, worst_case_fits)
{
	char *junk = malloc(ACCESSLOG_FIELD_MAX + 100);
	struct accesslog_entry e = entry();
	struct sip_str s;
	char small[64];
	int n;

	memset(junk, 0x01, ACCESSLOG_FIELD_MAX + 100);
	s = sip_str_make(junk, ACCESSLOG_FIELD_MAX + 100);
	e.method = e.ruri = e.from_user = e.call_id = e.target = s;
	e.status = 699;
	e.duration_ms = UINT64_MAX;
	junk[ACCESSLOG_FIELD_MAX + 99] = '\0';
	for (int f = ACCESS_FORMAT_LOGFMT; f <= ACCESS_FORMAT_JSON; f++) {
		n = accesslog_format(&e, junk, (enum access_format)f, line, sizeof(line));
		cr_assert_gt(n, 6 * ACCESSLOG_FIELD_MAX * 5);
		cr_assert_leq(n, ACCESSLOG_LINE_MAX);
	}
	cr_assert_eq(accesslog_format(&e, "n1", ACCESS_FORMAT_LOGFMT, small, sizeof(small)),
		     -ENOSPC);
	free(junk);
}
