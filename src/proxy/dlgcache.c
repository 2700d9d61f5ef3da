/*
 * dlgcache: see dlgcache.h. One open-addressing table per worker (linear
 * probing, deletion by backward shift, so no tombstones), grown at half
 * full up to its share of [sessions] cache_size.
 */
#include "proxy/dlgcache.h"

#include "base/siphash.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define DLGCACHE_MIN_CAP 64

struct table {
	struct dlgcache_entry *e;
	size_t cap, n; /* cap a power of two, or 0 */
	size_t max;    /* entries at most */
	uint64_t next_sweep_ms;
};

static struct table *tables;
static unsigned ntables;

int dlgcache_init(unsigned nworkers, unsigned cap)
{
	tables = calloc(nworkers ? nworkers : 1, sizeof(*tables));
	if (!tables)
		return -ENOMEM;
	ntables = nworkers;
	for (unsigned i = 0; i < ntables; i++)
		tables[i].max = cap / (nworkers ? nworkers : 1);
	return 0;
}

void dlgcache_fini(void)
{
	for (unsigned i = 0; i < ntables; i++)
		free(tables[i].e);
	free(tables);
	tables = NULL;
	ntables = 0;
}

static uint64_t key_of(struct sip_str call_id)
{
	uint64_t k = siphash(siphash_process_key(), call_id.p, call_id.len);

	return k ? k : 1;
}

static struct table *table_of(unsigned worker)
{
	return worker < ntables ? &tables[worker] : NULL;
}

/* The slot of key, or the empty slot where it would go. */
static size_t slot_of(const struct table *t, uint64_t key)
{
	size_t i = (size_t)key & (t->cap - 1);

	while (t->e[i].key && t->e[i].key != key)
		i = (i + 1) & (t->cap - 1);
	return i;
}

static bool grow(struct table *t)
{
	size_t cap = t->cap ? t->cap * 2 : DLGCACHE_MIN_CAP;
	struct dlgcache_entry *old = t->e, *e = calloc(cap, sizeof(*e));
	size_t oldcap = t->cap;

	if (!e)
		return false;
	t->e = e;
	t->cap = cap;
	for (size_t k = 0; k < oldcap; k++)
		if (old[k].key)
			t->e[slot_of(t, old[k].key)] = old[k];
	free(old);
	return true;
}

/* Empties slot i, shifting back the entries of its probe run. */
static void remove_at(struct table *t, size_t i)
{
	size_t j = i;

	t->n--;
	for (;;) {
		size_t home;

		t->e[i].key = 0;
		do {
			j = (j + 1) & (t->cap - 1);
			if (!t->e[j].key)
				return;
			home = (size_t)t->e[j].key & (t->cap - 1);
			/* stays if its home lies cyclically in (i, j] */
		} while (i <= j ? (i < home && home <= j) : (i < home || home <= j));
		t->e[i] = t->e[j];
		i = j;
	}
}

struct dlgcache_entry *dlgcache_find(unsigned worker, struct sip_str call_id)
{
	struct table *t = table_of(worker);
	size_t i;

	if (!t || !t->n)
		return NULL;
	i = slot_of(t, key_of(call_id));
	return t->e[i].key ? &t->e[i] : NULL;
}

struct dlgcache_entry *dlgcache_put(unsigned worker, struct sip_str call_id, bool force)
{
	struct table *t = table_of(worker);
	uint64_t key = key_of(call_id);
	size_t i;

	if (!t)
		return NULL;
	if (t->cap) {
		i = slot_of(t, key);
		if (t->e[i].key)
			return &t->e[i];
	}
	if ((t->n >= t->max && !force) || ((t->n + 1) * 2 > t->cap && !grow(t)))
		return NULL;
	i = slot_of(t, key);
	t->e[i] = (struct dlgcache_entry){.key = key};
	t->n++;
	return &t->e[i];
}

void dlgcache_sweep(unsigned worker, uint64_t now_ms)
{
	struct table *t = table_of(worker);

	if (!t || now_ms < t->next_sweep_ms)
		return;
	t->next_sweep_ms = now_ms + DLGCACHE_SWEEP_MS;
	for (size_t i = 0; i < t->cap;) {
		if (t->e[i].key && t->e[i].expires_ms <= now_ms)
			remove_at(t, i); /* another entry may have moved into i */
		else
			i++;
	}
}

unsigned dlgcache_count(unsigned worker)
{
	struct table *t = table_of(worker);

	return t ? (unsigned)t->n : 0;
}
