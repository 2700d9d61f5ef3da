/*
 * libFuzzer target for stream framing (sip_msg_frame, RFC 3261 §18.3):
 * the input is a TCP byte stream that is cut into messages the way
 * tcp.c does it, with keep-alive CRLFs skipped, and every framed message
 * is then indexed by sip_msg_parse with the same limits.
 *
 * The first four bytes choose the limits (size, headers, line length,
 * Vias), so the 413/513 paths and the caps near their edges get as much
 * exercise as the defaults; byte 0 == 0 means the defaults (NULL). The
 * stream is also fed in two pieces, as two reads, to check that a
 * message framed from a prefix is never longer than the prefix.
 *
 * Every buffer is a copy of exactly its size, so ASan catches a read one
 * byte past what the framer was given.
 */
#include "sip/sip_msg.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Frames buf[0..len) message by message, as a stream reader would. */
static void frame_all(const char *buf, size_t len, const struct sip_limits *lim)
{
	struct sip_hdr hdrs[32];
	struct sip_error err;
	struct sip_msg m;
	size_t off = 0, skipped;
	ssize_t n;

	while (off < len) {
		n = sip_msg_frame(buf + off, len - off, lim, &skipped, &err);
		if (n <= 0) {
			/* The framer never asks for more than a cap allows. */
			if (n < 0 && !err.status)
				abort();
			break;
		}
		if (skipped + (size_t)n > len - off)
			abort();
		(void)sip_msg_parse(&m, buf + off + skipped, (size_t)n, hdrs, 32, lim);
		off += skipped + (size_t)n;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sip_limits lim;
	const struct sip_limits *lp = NULL;
	struct sip_error err;
	size_t skipped, cut;
	ssize_t whole, part;
	char *buf, *pre;

	if (size < 5)
		return 0; /* the limits and at least one byte of stream */
	if (data[0]) {
		lim.max_message_size = 64u * data[0];
		lim.max_headers = data[1] % 40;
		lim.max_line_length = 8u * data[2];
		lim.max_vias = data[3] % 70;
		lp = &lim;
	}
	data += 4;
	size -= 4;

	buf = malloc(size);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	frame_all(buf, size, lp);

	/* A prefix frames to the same length or to "need more". */
	whole = sip_msg_frame(buf, size, lp, &skipped, &err);
	cut = size / 2;
	pre = malloc(cut ? cut : 1);
	if (pre) {
		if (cut)
			memcpy(pre, buf, cut);
		part = sip_msg_frame(pre, cut, lp, &skipped, &err);
		if (part > 0 && whole >= 0 && part != whole)
			abort();
		free(pre);
	}
	free(buf);
	return 0;
}
