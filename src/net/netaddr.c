/*
 * netaddr: socket addresses and SIP transports as plain values.
 *
 * A struct netaddr is a sockaddr_in or sockaddr_in6 plus its length, so it
 * goes straight to bind(2), sendto(2) and connect(2) and comes straight
 * back from recvfrom(2). Text conversion is inet_pton(3)/inet_ntop(3) and
 * nothing else: numeric addresses only, IPv6 in brackets when a port
 * follows (RFC 3261 §19.1.1, RFC 3986 §3.2.2). Comparison and hashing look
 * at the family, the address bytes, the IPv6 scope and the port, never at
 * padding, so two addresses built by different paths compare equal.
 */
#include "net/netaddr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

static const char *const proto_names[SIP_PROTO__COUNT] = {"udp", "tcp", "tls", "ws", "wss"};
static const char *const proto_via_names[SIP_PROTO__COUNT] = {"UDP", "TCP", "TLS", "WS", "WSS"};

int sip_proto_parse(struct sip_str s, enum sip_proto *out)
{
	for (int p = 0; p < SIP_PROTO__COUNT; p++) {
		if (sip_str_caseeq_cstr(s, proto_names[p])) {
			*out = (enum sip_proto)p;
			return 0;
		}
	}
	return -EINVAL;
}

const char *sip_proto_name(enum sip_proto p)
{
	return (unsigned)p < SIP_PROTO__COUNT ? proto_names[p] : "?";
}

const char *sip_proto_via_name(enum sip_proto p)
{
	return (unsigned)p < SIP_PROTO__COUNT ? proto_via_names[p] : "?";
}

/* 1 to 5 digits, at most 65535. Port 0 is accepted here (it is a valid
 * sockaddr value); callers that need a usable port check it. */
static int netaddr_parse_port(const char *p, size_t len, uint16_t *out)
{
	unsigned v = 0;

	if (len == 0 || len > 5)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -EINVAL;
		v = v * 10 + (unsigned)(p[i] - '0');
	}
	if (v > 65535)
		return -EINVAL;
	*out = (uint16_t)v;
	return 0;
}

int netaddr_from_host(struct sip_str host, uint16_t port, struct netaddr *a)
{
	/* INET6_ADDRSTRLEN covers the longest textual IPv6 address, with an
	 * embedded IPv4 tail; anything longer is not a numeric address. */
	char buf[INET6_ADDRSTRLEN];
	bool bracketed = false;

	if (host.len >= 2 && host.p[0] == '[' && host.p[host.len - 1] == ']') {
		host.p++;
		host.len -= 2;
		bracketed = true;
	}
	if (host.len == 0 || host.len >= sizeof(buf) || memchr(host.p, '\0', host.len))
		return -EINVAL;
	memcpy(buf, host.p, host.len);
	buf[host.len] = '\0';

	memset(a, 0, sizeof(*a));
	if (memchr(buf, ':', host.len)) {
		if (inet_pton(AF_INET6, buf, &a->u.in6.sin6_addr) != 1)
			return -EINVAL;
		a->u.in6.sin6_family = AF_INET6;
		a->u.in6.sin6_port = htons(port);
		a->len = sizeof(a->u.in6);
		return 0;
	}
	/* Brackets are for IPv6 only (RFC 3986 §3.2.2). */
	if (bracketed || inet_pton(AF_INET, buf, &a->u.in.sin_addr) != 1) {
		memset(a, 0, sizeof(*a));
		return -EINVAL;
	}
	a->u.in.sin_family = AF_INET;
	a->u.in.sin_port = htons(port);
	a->len = sizeof(a->u.in);
	return 0;
}

int netaddr_parse(const char *s, struct netaddr *a)
{
	const char *colon;
	struct sip_str host;
	uint16_t port;

	if (s[0] == '[') {
		const char *close = strchr(s, ']');
		if (!close || close[1] != ':')
			return -EINVAL;
		colon = close + 1;
	} else {
		colon = strchr(s, ':');
		/* A second colon means an IPv6 address without brackets: the
		 * port cannot be told apart from the last group. */
		if (!colon || strchr(colon + 1, ':'))
			return -EINVAL;
	}
	host = sip_str_make(s, (size_t)(colon - s));
	if (netaddr_parse_port(colon + 1, strlen(colon + 1), &port) < 0)
		return -EINVAL;
	return netaddr_from_host(host, port, a);
}

size_t netaddr_format_host(const struct netaddr *a, char *buf, size_t cap, bool bracket)
{
	char tmp[INET6_ADDRSTRLEN];
	int n;

	if (cap == 0)
		return 0;
	switch (netaddr_family(a)) {
	case AF_INET:
		inet_ntop(AF_INET, &a->u.in.sin_addr, tmp, sizeof(tmp));
		n = snprintf(buf, cap, "%s", tmp);
		break;
	case AF_INET6:
		inet_ntop(AF_INET6, &a->u.in6.sin6_addr, tmp, sizeof(tmp));
		n = snprintf(buf, cap, bracket ? "[%s]" : "%s", tmp);
		break;
	default:
		n = snprintf(buf, cap, "?");
		break;
	}
	/* The length actually in buf, even when cap cut it short. */
	return n < 0 ? 0 : (size_t)n < cap ? (size_t)n : cap - 1;
}

size_t netaddr_format(const struct netaddr *a, char *buf, size_t cap)
{
	size_t n = netaddr_format_host(a, buf, cap, true);
	int m;

	if (n + 1 >= cap || netaddr_family(a) == AF_UNSPEC)
		return n;
	m = snprintf(buf + n, cap - n, ":%u", (unsigned)netaddr_port(a));
	if (m < 0)
		return n;
	return (size_t)m < cap - n ? n + (size_t)m : cap - 1;
}

int netaddr_family(const struct netaddr *a)
{
	if (a->len == 0)
		return AF_UNSPEC;
	return a->u.sa.sa_family;
}

uint16_t netaddr_port(const struct netaddr *a)
{
	switch (netaddr_family(a)) {
	case AF_INET:
		return ntohs(a->u.in.sin_port);
	case AF_INET6:
		return ntohs(a->u.in6.sin6_port);
	default:
		return 0;
	}
}

void netaddr_set_port(struct netaddr *a, uint16_t port)
{
	switch (netaddr_family(a)) {
	case AF_INET:
		a->u.in.sin_port = htons(port);
		break;
	case AF_INET6:
		a->u.in6.sin6_port = htons(port);
		break;
	default:
		break;
	}
}

bool netaddr_is_any(const struct netaddr *a)
{
	switch (netaddr_family(a)) {
	case AF_INET:
		return a->u.in.sin_addr.s_addr == htonl(INADDR_ANY);
	case AF_INET6:
		return IN6_IS_ADDR_UNSPECIFIED(&a->u.in6.sin6_addr);
	default:
		return false;
	}
}

bool netaddr_equal_host(const struct netaddr *a, const struct netaddr *b)
{
	int fam = netaddr_family(a);

	if (fam != netaddr_family(b))
		return false;
	switch (fam) {
	case AF_INET:
		return a->u.in.sin_addr.s_addr == b->u.in.sin_addr.s_addr;
	case AF_INET6:
		/* fe80::1 on two interfaces is two hosts: the scope counts. */
		return memcmp(&a->u.in6.sin6_addr, &b->u.in6.sin6_addr, 16) == 0 &&
		       a->u.in6.sin6_scope_id == b->u.in6.sin6_scope_id;
	default:
		return false;
	}
}

bool netaddr_equal(const struct netaddr *a, const struct netaddr *b)
{
	return netaddr_equal_host(a, b) && netaddr_port(a) == netaddr_port(b);
}

static uint64_t fnv1a(uint64_t h, const void *p, size_t len)
{
	const unsigned char *c = p;

	for (size_t i = 0; i < len; i++) {
		h ^= c[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

uint64_t netaddr_hash(const struct netaddr *a)
{
	uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a offset basis */
	unsigned char fam = (unsigned char)netaddr_family(a);
	uint16_t port = netaddr_port(a);

	h = fnv1a(h, &fam, 1);
	switch (fam) {
	case AF_INET:
		h = fnv1a(h, &a->u.in.sin_addr, 4);
		break;
	case AF_INET6:
		h = fnv1a(h, &a->u.in6.sin6_addr, 16);
		h = fnv1a(h, &a->u.in6.sin6_scope_id, sizeof(a->u.in6.sin6_scope_id));
		break;
	default:
		break;
	}
	h = fnv1a(h, &port, sizeof(port));
	/* FNV-1a leaves the low bits weak for short keys and callers reduce
	 * with "% n"; the splitmix64 finaliser spreads every input bit. */
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebULL;
	h ^= h >> 31;
	return h;
}

/* ---- address blocks --------------------------------------------------- */

int netaddr_host_key(const struct netaddr *a, uint8_t out[16])
{
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	const uint8_t *v6;

	memset(out, 0, 16);
	switch (netaddr_family(a)) {
	case AF_INET:
		memcpy(out, &a->u.in.sin_addr, 4);
		return AF_INET;
	case AF_INET6:
		v6 = a->u.in6.sin6_addr.s6_addr;
		if (memcmp(v6, mapped, 12) == 0) {
			memcpy(out, v6 + 12, 4);
			return AF_INET;
		}
		memcpy(out, v6, 16);
		return AF_INET6;
	default:
		return 0;
	}
}

int netaddr_prefix_parse(const char *s, size_t len, struct netaddr_prefix *p)
{
	char buf[INET6_ADDRSTRLEN + 8];
	const char *slash;
	unsigned bits, width;
	size_t alen;

	if (len == 0 || len >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, len);
	buf[len] = '\0';
	slash = strchr(buf, '/');
	alen = slash ? (size_t)(slash - buf) : len;
	buf[alen] = '\0';
	memset(p, 0, sizeof(*p));
	if (inet_pton(AF_INET, buf, p->addr) == 1) {
		p->family = AF_INET;
		width = 32;
	} else if (inet_pton(AF_INET6, buf, p->addr) == 1) {
		p->family = AF_INET6;
		width = 128;
	} else {
		return -EINVAL;
	}
	bits = width;
	if (slash) {
		uint32_t v;

		if (sip_str_to_u32(sip_str_cstr(slash + 1), &v) < 0 || v > width)
			return -EINVAL;
		bits = v;
	}
	/* Host bits set ("10.1.2.3/8") are most likely a typo: refused. */
	for (unsigned i = bits; i < width; i++)
		if (p->addr[i / 8] & (0x80u >> (i % 8)))
			return -EINVAL;
	p->bits = (uint8_t)bits;
	return 0;
}

static bool prefix_bits_match(const uint8_t *net, const uint8_t *a, unsigned bits)
{
	unsigned full = bits / 8, rest = bits % 8;

	if (memcmp(net, a, full) != 0)
		return false;
	return rest == 0 || ((net[full] ^ a[full]) & (0xffu << (8 - rest)) & 0xffu) == 0;
}

bool netaddr_prefix_match(const struct netaddr_prefix *p, const struct netaddr *a)
{
	uint8_t host[16];

	return netaddr_host_key(a, host) == p->family && prefix_bits_match(p->addr, host, p->bits);
}

size_t netaddr_prefix_format(const struct netaddr_prefix *p, char *buf, size_t cap)
{
	char host[INET6_ADDRSTRLEN];
	int n;

	if (!inet_ntop(p->family, p->addr, host, sizeof(host)))
		host[0] = '\0';
	n = snprintf(buf, cap, "%s/%u", host, p->bits);
	return n < 0 ? 0 : (size_t)n < cap ? (size_t)n : cap - 1;
}
