/*
 * ws: WebSocket (RFC 6455) as a SIP transport (RFC 7118), server side:
 * the opening handshake and the framing, as pure functions on buffers.
 * tcp.c owns the connections and calls these on what it reads (after
 * TLS for wss); nothing here does I/O, locks or knows a socket.
 */
#ifndef JCT_WS_H
#define JCT_WS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* The longest frame header: 2 + 8 (length) + 4 (mask). */
#define WS_HEADER_MAX 14

enum ws_opcode {
	WS_OP_CONT = 0x0,
	WS_OP_TEXT = 0x1,
	WS_OP_BINARY = 0x2,
	WS_OP_CLOSE = 0x8,
	WS_OP_PING = 0x9,
	WS_OP_PONG = 0xa,
};

/* Close codes we send (RFC 6455 §7.4.1). */
enum {
	WS_CLOSE_NORMAL = 1000,
	WS_CLOSE_GOING_AWAY = 1001,
	WS_CLOSE_PROTOCOL = 1002,
	WS_CLOSE_NO_STATUS = 1005, /* received a close without a code; never sent */
	WS_CLOSE_BAD_DATA = 1007,  /* text that is not UTF-8 */
	WS_CLOSE_TOO_BIG = 1009,
};

/*
 * The opening handshake (RFC 6455 §4.2, RFC 7118 §4.1): buf[0..len) is
 * what the client sent so far. Returns
 *   0   the request's header block is not complete yet (and len <= max);
 *   n>0 the request was n bytes and is good: out holds the 101 response
 *       ("Sec-WebSocket-Protocol: sip"), *out_len its length, *status
 *       101. Bytes after the n (a first frame sent without waiting for
 *       the 101) are not consumed: decode them with ws_decode();
 *   -1  refused: out holds the HTTP error response to send before
 *       closing (400, or 426 with Sec-WebSocket-Version: 13 for another
 *       version; 431 when the header block, its empty line included,
 *       would pass max bytes; 500 if SHA-1 is unavailable), *status its
 *       code. A request that is bad in its first bytes (not a GET, a bare
 *       CR or LF, a control character) is refused then, before it ends.
 * Nothing is kept between calls: each scans buf again, at most max bytes.
 * out must have WS_RESPONSE_MAX bytes.
 */
#define WS_RESPONSE_MAX 512
ssize_t ws_handshake(const char *buf, size_t len, size_t max, char *out, size_t *out_len,
		     unsigned *status);

/* What ws_decode() found. */
enum ws_event_kind {
	WS_EV_NONE = 0, /* need more bytes */
	WS_EV_MESSAGE,  /* a whole data message (one SIP message, RFC 7118 §5.1) */
	WS_EV_PING,     /* answer with a pong carrying data (RFC 6455 §5.5.2) */
	WS_EV_PONG,     /* ignore */
	WS_EV_CLOSE,    /* answer with a close (code) and close the connection */
	WS_EV_ERROR,    /* send a close with code, then close the connection */
};

struct ws_event {
	enum ws_event_kind kind;
	const uint8_t *data; /* MESSAGE, PING, PONG: payload, in buf (a message
			      * in one frame, a control frame) or in the
			      * decoder (a fragmented message); valid until
			      * the next ws_decode() or ws_decoder_free(), and
			      * while buf is not moved */
	size_t len;
	uint16_t code; /* CLOSE: the peer's code (1005 when none), data/len
			* its reason; ERROR: ours */
};

/* The state of one connection's incoming frames. Zero it to start. */
struct ws_decoder {
	uint8_t *msg; /* a fragmented message being put together (owned) */
	size_t msg_len, msg_cap;
	uint8_t msg_opcode; /* TEXT or BINARY while fragments arrive; 0: none */
};

/*
 * Decodes the frames at the front of buf[0..len) (client to server: every
 * frame masked, §5.3) up to the first that makes an event, unmasking them
 * in place. *used is how many bytes of buf it consumed, whatever the
 * kind: the caller always drops *used bytes, then calls again while the
 * kind is MESSAGE, PING or PONG. With WS_EV_NONE the next frame is not
 * complete; *used is 0 unless fragments of a message came before it
 * (they were copied into d and must not be fed again), and the caller
 * keeps the rest and calls again with more. A message or control frame
 * over max bytes of payload is an error (1009) as soon as its header
 * says so, before its payload arrives. With WS_EV_ERROR, *used means
 * nothing. A MESSAGE may have len 0. Returns the event's kind (also in
 * ev->kind).
 *
 *   for (;;) {
 *           k = ws_decode(&dec, buf, len, max, &used, &ev);
 *           if (k == WS_EV_ERROR)
 *                   send ws_close_frame(ev.code), close, return;
 *           buf += used, len -= used;
 *           if (k == WS_EV_NONE)
 *                   break; (keep buf[0..len) for the next read)
 *           use ev (MESSAGE, PING, PONG, CLOSE) before moving buf;
 *   }
 */
enum ws_event_kind ws_decode(struct ws_decoder *d, uint8_t *buf, size_t len, size_t max,
			     size_t *used, struct ws_event *ev);
void ws_decoder_free(struct ws_decoder *d);

/* The header of a server frame (never masked, §5.1) with FIN set and
 * len bytes of payload, into out (WS_HEADER_MAX bytes). Returns its
 * length. */
size_t ws_frame_header(uint8_t *out, enum ws_opcode op, uint64_t len);

/* A SIP message goes as text when it is UTF-8, else as binary
 * (RFC 7118 §5.1). */
enum ws_opcode ws_message_opcode(const char *buf, size_t len);

/* A close frame with code into out (4 bytes). Returns 4. */
size_t ws_close_frame(uint8_t *out, uint16_t code);

#endif
