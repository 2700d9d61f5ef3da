/*
 * udp: UDP sockets (RFC 3261 §18 over datagrams).
 *
 * The workers read the sockets themselves (runtime/worker.c): a worker
 * reads a batch with recvmmsg(2) into its udp_reader and hands each
 * message to the reader's sink (the runtime's dispatch, which copies it
 * into a job for the worker that owns its Call-ID: the reader itself, a
 * sleeping worker whose job the reader runs, or the queue of a worker
 * that is awake).
 *
 * Sending: a thread without a send batch sends each datagram with its own
 * sendto(2). A worker holds one (udp_tx_use()): what it sends while it
 * runs a round of jobs waits in the batch and leaves with one sendmmsg(2)
 * per socket when the batch fills, when a message must go now
 * (udp_send()) and when the round ends (udp_tx_flush()). Besides saving a
 * system call per message, this keeps the receiver from being woken once
 * per answer: on a busy machine each wake-up can preempt the sender, and
 * the rest of the round's answers then left one per time slice.
 */
#ifndef JCT_UDP_H
#define JCT_UDP_H

#include "net/netaddr.h"
#include "net/sink.h"

#include <stddef.h>

/* Opens and binds a UDP socket on addr with large buffers. Returns the fd
 * or a negative errno. */
int udp_open(const struct netaddr *addr);

struct udp_reader;

/* The most datagrams one udp_read() takes from a socket. */
#define UDP_READ_BATCH 32

/* A reader's buffers for one batch; max_message bounds one datagram; what
 * it reads goes to sink with ctx (both borrowed). NULL when out of memory.
 * Owned by the caller: udp_reader_free(). */
struct udp_reader *udp_reader_new(size_t max_message, const struct sink *sink, void *ctx);
void udp_reader_free(struct udp_reader *r);

/* Reads what is waiting on fd (listener `index`), one batch at most,
 * without blocking, and dispatches it. Returns how many datagrams were
 * read (0: none waiting). */
unsigned udp_read(struct udp_reader *r, int fd, unsigned index);

/* Sends one datagram now, after what this thread's batch holds (so the
 * order stays). Returns 0 or a negative errno. */
int udp_send(int fd, const struct netaddr *to, const char *buf, size_t len);

/* Sends one datagram when this thread's batch leaves (now when the thread
 * has none). buf is copied. Returns 0 or a negative errno known at once;
 * a later failure is counted by udp_tx_flush(). */
int udp_send_later(int fd, const struct netaddr *to, const char *buf, size_t len);

struct udp_tx;

/* A send batch, owned by the caller: udp_tx_free(). NULL when out of
 * memory. */
struct udp_tx *udp_tx_new(void);
/* Sends what t still holds, then frees it. */
void udp_tx_free(struct udp_tx *t);
/* Makes t (borrowed; NULL: none) the calling thread's send batch. */
void udp_tx_use(struct udp_tx *t);
/* Sends what the calling thread's batch holds. Returns how many of the
 * messages given to udp_send_later() failed since the last call. */
unsigned udp_tx_flush(void);

#endif
