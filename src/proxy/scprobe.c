/*
 * scprobe: see scprobe.h. A timer on the probing worker wakes it when the
 * next probe or deadline is due (at least every SCPROBE_TICK_MS, so a
 * server added by a reload is probed within that). Each probe owns a
 * struct probe until its transaction is gone; a probe whose deadline
 * passes without an answer is abandoned and counted failed.
 */
#include "proxy/scprobe.h"

#include "base/clock.h"
#include "base/log.h"
#include "config/config.h"
#include "net/netaddr.h"
#include "proxy/scpool.h"
#include "proxy/self.h"
#include "runtime/dispatch.h"
#include "runtime/timer.h"
#include "txn/txn.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SCPROBE_TICK_MS    100
#define SCPROBE_BATCH      32
#define SCPROBE_MSG_MAX    2048
#define SCPROBE_CALLID_MAX 96

struct probe {
	struct probe *next; /* in the outstanding list while unanswered */
	uint32_t id;        /* the server's */
	uint64_t sent_ns, sent_ms, deadline_ms;
	struct ctx *c;
	bool settled; /* the outcome went to the pool */
};

static struct {
	struct worker *w;
	struct timer tick;
	struct probe *outstanding;
} pr;

static void on_tick(struct timer *t, void *arg, uint64_t now_ms);

static void settle(struct probe *p, bool alive, const char *why, uint64_t now_ms)
{
	if (p->settled)
		return;
	p->settled = true;
	scpool_probe_done(p->id, alive, (clock_now_ns() - p->sent_ns) / 1000, why, now_ms);
}

static void unlink_probe(struct probe *p)
{
	for (struct probe **pp = &pr.outstanding; *pp; pp = &(*pp)->next)
		if (*pp == p) {
			*pp = p->next;
			return;
		}
}

static void probe_response(void *tu, struct ctx *c, struct sip_msg *m, uint64_t now_ms)
{
	struct probe *p = tu;
	char why[64];
	bool alive;

	(void)c;
	if (m->status < 200)
		return;
	alive = config_probe_alive(worker_config(pr.w), m->status);
	snprintf(why, sizeof(why), "%u to OPTIONS", m->status);
	settle(p, alive, alive ? "answers OPTIONS" : why, now_ms);
}

static void probe_failed(void *tu, struct ctx *c, unsigned status, uint64_t now_ms)
{
	(void)c;
	/* made here, never by the server: not alive whatever alive_codes says */
	settle(tu, false, status == 408 ? "no answer to OPTIONS" : "cannot send OPTIONS", now_ms);
}

static void probe_gone(void *tu, struct ctx *c)
{
	struct probe *p = tu;

	(void)c;
	unlink_probe(p);
	free(p);
}

static const struct ctx_ops probe_ops = {
	.response = probe_response, .failed = probe_failed, .done = probe_gone};

static void send_probe(const struct scpool_probe *sp, uint64_t now_ms)
{
	struct txn_layer *l = worker_txn(pr.w);
	char msg[SCPROBE_MSG_MAX], callid[SCPROBE_CALLID_MAX], branch[40], name[SCPOOL_URI_MAX];
	struct sip_dest dest;
	struct netaddr numeric;
	struct sip_uri u;
	const char *hp;
	struct probe *p;
	int listener, n, err;

	listener = transport_pick_listener(sp->dest.proto, netaddr_family(&sp->dest.addr),
					   sp->dest.listener);
	if (listener < 0 || worker_call_id(pr.w, "jprobe", callid, sizeof(callid)) < 0) {
		scpool_probe_done(sp->id, false, 0, "no listener for its transport", now_ms);
		return;
	}
	hp = self_hostport((unsigned)listener);
	snprintf(branch, sizeof(branch), "z9hG4bKjp%016llx",
		 (unsigned long long)worker_unique(pr.w));
	/* §11: OPTIONS to the server itself, Max-Forwards 70, a fresh dialog */
	n = snprintf(msg, sizeof(msg),
		     "OPTIONS %s SIP/2.0\r\n"
		     "Via: SIP/2.0/%s %s;branch=%s;rport\r\n"
		     "Max-Forwards: 70\r\n"
		     "From: <sip:junction@%s>;tag=%llx\r\n"
		     "To: <%s>\r\n"
		     "Call-ID: %s\r\n"
		     "CSeq: 1 OPTIONS\r\n"
		     "Accept: application/sdp\r\n"
		     "Content-Length: 0\r\n\r\n",
		     sp->uri, sip_proto_via_name(sp->dest.proto), hp, branch, hp,
		     (unsigned long long)worker_unique(pr.w), sp->uri, callid);
	p = calloc(1, sizeof(*p));
	if (n <= 0 || (size_t)n >= sizeof(msg) || !p) {
		free(p);
		scpool_probe_done(sp->id, false, 0, "cannot build OPTIONS", now_ms);
		return;
	}
	p->id = sp->id;
	p->sent_ns = clock_now_ns();
	p->sent_ms = now_ms;
	p->deadline_ms = sp->deadline_ms;
	dest = sp->dest;
	/* over TLS, the certificate must name the URI's host (RFC 5922) */
	if (sip_uri_parse(sip_str_cstr(sp->uri), &u) == 0 &&
	    netaddr_from_host(u.host, 0, &numeric) < 0) {
		sip_str_to_cstr(u.host, name, sizeof(name));
		dest.name = name;
	}
	p->c = ctx_send(l, msg, (size_t)n, &dest, SIP_METHOD_OPTIONS, branch, &probe_ops, p, now_ms,
			&err);
	if (!p->c) {
		free(p);
		scpool_probe_done(sp->id, false, 0, "transaction table full", now_ms);
		return;
	}
	if (p->settled) /* failed inside ctx_send */
		return;
	p->next = pr.outstanding;
	pr.outstanding = p;
}

static void arm(uint64_t now_ms)
{
	int next = scpool_next_probe_ms(now_ms);
	uint64_t at = now_ms + SCPROBE_TICK_MS;

	if (next >= 0 && now_ms + (uint64_t)next < at)
		at = now_ms + (uint64_t)next;
	for (struct probe *p = pr.outstanding; p; p = p->next)
		if (p->deadline_ms < at)
			at = p->deadline_ms;
	(void)timer_start(worker_timers(pr.w), &pr.tick, at, on_tick, NULL);
}

static void on_tick(struct timer *t, void *arg, uint64_t now_ms)
{
	struct scpool_probe due[SCPROBE_BATCH];
	unsigned n;

	(void)t;
	(void)arg;
	/* deadlines first: a server silent that long has failed */
	for (struct probe **pp = &pr.outstanding; *pp;) {
		struct probe *p = *pp;
		char why[64];

		if (p->settled || now_ms < p->deadline_ms) {
			if (p->settled)
				*pp = p->next;
			else
				pp = &p->next;
			continue;
		}
		*pp = p->next;
		snprintf(why, sizeof(why), "no answer to OPTIONS within %llu s",
			 (unsigned long long)((p->deadline_ms - p->sent_ms + 500) / 1000));
		settle(p, false, why, now_ms);
		ctx_abandon(p->c); /* frees p through probe_gone */
	}
	do {
		n = scpool_probes_due(now_ms, due, SCPROBE_BATCH);
		for (unsigned i = 0; i < n; i++)
			send_probe(&due[i], now_ms);
	} while (n == SCPROBE_BATCH);
	arm(now_ms);
}

int scprobe_start(struct worker *w)
{
	pr.w = w;
	pr.outstanding = NULL;
	return timer_start(worker_timers(w), &pr.tick, clock_now_ms(), on_tick, NULL);
}

void scprobe_stop(struct worker *w)
{
	if (pr.w != w)
		return;
	timer_stop(worker_timers(w), &pr.tick);
	while (pr.outstanding) {
		struct probe *p = pr.outstanding;

		pr.outstanding = p->next;
		p->settled = true;
		ctx_abandon(p->c);
	}
	pr.w = NULL;
}
