/*
 * admin: see admin.h. This file is the HTTP side: the socket, the MHD
 * daemon and its limits, bearer-token checks, the routing table, request
 * bodies, JSON responses and errors, and the pool of database
 * connections. The resources themselves are in admin_subscribers.c,
 * admin_bindings.c, admin_sip_servers.c, admin_sessions.c and
 * admin_status.c; the web console's files are served by admin_ui.c.
 *
 * MHD calls on_request() several times per request: once when the headers
 * are in (route, token and declared body size are checked there, so a bad
 * request is answered before its body is read), once per piece of body,
 * and once more at the end, when the handler runs. The handler answers
 * synchronously on the MHD thread; it may block on SQL, which only delays
 * the other admin requests of that thread.
 *
 * Tokens are compared with CRYPTO_memcmp after a length check: the time
 * taken says nothing about how much of a wrong token was right.
 */
#include "admin/admin.h"

#include "admin/admin_internal.h"
#include "admin/metrics.h"
#include "base/clock.h"
#include "base/log.h"
#include "config/config.h"
#include "net/netaddr.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define ADMIN_FILE_MAX (1024 * 1024) /* a PEM file or a token file */
#define ADMIN_BACKLOG  64

static const struct config *acfg;
static int listen_fd = -1;
static struct MHD_Daemon *daemon_;
static char token[CFG_TOKEN_MAX];
static size_t token_len;
static char *tls_cert, *tls_key;
static size_t tls_key_len;
static _Atomic bool serving;
static double started_at;

/* One database connection per MHD thread, lent for a request. */
static struct store_admin **pool;
static bool *pool_busy;
static unsigned pool_n;
static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t pool_free = PTHREAD_COND_INITIALIZER;

/* ---- routes ------------------------------------------------------------- */

struct admin_route {
	const char *path; /* exact; with a trailing '/', a prefix taking one key */
	bool open;        /* no token needed: probes, the scraper, the console */
	admin_handler get, post, patch, del;
	const char *allow; /* the Allow header of a 405 */
};

static const struct admin_route routes[] = {
	{"/v1/subscribers", false, admin_subscribers_list, admin_subscribers_create, NULL, NULL,
	 "GET, HEAD, POST"},
	{"/v1/subscribers/", false, admin_subscriber_get, NULL, admin_subscriber_patch,
	 admin_subscriber_delete, "GET, HEAD, PATCH, DELETE"},
	{"/v1/bindings", false, admin_bindings_list, NULL, NULL, admin_bindings_delete,
	 "GET, HEAD, DELETE"},
	{"/v1/bindings/", false, admin_binding_get, NULL, NULL, admin_binding_delete,
	 "GET, HEAD, DELETE"},
	{"/v1/sip-servers", false, admin_sip_servers_list, admin_sip_servers_create, NULL, NULL,
	 "GET, HEAD, POST"},
	{"/v1/sip-servers/", false, admin_sip_server_get, NULL, admin_sip_server_patch,
	 admin_sip_server_delete, "GET, HEAD, PATCH, DELETE"},
	{"/v1/sessions", false, admin_sessions_list, NULL, NULL, NULL, "GET, HEAD"},
	{"/v1/sessions/", false, admin_session_get, NULL, NULL, NULL, "GET, HEAD"},
	{"/v1/bans", false, admin_bans_list, admin_bans_create, NULL, NULL, "GET, HEAD, POST"},
	{"/v1/bans/", false, admin_ban_get, NULL, NULL, admin_ban_delete, "GET, HEAD, DELETE"},
	{"/v1/notifications", false, admin_notifications_list, NULL, NULL, NULL, "GET, HEAD"},
	{"/v1/routes", false, admin_routes_list, admin_routes_create, NULL, NULL,
	 "GET, HEAD, POST"},
	{"/v1/routes/", false, admin_route_get, NULL, NULL, admin_route_delete,
	 "GET, HEAD, PUT, DELETE"},
	{"/v1/forwards", false, admin_forwards_list, NULL, NULL, NULL, "GET, HEAD"},
	{"/v1/forwards/", false, admin_forward_get, NULL, NULL, admin_forward_delete,
	 "GET, HEAD, PUT, DELETE"},
	{"/v1/cdrs", false, admin_cdrs_list, NULL, NULL, NULL, "GET, HEAD"},
	{"/v1/cdrs/calls", false, admin_cdr_calls_list, NULL, NULL, NULL, "GET, HEAD"},
	{"/v1/nodes", false, admin_nodes_list, NULL, NULL, NULL, "GET, HEAD"},
	{"/v1/log", false, admin_log_list, NULL, NULL, NULL, "GET, HEAD"},
	{"/v1/status", false, admin_status, NULL, NULL, NULL, "GET, HEAD"},
	{"/v1/stats", false, admin_stats, NULL, NULL, NULL, "GET, HEAD"},
	{"/v1/openapi.json", false, admin_openapi, NULL, NULL, NULL, "GET, HEAD"},
	{"/metrics", true, admin_metrics, NULL, NULL, NULL, "GET, HEAD"},
	{"/healthz", true, admin_healthz, NULL, NULL, NULL, "GET, HEAD"},
	{"/readyz", true, admin_readyz, NULL, NULL, NULL, "GET, HEAD"},
	/* The web console's files (admin_ui.c): no data in them. */
	{"/ui", true, admin_ui, NULL, NULL, NULL, "GET, HEAD"},
	{"/ui/", true, admin_ui, NULL, NULL, NULL, "GET, HEAD"},
};

#define NROUTES (sizeof(routes) / sizeof(routes[0]))

/* The few routes that take PUT (create or replace), by path. */
static const struct {
	const char *path;
	admin_handler put;
} put_routes[] = {
	{"/v1/routes/", admin_route_put},
	{"/v1/forwards/", admin_forward_put},
};

static admin_handler route_put(const struct admin_route *rt)
{
	for (size_t i = 0; i < sizeof(put_routes) / sizeof(put_routes[0]); i++) {
		if (strcmp(rt->path, put_routes[i].path) == 0)
			return put_routes[i].put;
	}
	return NULL;
}

/* The route of path (one trailing '/' ignored); *rest gets the key of a
 * prefix route. NULL: none. */
static const struct admin_route *route_find(const char *path, const char **rest)
{
	size_t n = strlen(path);

	if (n > 1 && path[n - 1] == '/')
		n--;
	for (size_t i = 0; i < NROUTES; i++) {
		const char *p = routes[i].path;
		size_t pl = strlen(p);

		if (p[pl - 1] != '/') {
			if (n == pl && memcmp(path, p, n) == 0) {
				*rest = "";
				return &routes[i];
			}
		} else if (n > pl && memcmp(path, p, pl) == 0 && !memchr(path + pl, '/', n - pl)) {
			*rest = path + pl;
			return &routes[i];
		}
	}
	return NULL;
}

/* ---- responses ---------------------------------------------------------- */

static void set_body(struct admin_req *r, unsigned status, char *out, size_t len, const char *ctype)
{
	free(r->out);
	r->status = status;
	r->out = out;
	r->out_len = len;
	r->out_static = NULL;
	r->ctype = ctype;
}

void admin_json(struct admin_req *r, unsigned status, json_t *j)
{
	char *s = NULL, *t;
	size_t n;

	if (!j) {
		set_body(r, status, NULL, 0, NULL);
		return;
	}
	s = json_dumps(j, JSON_INDENT(2) | JSON_REAL_PRECISION(10));
	json_decref(j);
	if (!s) {
		set_body(r, 500, NULL, 0, NULL);
		r->out_static =
			"{\"error\": {\"code\": \"internal\", \"message\": \"out of memory\"}}\n";
		r->ctype = "application/json";
		return;
	}
	n = strlen(s);
	t = realloc(s, n + 2);
	if (t) {
		s = t;
		s[n++] = '\n';
		s[n] = '\0';
	}
	set_body(r, status, s, n, "application/json");
}

void admin_text(struct admin_req *r, unsigned status, char *text, size_t len, const char *ctype)
{
	set_body(r, status, text, len, ctype);
}

void admin_error(struct admin_req *r, unsigned status, const char *code, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* The message may quote the request: admin_col_str() keeps it valid
	 * UTF-8 whatever the client sent. */
	admin_json(
		r, status,
		json_pack("{s:{s:s, s:o}}", "error", "code", code, "message", admin_col_str(msg)));
}

void admin_db_error(struct admin_req *r, int err, const char *what)
{
	switch (err) {
	case -ENOENT:
		admin_error(r, 404, ADMIN_E_NOT_FOUND, "no %s", what);
		break;
	case -EEXIST:
		admin_error(r, 409, ADMIN_E_EXISTS, "%s already exists", what);
		break;
	case -EINVAL:
		admin_error(r, 422, ADMIN_E_INVALID_FIELD, "%s: %s", what,
			    store_admin_error(r->db));
		break;
	case -ENOTCONN:
		r->retry_after = true;
		admin_error(r, 503, ADMIN_E_DB_UNAVAILABLE, "the database cannot be reached");
		break;
	case -ECONNRESET:
		r->retry_after = true;
		admin_error(r, 503, ADMIN_E_DB_UNAVAILABLE,
			    "the database connection was lost: the outcome for %s is unknown",
			    what);
		break;
	case -ETIMEDOUT:
		r->retry_after = true;
		admin_error(r, 503, ADMIN_E_DB_UNAVAILABLE,
			    "the database did not answer within %u s", acfg->admin.request_timeout);
		break;
	default:
		admin_error(r, 500, ADMIN_E_INTERNAL,
			    "the database refused the request for %s (%s)", what, strerror(-err));
		break;
	}
}

/* ---- requests ----------------------------------------------------------- */

const char *admin_arg(struct admin_req *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

struct args_check {
	const char *const *allowed;
	const char *bad;
	bool not_utf8; /* bad is known, its value is not UTF-8 */
};

static enum MHD_Result args_iter(void *cls, enum MHD_ValueKind kind, const char *key,
				 const char *value)
{
	struct args_check *c = cls;

	(void)kind;
	for (unsigned i = 0; c->allowed[i]; i++) {
		if (strcmp(key, c->allowed[i]) != 0)
			continue;
		/* Text for the database, which takes UTF-8 only. */
		if (value && !admin_utf8(value)) {
			c->bad = c->allowed[i];
			c->not_utf8 = true;
			return MHD_NO;
		}
		return MHD_YES;
	}
	c->bad = key;
	return MHD_NO;
}

bool admin_utf8(const char *s)
{
	json_t *j = json_string(s);

	json_decref(j);
	return j != NULL;
}

bool admin_args_only(struct admin_req *r, const char *const *allowed)
{
	struct args_check c = {allowed, NULL, false};
	char list[256] = "";

	MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, args_iter, &c);
	if (!c.bad)
		return true;
	if (c.not_utf8) {
		admin_error(r, 400, ADMIN_E_BAD_REQUEST, "the value of %s is not UTF-8 text",
			    c.bad);
		return false;
	}
	for (unsigned i = 0; allowed[i]; i++) {
		strncat(list, i ? ", " : "", sizeof(list) - strlen(list) - 1);
		strncat(list, allowed[i], sizeof(list) - strlen(list) - 1);
	}
	admin_error(r, 400, ADMIN_E_BAD_REQUEST,
		    "unknown query parameter '%.64s' (this accepts: %s)", c.bad,
		    allowed[0] ? list : "none");
	return false;
}

/* The cursor is base64url (no padding) of "id:N": opaque to clients. */
json_t *admin_cursor(int64_t id)
{
	unsigned char raw[32], b64[64];
	int n = snprintf((char *)raw, sizeof(raw), "id:%" PRId64, id);
	int m = EVP_EncodeBlock(b64, raw, n);

	for (int i = 0; i < m; i++) {
		if (b64[i] == '+')
			b64[i] = '-';
		else if (b64[i] == '/')
			b64[i] = '_';
	}
	while (m > 0 && b64[m - 1] == '=')
		m--;
	b64[m] = '\0';
	return json_string((char *)b64);
}

static int cursor_parse(const char *s, int64_t *id)
{
	unsigned char b64[64], raw[64];
	size_t n = strlen(s);
	long long v;
	char *end;
	int m;

	if (n == 0 || n > 40 ||
	    strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		      "0123456789-_") != n)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		b64[i] = s[i] == '-' ? '+' : s[i] == '_' ? '/' : (unsigned char)s[i];
	while (n % 4)
		b64[n++] = '=';
	m = EVP_DecodeBlock(raw, b64, (int)n);
	if (m < 0)
		return -EINVAL;
	/* EVP_DecodeBlock counts the padding as zero bytes. */
	while (m > 0 && raw[m - 1] == '\0')
		m--;
	raw[m] = '\0';
	if (strncmp((char *)raw, "id:", 3) != 0 || raw[3] < '0' || raw[3] > '9')
		return -EINVAL;
	errno = 0;
	v = strtoll((char *)raw + 3, &end, 10);
	if (errno || *end || v < 0)
		return -EINVAL;
	*id = v;
	return 0;
}

bool admin_limit_arg(struct admin_req *r, unsigned max, unsigned *limit)
{
	const char *l = admin_arg(r, "limit");
	unsigned long v;
	char *end;

	*limit = ADMIN_LIMIT_DEFAULT;
	if (!l)
		return true;
	errno = 0;
	v = strtoul(l, &end, 10);
	if (!*l || *end || errno || l[0] == '-' || l[0] == '+' || v < 1 || v > max) {
		admin_error(r, 400, ADMIN_E_BAD_REQUEST,
			    "limit must be a number in 1..%u, not '%.32s'", max, l);
		return false;
	}
	*limit = (unsigned)v;
	return true;
}

bool admin_page(struct admin_req *r, unsigned *limit, int64_t *after_id)
{
	const char *c = admin_arg(r, "cursor");

	*after_id = 0;
	if (!admin_limit_arg(r, ADMIN_LIMIT_MAX, limit))
		return false;
	if (c && cursor_parse(c, after_id) < 0) {
		admin_error(r, 400, ADMIN_E_BAD_REQUEST,
			    "cursor '%.64s' is not one this server gave (use the list's \"next\")",
			    c);
		return false;
	}
	return true;
}

bool admin_aor_arg(struct admin_req *r, const char *name, const char *aor, char *out, size_t cap)
{
	const char *p = aor, *at;
	size_t n;

	if (strncasecmp(p, "sips:", 5) == 0)
		p += 5;
	else if (strncasecmp(p, "sip:", 4) == 0)
		p += 4;
	at = strrchr(p, '@');
	if (!at || at == p || !at[1] || strpbrk(p, " \t<>;") || strlen(p) + 5 > cap) {
		admin_error(r, 400, ADMIN_E_BAD_REQUEST,
			    "%s '%.200s' is not an address of record such as "
			    "sip:alice@example.com",
			    name, aor);
		return false;
	}
	n = (size_t)snprintf(out, cap, "sip:%s", p);
	for (size_t i = n - strlen(at + 1); i < n; i++)
		out[i] = (char)tolower((unsigned char)out[i]);
	return true;
}

json_t *admin_body_object(struct admin_req *r)
{
	json_error_t e;
	json_t *j;

	if (!r->body_len) {
		admin_error(r, 400, ADMIN_E_INVALID_JSON,
			    "the request needs a JSON object as its body");
		return NULL;
	}
	j = json_loadb(r->body, r->body_len, JSON_REJECT_DUPLICATES, &e);
	if (!j) {
		admin_error(r, 400, ADMIN_E_INVALID_JSON,
			    "the body is not valid JSON: %s (line %d, column %d)", e.text, e.line,
			    e.column);
		return NULL;
	}
	if (!json_is_object(j)) {
		json_decref(j);
		admin_error(r, 400, ADMIN_E_INVALID_JSON, "the body must be a JSON object");
		return NULL;
	}
	return j;
}

const char *admin_field_str(struct admin_req *r, json_t *o, const char *name, bool *ok)
{
	json_t *v = json_object_get(o, name);

	*ok = true;
	if (!v)
		return NULL;
	if (!json_is_string(v)) {
		admin_error(r, 422, ADMIN_E_INVALID_FIELD, "%s must be a string", name);
		*ok = false;
		return NULL;
	}
	return json_string_value(v);
}

int admin_field_bool(struct admin_req *r, json_t *o, const char *name)
{
	json_t *v = json_object_get(o, name);

	if (!v)
		return -1;
	if (!json_is_boolean(v)) {
		admin_error(r, 422, ADMIN_E_INVALID_FIELD, "%s must be true or false", name);
		return -2;
	}
	return json_is_true(v);
}

bool admin_fields_only(struct admin_req *r, json_t *o, const char *const *allowed)
{
	const char *key;
	json_t *v;

	json_object_foreach(o, key, v)
	{
		unsigned i;

		(void)v;
		for (i = 0; allowed[i] && strcmp(allowed[i], key) != 0; i++)
			;
		if (!allowed[i]) {
			admin_error(r, 422, ADMIN_E_INVALID_FIELD, "unknown field '%.64s'", key);
			return false;
		}
	}
	return true;
}

bool admin_fields_required(struct admin_req *r, json_t *o, const char *const *required)
{
	for (unsigned i = 0; required[i]; i++) {
		if (!json_object_get(o, required[i])) {
			admin_error(r, 422, ADMIN_E_MISSING_FIELD, "%s is required", required[i]);
			return false;
		}
	}
	return true;
}

struct store_admin *admin_db(struct admin_req *r)
{
	if (r->db)
		return r->db;
	if (!pool_n) {
		admin_error(r, 503, ADMIN_E_DB_UNAVAILABLE,
			    "no [database] is configured: subscribers, bindings, sip "
			    "servers and sessions are off");
		return NULL;
	}
	pthread_mutex_lock(&pool_lock);
	for (;;) {
		for (unsigned i = 0; i < pool_n; i++) {
			if (!pool_busy[i]) {
				pool_busy[i] = true;
				r->db = pool[i];
				pthread_mutex_unlock(&pool_lock);
				return r->db;
			}
		}
		/* As many connections as threads: only a handler that took two
		 * could wait here. */
		pthread_cond_wait(&pool_free, &pool_lock);
	}
}

static void db_release(struct admin_req *r)
{
	if (!r->db)
		return;
	pthread_mutex_lock(&pool_lock);
	for (unsigned i = 0; i < pool_n; i++) {
		if (pool[i] == r->db)
			pool_busy[i] = false;
	}
	pthread_cond_signal(&pool_free);
	pthread_mutex_unlock(&pool_lock);
	r->db = NULL;
}

/* ---- values ------------------------------------------------------------- */

json_t *admin_col_int(const char *v)
{
	return v ? json_integer(strtoll(v, NULL, 10)) : json_null();
}

json_t *admin_col_bool(const char *v)
{
	return v ? json_boolean(v[0] == 't') : json_null();
}

json_t *admin_col_real(const char *v)
{
	return v ? json_real(strtod(v, NULL)) : json_null();
}

json_t *admin_col_str(const char *v)
{
	/* Text from the database is UTF-8 (the server's encoding), but a
	 * User-Agent may hold anything: never fail the whole answer. */
	json_t *j;
	char *copy;

	if (!v)
		return json_null();
	j = json_string(v);
	if (j)
		return j;
	copy = strdup(v);
	if (!copy)
		return json_null();
	for (char *p = copy; *p; p++) {
		if ((unsigned char)*p >= 0x80)
			*p = '?';
	}
	j = json_string(copy);
	free(copy);
	return j ? j : json_null();
}

/* ---- the server --------------------------------------------------------- */

const struct config *admin_config(void)
{
	return acfg;
}

bool admin_serving(void)
{
	return atomic_load(&serving);
}

double admin_started_at(void)
{
	return started_at;
}

void admin_set_serving(bool on)
{
	atomic_store(&serving, on);
}

/* Is the Authorization header "Bearer <our token>"? *given: a header was
 * there at all. */
static bool token_ok(struct admin_req *r, bool *given)
{
	const char *h = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Authorization");
	size_t n;

	*given = h != NULL;
	if (!h)
		return false;
	h += strspn(h, " \t");
	if (strncasecmp(h, "Bearer", 6) != 0 || (h[6] != ' ' && h[6] != '\t'))
		return false;
	h += 6;
	h += strspn(h, " \t");
	n = strlen(h);
	while (n && (h[n - 1] == ' ' || h[n - 1] == '\t'))
		n--;
	return n == token_len && CRYPTO_memcmp(h, token, n) == 0;
}

static void remote_addr(struct admin_req *r)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	struct netaddr a;

	strcpy(r->remote, "-");
	if (!ci || !ci->client_addr)
		return;
	memset(&a, 0, sizeof(a));
	if (ci->client_addr->sa_family == AF_INET)
		a.len = sizeof(a.u.in);
	else if (ci->client_addr->sa_family == AF_INET6)
		a.len = sizeof(a.u.in6);
	else
		return;
	memcpy(&a.u, ci->client_addr, a.len);
	netaddr_format(&a, r->remote, sizeof(r->remote));
}

/* What the headers decide: the route and handler, the token, the size of
 * the body. Leaves r->status 0 when the request may go on. */
static void on_headers(struct admin_req *r)
{
	const struct admin_route *rt;
	const char *cl;
	bool is_v1 = strncmp(r->url, "/v1/", 4) == 0 || strcmp(r->url, "/v1") == 0, given;
	const char *m = r->method;

	rt = route_find(r->url, &r->rest);
	if ((rt && !rt->open) || (!rt && is_v1)) {
		/* Before 404/405, so the paths say nothing to a stranger. */
		if (!token_ok(r, &given)) {
			r->auth_challenge = true;
			r->bad_token = given;
			admin_error(r, 401, ADMIN_E_UNAUTHORIZED,
				    given ? "the bearer token is not valid"
					  : "this needs an Authorization: Bearer TOKEN header");
			return;
		}
	}
	if (!rt) {
		admin_error(r, 404, ADMIN_E_NOT_FOUND, "no resource %.200s (see /v1/openapi.json)",
			    r->url);
		return;
	}
	if (strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0)
		r->fn = rt->get;
	else if (strcmp(m, "POST") == 0)
		r->fn = rt->post;
	else if (strcmp(m, "PATCH") == 0)
		r->fn = rt->patch;
	else if (strcmp(m, "DELETE") == 0)
		r->fn = rt->del;
	else if (strcmp(m, "PUT") == 0)
		r->fn = route_put(rt);
	if (!r->fn) {
		r->allow = rt->allow;
		admin_error(r, 405, ADMIN_E_METHOD, "%.16s is not allowed on %.200s (allowed: %s)",
			    m, r->url, rt->allow);
		return;
	}
	cl = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Content-Length");
	if (cl && strtoull(cl, NULL, 10) > acfg->admin.max_body)
		admin_error(r, 413, ADMIN_E_TOO_LARGE, "the body is larger than %u bytes",
			    acfg->admin.max_body);
}

static void body_append(struct admin_req *r, const char *data, size_t n)
{
	char *b;

	if (r->body_too_large)
		return;
	if (r->body_len + n > acfg->admin.max_body) {
		r->body_too_large = true;
		free(r->body);
		r->body = NULL;
		r->body_len = 0;
		return;
	}
	b = realloc(r->body, r->body_len + n + 1);
	if (!b) {
		r->body_too_large = true;
		return;
	}
	memcpy(b + r->body_len, data, n);
	r->body_len += n;
	b[r->body_len] = '\0';
	r->body = b;
}

static void log_request(const struct admin_req *r)
{
	double ms = (double)(clock_now_ns() - r->t0_ns) / 1e6;
	bool read = strcmp(r->method, "GET") == 0 || strcmp(r->method, "HEAD") == 0;
	enum log_level lvl = r->status == 401          ? LOG_LVL_WARN
			     : read && r->status < 400 ? LOG_LVL_DEBUG
						       : LOG_LVL_INFO;

	if (!log_enabled(lvl))
		return;
	log_msg(lvl, "event=admin_request method=%.16s path=\"%.200s\" status=%u ms=%.1f remote=%s",
		r->method, r->url, r->status, ms, r->remote);
}

static enum MHD_Result send_response(struct admin_req *r)
{
	struct MHD_Response *resp;
	enum MHD_Result ok;
	char ra[16];

	if (r->out_static)
		resp = MHD_create_response_from_buffer(strlen(r->out_static), (void *)r->out_static,
						       MHD_RESPMEM_PERSISTENT);
	else
		resp = MHD_create_response_from_buffer(r->out_len, r->out, MHD_RESPMEM_MUST_FREE);
	if (!resp)
		return MHD_NO;
	if (!r->out_static)
		r->out = NULL; /* MHD frees it */
	if (r->ctype)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r->ctype);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (r->allow)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, r->allow);
	if (r->location[0])
		MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, r->location);
	if (r->auth_challenge)
		MHD_add_response_header(
			resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
			r->bad_token ? "Bearer realm=\"junction\", error=\"invalid_token\""
				     : "Bearer realm=\"junction\"");
	if (r->retry_after) {
		snprintf(ra, sizeof(ra), "%u", acfg->database.retry_after);
		MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, ra);
	}
	for (const char *const *h = r->headers; h && h[0] && h[1]; h += 2)
		MHD_add_response_header(resp, h[0], h[1]);
	ok = MHD_queue_response(r->conn, r->status, resp);
	MHD_destroy_response(resp);
	r->sent = true;
	log_request(r);
	return ok;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload_data,
				  size_t *upload_data_size, void **con_cls)
{
	struct admin_req *r = *con_cls;

	(void)cls;
	(void)version;
	if (!r) {
		r = calloc(1, sizeof(*r));
		if (!r)
			return MHD_NO;
		*con_cls = r;
		r->conn = conn;
		r->method = method;
		r->url = url;
		r->t0_ns = clock_now_ns();
		remote_addr(r);
		on_headers(r);
		/* Answered before the body is read (MHD then closes the
		 * connection instead of reading what was sent). */
		return r->status ? send_response(r) : MHD_YES;
	}
	if (*upload_data_size) {
		/* A body without Content-Length that outgrows max_body is
		 * dropped as it comes (this MHD refuses a response before the
		 * body ends) and answered 413 at its end. */
		body_append(r, upload_data, *upload_data_size);
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (r->sent)
		return MHD_YES;
	if (r->body_too_large) {
		admin_error(r, 413, ADMIN_E_TOO_LARGE, "the body is larger than %u bytes",
			    acfg->admin.max_body);
	} else {
		r->fn(r);
		db_release(r);
		if (!r->status)
			admin_error(r, 500, ADMIN_E_INTERNAL, "no answer");
	}
	return send_response(r);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode why)
{
	struct admin_req *r = *con_cls;

	(void)cls;
	(void)conn;
	(void)why;
	if (!r)
		return;
	db_release(r);
	free(r->body);
	free(r->out);
	free(r);
	*con_cls = NULL;
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

/* MHD's own complaints (bad requests it answers itself, TLS errors). */
static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[256];

	(void)cls;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	for (char *p = msg; *p; p++) {
		if (*p == '"' || *p == '\n' || *p == '\r')
			*p = *p == '"' ? '\'' : ' ';
	}
	log_warn("event=admin_http_error detail=\"%s\"", msg);
}

/* ---- start and stop ----------------------------------------------------- */

/* The whole of a file of at most ADMIN_FILE_MAX bytes, NUL-terminated. */
static char *read_file(const char *path, size_t *len, int *err)
{
	struct stat st;
	char *buf = NULL;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	*err = 0;
	if (fd < 0 || fstat(fd, &st) < 0) {
		*err = -errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > ADMIN_FILE_MAX) {
		*err = -EFBIG;
		goto out;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		*err = -ENOMEM;
		goto out;
	}
	n = read(fd, buf, (size_t)st.st_size);
	if (n < 0) {
		*err = -errno;
		free(buf);
		buf = NULL;
		goto out;
	}
	buf[n] = '\0';
	*len = (size_t)n;
out:
	if (fd >= 0)
		close(fd);
	return buf;
}

/* The token from token_file: its first line, blanks at the end removed;
 * the same rules as [admin] token. */
static int load_token_file(const char *path)
{
	size_t len = 0, n;
	int err;
	char *buf = read_file(path, &len, &err);
	const char *why = NULL;
	struct stat st;

	if (!buf) {
		log_error("event=start_failed error=\"[admin] token_file %s: cannot read it: %s\"",
			  path, err == -EFBIG ? "not a small regular file" : strerror(-err));
		return err;
	}
	n = strcspn(buf, "\r\n");
	while (n && (buf[n - 1] == ' ' || buf[n - 1] == '\t'))
		n--;
	buf[n] = '\0';
	if (n < CFG_TOKEN_MIN || n >= CFG_TOKEN_MAX)
		why = "the token must be 16 to 255 characters long";
	else if (strspn(buf,
			"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/=") !=
		 n)
		why = "only letters, digits and -._~+/= are allowed";
	if (why) {
		log_error("event=start_failed error=\"[admin] token_file %s: %s\"", path, why);
		OPENSSL_cleanse(buf, len);
		free(buf);
		return -EINVAL;
	}
	memcpy(token, buf, n + 1);
	token_len = n;
	OPENSSL_cleanse(buf, len);
	free(buf);
	if (stat(path, &st) == 0 && (st.st_mode & 0007))
		log_warn("event=admin_token_file_readable path=%s detail=\"others can read the "
			 "token: chmod o-rwx it\"",
			 path);
	return 0;
}

static int load_tls(void)
{
	size_t len = 0;
	int err;

	if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
		log_error("event=start_failed error=\"[admin] tls_cert is set but libmicrohttpd "
			  "was built without TLS\"");
		return -ENOTSUP;
	}
	tls_cert = read_file(acfg->admin.tls_cert, &len, &err);
	if (!tls_cert) {
		log_error("event=start_failed error=\"[admin] tls_cert %s: %s\"",
			  acfg->admin.tls_cert, strerror(-err));
		return err;
	}
	tls_key = read_file(acfg->admin.tls_key, &tls_key_len, &err);
	if (!tls_key) {
		log_error("event=start_failed error=\"[admin] tls_key %s: %s\"",
			  acfg->admin.tls_key, strerror(-err));
		return err;
	}
	return 0;
}

static int bind_socket(void)
{
	const struct netaddr *a = &acfg->admin.listen;
	int one = 1, fd, err;

	fd = socket(netaddr_family(a), SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		goto fail;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (netaddr_family(a) == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, &a->u.sa, a->len) < 0 || listen(fd, ADMIN_BACKLOG) < 0)
		goto fail;
	listen_fd = fd;
	return 0;
fail:
	err = -errno;
	if (fd >= 0)
		close(fd);
	log_error("event=start_failed error=\"[admin] listen %s: %s\"", acfg->admin.listen_text,
		  strerror(-err));
	return err;
}

int admin_open(const struct config *cfg)
{
	struct metrics_process p;
	int rc;

	acfg = cfg;
	started_at = metrics_process_read(&p) == 0 && p.start_time_s > 0 ? p.start_time_s
									 : (double)clock_wall_s();
	if (!config_admin_on(cfg)) {
		log_info("event=admin_off detail=\"%s\"",
			 cfg->admin.listen_off ? "[admin] listen = off"
					       : "no [admin] token or token_file: the REST API "
						 "and /metrics are off");
		return 0;
	}
	if (cfg->admin.token_file[0]) {
		rc = load_token_file(cfg->admin.token_file);
		if (rc < 0)
			return rc;
	} else {
		token_len = strlen(cfg->admin.token);
		memcpy(token, cfg->admin.token, token_len + 1);
	}
	if (cfg->admin.tls_cert[0]) {
		rc = load_tls();
		if (rc < 0)
			return rc;
	}
	return bind_socket();
}

int admin_start(void)
{
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ERROR_LOG;
	struct MHD_OptionItem tls[] = {
		{MHD_OPTION_HTTPS_MEM_KEY, 0, tls_key},
		{MHD_OPTION_HTTPS_MEM_CERT, 0, tls_cert},
		{MHD_OPTION_END, 0, NULL},
	};
	unsigned threads = acfg->admin.threads;

	if (listen_fd < 0)
		return 0;
	if (acfg->database.conninfo[0]) {
		pool = calloc(threads, sizeof(*pool));
		pool_busy = calloc(threads, sizeof(*pool_busy));
		if (!pool || !pool_busy)
			goto nomem;
		for (pool_n = 0; pool_n < threads; pool_n++) {
			pool[pool_n] = store_admin_new(acfg->database.conninfo,
						       acfg->admin.request_timeout);
			if (!pool[pool_n])
				goto nomem;
		}
	}
	if (tls_cert)
		flags |= MHD_USE_TLS;
	/* The logger first, so that MHD reports problems with the options
	 * after it through our log. */
	daemon_ = MHD_start_daemon(
		flags, 0, NULL, NULL, on_request, NULL, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log,
		NULL, MHD_OPTION_LISTEN_SOCKET, listen_fd, MHD_OPTION_THREAD_POOL_SIZE, threads,
		MHD_OPTION_CONNECTION_LIMIT, acfg->admin.max_connections,
		MHD_OPTION_CONNECTION_TIMEOUT, acfg->admin.request_timeout,
		MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL, MHD_OPTION_ARRAY,
		tls_cert ? tls : &tls[2], MHD_OPTION_END);
	if (!daemon_) {
		log_error("event=start_failed error=\"[admin] the HTTP server did not start\"");
		return -EIO;
	}
	log_info("event=admin_listening listen=%s tls=%s threads=%u", acfg->admin.listen_text,
		 tls_cert ? "yes" : "no", threads);
	return 0;
nomem:
	log_error("event=start_failed error=\"admin: out of memory\"");
	return -ENOMEM;
}

void admin_stop(void)
{
	atomic_store(&serving, false);
	if (daemon_) {
		/* Closes the listening socket too. */
		MHD_stop_daemon(daemon_);
		daemon_ = NULL;
		listen_fd = -1;
	}
	if (listen_fd >= 0) {
		close(listen_fd);
		listen_fd = -1;
	}
	for (unsigned i = 0; i < pool_n; i++)
		store_admin_free(pool[i]);
	free(pool);
	free(pool_busy);
	pool = NULL;
	pool_busy = NULL;
	pool_n = 0;
	free(tls_cert);
	if (tls_key)
		OPENSSL_cleanse(tls_key, tls_key_len);
	free(tls_key);
	tls_cert = tls_key = NULL;
	OPENSSL_cleanse(token, sizeof(token));
	token_len = 0;
}
