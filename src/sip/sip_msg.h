/*
 * sip_msg: the zero-copy SIP message (RFC 3261 §7).
 *
 * Parsing happens in three layers:
 *   1. framing (sip_msg_frame, or sip_msg_frame_resume read by read):
 *      where a message ends in a byte stream, with hard caps on size
 *      (RFC 3261 §18.3);
 *   2. the header index (sip_msg_parse): the start line and one
 *      {id, name, value} slice per header line, names and compact forms
 *      resolved to an enum, headers of one kind chained in order;
 *   3. typed parsers (sip_uri.h, sip_hdr.h) run on demand. The accessors
 *      below (sip_msg_top_via, sip_msg_cseq, ...) run them once on first
 *      use and cache the result in the message.
 *
 * Nothing here allocates: the caller hands in the header array. A sip_msg
 * borrows its buffer; every slice in it points into that buffer.
 */
#ifndef JCT_SIP_MSG_H
#define JCT_SIP_MSG_H

#include "sip/sip_hdr.h"
#include "sip/sip_str.h"
#include "sip/sip_uri.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* Header names Junction looks at, with their compact forms (RFC 3261 §7.3.3,
 * RFC 3265, RFC 3515, RFC 4028). Everything else is SIP_HDR_OTHER. */
enum sip_hdr_id {
	SIP_HDR_OTHER = 0,
	SIP_HDR_ACCEPT,
	SIP_HDR_ALLOW,
	SIP_HDR_AUTHORIZATION,
	SIP_HDR_CALL_ID,          /* i */
	SIP_HDR_CONTACT,          /* m */
	SIP_HDR_CONTENT_ENCODING, /* e */
	SIP_HDR_CONTENT_LENGTH,   /* l */
	SIP_HDR_CONTENT_TYPE,     /* c */
	SIP_HDR_CSEQ,
	SIP_HDR_DATE,
	SIP_HDR_EVENT, /* o */
	SIP_HDR_EXPIRES,
	SIP_HDR_FROM, /* f */
	SIP_HDR_MAX_FORWARDS,
	SIP_HDR_MIN_EXPIRES,
	SIP_HDR_PATH,
	SIP_HDR_PROXY_AUTHENTICATE,
	SIP_HDR_PROXY_AUTHORIZATION,
	SIP_HDR_PROXY_REQUIRE,
	SIP_HDR_RECORD_ROUTE,
	SIP_HDR_REFER_TO, /* r */
	SIP_HDR_REQUIRE,
	SIP_HDR_RETRY_AFTER,
	SIP_HDR_ROUTE,
	SIP_HDR_SERVER,
	SIP_HDR_SUBJECT,   /* s */
	SIP_HDR_SUPPORTED, /* k */
	SIP_HDR_TO,        /* t */
	SIP_HDR_UNSUPPORTED,
	SIP_HDR_USER_AGENT,
	SIP_HDR_VIA, /* v */
	SIP_HDR_WWW_AUTHENTICATE,
	SIP_HDR__COUNT
};

/* Methods Junction knows by name; others are SIP_METHOD_OTHER and are
 * relayed like any non-INVITE request. */
enum sip_method {
	SIP_METHOD_OTHER = 0,
	SIP_METHOD_INVITE,
	SIP_METHOD_ACK,
	SIP_METHOD_BYE,
	SIP_METHOD_CANCEL,
	SIP_METHOD_REGISTER,
	SIP_METHOD_OPTIONS,
	SIP_METHOD_INFO,
	SIP_METHOD_PRACK,
	SIP_METHOD_UPDATE,
	SIP_METHOD_SUBSCRIBE,
	SIP_METHOD_NOTIFY,
	SIP_METHOD_REFER,
	SIP_METHOD_MESSAGE,
	SIP_METHOD_PUBLISH,
	SIP_METHOD__COUNT
};

#define SIP_HDR_NONE UINT16_MAX

/* One header line. A line with several comma-separated values (Via, Route,
 * Contact, ...) is one sip_hdr; the typed parsers split the values. */
struct sip_hdr {
	uint16_t id;          /* enum sip_hdr_id */
	uint16_t next;        /* index of the next header with the same id, or SIP_HDR_NONE */
	uint32_t start;       /* offset of the line's first byte in the buffer */
	uint32_t end;         /* offset just past the line's (last, if folded) CRLF */
	struct sip_str name;  /* as written, e.g. "v" or "Via" */
	struct sip_str value; /* without surrounding LWS; may contain folded CRLF+WS */
};

/* Hard limits. Exceeding one is an error with a status code (413/513/400),
 * never a crash or an unbounded allocation. */
struct sip_limits {
	uint32_t max_message_size; /* whole message, headers and body */
	uint32_t max_headers;      /* header lines */
	uint32_t max_line_length;  /* one physical line, start line included */
	uint32_t max_vias;         /* Via values across all Via headers */
};

/* Safe defaults (used when the config says nothing). Every valid message
 * of RFC 4475 §3.1.1 fits in them: §3.1.1.7 carries 34 Via values. 64 is
 * as many Via values as hdr_list can walk (the loop check of relay.c),
 * and far more proxies than any real path crosses. */
#define SIP_DEFAULT_MAX_MESSAGE_SIZE 65535
#define SIP_DEFAULT_MAX_HEADERS      128
#define SIP_DEFAULT_MAX_LINE_LENGTH  8192
#define SIP_DEFAULT_MAX_VIAS         64

/* Why a parse failed: the status to answer with (0: no answer possible)
 * and a reason phrase naming what is wrong ("Bad CSeq", "Missing Call-ID"). */
struct sip_error {
	uint16_t status;
	const char *reason; /* static string */
};

struct sip_msg {
	const char *buf; /* borrowed: the whole message */
	uint32_t len;    /* start line + headers + blank line + body */

	bool request;
	/* request line */
	struct sip_str method;
	enum sip_method method_id;
	struct sip_str ruri;
	/* status line */
	uint16_t status;
	struct sip_str reason;

	uint32_t ruri_off;    /* offset of the Request-URI (for replacing it) */
	uint32_t headers_off; /* offset of the first header line */
	uint32_t headers_end; /* offset of the CRLF of the empty line */
	struct sip_str body;  /* framed by Content-Length when present */
	bool has_content_length;

	struct sip_hdr *hdrs; /* borrowed: the caller's array */
	uint16_t nhdrs;
	uint16_t max_hdrs;
	uint16_t first[SIP_HDR__COUNT]; /* first header of each id, or SIP_HDR_NONE */
	uint16_t last[SIP_HDR__COUNT];  /* last header of each id, or SIP_HDR_NONE */

	struct sip_error error; /* set when a parse or accessor fails */

	/* Lazily parsed header bodies (see the accessors below). */
	uint32_t parsed;   /* bit per SIP_MSG_P_* : parse attempted */
	uint32_t parse_ok; /* bit per SIP_MSG_P_* : parse succeeded */
	struct sip_uri ruri_parsed;
	struct sip_via top_via;
	struct sip_addr from;
	struct sip_addr to;
	struct sip_cseq cseq;
	struct sip_str call_id;
	uint32_t max_forwards;
	uint32_t vias;                   /* number of Via values, counted on demand */
	const struct sip_limits *limits; /* borrowed */
};

/*
 * Framing (RFC 3261 §18.3) for a stream: given the bytes received so far,
 * says how long the first message is.
 * Leading CRLFs (keep-alives, RFC 5626 §4.4.1) are skipped and counted in
 * *skipped. Returns the length of the first message (bytes after the
 * skipped CRLFs), 0 when more bytes are needed, or a negative errno with
 * err filled: -EMSGSIZE (headers or body beyond max_message_size, 513),
 * -EBADMSG (bad Content-Length, 400). A message with no Content-Length on
 * a stream is framed with an empty body; validation refuses it.
 */
ssize_t sip_msg_frame(const char *buf, size_t len, const struct sip_limits *lim, size_t *skipped,
		      struct sip_error *err);

/* How far sip_msg_frame_resume() got in one message; all zero (e.g.
 * SIP_FRAME_INIT) before its first byte. Offsets count from the message's
 * first byte, so they survive the caller moving the buffer. */
struct sip_frame {
	uint32_t line;     /* start of the first line not yet seen whole */
	uint32_t scanned;  /* bytes searched for a line end */
	uint32_t cl;       /* Content-Length, when seen */
	uint32_t head_len; /* header block with its empty line, once complete; else 0 */
	bool cl_seen;
};

#define SIP_FRAME_INIT ((struct sip_frame){0, 0, 0, 0, false})

/*
 * sip_msg_frame() for a stream read piece by piece: buf[0..len) is what
 * has arrived of one message, buf[0] its first byte (the caller skips the
 * CRLFs before it), and f what the previous calls on shorter prefixes of
 * the same bytes found. Each call looks only at the bytes after
 * f->scanned, and none at all once the header block is complete, so
 * framing a message costs O(its length) however it is cut. Same returns
 * and errors as sip_msg_frame(); after 0, call again with more bytes and
 * the same f; after anything else f is spent (reset it for the next
 * message).
 */
ssize_t sip_msg_frame_resume(struct sip_frame *f, const char *buf, size_t len,
			     const struct sip_limits *lim, struct sip_error *err);

/*
 * Parses the start line and indexes the headers of buf[0..len) into m,
 * using hdrs[0..max_hdrs) (borrowed, must outlive m). len is the datagram
 * or the framed message. Content-Length, when present, cuts the body and
 * m->len (RFC 3261 §18.3: bytes beyond it are discarded); a body shorter
 * than Content-Length is an error (400). m->buf is where the start line
 * begins: CRLFs before it are skipped (§7.5) and every offset counts from
 * m->buf. lim may be NULL, and a 0 field in it means that field's default.
 * Returns 0 or a negative errno with m->error set:
 *   -EMSGSIZE  message, header count or line longer than the limits
 *   -EBADMSG   malformed start line or header line (400 + reason)
 *   -EPROTO    not SIP/2.0 (505 for requests)
 * A bad Request-Line or a header line that is no header does not stop
 * the parse: the first such error is returned, but every other header
 * line is indexed, as for -EPROTO and the body errors, so that a caller
 * can still address the error response (§8.2.6.2). After a line that is
 * not a line at all (a control character, too long, cut off), the lines
 * before it stay indexed. In header lines a control character other than
 * CR and LF is accepted after a backslash (a quoted-pair, §25.1). Typed
 * header bodies are not parsed here.
 */
int sip_msg_parse(struct sip_msg *m, const char *buf, size_t len, struct sip_hdr *hdrs,
		  uint16_t max_hdrs, const struct sip_limits *lim);

/* The first header with this id, or NULL. */
static inline const struct sip_hdr *sip_msg_hdr(const struct sip_msg *m, enum sip_hdr_id id)
{
	uint16_t i = m->first[id];
	return i == SIP_HDR_NONE ? NULL : &m->hdrs[i];
}

/* The next header with the same id as h, or NULL. */
static inline const struct sip_hdr *sip_msg_hdr_next(const struct sip_msg *m,
						     const struct sip_hdr *h)
{
	return h->next == SIP_HDR_NONE ? NULL : &m->hdrs[h->next];
}

/* Number of header lines with this id. */
unsigned sip_msg_hdr_count(const struct sip_msg *m, enum sip_hdr_id id);

/* The first header whose name matches (case-insensitive), for headers
 * without an id (e.g. "X-Trace"). */
const struct sip_hdr *sip_msg_hdr_by_name(const struct sip_msg *m, struct sip_str name);

/* Method name <-> id (case-sensitive, RFC 3261 §7.1). */
enum sip_method sip_method_from_str(struct sip_str s);
const char *sip_method_name(enum sip_method m);

/* Header name (full or compact, case-insensitive) -> id. */
enum sip_hdr_id sip_hdr_id_from_name(struct sip_str name);
/* Canonical full name of an id ("Call-ID"), "" for SIP_HDR_OTHER. */
const char *sip_hdr_name(enum sip_hdr_id id);

/*
 * Lazy accessors: parse on first call, cache, and return NULL (or a
 * negative errno) with m->error set when the header is missing,
 * duplicated where only one is allowed, or malformed. The returned
 * pointers point into m and are valid as long as m.
 */
const struct sip_uri *sip_msg_ruri(struct sip_msg *m);
const struct sip_via *sip_msg_top_via(struct sip_msg *m);
const struct sip_addr *sip_msg_from(struct sip_msg *m);
const struct sip_addr *sip_msg_to(struct sip_msg *m);
const struct sip_cseq *sip_msg_cseq(struct sip_msg *m);
/* Call-ID value (trimmed); empty slice when missing or duplicated. */
struct sip_str sip_msg_call_id(struct sip_msg *m);
/* Max-Forwards: 0 with *value set, -ENOENT when absent, -EBADMSG when bad. */
int sip_msg_max_forwards(struct sip_msg *m, uint32_t *value);
/* Number of Via values over all Via headers (for the max_vias limit). */
uint32_t sip_msg_via_count(struct sip_msg *m);

/*
 * Checks what every request and response must carry (RFC 3261 §8.1.1,
 * §16.3 step 1): one From, To, Call-ID, CSeq, at least one Via, all
 * parseable; a CSeq method matching the request method; Via count within
 * limits; Content-Length present on streams. Returns 0 or -EBADMSG with
 * m->error set: 400 and a reason naming the header ("Missing To,
 * Call-ID" names every one missing), or 501 for a CSeq that does not
 * match a method we do not know (RFC 4475 §3.1.2.18).
 */
int sip_msg_check_mandatory(struct sip_msg *m, bool stream);

/*
 * Cheap scan used by the listeners before any parsing: finds the Call-ID
 * value (full or compact name, any case) in the first len bytes. Returns
 * an empty slice when there is none. Never reads past len.
 */
struct sip_str sip_msg_scan_call_id(const char *buf, size_t len);

#endif
