/*
 * cdr: call records ([cdr] enabled), written to the cdr table
 * (sql/008_cdr.sql) in batches, off the call's path.
 *
 * The proxy hands over one record per event of an INVITE call (start,
 * answer, end) with cdr_record(), which copies it into a bounded queue of
 * [cdr] queue_size records and returns: a worker takes a mutex only for
 * that copy, never waits on the writer, and when the queue is full the
 * record is dropped and counted (junction_cdr_dropped_total). One writer
 * thread, with its own database connection, sends what waits every
 * [cdr] flush_interval ms, or as soon as CDR_BATCH records wait, as one
 * COPY per CDR_BATCH rows.
 *
 * While the database is down the writer keeps the records (up to
 * queue_size; beyond, new ones are dropped), reconnects with backoff
 * (100 ms doubling up to 5 s) and writes them once it is back: a record
 * is taken off the queue only after its batch committed. A batch whose
 * commit was not confirmed (the connection broke then) is written again:
 * records are written at least once, and the cdr_call view takes the
 * first of duplicates. A batch the database refuses (not an outage) is
 * written row by row, and the rows it still refuses are dropped, counted
 * and logged, so that one bad record cannot hold up the rest.
 *
 * What a crash loses: everything queued, that is the records of the last
 * flush interval (at most flush_interval ms of events, CDR_BATCH records
 * once the writer is behind) plus, during an outage, the backlog (at most
 * queue_size records). cdr_stop() (SIGTERM) flushes what it can within
 * CDR_STOP_MS and counts the rest as dropped.
 */
#ifndef JCT_CDR_H
#define JCT_CDR_H

#include "config/config.h"
#include "sip/sip_str.h"

#include <stdbool.h>
#include <stdint.h>

/* Rows per COPY, and the count of waiting records that wakes the writer
 * before its interval. */
#define CDR_BATCH 1000
/* Bytes kept of each string of a record (reason: CDR_REASON_MAX); longer
 * ones are cut, on a UTF-8 character boundary. */
#define CDR_FIELD_MAX  1024
#define CDR_REASON_MAX 32
/* How long cdr_stop() tries to write what is queued. */
#define CDR_STOP_MS 2000

enum cdr_event { CDR_START, CDR_ANSWER, CDR_END };

/* What the proxy hands over; the strings are borrowed for the call. */
struct cdr_record {
	enum cdr_event event;
	uint64_t at_ms; /* wall clock, ms since the epoch */
	struct sip_str call_id, from_uri, from_tag, to_uri, to_tag, ruri, target, sip_server;
	unsigned status;    /* answer: the 2xx; end: the final failure status; 0: none */
	const char *reason; /* CDR_END: "bye", "cancel", "failure", "timeout"; else NULL */
};

/* Starts the writer thread, with its own connection to [database]
 * conninfo, when [cdr] enabled (else does nothing and returns 0).
 * Returns 0 or a negative errno. */
int cdr_start(const struct config *cfg);
/* Flushes what it can within CDR_STOP_MS, stops the writer and frees the
 * queue. After it, cdr_record() drops nothing and records nothing. */
void cdr_stop(void);
/* Are records written ([cdr] enabled and started)? */
bool cdr_on(void);

/* Copies r into the queue; never blocks on the writer. Any thread. */
void cdr_record(const struct cdr_record *r);

struct cdr_stats {
	uint64_t written; /* rows committed */
	uint64_t dropped; /* records lost: queue full, refused by the database, left at stop */
	unsigned queued;  /* records waiting (or being written) */
};
void cdr_get_stats(struct cdr_stats *st);

#endif
