/*
 * policy: who a request comes from, as the security checks see it: a
 * trusted source ([security] trusted), or a scanner that names itself in
 * its User-Agent (sipvicious' "friendly-scanner" and the like).
 */
#ifndef JCT_POLICY_H
#define JCT_POLICY_H

#include "net/netaddr.h"
#include "sip/sip_msg.h"

#include <stdbool.h>

struct config;

/* Does m's User-Agent contain one of [security] scanners (any case)?
 * Only when [security] drop_scanners is on. */
bool policy_is_scanner(const struct config *cfg, struct sip_msg *m);

#endif
