/*
 * admin_routes: /v1/routes and /v1/forwards, the static routes and the
 * call forwards unconditional (sql/007_routes.sql).
 *
 *   GET    /v1/routes?kind=&match=&limit=&cursor=
 *   POST   /v1/routes          {"kind", "match", "next_hop", "priority"?, "weight"?,
 *                                "enabled"?, "description"?}
 *   GET    /v1/routes/ID
 *   PUT    /v1/routes/ID       the same body: the whole route is replaced
 *   DELETE /v1/routes/ID
 *   GET    /v1/forwards?domain=&limit=&cursor=
 *   GET    /v1/forwards/USER@DOMAIN
 *   PUT    /v1/forwards/USER@DOMAIN   {"target", "enabled"?, "description"?}:
 *                                     created (201) or replaced (200)
 *   DELETE /v1/forwards/USER@DOMAIN
 *
 * Every write reaches every node within a second through the tables'
 * NOTIFY triggers (proxy/statroute.c, callfwd.c reload them whole); the
 * answers show the rows as stored, not what a node has loaded
 * (junction_routes_loaded and junction_forwards_loaded in /metrics say
 * that).
 *
 * What is accepted (422 otherwise), checked here before any SQL with the
 * parsers the nodes use: kind is domain, prefix or outbound; a prefix's
 * match is 1 to 15 digits (an E.164 number's start, without '+'), a
 * domain's a host name (lowercased); next_hop a sip: or sips: URI
 * without a user part or headers, or host, host:port, address[:port],
 * which become "sip:" and it; priority and weight integers from 0 to
 * 65535 (defaults 0 and 1); description at most 256 characters or null.
 * A forward's AOR is USER@DOMAIN (or sip:USER@DOMAIN), its domain one of
 * [sip] domain, and its target a sip: or sips: URI without headers that
 * is not the AOR itself. The same next hop twice for one match is 409.
 */
#include "admin/admin_internal.h"

#include "config/config.h"
#include "sip/sip_uri.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define RT_DOMAIN_MAX 253
#define RT_PREFIX_MAX 15
#define RT_URI_MAX    255
#define RT_INT_MAX    65535
#define RT_DESC_MAX   256 /* characters */
#define FWD_USER_MAX  255
#define FWD_AOR_MAX   320

/* The characters of a forward's user part: RFC 3261's user without
 * escapes, ';' and '?' (which would end it in a URI). */
static const char fwd_user_chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
				     "0123456789-_.!~*'()&=+$,/";

static void lower(char *s)
{
	for (; *s; s++)
		*s = (char)tolower((unsigned char)*s);
}

/* Query argument name, if given, lowercased into buf (RT_DOMAIN_MAX + 1
 * bytes), *out pointing to it (left alone when absent). Returns false
 * once it answered 400 (too long). */
static bool lower_arg(struct admin_req *r, const char *name, char *buf, const char **out)
{
	const char *v = admin_arg(r, name);

	if (!v)
		return true;
	if (strlen(v) > RT_DOMAIN_MAX) {
		admin_error(r, 400, ADMIN_E_BAD_REQUEST, "%s is longer than %d characters", name,
			    RT_DOMAIN_MAX);
		return false;
	}
	snprintf(buf, RT_DOMAIN_MAX + 1, "%s", v);
	lower(buf);
	*out = buf;
	return true;
}

/* Is d (lowercase) a host name or IPv4 address, as the table's
 * junction_is_domain() says: labels of letters, digits and '-', neither
 * first nor last, 1 to 63 long, joined by dots? */
static bool domain_ok(const char *d)
{
	size_t n = strlen(d), label = 0;

	if (n == 0 || n > RT_DOMAIN_MAX)
		return false;
	for (size_t i = 0; i <= n; i++) {
		char c = d[i];

		if (c == '.' || c == '\0') {
			if (label == 0 || label > 63 || d[i - 1] == '-')
				return false;
			label = 0;
		} else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
			   (c == '-' && label > 0)) {
			label++;
		} else {
			return false;
		}
	}
	return true;
}

/* Characters (not bytes) of UTF-8 text, as PostgreSQL's length() counts. */
static size_t utf8_chars(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

/* ---- fields -------------------------------------------------------------- */

/* An integer member of b from 0 to RT_INT_MAX, dflt when absent; false
 * when it answered 422. */
static bool int_field(struct admin_req *r, json_t *b, const char *name, int dflt, int *out)
{
	json_t *v = json_object_get(b, name);

	*out = dflt;
	if (!v)
		return true;
	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    json_integer_value(v) > RT_INT_MAX) {
		admin_error(r, 422, ADMIN_E_INVALID_FIELD, "%s must be an integer from 0 to %d",
			    name, RT_INT_MAX);
		return false;
	}
	*out = (int)json_integer_value(v);
	return true;
}

/* description: a string of at most RT_DESC_MAX characters, or null or
 * absent (NULL). false when it answered 422. */
static bool desc_field(struct admin_req *r, json_t *b, const char **out)
{
	json_t *v = json_object_get(b, "description");

	*out = NULL;
	if (!v || json_is_null(v))
		return true;
	if (!json_is_string(v) || utf8_chars(json_string_value(v)) > RT_DESC_MAX ||
	    strlen(json_string_value(v)) != json_string_length(v)) {
		admin_error(r, 422, ADMIN_E_INVALID_FIELD,
			    "description must be a string of at most %d characters, or null",
			    RT_DESC_MAX);
		return false;
	}
	*out = json_string_value(v);
	return true;
}

/* NULL when u (a URI with its scheme) may be a next hop, else why not. */
static const char *hop_problem(const char *u)
{
	struct sip_uri p;
	size_t n = strlen(u);

	if (n > RT_URI_MAX)
		return "must be at most 255 characters long";
	for (const char *c = u; *c; c++) {
		if ((unsigned char)*c <= ' ' || *c == 0x7f)
			return "may not hold blanks or control characters";
	}
	if (strchr(u, '@'))
		return "names a host, not a user: no user part ('@')";
	if (sip_uri_parse((struct sip_str){u, n}, &p) < 0 ||
	    (p.scheme != SIP_URI_SIP && p.scheme != SIP_URI_SIPS))
		return "is not a SIP URI (sip:HOST[:PORT][;PARAMS], or HOST[:PORT])";
	if (p.headers.len)
		return "may not have headers ('?')";
	return NULL;
}

/* next_hop v into out ("sip:" in front of a bare host[:port]); false
 * when it answered 422. */
static bool next_hop(struct admin_req *r, const char *v, char *out, size_t cap)
{
	bool scheme = strncasecmp(v, "sip:", 4) == 0 || strncasecmp(v, "sips:", 5) == 0;
	size_t n = strlen(v) + (scheme ? 0 : 4);
	const char *why;

	if (!v[0]) {
		admin_error(r, 422, ADMIN_E_INVALID_FIELD, "next_hop is empty");
		return false;
	}
	if (n > RT_URI_MAX || n >= cap) {
		why = "must be at most 255 characters long (with sip: in front)";
	} else {
		snprintf(out, cap, "%s%s", scheme ? "" : "sip:", v);
		why = hop_problem(out);
	}
	if (why) {
		admin_error(r, 422, ADMIN_E_INVALID_FIELD, "next_hop '%.300s' %s", v, why);
		return false;
	}
	return true;
}

/* match for kind into out (lowercased for a domain); false when it
 * answered 422. */
static bool match_field(struct admin_req *r, const char *kind, const char *v, char *out, size_t cap)
{
	size_t n = strlen(v);

	if (strcmp(kind, "prefix") == 0) {
		if (n == 0 || n > RT_PREFIX_MAX || strspn(v, "0123456789") != n) {
			admin_error(r, 422, ADMIN_E_INVALID_FIELD,
				    "match of a prefix route must be 1 to %d digits (the start of "
				    "an E.164 number, without '+'), not '%.64s'",
				    RT_PREFIX_MAX, v);
			return false;
		}
		snprintf(out, cap, "%s", v);
		return true;
	}
	if (n >= cap) {
		out[0] = '\0';
	} else {
		snprintf(out, cap, "%s", v);
		lower(out);
	}
	if (!domain_ok(out)) {
		admin_error(r, 422, ADMIN_E_INVALID_FIELD,
			    "match of a %s route must be a host name (labels of letters, digits "
			    "and '-', at most 253 characters), not '%.300s'",
			    kind, v);
		return false;
	}
	return true;
}

/* The body of a POST or PUT into *s (match and hop: buffers for the
 * normalised values). false when it answered. */
static bool route_body(struct admin_req *r, json_t *b, struct sa_rt_set *s, char *match,
		       size_t match_cap, char *hop, size_t hop_cap)
{
	static const char *const fields[] = {"kind",   "match",   "next_hop",    "priority",
					     "weight", "enabled", "description", NULL};
	static const char *const required[] = {"kind", "match", "next_hop", NULL};
	const char *v;
	int enabled;
	bool ok;

	if (!admin_fields_only(r, b, fields) || !admin_fields_required(r, b, required))
		return false;
	s->kind = admin_field_str(r, b, "kind", &ok);
	if (!ok)
		return false;
	if (strcmp(s->kind, "domain") != 0 && strcmp(s->kind, "prefix") != 0 &&
	    strcmp(s->kind, "outbound") != 0) {
		admin_error(r, 422, ADMIN_E_INVALID_FIELD,
			    "kind must be domain, prefix or outbound, not '%.64s'", s->kind);
		return false;
	}
	v = admin_field_str(r, b, "match", &ok);
	if (!ok || !match_field(r, s->kind, v, match, match_cap))
		return false;
	s->match = match;
	v = admin_field_str(r, b, "next_hop", &ok);
	if (!ok || !next_hop(r, v, hop, hop_cap))
		return false;
	s->next_hop = hop;
	if (!int_field(r, b, "priority", 0, &s->priority) ||
	    !int_field(r, b, "weight", 1, &s->weight) || !desc_field(r, b, &s->description))
		return false;
	enabled = admin_field_bool(r, b, "enabled");
	if (enabled == -2)
		return false;
	s->enabled = enabled != 0;
	return true;
}

/* ---- routes -------------------------------------------------------------- */

static json_t *route_json(const struct sa_rows *rows, unsigned i)
{
#define COL(c) sa_rows_get(rows, i, c)
	return json_pack(
		"{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "id",
		admin_col_int(COL(SA_RT_ID)), "kind", admin_col_str(COL(SA_RT_KIND)), "match",
		admin_col_str(COL(SA_RT_MATCH)), "next_hop", admin_col_str(COL(SA_RT_NEXT_HOP)),
		"priority", admin_col_int(COL(SA_RT_PRIORITY)), "weight",
		admin_col_int(COL(SA_RT_WEIGHT)), "enabled", admin_col_bool(COL(SA_RT_ENABLED)),
		"description", admin_col_str(COL(SA_RT_DESCRIPTION)), "created_at",
		admin_col_str(COL(SA_RT_CREATED_AT)), "updated_at",
		admin_col_str(COL(SA_RT_UPDATED_AT)));
#undef COL
}

/* Answers a page of rows (limit + 1 were asked for: one more says there
 * is a next page, whose cursor is the id in column id_col); takes rows. */
static void page_reply(struct admin_req *r, struct sa_rows *rows, unsigned limit, unsigned id_col,
		       json_t *(*to_json)(const struct sa_rows *rows, unsigned i))
{
	unsigned n = sa_rows_count(rows);
	json_t *items = json_array(), *next = NULL;

	for (unsigned i = 0; i < n && i < limit; i++)
		json_array_append_new(items, to_json(rows, i));
	if (n > limit)
		next = admin_cursor(strtoll(sa_rows_get(rows, limit - 1, id_col), NULL, 10));
	sa_rows_free(rows);
	admin_json(r, 200,
		   json_pack("{s:o, s:o}", "items", items, "next", next ? next : json_null()));
}

/* ID of the path; false when it answered 404. */
static bool route_key(struct admin_req *r, int64_t *id)
{
	size_t n = strlen(r->rest);

	if (n == 0 || n > 18 || strspn(r->rest, "0123456789") != n ||
	    (*id = strtoll(r->rest, NULL, 10)) <= 0) {
		admin_error(r, 404, ADMIN_E_NOT_FOUND,
			    "no route '%.200s': the path is /v1/routes/ID (see GET /v1/routes)",
			    r->rest);
		return false;
	}
	return true;
}

/* A store error for a write of s: 409 says which hop was there already. */
static void route_db_error(struct admin_req *r, int err, const struct sa_rt_set *s,
			   const char *what)
{
	if (err == -EEXIST) {
		admin_error(r, 409, ADMIN_E_EXISTS, "%s route %s -> %s: %s", s->kind, s->match,
			    s->next_hop, store_admin_error(r->db));
		return;
	}
	admin_db_error(r, err, what);
}

void admin_routes_list(struct admin_req *r)
{
	static const char *const args[] = {"limit", "cursor", "kind", "match", NULL};
	struct sa_rt_filter f = {0};
	struct store_admin *db;
	struct sa_rows *rows = NULL;
	char match[RT_DOMAIN_MAX + 1];
	unsigned limit;
	int rc;

	if (!admin_args_only(r, args) || !admin_page(r, &limit, &f.after_id))
		return;
	f.kind = admin_arg(r, "kind");
	if (f.kind && strcmp(f.kind, "domain") != 0 && strcmp(f.kind, "prefix") != 0 &&
	    strcmp(f.kind, "outbound") != 0) {
		admin_error(r, 400, ADMIN_E_BAD_REQUEST,
			    "kind must be domain, prefix or outbound, not '%.32s'", f.kind);
		return;
	}
	/* as stored: lowercase (digits are unchanged) */
	if (!lower_arg(r, "match", match, &f.match))
		return;
	f.limit = limit + 1; /* one more says whether there is a next page */
	db = admin_db(r);
	if (!db)
		return;
	rc = store_admin_routes(db, &f, &rows);
	if (rc < 0) {
		admin_db_error(r, rc, "routes");
		return;
	}
	page_reply(r, rows, limit, SA_RT_ID, route_json);
}

void admin_routes_create(struct admin_req *r)
{
	json_t *b = admin_body_object(r);
	char match[RT_DOMAIN_MAX + 1], hop[RT_URI_MAX + 1];
	struct sa_rt_set s = {0};
	struct store_admin *db;
	struct sa_rows *rows = NULL;
	int rc;

	if (!b || !route_body(r, b, &s, match, sizeof(match), hop, sizeof(hop)))
		goto out;
	db = admin_db(r);
	if (!db)
		goto out;
	rc = store_admin_route_add(db, &s, &rows);
	if (rc < 0) {
		route_db_error(r, rc, &s, "route");
		goto out;
	}
	snprintf(r->location, sizeof(r->location), "/v1/routes/%s", sa_rows_get(rows, 0, SA_RT_ID));
	admin_json(r, 201, route_json(rows, 0));
	sa_rows_free(rows);
out:
	json_decref(b);
}

void admin_route_get(struct admin_req *r)
{
	struct store_admin *db;
	struct sa_rows *rows = NULL;
	char what[48];
	int64_t id;
	int rc;

	if (!admin_args_only(r, (const char *const[]){NULL}) || !route_key(r, &id))
		return;
	db = admin_db(r);
	if (!db)
		return;
	rc = store_admin_route(db, id, &rows);
	if (rc < 0) {
		snprintf(what, sizeof(what), "route %" PRId64, id);
		admin_db_error(r, rc, what);
		return;
	}
	admin_json(r, 200, route_json(rows, 0));
	sa_rows_free(rows);
}

void admin_route_put(struct admin_req *r)
{
	char match[RT_DOMAIN_MAX + 1], hop[RT_URI_MAX + 1], what[48];
	struct sa_rt_set s = {0};
	struct store_admin *db;
	struct sa_rows *rows = NULL;
	json_t *b = NULL;
	int64_t id;
	int rc;

	if (!admin_args_only(r, (const char *const[]){NULL}) || !route_key(r, &id))
		return;
	b = admin_body_object(r);
	if (!b || !route_body(r, b, &s, match, sizeof(match), hop, sizeof(hop)))
		goto out;
	db = admin_db(r);
	if (!db)
		goto out;
	rc = store_admin_route_update(db, id, &s, &rows);
	if (rc < 0) {
		snprintf(what, sizeof(what), "route %" PRId64, id);
		route_db_error(r, rc, &s, what);
		goto out;
	}
	admin_json(r, 200, route_json(rows, 0));
	sa_rows_free(rows);
out:
	json_decref(b);
}

void admin_route_delete(struct admin_req *r)
{
	struct store_admin *db;
	char what[48];
	int64_t id;
	int rc;

	if (!admin_args_only(r, (const char *const[]){NULL}) || !route_key(r, &id))
		return;
	db = admin_db(r);
	if (!db)
		return;
	rc = store_admin_route_del(db, id);
	if (rc < 0) {
		snprintf(what, sizeof(what), "route %" PRId64, id);
		admin_db_error(r, rc, what);
		return;
	}
	admin_json(r, 204, NULL);
}

/* ---- forwards ------------------------------------------------------------ */

static json_t *forward_json(const struct sa_rows *rows, unsigned i)
{
#define COL(c) sa_rows_get(rows, i, c)
	return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o}", "aor", admin_col_str(COL(SA_FWD_AOR)),
			 "target", admin_col_str(COL(SA_FWD_TARGET)), "enabled",
			 admin_col_bool(COL(SA_FWD_ENABLED)), "description",
			 admin_col_str(COL(SA_FWD_DESCRIPTION)), "created_at",
			 admin_col_str(COL(SA_FWD_CREATED_AT)), "updated_at",
			 admin_col_str(COL(SA_FWD_UPDATED_AT)));
#undef COL
}

/* The AOR of the path (USER@DOMAIN or sip:USER@DOMAIN) into aor as
 * stored: user@domain, the domain in lowercase. false when it is none;
 * *at_domain then points at the domain in aor. */
static bool forward_aor(const char *in, char *aor, size_t cap, const char **at_domain)
{
	const char *p = in, *at;
	size_t ul;

	if (strncasecmp(p, "sips:", 5) == 0)
		p += 5;
	else if (strncasecmp(p, "sip:", 4) == 0)
		p += 4;
	at = strrchr(p, '@');
	ul = at ? (size_t)(at - p) : 0;
	if (!at || ul == 0 || ul > FWD_USER_MAX || strspn(p, fwd_user_chars) != ul ||
	    strlen(p) > FWD_AOR_MAX || strlen(p) >= cap)
		return false;
	strcpy(aor, p);
	lower(aor + ul + 1);
	*at_domain = aor + ul + 1;
	return domain_ok(*at_domain);
}

/* The path's AOR into aor, or a 404 (GET, DELETE: no such forward can
 * exist) and false. */
static bool forward_key(struct admin_req *r, char *aor, size_t cap)
{
	const char *d;

	if (!forward_aor(r->rest, aor, cap, &d)) {
		admin_error(r, 404, ADMIN_E_NOT_FOUND,
			    "no forward '%.200s': the path is /v1/forwards/USER@DOMAIN", r->rest);
		return false;
	}
	return true;
}

/* NULL when t may be the target of aor's forward, else why not. */
static const char *target_problem(const char *t, const char *aor)
{
	const char *at = strrchr(aor, '@');
	struct sip_uri u;
	size_t n = strlen(t);

	if (n == 0 || n > RT_URI_MAX)
		return "must be 1 to 255 characters long";
	if (strncasecmp(t, "sip:", 4) != 0 && strncasecmp(t, "sips:", 5) != 0)
		return "must be a sip: or sips: URI";
	for (const char *c = t; *c; c++) {
		if ((unsigned char)*c <= ' ' || *c == 0x7f || *c == '<' || *c == '>' || *c == '"')
			return "may not hold blanks, control characters, '<', '>' or '\"'";
	}
	if (sip_uri_parse((struct sip_str){t, n}, &u) < 0 ||
	    (u.scheme != SIP_URI_SIP && u.scheme != SIP_URI_SIPS))
		return "is not a SIP URI (sip:[USER@]HOST[:PORT][;PARAMS])";
	if (u.headers.len)
		return "may not have headers ('?')";
	if (u.has_user && !u.port &&
	    sip_str_eq(u.user, (struct sip_str){aor, (size_t)(at - aor)}) &&
	    sip_str_caseeq_cstr(u.host, at + 1))
		return "is the AOR itself (a loop)";
	return NULL;
}

/* The Location of aor: /v1/forwards/ and it, %-encoding what is not
 * unreserved. */
static void forward_location(struct admin_req *r, const char *aor)
{
	size_t n = (size_t)snprintf(r->location, sizeof(r->location), "/v1/forwards/");

	for (const char *p = aor; *p && n + 4 < sizeof(r->location); p++) {
		unsigned char c = (unsigned char)*p;

		if (isalnum(c) || strchr("-_.~@", c))
			r->location[n++] = (char)c;
		else
			n += (size_t)snprintf(r->location + n, 4, "%%%02X", c);
	}
	r->location[n] = '\0';
}

void admin_forwards_list(struct admin_req *r)
{
	static const char *const args[] = {"limit", "cursor", "domain", NULL};
	struct sa_fwd_filter f = {0};
	struct store_admin *db;
	struct sa_rows *rows = NULL;
	char domain[RT_DOMAIN_MAX + 1];
	unsigned limit;
	int rc;

	if (!admin_args_only(r, args) || !admin_page(r, &limit, &f.after_id))
		return;
	if (!lower_arg(r, "domain", domain, &f.domain))
		return;
	f.limit = limit + 1;
	db = admin_db(r);
	if (!db)
		return;
	rc = store_admin_forwards(db, &f, &rows);
	if (rc < 0) {
		admin_db_error(r, rc, "forwards");
		return;
	}
	page_reply(r, rows, limit, SA_FWD_ID, forward_json);
}

void admin_forward_get(struct admin_req *r)
{
	char aor[FWD_AOR_MAX + 1], what[FWD_AOR_MAX + 16];
	struct store_admin *db;
	struct sa_rows *rows = NULL;
	int rc;

	if (!admin_args_only(r, (const char *const[]){NULL}) || !forward_key(r, aor, sizeof(aor)))
		return;
	db = admin_db(r);
	if (!db)
		return;
	rc = store_admin_forward(db, aor, &rows);
	if (rc < 0) {
		snprintf(what, sizeof(what), "forward %s", aor);
		admin_db_error(r, rc, what);
		return;
	}
	admin_json(r, 200, forward_json(rows, 0));
	sa_rows_free(rows);
}

void admin_forward_put(struct admin_req *r)
{
	static const char *const fields[] = {"target", "enabled", "description", NULL};
	static const char *const required[] = {"target", NULL};
	char aor[FWD_AOR_MAX + 1], what[FWD_AOR_MAX + 16];
	const char *domain, *target, *desc, *why;
	struct store_admin *db;
	struct sa_rows *rows = NULL;
	json_t *b = NULL;
	bool ok, created;
	int enabled, rc;

	if (!admin_args_only(r, (const char *const[]){NULL}))
		return;
	if (!forward_aor(r->rest, aor, sizeof(aor), &domain)) {
		admin_error(r, 400, ADMIN_E_BAD_REQUEST,
			    "'%.200s' is not an AOR: the path is /v1/forwards/USER@DOMAIN, the "
			    "user of letters, digits and -_.!~*'()&=+$,/, the domain a host name",
			    r->rest);
		return;
	}
	b = admin_body_object(r);
	if (!b || !admin_fields_only(r, b, fields) || !admin_fields_required(r, b, required))
		goto out;
	target = admin_field_str(r, b, "target", &ok);
	if (!ok)
		goto out;
	why = target_problem(target, aor);
	if (why) {
		admin_error(r, 422, ADMIN_E_INVALID_FIELD, "target '%.300s' %s", target, why);
		goto out;
	}
	enabled = admin_field_bool(r, b, "enabled");
	if (enabled == -2 || !desc_field(r, b, &desc))
		goto out;
	if (!config_is_domain(admin_config(), sip_str_cstr(domain))) {
		admin_error(r, 422, ADMIN_E_INVALID_FIELD,
			    "the domain of %.300s is not one of [sip] domain", aor);
		goto out;
	}
	db = admin_db(r);
	if (!db)
		goto out;
	rc = store_admin_forward_set(db, aor, target, enabled != 0, desc, &rows);
	if (rc < 0) {
		snprintf(what, sizeof(what), "forward %s", aor);
		admin_db_error(r, rc, what);
		goto out;
	}
	created = strcmp(sa_rows_get(rows, 0, SA_FWD_CREATED), "t") == 0;
	if (created)
		forward_location(r, aor);
	admin_json(r, created ? 201 : 200, forward_json(rows, 0));
	sa_rows_free(rows);
out:
	json_decref(b);
}

void admin_forward_delete(struct admin_req *r)
{
	char aor[FWD_AOR_MAX + 1], what[FWD_AOR_MAX + 16];
	struct store_admin *db;
	int rc;

	if (!admin_args_only(r, (const char *const[]){NULL}) || !forward_key(r, aor, sizeof(aor)))
		return;
	db = admin_db(r);
	if (!db)
		return;
	rc = store_admin_forward_del(db, aor);
	if (rc < 0) {
		snprintf(what, sizeof(what), "forward %s", aor);
		admin_db_error(r, rc, what);
		return;
	}
	admin_json(r, 204, NULL);
}
