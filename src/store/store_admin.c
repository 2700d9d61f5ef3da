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
#include "store/pgconn.h"

#include <errno.h>
#include <inttypes.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SA_RETRY_MS 1000

struct store_admin {
	char *conninfo;
	unsigned timeout_s;
	PGconn *c;
	uint64_t next_try_ms; /* no connection attempt before this */
	bool down_logged;     /* an outage is logged once */
	char why[256];        /* store_admin_error() */
	unsigned gen;         /* pgconn_generation() of c */
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
/* The AOR's lock, as junction_register() takes it; a binding the API
 * removes is "deactivated" for registration events (sql/006). */
#define AOR_LOCK                                                                                   \
	"SELECT pg_advisory_xact_lock(hashtextextended($1, 0)), "                                  \
	"set_config('junction.reg_cause', 'deactivated', true)"

/* A server and what each node sees of it (enum sa_srv_col), by name and
 * node: the API's view, one statement so that it is one snapshot. */
#define SRV_COLS  "s.name, s.uri, s.geo_location, s.ha_pair, s.role, s.weight, s.enabled"
#define SRV_TIMES ISO("s.created_at") ", " ISO("s.updated_at")
#define SRVN_COLS "n.node, n.node_geo_location, n.state, " ISO("n.since") ", n.rtt_ms"
#define SRVN_MORE ISO("n.last_switchover") ", n.reason, " ISO("n.updated_at")
#define SRV_SELECT                                                                                 \
	"SELECT " SRV_COLS ", " SRV_TIMES ", " SRVN_COLS ", " SRVN_MORE                            \
	" FROM sip_server s LEFT JOIN sip_server_node n ON n.server = s.name"
#define SRV_ORDER " ORDER BY s.name, n.node"

/* A session as the API shows it (enum sa_ses_col): its server's HA pair
 * as it is now, and its dialogs still up, like the active_sessions view;
 * then, for one session, a dialog of it per row. */
#define SES_COLS  "s.id, s.sip_server, sv.ha_pair, s.created_by"
#define SES_TIMES ISO("s.created_at") ", " ISO("s.last_activity") ", " ISO("s.ended_at")
#define SES_UP                                                                                     \
	"(SELECT count(*) FROM dialog u"                                                           \
	" WHERE u.session_id = s.id AND u.state <> 'ended')"
#define SES_SELECT "SELECT " SES_COLS ", " SES_TIMES ", s.moved_from, " SES_UP
#define SES_FROM   " FROM session s LEFT JOIN sip_server sv ON sv.name = s.sip_server"
#define DLG_COLS                                                                                   \
	"d.call_id, d.from_tag, d.to_tag, d.method, d.state, d.relation, d.caller_aor, "           \
	"d.callee_aor, d.node"
#define DLG_TIMES  ISO("d.created_at") ", " ISO("d.updated_at")
#define DLG_LIMITS ISO("d.expires_at") ", " ISO("d.ended_at")

/* Sentences for the constraints of our schema whose own message only
 * names them (the API checks most of these values before they get here). */
static const struct {
	const char *constraint, *text;
} sa_constraints[] = {
	{"sip_server_pkey", "the name is taken"},
	{"sip_server_pair_role",
	 "its HA pair has a server in this role already (a pair has one primary and one backup)"},
	{"sip_server_check", "a backup must be in an HA pair (a server on its own is a primary)"},
	{"sip_server_name_check",
	 "name must be 1 to 63 letters, digits, '.', '_' or '-', the first a letter or digit"},
	{"sip_server_geo_location_check",
	 "geo_location must be 1 to 63 letters, digits, '.', '_' or '-', the first a letter or "
	 "digit"},
	{"sip_server_ha_pair_check",
	 "ha_pair must be 1 to 63 letters, digits, '.', '_' or '-', the first a letter or digit"},
	{"sip_server_uri_check", "uri must be sip: or sips: and a host, without '@' or blanks"},
	{"sip_server_role_check", "role must be primary or backup"},
	{"sip_server_weight_check", "weight must be 0 to 10000"},
	{"route_hop_unique", "this match has this next hop already"},
	{"route_kind_check", "kind must be domain, prefix or outbound"},
	{"route_match_check",
	 "match must be 1 to 15 digits for a prefix, else a host name in lowercase"},
	{"route_next_hop_check", "next_hop must be a sip: or sips: URI without '@' or blanks"},
	{"route_priority_check", "priority must be 0 to 65535"},
	{"route_weight_check", "weight must be 0 to 65535"},
	{"route_description_check", "description must be at most 256 characters"},
	{"call_forward_aor_check", "aor must be user@domain, the domain a host name"},
	{"call_forward_target_check", "target must be a sip: or sips: URI without blanks"},
	{"call_forward_description_check", "description must be at most 256 characters"},
};

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
	/* one opened before the primary last moved may still reach the old
	 * server: replaced before it is used */
	if (sa->c && PQstatus(sa->c) == CONNECTION_OK && sa->gen == pgconn_generation())
		return 0;
	if (sa->c && PQstatus(sa->c) == CONNECTION_OK) {
		PQfinish(sa->c);
		sa->c = NULL;
		sa->next_try_ms = 0;
	}
	if (sa->c)
		sa_down(sa, PQerrorMessage(sa->c));
	if (clock_now_ms() < sa->next_try_ms)
		return -ENOTCONN;
	sa->c = pgconn_connect(sa->conninfo, "junction-admin");
	if (!sa->c || PQstatus(sa->c) != CONNECTION_OK) {
		sa_down(sa, sa->c ? PQerrorMessage(sa->c) : "out of memory");
		return -ENOTCONN;
	}
	if (!sa_setup(sa->c, sa->timeout_s)) {
		sa_down(sa, PQerrorMessage(sa->c));
		return -ENOTCONN;
	}
	sa->gen = pgconn_connected(sa->c);
	if (sa->down_logged)
		log_info("event=admin_db_up");
	sa->down_logged = false;
	return 0;
}

/* Why r was refused, into sa->why: the sentence of sa_constraints for
 * the constraint it broke, else the database's message (a trigger's
 * RAISE says it well: "HA pair p1 spans two data centres"). */
static void sa_why(struct store_admin *sa, PGresult *r)
{
	const char *constraint = PQresultErrorField(r, PG_DIAG_CONSTRAINT_NAME);
	const char *text = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);

	for (size_t i = 0; constraint && i < sizeof(sa_constraints) / sizeof(sa_constraints[0]);
	     i++) {
		if (strcmp(constraint, sa_constraints[i].constraint) == 0)
			text = sa_constraints[i].text;
	}
	snprintf(sa->why, sizeof(sa->why), "%s", text ? text : "refused by the database");
	sa->why[strcspn(sa->why, "\r\n")] = '\0';
}

/* Maps a failed result to an errno value; logs what is unexpected. */
static int sa_error(struct store_admin *sa, PGresult *r)
{
	const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
	char msg[256];

	if (PQstatus(sa->c) != CONNECTION_OK || pgconn_must_replace(r)) {
		/* broken, or its server no longer takes writes: the next
		 * attempt finds the one that does */
		sa_down(sa, PQstatus(sa->c) != CONNECTION_OK ? PQerrorMessage(sa->c)
							     : PQresultErrorMessage(r));
		return -ECONNRESET;
	}
	if (state && strcmp(state, "23505") == 0) {
		sa_why(sa, r);
		return -EEXIST; /* unique_violation */
	}
	if (state && strcmp(state, "57014") == 0)
		return -ETIMEDOUT; /* query_canceled: statement_timeout */
	/* check_violation, not_null_violation, and class 22 (data
	 * exception: input the database cannot read): the request's fault,
	 * not ours, so not logged. */
	if (state && (strcmp(state, "23514") == 0 || strcmp(state, "23502") == 0 ||
		      strncmp(state, "22", 2) == 0)) {
		sa_why(sa, r);
		return -EINVAL;
	}
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

const char *store_admin_error(const struct store_admin *sa)
{
	return sa->why;
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

/* ---- sip servers -------------------------------------------------------- */

int store_admin_sip_servers(struct store_admin *sa, const struct sa_srv_filter *f,
			    struct sa_rows **out)
{
	const char *params[2] = {f->geo_location, f->ha_pair};

	return sa_query(sa,
			SRV_SELECT " WHERE ($1::text IS NULL OR s.geo_location = $1)"
				   " AND ($2::text IS NULL OR s.ha_pair = $2)" SRV_ORDER,
			2, params, false, out);
}

int store_admin_sip_server(struct store_admin *sa, const char *name, struct sa_rows **out)
{
	const char *params[1] = {name};

	return sa_query(sa, SRV_SELECT " WHERE s.name = $1" SRV_ORDER, 1, params, true, out);
}

/* The end of an add or update: the server as the API shows it, read in
 * the same transaction (a concurrent delete cannot come between), then
 * COMMIT. Takes written, the result of the write (no row: no server). */
static int sa_srv_end(struct store_admin *sa, const char *name, int rc, PGresult *written,
		      struct sa_rows **out)
{
	const char *params[1] = {name};
	PGresult *rows = NULL;

	if (rc == 0 && PQntuples(written) == 0)
		rc = -ENOENT;
	PQclear(written);
	if (rc == 0)
		rc = sa_exec(sa, SRV_SELECT " WHERE s.name = $1" SRV_ORDER, 1, params, false,
			     &rows);
	rc = sa_end(sa, rc);
	if (rc < 0) {
		PQclear(rows);
		return rc;
	}
	return sa_rows_wrap(rows, out);
}

int store_admin_sip_server_add(struct store_admin *sa, const char *name, const struct sa_srv_set *s,
			       struct sa_rows **out)
{
	char weight[16];
	const char *params[6] = {name,       s->uri,  s->geo_location,
				 s->ha_pair, s->role, s->weight < 0 ? NULL : weight};
	const char *off[1] = {name};
	PGresult *r = NULL;
	int rc;

	snprintf(weight, sizeof(weight), "%d", s->weight);
	rc = sa_begin(sa);
	if (rc == 0)
		rc = sa_exec(sa,
			     "SELECT 1 FROM junction_add_sip_server($1, $2, $3, $4, $5, "
			     "$6::integer)",
			     6, params, false, &r);
	/* The function adds servers enabled; one added disabled is switched
	 * off in the same transaction, so no node ever sees it on (the
	 * triggers' NOTIFYs go out at COMMIT). */
	if (rc == 0 && s->enabled == 0)
		rc = sa_exec(sa, "SELECT 1 FROM junction_set_sip_server($1, p_enabled => false)", 1,
			     off, false, NULL);
	return sa_srv_end(sa, name, rc, r, out);
}

int store_admin_sip_server_update(struct store_admin *sa, const char *name,
				  const struct sa_srv_set *s, struct sa_rows **out)
{
	char weight[16];
	const char *params[7] = {name,
				 s->uri,
				 s->geo_location,
				 s->ha_pair,
				 s->role,
				 s->weight < 0 ? NULL : weight,
				 s->enabled < 0 ? NULL
				 : s->enabled   ? "true"
						: "false"};
	PGresult *r = NULL;
	int rc;

	snprintf(weight, sizeof(weight), "%d", s->weight);
	rc = sa_begin(sa);
	if (rc == 0)
		rc = sa_exec(
			sa,
			"SELECT 1 FROM junction_set_sip_server($1, $2, $3, $4, $5, $6::integer, "
			"$7::boolean)",
			7, params, false, &r);
	return sa_srv_end(sa, name, rc, r, out);
}

int store_admin_sip_server_del(struct store_admin *sa, const char *name)
{
	const char *params[1] = {name};
	PGresult *r = NULL;
	bool gone = false;
	int rc = sa_begin(sa);

	if (rc == 0)
		rc = sa_exec(sa, "SELECT junction_del_sip_server($1)", 1, params, false, &r);
	if (rc == 0)
		gone = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
	PQclear(r);
	rc = sa_end(sa, rc);
	return rc == 0 && !gone ? -ENOENT : rc;
}

/* ---- sessions ----------------------------------------------------------- */

/*
 * A filter not given is a NULL parameter. The aor filter matches ended
 * dialogs too, so that it finds ended sessions (?ended=yes), through the
 * dialog_caller and dialog_callee indexes.
 */
int store_admin_sessions(struct store_admin *sa, const struct sa_ses_filter *f,
			 struct sa_rows **out)
{
	char before[24], min_age[24], max_age[24], limit[16];
	const char *params[7] = {f->before_id ? before : NULL,
				 f->ended ? "true" : "false",
				 f->sip_server,
				 f->aor,
				 f->min_age < 0 ? NULL : min_age,
				 f->max_age < 0 ? NULL : max_age,
				 limit};

	snprintf(before, sizeof(before), "%" PRId64, f->before_id);
	snprintf(min_age, sizeof(min_age), "%" PRId64, f->min_age);
	snprintf(max_age, sizeof(max_age), "%" PRId64, f->max_age);
	snprintf(limit, sizeof(limit), "%u", f->limit);
	return sa_query(sa,
			SES_SELECT SES_FROM
			" WHERE ($1::bigint IS NULL OR s.id < $1)"
			" AND ($2::boolean OR s.ended_at IS NULL)"
			" AND ($3::text IS NULL OR s.sip_server = $3)"
			" AND ($4::text IS NULL OR s.id IN (SELECT d.session_id FROM dialog d"
			" WHERE d.caller_aor = $4 OR d.callee_aor = $4))"
			" AND ($5::bigint IS NULL OR s.created_at <= now() - $5 * interval '1 s')"
			" AND ($6::bigint IS NULL OR s.created_at >= now() - $6 * interval '1 s')"
			" ORDER BY s.id DESC LIMIT $7::integer",
			7, params, false, out);
}

int store_admin_session(struct store_admin *sa, int64_t id, struct sa_rows **out)
{
	char idtext[24];
	const char *params[1] = {idtext};

	snprintf(idtext, sizeof(idtext), "%" PRId64, id);
	/* One statement, so that the session and its dialogs are one
	 * snapshot (its count agrees with the dialogs shown). */
	return sa_query(sa,
			SES_SELECT
			", " DLG_COLS ", " DLG_TIMES ", " DLG_LIMITS SES_FROM
			" LEFT JOIN dialog d ON d.session_id = s.id WHERE s.id = $1::bigint"
			" ORDER BY d.created_at, d.call_id, d.from_tag",
			1, params, true, out);
}

/* ---- call records --------------------------------------------------------- */

#define CDR_COLS                                                                                   \
	"id, event, " ISO("at") ", node, call_id, from_uri, from_tag, to_uri, to_tag, ruri, "      \
				"target, sip_server, status, reason"
#define CALL_TIMES ISO("started") ", " ISO("answered") ", " ISO("ended")
#define CALL_COLS                                                                                  \
	"call_id, from_tag, " CALL_TIMES ", status, reason, from_uri, to_uri, ruri, target, "      \
	"sip_server, node, array_to_json(nodes), "                                                 \
	"round(extract(epoch FROM duration) * 1000)::bigint"
/* The bounds ($1, $2: ms since the epoch; NULL: none) on a time. */
#define CDR_SINCE_AT      "($1::bigint IS NULL OR at >= to_timestamp($1::bigint / 1000.0))"
#define CDR_UNTIL_AT      "($2::bigint IS NULL OR at < to_timestamp($2::bigint / 1000.0))"
#define CDR_SINCE_STARTED "($1::bigint IS NULL OR started >= to_timestamp($1::bigint / 1000.0))"
#define CDR_UNTIL_STARTED "($2::bigint IS NULL OR started < to_timestamp($2::bigint / 1000.0))"
#define CDR_OF_CALL       "($3::text IS NULL OR call_id = $3)"

static const char sa_cdrs_sql[] = "SELECT " CDR_COLS " FROM cdr"
				  " WHERE " CDR_SINCE_AT " AND " CDR_UNTIL_AT " AND " CDR_OF_CALL
				  " ORDER BY at DESC, id DESC LIMIT $4::integer";

/*
 * The view groups every row of the table by call: the calls wanted are
 * found first by their start events (the index on at, newest first), and
 * the view is asked only for their Call-IDs, which PostgreSQL pushes
 * down to the index on call_id. The bounds apply again to the calls (a
 * Call-ID may have calls outside them).
 */
static const char sa_cdr_calls_sql[] =
	"SELECT " CALL_COLS " FROM cdr_call"
	" WHERE call_id = ANY (ARRAY(SELECT call_id FROM cdr WHERE event = 'start'"
	" AND " CDR_SINCE_AT " AND " CDR_UNTIL_AT " AND " CDR_OF_CALL
	" ORDER BY at DESC LIMIT $4::integer))"
	" AND " CDR_SINCE_STARTED " AND " CDR_UNTIL_STARTED
	" ORDER BY started DESC, call_id, from_tag LIMIT $4::integer";

/* The filter as the statements' four parameters. */
static int sa_cdr_query(struct store_admin *sa, const char *sql, const struct sa_cdr_filter *f,
			struct sa_rows **out)
{
	char from[24], to[24], limit[16];
	const char *params[4] = {f->from_ms < 0 ? NULL : from, f->to_ms < 0 ? NULL : to, f->call_id,
				 limit};

	snprintf(from, sizeof(from), "%" PRId64, f->from_ms);
	snprintf(to, sizeof(to), "%" PRId64, f->to_ms);
	snprintf(limit, sizeof(limit), "%u", f->limit);
	return sa_query(sa, sql, 4, params, false, out);
}

int store_admin_cdrs(struct store_admin *sa, const struct sa_cdr_filter *f, struct sa_rows **out)
{
	return sa_cdr_query(sa, sa_cdrs_sql, f, out);
}

int store_admin_cdr_calls(struct store_admin *sa, const struct sa_cdr_filter *f,
			  struct sa_rows **out)
{
	return sa_cdr_query(sa, sa_cdr_calls_sql, f, out);
}
/* ---- registration events ------------------------------------------------ */

/* Unix seconds, whole (the API's created_at and next_try). */
#define UNIX(col) "floor(extract(epoch FROM " col "))::bigint"
/* An event as the API shows it (enum sa_ev_col), then the count. */
#define EV_COLS                                                                                    \
	"id, aor, contact, event, expires, node, " UNIX("created_at") ", state, attempts, " UNIX(  \
		"next_try") ", claimed_by, last_error"

/*
 * One statement: the page and the count of every match (a window over the
 * filtered rows, before the LIMIT) are one snapshot. The view is the
 * operators' own (pending_reg_events), so that the API shows what psql
 * shows.
 */
int store_admin_notifications(struct store_admin *sa, const struct sa_ev_filter *f,
			      struct sa_rows **out)
{
	char limit[16];
	const char *params[3] = {f->aor, f->state, limit};

	snprintf(limit, sizeof(limit), "%u", f->limit);
	return sa_query(sa,
			"SELECT " EV_COLS ", count(*) OVER () FROM pending_reg_events"
			" WHERE ($1::text IS NULL OR aor = $1) AND ($2::text IS NULL OR state = $2)"
			" ORDER BY id LIMIT $3::integer",
			3, params, false, out);
}

/* ---- static routes and call forwards ------------------------------------ */

/* A route as the API shows it (enum sa_rt_col). */
#define RT_COLS                                                                                    \
	"id, kind, match, next_hop, priority, weight, enabled, description, " ISO(                 \
		"created_at") ", " ISO("updated_at")
/* A forward (enum sa_fwd_col, SA_FWD_CREATED aside). */
#define FWD_COLS                                                                                   \
	"aor, target, enabled, description, " ISO("created_at") ", " ISO("updated_at") ", id"

int store_admin_routes(struct store_admin *sa, const struct sa_rt_filter *f, struct sa_rows **out)
{
	char after[24], limit[16];
	const char *params[4] = {after, f->kind, f->match, limit};

	snprintf(after, sizeof(after), "%" PRId64, f->after_id);
	snprintf(limit, sizeof(limit), "%u", f->limit);
	return sa_query(sa,
			"SELECT " RT_COLS " FROM route WHERE id > $1::bigint"
			" AND ($2::text IS NULL OR kind = $2) AND ($3::text IS NULL OR match = $3)"
			" ORDER BY id LIMIT $4::integer",
			4, params, false, out);
}

int store_admin_route(struct store_admin *sa, int64_t id, struct sa_rows **out)
{
	char idtext[24];
	const char *params[1] = {idtext};

	snprintf(idtext, sizeof(idtext), "%" PRId64, id);
	return sa_query(sa, "SELECT " RT_COLS " FROM route WHERE id = $1::bigint", 1, params, true,
			out);
}

/* An INSERT (id 0: parameters $1..$7 are the columns) or UPDATE ($1 the
 * id, $2..$8 the columns) of a route in a transaction, the row it returns
 * into *out; -ENOENT when it returned none. */
static int sa_route_write(struct store_admin *sa, const char *sql, int64_t id,
			  const struct sa_rt_set *s, struct sa_rows **out)
{
	char idtext[24], prio[16], weight[16];
	const char *params[8] = {idtext,
				 s->kind,
				 s->match,
				 s->next_hop,
				 prio,
				 weight,
				 s->enabled ? "true" : "false",
				 s->description};
	PGresult *r = NULL;
	int rc;

	snprintf(idtext, sizeof(idtext), "%" PRId64, id);
	snprintf(prio, sizeof(prio), "%d", s->priority);
	snprintf(weight, sizeof(weight), "%d", s->weight);
	rc = sa_begin(sa);
	if (rc == 0)
		rc = id ? sa_exec(sa, sql, 8, params, false, &r)
			: sa_exec(sa, sql, 7, params + 1, false, &r);
	if (rc == 0 && PQntuples(r) == 0)
		rc = -ENOENT;
	rc = sa_end(sa, rc);
	if (rc < 0) {
		PQclear(r);
		return rc;
	}
	return sa_rows_wrap(r, out);
}

int store_admin_route_add(struct store_admin *sa, const struct sa_rt_set *s, struct sa_rows **out)
{
	return sa_route_write(sa,
			      "INSERT INTO route (kind, match, next_hop, priority, weight, enabled,"
			      " description) VALUES ($1, $2, $3, $4::integer, $5::integer,"
			      " $6::boolean, $7) RETURNING " RT_COLS,
			      0, s, out);
}

int store_admin_route_update(struct store_admin *sa, int64_t id, const struct sa_rt_set *s,
			     struct sa_rows **out)
{
	return sa_route_write(
		sa,
		"UPDATE route SET kind = $2, match = $3, next_hop = $4,"
		" priority = $5::integer, weight = $6::integer, enabled = $7::boolean,"
		" description = $8 WHERE id = $1::bigint RETURNING " RT_COLS,
		id, s, out);
}

int store_admin_route_del(struct store_admin *sa, int64_t id)
{
	char idtext[24];
	const char *params[1] = {idtext};
	PGresult *r = NULL;
	int rc;

	snprintf(idtext, sizeof(idtext), "%" PRId64, id);
	rc = sa_begin(sa);
	if (rc == 0)
		rc = sa_exec(sa, "DELETE FROM route WHERE id = $1::bigint RETURNING id", 1, params,
			     false, &r);
	if (rc == 0 && PQntuples(r) == 0)
		rc = -ENOENT;
	PQclear(r);
	return sa_end(sa, rc);
}

int store_admin_forwards(struct store_admin *sa, const struct sa_fwd_filter *f,
			 struct sa_rows **out)
{
	char after[24], limit[16];
	const char *params[3] = {after, f->domain, limit};

	snprintf(after, sizeof(after), "%" PRId64, f->after_id);
	snprintf(limit, sizeof(limit), "%u", f->limit);
	return sa_query(sa,
			"SELECT " FWD_COLS " FROM call_forward WHERE id > $1::bigint"
			" AND ($2::text IS NULL OR substring(aor from '@([^@]*)$') = $2)"
			" ORDER BY id LIMIT $3::integer",
			3, params, false, out);
}

int store_admin_forward(struct store_admin *sa, const char *aor, struct sa_rows **out)
{
	const char *params[1] = {aor};

	return sa_query(sa, "SELECT " FWD_COLS " FROM call_forward WHERE aor = $1", 1, params, true,
			out);
}

int store_admin_forward_set(struct store_admin *sa, const char *aor, const char *target,
			    bool enabled, const char *description, struct sa_rows **out)
{
	const char *params[4] = {aor, target, enabled ? "true" : "false", description};
	PGresult *r = NULL;
	int rc = sa_begin(sa);

	/* xmax is 0 in the row an INSERT made, not in one DO UPDATE changed */
	if (rc == 0)
		rc = sa_exec(sa,
			     "INSERT INTO call_forward AS f (aor, target, enabled, description)"
			     " VALUES ($1, $2, $3::boolean, $4) ON CONFLICT (aor) DO UPDATE"
			     " SET target = excluded.target, enabled = excluded.enabled,"
			     " description = excluded.description"
			     " RETURNING " FWD_COLS ", f.xmax = 0",
			     4, params, false, &r);
	rc = sa_end(sa, rc);
	if (rc < 0) {
		PQclear(r);
		return rc;
	}
	return sa_rows_wrap(r, out);
}

int store_admin_forward_del(struct store_admin *sa, const char *aor)
{
	const char *params[1] = {aor};
	PGresult *r = NULL;
	int rc = sa_begin(sa);

	if (rc == 0)
		rc = sa_exec(sa, "DELETE FROM call_forward WHERE aor = $1 RETURNING aor", 1, params,
			     false, &r);
	if (rc == 0 && PQntuples(r) == 0)
		rc = -ENOENT;
	PQclear(r);
	return sa_end(sa, rc);
}

/* ---- the nodes of the cluster -------------------------------------------- */

#define NODE_COLS                                                                                  \
	"name, version, geo_location, sip_listen, admin_listen, " ISO("started_at") ", " ISO(      \
		"last_seen") ", alive"

int store_admin_nodes(struct store_admin *sa, unsigned limit, struct sa_rows **out)
{
	char lim[16];
	const char *params[1] = {lim};

	snprintf(lim, sizeof(lim), "%u", limit);
	return sa_query(sa,
			"SELECT " NODE_COLS " FROM cluster_nodes ORDER BY name LIMIT $1::integer",
			1, params, false, out);
}
