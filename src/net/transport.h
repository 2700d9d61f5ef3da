/*
 * transport: where a message came from and where it goes (RFC 3261 §18).
 *
 * transport_open() binds every configured listener before any thread runs
 * (so a bad address fails the start, not a thread); transport_start()
 * starts the TCP thread (tcp.c); the workers read the UDP sockets
 * themselves (udp.c, transport_udp_sockets()). Both hand each received
 * message to dispatch.c. Workers send with transport_send(), which never
 * blocks: UDP is one sendto(2); TCP writes what the socket takes and
 * leaves the rest to the TCP thread. What nobody waits on the result of
 * (responses, retransmissions) goes with transport_send_later(): over
 * UDP it joins the sending thread's batch (udp.c).
 */
#ifndef JCT_TRANSPORT_H
#define JCT_TRANSPORT_H

#include "net/endpoint.h"
#include "net/netaddr.h"
#include "net/sink.h"
#include "net/tcp.h"
#include "sip/sip_hdr.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TRANSPORT_MAX_LISTEN 16

/* A listener as configured ([sip] listen). */
struct transport_listen {
	enum sip_proto proto;
	struct netaddr addr;
	char text[NETADDR_STRLEN + 8]; /* "udp:127.0.0.1:5060" as configured */
};

/* Binds the n listeners of l (copied). Returns 0 or a negative errno
 * (logged with the listener that failed). */
int transport_open(const struct transport_listen *l, unsigned n);
/* Starts the TCP thread with settings ts (copied), handing what it reads
 * to sink with ctx (both borrowed for the process's life). Returns 0 or a
 * negative errno. */
int transport_start(const struct tcp_settings *ts, const struct sink *sink, void *ctx);
/* Stops reading TCP (the thread exits within ~200 ms) and joins it.
 * Sending keeps working until transport_close(). */
void transport_stop(void);
/* The UDP sockets (borrowed) and their listener indexes, at most max;
 * returns how many. */
unsigned transport_udp_sockets(int *fds, unsigned *index, unsigned max);
/* Closes every socket and connection. */
void transport_close(void);

/* Number of listeners and their config entries. */
unsigned transport_listener_count(void);
/* The listener of proto whose address family matches family (AF_INET or
 * AF_INET6), preferring `prefer` when it qualifies; -1 when none. */
int transport_pick_listener(enum sip_proto proto, int family, int prefer);
/* Protocol of listener i. */
enum sip_proto transport_listener_proto(unsigned i);
/* Is there a listener for proto at all? */
bool transport_has_proto(enum sip_proto proto);

/* Sends buf[0..len) to d, never blocking. Returns 0 or a negative errno
 * (-EAFNOSUPPORT: no listener of that kind; -ECONNRESET: the connection
 * is gone; -ENOBUFS: its output buffer is full). */
int transport_send(const struct sip_dest *d, const char *buf, size_t len);
/* The same, but a UDP datagram may wait in the thread's send batch
 * (udp_send_later()): buf is copied, and a failure found when the batch
 * leaves is counted there, not returned. */
int transport_send_later(const struct sip_dest *d, const char *buf, size_t len);

/*
 * What a server transport adds to the top Via of a request it received
 * (RFC 3261 §18.2.1, RFC 3581 §4): rport gets the source port when it came
 * without a value, and received the source address when it differs from
 * sent-by or rport was asked for. rport_at is where in the Via the
 * "=PORT" text goes (NULL: nothing); received_text goes at the end of
 * the Via value ("" when nothing).
 */
struct via_stamp {
	const char *rport_at;
	char rport_text[8];
	char received_text[NETADDR_STRLEN + 12];
};
void transport_via_stamp(const struct sip_via *v, const struct sip_source *src,
			 struct via_stamp *st);

/*
 * Where a response goes (RFC 3261 §18.2.2, RFC 3581 §4): from the Via
 * value it is addressed to. src is the source of the request when we are
 * answering a request we received (the response goes back on its
 * connection), NULL when relaying a response statelessly. Numeric hosts
 * only: a sent-by name is resolved with resolve.c. Returns 0 or -EINVAL /
 * -EHOSTUNREACH when no address can be derived.
 */
int transport_response_dest(const struct sip_via *via, const struct sip_source *src,
			    struct sip_dest *d);

#endif
