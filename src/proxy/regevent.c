/*
 * regevent: registration events to the back end ([notify] mode).
 *
 * The events are rows of reg_event, written by triggers on binding in the
 * transaction that changed the binding (sql/006_reg_events.sql), so an
 * event exists exactly when its change was committed, whichever node made
 * it. One worker of each node sends them: every [notify] interval it
 * claims up to REGEVENT_BATCH due events (the oldest undelivered one of
 * each AOR, so the back end hears an AOR's events in order), leased for
 * REGEVENT_LEASE_S seconds; FOR UPDATE SKIP LOCKED gives each event to one
 * node, and a node that dies with events claimed leaves them to whichever
 * node claims after the lease. Each event is one client transaction:
 *
 *   register  a 3rd-party REGISTER (RFC 3261 §10.2: From names us, To the
 *             AOR), Contact the binding's with the seconds left in
 *             expires (0: it ended), and our Path with the endpoint's
 *             source as received (delegate.c), so the back end reaches
 *             the device through the cluster;
 *   reginfo   a NOTIFY with Event: reg and an application/reginfo+xml
 *             full-state document (RFC 3680 §5): the AOR's bindings with
 *             this event's contact in its new state, versioned per AOR.
 *             It is sent without a subscription, as the back end expects.
 *
 * The target is the AOR's Session Controller (the one its REGISTERs go
 * to, scpool_choose_key()) or the fixed [notify] target. A 2xx delivers
 * the event (its row goes); a 5xx, a timeout or no server in service
 * retries it with exponential backoff up to [notify] retry_max seconds,
 * for [notify] give_up seconds; another final refuses it for good (kept
 * as 'failed' for operators). The outcomes of a round are written back in
 * one statement when the round's last transaction has ended; then the
 * next round may start.
 *
 * Subscribers (RFC 3680 §3, [notify] subscribe): a SUBSCRIBE with Event:
 * reg from a trusted source, for an AOR of ours or within a subscription
 * we granted, is stored with its dialog (junction_reg_subscribe()) and
 * answered 200 once committed; the NOTIFY it asks for (RFC 6665 §4.2.1)
 * and the later ones are rows of the outbox like any event, one per
 * subscription, sent in its dialog (its Call-ID, tags, Contact, route set;
 * our CSeq and reginfo version counted in the table). They are sent by
 * the worker that owns the subscription's Call-ID on the node that took
 * its last SUBSCRIBE (the answers come back to that worker's
 * transactions), so every worker claims its own; worker 0 also those for
 * the [notify] target. A subscription that runs out is ended by the
 * sweeper with a NOTIFY "terminated;reason=timeout"; a 481 to a NOTIFY
 * ends it at once (RFC 6665 §4.2.2). If its node dies, its events wait
 * for the subscriber's next refresh, which makes the node that takes it
 * the sender.
 */
#include "proxy/regevent.h"
#include "runtime/counters.h"

#include "base/clock.h"
#include "base/log.h"
#include "config/config.h"
#include "net/netaddr.h"
#include "net/nexthop.h"
#include "net/transport.h"
#include "proxy/delegate.h"
#include "proxy/scpool.h"
#include "proxy/self.h"
#include "registrar/reginfo.h"
#include "runtime/sip_reply.h"
#include "runtime/timer.h"
#include "sip/hdr_list.h"
#include "sip/sip_uri.h"
#include "store/store.h"
#include "txn/txn.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REGEVENT_BATCH                                                                             \
	256 /* in flight per worker: a claim of 256 costs what one of 64 does (~50 ms at a         \
	       150,000-event backlog) */
#define REGEVENT_LEASE_S   40 /* longer than a non-INVITE transaction (Timer F, 32 s) */
#define REGEVENT_MSG_MAX   65536
#define REGEVENT_BODY_MAX  49152
#define REGEVENT_ERR_MAX   96
#define REGEVENT_CALLID    96
#define REGEVENT_CONTACTS  64   /* bindings of one AOR in a document */
#define REGEVENT_WORKERS   256  /* [sip] workers at most */
#define REGEVENT_ROUTE_MAX 2048 /* a subscription's route set, as text */
#define REGEVENT_DFLT_SUB  3600 /* RFC 3680 §4.1: no Expires */

enum outcome { OUT_PENDING = 0, OUT_SENT, OUT_RETRY, OUT_FAILED, OUT_GONE };

struct sender;

/* One event being sent: freed once its outcome is written and its
 * transaction is gone (the transaction's callbacks hold it until then). */
struct delivery {
	struct sender *s;
	struct delivery *next; /* in the sender's in-flight, settled or writing list */
	int64_t id;
	int64_t attempts; /* the claim's: its report must name it (sql/006) */
	enum outcome outcome;
	char error[REGEVENT_ERR_MAX];
	uint32_t sc_id; /* the Session Controller it went to, 0: none */
	struct ctx *c;  /* its transaction, NULL once gone */
	bool written;   /* its outcome is in the database */
};

/* A worker's sender: a pipeline, so that a target that does not answer
 * holds only its own events (and, by the claim's rule, its AORs' later
 * ones), never the others'. Every tick it writes the outcomes that came
 * in (one statement) and claims up to REGEVENT_BATCH in flight. */
struct sender {
	struct worker *w;
	struct timer tick;
	bool target;            /* it sends the [notify] target's events (worker 0) */
	bool claiming, writing; /* a claim or outcomes on the wire */
	bool set_up;            /* the node's [notify] settings written */
	bool stopped;           /* the worker is going: freed with its last operation */
	unsigned ops;           /* database operations in flight (their arg is us) */
	unsigned asked;         /* the claim on the wire's limit */
	struct delivery *inflight, *settled, *writing_list;
	unsigned ninflight, nsettled;
	char msg[REGEVENT_MSG_MAX], body[REGEVENT_BODY_MAX];
};

/* Each worker's, by index; touched only on that worker's thread. */
static struct sender *senders[REGEVENT_WORKERS];

static void on_tick(struct timer *t, void *arg, uint64_t now_ms);

static void arm(struct sender *s, uint64_t delay_ms)
{
	(void)timer_start(worker_timers(s->w), &s->tick, clock_now_ms() + delay_ms, on_tick, s);
}

/* A database operation of s completed: true when s is gone (stopped,
 * and that was its last), so the caller must not touch it. */
static bool op_over(struct sender *s)
{
	s->ops--;
	if (!s->stopped)
		return false;
	if (!s->ops)
		free(s);
	return true;
}

static void delivery_release(struct delivery *d)
{
	if (d->written && !d->c)
		free(d);
}

/* ---- outcomes ------------------------------------------------------------- */

static void written(void *arg, int err, const struct store_result *r)
{
	struct sender *s = arg;
	struct delivery *d, *next;

	(void)r;
	if (op_over(s))
		return;
	/* Not written: the leases run out and the events go again (the back
	 * end may hear one twice; never none). */
	if (err)
		log_warn("event=regevent_outcome_not_stored err=%d", err);
	for (d = s->writing_list; d; d = next) {
		next = d->next;
		d->written = true;
		delivery_release(d);
	}
	s->writing_list = NULL;
	s->writing = false;
	if (s->nsettled)
		arm(s, 0);
}

/* The outcomes that came in, in one statement. */
static void write_outcomes(struct sender *s)
{
	const struct config *cfg = worker_config(s->w);
	static const char *const names[] = {"retry", "sent", "retry", "failed", "gone"};
	struct sip_str outs[REGEVENT_BATCH], errs[REGEVENT_BATCH];
	int64_t ids[REGEVENT_BATCH], attempts[REGEVENT_BATCH];
	char num[2][16];
	struct store_op *op;
	struct delivery *d;
	unsigned n = 0;
	int err;

	op = store_op_begin(worker_store(s->w), STORE_EVENT_DONE, true, 0, written, s, &err);
	if (!op)
		return; /* the next tick tries again */
	/* up to REGEVENT_BATCH of the settled ones; the rest next time */
	while (s->settled && n < REGEVENT_BATCH) {
		d = s->settled;
		s->settled = d->next;
		s->nsettled--;
		d->next = s->writing_list;
		s->writing_list = d;
		ids[n] = d->id;
		attempts[n] = d->attempts;
		outs[n] = sip_str_cstr(names[d->outcome]);
		errs[n] = d->error[0] ? sip_str_cstr(d->error) : SIP_STR_NULL;
		n++;
	}
	s->writing = true;
	s->ops++;
	snprintf(num[0], sizeof(num[0]), "%u", cfg->notify.retry_max);
	snprintf(num[1], sizeof(num[1]), "%u", cfg->notify.give_up);
	store_op_param_str(op, sip_str_cstr(cfg->node.name));
	store_op_param_int_array(op, ids, NULL, n);
	store_op_param_int_array(op, attempts, NULL, n);
	store_op_param_text_array(op, outs, n);
	store_op_param_text_array(op, errs, n);
	store_op_param_str(op, sip_str_cstr(num[0]));
	store_op_param_str(op, sip_str_cstr(num[1]));
}

static void settle(struct delivery *d, enum outcome o, const char *why)
{
	struct sender *s = d->s;

	if (d->outcome != OUT_PENDING || s->stopped)
		return;
	d->outcome = o;
	snprintf(d->error, sizeof(d->error), "%s", why ? why : "");
	ctr_inc(worker_counters(s->w), o == OUT_SENT    ? CTR_REGEVENTS_SENT
				       : o == OUT_RETRY ? CTR_REGEVENTS_RETRY
							: CTR_REGEVENTS_FAILED);
	if (o != OUT_SENT)
		log_info("event=regevent_not_delivered id=%" PRId64 " outcome=%s why=\"%s\"", d->id,
			 o == OUT_RETRY  ? "retry"
			 : o == OUT_GONE ? "subscription_gone"
					 : "failed",
			 d->error);
	if (d->sc_id) {
		scpool_release(d->sc_id);
		d->sc_id = 0;
	}
	/* from in flight to settled */
	for (struct delivery **pp = &s->inflight; *pp; pp = &(*pp)->next)
		if (*pp == d) {
			*pp = d->next;
			s->ninflight--;
			break;
		}
	d->next = s->settled;
	s->settled = d;
	s->nsettled++;
	if (!s->writing)
		arm(s, 0);
}

/* ---- the transactions ------------------------------------------------------ */

static void ev_response(void *tu, struct ctx *c, struct sip_msg *m, uint64_t now_ms)
{
	char why[REGEVENT_ERR_MAX];
	enum outcome o;

	(void)c;
	(void)now_ms;
	if (m->status < 200)
		return;
	snprintf(why, sizeof(why), "%u %.*s", m->status, SIP_STR_FMT(m->reason));
	/* 5xx: the back end may take it later; 6xx and 4xx: it will not;
	 * 481: the subscriber has forgotten the subscription */
	if (m->status < 300)
		o = OUT_SENT;
	else if (m->status == 481)
		o = OUT_GONE;
	else if (m->status >= 500 && m->status < 600)
		o = OUT_RETRY;
	else
		o = OUT_FAILED;
	settle(tu, o, o == OUT_SENT ? NULL : why);
}

static void ev_failed(void *tu, struct ctx *c, unsigned status, uint64_t now_ms)
{
	(void)c;
	(void)now_ms;
	settle(tu, OUT_RETRY, status == 408 ? "no answer" : "cannot send");
}

static void ev_gone(void *tu, struct ctx *c)
{
	struct delivery *d = tu;

	/* Not d->s: a delivery whose outcome is written outlives its sender
	 * while its transaction lingers (Timer K), up to txn_layer_free(). */
	(void)c;
	d->c = NULL;
	delivery_release(d);
}

static const struct ctx_ops ev_ops = {
	.response = ev_response, .failed = ev_failed, .done = ev_gone};

/* ---- the messages ---------------------------------------------------------- */

/* A claimed event, as the claim's row gives it (store.c STORE_EVENT_CLAIM);
 * sub_id 0: for the [notify] target, else for that subscription, whose
 * dialog the sub_ fields are. */
struct event {
	int64_t id, expires, binding_id, cseq, version, sub_id, sub_cseq, sub_expires;
	struct sip_str aor, contact, name, call_id, q, received, bindings;
	struct sip_str sub_call_id, sub_local_tag, sub_remote_tag, sub_remote_uri, sub_target,
		sub_route_set;
};

static int64_t num_of(struct sip_str s)
{
	return s.p ? strtoll(s.p, NULL, 10) : -1;
}

/* q as text ("0.500") in thousandths, -1 when absent. */
static int64_t q_of(struct sip_str s)
{
	return s.p ? (int64_t)(strtod(s.p, NULL) * 1000 + 0.5) : -1;
}

static bool ends_binding(const struct event *e)
{
	return sip_str_caseeq_cstr(e->name, "expired") ||
	       sip_str_caseeq_cstr(e->name, "unregistered") ||
	       sip_str_caseeq_cstr(e->name, "deactivated");
}

/* Is e about the subscription rather than one contact (its first NOTIFY,
 * a refresh's, its last)? */
static bool about_subscription(const struct event *e)
{
	return sip_str_caseeq_cstr(e->name, "subscribed") ||
	       sip_str_caseeq_cstr(e->name, "terminated");
}

/* The RFC 3680 full-state document: the AOR's bindings now, this event's
 * contact in the state the event left it. Returns its length or -errno. */
static ssize_t reginfo_of(const struct event *e, char *out, size_t cap)
{
	struct reginfo_contact c[REGEVENT_CONTACTS];
	char ids[REGEVENT_CONTACTS][24], regid[24];
	char name[16];
	json_error_t jerr;
	json_t *all = json_loadb(e->bindings.p, e->bindings.len, 0, &jerr);
	unsigned n = 0;
	size_t i;
	json_t *b;
	ssize_t len;

	if (!json_is_array(all)) {
		json_decref(all);
		return -EINVAL;
	}
	if (!about_subscription(e)) {
		snprintf(name, sizeof(name), "%.*s", SIP_STR_FMT(e->name));
		snprintf(ids[0], sizeof(ids[0]), "%" PRId64, e->binding_id);
		c[n++] = (struct reginfo_contact){.id = sip_str_cstr(ids[0]),
						  .uri = e->contact,
						  .active = !ends_binding(e),
						  .event = name,
						  .expires = ends_binding(e) ? 0 : e->expires,
						  .duration = -1,
						  .q = q_of(e->q),
						  .call_id = e->call_id,
						  .cseq = e->cseq};
	}
	json_array_foreach(all, i, b)
	{
		int64_t id = json_integer_value(json_object_get(b, "id"));
		json_t *q = json_object_get(b, "q");

		if ((n && id == e->binding_id) || n == REGEVENT_CONTACTS)
			continue;
		snprintf(ids[n], sizeof(ids[n]), "%" PRId64, id);
		c[n] = (struct reginfo_contact){
			.id = sip_str_cstr(ids[n]),
			.uri = sip_str_cstr(json_string_value(json_object_get(b, "contact"))),
			.active = true,
			.event = "registered",
			.expires = json_integer_value(json_object_get(b, "expires")),
			.duration = -1,
			.q = json_is_number(q) ? (int64_t)(json_number_value(q) * 1000 + 0.5) : -1,
			.call_id = sip_str_cstr(json_string_value(json_object_get(b, "call_id"))),
			.cseq = json_integer_value(json_object_get(b, "cseq"))};
		if (!c[n].uri.p || !c[n].call_id.p)
			continue;
		n++;
	}
	snprintf(regid, sizeof(regid), "r%016" PRIx64, store_lock_key(e->aor.p, e->aor.len));
	len = reginfo_build(out, cap, e->aor, sip_str_cstr(regid), (uint64_t)e->version, true,
			    reginfo_reg_state(c, n), c, n);
	json_decref(all);
	return len;
}

/* The Path delegate.c gives the back end, from the binding's received
 * ("udp:192.0.2.1:5060"); empty when unknown. */
static void path_of(const struct event *e, unsigned listener, char *buf, size_t cap)
{
	const char *colon = e->received.p ? memchr(e->received.p, ':', e->received.len) : NULL;
	size_t plen = colon ? (size_t)(colon - e->received.p) : 0;
	enum sip_proto proto = SIP_PROTO_UDP;

	buf[0] = '\0';
	if (!colon)
		return;
	(void)sip_proto_parse(sip_str_make(e->received.p, plen), &proto);
	if (delegate_path(proto, listener, sip_str_make(colon + 1, e->received.len - plen - 1), buf,
			  cap) < 0)
		buf[0] = '\0';
}

/* Where a request to uri (its route set route, may be empty) goes:
 * the first Route's URI, else uri (RFC 3261 §12.2.1.1, loose routing),
 * by RFC 3263 (the first destination: a failed event is retried). A name
 * not cached yet is -EAGAIN: the event is retried once DNS answered. */
static int dest_of(struct dns *dns, struct sip_str uri, struct sip_str route, struct sip_dest *dst,
		   char name[DNS_NAME_MAX])
{
	struct nexthop_list l;
	int rc;
	struct sip_uri u;

	if (route.len) {
		struct sip_str cur = route, first;
		struct sip_addr a;

		if (!sip_list_next(&cur, &first) || sip_addr_parse(first, &a) < 0)
			return -EINVAL;
		u = a.uri;
	} else if (sip_uri_parse(uri, &u) < 0) {
		return -EINVAL;
	}
	rc = nexthop_resolve(dns, &u, 0, 0, &l, NULL, NULL); /* fills the cache */
	if (rc == 1)
		return -EAGAIN;
	if (rc < 0)
		return -EHOSTUNREACH;
	*dst = l.d[0];
	/* the name a TLS server's certificate must carry, in the caller's buffer */
	memcpy(name, l.name, DNS_NAME_MAX);
	dst->name = name[0] ? name : NULL;
	return 0;
}

/* Writes e's request to uri (for the target) or in its subscription's
 * dialog into s->msg. Returns its length, or -errno with why set. */
static int build(struct sender *s, const struct event *e, const char *uri, unsigned listener,
		 const struct sip_dest *dst, const char *callid, const char *branch, char *why,
		 size_t whylen)
{
	const struct config *cfg = worker_config(s->w);
	const char *hp = self_hostport(listener);
	unsigned long long tag = (unsigned long long)worker_unique(s->w);
	char path[600];
	ssize_t blen;
	int n;

	if (e->sub_id || cfg->notify.mode == NOTIFY_MODE_REGINFO) {
		char state[64];

		blen = reginfo_of(e, s->body, sizeof(s->body));
		if (blen < 0) {
			snprintf(why, whylen, "cannot build the reginfo document");
			return (int)blen;
		}
		if (!e->sub_id)
			snprintf(state, sizeof(state), "active");
		else if (sip_str_caseeq_cstr(e->name, "terminated"))
			snprintf(state, sizeof(state), "terminated;reason=timeout");
		else
			snprintf(state, sizeof(state), "active;expires=%" PRId64, e->sub_expires);
		if (e->sub_id) {
			/* In the subscription's dialog (RFC 6665 §4.2.2, RFC 3261
			 * §12.2.1.1): its Contact, its route set, our tag and CSeq. */
			n = snprintf(s->msg, sizeof(s->msg),
				     "NOTIFY %.*s SIP/2.0\r\n"
				     "Via: SIP/2.0/%s %s;branch=%s;rport\r\n"
				     "Max-Forwards: 70\r\n"
				     "%s%.*s%s"
				     "From: <%.*s>;tag=%.*s\r\n"
				     "To: <%.*s>;tag=%.*s\r\n"
				     "Call-ID: %.*s\r\n"
				     "CSeq: %" PRId64 " NOTIFY\r\n"
				     "Contact: <sip:%s>\r\n"
				     "Event: reg\r\n"
				     "Subscription-State: %s\r\n"
				     "Content-Type: application/reginfo+xml\r\n"
				     "Content-Length: %zd\r\n\r\n%s",
				     SIP_STR_FMT(e->sub_target), sip_proto_via_name(dst->proto), hp,
				     branch, e->sub_route_set.len ? "Route: " : "",
				     SIP_STR_FMT(e->sub_route_set),
				     e->sub_route_set.len ? "\r\n" : "", SIP_STR_FMT(e->aor),
				     SIP_STR_FMT(e->sub_local_tag), SIP_STR_FMT(e->sub_remote_uri),
				     SIP_STR_FMT(e->sub_remote_tag), SIP_STR_FMT(e->sub_call_id),
				     e->sub_cseq, hp, state, blen, s->body);
		} else {
			/* Outside any subscription, as the back end expects: From
			 * is the AOR the event is about (RFC 3680 §4.1). */
			n = snprintf(s->msg, sizeof(s->msg),
				     "NOTIFY %s SIP/2.0\r\n"
				     "Via: SIP/2.0/%s %s;branch=%s;rport\r\n"
				     "Max-Forwards: 70\r\n"
				     "From: <%.*s>;tag=%llx\r\n"
				     "To: <%s>\r\n"
				     "Call-ID: %s\r\n"
				     "CSeq: 1 NOTIFY\r\n"
				     "Contact: <sip:%s>\r\n"
				     "Event: reg\r\n"
				     "Subscription-State: %s\r\n"
				     "Content-Type: application/reginfo+xml\r\n"
				     "Content-Length: %zd\r\n\r\n%s",
				     uri, sip_proto_via_name(dst->proto), hp, branch,
				     SIP_STR_FMT(e->aor), tag, uri, callid, hp, state, blen,
				     s->body);
		}
	} else {
		int64_t left = ends_binding(e) ? 0 : e->expires;

		path_of(e, listener, path, sizeof(path));
		/* §10.2: a third party registers the AOR (To) for its contact */
		n = snprintf(s->msg, sizeof(s->msg),
			     "REGISTER %s SIP/2.0\r\n"
			     "Via: SIP/2.0/%s %s;branch=%s;rport\r\n"
			     "Max-Forwards: 70\r\n"
			     "From: <sip:junction@%s>;tag=%llx\r\n"
			     "To: <%.*s>\r\n"
			     "Call-ID: %s\r\n"
			     "CSeq: 1 REGISTER\r\n"
			     "Contact: <%.*s>;expires=%" PRId64 "\r\n"
			     "Expires: %" PRId64 "\r\n"
			     "%s"
			     "Content-Length: 0\r\n\r\n",
			     uri, sip_proto_via_name(dst->proto), hp, branch, hp, tag,
			     SIP_STR_FMT(e->aor), callid, SIP_STR_FMT(e->contact), left, left,
			     path);
	}
	if (n <= 0 || (size_t)n >= sizeof(s->msg)) {
		snprintf(why, whylen, "message too large");
		return -ENOSPC;
	}
	return n;
}

/* Sends event e (round slot d) to target uri, or in its subscription.
 * Returns 0, or -errno with why set (nothing sent). */
static int send_event(struct sender *s, const struct event *e, struct delivery *d, const char *uri,
		      char *why, size_t whylen)
{
	struct sip_dest dst;
	char callid[REGEVENT_CALLID], branch[40], name[DNS_NAME_MAX];
	bool notify = e->sub_id || worker_config(s->w)->notify.mode == NOTIFY_MODE_REGINFO;
	int listener, n, err;

	err = e->sub_id ? dest_of(worker_dns(s->w), e->sub_target, e->sub_route_set, &dst, name)
			: dest_of(worker_dns(s->w), sip_str_cstr(uri), SIP_STR_NULL, &dst, name);
	if (err < 0) {
		/* (cut to the error column's size: the URI is in the config) */
		snprintf(why, whylen, "%s %.60s", err == -EAGAIN ? "resolving" : "cannot resolve",
			 e->sub_id ? "the subscriber's Contact or Route" : uri);
		return err;
	}
	listener = transport_pick_listener(dst.proto, netaddr_family(&dst.addr), dst.listener);
	if (listener < 0 ||
	    (!e->sub_id && worker_call_id(s->w, "jev", callid, sizeof(callid)) < 0)) {
		snprintf(why, whylen, "no listener for its transport");
		return -EPROTONOSUPPORT;
	}
	snprintf(branch, sizeof(branch), "z9hG4bKje%016llx",
		 (unsigned long long)worker_unique(s->w));
	n = build(s, e, uri, (unsigned)listener, &dst, callid, branch, why, whylen);
	if (n < 0)
		return n;
	d->c = ctx_send(worker_txn(s->w), s->msg, (size_t)n, &dst,
			notify ? SIP_METHOD_NOTIFY : SIP_METHOD_REGISTER, branch, &ev_ops, d,
			clock_now_ms(), &err);
	if (!d->c) {
		snprintf(why, whylen, "transaction table full");
		return err;
	}
	ctr_inc(worker_counters(s->w), CTR_TX_MESSAGES);
	return 0;
}

/* ---- the claim -------------------------------------------------------------- */

static void claimed(void *arg, int err, const struct store_result *r)
{
	struct sender *s = arg;
	const struct config *cfg = worker_config(s->w);
	unsigned rows = err ? 0 : store_result_rows(r);

	if (op_over(s))
		return;
	s->claiming = false;
	if (err) {
		s->set_up = false; /* written again after a reconnect */
		return;
	}
	for (unsigned i = 0; i < rows; i++) {
		struct delivery *d = calloc(1, sizeof(*d));
		struct event e = {
			.id = num_of(store_result_get(r, i, 0)),
			.aor = store_result_get(r, i, 1),
			.contact = store_result_get(r, i, 2),
			.name = store_result_get(r, i, 3),
			.expires = num_of(store_result_get(r, i, 4)),
			.binding_id = num_of(store_result_get(r, i, 5)),
			.call_id = store_result_get(r, i, 6),
			.cseq = num_of(store_result_get(r, i, 7)),
			.q = store_result_get(r, i, 8),
			.received = store_result_get(r, i, 10),
			.version = num_of(store_result_get(r, i, 12)),
			.bindings = store_result_get(r, i, 13),
			.sub_id = store_result_null(r, i, 14) ? 0
							      : num_of(store_result_get(r, i, 14)),
			.sub_call_id = store_result_get(r, i, 15),
			.sub_local_tag = store_result_get(r, i, 16),
			.sub_remote_tag = store_result_get(r, i, 17),
			.sub_remote_uri = store_result_get(r, i, 18),
			.sub_target = store_result_get(r, i, 19),
			.sub_route_set = store_result_get(r, i, 20),
			.sub_cseq = num_of(store_result_get(r, i, 21)),
			.sub_expires = num_of(store_result_get(r, i, 22)),
		};
		struct scpool_pick pick;
		char why[REGEVENT_ERR_MAX];
		const char *uri = cfg->notify.target;

		if (!d)
			continue; /* its lease runs out and it goes again */
		d->s = s;
		d->id = e.id;
		d->attempts = num_of(store_result_get(r, i, 11));
		d->next = s->inflight;
		s->inflight = d;
		s->ninflight++;
		if (e.sub_id && !e.sub_call_id.p) {
			settle(d, OUT_GONE, "subscription gone");
			continue;
		}
		if (!e.sub_id && strcmp(uri, "pool") == 0) {
			if (!scpool_choose_key(store_lock_key(e.aor.p, e.aor.len), &pick)) {
				settle(d, OUT_RETRY, "no Session Controller in service");
				continue;
			}
			d->sc_id = pick.id;
			uri = pick.uri;
		}
		if (send_event(s, &e, d, uri, why, sizeof(why)) < 0)
			settle(d, OUT_RETRY, why);
	}
	/* a full claim: more may be due at once */
	if (rows == s->asked && s->ninflight < REGEVENT_BATCH)
		arm(s, 0);
}

static void set_up(void *arg, int err, const struct store_result *r)
{
	struct sender *s = arg;

	(void)r;
	if (op_over(s))
		return;
	if (err)
		s->set_up = false; /* again with the next claim */
}

static void on_tick(struct timer *t, void *arg, uint64_t now_ms)
{
	struct sender *s = arg;
	const struct config *cfg = worker_config(s->w);
	struct store *st = worker_store(s->w);
	struct store_op *op;
	char num[3][16];
	int err;

	(void)t;
	(void)now_ms;
	arm(s, cfg->notify.interval);
	if (!st || !store_up(st))
		return;
	if (s->nsettled && !s->writing)
		write_outcomes(s);
	if (worker_index(s->w) == 0 && !s->set_up) {
		static const char *const modes[] = {"off", "register", "reginfo"};

		op = store_op_begin(st, STORE_EVENT_SETUP, true, 0, set_up, s, &err);
		if (op) {
			store_op_param_str(op, sip_str_cstr(modes[cfg->notify.mode]));
			store_op_param_str(op,
					   sip_str_cstr(cfg->notify.refresh ? "true" : "false"));
			store_op_param_str(op,
					   sip_str_cstr(cfg->notify.subscribe ? "true" : "false"));
			s->set_up = true;
			s->ops++;
		}
	}
	if (s->claiming || s->ninflight >= REGEVENT_BATCH)
		return;
	op = store_op_begin(st, STORE_EVENT_CLAIM, true, 0, claimed, s, &err);
	if (!op)
		return;
	s->claiming = true;
	s->ops++;
	snprintf(num[0], sizeof(num[0]), "%u", worker_index(s->w));
	s->asked = REGEVENT_BATCH - s->ninflight;
	snprintf(num[1], sizeof(num[1]), "%u", s->asked);
	snprintf(num[2], sizeof(num[2]), "%d", REGEVENT_LEASE_S);
	store_op_param_str(op, sip_str_cstr(cfg->node.name));
	store_op_param_str(op, sip_str_cstr(num[0]));
	store_op_param_str(op, sip_str_cstr(s->target ? "true" : "false"));
	store_op_param_str(op, sip_str_cstr(num[1]));
	store_op_param_str(op, sip_str_cstr(num[2]));
}

bool regevent_wanted(const struct config *cfg, unsigned worker)
{
	return worker < REGEVENT_WORKERS &&
	       ((cfg->notify.mode != NOTIFY_MODE_OFF && worker == 0) || cfg->notify.subscribe);
}

int regevent_start(struct worker *w)
{
	unsigned i = worker_index(w);
	struct sender *s;

	if (i >= REGEVENT_WORKERS)
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->w = w;
	s->target = i == 0 && worker_config(w)->notify.mode != NOTIFY_MODE_OFF;
	senders[i] = s;
	arm(s, 0);
	return 0;
}

static void free_list(struct delivery *d)
{
	while (d) {
		struct delivery *next = d->next;

		if (d->sc_id)
			scpool_release(d->sc_id);
		if (d->c)
			ctx_abandon(d->c); /* ev_gone: not written, not freed there */
		free(d);
		d = next;
	}
}

void regevent_stop(struct worker *w)
{
	unsigned i = worker_index(w);
	struct sender *s = i < REGEVENT_WORKERS ? senders[i] : NULL;

	if (!s)
		return;
	timer_stop(worker_timers(w), &s->tick);
	/* nothing recorded from here on: the leases hand the events on */
	s->stopped = true;
	free_list(s->inflight);
	free_list(s->settled);
	free_list(s->writing_list);
	senders[i] = NULL;
	if (!s->ops)
		free(s);
}

/* ---- subscriptions (RFC 3680 §3) -------------------------------------------- */

/* Is m's Event "reg" (RFC 6665 §8.2.1: the package name, parameters
 * aside)? */
static bool event_is_reg(struct sip_msg *m)
{
	const struct sip_hdr *h = sip_msg_hdr(m, SIP_HDR_EVENT);
	struct sip_str v;
	size_t n = 0;

	if (!h)
		return false;
	v = h->value;
	while (n < v.len && v.p[n] != ';' && v.p[n] != ' ' && v.p[n] != '\t')
		n++;
	return n == 3 && memcmp(v.p, "reg", 3) == 0;
}

bool regevent_is_subscribe(const struct config *cfg, struct sip_msg *m,
			   const struct sip_uri *target)
{
	if (!cfg->notify.subscribe || m->method_id != SIP_METHOD_SUBSCRIBE || !event_is_reg(m))
		return false;
	/* a new one to an AOR of ours, or one within a subscription we
	 * granted (its Request-URI is our Contact) */
	if (sip_msg_to(m)->tag.len)
		return self_is_local_uri(target);
	return target->has_user && config_is_domain(cfg, target->host);
}

/* A SUBSCRIBE being stored: its server transaction (which owns the job). */
struct sub_req {
	struct worker *w;
	struct stx *st;
	unsigned expires;
	char tag[40];
};

static void subscribed(void *arg, int err, const struct store_result *r)
{
	struct sub_req *q = arg;
	const struct sip_job *job = stx_request(q->st);
	struct sip_msg m;
	char extra[256];
	int status = err ? (err == -ECONNRESET || err == -ENOTCONN ? 503 : 500)
			 : atoi(store_result_get(r, 0, 0).p);

	if (!job || worker_parse_aside(q->w, job->data, job->len, &m) < 0) {
		free(q);
		return;
	}
	if (status == 200) {
		/* RFC 6665 §4.2.1.1: 200 with the duration granted */
		snprintf(extra, sizeof(extra), "Expires: %u\r\nContact: <sip:%s>\r\n", q->expires,
			 self_hostport(stx_source(q->st)->listener));
		stx_reply(q->st, q->w, &m, 200, NULL, extra);
	} else if (status == 503) {
		snprintf(extra, sizeof(extra), "Retry-After: %u\r\n",
			 worker_config(q->w)->database.retry_after);
		stx_reply(q->st, q->w, &m, 503, "Database Unavailable", extra);
	} else {
		stx_reply(q->st, q->w, &m, (unsigned)status,
			  status == 481 ? "Subscription Does Not Exist" : NULL, NULL);
	}
	free(q);
}

/* The AOR a SUBSCRIBE is about: the Request-URI of a new one (RFC 3680
 * §4.1), the To of one within its subscription; "sip:user@domain" with
 * the domain lowercase. Returns false when it is not one of ours. */
static bool aor_of(const struct config *cfg, struct sip_msg *m, char *out, size_t cap)
{
	const struct sip_uri *u = sip_msg_to(m)->tag.len ? &sip_msg_to(m)->uri : sip_msg_ruri(m);
	size_t n;

	if (!u->user.len || !config_is_domain(cfg, u->host) || cap < 5)
		return false;
	memcpy(out, "sip:", 4);
	/* (it writes no NUL: the callers read out as a C string) */
	n = sip_user_at_domain(u->user, u->host, out + 4, cap - 5);
	if (!n)
		return false;
	out[4 + n] = '\0';
	return true;
}

/* Record-Route values in order, comma-separated: the route set of the
 * subscription's dialog as its notifier sees it (RFC 3261 §12.1.1). */
static bool route_set_of(struct sip_msg *m, char *buf, size_t cap)
{
	size_t n = 0;

	buf[0] = '\0';
	for (const struct sip_hdr *h = sip_msg_hdr(m, SIP_HDR_RECORD_ROUTE); h;
	     h = sip_msg_hdr_next(m, h)) {
		int k = snprintf(buf + n, cap - n, "%s%.*s", n ? ", " : "", SIP_STR_FMT(h->value));

		if (k < 0 || (size_t)k >= cap - n)
			return false;
		n += (size_t)k;
	}
	return true;
}

static bool accepts_reginfo(struct sip_msg *m)
{
	bool any = false;

	for (const struct sip_hdr *h = sip_msg_hdr(m, SIP_HDR_ACCEPT); h;
	     h = sip_msg_hdr_next(m, h)) {
		struct sip_str cur = h->value, item;

		any = true;
		while (sip_list_next(&cur, &item)) {
			size_t k = 0;

			while (k < item.len && item.p[k] != ';')
				k++;
			while (k && (item.p[k - 1] == ' ' || item.p[k - 1] == '\t'))
				k--;
			if (sip_str_caseeq_cstr(sip_str_make(item.p, k),
						"application/reginfo+xml") ||
			    sip_str_caseeq_cstr(sip_str_make(item.p, k), "application/*") ||
			    sip_str_caseeq_cstr(sip_str_make(item.p, k), "*/*"))
				return true;
		}
	}
	return !any; /* no Accept: the package's default (RFC 6665 §7.2) */
}

bool regevent_subscribe(struct worker *w, struct sip_job *job, struct sip_msg *m)
{
	const struct config *cfg = worker_config(w);
	const struct sip_hdr *eh = sip_msg_hdr(m, SIP_HDR_EXPIRES);
	const struct sip_hdr *ch = sip_msg_hdr(m, SIP_HDR_CONTACT);
	char aor[320], route[REGEVENT_ROUTE_MAX], source[NETADDR_STRLEN + 8], num[3][16];
	struct sip_addr contact;
	struct sub_req *q;
	struct store_op *op;
	struct sip_str call_id = sip_msg_call_id(m);
	bool initial = sip_msg_to(m)->tag.len == 0;
	uint32_t expires = REGEVENT_DFLT_SUB;
	int err = -ENOMEM;
	size_t k;

	/* RFC 3680 §5.6: registration state is private; the back end (a
	 * trusted source) may watch it, nobody else. */
	if (!job->trusted) {
		worker_reply(w, m, &job->src, 403, NULL, NULL);
		return false;
	}
	if (!aor_of(cfg, m, aor, sizeof(aor))) {
		worker_reply(w, m, &job->src, 404, NULL, NULL);
		return false;
	}
	if (!ch || sip_addr_parse(ch->value, &contact) < 0 || contact.star ||
	    !sip_msg_from(m)->tag.len || !route_set_of(m, route, sizeof(route))) {
		worker_reply(w, m, &job->src, 400, "Bad Contact, From Tag or Record-Route", NULL);
		return false;
	}
	if (!accepts_reginfo(m)) {
		worker_reply(w, m, &job->src, 406, NULL, "Accept: application/reginfo+xml\r\n");
		return false;
	}
	if (eh && sip_str_to_u32(eh->value, &expires) == -EINVAL) {
		worker_reply(w, m, &job->src, 400, "Bad Expires", NULL);
		return false;
	}
	/* no minimum: only trusted sources subscribe */
	if (expires > cfg->notify.max_subscribe)
		expires = cfg->notify.max_subscribe;
	q = calloc(1, sizeof(*q));
	if (!q || !(q->st = stx_new(worker_txn(w), job, m, NULL, NULL, &err))) {
		free(q);
		worker_reply(w, m, &job->src, 503, NULL, "Retry-After: 1\r\n");
		return false;
	}
	q->w = w;
	q->expires = expires;
	/* our tag: the one our 200 carries (sip_reply derives it), or the
	 * dialog's */
	if (initial)
		sip_reply_derive_tag(m, q->tag, sizeof(q->tag));
	else
		snprintf(q->tag, sizeof(q->tag), "%.*s", SIP_STR_FMT(sip_msg_to(m)->tag));
	op = store_op_begin(worker_store(w), STORE_REG_SUBSCRIBE, true,
			    store_lock_key(call_id.p, call_id.len), subscribed, q, &err);
	if (!op) {
		stx_reply(q->st, w, m, 503, "Database Unavailable", "Retry-After: 1\r\n");
		free(q);
		return true;
	}
	k = (size_t)snprintf(source, sizeof(source), "%s:", sip_proto_name(job->src.proto));
	netaddr_format(&job->src.remote, source + k, sizeof(source) - k);
	snprintf(num[0], sizeof(num[0]), "%u", expires);
	snprintf(num[1], sizeof(num[1]), "%u", worker_index(w));
	snprintf(num[2], sizeof(num[2]), "%s", initial ? "true" : "false");
	store_op_param_str(op, sip_str_cstr(aor));
	store_op_param_str(op, call_id);
	store_op_param_str(op, sip_msg_from(m)->tag);
	store_op_param_str(op, sip_str_cstr(q->tag));
	store_op_param_str(op, sip_msg_from(m)->uri_str);
	store_op_param_str(op, contact.uri_str);
	store_op_param_str(op, route[0] ? sip_str_cstr(route) : SIP_STR_NULL);
	store_op_param_str(op, sip_str_cstr(source));
	store_op_param_str(op, sip_str_cstr(num[0]));
	store_op_param_str(op, sip_str_cstr(cfg->node.name));
	store_op_param_str(op, sip_str_cstr(num[1]));
	store_op_param_str(op, sip_str_cstr(num[2]));
	return true;
}
