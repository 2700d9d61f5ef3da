/*
 * location: the location service (RFC 3261 §10, §16.5): where a request
 * for an AOR of our domains goes, from the bindings in PostgreSQL, with a
 * node-wide cache in front (a ttlcache keyed "user@domain") so a call to
 * a user seen recently costs no database round trip. The cache forgets an
 * AOR when PostgreSQL says its bindings changed (NOTIFY junction_binding,
 * store_bg.c), when this node's registrar or admin API changes them, when
 * one of its bindings expires, and after [registrar] location_cache_ttl.
 * It holds only AORs that have a binding; a call to one that has none
 * asks PostgreSQL each time.
 */
#ifndef JCT_LOCATION_H
#define JCT_LOCATION_H

#include "runtime/worker.h"

#define LOCATION_MAX 16
/* Room for a cached answer (targets and their strings). */
#define LOCATION_BUF 8192

struct location_target {
	struct sip_str contact;  /* the registered Contact URI */
	struct sip_str path;     /* Path values (RFC 3327), or empty */
	struct sip_str received; /* "udp:192.0.2.1:5060" the REGISTER came from */
	int32_t q;               /* thousandths */
};

/* Slices point into the database result or the caller's buffer: valid
 * during the callback, or as long as that buffer. */
struct location_result {
	bool known; /* the user exists (480 rather than 404 when n == 0) */
	unsigned n; /* targets, best q first */
	struct location_target t[LOCATION_MAX];
};

/* The final status of a request whose lookup found no target (RFC 3261
 * §10): 480 when the user exists, 404 when not; to a source that is not
 * trusted 404 either way, so that the answers do not tell who exists. */
unsigned location_miss_status(const struct location_result *r, bool trusted);

/* Sizes the cache (ttl_ms 0: no cache). */
int location_init(unsigned max_entries, uint64_t ttl_ms);
void location_destroy(void);

/* Forgets user@domain (domain in any case). */
void location_forget(struct sip_str user, struct sip_str domain);
/* Forgets an AOR: "sip:user@domain" (as NOTIFY sends it) or "user@domain". */
void location_invalidate(struct sip_str aor);
void location_clear(void);

/* err: 0, or -ECONNRESET/-EIO when the database could not answer. */
typedef void (*location_fn)(struct worker *w, void *arg, int err, const struct location_result *r);

/* Looks up user@domain (domain lowercased here): fn(w, arg, ...) runs with
 * the answer, before this returns when the cache has it, else when the
 * database answers (and the answer is cached). Returns 0, or a negative
 * errno when the lookup could not be sent (no database, down, full): then
 * fn does not run and the caller answers. */
int location_lookup(struct worker *w, struct sip_str user, struct sip_str domain, location_fn fn,
		    void *arg);

#endif
