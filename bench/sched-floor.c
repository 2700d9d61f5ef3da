/*
 * sched-floor: how late this machine wakes a thread, with no proxy at all.
 *
 *   sched-floor THREADS SECONDS BUSY_US
 *
 * Each thread works (spins) BUSY_US, then sleeps 1 ms, over and over, and
 * records how much later than asked it woke. One line: the load that made
 * (roughly, busy / (busy + 1 ms) of each thread's core), the wake-ups, and
 * their lateness at p50, p99, p99.9 and the worst, in microseconds.
 *
 * Why: every latency in the bench is at least this. On a virtual machine
 * whose host takes the cores away (steal), a thread that is ready may wait
 * milliseconds, more as the cores get busier, and no proxy can answer
 * faster than it is scheduled. bench/run prints this floor beside its
 * table, measured in the same run.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define FLOOR_MAX_THREADS 16

struct floor_thread {
	pthread_t id;
	long *late_us; /* owned: one entry per wake-up */
	size_t n, cap;
};

static long long g_end_ns;
static long g_busy_us;

static long long floor_now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000000000LL + t.tv_nsec;
}

static void *floor_run(void *arg)
{
	struct floor_thread *t = arg;
	const struct timespec one_ms = {0, 1000000};

	for (long long now = floor_now_ns(); now < g_end_ns; now = floor_now_ns()) {
		long long slept;

		while (floor_now_ns() - now < g_busy_us * 1000LL)
			;
		if (t->n == t->cap) {
			size_t cap = t->cap ? t->cap * 2 : 4096;
			long *p = realloc(t->late_us, cap * sizeof(*p));

			if (!p)
				break;
			t->late_us = p;
			t->cap = cap;
		}
		slept = floor_now_ns();
		nanosleep(&one_ms, NULL);
		t->late_us[t->n++] = (long)((floor_now_ns() - slept - 1000000) / 1000);
	}
	return NULL;
}

static int floor_cmp(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;

	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	struct floor_thread t[FLOOR_MAX_THREADS] = {0};
	int nthreads = argc == 4 ? atoi(argv[1]) : 0, secs = argc == 4 ? atoi(argv[2]) : 0;
	size_t total = 0, k = 0;
	long *all;

	g_busy_us = argc == 4 ? atol(argv[3]) : -1;
	if (nthreads < 1 || nthreads > FLOOR_MAX_THREADS || secs < 1 || g_busy_us < 0) {
		fprintf(stderr, "usage: sched-floor THREADS(1-%d) SECONDS BUSY_US\n",
			FLOOR_MAX_THREADS);
		return 2;
	}
	g_end_ns = floor_now_ns() + secs * 1000000000LL;
	for (int i = 0; i < nthreads; i++)
		if (pthread_create(&t[i].id, NULL, floor_run, &t[i]))
			return 1;
	for (int i = 0; i < nthreads; i++) {
		pthread_join(t[i].id, NULL);
		total += t[i].n;
	}
	all = malloc((total ? total : 1) * sizeof(*all));
	if (!all || !total)
		return 1;
	for (int i = 0; i < nthreads; i++) {
		for (size_t j = 0; j < t[i].n; j++)
			all[k++] = t[i].late_us[j];
		free(t[i].late_us);
	}
	qsort(all, total, sizeof(*all), floor_cmp);
	printf("threads=%d load=%ld%% wakeups=%zu late_us p50=%ld p99=%ld p99.9=%ld max=%ld\n",
	       nthreads, 100 * g_busy_us / (g_busy_us + 1000), total, all[total / 2],
	       all[total * 99 / 100], all[total * 999 / 1000], all[total - 1]);
	free(all);
	return 0;
}
