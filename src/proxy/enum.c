/*
 * enum: see enum.h.
 *
 * A NAPTR comes from whoever holds the number's delegation, so every
 * field is read as hostile. The strings are read only up to their array
 * bounds (a missing NUL skips the record). The regexp field is split by
 * hand (RFC 3402 §3.2: delimiter, ERE, replacement, delimiter, flags),
 * and the ERE is refused before regcomp() when glibc would take long to
 * compile or match it. glibc copies the atom of a bound {m,n} n times and
 * builds epsilon closures over loops nested in loops; measured here:
 * "(((a{100}){100}){100}){100}" (27 bytes) 157 s and 21 GB in regcomp(),
 * "((.?)*(.?)*...(.?)*)*" (95 bytes) 5.4 s, "((.*)*){20}" over 10 s,
 * "(){0,63}" 84 ms. So re_check() allows bounds only on a single
 * character, bracket or '.', no repetition of a group that holds one,
 * groups nested 8 deep, and RE_COST_MAX atoms once bounds are expanded
 * (the longest Application Unique String is 16 characters). Expressions
 * it passes, random ones included, took at most 0.25 ms to compile and
 * match here; the usual ones ("^\+44(.*)$", "^\+1([0-9]{10})$") 0.02.
 * Back-references inside the ERE (a glibc extension, not POSIX ERE) are
 * refused too: matching them is exponential. The replacement may name
 * only groups the ERE has, the result must fit, and only a sip: or sips:
 * URI that parses, has no control character or space (it becomes a
 * Request-URI) and no headers (RFC 3261 §19.1.1, table 1: none in a
 * Request-URI) is accepted.
 *
 * Records are tried lowest (order, preference) first by selection, not
 * sorting: no copy of the records, n^2 steps for n <= DNS_MAX_RECORDS.
 */
#include "proxy/enum.h"

#include "base/log.h"
#include "base/strbuf.h"
#include "sip/sip_uri.h"

#include <errno.h>
#include <regex.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define RE_COST_MAX  32 /* atoms after bounds are expanded */
#define RE_DEPTH_MAX 8  /* nested groups */
#define RE_GROUPS    10 /* \0 (the whole match) and \1..\9 */

int enum_domain(const char *digits, const char *suffix, char *out, size_t cap)
{
	size_t nd, ns, need;
	char *p;

	if (out && cap)
		out[0] = '\0';
	if (!digits || !suffix)
		return -EINVAL;
	nd = strlen(digits);
	ns = strlen(suffix);
	if (ns && suffix[ns - 1] == '.')
		ns--;
	if (nd == 0 || ns == 0 || suffix[0] == '.')
		return -EINVAL;
	for (size_t i = 0; i < nd; i++)
		if (digits[i] < '0' || digits[i] > '9')
			return -EINVAL;
	/* RFC 6116 §2.4: each digit then a dot, in reverse, then the suffix. */
	need = 2 * nd + ns;
	if (!out || need >= cap || need > INT32_MAX)
		return -ENOSPC;
	p = out;
	for (size_t i = nd; i-- > 0;) {
		*p++ = digits[i];
		*p++ = '.';
	}
	memcpy(p, suffix, ns);
	p[ns] = '\0';
	return (int)need;
}

/* RFC 3403 §4.1 and RFC 6116 §3.4: a terminal rule has the flag "u"
 * and the replacement "." (given to us as ""); any other flag is unknown
 * to ENUM and its record skipped (RFC 3402: an unknown flag may change
 * what the other fields mean). */
static bool naptr_terminal(const struct dns_naptr *r)
{
	size_t nf = strnlen(r->flags, sizeof(r->flags));

	return nf == 1 && (r->flags[0] == 'u' || r->flags[0] == 'U') &&
	       strnlen(r->replacement, sizeof(r->replacement)) == 0;
}

/* RFC 6116 §3.4: service-field = "E2U" 1*("+" enumservice); the SIP
 * enumservice is the type "sip" without subtype (RFC 3764). */
static bool naptr_sip(const struct dns_naptr *r)
{
	size_t n = strnlen(r->service, sizeof(r->service));
	const char *p = r->service, *end = r->service + n, *q;

	if (n == sizeof(r->service) || n < 4 || strncasecmp(p, "E2U+", 4) != 0)
		return false;
	for (p += 4; p <= end; p = q + 1) {
		for (q = p; q < end && *q != '+'; q++)
			;
		if (q - p == 3 && strncasecmp(p, "sip", 3) == 0)
			return true;
	}
	return false;
}

/* The ']' ending the bracket expression opened at p, or NULL. A ']' first
 * in the list is a member; "[:", "[." and "[=" open items ending in ":]",
 * ".]", "=]" (POSIX regex(7)). */
static const char *bracket_end(const char *p)
{
	const char *q = p + 1;

	if (*q == '^')
		q++;
	if (*q == ']')
		q++;
	while (*q && *q != ']') {
		if (q[0] == '[' && (q[1] == ':' || q[1] == '.' || q[1] == '=')) {
			char t = q[1];

			for (q += 2; *q && !(q[0] == t && q[1] == ']'); q++)
				;
			if (!*q)
				return NULL;
			q += 2;
			continue;
		}
		q++;
	}
	return *q ? q : NULL;
}

/* Reads "{m}", "{m,}", "{m,n}" or "{,n}" at p: the copies regcomp()
 * makes of the atom (at least 1) in *f, the '}' in *endp. False when p
 * does not open a bound (regcomp takes it literally or refuses it). */
static bool bound_parse(const char *p, unsigned *f, const char **endp)
{
	unsigned v[2] = {0, 0};
	int k = 0, digits = 0;
	bool open_max = false;

	for (p++; *p != '}'; p++) {
		if (*p >= '0' && *p <= '9') {
			if (++digits > 4)
				return false;
			v[k] = v[k] * 10 + (unsigned)(*p - '0');
		} else if (*p == ',' && k == 0) {
			k = 1;
			digits = 0;
			open_max = true;
		} else {
			return false;
		}
	}
	if (k == 1 && digits)
		open_max = false;
	/* {m,} is m copies and a star */
	*f = k == 0 ? v[0] : open_max ? v[0] + 1 : (v[0] > v[1] ? v[0] : v[1]);
	if (*f == 0)
		*f = 1;
	*endp = p;
	return true;
}

/* What the last thing read in a group was, for the repetition after it. */
enum re_last { RE_NONE, RE_ATOM, RE_GROUP, RE_GROUP_LOOPS };

/* Whether regcomp() may have ere (see the top): -E2BIG when it would
 * build more than RE_COST_MAX atoms, nests groups deeper than
 * RE_DEPTH_MAX, bounds a group ("(.?){60}") or repeats a group holding a
 * repetition ("((.?)*)*"); -EINVAL for a back-reference, an unclosed
 * bracket, unbalanced parentheses, an empty group, a repetition of
 * nothing or adjacent ones ("a*{2}", undefined in POSIX ERE); else 0. */
static int re_check(const char *ere)
{
	/* per open group: atoms so far, the last atom's atoms, what it was,
	 * whether the group holds a repetition */
	uint32_t sum[RE_DEPTH_MAX + 1] = {0}, last[RE_DEPTH_MAX + 1] = {0};
	enum re_last kind[RE_DEPTH_MAX + 1] = {RE_NONE};
	bool loops[RE_DEPTH_MAX + 1] = {false};
	bool dup = false, after_dup;
	unsigned d = 0, f;
	const char *p, *e;

	for (p = ere; *p; p++) {
		after_dup = dup;
		dup = false;
		switch (*p) {
		case '(':
			if (++d > RE_DEPTH_MAX)
				return -E2BIG;
			sum[d] = last[d] = 0;
			kind[d] = RE_NONE;
			loops[d] = false;
			continue;
		case ')':
			if (d == 0 || sum[d] == 0)
				return -EINVAL;
			d--;
			last[d] = sum[d + 1];
			sum[d] += last[d];
			kind[d] = loops[d + 1] ? RE_GROUP_LOOPS : RE_GROUP;
			loops[d] |= loops[d + 1];
			break;
		case '{':
			if (!bound_parse(p, &f, &e))
				goto atom; /* regcomp takes it literally or refuses it */
			if (after_dup || kind[d] == RE_NONE)
				return -EINVAL;
			if (kind[d] != RE_ATOM || f > RE_COST_MAX)
				return -E2BIG;
			p = e;
			sum[d] += last[d] * (f - 1);
			last[d] *= f;
			dup = loops[d] = true;
			break;
		case '*':
		case '+':
		case '?':
			if (after_dup || kind[d] == RE_NONE)
				return -EINVAL;
			if (kind[d] == RE_GROUP_LOOPS)
				return -E2BIG;
			dup = loops[d] = true;
			break;
		case '|':
			last[d] = 0;
			kind[d] = RE_NONE;
			break;
		case '^':
		case '$':
			break;
		case '\\':
			if (p[1] >= '0' && p[1] <= '9')
				return -EINVAL;
			if (p[1])
				p++;
			goto atom;
		case '[':
			p = bracket_end(p);
			if (!p)
				return -EINVAL;
			/* fall through */
		default:
		atom:
			last[d] = 1;
			sum[d]++;
			kind[d] = RE_ATOM;
			break;
		}
		/* every sum is bounded here, so no product above overflows */
		if (sum[d] > RE_COST_MAX)
			return -E2BIG;
	}
	return d == 0 ? 0 : -EINVAL;
}

/* Characters the ERE syntax gives a meaning: an escaped delimiter that is
 * one of them keeps its backslash, so "\|" stays a literal '|'. */
static bool ere_special(char c)
{
	return c && strchr(".[]()*+?{}|^$", c) != NULL;
}

/* The regexp field split (RFC 3402 §3.2): the ERE with escaped
 * delimiters restored, the replacement still escaped, the 'i' flag. */
struct subst {
	char ere[DNS_NAME_MAX];
	const char *repl;
	size_t repl_len;
	bool icase;
};

static int subst_parse(const struct dns_naptr *r, struct subst *s)
{
	size_t n = strnlen(r->regexp, sizeof(r->regexp)), i, k = 0;
	const char *re = r->regexp;
	char dl;

	if (n == 0 || n == sizeof(r->regexp))
		return -EINVAL;
	/* delim-char: not a digit, not the flag 'i', not a backslash, and
	 * printable (it is something we can see in a log) */
	dl = re[0];
	if (dl <= ' ' || dl >= 0x7f || (dl >= '0' && dl <= '9') || dl == 'i' || dl == '\\')
		return -EINVAL;
	for (i = 1; i < n && re[i] != dl; i++) {
		if (re[i] == '\\') {
			if (++i == n)
				return -EINVAL;
			if (re[i] != dl || ere_special(dl))
				s->ere[k++] = '\\';
		}
		s->ere[k++] = re[i];
	}
	if (i == n)
		return -EINVAL;
	s->ere[k] = '\0';
	s->repl = re + ++i;
	for (; i < n && re[i] != dl; i++)
		if (re[i] == '\\' && ++i == n)
			return -EINVAL;
	if (i == n)
		return -EINVAL;
	s->repl_len = (size_t)(re + i - s->repl);
	i++;
	/* flags = "i", or none */
	if (i == n)
		s->icase = false;
	else if (i + 1 == n && (re[i] == 'i' || re[i] == 'I'))
		s->icase = true;
	else
		return -EINVAL;
	return 0;
}

/* The replacement with the groups of m (nsub of them) substituted, into b.
 * "\1".."\9": a group (empty when it did not take part); "\0": refused;
 * any other escaped character stands for itself (the delimiter, '\'). */
static int subst_expand(const struct subst *s, const char *aus, const regmatch_t *m, size_t nsub,
			struct strbuf *b)
{
	for (size_t i = 0; i < s->repl_len; i++) {
		char c = s->repl[i];

		if (c != '\\') {
			strbuf_put(b, &c, 1);
			continue;
		}
		c = s->repl[++i]; /* subst_parse saw the pair */
		if (c >= '1' && c <= '9') {
			size_t g = (size_t)(c - '0');

			if (g > nsub || g >= RE_GROUPS)
				return -EINVAL;
			if (m[g].rm_so >= 0)
				strbuf_put(b, aus + m[g].rm_so, (size_t)(m[g].rm_eo - m[g].rm_so));
		} else if (c == '0') {
			return -EINVAL;
		} else {
			strbuf_put(b, &c, 1);
		}
	}
	return b->overflow ? -ENOSPC : 0;
}

/* A URI we may put in a Request-URI (see the top). */
static bool uri_ok(const char *s, size_t len)
{
	struct sip_uri u;

	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] >= 0x7f)
			return false;
	if (sip_uri_parse(sip_str_make(s, len), &u) < 0)
		return false;
	return (u.scheme == SIP_URI_SIP || u.scheme == SIP_URI_SIPS) && sip_str_empty(u.headers);
}

/* One record applied: the length written to out, or why not: -ENOENT
 * (not a terminal E2U+sip rule), or one of those of naptr_why(). */
static int naptr_try(const struct dns_naptr *r, const char *aus, char *out, size_t cap)
{
	struct subst s;
	regex_t re;
	regmatch_t m[RE_GROUPS];
	struct strbuf b;
	int rc;

	if (!naptr_terminal(r) || !naptr_sip(r))
		return -ENOENT;
	rc = subst_parse(r, &s);
	if (rc < 0)
		return rc;
	rc = re_check(s.ere);
	if (rc < 0)
		return rc;
	if (regcomp(&re, s.ere, REG_EXTENDED | (s.icase ? REG_ICASE : 0)) != 0)
		return -EINVAL;
	if (regexec(&re, aus, RE_GROUPS, m, 0) != 0) {
		rc = -ESRCH;
		goto out;
	}
	b = strbuf_make(out, cap - 1);
	rc = subst_expand(&s, aus, m, re.re_nsub, &b);
	if (rc < 0)
		goto out;
	out[b.len] = '\0';
	if (!uri_ok(out, b.len)) {
		rc = -EBADMSG;
		goto out;
	}
	rc = (int)b.len;
out:
	regfree(&re);
	return rc;
}

static const char *naptr_why(int rc)
{
	switch (rc) {
	case -EINVAL:
		return "malformed regexp";
	case -E2BIG:
		return "regexp too costly";
	case -ESRCH:
		return "no match";
	case -ENOSPC:
		return "result too long";
	default:
		return "result not a SIP URI";
	}
}

int enum_apply(const struct dns_naptr *recs, unsigned n, const char *aus, char *out, size_t cap)
{
	uint64_t prev = 0, best, k;
	unsigned bi = 0;
	bool first = true;
	int rc;

	if (!out || cap == 0)
		return -ENOENT;
	out[0] = '\0';
	if (!recs || !aus)
		return -ENOENT;
	for (;;) {
		/* the next record by (order, preference, position) */
		best = UINT64_MAX;
		for (unsigned i = 0; i < n; i++) {
			k = (uint64_t)recs[i].order << 48 | (uint64_t)recs[i].preference << 32 | i;
			if ((first || k > prev) && k < best) {
				best = k;
				bi = i;
			}
		}
		if (best == UINT64_MAX)
			break;
		prev = best;
		first = false;
		rc = naptr_try(&recs[bi], aus, out, cap);
		if (rc >= 0)
			return rc;
		out[0] = '\0';
		if (rc != -ENOENT)
			log_debug("enum: NAPTR order %u preference %u passed over: %s",
				  recs[bi].order, recs[bi].preference, naptr_why(rc));
	}
	return -ENOENT;
}

/* A lookup in flight: the Application Unique String and whom to tell. */
struct enum_query {
	enum_cb cb;
	void *arg;
	char aus[]; /* "+" and the digits */
};

static void enum_answered(void *arg, const struct dns_answer *ans)
{
	struct enum_query *q = arg;
	char uri[ENUM_URI_MAX];
	int rc = ans->status;

	if (rc == 0 && ans->type != DNS_NAPTR)
		rc = -EIO;
	if (rc == 0) {
		rc = enum_apply(ans->r.naptr, ans->n < DNS_MAX_RECORDS ? ans->n : DNS_MAX_RECORDS,
				q->aus, uri, sizeof(uri));
		if (rc >= 0)
			rc = 0;
	} else if (rc != -ENOENT && rc != -ETIMEDOUT && rc != -ECANCELED) {
		rc = -EIO;
	}
	q->cb(q->arg, rc, rc == 0 ? uri : NULL);
	free(q);
}

int enum_lookup(struct dns *d, const char *suffix, const char *digits, enum_cb cb, void *arg)
{
	char name[DNS_NAME_MAX];
	struct enum_query *q;
	size_t nd;
	int rc;

	if (!d || !cb || enum_domain(digits, suffix, name, sizeof(name)) < 0)
		return -EINVAL;
	nd = strlen(digits);
	q = malloc(sizeof(*q) + nd + 2);
	if (!q)
		return -ENOMEM;
	q->cb = cb;
	q->arg = arg;
	q->aus[0] = '+';
	memcpy(q->aus + 1, digits, nd + 1);
	/* a cached answer runs enum_answered (and frees q) before this returns */
	rc = dns_lookup(d, name, DNS_NAPTR, enum_answered, q);
	if (rc < 0) {
		free(q);
		return rc == -ENOMEM ? -ENOMEM : -EINVAL;
	}
	return 0;
}
