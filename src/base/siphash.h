/*
 * siphash: SipHash-2-4 (Aumasson and Bernstein), a keyed 64-bit hash.
 *
 * Junction hashes attacker-chosen strings (Call-IDs to pick a worker
 * shard, request fields for stateless branch IDs, addresses for the
 * connection table). A keyed hash with a per-process random key keeps
 * anyone from steering all traffic to one shard or forging collisions.
 */
#ifndef JCT_SIPHASH_H
#define JCT_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

struct siphash_key {
	uint64_t k0, k1;
};

uint64_t siphash(const struct siphash_key *key, const void *data, size_t len);

/* The same hash fed in pieces, for input that is not one string (the
 * fields of a request): init, update as often as needed, final. No copy
 * and no size cap: the state holds the lanes and the 0-7 bytes not yet
 * in a block. siphash_final() leaves the state as it was. */
struct siphash_state {
	uint64_t v0, v1, v2, v3;
	uint64_t tail; /* bytes not yet in a block, little-endian */
	uint64_t len;  /* bytes fed so far */
};

void siphash_init(struct siphash_state *s, const struct siphash_key *key);
void siphash_update(struct siphash_state *s, const void *data, size_t len);
uint64_t siphash_final(const struct siphash_state *s);

/* The process-wide key, random from the first call on (thread-safe). */
const struct siphash_key *siphash_process_key(void);

#endif
