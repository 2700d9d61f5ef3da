/*
 * resolve: the next hop of a URI, waiting for getaddrinfo(3) (see
 * resolve.h): for the threads that may block, never a worker. Only
 * families we have a listener for are kept: an answer we cannot send to
 * is no answer.
 */
#include "net/resolve.h"

#include "net/nexthop.h"
#include "net/tcp.h"

#include <errno.h>
#include <netdb.h>
#include <string.h>

int resolve_host(struct sip_str host, uint16_t port, enum sip_proto proto, struct sip_dest *d)
{
	struct addrinfo hints, *res = NULL, *ai;
	char name[256];
	int rc = -EHOSTUNREACH;

	memset(d, 0, sizeof(*d));
	d->proto = proto;
	d->listener = -1;
	if (netaddr_from_host(host, port, &d->addr) == 0)
		return transport_pick_listener(proto, netaddr_family(&d->addr), -1) >= 0
			       ? 0
			       : -EPROTONOSUPPORT;
	if (host.len == 0 || host.len >= sizeof(name) || host.p[0] == '[')
		return -EHOSTUNREACH;
	sip_str_to_cstr(host, name, sizeof(name));
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = proto == SIP_PROTO_UDP ? SOCK_DGRAM : SOCK_STREAM;
	hints.ai_flags = AI_ADDRCONFIG;
	if (getaddrinfo(name, NULL, &hints, &res) != 0)
		return -EHOSTUNREACH;
	/* The first address of a family we have a listener for. */
	for (ai = res; ai; ai = ai->ai_next) {
		if (transport_pick_listener(proto, ai->ai_family, -1) < 0)
			continue;
		if (ai->ai_addrlen > sizeof(d->addr.u))
			continue;
		memcpy(&d->addr.u, ai->ai_addr, ai->ai_addrlen);
		d->addr.len = ai->ai_addrlen;
		netaddr_set_port(&d->addr, port);
		rc = 0;
		break;
	}
	freeaddrinfo(res);
	return rc;
}

int resolve_uri(const struct sip_uri *u, size_t msg_len, unsigned udp_mtu, struct sip_dest *d)
{
	enum sip_proto proto;
	struct sip_str host;
	bool by_size = false;
	int rc;

	rc = nexthop_transport(u, &proto);
	if (rc < 0)
		return rc;
	if (proto == SIP_PROTO_UDP && !u->transport.len && udp_mtu && msg_len > udp_mtu &&
	    transport_has_proto(SIP_PROTO_TCP)) {
		proto = SIP_PROTO_TCP;
		by_size = true;
	}
	host = u->maddr.len ? u->maddr : u->host;
	rc = resolve_host(host, u->port ? u->port : sip_uri_default_port(u), proto, d);
	if (rc == 0 && by_size && tcp_refused_recently(&d->addr)) {
		/* It refused TCP a moment ago: UDP at once (§18.1.1) */
		proto = SIP_PROTO_UDP;
		by_size = false;
		rc = resolve_host(host, u->port ? u->port : sip_uri_default_port(u), proto, d);
	}
	return rc == 0 && by_size ? 1 : rc;
}
