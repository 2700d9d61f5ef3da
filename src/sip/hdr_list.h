/*
 * hdr_list: the values of a multi-value header (Via, Route, ...) across
 * all its lines, with their positions, and the edits that delete some of
 * them while leaving the rest of the message byte-for-byte intact.
 *
 * "Route: <a>, <b>" and "Route: <a>\r\nRoute: <b>" are the same list
 * (RFC 3261 §7.3.1); removing <a> from the first form must leave
 * "Route: <b>", from the second it removes the whole line.
 */
#ifndef JCT_HDR_LIST_H
#define JCT_HDR_LIST_H

#include "sip/msg_edit.h"
#include "sip/sip_msg.h"

#include <stdbool.h>
#include <stdint.h>

#define HDR_LIST_MAX 64

struct hdr_elem {
	struct sip_str s; /* the value, trimmed, pointing into the message */
	uint16_t hdr;     /* index of its header line in m->hdrs */
};

struct hdr_list {
	unsigned n;
	struct hdr_elem e[HDR_LIST_MAX];
};

/* Collects up to `max` (<= HDR_LIST_MAX) values of header id in order.
 * Returns the number collected, or -E2BIG when there are more. */
int hdr_list_collect(const struct sip_msg *m, enum sip_hdr_id id, struct hdr_list *l, unsigned max);

/* Records edits deleting the values whose bit is set in `remove` (bit i =
 * value i). A line whose values all go is deleted whole. Returns 0 or a
 * msg_edit error. */
int hdr_list_delete(const struct sip_msg *m, const struct hdr_list *l, uint64_t remove,
		    struct msg_edits *ed);

#endif
