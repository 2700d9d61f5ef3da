/*
 * policy: see policy.h.
 */
#include "security/policy.h"

#include "config/config.h"

#include <string.h>

/* Case-insensitive substring search; needle is lowercase. */
static bool contains(struct sip_str hay, const char *needle)
{
	size_t n = strlen(needle);

	if (n == 0 || hay.len < n)
		return false;
	for (size_t i = 0; i + n <= hay.len; i++) {
		size_t k = 0;

		while (k < n && sip_tolower(hay.p[i + k]) == needle[k])
			k++;
		if (k == n)
			return true;
	}
	return false;
}

bool policy_is_scanner(const struct config *cfg, struct sip_msg *m)
{
	const struct sip_hdr *h;

	if (!cfg->security.drop_scanners)
		return false;
	h = sip_msg_hdr(m, SIP_HDR_USER_AGENT);
	if (!h)
		return false;
	for (unsigned i = 0; i < cfg->security.nscanners; i++)
		if (contains(h->value, cfg->security.scanners[i]))
			return true;
	return false;
}
