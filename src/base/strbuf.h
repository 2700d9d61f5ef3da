/*
 * strbuf: text written into a caller's buffer of fixed size, where running
 * out of room is noticed once at the end (overflow) instead of after every
 * piece: the responses we build (sip_reply), the reginfo documents, the
 * HTTP authentication requests. Nothing is allocated; nothing is written
 * past cap.
 */
#ifndef JCT_STRBUF_H
#define JCT_STRBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

struct strbuf {
	char *p;
	size_t len, cap;
	bool overflow; /* a piece did not fit: len and p are what fitted before it */
};

static inline struct strbuf strbuf_make(char *p, size_t cap)
{
	return (struct strbuf){.p = p, .cap = cap};
}

/* Appends s[0..n), or notes the overflow (then nothing more is written). */
static inline void strbuf_put(struct strbuf *b, const void *s, size_t n)
{
	if (b->overflow || n > b->cap - b->len) {
		b->overflow = true;
		return;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
}

static inline void strbuf_puts(struct strbuf *b, const char *s)
{
	strbuf_put(b, s, strlen(s));
}

#endif
