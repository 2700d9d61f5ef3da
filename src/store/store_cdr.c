/*
 * store_cdr: see store_cdr.h.
 *
 * A batch is COPY ... FROM STDIN in text format, built whole in one
 * buffer and sent with one PQputCopyData(): for a thousand rows that is
 * a few hundred kilobytes and a single round trip, several times faster
 * than the same rows as a multi-row INSERT, which PostgreSQL must parse
 * and plan. The connection sets client_encoding UTF8 and a statement
 * timeout, and asks the kernel to give up on a peer that stopped
 * answering (keepalives, tcp_user_timeout), so that a database gone
 * silent costs a bounded wait, not the TCP retransmission timeout.
 */
#include "store/store_cdr.h"

#include "base/log.h"
#include "base/utf8.h"
#include "store/pgconn.h"

#include <errno.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Seconds a statement may run (set after connecting). */
#define SC_STATEMENT_S 10

#define SC_COPY                                                                                    \
	"COPY cdr (event, at, node, call_id, from_uri, from_tag, to_uri, to_tag, ruri, target, "   \
	"sip_server, status, reason) FROM STDIN"

struct store_cdr {
	char *conninfo;
	char *node;
	PGconn *c;
	/* The cancel handle of c, for store_cdr_cancel() from another
	 * thread; the lock covers only it. */
	pthread_mutex_t cancel_lock;
	PGcancel *cancel;
	bool down_logged; /* an outage is logged once */
	unsigned gen;     /* pgconn_generation() of c */
	char why[256];    /* store_cdr_error() */
	/* The COPY text being built. */
	char *buf;
	size_t len, cap;
};

struct store_cdr *store_cdr_new(const char *conninfo, const char *node)
{
	struct store_cdr *sc = calloc(1, sizeof(*sc));

	if (!sc)
		return NULL;
	sc->conninfo = strdup(conninfo);
	sc->node = strdup(node);
	if (!sc->conninfo || !sc->node) {
		free(sc->conninfo);
		free(sc->node);
		free(sc);
		return NULL;
	}
	pthread_mutex_init(&sc->cancel_lock, NULL);
	return sc;
}

static void sc_set_cancel(struct store_cdr *sc, PGcancel *cancel)
{
	PGcancel *old;

	pthread_mutex_lock(&sc->cancel_lock);
	old = sc->cancel;
	sc->cancel = cancel;
	pthread_mutex_unlock(&sc->cancel_lock);
	if (old)
		PQfreeCancel(old);
}

static void sc_close(struct store_cdr *sc)
{
	sc_set_cancel(sc, NULL);
	if (sc->c)
		PQfinish(sc->c);
	sc->c = NULL;
}

void store_cdr_free(struct store_cdr *sc)
{
	if (!sc)
		return;
	sc_close(sc);
	pthread_mutex_destroy(&sc->cancel_lock);
	free(sc->buf);
	free(sc->conninfo);
	free(sc->node);
	free(sc);
}

void store_cdr_cancel(struct store_cdr *sc)
{
	char err[256];

	pthread_mutex_lock(&sc->cancel_lock);
	if (sc->cancel)
		(void)PQcancel(sc->cancel, err, sizeof(err));
	pthread_mutex_unlock(&sc->cancel_lock);
}

/* The first line of a libpq message, fit for a quoted log value. */
static void sc_line(char *out, size_t cap, const char *msg)
{
	snprintf(out, cap, "%s", msg ? msg : "out of memory");
	out[strcspn(out, "\r\n")] = '\0';
	for (char *p = out; (p = strchr(p, '"'));)
		*p = '\'';
}

static void sc_log_down(struct store_cdr *sc, const char *why)
{
	char msg[256];

	if (sc->down_logged)
		return;
	sc_line(msg, sizeof(msg), why);
	log_warn("event=cdr_db_down error=\"%s\"", msg);
	sc->down_logged = true;
}

const char *store_cdr_error(const struct store_cdr *sc)
{
	return sc->why;
}

static int sc_connect(struct store_cdr *sc)
{
	char sql[128];
	PGresult *r;
	bool ok;

	/* one opened before the primary last moved may reach the old one */
	if (sc->c && PQstatus(sc->c) == CONNECTION_OK && sc->gen == pgconn_generation())
		return 0;
	sc_close(sc);
	sc->c = pgconn_connect(sc->conninfo, "junction-cdr");
	if (!sc->c || PQstatus(sc->c) != CONNECTION_OK) {
		sc_log_down(sc, sc->c ? PQerrorMessage(sc->c) : NULL);
		sc_close(sc);
		return -ENOTCONN;
	}
	snprintf(sql, sizeof(sql),
		 "SET statement_timeout = '%ds'; SET TimeZone = 'UTC'; "
		 "SET client_encoding = 'UTF8'",
		 SC_STATEMENT_S);
	r = PQexec(sc->c, sql);
	ok = PQresultStatus(r) == PGRES_COMMAND_OK;
	PQclear(r);
	if (!ok) {
		sc_log_down(sc, PQerrorMessage(sc->c));
		sc_close(sc);
		return -ENOTCONN;
	}
	sc_set_cancel(sc, PQgetCancel(sc->c));
	sc->gen = pgconn_connected(sc->c);
	if (sc->down_logged)
		log_info("event=cdr_db_up");
	sc->down_logged = false;
	return 0;
}

/* ---- the COPY text ------------------------------------------------------ */

static bool sc_reserve(struct store_cdr *sc, size_t more)
{
	size_t cap = sc->cap ? sc->cap : 65536;
	char *p;

	if (sc->len + more <= sc->cap)
		return true;
	while (cap < sc->len + more)
		cap *= 2;
	p = realloc(sc->buf, cap);
	if (!p)
		return false;
	sc->buf = p;
	sc->cap = cap;
	return true;
}

/* A column's value in COPY's text format: \N for NULL, backslash
 * escapes for the characters that end a column or a row. Room for the
 * worst case (3 bytes a byte, and the tab) is reserved by the caller. */
static void sc_put_col(struct store_cdr *sc, struct sip_str s, bool null_if_empty, bool last)
{
	const unsigned char *p = (const unsigned char *)s.p;
	char *o = sc->buf + sc->len;

	if (s.len == 0 && null_if_empty) {
		memcpy(o, "\\N", 2);
		o += 2;
	}
	for (size_t i = 0; i < s.len;) {
		unsigned cp;
		size_t n = utf8_decode(p + i, s.len - i, &cp);

		if (n == 0) {
			memcpy(o, "\xef\xbf\xbd", 3); /* U+FFFD */
			o += 3;
			i++;
			continue;
		}
		if (n > 1) {
			memcpy(o, p + i, n);
			o += n;
			i += n;
			continue;
		}
		switch (p[i]) {
		case '\\':
			*o++ = '\\', *o++ = '\\';
			break;
		case '\t':
			*o++ = '\\', *o++ = 't';
			break;
		case '\n':
			*o++ = '\\', *o++ = 'n';
			break;
		case '\r':
			*o++ = '\\', *o++ = 'r';
			break;
		case '\0':
			*o++ = '?'; /* text cannot hold NUL */
			break;
		default:
			*o++ = (char)p[i];
			break;
		}
		i++;
	}
	*o++ = last ? '\n' : '\t';
	sc->len = (size_t)(o - sc->buf);
}

/* "2026-12-05 12:00:00.123+00" */
static void sc_put_time(struct store_cdr *sc, uint64_t at_ms)
{
	time_t t = (time_t)(at_ms / 1000);
	struct tm tm;
	int n;

	gmtime_r(&t, &tm);
	n = snprintf(sc->buf + sc->len, 40, "%04d-%02d-%02d %02d:%02d:%02d.%03u+00\t",
		     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		     (unsigned)(at_ms % 1000));
	sc->len += n > 0 && n < 40 ? (size_t)n : 0;
}

static bool sc_put_row(struct store_cdr *sc, const struct store_cdr_row *r)
{
	const struct sip_str cols[] = {r->call_id, r->from_uri, r->from_tag, r->to_uri,
				       r->to_tag,  r->ruri,     r->target,   r->sip_server};
	size_t need = 128 + 3 * strlen(sc->node) + 3 * r->reason.len;
	char status[16];

	for (size_t i = 0; i < sizeof(cols) / sizeof(cols[0]); i++)
		need += 3 * cols[i].len + 3;
	if (!sc_reserve(sc, need))
		return false;
	sc_put_col(sc, sip_str_cstr(r->event), false, false);
	sc_put_time(sc, r->at_ms);
	sc_put_col(sc, sip_str_cstr(sc->node), false, false);
	sc_put_col(sc, r->call_id, false, false);
	for (size_t i = 1; i < sizeof(cols) / sizeof(cols[0]); i++)
		sc_put_col(sc, cols[i], true, false);
	snprintf(status, sizeof(status), "%u", r->status);
	sc_put_col(sc, r->status ? sip_str_cstr(status) : SIP_STR_NULL, true, false);
	sc_put_col(sc, r->reason, true, true);
	return true;
}

/* ---- the batch ---------------------------------------------------------- */

/* What a failed COPY means (its result r, or NULL). */
static int sc_failed(struct store_cdr *sc, PGresult *r)
{
	const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
	PGresult *rest;

	if (PQstatus(sc->c) != CONNECTION_OK || (r && pgconn_must_replace(r))) {
		/* broken, or no longer the primary: the next batch finds it */
		sc_log_down(sc, PQstatus(sc->c) != CONNECTION_OK ? PQerrorMessage(sc->c)
								 : PQresultErrorMessage(r));
		sc_close(sc);
		return -ECONNRESET;
	}
	/* Whatever the server thinks of the COPY, the connection goes back
	 * to idle. */
	while ((rest = PQgetResult(sc->c)))
		PQclear(rest);
	if (state && strcmp(state, "57014") == 0) /* query_canceled: the timeout, a cancel */
		return -ETIMEDOUT;
	sc_line(sc->why, sizeof(sc->why), r ? PQresultErrorMessage(r) : PQerrorMessage(sc->c));
	return -EINVAL;
}

int store_cdr_write(struct store_cdr *sc, const struct store_cdr_row *rows, unsigned n)
{
	PGresult *r;
	int rc;

	if (n == 0)
		return 0;
	rc = sc_connect(sc);
	if (rc < 0)
		return rc;
	sc->len = 0;
	for (unsigned i = 0; i < n; i++) {
		if (!sc_put_row(sc, &rows[i]))
			return -ENOMEM;
	}
	r = PQexec(sc->c, SC_COPY);
	if (PQresultStatus(r) != PGRES_COPY_IN) {
		rc = sc_failed(sc, r);
		PQclear(r);
		return rc;
	}
	PQclear(r);
	if (PQputCopyData(sc->c, sc->buf, (int)sc->len) != 1 || PQputCopyEnd(sc->c, NULL) != 1)
		return sc_failed(sc, NULL);
	r = PQgetResult(sc->c);
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		rc = sc_failed(sc, r);
		PQclear(r);
		return rc;
	}
	PQclear(r);
	while ((r = PQgetResult(sc->c)))
		PQclear(r);
	/* Give back a buffer a burst made large. */
	if (sc->cap > (4u << 20)) {
		free(sc->buf);
		sc->buf = NULL;
		sc->cap = 0;
	}
	return 0;
}
