/*
 * regevent: registration events to the back end ([notify], see
 * regevent.c): a 3rd-party REGISTER or an RFC 3680 reginfo NOTIFY for
 * each binding created, changed, removed or expired, sent exactly once by
 * the cluster from the outbox in PostgreSQL (sql/006_reg_events.sql).
 */
#ifndef JCT_REGEVENT_H
#define JCT_REGEVENT_H

#include "runtime/worker.h"
#include "sip/sip_uri.h"

struct config;

/* Does worker number worker send events ([notify] mode: worker 0, for the
 * target; [notify] subscribe: every worker, for the subscriptions whose
 * Call-IDs it owns)? */
bool regevent_wanted(const struct config *cfg, unsigned worker);
/* Starts sending on worker w (its timer, its transactions, its database
 * connection). Returns 0 or -errno. */
int regevent_start(struct worker *w);
/* Stops, abandoning what is in flight (the outbox's lease hands it to
 * another node, or to this one after a restart). */
void regevent_stop(struct worker *w);

/* Is m a SUBSCRIBE to the registration events of an AOR of ours ([notify]
 * subscribe, Event: reg; target: its Request-URI after Route processing),
 * new or within a subscription we granted? */
bool regevent_is_subscribe(const struct config *cfg, struct sip_msg *m,
			   const struct sip_uri *target);
/* Handles it (RFC 3680 §3, RFC 6665 §4.2.1): from a trusted source only
 * (else 403), stored, then answered 200 with the Expires granted; its
 * NOTIFY follows from the outbox. Takes the job (returns true), or answers
 * and returns false. */
bool regevent_subscribe(struct worker *w, struct sip_job *job, struct sip_msg *m);

#endif
