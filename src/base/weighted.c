/*
 * weighted: see weighted.h. One 64-bit mask per priority says which items
 * are taken; a draw is r in 1..the weight left, the first item whose
 * running sum of weights reaches it.
 */
#include "base/weighted.h"

#include "base/clock.h"

#include <sys/random.h>

/* xorshift64* per thread, seeded from the kernel on first use. */
static uint64_t weighted_random(void)
{
	static _Thread_local uint64_t s;

	if (!s && (getrandom(&s, sizeof(s), GRND_NONBLOCK) != (ssize_t)sizeof(s) || !s))
		s = (clock_now_ns() ^ (uint64_t)(uintptr_t)&s) | 1;
	s ^= s >> 12;
	s ^= s << 25;
	s ^= s >> 27;
	return s * 0x2545F4914F6CDD1DULL;
}

void weighted_order(const uint32_t *priority, const uint32_t *weight, unsigned n, unsigned *order)
{
	unsigned i = 0, out = 0;

	if (n > WEIGHTED_MAX)
		n = WEIGHTED_MAX;
	while (i < n) {
		unsigned j = i, left;
		uint64_t taken = 0, sum = 0;

		while (j < n && priority[j] == priority[i])
			sum += weight[j++];
		for (left = j - i; left; left--) {
			unsigned pick = i;

			if (sum) {
				uint64_t r = weighted_random() % sum + 1, run = 0;

				for (; pick < j; pick++) {
					if (taken & (1ull << (pick - i)))
						continue;
					run += weight[pick];
					if (run >= r)
						break;
				}
				sum -= weight[pick];
			} else {
				uint64_t r = weighted_random() % left;

				for (; pick < j; pick++)
					if (!(taken & (1ull << (pick - i))) && r-- == 0)
						break;
			}
			taken |= 1ull << (pick - i);
			order[out++] = pick;
		}
		i = j;
	}
}
