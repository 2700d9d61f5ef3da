/*
 * admin_cdrs: /v1/cdrs, the call records ([cdr] enabled) as the nodes
 * write them to the cdr table, and the calls the cdr_call view puts
 * together from them (sql/008_cdr.sql).
 *
 *   GET /v1/cdrs?from=&to=&call_id=&limit=         events, newest first
 *   GET /v1/cdrs/calls?from=&to=&call_id=&limit=   calls, newest first
 *
 * Read only: a record says what happened, and the nodes append them; how
 * long they are kept is the operator's (a DELETE in SQL, junction-sql(7)).
 *
 * from and to bound the event's time (a call's: its start), from
 * included, to not, as ISO 8601: a date, or a date and a time to the
 * minute, second or fraction of one, with Z or an offset (+01:00, +0100,
 * +01), UTC when it has none. A '+' in a query string may arrive as a
 * blank (form encoding): a blank where the offset's sign goes is taken
 * as '+'. There is no cursor: rows of an outage's backlog arrive late
 * with older times, so a page after an id would skip them; a next page is
 * asked with to= the oldest time of this one. A bad value is a 400, not
 * an empty list, so that a typing error shows.
 */
#include "admin/admin_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The longest call_id filter taken (a Call-ID is rarely past 100). */
#define CDR_CALL_ID_MAX 1024

static json_t *cdr_json(const struct sa_rows *rows, unsigned i)
{
#define COL(c) sa_rows_get(rows, i, c)
	return json_pack(
		"{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "id",
		admin_col_int(COL(SA_CDR_ID)), "event", admin_col_str(COL(SA_CDR_EVENT)), "at",
		admin_col_str(COL(SA_CDR_AT)), "node", admin_col_str(COL(SA_CDR_NODE)), "call_id",
		admin_col_str(COL(SA_CDR_CALL_ID)), "from_uri", admin_col_str(COL(SA_CDR_FROM_URI)),
		"from_tag", admin_col_str(COL(SA_CDR_FROM_TAG)), "to_uri",
		admin_col_str(COL(SA_CDR_TO_URI)), "to_tag", admin_col_str(COL(SA_CDR_TO_TAG)),
		"ruri", admin_col_str(COL(SA_CDR_RURI)), "target",
		admin_col_str(COL(SA_CDR_TARGET)), "sip_server",
		admin_col_str(COL(SA_CDR_SIP_SERVER)), "status", admin_col_int(COL(SA_CDR_STATUS)),
		"reason", admin_col_str(COL(SA_CDR_REASON)));
#undef COL
}

static json_t *call_json(const struct sa_rows *rows, unsigned i)
{
	const char *nodes_text = sa_rows_get(rows, i, SA_CALL_NODES);
	json_t *nodes = nodes_text ? json_loads(nodes_text, 0, NULL) : NULL;

	if (!json_is_array(nodes)) {
		json_decref(nodes);
		nodes = json_array();
	}
#define COL(c) sa_rows_get(rows, i, c)
	return json_pack(
		"{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
		"call_id", admin_col_str(COL(SA_CALL_CALL_ID)), "from_tag",
		admin_col_str(COL(SA_CALL_FROM_TAG)), "started",
		admin_col_str(COL(SA_CALL_STARTED)), "answered",
		admin_col_str(COL(SA_CALL_ANSWERED)), "ended", admin_col_str(COL(SA_CALL_ENDED)),
		"status", admin_col_int(COL(SA_CALL_STATUS)), "reason",
		admin_col_str(COL(SA_CALL_REASON)), "from_uri",
		admin_col_str(COL(SA_CALL_FROM_URI)), "to_uri", admin_col_str(COL(SA_CALL_TO_URI)),
		"ruri", admin_col_str(COL(SA_CALL_RURI)), "target",
		admin_col_str(COL(SA_CALL_TARGET)), "sip_server",
		admin_col_str(COL(SA_CALL_SIP_SERVER)), "node", admin_col_str(COL(SA_CALL_NODE)),
		"nodes", nodes, "duration_ms", admin_col_int(COL(SA_CALL_DURATION_MS)));
#undef COL
}

/* n digits at *p into *v; false when they are not there. */
static bool digits(const char **p, unsigned n, int *v)
{
	*v = 0;
	for (unsigned i = 0; i < n; i++) {
		if ((*p)[i] < '0' || (*p)[i] > '9')
			return false;
		*v = *v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	return true;
}

static bool leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/*
 * An ISO 8601 time (see the top of the file) as ms since the epoch, from
 * 1970 to 9999. Returns false when s is not one.
 */
static bool iso_ms(const char *s, int64_t *out)
{
	static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int y, mo, d, h = 0, mi = 0, sec = 0, ms = 0, oh = 0, om = 0, sign = 0;
	const char *p = s;
	struct tm tm = {0};
	time_t t;

	if (!digits(&p, 4, &y) || *p++ != '-' || !digits(&p, 2, &mo) || *p++ != '-' ||
	    !digits(&p, 2, &d))
		return false;
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 ||
	    d > mdays[mo - 1] + (mo == 2 && leap(y) ? 1 : 0))
		return false;
	if (*p == 'T' || *p == 't' || (*p == ' ' && p[1] >= '0' && p[1] <= '9')) {
		p++;
		if (!digits(&p, 2, &h) || *p++ != ':' || !digits(&p, 2, &mi))
			return false;
		if (*p == ':') {
			p++;
			if (!digits(&p, 2, &sec))
				return false;
			if (*p == '.' || *p == ',') {
				unsigned n = 0;
				p++;
				/* Milliseconds kept, finer digits read and left. */
				for (; *p >= '0' && *p <= '9'; p++, n++) {
					if (n < 3)
						ms = ms * 10 + (*p - '0');
				}
				if (n == 0 || n > 9)
					return false;
				for (; n < 3; n++)
					ms *= 10;
			}
		}
		if (h > 23 || mi > 59 || sec > 59)
			return false;
		if (*p == 'Z' || *p == 'z') {
			p++;
		} else if (*p == '+' || *p == '-' || *p == ' ') {
			sign = *p++ == '-' ? -1 : 1;
			if (!digits(&p, 2, &oh))
				return false;
			if (*p == ':')
				p++;
			if (*p && !digits(&p, 2, &om))
				return false;
			if (oh > 23 || om > 59)
				return false;
		}
	}
	if (*p)
		return false;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	t = timegm(&tm);
	if (t == (time_t)-1)
		return false;
	*out = ((int64_t)t - sign * (oh * 3600 + om * 60)) * 1000 + ms;
	return *out >= 0;
}

/* ?name= as ms since the epoch into *out (-1 when absent); false when it
 * answered 400. */
static bool time_arg(struct admin_req *r, const char *name, int64_t *out)
{
	const char *v = admin_arg(r, name);

	*out = -1;
	if (!v || iso_ms(v, out))
		return true;
	admin_error(r, 400, ADMIN_E_BAD_REQUEST,
		    "%s must be a time in ISO 8601 from 1970 on (2026-12-05, "
		    "2026-12-05T12:00:00Z, 2026-12-05T13:00:00.250+01:00), not '%.64s'",
		    name, v);
	return false;
}

/* The filters and the limit into *f; false when it answered 400. */
static bool cdr_filter(struct admin_req *r, struct sa_cdr_filter *f)
{
	static const char *const args[] = {"from", "to", "call_id", "limit", NULL};
	int64_t unused;

	/* No cursor among the arguments: admin_page() reads only the limit. */
	if (!admin_args_only(r, args) || !admin_page(r, &f->limit, &unused) ||
	    !time_arg(r, "from", &f->from_ms) || !time_arg(r, "to", &f->to_ms))
		return false;
	if (f->from_ms >= 0 && f->to_ms >= 0 && f->from_ms >= f->to_ms) {
		admin_error(r, 400, ADMIN_E_BAD_REQUEST,
			    "from must be before to (from is included, to is not): no record is "
			    "both");
		return false;
	}
	f->call_id = admin_arg(r, "call_id");
	if (f->call_id && (!f->call_id[0] || strlen(f->call_id) > CDR_CALL_ID_MAX)) {
		admin_error(r, 400, ADMIN_E_BAD_REQUEST, "call_id must be 1 to %d bytes",
			    CDR_CALL_ID_MAX);
		return false;
	}
	return true;
}

/* The list of one of the two, through store and row functions. */
static void cdr_list(struct admin_req *r,
		     int (*query)(struct store_admin *, const struct sa_cdr_filter *,
				  struct sa_rows **),
		     json_t *(*row)(const struct sa_rows *, unsigned), const char *what)
{
	struct sa_cdr_filter f = {0};
	struct store_admin *db;
	struct sa_rows *rows = NULL;
	json_t *items;
	int rc;

	if (!cdr_filter(r, &f))
		return;
	db = admin_db(r);
	if (!db)
		return;
	rc = query(db, &f, &rows);
	if (rc < 0) {
		admin_db_error(r, rc, what);
		return;
	}
	items = json_array();
	for (unsigned i = 0; i < sa_rows_count(rows); i++)
		json_array_append_new(items, row(rows, i));
	sa_rows_free(rows);
	admin_json(r, 200, json_pack("{s:o}", "items", items));
}

void admin_cdrs_list(struct admin_req *r)
{
	cdr_list(r, store_admin_cdrs, cdr_json, "call records");
}

void admin_cdr_calls_list(struct admin_req *r)
{
	cdr_list(r, store_admin_cdr_calls, call_json, "calls");
}
