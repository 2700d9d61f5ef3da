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
 * SA_SUB_*, SA_BND_*, SA_SRV_*, SA_SES_*, SA_EV_*, SA_RT_*, SA_FWD_* or
 * SA_NODE_* indexes below, text as PostgreSQL sends it, so that nothing outside
 * the store layer sees libpq. Times are ISO 8601 in UTC
 * ("2026-11-21T10:00:00.123Z"), but for the registration events' (unix
 * seconds, as /v1/notifications gives them).
 *
 * Errors (negative errno): -ENOTCONN the database cannot be reached;
 * -ECONNRESET the connection broke during the statement (a write's outcome
 * is unknown); -ETIMEDOUT the statement ran out of time; -EEXIST a unique
 * key is taken; -EINVAL the database refused a value (a CHECK, a trigger's
 * check_violation, input it cannot read); -ENOENT no such row; -EIO any
 * other failure (logged). After -EEXIST and -EINVAL, store_admin_error()
 * says why, for people.
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

/* Why the last statement was refused with -EEXIST or -EINVAL, in one
 * line: the database's message, or a sentence for the constraints of our
 * schema whose own message only names them. Borrowed until the next
 * statement on sa. */
const char *store_admin_error(const struct store_admin *sa);

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

/* ---- sip servers (Session Controllers) and what each node sees ---------- */

/* One row per server and node that reported on it (sip_server LEFT JOIN
 * sip_server_node): a server no node has reported on has one row, its
 * SA_SRVN_* columns NULL. */
enum sa_srv_col {
	SA_SRV_NAME = 0,
	SA_SRV_URI,
	SA_SRV_GEO_LOCATION,
	SA_SRV_HA_PAIR, /* NULL: not in a pair */
	SA_SRV_ROLE,    /* "primary" or "backup" */
	SA_SRV_WEIGHT,
	SA_SRV_ENABLED, /* "t" or "f" */
	SA_SRV_CREATED_AT,
	SA_SRV_UPDATED_AT,
	SA_SRVN_NODE,
	SA_SRVN_NODE_GEO_LOCATION,
	SA_SRVN_STATE, /* "active", "standby" or "oos" */
	SA_SRVN_SINCE,
	SA_SRVN_RTT_MS, /* NULL: no probe answered yet */
	SA_SRVN_LAST_SWITCHOVER,
	SA_SRVN_REASON,
	SA_SRVN_UPDATED_AT,
	SA_SRV__COLS
};

struct sa_srv_filter {
	const char *geo_location; /* NULL: any */
	const char *ha_pair;      /* NULL: any */
};

/* The columns of an add or an update. NULL or -1 leaves a column as it is
 * (update) or takes its default (add: no pair, primary, 100, enabled);
 * ha_pair "" takes the server out of its pair. */
struct sa_srv_set {
	const char *uri;
	const char *geo_location;
	const char *ha_pair;
	const char *role;
	int weight;  /* 0..10000, -1 */
	int enabled; /* 0, 1, -1 */
};

/* Servers by name, their nodes' rows by node. */
int store_admin_sip_servers(struct store_admin *sa, const struct sa_srv_filter *f,
			    struct sa_rows **out);
/* One server's rows; -ENOENT when there is none. */
int store_admin_sip_server(struct store_admin *sa, const char *name, struct sa_rows **out);
/* junction_add_sip_server(); *out: its rows as store_admin_sip_server()
 * gives them. -EEXIST when the name, or the role in the pair, is taken;
 * -EINVAL (a pair across two data centres, a bad value). */
int store_admin_sip_server_add(struct store_admin *sa, const char *name, const struct sa_srv_set *s,
			       struct sa_rows **out);
/* junction_set_sip_server(); *out: the rows after. -ENOENT, -EEXIST,
 * -EINVAL as for add. */
int store_admin_sip_server_update(struct store_admin *sa, const char *name,
				  const struct sa_srv_set *s, struct sa_rows **out);
/* junction_del_sip_server() (the nodes' rows go too). -ENOENT. */
int store_admin_sip_server_del(struct store_admin *sa, const char *name);

/* ---- sessions and their dialogs (read only: the nodes write them) ------- */

/* A session (enum sa_ses_col up to SA_SES_DIALOGS); one session's rows
 * have its dialogs too, one row per dialog (session LEFT JOIN dialog): a
 * session without dialogs has one row, its SA_DLG_* columns NULL. */
enum sa_ses_col {
	SA_SES_ID = 0,
	SA_SES_SIP_SERVER,
	SA_SES_HA_PAIR, /* its server's; NULL: none, or the server is gone */
	SA_SES_NODE,    /* the node that created it */
	SA_SES_CREATED,
	SA_SES_LAST_ACTIVITY,
	SA_SES_ENDED, /* NULL: open */
	SA_SES_MOVED_FROM,
	SA_SES_DIALOGS, /* how many of its dialogs have not ended */
	SA_DLG_CALL_ID,
	SA_DLG_FROM_TAG,
	SA_DLG_TO_TAG,
	SA_DLG_METHOD,
	SA_DLG_STATE, /* "early", "confirmed" or "ended" */
	SA_DLG_RELATION,
	SA_DLG_CALLER_AOR,
	SA_DLG_CALLEE_AOR,
	SA_DLG_NODE,
	SA_DLG_CREATED,
	SA_DLG_UPDATED,
	SA_DLG_EXPIRES,
	SA_DLG_ENDED,
	SA_SES__COLS
};

struct sa_ses_filter {
	int64_t before_id;      /* rows with a smaller id (pagination); 0: any */
	const char *sip_server; /* NULL: any */
	const char *aor;        /* a dialog's caller or callee, as stored; NULL: any */
	int64_t min_age;        /* seconds since created, at least; -1: any */
	int64_t max_age;        /* at most; -1: any */
	bool ended;             /* ended sessions too (else open ones only) */
	unsigned limit;
};

/* Sessions, newest (largest id) first; SA_SES_* columns only. */
int store_admin_sessions(struct store_admin *sa, const struct sa_ses_filter *f,
			 struct sa_rows **out);
/* One session, open or ended, with its dialogs by creation; -ENOENT when
 * there is none. */
int store_admin_session(struct store_admin *sa, int64_t id, struct sa_rows **out);

/* ---- call records (read only: the nodes write them) --------------------- */

/* An event of the cdr table (sql/008_cdr.sql). */
enum sa_cdr_col {
	SA_CDR_ID = 0,
	SA_CDR_EVENT, /* "start", "answer" or "end" */
	SA_CDR_AT,
	SA_CDR_NODE,
	SA_CDR_CALL_ID,
	SA_CDR_FROM_URI,
	SA_CDR_FROM_TAG,
	SA_CDR_TO_URI,
	SA_CDR_TO_TAG,
	SA_CDR_RURI,
	SA_CDR_TARGET,
	SA_CDR_SIP_SERVER,
	SA_CDR_STATUS,
	SA_CDR_REASON,
	SA_CDR__COLS
};

/* A call of the cdr_call view. */
enum sa_call_col {
	SA_CALL_CALL_ID = 0,
	SA_CALL_FROM_TAG,
	SA_CALL_STARTED,
	SA_CALL_ANSWERED, /* NULL: not answered */
	SA_CALL_ENDED,    /* NULL: not ended (yet) */
	SA_CALL_STATUS,
	SA_CALL_REASON,
	SA_CALL_FROM_URI,
	SA_CALL_TO_URI,
	SA_CALL_RURI,
	SA_CALL_TARGET,
	SA_CALL_SIP_SERVER,
	SA_CALL_NODE,
	SA_CALL_NODES,       /* a JSON array of strings */
	SA_CALL_DURATION_MS, /* NULL: not answered or not ended */
	SA_CALL__COLS
};

struct sa_cdr_filter {
	int64_t from_ms;     /* at (calls: started) at or after; -1: any */
	int64_t to_ms;       /* ... before; -1: any */
	const char *call_id; /* NULL: any */
	unsigned limit;
};

/* Events, newest (at, then id) first. */
int store_admin_cdrs(struct store_admin *sa, const struct sa_cdr_filter *f, struct sa_rows **out);
/* Calls found by their start event, newest first. */
int store_admin_cdr_calls(struct store_admin *sa, const struct sa_cdr_filter *f,
			  struct sa_rows **out);

/* ---- registration events (read only: the nodes write them) ------------- */

/* An event of the outbox (sql/006_reg_events.sql, the pending_reg_events
 * view): undelivered (pending, or claimed and "sending") or refused for
 * good ("failed", kept seven days). Times are unix seconds. */
enum sa_ev_col {
	SA_EV_ID = 0,
	SA_EV_AOR,
	SA_EV_CONTACT,
	SA_EV_EVENT, /* RFC 3680 §5.3: registered, refreshed, shortened, ... */
	SA_EV_EXPIRES,
	SA_EV_NODE,
	SA_EV_CREATED_AT,
	SA_EV_STATE, /* "pending", "sending" or "failed" */
	SA_EV_ATTEMPTS,
	SA_EV_NEXT_TRY,
	SA_EV_CLAIMED_BY, /* NULL: not claimed */
	SA_EV_LAST_ERROR, /* NULL: none yet */
	SA_EV_TOTAL,      /* rows matching the filter, the limit aside */
	SA_EV__COLS
};

struct sa_ev_filter {
	const char *aor;   /* exact, as stored; NULL: any */
	const char *state; /* NULL: any */
	unsigned limit;
};

/* The first limit events matching f, oldest (smallest id) first, each
 * row with the count of all that match. */
int store_admin_notifications(struct store_admin *sa, const struct sa_ev_filter *f,
			      struct sa_rows **out);

/* ---- static routes and call forwards (sql/007_routes.sql) ---------------- */

enum sa_rt_col {
	SA_RT_ID = 0,
	SA_RT_KIND, /* "domain", "prefix" or "outbound" */
	SA_RT_MATCH,
	SA_RT_NEXT_HOP,
	SA_RT_PRIORITY,
	SA_RT_WEIGHT,
	SA_RT_ENABLED,     /* "t" or "f" */
	SA_RT_DESCRIPTION, /* NULL: none */
	SA_RT_CREATED_AT,
	SA_RT_UPDATED_AT,
	SA_RT__COLS
};

struct sa_rt_filter {
	int64_t after_id;  /* pagination */
	const char *kind;  /* NULL: any */
	const char *match; /* exact, as stored; NULL: any */
	unsigned limit;
};

/* A route as written: every column (an update replaces them all). */
struct sa_rt_set {
	const char *kind, *match, *next_hop;
	int priority, weight;
	bool enabled;
	const char *description; /* NULL: none */
};

/* Routes by id. */
int store_admin_routes(struct store_admin *sa, const struct sa_rt_filter *f, struct sa_rows **out);
/* One route; -ENOENT when there is none. */
int store_admin_route(struct store_admin *sa, int64_t id, struct sa_rows **out);
/* *out: the new row. -EEXIST when the match has this next hop already;
 * -EINVAL (a CHECK). */
int store_admin_route_add(struct store_admin *sa, const struct sa_rt_set *s, struct sa_rows **out);
/* Replaces route id; *out: the row after. -ENOENT, -EEXIST, -EINVAL. */
int store_admin_route_update(struct store_admin *sa, int64_t id, const struct sa_rt_set *s,
			     struct sa_rows **out);
/* -ENOENT when there is none. */
int store_admin_route_del(struct store_admin *sa, int64_t id);

enum sa_fwd_col {
	SA_FWD_AOR = 0, /* user@domain */
	SA_FWD_TARGET,
	SA_FWD_ENABLED,     /* "t" or "f" */
	SA_FWD_DESCRIPTION, /* NULL: none */
	SA_FWD_CREATED_AT,
	SA_FWD_UPDATED_AT,
	SA_FWD_ID,      /* the order of creation, for pagination */
	SA_FWD_CREATED, /* store_admin_forward_set(): "t" when the row is new */
	SA_FWD__COLS
};

struct sa_fwd_filter {
	int64_t after_id;   /* pagination */
	const char *domain; /* the AOR's (lowercase); NULL: any */
	unsigned limit;
};

/* Forwards by id (the order of creation). */
int store_admin_forwards(struct store_admin *sa, const struct sa_fwd_filter *f,
			 struct sa_rows **out);
/* One forward (aor as stored: user@domain); -ENOENT when there is none. */
int store_admin_forward(struct store_admin *sa, const char *aor, struct sa_rows **out);
/* Creates or replaces the forward of aor; *out: the row after, its
 * SA_FWD_CREATED column "t" when it was created. -EINVAL (a CHECK). */
int store_admin_forward_set(struct store_admin *sa, const char *aor, const char *target,
			    bool enabled, const char *description, struct sa_rows **out);
/* -ENOENT when there is none. */
int store_admin_forward_del(struct store_admin *sa, const char *aor);

/* ---- the nodes of the cluster (sql/010_nodes.sql; read only) ------------ */

/* A row of the cluster_nodes view: each node writes its own. */
enum sa_node_col {
	SA_NODE_NAME = 0,
	SA_NODE_VERSION,
	SA_NODE_GEO_LOCATION, /* NULL: not set */
	SA_NODE_SIP_LISTEN,
	SA_NODE_ADMIN_LISTEN, /* NULL: its admin API is off */
	SA_NODE_STARTED_AT,
	SA_NODE_LAST_SEEN,
	SA_NODE_ALIVE, /* "t" or "f": a heartbeat within 30 s */
	SA_NODE__COLS
};

/* The nodes by name, at most limit of them. */
int store_admin_nodes(struct store_admin *sa, unsigned limit, struct sa_rows **out);

#endif
