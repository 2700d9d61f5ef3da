/*
 * registrar: REGISTER for the served domains (RFC 3261 §10.3), bindings
 * stored in PostgreSQL. See registrar.c.
 */
#ifndef JCT_REGISTRAR_H
#define JCT_REGISTRAR_H

#include "worker.h"

/* Handles a REGISTER whose Request-URI is one of our domains. Returns true
 * when it kept the job (answered once the database has), false when it
 * answered already and the job stays the caller's. */
bool registrar_request(struct worker *w, struct sip_job *job, struct sip_msg *m);

#endif
