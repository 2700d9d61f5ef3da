/*
 * libFuzzer target for the configuration file (config_load_string,
 * src/config/config.c): libinih's line splitting, the key table, every
 * value parser (addresses, lists, numbers, sizes, booleans, enums) and
 * the whole-file checks. The input is the file's text; a NUL in it ends
 * the text, as it would in a file read by inih. The error messages go
 * to /dev/null, so their formatting runs too.
 *
 * struct config is plain data, but inih and the value parsers may
 * allocate on the way: the leak checker verifies that a load, good or
 * bad, releases all of it. On success the predicates that read the
 * loaded config run too.
 */
#include "config/config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *devnull;
	static struct config cfg; /* ~40 KB: not on the stack */
	char *text;

	if (!devnull)
		devnull = fopen("/dev/null", "w");
	text = malloc(size + 1);
	if (!text)
		return 0;
	if (size)
		memcpy(text, data, size);
	text[size] = '\0';
	if (config_load_string(text, "fuzz.conf", &cfg, devnull) == 0) {
		(void)config_admin_on(&cfg);
		(void)config_record_route(&cfg);
		(void)config_probe_alive(&cfg, 200);
		(void)config_probe_alive(&cfg, 503);
		(void)config_is_domain(&cfg, SIP_STR("example.com"));
		(void)config_pool_name_ok(text, strlen(text));
	}
	free(text);
	return 0;
}
