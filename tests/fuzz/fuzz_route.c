/*
 * libFuzzer target for Route processing (RFC 3261 §16.4, §16.6 steps
 * 6-7; RFC 3327): the input is a request. It is indexed and validated as
 * core.c does (sip_msg_parse, validate_syntax, Max-Forwards and
 * Proxy-Require), then the route set goes through what a worker does
 * with it: hdr_list_collect of Route and Record-Route, route_preprocess
 * (strict-router undo, removal of our own values, asking self.c),
 * route_preload with the message's Path value as a binding's Path,
 * route_next_hop, route_commit into an edit list, and msg_edit_apply.
 * The Record-Route values are then deleted with hdr_list_delete one by
 * one, as a response's are rewritten.
 *
 * self.c is set up once from a fixed config: listeners on 127.0.0.1:5060
 * (UDP and TCP) and [::1]:5060, domain example.com, so that Route values
 * naming "us" exist for the fuzzer to find. No worker is needed: route.c
 * only reads the message and self.c.
 */
#include "config/config.h"
#include "proxy/route.h"
#include "proxy/self.h"
#include "proxy/validate.h"
#include "sip/hdr_list.h"
#include "sip/msg_edit.h"
#include "sip/sip_msg.h"

#include "fuzz_util.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct config cfg;

static void setup(void)
{
	static const char text[] = "[sip]\n"
				   "listen = udp:127.0.0.1:5060 tcp:127.0.0.1:5060 udp:[::1]:5060\n"
				   "domain = example.com\n";

	if (config_load_string(text, "fuzz.conf", &cfg, stderr) != 0 || self_init(&cfg) != 0)
		abort();
}

/* The edits must apply: route.c never records overlapping ones. */
static void apply(struct msg_edits *ed, const struct sip_msg *m)
{
	size_t cap = m->len + (size_t)MSG_EDIT_TEXT_MAX + 1;
	char *out = malloc(cap);

	if (!out)
		return;
	if (msg_edit_apply(ed, m->buf, m->len, out, cap) < 0)
		abort();
	free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	static struct msg_edits ed;
	struct sip_hdr hdrs[64];
	struct validate_result v;
	struct route_state rs;
	struct hdr_list rr;
	struct sip_msg m;
	const struct sip_hdr *path;
	char *buf;

	if (!ready) {
		setup();
		ready = true;
	}
	buf = fuzz_copy(data, size);
	if (!buf)
		return 0;
	if (sip_msg_parse(&m, buf, size, hdrs, 64, NULL) < 0 || !m.request)
		goto out;
	if (validate_syntax(&m, false, &v) || validate_max_forwards(&m, &v) ||
	    validate_proxy_require(&m, &v))
		goto out;
	if (route_preprocess(&m, &rs) != 0)
		goto out;
	path = sip_msg_hdr(&m, SIP_HDR_PATH);
	if (path && route_preload(&rs, path->value) != 0)
		goto out;
	if (route_next_hop(&m, &rs) != 0)
		goto out;
	(void)self_is_local_uri(&rs.hop);
	msg_edits_init(&ed);
	if (route_commit(&m, &rs, &ed) == 0)
		apply(&ed, &m);

	/* A response's Record-Route rewrite: delete each value alone. */
	if (hdr_list_collect(&m, SIP_HDR_RECORD_ROUTE, &rr, HDR_LIST_MAX) > 0) {
		for (unsigned i = 0; i < rr.n; i++) {
			msg_edits_init(&ed);
			if (hdr_list_delete(&m, &rr, 1ULL << i, &ed) == 0)
				apply(&ed, &m);
		}
		msg_edits_init(&ed);
		if (hdr_list_delete(&m, &rr, rr.n == 64 ? UINT64_MAX : (1ULL << rr.n) - 1, &ed) ==
		    0)
			apply(&ed, &m);
	}
out:
	free(buf);
	return 0;
}
