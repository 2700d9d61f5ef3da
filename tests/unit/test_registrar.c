/*
 * Unit tests for the registrar's decisions that need no database (RFC 3261
 * §10.3 steps 2 and 5-7): the AOR, Require, Contacts, "*", and the expiry
 * rules (default, Min-Expires, clamping), q, +sip.instance and reg-id.
 */
#include "config/config.h"
#include "registrar/registrar.h"
#include "sip/sip_msg.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

static struct config cfg;
static struct sip_hdr hdrs[64];
static struct sip_msg m;
static struct reg_refusal why;

static void setup(void)
{
	cr_assert_eq(config_load_string("[sip]\ndomain = example.com\n"
					"[registrar]\nmin_expires = 60\nmax_expires = 7200\n"
					"default_expires = 3600\n",
					"t.conf", &cfg, stderr),
		     0);
}

TestSuite(registrar, .init = setup);

static void parse(const char *extra_headers)
{
	static char buf[4096];
	char text[4096];
	size_t o = 0;

	snprintf(text, sizeof(text),
		 "REGISTER sip:example.com SIP/2.0\n"
		 "Via: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK1\n"
		 "From: <sip:alice@example.com>;tag=1\n"
		 "To: <sip:alice@Example.COM>\n"
		 "Call-ID: c1\n"
		 "CSeq: 7 REGISTER\n"
		 "%s"
		 "Content-Length: 0\n\n",
		 extra_headers);
	for (const char *p = text; *p; p++) {
		if (*p == '\n')
			buf[o++] = '\r';
		buf[o++] = *p;
	}
	cr_assert_eq(sip_msg_parse(&m, buf, o, hdrs, 64, NULL), 0);
}

static unsigned contacts(const char *headers, struct reg_contacts *rc)
{
	parse(headers);
	return registrar_read_contacts(&cfg, &m, rc, &why);
}

Test(registrar, aor_is_lowercased_and_realm_is_the_domain)
{
	struct reg_aor a;

	parse("");
	cr_assert_eq(registrar_check_aor(&cfg, &m, &a, &why), 0);
	cr_assert_str_eq(a.aor, "sip:alice@example.com");
	cr_assert_str_eq(a.realm, "example.com");
	cr_assert_eq(a.user.len, 5);
}

Test(registrar, foreign_aor_is_404)
{
	static char buf[512];
	const char *msg =
		"REGISTER sip:example.com SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"
		"From: <sip:a@example.com>;tag=1\r\nTo: <sip:a@example.org>\r\n"
		"Call-ID: c\r\nCSeq: 1 REGISTER\r\nContent-Length: 0\r\n\r\n";
	struct reg_aor a;

	memcpy(buf, msg, strlen(msg));
	cr_assert_eq(sip_msg_parse(&m, buf, strlen(msg), hdrs, 64, NULL), 0);
	cr_assert_eq(registrar_check_aor(&cfg, &m, &a, &why), 404);
}

Test(registrar, aor_of_another_scheme_is_400)
{
	/* RFC 4475 §3.3.4: a registrar refuses a To that is no SIP URI. */
	static char buf[512];
	const char *msg =
		"REGISTER sip:example.com SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"
		"From: http://www.example.com;tag=1\r\nTo: isbn:2983792873\r\n"
		"Call-ID: c\r\nCSeq: 1 REGISTER\r\nContent-Length: 0\r\n\r\n";
	struct reg_aor a;

	memcpy(buf, msg, strlen(msg));
	cr_assert_eq(sip_msg_parse(&m, buf, strlen(msg), hdrs, 64, NULL), 0);
	cr_assert_eq(registrar_check_aor(&cfg, &m, &a, &why), 400);
	cr_assert_str_eq(why.reason, "To Is Not a SIP URI");
}

Test(registrar, unsupported_require_is_420_naming_it)
{
	struct reg_aor a;

	parse("Require: path, foo\n");
	cr_assert_eq(registrar_check_aor(&cfg, &m, &a, &why), 420);
	cr_assert_str_eq(why.extra, "Unsupported: foo\r\n");
	parse("Require: path\n");
	cr_assert_eq(registrar_check_aor(&cfg, &m, &a, &why), 0);
}

Test(registrar, default_expires_and_q)
{
	struct reg_contacts rc;

	cr_assert_eq(contacts("Contact: <sip:a@10.0.0.1>\n", &rc), 0);
	cr_assert_eq(rc.n, 1);
	cr_assert_eq(rc.expires[0], 3600);
	cr_assert_eq(rc.q[0], 1000);
	cr_assert(rc.reg_id_null[0]);
	cr_assert_null(rc.instance[0].p);
}

Test(registrar, expires_header_then_param)
{
	struct reg_contacts rc;

	cr_assert_eq(contacts("Expires: 300\nContact: <sip:a@10.0.0.1>, "
			      "<sip:b@10.0.0.2>;expires=120;q=0.3\n",
			      &rc),
		     0);
	cr_assert_eq(rc.n, 2);
	cr_assert_eq(rc.expires[0], 300);
	cr_assert_eq(rc.expires[1], 120);
	cr_assert_eq(rc.q[1], 300);
}

Test(registrar, too_brief_is_423_with_min_expires)
{
	struct reg_contacts rc;

	cr_assert_eq(contacts("Contact: <sip:a@10.0.0.1>;expires=30\n", &rc), 423);
	cr_assert_str_eq(why.extra, "Min-Expires: 60\r\n");
	/* zero is a removal, never too brief */
	cr_assert_eq(contacts("Contact: <sip:a@10.0.0.1>;expires=0\n", &rc), 0);
	cr_assert_eq(rc.expires[0], 0);
}

Test(registrar, too_long_is_clamped)
{
	struct reg_contacts rc;

	cr_assert_eq(contacts("Expires: 100000\nContact: <sip:a@10.0.0.1>\n", &rc), 0);
	cr_assert_eq(rc.expires[0], 7200);
}

Test(registrar, star_rules)
{
	struct reg_contacts rc;

	cr_assert_eq(contacts("Contact: *\nExpires: 0\n", &rc), 0);
	cr_assert(rc.star);
	cr_assert_eq(rc.n, 0);
	cr_assert_eq(contacts("Contact: *\nExpires: 60\n", &rc), 400);
	cr_assert_eq(contacts("Contact: *\n", &rc), 400, "no Expires: not 0");
	cr_assert_eq(contacts("Contact: *, <sip:a@10.0.0.1>\nExpires: 0\n", &rc), 400);
	cr_assert_str_eq(why.reason, "Invalid Contact *");
}

Test(registrar, query_has_no_contacts)
{
	struct reg_contacts rc;

	cr_assert_eq(contacts("", &rc), 0);
	cr_assert_eq(rc.n, 0);
	cr_assert_not(rc.star);
}

Test(registrar, outbound_instance_and_reg_id)
{
	struct reg_contacts rc;

	cr_assert_eq(contacts("Contact: <sip:a@10.0.0.1;transport=tcp>;reg-id=2;"
			      "+sip.instance=\"<urn:uuid:00000000-0000-1000-8000-000A95A0E128>\"\n",
			      &rc),
		     0);
	cr_assert_eq(rc.reg_id[0], 2);
	cr_assert_not(rc.reg_id_null[0]);
	cr_assert_eq(rc.instance[0].len,
		     strlen("\"<urn:uuid:00000000-0000-1000-8000-000A95A0E128>\""));
	cr_assert_eq(rc.uri[0].len, strlen("sip:a@10.0.0.1;transport=tcp"));
}

Test(registrar, bad_contacts)
{
	struct reg_contacts rc;

	cr_assert_eq(contacts("Contact: <sip:a@10.0.0.1\n", &rc), 400);
	cr_assert_eq(contacts("Contact: <sip:a@10.0.0.1>;q=2\n", &rc), 400);
	cr_assert_eq(contacts("Expires: soon\nContact: <sip:a@10.0.0.1>\n", &rc), 400);
	cr_assert_str_eq(why.reason, "Bad Expires");
	cr_assert_eq(contacts("Contact: <sip:\xff\xfe@10.0.0.1>\n", &rc), 400, "not UTF-8");
}
