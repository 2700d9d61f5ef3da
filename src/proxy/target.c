/*
 * target: target sets (see target.h). The location service's answer lives
 * only as long as its database round trip, and a proxy may try its later
 * q groups many seconds after (sequential forking, §16.6), so the URIs and
 * Paths are copied into one block owned by the set, ordered best q first;
 * contacts we cannot route to (not sip: or sips:) are left out here, once.
 */
#include "proxy/target.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void target_set_self(struct target_set *ts)
{
	memset(ts, 0, sizeof(*ts));
	ts->n = 1;
	ts->t[0].q = 1000;
}

int target_set_hop(struct target_set *ts, const char *hop)
{
	target_set_self(ts);
	ts->mem = strdup(hop);
	if (!ts->mem)
		return -ENOMEM;
	ts->t[0].hop = ts->mem;
	return 0;
}

int target_set_route(struct target_set *ts, const char *uri, const char *hops)
{
	size_t ul = uri ? strlen(uri) + 1 : 0, hl = hops ? strlen(hops) + 1 : 0;

	target_set_self(ts);
	ts->mem = malloc(ul + hl + 1);
	if (!ts->mem)
		return -ENOMEM;
	if (uri) {
		memcpy(ts->mem, uri, ul);
		ts->t[0].uri = ts->mem;
	}
	if (hops) {
		memcpy(ts->mem + ul, hops, hl);
		ts->t[0].hop = ts->mem + ul;
	}
	return 0;
}

int target_hop(const struct target *t, unsigned i, char *buf, size_t cap)
{
	const char *p = t->hop;

	for (;;) {
		size_t len;

		while (p && *p == ' ')
			p++;
		if (!p || !*p)
			return -ENOENT;
		len = strcspn(p, " ");
		if (i-- == 0) {
			if (!buf)
				return 0;
			if (len >= cap)
				return -ENOSPC;
			memcpy(buf, p, len);
			buf[len] = '\0';
			return 0;
		}
		p += len;
	}
}

static bool routable(struct sip_str uri)
{
	return sip_str_caseprefix(uri, "sip:") || sip_str_caseprefix(uri, "sips:");
}

int target_set_from_location(struct target_set *ts, const struct location_result *r)
{
	size_t need = 0, off = 0;

	memset(ts, 0, sizeof(*ts));
	for (unsigned i = 0; i < r->n; i++)
		need += r->t[i].contact.len + r->t[i].path.len + 2;
	ts->mem = malloc(need ? need : 1);
	if (!ts->mem)
		return -ENOMEM;
	/* The database sorted by q already (junction_lookup). */
	for (unsigned i = 0; i < r->n; i++) {
		const struct location_target *lt = &r->t[i];
		struct target *t = &ts->t[ts->n];

		if (!routable(lt->contact))
			continue; /* tel:, mailto: ... a redirect server could use them */
		t->uri = ts->mem + off;
		memcpy(t->uri, lt->contact.p, lt->contact.len);
		t->uri[lt->contact.len] = '\0';
		off += lt->contact.len + 1;
		if (lt->path.len) {
			t->path = ts->mem + off;
			memcpy(t->path, lt->path.p, lt->path.len);
			t->path[lt->path.len] = '\0';
			off += lt->path.len + 1;
		}
		t->q = lt->q;
		ts->n++;
	}
	return 0;
}

void target_set_free(struct target_set *ts)
{
	free(ts->mem);
	ts->mem = NULL;
	ts->n = 0;
}

unsigned target_group_end(const struct target_set *ts, unsigned i)
{
	unsigned j = i;

	while (j < ts->n && ts->t[j].q == ts->t[i].q)
		j++;
	return j;
}
