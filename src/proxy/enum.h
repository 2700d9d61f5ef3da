/*
 * enum: the SIP URI an E.164 number maps to, by ENUM (RFC 6116).
 *
 * The number's digits, reversed and dotted under a suffix (e164.arpa or
 * a private tree), name a set of NAPTR records (RFC 3403); the terminal
 * ones for the SIP enumservice (RFC 3764) rewrite "+<digits>" into a URI
 * with a regular expression. enum_domain() and enum_apply() are pure and
 * allocate nothing the caller sees; enum_lookup() ties them to a worker's
 * resolver (net/dns.h) and answers on the worker's thread.
 *
 * Everything a NAPTR holds is treated as hostile: see enum.c for what is
 * refused and why.
 */
#ifndef JCT_ENUM_H
#define JCT_ENUM_H

#include "net/dns.h"

#include <stddef.h>

/* Room for the longest URI enum_lookup() gives, NUL included. */
#define ENUM_URI_MAX 256

/*
 * Writes the ENUM domain of digits (the number without '+', "4420...")
 * under suffix ("e164.arpa", a trailing dot allowed and dropped) into out:
 * "...0.2.4.4.e164.arpa" (RFC 6116 §2.4), NUL-terminated. Returns its
 * length; -EINVAL for no digits, a character that is not a digit, or an
 * empty suffix; -ENOSPC when it does not fit in cap (out is then "").
 */
int enum_domain(const char *digits, const char *suffix, char *out, size_t cap);

/*
 * Chooses among the n records recs (borrowed) the terminal ones ("u"
 * flag, empty replacement) offering the SIP enumservice ("E2U+sip", any
 * case, alone or among others, RFC 6116 §3.4), lowest order then lowest
 * preference first (RFC 3403 §4.1), and applies the first one's regexp to
 * the Application Unique String aus ("+" and the digits, RFC 6116)
 * (RFC 3402 §3.2: delimiter = first character, a POSIX ERE, 'i' flag for
 * case-insensitive; the result is the replacement with \1..\9 put in,
 * not the string edited in place as sed would: the ENUM expressions match
 * it whole). A record
 * whose regexp is malformed, too costly to compile, does not match, or
 * whose result is not a sip: or sips: URI, or does not fit, is passed over
 * for the next. Writes the URI into out (NUL-terminated) and returns its
 * length, or -ENOENT when no record gives one (out is then "").
 */
int enum_apply(const struct dns_naptr *recs, unsigned n, const char *aus, char *out, size_t cap);

/*
 * The end of an enum_lookup(), on the worker's thread: status 0 and uri
 * (borrowed, valid during the call); or -ENOENT (no such name, no NAPTR,
 * none applies), -ETIMEDOUT, -EIO (a server failure or a malformed
 * answer), -ECANCELED (the resolver is being freed), with uri NULL.
 */
typedef void (*enum_cb)(void *arg, int status, const char *uri);

/*
 * Looks up the NAPTR records of enum_domain(digits, suffix) with d
 * (borrowed) and applies them with enum_apply() to "+" digits. cb runs
 * exactly once, possibly before enum_lookup returns (a cached answer).
 * Returns 0; or -EINVAL (digits or suffix unusable, the domain too long)
 * or -ENOMEM, and then cb is not called. The caller keeps arg alive until
 * cb.
 */
int enum_lookup(struct dns *d, const char *suffix, const char *digits, enum_cb cb, void *arg);

#endif
