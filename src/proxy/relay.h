/*
 * relay: the edits that turn a received request into the one a proxy
 * sends on (RFC 3261 §16.6 steps 3-5 and 8-9), and those that turn a
 * received response into the one it relays upstream (§16.7 step 3,
 * §16.11). Everything else in the message leaves as it arrived.
 */
#ifndef JCT_RELAY_H
#define JCT_RELAY_H

#include "net/transport.h"
#include "sip/msg_edit.h"
#include "sip/sip_msg.h"

#include <stdbool.h>

/* Length of a branch value: "z9hG4bK" + 16 hex digits + NUL. */
#define RELAY_BRANCH_LEN 24

struct relay_request {
	const struct sip_source *src; /* where the request came from */
	const struct sip_dest *dst;   /* where it goes */
	const char *branch;           /* our Via branch */
	bool record_route;
	bool conn_hint; /* name the inbound connection in our Via (for responses relayed by Via) */
};

/*
 * Records: our Via on top (with the inbound connection when it came on a
 * stream, so a stateless response can find it again); received/rport on
 * the sender's Via (§18.2.1, RFC 3581 §4); Max-Forwards decremented or set
 * to 70; Record-Route (double when transport or interface changes, §16.6
 * step 4 and RFC 5658); Content-Length when it is missing and the next hop
 * is a stream. Returns 0 or a msg_edit error.
 */
int relay_request_edits(struct sip_msg *m, const struct relay_request *r, struct msg_edits *ed);

/*
 * A WebSocket flow (RFC 7118): the URI that reaches the client connected
 * from peer over proto (ws or wss) through this node, "<sip:HOST:PORT;lr;
 * received=sip:PEER%3Btransport%3Dws>", into buf[0..cap). HOST:PORT is a
 * UDP (else TCP) listener of ours, which the other nodes reach; received
 * says which connection (route_received()). It goes in the Path stored
 * with a binding (core.c) and in the Record-Route of a dialog with the
 * client (its Contact cannot be reached otherwise: RFC 7118 §8.2 shows
 * the same, RFC 5626 §5.3 the flow in a Record-Route).
 * Returns its length, 0 when proto is not WebSocket or it does not fit.
 */
size_t relay_flow_uri(enum sip_proto proto, const struct netaddr *peer, char *buf, size_t cap);

/* Does a request between src and dst need our Record-Route whatever
 * [sip] record_route says? Yes when either side is a WebSocket. */
static inline bool relay_must_record_route(const struct sip_source *src, const struct sip_dest *dst)
{
	return sip_proto_is_ws(src->proto) || sip_proto_is_ws(dst->proto);
}

/*
 * A stateless branch (§16.11): the same for every retransmission of a
 * request, and for the CANCEL and non-2xx ACK of an INVITE: a keyed hash of
 * the received branch when it has the magic cookie, else of the fields
 * that identify the transaction, plus the outgoing Request-URI so that a
 * spiral gets a new branch. buf holds RELAY_BRANCH_LEN bytes.
 */
void relay_stateless_branch(struct sip_msg *m, struct sip_str out_ruri, char *buf);

/*
 * A stateful branch: "z9hG4bK" + the loop-detection hash of §16.6 step 8
 * (over what identifies the request as received: To and From tags,
 * Call-ID, Request-URI, the sender's Via branch and sent-by, CSeq number,
 * Proxy-Require) + "." + unique, unique per branch. buf holds
 * RELAY_BRANCH_MAX bytes.
 */
#define RELAY_BRANCH_MAX 48
void relay_stateful_branch(struct sip_msg *m, uint64_t unique, char *buf);

/* §16.3 step 4: does a Via of ours carry the loop hash this request would
 * get again, i.e. did it come back unchanged? A spiral (new Request-URI)
 * does not. Only for requests outside a dialog: record-routing may send
 * an in-dialog request through us twice with the same Request-URI. */
bool relay_is_loop(struct sip_msg *m);

/* The connection id we put in our Via (0 when none). */
uint64_t relay_via_conn(const struct sip_via *our_via);

/*
 * Response relay: removes our (top) Via value and finds where the next one
 * says the response goes (§18.2.2), preferring the connection id in our
 * Via for streams. Returns 0, -ENOENT when no Via is left (the response
 * was for us), or another negative errno when it cannot be routed.
 */
int relay_response_edits(struct sip_msg *m, struct msg_edits *ed, struct sip_dest *d);

#endif
