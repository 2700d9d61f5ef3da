/*
 * admin: the REST API (/v1/...), the Prometheus endpoint (/metrics) and
 * the health probes (/healthz, /readyz), served by libmicrohttpd on
 * [admin] listen.
 *
 * The server has threads of its own (MHD's internal polling threads, a
 * pool of [admin] threads) and one database connection per thread
 * (store_admin.h): a slow query holds an admin thread, never a SIP
 * worker. It reads what the SIP side publishes (counters, queue lengths,
 * connection counts) and changes what the SIP side routes by only through
 * the database, as an operator's psql would.
 *
 * Start-up follows main.c's rule: admin_open() reads the token and TLS
 * files and binds the socket before any thread exists, so a busy port or
 * an unreadable key fails the start with one message; admin_start() then
 * starts the threads. The server runs only when config_admin_on().
 */
#ifndef JCT_ADMIN_H
#define JCT_ADMIN_H

#include <stdbool.h>

struct config;

/* Reads the token file and TLS files and binds [admin] listen (nothing
 * when the server is off; logged either way). cfg is borrowed for the
 * life of the server. Returns 0 or a negative errno (logged). */
int admin_open(const struct config *cfg);
/* Starts the server threads. Returns 0 or a negative errno (logged). */
int admin_start(void);
/* The SIP listeners are up (true after transport_start(), false once
 * stopping): /readyz answers 503 while false. */
void admin_set_serving(bool serving);
/* Stops the threads (requests under way finish first), closes the socket
 * and the database connections. Safe when nothing was started. */
void admin_stop(void);

#endif
