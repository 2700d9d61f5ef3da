/*
 * libFuzzer target for WebSocket (RFC 6455, RFC 7118): the opening
 * handshake, then the frames after it, read the way tcp.c reads them.
 *
 * Byte 0 chooses max, for the handshake's header block and for a
 * message's payload (0: 65535, else 16 times the byte), so the 431 and
 * 1009 paths near their edges get as much exercise as the defaults. The
 * rest goes to ws_handshake(); when it accepts n bytes, the bytes after
 * them are the frame stream, else all of them are (a fuzzer mutating a
 * frame seed should not have to write a handshake first). The stream is
 * decoded whole, frame after frame, dropping *used bytes after each call
 * and stopping at NONE, CLOSE or ERROR; then again fed in two reads, as
 * a reader would, with what the first left over copied in front of the
 * second. Both must give the same events.
 *
 * Every buffer is a copy of exactly its size, so ASan catches a read one
 * byte past what the decoder was given. A broken promise of ws.h aborts:
 * a length consumed that was not given, a message not in the buffer or
 * in the decoder's copy, a payload over max.
 */
#include "fuzz_util.h"
#include "net/ws.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The events of one decoding, to compare the two ways of reading. */
#define EV_MAX 64
struct trace {
	unsigned n;
	uint8_t kind[EV_MAX];
	uint16_t code[EV_MAX];
	size_t len[EV_MAX];
	uint32_t sum[EV_MAX]; /* of the payload */
	bool done;            /* CLOSE or ERROR: the connection is over */
};

static uint32_t checksum(const uint8_t *p, size_t n)
{
	uint32_t h = 2166136261u; /* FNV-1a */

	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

static bool within(const uint8_t *p, size_t n, const uint8_t *lo, size_t lo_len)
{
	return lo && p >= lo && n <= lo_len && (size_t)(p - lo) <= lo_len - n;
}

/* Decodes buf[0..len) until it needs more or the connection ends;
 * returns how many bytes it consumed. */
static size_t decode_all(struct ws_decoder *d, uint8_t *buf, size_t len, size_t max,
			 struct trace *t)
{
	struct ws_event ev;
	size_t off = 0, used;
	enum ws_event_kind k;

	while (!t->done) {
		k = ws_decode(d, buf + off, len - off, max, &used, &ev);
		if (k != ev.kind)
			abort();
		if (k != WS_EV_ERROR && used > len - off)
			abort();
		switch (k) {
		case WS_EV_MESSAGE:
			if (ev.len > max || !ev.data)
				abort();
			if (!within(ev.data, ev.len, buf + off, len - off) &&
			    !within(ev.data, ev.len, d->msg, d->msg_cap))
				abort();
			break;
		case WS_EV_PING:
		case WS_EV_PONG:
		case WS_EV_CLOSE:
			if (ev.len > 125 ||
			    (ev.len && !within(ev.data, ev.len, buf + off, len - off)))
				abort();
			break;
		case WS_EV_ERROR:
			if (ev.code != WS_CLOSE_PROTOCOL && ev.code != WS_CLOSE_BAD_DATA &&
			    ev.code != WS_CLOSE_TOO_BIG)
				abort();
			break;
		case WS_EV_NONE:
			break;
		default:
			abort();
		}
		/* A frame that makes an event was consumed. */
		if (k != WS_EV_NONE && k != WS_EV_ERROR && used == 0)
			abort();
		if (k != WS_EV_NONE && t->n < EV_MAX) {
			t->kind[t->n] = (uint8_t)k;
			t->code[t->n] = ev.code;
			t->len[t->n] = ev.len;
			t->sum[t->n] = ev.len ? checksum(ev.data, ev.len) : 0;
			t->n++;
		}
		if (k == WS_EV_ERROR) {
			t->done = true;
			return off; /* *used means nothing */
		}
		off += used;
		if (k == WS_EV_CLOSE)
			t->done = true;
		if (k == WS_EV_NONE || k == WS_EV_CLOSE)
			break;
	}
	/* Between messages, the decoder holds no fragments. */
	if (!d->msg_opcode && d->msg_len)
		abort();
	if (d->msg_len > max || d->msg_len > d->msg_cap)
		abort();
	return off;
}

static void handshake(const uint8_t *data, size_t size, size_t max, size_t *frames_at)
{
	char out[WS_RESPONSE_MAX], *buf, *pre;
	size_t out_len = 0, cut;
	unsigned status = 0;
	ssize_t whole, part;

	*frames_at = 0;
	buf = fuzz_copy(data, size);
	if (!buf)
		return;
	whole = ws_handshake(buf, size, max, out, &out_len, &status);
	if (whole > 0) {
		if ((size_t)whole > size || (size_t)whole > max || status != 101 || !out_len ||
		    out_len > WS_RESPONSE_MAX)
			abort();
		*frames_at = (size_t)whole;
	} else if (whole < 0) {
		if (whole != -1 || !out_len || out_len > WS_RESPONSE_MAX ||
		    (status != 400 && status != 426 && status != 431 && status != 500))
			abort();
	} else if ((size && size >= max) || out_len) {
		abort();
	}

	/* A prefix of an accepted request is "need more" until it holds the
	 * whole header block, and the same request after. */
	cut = size / 2;
	pre = fuzz_copy(data, cut);
	if (pre) {
		part = ws_handshake(pre, cut, max, out, &out_len, &status);
		if (whole > 0 && part != (cut >= (size_t)whole ? whole : 0))
			abort();
		free(pre);
	}
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ws_decoder d1 = {0}, d2 = {0};
	struct trace t1 = {0}, t2 = {0};
	size_t max, at, cut, off, left;
	uint8_t *buf, *b2;

	if (size < 1)
		return 0;
	max = data[0] ? 16u * data[0] : 65535;
	data++;
	size--;

	handshake(data, size, max, &at);
	data += at;
	size -= at;

	/* The whole stream in one read. */
	buf = (uint8_t *)fuzz_copy(data, size);
	if (!buf)
		return 0;
	(void)decode_all(&d1, buf, size, max, &t1);
	free(buf);
	ws_decoder_free(&d1);

	/* In two reads: what the first leaves goes in front of the second. */
	cut = size / 2;
	buf = (uint8_t *)fuzz_copy(data, cut);
	if (!buf)
		return 0;
	off = decode_all(&d2, buf, cut, max, &t2);
	if (off > cut)
		abort();
	left = cut - off;
	b2 = malloc(left + (size - cut) ? left + (size - cut) : 1);
	if (b2) {
		memcpy(b2, buf + off, left);
		memcpy(b2 + left, data + cut, size - cut);
		if (!t2.done)
			(void)decode_all(&d2, b2, left + (size - cut), max, &t2);
		free(b2);
		if (t1.n != t2.n || t1.done != t2.done)
			abort();
		for (unsigned i = 0; i < t1.n; i++)
			if (t1.kind[i] != t2.kind[i] || t1.code[i] != t2.code[i] ||
			    t1.len[i] != t2.len[i] || t1.sum[i] != t2.sum[i])
				abort();
	}
	free(buf);
	ws_decoder_free(&d2);
	return 0;
}
