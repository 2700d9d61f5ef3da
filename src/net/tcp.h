/*
 * tcp: SIP over TCP (RFC 3261 §18.3), TLS (§26, net/tls.h) and WebSocket
 * (RFC 7118, net/ws.h): listening sockets, the connection table,
 * framing, and non-blocking sends.
 *
 * One epoll thread accepts, reads and frames; every complete message goes
 * to the sink it was started with (the runtime's dispatch) with the
 * connection's id, so the response can go back on the same connection
 * (§18.2.2). Workers send with tcp_send(): it writes
 * what the socket takes at once and queues the rest for the epoll thread,
 * so a slow peer never blocks a worker. Connections are closed after an
 * idle timeout, and accepts beyond the configured limit are refused.
 * CRLFCRLF keep-alive pings are answered with CRLF (RFC 5626 §4.4.1).
 *
 * Against peers that hold resources without using them: a message must
 * arrive whole within message_timeout_s of its first byte (slowloris), a
 * connection whose queued output would pass max_queued (or all queued
 * output max_queued_total) is closed (a peer that does not read), and
 * one IP address may hold at most max_per_source accepted connections.
 */
#ifndef JCT_TCP_H
#define JCT_TCP_H

#include "net/endpoint.h"
#include "net/netaddr.h"
#include "net/sink.h"
#include "sip/sip_msg.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What the TCP thread is told at start ([sip] settings). */
struct tcp_settings {
	struct sip_limits limits;   /* framing caps (§18.3) */
	unsigned max_connections;   /* beyond it, accepts are refused */
	unsigned idle_timeout_s;    /* a connection silent this long is closed */
	unsigned max_per_source;    /* accepted connections open from one IP address */
	unsigned message_timeout_s; /* from a message's first byte to its last */
	uint32_t max_queued;        /* output bytes queued on one connection */
	uint64_t max_queued_total;  /* ... over all connections */
};

/* A listening socket and the listener it belongs to. */
struct tcp_listener_fd {
	int fd; /* borrowed */
	unsigned index;
	enum sip_proto proto;
};

/* Opens a listening socket on addr. Returns the fd or a negative errno. */
int tcp_listen_open(const struct netaddr *addr);

/* Starts the epoll thread for the n listening sockets of l (copied),
 * with settings s (copied), handing what it reads to sink with ctx (both
 * borrowed for the process's life). Returns 0 or a negative errno. */
int tcp_start(const struct tcp_settings *s, const struct sink *sink, void *ctx,
	      const struct tcp_listener_fd *l, unsigned n);

/* Stops the epoll thread (within ~200 ms) and joins it. */
void tcp_stop(void);
/* Closes every connection (after the workers are gone). */
void tcp_close_all(void);

/* Sends on d->conn_id if it is still open, else on a connection to d->addr,
 * opening one from listener d->listener (which the transport chose: an
 * index, never -1) if needed. Never blocks. Returns 0 or a negative
 * errno. */
int tcp_send(const struct sip_dest *d, const char *buf, size_t len);

/* Was a connection to a refused (or never came up) in the last minute?
 * Any thread. */
bool tcp_refused_recently(const struct netaddr *a);

/* Open connections (for monitoring). */
unsigned tcp_connection_count(void);

/* What one stream transport (tcp, tls, ws, wss) did since the start:
 * connections open now, bytes on the wire (ciphertext over TLS), and
 * connections set up (tls: the TLS handshake; ws: the WebSocket upgrade;
 * wss: both) or failing to. */
struct tcp_stats {
	uint64_t connections, bytes_in, bytes_out, handshakes, handshake_failures;
};
void tcp_stats(enum sip_proto p, struct tcp_stats *st);

#endif
