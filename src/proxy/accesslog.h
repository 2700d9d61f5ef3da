/*
 * accesslog: one line per SIP transaction ([log] access), for operators
 * and their log tools, apart from the event log.
 *
 *   time=2026-12-05T12:00:00.123Z node=n1 proto=udp src=127.0.0.1:5061 method=INVITE
 *   ruri="sip:bob@example.com" from=alice status=200 target="sip:10.0.0.1:5060"
 *   duration_ms=12 call_id="a84b4c76e66710"
 *
 * (one line), or the same keys as one JSON object per line ([log]
 * access_format = json). The worker that finishes a transaction formats
 * its line (accesslog_format(), a pure function) and copies it into a
 * bounded ring; a writer thread empties the ring into the file, or into
 * syslog(3) (facility local0, priority info). The worker never waits on
 * the disk: when the writer falls behind, a line that does not fit is
 * dropped and counted (junction_access_log_dropped_total).
 *
 * SIP fields are whatever the sender wrote: every value is escaped (see
 * accesslog_format()), so no request can start a line of its own or
 * break the quoting.
 */
#ifndef JCT_ACCESSLOG_H
#define JCT_ACCESSLOG_H

#include "config/config.h"
#include "net/netaddr.h"
#include "sip/sip_str.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Bytes kept of each string field (longer ones are cut on a character
 * boundary and end in "..."), and room for the longest line these make,
 * escaped, in either format. */
#define ACCESSLOG_FIELD_MAX 512
#define ACCESSLOG_LINE_MAX  24576
/* The ring between the workers and the writer. */
#define ACCESSLOG_RING_BYTES (4u << 20)

/* One transaction; the strings are borrowed for the call. */
struct accesslog_entry {
	uint64_t at_ms;       /* wall clock when the request arrived */
	uint64_t duration_ms; /* until the final response */
	enum sip_proto proto;
	const struct netaddr *src; /* NULL: unknown */
	struct sip_str method, ruri, from_user, call_id;
	struct sip_str target; /* where it was sent; empty when nowhere */
	unsigned status;       /* final status; 0: none (a non-INVITE timed out, RFC 4320) */
};

/* Opens [log] access (a file, created 0640 and appended to, or syslog)
 * and starts the writer, unless it is "off" (then does nothing).
 * Returns 0 or a negative errno (the file cannot be opened). */
int accesslog_open(const struct config *cfg);
/* Writes what the ring holds, stops the writer, closes the file. */
void accesslog_close(void);
/* Is the access log written? */
bool accesslog_on(void);
/* Async-signal-safe: the writer reopens the file at its path (after
 * logrotate moved it away; SIGHUP). Nothing for syslog. */
void accesslog_reopen(void);

/* Formats e and copies the line into the ring; never blocks on the
 * writer (a full ring drops the line and counts it). Any thread. */
void accesslog_write(const struct accesslog_entry *e);
/* Lines lost: the ring was full, or the file could not be written. */
uint64_t accesslog_dropped(void);

/*
 * The line of e (ending in '\n') for node, in fmt, into buf[0..cap).
 * Returns its length, or -ENOSPC when cap is smaller than it
 * (ACCESSLOG_LINE_MAX is always enough). logfmt quotes ruri, target and
 * call_id always, the other strings when they need it (a blank, '=',
 * '"', a control or non-ASCII character), and leaves an empty one empty
 * (from=). In both formats a value escapes '"' and '\' with a backslash,
 * \n \r \t as such, other control characters (C0, DEL, C1) and U+2028,
 * U+2029 as \uXXXX, and writes each byte that is not UTF-8 as \ufffd.
 * status and duration_ms are numbers (status 0: no final response).
 */
int accesslog_format(const struct accesslog_entry *e, const char *node, enum access_format fmt,
		     char *buf, size_t cap);

#endif
