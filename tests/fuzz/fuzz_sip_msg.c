/*
 * libFuzzer target for the SIP parser: sip_msg_frame, sip_msg_parse, every
 * lazy accessor, the mandatory check, the Call-ID scan, and the typed
 * parsers (URI, name-addr, Via, CSeq, digest credentials, lists) on every
 * header of the message. The per-id chains of the index (first, next,
 * last, count) are walked and checked against the header array.
 *
 * The input is copied into a buffer of exactly its size, so ASan catches
 * a read one byte past the end, as the parser may never rely on a NUL.
 * A small limit set is used for every other input, so the limit paths get
 * as much exercise as the defaults. Build:
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Isrc src/sip/sip_str.c \
 *         src/sip/sip_uri.c src/sip/sip_hdr.c src/sip/sip_msg.c tests/fuzz/fuzz_sip_msg.c \
 *         -o fuzz_sip_msg
 * Seeds: tests/fuzz/corpus/sip_msg/ and the torture messages (one per
 * RFC 4475 section) in tests/integration/torture/.
 */
#include "sip/sip_msg.h"

#include "fuzz_util.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Feeds one header value to every typed parser that could meet it. */
static void fuzz_value(const struct sip_hdr *h)
{
	struct sip_str cur = h->value, item;
	struct sip_uri u, u2;
	struct sip_addr a;
	struct sip_via v;
	struct sip_cseq c;
	struct sip_digest_cred d;
	struct sip_str pv;
	int32_t q;
	uint32_t n;
	char tmp[64];

	(void)sip_cseq_parse(h->value, &c);
	(void)sip_digest_cred_parse(h->value, &d);
	(void)sip_token_list_has(h->value, "100rel");
	(void)sip_str_to_u32(h->value, &n);
	(void)sip_qvalue_parse(h->value, &q);
	(void)sip_param_find(h->value, "tag", &pv);
	(void)sip_host_check(h->value);
	(void)sip_ipv6_check(h->value);
	(void)sip_unescape(h->value, tmp, sizeof(tmp));
	while (sip_list_next(&cur, &item)) {
		(void)sip_via_parse(item, &v);
		(void)sip_via_parse_sent_by(item, &v);
		if (sip_addr_parse(item, &a) == 0 && !a.star) {
			(void)sip_uri_param(&a.uri, "lr", &pv);
			(void)sip_uri_default_port(&a.uri);
			(void)sip_uri_equal(&a.uri, &a.uri);
		}
		if (sip_uri_parse(item, &u) == 0 && sip_uri_parse(h->value, &u2) == 0)
			(void)sip_uri_equal(&u, &u2);
	}
}

/* Every header of an id is on its chain, in order, and the chains end
 * at last[]: the index the relay's edits rely on. */
static void walk_chains(const struct sip_msg *m)
{
	unsigned seen = 0;

	for (unsigned id = 0; id < SIP_HDR__COUNT; id++) {
		const struct sip_hdr *h = sip_msg_hdr(m, (enum sip_hdr_id)id), *prev = NULL;
		unsigned n = 0;

		(void)sip_hdr_name((enum sip_hdr_id)id);
		for (; h; prev = h, h = sip_msg_hdr_next(m, h)) {
			if (h->id != id || (prev && h <= prev) || h >= m->hdrs + m->nhdrs)
				abort();
			n++;
		}
		if (n != sip_msg_hdr_count(m, (enum sip_hdr_id)id) ||
		    (prev && m->last[id] != (uint16_t)(prev - m->hdrs)))
			abort();
		seen += n;
	}
	if (seen != m->nhdrs)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct sip_limits small = {
		.max_message_size = 2048,
		.max_headers = 16,
		.max_line_length = 256,
		.max_vias = 4,
	};
	const struct sip_limits *lim = size % 2 ? &small : NULL;
	struct sip_hdr hdrs[64];
	struct sip_msg m;
	struct sip_error err;
	size_t skipped;
	uint32_t mf;
	uint16_t i;
	char *buf;

	buf = fuzz_copy(data, size);
	if (!buf)
		return 0;

	(void)sip_msg_frame(buf, size, lim, &skipped, &err);
	(void)sip_msg_scan_call_id(buf, size);
	/* A refused message is still read through the accessors: the 400
	 * is built from what the index holds (sip_reply.c). */
	if (sip_msg_parse(&m, buf, size, hdrs, 64, lim) == 0 || m.error.status) {
		(void)sip_msg_ruri(&m);
		(void)sip_msg_top_via(&m);
		(void)sip_msg_from(&m);
		(void)sip_msg_to(&m);
		(void)sip_msg_cseq(&m);
		(void)sip_msg_call_id(&m);
		(void)sip_msg_max_forwards(&m, &mf);
		(void)sip_msg_via_count(&m);
		(void)sip_msg_check_mandatory(&m, true);
		walk_chains(&m);
		(void)sip_msg_check_mandatory(&m, false);
		/* Second calls hit the caches. */
		(void)sip_msg_top_via(&m);
		(void)sip_msg_from(&m);
		for (i = 0; i < m.nhdrs; i++) {
			(void)sip_hdr_id_from_name(m.hdrs[i].name);
			(void)sip_msg_hdr_by_name(&m, m.hdrs[i].name);
			fuzz_value(&m.hdrs[i]);
		}
		if (m.request) {
			struct sip_uri u;

			(void)sip_method_name(sip_method_from_str(m.method));
			if (sip_uri_parse(m.ruri, &u) == 0)
				(void)sip_uri_default_port(&u);
		}
	}
	free(buf);
	return 0;
}
