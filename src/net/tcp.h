/*
 * tcp: SIP over TCP (RFC 3261 §18.3): listening sockets, the connection
 * table, framing by Content-Length, and non-blocking sends.
 *
 * One epoll thread accepts, reads and frames; every complete message goes
 * to dispatch with the connection's id, so the response can go back on
 * the same connection (§18.2.2). Workers send with tcp_send(): it writes
 * what the socket takes at once and queues the rest for the epoll thread,
 * so a slow peer never blocks a worker. Connections are closed after an
 * idle timeout, and accepts beyond the configured limit are refused.
 * CRLFCRLF keep-alive pings are answered with CRLF (RFC 5626 §4.4.1).
 */
#ifndef JCT_TCP_H
#define JCT_TCP_H

#include "net/transport.h"

#include <stddef.h>

struct config;

/* Opens a listening socket on addr. Returns the fd or a negative errno. */
int tcp_listen_open(const struct netaddr *addr);

/* Starts the epoll thread for the listening fds (borrowed) of the given
 * listener indexes. Returns 0 or a negative errno. */
int tcp_start(const struct config *cfg, const int *fds, const unsigned *listeners, unsigned n);

/* Stops the epoll thread (within ~200 ms) and joins it. */
void tcp_stop(void);
/* Closes every connection (after the workers are gone). */
void tcp_close_all(void);

/* Sends on d->conn_id if it is still open, else on a connection to d->addr,
 * opening one if needed. Never blocks. Returns 0 or a negative errno. */
int tcp_send(const struct sip_dest *d, const char *buf, size_t len);

/* Open connections (for monitoring). */
unsigned tcp_connection_count(void);

#endif
