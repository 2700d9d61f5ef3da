/*
 * siphash: SipHash-2-4 over a byte string, written from the paper's
 * description (https://131002.net/siphash/siphash.pdf): four 64-bit lanes,
 * two compression rounds per 8-byte block, four finalisation rounds. The
 * one-shot siphash() is init, one update and final, so the reference
 * vectors check the streaming path too; update carries a partial block
 * over in the state, so pieces may be cut anywhere. The process key
 * comes from OpenSSL's RAND_bytes once, under pthread_once.
 */
#include "base/siphash.h"

#include <openssl/rand.h>
#include <pthread.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))

/* One SipRound over the four lanes of s. */
static inline void sipround(struct siphash_state *s)
{
	s->v0 += s->v1;
	s->v1 = ROTL(s->v1, 13);
	s->v1 ^= s->v0;
	s->v0 = ROTL(s->v0, 32);
	s->v2 += s->v3;
	s->v3 = ROTL(s->v3, 16);
	s->v3 ^= s->v2;
	s->v0 += s->v3;
	s->v3 = ROTL(s->v3, 21);
	s->v3 ^= s->v0;
	s->v2 += s->v1;
	s->v1 = ROTL(s->v1, 17);
	s->v1 ^= s->v2;
	s->v2 = ROTL(s->v2, 32);
}

/* Compression: one 8-byte block m, two rounds (the "2" of 2-4). */
static inline void compress(struct siphash_state *s, uint64_t m)
{
	s->v3 ^= m;
	sipround(s);
	sipround(s);
	s->v0 ^= m;
}

static inline uint64_t load_le64(const unsigned char *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	v = __builtin_bswap64(v);
#endif
	return v;
}

void siphash_init(struct siphash_state *s, const struct siphash_key *key)
{
	s->v0 = 0x736f6d6570736575ULL ^ key->k0;
	s->v1 = 0x646f72616e646f6dULL ^ key->k1;
	s->v2 = 0x6c7967656e657261ULL ^ key->k0;
	s->v3 = 0x7465646279746573ULL ^ key->k1;
	s->tail = 0;
	s->len = 0;
}

void siphash_update(struct siphash_state *s, const void *data, size_t len)
{
	const unsigned char *in = data;
	unsigned fill = (unsigned)(s->len & 7);

	s->len += len;
	if (fill) {
		/* complete the block an earlier piece left open */
		for (; fill < 8 && len; fill++, len--)
			s->tail |= (uint64_t)*in++ << (8 * fill);
		if (fill < 8)
			return;
		compress(s, s->tail);
		s->tail = 0;
	}
	for (; len >= 8; in += 8, len -= 8)
		compress(s, load_le64(in));
	for (unsigned i = 0; i < len; i++)
		s->tail |= (uint64_t)in[i] << (8 * i);
}

uint64_t siphash_final(const struct siphash_state *st)
{
	struct siphash_state s = *st;
	uint64_t b = s.len << 56 | s.tail; /* the length byte is len mod 256 */

	compress(&s, b);
	s.v2 ^= 0xff;
	sipround(&s);
	sipround(&s);
	sipround(&s);
	sipround(&s);
	return s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
}

uint64_t siphash(const struct siphash_key *key, const void *data, size_t len)
{
	struct siphash_state s;

	siphash_init(&s, key);
	siphash_update(&s, data, len);
	return siphash_final(&s);
}

static struct siphash_key process_key;
static pthread_once_t process_key_once = PTHREAD_ONCE_INIT;

static void process_key_init(void)
{
	if (RAND_bytes((unsigned char *)&process_key, sizeof(process_key)) != 1) {
		/* No entropy from OpenSSL: still distinct per process and boot. */
		process_key.k0 = (uint64_t)(uintptr_t)&process_key ^ 0x9e3779b97f4a7c15ULL;
		process_key.k1 = (uint64_t)getpid() << 32 ^ (uint64_t)time(NULL);
	}
}

const struct siphash_key *siphash_process_key(void)
{
	pthread_once(&process_key_once, process_key_init);
	return &process_key;
}
