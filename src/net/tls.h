/*
 * tls: the node's TLS contexts (OpenSSL) for the tls: and wss: listeners
 * and for outgoing TLS (sips: and ;transport=tls targets, Session
 * Controllers whose URI says so).
 *
 * Two SSL_CTX: a server one (our certificate and key, the client
 * certificate policy of [tls] verify_client) and a client one (the
 * server certificate checked against ca_file or the system's store, and
 * the target's name or address against the certificate, RFC 5922 §7.2;
 * our certificate shown when the server asks, for mutual TLS towards
 * the back end). Both refuse anything below [tls] min_version.
 *
 * Reload (SIGHUP) builds new contexts from the same files and swaps them
 * in under a lock: connections already up keep the context they were
 * made with (an SSL holds a reference to its SSL_CTX), new ones get the
 * new one; a file that does not load, a key that does not match or a
 * certificate out of its validity period leaves the old contexts in
 * place and says why. Any thread may call tls_server_new() and
 * tls_client_new(); tcp.c drives each SSL over memory BIOs.
 */
#ifndef JCT_TLS_H
#define JCT_TLS_H

#include "net/netaddr.h"

#include <limits.h>
#include <openssl/ssl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TLS_CIPHERS_MAX     512
#define TLS_NAME_MAX        256
#define TLS_MAX_TRUSTED     16
#define TLS_DEFAULT_CIPHERS "HIGH:!aNULL:!MD5:!RC4:!3DES:!CBC"

/* The oldest version taken ([tls] min_version: "1.2", "1.3"). */
enum tls_min_version { TLS_MIN_12 = 0, TLS_MIN_13 };

/* What a client certificate is asked for ([tls] verify_client). */
enum tls_verify_client { TLS_VERIFY_NO = 0, TLS_VERIFY_OPTIONAL, TLS_VERIFY_REQUIRE };

/* [tls] as configured. */
struct tls_settings {
	char certificate[PATH_MAX]; /* PEM chain, leaf first; empty: none */
	char private_key[PATH_MAX];
	char ca_file[PATH_MAX]; /* empty: the system's store (client side only) */
	enum tls_verify_client verify_client;
	bool verify_server;
	unsigned min_version;               /* TLS_MIN_12 or TLS_MIN_13 */
	char ciphers[TLS_CIPHERS_MAX];      /* TLS 1.2 and below (OpenSSL cipher list) */
	char ciphersuites[TLS_CIPHERS_MAX]; /* TLS 1.3; empty: OpenSSL's */
	/* Client certificate names (DNS SAN, or CN without SAN) that make a
	 * verified peer a trusted source (security/policy.c). */
	char trusted_peers[TLS_MAX_TRUSTED][TLS_NAME_MAX];
	unsigned ntrusted_peers;
};

/*
 * Checks s as a server would load it (server: our certificate is needed)
 * or as a client only: files readable, key matching the certificate,
 * the certificate inside its validity period, the cipher lists known.
 * Returns 0, or -EINVAL with the reason in err.
 */
int tls_check(const struct tls_settings *s, bool server, char *err, size_t cap);

/* Builds the contexts from s (copied; server: with our certificate).
 * Returns 0, or -EINVAL with the reason in err. */
int tls_init(const struct tls_settings *s, bool server, char *err, size_t cap);
/* Rebuilds them from the same files; on failure the old ones stay.
 * Returns 0, -EINVAL with the reason in err, or -ENOENT before
 * tls_init(). */
int tls_reload(char *err, size_t cap);
void tls_free(void);

/* A new server-side SSL (the caller owns it), or NULL without a server
 * context or memory. */
SSL *tls_server_new(void);
/* A new client-side SSL for a connection to a, checking the server's
 * certificate against name (a host name, SNI sent too) or, when name is
 * empty or numeric, against a's address. NULL on failure. */
SSL *tls_client_new(const char *name, const struct netaddr *a);

/* After the handshake: did the peer show a certificate that verified
 * and names one of [tls] trusted_peers? */
bool tls_peer_trusted(SSL *ssl);

/* The server certificate in use: its notAfter (Unix seconds) and its
 * subject into subject[0..cap). Returns false without one. */
bool tls_cert_info(int64_t *not_after, char *subject, size_t cap);

/* The reason of the last failure of ssl, for a log line (static
 * storage of the calling thread). */
const char *tls_error_text(SSL *ssl, int ret);

#endif
