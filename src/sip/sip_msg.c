/*
 * sip_msg: framing, the header index and the lazy accessors of a SIP
 * message (RFC 3261 §7, §18.3).
 *
 * sip_msg_parse() makes one pass over the buffer. Each line is found by a
 * word-at-a-time scan for the first byte below 0x20, which is the line
 * end in a well-formed message and a refused control character (NUL, bare
 * CR, ESC...) otherwise, unless a backslash escapes it (a quoted-pair), so
 * finding lines and validating them is the same read. Header names
 * resolve to an id by switching on their length and first letter and
 * confirming with one comparison; lines of one id are chained through the
 * caller's array. Nothing is allocated or copied. Typed bodies (Via,
 * From, CSeq...) are parsed by the accessors at the end of this file on
 * first use and cached in the message, with a bit per accessor in
 * m->parsed / m->parse_ok.
 *
 * A line that is wrong but still a line (a Request-Line with two spaces, a
 * header line without a name) does not end the pass: the first such error
 * is kept and returned at the end, and every other line is indexed, since
 * the 400 that reports it is addressed with the Via, From, To, Call-ID and
 * CSeq found further on (RFC 4475 §3.1.2). A line that is not a line
 * (a control character, beyond max_line_length, cut off) ends the pass.
 *
 * Every limit of struct sip_limits is checked before the work it bounds,
 * and the header array is the caller's, so a hostile message costs at
 * most one scan of max_message_size bytes.
 */
#include "sip/sip_msg.h"

#include <errno.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* Bits of m->parsed and m->parse_ok, one per lazy accessor. */
enum {
	P_RURI = 1u << 0,
	P_TOP_VIA = 1u << 1,
	P_FROM = 1u << 2,
	P_TO = 1u << 3,
	P_CSEQ = 1u << 4,
	P_CALL_ID = 1u << 5,
	P_MAX_FORWARDS = 1u << 6,
	P_VIA_COUNT = 1u << 7,
};

static const char *const hdr_names[SIP_HDR__COUNT] = {
	[SIP_HDR_OTHER] = "",
	[SIP_HDR_ACCEPT] = "Accept",
	[SIP_HDR_ALLOW] = "Allow",
	[SIP_HDR_AUTHORIZATION] = "Authorization",
	[SIP_HDR_CALL_ID] = "Call-ID",
	[SIP_HDR_CONTACT] = "Contact",
	[SIP_HDR_CONTENT_ENCODING] = "Content-Encoding",
	[SIP_HDR_CONTENT_LENGTH] = "Content-Length",
	[SIP_HDR_CONTENT_TYPE] = "Content-Type",
	[SIP_HDR_CSEQ] = "CSeq",
	[SIP_HDR_DATE] = "Date",
	[SIP_HDR_EVENT] = "Event",
	[SIP_HDR_EXPIRES] = "Expires",
	[SIP_HDR_FROM] = "From",
	[SIP_HDR_MAX_FORWARDS] = "Max-Forwards",
	[SIP_HDR_MIN_EXPIRES] = "Min-Expires",
	[SIP_HDR_PATH] = "Path",
	[SIP_HDR_PROXY_AUTHENTICATE] = "Proxy-Authenticate",
	[SIP_HDR_PROXY_AUTHORIZATION] = "Proxy-Authorization",
	[SIP_HDR_PROXY_REQUIRE] = "Proxy-Require",
	[SIP_HDR_RECORD_ROUTE] = "Record-Route",
	[SIP_HDR_REFER_TO] = "Refer-To",
	[SIP_HDR_REQUIRE] = "Require",
	[SIP_HDR_RETRY_AFTER] = "Retry-After",
	[SIP_HDR_ROUTE] = "Route",
	[SIP_HDR_SERVER] = "Server",
	[SIP_HDR_SUBJECT] = "Subject",
	[SIP_HDR_SUPPORTED] = "Supported",
	[SIP_HDR_TO] = "To",
	[SIP_HDR_UNSUPPORTED] = "Unsupported",
	[SIP_HDR_USER_AGENT] = "User-Agent",
	[SIP_HDR_VIA] = "Via",
	[SIP_HDR_WWW_AUTHENTICATE] = "WWW-Authenticate",
};

static const char *const method_names[SIP_METHOD__COUNT] = {
	[SIP_METHOD_OTHER] = "",
	[SIP_METHOD_INVITE] = "INVITE",
	[SIP_METHOD_ACK] = "ACK",
	[SIP_METHOD_BYE] = "BYE",
	[SIP_METHOD_CANCEL] = "CANCEL",
	[SIP_METHOD_REGISTER] = "REGISTER",
	[SIP_METHOD_OPTIONS] = "OPTIONS",
	[SIP_METHOD_INFO] = "INFO",
	[SIP_METHOD_PRACK] = "PRACK",
	[SIP_METHOD_UPDATE] = "UPDATE",
	[SIP_METHOD_SUBSCRIBE] = "SUBSCRIBE",
	[SIP_METHOD_NOTIFY] = "NOTIFY",
	[SIP_METHOD_REFER] = "REFER",
	[SIP_METHOD_MESSAGE] = "MESSAGE",
	[SIP_METHOD_PUBLISH] = "PUBLISH",
};

static struct sip_str span(const char *p, const char *q)
{
	return sip_str_make(p, (size_t)(q - p));
}

/* The limits in force: lim's values, the defaults where lim is NULL or a
 * field is 0 (an unset config key). */
static struct sip_limits limits_of(const struct sip_limits *lim)
{
	struct sip_limits l = {
		.max_message_size = SIP_DEFAULT_MAX_MESSAGE_SIZE,
		.max_headers = SIP_DEFAULT_MAX_HEADERS,
		.max_line_length = SIP_DEFAULT_MAX_LINE_LENGTH,
		.max_vias = SIP_DEFAULT_MAX_VIAS,
	};

	if (lim) {
		if (lim->max_message_size)
			l.max_message_size = lim->max_message_size;
		if (lim->max_headers)
			l.max_headers = lim->max_headers;
		if (lim->max_line_length)
			l.max_line_length = lim->max_line_length;
		if (lim->max_vias)
			l.max_vias = lim->max_vias;
	}
	return l;
}

static int fail(struct sip_msg *m, int err, uint16_t status, const char *reason)
{
	/* A response cannot be answered (§18.1.2: it is dropped). */
	m->error.status = m->request ? status : 0;
	m->error.reason = reason;
	return err;
}

const char *sip_method_name(enum sip_method id)
{
	return (unsigned)id < SIP_METHOD__COUNT ? method_names[id] : "";
}

const char *sip_hdr_name(enum sip_hdr_id id)
{
	return (unsigned)id < SIP_HDR__COUNT ? hdr_names[id] : "";
}

enum sip_method sip_method_from_str(struct sip_str s)
{
	enum sip_method id = SIP_METHOD_OTHER;

	/* Methods are case-sensitive (§7.1): one memcmp confirms the guess
	 * made from the length and the first letter. */
	switch (s.len) {
	case 3:
		id = s.p[0] == 'A' ? SIP_METHOD_ACK : SIP_METHOD_BYE;
		break;
	case 4:
		id = SIP_METHOD_INFO;
		break;
	case 5:
		id = s.p[0] == 'P' ? SIP_METHOD_PRACK : SIP_METHOD_REFER;
		break;
	case 6:
		switch (s.p[0]) {
		case 'I':
			id = SIP_METHOD_INVITE;
			break;
		case 'C':
			id = SIP_METHOD_CANCEL;
			break;
		case 'U':
			id = SIP_METHOD_UPDATE;
			break;
		default:
			id = SIP_METHOD_NOTIFY;
			break;
		}
		break;
	case 7:
		switch (s.p[0]) {
		case 'O':
			id = SIP_METHOD_OPTIONS;
			break;
		case 'M':
			id = SIP_METHOD_MESSAGE;
			break;
		default:
			id = SIP_METHOD_PUBLISH;
			break;
		}
		break;
	case 8:
		id = SIP_METHOD_REGISTER;
		break;
	case 9:
		id = SIP_METHOD_SUBSCRIBE;
		break;
	}
	if (id != SIP_METHOD_OTHER && memcmp(s.p, method_names[id], s.len) != 0)
		id = SIP_METHOD_OTHER;
	return id;
}

static enum sip_hdr_id compact_id(char c)
{
	/* RFC 3261 §7.3.3 and RFC 3265 (o), RFC 3515 (r), RFC 3841-era k. */
	switch (c) {
	case 'c':
		return SIP_HDR_CONTENT_TYPE;
	case 'e':
		return SIP_HDR_CONTENT_ENCODING;
	case 'f':
		return SIP_HDR_FROM;
	case 'i':
		return SIP_HDR_CALL_ID;
	case 'k':
		return SIP_HDR_SUPPORTED;
	case 'l':
		return SIP_HDR_CONTENT_LENGTH;
	case 'm':
		return SIP_HDR_CONTACT;
	case 'o':
		return SIP_HDR_EVENT;
	case 'r':
		return SIP_HDR_REFER_TO;
	case 's':
		return SIP_HDR_SUBJECT;
	case 't':
		return SIP_HDR_TO;
	case 'v':
		return SIP_HDR_VIA;
	}
	return SIP_HDR_OTHER;
}

static uint64_t load64(const char *p)
{
	uint64_t x;

	memcpy(&x, p, sizeof(x));
	return x;
}

static uint32_t load32(const char *p)
{
	uint32_t x;

	memcpy(&x, p, sizeof(x));
	return x;
}

/*
 * a (token characters only) equals the canonical name b (letters and
 * '-'), ignoring case, a word at a time. OR-ing 0x20 lowercases a letter
 * and keeps '-'; the only other byte it maps onto a letter or '-' is CR
 * (onto '-'), which is not a token character.
 */
static bool name_eq(const char *a, const char *b, size_t len)
{
	const uint64_t lc = 0x2020202020202020ull;
	size_t i;

	if (len >= 8) {
		for (i = 0; i + 8 < len; i += 8) {
			if ((load64(a + i) | lc) != (load64(b + i) | lc))
				return false;
		}
		return (load64(a + len - 8) | lc) == (load64(b + len - 8) | lc);
	}
	if (len >= 4)
		return (load32(a) | (uint32_t)lc) == (load32(b) | (uint32_t)lc) &&
		       (load32(a + len - 4) | (uint32_t)lc) == (load32(b + len - 4) | (uint32_t)lc);
	for (i = 0; i < len; i++) {
		if ((a[i] | 0x20) != (b[i] | 0x20))
			return false;
	}
	return true;
}

/* sip_hdr_id_from_name() for a name already checked to be a token, or
 * for any slice of one line (name_eq() cannot match a CR, and a line has
 * no bare CR): a known id then proves the name is a token. */
static inline enum sip_hdr_id hdr_id(struct sip_str n)
{
	enum sip_hdr_id id = SIP_HDR_OTHER;
	char c;

	if (n.len == 0)
		return SIP_HDR_OTHER;
	c = sip_tolower(n.p[0]);
	/* Guess from length and first letter, then confirm with one
	 * comparison: no loop over a table for each header line. */
	switch (n.len) {
	case 1:
		return compact_id(c);
	case 2:
		id = SIP_HDR_TO;
		break;
	case 3:
		id = SIP_HDR_VIA;
		break;
	case 4:
		id = c == 'c'   ? SIP_HDR_CSEQ
		     : c == 'f' ? SIP_HDR_FROM
		     : c == 'd' ? SIP_HDR_DATE
				: SIP_HDR_PATH;
		break;
	case 5:
		id = c == 'a' ? SIP_HDR_ALLOW : c == 'e' ? SIP_HDR_EVENT : SIP_HDR_ROUTE;
		break;
	case 6:
		id = c == 'a' ? SIP_HDR_ACCEPT : SIP_HDR_SERVER;
		break;
	case 7:
		if (c == 'c')
			id = sip_tolower(n.p[1]) == 'a' ? SIP_HDR_CALL_ID : SIP_HDR_CONTACT;
		else
			id = c == 'e'   ? SIP_HDR_EXPIRES
			     : c == 'r' ? SIP_HDR_REQUIRE
					: SIP_HDR_SUBJECT;
		break;
	case 8:
		id = SIP_HDR_REFER_TO;
		break;
	case 9:
		id = SIP_HDR_SUPPORTED;
		break;
	case 10:
		id = SIP_HDR_USER_AGENT;
		break;
	case 11:
		id = c == 'r'   ? SIP_HDR_RETRY_AFTER
		     : c == 'u' ? SIP_HDR_UNSUPPORTED
				: SIP_HDR_MIN_EXPIRES;
		break;
	case 12:
		id = c == 'c'   ? SIP_HDR_CONTENT_TYPE
		     : c == 'm' ? SIP_HDR_MAX_FORWARDS
				: SIP_HDR_RECORD_ROUTE;
		break;
	case 13:
		id = c == 'a' ? SIP_HDR_AUTHORIZATION : SIP_HDR_PROXY_REQUIRE;
		break;
	case 14:
		id = SIP_HDR_CONTENT_LENGTH;
		break;
	case 16:
		id = c == 'c' ? SIP_HDR_CONTENT_ENCODING : SIP_HDR_WWW_AUTHENTICATE;
		break;
	case 18:
		id = SIP_HDR_PROXY_AUTHENTICATE;
		break;
	case 19:
		id = SIP_HDR_PROXY_AUTHORIZATION;
		break;
	default:
		return SIP_HDR_OTHER;
	}
	return name_eq(n.p, hdr_names[id], n.len) ? id : SIP_HDR_OTHER;
}

enum sip_hdr_id sip_hdr_id_from_name(struct sip_str n)
{
	size_t i;

	for (i = 0; i < n.len; i++) {
		if (!sip_is_token(n.p[i]))
			return SIP_HDR_OTHER;
	}
	return hdr_id(n);
}

/*
 * First byte below 0x20 in [p, end), or end: the line end, or a control
 * character to refuse. Sixteen bytes at a time with SSE2 (x < 0x20 iff
 * min(x, 0x1f) == x, unsigned), then eight with the classic "has a byte
 * less than n" test ((x - 0x20..) & ~x & 0x80..), which flags exactly the
 * bytes below 0x20 up to the first one (a borrow only flags bytes after a
 * true hit) and never a byte >= 0x80 (UTF-8). Loads are unaligned and
 * never reach past end.
 */
static const char *find_ctl(const char *p, const char *end)
{
#if defined(__SSE2__)
	const __m128i lim = _mm_set1_epi8(0x1f);

	while (end - p >= 16) {
		__m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
		int mask = _mm_movemask_epi8(_mm_cmpeq_epi8(_mm_min_epu8(x, lim), x));

		if (mask)
			return p + __builtin_ctz((unsigned)mask);
		p += 16;
	}
#endif
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	while (end - p >= 8) {
		uint64_t x = load64(p), t;

		t = (x - 0x2020202020202020ull) & ~x & 0x8080808080808080ull;
		if (t)
			return p + (__builtin_ctzll(t) >> 3);
		p += 8;
	}
#endif
	while (p < end && (unsigned char)*p >= 0x20)
		p++;
	return p;
}

enum line_result { LINE_OK = 0, LINE_TOO_LONG, LINE_TRUNCATED, LINE_TOO_BIG, LINE_CTL };

struct scanner {
	const char *end;     /* end of what may be scanned: min(received, max size) */
	const char *rcv_end; /* end of the bytes received */
	uint32_t max_line;
	bool quoted_pairs; /* header lines: a control after a backslash is text */
};

/* Is the control character at q the second byte of a quoted-pair, i.e.
 * preceded by an odd run of backslashes that starts at or after p? */
static bool escaped(const char *p, const char *q)
{
	const char *b = q;

	while (b > p && b[-1] == '\\')
		b--;
	return (q - b) % 2 == 1;
}

/*
 * Finds the end of the line starting at p: *eol is its first line-end
 * byte, *next the byte after the LF. CRLF ends a line; so does a bare LF,
 * accepted for robustness (RFC 3261 §7.5 asks for CRLF, but some stacks
 * send LF alone and nothing is ambiguous about it). HTAB is the only
 * control allowed inside a line, and in a header line any control but CR
 * and LF after a backslash: quoted-pair = "\" (%x00-09 / %x0B-0C /
 * %x0E-7F) (§25.1; RFC 4475 §3.1.1.2 escapes NUL and BEL in a display
 * name). Whether it sits in a quoted string is for the typed parser to
 * say. A bare CR is refused since other parsers would end the line there
 * (header smuggling).
 */
static enum line_result find_line(const struct scanner *sc, const char *p, const char **eol,
				  const char **next)
{
	const char *lim = sc->end, *q = p;

	/* A line longer than max_line must not make us scan further. */
	if ((size_t)(lim - p) > sc->max_line)
		lim = p + sc->max_line + 1;
	for (;;) {
		q = find_ctl(q, lim);
		if (q == lim) {
			if (lim != sc->end)
				return LINE_TOO_LONG;
			return sc->end < sc->rcv_end ? LINE_TOO_BIG : LINE_TRUNCATED;
		}
		if (*q != '\t' && (!sc->quoted_pairs || *q == '\r' || *q == '\n' || !escaped(p, q)))
			break;
		q++;
	}
	*eol = q;
	if (*q == '\n') {
		*next = q + 1;
		return LINE_OK;
	}
	if (*q != '\r')
		return LINE_CTL;
	if (q + 1 == sc->end)
		return sc->end < sc->rcv_end ? LINE_TOO_BIG : LINE_TRUNCATED;
	if (q[1] != '\n')
		return LINE_CTL;
	*next = q + 2;
	return LINE_OK;
}

/* SIP-Version = "SIP" "/" 1*DIGIT "." 1*DIGIT (§25.1), compared
 * case-insensitively; only 2.0 is spoken. */
static int check_version(struct sip_msg *m, struct sip_str v, const char *bad)
{
	const char *p, *end = sip_str_end(v);
	bool dot = false;
	unsigned digits = 0;

	if (sip_str_caseeq(v, SIP_STR("SIP/2.0")))
		return 0;
	if (!sip_str_caseprefix(v, "SIP/"))
		return fail(m, -EBADMSG, 400, bad);
	for (p = v.p + 4; p < end; p++) {
		if (sip_is_digit(*p)) {
			digits++;
		} else if (*p == '.' && !dot && digits) {
			dot = true;
			digits = 0;
		} else {
			return fail(m, -EBADMSG, 400, bad);
		}
	}
	if (!dot || !digits)
		return fail(m, -EBADMSG, 400, bad);
	return fail(m, -EPROTO, 505, "Version Not Supported");
}

/* Request-Line = Method SP Request-URI SP SIP-Version CRLF (§7.1): single
 * spaces, no LWS inside the URI (RFC 4475 §3.1.2.7, §3.1.2.10, §3.1.2.11
 * are all refused). The URI's scheme is checked later (416, not 400). */
static int parse_request_line(struct sip_msg *m, const char *p, const char *eol)
{
	static const char bad[] = "Bad Request-Line";
	const char *q;

	for (q = p; q < eol && sip_is_token(*q); q++)
		;
	if (q == p || q == eol || *q != ' ')
		return fail(m, -EBADMSG, 400, bad);
	m->method = span(p, q);
	m->method_id = sip_method_from_str(m->method);
	p = q + 1;
	q = memchr(p, ' ', (size_t)(eol - p));
	if (!q || q == p || memchr(p, '\t', (size_t)(q - p)))
		return fail(m, -EBADMSG, 400, bad);
	m->ruri = span(p, q);
	m->ruri_off = (uint32_t)(p - m->buf);
	return check_version(m, span(q + 1, eol), bad);
}

/* Status-Line = SIP-Version SP Status-Code SP Reason-Phrase CRLF (§7.2).
 * The reason may be empty; a missing SP before an empty reason is
 * tolerated since refusing a response only makes the peer retransmit.
 * Another version (-EPROTO) is returned once the code is read. */
static int parse_status_line(struct sip_msg *m, const char *p, const char *eol)
{
	static const char bad[] = "Bad Status-Line";
	const char *q = memchr(p, ' ', (size_t)(eol - p));
	int err;

	if (!q)
		return fail(m, -EBADMSG, 400, bad);
	err = check_version(m, span(p, q), bad);
	if (err && err != -EPROTO)
		return err;
	p = q + 1;
	if (eol - p < 3 || !sip_is_digit(p[0]) || !sip_is_digit(p[1]) || !sip_is_digit(p[2]) ||
	    (eol - p > 3 && p[3] != ' '))
		return fail(m, -EBADMSG, 400, bad);
	m->status = (uint16_t)((p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0'));
	if (m->status < 100 || m->status > 699)
		return fail(m, -EBADMSG, 400, bad);
	m->reason = eol - p > 3 ? span(p + 4, eol) : span(eol, eol);
	return err;
}

static int line_fail(struct sip_msg *m, enum line_result r, bool start)
{
	switch (r) {
	case LINE_TOO_LONG:
		return fail(m, -EMSGSIZE, 400,
			    !start       ? "Header Line Too Long"
			    : m->request ? "Request-Line Too Long"
					 : "Status-Line Too Long");
	case LINE_TOO_BIG:
		return fail(m, -EMSGSIZE, 513, "Message Too Large");
	case LINE_TRUNCATED:
		return fail(m, -EBADMSG, 400, "Truncated Message");
	default:
		return fail(m, -EBADMSG, 400,
			    !start       ? "Control Character in Header"
			    : m->request ? "Bad Request-Line"
					 : "Bad Status-Line");
	}
}

/* §7.4.1, §18.3: Content-Length frames the body; all copies must agree. */
static int frame_body(struct sip_msg *m, const char *body, const char *rcv_end, uint32_t max_size)
{
	uint32_t body_off = (uint32_t)(body - m->buf);
	uint64_t avail = (uint64_t)(rcv_end - body), blen = avail;
	uint16_t i = m->first[SIP_HDR_CONTENT_LENGTH];

	if (i != SIP_HDR_NONE) {
		uint32_t cl = 0, v;
		bool seen = false;

		for (; i != SIP_HDR_NONE; i = m->hdrs[i].next) {
			if (sip_str_to_u32(m->hdrs[i].value, &v))
				return fail(m, -EBADMSG, 400, "Bad Content-Length");
			if (seen && v != cl)
				return fail(m, -EBADMSG, 400, "Conflicting Content-Length");
			cl = v;
			seen = true;
		}
		m->has_content_length = true;
		blen = cl;
	}
	if (body_off + blen > max_size)
		return fail(m, -EMSGSIZE, 513, "Message Too Large");
	if (blen > avail)
		return fail(m, -EBADMSG, 400, "Truncated Body");
	m->body = sip_str_make(body, (size_t)blen);
	m->len = body_off + (uint32_t)blen;
	return 0;
}

/* The first error after which the parse can go on: a bad start line or
 * header line. The lines after it are still indexed, so that the 400 can
 * be addressed (§8.2.6.2 copies Via, From, To, Call-ID and CSeq): RFC
 * 4475 §3.1.2.7-3.1.2.10 ask for a 400 to a bad Request-Line. */
struct deferred {
	int err;
	struct sip_error error;
};

static void defer(struct sip_msg *m, int err, struct deferred *d)
{
	if (!d->err) {
		d->err = err;
		d->error = m->error;
	}
	m->error = (struct sip_error){0, NULL};
}

int sip_msg_parse(struct sip_msg *m, const char *buf, size_t len, struct sip_hdr *hdrs,
		  uint16_t max_hdrs, const struct sip_limits *lim)
{
	const struct sip_limits l = limits_of(lim);
	uint32_t cap = l.max_headers;
	const char *p = buf, *end = (len ? buf + len : buf), *eol, *next;
	struct sip_hdr *cur = NULL;
	struct scanner sc;
	enum line_result r;
	struct sip_error version_error = {0, NULL};
	struct deferred bad = {0, {0, NULL}};
	int err;

	/* Everything up to the lazy caches; those are only read once their
	 * parse_ok bit is set. */
	memset(m, 0, offsetof(struct sip_msg, ruri_parsed));
	memset(m->first, 0xff, sizeof(m->first));
	memset(m->last, 0xff, sizeof(m->last));
	m->vias = 0;
	m->limits = lim;
	m->hdrs = hdrs;
	m->max_hdrs = max_hdrs;
	m->request = true;
	if (cap > max_hdrs)
		cap = max_hdrs;
	if (cap >= SIP_HDR_NONE)
		cap = SIP_HDR_NONE - 1;

	/* §7.5: CRLFs before the start line are ignored. */
	while (p < end && (*p == '\r' || *p == '\n'))
		p++;
	m->buf = p;
	if (p == end) {
		err = fail(m, -EBADMSG, 0, "Empty Message");
		goto out;
	}
	sc.rcv_end = end;
	sc.end = (size_t)(end - p) > l.max_message_size ? p + l.max_message_size : end;
	sc.max_line = l.max_line_length;
	sc.quoted_pairs = false;
	/* A method is a token and cannot hold '/', so "SIP/" starts a
	 * Status-Line and anything else a Request-Line. */
	m->request = !sip_str_caseprefix(span(p, end), "SIP/");

	/* A start line that is not even a line (a control character, no
	 * end) leaves nothing to trust; one with bad syntax still leaves
	 * the headers to read. */
	r = find_line(&sc, p, &eol, &next);
	if (r != LINE_OK) {
		err = line_fail(m, r, true);
		goto out;
	}
	err = m->request ? parse_request_line(m, p, eol) : parse_status_line(m, p, eol);
	if (err == -EPROTO) {
		/* Another SIP version: index the headers anyway, so that the
		 * 505 can be addressed (§8.2.6 needs Via, From, To, ...). */
		version_error = m->error;
		m->error = (struct sip_error){0, NULL};
	} else if (err) {
		defer(m, err, &bad);
	}
	p = next;
	m->headers_off = (uint32_t)(p - m->buf);
	sc.quoted_pairs = true;

	for (;;) {
		const char *q, *v;
		uint16_t idx;
		enum sip_hdr_id id;

		r = find_line(&sc, p, &eol, &next);
		if (r != LINE_OK) {
			err = line_fail(m, r, false);
			goto out;
		}
		if (eol == p)
			break; /* the empty line ends the headers */
		if (*p == ' ' || *p == '\t') {
			/* §7.3.1: a line starting with LWS continues the
			 * previous header; its value now spans the fold. With
			 * no header before it (or a refused one), it is
			 * skipped with it. */
			if (!cur) {
				defer(m, fail(m, -EBADMSG, 400, "Bad Header Line"), &bad);
			} else {
				cur->value = sip_str_trim(span(cur->value.p, eol));
				cur->end = (uint32_t)(next - m->buf);
			}
			p = next;
			continue;
		}
		if (m->nhdrs >= cap) {
			err = fail(m, -EMSGSIZE, 400, "Too Many Headers");
			goto out;
		}
		/* header = field-name HCOLON field-value; HCOLON = *( SP /
		 * HTAB ) ":" SWS (§7.3.1, §25.1). The name is found by its
		 * colon; a known name proves itself a token by matching, so
		 * only unknown names are checked byte by byte. A line that is
		 * no header is refused but skipped, the lines after it still
		 * indexed. */
		cur = NULL;
		v = memchr(p, ':', (size_t)(eol - p));
		for (q = v; q && q > p && (q[-1] == ' ' || q[-1] == '\t'); q--)
			;
		id = v ? hdr_id(span(p, q)) : SIP_HDR_OTHER;
		if (v && id == SIP_HDR_OTHER) {
			const char *t;

			for (t = p; t < q && sip_is_token(*t); t++)
				;
			if (t == p || t != q)
				v = NULL;
		}
		if (!v) {
			defer(m, fail(m, -EBADMSG, 400, "Bad Header Line"), &bad);
			p = next;
			continue;
		}
		idx = m->nhdrs++;
		cur = &hdrs[idx];
		cur->id = (uint16_t)id;
		cur->next = SIP_HDR_NONE;
		cur->start = (uint32_t)(p - m->buf);
		cur->end = (uint32_t)(next - m->buf);
		cur->name = span(p, q);
		for (v++; v < eol && (*v == ' ' || *v == '\t'); v++)
			;
		for (q = eol; q > v && (q[-1] == ' ' || q[-1] == '\t'); q--)
			;
		cur->value = span(v, q);
		if (m->last[id] == SIP_HDR_NONE)
			m->first[id] = idx;
		else
			hdrs[m->last[id]].next = idx;
		m->last[id] = idx;
		p = next;
	}
	m->headers_end = (uint32_t)(p - m->buf);
	err = frame_body(m, next, end, l.max_message_size);
	if (!err && version_error.reason) {
		m->error = version_error;
		err = -EPROTO;
	}
out:
	/* The first syntax error is the one to report: it is what a sender
	 * has to fix first, and it beats a version we do not speak. */
	if (bad.err) {
		m->error = bad.error;
		err = bad.err;
	}
	return err;
}

/* Finds Content-Length in one header line [p, eol) of a stream: full or
 * compact name, any case, SP/HTAB before the colon. Returns 0 (found or
 * not), or -EBADMSG when unparseable or disagreeing with an earlier one. */
static int frame_content_length(const char *p, const char *eol, uint32_t *cl, bool *seen)
{
	const char *q;
	char c = sip_tolower(*p);
	uint32_t v;

	if (c == 'l')
		q = p + 1;
	else if (c == 'c' && eol - p >= 14 &&
		 sip_str_caseeq(sip_str_make(p, 14), SIP_STR("content-length")))
		q = p + 14;
	else
		return 0;
	while (q < eol && (*q == ' ' || *q == '\t'))
		q++;
	if (q == eol || *q != ':')
		return 0;
	if (sip_str_to_u32(sip_str_trim(span(q + 1, eol)), &v) || (*seen && v != *cl))
		return -EBADMSG;
	*cl = v;
	*seen = true;
	return 0;
}

ssize_t sip_msg_frame_resume(struct sip_frame *f, const char *buf, size_t len,
			     const struct sip_limits *lim, struct sip_error *err)
{
	const uint32_t max_size = limits_of(lim).max_message_size;
	/* The header block must end within max_size: search no further. */
	const size_t limit = len > max_size ? max_size : len;
	struct sip_error e = {0, NULL};
	ssize_t ret = 0;
	size_t total;

	/* Line by line to the empty line, looking at header names only when
	 * they start with 'c' or 'l'. The start line is skipped; it is never
	 * empty (the caller skipped the CRLFs before it). Every byte is
	 * searched once for '\n' and every whole line looked at once. */
	while (!f->head_len && f->scanned < limit) {
		const char *line = buf + f->line;
		const char *nl = memchr(buf + f->scanned, '\n', limit - f->scanned);
		const char *eol;

		if (!nl) {
			f->scanned = (uint32_t)limit;
			break;
		}
		f->scanned = (uint32_t)(nl + 1 - buf);
		f->line = f->scanned;
		if (line == buf)
			continue;
		eol = nl > line && nl[-1] == '\r' ? nl - 1 : nl;
		if (eol == line) {
			f->head_len = f->scanned;
			break;
		}
		if (frame_content_length(line, eol, &f->cl, &f->cl_seen)) {
			e = (struct sip_error){400, "Bad Content-Length"};
			ret = -EBADMSG;
			goto out;
		}
	}
	if (!f->head_len) {
		if (len > max_size) {
			e = (struct sip_error){513, "Message Too Large"};
			ret = -EMSGSIZE;
		}
		goto out;
	}
	total = (size_t)f->head_len + f->cl;
	if (total > max_size) {
		e = (struct sip_error){513, "Message Too Large"};
		ret = -EMSGSIZE;
		goto out;
	}
	if (total <= len)
		ret = (ssize_t)total;
out:
	if (err && ret < 0)
		*err = e;
	return ret;
}

ssize_t sip_msg_frame(const char *buf, size_t len, const struct sip_limits *lim, size_t *skipped,
		      struct sip_error *err)
{
	struct sip_frame f = SIP_FRAME_INIT;
	size_t k = 0;

	/* RFC 5626 §4.4.1 keep-alives and §7.5 leading CRLFs. */
	while (k < len && (buf[k] == '\r' || buf[k] == '\n'))
		k++;
	if (skipped)
		*skipped = k;
	if (k == len)
		return 0;
	return sip_msg_frame_resume(&f, buf + k, len - k, lim, err);
}

struct sip_str sip_msg_scan_call_id(const char *buf, size_t len)
{
	const char *p = buf, *end = (len ? buf + len : buf), *nl, *q;

	while (p < end && (*p == '\r' || *p == '\n'))
		p++;
	/* Skip the start line, then look at the start of each header line
	 * until the empty line. */
	nl = p < end ? memchr(p, '\n', (size_t)(end - p)) : NULL;
	if (!nl)
		return SIP_STR_NULL;
	for (p = nl + 1; p < end && *p != '\r' && *p != '\n'; p = nl + 1) {
		const char *eol;
		char c = sip_tolower(*p);

		nl = memchr(p, '\n', (size_t)(end - p));
		eol = nl ? nl : end;
		q = NULL;
		if (c == 'i')
			q = p + 1;
		else if (c == 'c' && eol - p >= 7 &&
			 sip_str_caseeq(sip_str_make(p, 7), SIP_STR("call-id")))
			q = p + 7;
		if (q) {
			while (q < eol && (*q == ' ' || *q == '\t'))
				q++;
			if (q < eol && *q == ':')
				return sip_str_trim(span(q + 1, eol));
		}
		if (!nl)
			break;
	}
	return SIP_STR_NULL;
}

unsigned sip_msg_hdr_count(const struct sip_msg *m, enum sip_hdr_id id)
{
	unsigned n = 0;
	uint16_t i;

	for (i = m->first[id]; i != SIP_HDR_NONE; i = m->hdrs[i].next)
		n++;
	return n;
}

const struct sip_hdr *sip_msg_hdr_by_name(const struct sip_msg *m, struct sip_str name)
{
	enum sip_hdr_id id = sip_hdr_id_from_name(name);
	uint16_t i;

	/* A known name (or its compact form) is found through its chain. */
	if (id != SIP_HDR_OTHER)
		return sip_msg_hdr(m, id);
	for (i = m->first[SIP_HDR_OTHER]; i != SIP_HDR_NONE; i = m->hdrs[i].next) {
		if (sip_str_caseeq(m->hdrs[i].name, name))
			return &m->hdrs[i];
	}
	return NULL;
}

/* --- lazy accessors -------------------------------------------------- */

/* What to say about a header that must occur exactly once. */
struct once {
	enum sip_hdr_id id;
	const char *missing, *duplicate, *bad;
};

static const struct once once_from = {SIP_HDR_FROM, "Missing From", "Duplicate From header",
				      "Bad From header"};
static const struct once once_to = {SIP_HDR_TO, "Missing To", "Duplicate To header",
				    "Bad To header"};
static const struct once once_cseq = {SIP_HDR_CSEQ, "Missing CSeq", "Duplicate CSeq header",
				      "Bad CSeq header"};
static const struct once once_call_id = {SIP_HDR_CALL_ID, "Missing Call-ID",
					 "Duplicate Call-ID header", "Bad Call-ID header"};
static const struct once once_max_forwards = {SIP_HDR_MAX_FORWARDS, "Missing Max-Forwards",
					      "Duplicate Max-Forwards header",
					      "Bad Max-Forwards header"};

/* The one header of o->id, or NULL with the error set. Strict like
 * Kamailio: a second From/To/Call-ID/CSeq could be read differently by
 * the next hop, so it is refused rather than picking one. */
static const struct sip_hdr *hdr_once(struct sip_msg *m, const struct once *o)
{
	uint16_t i = m->first[o->id];

	if (i == SIP_HDR_NONE) {
		fail(m, -EBADMSG, 400, o->missing);
		return NULL;
	}
	if (m->hdrs[i].next != SIP_HDR_NONE) {
		fail(m, -EBADMSG, 400, o->duplicate);
		return NULL;
	}
	return &m->hdrs[i];
}

/* Failed parses are not cached: they run again to set m->error, which
 * another accessor may have overwritten. Failures are rare and bounded. */

const struct sip_uri *sip_msg_ruri(struct sip_msg *m)
{
	if (m->parse_ok & P_RURI)
		return &m->ruri_parsed;
	m->parsed |= P_RURI;
	if (!m->request) {
		fail(m, -EINVAL, 0, "Not a Request");
		return NULL;
	}
	/* Another scheme parses as SIP_URI_OTHER (416 for the caller);
	 * only text that is no URI at all is a 400. */
	if (sip_uri_parse(m->ruri, &m->ruri_parsed)) {
		fail(m, -EBADMSG, 400, "Bad Request-URI");
		return NULL;
	}
	m->parse_ok |= P_RURI;
	return &m->ruri_parsed;
}

const struct sip_via *sip_msg_top_via(struct sip_msg *m)
{
	const struct sip_hdr *h;
	struct sip_str cur, item;

	if (m->parse_ok & P_TOP_VIA)
		return &m->top_via;
	m->parsed |= P_TOP_VIA;
	h = sip_msg_hdr(m, SIP_HDR_VIA);
	if (!h) {
		fail(m, -EBADMSG, 400, "Missing Via");
		return NULL;
	}
	cur = h->value;
	if (!sip_list_next(&cur, &item) || sip_via_parse(item, &m->top_via)) {
		fail(m, -EBADMSG, 400, "Bad Via header");
		return NULL;
	}
	m->parse_ok |= P_TOP_VIA;
	return &m->top_via;
}

/* From and To. Any URI scheme is accepted here (§8.1.1.3 allows any
 * URI); -EPROTO from sip_addr_parse still leaves a usable result. */
static const struct sip_addr *addr_once(struct sip_msg *m, uint32_t bit, const struct once *o,
					struct sip_addr *a)
{
	const struct sip_hdr *h;
	int err;

	if (m->parse_ok & bit)
		return a;
	m->parsed |= bit;
	h = hdr_once(m, o);
	if (!h)
		return NULL;
	err = sip_addr_parse(h->value, a);
	if ((err && err != -EPROTO) || a->star) {
		fail(m, -EBADMSG, 400, o->bad);
		return NULL;
	}
	m->parse_ok |= bit;
	return a;
}

const struct sip_addr *sip_msg_from(struct sip_msg *m)
{
	return addr_once(m, P_FROM, &once_from, &m->from);
}

const struct sip_addr *sip_msg_to(struct sip_msg *m)
{
	return addr_once(m, P_TO, &once_to, &m->to);
}

const struct sip_cseq *sip_msg_cseq(struct sip_msg *m)
{
	const struct sip_hdr *h;

	if (m->parse_ok & P_CSEQ)
		return &m->cseq;
	m->parsed |= P_CSEQ;
	h = hdr_once(m, &once_cseq);
	if (!h)
		return NULL;
	if (sip_cseq_parse(h->value, &m->cseq)) {
		fail(m, -EBADMSG, 400, once_cseq.bad);
		return NULL;
	}
	m->parse_ok |= P_CSEQ;
	return &m->cseq;
}

struct sip_str sip_msg_call_id(struct sip_msg *m)
{
	const struct sip_hdr *h;
	struct sip_str v;
	size_t i;

	if (m->parse_ok & P_CALL_ID)
		return m->call_id;
	m->parsed |= P_CALL_ID;
	h = hdr_once(m, &once_call_id);
	if (!h)
		return SIP_STR_NULL;
	/* callid = word [ "@" word ] (§25.1): no LWS inside, not empty. */
	v = sip_str_trim(h->value);
	for (i = 0; i < v.len; i++) {
		if ((unsigned char)v.p[i] <= ' ' || v.p[i] == 0x7f)
			break;
	}
	if (v.len == 0 || i < v.len) {
		fail(m, -EBADMSG, 400, once_call_id.bad);
		return SIP_STR_NULL;
	}
	m->call_id = v;
	m->parse_ok |= P_CALL_ID;
	return v;
}

int sip_msg_max_forwards(struct sip_msg *m, uint32_t *value)
{
	const struct sip_hdr *h;
	uint32_t v;

	if (m->parse_ok & P_MAX_FORWARDS) {
		*value = m->max_forwards;
		return 0;
	}
	m->parsed |= P_MAX_FORWARDS;
	if (m->first[SIP_HDR_MAX_FORWARDS] == SIP_HDR_NONE)
		return -ENOENT;
	h = hdr_once(m, &once_max_forwards);
	if (!h)
		return -EBADMSG;
	/* §20.22: an integer from 0 to 255 (RFC 4475 §3.1.2.4: 300 is bad). */
	if (sip_str_to_u32(h->value, &v) || v > 255)
		return fail(m, -EBADMSG, 400, once_max_forwards.bad);
	m->max_forwards = v;
	m->parse_ok |= P_MAX_FORWARDS;
	*value = v;
	return 0;
}

uint32_t sip_msg_via_count(struct sip_msg *m)
{
	const uint32_t max = limits_of(m->limits).max_vias;
	const struct sip_hdr *h;
	uint32_t n = 0;

	if (!(m->parsed & P_VIA_COUNT)) {
		/* Counting stops one past the limit: the work is bounded by
		 * max_vias, not by what the sender put in. */
		for (h = sip_msg_hdr(m, SIP_HDR_VIA); h && n <= max; h = sip_msg_hdr_next(m, h)) {
			struct sip_str cur = h->value, item;

			while (n <= max && sip_list_next(&cur, &item))
				n++;
		}
		m->vias = n;
		m->parsed |= P_VIA_COUNT;
		if (n <= max)
			m->parse_ok |= P_VIA_COUNT;
	}
	if (!(m->parse_ok & P_VIA_COUNT))
		fail(m, -EMSGSIZE, 400, "Too Many Via Headers");
	return m->vias;
}

/* Reason phrases naming every header of §8.1.1 a message lacks, indexed
 * by a bit each: From 1, To 2, Call-ID 4, CSeq 8 (RFC 3261 §8.2 and
 * §16.3 step 1 want the 400 to say what is wrong). */
static const char *const missing_reason[16] = {
	[1] = "Missing From",
	[2] = "Missing To",
	[3] = "Missing From, To",
	[4] = "Missing Call-ID",
	[5] = "Missing From, Call-ID",
	[6] = "Missing To, Call-ID",
	[7] = "Missing From, To, Call-ID",
	[8] = "Missing CSeq",
	[9] = "Missing From, CSeq",
	[10] = "Missing To, CSeq",
	[11] = "Missing From, To, CSeq",
	[12] = "Missing Call-ID, CSeq",
	[13] = "Missing From, Call-ID, CSeq",
	[14] = "Missing To, Call-ID, CSeq",
	[15] = "Missing From, To, Call-ID, CSeq",
};

int sip_msg_check_mandatory(struct sip_msg *m, bool stream)
{
	static const enum sip_hdr_id need[4] = {SIP_HDR_FROM, SIP_HDR_TO, SIP_HDR_CALL_ID,
						SIP_HDR_CSEQ};
	const struct sip_cseq *cseq;
	unsigned missing = 0;

	/* Without a Via nothing can be answered; its reason is for the log. */
	if (!sip_msg_top_via(m))
		return -EBADMSG;
	for (unsigned i = 0; i < 4; i++)
		if (m->first[need[i]] == SIP_HDR_NONE)
			missing |= 1u << i;
	if (missing)
		return fail(m, -EBADMSG, 400, missing_reason[missing]);
	if (!sip_msg_from(m) || !sip_msg_to(m) || sip_msg_call_id(m).len == 0)
		return -EBADMSG;
	cseq = sip_msg_cseq(m);
	if (!cseq)
		return -EBADMSG;
	/* §8.1.1.5: the CSeq method matches the request method (RFC 4475
	 * §3.1.2.17). With a method we do not know, 501 rather than 400
	 * (RFC 4475 §3.1.2.18: "choosing a 501 (particularly at proxies)
	 * has better future-proof characteristics"). */
	if (m->request && !sip_str_eq(cseq->method, m->method))
		return fail(m, -EBADMSG, m->method_id == SIP_METHOD_OTHER ? 501 : 400,
			    "CSeq Method Mismatch");
	if (sip_msg_via_count(m) > limits_of(m->limits).max_vias)
		return -EBADMSG;
	/* §18.3: on a stream the body cannot be framed without it. */
	if (stream && !m->has_content_length)
		return fail(m, -EBADMSG, 400, "Missing Content-Length");
	return 0;
}
