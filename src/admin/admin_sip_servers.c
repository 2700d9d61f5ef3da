/*
 * admin_sip_servers: /v1/sip-servers, the Session Controllers the cluster
 * forwards new sessions to, and what each node sees of them.
 *
 *   GET    /v1/sip-servers?geo_location=&ha_pair=
 *   POST   /v1/sip-servers         {"name", "uri", "geo_location", "ha_pair"?,
 *                                    "role"?, "weight"?, "enabled"?}
 *   GET    /v1/sip-servers/NAME
 *   PATCH  /v1/sip-servers/NAME    {"uri"?, "geo_location"?, "ha_pair"?, "role"?,
 *                                    "weight"?, "enabled"?}
 *   DELETE /v1/sip-servers/NAME    (what the nodes reported of it goes too)
 *
 * Writes go through the SQL functions of 003_sip_servers.sql
 * (junction_add_sip_server, junction_set_sip_server,
 * junction_del_sip_server), whose trigger tells every node on
 * junction_sip_server; each reloads its pool within a second. Every
 * server is shown with "nodes": the rows the nodes publish with
 * junction_sip_server_seen(), by node. The pool is a handful of servers,
 * so the list is one answer, not pages.
 *
 * The values are checked here before any SQL, so that the common mistakes
 * get a precise 422: name, geo_location and ha_pair are 1 to 63 letters,
 * digits and ._- starting with a letter or digit (the schema's CHECKs);
 * uri is a sip: or sips: URI without a user part that our own parser
 * reads, as the nodes will; role is primary or backup, a backup being in
 * a pair; weight an integer from 0 to 10000. What only the database can
 * tell (a pair across two data centres, a backup left without its pair)
 * comes back as its reason, 422 too; a name or a role in a pair that is
 * taken is 409.
 */
#include "admin/admin_internal.h"

#include "config/config.h"

#include "sip/sip_uri.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SRV_NAME_MAX   63
#define SRV_URI_MAX    255
#define SRV_WEIGHT_MAX 10000

/* NULL when u may be a server's URI, else why not. */
static const char *uri_problem(const char *u)
{
	struct sip_uri p;
	size_t n = strlen(u);

	if (n == 0 || n > SRV_URI_MAX)
		return "must be 1 to 255 characters long";
	if (strncasecmp(u, "sip:", 4) != 0 && strncasecmp(u, "sips:", 5) != 0)
		return "must start with sip: or sips:";
	for (const char *c = u; *c; c++) {
		if ((unsigned char)*c <= ' ' || *c == 0x7f)
			return "may not hold blanks or control characters";
	}
	if (strchr(u, '@'))
		return "names a server, not a user: no user part ('@')";
	if (sip_uri_parse((struct sip_str){u, n}, &p) < 0 || p.headers.len)
		return "is not a SIP URI (sip:HOST[:PORT][;PARAMS])";
	return NULL;
}

static json_t *node_json(const struct sa_rows *rows, unsigned i)
{
#define COL(c) sa_rows_get(rows, i, c)
	return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "node",
			 admin_col_str(COL(SA_SRVN_NODE)), "node_geo_location",
			 admin_col_str(COL(SA_SRVN_NODE_GEO_LOCATION)), "state",
			 admin_col_str(COL(SA_SRVN_STATE)), "since",
			 admin_col_str(COL(SA_SRVN_SINCE)), "rtt_ms",
			 admin_col_real(COL(SA_SRVN_RTT_MS)), "last_switchover",
			 admin_col_str(COL(SA_SRVN_LAST_SWITCHOVER)), "reason",
			 admin_col_str(COL(SA_SRVN_REASON)), "updated_at",
			 admin_col_str(COL(SA_SRVN_UPDATED_AT)));
#undef COL
}

/* The server of row *i with its nodes, which are the rows after it of the
 * same name (enum sa_srv_col); *i moves past them. */
static json_t *srv_json(const struct sa_rows *rows, unsigned *i)
{
	unsigned n = sa_rows_count(rows), first = *i;
	const char *name = sa_rows_get(rows, first, SA_SRV_NAME);
	json_t *nodes = json_array();

	for (; *i < n && strcmp(sa_rows_get(rows, *i, SA_SRV_NAME), name) == 0; (*i)++) {
		if (sa_rows_get(rows, *i, SA_SRVN_NODE))
			json_array_append_new(nodes, node_json(rows, *i));
	}
#define COL(c) sa_rows_get(rows, first, c)
	return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "name",
			 admin_col_str(name), "uri", admin_col_str(COL(SA_SRV_URI)), "geo_location",
			 admin_col_str(COL(SA_SRV_GEO_LOCATION)), "ha_pair",
			 admin_col_str(COL(SA_SRV_HA_PAIR)), "role",
			 admin_col_str(COL(SA_SRV_ROLE)), "weight",
			 admin_col_int(COL(SA_SRV_WEIGHT)), "enabled",
			 admin_col_bool(COL(SA_SRV_ENABLED)), "created_at",
			 admin_col_str(COL(SA_SRV_CREATED_AT)), "updated_at",
			 admin_col_str(COL(SA_SRV_UPDATED_AT)), "nodes", nodes);
#undef COL
}

/* The one server of rows. */
static json_t *srv_one(const struct sa_rows *rows)
{
	unsigned i = 0;

	return srv_json(rows, &i);
}

/* NAME of the path; false when it answered 404. */
static bool srv_key(struct admin_req *r)
{
	if (!config_pool_name_ok(r->rest, strlen(r->rest))) {
		admin_error(r, 404, ADMIN_E_NOT_FOUND,
			    "no sip server '%.200s': the path is /v1/sip-servers/NAME", r->rest);
		return false;
	}
	return true;
}

/* A store error for the server name: 409 says which key was taken (the
 * name, or the role in the pair), the rest as everywhere. */
static void srv_db_error(struct admin_req *r, int err, const char *name)
{
	char what[SRV_NAME_MAX + 16];

	if (err == -EEXIST) {
		admin_error(r, 409, ADMIN_E_EXISTS, "sip server %s: %s", name,
			    store_admin_error(r->db));
		return;
	}
	snprintf(what, sizeof(what), "sip server %s", name);
	admin_db_error(r, err, what);
}

/* The member field of b, a name (config_pool_name_ok); NULL with *ok true when
 * absent, NULL with *ok false when it answered 422. */
static const char *name_field(struct admin_req *r, json_t *b, const char *field, bool *ok)
{
	const char *v = admin_field_str(r, b, field, ok);

	if (v && !config_pool_name_ok(v, strlen(v))) {
		admin_error(r, 422, ADMIN_E_INVALID_FIELD,
			    "%s must be 1 to 63 letters, digits, '.', '_' or '-', the first a "
			    "letter or digit",
			    field);
		*ok = false;
		return NULL;
	}
	return v;
}

/* The members of b other than name into *s, checked; ha_pair null or ""
 * becomes "" (no pair). false when it answered 422. */
static bool srv_fields(struct admin_req *r, json_t *b, struct sa_srv_set *s)
{
	json_t *pair = json_object_get(b, "ha_pair"), *w = json_object_get(b, "weight");
	const char *why;
	bool ok;

	s->uri = admin_field_str(r, b, "uri", &ok);
	if (!ok)
		return false;
	if (s->uri && (why = uri_problem(s->uri))) {
		admin_error(r, 422, ADMIN_E_INVALID_FIELD, "uri %s", why);
		return false;
	}
	s->geo_location = name_field(r, b, "geo_location", &ok);
	if (!ok)
		return false;
	if (json_is_null(pair) || (json_is_string(pair) && json_string_length(pair) == 0)) {
		s->ha_pair = "";
	} else {
		s->ha_pair = name_field(r, b, "ha_pair", &ok);
		if (!ok)
			return false;
	}
	s->role = admin_field_str(r, b, "role", &ok);
	if (!ok)
		return false;
	if (s->role && strcmp(s->role, "primary") != 0 && strcmp(s->role, "backup") != 0) {
		admin_error(r, 422, ADMIN_E_INVALID_FIELD, "role must be primary or backup");
		return false;
	}
	s->weight = -1;
	if (w) {
		if (!json_is_integer(w) || json_integer_value(w) < 0 ||
		    json_integer_value(w) > SRV_WEIGHT_MAX) {
			admin_error(r, 422, ADMIN_E_INVALID_FIELD,
				    "weight must be an integer from 0 to %d", SRV_WEIGHT_MAX);
			return false;
		}
		s->weight = (int)json_integer_value(w);
	}
	s->enabled = admin_field_bool(r, b, "enabled");
	return s->enabled != -2;
}

void admin_sip_servers_list(struct admin_req *r)
{
	static const char *const args[] = {"geo_location", "ha_pair", NULL};
	struct sa_srv_filter f;
	struct store_admin *db;
	struct sa_rows *rows = NULL;
	json_t *items;
	unsigned i = 0;
	int rc;

	if (!admin_args_only(r, args))
		return;
	f.geo_location = admin_arg(r, "geo_location");
	f.ha_pair = admin_arg(r, "ha_pair");
	db = admin_db(r);
	if (!db)
		return;
	rc = store_admin_sip_servers(db, &f, &rows);
	if (rc < 0) {
		admin_db_error(r, rc, "sip servers");
		return;
	}
	items = json_array();
	while (i < sa_rows_count(rows))
		json_array_append_new(items, srv_json(rows, &i));
	sa_rows_free(rows);
	admin_json(r, 200, json_pack("{s:o}", "sip_servers", items));
}

void admin_sip_servers_create(struct admin_req *r)
{
	static const char *const fields[] = {"name", "uri",    "geo_location", "ha_pair",
					     "role", "weight", "enabled",      NULL};
	static const char *const required[] = {"name", "uri", "geo_location", NULL};
	json_t *b = admin_body_object(r);
	struct sa_srv_set s = {0};
	struct store_admin *db;
	struct sa_rows *rows = NULL;
	const char *name;
	bool ok;
	int rc;

	if (!b || !admin_fields_only(r, b, fields) || !admin_fields_required(r, b, required))
		goto out;
	name = name_field(r, b, "name", &ok);
	if (!ok || !srv_fields(r, b, &s))
		goto out;
	if (s.ha_pair && !s.ha_pair[0])
		s.ha_pair = NULL;
	if (s.role && strcmp(s.role, "backup") == 0 && !s.ha_pair) {
		admin_error(r, 422, ADMIN_E_INVALID_FIELD,
			    "a backup must be in an HA pair: give ha_pair");
		goto out;
	}
	db = admin_db(r);
	if (!db)
		goto out;
	rc = store_admin_sip_server_add(db, name, &s, &rows);
	if (rc < 0) {
		srv_db_error(r, rc, name);
		goto out;
	}
	/* Names are made of unreserved characters: nothing to escape. */
	snprintf(r->location, sizeof(r->location), "/v1/sip-servers/%s", name);
	admin_json(r, 201, srv_one(rows));
	sa_rows_free(rows);
out:
	json_decref(b);
}

void admin_sip_server_get(struct admin_req *r)
{
	struct store_admin *db;
	struct sa_rows *rows = NULL;
	int rc;

	if (!admin_args_only(r, (const char *const[]){NULL}) || !srv_key(r))
		return;
	db = admin_db(r);
	if (!db)
		return;
	rc = store_admin_sip_server(db, r->rest, &rows);
	if (rc < 0) {
		srv_db_error(r, rc, r->rest);
		return;
	}
	admin_json(r, 200, srv_one(rows));
	sa_rows_free(rows);
}

void admin_sip_server_patch(struct admin_req *r)
{
	static const char *const fields[] = {"uri",    "geo_location", "ha_pair", "role",
					     "weight", "enabled",      NULL};
	struct sa_srv_set s = {0};
	struct store_admin *db;
	struct sa_rows *rows = NULL;
	json_t *b = NULL;
	int rc;

	if (!admin_args_only(r, (const char *const[]){NULL}) || !srv_key(r))
		return;
	b = admin_body_object(r);
	if (!b || !admin_fields_only(r, b, fields))
		goto out;
	if (json_object_size(b) == 0) {
		admin_error(r, 422, ADMIN_E_MISSING_FIELD,
			    "nothing to change: give uri, geo_location, ha_pair, role, weight "
			    "and/or enabled");
		goto out;
	}
	if (!srv_fields(r, b, &s))
		goto out;
	db = admin_db(r);
	if (!db)
		goto out;
	rc = store_admin_sip_server_update(db, r->rest, &s, &rows);
	if (rc < 0) {
		srv_db_error(r, rc, r->rest);
		goto out;
	}
	admin_json(r, 200, srv_one(rows));
	sa_rows_free(rows);
out:
	json_decref(b);
}

void admin_sip_server_delete(struct admin_req *r)
{
	struct store_admin *db;
	int rc;

	if (!admin_args_only(r, (const char *const[]){NULL}) || !srv_key(r))
		return;
	db = admin_db(r);
	if (!db)
		return;
	rc = store_admin_sip_server_del(db, r->rest);
	if (rc < 0) {
		srv_db_error(r, rc, r->rest);
		return;
	}
	admin_json(r, 204, NULL);
}
