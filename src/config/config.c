/*
 * config: the INI file, read with libinih and checked against one table.
 *
 * cfg_keys[] below has one row per key: section, name, the setter that
 * parses the value, where the value goes in struct config, its range or
 * its names, and its default written as it would be in the file. The
 * defaults go through the same setters as the file does, so a default
 * cannot be something the file could not say. Adding a key is adding a
 * row (and a line in etc/junction.conf and man/junction.conf.5).
 *
 * libinih splits lines into section, name and value; it reports syntax
 * errors only as "the first bad line number". Our reader function
 * (cfg_reader) therefore hands inih one physical line at a time, counts
 * lines, and checks the line's shape first, so every problem, syntax or
 * value, is reported as "FILE:LINE: message" and parsing goes on to report
 * the rest. The reader also strips leading blanks: that turns off inih's
 * continuation lines, under which an indented "key = value" would silently
 * become part of the previous key's value.
 *
 * Lists (listen, domain) take several values separated by blanks or
 * commas; the first occurrence of the key replaces the default and later
 * occurrences append. A scalar key given twice is an error.
 */
#include "config/config.h"

#include <arpa/inet.h>
#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define STR_(x) #x
#define STR(x)  STR_(x)

/* Setters write unsigned numbers and enums through an unsigned *. */
_Static_assert(_Generic((uint32_t)0, unsigned : 1, default : 0), "uint32_t is unsigned int");
_Static_assert(sizeof(enum proxy_mode) == sizeof(unsigned), "enum proxy_mode fits unsigned");
_Static_assert(sizeof(enum auth_mode) == sizeof(unsigned), "enum auth_mode fits unsigned");

struct cfg_parse;
struct cfg_key;

/* Parses value into the field of ps->cfg that k names; reports problems
 * with cfg_err() and leaves the field as it was. */
typedef void (*cfg_setter)(struct cfg_parse *ps, const struct cfg_key *k, const char *value);

struct cfg_key {
	const char *section;
	const char *name;
	cfg_setter set;
	size_t off;               /* offsetof(struct config, the field) */
	size_t count_off;         /* lists: offsetof the element count */
	unsigned min, max;        /* cfg_set_uint */
	const char *const *names; /* cfg_set_enum: NULL-terminated, index = value */
	const char *dflt;         /* as written in the file; NULL: none or computed */
	bool list;                /* several values; a repeated key appends */
};

enum cfg_section_state { CFG_SECT_NONE = 0, CFG_SECT_OK, CFG_SECT_BAD };

static void cfg_set_uint(struct cfg_parse *ps, const struct cfg_key *k, const char *value);
static void cfg_set_bool(struct cfg_parse *ps, const struct cfg_key *k, const char *value);
static void cfg_set_enum(struct cfg_parse *ps, const struct cfg_key *k, const char *value);
static void cfg_set_listen(struct cfg_parse *ps, const struct cfg_key *k, const char *value);
static void cfg_set_domain(struct cfg_parse *ps, const struct cfg_key *k, const char *value);
static void cfg_set_advertise(struct cfg_parse *ps, const struct cfg_key *k, const char *value);
static void cfg_set_log_level(struct cfg_parse *ps, const struct cfg_key *k, const char *value);
static void cfg_set_log_target(struct cfg_parse *ps, const struct cfg_key *k, const char *value);
static void cfg_set_string(struct cfg_parse *ps, const struct cfg_key *k, const char *value);
static void cfg_set_algorithms(struct cfg_parse *ps, const struct cfg_key *k, const char *value);
static void cfg_set_admin_listen(struct cfg_parse *ps, const struct cfg_key *k, const char *value);
static void cfg_set_geo(struct cfg_parse *ps, const struct cfg_key *k, const char *value);
static void cfg_set_geo_fallback(struct cfg_parse *ps, const struct cfg_key *k, const char *value);
static void cfg_set_alive(struct cfg_parse *ps, const struct cfg_key *k, const char *value);
static void cfg_set_relate(struct cfg_parse *ps, const struct cfg_key *k, const char *value);
static void cfg_set_token(struct cfg_parse *ps, const struct cfg_key *k, const char *value);
static void cfg_set_path(struct cfg_parse *ps, const struct cfg_key *k, const char *value);
static void cfg_set_trusted(struct cfg_parse *ps, const struct cfg_key *k, const char *value);
static void cfg_set_scanners(struct cfg_parse *ps, const struct cfg_key *k, const char *value);
static void cfg_set_url(struct cfg_parse *ps, const struct cfg_key *k, const char *value);
static void cfg_set_notify_target(struct cfg_parse *ps, const struct cfg_key *k, const char *value);
static void cfg_set_translate(struct cfg_parse *ps, const struct cfg_key *k, const char *value);
static void cfg_set_dns_servers(struct cfg_parse *ps, const struct cfg_key *k, const char *value);
static void cfg_set_access(struct cfg_parse *ps, const struct cfg_key *k, const char *value);
static void cfg_set_digits(struct cfg_parse *ps, const struct cfg_key *k, const char *value);
static void cfg_set_tls_peers(struct cfg_parse *ps, const struct cfg_key *k, const char *value);
static const struct cfg_key *cfg_find_key(const char *section, const char *name);

static const char *const mode_names[] = {"stateless", "stateful", "redirect", NULL};
static const char *const auth_mode_names[] = {"local", "none", "delegate", "http", NULL};
static const char *const notify_mode_names[] = {"off", "register", "reginfo", NULL};
static const char *const ban_action_names[] = {"drop", "reply", NULL};
static const char *const access_format_names[] = {"logfmt", "json", NULL};
static const char *const tls_version_names[] = {"1.2", "1.3", NULL};
static const char *const verify_client_names[] = {"no", "optional", "require", NULL};

#define OFF(field) offsetof(struct config, field)

static const struct cfg_key cfg_keys[] = {
	/* clang-format off */
	{"sip", "listen", cfg_set_listen, .count_off = OFF(sip.nlisten), .list = true,
	 .dflt = "udp:127.0.0.1:5060 tcp:127.0.0.1:5060"},
	{"sip", "domain", cfg_set_domain, .count_off = OFF(sip.ndomains), .list = true},
	{"sip", "advertise", cfg_set_advertise, .off = OFF(sip.advertise)},
	/* Default computed in config_defaults(): 2 x online CPUs. */
	{"sip", "workers", cfg_set_uint, .off = OFF(sip.workers), .min = 1, .max = 256},
	{"sip", "queue_depth", cfg_set_uint, .off = OFF(sip.queue_depth), .min = 16, .max = 1048576,
	 .dflt = "4096"},
	{"sip", "max_message_size", cfg_set_uint, .off = OFF(sip.limits.max_message_size),
	 .min = 1024, .max = 1048576, .dflt = STR(SIP_DEFAULT_MAX_MESSAGE_SIZE)},
	{"sip", "max_headers", cfg_set_uint, .off = OFF(sip.limits.max_headers),
	 .min = 16, .max = 1024, .dflt = STR(SIP_DEFAULT_MAX_HEADERS)},
	{"sip", "max_line_length", cfg_set_uint, .off = OFF(sip.limits.max_line_length),
	 .min = 256, .max = 65535, .dflt = STR(SIP_DEFAULT_MAX_LINE_LENGTH)},
	{"sip", "max_vias", cfg_set_uint, .off = OFF(sip.limits.max_vias),
	 .min = 1, .max = 255, .dflt = STR(SIP_DEFAULT_MAX_VIAS)},
	{"sip", "mode", cfg_set_enum, .off = OFF(sip.mode), .names = mode_names,
	 .dflt = "stateful"},
	{"sip", "record_route", cfg_set_bool, .off = OFF(sip.record_route), .dflt = "no"},
	{"sip", "tcp_idle_timeout", cfg_set_uint, .off = OFF(sip.tcp_idle_timeout),
	 .min = 1, .max = 86400, .dflt = "300"},
	{"sip", "tcp_max_connections", cfg_set_uint, .off = OFF(sip.tcp_max_connections),
	 .min = 1, .max = 1048576, .dflt = "4096"},
	/* 0: never switch, as Kamailio's udp_mtu: most phones listen on UDP
	 * only, and a large datagram is fragmented, not lost. */
	{"sip", "udp_mtu", cfg_set_uint, .off = OFF(sip.udp_mtu), .min = 0, .max = 65535,
	 .dflt = "0"},
	{"sip", "server_header", cfg_set_string, .off = OFF(sip.server_header), .min = 0,
	 .max = CFG_NAME_MAX},
	/* TCP against slowloris and slow readers (net/tcp.c). */
	{"sip", "tcp_max_per_source", cfg_set_uint, .off = OFF(sip.tcp_max_per_source),
	 .min = 1, .max = 1048576, .dflt = "64"},
	{"sip", "tcp_message_timeout", cfg_set_uint, .off = OFF(sip.tcp_message_timeout),
	 .min = 1, .max = 3600, .dflt = "10"},
	{"sip", "tcp_max_queued", cfg_set_uint, .off = OFF(sip.tcp_max_queued),
	 .min = 16384, .max = 67108864, .dflt = "262144"},
	{"sip", "tcp_max_queued_total", cfg_set_uint, .off = OFF(sip.tcp_max_queued_total),
	 .min = 1048576, .max = 4294967295u, .dflt = "67108864"},
	/* Relay policy, rate limits and bans (security/). */
	{"security", "open_relay", cfg_set_bool, .off = OFF(security.open_relay), .dflt = "no"},
	{"security", "trusted", cfg_set_trusted, .count_off = OFF(security.ntrusted),
	 .list = true},
	{"security", "rate_limit", cfg_set_uint, .off = OFF(security.rate_limit),
	 .min = 0, .max = 1000000, .dflt = "100"},
	{"security", "ban_time", cfg_set_uint, .off = OFF(security.ban_time),
	 .min = 1, .max = 2592000, .dflt = "600"},
	{"security", "auth_failures", cfg_set_uint, .off = OFF(security.auth_failures),
	 .min = 0, .max = 1000000, .dflt = "10"},
	{"security", "auth_failures_user", cfg_set_uint, .off = OFF(security.auth_failures_user),
	 .min = 0, .max = 1000000, .dflt = "30"},
	{"security", "auth_window", cfg_set_uint, .off = OFF(security.auth_window),
	 .min = 1, .max = 86400, .dflt = "60"},
	{"security", "ban_action", cfg_set_enum, .off = OFF(security.ban_action),
	 .names = ban_action_names, .dflt = "drop"},
	{"security", "drop_scanners", cfg_set_bool, .off = OFF(security.drop_scanners),
	 .dflt = "yes"},
	{"security", "scanners", cfg_set_scanners, .count_off = OFF(security.nscanners),
	 .list = true,
	 .dflt = "friendly-scanner sipvicious sipcli sip-scan sipsak-scan sundayddr "
		 "vaxsipuseragent pplsip iwar sivus smap"},
	{"security", "share_bans", cfg_set_bool, .off = OFF(security.share_bans), .dflt = "yes"},
	{"log", "level", cfg_set_log_level, .off = OFF(log.level), .dflt = "info"},
	{"log", "target", cfg_set_log_target, .off = OFF(log.target), .dflt = "stderr"},
	{"log", "access", cfg_set_access, .off = OFF(log.access), .dflt = "off"},
	{"log", "access_format", cfg_set_enum, .off = OFF(log.access_format),
	 .names = access_format_names, .dflt = "logfmt"},
	/* TLS (net/tls.c): the tls: and wss: listeners, outgoing TLS. */
	{"tls", "certificate", cfg_set_path, .off = OFF(tls.certificate)},
	{"tls", "private_key", cfg_set_path, .off = OFF(tls.private_key)},
	{"tls", "ca_file", cfg_set_path, .off = OFF(tls.ca_file)},
	{"tls", "verify_client", cfg_set_enum, .off = OFF(tls.verify_client),
	 .names = verify_client_names, .dflt = "no"},
	{"tls", "verify_server", cfg_set_bool, .off = OFF(tls.verify_server), .dflt = "yes"},
	{"tls", "min_version", cfg_set_enum, .off = OFF(tls.min_version),
	 .names = tls_version_names, .dflt = "1.2"},
	{"tls", "ciphers", cfg_set_string, .off = OFF(tls.ciphers), .min = 1,
	 .max = TLS_CIPHERS_MAX, .dflt = TLS_DEFAULT_CIPHERS},
	{"tls", "ciphersuites", cfg_set_string, .off = OFF(tls.ciphersuites), .min = 1,
	 .max = TLS_CIPHERS_MAX},
	{"tls", "trusted_peers", cfg_set_tls_peers, .count_off = OFF(tls.ntrusted_peers),
	 .list = true},
	/* Asynchronous DNS (net/dns.c): c-ares in each worker. */
	{"dns", "servers", cfg_set_dns_servers, .count_off = OFF(dns.nservers), .list = true},
	{"dns", "timeout", cfg_set_uint, .off = OFF(dns.timeout), .min = 50, .max = 30000,
	 .dflt = "2000"},
	{"dns", "tries", cfg_set_uint, .off = OFF(dns.tries), .min = 1, .max = 10, .dflt = "2"},
	{"dns", "cache_size", cfg_set_uint, .off = OFF(dns.cache_size), .min = 0, .max = 16777216,
	 .dflt = "8192"},
	{"dns", "negative_ttl", cfg_set_uint, .off = OFF(dns.negative_ttl), .min = 0, .max = 86400,
	 .dflt = "60"},
	/* Call records (proxy/cdr.c). */
	{"cdr", "enabled", cfg_set_bool, .off = OFF(cdr.enabled), .dflt = "no"},
	{"cdr", "flush_interval", cfg_set_uint, .off = OFF(cdr.flush_interval), .min = 10,
	 .max = 60000, .dflt = "200"},
	{"cdr", "queue_size", cfg_set_uint, .off = OFF(cdr.queue_size), .min = 16,
	 .max = 16777216, .dflt = "65536"},
	/* cfg_set_string: .min and .max bound the length (.max is the buffer). */
	{"database", "conninfo", cfg_set_string, .off = OFF(database.conninfo),
	 .min = 1, .max = CFG_CONNINFO_MAX},
	{"database", "retry_after", cfg_set_uint, .off = OFF(database.retry_after),
	 .min = 1, .max = 3600, .dflt = "5"},
	{"database", "connections_per_worker", cfg_set_uint,
	 .off = OFF(database.connections_per_worker), .min = 1, .max = 16, .dflt = "1"},
	{"registrar", "min_expires", cfg_set_uint, .off = OFF(registrar.min_expires),
	 .min = 1, .max = 86400, .dflt = "60"},
	{"registrar", "max_expires", cfg_set_uint, .off = OFF(registrar.max_expires),
	 .min = 1, .max = 604800, .dflt = "7200"},
	{"registrar", "default_expires", cfg_set_uint, .off = OFF(registrar.default_expires),
	 .min = 1, .max = 604800, .dflt = "3600"},
	{"registrar", "max_contacts", cfg_set_uint, .off = OFF(registrar.max_contacts),
	 .min = 1, .max = 1000, .dflt = "10"},
	{"registrar", "sweep_interval", cfg_set_uint, .off = OFF(registrar.sweep_interval),
	 .min = 1, .max = 3600, .dflt = "10"},
	{"registrar", "location_cache_ttl", cfg_set_uint,
	 .off = OFF(registrar.location_cache_ttl), .min = 0, .max = 3600, .dflt = "30"},
	{"auth", "mode", cfg_set_enum, .off = OFF(auth.mode), .names = auth_mode_names,
	 .dflt = "local"},
	{"auth", "secret", cfg_set_string, .off = OFF(auth.secret),
	 .min = CFG_SECRET_MIN, .max = CFG_SECRET_MAX},
	{"auth", "invite", cfg_set_bool, .off = OFF(auth.invite), .dflt = "no"},
	{"auth", "aor_owner", cfg_set_bool, .off = OFF(auth.aor_owner), .dflt = "yes"},
	{"auth", "nonce_lifetime", cfg_set_uint, .off = OFF(auth.nonce_lifetime),
	 .min = 10, .max = 86400, .dflt = "300"},
	{"auth", "cache_ttl", cfg_set_uint, .off = OFF(auth.cache_ttl),
	 .min = 1, .max = 86400, .dflt = "60"},
	/* MD5 alone by default, as Kamailio and OpenSIPS challenge: many
	 * deployed UAs (baresip 1.0 on libre among them) give up on a second
	 * challenge whose algorithm they do not know instead of answering the
	 * first (RFC 8760 §2.4 asks them to skip it; they do not). SHA-256
	 * is there for the asking. */
	{"auth", "algorithms", cfg_set_algorithms, .count_off = OFF(auth.nalgorithms),
	 .list = true, .dflt = "md5"},
	{"auth", "http_url", cfg_set_url, .off = OFF(auth.http_url), .max = CFG_URL_MAX},
	{"auth", "http_timeout", cfg_set_uint, .off = OFF(auth.http_timeout),
	 .min = 50, .max = 30000, .dflt = "2000"},
	{"auth", "http_connections", cfg_set_uint, .off = OFF(auth.http_connections),
	 .min = 1, .max = 64, .dflt = "4"},
	/* Registration events (registrar/regevent.c). */
	{"notify", "mode", cfg_set_enum, .off = OFF(notify.mode), .names = notify_mode_names,
	 .dflt = "off"},
	{"notify", "target", cfg_set_notify_target, .off = OFF(notify.target), .max = CFG_URL_MAX,
	 .dflt = "pool"},
	{"notify", "refresh", cfg_set_bool, .off = OFF(notify.refresh), .dflt = "no"},
	{"notify", "interval", cfg_set_uint, .off = OFF(notify.interval),
	 .min = 50, .max = 60000, .dflt = "500"},
	{"notify", "retry_max", cfg_set_uint, .off = OFF(notify.retry_max),
	 .min = 1, .max = 86400, .dflt = "300"},
	{"notify", "give_up", cfg_set_uint, .off = OFF(notify.give_up),
	 .min = 10, .max = 604800, .dflt = "86400"},
	{"notify", "subscribe", cfg_set_bool, .off = OFF(notify.subscribe), .dflt = "no"},
	{"notify", "max_subscribe", cfg_set_uint, .off = OFF(notify.max_subscribe),
	 .min = 60, .max = 86400, .dflt = "3600"},

	/* RFC 3261 timers: T1 500 ms, T2 4 s, T4 5 s; Timer C "greater than
	 * 3 minutes" (§16.6 step 11), lower only for tests. */
	{"transaction", "t1", cfg_set_uint, .off = OFF(transaction.t1),
	 .min = 10, .max = 10000, .dflt = "500"},
	{"transaction", "t2", cfg_set_uint, .off = OFF(transaction.t2),
	 .min = 10, .max = 60000, .dflt = "4000"},
	{"transaction", "t4", cfg_set_uint, .off = OFF(transaction.t4),
	 .min = 10, .max = 60000, .dflt = "5000"},
	{"transaction", "timer_c", cfg_set_uint, .off = OFF(transaction.timer_c),
	 .min = 1000, .max = 3600000, .dflt = "180000"},
	{"transaction", "max_transactions", cfg_set_uint, .off = OFF(transaction.max_transactions),
	 .min = 16, .max = 4194304, .dflt = "262144"},
	/* Default computed in config_defaults(): the host name. */
	{"node", "name", cfg_set_string, .off = OFF(node.name), .min = 1, .max = CFG_NAME_MAX},
	/* Session Controller pools (cluster/scpool.c). oos_check and oos_force
	 * bounds and defaults are those of the Genesys SIP Proxy. */
	{"cluster", "geo_location", cfg_set_geo, .off = OFF(cluster.geo_location)},
	{"cluster", "geo_fallback", cfg_set_geo_fallback, .count_off = OFF(cluster.ngeo_fallback),
	 .list = true},
	{"cluster", "oos_check", cfg_set_uint, .off = OFF(cluster.oos_check),
	 .min = 0, .max = 300, .dflt = "5"},
	{"cluster", "oos_force", cfg_set_uint, .off = OFF(cluster.oos_force),
	 .min = 1, .max = 32, .dflt = "5"},
	{"cluster", "record_route", cfg_set_advertise, .off = OFF(cluster.record_route)},
	{"cluster", "alive_codes", cfg_set_alive, .count_off = OFF(cluster.nalive), .list = true,
	 .dflt = "any"},
	{"routing", "session_controllers", cfg_set_bool, .off = OFF(routing.session_controllers),
	 .dflt = "no"},
	{"routing", "overload_dialog_rate", cfg_set_uint, .off = OFF(routing.overload_dialog_rate),
	 .min = 0, .max = 1000000, .dflt = "0"},
	/* Translation of the Request-URI (proxy/translate.c). ENUM asks
	 * public DNS about the numbers called: on when listed. */
	{"routing", "translate", cfg_set_translate, .count_off = OFF(routing.ntranslate),
	 .list = true, .dflt = "forward registry routes"},
	{"routing", "max_translations", cfg_set_uint, .off = OFF(routing.max_translations),
	 .min = 1, .max = 16, .dflt = "5"},
	{"routing", "enum_suffix", cfg_set_string, .off = OFF(routing.enum_suffix), .min = 1,
	 .max = CFG_NAME_MAX, .dflt = "e164.arpa"},
	{"routing", "country_code", cfg_set_digits, .off = OFF(routing.country_code), .max = 4},
	{"routing", "national_prefix", cfg_set_digits, .off = OFF(routing.national_prefix),
	 .max = 4, .dflt = "0"},
	{"routing", "international_prefix", cfg_set_digits,
	 .off = OFF(routing.international_prefix), .max = 4, .dflt = "00"},
	/* Session affinity (proxy/affinity.c), with session_controllers. */
	{"sessions", "affinity", cfg_set_bool, .off = OFF(sessions.affinity), .dflt = "yes"},
	{"sessions", "relate", cfg_set_relate, .count_off = OFF(sessions.nrelate), .list = true,
	 .dflt = "replaces join target-dialog referred-by device controller"},
	{"sessions", "dialog_timeout", cfg_set_uint, .off = OFF(sessions.dialog_timeout),
	 .min = 60, .max = 604800, .dflt = "43200"},
	{"sessions", "early_timeout", cfg_set_uint, .off = OFF(sessions.early_timeout),
	 .min = 10, .max = 3600, .dflt = "300"},
	{"sessions", "keep_ended", cfg_set_uint, .off = OFF(sessions.keep_ended),
	 .min = 0, .max = 2592000, .dflt = "3600"},
	{"sessions", "cache_size", cfg_set_uint, .off = OFF(sessions.cache_size),
	 .min = 0, .max = 16777216, .dflt = "262144"},
	{"sessions", "synchronous_commit", cfg_set_bool, .off = OFF(sessions.synchronous_commit),
	 .dflt = "no"},
	/* The admin API is loopback-only unless told otherwise, and off
	 * until a token is given (cfg_check_together). */
	{"admin", "listen", cfg_set_admin_listen, .dflt = "127.0.0.1:8080"},
	{"admin", "token", cfg_set_token, .off = OFF(admin.token)},
	{"admin", "token_file", cfg_set_path, .off = OFF(admin.token_file)},
	{"admin", "tls_cert", cfg_set_path, .off = OFF(admin.tls_cert)},
	{"admin", "tls_key", cfg_set_path, .off = OFF(admin.tls_key)},
	{"admin", "max_body", cfg_set_uint, .off = OFF(admin.max_body),
	 .min = 256, .max = 16777216, .dflt = "65536"},
	{"admin", "max_connections", cfg_set_uint, .off = OFF(admin.max_connections),
	 .min = 4, .max = 4096, .dflt = "64"},
	{"admin", "request_timeout", cfg_set_uint, .off = OFF(admin.request_timeout),
	 .min = 1, .max = 3600, .dflt = "10"},
	{"admin", "threads", cfg_set_uint, .off = OFF(admin.threads),
	 .min = 1, .max = 16, .dflt = "2"},
	/* clang-format on */
};

#define CFG_NKEYS (sizeof(cfg_keys) / sizeof(cfg_keys[0]))

struct cfg_parse {
	struct config *cfg;
	const char *name; /* the path, in messages */
	FILE *errs;       /* may be NULL */
	unsigned nerr;
	unsigned lineno;
	enum cfg_section_state sect;
	unsigned first_line[CFG_NKEYS]; /* line a key was first set on; 0: not yet */
	/* The input: a stream, or a NUL-terminated text. */
	FILE *f;
	const char *text;
	int read_errno;
};

static void cfg_err(struct cfg_parse *ps, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void cfg_err(struct cfg_parse *ps, const char *fmt, ...)
{
	va_list ap;

	ps->nerr++;
	if (!ps->errs)
		return;
	/* A rule between keys found none of them in the file: no line. */
	if (ps->lineno)
		fprintf(ps->errs, "%s:%u: ", ps->name, ps->lineno);
	else
		fprintf(ps->errs, "%s: ", ps->name);
	va_start(ap, fmt);
	vfprintf(ps->errs, fmt, ap);
	va_end(ap);
	fputc('\n', ps->errs);
}

static void *cfg_field(struct cfg_parse *ps, size_t off)
{
	return (char *)ps->cfg + off;
}

/* ---- scalar values ---------------------------------------------------- */

static void cfg_set_uint(struct cfg_parse *ps, const struct cfg_key *k, const char *value)
{
	uint32_t v;
	int r = sip_str_to_u32(sip_str_cstr(value), &v);

	if (r == -EINVAL) {
		cfg_err(ps, "%s: '%s' is not a number (expected %u..%u)", k->name, value, k->min,
			k->max);
		return;
	}
	if (r < 0 || v < k->min || v > k->max) {
		cfg_err(ps, "%s: '%s' is out of range %u..%u", k->name, value, k->min, k->max);
		return;
	}
	*(unsigned *)cfg_field(ps, k->off) = v;
}

static void cfg_set_bool(struct cfg_parse *ps, const struct cfg_key *k, const char *value)
{
	static const char *const yes[] = {"yes", "true", "on", "1"};
	static const char *const no[] = {"no", "false", "off", "0"};

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(value, yes[i]) == 0) {
			*(bool *)cfg_field(ps, k->off) = true;
			return;
		}
		if (strcasecmp(value, no[i]) == 0) {
			*(bool *)cfg_field(ps, k->off) = false;
			return;
		}
	}
	cfg_err(ps, "%s: '%s' is not a boolean (expected yes/no/true/false/on/off/1/0)", k->name,
		value);
}

static void cfg_set_enum(struct cfg_parse *ps, const struct cfg_key *k, const char *value)
{
	char accepted[128] = "";

	for (unsigned i = 0; k->names[i]; i++) {
		if (strcasecmp(value, k->names[i]) == 0) {
			*(unsigned *)cfg_field(ps, k->off) = i;
			return;
		}
	}
	for (unsigned i = 0; k->names[i]; i++) {
		if (i)
			strncat(accepted, "|", sizeof(accepted) - strlen(accepted) - 1);
		strncat(accepted, k->names[i], sizeof(accepted) - strlen(accepted) - 1);
	}
	cfg_err(ps, "%s: '%s' is not one of %s", k->name, value, accepted);
}

static void cfg_set_log_level(struct cfg_parse *ps, const struct cfg_key *k, const char *value)
{
	enum log_level level;

	if (log_level_parse(value, &level) < 0) {
		cfg_err(ps, "%s: '%s' is not one of error|warn|info|debug", k->name, value);
		return;
	}
	*(enum log_level *)cfg_field(ps, k->off) = level;
}

/* A log's destination: word (stderr, off), syslog or an absolute path:
 * a relative one would depend on the directory the daemon was started
 * from, which differs between a shell and systemd. */
static void cfg_set_log_dest(struct cfg_parse *ps, const struct cfg_key *k, const char *value,
			     const char *word)
{
	char *target = cfg_field(ps, k->off);

	if (strcasecmp(value, word) == 0 || strcasecmp(value, "syslog") == 0) {
		strcpy(target, strcasecmp(value, word) == 0 ? word : "syslog");
		return;
	}
	if (value[0] != '/') {
		cfg_err(ps, "%s: '%s' is not %s, syslog or an absolute path", k->name, value, word);
		return;
	}
	if (strlen(value) >= PATH_MAX) {
		cfg_err(ps, "%s: the path is longer than %d characters", k->name, PATH_MAX - 1);
		return;
	}
	strcpy(target, value);
}

static void cfg_set_log_target(struct cfg_parse *ps, const struct cfg_key *k, const char *value)
{
	cfg_set_log_dest(ps, k, value, "stderr");
}

/* ---- hosts and addresses ---------------------------------------------- */

/*
 * Checks one host, host[0..len), and writes its normal form to out (cap
 * bytes): a host name in lowercase, an IPv4 address, or an IPv6 address in
 * inet_ntop(3) form without brackets. The IPv6 form may be given with or
 * without brackets. Returns 0, or -EINVAL with *why saying what is wrong.
 */
static int cfg_host_norm(const char *host, size_t len, char *out, size_t cap, const char **why)
{
	char buf[CFG_NAME_MAX];
	unsigned char bin[sizeof(struct in6_addr)];
	bool digits_only = true;
	size_t label = 0;

	if (len >= 2 && host[0] == '[' && host[len - 1] == ']') {
		host++;
		len -= 2;
		if (!memchr(host, ':', len)) {
			*why = "brackets are for IPv6 addresses only";
			return -EINVAL;
		}
	}
	if (len == 0) {
		*why = "the host is empty";
		return -EINVAL;
	}
	/* RFC 1035 §2.3.4: 253 characters in text form. */
	if (len > 253 || len >= sizeof(buf)) {
		*why = "the host is longer than 253 characters";
		return -EINVAL;
	}
	for (size_t i = 0; i < len; i++)
		buf[i] = (char)tolower((unsigned char)host[i]);
	buf[len] = '\0';

	if (strchr(buf, ':')) {
		if (inet_pton(AF_INET6, buf, bin) != 1) {
			*why = "it is not a valid IPv6 address";
			return -EINVAL;
		}
		inet_ntop(AF_INET6, bin, out, (socklen_t)cap);
		return 0;
	}
	for (size_t i = 0; i < len; i++)
		digits_only &= buf[i] == '.' || isdigit((unsigned char)buf[i]);
	if (digits_only) {
		/* A name of digits and dots is meant as an IPv4 address: no
		 * top-level domain is all-numeric (RFC 3696 §2). */
		if (inet_pton(AF_INET, buf, bin) != 1) {
			*why = "it is not a valid IPv4 address";
			return -EINVAL;
		}
		inet_ntop(AF_INET, bin, out, (socklen_t)cap);
		return 0;
	}
	/* RFC 1123 §2.1 host name: labels of letters, digits and hyphens, 1 to
	 * 63 characters, not starting or ending with a hyphen. */
	for (size_t i = 0; i <= len; i++) {
		char c = buf[i];
		if (c == '.' || c == '\0') {
			if (label == 0) {
				*why = "it has an empty label";
				return -EINVAL;
			}
			if (buf[i - 1] == '-') {
				*why = "a label ends with '-'";
				return -EINVAL;
			}
			label = 0;
			continue;
		}
		if (!isalnum((unsigned char)c) && c != '-') {
			*why = "a host name has only letters, digits, '-' and '.'";
			return -EINVAL;
		}
		if (label == 0 && c == '-') {
			*why = "a label starts with '-'";
			return -EINVAL;
		}
		if (++label > 63) {
			*why = "a label is longer than 63 characters";
			return -EINVAL;
		}
	}
	if (len >= cap) {
		*why = "the host is too long";
		return -EINVAL;
	}
	memcpy(out, buf, len + 1);
	return 0;
}

/* 1..65535, digits only. */
static int cfg_port(const char *s, size_t len, uint16_t *out)
{
	uint32_t v;

	if (sip_str_to_u32(sip_str_make(s, len), &v) < 0 || v == 0 || v > 65535)
		return -EINVAL;
	*out = (uint16_t)v;
	return 0;
}

/* Next item of a list separated by blanks and/or commas; NULL at the end. */
static const char *cfg_next_item(const char **cursor, size_t *len)
{
	const char *p = *cursor + strspn(*cursor, " \t,");

	if (*p == '\0')
		return NULL;
	*len = strcspn(p, " \t,");
	*cursor = p + *len;
	return p;
}

static void cfg_listen_item(struct cfg_parse *ps, const struct cfg_key *k, const char *item)
{
	struct config *cfg = ps->cfg;
	struct transport_listen l;
	const char *colon = strchr(item, ':');
	const char *hostport, *host_end, *port;
	char addr[NETADDR_STRLEN];
	uint16_t portnum;

	memset(&l, 0, sizeof(l)); /* copied whole into cfg: no stray bytes */
	if (!colon || sip_proto_parse(sip_str_make(item, (size_t)(colon - item)), &l.proto) < 0) {
		if (colon && strspn(item, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") ==
				     (size_t)(colon - item))
			cfg_err(ps,
				"%s: '%s' has an unknown transport '%.*s' "
				"(expected udp, tcp, tls, ws or wss)",
				k->name, item, (int)(colon - item), item);
		else
			cfg_err(ps,
				"%s: '%s' has no transport: expected PROTO:ADDRESS:PORT, e.g. "
				"udp:192.0.2.1:5060 or tcp:[2001:db8::1]:5060",
				k->name, item);
		return;
	}
	hostport = colon + 1;
	if (hostport[0] == '[') {
		host_end = strchr(hostport, ']');
		if (!host_end) {
			cfg_err(ps, "%s: '%s' has no ']' after the IPv6 address", k->name, item);
			return;
		}
		host_end++;
		if (*host_end != ':') {
			cfg_err(ps, "%s: '%s' has no port", k->name, item);
			return;
		}
	} else {
		host_end = strrchr(hostport, ':');
		if (!host_end) {
			cfg_err(ps, "%s: '%s' has no port", k->name, item);
			return;
		}
		if (memchr(hostport, ':', (size_t)(host_end - hostport))) {
			cfg_err(ps,
				"%s: '%s': an IPv6 address goes in brackets, e.g. udp:[::1]:5060",
				k->name, item);
			return;
		}
	}
	port = host_end + 1;
	if (cfg_port(port, strlen(port), &portnum) < 0) {
		cfg_err(ps, "%s: '%s': port '%s' is not a number in 1..65535", k->name, item, port);
		return;
	}
	if (netaddr_from_host(sip_str_make(hostport, (size_t)(host_end - hostport)), portnum,
			      &l.addr) < 0) {
		cfg_err(ps,
			"%s: '%s': '%.*s' is not a numeric IPv4 or IPv6 address "
			"(host names are not allowed here)",
			k->name, item, (int)(host_end - hostport), hostport);
		return;
	}
	netaddr_format(&l.addr, addr, sizeof(addr));
	snprintf(l.text, sizeof(l.text), "%s:%s", sip_proto_name(l.proto), addr);

	for (unsigned i = 0; i < cfg->sip.nlisten; i++) {
		const struct transport_listen *o = &cfg->sip.listen[i];
		if (!netaddr_equal(&o->addr, &l.addr))
			continue;
		if (o->proto == l.proto) {
			cfg_err(ps, "%s: '%s' is listed twice", k->name, l.text);
			return;
		}
		/* TCP and TLS are both stream sockets: one port, one of them. */
		if (sip_proto_is_stream(o->proto) && sip_proto_is_stream(l.proto)) {
			cfg_err(ps, "%s: '%s' and '%s' cannot share one TCP port", k->name, o->text,
				l.text);
			return;
		}
	}
	if (cfg->sip.nlisten >= CFG_MAX_LISTEN) {
		cfg_err(ps, "%s: more than %d addresses ('%s' is one too many)", k->name,
			CFG_MAX_LISTEN, item);
		return;
	}
	cfg->sip.listen[cfg->sip.nlisten++] = l;
}

static void cfg_set_listen(struct cfg_parse *ps, const struct cfg_key *k, const char *value)
{
	/* Longer than any address; a longer item is reported as such. */
	char item[NETADDR_STRLEN + 16];
	const char *p;
	size_t len;

	while ((p = cfg_next_item(&value, &len))) {
		if (len >= sizeof(item)) {
			cfg_err(ps, "%s: '%.*s' is too long to be an address", k->name, (int)len,
				p);
			continue;
		}
		memcpy(item, p, len);
		item[len] = '\0';
		cfg_listen_item(ps, k, item);
	}
}

static void cfg_set_domain(struct cfg_parse *ps, const struct cfg_key *k, const char *value)
{
	struct config *cfg = ps->cfg;
	char norm[CFG_NAME_MAX];
	const char *p, *why = NULL;
	size_t len;

	while ((p = cfg_next_item(&value, &len))) {
		if (cfg_host_norm(p, len, norm, sizeof(norm), &why) < 0) {
			cfg_err(ps, "%s: '%.*s' is not a host name or IP address: %s", k->name,
				(int)len, p, why);
			continue;
		}
		bool dup = false;
		for (unsigned i = 0; i < cfg->sip.ndomains && !dup; i++)
			dup = strcmp(cfg->sip.domain[i], norm) == 0;
		if (dup) {
			cfg_err(ps, "%s: '%.*s' is listed twice", k->name, (int)len, p);
			continue;
		}
		if (cfg->sip.ndomains >= CFG_MAX_DOMAINS) {
			cfg_err(ps, "%s: more than %d domains ('%.*s' is one too many)", k->name,
				CFG_MAX_DOMAINS, (int)len, p);
			continue;
		}
		strcpy(cfg->sip.domain[cfg->sip.ndomains++], norm);
	}
}

static void cfg_set_advertise(struct cfg_parse *ps, const struct cfg_key *k, const char *value)
{
	const char *host_end, *why = NULL;
	const char *port = NULL;
	char *out = cfg_field(ps, k->off); /* CFG_NAME_MAX bytes */
	char norm[CFG_NAME_MAX];
	uint16_t portnum = 0;
	size_t n;

	if (value[strcspn(value, " \t,")] != '\0') {
		cfg_err(ps, "%s: '%s': give one host or host:port", k->name, value);
		return;
	}
	if (value[0] == '[') {
		host_end = strchr(value, ']');
		if (!host_end) {
			cfg_err(ps, "%s: '%s' has no ']' after the IPv6 address", k->name, value);
			return;
		}
		host_end++;
		if (*host_end != '\0' && *host_end != ':') {
			cfg_err(ps, "%s: '%s': unexpected text after ']'", k->name, value);
			return;
		}
	} else {
		host_end = strchr(value, ':');
		if (host_end && strchr(host_end + 1, ':')) {
			cfg_err(ps,
				"%s: '%s': an IPv6 address goes in brackets, e.g. [2001:db8::1]",
				k->name, value);
			return;
		}
		if (!host_end)
			host_end = value + strlen(value);
	}
	if (*host_end == ':') {
		port = host_end + 1;
		if (cfg_port(port, strlen(port), &portnum) < 0) {
			cfg_err(ps, "%s: '%s': port '%s' is not a number in 1..65535", k->name,
				value, port);
			return;
		}
	}
	if (cfg_host_norm(value, (size_t)(host_end - value), norm, sizeof(norm), &why) < 0) {
		cfg_err(ps, "%s: '%s' is not a host name or IP address: %s", k->name, value, why);
		return;
	}
	/* Stored ready for a Via sent-by: IPv6 in brackets (RFC 3261 §25.1). */
	n = (size_t)snprintf(out, CFG_NAME_MAX, strchr(norm, ':') ? "[%s]" : "%s", norm);
	if (port && n < CFG_NAME_MAX)
		snprintf(out + n, CFG_NAME_MAX - n, ":%u", (unsigned)portnum);
}

/* A free-form string of .min to .max - 1 characters, no control bytes. */
/* An http:// or https:// URL with a host. */
static void cfg_set_url(struct cfg_parse *ps, const struct cfg_key *k, const char *value)
{
	size_t skip = strncmp(value, "http://", 7) == 0    ? 7
		      : strncmp(value, "https://", 8) == 0 ? 8
							   : 0;

	if (!skip || !value[skip] || value[skip] == '/' || strpbrk(value, " \t\r\n")) {
		cfg_err(ps, "%s: '%s' is not an http:// or https:// URL", k->name, value);
		return;
	}
	cfg_set_string(ps, k, value);
}

/* "pool", or a SIP URI that parses. */
static void cfg_set_notify_target(struct cfg_parse *ps, const struct cfg_key *k, const char *value)
{
	struct sip_uri u;

	if (strcmp(value, "pool") != 0 &&
	    (sip_uri_parse(sip_str_cstr(value), &u) < 0 ||
	     (u.scheme != SIP_URI_SIP && u.scheme != SIP_URI_SIPS) || !u.host.len)) {
		cfg_err(ps, "%s: '%s' is neither \"pool\" nor a sip: URI", k->name, value);
		return;
	}
	cfg_set_string(ps, k, value);
}

static void cfg_set_string(struct cfg_parse *ps, const struct cfg_key *k, const char *value)
{
	size_t n = strlen(value);

	if (n < k->min || n >= k->max) {
		cfg_err(ps, "%s: must be %u to %u characters long", k->name, k->min, k->max - 1);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		if ((unsigned char)value[i] < 0x20 || value[i] == 0x7f) {
			cfg_err(ps, "%s: control characters are not allowed", k->name);
			return;
		}
	}
	memcpy(cfg_field(ps, k->off), value, n + 1);
}

/* md5 / sha256, in order of preference, each once. */
static void cfg_set_algorithms(struct cfg_parse *ps, const struct cfg_key *k, const char *value)
{
	struct config *cfg = ps->cfg;
	const char *p;
	size_t len;

	while ((p = cfg_next_item(&value, &len))) {
		unsigned a;

		if (len == 3 && strncasecmp(p, "md5", 3) == 0) {
			a = 0;
		} else if (len == 6 && strncasecmp(p, "sha256", 6) == 0) {
			a = 1;
		} else {
			cfg_err(ps, "%s: '%.*s' is not one of md5|sha256", k->name, (int)len, p);
			continue;
		}
		for (unsigned i = 0; i < cfg->auth.nalgorithms; i++) {
			if (cfg->auth.algorithms[i] == a) {
				cfg_err(ps, "%s: '%.*s' is listed twice", k->name, (int)len, p);
				return;
			}
		}
		cfg->auth.algorithms[cfg->auth.nalgorithms++] = a;
	}
}

bool config_pool_name_ok(const char *p, size_t len)
{
	if (len == 0 || len >= CFG_GEO_MAX || !isalnum((unsigned char)p[0]))
		return false;
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)p[i]) && !strchr("._-", p[i]))
			return false;
	return true;
}

static void cfg_set_geo(struct cfg_parse *ps, const struct cfg_key *k, const char *value)
{
	if (!config_pool_name_ok(value, strlen(value))) {
		cfg_err(ps, "%s: '%s' is not a data-centre name (letters, digits, '.', '_', '-')",
			k->name, value);
		return;
	}
	strcpy(cfg_field(ps, k->off), value);
}

static void cfg_set_geo_fallback(struct cfg_parse *ps, const struct cfg_key *k, const char *value)
{
	struct config *cfg = ps->cfg;
	const char *p;
	size_t len;

	while ((p = cfg_next_item(&value, &len))) {
		bool dup = false;

		if (!config_pool_name_ok(p, len)) {
			cfg_err(ps, "%s: '%.*s' is not a data-centre name", k->name, (int)len, p);
			continue;
		}
		for (unsigned i = 0; i < cfg->cluster.ngeo_fallback && !dup; i++)
			dup = strlen(cfg->cluster.geo_fallback[i]) == len &&
			      memcmp(cfg->cluster.geo_fallback[i], p, len) == 0;
		if (dup) {
			cfg_err(ps, "%s: '%.*s' is listed twice", k->name, (int)len, p);
			continue;
		}
		if (cfg->cluster.ngeo_fallback >= CFG_MAX_GEO) {
			cfg_err(ps, "%s: more than %d data centres", k->name, CFG_MAX_GEO);
			return;
		}
		memcpy(cfg->cluster.geo_fallback[cfg->cluster.ngeo_fallback], p, len);
		cfg->cluster.geo_fallback[cfg->cluster.ngeo_fallback++][len] = '\0';
	}
}

/* Step names (enum cfg_translate), in any order (the order is fixed), or
 * "none" alone: the Request-URI as it came. */
static void cfg_set_translate(struct cfg_parse *ps, const struct cfg_key *k, const char *value)
{
	static const char *const names[] = {"forward", "registry", "enum", "routes"};
	struct config *cfg = ps->cfg;
	const char *p;
	size_t len;

	if (cfg->routing.ntranslate == 0)
		cfg->routing.translate = 0; /* the first occurrence replaces the default */
	while ((p = cfg_next_item(&value, &len))) {
		unsigned bit = 0;

		if (len == 4 && strncasecmp(p, "none", 4) == 0 && !cfg->routing.ntranslate) {
			cfg->routing.ntranslate = 1;
			continue;
		}
		for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			if (strlen(names[i]) == len && strncasecmp(p, names[i], len) == 0)
				bit = 1u << i;
		if (!bit || cfg->routing.translate & bit ||
		    (cfg->routing.ntranslate && !cfg->routing.translate)) {
			cfg_err(ps,
				"%s: '%.*s' is not one of forward|registry|enum|routes (each once) "
				"or none alone",
				k->name, (int)len, p);
			return;
		}
		cfg->routing.translate |= bit;
		cfg->routing.ntranslate++;
	}
}

/* Name servers: IPv4 or [IPv6], each with an optional :port (53). */
static void cfg_set_dns_servers(struct cfg_parse *ps, const struct cfg_key *k, const char *value)
{
	struct config *cfg = ps->cfg;
	const char *p;
	size_t len;

	while ((p = cfg_next_item(&value, &len))) {
		char buf[NETADDR_STRLEN + 8];
		struct netaddr a;
		bool port = false;

		if (len + 4 >= sizeof(buf)) {
			cfg_err(ps, "%s: '%.*s' is too long", k->name, (int)len, p);
			continue;
		}
		memcpy(buf, p, len);
		buf[len] = '\0';
		/* "1.2.3.4:53" or "[::1]:53" names a port; a bare address gets 53 */
		port = buf[0] == '[' ? strstr(buf, "]:") != NULL : strchr(buf, ':') != NULL;
		if (!port)
			strcat(buf, buf[0] == '[' || !strchr(buf, ':') ? ":53" : "");
		if (netaddr_parse(buf, &a) < 0) {
			cfg_err(ps, "%s: '%.*s' is not ADDRESS[:PORT]", k->name, (int)len, p);
			continue;
		}
		if (cfg->dns.nservers >= CFG_MAX_DNS_SERVERS) {
			cfg_err(ps, "%s: more than %d servers", k->name, CFG_MAX_DNS_SERVERS);
			return;
		}
		cfg->dns.servers[cfg->dns.nservers++] = a;
	}
}

/* The access log: off, syslog or an absolute path. */
static void cfg_set_access(struct cfg_parse *ps, const struct cfg_key *k, const char *value)
{
	cfg_set_log_dest(ps, k, value, "off");
}

/* A short string of digits (empty allowed), .max digits at most. */
static void cfg_set_digits(struct cfg_parse *ps, const struct cfg_key *k, const char *value)
{
	char *dst = cfg_field(ps, k->off);
	size_t len = strlen(value);

	if (len > k->max || strspn(value, "0123456789") != len) {
		cfg_err(ps, "%s: '%s' is not up to %u digits", k->name, value, k->max);
		return;
	}
	strcpy(dst, value);
}

/* Rule names (enum cfg_relate), or "none" alone. */
static void cfg_set_relate(struct cfg_parse *ps, const struct cfg_key *k, const char *value)
{
	static const char *const names[] = {"replaces",    "join",   "target-dialog",
					    "referred-by", "device", "controller"};
	struct config *cfg = ps->cfg;
	const char *p;
	size_t len;

	if (cfg->sessions.nrelate == 0)
		cfg->sessions.relate = 0; /* the first occurrence replaces the default */
	while ((p = cfg_next_item(&value, &len))) {
		unsigned bit = 0;

		if (len == 4 && strncasecmp(p, "none", 4) == 0) {
			if (cfg->sessions.nrelate) {
				cfg_err(ps, "%s: 'none' goes alone", k->name);
				return;
			}
			cfg->sessions.nrelate = 1;
			continue;
		}
		for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			if (strlen(names[i]) == len && strncasecmp(p, names[i], len) == 0)
				bit = 1u << i;
		if (!bit) {
			cfg_err(ps,
				"%s: '%.*s' is not one of replaces|join|target-dialog|referred-by|"
				"device|controller|none",
				k->name, (int)len, p);
			continue;
		}
		if (cfg->sessions.relate & bit ||
		    (cfg->sessions.nrelate && !cfg->sessions.relate)) {
			cfg_err(ps, "%s: '%.*s' is listed twice, or with 'none'", k->name, (int)len,
				p);
			return;
		}
		cfg->sessions.relate |= bit;
		cfg->sessions.nrelate++;
	}
}

/* "any" (stored as 0), or statuses (200) and classes (2xx). */
static void cfg_set_alive(struct cfg_parse *ps, const struct cfg_key *k, const char *value)
{
	struct config *cfg = ps->cfg;
	const char *p;
	size_t len;

	while ((p = cfg_next_item(&value, &len))) {
		bool any = len == 3 && strncasecmp(p, "any", 3) == 0;
		unsigned v = 0;

		if (any || (cfg->cluster.nalive && cfg->cluster.alive[0] == 0)) {
			if (cfg->cluster.nalive) {
				cfg_err(ps, "%s: 'any' goes alone", k->name);
				return;
			}
			cfg->cluster.alive[cfg->cluster.nalive++] = 0;
			continue;
		}
		if (len == 3 && p[0] >= '1' && p[0] <= '6' && (p[1] == 'x' || p[1] == 'X') &&
		    (p[2] == 'x' || p[2] == 'X')) {
			v = (unsigned)(p[0] - '0');
		} else if (len == 3 && isdigit((unsigned char)p[0]) &&
			   isdigit((unsigned char)p[1]) && isdigit((unsigned char)p[2])) {
			v = (unsigned)((p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0'));
			if (v < 100 || v > 699)
				v = 0;
		}
		if (!v) {
			cfg_err(ps, "%s: '%.*s' is not any, a status (100-699) or a class (2xx)",
				k->name, (int)len, p);
			continue;
		}
		if (cfg->cluster.nalive >= CFG_MAX_ALIVE) {
			cfg_err(ps, "%s: more than %d codes", k->name, CFG_MAX_ALIVE);
			return;
		}
		cfg->cluster.alive[cfg->cluster.nalive++] = (uint16_t)v;
	}
}

/* [security] trusted: address blocks, each once. */
static void cfg_set_trusted(struct cfg_parse *ps, const struct cfg_key *k, const char *value)
{
	struct config *cfg = ps->cfg;
	const char *p;
	size_t len;

	while ((p = cfg_next_item(&value, &len))) {
		struct netaddr_prefix np;

		if (netaddr_prefix_parse(p, len, &np) < 0) {
			cfg_err(ps, "%s: '%.*s' is not an address or ADDRESS/BITS block", k->name,
				(int)len, p);
			continue;
		}
		if (cfg->security.ntrusted >= CFG_MAX_TRUSTED) {
			cfg_err(ps, "%s: more than %d blocks", k->name, CFG_MAX_TRUSTED);
			return;
		}
		cfg->security.trusted[cfg->security.ntrusted++] = np;
	}
}

/* [security] scanners: User-Agent substrings, kept lowercase. */
static void cfg_set_scanners(struct cfg_parse *ps, const struct cfg_key *k, const char *value)
{
	struct config *cfg = ps->cfg;
	const char *p;
	size_t len;

	while ((p = cfg_next_item(&value, &len))) {
		char *dst;

		if (len >= CFG_SCANNER_MAX) {
			cfg_err(ps, "%s: '%.*s' is longer than %d characters", k->name, (int)len, p,
				CFG_SCANNER_MAX - 1);
			continue;
		}
		if (cfg->security.nscanners >= CFG_MAX_SCANNERS) {
			cfg_err(ps, "%s: more than %d names", k->name, CFG_MAX_SCANNERS);
			return;
		}
		dst = cfg->security.scanners[cfg->security.nscanners++];
		for (size_t i = 0; i < len; i++)
			dst[i] = (char)tolower((unsigned char)p[i]);
		dst[len] = '\0';
	}
}

/* [tls] trusted_peers: host names a client certificate may carry. */
static void cfg_set_tls_peers(struct cfg_parse *ps, const struct cfg_key *k, const char *value)
{
	struct tls_settings *t = &ps->cfg->tls;
	const char *p;
	size_t len;

	while ((p = cfg_next_item(&value, &len))) {
		if (len >= TLS_NAME_MAX) {
			cfg_err(ps, "%s: '%.*s' is longer than %d characters", k->name, (int)len, p,
				TLS_NAME_MAX - 1);
			continue;
		}
		if (t->ntrusted_peers >= TLS_MAX_TRUSTED) {
			cfg_err(ps, "%s: more than %d names", k->name, TLS_MAX_TRUSTED);
			return;
		}
		memcpy(t->trusted_peers[t->ntrusted_peers], p, len);
		t->trusted_peers[t->ntrusted_peers++][len] = '\0';
	}
}

/* [admin] listen: "off", or one ADDRESS:PORT (IPv6 in brackets). */
static void cfg_set_admin_listen(struct cfg_parse *ps, const struct cfg_key *k, const char *value)
{
	struct config *cfg = ps->cfg;
	struct netaddr a;

	if (strcasecmp(value, "off") == 0) {
		cfg->admin.listen_off = true;
		return;
	}
	if (netaddr_parse(value, &a) < 0 || netaddr_port(&a) == 0) {
		cfg_err(ps,
			"%s: '%s' is not off or a numeric ADDRESS:PORT, e.g. 127.0.0.1:8080 or "
			"[::1]:8080",
			k->name, value);
		return;
	}
	cfg->admin.listen_off = false;
	cfg->admin.listen = a;
	netaddr_format(&a, cfg->admin.listen_text, sizeof(cfg->admin.listen_text));
}

/* A bearer token (RFC 6750 §2.1 b64token): letters, digits, "-._~+/",
 * then "=" padding; CFG_TOKEN_MIN characters at least, so that a guess
 * is out of reach. */
static void cfg_set_token(struct cfg_parse *ps, const struct cfg_key *k, const char *value)
{
	size_t n = strlen(value), i;

	if (n < CFG_TOKEN_MIN || n >= CFG_TOKEN_MAX) {
		cfg_err(ps, "%s: must be %d to %d characters long", k->name, CFG_TOKEN_MIN,
			CFG_TOKEN_MAX - 1);
		return;
	}
	i = strspn(value, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/");
	if (i == 0 || value[i + strspn(value + i, "=")] != '\0') {
		cfg_err(ps,
			"%s: only letters, digits and -._~+/ are allowed (then '=' padding), e.g. "
			"the output of \"openssl rand -hex 32\"",
			k->name);
		return;
	}
	memcpy(cfg_field(ps, k->off), value, n + 1);
}

/* An absolute path (PATH_MAX buffer); the file is read at start. */
static void cfg_set_path(struct cfg_parse *ps, const struct cfg_key *k, const char *value)
{
	if (value[0] != '/') {
		cfg_err(ps, "%s: '%s' is not an absolute path", k->name, value);
		return;
	}
	if (strlen(value) >= PATH_MAX) {
		cfg_err(ps, "%s: the path is longer than %d characters", k->name, PATH_MAX - 1);
		return;
	}
	strcpy(cfg_field(ps, k->off), value);
}

/* Rules that tie keys together, checked once the whole file is read. The
 * message points at the line of the key to change. */
static unsigned cfg_line_of(struct cfg_parse *ps, const char *section, const char *name)
{
	const struct cfg_key *k = cfg_find_key(section, name);

	return k ? ps->first_line[k - cfg_keys] : 0;
}

static void cfg_check_admin(struct cfg_parse *ps)
{
	const struct config *c = ps->cfg;
	unsigned listen_line = cfg_line_of(ps, "admin", "listen");

	if (c->admin.token[0] && c->admin.token_file[0]) {
		ps->lineno = cfg_line_of(ps, "admin", "token_file");
		cfg_err(ps, "[admin] give token or token_file, not both");
	}
	if (!c->admin.tls_cert[0] != !c->admin.tls_key[0]) {
		ps->lineno =
			cfg_line_of(ps, "admin", c->admin.tls_cert[0] ? "tls_cert" : "tls_key");
		cfg_err(ps, "[admin] HTTPS needs both tls_cert and tls_key");
	}
	/* The default listen without a token leaves the server off (and the
	 * log says so); an address written in the file means it is wanted. */
	if (listen_line && !c->admin.listen_off && !c->admin.token[0] && !c->admin.token_file[0]) {
		ps->lineno = listen_line;
		cfg_err(ps,
			"[admin] listen = %s needs [admin] token or [admin] token_file "
			"(or listen = off)",
			c->admin.listen_text);
	}
	if (c->admin.max_connections < c->admin.threads) {
		ps->lineno = cfg_line_of(ps, "admin", "max_connections");
		cfg_err(ps, "[admin] needs max_connections >= threads (%u, %u)",
			c->admin.max_connections, c->admin.threads);
	}
	if (config_admin_on(c)) {
		for (unsigned i = 0; i < c->sip.nlisten; i++) {
			const struct transport_listen *l = &c->sip.listen[i];
			if (sip_proto_is_stream(l->proto) &&
			    netaddr_equal(&l->addr, &c->admin.listen)) {
				ps->lineno = listen_line ? listen_line
							 : cfg_line_of(ps, "sip", "listen");
				cfg_err(ps, "[admin] listen = %s is also the SIP listener '%s'",
					c->admin.listen_text, l->text);
			}
		}
	}
}

/* TLS: what a tls: or wss: listener needs, loaded as the start would
 * load it, so that --check-config finds an unreadable file, a key that
 * does not match or a certificate out of its validity period. */
static void cfg_check_tls(struct cfg_parse *ps)
{
	const struct config *c = ps->cfg;
	const struct tls_settings *t = &c->tls;
	bool listener = config_tls_on(c), set = false;
	char err[1024];

	for (unsigned i = 0; i < c->sip.nlisten; i++)
		if (sip_proto_is_ws(c->sip.listen[i].proto) && c->sip.mode != PROXY_MODE_STATEFUL) {
			ps->lineno = cfg_line_of(ps, "sip", "mode");
			cfg_err(ps,
				"a ws: or wss: listener needs [sip] mode = stateful (a WebSocket "
				"client is reached through the node that holds its connection, "
				"by the stateful proxy)");
			return;
		}

	for (size_t i = 0; i < CFG_NKEYS; i++)
		set |= strcmp(cfg_keys[i].section, "tls") == 0 && ps->first_line[i];
	if (!listener && set) {
		ps->lineno = cfg_line_of(ps, "sip", "listen");
		cfg_err(ps, "[tls] is set, but no tls: or wss: listener in [sip] listen uses it "
			    "(outgoing TLS leaves from one)");
		return;
	}
	if (!listener)
		return;
	if (!t->certificate[0] || !t->private_key[0]) {
		ps->lineno =
			cfg_line_of(ps, "tls", t->certificate[0] ? "certificate" : "private_key");
		if (!ps->lineno)
			ps->lineno = cfg_line_of(ps, "sip", "listen");
		cfg_err(ps, "a tls: or wss: listener needs [tls] certificate and private_key");
		return;
	}
	if (t->verify_client != TLS_VERIFY_NO && !t->ca_file[0]) {
		ps->lineno = cfg_line_of(ps, "tls", "verify_client");
		cfg_err(ps, "[tls] verify_client needs [tls] ca_file (the CAs whose client "
			    "certificates are accepted)");
		return;
	}
	if (t->ntrusted_peers && t->verify_client == TLS_VERIFY_NO) {
		ps->lineno = cfg_line_of(ps, "tls", "trusted_peers");
		cfg_err(ps, "[tls] trusted_peers needs verify_client = optional or require "
			    "(a name is trusted only from a certificate that verified)");
		return;
	}
	if (tls_check(t, true, err, sizeof(err)) < 0) {
		/* the key the reason begins with ("private_key /x does not
		 * match...") is the line to change */
		static const char *const keys[] = {"private_key", "ca_file", "ciphersuites",
						   "ciphers", "min_version"};
		const char *k = "certificate";

		for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
			if (strncmp(err, keys[i], strlen(keys[i])) == 0) {
				k = keys[i];
				break;
			}
		ps->lineno = cfg_line_of(ps, "tls", k);
		if (!ps->lineno)
			ps->lineno = cfg_line_of(ps, "sip", "listen");
		cfg_err(ps, "[tls] %s", err);
	}
}

static void cfg_check_together(struct cfg_parse *ps)
{
	const struct config *c = ps->cfg;

	cfg_check_tls(ps);

	if (c->registrar.min_expires > c->registrar.default_expires ||
	    c->registrar.default_expires > c->registrar.max_expires) {
		ps->lineno = cfg_line_of(ps, "registrar", "default_expires");
		cfg_err(ps,
			"[registrar] needs min_expires <= default_expires <= max_expires "
			"(%u, %u, %u)",
			c->registrar.min_expires, c->registrar.default_expires,
			c->registrar.max_expires);
	}
	if (c->transaction.t1 > c->transaction.t2) {
		ps->lineno = cfg_line_of(ps, "transaction", "t2");
		cfg_err(ps, "[transaction] needs t1 <= t2 (%u, %u)", c->transaction.t1,
			c->transaction.t2);
	}
	if (c->auth.invite && c->auth.mode == AUTH_MODE_LOCAL && !c->database.conninfo[0]) {
		ps->lineno = cfg_line_of(ps, "auth", "invite");
		cfg_err(ps, "[auth] invite = yes needs a [database] (the subscribers live there)");
	}
	if (c->auth.mode == AUTH_MODE_DELEGATE &&
	    (!c->routing.session_controllers || c->sip.mode != PROXY_MODE_STATEFUL ||
	     !c->database.conninfo[0])) {
		ps->lineno = cfg_line_of(ps, "auth", "mode");
		cfg_err(ps, "[auth] mode = delegate needs [routing] session_controllers = yes, "
			    "[sip] mode = stateful and a [database] (REGISTERs go to the pool, the "
			    "bindings are stored)");
	}
	if (c->auth.mode == AUTH_MODE_HTTP && !c->auth.http_url[0]) {
		ps->lineno = cfg_line_of(ps, "auth", "mode");
		cfg_err(ps, "[auth] mode = http needs [auth] http_url");
	}
	if (c->auth.mode == AUTH_MODE_HTTP && !c->auth.secret[0]) {
		ps->lineno = cfg_line_of(ps, "auth", "mode");
		cfg_err(ps,
			"[auth] mode = http needs [auth] secret (at least %u characters, the "
			"same on every node: the nonces are Junction's own)",
			CFG_SECRET_MIN);
	}
	if (c->notify.mode != NOTIFY_MODE_OFF && !c->database.conninfo[0]) {
		ps->lineno = cfg_line_of(ps, "notify", "mode");
		cfg_err(ps, "[notify] mode needs a [database] (the events' outbox lives there)");
	}
	if (c->cdr.enabled && !c->database.conninfo[0]) {
		ps->lineno = cfg_line_of(ps, "cdr", "enabled");
		cfg_err(ps, "[cdr] enabled = yes needs a [database] (the call records are written "
			    "there)");
	}
	if (c->notify.mode != NOTIFY_MODE_OFF && strcmp(c->notify.target, "pool") == 0 &&
	    !c->routing.session_controllers) {
		ps->lineno = cfg_line_of(ps, "notify", "target");
		cfg_err(ps, "[notify] target = pool needs [routing] session_controllers = yes "
			    "(or give a sip: URI)");
	}
	if (c->notify.subscribe &&
	    (!c->database.conninfo[0] || c->sip.mode != PROXY_MODE_STATEFUL)) {
		ps->lineno = cfg_line_of(ps, "notify", "subscribe");
		cfg_err(ps, "[notify] subscribe = yes needs a [database] and [sip] mode = stateful "
			    "(subscriptions are stored, NOTIFYs are transactions)");
	}
	if (c->notify.mode != NOTIFY_MODE_OFF && c->sip.mode != PROXY_MODE_STATEFUL) {
		ps->lineno = cfg_line_of(ps, "notify", "mode");
		cfg_err(ps, "[notify] mode needs [sip] mode = stateful (events are sent as "
			    "transactions)");
	}
	if (c->database.conninfo[0] && c->auth.mode == AUTH_MODE_LOCAL && !c->auth.secret[0]) {
		ps->lineno = cfg_line_of(ps, "auth", "mode");
		cfg_err(ps,
			"[auth] mode = local needs [auth] secret (at least %u characters, "
			"the same on every node)",
			CFG_SECRET_MIN);
	}
	/* Translation runs in the stateful proxy's response context: said
	 * explicitly for another mode, it would be accepted and do nothing. */
	if (cfg_line_of(ps, "routing", "translate") && c->sip.mode != PROXY_MODE_STATEFUL &&
	    c->routing.translate != 0) {
		ps->lineno = cfg_line_of(ps, "routing", "translate");
		cfg_err(ps,
			"[routing] translate needs [sip] mode = stateful (or translate = none)");
	}
	if (c->routing.session_controllers && !c->database.conninfo[0]) {
		ps->lineno = cfg_line_of(ps, "routing", "session_controllers");
		cfg_err(ps, "[routing] session_controllers = yes needs a [database] (the pools "
			    "live there)");
	}
	if (c->routing.session_controllers && c->sip.mode != PROXY_MODE_STATEFUL) {
		ps->lineno = cfg_line_of(ps, "routing", "session_controllers");
		cfg_err(ps, "[routing] session_controllers = yes needs [sip] mode = stateful (the "
			    "probes are transactions)");
	}
	for (unsigned i = 0; i < c->cluster.ngeo_fallback; i++) {
		if (strcmp(c->cluster.geo_fallback[i], c->cluster.geo_location) == 0) {
			ps->lineno = cfg_line_of(ps, "cluster", "geo_fallback");
			cfg_err(ps,
				"[cluster] geo_fallback lists this node's own geo_location '%s'",
				c->cluster.geo_location);
		}
	}
	cfg_check_admin(ps);
}

/* ---- the file --------------------------------------------------------- */

static const struct cfg_key *cfg_find_key(const char *section, const char *name)
{
	for (size_t i = 0; i < CFG_NKEYS; i++) {
		if (strcmp(cfg_keys[i].section, section) == 0 &&
		    strcmp(cfg_keys[i].name, name) == 0)
			return &cfg_keys[i];
	}
	return NULL;
}

static bool cfg_known_section(const char *section)
{
	for (size_t i = 0; i < CFG_NKEYS; i++) {
		if (strcmp(cfg_keys[i].section, section) == 0)
			return true;
	}
	return false;
}

/* inih's rule for where a name, a ']' or a value ends: at one of chars,
 * or at an inline comment, a ';' after a blank (INI_INLINE_COMMENT_PREFIXES
 * of the distribution builds). */
static char *cfg_find_chars_or_comment(char *s, const char *chars)
{
	bool was_space = false;

	while (*s && !strchr(chars, *s) && !(was_space && *s == ';')) {
		was_space = isspace((unsigned char)*s);
		s++;
	}
	return s;
}

static char *cfg_blank_line(char *str)
{
	strcpy(str, "\n");
	return str;
}

/* Checks the shape of one line, str without its "\n", as inih will read
 * it, and follows the section. Returns false when the line is reported and
 * must not reach inih. */
static bool cfg_check_line(struct cfg_parse *ps, char *str)
{
	char *end, *rest;

	if (*str == '\0' || *str == ';' || *str == '#')
		return true;
	if (*str == '[') {
		end = cfg_find_chars_or_comment(str + 1, "]");
		if (*end != ']') {
			cfg_err(ps, "no ']' at the end of the section name");
			ps->sect = CFG_SECT_BAD;
			return false;
		}
		rest = end + 1 + strspn(end + 1, " \t");
		/* Reported, but the section is still entered (inih ignores the
		 * rest), so the keys below are checked against it. */
		if (*rest != '\0' && *rest != ';' && *rest != '#')
			cfg_err(ps, "unexpected text after ']'");
		*end = '\0';
		if (cfg_known_section(str + 1)) {
			ps->sect = CFG_SECT_OK;
		} else {
			cfg_err(ps, "unknown section [%s]", str + 1);
			ps->sect = CFG_SECT_BAD;
		}
		*end = ']';
		return true;
	}
	end = cfg_find_chars_or_comment(str, "=:");
	if (*end != '=' && *end != ':') {
		cfg_err(ps, "expected 'key = value', '[section]' or a comment");
		return false;
	}
	if (end == str) {
		cfg_err(ps, "no key name before '%c'", *end);
		return false;
	}
	return true;
}

static int cfg_getc(struct cfg_parse *ps)
{
	if (ps->f)
		return getc(ps->f);
	if (*ps->text == '\0')
		return EOF;
	return (unsigned char)*ps->text++;
}

/*
 * inih's reader: one physical line per call, so inih's line count and ours
 * agree. A line too long for inih's buffer (num) is reported here instead
 * of being split in two, and a bad line reaches inih as an empty one.
 */
static char *cfg_reader(char *str, int num, void *stream)
{
	struct cfg_parse *ps = stream;
	size_t cap = (size_t)num - 2; /* room for "\n" and the NUL */
	size_t len = 0, skip = 0;
	bool too_long = false, nul = false;
	int c = cfg_getc(ps);

	if (c == EOF) {
		if (ps->f && ferror(ps->f))
			ps->read_errno = errno ? errno : EIO;
		return NULL;
	}
	ps->lineno++;
	for (; c != EOF && c != '\n'; c = cfg_getc(ps)) {
		if (c == '\0')
			nul = true;
		if (len < cap)
			str[len++] = (char)c;
		else if (c != '\r')
			too_long = true;
	}
	if (c == EOF && ps->f && ferror(ps->f)) {
		ps->read_errno = errno ? errno : EIO;
		return NULL;
	}
	if (too_long) {
		cfg_err(ps,
			"the line is longer than %zu characters "
			"(repeat a list key to split a long list)",
			cap);
		return cfg_blank_line(str);
	}
	if (nul) {
		cfg_err(ps, "the line contains a NUL byte");
		return cfg_blank_line(str);
	}
	if (len && str[len - 1] == '\r')
		len--;
	str[len] = '\0';
	if (ps->lineno == 1 && len >= 3 && memcmp(str, "\xEF\xBB\xBF", 3) == 0)
		skip = 3; /* UTF-8 byte order mark */
	skip += strspn(str + skip, " \t\f\v\r");
	memmove(str, str + skip, len - skip + 1);
	if (!cfg_check_line(ps, str))
		return cfg_blank_line(str);
	strcat(str, "\n");
	return str;
}

static int cfg_handler(void *user, const char *section, const char *name, const char *value)
{
	struct cfg_parse *ps = user;
	const struct cfg_key *k;
	size_t i;

	if (ps->sect == CFG_SECT_BAD)
		return 1; /* the section header was reported */
	if (ps->sect == CFG_SECT_NONE) {
		for (i = 0; i < CFG_NKEYS && strcmp(cfg_keys[i].name, name) != 0; i++)
			;
		if (i < CFG_NKEYS)
			cfg_err(ps, "'%s' is outside any section (it belongs in [%s])", name,
				cfg_keys[i].section);
		else
			cfg_err(ps, "'%s' is outside any section", name);
		return 1;
	}
	k = cfg_find_key(section, name);
	if (!k) {
		cfg_err(ps, "unknown key '%s' in [%s]", name, section);
		return 1;
	}
	i = (size_t)(k - cfg_keys);
	if (ps->first_line[i] && !k->list) {
		cfg_err(ps, "'%s' is set twice (first at line %u)", name, ps->first_line[i]);
		return 1;
	}
	if (*value == '\0') {
		cfg_err(ps, "'%s' has no value", name);
		return 1;
	}
	if (!ps->first_line[i]) {
		ps->first_line[i] = ps->lineno;
		/* The file's first occurrence replaces the default list. */
		if (k->list)
			*(unsigned *)cfg_field(ps, k->count_off) = 0;
	}
	k->set(ps, k, value);
	return 1;
}

static void cfg_parse_init(struct cfg_parse *ps, struct config *cfg, const char *name, FILE *errs)
{
	memset(ps, 0, sizeof(*ps));
	ps->cfg = cfg;
	ps->name = name;
	ps->errs = errs;
}

static int cfg_parse_run(struct cfg_parse *ps)
{
	int r = ini_parse_stream(cfg_reader, ps, cfg_handler, ps);

	if (ps->read_errno) {
		if (ps->errs)
			fprintf(ps->errs, "%s: cannot read: %s\n", ps->name,
				strerror(ps->read_errno));
		return -ps->read_errno;
	}
	if (r == -2)
		return -ENOMEM;
	/* cfg_reader lets through only lines inih accepts; should the two
	 * ever disagree, the file still fails, with inih's line number. */
	if (r > 0 && ps->nerr == 0) {
		ps->lineno = (unsigned)r;
		cfg_err(ps, "syntax error");
	}
	cfg_check_together(ps);
	return ps->nerr ? -EINVAL : 0;
}

static unsigned cfg_default_workers(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	if (n < 1)
		n = 1;
	return n > 128 ? 256 : (unsigned)(2 * n);
}

void config_defaults(struct config *cfg)
{
	struct cfg_parse ps;

	memset(cfg, 0, sizeof(*cfg));
	cfg_parse_init(&ps, cfg, "(built-in defaults)", stderr);
	for (size_t i = 0; i < CFG_NKEYS; i++) {
		if (cfg_keys[i].dflt)
			cfg_keys[i].set(&ps, &cfg_keys[i], cfg_keys[i].dflt);
	}
	cfg->sip.workers = cfg_default_workers();
	if (gethostname(cfg->node.name, sizeof(cfg->node.name) - 1) < 0 || !cfg->node.name[0])
		strcpy(cfg->node.name, "junction");
	assert(ps.nerr == 0);
}

int config_load(const char *path, struct config *cfg, FILE *errs)
{
	struct cfg_parse ps;
	FILE *f = NULL;
	int err;

	config_defaults(cfg);
	if (strlen(path) >= sizeof(cfg->path)) {
		err = -ENAMETOOLONG;
		if (errs)
			fprintf(errs, "%s: cannot open: %s\n", path, strerror(-err));
		goto out;
	}
	f = fopen(path, "re");
	if (!f) {
		err = -errno;
		if (errs)
			fprintf(errs, "%s: cannot open: %s\n", path, strerror(-err));
		goto out;
	}
	strcpy(cfg->path, path);
	cfg_parse_init(&ps, cfg, path, errs);
	ps.f = f;
	err = cfg_parse_run(&ps);
out:
	if (f)
		fclose(f);
	return err;
}

int config_load_string(const char *text, const char *name, struct config *cfg, FILE *errs)
{
	struct cfg_parse ps;

	config_defaults(cfg);
	snprintf(cfg->path, sizeof(cfg->path), "%s", name);
	cfg_parse_init(&ps, cfg, name, errs);
	ps.text = text;
	return cfg_parse_run(&ps);
}

bool config_admin_on(const struct config *cfg)
{
	return !cfg->admin.listen_off && (cfg->admin.token[0] || cfg->admin.token_file[0]);
}

bool config_probe_alive(const struct config *cfg, unsigned status)
{
	for (unsigned i = 0; i < cfg->cluster.nalive; i++)
		if (cfg->cluster.alive[i] == 0 || cfg->cluster.alive[i] == status ||
		    cfg->cluster.alive[i] == status / 100)
			return true;
	return false;
}

bool config_record_route(const struct config *cfg)
{
	return cfg->sip.record_route || cfg->cluster.record_route[0] ||
	       cfg->routing.session_controllers;
}

bool config_is_domain(const struct config *cfg, struct sip_str host)
{
	char buf[INET6_ADDRSTRLEN], canon[INET6_ADDRSTRLEN];
	unsigned char bin[sizeof(struct in6_addr)];

	if (host.len >= 2 && host.p[0] == '[' && host.p[host.len - 1] == ']') {
		host.p++;
		host.len -= 2;
	}
	if (host.len == 0)
		return false;
	/* IPv6 has many spellings of one address (::1, 0:0::1, ::0001);
	 * domains hold the inet_ntop(3) form, so compare in that form. */
	if (memchr(host.p, ':', host.len)) {
		if (host.len >= sizeof(buf))
			return false;
		memcpy(buf, host.p, host.len);
		buf[host.len] = '\0';
		if (inet_pton(AF_INET6, buf, bin) != 1 ||
		    !inet_ntop(AF_INET6, bin, canon, sizeof(canon)))
			return false;
		host = sip_str_cstr(canon);
	}
	for (unsigned i = 0; i < cfg->sip.ndomains; i++) {
		if (sip_str_caseeq_cstr(host, cfg->sip.domain[i]))
			return true;
	}
	return false;
}

bool config_tls_on(const struct config *cfg)
{
	for (unsigned i = 0; i < cfg->sip.nlisten; i++)
		if (sip_proto_is_secure(cfg->sip.listen[i].proto))
			return true;
	return false;
}

bool config_is_trusted(const struct config *cfg, const struct netaddr *a)
{
	for (unsigned i = 0; i < cfg->security.ntrusted; i++)
		if (netaddr_prefix_match(&cfg->security.trusted[i], a))
			return true;
	return false;
}
