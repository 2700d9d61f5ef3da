/*
 * stateless: the stateless proxy core (RFC 3261 §16.11), see stateless.c.
 */
#ifndef JCT_STATELESS_H
#define JCT_STATELESS_H

#include "worker.h"

/* Handle a parsed request: returns true when the job was kept (waiting for
 * the database; freed when done), false when it stays the caller's. */
bool stateless_request(struct worker *w, struct sip_job *job, struct sip_msg *m);
/* A response: the job stays the caller's. */
void stateless_response(struct worker *w, struct sip_job *job, struct sip_msg *m);

#endif
