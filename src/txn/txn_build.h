/*
 * txn_build: the requests a client transaction makes up from the request
 * it sent (RFC 3261 §9.1 CANCEL, §17.1.1.3 ACK of a non-2xx final
 * response), and the re-parse of a stored message they start from.
 *
 * A request Junction sent may be bigger than anything it accepts: it is
 * a received request (up to [sip] max_headers lines of up to
 * max_line_length bytes) plus our Via, Record-Route and a Path's Route.
 * So nothing here has a fixed size. The re-parse sizes its header array
 * from the message's own line count and lifts every parser limit to the
 * message's length (it passed the configured limits once, on the way
 * in); the builder measures what it will write, then allocates exactly
 * that. For a request that was sent, the only failure left is memory.
 */
#ifndef JCT_TXN_BUILD_H
#define JCT_TXN_BUILD_H

#include "sip/sip_msg.h"

#include <stddef.h>

/* A stored message parsed again. m->limits points into the struct, so
 * it is used where it was filled and never copied. */
struct txn_reparsed {
	struct sip_msg m;
	struct sip_limits lim;
	struct sip_hdr *hdrs; /* owned: m's header array */
};

/* Parses buf[0..len) (borrowed: must outlive r), a message Junction
 * accepted or built. Returns 0, -ENOMEM, or the parser's error. Release
 * r with txn_reparsed_free() whatever the result. */
int txn_reparse(struct txn_reparsed *r, const char *buf, size_t len);
void txn_reparsed_free(struct txn_reparsed *r);

/*
 * The request that goes hop by hop along req[0..req_len), a request as
 * sent: method (CANCEL or ACK) with req's Request-URI, its top Via value
 * alone (same branch), every Route line, From, Call-ID and CSeq number
 * (§9.1, §17.1.1.3), and To: *to when given (the response's, with the
 * tag the UAS chose), else req's. Max-Forwards 70, no body.
 * Returns 0 with *out a new block of *out_len bytes, not NUL-terminated,
 * that the caller frees; or -EBADMSG (req lacks one of those headers),
 * -ENOMEM.
 */
int txn_build_hop(const char *req, size_t req_len, enum sip_method method, const struct sip_str *to,
		  char **out, size_t *out_len);

#endif
