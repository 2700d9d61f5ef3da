/*
 * core: what happens to a request before it is relayed, whatever the
 * proxy mode (RFC 3261 §16.3-16.5).
 *
 * A request is matched against the server transactions first (stateful
 * mode: retransmissions, the ACK of a non-2xx, CANCEL), then validated
 * (§16.3), answered when it is an OPTIONS for the proxy itself, checked
 * for loops, and its route set is processed (§16.4). A method we do not
 * know, addressed to the proxy itself, is answered 501. A request left for
 * one of our domains goes to the registrar (REGISTER) or, after digest
 * authentication when [auth] invite asks for it, through the location
 * service; the rest follows its Route or Request-URI. The mode then
 * decides how it leaves: relayed statelessly (stateless.c), through
 * transactions and forking (proxy.c), or redirected (redirect.c).
 *
 * With [routing] session_controllers, the direction decides: a request
 * from a Session Controller (scpool.h) is trusted and routed as above;
 * an out-of-dialog request from anyone else goes to a Session Controller,
 * its Request-URI unchanged (REGISTER stays with the registrar, OPTIONS
 * for the proxy is answered here): for a new dialog the controller of the
 * session it belongs to (affinity.h), else the one the pool chooses. An
 * in-dialog request from an endpoint goes to its session's controller
 * when the session is known and no Route leads elsewhere, else follows
 * its route set. New dialogs beyond [routing] overload_dialog_rate get
 * 503 with Retry-After before any of that.
 */
#include "proxy/core.h"
#include "runtime/counters.h"

#include "base/clock.h"
#include "base/log.h"
#include "config/config.h"
#include "net/dns.h"
#include "proxy/accesslog.h"
#include "proxy/affinity.h"
#include "proxy/delegate.h"
#include "proxy/dialog_rate.h"
#include "proxy/dlgcache.h"
#include "proxy/proxy.h"
#include "proxy/redirect.h"
#include "proxy/regevent.h"
#include "proxy/relay.h"
#include "proxy/route.h"
#include "proxy/scpool.h"
#include "proxy/scprobe.h"
#include "proxy/self.h"
#include "proxy/stateless.h"
#include "proxy/validate.h"
#include "registrar/auth.h"
#include "registrar/location.h"
#include "registrar/registrar.h"
#include "runtime/sip_reply.h"
#include "security/ban.h"
#include "security/policy.h"
#include "txn/txn.h"

#include <errno.h>
#include <string.h>

/* What an OPTIONS to the proxy answers (§11.2). */
#define OPTIONS_EXTRA                                                                              \
	"Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, REGISTER, INFO, PRACK, UPDATE, SUBSCRIBE, "     \
	"NOTIFY, REFER, MESSAGE, PUBLISH\r\n"                                                      \
	"Accept: application/sdp\r\n"                                                              \
	"Supported: path\r\n"

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

/* Is m from one of our users (its From in one of our domains)? */
static bool from_local_user(const struct config *cfg, struct sip_msg *m)
{
	return config_is_domain(cfg, sip_msg_from(m)->uri.host);
}

/* Out-of-dialog requests from our users are challenged (407) when
 * [auth] invite says so, or always (force: the relay policy). Returns true
 * when the request may go on; false when it was answered, or kept (*kept)
 * while its user is fetched or the HTTP service asked ([auth] mode =
 * http). */
static bool authorized(struct worker *w, struct sip_job *job, struct sip_msg *m, bool force,
		       bool *kept)
{
	const struct config *cfg = worker_config(w);
	const struct sip_addr *from = sip_msg_from(m);
	char extra[1024];
	struct auth_outcome ao;
	char realmbuf[CFG_NAME_MAX];
	struct sip_str realm;

	*kept = false;
	if (!(cfg->auth.invite || force) ||
	    (cfg->auth.mode != AUTH_MODE_LOCAL && cfg->auth.mode != AUTH_MODE_HTTP) ||
	    m->method_id == SIP_METHOD_ACK || m->method_id == SIP_METHOD_CANCEL ||
	    m->method_id == SIP_METHOD_REGISTER || (!force && sip_msg_to(m)->tag.len) ||
	    !from_local_user(cfg, m) || from->uri.host.len >= sizeof(realmbuf))
		return true;
	for (size_t i = 0; i < from->uri.host.len; i++)
		realmbuf[i] = sip_tolower(from->uri.host.p[i]);
	realm = sip_str_make(realmbuf, from->uri.host.len);
	auth_check_job(w, job, m, true, realm, clock_now_ms(), &ao);
	if (ao.verdict == AUTH_PASS) {
		/* The From user must be the one who authenticated. */
		if (cfg->auth.aor_owner && !sip_str_eq(ao.username, from->uri.user)) {
			ctr_inc(worker_counters(w), CTR_AUTH_FAILURES);
			worker_reply(w, m, &job->src, 403, "Not Owner of From", NULL);
			return false;
		}
		return true;
	}
	if (ao.verdict == AUTH_BANNED) {
		ctr_inc(worker_counters(w), CTR_BANNED_DROPPED);
		worker_reply(w, m, &job->src, 403, "User Banned", NULL);
		return false;
	}
	if (ao.verdict == AUTH_NEED_USER) {
		*kept = auth_fetch_subscriber(w, job, m, ao.username, realm);
		return false;
	}
	/* [auth] mode = http: the job goes back to this worker's queue once
	 * the service answered, and runs again from the start. */
	if (ao.verdict == AUTH_ASK) {
		const char *reason, *xtra;
		int err = auth_ask(w, job, m, true, realm, NULL, NULL);
		unsigned st;

		if (err == 0) {
			*kept = true;
			return false;
		}
		st = auth_ask_refused(w, err, &reason, &xtra);
		worker_reply(w, m, &job->src, st, reason, xtra);
		return false;
	}
	if (ao.verdict == AUTH_DUPLICATE)
		return false; /* a retransmission while its copy is asked about */
	if (ao.verdict == AUTH_REJECT) {
		auth_failed(w, job, &ao, realm);
		worker_reply(w, m, &job->src, 403, NULL, NULL);
		return false;
	}
	if (ao.verdict == AUTH_UNAVAILABLE) {
		worker_reply(w, m, &job->src, 503, "Authentication Unavailable",
			     AUTH_HTTP_RETRY_AFTER);
		return false;
	}
	if (!auth_challenge(true, realm, ao.stale, &job->src.remote, extra, sizeof(extra))) {
		worker_reply(w, m, &job->src, 500, NULL, NULL);
		return false;
	}
	ctr_inc(worker_counters(w), CTR_AUTH_CHALLENGES);
	if (ao.presented && !ao.stale)
		auth_failed(w, job, &ao, realm);
	worker_reply(w, m, &job->src, 407, NULL, extra);
	return false;
}

/*
 * The relay policy, for a request that leaves for a domain not ours: from
 * a trusted source, or in a dialog we record-routed (it came with our
 * Route), it goes on (after [auth] invite's challenge as before); from
 * one of our users, after a 407 challenge whatever [auth] invite says;
 * from anyone else, 403: no open relay. An ACK or CANCEL cannot be
 * challenged: a stateless proxy relays one from our users as it did its
 * INVITE, while a stateful one absorbs the ACK of a non-2xx and answers
 * CANCEL itself, so one that gets here is a stray (anyone can write a
 * From of ours) and is refused. [security] open_relay turns the policy
 * off. Returns true when the request may go on.
 */
static bool may_relay(struct worker *w, struct sip_job *job, struct sip_msg *m,
		      const struct route_state *rs, bool trusted, bool *kept)
{
	const struct config *cfg = worker_config(w);
	bool ours = rs->remove != 0 || rs->ruri_changed;

	*kept = false;
	if (trusted || cfg->security.open_relay || (ours && sip_msg_to(m)->tag.len))
		return authorized(w, job, m, false, kept);
	/* Delegated: Junction holds no passwords, and an endpoint's new
	 * request goes to a Session Controller, which decides; it is not
	 * relayed to the other domain by us. */
	if (cfg->auth.mode == AUTH_MODE_DELEGATE && sip_msg_to(m)->tag.len == 0 &&
	    m->method_id != SIP_METHOD_ACK && m->method_id != SIP_METHOD_CANCEL)
		return true;
	if (from_local_user(cfg, m) &&
	    (cfg->auth.mode == AUTH_MODE_LOCAL || cfg->auth.mode == AUTH_MODE_HTTP)) {
		if (m->method_id != SIP_METHOD_ACK && m->method_id != SIP_METHOD_CANCEL)
			return authorized(w, job, m, true, kept);
		if (cfg->sip.mode == PROXY_MODE_STATELESS)
			return true;
	}
	ctr_inc(worker_counters(w), CTR_RELAY_DENIED);
	log_debug("event=relay_denied method=%.*s ruri=\"%.*s\"", SIP_STR_FMT(m->method),
		  SIP_STR_FMT(m->ruri));
	if (m->method_id != SIP_METHOD_ACK)
		worker_reply(w, m, &job->src, 403, "Relaying Denied", NULL);
	return false;
}

/* For a source that is neither trusted nor a Session Controller, before
 * anything else: scanners that name themselves dropped, the rate limit
 * and bans (ban.h) applied. Returns false when m was refused. */
static bool admitted(struct worker *w, struct sip_job *job, struct sip_msg *m)
{
	const struct config *cfg = worker_config(w);
	bool banned, started;

	if (policy_is_scanner(cfg, m)) {
		ctr_inc(worker_counters(w), CTR_SCANNERS_DROPPED);
		return false;
	}
	/* Counted once: not again when the job runs again after a fetch. */
	if (job->replays || job->dialog_asked)
		return true;
	banned = !ban_admit(&job->src.remote, clock_wall_ms(), &started);
	if (!banned)
		return true;
	if (started)
		ctr_inc(worker_counters(w), CTR_RATE_LIMITED);
	ctr_inc(worker_counters(w), CTR_BANNED_DROPPED);
	if (cfg->security.ban_action == BAN_ACTION_REPLY && m->method_id != SIP_METHOD_ACK)
		worker_reply(w, m, &job->src, 403, NULL, NULL);
	return false;
}

/* Stateful mode, before anything else: a request that belongs to a
 * transaction we have. Returns true when handled (job stays the caller's,
 * or was taken when *kept). */
static bool matched_transaction(struct worker *w, struct sip_job *job, struct sip_msg *m,
				bool *kept)
{
	struct stx *st;

	*kept = false;
	if (m->method_id == SIP_METHOD_CANCEL)
		return proxy_cancel(w, job, m);
	st = stx_find(worker_txn(w), m);
	if (!st)
		return false;
	if (m->method_id == SIP_METHOD_ACK) {
		/* The ACK of a 2xx is end to end: relayed, even when the UAC
		 * reused the INVITE's branch (RFC 6026 Accepted). */
		if (stx_state(st) != STX_COMPLETED && stx_state(st) != STX_CONFIRMED)
			return false;
		stx_acked(st, clock_now_ms()); /* §17.2.1: absorbed hop by hop */
	} else {
		stx_retransmitted(st);
	}
	return true;
}

/* How a request with a settled route set leaves, by mode. */
static bool relay(struct worker *w, struct sip_job *job, struct sip_msg *m, struct route_state *rs)
{
	switch (worker_config(w)->sip.mode) {
	case PROXY_MODE_STATEFUL:
		/* ACK never has a transaction of its own (§17.1.1.3, §16.11). */
		if (m->method_id == SIP_METHOD_ACK)
			break;
		return proxy_start(w, job, m, rs, false);
	case PROXY_MODE_REDIRECT:
		/* A redirect server redirects users of its domains; anything
		 * else it has no address for. */
		if (m->method_id != SIP_METHOD_ACK)
			worker_reply(w, m, &job->src, 404, NULL, NULL);
		return false;
	case PROXY_MODE_STATELESS:
		break;
	}
	return stateless_forward(w, job, m, rs);
}

/* A request for user@one-of-our-domains: the location service. */
static bool locate(struct worker *w, struct sip_job *job, struct sip_msg *m, struct route_state *rs)
{
	if (!worker_store(w)) {
		/* No database, no location service: nobody is here. */
		worker_reply(w, m, &job->src, 404, NULL, NULL);
		return false;
	}
	switch (worker_config(w)->sip.mode) {
	case PROXY_MODE_STATEFUL:
		if (m->method_id != SIP_METHOD_ACK)
			return proxy_start(w, job, m, rs, true);
		break; /* a non-2xx ACK takes the INVITE's path: a stateless lookup */
	case PROXY_MODE_REDIRECT:
		return redirect_request(w, job, m, rs);
	case PROXY_MODE_STATELESS:
		break;
	}
	return stateless_locate(w, job, m, rs);
}

/* Does m start a dialog (RFC 3261 §12.1; RFC 6665 SUBSCRIBE, RFC 3515
 * REFER outside one)? */
static bool starts_dialog(struct sip_msg *m)
{
	return (m->method_id == SIP_METHOD_INVITE || m->method_id == SIP_METHOD_SUBSCRIBE ||
		m->method_id == SIP_METHOD_REFER) &&
	       sip_msg_to(m)->tag.len == 0;
}

/* Is m an endpoint's out-of-dialog request for a Session Controller? */
static bool for_session_controller(struct sip_msg *m, bool from_sc)
{
	return scpool_on() && !from_sc && sip_msg_to(m)->tag.len == 0 &&
	       m->method_id != SIP_METHOD_REGISTER && m->method_id != SIP_METHOD_ACK &&
	       m->method_id != SIP_METHOD_CANCEL;
}

/* To Session Controller pick (id 0: a hop that is no Session Controller):
 * an ACK statelessly (nothing to count), the rest through a transaction. */
static bool to_pick(struct worker *w, struct sip_job *job, struct sip_msg *m,
		    struct route_state *rs, const struct scpool_pick *pick)
{
	struct sip_uri hop;

	if (m->method_id != SIP_METHOD_ACK)
		return proxy_start_to(w, job, m, rs, false, pick);
	if (sip_uri_parse(sip_str_cstr(pick->uri), &hop) == 0)
		route_set_hop(rs, &hop);
	scpool_release(pick->id);
	return stateless_forward(w, job, m, rs);
}

/*
 * RFC 3327 with the received parameter of our Path (delegate.c): a request
 * the back end sends along the Path we gave it goes where the device's
 * REGISTER came from, which may be a NAT's address, not its Contact's (as
 * Kamailio's path module does with received). Only for trusted sources:
 * from anyone else a Route of ours naming an address would be a relay to
 * anywhere. Fills hop (id 0) when one of our Route values had one.
 */
static bool path_received(const struct route_state *rs, struct scpool_pick *hop)
{
	for (unsigned i = 0; i < rs->routes.n && i < 64; i++) {
		struct sip_uri u;

		if (!(rs->remove >> i & 1) ||
		    route_received(rs->routes.e[i].s, hop->uri, sizeof(hop->uri), &u) < 0)
			continue;
		hop->id = 0;
		return true;
	}
	return false;
}

/* A Route of ours naming a WebSocket flow (relay_flow_uri()): the
 * request goes down that connection, in or out of a dialog. Only the last
 * of our Route values faces the next hop: a dialog's route set has ours
 * twice when the transports differ, and the client's own requests come
 * with its flow first (that one faces the client). From any source: we
 * never open a WebSocket connection, so such an address reaches only a
 * client connected to us, as a request to its AOR would. */
static bool ws_flow(const struct route_state *rs, struct scpool_pick *hop)
{
	unsigned last = 0;
	struct sip_uri u;

	if (!rs->remove || route_has_next(rs))
		return false;
	for (unsigned i = 0; i < rs->routes.n && i < 64; i++)
		if (rs->remove >> i & 1)
			last = i;
	if (route_ws_flow(rs->routes.e[last].s, hop->uri, sizeof(hop->uri), &u) < 0)
		return false;
	hop->id = 0;
	return true;
}

/*
 * A binding made over a WebSocket (RFC 7118) is reachable only through
 * the connection its client opened, which one node holds: the registrar
 * stores that node's flow URI (relay_flow_uri()) as the binding's first
 * Path, so a request for the AOR entering any node goes to this one
 * (RFC 3327), which sends it down the connection (ws_flow(), or
 * proxy.c's shortcut when the request entered here). In-dialog requests
 * find it the same way through our Record-Route.
 */
size_t core_flow_path(const struct sip_source *src, char *buf, size_t cap)
{
	return relay_flow_uri(src->proto, &src->remote, buf, cap);
}

/* To the Session Controller of the session a new dialog belongs to, or
 * the one the pool picks; 503 when none is in service anywhere. */
static bool to_session_controller(struct worker *w, struct sip_job *job, struct sip_msg *m,
				  struct route_state *rs)
{
	struct scpool_pick pick;
	enum affinity_verdict v;
	char extra[40];

	if (starts_dialog(m) && affinity_on(worker_config(w)))
		v = affinity_new_dialog(w, job, m, 0, &pick);
	else
		v = scpool_choose(worker_index(w), &pick) ? AFFINITY_TO : AFFINITY_NO_SERVER;
	if (v == AFFINITY_KEPT)
		return true;
	if (v == AFFINITY_DONE)
		return false;
	if (v == AFFINITY_NO_SERVER) {
		ctr_inc(worker_counters(w), CTR_NO_SESSION_CONTROLLER);
		snprintf(extra, sizeof(extra), "Retry-After: %u\r\n",
			 worker_config(w)->cluster.oos_force);
		worker_reply(w, m, &job->src, 503, "No Session Controller", extra);
		return false;
	}
	ctr_inc(worker_counters(w), CTR_TO_SESSION_CONTROLLER);
	return to_pick(w, job, m, rs, &pick);
}

/* With Session Controllers, before the request is routed: a new dialog
 * from a controller is recorded, an in-dialog request is looked up (from
 * an endpoint, when no Route leads elsewhere) and its dialog's end or life
 * noted. Returns true when that decided the request (*taken: the job was
 * kept or taken). */
static bool session_affinity(struct worker *w, struct sip_job *job, struct sip_msg *m,
			     struct route_state *rs, uint32_t from_sc, bool *taken)
{
	struct scpool_pick pick;
	enum affinity_verdict v;

	*taken = false;
	if (sip_msg_to(m)->tag.len == 0) {
		if (!from_sc || !starts_dialog(m))
			return false;
		v = affinity_new_dialog(w, job, m, from_sc, NULL);
	} else if (m->method_id == SIP_METHOD_CANCEL) {
		return false;
	} else {
		v = affinity_in_dialog(w, job, m, from_sc || route_has_next(rs) ? NULL : &pick);
	}
	switch (v) {
	case AFFINITY_KEPT:
		*taken = true;
		return true;
	case AFFINITY_DONE:
		return true;
	case AFFINITY_TO:
		*taken = to_pick(w, job, m, rs, &pick);
		return true;
	default:
		return false;
	}
}

bool core_request(struct worker *w, struct sip_job *job, struct sip_msg *m)
{
	const struct config *cfg = worker_config(w);
	const struct sip_source *src = &job->src;
	struct validate_result v;
	struct route_state rs;
	unsigned st;
	uint32_t from_sc;
	bool kept, trusted;

	/* Any request from a standby Session Controller, an OPTIONS for us
	 * included, says it has taken over (scpool.h). */
	from_sc = scpool_on() ? scpool_from(src, clock_now_ms()) : 0;
	trusted = from_sc || src->peer_trusted || config_is_trusted(cfg, &src->remote);
	job->trusted = trusted;
	if (!trusted && !admitted(w, job, m))
		return false;
	if (validate_syntax(m, sip_proto_framed_by_length(src->proto), &v)) {
		reject(w, m, src, &v);
		return false;
	}
	if (worker_txn(w) && matched_transaction(w, job, m, &kept))
		return kept;
	/* The hop-by-hop ACK of a final response we made ourselves (its To
	 * tag is the one we derived, §17.2.1): nothing to relay. */
	if (m->method_id == SIP_METHOD_ACK && sip_reply_is_our_tag(m)) {
		ctr_inc(worker_counters(w), CTR_ACKS_ABSORBED);
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
	/* §16.3 step 4: a request that comes back unchanged is a loop; one
	 * that comes back with a new Request-URI is a spiral and passes. */
	if (cfg->sip.mode == PROXY_MODE_STATEFUL && relay_is_loop(m)) {
		worker_reply(w, m, src, 482, NULL, NULL);
		return false;
	}
	/* (once: not again when it runs again after a database answer) */
	if (cfg->routing.overload_dialog_rate && starts_dialog(m) && !job->replays &&
	    !job->dialog_asked && !dialog_rate_admit(clock_now_ns())) {
		ctr_inc(worker_counters(w), CTR_DIALOG_RATE_REJECTED);
		worker_reply(w, m, src, 503, NULL, "Retry-After: 1\r\n");
		return false;
	}
	st = route_preprocess(m, &rs);
	if (st) {
		worker_reply(w, m, src, st, "Bad Route", NULL);
		return false;
	}
	/* RFC 3680 §3: we are the notifier of our AORs' registrations */
	if (cfg->notify.subscribe && !route_has_next(&rs) &&
	    regevent_is_subscribe(cfg, m, &rs.target))
		return regevent_subscribe(w, job, m);
	if (cfg->sip.mode == PROXY_MODE_STATEFUL) {
		struct scpool_pick hop;

		if (ws_flow(&rs, &hop))
			return to_pick(w, job, m, &rs, &hop);
	}
	if (affinity_on(cfg) && session_affinity(w, job, m, &rs, from_sc, &kept))
		return kept;
	/* (a Path is the route of a dialog's first request only: in-dialog
	 * requests follow Record-Route and skip the look) */
	if (trusted && rs.remove && !sip_msg_to(m)->tag.len && !route_has_next(&rs) &&
	    cfg->sip.mode == PROXY_MODE_STATEFUL) {
		struct scpool_pick hop;

		if (path_received(&rs, &hop))
			return to_pick(w, job, m, &rs, &hop);
	}
	/* A method nobody here knows, for this node itself (no user, one of
	 * our addresses or domains): there is nothing to relay it to, and
	 * as the UAS we do not implement it (§21.5.2; RFC 4475 §3.1.1.5). */
	if (m->method_id == SIP_METHOD_OTHER && !route_has_next(&rs) &&
	    self_is_local_uri(&rs.target)) {
		worker_reply(w, m, src, 501, NULL, NULL);
		return false;
	}
	if (!route_has_next(&rs) &&
	    (rs.target.scheme == SIP_URI_SIP || rs.target.scheme == SIP_URI_SIPS) &&
	    config_is_domain(cfg, rs.target.host)) {
		/* Ours to serve: REGISTER to the registrar (§10.3), the rest
		 * through the location service (§16.5). */
		if (m->method_id == SIP_METHOD_REGISTER)
			return cfg->auth.mode == AUTH_MODE_DELEGATE && !from_sc
				       ? delegate_register(w, job, m, &rs)
				       : registrar_request(w, job, m);
		if (!from_sc && !authorized(w, job, m, false, &kept))
			return kept;
		if (for_session_controller(m, from_sc))
			return to_session_controller(w, job, m, &rs);
		if (rs.target.has_user)
			return locate(w, job, m, &rs);
		/* Our domain and no user: nobody to find, and relaying it to
		 * the domain's host would go round or elsewhere (Kamailio's
		 * default script answers the same). */
		worker_reply(w, m, src, 484, NULL, NULL);
		return false;
	} else if (!from_sc && !may_relay(w, job, m, &rs, trusted, &kept)) {
		return kept;
	} else if (for_session_controller(m, from_sc)) {
		return to_session_controller(w, job, m, &rs);
	}
	return relay(w, job, m, &rs);
}

void core_response(struct worker *w, struct sip_msg *m)
{
	struct ctx *c;

	/* §17.1.3, and the stateless fallback of §16.11 for what matches no
	 * transaction (a 2xx retransmission after the INVITE's ended). */
	if (worker_txn(w) && (c = ctx_find(worker_txn(w), m))) {
		ctx_response(c, m, clock_now_ms());
		return;
	}
	stateless_response(w, m);
}

/* ---- the proxy core as the workers' app (worker.h) ---------------------- */

/* Stateful mode: each worker gets its transaction layer (RFC 3261 §17). */
static int core_worker_init(struct worker *w)
{
	const struct config *cfg = worker_config(w);
	struct txn_timers tt = {
		.t1 = cfg->transaction.t1, .t2 = cfg->transaction.t2, .t4 = cfg->transaction.t4};
	struct txn_layer *l;

	if (cfg->sip.mode != PROXY_MODE_STATEFUL)
		return 0;
	l = txn_layer_new(&tt, cfg->transaction.max_transactions, worker_timers(w));
	if (!l)
		return -ENOMEM;
	worker_set_txn(w, l);
	/* One worker probes the Session Controllers for the node, and sends
	 * its share of the registration events. */
	if (regevent_wanted(cfg, worker_index(w)) && worker_store(w) && regevent_start(w) < 0)
		return -ENOMEM;
	if (scpool_on() && worker_index(w) == 0)
		return scprobe_start(w);
	return 0;
}

static void core_worker_fini(struct worker *w)
{
	scprobe_stop(w);
	regevent_stop(w);
	txn_layer_free(worker_txn(w));
	worker_set_txn(w, NULL);
}

static void core_undelivered(struct worker *w, struct sip_msg *m)
{
	if (worker_txn(w))
		ctx_undelivered(worker_txn(w), m, clock_now_ms());
}

static void core_round_end(struct worker *w)
{
	struct counters *ctr = worker_counters(w);
	struct txn_stats ts;
	struct dns_stats ds;

	dns_get_stats(worker_dns(w), &ds);
	ctr_set(&ctr->v[CTR_DNS_QUERIES], ds.queries);
	ctr_set(&ctr->v[CTR_DNS_CACHE_HITS], ds.cache_hits);
	ctr_set(&ctr->v[CTR_DNS_FAILURES], ds.failures);
	if (!worker_txn(w))
		return;
	if (affinity_on(worker_config(w)))
		dlgcache_sweep(worker_index(w), clock_now_ms());
	txn_layer_stats(worker_txn(w), &ts);
	ctr_set(&ctr->g_transactions, txn_layer_count(worker_txn(w)));
	ctr_set(&ctr->v[CTR_TXN_EVICTED], ts.evicted);
	ctr_set(&ctr->v[CTR_HOP_NOT_SENT], txn_layer_hop_failures(worker_txn(w)));
}

/* The access log's line for a request answered here, never relayed. */
static void core_replied(struct worker *w, struct sip_msg *m, const struct sip_source *src,
			 unsigned status)
{
	struct accesslog_entry e;

	(void)w;
	if (!accesslog_on() || !m->request)
		return;
	e = (struct accesslog_entry){.at_ms = clock_wall_ms(),
				     .proto = src->proto,
				     .src = &src->remote,
				     .method = m->method,
				     .ruri = m->ruri,
				     .from_user = sip_msg_from(m) ? sip_msg_from(m)->uri.user
								  : SIP_STR_NULL,
				     .call_id = sip_msg_call_id(m),
				     .status = status};
	accesslog_write(&e);
}

const struct worker_app core_app = {.init = core_worker_init,
				    .replied = core_replied,
				    .fini = core_worker_fini,
				    .request = core_request,
				    .response = core_response,
				    .undelivered = core_undelivered,
				    .round_end = core_round_end};
