/*
 * target: a target set (RFC 3261 §16.5): where a request may go, with the
 * q-values that order sequential forking, copied out of the database
 * answer so it can outlive it (a proxy tries later q groups long after).
 */
#ifndef JCT_TARGET_H
#define JCT_TARGET_H

#include "registrar/location.h"

struct target {
	char *uri;  /* the new Request-URI; NULL: the request's own target */
	char *path; /* Route values to pre-load (Path, RFC 3327), or NULL */
	char *hop;  /* where to send it, the headers unchanged (a Session
		     * Controller, as Kamailio's $du); NULL: by the route set.
		     * Several URIs separated by spaces (a static route's next
		     * hops): tried in turn, each failing over (RFC 3263 §4.3) */
	int32_t q;  /* thousandths */
};

struct target_set {
	unsigned n;
	struct target t[LOCATION_MAX];
	char *mem; /* one block holding every string */
};

/* The set of one target: the request's own Request-URI / route set. */
void target_set_self(struct target_set *ts);
/* The request's own target, sent to hop (copied). Returns 0 or -ENOMEM. */
int target_set_hop(struct target_set *ts, const char *hop);
/* Copies the SIP/SIPS contacts of r, best q first. Returns 0 or -ENOMEM. */
int target_set_from_location(struct target_set *ts, const struct location_result *r);
/* One target: Request-URI uri (NULL: the request's own) sent to hops
 * (space-separated URIs, NULL: by the route set); both copied. Returns 0
 * or -ENOMEM. */
int target_set_route(struct target_set *ts, const char *uri, const char *hops);
void target_set_free(struct target_set *ts);

/* The longest hop URI target_hop() copies. */
#define TARGET_HOP_MAX 512
/* Copies the i-th of t's next hops into buf (when buf is not NULL).
 * Returns 0, or -ENOENT when t has fewer, -ENOSPC when it is too long. */
int target_hop(const struct target *t, unsigned i, char *buf, size_t cap);

/* The end of the q group starting at index i (targets of equal q are
 * tried in parallel, groups one after the other). */
unsigned target_group_end(const struct target_set *ts, unsigned i);

#endif
