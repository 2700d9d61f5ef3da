/*
 * config: the INI configuration file (libinih), validated whole at start.
 *
 * Every key is one row of a table (section, name, parser, where it goes),
 * so adding an option is adding a row. An unknown section or key, a bad
 * value or a missing required key is an error reported as "FILE:LINE:
 * message"; nothing is silently ignored. The loaded struct config is
 * immutable afterwards and shared read-only by all threads.
 */
#ifndef JCT_CONFIG_H
#define JCT_CONFIG_H

#include "base/log.h"
#include "net/netaddr.h"
#include "net/tls.h"
#include "net/transport.h"
#include "sip/sip_msg.h"

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>

#define CFG_MAX_LISTEN  TRANSPORT_MAX_LISTEN
#define CFG_MAX_DOMAINS 32
#define CFG_NAME_MAX    256

enum proxy_mode { PROXY_MODE_STATELESS = 0, PROXY_MODE_STATEFUL, PROXY_MODE_REDIRECT };
/* Who decides a REGISTER's credentials ([auth] mode): Junction from the
 * subscriber table, nobody, the Session Controller it is forwarded to
 * (proxy/delegate.c), or an HTTP service (registrar/httpauth.c). */
enum auth_mode { AUTH_MODE_LOCAL = 0, AUTH_MODE_NONE, AUTH_MODE_DELEGATE, AUTH_MODE_HTTP };
/* Registration events to the back end ([notify] mode, registrar/regevent.c). */
enum notify_mode { NOTIFY_MODE_OFF = 0, NOTIFY_MODE_REGISTER, NOTIFY_MODE_REGINFO };
/* What a banned source gets ([security] ban_action). */
enum ban_action { BAN_ACTION_DROP = 0, BAN_ACTION_REPLY };
/* Digest algorithms a challenge may offer (values of digest.h's enum). */
#define CFG_MAX_ALGORITHMS 2

#define CFG_CONNINFO_MAX 512
#define CFG_URL_MAX      512
#define CFG_SECRET_MAX   256
#define CFG_SECRET_MIN   16
/* Admin API bearer tokens: RFC 6750 b64token characters. */
#define CFG_TOKEN_MAX 256
#define CFG_TOKEN_MIN 16
/* Data-centre names (sip_server.geo_location) and how many fallbacks. */
#define CFG_GEO_MAX   64
#define CFG_MAX_GEO   16
#define CFG_MAX_ALIVE 32
/* [security] trusted blocks and scanner User-Agent substrings. */
#define CFG_MAX_TRUSTED  64
#define CFG_MAX_SCANNERS 32
#define CFG_SCANNER_MAX  64

/* [sessions] relate: what relates a new dialog to an open session
 * (affinity.h), one bit each. */
enum cfg_relate {
	CFG_RELATE_REPLACES = 1u << 0,      /* Replaces (RFC 3891) */
	CFG_RELATE_JOIN = 1u << 1,          /* Join (RFC 3911) */
	CFG_RELATE_TARGET_DIALOG = 1u << 2, /* Target-Dialog (RFC 4538) */
	CFG_RELATE_REFERRED_BY = 1u << 3,   /* Referred-By (RFC 3892) */
	CFG_RELATE_DEVICE = 1u << 4,        /* a device with a dialog up */
	CFG_RELATE_CONTROLLER = 1u << 5,    /* a Session Controller's session for the callee */
};

/* [routing] translate: the steps that may replace a Request-URI, in the
 * fixed order of the design (proxy/translate.c), one bit each. */
enum cfg_translate {
	CFG_TRANSLATE_FORWARD = 1u << 0,  /* call forward unconditional */
	CFG_TRANSLATE_REGISTRY = 1u << 1, /* the location service */
	CFG_TRANSLATE_ENUM = 1u << 2,     /* ENUM, RFC 6116 */
	CFG_TRANSLATE_ROUTES = 1u << 3,   /* static routes */
};

/* [dns] servers, [log] access_format. */
#define CFG_MAX_DNS_SERVERS 8
enum access_format { ACCESS_FORMAT_LOGFMT = 0, ACCESS_FORMAT_JSON };

struct config {
	char path[PATH_MAX];

	struct {
		struct transport_listen listen[CFG_MAX_LISTEN];
		unsigned nlisten;
		/* Domains this proxy is responsible for (lowercase). */
		char domain[CFG_MAX_DOMAINS][CFG_NAME_MAX];
		unsigned ndomains;
		/* Host (and optional :port) put in Via and Record-Route instead of
		 * the listen address, e.g. when listening on 0.0.0.0. Empty: none. */
		char advertise[CFG_NAME_MAX];
		unsigned workers;     /* default: 2 x online CPUs */
		unsigned queue_depth; /* per worker */
		struct sip_limits limits;
		enum proxy_mode mode;
		bool record_route;
		unsigned tcp_idle_timeout; /* seconds */
		unsigned tcp_max_connections;
		/* A request larger than this for a UDP target whose URI names no
		 * transport goes over TCP, or over UDP if TCP is refused (RFC 3261
		 * §18.1.1); 0: always UDP. */
		unsigned udp_mtu;
		/* Server header of our own responses; empty: none, so that
		 * scanners learn nothing about the software. */
		char server_header[CFG_NAME_MAX];
		unsigned tcp_max_per_source;   /* connections from one address */
		unsigned tcp_message_timeout;  /* seconds from a message's first byte to its last */
		unsigned tcp_max_queued;       /* bytes of output queued per connection */
		unsigned tcp_max_queued_total; /* bytes queued over all connections */
	} sip;

	/* TLS for tls: and wss: listeners and outgoing TLS (net/tls.h). */
	struct tls_settings tls;

	struct {
		enum log_level level;
		char target[PATH_MAX]; /* "stderr", "syslog" or an absolute path */
		/* One line per transaction (proxy/accesslog.c): "off", "syslog"
		 * or an absolute path, reopened on SIGHUP. */
		char access[PATH_MAX];
		enum access_format access_format;
	} log;
	struct {
		/* Name servers ([dns] servers); none: the system's (resolv.conf). */
		struct netaddr servers[CFG_MAX_DNS_SERVERS];
		unsigned nservers;
		unsigned timeout;      /* ms a try waits for an answer */
		unsigned tries;        /* tries per server */
		unsigned cache_size;   /* answers the node keeps, all workers */
		unsigned negative_ttl; /* seconds a "no such name" is kept at most */
	} dns;
	struct {
		bool enabled;            /* call records written to the cdr table */
		unsigned flush_interval; /* ms between batches */
		unsigned queue_size;     /* records waiting at most; beyond, dropped and counted */
	} cdr;

	struct {
		/* libpq connection string; empty: no database, registrar off */
		char conninfo[CFG_CONNINFO_MAX];
		unsigned retry_after; /* Retry-After of the 503 sent while it is down */
		unsigned connections_per_worker;
	} database;

	struct {
		unsigned min_expires;        /* shorter is 423 (RFC 3261 §10.3 step 7) */
		unsigned max_expires;        /* longer is clamped */
		unsigned default_expires;    /* when the REGISTER gives none */
		unsigned max_contacts;       /* per AOR */
		unsigned sweep_interval;     /* seconds between expired-binding sweeps */
		unsigned location_cache_ttl; /* seconds; 0: no location cache */
	} registrar;

	struct {
		enum auth_mode mode;
		char secret[CFG_SECRET_MAX]; /* nonce HMAC key, the same on every node */
		bool invite;                 /* challenge out-of-dialog requests (407) */
		bool aor_owner;              /* the authenticated user must own the AOR */
		unsigned nonce_lifetime;     /* seconds before a nonce is stale */
		unsigned cache_ttl;          /* seconds a subscriber stays cached */
		/* Challenges in order of preference: 0 = MD5, 1 = SHA-256. */
		unsigned algorithms[CFG_MAX_ALGORITHMS];
		unsigned nalgorithms;
		/* mode = http: where the credentials are checked (http:// or
		 * https://), how long an answer may take (ms), how many
		 * connections (and threads) ask at once. */
		char http_url[CFG_URL_MAX];
		unsigned http_timeout;
		unsigned http_connections;
	} auth;

	struct {
		enum notify_mode mode;
		/* "pool": the AOR's Session Controller (as for delegated
		 * REGISTERs); else a SIP URI. */
		char target[CFG_URL_MAX];
		bool refresh;       /* events for refreshes too */
		unsigned interval;  /* ms between looks at the outbox */
		unsigned retry_max; /* seconds: the longest backoff */
		unsigned give_up;   /* seconds an undelivered event is retried */
		bool subscribe;     /* SUBSCRIBE Event: reg from trusted sources (RFC 3680 §3) */
		unsigned max_subscribe; /* seconds: the longest subscription granted */
	} notify;

	struct {
		char name[CFG_NAME_MAX]; /* written into binding.node; default: hostname */
	} node;

	struct {
		/* The REST API and /metrics (admin.c). It runs when listen is
		 * not "off" and a token (or token file) is configured. */
		bool listen_off;       /* listen = off */
		struct netaddr listen; /* default 127.0.0.1:8080 */
		char listen_text[NETADDR_STRLEN];
		char token[CFG_TOKEN_MAX]; /* empty: none given */
		char token_file[PATH_MAX]; /* read at start; empty: none */
		char tls_cert[PATH_MAX];   /* PEM; both or neither: HTTPS */
		char tls_key[PATH_MAX];
		unsigned max_body; /* bytes of a request body; 413 beyond */
		unsigned max_connections;
		unsigned request_timeout; /* seconds: idle connection, SQL statement */
		unsigned threads;         /* MHD thread pool = database connections */
	} admin;

	struct {
		/* This node's data centre; its Session Controllers come first. */
		char geo_location[CFG_GEO_MAX];
		/* The other data centres in order of preference, when none of
		 * ours is in service (any not listed comes after, by name). */
		char geo_fallback[CFG_MAX_GEO][CFG_GEO_MAX];
		unsigned ngeo_fallback;
		unsigned oos_check; /* seconds between probes; 0: no probing */
		unsigned oos_force; /* seconds: probe answer deadline, alternate probes */
		/* host[:port] every node puts in Record-Route and takes as itself;
		 * empty: each node's own address. */
		char record_route[CFG_NAME_MAX];
		/* Probe answers that mean alive: a status (100-699), a class
		 * (1-6 for "1xx".."6xx"), or 0 alone: any answer not made here. */
		uint16_t alive[CFG_MAX_ALIVE];
		unsigned nalive;
	} cluster;

	struct {
		/* Out-of-dialog requests from endpoints go to Session Controllers,
		 * requests from them are routed by Request-URI. */
		bool session_controllers;
		unsigned overload_dialog_rate;  /* new dialogs per second; 0: off */
		unsigned translate;             /* enum cfg_translate bits */
		unsigned ntranslate;            /* names listed (the list mechanism's count) */
		unsigned max_translations;      /* Request-URI replacements per request */
		char enum_suffix[CFG_NAME_MAX]; /* ENUM's domain (RFC 6116 §2.4) */
		/* E.164 normalisation (proxy/e164.c): the country code a national
		 * number is in, and the prefixes that mark national and
		 * international numbers dialled without '+'. */
		char country_code[8];
		char national_prefix[8];
		char international_prefix[8];
	} routing;

	struct {
		bool affinity;           /* sessions stored, dialogs routed by them */
		unsigned relate;         /* enum cfg_relate bits */
		unsigned nrelate;        /* names listed (the list mechanism's count) */
		unsigned dialog_timeout; /* seconds an answered dialog lives without a request */
		unsigned early_timeout;  /* seconds an unanswered one does */
		unsigned keep_ended;     /* seconds ended sessions stay in the table */
		unsigned cache_size;     /* dialogs the node caches, all workers */
		bool synchronous_commit; /* session writes wait for the WAL flush */
	} sessions;

	struct {
		/* Relay to other domains for anyone (the old behaviour). */
		bool open_relay;
		/* Sources that may relay without authentication and are never
		 * rate limited or banned (besides the Session Controllers). */
		struct netaddr_prefix trusted[CFG_MAX_TRUSTED];
		unsigned ntrusted;
		unsigned rate_limit;         /* requests per second per source; 0: off */
		unsigned ban_time;           /* seconds a ban lasts */
		unsigned auth_failures;      /* per source within auth_window; 0: off */
		unsigned auth_failures_user; /* per user within auth_window; 0: off */
		unsigned auth_window;        /* seconds */
		enum ban_action ban_action;
		bool drop_scanners; /* drop requests whose User-Agent names a scanner */
		char scanners[CFG_MAX_SCANNERS][CFG_SCANNER_MAX]; /* lowercase substrings */
		unsigned nscanners;
		bool share_bans; /* bans go through PostgreSQL to every node */
	} security;
	struct {
		unsigned t1, t2, t4;       /* RFC 3261 §17 timer bases, milliseconds */
		unsigned timer_c;          /* §16.6 step 11, milliseconds */
		unsigned max_transactions; /* per worker; 503 beyond */
	} transaction;
};

/* Fills cfg with the defaults of every key. */
void config_defaults(struct config *cfg);

/*
 * Reads and validates the file at path into cfg (defaults first). Every
 * problem is written to errs (may be NULL) as "PATH:LINE: message", one
 * per line. Returns 0, -ENOENT/-EACCES when the file cannot be read, or
 * -EINVAL when it has errors.
 */
int config_load(const char *path, struct config *cfg, FILE *errs);

/* The same for an in-memory text; name stands for the path in messages. */
int config_load_string(const char *text, const char *name, struct config *cfg, FILE *errs);

/* Is the admin server to run (listen not off, a token or token file)? */
bool config_admin_on(const struct config *cfg);

/* Is p[0..len) a name of the Session Controller pools (a server, data
 * centre or HA pair: ^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$, as sip_server's
 * CHECKs say)? */
bool config_pool_name_ok(const char *p, size_t len);

/* Does a probe answer of status mean the server is alive ([cluster]
 * alive_codes)? A status we made ourselves (408, 503) never does. */
bool config_probe_alive(const struct config *cfg, unsigned status);

/* Do requests we relay carry our Record-Route ([sip] record_route, or
 * implied by [cluster] record_route or Session Controllers)? */
bool config_record_route(const struct config *cfg);

/* Is host (case-insensitive) one of the served domains? */
bool config_is_domain(const struct config *cfg, struct sip_str host);
/* Does a listener need TLS (tls:, wss:)? */
bool config_tls_on(const struct config *cfg);
/* Is a inside one of the [security] trusted blocks? */
bool config_is_trusted(const struct config *cfg, const struct netaddr *a);

#endif
