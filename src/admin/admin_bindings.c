/*
 * admin_bindings: /v1/bindings, the registrations that have not expired.
 *
 *   GET    /v1/bindings?aor=&domain=&node=&limit=&cursor=
 *   DELETE /v1/bindings?aor=AOR      every binding of the AOR: {"deleted": N}
 *   GET    /v1/bindings/ID
 *   DELETE /v1/bindings/ID
 *
 * Routing reads the binding table for every request, so a deletion takes
 * effect at once, on every node. Deletions take the AOR's registration
 * lock, like a REGISTER, so one never interleaves with a registration of
 * the same AOR.
 *
 * An AOR is given as sip:user@domain, sips:user@domain or user@domain and
 * compared as the registrar stores it: "sip:", the user as written, the
 * domain in lowercase.
 */
#include "admin/admin_internal.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define AOR_MAX 520

static json_t *binding_json(const struct sa_rows *rows, unsigned i)
{
#define COL(c) sa_rows_get(rows, i, c)
	return json_pack(
		"{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, "
		"s:o}",
		"id", admin_col_int(COL(SA_BND_ID)), "aor", admin_col_str(COL(SA_BND_AOR)),
		"contact", admin_col_str(COL(SA_BND_CONTACT)), "expires",
		admin_col_int(COL(SA_BND_EXPIRES)), "expires_at",
		admin_col_str(COL(SA_BND_EXPIRES_AT)), "q", admin_col_real(COL(SA_BND_Q)),
		"received", admin_col_str(COL(SA_BND_RECEIVED)), "path",
		admin_col_str(COL(SA_BND_PATH)), "user_agent",
		admin_col_str(COL(SA_BND_USER_AGENT)), "node", admin_col_str(COL(SA_BND_NODE)),
		"call_id", admin_col_str(COL(SA_BND_CALL_ID)), "cseq",
		admin_col_int(COL(SA_BND_CSEQ)), "instance", admin_col_str(COL(SA_BND_INSTANCE)),
		"reg_id", admin_col_int(COL(SA_BND_REG_ID)), "updated_at",
		admin_col_str(COL(SA_BND_UPDATED_AT)));
#undef COL
}

/* The ID of the path; false when it answered 404. */
static bool binding_id(struct admin_req *r, int64_t *id)
{
	size_t n = strlen(r->rest);

	if (n == 0 || n > 18 || strspn(r->rest, "0123456789") != n || r->rest[0] == '0') {
		admin_error(r, 404, ADMIN_E_NOT_FOUND,
			    "no binding '%.64s': the path is /v1/bindings/ID, ID a number",
			    r->rest);
		return false;
	}
	*id = strtoll(r->rest, NULL, 10);
	return true;
}

void admin_bindings_list(struct admin_req *r)
{
	static const char *const args[] = {"limit", "cursor", "aor", "domain", "node", NULL};
	struct sa_bnd_filter f = {0};
	struct store_admin *db;
	struct sa_rows *rows = NULL;
	const char *aor = admin_arg(r, "aor");
	char norm[AOR_MAX];
	json_t *items, *next = NULL;
	unsigned limit, n;
	int rc;

	if (!admin_args_only(r, args) || !admin_page(r, &limit, &f.after_id))
		return;
	if (aor) {
		if (!admin_aor_arg(r, "aor", aor, norm, sizeof(norm)))
			return;
		f.aor = norm;
	}
	f.domain = admin_arg(r, "domain");
	f.node = admin_arg(r, "node");
	f.limit = limit + 1;
	db = admin_db(r);
	if (!db)
		return;
	rc = store_admin_bindings(db, &f, &rows);
	if (rc < 0) {
		admin_db_error(r, rc, "bindings");
		return;
	}
	n = sa_rows_count(rows);
	items = json_array();
	for (unsigned i = 0; i < n && i < limit; i++)
		json_array_append_new(items, binding_json(rows, i));
	if (n > limit)
		next = admin_cursor(strtoll(sa_rows_get(rows, limit - 1, SA_BND_ID), NULL, 10));
	sa_rows_free(rows);
	admin_json(r, 200,
		   json_pack("{s:o, s:o}", "items", items, "next", next ? next : json_null()));
}

void admin_bindings_delete(struct admin_req *r)
{
	static const char *const args[] = {"aor", NULL};
	const char *aor = admin_arg(r, "aor");
	struct store_admin *db;
	char norm[AOR_MAX], what[AOR_MAX + 32];
	uint64_t deleted = 0;
	int rc;

	if (!admin_args_only(r, args))
		return;
	if (!aor) {
		/* Never "all bindings of the cluster" by a forgotten filter. */
		admin_error(r, 400, ADMIN_E_BAD_REQUEST,
			    "give ?aor=sip:user@domain: the bindings of one address of record go");
		return;
	}
	if (!admin_aor_arg(r, "aor", aor, norm, sizeof(norm)))
		return;
	snprintf(what, sizeof(what), "the bindings of %s", norm);
	db = admin_db(r);
	if (!db)
		return;
	rc = store_admin_bindings_del_aor(db, norm, &deleted);
	if (rc < 0) {
		admin_db_error(r, rc, what);
		return;
	}
	admin_json(r, 200, json_pack("{s:I}", "deleted", (json_int_t)deleted));
}

void admin_binding_get(struct admin_req *r)
{
	struct sa_bnd_filter f = {.limit = 1};
	struct store_admin *db;
	struct sa_rows *rows = NULL;
	char what[48];
	int rc;

	if (!admin_args_only(r, (const char *const[]){NULL}) || !binding_id(r, &f.id))
		return;
	snprintf(what, sizeof(what), "binding %" PRId64, f.id);
	db = admin_db(r);
	if (!db)
		return;
	rc = store_admin_bindings(db, &f, &rows);
	if (rc == 0 && sa_rows_count(rows) == 0)
		rc = -ENOENT;
	if (rc < 0)
		admin_db_error(r, rc, what);
	else
		admin_json(r, 200, binding_json(rows, 0));
	sa_rows_free(rows);
}

void admin_binding_delete(struct admin_req *r)
{
	struct store_admin *db;
	char what[48];
	int64_t id;
	int rc;

	if (!admin_args_only(r, (const char *const[]){NULL}) || !binding_id(r, &id))
		return;
	snprintf(what, sizeof(what), "binding %" PRId64, id);
	db = admin_db(r);
	if (!db)
		return;
	rc = store_admin_binding_del(db, id);
	if (rc < 0) {
		admin_db_error(r, rc, what);
		return;
	}
	admin_json(r, 204, NULL);
}
