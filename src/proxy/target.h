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
		     * Controller, as Kamailio's $du); NULL: by the route set */
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
void target_set_free(struct target_set *ts);

/* The end of the q group starting at index i (targets of equal q are
 * tried in parallel, groups one after the other). */
unsigned target_group_end(const struct target_set *ts, unsigned i);

#endif
