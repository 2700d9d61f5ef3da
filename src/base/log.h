/*
 * log: one line per event, key=value pairs, four levels.
 *
 *   ts=2026-11-21T10:00:00.123Z level=warn event=parse_error src=127.0.0.1:5060 reason="Bad CSeq"
 *
 * Each line is formatted into a stack buffer and written with one write(2),
 * so lines from several threads never interleave. Targets: stderr, syslog,
 * or a file that SIGHUP reopens (log_reopen) for logrotate. The last
 * LOG_RECENT_MAX warn and error lines written are kept in memory besides
 * (log_recent), for the admin API's /v1/log.
 */
#ifndef JCT_LOG_H
#define JCT_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum log_level { LOG_LVL_ERROR = 0, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

/* Sets the level and target. target is "stderr", "syslog" or a file path
 * (absolute). Returns 0 or a negative errno (file cannot be opened). */
int log_open(enum log_level level, const char *target);
/* Reopens a file target (SIGHUP); no-op for stderr and syslog. */
int log_reopen(void);
void log_close(void);

/* Parses "error|warn|info|debug". Returns 0 or -EINVAL. */
int log_level_parse(const char *s, enum log_level *out);
/* Is a message of this level written? Cheap; use before building costly fields. */
bool log_enabled(enum log_level level);

/* fmt is the rest of the line after "ts=... level=...", conventionally
 * starting with "event=NAME". Values with spaces are quoted by the caller. */
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The most recent warn and error lines kept, and the bytes kept of each
 * line's text (a longer one is cut and ends in "..."). */
#define LOG_RECENT_MAX     200
#define LOG_RECENT_MSG_MAX 512

/* A warn or error line as it was written. */
struct log_entry {
	char time[32];        /* UTC, as the line's ts=: "2026-11-21T10:00:00.123Z" */
	enum log_level level; /* LOG_LVL_ERROR or LOG_LVL_WARN */
	/* the line after "ts=... level=", NUL-terminated: "event=... key=..." */
	char message[LOG_RECENT_MSG_MAX + 1];
};

/* Copies the last warn and error lines written (at most max, and at most
 * LOG_RECENT_MAX: the ring's size) into out, newest first; returns how
 * many. Only lines that log_enabled() let through are there. Any thread;
 * it takes the ring's lock for the copy. */
size_t log_recent(struct log_entry *out, size_t max);

/* A limit on one kind of log line, so that a flood of events (an attack)
 * is not a flood of lines: at most per_sec lines a second, the rest
 * counted. One thread's: no locking. Zero-initialised. */
struct log_rate {
	uint64_t sec;      /* the second (of now_ms) being counted */
	unsigned n;        /* lines let through in it */
	unsigned unlogged; /* left out since the last one let through */
};

/* May a line of r's kind be written at now_ms (any millisecond clock)?
 * When it may, *unlogged gets how many were left out since the last one
 * (for the line to say) and the count starts again. */
bool log_rate_ok(struct log_rate *r, uint64_t now_ms, unsigned per_sec, unsigned *unlogged);

#define log_error(...) log_msg(LOG_LVL_ERROR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...)                                                                             \
	do {                                                                                       \
		if (log_enabled(LOG_LVL_DEBUG))                                                    \
			log_msg(LOG_LVL_DEBUG, __VA_ARGS__);                                       \
	} while (0)

#endif
