/*
 * self: what addresses and names are this node. Answers "is this URI,
 * Route or Via us?" (RFC 3261 §16.4: a Route value or Request-URI this
 * proxy placed; §16.7: a Via this proxy added) and gives the host:port to
 * write into our own Via and Record-Route for each listener.
 *
 * Built once at start from the config and the interface list (a listener
 * on 0.0.0.0 or :: is every local address), then read-only.
 */
#ifndef JCT_SELF_H
#define JCT_SELF_H

#include "net/netaddr.h"
#include "sip/sip_hdr.h"
#include "sip/sip_uri.h"

#include <stdbool.h>

struct config;

/* Returns 0 or -EINVAL (logged: a wildcard listener without advertise). */
int self_init(const struct config *cfg);

/* "127.0.0.1:5060", "[::1]:5060" or the advertised name, for listener i. */
const char *self_hostport(unsigned listener);

/* What Record-Route names for listener i: [cluster] record_route, the
 * name of every node, when set (so a dialog survives its node); else
 * self_hostport(i). */
const char *self_rr_hostport(unsigned listener);

/* Is host:port (port 0: the default for proto) one of our listening
 * addresses, the advertised name or the cluster's name? Served domains are not included. */
bool self_is_local_address(struct sip_str host, uint16_t port, enum sip_proto proto);

/* Is u a URI of this proxy itself: no user part, and host:port a local
 * address, the advertised name or a served domain (RFC 3261 §16.4)? */
bool self_is_local_uri(const struct sip_uri *u);

/* Is u a URI this proxy could have put in a Record-Route: no user part
 * and host:port one of its own addresses (served domains do not count)? */
bool self_is_rr_uri(const struct sip_uri *u);

/* Is the Via one this node added? */
bool self_is_our_via(const struct sip_via *v);

/* Is the resolved address one of our own listening sockets (a request
 * sent there would come straight back)? */
bool self_is_listening_on(const struct netaddr *a, enum sip_proto proto);

#endif
