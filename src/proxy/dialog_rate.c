/*
 * dialog_rate: see dialog_rate.h. tat is the theoretical arrival time of
 * the next dialog: each admitted one pushes it one interval on; a dialog
 * arriving more than the burst tolerance before it is refused.
 */
#include "proxy/dialog_rate.h"

#include <stdatomic.h>

static uint64_t interval_ns, tolerance_ns;
static _Atomic uint64_t tat;

void dialog_rate_init(unsigned rate)
{
	interval_ns = rate ? 1000000000ULL / rate : 0;
	/* a tenth of a second's worth, at least one */
	tolerance_ns = rate >= 10 ? 100000000ULL : interval_ns;
	atomic_store(&tat, 0);
}

bool dialog_rate_admit(uint64_t now_ns)
{
	uint64_t t = atomic_load_explicit(&tat, memory_order_relaxed), next;

	if (!interval_ns)
		return true;
	do {
		uint64_t start = t > now_ns ? t : now_ns;

		if (start > now_ns + tolerance_ns)
			return false;
		next = start + interval_ns;
	} while (!atomic_compare_exchange_weak_explicit(&tat, &t, next, memory_order_relaxed,
							memory_order_relaxed));
	return true;
}
