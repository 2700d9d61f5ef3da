/*
 * hex: lower-case hexadecimal, both ways, for digests and nonces (RFC 7616
 * writes them in lower case) and the subscriber cache's packed HA1s.
 * Header-only: a few lines each, on paths that run per REGISTER.
 */
#ifndef JCT_HEX_H
#define JCT_HEX_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

/* Writes 2n lower-case digits of in at out (no NUL). */
static inline void hex_encode(const uint8_t *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 0xf];
	}
}

/* The value of a lower-case hex digit, or -1 (upper case too). */
static inline int hex_lower_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Decodes 2 * n_bytes lower-case digits at p into out. Returns 0, or
 * -EINVAL on any other character. */
static inline int hex_decode_lower(const char *p, size_t n_bytes, uint8_t *out)
{
	for (size_t i = 0; i < n_bytes; i++) {
		int hi = hex_lower_value(p[2 * i]), lo = hex_lower_value(p[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -EINVAL;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

#endif
