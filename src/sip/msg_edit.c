/*
 * msg_edit: see msg_edit.h. The list is small (a relayed request carries
 * a handful of edits), so it is sorted by insertion sort at apply time and
 * the text of every insert lives in one fixed buffer inside the list: no
 * allocation on the relay path.
 */
#include "sip/msg_edit.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

void msg_edits_init(struct msg_edits *ed)
{
	ed->n = 0;
	ed->text_used = 0;
}

int msg_edit_add(struct msg_edits *ed, uint32_t off, uint32_t del, const char *text, size_t len)
{
	struct msg_edit *e;

	if (ed->n == MSG_EDIT_MAX || len > MSG_EDIT_TEXT_MAX - ed->text_used)
		return -ENOSPC;
	e = &ed->e[ed->n];
	e->off = off;
	e->del = del;
	e->text_off = ed->text_used;
	e->text_len = (uint32_t)len;
	e->seq = (uint16_t)ed->n;
	if (len)
		memcpy(ed->text + ed->text_used, text, len);
	ed->text_used += (uint32_t)len;
	ed->n++;
	return 0;
}

/* The len bytes of text just written at the end of the buffer become an
 * insert at off (the caller checked there is an edit slot left). */
static void record_insert(struct msg_edits *ed, uint32_t off, size_t len)
{
	ed->e[ed->n] = (struct msg_edit){.off = off,
					 .del = 0,
					 .text_off = ed->text_used,
					 .text_len = (uint32_t)len,
					 .seq = (uint16_t)ed->n};
	ed->text_used += (uint32_t)len;
	ed->n++;
}

int msg_edit_insert_parts(struct msg_edits *ed, uint32_t off, const struct sip_str *parts,
			  unsigned n)
{
	size_t len = 0;

	if (ed->n == MSG_EDIT_MAX)
		return -ENOSPC;
	for (unsigned i = 0; i < n; i++) {
		if (parts[i].len > MSG_EDIT_TEXT_MAX - ed->text_used - len)
			return -ENOSPC;
		if (parts[i].len)
			memcpy(ed->text + ed->text_used + len, parts[i].p, parts[i].len);
		len += parts[i].len;
	}
	record_insert(ed, off, len);
	return 0;
}

int msg_edit_insertf(struct msg_edits *ed, uint32_t off, const char *fmt, ...)
{
	size_t room = MSG_EDIT_TEXT_MAX - ed->text_used;
	va_list ap;
	int n;

	if (ed->n == MSG_EDIT_MAX)
		return -ENOSPC;
	va_start(ap, fmt);
	n = vsnprintf(ed->text + ed->text_used, room, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= room)
		return -ENOSPC;
	record_insert(ed, off, (size_t)n);
	return 0;
}

ssize_t msg_edits_delta(const struct msg_edits *ed)
{
	ssize_t d = 0;

	for (unsigned i = 0; i < ed->n; i++)
		d += (ssize_t)ed->e[i].text_len - (ssize_t)ed->e[i].del;
	return d;
}

/* Offset order; at one offset, inserts before a deletion starting there
 * (whatever order they were recorded in: "put a Record-Route at the top"
 * and "delete the first header" must both work), and otherwise record
 * order. */
static int edit_before(const struct msg_edit *a, const struct msg_edit *b)
{
	bool a_ins = a->del == 0, b_ins = b->del == 0;

	if (a->off != b->off)
		return a->off < b->off;
	if (a_ins != b_ins)
		return a_ins;
	return a->seq < b->seq;
}

static void edits_sort(struct msg_edits *ed)
{
	for (unsigned i = 1; i < ed->n; i++) {
		struct msg_edit x = ed->e[i];
		unsigned j = i;

		while (j > 0 && edit_before(&x, &ed->e[j - 1])) {
			ed->e[j] = ed->e[j - 1];
			j--;
		}
		ed->e[j] = x;
	}
}

ssize_t msg_edit_apply(struct msg_edits *ed, const char *buf, size_t len, char *out, size_t cap)
{
	size_t pos = 0; /* next unread byte of buf */
	size_t o = 0;   /* bytes written to out */

	edits_sort(ed);
	for (unsigned i = 0; i < ed->n; i++) {
		const struct msg_edit *e = &ed->e[i];
		size_t keep;

		if (e->off < pos || (size_t)e->off + e->del > len)
			return -EINVAL; /* overlaps an earlier deletion or runs off the end */
		keep = e->off - pos;
		if (keep + e->text_len > cap - o)
			return -ENOSPC;
		memcpy(out + o, buf + pos, keep);
		o += keep;
		memcpy(out + o, ed->text + e->text_off, e->text_len);
		o += e->text_len;
		pos = (size_t)e->off + e->del;
	}
	if (len - pos > cap - o)
		return -ENOSPC;
	memcpy(out + o, buf + pos, len - pos);
	return (ssize_t)(o + len - pos);
}
