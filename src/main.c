/*
 * main: command line, start-up order and shutdown.
 *
 * Start-up binds every socket before any thread exists, so a bad config
 * or a busy port fails the start with one clear message. Signals are
 * blocked in every thread and taken synchronously here with sigtimedwait(2):
 * SIGHUP reopens the log files, SIGTERM/SIGINT stop the listeners, let the
 * workers drain what was already queued, and exit 0 within a bounded time.
 * Between signals, the main thread gives the memory that bursts left free
 * back to the system (runtime/memtrim.h).
 *
 * The main loop ticks once a second, for what the node tells systemd
 * (runtime/service.h: ready, stopping, the watchdog).
 */
#include "autoconfig.h"

#include "admin/admin.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/sdnotify.h"
#include "config/config.h"
#include "net/dns.h"
#include "net/tls.h"
#include "net/transport.h"
#include "proxy/accesslog.h"
#include "proxy/affinity.h"
#include "proxy/callfwd.h"
#include "proxy/cdr.h"
#include "proxy/core.h"
#include "proxy/dialog_rate.h"
#include "proxy/dlgcache.h"
#include "proxy/scpool.h"
#include "proxy/self.h"
#include "proxy/statroute.h"
#include "registrar/auth.h"
#include "registrar/httpauth.h"
#include "registrar/location.h"
#include "registrar/registrar.h"
#include "registrar/subcache.h"
#include "runtime/counters.h"
#include "runtime/dispatch.h"
#include "runtime/memtrim.h"
#include "runtime/service.h"
#include "runtime/sip_reply.h"
#include "runtime/worker.h"
#include "security/ban.h"
#include "store/store.h"
#include "store/store_bg.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define DRAIN_TIMEOUT_MS 5000
#define DB_WAIT_MS       3000 /* at start, for the first database connections */
#define SUBCACHE_ENTRIES (256 * 1024)
#define LOCATION_ENTRIES (256 * 1024)

static void usage(FILE *f)
{
	fprintf(f, "usage: junction -c FILE            run in the foreground\n"
		   "       junction --check-config -c FILE\n"
		   "       junction --migrate -c FILE\n"
		   "       junction --version\n"
		   "options:\n"
		   "  -c, --config FILE    configuration file (default " SYSCONFDIR
		   "/junction/junction.conf)\n"
		   "      --check-config   validate the configuration and exit\n"
		   "      --migrate        apply pending database migrations and exit\n"
		   "  -V, --version        print the version and exit\n"
		   "  -h, --help           this text\n");
}

/*
 * The database must carry the schema this binary needs; an older one is
 * refused with the command that fixes it. An unreachable database is not
 * fatal: the workers connect when it comes up.
 */
static int check_schema(const struct config *cfg)
{
	unsigned have = 0, need = 0;
	char *msg = NULL;
	size_t len = 0;
	FILE *errs = open_memstream(&msg, &len);
	int rc = store_schema_version(cfg->database.conninfo, &have, &need, errs);

	if (errs)
		fclose(errs);
	if (rc == -ECONNREFUSED) {
		if (msg)
			msg[strcspn(msg, "\r\n\"")] = '\0';
		log_warn("event=db_unreachable at=start error=\"%s\"", msg ? msg : "");
		rc = 0;
	} else if (rc < 0) {
		log_error("event=start_failed error=\"cannot read the schema version\"");
	} else if (have < need) {
		log_error("event=start_failed error=\"the database schema is at version %u, this "
			  "junction needs %u: run junction --migrate -c %s\"",
			  have, need, cfg->path);
		rc = -EINVAL;
	} else if (have > need) {
		log_warn("event=schema_newer have=%u need=%u", have, need);
	}
	free(msg);
	return rc;
}

/* The certificate in use, and how long it has left (start, reload). */
static void log_tls_certificate(void)
{
	char subject[256] = "";
	int64_t not_after = 0;

	if (tls_cert_info(&not_after, subject, sizeof(subject)))
		log_info("event=tls_certificate subject=\"%s\" days_left=%lld", subject,
			 (long long)((not_after - (int64_t)time(NULL)) / 86400));
}

/* SIGHUP: the certificate and key read again (a renewal replaces the
 * files); connections that are up keep theirs. A file that does not
 * load leaves the old ones in service. */
static void reload_tls(void)
{
	char err[1024];

	if (tls_reload(err, sizeof(err)) < 0) {
		log_error("event=tls_reload_failed error=\"%s\" kept=old", err);
		return;
	}
	log_info("event=tls_reloaded");
	log_tls_certificate();
}

/* One line with the lifetime totals, so a run leaves its figures behind. */
static void log_counters(void)
{
	struct counters c;
	char line[1024];
	size_t n = 0;

	counters_snapshot(&c);
	for (unsigned i = 0; i < CTR__COUNT && n < sizeof(line); i++)
		n += (size_t)snprintf(line + n, sizeof(line) - n, " %s=%llu", ctr_name(i),
				      (unsigned long long)c.v[i]);
	log_info("event=counters%s", line);
}

/* The database thread's news for the registrar's caches (store_bg.h). */
static void binding_changed(const char *aor)
{
	location_invalidate(sip_str_cstr(aor));
}

static void subscriber_changed(const char *key)
{
	subcache_invalidate(sip_str_cstr(key));
}

static void caches_resync(void)
{
	subcache_clear();
	location_clear();
}

/* ... and the Session Controller pools' (scpool.h), when in use. */
static struct store_bg_hooks bg_hooks = {.binding_changed = binding_changed,
					 .subscriber_changed = subscriber_changed,
					 .resync = caches_resync};

static int run(const struct config *cfg)
{
	sigset_t sigs;
	int sig, rc;
	bool stop = false;

	registrar_set_flow_path(core_flow_path);
	rc = self_init(cfg);
	if (rc < 0)
		return 1;
	sip_reply_set_server(cfg->sip.server_header);
	if (cfg->database.conninfo[0] && check_schema(cfg) < 0)
		return 1;
	if (auth_init(cfg) < 0 || ban_init(cfg, cfg->node.name) < 0 ||
	    subcache_init(SUBCACHE_ENTRIES, (uint64_t)cfg->auth.cache_ttl * 1000) < 0 ||
	    location_init(LOCATION_ENTRIES, (uint64_t)cfg->registrar.location_cache_ttl * 1000) <
		    0) {
		log_error("event=start_failed error=\"out of memory\"");
		return 1;
	}
	/* Threads inherit this mask: only this thread takes signals. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (config_tls_on(cfg)) {
		char err[1024];

		if (tls_init(&cfg->tls, true, err, sizeof(err)) < 0) {
			log_error("event=start_failed error=\"[tls] %s\"", err);
			return 1;
		}
		log_tls_certificate();
	}
	rc = transport_open(cfg->sip.listen, cfg->sip.nlisten);
	if (rc < 0)
		return 1;
	rc = admin_open(cfg);
	if (rc < 0)
		return 1;
	if (scpool_init(cfg, cfg->sip.workers) < 0 ||
	    dns_cache_init(cfg->dns.cache_size, cfg->dns.negative_ttl) < 0 ||
	    dlgcache_init(cfg->sip.workers, cfg->sessions.cache_size) < 0) {
		log_error("event=start_failed error=\"out of memory\"");
		return 1;
	}
	dialog_rate_init(cfg->routing.overload_dialog_rate);
	/* The access log and the call records, before the workers, which
	 * write to them. */
	rc = accesslog_open(cfg);
	if (rc < 0) {
		log_error("event=start_failed error=\"access log %s: %s\"", cfg->log.access,
			  strerror(-rc));
		return 1;
	}
	rc = cdr_start(cfg);
	if (rc < 0) {
		log_error("event=start_failed error=\"call records: %s\"", strerror(-rc));
		return 1;
	}
	/* Before the workers, which post to it; its threads inherit the
	 * blocked signals. */
	if (cfg->auth.mode == AUTH_MODE_HTTP) {
		rc = httpauth_start(cfg);
		if (rc < 0) {
			log_error("event=start_failed error=\"auth http: %s\"", strerror(-rc));
			return 1;
		}
	}
	rc = workers_start(cfg, cfg->sip.workers, &core_app);
	if (rc < 0) {
		log_error("event=start_failed error=\"workers: %s\"", strerror(-rc));
		return 1;
	}
	dispatch_setup(cfg, workers_queues(), workers_count());
	if (cfg->database.conninfo[0]) {
		if (scpool_on()) {
			bg_hooks.sip_servers = scpool_load;
			bg_hooks.sip_server_seen = scpool_seen;
			if (affinity_on(cfg)) {
				bg_hooks.session_counts = scpool_set_sessions;
				store_bg_set_session_keep(cfg->sessions.keep_ended);
			}
		}
		if (cfg->security.share_bans) {
			bg_hooks.bans_out = ban_store_out;
			bg_hooks.bans_in = ban_store_in;
		}
		/* Static routes and call forwards: every node holds both. */
		bg_hooks.routes = statroute_replace;
		bg_hooks.forwards = callfwd_replace;
		/* This node's row of the node table: the [sip] listen value as
		 * read, and the admin API's address when it runs. */
		{
			char listen[CFG_MAX_LISTEN * sizeof(cfg->sip.listen[0].text)] = "";
			const char *admin = config_admin_on(cfg) ? cfg->admin.listen_text : NULL;
			size_t n = 0;

			for (unsigned i = 0; i < cfg->sip.nlisten && n < sizeof(listen); i++)
				n += (size_t)snprintf(listen + n, sizeof(listen) - n, "%s%s",
						      i ? " " : "", cfg->sip.listen[i].text);
			store_bg_set_node_info(listen, admin);
		}
		rc = store_bg_start(cfg->database.conninfo, cfg->registrar.sweep_interval,
				    &bg_hooks, cfg->node.name, cfg->cluster.geo_location);
		if (rc < 0) {
			log_error("event=start_failed error=\"database thread: %s\"",
				  strerror(-rc));
			return 1;
		}
	} else {
		log_warn("event=no_database detail=\"no [database] conninfo: registrar and "
			 "location service are off\"");
	}
	/* Before the listeners, so /healthz answers while they start;
	 * /readyz waits for admin_set_serving(). */
	rc = admin_start();
	if (rc < 0)
		return 1;
	/* Requests that need the database get 503 until it is up: give the
	 * first connections a moment so that a fresh start does not refuse
	 * the first REGISTERs. A database that is down does not stop the start. */
	for (unsigned i = 0; i < DB_WAIT_MS / 10 && !workers_db_up(); i++)
		usleep(10000);
	if (!workers_db_up())
		log_warn("event=db_not_ready detail=\"starting without the database; requests that "
			 "need it get 503 until it is reachable\"");
	{
		struct tcp_settings ts = {.limits = cfg->sip.limits,
					  .max_connections = cfg->sip.tcp_max_connections,
					  .idle_timeout_s = cfg->sip.tcp_idle_timeout,
					  .max_per_source = cfg->sip.tcp_max_per_source,
					  .message_timeout_s = cfg->sip.tcp_message_timeout,
					  .max_queued = cfg->sip.tcp_max_queued,
					  .max_queued_total = cfg->sip.tcp_max_queued_total};
		struct dispatch_ctx *tcp_ctx = dispatch_ctx_new(); /* never freed: counters */

		rc = tcp_ctx ? transport_start(&ts, &dispatch_sink, tcp_ctx) : -ENOMEM;
	}
	if (rc < 0) {
		log_error("event=start_failed error=\"listeners: %s\"", strerror(-rc));
		return 1;
	}
	workers_read_udp(true);
	/* /readyz says ready once the node knows its Session Controllers:
	 * the table read and each server probed (answers arrive over the
	 * listeners just opened), or oos_force and a second have passed. */
	if (scpool_on()) {
		for (unsigned i = 0; i < (cfg->cluster.oos_force + 1) * 100 && !scpool_ready(); i++)
			usleep(10000);
		if (!scpool_ready())
			log_warn("event=sip_servers_not_ready detail=\"the Session Controllers are "
				 "not "
				 "all known yet; new sessions may get 503 until they are\"");
	}
	admin_set_serving(true);
	log_info("event=started version=%s workers=%u mode=%s", PACKAGE_VERSION, cfg->sip.workers,
		 cfg->sip.mode == PROXY_MODE_STATEFUL   ? "stateful"
		 : cfg->sip.mode == PROXY_MODE_REDIRECT ? "redirect"
							: "stateless");

	service_start(cfg->database.conninfo[0] != '\0');
	while (!stop) {
		/* A tick a second at most: the watchdog's quarter interval is
		 * at least that for any sensible WatchdogSec. */
		struct timespec tick = {.tv_sec = 1};

		sig = sigtimedwait(&sigs, NULL, &tick);
		service_tick();
		if (sig < 0) {
			if (errno == EAGAIN)
				memtrim_tick();
			continue;
		}
		switch (sig) {
		case SIGHUP:
			log_reopen();
			log_info("event=log_reopened");
			accesslog_reopen();
			if (config_tls_on(cfg))
				reload_tls();
			break;
		default:
			log_info("event=stopping signal=%s", sig == SIGTERM ? "TERM" : "INT");
			service_stopping();
			stop = true;
			break;
		}
	}
	/* The admin server reads the workers' queues: it goes first. */
	admin_stop();
	workers_read_udp(false);
	transport_stop();
	/* While the workers still run: what was asked is answered, and they
	 * take the answers. */
	if (cfg->auth.mode == AUTH_MODE_HTTP)
		httpauth_stop();
	rc = workers_stop(DRAIN_TIMEOUT_MS);
	if (cfg->auth.mode == AUTH_MODE_HTTP && rc == 0)
		httpauth_destroy();
	/* After the workers: their last records and lines are written. */
	cdr_stop();
	accesslog_close();
	store_bg_stop();
	dlgcache_fini();
	scpool_fini();
	if (rc == 0) {
		/* what the workers read, once none is left (a stuck one may) */
		statroute_free();
		callfwd_free();
		dns_cache_free();
	}
	transport_close();
	tls_free();
	auth_destroy();
	ban_fini();
	subcache_destroy();
	location_destroy();
	log_counters();
	log_info("event=stopped clean=%s", rc == 0 ? "yes" : "no");
	return rc == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'}, {"check-config", no_argument, NULL, 'C'},
		{"migrate", no_argument, NULL, 'M'},      {"version", no_argument, NULL, 'V'},
		{"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
	};
	const char *path = SYSCONFDIR "/junction/junction.conf";
	bool check = false, migrate = false;
	struct config *cfg;
	int c, rc;

	while ((c = getopt_long(argc, argv, "c:Vh", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			path = optarg;
			break;
		case 'C':
			check = true;
			break;
		case 'M':
			migrate = true;
			break;
		case 'V':
			printf("junction %s\n", PACKAGE_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "junction: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	/* Before any thread: it edits the environment. */
	sdnotify_init();
	cfg = malloc(sizeof(*cfg));
	if (!cfg)
		return 1;
	rc = config_load(path, cfg, stderr);
	if (rc == 0 && cfg->database.conninfo[0]) {
		char why[256];

		if (store_conninfo_check(cfg->database.conninfo, why, sizeof(why)) < 0) {
			fprintf(stderr, "%s: [database] conninfo: %s\n", path, why);
			rc = -EINVAL;
		}
	}
	if (check) {
		if (rc == 0)
			printf("%s: OK\n", path);
		free(cfg);
		return rc == 0 ? 0 : 1;
	}
	if (rc < 0) {
		free(cfg);
		return 1;
	}
	if (migrate) {
		if (!cfg->database.conninfo[0]) {
			fprintf(stderr, "%s: no [database] conninfo to migrate\n", path);
			rc = -EINVAL;
		} else {
			rc = store_migrate(cfg->database.conninfo, stdout, stderr);
		}
		free(cfg);
		return rc == 0 ? 0 : 1;
	}
	if (log_open(cfg->log.level, cfg->log.target) < 0) {
		fprintf(stderr, "junction: cannot open log target %s\n", cfg->log.target);
		free(cfg);
		return 1;
	}
	rc = run(cfg);
	log_close();
	free(cfg);
	return rc;
}
