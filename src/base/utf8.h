/*
 * utf8: one UTF-8 character decoded strictly (RFC 3629 §3-4): overlong
 * forms, surrogates and code points past U+10FFFF are not characters.
 * For text from the network that goes where only valid UTF-8 may
 * (the access log's lines, PostgreSQL's text columns).
 */
#ifndef JCT_UTF8_H
#define JCT_UTF8_H

#include <stddef.h>

/* The length of the character at p[0..n) (n > 0), its code point in *cp;
 * 0 when the bytes are not one. */
static inline size_t utf8_decode(const unsigned char *p, size_t n, unsigned *cp)
{
	unsigned c = p[0], v;
	size_t len;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf)
		len = 2, v = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3, v = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4, v = c & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		v = v << 6 | (p[i] & 0x3f);
	}
	if ((len == 3 && (v < 0x800 || (v >= 0xd800 && v <= 0xdfff))) ||
	    (len == 4 && (v < 0x10000 || v > 0x10ffff)))
		return 0;
	*cp = v;
	return len;
}

#endif
