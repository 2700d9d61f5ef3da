/*
 * e164: the E.164 number a Request-URI's user part stands for, the key
 * of the prefix routes (statroute.h) and of ENUM (RFC 6116).
 *
 * The rule (man junction.conf(5), [routing]), applied to the user part:
 *   1. only what comes before the first ';' counts (RFC 3966 parameters,
 *      such as ";phone-context=" or ";isub=");
 *   2. the visual separators '-', '.', '(' and ')' are dropped (RFC 3966
 *      §5.1.1); anything else that is not a digit, a '+' in front
 *      excepted, means "not a number";
 *   3. '+' then digits: international already;
 *   4. digits starting with [routing] international_prefix (when it is not
 *      empty): that prefix stripped, international;
 *   5. digits starting with [routing] national_prefix, when [routing]
 *      country_code is set: country_code then the digits after the
 *      prefix (an empty national_prefix makes every such digit string
 *      national, as in a numbering plan without a trunk prefix);
 *   6. anything else is not an E.164 number (a short extension, "alice").
 * The result has 1 to 15 digits (E.164 §6), or it is not a number.
 */
#ifndef JCT_E164_H
#define JCT_E164_H

#include "sip/sip_str.h"

#include <stddef.h>

struct config;

/* The longest E.164 number (digits, without the '+'). */
#define E164_MAX_DIGITS 15

/*
 * Writes the E.164 number of user (the digits, without '+', NUL-terminated)
 * into out, which has room for cap bytes (E164_MAX_DIGITS + 1 always
 * suffice). Returns its length; -EINVAL when user is not a telephone
 * number by the rule above, -ENOSPC when out is too small. Reads only
 * cfg->routing; any thread.
 */
int e164_normalise(const struct config *cfg, struct sip_str user, char *out, size_t cap);

#endif
