/*
 * store: Junction's PostgreSQL access, the only place that includes libpq.
 *
 * A struct store is one or more connections owned by one thread (each
 * worker has its own). It never blocks that thread: the connections are
 * non-blocking and in pipeline mode, the owner polls each store_fd() for
 * its store_events() and calls store_handle() when one is ready, and
 * results come back through callbacks from store_handle().
 *
 * Operations are collected into a batch and sent by store_commit() as one
 * transaction in one round trip, on the connection with the fewest
 * batches on the wire; four or more REGISTERs of a batch as one
 * statement. At a steady rate of writes a batch of a few waits up to 1 ms
 * for more; deferred writes (store_op_defer()) wait up to 50 ms. A read
 * completes as soon as its result arrives; a write completes only when
 * its batch's COMMIT succeeded, so a caller that answers on completion
 * never acknowledges something that was not made durable. Writes are sent
 * in the order of their lock keys, so two batches that touch the same rows
 * take their locks in the same order and cannot deadlock.
 *
 * When a connection is lost, every operation on its wire completes with
 * -ECONNRESET (and the batch being built too when no other is up), new
 * ones are refused with -ENOTCONN while none is up, and each connection
 * reconnects by itself with exponential backoff (100 ms up to 1 s).
 */
#ifndef JCT_STORE_H
#define JCT_STORE_H

#include "sip/sip_str.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* The most connections one store has ([database] connections_per_worker). */
#define STORE_MAX_CONNS 16

struct store;
struct store_op;
struct store_result;

/* The prepared statements (see store.c for their SQL). */
enum store_stmt {
	STORE_REGISTER = 0,  /* junction_register_batch(): 15 array parameters, merged */
	STORE_LOOKUP,        /* junction_lookup(aor, username, domain) */
	STORE_SUBSCRIBER,    /* ha1_md5, ha1_sha256, enabled of (username, domain) */
	STORE_SWEEP,         /* junction_sweep_expired(batch) */
	STORE_PING,          /* SELECT 1 */
	STORE_DIALOG_BEGIN,  /* junction_dialog_begin(): 15 array parameters, merged */
	STORE_DIALOG_UPDATE, /* junction_dialog_update(): 5 array parameters, merged */
	STORE_DIALOG_LOOKUP, /* session, Session Controller, seconds left of Call-ID $1 */
	STORE_EVENT_SETUP,   /* junction_reg_event_setup(mode, refresh, subscribe) */
	STORE_EVENT_CLAIM,   /* junction_reg_event_claim(node, worker, target, max, lease) */
	STORE_EVENT_DONE, /* junction_reg_event_done(node, ids, attempts, outcomes, errors, ...) */
	STORE_REG_SUBSCRIBE, /* junction_reg_subscribe(): 12 parameters, the status */
	STORE__COUNT
};

/* Completion: err is 0, -ECONNRESET (the connection went away before the
 * outcome was known), -EIO (the statement or its transaction failed) or
 * -ECANCELED (store freed). r is valid during the call only (NULL on error). */
typedef void (*store_done_fn)(void *arg, int err, const struct store_result *r);

/* Told the round-trip time of each batch (BEGIN to COMMIT), in
 * microseconds, on the thread that drives the store. */
typedef void (*store_rtt_fn)(void *arg, uint64_t us);

/* A store of nconns connections to conninfo (copied); it starts
 * connecting at the first store_handle(). name is for logs; rtt (may be
 * NULL) hears each round trip, with arg (borrowed). NULL when out of
 * memory. */
struct store *store_new(const char *conninfo, const char *name, unsigned nconns, store_rtt_fn rtt,
			void *arg);
/* Completes every pending operation with -ECANCELED, then frees. */
void store_free(struct store *s);

/* How many connections; the socket of connection i to poll (-1: none
 * now; wait for store_timeout_ms()) and the poll(2) events wanted on it. */
unsigned store_conns(const struct store *s);
int store_fd(const struct store *s, unsigned i);
short store_events(const struct store *s, unsigned i);
/* Changes whenever a socket may have been replaced, even by one with the
 * same number (for epoll(7) users, whose registration a close drops). */
unsigned store_sock_serial(const struct store *s);
/* Milliseconds until store_handle() has something to do without I/O
 * (a reconnect attempt), or -1. */
int store_timeout_ms(const struct store *s, uint64_t now_ms);
/* Does the work that is due: connecting, sending, reading results and
 * running completions. Call after poll(2) says the fd is ready, or when
 * the timeout expired. */
void store_handle(struct store *s, uint64_t now_ms);

/* At least one connection is ready for operations; how many are. */
bool store_up(const struct store *s);
unsigned store_conns_up(const struct store *s);
/* Operations waiting for their outcome (in the batch or on the wire). */
unsigned store_pending(const struct store *s);
/* Round-trip time of the last completed batch, in microseconds. */
uint64_t store_last_rtt_us(const struct store *s);

/*
 * Starts an operation in the current batch. write: it changes data (its
 * completion waits for COMMIT). lock_key orders writes (e.g. a hash of the
 * AOR). Returns the operation to add parameters to, or NULL with *err set:
 * -ENOTCONN when the database is down (answer 503), -ENOBUFS when too many
 * operations are pending.
 */
struct store_op *store_op_begin(struct store *s, enum store_stmt stmt, bool write,
				uint64_t lock_key, store_done_fn fn, void *arg, int *err);
/* The lock key of the rows named by key[0..len) (an AOR, a Call-ID): a
 * hash every node computes alike, so that two nodes' batches touching the
 * same rows take their locks in one order and do not deadlock. */
uint64_t store_lock_key(const void *key, size_t len);

/* Marks write op (of the batch being built) as one nobody waits for: a
 * batch of such writes alone leaves once another operation joins it, it
 * is full, or 50 ms after the first was deferred, so that they share
 * their round trip and commit. Its completion still waits for COMMIT. */
void store_op_defer(struct store *s, struct store_op *op);
/* Marks write op as one whose commit need not be flushed before it is
 * reported: a batch whose writes are all relaxed commits with PostgreSQL's
 * asynchronous commit (synchronous_commit off for that transaction): a
 * crash of the database may lose its last fraction of a second of such
 * commits, never part of one. A batch with any other write commits as
 * usual, so a write that is not relaxed never loses its durability. */
void store_op_relax(struct store_op *op);

/* Adds the next text parameter (copied); NULL p with len 0 is SQL NULL.
 * A merged statement's parameters are all arrays, one element for each
 * scalar. */
void store_op_param(struct store_op *op, const char *p, size_t len);
static inline void store_op_param_str(struct store_op *op, struct sip_str s)
{
	store_op_param(op, s.p ? s.p : "", s.len);
}
/* Adds a text[] / integer[] / numeric[] parameter from n elements (array
 * literal built with PostgreSQL's quoting). NULL elements: .p == NULL. */
void store_op_param_text_array(struct store_op *op, const struct sip_str *v, unsigned n);
void store_op_param_int_array(struct store_op *op, const int64_t *v, const bool *null, unsigned n);

/* Sends the current batch (if any) as one transaction. */
void store_commit(struct store *s);

/* Result access: rows, and the text of a column (not NUL-terminated;
 * an empty slice with p == NULL for SQL NULL). */
unsigned store_result_rows(const struct store_result *r);
struct sip_str store_result_get(const struct store_result *r, unsigned row, unsigned col);
bool store_result_null(const struct store_result *r, unsigned row, unsigned col);

/* What the node has seen of its database as a whole, every connection of
 * the store layer counted (pgconn.c). */
struct store_health {
	bool available;       /* every worker's store has a connection up */
	uint64_t failovers;   /* times the primary moved since the start */
	double unavailable_s; /* seconds some worker had none, start included */
	char primary[128];    /* "host:port" reached last; "" none yet */
};
void store_health(struct store_health *out);

/* Whether libpq can read conninfo, and a multi-host one has 1 or as many
 * ports (and hostaddrs) as hosts. Returns 0, or -EINVAL with the reason
 * in err (cap bytes). For --check-config and the start. */
int store_conninfo_check(const char *conninfo, char *err, size_t cap);

/*
 * Schema (store_migrate.c): blocking, for `junction --migrate` and the
 * start-up check, never on a worker.
 */
/* The schema version the database has (0: none) and the one this binary
 * needs. Returns 0, or -ECONNREFUSED with the reason written to errs. */
int store_schema_version(const char *conninfo, unsigned *have, unsigned *need, FILE *errs);
/* Applies the pending migrations, each in its own transaction, under an
 * advisory lock so that several nodes may run it at once. Progress goes to
 * out, problems to errs. Returns 0 or a negative errno. */
int store_migrate(const char *conninfo, FILE *out, FILE *errs);

#endif
