/*
 * callfwd: see callfwd.h. The table is one string block holding every
 * "user@domain" key and its target, an array of entries, and an
 * open-addressing hash table of entry indexes at most half full, keyed
 * with SipHash and the process key (the AORs looked up come from the
 * network). A lookup builds the key on the stack
 * (sip_user_at_domain()), so nothing is allocated per request.
 */
#include "proxy/callfwd.h"

#include "base/clock.h"
#include "base/log.h"
#include "base/siphash.h"
#include "sip/sip_uri.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define CF_AOR_MAX     320 /* the table's CHECK */
#define CF_LOG_SKIPPED 10
#define CF_MIN_SLOTS   16

struct cf_entry {
	uint32_t key, target; /* offsets in strs */
	uint16_t keylen, targetlen;
};

struct cf_table {
	unsigned n;
	struct cf_entry *e;
	char *strs;
	uint32_t *slot; /* entry index + 1; 0: empty */
	uint32_t mask;
};

static pthread_rwlock_t cf_lock = PTHREAD_RWLOCK_INITIALIZER;
static struct cf_table *cf_cur;
static _Atomic unsigned cf_n;

static uint64_t cf_hash(const char *key, size_t len)
{
	return siphash(siphash_process_key(), key, len);
}

static void cf_table_free(struct cf_table *t)
{
	if (!t)
		return;
	free(t->e);
	free(t->strs);
	free(t->slot);
	free(t);
}

/* NULL when row r may be loaded, else why not. */
static const char *cf_row_problem(const struct store_forward *r)
{
	size_t al = strlen(r->aor), tl = strlen(r->target);
	const char *at = strrchr(r->aor, '@');
	struct sip_uri u;

	if (!at || at == r->aor || !at[1] || al > CF_AOR_MAX)
		return "aor is not user@domain";
	if (tl >= CALLFWD_URI_MAX)
		return "target is too long";
	if (sip_uri_parse((struct sip_str){r->target, tl}, &u) < 0 ||
	    (u.scheme != SIP_URI_SIP && u.scheme != SIP_URI_SIPS))
		return "target is not a sip: or sips: URI";
	return NULL;
}

static struct cf_table *cf_build(const struct store_forward *rows, unsigned n, unsigned *skipped)
{
	struct cf_table *t = calloc(1, sizeof(*t));
	size_t bytes = 1, used = 0, slots = CF_MIN_SLOTS;

	*skipped = 0;
	for (unsigned i = 0; i < n; i++)
		bytes += strlen(rows[i].aor) + strlen(rows[i].target) + 2;
	if (!t || !(t->strs = malloc(bytes)) || !(t->e = calloc(n ? n : 1, sizeof(*t->e))))
		goto fail;
	while (slots < 2 * (size_t)n)
		slots *= 2;
	t->slot = calloc(slots, sizeof(*t->slot));
	if (!t->slot)
		goto fail;
	t->mask = (uint32_t)(slots - 1);
	for (unsigned i = 0; i < n; i++) {
		const char *why = cf_row_problem(&rows[i]);
		struct cf_entry *e = &t->e[t->n];
		char *key = t->strs + used;
		uint32_t s;

		if (why) {
			if (++*skipped <= CF_LOG_SKIPPED)
				log_warn("event=forward_skipped aor=\"%.200s\" reason=\"%s\"",
					 rows[i].aor, why);
			continue;
		}
		e->keylen = (uint16_t)strlen(rows[i].aor);
		e->targetlen = (uint16_t)strlen(rows[i].target);
		e->key = (uint32_t)used;
		memcpy(key, rows[i].aor, e->keylen + 1u);
		/* the domain in lowercase, as the lookups build their key */
		for (char *d = strrchr(key, '@'); *d; d++)
			*d = sip_tolower(*d);
		used += e->keylen + 1u;
		e->target = (uint32_t)used;
		memcpy(t->strs + used, rows[i].target, e->targetlen + 1u);
		used += e->targetlen + 1u;
		s = (uint32_t)cf_hash(key, e->keylen) & t->mask;
		while (t->slot[s])
			s = (s + 1) & t->mask;
		t->slot[s] = ++t->n;
	}
	return t;
fail:
	cf_table_free(t);
	return NULL;
}

void callfwd_replace(const struct store_forward *rows, unsigned n)
{
	uint64_t t0 = clock_now_ms();
	unsigned skipped;
	struct cf_table *t = cf_build(rows, n, &skipped), *old;

	if (!t) {
		log_error("event=forwards_load_failed error=\"out of memory\" rows=%u", n);
		return;
	}
	pthread_rwlock_wrlock(&cf_lock);
	old = cf_cur;
	cf_cur = t;
	pthread_rwlock_unlock(&cf_lock);
	atomic_store(&cf_n, t->n);
	cf_table_free(old);
	log_info("event=forwards_loaded rows=%u skipped=%u ms=%llu", t->n, skipped,
		 (unsigned long long)(clock_now_ms() - t0));
}

void callfwd_free(void)
{
	struct cf_table *old;

	pthread_rwlock_wrlock(&cf_lock);
	old = cf_cur;
	cf_cur = NULL;
	pthread_rwlock_unlock(&cf_lock);
	atomic_store(&cf_n, 0);
	cf_table_free(old);
}

unsigned callfwd_count(void)
{
	return atomic_load_explicit(&cf_n, memory_order_relaxed);
}

bool callfwd_find(struct sip_str user, struct sip_str domain, char *uri, size_t cap)
{
	char key[CF_AOR_MAX + 1];
	size_t len;
	bool found = false;

	if (!user.len || !domain.len)
		return false;
	len = sip_user_at_domain(user, domain, key, sizeof(key));
	if (!len)
		return false;
	pthread_rwlock_rdlock(&cf_lock);
	if (cf_cur) {
		const struct cf_table *t = cf_cur;
		uint32_t i = (uint32_t)cf_hash(key, len) & t->mask, s;

		while ((s = t->slot[i])) {
			const struct cf_entry *e = &t->e[s - 1];

			if (e->keylen == len && memcmp(t->strs + e->key, key, len) == 0) {
				if (e->targetlen < cap) {
					memcpy(uri, t->strs + e->target, e->targetlen + 1u);
					found = true;
				}
				break;
			}
			i = (i + 1) & t->mask;
		}
	}
	pthread_rwlock_unlock(&cf_lock);
	return found;
}
