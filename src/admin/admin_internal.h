/*
 * admin_internal: what the admin server's files share (admin.c and the
 * resource files admin_subscribers.c, admin_bindings.c,
 * admin_sip_servers.c, admin_sessions.c, admin_status.c);
 * nothing outside them includes it.
 *
 * A handler gets the request (struct admin_req) once its whole body has
 * arrived and answers by setting a response with admin_json(),
 * admin_text() or admin_error(); admin.c sends it. Errors have one shape
 * everywhere:
 *
 *   {"error": {"code": "not_found", "message": "no subscriber alice@example.com"}}
 *
 * where code is one of the ADMIN_E_* strings below and message is for
 * people.
 */
#ifndef JCT_ADMIN_INTERNAL_H
#define JCT_ADMIN_INTERNAL_H

#include "store/store_admin.h"

#include <jansson.h>
#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct config;

/* Error codes of the JSON error body (listed in admin/openapi.json). */
#define ADMIN_E_BAD_REQUEST    "bad_request"          /* 400: a query parameter */
#define ADMIN_E_INVALID_JSON   "invalid_json"         /* 400: the body is not a JSON object */
#define ADMIN_E_UNAUTHORIZED   "unauthorized"         /* 401 */
#define ADMIN_E_NOT_FOUND      "not_found"            /* 404 */
#define ADMIN_E_METHOD         "method_not_allowed"   /* 405 */
#define ADMIN_E_EXISTS         "already_exists"       /* 409 */
#define ADMIN_E_TOO_LARGE      "body_too_large"       /* 413 */
#define ADMIN_E_INVALID_FIELD  "invalid_field"        /* 422: a field's value */
#define ADMIN_E_MISSING_FIELD  "missing_field"        /* 422 */
#define ADMIN_E_INTERNAL       "internal"             /* 500 */
#define ADMIN_E_DB_UNAVAILABLE "database_unavailable" /* 503 */

/* Largest page of a list, and the default. */
#define ADMIN_LIMIT_MAX     1000
#define ADMIN_LIMIT_DEFAULT 100

/* Room for an AOR in stored form (admin_aor_arg). */
#define ADMIN_AOR_MAX 520

struct admin_req;
typedef void (*admin_handler)(struct admin_req *r);

struct admin_req {
	struct MHD_Connection *conn;
	const char *method; /* MHD's, valid for the request */
	const char *url;    /* the path, %-decoded by MHD */
	const char *rest;   /* after a route prefix ("alice@example.com"), else "" */
	char *body;         /* NUL-terminated */
	size_t body_len;
	bool body_too_large;
	uint64_t t0_ns;
	char remote[64];
	admin_handler fn; /* the route's handler for the method */
	bool sent;        /* a response is queued */

	/* The response. */
	unsigned status; /* 0: none yet */
	char *out;       /* malloc'ed body */
	size_t out_len;
	const char *out_static; /* or a static one */
	const char *ctype;
	const char *allow;          /* 405: the Allow header */
	char location[512];         /* 201: the Location header */
	bool auth_challenge;        /* 401: WWW-Authenticate */
	bool bad_token;             /* ... with error="invalid_token" */
	bool retry_after;           /* 503: Retry-After */
	const char *const *headers; /* more headers: name, value, ..., NULL */

	struct store_admin *db; /* borrowed from the pool by admin_db() */
};

/* The configuration the server runs with. */
const struct config *admin_config(void);
/* Are the SIP listeners up (admin_set_serving)? */
bool admin_serving(void);
/* Unix time the server started (process start when /proc tells it). */
double admin_started_at(void);

/* ---- responses ---------------------------------------------------------- */

/* status with j as the body (takes j; NULL: no body, as for 204). */
void admin_json(struct admin_req *r, unsigned status, json_t *j);
/* status with a text body (takes text, malloc'ed) of type ctype. */
void admin_text(struct admin_req *r, unsigned status, char *text, size_t len, const char *ctype);
/* status with the error body {"error": {"code", "message"}}. */
void admin_error(struct admin_req *r, unsigned status, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Answers a store_admin error: 404 -ENOENT, 409 -EEXIST, 422 -EINVAL
 * (with store_admin_error()'s reason), 503 when the database is
 * unreachable or timed out, 500 otherwise. what names the thing, for the
 * message ("subscriber alice@example.com"). */
void admin_db_error(struct admin_req *r, int err, const char *what);

/* ---- requests ----------------------------------------------------------- */

/* A query parameter, or NULL. */
const char *admin_arg(struct admin_req *r, const char *name);
/* Is s valid UTF-8 (what PostgreSQL and JSON take)? */
bool admin_utf8(const char *s);
/* Refuses (400) any query parameter not in allowed (NULL-terminated), and
 * allowed ones whose value is not UTF-8. Returns false when it answered. */
bool admin_args_only(struct admin_req *r, const char *const *allowed);
/* ?limit= into *limit: 1..max, ADMIN_LIMIT_DEFAULT when absent. Returns
 * false when it answered (400). */
bool admin_limit_arg(struct admin_req *r, unsigned max, unsigned *limit);
/* limit and cursor of a list. Returns false when it answered (400). */
bool admin_page(struct admin_req *r, unsigned *limit, int64_t *after_id);
/* The opaque cursor for the page after id. */
json_t *admin_cursor(int64_t id);
/* The query parameter name, an AOR (sip:user@domain, sips:user@domain or
 * user@domain), into out as the registrar and the proxy store AORs:
 * "sip:", the user as written, the domain in lowercase. Returns false
 * when it answered 400 (not an AOR). */
bool admin_aor_arg(struct admin_req *r, const char *name, const char *aor, char *out, size_t cap);
/* The body as a JSON object (new reference), or NULL when it answered
 * 400. */
json_t *admin_body_object(struct admin_req *r);
/* Refuses (422) members of o not in allowed. Returns false when it
 * answered. */
bool admin_fields_only(struct admin_req *r, json_t *o, const char *const *allowed);
/* Refuses (422) an o that lacks a member of required. Returns false when
 * it answered. */
bool admin_fields_required(struct admin_req *r, json_t *o, const char *const *required);
/* The string member name of o (borrowed from o): NULL with *ok true when
 * absent, NULL with *ok false when it answered 422 (not a string). */
const char *admin_field_str(struct admin_req *r, json_t *o, const char *name, bool *ok);
/* The boolean member name of o: -1 absent, 0, 1; -2 when it answered 422. */
int admin_field_bool(struct admin_req *r, json_t *o, const char *name);

/* A database connection for the rest of the request, or NULL when it
 * answered 503 (no [database]). */
struct store_admin *admin_db(struct admin_req *r);

/* ---- values ------------------------------------------------------------- */

/* JSON of a column: integer, boolean, number or string; null for NULL. */
json_t *admin_col_int(const char *v);
json_t *admin_col_bool(const char *v);
json_t *admin_col_real(const char *v);
json_t *admin_col_str(const char *v);

/* ---- resources ---------------------------------------------------------- */

void admin_subscribers_list(struct admin_req *r);
void admin_subscribers_create(struct admin_req *r);
void admin_subscriber_get(struct admin_req *r);
void admin_subscriber_patch(struct admin_req *r);
void admin_subscriber_delete(struct admin_req *r);

void admin_bindings_list(struct admin_req *r);
void admin_bindings_delete(struct admin_req *r);
void admin_binding_get(struct admin_req *r);
void admin_binding_delete(struct admin_req *r);

void admin_sip_servers_list(struct admin_req *r);
void admin_sip_servers_create(struct admin_req *r);
void admin_sip_server_get(struct admin_req *r);
void admin_sip_server_patch(struct admin_req *r);
void admin_sip_server_delete(struct admin_req *r);

void admin_sessions_list(struct admin_req *r);
void admin_session_get(struct admin_req *r);

void admin_bans_list(struct admin_req *r);
void admin_bans_create(struct admin_req *r);
void admin_ban_get(struct admin_req *r);
void admin_ban_delete(struct admin_req *r);

void admin_notifications_list(struct admin_req *r);

void admin_routes_list(struct admin_req *r);
void admin_routes_create(struct admin_req *r);
void admin_route_get(struct admin_req *r);
void admin_route_put(struct admin_req *r);
void admin_route_delete(struct admin_req *r);
void admin_forwards_list(struct admin_req *r);
void admin_forward_get(struct admin_req *r);
void admin_forward_put(struct admin_req *r);
void admin_forward_delete(struct admin_req *r);

void admin_cdrs_list(struct admin_req *r);
void admin_cdr_calls_list(struct admin_req *r);

void admin_nodes_list(struct admin_req *r);
void admin_log_list(struct admin_req *r);

void admin_status(struct admin_req *r);
void admin_stats(struct admin_req *r);
void admin_metrics(struct admin_req *r);
void admin_healthz(struct admin_req *r);
void admin_readyz(struct admin_req *r);
void admin_openapi(struct admin_req *r);

/* The OpenAPI document (admin/openapi.json), compiled in. */
extern const char admin_openapi_json[];
extern const unsigned long admin_openapi_json_len;

/* The web console at /ui/ (admin_ui.c): the files of admin/ui/, compiled
 * in by admin/embed-ui.sh. */
void admin_ui(struct admin_req *r);
struct admin_ui_file {
	const char *name;          /* "app.js" */
	const char *ctype;         /* the Content-Type, with its charset */
	const unsigned char *data; /* len bytes, then a NUL */
	unsigned long len;
};
extern const struct admin_ui_file admin_ui_files[];
extern const unsigned admin_ui_files_n;

#endif
