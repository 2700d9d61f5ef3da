/*
 * Unit tests for nonce: the nonce format (pinned against OpenSSL's own
 * HMAC, since nodes of different versions must agree), round trips,
 * staleness, forgeries of each part, realm and key binding, clock skew;
 * the nonce-count table's ordering, expiry and capacity, and its use by
 * four threads at once (run under ASan/UBSan, and TSan by hand).
 */
#include "registrar/nonce.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define S(lit)   SIP_STR(lit)
#define T0       1700000000ULL /* an arbitrary wall-clock second */
#define LIFETIME 300
#define REALM    S("example.com")
#define SCOPE    0x5c09e123u /* a node and a client address, hashed */

static struct nonce_key *key;

static void setup(void)
{
	key = nonce_key_new("cluster secret");
	cr_assert_not_null(key);
}

static void teardown(void)
{
	nonce_key_free(key);
}

TestSuite(nonce, .init = setup, .fini = teardown);

static struct sip_str nstr(const char *n)
{
	return sip_str_make(n, strlen(n));
}

static void make(char *n, struct sip_str realm, uint64_t t)
{
	cr_assert_eq(nonce_make(key, realm, SCOPE, t, n), 0);
	cr_assert_eq(strlen(n), NONCE_LEN);
}

Test(nonce, format_is_time_random_mac)
{
	char n[NONCE_LEN + 1];
	unsigned char k[32], mac[32], msg[16 + 11];
	unsigned int klen, mlen;
	char hex[33];

	make(n, REALM, T0);
	for (int i = 0; i < NONCE_LEN; i++)
		cr_assert((n[i] >= '0' && n[i] <= '9') || (n[i] >= 'a' && n[i] <= 'f'));
	cr_assert(strncmp(n, "00006553f100", 12) == 0, "time: %.12s", n);

	/* The MAC, recomputed with OpenSSL's HMAC: key = HKDF-Extract with
	 * the module's salt, MAC = HMAC(key, time || random || realm)[0..16). */
	cr_assert_not_null(HMAC(EVP_sha256(), "junction digest nonce v1", 24,
				(const unsigned char *)"cluster secret", 14, k, &klen));
	for (int i = 0; i < 16; i++)
		cr_assert_eq(sscanf(n + 2 * i, "%2hhx", &msg[i]), 1);
	memcpy(msg + 16, "example.com", 11);
	cr_assert_not_null(HMAC(EVP_sha256(), k, (int)klen, msg, sizeof(msg), mac, &mlen));
	for (int i = 0; i < 16; i++)
		snprintf(hex + 2 * i, 3, "%02x", mac[i]);
	cr_assert(strncmp(n + 32, hex, 32) == 0, "mac %s, want %s", n + 32, hex);
}

Test(nonce, round_trip_and_uniqueness)
{
	char a[NONCE_LEN + 1], b[NONCE_LEN + 1];

	make(a, REALM, T0);
	make(b, REALM, T0);
	cr_assert_str_neq(a, b, "same second, same realm: the random part must differ");
	cr_assert_eq(nonce_verify(key, nstr(a), REALM, SCOPE, T0, LIFETIME), 0);
	cr_assert_eq(nonce_verify(key, nstr(b), REALM, SCOPE, T0 + 1, LIFETIME), 0);
}

Test(nonce, empty_realm_is_a_realm)
{
	char n[NONCE_LEN + 1];

	make(n, S(""), T0);
	cr_assert_eq(nonce_verify(key, nstr(n), S(""), SCOPE, T0, LIFETIME), 0);
	cr_assert_eq(nonce_verify(key, nstr(n), REALM, SCOPE, T0, LIFETIME), -EINVAL);
}

Test(nonce, stale_after_lifetime)
{
	char n[NONCE_LEN + 1];

	make(n, REALM, T0);
	cr_assert_eq(nonce_verify(key, nstr(n), REALM, SCOPE, T0 + LIFETIME, LIFETIME), 0);
	cr_assert_eq(nonce_verify(key, nstr(n), REALM, SCOPE, T0 + LIFETIME + 1, LIFETIME),
		     -ESTALE);
	cr_assert_eq(nonce_verify(key, nstr(n), REALM, SCOPE, T0 + 100000, LIFETIME), -ESTALE);
	cr_assert_eq(nonce_verify(key, nstr(n), REALM, SCOPE, T0 + 1, 0), -ESTALE);
}

/* Flips one hex digit at i (stays lowercase hex). */
static void flip(char *n, int i)
{
	n[i] = n[i] == '0' ? '1' : '0';
}

Test(nonce, forged_in_each_part)
{
	static const int at[] = {0, 11, 12, 19, 20, 31, 32, 47, 63}; /* time, scope, random, mac */
	char n[NONCE_LEN + 1], f[NONCE_LEN + 1];

	make(n, REALM, T0);
	for (size_t i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
		strcpy(f, n);
		flip(f, at[i]);
		cr_assert_eq(nonce_verify(key, nstr(f), REALM, SCOPE, T0, LIFETIME), -EINVAL,
			     "digit %d", at[i]);
	}
	/* A forged old nonce is refused, never called stale (stale=true
	 * would tell the sender its password was right). */
	strcpy(f, n);
	flip(f, 40);
	cr_assert_eq(nonce_verify(key, nstr(f), REALM, SCOPE, T0 + 10 * LIFETIME, LIFETIME),
		     -EINVAL);
	/* Postdating the time stamp to stretch the lifetime breaks the MAC. */
	strcpy(f, n);
	memcpy(f, "00006553f200", 12); /* T0 + 256 */
	cr_assert_eq(nonce_verify(key, nstr(f), REALM, SCOPE, T0 + 256, LIFETIME), -EINVAL);
}

Test(nonce, other_realm)
{
	char n[NONCE_LEN + 1];

	make(n, REALM, T0);
	cr_assert_eq(nonce_verify(key, nstr(n), S("example.org"), SCOPE, T0, LIFETIME), -EINVAL);
	cr_assert_eq(nonce_verify(key, nstr(n), S("EXAMPLE.COM"), SCOPE, T0, LIFETIME), -EINVAL);
	cr_assert_eq(nonce_verify(key, nstr(n), S("example.co"), SCOPE, T0, LIFETIME), -EINVAL);
}

Test(nonce, other_key_and_same_secret)
{
	char n[NONCE_LEN + 1];
	struct nonce_key *other = nonce_key_new("cluster secreT");
	struct nonce_key *peer = nonce_key_new("cluster secret"); /* another node */

	cr_assert_not_null(other);
	cr_assert_not_null(peer);
	make(n, REALM, T0);
	cr_assert_eq(nonce_verify(other, nstr(n), REALM, SCOPE, T0, LIFETIME), -EINVAL);
	cr_assert_eq(nonce_verify(peer, nstr(n), REALM, SCOPE, T0, LIFETIME), 0);
	nonce_key_free(other);
	nonce_key_free(peer);
}

/* A nonce is good only for the scope it was made for: another node's,
 * or one issued to another address, is stale (and forging the scope
 * breaks the MAC). */
Test(nonce, scope)
{
	char n[NONCE_LEN + 1];

	make(n, REALM, T0);
	cr_assert_eq(nonce_verify(key, nstr(n), REALM, SCOPE, T0, LIFETIME), 0);
	cr_assert_eq(nonce_verify(key, nstr(n), REALM, SCOPE ^ 1, T0, LIFETIME), -ESTALE);
	cr_assert_eq(nonce_verify(key, nstr(n), REALM, 0, T0, LIFETIME), -ESTALE);
	cr_assert_eq(strncmp(n + 12, "5c09e123", 8), 0);
	memcpy(n + 12, "5c09e124", 8);
	cr_assert_eq(nonce_verify(key, nstr(n), REALM, SCOPE + 1, T0, LIFETIME), -EINVAL);
}

Test(nonce, malformed)
{
	char n[NONCE_LEN + 1], f[NONCE_LEN + 2];

	make(n, REALM, T0);
	cr_assert_eq(nonce_verify(key, sip_str_make(n, NONCE_LEN - 1), REALM, SCOPE, T0, LIFETIME),
		     -EINVAL);
	snprintf(f, sizeof(f), "%s0", n);
	cr_assert_eq(nonce_verify(key, nstr(f), REALM, SCOPE, T0, LIFETIME), -EINVAL);
	cr_assert_eq(nonce_verify(key, S(""), REALM, SCOPE, T0, LIFETIME), -EINVAL);
	cr_assert_eq(nonce_verify(key, SIP_STR_NULL, REALM, SCOPE, T0, LIFETIME), -EINVAL);
	cr_assert_eq(nonce_verify(key, S("dcd98b7102dd2f0e8b11d0f600bfb0c093"), REALM, SCOPE, T0,
				  LIFETIME),
		     -EINVAL);
	/* 64 characters, not hex. */
	memset(f, 'z', NONCE_LEN);
	f[NONCE_LEN] = '\0';
	cr_assert_eq(nonce_verify(key, nstr(f), REALM, SCOPE, T0, LIFETIME), -EINVAL);
	/* The same nonce in uppercase: one spelling only. */
	strcpy(f, n);
	for (char *p = f; *p; p++)
		*p = (char)(*p >= 'a' && *p <= 'f' ? *p - 32 : *p);
	if (strcmp(f, n) != 0)
		cr_assert_eq(nonce_verify(key, nstr(f), REALM, SCOPE, T0, LIFETIME), -EINVAL);
	/* Non-hex in the time part, MAC part. */
	strcpy(f, n);
	f[3] = 'g';
	cr_assert_eq(nonce_verify(key, nstr(f), REALM, SCOPE, T0, LIFETIME), -EINVAL);
	strcpy(f, n);
	f[50] = ' ';
	cr_assert_eq(nonce_verify(key, nstr(f), REALM, SCOPE, T0, LIFETIME), -EINVAL);
}

Test(nonce, future_within_skew_only)
{
	char n[NONCE_LEN + 1];

	/* Issued by a node whose clock is ahead of ours. */
	make(n, REALM, T0 + NONCE_SKEW_S);
	cr_assert_eq(nonce_verify(key, nstr(n), REALM, SCOPE, T0, LIFETIME), 0);
	make(n, REALM, T0 + NONCE_SKEW_S + 1);
	cr_assert_eq(nonce_verify(key, nstr(n), REALM, SCOPE, T0, LIFETIME), -EINVAL);
	/* A broken clock's stamp saturates at 48 bits. */
	make(n, REALM, UINT64_MAX);
	cr_assert_eq(strncmp(n, "ffffffffffff", 12), 0);
	cr_assert_eq(nonce_verify(key, nstr(n), REALM, SCOPE, T0, LIFETIME), -EINVAL);
	cr_assert_eq(nonce_verify(key, nstr(n), REALM, SCOPE, (1ull << 48) - 1, LIFETIME), 0);
}

Test(nonce, key_needs_a_secret)
{
	errno = 0;
	cr_assert_null(nonce_key_new(NULL));
	cr_assert_eq(errno, EINVAL);
	errno = 0;
	cr_assert_null(nonce_key_new(""));
	cr_assert_eq(errno, EINVAL);
	nonce_key_free(NULL);
}

/* ---- nonce-counts ---- */

Test(nonce_nc, parse)
{
	uint32_t v = 7;

	cr_assert_eq(nonce_nc_parse(S("00000001"), &v), 0);
	cr_assert_eq(v, 1);
	cr_assert_eq(nonce_nc_parse(S("0000000a"), &v), 0);
	cr_assert_eq(v, 10);
	cr_assert_eq(nonce_nc_parse(S("0000001F"), &v), 0);
	cr_assert_eq(v, 31);
	cr_assert_eq(nonce_nc_parse(S("ffffffff"), &v), 0);
	cr_assert_eq(v, UINT32_MAX);
	cr_assert_eq(nonce_nc_parse(S("00000000"), &v), 0);
	cr_assert_eq(v, 0);
	v = 7;
	cr_assert_eq(nonce_nc_parse(S("0000001"), &v), -EINVAL);
	cr_assert_eq(nonce_nc_parse(S("000000001"), &v), -EINVAL);
	cr_assert_eq(nonce_nc_parse(S(""), &v), -EINVAL);
	cr_assert_eq(nonce_nc_parse(SIP_STR_NULL, &v), -EINVAL);
	cr_assert_eq(nonce_nc_parse(S("0000000g"), &v), -EINVAL);
	cr_assert_eq(nonce_nc_parse(S("+0000001"), &v), -EINVAL);
	cr_assert_eq(nonce_nc_parse(S(" 0000001"), &v), -EINVAL);
	cr_assert_eq(nonce_nc_parse(S("0x000001"), &v), -EINVAL);
	cr_assert_eq(v, 7, "refusal must not touch *nc");
}

static struct nonce_nc_table *tab;

static void nc_setup(void)
{
	setup();
	tab = nonce_nc_table_new(1024, LIFETIME);
	cr_assert_not_null(tab);
}

static void nc_teardown(void)
{
	nonce_nc_table_free(tab);
	teardown();
}

Test(nonce_nc, increasing_accepted_equal_and_lower_refused, .init = nc_setup, .fini = nc_teardown)
{
	char n[NONCE_LEN + 1];

	make(n, REALM, T0);
	cr_assert_eq(nonce_nc_check(tab, nstr(n), 1, T0), 0);
	cr_assert_eq(nonce_nc_check(tab, nstr(n), 1, T0), -EALREADY);
	cr_assert_eq(nonce_nc_check(tab, nstr(n), 2, T0), 0);
	cr_assert_eq(nonce_nc_check(tab, nstr(n), 5, T0 + 1), 0); /* gaps are allowed */
	cr_assert_eq(nonce_nc_check(tab, nstr(n), 5, T0 + 1), -EALREADY);
	cr_assert_eq(nonce_nc_check(tab, nstr(n), 3, T0 + 1), -EALREADY);
	cr_assert_eq(nonce_nc_check(tab, nstr(n), 6, T0 + 2), 0);
	cr_assert_eq(nonce_nc_check(tab, nstr(n), UINT32_MAX, T0 + 2), 0);
	cr_assert_eq(nonce_nc_check(tab, nstr(n), UINT32_MAX, T0 + 2), -EALREADY);
}

Test(nonce_nc, zero_is_never_a_count, .init = nc_setup, .fini = nc_teardown)
{
	char n[NONCE_LEN + 1];

	make(n, REALM, T0);
	cr_assert_eq(nonce_nc_check(tab, nstr(n), 0, T0), -EALREADY);
	cr_assert_eq(nonce_nc_check(tab, nstr(n), 1, T0), 0);
	cr_assert_eq(nonce_nc_check(tab, nstr(n), 0, T0), -EALREADY);
}

Test(nonce_nc, nonces_are_independent, .init = nc_setup, .fini = nc_teardown)
{
	char a[NONCE_LEN + 1], b[NONCE_LEN + 1];

	make(a, REALM, T0);
	make(b, REALM, T0);
	cr_assert_eq(nonce_nc_check(tab, nstr(a), 7, T0), 0);
	cr_assert_eq(nonce_nc_check(tab, nstr(b), 1, T0), 0);
	cr_assert_eq(nonce_nc_check(tab, nstr(b), 2, T0), 0);
	cr_assert_eq(nonce_nc_check(tab, nstr(a), 7, T0), -EALREADY);
	cr_assert_eq(nonce_nc_check(tab, nstr(a), 8, T0), 0);
	cr_assert_eq(nonce_nc_check(tab, nstr(b), 2, T0), -EALREADY);
}

Test(nonce_nc, malformed_nonce, .init = nc_setup, .fini = nc_teardown)
{
	char n[NONCE_LEN + 1];

	make(n, REALM, T0);
	cr_assert_eq(nonce_nc_check(tab, sip_str_make(n, NONCE_LEN - 1), 1, T0), -EINVAL);
	cr_assert_eq(nonce_nc_check(tab, S(""), 1, T0), -EINVAL);
	n[10] = 'G';
	cr_assert_eq(nonce_nc_check(tab, nstr(n), 1, T0), -EINVAL);
}

Test(nonce_nc, entry_lives_exactly_as_long_as_the_nonce, .init = nc_setup, .fini = nc_teardown)
{
	char n[NONCE_LEN + 1];

	make(n, REALM, T0);
	cr_assert_eq(nonce_nc_check(tab, nstr(n), 5, T0 + 10), 0);
	/* Still valid for nonce_verify(, SCOPE) at T0 + LIFETIME: still remembered. */
	cr_assert_eq(nonce_verify(key, nstr(n), REALM, SCOPE, T0 + LIFETIME, LIFETIME), 0);
	cr_assert_eq(nonce_nc_check(tab, nstr(n), 5, T0 + LIFETIME), -EALREADY);
	/* Stale from the next second, here as in nonce_verify(, SCOPE): the count
	 * is no longer kept, and no count is accepted. */
	cr_assert_eq(nonce_verify(key, nstr(n), REALM, SCOPE, T0 + LIFETIME + 1, LIFETIME),
		     -ESTALE);
	cr_assert_eq(nonce_nc_check(tab, nstr(n), 6, T0 + LIFETIME + 1), -ESTALE);
}

Test(nonce_nc, future_stamp_refused_like_verify, .init = nc_setup, .fini = nc_teardown)
{
	char n[NONCE_LEN + 1];

	make(n, REALM, T0 + NONCE_SKEW_S);
	cr_assert_eq(nonce_nc_check(tab, nstr(n), 1, T0), 0);
	make(n, REALM, T0 + NONCE_SKEW_S + 1);
	cr_assert_eq(nonce_nc_check(tab, nstr(n), 1, T0), -EINVAL);
	make(n, REALM, UINT64_MAX);
	cr_assert_eq(nonce_nc_check(tab, nstr(n), 1, T0), -EINVAL);
}

Test(nonce_nc, full_table_forgets_the_oldest_and_refuses_them)
{
	enum { TRIES = 4000 };
	static char n[TRIES][NONCE_LEN + 1];
	static char m[TRIES][NONCE_LEN + 1];
	struct nonce_nc_table *t = nonce_nc_table_new(64, LIFETIME); /* one entry a stripe */
	int ok = 0, stale = 0, first_stale = -1, first_ok = -1;

	setup();
	cr_assert_not_null(t);
	for (int i = 0; i < TRIES; i++) {
		make(n[i], REALM, T0);
		int r = nonce_nc_check(t, nstr(n[i]), 1, T0);

		cr_assert(r == 0 || r == -ESTALE, "r = %d", r);
		if (r == 0 && first_ok < 0)
			first_ok = i;
		if (r == -ESTALE && first_stale < 0)
			first_stale = i;
		ok += r == 0;
		stale += r == -ESTALE;
	}
	/* 64 entries: every stripe filled (4000 random nonces miss none of
	 * 64 stripes but with probability ~64 * (63/64)^4000); the rest,
	 * of the same second as the occupants, refused without evicting. */
	cr_assert_eq(ok, 64);
	cr_assert_eq(stale, TRIES - 64);
	/* Recorded nonces keep working while the table is full. */
	cr_assert_eq(nonce_nc_check(t, nstr(n[first_ok]), 2, T0 + 1), 0);
	cr_assert_eq(nonce_nc_check(t, nstr(n[first_ok]), 2, T0 + 1), -EALREADY);
	/* Nonces of a later second push the older counts out: all 64
	 * stripes take one at once, long before the old ones expire. */
	ok = 0;
	for (int i = 0; i < TRIES; i++) {
		make(m[i], REALM, T0 + 1);
		ok += nonce_nc_check(t, nstr(m[i]), 1, T0 + 1) == 0;
	}
	cr_assert_eq(ok, 64);
	/* The forgotten nonces are stale from then on, so none of their
	 * counts can be replayed; nor can a nonce never seen of that second. */
	cr_assert_eq(nonce_nc_check(t, nstr(n[first_ok]), 3, T0 + 2), -ESTALE);
	cr_assert_eq(nonce_nc_check(t, nstr(n[first_ok]), 2, T0 + 2), -ESTALE);
	cr_assert_eq(nonce_nc_check(t, nstr(n[first_stale]), 1, T0 + 2), -ESTALE);
	nonce_nc_table_free(t);
	teardown();
}

Test(nonce_nc, table_needs_room)
{
	errno = 0;
	cr_assert_null(nonce_nc_table_new(0, LIFETIME));
	cr_assert_eq(errno, EINVAL);
	nonce_nc_table_free(NULL);
}

/* ---- threads ---- */

enum { THREADS = 4, PER_THREAD = 10000, SHARED = 16, SHARED_NC = 2000 };

static char shared_nonce[SHARED][NONCE_LEN + 1];
static unsigned char accepted[THREADS][SHARED][SHARED_NC + 1];

struct worker {
	int id;
	int failures;
};

static void *worker_run(void *arg)
{
	struct worker *w = arg;
	char n[NONCE_LEN + 1];

	for (int i = 0; i < PER_THREAD; i++) {
		/* Own nonces: the key and the table are shared. */
		if (nonce_make(key, REALM, SCOPE, T0, n) != 0 ||
		    nonce_verify(key, nstr(n), REALM, SCOPE, T0 + 1, LIFETIME) != 0 ||
		    nonce_nc_check(tab, nstr(n), 1, T0 + 1) != 0 ||
		    nonce_nc_check(tab, nstr(n), 2, T0 + 1) != 0 ||
		    nonce_nc_check(tab, nstr(n), 2, T0 + 1) != -EALREADY ||
		    nonce_nc_check(tab, nstr(n), 1, T0 + 1) != -EALREADY)
			w->failures++;
		/* Shared nonces: all threads race on the same counts. */
		int s = i % SHARED;
		uint32_t nc = (uint32_t)(i / SHARED) % SHARED_NC + 1;
		int r = nonce_nc_check(tab, nstr(shared_nonce[s]), nc, T0 + 1);

		if (r == 0)
			accepted[w->id][s][nc] = 1;
		else if (r != -EALREADY)
			w->failures++;
	}
	/* Everyone ends on the highest count: exactly one may win it. */
	for (int s = 0; s < SHARED; s++)
		if (nonce_nc_check(tab, nstr(shared_nonce[s]), SHARED_NC, T0 + 2) == 0)
			accepted[w->id][s][SHARED_NC] = 1;
	return NULL;
}

Test(nonce_nc, four_threads)
{
	pthread_t th[THREADS];
	struct worker w[THREADS];

	setup();
	tab = nonce_nc_table_new(1u << 17, LIFETIME); /* 2048 a stripe, ~630 used */
	cr_assert_not_null(tab);
	memset(accepted, 0, sizeof(accepted));
	for (int s = 0; s < SHARED; s++)
		make(shared_nonce[s], REALM, T0);
	for (int i = 0; i < THREADS; i++) {
		w[i] = (struct worker){.id = i};
		cr_assert_eq(pthread_create(&th[i], NULL, worker_run, &w[i]), 0);
	}
	for (int i = 0; i < THREADS; i++) {
		pthread_join(th[i], NULL);
		cr_assert_eq(w[i].failures, 0, "thread %d: %d failures", i, w[i].failures);
	}
	/* No count of a shared nonce was accepted twice, and the last one
	 * exactly once. */
	for (int s = 0; s < SHARED; s++) {
		for (int nc = 1; nc <= SHARED_NC; nc++) {
			int wins = 0;

			for (int i = 0; i < THREADS; i++)
				wins += accepted[i][s][nc];
			cr_assert(wins <= 1, "nonce %d nc %d accepted %d times", s, nc, wins);
			if (nc == SHARED_NC)
				cr_assert_eq(wins, 1);
		}
	}
	nonce_nc_table_free(tab);
	teardown();
}
