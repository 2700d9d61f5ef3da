/*
 * statroute: see statroute.h for what it answers and who calls it.
 *
 * A table is built whole from the rows and never changed afterwards:
 *   - every row's match and next hop are copied into one string block;
 *   - rows are sorted by (kind, match, priority, id) and cut into groups,
 *     one per kind and match, whose hops are then a run of an array in
 *     the order of priority;
 *   - the groups are found through one open-addressing hash table keyed
 *     by kind and match (SipHash with the process key: the numbers and
 *     domains looked up come from the network), at most half full;
 *   - prefix_lens has bit L set when some prefix has L digits, so that
 *     the longest-prefix search probes only lengths that exist: at most
 *     15 probes, usually two or three.
 * 100k routes take about 10 MB and a few tens of milliseconds to build,
 * on the database thread; the lookups cost the same whatever the size.
 *
 * The weighted order of RFC 2782 §"Usage rules" is drawn per lookup by
 * base/weighted.h, as for SRV records: a hop of weight 0 comes after every
 * weighted hop of its priority, so 0 means "standby" as sip_server.weight
 * 0 means "drain".
 */
#include "proxy/statroute.h"

#include "base/clock.h"
#include "base/log.h"
#include "base/siphash.h"
#include "base/weighted.h"
#include "proxy/e164.h"
#include "sip/sip_uri.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define SR_DOMAIN_MAX  253
#define SR_LOG_SKIPPED 10 /* rows logged one by one per load; the rest counted */
#define SR_MIN_SLOTS   16

_Static_assert(STATROUTE_GROUP_MAX <= WEIGHTED_MAX, "a group is ordered whole");

enum sr_kind { SR_DOMAIN = 0, SR_PREFIX, SR_OUTBOUND };

struct sr_hop {
	uint32_t uri; /* offset in strs */
	uint32_t priority, weight;
};

struct sr_group {
	uint32_t key; /* offset of the match in strs */
	uint16_t keylen;
	uint8_t kind;
	uint32_t first, n; /* hops[first .. first + n), by priority */
};

struct sr_table {
	unsigned rows;
	struct sr_group *g;
	unsigned ng;
	struct sr_hop *h;
	char *strs;
	uint32_t *slot; /* group index + 1; 0: empty */
	uint32_t mask;
	uint16_t prefix_lens; /* bit L: a prefix route of L digits exists */
};

/* A row that passed the checks, while building. */
struct sr_row {
	uint8_t kind;
	uint32_t match, hop; /* offsets in strs */
	uint16_t matchlen;
	uint32_t priority, weight;
	int64_t id;
	const char *strs; /* for the comparison */
};

static pthread_rwlock_t sr_lock = PTHREAD_RWLOCK_INITIALIZER;
static struct sr_table *sr_cur;
static _Atomic unsigned sr_nrows;

/* ---- building ------------------------------------------------------------ */

static uint64_t sr_hash(uint8_t kind, const char *key, size_t len)
{
	struct siphash_state s;

	siphash_init(&s, siphash_process_key());
	siphash_update(&s, &kind, 1);
	siphash_update(&s, key, len);
	return siphash_final(&s);
}

static void sr_table_free(struct sr_table *t)
{
	if (!t)
		return;
	free(t->g);
	free(t->h);
	free(t->strs);
	free(t->slot);
	free(t);
}

static int sr_kind_parse(const char *k)
{
	if (strcmp(k, "domain") == 0)
		return SR_DOMAIN;
	if (strcmp(k, "prefix") == 0)
		return SR_PREFIX;
	if (strcmp(k, "outbound") == 0)
		return SR_OUTBOUND;
	return -1;
}

/* NULL when row r may be loaded, else why not. */
static const char *sr_row_problem(const struct store_route *r, int kind)
{
	size_t ml = strlen(r->match), hl = strlen(r->next_hop);
	struct sip_uri u;

	if (kind < 0)
		return "unknown kind";
	if (kind == SR_PREFIX) {
		if (ml == 0 || ml > E164_MAX_DIGITS || strspn(r->match, "0123456789") != ml)
			return "a prefix is 1 to 15 digits";
	} else if (ml == 0 || ml > SR_DOMAIN_MAX ||
		   sip_host_check((struct sip_str){r->match, ml}) <= 0) {
		return "match is not a host name";
	}
	if (hl >= STATROUTE_URI_MAX)
		return "next_hop is too long";
	if (sip_uri_parse((struct sip_str){r->next_hop, hl}, &u) < 0 ||
	    (u.scheme != SIP_URI_SIP && u.scheme != SIP_URI_SIPS) || u.has_user || u.headers.len)
		return "next_hop is not a sip: or sips: URI without a user part";
	return NULL;
}

static int sr_row_cmp(const void *a, const void *b)
{
	const struct sr_row *x = a, *y = b;
	int c;

	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	c = strcmp(x->strs + x->match, y->strs + y->match);
	if (c)
		return c;
	if (x->priority != y->priority)
		return x->priority < y->priority ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

static void sr_insert(struct sr_table *t, uint32_t gi)
{
	const struct sr_group *g = &t->g[gi];
	uint32_t i = (uint32_t)sr_hash(g->kind, t->strs + g->key, g->keylen) & t->mask;

	while (t->slot[i])
		i = (i + 1) & t->mask;
	t->slot[i] = gi + 1;
}

/* Copies s (lowercased when lower) into strs at *used; returns its offset. */
static uint32_t sr_copy(char *strs, size_t *used, const char *s, bool lower)
{
	uint32_t off = (uint32_t)*used;
	size_t n = strlen(s);

	for (size_t i = 0; i < n; i++)
		strs[off + i] = lower ? sip_tolower(s[i]) : s[i];
	strs[off + n] = '\0';
	*used += n + 1;
	return off;
}

/* The table of rows; *skipped counts those left out. NULL: out of memory. */
static struct sr_table *sr_build(const struct store_route *rows, unsigned n, unsigned *skipped)
{
	struct sr_table *t = calloc(1, sizeof(*t));
	struct sr_row *v = calloc(n ? n : 1, sizeof(*v));
	size_t bytes = 1, used = 0, slots = SR_MIN_SLOTS;
	unsigned nv = 0, dropped = 0;

	*skipped = 0;
	for (unsigned i = 0; i < n; i++)
		bytes += strlen(rows[i].match) + strlen(rows[i].next_hop) + 2;
	if (!t || !v || !(t->strs = malloc(bytes)))
		goto fail;
	for (unsigned i = 0; i < n; i++) {
		int kind = sr_kind_parse(rows[i].kind);
		const char *why = sr_row_problem(&rows[i], kind);

		if (why) {
			if (++*skipped <= SR_LOG_SKIPPED)
				log_warn("event=route_skipped id=%lld reason=\"%s\"",
					 (long long)rows[i].id, why);
			continue;
		}
		v[nv] = (struct sr_row){.kind = (uint8_t)kind,
					.matchlen = (uint16_t)strlen(rows[i].match),
					.priority = rows[i].priority,
					.weight = rows[i].weight,
					.id = rows[i].id};
		v[nv].match = sr_copy(t->strs, &used, rows[i].match, kind != SR_PREFIX);
		v[nv].hop = sr_copy(t->strs, &used, rows[i].next_hop, false);
		nv++;
	}
	for (unsigned i = 0; i < nv; i++)
		v[i].strs = t->strs;
	qsort(v, nv, sizeof(*v), sr_row_cmp);
	t->g = calloc(nv ? nv : 1, sizeof(*t->g));
	t->h = calloc(nv ? nv : 1, sizeof(*t->h));
	if (!t->g || !t->h)
		goto fail;
	for (unsigned i = 0; i < nv; i++) {
		struct sr_group *g = t->ng ? &t->g[t->ng - 1] : NULL;

		if (!g || g->kind != v[i].kind || g->keylen != v[i].matchlen ||
		    strcmp(t->strs + g->key, t->strs + v[i].match) != 0) {
			g = &t->g[t->ng++];
			*g = (struct sr_group){.key = v[i].match,
					       .keylen = v[i].matchlen,
					       .kind = v[i].kind,
					       .first = t->rows};
			if (g->kind == SR_PREFIX)
				t->prefix_lens |= (uint16_t)(1u << g->keylen);
		}
		if (g->n == STATROUTE_GROUP_MAX) {
			dropped++;
			continue;
		}
		t->h[t->rows++] = (struct sr_hop){
			.uri = v[i].hop, .priority = v[i].priority, .weight = v[i].weight};
		g->n++;
	}
	if (dropped)
		log_warn("event=route_hops_dropped count=%u detail=\"more than %d hops for one "
			 "match: those of the highest priorities are left out\"",
			 dropped, STATROUTE_GROUP_MAX);
	while (slots < 2 * (size_t)t->ng)
		slots *= 2;
	t->slot = calloc(slots, sizeof(*t->slot));
	if (!t->slot)
		goto fail;
	t->mask = (uint32_t)(slots - 1);
	for (unsigned i = 0; i < t->ng; i++)
		sr_insert(t, i);
	*skipped += dropped;
	free(v);
	return t;
fail:
	free(v);
	sr_table_free(t);
	return NULL;
}

void statroute_replace(const struct store_route *rows, unsigned n)
{
	uint64_t t0 = clock_now_ms();
	unsigned skipped;
	struct sr_table *t = sr_build(rows, n, &skipped), *old;

	if (!t) {
		log_error("event=routes_load_failed error=\"out of memory\" rows=%u", n);
		return;
	}
	pthread_rwlock_wrlock(&sr_lock);
	old = sr_cur;
	sr_cur = t;
	pthread_rwlock_unlock(&sr_lock);
	atomic_store(&sr_nrows, t->rows);
	sr_table_free(old);
	log_info("event=routes_loaded rows=%u matches=%u skipped=%u ms=%llu", t->rows, t->ng,
		 skipped, (unsigned long long)(clock_now_ms() - t0));
}

void statroute_free(void)
{
	struct sr_table *old;

	pthread_rwlock_wrlock(&sr_lock);
	old = sr_cur;
	sr_cur = NULL;
	pthread_rwlock_unlock(&sr_lock);
	atomic_store(&sr_nrows, 0);
	sr_table_free(old);
}

unsigned statroute_count(void)
{
	return atomic_load_explicit(&sr_nrows, memory_order_relaxed);
}

/* ---- lookups ------------------------------------------------------------- */

static const struct sr_group *sr_lookup(const struct sr_table *t, uint8_t kind, const char *key,
					size_t len)
{
	uint32_t i = (uint32_t)sr_hash(kind, key, len) & t->mask, s;

	while ((s = t->slot[i])) {
		const struct sr_group *g = &t->g[s - 1];

		if (g->kind == kind && g->keylen == len && memcmp(t->strs + g->key, key, len) == 0)
			return g;
		i = (i + 1) & t->mask;
	}
	return NULL;
}

/* The hops of g into out, in RFC 2782's order (base/weighted.h): at
 * most STATROUTE_MAX_HOPS of its STATROUTE_GROUP_MAX. */
static void sr_order(const struct sr_table *t, const struct sr_group *g, struct statroute_hops *out)
{
	const struct sr_hop *h = t->h + g->first;
	uint32_t prio[STATROUTE_GROUP_MAX], weight[STATROUTE_GROUP_MAX];
	unsigned order[STATROUTE_GROUP_MAX],
		n = g->n < STATROUTE_GROUP_MAX ? g->n : STATROUTE_GROUP_MAX;

	for (unsigned i = 0; i < n; i++) {
		prio[i] = h[i].priority;
		weight[i] = h[i].weight;
	}
	weighted_order(prio, weight, n, order);
	for (out->n = 0; out->n < n && out->n < STATROUTE_MAX_HOPS; out->n++)
		strcpy(out->uri[out->n], t->strs + h[order[out->n]].uri);
}

/* domain in lowercase into buf (SR_DOMAIN_MAX + 1); false when too long. */
static bool sr_domain_key(struct sip_str domain, char *buf)
{
	if (domain.len == 0 || domain.len > SR_DOMAIN_MAX)
		return false;
	for (size_t i = 0; i < domain.len; i++)
		buf[i] = sip_tolower(domain.p[i]);
	return true;
}

bool statroute_find(const char *number, struct sip_str domain, struct statroute_hops *out)
{
	const struct sr_group *g = NULL;
	char key[SR_DOMAIN_MAX + 1];
	size_t len = number ? strnlen(number, E164_MAX_DIGITS + 1) : 0;
	const struct sr_table *t;

	out->n = 0;
	pthread_rwlock_rdlock(&sr_lock);
	t = sr_cur;
	if (t && len <= E164_MAX_DIGITS) {
		for (size_t l = len; l > 0 && !g; l--) {
			if (t->prefix_lens & (1u << l))
				g = sr_lookup(t, SR_PREFIX, number, l);
		}
	}
	if (t && !g && sr_domain_key(domain, key))
		g = sr_lookup(t, SR_DOMAIN, key, domain.len);
	if (g)
		sr_order(t, g, out);
	pthread_rwlock_unlock(&sr_lock);
	return g != NULL;
}

bool statroute_outbound(struct sip_str domain, struct statroute_hops *out)
{
	const struct sr_group *g = NULL;
	char key[SR_DOMAIN_MAX + 1];

	out->n = 0;
	pthread_rwlock_rdlock(&sr_lock);
	if (sr_cur && sr_domain_key(domain, key)) {
		g = sr_lookup(sr_cur, SR_OUTBOUND, key, domain.len);
		if (g)
			sr_order(sr_cur, g, out);
	}
	pthread_rwlock_unlock(&sr_lock);
	return g != NULL;
}
