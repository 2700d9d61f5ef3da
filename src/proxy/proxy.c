/*
 * proxy: the transaction-stateful proxy core (RFC 3261 §16).
 *
 * Each proxied request gets a response context (struct pctx): its server
 * transaction, the target set, and one branch (a client transaction) per
 * target tried. Targets of the highest q are tried in parallel; when every
 * branch of that group has failed, the next group is tried (§16.6,
 * sequential forking by q). Responses come back through the client
 * transactions (§16.7): provisionals other than 100 are relayed at once,
 * every 2xx is relayed at once and cancels the other branches, a 6xx ends
 * the search and cancels them, and once every branch has a final response
 * the best one is chosen (step 6: 6xx first, then the lowest class,
 * preferring 401/407/415/420/484; a 503 goes up as 500), with the
 * challenges of every 401/407 merged (step 7). Timer C (§16.6 step 11)
 * cancels a branch that rings too long. A CANCEL (§16.10) is answered 200
 * and cancels every pending branch; a branch that has not answered yet is
 * finished locally with 487 and cancelled if it answers later.
 *
 * Ownership: the context owns its target set and branches; the
 * transactions belong to the layer and tell the context when they are gone
 * (done callbacks). The context lives while it is open (no final response
 * sent upstream yet), looking up targets, or has a client transaction
 * alive; then it detaches from its server transaction, which lingers on
 * its own (Timer J, ...) holding just its key and last response.
 */
#include "proxy/proxy.h"
#include "runtime/counters.h"

#include "base/clock.h"
#include "base/log.h"
#include "base/siphash.h"
#include "config/config.h"
#include "net/nexthop.h"
#include "proxy/accesslog.h"
#include "proxy/affinity.h"
#include "proxy/cdr.h"
#include "proxy/delegate.h"
#include "proxy/relay.h"
#include "proxy/route.h"
#include "proxy/scpool.h"
#include "proxy/self.h"
#include "proxy/stateless.h"
#include "proxy/statroute.h"
#include "proxy/target.h"
#include "proxy/translate.h"
#include "registrar/auth.h"
#include "registrar/location.h"
#include "registrar/registrar.h"
#include "runtime/sip_reply.h"
#include "sip/hdr_list.h"
#include "sip/msg_edit.h"
#include "txn/txn.h"
#include "txn/txn_build.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROXY_MAX_BRANCHES   32
#define PROXY_CHALLENGES_MAX 4096

struct pctx;

struct pbranch {
	struct pctx *p;
	const struct target *t; /* in p->ts */
	struct ctx *c;          /* the client transaction, NULL once gone */
	struct ctx *cancel;     /* our CANCEL's transaction, if sent */
	unsigned final;         /* final status (0: still pending) */
	bool local;             /* final decided here (408, 487, 503...), not received */
	bool provisional;       /* a provisional came: a CANCEL may be sent (§9.1) */
	bool cancel_wanted;     /* cancel once a provisional comes */
	bool by_size;           /* over TCP for its size alone: UDP if TCP is refused */
	/* RFC 3263 §4.3: where the request may go, tried in order (a 503, a
	 * transport error or a timeout moves it to the next); hops.n = 0
	 * until resolved. alt: which of the target's next hops (a static
	 * route may give several, tried in turn) they come from. */
	struct nexthop_list hops;
	unsigned hop_i, alt;
	char *resp; /* the final response as received (for step 6) */
	uint32_t resp_len;
	struct timer timer_c;
};

struct pctx {
	struct worker *w;
	struct stx *st;
	bool invite;
	bool final_sent;
	bool cancelled; /* CANCEL received, 2xx or 6xx: no new branches */
	bool got_2xx, got_6xx;
	bool locating;      /* waiting for the location service */
	bool starts_dialog; /* an INVITE, SUBSCRIBE or REFER outside a dialog */
	bool trusted;       /* from a trusted source (job->trusted) */
	bool closed;        /* the final response went up, or the server transaction is gone */
	unsigned refs;      /* open + locating + live client transactions */
	struct target_set ts;
	unsigned next_target; /* first target not tried yet */
	unsigned nbranches;
	unsigned pending;      /* branches without a final */
	unsigned local_status; /* a final decided before any branch (404, 480...) */
	uint32_t sc_id;        /* the Session Controller chosen, 0: none */
	/* A delegated REGISTER (delegate.h): the header lines added to it
	 * (Path), and its 2xx held while the bindings are committed. */
	char *extra;
	size_t extra_len;
	bool delegated, committing;
	/* Accounting (accesslog.h, cdr.h): when it came, where it went, what
	 * ended it; whether its call record started. */
	uint64_t start_ms, start_wall_ms;
	bool by_cancel, cdr_started, logged;
	char target[NETADDR_STRLEN + 8];
	struct pbranch *b[PROXY_MAX_BRANCHES]; /* each its own block: ctx_ops hold pointers */
};

static void stx_gone(void *tu, struct stx *st);
static void commit_delegated(struct pctx *p, struct sip_msg *m);
static void branch_response(void *tu, struct ctx *c, struct sip_msg *m, uint64_t now_ms);
static void branch_failed(void *tu, struct ctx *c, unsigned status, uint64_t now_ms);
static void branch_gone(void *tu, struct ctx *c);
static void cancel_gone(void *tu, struct ctx *c);
static void cancel_response(void *tu, struct ctx *c, struct sip_msg *m, uint64_t now_ms);
static void cancel_failed(void *tu, struct ctx *c, unsigned status, uint64_t now_ms);

static const struct stx_ops stx_ops = {.done = stx_gone};
static const struct ctx_ops branch_ops = {
	.response = branch_response, .failed = branch_failed, .done = branch_gone};
static const struct ctx_ops cancel_ops = {
	.response = cancel_response, .failed = cancel_failed, .done = cancel_gone};

/* ---- lifetime ------------------------------------------------------------ */

/* The call is set up or failed: its Session Controller's count drops. */
static void release_sc(struct pctx *p)
{
	if (p->sc_id) {
		scpool_release(p->sc_id);
		p->sc_id = 0;
	}
}

static void pctx_unref(struct pctx *p)
{
	if (--p->refs)
		return;
	if (p->st) {
		/* it lingers alone from now on */
		stx_set_user(p->st, NULL, NULL);
	}
	for (unsigned i = 0; i < p->nbranches; i++) {
		timer_stop(worker_timers(p->w), &p->b[i]->timer_c);
		free(p->b[i]->resp);
		free(p->b[i]);
	}
	target_set_free(&p->ts);
	release_sc(p);
	free(p->extra);
	free(p);
}

/* The response context is answered (or has nobody to answer): it stays
 * only for the client transactions still running. */
static void pctx_close(struct pctx *p)
{
	if (p->closed)
		return;
	p->closed = true;
	pctx_unref(p);
}

static void stx_gone(void *tu, struct stx *st)
{
	struct pctx *p = tu;

	(void)st;
	p->st = NULL;
	pctx_close(p);
}

static void branch_gone(void *tu, struct ctx *c)
{
	struct pbranch *b = tu;

	if (b->c == c) /* else a refused TCP attempt, already replaced */
		b->c = NULL;
	pctx_unref(b->p);
}

static void cancel_gone(void *tu, struct ctx *c)
{
	struct pbranch *b = tu;

	(void)c;
	b->cancel = NULL;
	pctx_unref(b->p);
}

/* The original request, parsed into the worker's second header array
 * (the first may hold the response being processed). */
static int parse_request(struct pctx *p, struct sip_msg *m)
{
	const struct sip_job *req = p->st ? stx_request(p->st) : NULL;

	if (!req)
		return -ENOENT;
	return worker_parse_aside(p->w, req->data, req->len, m);
}

/* ---- accounting ------------------------------------------------------------ */

static struct sip_str target_str(const struct pctx *p)
{
	return sip_str_make(p->target, strlen(p->target));
}

/* A call record of event ev for INVITE p (m: the request, or for an answer
 * the 2xx, whose To has the tag). */
static void cdr_of(struct pctx *p, struct sip_msg *m, enum cdr_event ev, unsigned status,
		   const char *reason)
{
	char sc[STORE_SEEN_NAME_MAX] = "";
	struct cdr_record r = {.event = ev,
			       .at_ms = clock_wall_ms(),
			       .call_id = sip_msg_call_id(m),
			       .from_uri = sip_msg_from(m)->uri.raw,
			       .from_tag = sip_msg_from(m)->tag,
			       .to_uri = sip_msg_to(m)->uri.raw,
			       .to_tag = sip_msg_to(m)->tag,
			       .target = target_str(p),
			       .status = status,
			       .reason = reason};

	if (p->sc_id && scpool_name_of(p->sc_id, sc))
		r.sip_server = sip_str_make(sc, strlen(sc));
	if (m->request)
		r.ruri = m->ruri;
	cdr_record(&r);
}

/* The transaction's final answer went up (status 0: none, RFC 4320): its
 * access log line; for a call set up by p, its end when it failed; for a
 * BYE, the call's end. */
static void account_final(struct pctx *p, unsigned status)
{
	struct sip_msg m;
	bool acc = accesslog_on(), cdr = cdr_on() && (p->starts_dialog || !p->invite);

	if (p->logged || (!acc && !cdr) || parse_request(p, &m) < 0)
		return;
	p->logged = true;
	if (acc) {
		struct accesslog_entry e = {.at_ms = p->start_wall_ms,
					    .duration_ms = clock_now_ms() - p->start_ms,
					    .proto = stx_source(p->st)->proto,
					    .src = &stx_source(p->st)->remote,
					    .method = m.method,
					    .ruri = m.ruri,
					    .from_user = sip_msg_from(&m)->uri.user,
					    .call_id = sip_msg_call_id(&m),
					    .target = target_str(p),
					    .status = status};

		accesslog_write(&e);
	}
	if (!cdr)
		return;
	if (p->invite && p->cdr_started && status >= 300)
		cdr_of(p, &m, CDR_END, status,
		       p->by_cancel    ? "cancel"
		       : status == 408 ? "timeout"
				       : "failure");
	else if (m.method_id == SIP_METHOD_BYE && status >= 200 && status < 300)
		cdr_of(p, &m, CDR_END, 0, "bye");
}

/* ---- answering upstream -------------------------------------------------- */

static void final_sent(struct pctx *p)
{
	account_final(p, 0); /* (logged already when a final went up) */
	p->final_sent = true;
	release_sc(p);
	pctx_close(p);
}

/* A final failure, m (the request or the response) going up: the dialog
 * the request was setting up ends (affinity.h). Before it is sent, since
 * the transaction keeps no request once answered. */
static void dialog_failed(struct pctx *p, unsigned status, struct sip_msg *m)
{
	if (status >= 300 && p->starts_dialog && affinity_on(worker_config(p->w)))
		affinity_failed(p->w, m);
}

/* Builds our response r to the transaction's request (m: the request
 * parsed) in the worker's output buffer; its length, or -1. */
static ssize_t build_local(struct pctx *p, const struct sip_reply *r, struct sip_msg *m)
{
	if (!p->st || parse_request(p, m) < 0)
		return -1;
	return sip_reply_build(m, stx_source(p->st), r, worker_out(p->w), worker_out_cap(p->w));
}

/* The 100 affinity.c sent statelessly while the INVITE's dialog was
 * recorded: the transaction keeps it to resend (§17.2.1) and sends none
 * of its own. */
static void trying_kept(struct pctx *p)
{
	struct sip_reply r = {.status = 100};
	struct sip_msg m;
	ssize_t n = build_local(p, &r, &m);

	if (n > 0)
		stx_provisional_sent(p->st, worker_out(p->w), (size_t)n, 100);
}

/* A response of our own to the original request (408, 487, 500...). */
static void respond_local(struct pctx *p, unsigned status, const char *reason, const char *extra)
{
	struct worker *w = p->w;
	struct sip_reply r = {.status = status, .reason = reason, .extra = extra};
	struct sip_msg m;
	ssize_t n = build_local(p, &r, &m);

	if (n < 0)
		return;
	ctr_inc(worker_counters(w), CTR_TX_MESSAGES);
	ctr_response_sent(worker_counters(w), status, true);
	dialog_failed(p, status, &m);
	if (status >= 200)
		account_final(p, status); /* the transaction keeps no request once answered */
	p->refs++; /* held: the server transaction may end inside stx_respond */
	(void)stx_respond(p->st, worker_out(w), (size_t)n, status, clock_now_ms());
	if (status >= 200)
		final_sent(p);
	pctx_unref(p);
}

/* Relays response m upstream through the server transaction (or, when it
 * is gone, statelessly by Via): our Via off, extra header lines added. */
static void relay_up(struct pctx *p, struct sip_msg *m, const char *extra, size_t extra_len)
{
	struct worker *w = p->w;
	struct hdr_list vias;
	unsigned status = m->status;
	ssize_t n;

	if (!p->st) {
		/* a later 2xx of a fork (§16.7 step 9): by Via */
		stateless_response(w, m);
		return;
	}
	msg_edits_init(worker_edits(w));
	(void)hdr_list_collect(m, SIP_HDR_VIA, &vias, 2); /* -E2BIG is fine: two is all we need */
	if (vias.n < 2)
		return; /* no Via beyond ours: not a response to relay */
	if (hdr_list_delete(m, &vias, 1, worker_edits(w)) < 0)
		return;
	if (extra_len && msg_edit_insert(worker_edits(w), m->headers_end, extra, extra_len) < 0)
		return;
	n = msg_edit_apply(worker_edits(w), m->buf, m->len, worker_out(w), worker_out_cap(w));
	if (n < 0)
		return;
	ctr_inc(worker_counters(w), CTR_RELAYED_RESPONSES);
	ctr_response_sent(worker_counters(w), status, false);
	dialog_failed(p, status, m);
	if (status >= 200)
		account_final(p, status);
	p->refs++; /* held: a 2xx ends the INVITE server transaction inside */
	(void)stx_respond(p->st, worker_out(w), (size_t)n, status, clock_now_ms());
	if (status >= 200)
		final_sent(p);
	pctx_unref(p);
}

/* "Retry-After: N" for a 503 caused by the database. */
static const char *db_retry_after(struct worker *w)
{
	static __thread char buf[32];

	snprintf(buf, sizeof(buf), "Retry-After: %u\r\n", worker_config(w)->database.retry_after);
	return buf;
}

/* ---- branches ------------------------------------------------------------- */

/* §9.1: the CANCEL of branch b's request, as a client transaction of its
 * own. It is built to the request's size, so only memory or a full table
 * can stop it; then the callee rings on, so that is logged and counted
 * (ctx_build_cancel logs its own failures). */
static void send_cancel(struct pbranch *b)
{
	struct worker *w = b->p->w;
	char *out = NULL;
	size_t n = 0;
	int rc, err = 0;

	if (!b->c || b->cancel)
		return;
	rc = ctx_build_cancel(b->c, &out, &n);
	if (rc == 0) {
		b->cancel = ctx_send(worker_txn(w), out, n, ctx_dest(b->c), SIP_METHOD_CANCEL,
				     ctx_branch(b->c), &cancel_ops, b, clock_now_ms(), &err);
		if (!b->cancel)
			log_warn("event=cancel_not_sent reason=\"%s\" branch=%s", strerror(-err),
				 ctx_branch(b->c));
	}
	free(out); /* ctx_send keeps its own copy */
	if (!b->cancel) {
		ctr_inc(worker_counters(w), CTR_TX_ERRORS);
		return;
	}
	b->p->refs++;
}

/* Cancels a pending branch (§16.10): at once if it has answered, else
 * when it does; either way it counts as finished with 487 from now. */
static void cancel_branch(struct pbranch *b)
{
	if (b->final)
		return;
	timer_stop(worker_timers(b->p->w), &b->timer_c);
	if (b->provisional)
		send_cancel(b);
	else
		b->cancel_wanted = true;
	b->final = 487;
	b->local = true;
	b->p->pending--;
}

static void cancel_pending(struct pctx *p)
{
	for (unsigned i = 0; i < p->nbranches; i++)
		cancel_branch(p->b[i]);
}

/* The final status of a branch whose next hop did not resolve: 416 for
 * sips we cannot send, 478 for a name without an address, 504 when DNS
 * itself failed (RFC 3261 §21.5.5: an external server did not answer). */
static unsigned resolve_status(int rc, const struct sip_uri *hop)
{
	if (rc == -EPROTONOSUPPORT && hop && hop->scheme == SIP_URI_SIPS)
		return 416;
	return rc == -ETIMEDOUT || rc == -EIO ? 504 : 478;
}

static void send_branch(struct pbranch *b, unsigned udp_mtu);
static void resolved(void *arg, int rc, const struct nexthop_list *l);

static void on_timer_c(struct timer *t, void *arg, uint64_t now_ms)
{
	struct pbranch *b = arg;

	(void)t;
	(void)now_ms;
	if (b->final)
		return;
	/* §16.8: with a provisional, CANCEL it; without, it is a 408. */
	log_debug("event=timer_c provisional=%d", b->provisional);
	if (b->provisional) {
		send_cancel(b);
		b->final = 408;
	} else {
		b->final = 408;
		b->cancel_wanted = true;
	}
	b->local = true;
	b->p->pending--;
	proxy_check_complete(b->p);
}

/* A binding whose Path is this node's own WebSocket flow alone (core.c's
 * core_flow_path()): the hop is the connection itself, not ourselves
 * first. hop points into buf. */
static bool own_flow(const char *path, struct route_state *rs, char *buf, size_t cap)
{
	struct sip_str cur = sip_str_cstr(path), first;
	struct sip_addr a;
	struct sip_uri hop;

	if (!sip_list_next(&cur, &first) || cur.len || sip_addr_parse(first, &a) < 0 ||
	    !self_is_local_uri(&a.uri) || route_ws_flow(first, buf, cap, &hop) < 0)
		return false;
	route_set_hop(rs, &hop);
	return true;
}

/* Sends branch b to its target (§16.6 steps 1-10), over TCP for a request
 * above udp_mtu bytes (0: never). A failure before sending counts as the
 * branch's final response (404/478/503: step 6 picks among them). */
static void send_branch(struct pbranch *b, unsigned udp_mtu)
{
	struct pctx *p = b->p;
	const struct target *t = b->t;
	struct worker *w = p->w;
	const struct config *cfg = worker_config(w);
	struct route_state rs;
	struct sip_uri uri;
	struct sip_dest dst;
	struct relay_request rr;
	struct sip_msg m;
	char branch[RELAY_BRANCH_MAX];
	char hop[TARGET_HOP_MAX], flow[TARGET_HOP_MAX];
	unsigned status = 0;
	ssize_t n;
	int rc, err;

	if (parse_request(p, &m) < 0 || route_preprocess(&m, &rs) != 0) {
		status = 500;
		goto failed;
	}
	if (t->uri) {
		if (sip_uri_parse(sip_str_cstr(t->uri), &uri) < 0) {
			status = 404;
			goto failed;
		}
		route_set_target(&rs, &uri);
	}
	if (t->path && own_flow(t->path, &rs, flow, sizeof(flow))) {
		/* down the connection this node holds (core.c) */
	} else if ((t->path && route_preload(&rs, sip_str_cstr(t->path)) != 0) ||
		   route_next_hop(&m, &rs) != 0) {
		status = 400;
		goto failed;
	}
	if (t->hop && (target_hop(t, b->alt, hop, sizeof(hop)) < 0 ||
		       sip_uri_parse(sip_str_cstr(hop), &rs.hop) < 0)) {
		status = 500;
		goto failed;
	}
	if (!b->hops.n) {
		/* RFC 3263 §4: the hop's transports, ports and addresses */
		rc = nexthop_resolve(worker_dns(w), &rs.hop, m.len, udp_mtu, &b->hops, resolved, b);
		if (rc == 1) {
			p->refs++; /* until resolved() */
			return;
		}
		if (rc < 0) {
			b->hops.n = 0;
			status = resolve_status(rc, &rs.hop);
			goto failed;
		}
		b->hop_i = 0;
	}
	dst = b->hops.d[b->hop_i];
	dst.name = b->hops.name[0] ? b->hops.name : NULL;
	b->by_size = b->hops.by_size && dst.proto == SIP_PROTO_TCP;
	/* RFC 5630 §3.1.3: a sips Request-URI travels over TLS on every hop,
	 * whatever the Route says. */
	if (rs.target.scheme == SIP_URI_SIPS && !sip_proto_is_secure(dst.proto)) {
		status = 480;
		goto failed;
	}
	/* Straight back to us unchanged is a loop; with a new Request-URI it
	 * is a spiral (§16.3 step 4), and the loop check catches it if it
	 * ever comes back unchanged. */
	if (!rs.ruri_changed && self_is_listening_on(&dst.addr, dst.proto)) {
		status = 482;
		goto failed;
	}
	relay_stateful_branch(&m, worker_unique(w), branch);
	msg_edits_init(worker_edits(w));
	rr = (struct relay_request){.src = stx_source(p->st),
				    .dst = &dst,
				    .branch = branch,
				    /* a 2xx retransmitted once the transaction is
				     * gone is relayed by Via: back on the connection
				     * the request came on (§18.2.2), the only way
				     * to a WebSocket client */
				    .conn_hint = sip_proto_is_stream(stx_source(p->st)->proto),
				    .record_route =
					    (config_record_route(cfg) ||
					     relay_must_record_route(stx_source(p->st), &dst)) &&
					    (m.method_id == SIP_METHOD_INVITE ||
					     m.method_id == SIP_METHOD_SUBSCRIBE ||
					     m.method_id == SIP_METHOD_REFER) &&
					    sip_msg_to(&m)->tag.len == 0};
	rc = route_commit(&m, &rs, worker_edits(w));
	if (rc == 0)
		rc = relay_request_edits(&m, &rr, worker_edits(w));
	if (rc == 0 && p->extra_len) {
		/* RFC 3327 §5.2: our Path in front of any the request has */
		const struct sip_hdr *ph = sip_msg_hdr(&m, SIP_HDR_PATH);

		rc = msg_edit_insert(worker_edits(w), ph ? ph->start : m.headers_end, p->extra,
				     p->extra_len);
	}
	if (rc == 0 && cfg->auth.invite)
		rc = auth_consume_credentials(&m, worker_edits(w));
	n = rc == 0 ? msg_edit_apply(worker_edits(w), m.buf, m.len, worker_out(w),
				     worker_out_cap(w))
		    : -EINVAL;
	if (n < 0) {
		status = 500;
		goto failed;
	}
	b->c = ctx_send(worker_txn(w), worker_out(w), (size_t)n, &dst, m.method_id, branch,
			&branch_ops, b, clock_now_ms(), &err);
	if (!b->c) {
		status = 503;
		goto failed;
	}
	p->refs++;
	if (accesslog_on() || cdr_on()) {
		/* where it went, for the records (none kept otherwise) */
		char a[NETADDR_STRLEN];

		netaddr_format(&dst.addr, a, sizeof(a));
		snprintf(p->target, sizeof(p->target), "%s:%s", sip_proto_name(dst.proto), a);
	}
	if (p->invite && p->starts_dialog && !p->cdr_started && cdr_on()) {
		p->cdr_started = true;
		cdr_of(p, &m, CDR_START, 0, NULL);
	}
	ctr_inc(worker_counters(w), CTR_RELAYED_REQUESTS);
	ctr_inc(worker_counters(w), CTR_TX_MESSAGES);
	if (p->invite) /* §16.6 step 11 */
		(void)timer_start(worker_timers(w), &b->timer_c,
				  clock_now_ms() + cfg->transaction.timer_c, on_timer_c, b);
	return;
failed:
	b->final = status;
	b->local = true;
	p->pending--;
}

/* The next hop of branch b is resolved (rc 0, l) or not: the branch is
 * sent, or fails over to the target's next hop, or fails. */
static void resolved(void *arg, int rc, const struct nexthop_list *l)
{
	struct pbranch *b = arg;
	struct pctx *p = b->p;

	if (b->final) {
		/* cancelled (CANCEL, 6xx or 2xx elsewhere) while DNS answered */
	} else if (rc == 0) {
		b->hops = *l;
		b->hop_i = 0;
		send_branch(b, worker_config(p->w)->sip.udp_mtu);
		if (b->final)
			proxy_check_complete(p);
	} else if (b->t->hop && target_hop(b->t, b->alt + 1, NULL, 0) == 0) {
		b->alt++; /* the static route's next hop */
		send_branch(b, worker_config(p->w)->sip.udp_mtu);
		if (b->final)
			proxy_check_complete(p);
	} else {
		b->final = resolve_status(rc, NULL);
		b->local = true;
		p->pending--;
		proxy_check_complete(p);
	}
	pctx_unref(p);
}

/* §4.3 of RFC 3263: branch b's destination failed (a 503, a transport
 * error, a timeout): the request goes to the next one, as a new client
 * transaction. Returns false when there is none (or it may not). */
static bool fail_over(struct pbranch *b)
{
	struct pctx *p = b->p;

	if (b->final || p->cancelled)
		return false;
	if (b->hop_i + 1 < b->hops.n) {
		b->hop_i++;
	} else if (b->t->hop && target_hop(b->t, b->alt + 1, NULL, 0) == 0) {
		b->alt++;
		b->hops.n = 0;
	} else {
		return false;
	}
	ctr_inc(worker_counters(p->w), CTR_FAILOVERS);
	timer_stop(worker_timers(p->w), &b->timer_c);
	send_branch(b, worker_config(p->w)->sip.udp_mtu);
	if (b->final)
		proxy_check_complete(p);
	return true;
}

/* Starts one branch to target t (§16.6). */
static void start_branch(struct pctx *p, const struct target *t)
{
	struct pbranch *b;

	if (p->nbranches == PROXY_MAX_BRANCHES)
		return;
	b = calloc(1, sizeof(*b));
	if (!b)
		return;
	p->b[p->nbranches++] = b;
	b->p = p;
	b->t = t;
	p->pending++;
	send_branch(b, worker_config(p->w)->sip.udp_mtu);
}

/* Starts the next q group (§16.6: parallel within, sequential across).
 * Returns false when no target is left. */
static bool start_next_group(struct pctx *p)
{
	unsigned end;

	if (p->next_target >= p->ts.n || p->cancelled)
		return false;
	end = target_group_end(&p->ts, p->next_target);
	for (unsigned i = p->next_target; i < end; i++)
		start_branch(p, &p->ts.t[i]);
	p->next_target = end;
	return true;
}

/* ---- choosing the response (§16.7 step 6) --------------------------------- */

static int class_rank(unsigned status)
{
	/* lowest class first; 6xx handled before this */
	return (int)(status / 100);
}

static bool preferred_4xx(unsigned status)
{
	return status == 401 || status == 407 || status == 415 || status == 420 || status == 484;
}

static struct pbranch *best_branch(struct pctx *p)
{
	struct pbranch *best = NULL;

	for (unsigned i = 0; i < p->nbranches; i++) {
		struct pbranch *b = p->b[i];

		if (!b->final)
			continue;
		if (b->final >= 600) {
			if (!best || best->final < 600)
				best = b;
			continue;
		}
		if (best && best->final >= 600)
			continue;
		if (!best || class_rank(b->final) < class_rank(best->final) ||
		    (class_rank(b->final) == class_rank(best->final) && preferred_4xx(b->final) &&
		     !preferred_4xx(best->final)) ||
		    (class_rank(b->final) == class_rank(best->final) && b->resp && !best->resp &&
		     preferred_4xx(b->final) == preferred_4xx(best->final)))
			best = b;
	}
	return best;
}

/* §16.7 step 7: the WWW-Authenticate and Proxy-Authenticate lines of every
 * 401/407 except the chosen one's, to add to it. */
static size_t merged_challenges(struct pctx *p, struct pbranch *chosen, char *buf, size_t cap)
{
	size_t n = 0;

	for (unsigned i = 0; i < p->nbranches; i++) {
		struct pbranch *b = p->b[i];
		struct txn_reparsed r;
		bool full = false;

		if (b == chosen || !b->resp || (b->final != 401 && b->final != 407))
			continue;
		/* sized from the response: it may carry up to max_headers lines */
		if (txn_reparse(&r, b->resp, b->resp_len) == 0) {
			for (unsigned k = 0; k < r.m.nhdrs && !full; k++) {
				const struct sip_hdr *h = &r.m.hdrs[k];
				size_t len = h->end - h->start;

				if (h->id != SIP_HDR_WWW_AUTHENTICATE &&
				    h->id != SIP_HDR_PROXY_AUTHENTICATE)
					continue;
				full = len > cap - n;
				if (!full) {
					memcpy(buf + n, r.m.buf + h->start, len);
					n += len;
				}
			}
		}
		txn_reparsed_free(&r);
		if (full)
			break;
	}
	return n;
}

void proxy_check_complete(struct pctx *p)
{
	struct pbranch *best;

	if (p->final_sent || p->pending || p->locating || p->committing)
		return;
	/* §16.7 step 4: with no 2xx or 6xx, the next q group may succeed
	 * (a group whose branches all failed at once gives way to the next). */
	while (!p->got_2xx && !p->got_6xx && start_next_group(p))
		if (p->pending)
			return;
	if (p->got_2xx) {
		final_sent(p); /* the 2xx went up already */
		return;
	}
	best = best_branch(p);
	/* RFC 4320 §4.1: no 408 for a non-INVITE: when a branch timed out
	 * and nothing better came back, the request goes unanswered, like its
	 * client expects. A request that never had a branch is answered
	 * below (§16.7 step 6, §10: 480 or 404). */
	if (!p->invite && best && best->final == 408 && !best->resp) {
		final_sent(p);
		return;
	}
	if (!best) {
		respond_local(p, p->local_status ? p->local_status : 480, NULL, NULL);
		return;
	}
	/* A 503 from a branch means that next hop is unavailable, not that we
	 * are: never relayed as 503 (§16.7 step 6). */
	if (best->final == 503 || !best->resp) {
		respond_local(p, best->final == 503 ? 500 : best->final, NULL, NULL);
		return;
	}
	{
		/* the chosen response as received, parsed with a header array
		 * sized from it (it may carry up to max_headers lines) */
		struct txn_reparsed r;
		char extra[PROXY_CHALLENGES_MAX];
		size_t extra_len = 0;

		if (txn_reparse(&r, best->resp, best->resp_len) < 0) {
			txn_reparsed_free(&r);
			respond_local(p, 500, NULL, NULL);
			return;
		}
		if (best->final == 401 || best->final == 407)
			extra_len = merged_challenges(p, best, extra, sizeof(extra));
		relay_up(p, &r.m, extra, extra_len);
		txn_reparsed_free(&r);
	}
}

/* ---- a delegated REGISTER -------------------------------------------------- */

/* Its bindings are committed (status 0) or not: the back end's 2xx goes
 * up as it came, or the status that says why not (registrar.h). */
static void delegated_committed(struct worker *w, void *arg, unsigned status)
{
	struct pbranch *b = arg;
	struct pctx *p = b->p;
	struct txn_reparsed r;

	(void)w;
	p->committing = false;
	ctr_inc(worker_counters(p->w), status ? CTR_DELEGATED_FAILED : CTR_DELEGATED_ACCEPTED);
	if (status) {
		log_info("event=delegated_not_stored status=%u", status);
		respond_local(p, status, status == 503 ? "Database Unavailable" : NULL,
			      status == 503 ? db_retry_after(p->w) : NULL);
	} else if (txn_reparse(&r, b->resp, b->resp_len) < 0) {
		txn_reparsed_free(&r);
		respond_local(p, 500, NULL, NULL);
	} else {
		relay_up(p, &r.m, NULL, 0);
		txn_reparsed_free(&r);
	}
	if (!p->final_sent)
		final_sent(p); /* nobody left to answer (the transaction went) */
	pctx_unref(p);
}

/* The back end accepted REGISTER p: its 2xx m is held (copied into the
 * branch) until the bindings are committed, so the endpoint never hears
 * 200 for a binding the location service does not have. */
static void commit_delegated(struct pctx *p, struct sip_msg *m)
{
	struct pbranch *b = NULL;
	struct sip_msg req;
	unsigned status;

	for (unsigned i = 0; i < p->nbranches && !b; i++)
		if (p->b[i]->final == m->status && !p->b[i]->resp)
			b = p->b[i];
	if (!b || !(b->resp = malloc(m->len)) || parse_request(p, &req) < 0) {
		respond_local(p, 500, NULL, NULL);
		return;
	}
	memcpy(b->resp, m->buf, m->len);
	b->resp_len = m->len;
	p->committing = true;
	p->refs++; /* until delegated_committed() */
	status = registrar_commit(p->w, &req, stx_source(p->st), m, delegated_committed, b);
	if (status) {
		p->committing = false;
		p->refs--;
		respond_local(p, status, NULL, NULL);
	}
}

/* ---- responses from the branches ------------------------------------------ */

static void branch_response(void *tu, struct ctx *c, struct sip_msg *m, uint64_t now_ms)
{
	struct pbranch *b = tu;
	struct pctx *p = b->p;
	struct worker *w = p->w;
	unsigned status = m->status;

	(void)c;
	(void)now_ms;
	if (status < 200) {
		b->provisional = true;
		if (b->cancel_wanted) {
			send_cancel(b); /* §9.1: now that it has answered */
			return;
		}
		if (b->final)
			return;
		/* §16.7 step 2: a ringing branch gets a fresh Timer C */
		if (p->invite && status > 100 && timer_running(&b->timer_c))
			(void)timer_start(worker_timers(w), &b->timer_c,
					  clock_now_ms() + worker_config(w)->transaction.timer_c,
					  on_timer_c, b);
		/* step 5: 100 stays here, the rest goes up at once */
		if (status > 100 && !p->final_sent)
			relay_up(p, m, NULL, 0);
		return;
	}
	if (status < 300 && p->delegated) {
		if (!b->final)
			p->pending--;
		b->final = status;
		b->local = false;
		if (!p->got_2xx && !p->final_sent)
			commit_delegated(p, m);
		p->got_2xx = true;
		p->cancelled = true;
		return;
	}
	if (status < 300) {
		/* step 5 and 9: every 2xx goes up at once, even after another
		 * and even from a branch already given up on (the UAC must see
		 * it to ACK and BYE it). */
		bool first = !p->got_2xx;

		if (!b->final)
			p->pending--;
		timer_stop(worker_timers(w), &b->timer_c);
		b->final = status;
		b->local = false;
		p->got_2xx = true;
		p->cancelled = true;
		if (first && affinity_on(worker_config(w)))
			affinity_answered(w, m); /* a dialog recorded as early is up */
		if (first && p->invite && p->cdr_started)
			cdr_of(p, m, CDR_ANSWER, status, NULL);
		relay_up(p, m, NULL, 0);
		if (p->invite) {
			ctr_inc(worker_counters(w), CTR_DIALOGS_CREATED);
			log_debug("event=dialog_created call_id=%.*s",
				  SIP_STR_FMT(sip_msg_call_id(m)));
			if (first)
				cancel_pending(p); /* step 10 */
		} else if (p->st && stx_method(p->st) == SIP_METHOD_BYE) {
			ctr_inc(worker_counters(w), CTR_DIALOGS_ENDED);
			log_debug("event=dialog_ended call_id=%.*s",
				  SIP_STR_FMT(sip_msg_call_id(m)));
		}
		if (!p->final_sent)
			final_sent(p);
		return;
	}
	if (b->final)
		return; /* given up already (cancelled, Timer C): absorbed */
	if (status == 503 && !p->delegated && fail_over(b))
		return; /* RFC 3263 §4.3: the next destination */
	if (p->delegated) {
		struct sip_msg req;

		ctr_inc(worker_counters(w), status == 401 || status == 407
						    ? CTR_DELEGATED_CHALLENGED
						    : CTR_DELEGATED_REJECTED);
		if ((status == 401 || status == 403 || status == 407) &&
		    parse_request(p, &req) == 0)
			delegate_refused(w, &req, stx_source(p->st), p->trusted, m);
	}
	timer_stop(worker_timers(w), &b->timer_c);
	b->final = status;
	b->local = false;
	b->resp = malloc(m->len);
	if (b->resp) {
		memcpy(b->resp, m->buf, m->len);
		b->resp_len = m->len;
	}
	p->pending--;
	if (status >= 600) {
		/* step 5: a 6xx ends the search */
		p->got_6xx = true;
		p->cancelled = true;
		cancel_pending(p);
	}
	proxy_check_complete(p);
}

static void branch_failed(void *tu, struct ctx *c, unsigned status, uint64_t now_ms)
{
	struct pbranch *b = tu;

	(void)c;
	(void)now_ms;
	if (b->final)
		return;
	timer_stop(worker_timers(b->p->w), &b->timer_c);
	if (status == 503 && b->by_size) {
		/* §18.1.1: TCP was chosen for the size alone and the connection
		 * was refused: the same request over UDP, as a new branch. */
		b->by_size = false;
		b->hops.d[b->hop_i].proto = SIP_PROTO_UDP;
		send_branch(b, 0);
		if (b->final)
			proxy_check_complete(b->p);
		return;
	}
	/* RFC 3263 §4.3: a transport error or a timeout: the next one */
	if (!b->p->delegated && fail_over(b))
		return;
	/* §16.7 step 1 and §16.8: a timeout is a 408, a transport error a
	 * 503 (which step 6 turns into 500 if it is all there is). */
	if (b->p->delegated)
		ctr_inc(worker_counters(b->p->w), CTR_DELEGATED_FAILED);
	b->final = status;
	b->local = true;
	b->p->pending--;
	proxy_check_complete(b->p);
}

static void cancel_response(void *tu, struct ctx *c, struct sip_msg *m, uint64_t now_ms)
{
	(void)tu;
	(void)c;
	(void)m;
	(void)now_ms; /* the 200 (or 481) to our CANCEL ends with it */
}

static void cancel_failed(void *tu, struct ctx *c, unsigned status, uint64_t now_ms)
{
	(void)tu;
	(void)c;
	(void)status;
	(void)now_ms;
}

/* ---- entry points ----------------------------------------------------------- */

/* The Request-URI is translated (translate.h): the targets to try, or
 * the status that ends the request. */
static void translated(void *arg, unsigned status, struct target_set *ts, const char *reason,
		       const char *extra)
{
	struct pctx *p = arg;

	p->locating = false;
	if (p->cancelled) {
		/* CANCEL came during the lookup: nothing was sent anywhere */
		target_set_free(ts);
		respond_local(p, 487, NULL, NULL);
	} else if (status == 404 || status == 480) {
		p->local_status = status; /* §16.7 step 6 with no branch at all */
		proxy_check_complete(p);
	} else if (status) {
		respond_local(p, status, reason, status == 503 ? db_retry_after(p->w) : extra);
	} else {
		p->ts = *ts; /* ours now */
		start_next_group(p);
		proxy_check_complete(p);
	}
	pctx_unref(p); /* the translation's reference */
}

/* Does the request's Request-URI go through translation? Out-of-dialog
 * requests that no Route leads (§16.4): to our users (locate), or
 * elsewhere when a step could apply there (ENUM, a static route or
 * outbound proxy loaded); the rest keep their Request-URI at no cost. */
static bool wants_translation(const struct config *cfg, struct sip_msg *m,
			      const struct route_state *rs, bool locate)
{
	if (sip_msg_to(m)->tag.len || route_has_next(rs))
		return false;
	return locate || (cfg->routing.translate & CFG_TRANSLATE_ENUM) || statroute_count() > 0;
}

bool proxy_start(struct worker *w, struct sip_job *job, struct sip_msg *m, struct route_state *rs,
		 bool locate)
{
	return proxy_start_to(w, job, m, rs, locate, NULL);
}

bool proxy_start_to(struct worker *w, struct sip_job *job, struct sip_msg *m,
		    struct route_state *rs, bool locate, const struct scpool_pick *sc)
{
	struct pctx *p = calloc(1, sizeof(*p));
	int err = -ENOMEM;
	bool trying_sent = job->trying_sent; /* job is the transaction's once it exists */

	if (!p || !(p->st = stx_new(worker_txn(w), job, m, &stx_ops, p, &err))) {
		free(p);
		worker_reply(w, m, &job->src, 503, err == -EBUSY ? "Too Many Transactions" : NULL,
			     "Retry-After: 1\r\n");
		return false;
	}
	p->w = w;
	p->start_ms = clock_now_ms();
	p->start_wall_ms = clock_wall_ms();
	p->invite = m->method_id == SIP_METHOD_INVITE;
	p->starts_dialog = (p->invite || m->method_id == SIP_METHOD_SUBSCRIBE ||
			    m->method_id == SIP_METHOD_REFER) &&
			   sip_msg_to(m)->tag.len == 0;
	p->refs = 1; /* open: released when the final response goes up */
	if (p->invite && trying_sent)
		trying_kept(p); /* sent already, while its dialog was recorded */
	else if (p->invite)
		respond_local(p, 100, NULL, NULL); /* §16.2: the INVITE is ours now */
	p->trusted = job->trusted;
	if (!sc && wants_translation(worker_config(w), m, rs, locate)) {
		const struct config *cfg = worker_config(w);
		/* a foreign target passed the relay policy already (core.c);
		 * one of ours may leave only as translate.h says */
		bool authed =
			cfg->auth.invite &&
			(cfg->auth.mode == AUTH_MODE_LOCAL || cfg->auth.mode == AUTH_MODE_HTTP) &&
			config_is_domain(cfg, sip_msg_from(m)->uri.host);
		bool may_leave = p->trusted || authed || cfg->security.open_relay || !locate;

		p->locating = true;
		p->refs++;
		if (translate_start(w, &rs->target, may_leave, p->trusted, translated, p) < 0) {
			p->locating = false;
			respond_local(p, 500, NULL, NULL);
			pctx_unref(p);
		}
		return true;
	}
	if (sc) {
		/* counted as being set up there until the context goes */
		p->sc_id = sc->id;
		if (target_set_hop(&p->ts, sc->uri) < 0) {
			respond_local(p, 500, NULL, NULL); /* ends p */
			return true;
		}
	} else {
		target_set_self(&p->ts);
	}
	start_next_group(p);
	proxy_check_complete(p);
	return true;
}

bool proxy_register_to(struct worker *w, struct sip_job *job, struct sip_msg *m,
		       struct route_state *rs, const struct scpool_pick *sc, const char *extra)
{
	struct pctx *p = calloc(1, sizeof(*p));
	int err = -ENOMEM;

	if (p && extra) {
		p->extra_len = strlen(extra);
		p->extra = strdup(extra);
	}
	if (!p || (extra && !p->extra) ||
	    !(p->st = stx_new(worker_txn(w), job, m, &stx_ops, p, &err))) {
		if (p)
			free(p->extra);
		free(p);
		scpool_release(sc->id);
		worker_reply(w, m, &job->src, 503, err == -EBUSY ? "Too Many Transactions" : NULL,
			     "Retry-After: 1\r\n");
		return false;
	}
	(void)rs;
	p->w = w;
	p->start_ms = clock_now_ms();
	p->start_wall_ms = clock_wall_ms();
	p->delegated = true;
	p->refs = 1;
	p->trusted = job->trusted;
	p->sc_id = sc->id;
	if (target_set_hop(&p->ts, sc->uri) < 0) {
		respond_local(p, 500, NULL, NULL);
		return true;
	}
	start_next_group(p);
	proxy_check_complete(p);
	return true;
}

bool proxy_cancel(struct worker *w, struct sip_job *job, struct sip_msg *m)
{
	struct stx *st = stx_find_cancelled(worker_txn(w), m);
	struct pctx *p;

	if (!st)
		return false; /* §16.10: no context, relayed statelessly */
	/* §16.10: the CANCEL itself is answered 200 at once, hop by hop. */
	worker_reply(w, m, &job->src, 200, NULL, NULL);
	p = stx_user(st);
	if (!p || p->final_sent || p->cancelled)
		return true; /* answered already: nothing left to cancel */
	p->cancelled = true;
	p->by_cancel = true;
	if (p->locating)
		return true; /* answered 487 when the lookup returns */
	cancel_pending(p);
	proxy_check_complete(p);
	return true;
}
