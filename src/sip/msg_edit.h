/*
 * msg_edit: an edit list over a received message, applied in one copy.
 *
 * A proxy changes a few places of the message it relays (a Via added, a
 * Route removed, Max-Forwards decremented, the Request-URI replaced); the
 * rest must leave exactly as it arrived (RFC 3261 §16.6). Edits are
 * recorded as (offset into the original, bytes deleted, text inserted)
 * and msg_edit_apply() writes original and edits into the output buffer
 * in a single pass. Inserted text is copied into the list's own storage,
 * so callers may pass stack buffers.
 */
#ifndef JCT_MSG_EDIT_H
#define JCT_MSG_EDIT_H

#include "sip/sip_str.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define MSG_EDIT_MAX      32
#define MSG_EDIT_TEXT_MAX 4096

struct msg_edit {
	uint32_t off;      /* where in the original */
	uint32_t del;      /* bytes of the original removed from off */
	uint32_t text_off; /* inserted text: offset into msg_edits.text */
	uint32_t text_len;
	uint16_t seq; /* order of recording, for edits at the same offset */
};

struct msg_edits {
	unsigned n;
	uint32_t text_used;
	struct msg_edit e[MSG_EDIT_MAX];
	char text[MSG_EDIT_TEXT_MAX];
};

void msg_edits_init(struct msg_edits *ed);

/* Records an edit: at off, delete del bytes and insert text[0..len).
 * Inserts at the same offset come out in the order they were recorded,
 * before any deletion starting there (recorded before or after them).
 * Returns 0 or -ENOSPC. */
int msg_edit_add(struct msg_edits *ed, uint32_t off, uint32_t del, const char *text, size_t len);

static inline int msg_edit_insert(struct msg_edits *ed, uint32_t off, const char *text, size_t len)
{
	return msg_edit_add(ed, off, 0, text, len);
}

static inline int msg_edit_delete(struct msg_edits *ed, uint32_t off, uint32_t del)
{
	return msg_edit_add(ed, off, del, NULL, 0);
}

/* Like msg_edit_insert with the text made of n pieces, joined. Returns 0
 * or -ENOSPC. */
int msg_edit_insert_parts(struct msg_edits *ed, uint32_t off, const struct sip_str *parts,
			  unsigned n);
/* Like msg_edit_insert with printf formatting. Returns 0 or -ENOSPC. */
int msg_edit_insertf(struct msg_edits *ed, uint32_t off, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Net change in length once applied. */
ssize_t msg_edits_delta(const struct msg_edits *ed);

/*
 * Writes buf[0..len) with the edits applied into out (capacity cap).
 * Returns the output length, -ENOSPC when out is too small, or -EINVAL
 * when edits overlap or reach past len. ed is sorted in place.
 */
ssize_t msg_edit_apply(struct msg_edits *ed, const char *buf, size_t len, char *out, size_t cap);

#endif
