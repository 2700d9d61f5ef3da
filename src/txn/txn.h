/*
 * txn: the transaction layer (RFC 3261 §17) of one worker.
 *
 * Server transactions (txn_server.c) absorb request retransmissions and
 * retransmit their last response; client transactions (txn_client.c)
 * retransmit requests over UDP, time out (408), absorb response
 * retransmissions and ACK non-2xx final responses hop by hop. Both live in
 * one hash table per worker (every message of a call reaches the same
 * worker, so no locks) and run their timers A-K on the worker's timer heap.
 *
 * The transaction user (the proxy core) sees a server transaction through
 * stx_respond() and its callbacks, and each client transaction through the
 * ops it registers. Ownership: the layer owns every transaction; the TU
 * holds pointers until the layer's on_done callback says one is gone.
 */
#ifndef JCT_TXN_H
#define JCT_TXN_H

#include "net/transport.h"
#include "runtime/queue.h"
#include "runtime/timer.h"
#include "sip/sip_msg.h"

#include <stdbool.h>
#include <stdint.h>

struct txn_layer;
struct stx;
struct ctx;
struct worker;

/* RFC 3261 §17 timer base values, milliseconds. */
struct txn_timers {
	unsigned t1, t2, t4;
};

/* ---- server transactions ---------------------------------------------- */

enum stx_state {
	STX_TRYING,
	STX_PROCEEDING,
	STX_ACCEPTED, /* RFC 6026: a 2xx was sent; INVITE retransmissions absorbed */
	STX_COMPLETED,
	STX_CONFIRMED,
	STX_TERMINATED
};

struct stx_ops {
	/* The transaction is gone (terminated, or the layer is shutting down).
	 * After this the TU must not touch it. */
	void (*done)(void *tu, struct stx *st);
};

/* The server transaction this request belongs to (§17.2.3; an ACK finds
 * its INVITE), or NULL. m must be the parsed request. */
struct stx *stx_find(struct txn_layer *l, struct sip_msg *m);
/* The INVITE server transaction a CANCEL refers to (§9.2), or NULL. */
struct stx *stx_find_cancelled(struct txn_layer *l, struct sip_msg *m);
/* A new server transaction for request m; takes job. Returns NULL (job
 * not taken) when the layer is full (-EBUSY) or out of memory. */
struct stx *stx_new(struct txn_layer *l, struct sip_job *job, struct sip_msg *m,
		    const struct stx_ops *ops, void *tu, int *err);
/* Sends a response (buf copied) and moves the state machine (§17.2.1,
 * §17.2.2, RFC 6026 for a 2xx to INVITE: Accepted for Timer L, further
 * 2xx pass through). Returns 0 or the transport's error. */
int stx_respond(struct stx *st, const char *buf, size_t len, unsigned status, uint64_t now_ms);
/* The same for a provisional response already sent for the request
 * before its transaction existed: kept (buf copied) for retransmissions
 * of the request (§17.2.1), not sent again. */
void stx_provisional_sent(struct stx *st, const char *buf, size_t len, unsigned status);
/* Answers through st (which keeps the response for retransmissions) with
 * a response of our own to m, its request, built in w's scratch and
 * counted in w's counters. */
void stx_reply(struct stx *st, struct worker *w, struct sip_msg *m, unsigned status,
	       const char *reason, const char *extra);
/* What the TU reads of a server transaction: the request as received
 * (borrowed; NULL once Completed), where it came from, its method, its
 * state; and the TU's own pointer. stx_set_user() replaces ops and tu
 * (NULL, NULL: the transaction lingers on alone). */
const struct sip_job *stx_request(const struct stx *st);
const struct sip_source *stx_source(const struct stx *st);
enum sip_method stx_method(const struct stx *st);
enum stx_state stx_state(const struct stx *st);
void *stx_user(const struct stx *st);
void stx_set_user(struct stx *st, const struct stx_ops *ops, void *tu);
/* A retransmission of the request arrived: resend the last response. */
void stx_retransmitted(struct stx *st);
/* The ACK for a non-2xx final response arrived (§17.2.1). */
void stx_acked(struct stx *st, uint64_t now_ms);

/* ---- client transactions ---------------------------------------------- */

enum ctx_state { CTX_CALLING, CTX_PROCEEDING, CTX_COMPLETED, CTX_TERMINATED };

struct ctx_ops {
	/* A response to pass up (§17.1.1.2, §17.1.2.2): every provisional and
	 * the first final; retransmissions are absorbed. m is parsed; the
	 * transaction may be terminated right after (2xx to INVITE). */
	void (*response)(void *tu, struct ctx *c, struct sip_msg *m, uint64_t now_ms);
	/* Timer B/F fired or the transport failed: status 408 or 503 (§17.1.1.2,
	 * §17.1.4), as if the next hop had answered it. */
	void (*failed)(void *tu, struct ctx *c, unsigned status, uint64_t now_ms);
	/* The transaction is gone. */
	void (*done)(void *tu, struct ctx *c);
};

/* Sends request buf[0..len) (copied) to dest as a new client transaction
 * whose top Via carries branch. Returns the transaction, or NULL with *err
 * (-EBUSY when full). A send failure is not an error here: ops->failed is
 * called with 503 from the next timer run. */
struct ctx *ctx_send(struct txn_layer *l, const char *buf, size_t len, const struct sip_dest *dest,
		     enum sip_method method, const char *branch, const struct ctx_ops *ops,
		     void *tu, uint64_t now_ms, int *err);
/* The CANCEL of c's request (§9.1: its Request-URI, top Via, Route, From,
 * To, Call-ID and CSeq number), sized to the request: 0 with *out a new
 * block of *len bytes the caller frees, or -ENOMEM / -EBADMSG, which is
 * logged (event=cancel_not_sent) and counted (txn_layer_hop_failures). */
int ctx_build_cancel(struct ctx *c, char **out, size_t *len);
/* The client transaction a response belongs to (§17.1.3), or NULL. */
struct ctx *ctx_find(struct txn_layer *l, struct sip_msg *m);
/* The transport handed back request m, sent by a client transaction of
 * this layer, undelivered (a refused connection): that transaction, if
 * it has had no response yet, fails with 503 now (§17.1.4). */
void ctx_undelivered(struct txn_layer *l, struct sip_msg *m, uint64_t now_ms);
/* What the TU reads of a client transaction: the request as sent
 * (borrowed, *len set), where it went, its branch and its state. */
const char *ctx_request(const struct ctx *c, size_t *len);
const struct sip_dest *ctx_dest(const struct ctx *c);
const char *ctx_branch(const struct ctx *c);
enum ctx_state ctx_state(const struct ctx *c);
/* Feeds a response to its transaction (§17.1.1, §17.1.2). */
void ctx_response(struct ctx *c, struct sip_msg *m, uint64_t now_ms);
/* Gives up on a transaction without waiting (its TU is finished with it):
 * timers stop, done is called. */
void ctx_abandon(struct ctx *c);

/* ---- the layer ---------------------------------------------------------- */

struct txn_layer *txn_layer_new(const struct txn_timers *timers, unsigned max_transactions,
				struct timer_heap *th);
/* Terminates every transaction (done callbacks run) and frees the layer. */
void txn_layer_free(struct txn_layer *l);
unsigned txn_layer_count(const struct txn_layer *l);
const struct txn_timers *txn_layer_timers(const struct txn_layer *l);
/* Counters: transactions created and currently alive, per kind. */
struct txn_stats {
	uint64_t server_created, client_created, timeouts, retransmissions;
	uint64_t evicted; /* lingering transactions ended early to make room */
	unsigned server_alive, client_alive;
};
void txn_layer_stats(const struct txn_layer *l, struct txn_stats *out);
/* CANCELs that could not be built and hop-by-hop ACKs that could not be
 * built or sent (logged as event=cancel_not_sent / ack_not_sent): zero
 * unless out of memory. A CANCEL refused by ctx_send() is its caller's to
 * log and count. */
uint64_t txn_layer_hop_failures(const struct txn_layer *l);

#endif
