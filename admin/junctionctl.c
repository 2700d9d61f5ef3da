/*
 * junctionctl: the command line over Junction's REST API (junctionctl(1)).
 *
 * Every command is one or a few HTTP requests (libcurl) whose JSON answer
 * (jansson) is printed as a table, or as JSON with --json. Where to go and
 * with which token comes from, in this order: the flags --url/--token,
 * the environment (JUNCTION_URL, JUNCTION_TOKEN), a config file (--config
 * FILE, else ~/.config/junctionctl.conf, else
 * SYSCONFDIR/junction/junctionctl.conf; INI read with inih: url=, token=,
 * cacert=), and for the URL the default http://127.0.0.1:8080.
 *
 * Exit status: 0 done; 1 the API refused or failed (its message is
 * printed); 2 bad command line or config file; 3 Junction cannot be
 * reached; 4 the token was refused (401).
 */
#include "autoconfig.h"

#include <curl/curl.h>
#include <errno.h>
#include <getopt.h>
#include <ini.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif

#define EXIT_API     1
#define EXIT_USAGE   2
#define EXIT_UNREACH 3
#define EXIT_TOKEN   4

#define DEFAULT_URL  "http://127.0.0.1:8080"
#define RESPONSE_MAX (64u * 1024 * 1024)
#define PAGE_MAX     1000
#define FIELD_MAX    1024

struct opts {
	const char *url, *token, *cacert, *config;
	const char *url_from, *token_from; /* where they came from, for messages */
	bool json;
	long timeout;
	/* command options */
	const char *password, *domain, *username, *aor, *node;
	bool password_stdin, disabled, enabled_only, disabled_only;
	long limit; /* 0: all */
	const char *uri, *geo_location, *ha_pair, *role;
	bool no_ha_pair;
	long weight; /* -1: not given */
	/* session list; the ages are checked to be digits */
	const char *sip_server, *min_age, *max_age;
	bool all;
	/* notifications */
	const char *state;
	/* routes and forwards */
	const char *kind, *match, *description;
	long priority; /* -1: not given */
	/* cdrs */
	const char *from, *to, *call_id;
	bool calls;
};

static struct opts o = {.timeout = 10, .weight = -1, .priority = -1};
static char cfg_url[FIELD_MAX], cfg_token[FIELD_MAX], cfg_cacert[FIELD_MAX];
static char cfg_path[4096];

static void die(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));

static void die(int code, const char *fmt, ...)
{
	va_list ap;

	fputs("junctionctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(code);
}

static void usage(FILE *f)
{
	fputs("usage: junctionctl [OPTIONS] COMMAND [ARGS]\n"
	      "commands:\n"
	      "  status                                  the node's state\n"
	      "  subscriber add USER@DOMAIN [--password PW | --password-stdin] [--disabled]\n"
	      "  subscriber list [--domain D] [--username PREFIX] [--enabled | --disabled]\n"
	      "                  [--limit N]\n"
	      "  subscriber show USER@DOMAIN\n"
	      "  subscriber passwd USER@DOMAIN [--password PW | --password-stdin]\n"
	      "  subscriber disable|enable USER@DOMAIN\n"
	      "  subscriber rm USER@DOMAIN              (its bindings go too)\n"
	      "  binding list [--aor AOR] [--domain D] [--node NODE] [--limit N]\n"
	      "  binding rm ID | binding rm --aor AOR\n"
	      "  sip-server list [--geo-location DC] [--ha-pair P]\n"
	      "  sip-server show NAME\n"
	      "  sip-server status [NAME]                what each node sees of them\n"
	      "  sip-server add NAME URI GEO_LOCATION [--ha-pair P] [--role primary|backup]\n"
	      "                 [--weight N] [--disabled]\n"
	      "  sip-server set NAME [--uri U] [--geo-location DC] [--ha-pair P | --no-ha-pair]\n"
	      "                 [--role R] [--weight N] [--enable | --disable]\n"
	      "  sip-server rm NAME\n"
	      "  session list [--sip-server NAME] [--aor AOR] [--min-age S] [--max-age S]\n"
	      "               [--all] [--limit N]        open ones, newest first\n"
	      "  session show ID                         a session and its dialogs\n"
	      "  ban list [address|user]                 the bans in force\n"
	      "  ban add ADDRESS|USER@REALM SECONDS      a ban on every node\n"
	      "  ban rm ADDRESS|USER@REALM               lifts it on every node\n"
	      "  notifications [--aor AOR] [--state pending|sending|failed] [--limit N]\n"
	      "                                          registration events not delivered\n"
	      "  route list [--kind domain|prefix|outbound] [--match M] [--limit N]\n"
	      "  route add KIND MATCH NEXT_HOP [--priority N] [--weight N] [--description T]\n"
	      "            [--disabled]             KIND: domain, prefix (E.164 digits), outbound\n"
	      "  route show ID | route del ID\n"
	      "  forward list [--domain D] [--limit N]  call forwards unconditional\n"
	      "  forward set USER@DOMAIN TARGET [--description T] [--disabled]\n"
	      "  forward show USER@DOMAIN | forward del USER@DOMAIN\n"
	      "  cdrs [--from TIME] [--to TIME] [--call-id ID] [--calls] [--limit N]\n"
	      "                                          call records, newest first (--calls:\n"
	      "                                          one line per call); TIME: ISO 8601\n"
	      "options:\n"
	      "  --url URL          the admin API (env JUNCTION_URL; default " DEFAULT_URL ")\n"
	      "  --token TOKEN      the bearer token (env JUNCTION_TOKEN)\n"
	      "  --config FILE      url=, token=, cacert= (default ~/.config/junctionctl.conf,\n"
	      "                     then " SYSCONFDIR "/junction/junctionctl.conf)\n"
	      "  --cacert FILE      CA certificate(s) for an https URL\n"
	      "  --timeout SECONDS  per request (default 10)\n"
	      "  --json             print JSON instead of tables\n"
	      "  -h, --help         this text\n"
	      "  -V, --version      print the version\n"
	      "Without --password, add and passwd ask on the terminal, or read one line from\n"
	      "standard input when it is not a terminal.\n"
	      "exit status: 0 done, 1 refused by the API, 2 usage, 3 unreachable, 4 bad token\n",
	      f);
}

/* ---- configuration -------------------------------------------------------- */

static int cfg_handler(void *user, const char *section, const char *name, const char *value)
{
	char *dst = NULL;

	(void)user;
	if (section[0] && strcmp(section, "junctionctl") != 0) {
		fprintf(stderr,
			"junctionctl: %s: unknown section [%s] (keys go at the top or in "
			"[junctionctl])\n",
			cfg_path, section);
		return 0;
	}
	if (strcmp(name, "url") == 0)
		dst = cfg_url;
	else if (strcmp(name, "token") == 0)
		dst = cfg_token;
	else if (strcmp(name, "cacert") == 0)
		dst = cfg_cacert;
	if (!dst) {
		fprintf(stderr, "junctionctl: %s: unknown key '%s' (expected url, token, cacert)\n",
			cfg_path, name);
		return 0;
	}
	if (strlen(value) >= FIELD_MAX) {
		fprintf(stderr, "junctionctl: %s: %s is too long\n", cfg_path, name);
		return 0;
	}
	strcpy(dst, value);
	return 1;
}

static void load_config(void)
{
	const char *home = getenv("HOME"), *xdg = getenv("XDG_CONFIG_HOME");
	char user_path[4096];
	FILE *f = NULL;
	int r;

	if (o.config) {
		snprintf(cfg_path, sizeof(cfg_path), "%s", o.config);
		f = fopen(cfg_path, "re");
		if (!f)
			die(EXIT_USAGE, "%s: %s", cfg_path, strerror(errno));
	} else {
		user_path[0] = '\0';
		if (xdg && *xdg)
			snprintf(user_path, sizeof(user_path), "%s/junctionctl.conf", xdg);
		else if (home && *home)
			snprintf(user_path, sizeof(user_path), "%s/.config/junctionctl.conf", home);
		if (user_path[0] && (f = fopen(user_path, "re")))
			snprintf(cfg_path, sizeof(cfg_path), "%s", user_path);
		else if ((f = fopen(SYSCONFDIR "/junction/junctionctl.conf", "re")))
			snprintf(cfg_path, sizeof(cfg_path), "%s",
				 SYSCONFDIR "/junction/junctionctl.conf");
	}
	if (!f)
		return;
	r = ini_parse_file(f, cfg_handler, NULL);
	fclose(f);
	if (r > 0)
		die(EXIT_USAGE, "%s:%d: cannot read this line", cfg_path, r);
	if (r < 0)
		die(EXIT_USAGE, "%s: cannot read it", cfg_path);
}

/* flag > environment > config file > default, each key on its own. */
static void resolve_settings(void)
{
	const char *env;

	load_config();
	if (!o.url && (env = getenv("JUNCTION_URL")) && *env) {
		o.url = env;
		o.url_from = "JUNCTION_URL";
	}
	if (!o.url && cfg_url[0]) {
		o.url = cfg_url;
		o.url_from = cfg_path;
	}
	if (!o.url)
		o.url = DEFAULT_URL;
	if (!o.token && (env = getenv("JUNCTION_TOKEN")) && *env) {
		o.token = env;
		o.token_from = "JUNCTION_TOKEN";
	}
	if (!o.token && cfg_token[0]) {
		o.token = cfg_token;
		o.token_from = cfg_path;
	}
	if (!o.cacert && cfg_cacert[0])
		o.cacert = cfg_cacert;
	if (strncmp(o.url, "http://", 7) != 0 && strncmp(o.url, "https://", 8) != 0)
		die(EXIT_USAGE, "the URL '%s'%s%s is not http://... or https://...", o.url,
		    o.url_from ? " from " : "", o.url_from ? o.url_from : "");
	if (strlen(o.url) >= FIELD_MAX || (o.token && strlen(o.token) >= FIELD_MAX))
		die(EXIT_USAGE, "the URL or the token is longer than %d characters", FIELD_MAX - 1);
}

/* ---- HTTP --------------------------------------------------------------- */

struct buf {
	char *p;
	size_t len;
	bool too_big;
};

static size_t on_data(char *data, size_t size, size_t n, void *arg)
{
	struct buf *b = arg;
	size_t add = size * n;
	char *p;

	if (b->len + add > RESPONSE_MAX) {
		b->too_big = true;
		return 0;
	}
	p = realloc(b->p, b->len + add + 1);
	if (!p)
		return 0;
	memcpy(p + b->len, data, add);
	b->len += add;
	p[b->len] = '\0';
	b->p = p;
	return add;
}

/* The base URL without a trailing '/'. */
static void base_url(char *out, size_t cap)
{
	size_t n;

	snprintf(out, cap, "%s", o.url);
	n = strlen(out);
	while (n && out[n - 1] == '/')
		out[--n] = '\0';
}

/*
 * method on path (already escaped) with body (JSON text or NULL). Returns
 * the HTTP status; *out gets the parsed JSON answer (NULL for none). Dies
 * when Junction cannot be reached, the token is refused, or the answer is
 * an error (its message).
 */
static long request(const char *method, const char *path, const char *body, json_t **out)
{
	char base[FIELD_MAX], *url = NULL, errbuf[CURL_ERROR_SIZE] = "", auth[FIELD_MAX + 32];
	struct curl_slist *h = NULL;
	struct buf b = {0};
	json_error_t je;
	json_t *j = NULL, *msg;
	CURL *c = curl_easy_init();
	CURLcode rc;
	long status = 0, os_errno = 0;

	base_url(base, sizeof(base));
	if (!c || asprintf(&url, "%s%s", base, path) < 0)
		die(EXIT_API, "out of memory");
	h = curl_slist_append(h, "Accept: application/json");
	if (o.token) {
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", o.token);
		h = curl_slist_append(h, auth);
	}
	if (body)
		h = curl_slist_append(h, "Content-Type: application/json");
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, o.timeout);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_USERAGENT, "junctionctl/" PACKAGE_VERSION);
	if (o.cacert)
		curl_easy_setopt(c, CURLOPT_CAINFO, o.cacert);
	if (body)
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	rc = curl_easy_perform(c);
	if (rc == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	else
		curl_easy_getinfo(c, CURLINFO_OS_ERRNO, &os_errno);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	free(url);
	if (rc != CURLE_OK) {
		free(b.p);
		if (rc == CURLE_COULDNT_CONNECT && os_errno == ECONNREFUSED)
			die(EXIT_UNREACH, "cannot reach Junction at %s: connection refused", o.url);
		if (rc == CURLE_OPERATION_TIMEDOUT)
			die(EXIT_UNREACH, "cannot reach Junction at %s: no answer within %ld s",
			    o.url, o.timeout);
		if (b.too_big)
			die(EXIT_API, "the answer from %s is larger than %u bytes", o.url,
			    RESPONSE_MAX);
		die(EXIT_UNREACH, "cannot reach Junction at %s: %s", o.url,
		    errbuf[0] ? errbuf : curl_easy_strerror(rc));
	}
	if (b.len) {
		j = json_loadb(b.p, b.len, 0, &je);
		if (!j)
			die(EXIT_API,
			    "%s answered HTTP %ld with something that is not JSON: is it "
			    "Junction's admin API?",
			    o.url, status);
	}
	free(b.p);
	msg = json_object_get(json_object_get(j, "error"), "message");
	if (status == 401) {
		if (!o.token)
			die(EXIT_TOKEN, "the token was refused (401): none was given; use --token, "
					"JUNCTION_TOKEN or token= in ~/.config/junctionctl.conf");
		die(EXIT_TOKEN, "the token was refused (401)%s%s",
		    o.token_from ? "; it came from " : "", o.token_from ? o.token_from : "");
	}
	if (status >= 400) {
		if (json_is_string(msg))
			die(EXIT_API, "%s", json_string_value(msg));
		die(EXIT_API, "%s answered HTTP %ld", o.url, status);
	}
	if (out)
		*out = j;
	else
		json_decref(j);
	return status;
}

static char *escape(const char *s)
{
	char *e = curl_easy_escape(NULL, s, 0);

	if (!e)
		die(EXIT_API, "out of memory");
	return e;
}

/* Appends &name=value (escaped) to q. */
static void add_arg(char *q, size_t cap, const char *name, const char *value)
{
	char *e;
	size_t n;

	if (!value)
		return;
	e = escape(value);
	n = strlen(q);
	if ((size_t)snprintf(q + n, cap - n, "%s%s=%s", strchr(q, '?') ? "&" : "?", name, e) >=
	    cap - n)
		die(EXIT_USAGE, "the value of --%s is too long", name);
	curl_free(e);
}

/* ---- output ------------------------------------------------------------- */

static void print_json(json_t *j)
{
	json_dumpf(j, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(10));
	fputc('\n', stdout);
}

/* The same for a new reference, which it drops. */
static void print_json_new(json_t *j)
{
	print_json(j);
	json_decref(j);
}

/* The text of a member for a table: strings as they are, numbers and
 * booleans as JSON writes them, null as "-". */
static const char *cell(json_t *o_, const char *key, char *tmp, size_t cap)
{
	json_t *v = json_object_get(o_, key);

	if (!v || json_is_null(v))
		return "-";
	if (json_is_string(v))
		return json_string_value(v);
	if (json_is_boolean(v))
		return json_is_true(v) ? "yes" : "no";
	if (json_is_integer(v)) {
		snprintf(tmp, cap, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return tmp;
	}
	if (json_is_real(v)) {
		snprintf(tmp, cap, "%g", json_real_value(v));
		return tmp;
	}
	return "?";
}

struct column {
	const char *title;
	const char *key;
};

/* One cell, padded to width; the last of a row ends the line instead. */
static void print_cell(const char *text, size_t width, bool last)
{
	if (last)
		printf("%s\n", text);
	else
		printf("%-*s  ", (int)width, text);
}

/* A table of items with the given columns, widths fitted to the content. */
static void print_table(json_t *items, const struct column *cols, unsigned ncols)
{
	size_t width[16] = {0};
	char tmp[64];
	size_t i;
	json_t *it;

	for (unsigned c = 0; c < ncols; c++)
		width[c] = strlen(cols[c].title);
	json_array_foreach(items, i, it)
	{
		for (unsigned c = 0; c < ncols; c++) {
			size_t n = strlen(cell(it, cols[c].key, tmp, sizeof(tmp)));
			if (n > width[c])
				width[c] = n;
		}
	}
	for (unsigned c = 0; c < ncols; c++)
		print_cell(cols[c].title, width[c], c + 1 == ncols);
	json_array_foreach(items, i, it)
	{
		for (unsigned c = 0; c < ncols; c++)
			print_cell(cell(it, cols[c].key, tmp, sizeof(tmp)), width[c],
				   c + 1 == ncols);
	}
}

static void print_fields(json_t *obj, const struct column *cols, unsigned ncols)
{
	char tmp[64];

	for (unsigned c = 0; c < ncols; c++)
		printf("%-12s %s\n", cols[c].title, cell(obj, cols[c].key, tmp, sizeof(tmp)));
}

/* ---- commands ----------------------------------------------------------- */

static void cmd_status(void)
{
	json_t *j = NULL, *db, *it;
	long up;
	size_t i;

	request("GET", "/v1/status", NULL, &j);
	if (o.json) {
		print_json(j);
		json_decref(j);
		return;
	}
	up = (long)json_integer_value(json_object_get(j, "uptime_seconds"));
	db = json_object_get(j, "database");
	printf("%-13s %s\n", "node", json_string_value(json_object_get(j, "node")));
	printf("%-13s %s\n", "version", json_string_value(json_object_get(j, "version")));
	printf("%-13s %s\n", "mode", json_string_value(json_object_get(j, "mode")));
	printf("%-13s %ldd %02ld:%02ld:%02ld (since %s)\n", "uptime", up / 86400, up / 3600 % 24,
	       up / 60 % 60, up % 60, json_string_value(json_object_get(j, "started_at")));
	printf("%-13s %s", "database", json_string_value(json_object_get(db, "state")));
	if (json_is_number(json_object_get(db, "latency_ms")))
		printf(" (%.2f ms)", json_number_value(json_object_get(db, "latency_ms")));
	if (json_is_string(json_object_get(db, "primary")))
		printf(" on %s", json_string_value(json_object_get(db, "primary")));
	if (json_integer_value(json_object_get(db, "failovers")) > 0)
		printf(", %" JSON_INTEGER_FORMAT " failover(s), %.1f s without",
		       json_integer_value(json_object_get(db, "failovers")),
		       json_number_value(json_object_get(db, "unavailable_seconds")));
	putchar('\n');
	if (json_is_integer(json_object_get(j, "bindings")))
		printf("%-13s %" JSON_INTEGER_FORMAT "\n", "bindings",
		       json_integer_value(json_object_get(j, "bindings")));
	else
		printf("%-13s -\n", "bindings");
	printf("%-13s %" JSON_INTEGER_FORMAT "\n", "transactions",
	       json_integer_value(json_object_get(j, "transactions")));
	printf("%-13s %" JSON_INTEGER_FORMAT "\n", "dialogs",
	       json_integer_value(json_object_get(j, "dialogs")));
	printf("%-13s %" JSON_INTEGER_FORMAT "\n", "tcp conns",
	       json_integer_value(json_object_get(j, "tcp_connections")));
	printf("%-13s", "listeners");
	json_array_foreach(json_object_get(j, "listeners"), i, it)
		printf(" %s", json_string_value(json_object_get(it, "listen")));
	putchar('\n');
	json_array_foreach(json_object_get(j, "transports"), i, it)
		printf("%-13s %" JSON_INTEGER_FORMAT " conns, %" JSON_INTEGER_FORMAT
		       " handshakes failed\n",
		       json_string_value(json_object_get(it, "transport")),
		       json_integer_value(json_object_get(it, "connections")),
		       json_integer_value(json_object_get(it, "handshake_failures")));
	if (json_is_object(json_object_get(j, "tls")))
		printf("%-13s %s, expires %s (%" JSON_INTEGER_FORMAT " days)\n", "certificate",
		       json_string_value(json_object_get(json_object_get(j, "tls"), "subject")),
		       json_string_value(json_object_get(json_object_get(j, "tls"), "expires_at")),
		       json_integer_value(json_object_get(json_object_get(j, "tls"), "days_left")));
	printf("%-13s", "queue depths");
	json_array_foreach(json_object_get(j, "workers"), i, it) printf(
		" %" JSON_INTEGER_FORMAT, json_integer_value(json_object_get(it, "queue_depth")));
	putchar('\n');
	json_decref(j);
}

/* Every page of a list (up to o.limit items) into one {"items", "next"}. */
static json_t *list_all(const char *path, const char *query)
{
	json_t *all = json_array(), *page = NULL, *next = NULL;
	char url[8192];
	size_t got = 0;

	for (;;) {
		long want = PAGE_MAX;

		if (o.limit && o.limit - (long)got < want)
			want = o.limit - (long)got;
		snprintf(url, sizeof(url), "%s%s", path, query);
		snprintf(url + strlen(url), sizeof(url) - strlen(url), "%slimit=%ld",
			 strchr(url, '?') ? "&" : "?", want);
		if (next)
			add_arg(url, sizeof(url), "cursor", json_string_value(next));
		json_decref(next);
		next = NULL;
		request("GET", url, NULL, &page);
		json_array_extend(all, json_object_get(page, "items"));
		got = json_array_size(all);
		next = json_incref(json_object_get(page, "next"));
		json_decref(page);
		if (!json_is_string(next) || (o.limit && (long)got >= o.limit))
			break;
	}
	if (!json_is_string(next)) {
		json_decref(next);
		next = json_null();
	}
	return json_pack("{s:o, s:o}", "items", all, "next", next);
}

static const struct column sub_cols[] = {
	{"USERNAME", "username"},  {"DOMAIN", "domain"},      {"ENABLED", "enabled"},
	{"CREATED", "created_at"}, {"UPDATED", "updated_at"},
};
static const struct column sub_fields[] = {
	{"username", "username"},  {"domain", "domain"}, {"aor", "aor"},
	{"enabled", "enabled"},    {"id", "id"},         {"created", "created_at"},
	{"updated", "updated_at"},
};

/* /v1/subscribers/USER@DOMAIN for the argument, escaped. */
static void sub_path(const char *arg, char *out, size_t cap)
{
	const char *at;
	char *e;

	if (strncmp(arg, "sip:", 4) == 0)
		arg += 4;
	at = strrchr(arg, '@');
	if (!at || at == arg || !at[1])
		die(EXIT_USAGE, "'%s' is not USER@DOMAIN", arg);
	e = escape(arg);
	snprintf(out, cap, "/v1/subscribers/%s", e);
	curl_free(e);
}

/* One line from f without its line end; NULL at EOF. */
static char *read_line(FILE *f)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n = getline(&line, &cap, f);

	if (n < 0) {
		free(line);
		return NULL;
	}
	while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	return line;
}

static char *prompt_hidden(const char *prompt)
{
	struct termios old, quiet;
	FILE *tty = fopen("/dev/tty", "r+e");
	FILE *in = tty ? tty : stdin, *out = tty ? tty : stderr;
	char *line;

	fputs(prompt, out);
	fflush(out);
	if (tcgetattr(fileno(in), &old) == 0) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(fileno(in), TCSAFLUSH, &quiet);
	}
	line = read_line(in);
	tcsetattr(fileno(in), TCSAFLUSH, &old);
	fputc('\n', out);
	if (tty)
		fclose(tty);
	return line;
}

/* The new password: --password, --password-stdin or not a terminal: one
 * line of stdin; a terminal: asked twice without echo. */
static char *get_password(const char *who)
{
	char prompt[600], *a, *b;

	if (o.password)
		return strdup(o.password);
	if (o.password_stdin || !isatty(STDIN_FILENO)) {
		a = read_line(stdin);
		if (!a)
			die(EXIT_USAGE, "no password on standard input");
		return a;
	}
	snprintf(prompt, sizeof(prompt), "Password for %s: ", who);
	a = prompt_hidden(prompt);
	b = a ? prompt_hidden("Again: ") : NULL;
	if (!a || !b || strcmp(a, b) != 0)
		die(EXIT_USAGE, "the passwords do not match");
	free(b);
	return a;
}

static void print_subscriber(json_t *j)
{
	if (o.json)
		print_json(j);
	else
		print_fields(j, sub_fields, sizeof(sub_fields) / sizeof(sub_fields[0]));
}

static void sub_add(const char *arg)
{
	const char *at;
	char *user, *pw;
	json_t *body, *j = NULL;
	char *text;

	if (strncmp(arg, "sip:", 4) == 0)
		arg += 4;
	at = strrchr(arg, '@');
	if (!at || at == arg || !at[1])
		die(EXIT_USAGE, "'%s' is not USER@DOMAIN", arg);
	user = strndup(arg, (size_t)(at - arg));
	pw = get_password(arg);
	if (!pw[0])
		die(EXIT_USAGE, "the password is empty");
	body = json_pack("{s:s, s:s, s:s, s:b}", "username", user, "domain", at + 1, "password", pw,
			 "enabled", !o.disabled);
	if (!body)
		die(EXIT_USAGE, "USER@DOMAIN and the password must be UTF-8 text");
	text = json_dumps(body, JSON_COMPACT);
	request("POST", "/v1/subscribers", text, &j);
	if (o.json)
		print_json(j);
	else
		printf("created %s (%s)\n", json_string_value(json_object_get(j, "aor")),
		       json_is_true(json_object_get(j, "enabled")) ? "enabled" : "disabled");
	free(text);
	free(pw);
	free(user);
	json_decref(body);
	json_decref(j);
}

static void sub_patch(const char *arg, json_t *body, const char *done)
{
	char path[4096], *text = json_dumps(body, JSON_COMPACT);
	json_t *j = NULL;

	sub_path(arg, path, sizeof(path));
	request("PATCH", path, text, &j);
	if (o.json)
		print_json(j);
	else
		printf("%s: %s\n", json_string_value(json_object_get(j, "aor")), done);
	free(text);
	json_decref(body);
	json_decref(j);
}

static void cmd_subscriber(int argc, char **argv)
{
	const char *verb = argc > 0 ? argv[0] : NULL;
	char path[4096], query[4096] = "";
	json_t *j = NULL;

	if (!verb)
		die(EXIT_USAGE, "subscriber: give add, list, show, passwd, disable, enable or rm");
	if (strcmp(verb, "list") == 0) {
		if (argc != 1)
			die(EXIT_USAGE, "subscriber list takes no arguments, only options");
		add_arg(query, sizeof(query), "domain", o.domain);
		add_arg(query, sizeof(query), "username", o.username);
		if (o.enabled_only || o.disabled_only)
			add_arg(query, sizeof(query), "enabled", o.enabled_only ? "true" : "false");
		j = list_all("/v1/subscribers", query);
		if (o.json)
			print_json(j);
		else if (json_array_size(json_object_get(j, "items")) == 0)
			printf("no subscribers\n");
		else
			print_table(json_object_get(j, "items"), sub_cols,
				    sizeof(sub_cols) / sizeof(sub_cols[0]));
		json_decref(j);
		return;
	}
	if (argc != 2)
		die(EXIT_USAGE, "subscriber %s: give one USER@DOMAIN", verb);
	if (strcmp(verb, "add") == 0) {
		sub_add(argv[1]);
	} else if (strcmp(verb, "show") == 0) {
		sub_path(argv[1], path, sizeof(path));
		request("GET", path, NULL, &j);
		print_subscriber(j);
		json_decref(j);
	} else if (strcmp(verb, "passwd") == 0) {
		char *pw;
		json_t *body;

		sub_path(argv[1], path, sizeof(path)); /* checks the argument first */
		pw = get_password(argv[1]);
		if (!pw[0])
			die(EXIT_USAGE, "the password is empty");
		body = json_pack("{s:s}", "password", pw);
		free(pw);
		if (!body)
			die(EXIT_USAGE, "the password must be UTF-8 text");
		sub_patch(argv[1], body, "password changed");
	} else if (strcmp(verb, "disable") == 0 || strcmp(verb, "enable") == 0) {
		bool en = strcmp(verb, "enable") == 0;
		sub_patch(argv[1], json_pack("{s:b}", "enabled", en), en ? "enabled" : "disabled");
	} else if (strcmp(verb, "rm") == 0) {
		sub_path(argv[1], path, sizeof(path));
		request("DELETE", path, NULL, NULL);
		if (o.json)
			print_json_new(json_pack("{s:s}", "deleted", argv[1]));
		else
			printf("deleted %s\n", argv[1]);
	} else {
		die(EXIT_USAGE, "subscriber: unknown command '%s'", verb);
	}
}

static const struct column bnd_cols[] = {
	{"ID", "id"}, {"AOR", "aor"},   {"CONTACT", "contact"},   {"EXPIRES", "expires"},
	{"Q", "q"},   {"NODE", "node"}, {"RECEIVED", "received"}, {"USER-AGENT", "user_agent"},
};

static void cmd_binding(int argc, char **argv)
{
	const char *verb = argc > 0 ? argv[0] : NULL;
	char query[4096] = "", path[sizeof(query) + 32];
	json_t *j = NULL;

	if (!verb)
		die(EXIT_USAGE, "binding: give list or rm");
	if (strcmp(verb, "list") == 0) {
		if (argc != 1)
			die(EXIT_USAGE, "binding list takes no arguments, only options");
		add_arg(query, sizeof(query), "aor", o.aor);
		add_arg(query, sizeof(query), "domain", o.domain);
		add_arg(query, sizeof(query), "node", o.node);
		j = list_all("/v1/bindings", query);
		if (o.json)
			print_json(j);
		else if (json_array_size(json_object_get(j, "items")) == 0)
			printf("no bindings\n");
		else
			print_table(json_object_get(j, "items"), bnd_cols,
				    sizeof(bnd_cols) / sizeof(bnd_cols[0]));
		json_decref(j);
	} else if (strcmp(verb, "rm") == 0) {
		if (o.aor && argc == 1) {
			add_arg(query, sizeof(query), "aor", o.aor);
			snprintf(path, sizeof(path), "/v1/bindings%s", query);
			request("DELETE", path, NULL, &j);
			if (o.json)
				print_json(j);
			else
				printf("deleted %" JSON_INTEGER_FORMAT " binding(s) of %s\n",
				       json_integer_value(json_object_get(j, "deleted")), o.aor);
			json_decref(j);
			return;
		}
		if (o.aor || argc != 2 || strspn(argv[1], "0123456789") != strlen(argv[1]))
			die(EXIT_USAGE, "binding rm: give one ID (see binding list) or --aor AOR");
		snprintf(path, sizeof(path), "/v1/bindings/%s", argv[1]);
		request("DELETE", path, NULL, NULL);
		if (o.json)
			print_json_new(json_pack("{s:I}", "deleted", (json_int_t)1));
		else
			printf("deleted binding %s\n", argv[1]);
	} else {
		die(EXIT_USAGE, "binding: unknown command '%s'", verb);
	}
}

static const struct column srv_cols[] = {
	{"NAME", "name"},
	{"URI", "uri"},
	{"GEO-LOCATION", "geo_location"},
	{"HA-PAIR", "ha_pair"},
	{"ROLE", "role"},
	{"WEIGHT", "weight"},
	{"ENABLED", "enabled"},
	{"UPDATED", "updated_at"},
};
static const struct column srv_fields[] = {
	{"name", "name"},
	{"uri", "uri"},
	{"geo_location", "geo_location"},
	{"ha_pair", "ha_pair"},
	{"role", "role"},
	{"weight", "weight"},
	{"enabled", "enabled"},
	{"created", "created_at"},
	{"updated", "updated_at"},
};
/* sip-server status: one line per node and server (print_srv_status). */
static const struct column srvn_cols[] = {
	{"NODE", "node"},     {"SERVER", "server"}, {"STATE", "state"},
	{"SINCE", "since"},   {"RTT-MS", "rtt_ms"}, {"SWITCHOVER", "last_switchover"},
	{"REASON", "reason"},
};

/* /v1/sip-servers/NAME, escaped. */
static void srv_path(const char *name, char *out, size_t cap)
{
	char *e = escape(name);

	snprintf(out, cap, "/v1/sip-servers/%s", e);
	curl_free(e);
}

/* Rows of sip-server status: by node, then server. */
static int srvn_cmp(const void *a, const void *b)
{
	json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
	int c = strcmp(json_string_value(json_object_get(x, "node")),
		       json_string_value(json_object_get(y, "node")));

	return c ? c
		 : strcmp(json_string_value(json_object_get(x, "server")),
			  json_string_value(json_object_get(y, "server")));
}

/* What each node sees of servers (an array, borrowed): one line per node
 * and server (the node's object with "server" added), or none when no
 * node has reported on them. */
static void print_srv_status(json_t *servers, const char *none)
{
	json_t *rows = json_array(), *srv, *node, **v;
	size_t i, k, n = 0;

	json_array_foreach(servers, i, srv) n += json_array_size(json_object_get(srv, "nodes"));
	v = calloc(n + 1, sizeof(*v));
	if (!v)
		die(EXIT_API, "out of memory");
	n = 0;
	json_array_foreach(servers, i, srv)
	{
		json_array_foreach(json_object_get(srv, "nodes"), k, node)
		{
			v[n] = json_deep_copy(node);
			json_object_set(v[n++], "server", json_object_get(srv, "name"));
		}
	}
	qsort(v, n, sizeof(*v), srvn_cmp);
	for (i = 0; i < n; i++)
		json_array_append_new(rows, v[i]);
	free(v);
	if (n == 0)
		printf("%s\n", none);
	else
		print_table(rows, srvn_cols, sizeof(srvn_cols) / sizeof(srvn_cols[0]));
	json_decref(rows);
}

/* A server as fields and its nodes as a table, or JSON. */
static void print_sip_server(json_t *j, bool fields)
{
	json_t *one;

	if (o.json) {
		print_json(j);
		return;
	}
	if (fields) {
		print_fields(j, srv_fields, sizeof(srv_fields) / sizeof(srv_fields[0]));
		putchar('\n');
	}
	one = json_pack("[O]", j);
	print_srv_status(one, "no node has reported on it yet");
	json_decref(one);
}

/* The body of add and set from the options: only what was given. */
static json_t *srv_body(void)
{
	json_t *b = json_object();

	if (o.uri)
		json_object_set_new(b, "uri", json_string(o.uri));
	if (o.geo_location)
		json_object_set_new(b, "geo_location", json_string(o.geo_location));
	if (o.ha_pair)
		json_object_set_new(b, "ha_pair", json_string(o.ha_pair));
	if (o.no_ha_pair)
		json_object_set_new(b, "ha_pair", json_null());
	if (o.role)
		json_object_set_new(b, "role", json_string(o.role));
	if (o.weight > 10000)
		die(EXIT_USAGE, "--weight: a sip server's is a number from 0 to 10000");
	if (o.weight >= 0)
		json_object_set_new(b, "weight", json_integer(o.weight));
	if (o.enabled_only || o.disabled_only)
		json_object_set_new(b, "enabled", json_boolean(o.enabled_only));
	return b;
}

/* request() with body (taken) as JSON text. */
static void request_json(const char *method, const char *path, json_t *body, json_t **out)
{
	char *text = json_dumps(body, JSON_COMPACT);

	if (!text)
		die(EXIT_USAGE, "the values must be UTF-8 text");
	request(method, path, text, out);
	free(text);
	json_decref(body);
}

static void cmd_sip_server(int argc, char **argv)
{
	const char *verb = argc > 0 ? argv[0] : NULL;
	char path[4096], query[4096] = "";
	json_t *j = NULL, *body;

	if (!verb)
		die(EXIT_USAGE, "sip-server: give list, show, status, add, set or rm");
	if (strcmp(verb, "list") == 0 || (strcmp(verb, "status") == 0 && argc == 1)) {
		if (argc != 1)
			die(EXIT_USAGE, "sip-server list takes no arguments, only options");
		add_arg(query, sizeof(query), "geo_location", o.geo_location);
		add_arg(query, sizeof(query), "ha_pair", o.ha_pair);
		snprintf(path, sizeof(path), "/v1/sip-servers%s", query);
		request("GET", path, NULL, &j);
		if (o.json)
			print_json(j);
		else if (strcmp(verb, "status") == 0)
			print_srv_status(json_object_get(j, "sip_servers"),
					 "no node has reported on a sip server yet");
		else if (json_array_size(json_object_get(j, "sip_servers")) == 0)
			printf("no sip servers\n");
		else
			print_table(json_object_get(j, "sip_servers"), srv_cols,
				    sizeof(srv_cols) / sizeof(srv_cols[0]));
		json_decref(j);
		return;
	}
	if (strcmp(verb, "add") == 0) {
		if (argc != 4)
			die(EXIT_USAGE, "sip-server add: give NAME URI GEO_LOCATION");
		if (o.uri || o.geo_location || o.no_ha_pair)
			die(EXIT_USAGE, "sip-server add: URI and GEO_LOCATION are arguments; "
					"--uri, --geo-location and --no-ha-pair are for set");
		o.uri = argv[2];
		o.geo_location = argv[3];
		body = srv_body();
		json_object_set_new(body, "name", json_string(argv[1]));
		request_json("POST", "/v1/sip-servers", body, &j);
		if (o.json)
			print_json(j);
		else
			printf("created sip server %s (%s)\n",
			       json_string_value(json_object_get(j, "name")),
			       json_is_true(json_object_get(j, "enabled")) ? "enabled"
									   : "disabled");
		json_decref(j);
		return;
	}
	if (argc != 2)
		die(EXIT_USAGE, "sip-server %s: give one NAME", verb);
	srv_path(argv[1], path, sizeof(path));
	if (strcmp(verb, "show") == 0 || strcmp(verb, "status") == 0) {
		request("GET", path, NULL, &j);
		print_sip_server(j, strcmp(verb, "show") == 0);
		json_decref(j);
	} else if (strcmp(verb, "set") == 0) {
		body = srv_body();
		if (json_object_size(body) == 0)
			die(EXIT_USAGE,
			    "sip-server set: nothing to change (see junctionctl --help)");
		request_json("PATCH", path, body, &j);
		if (o.json)
			print_json(j);
		else
			printf("%s: updated\n", json_string_value(json_object_get(j, "name")));
		json_decref(j);
	} else if (strcmp(verb, "rm") == 0) {
		request("DELETE", path, NULL, NULL);
		if (o.json)
			print_json_new(json_pack("{s:s}", "deleted", argv[1]));
		else
			printf("deleted sip server %s\n", argv[1]);
	} else {
		die(EXIT_USAGE, "sip-server: unknown command '%s'", verb);
	}
}

static const struct column ses_cols[] = {
	{"ID", "id"},
	{"SIP-SERVER", "sip_server"},
	{"HA-PAIR", "ha_pair"},
	{"NODE", "node"},
	{"DIALOGS", "dialogs"},
	{"CREATED", "created"},
	{"ACTIVITY", "last_activity"},
	{"ENDED", "ended"},
	{"MOVED-FROM", "moved_from"},
};
static const struct column ses_fields[] = {
	{"id", "id"},       {"sip_server", "sip_server"}, {"ha_pair", "ha_pair"},
	{"node", "node"},   {"created", "created"},       {"activity", "last_activity"},
	{"ended", "ended"}, {"moved_from", "moved_from"},
};
static const struct column dlg_cols[] = {
	{"CALL-ID", "call_id"},   {"FROM-TAG", "from_tag"}, {"TO-TAG", "to_tag"},
	{"METHOD", "method"},     {"STATE", "state"},       {"RELATION", "relation"},
	{"CALLER", "caller_aor"}, {"CALLEE", "callee_aor"}, {"NODE", "node"},
	{"CREATED", "created"},   {"UPDATED", "updated"},   {"EXPIRES", "expires"},
	{"ENDED", "ended"},
};

/* A session as fields and its dialogs as a table, or JSON. */
static void print_session(json_t *j)
{
	json_t *dialogs = json_object_get(j, "dialogs");

	if (o.json) {
		print_json(j);
		return;
	}
	print_fields(j, ses_fields, sizeof(ses_fields) / sizeof(ses_fields[0]));
	putchar('\n');
	if (json_array_size(dialogs) == 0)
		printf("no dialogs\n");
	else
		print_table(dialogs, dlg_cols, sizeof(dlg_cols) / sizeof(dlg_cols[0]));
}

static void cmd_session(int argc, char **argv)
{
	const char *verb = argc > 0 ? argv[0] : NULL;
	char query[4096] = "", path[64];
	json_t *j = NULL;

	if (!verb)
		die(EXIT_USAGE, "session: give list or show");
	if (strcmp(verb, "list") == 0) {
		if (argc != 1)
			die(EXIT_USAGE, "session list takes no arguments, only options");
		add_arg(query, sizeof(query), "sip_server", o.sip_server);
		add_arg(query, sizeof(query), "aor", o.aor);
		add_arg(query, sizeof(query), "min_age", o.min_age);
		add_arg(query, sizeof(query), "max_age", o.max_age);
		if (o.all)
			add_arg(query, sizeof(query), "ended", "yes");
		j = list_all("/v1/sessions", query);
		if (o.json)
			print_json(j);
		else if (json_array_size(json_object_get(j, "items")) == 0)
			printf("no sessions\n");
		else
			print_table(json_object_get(j, "items"), ses_cols,
				    sizeof(ses_cols) / sizeof(ses_cols[0]));
		json_decref(j);
	} else if (strcmp(verb, "show") == 0) {
		/* An id is what the API takes: 1 to 18 digits. */
		if (argc != 2 || !argv[1][0] || strlen(argv[1]) > 18 ||
		    strspn(argv[1], "0123456789") != strlen(argv[1]))
			die(EXIT_USAGE, "session show: give one ID (see session list)");
		snprintf(path, sizeof(path), "/v1/sessions/%s", argv[1]);
		request("GET", path, NULL, &j);
		print_session(j);
		json_decref(j);
	} else {
		die(EXIT_USAGE, "session: unknown command '%s'", verb);
	}
}

static const struct column ban_cols[] = {
	{"KIND", "kind"},
	{"TARGET", "target"},
	{"REASON", "reason"},
	{"NODE", "node"},
	{"SINCE", "since"},
	{"UNTIL", "until"},
	{"SECONDS-LEFT", "seconds_left"},
};

static void cmd_ban(int argc, char **argv)
{
	const char *verb = argc > 0 ? argv[0] : NULL;
	char query[64] = "", path[512];
	json_t *j = NULL;
	char *e;

	if (!verb)
		die(EXIT_USAGE, "ban: give list, add or rm");
	if (strcmp(verb, "list") == 0) {
		if (argc > 2 ||
		    (argc == 2 && strcmp(argv[1], "address") != 0 && strcmp(argv[1], "user") != 0))
			die(EXIT_USAGE, "ban list: give nothing, address or user");
		if (argc == 2)
			add_arg(query, sizeof(query), "kind", argv[1]);
		snprintf(path, sizeof(path), "/v1/bans%s", query);
		request("GET", path, NULL, &j);
		if (o.json)
			print_json(j);
		else if (json_array_size(json_object_get(j, "items")) == 0)
			printf("no bans\n");
		else
			print_table(json_object_get(j, "items"), ban_cols,
				    sizeof(ban_cols) / sizeof(ban_cols[0]));
		json_decref(j);
	} else if (strcmp(verb, "add") == 0) {
		char *end;
		long sec;

		if (argc != 3)
			die(EXIT_USAGE, "ban add: give ADDRESS or USER@REALM, and SECONDS");
		sec = strtol(argv[2], &end, 10);
		if (!argv[2][0] || *end || sec < 1 || sec > 2592000)
			die(EXIT_USAGE, "ban add: SECONDS is 1..2592000");
		request_json("POST", "/v1/bans",
			     json_pack("{s:s, s:I}", "target", argv[1], "seconds", (json_int_t)sec),
			     &j);
		if (o.json)
			print_json(j);
		else
			printf("banned %s for %ld s\n",
			       json_string_value(json_object_get(j, "target")), sec);
		json_decref(j);
	} else if (strcmp(verb, "rm") == 0) {
		if (argc != 2)
			die(EXIT_USAGE, "ban rm: give ADDRESS or USER@REALM");
		e = escape(argv[1]);
		snprintf(path, sizeof(path), "/v1/bans/%s", e);
		curl_free(e);
		request("DELETE", path, NULL, NULL);
		if (o.json)
			print_json_new(json_pack("{s:s}", "lifted", argv[1]));
		else
			printf("lifted the ban on %s\n", argv[1]);
	} else {
		die(EXIT_USAGE, "ban: unknown command '%s'", verb);
	}
}

static const struct column ev_cols[] = {
	{"ID", "id"},
	{"AOR", "aor"},
	{"CONTACT", "contact"},
	{"EVENT", "event"},
	{"EXPIRES", "expires"},
	{"NODE", "node"},
	{"CREATED", "created_at"},
	{"STATE", "state"},
	{"ATTEMPTS", "attempts"},
	{"NEXT-TRY", "next_try"},
	{"CLAIMED-BY", "claimed_by"},
	{"LAST-ERROR", "last_error"},
};

/* The member key of o, unix seconds, as UTC ISO 8601 for a table. */
static void unix_to_iso(json_t *o_, const char *key)
{
	json_t *v = json_object_get(o_, key);
	time_t t;
	struct tm tm;
	char text[32];

	if (!json_is_integer(v))
		return;
	t = (time_t)json_integer_value(v);
	if (!gmtime_r(&t, &tm) || !strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", &tm))
		return;
	json_object_set_new(o_, key, json_string(text));
}

/* The registration events the back end has not taken ([notify]): one
 * request, oldest first, at most the API's page (it has no cursor). */
static void cmd_notifications(int argc, char **argv)
{
	char query[4096] = "", path[sizeof(query) + 32], limit[24];
	json_t *j = NULL, *items, *it;
	json_int_t count;
	size_t i;

	(void)argv;
	if (argc != 0)
		die(EXIT_USAGE, "notifications takes no arguments, only options");
	if (o.limit > PAGE_MAX)
		die(EXIT_USAGE, "notifications: --limit is at most %u", PAGE_MAX);
	snprintf(limit, sizeof(limit), "%ld", o.limit ? o.limit : (long)PAGE_MAX);
	add_arg(query, sizeof(query), "aor", o.aor);
	add_arg(query, sizeof(query), "state", o.state);
	add_arg(query, sizeof(query), "limit", limit);
	snprintf(path, sizeof(path), "/v1/notifications%s", query);
	request("GET", path, NULL, &j);
	if (o.json) {
		print_json(j);
		json_decref(j);
		return;
	}
	items = json_object_get(j, "notifications");
	count = json_integer_value(json_object_get(j, "count"));
	if (json_array_size(items) == 0) {
		printf("no notifications\n");
		json_decref(j);
		return;
	}
	json_array_foreach(items, i, it)
	{
		unix_to_iso(it, "created_at");
		unix_to_iso(it, "next_try");
	}
	print_table(items, ev_cols, sizeof(ev_cols) / sizeof(ev_cols[0]));
	if ((json_int_t)json_array_size(items) < count)
		printf("(the oldest %zu of %" JSON_INTEGER_FORMAT ")\n", json_array_size(items),
		       count);
	json_decref(j);
}

static const struct column cdr_cols[] = {
	{"AT", "at"},         {"EVENT", "event"},   {"CALL-ID", "call_id"},
	{"FROM", "from_uri"}, {"TO", "to_uri"},     {"TARGET", "target"},
	{"STATUS", "status"}, {"REASON", "reason"}, {"NODE", "node"},
};
static const struct column call_cols[] = {
	{"STARTED", "started"},   {"CALL-ID", "call_id"},         {"FROM", "from_uri"},
	{"TO", "to_uri"},         {"STATUS", "status"},           {"REASON", "reason"},
	{"ANSWERED", "answered"}, {"DURATION-MS", "duration_ms"}, {"TARGET", "target"},
	{"NODES", "nodes"},
};

/* The call records ([cdr]): events, or with --calls the calls they make;
 * one request, newest first, at most the API's page (it has no cursor:
 * older ones are asked for with --to). */
static void cmd_cdrs(int argc, char **argv)
{
	char query[4096] = "", path[sizeof(query) + 32], limit[24];
	json_t *j = NULL, *items, *it;
	size_t i;

	(void)argv;
	if (argc != 0)
		die(EXIT_USAGE, "cdrs takes no arguments, only options");
	if (o.limit > PAGE_MAX)
		die(EXIT_USAGE, "cdrs: --limit is at most %u", PAGE_MAX);
	add_arg(query, sizeof(query), "from", o.from);
	add_arg(query, sizeof(query), "to", o.to);
	add_arg(query, sizeof(query), "call_id", o.call_id);
	if (o.limit) {
		snprintf(limit, sizeof(limit), "%ld", o.limit);
		add_arg(query, sizeof(query), "limit", limit);
	}
	snprintf(path, sizeof(path), "%s%s", o.calls ? "/v1/cdrs/calls" : "/v1/cdrs", query);
	request("GET", path, NULL, &j);
	if (o.json) {
		print_json(j);
		json_decref(j);
		return;
	}
	items = json_object_get(j, "items");
	if (json_array_size(items) == 0) {
		printf(o.calls ? "no calls\n" : "no call records\n");
		json_decref(j);
		return;
	}
	if (o.calls) {
		/* The nodes as one cell. */
		json_array_foreach(items, i, it)
		{
			char nodes[512] = "";
			size_t k;
			json_t *n;

			json_array_foreach(json_object_get(it, "nodes"), k, n)
			{
				const char *v = json_string_value(n);
				size_t used = strlen(nodes);

				snprintf(nodes + used, sizeof(nodes) - used, "%s%s", k ? "," : "",
					 v ? v : "");
			}
			json_object_set_new(it, "nodes", json_string(nodes));
		}
		print_table(items, call_cols, sizeof(call_cols) / sizeof(call_cols[0]));
	} else {
		print_table(items, cdr_cols, sizeof(cdr_cols) / sizeof(cdr_cols[0]));
	}
	if (json_array_size(items) == (size_t)(o.limit ? o.limit : 100))
		printf("(the newest %zu: older ones with --to, more with --limit)\n",
		       json_array_size(items));
	json_decref(j);
}

/* ---- static routes and call forwards ------------------------------------- */

static const struct column rt_cols[] = {
	{"ID", "id"},
	{"KIND", "kind"},
	{"MATCH", "match"},
	{"NEXT-HOP", "next_hop"},
	{"PRIORITY", "priority"},
	{"WEIGHT", "weight"},
	{"ENABLED", "enabled"},
	{"DESCRIPTION", "description"},
};
static const struct column rt_fields[] = {
	{"id", "id"},
	{"kind", "kind"},
	{"match", "match"},
	{"next_hop", "next_hop"},
	{"priority", "priority"},
	{"weight", "weight"},
	{"enabled", "enabled"},
	{"description", "description"},
	{"created", "created_at"},
	{"updated", "updated_at"},
};

/* An id as the API takes it: 1 to 18 digits. */
static const char *route_id(const char *verb, const char *id)
{
	size_t n = strlen(id);

	if (n == 0 || n > 18 || strspn(id, "0123456789") != n)
		die(EXIT_USAGE, "route %s: give one ID (see route list)", verb);
	return id;
}

static void cmd_route(int argc, char **argv)
{
	const char *verb = argc > 0 ? argv[0] : NULL;
	char query[4096] = "", path[64];
	json_t *j = NULL, *body;

	if (!verb)
		die(EXIT_USAGE, "route: give list, add, show or del");
	if (strcmp(verb, "list") == 0) {
		if (argc != 1)
			die(EXIT_USAGE, "route list takes no arguments, only options");
		add_arg(query, sizeof(query), "kind", o.kind);
		add_arg(query, sizeof(query), "match", o.match);
		j = list_all("/v1/routes", query);
		if (o.json)
			print_json(j);
		else if (json_array_size(json_object_get(j, "items")) == 0)
			printf("no routes\n");
		else
			print_table(json_object_get(j, "items"), rt_cols,
				    sizeof(rt_cols) / sizeof(rt_cols[0]));
		json_decref(j);
	} else if (strcmp(verb, "add") == 0) {
		if (argc != 4)
			die(EXIT_USAGE, "route add: give KIND (domain, prefix or outbound), MATCH "
					"and NEXT_HOP");
		if (o.kind || o.match)
			die(EXIT_USAGE, "route add: KIND and MATCH are arguments; --kind and "
					"--match are for list");
		body = json_pack("{s:s, s:s, s:s, s:b}", "kind", argv[1], "match", argv[2],
				 "next_hop", argv[3], "enabled", !o.disabled);
		if (!body)
			die(EXIT_USAGE, "the values must be UTF-8 text");
		if (o.priority >= 0)
			json_object_set_new(body, "priority", json_integer(o.priority));
		if (o.weight >= 0)
			json_object_set_new(body, "weight", json_integer(o.weight));
		if (o.description)
			json_object_set_new(body, "description", json_string(o.description));
		request_json("POST", "/v1/routes", body, &j);
		if (o.json)
			print_json(j);
		else
			printf("created route %" JSON_INTEGER_FORMAT ": %s %s -> %s (%s)\n",
			       json_integer_value(json_object_get(j, "id")),
			       json_string_value(json_object_get(j, "kind")),
			       json_string_value(json_object_get(j, "match")),
			       json_string_value(json_object_get(j, "next_hop")),
			       json_is_true(json_object_get(j, "enabled")) ? "enabled"
									   : "disabled");
		json_decref(j);
	} else if (strcmp(verb, "show") == 0 || strcmp(verb, "del") == 0 ||
		   strcmp(verb, "rm") == 0) {
		if (argc != 2)
			die(EXIT_USAGE, "route %s: give one ID (see route list)", verb);
		snprintf(path, sizeof(path), "/v1/routes/%s", route_id(verb, argv[1]));
		if (strcmp(verb, "show") == 0) {
			request("GET", path, NULL, &j);
			if (o.json)
				print_json(j);
			else
				print_fields(j, rt_fields,
					     sizeof(rt_fields) / sizeof(rt_fields[0]));
			json_decref(j);
		} else {
			request("DELETE", path, NULL, NULL);
			if (o.json)
				print_json_new(
					json_pack("{s:I}", "deleted", (json_int_t)atoll(argv[1])));
			else
				printf("deleted route %s\n", argv[1]);
		}
	} else {
		die(EXIT_USAGE, "route: unknown command '%s'", verb);
	}
}

static const struct column fwd_cols[] = {
	{"AOR", "aor"},
	{"TARGET", "target"},
	{"ENABLED", "enabled"},
	{"DESCRIPTION", "description"},
	{"UPDATED", "updated_at"},
};
static const struct column fwd_fields[] = {
	{"aor", "aor"},
	{"target", "target"},
	{"enabled", "enabled"},
	{"description", "description"},
	{"created", "created_at"},
	{"updated", "updated_at"},
};

/* /v1/forwards/USER@DOMAIN for the argument, escaped. */
static void fwd_path(const char *arg, char *out, size_t cap)
{
	const char *p = arg, *at;
	char *e;

	if (strncmp(p, "sip:", 4) == 0)
		p += 4;
	at = strrchr(p, '@');
	if (!at || at == p || !at[1])
		die(EXIT_USAGE, "'%s' is not USER@DOMAIN", arg);
	e = escape(p);
	snprintf(out, cap, "/v1/forwards/%s", e);
	curl_free(e);
}

static void cmd_forward(int argc, char **argv)
{
	const char *verb = argc > 0 ? argv[0] : NULL;
	char query[4096] = "", path[4096], *text;
	json_t *j = NULL, *body;
	long status;

	if (!verb)
		die(EXIT_USAGE, "forward: give list, set, show or del");
	if (strcmp(verb, "list") == 0) {
		if (argc != 1)
			die(EXIT_USAGE, "forward list takes no arguments, only options");
		add_arg(query, sizeof(query), "domain", o.domain);
		j = list_all("/v1/forwards", query);
		if (o.json)
			print_json(j);
		else if (json_array_size(json_object_get(j, "items")) == 0)
			printf("no forwards\n");
		else
			print_table(json_object_get(j, "items"), fwd_cols,
				    sizeof(fwd_cols) / sizeof(fwd_cols[0]));
		json_decref(j);
		return;
	}
	if (strcmp(verb, "set") == 0) {
		if (argc != 3)
			die(EXIT_USAGE, "forward set: give USER@DOMAIN and TARGET (a sip: URI)");
		fwd_path(argv[1], path, sizeof(path));
		body = json_pack("{s:s, s:b}", "target", argv[2], "enabled", !o.disabled);
		if (!body)
			die(EXIT_USAGE, "the values must be UTF-8 text");
		if (o.description)
			json_object_set_new(body, "description", json_string(o.description));
		text = json_dumps(body, JSON_COMPACT);
		json_decref(body);
		if (!text)
			die(EXIT_USAGE, "the values must be UTF-8 text");
		status = request("PUT", path, text, &j); /* 201 created, 200 replaced */
		free(text);
		if (o.json)
			print_json(j);
		else
			printf("%s -> %s (%s, %s)\n", json_string_value(json_object_get(j, "aor")),
			       json_string_value(json_object_get(j, "target")),
			       status == 201 ? "created" : "replaced",
			       json_is_true(json_object_get(j, "enabled")) ? "enabled"
									   : "disabled");
		json_decref(j);
		return;
	}
	if (argc != 2)
		die(EXIT_USAGE, "forward %s: give one USER@DOMAIN", verb);
	fwd_path(argv[1], path, sizeof(path));
	if (strcmp(verb, "show") == 0) {
		request("GET", path, NULL, &j);
		if (o.json)
			print_json(j);
		else
			print_fields(j, fwd_fields, sizeof(fwd_fields) / sizeof(fwd_fields[0]));
		json_decref(j);
	} else if (strcmp(verb, "del") == 0 || strcmp(verb, "rm") == 0) {
		request("DELETE", path, NULL, NULL);
		if (o.json)
			print_json_new(json_pack("{s:s}", "deleted", argv[1]));
		else
			printf("deleted the forward of %s\n", argv[1]);
	} else {
		die(EXIT_USAGE, "forward: unknown command '%s'", verb);
	}
}

/* --min-age and --max-age: seconds, as the API takes them (0 to 2^31 - 1). */
static const char *age_opt(const char *name, const char *v)
{
	size_t n = strlen(v);

	if (n == 0 || n > 10 || strspn(v, "0123456789") != n || strtoll(v, NULL, 10) > 2147483647)
		die(EXIT_USAGE, "--%s: '%s' is not a number of seconds", name, v);
	return v;
}

int main(int argc, char **argv)
{
	enum {
		O_URL = 256,
		O_TOKEN,
		O_CONFIG,
		O_CACERT,
		O_TIMEOUT,
		O_JSON,
		O_PASSWORD,
		O_PASSWORD_STDIN,
		O_DISABLED,
		O_ENABLED,
		O_DOMAIN,
		O_USERNAME,
		O_AOR,
		O_NODE,
		O_LIMIT,
		O_URI,
		O_GEO_LOCATION,
		O_HA_PAIR,
		O_NO_HA_PAIR,
		O_ROLE,
		O_WEIGHT,
		O_SIP_SERVER,
		O_MIN_AGE,
		O_MAX_AGE,
		O_ALL,
		O_STATE,
		O_KIND,
		O_MATCH,
		O_PRIORITY,
		O_DESCRIPTION,
		O_FROM,
		O_TO,
		O_CALL_ID,
		O_CALLS,
	};
	static const struct option longopts[] = {
		{"url", required_argument, NULL, O_URL},
		{"token", required_argument, NULL, O_TOKEN},
		{"config", required_argument, NULL, O_CONFIG},
		{"cacert", required_argument, NULL, O_CACERT},
		{"timeout", required_argument, NULL, O_TIMEOUT},
		{"json", no_argument, NULL, O_JSON},
		{"password", required_argument, NULL, O_PASSWORD},
		{"password-stdin", no_argument, NULL, O_PASSWORD_STDIN},
		{"disabled", no_argument, NULL, O_DISABLED},
		{"enabled", no_argument, NULL, O_ENABLED},
		{"disable", no_argument, NULL, O_DISABLED},
		{"enable", no_argument, NULL, O_ENABLED},
		{"domain", required_argument, NULL, O_DOMAIN},
		{"username", required_argument, NULL, O_USERNAME},
		{"aor", required_argument, NULL, O_AOR},
		{"node", required_argument, NULL, O_NODE},
		{"limit", required_argument, NULL, O_LIMIT},
		{"uri", required_argument, NULL, O_URI},
		{"geo-location", required_argument, NULL, O_GEO_LOCATION},
		{"ha-pair", required_argument, NULL, O_HA_PAIR},
		{"no-ha-pair", no_argument, NULL, O_NO_HA_PAIR},
		{"role", required_argument, NULL, O_ROLE},
		{"weight", required_argument, NULL, O_WEIGHT},
		{"sip-server", required_argument, NULL, O_SIP_SERVER},
		{"min-age", required_argument, NULL, O_MIN_AGE},
		{"max-age", required_argument, NULL, O_MAX_AGE},
		{"all", no_argument, NULL, O_ALL},
		{"state", required_argument, NULL, O_STATE},
		{"kind", required_argument, NULL, O_KIND},
		{"match", required_argument, NULL, O_MATCH},
		{"priority", required_argument, NULL, O_PRIORITY},
		{"description", required_argument, NULL, O_DESCRIPTION},
		{"from", required_argument, NULL, O_FROM},
		{"to", required_argument, NULL, O_TO},
		{"call-id", required_argument, NULL, O_CALL_ID},
		{"calls", no_argument, NULL, O_CALLS},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	char *end;
	int c;

	while ((c = getopt_long(argc, argv, "hV", longopts, NULL)) != -1) {
		switch (c) {
		case O_URL:
			o.url = optarg;
			o.url_from = "--url";
			break;
		case O_TOKEN:
			o.token = optarg;
			o.token_from = "--token";
			break;
		case O_CONFIG:
			o.config = optarg;
			break;
		case O_CACERT:
			o.cacert = optarg;
			break;
		case O_TIMEOUT:
			o.timeout = strtol(optarg, &end, 10);
			if (*end || o.timeout < 1 || o.timeout > 3600)
				die(EXIT_USAGE, "--timeout: '%s' is not 1..3600 seconds", optarg);
			break;
		case O_JSON:
			o.json = true;
			break;
		case O_PASSWORD:
			o.password = optarg;
			break;
		case O_PASSWORD_STDIN:
			o.password_stdin = true;
			break;
		case O_DISABLED:
			o.disabled = o.disabled_only = true;
			break;
		case O_ENABLED:
			o.enabled_only = true;
			break;
		case O_DOMAIN:
			o.domain = optarg;
			break;
		case O_USERNAME:
			o.username = optarg;
			break;
		case O_AOR:
			o.aor = optarg;
			break;
		case O_NODE:
			o.node = optarg;
			break;
		case O_LIMIT:
			o.limit = strtol(optarg, &end, 10);
			if (*end || o.limit < 1)
				die(EXIT_USAGE, "--limit: '%s' is not a positive number", optarg);
			break;
		case O_URI:
			o.uri = optarg;
			break;
		case O_GEO_LOCATION:
			o.geo_location = optarg;
			break;
		case O_HA_PAIR:
			o.ha_pair = optarg;
			break;
		case O_NO_HA_PAIR:
			o.no_ha_pair = true;
			break;
		case O_ROLE:
			o.role = optarg;
			break;
		case O_WEIGHT:
			o.weight = strtol(optarg, &end, 10);
			/* 0..10000 for a sip server (srv_body), 0..65535 for a route */
			if (!*optarg || *end || o.weight < 0 || o.weight > 65535)
				die(EXIT_USAGE, "--weight: '%s' is not a number from 0 to 65535",
				    optarg);
			break;
		case O_SIP_SERVER:
			o.sip_server = optarg;
			break;
		case O_MIN_AGE:
			o.min_age = age_opt("min-age", optarg);
			break;
		case O_MAX_AGE:
			o.max_age = age_opt("max-age", optarg);
			break;
		case O_ALL:
			o.all = true;
			break;
		case O_STATE:
			o.state = optarg;
			break;
		case O_KIND:
			o.kind = optarg;
			break;
		case O_MATCH:
			o.match = optarg;
			break;
		case O_PRIORITY:
			o.priority = strtol(optarg, &end, 10);
			if (!*optarg || *end || o.priority < 0 || o.priority > 65535)
				die(EXIT_USAGE, "--priority: '%s' is not a number from 0 to 65535",
				    optarg);
			break;
		case O_DESCRIPTION:
			o.description = optarg;
			break;
		case O_FROM:
			o.from = optarg;
			break;
		case O_TO:
			o.to = optarg;
			break;
		case O_CALL_ID:
			o.call_id = optarg;
			break;
		case O_CALLS:
			o.calls = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("junctionctl %s\n", PACKAGE_VERSION);
			return 0;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (o.password && o.password_stdin)
		die(EXIT_USAGE, "give --password or --password-stdin, not both");
	if (o.enabled_only && o.disabled_only)
		die(EXIT_USAGE, "give --enable(d) or --disable(d), not both");
	if (o.ha_pair && o.no_ha_pair)
		die(EXIT_USAGE, "give --ha-pair or --no-ha-pair, not both");
	resolve_settings();
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		die(EXIT_API, "cannot initialise libcurl");
	if (strcmp(argv[optind], "status") == 0 && optind + 1 == argc)
		cmd_status();
	else if (strcmp(argv[optind], "subscriber") == 0)
		cmd_subscriber(argc - optind - 1, argv + optind + 1);
	else if (strcmp(argv[optind], "binding") == 0)
		cmd_binding(argc - optind - 1, argv + optind + 1);
	else if (strcmp(argv[optind], "sip-server") == 0)
		cmd_sip_server(argc - optind - 1, argv + optind + 1);
	else if (strcmp(argv[optind], "session") == 0)
		cmd_session(argc - optind - 1, argv + optind + 1);
	else if (strcmp(argv[optind], "ban") == 0)
		cmd_ban(argc - optind - 1, argv + optind + 1);
	else if (strcmp(argv[optind], "notifications") == 0)
		cmd_notifications(argc - optind - 1, argv + optind + 1);
	else if (strcmp(argv[optind], "route") == 0)
		cmd_route(argc - optind - 1, argv + optind + 1);
	else if (strcmp(argv[optind], "forward") == 0)
		cmd_forward(argc - optind - 1, argv + optind + 1);
	else if (strcmp(argv[optind], "cdrs") == 0)
		cmd_cdrs(argc - optind - 1, argv + optind + 1);
	else
		die(EXIT_USAGE, "unknown command '%s' (see junctionctl --help)", argv[optind]);
	curl_global_cleanup();
	return 0;
}
