/*
 * pgtext: values in PostgreSQL's text format, for parameters sent as
 * text: a string made safe to send, and array literals. Shared by the
 * workers' batches (store.c) and the database thread (store_bg.c).
 */
#ifndef JCT_PGTEXT_H
#define JCT_PGTEXT_H

#include "sip/sip_str.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Writes p[0..len) to out (len bytes of room), replacing what a text
 * parameter cannot carry (NUL) or the server would refuse (invalid UTF-8)
 * with '?', so that one hostile header can never fail a whole batch.
 * Returns the bytes written. */
size_t pgtext_put(char *out, const char *p, size_t len);

/* The room pgtext_text_array() needs for v[0..n), NUL included. */
size_t pgtext_text_array_max(const struct sip_str *v, unsigned n);
/* Writes the array literal of v[0..n) to out, NUL-terminated:
 * {"a","b\"c",NULL} (an element with .p NULL is NULL). Returns its
 * length, the NUL not counted. */
size_t pgtext_text_array(char *out, const struct sip_str *v, unsigned n);

/* The room pgtext_int_array() needs for n elements, NUL included. */
size_t pgtext_int_array_max(unsigned n);
/* The same for integers; null (may be NULL) marks the NULL elements. */
size_t pgtext_int_array(char *out, const int64_t *v, const bool *null, unsigned n);

#endif
