/*
 * sip_reply: responses this node generates itself (RFC 3261 §8.2.6).
 *
 * A local response copies the request's Via values (the top one marked
 * with received/rport, §18.2.1 and RFC 3581), From, To (tagged), Call-ID
 * and CSeq, then adds the caller's extra header lines, Server and
 * Content-Length. The To tag is derived from the request (Call-ID, From
 * tag, top branch) so a retransmitted request gets the same tag without
 * any stored state.
 */
#ifndef JCT_SIP_REPLY_H
#define JCT_SIP_REPLY_H

#include "net/transport.h"
#include "sip/sip_msg.h"

#include <sys/types.h>

/* Standard reason phrase of a status code ("Not Found"); "Unknown" if none. */
const char *sip_reason_phrase(unsigned status);

/*
 * Builds the response to req into out (capacity cap). reason NULL means
 * the standard phrase. extra is zero or more complete header lines, each
 * ending in CRLF (may be NULL). to_tag NULL means derive one (none for
 * 100). body/body_len may be NULL/0 (then Content-Length: 0).
 * Returns the length, or -ENOSPC / -EBADMSG (no top Via with a sent-by to
 * read: nobody can be addressed and the request is dropped). A request
 * lacking From, To, Call-ID or CSeq is still answered, without them.
 */
struct sip_reply {
	unsigned status;
	const char *reason;
	const char *extra;
	const char *to_tag;
	const char *body;
	size_t body_len;
};
ssize_t sip_reply_build(struct sip_msg *req, const struct sip_source *src,
			const struct sip_reply *r, char *out, size_t cap);

/* The value of the Server header our responses carry ([sip]
 * server_header; borrowed for the process's life); NULL or "": none, so
 * that a scanner learns nothing about the software. Set once at start. */
void sip_reply_set_server(const char *value);

/* The To tag sip_reply_build() derives for req, written into buf (17
 * bytes at least). Returns buf. */
const char *sip_reply_derive_tag(struct sip_msg *req, char *buf, size_t cap);

/* Is the To tag of m (an ACK) the one sip_reply_derive_tag() gives for it,
 * i.e. does it acknowledge a final response this node made itself? */
bool sip_reply_is_our_tag(struct sip_msg *m);

/* Builds the response and sends it per §18.2.2. Returns the bytes sent or
 * a negative errno. out/cap is the caller's scratch buffer. */
int sip_reply_send(struct sip_msg *req, const struct sip_source *src, const struct sip_reply *r,
		   char *out, size_t cap);

#endif
