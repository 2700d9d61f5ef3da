/*
 * worker: the threads that run SIP logic to completion.
 *
 * Each worker owns one queue (dispatch.c fills it by Call-ID hash), its
 * counters, its scratch buffers and its database connection (store.h). It
 * takes the whole queue at once, parses each message into a stack sip_msg
 * over the job's bytes and hands it to the core (stateless.c), which
 * either finishes with it or keeps the job while the database answers; a
 * completion then resumes it from the same loop. The loop sleeps in
 * epoll(7) on the queue's eventfd and the database socket; worker 0 also
 * on the UDP sockets. Every worker reads UDP at each round it is awake
 * for, and a read that comes back full wakes one more worker to read
 * beside it: under load all of them read, and at a lower rate one thread
 * wakes per batch rather than one per datagram.
 *
 * A worker's state (its calls, timers, database connection, scratch) is
 * guarded by its `run` mutex, which its thread holds except while it
 * sleeps. A reader that finds a datagram of a sleeping worker's call
 * takes that worker's mutex (trylock) and runs the job itself on the
 * sleeper's state, sends what it produced, and wakes the sleeper only
 * when it must act sooner than it planned (an earlier timer, a database
 * socket to watch anew). A thread wake-up costs more than the job; a
 * worker that is awake gets its jobs queued as before. Nothing a worker
 * touches per message is shared with another worker without that mutex.
 * Measured on 2 cores at 3,200 calls/s: 0.4 thread sleeps per call, was
 * 1.1.
 */
#ifndef JCT_WORKER_H
#define JCT_WORKER_H

#include "runtime/counters.h"
#include "sip/msg_edit.h"
#include "runtime/queue.h"
#include "sip/sip_msg.h"
#include "runtime/sip_reply.h"
#include "store/store.h"
#include "runtime/timer.h"

#include <pthread.h>

struct config;
struct worker_claim;

struct worker {
	unsigned index;
	const struct config *cfg;
	struct queue queue;
	struct counters ctr;
	struct sip_hdr *hdrs;  /* parse scratch: cfg limits.max_headers entries */
	struct sip_hdr *hdrs2; /* a second one, for a request parsed while a response is */
	uint16_t max_hdrs;
	char *out; /* the message being sent */
	size_t out_cap;
	struct msg_edits edits;
	struct store *store;   /* NULL without a [database] */
	struct txn_layer *txn; /* NULL unless mode = stateful */
	struct timer_heap timers;
	uint64_t branch_seq; /* makes our branch IDs unique */
	int epfd;            /* what the worker sleeps on */
	struct udp_reader *udp;
	struct udp_tx *tx;           /* what a round sends over UDP (udp.h) */
	pthread_mutex_t run;         /* held while this worker's state is in use */
	uint64_t sleep_until_ms;     /* when it wakes by itself (UINT64_MAX: never); under run */
	struct worker_claim *claims; /* per other worker: jobs this reader runs for it */
	bool udp_on;                 /* reads the UDP sockets (worker 0 sleeps on them too) */
	/* the database sockets as registered in epfd, one per connection */
	int store_fd[STORE_MAX_CONNS];
	short store_events[STORE_MAX_CONNS];
	unsigned store_serial;
	pthread_t thread;
	bool started;
};

/* Creates and starts n workers. Returns 0 or a negative errno. */
int workers_start(const struct config *cfg, unsigned n);
/* The queues of the workers, for dispatch_setup(). */
struct queue **workers_queues(void);
unsigned workers_count(void);
/* Messages waiting in worker i's queue (for monitoring, any thread). */
unsigned worker_queue_length(unsigned i);
/* Has every worker's database connection come up (true without one)? */
bool workers_db_up(void);
/* Starts (on) or stops the workers' reading of the UDP sockets; on once
 * dispatch is set up and the listeners are open. */
void workers_read_udp(bool on);
/* Closes the queues, lets the workers drain them, and joins them; gives up
 * after timeout_ms. Returns 0, or -ETIMEDOUT when a worker did not finish. */
int workers_stop(unsigned timeout_ms);

/* Sends buf[0..len) to d and counts it. Returns 0 or a negative errno. */
int worker_send(struct worker *w, const struct sip_dest *d, const char *buf, size_t len);
/* The same for a message nobody waits on the result of (a response): over
 * UDP it leaves with the round's batch (transport_send_later()). */
int worker_send_later(struct worker *w, const struct sip_dest *d, const char *buf, size_t len);

/* Answers the request m (from src) with status; never answers an ACK.
 * reason NULL: the standard phrase; extra: header lines or NULL. */
void worker_reply(struct worker *w, struct sip_msg *m, const struct sip_source *src,
		  unsigned status, const char *reason, const char *extra);
/* The same with a whole sip_reply (body, To tag). */
void worker_reply_full(struct worker *w, struct sip_msg *m, const struct sip_source *src,
		       const struct sip_reply *r);
/* Answers through server transaction st (which keeps it for
 * retransmissions): built from m, the transaction's request. */
struct stx;
void worker_reply_stx(struct worker *w, struct stx *st, struct sip_msg *m, unsigned status,
		      const char *reason, const char *extra);

/* 503 with Retry-After: the database is down or overloaded. */
void worker_reply_db_unavailable(struct worker *w, struct sip_msg *m, const struct sip_source *src);

/* Runs a kept job through the worker again from the start (after a cache
 * was filled); takes the job. */
void worker_resume(struct worker *w, struct sip_job *job);

/* Re-parses a job kept across a database round trip into m (using the
 * worker's header array). Returns 0 or a negative errno (never expected:
 * it parsed before). */
int worker_reparse(struct worker *w, struct sip_job *job, struct sip_msg *m);

#endif
