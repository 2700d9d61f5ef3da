/*
 * delegate: [auth] mode = delegate, registration through the Session
 * Controller (see delegate.c).
 */
#ifndef JCT_DELEGATE_H
#define JCT_DELEGATE_H

#include "proxy/route.h"
#include "runtime/worker.h"

/* Handles a REGISTER for one of our domains (route set settled in rs):
 * forwarded to the AOR's Session Controller, its bindings stored when that
 * answers 2xx. Takes the job (returns true), or answers and returns false
 * (the job stays the caller's). */
bool delegate_register(struct worker *w, struct sip_job *job, struct sip_msg *m,
		       struct route_state *rs);

/* The back end refused REGISTER req (received from src; trusted: from a
 * trusted source) with resp, a 401, 403 or 407: credentials that were
 * there and not merely stale count towards the bans (security/ban.h), as
 * Junction's own refusals do, so guessing through us is stopped here. */
void delegate_refused(struct worker *w, struct sip_msg *req, const struct sip_source *src,
		      bool trusted, struct sip_msg *resp);

/* The Path line (CRLF-terminated) the back end gets for a device at addr
 * ("192.0.2.1:5060") that reached us over proto on listener: our address
 * (the cluster's for UDP, the node's for a stream; for a WebSocket, the
 * node's flow URI, relay_flow_uri()) with the device's in the received
 * parameter, as Kamailio's path module writes it. Returns 0 or -ENOSPC. */
int delegate_path(enum sip_proto proto, unsigned listener, struct sip_str addr, char *buf,
		  size_t cap);

#endif
