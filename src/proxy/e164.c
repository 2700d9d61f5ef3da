/*
 * e164: see e164.h for the rule. One pass over the user part into a
 * stack buffer of its digits, then the prefix decisions on that buffer;
 * nothing is allocated, so the proxy may call it for every request.
 */
#include "proxy/e164.h"

#include "config/config.h"

#include <errno.h>
#include <string.h>

/* Digits kept while reading: a national number plus the country code
 * still fits; anything longer is refused before the prefixes are looked
 * at (no prefix is longer than 4 digits, config.c). */
#define E164_SCAN_MAX (E164_MAX_DIGITS + 8)

static bool e164_starts(const char *digits, size_t n, const char *prefix, size_t plen)
{
	return plen <= n && memcmp(digits, prefix, plen) == 0;
}

int e164_normalise(const struct config *cfg, struct sip_str user, char *out, size_t cap)
{
	const char *cc = cfg->routing.country_code, *np = cfg->routing.national_prefix,
		   *ip = cfg->routing.international_prefix;
	size_t cclen = strlen(cc), nplen = strlen(np), iplen = strlen(ip);
	char digits[E164_SCAN_MAX];
	const char *p = user.p, *end = sip_str_end(user), *num;
	size_t n = 0, len, head = 0;
	bool plus = false;

	if (p < end && *p == '+') {
		plus = true;
		p++;
	}
	for (; p < end && *p != ';'; p++) {
		if (sip_is_digit(*p)) {
			if (n == sizeof(digits))
				return -EINVAL; /* too long to be one */
			digits[n++] = *p;
		} else if (*p != '-' && *p != '.' && *p != '(' && *p != ')') {
			return -EINVAL;
		}
	}
	num = digits;
	len = n;
	if (plus) {
		/* RFC 3966 §5.1.4: already global */
	} else if (iplen && e164_starts(digits, n, ip, iplen)) {
		num += iplen;
		len -= iplen;
	} else if (cclen && e164_starts(digits, n, np, nplen)) {
		num += nplen;
		len -= nplen;
		head = cclen;
	} else {
		return -EINVAL;
	}
	if (len == 0 || head + len > E164_MAX_DIGITS)
		return -EINVAL;
	if (head + len + 1 > cap)
		return -ENOSPC;
	memcpy(out, cc, head);
	memcpy(out + head, num, len);
	out[head + len] = '\0';
	return (int)(head + len);
}
