/*
 * auth: digest authentication of requests (RFC 3261 §22, RFC 7616,
 * RFC 8760), for the registrar (401, Authorization) and for the proxy
 * ([auth] invite: 407, Proxy-Authorization).
 *
 * Challenges offer the algorithms of [auth] algorithms in their order
 * (MD5 and SHA-256), qop=auth, with a nonce any node of the cluster can
 * verify (nonce.h). A verification needs the
 * subscriber's HA1, taken from the node's cache (subcache.h); on a miss the
 * caller fetches it with auth_fetch_subscriber() and runs the request
 * again. An unknown user, a disabled one and a wrong password all get the
 * same fresh challenge, so the answers do not tell which names exist.
 *
 * With [auth] mode = http (httpauth.h) the challenges and every check
 * that needs no password stay here; what only the password can decide
 * goes to an HTTP service: auth_check_job() says AUTH_ASK, the caller
 * sends the request with auth_ask() and runs it again once the answer is
 * in, and that run finds the answer (AUTH_PASS, AUTH_REJECT,
 * AUTH_UNAVAILABLE). A nonce the service accepted is accepted again,
 * for a higher nonce-count, without asking until it goes stale.
 */
#ifndef JCT_AUTH_H
#define JCT_AUTH_H

#include "net/netaddr.h"
#include "registrar/httpauth.h"
#include "sip/sip_msg.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct config;
struct worker;
struct sip_job;

int auth_init(const struct config *cfg);
void auth_destroy(void);

enum auth_verdict {
	AUTH_PASS,      /* verified: username is who sent it */
	AUTH_BANNED,    /* credentials of a banned user (ban.h): refuse, no challenge */
	AUTH_CHALLENGE, /* answer 401/407 with a fresh challenge (stale set when it applies) */
	AUTH_NEED_USER, /* username@realm is not cached: fetch it, then run again */
	/* [auth] mode = http only: */
	AUTH_ASK,         /* the local checks passed: ask the service (auth_ask()) */
	AUTH_REJECT,      /* the service refused the credentials (403) */
	AUTH_UNAVAILABLE, /* the service could not answer: 503, AUTH_HTTP_RETRY_AFTER */
	AUTH_DUPLICATE,   /* the same credentials are being asked about for another copy
			   * of the request (a retransmission): drop it, unanswered */
};

/* The 503 of AUTH_UNAVAILABLE: a service that failed is given a few
 * seconds before the same phones ask again. */
#define AUTH_HTTP_RETRY_AFTER "Retry-After: 5\r\n"

struct auth_outcome {
	enum auth_verdict verdict;
	bool stale;              /* right password, expired or reused nonce */
	bool presented;          /* credentials for the realm were there */
	struct sip_str username; /* as presented (may be empty): points into the message */
	const char *why;         /* for the log: what failed */
};

/*
 * Checks the credentials of m, received from src, meant for realm:
 * Authorization when proxy is false, Proxy-Authorization when true. realm
 * is the domain (lowercase). The credentials' uri must be m's
 * Request-URI (RFC 3261 §22.4), their nonce one this node issued to src's
 * address (nonce.h: elsewhere it is stale), each nonce-count used once.
 */
void auth_check(struct sip_msg *m, const struct netaddr *src, bool proxy, struct sip_str realm,
		uint64_t now_ms, struct auth_outcome *out);

/*
 * auth_check() for job's request m, in either mode; w's counters count
 * the outcomes. With [auth] mode = http, job identifies the request
 * whose answer it is (the copy that asked, not a retransmission), and
 * the checks run in this order: the credentials' realm and uri; an
 * answer to them (AUTH_PASS, AUTH_REJECT, AUTH_UNAVAILABLE; the
 * nonce-count is not checked again); the same credentials being asked
 * about (AUTH_DUPLICATE); the user's ban, the algorithm, the nonce
 * (stale: challenged stale=true), its nonce-count (RFC 7616 §3.3, once
 * each); the nonce in the positive cache (AUTH_PASS: with the service's
 * HA1 only when the response checks out against it); else AUTH_ASK.
 */
void auth_check_job(struct worker *w, const struct sip_job *job, struct sip_msg *m, bool proxy,
		    struct sip_str realm, uint64_t now_ms, struct auth_outcome *out);

/*
 * After AUTH_ASK: sends m's credentials (proxy: Proxy-Authorization) for
 * realm, with its method, URIs, AOR (REGISTER: To; else From), Contacts
 * and source to the service. When the answer is in, the request runs
 * again on w (httpauth_ask()): done NULL, job is taken and runs from the
 * start; else done(w, arg, 0) runs (arg from malloc(3)) and the job stays
 * the caller's. Returns 0, or a negative errno (nothing taken): answer
 * what auth_ask_refused() says.
 */
int auth_ask(struct worker *w, struct sip_job *job, struct sip_msg *m, bool proxy,
	     struct sip_str realm, httpauth_done_fn done, void *arg);

/* The answer to a request auth_ask() refused with err: 400 (its text
 * cannot go into JSON: not UTF-8, too long) or 503 with *extra
 * "Retry-After: 1" (the queue is full, or Junction is stopping), which
 * counts as a failure of the service. */
unsigned auth_ask_refused(struct worker *w, int err, const char **reason, const char **extra);

/* Writes the challenge header lines (WWW-Authenticate or
 * Proxy-Authenticate, one per configured algorithm) for a request from
 * src into buf. Returns the length, or 0 when buf is too small. */
size_t auth_challenge(bool proxy, struct sip_str realm, bool stale, const struct netaddr *src,
		      char *buf, size_t cap);

/* A refused credential of job's request (ao->presented, not stale):
 * counted, and towards the bans of its source and its user (ban.h) unless
 * the source is trusted (a trusted proxy relays many users' attempts). */
void auth_failed(struct worker *w, const struct sip_job *job, const struct auth_outcome *ao,
		 struct sip_str realm);

/*
 * Fetches username@realm from the database into the cache, then calls
 * done(w, arg, err) (err: 0, or negative when the database could not
 * answer; the cache then has nothing new). Returns 0, or a negative errno
 * when the fetch could not be sent (no database, down): done is not called.
 */
int auth_fetch(struct worker *w, struct sip_str username, struct sip_str realm,
	       void (*done)(struct worker *w, void *arg, int err), void *arg);

/*
 * auth_fetch() for a request with no transaction yet: runs the job again
 * through the worker once the cache is filled. Takes the job (returns true) or, when the
 * database is down, answers 503 and returns false (the job stays the
 * caller's). A job already run again once is answered 503 instead, so a
 * cache that cannot hold the entry never loops.
 */
bool auth_fetch_subscriber(struct worker *w, struct sip_job *job, struct sip_msg *m,
			   struct sip_str username, struct sip_str realm);

/* Removes the credentials meant for this node (Proxy-Authorization with
 * one of our domains as realm) from a request it relays, as RFC 3261 §22.3
 * expects of the proxy that checked them: records the edits. */
struct msg_edits;
int auth_consume_credentials(struct sip_msg *m, struct msg_edits *ed);

#endif
