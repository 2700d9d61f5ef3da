/*
 * dns: a worker's asynchronous resolver (see dns.h).
 *
 * c-ares does the protocol (retries, server rotation, TCP on truncation);
 * we drive it from the worker's loop: the sockets it opens are reported by
 * its socket-state callback and listed by dns_fds(), the worker's sleep is
 * bounded by ares_timeout(), and dns_process() polls the few sockets once
 * without waiting. Lookups of the same name and type while one is in
 * flight join it, so a burst of calls to one domain costs one query.
 *
 * c-ares gives no TTL with SRV or NAPTR records, so the answer's TTL is
 * read from the message itself (answer_ttl()): the smallest TTL of the
 * answer records, or for a negative answer the SOA's (RFC 2308 §5).
 */
#include "net/dns.h"

#include "base/clock.h"
#include "base/log.h"
#include "base/ttlcache.h"

#include <ares.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define DNS_MAX_FDS 16
/* A positive answer is kept at most a day, whatever its TTL says. */
#define DNS_MAX_TTL 86400

struct dns_waiter {
	struct dns_waiter *next;
	dns_cb cb;
	void *arg;
};

struct dns_query {
	struct dns_query *next; /* in d->queries */
	struct dns *d;
	enum dns_type type;
	char key[DNS_NAME_MAX + 1]; /* type byte, lowercase name */
	size_t klen;
	struct dns_waiter *waiters;
};

struct dns {
	ares_channel ch;
	int fds[DNS_MAX_FDS];
	unsigned nfds, serial;
	unsigned pending;
	struct dns_query *queries; /* in flight */
	struct dns_stats st;
	bool closing; /* in dns_free(): the callbacks may not ask again */
};

static struct ttlcache *cache;
static unsigned negative_max;

int dns_cache_init(unsigned size, unsigned negative_ttl)
{
	negative_max = negative_ttl;
	if (size && !(cache = ttlcache_new(size, 1000)))
		return -ENOMEM;
	return 0;
}

void dns_cache_free(void)
{
	if (cache)
		ttlcache_free(cache);
	cache = NULL;
}

unsigned dns_cache_count(void)
{
	return cache ? ttlcache_count(cache) : 0;
}

/* ---- the sockets ------------------------------------------------------------ */

static void sock_state(void *data, ares_socket_t fd, int readable, int writable)
{
	struct dns *d = data;
	unsigned i;

	(void)writable; /* a TCP connect in progress: c-ares tries again on read */
	for (i = 0; i < d->nfds && d->fds[i] != fd; i++)
		;
	if (readable || writable) {
		if (i == d->nfds && d->nfds < DNS_MAX_FDS) {
			d->fds[d->nfds++] = fd;
			d->serial++;
		}
	} else if (i < d->nfds) {
		d->fds[i] = d->fds[--d->nfds];
		d->serial++;
	}
}

unsigned dns_fds(const struct dns *d, int *fds, unsigned cap)
{
	unsigned n = d->nfds < cap ? d->nfds : cap;

	memcpy(fds, d->fds, n * sizeof(*fds));
	return n;
}

unsigned dns_serial(const struct dns *d)
{
	return d->serial;
}

unsigned dns_pending(const struct dns *d)
{
	return d->pending;
}

int dns_timeout_ms(const struct dns *d)
{
	struct timeval tv, *t;

	if (!d->pending)
		return -1;
	t = ares_timeout(d->ch, NULL, &tv);
	if (!t)
		return -1;
	return (int)(t->tv_sec * 1000 + (t->tv_usec + 999) / 1000);
}

void dns_process(struct dns *d)
{
	struct pollfd p[DNS_MAX_FDS];
	unsigned n = d->nfds;
	int got;

	if (!d->pending)
		return;
	for (unsigned i = 0; i < n; i++)
		p[i] = (struct pollfd){.fd = d->fds[i], .events = POLLIN};
	got = n ? poll(p, n, 0) : 0;
	/* One call per ready socket; the last (or a call with none) also
	 * handles the tries that timed out. Callbacks may open and close
	 * sockets, so the polled copy is what we walk. */
	for (unsigned i = 0; i < n && got > 0; i++)
		if (p[i].revents & (POLLIN | POLLERR | POLLHUP))
			ares_process_fd(d->ch, p[i].fd, ARES_SOCKET_BAD);
	ares_process_fd(d->ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
}

void dns_get_stats(const struct dns *d, struct dns_stats *st)
{
	*st = d->st;
}

/* ---- the answer ---------------------------------------------------------------- */

static uint16_t rd16(const unsigned char *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t rd32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Skips a (possibly compressed) name at abuf[off]; returns the offset
 * after it or -1. */
static int skip_name(const unsigned char *abuf, int alen, int off)
{
	while (off < alen) {
		unsigned l = abuf[off];

		if ((l & 0xc0) == 0xc0)
			return off + 2 <= alen ? off + 2 : -1;
		if (l & 0xc0)
			return -1;
		off += 1 + (int)l;
		if (l == 0)
			return off <= alen ? off : -1;
	}
	return -1;
}

/* The TTL to keep an answer for: the smallest of the answer records; for a
 * negative answer (negative set) the SOA of the authority section, the
 * smaller of its TTL and its MINIMUM (RFC 2308 §5). 0 when unreadable. */
static uint32_t answer_ttl(const unsigned char *abuf, int alen, bool negative)
{
	int off = 12;
	unsigned qd, an, ns;
	uint32_t best = UINT32_MAX;

	if (!abuf || alen < 12)
		return 0;
	qd = rd16(abuf + 4);
	an = rd16(abuf + 6);
	ns = rd16(abuf + 8);
	for (unsigned i = 0; i < qd && off >= 0; i++) {
		off = skip_name(abuf, alen, off);
		off = off >= 0 && off + 4 <= alen ? off + 4 : -1;
	}
	for (unsigned i = 0; i < an + ns && off >= 0; i++) {
		unsigned type, rdlen;
		uint32_t ttl;

		off = skip_name(abuf, alen, off);
		if (off < 0 || off + 10 > alen)
			return 0;
		type = rd16(abuf + off);
		ttl = rd32(abuf + off + 4);
		rdlen = rd16(abuf + off + 8);
		off += 10;
		if (off + (int)rdlen > alen)
			return 0;
		if (!negative && i < an && ttl < best)
			best = ttl;
		if (negative && i >= an && type == 6 /* SOA */ && rdlen >= 20) {
			uint32_t min = rd32(abuf + off + rdlen - 4);

			best = ttl < min ? ttl : min;
			break;
		}
		off += (int)rdlen;
	}
	return best == UINT32_MAX ? 0 : best;
}

static void copy_str(char *dst, size_t cap, const char *src)
{
	size_t n = src ? strlen(src) : 0;

	if (n >= cap)
		n = cap - 1;
	memcpy(dst, src ? src : "", n);
	dst[n] = '\0';
}

/* The addresses of he into a (A or AAAA). */
static void put_addrs(struct dns_answer *a, const struct hostent *he)
{
	for (char **p = he->h_addr_list; *p && a->n < DNS_MAX_RECORDS; p++) {
		struct netaddr *na = &a->r.addr[a->n++];

		memset(na, 0, sizeof(*na));
		if (he->h_addrtype == AF_INET) {
			na->u.in.sin_family = AF_INET;
			memcpy(&na->u.in.sin_addr, *p, 4);
			na->len = sizeof(na->u.in);
		} else {
			na->u.in6.sin6_family = AF_INET6;
			memcpy(&na->u.in6.sin6_addr, *p, 16);
			na->len = sizeof(na->u.in6);
		}
	}
}

/* Parses a positive answer into a. Returns 0 or -EIO. */
static int parse_answer(struct dns_answer *a, const unsigned char *abuf, int alen)
{
	switch (a->type) {
	case DNS_A:
	case DNS_AAAA: {
		struct hostent *he = NULL;
		int rc = a->type == DNS_A ? ares_parse_a_reply(abuf, alen, &he, NULL, NULL)
					  : ares_parse_aaaa_reply(abuf, alen, &he, NULL, NULL);

		if (rc != ARES_SUCCESS)
			return rc == ARES_ENODATA ? -ENOENT : -EIO;
		put_addrs(a, he);
		ares_free_hostent(he);
		return 0;
	}
	case DNS_SRV: {
		struct ares_srv_reply *srv = NULL;

		if (ares_parse_srv_reply(abuf, alen, &srv) != ARES_SUCCESS)
			return -EIO;
		for (struct ares_srv_reply *s = srv; s && a->n < DNS_MAX_RECORDS; s = s->next) {
			struct dns_srv *o = &a->r.srv[a->n++];

			o->priority = s->priority;
			o->weight = s->weight;
			o->port = s->port;
			copy_str(o->target, sizeof(o->target), s->host);
		}
		ares_free_data(srv);
		return 0;
	}
	case DNS_NAPTR: {
		struct ares_naptr_reply *np = NULL;

		if (ares_parse_naptr_reply(abuf, alen, &np) != ARES_SUCCESS)
			return -EIO;
		for (struct ares_naptr_reply *r = np; r && a->n < DNS_MAX_RECORDS; r = r->next) {
			struct dns_naptr *o = &a->r.naptr[a->n++];

			o->order = r->order;
			o->preference = r->preference;
			copy_str(o->flags, sizeof(o->flags), (const char *)r->flags);
			copy_str(o->service, sizeof(o->service), (const char *)r->service);
			copy_str(o->regexp, sizeof(o->regexp), (const char *)r->regexp);
			/* the root (".") is "no replacement" */
			copy_str(o->replacement, sizeof(o->replacement),
				 r->replacement && strcmp(r->replacement, ".") ? r->replacement
									       : "");
		}
		ares_free_data(np);
		return 0;
	}
	}
	return -EIO;
}

/* What a cached answer holds: the head of struct dns_answer, then n
 * records of its type. */
static size_t record_size(enum dns_type t)
{
	return t == DNS_SRV     ? sizeof(struct dns_srv)
	       : t == DNS_NAPTR ? sizeof(struct dns_naptr)
				: sizeof(struct netaddr);
}

static size_t answer_bytes(const struct dns_answer *a)
{
	return offsetof(struct dns_answer, r) + a->n * record_size(a->type);
}

static void cache_put(const char *key, size_t klen, const struct dns_answer *a)
{
	uint32_t ttl = a->ttl;

	if (!cache || (a->status && a->status != -ENOENT))
		return; /* timeouts and failures are not answers */
	/* A negative answer without a SOA (RFC 2308 §5 would not keep it)
	 * is kept negative_ttl too, as Kamailio's dns_neg_cache_ttl does:
	 * else every call to a domain without NAPTR would ask again. */
	if (a->status == -ENOENT && (ttl == 0 || ttl > negative_max))
		ttl = negative_max;
	if (ttl > DNS_MAX_TTL)
		ttl = DNS_MAX_TTL;
	if (ttl)
		ttlcache_put_ttl(cache, key, klen, a, answer_bytes(a), clock_now_ms(),
				 (uint64_t)ttl * 1000);
}

static size_t make_key(const char *name, enum dns_type type, char *key)
{
	size_t n = strlen(name);

	if (n && name[n - 1] == '.')
		n--;
	key[0] = (char)type;
	for (size_t i = 0; i < n; i++)
		key[1 + i] = (char)(name[i] >= 'A' && name[i] <= 'Z' ? name[i] + 32 : name[i]);
	return n + 1;
}

/* ---- lookups ------------------------------------------------------------------- */

/* How long a name found in /etc/hosts is kept: the file is read again
 * (once per name) after that. */
#define DNS_HOSTS_TTL 60

/* An A or AAAA lookup first looks in /etc/hosts, as getaddrinfo(3) does
 * (operators name hosts there, "localhost" among them). Fills a and
 * returns true when the file has the name. */
static bool from_hosts_file(struct dns *d, const char *name, enum dns_type type,
			    struct dns_answer *a)
{
	struct hostent *he = NULL;
	int family = type == DNS_A ? AF_INET : AF_INET6;

	if ((type != DNS_A && type != DNS_AAAA) ||
	    ares_gethostbyname_file(d->ch, name, family, &he) != ARES_SUCCESS || !he)
		return false;
	memset(a, 0, offsetof(struct dns_answer, r));
	a->type = type;
	a->ttl = DNS_HOSTS_TTL;
	put_addrs(a, he);
	ares_free_hostent(he);
	return a->n > 0;
}

static void on_answer(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	struct dns_query *q = arg;
	struct dns *d = q->d;
	struct dns_answer *a = malloc(sizeof(*a));
	struct dns_waiter *w;

	(void)timeouts;
	/* out of the in-flight list first: a waiter may look the name up again */
	for (struct dns_query **pp = &d->queries; *pp; pp = &(*pp)->next)
		if (*pp == q) {
			*pp = q->next;
			break;
		}
	if (a) {
		memset(a, 0, offsetof(struct dns_answer, r));
		a->type = q->type;
		switch (status) {
		case ARES_SUCCESS:
			a->status = parse_answer(a, abuf, alen);
			a->ttl = answer_ttl(abuf, alen, a->status == -ENOENT);
			break;
		case ARES_ENODATA:
		case ARES_ENOTFOUND:
			a->status = -ENOENT;
			a->ttl = answer_ttl(abuf, alen, true);
			break;
		case ARES_ETIMEOUT:
			a->status = -ETIMEDOUT;
			break;
		case ARES_EDESTRUCTION:
		case ARES_ECANCELLED:
			a->status = -ECANCELED;
			break;
		default:
			a->status = -EIO;
			break;
		}
		if (a->status == 0 && a->n == 0)
			a->status = -ENOENT;
		if (a->status == -ETIMEDOUT || a->status == -EIO)
			d->st.failures++;
		if (a->status != -ECANCELED)
			cache_put(q->key, q->klen, a);
	}
	while ((w = q->waiters)) {
		static const struct dns_answer nomem = {.status = -EIO};

		q->waiters = w->next;
		d->pending--;
		w->cb(w->arg, a ? a : &nomem);
		free(w);
	}
	free(a);
	free(q);
}

int dns_lookup(struct dns *d, const char *name, enum dns_type type, dns_cb cb, void *arg)
{
	char key[DNS_NAME_MAX + 1];
	size_t len = strlen(name), klen;
	struct dns_waiter *w;
	struct dns_query *q;

	if (len == 0 || len >= DNS_NAME_MAX)
		return -EINVAL;
	if (d->closing)
		return -ECANCELED;
	klen = make_key(name, type, key);
	{
		/* answered here: from the cache, else from /etc/hosts (and
		 * cached); one buffer for either */
		struct dns_answer *a = malloc(sizeof(*a));
		bool hit = false;

		if (a && cache &&
		    ttlcache_get(cache, key, klen, clock_now_ms(), a, sizeof(*a)) > 0) {
			a->cached = hit = true;
			d->st.cache_hits++;
		} else if (a && from_hosts_file(d, name, type, a)) {
			cache_put(key, klen, a);
			hit = true;
		}
		if (hit)
			cb(arg, a);
		free(a);
		if (hit)
			return 1;
	}
	w = malloc(sizeof(*w));
	if (!w)
		return -ENOMEM;
	*w = (struct dns_waiter){.cb = cb, .arg = arg};
	for (q = d->queries; q; q = q->next)
		if (q->klen == klen && memcmp(q->key, key, klen) == 0)
			break;
	d->pending++;
	if (q) {
		/* the same question is on its way: wait for its answer */
		w->next = q->waiters;
		q->waiters = w;
		return 0;
	}
	q = calloc(1, sizeof(*q));
	if (!q) {
		d->pending--;
		free(w);
		return -ENOMEM;
	}
	q->d = d;
	q->type = type;
	memcpy(q->key, key, klen);
	q->klen = klen;
	q->waiters = w;
	q->next = d->queries;
	d->queries = q;
	d->st.queries++;
	/* may answer at once (no server): on_answer runs inside */
	ares_query(d->ch, name, 1 /* IN */, (int)type, on_answer, q);
	return 0;
}

/* ---- a worker's resolver --------------------------------------------------------- */

static int set_servers(struct dns *d, const struct netaddr *servers, unsigned n)
{
	struct ares_addr_port_node nodes[16];

	if (n > 16)
		n = 16;
	for (unsigned i = 0; i < n; i++) {
		struct ares_addr_port_node *o = &nodes[i];
		const struct netaddr *s = &servers[i];

		memset(o, 0, sizeof(*o));
		o->next = i + 1 < n ? &nodes[i + 1] : NULL;
		o->family = netaddr_family(s);
		if (o->family == AF_INET)
			memcpy(&o->addr.addr4, &s->u.in.sin_addr, 4);
		else
			memcpy(&o->addr.addr6, &s->u.in6.sin6_addr, 16);
		o->udp_port = o->tcp_port = netaddr_port(s);
	}
	return ares_set_servers_ports(d->ch, nodes) == ARES_SUCCESS ? 0 : -EINVAL;
}

struct dns *dns_new(const struct netaddr *servers, unsigned n, unsigned timeout_ms, unsigned tries)
{
	struct dns *d = calloc(1, sizeof(*d));
	struct ares_options o = {0};
	int rc;

	if (!d)
		return NULL;
	/* (counted by c-ares: one per resolver, made on one thread) */
	if (ares_library_init(ARES_LIB_INIT_ALL) != ARES_SUCCESS) {
		free(d);
		return NULL;
	}
	o.sock_state_cb = sock_state;
	o.sock_state_cb_data = d;
	o.timeout = (int)timeout_ms;
	o.tries = (int)tries;
	/* names are absolute: no search list (a SIP host is fully qualified) */
	o.flags = ARES_FLAG_NOSEARCH | ARES_FLAG_STAYOPEN;
	rc = ares_init_options(&d->ch, &o,
			       ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES |
				       ARES_OPT_FLAGS);
	if (rc != ARES_SUCCESS) {
		log_error("event=dns_init_failed error=\"%s\"", ares_strerror(rc));
		ares_library_cleanup();
		free(d);
		return NULL;
	}
	if (n && set_servers(d, servers, n) < 0) {
		log_error("event=dns_init_failed error=\"bad [dns] servers\"");
		ares_destroy(d->ch);
		ares_library_cleanup();
		free(d);
		return NULL;
	}
	return d;
}

void dns_free(struct dns *d)
{
	if (!d)
		return;
	d->closing = true;
	ares_destroy(d->ch); /* pending lookups end with ARES_EDESTRUCTION */
	ares_library_cleanup();
	free(d);
}
