/*
 * udp: UDP listener threads (RFC 3261 §18 over datagrams).
 *
 * One thread per UDP socket reads batches of datagrams with recvmmsg(2)
 * into its own buffers, copies each message into a job sized to fit and
 * hands it to dispatch. Sending is a plain sendto(2) on the listener's
 * socket from whichever thread sends, which the kernel serialises.
 */
#ifndef JCT_UDP_H
#define JCT_UDP_H

#include "netaddr.h"

#include <pthread.h>
#include <stddef.h>

/* Opens and binds a UDP socket on addr with large buffers. Returns the fd
 * or a negative errno. */
int udp_open(const struct netaddr *addr);

/* Starts the reading thread of listener `index` on fd (borrowed).
 * max_message bounds one datagram. Returns 0 or a negative errno. */
int udp_start(unsigned index, int fd, size_t max_message, pthread_t *thread);

/* Asks every UDP thread to return; they notice within ~200 ms. */
void udp_request_stop(void);

/* Sends one datagram. Returns 0 or a negative errno. */
int udp_send(int fd, const struct netaddr *to, const char *buf, size_t len);

#endif
