/*
 * scpool: see scpool.h for the rules. One pool per process; every field
 * of struct server is under pool.lock except setting_up and held (atomic,
 * counted under the read lock).
 */
#include "proxy/scpool.h"

#include "base/clock.h"
#include "base/log.h"
#include "base/siphash.h"
#include "config/config.h"
#include "net/resolve.h"
#include "sip/sip_uri.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SC_NAME_MAX STORE_SEEN_NAME_MAX
#define SC_RANK_ANY 1000u
#define SCPOOL_SLACK                                                                               \
	4 /* see scpool_choose() */ /* data centres in neither geo_location nor geo_fallback */

struct server {
	uint32_t id; /* stable across reloads while name and URI stay */
	char name[SC_NAME_MAX];
	char uri[SCPOOL_URI_MAX];
	char geo[CFG_GEO_MAX];
	char pair[SC_NAME_MAX]; /* "": a server on its own */
	bool backup, enabled;
	unsigned weight;
	unsigned rank; /* data-centre preference, 0 best */
	int partner;   /* the other member of the pair, -1: none */
	bool resolved; /* dest is valid */
	struct sip_dest dest;
	/* what this node knows */
	enum scpool_state state;
	bool alive;       /* the last probe (or a request from it) said so */
	bool probed;      /* a probe has had an outcome */
	bool last_active; /* the pair's member most recently active */
	bool outstanding; /* a probe is out */
	uint64_t sent_ms, deadline_ms, next_probe_ms;
	uint64_t since_ms;      /* monotonic: state entered */
	uint64_t switchover_ms; /* monotonic: last became active; 0 never */
	int64_t rtt_us;         /* -1: none yet */
	char reason[STORE_SEEN_REASON_MAX];
	_Atomic unsigned setting_up; /* INVITEs sent there, no final answer yet */
	_Atomic unsigned held;       /* open sessions it serves, the cluster's (session table) */
};

/* A worker's smooth weighted round robin (per worker: nothing shared is
 * written on the hot path but the counts). */
struct picker {
	uint64_t gen;
	int64_t cw[SCPOOL_MAX];
};

static struct {
	pthread_rwlock_t lock;
	const struct config *cfg;
	bool on;
	unsigned n;
	struct server *s; /* SCPOOL_MAX */
	uint32_t next_id;
	uint64_t gen; /* changes with every load: pickers start over */
	unsigned npickers;
	struct picker *pickers;
	bool changed; /* a state changed: publish once unlocked */
	bool loaded;  /* the table was read at least once */
	_Atomic uint64_t switchovers, probes, probes_failed, no_server;
} pool = {.lock = PTHREAD_RWLOCK_INITIALIZER};

static const char *const state_names[SCPOOL__STATES] = {"active", "standby", "oos"};

const char *scpool_state_name(enum scpool_state s)
{
	return s < SCPOOL__STATES ? state_names[s] : "?";
}

int scpool_init(const struct config *cfg, unsigned nworkers)
{
	pool.cfg = cfg;
	pool.on = cfg->routing.session_controllers;
	pool.s = calloc(SCPOOL_MAX, sizeof(*pool.s));
	pool.pickers = calloc(nworkers ? nworkers : 1, sizeof(*pool.pickers));
	if (!pool.s || !pool.pickers) {
		scpool_fini();
		return -ENOMEM;
	}
	pool.npickers = nworkers;
	pool.next_id = 1;
	return 0;
}

void scpool_fini(void)
{
	free(pool.s);
	free(pool.pickers);
	pool.s = NULL;
	pool.pickers = NULL;
	pool.n = pool.npickers = 0;
	pool.on = false;
}

bool scpool_on(void)
{
	return pool.on;
}

/* ---- state changes (write lock held) ------------------------------------ */

/* Unlocks the write lock, and publishes when a state changed under it. */
static void unlock_publish(void)
{
	bool changed = pool.changed;

	pool.changed = false;
	pthread_rwlock_unlock(&pool.lock);
	if (changed)
		store_bg_publish_soon();
}

static unsigned oos_check_ms(void)
{
	return pool.cfg->cluster.oos_check * 1000u;
}

static unsigned oos_force_ms(void)
{
	return pool.cfg->cluster.oos_force * 1000u;
}

static void set_state(struct server *v, enum scpool_state st, const char *reason, uint64_t now)
{
	if (v->state == st && strcmp(v->reason, reason) == 0)
		return;
	if (v->state != st)
		log_info("event=sip_server_state server=%s state=%s previous=%s pair=%s "
			 "reason=\"%s\"",
			 v->name, state_names[st], state_names[v->state],
			 v->pair[0] ? v->pair : "-", reason);
	if (v->state != st)
		v->since_ms = now;
	v->state = st;
	snprintf(v->reason, sizeof(v->reason), "%s", reason);
	pool.changed = true;
}

static struct server *partner_of(const struct server *v)
{
	return v->partner >= 0 ? &pool.s[v->partner] : NULL;
}

/* v takes the pair's sessions from now on; the other member steps down. */
static void make_active(struct server *v, const char *reason, uint64_t now)
{
	struct server *p = partner_of(v);

	if (v->state == SCPOOL_ACTIVE)
		return;
	if (p && p->state == SCPOOL_ACTIVE) {
		char why[STORE_SEEN_REASON_MAX];

		snprintf(why, sizeof(why), "%s took over", v->name);
		set_state(p, p->alive ? SCPOOL_STANDBY : SCPOOL_OOS, why, now);
	}
	if (p && p->last_active) {
		atomic_fetch_add(&pool.switchovers, 1);
		log_warn("event=sip_server_switchover pair=%s from=%s to=%s reason=\"%s\"", v->pair,
			 p->name, v->name, reason);
	}
	if (p)
		p->last_active = false;
	v->last_active = true;
	v->switchover_ms = now;
	set_state(v, SCPOOL_ACTIVE, reason, now);
}

/* Does v's pair have an active member? */
static bool pair_in_service(const struct server *v)
{
	const struct server *p = partner_of(v);

	return v->state == SCPOOL_ACTIVE || (p && p->state == SCPOOL_ACTIVE);
}

/* A member in service and enabled while its pair has no active member:
 * the primary if it can, else the backup. */
static void settle_pair(struct server *v, uint64_t now)
{
	struct server *p = partner_of(v);
	struct server *pri = v->backup && p ? p : v, *bak = pri == v ? p : v;

	if (pair_in_service(v))
		return;
	if (pri->enabled && pri->alive)
		make_active(pri, "answers OPTIONS", now);
	else if (bak && bak->enabled && bak->alive &&
		 (!pri->enabled || !pri->resolved || pri->probed))
		make_active(bak, pri->enabled ? "primary out of service" : "primary disabled", now);
}

/* ---- loading ------------------------------------------------------------- */

static struct server *find_by_id(uint32_t id)
{
	for (unsigned i = 0; i < pool.n; i++)
		if (pool.s[i].id == id)
			return &pool.s[i];
	return NULL;
}

/* The preference of data centre geo, lowest first: this node's, then
 * geo_fallback's order, then the others in the order of their names
 * (ranked by how many servers' data centres sort before it: equal for
 * one data centre, ordered across them). */
static unsigned geo_rank(const char *geo, const struct server *all, unsigned n)
{
	const struct config *c = pool.cfg;
	unsigned before = 0;

	if (c->cluster.geo_location[0] && strcmp(geo, c->cluster.geo_location) == 0)
		return 0;
	for (unsigned i = 0; i < c->cluster.ngeo_fallback; i++)
		if (strcmp(geo, c->cluster.geo_fallback[i]) == 0)
			return 1 + i;
	for (unsigned i = 0; i < n; i++)
		before += strcmp(all[i].geo, geo) < 0;
	return SC_RANK_ANY + before;
}

/* Fills the static part of v from row r; resolves its URI. */
static void server_from_row(struct server *v, const struct store_sip_server *r)
{
	struct sip_uri u;

	snprintf(v->name, sizeof(v->name), "%s", r->name);
	snprintf(v->uri, sizeof(v->uri), "%s", r->uri);
	snprintf(v->geo, sizeof(v->geo), "%s", r->geo_location);
	snprintf(v->pair, sizeof(v->pair), "%s", r->ha_pair ? r->ha_pair : "");
	v->backup = r->backup && r->ha_pair;
	v->enabled = r->enabled;
	v->weight = r->weight;
	v->resolved = sip_uri_parse(sip_str_cstr(v->uri), &u) == 0 &&
		      resolve_uri(&u, 0, 0, &v->dest) >= 0;
	if (!v->resolved)
		log_warn("event=sip_server_unresolvable server=%s uri=\"%s\"", v->name, v->uri);
}

void scpool_load(const struct store_sip_server *rows, unsigned n)
{
	struct server *next = calloc(SCPOOL_MAX, sizeof(*next));
	uint64_t now = clock_now_ms();
	unsigned added = 0, kept = 0;

	if (!next) {
		log_error("event=sip_servers_load_failed error=\"out of memory\"");
		return;
	}
	if (n > SCPOOL_MAX) {
		log_warn("event=sip_servers_truncated count=%u max=%d", n, SCPOOL_MAX);
		n = SCPOOL_MAX;
	}
	/* Resolving may block: before the lock. */
	for (unsigned i = 0; i < n; i++)
		server_from_row(&next[i], &rows[i]);

	pthread_rwlock_wrlock(&pool.lock);
	for (unsigned i = 0; i < n; i++) {
		struct server *v = &next[i], *old = NULL;

		for (unsigned k = 0; k < pool.n && !old; k++)
			if (strcmp(pool.s[k].name, v->name) == 0 &&
			    strcmp(pool.s[k].uri, v->uri) == 0)
				old = &pool.s[k];
		if (old) {
			/* what probing found survives the reload */
			v->id = old->id;
			v->state = old->state;
			v->alive = old->alive;
			v->probed = old->probed;
			v->last_active = old->last_active;
			v->outstanding = old->outstanding;
			v->sent_ms = old->sent_ms;
			v->deadline_ms = old->deadline_ms;
			v->next_probe_ms = old->next_probe_ms;
			v->since_ms = old->since_ms;
			v->switchover_ms = old->switchover_ms;
			v->rtt_us = old->rtt_us;
			memcpy(v->reason, old->reason, sizeof(v->reason));
			atomic_store(&v->setting_up, atomic_load(&old->setting_up));
			atomic_store(&v->held, atomic_load(&old->held));
			if (!old->enabled && v->enabled) {
				/* back from disabled: known again once probed */
				v->probed = false;
				v->next_probe_ms = now;
				snprintf(v->reason, sizeof(v->reason), "not probed yet");
			}
			kept++;
		} else {
			v->id = pool.next_id++;
			v->state = SCPOOL_OOS;
			v->since_ms = now;
			v->rtt_us = -1;
			v->next_probe_ms = now;
			snprintf(v->reason, sizeof(v->reason), "not probed yet");
			pool.changed = true;
			added++;
		}
		v->partner = -1;
		v->rank = geo_rank(v->geo, next, n);
	}
	for (unsigned i = 0; i < n; i++)
		for (unsigned k = i + 1; k < n; k++)
			if (next[i].pair[0] && strcmp(next[i].pair, next[k].pair) == 0) {
				next[i].partner = (int)k;
				next[k].partner = (int)i;
			}
	free(pool.s);
	pool.s = next;
	pool.n = n;
	pool.gen++;
	pool.loaded = true;
	/* Reconcile: disabled or unresolvable servers are out; one active
	 * member per pair; without probing everything enabled is in service. */
	for (unsigned i = 0; i < n; i++) {
		struct server *v = &pool.s[i];
		struct server *p = partner_of(v);

		if (!v->enabled || !v->resolved) {
			v->alive = false;
			v->outstanding = false;
			if (v->state == SCPOOL_ACTIVE && p && p->enabled && p->alive)
				make_active(p,
					    v->backup ? (v->enabled ? "backup unresolvable"
								    : "backup disabled")
						      : (v->enabled ? "primary unresolvable"
								    : "primary disabled"),
					    now);
			set_state(v, SCPOOL_OOS, v->enabled ? "unresolvable URI" : "disabled", now);
		} else if (oos_check_ms() == 0) {
			/* no probing: every enabled server is taken to be in service */
			v->alive = v->probed = true;
		}
		if (v->state == SCPOOL_ACTIVE && p && p->state == SCPOOL_ACTIVE && v->backup)
			set_state(v, SCPOOL_STANDBY, "pair has an active primary", now);
	}
	for (unsigned i = 0; i < n; i++) {
		struct server *v = &pool.s[i];

		if (v->enabled && v->resolved && v->alive) {
			settle_pair(v, now);
			if (v->state == SCPOOL_OOS)
				set_state(v, SCPOOL_STANDBY, "answers OPTIONS", now);
		}
	}
	pool.changed = true;
	unlock_publish();
	log_info("event=sip_servers_loaded count=%u new=%u kept=%u", n, added, kept);
}

/* ---- a new session ------------------------------------------------------- */

/* What a server carries for this node: its sessions and the calls being
 * set up. */
static unsigned load_of(struct server *v)
{
	return atomic_load_explicit(&v->setting_up, memory_order_relaxed) +
	       atomic_load_explicit(&v->held, memory_order_relaxed);
}

/* The data centre to choose in: the best rank with a server in service
 * (UINT32_MAX: none). Under the lock. */
static unsigned rank_in_service(void)
{
	unsigned best_rank = UINT32_MAX;

	for (unsigned i = 0; i < pool.n; i++) {
		const struct server *v = &pool.s[i];

		if (v->state == SCPOOL_ACTIVE && v->weight && v->rank < best_rank)
			best_rank = v->rank;
	}
	return best_rank;
}

/* The choice made (best may be NULL: none): counted as a call being set up
 * there, or as a refusal. Unlocks the pool. Returns whether there was one. */
static bool chosen(struct server *best, struct scpool_pick *out)
{
	if (best) {
		atomic_fetch_add_explicit(&best->setting_up, 1, memory_order_relaxed);
		out->id = best->id;
		memcpy(out->uri, best->uri, sizeof(out->uri));
	}
	pthread_rwlock_unlock(&pool.lock);
	if (!best)
		atomic_fetch_add(&pool.no_server, 1);
	return best != NULL;
}

bool scpool_choose(unsigned worker, struct scpool_pick *out)
{
	struct picker *pk = &pool.pickers[worker < pool.npickers ? worker : 0];
	unsigned best_rank, ncand = 0, setting = 0, wsum = 0;
	int64_t total = 0;
	struct server *best = NULL;

	pthread_rwlock_rdlock(&pool.lock);
	if (pk->gen != pool.gen) {
		memset(pk->cw, 0, sizeof(pk->cw));
		pk->gen = pool.gen;
	}
	best_rank = rank_in_service();
	for (unsigned i = 0; i < pool.n; i++) {
		struct server *v = &pool.s[i];

		if (v->state != SCPOOL_ACTIVE || !v->weight || v->rank != best_rank)
			continue;
		ncand++;
		setting += load_of(v);
		wsum += v->weight;
	}
	for (unsigned i = 0; i < pool.n; i++) {
		struct server *v = &pool.s[i];
		uint64_t mine;

		if (v->state != SCPOOL_ACTIVE || !v->weight || v->rank != best_rank)
			continue;
		/* half as much again as its weighted share of the sessions and
		 * calls being set up, give or take SCPOOL_SLACK each: let the
		 * others catch up (a slow server drains, long calls even
		 * out). The margin keeps a few calls in flight, or a session
		 * count a few seconds old (scpool_set_sessions()), from
		 * skewing the weights at low load. */
		mine = load_of(v);
		if (ncand > 1 &&
		    2 * mine * wsum > 3 * (uint64_t)(setting + SCPOOL_SLACK * ncand) * v->weight)
			continue;
		pk->cw[i] += v->weight;
		total += v->weight;
		if (!best || pk->cw[i] > pk->cw[best - pool.s])
			best = v;
	}
	if (best)
		pk->cw[best - pool.s] -= total;
	return chosen(best, out);
}

bool scpool_choose_key(uint64_t key, struct scpool_pick *out)
{
	const struct siphash_key hk = {.k0 = key, .k1 = 0x6a756e6374696f6eull};
	unsigned best_rank;
	uint64_t best_score = 0;
	struct server *best = NULL;

	pthread_rwlock_rdlock(&pool.lock);
	best_rank = rank_in_service();
	/* Rendezvous hashing over the pairs (a server alone is its own
	 * pair): a pair that leaves moves only its own keys, and every node
	 * computes the same. The pair, not the member, so that a takeover
	 * keeps the key with the pair's new active member. */
	for (unsigned i = 0; i < pool.n; i++) {
		struct server *v = &pool.s[i];
		const char *id = v->pair[0] ? v->pair : v->name;
		uint64_t score;

		if (v->state != SCPOOL_ACTIVE || !v->weight || v->rank != best_rank)
			continue;
		score = siphash(&hk, id, strlen(id));
		if (!best || score > best_score) {
			best = v;
			best_score = score;
		}
	}
	return chosen(best, out);
}

void scpool_set_sessions(const char *const *names, const unsigned *counts, unsigned n)
{
	pthread_rwlock_rdlock(&pool.lock);
	for (unsigned i = 0; i < pool.n; i++) {
		unsigned held = 0;

		for (unsigned k = 0; k < n; k++)
			if (strcmp(names[k], pool.s[i].name) == 0)
				held = counts[k];
		atomic_store_explicit(&pool.s[i].held, held, memory_order_relaxed);
	}
	pthread_rwlock_unlock(&pool.lock);
}

/* The member of v's pair that takes its sessions now: v itself when
 * active, else its partner when that is; NULL when neither is. */
static struct server *serving(struct server *v)
{
	struct server *p = partner_of(v);

	if (v->state == SCPOOL_ACTIVE)
		return v;
	return p && p->state == SCPOOL_ACTIVE ? p : NULL;
}

bool scpool_take(uint32_t id, struct scpool_pick *out)
{
	struct server *v;

	pthread_rwlock_rdlock(&pool.lock);
	v = find_by_id(id);
	v = v ? serving(v) : NULL;
	if (v) {
		atomic_fetch_add_explicit(&v->setting_up, 1, memory_order_relaxed);
		out->id = v->id;
		memcpy(out->uri, v->uri, sizeof(out->uri));
	}
	pthread_rwlock_unlock(&pool.lock);
	return v != NULL;
}

uint32_t scpool_id_of(struct sip_str name)
{
	uint32_t id = 0;

	pthread_rwlock_rdlock(&pool.lock);
	for (unsigned i = 0; i < pool.n && !id; i++)
		if (strlen(pool.s[i].name) == name.len &&
		    memcmp(pool.s[i].name, name.p, name.len) == 0)
			id = pool.s[i].id;
	pthread_rwlock_unlock(&pool.lock);
	return id;
}

bool scpool_name_of(uint32_t id, char out[STORE_SEEN_NAME_MAX])
{
	struct server *v;

	pthread_rwlock_rdlock(&pool.lock);
	v = find_by_id(id);
	if (v)
		memcpy(out, v->name, STORE_SEEN_NAME_MAX);
	pthread_rwlock_unlock(&pool.lock);
	return v != NULL;
}

unsigned scpool_dead(char (*out)[STORE_SEEN_NAME_MAX], unsigned max)
{
	unsigned n = 0;

	pthread_rwlock_rdlock(&pool.lock);
	for (unsigned i = 0; i < pool.n && n < max; i++)
		if (!serving(&pool.s[i]))
			memcpy(out[n++], pool.s[i].name, STORE_SEEN_NAME_MAX);
	pthread_rwlock_unlock(&pool.lock);
	return n;
}

void scpool_release(uint32_t id)
{
	struct server *v;

	pthread_rwlock_rdlock(&pool.lock);
	v = find_by_id(id);
	if (v && atomic_load_explicit(&v->setting_up, memory_order_relaxed))
		atomic_fetch_sub_explicit(&v->setting_up, 1, memory_order_relaxed);
	pthread_rwlock_unlock(&pool.lock);
}

/* The server at a: address and port, else (host_too) address alone. */
static struct server *match_addr(const struct netaddr *a, bool host_too)
{
	struct server *by_host = NULL;

	for (unsigned i = 0; i < pool.n; i++) {
		struct server *v = &pool.s[i];

		if (!v->resolved)
			continue;
		if (netaddr_equal(&v->dest.addr, a))
			return v;
		if (host_too && !by_host && netaddr_equal_host(&v->dest.addr, a))
			by_host = v;
	}
	return by_host;
}

uint32_t scpool_at(const struct netaddr *a)
{
	struct server *v;
	uint32_t id;

	pthread_rwlock_rdlock(&pool.lock);
	v = match_addr(a, false);
	id = v ? v->id : 0;
	pthread_rwlock_unlock(&pool.lock);
	return id;
}

uint32_t scpool_from(const struct sip_source *src, uint64_t now_ms)
{
	struct server *v;
	bool takeover;
	uint32_t id;

	pthread_rwlock_rdlock(&pool.lock);
	v = match_addr(&src->remote, true);
	takeover = v && v->enabled && v->state != SCPOOL_ACTIVE;
	id = v ? v->id : 0;
	pthread_rwlock_unlock(&pool.lock);
	if (!takeover)
		return id;
	pthread_rwlock_wrlock(&pool.lock);
	v = match_addr(&src->remote, true); /* the pool may have been reloaded meanwhile */
	if (v && v->enabled && v->state != SCPOOL_ACTIVE) {
		v->alive = v->probed = true;
		make_active(v, "request from it: it has taken over", now_ms);
	}
	id = v ? v->id : 0;
	unlock_publish();
	return id;
}

/* ---- probing --------------------------------------------------------------- */

unsigned scpool_probes_due(uint64_t now_ms, struct scpool_probe *out, unsigned max)
{
	unsigned n = 0, deadline;

	if (!oos_check_ms())
		return 0;
	pthread_rwlock_wrlock(&pool.lock);
	for (unsigned i = 0; i < pool.n && n < max; i++) {
		struct server *v = &pool.s[i];

		if (!v->enabled || !v->resolved || v->outstanding || now_ms < v->next_probe_ms)
			continue;
		/* an answer within oos_force, never longer than the probe
		 * interval (the Genesys SIP Proxy's rule) */
		deadline = oos_force_ms() < oos_check_ms() ? oos_force_ms() : oos_check_ms();
		if (!pair_in_service(v))
			deadline = oos_force_ms();
		v->outstanding = true;
		v->sent_ms = now_ms;
		v->deadline_ms = now_ms + deadline;
		out[n].id = v->id;
		memcpy(out[n].uri, v->uri, sizeof(out[n].uri));
		out[n].dest = v->dest;
		out[n].deadline_ms = v->deadline_ms;
		n++;
	}
	pthread_rwlock_unlock(&pool.lock);
	atomic_fetch_add(&pool.probes, n);
	return n;
}

void scpool_probe_done(uint32_t id, bool alive, uint64_t rtt_us, const char *why, uint64_t now_ms)
{
	struct server *v, *p;

	pthread_rwlock_wrlock(&pool.lock);
	v = find_by_id(id);
	if (!v || !v->outstanding || !v->enabled) {
		pthread_rwlock_unlock(&pool.lock);
		return;
	}
	p = partner_of(v);
	v->outstanding = false;
	v->probed = true;
	if (alive) {
		v->alive = true;
		v->rtt_us = (int64_t)rtt_us;
		if (v->state != SCPOOL_ACTIVE && pair_in_service(v))
			set_state(v, SCPOOL_STANDBY, "answers OPTIONS", now_ms);
		settle_pair(v, now_ms);
		if (v->state == SCPOOL_OOS) /* a backup waiting for the primary's first probe */
			set_state(v, SCPOOL_STANDBY, "answers OPTIONS", now_ms);
		v->next_probe_ms = v->sent_ms + oos_check_ms();
	} else {
		bool was_active = v->state == SCPOOL_ACTIVE;

		atomic_fetch_add(&pool.probes_failed, 1);
		v->alive = false;
		if (was_active && p && p->enabled && p->alive) {
			char r[STORE_SEEN_REASON_MAX];

			snprintf(r, sizeof(r), "%s: %s", v->name, why);
			make_active(p, r, now_ms);
		}
		set_state(v, SCPOOL_OOS, why, now_ms);
		settle_pair(v, now_ms); /* a backup waiting on this primary's first probe */
		if (pair_in_service(v)) {
			v->next_probe_ms = v->sent_ms + oos_check_ms();
		} else {
			/* the pair is out: the other member at once, then both
			 * alternately, one probe every oos_force however fast
			 * each fails */
			uint64_t turn = v->sent_ms + oos_force_ms();
			bool other = p && p->enabled && p->resolved && !p->outstanding;

			if (turn < now_ms)
				turn = now_ms;
			v->next_probe_ms = turn;
			if (other && was_active) {
				p->next_probe_ms = now_ms;
				v->next_probe_ms = now_ms + oos_force_ms();
			} else if (other) {
				if (p->next_probe_ms > turn || p->next_probe_ms < v->sent_ms)
					p->next_probe_ms = turn;
				v->next_probe_ms = p->next_probe_ms + oos_force_ms();
			}
			if (was_active) {
				log_warn(
					"event=sip_server_pair_oos pair=%s server=%s reason=\"%s\"",
					v->pair[0] ? v->pair : v->name, v->name, why);
			}
		}
	}
	if (v->next_probe_ms < now_ms)
		v->next_probe_ms = now_ms;
	unlock_publish();
}

bool scpool_ready(void)
{
	bool ready;

	pthread_rwlock_rdlock(&pool.lock);
	ready = pool.loaded;
	for (unsigned i = 0; i < pool.n && ready; i++) {
		const struct server *v = &pool.s[i];

		if (v->enabled && v->resolved && !v->probed)
			ready = false;
	}
	pthread_rwlock_unlock(&pool.lock);
	return ready;
}

int scpool_next_probe_ms(uint64_t now_ms)
{
	uint64_t next = UINT64_MAX;

	if (!oos_check_ms())
		return -1;
	pthread_rwlock_rdlock(&pool.lock);
	for (unsigned i = 0; i < pool.n; i++) {
		const struct server *v = &pool.s[i];

		if (!v->enabled || !v->resolved)
			continue;
		if (v->outstanding && v->deadline_ms < next)
			next = v->deadline_ms;
		if (!v->outstanding && v->next_probe_ms < next)
			next = v->next_probe_ms;
	}
	pthread_rwlock_unlock(&pool.lock);
	if (next == UINT64_MAX)
		return -1;
	return next <= now_ms ? 0 : (int)(next - now_ms);
}

/* ---- what operators see ------------------------------------------------------ */

static uint64_t wall_ms_of(uint64_t mono_ms, uint64_t now_mono, uint64_t now_wall)
{
	return mono_ms >= now_mono ? now_wall : now_wall - (now_mono - mono_ms);
}

unsigned scpool_seen(struct store_sip_server_seen *out, unsigned max)
{
	struct timespec ts;
	uint64_t now_mono = clock_now_ms(), now_wall;
	unsigned n = 0;

	clock_gettime(CLOCK_REALTIME, &ts);
	now_wall = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
	pthread_rwlock_rdlock(&pool.lock);
	for (unsigned i = 0; i < pool.n && n < max; i++, n++) {
		const struct server *v = &pool.s[i];

		snprintf(out[n].name, sizeof(out[n].name), "%s", v->name);
		out[n].state = state_names[v->state];
		out[n].since_ms = wall_ms_of(v->since_ms, now_mono, now_wall);
		out[n].rtt_us = v->rtt_us;
		out[n].switchover_ms =
			v->switchover_ms ? wall_ms_of(v->switchover_ms, now_mono, now_wall) : 0;
		memcpy(out[n].reason, v->reason, sizeof(out[n].reason));
	}
	pthread_rwlock_unlock(&pool.lock);
	return n;
}

void scpool_stats(struct scpool_stats *out)
{
	memset(out, 0, sizeof(*out));
	pthread_rwlock_rdlock(&pool.lock);
	for (unsigned i = 0; i < pool.n; i++) {
		const struct server *v = &pool.s[i];

		out->servers[v->state]++;
		/* each pair once, at its first member; a pair all disabled is
		 * out of service on purpose */
		if ((v->partner < 0 || (unsigned)v->partner > i) &&
		    (v->enabled || (v->partner >= 0 && pool.s[v->partner].enabled))) {
			out->pairs++;
			out->pairs_oos += !pair_in_service(v);
		}
	}
	pthread_rwlock_unlock(&pool.lock);
	out->switchovers = atomic_load(&pool.switchovers);
	out->probes = atomic_load(&pool.probes);
	out->probes_failed = atomic_load(&pool.probes_failed);
	out->no_server = atomic_load(&pool.no_server);
}

unsigned scpool_server_stats(struct scpool_server_stat *out, unsigned max)
{
	unsigned n = 0;

	pthread_rwlock_rdlock(&pool.lock);
	for (unsigned i = 0; i < pool.n && n < max; i++, n++) {
		const struct server *v = &pool.s[i];

		memcpy(out[n].name, v->name, sizeof(out[n].name));
		out[n].state = v->state;
		out[n].rtt_us = v->rtt_us;
		out[n].setting_up = atomic_load_explicit(&v->setting_up, memory_order_relaxed);
		out[n].sessions = atomic_load_explicit(&v->held, memory_order_relaxed);
	}
	pthread_rwlock_unlock(&pool.lock);
	return n;
}
