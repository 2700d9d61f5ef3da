/*
 * Unit tests for config: defaults, a full file, every kind of error with
 * its exact "FILE:LINE: message", lists and repeated keys, the range of
 * every number at its bounds, listen/domain/advertise syntax, and the
 * committed etc/junction.conf.
 *
 * Errors are captured with open_memstream(3) and compared whole, so an
 * extra, missing or misplaced message fails the test.
 */
#include "config/config.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Loads text as "t.conf"; returns config_load_string()'s value and the
 * error output in *errs (caller frees). */
static int load(const char *text, struct config *cfg, char **errs)
{
	size_t len;
	FILE *f = open_memstream(errs, &len);
	int rc;

	cr_assert_not_null(f);
	rc = config_load_string(text, "t.conf", cfg, f);
	fclose(f);
	return rc;
}

/* The text must load with exactly the error output expect ("" = none). */
static void expect_errors(const char *text, const char *expect)
{
	struct config cfg;
	char *errs = NULL;
	int rc = load(text, &cfg, &errs);

	cr_expect_str_eq(errs, expect, "for:\n%s", text);
	cr_expect_eq(rc, *expect ? -EINVAL : 0, "for:\n%s", text);
	free(errs);
}

static void load_ok(const char *text, struct config *cfg)
{
	char *errs = NULL;
	int rc = load(text, cfg, &errs);

	cr_assert_str_eq(errs, "", "for:\n%s", text);
	cr_assert_eq(rc, 0);
	free(errs);
}

static unsigned expected_workers(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	long w = n < 1 ? 2 : 2 * n;
	return w > 256 ? 256 : (unsigned)w;
}

Test(config, defaults)
{
	struct config cfg;

	memset(&cfg, 0x5a, sizeof(cfg));
	config_defaults(&cfg);
	cr_assert_eq(cfg.sip.nlisten, 2);
	cr_assert_eq(cfg.sip.listen[0].proto, SIP_PROTO_UDP);
	cr_assert_str_eq(cfg.sip.listen[0].text, "udp:127.0.0.1:5060");
	cr_assert_eq(netaddr_family(&cfg.sip.listen[0].addr), AF_INET);
	cr_assert_eq(netaddr_port(&cfg.sip.listen[0].addr), 5060);
	cr_assert_eq(cfg.sip.listen[1].proto, SIP_PROTO_TCP);
	cr_assert_str_eq(cfg.sip.listen[1].text, "tcp:127.0.0.1:5060");
	cr_assert_eq(cfg.sip.ndomains, 0);
	cr_assert_str_eq(cfg.sip.advertise, "");
	cr_assert_eq(cfg.sip.workers, expected_workers());
	cr_assert_geq(cfg.sip.workers, 2);
	cr_assert_eq(cfg.sip.queue_depth, 4096);
	cr_assert_eq(cfg.sip.limits.max_message_size, SIP_DEFAULT_MAX_MESSAGE_SIZE);
	cr_assert_eq(cfg.sip.limits.max_headers, SIP_DEFAULT_MAX_HEADERS);
	cr_assert_eq(cfg.sip.limits.max_line_length, SIP_DEFAULT_MAX_LINE_LENGTH);
	cr_assert_eq(cfg.sip.limits.max_vias, SIP_DEFAULT_MAX_VIAS);
	cr_assert_eq(cfg.sip.mode, PROXY_MODE_STATEFUL);
	cr_assert_eq(cfg.sip.record_route, false);
	cr_assert_eq(cfg.sip.tcp_idle_timeout, 300);
	cr_assert_eq(cfg.sip.tcp_max_connections, 4096);
	cr_assert_eq(cfg.sip.udp_mtu, 0, "never switch to TCP for size by default");
	cr_assert_eq(cfg.auth.nalgorithms, 1, "MD5 alone by default");
	cr_assert_eq(cfg.auth.algorithms[0], 0);
	cr_assert_eq(cfg.log.level, LOG_LVL_INFO);
	cr_assert_str_eq(cfg.log.target, "stderr");
	cr_assert_str_eq(cfg.path, "");
}

Test(config, empty_file_is_defaults)
{
	struct config a, b;

	config_defaults(&a);
	load_ok("", &b);
	cr_assert_str_eq(b.path, "t.conf");
	memset(b.path, 0, sizeof(b.path));
	cr_assert_eq(memcmp(&a, &b, sizeof(a)), 0);
	load_ok("; only a comment\n\n# another\n[sip]\n[log]\n", &b);
	cr_assert_eq(b.sip.nlisten, 2);
}

Test(config, full_file)
{
	struct config cfg;

	load_ok("; Junction\n"
		"[sip]\n"
		"listen = udp:192.0.2.1:5060, tcp:[2001:DB8::1]:5061\n"
		"listen = ws:0.0.0.0:8080\n"
		"domain = Example.COM sip.example.com\n"
		"domain = [2001:db8::1], 192.0.2.1\n"
		"advertise = SBC.example.com:5080\n"
		"workers = 8\n"
		"queue_depth = 100\n"
		"max_message_size = 8192\n"
		"max_headers = 64\n"
		"max_line_length = 1000\n"
		"max_vias = 10\n"
		"mode = Stateful ; inline comment\n"
		"record_route = yes\n"
		"tcp_idle_timeout = 60\n"
		"tcp_max_connections = 100\n"
		"\n"
		"[log]\n"
		"level = debug\n"
		"target = /var/log/junction/junction.log\n",
		&cfg);
	cr_assert_eq(cfg.sip.nlisten, 3);
	cr_assert_str_eq(cfg.sip.listen[0].text, "udp:192.0.2.1:5060");
	cr_assert_str_eq(cfg.sip.listen[1].text, "tcp:[2001:db8::1]:5061");
	cr_assert_eq(cfg.sip.listen[1].proto, SIP_PROTO_TCP);
	cr_assert_eq(netaddr_family(&cfg.sip.listen[1].addr), AF_INET6);
	cr_assert_str_eq(cfg.sip.listen[2].text, "ws:0.0.0.0:8080");
	cr_assert_eq(cfg.sip.listen[2].proto, SIP_PROTO_WS);
	cr_assert_eq(cfg.sip.ndomains, 4);
	cr_assert_str_eq(cfg.sip.domain[0], "example.com");
	cr_assert_str_eq(cfg.sip.domain[1], "sip.example.com");
	cr_assert_str_eq(cfg.sip.domain[2], "2001:db8::1");
	cr_assert_str_eq(cfg.sip.domain[3], "192.0.2.1");
	cr_assert_str_eq(cfg.sip.advertise, "sbc.example.com:5080");
	cr_assert_eq(cfg.sip.workers, 8);
	cr_assert_eq(cfg.sip.queue_depth, 100);
	cr_assert_eq(cfg.sip.limits.max_message_size, 8192);
	cr_assert_eq(cfg.sip.limits.max_headers, 64);
	cr_assert_eq(cfg.sip.limits.max_line_length, 1000);
	cr_assert_eq(cfg.sip.limits.max_vias, 10);
	cr_assert_eq(cfg.sip.mode, PROXY_MODE_STATEFUL);
	cr_assert_eq(cfg.sip.record_route, true);
	cr_assert_eq(cfg.sip.tcp_idle_timeout, 60);
	cr_assert_eq(cfg.sip.tcp_max_connections, 100);
	cr_assert_eq(cfg.log.level, LOG_LVL_DEBUG);
	cr_assert_str_eq(cfg.log.target, "/var/log/junction/junction.log");
}

Test(config, file_syntax)
{
	struct config cfg;

	/* Indented keys are keys, not continuation lines; CRLF, a BOM, ':'
	 * as separator and comments after the section name are accepted. */
	load_ok("\xEF\xBB\xBF[sip]\r\n"
		"  workers = 3\r\n"
		"\tqueue_depth: 64\r\n"
		"[log] ; logging\n"
		"    level = warn\n",
		&cfg);
	cr_assert_eq(cfg.sip.workers, 3);
	cr_assert_eq(cfg.sip.queue_depth, 64);
	cr_assert_eq(cfg.log.level, LOG_LVL_WARN);
}

Test(config, unknown_section_and_key)
{
	expect_errors("[sip]\nworkers = 2\n[nosuch]\nconninfo = x\nfoo = y\n[log]\nlevel = info\n",
		      "t.conf:3: unknown section [nosuch]\n");
	expect_errors("[sip]\nworkers = 2\nfoo = 1\n", "t.conf:3: unknown key 'foo' in [sip]\n");
	expect_errors("[log]\nlisten = udp:127.0.0.1:5060\n",
		      "t.conf:2: unknown key 'listen' in [log]\n");
	expect_errors("[SIP]\nworkers = 2\n", "t.conf:1: unknown section [SIP]\n");
	expect_errors("[sip]\nWorkers = 2\n", "t.conf:2: unknown key 'Workers' in [sip]\n");
	expect_errors("workers = 2\n[sip]\n",
		      "t.conf:1: 'workers' is outside any section (it belongs in [sip])\n");
	expect_errors("\nfoo = 2\n", "t.conf:2: 'foo' is outside any section\n");
}

Test(config, syntax_errors)
{
	expect_errors("[sip\nworkers = 2\n", "t.conf:1: no ']' at the end of the section name\n");
	expect_errors("[sip]\nworkers\n",
		      "t.conf:2: expected 'key = value', '[section]' or a comment\n");
	expect_errors("[sip]\n= 4\n", "t.conf:2: no key name before '='\n");
	expect_errors("[sip]\nworkers =\n", "t.conf:2: 'workers' has no value\n");
	/* The section is still entered: the key below is checked against it. */
	expect_errors("[sip] junk\nworkers = 0\n",
		      "t.conf:1: unexpected text after ']'\n"
		      "t.conf:2: workers: '0' is out of range 1..256\n");
	/* '#' starts a comment only at the start of a line. */
	expect_errors("[sip]\nworkers = 4 # four\n",
		      "t.conf:2: workers: '4 # four' is not a number (expected 1..256)\n");
}

Test(config, line_length_bound)
{
	char text[512];
	char line[200];
	struct config cfg;

	/* inih's buffer holds 198 characters, "\n" and a NUL. Trailing blanks
	 * count as characters of the line. */
	memset(line, ' ', sizeof(line));
	memcpy(line, "workers = 7", 11);
	line[198] = '\0';
	snprintf(text, sizeof(text), "[sip]\n%s\n", line);
	load_ok(text, &cfg);
	cr_assert_eq(cfg.sip.workers, 7);
	line[198] = ' ';
	line[199] = '\0';
	snprintf(text, sizeof(text), "[sip]\n%s\n", line);
	expect_errors(text, "t.conf:2: the line is longer than 198 characters (repeat a list key "
			    "to split a long list)\n");
}

Test(config, long_line)
{
	char text[512];
	char value[300];

	memset(value, ' ', sizeof(value));
	value[sizeof(value) - 1] = '\0';
	memcpy(value, "udp:127.0.0.1:5060", 18);
	snprintf(text, sizeof(text), "[sip]\nlisten = %s\nworkers = 0\n", value);
	/* Reported once, with its line, and not split into a second line. */
	expect_errors(text, "t.conf:2: the line is longer than 198 characters (repeat a list key "
			    "to split a long list)\n"
			    "t.conf:3: workers: '0' is out of range 1..256\n");
}

Test(config, all_errors_reported)
{
	expect_errors("[sip]\n"
		      "workers = 0\n"
		      "; fine\n"
		      "queue_depth = lots\n"
		      "mode = fast\n"
		      "[nope]\n"
		      "x = 1\n"
		      "[log]\n"
		      "level = loud\n"
		      "target = junction.log\n"
		      "target = stderr\n",
		      "t.conf:2: workers: '0' is out of range 1..256\n"
		      "t.conf:4: queue_depth: 'lots' is not a number (expected 16..1048576)\n"
		      "t.conf:5: mode: 'fast' is not one of stateless|stateful|redirect\n"
		      "t.conf:6: unknown section [nope]\n"
		      "t.conf:9: level: 'loud' is not one of error|warn|info|debug\n"
		      "t.conf:10: target: 'junction.log' is not stderr, syslog or an absolute "
		      "path\n"
		      "t.conf:11: 'target' is set twice (first at line 10)\n");
}

Test(config, scalar_twice)
{
	expect_errors("[sip]\nworkers = 2\n\nworkers = 2\n",
		      "t.conf:4: 'workers' is set twice (first at line 2)\n");
	/* Another [sip] section is the same section. */
	expect_errors("[sip]\nmode = stateless\n[log]\n[sip]\nmode = redirect\n",
		      "t.conf:5: 'mode' is set twice (first at line 2)\n");
}

Test(config, list_appends)
{
	struct config cfg;

	/* The first occurrence replaces the default; later ones append. */
	load_ok("[sip]\nlisten = udp:10.0.0.1:5060\nlisten = tcp:10.0.0.1:5060,udp:[::1]:5060 ,\n"
		"domain = a.example\ndomain = b.example,,c.example\n",
		&cfg);
	cr_assert_eq(cfg.sip.nlisten, 3);
	cr_assert_str_eq(cfg.sip.listen[0].text, "udp:10.0.0.1:5060");
	cr_assert_str_eq(cfg.sip.listen[1].text, "tcp:10.0.0.1:5060");
	cr_assert_str_eq(cfg.sip.listen[2].text, "udp:[::1]:5060");
	cr_assert_eq(cfg.sip.ndomains, 3);
	cr_assert_str_eq(cfg.sip.domain[2], "c.example");
}

Test(config, list_limits)
{
	char text[4096] = "[sip]\n";
	struct config cfg;

	for (int i = 0; i < CFG_MAX_LISTEN; i++)
		snprintf(text + strlen(text), sizeof(text) - strlen(text),
			 "listen = udp:127.0.0.1:%d\n", 5000 + i);
	for (int i = 0; i < CFG_MAX_DOMAINS; i++)
		snprintf(text + strlen(text), sizeof(text) - strlen(text), "domain = d%d.example\n",
			 i);
	load_ok(text, &cfg);
	cr_assert_eq(cfg.sip.nlisten, CFG_MAX_LISTEN);
	cr_assert_eq(cfg.sip.ndomains, CFG_MAX_DOMAINS);

	strcat(text, "listen = udp:127.0.0.1:6000\ndomain = one.too.many\n");
	expect_errors(text, "t.conf:50: listen: more than 16 addresses ('udp:127.0.0.1:6000' is "
			    "one too many)\n"
			    "t.conf:51: domain: more than 32 domains ('one.too.many' is one too "
			    "many)\n");
}

struct range_case {
	const char *name;
	size_t off;
	unsigned min, max;
};

#define RANGE(key, field, lo, hi)                                                                  \
	{                                                                                          \
		key, offsetof(struct config, field), lo, hi                                        \
	}

static const struct range_case ranges[] = {
	RANGE("workers", sip.workers, 1, 256),
	RANGE("queue_depth", sip.queue_depth, 16, 1048576),
	RANGE("max_message_size", sip.limits.max_message_size, 1024, 1048576),
	RANGE("max_headers", sip.limits.max_headers, 16, 1024),
	RANGE("max_line_length", sip.limits.max_line_length, 256, 65535),
	RANGE("max_vias", sip.limits.max_vias, 1, 255),
	RANGE("tcp_idle_timeout", sip.tcp_idle_timeout, 1, 86400),
	RANGE("tcp_max_connections", sip.tcp_max_connections, 1, 1048576),
};

Test(config, ranges)
{
	char text[128], expect[256];
	struct config cfg;

	for (size_t i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++) {
		const struct range_case *r = &ranges[i];
		unsigned bad[] = {r->min - 1, r->max + 1};

		snprintf(text, sizeof(text), "[sip]\n%s = %u\n", r->name, r->min);
		load_ok(text, &cfg);
		cr_expect_eq(*(unsigned *)((char *)&cfg + r->off), r->min, "%s", r->name);
		snprintf(text, sizeof(text), "[sip]\n%s = %u\n", r->name, r->max);
		load_ok(text, &cfg);
		cr_expect_eq(*(unsigned *)((char *)&cfg + r->off), r->max, "%s", r->name);
		for (int j = 0; j < 2; j++) {
			snprintf(text, sizeof(text), "[sip]\n%s = %u\n", r->name, bad[j]);
			snprintf(expect, sizeof(expect),
				 "t.conf:2: %s: '%u' is out of range %u..%u\n", r->name, bad[j],
				 r->min, r->max);
			expect_errors(text, expect);
		}
	}
	expect_errors("[sip]\nworkers = 99999999999\n",
		      "t.conf:2: workers: '99999999999' is out of range 1..256\n");
	expect_errors("[sip]\nworkers = -1\n",
		      "t.conf:2: workers: '-1' is not a number (expected 1..256)\n");
	expect_errors("[sip]\nworkers = 0x10\n",
		      "t.conf:2: workers: '0x10' is not a number (expected 1..256)\n");
}

Test(config, booleans)
{
	static const char *const yes[] = {"yes", "true", "on", "1", "YES", "True"};
	static const char *const no[] = {"no", "false", "off", "0", "No", "OFF"};
	char text[64];
	struct config cfg;

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		snprintf(text, sizeof(text), "[sip]\nrecord_route = %s\n", yes[i]);
		load_ok(text, &cfg);
		cr_expect(cfg.sip.record_route, "%s", yes[i]);
		snprintf(text, sizeof(text), "[sip]\nrecord_route = %s\n", no[i]);
		cfg.sip.record_route = true;
		load_ok(text, &cfg);
		cr_expect_not(cfg.sip.record_route, "%s", no[i]);
	}
	expect_errors("[sip]\nrecord_route = maybe\n",
		      "t.conf:2: record_route: 'maybe' is not a boolean "
		      "(expected yes/no/true/false/on/off/1/0)\n");
	expect_errors("[sip]\nrecord_route = 2\n", "t.conf:2: record_route: '2' is not a boolean "
						   "(expected yes/no/true/false/on/off/1/0)\n");
}

Test(config, mode_and_log)
{
	struct config cfg;

	load_ok("[sip]\nmode = redirect\n[log]\nlevel = ERROR\ntarget = syslog\n", &cfg);
	cr_assert_eq(cfg.sip.mode, PROXY_MODE_REDIRECT);
	cr_assert_eq(cfg.log.level, LOG_LVL_ERROR);
	cr_assert_str_eq(cfg.log.target, "syslog");
	load_ok("[sip]\nmode = stateless\n[log]\ntarget = STDERR\n", &cfg);
	cr_assert_eq(cfg.sip.mode, PROXY_MODE_STATELESS);
	cr_assert_str_eq(cfg.log.target, "stderr");
	expect_errors("[log]\ntarget = ./junction.log\n",
		      "t.conf:2: target: './junction.log' is not stderr, syslog or an absolute "
		      "path\n");
	expect_errors("[log]\nlevel = warning\n",
		      "t.conf:2: level: 'warning' is not one of error|warn|info|debug\n");
}

struct listen_case {
	const char *value;
	const char *error; /* after "t.conf:2: listen: " */
};

static const struct listen_case bad_listen[] = {
	{"127.0.0.1:5060", "'127.0.0.1:5060' has no transport: expected PROTO:ADDRESS:PORT, e.g. "
			   "udp:192.0.2.1:5060 or tcp:[2001:db8::1]:5060"},
	{"udp", "'udp' has no transport: expected PROTO:ADDRESS:PORT, e.g. udp:192.0.2.1:5060 or "
		"tcp:[2001:db8::1]:5060"},
	{"sctp:127.0.0.1:5060", "'sctp:127.0.0.1:5060' has an unknown transport 'sctp' (expected "
				"udp, tcp, tls, ws or wss)"},
	{"udp:localhost:5060", "'udp:localhost:5060': 'localhost' is not a numeric IPv4 or IPv6 "
			       "address (host names are not allowed here)"},
	{"udp:sip.example.com:5060", "'udp:sip.example.com:5060': 'sip.example.com' is not a "
				     "numeric IPv4 or IPv6 address (host names are not allowed "
				     "here)"},
	{"udp:127.0.0.1", "'udp:127.0.0.1' has no port"},
	{"udp:", "'udp:' has no port"},
	{"udp:127.0.0.1:", "'udp:127.0.0.1:': port '' is not a number in 1..65535"},
	{"udp:127.0.0.1:0", "'udp:127.0.0.1:0': port '0' is not a number in 1..65535"},
	{"udp:127.0.0.1:65536", "'udp:127.0.0.1:65536': port '65536' is not a number in 1..65535"},
	{"udp:127.0.0.1:50x", "'udp:127.0.0.1:50x': port '50x' is not a number in 1..65535"},
	{"udp:[::1]", "'udp:[::1]' has no port"},
	{"udp:[::1:5060", "'udp:[::1:5060' has no ']' after the IPv6 address"},
	{"udp:::1:5060", "'udp:::1:5060': an IPv6 address goes in brackets, e.g. udp:[::1]:5060"},
	{"udp:[::g]:5060", "'udp:[::g]:5060': '[::g]' is not a numeric IPv4 or IPv6 address (host "
			   "names are not allowed here)"},
	{"udp:[1:2:3:4:5:6:7:8:9]:5060", "'udp:[1:2:3:4:5:6:7:8:9]:5060': '[1:2:3:4:5:6:7:8:9]' "
					 "is not a numeric IPv4 or IPv6 address (host names are "
					 "not allowed here)"},
	{"udp:[127.0.0.1]:5060", "'udp:[127.0.0.1]:5060': '[127.0.0.1]' is not a numeric IPv4 or "
				 "IPv6 address (host names are not allowed here)"},
	{"udp:256.1.1.1:5060", "'udp:256.1.1.1:5060': '256.1.1.1' is not a numeric IPv4 or IPv6 "
			       "address (host names are not allowed here)"},
	{"udp:127.0.0.1:5060 UDP:127.0.0.1:5060", "'udp:127.0.0.1:5060' is listed twice"},
	{"udp:[::1]:5060 udp:[0:0::1]:5060", "'udp:[::1]:5060' is listed twice"},
	{"tcp:127.0.0.1:5061 ws:127.0.0.1:5061",
	 "'tcp:127.0.0.1:5061' and 'ws:127.0.0.1:5061' cannot share one TCP port"},
};

Test(config, listen_errors)
{
	char text[256], expect[512];

	for (size_t i = 0; i < sizeof(bad_listen) / sizeof(bad_listen[0]); i++) {
		snprintf(text, sizeof(text), "[sip]\nlisten = %s\n", bad_listen[i].value);
		snprintf(expect, sizeof(expect), "t.conf:2: listen: %s\n", bad_listen[i].error);
		expect_errors(text, expect);
	}
}

Test(config, listen_good)
{
	struct config cfg;

	/* udp and tcp share a port; the text is the normal form. */
	load_ok("[sip]\nlisten = UDP:[::]:5060 tcp:[::]:5060 udp:127.0.0.1:65535 "
		"WS:[2001:0db8::0001]:8080\n",
		&cfg);
	cr_assert_eq(cfg.sip.nlisten, 4);
	cr_assert_str_eq(cfg.sip.listen[0].text, "udp:[::]:5060");
	cr_assert(netaddr_is_any(&cfg.sip.listen[0].addr));
	cr_assert_eq(cfg.sip.listen[1].proto, SIP_PROTO_TCP);
	cr_assert_eq(netaddr_port(&cfg.sip.listen[2].addr), 65535);
	cr_assert_str_eq(cfg.sip.listen[3].text, "ws:[2001:db8::1]:8080");
}

/* TLS: what a tls: or wss: listener needs is checked whole at load (the
 * files themselves in tests/integration/tls.sh, with real certificates). */
Test(config, tls_requirements)
{
	expect_errors("[sip]\nlisten = tls:127.0.0.1:5061\n",
		      "t.conf:2: a tls: or wss: listener needs [tls] certificate and "
		      "private_key\n");
	expect_errors("[sip]\nlisten = wss:127.0.0.1:443\n[tls]\ncertificate = /c.pem\n",
		      "t.conf:4: a tls: or wss: listener needs [tls] certificate and "
		      "private_key\n");
	expect_errors("[sip]\nlisten = udp:127.0.0.1:5060\n[tls]\nverify_server = no\n",
		      "t.conf:2: [tls] is set, but no tls: or wss: listener in [sip] listen uses "
		      "it (outgoing TLS leaves from one)\n");
	expect_errors("[sip]\nlisten = tls:127.0.0.1:5061\n[tls]\ncertificate = /c.pem\n"
		      "private_key = /k.pem\nverify_client = require\n",
		      "t.conf:6: [tls] verify_client needs [tls] ca_file (the CAs whose client "
		      "certificates are accepted)\n");
	expect_errors("[sip]\nlisten = tls:127.0.0.1:5061\n[tls]\ncertificate = /c.pem\n"
		      "private_key = /k.pem\ntrusted_peers = sbc.example.com\n",
		      "t.conf:6: [tls] trusted_peers needs verify_client = optional or require (a "
		      "name is trusted only from a certificate that verified)\n");
	expect_errors("[sip]\nlisten = udp:127.0.0.1:5060\n[tls]\nmin_version = 1.1\n",
		      "t.conf:4: min_version: '1.1' is not one of 1.2|1.3\n"
		      "t.conf:2: [tls] is set, but no tls: or wss: listener in [sip] listen uses "
		      "it (outgoing TLS leaves from one)\n");
	expect_errors("[sip]\nlisten = udp:127.0.0.1:5060\n[tls]\nverify_client = maybe\n",
		      "t.conf:4: verify_client: 'maybe' is not one of no|optional|require\n"
		      "t.conf:2: [tls] is set, but no tls: or wss: listener in [sip] listen uses "
		      "it (outgoing TLS leaves from one)\n");
}

/* A certificate file that is not there fails the load, saying which. */
Test(config, tls_missing_file)
{
	struct config cfg;
	char *errs = NULL;

	cr_assert_eq(load("[sip]\nlisten = tls:127.0.0.1:5061\n[tls]\n"
			  "certificate = /nonexistent/c.pem\nprivate_key = /nonexistent/k.pem\n",
			  &cfg, &errs),
		     -EINVAL);
	cr_assert(strstr(errs, "t.conf:4: [tls] certificate /nonexistent/c.pem does not load"),
		  "%s", errs);
	free(errs);
}

Test(config, domains)
{
	struct config cfg;

	load_ok("[sip]\ndomain = LocalHost 127.0.0.1 [::1] 2001:DB8:0::5 a-b.c9.example\n", &cfg);
	cr_assert_eq(cfg.sip.ndomains, 5);
	cr_assert_str_eq(cfg.sip.domain[0], "localhost");
	cr_assert_str_eq(cfg.sip.domain[1], "127.0.0.1");
	cr_assert_str_eq(cfg.sip.domain[2], "::1");
	cr_assert_str_eq(cfg.sip.domain[3], "2001:db8::5");
	cr_assert_str_eq(cfg.sip.domain[4], "a-b.c9.example");

	expect_errors("[sip]\ndomain = under_score.example\n",
		      "t.conf:2: domain: 'under_score.example' is not a host name or IP address: a "
		      "host name has only letters, digits, '-' and '.'\n");
	expect_errors("[sip]\ndomain = example.com.\n",
		      "t.conf:2: domain: 'example.com.' is not a host name or IP address: it has "
		      "an empty label\n");
	expect_errors("[sip]\ndomain = a..b\n",
		      "t.conf:2: domain: 'a..b' is not a host name or IP address: it has an empty "
		      "label\n");
	expect_errors("[sip]\ndomain = -a.example\n",
		      "t.conf:2: domain: '-a.example' is not a host name or IP address: a label "
		      "starts with '-'\n");
	expect_errors("[sip]\ndomain = a-.example\n",
		      "t.conf:2: domain: 'a-.example' is not a host name or IP address: a label "
		      "ends with '-'\n");
	expect_errors("[sip]\ndomain = 192.0.2.300\n",
		      "t.conf:2: domain: '192.0.2.300' is not a host name or IP address: it is not "
		      "a valid IPv4 address\n");
	expect_errors("[sip]\ndomain = [::g]\n",
		      "t.conf:2: domain: '[::g]' is not a host name or IP address: it is not a "
		      "valid IPv6 address\n");
	expect_errors("[sip]\ndomain = [192.0.2.1]\n",
		      "t.conf:2: domain: '[192.0.2.1]' is not a host name or IP address: brackets "
		      "are for IPv6 addresses only\n");
	expect_errors("[sip]\ndomain = a.example A.EXAMPLE\n",
		      "t.conf:2: domain: 'A.EXAMPLE' is listed twice\n");
	expect_errors("[sip]\ndomain = "
		      "a234567890123456789012345678901234567890123456789012345678901234.example\n",
		      "t.conf:2: domain: "
		      "'a234567890123456789012345678901234567890123456789012345678901234.example' "
		      "is not a host name or IP address: a label is longer than 63 characters\n");
}

Test(config, is_domain)
{
	struct config cfg;

	load_ok("[sip]\ndomain = example.com 192.0.2.1 ::1 [2001:db8::1]\n", &cfg);
	cr_assert(config_is_domain(&cfg, SIP_STR("example.com")));
	cr_assert(config_is_domain(&cfg, SIP_STR("EXAMPLE.Com")));
	cr_assert(config_is_domain(&cfg, SIP_STR("192.0.2.1")));
	cr_assert(config_is_domain(&cfg, SIP_STR("[::1]")));
	cr_assert(config_is_domain(&cfg, SIP_STR("::1")));
	cr_assert(config_is_domain(&cfg, SIP_STR("[0:0::0:1]")));
	cr_assert(config_is_domain(&cfg, SIP_STR("[2001:DB8::1]")));
	cr_assert(config_is_domain(&cfg, sip_str_make("example.com;transport=udp", 11)));

	cr_assert_not(config_is_domain(&cfg, SIP_STR("example.co")));
	cr_assert_not(config_is_domain(&cfg, SIP_STR("example.com.")));
	cr_assert_not(config_is_domain(&cfg, SIP_STR("sub.example.com")));
	cr_assert_not(config_is_domain(&cfg, SIP_STR("192.0.2.10")));
	cr_assert_not(config_is_domain(&cfg, SIP_STR("[::2]")));
	cr_assert_not(config_is_domain(&cfg, SIP_STR("[::1")));
	cr_assert_not(config_is_domain(&cfg, SIP_STR("[]")));
	cr_assert_not(config_is_domain(&cfg, SIP_STR("")));

	config_defaults(&cfg);
	cr_assert_not(config_is_domain(&cfg, SIP_STR("localhost")), "no domains by default");
}

Test(config, advertise)
{
	static const struct {
		const char *in, *out;
	} good[] = {
		{"sip.Example.com", "sip.example.com"},
		{"sip.example.com:5080", "sip.example.com:5080"},
		{"192.0.2.1", "192.0.2.1"},
		{"192.0.2.1:5060", "192.0.2.1:5060"},
		{"[2001:DB8::1]", "[2001:db8::1]"},
		{"[2001:db8::1]:5061", "[2001:db8::1]:5061"},
	};
	char text[128];
	struct config cfg;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		snprintf(text, sizeof(text), "[sip]\nadvertise = %s\n", good[i].in);
		load_ok(text, &cfg);
		cr_expect_str_eq(cfg.sip.advertise, good[i].out);
	}
	expect_errors("[sip]\nadvertise = a.example b.example\n",
		      "t.conf:2: advertise: 'a.example b.example': give one host or host:port\n");
	expect_errors("[sip]\nadvertise = 2001:db8::1\n",
		      "t.conf:2: advertise: '2001:db8::1': an IPv6 address goes in brackets, e.g. "
		      "[2001:db8::1]\n");
	expect_errors("[sip]\nadvertise = a.example:0\n",
		      "t.conf:2: advertise: 'a.example:0': port '0' is not a number in 1..65535\n");
	expect_errors("[sip]\nadvertise = [::1]x\n",
		      "t.conf:2: advertise: '[::1]x': unexpected text after ']'\n");
	expect_errors("[sip]\nadvertise = bad_host\n",
		      "t.conf:2: advertise: 'bad_host' is not a host name or IP address: a host "
		      "name has only letters, digits, '-' and '.'\n");
}

/* ---- files -------------------------------------------------------------- */

static char *write_temp(const char *text, size_t len)
{
	char *path = strdup("/tmp/test_config.XXXXXX");
	int fd = mkstemp(path);

	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, text, len), (ssize_t)len);
	close(fd);
	return path;
}

static int load_file(const char *path, struct config *cfg, char **errs)
{
	size_t len;
	FILE *f = open_memstream(errs, &len);
	int rc;

	cr_assert_not_null(f);
	rc = config_load(path, cfg, f);
	fclose(f);
	return rc;
}

Test(config, load_file)
{
	static const char text[] = "[sip]\nworkers = 5\nqueue_depth = 1\n";
	char *path = write_temp(text, sizeof(text) - 1);
	char *errs = NULL, expect[128];
	struct config cfg;

	cr_assert_eq(load_file(path, &cfg, &errs), -EINVAL);
	snprintf(expect, sizeof(expect), "%s:3: queue_depth: '1' is out of range 16..1048576\n",
		 path);
	cr_assert_str_eq(errs, expect);
	cr_assert_str_eq(cfg.path, path);
	cr_assert_eq(cfg.sip.workers, 5);
	free(errs);
	unlink(path);
	free(path);
}

Test(config, nul_byte)
{
	static const char text[] = "[sip]\nworkers = 5\0junk\nmode = x\n";
	char *path = write_temp(text, sizeof(text) - 1);
	char *errs = NULL, expect[256];
	struct config cfg;

	cr_assert_eq(load_file(path, &cfg, &errs), -EINVAL);
	snprintf(expect, sizeof(expect),
		 "%s:2: the line contains a NUL byte\n"
		 "%s:3: mode: 'x' is not one of stateless|stateful|redirect\n",
		 path, path);
	cr_assert_str_eq(errs, expect);
	free(errs);
	unlink(path);
	free(path);
}

Test(config, cannot_open)
{
	char *errs = NULL;
	struct config cfg;

	cr_assert_eq(load_file("/nonexistent/junction.conf", &cfg, &errs), -ENOENT);
	cr_assert_str_eq(errs, "/nonexistent/junction.conf: cannot open: No such file or "
			       "directory\n");
	free(errs);
	cr_assert_eq(config_load("/nonexistent/junction.conf", &cfg, NULL), -ENOENT);

	cr_assert_eq(load_file("/", &cfg, &errs), -EISDIR);
	cr_assert_str_eq(errs, "/: cannot read: Is a directory\n");
	free(errs);
}

Test(config, cannot_read)
{
	static const char text[] = "[sip]\n";
	char *path, *errs = NULL, expect[128];
	struct config cfg;

	if (geteuid() == 0)
		cr_skip_test("root reads any file");
	path = write_temp(text, sizeof(text) - 1);
	cr_assert_eq(chmod(path, 0), 0);
	cr_assert_eq(load_file(path, &cfg, &errs), -EACCES);
	snprintf(expect, sizeof(expect), "%s: cannot open: Permission denied\n", path);
	cr_assert_str_eq(errs, expect);
	free(errs);
	unlink(path);
	free(path);
}

/* The committed reference configuration: $TOP_SRCDIR (make check) or the
 * source tree this file is in. */
static void reference_conf(char *buf, size_t cap)
{
	const char *top = getenv("TOP_SRCDIR");
	const char *me = __FILE__;
	const char *suffix = "tests/unit/test_config.c";
	size_t n = strlen(me), s = strlen(suffix);

	if (top && *top) {
		snprintf(buf, cap, "%s/etc/junction.conf", top);
		return;
	}
	cr_assert(n >= s && strcmp(me + n - s, suffix) == 0, "cannot find the source tree");
	snprintf(buf, cap, "%.*setc/junction.conf", (int)(n - s), me);
}

Test(config, reference_file)
{
	char path[PATH_MAX];
	char *errs = NULL;
	struct config cfg;

	reference_conf(path, sizeof(path));
	cr_assert_eq(load_file(path, &cfg, &errs), 0, "%s: %s", path, errs);
	cr_assert_str_eq(errs, "");
	free(errs);

	cr_assert_eq(cfg.sip.nlisten, 2);
	cr_assert_str_eq(cfg.sip.listen[0].text, "udp:127.0.0.1:5060");
	cr_assert_str_eq(cfg.sip.listen[1].text, "tcp:127.0.0.1:5060");
	cr_assert_eq(cfg.sip.ndomains, 2);
	cr_assert_str_eq(cfg.sip.domain[0], "localhost");
	cr_assert_str_eq(cfg.sip.domain[1], "127.0.0.1");
	cr_assert_eq(cfg.sip.mode, PROXY_MODE_STATEFUL);
	cr_assert_eq(cfg.log.level, LOG_LVL_INFO);
	cr_assert_str_eq(cfg.log.target, "stderr");
	cr_assert_eq(cfg.sip.queue_depth, 4096);
	cr_assert_eq(cfg.sip.limits.max_message_size, SIP_DEFAULT_MAX_MESSAGE_SIZE);
}

Test(config, registrar_auth_database_keys)
{
	struct config cfg;

	cr_assert_eq(
		config_load_string("[database]\nconninfo = host=/tmp dbname=j\n"
				   "[auth]\nsecret = 0123456789abcdef\ninvite = yes\n"
				   "[registrar]\nmin_expires = 30\nmax_expires = 600\n"
				   "default_expires = 300\nmax_contacts = 3\n[node]\nname = n1\n",
				   "t.conf", &cfg, NULL),
		0);
	cr_assert_str_eq(cfg.database.conninfo, "host=/tmp dbname=j");
	cr_assert_str_eq(cfg.auth.secret, "0123456789abcdef");
	cr_assert(cfg.auth.invite);
	cr_assert(cfg.auth.aor_owner, "default: the user must own the AOR");
	cr_assert_eq(cfg.auth.mode, AUTH_MODE_LOCAL);
	cr_assert_eq(cfg.registrar.min_expires, 30);
	cr_assert_eq(cfg.registrar.max_expires, 600);
	cr_assert_eq(cfg.registrar.default_expires, 300);
	cr_assert_eq(cfg.registrar.max_contacts, 3);
	cr_assert_str_eq(cfg.node.name, "n1");
	cr_assert_eq(cfg.database.retry_after, 5);
}

Test(config, node_name_defaults_to_host_name)
{
	struct config cfg;
	char host[256] = "";

	config_defaults(&cfg);
	gethostname(host, sizeof(host) - 1);
	cr_assert_str_eq(cfg.node.name, host[0] ? host : "junction");
}

Test(config, keys_that_go_together)
{
	/* A database with local auth needs the cluster's nonce secret. */
	expect_errors("[database]\nconninfo = dbname=j\n[auth]\nmode = local\n",
		      "t.conf:4: [auth] mode = local needs [auth] secret (at least 16 characters, "
		      "the same on every node)\n");
	expect_errors("[auth]\nsecret = short\n",
		      "t.conf:2: secret: must be 16 to 255 characters long\n");
	expect_errors("[registrar]\nmin_expires = 100\ndefault_expires = 50\n",
		      "t.conf:3: [registrar] needs min_expires <= default_expires <= max_expires "
		      "(100, 50, 7200)\n");
	expect_errors("[auth]\nmode = ldap\n",
		      "t.conf:2: mode: 'ldap' is not one of local|none|delegate|http\n");
	/* delegate needs the pool, stateful mode and a database */
	expect_errors("[auth]\nmode = delegate\n",
		      "t.conf:2: [auth] mode = delegate needs [routing] session_controllers = yes, "
		      "[sip] mode = stateful and a [database] (REGISTERs go to the pool, the "
		      "bindings are stored)\n");
	expect_errors("[auth]\nmode = http\nsecret = 0123456789abcdef\n",
		      "t.conf:2: [auth] mode = http needs [auth] http_url\n");
	expect_errors("[auth]\nhttp_url = ftp://x\n",
		      "t.conf:2: http_url: 'ftp://x' is not an http:// or https:// URL\n");
	expect_errors(
		"[notify]\nmode = reginfo\ntarget = pool\n",
		"t.conf:2: [notify] mode needs a [database] (the events' outbox lives there)\n"
		"t.conf:3: [notify] target = pool needs [routing] session_controllers = yes "
		"(or give a sip: URI)\n");
	expect_errors("[notify]\ntarget = tel:+123\n",
		      "t.conf:2: target: 'tel:+123' is neither \"pool\" nor a sip: URI\n");
}

Test(config, admin_keys)
{
	struct config cfg;

	config_defaults(&cfg);
	cr_assert_str_eq(cfg.admin.listen_text, "127.0.0.1:8080");
	cr_assert(!cfg.admin.listen_off);
	cr_assert(!config_admin_on(&cfg), "no token: the server is off");
	cr_assert_eq(cfg.admin.max_body, 65536);
	cr_assert_eq(cfg.admin.max_connections, 64);
	cr_assert_eq(cfg.admin.request_timeout, 10);
	cr_assert_eq(cfg.admin.threads, 2);

	load_ok("[admin]\ntoken = 0123456789abcdefABCDEF-._~+/==\n", &cfg);
	cr_assert(config_admin_on(&cfg), "a token turns it on at the default address");
	cr_assert_str_eq(cfg.admin.token, "0123456789abcdefABCDEF-._~+/==");
	load_ok("[admin]\nlisten = [::1]:9090\ntoken_file = /etc/junction/admin.token\n"
		"tls_cert = /etc/c.pem\ntls_key = /etc/k.pem\nmax_body = 1024\n"
		"max_connections = 8\nrequest_timeout = 3\nthreads = 4\n",
		&cfg);
	cr_assert_str_eq(cfg.admin.listen_text, "[::1]:9090");
	cr_assert_str_eq(cfg.admin.token_file, "/etc/junction/admin.token");
	cr_assert(config_admin_on(&cfg));
	cr_assert_eq(cfg.admin.threads, 4);
	load_ok("[admin]\nlisten = off\n", &cfg);
	cr_assert(cfg.admin.listen_off);
	cr_assert(!config_admin_on(&cfg));
	load_ok("[admin]\nlisten = OFF\ntoken = 0123456789abcdef\n", &cfg);
	cr_assert(!config_admin_on(&cfg), "off wins over a token");
}

Test(config, admin_errors)
{
	expect_errors("[admin]\nlisten = 127.0.0.1:9000\n",
		      "t.conf:2: [admin] listen = 127.0.0.1:9000 needs [admin] token or [admin] "
		      "token_file (or listen = off)\n");
	expect_errors("[admin]\ntoken = 0123456789abcdef\ntoken_file = /t\n",
		      "t.conf:3: [admin] give token or token_file, not both\n");
	expect_errors("[admin]\ntoken = short\n",
		      "t.conf:2: token: must be 16 to 255 characters long\n");
	expect_errors("[admin]\ntoken = 0123456789abcdef\"x\n",
		      "t.conf:2: token: only letters, digits and -._~+/ are allowed (then '=' "
		      "padding), e.g. the output of \"openssl rand -hex 32\"\n");
	expect_errors("[admin]\ntoken = 0123456789abcdef=x\n",
		      "t.conf:2: token: only letters, digits and -._~+/ are allowed (then '=' "
		      "padding), e.g. the output of \"openssl rand -hex 32\"\n");
	expect_errors("[admin]\nlisten = localhost:8080\ntoken = 0123456789abcdef\n",
		      "t.conf:2: listen: 'localhost:8080' is not off or a numeric ADDRESS:PORT, "
		      "e.g. 127.0.0.1:8080 or [::1]:8080\n");
	expect_errors("[admin]\ntoken = 0123456789abcdef\ntls_cert = /c.pem\n",
		      "t.conf:3: [admin] HTTPS needs both tls_cert and tls_key\n");
	expect_errors("[admin]\ntoken_file = admin.token\n",
		      "t.conf:2: token_file: 'admin.token' is not an absolute path\n");
	expect_errors("[admin]\ntoken = 0123456789abcdef\nmax_body = 100\n",
		      "t.conf:3: max_body: '100' is out of range 256..16777216\n");
	expect_errors("[admin]\nmax_connections = 4\nthreads = 8\n",
		      "t.conf:2: [admin] needs max_connections >= threads (4, 8)\n");
	expect_errors("[sip]\nlisten = tcp:127.0.0.1:8080\n[admin]\ntoken = 0123456789abcdef\n",
		      "t.conf:2: [admin] listen = 127.0.0.1:8080 is also the SIP listener "
		      "'tcp:127.0.0.1:8080'\n");
}

/* ---- [cluster] and [routing]: the Session Controller pools --------------- */

Test(config, cluster_routing_defaults)
{
	struct config cfg;

	config_defaults(&cfg);
	cr_assert_str_eq(cfg.cluster.geo_location, "");
	cr_assert_eq(cfg.cluster.ngeo_fallback, 0);
	cr_assert_eq(cfg.cluster.oos_check, 5);
	cr_assert_eq(cfg.cluster.oos_force, 5);
	cr_assert_str_eq(cfg.cluster.record_route, "");
	cr_assert_eq(cfg.cluster.nalive, 1, "alive_codes = any");
	cr_assert_eq(cfg.cluster.alive[0], 0, "alive_codes = any");
	cr_assert_not(cfg.routing.session_controllers);
	cr_assert_eq(cfg.routing.overload_dialog_rate, 0);
	cr_assert_not(config_record_route(&cfg));
	/* any answer the server sent means alive */
	cr_assert(config_probe_alive(&cfg, 100));
	cr_assert(config_probe_alive(&cfg, 200));
	cr_assert(config_probe_alive(&cfg, 404));
	cr_assert(config_probe_alive(&cfg, 503));
	cr_assert(config_probe_alive(&cfg, 699));
}

Test(config, cluster_routing_keys)
{
	struct config cfg;

	load_ok("[cluster]\n"
		"geo_location = dc-1.east_2\n"
		"geo_fallback = dc2, dc3 dc4\n"
		"geo_fallback = dc5\n"
		"oos_check = 0\n"
		"oos_force = 32\n"
		"record_route = SIP.Example.COM:5070\n"
		"alive_codes = 200 404 5xx\n"
		"[routing]\n"
		"overload_dialog_rate = 1000000\n",
		&cfg);
	cr_assert_str_eq(cfg.cluster.geo_location, "dc-1.east_2");
	cr_assert_eq(cfg.cluster.ngeo_fallback, 4);
	cr_assert_str_eq(cfg.cluster.geo_fallback[0], "dc2");
	cr_assert_str_eq(cfg.cluster.geo_fallback[1], "dc3");
	cr_assert_str_eq(cfg.cluster.geo_fallback[2], "dc4");
	cr_assert_str_eq(cfg.cluster.geo_fallback[3], "dc5");
	cr_assert_eq(cfg.cluster.oos_check, 0);
	cr_assert_eq(cfg.cluster.oos_force, 32);
	cr_assert_str_eq(cfg.cluster.record_route, "sip.example.com:5070");
	cr_assert(config_record_route(&cfg), "a cluster Record-Route implies record_route");
	cr_assert_not(cfg.sip.record_route);
	cr_assert_eq(cfg.cluster.nalive, 3);
	cr_assert_eq(cfg.cluster.alive[0], 200);
	cr_assert_eq(cfg.cluster.alive[1], 404);
	cr_assert_eq(cfg.cluster.alive[2], 5, "a class is stored as its digit");
	cr_assert_eq(cfg.routing.overload_dialog_rate, 1000000);

	load_ok("[cluster]\nrecord_route = [2001:DB8::1]\n", &cfg);
	cr_assert_str_eq(cfg.cluster.record_route, "[2001:db8::1]");
	load_ok("[cluster]\nrecord_route = 192.0.2.1:5060\n", &cfg);
	cr_assert_str_eq(cfg.cluster.record_route, "192.0.2.1:5060");
	load_ok("[sip]\nrecord_route = yes\n", &cfg);
	cr_assert(config_record_route(&cfg));

	/* a geo_fallback without a geo_location is fine */
	load_ok("[cluster]\ngeo_fallback = dc1\n", &cfg);
	cr_assert_eq(cfg.cluster.ngeo_fallback, 1);
	cr_assert_str_eq(cfg.cluster.geo_location, "");
}

static const struct range_case cluster_ranges[] = {
	RANGE("oos_check", cluster.oos_check, 0, 300),
	RANGE("oos_force", cluster.oos_force, 1, 32),
	RANGE("overload_dialog_rate", routing.overload_dialog_rate, 0, 1000000),
};

Test(config, cluster_routing_ranges)
{
	char text[128], expect[256];
	struct config cfg;

	for (size_t i = 0; i < sizeof(cluster_ranges) / sizeof(cluster_ranges[0]); i++) {
		const struct range_case *r = &cluster_ranges[i];
		const char *sect = r->off == offsetof(struct config, routing.overload_dialog_rate)
					   ? "routing"
					   : "cluster";

		snprintf(text, sizeof(text), "[%s]\n%s = %u\n", sect, r->name, r->min);
		load_ok(text, &cfg);
		cr_expect_eq(*(unsigned *)((char *)&cfg + r->off), r->min, "%s", r->name);
		snprintf(text, sizeof(text), "[%s]\n%s = %u\n", sect, r->name, r->max);
		load_ok(text, &cfg);
		cr_expect_eq(*(unsigned *)((char *)&cfg + r->off), r->max, "%s", r->name);
		if (r->min > 0) {
			snprintf(text, sizeof(text), "[%s]\n%s = %u\n", sect, r->name, r->min - 1);
			snprintf(expect, sizeof(expect),
				 "t.conf:2: %s: '%u' is out of range %u..%u\n", r->name, r->min - 1,
				 r->min, r->max);
			expect_errors(text, expect);
		} else {
			snprintf(text, sizeof(text), "[%s]\n%s = -1\n", sect, r->name);
			snprintf(expect, sizeof(expect),
				 "t.conf:2: %s: '-1' is not a number (expected %u..%u)\n", r->name,
				 r->min, r->max);
			expect_errors(text, expect);
		}
		snprintf(text, sizeof(text), "[%s]\n%s = %u\n", sect, r->name, r->max + 1);
		snprintf(expect, sizeof(expect), "t.conf:2: %s: '%u' is out of range %u..%u\n",
			 r->name, r->max + 1, r->min, r->max);
		expect_errors(text, expect);
	}
	expect_errors("[cluster]\noos_check = soon\n",
		      "t.conf:2: oos_check: 'soon' is not a number (expected 0..300)\n");
	/* each key in its own section */
	expect_errors("[sip]\noverload_dialog_rate = 5\n",
		      "t.conf:2: unknown key 'overload_dialog_rate' in [sip]\n");
	expect_errors("oos_check = 5\n",
		      "t.conf:1: 'oos_check' is outside any section (it belongs in [cluster])\n");
	expect_errors("[cluster]\noos_force = 3\noos_force = 4\n",
		      "t.conf:3: 'oos_force' is set twice (first at line 2)\n");
}

Test(config, geo_names)
{
	char text[256], expect[512], name[CFG_GEO_MAX + 1];
	struct config cfg;

	expect_errors("[cluster]\ngeo_location = -dc\n",
		      "t.conf:2: geo_location: '-dc' is not a data-centre name (letters, digits, "
		      "'.', '_', '-')\n");
	expect_errors("[cluster]\ngeo_location = dc 1\n",
		      "t.conf:2: geo_location: 'dc 1' is not a data-centre name (letters, digits, "
		      "'.', '_', '-')\n");
	expect_errors("[cluster]\ngeo_location = dc/1\n",
		      "t.conf:2: geo_location: 'dc/1' is not a data-centre name (letters, digits, "
		      "'.', '_', '-')\n");
	expect_errors("[cluster]\ngeo_location = .dc\n",
		      "t.conf:2: geo_location: '.dc' is not a data-centre name (letters, digits, "
		      "'.', '_', '-')\n");
	/* CFG_GEO_MAX - 1 characters at most */
	memset(name, 'd', CFG_GEO_MAX - 1);
	name[CFG_GEO_MAX - 1] = '\0';
	snprintf(text, sizeof(text), "[cluster]\ngeo_location = %s\n", name);
	load_ok(text, &cfg);
	cr_assert_str_eq(cfg.cluster.geo_location, name);
	strcat(name, "d");
	snprintf(text, sizeof(text), "[cluster]\ngeo_location = %s\n", name);
	snprintf(expect, sizeof(expect),
		 "t.conf:2: geo_location: '%s' is not a data-centre name (letters, digits, '.', "
		 "'_', '-')\n",
		 name);
	expect_errors(text, expect);
	snprintf(text, sizeof(text), "[cluster]\ngeo_fallback = dc1 %s\n", name);
	snprintf(expect, sizeof(expect), "t.conf:2: geo_fallback: '%s' is not a data-centre name\n",
		 name);
	expect_errors(text, expect);

	expect_errors("[cluster]\ngeo_fallback = dc2, _x, dc3\n",
		      "t.conf:2: geo_fallback: '_x' is not a data-centre name\n");
	expect_errors("[cluster]\ngeo_fallback = dc2 dc3 dc2\n",
		      "t.conf:2: geo_fallback: 'dc2' is listed twice\n");
	expect_errors("[cluster]\ngeo_fallback = dc2\ngeo_fallback = dc3, dc2\n",
		      "t.conf:3: geo_fallback: 'dc2' is listed twice\n");
	/* prefixes are other names */
	load_ok("[cluster]\ngeo_fallback = dc2 dc22 dc\n", &cfg);
	cr_assert_eq(cfg.cluster.ngeo_fallback, 3);
}

Test(config, geo_fallback_limit)
{
	char text[1024] = "[cluster]\ngeo_fallback =";
	struct config cfg;

	for (int i = 0; i < CFG_MAX_GEO; i++)
		snprintf(text + strlen(text), sizeof(text) - strlen(text), " dc%d", i);
	strcat(text, "\n");
	load_ok(text, &cfg);
	cr_assert_eq(cfg.cluster.ngeo_fallback, CFG_MAX_GEO);
	cr_assert_str_eq(cfg.cluster.geo_fallback[CFG_MAX_GEO - 1], "dc15");
	strcat(text, "geo_fallback = dc99\n");
	expect_errors(text, "t.conf:3: geo_fallback: more than 16 data centres\n");
}

Test(config, geo_fallback_must_not_list_own_location)
{
	expect_errors(
		"[cluster]\ngeo_location = dc1\ngeo_fallback = dc2 dc1\n",
		"t.conf:3: [cluster] geo_fallback lists this node's own geo_location 'dc1'\n");
	/* the message points at geo_fallback wherever it is */
	expect_errors(
		"[cluster]\ngeo_fallback = dc1\n\ngeo_location = dc1\n",
		"t.conf:2: [cluster] geo_fallback lists this node's own geo_location 'dc1'\n");
	expect_errors(
		"[cluster]\ngeo_location = dc1\ngeo_fallback = dc2\ngeo_fallback = dc1\n",
		"t.conf:3: [cluster] geo_fallback lists this node's own geo_location 'dc1'\n");
	/* names are compared exactly */
	expect_errors("[cluster]\ngeo_location = dc1\ngeo_fallback = DC1 dc10\n", "");
}

Test(config, cluster_record_route_errors)
{
	expect_errors("[cluster]\nrecord_route = a.example b.example\n",
		      "t.conf:2: record_route: 'a.example b.example': give one host or "
		      "host:port\n");
	expect_errors("[cluster]\nrecord_route = sip.example.com:0\n",
		      "t.conf:2: record_route: 'sip.example.com:0': port '0' is not a number in "
		      "1..65535\n");
	expect_errors("[cluster]\nrecord_route = -bad.example\n",
		      "t.conf:2: record_route: '-bad.example' is not a host name or IP address: a "
		      "label starts with '-'\n");
	expect_errors("[cluster]\nrecord_route = 2001:db8::1\n",
		      "t.conf:2: record_route: '2001:db8::1': an IPv6 address goes in brackets, "
		      "e.g. [2001:db8::1]\n");
}

Test(config, alive_codes)
{
	struct config cfg;

	load_ok("[cluster]\nalive_codes = ANY\n", &cfg);
	cr_assert_eq(cfg.cluster.nalive, 1);
	cr_assert_eq(cfg.cluster.alive[0], 0);
	load_ok("[cluster]\nalive_codes = 2XX, 1xx\nalive_codes = 699 100\n", &cfg);
	cr_assert_eq(cfg.cluster.nalive, 4);
	cr_assert_eq(cfg.cluster.alive[0], 2);
	cr_assert_eq(cfg.cluster.alive[1], 1);
	cr_assert_eq(cfg.cluster.alive[2], 699);
	cr_assert_eq(cfg.cluster.alive[3], 100);

	load_ok("[cluster]\nalive_codes = 200 404 5xx\n", &cfg);
	cr_assert(config_probe_alive(&cfg, 200));
	cr_assert(config_probe_alive(&cfg, 404));
	cr_assert(config_probe_alive(&cfg, 500));
	cr_assert(config_probe_alive(&cfg, 503));
	cr_assert(config_probe_alive(&cfg, 599));
	cr_assert_not(config_probe_alive(&cfg, 201));
	cr_assert_not(config_probe_alive(&cfg, 403));
	cr_assert_not(config_probe_alive(&cfg, 486));
	cr_assert_not(config_probe_alive(&cfg, 180));
	cr_assert_not(config_probe_alive(&cfg, 603));

	load_ok("[cluster]\nalive_codes = 2xx\n", &cfg);
	cr_assert(config_probe_alive(&cfg, 200));
	cr_assert(config_probe_alive(&cfg, 299));
	cr_assert_not(config_probe_alive(&cfg, 199));
	cr_assert_not(config_probe_alive(&cfg, 300));
}

Test(config, alive_codes_errors)
{
	static const char *const bad[] = {"700", "099", "7xx", "0xx",  "2x",  "2000",
					  "abc", "20x", "x00", "-200", "2xxx"};
	char text[128], expect[256];

	expect_errors("[cluster]\nalive_codes = 200 any\n",
		      "t.conf:2: alive_codes: 'any' goes alone\n");
	expect_errors("[cluster]\nalive_codes = 200\nalive_codes = any\n",
		      "t.conf:3: alive_codes: 'any' goes alone\n");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "[cluster]\nalive_codes = 200 %s 404\n", bad[i]);
		snprintf(expect, sizeof(expect),
			 "t.conf:2: alive_codes: '%s' is not any, a status (100-699) or a class "
			 "(2xx)\n",
			 bad[i]);
		expect_errors(text, expect);
	}
	expect_errors("[cluster]\nalive_codes = 9xx 800\n",
		      "t.conf:2: alive_codes: '9xx' is not any, a status (100-699) or a class "
		      "(2xx)\n"
		      "t.conf:2: alive_codes: '800' is not any, a status (100-699) or a class "
		      "(2xx)\n");
}

Test(config, alive_codes_limit)
{
	char text[1024] = "[cluster]\nalive_codes =";
	struct config cfg;

	for (int i = 0; i < CFG_MAX_ALIVE; i++)
		snprintf(text + strlen(text), sizeof(text) - strlen(text), " %d", 200 + i);
	strcat(text, "\n");
	load_ok(text, &cfg);
	cr_assert_eq(cfg.cluster.nalive, CFG_MAX_ALIVE);
	strcat(text, "alive_codes = 404\n");
	expect_errors(text, "t.conf:3: alive_codes: more than 32 codes\n");
}

/*
 * "any" goes alone, before a code as after one, on one line or two.
 */
Test(config, alive_codes_any_first_goes_alone)
{
	expect_errors("[cluster]\nalive_codes = any 200\n",
		      "t.conf:2: alive_codes: 'any' goes alone\n");
	expect_errors("[cluster]\nalive_codes = any\nalive_codes = 200\n",
		      "t.conf:3: alive_codes: 'any' goes alone\n");
}

Test(config, session_controllers_need_database_and_stateful)
{
	struct config cfg;

	expect_errors("[routing]\nsession_controllers = yes\n",
		      "t.conf:2: [routing] session_controllers = yes needs a [database] (the pools "
		      "live there)\n");
	expect_errors("[sip]\nmode = stateless\n[database]\nconninfo = dbname=j\n"
		      "[auth]\nsecret = 0123456789abcdef\n[routing]\nsession_controllers = yes\n",
		      "t.conf:8: [routing] session_controllers = yes needs [sip] mode = stateful "
		      "(the probes are transactions)\n");
	expect_errors("[sip]\nmode = redirect\n[routing]\n\nsession_controllers = on\n",
		      "t.conf:5: [routing] session_controllers = yes needs a [database] (the pools "
		      "live there)\n"
		      "t.conf:5: [routing] session_controllers = yes needs [sip] mode = stateful "
		      "(the probes are transactions)\n");
	/* off needs nothing */
	expect_errors("[sip]\nmode = stateless\n[routing]\nsession_controllers = no\n", "");

	load_ok("[database]\nconninfo = dbname=j\n[auth]\nmode = none\n"
		"[routing]\nsession_controllers = yes\n",
		&cfg);
	cr_assert(cfg.routing.session_controllers);
	cr_assert(config_record_route(&cfg), "Session Controllers imply record_route");
	cr_assert_not(cfg.sip.record_route);
	cr_assert_str_eq(cfg.cluster.record_route, "");
}

/* ---- [sessions] -------------------------------------------------------- */

static const struct range_case session_ranges[] = {
	{"dialog_timeout", offsetof(struct config, sessions.dialog_timeout), 60, 604800},
	{"early_timeout", offsetof(struct config, sessions.early_timeout), 10, 3600},
	{"keep_ended", offsetof(struct config, sessions.keep_ended), 0, 2592000},
	{"cache_size", offsetof(struct config, sessions.cache_size), 0, 16777216},
};

Test(config, sessions_defaults_and_ranges)
{
	char text[128], expect[256];
	struct config cfg;

	load_ok("", &cfg);
	cr_expect(cfg.sessions.affinity);
	cr_expect_eq(cfg.sessions.relate,
		     CFG_RELATE_REPLACES | CFG_RELATE_JOIN | CFG_RELATE_TARGET_DIALOG |
			     CFG_RELATE_REFERRED_BY | CFG_RELATE_DEVICE | CFG_RELATE_CONTROLLER);
	cr_expect_eq(cfg.sessions.dialog_timeout, 43200);
	cr_expect_eq(cfg.sessions.early_timeout, 300);
	cr_expect_eq(cfg.sessions.keep_ended, 3600);
	cr_expect_eq(cfg.sessions.cache_size, 262144);
	load_ok("[sessions]\naffinity = no\n", &cfg);
	cr_expect_not(cfg.sessions.affinity);
	for (size_t i = 0; i < sizeof(session_ranges) / sizeof(session_ranges[0]); i++) {
		const struct range_case *r = &session_ranges[i];

		snprintf(text, sizeof(text), "[sessions]\n%s = %u\n", r->name, r->max);
		load_ok(text, &cfg);
		cr_expect_eq(*(unsigned *)((char *)&cfg + r->off), r->max, "%s", r->name);
		snprintf(text, sizeof(text), "[sessions]\n%s = %u\n", r->name, r->max + 1);
		snprintf(expect, sizeof(expect), "t.conf:2: %s: '%u' is out of range %u..%u\n",
			 r->name, r->max + 1, r->min, r->max);
		expect_errors(text, expect);
	}
}

/* relate: a list of rule names (any case), the first occurrence replacing
 * the default and later ones adding; "none" alone; nothing unknown or
 * twice. */
Test(config, sessions_relate)
{
	struct config cfg;

	load_ok("[sessions]\nrelate = Replaces, device\n", &cfg);
	cr_expect_eq(cfg.sessions.relate, CFG_RELATE_REPLACES | CFG_RELATE_DEVICE);
	load_ok("[sessions]\nrelate = join\nrelate = target-dialog referred-by controller\n", &cfg);
	cr_expect_eq(cfg.sessions.relate, CFG_RELATE_JOIN | CFG_RELATE_TARGET_DIALOG |
						  CFG_RELATE_REFERRED_BY | CFG_RELATE_CONTROLLER);
	load_ok("[sessions]\nrelate = none\n", &cfg);
	cr_expect_eq(cfg.sessions.relate, 0);
	expect_errors("[sessions]\nrelate = device, neighbour\n",
		      "t.conf:2: relate: 'neighbour' is not one of replaces|join|target-dialog|"
		      "referred-by|device|controller|none\n");
	expect_errors("[sessions]\nrelate = device device\n",
		      "t.conf:2: relate: 'device' is listed twice, or with 'none'\n");
	expect_errors("[sessions]\nrelate = none\nrelate = device\n",
		      "t.conf:3: relate: 'device' is listed twice, or with 'none'\n");
	expect_errors("[sessions]\nrelate = device none\n",
		      "t.conf:2: relate: 'none' goes alone\n");
	expect_errors("[sessions]\naffinity = maybe\n",
		      "t.conf:2: affinity: 'maybe' is not a boolean (expected "
		      "yes/no/true/false/on/off/1/0)\n");
}

/* [security]: the defaults, trusted blocks, scanners in lowercase, and
 * what is refused. */
Test(config, security)
{
	struct config cfg;
	struct netaddr a;

	load_ok("", &cfg);
	cr_expect_not(cfg.security.open_relay);
	cr_expect_eq(cfg.security.ntrusted, 0);
	cr_expect_eq(cfg.security.rate_limit, 100);
	cr_expect_eq(cfg.security.ban_time, 600);
	cr_expect_eq(cfg.security.auth_failures, 10);
	cr_expect_eq(cfg.security.auth_failures_user, 30);
	cr_expect_eq(cfg.security.auth_window, 60);
	cr_expect_eq(cfg.security.ban_action, BAN_ACTION_DROP);
	cr_expect(cfg.security.drop_scanners);
	cr_expect_str_eq(cfg.security.scanners[0], "friendly-scanner");
	cr_expect(cfg.security.share_bans);
	cr_expect_str_eq(cfg.sip.server_header, "");
	cr_expect_eq(cfg.sip.tcp_max_per_source, 64);
	cr_expect_eq(cfg.sip.tcp_message_timeout, 10);
	cr_expect_eq(cfg.sip.tcp_max_queued, 262144);
	cr_expect_eq(cfg.sip.tcp_max_queued_total, 67108864);
	load_ok("[security]\ntrusted = 10.0.0.0/8, 2001:db8::/32\ntrusted = 192.0.2.7\n"
		"scanners = SIPVicious Bad-UA\nban_action = reply\nopen_relay = yes\n",
		&cfg);
	cr_expect_eq(cfg.security.ntrusted, 3);
	cr_expect(cfg.security.open_relay);
	cr_expect_eq(cfg.security.ban_action, BAN_ACTION_REPLY);
	cr_expect_eq(cfg.security.nscanners, 2);
	cr_expect_str_eq(cfg.security.scanners[1], "bad-ua");
	cr_assert_eq(netaddr_parse("10.9.8.7:5060", &a), 0);
	cr_expect(config_is_trusted(&cfg, &a));
	cr_assert_eq(netaddr_parse("192.0.2.8:5060", &a), 0);
	cr_expect_not(config_is_trusted(&cfg, &a));
	cr_assert_eq(netaddr_parse("[2001:db8:1::1]:5060", &a), 0);
	cr_expect(config_is_trusted(&cfg, &a));
	expect_errors("[security]\ntrusted = 10.1.2.3/8 example.com\n",
		      "t.conf:2: trusted: '10.1.2.3/8' is not an address or ADDRESS/BITS block\n"
		      "t.conf:2: trusted: 'example.com' is not an address or ADDRESS/BITS block\n");
	expect_errors("[security]\nban_action = tarpit\n",
		      "t.conf:2: ban_action: 'tarpit' is not one of drop|reply\n");
	expect_errors("[security]\nban_time = 0\n",
		      "t.conf:2: ban_time: '0' is out of range 1..2592000\n");
	expect_errors("[sip]\ntcp_max_queued = 100\n",
		      "t.conf:2: tcp_max_queued: '100' is out of range 16384..67108864\n");
}

Test(config, dns_and_translation)
{
	struct config cfg;
	char a[NETADDR_STRLEN];

	load_ok("", &cfg);
	cr_expect_eq(cfg.dns.nservers, 0);
	cr_expect_eq(cfg.dns.timeout, 2000);
	cr_expect_eq(cfg.dns.tries, 2);
	cr_expect_eq(cfg.dns.cache_size, 8192);
	cr_expect_eq(cfg.dns.negative_ttl, 60);
	cr_expect_eq(cfg.routing.translate,
		     CFG_TRANSLATE_FORWARD | CFG_TRANSLATE_REGISTRY | CFG_TRANSLATE_ROUTES);
	cr_expect_eq(cfg.routing.max_translations, 5);
	cr_expect_str_eq(cfg.routing.enum_suffix, "e164.arpa");
	cr_expect_str_eq(cfg.routing.country_code, "");
	cr_expect_not(cfg.cdr.enabled);
	cr_expect_str_eq(cfg.log.access, "off");
	load_ok("[dns]\nservers = 127.0.0.1:5353 [::1] 192.0.2.1\n"
		"[routing]\ntranslate = routes enum\n",
		&cfg);
	cr_expect_eq(cfg.dns.nservers, 3);
	netaddr_format(&cfg.dns.servers[0], a, sizeof(a));
	cr_expect_str_eq(a, "127.0.0.1:5353");
	netaddr_format(&cfg.dns.servers[1], a, sizeof(a));
	cr_expect_str_eq(a, "[::1]:53");
	netaddr_format(&cfg.dns.servers[2], a, sizeof(a));
	cr_expect_str_eq(a, "192.0.2.1:53");
	cr_expect_eq(cfg.routing.translate, CFG_TRANSLATE_ENUM | CFG_TRANSLATE_ROUTES);
	load_ok("[routing]\ntranslate = none\n", &cfg);
	cr_expect_eq(cfg.routing.translate, 0);
	expect_errors("[dns]\nservers = dns.example.com\n",
		      "t.conf:2: servers: 'dns.example.com' is not ADDRESS[:PORT]\n");
	expect_errors("[routing]\ntranslate = routes routes\n",
		      "t.conf:2: translate: 'routes' is not one of forward|registry|enum|routes "
		      "(each once) or none alone\n");
	expect_errors("[sip]\nmode = stateless\n[routing]\ntranslate = routes\n",
		      "t.conf:4: [routing] translate needs [sip] mode = stateful (or translate = "
		      "none)\n");
	expect_errors("[log]\naccess = relative.log\n",
		      "t.conf:2: access: 'relative.log' is not off, syslog or an absolute path\n");
}
