/*
 * admin_notifications: /v1/notifications, the registration events
 * ([notify]) the back end has not taken yet, as the outbox holds them
 * (reg_event, through the operators' view pending_reg_events of
 * 006_reg_events.sql).
 *
 *   GET /v1/notifications?aor=&state=pending|sending|failed&limit=
 *
 * Read only: an event is a row written by a trigger in the transaction
 * that changed its binding, and whichever node claims it sends it and
 * deletes it on the back end's 2xx; a row changed here would break the
 * "exactly once" the nodes keep between them. What an operator does
 * about a stuck event is about its cause (the back end, the target),
 * which the row's last_error names.
 *
 * The events come oldest first (newest last), the order in which they
 * are sent, and a page is the first ?limit of them: the head of the
 * queue, where a stuck one shows. "count" is how many match the filters
 * in all, so that a backlog larger than the page shows too. There is no
 * cursor: delivered rows leave the table, so a page after an id would
 * miss nothing but would mean little; ask with a filter instead. Times
 * are unix seconds (created_at; next_try, when a pending event goes
 * again, or when a "sending" one's lease runs out).
 */
#include "admin/admin_internal.h"

#include <stdlib.h>
#include <string.h>

static json_t *ev_json(const struct sa_rows *rows, unsigned i)
{
#define COL(c) sa_rows_get(rows, i, c)
	return json_pack(
		"{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "id",
		admin_col_int(COL(SA_EV_ID)), "aor", admin_col_str(COL(SA_EV_AOR)), "contact",
		admin_col_str(COL(SA_EV_CONTACT)), "event", admin_col_str(COL(SA_EV_EVENT)),
		"expires", admin_col_int(COL(SA_EV_EXPIRES)), "node",
		admin_col_str(COL(SA_EV_NODE)), "created_at", admin_col_int(COL(SA_EV_CREATED_AT)),
		"state", admin_col_str(COL(SA_EV_STATE)), "attempts",
		admin_col_int(COL(SA_EV_ATTEMPTS)), "next_try", admin_col_int(COL(SA_EV_NEXT_TRY)),
		"claimed_by", admin_col_str(COL(SA_EV_CLAIMED_BY)), "last_error",
		admin_col_str(COL(SA_EV_LAST_ERROR)));
#undef COL
}

void admin_notifications_list(struct admin_req *r)
{
	static const char *const args[] = {"aor", "state", "limit", NULL};
	const char *aor = admin_arg(r, "aor"), *state = admin_arg(r, "state");
	struct sa_ev_filter f = {0};
	struct store_admin *db;
	struct sa_rows *rows = NULL;
	char norm[ADMIN_AOR_MAX];
	json_t *items;
	int64_t unused;
	unsigned limit, n;
	int rc;

	/* No cursor among the arguments: admin_page() reads only the limit. */
	if (!admin_args_only(r, args) || !admin_page(r, &limit, &unused))
		return;
	if (aor) {
		if (!admin_aor_arg(r, "aor", aor, norm, sizeof(norm)))
			return;
		f.aor = norm;
	}
	if (state && strcmp(state, "pending") != 0 && strcmp(state, "sending") != 0 &&
	    strcmp(state, "failed") != 0) {
		admin_error(r, 400, ADMIN_E_BAD_REQUEST,
			    "state must be pending, sending or failed, not '%.32s'", state);
		return;
	}
	f.state = state;
	f.limit = limit;
	db = admin_db(r);
	if (!db)
		return;
	rc = store_admin_notifications(db, &f, &rows);
	if (rc < 0) {
		admin_db_error(r, rc, "registration events");
		return;
	}
	n = sa_rows_count(rows);
	items = json_array();
	for (unsigned i = 0; i < n; i++)
		json_array_append_new(items, ev_json(rows, i));
	/* Every row carries the count of all matches; none matched: 0. */
	admin_json(r, 200,
		   json_pack("{s:o, s:I}", "notifications", items, "count",
			     (json_int_t)(n ? strtoll(sa_rows_get(rows, 0, SA_EV_TOTAL), NULL, 10)
					    : 0)));
	sa_rows_free(rows);
}
