/*
 * validate: the checks of RFC 3261 §16.3 that need no state, on a message
 * the parser accepted. Each step reads the message through the lazy
 * accessors of sip_msg, so a header no step needs is never parsed, and
 * says what to answer: the status and reason an accessor set ("Missing
 * Call-ID", "Bad Via header", 501 for an unknown method whose CSeq
 * disagrees) pass through unchanged, so each syntax error is named in one
 * place; what is checked here (the Request-URI's scheme and headers,
 * Max-Forwards, Proxy-Require) is named here. Nothing is allocated or
 * kept; core.c decides the order and what comes between the steps.
 */
#include "proxy/validate.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* Option tags a proxy must understand to relay the request (§16.3 step
 * 5). Junction supports none that change proxy behaviour yet; the list
 * exists so adding one is one line. */
static const char *const proxy_supported[] = {NULL};

static unsigned fail(struct validate_result *v, unsigned status, const char *reason)
{
	v->status = status;
	v->reason = reason;
	v->extra[0] = '\0';
	return status;
}

unsigned validate_syntax(struct sip_msg *m, bool stream, struct validate_result *v)
{
	const struct sip_uri *u;

	if (sip_msg_check_mandatory(m, stream) < 0)
		return fail(v, m->error.status ? m->error.status : 400,
			    m->error.reason ? m->error.reason : "Bad Request");
	u = sip_msg_ruri(m);
	if (!u)
		return fail(v, 400, "Bad Request-URI");
	if (u->scheme == SIP_URI_OTHER)
		return fail(v, 416, NULL);
	/* §19.1.1 Table 1: headers are not allowed in a Request-URI, and
	 * one relayed with them could be turned into real header fields
	 * downstream (RFC 4475 §3.1.2.11). */
	if ((u->scheme == SIP_URI_SIP || u->scheme == SIP_URI_SIPS) && u->headers.len)
		return fail(v, 400, "Headers in Request-URI");
	return 0;
}

unsigned validate_max_forwards(struct sip_msg *m, struct validate_result *v)
{
	uint32_t mf;
	int rc = sip_msg_max_forwards(m, &mf);

	if (rc == -ENOENT)
		return 0; /* the proxy adds one (§16.6 step 3) */
	if (rc < 0)
		return fail(v, 400, "Bad Max-Forwards");
	if (mf == 0)
		return fail(v, 483, NULL);
	return 0;
}

static bool proxy_supports(struct sip_str tag)
{
	for (const char *const *s = proxy_supported; *s; s++)
		if (sip_str_caseeq_cstr(tag, *s))
			return true;
	return false;
}

unsigned validate_proxy_require(struct sip_msg *m, struct validate_result *v)
{
	size_t used = 0;
	bool bad = false;

	/* ACK and CANCEL are never refused for an extension (§8.2.2.3 by
	 * analogy: they cannot be rejected meaningfully). */
	if (m->method_id == SIP_METHOD_ACK || m->method_id == SIP_METHOD_CANCEL)
		return 0;
	for (const struct sip_hdr *h = sip_msg_hdr(m, SIP_HDR_PROXY_REQUIRE); h;
	     h = sip_msg_hdr_next(m, h)) {
		struct sip_str cur = h->value, tag;

		while (sip_list_next(&cur, &tag)) {
			int n;

			if (proxy_supports(tag))
				continue;
			n = snprintf(v->extra + used, sizeof(v->extra) - used, "%s%.*s",
				     bad ? ", " : "Unsupported: ", SIP_STR_FMT(tag));
			if (n > 0 && (size_t)n < sizeof(v->extra) - used - 2)
				used += (size_t)n;
			bad = true;
		}
	}
	if (!bad)
		return 0;
	memcpy(v->extra + used, "\r\n", 3);
	v->status = 420;
	v->reason = NULL;
	return 420;
}
