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
 */
#ifndef JCT_AUTH_H
#define JCT_AUTH_H

#include "net/netaddr.h"
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
};

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
