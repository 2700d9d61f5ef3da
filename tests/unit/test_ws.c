/*
 * Unit tests for ws, WebSocket (RFC 6455) as a SIP transport (RFC 7118),
 * one test per rule:
 *
 * - the opening handshake: the RFC 6455 §1.3 / RFC 7118 §4.1 example key
 *   and its Sec-WebSocket-Accept, the whole 101 response; a header block
 *   not complete yet (every prefix); a pipelined first frame left
 *   unconsumed; Upgrade missing or wrong, and compared without case; a
 *   Connection list ("keep-alive, Upgrade") and one without Upgrade; a
 *   key that is not 16 bytes of base64, missing or sent twice; version 8
 *   (426 with Sec-WebSocket-Version: 13) and no version; no "sip"
 *   subprotocol, "SIP", and the list "foo, sip"; a header block over max
 *   (431) and one of exactly max; bare LF and bare CR line endings, even
 *   before the block ends; POST and a wrong first byte refused at once;
 *   HTTP/1.0; folded lines; no Host or two; a blank before the colon;
 * - frames: the RFC 6455 §5.7 masked "Hello"; unmasked (§5.1), RSV bits
 *   and reserved opcodes (§5.2) are 1002; 16- and 64-bit lengths, a
 *   longer length form than needed, a 64-bit length with its top bit set;
 *   a length over max refused on the header alone (1009); a fragmented
 *   message with a ping between its fragments, fragments over several
 *   calls (NONE with the absorbed bytes in *used), CONT without a start,
 *   TEXT inside a message, a fragmented total over max; control frames
 *   over 125 bytes and fragmented (§5.5); invalid UTF-8 text (1007), a
 *   character split across fragments, binary that is not UTF-8, empty
 *   messages; close with no body (1005), one byte, a code and a reason,
 *   reserved and unassigned codes, 3000/4000, a reason that is not UTF-8;
 *   ping and pong; incomplete headers and payloads (NONE, nothing
 *   consumed, buffer untouched); a frame fed a byte at a time; two
 *   frames in one buffer; the 8-byte unmasking against a byte loop;
 * - what we send: ws_frame_header at each length boundary,
 *   ws_message_opcode for text and binary, ws_close_frame.
 *
 * Every input is a copy that ends where a PROT_NONE page begins
 * (guarded()), so an over-read crashes the test; handshake requests are
 * read-only.
 */
#include "net/ws.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* Copies s[0..n) so that it ends where an inaccessible page begins,
 * read-only unless writable. Not freed: each test runs in its own
 * process. */
static uint8_t *guarded(const void *s, size_t n, bool writable)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	size_t data = (n + pg - 1) / pg * pg;
	uint8_t *map =
		mmap(NULL, data + pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint8_t *dst;

	cr_assert(map != MAP_FAILED);
	dst = map + data - n;
	if (n)
		memcpy(dst, s, n);
	cr_assert(writable || data == 0 || mprotect(map, data, PROT_READ) == 0);
	cr_assert(mprotect(map + data, pg, PROT_NONE) == 0);
	return dst;
}

/* ---- The opening handshake ---- */

#define KEY "dGhlIHNhbXBsZSBub25jZQ=="
/* As printed in RFC 6455 §1.3 and §4.2.2 item 5.4. */
#define ACCEPT "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
#define MAX    8192

static char out[WS_RESPONSE_MAX];
static size_t out_len;
static unsigned status;

/* Runs ws_handshake on a guarded copy of s[0..n); out holds the response
 * as a string. */
static ssize_t hs_n(const char *s, size_t n, size_t max)
{
	ssize_t r;

	memset(out, 0, sizeof(out));
	out_len = 0;
	status = 0;
	r = ws_handshake((const char *)guarded(s, n, false), n, max, out, &out_len, &status);
	cr_assert_lt(out_len, sizeof(out));
	out[out_len] = '\0';
	if (r == 0)
		cr_assert_eq(out_len, 0);
	return r;
}

static ssize_t hs(const char *s)
{
	return hs_n(s, strlen(s), MAX);
}

/* A request with the given header values; NULL leaves a field out. */
static const char *req(const char *host, const char *upgrade, const char *conn, const char *key,
		       const char *version, const char *proto)
{
	static char r[2048];
	size_t n = 0;

#define FIELD(name, v)                                                                             \
	if (v)                                                                                     \
		n += (size_t)snprintf(r + n, sizeof(r) - n, name ": %s\r\n", (v));
	n = (size_t)snprintf(r, sizeof(r), "GET / HTTP/1.1\r\n");
	FIELD("Host", host);
	FIELD("Upgrade", upgrade);
	FIELD("Connection", conn);
	FIELD("Sec-WebSocket-Key", key);
	n += (size_t)snprintf(r + n, sizeof(r) - n, "Origin: http://www.example.com\r\n");
	FIELD("Sec-WebSocket-Protocol", proto);
	FIELD("Sec-WebSocket-Version", version);
#undef FIELD
	snprintf(r + n, sizeof(r) - n, "\r\n");
	return r;
}

#define GOOD req("sip-ws.example.com", "websocket", "Upgrade", KEY, "13", "sip")

#define assert_accepted(r, s)                                                                      \
	do {                                                                                       \
		cr_assert_eq((r), (ssize_t)strlen(s), "returned %zd: %s", (r), out);               \
		cr_assert_eq(status, 101);                                                         \
	} while (0)

#define assert_refused(r, st)                                                                      \
	do {                                                                                       \
		cr_assert_eq((r), -1, "returned %zd", (r));                                        \
		cr_assert_eq(status, (st), "status %u, want %u", status, (st));                    \
		cr_assert_eq(strstr(out, "HTTP/1.1 ") == out, true);                               \
		cr_assert_neq(strstr(out, "\r\nContent-Length: 0\r\n"), NULL);                     \
		cr_assert_neq(strstr(out, "close\r\n\r\n"), NULL);                                 \
	} while (0)

/* RFC 6455 §1.3 (and RFC 7118 §4.1): the key and its accept value. */
Test(ws_handshake, rfc6455_example)
{
	const char *r = GOOD;
	ssize_t n = hs(r);

	assert_accepted(n, r);
	cr_assert_str_eq(out, "HTTP/1.1 101 Switching Protocols\r\n"
			      "Upgrade: websocket\r\n"
			      "Connection: Upgrade\r\n"
			      "Sec-WebSocket-Accept: " ACCEPT "\r\n"
			      "Sec-WebSocket-Protocol: sip\r\n\r\n");
	cr_assert_eq(out_len, strlen(out));
}

Test(ws_handshake, incomplete)
{
	char r[2048];
	size_t n;

	strcpy(r, GOOD);
	n = strlen(r);
	for (size_t i = 0; i < n; i++)
		cr_assert_eq(hs_n(r, i, MAX), 0, "prefix of %zu bytes", i);
	assert_accepted(hs_n(r, n, MAX), r);
}

/* A first frame sent without waiting for the 101 is not consumed. */
Test(ws_handshake, pipelined_frame_not_consumed)
{
	static const char frame[] = "\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58";
	char r[2048];
	size_t n;

	strcpy(r, GOOD);
	n = strlen(r);
	memcpy(r + n, frame, sizeof(frame) - 1);
	cr_assert_eq(hs_n(r, n + sizeof(frame) - 1, MAX), (ssize_t)n);
	cr_assert_eq(status, 101);
}

/* RFC 6455 §4.2.1 item 3 */
Test(ws_handshake, upgrade)
{
	const char *r = req("h", "WebSocket", "Upgrade", KEY, "13", "sip");

	assert_accepted(hs(r), r);
	r = req("h", "h2c, websocket", "Upgrade", KEY, "13", "sip");
	assert_accepted(hs(r), r);
	assert_refused(hs(req("h", NULL, "Upgrade", KEY, "13", "sip")), 400);
	assert_refused(hs(req("h", "h2c", "Upgrade", KEY, "13", "sip")), 400);
	assert_refused(hs(req("h", "websockets", "Upgrade", KEY, "13", "sip")), 400);
}

/* §4.2.1 item 4: a list, compared without case. */
Test(ws_handshake, connection_list)
{
	const char *r = req("h", "websocket", "keep-alive, Upgrade", KEY, "13", "sip");

	assert_accepted(hs(r), r);
	r = req("h", "websocket", "keep-alive,upgrade", KEY, "13", "sip");
	assert_accepted(hs(r), r);
	assert_refused(hs(req("h", "websocket", "keep-alive", KEY, "13", "sip")), 400);
	assert_refused(hs(req("h", "websocket", NULL, KEY, "13", "sip")), 400);
}

/* §4.2.1 item 5, §11.3.1 */
Test(ws_handshake, key_not_16_bytes)
{
	/* "the sample" is 10 bytes; 17 bytes; no padding; a bad character */
	assert_refused(hs(req("h", "websocket", "Upgrade", "dGhlIHNhbXBsZQ==", "13", "sip")), 400);
	assert_refused(
		hs(req("h", "websocket", "Upgrade", "dGhlIHNhbXBsZSBub25jZSE=", "13", "sip")), 400);
	assert_refused(hs(req("h", "websocket", "Upgrade", "dGhlIHNhbXBsZSBub25jZQ", "13", "sip")),
		       400);
	assert_refused(
		hs(req("h", "websocket", "Upgrade", "dGhlIHNhbXBsZSBub25jZ.==", "13", "sip")), 400);
	assert_refused(
		hs(req("h", "websocket", "Upgrade", "dGhlIHNhbXBsZSBub25jZQ=A", "13", "sip")), 400);
	assert_refused(hs(req("h", "websocket", "Upgrade", NULL, "13", "sip")), 400);
}

Test(ws_handshake, key_twice)
{
	assert_refused(hs("GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n"
			  "Connection: Upgrade\r\nSec-WebSocket-Key: " KEY "\r\n"
			  "Sec-WebSocket-Key: " KEY "\r\nSec-WebSocket-Protocol: sip\r\n"
			  "Sec-WebSocket-Version: 13\r\n\r\n"),
		       400);
}

/* §4.2.1 item 6, §4.4 */
Test(ws_handshake, version_8_is_426)
{
	assert_refused(hs(req("h", "websocket", "Upgrade", KEY, "8", "sip")), 426);
	cr_assert_neq(strstr(out, "HTTP/1.1 426 Upgrade Required\r\n"), NULL);
	cr_assert_neq(strstr(out, "\r\nSec-WebSocket-Version: 13\r\n"), NULL);
	cr_assert_neq(strstr(out, "\r\nUpgrade: websocket\r\n"), NULL);
	assert_refused(hs(req("h", "websocket", "Upgrade", KEY, "13, 8", "sip")), 426);
	assert_refused(hs(req("h", "websocket", "Upgrade", KEY, NULL, "sip")), 400);
}

/* RFC 7118 §4.1 */
Test(ws_handshake, no_sip_subprotocol)
{
	assert_refused(hs(req("h", "websocket", "Upgrade", KEY, "13", NULL)), 400);
	cr_assert_str_eq(out, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n"
			      "Connection: close\r\n\r\n");
	assert_refused(hs(req("h", "websocket", "Upgrade", KEY, "13", "foo")), 400);
	assert_refused(hs(req("h", "websocket", "Upgrade", KEY, "13", "sips, xmpp")), 400);
	/* RFC 6455 §4.1: subprotocol tokens are compared as they are. */
	assert_refused(hs(req("h", "websocket", "Upgrade", KEY, "13", "SIP")), 400);
}

Test(ws_handshake, subprotocol_list)
{
	const char *r = req("h", "websocket", "Upgrade", KEY, "13", "foo, sip");

	assert_accepted(hs(r), r);
	cr_assert_neq(strstr(out, "\r\nSec-WebSocket-Protocol: sip\r\n"), NULL);
	r = req("h", "websocket", "Upgrade", KEY, "13", "sip,foo");
	assert_accepted(hs(r), r);
}

/* RFC 6585 §5: the block, empty line included, may be max bytes. */
Test(ws_handshake, over_max_is_431)
{
	char r[2048];
	size_t n;

	strcpy(r, GOOD);
	n = strlen(r);
	assert_accepted(hs_n(r, n, n), r);
	assert_refused(hs_n(r, n, n - 1), 431);
	cr_assert_neq(strstr(out, "HTTP/1.1 431 Request Header Fields Too Large\r\n"), NULL);
	/* Refused as soon as max bytes have come without an end. */
	assert_refused(hs_n(r, 64, 64), 431);
	cr_assert_eq(hs_n(r, 63, 64), 0);
}

/* RFC 7230 §3.5: CRLF only. */
Test(ws_handshake, bare_lf_or_cr)
{
	assert_refused(hs("GET / HTTP/1.1\nHost: h\nUpgrade: websocket\nConnection: Upgrade\n"
			  "Sec-WebSocket-Key: " KEY "\nSec-WebSocket-Protocol: sip\n"
			  "Sec-WebSocket-Version: 13\n\n"),
		       400);
	/* Refused before the block ends. */
	assert_refused(hs("GET / HTTP/1.1\nHost"), 400);
	assert_refused(hs("GET / HTTP/1.1\r\nHost: h\rUpgrade"), 400);
	assert_refused(hs("GET / HTTP/1.1\r\nHost: h\x01\r\n"), 400);
}

Test(ws_handshake, post_method)
{
	char r[2048];

	strcpy(r, GOOD);
	memcpy(r, "PUT", 3);
	assert_refused(hs(r), 400);
	assert_refused(hs("POST / HTTP/1.1\r\n"), 400);
	assert_refused(hs("P"), 400);
	assert_refused(hs("get / HTTP/1.1\r\n"), 400); /* methods have case */
	/* SIP sent to the WebSocket port is refused on its first bytes. */
	assert_refused(hs("REGISTER sip:example.com SIP/2.0\r\n"), 400);
	cr_assert_eq(hs("GE"), 0);
}

Test(ws_handshake, request_line)
{
	char r[2048];

	strcpy(r, GOOD);
	memcpy(strstr(r, "HTTP/1.1"), "HTTP/1.0", 8);
	assert_refused(hs(r), 400);
	strcpy(r, GOOD);
	memcpy(strstr(r, "HTTP/1.1"), "HTTP/2.0", 8);
	assert_accepted(hs(r), r);
	assert_refused(hs("GET  / HTTP/1.1\r\nHost: h\r\n\r\n"), 400);
	assert_refused(hs("GET / HTTP/1.1 \r\nHost: h\r\n\r\n"), 400);
	assert_refused(hs("GET /\r\nHost: h\r\n\r\n"), 400);
}

/* RFC 7230 §3.2.4: no folding, no blank before the colon. */
Test(ws_handshake, folded_line)
{
	assert_refused(hs("GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n"
			  "Connection: keep-alive,\r\n Upgrade\r\nSec-WebSocket-Key: " KEY "\r\n"
			  "Sec-WebSocket-Protocol: sip\r\nSec-WebSocket-Version: 13\r\n\r\n"),
		       400);
	assert_refused(hs("GET / HTTP/1.1\r\nHost : h\r\nUpgrade: websocket\r\n"
			  "Connection: Upgrade\r\nSec-WebSocket-Key: " KEY "\r\n"
			  "Sec-WebSocket-Protocol: sip\r\nSec-WebSocket-Version: 13\r\n\r\n"),
		       400);
	assert_refused(hs("GET / HTTP/1.1\r\nHost: h\r\nno colon\r\n\r\n"), 400);
}

/* RFC 7230 §5.4 */
Test(ws_handshake, host)
{
	assert_refused(hs(req(NULL, "websocket", "Upgrade", KEY, "13", "sip")), 400);
	assert_refused(hs("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\nUpgrade: websocket\r\n"
			  "Connection: Upgrade\r\nSec-WebSocket-Key: " KEY "\r\n"
			  "Sec-WebSocket-Protocol: sip\r\nSec-WebSocket-Version: 13\r\n\r\n"),
		       400);
}

/* Header names have no case; values lose their surrounding blanks. */
Test(ws_handshake, names_without_case)
{
	const char *r = "GET /sip HTTP/1.1\r\nhOsT: h\r\nUPGRADE:websocket\r\n"
			"connection:\tUpgrade \r\nsec-websocket-key:   " KEY "\t\r\n"
			"SEC-WEBSOCKET-PROTOCOL: sip\r\nsec-websocket-version: 13\r\n\r\n";

	assert_accepted(hs(r), r);
	cr_assert_neq(strstr(out, "Sec-WebSocket-Accept: " ACCEPT "\r\n"), NULL);
}

/* ---- Frames ---- */

/* The masking key of RFC 6455 §5.7. */
static const uint8_t mkey[4] = {0x37, 0xfa, 0x21, 0x3d};

enum { F_UNMASKED = 1, F_LEN16 = 2, F_LEN64 = 4 };

/* A client frame into f: first byte b0 (FIN, RSV, opcode), n bytes of
 * payload masked with mkey, the shortest length form unless flags ask
 * for another. Returns its length. */
static size_t frame(uint8_t *f, uint8_t b0, const void *pay, size_t n, unsigned flags)
{
	const uint8_t *p = pay;
	uint8_t mbit = flags & F_UNMASKED ? 0 : 0x80;
	size_t h = 0;

	f[h++] = b0;
	if (n <= 125 && !(flags & (F_LEN16 | F_LEN64))) {
		f[h++] = mbit | (uint8_t)n;
	} else if (n <= 0xffff && !(flags & F_LEN64)) {
		f[h++] = mbit | 126;
		f[h++] = (uint8_t)(n >> 8);
		f[h++] = (uint8_t)n;
	} else {
		f[h++] = mbit | 127;
		for (int i = 0; i < 8; i++)
			f[h++] = (uint8_t)((uint64_t)n >> (56 - 8 * i));
	}
	if (mbit) {
		memcpy(f + h, mkey, 4);
		h += 4;
	}
	for (size_t i = 0; i < n; i++)
		f[h + i] = mbit ? p[i] ^ mkey[i & 3] : p[i];
	return h + n;
}

#define FIN 0x80

static struct ws_decoder dec;
static struct ws_event ev;
static size_t used;
static uint8_t *gb; /* the guarded copy last decoded */

/* Decodes from a writable guarded copy of f[0..n). */
static enum ws_event_kind decode_max(const uint8_t *f, size_t n, size_t max)
{
	gb = guarded(f, n, true);
	return ws_decode(&dec, gb, n, max, &used, &ev);
}

static enum ws_event_kind decode(const uint8_t *f, size_t n)
{
	return decode_max(f, n, 65536);
}

static void fini(void)
{
	ws_decoder_free(&dec);
}

TestSuite(ws_frame, .fini = fini);

#define assert_error(k, c)                                                                         \
	do {                                                                                       \
		cr_assert_eq((k), WS_EV_ERROR, "kind %d", (k));                                    \
		cr_assert_eq(ev.kind, WS_EV_ERROR);                                                \
		cr_assert_eq(ev.code, (c), "code %u, want %u", ev.code, (c));                      \
	} while (0)

#define assert_message(k, s, n)                                                                    \
	do {                                                                                       \
		cr_assert_eq((k), WS_EV_MESSAGE, "kind %d code %u", (k), ev.code);                 \
		cr_assert_eq(ev.len, (n));                                                         \
		cr_assert((n) == 0 || memcmp(ev.data, (s), (n)) == 0);                             \
	} while (0)

/* RFC 6455 §5.7: a single-frame masked text message. */
Test(ws_frame, masked_text_message)
{
	static const uint8_t hello[] = {0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d,
					0x7f, 0x9f, 0x4d, 0x51, 0x58};
	enum ws_event_kind k = decode(hello, sizeof(hello));

	assert_message(k, "Hello", 5);
	cr_assert_eq(used, sizeof(hello));
	cr_assert_eq(ev.data, gb + 6, "unmasked in place, not copied");
	cr_assert_null(dec.msg);
}

/* §5.1: a client masks every frame (the §5.7 unmasked "Hello"). */
Test(ws_frame, unmasked_is_1002)
{
	static const uint8_t hello[] = {0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f};

	assert_error(decode(hello, sizeof(hello)), 1002);
	assert_error(decode(hello, 2), 1002); /* known on two bytes */
}

/* §5.2: no extension negotiated, so no RSV bit. */
Test(ws_frame, rsv_is_1002)
{
	uint8_t f[32];

	for (uint8_t rsv = 0x10; rsv <= 0x40; rsv <<= 1) {
		size_t n = frame(f, FIN | rsv | WS_OP_TEXT, "x", 1, 0);

		assert_error(decode(f, n), 1002);
	}
}

/* §5.2: opcodes 3-7 and 0xB-0xF are reserved. */
Test(ws_frame, unknown_opcode_is_1002)
{
	uint8_t f[32];
	static const uint8_t ops[] = {3, 4, 5, 6, 7, 0xb, 0xc, 0xd, 0xe, 0xf};

	for (size_t i = 0; i < sizeof(ops); i++) {
		size_t n = frame(f, FIN | ops[i], "x", 1, 0);

		assert_error(decode(f, n), 1002);
	}
}

Test(ws_frame, length_16)
{
	static uint8_t pay[300], f[400];
	size_t n;

	for (size_t i = 0; i < sizeof(pay); i++)
		pay[i] = 'a' + i % 26;
	n = frame(f, FIN | WS_OP_TEXT, pay, sizeof(pay), 0);
	cr_assert_eq(n, 4 + 4 + 300);
	assert_message(decode(f, n), pay, sizeof(pay));
	cr_assert_eq(used, n);
}

Test(ws_frame, length_64)
{
	static uint8_t pay[70000], f[70100];
	size_t n;

	for (size_t i = 0; i < sizeof(pay); i++)
		pay[i] = (uint8_t)(i * 7 + 3);
	n = frame(f, FIN | WS_OP_BINARY, pay, sizeof(pay), 0);
	cr_assert_eq(n, 10 + 4 + 70000);
	assert_message(decode_max(f, n, 70000), pay, sizeof(pay));
	cr_assert_eq(used, n);
}

/* §5.2 says a sender uses the shortest form; a longer one is taken. */
Test(ws_frame, longer_length_form_taken)
{
	uint8_t f[64];
	size_t n = frame(f, FIN | WS_OP_TEXT, "Hi", 2, F_LEN16);

	assert_message(decode(f, n), "Hi", 2);
	n = frame(f, FIN | WS_OP_TEXT, "Hi", 2, F_LEN64);
	assert_message(decode(f, n), "Hi", 2);
	cr_assert_eq(used, n);
}

/* §5.2: the most significant bit of a 64-bit length is 0. */
Test(ws_frame, length_64_msb_is_1002)
{
	uint8_t f[] = {0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 1};

	assert_error(decode(f, sizeof(f)), 1002);
}

/* §10.4: refused on the header, before the payload arrives. */
Test(ws_frame, over_max_is_1009_before_payload)
{
	uint8_t f[] = {0x81, 0xfe, 0x01, 0x00}; /* 256 bytes, no key yet */
	uint8_t g[] = {0x82, 0xff, 0, 0, 0, 1, 0, 0, 0, 0};

	assert_error(decode_max(f, sizeof(f), 255), 1009);
	cr_assert_eq(decode_max(f, sizeof(f), 256), WS_EV_NONE);
	cr_assert_eq(used, 0);
	assert_error(decode(g, sizeof(g)), 1009);
}

/* §5.4: control frames may come between the fragments of a message. */
Test(ws_frame, fragmented_with_ping)
{
	uint8_t f[128];
	size_t n = 0, first;

	n += frame(f + n, WS_OP_TEXT, "REGISTER ", 9, 0);
	n += frame(f + n, FIN | WS_OP_PING, "pi", 2, 0);
	first = n;
	n += frame(f + n, WS_OP_CONT, "sip:", 4, 0);
	n += frame(f + n, FIN | WS_OP_CONT, "example.com", 11, 0);

	gb = guarded(f, n, true);
	cr_assert_eq(ws_decode(&dec, gb, n, 1000, &used, &ev), WS_EV_PING);
	cr_assert_eq(used, first);
	cr_assert_eq(ev.len, 2);
	cr_assert_eq(memcmp(ev.data, "pi", 2), 0);
	cr_assert_eq(ws_decode(&dec, gb + used, n - used, 1000, &used, &ev), WS_EV_MESSAGE);
	cr_assert_eq(used, n - first);
	assert_message(WS_EV_MESSAGE, "REGISTER sip:example.com", 24);
	cr_assert_eq(ev.data, dec.msg, "put together in the decoder");
	cr_assert_eq(dec.msg_opcode, 0);
}

/* A fragment alone leaves nothing to report, but it is consumed: NONE
 * with *used > 0. */
Test(ws_frame, fragments_over_calls)
{
	uint8_t f[64];
	size_t n = frame(f, WS_OP_BINARY, "ab", 2, 0);

	cr_assert_eq(decode(f, n), WS_EV_NONE);
	cr_assert_eq(used, n);
	cr_assert_eq(dec.msg_opcode, WS_OP_BINARY);
	/* A fragment and the start of the next one. */
	n = frame(f, WS_OP_CONT, "cd", 2, 0);
	n += frame(f + n, FIN | WS_OP_CONT, "ef", 2, 0);
	cr_assert_eq(decode(f, n - 3), WS_EV_NONE);
	cr_assert_eq(used, 8);
	cr_assert_eq(decode(f + 8, n - 8), WS_EV_MESSAGE);
	assert_message(WS_EV_MESSAGE, "abcdef", 6);
	/* The next call lets the copy go. */
	cr_assert_eq(decode(f, 0), WS_EV_NONE);
	cr_assert_null(dec.msg);
}

/* §5.4: a continuation needs a message to continue. */
Test(ws_frame, cont_without_start_is_1002)
{
	uint8_t f[32];
	size_t n = frame(f, FIN | WS_OP_CONT, "x", 1, 0);

	assert_error(decode(f, n), 1002);
}

/* §5.4: the fragments of one message are not interleaved with another. */
Test(ws_frame, text_during_fragments_is_1002)
{
	uint8_t f[64];
	size_t n = frame(f, WS_OP_TEXT, "ab", 2, 0);

	n += frame(f + n, FIN | WS_OP_TEXT, "cd", 2, 0);
	assert_error(decode(f, n), 1002);
}

Test(ws_frame, fragmented_over_max_is_1009)
{
	static uint8_t pay[60];
	uint8_t f[128];
	size_t n;

	memset(pay, 'x', sizeof(pay));
	n = frame(f, WS_OP_TEXT, pay, 60, 0);
	cr_assert_eq(decode_max(f, n, 100), WS_EV_NONE);
	cr_assert_eq(used, n);
	/* 60 + 50 > 100: refused on the header (key and payload absent). */
	n = frame(f, FIN | WS_OP_CONT, pay, 50, 0);
	assert_error(decode_max(f, 2, 100), 1009);
}

Test(ws_frame, fragmented_exactly_max)
{
	static uint8_t pay[60];
	uint8_t f[128];
	size_t n;

	memset(pay, 'x', sizeof(pay));
	n = frame(f, WS_OP_TEXT, pay, 60, 0);
	cr_assert_eq(decode_max(f, n, 100), WS_EV_NONE);
	n = frame(f, FIN | WS_OP_CONT, pay, 40, 0);
	cr_assert_eq(decode_max(f, n, 100), WS_EV_MESSAGE);
	cr_assert_eq(ev.len, 100);
}

/* §5.5: a control frame carries at most 125 bytes. */
Test(ws_frame, control_over_125_is_1002)
{
	static uint8_t pay[126];
	uint8_t f[256];
	size_t n = frame(f, FIN | WS_OP_PING, pay, 126, 0);

	assert_error(decode(f, n), 1002);
	assert_error(decode(f, 2), 1002); /* known on two bytes */
	n = frame(f, FIN | WS_OP_PONG, pay, 10, F_LEN16);
	assert_error(decode(f, n), 1002); /* even with a small length */
	n = frame(f, FIN | WS_OP_PING, pay, 125, 0);
	cr_assert_eq(decode(f, n), WS_EV_PING);
	cr_assert_eq(ev.len, 125);
}

/* §5.5: control frames are not fragmented. */
Test(ws_frame, fragmented_control_is_1002)
{
	uint8_t f[32];
	size_t n = frame(f, WS_OP_PING, "x", 1, 0);

	assert_error(decode(f, n), 1002);
	n = frame(f, WS_OP_CLOSE, "\x03\xe8", 2, 0);
	assert_error(decode(f, n), 1002);
}

/* §8.1: text is UTF-8. */
Test(ws_frame, invalid_utf8_is_1007)
{
	static const char *bad[] = {
		"\xc0\xaf",         /* overlong '/' */
		"\xed\xa0\x80",     /* a surrogate */
		"\xf4\x90\x80\x80", /* past U+10FFFF */
		"abc\xff",
		"REGISTER sip:\xe2\x82",  /* cut off */
		"0123456789abcdef\x80xy", /* after the ASCII fast path */
	};
	uint8_t f[64];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		size_t n = frame(f, FIN | WS_OP_TEXT, bad[i], strlen(bad[i]), 0);

		assert_error(decode(f, n), 1007);
	}
}

/* §8.1: a character may be split between two fragments. */
Test(ws_frame, utf8_split_across_fragments)
{
	/* "κόσμε": the second fragment starts inside "ό" */
	static const char s[] = "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5";
	uint8_t f[64];
	size_t n = frame(f, WS_OP_TEXT, s, 3, 0);

	n += frame(f + n, FIN | WS_OP_CONT, s + 3, sizeof(s) - 1 - 3, 0);
	assert_message(decode(f, n), s, sizeof(s) - 1);
	/* And a bad sequence split the same way is still refused. */
	n = frame(f, WS_OP_TEXT, "\xed", 1, 0);
	n += frame(f + n, FIN | WS_OP_CONT, "\xa0\x80", 2, 0);
	ws_decoder_free(&dec);
	assert_error(decode(f, n), 1007);
}

Test(ws_frame, binary_not_utf8_is_fine)
{
	uint8_t f[32];
	size_t n = frame(f, FIN | WS_OP_BINARY, "\xff\xfe\xc0\xaf", 4, 0);

	assert_message(decode(f, n), "\xff\xfe\xc0\xaf", 4);
}

/* Empty messages are messages (the caller ignores them). */
Test(ws_frame, empty_message)
{
	uint8_t f[32];
	size_t n = frame(f, FIN | WS_OP_TEXT, "", 0, 0);

	assert_message(decode(f, n), "", 0);
	cr_assert_eq(used, 6);
	n = frame(f, WS_OP_BINARY, "", 0, 0);
	n += frame(f + n, FIN | WS_OP_CONT, "", 0, 0);
	assert_message(decode(f, n), "", 0);
	cr_assert_eq(used, 12);
	cr_assert_not_null(ev.data);
}

/* §5.5.1, §7.1.5: a close without a body has no code. */
Test(ws_frame, close_no_payload_is_1005)
{
	uint8_t f[32];
	size_t n = frame(f, FIN | WS_OP_CLOSE, "", 0, 0);

	cr_assert_eq(decode(f, n), WS_EV_CLOSE);
	cr_assert_eq(ev.code, 1005);
	cr_assert_eq(used, n);
}

/* §5.5.1: a body starts with a two-byte code. */
Test(ws_frame, close_one_byte_is_1002)
{
	uint8_t f[32];
	size_t n = frame(f, FIN | WS_OP_CLOSE, "\x03", 1, 0);

	assert_error(decode(f, n), 1002);
}

Test(ws_frame, close_code_and_reason)
{
	uint8_t f[64];
	size_t n = frame(f, FIN | WS_OP_CLOSE,
			 "\x03\xe8"
			 "bye \xc3\xa9",
			 8, 0);

	cr_assert_eq(decode(f, n), WS_EV_CLOSE);
	cr_assert_eq(ev.code, 1000);
	cr_assert_eq(ev.len, 6);
	cr_assert_eq(memcmp(ev.data, "bye \xc3\xa9", 6), 0);
	/* §5.5.1: the reason is UTF-8. */
	n = frame(f, FIN | WS_OP_CLOSE, "\x03\xe8\xff", 3, 0);
	assert_error(decode(f, n), 1007);
}

/* §7.4.1, §7.4.2: codes a peer may not send. */
Test(ws_frame, close_reserved_codes_are_1002)
{
	static const unsigned bad[] = {0,    999,  1004, 1005, 1006, 1015,
				       1016, 2000, 2999, 5000, 65535};
	uint8_t f[32], c[2];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		size_t n;

		c[0] = (uint8_t)(bad[i] >> 8);
		c[1] = (uint8_t)bad[i];
		n = frame(f, FIN | WS_OP_CLOSE, c, 2, 0);
		assert_error(decode(f, n), 1002);
	}
}

/* §7.4.2: 3000-4999 for libraries and applications; the codes of RFC
 * 6455 and the IANA registry (1012-1014 came later). */
Test(ws_frame, close_codes_accepted)
{
	static const unsigned good[] = {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010,
					1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999};
	uint8_t f[32], c[2];

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		size_t n;

		c[0] = (uint8_t)(good[i] >> 8);
		c[1] = (uint8_t)good[i];
		n = frame(f, FIN | WS_OP_CLOSE, c, 2, 0);
		cr_assert_eq(decode(f, n), WS_EV_CLOSE, "code %u", good[i]);
		cr_assert_eq(ev.code, good[i]);
		cr_assert_eq(ev.len, 0);
	}
}

/* §5.5.2, §5.5.3 */
Test(ws_frame, ping_and_pong)
{
	uint8_t f[32];
	size_t n = frame(f, FIN | WS_OP_PING, "abc", 3, 0);

	cr_assert_eq(decode(f, n), WS_EV_PING);
	cr_assert_eq(ev.len, 3);
	cr_assert_eq(ev.data, gb + 6);
	cr_assert_eq(memcmp(ev.data, "abc", 3), 0);
	n = frame(f, FIN | WS_OP_PONG, "abc", 3, 0);
	cr_assert_eq(decode(f, n), WS_EV_PONG);
	cr_assert_eq(used, n);
}

Test(ws_frame, incomplete_is_none)
{
	static uint8_t pay[300];
	uint8_t f[400];
	size_t n = frame(f, FIN | WS_OP_TEXT, pay, 300, 0);

	/* The header: one byte, the 16-bit length cut, the key cut. */
	for (size_t i = 0; i < 8; i++) {
		cr_assert_eq(decode(f, i), WS_EV_NONE, "%zu bytes", i);
		cr_assert_eq(used, 0);
	}
	/* The payload. */
	cr_assert_eq(decode(f, n - 1), WS_EV_NONE);
	cr_assert_eq(used, 0);
	cr_assert_eq(memcmp(gb, f, n - 1), 0, "not unmasked until whole");
}

Test(ws_frame, byte_at_a_time)
{
	static const char msg[] = "OPTIONS sip:example.com SIP/2.0\r\nContent-Length: 0\r\n\r\n";
	uint8_t f[128], *g;
	size_t n = frame(f, FIN | WS_OP_TEXT, msg, sizeof(msg) - 1, 0);

	g = guarded(f, n, true);
	for (size_t i = 0; i < n; i++) {
		cr_assert_eq(ws_decode(&dec, g, i, 1000, &used, &ev), WS_EV_NONE, "%zu bytes", i);
		cr_assert_eq(used, 0);
		cr_assert_eq(memcmp(g, f, n), 0);
	}
	cr_assert_eq(ws_decode(&dec, g, n, 1000, &used, &ev), WS_EV_MESSAGE);
	assert_message(WS_EV_MESSAGE, msg, sizeof(msg) - 1);
	cr_assert_eq(used, n);
}

Test(ws_frame, two_frames_in_one_buffer)
{
	uint8_t f[64];
	size_t a = frame(f, FIN | WS_OP_TEXT, "one", 3, 0);
	size_t b = frame(f + a, FIN | WS_OP_BINARY, "two", 3, 0);

	assert_message(decode(f, a + b), "one", 3);
	cr_assert_eq(used, a);
	cr_assert_eq(ws_decode(&dec, gb + a, b, 1000, &used, &ev), WS_EV_MESSAGE);
	assert_message(WS_EV_MESSAGE, "two", 3);
	cr_assert_eq(used, b);
}

/* The eight-bytes-at-a-time unmasking, at every length and alignment
 * around a word, against the byte loop of §5.3. */
Test(ws_frame, unmask_lengths_and_alignments)
{
	uint8_t pay[40], f[64];

	for (size_t i = 0; i < sizeof(pay); i++)
		pay[i] = (uint8_t)(0x20 + i);
	for (size_t len = 0; len <= sizeof(pay); len++) {
		for (size_t align = 0; align < 8; align++) {
			uint8_t buf[80];
			size_t n = frame(f, FIN | WS_OP_BINARY, pay, len, 0);

			memcpy(buf + align, f, n);
			cr_assert_eq(ws_decode(&dec, buf + align, n, 100, &used, &ev),
				     WS_EV_MESSAGE);
			cr_assert_eq(ev.len, len);
			cr_assert(len == 0 || memcmp(ev.data, pay, len) == 0, "len %zu align %zu",
				  len, align);
		}
	}
}

/* ---- What we send ---- */

Test(ws_send, frame_header)
{
	uint8_t h[WS_HEADER_MAX];

	cr_assert_eq(ws_frame_header(h, WS_OP_TEXT, 0), 2);
	cr_assert_eq(memcmp(h, "\x81\x00", 2), 0);
	cr_assert_eq(ws_frame_header(h, WS_OP_BINARY, 125), 2);
	cr_assert_eq(memcmp(h, "\x82\x7d", 2), 0);
	cr_assert_eq(ws_frame_header(h, WS_OP_TEXT, 126), 4);
	cr_assert_eq(memcmp(h, "\x81\x7e\x00\x7e", 4), 0);
	cr_assert_eq(ws_frame_header(h, WS_OP_TEXT, 65535), 4);
	cr_assert_eq(memcmp(h, "\x81\x7e\xff\xff", 4), 0);
	cr_assert_eq(ws_frame_header(h, WS_OP_TEXT, 65536), 10);
	cr_assert_eq(memcmp(h, "\x81\x7f\x00\x00\x00\x00\x00\x01\x00\x00", 10), 0);
	cr_assert_eq(ws_frame_header(h, WS_OP_PONG, 3), 2);
	cr_assert_eq(memcmp(h, "\x8a\x03", 2), 0);
}

/* What we send is what we would take (but unmasked). */
Test(ws_send, frame_header_round_trip)
{
	static uint8_t f[70100];
	static const size_t lens[] = {0, 1, 125, 126, 65535, 65536, 70000};

	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		size_t h = ws_frame_header(f, WS_OP_BINARY, lens[i]);

		f[1] |= 0x80; /* masked with a zero key */
		memset(f + h, 0, 4);
		memset(f + h + 4, 'z', lens[i]);
		cr_assert_eq(ws_decode(&dec, f, h + 4 + lens[i], 70000, &used, &ev), WS_EV_MESSAGE);
		cr_assert_eq(ev.len, lens[i]);
		cr_assert_eq(used, h + 4 + lens[i]);
	}
}

/* RFC 7118 §5.1 */
Test(ws_send, message_opcode)
{
	static const char sip[] = "MESSAGE sip:bob@example.com SIP/2.0\r\nSubject: caf\xc3\xa9\r\n";

	cr_assert_eq(ws_message_opcode(sip, sizeof(sip) - 1), WS_OP_TEXT);
	cr_assert_eq(ws_message_opcode("", 0), WS_OP_TEXT);
	cr_assert_eq(ws_message_opcode("body: \xff\x00\x01", 9), WS_OP_BINARY);
	cr_assert_eq(ws_message_opcode("\xc0\xaf", 2), WS_OP_BINARY);
	cr_assert_eq(ws_message_opcode("abc\xe2\x82", 5), WS_OP_BINARY);
}

/* §5.5.1 */
Test(ws_send, close_frame)
{
	uint8_t f[4];

	cr_assert_eq(ws_close_frame(f, WS_CLOSE_NORMAL), 4);
	cr_assert_eq(memcmp(f, "\x88\x02\x03\xe8", 4), 0);
	cr_assert_eq(ws_close_frame(f, WS_CLOSE_TOO_BIG), 4);
	cr_assert_eq(memcmp(f, "\x88\x02\x03\xf1", 4), 0);
}

Test(ws_send, decoder_free)
{
	struct ws_decoder d = {0};
	uint8_t f[32];
	size_t n = frame(f, WS_OP_TEXT, "abc", 3, 0);

	cr_assert_eq(ws_decode(&d, f, n, 100, &used, &ev), WS_EV_NONE);
	cr_assert_not_null(d.msg);
	ws_decoder_free(&d);
	cr_assert_null(d.msg);
	cr_assert_eq(d.msg_len, 0);
	cr_assert_eq(d.msg_opcode, 0);
	ws_decoder_free(&d); /* twice is fine */
}
