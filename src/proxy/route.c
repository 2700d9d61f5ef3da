/*
 * route: Route processing as edits (see route.h). The route state records
 * what to change (Route values of ours to delete, a Request-URI to
 * replace, values to pre-load or append) while the request is examined,
 * and route_commit() turns it into edits once, so a request that is
 * refused after the route checks costs no copy. Whether a URI is ours is
 * asked of self.c, which knows our addresses and domains.
 */
#include "proxy/route.h"

#include "proxy/self.h"

#include <errno.h>
#include <string.h>

static int parse_route(const struct hdr_elem *e, struct sip_addr *a)
{
	int rc = sip_addr_parse(e->s, a);

	if (rc < 0 || a->star || (a->uri.scheme != SIP_URI_SIP && a->uri.scheme != SIP_URI_SIPS))
		return -EBADMSG;
	return 0;
}

unsigned route_preprocess(struct sip_msg *m, struct route_state *rs)
{
	const struct sip_uri *ruri = sip_msg_ruri(m);
	unsigned end;
	int n;

	memset(rs, 0, sizeof(*rs));
	rs->target = *ruri;
	rs->target_str = m->ruri;
	n = hdr_list_collect(m, SIP_HDR_ROUTE, &rs->routes, HDR_LIST_MAX);
	if (n < 0)
		return 400;
	end = rs->routes.n;

	/* A strict router before us put our Record-Route URI in the
	 * Request-URI and the real one last in Route (§16.4 paragraph 2). Our
	 * Record-Route URIs carry an address of ours, never a served domain:
	 * "REGISTER sip:example.com" with a Route is not that case. */
	if (end > 0 && self_is_rr_uri(ruri)) {
		struct sip_addr last;

		if (parse_route(&rs->routes.e[end - 1], &last) < 0)
			return 400;
		rs->target = last.uri;
		rs->target_str = last.uri_str;
		rs->ruri_changed = true;
		rs->remove |= 1ULL << (end - 1);
		end--;
	}
	/* Our own Route values on top: one, or two after a double
	 * Record-Route (§16.4 paragraph 3). */
	rs->next = 0;
	while (rs->next < end) {
		struct sip_addr a;

		if (parse_route(&rs->routes.e[rs->next], &a) < 0)
			return 400;
		if (!self_is_local_uri(&a.uri))
			break;
		rs->remove |= 1ULL << rs->next;
		rs->next++;
	}
	if (rs->next == end)
		rs->next = rs->routes.n; /* none left (the strict-router one is gone too) */
	return 0;
}

void route_set_target(struct route_state *rs, const struct sip_uri *uri)
{
	rs->target = *uri;
	rs->target_str = uri->raw;
	rs->ruri_changed = true;
}

unsigned route_preload(struct route_state *rs, struct sip_str path)
{
	struct sip_str cur = path, first;
	struct sip_addr a;
	struct hdr_elem e;

	if (!sip_list_next(&cur, &first))
		return 0;
	e.s = first;
	if (parse_route(&e, &a) < 0)
		return 400;
	rs->preload = path;
	rs->hop = a.uri;
	return 0;
}

void route_set_hop(struct route_state *rs, const struct sip_uri *hop)
{
	rs->hop = *hop;
	rs->hop_fixed = true;
}

int route_received(struct sip_str value, char *buf, size_t cap, struct sip_uri *out)
{
	struct sip_addr a;
	struct sip_str v;
	int n;

	if (cap < 2 || sip_addr_parse(value, &a) < 0 ||
	    !sip_param_find(a.uri.params, "received", &v))
		return -ENOENT;
	n = sip_unescape(v, buf, cap - 1);
	if (n <= 0)
		return -ENOENT;
	buf[n] = '\0';
	if (sip_uri_parse(sip_str_make(buf, (size_t)n), out) < 0 ||
	    (out->scheme != SIP_URI_SIP && out->scheme != SIP_URI_SIPS))
		return -ENOENT;
	return 0;
}

int route_ws_flow(struct sip_str value, char *buf, size_t cap, struct sip_uri *out)
{
	enum sip_proto p;

	if (route_received(value, buf, cap, out) < 0 || sip_proto_parse(out->transport, &p) < 0 ||
	    !sip_proto_is_ws(p))
		return -ENOENT;
	return 0;
}

unsigned route_next_hop(struct sip_msg *m, struct route_state *rs)
{
	struct sip_addr a;

	(void)m;
	/* the hop is the first pre-loaded value (loose, RFC 3327 §5.2), or
	 * the one route_set_hop() fixed */
	if (rs->preload.len || rs->hop_fixed)
		return 0;
	if (!route_has_next(rs)) {
		rs->hop = rs->target;
		return 0;
	}
	if (parse_route(&rs->routes.e[rs->next], &a) < 0)
		return 400;
	rs->hop = a.uri;
	if (a.uri.lr)
		return 0;
	/* Strict next hop (§16.6 step 6): it becomes the Request-URI, and the
	 * Request-URI goes to the end of the route set. */
	rs->append = rs->target_str;
	rs->target = a.uri;
	rs->target_str = a.uri_str;
	rs->ruri_changed = true;
	rs->remove |= 1ULL << rs->next;
	return 0;
}

int route_commit(struct sip_msg *m, struct route_state *rs, struct msg_edits *ed)
{
	int rc;

	if (rs->ruri_changed) {
		rc = msg_edit_add(ed, m->ruri_off, (uint32_t)m->ruri.len, rs->target_str.p,
				  rs->target_str.len);
		if (rc < 0)
			return rc;
	}
	if (rs->remove) {
		rc = hdr_list_delete(m, &rs->routes, rs->remove, ed);
		if (rc < 0)
			return rc;
	}
	if (rs->preload.len) {
		rc = msg_edit_insertf(ed, m->headers_off, "Route: %.*s\r\n",
				      SIP_STR_FMT(rs->preload));
		if (rc < 0)
			return rc;
	}
	if (rs->append.len) {
		/* After the last Route line (which may itself be deleted: an
		 * insert at a deletion's end is fine). */
		const struct sip_hdr *h = &m->hdrs[m->last[SIP_HDR_ROUTE]];

		rc = msg_edit_insertf(ed, h->end, "Route: <%.*s>\r\n", SIP_STR_FMT(rs->append));
		if (rc < 0)
			return rc;
	}
	return 0;
}
