/*
 * Unit tests for queue: order, the bound (refused unless forced), close
 * and drain, timed waits, and a producer/consumer run across threads.
 */
#include "base/clock.h"
#include "runtime/queue.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>

static struct sip_source src;

static struct sip_job *mkjob(const char *s)
{
	struct sip_job *j = job_new(s, strlen(s), &src);
	cr_assert_not_null(j);
	return j;
}

static unsigned drain(struct queue *q, char *first_byte_out)
{
	bool closed;
	unsigned n = 0;
	struct sip_job *j = queue_pop_all(q, clock_now_ns() + 1000000, &closed);

	while (j) {
		struct sip_job *next = j->next;
		if (first_byte_out)
			first_byte_out[n] = j->data[0];
		n++;
		job_free(j);
		j = next;
	}
	return n;
}

Test(queue, fifo_order)
{
	struct queue q;
	char order[4] = {0};

	cr_assert_eq(queue_init(&q, 8), 0);
	cr_assert_eq(queue_push(&q, mkjob("a"), false), 0);
	cr_assert_eq(queue_push(&q, mkjob("b"), false), 0);
	cr_assert_eq(queue_push(&q, mkjob("c"), false), 0);
	cr_assert_eq(queue_length(&q), 3);
	cr_assert_eq(drain(&q, order), 3);
	cr_assert_str_eq(order, "abc");
	cr_assert_eq(queue_length(&q), 0);
	queue_destroy(&q);
}

Test(queue, bound_refuses_requests_but_not_forced)
{
	struct queue q;
	struct sip_job *j;

	cr_assert_eq(queue_init(&q, 2), 0);
	cr_assert_eq(queue_push(&q, mkjob("1"), false), 0);
	cr_assert_eq(queue_push(&q, mkjob("2"), false), 0);
	j = mkjob("3");
	cr_assert_eq(queue_push(&q, j, false), -EBUSY);
	/* refused: still the caller's */
	cr_assert_eq(queue_push(&q, j, true), 0, "a response is never refused");
	cr_assert_eq(queue_length(&q), 3);
	cr_assert_eq(q.refused, 1);
	cr_assert_eq(drain(&q, NULL), 3);
	queue_destroy(&q);
}

Test(queue, timed_wait_returns_empty)
{
	struct queue q;
	bool closed = true;
	uint64_t t0 = clock_now_ns();

	cr_assert_eq(queue_init(&q, 4), 0);
	cr_assert_null(queue_pop_all(&q, t0 + 20 * 1000000ULL, &closed));
	cr_assert_not(closed);
	cr_assert_geq(clock_now_ns() - t0, 19 * 1000000ULL);
	queue_destroy(&q);
}

Test(queue, close_drains_then_reports_closed)
{
	struct queue q;
	bool closed = false;
	struct sip_job *j;

	cr_assert_eq(queue_init(&q, 4), 0);
	cr_assert_eq(queue_push(&q, mkjob("x"), false), 0);
	queue_close(&q);
	j = mkjob("y");
	cr_assert_eq(queue_push(&q, j, true), -EPIPE);
	job_free(j);
	j = queue_pop_all(&q, 0, &closed);
	cr_assert_not_null(j, "queued work survives close");
	cr_assert(closed);
	job_free(j);
	cr_assert_null(queue_pop_all(&q, 0, &closed));
	queue_destroy(&q);
}

#define PRODUCED 20000

static void *producer(void *arg)
{
	struct queue *q = arg;

	for (int i = 0; i < PRODUCED; i++) {
		struct sip_job *j = job_new("m", 1, &src);
		while (queue_push(q, j, false) == -EBUSY)
			sched_yield();
	}
	return NULL;
}

Test(queue, two_producers_one_consumer_lose_nothing)
{
	struct queue q;
	pthread_t a, b;
	unsigned got = 0;

	cr_assert_eq(queue_init(&q, 64), 0);
	pthread_create(&a, NULL, producer, &q);
	pthread_create(&b, NULL, producer, &q);
	while (got < 2 * PRODUCED)
		got += drain(&q, NULL);
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	cr_assert_eq(got, 2 * PRODUCED);
	queue_destroy(&q);
}
