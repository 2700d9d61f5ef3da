/*
 * nonce: stateless Digest nonces that every node of the cluster can check,
 * and a per-node table of nonce-counts against replays (RFC 7616 §3.3,
 * §5.5, §5.10; RFC 8760 for SIP).
 *
 * A nonce is 64 lowercase hex characters:
 *   12 hex  issue time, seconds, big-endian
 *   8 hex   scope: whom the nonce is for (the caller's hash of the node
 *           and the client's address)
 *   12 hex  6 random bytes (RAND_bytes): no two challenges share a nonce
 *           (4 bytes were too few: 40,000 challenges of one second to one
 *           address collided one time in five)
 *   32 hex  HMAC-SHA256(key, time || scope || random || realm), first 16
 *           bytes
 * The key is derived from the cluster secret, so any node can tell a
 * nonce of the cluster from a forged one; the realm is under the MAC, so
 * a nonce of one realm is refused in another.
 *
 * The nonce-count table is per node, so a nonce is good only where its
 * counts are kept: its scope names the node that issued it and the
 * address it was issued to. Credentials replayed to another node, or
 * from another address, are stale there (RFC 7616 §3.3: a fresh nonce
 * for whoever knows the password; nothing for whoever does not).
 * It is striped (64 mutexes) for the worker threads, sized once at
 * creation and never allocates afterwards.
 */
#ifndef JCT_NONCE_H
#define JCT_NONCE_H

#include "sip/sip_str.h"

#include <stdint.h>

#define NONCE_LEN 64

/* The clock skew tolerated between nodes: a nonce stamped up to this far
 * in the future is still accepted. */
#define NONCE_SKEW_S 5

struct nonce_key;

/*
 * A key from the [auth] secret of the config (the same on every node).
 * Returns a new key, immutable and safe to share between threads, or NULL
 * with errno ENOMEM, or EINVAL for a NULL or empty secret (anyone could
 * then forge nonces).
 */
struct nonce_key *nonce_key_new(const char *secret);
void nonce_key_free(struct nonce_key *k);

/* Writes a fresh nonce for realm and scope issued at now_s (wall clock, seconds) to
 * out, NUL-terminated. Returns 0, or -ENOMEM / -EIO (no randomness, hash
 * failure) with out set to "". The time stamp saturates at 2^48 - 1. */
int nonce_make(const struct nonce_key *k, struct sip_str realm, uint32_t scope, uint64_t now_s,
	       char out[NONCE_LEN + 1]);

/*
 * Checks a nonce a client sent back for realm at now_s. Returns:
 *   0        genuine and at most lifetime_s old;
 *   -ESTALE  genuine but older, or made for another scope: answer with
 *            a new nonce and stale=true (RFC 7616 §3.3) once the
 *            response digest checked out;
 *   -EINVAL  malformed, forged, of another realm or key, or stamped more
 *            than NONCE_SKEW_S in the future;
 *   -ENOMEM, -EIO  could not check (answer 500, not a challenge).
 * The MAC is compared in constant time.
 */
int nonce_verify(const struct nonce_key *k, struct sip_str nonce, struct sip_str realm,
		 uint32_t scope, uint64_t now_s, unsigned lifetime_s);

struct nonce_nc_table;

/*
 * A nonce-count table for at most max_entries nonces (rounded up to a
 * multiple of 64), each remembered until its nonce goes stale, i.e.
 * lifetime_s after the time stamped in it (give nonce_verify() the same
 * lifetime). About 48 bytes per entry, allocated here once. Returns NULL
 * with errno ENOMEM, or EINVAL when max_entries is 0.
 */
struct nonce_nc_table *nonce_nc_table_new(unsigned max_entries, unsigned lifetime_s);
void nonce_nc_table_free(struct nonce_nc_table *t);

/*
 * RFC 7616 §3.3: the nonce-count must grow with each request on a nonce.
 * Returns 0 and records nc when it is greater than every nc seen for this
 * nonce (any nc > 0 for a nonce not seen yet); -EALREADY when it is not
 * (a replay); -ESTALE (re-challenge) for a nonce whose count the table
 * may have forgotten to make room, or for which it has no room now (it is
 * among the first to expire in a table full of live counts). Like
 * nonce_verify() with the table's lifetime, -ESTALE for a nonce past its
 * lifetime (its count is no longer kept) and -EINVAL for one that is not NONCE_LEN lowercase hex or
 * is stamped too far in the future.
 *
 * Call it only for a nonce that nonce_verify() accepted and a request
 * whose response digest is correct: otherwise anyone could fill the table
 * or burn the counts of a genuine client. Thread-safe.
 */
int nonce_nc_check(struct nonce_nc_table *t, struct sip_str nonce, uint32_t nc, uint64_t now_s);

/* nc-value (RFC 7616 §3.4): exactly 8 hex digits -> *nc. Returns 0 or
 * -EINVAL. */
int nonce_nc_parse(struct sip_str s, uint32_t *nc);

#endif
