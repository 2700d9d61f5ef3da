/*
 * self: see self.h. The lists are tiny (a few listeners, a few interface
 * addresses), so membership is a linear scan with numeric comparison: a
 * host is parsed as an address once and compared as bytes, never as text.
 */
#include "proxy/self.h"

#include "base/log.h"
#include "config/config.h"

#include <errno.h>
#include <ifaddrs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SELF_MAX_ADDRS 64

static const struct config *scfg;
static char hostports[CFG_MAX_LISTEN][CFG_NAME_MAX + 8];
/* Concrete local addresses (port 0) when a listener is a wildcard. */
static struct netaddr ifaddrs_list[SELF_MAX_ADDRS];
static unsigned nifaddrs;
static struct sip_str adv_host;
static uint16_t adv_port;
static struct sip_str cluster_host; /* [cluster] record_route */
static uint16_t cluster_port;

static uint16_t default_port(enum sip_proto p)
{
	return p == SIP_PROTO_TLS ? 5061 : 5060;
}

static void load_interfaces(void)
{
	struct ifaddrs *ifa, *i;

	if (getifaddrs(&ifa) < 0)
		return;
	for (i = ifa; i && nifaddrs < SELF_MAX_ADDRS; i = i->ifa_next) {
		struct netaddr *a = &ifaddrs_list[nifaddrs];

		if (!i->ifa_addr)
			continue;
		if (i->ifa_addr->sa_family == AF_INET) {
			memcpy(&a->u.in, i->ifa_addr, sizeof(a->u.in));
			a->len = sizeof(a->u.in);
		} else if (i->ifa_addr->sa_family == AF_INET6) {
			memcpy(&a->u.in6, i->ifa_addr, sizeof(a->u.in6));
			a->len = sizeof(a->u.in6);
		} else {
			continue;
		}
		nifaddrs++;
	}
	freeifaddrs(ifa);
}

/* "host", "host:port", "[v6]" or "[v6]:port" (validated by config). */
static void split_hostport(const char *a, struct sip_str *host, uint16_t *port)
{
	const char *end = a[0] == '[' ? strchr(a, ']') : a;
	const char *colon = end ? strchr(end, ':') : NULL;

	*host = SIP_STR_NULL;
	*port = 0;
	if (!a[0])
		return;
	if (colon) {
		*host = sip_str_make(a, (size_t)(colon - a));
		*port = (uint16_t)strtoul(colon + 1, NULL, 10);
	} else {
		*host = sip_str_cstr(a);
	}
}

int self_init(const struct config *cfg)
{
	bool wildcard = false;

	scfg = cfg;
	split_hostport(cfg->sip.advertise, &adv_host, &adv_port);
	split_hostport(cfg->cluster.record_route, &cluster_host, &cluster_port);
	for (unsigned i = 0; i < cfg->sip.nlisten; i++) {
		const struct transport_listen *l = &cfg->sip.listen[i];
		uint16_t port = netaddr_port(&l->addr);

		if (netaddr_is_any(&l->addr))
			wildcard = true;
		if (adv_host.len)
			snprintf(hostports[i], sizeof(hostports[i]), "%.*s:%u",
				 SIP_STR_FMT(adv_host), adv_port ? adv_port : port);
		else
			netaddr_format(&l->addr, hostports[i], sizeof(hostports[i]));
	}
	if (wildcard) {
		if (!adv_host.len) {
			log_error("event=config_error error=\"a listener on a wildcard address "
				  "needs [sip] advertise (the address to put in Via and "
				  "Record-Route)\"");
			return -EINVAL;
		}
		load_interfaces();
	}
	return 0;
}

const char *self_hostport(unsigned listener)
{
	return hostports[listener];
}

const char *self_rr_hostport(unsigned listener)
{
	return scfg->cluster.record_route[0] ? scfg->cluster.record_route : hostports[listener];
}

/* Does a (port ignored) equal one of our addresses, counting interface
 * addresses for wildcard listeners, with the given port and proto? */
static bool addr_is_ours(const struct netaddr *a, uint16_t port, enum sip_proto proto)
{
	for (unsigned i = 0; i < scfg->sip.nlisten; i++) {
		const struct transport_listen *l = &scfg->sip.listen[i];

		if (netaddr_port(&l->addr) != port)
			continue;
		if (proto != SIP_PROTO__COUNT && l->proto != proto &&
		    !(sip_proto_is_stream(proto) && sip_proto_is_stream(l->proto)))
			continue;
		if (netaddr_equal_host(&l->addr, a))
			return true;
		if (netaddr_is_any(&l->addr))
			for (unsigned k = 0; k < nifaddrs; k++)
				if (netaddr_equal_host(&ifaddrs_list[k], a))
					return true;
	}
	return false;
}

static bool port_is_ours(uint16_t port)
{
	for (unsigned i = 0; i < scfg->sip.nlisten; i++)
		if (netaddr_port(&scfg->sip.listen[i].addr) == port)
			return true;
	return adv_port && adv_port == port;
}

bool self_is_local_address(struct sip_str host, uint16_t port, enum sip_proto proto)
{
	struct netaddr a;

	if (port == 0)
		port = default_port(proto == SIP_PROTO__COUNT ? SIP_PROTO_UDP : proto);
	if (adv_host.len && sip_str_caseeq(host, adv_host) &&
	    (adv_port ? adv_port == port : port_is_ours(port)))
		return true;
	/* The cluster's name is every node's (its Record-Route); without a
	 * port it is found by DNS (RFC 3263), at whatever port. */
	if (cluster_host.len && sip_str_caseeq(host, cluster_host) &&
	    (!cluster_port || cluster_port == port))
		return true;
	if (netaddr_from_host(host, port, &a) < 0)
		return false;
	/* Any transport: a URI without transport= may name our UDP and TCP
	 * listeners alike. */
	return addr_is_ours(&a, port, SIP_PROTO__COUNT);
}

bool self_is_local_uri(const struct sip_uri *u)
{
	enum sip_proto proto = SIP_PROTO__COUNT;
	uint16_t port = u->port;

	if (u->scheme != SIP_URI_SIP && u->scheme != SIP_URI_SIPS)
		return false;
	if (u->has_user)
		return false;
	if (port == 0)
		port = sip_uri_default_port(u);
	if (u->transport.len)
		(void)sip_proto_parse(u->transport, &proto);
	if (self_is_local_address(u->host, port, proto))
		return true;
	return config_is_domain(scfg, u->host) && (u->port == 0 || port_is_ours(u->port));
}

bool self_is_rr_uri(const struct sip_uri *u)
{
	enum sip_proto proto = SIP_PROTO__COUNT;

	if ((u->scheme != SIP_URI_SIP && u->scheme != SIP_URI_SIPS) || u->has_user)
		return false;
	if (u->transport.len)
		(void)sip_proto_parse(u->transport, &proto);
	return self_is_local_address(u->host, u->port ? u->port : sip_uri_default_port(u), proto);
}

bool self_is_our_via(const struct sip_via *v)
{
	enum sip_proto p;

	if (sip_proto_parse(v->transport, &p) < 0)
		return false;
	return self_is_local_address(v->host, v->port, p);
}

bool self_is_listening_on(const struct netaddr *a, enum sip_proto proto)
{
	return addr_is_ours(a, netaddr_port(a), proto);
}
