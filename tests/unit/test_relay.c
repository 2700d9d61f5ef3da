/*
 * Unit tests for relay's branch hashes (RFC 3261 §16.3 step 4, §16.6 step
 * 8, §16.11) with no cap on what they hash: a spiral whose requests
 * differ only after the first kilobytes of hash input is not a loop, the
 * same request coming back is; stateless branches of such requests
 * differ. (test_siphash checks the streaming SipHash they are built on.)
 */
#include "config/config.h"
#include "proxy/relay.h"
#include "proxy/self.h"
#include "sip/sip_msg.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LONG_LEN 3000 /* well past the 2,048 bytes the hash input used to be cut at */

static struct config cfg;
static struct sip_hdr hdrs[32];
static struct sip_msg m;
static char *text;

static void setup(void)
{
	static const char *conf = "[sip]\n"
				  "listen = udp:127.0.0.1:5060\n"
				  "domain = example.com\n";

	cr_assert_eq(config_load_string(conf, "test.conf", &cfg, stderr), 0);
	cr_assert_eq(self_init(&cfg), 0);
	text = NULL;
}

static void teardown(void)
{
	free(text);
}

TestSuite(relay_loop, .init = setup, .fini = teardown);

/* Parses an INVITE to ruri with a Call-ID of LONG_LEN bytes, under our
 * Via with branch when one is given. */
static struct sip_msg *invite(const char *ruri, const char *our_branch)
{
	char *call_id = malloc(LONG_LEN + 1);
	char via[128] = "";
	struct sip_limits lim = {.max_line_length = 8192};

	cr_assert_not_null(call_id);
	memset(call_id, 'c', LONG_LEN);
	call_id[LONG_LEN] = '\0';
	if (our_branch)
		snprintf(via, sizeof(via), "Via: SIP/2.0/UDP 127.0.0.1:5060;branch=%s\r\n",
			 our_branch);
	free(text);
	cr_assert(asprintf(&text,
			   "INVITE %s SIP/2.0\r\n"
			   "%s"
			   "Via: SIP/2.0/UDP 198.51.100.7:5070;branch=z9hG4bKcaller;rport=5070\r\n"
			   "Max-Forwards: 69\r\n"
			   "From: <sip:alice@example.com>;tag=a1\r\n"
			   "To: <sip:alias@example.com>\r\n"
			   "Call-ID: %s\r\n"
			   "CSeq: 1 INVITE\r\n"
			   "Content-Length: 0\r\n\r\n",
			   ruri, via, call_id) > 0);
	free(call_id);
	cr_assert_eq(sip_msg_parse(&m, text, strlen(text), hdrs, 32, &lim), 0);
	return &m;
}

/* A spiral (§16.3 step 4): the request comes back to us with a new
 * Request-URI; only the Request-URI differs, and it lies past the
 * Call-ID's 3,000 bytes in the hash input. Not a loop. */
Test(relay_loop, spiral_differing_past_2k_is_not_a_loop)
{
	char branch[RELAY_BRANCH_MAX];

	relay_stateful_branch(invite("sip:alias@example.com", NULL), 1, branch);
	cr_expect_not(relay_is_loop(invite("sip:bob@example.com:5062", branch)));
}

/* The same request coming back unchanged is still a loop (482). */
Test(relay_loop, unchanged_request_is_a_loop)
{
	char branch[RELAY_BRANCH_MAX];

	relay_stateful_branch(invite("sip:alias@example.com", NULL), 1, branch);
	cr_expect(relay_is_loop(invite("sip:alias@example.com", branch)));
}

/* §16.11: stateless branches of requests whose outgoing Request-URIs
 * share their first 2,100 bytes still differ; the same one gives the
 * same branch (retransmissions, CANCEL, ACK). */
Test(relay_loop, stateless_branch_hashes_all_of_a_long_uri)
{
	char a[RELAY_BRANCH_LEN], b[RELAY_BRANCH_LEN], c[RELAY_BRANCH_LEN];
	char *u1 = malloc(2200), *u2 = malloc(2200);

	cr_assert(u1 && u2);
	memset(u1, 'u', 2100);
	memcpy(u1, "sip:", 4);
	memcpy(u2, u1, 2100);
	strcpy(u1 + 2100, "@one.example.com");
	strcpy(u2 + 2100, "@two.example.com");
	relay_stateless_branch(invite("sip:alias@example.com", NULL), sip_str_cstr(u1), a);
	relay_stateless_branch(&m, sip_str_cstr(u2), b);
	relay_stateless_branch(&m, sip_str_cstr(u1), c);
	cr_expect_str_neq(a, b);
	cr_expect_str_eq(a, c);
	free(u1);
	free(u2);
}
