/*
 * queue: see queue.h. The eventfd is written only when the consumer said
 * it is going to sleep, which saves a system call per push while the
 * worker is busy draining.
 */
#include "runtime/queue.h"

#include "base/clock.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

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
	job->replays = 0;
	job->dialog_asked = false;
	job->trying_sent = false;
	job->undelivered = false;
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
	int rc;

	memset(q, 0, sizeof(*q));
	q->depth = depth;
	q->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (q->efd < 0)
		return -errno;
	rc = pthread_mutex_init(&q->lock, NULL);
	if (rc) {
		close(q->efd);
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
	pthread_mutex_destroy(&q->lock);
	close(q->efd);
}

static void wake(struct queue *q)
{
	uint64_t one = 1;

	/* EAGAIN: the counter is saturated, the consumer wakes anyway. */
	(void)!write(q->efd, &one, sizeof(one));
}

int queue_push(struct queue *q, struct sip_job *job, bool force)
{
	bool do_wake;

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
	do_wake = q->waiting;
	q->waiting = false;
	pthread_mutex_unlock(&q->lock);
	if (do_wake)
		wake(q);
	return 0;
}

struct sip_job *queue_take(struct queue *q, bool *closed)
{
	struct sip_job *list;

	pthread_mutex_lock(&q->lock);
	list = q->head;
	q->head = q->tail = NULL;
	q->count = 0;
	*closed = q->closed;
	pthread_mutex_unlock(&q->lock);
	return list;
}

bool queue_sleep_begin(struct queue *q)
{
	bool sleep;

	pthread_mutex_lock(&q->lock);
	sleep = !q->head && !q->closed;
	q->waiting = sleep;
	pthread_mutex_unlock(&q->lock);
	return sleep;
}

void queue_sleep_end(struct queue *q)
{
	uint64_t v;

	pthread_mutex_lock(&q->lock);
	q->waiting = false;
	pthread_mutex_unlock(&q->lock);
	(void)!read(q->efd, &v, sizeof(v));
}

bool queue_wake(struct queue *q)
{
	bool sleeping;

	pthread_mutex_lock(&q->lock);
	sleeping = q->waiting;
	q->waiting = false;
	pthread_mutex_unlock(&q->lock);
	if (sleeping)
		wake(q);
	return sleeping;
}

void queue_poke(struct queue *q)
{
	wake(q);
}

int queue_fd(const struct queue *q)
{
	return q->efd;
}

struct sip_job *queue_pop_all(struct queue *q, uint64_t deadline_ns, bool *closed)
{
	for (;;) {
		struct sip_job *list = queue_take(q, closed);
		struct pollfd pfd = {.fd = q->efd, .events = POLLIN};
		int timeout = -1;

		if (list || *closed)
			return list;
		if (deadline_ns) {
			uint64_t now = clock_now_ns();
			if (now >= deadline_ns)
				return NULL;
			timeout = (int)((deadline_ns - now + 999999) / 1000000);
		}
		if (queue_sleep_begin(q)) {
			(void)poll(&pfd, 1, timeout);
			queue_sleep_end(q);
		}
	}
}

void queue_close(struct queue *q)
{
	pthread_mutex_lock(&q->lock);
	q->closed = true;
	pthread_mutex_unlock(&q->lock);
	wake(q);
}

bool queue_closed(struct queue *q)
{
	bool closed;

	pthread_mutex_lock(&q->lock);
	closed = q->closed;
	pthread_mutex_unlock(&q->lock);
	return closed;
}

unsigned queue_length(struct queue *q)
{
	unsigned n;

	pthread_mutex_lock(&q->lock);
	n = q->count;
	pthread_mutex_unlock(&q->lock);
	return n;
}
