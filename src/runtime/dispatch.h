/*
 * dispatch: from a reader thread to a worker's queue.
 *
 * A reader (the TCP thread, a worker reading UDP) hands every received
 * message here, through the transport's sink (dispatch_sink). dispatch
 * finds the Call-ID with a cheap scan (no parse), picks the shard from a
 * keyed SipHash of it reduced to [0, workers) by a multiply-shift, so
 * every message of a call reaches the same worker and no client can aim
 * its calls at one worker, and pushes. When the shard is full a request
 * is answered 503 with Retry-After right here in the reader's thread (RFC
 * 3261 §21.5.4); responses, ACKs and requests handed back undelivered are
 * always queued: dropping them would break transactions already under
 * way.
 *
 * A reader that is itself a worker may run another shard's jobs instead
 * of queueing them (dispatch_ctx_set_claim(), worker.c): when that shard's
 * worker sleeps, waking it would cost more than the job.
 */
#ifndef JCT_DISPATCH_H
#define JCT_DISPATCH_H

#include "net/sink.h"
#include "runtime/counters.h"
#include "runtime/queue.h"

struct config;
struct dispatch_ctx;

/* queues[0..n) are borrowed for the life of the process. */
void dispatch_setup(const struct config *cfg, struct queue **queues, unsigned n);

/* A listener thread's private context (counters, scratch buffers for
 * answers it sends itself). Never freed: its counters stay readable. */
struct dispatch_ctx *dispatch_ctx_new(void);
struct counters *dispatch_counters(struct dispatch_ctx *ctx);

/* claim(arg, shard, job) either takes job and returns true, or returns
 * false and leaves it to be queued. arg is borrowed for the ctx's life. */
typedef bool (*dispatch_claim_fn)(void *arg, unsigned shard, struct sip_job *job);
void dispatch_ctx_set_claim(struct dispatch_ctx *ctx, dispatch_claim_fn claim, void *arg);

/* Takes job: hands it to the claim function, queues it on its shard or
 * answers/drops it. */
void dispatch_job(struct dispatch_ctx *ctx, struct sip_job *job);

/* The worker whose queue the messages of call_id go to: a worker that
 * starts a call of its own (an OPTIONS probe) picks a Call-ID that comes
 * back to itself. */
unsigned dispatch_shard_of_call_id(struct sip_str call_id);

/* The transport's sink (net/sink.h) for a reader thread whose ctx is a
 * dispatch_ctx: each message becomes a job for dispatch_job(). */
extern const struct sink dispatch_sink;

/* Answers the request in buf[0..len) (borrowed) from the listener thread
 * with status (and reason, NULL for the standard phrase); drops it when it
 * is a response, an ACK, or too broken to address. For overload and for
 * stream framing errors. */
void dispatch_reject(struct dispatch_ctx *ctx, const char *buf, size_t len,
		     const struct sip_source *src, unsigned status, const char *reason,
		     const char *extra);

#endif
