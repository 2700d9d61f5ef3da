/*
 * scsession: see scsession.h. One open-addressing table per worker
 * (linear probing, deletion by backward shift, so no tombstones), grown
 * at half full.
 */
#include "proxy/scsession.h"

#include "base/siphash.h"
#include "proxy/scpool.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define SCSESSION_MIN_CAP  64
#define SCSESSION_SWEEP_MS 60000

struct entry {
	uint64_t key; /* 0: empty */
	uint64_t expires_ms;
	uint32_t sc_id;
};

struct table {
	struct entry *e;
	size_t cap, n; /* cap a power of two, or 0 */
	uint64_t next_sweep_ms;
};

static struct table *tables;
static unsigned ntables;

int scsession_init(unsigned nworkers)
{
	tables = calloc(nworkers ? nworkers : 1, sizeof(*tables));
	if (!tables)
		return -ENOMEM;
	ntables = nworkers;
	return 0;
}

void scsession_fini(void)
{
	for (unsigned i = 0; i < ntables; i++) {
		for (size_t k = 0; k < tables[i].cap; k++)
			if (tables[i].e[k].key)
				scpool_hold(tables[i].e[k].sc_id, -1);
		free(tables[i].e);
	}
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
	size_t cap = t->cap ? t->cap * 2 : SCSESSION_MIN_CAP;
	struct entry *old = t->e, *e = calloc(cap, sizeof(*e));
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

void scsession_start(unsigned worker, struct sip_str call_id, uint32_t sc_id, uint64_t now_ms)
{
	struct table *t = table_of(worker);
	uint64_t key = key_of(call_id);
	size_t i;

	if (!t || ((t->n + 1) * 2 > t->cap && !grow(t)))
		return; /* out of memory: the session goes uncounted */
	i = slot_of(t, key);
	if (t->e[i].key)
		return; /* counted already (a second 2xx of a fork) */
	t->e[i] = (struct entry){
		.key = key, .expires_ms = now_ms + SCSESSION_MAX_AGE_MS, .sc_id = sc_id};
	t->n++;
	scpool_hold(sc_id, 1);
}

void scsession_end(unsigned worker, struct sip_str call_id)
{
	struct table *t = table_of(worker);
	size_t i;

	if (!t || !t->n)
		return;
	i = slot_of(t, key_of(call_id));
	if (!t->e[i].key)
		return;
	scpool_hold(t->e[i].sc_id, -1);
	remove_at(t, i);
}

void scsession_sweep(unsigned worker, uint64_t now_ms)
{
	struct table *t = table_of(worker);

	if (!t || now_ms < t->next_sweep_ms)
		return;
	t->next_sweep_ms = now_ms + SCSESSION_SWEEP_MS;
	for (size_t i = 0; i < t->cap;) {
		if (t->e[i].key && t->e[i].expires_ms <= now_ms) {
			scpool_hold(t->e[i].sc_id, -1);
			remove_at(t, i); /* another entry may have moved into i */
		} else {
			i++;
		}
	}
}

unsigned scsession_count(unsigned worker)
{
	struct table *t = table_of(worker);

	return t ? (unsigned)t->n : 0;
}
