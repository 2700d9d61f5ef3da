/*
 * siphash: SipHash-2-4 over a byte string, written from the paper's
 * description (https://131002.net/siphash/siphash.pdf): four 64-bit lanes,
 * two compression rounds per 8-byte block, four finalisation rounds. The
 * process key comes from OpenSSL's RAND_bytes once, under pthread_once.
 */
#include "base/siphash.h"

#include <openssl/rand.h>
#include <pthread.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))

#define SIPROUND                                                                                   \
	do {                                                                                       \
		v0 += v1;                                                                          \
		v1 = ROTL(v1, 13);                                                                 \
		v1 ^= v0;                                                                          \
		v0 = ROTL(v0, 32);                                                                 \
		v2 += v3;                                                                          \
		v3 = ROTL(v3, 16);                                                                 \
		v3 ^= v2;                                                                          \
		v0 += v3;                                                                          \
		v3 = ROTL(v3, 21);                                                                 \
		v3 ^= v0;                                                                          \
		v2 += v1;                                                                          \
		v1 = ROTL(v1, 17);                                                                 \
		v1 ^= v2;                                                                          \
		v2 = ROTL(v2, 32);                                                                 \
	} while (0)

static inline uint64_t load_le64(const unsigned char *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	v = __builtin_bswap64(v);
#endif
	return v;
}

uint64_t siphash(const struct siphash_key *key, const void *data, size_t len)
{
	const unsigned char *in = data;
	uint64_t v0 = 0x736f6d6570736575ULL ^ key->k0;
	uint64_t v1 = 0x646f72616e646f6dULL ^ key->k1;
	uint64_t v2 = 0x6c7967656e657261ULL ^ key->k0;
	uint64_t v3 = 0x7465646279746573ULL ^ key->k1;
	size_t blocks = len & ~(size_t)7;
	uint64_t b = (uint64_t)len << 56;

	for (size_t i = 0; i < blocks; i += 8) {
		uint64_t m = load_le64(in + i);
		v3 ^= m;
		SIPROUND;
		SIPROUND;
		v0 ^= m;
	}
	switch (len & 7) {
	case 7:
		b |= (uint64_t)in[blocks + 6] << 48;
		/* fall through */
	case 6:
		b |= (uint64_t)in[blocks + 5] << 40;
		/* fall through */
	case 5:
		b |= (uint64_t)in[blocks + 4] << 32;
		/* fall through */
	case 4:
		b |= (uint64_t)in[blocks + 3] << 24;
		/* fall through */
	case 3:
		b |= (uint64_t)in[blocks + 2] << 16;
		/* fall through */
	case 2:
		b |= (uint64_t)in[blocks + 1] << 8;
		/* fall through */
	case 1:
		b |= (uint64_t)in[blocks];
		break;
	default:
		break;
	}
	v3 ^= b;
	SIPROUND;
	SIPROUND;
	v0 ^= b;
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
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
