/*
 * statroute: the static routes (the route table, sql/007_routes.sql) as
 * every node holds them: the next hops of a domain, of an E.164 number
 * prefix, and the outbound proxy of a domain.
 *
 * The database thread (store_bg.c) reads the enabled rows whole at start,
 * at each reconnect and within a second of each change (NOTIFY
 * junction_route) and hands them to statroute_replace(), which builds a
 * new immutable table off to the side and swaps it in; the workers look
 * up in whatever table is current. A lookup holds a read lock for the
 * lookup's own few hash probes; the swap holds the write lock for one
 * pointer store, so a reload never stalls a worker for longer than that.
 */
#ifndef JCT_STATROUTE_H
#define JCT_STATROUTE_H

#include "sip/sip_str.h"
#include "store/store_bg.h"

#include <stdbool.h>

#define STATROUTE_MAX_HOPS 8
#define STATROUTE_URI_MAX  256
/* Hops kept per match (kind and match) at most; the rest, those of the
 * highest priorities, are dropped at load with a warning. */
#define STATROUTE_GROUP_MAX 64

/* Where to send a request, in the order to try (NUL-terminated URIs). */
struct statroute_hops {
	unsigned n;
	char uri[STATROUTE_MAX_HOPS][STATROUTE_URI_MAX];
};

/*
 * The next hops for a request whose target has the E.164 number number
 * (digits without '+', as e164_normalise() gives it; NULL when the target
 * is not a number) in domain: the longest matching prefix route first,
 * else the domain's route (domain compared case-insensitively). Hops come
 * in the order to try: by priority, lowest first, and within one priority
 * in RFC 2782's weighted random order (weight 0 after the weighted ones);
 * at most STATROUTE_MAX_HOPS. Returns true when a route matched (out->n
 * is then at least 1). Any thread.
 */
bool statroute_find(const char *number, struct sip_str domain, struct statroute_hops *out);

/* The outbound proxy of domain (kind 'outbound'), in the same order.
 * Returns true when the domain has one. Any thread. */
bool statroute_outbound(struct sip_str domain, struct statroute_hops *out);

/* Rows of the current table (the enabled routes that loaded), for the
 * metrics. Any thread. */
unsigned statroute_count(void);

/*
 * Replaces the table with rows[0..n) (borrowed for the call): the
 * store_bg hook. A row whose next hop our URI parser refuses, or whose
 * match does not suit its kind, is left out and logged; when the new
 * table cannot be built (out of memory) the old one stays.
 */
void statroute_replace(const struct store_route *rows, unsigned n);

/* Drops the table (at exit). */
void statroute_free(void);

#endif
