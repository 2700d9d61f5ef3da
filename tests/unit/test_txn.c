/*
 * Unit tests for the transaction layer (RFC 3261 §17) on a fake clock:
 * every timer fires at the RFC's time (A, B, D, E, F, K for clients; G, H,
 * I, J for servers), retransmissions stop when they should, responses are
 * absorbed or passed up as §17.1/§17.2 say, matching follows §17.1.3 and
 * §17.2.3, and every transaction is freed. Messages really go out on a
 * loopback UDP socket (the transport's) and are counted on a peer socket.
 */
#include "config/config.h"
#include "net/transport.h"
#include "proxy/self.h"
#include "sip/sip_msg.h"
#include "txn/txn.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define T1 500
#define T2 4000
#define T4 5000

static struct config cfg;
static struct timer_heap th;
static struct txn_layer *layer;
static int peer = -1;
static uint16_t peer_port, our_port;
static struct sip_dest peer_dest;

static uint16_t free_udp_port(int *fd_out)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t l = sizeof(a);
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	cr_assert(fd >= 0);
	cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	getsockname(fd, (struct sockaddr *)&a, &l);
	if (fd_out)
		*fd_out = fd;
	else
		close(fd);
	return ntohs(a.sin_port);
}

static void setup(void)
{
	char text[256];
	struct txn_timers tt = {.t1 = T1, .t2 = T2, .t4 = T4};

	our_port = free_udp_port(NULL);
	snprintf(text, sizeof(text), "[sip]\nlisten = udp:127.0.0.1:%u\nmode = stateful\n",
		 our_port);
	cr_assert_eq(config_load_string(text, "t.conf", &cfg, stderr), 0);
	cr_assert_eq(self_init(&cfg), 0);
	cr_assert_eq(transport_open(cfg.sip.listen, cfg.sip.nlisten), 0);
	peer_port = free_udp_port(&peer);
	memset(&peer_dest, 0, sizeof(peer_dest));
	peer_dest.proto = SIP_PROTO_UDP;
	peer_dest.listener = -1;
	netaddr_parse("127.0.0.1:0", &peer_dest.addr);
	netaddr_set_port(&peer_dest.addr, peer_port);
	timer_heap_init(&th);
	layer = txn_layer_new(&tt, 1000, &th);
	cr_assert_not_null(layer);
}

static void teardown(void)
{
	txn_layer_free(layer);
	timer_heap_destroy(&th);
	transport_close();
	close(peer);
}

TestSuite(txn, .init = setup, .fini = teardown);

/* Messages waiting on the peer socket; the first start line in *first. */
static int drain(char *first, size_t cap)
{
	char buf[4096];
	int n = 0;
	struct pollfd p = {.fd = peer, .events = POLLIN};

	while (poll(&p, 1, 20) > 0) {
		ssize_t r = recv(peer, buf, sizeof(buf) - 1, 0);
		if (r <= 0)
			break;
		buf[r] = '\0';
		if (n == 0 && first) {
			size_t l = strcspn(buf, "\r\n");
			snprintf(first, cap, "%.*s", (int)l, buf);
		}
		n++;
	}
	return n;
}

/* ---- client transactions ------------------------------------------------ */

static int responses, failures, dones;
static unsigned last_status, failed_status;

static void on_response(void *tu, struct ctx *c, struct sip_msg *m, uint64_t now)
{
	(void)tu;
	(void)c;
	(void)now;
	responses++;
	last_status = m->status;
}

static void on_failed(void *tu, struct ctx *c, unsigned status, uint64_t now)
{
	(void)tu;
	(void)c;
	(void)now;
	failures++;
	failed_status = status;
}

static void on_done(void *tu, struct ctx *c)
{
	(void)tu;
	(void)c;
	dones++;
}

static const struct ctx_ops ops = {.response = on_response, .failed = on_failed, .done = on_done};

#define BRANCH "z9hG4bKtest.1"

static const char *request(const char *method)
{
	static char buf[1024];

	snprintf(buf, sizeof(buf),
		 "%s sip:bob@127.0.0.1:%u SIP/2.0\r\n"
		 "Via: SIP/2.0/UDP 127.0.0.1:%u;branch=" BRANCH "\r\n"
		 "Route: <sip:edge.example.net;lr>\r\n"
		 "From: <sip:alice@example.com>;tag=a1\r\n"
		 "To: <sip:bob@example.com>\r\n"
		 "Call-ID: txn-test\r\n"
		 "CSeq: 7 %s\r\n"
		 "Max-Forwards: 69\r\n"
		 "Content-Length: 0\r\n\r\n",
		 method, peer_port, our_port, method);
	return buf;
}

/* A response to the client transaction's request, parsed into m. */
static void response(struct sip_msg *m, struct sip_hdr *hdrs, char *buf, unsigned status,
		     const char *method)
{
	int n = snprintf(buf, 1024,
			 "SIP/2.0 %u Whatever\r\n"
			 "Via: SIP/2.0/UDP 127.0.0.1:%u;branch=" BRANCH "\r\n"
			 "From: <sip:alice@example.com>;tag=a1\r\n"
			 "To: <sip:bob@example.com>;tag=b2\r\n"
			 "Call-ID: txn-test\r\n"
			 "CSeq: 7 %s\r\n"
			 "Content-Length: 0\r\n\r\n",
			 status, our_port, method);
	cr_assert_eq(sip_msg_parse(m, buf, (size_t)n, hdrs, 64, NULL), 0);
}

static struct ctx *start(const char *method, enum sip_method id)
{
	const char *r = request(method);
	int err = 0;
	struct ctx *c;

	responses = failures = dones = 0;
	c = ctx_send(layer, r, strlen(r), &peer_dest, id, BRANCH, &ops, NULL, 0, &err);
	cr_assert_not_null(c, "ctx_send: %d", err);
	cr_assert_eq(drain(NULL, 0), 1, "the request is sent at once");
	return c;
}

Test(txn, invite_client_timer_a_doubles_and_b_gives_408)
{
	uint64_t a = T1, at = 0;

	start("INVITE", SIP_METHOD_INVITE);
	/* Timer A: T1, 2T1, 4T1... until Timer B at 64*T1 (§17.1.1.2) */
	for (int i = 0; i < 6; i++) {
		at += a;
		timer_run(&th, at - 1);
		cr_assert_eq(drain(NULL, 0), 0, "nothing before %llu", (unsigned long long)at);
		timer_run(&th, at);
		cr_assert_eq(drain(NULL, 0), 1, "retransmission %d at %llu", i + 1,
			     (unsigned long long)at);
		a *= 2;
	}
	cr_assert_eq(at, 31500);
	timer_run(&th, 64 * T1 - 1);
	cr_assert_eq(failures, 0);
	timer_run(&th, 64 * T1);
	cr_assert_eq(failures, 1);
	cr_assert_eq(failed_status, 408);
	cr_assert_eq(dones, 1);
	cr_assert_eq(txn_layer_count(layer), 0, "freed");
	cr_assert_eq(timer_count(&th), 0, "no timer left");
}

Test(txn, invite_client_provisional_stops_timer_b)
{
	struct ctx *c = start("INVITE", SIP_METHOD_INVITE);
	struct sip_hdr hdrs[64];
	struct sip_msg m;
	char buf[1024];

	response(&m, hdrs, buf, 180, "INVITE");
	ctx_response(c, &m, 100);
	timer_run(&th, 10 * 64 * T1);
	cr_assert_eq(failures, 0, "ringing is Timer C's business, not B's");
	cr_assert_eq(txn_layer_count(layer), 1);
	ctx_abandon(c);
	cr_assert_eq(txn_layer_count(layer), 0);
}

Test(txn, invite_client_provisional_stops_a_and_2xx_ends)
{
	struct ctx *c = start("INVITE", SIP_METHOD_INVITE);
	struct sip_hdr hdrs[64];
	struct sip_msg m;
	char buf[1024];

	response(&m, hdrs, buf, 180, "INVITE");
	cr_assert_eq(ctx_find(layer, &m), c);
	ctx_response(c, &m, 100);
	cr_assert_eq(responses, 1);
	cr_assert_eq(ctx_state(c), CTX_PROCEEDING);
	timer_run(&th, 10000);
	cr_assert_eq(drain(NULL, 0), 0, "no retransmission in Proceeding");
	response(&m, hdrs, buf, 200, "INVITE");
	ctx_response(c, &m, 10000);
	cr_assert_eq(responses, 2);
	cr_assert_eq(last_status, 200);
	cr_assert_eq(dones, 1, "a 2xx ends the INVITE client transaction");
	cr_assert_eq(txn_layer_count(layer), 0);
	cr_assert_eq(drain(NULL, 0), 0, "no ACK for a 2xx: that is the UAC's");
	cr_assert_eq(timer_count(&th), 0);
}

Test(txn, invite_client_non_2xx_acked_and_timer_d)
{
	struct ctx *c = start("INVITE", SIP_METHOD_INVITE);
	struct sip_hdr hdrs[64];
	struct sip_msg m;
	char buf[1024], first[256];

	response(&m, hdrs, buf, 486, "INVITE");
	ctx_response(c, &m, 100);
	cr_assert_eq(responses, 1);
	cr_assert_eq(drain(first, sizeof(first)), 1, "ACK sent (§17.1.1.3)");
	cr_assert(strncmp(first, "ACK sip:bob@127.0.0.1:", 22) == 0, "%s", first);
	/* a retransmitted 486 is ACKed again and absorbed */
	ctx_response(c, &m, 200);
	cr_assert_eq(responses, 1);
	cr_assert_eq(drain(NULL, 0), 1);
	/* Timer D: 32 s over UDP */
	timer_run(&th, 100 + 64 * T1 - 1);
	cr_assert_eq(dones, 0);
	timer_run(&th, 100 + 64 * T1);
	cr_assert_eq(dones, 1);
	cr_assert_eq(txn_layer_count(layer), 0);
}

Test(txn, ack_for_non_2xx_has_the_right_headers)
{
	struct ctx *c = start("INVITE", SIP_METHOD_INVITE);
	struct sip_hdr hdrs[64];
	struct sip_msg m, ack;
	char buf[1024], got[4096];
	ssize_t r;

	response(&m, hdrs, buf, 404, "INVITE");
	ctx_response(c, &m, 0);
	r = recv(peer, got, sizeof(got), 0);
	cr_assert_gt(r, 0);
	cr_assert_eq(sip_msg_parse(&ack, got, (size_t)r, hdrs, 64, NULL), 0);
	cr_assert_eq(ack.method_id, SIP_METHOD_ACK);
	cr_assert(sip_str_eq(sip_msg_top_via(&ack)->branch, SIP_STR(BRANCH)), "same branch");
	cr_assert_eq(sip_msg_cseq(&ack)->num, 7);
	cr_assert(sip_str_eq(sip_msg_cseq(&ack)->method, SIP_STR("ACK")));
	cr_assert(sip_str_eq(sip_msg_to(&ack)->tag, SIP_STR("b2")), "To tag of the response");
	cr_assert_not_null(sip_msg_hdr(&ack, SIP_HDR_ROUTE), "Route of the request");
	cr_assert_eq(sip_msg_hdr_count(&ack, SIP_HDR_VIA), 1, "only our Via");
}

/* Issue 18: a request as big as the parser accepts (8 KiB From, To and
 * Route, 200 more header lines) still gets its CANCEL and the ACK of its
 * 486, whole; nothing counted as not sent. */
Test(txn, cancel_and_ack_of_a_big_request)
{
	static char req[40000], resp[20000], got[65536];
	static struct sip_hdr hdrs[512];
	char pad[8193], *cancel = NULL;
	struct sip_limits lim = {.max_line_length = 16384};
	struct sip_msg m, ack;
	size_t n, len = 0;
	int err = 0;
	ssize_t r;
	struct ctx *c;

	memset(pad, 'p', 8192);
	pad[8192] = '\0';
	n = (size_t)snprintf(req, sizeof(req),
			     "INVITE sip:bob@127.0.0.1:%u SIP/2.0\r\n"
			     "Via: SIP/2.0/UDP 127.0.0.1:%u;branch=" BRANCH "\r\n"
			     "Route: <sip:edge.example.net;lr;x=%s>\r\n"
			     "From: \"%s\" <sip:alice@example.com>;tag=a1\r\n"
			     "To: \"%s\" <sip:bob@example.com>\r\n"
			     "Call-ID: txn-test\r\n"
			     "CSeq: 7 INVITE\r\n",
			     peer_port, our_port, pad, pad, pad);
	for (int i = 0; i < 200; i++)
		n += (size_t)snprintf(req + n, sizeof(req) - n, "X-Pad-%d: filler\r\n", i);
	n += (size_t)snprintf(req + n, sizeof(req) - n, "Content-Length: 0\r\n\r\n");
	cr_assert_lt(n, sizeof(req));
	c = ctx_send(layer, req, n, &peer_dest, SIP_METHOD_INVITE, BRANCH, &ops, NULL, 0, &err);
	cr_assert_not_null(c, "ctx_send: %d", err);
	cr_assert_gt(recv(peer, got, sizeof(got), 0), 0);

	cr_assert_eq(ctx_build_cancel(c, &cancel, &len), 0);
	cr_assert_gt(len, 3 * 8192);
	cr_assert_eq(sip_msg_parse(&m, cancel, len, hdrs, 512, &lim), 0);
	cr_assert_eq(m.method_id, SIP_METHOD_CANCEL);
	cr_assert_eq(sip_msg_hdr(&m, SIP_HDR_ROUTE)->value.len, strlen(pad) + 28);
	cr_assert_eq(sip_msg_hdr(&m, SIP_HDR_TO)->value.len, strlen(pad) + 24);
	free(cancel);

	n = (size_t)snprintf(resp, sizeof(resp),
			     "SIP/2.0 486 Busy Here\r\n"
			     "Via: SIP/2.0/UDP 127.0.0.1:%u;branch=" BRANCH "\r\n"
			     "From: \"%s\" <sip:alice@example.com>;tag=a1\r\n"
			     "To: \"%s\" <sip:bob@example.com>;tag=b2\r\n"
			     "Call-ID: txn-test\r\n"
			     "CSeq: 7 INVITE\r\n"
			     "Content-Length: 0\r\n\r\n",
			     our_port, pad, pad);
	cr_assert_eq(sip_msg_parse(&m, resp, n, hdrs, 512, &lim), 0);
	ctx_response(c, &m, 0);
	r = recv(peer, got, sizeof(got), 0);
	cr_assert_gt(r, 3 * 8192, "the ACK, whole: %zd bytes", r);
	cr_assert_eq(sip_msg_parse(&ack, got, (size_t)r, hdrs, 512, &lim), 0);
	cr_assert_eq(ack.method_id, SIP_METHOD_ACK);
	cr_assert(sip_str_eq(sip_msg_to(&ack)->tag, SIP_STR("b2")), "To tag of the response");
	cr_assert_eq(sip_msg_hdr(&ack, SIP_HDR_ROUTE)->value.len, strlen(pad) + 28);
	cr_assert_eq(txn_layer_hop_failures(layer), 0);
}

Test(txn, non_invite_client_timer_e_caps_at_t2_and_f)
{
	uint64_t e = T1, at = 0;
	int sent = 0;

	start("MESSAGE", SIP_METHOD_MESSAGE);
	/* Timer E: T1, 2T1, 4T1, then T2 each time until Timer F (§17.1.2.2) */
	while (at + e < 64 * T1) {
		at += e;
		timer_run(&th, at);
		sent += drain(NULL, 0);
		e = e * 2 < T2 ? e * 2 : T2;
	}
	cr_assert_eq(sent, 10, "500 1500 3500 7500 11500 ... 31500");
	timer_run(&th, 64 * T1);
	cr_assert_eq(failed_status, 408);
	cr_assert_eq(txn_layer_count(layer), 0);
}

Test(txn, non_invite_client_final_then_timer_k)
{
	struct ctx *c = start("BYE", SIP_METHOD_BYE);
	struct sip_hdr hdrs[64];
	struct sip_msg m;
	char buf[1024];

	response(&m, hdrs, buf, 100, "BYE");
	ctx_response(c, &m, 10);
	/* §17.1.2.2: the pending E still fires, then it is reset to T2 */
	timer_run(&th, 500);
	cr_assert_eq(drain(NULL, 0), 1);
	timer_run(&th, 500 + T2 - 1);
	cr_assert_eq(drain(NULL, 0), 0, "in Proceeding E waits T2");
	timer_run(&th, 500 + T2);
	cr_assert_eq(drain(NULL, 0), 1);
	response(&m, hdrs, buf, 200, "BYE");
	ctx_response(c, &m, 5000);
	cr_assert_eq(last_status, 200);
	ctx_response(c, &m, 5001); /* retransmission absorbed */
	cr_assert_eq(responses, 2);
	timer_run(&th, 5000 + T4 - 1);
	cr_assert_eq(dones, 0);
	timer_run(&th, 5000 + T4);
	cr_assert_eq(dones, 1, "Timer K = T4");
	cr_assert_eq(txn_layer_count(layer), 0);
	cr_assert_eq(drain(NULL, 0), 0);
}

Test(txn, client_matching)
{
	struct ctx *inv = start("INVITE", SIP_METHOD_INVITE);
	struct sip_hdr hdrs[64];
	struct sip_msg m;
	char buf[1024];

	response(&m, hdrs, buf, 200, "CANCEL");
	cr_assert_null(ctx_find(layer, &m), "CSeq method is part of the key (§17.1.3)");
	response(&m, hdrs, buf, 180, "INVITE");
	cr_assert_eq(ctx_find(layer, &m), inv);
}

/* ---- server transactions ---------------------------------------------- */

static int stx_dones;

static void on_stx_done(void *tu, struct stx *st)
{
	(void)tu;
	(void)st;
	stx_dones++;
}

static const struct stx_ops sops = {.done = on_stx_done};

static struct sip_hdr shdrs[64];
static struct sip_msg sm;

/* Parses a request as if it came from the peer; returns its job. */
static struct sip_job *incoming(const char *method, const char *branch, enum sip_proto proto)
{
	char buf[1024];
	struct sip_source src = {.proto = proto, .listener = 0, .conn_id = 0};
	struct sip_job *job;
	int n;

	n = snprintf(buf, sizeof(buf),
		     "%s sip:bob@example.com SIP/2.0\r\n"
		     "Via: SIP/2.0/%s 127.0.0.1:%u;branch=%s;rport\r\n"
		     "From: <sip:alice@example.com>;tag=a1\r\n"
		     "To: <sip:bob@example.com>%s\r\n"
		     "Call-ID: stx-test\r\n"
		     "CSeq: 3 %s\r\n"
		     "Content-Length: 0\r\n\r\n",
		     method, proto == SIP_PROTO_UDP ? "UDP" : "TCP", peer_port, branch,
		     strcmp(method, "ACK") == 0 ? ";tag=t" : "",
		     strcmp(method, "ACK") == 0 ? "ACK" : method);
	netaddr_parse("127.0.0.1:0", &src.remote);
	netaddr_set_port(&src.remote, peer_port);
	job = job_new(buf, (size_t)n, &src);
	cr_assert_eq(sip_msg_parse(&sm, job->data, job->len, shdrs, 64, NULL), 0);
	return job;
}

static struct stx *server(const char *method, enum sip_proto proto)
{
	struct sip_job *job = incoming(method, "z9hG4bKsrv1", proto);
	int err = 0;
	struct stx *st = stx_new(layer, job, &sm, &sops, NULL, &err);

	cr_assert_not_null(st, "stx_new: %d", err);
	stx_dones = 0;
	return st;
}

static const char *resp_text(unsigned status)
{
	static char buf[256];

	snprintf(buf, sizeof(buf), "SIP/2.0 %u X\r\nContent-Length: 0\r\n\r\n", status);
	return buf;
}

static void respond(struct stx *st, unsigned status, uint64_t now)
{
	const char *r = resp_text(status);

	cr_assert_eq(stx_respond(st, r, strlen(r), status, now), 0);
}

Test(txn, invite_server_timer_g_and_h)
{
	struct stx *st = server("INVITE", SIP_PROTO_UDP);
	uint64_t g = T1, at = 0;
	int sent;

	respond(st, 100, 0);
	cr_assert_eq(drain(NULL, 0), 1);
	stx_retransmitted(st); /* a retransmitted INVITE gets the 100 again */
	cr_assert_eq(drain(NULL, 0), 1);
	respond(st, 486, 0);
	cr_assert_eq(drain(NULL, 0), 1);
	cr_assert_eq(stx_state(st), STX_COMPLETED);
	cr_assert_null(stx_request(st), "the request is released in Completed");
	/* Timer G: T1, 2T1, 4T1, then T2 (§17.2.1) until Timer H (64*T1) */
	sent = 0;
	while (at + g < 64 * T1) {
		at += g;
		timer_run(&th, at);
		sent += drain(NULL, 0);
		g = g * 2 < T2 ? g * 2 : T2;
	}
	cr_assert_eq(sent, 10);
	cr_assert_eq(stx_dones, 0);
	timer_run(&th, 64 * T1);
	cr_assert_eq(stx_dones, 1, "Timer H: no ACK came");
	cr_assert_eq(txn_layer_count(layer), 0);
}

Test(txn, invite_server_keeps_a_100_sent_before_it)
{
	struct stx *st = server("INVITE", SIP_PROTO_UDP);
	const char *r = resp_text(100);
	char first[64];

	/* sent statelessly while the dialog was recorded: kept, not resent */
	stx_provisional_sent(st, r, strlen(r), 100);
	cr_assert_eq(drain(NULL, 0), 0);
	cr_assert_eq(stx_state(st), STX_PROCEEDING);
	stx_retransmitted(st); /* a retransmitted INVITE gets that 100 */
	cr_assert_eq(drain(first, sizeof(first)), 1);
	cr_assert_str_eq(first, "SIP/2.0 100 X");
	respond(st, 486, 0);
	cr_assert_eq(drain(NULL, 0), 1);
	stx_provisional_sent(st, r, strlen(r), 100);
	cr_assert_eq(stx_state(st), STX_COMPLETED, "nothing kept after a final response");
	stx_retransmitted(st);
	cr_assert_eq(drain(first, sizeof(first)), 1);
	cr_assert_str_eq(first, "SIP/2.0 486 X", "the final response, not the 100");
}

Test(txn, invite_server_ack_stops_g_then_timer_i)
{
	struct stx *st = server("INVITE", SIP_PROTO_UDP);
	struct sip_job *ack;

	respond(st, 603, 0);
	drain(NULL, 0);
	ack = incoming("ACK", "z9hG4bKsrv1", SIP_PROTO_UDP);
	cr_assert_eq(stx_find(layer, &sm), st, "an ACK matches its INVITE (§17.2.3)");
	stx_acked(st, 100);
	job_free(ack);
	cr_assert_eq(stx_state(st), STX_CONFIRMED);
	timer_run(&th, 100 + T4 - 1);
	cr_assert_eq(drain(NULL, 0), 0, "no Timer G after the ACK");
	cr_assert_eq(stx_dones, 0);
	timer_run(&th, 100 + T4);
	cr_assert_eq(stx_dones, 1, "Timer I = T4");
	cr_assert_eq(txn_layer_count(layer), 0);
}

Test(txn, invite_server_2xx_accepted_then_timer_l)
{
	struct stx *st = server("INVITE", SIP_PROTO_UDP);

	respond(st, 180, 0);
	respond(st, 200, 10);
	cr_assert_eq(drain(NULL, 0), 2);
	cr_assert_eq(stx_state(st), STX_ACCEPTED, "RFC 6026");
	stx_retransmitted(st);
	cr_assert_eq(drain(NULL, 0), 0, "an INVITE retransmission is absorbed in Accepted");
	respond(st, 200, 20); /* another fork's 2xx passes through */
	cr_assert_eq(drain(NULL, 0), 1);
	cr_assert_eq(stx_respond(st, "x", 1, 486, 30), -EALREADY);
	timer_run(&th, 10 + 64 * T1 - 1);
	cr_assert_eq(stx_dones, 0);
	timer_run(&th, 10 + 64 * T1);
	cr_assert_eq(stx_dones, 1, "Timer L = 64*T1");
	cr_assert_eq(txn_layer_count(layer), 0);
	cr_assert_eq(timer_count(&th), 0);
}

Test(txn, non_invite_server_timer_j_udp_and_zero_on_tcp)
{
	struct stx *st = server("OPTIONS", SIP_PROTO_UDP);

	stx_retransmitted(st);
	cr_assert_eq(drain(NULL, 0), 0, "Trying: a retransmission is absorbed");
	respond(st, 200, 0);
	cr_assert_eq(drain(NULL, 0), 1);
	stx_retransmitted(st);
	cr_assert_eq(drain(NULL, 0), 1, "Completed: the final goes again");
	cr_assert_eq(stx_respond(st, "x", 1, 500, 1), -EALREADY, "one final only");
	timer_run(&th, 64 * T1 - 1);
	cr_assert_eq(stx_dones, 0);
	timer_run(&th, 64 * T1);
	cr_assert_eq(stx_dones, 1, "Timer J = 64*T1 over UDP");

	/* over a stream Timer J is 0 (the reply goes nowhere here: no TCP
	 * listener; the state machine is what is tested) */
	st = server("OPTIONS", SIP_PROTO_TCP);
	(void)stx_respond(st, "x", 1, 200, 1000);
	timer_run(&th, 1000);
	cr_assert_eq(stx_dones, 1);
	cr_assert_eq(txn_layer_count(layer), 0);
}

Test(txn, server_matching)
{
	struct stx *inv = server("INVITE", SIP_PROTO_UDP);
	struct sip_job *j;

	j = incoming("INVITE", "z9hG4bKsrv1", SIP_PROTO_UDP);
	cr_assert_eq(stx_find(layer, &sm), inv, "a retransmission matches");
	job_free(j);
	j = incoming("CANCEL", "z9hG4bKsrv1", SIP_PROTO_UDP);
	cr_assert_null(stx_find(layer, &sm), "a CANCEL is a transaction of its own");
	cr_assert_eq(stx_find_cancelled(layer, &sm), inv, "but finds the INVITE it cancels");
	job_free(j);
	j = incoming("INVITE", "z9hG4bKother", SIP_PROTO_UDP);
	cr_assert_null(stx_find(layer, &sm), "another branch is another transaction");
	job_free(j);
	/* RFC 2543 requests (no magic cookie) match on their fields */
	j = incoming("INVITE", "oldstyle1", SIP_PROTO_UDP);
	{
		int err;
		struct stx *old = stx_new(layer, j, &sm, &sops, NULL, &err);
		struct sip_job *again = incoming("INVITE", "oldstyle1", SIP_PROTO_UDP);

		cr_assert_not_null(old);
		cr_assert_eq(stx_find(layer, &sm), old);
		job_free(again);
	}
}

Test(txn, table_limit)
{
	struct txn_timers tt = {.t1 = T1, .t2 = T2, .t4 = T4};
	struct txn_layer *small = txn_layer_new(&tt, 16, &th);
	char branch[32];
	int err = 0;

	for (int i = 0; i < 16; i++) {
		struct sip_job *j;

		snprintf(branch, sizeof(branch), "z9hG4bKlim%d", i);
		j = incoming("OPTIONS", branch, SIP_PROTO_UDP);
		cr_assert_not_null(stx_new(small, j, &sm, &sops, NULL, &err));
	}
	{
		struct sip_job *j = incoming("OPTIONS", "z9hG4bKlim99", SIP_PROTO_UDP);

		cr_assert_null(stx_new(small, j, &sm, &sops, NULL, &err));
		cr_assert_eq(err, -EBUSY, "the configured maximum: 503 beyond it");
		job_free(j);
	}
	txn_layer_free(small); /* frees every transaction and its job */
}

/* Fills l (room for n) with server transactions answered 200: INVITEs
 * (Accepted, Timer L) and OPTIONS (Completed, Timer J) in turn when
 * mixed, OPTIONS only otherwise; held by ops when given. Branches are
 * PREFIX0, PREFIX1, ... in the order they were made. */
static void fill_answered(struct txn_layer *l, unsigned n, const char *prefix,
			  const struct stx_ops *ops, bool mixed)
{
	const char *r = resp_text(200);
	char branch[32];
	int err = 0;

	for (unsigned i = 0; i < n; i++) {
		struct stx *st;

		snprintf(branch, sizeof(branch), "%s%u", prefix, i);
		st = stx_new(
			l,
			incoming(mixed && i % 2 == 0 ? "INVITE" : "OPTIONS", branch, SIP_PROTO_UDP),
			&sm, ops, NULL, &err);
		cr_assert_not_null(st, "stx_new: %d", err);
		cr_assert_eq(stx_respond(st, r, strlen(r), 200, i), 0);
	}
	(void)drain(NULL, 0);
}

/* A full table ends its oldest lingering transaction (Timer J or L
 * running, nobody holding it) to take a new request, and still refuses
 * when what fills it is held or still working. */
Test(txn, table_full_of_lingering_makes_room)
{
	struct txn_timers tt = {.t1 = T1, .t2 = T2, .t4 = T4};
	struct txn_layer *small = txn_layer_new(&tt, 16, &th);
	struct txn_stats ts;
	int err = 0;

	fill_answered(small, 16, "z9hG4bKlin", NULL, true);
	{
		struct sip_job *j = incoming("OPTIONS", "z9hG4bKlin99", SIP_PROTO_UDP);

		cr_assert_not_null(stx_new(small, j, &sm, NULL, NULL, &err), "room made");
	}
	txn_layer_stats(small, &ts);
	cr_assert_eq(ts.evicted, 1);
	cr_assert_eq(ts.server_alive, 16);
	{
		struct sip_job *j = incoming("INVITE", "z9hG4bKlin0", SIP_PROTO_UDP);

		cr_assert_null(stx_find(small, &sm), "the oldest went");
		job_free(j);
		j = incoming("OPTIONS", "z9hG4bKlin1", SIP_PROTO_UDP);
		cr_assert_not_null(stx_find(small, &sm), "the next one stays");
		job_free(j);
	}
	txn_layer_free(small);
}

Test(txn, table_full_of_held_transactions_refuses)
{
	struct txn_timers tt = {.t1 = T1, .t2 = T2, .t4 = T4};
	struct txn_layer *small = txn_layer_new(&tt, 16, &th);
	struct txn_stats ts;
	int err = 0;

	/* a transaction user still holds each one (sops): never ended early */
	fill_answered(small, 16, "z9hG4bKheld", &sops, false);
	{
		struct sip_job *j = incoming("OPTIONS", "z9hG4bKheld99", SIP_PROTO_UDP);

		cr_assert_null(stx_new(small, j, &sm, NULL, NULL, &err));
		cr_assert_eq(err, -EBUSY);
		job_free(j);
	}
	txn_layer_stats(small, &ts);
	cr_assert_eq(ts.evicted, 0);
	txn_layer_free(small);
}
