/*
 * sip_uri: SIP, SIPS and tel URIs (RFC 3261 §19.1, §25.1; RFC 3966).
 *
 * A parsed URI is a set of slices into the text it was parsed from;
 * escapes (%41) stay escaped in the slices and are decoded only when two
 * URIs are compared (§19.1.4). IPv6 references keep their brackets in
 * `host` so that host:port can be printed back as it was.
 */
#ifndef JCT_SIP_URI_H
#define JCT_SIP_URI_H

#include "sip/sip_str.h"

#include <stdbool.h>
#include <stdint.h>

enum sip_uri_scheme {
	SIP_URI_OTHER = 0, /* absoluteURI of another scheme (416 for a proxy) */
	SIP_URI_SIP,
	SIP_URI_SIPS,
	SIP_URI_TEL,
};

struct sip_uri {
	enum sip_uri_scheme scheme;
	struct sip_str raw;      /* the whole URI */
	struct sip_str user;     /* sip/sips: userinfo user; tel: the number */
	struct sip_str password; /* sip/sips only, may be empty */
	struct sip_str host;     /* hostname, IPv4, or "[IPv6]" with brackets */
	uint16_t port;           /* 0 when absent */
	bool has_user;           /* an '@' was present (user may still be empty: refused) */
	bool host_ipv6;
	struct sip_str params;  /* ";a=b;lr" including the first ';', or empty */
	struct sip_str headers; /* "a=b&c=d" after '?', or empty */
	/* Frequently used parameters, found while parsing. */
	struct sip_str transport; /* empty when absent */
	struct sip_str maddr;
	struct sip_str user_param; /* user=phone */
	bool lr;
};

/*
 * Parses s as a URI. sip/sips need a host; tel needs a number. A URI of
 * another scheme parses as SIP_URI_OTHER with only raw and scheme checked
 * (scheme ":" something), so the caller can answer 416 rather than 400.
 * Returns 0 or -EBADMSG.
 */
int sip_uri_parse(struct sip_str s, struct sip_uri *u);

/*
 * Finds the URI parameter name (case-insensitive) in u->params. Returns
 * true when present; *value is its value (empty for a flag like "lr").
 * value may be NULL.
 */
bool sip_uri_param(const struct sip_uri *u, const char *name, struct sip_str *value);

/*
 * Generic ";name[=value]" list lookup, used for URI, Via and header
 * parameters alike. params may start with ';' or not. Quoted values keep
 * their quotes. Returns true when present.
 */
bool sip_param_find(struct sip_str params, const char *name, struct sip_str *value);

/* URI comparison per RFC 3261 §19.1.4 (escapes decoded, user and password
 * case-sensitive, host and parameters case-insensitive, parameters in any
 * order, the listed ones must match when present in either). */
bool sip_uri_equal(const struct sip_uri *a, const struct sip_uri *b);

/* Decodes %HH escapes of s into dst (capacity cap). Returns the decoded
 * length, or -EBADMSG for a bad escape, -ENOSPC when dst is too small. */
int sip_unescape(struct sip_str s, char *dst, size_t cap);

/* The port to use when u has none: 5061 for sips or transport=tls, else 5060. */
uint16_t sip_uri_default_port(const struct sip_uri *u);

/* What sip_host_check() found. */
enum sip_host_type {
	SIP_HOST_NAME = 1,
	SIP_HOST_IPV4,
	SIP_HOST_IPV6, /* "[...]" with brackets */
};

/*
 * Checks that s is a host of §25.1: hostname (labels of alphanum and '-',
 * a top label starting with a letter, optional trailing dot),
 * IPv4address, or IPv6reference in brackets. Shared by the URI and Via
 * parsers. Returns an enum sip_host_type, or -EBADMSG.
 */
int sip_host_check(struct sip_str s);

/* True when s is an IPv6address without brackets (inet_pton on a stack
 * copy; s need not be NUL-terminated). */
bool sip_ipv6_check(struct sip_str s);

#endif
