/*
 * callfwd: call forward unconditional (the call_forward table,
 * sql/007_routes.sql) as every node holds it: user@domain -> the URI every
 * request for that AOR is sent to instead.
 *
 * Loaded and swapped like the static routes (statroute.h): the database
 * thread reads the enabled rows whole at start, at each reconnect and
 * within a second of each change (NOTIFY junction_forward) and hands them
 * to callfwd_replace(), which builds a new immutable hash table and swaps
 * it in under a write lock held for one pointer store; a lookup holds the
 * read lock for its own few probes.
 */
#ifndef JCT_CALLFWD_H
#define JCT_CALLFWD_H

#include "sip/sip_str.h"
#include "store/store_bg.h"

#include <stdbool.h>
#include <stddef.h>

/* The longest forward-to URI (the table's CHECK allows 255 characters). */
#define CALLFWD_URI_MAX 256

/*
 * The forward-to URI of user@domain (domain compared case-insensitively,
 * user exactly, escapes as written). Returns true and copies it,
 * NUL-terminated, into uri (cap bytes; CALLFWD_URI_MAX always suffice);
 * false when the AOR has no enabled forward, or its URI does not fit.
 * Any thread.
 */
bool callfwd_find(struct sip_str user, struct sip_str domain, char *uri, size_t cap);

/* Forwards in the current table, for the metrics. Any thread. */
unsigned callfwd_count(void);

/* Replaces the table with rows[0..n) (borrowed for the call): the
 * store_bg hook. A row whose target our URI parser refuses is left out
 * and logged; when the table cannot be built the old one stays. */
void callfwd_replace(const struct store_forward *rows, unsigned n);

/* Drops the table (at exit). */
void callfwd_free(void);

#endif
