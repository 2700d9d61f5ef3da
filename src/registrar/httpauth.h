/*
 * httpauth: [auth] mode = http, where an HTTP service decides whether
 * digest credentials are right, and Junction keeps everything else of
 * RFC 3261 §22 and RFC 7616 to itself.
 *
 * Junction challenges with its own nonces (nonce.h), so a 401/407 costs
 * no round trip, and checks what it can alone first (auth.c: realm, the
 * credentials' uri, the nonce's MAC, age and scope, the nonce-count).
 * Only credentials that pass are sent to [auth] http_url as JSON (the
 * request and its answer are documented in junction(8), AUTHENTICATION,
 * "HTTP authentication service", and in admin/openapi.json, x-webhooks): 200
 * accepts them, 403 refuses them, anything else, a timeout or a refused
 * connection makes the endpoint's request a 503.
 *
 * The module has four parts, all shared by the workers:
 *
 * - The pool: [auth] http_connections threads, each with its own libcurl
 *   easy handle (so its connection is kept alive between requests) and a
 *   bounded queue of HTTPAUTH_QUEUE_MAX requests in front of them. A
 *   worker never waits: it posts (httpauth_ask()) and moves on; a full
 *   queue is refused at once (the endpoint gets 503, Retry-After: 1). A
 *   request that waited longer than [auth] http_timeout in the queue is
 *   failed without being sent: the service is too slow for the load, and
 *   its answer would come after the endpoint gave up.
 * - The verdict table: the answer for one set of credentials (username,
 *   realm, nonce, nc, cnonce, response: the key), kept until the request
 *   that asked runs again and takes it. The same credentials from another
 *   copy of the request (a retransmission) while they are asked about are
 *   told so (HTTPAUTH_BUSY) and dropped: the first copy is answered.
 * - The hand-back: the job that asked runs again on its own worker once
 *   the answer is in. A job no transaction holds is pushed back onto its
 *   worker's queue (queue_push(), thread-safe) and runs from the start; a
 *   REGISTER held by its server transaction is resumed through a
 *   continuation that the worker runs from a timer of its own, polling a
 *   per-worker mailbox every HTTPAUTH_POLL_MS while it has answers out
 *   (the runtime has no cross-thread call into a worker: see the
 *   ChangeLog; the poll costs at most HTTPAUTH_POLL_MS of latency and
 *   wakes a worker only while it waits for the service).
 * - The positive cache: after a 200 for a nonce, (username, realm, nonce)
 *   is remembered until the nonce goes stale, so the client's next
 *   requests on that nonce (higher nc, which the nonce-count table
 *   enforces) are accepted without asking. When the service returned the
 *   user's HA1 ({"ha1": ...}), the cache keeps it and those requests are
 *   verified in full locally (auth.c): recommended, because without it a
 *   cached nonce is accepted on its username alone.
 *
 * Ownership: the queue and the table own the requests in them; a job
 * handed to httpauth_ask() for the requeue path is the module's until it
 * is back on its queue.
 */
#ifndef JCT_HTTPAUTH_H
#define JCT_HTTPAUTH_H

#include "registrar/digest.h"
#include "sip/sip_str.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct config;
struct sip_job;
struct worker;

#define HTTPAUTH_QUEUE_MAX 4096        /* requests waiting for a connection */
#define HTTPAUTH_TABLE_MAX 8192        /* credentials asked about and not yet taken */
#define HTTPAUTH_CACHE_MAX (64 * 1024) /* nonces the service accepted */
#define HTTPAUTH_KEY_MAX   1024        /* bytes of a credentials key */
#define HTTPAUTH_BODY_MAX  4096        /* bytes of an answer's body read */
#define HTTPAUTH_POLL_MS   2           /* how often a waiting worker looks for its answers */

/*
 * Starts the pool for cfg (borrowed for the process's life): [auth]
 * http_connections threads posting to [auth] http_url with [auth]
 * http_timeout, the verdict table and the positive cache. Main calls it
 * when [auth] mode = http, before the workers start. Returns 0 or a
 * negative errno.
 */
int httpauth_start(const struct config *cfg);
/* No more requests are taken (httpauth_ask() gives -EPIPE); those queued
 * fail without being sent, those being sent finish (within http_timeout),
 * and every answer is handed back. Waits (a bounded time) until the
 * workers took the answers of their mailboxes: call it while they still
 * run, before workers_stop(). */
void httpauth_stop(void);
/* Frees what is left, after workers_stop(). */
void httpauth_destroy(void);

/* ---- the request's JSON ------------------------------------------------ */

/* What is sent for one request (every slice borrowed). The credential
 * values are as parsed from the header (quoted-pairs still escaped);
 * the JSON carries them unescaped, as the client hashed them. */
struct httpauth_request {
	struct sip_str username, realm, nonce, uri, response, algorithm, qop, nc, cnonce, opaque;
	struct sip_str method, request_uri, aor, source;
	const struct sip_str *contact; /* ncontact values, each as written */
	unsigned ncontact;
};

/*
 * Writes r as the service's request body (junction(8), "HTTP
 * authentication service") into buf: one JSON object, members in a fixed
 * order, "opaque" only when r->opaque is not empty. Returns its length,
 * or -ENOSPC when cap is too small, -EILSEQ when a value is not UTF-8
 * (JSON strings are Unicode; a SIP message must be UTF-8 anyway, RFC 3261
 * §7.3.1). buf is not NUL-terminated.
 */
ssize_t httpauth_json_request(const struct httpauth_request *r, char *buf, size_t cap);

/*
 * Reads the body of a 200: an object whose "ha1" member is the user's
 * H(username:realm:password) for alg, in hex. Writes it lowercase to out.
 * Returns 0; -ENOENT when there is none (no body, not a JSON object, no
 * "ha1" or null): the 200 stands without it; -EINVAL when "ha1" is there
 * but not digest_hex_len(alg) hex digits.
 */
int httpauth_json_answer(const char *body, size_t len, enum digest_alg alg,
			 char out[DIGEST_HEX_MAX + 1]);

/* ---- the verdict table ------------------------------------------------- */

/* The exact credentials: each piece length-prefixed, so no two sets of
 * pieces give the same key. */
struct httpauth_key {
	size_t len;
	char text[HTTPAUTH_KEY_MAX];
};

/* Returns 0, or -ENAMETOOLONG when the pieces do not fit. */
int httpauth_key_make(struct httpauth_key *k, struct sip_str username, struct sip_str realm,
		      struct sip_str nonce, struct sip_str nc, struct sip_str cnonce,
		      struct sip_str response);

enum httpauth_verdict {
	HTTPAUTH_ACCEPT, /* 200 */
	HTTPAUTH_REJECT, /* 403 */
	HTTPAUTH_FAIL,   /* anything else, a timeout, no connection, not sent */
};

struct httpauth_answer {
	enum httpauth_verdict verdict;
	unsigned status;              /* the service's HTTP status, 0 when none came */
	char ha1[DIGEST_HEX_MAX + 1]; /* ACCEPT: the HA1 it returned (lowercase), or "" */
};

enum httpauth_found {
	HTTPAUTH_NONE,     /* nothing asked about these credentials */
	HTTPAUTH_BUSY,     /* asked by another request (a retransmission of it) */
	HTTPAUTH_ANSWERED, /* the owner's answer: taken out of the table */
};

/* Sizes the table (httpauth_start() does it; the unit tests directly). */
int httpauth_table_init(unsigned max_entries);
void httpauth_table_free(void);
/* Records at now_ms that owner (the job that asks; any pointer that
 * identifies it) asks about k, until expires_ms (both monotonic): an
 * entry nobody took by then is dropped when room is needed. Returns 0,
 * -EEXIST when k is there already, -ENOSPC when the table is full,
 * -ENOMEM. */
int httpauth_table_add(const struct httpauth_key *k, const void *owner, uint64_t now_ms,
		       uint64_t expires_ms);
/* Stores k's answer. Returns 0, or -ENOENT when k is not there. */
int httpauth_table_answer(const struct httpauth_key *k, const struct httpauth_answer *a);
/* What the table says of k for owner at now_ms: the answer is copied to
 * *out and the entry removed when owner asked and the answer is in. An
 * expired entry is removed and counts as none. */
enum httpauth_found httpauth_table_take(const struct httpauth_key *k, const void *owner,
					uint64_t now_ms, struct httpauth_answer *out);
void httpauth_table_drop(const struct httpauth_key *k);

/* ---- the positive cache ------------------------------------------------ */

struct httpauth_cached {
	enum digest_alg alg;          /* the algorithm of ha1 */
	bool has_ha1;                 /* false: the service said 200 without one */
	char ha1[DIGEST_HEX_MAX + 1]; /* lowercase hex */
};

/* Sizes the cache: at most max_entries nonces, none kept longer than
 * lifetime_s (the nonce lifetime). */
int httpauth_cache_init(unsigned max_entries, unsigned lifetime_s);
void httpauth_cache_free(void);
/* The service accepted username's credentials for realm (ours,
 * lowercase) on nonce: remembered until expires_s (wall clock seconds,
 * the nonce's own end), with alg's ha1 when not NULL. */
void httpauth_cache_put(struct sip_str username, struct sip_str realm, struct sip_str nonce,
			uint64_t expires_s, enum digest_alg alg, const char *ha1);
/* Copies the entry to *out. Returns 0, or -ENOENT (none, or past its
 * expires_s at now_s). */
int httpauth_cache_get(struct sip_str username, struct sip_str realm, struct sip_str nonce,
		       uint64_t now_s, struct httpauth_cached *out);

/* ---- asking -------------------------------------------------------------- */

/* A continuation on the worker's thread: err is 0 (the answer is in the
 * table). Same shape as auth_fetch()'s. */
typedef void (*httpauth_done_fn)(struct worker *w, void *arg, int err);

/*
 * Asks the service about the credentials k of the request that owner
 * identifies, with body (the JSON, copied) on worker w's behalf; alg is
 * the credentials' algorithm (for the answer's ha1). When the answer is
 * in the table, the request runs again on w:
 *   done == NULL: job (taken on success) is pushed back onto w's queue and
 *     runs from the start, job->replays one higher (owner must be job);
 *   done != NULL: done(w, arg, 0) runs on w's thread within
 *     HTTPAUTH_POLL_MS, and the caller keeps its job; arg must come from
 *     malloc(3): if the process stops before done can run, it is freed.
 * Call on w's thread. Returns 0, or nothing taken and nothing recorded:
 * -EBUSY (queue or table full), -EEXIST (k is being asked about),
 * -EPIPE (stopping or not started), -ENOMEM.
 */
int httpauth_ask(struct worker *w, const struct httpauth_key *k, const void *owner,
		 enum digest_alg alg, const char *body, size_t len, struct sip_job *job,
		 httpauth_done_fn done, void *arg);

#endif
