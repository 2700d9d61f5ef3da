/*
 * admin_sessions: /v1/sessions, the sessions of session affinity (sets of
 * related calls, each served by one Session Controller) and their
 * dialogs, as the nodes record them in the session and dialog tables of
 * 004_sessions.sql.
 *
 *   GET /v1/sessions?sip_server=&aor=&min_age=&max_age=&ended=&limit=&cursor=
 *   GET /v1/sessions/ID          the session with every dialog of it
 *
 * Read only: the nodes write these rows before the requests that make
 * them leave, and the sweep ends and forgets them; a session changed here
 * would no longer say where its dialogs go.
 *
 * The list holds open sessions (ended_at IS NULL) unless ?ended=yes, and
 * goes newest first: by id, which the database hands out as sessions are
 * created, so that the cursor (the id of a page's last session, as
 * everywhere in this API) pages through rows that keep their order while
 * new sessions come. The age filters count seconds since the session was
 * created; aor matches a dialog's caller or callee, in the form the
 * proxy stores them (sip:user@domain, the domain in lowercase). A filter
 * value that cannot match anything as written (a server name that cannot
 * be one, an age that is not a number of seconds, min_age over max_age)
 * is a 400, not an empty list, so that a typing error shows.
 */
#include "admin/admin_internal.h"

#include "config/config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Seconds; the largest age a filter takes (68 years), so that now() minus
 * it stays a time PostgreSQL can hold. */
#define SES_AGE_MAX 2147483647LL
/* Digits of an id: a bigint has 19, and 18 can never overflow one. */
#define SES_ID_DIGITS 18

static json_t *ses_json(const struct sa_rows *rows, unsigned i)
{
#define COL(c) sa_rows_get(rows, i, c)
	return json_pack(
		"{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "id",
		admin_col_int(COL(SA_SES_ID)), "sip_server", admin_col_str(COL(SA_SES_SIP_SERVER)),
		"ha_pair", admin_col_str(COL(SA_SES_HA_PAIR)), "node",
		admin_col_str(COL(SA_SES_NODE)), "created", admin_col_str(COL(SA_SES_CREATED)),
		"last_activity", admin_col_str(COL(SA_SES_LAST_ACTIVITY)), "ended",
		admin_col_str(COL(SA_SES_ENDED)), "moved_from",
		admin_col_int(COL(SA_SES_MOVED_FROM)), "dialogs",
		admin_col_int(COL(SA_SES_DIALOGS)));
#undef COL
}

static json_t *dlg_json(const struct sa_rows *rows, unsigned i)
{
#define COL(c) sa_rows_get(rows, i, c)
	return json_pack(
		"{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "call_id",
		admin_col_str(COL(SA_DLG_CALL_ID)), "from_tag", admin_col_str(COL(SA_DLG_FROM_TAG)),
		"to_tag", admin_col_str(COL(SA_DLG_TO_TAG)), "method",
		admin_col_str(COL(SA_DLG_METHOD)), "state", admin_col_str(COL(SA_DLG_STATE)),
		"relation", admin_col_str(COL(SA_DLG_RELATION)), "caller_aor",
		admin_col_str(COL(SA_DLG_CALLER_AOR)), "callee_aor",
		admin_col_str(COL(SA_DLG_CALLEE_AOR)), "node", admin_col_str(COL(SA_DLG_NODE)),
		"created", admin_col_str(COL(SA_DLG_CREATED)), "updated",
		admin_col_str(COL(SA_DLG_UPDATED)), "expires", admin_col_str(COL(SA_DLG_EXPIRES)),
		"ended", admin_col_str(COL(SA_DLG_ENDED)));
#undef COL
}

/* ?name= as seconds into *out (-1 when absent); false when it answered
 * 400. Digits only: no sign, no blank, no unit. */
static bool age_arg(struct admin_req *r, const char *name, int64_t *out)
{
	const char *v = admin_arg(r, name);
	size_t n;

	*out = -1;
	if (!v)
		return true;
	n = strlen(v);
	/* Ten digits at most: strtoll cannot overflow before the check. */
	if (n > 0 && n <= 10 && strspn(v, "0123456789") == n)
		*out = strtoll(v, NULL, 10);
	if (*out < 0 || *out > SES_AGE_MAX) {
		admin_error(r, 400, ADMIN_E_BAD_REQUEST,
			    "%s must be a number of seconds from 0 to %lld, not '%.32s'", name,
			    SES_AGE_MAX, v);
		return false;
	}
	return true;
}

/* The filters of the list into *f; false when it answered 400. aor is
 * the room for the stored form of ?aor=. */
static bool ses_filter(struct admin_req *r, struct sa_ses_filter *f, char *aor, size_t cap)
{
	const char *srv = admin_arg(r, "sip_server"), *a = admin_arg(r, "aor");
	const char *ended = admin_arg(r, "ended");

	if (srv && !config_pool_name_ok(srv, strlen(srv))) {
		admin_error(r, 400, ADMIN_E_BAD_REQUEST,
			    "sip_server '%.200s' is not a server name (1 to 63 letters, digits, "
			    "'.', '_' or '-', the first a letter or digit)",
			    srv);
		return false;
	}
	f->sip_server = srv;
	if (a) {
		if (!admin_aor_arg(r, "aor", a, aor, cap))
			return false;
		f->aor = aor;
	}
	if (!age_arg(r, "min_age", &f->min_age) || !age_arg(r, "max_age", &f->max_age))
		return false;
	if (f->min_age >= 0 && f->max_age >= 0 && f->min_age > f->max_age) {
		admin_error(r, 400, ADMIN_E_BAD_REQUEST,
			    "min_age (%" PRId64 ") is over max_age (%" PRId64
			    "): no session is both",
			    f->min_age, f->max_age);
		return false;
	}
	if (ended && strcmp(ended, "yes") != 0 && strcmp(ended, "no") != 0) {
		admin_error(r, 400, ADMIN_E_BAD_REQUEST, "ended must be yes or no, not '%.32s'",
			    ended);
		return false;
	}
	f->ended = ended && strcmp(ended, "yes") == 0;
	return true;
}

void admin_sessions_list(struct admin_req *r)
{
	static const char *const args[] = {"limit",   "cursor",  "sip_server", "aor",
					   "min_age", "max_age", "ended",      NULL};
	struct sa_ses_filter f = {0};
	struct store_admin *db;
	struct sa_rows *rows = NULL;
	char aor[ADMIN_AOR_MAX];
	json_t *items, *next = NULL;
	unsigned limit, n;
	int rc;

	/* The list goes down the ids: the cursor's id is the smallest of the
	 * page before. */
	if (!admin_args_only(r, args) || !admin_page(r, &limit, &f.before_id) ||
	    !ses_filter(r, &f, aor, sizeof(aor)))
		return;
	f.limit = limit + 1; /* one more says whether there is a next page */
	db = admin_db(r);
	if (!db)
		return;
	rc = store_admin_sessions(db, &f, &rows);
	if (rc < 0) {
		admin_db_error(r, rc, "sessions");
		return;
	}
	n = sa_rows_count(rows);
	items = json_array();
	for (unsigned i = 0; i < n && i < limit; i++)
		json_array_append_new(items, ses_json(rows, i));
	if (n > limit)
		next = admin_cursor(strtoll(sa_rows_get(rows, limit - 1, SA_SES_ID), NULL, 10));
	sa_rows_free(rows);
	admin_json(r, 200,
		   json_pack("{s:o, s:o}", "items", items, "next", next ? next : json_null()));
}

void admin_session_get(struct admin_req *r)
{
	size_t n = strlen(r->rest);
	struct store_admin *db;
	struct sa_rows *rows = NULL;
	json_t *s, *dialogs;
	char what[48];
	int64_t id;
	int rc;

	if (!admin_args_only(r, (const char *const[]){NULL}))
		return;
	if (n == 0 || n > SES_ID_DIGITS || strspn(r->rest, "0123456789") != n) {
		admin_error(r, 400, ADMIN_E_BAD_REQUEST,
			    "'%.64s' is not a session id: the path is /v1/sessions/ID, ID a number",
			    r->rest);
		return;
	}
	id = strtoll(r->rest, NULL, 10);
	snprintf(what, sizeof(what), "session %" PRId64, id);
	db = admin_db(r);
	if (!db)
		return;
	rc = store_admin_session(db, id, &rows);
	if (rc < 0) {
		admin_db_error(r, rc, what);
		return;
	}
	/* One row per dialog, or one with no dialog (SA_DLG_* NULL). */
	dialogs = json_array();
	for (unsigned i = 0; i < sa_rows_count(rows); i++) {
		if (sa_rows_get(rows, i, SA_DLG_CALL_ID))
			json_array_append_new(dialogs, dlg_json(rows, i));
	}
	/* The dialogs take the place of the list's count of those up (the
	 * entries whose state is not "ended"). */
	s = ses_json(rows, 0);
	json_object_set_new(s, "dialogs", dialogs);
	sa_rows_free(rows);
	admin_json(r, 200, s);
}
