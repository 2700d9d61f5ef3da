/*
 * txn: the layer that holds a worker's transactions (see txn.h): one hash
 * table for server and one for client transactions, chained, sized from
 * [transaction] max_transactions, keyed by a keyed hash of the match key
 * of §17.1.3 / §17.2.3 and confirmed by comparing the key itself.
 */
#include "txn/txn_internal.h"

#include "base/siphash.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct txn_layer *txn_layer_new(const struct txn_timers *timers, unsigned max_transactions,
				struct timer_heap *th)
{
	struct txn_layer *l = calloc(1, sizeof(*l));
	size_t n = 1024;

	if (!l)
		return NULL;
	while (n < max_transactions && n < (1u << 20))
		n <<= 1;
	l->stx_buckets = calloc(n, sizeof(*l->stx_buckets));
	l->ctx_buckets = calloc(n, sizeof(*l->ctx_buckets));
	if (!l->stx_buckets || !l->ctx_buckets) {
		free(l->stx_buckets);
		free(l->ctx_buckets);
		free(l);
		return NULL;
	}
	l->mask = n - 1;
	l->timers = *timers;
	l->max = max_transactions;
	l->th = th;
	return l;
}

void txn_layer_free(struct txn_layer *l)
{
	if (!l)
		return;
	for (size_t b = 0; b <= l->mask; b++) {
		while (l->ctx_buckets[b])
			ctx_destroy(l->ctx_buckets[b]);
		while (l->stx_buckets[b])
			stx_destroy(l->stx_buckets[b]);
	}
	timer_stop(l->th, &l->linger_timer);
	free(l->stx_buckets);
	free(l->ctx_buckets);
	free(l);
}

unsigned txn_layer_count(const struct txn_layer *l)
{
	return l->stx_alive + l->ctx_alive;
}

const struct txn_timers *txn_layer_timers(const struct txn_layer *l)
{
	return &l->timers;
}

void txn_layer_stats(const struct txn_layer *l, struct txn_stats *out)
{
	out->server_created = l->stx_created;
	out->client_created = l->ctx_created;
	out->timeouts = l->timeouts;
	out->retransmissions = l->retransmissions;
	out->evicted = l->evicted;
	out->server_alive = l->stx_alive;
	out->client_alive = l->ctx_alive;
}

/* How many of the oldest lingering transactions are looked at for one
 * still held by its transaction user (never ended early). */
#define TXN_EVICT_SCAN 16

bool txn_make_room(struct txn_layer *l)
{
	struct stx *st = l->linger_head;

	if (l->stx_alive + l->ctx_alive < l->max)
		return true;
	/* A full table is mostly transactions that wait out Timer J or L
	 * (64*T1) only to absorb a retransmission that will almost never
	 * come. Ending the oldest of them early serves a new request instead
	 * of refusing it with 503; a late retransmission of that one is then
	 * relayed again, as a stateless proxy would (RFC 3261 §16.11). */
	for (unsigned i = 0; st && i < TXN_EVICT_SCAN; i++, st = st->lnext) {
		if (!st->ops) {
			stx_destroy(st);
			l->evicted++;
			return true;
		}
	}
	return false;
}

uint64_t txn_hash(const char *key, size_t len)
{
	return siphash(siphash_process_key(), key, len);
}

/* ---- keys ----------------------------------------------------------------- */

struct keybuf {
	char *p;
	size_t len, cap;
	bool overflow;
};

static void kput(struct keybuf *k, struct sip_str s)
{
	if (k->overflow || s.len + 1 > k->cap - k->len) {
		k->overflow = true;
		return;
	}
	if (s.len) /* an absent field is a NULL slice: memcpy must not see it */
		memcpy(k->p + k->len, s.p, s.len);
	k->len += s.len;
	k->p[k->len++] = '|';
}

static void kput_lower(struct keybuf *k, struct sip_str s)
{
	size_t start = k->len;

	kput(k, s);
	if (!k->overflow)
		for (size_t i = start; i < start + s.len; i++)
			k->p[i] = sip_tolower(k->p[i]);
}

int txn_server_key(struct sip_msg *m, bool as_invite, char *buf, size_t cap)
{
	const struct sip_via *v = sip_msg_top_via(m);
	struct keybuf k = {.p = buf, .len = 0, .cap = cap, .overflow = false};
	const char *method = as_invite ? "INVITE" : sip_method_name(m->method_id);
	char port[24];

	if (!v || !sip_msg_cseq(m))
		return -EBADMSG;
	if (m->method_id == SIP_METHOD_OTHER && !as_invite)
		method = NULL;
	if (sip_str_caseprefix(v->branch, "z9hG4bK")) {
		/* §17.2.3: branch, sent-by and the method (ACK as INVITE) */
		sip_fmt_u64(port, v->port ? v->port : 5060);
		kput(&k, SIP_STR("3261"));
		kput(&k, v->branch);
		kput_lower(&k, v->host);
		kput(&k, sip_str_cstr(port));
	} else {
		/* RFC 2543 compatibility: the request's identifying fields
		 * (To tag left out: the ACK's differs from its INVITE's). */
		char num[16];

		snprintf(num, sizeof(num), "%u", sip_msg_cseq(m)->num);
		kput(&k, SIP_STR("2543"));
		kput(&k, m->ruri);
		kput(&k, sip_msg_from(m) ? sip_msg_from(m)->tag : SIP_STR_NULL);
		kput(&k, sip_msg_call_id(m));
		kput(&k, sip_str_cstr(num));
		kput(&k, v->raw);
	}
	kput(&k, method ? sip_str_cstr(method) : m->method);
	return k.overflow ? -ENOSPC : (int)k.len;
}

int txn_client_key(struct sip_str branch, struct sip_str method, char *buf, size_t cap)
{
	struct keybuf k = {.p = buf, .len = 0, .cap = cap, .overflow = false};

	kput(&k, branch);
	kput(&k, method);
	return k.overflow ? -ENOSPC : (int)k.len;
}
