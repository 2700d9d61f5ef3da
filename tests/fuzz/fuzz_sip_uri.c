/*
 * libFuzzer target for the URI parser (RFC 3261 §19.1, §25.1; RFC 3966):
 * sip_uri_parse and what reads a parsed URI: the parameter lookups
 * (sip_uri_param, sip_param_find on params and headers), the §19.1.4
 * comparison, sip_unescape, sip_host_check / sip_ipv6_check on the host,
 * and the default port.
 *
 * The input is one URI, or two separated by a NUL byte, which are then
 * compared both ways (the comparison must be symmetric, and a URI equal
 * to itself). Each is a copy of exactly its size, so ASan catches a read
 * past the end: the parser may never rely on a NUL.
 */
#include "sip/sip_uri.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const names[] = {"transport", "lr", "maddr", "user", "method", "ttl", "x"};

static void walk(const struct sip_uri *u)
{
	struct sip_str v;
	char tmp[256];

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		(void)sip_uri_param(u, names[i], &v);
		(void)sip_param_find(u->headers, names[i], &v);
	}
	(void)sip_uri_param(u, "lr", NULL);
	(void)sip_uri_default_port(u);
	(void)sip_host_check(u->host);
	if (u->host.len > 2 && u->host.p[0] == '[')
		(void)sip_ipv6_check(sip_str_make(u->host.p + 1, u->host.len - 2));
	(void)sip_unescape(u->user, tmp, sizeof(tmp));
	(void)sip_unescape(u->password, tmp, sizeof(tmp));
	(void)sip_unescape(u->raw, tmp, 8); /* -ENOSPC */
	if (!sip_uri_equal(u, u) && u->scheme != SIP_URI_OTHER)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = size ? memchr(data, 0, size) : NULL;
	size_t n1 = nul ? (size_t)(nul - data) : size, n2 = nul ? size - n1 - 1 : 0;
	struct sip_uri a, b;
	char *s1, *s2 = NULL;
	int ra, rb = -1;

	s1 = malloc(n1 ? n1 : 1);
	if (!s1)
		return 0;
	if (n1)
		memcpy(s1, data, n1);
	ra = sip_uri_parse(sip_str_make(s1, n1), &a);
	if (ra == 0)
		walk(&a);
	/* The raw text is a list of parameters for sip_param_find too. */
	(void)sip_param_find(sip_str_make(s1, n1), "tag", NULL);
	(void)sip_host_check(sip_str_make(s1, n1));
	(void)sip_ipv6_check(sip_str_make(s1, n1));

	if (nul) {
		s2 = malloc(n2 ? n2 : 1);
		if (!s2)
			goto out;
		if (n2)
			memcpy(s2, nul + 1, n2);
		rb = sip_uri_parse(sip_str_make(s2, n2), &b);
		if (rb == 0)
			walk(&b);
		if (ra == 0 && rb == 0 && sip_uri_equal(&a, &b) != sip_uri_equal(&b, &a))
			abort();
	}
out:
	free(s2);
	free(s1);
	return 0;
}
