/*
 * Unit tests for e164, the E.164 number of a Request-URI's user part:
 * every step of the rule in e164.h (RFC 3966 parameters cut, visual
 * separators dropped, '+', the international and national prefixes of
 * [routing], the country code), the 15-digit limit, what is not a
 * number (letters, short extensions, a bare prefix, a '+' inside), the
 * configuration's effect (no country code, an empty international or
 * national prefix, other prefixes) and the room given for the result.
 */
#include "config/config.h"
#include "proxy/e164.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

static struct config cfg;

static void setup(void)
{
	config_defaults(&cfg);
	strcpy(cfg.routing.country_code, "49");
}

TestSuite(e164, .init = setup);

/* The result for user as a string, or "EINVAL"/"ENOSPC"; checks that the
 * length returned is that of the string. */
static const char *norm(const char *user)
{
	static char out[E164_MAX_DIGITS + 1];
	int n = e164_normalise(&cfg, sip_str_cstr(user), out, sizeof(out));

	if (n == -EINVAL)
		return "EINVAL";
	if (n == -ENOSPC)
		return "ENOSPC";
	cr_assert_geq(n, 1);
	cr_assert_eq((size_t)n, strlen(out), "length of %s", out);
	return out;
}

Test(e164, defaults)
{
	config_defaults(&cfg);
	cr_expect_str_empty(cfg.routing.country_code);
	cr_expect_str_eq(cfg.routing.national_prefix, "0");
	cr_expect_str_eq(cfg.routing.international_prefix, "00");
}

Test(e164, plus_is_international)
{
	cr_expect_str_eq(norm("+4930123456"), "4930123456");
	cr_expect_str_eq(norm("+1"), "1");
	cr_expect_str_eq(norm("+0049"), "0049", "after '+' the digits are taken as they are");
}

Test(e164, international_prefix_stripped)
{
	cr_expect_str_eq(norm("004930123456"), "4930123456");
	cr_expect_str_eq(norm("0012125550100"), "12125550100");
}

Test(e164, national_prefix_becomes_country_code)
{
	cr_expect_str_eq(norm("030123456"), "4930123456");
	cr_expect_str_eq(norm("01701234567"), "491701234567");
}

Test(e164, separators_dropped)
{
	/* RFC 3966 §5.1.1 visual separators */
	cr_expect_str_eq(norm("+49-30-123.456"), "4930123456");
	cr_expect_str_eq(norm("(030) 123"), "EINVAL", "a blank is not a separator");
	cr_expect_str_eq(norm("(030)123-456"), "4930123456");
	cr_expect_str_eq(norm("+1.212.555.0100"), "12125550100");
	cr_expect_str_eq(norm("00-49-30-1"), "49301");
}

Test(e164, parameters_cut)
{
	cr_expect_str_eq(norm("+4930123456;npdi"), "4930123456");
	cr_expect_str_eq(norm("030123;phone-context=+49"), "4930123");
	cr_expect_str_eq(norm("+49301;isub=12;x=a"), "49301");
	cr_expect_str_eq(norm(";npdi"), "EINVAL");
}

Test(e164, not_numbers)
{
	cr_expect_str_eq(norm("alice"), "EINVAL");
	cr_expect_str_eq(norm("1234"), "EINVAL", "a short extension is not E.164");
	cr_expect_str_eq(norm("4930123456"), "EINVAL", "no prefix, no '+': not known to be E.164");
	cr_expect_str_eq(norm(""), "EINVAL");
	cr_expect_str_eq(norm("+"), "EINVAL");
	cr_expect_str_eq(norm("+-.()"), "EINVAL", "separators only");
	cr_expect_str_eq(norm("00"), "EINVAL", "the international prefix alone");
	cr_expect_str_eq(norm("0"), "EINVAL", "the national prefix alone");
	cr_expect_str_eq(norm("+49+30"), "EINVAL", "'+' only in front");
	cr_expect_str_eq(norm("+49 30"), "EINVAL");
	cr_expect_str_eq(norm("+49%2030"), "EINVAL", "escapes are not decoded");
	cr_expect_str_eq(norm("*67030123"), "EINVAL");
	cr_expect_str_eq(norm("030#1"), "EINVAL");
	cr_expect_str_eq(norm("+4930abc"), "EINVAL");
}

Test(e164, at_most_15_digits)
{
	cr_expect_str_eq(norm("+123456789012345"), "123456789012345");
	cr_expect_str_eq(norm("+1234567890123456"), "EINVAL");
	cr_expect_str_eq(norm("00123456789012345"), "123456789012345");
	cr_expect_str_eq(norm("001234567890123456"), "EINVAL");
	/* 49 + 13 digits = 15; 49 + 14 = 16 */
	cr_expect_str_eq(norm("01234567890123"), "491234567890123");
	cr_expect_str_eq(norm("012345678901234"), "EINVAL");
	cr_expect_str_eq(norm("+1234567890123456789012345678901234567890"), "EINVAL");
	cr_expect_str_eq(norm("+1-2-3-4-5-6-7-8-9-0-1-2-3-4-5"), "123456789012345",
			 "separators do not count");
}

Test(e164, no_country_code)
{
	cfg.routing.country_code[0] = '\0';
	cr_expect_str_eq(norm("030123456"), "EINVAL", "national, but which country?");
	cr_expect_str_eq(norm("004930123456"), "4930123456");
	cr_expect_str_eq(norm("+4930123456"), "4930123456");
}

Test(e164, empty_international_prefix)
{
	cfg.routing.international_prefix[0] = '\0';
	cr_expect_str_eq(norm("004930123456"), "4904930123456",
			 "no international prefix: the national 0, then 04930123456");
	cr_expect_str_eq(norm("+4930123456"), "4930123456");
}

Test(e164, empty_national_prefix)
{
	/* a numbering plan without a trunk prefix: every digit string that
	 * is not international is national */
	cfg.routing.national_prefix[0] = '\0';
	strcpy(cfg.routing.country_code, "39");
	cr_expect_str_eq(norm("0612345678"), "390612345678");
	cr_expect_str_eq(norm("00496912"), "496912");
	cr_expect_str_eq(norm("1234"), "391234");
}

Test(e164, other_prefixes)
{
	/* North America: 011 international, 1 national (trunk) */
	strcpy(cfg.routing.country_code, "1");
	strcpy(cfg.routing.international_prefix, "011");
	strcpy(cfg.routing.national_prefix, "1");
	cr_expect_str_eq(norm("01144207946"), "44207946");
	cr_expect_str_eq(norm("12125550100"), "12125550100");
	cr_expect_str_eq(norm("2125550100"), "EINVAL", "no trunk prefix");
	cr_expect_str_eq(norm("0044"), "EINVAL", "00 means nothing here");
}

Test(e164, room_for_the_result)
{
	char out[16];
	struct sip_str u = sip_str_cstr("+4930123456");

	memset(out, 'x', sizeof(out));
	cr_expect_eq(e164_normalise(&cfg, u, out, 10), -ENOSPC, "10 digits need 11 bytes");
	cr_expect_eq(out[0], 'x', "nothing written");
	cr_expect_eq(e164_normalise(&cfg, u, out, 11), 10);
	cr_expect_str_eq(out, "4930123456");
}

Test(e164, slice_not_nul_terminated)
{
	const char buf[] = "+4930123456789@example.com";
	char out[16];

	cr_expect_eq(e164_normalise(&cfg, sip_str_make(buf, 9), out, sizeof(out)), 8);
	cr_expect_str_eq(out, "49301234");
}
