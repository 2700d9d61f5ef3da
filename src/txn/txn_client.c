/*
 * txn_client: client transactions (RFC 3261 §17.1).
 *
 * INVITE (§17.1.1): Calling, retransmitted over UDP by Timer A (doubling),
 * given up by Timer B (64*T1, reported as 408); Proceeding after a
 * provisional; a 2xx is passed up and ends it (the ACK for a 2xx is the
 * UAC's, end to end); 3xx-6xx are ACKed here, hop by hop, and absorbed in
 * Completed until Timer D. Non-INVITE (§17.1.2): Trying/Proceeding with
 * Timer E (doubling up to T2) and Timer F, Completed for Timer K.
 *
 * The CANCEL and the ACK are built by txn_build.c from the request as sent
 * (c->req), to its size: a request near the configured header or line
 * limits gets them like any other. Should one still not go out (memory,
 * the transport), that is logged (event=cancel_not_sent, ack_not_sent)
 * and counted in the layer (txn_layer_hop_failures), never silent: the
 * callee would ring on, or retransmit its final response until Timer H.
 */
#include "txn/txn_build.h"
#include "txn/txn_internal.h"

#include "base/log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool reliable(const struct ctx *c)
{
	return sip_proto_is_stream(c->dest.proto);
}

static void ctx_unlink(struct ctx *c)
{
	struct txn_layer *l = c->layer;
	struct ctx **pp = &l->ctx_buckets[c->hash & l->mask];

	for (; *pp; pp = &(*pp)->hnext) {
		if (*pp == c) {
			*pp = c->hnext;
			break;
		}
	}
	l->ctx_alive--;
}

void ctx_destroy(struct ctx *c)
{
	struct txn_layer *l = c->layer;

	timer_stop(l->th, &c->t_retrans);
	timer_stop(l->th, &c->t_timeout);
	timer_stop(l->th, &c->t_end);
	ctx_unlink(c);
	c->state = CTX_TERMINATED;
	if (c->ops && c->ops->done)
		c->ops->done(c->tu, c);
	free(c->req);
	free(c->name);
	free(c);
}

void ctx_abandon(struct ctx *c)
{
	ctx_destroy(c);
}

static void on_end(struct timer *t, void *arg, uint64_t now_ms)
{
	(void)t;
	(void)now_ms;
	ctx_destroy(arg);
}

/* Timer B / F, or a send failure: the TU hears a 408 or 503. */
static void fail(struct ctx *c, unsigned status, uint64_t now_ms)
{
	timer_stop(c->layer->th, &c->t_retrans);
	timer_stop(c->layer->th, &c->t_timeout);
	c->state = CTX_TERMINATED;
	if (c->ops && c->ops->failed)
		c->ops->failed(c->tu, c, status, now_ms);
	ctx_destroy(c);
}

static void on_timeout(struct timer *t, void *arg, uint64_t now_ms)
{
	struct ctx *c = arg;

	(void)t;
	c->layer->timeouts++;
	fail(c, 408, now_ms);
}

static void on_send_failed(struct timer *t, void *arg, uint64_t now_ms)
{
	(void)t;
	fail(arg, 503, now_ms);
}

static void on_retrans(struct timer *t, void *arg, uint64_t now_ms)
{
	struct ctx *c = arg;
	const struct txn_timers *tm = &c->layer->timers;

	(void)transport_send_later(&c->dest, c->req, c->req_len);
	c->layer->retransmissions++;
	if (c->invite) {
		c->a_ms *= 2; /* Timer A doubles without a cap (§17.1.1.2) */
	} else {
		/* Timer E doubles up to T2; in Proceeding it is T2 (§17.1.2.2) */
		c->a_ms = c->state == CTX_PROCEEDING
				  ? tm->t2
				  : (c->a_ms * 2 < tm->t2 ? c->a_ms * 2 : tm->t2);
	}
	(void)timer_start(c->layer->th, t, now_ms + c->a_ms, on_retrans, c);
}

struct ctx *ctx_send(struct txn_layer *l, const char *buf, size_t len, const struct sip_dest *dest,
		     enum sip_method method, const char *branch, const struct ctx_ops *ops,
		     void *tu, uint64_t now_ms, int *err)
{
	const struct txn_timers *tm = &l->timers;
	char key[TXN_KEY_MAX];
	struct ctx *c;
	size_t b;
	int n;

	if (!txn_make_room(l)) {
		*err = -EBUSY;
		return NULL;
	}
	n = txn_client_key(sip_str_cstr(branch), sip_str_cstr(sip_method_name(method)), key,
			   sizeof(key));
	c = calloc(1, sizeof(*c));
	if (n < 0 || !c || strlen(branch) >= sizeof(c->branch) || !(c->req = malloc(len))) {
		free(c);
		*err = n < 0 ? n : -ENOMEM;
		return NULL;
	}
	memcpy(c->req, buf, len);
	c->req_len = (uint32_t)len;
	strcpy(c->branch, branch);
	c->hash = txn_hash(key, (size_t)n);
	c->layer = l;
	c->method = method;
	c->invite = method == SIP_METHOD_INVITE;
	c->state = CTX_CALLING;
	c->dest = *dest;
	/* The name a TLS connection opened later (for the ACK or a CANCEL)
	 * checks the certificate against: ours to keep. */
	c->dest.name = NULL;
	if (dest->name && dest->proto == SIP_PROTO_TLS)
		c->dest.name = c->name = strdup(dest->name);
	c->ops = ops;
	c->tu = tu;
	b = c->hash & l->mask;
	c->hnext = l->ctx_buckets[b];
	l->ctx_buckets[b] = c;
	l->ctx_alive++;
	l->ctx_created++;

	if (transport_send(dest, buf, len) < 0) {
		/* Reported from the timer run, not from inside this call. */
		(void)timer_start(l->th, &c->t_timeout, now_ms, on_send_failed, c);
		return c;
	}
	if (!reliable(c)) {
		c->a_ms = tm->t1;
		(void)timer_start(l->th, &c->t_retrans, now_ms + tm->t1, on_retrans, c);
	}
	(void)timer_start(l->th, &c->t_timeout, now_ms + 64ULL * tm->t1, on_timeout, c);
	return c;
}

struct ctx *ctx_find(struct txn_layer *l, struct sip_msg *m)
{
	const struct sip_via *v = sip_msg_top_via(m);
	const struct sip_cseq *cs = sip_msg_cseq(m);
	char key[TXN_KEY_MAX];
	uint64_t h;
	int n;

	if (!v || !cs)
		return NULL;
	n = txn_client_key(v->branch, cs->method, key, sizeof(key));
	if (n < 0)
		return NULL;
	h = txn_hash(key, (size_t)n);
	for (struct ctx *c = l->ctx_buckets[h & l->mask]; c; c = c->hnext) {
		if (c->hash == h && sip_str_eq(v->branch, sip_str_cstr(c->branch)) &&
		    sip_str_eq(cs->method, sip_str_cstr(sip_method_name(c->method))))
			return c;
	}
	return NULL;
}

void ctx_undelivered(struct txn_layer *l, struct sip_msg *m, uint64_t now_ms)
{
	struct ctx *c = ctx_find(l, m);

	if (c && c->state == CTX_CALLING)
		fail(c, 503, now_ms);
}

int ctx_build_cancel(struct ctx *c, char **out, size_t *len)
{
	int rc = txn_build_hop(c->req, c->req_len, SIP_METHOD_CANCEL, NULL, out, len);

	if (rc < 0) {
		c->layer->hop_failures++;
		log_warn("event=cancel_not_sent reason=\"%s\" branch=%s", strerror(-rc), c->branch);
	}
	return rc;
}

/* §17.1.1.3: the ACK for a non-2xx final response, with its To. */
static void send_ack(struct ctx *c, struct sip_msg *resp)
{
	const struct sip_hdr *to = sip_msg_hdr(resp, SIP_HDR_TO);
	char *out = NULL;
	size_t n = 0;
	int rc;

	rc = to ? txn_build_hop(c->req, c->req_len, SIP_METHOD_ACK, &to->value, &out, &n)
		: -EBADMSG;
	if (rc == 0)
		rc = transport_send_later(&c->dest, out, n);
	if (rc < 0) {
		c->layer->hop_failures++;
		log_warn("event=ack_not_sent reason=\"%s\" status=%u branch=%s", strerror(-rc),
			 resp->status, c->branch);
	}
	free(out);
}

void ctx_response(struct ctx *c, struct sip_msg *m, uint64_t now_ms)
{
	const struct txn_timers *tm = &c->layer->timers;
	unsigned st = m->status;

	if (c->state == CTX_COMPLETED) {
		/* A retransmitted final: ACK it again (INVITE), absorb it. */
		if (c->invite && st >= 300)
			send_ack(c, m);
		return;
	}
	if (c->state == CTX_TERMINATED)
		return;
	if (st < 200) {
		/* §17.1.1.2: in Proceeding an INVITE is no longer retransmitted
		 * and Timer B, which only applies to Calling, is over: how long
		 * it may ring is the proxy's Timer C. Timer F keeps running for
		 * a non-INVITE (§17.1.2.2). */
		if (c->invite) {
			timer_stop(c->layer->th, &c->t_retrans);
			timer_stop(c->layer->th, &c->t_timeout);
		}
		c->state = CTX_PROCEEDING;
		c->got_provisional = true;
		c->ops->response(c->tu, c, m, now_ms);
		return;
	}
	timer_stop(c->layer->th, &c->t_retrans);
	timer_stop(c->layer->th, &c->t_timeout);
	if (c->invite && st < 300) {
		/* Pass it up, then gone: further 2xx are relayed statelessly. */
		c->state = CTX_TERMINATED;
		c->ops->response(c->tu, c, m, now_ms);
		ctx_destroy(c);
		return;
	}
	if (c->invite)
		send_ack(c, m);
	c->state = CTX_COMPLETED;
	/* Timer D (32 s, RFC minimum) for INVITE, K (T4) otherwise; 0 on a
	 * reliable transport. */
	(void)timer_start(c->layer->th, &c->t_end,
			  now_ms + (reliable(c) ? 0 : (c->invite ? 64ULL * tm->t1 : tm->t4)),
			  on_end, c);
	c->ops->response(c->tu, c, m, now_ms);
}

const char *ctx_request(const struct ctx *c, size_t *len)
{
	*len = c->req_len;
	return c->req;
}

const struct sip_dest *ctx_dest(const struct ctx *c)
{
	return &c->dest;
}

const char *ctx_branch(const struct ctx *c)
{
	return c->branch;
}

enum ctx_state ctx_state(const struct ctx *c)
{
	return c->state;
}

uint64_t txn_layer_hop_failures(const struct txn_layer *l)
{
	return l->hop_failures;
}
