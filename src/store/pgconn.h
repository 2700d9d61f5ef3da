/*
 * pgconn: how the store layer opens its PostgreSQL connections, when one
 * must be replaced, and what the node has seen of its database as a
 * whole: which server took its writes last, how many times that changed
 * (a failover), and how long a worker had no connection (store_health()
 * in store.h, for the layers that must not include libpq).
 *
 * Every connection of the node (the workers' stores, the database
 * thread's LISTEN connection, the admin API's and the CDR writer's)
 * opens through here, so all of them ask for a server that takes writes
 * (target_session_attrs=read-write, which with a multi-host conninfo is
 * how libpq finds the new primary after a failover) and notice a peer
 * gone silent within seconds (TCP keepalives, tcp_user_timeout). The
 * operator's conninfo overrides each default.
 *
 * Thread-safe: the counters are shared by all threads.
 */
#ifndef JCT_PGCONN_H
#define JCT_PGCONN_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>

/* A connection to conninfo with Junction's defaults; app names it in
 * pg_stat_activity. pgconn_connect() blocks until it is made or has
 * failed (libpq moves to the next host after connect_timeout);
 * pgconn_start() begins a non-blocking one (PQconnectPoll), for which
 * libpq enforces no timeout: its owner gives up after its own, and the
 * next attempt (first = attempts so far) starts at the next host of a
 * multi-host conninfo, so that a server gone silent (no reset) cannot
 * hold every attempt. Either way the caller owns the result (PQfinish),
 * which may be NULL when out of memory. */
PGconn *pgconn_connect(const char *conninfo, const char *app);
PGconn *pgconn_start(const char *conninfo, const char *app, unsigned first);

/* A connection just became usable: tells which server it reached. When
 * that is not the server the node's connections reached before, the
 * primary has moved: counted as a failover, logged, and the generation
 * advances. Returns the generation the connection belongs to. */
unsigned pgconn_connected(PGconn *c);

/* The node's current generation. A connection opened under an older one
 * may still reach the old primary (alive but demoted, or cut off): its
 * owner replaces it when next idle. */
unsigned pgconn_generation(void);

/* r failed in a way that means the connection's server no longer takes
 * our writes (read-only: a demoted primary or a standby, SQLSTATE 25006;
 * shutting down or in recovery, class 57P; connection exceptions, class
 * 08): the connection must be replaced, and the operation's outcome is
 * "not done" (answer 503, not 500). A read-only error also advances the
 * generation, so that every connection of the node moves. */
bool pgconn_must_replace(const PGresult *r);

/* The workers' stores: each counts as "without a database" from
 * pgconn_store_new() until its first connection is up, and again while
 * none is. pgconn_store_gone() drops one (down or not). */
void pgconn_store_new(void);
void pgconn_store_up(void);
void pgconn_store_down(void);
void pgconn_store_gone(bool was_up);
/* (store_health(), store.h, reads what these count.) */

#endif
