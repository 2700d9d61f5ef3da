/*
 * libFuzzer target for name-addr / addr-spec lists (RFC 3261 §20.10,
 * §20.20, §20.39; RFC 3327): Contact, From, To, Route, Record-Route and
 * Path values. The input is one header value, split with sip_list_next
 * and parsed element by element with sip_addr_parse, as the registrar
 * reads a REGISTER's Contacts: "*", display names, q= and expires=, URI
 * and header parameters. What a parsed address yields is read back: the
 * q-value parser on q=, URI parameter lookups, the comparison of the URI
 * with itself, the token list helper and the CSeq parser on the element.
 *
 * The value is a copy of exactly its size, so ASan catches a read past
 * its end.
 */
#include "sip/sip_hdr.h"

#include "fuzz_util.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sip_str cur, item, pv;
	struct sip_addr a;
	struct sip_cseq c;
	unsigned n = 0;
	int32_t q;
	char *buf;

	buf = fuzz_copy(data, size);
	if (!buf)
		return 0;
	cur = sip_str_make(buf, size);
	(void)sip_token_list_has(cur, "path");
	(void)sip_cseq_parse(cur, &c);
	while (sip_list_next(&cur, &item) && n++ < 1024) {
		int rc = sip_addr_parse(item, &a);

		if (rc == 0 && a.q > 1000)
			abort(); /* q is 0..1000 or -1 */
		if (rc != 0 || a.star)
			continue;
		if (sip_param_find(a.params, "q", &pv))
			(void)sip_qvalue_parse(pv, &q);
		(void)sip_param_find(a.params, "+sip.instance", &pv);
		(void)sip_param_find(a.params, "reg-id", &pv);
		(void)sip_uri_param(&a.uri, "lr", &pv);
		(void)sip_uri_param(&a.uri, "transport", &pv);
		(void)sip_uri_default_port(&a.uri);
		(void)sip_uri_equal(&a.uri, &a.uri);
	}
	free(buf);
	return 0;
}
