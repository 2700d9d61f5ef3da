/*
 * redirect: the redirect server mode (RFC 3261 §8.3.1 of a redirect
 * server, §21.3.3): a request for one of our users is answered 302 with
 * every binding as a Contact, with its q.
 */
#ifndef JCT_REDIRECT_H
#define JCT_REDIRECT_H

#include "proxy/route.h"
#include "runtime/worker.h"

/* Looks rs->target up and answers 302 (480 or 404 when nobody is there).
 * Returns true when it kept the job until the database answers. */
bool redirect_request(struct worker *w, struct sip_job *job, struct sip_msg *m,
		      struct route_state *rs);

#endif
