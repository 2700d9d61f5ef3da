/*
 * nexthop: where a request for a SIP URI goes, per RFC 3263 §4, without
 * blocking: the transport (§4.1: the URI's transport parameter, else NAPTR,
 * else the SRV records of each transport we listen on, else UDP, or TLS
 * for sips), then the port and addresses (§4.2: the URI's port or a
 * numeric host skip SRV; else SRV in RFC 2782 priority and weight order,
 * each target's A/AAAA records; without SRV the host's own). The result
 * is the ordered list §4.3 fails over along: a 503, a transport error or
 * a timeout on one entry moves the request to the next.
 *
 * A numeric host costs a parse and no lookup; answers come from the
 * node's DNS cache when they can (dns.h), so most requests resolve before
 * nexthop_resolve() returns. A request above [sip] udp_mtu bytes that
 * would go over UDP goes over TCP (RFC 3261 §18.1.1), unless that address
 * refused TCP in the last minute.
 */
#ifndef JCT_NEXTHOP_H
#define JCT_NEXTHOP_H

#include "net/dns.h"
#include "net/endpoint.h"
#include "sip/sip_uri.h"

#include <stddef.h>

#define NEXTHOP_MAX 16

struct nexthop_list {
	unsigned n;
	struct sip_dest d[NEXTHOP_MAX];
	/* TCP was chosen for the size alone: over UDP again if TCP is refused */
	bool by_size;
	/* The URI's host when it is a name: what a TLS server's certificate
	 * must name (RFC 5922 §7.2; sip_dest.name); "" for a numeric host. */
	char name[DNS_NAME_MAX];
};

/* The end of a lookup: rc 0 and l (borrowed for the call), or
 * -EHOSTUNREACH (no address we can send to), -ETIMEDOUT / -EIO (DNS
 * failed). */
typedef void (*nexthop_cb)(void *arg, int rc, const struct nexthop_list *l);

/*
 * Resolves u for a message of msg_len bytes (udp_mtu: [sip] udp_mtu, 0:
 * never TCP for size). Returns 0 with *l filled when that needed no wait
 * (cb not called); 1 when DNS is being asked (cb runs later, once, on this
 * worker; the caller keeps arg alive until then; cb NULL: nobody waits,
 * the answer only fills the cache); or, without calling cb,
 * -EPROTONOSUPPORT (a scheme or transport we cannot send on; sips
 * without TLS), -EHOSTUNREACH or -ENOMEM. d may be NULL: names then
 * fail (-EHOSTUNREACH) and numeric hosts work.
 */
int nexthop_resolve(struct dns *d, const struct sip_uri *u, size_t msg_len, unsigned udp_mtu,
		    struct nexthop_list *l, nexthop_cb cb, void *arg);

/* §4.1's first rules: the URI's transport parameter, else TLS for sips,
 * else UDP (which NAPTR or SRV may still change). Returns 0, or
 * -EPROTONOSUPPORT: not sip/sips, a transport we do not know or have no
 * listener for, sips over anything but TLS or WSS. (ws and wss come only
 * from the parameter, and reach only a connection the peer opened.) */
int nexthop_transport(const struct sip_uri *u, enum sip_proto *proto);

/* RFC 2782's order of srv[0..n) in place (base/weighted.h). */
void nexthop_srv_order(struct dns_srv *srv, unsigned n);

#endif
