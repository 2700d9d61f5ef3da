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

/* The process-wide key, random from the first call on (thread-safe). */
const struct siphash_key *siphash_process_key(void);

#endif
