/*
 * libFuzzer target for the Via parser (RFC 3261 §20.42, §18.2.1; RFC 3581):
 * the input is a Via header value; it is split with sip_list_next as the
 * proxy splits it, and every element goes through sip_via_parse and the
 * reduced sip_via_parse_sent_by (used to address a 400), then the slices
 * a parsed Via yields are read back: host check, parameter lookups.
 *
 * Invariants checked: whatever sip_via_parse accepts, sip_via_parse_sent_by
 * accepts too, with the same host and port (the 400 goes where the 200
 * would have). The value is a copy of exactly its size, so ASan catches a
 * read past the end.
 */
#include "sip/sip_hdr.h"

#include "fuzz_util.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const names[] = {"branch", "received", "rport", "maddr", "ttl", "alias"};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sip_str cur, item, pv;
	struct sip_via v, sb;
	unsigned n = 0;
	char *buf;

	buf = fuzz_copy(data, size);
	if (!buf)
		return 0;
	cur = sip_str_make(buf, size);
	/* A Via value holds at most a few hundred elements within the line cap. */
	while (sip_list_next(&cur, &item) && n++ < 1024) {
		int full = sip_via_parse(item, &v);
		int part = sip_via_parse_sent_by(item, &sb);

		if (full == 0) {
			if (part != 0 || sb.port != v.port || !sip_str_eq(sb.host, v.host))
				abort();
			(void)sip_host_check(v.host);
			for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
				(void)sip_param_find(v.params, names[i], &pv);
			(void)sip_token_list_has(v.transport, "udp");
		}
	}
	free(buf);
	return 0;
}
