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

/* The Path through which a binding made over src is reached, when src
 * is a connection only this node holds (WebSocket): see core.c. For
 * registrar_set_flow_path(). */
size_t core_flow_path(const struct sip_source *src, char *buf, size_t cap);

/* The above as the workers' app (worker.h), with each worker's
 * transaction layer in stateful mode. */
extern const struct worker_app core_app;

#endif
