/*
 * netaddr: socket addresses (IPv4 and IPv6) and SIP transports, as plain
 * values that can be copied, compared, hashed and printed. Parsing here is
 * numeric only (no DNS); name resolution belongs to resolve.c.
 */
#ifndef JCT_NETADDR_H
#define JCT_NETADDR_H

#include "sip/sip_str.h"

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

/* WS and WSS: SIP over WebSocket (RFC 7118), in the clear and over TLS. */
enum sip_proto {
	SIP_PROTO_UDP = 0,
	SIP_PROTO_TCP,
	SIP_PROTO_TLS,
	SIP_PROTO_WS,
	SIP_PROTO_WSS,
	SIP_PROTO__COUNT
};

struct netaddr {
	union {
		struct sockaddr sa;
		struct sockaddr_in in;
		struct sockaddr_in6 in6;
	} u;
	socklen_t len;
};

/* Longest text netaddr_format() writes: "[v6]:65535" and a NUL. */
#define NETADDR_STRLEN 56

/* "udp" / "tcp" / "tls" / "ws" / "wss" (case-insensitive) -> proto.
 * Returns 0 or -EINVAL. */
int sip_proto_parse(struct sip_str s, enum sip_proto *out);
/* "udp", "tcp", "tls", "ws", "wss" */
const char *sip_proto_name(enum sip_proto p);
/* "UDP", "TCP", "TLS", "WS", "WSS": the Via transport token. */
const char *sip_proto_via_name(enum sip_proto p);
/* Stream transports keep a connection (RFC 3261 §18). */
static inline bool sip_proto_is_stream(enum sip_proto p)
{
	return p != SIP_PROTO_UDP;
}
/* Over TLS: what a sips URI may travel on (RFC 3261 §26.2, RFC 5630). */
static inline bool sip_proto_is_secure(enum sip_proto p)
{
	return p == SIP_PROTO_TLS || p == SIP_PROTO_WSS;
}
/* WebSocket: a message per frame (RFC 7118 §5.1), and a connection only
 * the client opens: we never connect to a WebSocket peer. */
static inline bool sip_proto_is_ws(enum sip_proto p)
{
	return p == SIP_PROTO_WS || p == SIP_PROTO_WSS;
}
/* Framed by Content-Length, which is therefore required (§18.3, §20.14). */
static inline bool sip_proto_framed_by_length(enum sip_proto p)
{
	return p == SIP_PROTO_TCP || p == SIP_PROTO_TLS;
}

/* "1.2.3.4:5060" or "[::1]:5060" (port required). Returns 0 or -EINVAL. */
int netaddr_parse(const char *s, struct netaddr *a);
/* Numeric host ("1.2.3.4", "::1" or "[::1]") and port. Returns 0 or
 * -EINVAL when host is not a numeric address. */
int netaddr_from_host(struct sip_str host, uint16_t port, struct netaddr *a);

/* "1.2.3.4:5060" / "[::1]:5060" into buf; returns the length. */
size_t netaddr_format(const struct netaddr *a, char *buf, size_t cap);
/* The host alone: "1.2.3.4" or, with brackets when bracket is set, "[::1]". */
size_t netaddr_format_host(const struct netaddr *a, char *buf, size_t cap, bool bracket);

uint16_t netaddr_port(const struct netaddr *a);
void netaddr_set_port(struct netaddr *a, uint16_t port);
int netaddr_family(const struct netaddr *a);
bool netaddr_is_any(const struct netaddr *a);
/* Same family, address and port. */
bool netaddr_equal(const struct netaddr *a, const struct netaddr *b);
/* Same family and address, any port. */
bool netaddr_equal_host(const struct netaddr *a, const struct netaddr *b);
uint64_t netaddr_hash(const struct netaddr *a);

/* The host of a as one value: its family (AF_INET, or AF_INET6; an
 * IPv4-mapped IPv6 address is the IPv4 host it maps) with its 4 or 16
 * bytes at the start of out (the rest zero). 0 for neither family. For
 * whatever counts or matches hosts (bans, address blocks, nonce scopes). */
int netaddr_host_key(const struct netaddr *a, uint8_t out[16]);

/* An address block: "10.0.0.0/8", "2001:db8::/32", or one address (all
 * its bits). IPv4 blocks also match IPv4-mapped IPv6 sources. */
struct netaddr_prefix {
	uint8_t family; /* AF_INET or AF_INET6 */
	uint8_t bits;
	uint8_t addr[16]; /* network order, bits past the prefix zero */
};

/* s[0..len) -> *p. Returns 0, or -EINVAL (bad address, bits past the
 * family's width, or host bits set below the prefix). */
int netaddr_prefix_parse(const char *s, size_t len, struct netaddr_prefix *p);
/* Is a's host inside block p? */
bool netaddr_prefix_match(const struct netaddr_prefix *p, const struct netaddr *a);
/* "10.0.0.0/8" into buf; returns the length. */
size_t netaddr_prefix_format(const struct netaddr_prefix *p, char *buf, size_t cap);

#endif
