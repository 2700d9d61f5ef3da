/*
 * udp: see udp.h. Reads never block: the workers wait for the sockets in
 * epoll(7) and read whatever is queued, so under load one system call
 * reads a whole batch. A datagram larger than the buffer is flagged
 * truncated and answered 513 by the worker (RFC 3261 §18.1.1).
 */
#include "net/udp.h"

#include "base/log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define UDP_RCVBUF (8 * 1024 * 1024)
#define UDP_SNDBUF (4 * 1024 * 1024)
/* A send batch leaves when it holds this many messages or bytes. */
#define UDP_TX_MSGS  32
#define UDP_TX_BYTES (64 * 1024)

struct udp_reader {
	const struct sink *sink; /* where what it reads goes */
	void *ctx;
	size_t max_message;
	char *bufs; /* UDP_READ_BATCH buffers of max_message bytes */
	struct mmsghdr msgs[UDP_READ_BATCH];
	struct iovec iov[UDP_READ_BATCH];
	struct sockaddr_storage from[UDP_READ_BATCH];
};

static void set_buffer(int fd, int opt_force, int opt, int size)
{
	/* As root the FORCE variant passes net.core.rmem_max; otherwise take
	 * what the kernel allows. */
	if (setsockopt(fd, SOL_SOCKET, opt_force, &size, sizeof(size)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, opt, &size, sizeof(size));
}

int udp_open(const struct netaddr *addr)
{
	int one = 1;
	int fd, rc;

	fd = socket(netaddr_family(addr), SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (netaddr_family(addr) == AF_INET6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	set_buffer(fd, SO_RCVBUFFORCE, SO_RCVBUF, UDP_RCVBUF);
	set_buffer(fd, SO_SNDBUFFORCE, SO_SNDBUF, UDP_SNDBUF);
	if (bind(fd, &addr->u.sa, addr->len) < 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	return fd;
}

static bool only_crlf(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != '\r' && p[i] != '\n')
			return false;
	return true;
}

struct udp_reader *udp_reader_new(size_t max_message, const struct sink *sink, void *ctx)
{
	struct udp_reader *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->max_message = max_message;
	r->sink = sink;
	r->ctx = ctx;
	r->bufs = malloc(UDP_READ_BATCH * max_message);
	if (!r->bufs) {
		udp_reader_free(r);
		return NULL;
	}
	return r;
}

void udp_reader_free(struct udp_reader *r)
{
	if (!r)
		return;
	free(r->bufs);
	free(r);
}

unsigned udp_read(struct udp_reader *r, int fd, unsigned index)
{
	int n;

	for (int i = 0; i < UDP_READ_BATCH; i++) {
		r->iov[i].iov_base = r->bufs + (size_t)i * r->max_message;
		r->iov[i].iov_len = r->max_message;
		memset(&r->msgs[i].msg_hdr, 0, sizeof(r->msgs[i].msg_hdr));
		r->msgs[i].msg_hdr.msg_iov = &r->iov[i];
		r->msgs[i].msg_hdr.msg_iovlen = 1;
		r->msgs[i].msg_hdr.msg_name = &r->from[i];
		r->msgs[i].msg_hdr.msg_namelen = sizeof(r->from[i]);
	}
	do
		n = recvmmsg(fd, r->msgs, UDP_READ_BATCH, MSG_DONTWAIT, NULL);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		/* EAGAIN: another worker took it first. */
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			log_warn("event=udp_recv_error listener=%u error=\"%s\"", index,
				 strerror(errno));
		return 0;
	}
	for (int i = 0; i < n; i++) {
		const char *data = r->iov[i].iov_base;
		size_t len = r->msgs[i].msg_len;
		struct sip_source src = {.proto = SIP_PROTO_UDP, .listener = (uint16_t)index};

		if (len == 0 || only_crlf(data, len)) {
			/* RFC 5626 keep-alives over UDP are STUN; a bare CRLF
			 * datagram carries nothing to answer. */
			r->sink->count(r->ctx, SINK_KEEPALIVE);
			continue;
		}
		memcpy(&src.remote.u, &r->from[i], r->msgs[i].msg_hdr.msg_namelen);
		src.remote.len = r->msgs[i].msg_hdr.msg_namelen;
		r->sink->message(r->ctx, data, len, &src,
				 (r->msgs[i].msg_hdr.msg_flags & MSG_TRUNC) ? SINK_TRUNCATED : 0);
	}
	return (unsigned)n;
}

struct udp_tx {
	unsigned n;      /* messages held */
	size_t used;     /* bytes of buf held */
	unsigned failed; /* later sends that failed, for udp_tx_flush() */
	int fd[UDP_TX_MSGS];
	struct netaddr to[UDP_TX_MSGS];
	struct iovec iov[UDP_TX_MSGS];
	struct mmsghdr msgs[UDP_TX_MSGS];
	char buf[UDP_TX_BYTES];
};

/* The calling thread's batch (udp_tx_use()); NULL: send at once. */
static __thread struct udp_tx *tx_cur;

static int send_one(int fd, const struct netaddr *to, const char *buf, size_t len)
{
	ssize_t n;

	do
		n = sendto(fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL, &to->u.sa, to->len);
	while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : 0;
}

static void tx_add(struct udp_tx *t, int fd, const struct netaddr *to, const char *buf, size_t len)
{
	unsigned i = t->n++;

	memcpy(t->buf + t->used, buf, len);
	t->fd[i] = fd;
	t->to[i] = *to;
	t->iov[i] = (struct iovec){.iov_base = t->buf + t->used, .iov_len = len};
	t->msgs[i].msg_hdr = (struct msghdr){.msg_name = &t->to[i].u.sa,
					     .msg_namelen = t->to[i].len,
					     .msg_iov = &t->iov[i],
					     .msg_iovlen = 1};
	t->used += len;
}

static bool tx_fits(const struct udp_tx *t, size_t len)
{
	return t->n < UDP_TX_MSGS && len <= UDP_TX_BYTES - t->used;
}

/* Sends everything t holds, in order, one sendmmsg(2) per run of the
 * same socket. Every message that fails adds to t->failed, except the
 * last one when own_last (udp_send()'s caller reports it); returns the
 * last message's result (0 or a negative errno). */
static int tx_send(struct udp_tx *t, bool own_last)
{
	unsigned i = 0;
	int last = 0;

	while (i < t->n) {
		unsigned end = i + 1;
		int n;

		while (end < t->n && t->fd[end] == t->fd[i])
			end++;
		do
			n = sendmmsg(t->fd[i], t->msgs + i, end - i, MSG_DONTWAIT | MSG_NOSIGNAL);
		while (n < 0 && errno == EINTR);
		if (n < 0) {
			/* The first of the run failed (sendmmsg(2) reports an
			 * error only when nothing was sent): skip it. */
			last = -errno;
			if (!own_last || i != t->n - 1)
				t->failed++;
			n = 1;
		} else {
			last = 0;
		}
		i += (unsigned)n;
	}
	t->n = 0;
	t->used = 0;
	return last;
}

int udp_send(int fd, const struct netaddr *to, const char *buf, size_t len)
{
	struct udp_tx *t = tx_cur;

	if (!t || !t->n)
		return send_one(fd, to, buf, len);
	if (!tx_fits(t, len)) {
		(void)tx_send(t, false);
		return send_one(fd, to, buf, len);
	}
	tx_add(t, fd, to, buf, len);
	return tx_send(t, true);
}

int udp_send_later(int fd, const struct netaddr *to, const char *buf, size_t len)
{
	struct udp_tx *t = tx_cur;

	if (!t || len > UDP_TX_BYTES)
		return udp_send(fd, to, buf, len);
	if (!tx_fits(t, len))
		(void)tx_send(t, false);
	tx_add(t, fd, to, buf, len);
	return 0;
}

struct udp_tx *udp_tx_new(void)
{
	return calloc(1, sizeof(struct udp_tx));
}

void udp_tx_free(struct udp_tx *t)
{
	if (!t)
		return;
	(void)tx_send(t, false);
	if (tx_cur == t)
		tx_cur = NULL;
	free(t);
}

void udp_tx_use(struct udp_tx *t)
{
	tx_cur = t;
}

unsigned udp_tx_flush(void)
{
	struct udp_tx *t = tx_cur;
	unsigned failed;

	if (!t)
		return 0;
	(void)tx_send(t, false);
	failed = t->failed;
	t->failed = 0;
	return failed;
}
