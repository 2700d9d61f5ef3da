/*
 * timer: see timer.h. A binary heap of (expiry, timer) slots; each timer remembers its
 * slot so that stopping one is a sift from the middle, not a search.
 */
#include "runtime/timer.h"

#include <errno.h>
#include <stdlib.h>

void timer_heap_init(struct timer_heap *th)
{
	th->h = NULL;
	th->n = th->cap = 0;
}

void timer_heap_destroy(struct timer_heap *th)
{
	for (size_t i = 0; i < th->n; i++)
		th->h[i].t->idx = 0;
	free(th->h);
	timer_heap_init(th);
}

static void place(struct timer_heap *th, size_t i, struct timer_slot s)
{
	th->h[i] = s;
	s.t->idx = (uint32_t)i + 1;
}

static void sift_up(struct timer_heap *th, size_t i)
{
	struct timer_slot s = th->h[i];

	while (i > 0) {
		size_t parent = (i - 1) / 2;
		if (th->h[parent].expires_ms <= s.expires_ms)
			break;
		place(th, i, th->h[parent]);
		i = parent;
	}
	place(th, i, s);
}

static void sift_down(struct timer_heap *th, size_t i)
{
	struct timer_slot s = th->h[i];

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= th->n)
			break;
		if (c + 1 < th->n && th->h[c + 1].expires_ms < th->h[c].expires_ms)
			c++;
		if (th->h[c].expires_ms >= s.expires_ms)
			break;
		place(th, i, th->h[c]);
		i = c;
	}
	place(th, i, s);
}

void timer_stop(struct timer_heap *th, struct timer *t)
{
	size_t i;
	struct timer_slot last;

	if (!t->idx)
		return;
	i = t->idx - 1;
	t->idx = 0;
	last = th->h[--th->n];
	if (i == th->n)
		return;
	place(th, i, last);
	if (i > 0 && th->h[(i - 1) / 2].expires_ms > last.expires_ms)
		sift_up(th, i);
	else
		sift_down(th, i);
}

int timer_start(struct timer_heap *th, struct timer *t, uint64_t expires_ms, timer_fn fn, void *arg)
{
	timer_stop(th, t);
	if (th->n == th->cap) {
		size_t cap = th->cap ? th->cap * 2 : 256;
		struct timer_slot *h = realloc(th->h, cap * sizeof(*h));

		if (!h)
			return -ENOMEM;
		th->h = h;
		th->cap = cap;
	}
	t->expires_ms = expires_ms;
	t->fn = fn;
	t->arg = arg;
	place(th, th->n++, (struct timer_slot){.expires_ms = expires_ms, .t = t});
	sift_up(th, th->n - 1);
	return 0;
}

unsigned timer_run(struct timer_heap *th, uint64_t now_ms)
{
	unsigned fired = 0;

	while (th->n && th->h[0].expires_ms <= now_ms) {
		struct timer *t = th->h[0].t;

		timer_stop(th, t);
		t->fn(t, t->arg, now_ms);
		fired++;
	}
	return fired;
}

int timer_next_ms(const struct timer_heap *th, uint64_t now_ms)
{
	uint64_t d;

	if (!th->n)
		return -1;
	if (th->h[0].expires_ms <= now_ms)
		return 0;
	d = th->h[0].expires_ms - now_ms;
	return d > 3600000 ? 3600000 : (int)d;
}
