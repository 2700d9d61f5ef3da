/*
 * translate: where an out-of-dialog request goes when no Route leads it
 * (RFC 3261 §16.5), in the fixed order of the design (the Cisco SIP Proxy
 * Server's): call forward unconditional, the registry (location
 * service), ENUM, static routes, then the Request-URI as it is. Each step
 * is on when [routing] translate lists it. A step that replaces the
 * Request-URI (a forward, an ENUM answer) starts the order again with the
 * new one, at most [routing] max_translations times; a URI seen before in
 * the chain is a loop (482).
 *
 * What leaves our domains through a translation (a forward elsewhere,
 * ENUM, a static route of a number or domain of ours) is a relay: it is
 * taken for trusted sources, requests whose From user authenticated
 * ([auth] invite), or with [security] open_relay, else the step is
 * skipped, so a caller from outside cannot reach a gateway through one
 * of our numbers.
 */
#ifndef JCT_TRANSLATE_H
#define JCT_TRANSLATE_H

#include "proxy/target.h"
#include "runtime/worker.h"
#include "sip/sip_uri.h"

/* The end of a translation, on the worker's thread: status 0 with the
 * targets moved into ts (the caller owns them now), or a final status
 * (404, 480, 482, 500, 503) to answer with reason (NULL: the standard one)
 * and extra header lines (NULL: none). */
typedef void (*translate_done)(void *arg, unsigned status, struct target_set *ts,
			       const char *reason, const char *extra);

/* Translates target (the request's Request-URI after §16.4; copied).
 * may_leave: a result outside our domains may be used (see above);
 * trusted: the source may learn who exists (location_miss_status()).
 * done runs exactly once, maybe before this returns. Returns 0, or
 * -ENOMEM without calling done. */
int translate_start(struct worker *w, const struct sip_uri *target, bool may_leave, bool trusted,
		    translate_done done, void *arg);

#endif
