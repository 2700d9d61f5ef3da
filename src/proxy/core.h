/*
 * core: the mode-independent handling of every request and response a
 * worker parses (see core.c).
 */
#ifndef JCT_CORE_H
#define JCT_CORE_H

#include "runtime/worker.h"

/* A parsed request. Returns true when the job was kept (a transaction or
 * a database round trip owns it now), false when it stays the caller's. */
bool core_request(struct worker *w, struct sip_job *job, struct sip_msg *m);
/* A parsed response (the job stays the caller's). */
void core_response(struct worker *w, struct sip_msg *m);

/* The above as the workers' app (worker.h), with each worker's
 * transaction layer in stateful mode. */
extern const struct worker_app core_app;

#endif
