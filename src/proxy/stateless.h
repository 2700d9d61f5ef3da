/*
 * stateless: relaying without transaction state (RFC 3261 §16.11), see
 * stateless.c.
 */
#ifndef JCT_STATELESS_H
#define JCT_STATELESS_H

#include "proxy/route.h"
#include "runtime/worker.h"

/* Relays request m along rs (settled by route_preprocess and friends):
 * next hop (RFC 3263), edits, send; answers it when that fails. Returns
 * true when it kept the job while DNS answers (it then runs again from
 * the start, worker_resume()); else the job stays the caller's. */
bool stateless_forward(struct worker *w, struct sip_job *job, struct sip_msg *m,
		       struct route_state *rs);
/* Looks up rs->target's user and relays to the best binding. Returns true
 * when it kept the job (until the database answers). */
bool stateless_locate(struct worker *w, struct sip_job *job, struct sip_msg *m,
		      struct route_state *rs);
/* Relays a response by its Via (§16.11, §18.2.2), or drops it. */
void stateless_response(struct worker *w, struct sip_msg *m);

#endif
