/*
 * admin_subscribers: /v1/subscribers, the digest users of our domains.
 *
 *   GET    /v1/subscribers?domain=&username=&enabled=&limit=&cursor=
 *   POST   /v1/subscribers                {"username", "domain", "password", "enabled"?}
 *   GET    /v1/subscribers/USER@DOMAIN
 *   PATCH  /v1/subscribers/USER@DOMAIN    {"password"?, "enabled"?}
 *   DELETE /v1/subscribers/USER@DOMAIN    (its bindings go too)
 *
 * Passwords go straight to the SQL functions (junction_add_subscriber,
 * junction_set_password), which store HA1 values only; nothing here keeps
 * or logs one, and no answer contains a password or an HA1. Every change
 * reaches the nodes' subscriber caches through the table's NOTIFY trigger.
 *
 * What is accepted (422 otherwise): a username of 1 to 255 characters
 * from RFC 3261's user part without escapes (letters, digits and
 * -_.!~*'()&=+$,;?/), a domain that is one of [sip] domain, a password of
 * 1 to 1024 characters. The username filter of the list is a prefix.
 */
#include "admin/admin_internal.h"

#include "config/config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define USER_MAX     255
#define DOMAIN_MAX   253
#define PASSWORD_MAX 1024

static const char user_chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
				 "-_.!~*'()&=+$,;?/";

/* NULL when u may be a username, else why not. */
static const char *user_problem(const char *u)
{
	size_t n = strlen(u);

	if (n == 0)
		return "is empty";
	if (n > USER_MAX)
		return "is longer than 255 characters";
	if (strspn(u, user_chars) != n)
		return "may hold only letters, digits and -_.!~*'()&=+$,;?/";
	return NULL;
}

static void lower(char *s)
{
	for (; *s; s++)
		*s = (char)tolower((unsigned char)*s);
}

static json_t *sub_json(const struct sa_rows *rows, unsigned i)
{
	const char *u = sa_rows_get(rows, i, SA_SUB_USERNAME);
	const char *d = sa_rows_get(rows, i, SA_SUB_DOMAIN);
	char aor[USER_MAX + DOMAIN_MAX + 8];

	snprintf(aor, sizeof(aor), "sip:%s@%s", u ? u : "", d ? d : "");
	return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "id",
			 admin_col_int(sa_rows_get(rows, i, SA_SUB_ID)), "username",
			 admin_col_str(u), "domain", admin_col_str(d), "aor", admin_col_str(aor),
			 "enabled", admin_col_bool(sa_rows_get(rows, i, SA_SUB_ENABLED)),
			 "created_at", admin_col_str(sa_rows_get(rows, i, SA_SUB_CREATED_AT)),
			 "updated_at", admin_col_str(sa_rows_get(rows, i, SA_SUB_UPDATED_AT)));
}

/* USER@DOMAIN of the path into user and domain (lowercase); false when it
 * answered 404. */
static bool sub_key(struct admin_req *r, char *user, char *domain)
{
	const char *at = strrchr(r->rest, '@');
	size_t ul = at ? (size_t)(at - r->rest) : 0;

	/* Not UTF-8: no such subscriber can exist (the database is UTF-8). */
	if (!at || ul == 0 || ul > USER_MAX || !at[1] || strlen(at + 1) > DOMAIN_MAX ||
	    !admin_utf8(r->rest)) {
		admin_error(r, 404, ADMIN_E_NOT_FOUND,
			    "no subscriber '%.200s': the path is /v1/subscribers/USERNAME@DOMAIN",
			    r->rest);
		return false;
	}
	memcpy(user, r->rest, ul);
	user[ul] = '\0';
	strcpy(domain, at + 1);
	lower(domain);
	return true;
}

/* Appends s to the Location header, %-encoding what is not unreserved. */
static void location(struct admin_req *r, const char *user, const char *domain)
{
	size_t n = (size_t)snprintf(r->location, sizeof(r->location), "/v1/subscribers/");

	for (const char *p = user; *p && n + 4 < sizeof(r->location); p++) {
		unsigned char c = (unsigned char)*p;
		if (isalnum(c) || strchr("-_.~", c))
			r->location[n++] = (char)c;
		else
			n += (size_t)snprintf(r->location + n, 4, "%%%02X", c);
	}
	snprintf(r->location + n, sizeof(r->location) - n, "@%s", domain);
}

static bool password_ok(struct admin_req *r, json_t *o)
{
	size_t n = json_string_length(json_object_get(o, "password"));

	if (n == 0 || n > PASSWORD_MAX) {
		admin_error(r, 422, ADMIN_E_INVALID_FIELD,
			    "password must be 1 to %d characters long", PASSWORD_MAX);
		return false;
	}
	return true;
}

void admin_subscribers_list(struct admin_req *r)
{
	static const char *const args[] = {"limit",    "cursor",  "domain",
					   "username", "enabled", NULL};
	struct sa_sub_filter f = {.enabled = -1};
	struct store_admin *db;
	struct sa_rows *rows = NULL;
	const char *en = admin_arg(r, "enabled");
	json_t *items, *next = NULL;
	unsigned limit, n;
	int rc;

	if (!admin_args_only(r, args) || !admin_page(r, &limit, &f.after_id))
		return;
	if (en) {
		if (strcmp(en, "true") == 0) {
			f.enabled = 1;
		} else if (strcmp(en, "false") == 0) {
			f.enabled = 0;
		} else {
			admin_error(r, 400, ADMIN_E_BAD_REQUEST,
				    "enabled must be true or false, not '%.32s'", en);
			return;
		}
	}
	f.domain = admin_arg(r, "domain");
	f.user_prefix = admin_arg(r, "username");
	f.limit = limit + 1; /* one more says whether there is a next page */
	db = admin_db(r);
	if (!db)
		return;
	rc = store_admin_subscribers(db, &f, &rows);
	if (rc < 0) {
		admin_db_error(r, rc, "subscribers");
		return;
	}
	n = sa_rows_count(rows);
	items = json_array();
	for (unsigned i = 0; i < n && i < limit; i++)
		json_array_append_new(items, sub_json(rows, i));
	if (n > limit)
		next = admin_cursor(strtoll(sa_rows_get(rows, limit - 1, SA_SUB_ID), NULL, 10));
	sa_rows_free(rows);
	admin_json(r, 200,
		   json_pack("{s:o, s:o}", "items", items, "next", next ? next : json_null()));
}

void admin_subscribers_create(struct admin_req *r)
{
	static const char *const fields[] = {"username", "domain", "password", "enabled", NULL};
	static const char *const required[] = {"username", "domain", "password", NULL};
	json_t *b = admin_body_object(r);
	struct store_admin *db;
	struct sa_rows *rows = NULL;
	const char *user, *dom, *pw, *why;
	char domain[DOMAIN_MAX + 1], what[USER_MAX + DOMAIN_MAX + 32];
	int enabled, rc;
	bool ok;

	if (!b || !admin_fields_only(r, b, fields) || !admin_fields_required(r, b, required))
		goto out;
	user = admin_field_str(r, b, "username", &ok);
	if (!ok)
		goto out;
	dom = admin_field_str(r, b, "domain", &ok);
	if (!ok)
		goto out;
	pw = admin_field_str(r, b, "password", &ok);
	if (!ok)
		goto out;
	enabled = admin_field_bool(r, b, "enabled");
	if (enabled == -2)
		goto out;
	why = user_problem(user);
	if (why) {
		admin_error(r, 422, ADMIN_E_INVALID_FIELD, "username %s", why);
		goto out;
	}
	if (strlen(dom) > DOMAIN_MAX ||
	    !config_is_domain(admin_config(), (struct sip_str){dom, strlen(dom)})) {
		admin_error(r, 422, ADMIN_E_INVALID_FIELD,
			    "domain '%.253s' is not one this Junction serves ([sip] domain)", dom);
		goto out;
	}
	if (!password_ok(r, b))
		goto out;
	strcpy(domain, dom);
	lower(domain);
	snprintf(what, sizeof(what), "subscriber %s@%s", user, domain);
	db = admin_db(r);
	if (!db)
		goto out;
	rc = store_admin_subscriber_add(db, user, domain, pw, enabled != 0, &rows);
	if (rc < 0) {
		admin_db_error(r, rc, what);
		goto out;
	}
	location(r, user, domain);
	admin_json(r, 201, sub_json(rows, 0));
	sa_rows_free(rows);
out:
	json_decref(b);
}

void admin_subscriber_get(struct admin_req *r)
{
	char user[USER_MAX + 1], domain[DOMAIN_MAX + 1], what[USER_MAX + DOMAIN_MAX + 32];
	struct store_admin *db;
	struct sa_rows *rows = NULL;
	int rc;

	if (!admin_args_only(r, (const char *const[]){NULL}) || !sub_key(r, user, domain))
		return;
	snprintf(what, sizeof(what), "subscriber %s@%s", user, domain);
	db = admin_db(r);
	if (!db)
		return;
	rc = store_admin_subscriber(db, user, domain, &rows);
	if (rc < 0) {
		admin_db_error(r, rc, what);
		return;
	}
	admin_json(r, 200, sub_json(rows, 0));
	sa_rows_free(rows);
}

void admin_subscriber_patch(struct admin_req *r)
{
	static const char *const fields[] = {"password", "enabled", NULL};
	char user[USER_MAX + 1], domain[DOMAIN_MAX + 1], what[USER_MAX + DOMAIN_MAX + 32];
	struct store_admin *db;
	struct sa_rows *rows = NULL;
	const char *pw;
	json_t *b = NULL;
	int enabled, rc;
	bool ok;

	if (!admin_args_only(r, (const char *const[]){NULL}) || !sub_key(r, user, domain))
		return;
	b = admin_body_object(r);
	if (!b || !admin_fields_only(r, b, fields))
		goto out;
	pw = admin_field_str(r, b, "password", &ok);
	if (!ok)
		goto out;
	enabled = admin_field_bool(r, b, "enabled");
	if (enabled == -2)
		goto out;
	if (!pw && enabled < 0) {
		admin_error(r, 422, ADMIN_E_MISSING_FIELD,
			    "nothing to change: give password and/or enabled");
		goto out;
	}
	if (pw && !password_ok(r, b))
		goto out;
	snprintf(what, sizeof(what), "subscriber %s@%s", user, domain);
	db = admin_db(r);
	if (!db)
		goto out;
	rc = store_admin_subscriber_update(db, user, domain, pw, enabled, &rows);
	if (rc < 0) {
		admin_db_error(r, rc, what);
		goto out;
	}
	admin_json(r, 200, sub_json(rows, 0));
	sa_rows_free(rows);
out:
	json_decref(b);
}

void admin_subscriber_delete(struct admin_req *r)
{
	char user[USER_MAX + 1], domain[DOMAIN_MAX + 1], what[USER_MAX + DOMAIN_MAX + 32];
	struct store_admin *db;
	int rc;

	if (!admin_args_only(r, (const char *const[]){NULL}) || !sub_key(r, user, domain))
		return;
	snprintf(what, sizeof(what), "subscriber %s@%s", user, domain);
	db = admin_db(r);
	if (!db)
		return;
	rc = store_admin_subscriber_del(db, user, domain);
	if (rc < 0) {
		admin_db_error(r, rc, what);
		return;
	}
	admin_json(r, 204, NULL);
}
