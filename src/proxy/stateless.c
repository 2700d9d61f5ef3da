/*
 * stateless: relaying without transaction state (RFC 3261 §16.11).
 *
 * A request leaves with the edits of relay.c under a branch derived from
 * the request itself, so retransmissions, CANCEL and the ACK of a non-2xx
 * take the same path with no state kept; a request for one of our users
 * goes to the best binding the location service has. A response is relayed
 * by removing our Via and sending it to the next one (§18.2.2); one whose
 * top Via is not ours is dropped. The stateful proxy uses these for ACKs
 * of 2xx, stray CANCELs and responses that match no transaction.
 */
#include "proxy/stateless.h"
#include "runtime/counters.h"

#include "base/log.h"
#include "config/config.h"
#include "net/nexthop.h"
#include "proxy/relay.h"
#include "proxy/route.h"
#include "proxy/self.h"
#include "registrar/auth.h"
#include "registrar/location.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* A request kept while its next hop resolves (stateless_forward()). */
struct dns_wait {
	struct worker *w;
	struct sip_job *job;
};

/* DNS answered into the cache: the request runs again from the start and
 * finds the answer there (a failure is not cached: after a few runs it is
 * answered 504 instead of asking again). */
static void dns_answered(void *arg, int rc, const struct nexthop_list *l)
{
	struct dns_wait *dw = arg;
	struct sip_msg m;

	(void)l;
	if (rc < 0) {
		/* no address: answered here (a negative answer may not be
		 * cacheable, RFC 2308 §5) */
		if (worker_reparse(dw->w, dw->job, &m) == 0 && m.method_id != SIP_METHOD_ACK)
			worker_reply(dw->w, &m, &dw->job->src,
				     rc == -ETIMEDOUT || rc == -EIO ? 504 : 478,
				     rc == -ETIMEDOUT || rc == -EIO ? "DNS Unavailable"
								    : "Unresolvable Destination",
				     NULL);
		job_free(dw->job);
	} else {
		dw->job->replays++;
		worker_resume(dw->w, dw->job);
	}
	free(dw);
}

/* §16.6: the edits for the route set and the relay, applied in one copy,
 * and the send. The target and route set are settled in rs. */
bool stateless_forward(struct worker *w, struct sip_job *job, struct sip_msg *m,
		       struct route_state *rs)
{
	const struct sip_source *src = &job->src;
	struct nexthop_list hops;
	struct sip_dest dst;
	char branch[RELAY_BRANCH_LEN];
	struct relay_request rr;
	unsigned st, udp_mtu = worker_config(w)->sip.udp_mtu;
	ssize_t n;
	int rc, by_size;

	st = route_next_hop(m, rs);
	if (st) {
		worker_reply(w, m, src, st, "Bad Route", NULL);
		return false;
	}
again:
	if (job->replays >= 3) {
		/* run again after DNS answered, and still not in the cache */
		rc = nexthop_resolve(NULL, &rs->hop, m->len, udp_mtu, &hops, NULL, NULL);
		if (rc == -EHOSTUNREACH)
			rc = -ETIMEDOUT;
	} else {
		struct dns_wait *dw = malloc(sizeof(*dw));

		if (!dw) {
			worker_reply(w, m, src, 500, NULL, NULL);
			return false;
		}
		*dw = (struct dns_wait){.w = w, .job = job};
		rc = nexthop_resolve(worker_dns(w), &rs->hop, m->len, udp_mtu, &hops, dns_answered,
				     dw);
		if (rc != 1)
			free(dw);
	}
	if (rc == 1) {
		/* No transaction to wait in: the job is kept until DNS has
		 * answered into the cache, then runs again. */
		ctr_inc(worker_counters(w), CTR_DNS_STATELESS_WAITS);
		return true;
	}
	if (rc == 0) {
		/* stateless: the first destination, no failover (§16.11) */
		dst = hops.d[0];
		dst.name = hops.name[0] ? hops.name : NULL; /* lives to the send */
		by_size = hops.by_size && dst.proto == SIP_PROTO_TCP;
		/* RFC 5630 §3.1.3: a sips Request-URI over TLS on every hop */
		if (rs->target.scheme == SIP_URI_SIPS && !sip_proto_is_secure(dst.proto)) {
			worker_reply(w, m, src, 480, "SIPS Needs TLS", NULL);
			return false;
		}
	}
	if (rc < 0) {
		/* No target (RFC 3263 §4). 478 is what Kamailio and OpenSIPS
		 * answer here, and operators grep for it; sips without TLS is
		 * an unsupported scheme (416). */
		if (rc == -EPROTONOSUPPORT && rs->hop.scheme == SIP_URI_SIPS)
			worker_reply(w, m, src, 416, NULL, NULL);
		else
			worker_reply(w, m, src, rc == -ETIMEDOUT || rc == -EIO ? 504 : 478,
				     rc == -EPROTONOSUPPORT           ? "Unsupported Transport"
				     : rc == -ETIMEDOUT || rc == -EIO ? "DNS Unavailable"
								      : "Unresolvable Destination",
				     NULL);
		return false;
	}
	if (!rs->ruri_changed && self_is_listening_on(&dst.addr, dst.proto)) {
		/* It would come straight back to us (§16.3 step 4's concern). */
		worker_reply(w, m, src, 482, NULL, NULL);
		return false;
	}

	msg_edits_init(worker_edits(w));
	relay_stateless_branch(m, rs->target_str, branch);
	rr = (struct relay_request){.src = src,
				    .dst = &dst,
				    .branch = branch,
				    .conn_hint = true,
				    .record_route = (config_record_route(worker_config(w)) ||
						     relay_must_record_route(src, &dst)) &&
						    (m->method_id == SIP_METHOD_INVITE ||
						     m->method_id == SIP_METHOD_SUBSCRIBE ||
						     m->method_id == SIP_METHOD_REFER) &&
						    sip_msg_to(m)->tag.len == 0};
	rc = route_commit(m, rs, worker_edits(w));
	if (rc == 0)
		rc = relay_request_edits(m, &rr, worker_edits(w));
	if (rc == 0 && worker_config(w)->auth.invite)
		rc = auth_consume_credentials(m, worker_edits(w));
	if (rc < 0) {
		worker_reply(w, m, src, 500, "Cannot Edit Request", NULL);
		return false;
	}
	n = msg_edit_apply(worker_edits(w), m->buf, m->len, worker_out(w), worker_out_cap(w));
	if (n < 0) {
		worker_reply(w, m, src, 513, NULL, NULL);
		return false;
	}
	if (worker_send(w, &dst, worker_out(w), (size_t)n) == 0) {
		ctr_inc(worker_counters(w), CTR_RELAYED_REQUESTS);
	} else if (by_size == 1) {
		/* §18.1.1: TCP only for the size, and refused: UDP after all */
		udp_mtu = 0;
		goto again;
	} else if (m->method_id != SIP_METHOD_ACK)
		worker_reply(w, m, src, 503, "Next Hop Unreachable", NULL);
	return false;
}

/* The location service answered for a request to one of our users. */
static void located(struct worker *w, void *arg, int err, const struct location_result *r)
{
	struct sip_job *job = arg;
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
		if (stateless_forward(w, job, &m, &rs))
			return; /* kept while DNS answers */
		goto out;
	}
	worker_reply(w, &m, &job->src, location_miss_status(r, job->trusted), NULL, NULL);
out:
	job_free(job);
}

bool stateless_locate(struct worker *w, struct sip_job *job, struct sip_msg *m,
		      struct route_state *rs)
{
	if (location_lookup(w, rs->target.user, rs->target.host, located, job) < 0) {
		worker_reply_db_unavailable(w, m, &job->src);
		return false;
	}
	return true;
}

void stateless_response(struct worker *w, struct sip_msg *m)
{
	const struct sip_via *via = sip_msg_top_via(m);
	struct sip_dest dst;
	ssize_t n;
	int rc;

	if (!via || sip_msg_check_mandatory(m, false) < 0 || !self_is_our_via(via)) {
		/* Not addressed to us through a Via we added: §16.7 / §18.1.2. */
		ctr_inc(worker_counters(w), CTR_DROPPED);
		log_debug("event=response_dropped reason=\"not our Via\" status=%u", m->status);
		return;
	}
	msg_edits_init(worker_edits(w));
	rc = relay_response_edits(m, worker_edits(w), &dst);
	if (rc < 0) {
		ctr_inc(worker_counters(w), CTR_DROPPED);
		log_debug("event=response_dropped reason=\"%s\" status=%u",
			  rc == -ENOENT ? "no Via left" : "next Via unroutable", m->status);
		return;
	}
	n = msg_edit_apply(worker_edits(w), m->buf, m->len, worker_out(w), worker_out_cap(w));
	if (n < 0) {
		ctr_inc(worker_counters(w), CTR_DROPPED);
		return;
	}
	if (worker_send_later(w, &dst, worker_out(w), (size_t)n) == 0) {
		ctr_inc(worker_counters(w), CTR_RELAYED_RESPONSES);
		ctr_response_sent(worker_counters(w), m->status, false);
	}
}
