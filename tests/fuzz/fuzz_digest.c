/*
 * libFuzzer target for digest credentials (RFC 3261 §22.4, RFC 7616
 * §3.4): the input is an Authorization / Proxy-Authorization value. It
 * is parsed by sip_digest_cred_parse, and what it yields goes on as the
 * registrar's auth.c takes it: algorithm= through digest_alg_parse,
 * then the expected response computed from a fixed HA1 with the client's
 * nonce, nc, cnonce, qop and uri (digest_response), compared with the
 * client's response= (digest_equal_hex), and HA1 itself hashed from the
 * username and realm (digest_ha1).
 *
 * The value is a copy of exactly its size, so ASan catches a read past
 * its end; OpenSSL's contexts are freed per call, which the leak checker
 * verifies.
 */
#include "registrar/digest.h"
#include "sip/sip_hdr.h"

#include "fuzz_util.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char ha1_md5[] = "939e7578ed9e3c518a452acee763bce9";
	static const char ha1_sha[] =
		"3c1e10f2ee4c1bb4c8b8d0e9a6e2b8cd8f4a1d8b4c0e8a7a9f1c2d3e4f5a6b7c";
	struct sip_digest_cred c;
	char out[DIGEST_HEX_MAX + 1], ha1[DIGEST_HEX_MAX + 1];
	enum digest_alg alg;
	char *buf;

	buf = fuzz_copy(data, size);
	if (!buf)
		return 0;
	if (sip_digest_cred_parse(sip_str_make(buf, size), &c) == 0 &&
	    digest_alg_parse(c.algorithm, &alg) == 0) {
		struct sip_str h = alg == DIGEST_MD5 ? SIP_STR(ha1_md5) : SIP_STR(ha1_sha);

		if (digest_response(alg, h, c.nonce, c.nc, c.cnonce, c.qop, SIP_STR("REGISTER"),
				    c.uri, out) == 0) {
			if (strlen(out) != digest_hex_len(alg))
				abort();
			(void)digest_equal_hex(out, c.response);
		} else if (out[0] || digest_equal_hex(out, c.response)) {
			abort(); /* a failed digest never authenticates */
		}
		if (digest_ha1(alg, c.username, c.realm, c.opaque, ha1) == 0 &&
		    strlen(ha1) != digest_hex_len(alg))
			abort();
		(void)digest_alg_name(alg);
	}
	free(buf);
	return 0;
}
