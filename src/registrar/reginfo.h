/*
 * reginfo: the application/reginfo+xml document of the registration event
 * package (RFC 3680 §5), for one address of record, written into the
 * caller's buffer. No XML library: the document is a fixed shape of three
 * elements, so it is written with a bounded writer and every value
 * escaped; tests/integration/reginfo.xsd (the §5.4 schema) checks it.
 */
#ifndef JCT_REGINFO_H
#define JCT_REGINFO_H

#include "sip/sip_str.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* One contact of a registration (RFC 3680 §5.3). */
struct reginfo_contact {
	struct sip_str id;  /* stable id of the binding (e.g. a hash as text), required */
	struct sip_str uri; /* the Contact URI */
	bool active;        /* state="active", else "terminated" */
	/* registered|created|refreshed|shortened|expired|deactivated|
	 * probation|unregistered|rejected (§5.3) */
	const char *event;
	int64_t expires;  /* seconds left; written when active (>= 0) */
	int64_t duration; /* duration-registered seconds; -1: omitted */
	int64_t q;        /* thousandths (1000 = 1.0, written "1"; 500 = "0.5"); -1: omitted */
	struct sip_str call_id; /* callid attribute; empty: omitted */
	int64_t cseq;           /* cseq attribute; -1: omitted */
};

/*
 * Writes an application/reginfo+xml document for one AOR into out[0..cap):
 *
 *   <?xml version="1.0" encoding="UTF-8"?>
 *   <reginfo xmlns="urn:ietf:params:xml:ns:reginfo" version="VERSION" state="full|partial">
 *     <registration aor="AOR" id="REG_ID" state="init|active|terminated">
 *       <contact id=".." state=".." event=".." [duration-registered] [expires] [q]
 *                [callid] [cseq]><uri>URI</uri></contact> ...
 *     </registration>
 *   </reginfo>
 *
 * one element per line, two spaces of indent per level. Everything is
 * XML-escaped (& < > " ' as entities; TAB, LF and CR in attributes as
 * character references, which attribute normalisation would otherwise turn
 * into spaces). reg_state: "init", "active" or "terminated" (RFC 3680
 * §5.3: active while a contact is active; terminated when the last went;
 * init when none ever was; see reginfo_reg_state()). full: state="full"
 * else "partial". A contact's expires is written when it is active and
 * expires >= 0; duration, q and cseq when >= 0; q (0..1000) as a qvalue
 * of RFC 3261 §20.10 without trailing zeros ("1", "0.5", "0.001").
 *
 * Returns the length written (out NUL-terminated), or -ENOSPC when it does
 * not fit (nothing is written past out[cap - 1]; out[0] is NUL), or
 * -EINVAL: NULL out, reg_state or event (or c with n > 0), an unknown
 * reg_state or event name, q above 1000, an empty aor, reg_id or contact
 * id, or text XML 1.0 cannot carry (invalid UTF-8, control characters
 * other than TAB, LF and CR). Arguments are checked before anything is
 * written, so -EINVAL does not depend on cap.
 */
ssize_t reginfo_build(char *out, size_t cap, struct sip_str aor, struct sip_str reg_id,
		      uint64_t version, bool full, const char *reg_state,
		      const struct reginfo_contact *c, unsigned n);

/* The registration state that goes with contacts c[0..n) (RFC 3680 §5.3):
 * "active" when any is active, else "terminated" (n > 0) or "init"
 * (n == 0). A static string. */
const char *reginfo_reg_state(const struct reginfo_contact *c, unsigned n);

#endif
