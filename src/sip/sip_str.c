/*
 * sip_str: slices, their comparisons and conversions, and the character
 * class table the parsers share.
 *
 * Everything here works on (pointer, length) and never expects a NUL.
 * The class table is built at compile time from ranges (GNU designated
 * initializers), so the parsers' inner loops test a class with one load.
 */
#include "sip/sip_str.h"

#include <errno.h>
#include <string.h>

#define C_LOWHEX (SIP_CT_ALPHA | SIP_CT_HEX | SIP_CT_TOKEN | SIP_CT_UNRESERVED | SIP_CT_HOST)
#define C_ALPHA  (SIP_CT_ALPHA | SIP_CT_TOKEN | SIP_CT_UNRESERVED | SIP_CT_HOST)
#define C_DIGIT  (SIP_CT_DIGIT | SIP_CT_HEX | SIP_CT_TOKEN | SIP_CT_UNRESERVED | SIP_CT_HOST)
#define C_TOKMK  (SIP_CT_TOKEN | SIP_CT_UNRESERVED)

/* RFC 3261 §25.1: token = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_"
 * / "+" / "`" / "'" / "~"); mark = "-" / "_" / "." / "!" / "~" / "*" /
 * "'" / "(" / ")". */
const uint8_t sip_ctype[256] = {
	['0' ... '9'] = C_DIGIT,
	['a' ... 'f'] = C_LOWHEX,
	['A' ... 'F'] = C_LOWHEX,
	['g' ... 'z'] = C_ALPHA,
	['G' ... 'Z'] = C_ALPHA,
	['-'] = C_TOKMK | SIP_CT_HOST,
	['.'] = C_TOKMK | SIP_CT_HOST,
	['!'] = C_TOKMK,
	['*'] = C_TOKMK,
	['_'] = C_TOKMK,
	['~'] = C_TOKMK,
	['\''] = C_TOKMK,
	['%'] = SIP_CT_TOKEN,
	['+'] = SIP_CT_TOKEN,
	['`'] = SIP_CT_TOKEN,
	['('] = SIP_CT_UNRESERVED,
	[')'] = SIP_CT_UNRESERVED, /* one entry a line: keep clang-format from packing */
};

bool sip_str_caseeq(struct sip_str a, struct sip_str b)
{
	size_t i;

	if (a.len != b.len)
		return false;
	for (i = 0; i < a.len; i++) {
		char x = a.p[i], y = b.p[i];

		if (x != y && sip_tolower(x) != sip_tolower(y))
			return false;
	}
	return true;
}

bool sip_str_caseeq_cstr(struct sip_str a, const char *b)
{
	return sip_str_caseeq(a, sip_str_cstr(b));
}

bool sip_str_caseprefix(struct sip_str s, const char *prefix)
{
	size_t n = strlen(prefix);

	return s.len >= n && sip_str_caseeq(sip_str_make(s.p, n), sip_str_make(prefix, n));
}

struct sip_str sip_str_trim(struct sip_str s)
{
	while (s.len && sip_is_lws(s.p[0])) {
		s.p++;
		s.len--;
	}
	while (s.len && sip_is_lws(s.p[s.len - 1]))
		s.len--;
	return s;
}

int sip_str_to_u64(struct sip_str s, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (s.len == 0)
		return -EINVAL;
	for (i = 0; i < s.len; i++) {
		unsigned d = (unsigned char)s.p[i] - '0';

		if (d > 9)
			return -EINVAL;
		/* v * 10 + d overflows; constants, no division per digit. */
		if (v > UINT64_MAX / 10 || (v == UINT64_MAX / 10 && d > UINT64_MAX % 10))
			return -ERANGE;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

int sip_str_to_u32(struct sip_str s, uint32_t *out)
{
	uint64_t v;
	int err;

	/* Any value above UINT32_MAX is refused, whether it overflowed the
	 * u64 (-ERANGE there) or only the u32. */
	err = sip_str_to_u64(s, &v);
	if (err)
		return err;
	if (v > UINT32_MAX)
		return -ERANGE;
	*out = (uint32_t)v;
	return 0;
}

char *sip_str_to_cstr(struct sip_str s, char *dst, size_t cap)
{
	size_t n = s.len < cap - 1 ? s.len : cap - 1;

	if (n)
		memcpy(dst, s.p, n);
	dst[n] = '\0';
	return dst;
}

const char *sip_skip_quoted(const char *p, const char *end)
{
	/* §25.1: qdtext = LWS / %x21 / %x23-5B / %x5D-7E / UTF8-NONASCII;
	 * quoted-pair = "\" (%x00-09 / %x0B-0C / %x0E-7F). */
	for (p++; p < end; p++) {
		unsigned char c = (unsigned char)*p;

		if (c == '"')
			return p + 1;
		if (c == '\\') {
			if (++p == end || *p == '\r' || *p == '\n')
				return NULL;
			continue;
		}
		if ((c < 0x20 && !sip_is_lws((char)c)) || c == 0x7f)
			return NULL;
	}
	return NULL;
}

size_t sip_utf8_seq_len(const unsigned char *p, size_t n)
{
	unsigned char c = p[0];
	size_t len;
	uint32_t cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		cp = c & 0x07;
	} else {
		return 0; /* continuation byte, or C0/C1/F5..FF lead */
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	/* overlong three- and four-byte forms, surrogates, beyond U+10FFFF */
	if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

bool sip_str_utf8_valid(struct sip_str s)
{
	const unsigned char *p = (const unsigned char *)s.p;
	size_t i = 0;

	while (i < s.len) {
		size_t n = sip_utf8_seq_len(p + i, s.len - i);
		if (!n)
			return false;
		i += n;
	}
	return true;
}

size_t sip_user_at_domain(struct sip_str user, struct sip_str domain, char *out, size_t cap)
{
	size_t n = user.len + 1 + domain.len;

	if (n > cap)
		return 0;
	memcpy(out, user.p, user.len);
	out[user.len] = '@';
	for (size_t i = 0; i < domain.len; i++)
		out[user.len + 1 + i] = sip_tolower(domain.p[i]);
	return n;
}

size_t sip_fmt_u64(char *out, uint64_t v)
{
	char tmp[20];
	size_t n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	for (size_t i = 0; i < n; i++)
		out[i] = tmp[n - 1 - i];
	out[n] = '\0';
	return n;
}

void sip_fmt_hex64(char *out, uint64_t v)
{
	static const char digits[] = "0123456789abcdef";

	for (int i = 15; i >= 0; i--) {
		out[i] = digits[v & 0xf];
		v >>= 4;
	}
}
