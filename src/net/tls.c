/*
 * tls: see tls.h.
 *
 * The contexts are built whole before they are published: tls_init() and
 * tls_reload() make both, then swap them in under ctx_lock. Readers take
 * the lock only for SSL_new(), which takes its own reference to the
 * context, so a reload never frees a context a connection uses. The
 * settings are copied at tls_init() and read-only afterwards: a reload
 * reads the same paths again (a renewed certificate replaces the file).
 *
 * Everything OpenSSL says on failure is drained from its per-thread error
 * queue into one line, so that a failure on one connection never leaves
 * a stale error for the next SSL call of the same thread.
 */
#include "net/tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static pthread_mutex_t ctx_lock = PTHREAD_MUTEX_INITIALIZER;
static SSL_CTX *server_ctx, *client_ctx; /* under ctx_lock */
static struct tls_settings set;
static bool set_server, inited;

/* OpenSSL's queued errors as one text into err (and the queue emptied). */
static void drain_errors(const char *what, char *err, size_t cap)
{
	unsigned long e;
	size_t n = (size_t)snprintf(err, cap, "%s", what);

	while ((e = ERR_get_error()) != 0) {
		char buf[256];

		ERR_error_string_n(e, buf, sizeof(buf));
		if (n < cap)
			n += (size_t)snprintf(err + n, cap - n, ": %s", buf);
	}
}

/* err: the formatted reason, then what OpenSSL queued. Returns -EINVAL. */
__attribute__((format(printf, 3, 4))) static int fail(char *err, size_t cap, const char *fmt, ...)
{
	char what[PATH_MAX + 128];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	drain_errors(what, err, cap);
	return -EINVAL;
}

/* The certificate must be usable now: not expired, already valid. */
static int check_validity(X509 *x, const char *path, char *err, size_t cap)
{
	if (X509_cmp_current_time(X509_get0_notAfter(x)) <= 0)
		return fail(err, cap, "certificate %s has expired", path);
	if (X509_cmp_current_time(X509_get0_notBefore(x)) >= 0)
		return fail(err, cap, "certificate %s is not valid yet", path);
	return 0;
}

/* What both sides share: the versions and ciphers allowed. */
static int ctx_common(SSL_CTX *ctx, const struct tls_settings *s, char *err, size_t cap)
{
	int min = s->min_version == TLS_MIN_13 ? TLS1_3_VERSION : TLS1_2_VERSION;

	if (!SSL_CTX_set_min_proto_version(ctx, min))
		return fail(err, cap, "min_version %s refused",
			    s->min_version == TLS_MIN_13 ? "1.3" : "1.2");
	if (!SSL_CTX_set_cipher_list(ctx, s->ciphers[0] ? s->ciphers : TLS_DEFAULT_CIPHERS))
		return fail(err, cap, "ciphers '%s': no cipher known", s->ciphers);
	if (s->ciphersuites[0] && !SSL_CTX_set_ciphersuites(ctx, s->ciphersuites))
		return fail(err, cap, "ciphersuites '%s': no suite known", s->ciphersuites);
	/* Renegotiation is a cheap way to make a server work (CVE-2011-1473);
	 * SIP never needs it. Buffers released while idle: most of a SIP
	 * connection's life is idle, and each buffer is 16-34 kB. A write
	 * into the memory BIO is whole (no partial writes asked for). */
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	return 0;
}

/* Our certificate chain and key, when configured. */
static int ctx_own_cert(SSL_CTX *ctx, const struct tls_settings *s, char *err, size_t cap)
{
	X509 *x;

	if (!s->certificate[0])
		return 0;
	if (!SSL_CTX_use_certificate_chain_file(ctx, s->certificate))
		return fail(err, cap, "certificate %s does not load", s->certificate);
	if (!SSL_CTX_use_PrivateKey_file(ctx, s->private_key, SSL_FILETYPE_PEM)) {
		/* OpenSSL 3 compares the key with the certificate as it loads it */
		if (ERR_GET_REASON(ERR_peek_last_error()) == X509_R_KEY_VALUES_MISMATCH) {
			ERR_clear_error(); /* that says it all */
			return fail(err, cap, "private_key %s does not match the certificate",
				    s->private_key);
		}
		return fail(err, cap, "private_key %s does not load", s->private_key);
	}
	if (!SSL_CTX_check_private_key(ctx))
		return fail(err, cap, "private_key %s does not match the certificate",
			    s->private_key);
	x = SSL_CTX_get0_certificate(ctx);
	return x ? check_validity(x, s->certificate, err, cap) : 0;
}

static SSL_CTX *server_build(const struct tls_settings *s, char *err, size_t cap)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	int mode = SSL_VERIFY_NONE;

	if (!ctx) {
		fail(err, cap, "no memory for a TLS context");
		return NULL;
	}
	if (!s->certificate[0]) {
		snprintf(err, cap,
			 "a tls: or wss: listener needs [tls] certificate and "
			 "private_key");
		goto bad;
	}
	if (ctx_common(ctx, s, err, cap) < 0 || ctx_own_cert(ctx, s, err, cap) < 0)
		goto bad;
	if (s->verify_client != TLS_VERIFY_NO) {
		STACK_OF(X509_NAME) * names;

		if (!s->ca_file[0]) {
			snprintf(err, cap,
				 "verify_client needs [tls] ca_file (the CAs whose "
				 "client certificates are accepted)");
			goto bad;
		}
		if (!SSL_CTX_load_verify_locations(ctx, s->ca_file, NULL)) {
			fail(err, cap, "ca_file %s does not load", s->ca_file);
			goto bad;
		}
		names = SSL_load_client_CA_file(s->ca_file);
		if (names)
			SSL_CTX_set_client_CA_list(ctx, names);
		mode = SSL_VERIFY_PEER;
		if (s->verify_client == TLS_VERIFY_REQUIRE)
			mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
	}
	SSL_CTX_set_verify(ctx, mode, NULL);
	/* Resumed sessions need an id context when client certificates
	 * are verified (SSL_CTX_set_session_id_context(3)). */
	SSL_CTX_set_session_id_context(ctx, (const unsigned char *)"junction", 8);
	return ctx;
bad:
	SSL_CTX_free(ctx);
	return NULL;
}

static SSL_CTX *client_build(const struct tls_settings *s, char *err, size_t cap)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	if (!ctx) {
		fail(err, cap, "no memory for a TLS context");
		return NULL;
	}
	if (ctx_common(ctx, s, err, cap) < 0 || ctx_own_cert(ctx, s, err, cap) < 0)
		goto bad;
	if (s->verify_server) {
		if (s->ca_file[0] ? !SSL_CTX_load_verify_locations(ctx, s->ca_file, NULL)
				  : !SSL_CTX_set_default_verify_paths(ctx)) {
			fail(err, cap, "ca_file %s does not load",
			     s->ca_file[0] ? s->ca_file : "(system)");
			goto bad;
		}
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	} else {
		SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	}
	return ctx;
bad:
	SSL_CTX_free(ctx);
	return NULL;
}

int tls_check(const struct tls_settings *s, bool server, char *err, size_t cap)
{
	SSL_CTX *sc = NULL, *cc;

	if (server && !(sc = server_build(s, err, cap)))
		return -EINVAL;
	cc = client_build(s, err, cap);
	SSL_CTX_free(sc);
	if (!cc)
		return -EINVAL;
	SSL_CTX_free(cc);
	return 0;
}

/* Builds both contexts from set and swaps them in. */
static int build_and_swap(char *err, size_t cap)
{
	SSL_CTX *sc = NULL, *cc, *old_s, *old_c;

	if (set_server && !(sc = server_build(&set, err, cap)))
		return -EINVAL;
	cc = client_build(&set, err, cap);
	if (!cc) {
		SSL_CTX_free(sc);
		return -EINVAL;
	}
	pthread_mutex_lock(&ctx_lock);
	old_s = server_ctx;
	old_c = client_ctx;
	server_ctx = sc;
	client_ctx = cc;
	pthread_mutex_unlock(&ctx_lock);
	SSL_CTX_free(old_s);
	SSL_CTX_free(old_c);
	return 0;
}

int tls_init(const struct tls_settings *s, bool server, char *err, size_t cap)
{
	int rc;

	set = *s;
	set_server = server;
	rc = build_and_swap(err, cap);
	inited = rc == 0;
	return rc;
}

int tls_reload(char *err, size_t cap)
{
	if (!inited) {
		snprintf(err, cap, "TLS is not in use");
		return -ENOENT;
	}
	return build_and_swap(err, cap);
}

void tls_free(void)
{
	pthread_mutex_lock(&ctx_lock);
	SSL_CTX_free(server_ctx);
	SSL_CTX_free(client_ctx);
	server_ctx = client_ctx = NULL;
	pthread_mutex_unlock(&ctx_lock);
	inited = false;
}

/* A new SSL from *ctxp under the lock (SSL_new takes its reference). */
static SSL *ssl_from(SSL_CTX **ctxp)
{
	SSL *ssl = NULL;

	pthread_mutex_lock(&ctx_lock);
	if (*ctxp)
		ssl = SSL_new(*ctxp);
	pthread_mutex_unlock(&ctx_lock);
	return ssl;
}

SSL *tls_server_new(void)
{
	SSL *ssl = ssl_from(&server_ctx);

	if (ssl)
		SSL_set_accept_state(ssl);
	return ssl;
}

SSL *tls_client_new(const char *name, const struct netaddr *a)
{
	SSL *ssl = ssl_from(&client_ctx);
	char ip[NETADDR_STRLEN];
	unsigned char bin[16];
	bool numeric;

	if (!ssl)
		return NULL;
	SSL_set_connect_state(ssl);
	numeric = !name || !name[0] || inet_pton(AF_INET, name, bin) == 1 ||
		  inet_pton(AF_INET6, name, bin) == 1;
	if (!numeric) {
		/* RFC 5922 §7.2: the domain the request was for, in the
		 * certificate's SAN; SNI so a server with several knows. */
		if (!SSL_set1_host(ssl, name) || !SSL_set_tlsext_host_name(ssl, name))
			goto bad;
	} else {
		netaddr_format_host(a, ip, sizeof(ip), false);
		if (!X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), ip))
			goto bad;
	}
	return ssl;
bad:
	ERR_clear_error();
	SSL_free(ssl);
	return NULL;
}

bool tls_peer_trusted(SSL *ssl)
{
	X509 *peer;
	bool ok = false;

	if (!set.ntrusted_peers || SSL_get_verify_result(ssl) != X509_V_OK)
		return false;
	peer = SSL_get1_peer_certificate(ssl);
	if (!peer)
		return false;
	for (unsigned i = 0; i < set.ntrusted_peers && !ok; i++)
		ok = X509_check_host(peer, set.trusted_peers[i], 0, 0, NULL) == 1;
	X509_free(peer);
	return ok;
}

bool tls_cert_info(int64_t *not_after, char *subject, size_t cap)
{
	bool ok = false;
	X509 *x;

	pthread_mutex_lock(&ctx_lock);
	x = server_ctx ? SSL_CTX_get0_certificate(server_ctx) : NULL;
	if (x) {
		struct tm tm;

		ok = ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm) == 1;
		if (ok)
			*not_after = (int64_t)timegm(&tm);
		if (cap)
			X509_NAME_oneline(X509_get_subject_name(x), subject, (int)cap);
	}
	pthread_mutex_unlock(&ctx_lock);
	return ok;
}

const char *tls_error_text(SSL *ssl, int ret)
{
	static _Thread_local char buf[256];
	int e = SSL_get_error(ssl, ret);
	long v = SSL_get_verify_result(ssl);
	unsigned long q = ERR_peek_last_error();

	if (v != X509_V_OK)
		snprintf(buf, sizeof(buf), "certificate: %s", X509_verify_cert_error_string(v));
	else if (q)
		ERR_error_string_n(q, buf, sizeof(buf));
	else if (e == SSL_ERROR_SYSCALL || e == SSL_ERROR_ZERO_RETURN)
		snprintf(buf, sizeof(buf), "connection closed during the handshake");
	else
		snprintf(buf, sizeof(buf), "ssl error %d", e);
	ERR_clear_error();
	return buf;
}
