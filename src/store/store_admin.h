/*
 * store_admin: the admin API's SQL, on blocking libpq connections.
 *
 * The admin server (admin.c) runs a small pool of threads of its own; each
 * borrows one struct store_admin (one connection) for the whole of a
 * request, so a slow query holds an admin thread and never a SIP worker.
 * A connection is opened on first use and re-opened after a failure, at
 * most once a second, so an unreachable database costs a request one
 * connect timeout, not one per query. Every statement runs under the
 * connection's statement_timeout (the admin request timeout).
 *
 * Results come back as a row set (struct sa_rows) whose columns are the
 * SA_SUB_* or SA_BND_* indexes below, text as PostgreSQL sends it, so that
 * nothing outside the store layer sees libpq. Times are ISO 8601 in UTC
 * ("2026-11-21T10:00:00.123Z").
 *
 * Errors (negative errno): -ENOTCONN the database cannot be reached;
 * -ECONNRESET the connection broke during the statement (a write's outcome
 * is unknown); -ETIMEDOUT the statement ran out of time; -EEXIST a unique
 * key is taken; -ENOENT no such row; -EIO any other failure (logged).
 */
#ifndef JCT_STORE_ADMIN_H
#define JCT_STORE_ADMIN_H

#include <stdbool.h>
#include <stdint.h>

struct store_admin;
struct sa_rows;

/* A connection for conninfo (copied); statements time out after
 * timeout_s seconds. It connects on first use. NULL when out of memory. */
struct store_admin *store_admin_new(const char *conninfo, unsigned timeout_s);
void store_admin_free(struct store_admin *sa);

/* SELECT 1; *rtt_us gets the round trip (connecting excluded). */
int store_admin_ping(struct store_admin *sa, uint64_t *rtt_us);

/* Row sets: the caller owns them and frees them with sa_rows_free(). */
unsigned sa_rows_count(const struct sa_rows *r);
/* The text of a column; NULL for SQL NULL. */
const char *sa_rows_get(const struct sa_rows *r, unsigned row, unsigned col);
void sa_rows_free(struct sa_rows *r);

/* ---- subscribers (never their HA1 values) ------------------------------ */

enum sa_sub_col {
	SA_SUB_ID = 0,
	SA_SUB_USERNAME,
	SA_SUB_DOMAIN,
	SA_SUB_ENABLED, /* "t" or "f" */
	SA_SUB_CREATED_AT,
	SA_SUB_UPDATED_AT,
	SA_SUB__COLS
};

struct sa_sub_filter {
	int64_t after_id;        /* rows with a larger id (pagination) */
	const char *domain;      /* NULL: any */
	const char *user_prefix; /* NULL: any */
	int enabled;             /* -1 any, 0, 1 */
	unsigned limit;
};

/* Subscribers by id. */
int store_admin_subscribers(struct store_admin *sa, const struct sa_sub_filter *f,
			    struct sa_rows **out);
/* One subscriber; -ENOENT when there is none. */
int store_admin_subscriber(struct store_admin *sa, const char *user, const char *domain,
			   struct sa_rows **out);
/* junction_add_subscriber(); *out: the new row. -EEXIST when it exists. */
int store_admin_subscriber_add(struct store_admin *sa, const char *user, const char *domain,
			       const char *password, bool enabled, struct sa_rows **out);
/* junction_set_password() when password is not NULL, and enabled when it
 * is 0 or 1, in one transaction; *out: the row after. -ENOENT. */
int store_admin_subscriber_update(struct store_admin *sa, const char *user, const char *domain,
				  const char *password, int enabled, struct sa_rows **out);
/* junction_del_subscriber() (its bindings go too). -ENOENT. */
int store_admin_subscriber_del(struct store_admin *sa, const char *user, const char *domain);

/* ---- bindings (active ones: not expired) -------------------------------- */

enum sa_bnd_col {
	SA_BND_ID = 0,
	SA_BND_AOR,
	SA_BND_CONTACT,
	SA_BND_EXPIRES, /* seconds left */
	SA_BND_EXPIRES_AT,
	SA_BND_Q,
	SA_BND_RECEIVED,
	SA_BND_PATH,
	SA_BND_USER_AGENT,
	SA_BND_NODE,
	SA_BND_CALL_ID,
	SA_BND_CSEQ,
	SA_BND_INSTANCE,
	SA_BND_REG_ID,
	SA_BND_UPDATED_AT,
	SA_BND__COLS
};

struct sa_bnd_filter {
	int64_t after_id;   /* pagination */
	int64_t id;         /* 0: any */
	const char *aor;    /* exact, as stored ("sip:alice@example.com"); NULL: any */
	const char *domain; /* the AOR's domain (case-insensitive); NULL: any */
	const char *node;   /* NULL: any */
	unsigned limit;
};

int store_admin_bindings(struct store_admin *sa, const struct sa_bnd_filter *f,
			 struct sa_rows **out);
/* Removes one binding; -ENOENT when it is not there or has expired. Under
 * the AOR's registration lock, like a REGISTER. */
int store_admin_binding_del(struct store_admin *sa, int64_t id);
/* Removes every binding of aor; *deleted counts the active ones. */
int store_admin_bindings_del_aor(struct store_admin *sa, const char *aor, uint64_t *deleted);
/* Active bindings in the whole cluster. */
int store_admin_bindings_count(struct store_admin *sa, uint64_t *n);

#endif
