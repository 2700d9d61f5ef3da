/*
 * sip_str: a borrowed slice of a SIP message, (pointer, length), never
 * NUL-terminated. Every piece of a parsed message is one of these pointing
 * into the received buffer, so parsing copies nothing. A slice borrows its
 * bytes: it is valid as long as the buffer it points into.
 *
 * Conversions refuse empty input and overflow instead of clamping, so a
 * header like "Expires: 99999999999" is an error, not a silent maximum.
 */
#ifndef JCT_SIP_STR_H
#define JCT_SIP_STR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct sip_str {
	const char *p;
	size_t len;
};

/* A slice of a string literal (length without the NUL). */
#define SIP_STR(lit) ((struct sip_str){(lit), sizeof(lit) - 1})
#define SIP_STR_NULL ((struct sip_str){NULL, 0})
/* printf("%.*s", SIP_STR_FMT(s)) */
#define SIP_STR_FMT(s) (int)(s).len, (s).p

static inline struct sip_str sip_str_make(const char *p, size_t len)
{
	return (struct sip_str){p, len};
}

static inline struct sip_str sip_str_cstr(const char *s)
{
	return (struct sip_str){s, s ? strlen(s) : 0};
}

/* One past the last byte. An empty slice may have p == NULL, and C does
 * not allow even NULL + 0, so that case returns p unchanged. */
static inline const char *sip_str_end(struct sip_str s)
{
	return s.len ? s.p + s.len : s.p;
}

static inline bool sip_str_empty(struct sip_str s)
{
	return s.len == 0;
}

/* Exact, case-sensitive comparison. */
static inline bool sip_str_eq(struct sip_str a, struct sip_str b)
{
	return a.len == b.len && (a.len == 0 || memcmp(a.p, b.p, a.len) == 0);
}

/* ASCII case-insensitive comparison (tokens, header names, hosts). */
bool sip_str_caseeq(struct sip_str a, struct sip_str b);
/* Case-insensitive comparison with a C string. */
bool sip_str_caseeq_cstr(struct sip_str a, const char *b);
/* Case-insensitive prefix test. */
bool sip_str_caseprefix(struct sip_str s, const char *prefix);

/* True for SP, HTAB, CR and LF: the characters of LWS once a header has
 * been unfolded in place (RFC 3261 §7.3.1 folding keeps CRLF in values). */
static inline bool sip_is_lws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Removes leading and trailing LWS, folded line breaks included. */
struct sip_str sip_str_trim(struct sip_str s);

/* Decimal conversions: 1*DIGIT only (no sign, no spaces), refusing empty
 * input (-EINVAL), other characters (-EINVAL) and overflow (-ERANGE).
 * Return 0 on success. */
int sip_str_to_u32(struct sip_str s, uint32_t *out);
int sip_str_to_u64(struct sip_str s, uint64_t *out);

/* Index of the first byte c in s, or -1. */
static inline ptrdiff_t sip_str_chr(struct sip_str s, char c)
{
	const char *q = s.len ? memchr(s.p, c, s.len) : NULL;
	return q ? q - s.p : -1;
}

/* Copies s into dst (capacity cap, cap > 0) as a NUL-terminated string,
 * truncating if needed. Returns dst. For logging and libc calls only. */
char *sip_str_to_cstr(struct sip_str s, char *dst, size_t cap);

/*
 * Character classes of RFC 3261 §25.1, one 256-byte table shared by the
 * parsers so that a class test is one load and one AND.
 */
enum {
	SIP_CT_ALPHA = 0x01,
	SIP_CT_DIGIT = 0x02,
	SIP_CT_HEX = 0x04,
	SIP_CT_TOKEN = 0x08,      /* token: alphanum / "-.!%*_+`'~" */
	SIP_CT_UNRESERVED = 0x10, /* alphanum / mark "-_.!~*'()" */
	SIP_CT_HOST = 0x20,       /* hostname and IPv4 characters: alphanum / "-" / "." */
};
extern const uint8_t sip_ctype[256];

static inline bool sip_is_token(char c)
{
	return sip_ctype[(unsigned char)c] & SIP_CT_TOKEN;
}

static inline bool sip_is_digit(char c)
{
	return sip_ctype[(unsigned char)c] & SIP_CT_DIGIT;
}

static inline bool sip_is_alpha(char c)
{
	return sip_ctype[(unsigned char)c] & SIP_CT_ALPHA;
}

static inline bool sip_is_hex(char c)
{
	return sip_ctype[(unsigned char)c] & SIP_CT_HEX;
}

static inline char sip_tolower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c | 0x20) : c;
}

/* Writes "user@domain" with the domain lowercased (domains compare
 * case-insensitively, RFC 3261 §19.1.4; users do not) into out, the key of
 * an address of record in the caches. Returns its length, or 0 when it
 * would not fit in cap bytes. */
size_t sip_user_at_domain(struct sip_str user, struct sip_str domain, char *out, size_t cap);

/*
 * p points at the opening DQUOTE of a quoted-string (§25.1); returns the
 * byte after the closing DQUOTE, or NULL when the string is unterminated
 * before end or holds a control character other than LWS. A backslash
 * escapes the next byte (quoted-pair), except CR and LF.
 */
const char *sip_skip_quoted(const char *p, const char *end);

/*
 * Length of the well-formed UTF-8 sequence at p (1 to 4 bytes, of the n
 * available), or 0 when the bytes there are not one (overlong forms,
 * surrogates and code points above U+10FFFF included). Used before text
 * goes to PostgreSQL, which refuses invalid UTF-8.
 */
size_t sip_utf8_seq_len(const unsigned char *p, size_t n);
/* Is all of s well-formed UTF-8? */
bool sip_str_utf8_valid(struct sip_str s);

/* Number formatting for the relay path, where printf's parsing of the
 * format costs more than the work: v in decimal into out (room for 21
 * bytes), NUL-terminated; returns the length. */
size_t sip_fmt_u64(char *out, uint64_t v);
/* v as exactly 16 lowercase hex digits into out (not NUL-terminated). */
void sip_fmt_hex64(char *out, uint64_t v);

#endif
