/*
 * scsession: the sessions this node set up with each Session Controller,
 * so that the pool can weigh servers by the sessions they hold
 * (scpool_hold()), not only by the calls being set up.
 *
 * A session is the dialog of an INVITE this node sent to a Session
 * Controller and saw answered 2xx; it ends with a BYE through this node,
 * or after SCSESSION_MAX_AGE_MS without one (its BYE took another path, a
 * node died). Every message of a call reaches the worker its Call-ID
 * hashes to (dispatch.h), so each worker keeps its own table, keyed by a
 * keyed hash of the Call-ID, touched by that worker only: no lock.
 */
#ifndef JCT_SCSESSION_H
#define JCT_SCSESSION_H

#include "sip/sip_str.h"

#include <stdint.h>

#define SCSESSION_MAX_AGE_MS (12ULL * 3600 * 1000)

/* Tables for nworkers workers. Returns 0 or -ENOMEM. */
int scsession_init(unsigned nworkers);
/* Frees them; the sessions still held are released. */
void scsession_fini(void);

/* The dialog of call_id, set up through worker with server sc_id. */
void scsession_start(unsigned worker, struct sip_str call_id, uint32_t sc_id, uint64_t now_ms);
/* A BYE of call_id passed: its session, if any, ends. */
void scsession_end(unsigned worker, struct sip_str call_id);
/* Ends the worker's sessions older than SCSESSION_MAX_AGE_MS; cheap to
 * call often (it scans at most once a minute). */
void scsession_sweep(unsigned worker, uint64_t now_ms);
/* Sessions the worker holds (for tests). */
unsigned scsession_count(unsigned worker);

#endif
