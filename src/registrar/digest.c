/*
 * digest: see digest.h. Runs for every authenticated request, so the cost
 * is kept to what OpenSSL 3 cannot avoid:
 *
 * - The EVP_MD objects are fetched once per process (pthread_once). Passing
 *   EVP_md5()/EVP_sha256() instead makes OpenSSL 3 fetch on every init: a
 *   provider lookup under a lock, about twice the cost of the hash itself.
 * - One EVP_MD_CTX per call, reused for both hashes of a response. (The
 *   EVP_Digest() one-shot is no cheaper: it allocates a context inside.)
 * - The pieces of a hash input ("user", ":", "realm", ...) are gathered in
 *   a stack buffer and fed to EVP in one update, not one update per piece;
 *   longer inputs (a huge Request-URI) stream through in buffer-sized runs.
 *
 * A failure (no memory, an algorithm absent from a FIPS build) returns an
 * error and leaves "" in the output, which digest_equal_hex() never
 * accepts: hashing can fail closed but never open.
 */
#include "registrar/digest.h"

#include "base/hex.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <string.h>

#define HASH_BUF 512

static const struct {
	const char *name;  /* as written in algorithm= */
	const char *fetch; /* OpenSSL's name */
	size_t hex_len;
} algs[] = {
	[DIGEST_MD5] = {"MD5", "MD5", 32},
	[DIGEST_SHA256] = {"SHA-256", "SHA2-256", 64},
};
#define N_ALGS (sizeof(algs) / sizeof(algs[0]))

static EVP_MD *alg_md[N_ALGS];
static pthread_once_t alg_once = PTHREAD_ONCE_INIT;

/* Fetched for the life of the process; a NULL stays NULL (FIPS without
 * MD5), and that algorithm then fails with -ENOTSUP. */
static void alg_fetch(void)
{
	for (size_t i = 0; i < N_ALGS; i++)
		alg_md[i] = EVP_MD_fetch(NULL, algs[i].fetch, NULL);
}

/* A hash in progress: input gathered in buf, flushed to ctx when full. */
struct hasher {
	EVP_MD_CTX *ctx;
	const EVP_MD *md;
	int err;
	size_t len;
	unsigned char buf[HASH_BUF];
};

static void h_begin(struct hasher *h)
{
	h->len = 0;
	if (!h->err && EVP_DigestInit_ex2(h->ctx, h->md, NULL) != 1)
		h->err = -EIO;
}

static void h_flush(struct hasher *h)
{
	if (h->len && !h->err && EVP_DigestUpdate(h->ctx, h->buf, h->len) != 1)
		h->err = -EIO;
	h->len = 0;
}

static void h_add(struct hasher *h, const void *p, size_t n)
{
	if (n == 0)
		return;
	if (n > sizeof(h->buf) - h->len) {
		h_flush(h);
		if (n >= sizeof(h->buf)) {
			if (!h->err && EVP_DigestUpdate(h->ctx, p, n) != 1)
				h->err = -EIO;
			return;
		}
	}
	memcpy(h->buf + h->len, p, n);
	h->len += n;
}

static void h_str(struct hasher *h, struct sip_str s)
{
	h_add(h, s.p, s.len);
}

static void h_colon(struct hasher *h)
{
	h_add(h, ":", 1);
}

/* Finishes the hash and writes it as lowercase hex (NUL-terminated). */
static void h_end_hex(struct hasher *h, char *out)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	h_flush(h);
	if (h->err || EVP_DigestFinal_ex(h->ctx, md, &n) != 1) {
		h->err = h->err ? h->err : -EIO;
		out[0] = '\0';
		return;
	}
	hex_encode(md, n, out);
	out[2 * n] = '\0';
}

/* Sets up h for algorithm a; the caller frees h->ctx. */
static int h_open(struct hasher *h, enum digest_alg a)
{
	h->ctx = NULL;
	h->err = 0;
	h->len = 0;
	if ((unsigned)a >= N_ALGS)
		return -EINVAL;
	pthread_once(&alg_once, alg_fetch);
	h->md = alg_md[a];
	if (!h->md)
		return -ENOTSUP;
	h->ctx = EVP_MD_CTX_new();
	return h->ctx ? 0 : -ENOMEM;
}

int digest_alg_parse(struct sip_str s, enum digest_alg *out)
{
	/* RFC 7616 §3.3: an absent algorithm means MD5. */
	if (s.len == 0 || sip_str_caseeq_cstr(s, "MD5")) {
		*out = DIGEST_MD5;
		return 0;
	}
	if (sip_str_caseeq_cstr(s, "SHA-256")) {
		*out = DIGEST_SHA256;
		return 0;
	}
	return -EPROTONOSUPPORT;
}

const char *digest_alg_name(enum digest_alg a)
{
	return (unsigned)a < N_ALGS ? algs[a].name : "?";
}

size_t digest_hex_len(enum digest_alg a)
{
	return (unsigned)a < N_ALGS ? algs[a].hex_len : 0;
}

int digest_ha1(enum digest_alg a, struct sip_str user, struct sip_str realm,
	       struct sip_str password, char out[DIGEST_HEX_MAX + 1])
{
	struct hasher h;
	int err;

	out[0] = '\0';
	err = h_open(&h, a);
	if (err)
		goto out;
	h_begin(&h);
	h_str(&h, user);
	h_colon(&h);
	h_str(&h, realm);
	h_colon(&h);
	h_str(&h, password);
	h_end_hex(&h, out);
	err = h.err;
out:
	EVP_MD_CTX_free(h.ctx);
	OPENSSL_cleanse(h.buf, sizeof(h.buf)); /* it held the password */
	return err;
}

int digest_response(enum digest_alg a, struct sip_str ha1_hex, struct sip_str nonce,
		    struct sip_str nc, struct sip_str cnonce, struct sip_str qop,
		    struct sip_str method, struct sip_str uri, char out[DIGEST_HEX_MAX + 1])
{
	char ha1[DIGEST_HEX_MAX];
	char ha2[DIGEST_HEX_MAX + 1];
	bool with_qop = qop.len != 0;
	struct hasher h;
	int err;

	out[0] = '\0';
	h.ctx = NULL;
	if (ha1_hex.len != digest_hex_len(a)) {
		err = -EINVAL;
		goto out;
	}
	/* RFC 7616 §3.4.1 hashes H(A1) as lowercase hex; a store may keep
	 * it uppercase. */
	for (size_t i = 0; i < ha1_hex.len; i++) {
		if (!sip_is_hex(ha1_hex.p[i])) {
			err = -EINVAL;
			goto out;
		}
		ha1[i] = sip_tolower(ha1_hex.p[i]);
	}
	if (with_qop && !sip_str_caseeq_cstr(qop, "auth")) {
		err = -EPROTONOSUPPORT;
		goto out;
	}
	if (with_qop && (nc.len == 0 || cnonce.len == 0)) {
		err = -EINVAL;
		goto out;
	}
	err = h_open(&h, a);
	if (err)
		goto out;

	/* A2 = Method ":" request-uri (qop "auth" or none, §3.4.3). */
	h_begin(&h);
	h_str(&h, method);
	h_colon(&h);
	h_str(&h, uri);
	h_end_hex(&h, ha2);

	h_begin(&h);
	h_add(&h, ha1, ha1_hex.len);
	h_colon(&h);
	h_str(&h, nonce);
	h_colon(&h);
	if (with_qop) {
		h_str(&h, nc);
		h_colon(&h);
		h_str(&h, cnonce);
		h_colon(&h);
		h_str(&h, qop);
		h_colon(&h);
	}
	h_add(&h, ha2, strlen(ha2));
	h_end_hex(&h, out);
	err = h.err;
out:
	if (err)
		out[0] = '\0';
	EVP_MD_CTX_free(h.ctx);
	/* HA1 is as good as the password for this realm. */
	OPENSSL_cleanse(ha1, sizeof(ha1));
	OPENSSL_cleanse(h.buf, sizeof(h.buf));
	return err;
}

/* ASCII lowercase without a branch on the character. */
static inline unsigned char lower_ct(unsigned char c)
{
	return c | (unsigned char)(((unsigned)(c - 'A') < 26u) << 5);
}

bool digest_equal_hex(const char *expected, struct sip_str given)
{
	unsigned char x[DIGEST_HEX_MAX], y[DIGEST_HEX_MAX];
	size_t n = strlen(expected);

	/* The lengths are public (fixed per algorithm); only the contents
	 * are compared in constant time. */
	if (n == 0 || n > DIGEST_HEX_MAX || given.len != n)
		return false;
	for (size_t i = 0; i < n; i++) {
		x[i] = lower_ct((unsigned char)expected[i]);
		y[i] = lower_ct((unsigned char)given.p[i]);
	}
	return CRYPTO_memcmp(x, y, n) == 0;
}
