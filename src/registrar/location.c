/*
 * location: see location.h. A lookup is one read (junction_lookup(), which
 * also says whether the user exists), sent in the worker's next batch.
 * Its answer is cached in a flat form: a header (known, count, the
 * earliest expiry of the targets, wall clock seconds) and the targets'
 * q and strings; an entry whose earliest binding has expired is a miss, so
 * an expired binding is never used. Answers with no target (404, 480)
 * are not cached: PostgreSQL tells the nodes of a change only for AORs
 * that had a binding (sql/011), which is what lets a registration storm's
 * INSERTs go without a notification each.
 */
#include "registrar/location.h"
#include "runtime/counters.h"
#include "store/store.h"

#include "base/clock.h"
#include "base/ttlcache.h"
#include "config/config.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOCATION_KEY_MAX 512
#define LOCATION_EPOCHS  256

static struct ttlcache *cache;
/* Bumped when an AOR hashing here is forgotten. A lookup caches its answer
 * only if its AOR's epoch did not move while it was in flight: an answer
 * read before a change but arriving after the change was announced would
 * otherwise be cached stale. */
static _Atomic uint32_t epochs[LOCATION_EPOCHS];

struct flat_head {
	uint8_t known;
	uint8_t n;
	int64_t min_expires; /* wall clock seconds; INT64_MAX with no target */
};

struct flat_target {
	int32_t q;
	uint16_t contact_len, path_len, received_len;
};

int location_init(unsigned max_entries, uint64_t ttl_ms)
{
	if (!ttl_ms)
		return 0;
	cache = ttlcache_new(max_entries, ttl_ms);
	return cache ? 0 : -ENOMEM;
}

void location_destroy(void)
{
	ttlcache_free(cache);
	cache = NULL;
}

/* The cache key of user@domain; 0 when too long. */
static size_t make_key(struct sip_str user, struct sip_str domain, char *key)
{
	return sip_user_at_domain(user, domain, key, LOCATION_KEY_MAX);
}

static _Atomic uint32_t *epoch_of(const char *key, size_t klen)
{
	uint32_t h = 2166136261u; /* FNV-1a: spreads keys, no secret needed */

	for (size_t i = 0; i < klen; i++)
		h = (h ^ (uint8_t)key[i]) * 16777619u;
	return &epochs[h % LOCATION_EPOCHS];
}

void location_forget(struct sip_str user, struct sip_str domain)
{
	char key[LOCATION_KEY_MAX];
	size_t klen;

	if (!cache)
		return;
	klen = make_key(user, domain, key);
	if (!klen)
		return;
	atomic_fetch_add(epoch_of(key, klen), 1);
	ttlcache_del(cache, key, klen);
}

void location_invalidate(struct sip_str aor)
{
	ptrdiff_t at = -1;

	if (sip_str_caseprefix(aor, "sip:")) {
		aor.p += 4;
		aor.len -= 4;
	}
	for (size_t i = 0; i < aor.len; i++)
		if (aor.p[i] == '@')
			at = (ptrdiff_t)i;
	if (at >= 0)
		location_forget(sip_str_make(aor.p, (size_t)at),
				sip_str_make(aor.p + at + 1, aor.len - (size_t)at - 1));
}

void location_clear(void)
{
	if (!cache)
		return;
	for (unsigned i = 0; i < LOCATION_EPOCHS; i++)
		atomic_fetch_add(&epochs[i], 1);
	ttlcache_clear(cache);
}

/* The cached answer for key into *r, its strings in buf (LOCATION_BUF
 * bytes). Returns 0, or -ENOENT when not cached or stale. */
static int cache_get(const char *key, size_t klen, struct location_result *r, char *buf)
{
	struct flat_head h;
	ssize_t n;
	size_t off;

	n = ttlcache_get(cache, key, klen, clock_now_ms(), buf, LOCATION_BUF);
	if (n < (ssize_t)sizeof(h))
		return -ENOENT;
	memcpy(&h, buf, sizeof(h));
	if (h.min_expires <= (int64_t)clock_wall_s())
		return -ENOENT; /* a binding expired (or was refreshed): ask again */
	r->known = h.known;
	r->n = h.n;
	off = sizeof(h);
	for (unsigned i = 0; i < h.n; i++) {
		struct flat_target ft;

		memcpy(&ft, buf + off, sizeof(ft));
		off += sizeof(ft);
		r->t[i].q = ft.q;
		r->t[i].contact = sip_str_make(buf + off, ft.contact_len);
		off += ft.contact_len;
		r->t[i].path = sip_str_make(buf + off, ft.path_len);
		off += ft.path_len;
		r->t[i].received = sip_str_make(buf + off, ft.received_len);
		off += ft.received_len;
	}
	return 0;
}

/* Stores an answer; nothing when it does not fit. */
static void cache_put(const char *key, size_t klen, const struct location_result *r,
		      const int64_t *expires)
{
	char buf[LOCATION_BUF];
	struct flat_head h = {.known = r->known, .n = (uint8_t)r->n, .min_expires = INT64_MAX};
	size_t off = sizeof(h);

	for (unsigned i = 0; i < r->n; i++) {
		const struct location_target *t = &r->t[i];
		struct flat_target ft = {.q = t->q,
					 .contact_len = (uint16_t)t->contact.len,
					 .path_len = (uint16_t)t->path.len,
					 .received_len = (uint16_t)t->received.len};

		if (off + sizeof(ft) + t->contact.len + t->path.len + t->received.len >
			    sizeof(buf) ||
		    t->contact.len > UINT16_MAX || t->path.len > UINT16_MAX)
			return;
		memcpy(buf + off, &ft, sizeof(ft));
		off += sizeof(ft);
		memcpy(buf + off, t->contact.p, t->contact.len);
		off += t->contact.len;
		if (t->path.len)
			memcpy(buf + off, t->path.p, t->path.len);
		off += t->path.len;
		if (t->received.len)
			memcpy(buf + off, t->received.p, t->received.len);
		off += t->received.len;
		if (expires[i] < h.min_expires)
			h.min_expires = expires[i];
	}
	memcpy(buf, &h, sizeof(h));
	ttlcache_put(cache, key, klen, buf, off, clock_now_ms());
}

struct lookup {
	struct worker *w;
	location_fn fn;
	void *arg;
	uint32_t epoch; /* of the key when sent */
	size_t klen;
	char key[LOCATION_KEY_MAX];
};

static int32_t q_thousandths(struct sip_str q)
{
	int32_t v;

	/* numeric(4,3) text: "1.000", "0.500" */
	return sip_qvalue_parse(q, &v) == 0 ? v : 1000;
}

static void looked_up(void *arg, int err, const struct store_result *r)
{
	struct lookup *l = arg;
	struct location_result res = {.known = false, .n = 0};
	int64_t expires[LOCATION_MAX];

	if (err == 0) {
		for (unsigned i = 0; i < store_result_rows(r); i++) {
			struct sip_str known = store_result_get(r, i, 0);

			res.known = known.len && known.p[0] == 't';
			if (store_result_null(r, i, 1) || res.n == LOCATION_MAX)
				continue;
			res.t[res.n].contact = store_result_get(r, i, 1);
			res.t[res.n].q = q_thousandths(store_result_get(r, i, 2));
			res.t[res.n].path = store_result_get(r, i, 3);
			res.t[res.n].received = store_result_get(r, i, 4);
			expires[res.n] = strtoll(store_result_get(r, i, 5).p, NULL, 10);
			res.n++;
		}
		/* Only an AOR that has a binding is cached: the binding that
		 * gives an AOR its first tells no node (sql/011), so a cached
		 * "nowhere" would stay wrong until its TTL. */
		if (cache && l->klen && res.n && atomic_load(epoch_of(l->key, l->klen)) == l->epoch)
			cache_put(l->key, l->klen, &res, expires);
	}
	l->fn(l->w, l->arg, err, err ? NULL : &res);
	free(l);
}

int location_lookup(struct worker *w, struct sip_str user, struct sip_str domain, location_fn fn,
		    void *arg)
{
	char aor[LOCATION_KEY_MAX + 8], dom[CFG_NAME_MAX];
	struct store_op *op;
	struct lookup *l;
	int err = -ENOTCONN;
	int n;

	if (!worker_store(w))
		return -ENOTCONN;
	if (domain.len >= sizeof(dom))
		return -EINVAL;
	for (size_t i = 0; i < domain.len; i++)
		dom[i] = sip_tolower(domain.p[i]);
	n = snprintf(aor, sizeof(aor), "sip:%.*s@%.*s", SIP_STR_FMT(user), (int)domain.len, dom);
	if (n < 0 || (size_t)n >= sizeof(aor))
		return -EINVAL;
	l = malloc(sizeof(*l));
	if (!l)
		return -ENOMEM;
	ctr_inc(worker_counters(w), CTR_LOCATION_LOOKUPS);
	l->klen = make_key(user, domain, l->key);
	if (cache && l->klen) {
		char buf[LOCATION_BUF];
		struct location_result res;

		if (cache_get(l->key, l->klen, &res, buf) == 0) {
			free(l);
			ctr_inc(worker_counters(w), CTR_LOCATION_CACHE_HITS);
			fn(w, arg, 0, &res);
			return 0;
		}
	}
	l->w = w;
	l->fn = fn;
	l->arg = arg;
	l->epoch = l->klen ? atomic_load(epoch_of(l->key, l->klen)) : 0;
	op = store_op_begin(worker_store(w), STORE_LOOKUP, false, 0, looked_up, l, &err);
	if (!op) {
		free(l);
		return err;
	}
	store_op_param(op, aor, (size_t)n);
	store_op_param_str(op, user);
	store_op_param(op, dom, domain.len);
	return 0;
}

unsigned location_miss_status(const struct location_result *r, bool trusted)
{
	return r->known && trusted ? 480 : 404;
}
