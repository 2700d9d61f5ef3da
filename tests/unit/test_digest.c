/*
 * Unit tests for digest: the worked examples of RFC 2617 §3.5, RFC 7616
 * §3.9.1 (MD5 and SHA-256) and draft-smith-sipping-auth-examples-01 (the
 * SIP examples, with and without qop), HA1 cross-checked with md5sum and
 * sha256sum, failure modes, the comparison and algorithm parsing.
 */
#include "registrar/digest.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#define S(lit) SIP_STR(lit)

static char ha1[DIGEST_HEX_MAX + 1];
static char out[DIGEST_HEX_MAX + 1];

/* HA1 of the password, then the response; returns out. */
static const char *respond(enum digest_alg a, const char *user, const char *realm, const char *pw,
			   const char *nonce, const char *nc, const char *cnonce, const char *qop,
			   const char *method, const char *uri)
{
	cr_assert_eq(digest_ha1(a, sip_str_cstr(user), sip_str_cstr(realm), sip_str_cstr(pw), ha1),
		     0);
	cr_assert_eq(digest_response(a, sip_str_cstr(ha1), sip_str_cstr(nonce), sip_str_cstr(nc),
				     sip_str_cstr(cnonce), sip_str_cstr(qop), sip_str_cstr(method),
				     sip_str_cstr(uri), out),
		     0);
	return out;
}

Test(digest, rfc2617_example)
{
	/* RFC 2617 §3.5: note "Circle Of Life" with a capital O there. */
	cr_assert_str_eq(respond(DIGEST_MD5, "Mufasa", "testrealm@host.com", "Circle Of Life",
				 "dcd98b7102dd2f0e8b11d0f600bfb0c093", "00000001", "0a4f113b",
				 "auth", "GET", "/dir/index.html"),
			 "6629fae49393a05397450978507c4ef1");
	cr_assert_str_eq(ha1, "939e7578ed9e3c518a452acee763bce9");
}

#define RFC7616_NONCE  "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v"
#define RFC7616_CNONCE "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"

Test(digest, rfc7616_example_md5)
{
	/* RFC 7616 §3.9.1 (and erratum 4495): "Circle of Life", lowercase o. */
	cr_assert_str_eq(respond(DIGEST_MD5, "Mufasa", "http-auth@example.org", "Circle of Life",
				 RFC7616_NONCE, "00000001", RFC7616_CNONCE, "auth", "GET",
				 "/dir/index.html"),
			 "8ca523f5e9506fed4657c9700eebdbec");
}

Test(digest, rfc7616_example_sha256)
{
	cr_assert_str_eq(respond(DIGEST_SHA256, "Mufasa", "http-auth@example.org", "Circle of Life",
				 RFC7616_NONCE, "00000001", RFC7616_CNONCE, "auth", "GET",
				 "/dir/index.html"),
			 "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1");
}

Test(digest, sip_example_qop_auth)
{
	/* draft-smith-sipping-auth-examples-01 §3.2: INVITE with qop=auth. */
	cr_assert_str_eq(respond(DIGEST_MD5, "bob", "biloxi.com", "zanzibar",
				 "dcd98b7102dd2f0e8b11d0f600bfb0c093", "00000001", "0a4f113b",
				 "auth", "INVITE", "sip:bob@biloxi.com"),
			 "89eb0059246c02b2f6ee02c7961d5ea3");
	cr_assert_str_eq(ha1, "12af60467a33e8518da5c68bbff12b11");
}

Test(digest, rfc2069_form_without_qop)
{
	/* draft-smith-sipping-auth-examples-01 §3.1: no qop, so
	 * H(HA1:nonce:HA2); nc and cnonce, if any, are not hashed. */
	cr_assert_str_eq(respond(DIGEST_MD5, "bob", "biloxi.com", "zanzibar",
				 "dcd98b7102dd2f0e8b11d0f600bfb0c093", "", "", "", "INVITE",
				 "sip:bob@biloxi.com"),
			 "bf57e4e0d0bffc0fbaedce64d59add5e");
	cr_assert_str_eq(respond(DIGEST_MD5, "bob", "biloxi.com", "zanzibar",
				 "dcd98b7102dd2f0e8b11d0f600bfb0c093", "00000001", "0a4f113b", "",
				 "INVITE", "sip:bob@biloxi.com"),
			 "bf57e4e0d0bffc0fbaedce64d59add5e");
	/* SHA-256, computed independently (Python hashlib). */
	cr_assert_str_eq(respond(DIGEST_SHA256, "bob", "biloxi.com", "zanzibar",
				 "dcd98b7102dd2f0e8b11d0f600bfb0c093", "", "", "", "INVITE",
				 "sip:bob@biloxi.com"),
			 "38aad98c50c33abe72c5f88dd17246ffcfa6b1f68852c855719ff0659386c0ca");
}

Test(digest, ha1_matches_coreutils)
{
	/* printf 'alice:example.com:secret' | md5sum / sha256sum */
	cr_assert_eq(digest_ha1(DIGEST_MD5, S("alice"), S("example.com"), S("secret"), ha1), 0);
	cr_assert_str_eq(ha1, "b1726872c344b6dc8365b774f8fd6412");
	cr_assert_eq(digest_ha1(DIGEST_SHA256, S("alice"), S("example.com"), S("secret"), ha1), 0);
	cr_assert_str_eq(ha1, "ed8925b20f9a77b8f8f8d5f8e4467fe32b866f7208ab9e4b20595e9821a0fdee");
}

Test(digest, slices_are_not_nul_terminated)
{
	/* Slices into a larger buffer: nothing past len may be hashed. */
	const char buf[] = "alice:example.com:secretXXXX";

	cr_assert_eq(digest_ha1(DIGEST_MD5, sip_str_make(buf, 5), sip_str_make(buf + 6, 11),
				sip_str_make(buf + 18, 6), ha1),
		     0);
	cr_assert_str_eq(ha1, "b1726872c344b6dc8365b774f8fd6412");
}

Test(digest, long_inputs_stream_past_the_buffer)
{
	/* A Request-URI longer than the gathering buffer: same result as
	 * the short path would give (checked against Python hashlib). */
	static char uri[2001];

	memset(uri, 'a', 2000);
	memcpy(uri, "sip:", 4);
	cr_assert_str_eq(respond(DIGEST_SHA256, "alice", "example.com", "secret", "n", "00000001",
				 "c", "auth", "REGISTER", uri),
			 "88c6c4f4efc38bf88cf5965433d3909640914fd59863f0c9732d457507ae1de8");
}

Test(digest, uppercase_ha1_is_hashed_as_lowercase)
{
	char upper[DIGEST_HEX_MAX + 1];

	cr_assert_eq(digest_ha1(DIGEST_MD5, S("Mufasa"), S("testrealm@host.com"),
				S("Circle Of Life"), upper),
		     0);
	for (char *p = upper; *p; p++)
		*p = (char)(*p >= 'a' && *p <= 'f' ? *p - 32 : *p);
	cr_assert_eq(digest_response(DIGEST_MD5, sip_str_cstr(upper),
				     S("dcd98b7102dd2f0e8b11d0f600bfb0c093"), S("00000001"),
				     S("0a4f113b"), S("auth"), S("GET"), S("/dir/index.html"), out),
		     0);
	cr_assert_str_eq(out, "6629fae49393a05397450978507c4ef1");
}

Test(digest, response_refusals_leave_empty_output)
{
	const struct sip_str md5_ha1 = S("939e7578ed9e3c518a452acee763bce9");

	/* An MD5 HA1 offered for a SHA-256 response: wrong length. */
	strcpy(out, "junk");
	cr_assert_eq(digest_response(DIGEST_SHA256, md5_ha1, S("n"), S("00000001"), S("c"),
				     S("auth"), S("GET"), S("/"), out),
		     -EINVAL);
	cr_assert_str_eq(out, "");
	/* Not hex. */
	cr_assert_eq(digest_response(DIGEST_MD5, S("939e7578ed9e3c518a452acee763bcgz"), S("n"),
				     S("00000001"), S("c"), S("auth"), S("GET"), S("/"), out),
		     -EINVAL);
	/* qop=auth without cnonce or nc (RFC 7616 §3.4). */
	cr_assert_eq(digest_response(DIGEST_MD5, md5_ha1, S("n"), S("00000001"), S(""), S("auth"),
				     S("GET"), S("/"), out),
		     -EINVAL);
	cr_assert_eq(digest_response(DIGEST_MD5, md5_ha1, S("n"), S(""), S("c"), S("auth"),
				     S("GET"), S("/"), out),
		     -EINVAL);
	/* auth-int and unknown qops. */
	strcpy(out, "junk");
	cr_assert_eq(digest_response(DIGEST_MD5, md5_ha1, S("n"), S("00000001"), S("c"),
				     S("auth-int"), S("GET"), S("/"), out),
		     -EPROTONOSUPPORT);
	cr_assert_str_eq(out, "");
	cr_assert_eq(digest_response(DIGEST_MD5, md5_ha1, S("n"), S("00000001"), S("c"), S("x"),
				     S("GET"), S("/"), out),
		     -EPROTONOSUPPORT);
	/* qop is a token: case does not matter, and it is hashed as sent. */
	cr_assert_eq(digest_response(DIGEST_MD5, md5_ha1, S("n"), S("00000001"), S("c"), S("AUTH"),
				     S("GET"), S("/"), out),
		     0);
	/* Out-of-range algorithm values. */
	cr_assert_eq(digest_ha1((enum digest_alg)7, S("u"), S("r"), S("p"), ha1), -EINVAL);
	cr_assert_str_eq(ha1, "");
	cr_assert_eq(digest_hex_len((enum digest_alg)7), 0);
}

Test(digest, equal_hex)
{
	const char *exp = "6629fae49393a05397450978507c4ef1";

	cr_assert(digest_equal_hex(exp, S("6629fae49393a05397450978507c4ef1")));
	cr_assert(digest_equal_hex(exp, S("6629FAE49393A05397450978507C4EF1")));
	cr_assert(digest_equal_hex("6629FAE49393A05397450978507C4EF1",
				   S("6629fae49393a05397450978507c4ef1")));
	/* One digit off, at either end. */
	cr_assert_not(digest_equal_hex(exp, S("7629fae49393a05397450978507c4ef1")));
	cr_assert_not(digest_equal_hex(exp, S("6629fae49393a05397450978507c4ef0")));
	/* Lengths differ: a prefix, one more digit, the empty response. */
	cr_assert_not(digest_equal_hex(exp, S("6629fae49393a05397450978507c4ef")));
	cr_assert_not(digest_equal_hex(exp, S("6629fae49393a05397450978507c4ef10")));
	cr_assert_not(digest_equal_hex(exp, S("")));
	/* A failed digest leaves "": it must match nothing, not even "". */
	cr_assert_not(digest_equal_hex("", S("")));
	cr_assert_not(digest_equal_hex("", SIP_STR_NULL));
	/* Case folding is for letters only: '@' | 0x20 is '`'. */
	cr_assert_not(digest_equal_hex("`", S("@")));
	/* SHA-256 length. */
	cr_assert(digest_equal_hex(
		"753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1",
		S("753927FA0E85D155564E2E272A28D1802CA10DAF4496794697CF8DB5856CB6C1")));
}

Test(digest, alg_parse)
{
	enum digest_alg a = DIGEST_SHA256;

	cr_assert_eq(digest_alg_parse(S(""), &a), 0);
	cr_assert_eq(a, DIGEST_MD5);
	cr_assert_eq(digest_alg_parse(SIP_STR_NULL, &a), 0);
	cr_assert_eq(a, DIGEST_MD5);
	a = DIGEST_SHA256;
	cr_assert_eq(digest_alg_parse(S("md5"), &a), 0);
	cr_assert_eq(a, DIGEST_MD5);
	cr_assert_eq(digest_alg_parse(S("sha-256"), &a), 0);
	cr_assert_eq(a, DIGEST_SHA256);
	cr_assert_eq(digest_alg_parse(S("SHA-256"), &a), 0);
	cr_assert_eq(a, DIGEST_SHA256);
	cr_assert_eq(digest_alg_parse(S("MD5-sess"), &a), -EPROTONOSUPPORT);
	cr_assert_eq(digest_alg_parse(S("SHA-256-sess"), &a), -EPROTONOSUPPORT);
	cr_assert_eq(digest_alg_parse(S("SHA-512-256"), &a), -EPROTONOSUPPORT);
	cr_assert_eq(digest_alg_parse(S("SHA256"), &a), -EPROTONOSUPPORT);
	cr_assert_eq(digest_alg_parse(S("MD"), &a), -EPROTONOSUPPORT);
	cr_assert_eq(digest_alg_parse(S("MD5 "), &a), -EPROTONOSUPPORT);
	cr_assert_eq(a, DIGEST_SHA256, "refusal must not touch *out");
}

Test(digest, alg_names)
{
	cr_assert_str_eq(digest_alg_name(DIGEST_MD5), "MD5");
	cr_assert_str_eq(digest_alg_name(DIGEST_SHA256), "SHA-256");
	cr_assert_eq(digest_hex_len(DIGEST_MD5), 32);
	cr_assert_eq(digest_hex_len(DIGEST_SHA256), 64);
	cr_assert_eq(strlen(respond(DIGEST_SHA256, "u", "r", "p", "n", "00000001", "c", "auth",
				    "REGISTER", "sip:r")),
		     64);
}
