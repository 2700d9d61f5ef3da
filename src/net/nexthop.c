/*
 * nexthop: RFC 3263 §4 over the worker's resolver (see nexthop.h).
 *
 * A resolution is a small state machine (struct nx) whose phases each
 * send their lookups at once and continue when the last has answered:
 * NAPTR, then the SRV of the chosen NAPTR record (or the SRV of every
 * transport we listen on, in our order of preference), then the A/AAAA
 * records of every SRV target in parallel. A phase holds one count of
 * its own while it sends, so that answers from the cache, which arrive
 * inside dns_lookup(), cannot end it before the last lookup is sent.
 */
#include "net/nexthop.h"

#include "base/weighted.h"
#include "net/tcp.h"
#include "net/transport.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Addresses kept per name (one SRV target or the host). */
#define NX_ADDRS 4

enum nx_phase { NX_NAPTR, NX_SRV_CAND, NX_SRV_PROBE, NX_ADDRS_PHASE };

struct nx;

struct nx_slot {
	struct nx *x;
	char name[DNS_NAME_MAX];
	uint16_t port;
	unsigned n;
	struct netaddr a[2 * NX_ADDRS];
};

struct nx_probe {
	struct nx *x;
	enum sip_proto proto;
	unsigned n;
	struct dns_srv srv[DNS_MAX_RECORDS];
};

struct nx_cand {
	enum sip_proto proto;
	uint16_t order, pref;
	char name[DNS_NAME_MAX];
};

struct nx {
	struct dns *d;
	nexthop_cb cb;
	void *arg;
	bool sync; /* still inside nexthop_resolve() */
	bool done;
	int rc;
	int dns_err; /* the last lookup that failed (-ETIMEDOUT, -EIO), 0: none */
	struct nexthop_list out;
	char host[DNS_NAME_MAX];
	uint16_t port; /* the URI's, 0: none */
	bool sips, proto_fixed;
	enum sip_proto proto;
	size_t msg_len;
	unsigned udp_mtu;
	enum nx_phase phase;
	unsigned waiting;
	struct nx_cand cand[DNS_MAX_RECORDS];
	unsigned ncand, cand_i;
	struct nx_probe probe[SIP_PROTO__COUNT];
	unsigned nprobe;
	struct nx_slot slot[DNS_MAX_RECORDS];
	unsigned nslots;
};

static void advance(struct nx *x);

/* ---- RFC 2782 ordering ----------------------------------------------------- */

static int by_priority(const void *a, const void *b)
{
	const struct dns_srv *x = a, *y = b;

	return x->priority < y->priority ? -1 : x->priority > y->priority;
}

void nexthop_srv_order(struct dns_srv *srv, unsigned n)
{
	uint32_t prio[DNS_MAX_RECORDS], weight[DNS_MAX_RECORDS];
	unsigned order[DNS_MAX_RECORDS];
	struct dns_srv in[DNS_MAX_RECORDS];

	if (n > DNS_MAX_RECORDS)
		n = DNS_MAX_RECORDS;
	qsort(srv, n, sizeof(*srv), by_priority);
	for (unsigned i = 0; i < n; i++) {
		prio[i] = srv[i].priority;
		weight[i] = srv[i].weight;
	}
	weighted_order(prio, weight, n, order);
	memcpy(in, srv, n * sizeof(*srv));
	for (unsigned i = 0; i < n; i++)
		srv[i] = in[order[i]];
}

/* ---- the end ----------------------------------------------------------------- */

static bool can_send(enum sip_proto p, int family)
{
	return transport_pick_listener(p, family, -1) >= 0;
}

/* Would a message of msg_len bytes over proto (fixed: by the URI) go
 * over TCP for its size (RFC 3261 §18.1.1)? */
static bool too_big(enum sip_proto proto, bool fixed, size_t msg_len, unsigned udp_mtu)
{
	return proto == SIP_PROTO_UDP && !fixed && udp_mtu && msg_len > udp_mtu &&
	       transport_has_proto(SIP_PROTO_TCP);
}

/* Appends addr:port over proto to l when we can send there; over TCP
 * when big, unless that address just refused TCP. */
static void add_dest(struct nexthop_list *l, enum sip_proto proto, const struct netaddr *addr,
		     uint16_t port, bool big)
{
	struct sip_dest *d = &l->d[l->n];

	if (l->n == NEXTHOP_MAX || !can_send(proto, netaddr_family(addr)))
		return;
	memset(d, 0, sizeof(*d));
	d->proto = proto;
	d->addr = *addr;
	netaddr_set_port(&d->addr, port);
	d->listener = -1;
	if (big && !tcp_refused_recently(&d->addr) &&
	    can_send(SIP_PROTO_TCP, netaddr_family(&d->addr))) {
		d->proto = SIP_PROTO_TCP;
		l->by_size = true;
	}
	l->n++;
}

static void finish(struct nx *x)
{
	struct nexthop_list *l = &x->out;
	bool big = too_big(x->proto, x->proto_fixed, x->msg_len, x->udp_mtu);

	for (unsigned s = 0; s < x->nslots; s++)
		for (unsigned i = 0; i < x->slot[s].n; i++)
			add_dest(l, x->proto, &x->slot[s].a[i], x->slot[s].port, big);
	x->rc = l->n ? 0 : x->dns_err ? x->dns_err : -EHOSTUNREACH;
	x->done = true;
	if (x->sync)
		return; /* nexthop_resolve() hands it over */
	if (x->cb)
		x->cb(x->arg, x->rc, x->rc ? NULL : l);
	free(x);
}

/* One lookup of the phase answered. */
static void answered(struct nx *x)
{
	if (--x->waiting == 0)
		advance(x);
}

static void note_failure(struct nx *x, const struct dns_answer *a)
{
	if (a->status == -ETIMEDOUT || a->status == -EIO)
		x->dns_err = a->status;
}

/* ---- addresses (§4.2) ---------------------------------------------------------- */

static void on_addr(void *arg, const struct dns_answer *a)
{
	struct nx_slot *s = arg;

	note_failure(s->x, a);
	for (unsigned i = 0; a->status == 0 && i < a->n && i < NX_ADDRS; i++)
		s->a[s->n++] = a->r.addr[i];
	answered(s->x);
}

/* Looks up the addresses of every slot (A and/or AAAA, as we have
 * listeners); a numeric name needs none. */
static void lookup_addrs(struct nx *x)
{
	x->phase = NX_ADDRS_PHASE;
	x->waiting = 1;
	for (unsigned i = 0; i < x->nslots; i++) {
		struct nx_slot *s = &x->slot[i];
		struct netaddr na;

		s->x = x;
		if (netaddr_from_host(sip_str_make(s->name, strlen(s->name)), 0, &na) == 0) {
			s->a[s->n++] = na;
			continue;
		}
		if (can_send(x->proto, AF_INET)) {
			x->waiting++;
			if (dns_lookup(x->d, s->name, DNS_A, on_addr, s) < 0)
				x->waiting--;
		}
		if (can_send(x->proto, AF_INET6)) {
			x->waiting++;
			if (dns_lookup(x->d, s->name, DNS_AAAA, on_addr, s) < 0)
				x->waiting--;
		}
	}
	answered(x);
}

/* Without SRV: the host itself on the URI's port or the default. */
static void host_addrs(struct nx *x)
{
	struct nx_slot *s = &x->slot[0];

	x->nslots = 1;
	memcpy(s->name, x->host, sizeof(s->name));
	s->port = x->port ? x->port : x->proto == SIP_PROTO_TLS ? 5061 : 5060;
	lookup_addrs(x);
}

/* An SRV answer chosen: its targets, in RFC 2782 order. */
static void srv_targets(struct nx *x, struct dns_srv *srv, unsigned n)
{
	nexthop_srv_order(srv, n);
	x->nslots = 0;
	for (unsigned i = 0; i < n; i++) {
		struct nx_slot *s;

		/* "." : the service is decidedly not available (RFC 2782) */
		if (!srv[i].target[0] || strcmp(srv[i].target, ".") == 0)
			continue;
		s = &x->slot[x->nslots++];
		memcpy(s->name, srv[i].target, sizeof(s->name));
		s->port = srv[i].port;
	}
	if (!x->nslots) {
		finish(x);
		return;
	}
	lookup_addrs(x);
}

/* ---- SRV (§4.1, §4.2) ------------------------------------------------------------- */

static const char *srv_prefix(enum sip_proto p)
{
	return p == SIP_PROTO_TLS   ? "_sips._tcp."
	       : p == SIP_PROTO_TCP ? "_sip._tcp."
				    : "_sip._udp.";
}

static void on_srv(void *arg, const struct dns_answer *a)
{
	struct nx_probe *p = arg;

	note_failure(p->x, a);
	p->n = 0;
	for (unsigned i = 0; a->status == 0 && i < a->n; i++)
		p->srv[p->n++] = a->r.srv[i];
	answered(p->x);
}

static void lookup_srv(struct nx *x, struct nx_probe *p, const char *name)
{
	p->x = x;
	p->n = 0;
	x->waiting++;
	if (dns_lookup(x->d, name, DNS_SRV, on_srv, p) < 0)
		x->waiting--;
}

/* The SRV records of every transport we could use, in our preference. */
static void probe_srv(struct nx *x)
{
	static const enum sip_proto order[] = {SIP_PROTO_UDP, SIP_PROTO_TCP, SIP_PROTO_TLS};

	x->phase = NX_SRV_PROBE;
	x->waiting = 1;
	x->nprobe = 0;
	for (unsigned i = 0; i < 3; i++) {
		enum sip_proto p = order[i];
		char name[DNS_NAME_MAX + 16];

		if ((x->sips && p != SIP_PROTO_TLS) || (x->proto_fixed && p != x->proto) ||
		    !transport_has_proto(p))
			continue;
		snprintf(name, sizeof(name), "%s%s", srv_prefix(p), x->host);
		x->probe[x->nprobe].proto = p;
		lookup_srv(x, &x->probe[x->nprobe++], name);
	}
	answered(x);
}

/* The SRV of NAPTR candidate cand_i. */
static void srv_of_candidate(struct nx *x)
{
	x->phase = NX_SRV_CAND;
	x->waiting = 1;
	x->probe[0].proto = x->cand[x->cand_i].proto;
	lookup_srv(x, &x->probe[0], x->cand[x->cand_i].name);
	answered(x);
}

/* ---- NAPTR (§4.1) ---------------------------------------------------------------- */

static int by_order(const void *a, const void *b)
{
	const struct nx_cand *x = a, *y = b;

	if (x->order != y->order)
		return x->order < y->order ? -1 : 1;
	return x->pref < y->pref ? -1 : x->pref > y->pref;
}

static void on_naptr(void *arg, const struct dns_answer *a)
{
	struct nx *x = arg;

	note_failure(x, a);
	x->ncand = 0;
	for (unsigned i = 0; a->status == 0 && i < a->n; i++) {
		const struct dns_naptr *r = &a->r.naptr[i];
		enum sip_proto p;

		if (strcasecmp(r->service, "SIP+D2U") == 0)
			p = SIP_PROTO_UDP;
		else if (strcasecmp(r->service, "SIP+D2T") == 0)
			p = SIP_PROTO_TCP;
		else if (strcasecmp(r->service, "SIPS+D2T") == 0)
			p = SIP_PROTO_TLS;
		else
			continue;
		/* §4.1: "S" records leading to SRV; a sips URI only over TLS */
		if (strcasecmp(r->flags, "s") != 0 || !r->replacement[0] ||
		    (x->sips && p != SIP_PROTO_TLS) || !transport_has_proto(p))
			continue;
		x->cand[x->ncand].proto = p;
		x->cand[x->ncand].order = r->order;
		x->cand[x->ncand].pref = r->preference;
		memcpy(x->cand[x->ncand++].name, r->replacement, DNS_NAME_MAX);
	}
	qsort(x->cand, x->ncand, sizeof(x->cand[0]), by_order);
	x->cand_i = 0;
	answered(x);
}

/* The phase ended: the next one. */
static void advance(struct nx *x)
{
	switch (x->phase) {
	case NX_NAPTR:
		if (x->ncand) {
			srv_of_candidate(x);
			return;
		}
		probe_srv(x); /* §4.1: no NAPTR, so SRV for each transport */
		return;
	case NX_SRV_CAND:
		if (x->probe[0].n) {
			x->proto = x->probe[0].proto;
			srv_targets(x, x->probe[0].srv, x->probe[0].n);
			return;
		}
		if (++x->cand_i < x->ncand) {
			srv_of_candidate(x);
			return;
		}
		host_addrs(x);
		return;
	case NX_SRV_PROBE:
		for (unsigned i = 0; i < x->nprobe; i++)
			if (x->probe[i].n) {
				x->proto = x->probe[i].proto;
				srv_targets(x, x->probe[i].srv, x->probe[i].n);
				return;
			}
		/* §4.1/§4.2: no SRV: the host on the default port, UDP for sip
		 * and TLS for sips unless the URI said */
		host_addrs(x);
		return;
	case NX_ADDRS_PHASE:
		finish(x);
		return;
	}
}

/* ---- the entry point ---------------------------------------------------------------- */

int nexthop_transport(const struct sip_uri *u, enum sip_proto *proto)
{
	*proto = SIP_PROTO_UDP;
	if (u->scheme != SIP_URI_SIP && u->scheme != SIP_URI_SIPS)
		return -EPROTONOSUPPORT;
	if (u->transport.len) {
		if (sip_proto_parse(u->transport, proto) < 0)
			return -EPROTONOSUPPORT;
	} else if (u->scheme == SIP_URI_SIPS) {
		*proto = SIP_PROTO_TLS;
	}
	if (u->scheme == SIP_URI_SIPS && !sip_proto_is_secure(*proto))
		return -EPROTONOSUPPORT; /* sips needs TLS on every hop (§26.2.2) */
	return transport_has_proto(*proto) ? 0 : -EPROTONOSUPPORT;
}

int nexthop_resolve(struct dns *d, const struct sip_uri *u, size_t msg_len, unsigned udp_mtu,
		    struct nexthop_list *l, nexthop_cb cb, void *arg)
{
	struct sip_str host = u->maddr.len ? u->maddr : u->host;
	enum sip_proto proto;
	struct netaddr na;
	struct nx *x;
	int rc;

	rc = nexthop_transport(u, &proto);
	if (rc < 0)
		return rc;
	if (netaddr_from_host(host, 0, &na) == 0) {
		/* §4.1/§4.2: a numeric host, the common case (bindings, our
		 * Record-Route): no lookup, nothing allocated */
		l->n = 0;
		l->by_size = false;
		l->name[0] = '\0';
		add_dest(l, proto, &na, u->port ? u->port : sip_uri_default_port(u),
			 too_big(proto, u->transport.len != 0, msg_len, udp_mtu));
		return l->n ? 0 : -EHOSTUNREACH;
	}
	if (!d || host.len == 0 || host.len >= DNS_NAME_MAX)
		return -EHOSTUNREACH; /* a name, and no resolver to ask */
	x = calloc(1, sizeof(*x));
	if (!x)
		return -ENOMEM;
	x->d = d;
	x->cb = cb;
	x->arg = arg;
	x->sync = true;
	x->sips = u->scheme == SIP_URI_SIPS;
	x->proto_fixed = u->transport.len != 0;
	x->proto = proto;
	x->port = u->port;
	x->msg_len = msg_len;
	x->udp_mtu = udp_mtu;
	sip_str_to_cstr(host, x->host, sizeof(x->host));
	sip_str_to_cstr(u->host, x->out.name, sizeof(x->out.name));
	if (x->port) {
		host_addrs(x); /* §4.2: an explicit port: A/AAAA only */
	} else if (x->proto_fixed) {
		probe_srv(x); /* the transport is known: its SRV alone */
	} else {
		x->phase = NX_NAPTR;
		x->waiting = 1;
		x->waiting++;
		if (dns_lookup(d, x->host, DNS_NAPTR, on_naptr, x) < 0)
			x->waiting--;
		answered(x);
	}
	if (!x->done) {
		x->sync = false;
		return 1;
	}
	rc = x->rc;
	if (rc == 0)
		*l = x->out;
	free(x);
	return rc;
}
