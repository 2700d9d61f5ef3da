/*
 * scprobe: the OPTIONS probes to the Session Controllers (scpool.h says
 * when and what an answer means). One worker sends them all from its own
 * event loop, each an RFC 3261 §17.1.2 client transaction of its own
 * transaction layer (retransmitted over UDP), with a Call-ID chosen so its
 * answers come back to that worker. No thread per server, no blocking.
 */
#ifndef JCT_SCPROBE_H
#define JCT_SCPROBE_H

#include "runtime/worker.h"

/* Starts probing from w (which must have a transaction layer). Returns 0
 * or -ENOMEM. */
int scprobe_start(struct worker *w);
/* Stops: outstanding probes are abandoned. Before w's transaction layer
 * goes. */
void scprobe_stop(struct worker *w);

#endif
