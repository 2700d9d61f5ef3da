/*
 * queue: the bounded work queue of one worker, and the job it carries.
 *
 * Readers (the TCP thread, workers reading UDP) push received messages
 * (jobs) through dispatch.c; one worker pops them.
 * Every message of a call hashes to the same worker (dispatch.c), so a
 * worker owns its calls' state without locks and sees their messages in
 * order. The queue is a mutex-protected intrusive list: the worker takes
 * the whole list in one lock and processes it outside the lock, so the
 * lock is held for a few instructions per batch, not per message. A
 * sleeping worker waits in epoll(7) on the queue's eventfd together with
 * its database sockets (and, for worker 0, the UDP sockets); a producer
 * writes the eventfd only when the worker said it is going to sleep.
 *
 * Bound: requests beyond `depth` are refused (the caller answers 503);
 * responses and ACKs are always accepted (forced), because dropping them
 * would break transactions that are already under way and they cannot
 * be answered with a 503 anyway.
 */
#ifndef JCT_QUEUE_H
#define JCT_QUEUE_H

#include "net/transport.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

/* One received message, owned by whoever holds it: the listener until
 * queue_push() succeeds, then the queue, then the worker that popped it,
 * which frees it with job_free(). */
struct sip_job {
	struct sip_job *next;
	struct sip_source src;
	uint64_t rx_ns; /* CLOCK_MONOTONIC at receive */
	uint32_t len;
	bool truncated;    /* datagram was larger than the buffer */
	uint8_t replays;   /* times run again after a database fetch */
	bool dialog_asked; /* the session storage was asked about its dialog (affinity.h) */
	bool trying_sent;  /* an INVITE answered 100 statelessly while that was asked */
	bool trusted;      /* from a trusted source or a Session Controller (core.c) */
	/* A request of ours that the transport could not deliver (its
	 * connection was refused), handed back to the worker that sent it
	 * so the client transaction fails at once (RFC 3261 §17.1.4,
	 * §18.1.1); not a received message. */
	bool undelivered;
	char data[];
};

/* Allocates a job holding a copy of data[0..len). NULL when out of memory. */
struct sip_job *job_new(const char *data, size_t len, const struct sip_source *src);
void job_free(struct sip_job *job);

struct queue {
	pthread_mutex_t lock;
	int efd; /* eventfd: readable when the sleeping consumer has work */
	struct sip_job *head, *tail;
	unsigned count;
	unsigned depth;
	bool waiting; /* consumer is (about to be) asleep: wake it on push */
	bool closed;
	uint64_t pushed, refused; /* under lock */
} __attribute__((aligned(64)));

int queue_init(struct queue *q, unsigned depth);
/* Frees any jobs still queued. */
void queue_destroy(struct queue *q);

/* Takes job. Returns 0, or -EBUSY when full and !force (job not taken),
 * or -EPIPE when the queue is closed (job not taken). */
int queue_push(struct queue *q, struct sip_job *job, bool force);

/* Takes every queued job without waiting: the list head in arrival order,
 * now owned by the caller, or NULL. *closed: the queue was closed. */
struct sip_job *queue_take(struct queue *q, bool *closed);

/*
 * Sleeping, for a consumer that also waits on other descriptors:
 * queue_sleep_begin() returns true when the queue is empty and open, and
 * from then on a push makes queue_fd() readable; the consumer polls it
 * (with its own descriptors and timeout) and then calls queue_sleep_end().
 * When it returns false there is work (or the queue closed): do not sleep.
 */
bool queue_sleep_begin(struct queue *q);
void queue_sleep_end(struct queue *q);
int queue_fd(const struct queue *q);
/* Wakes the consumer if it sleeps (queue_sleep_begin()); returns whether
 * it did. */
bool queue_wake(struct queue *q);
/* Makes queue_fd() readable, so the consumer wakes and looks around
 * (it reads the eventfd back in queue_sleep_end()). */
void queue_poke(struct queue *q);

/*
 * Takes every queued job, waiting when there is none until a push, the
 * absolute CLOCK_MONOTONIC deadline (0: none), or close. Returns NULL on
 * timeout or when closed and empty (*closed tells which).
 */
struct sip_job *queue_pop_all(struct queue *q, uint64_t deadline_ns, bool *closed);

/* Wakes the consumer and refuses further pushes; queued jobs stay to be
 * drained. */
void queue_close(struct queue *q);

/* Has queue_close() been called? */
bool queue_closed(struct queue *q);

/* Current length (racy, for monitoring). */
unsigned queue_length(struct queue *q);

#endif
