/*
 * txn_server: server transactions (RFC 3261 §17.2).
 *
 * INVITE (§17.2.1 as amended by RFC 6026): Proceeding until a final
 * response; a 2xx moves it to Accepted for Timer L (64*T1), where INVITE
 * retransmissions are absorbed and further 2xx (other forks) pass through,
 * while 2xx retransmission stays the UAS's business, end to end; 3xx-6xx
 * move to Completed, retransmitted over UDP with Timer G until the ACK
 * (then Confirmed, Timer I) or Timer H. Non-INVITE (§17.2.2): Trying, Proceeding
 * on a provisional, Completed on a final, kept for Timer J to answer
 * retransmissions. Once Completed a transaction drops the request it held
 * and keeps only its key and last response, so lingering transactions cost
 * a few hundred bytes each.
 */
#include "txn/txn_internal.h"

#include "base/clock.h"
#include "base/log.h"
#include "runtime/counters.h"
#include "runtime/sip_reply.h"
#include "runtime/worker.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static void stx_unlink(struct stx *st)
{
	struct txn_layer *l = st->layer;
	struct stx **pp = &l->stx_buckets[st->hash & l->mask];

	for (; *pp; pp = &(*pp)->hnext) {
		if (*pp == st) {
			*pp = st->hnext;
			break;
		}
	}
	l->stx_alive--;
}

/* The lingering list's timer: ends every transaction whose Timer J or L
 * is due, then waits for the next. */
static void on_linger(struct timer *t, void *arg, uint64_t now_ms)
{
	struct txn_layer *l = arg;

	while (l->linger_head && l->linger_head->linger_end_ms <= now_ms)
		stx_destroy(l->linger_head);
	if (l->linger_head)
		(void)timer_start(l->th, t, l->linger_head->linger_end_ms, on_linger, l);
}

/* Timer J or L (64*T1 over UDP) with nothing else to do. Every one lasts
 * the same, so a list in the order they started is also the order they
 * end: one timer for the whole list rather than one per transaction on
 * the heap (which at thousands of calls per second holds hundreds of
 * thousands of them). The oldest is also the first to go when the table
 * is full (txn_make_room). */
static void linger_start(struct stx *st, uint64_t now_ms)
{
	struct txn_layer *l = st->layer;

	st->lingering = true;
	st->linger_end_ms = now_ms + 64ULL * l->timers.t1;
	st->lnext = NULL;
	st->lprev = l->linger_tail;
	if (l->linger_tail)
		l->linger_tail->lnext = st;
	else
		l->linger_head = st;
	l->linger_tail = st;
	if (!timer_running(&l->linger_timer))
		(void)timer_start(l->th, &l->linger_timer, st->linger_end_ms, on_linger, l);
}

static void linger_stop(struct stx *st)
{
	struct txn_layer *l = st->layer;

	if (!st->lingering)
		return;
	if (st->lprev)
		st->lprev->lnext = st->lnext;
	else
		l->linger_head = st->lnext;
	if (st->lnext)
		st->lnext->lprev = st->lprev;
	else
		l->linger_tail = st->lprev;
	st->lingering = false;
	if (!l->linger_head)
		timer_stop(l->th, &l->linger_timer);
}

void stx_destroy(struct stx *st)
{
	struct txn_layer *l = st->layer;

	timer_stop(l->th, &st->t_retrans);
	timer_stop(l->th, &st->t_end);
	linger_stop(st);
	stx_unlink(st);
	st->state = STX_TERMINATED;
	if (st->ops && st->ops->done)
		st->ops->done(st->tu, st);
	if (st->req)
		job_free(st->req);
	free(st->key);
	free(st->resp);
	free(st);
}

static bool reliable(const struct stx *st)
{
	return sip_proto_is_stream(st->src.proto);
}

static void send_last(struct stx *st)
{
	if (st->resp)
		(void)transport_send_later(&st->resp_dest, st->resp, st->resp_len);
}

static void on_end(struct timer *t, void *arg, uint64_t now_ms)
{
	struct stx *st = arg;

	(void)t;
	(void)now_ms;
	/* Timer H without an ACK is worth a line: the UAC never confirmed. */
	if (st->state == STX_COMPLETED && st->invite)
		log_debug("event=txn_timeout timer=H status=%u", st->resp_status);
	stx_destroy(st);
}

static void on_retrans(struct timer *t, void *arg, uint64_t now_ms)
{
	struct stx *st = arg;
	const struct txn_timers *tm = &st->layer->timers;

	/* Timer G (§17.2.1): resend, double, cap at T2. */
	send_last(st);
	st->layer->retransmissions++;
	st->g_ms = st->g_ms * 2 < tm->t2 ? st->g_ms * 2 : tm->t2;
	(void)timer_start(st->layer->th, t, now_ms + st->g_ms, on_retrans, st);
}

struct stx *stx_find(struct txn_layer *l, struct sip_msg *m)
{
	char key[TXN_KEY_MAX];
	int n = txn_server_key(m, m->method_id == SIP_METHOD_ACK, key, sizeof(key));
	uint64_t h;

	if (n < 0)
		return NULL;
	h = txn_hash(key, (size_t)n);
	for (struct stx *st = l->stx_buckets[h & l->mask]; st; st = st->hnext)
		if (st->hash == h && st->key_len == n && memcmp(st->key, key, (size_t)n) == 0)
			return st;
	return NULL;
}

struct stx *stx_find_cancelled(struct txn_layer *l, struct sip_msg *m)
{
	char key[TXN_KEY_MAX];
	int n = txn_server_key(m, true, key, sizeof(key));
	uint64_t h;

	if (n < 0)
		return NULL;
	h = txn_hash(key, (size_t)n);
	for (struct stx *st = l->stx_buckets[h & l->mask]; st; st = st->hnext)
		if (st->hash == h && st->key_len == n && memcmp(st->key, key, (size_t)n) == 0 &&
		    st->invite)
			return st;
	return NULL;
}

struct stx *stx_new(struct txn_layer *l, struct sip_job *job, struct sip_msg *m,
		    const struct stx_ops *ops, void *tu, int *err)
{
	char key[TXN_KEY_MAX];
	int n = txn_server_key(m, false, key, sizeof(key));
	struct stx *st;
	size_t b;

	if (n < 0) {
		*err = n;
		return NULL;
	}
	if (!txn_make_room(l)) {
		*err = -EBUSY;
		return NULL;
	}
	st = calloc(1, sizeof(*st));
	if (!st || !(st->key = malloc((size_t)n))) {
		free(st);
		*err = -ENOMEM;
		return NULL;
	}
	if (transport_response_dest(sip_msg_top_via(m), &job->src, &st->resp_dest) < 0) {
		free(st->key);
		free(st);
		*err = -EHOSTUNREACH;
		return NULL;
	}
	memcpy(st->key, key, (size_t)n);
	st->key_len = (uint16_t)n;
	st->hash = txn_hash(key, (size_t)n);
	st->layer = l;
	st->invite = m->method_id == SIP_METHOD_INVITE;
	st->method = m->method_id;
	st->state = st->invite ? STX_PROCEEDING : STX_TRYING;
	st->req = job;
	st->src = job->src;
	st->ops = ops;
	st->tu = tu;
	b = st->hash & l->mask;
	st->hnext = l->stx_buckets[b];
	l->stx_buckets[b] = st;
	l->stx_alive++;
	l->stx_created++;
	return st;
}

/* The last response, for retransmissions of the request; a provisional
 * one moves Trying to Proceeding. */
static void keep_response(struct stx *st, const char *buf, size_t len, unsigned status)
{
	char *copy = realloc(st->resp, len);

	if (copy) {
		memcpy(copy, buf, len);
		st->resp = copy;
		st->resp_len = (uint32_t)len;
	}
	st->resp_status = status;
	if (status < 200 && st->state == STX_TRYING)
		st->state = STX_PROCEEDING;
}

void stx_provisional_sent(struct stx *st, const char *buf, size_t len, unsigned status)
{
	if (status < 200 && (st->state == STX_TRYING || st->state == STX_PROCEEDING))
		keep_response(st, buf, len, status);
}

int stx_respond(struct stx *st, const char *buf, size_t len, unsigned status, uint64_t now_ms)
{
	const struct txn_timers *tm = &st->layer->timers;
	int rc;

	if (st->state == STX_ACCEPTED && status >= 200 && status < 300)
		return transport_send_later(&st->resp_dest, buf, len); /* RFC 6026 §7.1 */
	if (st->state == STX_ACCEPTED || st->state == STX_COMPLETED || st->state == STX_CONFIRMED ||
	    st->state == STX_TERMINATED)
		return -EALREADY; /* one final response per transaction */
	rc = transport_send_later(&st->resp_dest, buf, len);
	if (st->invite && status >= 200 && status < 300) {
		/* RFC 6026 §7.1: Accepted until Timer L; nothing to resend. */
		st->state = STX_ACCEPTED;
		st->resp_status = status;
		free(st->resp);
		st->resp = NULL;
		if (st->req) {
			job_free(st->req);
			st->req = NULL;
		}
		linger_start(st, now_ms);
		return rc;
	}
	keep_response(st, buf, len, status);
	if (status < 200)
		return rc;
	st->state = STX_COMPLETED;
	/* The request is no longer needed to answer anything. */
	if (st->req) {
		job_free(st->req);
		st->req = NULL;
	}
	if (st->invite) {
		if (!reliable(st)) {
			st->g_ms = tm->t1;
			(void)timer_start(st->layer->th, &st->t_retrans, now_ms + tm->t1,
					  on_retrans, st);
		}
		(void)timer_start(st->layer->th, &st->t_end, now_ms + 64ULL * tm->t1, on_end, st);
	} else {
		/* Timer J: 64*T1 over UDP to absorb retransmissions, 0 otherwise. */
		if (reliable(st))
			(void)timer_start(st->layer->th, &st->t_end, now_ms, on_end, st);
		else
			linger_start(st, now_ms);
	}
	return rc;
}

void stx_retransmitted(struct stx *st)
{
	/* §17.2.1/§17.2.2: the last provisional or final goes again; in
	 * Trying (nothing sent yet) and Accepted (RFC 6026) the
	 * retransmission is just absorbed. */
	if (st->state == STX_PROCEEDING || st->state == STX_COMPLETED) {
		send_last(st);
		st->layer->retransmissions++;
	}
}

void stx_acked(struct stx *st, uint64_t now_ms)
{
	const struct txn_timers *tm = &st->layer->timers;

	if (!st->invite || st->state != STX_COMPLETED)
		return; /* absorbed in Confirmed (§17.2.1) */
	st->state = STX_CONFIRMED;
	timer_stop(st->layer->th, &st->t_retrans);
	/* Timer I: T4 over UDP (absorb ACK retransmissions), 0 otherwise. */
	(void)timer_start(st->layer->th, &st->t_end, now_ms + (reliable(st) ? 0 : tm->t4), on_end,
			  st);
}

void stx_reply(struct stx *st, struct worker *w, struct sip_msg *m, unsigned status,
	       const char *reason, const char *extra)
{
	struct sip_reply r = {.status = status, .reason = reason, .extra = extra};
	struct counters *ctr = worker_counters(w);
	ssize_t n = sip_reply_build(m, &st->src, &r, worker_out(w), worker_out_cap(w));

	if (n < 0) {
		ctr_inc(ctr, CTR_DROPPED);
		return;
	}
	/* before it goes: a final response frees the request m points into */
	worker_replied(w, m, &st->src, status);
	if (stx_respond(st, worker_out(w), (size_t)n, status, clock_now_ms()) < 0)
		ctr_inc(ctr, CTR_TX_ERRORS);
	ctr_local_reply_sent(ctr, status, (uint64_t)n);
}

const struct sip_job *stx_request(const struct stx *st)
{
	return st->req;
}

const struct sip_source *stx_source(const struct stx *st)
{
	return &st->src;
}

enum sip_method stx_method(const struct stx *st)
{
	return st->method;
}

enum stx_state stx_state(const struct stx *st)
{
	return st->state;
}

void *stx_user(const struct stx *st)
{
	return st->tu;
}

void stx_set_user(struct stx *st, const struct stx_ops *ops, void *tu)
{
	st->ops = ops;
	st->tu = tu;
}
