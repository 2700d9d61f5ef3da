/*
 * sip_uri: parser and comparison of SIP, SIPS and tel URIs (RFC 3261
 * §19.1, §25.1; RFC 3966).
 *
 * The parser is one forward pass over (p, end): scheme, userinfo (the
 * first '@' ends it, since '@' may not appear unescaped after it), host,
 * port, parameters, headers, each checked against its character class
 * from a private table. Escapes are validated but left in place; they are
 * decoded one byte at a time only when URIs are compared (§19.1.4), so
 * nothing is copied. The only copy is the small stack buffer inet_pton
 * needs for an IPv6 reference.
 */
#include "sip/sip_uri.h"

#include <arpa/inet.h>
#include <errno.h>

/* Which URI components may hold a character unescaped (§25.1):
 *   user     = unreserved / user-unreserved "&=+$,;?/"
 *   password = unreserved / "&=+$,"
 *   paramchar = unreserved / param-unreserved "[]/:&+$"
 *   hname, hvalue = unreserved / hnv-unreserved "[]/?:+$"
 * Escapes (%HH) are allowed in all four and handled separately. */
enum { U_USER = 1, U_PASS = 2, U_PARAM = 4, U_HDR = 8 };
#define U_ALL (U_USER | U_PASS | U_PARAM | U_HDR)

static const uint8_t uri_ctype[256] = {
	['0' ... '9'] = U_ALL,
	['a' ... 'z'] = U_ALL,
	['A' ... 'Z'] = U_ALL,
	['-'] = U_ALL,
	['_'] = U_ALL,
	['.'] = U_ALL,
	['!'] = U_ALL,
	['~'] = U_ALL,
	['*'] = U_ALL,
	['\''] = U_ALL,
	['('] = U_ALL,
	[')'] = U_ALL,
	['+'] = U_ALL,
	['$'] = U_ALL,
	['&'] = U_USER | U_PASS | U_PARAM,
	['='] = U_USER | U_PASS,
	[','] = U_USER | U_PASS,
	[';'] = U_USER,
	['?'] = U_USER | U_HDR,
	['/'] = U_USER | U_PARAM | U_HDR,
	['['] = U_PARAM | U_HDR,
	[']'] = U_PARAM | U_HDR,
	[':'] = U_PARAM | U_HDR,
};

/*
 * Scans characters of class mask and %HH escapes from p. Returns the first
 * byte outside the class, or NULL for a malformed escape.
 */
static const char *scan_class(const char *p, const char *end, uint8_t mask)
{
	while (p < end) {
		if (*p == '%') {
			if (end - p < 3 || !sip_is_hex(p[1]) || !sip_is_hex(p[2]))
				return NULL;
			p += 3;
		} else if (uri_ctype[(unsigned char)*p] & mask) {
			p++;
		} else {
			break;
		}
	}
	return p;
}

static bool is_alnum(char c)
{
	return sip_ctype[(unsigned char)c] & (SIP_CT_ALPHA | SIP_CT_DIGIT);
}

/* IPv4address = 1*3DIGIT "." 1*3DIGIT "." 1*3DIGIT "." 1*3DIGIT (§25.1),
 * each part at most 255. Written out because glibc's inet_pton refuses
 * leading zeros, which the grammar allows. */
static bool ipv4_ok(const char *p, const char *end)
{
	int part;

	for (part = 0; part < 4; part++) {
		unsigned v = 0, n = 0;

		if (part && (p == end || *p++ != '.'))
			return false;
		while (p < end && sip_is_digit(*p) && n < 3) {
			v = v * 10 + (unsigned)(*p++ - '0');
			n++;
		}
		if (n == 0 || v > 255)
			return false;
	}
	return p == end;
}

/* A domainlabel is alphanum with '-' inside only (§25.1). */
static bool label_ok(const char *p, const char *end)
{
	return p < end && is_alnum(p[0]) && is_alnum(end[-1]);
}

bool sip_ipv6_check(struct sip_str s)
{
	char tmp[INET6_ADDRSTRLEN];
	unsigned char bin[16];

	if (s.len == 0 || s.len >= sizeof(tmp))
		return false;
	memcpy(tmp, s.p, s.len);
	tmp[s.len] = '\0';
	return inet_pton(AF_INET6, tmp, bin) == 1;
}

int sip_host_check(struct sip_str s)
{
	const char *p = s.p, *end = sip_str_end(s), *label = p;

	if (s.len == 0)
		return -EBADMSG;
	if (s.p[0] == '[') {
		if (s.len < 2 || end[-1] != ']' ||
		    !sip_ipv6_check(sip_str_make(s.p + 1, s.len - 2)))
			return -EBADMSG;
		return SIP_HOST_IPV6;
	}
	/* hostname = *( domainlabel "." ) toplabel [ "." ], in one pass.
	 * The top label starts with a letter, so a name is never mistaken
	 * for a malformed IPv4 address: if it starts with a digit, the host
	 * must be an IPv4address. */
	if (end[-1] == '.')
		end--;
	for (; p < end; p++) {
		if (*p == '.') {
			if (!label_ok(label, p))
				return -EBADMSG;
			label = p + 1;
		} else if (!(sip_ctype[(unsigned char)*p] & SIP_CT_HOST)) {
			return -EBADMSG;
		}
	}
	if (!label_ok(label, end))
		return -EBADMSG;
	if (sip_is_alpha(*label))
		return SIP_HOST_NAME;
	return ipv4_ok(s.p, sip_str_end(s)) ? SIP_HOST_IPV4 : -EBADMSG;
}

/* port = 1*DIGIT; 0 is refused since sip_uri uses it for "absent". */
static const char *parse_port(const char *p, const char *end, uint16_t *port)
{
	const char *q = p;
	uint32_t v;

	while (q < end && sip_is_digit(*q))
		q++;
	if (sip_str_to_u32(sip_str_make(p, (size_t)(q - p)), &v) || v == 0 || v > 65535)
		return NULL;
	*port = (uint16_t)v;
	return q;
}

/* Remembers the parameters a proxy looks at (first occurrence wins). */
static void note_param(struct sip_uri *u, struct sip_str name, struct sip_str value)
{
	switch (name.len) {
	case 2:
		if (sip_str_caseeq(name, SIP_STR("lr")))
			u->lr = true;
		break;
	case 4:
		if (!u->user_param.p && sip_str_caseeq(name, SIP_STR("user")))
			u->user_param = value;
		break;
	case 5:
		if (!u->maddr.p && sip_str_caseeq(name, SIP_STR("maddr")))
			u->maddr = value;
		break;
	case 9:
		if (!u->transport.p && sip_str_caseeq(name, SIP_STR("transport")))
			u->transport = value;
		break;
	}
}

/* uri-parameters = *( ";" pname [ "=" pvalue ] ) from p (at ';' or end).
 * An empty pvalue ("a=") is tolerated; an empty pname is not. */
static const char *parse_params(const char *p, const char *end, struct sip_uri *u)
{
	const char *start = p;

	while (p < end && *p == ';') {
		const char *n = p + 1, *q;
		struct sip_str name, value = SIP_STR_NULL;

		q = scan_class(n, end, U_PARAM);
		if (!q || q == n)
			return NULL;
		name = sip_str_make(n, (size_t)(q - n));
		if (q < end && *q == '=') {
			const char *v = q + 1;

			q = scan_class(v, end, U_PARAM);
			if (!q)
				return NULL;
			value = sip_str_make(v, (size_t)(q - v));
		} else {
			value = sip_str_make(q, 0);
		}
		note_param(u, name, value);
		p = q;
	}
	u->params = sip_str_make(start, (size_t)(p - start));
	return p;
}

/* headers = "?" header *( "&" header ); header = hname "=" hvalue. */
static const char *parse_headers(const char *p, const char *end, struct sip_uri *u)
{
	const char *start = p;

	for (;;) {
		const char *q = scan_class(p, end, U_HDR);

		if (!q || q == p || q == end || *q != '=')
			return NULL;
		q = scan_class(q + 1, end, U_HDR);
		if (!q)
			return NULL;
		p = q;
		if (p == end || *p != '&')
			break;
		p++;
	}
	u->headers = sip_str_make(start, (size_t)(p - start));
	return p;
}

/* sip/sips after "scheme:" (§19.1.1). */
static int parse_sip(const char *p, const char *end, struct sip_uri *u)
{
	const char *at = memchr(p, '@', (size_t)(end - p));
	const char *q;
	int type;

	if (at) {
		u->has_user = true;
		q = scan_class(p, at, U_USER);
		if (!q || q == p)
			return -EBADMSG; /* bad escape, or "sip:@host" / "sip::pw@host" */
		u->user = sip_str_make(p, (size_t)(q - p));
		if (q < at) {
			const char *pw = q + 1;

			if (*q != ':')
				return -EBADMSG;
			q = scan_class(pw, at, U_PASS);
			if (q != at)
				return -EBADMSG;
			u->password = sip_str_make(pw, (size_t)(at - pw));
		}
		p = at + 1;
	}

	if (p < end && *p == '[') {
		q = memchr(p, ']', (size_t)(end - p));
		if (!q)
			return -EBADMSG;
		q++;
	} else {
		for (q = p; q < end && sip_ctype[(unsigned char)*q] & SIP_CT_HOST; q++)
			;
	}
	u->host = sip_str_make(p, (size_t)(q - p));
	type = sip_host_check(u->host);
	if (type < 0)
		return -EBADMSG;
	u->host_ipv6 = type == SIP_HOST_IPV6;
	p = q;

	if (p < end && *p == ':') {
		p = parse_port(p + 1, end, &u->port);
		if (!p)
			return -EBADMSG;
	}
	p = parse_params(p, end, u);
	if (!p)
		return -EBADMSG;
	if (p < end && *p == '?') {
		p = parse_headers(p + 1, end, u);
		if (!p)
			return -EBADMSG;
	}
	return p == end ? 0 : -EBADMSG;
}

/* tel (RFC 3966 §3): global-number "+" 1*(DIGIT / visual-separator) with
 * at least one digit, or local-number of HEXDIG / "*" / "#" / separators.
 * The number goes to u->user, parameters to u->params. */
static int parse_tel(const char *p, const char *end, struct sip_uri *u)
{
	const char *q = p;
	bool global = q < end && *q == '+';
	unsigned digits = 0;

	if (global)
		q++;
	for (; q < end && *q != ';'; q++) {
		char c = *q;

		if (sip_is_digit(c) || (!global && (sip_is_hex(c) || c == '*' || c == '#')))
			digits++;
		else if (c != '-' && c != '.' && c != '(' && c != ')')
			return -EBADMSG;
	}
	if (digits == 0)
		return -EBADMSG;
	u->user = sip_str_make(p, (size_t)(q - p));
	q = parse_params(q, end, u);
	return q == end ? 0 : -EBADMSG;
}

int sip_uri_parse(struct sip_str s, struct sip_uri *u)
{
	const char *p = s.p, *end = sip_str_end(s), *q;
	struct sip_str scheme;
	int err = -EBADMSG;

	memset(u, 0, sizeof(*u));
	u->raw = s;

	/* scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) (§25.1) */
	if (p == end || !sip_is_alpha(*p))
		goto out;
	for (q = p + 1; q < end && (is_alnum(*q) || *q == '+' || *q == '-' || *q == '.'); q++)
		;
	if (q == end || *q != ':' || q + 1 == end)
		goto out;
	scheme = sip_str_make(p, (size_t)(q - p));
	p = q + 1;

	if (scheme.len == 3 && sip_str_caseeq(scheme, SIP_STR("sip"))) {
		u->scheme = SIP_URI_SIP;
		err = parse_sip(p, end, u);
	} else if (scheme.len == 4 && sip_str_caseeq(scheme, SIP_STR("sips"))) {
		u->scheme = SIP_URI_SIPS;
		err = parse_sip(p, end, u);
	} else if (scheme.len == 3 && sip_str_caseeq(scheme, SIP_STR("tel"))) {
		u->scheme = SIP_URI_TEL;
		err = parse_tel(p, end, u);
	} else {
		/* Another scheme: only refuse what cannot be in any URI
		 * (LWS, controls, delimiters of a name-addr), so the caller
		 * answers 416 rather than 400. */
		for (; p < end; p++) {
			unsigned char c = (unsigned char)*p;

			if (c <= 0x20 || c >= 0x7f || c == '<' || c == '>' || c == '"')
				goto out;
		}
		u->scheme = SIP_URI_OTHER;
		err = 0;
	}
out:
	return err;
}

/*
 * Generic ";name[=value]" iterator over a parameter list. Tolerates SWS
 * around ';' and '=' (header parameters, §25.1 SEMI and EQUAL) and keeps
 * a quoted value whole. *cur advances past the parameter returned.
 */
static bool param_next(struct sip_str *cur, struct sip_str *name, struct sip_str *value)
{
	const char *p = cur->p, *end = sip_str_end(*cur);

	while (p < end) {
		const char *n, *v;

		while (p < end && (sip_is_lws(*p) || *p == ';'))
			p++;
		if (p == end)
			break;
		for (n = p; p < end && *p != ';' && *p != '=' && !sip_is_lws(*p); p++)
			;
		*name = sip_str_make(n, (size_t)(p - n));
		while (p < end && sip_is_lws(*p))
			p++;
		if (p < end && *p == '=') {
			p++;
			while (p < end && sip_is_lws(*p))
				p++;
			v = p;
			if (p < end && *p == '"') {
				p = sip_skip_quoted(p, end);
				if (!p)
					p = end;
			} else {
				while (p < end && *p != ';' && !sip_is_lws(*p))
					p++;
			}
			*value = sip_str_make(v, (size_t)(p - v));
		} else {
			*value = sip_str_make(p, 0);
		}
		/* Skip whatever does not belong (the typed parsers refuse it). */
		while (p < end && *p != ';')
			p++;
		if (name->len) {
			*cur = sip_str_make(p, (size_t)(end - p));
			return true;
		}
	}
	*cur = sip_str_make(end, 0);
	return false;
}

bool sip_param_find(struct sip_str params, const char *name, struct sip_str *value)
{
	struct sip_str n, v;

	while (param_next(&params, &n, &v)) {
		if (sip_str_caseeq_cstr(n, name)) {
			if (value)
				*value = v;
			return true;
		}
	}
	return false;
}

bool sip_uri_param(const struct sip_uri *u, const char *name, struct sip_str *value)
{
	return sip_param_find(u->params, name, value);
}

static int hexval(char c)
{
	return sip_is_digit(c) ? c - '0' : (sip_tolower(c) - 'a' + 10);
}

int sip_unescape(struct sip_str s, char *dst, size_t cap)
{
	const char *p = s.p, *end = sip_str_end(s);
	size_t n = 0;

	while (p < end) {
		char c = *p++;

		if (c == '%') {
			if (end - p < 2 || !sip_is_hex(p[0]) || !sip_is_hex(p[1]))
				return -EBADMSG;
			c = (char)(hexval(p[0]) << 4 | hexval(p[1]));
			p += 2;
		}
		if (n == cap || n >= INT32_MAX)
			return -ENOSPC;
		dst[n++] = c;
	}
	return (int)n;
}

/* Next decoded byte of [*p, end), or -1 at the end. A '%' that does not
 * start a valid escape compares as itself. */
static int dec_next(const char **p, const char *end)
{
	const char *q = *p;
	int c;

	if (q == end)
		return -1;
	if (*q == '%' && end - q >= 3 && sip_is_hex(q[1]) && sip_is_hex(q[2])) {
		*p = q + 3;
		return hexval(q[1]) << 4 | hexval(q[2]);
	}
	c = (unsigned char)*q;
	*p = q + 1;
	return c;
}

/* Equality of two escaped strings after decoding (§19.1.4), optionally
 * ASCII case-insensitive. No buffer: decodes both sides in step. */
static bool esc_eq(struct sip_str a, struct sip_str b, bool icase)
{
	const char *pa = a.p, *ea = sip_str_end(a), *pb = b.p, *eb = sip_str_end(b);

	for (;;) {
		int ca = dec_next(&pa, ea), cb = dec_next(&pb, eb);

		if (icase && ca >= 0 && cb >= 0) {
			ca = (unsigned char)sip_tolower((char)ca);
			cb = (unsigned char)sip_tolower((char)cb);
		}
		if (ca != cb)
			return false;
		if (ca < 0)
			return true;
	}
}

/* Finds parameter name (decoded, case-insensitive) in a URI's params. */
static bool uri_param_lookup(struct sip_str params, struct sip_str name, struct sip_str *value)
{
	struct sip_str n, v;

	while (param_next(&params, &n, &v)) {
		if (esc_eq(n, name, true)) {
			*value = v;
			return true;
		}
	}
	return false;
}

/* §19.1.4: user, ttl, method, maddr and transport must match when present
 * in either URI; other parameters are compared only when in both. */
static bool param_must_match(struct sip_str name)
{
	static const char *const names[] = {"user", "ttl", "method", "maddr", "transport"};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (esc_eq(name, sip_str_cstr(names[i]), true))
			return true;
	}
	return false;
}

/* Parameters of a are matched in b; the must-match ones of b are checked
 * by a second call with a and b swapped. */
static bool params_match(struct sip_str a, struct sip_str b, bool only_must)
{
	struct sip_str all = a, n, v, av, bv;

	while (param_next(&a, &n, &v)) {
		bool must = param_must_match(n);

		if (only_must && !must)
			continue;
		/* A repeated name counts once, by its first occurrence, as in
		 * sip_uri_param(): else "sip:h;transport=udp;transport=tcp" is
		 * not equal to itself (found by fuzzing). */
		if (uri_param_lookup(all, n, &av) && av.p != v.p)
			continue;
		if (!uri_param_lookup(b, n, &bv)) {
			if (must)
				return false;
			continue;
		}
		if (!esc_eq(v, bv, true))
			return false;
	}
	return true;
}

/* Next "name=value" of a URI headers component ("a=b&c=d"). */
static bool header_next(struct sip_str *cur, struct sip_str *name, struct sip_str *value)
{
	const char *p = cur->p, *end = sip_str_end(*cur), *amp, *eq;

	if (p == end)
		return false;
	amp = memchr(p, '&', (size_t)(end - p));
	if (!amp)
		amp = end;
	eq = memchr(p, '=', (size_t)(amp - p));
	if (!eq)
		eq = amp;
	*name = sip_str_make(p, (size_t)(eq - p));
	*value = eq < amp ? sip_str_make(eq + 1, (size_t)(amp - eq - 1)) : sip_str_make(amp, 0);
	*cur = amp < end ? sip_str_make(amp + 1, (size_t)(end - amp - 1)) : sip_str_make(end, 0);
	return true;
}

/* a and b have as many headers and every header of a is in b, names
 * case-insensitive, values as written (after decoding). §19.1.4 wants
 * both directions: sip_uri_equal() calls this twice. */
static bool headers_in(struct sip_str a, struct sip_str b)
{
	struct sip_str ca = a, cb = b, n, v, bn, bv;
	unsigned na = 0, nb = 0;

	while (header_next(&ca, &n, &v))
		na++;
	while (header_next(&cb, &n, &v))
		nb++;
	if (na != nb)
		return false;
	while (header_next(&a, &n, &v)) {
		bool found = false;

		cb = b;
		while (!found && header_next(&cb, &bn, &bv))
			found = esc_eq(n, bn, true) && esc_eq(v, bv, false);
		if (!found)
			return false;
	}
	return true;
}

static bool host_eq(const struct sip_uri *a, const struct sip_uri *b)
{
	char ta[INET6_ADDRSTRLEN], tb[INET6_ADDRSTRLEN];
	unsigned char ba[16], bb[16];

	if (!a->host_ipv6 || !b->host_ipv6)
		return sip_str_caseeq(a->host, b->host);
	/* "[::1]" and "[0:0::1]" name the same host: compare the bytes. */
	sip_str_to_cstr(sip_str_make(a->host.p + 1, a->host.len - 2), ta, sizeof(ta));
	sip_str_to_cstr(sip_str_make(b->host.p + 1, b->host.len - 2), tb, sizeof(tb));
	return inet_pton(AF_INET6, ta, ba) == 1 && inet_pton(AF_INET6, tb, bb) == 1 &&
	       memcmp(ba, bb, sizeof(ba)) == 0;
}

bool sip_uri_equal(const struct sip_uri *a, const struct sip_uri *b)
{
	if (a->scheme != b->scheme)
		return false;
	/* tel and other schemes: the whole text, decoded, case-insensitive.
	 * (RFC 3966 §4 would also ignore visual separators; Junction only
	 * needs exact matches of numbers it wrote itself.) */
	if (a->scheme != SIP_URI_SIP && a->scheme != SIP_URI_SIPS)
		return esc_eq(a->raw, b->raw, true);
	return a->has_user == b->has_user && esc_eq(a->user, b->user, false) &&
	       esc_eq(a->password, b->password, false) && host_eq(a, b) && a->port == b->port &&
	       params_match(a->params, b->params, false) &&
	       params_match(b->params, a->params, true) && headers_in(a->headers, b->headers) &&
	       headers_in(b->headers, a->headers);
}

uint16_t sip_uri_default_port(const struct sip_uri *u)
{
	if (u->scheme == SIP_URI_SIPS || sip_str_caseeq(u->transport, SIP_STR("tls")))
		return 5061;
	return 5060;
}
