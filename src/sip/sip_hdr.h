/*
 * sip_hdr: typed parsers for header bodies (RFC 3261 §20, §25.1).
 *
 * Each parser takes one slice (a header value or one element of a comma
 * list) and fills a struct of slices into the same bytes; nothing is
 * copied or allocated. They are small state machines over (p, end) that
 * never read outside the slice and tolerate folded LWS (CRLF SP) wherever
 * the grammar allows LWS.
 */
#ifndef JCT_SIP_HDR_H
#define JCT_SIP_HDR_H

#include "sip/sip_str.h"
#include "sip/sip_uri.h"

#include <stdbool.h>
#include <stdint.h>

/*
 * Comma lists (RFC 3261 §7.3.1). *cursor is the unread rest of a header
 * value; sip_list_next() stores the next element (trimmed) in *item and
 * advances *cursor past it and its comma. Commas inside quoted strings and
 * inside <...> do not split. Returns true while an element was found;
 * empty elements (",,") are skipped.
 */
bool sip_list_next(struct sip_str *cursor, struct sip_str *item);

/* One via-parm: "SIP/2.0/UDP host:port;branch=...;rport" (§20.42, RFC 3581). */
struct sip_via {
	struct sip_str raw;       /* the whole element */
	struct sip_str protocol;  /* "SIP/2.0" as written (LWS around '/' allowed) */
	struct sip_str transport; /* "UDP", "TCP", "TLS", "SCTP", "WS", ... */
	struct sip_str host;      /* "[::1]" keeps its brackets */
	uint16_t port;            /* 0 when absent */
	bool host_ipv6;
	struct sip_str params; /* ";branch=..." including the first ';' */
	struct sip_str branch;
	struct sip_str received;
	struct sip_str maddr;
	struct sip_str ttl;
	bool rport;           /* rport parameter present */
	uint32_t rport_value; /* 0 when present without value */
};

/* Parses one Via element. Returns 0 or -EBADMSG. */
int sip_via_parse(struct sip_str s, struct sip_via *v);

/* Parses only the sent-protocol and sent-by of one Via element, leaving
 * params, branch, rport and the rest empty: enough to address the 400
 * to a Via whose parameters are malformed (RFC 4475 §3.1.2.1), never
 * enough to relay anything. Returns 0 or -EBADMSG. */
int sip_via_parse_sent_by(struct sip_str s, struct sip_via *v);

/*
 * name-addr or addr-spec with header parameters (§20.10, §20.20, §20.34,
 * §20.39): From, To, Contact, Route, Record-Route, Path. For an addr-spec
 * without <>, the parameters after the URI are header parameters, not URI
 * parameters (§20.10).
 */
struct sip_addr {
	struct sip_str raw;     /* the whole element */
	struct sip_str display; /* display-name as written, quotes included, or empty */
	struct sip_str uri_str; /* the URI text, without <> */
	struct sip_uri uri;
	bool star;             /* Contact: "*" */
	struct sip_str params; /* header params including the first ';', or empty */
	struct sip_str tag;    /* tag= (From/To) */
	int32_t q;             /* Contact q in thousandths (0..1000), -1 when absent */
	int64_t expires;       /* Contact expires=, -1 when absent */
};

/* Parses one element. Returns 0, or -EBADMSG for bad syntax, or -EPROTO
 * when the URI is of an unsupported scheme (its text is still filled).
 * Contact "*" parses with star set and no URI. */
int sip_addr_parse(struct sip_str s, struct sip_addr *a);

/* q-value "0.5" -> 500 (RFC 3261 §20.10: 0 to 1, three decimals at most).
 * Returns 0 or -EBADMSG. */
int sip_qvalue_parse(struct sip_str s, int32_t *thousandths);

/* CSeq: "4711 INVITE" (§20.16): number below 2^31, a method token. */
struct sip_cseq {
	uint32_t num;
	struct sip_str method;
};
int sip_cseq_parse(struct sip_str s, struct sip_cseq *c);

/* Is token (case-insensitive) in the comma list s? For Require,
 * Proxy-Require, Supported, Allow. */
bool sip_token_list_has(struct sip_str s, const char *token);

/*
 * Digest credentials (Authorization / Proxy-Authorization, §22.4,
 * RFC 7616 §3.4): "Digest username="..", realm="..", ...". Quoted values are
 * returned without their quotes (and with backslash escapes left in
 * place; username_escaped says one was seen). Unknown parameters are
 * skipped. Returns 0, -EBADMSG for bad syntax, -EPROTO for a scheme other
 * than Digest.
 */
struct sip_digest_cred {
	struct sip_str username;
	struct sip_str realm;
	struct sip_str nonce;
	struct sip_str uri;
	struct sip_str response;
	struct sip_str algorithm; /* empty means MD5 */
	struct sip_str cnonce;
	struct sip_str opaque;
	struct sip_str qop;
	struct sip_str nc;
	bool userhash;
	bool username_escaped;
};
int sip_digest_cred_parse(struct sip_str s, struct sip_digest_cred *c);

#endif
