/*
 * udp: see udp.h. The socket has a receive timeout so that a thread
 * blocked in recvmmsg(2) wakes every 200 ms to look at the stop flag;
 * MSG_WAITFORONE makes the call return as soon as one datagram is there
 * and take whatever else is already queued, so under load one system call
 * reads a whole batch. A datagram larger than the buffer is flagged
 * truncated and answered 513 by the worker (RFC 3261 §18.1.1).
 */
#include "udp.h"

#include "dispatch.h"
#include "log.h"
#include "queue.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define UDP_BATCH 32
#define UDP_RCVBUF (8 * 1024 * 1024)
#define UDP_SNDBUF (4 * 1024 * 1024)

static atomic_bool udp_stop;

struct udp_thread_arg {
	unsigned index;
	int fd;
	size_t max_message;
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
	struct timeval tv = {.tv_sec = 0, .tv_usec = 200000};
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
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
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

static void *udp_main(void *argp)
{
	struct udp_thread_arg arg = *(struct udp_thread_arg *)argp;
	struct mmsghdr msgs[UDP_BATCH];
	struct iovec iov[UDP_BATCH];
	struct sockaddr_storage from[UDP_BATCH];
	struct dispatch_ctx *ctx;
	char *bufs;

	free(argp);
	ctx = dispatch_ctx_new();
	bufs = malloc(UDP_BATCH * arg.max_message);
	if (!ctx || !bufs) {
		log_error("event=udp_thread_failed listener=%u error=\"out of memory\"", arg.index);
		free(bufs);
		return NULL;
	}
	while (!atomic_load_explicit(&udp_stop, memory_order_relaxed)) {
		int n;

		for (int i = 0; i < UDP_BATCH; i++) {
			iov[i].iov_base = bufs + (size_t)i * arg.max_message;
			iov[i].iov_len = arg.max_message;
			memset(&msgs[i].msg_hdr, 0, sizeof(msgs[i].msg_hdr));
			msgs[i].msg_hdr.msg_iov = &iov[i];
			msgs[i].msg_hdr.msg_iovlen = 1;
			msgs[i].msg_hdr.msg_name = &from[i];
			msgs[i].msg_hdr.msg_namelen = sizeof(from[i]);
		}
		n = recvmmsg(arg.fd, msgs, UDP_BATCH, MSG_WAITFORONE, NULL);
		if (n < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				log_warn("event=udp_recv_error listener=%u error=\"%s\"", arg.index,
					 strerror(errno));
			continue;
		}
		for (int i = 0; i < n; i++) {
			const char *data = iov[i].iov_base;
			size_t len = msgs[i].msg_len;
			struct sip_source src = {.proto = SIP_PROTO_UDP, .listener = (uint16_t)arg.index};
			struct sip_job *job;

			if (len == 0 || only_crlf(data, len)) {
				/* RFC 5626 keep-alives over UDP are STUN; a bare CRLF
				 * datagram carries nothing to answer. */
				ctr_inc(dispatch_counters(ctx), CTR_KEEPALIVES);
				continue;
			}
			memcpy(&src.remote.u, &from[i], msgs[i].msg_hdr.msg_namelen);
			src.remote.len = msgs[i].msg_hdr.msg_namelen;
			job = job_new(data, len, &src);
			if (!job) {
				ctr_inc(dispatch_counters(ctx), CTR_DROPPED);
				continue;
			}
			job->truncated = (msgs[i].msg_hdr.msg_flags & MSG_TRUNC) != 0;
			dispatch_job(ctx, job);
		}
	}
	free(bufs);
	return NULL;
}

int udp_start(unsigned index, int fd, size_t max_message, pthread_t *thread)
{
	struct udp_thread_arg *arg = malloc(sizeof(*arg));
	int rc;

	if (!arg)
		return -ENOMEM;
	arg->index = index;
	arg->fd = fd;
	arg->max_message = max_message;
	rc = pthread_create(thread, NULL, udp_main, arg);
	if (rc) {
		free(arg);
		return -rc;
	}
	return 0;
}

void udp_request_stop(void)
{
	atomic_store(&udp_stop, true);
}

int udp_send(int fd, const struct netaddr *to, const char *buf, size_t len)
{
	ssize_t n;

	do
		n = sendto(fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL, &to->u.sa, to->len);
	while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : 0;
}
