/*
 * Unit tests for sip_str: comparisons, trimming, decimal conversions, the
 * shared character classes and quoted-string skipping.
 *
 * Inputs that could be over-read are copied to the end of a page followed
 * by a PROT_NONE page (guarded()), so reading one byte too far crashes.
 */
#include "sip/sip_str.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>

/* Copies s[0..n) so that it ends where an inaccessible page begins. The
 * copy is read-only: the code under test may not write to it either.
 * Mappings are not freed; each Criterion test runs in its own process. */
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

static void assert_slice(struct sip_str s, const char *want)
{
	cr_assert(sip_str_eq(s, sip_str_cstr(want)), "expected \"%s\", got \"%.*s\"", want,
		  (int)s.len, s.p ? s.p : "");
}

Test(sip_str, eq_and_caseeq)
{
	cr_assert(sip_str_eq(SIP_STR("abc"), G("abc")));
	cr_assert_not(sip_str_eq(SIP_STR("abc"), SIP_STR("abC")));
	cr_assert_not(sip_str_eq(SIP_STR("abc"), SIP_STR("ab")));
	cr_assert(sip_str_eq(SIP_STR_NULL, SIP_STR("")));

	cr_assert(sip_str_caseeq(G("Call-ID"), SIP_STR("call-id")));
	cr_assert(sip_str_caseeq(SIP_STR("WWW-Authenticate"), G("www-AUTHENTICATE")));
	cr_assert_not(sip_str_caseeq(SIP_STR("Call-ID"), SIP_STR("Call-IE")));
	cr_assert_not(sip_str_caseeq(SIP_STR("Via"), SIP_STR("Vias")));
	cr_assert(sip_str_caseeq(SIP_STR_NULL, SIP_STR("")));
	/* Only letters fold: '@' (0x40) is not '`' (0x60), '[' is not '{'. */
	cr_assert_not(sip_str_caseeq(SIP_STR("@"), SIP_STR("`")));
	cr_assert_not(sip_str_caseeq(SIP_STR("["), SIP_STR("{")));
	cr_assert_not(sip_str_caseeq(SIP_STR("\r"), SIP_STR("-")));
}

Test(sip_str, caseeq_cstr_and_prefix)
{
	cr_assert(sip_str_caseeq_cstr(G("INVITE"), "invite"));
	cr_assert_not(sip_str_caseeq_cstr(G("INVITE"), "invit"));
	cr_assert(sip_str_caseeq_cstr(SIP_STR(""), ""));

	cr_assert(sip_str_caseprefix(G("SIP/2.0 200 OK"), "sip/"));
	cr_assert(sip_str_caseprefix(G("SIP/"), "SIP/"));
	cr_assert_not(sip_str_caseprefix(G("SIP"), "SIP/"));
	cr_assert_not(sip_str_caseprefix(G("SIPS/2.0"), "SIP/"));
	cr_assert(sip_str_caseprefix(G("x"), ""));
}

Test(sip_str, trim)
{
	assert_slice(sip_str_trim(G("  abc\t ")), "abc");
	assert_slice(sip_str_trim(G("\r\n a b \r\n\t")), "a b");
	/* A folded value keeps its inner fold. */
	assert_slice(sip_str_trim(G("a\r\n b")), "a\r\n b");
	cr_assert_eq(sip_str_trim(G(" \t\r\n ")).len, 0);
	cr_assert_eq(sip_str_trim(SIP_STR_NULL).len, 0);
	assert_slice(sip_str_trim(G("x")), "x");
}

Test(sip_str, to_u32)
{
	uint32_t v = 7;

	cr_assert_eq(sip_str_to_u32(G("0"), &v), 0);
	cr_assert_eq(v, 0);
	cr_assert_eq(sip_str_to_u32(G("4294967295"), &v), 0);
	cr_assert_eq(v, UINT32_MAX);
	cr_assert_eq(sip_str_to_u32(G("000000000000000000000000042"), &v), 0);
	cr_assert_eq(v, 42);

	v = 7;
	cr_assert_eq(sip_str_to_u32(G("4294967296"), &v), -ERANGE);
	cr_assert_eq(sip_str_to_u32(G("99999999999999999999999999"), &v), -ERANGE);
	cr_assert_eq(sip_str_to_u32(G(""), &v), -EINVAL);
	cr_assert_eq(sip_str_to_u32(SIP_STR_NULL, &v), -EINVAL);
	cr_assert_eq(sip_str_to_u32(G("12a"), &v), -EINVAL);
	cr_assert_eq(sip_str_to_u32(G("-1"), &v), -EINVAL);
	cr_assert_eq(sip_str_to_u32(G("+1"), &v), -EINVAL);
	cr_assert_eq(sip_str_to_u32(G(" 1"), &v), -EINVAL);
	cr_assert_eq(sip_str_to_u32(G("1 "), &v), -EINVAL);
	cr_assert_eq(sip_str_to_u32(G("0x10"), &v), -EINVAL);
	cr_assert_eq(v, 7, "output untouched on error");
}

Test(sip_str, to_u64)
{
	uint64_t v = 7;

	cr_assert_eq(sip_str_to_u64(G("18446744073709551615"), &v), 0);
	cr_assert_eq(v, UINT64_MAX);
	cr_assert_eq(sip_str_to_u64(G("4294967296"), &v), 0);
	cr_assert_eq(v, 4294967296ull);
	v = 7;
	cr_assert_eq(sip_str_to_u64(G("18446744073709551616"), &v), -ERANGE);
	cr_assert_eq(sip_str_to_u64(G("184467440737095516150"), &v), -ERANGE);
	cr_assert_eq(sip_str_to_u64(G(""), &v), -EINVAL);
	cr_assert_eq(sip_str_to_u64(G("1.5"), &v), -EINVAL);
	cr_assert_eq(v, 7);
}

Test(sip_str, to_cstr)
{
	char buf[6];

	cr_assert_str_eq(sip_str_to_cstr(G("abc"), buf, sizeof(buf)), "abc");
	cr_assert_str_eq(sip_str_to_cstr(G("abcde"), buf, sizeof(buf)), "abcde");
	cr_assert_str_eq(sip_str_to_cstr(G("abcdefgh"), buf, sizeof(buf)), "abcde");
	cr_assert_str_eq(sip_str_to_cstr(G("abc"), buf, 1), "");
	cr_assert_str_eq(sip_str_to_cstr(SIP_STR_NULL, buf, sizeof(buf)), "");
}

Test(sip_str, chr_and_helpers)
{
	cr_assert_eq(sip_str_chr(G("a:b"), ':'), 1);
	cr_assert_eq(sip_str_chr(G("ab"), ':'), -1);
	cr_assert_eq(sip_str_chr(SIP_STR_NULL, ':'), -1);
	cr_assert(sip_str_empty(SIP_STR("")));
	cr_assert_not(sip_str_empty(SIP_STR("x")));
	cr_assert_eq(sip_str_cstr(NULL).len, 0);
	cr_assert(sip_is_lws(' ') && sip_is_lws('\t') && sip_is_lws('\r') && sip_is_lws('\n'));
	cr_assert_not(sip_is_lws('x'));
	cr_assert_not(sip_is_lws('\0'));
}

Test(sip_str, char_classes)
{
	const char *tok = "abcxyzABCXYZ0189-.!%*_+`'~";
	const char *sep = "()<>@,;:\\\"/[]?={} \t\r\n";
	const char *p;
	int c;

	for (p = tok; *p; p++)
		cr_assert(sip_is_token(*p), "'%c' is a token character", *p);
	for (p = sep; *p; p++)
		cr_assert_not(sip_is_token(*p), "'%c' is a separator", *p);
	for (c = 0x80; c < 0x100; c++)
		cr_assert_not(sip_is_token((char)c));
	cr_assert_not(sip_is_token('\0'));

	for (c = 0; c < 256; c++) {
		bool digit = c >= '0' && c <= '9';
		bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
		bool hex = digit || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');

		cr_assert_eq(sip_is_digit((char)c), digit, "digit %d", c);
		cr_assert_eq(sip_is_alpha((char)c), alpha, "alpha %d", c);
		cr_assert_eq(sip_is_hex((char)c), hex, "hex %d", c);
		cr_assert_eq(sip_tolower((char)c), (char)(c >= 'A' && c <= 'Z' ? c + 32 : c));
		cr_assert_eq(!!(sip_ctype[c] & SIP_CT_HOST), alpha || digit || c == '-' || c == '.',
			     "host %d", c);
	}
	/* mark = "-" / "_" / "." / "!" / "~" / "*" / "'" / "(" / ")" */
	for (p = "-_.!~*'()aZ9"; *p; p++)
		cr_assert(sip_ctype[(unsigned char)*p] & SIP_CT_UNRESERVED, "'%c' unreserved", *p);
	for (p = "%+`;@&"; *p; p++)
		cr_assert_not(sip_ctype[(unsigned char)*p] & SIP_CT_UNRESERVED, "'%c' reserved",
			      *p);
}

Test(sip_str, skip_quoted)
{
	struct sip_str s;

	s = G("\"abc\" rest");
	cr_assert_eq(sip_skip_quoted(s.p, s.p + s.len), s.p + 5);
	s = G("\"a\\\"b\"");
	cr_assert_eq(sip_skip_quoted(s.p, s.p + s.len), s.p + s.len, "escaped quote");
	s = G("\"a\\\\\"x");
	cr_assert_eq(sip_skip_quoted(s.p, s.p + s.len), s.p + 5, "escaped backslash");
	s = G("\"\"");
	cr_assert_eq(sip_skip_quoted(s.p, s.p + s.len), s.p + 2, "empty");
	s = G("\"folded\r\n value\"");
	cr_assert_eq(sip_skip_quoted(s.p, s.p + s.len), s.p + s.len, "LWS inside");
	s = G("\"J\xc3\xbcrgen\"");
	cr_assert_eq(sip_skip_quoted(s.p, s.p + s.len), s.p + s.len, "UTF-8 inside");

	s = G("\"unterminated");
	cr_assert_null(sip_skip_quoted(s.p, s.p + s.len));
	s = G("\"ends in escape\\");
	cr_assert_null(sip_skip_quoted(s.p, s.p + s.len));
	s = G("\"escaped quote at end\\\"");
	cr_assert_null(sip_skip_quoted(s.p, s.p + s.len));
	s = G("\"nul\0byte\"");
	cr_assert_null(sip_skip_quoted(s.p, s.p + s.len));
	s = G("\"esc\x1b\"");
	cr_assert_null(sip_skip_quoted(s.p, s.p + s.len));
	s = G("\"bs-cr\\\r\n x\"");
	cr_assert_null(sip_skip_quoted(s.p, s.p + s.len));
	s = G("\"");
	cr_assert_null(sip_skip_quoted(s.p, s.p + s.len));
}

Test(sip_str, utf8)
{
	cr_assert(sip_str_utf8_valid(SIP_STR("plain ascii")));
	cr_assert(sip_str_utf8_valid(SIP_STR("J\xc3\xb6rg \xe2\x82\xac \xf0\x9f\x93\x9e")));
	cr_assert_not(sip_str_utf8_valid(SIP_STR("\xc3")), "truncated");
	cr_assert_not(sip_str_utf8_valid(SIP_STR("\xc0\xaf")), "overlong two-byte");
	cr_assert_not(sip_str_utf8_valid(SIP_STR("\xe0\x80\xaf")), "overlong three-byte");
	cr_assert_not(sip_str_utf8_valid(SIP_STR("\xed\xa0\x80")), "surrogate");
	cr_assert_not(sip_str_utf8_valid(SIP_STR("\xf4\x90\x80\x80")), "above U+10FFFF");
	cr_assert_not(sip_str_utf8_valid(SIP_STR("\x80")), "lone continuation");
	cr_assert_not(sip_str_utf8_valid(SIP_STR("ok\xffok")), "invalid byte");
	cr_assert_eq(sip_utf8_seq_len((const unsigned char *)"\xe2\x82\xac", 3), 3);
	cr_assert_eq(sip_utf8_seq_len((const unsigned char *)"\xe2\x82\xac", 2), 0);
}

Test(sip_str, fmt_u64_and_hex64)
{
	char d[24], h[17] = {0};

	cr_assert_eq(sip_fmt_u64(d, 0), 1);
	cr_assert_str_eq(d, "0");
	cr_assert_eq(sip_fmt_u64(d, 69), 2);
	cr_assert_str_eq(d, "69");
	cr_assert_eq(sip_fmt_u64(d, UINT64_MAX), 20);
	cr_assert_str_eq(d, "18446744073709551615");
	sip_fmt_hex64(h, 0);
	cr_assert_str_eq(h, "0000000000000000");
	sip_fmt_hex64(h, 0x0123456789abcdefULL);
	cr_assert_str_eq(h, "0123456789abcdef");
	sip_fmt_hex64(h, UINT64_MAX);
	cr_assert_str_eq(h, "ffffffffffffffff");
}
