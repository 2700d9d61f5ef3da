/*
 * resolve: the next hop for a URI (RFC 3263 §4, without NAPTR/SRV yet):
 * transport from the transport parameter or the sips scheme, else UDP, or
 * TCP for a message over 1300 bytes (RFC 3261 §18.1.1); host from maddr
 * or the host part; port or the transport's default. Numeric hosts cost
 * nothing; names go through getaddrinfo(3), which may block the calling
 * worker, so production routes should use addresses or a local resolver.
 */
#ifndef JCT_RESOLVE_H
#define JCT_RESOLVE_H

#include "sip_uri.h"
#include "transport.h"

#include <stddef.h>

/* Fills d for sending a message of msg_len bytes to u. Returns 0, or
 * -EPROTONOSUPPORT (transport we have no listener for), -EHOSTUNREACH
 * (name does not resolve to a family we can send on). */
int resolve_uri(const struct sip_uri *u, size_t msg_len, struct sip_dest *d);

/* host (name or numeric, IPv6 with or without brackets) and port for proto. */
int resolve_host(struct sip_str host, uint16_t port, enum sip_proto proto, struct sip_dest *d);

#endif
