/*
 * location: the location service (RFC 3261 §10, §16.5): where a request
 * for an AOR of our domains goes, from the bindings in PostgreSQL.
 */
#ifndef JCT_LOCATION_H
#define JCT_LOCATION_H

#include "worker.h"

#define LOCATION_MAX 16

struct location_target {
	struct sip_str contact;  /* the registered Contact URI */
	struct sip_str path;     /* Path values (RFC 3327), or empty */
	struct sip_str received; /* "udp:192.0.2.1:5060" the REGISTER came from */
	int32_t q;               /* thousandths */
};

/* Slices point into the database result: valid during the callback only. */
struct location_result {
	bool known; /* the user exists (480 rather than 404 when n == 0) */
	unsigned n; /* targets, best q first */
	struct location_target t[LOCATION_MAX];
};

/* err: 0, or -ECONNRESET/-EIO when the database could not answer. */
typedef void (*location_fn)(struct worker *w, void *arg, int err, const struct location_result *r);

/* Looks up user@domain (domain lowercased here); fn(w, arg, ...) runs when
 * the database answers. Returns 0, or a negative errno when the lookup
 * could not be sent (no database, down, full): the caller answers. */
int location_lookup(struct worker *w, struct sip_str user, struct sip_str domain, location_fn fn,
		    void *arg);

#endif
