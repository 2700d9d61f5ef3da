/*
 * digest: the hash arithmetic of HTTP/SIP Digest authentication (RFC 2617
 * §3.2.2, RFC 7616 §3.4, RFC 8760 for SIP): HA1 = H(user:realm:password),
 * the request-digest a client sends in response=, and a constant-time
 * comparison of hex digests. MD5 and SHA-256 only; the -sess variants and
 * SHA-512-256 are refused where the algorithm is parsed.
 *
 * Pure functions over slices: no state, no locks, safe from any thread.
 * Hashing goes through OpenSSL EVP with the algorithms fetched once per
 * process; the inputs are gathered in a stack buffer, so the work per
 * call is one EVP_MD_CTX and the hashes themselves (see digest.c).
 */
#ifndef JCT_DIGEST_H
#define JCT_DIGEST_H

#include "sip/sip_str.h"

#include <stdbool.h>
#include <stddef.h>

enum digest_alg {
	DIGEST_MD5 = 0,
	DIGEST_SHA256,
};

/* Longest digest in hex (SHA-256); output buffers are this plus the NUL. */
#define DIGEST_HEX_MAX 64

/* algorithm= of a credential or challenge (RFC 7616 §3.3), case-insensitive:
 * empty (absent) and "MD5" give DIGEST_MD5, "SHA-256" DIGEST_SHA256.
 * Returns 0, or -EPROTONOSUPPORT for anything else ("MD5-sess",
 * "SHA-256-sess", "SHA-512-256", unknown tokens). */
int digest_alg_parse(struct sip_str s, enum digest_alg *out);

/* "MD5" or "SHA-256", as written in a challenge's algorithm=. */
const char *digest_alg_name(enum digest_alg a);

/* Length of a digest in hex: 32 (MD5) or 64 (SHA-256). */
size_t digest_hex_len(enum digest_alg a);

/*
 * HA1 = H(user ":" realm ":" password) (RFC 7616 §3.4.2), written to out as
 * lowercase hex and NUL-terminated. user is the unquoted username, as the
 * client hashed it. Returns 0; or -ENOMEM / -ENOTSUP (algorithm missing
 * from this OpenSSL, e.g. MD5 under FIPS) / -EIO, and then out is "".
 */
int digest_ha1(enum digest_alg a, struct sip_str user, struct sip_str realm,
	       struct sip_str password, char out[DIGEST_HEX_MAX + 1]);

/*
 * The request-digest the client should have sent (RFC 7616 §3.4.1,
 * RFC 2617 §3.2.2.1), as lowercase hex in out:
 *   qop "auth":  H(HA1 ":" nonce ":" nc ":" cnonce ":" qop ":" H(method ":" uri))
 *   qop empty:   H(HA1 ":" nonce ":" H(method ":" uri))   (RFC 2069 form)
 * ha1_hex is the stored HA1 (either case; hashed as lowercase, RFC 7616
 * §3.4.1 LHEX) and must be digest_hex_len(a) hex digits. Every slice is
 * hashed as given: nc and cnonce exactly as the client wrote them.
 *
 * Returns 0, or with out set to "": -EINVAL when ha1_hex is not a digest
 * of this algorithm or qop "auth" comes without nc or cnonce (§3.4: they
 * MUST accompany it); -EPROTONOSUPPORT for any other qop (auth-int is not
 * supported); -ENOMEM, -ENOTSUP, -EIO as digest_ha1().
 */
int digest_response(enum digest_alg a, struct sip_str ha1_hex, struct sip_str nonce,
		    struct sip_str nc, struct sip_str cnonce, struct sip_str qop,
		    struct sip_str method, struct sip_str uri, char out[DIGEST_HEX_MAX + 1]);

/*
 * Does the client's response= equal the expected hex digest? Hex case is
 * ignored. Runs in time that depends only on the length of expected
 * (CRYPTO_memcmp), so a forger learns nothing from timing. False when the
 * lengths differ, and always false for an empty expected (the "" a failed
 * digest_response() leaves), so a hashing failure can never authenticate.
 */
bool digest_equal_hex(const char *expected, struct sip_str given);

#endif
