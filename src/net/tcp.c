/*
 * tcp: see tcp.h.
 *
 * Ownership. A connection is reference-counted: the table holds one
 * reference while the connection is open, and a worker sending on it takes
 * one for the length of the send. Only the epoll thread removes a
 * connection from the table (on EOF, error, idle timeout or shutdown), so
 * the epoll thread may use its pointers without taking references; the fd
 * is closed when the last reference goes, so a worker's send can never hit
 * a reused descriptor.
 *
 * Locks. tbl_lock guards the table (two hash chains per connection: by id
 * and by remote address) and the count; each connection's wlock guards its
 * output queue and epoll event mask. The read buffer, the framing state
 * and the per-source counts belong to the epoll thread alone.
 *
 * Bounded work and memory per peer. Framing resumes where the last read
 * left it (sip_msg_frame_resume), so a message read a byte at a time
 * costs what it costs in one read. A message has message_timeout_s from
 * the read that brought its first byte; the once-a-second pass that
 * closes idle connections also closes late ones, since a peer dribbling
 * a byte a second keeps last_active fresh forever. Output queued for a
 * peer that does not read is capped per connection and in total (an
 * atomic sum of every queue): a worker whose send would pass a cap marks
 * the connection dead, drops its queue and shuts the socket down, and the
 * epoll thread, woken by the hang-up, closes and counts it, so counters
 * and logs stay on one thread. Accepted connections are counted per IP
 * address (any port) in a keyed hash; outgoing ones are not, as we chose
 * to open them.
 *
 * TLS (tls:, wss:) sits between the socket and the rest, over memory
 * BIOs, so OpenSSL never touches the socket and the code above stays one
 * path: the epoll thread reads ciphertext, feeds it to the SSL and reads
 * plaintext out into the same input buffer the framing reads; a send
 * encrypts into the write BIO and puts the ciphertext through the same
 * queue, caps and direct send() as clear text. Every call on a
 * connection's SSL is made under its wlock (an SSL object is not safe
 * from two threads at once), which the read side takes only for the
 * decryption itself. A send before the handshake is done waits as
 * plaintext (pend, counted in the caps like the queue); if an outgoing
 * connection never gets through its handshake (refused, or a
 * certificate that does not verify), each request waiting there goes
 * back as undelivered, as for a refused TCP connect. The handshake has
 * message_timeout_s from the accept (or connect) to finish, like a
 * message.
 *
 * WebSocket (ws:, wss:; RFC 7118): after the HTTP upgrade (ws.c), each
 * data message is one SIP message, so no Content-Length framing; a
 * SIP message we send is one unfragmented frame. Only clients open
 * WebSocket connections: a send to a WebSocket peer without one open
 * fails (its binding's request goes to the node that holds it,
 * proxy/core.c). The upgrade request must arrive whole within
 * message_timeout_s of the accept, and each frame's payload is capped at
 * max_message_size before a byte of it is buffered.
 */
#include "net/tcp.h"

#include "base/clock.h"
#include "base/log.h"
#include "base/siphash.h"
#include "net/tls.h"
#include "net/ws.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define TCP_READ_CHUNK  16384
#define TCP_MAX_LISTEN  16
#define TCP_EPOLL_BATCH 64

enum tcp_kind { TCP_KIND_LISTENER = 1, TCP_KIND_CONN };

struct tcp_listener {
	enum tcp_kind kind; /* first member: tells epoll data apart */
	int fd;
	unsigned index; /* of the transport's listeners */
	enum sip_proto proto;
};

struct tcp_conn {
	enum tcp_kind kind;
	uint64_t id;
	int fd;
	enum sip_proto proto;
	uint16_t listener;
	struct netaddr remote;
	atomic_int refs;
	_Atomic uint64_t last_active_ms;

	pthread_mutex_t wlock; /* out..capped */
	char *out;
	size_t out_len, out_cap; /* out_len is counted in queued_total */
	uint32_t events;
	bool connecting;
	bool dead;
	bool capped; /* closed for its output cap: the epoll thread counts it */

	/* TLS: the session over memory BIOs (owned by ssl); NULL in the
	 * clear. Under wlock: ssl, tls_up, pend. */
	SSL *ssl;
	BIO *rbio, *wbio;
	bool tls_up;
	char *pend; /* plaintext sent before the handshake ended */
	size_t pend_len, pend_cap;
	/* WebSocket: WS_UPGRADE until the HTTP upgrade, then WS_OPEN (set by
	 * the epoll thread; a send reads it under wlock). */
	uint8_t ws;
	bool peer_trusted; /* tls_peer_trusted(), once the handshake is done */

	/* Epoll thread only. */
	struct ws_decoder wsd;
	uint64_t last_rx_ms;   /* the last read that brought bytes */
	uint64_t ws_pinged_ms; /* our last WebSocket ping */
	char *in;
	size_t in_len, in_cap;
	struct sip_frame frame;       /* of the message at in[0] */
	uint64_t msg_start_ms;        /* when its first byte came; 0: none buffered */
	bool incoming;                /* accepted: counted in its source's entry */
	struct tcp_conn *next_victim; /* close_idle()'s list */

	struct tcp_conn *next_id, *next_addr; /* under tbl_lock */
	bool in_table;
};

/* Accepted connections open from one IP address (epoll thread only). */
struct tcp_source {
	struct netaddr host; /* port 0 */
	unsigned n;
	struct tcp_source *next;
};

static struct tcp_settings set;
static const struct sink *sink;
static void *sink_ctx;
static int epfd = -1;
static pthread_t tcp_thread;
static bool tcp_thread_started;
static atomic_bool tcp_stopping;
static struct tcp_listener tcp_listeners[TCP_MAX_LISTEN];
static unsigned tcp_nlisteners;

/* Addresses whose connection was refused lately, so a request that would
 * go over TCP only for its size goes straight over UDP for a while
 * instead of failing a connect each time (RFC 3261 §18.1.1; Kamailio's
 * dst_blocklist does the same). A small ring: oldest entry replaced. */
#define TCP_REFUSED_SLOTS 64
#define TCP_REFUSED_MS    60000
static pthread_mutex_t refused_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
	struct netaddr addr;
	uint64_t until_ms;
} refused[TCP_REFUSED_SLOTS];
static unsigned refused_next;

static pthread_mutex_t tbl_lock = PTHREAD_MUTEX_INITIALIZER;
static struct tcp_conn **by_id, **by_addr;
static size_t tbl_mask;
static unsigned tbl_count;
static uint64_t next_conn_id = 1;

enum { WS_NONE = 0, WS_UPGRADE, WS_OPEN };

/* What each stream transport did (tcp_stats()). */
static struct {
	_Atomic uint64_t bytes_in, bytes_out, handshakes, handshake_failures;
	unsigned open; /* under tbl_lock */
} stats[SIP_PROTO__COUNT];

/* Sources whose handshake failed, logged once a minute each (epoll
 * thread only): a ring, oldest entry replaced. */
#define HS_FAIL_SLOTS 64
#define HS_FAIL_MS    60000
static struct {
	struct netaddr host;
	bool out; /* our connection to it: a peer's noise hides not our own */
	uint64_t until_ms;
	unsigned unlogged;
} hs_failed[HS_FAIL_SLOTS];
static unsigned hs_failed_next;

/* Ciphertext as read, before the SSL has it (epoll thread only). */
static char tls_scratch[TCP_READ_CHUNK];

static struct tcp_source **sources;   /* tbl_mask + 1 chains; epoll thread only */
static _Atomic uint64_t queued_total; /* bytes in every output queue */
static struct log_rate lr_source, lr_output, lr_limit;

/* ---- table ---------------------------------------------------------- */

static size_t id_slot(uint64_t id)
{
	return (size_t)(id * 0x9e3779b97f4a7c15ULL >> 20) & tbl_mask;
}

static size_t addr_slot(const struct netaddr *a, enum sip_proto p)
{
	return (size_t)(netaddr_hash(a) ^ (uint64_t)p) & tbl_mask;
}

static int table_init(unsigned max_conns)
{
	size_t n = 64;

	while (n < max_conns && n < (1u << 20))
		n <<= 1;
	by_id = calloc(n, sizeof(*by_id));
	by_addr = calloc(n, sizeof(*by_addr));
	sources = calloc(n, sizeof(*sources));
	if (!by_id || !by_addr || !sources) {
		free(by_id);
		free(by_addr);
		free(sources);
		by_id = by_addr = NULL;
		sources = NULL;
		return -ENOMEM;
	}
	tbl_mask = n - 1;
	return 0;
}

/* Under tbl_lock. */
static void table_insert(struct tcp_conn *c)
{
	size_t s = id_slot(c->id);
	size_t a = addr_slot(&c->remote, c->proto);

	c->next_id = by_id[s];
	by_id[s] = c;
	c->next_addr = by_addr[a];
	by_addr[a] = c;
	c->in_table = true;
	tbl_count++;
	stats[c->proto].open++;
}

/* Under tbl_lock. */
static void table_remove(struct tcp_conn *c)
{
	struct tcp_conn **pp;

	if (!c->in_table)
		return;
	for (pp = &by_id[id_slot(c->id)]; *pp; pp = &(*pp)->next_id)
		if (*pp == c) {
			*pp = c->next_id;
			break;
		}
	for (pp = &by_addr[addr_slot(&c->remote, c->proto)]; *pp; pp = &(*pp)->next_addr)
		if (*pp == c) {
			*pp = c->next_addr;
			break;
		}
	c->in_table = false;
	tbl_count--;
	stats[c->proto].open--;
}

/* Under tbl_lock. */
static struct tcp_conn *table_find_id(uint64_t id)
{
	for (struct tcp_conn *c = by_id[id_slot(id)]; c; c = c->next_id)
		if (c->id == id)
			return c;
	return NULL;
}

/* Under tbl_lock. */
static struct tcp_conn *table_find_addr(const struct netaddr *a, enum sip_proto p)
{
	for (struct tcp_conn *c = by_addr[addr_slot(a, p)]; c; c = c->next_addr)
		if (c->proto == p && netaddr_equal(&c->remote, a))
			return c;
	return NULL;
}

/* ---- connections per source ----------------------------------------- */

/* Keyed: a peer choosing its IPv6 addresses cannot build long chains. */
static size_t source_slot(const struct netaddr *host)
{
	const void *p = &host->u.in.sin_addr;
	size_t n = 4;

	if (netaddr_family(host) == AF_INET6) {
		p = &host->u.in6.sin6_addr;
		n = 16;
	}
	return (size_t)siphash(siphash_process_key(), p, n) & tbl_mask;
}

/* Takes one slot of remote's IP address. Returns 0, -EMFILE when it holds
 * max_per_source already, or -ENOMEM. */
static int source_take(const struct netaddr *remote)
{
	struct netaddr host = *remote;
	struct tcp_source **head, *s;

	netaddr_set_port(&host, 0);
	head = &sources[source_slot(&host)];
	for (s = *head; s; s = s->next)
		if (netaddr_equal_host(&s->host, &host))
			break;
	if (!s) {
		s = calloc(1, sizeof(*s));
		if (!s)
			return -ENOMEM;
		s->host = host;
		s->next = *head;
		*head = s;
	}
	if (s->n >= set.max_per_source)
		return -EMFILE; /* s->n > 0: never an empty entry left behind */
	s->n++;
	return 0;
}

/* Gives back a slot source_take(remote) took. */
static void source_release(const struct netaddr *remote)
{
	struct netaddr host = *remote;
	struct tcp_source **pp, *s;

	netaddr_set_port(&host, 0);
	for (pp = &sources[source_slot(&host)]; (s = *pp) != NULL; pp = &s->next)
		if (netaddr_equal_host(&s->host, &host)) {
			if (--s->n == 0) {
				*pp = s->next;
				free(s);
			}
			break;
		}
}

/* Abuse is logged at most once a second per kind, with how many events
 * went unlogged meanwhile. Epoll thread only. */
static bool lograte_ok(struct log_rate *r, unsigned *skipped)
{
	return log_rate_ok(r, clock_now_ms(), 1, skipped);
}

/* ---- connection lifetime --------------------------------------------- */

static struct tcp_conn *conn_new(int fd, enum sip_proto proto, unsigned listener,
				 const struct netaddr *remote)
{
	struct tcp_conn *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->kind = TCP_KIND_CONN;
	c->fd = fd;
	c->proto = proto;
	c->listener = (uint16_t)listener;
	c->remote = *remote;
	atomic_init(&c->refs, 1); /* the table's */
	atomic_init(&c->last_active_ms, clock_now_ms());
	c->last_rx_ms = clock_now_ms();
	pthread_mutex_init(&c->wlock, NULL);
	return c;
}

/* Under c->wlock (or with the last reference): frees the output queue
 * and what waits for the TLS handshake. */
static void conn_drop_output(struct tcp_conn *c)
{
	atomic_fetch_sub_explicit(&queued_total, c->out_len + c->pend_len, memory_order_relaxed);
	free(c->out);
	c->out = NULL;
	c->out_len = c->out_cap = 0;
	free(c->pend);
	c->pend = NULL;
	c->pend_len = c->pend_cap = 0;
}

static void conn_unref(struct tcp_conn *c)
{
	if (atomic_fetch_sub_explicit(&c->refs, 1, memory_order_acq_rel) != 1)
		return;
	conn_drop_output(c);
	close(c->fd);
	pthread_mutex_destroy(&c->wlock);
	SSL_free(c->ssl); /* and its BIOs */
	ws_decoder_free(&c->wsd);
	free(c->in);
	free(c);
}

/* Gives c a TLS session (ssl taken) over memory BIOs. Returns 0 or
 * -ENOMEM (ssl freed). Before c is shared. */
static int conn_tls_attach(struct tcp_conn *c, SSL *ssl)
{
	BIO *r = BIO_new(BIO_s_mem()), *w = BIO_new(BIO_s_mem());

	if (!ssl || !r || !w) {
		BIO_free(r);
		BIO_free(w);
		SSL_free(ssl);
		ERR_clear_error();
		return -ENOMEM;
	}
	/* An empty read BIO says "retry", not EOF: more may come. */
	BIO_set_mem_eof_return(r, -1);
	SSL_set_bio(ssl, r, w);
	c->ssl = ssl;
	c->rbio = r;
	c->wbio = w;
	return 0;
}

static int conn_tls_drain(struct tcp_conn *c);

/* One of c's two output queues: out (bytes for the wire) or, plain, pend
 * (plaintext waiting for the TLS handshake). */
struct conn_q {
	char **buf;
	size_t *len, *cap;
};

static struct conn_q conn_q_of(struct tcp_conn *c, bool plain)
{
	return plain ? (struct conn_q){&c->pend, &c->pend_len, &c->pend_cap}
		     : (struct conn_q){&c->out, &c->out_len, &c->out_cap};
}

/* Epoll thread only: takes the connection out of service. Its output
 * queue goes at once, not with the last reference, so that the bytes
 * leave queued_total now. A connection a worker closed for its output cap
 * is counted and logged here, whatever woke us. */
static void conn_close(struct tcp_conn *c, const char *why)
{
	char addr[NETADDR_STRLEN];
	unsigned skipped;
	bool capped;

	pthread_mutex_lock(&tbl_lock);
	table_remove(c);
	pthread_mutex_unlock(&tbl_lock);
	pthread_mutex_lock(&c->wlock);
	if (c->ssl && c->tls_up && !c->dead) {
		/* close_notify, so the peer knows nothing was cut (RFC 8446
		 * §6.1); best effort, as the queue goes now */
		(void)SSL_shutdown(c->ssl);
		ERR_clear_error();
		(void)conn_tls_drain(c);
	}
	c->dead = true;
	capped = c->capped;
	conn_drop_output(c);
	pthread_mutex_unlock(&c->wlock);
	(void)epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
	if (c->incoming) {
		source_release(&c->remote);
		c->incoming = false;
	}
	netaddr_format(&c->remote, addr, sizeof(addr));
	if (capped) {
		why = "output_cap";
		sink->count(sink_ctx, SINK_TCP_OUTPUT);
		if (lograte_ok(&lr_output, &skipped))
			log_warn("event=tcp_closed reason=output_cap conn=%llu remote=%s "
				 "max_queued=%u max_queued_total=%llu unlogged=%u",
				 (unsigned long long)c->id, addr, set.max_queued,
				 (unsigned long long)set.max_queued_total, skipped);
	}
	log_debug("event=tcp_close conn=%llu remote=%s reason=%s", (unsigned long long)c->id, addr,
		  why);
	conn_unref(c);
}

static void refused_note(const struct netaddr *a)
{
	uint64_t until = clock_now_ms() + TCP_REFUSED_MS;
	unsigned i;

	if (log_enabled(LOG_LVL_DEBUG)) {
		char s[NETADDR_STRLEN];

		netaddr_format(a, s, sizeof(s));
		log_debug("event=tcp_refused remote=%s", s);
	}
	pthread_mutex_lock(&refused_lock);
	for (i = 0; i < TCP_REFUSED_SLOTS; i++)
		if (netaddr_equal(&refused[i].addr, a))
			break;
	if (i == TCP_REFUSED_SLOTS) {
		i = refused_next;
		refused_next = (refused_next + 1) % TCP_REFUSED_SLOTS;
		refused[i].addr = *a;
	}
	refused[i].until_ms = until;
	pthread_mutex_unlock(&refused_lock);
}

bool tcp_refused_recently(const struct netaddr *a)
{
	uint64_t now = clock_now_ms();
	bool found = false;

	pthread_mutex_lock(&refused_lock);
	for (unsigned i = 0; i < TCP_REFUSED_SLOTS && !found; i++)
		found = refused[i].until_ms > now && netaddr_equal(&refused[i].addr, a);
	pthread_mutex_unlock(&refused_lock);
	return found;
}

/* Epoll thread only: closes c after an error. When c never connected
 * (refused, unreachable), not a byte of its queued output left: each
 * request in it goes back to the worker that sent it (through the sink,
 * so to the shard of its Call-ID), whose client transaction then fails at
 * once instead of at Timer B, and a request sent over TCP for its size
 * alone is retried over UDP (RFC 3261 §17.1.4, §18.1.1). */
static void conn_fail(struct tcp_conn *c, const char *why)
{
	struct sip_source src = {.proto = c->proto, .listener = c->listener, .remote = c->remote};
	char *out = NULL;
	size_t len = 0, off = 0;
	bool never_up, was_refused;

	pthread_mutex_lock(&c->wlock);
	was_refused = c->connecting;
	/* Over TLS, not up until the handshake is done; what waits is
	 * plaintext in pend (out holds only handshake records then). */
	never_up = was_refused || (c->ssl && !c->tls_up && !c->incoming);
	if (never_up) {
		struct conn_q q = conn_q_of(c, c->ssl != NULL);

		out = *q.buf;
		len = *q.len;
		*q.buf = NULL;
		*q.len = *q.cap = 0;
		atomic_fetch_sub_explicit(&queued_total, len, memory_order_relaxed);
		if (was_refused)
			why = "refused";
	}
	c->dead = true; /* from now on a send fails at once */
	pthread_mutex_unlock(&c->wlock);
	if (was_refused)
		refused_note(&c->remote);
	conn_close(c, why);
	while (off < len) {
		struct sip_error err = {0, NULL};
		size_t skipped = 0;
		ssize_t n = sip_msg_frame(out + off, len - off, &set.limits, &skipped, &err);

		if (n <= 0)
			break; /* our own output: cannot happen */
		off += skipped;
		sink->message(sink_ctx, out + off, (size_t)n, &src, SINK_UNDELIVERED);
		off += (size_t)n;
	}
	free(out);
}

/* Under c->wlock. */
static void conn_set_events(struct tcp_conn *c, uint32_t events)
{
	struct epoll_event ev = {.events = events, .data.ptr = c};

	if (c->events == events || c->dead)
		return;
	if (epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev) == 0)
		c->events = events;
}

/* Under c->wlock: appends to the output queue (plain: to what waits for
 * the TLS handshake). Returns 0, -ENOBUFS when that would pass
 * max_queued or max_queued_total, or -ENOMEM. */
static int conn_queue(struct tcp_conn *c, bool plain, const char *buf, size_t len)
{
	struct conn_q cq = conn_q_of(c, plain);
	char **q = cq.buf;
	size_t *qlen = cq.len, *qcap = cq.cap;

	if (c->out_len + c->pend_len + len > set.max_queued)
		return -ENOBUFS;
	/* Reserve first: two threads racing for the last bytes cannot both
	 * get them. */
	if (atomic_fetch_add_explicit(&queued_total, len, memory_order_relaxed) + len >
	    set.max_queued_total) {
		atomic_fetch_sub_explicit(&queued_total, len, memory_order_relaxed);
		return -ENOBUFS;
	}
	if (*qlen + len > *qcap) {
		size_t cap = *qcap ? *qcap : 4096;
		char *p;

		while (cap < *qlen + len)
			cap *= 2;
		p = realloc(*q, cap);
		if (!p) {
			atomic_fetch_sub_explicit(&queued_total, len, memory_order_relaxed);
			return -ENOMEM;
		}
		*q = p;
		*qcap = cap;
	}
	memcpy(*q + *qlen, buf, len);
	*qlen += len;
	return 0;
}

/* Under c->wlock: writes as much queued output as the socket takes. */
static int conn_flush(struct tcp_conn *c)
{
	size_t off = 0;

	while (off < c->out_len) {
		ssize_t n =
			send(c->fd, c->out + off, c->out_len - off, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			return -errno;
		}
		off += (size_t)n;
	}
	/* Nothing may be queued yet: a connect can complete before the
	 * worker that opened it queues its message (out is then NULL). */
	if (off) {
		memmove(c->out, c->out + off, c->out_len - off);
		c->out_len -= off;
		atomic_fetch_sub_explicit(&queued_total, off, memory_order_relaxed);
		atomic_fetch_add_explicit(&stats[c->proto].bytes_out, off, memory_order_relaxed);
	}
	conn_set_events(c, EPOLLIN | EPOLLRDHUP | (c->out_len ? EPOLLOUT : 0));
	return 0;
}

/* Under c->wlock: bytes for the wire (ciphertext over TLS): sent at once
 * when nothing waits before them, else queued for the epoll thread. */
static int conn_put_raw(struct tcp_conn *c, const char *buf, size_t len)
{
	int rc;

	if (c->out_len == 0 && !c->connecting) {
		ssize_t n;

		do
			n = send(c->fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		while (n < 0 && errno == EINTR);
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
			rc = -errno;
			/* The epoll thread sees the error and closes. */
			(void)shutdown(c->fd, SHUT_RDWR);
			return rc;
		}
		if (n > 0) {
			atomic_fetch_add_explicit(&stats[c->proto].bytes_out, (uint64_t)n,
						  memory_order_relaxed);
			buf += n;
			len -= (size_t)n;
		}
		if (len == 0)
			return 0;
	}
	rc = conn_queue(c, false, buf, len);
	if (rc == -ENOBUFS && !c->connecting) {
		/* A peer that does not read: close rather than hold its
		 * output. The shutdown wakes the epoll thread, which closes
		 * and counts (conn_close). A connection still connecting only
		 * refuses this send: its peer has had no chance to read, and
		 * what it queued goes back as undelivered if it fails. */
		c->capped = true;
		c->dead = true;
		conn_drop_output(c);
		(void)shutdown(c->fd, SHUT_RDWR);
		return rc;
	}
	if (rc == 0 && !c->connecting)
		conn_set_events(c, EPOLLIN | EPOLLRDHUP | EPOLLOUT);
	return rc;
}

/* Under c->wlock: what the SSL wrote (records, alerts) to the wire. */
static int conn_tls_drain(struct tcp_conn *c)
{
	char *p;
	long n = BIO_get_mem_data(c->wbio, &p);
	int rc = 0;

	if (n > 0) {
		rc = conn_put_raw(c, p, (size_t)n);
		(void)BIO_reset(c->wbio);
	}
	return rc;
}

/* Under c->wlock: plaintext to c, encrypted over TLS; before the
 * handshake is done it waits (a cap refuses the send, as for a
 * connection still connecting). */
static int conn_put(struct tcp_conn *c, const char *buf, size_t len)
{
	if (!c->ssl)
		return conn_put_raw(c, buf, len);
	if (!c->tls_up)
		return conn_queue(c, true, buf, len);
	/* Into a memory BIO: the whole of it, or a broken session. */
	if (SSL_write(c->ssl, buf, (int)len) != (int)len) {
		ERR_clear_error();
		c->dead = true;
		(void)shutdown(c->fd, SHUT_RDWR);
		return -EIO;
	}
	return conn_tls_drain(c);
}

/* Under c->wlock: one WebSocket frame of op with payload buf (RFC 6455
 * §5.2; a server's frames are not masked). */
static int conn_put_frame(struct tcp_conn *c, enum ws_opcode op, const void *buf, size_t len)
{
	uint8_t small[4096];
	uint8_t *f = len + WS_HEADER_MAX <= sizeof(small) ? small : malloc(len + WS_HEADER_MAX);
	size_t h;
	int rc;

	if (!f)
		return -ENOMEM;
	h = ws_frame_header(f, op, len);
	if (len)
		memcpy(f + h, buf, len);
	rc = conn_put(c, (const char *)f, h + len);
	if (f != small)
		free(f);
	return rc;
}

/* Any thread: sends the SIP message buf on c (one frame over WebSocket,
 * RFC 7118 §5.1). */
static int conn_write(struct tcp_conn *c, const char *buf, size_t len)
{
	int rc;

	pthread_mutex_lock(&c->wlock);
	if (c->dead)
		rc = -ECONNRESET;
	else if (c->ws == WS_OPEN)
		rc = conn_put_frame(c, ws_message_opcode(buf, len), buf, len);
	else if (c->ws == WS_UPGRADE)
		rc = -ENOTCONN; /* nothing of ours can be for it yet */
	else
		rc = conn_put(c, buf, len);
	pthread_mutex_unlock(&c->wlock);
	if (rc == 0)
		atomic_store_explicit(&c->last_active_ms, clock_now_ms(), memory_order_relaxed);
	return rc;
}

/* Epoll thread: a control frame of op, or (op 0) bytes as they are: the
 * upgrade's HTTP response, a whole close frame. */
static void conn_write_ws(struct tcp_conn *c, enum ws_opcode op, const void *buf, size_t len)
{
	pthread_mutex_lock(&c->wlock);
	if (!c->dead)
		(void)(op ? conn_put_frame(c, op, buf, len) : conn_put(c, buf, len));
	pthread_mutex_unlock(&c->wlock);
}

static void set_nodelay(int fd)
{
	int one = 1;

	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

/* Under tbl_lock: opens a connection to d->addr; the new connection is in
 * the table and the epoll set, still connecting. */
static struct tcp_conn *conn_connect_locked(const struct sip_dest *d, int *err)
{
	int family = netaddr_family(&d->addr);
	int listener = d->listener;
	struct epoll_event ev;
	struct tcp_conn *c;
	int fd;

	if (sip_proto_is_ws(d->proto)) {
		*err = -ENOTCONN; /* only the client opens one (RFC 7118 §4) */
		return NULL;
	}
	if (tbl_count >= set.max_connections) {
		*err = -EMFILE;
		return NULL;
	}
	fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		*err = -errno;
		return NULL;
	}
	set_nodelay(fd);
	if (connect(fd, &d->addr.u.sa, d->addr.len) < 0 && errno != EINPROGRESS) {
		*err = -errno;
		if (errno == ECONNREFUSED || errno == ENETUNREACH || errno == EHOSTUNREACH)
			refused_note(&d->addr);
		close(fd);
		return NULL;
	}
	c = conn_new(fd, d->proto, (unsigned)listener, &d->addr);
	if (!c) {
		*err = -ENOMEM;
		close(fd);
		return NULL;
	}
	c->id = next_conn_id++;
	c->connecting = true;
	if (d->proto == SIP_PROTO_TLS) {
		/* The ClientHello waits in the queue for the connect; the
		 * handshake has message_timeout_s from now. Nobody else sees c
		 * yet, so no lock. */
		if (conn_tls_attach(c, tls_client_new(d->name, &d->addr)) < 0) {
			*err = -ENOMEM;
			conn_unref(c);
			return NULL;
		}
		(void)SSL_do_handshake(c->ssl);
		ERR_clear_error();
		(void)conn_tls_drain(c);
		c->msg_start_ms = clock_now_ms();
	}
	c->events = EPOLLIN | EPOLLOUT | EPOLLRDHUP;
	ev.events = c->events;
	ev.data.ptr = c;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		*err = -errno;
		conn_unref(c);
		return NULL;
	}
	table_insert(c);
	return c;
}

int tcp_send(const struct sip_dest *d, const char *buf, size_t len)
{
	struct tcp_conn *c = NULL;
	int rc = -ECONNRESET;

	if (epfd < 0)
		return -EAFNOSUPPORT;
	pthread_mutex_lock(&tbl_lock);
	if (d->conn_id)
		c = table_find_id(d->conn_id);
	if (!c)
		c = table_find_addr(&d->addr, d->proto);
	if (!c && !atomic_load(&tcp_stopping))
		c = conn_connect_locked(d, &rc);
	if (c)
		atomic_fetch_add_explicit(&c->refs, 1, memory_order_relaxed);
	pthread_mutex_unlock(&tbl_lock);
	if (!c)
		return rc;
	rc = conn_write(c, buf, len);
	conn_unref(c);
	return rc;
}

void tcp_stats(enum sip_proto p, struct tcp_stats *st)
{
	memset(st, 0, sizeof(*st));
	if ((unsigned)p >= SIP_PROTO__COUNT)
		return;
	pthread_mutex_lock(&tbl_lock);
	st->connections = stats[p].open;
	pthread_mutex_unlock(&tbl_lock);
	st->bytes_in = atomic_load_explicit(&stats[p].bytes_in, memory_order_relaxed);
	st->bytes_out = atomic_load_explicit(&stats[p].bytes_out, memory_order_relaxed);
	st->handshakes = atomic_load_explicit(&stats[p].handshakes, memory_order_relaxed);
	st->handshake_failures =
		atomic_load_explicit(&stats[p].handshake_failures, memory_order_relaxed);
}

unsigned tcp_connection_count(void)
{
	unsigned n;

	pthread_mutex_lock(&tbl_lock);
	n = tbl_count;
	pthread_mutex_unlock(&tbl_lock);
	return n;
}

/* ---- epoll thread ---------------------------------------------------- */

int tcp_listen_open(const struct netaddr *addr)
{
	int one = 1;
	int fd, rc;

	fd = socket(netaddr_family(addr), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (netaddr_family(addr) == AF_INET6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, &addr->u.sa, addr->len) < 0 || listen(fd, 1024) < 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	return fd;
}

/* Refuses an accepted fd whose address holds max_per_source already. */
static void refuse_source(int fd, const struct netaddr *remote)
{
	unsigned skipped;

	close(fd);
	sink->count(sink_ctx, SINK_TCP_PER_SOURCE);
	if (lograte_ok(&lr_source, &skipped)) {
		char addr[NETADDR_STRLEN];

		netaddr_format_host(remote, addr, sizeof(addr), false);
		log_warn("event=tcp_refused reason=per_source_limit remote=%s limit=%u unlogged=%u",
			 addr, set.max_per_source, skipped);
	}
}

static void accept_all(struct tcp_listener *l)
{
	for (;;) {
		struct netaddr remote = {.len = sizeof(remote.u)};
		struct epoll_event ev;
		struct tcp_conn *c;
		int fd, rc;

		fd = accept4(l->fd, &remote.u.sa, &remote.len, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				log_warn("event=tcp_accept_error error=\"%s\"", strerror(errno));
			return;
		}
		rc = source_take(&remote);
		if (rc < 0) {
			if (rc == -EMFILE)
				refuse_source(fd, &remote);
			else
				close(fd);
			continue;
		}
		pthread_mutex_lock(&tbl_lock);
		c = NULL;
		if (tbl_count >= set.max_connections) {
			unsigned skipped;

			if (lograte_ok(&lr_limit, &skipped))
				log_warn("event=tcp_refused reason=connection_limit limit=%u "
					 "unlogged=%u",
					 set.max_connections, skipped);
		} else {
			c = conn_new(fd, l->proto, l->index, &remote);
		}
		if (!c) {
			pthread_mutex_unlock(&tbl_lock);
			source_release(&remote);
			close(fd);
			continue;
		}
		set_nodelay(fd);
		if ((l->proto == SIP_PROTO_TLS || l->proto == SIP_PROTO_WSS) &&
		    conn_tls_attach(c, tls_server_new()) < 0) {
			pthread_mutex_unlock(&tbl_lock);
			source_release(&remote);
			conn_unref(c);
			continue;
		}
		/* The TLS handshake and the WebSocket upgrade have
		 * message_timeout_s from now, like a message. */
		if (c->ssl || sip_proto_is_ws(l->proto))
			c->msg_start_ms = clock_now_ms();
		if (sip_proto_is_ws(l->proto))
			c->ws = WS_UPGRADE;
		c->id = next_conn_id++;
		c->incoming = true;
		c->events = EPOLLIN | EPOLLRDHUP;
		ev.events = c->events;
		ev.data.ptr = c;
		if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
			pthread_mutex_unlock(&tbl_lock);
			source_release(&remote);
			conn_unref(c);
			continue;
		}
		table_insert(c);
		pthread_mutex_unlock(&tbl_lock);
	}
}

/*
 * Leading CR/LF bytes before a message: RFC 5626 §4.4.1 pings (CRLFCRLF)
 * get a CRLF pong; RFC 3261 §7.5 says stray CRLFs before a start line are
 * ignored. Returns how many bytes to consume; keeps an incomplete ping.
 */
static size_t keepalive_consume(struct tcp_conn *c, const char *p, size_t n)
{
	size_t k = 0;

	while (k < n && (p[k] == '\r' || p[k] == '\n'))
		k++;
	if (k == 0)
		return 0;
	for (size_t i = 0; i + 4 <= k; i += 4) {
		if (memcmp(p + i, "\r\n\r\n", 4) == 0) {
			sink->count(sink_ctx, SINK_KEEPALIVE);
			(void)conn_write(c, "\r\n", 2);
		}
	}
	/* At the end of what we have, a partial ping may still be arriving. */
	if (k == n)
		return k - k % 4;
	return k;
}

/* Room for at least a quarter chunk more in c->in. Returns 0, -EMSGSIZE
 * when it is at its cap (the largest message and a chunk: framing would
 * have said "too big" before, so a defensive end) or -ENOMEM. */
static int in_grow(struct tcp_conn *c)
{
	size_t max = set.limits.max_message_size + TCP_READ_CHUNK;
	size_t cap;
	char *p;

	if (c->in_cap - c->in_len >= TCP_READ_CHUNK / 4)
		return 0;
	cap = c->in_cap ? c->in_cap * 2 : TCP_READ_CHUNK;
	if (cap > max)
		cap = max;
	if (cap <= c->in_len || cap - c->in_len < 64)
		return -EMSGSIZE;
	p = realloc(c->in, cap);
	if (!p)
		return -ENOMEM;
	c->in = p;
	c->in_cap = cap;
	return 0;
}

/* Epoll thread: a handshake (TLS or WebSocket upgrade) that failed is
 * counted, and logged once a minute per address and direction. */
static void handshake_failed(struct tcp_conn *c, const char *what, const char *why)
{
	uint64_t now = clock_now_ms();
	struct netaddr host = c->remote;
	char addr[NETADDR_STRLEN];
	unsigned i, skipped = 0;

	atomic_fetch_add_explicit(&stats[c->proto].handshake_failures, 1, memory_order_relaxed);
	netaddr_set_port(&host, 0);
	for (i = 0; i < HS_FAIL_SLOTS; i++)
		if (hs_failed[i].out == !c->incoming && netaddr_equal(&hs_failed[i].host, &host))
			break;
	if (i < HS_FAIL_SLOTS && hs_failed[i].until_ms > now) {
		hs_failed[i].unlogged++;
		return;
	}
	if (i == HS_FAIL_SLOTS) {
		i = hs_failed_next;
		hs_failed_next = (hs_failed_next + 1) % HS_FAIL_SLOTS;
		hs_failed[i].host = host;
		hs_failed[i].out = !c->incoming;
		hs_failed[i].unlogged = 0;
	}
	skipped = hs_failed[i].unlogged;
	hs_failed[i].unlogged = 0;
	hs_failed[i].until_ms = now + HS_FAIL_MS;
	netaddr_format(&c->remote, addr, sizeof(addr));
	log_warn("event=%s_handshake_failed transport=%s remote=%s direction=%s error=\"%s\" "
		 "unlogged=%u",
		 what, sip_proto_name(c->proto), addr, c->incoming ? "in" : "out", why, skipped);
}

/* Under c->wlock: the TLS handshake is done. What waited for it goes. */
static int tls_handshake_done(struct tcp_conn *c)
{
	int rc = 0;

	c->tls_up = true;
	/* wss: counted once the upgrade that follows is done too */
	if (!c->ws)
		atomic_fetch_add_explicit(&stats[c->proto].handshakes, 1, memory_order_relaxed);
	if (c->incoming)
		c->peer_trusted = tls_peer_trusted(c->ssl);
	if (c->ws != WS_UPGRADE)
		c->msg_start_ms = 0;
	if (c->pend_len) {
		char *p = c->pend;
		size_t n = c->pend_len;

		c->pend = NULL;
		c->pend_len = c->pend_cap = 0;
		atomic_fetch_sub_explicit(&queued_total, n, memory_order_relaxed);
		rc = conn_put(c, p, n);
		free(p);
	}
	if (log_enabled(LOG_LVL_DEBUG))
		log_debug("event=tls_up conn=%llu version=%s cipher=%s peer_trusted=%d",
			  (unsigned long long)c->id, SSL_get_version(c->ssl),
			  SSL_get_cipher_name(c->ssl), c->peer_trusted);
	return rc;
}

/* Under c->wlock, epoll thread: moves the handshake on and decrypts what
 * the read BIO holds into c->in, as far as there is room. Returns 0 (all
 * read: the SSL wants more), 1 (c->in is full: frame, then call again),
 * or a negative errno with *why: the connection must close. */
static int tls_pump(struct tcp_conn *c, const char **why)
{
	int r, e, full = 0;

	if (!c->tls_up) {
		r = SSL_do_handshake(c->ssl);
		if (r != 1) {
			e = SSL_get_error(c->ssl, r);
			if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
				return conn_tls_drain(c); /* our next flight */
			*why = tls_error_text(c->ssl, r);
			(void)conn_tls_drain(c); /* the alert */
			return -EPROTO;
		}
		if (tls_handshake_done(c) < 0) {
			*why = "send";
			return -EIO;
		}
	}
	for (;;) {
		int g = in_grow(c);

		if (g == -EMSGSIZE) {
			full = 1;
			break;
		}
		if (g < 0) {
			*why = "oom";
			return g;
		}
		r = SSL_read(c->ssl, c->in + c->in_len, (int)(c->in_cap - c->in_len));
		if (r > 0) {
			c->in_len += (size_t)r;
			continue;
		}
		e = SSL_get_error(c->ssl, r);
		if (e == SSL_ERROR_WANT_READ)
			break;
		*why = e == SSL_ERROR_ZERO_RETURN ? "close_notify" : tls_error_text(c->ssl, r);
		(void)conn_tls_drain(c);
		return -ECONNRESET;
	}
	/* Session tickets, a key update's answer. */
	if (conn_tls_drain(c) < 0) {
		*why = "send";
		return -EIO;
	}
	return full;
}

/* Epoll thread: SIP messages framed by Content-Length from c->in
 * (§18.3). Returns false when the connection was closed. */
static bool frame_sip(struct tcp_conn *c, uint64_t now)
{
	size_t off = 0;

	while (off < c->in_len) {
		struct sip_source src = {.proto = c->proto,
					 .listener = c->listener,
					 .remote = c->remote,
					 .conn_id = c->id,
					 .peer_trusted = c->peer_trusted};
		struct sip_error err = {0, NULL};
		ssize_t len;

		/* Between messages only: in a message c->in[off] is its
		 * first byte, never CR or LF. */
		off += keepalive_consume(c, c->in + off, c->in_len - off);
		if (off >= c->in_len || c->in[off] == '\r' || c->in[off] == '\n')
			break; /* nothing, or the start of a ping */
		if (!c->msg_start_ms)
			c->msg_start_ms = now;
		len = sip_msg_frame_resume(&c->frame, c->in + off, c->in_len - off, &set.limits,
					   &err);
		if (len == 0)
			break;
		if (len < 0) {
			/* The stream cannot be resynchronised: answer what we can
			 * and close (RFC 3261 §18.3). */
			sink->reject(sink_ctx, c->in + off, c->in_len - off, &src,
				     err.status ? err.status : 400, err.reason);
			sink->count(sink_ctx, SINK_PARSE_ERROR);
			conn_close(c, "framing_error");
			return false;
		}
		sink->message(sink_ctx, c->in + off, (size_t)len, &src, 0);
		off += (size_t)len;
		c->frame = SIP_FRAME_INIT;
		c->msg_start_ms = 0;
	}
	/* What is left came in this read (anything older would have been
	 * consumed before), so the move costs O(n). The framing state counts
	 * from the message's first byte and survives it. */
	if (off) {
		memmove(c->in, c->in + off, c->in_len - off);
		c->in_len -= off;
	}
	return true;
}

/* The longest upgrade request taken (a browser's is under 2 kB). */
#define WS_UPGRADE_MAX 8192

/* Epoll thread: the WebSocket upgrade, then one SIP message per data
 * message (RFC 7118 §5.1). Returns false when the connection was closed. */
static bool frame_ws(struct tcp_conn *c, uint64_t now)
{
	struct sip_source src = {.proto = c->proto,
				 .listener = c->listener,
				 .remote = c->remote,
				 .conn_id = c->id,
				 .peer_trusted = c->peer_trusted};
	size_t off = 0;

	while (off < c->in_len) {
		struct ws_event ev;
		size_t used = 0;
		uint8_t cf[4];

		if (c->ws == WS_UPGRADE) {
			char resp[WS_RESPONSE_MAX];
			size_t rlen = 0;
			unsigned status = 0;
			ssize_t n = ws_handshake(c->in + off, c->in_len - off, WS_UPGRADE_MAX, resp,
						 &rlen, &status);

			if (n == 0)
				break;
			conn_write_ws(c, 0, resp, rlen);
			if (n < 0) {
				char why[32];

				snprintf(why, sizeof(why), "HTTP %u", status);
				handshake_failed(c, "ws", why);
				conn_close(c, "ws_upgrade");
				return false;
			}
			pthread_mutex_lock(&c->wlock);
			c->ws = WS_OPEN;
			pthread_mutex_unlock(&c->wlock);
			atomic_fetch_add_explicit(&stats[c->proto].handshakes, 1,
						  memory_order_relaxed);
			off += (size_t)n;
			continue;
		}
		switch (ws_decode(&c->wsd, (uint8_t *)c->in + off, c->in_len - off,
				  set.limits.max_message_size, &used, &ev)) {
		case WS_EV_NONE:
			off += used; /* fragments taken into the decoder */
			goto out;
		case WS_EV_MESSAGE:
			if (ev.len)
				sink->message(sink_ctx, (const char *)ev.data, ev.len, &src, 0);
			break;
		case WS_EV_PING:
			conn_write_ws(c, WS_OP_PONG, ev.data, ev.len);
			break;
		case WS_EV_PONG:
			break;
		case WS_EV_CLOSE:
			/* §5.5.1: the close answered, then the TCP connection */
			conn_write_ws(c, 0, cf,
				      ws_close_frame(cf, ev.code == WS_CLOSE_NO_STATUS
								 ? WS_CLOSE_NORMAL
								 : ev.code));
			conn_close(c, "ws_close");
			return false;
		case WS_EV_ERROR:
			conn_write_ws(c, 0, cf, ws_close_frame(cf, ev.code));
			sink->count(sink_ctx, SINK_PARSE_ERROR);
			log_debug("event=ws_protocol_error conn=%llu code=%u",
				  (unsigned long long)c->id, ev.code);
			conn_close(c, "ws_protocol_error");
			return false;
		}
		off += used;
	}
out:
	if (off) {
		memmove(c->in, c->in + off, c->in_len - off);
		c->in_len -= off;
	}
	/* A frame or the upgrade request under way has message_timeout_s. */
	if (c->in_len || c->ws == WS_UPGRADE || c->wsd.msg_opcode)
		c->msg_start_ms = c->msg_start_ms ? c->msg_start_ms : now;
	else if (!c->ssl || c->tls_up)
		c->msg_start_ms = 0;
	return true;
}

/* Epoll thread: reads what the socket has and frames it. Returns false
 * when the connection was closed. */
static bool conn_read(struct tcp_conn *c)
{
	const char *why = NULL;
	uint64_t now;
	ssize_t n;
	int rc;

	if (!c->ssl) {
		rc = in_grow(c);
		if (rc < 0) {
			conn_close(c, rc == -EMSGSIZE ? "oversize" : "oom");
			return false;
		}
		n = read(c->fd, c->in + c->in_len, c->in_cap - c->in_len);
	} else {
		n = read(c->fd, tls_scratch, sizeof(tls_scratch));
	}
	if (n == 0) {
		conn_fail(c, "eof");
		return false;
	}
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return true;
		conn_fail(c, "read_error");
		return false;
	}
	atomic_fetch_add_explicit(&stats[c->proto].bytes_in, (uint64_t)n, memory_order_relaxed);
	now = clock_now_ms();
	atomic_store_explicit(&c->last_active_ms, now, memory_order_relaxed);
	c->last_rx_ms = now;
	if (!c->ssl) {
		c->in_len += (size_t)n;
		return c->ws ? frame_ws(c, now) : frame_sip(c, now);
	}
	/* Over TLS: decrypt, frame, and again while the SSL holds more than
	 * c->in had room for. */
	pthread_mutex_lock(&c->wlock);
	(void)BIO_write(c->rbio, tls_scratch, (int)n);
	for (;;) {
		size_t before = c->in_len;

		rc = tls_pump(c, &why);
		pthread_mutex_unlock(&c->wlock);
		if (rc < 0) {
			if (rc == -EPROTO)
				handshake_failed(c, "tls", why);
			conn_fail(c, rc == -EPROTO ? "tls_handshake" : why);
			return false;
		}
		if (rc == 1 && c->in_len == before) {
			conn_close(c, "oversize"); /* full, and framing took nothing */
			return false;
		}
		if (!(c->ws ? frame_ws(c, now) : frame_sip(c, now)))
			return false;
		if (rc == 0)
			return true;
		pthread_mutex_lock(&c->wlock);
	}
}

static void conn_writable(struct tcp_conn *c)
{
	int rc = 0;

	pthread_mutex_lock(&c->wlock);
	if (c->connecting) {
		int soerr = 0;
		socklen_t sl = sizeof(soerr);

		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
			soerr = errno;
		if (soerr) {
			pthread_mutex_unlock(&c->wlock);
			conn_fail(c, "connect_error");
			return;
		}
		c->connecting = false;
	}
	rc = conn_flush(c);
	pthread_mutex_unlock(&c->wlock);
	if (rc < 0)
		conn_close(c, "write_error");
}

/* Once a second: closes the connections silent for idle_timeout_s and
 * those whose buffered message began more than message_timeout_s ago.
 * O(table) per pass, nothing per read; no cap on how many go in one pass,
 * so a thousand late connections all go within the second they are due.
 *
 * A WebSocket client may say nothing for longer than that between two
 * registrations (browsers send no keep-alive of their own), and its
 * binding lives only as long as its connection: it gets a ping every
 * third of idle_timeout_s of silence (RFC 6455 §5.5.2), and is closed
 * only when it has sent nothing, not even the pong, for idle_timeout_s. */
static void close_idle(void)
{
	uint64_t now = clock_now_ms();
	uint64_t idle = (uint64_t)set.idle_timeout_s * 1000;
	uint64_t late = (uint64_t)set.message_timeout_s * 1000;
	struct tcp_conn *idle_list = NULL, *late_list = NULL, *ping_list = NULL, *c;
	char addr[NETADDR_STRLEN];
	unsigned nlate = 0;

	pthread_mutex_lock(&tbl_lock);
	for (size_t s = 0; s <= tbl_mask; s++)
		for (c = by_id[s]; c; c = c->next_id) {
			uint64_t last =
				atomic_load_explicit(&c->last_active_ms, memory_order_relaxed);

			/* msg_start_ms, last_rx_ms and ws (written under wlock,
			 * by this thread) are this thread's own. */
			if (c->ws == WS_OPEN && !c->msg_start_ms) {
				uint64_t quiet = c->last_rx_ms > c->ws_pinged_ms ? c->last_rx_ms
										 : c->ws_pinged_ms;

				if (now - c->last_rx_ms > idle) {
					c->next_victim = idle_list;
					idle_list = c;
				} else if (now - quiet >= idle / 3) {
					c->next_victim = ping_list;
					ping_list = c;
				}
			} else if (c->msg_start_ms && now - c->msg_start_ms > late) {
				c->next_victim = late_list;
				late_list = c;
			} else if (last < now && now - last > idle) {
				/* last < now: a worker's send may have stamped it
				 * after we read the clock. */
				c->next_victim = idle_list;
				idle_list = c;
			}
		}
	pthread_mutex_unlock(&tbl_lock);
	/* Only this thread removes connections, so the pointers stay valid. */
	while ((c = ping_list) != NULL) {
		ping_list = c->next_victim;
		c->ws_pinged_ms = now;
		conn_write_ws(c, WS_OP_PING, NULL, 0);
	}
	while ((c = idle_list) != NULL) {
		idle_list = c->next_victim;
		conn_close(c, "idle");
	}
	if (late_list)
		netaddr_format(&late_list->remote, addr, sizeof(addr));
	while ((c = late_list) != NULL) {
		late_list = c->next_victim;
		sink->count(sink_ctx, SINK_TCP_SLOW);
		/* an outgoing TLS connection whose handshake did not end in
		 * time hands back what waited for it, as a refused one does */
		conn_fail(c, "slow_message");
		nlate++;
	}
	/* One line per pass: at most one a second, however many. */
	if (nlate)
		log_warn("event=tcp_closed reason=slow_message count=%u remote=%s%s "
			 "message_timeout=%u",
			 nlate, addr, nlate > 1 ? ",..." : "", set.message_timeout_s);
}

static void *tcp_main(void *unused)
{
	struct epoll_event evs[TCP_EPOLL_BATCH];
	uint64_t next_scan = clock_now_ms() + 1000;

	while (!atomic_load(&tcp_stopping)) {
		int n = epoll_wait(epfd, evs, TCP_EPOLL_BATCH, 200);

		for (int i = 0; i < n; i++) {
			enum tcp_kind kind = *(enum tcp_kind *)evs[i].data.ptr;
			struct tcp_conn *c;

			if (kind == TCP_KIND_LISTENER) {
				accept_all(evs[i].data.ptr);
				continue;
			}
			c = evs[i].data.ptr;
			if (evs[i].events & (EPOLLERR | EPOLLHUP)) {
				conn_fail(c, (evs[i].events & EPOLLERR) ? "error" : "hangup");
				continue;
			}
			if ((evs[i].events & EPOLLOUT))
				conn_writable(c);
			/* Reads after writes: a close during the read must be last. */
			if (evs[i].events & (EPOLLIN | EPOLLRDHUP)) {
				/* Drain what is there now; level-triggered epoll
				 * brings us back for the rest. */
				if (!conn_read(c))
					continue;
			}
		}
		if (clock_now_ms() >= next_scan) {
			close_idle();
			next_scan = clock_now_ms() + 1000;
		}
	}
	return NULL;
}

int tcp_start(const struct tcp_settings *s, const struct sink *sk, void *ctx,
	      const struct tcp_listener_fd *l, unsigned n)
{
	int rc;

	set = *s;
	/* 0: no limit. */
	if (!set.max_per_source)
		set.max_per_source = UINT_MAX;
	if (!set.message_timeout_s)
		set.message_timeout_s = UINT_MAX / 1000;
	if (!set.max_queued)
		set.max_queued = UINT32_MAX;
	if (!set.max_queued_total)
		set.max_queued_total = UINT64_MAX;
	sink = sk;
	sink_ctx = ctx;
	if (n > TCP_MAX_LISTEN)
		return -EINVAL;
	rc = table_init(set.max_connections);
	if (rc < 0)
		return rc;
	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (epfd < 0)
		return -errno;
	for (unsigned i = 0; i < n; i++) {
		struct epoll_event ev = {.events = EPOLLIN};

		tcp_listeners[i] = (struct tcp_listener){.kind = TCP_KIND_LISTENER,
							 .fd = l[i].fd,
							 .index = l[i].index,
							 .proto = l[i].proto};
		ev.data.ptr = &tcp_listeners[i];
		if (epoll_ctl(epfd, EPOLL_CTL_ADD, l[i].fd, &ev) < 0)
			return -errno;
		tcp_nlisteners = i + 1;
	}
	rc = pthread_create(&tcp_thread, NULL, tcp_main, NULL);
	if (rc)
		return -rc;
	tcp_thread_started = true;
	return 0;
}

void tcp_stop(void)
{
	atomic_store(&tcp_stopping, true);
	if (tcp_thread_started) {
		pthread_join(tcp_thread, NULL);
		tcp_thread_started = false;
	}
}

void tcp_close_all(void)
{
	if (!by_id)
		return;
	for (;;) {
		struct tcp_conn *c = NULL;

		pthread_mutex_lock(&tbl_lock);
		for (size_t s = 0; s <= tbl_mask && !c; s++)
			c = by_id[s];
		pthread_mutex_unlock(&tbl_lock);
		if (!c)
			break;
		conn_close(c, "shutdown");
	}
	for (unsigned i = 0; i < tcp_nlisteners; i++)
		(void)epoll_ctl(epfd, EPOLL_CTL_DEL, tcp_listeners[i].fd, NULL);
	if (epfd >= 0)
		close(epfd);
	epfd = -1;
	free(by_id);
	free(by_addr);
	by_id = by_addr = NULL;
	/* Every accepted connection gave its slot back in conn_close. */
	free(sources);
	sources = NULL;
}
