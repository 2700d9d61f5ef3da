/*
 * clock: monotonic time in nanoseconds and milliseconds, and wall time for
 * log lines and Date headers. One place so that tests can reason about
 * which clock a deadline uses.
 */
#ifndef JCT_CLOCK_H
#define JCT_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline uint64_t clock_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static inline uint64_t clock_now_ms(void)
{
	return clock_now_ns() / 1000000ULL;
}

/* Wall clock seconds: for what other machines must agree on (nonces that
 * any node verifies), never for timeouts. */
static inline uint64_t clock_wall_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec;
}

/* Wall clock milliseconds: the same, finer (bans that every node keeps). */
static inline uint64_t clock_wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

#endif
