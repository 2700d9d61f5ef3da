/*
 * Unit tests for udp's send batch (udp_tx): what a thread sends later
 * waits for the flush and leaves in order; a message sent now goes after
 * what waits; a full batch leaves by itself; a failure is counted once
 * and does not stop the messages after it. Real sockets on 127.0.0.1.
 */
#include "net/netaddr.h"
#include "net/udp.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int tx_fd, rx_fd;
static struct netaddr rx_addr;
static struct udp_tx *tx;

static void setup(void)
{
	struct netaddr any;
	struct timeval tv = {.tv_sec = 1};

	cr_assert_eq(netaddr_parse("127.0.0.1:0", &any), 0);
	tx_fd = udp_open(&any);
	rx_fd = udp_open(&any);
	cr_assert_geq(tx_fd, 0);
	cr_assert_geq(rx_fd, 0);
	rx_addr.len = sizeof(rx_addr.u);
	cr_assert_eq(getsockname(rx_fd, &rx_addr.u.sa, &rx_addr.len), 0);
	/* a receive that should find something gives up after a second */
	cr_assert_eq(setsockopt(rx_fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
	tx = udp_tx_new();
	cr_assert_not_null(tx);
	udp_tx_use(tx);
}

static void teardown(void)
{
	udp_tx_use(NULL);
	udp_tx_free(tx);
	close(tx_fd);
	close(rx_fd);
}

TestSuite(udp_tx, .init = setup, .fini = teardown);

static void send_later(const char *s)
{
	cr_assert_eq(udp_send_later(tx_fd, &rx_addr, s, strlen(s)), 0);
}

/* The next datagram as a string; "" when none is waiting (wait false) or
 * none came within a second. */
static const char *recv_next(bool wait)
{
	static char buf[70000];
	ssize_t n = recv(rx_fd, buf, sizeof(buf) - 1, wait ? 0 : MSG_DONTWAIT);

	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

Test(udp_tx, later_waits_for_the_flush_and_keeps_order)
{
	char copy[8] = "second";

	send_later("first");
	cr_assert_eq(udp_send_later(tx_fd, &rx_addr, copy, strlen(copy)), 0);
	memcpy(copy, "XXXXXX", 6); /* the batch holds its own copy */
	send_later("third");
	cr_assert_str_eq(recv_next(false), "", "nothing leaves before the flush");
	cr_assert_eq(udp_tx_flush(), 0);
	cr_assert_str_eq(recv_next(true), "first");
	cr_assert_str_eq(recv_next(true), "second");
	cr_assert_str_eq(recv_next(true), "third");
	cr_assert_str_eq(recv_next(false), "");
}

Test(udp_tx, send_now_goes_after_what_waits)
{
	send_later("answer");
	cr_assert_eq(udp_send(tx_fd, &rx_addr, "request", 7), 0);
	cr_assert_str_eq(recv_next(true), "answer");
	cr_assert_str_eq(recv_next(true), "request");
	cr_assert_eq(udp_tx_flush(), 0);
	cr_assert_str_eq(recv_next(false), "");
}

Test(udp_tx, full_batch_leaves_by_itself)
{
	char msg[16];
	unsigned got = 0;

	/* one message more than the batch holds: the first ones leave when
	 * it does not fit, the last with the flush */
	for (unsigned i = 0; i <= 64; i++) {
		snprintf(msg, sizeof(msg), "m%u", i);
		send_later(msg);
	}
	while (recv_next(false)[0])
		got++;
	cr_assert_gt(got, 0, "a full batch was sent before the flush");
	cr_assert_lt(got, 65);
	cr_assert_eq(udp_tx_flush(), 0);
	while (recv_next(false)[0])
		got++;
	cr_assert_eq(got, 65);
}

Test(udp_tx, bytes_bound_the_batch)
{
	static char big[20000];

	memset(big, 'b', sizeof(big));
	for (int i = 0; i < 4; i++)
		cr_assert_eq(udp_send_later(tx_fd, &rx_addr, big, sizeof(big)), 0);
	/* 4 x 20,000 bytes exceed the batch's 64 KiB: the first 3 left */
	for (int i = 0; i < 3; i++)
		cr_assert_eq(strlen(recv_next(true)), sizeof(big));
	cr_assert_str_eq(recv_next(false), "");
	cr_assert_eq(udp_tx_flush(), 0);
	cr_assert_eq(strlen(recv_next(true)), sizeof(big));
}

Test(udp_tx, a_failure_is_counted_and_the_rest_still_leaves)
{
	struct netaddr v6;

	/* an IPv6 destination on an IPv4 socket fails in sendmmsg(2) */
	cr_assert_eq(netaddr_parse("[::1]:9", &v6), 0);
	send_later("before");
	cr_assert_eq(udp_send_later(tx_fd, &v6, "lost", 4), 0);
	send_later("after");
	cr_assert_eq(udp_tx_flush(), 1);
	cr_assert_str_eq(recv_next(true), "before");
	cr_assert_str_eq(recv_next(true), "after");
	cr_assert_eq(udp_tx_flush(), 0, "counted once");

	/* sent now, its failure is the caller's, not the batch's */
	send_later("queued");
	cr_assert_lt(udp_send(tx_fd, &v6, "now", 3), 0);
	cr_assert_str_eq(recv_next(true), "queued");
	cr_assert_eq(udp_tx_flush(), 0);
}

Test(udp_tx, without_a_batch_later_is_now)
{
	udp_tx_use(NULL);
	send_later("at once");
	cr_assert_str_eq(recv_next(true), "at once");
	cr_assert_eq(udp_tx_flush(), 0);
	udp_tx_use(tx);
}
