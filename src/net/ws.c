/*
 * ws: the server side of WebSocket (RFC 6455) as a SIP transport
 * (RFC 7118): the opening handshake and the frames, as pure functions
 * on the caller's buffers. tcp.c owns the connection, the read buffer and
 * the timers; it calls ws_handshake() on what it has read until the
 * request is complete, then ws_decode() on the stream after it. Only the
 * epoll thread that owns a connection touches its struct ws_decoder.
 *
 * The handshake keeps no state between calls: each call scans the bytes
 * read so far again, so a request dribbled a byte at a time costs
 * O(max^2) in all, bounded by max (a few KiB) and by tcp.c's message
 * timeout. The scan checks the line endings as it goes (CRLF only, no
 * control characters), so a client speaking something else is refused
 * when its first bad byte arrives, not after max bytes or a timeout. The
 * header lines are then read once, and only the six fields RFC 6455
 * §4.2.1 and RFC 7118 §4.1 speak of are looked at.
 *
 * Frames are decoded one after another from the front of the buffer and
 * unmasked in place. A data message in one frame, the usual case for a
 * SIP message, is handed back where it lies in the buffer, without a copy;
 * only a fragmented message is copied, into d->msg, which is freed again
 * when the next message starts so that an idle connection holds no more
 * than its read buffer. Every length is checked against max as soon as
 * the frame header announcing it is complete, before the payload arrives,
 * so a peer cannot make tcp.c buffer more than max plus a frame header.
 */
#include "net/ws.h"

#include "base/utf8.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* RFC 6455 §1.3: appended to the client's key before hashing it. */
#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

/* A key is 16 bytes in base64 (§4.1 item 7): 22 characters and "==". */
#define WS_KEY_LEN 24

/* The first capacity of d->msg, so that a message of small fragments
 * is not reallocated for each. */
#define WS_MSG_MIN_CAP 1024

/* True when p[0..n) is UTF-8 (RFC 3629), as text frames must be (§8.1). */
static bool utf8_valid(const uint8_t *p, size_t n)
{
	size_t i = 0, k;
	unsigned cp;
	uint64_t w;

	while (i < n) {
		/* Most SIP messages are ASCII: eight bytes at a time. */
		if (n - i >= 8) {
			memcpy(&w, p + i, 8);
			if (!(w & 0x8080808080808080ull)) {
				i += 8;
				continue;
			}
		}
		k = utf8_decode(p + i, n - i, &cp);
		if (!k)
			return false;
		i += k;
	}
	return true;
}

/* ---- The opening handshake (RFC 6455 §4.2.1, RFC 7118 §4.1) ---- */

/* What the header lines said. */
struct hs {
	const char *key; /* the Sec-WebSocket-Key value, trimmed */
	size_t key_len;
	const char *version;
	size_t version_len;
	unsigned n_host, n_key, n_version;
	bool upgrade, connection, sip;
};

/* Writes the refusal for status into out; returns -1 for ws_handshake().
 * Every refusal closes the connection, so it says so and has no body. */
static ssize_t hs_refuse(unsigned status, char *out, size_t *out_len, unsigned *status_out)
{
	const char *r;

	switch (status) {
	case 426:
		/* RFC 6455 §4.4: the versions we speak. RFC 7231 §6.5.15: a 426
		 * names the protocol to upgrade to, and RFC 7230 §6.7: an Upgrade
		 * field goes with an "upgrade" option in Connection. */
		r = "HTTP/1.1 426 Upgrade Required\r\n"
		    "Upgrade: websocket\r\n"
		    "Sec-WebSocket-Version: 13\r\n"
		    "Content-Length: 0\r\n"
		    "Connection: Upgrade, close\r\n\r\n";
		break;
	case 431:
		/* RFC 6585 §5 */
		r = "HTTP/1.1 431 Request Header Fields Too Large\r\n"
		    "Content-Length: 0\r\n"
		    "Connection: close\r\n\r\n";
		break;
	case 500:
		r = "HTTP/1.1 500 Internal Server Error\r\n"
		    "Content-Length: 0\r\n"
		    "Connection: close\r\n\r\n";
		break;
	default:
		status = 400;
		r = "HTTP/1.1 400 Bad Request\r\n"
		    "Content-Length: 0\r\n"
		    "Connection: close\r\n\r\n";
		break;
	}
	*out_len = strlen(r);
	memcpy(out, r, *out_len);
	*status_out = status;
	return -1;
}

/*
 * The length of the header block at the front of buf[0..lim), through the
 * CRLF of its empty line; 0 when it does not end within lim bytes; -1 when
 * a byte read so far already makes the request bad: a bare LF or CR (HTTP
 * lines end in CRLF, RFC 7230 §3.5, and we do not take the leniency it
 * allows) or a control character other than HTAB (§3.2: field values are
 * VCHAR, obs-text and whitespace).
 */
static ssize_t hs_block(const char *buf, size_t lim)
{
	for (size_t i = 0; i < lim; i++) {
		unsigned char c = (unsigned char)buf[i];

		if (i > 0 && buf[i - 1] == '\r' && c != '\n')
			return -1;
		if (c == '\n') {
			if (i == 0 || buf[i - 1] != '\r')
				return -1;
			/* buf[i - 2] is an LF, checked to follow a CR. */
			if (i >= 3 && buf[i - 2] == '\n')
				return (ssize_t)(i + 1);
			continue;
		}
		if ((c < 0x20 && c != '\t' && c != '\r') || c == 0x7f)
			return -1;
	}
	return 0;
}

/* RFC 7230 §3.2.6 tchar */
static bool is_tchar(unsigned char c)
{
	if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
		return true;
	return c && strchr("!#$%&'*+-.^_`|~", c);
}

static bool is_ows(char c)
{
	return c == ' ' || c == '\t';
}

/* Whether the comma-separated list p[0..n) (RFC 7230 §7, empty elements
 * allowed) has the element tok, compared without case when icase. */
static bool list_has(const char *p, size_t n, const char *tok, bool icase)
{
	const char *end = p + n, *e, *comma;
	size_t tl = strlen(tok);

	for (;;) {
		comma = memchr(p, ',', (size_t)(end - p));
		e = comma ? comma : end;
		while (p < e && is_ows(*p))
			p++;
		while (e > p && is_ows(e[-1]))
			e--;
		if ((size_t)(e - p) == tl &&
		    (icase ? strncasecmp(p, tok, tl) == 0 : memcmp(p, tok, tl) == 0))
			return true;
		if (!comma)
			return false;
		p = comma + 1;
	}
}

static bool name_is(const char *name, size_t n, const char *want)
{
	return n == strlen(want) && strncasecmp(name, want, n) == 0;
}

/* The request line (RFC 7230 §3.1.1): "GET", one SP, a target without
 * blanks, one SP, HTTP/1.1 or a later version (RFC 6455 §4.1 item 1). */
static bool hs_request_line(const char *p, size_t n)
{
	const char *sp, *v;

	if (n < 4 || memcmp(p, "GET ", 4) != 0)
		return false;
	sp = memchr(p + 4, ' ', n - 4);
	if (!sp || sp == p + 4)
		return false;
	v = sp + 1;
	if ((size_t)(p + n - v) != 8 || memcmp(v, "HTTP/", 5) != 0 || v[6] != '.' || v[5] < '0' ||
	    v[5] > '9' || v[7] < '0' || v[7] > '9')
		return false;
	return v[5] > '1' || (v[5] == '1' && v[7] >= '1');
}

/* One header line p[0..n) into h; false when it is not a header line. */
static bool hs_field(const char *p, size_t n, struct hs *h)
{
	const char *end = p + n, *v;
	size_t name_len = 0;

	/* A line starting with whitespace would be an obsolete folded line
	 * (RFC 7230 §3.2.4) or whitespace before a name: both refused. */
	while (name_len < n && is_tchar((unsigned char)p[name_len]))
		name_len++;
	/* No whitespace between the name and the colon (§3.2.4). */
	if (!name_len || name_len == n || p[name_len] != ':')
		return false;
	v = p + name_len + 1;
	while (v < end && is_ows(*v))
		v++;
	while (end > v && is_ows(end[-1]))
		end--;

	if (name_is(p, name_len, "Host")) {
		h->n_host++;
	} else if (name_is(p, name_len, "Upgrade")) {
		h->upgrade |= list_has(v, (size_t)(end - v), "websocket", true);
	} else if (name_is(p, name_len, "Connection")) {
		h->connection |= list_has(v, (size_t)(end - v), "Upgrade", true);
	} else if (name_is(p, name_len, "Sec-WebSocket-Key")) {
		h->n_key++;
		h->key = v;
		h->key_len = (size_t)(end - v);
	} else if (name_is(p, name_len, "Sec-WebSocket-Version")) {
		h->n_version++;
		h->version = v;
		h->version_len = (size_t)(end - v);
	} else if (name_is(p, name_len, "Sec-WebSocket-Protocol")) {
		/* RFC 6455 §11.3.4: may appear more than once; the tokens
		 * are compared as they are, and RFC 7118 §4.1 names "sip". */
		h->sip |= list_has(v, (size_t)(end - v), "sip", false);
	}
	return true;
}

/* Whether k[0..n) is the base64 form of 16 bytes (RFC 6455 §4.1 item 7,
 * RFC 4648 §4): 22 characters of the alphabet, then "==". Checked here
 * and not with EVP_DecodeBlock(), which skips leading blanks, takes '='
 * anywhere and counts the padding in its result. */
static bool hs_key_ok(const char *k, size_t n)
{
	if (n != WS_KEY_LEN || k[22] != '=' || k[23] != '=')
		return false;
	for (size_t i = 0; i < 22; i++) {
		char c = k[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '+' || c == '/'))
			return false;
	}
	return true;
}

/* Checks the header block buf[0..n) (its lines end in CRLF, the last is
 * empty) into h; returns 0 when it is a good opening handshake, else the
 * status to refuse it with. */
static unsigned hs_parse(const char *buf, size_t n, struct hs *h)
{
	const char *p = buf, *end = buf + n, *eol;
	bool first = true;

	for (;; first = false) {
		eol = memchr(p, '\r', (size_t)(end - p));
		/* hs_block() ended the block at an empty line, so eol is there. */
		if (eol == p)
			break;
		if (first ? !hs_request_line(p, (size_t)(eol - p))
			  : !hs_field(p, (size_t)(eol - p), h))
			return 400;
		p = eol + 2;
	}
	if (first)
		return 400;

	/* RFC 7230 §5.4: exactly one Host. RFC 6455 §11.3.1, §11.3.5: the
	 * key and the version at most once each in a request. */
	if (h->n_host != 1 || h->n_key > 1 || h->n_version > 1)
		return 400;
	if (!h->upgrade || !h->connection)
		return 400; /* §4.2.1 items 3, 4 */
	/* §4.2.1 item 6, §4.4: another version is told which one we speak. */
	if (!h->n_version)
		return 400;
	if (h->version_len != 2 || memcmp(h->version, "13", 2) != 0)
		return 426;
	if (!h->n_key || !hs_key_ok(h->key, h->key_len))
		return 400; /* §4.2.1 item 5 */
	if (!h->sip)
		return 400; /* RFC 7118 §4.1 */
	return 0;
}

ssize_t ws_handshake(const char *buf, size_t len, size_t max, char *out, size_t *out_len,
		     unsigned *status)
{
	unsigned char cat[WS_KEY_LEN + sizeof(WS_GUID) - 1], md[EVP_MAX_MD_SIZE];
	char accept[4 * ((20 + 2) / 3) + 1];
	unsigned md_len, st;
	struct hs h = {0};
	ssize_t n;
	int w;

	*out_len = 0;
	/* Anything but a GET (SIP sent to the WebSocket port, say) is
	 * refused on its first bytes. */
	if (len && memcmp(buf, "GET ", len < 4 ? len : 4) != 0)
		return hs_refuse(400, out, out_len, status);
	n = hs_block(buf, len < max ? len : max);
	if (n < 0)
		return hs_refuse(400, out, out_len, status);
	if (n == 0) {
		/* The block, its empty line included, has max bytes at most:
		 * with max bytes read and no end, it can only be longer. */
		if (len && len >= max)
			return hs_refuse(431, out, out_len, status);
		return 0;
	}
	st = hs_parse(buf, (size_t)n, &h);
	if (st)
		return hs_refuse(st, out, out_len, status);

	/* §4.2.2 item 5.4: base64(SHA-1(key + GUID)), the key as sent. */
	memcpy(cat, h.key, WS_KEY_LEN);
	memcpy(cat + WS_KEY_LEN, WS_GUID, sizeof(WS_GUID) - 1);
	if (!EVP_Digest(cat, sizeof(cat), md, &md_len, EVP_sha1(), NULL) || md_len != 20)
		return hs_refuse(500, out, out_len, status);
	EVP_EncodeBlock((unsigned char *)accept, md, 20);

	w = snprintf(out, WS_RESPONSE_MAX,
		     "HTTP/1.1 101 Switching Protocols\r\n"
		     "Upgrade: websocket\r\n"
		     "Connection: Upgrade\r\n"
		     "Sec-WebSocket-Accept: %s\r\n"
		     "Sec-WebSocket-Protocol: sip\r\n\r\n",
		     accept);
	*out_len = (size_t)w;
	*status = 101;
	/* Whatever follows (a first frame sent without waiting) is the
	 * caller's to decode. */
	return n;
}

/* ---- Frames (RFC 6455 §5) ---- */

/* XORs p[0..n) with the masking key (§5.3), eight bytes at a time; the
 * key is read before p is written, and memcpy keeps unaligned words
 * defined. */
static void unmask(uint8_t *p, size_t n, const uint8_t *key)
{
	uint8_t k8[8];
	uint64_t k, w;
	size_t i = 0;

	memcpy(k8, key, 4);
	memcpy(k8 + 4, key, 4);
	memcpy(&k, k8, 8);
	for (; n - i >= 8; i += 8) {
		memcpy(&w, p + i, 8);
		w ^= k;
		memcpy(p + i, &w, 8);
	}
	for (; i < n; i++)
		p[i] ^= key[i & 3];
}

/* Appends p[0..n) to the fragmented message; the caller has checked that
 * the total stays within max. False when out of memory. */
static bool msg_append(struct ws_decoder *d, const uint8_t *p, size_t n, size_t max)
{
	size_t need = d->msg_len + n, cap;
	uint8_t *m;

	if (n > d->msg_cap - d->msg_len) {
		cap = d->msg_cap > max / 2 ? max : d->msg_cap * 2;
		if (cap < WS_MSG_MIN_CAP)
			cap = WS_MSG_MIN_CAP;
		if (cap > max)
			cap = max;
		if (cap < need)
			cap = need;
		m = realloc(d->msg, cap);
		if (!m)
			return false;
		d->msg = m;
		d->msg_cap = cap;
	}
	if (n)
		memcpy(d->msg + d->msg_len, p, n);
	d->msg_len = need;
	return true;
}

/* A close code the peer may send (§7.4.1, §7.4.2 and the IANA registry
 * of §11.7): 1004-1006 and 1015 are reserved and never sent; 1012-1014
 * were registered after RFC 6455; 1016-2999 are unassigned, 3000-4999
 * for libraries and applications; nothing is defined past 4999. */
static bool close_code_ok(unsigned code)
{
	if (code >= 1000 && code <= 1014)
		return code < 1004 || code > 1006;
	return code >= 3000 && code <= 4999;
}

static enum ws_event_kind fail(struct ws_event *ev, uint16_t code)
{
	ev->kind = WS_EV_ERROR;
	ev->code = code;
	return WS_EV_ERROR;
}

enum ws_event_kind ws_decode(struct ws_decoder *d, uint8_t *buf, size_t len, size_t max,
			     size_t *used, struct ws_event *ev)
{
	size_t off = 0;

	*used = 0;
	memset(ev, 0, sizeof(*ev));
	/* The last message's copy was good until this call: let it go, so
	 * a connection between fragmented messages holds nothing. */
	if (!d->msg_opcode && d->msg) {
		free(d->msg);
		d->msg = NULL;
		d->msg_len = d->msg_cap = 0;
	}

	/* One frame per pass; only a non-final data fragment, which leaves
	 * nothing to report, goes round again. */
	while (len - off >= 2) {
		uint8_t *f = buf + off, *pay;
		size_t n = len - off, hdr = 2, plen;
		unsigned op = f[0] & 0x0f;
		bool fin = f[0] & 0x80;
		uint64_t l = f[1] & 0x7f;

		/* §5.2: no extension was negotiated, so no RSV bit. */
		if (f[0] & 0x70)
			return fail(ev, WS_CLOSE_PROTOCOL);
		/* §5.1: a client masks every frame. */
		if (!(f[1] & 0x80))
			return fail(ev, WS_CLOSE_PROTOCOL);
		switch (op) {
		case WS_OP_CONT:
			if (!d->msg_opcode)
				return fail(ev, WS_CLOSE_PROTOCOL); /* §5.4: nothing to continue */
			break;
		case WS_OP_TEXT:
		case WS_OP_BINARY:
			if (d->msg_opcode)
				return fail(ev, WS_CLOSE_PROTOCOL); /* §5.4: not interleaved */
			break;
		case WS_OP_CLOSE:
		case WS_OP_PING:
		case WS_OP_PONG:
			/* §5.5: at most 125 bytes and never fragmented. */
			if (!fin || l > 125)
				return fail(ev, WS_CLOSE_PROTOCOL);
			break;
		default:
			return fail(ev, WS_CLOSE_PROTOCOL); /* §5.2: reserved opcode */
		}

		/* §5.2: the 16- and 64-bit lengths; one longer than it had to
		 * be is taken, as nothing is ambiguous about it. */
		if (l == 126) {
			if (n < 4)
				break;
			l = (uint64_t)f[2] << 8 | f[3];
			hdr = 4;
		} else if (l == 127) {
			if (n < 10)
				break;
			l = 0;
			for (int i = 2; i < 10; i++)
				l = l << 8 | f[i];
			if (l >> 63)
				return fail(ev, WS_CLOSE_PROTOCOL);
			hdr = 10;
		}
		/* §10.4: refused on the header, before the payload is read. */
		if (l > max || (op == WS_OP_CONT && (d->msg_len > max || l > max - d->msg_len)))
			return fail(ev, WS_CLOSE_TOO_BIG);
		plen = (size_t)l;
		hdr += 4; /* the masking key */
		if (n < hdr || n - hdr < plen)
			break;

		pay = f + hdr;
		unmask(pay, plen, pay - 4);
		off += hdr + plen;
		*used = off;

		switch (op) {
		case WS_OP_PING:
			ev->kind = WS_EV_PING;
			ev->data = pay;
			ev->len = plen;
			return ev->kind;
		case WS_OP_PONG:
			ev->kind = WS_EV_PONG;
			ev->data = pay;
			ev->len = plen;
			return ev->kind;
		case WS_OP_CLOSE:
			/* §5.5.1, §7.1.5: no body is no code; a body starts with
			 * a code, then UTF-8 text. */
			if (plen == 0) {
				ev->code = WS_CLOSE_NO_STATUS;
			} else {
				if (plen == 1)
					return fail(ev, WS_CLOSE_PROTOCOL);
				ev->code = (uint16_t)(pay[0] << 8 | pay[1]);
				if (!close_code_ok(ev->code))
					return fail(ev, WS_CLOSE_PROTOCOL);
				if (!utf8_valid(pay + 2, plen - 2))
					return fail(ev, WS_CLOSE_BAD_DATA);
				ev->data = pay + 2;
				ev->len = plen - 2;
			}
			ev->kind = WS_EV_CLOSE;
			return ev->kind;
		default:
			break;
		}

		if (fin && op != WS_OP_CONT) {
			/* A whole message in one frame: left where it is. */
			if (op == WS_OP_TEXT && !utf8_valid(pay, plen))
				return fail(ev, WS_CLOSE_BAD_DATA);
			ev->kind = WS_EV_MESSAGE;
			ev->data = pay;
			ev->len = plen;
			return ev->kind;
		}

		/* A fragment (§5.4). Out of memory is "too big for us to
		 * process" (§7.4.1). */
		if (!msg_append(d, pay, plen, max))
			return fail(ev, WS_CLOSE_TOO_BIG);
		if (op != WS_OP_CONT)
			d->msg_opcode = (uint8_t)op;
		if (!fin)
			continue;

		/* The last fragment: a character may have been split between
		 * two frames, so the text is checked whole (§8.1). */
		if (d->msg_opcode == WS_OP_TEXT && !utf8_valid(d->msg, d->msg_len))
			return fail(ev, WS_CLOSE_BAD_DATA);
		ev->kind = WS_EV_MESSAGE;
		ev->data = d->msg ? d->msg : pay;
		ev->len = d->msg_len;
		d->msg_opcode = 0;
		d->msg_len = 0;
		return ev->kind;
	}
	return WS_EV_NONE;
}

void ws_decoder_free(struct ws_decoder *d)
{
	free(d->msg);
	memset(d, 0, sizeof(*d));
}

size_t ws_frame_header(uint8_t *out, enum ws_opcode op, uint64_t len)
{
	/* §5.2: the shortest length that holds len, as a sender must. */
	out[0] = (uint8_t)(0x80 | op);
	if (len <= 125) {
		out[1] = (uint8_t)len;
		return 2;
	}
	if (len <= 0xffff) {
		out[1] = 126;
		out[2] = (uint8_t)(len >> 8);
		out[3] = (uint8_t)len;
		return 4;
	}
	out[1] = 127;
	for (int i = 0; i < 8; i++)
		out[2 + i] = (uint8_t)(len >> (56 - 8 * i));
	return 10;
}

enum ws_opcode ws_message_opcode(const char *buf, size_t len)
{
	return utf8_valid((const uint8_t *)buf, len) ? WS_OP_TEXT : WS_OP_BINARY;
}

size_t ws_close_frame(uint8_t *out, uint16_t code)
{
	out[0] = 0x80 | WS_OP_CLOSE;
	out[1] = 2;
	out[2] = (uint8_t)(code >> 8);
	out[3] = (uint8_t)code;
	return 4;
}
