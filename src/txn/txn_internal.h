/*
 * txn_internal: what txn.c, txn_server.c and txn_client.c share and the
 * rest of Junction does not see: the layer's struct and the key helpers.
 */
#ifndef JCT_TXN_INTERNAL_H
#define JCT_TXN_INTERNAL_H

#include "txn/txn.h"

#define TXN_KEY_MAX 1024

struct stx {
	struct stx *hnext;
	uint64_t hash;
	struct txn_layer *layer;
	enum stx_state state;
	bool invite;
	enum sip_method method;
	struct sip_job *req; /* the request as received; NULL once Completed (key kept) */
	struct sip_source src;
	/* match key (§17.2.3), copied: branch, sent-by, method class */
	char *key;
	uint16_t key_len;
	struct sip_dest resp_dest; /* where responses go (§18.2.2) */
	char *resp;                /* the last response sent, for retransmission */
	uint32_t resp_len;
	unsigned resp_status;
	unsigned g_ms;
	struct timer t_retrans; /* G */
	struct timer t_end;     /* H, I, J, L */
	const struct stx_ops *ops;
	void *tu;
	/* on the layer's lingering list (oldest first) while it only waits
	 * for Timer J or L to absorb retransmissions, until linger_end_ms */
	struct stx *lprev, *lnext;
	uint64_t linger_end_ms;
	bool lingering;
};

struct ctx {
	struct ctx *hnext;
	uint64_t hash;
	struct txn_layer *layer;
	enum ctx_state state;
	bool invite;
	enum sip_method method;
	char branch[48];
	char *req; /* the request as sent (for retransmission, CANCEL and ACK) */
	uint32_t req_len;
	struct sip_dest dest; /* its name is name */
	char *name;
	unsigned a_ms;
	bool got_provisional;
	struct timer t_retrans; /* A, E */
	struct timer t_timeout; /* B, F */
	struct timer t_end;     /* D, K */
	const struct ctx_ops *ops;
	void *tu;
};

struct txn_layer {
	struct stx **stx_buckets;
	struct ctx **ctx_buckets;
	size_t mask;
	struct txn_timers timers;
	unsigned max;
	struct timer_heap *th;
	unsigned stx_alive, ctx_alive;
	uint64_t stx_created, ctx_created, timeouts, retransmissions, evicted;
	uint64_t hop_failures;                 /* CANCELs and ACKs not sent (txn_client.c) */
	struct stx *linger_head, *linger_tail; /* oldest first */
	struct timer linger_timer;             /* when the oldest ends */
};

uint64_t txn_hash(const char *key, size_t len);
/* The §17.2.3 match key of request m (as_invite: for an ACK or CANCEL,
 * the INVITE's). Returns its length or a negative errno. */
int txn_server_key(struct sip_msg *m, bool as_invite, char *buf, size_t cap);
/* The §17.1.3 match key: our branch and the CSeq method. */
int txn_client_key(struct sip_str branch, struct sip_str method, char *buf, size_t cap);

/* Room for one more transaction: true when below the maximum, or when the
 * oldest transaction that only lingers could be ended to make room. */
bool txn_make_room(struct txn_layer *l);

/* Unlink and free at once (layer teardown), calling the TU's done. */
void stx_destroy(struct stx *st);
void ctx_destroy(struct ctx *c);

#endif
