/*
 * Unit tests for enum: the ENUM domain of RFC 6116 §2.4's example number,
 * the records of its NAPTR example (only the sip one used), back-
 * references, the order/preference choice and falling through to the
 * next record, the services and flags passed over, the 'i' flag, escaped
 * delimiters, and hostile regexps (malformed, refused by regcomp, back-
 * references beyond the groups, costly to compile) and results (not a
 * SIP URI, CRLF, headers, too long). Outputs end where a PROT_NONE page
 * begins, so a write past cap crashes the test.
 *
 * enum_lookup() is tested against the dns_lookup() below, which stands in
 * for net/dns.c at link time (this file defines the only symbol enum.o
 * needs from it, so the linker takes no dns.o from the library): it
 * answers from the cache (before returning) or keeps the callback for the
 * test to run, as the resolver does.
 */
#include "proxy/enum.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static char out[ENUM_URI_MAX];

/* A writable region of exactly cap bytes ending where a PROT_NONE page
 * begins. Not freed: each test runs in its own process. */
static char *guarded_out(size_t cap)
{
	static char *base;
	static size_t data;

	if (!base) {
		size_t pg = (size_t)sysconf(_SC_PAGESIZE);
		char *map;

		data = pg;
		map = mmap(NULL, data + pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
			   0);
		cr_assert(map != MAP_FAILED);
		cr_assert(mprotect(map + data, pg, PROT_NONE) == 0);
		base = map;
	}
	cr_assert(cap <= data);
	return base + data - cap;
}

static struct dns_naptr naptr(uint16_t order, uint16_t pref, const char *flags, const char *service,
			      const char *regexp)
{
	struct dns_naptr r = {.order = order, .preference = pref};

	strcpy(r.flags, flags);
	strcpy(r.service, service);
	strcpy(r.regexp, regexp);
	return r;
}

/* RFC 6116's NAPTR example is for +441632960083; its §2.4 number is
 * +44-20-7946-0148. */
#define AUS     "+441632960083"
#define AUS_UK  "+442079460148"
#define ANY_SIP "!^.*$!sip:info@example.com!"

/* ---- enum_domain ---------------------------------------------------- */

Test(enum_domain, rfc6116_example)
{
	cr_assert_eq(enum_domain("442079460148", "e164.arpa", out, sizeof(out)), 33);
	cr_assert_str_eq(out, "8.4.1.0.6.4.9.7.0.2.4.4.e164.arpa");
	/* a trailing dot is dropped; a private tree works alike */
	cr_assert_eq(enum_domain("12", "e164.example.net.", out, sizeof(out)), 20);
	cr_assert_str_eq(out, "2.1.e164.example.net");
	cr_assert_eq(enum_domain("7", "e164.arpa", out, sizeof(out)), 11);
	cr_assert_str_eq(out, "7.e164.arpa");
}

Test(enum_domain, refusals)
{
	static const char *bad_digits[] = {"", "+442079460148", "44-20", "44 20", "4a", "٤"};

	for (size_t i = 0; i < sizeof(bad_digits) / sizeof(bad_digits[0]); i++) {
		strcpy(out, "junk");
		cr_assert_eq(enum_domain(bad_digits[i], "e164.arpa", out, sizeof(out)), -EINVAL,
			     "%s", bad_digits[i]);
		cr_assert_str_eq(out, "");
	}
	cr_assert_eq(enum_domain("44", "", out, sizeof(out)), -EINVAL);
	cr_assert_eq(enum_domain("44", ".", out, sizeof(out)), -EINVAL);
	cr_assert_eq(enum_domain("44", ".e164.arpa", out, sizeof(out)), -EINVAL);
	cr_assert_eq(enum_domain(NULL, "e164.arpa", out, sizeof(out)), -EINVAL);
	cr_assert_eq(enum_domain("44", NULL, out, sizeof(out)), -EINVAL);
}

Test(enum_domain, enospc_at_every_short_cap)
{
	const char *want = "8.4.1.0.6.4.9.7.0.2.4.4.e164.arpa";
	size_t need = strlen(want) + 1;

	for (size_t cap = 0; cap < need; cap++) {
		char *o = guarded_out(cap);

		memset(o, 'x', cap);
		cr_assert_eq(enum_domain("442079460148", "e164.arpa", o, cap), -ENOSPC, "cap %zu",
			     cap);
		if (cap)
			cr_assert_eq(o[0], '\0');
	}
	cr_assert_eq(enum_domain("442079460148", "e164.arpa", guarded_out(need), need),
		     (int)need - 1);
	cr_assert_str_eq(guarded_out(need), want);
}

/* ---- enum_apply: RFC examples and the choice ------------------------- */

/* RFC 6116's example: three services for one number; only sip is ours. */
Test(enum_apply, rfc6116_example)
{
	struct dns_naptr r[3] = {
		naptr(10, 100, "u", "E2U+sip", ANY_SIP),
		naptr(10, 101, "u", "E2U+h323", "!^.*$!h323:info@example.com!"),
		naptr(10, 102, "u", "E2U+email:mailto", "!^.*$!mailto:info@example.com!"),
	};

	cr_assert_eq(enum_apply(r, 3, AUS, out, sizeof(out)), 20);
	cr_assert_str_eq(out, "sip:info@example.com");
	/* the same with the sip record last */
	struct dns_naptr s[3] = {r[1], r[2], r[0]};
	cr_assert_eq(enum_apply(s, 3, AUS, out, sizeof(out)), 20);
	cr_assert_str_eq(out, "sip:info@example.com");
}

Test(enum_apply, back_references)
{
	struct dns_naptr r = naptr(10, 10, "u", "E2U+sip", "!^\\+44(.*)$!sip:\\1@uk.example.net!");

	cr_assert_eq(enum_apply(&r, 1, AUS_UK, out, sizeof(out)), 29);
	cr_assert_str_eq(out, "sip:2079460148@uk.example.net");

	/* several groups, reused, in any order */
	r = naptr(10, 10, "u", "E2U+sip",
		  "!^\\+(44)(20)([0-9]+)$!sip:\\3-\\3@\\2.\\1.example.net!");
	cr_assert_gt(enum_apply(&r, 1, AUS_UK, out, sizeof(out)), 0);
	cr_assert_str_eq(out, "sip:79460148-79460148@20.44.example.net");

	/* a group that took no part in the match is empty */
	r = naptr(10, 10, "u", "E2U+sip", "!^\\+44(1)?(.*)$!sip:x\\1\\2@example.net!");
	cr_assert_gt(enum_apply(&r, 1, AUS_UK, out, sizeof(out)), 0);
	cr_assert_str_eq(out, "sip:x2079460148@example.net");

	/* no match: nothing applies */
	r = naptr(10, 10, "u", "E2U+sip", "!^\\+1(.*)$!sip:\\1@us.example.net!");
	cr_assert_eq(enum_apply(&r, 1, AUS_UK, out, sizeof(out)), -ENOENT);
	cr_assert_str_eq(out, "");
}

/* RFC 3403 §4.1: lowest order, then lowest preference; the next when one
 * gives nothing. */
Test(enum_apply, order_then_preference)
{
	struct dns_naptr r[4] = {
		naptr(20, 10, "u", "E2U+sip", "!^.*$!sip:d@example.com!"),
		naptr(10, 50, "u", "E2U+sip", "!^.*$!sip:c@example.com!"),
		naptr(10, 20, "u", "E2U+sip", "!^.*$!sip:a@example.com!"),
		naptr(10, 30, "u", "E2U+sip", "!^.*$!sip:b@example.com!"),
	};

	cr_assert_gt(enum_apply(r, 4, AUS, out, sizeof(out)), 0);
	cr_assert_str_eq(out, "sip:a@example.com");
	/* the best one does not match: the next by preference */
	strcpy(r[2].regexp, "!^\\+1.*$!sip:a@example.com!");
	cr_assert_gt(enum_apply(r, 4, AUS, out, sizeof(out)), 0);
	cr_assert_str_eq(out, "sip:b@example.com");
	/* the whole lowest order fails: the next order */
	strcpy(r[3].regexp, "!^\\+1.*$!sip:b@example.com!");
	strcpy(r[1].regexp, "!^.*$!mailto:c@example.com!");
	cr_assert_gt(enum_apply(r, 4, AUS, out, sizeof(out)), 0);
	cr_assert_str_eq(out, "sip:d@example.com");
	/* order counts before preference */
	r[0].preference = 1;
	strcpy(r[1].regexp, "!^.*$!sip:c@example.com!");
	cr_assert_gt(enum_apply(r, 4, AUS, out, sizeof(out)), 0);
	cr_assert_str_eq(out, "sip:c@example.com");
	/* a tie goes to the first given */
	struct dns_naptr t[2] = {
		naptr(10, 10, "u", "E2U+sip", "!^.*$!sip:first@example.com!"),
		naptr(10, 10, "u", "E2U+sip", "!^.*$!sip:second@example.com!"),
	};
	cr_assert_gt(enum_apply(t, 2, AUS, out, sizeof(out)), 0);
	cr_assert_str_eq(out, "sip:first@example.com");
	cr_assert_eq(enum_apply(t, 0, AUS, out, sizeof(out)), -ENOENT);
}

Test(enum_apply, services_and_flags)
{
	static const char *other[] = {
		"E2U+h323", "E2U+email:mailto", "E2U+sip:x", "E2U+sips", "E2U+sipx", "E2U",
		"E2U+",     "sip+E2U", /* RFC 2916's old form, obsoleted by RFC 3761 */
		"E2Usip",   "E2X+sip",          "",
	};
	static const char *sip[] = {"E2U+sip", "e2u+SIP", "E2U+SIP", "E2U+h323+sip",
				    "E2U+sip+email:mailto"};
	struct dns_naptr r;

	for (size_t i = 0; i < sizeof(other) / sizeof(other[0]); i++) {
		r = naptr(10, 10, "u", other[i], ANY_SIP);
		cr_assert_eq(enum_apply(&r, 1, AUS, out, sizeof(out)), -ENOENT, "%s", other[i]);
	}
	/* RFC 6116 §3.4: several enumservices in one record */
	for (size_t i = 0; i < sizeof(sip) / sizeof(sip[0]); i++) {
		r = naptr(10, 10, "u", sip[i], ANY_SIP);
		cr_assert_eq(enum_apply(&r, 1, AUS, out, sizeof(out)), 20, "%s", sip[i]);
	}
	/* flags: "u" in either case; not terminal, unknown or mixed: passed over */
	r = naptr(10, 10, "U", "E2U+sip", ANY_SIP);
	cr_assert_eq(enum_apply(&r, 1, AUS, out, sizeof(out)), 20);
	static const char *flags[] = {"", "s", "a", "p", "us", "uu"};
	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		r = naptr(10, 10, flags[i], "E2U+sip", ANY_SIP);
		cr_assert_eq(enum_apply(&r, 1, AUS, out, sizeof(out)), -ENOENT, "'%s'", flags[i]);
	}
	/* a terminal rule's replacement is "." (RFC 3403 §4.1: regexp and
	 * replacement exclusive) */
	r = naptr(10, 10, "u", "E2U+sip", ANY_SIP);
	strcpy(r.replacement, "next.example.net");
	cr_assert_eq(enum_apply(&r, 1, AUS, out, sizeof(out)), -ENOENT);
	/* non-terminal: a delegation we do not follow */
	r = naptr(10, 10, "", "E2U+sip", "");
	strcpy(r.replacement, "3.8.0.0.6.9.2.3.6.1.4.4.e164.example.net");
	cr_assert_eq(enum_apply(&r, 1, AUS, out, sizeof(out)), -ENOENT);
}

Test(enum_apply, case_insensitive_flag)
{
	struct dns_naptr r = naptr(10, 10, "u", "E2U+sip", "!^TEL-(.*)$!sip:\\1@example.com!");

	cr_assert_eq(enum_apply(&r, 1, "tel-123", out, sizeof(out)), -ENOENT);
	strcpy(r.regexp, "!^TEL-(.*)$!sip:\\1@example.com!i");
	cr_assert_gt(enum_apply(&r, 1, "tel-123", out, sizeof(out)), 0);
	cr_assert_str_eq(out, "sip:123@example.com");
	/* no other flag exists */
	strcpy(r.regexp, "!^TEL-(.*)$!sip:\\1@example.com!g");
	cr_assert_eq(enum_apply(&r, 1, "tel-123", out, sizeof(out)), -ENOENT);
	strcpy(r.regexp, "!^TEL-(.*)$!sip:\\1@example.com!ii");
	cr_assert_eq(enum_apply(&r, 1, "tel-123", out, sizeof(out)), -ENOENT);
}

Test(enum_apply, delimiters)
{
	struct dns_naptr r;

	/* any delimiter; escaped inside both parts */
	r = naptr(10, 10, "u", "E2U+sip", "/^\\+(.*)$/sip:a\\/\\1@example.com/");
	cr_assert_gt(enum_apply(&r, 1, AUS, out, sizeof(out)), 0);
	cr_assert_str_eq(out, "sip:a/441632960083@example.com");
	r = naptr(10, 10, "u", "E2U+sip", "#^\\+44(.*)\\#?$#sip:\\1@example.com#");
	cr_assert_gt(enum_apply(&r, 1, AUS, out, sizeof(out)), 0);
	cr_assert_str_eq(out, "sip:1632960083@example.com");
	/* an escaped delimiter that means something in an ERE stays literal */
	r = naptr(10, 10, "u", "E2U+sip", "|^\\+44(1\\|2)(.*)$|sip:\\2@example.com|");
	cr_assert_eq(enum_apply(&r, 1, AUS, out, sizeof(out)), -ENOENT);
	cr_assert_gt(enum_apply(&r, 1, "+441|2555", out, sizeof(out)), 0);
	cr_assert_str_eq(out, "sip:555@example.com");
	/* "\\" is a backslash; other escapes stand for themselves */
	r = naptr(10, 10, "u", "E2U+sip", "!^.*$!sip:\\a\\-b@example.com!");
	cr_assert_gt(enum_apply(&r, 1, AUS, out, sizeof(out)), 0);
	cr_assert_str_eq(out, "sip:a-b@example.com");
}

/* ---- enum_apply: hostile data ---------------------------------------- */

Test(enum_apply, malformed_regexps)
{
	static const char *bad[] = {
		"",                             /* nothing */
		"!",                            /* delimiter only */
		"!^.*$",                        /* no replacement */
		"!^.*$!sip:info@example.com",   /* no final delimiter */
		"!^.*$!sip:info@example.com!x", /* unknown flag */
		"!^.*$!sip:info@example.com!!", /* a fourth delimiter */
		"1^.*$1sip:info@example.com1",  /* digit delimiter */
		"i^.*$isip:info@example.com!",  /* the flag as delimiter */
		"\\^.*$\\sip:info@example.com\\",
		" ^.*$ sip:info@example.com ",
		"!^(.*$!sip:info@example.com!",      /* regcomp refuses */
		"![!sip:info@example.com!",          /* regcomp refuses */
		"!^.*)$!sip:info@example.com!",      /* unbalanced */
		"!^a{2,1}$!sip:info@example.com!",   /* regcomp refuses */
		"!^.*$!sip:\\1@example.com!",        /* no group 1 */
		"!^(.*)$!sip:\\2@example.com!",      /* no group 2 */
		"!^(.*)$!sip:\\0@example.com!",      /* \0 is not a back-reference */
		"!^(.*)$!sip:info@example.com\\!",   /* the final delimiter escaped */
		"!^(.)\\1.*$!sip:info@example.com!", /* a back-reference in the ERE */
		"!^.*{2}$!sip:info@example.com!",    /* adjacent repetitions */
		"!^.+*$!sip:info@example.com!",
		"!^*.$!sip:info@example.com!", /* a repetition of nothing */
		"!^(*.)$!sip:info@example.com!",
		"!^a|*$!sip:info@example.com!",
		"!^()$!sip:info@example.com!", /* an empty group */
		"!^(){0,63}$!sip:info@example.com!",
	};
	struct dns_naptr r[2];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		r[0] = naptr(10, 10, "u", "E2U+sip", bad[i]);
		strcpy(out, "junk");
		cr_assert_eq(enum_apply(r, 1, AUS, out, sizeof(out)), -ENOENT, "%s", bad[i]);
		cr_assert_str_eq(out, "");
		/* and the next record is used */
		r[1] = naptr(10, 20, "u", "E2U+sip", ANY_SIP);
		cr_assert_eq(enum_apply(r, 2, AUS, out, sizeof(out)), 20, "%s", bad[i]);
	}
}

/* Fields filled to the brim, no NUL: read within bounds, passed over. */
Test(enum_apply, unterminated_fields)
{
	struct dns_naptr r[2] = {naptr(10, 10, "u", "E2U+sip", ANY_SIP),
				 naptr(10, 20, "u", "E2U+sip", "!^.*$!sip:b@example.com!")};

	memset(r[0].regexp, '!', sizeof(r[0].regexp));
	cr_assert_gt(enum_apply(r, 2, AUS, out, sizeof(out)), 0);
	cr_assert_str_eq(out, "sip:b@example.com");
	r[0] = naptr(10, 10, "u", "E2U+sip", ANY_SIP);
	memset(r[0].service, 'x', sizeof(r[0].service));
	memcpy(r[0].service, "E2U+sip+", 8);
	cr_assert_gt(enum_apply(r, 2, AUS, out, sizeof(out)), 0);
	cr_assert_str_eq(out, "sip:b@example.com");
	r[0] = naptr(10, 10, "u", "E2U+sip", ANY_SIP);
	memset(r[0].flags, 'u', sizeof(r[0].flags));
	cr_assert_gt(enum_apply(r, 2, AUS, out, sizeof(out)), 0);
	cr_assert_str_eq(out, "sip:b@example.com");
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Nested bounds that glibc's regcomp() takes minutes and gigabytes to
 * compile are refused before it runs; cheap real-world bounds pass. */
Test(enum_apply, costly_regexps, .timeout = 10)
{
	static const char *costly[] = {
		"!(((a{100}){100}){100}){100}!sip:info@example.com!",
		"!((.{255}){255}){255}!sip:info@example.com!",
		"!(.{1,255}){1,255}!sip:info@example.com!",
		"!^.{0,9999}$!sip:info@example.com!",
		"!^(.{1,16}){1,16}$!sip:info@example.com!",
		"!^(.{1,8}){1,9}$!sip:info@example.com!",
		"!^(.|..|...){1,32}$!sip:info@example.com!",
		"!^(((((((((.*)))))))))$!sip:x@y!", /* 9 deep */
		"!^((.?)*(.?)*(.?)*(.?)*(.?)*(.?)*(.?)*(.?)*(.?)*(.?)*(.?)*(.?)*(.?)*(.?)*)*$!sip:"
		"x@y!",
		"!^((.*)*){20}$!sip:x@y!",
		"!^(.?){20}$!sip:x@y!",
		"!^(.*)*$!sip:x@y!",
		"!^(.){2}$!sip:x@y!", /* a bound on a group */
		"!^.{33}$!sip:x@y!",
		"!^[0-9]{16}[0-9]{16}.$!sip:x@y!",
	};
	struct dns_naptr r;
	double t0 = now_s();

	for (size_t i = 0; i < sizeof(costly) / sizeof(costly[0]); i++) {
		r = naptr(10, 10, "u", "E2U+sip", costly[i]);
		cr_assert_eq(enum_apply(&r, 1, AUS, out, sizeof(out)), -ENOENT, "%s", costly[i]);
	}
	cr_assert_lt(now_s() - t0, 0.5);

	r = naptr(10, 10, "u", "E2U+sip",
		  "!^\\+44([0-9]{4})([0-9]{3})([0-9]{3})$!sip:\\1\\2\\3@example.com!");
	cr_assert_gt(enum_apply(&r, 1, AUS_UK, out, sizeof(out)), 0);
	cr_assert_str_eq(out, "sip:2079460148@example.com");
	r = naptr(10, 10, "u", "E2U+sip",
		  "!^\\+([0-9]{1,3})[[:digit:]]{1,15}$!sip:\\1@example.com!");
	cr_assert_gt(enum_apply(&r, 1, AUS_UK, out, sizeof(out)), 0);
	cr_assert_str_eq(out, "sip:442@example.com");
	r = naptr(10, 10, "u", "E2U+sip", "!^(\\+44)?(0|1|20)?(.*)$!sip:\\3@example.com!");
	cr_assert_gt(enum_apply(&r, 1, AUS_UK, out, sizeof(out)), 0);
	cr_assert_str_eq(out, "sip:79460148@example.com");
	r = naptr(10, 10, "u", "E2U+sip", "!^(((\\+)))44((((.*))))$!sip:\\7@example.com!");
	cr_assert_gt(enum_apply(&r, 1, AUS_UK, out, sizeof(out)), 0);
	cr_assert_str_eq(out, "sip:2079460148@example.com");
	r = naptr(10, 10, "u", "E2U+sip", "!^[]+]44(.{10,})$!sip:\\1@example.com!");
	cr_assert_gt(enum_apply(&r, 1, AUS_UK, out, sizeof(out)), 0);
	cr_assert_str_eq(out, "sip:2079460148@example.com");
}

Test(enum_apply, results_that_are_not_sip_uris)
{
	static const char *bad[] = {
		"!^.*$!mailto:info@example.com!",
		"!^.*$!tel:+441632960083!",
		"!^.*$!h323:info@example.com!",
		"!^.*$!sip:!",
		"!^.*$!sip:info@!",
		"!^.*$!!",
		"!^.*$!sip:info@example.com\r\nVia: SIP/2.0/UDP evil!",
		"!^.*$!sip:info@example.com x!",
		"!^.*$!sip:info@example.com\t!",
		"!^.*$!sip:info@example.com?Route=%3Csip:evil%3E!",
		"!^.*$!<sip:info@example.com>!",
		"!^.*$!sip:info@exa\x01mple.com!",
		"!^.*$!sip:info@ex\xc3\xa9mple.com!",
	};
	struct dns_naptr r;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		r = naptr(10, 10, "u", "E2U+sip", bad[i]);
		cr_assert_eq(enum_apply(&r, 1, AUS, out, sizeof(out)), -ENOENT, "%s", bad[i]);
	}
	static const char *good[] = {"!^.*$!sips:info@example.com!", "!^.*$!SIP:info@example.com!",
				     "!^.*$!sip:example.com;transport=tcp!",
				     "!^.*$!sip:info@[2001:db8::1]:5070!"};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		r = naptr(10, 10, "u", "E2U+sip", good[i]);
		cr_assert_gt(enum_apply(&r, 1, AUS, out, sizeof(out)), 0, "%s", good[i]);
	}
}

/* A result that does not fit is refused, never cut, at every short cap;
 * the next record may still fit. */
Test(enum_apply, over_long_results)
{
	struct dns_naptr r[2] = {
		naptr(10, 10, "u", "E2U+sip", "!^\\+(.*)$!sip:\\1\\1\\1\\1@example.com!"),
		naptr(10, 20, "u", "E2U+sip", "!^.*$!sip:i@ex.com!"),
	};
	const char *want = "sip:441632960083441632960083441632960083441632960083@example.com";
	size_t need = strlen(want) + 1, short_len = strlen("sip:i@ex.com");

	for (size_t cap = 0; cap < need; cap++) {
		char *o = guarded_out(cap);

		memset(o, 'x', cap);
		cr_assert_eq(enum_apply(r, 1, AUS, o, cap), -ENOENT, "cap %zu", cap);
		if (cap)
			cr_assert_eq(o[0], '\0');
		if (cap > short_len)
			cr_assert_eq(enum_apply(r, 2, AUS, o, cap), (int)short_len, "cap %zu", cap);
	}
	cr_assert_eq(enum_apply(r, 1, AUS, guarded_out(need), need), (int)need - 1);
	cr_assert_str_eq(guarded_out(need), want);

	/* back-references cannot make more than ENUM_URI_MAX either */
	r[0] = naptr(10, 10, "u", "E2U+sip",
		     "!^(.*)$!sip:\\1\\1\\1\\1\\1\\1\\1\\1\\1\\1\\1\\1\\1\\1\\1\\1\\1\\1\\1"
		     "\\1@example.com!");
	cr_assert_eq(enum_apply(r, 1, "+44163296008344163296008344", out, sizeof(out)), -ENOENT);
}

/* ---- enum_lookup over a stand-in resolver ---------------------------- */

static struct {
	int calls;
	char name[DNS_NAME_MAX];
	enum dns_type type;
	dns_cb cb;
	void *arg;
	const struct dns_answer *cached; /* answer before returning */
	int rc;                          /* else return this (0: pending) */
} fake;

int dns_lookup(struct dns *d, const char *name, enum dns_type type, dns_cb cb, void *arg)
{
	fake.calls++;
	snprintf(fake.name, sizeof(fake.name), "%s", name);
	fake.type = type;
	if (fake.cached) {
		cb(arg, fake.cached);
		return 1;
	}
	if (fake.rc < 0)
		return fake.rc;
	fake.cb = cb;
	fake.arg = arg;
	return 0;
}

static struct {
	int calls, status;
	char uri[ENUM_URI_MAX];
	bool null_uri;
} got;

static void on_enum(void *arg, int status, const char *uri)
{
	cr_assert_eq(arg, &got);
	got.calls++;
	got.status = status;
	got.null_uri = uri == NULL;
	snprintf(got.uri, sizeof(got.uri), "%s", uri ? uri : "");
}

static struct dns *const any_dns = (struct dns *)&fake; /* never dereferenced */

static struct dns_answer naptr_answer(const char *regexp)
{
	struct dns_answer a = {.status = 0, .type = DNS_NAPTR, .ttl = 60, .n = 2};

	a.r.naptr[0] = naptr(10, 10, "u", "E2U+h323", "!^.*$!h323:x@example.com!");
	a.r.naptr[1] = naptr(10, 20, "u", "E2U+sip", regexp);
	return a;
}

Test(enum_lookup, cached_answer_before_return)
{
	struct dns_answer a = naptr_answer("!^\\+44(.*)$!sip:\\1@uk.example.net!");

	a.cached = true;
	fake.cached = &a;
	cr_assert_eq(enum_lookup(any_dns, "e164.arpa", "442079460148", on_enum, &got), 0);
	cr_assert_eq(fake.calls, 1);
	cr_assert_str_eq(fake.name, "8.4.1.0.6.4.9.7.0.2.4.4.e164.arpa");
	cr_assert_eq(fake.type, DNS_NAPTR);
	cr_assert_eq(got.calls, 1);
	cr_assert_eq(got.status, 0);
	cr_assert_str_eq(got.uri, "sip:2079460148@uk.example.net");
}

Test(enum_lookup, later_answers)
{
	struct {
		struct dns_answer a;
		int want;
	} cases[] = {
		{naptr_answer(ANY_SIP), 0},
		{naptr_answer("!^.*$!mailto:x@example.com!"), -ENOENT},
		{{.status = -ENOENT, .type = DNS_NAPTR}, -ENOENT},
		{{.status = -ETIMEDOUT, .type = DNS_NAPTR}, -ETIMEDOUT},
		{{.status = -EIO, .type = DNS_NAPTR}, -EIO},
		{{.status = -ECANCELED, .type = DNS_NAPTR}, -ECANCELED},
		{{.status = -EPROTO, .type = DNS_NAPTR}, -EIO},
		{{.status = 0, .type = DNS_A, .n = 1}, -EIO},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&got, 0, sizeof(got));
		fake.cb = NULL;
		cr_assert_eq(enum_lookup(any_dns, "e164.arpa.", "441632960083", on_enum, &got), 0);
		cr_assert_str_eq(fake.name, "3.8.0.0.6.9.2.3.6.1.4.4.e164.arpa");
		cr_assert_eq(got.calls, 0, "case %zu: called before the answer", i);
		cr_assert_not_null(fake.cb);
		fake.cb(fake.arg, &cases[i].a);
		cr_assert_eq(got.calls, 1, "case %zu", i);
		cr_assert_eq(got.status, cases[i].want, "case %zu: %d", i, got.status);
		cr_assert_eq(got.null_uri, cases[i].want != 0, "case %zu", i);
		if (cases[i].want == 0)
			cr_assert_str_eq(got.uri, "sip:info@example.com");
	}
}

Test(enum_lookup, refusals_without_callback)
{
	cr_assert_eq(enum_lookup(any_dns, "e164.arpa", "+441632960083", on_enum, &got), -EINVAL);
	cr_assert_eq(enum_lookup(any_dns, "e164.arpa", "", on_enum, &got), -EINVAL);
	cr_assert_eq(enum_lookup(any_dns, "", "441632960083", on_enum, &got), -EINVAL);
	cr_assert_eq(enum_lookup(NULL, "e164.arpa", "441632960083", on_enum, &got), -EINVAL);
	cr_assert_eq(enum_lookup(any_dns, "e164.arpa", "441632960083", NULL, &got), -EINVAL);
	/* a domain longer than a name may be */
	char digits[200];
	memset(digits, '1', sizeof(digits) - 1);
	digits[sizeof(digits) - 1] = '\0';
	cr_assert_eq(enum_lookup(any_dns, "e164.arpa", digits, on_enum, &got), -EINVAL);
	cr_assert_eq(fake.calls, 0);
	/* the resolver refuses: passed on, no callback */
	fake.rc = -EINVAL;
	cr_assert_eq(enum_lookup(any_dns, "e164.arpa", "441632960083", on_enum, &got), -EINVAL);
	cr_assert_eq(fake.calls, 1);
	cr_assert_eq(got.calls, 0);
}
