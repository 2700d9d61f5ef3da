/*
 * reginfo: see reginfo.h. The body of a NOTIFY for the reg event package
 * (RFC 3680 §5.3), built the way sip_reply.c builds a response: a small
 * bounded writer whose every append checks the room left, and one overflow
 * flag that turns the whole build into -ENOSPC, so no path can write past
 * the caller's buffer however long the URIs are.
 *
 * The arguments are checked in a first pass, before a byte is written:
 * the event names against the schema's enumeration (§5.4), and every text
 * for what XML 1.0 cannot carry at all (invalid UTF-8, C0 controls other
 * than TAB, LF and CR, which not even a character reference may name), so
 * a bad argument is -EINVAL whatever cap is, and what is written is always
 * a well-formed document. The second pass only writes.
 *
 * Called from the worker that handled the REGISTER (or the database
 * thread's outbox): no state, no allocation, no lock.
 */
#include "registrar/reginfo.h"

#include "base/strbuf.h"

#include <errno.h>
#include <string.h>

static void put_u64(struct strbuf *w, uint64_t v)
{
	char buf[24];

	strbuf_put(w, buf, sip_fmt_u64(buf, v));
}

/* A qvalue (RFC 3261 §20.10) from thousandths 0..1000, trailing zeros
 * dropped: 1000 "1", 500 "0.5", 80 "0.08", 1 "0.001", 0 "0". */
static void put_q(struct strbuf *w, unsigned q)
{
	char buf[6] = {'0', '.'};
	size_t n = 5;

	if (q >= 1000) {
		strbuf_puts(w, "1");
		return;
	}
	buf[2] = (char)('0' + q / 100);
	buf[3] = (char)('0' + q / 10 % 10);
	buf[4] = (char)('0' + q % 10);
	while (n > 2 && buf[n - 1] == '0')
		n--;
	strbuf_put(w, buf, n == 2 ? 1 : n);
}

/* s escaped for an attribute value or element content (XML 1.0 §2.4,
 * §3.3.3): the five markup characters as entities, TAB, LF and CR as
 * character references so that attribute normalisation keeps them. */
static void put_esc(struct strbuf *w, struct sip_str s)
{
	const char *p = s.p, *end = sip_str_end(s), *run = p;

	for (; p < end; p++) {
		const char *e;

		switch (*p) {
		case '&':
			e = "&amp;";
			break;
		case '<':
			e = "&lt;";
			break;
		case '>':
			e = "&gt;";
			break;
		case '"':
			e = "&quot;";
			break;
		case '\'':
			e = "&apos;";
			break;
		case '\t':
			e = "&#9;";
			break;
		case '\n':
			e = "&#10;";
			break;
		case '\r':
			e = "&#13;";
			break;
		default:
			continue;
		}
		strbuf_put(w, run, (size_t)(p - run));
		strbuf_puts(w, e);
		run = p + 1;
	}
	strbuf_put(w, run, (size_t)(end - run));
}

/* ' NAME="VALUE"', the value escaped. */
static void put_attr(struct strbuf *w, const char *name, struct sip_str value)
{
	strbuf_puts(w, " ");
	strbuf_puts(w, name);
	strbuf_puts(w, "=\"");
	put_esc(w, value);
	strbuf_puts(w, "\"");
}

static void put_attr_u64(struct strbuf *w, const char *name, uint64_t v)
{
	strbuf_puts(w, " ");
	strbuf_puts(w, name);
	strbuf_puts(w, "=\"");
	put_u64(w, v);
	strbuf_puts(w, "\"");
}

/* The values of the contact's event attribute, RFC 3680 §5.3 and the
 * schema's enumeration (§5.4). */
static const char *const events[] = {
	"registered",  "created",   "refreshed",    "shortened", "expired",
	"deactivated", "probation", "unregistered", "rejected",
};

static bool known(const char *s, const char *const *names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(s, names[i]) == 0)
			return true;
	return false;
}

static const char *const reg_states[] = {"init", "active", "terminated"};

/* Can s go into an XML 1.0 document (§2.2 Char): well-formed UTF-8 and no
 * C0 control but TAB, LF and CR. A slice with no bytes must not point
 * nowhere with a length. */
static bool xml_text_ok(struct sip_str s)
{
	if (!s.p && s.len)
		return false;
	for (size_t i = 0; i < s.len; i++) {
		unsigned char ch = (unsigned char)s.p[i];

		if (ch < 0x20 && ch != '\t' && ch != '\n' && ch != '\r')
			return false;
		if (ch == 0x7f)
			return false; /* allowed by XML 1.0, but never in a SIP URI */
	}
	return sip_str_utf8_valid(s);
}

static bool contact_ok(const struct reginfo_contact *ct)
{
	return ct->event && known(ct->event, events, sizeof(events) / sizeof(events[0])) &&
	       ct->id.len && xml_text_ok(ct->id) && xml_text_ok(ct->uri) &&
	       xml_text_ok(ct->call_id) && ct->q <= 1000;
}

static void put_contact(struct strbuf *w, const struct reginfo_contact *ct)
{
	strbuf_puts(w, "    <contact");
	put_attr(w, "id", ct->id);
	strbuf_puts(w, ct->active ? " state=\"active\"" : " state=\"terminated\"");
	put_attr(w, "event", sip_str_cstr(ct->event));
	if (ct->duration >= 0)
		put_attr_u64(w, "duration-registered", (uint64_t)ct->duration);
	if (ct->active && ct->expires >= 0)
		put_attr_u64(w, "expires", (uint64_t)ct->expires);
	if (ct->q >= 0) {
		strbuf_puts(w, " q=\"");
		put_q(w, (unsigned)ct->q);
		strbuf_puts(w, "\"");
	}
	if (ct->call_id.len)
		put_attr(w, "callid", ct->call_id);
	if (ct->cseq >= 0)
		put_attr_u64(w, "cseq", (uint64_t)ct->cseq);
	strbuf_puts(w, ">\n      <uri>");
	put_esc(w, ct->uri);
	strbuf_puts(w, "</uri>\n    </contact>\n");
}

ssize_t reginfo_build(char *out, size_t cap, struct sip_str aor, struct sip_str reg_id,
		      uint64_t version, bool full, const char *reg_state,
		      const struct reginfo_contact *c, unsigned n)
{
	struct strbuf w = strbuf_make(out, cap);

	if (!out || !reg_state || (n && !c))
		return -EINVAL;
	if (!known(reg_state, reg_states, sizeof(reg_states) / sizeof(reg_states[0])) || !aor.len ||
	    !reg_id.len || !xml_text_ok(aor) || !xml_text_ok(reg_id))
		goto inval;
	for (unsigned i = 0; i < n; i++)
		if (!contact_ok(&c[i]))
			goto inval;

	/* (cap - 1: the NUL goes after what was written) */
	if (cap == 0)
		return -ENOSPC;
	w.cap = cap - 1;
	strbuf_puts(&w, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
			"<reginfo xmlns=\"urn:ietf:params:xml:ns:reginfo\"");
	put_attr_u64(&w, "version", version);
	strbuf_puts(&w, full ? " state=\"full\">\n" : " state=\"partial\">\n");
	strbuf_puts(&w, "  <registration");
	put_attr(&w, "aor", aor);
	put_attr(&w, "id", reg_id);
	put_attr(&w, "state", sip_str_cstr(reg_state));
	strbuf_puts(&w, ">\n");
	for (unsigned i = 0; i < n; i++)
		put_contact(&w, &c[i]);
	strbuf_puts(&w, "  </registration>\n</reginfo>\n");
	if (w.overflow) {
		out[0] = '\0';
		return -ENOSPC;
	}
	out[w.len] = '\0';
	return (ssize_t)w.len;
inval:
	if (cap)
		out[0] = '\0';
	return -EINVAL;
}

const char *reginfo_reg_state(const struct reginfo_contact *c, unsigned n)
{
	if (!c || !n)
		return "init";
	for (unsigned i = 0; i < n; i++)
		if (c[i].active)
			return "active";
	return "terminated";
}
