/*
 * sip_reply: see sip_reply.h. The response is written with a small
 * bounded writer: every append checks the room left, and one overflow
 * flag turns the whole build into -ENOSPC, so no path can write past the
 * caller's buffer.
 *
 * The request may be one the parser refused: the 400 for a missing To or
 * a malformed Via is built from whatever the header index holds. Only
 * the top Via's sent-by is required, as it says where the answer goes.
 */
#include "runtime/sip_reply.h"

#include "autoconfig.h"
#include "base/siphash.h"
#include "base/strbuf.h"
#include "net/transport.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static void putstr(struct strbuf *w, struct sip_str s)
{
	strbuf_put(w, s.p, s.len);
}

static void putf(struct strbuf *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void putf(struct strbuf *w, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (w->overflow)
		return;
	va_start(ap, fmt);
	n = vsnprintf(w->p + w->len, w->cap - w->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= w->cap - w->len)
		w->overflow = true;
	else
		w->len += (size_t)n;
}

const char *sip_reason_phrase(unsigned status)
{
	switch (status) {
	case 100:
		return "Trying";
	case 180:
		return "Ringing";
	case 181:
		return "Call Is Being Forwarded";
	case 182:
		return "Queued";
	case 183:
		return "Session Progress";
	case 200:
		return "OK";
	case 202:
		return "Accepted";
	case 300:
		return "Multiple Choices";
	case 301:
		return "Moved Permanently";
	case 302:
		return "Moved Temporarily";
	case 305:
		return "Use Proxy";
	case 380:
		return "Alternative Service";
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 402:
		return "Payment Required";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 406:
		return "Not Acceptable";
	case 407:
		return "Proxy Authentication Required";
	case 408:
		return "Request Timeout";
	case 410:
		return "Gone";
	case 413:
		return "Request Entity Too Large";
	case 414:
		return "Request-URI Too Long";
	case 415:
		return "Unsupported Media Type";
	case 416:
		return "Unsupported URI Scheme";
	case 420:
		return "Bad Extension";
	case 421:
		return "Extension Required";
	case 423:
		return "Interval Too Brief";
	case 439:
		return "First Hop Lacks Outbound Support";
	case 478:
		return "Unresolvable Destination"; /* not in RFC 3261; Kamailio's and OpenSIPS's */
	case 480:
		return "Temporarily Unavailable";
	case 481:
		return "Call/Transaction Does Not Exist";
	case 482:
		return "Loop Detected";
	case 483:
		return "Too Many Hops";
	case 484:
		return "Address Incomplete";
	case 485:
		return "Ambiguous";
	case 486:
		return "Busy Here";
	case 487:
		return "Request Terminated";
	case 488:
		return "Not Acceptable Here";
	case 491:
		return "Request Pending";
	case 493:
		return "Undecipherable";
	case 500:
		return "Server Internal Error";
	case 501:
		return "Not Implemented";
	case 502:
		return "Bad Gateway";
	case 503:
		return "Service Unavailable";
	case 504:
		return "Server Time-out";
	case 505:
		return "Version Not Supported";
	case 513:
		return "Message Too Large";
	case 600:
		return "Busy Everywhere";
	case 603:
		return "Decline";
	case 604:
		return "Does Not Exist Anywhere";
	case 606:
		return "Not Acceptable";
	default:
		return "Unknown";
	}
}

const char *sip_reply_derive_tag(struct sip_msg *req, char *buf, size_t cap)
{
	const struct sip_addr *from = sip_msg_from(req);
	const struct sip_via *via = sip_msg_top_via(req);
	const struct sip_hdr *ch = sip_msg_hdr(req, SIP_HDR_CALL_ID);
	struct sip_str cid = ch ? ch->value : SIP_STR_NULL;
	char tmp[1024];
	size_t n = 0;

	/* Concatenate what identifies the transaction; truncation only costs
	 * uniqueness across pathological requests, never safety. */
#define ADD(s)                                                                                     \
	do {                                                                                       \
		size_t k = (s).len < sizeof(tmp) - n ? (s).len : sizeof(tmp) - n;                  \
		if (k)                                                                             \
			memcpy(tmp + n, (s).p, k);                                                 \
		n += k;                                                                            \
		if (n < sizeof(tmp))                                                               \
			tmp[n++] = '|';                                                            \
	} while (0)
	ADD(cid);
	if (from)
		ADD(from->tag);
	if (via)
		ADD(via->branch);
#undef ADD
	snprintf(buf, cap, "%016llx", (unsigned long long)siphash(siphash_process_key(), tmp, n));
	return buf;
}

bool sip_reply_is_our_tag(struct sip_msg *m)
{
	const struct sip_addr *to = sip_msg_to(m);
	char tag[32];

	if (!to || to->tag.len != 16)
		return false;
	sip_reply_derive_tag(m, tag, sizeof(tag));
	return sip_str_eq(to->tag, sip_str_make(tag, 16));
}

/* The top Via value with received/rport added (RFC 3261 §18.2.1, RFC
 * 3581), or as it came when src is NULL. */
static void put_top_via(struct strbuf *w, const struct sip_hdr *h, const struct sip_via *v,
			const struct sip_source *src)
{
	const char *vend = v->raw.p + v->raw.len;
	const char *hend = h->value.p + h->value.len;
	const char *p = h->value.p;
	struct via_stamp st = {.rport_at = NULL, .received_text = ""};

	if (src)
		transport_via_stamp(v, src, &st);
	strbuf_puts(w, "Via: ");
	if (st.rport_at) {
		strbuf_put(w, p, (size_t)(st.rport_at - p));
		strbuf_puts(w, st.rport_text);
		p = st.rport_at;
	}
	strbuf_put(w, p, (size_t)(vend - p));
	strbuf_puts(w, st.received_text);
	strbuf_put(w, vend, (size_t)(hend - vend));
	strbuf_puts(w, "\r\n");
}

/*
 * The top Via a response goes back by: the parsed one, or when its
 * parameters do not parse, its sent-by alone read into *tmp (*whole set
 * false), so that the 400 for that very Via can still be sent (RFC 4475
 * §3.1.2.1). NULL when there is no Via or not even a sent-by to read.
 */
static const struct sip_via *reply_via(struct sip_msg *req, struct sip_via *tmp, bool *whole)
{
	const struct sip_via *v = sip_msg_top_via(req);
	const struct sip_hdr *h = sip_msg_hdr(req, SIP_HDR_VIA);
	struct sip_str cur, item;

	*whole = v != NULL;
	if (v || !h)
		return v;
	cur = h->value;
	if (!sip_list_next(&cur, &item) || sip_via_parse_sent_by(item, tmp))
		return NULL;
	return tmp;
}

/* "Name: value" CRLF for the first header of id, when there is one. */
static void put_copy(struct strbuf *w, struct sip_msg *req, enum sip_hdr_id id)
{
	const struct sip_hdr *h = sip_msg_hdr(req, id);

	if (!h)
		return;
	strbuf_puts(w, sip_hdr_name(id));
	strbuf_puts(w, ": ");
	putstr(w, h->value);
	strbuf_puts(w, "\r\n");
}

static const char *server_value;

void sip_reply_set_server(const char *value)
{
	server_value = value && value[0] ? value : NULL;
}

ssize_t sip_reply_build(struct sip_msg *req, const struct sip_source *src,
			const struct sip_reply *r, char *out, size_t cap)
{
	struct strbuf w = strbuf_make(out, cap);
	struct sip_via loose;
	bool whole;
	const struct sip_via *top = reply_via(req, &loose, &whole);
	const struct sip_hdr *to = sip_msg_hdr(req, SIP_HDR_TO);
	const struct sip_addr *to_parsed;
	const struct sip_hdr *h;
	char tagbuf[32];
	const char *tag = r->to_tag;

	/* A response is addressed by the top Via, so that one must be there
	 * and readable. From, To, Call-ID and CSeq are copied as they came
	 * (§8.2.6.2), malformed or not, since that is what a 400 reports;
	 * one that is missing is left out, as the 400 says it is missing
	 * (§8.2 and §16.3 step 1 want the answer, not silence). */
	if (!top)
		return -EBADMSG;
	to_parsed = to ? sip_msg_to(req) : NULL;

	putf(&w, "SIP/2.0 %u %s\r\n", r->status,
	     r->reason ? r->reason : sip_reason_phrase(r->status));
	for (h = sip_msg_hdr(req, SIP_HDR_VIA); h; h = sip_msg_hdr_next(req, h)) {
		if (h == sip_msg_hdr(req, SIP_HDR_VIA)) {
			/* A Via read in part is not stamped: its parameters
			 * are what is wrong with it. */
			put_top_via(&w, h, top, whole ? src : NULL);
		} else {
			strbuf_puts(&w, "Via: ");
			putstr(&w, h->value);
			strbuf_puts(&w, "\r\n");
		}
	}
	put_copy(&w, req, SIP_HDR_FROM);
	if (to) {
		strbuf_puts(&w, "To: ");
		putstr(&w, to->value);
		/* §8.2.6.2: a tag unless the request had one (in-dialog) or
		 * this is a 100; not on a To we could not parse (it may hide
		 * a tag). */
		if (to_parsed && to_parsed->tag.len == 0 && r->status > 100) {
			if (!tag)
				tag = sip_reply_derive_tag(req, tagbuf, sizeof(tagbuf));
			strbuf_puts(&w, ";tag=");
			strbuf_puts(&w, tag);
		}
		strbuf_puts(&w, "\r\n");
	}
	put_copy(&w, req, SIP_HDR_CALL_ID);
	put_copy(&w, req, SIP_HDR_CSEQ);
	if (r->extra)
		strbuf_puts(&w, r->extra);
	if (server_value) {
		strbuf_puts(&w, "Server: ");
		strbuf_puts(&w, server_value);
		strbuf_puts(&w, "\r\n");
	}
	putf(&w, "Content-Length: %zu\r\n\r\n", r->body_len);
	if (r->body_len)
		strbuf_put(&w, r->body, r->body_len);
	return w.overflow ? -ENOSPC : (ssize_t)w.len;
}

int sip_reply_send(struct sip_msg *req, const struct sip_source *src, const struct sip_reply *r,
		   char *out, size_t cap)
{
	struct sip_via loose;
	struct sip_dest d;
	bool whole;
	ssize_t n;
	int rc;

	n = sip_reply_build(req, src, r, out, cap);
	if (n < 0)
		return (int)n;
	rc = transport_response_dest(reply_via(req, &loose, &whole), src, &d);
	if (rc == 0)
		rc = transport_send_later(&d, out, (size_t)n);
	return rc < 0 ? rc : (int)n;
}
