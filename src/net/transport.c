/*
 * transport: see transport.h. Holds the table of configured listeners
 * (protocol, address, socket) that udp.c and tcp.c serve, and routes each
 * send to the right one.
 */
#include "net/transport.h"

#include "base/log.h"
#include "net/tcp.h"
#include "net/udp.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

struct listener {
	struct transport_listen cfg;
	int fd;
};

static struct listener listeners[TRANSPORT_MAX_LISTEN];
static unsigned nlisteners;

int transport_open(const struct transport_listen *l, unsigned n)
{
	nlisteners = 0;
	if (n > TRANSPORT_MAX_LISTEN)
		return -EINVAL;
	for (unsigned i = 0; i < n; i++) {
		const struct transport_listen *cl = &l[i];
		int fd;

		fd = cl->proto == SIP_PROTO_UDP ? udp_open(&cl->addr) : tcp_listen_open(&cl->addr);
		if (fd < 0) {
			log_error("event=listen_failed listen=%s error=\"%s\"", cl->text,
				  strerror(-fd));
			transport_close();
			return fd;
		}
		listeners[nlisteners++] = (struct listener){.cfg = *cl, .fd = fd};
		log_info("event=listening listen=%s", cl->text);
	}
	return 0;
}

int transport_start(const struct tcp_settings *ts, const struct sink *sink, void *ctx)
{
	struct tcp_listener_fd tcp[TRANSPORT_MAX_LISTEN];
	unsigned ntcp = 0;

	for (unsigned i = 0; i < nlisteners; i++) {
		struct listener *l = &listeners[i];

		if (l->cfg.proto != SIP_PROTO_UDP)
			tcp[ntcp++] = (struct tcp_listener_fd){
				.fd = l->fd, .index = i, .proto = l->cfg.proto};
	}
	/* The TCP thread also serves outgoing connections, so it runs even
	 * without a TCP listener... but outgoing TCP needs a listener to put
	 * in Via anyway (§18.1.1), so without one there is nothing to serve. */
	if (ntcp)
		return tcp_start(ts, sink, ctx, tcp, ntcp);
	return 0;
}

void transport_stop(void)
{
	tcp_stop();
}

unsigned transport_udp_sockets(int *fds, unsigned *index, unsigned max)
{
	unsigned n = 0;

	for (unsigned i = 0; i < nlisteners && n < max; i++) {
		if (listeners[i].cfg.proto != SIP_PROTO_UDP)
			continue;
		fds[n] = listeners[i].fd;
		index[n++] = i;
	}
	return n;
}

void transport_close(void)
{
	tcp_close_all();
	for (unsigned i = 0; i < nlisteners; i++)
		if (listeners[i].fd >= 0)
			close(listeners[i].fd);
	nlisteners = 0;
}

unsigned transport_listener_count(void)
{
	return nlisteners;
}

enum sip_proto transport_listener_proto(unsigned i)
{
	return listeners[i].cfg.proto;
}

bool transport_has_proto(enum sip_proto proto)
{
	for (unsigned i = 0; i < nlisteners; i++)
		if (listeners[i].cfg.proto == proto)
			return true;
	return false;
}

int transport_pick_listener(enum sip_proto proto, int family, int prefer)
{
	if (prefer >= 0 && (unsigned)prefer < nlisteners && listeners[prefer].cfg.proto == proto &&
	    netaddr_family(&listeners[prefer].cfg.addr) == family)
		return prefer;
	for (unsigned i = 0; i < nlisteners; i++)
		if (listeners[i].cfg.proto == proto &&
		    netaddr_family(&listeners[i].cfg.addr) == family)
			return (int)i;
	return -1;
}

/* The listener a message leaves from (what Via names, §18.1.1): UDP by
 * its socket, a stream by the listener its new connection belongs to. */
static int send_to(const struct sip_dest *d, const char *buf, size_t len, bool later)
{
	int l = transport_pick_listener(d->proto, netaddr_family(&d->addr), d->listener), fd;

	if (l < 0)
		return -EAFNOSUPPORT;
	if (d->proto != SIP_PROTO_UDP) {
		struct sip_dest via_l = *d;

		via_l.listener = l;
		return tcp_send(&via_l, buf, len);
	}
	fd = listeners[l].fd;
	return later ? udp_send_later(fd, &d->addr, buf, len) : udp_send(fd, &d->addr, buf, len);
}

int transport_send(const struct sip_dest *d, const char *buf, size_t len)
{
	return send_to(d, buf, len, false);
}

int transport_send_later(const struct sip_dest *d, const char *buf, size_t len)
{
	return send_to(d, buf, len, true);
}

/* Pointer just past the name of parameter `name` in params, or NULL. */
static const char *param_name_end(struct sip_str params, const char *name)
{
	size_t nlen = strlen(name);
	const char *p = params.p, *end = params.p + params.len;

	while (p < end) {
		const char *q;

		while (p < end && (*p == ';' || sip_is_lws(*p)))
			p++;
		q = p;
		while (q < end && *q != ';' && *q != '=' && !sip_is_lws(*q))
			q++;
		if ((size_t)(q - p) == nlen && strncasecmp(p, name, nlen) == 0)
			return q;
		while (q < end && *q != ';')
			q++;
		p = q;
	}
	return NULL;
}

void transport_via_stamp(const struct sip_via *v, const struct sip_source *src,
			 struct via_stamp *st)
{
	struct sip_str bare = v->host;
	char host[NETADDR_STRLEN];

	st->rport_at = NULL;
	st->rport_text[0] = '\0';
	st->received_text[0] = '\0';
	/* An IPv6 sent-by is bracketed; received is not (§20.42). */
	if (v->host_ipv6 && bare.len >= 2) {
		bare.p++;
		bare.len -= 2;
	}
	netaddr_format_host(&src->remote, host, sizeof(host), false);
	if (v->rport && v->rport_value == 0) {
		st->rport_at = param_name_end(v->params, "rport");
		if (st->rport_at) {
			st->rport_text[0] = '=';
			sip_fmt_u64(st->rport_text + 1, netaddr_port(&src->remote));
		}
	}
	if (v->received.len == 0 && (v->rport || !sip_str_caseeq_cstr(bare, host))) {
		size_t n = strlen(host);

		memcpy(st->received_text, ";received=", 10);
		memcpy(st->received_text + 10, host, n + 1);
	}
}

/* Port of a Via's sent-by, or the transport's default (RFC 3261 §18.2.2). */
static uint16_t via_port(const struct sip_via *v, enum sip_proto p)
{
	if (v->port)
		return v->port;
	return p == SIP_PROTO_TLS ? 5061 : 5060;
}

int transport_response_dest(const struct sip_via *via, const struct sip_source *src,
			    struct sip_dest *d)
{
	enum sip_proto p;
	uint16_t port;

	if (!via)
		return -EINVAL;
	if (sip_proto_parse(via->transport, &p) < 0)
		return -EPROTONOSUPPORT;
	memset(d, 0, sizeof(*d));
	d->proto = p;
	d->listener = -1;

	if (src) {
		/* Answering a request we received. On a stream, the connection it
		 * came on (§18.2.2); on UDP, its source address: the port too
		 * when the client asked with rport (RFC 3581 §4), otherwise
		 * the sent-by port. */
		d->proto = src->proto;
		d->listener = src->listener;
		d->conn_id = src->conn_id;
		d->addr = src->remote;
		if (src->proto == SIP_PROTO_UDP && !via->rport) {
			if (via->maddr.len &&
			    netaddr_from_host(via->maddr, via_port(via, p), &d->addr) == 0)
				return 0;
			netaddr_set_port(&d->addr, via_port(via, p));
		}
		return 0;
	}

	/* Relaying a response: everything comes from the Via. */
	port = via->rport_value ? (uint16_t)via->rport_value : via_port(via, p);
	if (!sip_proto_is_stream(p) && via->maddr.len)
		return netaddr_from_host(via->maddr, via_port(via, p), &d->addr) == 0
			       ? 0
			       : -EHOSTUNREACH;
	if (via->received.len)
		return netaddr_from_host(via->received, port, &d->addr) == 0 ? 0 : -EHOSTUNREACH;
	return netaddr_from_host(via->host, port, &d->addr) == 0 ? 0 : -EHOSTUNREACH;
}
