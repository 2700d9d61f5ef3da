/*
 * dlgcache: what this node knows of each dialog's session (affinity.h),
 * by Call-ID, so that a request whose session the node knows costs no
 * database round trip.
 *
 * Every message of a call reaches the worker its Call-ID hashes to
 * (dispatch.h), so each worker keeps its own table, touched by that worker
 * only: no lock. An entry is a keyed hash of the Call-ID (64 bits: a
 * collision would need 2^32 dialogs in one table) and what the database
 * said of it. The tables are bounded ([sessions] cache_size, shared among
 * the workers): when one is full a new dialog is simply not cached, and
 * its next request asks the database again.
 */
#ifndef JCT_DLGCACHE_H
#define JCT_DLGCACHE_H

#include "sip/sip_str.h"

#include <stdbool.h>
#include <stdint.h>

enum dlgcache_state {
	DLGCACHE_PENDING = 1, /* the database is being asked; requests wait or are dropped */
	DLGCACHE_KNOWN,       /* in session .session, served by .sc_id */
	DLGCACHE_NONE,        /* the database knows no such dialog */
	DLGCACHE_ENDED,       /* a BYE passed (kept for its retransmissions) */
};

struct dlgcache_entry {
	uint64_t key;        /* 0: empty slot */
	uint64_t expires_ms; /* forgotten at */
	uint64_t refresh_ms; /* KNOWN: tell the database it lives on after this (0: never) */
	int64_t session;
	void *wait;     /* PENDING: what the requests waiting for the answer wait on (affinity.c) */
	uint32_t sc_id; /* the session's Session Controller (scpool.h id) */
	uint8_t state;  /* enum dlgcache_state */
	bool early;     /* begun by this worker, no final answer yet */
};

/* Tables for nworkers workers, at most cap entries in all. Returns 0 or
 * -ENOMEM. */
int dlgcache_init(unsigned nworkers, unsigned cap);
void dlgcache_fini(void);

/* The worker's entry for call_id, or NULL. Valid until the worker's next
 * dlgcache_put() or dlgcache_sweep(). */
struct dlgcache_entry *dlgcache_find(unsigned worker, struct sip_str call_id);
/* The worker's entry for call_id, made (zeroed but for its key) if there
 * was none; NULL when the table is full (unless force: a dialog this
 * worker recorded, whose request waits for the entry) or out of memory.
 * Valid as above. */
struct dlgcache_entry *dlgcache_put(unsigned worker, struct sip_str call_id, bool force);
/* Removes the worker's entries that expired by now_ms; cheap to call
 * often (it scans at most once every DLGCACHE_SWEEP_MS). */
#define DLGCACHE_SWEEP_MS 10000
void dlgcache_sweep(unsigned worker, uint64_t now_ms);
/* Entries the worker holds. */
unsigned dlgcache_count(unsigned worker);

#endif
