/*
 * pgtext: see pgtext.h.
 */
#include "store/pgtext.h"

#include <stdio.h>
#include <string.h>

#define PGTEXT_INT_MAX 22 /* ",-9223372036854775808" */

size_t pgtext_put(char *out, const char *p, size_t len)
{
	const unsigned char *u = (const unsigned char *)p;
	char *o = out;
	size_t i = 0;

	while (i < len) {
		size_t n = sip_utf8_seq_len(u + i, len - i);

		if (n == 0 || (n == 1 && u[i] == 0)) {
			*o++ = '?';
			i++;
			continue;
		}
		memcpy(o, u + i, n);
		o += n;
		i += n;
	}
	return (size_t)(o - out);
}

/* Length of the prefix of p[0..len) without any byte of reject. */
static size_t strcspn_len(const char *p, size_t len, const char *reject)
{
	size_t i = 0;

	while (i < len && (p[i] == '\0' || !strchr(reject, p[i])))
		i++;
	return i;
}

size_t pgtext_text_array_max(const struct sip_str *v, unsigned n)
{
	size_t need = 3;

	for (unsigned k = 0; k < n; k++)
		need += v[k].len * 2 + 8; /* worst case: every byte escaped */
	return need;
}

size_t pgtext_text_array(char *out, const struct sip_str *v, unsigned n)
{
	size_t o = 0;

	/* backslash-escaping " and \ */
	out[o++] = '{';
	for (unsigned k = 0; k < n; k++) {
		if (k)
			out[o++] = ',';
		if (!v[k].p) {
			memcpy(out + o, "NULL", 4);
			o += 4;
			continue;
		}
		out[o++] = '"';
		for (size_t j = 0; j < v[k].len;) {
			size_t run = strcspn_len(v[k].p + j, v[k].len - j, "\"\\");

			o += pgtext_put(out + o, v[k].p + j, run);
			j += run;
			if (j < v[k].len) {
				out[o++] = '\\';
				out[o++] = v[k].p[j++];
			}
		}
		out[o++] = '"';
	}
	out[o++] = '}';
	out[o] = '\0';
	return o;
}

size_t pgtext_int_array_max(unsigned n)
{
	return 3 + (size_t)n * PGTEXT_INT_MAX;
}

size_t pgtext_int_array(char *out, const int64_t *v, const bool *null, unsigned n)
{
	size_t o = 0;

	out[o++] = '{';
	for (unsigned k = 0; k < n; k++)
		o += (size_t)((null && null[k])
				      ? snprintf(out + o, PGTEXT_INT_MAX, "%sNULL", k ? "," : "")
				      : snprintf(out + o, PGTEXT_INT_MAX, "%s%lld", k ? "," : "",
						 (long long)v[k]));
	out[o++] = '}';
	out[o] = '\0';
	return o;
}
