/*
 * sink: where the threads that read sockets put what they read. The
 * runtime gives the transport a sink when it starts it (runtime/dispatch.c
 * is the one Junction uses: a job on the worker that owns the Call-ID), so
 * a reader hands data over through these function pointers and never
 * includes a header of the layers above it.
 *
 * Each reading thread has its own context (ctx, opaque here: the
 * runtime's dispatch context), passed back on every call from that thread.
 */
#ifndef JCT_SINK_H
#define JCT_SINK_H

#include "net/endpoint.h"

#include <stddef.h>

/* What a message handed over is: SINK_TRUNCATED, a datagram cut at the
 * read buffer (too large); SINK_UNDELIVERED, a request of ours handed
 * back because its connection never came up. */
enum { SINK_TRUNCATED = 1u << 0, SINK_UNDELIVERED = 1u << 1 };

/* What a reader counts (the runtime keeps the counters). */
enum sink_event {
	SINK_KEEPALIVE,
	SINK_PARSE_ERROR,
	SINK_DROPPED,
	SINK_TCP_SLOW,       /* a connection closed: a message too slow to arrive */
	SINK_TCP_OUTPUT,     /* ... closed: its output over the cap (slow reader) */
	SINK_TCP_PER_SOURCE, /* an accept refused: too many from one address */
};

struct sink {
	/* A message (one datagram, or one framed from a stream) from src;
	 * buf is borrowed for the call. flags: SINK_*. */
	void (*message)(void *ctx, const char *buf, size_t len, const struct sip_source *src,
			unsigned flags);
	/* A request that cannot be taken (a stream's framing error): answered
	 * with status when it can be addressed, dropped otherwise. reason NULL:
	 * the standard phrase. */
	void (*reject)(void *ctx, const char *buf, size_t len, const struct sip_source *src,
		       unsigned status, const char *reason);
	void (*count)(void *ctx, enum sink_event ev);
};

#endif
