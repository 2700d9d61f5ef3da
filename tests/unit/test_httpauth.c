/*
 * Unit tests for httpauth: the request's JSON (exact text, escaping,
 * quoted-pairs undone, UTF-8 refused when broken, the buffer's bound,
 * every byte of the output read back by jansson), the answer's ha1
 * (either case, each algorithm's length, what counts as no ha1), the
 * credentials keys (no two sets of pieces alike), the verdict table
 * (owner, busy copies, answers, expiry, its bound, four threads at once)
 * and the positive cache (the nonce's end, the ha1 kept).
 */
#include "registrar/httpauth.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define S(lit) SIP_STR(lit)

static const struct sip_str contacts[] = {S("<sip:alice@192.0.2.10:5060>;expires=3600"),
					  S("<sip:alice@[2001:db8::1]>;q=0.5")};

static struct httpauth_request sample(void)
{
	return (struct httpauth_request){
		.username = S("alice"),
		.realm = S("example.com"),
		.nonce = S("00006571a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9"),
		.uri = S("sip:example.com"),
		.response = S("6629fae49393a05397450978507c4ef1"),
		.algorithm = S("MD5"),
		.qop = S("auth"),
		.nc = S("00000001"),
		.cnonce = S("0a4f113b"),
		.method = S("REGISTER"),
		.request_uri = S("sip:example.com"),
		.aor = S("sip:alice@example.com"),
		.source = S("udp:192.0.2.10:5060"),
		.contact = contacts,
		.ncontact = 2,
	};
}

static char *json_of(const struct httpauth_request *r)
{
	static char buf[4096];
	ssize_t n = httpauth_json_request(r, buf, sizeof(buf) - 1);

	cr_assert_gt(n, 0, "json: %zd", n);
	buf[n] = '\0';
	return buf;
}

/* ---- the request ---------------------------------------------------------- */

Test(httpauth, request_exact_text)
{
	struct httpauth_request r = sample();

	cr_assert_str_eq(
		json_of(&r),
		"{\"username\":\"alice\",\"realm\":\"example.com\",\"nonce\":"
		"\"00006571a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9\",\"uri\":"
		"\"sip:example.com\",\"response\":\"6629fae49393a05397450978507c4ef1\","
		"\"algorithm\":\"MD5\",\"qop\":\"auth\",\"nc\":\"00000001\",\"cnonce\":"
		"\"0a4f113b\","
		"\"method\":\"REGISTER\",\"request_uri\":\"sip:example.com\",\"aor\":"
		"\"sip:alice@example.com\",\"contact\":[\"<sip:alice@192.0.2.10:5060>;expires="
		"3600\","
		"\"<sip:alice@[2001:db8::1]>;q=0.5\"],\"source\":\"udp:192.0.2.10:5060\"}");
}

Test(httpauth, request_opaque_only_when_there_and_no_contact)
{
	struct httpauth_request r = sample();
	json_t *j;

	r.ncontact = 0;
	cr_assert(strstr(json_of(&r), "\"contact\":[]"));
	cr_assert_null(strstr(json_of(&r), "opaque"));
	r.opaque = S("5ccc069c403ebaf9f0171e9517f40e41");
	j = json_loads(json_of(&r), 0, NULL);
	cr_assert_not_null(j);
	cr_assert_str_eq(json_string_value(json_object_get(j, "opaque")),
			 "5ccc069c403ebaf9f0171e9517f40e41");
	cr_assert_eq(json_array_size(json_object_get(j, "contact")), 0);
	json_decref(j);
}

Test(httpauth, request_escapes_and_unquotes)
{
	struct httpauth_request r = sample();
	json_t *j;

	/* username="al\"ice\\x" in the header: the client hashed al"ice\x */
	r.username = S("al\\\"ice\\\\x");
	/* a Contact is not a quoted-string: its backslash stays, escaped */
	r.contact = (const struct sip_str[]){S("\"A \\\"B\\\"\" <sip:a@b>\t;x=\x01")};
	r.ncontact = 1;
	r.realm = S("\xc3\xa9xample.com"); /* UTF-8 passes as it is */
	j = json_loads(json_of(&r), 0, NULL);
	cr_assert_not_null(j);
	cr_assert_str_eq(json_string_value(json_object_get(j, "username")), "al\"ice\\x");
	cr_assert_str_eq(json_string_value(json_array_get(json_object_get(j, "contact"), 0)),
			 "\"A \\\"B\\\"\" <sip:a@b>\t;x=\x01");
	cr_assert_str_eq(json_string_value(json_object_get(j, "realm")), "\xc3\xa9xample.com");
	cr_assert(strstr(json_of(&r), "\\u0009;x=\\u0001"));
	json_decref(j);
}

Test(httpauth, request_refuses_broken_utf8)
{
	struct httpauth_request r = sample();
	char buf[2048];

	r.username = S("al\xffice");
	cr_assert_eq(httpauth_json_request(&r, buf, sizeof(buf)), -EILSEQ);
	r = sample();
	r.contact = (const struct sip_str[]){S("<sip:\xc0\xaf@x>")}; /* overlong */
	r.ncontact = 1;
	cr_assert_eq(httpauth_json_request(&r, buf, sizeof(buf)), -EILSEQ);
	r = sample();
	r.source = S("udp:\xed\xa0\x80"); /* a surrogate */
	cr_assert_eq(httpauth_json_request(&r, buf, sizeof(buf)), -EILSEQ);
}

Test(httpauth, request_bounded_by_its_buffer)
{
	struct httpauth_request r = sample();
	char buf[1024];
	ssize_t full = httpauth_json_request(&r, buf, sizeof(buf));

	cr_assert_gt(full, 0);
	for (size_t cap = 0; cap < (size_t)full; cap++) {
		memset(buf, 'Z', sizeof(buf));
		cr_assert_eq(httpauth_json_request(&r, buf, cap), -ENOSPC, "cap %zu", cap);
		cr_assert_eq(buf[cap], 'Z', "wrote past cap %zu", cap);
	}
	cr_assert_eq(httpauth_json_request(&r, buf, (size_t)full), full);
}

/* ---- the answer ----------------------------------------------------------- */

Test(httpauth, answer_ha1)
{
	char ha1[DIGEST_HEX_MAX + 1];
	const char *md5 = "{\"ha1\": \"939E7578ED9E3C518A452ACEE763BCE9\", \"x\": 1}";
	const char *sha =
		"{\"ha1\":\"7987c64c30e25f1b74be53f966b49b90f2808aa92faf9a00262392d7b4794232\"}";

	cr_assert_eq(httpauth_json_answer(md5, strlen(md5), DIGEST_MD5, ha1), 0);
	cr_assert_str_eq(ha1, "939e7578ed9e3c518a452acee763bce9");
	cr_assert_eq(httpauth_json_answer(sha, strlen(sha), DIGEST_SHA256, ha1), 0);
	cr_assert_str_eq(ha1, "7987c64c30e25f1b74be53f966b49b90f2808aa92faf9a00262392d7b4794232");
	/* each algorithm's length only */
	cr_assert_eq(httpauth_json_answer(md5, strlen(md5), DIGEST_SHA256, ha1), -EINVAL);
	cr_assert_str_eq(ha1, "");
	cr_assert_eq(httpauth_json_answer(sha, strlen(sha), DIGEST_MD5, ha1), -EINVAL);
}

Test(httpauth, answer_without_ha1)
{
	char ha1[DIGEST_HEX_MAX + 1];
	static const char *none[] = {"",
				     "{}",
				     "null",
				     "[\"ha1\"]",
				     "not json",
				     "{\"ha1\": null}",
				     "{\"HA1\": \"939e7578ed9e3c518a452acee763bce9\"}"};
	static const char *bad[] = {
		"{\"ha1\": 5}", "{\"ha1\": \"939e7578ed9e3c518a452acee763bceg\"}",
		"{\"ha1\": \"939e7578ed9e3c518a452acee763bce\"}", "{\"ha1\": \"\"}"};

	for (size_t i = 0; i < sizeof(none) / sizeof(none[0]); i++) {
		strcpy(ha1, "x");
		cr_assert_eq(httpauth_json_answer(none[i], strlen(none[i]), DIGEST_MD5, ha1),
			     -ENOENT, "%s", none[i]);
		cr_assert_str_eq(ha1, "");
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(httpauth_json_answer(bad[i], strlen(bad[i]), DIGEST_MD5, ha1), -EINVAL,
			     "%s", bad[i]);
	/* a duplicate member is not taken on trust */
	cr_assert_eq(httpauth_json_answer("{\"ha1\":\"939e7578ed9e3c518a452acee763bce9\",\"ha1\":"
					  "\"939e7578ed9e3c518a452acee763bce9\"}",
					  79, DIGEST_MD5, ha1),
		     -ENOENT);
}

/* ---- keys ----------------------------------------------------------------- */

static struct httpauth_key key_of(const char *user, const char *nc)
{
	struct httpauth_key k;

	cr_assert_eq(httpauth_key_make(&k, sip_str_cstr(user), S("example.com"),
				       S("00006571a2b3c4d5e6f7a8b9c0d1e2f3"), sip_str_cstr(nc),
				       S("0a4f113b"), S("6629fae49393a05397450978507c4ef1")),
		     0);
	return k;
}

Test(httpauth, keys_unambiguous_and_bounded)
{
	struct httpauth_key a, b;
	char big[HTTPAUTH_KEY_MAX];

	cr_assert_eq(httpauth_key_make(&a, S("ab"), S("c"), S(""), S(""), S(""), S("")), 0);
	cr_assert_eq(httpauth_key_make(&b, S("a"), S("bc"), S(""), S(""), S(""), S("")), 0);
	cr_assert(a.len != b.len || memcmp(a.text, b.text, a.len) != 0);
	memset(big, 'u', sizeof(big));
	cr_assert_eq(httpauth_key_make(&a, sip_str_make(big, sizeof(big)), S("x"), S(""), S(""),
				       S(""), S("")),
		     -ENAMETOOLONG);
}

/* ---- the verdict table ---------------------------------------------------- */

static void table_setup(void)
{
	cr_assert_eq(httpauth_table_init(8), 0);
}

static void table_teardown(void)
{
	httpauth_table_free();
}

TestSuite(table, .init = table_setup, .fini = table_teardown);

Test(table, owner_takes_its_answer_once)
{
	struct httpauth_key k = key_of("alice", "00000001");
	struct httpauth_answer a = {.verdict = HTTPAUTH_ACCEPT, .status = 200}, got;
	int owner, copy;

	strcpy(a.ha1, "939e7578ed9e3c518a452acee763bce9");
	cr_assert_eq(httpauth_table_take(&k, &owner, 1000, &got), HTTPAUTH_NONE);
	cr_assert_eq(httpauth_table_add(&k, &owner, 1000, 5000), 0);
	cr_assert_eq(httpauth_table_add(&k, &copy, 1000, 5000), -EEXIST);
	/* not answered yet: busy for everyone, the owner included */
	cr_assert_eq(httpauth_table_take(&k, &copy, 1000, &got), HTTPAUTH_BUSY);
	cr_assert_eq(httpauth_table_take(&k, &owner, 1000, &got), HTTPAUTH_BUSY);
	cr_assert_eq(httpauth_table_answer(&k, &a), 0);
	/* a retransmission does not get the owner's answer */
	cr_assert_eq(httpauth_table_take(&k, &copy, 1000, &got), HTTPAUTH_BUSY);
	cr_assert_eq(httpauth_table_take(&k, &owner, 1000, &got), HTTPAUTH_ANSWERED);
	cr_assert_eq(got.verdict, HTTPAUTH_ACCEPT);
	cr_assert_eq(got.status, 200);
	cr_assert_str_eq(got.ha1, a.ha1);
	cr_assert_eq(httpauth_table_take(&k, &owner, 1000, &got), HTTPAUTH_NONE);
	cr_assert_eq(httpauth_table_answer(&k, &a), -ENOENT);
}

Test(table, keys_apart)
{
	struct httpauth_key k1 = key_of("alice", "00000001"), k2 = key_of("alice", "00000002");
	struct httpauth_answer rej = {.verdict = HTTPAUTH_REJECT, .status = 403}, got;
	int o1, o2;

	cr_assert_eq(httpauth_table_add(&k1, &o1, 1000, 5000), 0);
	cr_assert_eq(httpauth_table_add(&k2, &o2, 1000, 5000), 0);
	cr_assert_eq(httpauth_table_answer(&k2, &rej), 0);
	cr_assert_eq(httpauth_table_take(&k1, &o1, 1000, &got), HTTPAUTH_BUSY);
	cr_assert_eq(httpauth_table_take(&k2, &o2, 1000, &got), HTTPAUTH_ANSWERED);
	cr_assert_eq(got.verdict, HTTPAUTH_REJECT);
	httpauth_table_drop(&k1);
	cr_assert_eq(httpauth_table_take(&k1, &o1, 1000, &got), HTTPAUTH_NONE);
}

Test(table, expired_entries_count_as_none_and_make_room)
{
	struct httpauth_answer got;
	char user[16];
	int owner;

	for (int i = 0; i < 8; i++) {
		struct httpauth_key k;

		snprintf(user, sizeof(user), "u%d", i);
		k = key_of(user, "00000001");
		cr_assert_eq(httpauth_table_add(&k, &owner, 1000, i < 4 ? 2000 : 9000), 0);
	}
	{
		struct httpauth_key k = key_of("late", "00000001");

		/* full of live entries */
		cr_assert_eq(httpauth_table_add(&k, &owner, 1000, 9000), -ENOSPC);
	}
	/* an entry nobody took in time is gone for whoever looks */
	{
		struct httpauth_key k = key_of("u0", "00000001");

		cr_assert_eq(httpauth_table_take(&k, &owner, 1500, &got), HTTPAUTH_BUSY);
		cr_assert_eq(httpauth_table_take(&k, &owner, 2000, &got), HTTPAUTH_NONE);
	}
	/* full again; the expired ones make room once their time is past */
	{
		struct httpauth_key k = key_of("other", "00000001"), l = key_of("late", "00000001");

		cr_assert_eq(httpauth_table_add(&k, &owner, 1000, 9000), 0);
		cr_assert_eq(httpauth_table_add(&l, &owner, 1999, 9000), -ENOSPC);
		cr_assert_eq(httpauth_table_add(&l, &owner, 2000, 9000), 0);
		k = key_of("u1", "00000001");
		cr_assert_eq(httpauth_table_take(&k, &owner, 2000, &got), HTTPAUTH_NONE);
		k = key_of("u4", "00000001");
		cr_assert_eq(httpauth_table_take(&k, &owner, 2000, &got), HTTPAUTH_BUSY);
	}
}

struct worker_arg {
	int id;
	int owner;
};

static void *hammer(void *arg)
{
	struct worker_arg *wa = arg;
	char user[32];

	for (int i = 0; i < 2000; i++) {
		struct httpauth_answer a = {.verdict = HTTPAUTH_ACCEPT, .status = 200}, got;
		struct httpauth_key k;

		snprintf(user, sizeof(user), "t%d-%d", wa->id, i);
		k = key_of(user, "00000001");
		if (httpauth_table_add(&k, &wa->owner, 1000, UINT64_MAX) != 0)
			return (void *)1;
		if (httpauth_table_answer(&k, &a) != 0 ||
		    httpauth_table_take(&k, &wa->owner, 0, &got) != HTTPAUTH_ANSWERED)
			return (void *)1;
	}
	return NULL;
}

Test(table, four_threads)
{
	pthread_t t[4];
	struct worker_arg wa[4];
	void *rc;

	httpauth_table_free();
	cr_assert_eq(httpauth_table_init(64), 0);
	for (int i = 0; i < 4; i++) {
		wa[i].id = i;
		cr_assert_eq(pthread_create(&t[i], NULL, hammer, &wa[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], &rc);
		cr_assert_null(rc, "thread %d", i);
	}
}

/* ---- the positive cache --------------------------------------------------- */

static void cache_setup(void)
{
	cr_assert_eq(httpauth_cache_init(1024, 300), 0);
}

static void cache_teardown(void)
{
	httpauth_cache_free();
}

TestSuite(cache, .init = cache_setup, .fini = cache_teardown);

#define NONCE S("00006571a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9")

Test(cache, until_the_nonce_ends)
{
	struct httpauth_cached c;

	cr_assert_eq(httpauth_cache_get(S("alice"), S("example.com"), NONCE, 1000, &c), -ENOENT);
	httpauth_cache_put(S("alice"), S("example.com"), NONCE, 1300, DIGEST_MD5, NULL);
	cr_assert_eq(httpauth_cache_get(S("alice"), S("example.com"), NONCE, 1299, &c), 0);
	cr_assert_not(c.has_ha1);
	cr_assert_eq(httpauth_cache_get(S("alice"), S("example.com"), NONCE, 1300, &c), -ENOENT);
	/* another user, realm or nonce is another entry */
	cr_assert_eq(httpauth_cache_get(S("bob"), S("example.com"), NONCE, 1000, &c), -ENOENT);
	cr_assert_eq(httpauth_cache_get(S("alice"), S("example.org"), NONCE, 1000, &c), -ENOENT);
	cr_assert_eq(httpauth_cache_get(S("alice"), S("example.com"), S("0000"), 1000, &c),
		     -ENOENT);
}

Test(cache, keeps_the_ha1)
{
	struct httpauth_cached c;
	const char *ha1 = "7987c64c30e25f1b74be53f966b49b90f2808aa92faf9a00262392d7b4794232";

	httpauth_cache_put(S("bob"), S("example.com"), NONCE, 1300, DIGEST_SHA256, ha1);
	cr_assert_eq(httpauth_cache_get(S("bob"), S("example.com"), NONCE, 1000, &c), 0);
	cr_assert(c.has_ha1);
	cr_assert_eq(c.alg, DIGEST_SHA256);
	cr_assert_str_eq(c.ha1, ha1);
}
