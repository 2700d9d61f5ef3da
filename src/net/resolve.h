/*
 * resolve: the next hop for a URI for threads that are not workers and
 * may wait (the Session Controller pool's loader): transport as
 * nexthop_transport() says, or TCP for a message over [sip] udp_mtu bytes
 * (RFC 3261 §18.1.1) unless that address refused TCP in the last minute
 * (tcp.h); host from maddr or the host part; port or the transport's
 * default; a name through getaddrinfo(3), which blocks. Workers resolve
 * with nexthop.h (RFC 3263 in full, without blocking).
 */
#ifndef JCT_RESOLVE_H
#define JCT_RESOLVE_H

#include "net/transport.h"
#include "sip/sip_uri.h"

#include <stddef.h>

/* Fills d for sending a message of msg_len bytes to u; a UDP target gets
 * TCP when msg_len exceeds udp_mtu (0: never). Returns 0; 1 when TCP was
 * chosen for the size alone, so the caller should retry over UDP if TCP
 * is refused (§18.1.1); or -EPROTONOSUPPORT (transport we have no
 * listener for), -EHOSTUNREACH (name does not resolve to a family we can
 * send on). */
int resolve_uri(const struct sip_uri *u, size_t msg_len, unsigned udp_mtu, struct sip_dest *d);

/* host (name or numeric, IPv6 with or without brackets) and port for proto. */
int resolve_host(struct sip_str host, uint16_t port, enum sip_proto proto, struct sip_dest *d);

#endif
