/*
 * validate: request validation by a proxy (RFC 3261 §16.3), one function
 * per step so that the caller can put its own decisions between them
 * (an OPTIONS addressed to the proxy is answered even with
 * Max-Forwards: 0). Each returns 0 when the request passes, or fills
 * *v with the response to send (status, reason naming what is wrong, and
 * any header the response must carry) and returns the status.
 */
#ifndef JCT_VALIDATE_H
#define JCT_VALIDATE_H

#include "sip/sip_msg.h"

#include <stdbool.h>

struct validate_result {
	unsigned status;
	const char *reason;
	char extra[512]; /* header lines for the response, e.g. "Unsupported: foo\r\n" */
};

/* Step 1 (syntax: the headers every request carries, §8.1.1, 400 naming
 * what is missing or bad) and step 2 (Request-URI scheme: sip, sips and
 * tel; others 416; a sip/sips Request-URI with headers is a 400, §19.1.1).
 * stream says the request came over TCP/TLS (Content-Length required,
 * §18.3). */
unsigned validate_syntax(struct sip_msg *m, bool stream, struct validate_result *v);

/* Step 3: Max-Forwards 0 -> 483; a malformed value -> 400. */
unsigned validate_max_forwards(struct sip_msg *m, struct validate_result *v);

/* Step 5: Proxy-Require option tags this proxy does not support -> 420
 * with an Unsupported header listing them (§20.29, §20.40). */
unsigned validate_proxy_require(struct sip_msg *m, struct validate_result *v);

#endif
