/*
 * memtrim: see memtrim.h. One caller, the main thread: no lock.
 */
#include "runtime/memtrim.h"

#include "base/clock.h"

#include <malloc.h>
#include <stdint.h>

#define MEMTRIM_INTERVAL_MS 2000

void memtrim_tick(void)
{
	static uint64_t trimmed_ms;
	uint64_t now = clock_now_ms();

	if (now - trimmed_ms < MEMTRIM_INTERVAL_MS)
		return;
	malloc_trim(0);
	trimmed_ms = now;
}
