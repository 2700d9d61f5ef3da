/*
 * stateless: the stateless proxy core (RFC 3261 §16.11).
 *
 * A request is validated (§16.3), answered when it is an OPTIONS for the
 * proxy itself, has its route set processed (§16.4, §16.6 steps 6-7) and
 * is relayed with the edits of relay.c under a branch derived from the
 * request itself, so retransmissions, CANCEL and non-2xx ACK take the
 * same path with no state kept. A response is relayed by removing our Via
 * and sending to the next one (§18.2.2); a response whose top Via is not
 * ours is dropped.
 */
#include "stateless.h"

#include "config.h"
#include "log.h"
#include "relay.h"
#include "resolve.h"
#include "route.h"
#include "self.h"
#include "validate.h"

#include <errno.h>
#include <string.h>

/* What an OPTIONS to the proxy answers (§11.2). */
#define OPTIONS_EXTRA                                                                              \
	"Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, REGISTER, INFO, PRACK, UPDATE, SUBSCRIBE, "     \
	"NOTIFY, REFER, MESSAGE, PUBLISH\r\n"                                                      \
	"Accept: application/sdp\r\n"                                                              \
	"Supported: \r\n"

static bool options_for_us(struct sip_msg *m)
{
	const struct sip_uri *u = sip_msg_ruri(m);
	struct hdr_list routes;
	int n;

	if (m->method_id != SIP_METHOD_OPTIONS || !self_is_local_uri(u))
		return false;
	/* A Route that leads elsewhere makes it someone else's OPTIONS. */
	n = hdr_list_collect(m, SIP_HDR_ROUTE, &routes, HDR_LIST_MAX);
	if (n < 0)
		return false;
	for (int i = 0; i < n; i++) {
		struct sip_addr a;

		if (sip_addr_parse(routes.e[i].s, &a) < 0 || !self_is_local_uri(&a.uri))
			return false;
	}
	return true;
}

static void reject(struct worker *w, struct sip_msg *m, const struct sip_source *src,
		   const struct validate_result *v)
{
	worker_reply(w, m, src, v->status, v->reason, v->extra[0] ? v->extra : NULL);
}

void stateless_request(struct worker *w, struct sip_job *job, struct sip_msg *m)
{
	const struct sip_source *src = &job->src;
	struct validate_result v;
	struct route_state rs;
	struct sip_dest dst;
	char branch[RELAY_BRANCH_LEN];
	struct relay_request rr;
	ssize_t n;
	unsigned st;
	int rc;

	if (validate_syntax(m, sip_proto_is_stream(src->proto), &v)) {
		reject(w, m, src, &v);
		return;
	}
	if (options_for_us(m)) {
		worker_reply(w, m, src, 200, NULL, OPTIONS_EXTRA);
		return;
	}
	if (validate_max_forwards(m, &v) || validate_proxy_require(m, &v)) {
		reject(w, m, src, &v);
		return;
	}
	st = route_preprocess(m, &rs);
	if (st == 0)
		st = route_next_hop(m, &rs);
	if (st) {
		worker_reply(w, m, src, st, "Bad Route", NULL);
		return;
	}
	if (!route_has_next(&rs) && rs.target.has_user && config_is_domain(w->cfg, rs.target.host)) {
		/* Ours to serve, and no location service in stateless mode. */
		worker_reply(w, m, src, 404, NULL, NULL);
		return;
	}
	rc = resolve_uri(&rs.hop, m->len, &dst);
	if (rc < 0) {
		/* No target (RFC 3263 §4). 478 is what Kamailio and OpenSIPS
		 * answer here, and operators grep for it; sips without TLS is
		 * an unsupported scheme (416). */
		if (rc == -EPROTONOSUPPORT && rs.hop.scheme == SIP_URI_SIPS)
			worker_reply(w, m, src, 416, NULL, NULL);
		else
			worker_reply(w, m, src, 478,
				     rc == -EPROTONOSUPPORT ? "Unsupported Transport"
							    : "Unresolvable Destination",
				     NULL);
		return;
	}
	if (self_is_listening_on(&dst.addr, dst.proto)) {
		/* It would come straight back to us (§16.3 step 4's concern). */
		worker_reply(w, m, src, 482, NULL, NULL);
		return;
	}

	msg_edits_init(&w->edits);
	relay_stateless_branch(m, rs.target_str, branch);
	rr = (struct relay_request){.src = src,
				    .dst = &dst,
				    .branch = branch,
				    .record_route = w->cfg->sip.record_route &&
						    (m->method_id == SIP_METHOD_INVITE ||
						     m->method_id == SIP_METHOD_SUBSCRIBE ||
						     m->method_id == SIP_METHOD_REFER) &&
						    sip_msg_to(m)->tag.len == 0};
	rc = route_commit(m, &rs, &w->edits);
	if (rc == 0)
		rc = relay_request_edits(m, &rr, &w->edits);
	if (rc < 0) {
		worker_reply(w, m, src, 500, "Cannot Edit Request", NULL);
		return;
	}
	n = msg_edit_apply(&w->edits, m->buf, m->len, w->out, w->out_cap);
	if (n < 0) {
		worker_reply(w, m, src, 513, NULL, NULL);
		return;
	}
	if (worker_send(w, &dst, w->out, (size_t)n) == 0)
		ctr_inc(&w->ctr, CTR_RELAYED_REQUESTS);
	else if (m->method_id != SIP_METHOD_ACK)
		worker_reply(w, m, src, 503, "Next Hop Unreachable", NULL);
}

void stateless_response(struct worker *w, struct sip_job *job, struct sip_msg *m)
{
	const struct sip_via *via = sip_msg_top_via(m);
	struct sip_dest dst;
	ssize_t n;
	int rc;

	(void)job;
	if (!via || sip_msg_check_mandatory(m, false) < 0 || !self_is_our_via(via)) {
		/* Not addressed to us through a Via we added: §16.7 / §18.1.2. */
		ctr_inc(&w->ctr, CTR_DROPPED);
		log_debug("event=response_dropped reason=\"not our Via\" status=%u", m->status);
		return;
	}
	msg_edits_init(&w->edits);
	rc = relay_response_edits(m, &w->edits, &dst);
	if (rc < 0) {
		ctr_inc(&w->ctr, CTR_DROPPED);
		log_debug("event=response_dropped reason=\"%s\" status=%u",
			  rc == -ENOENT ? "no Via left" : "next Via unroutable", m->status);
		return;
	}
	n = msg_edit_apply(&w->edits, m->buf, m->len, w->out, w->out_cap);
	if (n < 0) {
		ctr_inc(&w->ctr, CTR_DROPPED);
		return;
	}
	if (worker_send(w, &dst, w->out, (size_t)n) == 0) {
		ctr_inc(&w->ctr, CTR_RELAYED_RESPONSES);
		ctr_add(&w->ctr.tx_responses[ctr_class(m->status)], 1);
	}
}
