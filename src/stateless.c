/*
 * stateless: the stateless proxy core (RFC 3261 §16.11).
 *
 * A request is validated (§16.3), answered when it is an OPTIONS for the
 * proxy itself, has its route set processed (§16.4, §16.6 steps 6-7) and
 * is relayed with the edits of relay.c under a branch derived from the
 * request itself, so retransmissions, CANCEL and non-2xx ACK take the
 * same path with no state kept. Requests for our domains go to the
 * registrar (REGISTER) or through the location service (everything else),
 * both of which wait for the database and resume from its answer. A response is relayed by removing our Via
 * and sending to the next one (§18.2.2); a response whose top Via is not
 * ours is dropped.
 */
#include "stateless.h"

#include "auth.h"
#include "clock.h"
#include "config.h"
#include "location.h"
#include "log.h"
#include "registrar.h"
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

/* §16.6: the edits for the route set and the relay, applied in one copy,
 * and the send. The target and route set are settled in rs. */
static void forward(struct worker *w, struct sip_job *job, struct sip_msg *m,
		    struct route_state *rs)
{
	const struct sip_source *src = &job->src;
	struct sip_dest dst;
	char branch[RELAY_BRANCH_LEN];
	struct relay_request rr;
	unsigned st;
	ssize_t n;
	int rc;

	st = route_next_hop(m, rs);
	if (st) {
		worker_reply(w, m, src, st, "Bad Route", NULL);
		return;
	}
	rc = resolve_uri(&rs->hop, m->len, &dst);
	if (rc < 0) {
		/* No target (RFC 3263 §4). 478 is what Kamailio and OpenSIPS
		 * answer here, and operators grep for it; sips without TLS is
		 * an unsupported scheme (416). */
		if (rc == -EPROTONOSUPPORT && rs->hop.scheme == SIP_URI_SIPS)
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
	relay_stateless_branch(m, rs->target_str, branch);
	rr = (struct relay_request){.src = src,
				    .dst = &dst,
				    .branch = branch,
				    .record_route = w->cfg->sip.record_route &&
						    (m->method_id == SIP_METHOD_INVITE ||
						     m->method_id == SIP_METHOD_SUBSCRIBE ||
						     m->method_id == SIP_METHOD_REFER) &&
						    sip_msg_to(m)->tag.len == 0};
	rc = route_commit(m, rs, &w->edits);
	if (rc == 0)
		rc = relay_request_edits(m, &rr, &w->edits);
	if (rc == 0 && w->cfg->auth.invite)
		rc = auth_consume_credentials(m, &w->edits);
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

/* The location service answered for a request to one of our users. */
static void located(struct worker *w, struct sip_job *job, int err,
		    const struct location_result *r)
{
	struct route_state rs;
	struct sip_uri target;
	struct sip_msg m;

	if (worker_reparse(w, job, &m) < 0 || route_preprocess(&m, &rs) != 0)
		goto out;
	if (err) {
		worker_reply_db_unavailable(w, &m, &job->src);
		goto out;
	}
	/* Stateless: one target, the best q (RFC 3261 §16.6; forking needs
	 * the stateful proxy). Contacts we cannot route to are skipped. */
	for (unsigned i = 0; i < r->n; i++) {
		if (sip_uri_parse(r->t[i].contact, &target) < 0 ||
		    (target.scheme != SIP_URI_SIP && target.scheme != SIP_URI_SIPS))
			continue;
		route_set_target(&rs, &target);
		if (r->t[i].path.len && route_preload(&rs, r->t[i].path) != 0)
			continue;
		forward(w, job, &m, &rs);
		goto out;
	}
	/* §10: nobody registered (480) or nobody by that name (404). */
	worker_reply(w, &m, &job->src, r->known ? 480 : 404, NULL, NULL);
out:
	job_free(job);
}

/* Out-of-dialog requests from our users are challenged (407) when
 * [auth] invite says so. Returns true when the request may go on; false
 * when it was answered, or kept (*kept) while its user is fetched. */
static bool authorized(struct worker *w, struct sip_job *job, struct sip_msg *m, bool *kept)
{
	const struct sip_addr *from = sip_msg_from(m);
	char extra[1024];
	struct auth_outcome ao;
	char realmbuf[CFG_NAME_MAX];
	struct sip_str realm;

	*kept = false;
	if (!w->cfg->auth.invite || w->cfg->auth.mode != AUTH_MODE_LOCAL ||
	    m->method_id == SIP_METHOD_ACK || m->method_id == SIP_METHOD_CANCEL ||
	    m->method_id == SIP_METHOD_REGISTER || sip_msg_to(m)->tag.len ||
	    !config_is_domain(w->cfg, from->uri.host) || from->uri.host.len >= sizeof(realmbuf))
		return true;
	for (size_t i = 0; i < from->uri.host.len; i++)
		realmbuf[i] = sip_tolower(from->uri.host.p[i]);
	realm = sip_str_make(realmbuf, from->uri.host.len);
	auth_check(m, true, realm, clock_now_ms(), &ao);
	if (ao.verdict == AUTH_PASS) {
		/* The From user must be the one who authenticated. */
		if (w->cfg->auth.aor_owner && !sip_str_eq(ao.username, from->uri.user)) {
			worker_reply(w, m, &job->src, 403, "Not Owner of From", NULL);
			return false;
		}
		return true;
	}
	if (ao.verdict == AUTH_NEED_USER) {
		*kept = auth_fetch_subscriber(w, job, m, ao.username, realm);
		return false;
	}
	if (!auth_challenge(true, realm, ao.stale, clock_now_ms(), extra, sizeof(extra))) {
		worker_reply(w, m, &job->src, 500, NULL, NULL);
		return false;
	}
	worker_reply(w, m, &job->src, 407, NULL, extra);
	return false;
}

bool stateless_request(struct worker *w, struct sip_job *job, struct sip_msg *m)
{
	const struct sip_source *src = &job->src;
	struct validate_result v;
	struct route_state rs;
	unsigned st;
	bool kept;

	if (validate_syntax(m, sip_proto_is_stream(src->proto), &v)) {
		reject(w, m, src, &v);
		return false;
	}
	if (options_for_us(m)) {
		worker_reply(w, m, src, 200, NULL, OPTIONS_EXTRA);
		return false;
	}
	if (validate_max_forwards(m, &v) || validate_proxy_require(m, &v)) {
		reject(w, m, src, &v);
		return false;
	}
	st = route_preprocess(m, &rs);
	if (st) {
		worker_reply(w, m, src, st, "Bad Route", NULL);
		return false;
	}
	if (!route_has_next(&rs) && (rs.target.scheme == SIP_URI_SIP || rs.target.scheme == SIP_URI_SIPS) &&
	    config_is_domain(w->cfg, rs.target.host)) {
		/* Ours to serve: REGISTER to the registrar (§10.3), the rest
		 * through the location service (§16.5). */
		if (m->method_id == SIP_METHOD_REGISTER)
			return registrar_request(w, job, m);
		if (!authorized(w, job, m, &kept))
			return kept;
		/* A non-2xx ACK takes the INVITE's path: the same lookup. With
		 * no database there is no location service: nobody is here. */
		if (rs.target.has_user && !w->store) {
			worker_reply(w, m, src, 404, NULL, NULL);
			return false;
		}
		if (rs.target.has_user)
			return location_lookup(w, job, m, rs.target.user, rs.target.host, located);
	} else if (!authorized(w, job, m, &kept)) {
		return kept;
	}
	forward(w, job, m, &rs);
	return false;
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
