/*
 * translate: the Request-URI's translation (see translate.h), as a small
 * state machine over the current URI: each step either decides (targets
 * or a status), replaces the URI and starts over, waits (the location
 * service's database round trip, ENUM's DNS lookup) and resumes from its
 * callback, or passes to the next step. Each step runs at most once per
 * URI: a replacement clears the flags.
 */
#include "proxy/translate.h"
#include "runtime/counters.h"

#include "base/log.h"
#include "base/siphash.h"
#include "config/config.h"
#include "net/dns.h"
#include "proxy/callfwd.h"
#include "proxy/e164.h"
#include "proxy/enum.h"
#include "proxy/statroute.h"
#include "registrar/location.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TRANSLATE_URI_MAX 512

struct translation {
	struct worker *w;
	translate_done done;
	void *arg;
	bool may_leave, trusted;
	char uri[TRANSLATE_URI_MAX]; /* the current target */
	struct sip_uri u;            /* parsed, pointing into uri */
	bool changed;                /* uri is not the request's own */
	bool located, enum_done;     /* steps taken for this uri */
	unsigned miss_status;        /* what the location service said (404/480) */
	unsigned chain;
	uint64_t seen[16]; /* the URIs of the chain (SipHash): a loop is one seen again */
};

static void run(struct translation *x);

static void finish(struct translation *x, unsigned status, struct target_set *ts,
		   const char *reason)
{
	struct target_set none = {0};

	x->done(x->arg, status, status ? &none : ts, reason, NULL);
	free(x);
}

/* Decides the targets: Request-URI x->uri (when changed) to hops
 * (space-separated, NULL: by DNS). */
static void to_hops(struct translation *x, const struct statroute_hops *h)
{
	char hops[STATROUTE_MAX_HOPS * (STATROUTE_URI_MAX + 1)];
	struct target_set ts;
	size_t off = 0;

	for (unsigned i = 0; h && i < h->n; i++)
		off += (size_t)snprintf(hops + off, sizeof(hops) - off, "%s%s", i ? " " : "",
					h->uri[i]);
	if (target_set_route(&ts, x->changed ? x->uri : NULL, h && h->n ? hops : NULL) < 0) {
		finish(x, 500, NULL, NULL);
		return;
	}
	finish(x, 0, &ts, NULL);
}

static bool ours(const struct translation *x)
{
	return (x->u.scheme == SIP_URI_SIP || x->u.scheme == SIP_URI_SIPS) && x->u.has_user &&
	       config_is_domain(worker_config(x->w), x->u.host);
}

/* The URI becomes uri (a forward's or ENUM's): 482 for a loop or a chain
 * too long. Returns false when x was finished. */
static bool replace(struct translation *x, const char *uri)
{
	uint64_t h = siphash(siphash_process_key(), x->uri, strlen(x->uri));
	const struct config *cfg = worker_config(x->w);
	struct sip_uri u;

	bool loop = false;

	x->seen[x->chain % 16] = h;
	h = siphash(siphash_process_key(), uri, strlen(uri));
	for (unsigned i = 0; i <= x->chain && i < 16; i++)
		loop |= x->seen[i] == h;
	if (loop || ++x->chain > cfg->routing.max_translations) {
		ctr_inc(worker_counters(x->w), CTR_TRANSLATION_LOOPS);
		log_info("event=translation_loop uri=\"%s\" chain=%u", uri, x->chain);
		finish(x, 482, NULL, "Loop Detected");
		return false;
	}
	if (strlen(uri) >= sizeof(x->uri) || sip_uri_parse(sip_str_cstr(uri), &u) < 0) {
		finish(x, 500, NULL, NULL);
		return false;
	}
	strcpy(x->uri, uri);
	x->changed = true;
	x->located = x->enum_done = false;
	x->miss_status = 0;
	return true;
}

/* ---- the registry --------------------------------------------------------------- */

static void located(struct worker *w, void *arg, int err, const struct location_result *r)
{
	struct translation *x = arg;
	struct target_set ts;

	(void)w;
	if (err) {
		finish(x, 503, NULL, "Database Unavailable");
		return;
	}
	if (r->n) {
		if (target_set_from_location(&ts, r) < 0) {
			finish(x, 500, NULL, NULL);
			return;
		}
		if (ts.n) {
			finish(x, 0, &ts, NULL);
			return;
		}
		target_set_free(&ts); /* no contact we can route to */
	}
	x->miss_status = location_miss_status(r, x->trusted);
	run(x);
}

/* ---- ENUM ------------------------------------------------------------------------- */

static void enum_answered(void *arg, int status, const char *uri)
{
	struct translation *x = arg;

	if (status == 0) {
		ctr_inc(worker_counters(x->w), CTR_TRANSLATED_ENUM);
		log_debug("event=translated step=enum from=\"%s\" to=\"%s\"", x->uri, uri);
		if (!replace(x, uri))
			return;
	} else if (status != -ENOENT) {
		log_info("event=enum_failed uri=\"%s\" error=\"%s\"", x->uri, strerror(-status));
	}
	run(x);
}

/* ---- the order ---------------------------------------------------------------------- */

static void run(struct translation *x)
{
	const struct config *cfg = worker_config(x->w);
	unsigned steps = cfg->routing.translate;

	for (;;) {
		char fwd[CALLFWD_URI_MAX], digits[E164_MAX_DIGITS + 1];
		struct statroute_hops hops;
		bool local, number;

		if (sip_uri_parse(sip_str_cstr(x->uri), &x->u) < 0) {
			finish(x, 500, NULL, NULL);
			return;
		}
		local = ours(x);
		/* 1. call forward unconditional, for an AOR of ours */
		if ((steps & CFG_TRANSLATE_FORWARD) && local &&
		    callfwd_find(x->u.user, x->u.host, fwd, sizeof(fwd))) {
			struct sip_uri fu;
			bool leaves = sip_uri_parse(sip_str_cstr(fwd), &fu) < 0 ||
				      !config_is_domain(cfg, fu.host);

			if (!leaves || x->may_leave) {
				ctr_inc(worker_counters(x->w), CTR_TRANSLATED_FORWARD);
				log_debug("event=translated step=forward from=\"%s\" to=\"%s\"",
					  x->uri, fwd);
				if (!replace(x, fwd))
					return;
				continue;
			}
		}
		/* 2. the registry */
		if ((steps & CFG_TRANSLATE_REGISTRY) && local && !x->located) {
			x->located = true;
			if (!worker_store(x->w)) {
				x->miss_status = 404; /* no database, nobody registered */
				continue;
			}
			if (location_lookup(x->w, x->u.user, x->u.host, located, x) < 0)
				finish(x, 503, NULL, "Database Unavailable");
			return;
		}
		/* (only the steps after the registry look at the number) */
		number = (steps & (CFG_TRANSLATE_ENUM | CFG_TRANSLATE_ROUTES)) && x->u.has_user &&
			 e164_normalise(cfg, x->u.user, digits, sizeof(digits)) > 0;
		/* 3. ENUM, for a telephone number */
		if ((steps & CFG_TRANSLATE_ENUM) && number && x->may_leave && !x->enum_done) {
			x->enum_done = true;
			if (enum_lookup(worker_dns(x->w), cfg->routing.enum_suffix, digits,
					enum_answered, x) == 0)
				return;
			continue;
		}
		/* 4. static routes: by number, then by domain */
		if ((steps & CFG_TRANSLATE_ROUTES) && (!local || x->may_leave) &&
		    statroute_find(number ? digits : NULL, x->u.host, &hops)) {
			ctr_inc(worker_counters(x->w), CTR_TRANSLATED_ROUTE);
			to_hops(x, &hops);
			return;
		}
		/* 5. the Request-URI as it is: nobody of ours, or by DNS (through
		 * the domain's outbound proxy when it has one) */
		if (local) {
			finish(x, x->miss_status ? x->miss_status : 404, NULL, NULL);
			return;
		}
		if (statroute_outbound(x->u.host, &hops)) {
			ctr_inc(worker_counters(x->w), CTR_TRANSLATED_ROUTE);
			to_hops(x, &hops);
			return;
		}
		to_hops(x, NULL);
		return;
	}
}

int translate_start(struct worker *w, const struct sip_uri *target, bool may_leave, bool trusted,
		    translate_done done, void *arg)
{
	struct translation *x;

	if (target->raw.len >= TRANSLATE_URI_MAX)
		return -ENOMEM;
	x = calloc(1, sizeof(*x));
	if (!x)
		return -ENOMEM;
	x->w = w;
	x->done = done;
	x->arg = arg;
	x->may_leave = may_leave;
	x->trusted = trusted;
	sip_str_to_cstr(target->raw, x->uri, sizeof(x->uri));
	run(x);
	return 0;
}
