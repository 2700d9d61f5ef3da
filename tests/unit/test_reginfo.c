/*
 * Unit tests for reginfo: the exact document for a known registration,
 * escaping of every markup character, the event names of RFC 3680 §5.3
 * (each accepted, a wrong one refused), the other refusals, the
 * registration state, -ENOSPC at every capacity below the one needed with
 * the output buffer ending where a PROT_NONE page begins (so a write past
 * it crashes the test), and built documents validated against the §5.4
 * schema (tests/integration/reginfo.xsd) with xmllint, offline.
 */
#include "registrar/reginfo.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define S(lit) SIP_STR(lit)

static char out[8192];

static struct reginfo_contact contact(const char *id, const char *uri, bool active,
				      const char *event)
{
	return (struct reginfo_contact){
		.id = sip_str_cstr(id),
		.uri = sip_str_cstr(uri),
		.active = active,
		.event = event,
		.expires = active ? 3600 : 0,
		.duration = -1,
		.q = -1,
		.call_id = SIP_STR_NULL,
		.cseq = -1,
	};
}

/* Two contacts: every optional attribute on one or the other. */
static void known_input(struct reginfo_contact c[2])
{
	c[0] = contact("b1", "sip:alice@192.0.2.1:5060;transport=tcp", true, "registered");
	c[0].q = 800;
	c[0].call_id = S("c1@pc");
	c[0].cseq = 2;
	c[1] = contact("b2", "sip:alice@198.51.100.2", false, "expired");
	c[1].duration = 7322;
	c[1].q = 1000;
}

static const char known_doc[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	"<reginfo xmlns=\"urn:ietf:params:xml:ns:reginfo\" version=\"3\" state=\"full\">\n"
	"  <registration aor=\"sip:alice@example.com\" id=\"a7\" state=\"active\">\n"
	"    <contact id=\"b1\" state=\"active\" event=\"registered\" expires=\"3600\" q=\"0.8\""
	" callid=\"c1@pc\" cseq=\"2\">\n"
	"      <uri>sip:alice@192.0.2.1:5060;transport=tcp</uri>\n"
	"    </contact>\n"
	"    <contact id=\"b2\" state=\"terminated\" event=\"expired\""
	" duration-registered=\"7322\" q=\"1\">\n"
	"      <uri>sip:alice@198.51.100.2</uri>\n"
	"    </contact>\n"
	"  </registration>\n"
	"</reginfo>\n";

Test(reginfo, known_document)
{
	struct reginfo_contact c[2];
	ssize_t n;

	known_input(c);
	n = reginfo_build(out, sizeof(out), S("sip:alice@example.com"), S("a7"), 3, true,
			  reginfo_reg_state(c, 2), c, 2);
	cr_assert_eq(n, (ssize_t)strlen(known_doc), "%zd: %s", n, out);
	cr_assert_str_eq(out, known_doc);
}

Test(reginfo, partial_init_no_contacts)
{
	ssize_t n = reginfo_build(out, sizeof(out), S("sip:bob@example.com"), S("r"), UINT64_MAX,
				  false, reginfo_reg_state(NULL, 0), NULL, 0);
	const char *want =
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<reginfo xmlns=\"urn:ietf:params:xml:ns:reginfo\" version=\"18446744073709551615\""
		" state=\"partial\">\n"
		"  <registration aor=\"sip:bob@example.com\" id=\"r\" state=\"init\">\n"
		"  </registration>\n"
		"</reginfo>\n";

	cr_assert_eq(n, (ssize_t)strlen(want));
	cr_assert_str_eq(out, want);
}

Test(reginfo, escaping)
{
	struct reginfo_contact c = contact("i&<>\"'", "sip:a@b;x=\"<&>\";y='z'", true, "created");
	ssize_t n;

	c.call_id = S("cid<'&'>\t\r\n");
	c.expires = 0;
	n = reginfo_build(out, sizeof(out), S("sip:\"q\"&<a>@example.com"), S("id'\"&"), 0, true,
			  "active", &c, 1);
	cr_assert_gt(n, 0);
	cr_assert_not_null(strstr(out, " aor=\"sip:&quot;q&quot;&amp;&lt;a&gt;@example.com\""),
			   "%s", out);
	cr_assert_not_null(strstr(out, " id=\"id&apos;&quot;&amp;\" state=\"active\">"), "%s", out);
	cr_assert_not_null(strstr(out, "<contact id=\"i&amp;&lt;&gt;&quot;&apos;\" state=\"active\""
				       " event=\"created\" expires=\"0\""
				       " callid=\"cid&lt;&apos;&amp;&apos;&gt;&#9;&#13;&#10;\">"),
			   "%s", out);
	cr_assert_not_null(
		strstr(out, "<uri>sip:a@b;x=&quot;&lt;&amp;&gt;&quot;;y=&apos;z&apos;</uri>"), "%s",
		out);
	/* no raw markup character is left anywhere but in the markup itself */
	cr_assert_null(strstr(out, "\"q\""));
	cr_assert_null(strstr(out, "<a>"));
}

Test(reginfo, utf8_text_kept)
{
	struct reginfo_contact c =
		contact("\xc3\xa9t\xc3\xa9", "sip:j\xc3\xbcrgen@example.com", true, "registered");

	cr_assert_gt(reginfo_build(out, sizeof(out), S("sip:j\xc3\xbcrgen@example.com"), S("r"), 1,
				   true, "active", &c, 1),
		     0);
	cr_assert_not_null(strstr(out, "<uri>sip:j\xc3\xbcrgen@example.com</uri>"));
}

Test(reginfo, every_event_accepted)
{
	static const char *const ev[] = {"registered", "created",      "refreshed",
					 "shortened",  "expired",      "deactivated",
					 "probation",  "unregistered", "rejected"};
	char want[64];

	for (size_t i = 0; i < sizeof(ev) / sizeof(ev[0]); i++) {
		struct reginfo_contact c = contact("1", "sip:a@192.0.2.1", i % 2 == 0, ev[i]);

		cr_assert_gt(reginfo_build(out, sizeof(out), S("sip:a@example.com"), S("r"), i,
					   true, reginfo_reg_state(&c, 1), &c, 1),
			     0, "%s", ev[i]);
		snprintf(want, sizeof(want), " event=\"%s\"", ev[i]);
		cr_assert_not_null(strstr(out, want), "%s", ev[i]);
	}
}

Test(reginfo, wrong_event_refused)
{
	static const char *const bad[] = {"",           "Registered", "registered ", "refresh",
					  "terminated", "active",     "expired\n",   "unknown"};
	struct reginfo_contact c[2];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		known_input(c);
		c[1].event = bad[i];
		strcpy(out, "untouched");
		cr_assert_eq(reginfo_build(out, sizeof(out), S("sip:a@example.com"), S("r"), 1,
					   true, "active", c, 2),
			     -EINVAL, "'%s'", bad[i]);
		cr_assert_str_eq(out, "", "'%s'", bad[i]);
		/* refused whatever the room: checked before writing */
		cr_assert_eq(reginfo_build(out, 1, S("sip:a@example.com"), S("r"), 1, true,
					   "active", c, 2),
			     -EINVAL);
	}
	known_input(c);
	c[0].event = NULL;
	cr_assert_eq(reginfo_build(out, sizeof(out), S("sip:a@example.com"), S("r"), 1, true,
				   "active", c, 2),
		     -EINVAL);
}

Test(reginfo, other_refusals)
{
	struct reginfo_contact c[2];
	struct sip_str aor = S("sip:a@example.com"), id = S("r");

	known_input(c);
	cr_assert_eq(reginfo_build(NULL, 100, aor, id, 1, true, "active", c, 2), -EINVAL);
	cr_assert_eq(reginfo_build(out, sizeof(out), aor, id, 1, true, NULL, c, 2), -EINVAL);
	cr_assert_eq(reginfo_build(out, sizeof(out), aor, id, 1, true, "active", NULL, 2), -EINVAL);
	cr_assert_eq(reginfo_build(out, sizeof(out), aor, id, 1, true, "full", c, 2), -EINVAL);
	cr_assert_eq(reginfo_build(out, sizeof(out), aor, id, 1, true, "Active", c, 2), -EINVAL);
	cr_assert_eq(reginfo_build(out, sizeof(out), SIP_STR_NULL, id, 1, true, "active", c, 2),
		     -EINVAL);
	cr_assert_eq(reginfo_build(out, sizeof(out), aor, SIP_STR_NULL, 1, true, "active", c, 2),
		     -EINVAL);
	/* a slice that points nowhere with a length */
	cr_assert_eq(
		reginfo_build(out, sizeof(out), sip_str_make(NULL, 3), id, 1, true, "active", c, 2),
		-EINVAL);
	/* text XML 1.0 cannot carry: invalid UTF-8, C0 controls */
	cr_assert_eq(reginfo_build(out, sizeof(out), S("sip:\xff@example.com"), id, 1, true,
				   "active", c, 2),
		     -EINVAL);
	c[0].uri = S("sip:a\x01@example.com");
	cr_assert_eq(reginfo_build(out, sizeof(out), aor, id, 1, true, "active", c, 2), -EINVAL);
	known_input(c);
	c[1].call_id = sip_str_make("a\0b", 3);
	cr_assert_eq(reginfo_build(out, sizeof(out), aor, id, 1, true, "active", c, 2), -EINVAL);
	known_input(c);
	c[0].id = SIP_STR_NULL; /* the contact's id is required */
	cr_assert_eq(reginfo_build(out, sizeof(out), aor, id, 1, true, "active", c, 2), -EINVAL);
	known_input(c);
	c[0].q = 1001;
	cr_assert_eq(reginfo_build(out, sizeof(out), aor, id, 1, true, "active", c, 2), -EINVAL);
	/* and nothing else is refused */
	known_input(c);
	cr_assert_gt(reginfo_build(out, sizeof(out), aor, id, 1, true, "terminated", c, 2), 0);
}

Test(reginfo, q_values)
{
	static const struct {
		int64_t q;
		const char *text;
	} qs[] = {{0, "0"},      {1, "0.001"}, {10, "0.01"},   {80, "0.08"}, {100, "0.1"},
		  {250, "0.25"}, {500, "0.5"}, {999, "0.999"}, {1000, "1"}};
	char want[32];

	for (size_t i = 0; i < sizeof(qs) / sizeof(qs[0]); i++) {
		struct reginfo_contact c = contact("1", "sip:a@192.0.2.1", true, "refreshed");

		c.q = qs[i].q;
		cr_assert_gt(reginfo_build(out, sizeof(out), S("sip:a@example.com"), S("r"), 1,
					   true, "active", &c, 1),
			     0);
		snprintf(want, sizeof(want), " q=\"%s\">", qs[i].text);
		cr_assert_not_null(strstr(out, want), "q %lld: %s", (long long)qs[i].q, out);
	}
}

Test(reginfo, expires_only_when_active)
{
	struct reginfo_contact c = contact("1", "sip:a@192.0.2.1", false, "unregistered");

	c.expires = 30;
	cr_assert_gt(reginfo_build(out, sizeof(out), S("sip:a@example.com"), S("r"), 1, true,
				   "terminated", &c, 1),
		     0);
	cr_assert_null(strstr(out, "expires="));
	c.active = true;
	c.expires = -1;
	cr_assert_gt(reginfo_build(out, sizeof(out), S("sip:a@example.com"), S("r"), 1, true,
				   "active", &c, 1),
		     0);
	cr_assert_null(strstr(out, "expires="));
	c.expires = 30;
	cr_assert_gt(reginfo_build(out, sizeof(out), S("sip:a@example.com"), S("r"), 1, true,
				   "active", &c, 1),
		     0);
	cr_assert_not_null(strstr(out, " expires=\"30\">"));
}

Test(reginfo, reg_state)
{
	struct reginfo_contact c[3];

	for (int i = 0; i < 3; i++)
		c[i] = contact("1", "sip:a@192.0.2.1", false, "expired");
	cr_assert_str_eq(reginfo_reg_state(c, 0), "init");
	cr_assert_str_eq(reginfo_reg_state(NULL, 0), "init");
	cr_assert_str_eq(reginfo_reg_state(c, 3), "terminated");
	c[2].active = true;
	cr_assert_str_eq(reginfo_reg_state(c, 3), "active");
	cr_assert_str_eq(reginfo_reg_state(c, 2), "terminated");
}

/* A writable region of exactly cap bytes that ends where a PROT_NONE
 * page begins; the region is big enough for any cap up to max. */
static char *guard_base;
static size_t guard_data;

static char *guarded_out(size_t cap)
{
	return guard_base + guard_data - cap;
}

static void guard_setup(size_t max)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	char *map;

	guard_data = (max + pg - 1) / pg * pg;
	map = mmap(NULL, guard_data + pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
		   0);
	cr_assert(map != MAP_FAILED);
	cr_assert(mprotect(map + guard_data, pg, PROT_NONE) == 0);
	guard_base = map;
}

Test(reginfo, enospc_at_every_short_cap)
{
	struct reginfo_contact c[2];
	ssize_t need, n;

	known_input(c);
	c[0].uri = S("sip:alice&bob@192.0.2.1:5060;transport=tcp;x=\"<y>\"");
	need = reginfo_build(out, sizeof(out), S("sip:alice@example.com"), S("a<7>"), 12345, true,
			     "active", c, 2);
	cr_assert_gt(need, 0);
	guard_setup((size_t)need + 1);
	for (size_t cap = 0; cap <= (size_t)need; cap++) {
		char *o = guarded_out(cap);

		memset(o, 'x', cap);
		n = reginfo_build(o, cap, S("sip:alice@example.com"), S("a<7>"), 12345, true,
				  "active", c, 2);
		cr_assert_eq(n, -ENOSPC, "cap %zu: %zd", cap, n);
		if (cap)
			cr_assert_eq(o[0], '\0', "cap %zu", cap);
	}
	/* the exact room: the document and its NUL, to the last byte */
	n = reginfo_build(guarded_out((size_t)need + 1), (size_t)need + 1,
			  S("sip:alice@example.com"), S("a<7>"), 12345, true, "active", c, 2);
	cr_assert_eq(n, need);
	cr_assert_str_eq(guarded_out((size_t)need + 1), out);
}

/* ---- validation against the schema of RFC 3680 §5.4 --------------------- */

static bool is_file(const char *path)
{
	return access(path, R_OK) == 0;
}

/* tests/integration/reginfo.xsd: under $TOP_SRCDIR (make check) or
 * $SRCDIR, else the source tree this file was compiled from, else up
 * from the test binary (build/tests/unit/ in a tree or out of it). */
static bool find_xsd(char *buf, size_t cap)
{
	static const char rel[] = "tests/integration/reginfo.xsd";
	const char *envs[] = {"TOP_SRCDIR", "SRCDIR"};
	const char *me = __FILE__, *suffix = "tests/unit/test_reginfo.c";
	size_t n = strlen(me), s = strlen(suffix);
	char exe[PATH_MAX];
	ssize_t len;

	for (size_t i = 0; i < 2; i++) {
		const char *d = getenv(envs[i]);

		if (d && *d && (size_t)snprintf(buf, cap, "%s/%s", d, rel) < cap && is_file(buf))
			return true;
	}
	if (n >= s && strcmp(me + n - s, suffix) == 0 &&
	    (size_t)snprintf(buf, cap, "%.*s%s", (int)(n - s), me, rel) < cap && is_file(buf))
		return true;
	len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (len <= 0)
		return false;
	exe[len] = '\0';
	for (int up = 0; up < 5; up++) {
		char *slash = strrchr(exe, '/');

		if (!slash)
			break;
		*slash = '\0';
		if ((size_t)snprintf(buf, cap, "%s/%s", exe, rel) < cap && is_file(buf))
			return true;
	}
	return false;
}

/* Skips when xmllint is not installed (libxml2-utils); under CI=true that
 * is a failure, as for the integration tests. */
static void need_xmllint(void)
{
	if (system("command -v xmllint >/dev/null 2>&1") == 0)
		return;
	cr_assert(!getenv("CI") || strcmp(getenv("CI"), "true") != 0,
		  "xmllint not installed (CI=true: no skipping)");
	cr_skip_test("xmllint not installed (libxml2-utils)");
}

/* xmllint's verdict on doc[0..len) against the schema: its exit status
 * (0: valid), its messages in log. --nonet: nothing is fetched, the xml
 * namespace's schema is the local copy reginfo.xsd imports. */
static int xmllint(const char *xsd, const char *doc, size_t len, char *log, size_t logcap)
{
	char path[] = "/tmp/test_reginfo.XXXXXX";
	char cmd[PATH_MAX * 2 + 64];
	int fd = mkstemp(path), rc;
	FILE *p;
	size_t got = 0;

	cr_assert(fd >= 0);
	cr_assert_eq(write(fd, doc, len), (ssize_t)len);
	close(fd);
	snprintf(cmd, sizeof(cmd), "xmllint --noout --nonet --schema '%s' '%s' 2>&1", xsd, path);
	p = popen(cmd, "r");
	cr_assert_not_null(p);
	while (got + 1 < logcap && fgets(log + got, (int)(logcap - got), p))
		got += strlen(log + got);
	log[got] = '\0';
	rc = pclose(p);
	unlink(path);
	return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

Test(reginfo, documents_valid_against_rfc3680_schema)
{
	static const char *const ev[] = {"registered", "created",      "refreshed",
					 "shortened",  "expired",      "deactivated",
					 "probation",  "unregistered", "rejected"};
	char xsd[PATH_MAX], log[4096];
	struct reginfo_contact c[9];
	ssize_t n;

	need_xmllint();
	cr_assert(find_xsd(xsd, sizeof(xsd)), "tests/integration/reginfo.xsd not found");

	/* the known document */
	known_input(c);
	n = reginfo_build(out, sizeof(out), S("sip:alice@example.com"), S("a7"), 3, true, "active",
			  c, 2);
	cr_assert_gt(n, 0);
	cr_assert_eq(xmllint(xsd, out, (size_t)n, log, sizeof(log)), 0, "%s\n%s", log, out);

	/* init, partial, no contacts */
	n = reginfo_build(out, sizeof(out), S("sip:bob@example.com"), S("r0"), 0, false, "init",
			  NULL, 0);
	cr_assert_gt(n, 0);
	cr_assert_eq(xmllint(xsd, out, (size_t)n, log, sizeof(log)), 0, "%s\n%s", log, out);

	/* every event, every optional attribute, escaped text */
	for (unsigned i = 0; i < 9; i++) {
		c[i] = contact("x", "sip:u@192.0.2.9;transport=tcp", i % 3 != 0, ev[i]);
		c[i].id = i % 2 ? S("id<&>\"'") : S("0123456789abcdef");
		c[i].duration = i * 100;
		c[i].q = i * 111;
		c[i].call_id = S("call'\"<&>@host");
		c[i].cseq = i;
	}
	/* (not an IPv6 reference: libxml2's anyURI check refuses "[" and "]"
	 * outside "//authority", though XSD 1.0 takes RFC 2732's amendment) */
	c[4].uri = S("sip:u@192.0.2.9:5070;ob");
	n = reginfo_build(out, sizeof(out), S("sip:carol@example.com"), S("reg&<>"), 42, true,
			  reginfo_reg_state(c, 9), c, 9);
	cr_assert_gt(n, 0);
	cr_assert_eq(xmllint(xsd, out, (size_t)n, log, sizeof(log)), 0, "%s\n%s", log, out);

	/* all terminated */
	for (unsigned i = 0; i < 3; i++)
		c[i].active = false;
	n = reginfo_build(out, sizeof(out), S("sip:carol@example.com"), S("r"), 43, false,
			  reginfo_reg_state(c, 3), c, 3);
	cr_assert_gt(n, 0);
	cr_assert_not_null(strstr(out, "state=\"terminated\">"));
	cr_assert_eq(xmllint(xsd, out, (size_t)n, log, sizeof(log)), 0, "%s\n%s", log, out);

	/* and the schema is not a rubber stamp: a wrong event fails it */
	{
		const char *bad = "<?xml version=\"1.0\"?>\n"
				  "<reginfo xmlns=\"urn:ietf:params:xml:ns:reginfo\" version=\"0\""
				  " state=\"full\"><registration aor=\"sip:a@b\" id=\"r\""
				  " state=\"active\"><contact id=\"1\" state=\"active\""
				  " event=\"bogus\"><uri>sip:a@c</uri></contact></registration>"
				  "</reginfo>\n";

		cr_assert_neq(xmllint(xsd, bad, strlen(bad), log, sizeof(log)), 0, "%s", log);
	}
}
