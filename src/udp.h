/*
 * udp: UDP sockets (RFC 3261 §18 over datagrams).
 *
 * The workers read the sockets themselves (worker.c): a worker woken by a
 * datagram reads a batch with recvmmsg(2) into its udp_reader, copies each
 * message into a job sized to fit and hands it to dispatch, which queues
 * it for the worker that owns its Call-ID (often the reader itself, which
 * then needs no other thread to wake). Sending is a plain sendto(2) on the
 * listener's socket from whichever thread sends, which the kernel
 * serialises.
 */
#ifndef JCT_UDP_H
#define JCT_UDP_H

#include "netaddr.h"

#include <stddef.h>

/* Opens and binds a UDP socket on addr with large buffers. Returns the fd
 * or a negative errno. */
int udp_open(const struct netaddr *addr);

struct udp_reader;

/* A reader's buffers for one batch; max_message bounds one datagram.
 * NULL when out of memory. Owned by the caller: udp_reader_free(); the
 * counters of what it read stay registered (counters_register). */
struct udp_reader *udp_reader_new(size_t max_message);
void udp_reader_free(struct udp_reader *r);

/* Reads what is waiting on fd (listener `index`), one batch at most,
 * without blocking, and dispatches it. Returns how many datagrams were
 * read (0: none waiting). */
unsigned udp_read(struct udp_reader *r, int fd, unsigned index);

/* Sends one datagram. Returns 0 or a negative errno. */
int udp_send(int fd, const struct netaddr *to, const char *buf, size_t len);

#endif
