/*
 * Unit tests for timer: order of firing, stop and restart, callbacks that
 * start timers, and the next-expiry computation, on a fake clock.
 */
#include "runtime/timer.h"

#include <criterion/criterion.h>
#include <stdlib.h>

static int fired[64];
static int nfired;

static void record(struct timer *t, void *arg, uint64_t now)
{
	(void)t;
	(void)now;
	fired[nfired++] = (int)(intptr_t)arg;
}

Test(timer, fires_in_expiry_order)
{
	struct timer_heap th;
	struct timer t[5] = {0};
	uint64_t when[5] = {50, 10, 40, 20, 30};

	timer_heap_init(&th);
	nfired = 0;
	for (int i = 0; i < 5; i++)
		cr_assert_eq(timer_start(&th, &t[i], when[i], record, (void *)(intptr_t)i), 0);
	cr_assert_eq(timer_count(&th), 5);
	cr_assert_eq(timer_next_ms(&th, 0), 10);
	cr_assert_eq(timer_run(&th, 9), 0);
	cr_assert_eq(timer_run(&th, 30), 3);
	cr_assert_eq(nfired, 3);
	cr_assert_eq(fired[0], 1);
	cr_assert_eq(fired[1], 3);
	cr_assert_eq(fired[2], 4);
	cr_assert_not(timer_running(&t[1]));
	cr_assert(timer_running(&t[0]));
	cr_assert_eq(timer_next_ms(&th, 30), 10);
	cr_assert_eq(timer_run(&th, 1000), 2);
	cr_assert_eq(timer_next_ms(&th, 1000), -1);
	timer_heap_destroy(&th);
}

Test(timer, stop_and_restart)
{
	struct timer_heap th;
	struct timer a = {0}, b = {0}, c = {0};

	timer_heap_init(&th);
	nfired = 0;
	timer_start(&th, &a, 10, record, (void *)1);
	timer_start(&th, &b, 20, record, (void *)2);
	timer_start(&th, &c, 30, record, (void *)3);
	timer_stop(&th, &b);
	timer_stop(&th, &b);                         /* twice is harmless */
	timer_start(&th, &a, 40, record, (void *)1); /* restart moves it */
	cr_assert_eq(timer_count(&th), 2);
	cr_assert_eq(timer_run(&th, 35), 1);
	cr_assert_eq(fired[0], 3);
	cr_assert_eq(timer_run(&th, 40), 1);
	cr_assert_eq(fired[1], 1);
	timer_heap_destroy(&th);
}

static struct timer_heap *chain_heap;
static int chain_left;

static void chain(struct timer *t, void *arg, uint64_t now)
{
	(void)arg;
	nfired++;
	if (--chain_left > 0)
		timer_start(chain_heap, t, now + 5, chain, NULL); /* restart itself */
}

Test(timer, callback_restarts_itself)
{
	struct timer_heap th;
	struct timer t = {0};

	timer_heap_init(&th);
	chain_heap = &th;
	chain_left = 3;
	nfired = 0;
	timer_start(&th, &t, 5, chain, NULL);
	cr_assert_eq(timer_run(&th, 5), 1);
	cr_assert_eq(timer_run(&th, 9), 0);
	cr_assert_eq(timer_run(&th, 10), 1);
	cr_assert_eq(timer_run(&th, 100), 1);
	cr_assert_eq(nfired, 3);
	cr_assert_eq(timer_count(&th), 0);
	timer_heap_destroy(&th);
}

static void noop(struct timer *t, void *arg, uint64_t now)
{
	(void)t;
	(void)arg;
	(void)now;
}

Test(timer, many_random)
{
	struct timer_heap th;
	static struct timer t[2000];
	uint64_t last = 0;

	timer_heap_init(&th);
	srand(7);
	for (int i = 0; i < 2000; i++)
		timer_start(&th, &t[i], (uint64_t)(rand() % 100000), noop, NULL);
	for (int i = 0; i < 2000; i += 3)
		timer_stop(&th, &t[i]);
	/* fire one at a time: expiries never go backwards */
	while (timer_count(&th)) {
		uint64_t next = last + (uint64_t)timer_next_ms(&th, last);

		cr_assert_geq(next, last);
		timer_run(&th, next);
		last = next;
	}
	timer_heap_destroy(&th);
}
