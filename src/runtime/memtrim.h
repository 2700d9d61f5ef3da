/*
 * memtrim: gives the memory that bursts left free back to the system
 * (malloc_trim(3)), from the main thread's loop. Transactions linger 32 s
 * after a burst of REGISTERs (Timer J) and leave their arenas' pages free
 * but mapped; trimmed every 2 s, they are given back within seconds of
 * the transactions' end. A trim took 4-60 us at rest and 1.2-2.7 ms with
 * 100 MB of arenas, during a storm of 2,000 first REGISTERs/s.
 */
#ifndef JCT_MEMTRIM_H
#define JCT_MEMTRIM_H

/* Trims when the last trim is 2 s old or more; call it as often as wanted. */
void memtrim_tick(void);

#endif
