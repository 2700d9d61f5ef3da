/*
 * What the fuzz targets share: the input copied to a heap block of its
 * exact size, so that AddressSanitizer sees any read past its end (the
 * fuzzer's own buffer may be larger).
 */
#ifndef JCT_FUZZ_UTIL_H
#define JCT_FUZZ_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* A new copy of data[0..size) (one byte when size is 0; the caller frees
 * it), or NULL when out of memory. */
static inline char *fuzz_copy(const uint8_t *data, size_t size)
{
	char *buf = malloc(size ? size : 1);

	if (buf && size)
		memcpy(buf, data, size);
	return buf;
}

#endif
