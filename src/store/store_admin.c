/*
 * store_admin: see store_admin.h.
 *
 * Plain blocking libpq: PQexecParams with text parameters, no prepared
 * statements (the admin API is not a hot path, and a statement that does
 * not exist on a fresh connection is one failure mode fewer). A read that
 * finds its connection broken (the server restarted since the last
 * request) reconnects and runs once more; a write does not, since its
 * first attempt may have committed. Writes therefore run in a transaction
 * whose BEGIN is such a read: a connection that died while idle is
 * replaced before the write goes out, and only a failure between BEGIN and
 * COMMIT leaves the outcome unknown (-ECONNRESET).
 */
#include "store/store_admin.h"

#include "base/clock.h"
#include "base/log.h"

#include <errno.h>
#include <inttypes.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SA_RETRY_MS 1000
/* Seconds libpq may spend connecting, unless conninfo says otherwise. */
#define SA_CONNECT_TIMEOUT "3"

struct store_admin {
	char *conninfo;
	unsigned timeout_s;
	PGconn *c;
	uint64_t next_try_ms; /* no connection attempt before this */
	bool down_logged;     /* an outage is logged once */
};

struct sa_rows {
	PGresult *res;
};

#define ISO(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"

#define SUB_COLS "id, username, domain, enabled, " ISO("created_at") ", " ISO("updated_at")

#define BND_COLS                                                                                   \
	"id, aor, contact, greatest(0, ceil(extract(epoch FROM expires_at - "                      \
	"now())))::bigint, " ISO(                                                                  \
		"expires_at") ", q::text, received, path, user_agent, node, call_id, cseq, "       \
			      "instance, reg_id, " ISO("updated_at")

/* The registrar's lock on an AOR (junction_register() takes the same). */
#define AOR_LOCK "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))"

struct store_admin *store_admin_new(const char *conninfo, unsigned timeout_s)
{
	struct store_admin *sa = calloc(1, sizeof(*sa));

	if (!sa)
		return NULL;
	sa->conninfo = strdup(conninfo);
	if (!sa->conninfo) {
		free(sa);
		return NULL;
	}
	sa->timeout_s = timeout_s;
	return sa;
}

void store_admin_free(struct store_admin *sa)
{
	if (!sa)
		return;
	if (sa->c)
		PQfinish(sa->c);
	free(sa->conninfo);
	free(sa);
}

static void sa_down(struct store_admin *sa, const char *why)
{
	char msg[256];

	if (!sa->down_logged) {
		snprintf(msg, sizeof(msg), "%s", why);
		msg[strcspn(msg, "\r\n\"")] = '\0';
		log_warn("event=admin_db_down error=\"%s\"", msg);
		sa->down_logged = true;
	}
	if (sa->c)
		PQfinish(sa->c);
	sa->c = NULL;
	sa->next_try_ms = clock_now_ms() + SA_RETRY_MS;
}

static bool sa_setup(PGconn *c, unsigned timeout_s)
{
	char sql[128];
	PGresult *r;
	bool ok;

	snprintf(sql, sizeof(sql),
		 "SET statement_timeout = '%us'; SET TimeZone = 'UTC'; "
		 "SET client_min_messages = warning",
		 timeout_s);
	r = PQexec(c, sql);
	ok = PQresultStatus(r) == PGRES_COMMAND_OK;
	PQclear(r);
	return ok;
}

/* Connects when there is no connection and the last attempt is not too
 * recent. Returns 0 or -ENOTCONN. */
static int sa_connect(struct store_admin *sa)
{
	static const char *const keys[] = {"connect_timeout", "application_name", "dbname", NULL};
	const char *vals[] = {SA_CONNECT_TIMEOUT, "junction-admin", sa->conninfo, NULL};

	if (sa->c && PQstatus(sa->c) == CONNECTION_OK)
		return 0;
	if (sa->c)
		sa_down(sa, PQerrorMessage(sa->c));
	if (clock_now_ms() < sa->next_try_ms)
		return -ENOTCONN;
	/* expand_dbname: conninfo is a whole connection string; its own
	 * keys override the defaults given before it. */
	sa->c = PQconnectdbParams(keys, vals, 1);
	if (!sa->c || PQstatus(sa->c) != CONNECTION_OK) {
		sa_down(sa, sa->c ? PQerrorMessage(sa->c) : "out of memory");
		return -ENOTCONN;
	}
	if (!sa_setup(sa->c, sa->timeout_s)) {
		sa_down(sa, PQerrorMessage(sa->c));
		return -ENOTCONN;
	}
	if (sa->down_logged)
		log_info("event=admin_db_up");
	sa->down_logged = false;
	return 0;
}

/* Maps a failed result to an errno value; logs what is unexpected. */
static int sa_error(struct store_admin *sa, PGresult *r)
{
	const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
	char msg[256];

	if (PQstatus(sa->c) != CONNECTION_OK) {
		sa_down(sa, PQerrorMessage(sa->c));
		return -ECONNRESET;
	}
	if (state && strcmp(state, "23505") == 0)
		return -EEXIST; /* unique_violation */
	if (state && strcmp(state, "57014") == 0)
		return -ETIMEDOUT; /* query_canceled: statement_timeout */
	snprintf(msg, sizeof(msg), "%s", PQresultErrorMessage(r));
	msg[strcspn(msg, "\r\n\"")] = '\0';
	log_warn("event=admin_db_error sqlstate=%s error=\"%s\"", state ? state : "-", msg);
	return -EIO;
}

/*
 * Runs one statement. want_rows: the result is a row set (else a
 * command). *out (may be NULL) gets the result on success. A read
 * (retry) that finds the connection broken reconnects and runs again.
 */
static int sa_exec(struct store_admin *sa, const char *sql, int n, const char *const *params,
		   bool retry, PGresult **out)
{
	PGresult *r;
	ExecStatusType st;
	int rc;

	for (;;) {
		rc = sa_connect(sa);
		if (rc < 0)
			return rc;
		r = PQexecParams(sa->c, sql, n, NULL, params, NULL, NULL, 0);
		st = PQresultStatus(r);
		if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) {
			if (out)
				*out = r;
			else
				PQclear(r);
			return 0;
		}
		rc = sa_error(sa, r);
		PQclear(r);
		if (rc != -ECONNRESET || !retry)
			return rc;
		retry = false;
		sa->next_try_ms = 0; /* the server may well be back: try now */
	}
}

static int sa_rows_wrap(PGresult *r, struct sa_rows **out)
{
	struct sa_rows *rows = malloc(sizeof(*rows));

	if (!rows) {
		PQclear(r);
		return -ENOMEM;
	}
	rows->res = r;
	*out = rows;
	return 0;
}

/* A read returning rows; -ENOENT when want_one and there is none. */
static int sa_query(struct store_admin *sa, const char *sql, int n, const char *const *params,
		    bool want_one, struct sa_rows **out)
{
	PGresult *r = NULL;
	int rc = sa_exec(sa, sql, n, params, true, &r);

	if (rc < 0)
		return rc;
	if (want_one && PQntuples(r) == 0) {
		PQclear(r);
		return -ENOENT;
	}
	return sa_rows_wrap(r, out);
}

/* Statements of one transaction: BEGIN first, then sa_exec(..., false),
 * then sa_end(). */
static int sa_begin(struct store_admin *sa)
{
	return sa_exec(sa, "BEGIN", 0, NULL, true, NULL);
}

static int sa_end(struct store_admin *sa, int rc)
{
	if (!sa->c)
		return rc;
	if (rc == 0)
		return sa_exec(sa, "COMMIT", 0, NULL, false, NULL);
	(void)sa_exec(sa, "ROLLBACK", 0, NULL, false, NULL);
	return rc;
}

unsigned sa_rows_count(const struct sa_rows *r)
{
	return r ? (unsigned)PQntuples(r->res) : 0;
}

const char *sa_rows_get(const struct sa_rows *r, unsigned row, unsigned col)
{
	if (!r || PQgetisnull(r->res, (int)row, (int)col))
		return NULL;
	return PQgetvalue(r->res, (int)row, (int)col);
}

void sa_rows_free(struct sa_rows *r)
{
	if (!r)
		return;
	PQclear(r->res);
	free(r);
}

int store_admin_ping(struct store_admin *sa, uint64_t *rtt_us)
{
	uint64_t t0;
	int rc = sa_connect(sa);

	if (rc < 0)
		return rc;
	t0 = clock_now_ns();
	rc = sa_exec(sa, "SELECT 1", 0, NULL, true, NULL);
	if (rc == 0 && rtt_us)
		*rtt_us = (clock_now_ns() - t0) / 1000;
	return rc;
}

/* ---- subscribers -------------------------------------------------------- */

int store_admin_subscribers(struct store_admin *sa, const struct sa_sub_filter *f,
			    struct sa_rows **out)
{
	char after[24], limit[16];
	const char *params[5] = {after, f->domain, f->user_prefix,
				 f->enabled < 0 ? NULL
				 : f->enabled   ? "true"
						: "false",
				 limit};

	snprintf(after, sizeof(after), "%" PRId64, f->after_id);
	snprintf(limit, sizeof(limit), "%u", f->limit);
	return sa_query(sa,
			"SELECT " SUB_COLS " FROM subscriber WHERE id > $1::bigint"
			" AND ($2::text IS NULL OR domain = lower($2))"
			" AND ($3::text IS NULL OR starts_with(username, $3))"
			" AND ($4::boolean IS NULL OR enabled = $4)"
			" ORDER BY id LIMIT $5::integer",
			5, params, false, out);
}

int store_admin_subscriber(struct store_admin *sa, const char *user, const char *domain,
			   struct sa_rows **out)
{
	const char *params[2] = {user, domain};

	return sa_query(sa,
			"SELECT " SUB_COLS
			" FROM subscriber WHERE username = $1 AND domain = lower($2)",
			2, params, true, out);
}

int store_admin_subscriber_add(struct store_admin *sa, const char *user, const char *domain,
			       const char *password, bool enabled, struct sa_rows **out)
{
	const char *params[4] = {user, domain, password, enabled ? "true" : "false"};
	PGresult *r = NULL;
	int rc;

	/* In a transaction, so that the BEGIN finds out about a connection
	 * that died while idle (and reconnects) before the write is sent. */
	rc = sa_begin(sa);
	if (rc == 0)
		rc = sa_exec(sa, "SELECT junction_add_subscriber($1, $2, $3, $4::boolean)", 4,
			     params, false, &r);
	PQclear(r);
	rc = sa_end(sa, rc);
	if (rc < 0)
		return rc;
	/* Committed: read it back as the API shows it. */
	return store_admin_subscriber(sa, user, domain, out);
}

int store_admin_subscriber_update(struct store_admin *sa, const char *user, const char *domain,
				  const char *password, int enabled, struct sa_rows **out)
{
	const char *pw_params[3] = {user, domain, password};
	const char *params[3] = {user, domain, enabled < 0 ? NULL : enabled ? "true" : "false"};
	PGresult *r = NULL;
	int rc = sa_begin(sa);

	if (rc == 0 && password)
		rc = sa_exec(sa, "SELECT junction_set_password($1, $2, $3)", 3, pw_params, false,
			     NULL);
	/* Always an UPDATE: it returns the row (or none) and stamps it. */
	if (rc == 0)
		rc = sa_exec(sa,
			     "UPDATE subscriber SET enabled = coalesce($3::boolean, enabled),"
			     " updated_at = now() WHERE username = $1 AND domain = lower($2)"
			     " RETURNING " SUB_COLS,
			     3, params, false, &r);
	if (rc == 0 && PQntuples(r) == 0)
		rc = -ENOENT;
	rc = sa_end(sa, rc);
	if (rc < 0) {
		PQclear(r);
		return rc;
	}
	return sa_rows_wrap(r, out);
}

int store_admin_subscriber_del(struct store_admin *sa, const char *user, const char *domain)
{
	const char *params[2] = {user, domain};
	PGresult *r = NULL;
	bool gone = false;
	int rc = sa_begin(sa);

	if (rc == 0)
		rc = sa_exec(sa, "SELECT junction_del_subscriber($1, $2)", 2, params, false, &r);
	if (rc == 0)
		gone = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
	PQclear(r);
	rc = sa_end(sa, rc);
	return rc == 0 && !gone ? -ENOENT : rc;
}

/* ---- bindings ----------------------------------------------------------- */

int store_admin_bindings(struct store_admin *sa, const struct sa_bnd_filter *f,
			 struct sa_rows **out)
{
	char after[24], id[24], limit[16];
	const char *params[6] = {after, f->id ? id : NULL, f->aor, f->domain, f->node, limit};

	snprintf(after, sizeof(after), "%" PRId64, f->after_id);
	snprintf(id, sizeof(id), "%" PRId64, f->id);
	snprintf(limit, sizeof(limit), "%u", f->limit);
	return sa_query(
		sa,
		"SELECT " BND_COLS " FROM binding WHERE expires_at > now()"
		" AND id > $1::bigint AND ($2::bigint IS NULL OR id = $2)"
		" AND ($3::text IS NULL OR aor = $3)"
		" AND ($4::text IS NULL OR lower(substring(aor from '@([^@]*)$')) = lower($4))"
		" AND ($5::text IS NULL OR node = $5)"
		" ORDER BY id LIMIT $6::integer",
		6, params, false, out);
}

int store_admin_binding_del(struct store_admin *sa, int64_t id)
{
	char idtext[24];
	const char *params[1] = {idtext};
	const char *aor_param[1];
	PGresult *aor = NULL, *gone = NULL;
	int rc;

	snprintf(idtext, sizeof(idtext), "%" PRId64, id);
	rc = sa_begin(sa);
	if (rc == 0)
		rc = sa_exec(sa, "SELECT aor FROM binding WHERE id = $1::bigint", 1, params, false,
			     &aor);
	if (rc == 0 && PQntuples(aor) == 0)
		rc = -ENOENT;
	if (rc == 0) {
		aor_param[0] = PQgetvalue(aor, 0, 0);
		rc = sa_exec(sa, AOR_LOCK, 1, aor_param, false, NULL);
	}
	if (rc == 0)
		rc = sa_exec(
			sa,
			"DELETE FROM binding WHERE id = $1::bigint RETURNING expires_at > now()", 1,
			params, false, &gone);
	/* An expired row goes too, but was not there for the API. */
	if (rc == 0 && (PQntuples(gone) == 0 || strcmp(PQgetvalue(gone, 0, 0), "t") != 0))
		rc = sa_end(sa, 0) == 0 ? -ENOENT : -EIO;
	else
		rc = sa_end(sa, rc);
	PQclear(aor);
	PQclear(gone);
	return rc;
}

int store_admin_bindings_del_aor(struct store_admin *sa, const char *aor, uint64_t *deleted)
{
	const char *params[1] = {aor};
	PGresult *r = NULL;
	int rc = sa_begin(sa);

	if (rc == 0)
		rc = sa_exec(sa, AOR_LOCK, 1, params, false, NULL);
	if (rc == 0)
		rc = sa_exec(
			sa,
			"WITH gone AS (DELETE FROM binding WHERE aor = $1 RETURNING expires_at)"
			" SELECT count(*) FILTER (WHERE expires_at > now()) FROM gone",
			1, params, false, &r);
	rc = sa_end(sa, rc);
	if (rc == 0)
		*deleted = strtoull(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	return rc;
}

int store_admin_bindings_count(struct store_admin *sa, uint64_t *n)
{
	PGresult *r = NULL;
	int rc = sa_exec(sa, "SELECT count(*) FROM binding WHERE expires_at > now()", 0, NULL, true,
			 &r);

	if (rc == 0)
		*n = strtoull(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	return rc;
}
