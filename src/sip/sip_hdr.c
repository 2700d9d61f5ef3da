/*
 * sip_hdr: typed parsers for header bodies (RFC 3261 §20, §25.1; RFC 3581;
 * RFC 7616).
 *
 * Each parser is a forward scan over one slice (p, end) that fills a
 * struct of slices into the same bytes. They run only when someone asks
 * (the lazy accessors of sip_msg), so a header nobody reads is never
 * parsed. LWS is matched with sip_is_lws(), which includes CR and LF, so
 * values that were folded over several lines (§7.3.1) parse in place.
 * Header parameters share one validating iterator (hparam_next) so Via and
 * name-addr accept exactly the same ";name=value" syntax.
 */
#include "sip/sip_hdr.h"

#include <errno.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

static const char *skip_lws(const char *p, const char *end)
{
	while (p < end && sip_is_lws(*p))
		p++;
	return p;
}

static const char *skip_token(const char *p, const char *end)
{
	while (p < end && sip_is_token(*p))
		p++;
	return p;
}

static bool all_token(struct sip_str s)
{
	return s.len && skip_token(s.p, sip_str_end(s)) == sip_str_end(s);
}

static struct sip_str span(const char *p, const char *q)
{
	return sip_str_make(p, (size_t)(q - p));
}

/* First ',', '"' or '<' in [p, end), or end: the bytes that matter when
 * splitting a list. Sixteen at a time with SSE2, since Via and Contact
 * values are long and mostly made of other bytes. */
static const char *find_list_special(const char *p, const char *end)
{
#if defined(__SSE2__)
	const __m128i comma = _mm_set1_epi8(','), quote = _mm_set1_epi8('"'),
		      laquot = _mm_set1_epi8('<');

	while (end - p >= 16) {
		__m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
		int mask = _mm_movemask_epi8(_mm_or_si128(
			_mm_or_si128(_mm_cmpeq_epi8(x, comma), _mm_cmpeq_epi8(x, quote)),
			_mm_cmpeq_epi8(x, laquot)));

		if (mask)
			return p + __builtin_ctz((unsigned)mask);
		p += 16;
	}
#endif
	while (p < end && *p != ',' && *p != '"' && *p != '<')
		p++;
	return p;
}

bool sip_list_next(struct sip_str *cursor, struct sip_str *item)
{
	const char *p = cursor->p, *end = sip_str_end(*cursor), *start, *q;

	while (p < end && (sip_is_lws(*p) || *p == ','))
		p++;
	if (p == end) {
		*cursor = sip_str_make(end, 0);
		return false;
	}
	start = p;
	while ((p = find_list_special(p, end)) < end && *p != ',') {
		if (*p == '"') {
			/* Unterminated: the element runs to the end and its
			 * typed parser refuses it. */
			q = sip_skip_quoted(p, end);
			p = q ? q : end;
		} else {
			q = memchr(p, '>', (size_t)(end - p));
			p = q ? q + 1 : end;
		}
	}
	*item = sip_str_trim(span(start, p));
	*cursor = span(p, end);
	return true;
}

/* gen-value = token / host / quoted-string (§25.1). host adds ':' and
 * brackets to the token characters (IPv6 in received=, maddr=). */
static const char *scan_gen_value(const char *p, const char *end)
{
	const char *q;

	if (p < end && *p == '"')
		return sip_skip_quoted(p, end);
	for (q = p; q < end && (sip_is_token(*q) || *q == ':' || *q == '[' || *q == ']'); q++)
		;
	return q == p ? NULL : q;
}

/*
 * One header parameter: SEMI token [ EQUAL gen-value ] (§25.1, SEMI and
 * EQUAL allow SWS). Returns 1 with name and value (empty for a flag),
 * 0 at the end of the slice, -EBADMSG for anything else.
 */
static int hparam_next(const char **pp, const char *end, struct sip_str *name,
		       struct sip_str *value)
{
	const char *p = skip_lws(*pp, end), *q;

	if (p == end)
		return 0;
	if (*p != ';')
		return -EBADMSG;
	p = skip_lws(p + 1, end);
	q = skip_token(p, end);
	if (q == p)
		return -EBADMSG;
	*name = span(p, q);
	*value = sip_str_make(q, 0);
	p = skip_lws(q, end);
	if (p < end && *p == '=') {
		p = skip_lws(p + 1, end);
		q = scan_gen_value(p, end);
		if (!q)
			return -EBADMSG;
		*value = span(p, q);
	}
	*pp = q;
	return 1;
}

/* The host of a sent-by or of a URI-less host field: IPv6 reference or
 * hostname/IPv4 characters. Returns its end, or NULL. */
static const char *scan_host(const char *p, const char *end)
{
	const char *q;

	if (p < end && *p == '[') {
		q = memchr(p, ']', (size_t)(end - p));
		return q ? q + 1 : NULL;
	}
	for (q = p; q < end && sip_ctype[(unsigned char)*q] & SIP_CT_HOST; q++)
		;
	return q;
}

static int port_value(struct sip_str s, uint32_t *port)
{
	if (sip_str_to_u32(s, port) || *port == 0 || *port > 65535)
		return -EBADMSG;
	return 0;
}

/* Via received= (§20.42 via-received, RFC 5118 §4.5 for IPv6): an address,
 * never a hostname; IPv6 with or without brackets. */
static bool received_ok(struct sip_str s)
{
	int type = sip_host_check(s);

	return type == SIP_HOST_IPV4 || type == SIP_HOST_IPV6 || sip_ipv6_check(s);
}

/* Records one known Via parameter; a second branch (or received, ...) is
 * refused since the two could be read differently by two elements. The
 * length picks the one name to compare. */
static int via_param(struct sip_via *v, struct sip_str name, struct sip_str value)
{
	uint32_t n;

	switch (name.len) {
	case 3:
		/* ttl = 1*3DIGIT ; 0 to 255 */
		if (!sip_str_caseeq(name, SIP_STR("ttl")))
			break;
		if (v->ttl.p || value.len > 3 || sip_str_to_u32(value, &n) || n > 255)
			return -EBADMSG;
		v->ttl = value;
		break;
	case 5:
		if (sip_str_caseeq(name, SIP_STR("rport"))) {
			/* RFC 3581 §3: response-port = "rport" [EQUAL 1*DIGIT] */
			if (v->rport || (value.len && port_value(value, &v->rport_value)))
				return -EBADMSG;
			v->rport = true;
		} else if (sip_str_caseeq(name, SIP_STR("maddr"))) {
			if (v->maddr.p || sip_host_check(value) < 0)
				return -EBADMSG;
			v->maddr = value;
		}
		break;
	case 6:
		if (!sip_str_caseeq(name, SIP_STR("branch")))
			break;
		if (v->branch.p || !all_token(value))
			return -EBADMSG;
		v->branch = value;
		break;
	case 8:
		if (!sip_str_caseeq(name, SIP_STR("received")))
			break;
		if (v->received.p || !received_ok(value))
			return -EBADMSG;
		v->received = value;
		break;
	}
	return 0;
}

/* sent-protocol LWS sent-by of the Via element s into v (cleared first,
 * raw set). Returns the end of the sent-by, or NULL. */
static const char *via_sent_by(struct sip_str s, struct sip_via *v)
{
	const char *p, *end, *q;
	int r;

	memset(v, 0, sizeof(*v));
	s = sip_str_trim(s);
	v->raw = s;
	p = s.p;
	end = sip_str_end(s);

	/* sent-protocol = protocol-name SLASH protocol-version SLASH
	 * transport, SLASH = SWS "/" SWS */
	q = skip_token(p, end);
	if (q == p)
		return NULL;
	p = skip_lws(q, end);
	if (p == end || *p != '/')
		return NULL;
	p = skip_lws(p + 1, end);
	q = skip_token(p, end);
	if (q == p)
		return NULL;
	v->protocol = span(s.p, q);
	p = skip_lws(q, end);
	if (p == end || *p != '/')
		return NULL;
	p = skip_lws(p + 1, end);
	q = skip_token(p, end);
	if (q == p)
		return NULL;
	v->transport = span(p, q);

	/* LWS sent-by, sent-by = host [ COLON port ] */
	if (q == end || !sip_is_lws(*q))
		return NULL;
	p = skip_lws(q, end);
	q = scan_host(p, end);
	if (!q)
		return NULL;
	v->host = span(p, q);
	r = sip_host_check(v->host);
	if (r < 0)
		return NULL;
	v->host_ipv6 = r == SIP_HOST_IPV6;
	p = skip_lws(q, end);
	if (p < end && *p == ':') {
		uint32_t port;

		p = skip_lws(p + 1, end);
		for (q = p; q < end && sip_is_digit(*q); q++)
			;
		if (port_value(span(p, q), &port))
			return NULL;
		v->port = (uint16_t)port;
	}
	return q;
}

int sip_via_parse(struct sip_str s, struct sip_via *v)
{
	const char *p = via_sent_by(s, v), *end = sip_str_end(v->raw);
	struct sip_str name, value;
	int r;

	if (!p)
		return -EBADMSG;
	/* *( SEMI via-params ) */
	v->params = span(skip_lws(p, end), end);
	while ((r = hparam_next(&p, end, &name, &value)) > 0) {
		if (via_param(v, name, value))
			return -EBADMSG;
	}
	return r < 0 ? -EBADMSG : 0;
}

int sip_via_parse_sent_by(struct sip_str s, struct sip_via *v)
{
	const char *p = via_sent_by(s, v), *end = sip_str_end(v->raw);

	/* What follows must at least start like the parameters do, or the
	 * host read may be only part of something else. */
	if (!p)
		return -EBADMSG;
	p = skip_lws(p, end);
	return p == end || *p == ';' ? 0 : -EBADMSG;
}

int sip_qvalue_parse(struct sip_str s, int32_t *thousandths)
{
	/* qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ) */
	int32_t v;
	size_t i;

	if (s.len == 0 || (s.p[0] != '0' && s.p[0] != '1') || s.len > 5 ||
	    (s.len > 1 && s.p[1] != '.'))
		return -EBADMSG;
	v = s.p[0] == '1' ? 1000 : 0;
	for (i = 2; i < s.len; i++) {
		static const int32_t scale[] = {100, 10, 1};

		if (!sip_is_digit(s.p[i]) || (v == 1000 && s.p[i] != '0'))
			return -EBADMSG;
		v += (s.p[i] - '0') * scale[i - 2];
	}
	*thousandths = v;
	return 0;
}

/* Records one known name-addr parameter; duplicates are refused. */
static int addr_param(struct sip_addr *a, struct sip_str name, struct sip_str value)
{
	uint32_t n;

	switch (name.len) {
	case 1:
		/* c-p-q = "q" EQUAL qvalue (§20.10) */
		if (sip_tolower(name.p[0]) == 'q') {
			if (a->q >= 0 || sip_qvalue_parse(value, &a->q))
				return -EBADMSG;
		}
		break;
	case 3:
		/* tag-param = "tag" EQUAL token (§20.20) */
		if (sip_str_caseeq(name, SIP_STR("tag"))) {
			if (a->tag.p || !all_token(value))
				return -EBADMSG;
			a->tag = value;
		}
		break;
	case 7:
		/* c-p-expires = "expires" EQUAL delta-seconds (§20.10) */
		if (sip_str_caseeq(name, SIP_STR("expires"))) {
			if (a->expires >= 0 || sip_str_to_u32(value, &n))
				return -EBADMSG;
			a->expires = n;
		}
		break;
	}
	return 0;
}

int sip_addr_parse(struct sip_str s, struct sip_addr *a)
{
	const char *p, *end, *q;
	struct sip_str name, value;
	int err = -EBADMSG, uerr, r;

	memset(a, 0, sizeof(*a));
	a->q = -1;
	a->expires = -1;
	s = sip_str_trim(s);
	a->raw = s;
	p = s.p;
	end = sip_str_end(s);
	if (p == end)
		goto out;
	/* Contact: STAR (§20.10); it takes no parameters. */
	if (s.len == 1 && *p == '*') {
		a->star = true;
		err = 0;
		goto out;
	}

	/* display-name = *(token LWS) / quoted-string, then LAQUOT = SWS "<".
	 * No LWS is needed between the name and '<' ("Bob<sip:b@x>"). */
	if (*p == '"') {
		q = sip_skip_quoted(p, end);
		if (!q)
			goto out;
		a->display = span(p, q);
		p = skip_lws(q, end);
		if (p == end || *p != '<')
			goto out;
	} else {
		for (q = p; q < end && (sip_is_token(*q) || sip_is_lws(*q)); q++)
			;
		if (q < end && *q == '<') {
			a->display = sip_str_trim(span(p, q));
			p = q;
		}
	}

	if (p < end && *p == '<') {
		/* RAQUOT; the URI runs up to it with no LWS inside (a URI
		 * cannot hold LWS, so sip_uri_parse refuses "< sip:a@b >"). */
		q = memchr(p, '>', (size_t)(end - p));
		if (!q)
			goto out;
		a->uri_str = span(p + 1, q);
		p = q + 1;
	} else {
		/* addr-spec: §20.10 says its ';' parameters belong to the
		 * header, and a URI holding ',', '?' or ';' must be in <>. */
		for (q = p; q < end && *q != ';' && !sip_is_lws(*q); q++) {
			if (*q == ',' || *q == '?')
				goto out;
		}
		a->uri_str = span(p, q);
		p = q;
	}
	uerr = sip_uri_parse(a->uri_str, &a->uri);

	q = skip_lws(p, end);
	a->params = span(q, end);
	while ((r = hparam_next(&p, end, &name, &value)) > 0) {
		if (addr_param(a, name, value))
			goto out;
	}
	if (r < 0 || uerr)
		goto out;
	err = a->uri.scheme == SIP_URI_OTHER ? -EPROTO : 0;
out:
	return err;
}

int sip_cseq_parse(struct sip_str s, struct sip_cseq *c)
{
	const char *p, *end, *q;
	uint32_t n;

	s = sip_str_trim(s);
	if (s.len == 0)
		return -EBADMSG;
	p = s.p;
	end = sip_str_end(s);
	/* CSeq = 1*DIGIT LWS Method; §8.1.1.5: the number is below 2^31. */
	for (q = p; q < end && sip_is_digit(*q); q++)
		;
	if (sip_str_to_u32(span(p, q), &n) || n >= 0x80000000u)
		return -EBADMSG;
	if (q == end || !sip_is_lws(*q))
		return -EBADMSG;
	p = skip_lws(q, end);
	q = skip_token(p, end);
	if (q == p || q != end)
		return -EBADMSG;
	c->num = n;
	c->method = span(p, q);
	return 0;
}

bool sip_token_list_has(struct sip_str s, const char *token)
{
	struct sip_str item;

	while (sip_list_next(&s, &item)) {
		if (sip_str_caseeq_cstr(item, token))
			return true;
	}
	return false;
}

/* Stores one digest parameter value; a repeated one is refused rather
 * than letting the proxy and the authenticator pick different copies. */
static int digest_set(struct sip_str *field, struct sip_str value)
{
	if (field->p)
		return -EBADMSG;
	*field = value;
	return 0;
}

static int digest_param(struct sip_digest_cred *c, struct sip_str name, struct sip_str value)
{
	static const struct {
		const char *name;
		size_t off;
	} fields[] = {
		{"username", offsetof(struct sip_digest_cred, username)},
		{"realm", offsetof(struct sip_digest_cred, realm)},
		{"nonce", offsetof(struct sip_digest_cred, nonce)},
		{"uri", offsetof(struct sip_digest_cred, uri)},
		{"response", offsetof(struct sip_digest_cred, response)},
		{"algorithm", offsetof(struct sip_digest_cred, algorithm)},
		{"cnonce", offsetof(struct sip_digest_cred, cnonce)},
		{"opaque", offsetof(struct sip_digest_cred, opaque)},
		{"qop", offsetof(struct sip_digest_cred, qop)},
		{"nc", offsetof(struct sip_digest_cred, nc)},
	};
	size_t i;

	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		if (sip_str_caseeq_cstr(name, fields[i].name))
			return digest_set((struct sip_str *)((char *)c + fields[i].off), value);
	}
	/* RFC 7616 §3.4.4: userhash = "userhash" EQUAL ("true" / "false") */
	if (sip_str_caseeq(name, SIP_STR("userhash")))
		c->userhash = sip_str_caseeq(value, SIP_STR("true"));
	return 0;
}

int sip_digest_cred_parse(struct sip_str s, struct sip_digest_cred *c)
{
	const char *p, *end, *q;
	unsigned n = 0;
	int err = -EBADMSG;

	memset(c, 0, sizeof(*c));
	s = sip_str_trim(s);
	p = s.p;
	end = sip_str_end(s);

	/* credentials = ("Digest" LWS digest-response) / other-response */
	q = skip_token(p, end);
	if (q == p)
		goto out;
	if (!sip_str_caseeq(span(p, q), SIP_STR("Digest"))) {
		err = -EPROTO;
		goto out;
	}
	if (q == end || !sip_is_lws(*q))
		goto out;
	p = q;

	/* dig-resp *(COMMA dig-resp); auth-param-name EQUAL (token /
	 * quoted-string). Empty elements are skipped like any list. */
	for (;;) {
		struct sip_str name, value;

		while (p < end && (sip_is_lws(*p) || *p == ','))
			p++;
		if (p == end)
			break;
		q = skip_token(p, end);
		if (q == p)
			goto out;
		name = span(p, q);
		p = skip_lws(q, end);
		if (p == end || *p != '=')
			goto out;
		p = skip_lws(p + 1, end);
		if (p < end && *p == '"') {
			q = sip_skip_quoted(p, end);
			if (!q)
				goto out;
			/* The slice inside the quotes, escapes left in place. */
			value = span(p + 1, q - 1);
		} else {
			q = skip_token(p, end);
			if (q == p)
				goto out;
			value = span(p, q);
		}
		p = skip_lws(q, end);
		if (p < end && *p != ',')
			goto out;
		if (digest_param(c, name, value))
			goto out;
		n++;
	}
	if (n == 0)
		goto out;
	c->username_escaped = c->username.len && memchr(c->username.p, '\\', c->username.len);
	err = 0;
out:
	return err;
}
