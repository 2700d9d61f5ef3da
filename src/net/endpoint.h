/*
 * endpoint: where a message came from and where it goes. Plain values,
 * shared by the sockets (udp.c, tcp.c), the transport that picks between
 * them (transport.c) and every layer above that answers or relays.
 */
#ifndef JCT_ENDPOINT_H
#define JCT_ENDPOINT_H

#include "net/netaddr.h"
#include "sip/sip_hdr.h"

#include <stdbool.h>
#include <stdint.h>

/* Where a received message came from: enough to answer it. */
struct sip_source {
	enum sip_proto proto;
	uint16_t listener; /* index of the config listener it arrived on */
	struct netaddr remote;
	uint64_t conn_id; /* stream connection, 0 for UDP */
	/* Came over a connection whose client certificate verified and names
	 * one of [tls] trusted_peers (net/tls.h): a trusted source. */
	bool peer_trusted;
};

/* Where a message goes. */
struct sip_dest {
	enum sip_proto proto;
	struct netaddr addr;
	int listener;     /* listener to send from; -1: the first of the right proto and family */
	uint64_t conn_id; /* stream: try this connection first; 0: find or open one by addr */
	/* TLS: the host name addr was resolved from, which the server's
	 * certificate must name (RFC 5922 §7.2); NULL: addr itself. Borrowed:
	 * whoever keeps a sip_dest keeps the name alive (txn_client.c copies
	 * it). */
	const char *name;
};

#endif
