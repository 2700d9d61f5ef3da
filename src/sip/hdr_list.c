/*
 * hdr_list: see hdr_list.h. Deletion works per header line on runs of
 * consecutive removed values: a run that reaches the line's last value
 * takes the separator before it (", <c>" goes from the end of the kept
 * value before), any other run takes the separator after it ("<a>, " goes
 * up to the start of the next kept value). Distinct runs are separated by
 * a kept value, so their edits never overlap.
 */
#include "sip/hdr_list.h"

#include <errno.h>

int hdr_list_collect(const struct sip_msg *m, enum sip_hdr_id id, struct hdr_list *l, unsigned max)
{
	const struct sip_hdr *h;

	l->n = 0;
	if (max > HDR_LIST_MAX)
		max = HDR_LIST_MAX;
	for (h = sip_msg_hdr(m, id); h; h = sip_msg_hdr_next(m, h)) {
		struct sip_str cur = h->value, item;

		while (sip_list_next(&cur, &item)) {
			if (l->n == max)
				return -E2BIG;
			l->e[l->n].s = item;
			l->e[l->n].hdr = (uint16_t)(h - m->hdrs);
			l->n++;
		}
	}
	return (int)l->n;
}

static uint32_t off_of(const struct sip_msg *m, const char *p)
{
	return (uint32_t)(p - m->buf);
}

int hdr_list_delete(const struct sip_msg *m, const struct hdr_list *l, uint64_t remove,
		    struct msg_edits *ed)
{
	unsigned i = 0;
	int rc;

	while (i < l->n) {
		/* The values [first, last] of one header line. */
		unsigned first = i, last = i;
		bool any = false, all = true;

		while (last + 1 < l->n && l->e[last + 1].hdr == l->e[first].hdr)
			last++;
		for (unsigned k = first; k <= last; k++) {
			if (remove & (1ULL << k))
				any = true;
			else
				all = false;
		}
		i = last + 1;
		if (!any)
			continue;
		if (all) {
			const struct sip_hdr *h = &m->hdrs[l->e[first].hdr];
			rc = msg_edit_delete(ed, h->start, h->end - h->start);
			if (rc < 0)
				return rc;
			continue;
		}
		for (unsigned k = first; k <= last; k++) {
			unsigned run_end = k;
			uint32_t from, to;

			if (!(remove & (1ULL << k)))
				continue;
			while (run_end + 1 <= last && (remove & (1ULL << (run_end + 1))))
				run_end++;
			if (run_end == last) {
				/* k > first here, since not all are removed */
				from = off_of(m, l->e[k - 1].s.p + l->e[k - 1].s.len);
				to = off_of(m, l->e[run_end].s.p + l->e[run_end].s.len);
			} else {
				from = off_of(m, l->e[k].s.p);
				to = off_of(m, l->e[run_end + 1].s.p);
			}
			rc = msg_edit_delete(ed, from, to - from);
			if (rc < 0)
				return rc;
			k = run_end;
		}
	}
	return 0;
}
