/*
 * store_cdr: the call records' side of the database, one blocking libpq
 * connection that writes batches of rows into the cdr table
 * (sql/008_cdr.sql) with one COPY each.
 *
 * It belongs to one thread, proxy/cdr.c's writer, which no SIP message
 * ever waits on, so blocking calls are what keeps it simple. A batch is
 * one COPY in autocommit: all its rows are written or none. Text that
 * PostgreSQL would refuse is made acceptable on the way (bytes that are
 * not UTF-8 become U+FFFD, NUL bytes '?'), so that one odd header cannot
 * make a whole batch fail again and again.
 *
 * Errors (negative errno): -ENOTCONN no connection could be made;
 * -ECONNRESET the connection broke during the batch (its rows may or may
 * not have been committed: the caller writes them again, at least once);
 * -EINVAL the database refused the batch (a row against a CHECK;
 * store_cdr_error() says why);
 * -ETIMEDOUT the statement ran out of time (statement_timeout) or
 * store_cdr_cancel() stopped it; -ENOMEM.
 */
#ifndef JCT_STORE_CDR_H
#define JCT_STORE_CDR_H

#include "sip/sip_str.h"

#include <stdint.h>

struct store_cdr;

/* A row of cdr. Empty strings are written as NULL (call_id as ''). */
struct store_cdr_row {
	const char *event; /* "start", "answer" or "end" */
	uint64_t at_ms;    /* wall clock, ms since the epoch */
	struct sip_str call_id, from_uri, from_tag, to_uri, to_tag, ruri, target, sip_server;
	struct sip_str reason;
	unsigned status; /* 0: NULL */
};

/* A connection for conninfo, writing node into every row (both copied).
 * It connects on the first write. NULL when out of memory. */
struct store_cdr *store_cdr_new(const char *conninfo, const char *node);
void store_cdr_free(struct store_cdr *sc);

/* Writes rows[0..n) in one COPY, connecting first when there is no
 * connection (one attempt, at most 2 s). Returns 0 or a negative errno
 * as above. */
int store_cdr_write(struct store_cdr *sc, const struct store_cdr_row *rows, unsigned n);

/* Why the last write was refused with -EINVAL, in one line (the
 * database's message). Borrowed until the next write. */
const char *store_cdr_error(const struct store_cdr *sc);

/* From any thread: asks the server to stop the statement the owner is
 * waiting on (it then gets -ETIMEDOUT). For a shutdown that must not
 * wait on a slow database. */
void store_cdr_cancel(struct store_cdr *sc);

#endif
