/*
 * timer: one-shot timers of one thread (a worker's transaction timers,
 * RFC 3261 §17 A-K and §16.6 Timer C), in a binary min-heap keyed by
 * expiry.
 *
 * The caller owns the struct timer (embedded in a transaction) and passes
 * the time in on every call, so the module has no clock of its own and
 * tests drive it with a fake one. Start, stop and restart are O(log n);
 * a stopped or fired timer may be started again.
 */
#ifndef JCT_TIMER_H
#define JCT_TIMER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct timer;
typedef void (*timer_fn)(struct timer *t, void *arg, uint64_t now_ms);

struct timer {
	uint64_t expires_ms;
	uint32_t idx; /* position in the heap + 1; 0 when not running */
	timer_fn fn;
	void *arg;
};

/* A slot carries its timer's expiry, so that sifting compares within the
 * array instead of following a pointer (a cache miss) at every level. */
struct timer_slot {
	uint64_t expires_ms;
	struct timer *t;
};

struct timer_heap {
	struct timer_slot *h;
	size_t n, cap;
};

void timer_heap_init(struct timer_heap *th);
/* Frees the heap's array; running timers are simply forgotten. */
void timer_heap_destroy(struct timer_heap *th);

static inline bool timer_running(const struct timer *t)
{
	return t->idx != 0;
}

/* (Re)starts t to fire fn(t, arg) at expires_ms. Returns 0 or -ENOMEM. */
int timer_start(struct timer_heap *th, struct timer *t, uint64_t expires_ms, timer_fn fn,
		void *arg);
/* Stops t if running. */
void timer_stop(struct timer_heap *th, struct timer *t);
/* Fires every timer due at now_ms, earliest first; a callback may start
 * and stop timers (itself included). Returns how many fired. */
unsigned timer_run(struct timer_heap *th, uint64_t now_ms);
/* Milliseconds until the next expiry (0 when due), or -1 when none. */
int timer_next_ms(const struct timer_heap *th, uint64_t now_ms);
/* Running timers. */
static inline size_t timer_count(const struct timer_heap *th)
{
	return th->n;
}

#endif
