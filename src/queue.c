/*
 * queue: see queue.h. The consumer sleeps on a condition variable bound to
 * CLOCK_MONOTONIC (so its timer deadline is immune to wall clock jumps);
 * producers signal only when the consumer said it is waiting, which saves
 * the futex wake while the worker is busy draining.
 */
#include "queue.h"

#include "clock.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct sip_job *job_new(const char *data, size_t len, const struct sip_source *src)
{
	struct sip_job *job = malloc(sizeof(*job) + len + 1);

	if (!job)
		return NULL;
	job->next = NULL;
	job->src = *src;
	job->rx_ns = clock_now_ns();
	job->len = (uint32_t)len;
	job->truncated = false;
	memcpy(job->data, data, len);
	job->data[len] = '\0'; /* never relied on by the parser; eases debugging */
	return job;
}

void job_free(struct sip_job *job)
{
	free(job);
}

int queue_init(struct queue *q, unsigned depth)
{
	pthread_condattr_t attr;
	int rc;

	memset(q, 0, sizeof(*q));
	q->depth = depth;
	rc = pthread_mutex_init(&q->lock, NULL);
	if (rc)
		return -rc;
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	rc = pthread_cond_init(&q->cond, &attr);
	pthread_condattr_destroy(&attr);
	if (rc) {
		pthread_mutex_destroy(&q->lock);
		return -rc;
	}
	return 0;
}

void queue_destroy(struct queue *q)
{
	struct sip_job *j = q->head;

	while (j) {
		struct sip_job *next = j->next;
		job_free(j);
		j = next;
	}
	q->head = q->tail = NULL;
	pthread_cond_destroy(&q->cond);
	pthread_mutex_destroy(&q->lock);
}

int queue_push(struct queue *q, struct sip_job *job, bool force)
{
	bool wake;

	job->next = NULL;
	pthread_mutex_lock(&q->lock);
	if (q->closed) {
		pthread_mutex_unlock(&q->lock);
		return -EPIPE;
	}
	if (!force && q->count >= q->depth) {
		q->refused++;
		pthread_mutex_unlock(&q->lock);
		return -EBUSY;
	}
	if (q->tail)
		q->tail->next = job;
	else
		q->head = job;
	q->tail = job;
	q->count++;
	q->pushed++;
	wake = q->waiting;
	q->waiting = false;
	pthread_mutex_unlock(&q->lock);
	if (wake)
		pthread_cond_signal(&q->cond);
	return 0;
}

struct sip_job *queue_pop_all(struct queue *q, uint64_t deadline_ns, bool *closed)
{
	struct sip_job *list;

	pthread_mutex_lock(&q->lock);
	while (!q->head && !q->closed) {
		int rc;

		q->waiting = true;
		if (deadline_ns) {
			struct timespec ts = {.tv_sec = (time_t)(deadline_ns / 1000000000ULL),
					      .tv_nsec = (long)(deadline_ns % 1000000000ULL)};
			rc = pthread_cond_timedwait(&q->cond, &q->lock, &ts);
		} else {
			rc = pthread_cond_wait(&q->cond, &q->lock);
		}
		if (rc == ETIMEDOUT)
			break;
	}
	q->waiting = false;
	list = q->head;
	q->head = q->tail = NULL;
	q->count = 0;
	*closed = q->closed;
	pthread_mutex_unlock(&q->lock);
	return list;
}

void queue_close(struct queue *q)
{
	pthread_mutex_lock(&q->lock);
	q->closed = true;
	pthread_mutex_unlock(&q->lock);
	pthread_cond_broadcast(&q->cond);
}

unsigned queue_length(struct queue *q)
{
	unsigned n;

	pthread_mutex_lock(&q->lock);
	n = q->count;
	pthread_mutex_unlock(&q->lock);
	return n;
}
