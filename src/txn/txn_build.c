/*
 * txn_build: see txn_build.h. The hop-by-hop request is written twice by
 * one function: first into nothing, to measure it, then into a block of
 * exactly that size. The pieces are slices of the re-parsed request, so
 * the only copy is into the output.
 */
#include "txn/txn_build.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* An upper bound on the header lines of buf: the line feeds up to the
 * empty line that ends the headers (the start line takes one of them).
 * CR/LFs before the start line are skipped, as the parser does (§7.5). */
static size_t header_lines_max(const char *buf, size_t len)
{
	const char *p = buf, *end = buf + len, *nl;
	size_t n = 0;

	while (p < end && (*p == '\r' || *p == '\n'))
		p++;
	while ((nl = memchr(p, '\n', (size_t)(end - p)))) {
		n++;
		p = nl + 1;
		if (p < end && (*p == '\n' || (*p == '\r' && p + 1 < end && p[1] == '\n')))
			break;
	}
	return n;
}

int txn_reparse(struct txn_reparsed *r, const char *buf, size_t len)
{
	size_t n = header_lines_max(buf, len) + 1;
	uint32_t cap = len < UINT32_MAX ? (uint32_t)len : UINT32_MAX;

	/* a sip_msg indexes at most SIP_HDR_NONE - 1 lines; past that the
	 * parse fails (-EMSGSIZE) rather than overrun */
	if (n >= SIP_HDR_NONE)
		n = SIP_HDR_NONE - 1;
	r->hdrs = calloc(n, sizeof(*r->hdrs));
	if (!r->hdrs)
		return -ENOMEM;
	r->lim = (struct sip_limits){.max_message_size = cap,
				     .max_headers = (uint32_t)n,
				     .max_line_length = cap,
				     .max_vias = cap};
	return sip_msg_parse(&r->m, buf, len, r->hdrs, (uint16_t)n, &r->lim);
}

void txn_reparsed_free(struct txn_reparsed *r)
{
	free(r->hdrs);
	r->hdrs = NULL;
}

/* Output that only counts while p is NULL. */
struct out {
	char *p;
	size_t n;
};

static void put(struct out *o, const char *s, size_t len)
{
	if (o->p)
		memcpy(o->p + o->n, s, len);
	o->n += len;
}

static void put_str(struct out *o, struct sip_str s)
{
	put(o, s.p, s.len);
}

static void put_cstr(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

/* "Name: value\r\n" */
static void put_hdr(struct out *o, const char *name, struct sip_str value)
{
	put_cstr(o, name);
	put(o, ": ", 2);
	put_str(o, value);
	put(o, "\r\n", 2);
}

/* What the hop-by-hop request is made of, located in the request. */
struct hop {
	const char *method;
	struct sip_str ruri, via, from, to, call_id;
	const struct sip_msg *req; /* for its Route lines */
	char cseq[12];             /* the CSeq number, decimal */
};

static void write_hop(struct out *o, const struct hop *h)
{
	put_cstr(o, h->method);
	put(o, " ", 1);
	put_str(o, h->ruri);
	put(o, " SIP/2.0\r\n", 10);
	put_hdr(o, "Via", h->via);
	/* §9.1, §17.1.1.3: the Route header fields of the request, each
	 * line as it was */
	for (const struct sip_hdr *r = sip_msg_hdr(h->req, SIP_HDR_ROUTE); r;
	     r = sip_msg_hdr_next(h->req, r))
		put_hdr(o, "Route", r->value);
	put_hdr(o, "From", h->from);
	put_hdr(o, "To", h->to);
	put_hdr(o, "Call-ID", h->call_id);
	put(o, "CSeq: ", 6);
	put_cstr(o, h->cseq);
	put(o, " ", 1);
	put_cstr(o, h->method);
	put(o, "\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n", 41);
}

int txn_build_hop(const char *req, size_t req_len, enum sip_method method, const struct sip_str *to,
		  char **out, size_t *out_len)
{
	struct txn_reparsed r;
	const struct sip_via *via;
	const struct sip_cseq *cs;
	const struct sip_hdr *from, *to_req;
	struct hop h;
	struct out o = {NULL, 0};
	int rc;

	*out = NULL;
	*out_len = 0;
	rc = txn_reparse(&r, req, req_len);
	if (rc < 0)
		goto out;
	via = sip_msg_top_via(&r.m);
	cs = sip_msg_cseq(&r.m);
	from = sip_msg_hdr(&r.m, SIP_HDR_FROM);
	to_req = sip_msg_hdr(&r.m, SIP_HDR_TO);
	h = (struct hop){.method = sip_method_name(method),
			 .ruri = r.m.ruri,
			 .req = &r.m,
			 .call_id = sip_msg_call_id(&r.m)};
	if (!r.m.request || !via || !cs || !from || (!to && !to_req) || !h.call_id.len) {
		rc = -EBADMSG;
		goto out;
	}
	h.via = via->raw;
	h.from = from->value;
	h.to = to ? *to : to_req->value;
	h.cseq[sip_fmt_u64(h.cseq, cs->num)] = '\0';
	write_hop(&o, &h);
	o.p = malloc(o.n);
	if (!o.p) {
		rc = -ENOMEM;
		goto out;
	}
	o.n = 0;
	write_hop(&o, &h);
	*out = o.p;
	*out_len = o.n;
out:
	txn_reparsed_free(&r);
	return rc;
}
