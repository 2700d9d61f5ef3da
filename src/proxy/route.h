/*
 * route: the route set of a request a proxy relays (RFC 3261 §16.4 and
 * §16.6 steps 6-7), as edits on the received message.
 *
 * route_preprocess() undoes a strict router before us (Request-URI that
 * we placed in a Record-Route: the real target is the last Route value)
 * and removes the Route values that name this proxy (both, after a
 * double Record-Route). route_next_hop() then picks the next hop: the
 * first remaining Route value if loose (lr), or for a strict next hop,
 * rewrites the Request-URI to it and appends the old Request-URI as the
 * last Route (§16.6 step 6). route_commit() records the accumulated
 * edits (Request-URI replacement and Route deletions) exactly once.
 */
#ifndef JCT_ROUTE_H
#define JCT_ROUTE_H

#include "sip/hdr_list.h"
#include "sip/msg_edit.h"
#include "sip/sip_msg.h"

struct route_state {
	struct hdr_list routes;
	uint64_t remove;       /* Route values to delete */
	unsigned next;         /* first Route value not ours; routes.n when none */
	struct sip_uri target; /* the Request-URI the request will carry */
	struct sip_str target_str;
	bool ruri_changed;      /* target differs from the received Request-URI */
	struct sip_str append;  /* a Route value to append (strict next hop) */
	struct sip_str preload; /* Route values to put first (a binding's Path) */
	struct sip_uri hop;     /* where to send: the next hop's URI */
	bool hop_fixed;         /* hop set by route_set_hop() */
};

/* §16.4. Returns 0 or a status to answer (400 for a malformed Route). */
unsigned route_preprocess(struct sip_msg *m, struct route_state *rs);

/* Is there a Route value left after our own were removed? */
static inline bool route_has_next(const struct route_state *rs)
{
	return rs->next < rs->routes.n;
}

/* Replaces the target (the location service or a static route chose
 * another Request-URI). uri must point into memory that outlives the edits. */
void route_set_target(struct route_state *rs, const struct sip_uri *uri);

/* Pre-loads a route set (RFC 3327: the Path a binding was registered
 * with) ahead of the request's own; path must outlive the edits. Returns 0
 * or 400 when its first value is not a SIP URI. */
unsigned route_preload(struct route_state *rs, struct sip_str path);

/* Sends the request to hop whatever its target (a Session Controller
 * that serves the dialog: affinity.h); only when no Route value is left.
 * hop must outlive the edits. */
void route_set_hop(struct route_state *rs, const struct sip_uri *hop);

/* The address a Route or Path value of ours sends to (its received
 * parameter, as Kamailio's path module writes it: delegate.c, and
 * core.c for WebSocket flows), unescaped into buf[0..cap) and parsed
 * into *out (pointing into buf). Returns 0, or -ENOENT when value has
 * none (or not a sip/sips URI). */
int route_received(struct sip_str value, char *buf, size_t cap, struct sip_uri *out);
/* The same, only when received names a WebSocket flow (relay.h's
 * relay_flow_uri()): ;transport=ws or wss. */
int route_ws_flow(struct sip_str value, char *buf, size_t cap, struct sip_uri *out);

/* §16.6 steps 6-7: fills rs->hop. Returns 0 or 400. */
unsigned route_next_hop(struct sip_msg *m, struct route_state *rs);

/* Records the edits. Returns 0 or a msg_edit error. */
int route_commit(struct sip_msg *m, struct route_state *rs, struct msg_edits *ed);

#endif
