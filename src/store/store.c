/*
 * store: see store.h.
 *
 * Each connection is a small state machine: DOWN (waiting for the next
 * attempt), CONNECTING (PQconnectPoll), SETUP (statements being prepared)
 * and UP. Everything sent is recorded, in order, in the connection's queue
 * of expected replies (a prepare, an operation, a sync point); results are
 * matched against it as libpq returns them: each command's results end
 * with a NULL from PQgetResult, a sync point with PGRES_PIPELINE_SYNC.
 *
 * A store has one or more connections ([database] connections_per_worker)
 * and one batch being built. The batch leaves on an idle connection at
 * once; when every connection has a batch on the wire it grows until one
 * comes back (or it reaches STORE_BATCH_MAX). With one connection a
 * REGISTER may wait for the whole batch ahead of it, round trip and
 * commit; with more, batches are smaller and leave sooner, which pays
 * when the database is far away and costs PostgreSQL CPU per operation
 * when it is near.
 *
 * A batch is its operations followed by a sync point: the extended query
 * protocol runs everything up to a Sync as one implicit transaction,
 * committed when the Sync is processed, so no BEGIN or COMMIT statements
 * are needed. If any operation fails the whole implicit transaction rolls
 * back, and every write of the batch completes with -EIO.
 *
 * Operations of a statement marked "merged" (REGISTERs) do not go one
 * statement each when a batch has STORE_MERGE_MIN of them or more: it
 * sends them as one call, whose array parameters are the operations' own
 * arrays joined, and whose rows carry in their first column which
 * operation (1, 2, ...) they answer. Each operation then sees only its
 * rows, without that column. One statement for many operations is what
 * makes a busy batch cheap for PostgreSQL; fewer go one by one, each
 * through the statement's single form, which returns the same rows.
 *
 * Memory: operations come from a free list owned by the store and keep
 * their parameters in a buffer of their own, since the batch is sent after
 * the caller has moved on. A write's PGresult is kept until its batch's
 * sync point comes back; the PGresult of merged operations belongs to the
 * first of them (the leader), which completes last.
 */
#include "store/store.h"

#include "base/clock.h"
#include "base/log.h"
#include "base/siphash.h"
#include "store/pgconn.h"
#include "store/pgtext.h"

#include <errno.h>
#include <libpq-fe.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#define STORE_MAX_PARAMS  16
#define STORE_MAX_PENDING 20000
#define STORE_BATCH_MAX   16 /* operations in one batch before it goes anyway */
/* A batch of deferred writes alone (store_op_defer()) waits this long for
 * more operations to go with it. */
#define STORE_DEFER_MS 50
/* Group commit at a steady load: a batch of fewer writes than make a
 * merged statement waits up to STORE_LINGER_NS for more when the last
 * batch left less than STORE_LINGER_BUSY_NS before it started. */
#define STORE_LINGER_NS      1000000ULL
#define STORE_LINGER_BUSY_NS 2000000ULL
#define STORE_BACKOFF_MIN_MS 100
#define STORE_BACKOFF_MAX_MS 1000
/* A batch with no answer for this long means the server or the path to it
 * is gone without the socket noticing: reset and reconnect. */
#define STORE_BATCH_TIMEOUT_MS 15000
/* libpq enforces no connect_timeout on a non-blocking connect: a server
 * that does not answer (gone without a reset) is given up after this,
 * and the next attempt starts at the next host of the conninfo. */
#define STORE_CONNECT_TIMEOUT_MS 5000
/* The fewest operations worth a merged statement. Measured in PostgreSQL
 * 15 here: junction_register_batch() costs about 300 us a call and 27 us a
 * REGISTER, junction_register() about 100 us a REGISTER; below 4 a
 * batch's REGISTERs go one statement each. */
#define STORE_MERGE_MIN 4

static const struct {
	const char *name;
	const char *sql;
	int nparams;
	/* Merged: every parameter an array literal, rows starting with the
	 * op's ordinal; one_* is the same for a single op (one-element
	 * arrays, ordinal 1), for batches too small to merge. */
	bool merged;
	const char *one_name, *one_sql;
	int one_nparams;
} stmts[STORE__COUNT] = {
	[STORE_REGISTER] = {"reg",
			    "SELECT reg, status, contact, q, expires, path FROM "
			    "junction_register_batch($1::text[], $2::text[], $3::bigint[], "
			    "$4::text[], $5::integer[], $6::numeric[], $7::text[], $8::integer[], "
			    "$9::boolean[], $10::text[], $11::text[], $12::text[], $13::text[], "
			    "$14::integer[], $15::integer[])",
			    15, true, "reg1",
			    "SELECT 1, status, contact, q, expires, path FROM junction_register("
			    "($1::text[])[1], ($2::text[])[1], ($3::bigint[])[1], $4::text[], "
			    "$5::integer[], $6::numeric[], $7::text[], $8::integer[], "
			    "($9::boolean[])[1], ($10::text[])[1], ($11::text[])[1], "
			    "($12::text[])[1], ($13::text[])[1], ($14::integer[])[1])",
			    14},
	[STORE_LOOKUP] = {"lookup",
			  "SELECT known, contact, q, path, received, expires "
			  "FROM junction_lookup($1, $2, $3)",
			  3},
	[STORE_SUBSCRIBER] = {"subscriber",
			      "SELECT ha1_md5, ha1_sha256, enabled FROM subscriber "
			      "WHERE username = $1 AND domain = $2",
			      2},
	[STORE_SWEEP] = {"sweep", "SELECT junction_sweep_expired($1::integer)", 1},
	[STORE_PING] = {"ping", "SELECT 1", 0},
#define DIALOG_BEGIN_SQL                                                                           \
	"SELECT op, session_id, sip_server, relation, moved_from FROM junction_dialog_begin("      \
	"$1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], "     \
	"$8::text[], $9::boolean[], $10::text[], $11::boolean[], $12::text[], $13::text[], "       \
	"$14::text[], $15::integer[])"
	[STORE_DIALOG_BEGIN] = {"dbegin", DIALOG_BEGIN_SQL, 15, true, "dbegin1", DIALOG_BEGIN_SQL,
				15},
#define DIALOG_UPDATE_SQL                                                                          \
	"SELECT op, changed FROM junction_dialog_update($1::text[], $2::text[], $3::text[], "      \
	"$4::text[], $5::integer[])"
	[STORE_DIALOG_UPDATE] = {"dupdate", DIALOG_UPDATE_SQL, 5, true, "dupdate1",
				 DIALOG_UPDATE_SQL, 5},
	[STORE_DIALOG_LOOKUP] =
		{"dlookup",
		 "SELECT d.session_id, s.sip_server, "
		 "greatest(0, extract(epoch FROM d.expires_at - now()))::integer "
		 "FROM dialog d JOIN session s ON s.id = d.session_id "
		 "WHERE d.call_id = $1 ORDER BY d.state = 'ended', d.created_at DESC "
		 "LIMIT 1",
		 1},
	[STORE_EVENT_SETUP] = {"evsetup",
			       "SELECT junction_reg_event_setup($1, $2::boolean, $3::boolean)", 3},
	[STORE_EVENT_CLAIM] =
		{"evclaim",
		 "SELECT id, aor, contact, event, expires, binding_id, call_id, cseq, "
		 "q, path, received, attempts, version, bindings, subscription_id, "
		 "sub_call_id, sub_local_tag, sub_remote_tag, sub_remote_uri, "
		 "sub_target, sub_route_set, sub_cseq, sub_expires "
		 "FROM junction_reg_event_claim($1, $2::integer, $3::boolean, "
		 "$4::integer, $5::integer)",
		 5},
	[STORE_EVENT_DONE] = {"evdone",
			      "SELECT junction_reg_event_done($1, $2::bigint[], $3::integer[], "
			      "$4::text[], $5::text[], $6::integer, $7::integer)",
			      7},
	[STORE_REG_SUBSCRIBE] = {"regsub",
				 "SELECT junction_reg_subscribe($1, $2, $3, $4, $5, $6, $7, $8, "
				 "$9::integer, $10, $11::integer, $12::boolean)",
				 12},
};

/* The first statement of a batch whose writes are all relaxed
 * (store_op_relax()): its transaction commits without waiting for the WAL
 * flush (PostgreSQL's asynchronous commit); set_config(..., true) lasts
 * until the batch's implicit transaction ends. */
#define RELAX_NAME "relax"
#define RELAX_SQL  "SELECT set_config('synchronous_commit', 'off', true)"

enum store_state { ST_DOWN = 0, ST_CONNECTING, ST_SETUP, ST_UP };

/* What a completion sees: rows row0.. of res, columns from col0 on. */
struct store_result {
	PGresult *res;
	unsigned row0, nrows, col0;
};

struct store_op {
	struct store_op *next;
	struct store_op *merged_next; /* the next op of the same merged statement */
	struct store_result view;     /* set for merged ops when their rows are in */
	enum store_stmt stmt;
	bool write;
	bool deferred; /* store_op_defer() */
	bool relaxed;  /* store_op_relax() */
	uint64_t lock_key;
	store_done_fn fn;
	void *arg;
	unsigned nparams;
	uint32_t param_off[STORE_MAX_PARAMS];
	bool param_null[STORE_MAX_PARAMS];
	char *buf;
	size_t buf_len, buf_cap;
	PGresult *res; /* owned; of a merged statement, by its leader only */
	int err;
};

enum item_kind { IT_PREPARE, IT_OP, IT_RELAX, IT_SYNC };

struct item {
	enum item_kind kind;
	struct store_op *op;     /* IT_OP */
	bool batch;              /* IT_SYNC: the end (and commit) of a batch */
	struct store_op *writes; /* IT_SYNC of a batch: its writes, waiting for it */
	uint64_t sent_ms;
	uint64_t sent_ns; /* for the round-trip histogram */
	bool failed;      /* a result of this item, or of its batch, was an error */
};

struct conn {
	struct store *s;
	unsigned index;
	PGconn *conn;
	enum store_state state;
	PostgresPollingStatusType poll_status;
	uint64_t next_attempt_ms;
	unsigned backoff_ms;
	bool want_write;   /* PQflush left data to send */
	bool setup_failed; /* a statement could not be prepared */
	bool logged_down;
	unsigned gen;              /* pgconn_generation() it was opened under */
	unsigned attempts;         /* failed connects: the next starts at this host */
	uint64_t connect_start_ms; /* of the attempt under way */

	struct item *items; /* ring of expected replies */
	unsigned items_cap, items_head, items_n;
	unsigned inflight; /* batches sent and not yet committed */
};

struct store {
	unsigned sock_serial; /* bumped whenever a socket may have changed */
	char *conninfo;
	char name[64];
	struct conn *conns;
	unsigned nconns;

	struct store_op *batch; /* the batch being built, newest first */
	unsigned batch_n;
	unsigned batch_urgent;   /* its operations not deferred */
	unsigned batch_writes;   /* its writes */
	uint64_t batch_start_ns; /* when its first operation joined */
	uint64_t last_sent_ns;   /* when the last batch left */
	uint64_t batch_defer_ms; /* when its first deferred one must leave */
	struct store_op *free_ops;
	unsigned pending;

	char *merge_buf; /* the joined parameters of a merged statement */
	size_t merge_cap;

	unsigned gen_seen; /* pgconn_generation() no connection is older than */
	uint64_t last_rtt_us;
	store_rtt_fn rtt;
	void *rtt_arg;
};

/* ---- expected replies ------------------------------------------------- */

static int items_push(struct conn *c, struct item it)
{
	if (c->items_n == c->items_cap) {
		unsigned cap = c->items_cap ? c->items_cap * 2 : 256;
		struct item *n = malloc(sizeof(*n) * cap);

		if (!n)
			return -ENOMEM;
		for (unsigned i = 0; i < c->items_n; i++)
			n[i] = c->items[(c->items_head + i) % c->items_cap];
		free(c->items);
		c->items = n;
		c->items_cap = cap;
		c->items_head = 0;
	}
	c->items[(c->items_head + c->items_n) % c->items_cap] = it;
	c->items_n++;
	return 0;
}

static struct item *items_front(struct conn *c)
{
	return c->items_n ? &c->items[c->items_head] : NULL;
}

static void items_pop(struct conn *c)
{
	c->items_head = (c->items_head + 1) % c->items_cap;
	c->items_n--;
}

/* ---- operations ------------------------------------------------------- */

static void op_release(struct store *s, struct store_op *op)
{
	if (op->res)
		PQclear(op->res);
	op->res = NULL;
	op->next = s->free_ops;
	s->free_ops = op;
	s->pending--;
}

/* Runs the completion and frees the operation. */
static void op_complete(struct store *s, struct store_op *op, int err)
{
	struct store_result r = {.res = op->res,
				 .nrows = op->res ? (unsigned)PQntuples(op->res) : 0};

	if (stmts[op->stmt].merged)
		r = op->view;
	op->fn(op->arg, err, err ? NULL : &r);
	op_release(s, op);
}

/* Completes the ops of a merged statement, the leader (which owns the
 * result the others see) last. */
static void merged_complete(struct store *s, struct store_op *leader, int err)
{
	struct store_op *op = leader->merged_next, *next;

	for (; op; op = next) {
		next = op->merged_next;
		op_complete(s, op, err ? err : op->err);
	}
	op_complete(s, leader, err ? err : leader->err);
}

static void retire_stale(struct store *s, uint64_t now_ms);

struct store_op *store_op_begin(struct store *s, enum store_stmt stmt, bool write,
				uint64_t lock_key, store_done_fn fn, void *arg, int *err)
{
	uint64_t now_ns = clock_now_ns();
	struct store_op *op;

	retire_stale(s, now_ns / 1000000);
	if (!store_up(s)) {
		*err = -ENOTCONN;
		return NULL;
	}
	if (s->pending >= STORE_MAX_PENDING) {
		*err = -ENOBUFS;
		return NULL;
	}
	op = s->free_ops;
	if (op) {
		s->free_ops = op->next;
	} else {
		op = calloc(1, sizeof(*op));
		if (!op) {
			*err = -ENOMEM;
			return NULL;
		}
	}
	op->stmt = stmt;
	op->write = write;
	op->deferred = false;
	op->relaxed = false;
	op->lock_key = lock_key;
	op->fn = fn;
	op->arg = arg;
	op->nparams = 0;
	op->buf_len = 0;
	op->res = NULL;
	op->view = (struct store_result){0};
	op->merged_next = NULL;
	op->err = 0;
	if (!s->batch_n)
		s->batch_start_ns = now_ns;
	op->next = s->batch;
	s->batch = op;
	s->batch_n++;
	s->batch_urgent++;
	s->batch_writes += write;
	s->pending++;
	return op;
}

void store_op_defer(struct store *s, struct store_op *op)
{
	if (op->deferred || !op->write)
		return;
	op->deferred = true;
	s->batch_urgent--;
	if (!s->batch_defer_ms)
		s->batch_defer_ms = clock_now_ms() + STORE_DEFER_MS;
}

void store_op_relax(struct store_op *op)
{
	op->relaxed = op->write;
}

/* Makes room for n more parameter bytes; on failure the parameter
 * becomes NULL and the statement fails, which the caller sees as -EIO. */
static bool op_reserve(struct store_op *op, size_t n)
{
	if (op->buf_len + n <= op->buf_cap)
		return true;
	size_t cap = op->buf_cap ? op->buf_cap : 512;
	while (cap < op->buf_len + n)
		cap *= 2;
	char *p = realloc(op->buf, cap);
	if (!p)
		return false;
	op->buf = p;
	op->buf_cap = cap;
	return true;
}

/* Appends text (pgtext_put(): NUL and invalid UTF-8 become '?'). */
static void op_put(struct store_op *op, const char *p, size_t len)
{
	op->buf_len += pgtext_put(op->buf + op->buf_len, p, len);
}

void store_op_param(struct store_op *op, const char *p, size_t len)
{
	unsigned i = op->nparams;

	if (i >= STORE_MAX_PARAMS)
		return;
	op->nparams++;
	op->param_null[i] = !p || !op_reserve(op, len + 1);
	if (op->param_null[i])
		return;
	op->param_off[i] = (uint32_t)op->buf_len;
	op_put(op, p, len);
	op->buf[op->buf_len++] = '\0';
}

void store_op_param_text_array(struct store_op *op, const struct sip_str *v, unsigned n)
{
	unsigned i = op->nparams;

	if (i >= STORE_MAX_PARAMS)
		return;
	op->nparams++;
	op->param_null[i] = !op_reserve(op, pgtext_text_array_max(v, n));
	if (op->param_null[i])
		return;
	op->param_off[i] = (uint32_t)op->buf_len;
	op->buf_len += pgtext_text_array(op->buf + op->buf_len, v, n) + 1;
}

void store_op_param_int_array(struct store_op *op, const int64_t *v, const bool *null, unsigned n)
{
	unsigned i = op->nparams;

	if (i >= STORE_MAX_PARAMS)
		return;
	op->nparams++;
	op->param_null[i] = !op_reserve(op, pgtext_int_array_max(n));
	if (op->param_null[i])
		return;
	op->param_off[i] = (uint32_t)op->buf_len;
	op->buf_len += pgtext_int_array(op->buf + op->buf_len, v, null, n) + 1;
}

/* ---- results ---------------------------------------------------------- */

unsigned store_result_rows(const struct store_result *r)
{
	return r && r->res ? r->nrows : 0;
}

bool store_result_null(const struct store_result *r, unsigned row, unsigned col)
{
	return !r || !r->res || row >= r->nrows ||
	       PQgetisnull(r->res, (int)(r->row0 + row), (int)(r->col0 + col));
}

struct sip_str store_result_get(const struct store_result *r, unsigned row, unsigned col)
{
	if (store_result_null(r, row, col))
		return SIP_STR_NULL;
	return sip_str_make(
		PQgetvalue(r->res, (int)(r->row0 + row), (int)(r->col0 + col)),
		(size_t)PQgetlength(r->res, (int)(r->row0 + row), (int)(r->col0 + col)));
}

/* ---- connection ------------------------------------------------------- */

struct store *store_new(const char *conninfo, const char *name, unsigned nconns, store_rtt_fn rtt,
			void *arg)
{
	struct store *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->nconns = nconns < 1 ? 1 : nconns > STORE_MAX_CONNS ? STORE_MAX_CONNS : nconns;
	s->conninfo = strdup(conninfo);
	s->conns = calloc(s->nconns, sizeof(*s->conns));
	if (!s->conninfo || !s->conns) {
		free(s->conninfo);
		free(s->conns);
		free(s);
		return NULL;
	}
	snprintf(s->name, sizeof(s->name), "%s", name);
	for (unsigned i = 0; i < s->nconns; i++) {
		s->conns[i].s = s;
		s->conns[i].index = i;
		s->conns[i].backoff_ms = STORE_BACKOFF_MIN_MS;
	}
	pgconn_store_new();
	s->rtt = rtt;
	s->rtt_arg = arg;
	return s;
}

/* The batch being built is gone (sent, or failed): an empty one. */
static void batch_clear(struct store *s)
{
	s->batch = NULL;
	s->batch_n = 0;
	s->batch_urgent = 0;
	s->batch_writes = 0;
	s->batch_defer_ms = 0;
}

/* Completes the batch being built with err. */
static void fail_batch(struct store *s, int err)
{
	struct store_op *op;

	while ((op = s->batch)) {
		s->batch = op->next;
		op_complete(s, op, err);
	}
	batch_clear(s);
}

/* Completes everything on this connection's wire with err. Its state is
 * already DOWN, so a completion that starts a new operation goes to
 * another connection or is refused. */
static void fail_conn(struct conn *c, int err)
{
	struct store_op *op;

	while (c->items_n) {
		struct item it = *items_front(c);

		items_pop(c);
		if (it.kind == IT_OP)
			merged_complete(c->s, it.op, err);
		/* Writes not yet answered are still IT_OP items, answered ones
		 * wait on their batch's IT_SYNC. */
		while ((op = it.writes)) {
			it.writes = op->next;
			op_complete(c->s, op, err);
		}
	}
}

static void go_down(struct conn *c, uint64_t now_ms, const char *why)
{
	bool was_up = c->state == ST_UP;

	if (c->state == ST_CONNECTING || c->state == ST_SETUP)
		c->attempts++;

	if (!c->logged_down)
		log_error("event=db_down store=%s conn=%u reason=\"%s\"", c->s->name, c->index,
			  why);
	c->logged_down = true;
	if (c->conn)
		PQfinish(c->conn);
	c->conn = NULL;
	c->state = ST_DOWN;
	c->want_write = false;
	c->inflight = 0;
	c->s->sock_serial++;
	c->next_attempt_ms = now_ms + c->backoff_ms;
	c->backoff_ms =
		c->backoff_ms * 2 > STORE_BACKOFF_MAX_MS ? STORE_BACKOFF_MAX_MS : c->backoff_ms * 2;
	if (was_up && !store_up(c->s))
		pgconn_store_down();
	fail_conn(c, -ECONNRESET);
	/* The batch being built waits for another connection, if one is up. */
	if (!store_up(c->s))
		fail_batch(c->s, -ECONNRESET);
}

/* Closes the idle connections opened before the primary last moved (a
 * failover another connection saw, or a read-only error): one left on
 * the old server could take a write that the new primary never sees.
 * Reconnected at once; busy ones go when their batch is back. */
static void retire_stale(struct store *s, uint64_t now_ms)
{
	unsigned gen = pgconn_generation();
	bool busy = false;

	if (gen == s->gen_seen)
		return; /* the usual case, on every operation: one load */
	for (unsigned i = 0; i < s->nconns; i++) {
		struct conn *c = &s->conns[i];

		if (c->state != ST_UP || c->gen == gen)
			continue;
		if (c->items_n) {
			busy = true; /* again at the next call */
			continue;
		}
		go_down(c, now_ms, "the primary moved: reconnecting");
		c->next_attempt_ms = now_ms;
	}
	if (!busy)
		s->gen_seen = gen;
}

static void conn_error(struct conn *c, uint64_t now_ms)
{
	char why[256];

	snprintf(why, sizeof(why), "%s", c->conn ? PQerrorMessage(c->conn) : "no connection");
	why[strcspn(why, "\r\n\"")] = '\0';
	go_down(c, now_ms, why);
}

static void flush_out(struct conn *c, uint64_t now_ms)
{
	int r = PQflush(c->conn);

	if (r < 0)
		conn_error(c, now_ms);
	else
		c->want_write = r == 1;
}

static void start_setup(struct conn *c, uint64_t now_ms)
{
	if (PQsetnonblocking(c->conn, 1) != 0 || PQenterPipelineMode(c->conn) != 1) {
		conn_error(c, now_ms);
		return;
	}
	for (int i = 0; i < STORE__COUNT; i++) {
		if (!PQsendPrepare(c->conn, stmts[i].name, stmts[i].sql, stmts[i].nparams, NULL) ||
		    items_push(c, (struct item){.kind = IT_PREPARE}) < 0 ||
		    (stmts[i].merged &&
		     (!PQsendPrepare(c->conn, stmts[i].one_name, stmts[i].one_sql,
				     stmts[i].one_nparams, NULL) ||
		      items_push(c, (struct item){.kind = IT_PREPARE}) < 0))) {
			conn_error(c, now_ms);
			return;
		}
	}
	if (!PQsendPrepare(c->conn, RELAX_NAME, RELAX_SQL, 0, NULL) ||
	    items_push(c, (struct item){.kind = IT_PREPARE}) < 0 || !PQpipelineSync(c->conn) ||
	    items_push(c, (struct item){.kind = IT_SYNC, .sent_ms = now_ms}) < 0) {
		conn_error(c, now_ms);
		return;
	}
	c->state = ST_SETUP;
	flush_out(c, now_ms);
}

static void connect_step(struct conn *c, uint64_t now_ms)
{
	if (c->state == ST_DOWN) {
		if (now_ms < c->next_attempt_ms)
			return;
		c->conn = pgconn_start(c->s->conninfo, "junction-worker", c->attempts);
		c->connect_start_ms = now_ms;
		c->s->sock_serial++;
		if (!c->conn || PQstatus(c->conn) == CONNECTION_BAD) {
			conn_error(c, now_ms);
			return;
		}
		c->state = ST_CONNECTING;
		c->poll_status = PGRES_POLLING_WRITING;
		return;
	}
	c->poll_status = PQconnectPoll(c->conn);
	c->s->sock_serial++; /* libpq may have moved to another address'c socket */
	if (c->poll_status == PGRES_POLLING_FAILED) {
		conn_error(c, now_ms);
		return;
	}
	if (c->poll_status == PGRES_POLLING_OK)
		start_setup(c, now_ms);
}

/* ---- sending ---------------------------------------------------------- */

/* Sends op as a statement of its own (the one_* form of a merged one). */
static int send_op(struct conn *c, struct store_op *op)
{
	const char *values[STORE_MAX_PARAMS];
	bool one = stmts[op->stmt].merged;
	unsigned n = one ? (unsigned)stmts[op->stmt].one_nparams : op->nparams;

	for (unsigned i = 0; i < n; i++)
		values[i] = op->param_null[i] ? NULL : op->buf + op->param_off[i];
	if (!PQsendQueryPrepared(c->conn, one ? stmts[op->stmt].one_name : stmts[op->stmt].name,
				 (int)n, values, NULL, NULL, 0))
		return -EIO;
	return items_push(c, (struct item){.kind = IT_OP, .op = op});
}

/* An op of a merged statement has all its array parameters, unless memory
 * ran out while adding one: then it cannot be sent at all (an array
 * passed as NULL would read as an empty REGISTER). */
static bool op_complete_params(const struct store_op *op)
{
	if (op->nparams != (unsigned)stmts[op->stmt].nparams)
		return false;
	for (unsigned i = 0; i < op->nparams; i++)
		if (op->param_null[i])
			return false;
	return true;
}

/* Appends the elements of the array literal lit ("{a,b}") to the one
 * being built at s->merge_buf (whose '{' is written), with a comma after
 * the elements of an earlier one (*any). */
static void merge_elements(struct store *s, size_t *len, const char *lit, bool *any)
{
	size_t n = strlen(lit);

	if (n <= 2) /* "{}" */
		return;
	if (*any)
		s->merge_buf[(*len)++] = ',';
	memcpy(s->merge_buf + *len, lit + 1, n - 2);
	*len += n - 2;
	*any = true;
}

/* Sends ops[first] and every later op of the same statement as
 * one call, their array parameters joined in that order; chains them from
 * ops[first] (the leader) and takes them out of ops[]. On failure nothing
 * is taken out and nothing is recorded. */
static int send_merged(struct conn *c, struct store_op **ops, unsigned n, unsigned first)
{
	struct store *s = c->s;
	struct store_op *leader = ops[first], **tail = &leader->merged_next;
	unsigned np = (unsigned)stmts[leader->stmt].nparams;
	const char *values[STORE_MAX_PARAMS];
	size_t off[STORE_MAX_PARAMS], need = 3 * (size_t)np, len = 0;
	int rc;

	for (unsigned k = first; k < n; k++)
		if (ops[k] && ops[k]->stmt == leader->stmt)
			need += ops[k]->buf_len;
	if (need > s->merge_cap) {
		char *p = realloc(s->merge_buf, need);

		if (!p)
			return -ENOMEM;
		s->merge_buf = p;
		s->merge_cap = need;
	}
	for (unsigned i = 0; i < np; i++) {
		bool any = false;

		off[i] = len;
		s->merge_buf[len++] = '{';
		for (unsigned k = first; k < n; k++) {
			const struct store_op *op = ops[k];

			if (op && op->stmt == leader->stmt)
				merge_elements(s, &len, op->buf + op->param_off[i], &any);
		}
		s->merge_buf[len++] = '}';
		s->merge_buf[len++] = '\0';
	}
	for (unsigned i = 0; i < np; i++)
		values[i] = s->merge_buf + off[i];
	if (!PQsendQueryPrepared(c->conn, stmts[leader->stmt].name, (int)np, values, NULL, NULL, 0))
		return -EIO;
	rc = items_push(c, (struct item){.kind = IT_OP, .op = leader});
	if (rc < 0)
		return rc;
	for (unsigned k = first + 1; k < n; k++) {
		if (ops[k] && ops[k]->stmt == leader->stmt) {
			*tail = ops[k];
			tail = &ops[k]->merged_next;
			ops[k] = NULL;
		}
	}
	return 0;
}

uint64_t store_lock_key(const void *key, size_t len)
{
	/* a fixed key: the hash only sorts a batch, it indexes nothing */
	static const struct siphash_key order = {0x6a756e6374696f6eULL, 0x6c6f636b6f726465ULL};

	return siphash(&order, key, len);
}

static int cmp_lock_key(const void *a, const void *b)
{
	const struct store_op *x = *(const struct store_op *const *)a;
	const struct store_op *y = *(const struct store_op *const *)b;

	return x->lock_key < y->lock_key ? -1 : x->lock_key > y->lock_key;
}

/* The connection for the next batch: an idle one if any, else the one
 * with the fewest batches on the wire; NULL when none is up. */
static struct conn *pick_conn(struct store *s)
{
	struct conn *best = NULL;

	for (unsigned i = 0; i < s->nconns; i++) {
		struct conn *c = &s->conns[i];

		if (c->state == ST_UP && (!best || c->inflight < best->inflight))
			best = c;
	}
	return best;
}

/* Does the batch wait for company (STORE_LINGER_NS)? At a steady rate of
 * writes one commit then carries several: at 2,000 first REGISTERs/s a
 * worker's batches held one or two. At a low rate nothing waits. */
static bool lingers(const struct store *s, uint64_t now_ns)
{
	return s->batch_writes && s->batch_writes < STORE_MERGE_MIN &&
	       s->batch_start_ns < s->last_sent_ns + STORE_LINGER_BUSY_NS &&
	       now_ns < s->batch_start_ns + STORE_LINGER_NS;
}

/* ops[0..n) (NULL: sent or failed) are not recorded anywhere yet: back to
 * the batch, for another connection or go_down() to fail. */
static void batch_return(struct store *s, struct store_op **ops, unsigned n)
{
	for (unsigned k = 0; k < n; k++) {
		if (!ops[k])
			continue;
		ops[k]->next = s->batch;
		s->batch = ops[k];
		s->batch_n++;
		s->batch_urgent++; /* they leave with the next batch */
		s->batch_writes += ops[k]->write;
	}
}

void store_commit(struct store *s)
{
	uint64_t now_ns, now_ms;
	struct store_op *stack_ops[256], **ops = stack_ops, *op;
	struct conn *c = pick_conn(s);
	unsigned n = 0, nmerged[STORE__COUNT] = {0};
	bool any_write = false, all_relaxed = true;

	if (!s->batch_n || !c)
		return;
	now_ns = clock_now_ns();
	now_ms = now_ns / 1000000;
	/* Group commit: while every connection has a batch on its way, the
	 * next one grows (up to a cap), so under load one round trip and one
	 * WAL flush carry many operations, and at low load a batch of one
	 * leaves at once. */
	if (c->inflight && s->batch_n < STORE_BATCH_MAX)
		return;
	/* Deferred writes alone wait for company, a while. */
	if (!s->batch_urgent && s->batch_n < STORE_BATCH_MAX && now_ms < s->batch_defer_ms)
		return;
	if (lingers(s, now_ns))
		return;
	if (s->batch_n > sizeof(stack_ops) / sizeof(stack_ops[0])) {
		ops = malloc(sizeof(*ops) * s->batch_n);
		if (!ops) {
			go_down(c, now_ms, "out of memory");
			return;
		}
	}
	/* Oldest first, then writes by lock key (a stable order for locks). */
	for (op = s->batch; op; op = op->next)
		ops[s->batch_n - 1 - n++] = op;
	for (unsigned i = 0; i < n; i++) {
		any_write |= ops[i]->write;
		all_relaxed &= !ops[i]->write || ops[i]->relaxed;
	}
	if (any_write)
		qsort(ops, n, sizeof(*ops), cmp_lock_key);
	batch_clear(s);
	s->last_sent_ns = now_ns;
	for (unsigned i = 0; i < n; i++) {
		if (!stmts[ops[i]->stmt].merged)
			continue;
		if (!op_complete_params(ops[i])) {
			op_complete(s, ops[i], -ENOMEM);
			ops[i] = NULL;
			continue;
		}
		nmerged[ops[i]->stmt]++;
	}

	/* Only when no write of the batch needs its commit flushed. */
	if (any_write && all_relaxed &&
	    (!PQsendQueryPrepared(c->conn, RELAX_NAME, 0, NULL, NULL, NULL, 0) ||
	     items_push(c, (struct item){.kind = IT_RELAX}) < 0)) {
		batch_return(s, ops, n);
		goto broken;
	}
	for (unsigned i = 0; i < n; i++) {
		int rc;

		if (!ops[i])
			continue; /* sent with a merged statement, or failed */
		if (stmts[ops[i]->stmt].merged && nmerged[ops[i]->stmt] >= STORE_MERGE_MIN)
			rc = send_merged(c, ops, n, i);
		else
			rc = send_op(c, ops[i]);
		if (rc < 0) {
			batch_return(s, ops + i, n - i);
			goto broken;
		}
	}
	if (!PQpipelineSync(c->conn) || items_push(c, (struct item){.kind = IT_SYNC,
								    .batch = true,
								    .sent_ms = now_ms,
								    .sent_ns = clock_now_ns()}) < 0)
		goto broken;
	c->inflight++;
	if (ops != stack_ops)
		free(ops);
	flush_out(c, now_ms);
	return;
broken:
	if (ops != stack_ops)
		free(ops);
	conn_error(c, now_ms);
}

/* ---- receiving -------------------------------------------------------- */

/* The sync point that ends the batch of the item at the front. */
static struct item *batch_end(struct conn *c)
{
	for (unsigned i = 0; i < c->items_n; i++) {
		struct item *it = &c->items[(c->items_head + i) % c->items_cap];
		if (it->kind == IT_SYNC)
			return it;
	}
	return NULL;
}

/* A write that has its result waits for its batch to commit. */
static void park_write(struct conn *c, struct store_op *op)
{
	struct item *end = batch_end(c);

	if (!end) {
		op_complete(c->s, op, -EIO); /* cannot happen: every batch ends in a sync */
		return;
	}
	op->next = end->writes;
	end->writes = op;
}

/* Gives each op of a merged statement its rows: the rows whose first
 * column is its place in the chain (1, 2, ...), which come together. False
 * when the rows do not fit that. */
static bool merged_distribute(struct store_op *leader)
{
	PGresult *res = leader->res;
	unsigned rows = res ? (unsigned)PQntuples(res) : 0, row = 0;

	for (struct store_op *op = leader; op; op = op->merged_next)
		op->view = (struct store_result){.res = res, .col0 = 1};
	while (row < rows) {
		long ord = strtol(PQgetvalue(res, (int)row, 0), NULL, 10);
		unsigned row0 = row;
		struct store_op *op = leader;

		for (long k = 1; op && k < ord; k++)
			op = op->merged_next;
		if (ord < 1 || !op || op->view.nrows)
			return false;
		while (row < rows && strtol(PQgetvalue(res, (int)row, 0), NULL, 10) == ord)
			row++;
		op->view.row0 = row0;
		op->view.nrows = row - row0;
	}
	return true;
}

/* A statement of the batch at the front failed: its implicit transaction
 * rolls back, and the batch's writes fail with it. */
static void batch_failed(struct conn *c)
{
	struct item *end = batch_end(c);

	if (end)
		end->failed = true;
}

/* An item's results are all in: NULL from PQgetResult for a command, the
 * PGRES_PIPELINE_SYNC result for a sync point. */
static void item_done(struct conn *c, uint64_t now_ms)
{
	struct item it = *items_front(c);
	struct store_op *op;

	items_pop(c);
	switch (it.kind) {
	case IT_PREPARE:
		/* Our statements call the schema's functions: if one cannot be
		 * prepared, the database is not migrated (or too old). Down,
		 * and keep trying, rather than failing every request. */
		if (it.failed)
			c->setup_failed = true;
		break;
	case IT_OP:
		op = it.op;
		if (!it.failed && stmts[op->stmt].merged && !merged_distribute(op)) {
			log_warn("event=db_error store=%s conn=%u error=\"rows out of order\"",
				 c->s->name, c->index);
			it.failed = true;
		}
		if (it.failed) {
			for (struct store_op *m = op; m; m = m->merged_next)
				m->err = -EIO;
			batch_failed(c);
		}
		if (!op->write) {
			merged_complete(c->s, op, 0);
			break;
		}
		/* Parked first, the leader completes after the others. */
		park_write(c, op);
		for (struct store_op *m = op->merged_next; m; m = m->merged_next)
			park_write(c, m);
		break;
	case IT_RELAX:
		if (it.failed)
			batch_failed(c);
		break;
	case IT_SYNC:
		if (!it.batch)
			break;
		c->inflight--;
		c->s->last_rtt_us = (clock_now_ns() - it.sent_ns) / 1000;
		if (c->s->rtt)
			c->s->rtt(c->s->rtt_arg, c->s->last_rtt_us);
		while ((op = it.writes)) {
			it.writes = op->next;
			op_complete(c->s, op, it.failed ? -EIO : op->err);
		}
		break;
	}
	(void)now_ms;
}

static void read_results(struct conn *c, uint64_t now_ms)
{
	if (!PQconsumeInput(c->conn)) {
		conn_error(c, now_ms);
		return;
	}
	while (c->conn && c->items_n && !PQisBusy(c->conn)) {
		struct item *it = items_front(c);
		PGresult *r = PQgetResult(c->conn);
		ExecStatusType st;

		if (!r) {
			if (it->kind == IT_SYNC)
				break; /* nothing more until the sync point arrives */
			item_done(c, now_ms);
			continue;
		}
		st = PQresultStatus(r);
		if (st == PGRES_PIPELINE_SYNC) {
			PQclear(r);
			if (it->kind != IT_SYNC) {
				go_down(c, now_ms, "pipeline out of step");
				return;
			}
			item_done(c, now_ms);
			if (c->state == ST_SETUP && c->setup_failed) {
				c->setup_failed = false;
				go_down(c, now_ms,
					"the schema is missing or too old: run junction --migrate");
				return;
			}
			if (c->state == ST_SETUP) {
				c->gen = pgconn_connected(c->conn);
				if (!store_up(c->s))
					pgconn_store_up();
				c->state = ST_UP;
				c->backoff_ms = STORE_BACKOFF_MIN_MS;
				if (c->logged_down)
					log_info("event=db_up store=%s conn=%u", c->s->name,
						 c->index);
				c->logged_down = false;
			}
			continue;
		}
		if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
			char msg[256];

			it->failed = true;
			snprintf(msg, sizeof(msg), "%s", PQresultErrorMessage(r));
			msg[strcspn(msg, "\r\n\"")] = '\0';
			if (st == PGRES_FATAL_ERROR && pgconn_must_replace(r)) {
				/* Not the primary any more (or going away): what is
				 * on this wire was not done; answer it 503 and find
				 * the server that takes writes now. */
				PQclear(r);
				go_down(c, now_ms, msg);
				return;
			}
			if (st == PGRES_FATAL_ERROR)
				log_warn("event=db_error store=%s conn=%u error=\"%s\"", c->s->name,
					 c->index, msg);
		}
		if (it->kind == IT_OP && !it->op->res && st == PGRES_TUPLES_OK)
			it->op->res = r;
		else
			PQclear(r);
	}
	if (c->conn && PQstatus(c->conn) == CONNECTION_BAD)
		conn_error(c, now_ms);
}

/* ---- the owner's loop ------------------------------------------------- */

unsigned store_sock_serial(const struct store *s)
{
	return s->sock_serial;
}

unsigned store_conns(const struct store *s)
{
	return s->nconns;
}

int store_fd(const struct store *s, unsigned i)
{
	return s->conns[i].conn ? PQsocket(s->conns[i].conn) : -1;
}

short store_events(const struct store *s, unsigned i)
{
	const struct conn *c = &s->conns[i];

	if (!c->conn)
		return 0;
	if (c->state == ST_CONNECTING)
		return c->poll_status == PGRES_POLLING_READING ? POLLIN : POLLOUT;
	return POLLIN | (c->want_write ? POLLOUT : 0);
}

int store_timeout_ms(const struct store *s, uint64_t now_ms)
{
	int best = -1;

	for (unsigned i = 0; i < s->nconns; i++) {
		const struct conn *c = &s->conns[i];
		int t = -1;

		if (c->state == ST_DOWN)
			t = c->next_attempt_ms > now_ms ? (int)(c->next_attempt_ms - now_ms) : 0;
		else if (c->state != ST_UP)
			t = 1000; /* to notice a connect that never ends */
		else if (c->items_n)
			t = 1000; /* to notice a batch that never comes back */
		if (t >= 0 && (best < 0 || t < best))
			best = t;
	}
	/* a batch that lingers: when it must leave (1 ms: the poll's unit) */
	if (s->batch_n && lingers(s, clock_now_ns()) && (best < 0 || best > 1))
		best = 1;
	/* deferred writes alone in the batch: when they must leave */
	if (s->batch_n && !s->batch_urgent) {
		int t = s->batch_defer_ms > now_ms ? (int)(s->batch_defer_ms - now_ms) : 0;

		if (best < 0 || t < best)
			best = t;
	}
	return best;
}

static bool batch_timed_out(struct conn *c, uint64_t now_ms)
{
	for (unsigned i = 0; i < c->items_n; i++) {
		const struct item *it = &c->items[(c->items_head + i) % c->items_cap];
		if (it->kind == IT_SYNC)
			return it->sent_ms && now_ms - it->sent_ms > STORE_BATCH_TIMEOUT_MS;
	}
	return false;
}

static void conn_handle(struct conn *c, uint64_t now_ms)
{
	if ((c->state == ST_CONNECTING || c->state == ST_SETUP) &&
	    now_ms - c->connect_start_ms > STORE_CONNECT_TIMEOUT_MS) {
		go_down(c, now_ms, "no answer while connecting: next host");
		return;
	}
	if (c->state == ST_DOWN || c->state == ST_CONNECTING) {
		connect_step(c, now_ms);
		if (c->state != ST_SETUP)
			return;
	}
	if (c->want_write)
		flush_out(c, now_ms);
	if (c->conn)
		read_results(c, now_ms);
	if (c->conn && batch_timed_out(c, now_ms))
		go_down(c, now_ms, "no answer from the database");
}

void store_handle(struct store *s, uint64_t now_ms)
{
	for (unsigned i = 0; i < s->nconns; i++)
		conn_handle(&s->conns[i], now_ms);
	retire_stale(s, now_ms);
}

bool store_up(const struct store *s)
{
	return store_conns_up(s) > 0;
}

unsigned store_conns_up(const struct store *s)
{
	unsigned n = 0;

	for (unsigned i = 0; i < s->nconns; i++)
		n += s->conns[i].state == ST_UP;
	return n;
}

unsigned store_pending(const struct store *s)
{
	return s->pending;
}

uint64_t store_last_rtt_us(const struct store *s)
{
	return s->last_rtt_us;
}

void store_free(struct store *s)
{
	struct store_op *op;

	if (!s)
		return;
	pgconn_store_gone(store_up(s));
	for (unsigned i = 0; i < s->nconns; i++) {
		struct conn *c = &s->conns[i];

		if (c->conn)
			PQfinish(c->conn);
		c->conn = NULL;
		c->state = ST_DOWN;
		fail_conn(c, -ECANCELED);
	}
	fail_batch(s, -ECANCELED);
	while ((op = s->free_ops)) {
		s->free_ops = op->next;
		free(op->buf);
		free(op);
	}
	for (unsigned i = 0; i < s->nconns; i++)
		free(s->conns[i].items);
	free(s->merge_buf);
	free(s->conns);
	free(s->conninfo);
	free(s);
}
