/*
 * Unit tests for dialog_rate, the [routing] overload_dialog_rate limiter
 * (GCRA): on a simulated clock it admits the rate over time with a burst
 * of a tenth of a second's worth (one interval below 10 per second), never
 * stores credit while idle, admits everything at rate 0, and under two
 * threads racing on the one atomic word admits no more than one thread
 * would.
 */
#include "base/clock.h"
#include "proxy/dialog_rate.h"

#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#define MS  1000000ULL
#define SEC 1000000000ULL
/* an arbitrary monotonic start, far from 0 */
#define T0 (123456ULL * SEC)

/* Attempts at now until one is refused (at most max); how many passed. */
static unsigned burst_at(uint64_t now, unsigned max)
{
	unsigned n = 0;

	while (n < max && dialog_rate_admit(now))
		n++;
	return n;
}

Test(dialog_rate, zero_admits_everything)
{
	dialog_rate_init(0);
	for (unsigned i = 0; i < 100000; i++)
		cr_assert(dialog_rate_admit(T0));
	cr_assert(dialog_rate_admit(0));
	cr_assert(dialog_rate_admit(UINT64_MAX));
}

Test(dialog_rate, burst_is_a_tenth_of_a_second)
{
	/* 50/s: 20 ms apart, 100 ms of tolerance: the first and 5 more */
	dialog_rate_init(50);
	cr_expect_eq(burst_at(T0, 1000), 6);
	cr_expect_not(dialog_rate_admit(T0 + 19 * MS));
	cr_expect(dialog_rate_admit(T0 + 20 * MS), "one interval later: one more");
	cr_expect_not(dialog_rate_admit(T0 + 20 * MS));

	/* 1000/s: 1 ms apart: 101 at once */
	dialog_rate_init(1000);
	cr_expect_eq(burst_at(T0, 100000), 101);

	/* below 10/s the tolerance is one interval: two at once */
	dialog_rate_init(5);
	cr_expect_eq(burst_at(T0, 1000), 2);
	cr_expect_not(dialog_rate_admit(T0 + 199 * MS));
	cr_expect(dialog_rate_admit(T0 + 200 * MS));
	dialog_rate_init(1);
	cr_expect_eq(burst_at(T0, 1000), 2);
	cr_expect_not(dialog_rate_admit(T0 + SEC - 1));
	cr_expect(dialog_rate_admit(T0 + SEC));

	/* the configured maximum */
	dialog_rate_init(1000000);
	cr_expect_eq(burst_at(T0, 1000000), 100001);
}

Test(dialog_rate, rate_over_ten_seconds)
{
	unsigned total = 0, per_sec[10] = {0};

	/* an attempt every millisecond (1000/s offered) for 10 s at 50/s */
	dialog_rate_init(50);
	for (uint64_t t = 0; t < 10 * SEC; t += MS) {
		if (dialog_rate_admit(T0 + t)) {
			total++;
			per_sec[t / SEC]++;
		}
	}
	/* 500 in 10 s, plus the initial burst of 5 (6 at once, then one
	 * every 20 ms from 20 ms on) */
	cr_expect_eq(total, 505, "admitted %u in 10 s", total);
	cr_expect_eq(per_sec[0], 55, "first second: %u", per_sec[0]);
	for (unsigned s = 1; s < 10; s++)
		cr_expect_eq(per_sec[s], 50, "second %u: %u", s, per_sec[s]);
}

Test(dialog_rate, any_window_is_bounded)
{
	enum { N = 20000 };
	static uint64_t admitted[N];
	unsigned n = 0;

	/* irregular arrivals: bursts of 30 every 250 ms, plus a steady trickle */
	dialog_rate_init(50);
	for (uint64_t t = 0; t < 10 * SEC; t += 5 * MS) {
		unsigned tries = t % (250 * MS) == 0 ? 30 : 1;

		for (unsigned i = 0; i < tries; i++)
			if (dialog_rate_admit(T0 + t)) {
				cr_assert_lt(n, N);
				admitted[n++] = t;
			}
	}
	/* in any window shorter than 1 s: at most 50 + the burst of 5, GCRA's
	 * bound: the k-th admission needs (k - 1) x 20 ms <= 1 s - 1 ns + 100 ms */
	for (unsigned i = 0, j = 0; i < n; i++) {
		while (admitted[i] - admitted[j] >= SEC)
			j++;
		cr_assert_leq(i - j + 1, 55, "%u admitted within 1 s ending at %llu ms", i - j + 1,
			      (unsigned long long)(admitted[i] / MS));
	}
	cr_expect_geq(n, 500);
	cr_expect_leq(n, 506);
}

Test(dialog_rate, idle_time_stores_no_credit)
{
	dialog_rate_init(50);
	cr_expect_eq(burst_at(T0, 1000), 6);
	/* a minute of silence is worth one burst, not 3000 dialogs */
	cr_expect_eq(burst_at(T0 + 60 * SEC, 1000), 6);
	cr_expect_eq(burst_at(T0 + 120 * SEC, 1000), 6);
}

Test(dialog_rate, reinit_starts_over)
{
	dialog_rate_init(50);
	cr_expect_eq(burst_at(T0, 1000), 6);
	dialog_rate_init(50);
	cr_expect_eq(burst_at(T0, 1000), 6, "a new limiter has no debt");
	dialog_rate_init(0);
	cr_expect_eq(burst_at(T0, 1000), 1000);
	dialog_rate_init(10);
	cr_expect_eq(burst_at(T0, 1000), 2, "10/s: 100 ms apart, 100 ms of tolerance");
}

Test(dialog_rate, time_going_back_is_harmless)
{
	dialog_rate_init(50);
	cr_expect_eq(burst_at(T0, 1000), 6);
	/* an older timestamp (another worker's clock read a moment earlier)
	 * gets nothing more than the present one would */
	cr_expect_eq(burst_at(T0 - 500 * MS, 1000), 0);
	cr_expect_eq(burst_at(T0 + 20 * MS, 1000), 1);
}

/* ---- two threads on the one word ---------------------------------------- */

struct race {
	pthread_barrier_t *go;
	uint64_t now; /* a fixed time; 0: each attempt at its own step */
	unsigned attempts;
	unsigned admitted;
};

static void *hammer(void *arg)
{
	struct race *r = arg;

	pthread_barrier_wait(r->go);
	for (unsigned i = 0; i < r->attempts; i++)
		if (dialog_rate_admit(r->now ? r->now : T0 + (uint64_t)i * 1000))
			r->admitted++;
	return NULL;
}

static unsigned race(uint64_t now, unsigned attempts)
{
	pthread_barrier_t go;
	pthread_t th[2];
	struct race r[2];

	pthread_barrier_init(&go, NULL, 2);
	for (unsigned i = 0; i < 2; i++) {
		r[i] = (struct race){.go = &go, .now = now, .attempts = attempts};
		cr_assert_eq(pthread_create(&th[i], NULL, hammer, &r[i]), 0);
	}
	for (unsigned i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	pthread_barrier_destroy(&go);
	return r[0].admitted + r[1].admitted;
}

Test(dialog_rate, two_threads_at_one_instant_share_one_burst)
{
	for (unsigned round = 0; round < 20; round++) {
		dialog_rate_init(50);
		cr_assert_eq(race(T0, 100000), 6, "round %u", round);
		dialog_rate_init(1000);
		cr_assert_eq(race(T0, 100000), 101, "round %u", round);
	}
}

Test(dialog_rate, two_threads_over_simulated_time)
{
	/* each thread tries every simulated microsecond for 1 s (their
	 * clocks interleave arbitrarily): 1000/s admits 1000 + the burst */
	for (unsigned round = 0; round < 5; round++) {
		unsigned n;

		dialog_rate_init(1000);
		n = race(0, 1000000);
		cr_assert_leq(n, 1000 + 101, "round %u: %u in 1 s", round, n);
		cr_assert_geq(n, 1000, "round %u: %u in 1 s", round, n);
	}
}

struct real {
	pthread_barrier_t *go;
	uint64_t until;
	unsigned admitted;
};

static void *hammer_real(void *arg)
{
	struct real *r = arg;
	uint64_t now;

	pthread_barrier_wait(r->go);
	while ((now = clock_now_ns()) < r->until)
		if (dialog_rate_admit(now))
			r->admitted++;
	return NULL;
}

Test(dialog_rate, two_threads_on_the_real_clock)
{
	struct real r[2];
	pthread_barrier_t go;
	pthread_t th[2];
	uint64_t start, end, bound;
	unsigned n;

	/* 2000/s: 0.5 ms apart, a burst of 200 more; 200 ms of hammering */
	dialog_rate_init(2000);
	pthread_barrier_init(&go, NULL, 2);
	start = clock_now_ns();
	for (unsigned i = 0; i < 2; i++) {
		r[i] = (struct real){.go = &go, .until = start + 200 * MS};
		cr_assert_eq(pthread_create(&th[i], NULL, hammer_real, &r[i]), 0);
	}
	for (unsigned i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	end = clock_now_ns();
	pthread_barrier_destroy(&go);
	n = r[0].admitted + r[1].admitted;
	/* every admission fell within [start, end] */
	bound = (end - start + 100 * MS) / (SEC / 2000) + 1;
	cr_expect_leq(n, bound, "%u admitted in %llu ms (bound %llu)", n,
		      (unsigned long long)((end - start) / MS), (unsigned long long)bound);
	cr_expect_geq(n, 100, "%u admitted in %llu ms", n,
		      (unsigned long long)((end - start) / MS));
}
