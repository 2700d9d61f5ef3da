/*
 * affinity: every dialog of related calls reaches one Session Controller,
 * whichever node it enters through. The sessions and dialogs live in the
 * session and dialog tables (sql/004_sessions.sql), shared by the nodes;
 * each worker caches what it learnt of them by Call-ID (dlgcache.h).
 *
 * A new dialog (INVITE, SUBSCRIBE or REFER outside one), from an
 * endpoint or from a Session Controller, is recorded before the request
 * leaves: junction_dialog_begin() finds the session the [sessions] relate
 * rules tie it to (Replaces, Join, Target-Dialog, Referred-By, a device
 * with a dialog up, the controller's session for the callee) or creates
 * one on the server the pool picks, and the request goes on only once
 * that is committed. A node that dies after sending a request has lost
 * nothing another node needs; one that dies before sent nothing. The
 * request waits for the round trip (batched with the worker's other
 * writes, many dialogs to a statement), its job kept, and runs again
 * once the worker's cache has the answer.
 *
 * An in-dialog request from an endpoint goes to the member of its
 * session's HA pair that is in service now, the Request-URI unchanged:
 * from the cache when the node saw the dialog, else after one read
 * (STORE_DIALOG_LOOKUP). An unknown dialog follows its route set, as
 * without affinity. A BYE ends its dialog (and a session with its last
 * dialog), a final failure ends a dialog that was being set up, a 2xx
 * confirms it, and an in-dialog request now and then extends its life
 * ([sessions] dialog_timeout); those writes leave in the next batch and
 * nothing waits for them. The database down: new dialogs get 503 with
 * Retry-After (never sent unrecorded), in-dialog requests are routed from
 * the cache or by their route set.
 *
 * Every function here runs on the worker that owns the request's Call-ID.
 */
#ifndef JCT_AFFINITY_H
#define JCT_AFFINITY_H

#include "proxy/scpool.h"
#include "runtime/worker.h"

#include <stdbool.h>
#include <stdint.h>

struct config;

enum affinity_verdict {
	AFFINITY_TO,        /* send it to *to (counted there until scpool_release()) */
	AFFINITY_FREE,      /* route it as without affinity */
	AFFINITY_KEPT,      /* the job is kept; it runs again with the answer */
	AFFINITY_DONE,      /* answered (503) or dropped (a retransmission) */
	AFFINITY_NO_SERVER, /* no Session Controller in service anywhere */
};

/* Is session affinity on ([routing] session_controllers and [sessions]
 * affinity)? */
bool affinity_on(const struct config *cfg);

/* A new dialog. From an endpoint (from_sc 0): AFFINITY_TO with *to set,
 * or KEPT, DONE, NO_SERVER. From Session Controller from_sc (to unused,
 * may be NULL): FREE once recorded, or KEPT, DONE. */
enum affinity_verdict affinity_new_dialog(struct worker *w, struct sip_job *job, struct sip_msg *m,
					  uint32_t from_sc, struct scpool_pick *to);

/* An in-dialog request to be routed by its session (to set): TO (*to
 * set) when the session is known, FREE when not, or KEPT, DONE. With to
 * NULL (from a Session Controller, or a Route leads elsewhere) only its
 * dialog's bookkeeping: FREE. */
enum affinity_verdict affinity_in_dialog(struct worker *w, struct sip_job *job, struct sip_msg *m,
					 struct scpool_pick *to);

/* The first 2xx to a request of this worker passed (any request: only a
 * dialog this worker recorded and still sets up is confirmed). */
void affinity_answered(struct worker *w, struct sip_msg *resp);
/* A request that starts a dialog got a final failure, m (the request or
 * that response): the dialog it was setting up ends. */
void affinity_failed(struct worker *w, struct sip_msg *m);

#endif
