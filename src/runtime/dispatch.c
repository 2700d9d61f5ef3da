/*
 * dispatch: see dispatch.h. The shard index is a keyed hash of the Call-ID
 * reduced with a multiply-shift (Lemire's fast range), so shards stay even
 * and no client can aim its calls at one worker.
 */
#include "runtime/dispatch.h"

#include "base/log.h"
#include "base/siphash.h"
#include "config/config.h"
#include "runtime/sip_reply.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct dispatch_ctx {
	struct counters ctr;
	struct sip_hdr *hdrs;
	uint16_t max_hdrs;
	char *out;
	size_t out_cap;
	dispatch_claim_fn claim;
	void *claim_arg;
};

static const struct config *cfg;
static struct queue **shards;
static unsigned nshards;

#define DISPATCH_OUT_CAP 65536

void dispatch_setup(const struct config *c, struct queue **queues, unsigned n)
{
	cfg = c;
	shards = queues;
	nshards = n;
}

struct dispatch_ctx *dispatch_ctx_new(void)
{
	struct dispatch_ctx *ctx = calloc(1, sizeof(*ctx));

	if (!ctx)
		return NULL;
	ctx->max_hdrs = (uint16_t)cfg->sip.limits.max_headers;
	ctx->hdrs = calloc(ctx->max_hdrs, sizeof(*ctx->hdrs));
	ctx->out_cap = DISPATCH_OUT_CAP;
	ctx->out = malloc(ctx->out_cap);
	if (!ctx->hdrs || !ctx->out) {
		free(ctx->hdrs);
		free(ctx->out);
		free(ctx);
		return NULL;
	}
	counters_register(&ctx->ctr);
	return ctx;
}

struct counters *dispatch_counters(struct dispatch_ctx *ctx)
{
	return &ctx->ctr;
}

void dispatch_ctx_set_claim(struct dispatch_ctx *ctx, dispatch_claim_fn claim, void *arg)
{
	ctx->claim = claim;
	ctx->claim_arg = arg;
}

static bool starts_with(const char *p, size_t len, const char *lit, size_t n)
{
	return len >= n && memcmp(p, lit, n) == 0;
}

static unsigned shard_of_hash(uint64_t h)
{
	return (unsigned)(((uint64_t)(uint32_t)h * nshards) >> 32);
}

unsigned dispatch_shard_of_call_id(struct sip_str call_id)
{
	return shard_of_hash(siphash(siphash_process_key(), call_id.p, call_id.len));
}

static unsigned shard_of(const struct sip_job *job)
{
	struct sip_str cid = sip_msg_scan_call_id(job->data, job->len);

	if (cid.len)
		return dispatch_shard_of_call_id(cid);
	/* no Call-ID: the worker answers 400; spread by source */
	return shard_of_hash(netaddr_hash(&job->src.remote));
}

void dispatch_job(struct dispatch_ctx *ctx, struct sip_job *job)
{
	bool response = starts_with(job->data, job->len, "SIP/", 4);
	bool ack = starts_with(job->data, job->len, "ACK ", 4);
	unsigned shard = shard_of(job);
	int rc;

	if (!job->undelivered) {
		ctr_inc(&ctx->ctr, CTR_RX_MESSAGES);
		ctr_add(&ctx->ctr.v[CTR_RX_BYTES], job->len);
	}
	if (ctx->claim && ctx->claim(ctx->claim_arg, shard, job))
		return;
	/* A transaction already under way waits for these: never refused. */
	rc = queue_push(shards[shard], job, response || ack || job->undelivered);
	if (rc == 0)
		return;
	if (rc == -EBUSY) {
		ctr_inc(&ctx->ctr, CTR_OVERLOAD_REJECTED);
		dispatch_reject(ctx, job->data, job->len, &job->src, 503, NULL,
				"Retry-After: 5\r\n");
	}
	job_free(job);
}

void dispatch_reject(struct dispatch_ctx *ctx, const char *buf, size_t len,
		     const struct sip_source *src, unsigned status, const char *reason,
		     const char *extra)
{
	struct sip_msg m;
	struct sip_reply r = {.status = status, .reason = reason, .extra = extra};
	int rc;

	/* A parse error leaves the lines before it indexed: enough to answer
	 * when the error carries a status. */
	rc = sip_msg_parse(&m, buf, len, ctx->hdrs, ctx->max_hdrs, &cfg->sip.limits);
	if ((rc < 0 && !m.error.status) || !m.request || m.method_id == SIP_METHOD_ACK) {
		ctr_inc(&ctx->ctr, CTR_DROPPED);
		return;
	}
	rc = sip_reply_send(&m, src, &r, ctx->out, ctx->out_cap);
	if (rc < 0) {
		ctr_inc(&ctx->ctr, rc == -EBADMSG ? CTR_DROPPED : CTR_TX_ERRORS);
		return;
	}
	ctr_local_reply_sent(&ctx->ctr, status, (uint64_t)rc);
}

/* ---- the transport's sink ------------------------------------------------ */

static void sink_message(void *arg, const char *buf, size_t len, const struct sip_source *src,
			 unsigned flags)
{
	struct dispatch_ctx *ctx = arg;
	struct sip_job *job = job_new(buf, len, src);

	if (!job) {
		ctr_inc(&ctx->ctr, CTR_DROPPED);
		return;
	}
	job->truncated = (flags & SINK_TRUNCATED) != 0;
	job->undelivered = (flags & SINK_UNDELIVERED) != 0;
	dispatch_job(ctx, job);
}

static void sink_reject(void *arg, const char *buf, size_t len, const struct sip_source *src,
			unsigned status, const char *reason)
{
	dispatch_reject(arg, buf, len, src, status, reason, NULL);
}

static void sink_count(void *arg, enum sink_event ev)
{
	struct dispatch_ctx *ctx = arg;
	static const enum ctr_id ids[] = {
		[SINK_KEEPALIVE] = CTR_KEEPALIVES,
		[SINK_PARSE_ERROR] = CTR_PARSE_ERRORS,
		[SINK_DROPPED] = CTR_DROPPED,
		[SINK_TCP_SLOW] = CTR_TCP_SLOW_CLOSED,
		[SINK_TCP_OUTPUT] = CTR_TCP_OUTPUT_CLOSED,
		[SINK_TCP_PER_SOURCE] = CTR_TCP_SOURCE_REFUSED,
	};

	ctr_inc(&ctx->ctr, ids[ev]);
}

const struct sink dispatch_sink = {
	.message = sink_message, .reject = sink_reject, .count = sink_count};
