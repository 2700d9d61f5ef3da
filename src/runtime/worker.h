/*
 * worker: the threads that run SIP logic to completion.
 *
 * Each worker owns one queue (dispatch.c fills it by Call-ID hash), its
 * counters, its scratch buffers and its database connection (store.h). It
 * takes the whole queue at once, parses each message into a stack sip_msg
 * over the job's bytes and hands it to the layers above through the hooks
 * main gave it (struct worker_app: the proxy core, proxy/core.c), which
 * either finish with it or keep the job while the database answers; a
 * completion then resumes it from the same loop. The runtime knows
 * nothing of transactions or proxying: the layers above reach a worker's
 * state (counters, scratch, timers, database, transaction layer) through
 * the accessors below, never through its fields. The loop sleeps in
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

#include "runtime/queue.h"
#include "runtime/sip_reply.h"
#include "sip/sip_msg.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct config;
struct counters;
struct dns;
struct msg_edits;
struct store;
struct timer_heap;
struct txn_layer;

/* A worker thread and its state; opaque: the layers above reach it through
 * the functions below. */
struct worker;

/*
 * What the SIP layers above the runtime do with what a worker runs, given
 * once by main (the proxy core, proxy/core.c: core_app). Each hook runs on
 * the worker's thread, or on a reader that holds the worker's state.
 */
struct worker_app {
	/* Per-worker state of the layers above, made and freed with the
	 * worker (e.g. its transaction layer). init returns 0 or -errno. */
	int (*init)(struct worker *w);
	void (*fini)(struct worker *w);
	/* A parsed request: returns true when the job was kept (a transaction
	 * or a database round trip owns it now). */
	bool (*request)(struct worker *w, struct sip_job *job, struct sip_msg *m);
	/* A parsed response (the job stays the runtime's). */
	void (*response)(struct worker *w, struct sip_msg *m);
	/* A request this worker sent that the transport handed back
	 * undelivered (sip_job.undelivered). */
	void (*undelivered)(struct worker *w, struct sip_msg *m);
	/* The end of a round of jobs: gauges. */
	void (*round_end)(struct worker *w);
	/* A final response of our own to request m went to src (worker_reply()):
	 * the access log's line for a transaction that never left. */
	void (*replied)(struct worker *w, struct sip_msg *m, const struct sip_source *src,
			unsigned status);
};

/* Creates and starts n workers running app (borrowed for the process's
 * life). Returns 0 or a negative errno. */
int workers_start(const struct config *cfg, unsigned n, const struct worker_app *app);
/* The queues of the workers, for dispatch_setup(). */
struct queue **workers_queues(void);
unsigned workers_count(void);
/* Messages waiting in worker i's queue (for monitoring, any thread). */
unsigned worker_queue_length(unsigned i);
/* Has every worker's database connection come up (true without one)? */
bool workers_db_up(void);
/* How long the most stalled worker has gone without finishing a round
 * while it had work (asleep waiting for work is never stalled), in ms, as
 * seen from this call's previous looks; *which gets that worker. For the
 * watchdog: one thread calls it, every second or so. */
uint64_t workers_stalled_ms(uint64_t now_ms, unsigned *which);
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

/* A final response of ours to m went to src by another way than
 * worker_reply() (a server transaction's): tells the app (its access log). */
void worker_replied(struct worker *w, struct sip_msg *m, const struct sip_source *src,
		    unsigned status);

/* 503 with Retry-After: the database is down or overloaded. */
void worker_reply_db_unavailable(struct worker *w, struct sip_msg *m, const struct sip_source *src);

/* ---- the per-worker state the layers above use (all borrowed) ---------- */

unsigned worker_index(const struct worker *w);
const struct config *worker_config(const struct worker *w);
/* This thread's counters. */
struct counters *worker_counters(struct worker *w);
/* The worker's database connections; NULL without a [database]. */
struct store *worker_store(struct worker *w);
/* The worker's timer heap (timers fire between rounds of jobs). */
struct timer_heap *worker_timers(struct worker *w);
/* The worker's DNS resolver (net/dns.h); its answers come back on the
 * worker's thread. Never NULL once the worker runs. */
struct dns *worker_dns(struct worker *w);
/* The transaction layer the app's init gave it (NULL: none, e.g. not
 * stateful); the runtime keeps the pointer and never looks inside. */
struct txn_layer *worker_txn(struct worker *w);
void worker_set_txn(struct worker *w, struct txn_layer *txn);
/* Scratch for the message being built and sent: worker_out_cap(w) bytes,
 * room for the largest message plus its edits. Valid until the next
 * message is built on this worker. */
char *worker_out(struct worker *w);
size_t worker_out_cap(const struct worker *w);
/* The edit list of the message being relayed (msg_edit.h). */
struct msg_edits *worker_edits(struct worker *w);
/* Parses buf[0..len) (borrowed) into m with a second header array, so a
 * request can be read while the message being run still holds the first
 * (a response to it). Returns 0 or a negative errno. */
int worker_parse_aside(struct worker *w, const char *buf, size_t len, struct sip_msg *m);
/* A value no other call on this worker has had: unique branch IDs. */
uint64_t worker_unique(struct worker *w);
/* A new Call-ID, "PREFIX-<unique>@<node name>", whose messages the
 * dispatcher brings back to this worker: for requests the worker sends on
 * its own (probes, registration events), so that their responses find
 * its transactions. Returns its length, or -EINVAL (no room) / -EAGAIN. */
int worker_call_id(struct worker *w, const char *prefix, char *buf, size_t cap);

/* Runs a kept job through the worker again from the start (after a cache
 * was filled); takes the job. */
void worker_resume(struct worker *w, struct sip_job *job);

/* Re-parses a job kept across a database round trip into m (using the
 * worker's header array). Returns 0 or a negative errno (never expected:
 * it parsed before). */
int worker_reparse(struct worker *w, struct sip_job *job, struct sip_msg *m);

#endif
