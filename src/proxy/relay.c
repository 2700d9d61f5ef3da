/*
 * relay: the edit lists that forward a request and relay a response (see
 * relay.h). A forwarded request is the received buffer plus edits: the
 * sender's Via stamped with received/rport (§18.2.1, RFC 3581), our Via on
 * top (§16.6 step 8) whose branch carries a hash of what makes a loop, so
 * a request that comes back unchanged is recognised (§16.3 step 4),
 * Max-Forwards decremented and Record-Route when asked (§16.6 steps 3-4);
 * msg_edit.c applies them in one copy. Nothing else is re-serialised: what
 * we do not edit leaves byte for byte as it arrived.
 */
#include "proxy/relay.h"

#include "base/siphash.h"
#include "config/config.h"
#include "proxy/self.h"
#include "sip/hdr_list.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define VIA_CONN_PARAM "jcon"

static uint32_t off_of(const struct sip_msg *m, const char *p)
{
	return (uint32_t)(p - m->buf);
}

/* received/rport for the sender's Via (§18.2.1, RFC 3581 §4). */
static int sender_via_edits(struct sip_msg *m, const struct sip_source *src, struct msg_edits *ed)
{
	const struct sip_via *v = sip_msg_top_via(m);
	struct via_stamp st;
	int rc = 0;

	transport_via_stamp(v, src, &st);
	if (st.rport_at)
		rc = msg_edit_insert(ed, off_of(m, st.rport_at), st.rport_text,
				     strlen(st.rport_text));
	if (rc == 0 && st.received_text[0])
		rc = msg_edit_insert(ed, off_of(m, v->raw.p + v->raw.len), st.received_text,
				     strlen(st.received_text));
	return rc;
}

size_t relay_flow_uri(enum sip_proto proto, const struct netaddr *peer, char *buf, size_t cap)
{
	int family = netaddr_family(peer), l, n;
	char addr[NETADDR_STRLEN];

	if (!sip_proto_is_ws(proto))
		return 0;
	l = transport_pick_listener(SIP_PROTO_UDP, family, -1);
	if (l < 0)
		l = transport_pick_listener(SIP_PROTO_TCP, family, -1);
	if (l < 0)
		return 0;
	netaddr_format(peer, addr, sizeof(addr));
	/* ';transport=x' escaped inside the parameter (§25.1) */
	n = snprintf(buf, cap, "<sip:%s%s;lr;received=sip:%s%%3Btransport%%3D%s>",
		     self_hostport((unsigned)l),
		     transport_listener_proto((unsigned)l) == SIP_PROTO_TCP ? ";transport=tcp" : "",
		     addr, sip_proto_name(proto));
	return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

/* Our Record-Route for the side of listener, whose peer is peer over
 * proto: a WebSocket client's flow, else the listener's address. */
static int record_route_edit(struct msg_edits *ed, uint32_t at, unsigned listener,
			     enum sip_proto proto, const struct netaddr *peer)
{
	enum sip_proto p = transport_listener_proto(listener);
	char flow[NETADDR_STRLEN * 2 + CFG_NAME_MAX + 64];
	size_t n = relay_flow_uri(proto, peer, flow, sizeof(flow));

	if (n) {
		struct sip_str parts[] = {SIP_STR("Record-Route: "), sip_str_make(flow, n),
					  SIP_STR("\r\n")};

		return msg_edit_insert_parts(ed, at, parts, 3);
	}

	if (p == SIP_PROTO_UDP) {
		struct sip_str parts[] = {SIP_STR("Record-Route: <sip:"),
					  sip_str_cstr(self_rr_hostport(listener)),
					  SIP_STR(";lr>\r\n")};

		return msg_edit_insert_parts(ed, at, parts, 3);
	}
	return msg_edit_insertf(ed, at, "Record-Route: <sip:%s;transport=%s;lr>\r\n",
				self_rr_hostport(listener), sip_proto_name(p));
}

int relay_request_edits(struct sip_msg *m, const struct relay_request *r, struct msg_edits *ed)
{
	const struct sip_hdr *via = sip_msg_hdr(m, SIP_HDR_VIA);
	const struct sip_hdr *mf = sip_msg_hdr(m, SIP_HDR_MAX_FORWARDS);
	int out = transport_pick_listener(r->dst->proto, netaddr_family(&r->dst->addr),
					  r->dst->listener);
	uint32_t mfv;
	int rc;

	if (out < 0)
		return -EAFNOSUPPORT;
	if (r->record_route) {
		/* Ours on top: the outbound side first, then the inbound side
		 * when the request changes transport or interface. */
		rc = record_route_edit(ed, m->headers_off, (unsigned)out, r->dst->proto,
				       &r->dst->addr);
		if (rc == 0 && (unsigned)out != r->src->listener &&
		    (transport_listener_proto((unsigned)out) !=
			     transport_listener_proto(r->src->listener) ||
		     strcmp(self_rr_hostport((unsigned)out), self_rr_hostport(r->src->listener)) !=
			     0))
			rc = record_route_edit(ed, m->headers_off, r->src->listener, r->src->proto,
					       &r->src->remote);
		if (rc < 0)
			return rc;
	}
	if (r->conn_hint && r->src->conn_id)
		rc = msg_edit_insertf(
			ed, via->start, "Via: SIP/2.0/%s %s;branch=%s;" VIA_CONN_PARAM "=%llx\r\n",
			sip_proto_via_name(r->dst->proto), self_hostport((unsigned)out), r->branch,
			(unsigned long long)r->src->conn_id);
	else {
		struct sip_str parts[] = {SIP_STR("Via: SIP/2.0/"),
					  sip_str_cstr(sip_proto_via_name(r->dst->proto)),
					  SIP_STR(" "),
					  sip_str_cstr(self_hostport((unsigned)out)),
					  SIP_STR(";branch="),
					  sip_str_cstr(r->branch),
					  SIP_STR("\r\n")};

		rc = msg_edit_insert_parts(ed, via->start, parts, 7);
	}
	if (rc < 0)
		return rc;
	rc = sender_via_edits(m, r->src, ed);
	if (rc < 0)
		return rc;
	if (mf && sip_msg_max_forwards(m, &mfv) == 0 && mfv > 0) {
		char v[24];
		size_t n = sip_fmt_u64(v, mfv - 1);
		rc = msg_edit_add(ed, off_of(m, mf->value.p), (uint32_t)mf->value.len, v, n);
	} else if (!mf) {
		rc = msg_edit_insert(ed, via->start, "Max-Forwards: 70\r\n", 18);
	}
	if (rc < 0)
		return rc;
	if (!m->has_content_length && sip_proto_is_stream(r->dst->proto))
		rc = msg_edit_insertf(ed, m->headers_end, "Content-Length: %zu\r\n", m->body.len);
	return rc;
}

/* z9hG4bK and 16 hex digits of h, NUL-terminated: RELAY_BRANCH_LEN bytes. */
static void relay_format_branch(char *buf, uint64_t h)
{
	memcpy(buf, "z9hG4bK", 7);
	sip_fmt_hex64(buf + 7, h);
	buf[23] = '\0';
}

/* What a branch hashes: fields each followed by '|', streamed into
 * SipHash as they are, so no field is copied or cut (a request that
 * differs from another only after its first kilobytes still hashes
 * apart: a spiral is not a loop, §16.3 step 4). */
static void hash_in_add(struct siphash_state *h, struct sip_str s)
{
	siphash_update(h, s.p, s.len);
	siphash_update(h, "|", 1);
}

void relay_stateless_branch(struct sip_msg *m, struct sip_str out_ruri, char *buf)
{
	const struct sip_via *v = sip_msg_top_via(m);
	struct siphash_state h;

	siphash_init(&h, siphash_process_key());
	if (sip_str_caseprefix(v->branch, "z9hG4bK")) {
		hash_in_add(&h, v->branch);
	} else {
		const struct sip_addr *to = sip_msg_to(m), *from = sip_msg_from(m);
		char cseq[16];

		snprintf(cseq, sizeof(cseq), "%u", sip_msg_cseq(m)->num);
		hash_in_add(&h, v->raw);
		hash_in_add(&h, to->tag);
		hash_in_add(&h, from->tag);
		hash_in_add(&h, sip_msg_call_id(m));
		hash_in_add(&h, sip_str_cstr(cseq));
		hash_in_add(&h, m->ruri);
	}
	hash_in_add(&h, out_ruri);
	relay_format_branch(buf, siphash_final(&h));
}

/* The loop hash of m as if sender (one Via value) had been its top Via. */
static uint64_t loop_hash(struct sip_msg *m, const struct sip_via *sender)
{
	const struct sip_addr *to = sip_msg_to(m), *from = sip_msg_from(m);
	struct siphash_state in;
	char num[32];

	siphash_init(&in, siphash_process_key());
	/* Only what the next hops do not change: the sender's Via is hashed
	 * by branch and sent-by, as we add received/rport to it; our own
	 * Proxy-Authorization is consumed, so it is left out. */
	snprintf(num, sizeof(num), "%u:%u", sip_msg_cseq(m)->num, (unsigned)sender->port);
	hash_in_add(&in, to ? to->tag : SIP_STR_NULL);
	hash_in_add(&in, from ? from->tag : SIP_STR_NULL);
	hash_in_add(&in, sip_msg_call_id(m));
	hash_in_add(&in, m->ruri);
	hash_in_add(&in, sender->branch);
	hash_in_add(&in, sender->host);
	hash_in_add(&in, sip_str_cstr(num));
	for (const struct sip_hdr *h = sip_msg_hdr(m, SIP_HDR_PROXY_REQUIRE); h;
	     h = sip_msg_hdr_next(m, h))
		hash_in_add(&in, h->value);
	return siphash_final(&in);
}

void relay_stateful_branch(struct sip_msg *m, uint64_t unique, char *buf)
{
	/* z9hG4bK<loop hash>.<unique>, both 16 hex digits */
	memcpy(buf, "z9hG4bK", 7);
	sip_fmt_hex64(buf + 7, loop_hash(m, sip_msg_top_via(m)));
	buf[23] = '.';
	sip_fmt_hex64(buf + 24, unique);
	buf[40] = '\0';
}

bool relay_is_loop(struct sip_msg *m)
{
	struct hdr_list vias;
	struct sip_via ours, below;
	char expect[RELAY_BRANCH_LEN];

	if (sip_msg_to(m) && sip_msg_to(m)->tag.len)
		return false; /* in-dialog: its route set may pass us twice */
	if (hdr_list_collect(m, SIP_HDR_VIA, &vias, HDR_LIST_MAX) < 0)
		return false;
	for (unsigned i = 0; i + 1 < vias.n; i++) {
		if (sip_via_parse(vias.e[i].s, &ours) < 0 || !self_is_our_via(&ours))
			continue;
		if (sip_via_parse(vias.e[i + 1].s, &below) < 0)
			continue;
		relay_format_branch(expect, loop_hash(m, &below));
		if (sip_str_caseprefix(ours.branch, expect))
			return true;
	}
	return false;
}

uint64_t relay_via_conn(const struct sip_via *our_via)
{
	struct sip_str v;
	unsigned long long id = 0;
	char num[24];

	if (!sip_param_find(our_via->params, VIA_CONN_PARAM, &v) || v.len == 0 ||
	    v.len >= sizeof(num))
		return 0;
	sip_str_to_cstr(v, num, sizeof(num));
	if (sscanf(num, "%llx", &id) != 1)
		return 0;
	return id;
}

int relay_response_edits(struct sip_msg *m, struct msg_edits *ed, struct sip_dest *d)
{
	struct hdr_list vias;
	struct sip_via next;
	enum sip_proto p;
	uint64_t conn;
	int rc;

	rc = hdr_list_collect(m, SIP_HDR_VIA, &vias, 2);
	if (rc < 0 && rc != -E2BIG)
		return rc;
	if (vias.n < 2)
		return -ENOENT;
	if (sip_via_parse(vias.e[1].s, &next) < 0)
		return -EBADMSG;
	conn = relay_via_conn(sip_msg_top_via(m));
	rc = hdr_list_delete(m, &vias, 1, ed);
	if (rc < 0)
		return rc;
	rc = transport_response_dest(&next, NULL, d);
	/* A sent-by that is a name has received= beside it whenever we
	 * relayed the request (§18.2.1 stamps it), so a Via without one is
	 * not of a request we relayed: it is not looked up (that would let
	 * anyone make a worker wait on DNS with one response). Over a stream
	 * the connection the request came on is enough. */
	if (rc == -EHOSTUNREACH && conn && sip_proto_parse(next.transport, &p) == 0 &&
	    sip_proto_is_stream(p))
		rc = 0;
	if (rc < 0)
		return rc;
	if (sip_proto_is_stream(d->proto))
		d->conn_id = conn;
	return 0;
}
