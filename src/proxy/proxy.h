/*
 * proxy: the transaction-stateful proxy core (RFC 3261 §16), see proxy.c.
 */
#ifndef JCT_PROXY_H
#define JCT_PROXY_H

#include "proxy/route.h"
#include "runtime/worker.h"

struct pctx;

/* Proxies request m (route set settled in rs): a server transaction, 100
 * Trying for an INVITE, then the target set: the location service's
 * bindings when locate, else the request's own target. Takes the job
 * (returns true), or answers 503 when the transaction table is full. */
bool proxy_start(struct worker *w, struct sip_job *job, struct sip_msg *m, struct route_state *rs,
		 bool locate);

/* The same, sent to the Session Controller sc (its call count is held
 * until the context ends) with the request's own target; sc NULL: as
 * proxy_start(). */
struct scpool_pick;
bool proxy_start_to(struct worker *w, struct sip_job *job, struct sip_msg *m,
		    struct route_state *rs, bool locate, const struct scpool_pick *sc);

/* A delegated REGISTER (delegate.h) to the Session Controller sc, with the
 * header lines extra (borrowed; copied) added: like proxy_start_to(), but a
 * 2xx goes up only once registrar_commit() has stored its bindings, and
 * another status in its place when it could not. */
bool proxy_register_to(struct worker *w, struct sip_job *job, struct sip_msg *m,
		       struct route_state *rs, const struct scpool_pick *sc, const char *extra);
/* A CANCEL (§16.10): answered 200 and the INVITE's branches cancelled when
 * its server transaction exists (returns true; the job stays the
 * caller's); false when there is none and it must be relayed statelessly. */
bool proxy_cancel(struct worker *w, struct sip_job *job, struct sip_msg *m);

/* Sends the final response once every branch has one (used internally
 * and by timers). */
void proxy_check_complete(struct pctx *p);

#endif
