/*
 * delegate: [auth] mode = delegate, registration through the Session
 * Controller (the back end keeps the devices and their passwords).
 *
 * Junction stays the registrar of its domains, with the bindings in
 * PostgreSQL so that every node reaches every endpoint, but the back end
 * decides who registers. A REGISTER is checked here for what needs no
 * data (§10.3 steps 2, 5-7: 420, 404, 400, 423: the back end is not
 * bothered with those), then forwarded, transaction-stateful, to a
 * Session Controller of the pool: for one AOR always the same while it is
 * in service (scpool_choose_key()), since its challenges and nonces are
 * that server's. Every response goes back to the endpoint; a 2xx only
 * once registrar_commit() stored the bindings with the expiry the back
 * end granted (proxy.c holds it), so the location service never holds a
 * binding the back end did not accept, and never lacks one the endpoint
 * was told about.
 *
 * The back end sees Junction's address, not the endpoint's (what
 * OpenSIPS's mid_registrar users hit): the REGISTER carries our Path
 * (RFC 3327), whose URI routes the back end's requests for the AOR
 * through the cluster and whose received parameter is the endpoint's
 * source, as Kamailio's path module writes it.
 */
#include "proxy/delegate.h"
#include "runtime/counters.h"

#include "base/clock.h"
#include "config/config.h"
#include "net/netaddr.h"
#include "proxy/proxy.h"
#include "proxy/relay.h"
#include "proxy/scpool.h"
#include "proxy/self.h"
#include "registrar/registrar.h"
#include "security/ban.h"
#include "store/store.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define DELEGATE_PATH_MAX (2 * CFG_NAME_MAX + NETADDR_STRLEN + 64)

int delegate_path(enum sip_proto proto, unsigned listener, struct sip_str addr, char *buf,
		  size_t cap)
{
	bool udp = proto == SIP_PROTO_UDP;
	char text[NETADDR_STRLEN];
	struct netaddr peer;
	size_t k;
	int n;

	/* A WebSocket client: the back end reaches it through the node that
	 * holds the connection, never over WebSocket (relay.h). */
	if (sip_proto_is_ws(proto)) {
		sip_str_to_cstr(addr, text, sizeof(text));
		if (cap < 16 || netaddr_parse(text, &peer) < 0 ||
		    !(k = relay_flow_uri(proto, &peer, buf + 6, cap - 9)))
			return -ENOSPC;
		memcpy(buf, "Path: ", 6);
		memcpy(buf + 6 + k, "\r\n", 3);
		return 0;
	}

	/* Over UDP any node reaches the device (the binding is shared), so
	 * the cluster's name when there is one; a stream only from the node
	 * that holds its connection. ';transport=x' escaped inside the
	 * parameter (RFC 3261 §25.1: no ';' or '=' in a uri-parameter). */
	n = snprintf(buf, cap, "Path: <sip:%s%s%s;lr;received=sip:%.*s%s%s>\r\n",
		     udp ? self_rr_hostport(listener) : self_hostport(listener),
		     udp ? "" : ";transport=", udp ? "" : sip_proto_name(proto), SIP_STR_FMT(addr),
		     udp ? "" : "%3Btransport%3D", udp ? "" : sip_proto_name(proto));
	return n > 0 && (size_t)n < cap ? 0 : -ENOSPC;
}

static int path_line(const struct sip_source *src, char *buf, size_t cap)
{
	char addr[NETADDR_STRLEN];

	netaddr_format(&src->remote, addr, sizeof(addr));
	return delegate_path(src->proto, src->listener, sip_str_cstr(addr), buf, cap);
}

void delegate_refused(struct worker *w, struct sip_msg *req, const struct sip_source *src,
		      bool trusted, struct sip_msg *resp)
{
	const struct sip_hdr *ch = sip_msg_hdr(
		resp, resp->status == 407 ? SIP_HDR_PROXY_AUTHENTICATE : SIP_HDR_WWW_AUTHENTICATE);
	const struct sip_addr *to = sip_msg_to(req);

	if (trusted || !to ||
	    (!sip_msg_hdr(req, SIP_HDR_AUTHORIZATION) &&
	     !sip_msg_hdr(req, SIP_HDR_PROXY_AUTHORIZATION)))
		return;
	/* stale=true: the password was right, only the nonce old (RFC 7616
	 * §3.3); anything else after credentials is a wrong guess */
	for (size_t i = 0; resp->status != 403 && ch && i < ch->value.len; i++)
		if (sip_str_caseprefix(sip_str_make(ch->value.p + i, ch->value.len - i),
				       "stale=true"))
			return;
	ctr_inc(worker_counters(w), CTR_AUTH_FAILURES);
	if (ban_auth_failed(&src->remote, to->uri.user, to->uri.host, clock_wall_ms()))
		ctr_inc(worker_counters(w), CTR_BANS_AUTH);
}

bool delegate_register(struct worker *w, struct sip_job *job, struct sip_msg *m,
		       struct route_state *rs)
{
	const struct config *cfg = worker_config(w);
	struct reg_refusal why;
	struct reg_contacts rc;
	struct reg_aor a;
	struct scpool_pick pick;
	char path[DELEGATE_PATH_MAX];
	char extra[40];
	unsigned status;

	status = registrar_check_aor(cfg, m, &a, &why);
	if (!status)
		status = registrar_read_contacts(cfg, m, &rc, &why);
	if (status) {
		worker_reply(w, m, &job->src, status, why.reason, why.extra[0] ? why.extra : NULL);
		return false;
	}
	/* Nothing could be stored: the back end is not asked for a binding
	 * the endpoint would then be refused anyway. */
	if (!worker_store(w) || !store_up(worker_store(w))) {
		worker_reply_db_unavailable(w, m, &job->src);
		return false;
	}
	if (!scpool_choose_key(store_lock_key(a.aor, strlen(a.aor)), &pick)) {
		ctr_inc(worker_counters(w), CTR_NO_SESSION_CONTROLLER);
		snprintf(extra, sizeof(extra), "Retry-After: %u\r\n", cfg->cluster.oos_force);
		worker_reply(w, m, &job->src, 503, "No Session Controller", extra);
		return false;
	}
	if (path_line(&job->src, path, sizeof(path)) < 0) {
		scpool_release(pick.id);
		worker_reply(w, m, &job->src, 500, NULL, NULL);
		return false;
	}
	ctr_inc(worker_counters(w), CTR_DELEGATED_REGISTERS);
	return proxy_register_to(w, job, m, rs, &pick, path);
}
