/*
 * log: one line per event, written with one write(2) and no lock; the
 * last warn and error lines kept in a ring besides.
 *
 * log_msg() formats "ts=... level=... " and the caller's text into a stack
 * buffer of at most LOG_LINE_MAX bytes, ending in "\n", and hands it to the
 * kernel in a single write(2): O_APPEND makes that atomic for a file, and
 * PIPE_BUF (4096 on Linux) makes it atomic for a pipe, so lines from
 * several threads never interleave and no mutex sits on the hot path.
 * The timestamp is computed here from clock_gettime(2) because gmtime_r(3)
 * takes glibc's timezone lock.
 *
 * The state (level, target kind, file descriptor) is a few atomics. The
 * file descriptor number never changes while the file target is active:
 * log_reopen() opens the new file and dup3(2)s it over the old number, so a
 * writer racing with SIGHUP writes to either the old or the new file, never
 * to a closed or reused descriptor. log_open() and log_close() are meant
 * for start-up and shutdown, when no other thread logs.
 *
 * The ring (log_recent(), for /v1/log) holds the last LOG_RECENT_MAX warn
 * and error lines written, each cut at LOG_RECENT_MSG_MAX bytes, under a
 * mutex: those lines are rare (a flood of them is rate-limited at its
 * source, log_rate_ok()), so the lock is uncontended, and a copy of 600
 * bytes is all it covers. info and debug lines never touch it (one
 * comparison of the level decides). Lines below the log level are not
 * written and not kept either, so the ring is what the log says.
 */
/* First: AC_USE_SYSTEM_EXTENSIONS defines _GNU_SOURCE there, for dup3(2). */
#include "autoconfig.h"

#include "base/log.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

/* One line, "\n" included. PIPE_BUF so that a line written to a pipe
 * (stderr under a supervisor) is written whole. */
#define LOG_LINE_MAX 4096

enum log_target { LOG_TARGET_STDERR = 0, LOG_TARGET_SYSLOG, LOG_TARGET_FILE };

static const char *const level_names[] = {"error", "warn", "info", "debug"};
static const int level_prio[] = {LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG};

/* Before log_open(): info and above to stderr. */
static atomic_int log_level = LOG_LVL_INFO;
static atomic_int log_target = LOG_TARGET_STDERR;
static atomic_int log_fd = -1;
/* The file target's path, for log_reopen(); written only by log_open(). */
static char log_path[PATH_MAX];

/* The recent warn and error lines: recent_n of them, the newest in the
 * slot before recent_next. */
static struct log_entry recent[LOG_RECENT_MAX];
static size_t recent_next, recent_n;
static pthread_mutex_t recent_lock = PTHREAD_MUTEX_INITIALIZER;

int log_level_parse(const char *s, enum log_level *out)
{
	for (unsigned i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (strcasecmp(s, level_names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	return -EINVAL;
}

bool log_enabled(enum log_level level)
{
	return (int)level <= atomic_load_explicit(&log_level, memory_order_relaxed);
}

static int log_open_file(const char *path)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0640);

	return fd < 0 ? -errno : fd;
}

/* Leaves the current target; the file descriptor is closed last so that
 * nothing writes to a number that may be reused. */
static void log_leave_target(void)
{
	int old = atomic_exchange(&log_target, LOG_TARGET_STDERR);
	int fd = atomic_exchange(&log_fd, -1);

	if (fd >= 0)
		close(fd);
	if (old == LOG_TARGET_SYSLOG)
		closelog();
}

int log_open(enum log_level level, const char *target)
{
	int fd, old;
	int err = 0;

	if ((unsigned)level > LOG_LVL_DEBUG || !target)
		return -EINVAL;

	if (strcmp(target, "stderr") == 0) {
		log_leave_target();
	} else if (strcmp(target, "syslog") == 0) {
		log_leave_target();
		openlog("junction", LOG_PID, LOG_DAEMON);
		atomic_store(&log_target, LOG_TARGET_SYSLOG);
	} else {
		if (target[0] != '/')
			return -EINVAL;
		if (strlen(target) >= sizeof(log_path))
			return -ENAMETOOLONG;
		fd = log_open_file(target);
		if (fd < 0)
			return fd;
		old = atomic_load(&log_fd);
		if (old >= 0) {
			/* Already on a file: keep the descriptor number. */
			if (dup3(fd, old, O_CLOEXEC) < 0)
				err = -errno;
			close(fd);
			if (err)
				goto out;
		} else {
			log_leave_target();
			atomic_store(&log_fd, fd);
		}
		strcpy(log_path, target);
		atomic_store(&log_target, LOG_TARGET_FILE);
	}
	atomic_store(&log_level, (int)level);
out:
	return err;
}

int log_reopen(void)
{
	int fd, old;
	int err = 0;

	if (atomic_load(&log_target) != LOG_TARGET_FILE)
		return 0;
	old = atomic_load(&log_fd);
	fd = log_open_file(log_path);
	if (fd < 0)
		return fd; /* keep writing to the old file */
	/* dup3, not dup2: dup2 would clear close-on-exec on the old number. */
	if (dup3(fd, old, O_CLOEXEC) < 0)
		err = -errno;
	close(fd);
	return err;
}

void log_close(void)
{
	log_leave_target();
}

/*
 * Days since 1970-01-01 to a civil date (proleptic Gregorian), after
 * Howard Hinnant's "chrono-compatible low-level date algorithms".
 */
static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;

	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

/* A wall clock time in UTC, broken down for LOG_TIME_FMT. */
struct log_civil {
	int64_t y;
	unsigned mo, d, h, mi, s, ms;
};

/* 2026-11-21T10:00:00.123Z */
#define LOG_TIME_FMT     "%04lld-%02u-%02uT%02u:%02u:%02u.%03uZ"
#define LOG_TIME_ARGS(c) (long long)(c).y, (c).mo, (c).d, (c).h, (c).mi, (c).s, (c).ms

static void log_civil_of(const struct timespec *ts, struct log_civil *c)
{
	int64_t days = ts->tv_sec / 86400, secs = ts->tv_sec % 86400;

	if (secs < 0) {
		secs += 86400;
		days--;
	}
	civil_from_days(days, &c->y, &c->mo, &c->d);
	c->h = (unsigned)(secs / 3600);
	c->mi = (unsigned)(secs / 60 % 60);
	c->s = (unsigned)(secs % 60);
	c->ms = (unsigned)(ts->tv_nsec / 1000000);
}

/* "ts=2026-11-21T10:00:00.123Z level=warn " into buf; returns its length. */
static size_t log_prefix(char *buf, size_t cap, enum log_level level, const struct log_civil *c)
{
	int n = snprintf(buf, cap, "ts=" LOG_TIME_FMT " level=%s ", LOG_TIME_ARGS(*c),
			 level_names[level]);

	return n < 0 ? 0 : (size_t)n < cap ? (size_t)n : cap - 1;
}

/* Keeps a warn or error line (its text after the prefix: len bytes at
 * text, no NUL) in the ring, over the oldest when it is full. A text
 * over LOG_RECENT_MSG_MAX is cut before a UTF-8 character, not inside
 * one, and ends in "...", as a cut line does. */
static void log_keep(enum log_level level, const struct log_civil *c, const char *text, size_t len)
{
	/* room for any value of the fields, which the compiler cannot bound */
	char time[96];
	bool cut = len > LOG_RECENT_MSG_MAX;
	size_t keep = len, tlen;
	struct log_entry *e;
	int r = snprintf(time, sizeof(time), LOG_TIME_FMT, LOG_TIME_ARGS(*c));

	tlen = r < 0                                ? 0
	       : (size_t)r < sizeof(recent[0].time) ? (size_t)r
						    : sizeof(recent[0].time) - 1;
	if (cut) {
		keep = LOG_RECENT_MSG_MAX - 3;
		/* text[keep], the first byte left out, continues a character:
		 * that character goes too */
		while (keep > 0 && ((unsigned char)text[keep] & 0xc0) == 0x80)
			keep--;
	}
	pthread_mutex_lock(&recent_lock);
	e = &recent[recent_next];
	memcpy(e->time, time, tlen);
	e->time[tlen] = '\0';
	e->level = level;
	memcpy(e->message, text, keep);
	if (cut) {
		memcpy(e->message + keep, "...", 3);
		keep += 3;
	}
	e->message[keep] = '\0';
	recent_next = (recent_next + 1) % LOG_RECENT_MAX;
	if (recent_n < LOG_RECENT_MAX)
		recent_n++;
	pthread_mutex_unlock(&recent_lock);
}

size_t log_recent(struct log_entry *out, size_t max)
{
	size_t n;

	pthread_mutex_lock(&recent_lock);
	n = recent_n < max ? recent_n : max;
	for (size_t i = 0; i < n; i++)
		out[i] = recent[(recent_next + LOG_RECENT_MAX - 1 - i) % LOG_RECENT_MAX];
	pthread_mutex_unlock(&recent_lock);
	return n;
}

static void log_write(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t w = write(fd, p, len);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return; /* nowhere left to report it */
		}
		p += w;
		len -= (size_t)w;
	}
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	char line[LOG_LINE_MAX];
	size_t n = 0, avail, w;
	int target, fd, r;
	int saved_errno = errno; /* callers log in error paths, then read errno */
	bool keep = level <= LOG_LVL_WARN;
	struct timespec ts;
	struct log_civil tm = {0};
	va_list ap;

	if ((unsigned)level > LOG_LVL_DEBUG || !log_enabled(level))
		return;
	target = atomic_load(&log_target);
	if (target != LOG_TARGET_SYSLOG || keep) {
		clock_gettime(CLOCK_REALTIME, &ts);
		log_civil_of(&ts, &tm);
	}
	/* syslog stamps time, level and pid itself. */
	if (target != LOG_TARGET_SYSLOG)
		n = log_prefix(line, sizeof(line), level, &tm);

	/* vsnprintf writes at most avail - 1 characters and a NUL; the NUL's
	 * place becomes the "\n". */
	avail = sizeof(line) - n;
	va_start(ap, fmt);
	r = vsnprintf(line + n, avail, fmt, ap);
	va_end(ap);
	w = r < 0 ? 0 : (size_t)r < avail ? (size_t)r : avail - 1;
	if (r >= 0 && (size_t)r >= avail && w >= 3)
		memcpy(line + n + w - 3, "...", 3); /* say that the line was cut */

	/* One event, one line: a CR or LF inside a value (say a User-Agent
	 * from the network) must not forge a second line. */
	for (size_t i = n; i < n + w; i++) {
		unsigned char c = (unsigned char)line[i];
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			line[i] = '?';
	}
	if (keep)
		log_keep(level, &tm, line + n, w);

	if (target == LOG_TARGET_SYSLOG) {
		line[n + w] = '\0';
		syslog(level_prio[level], "%s", line);
		goto out;
	}
	line[n + w] = '\n';
	fd = target == LOG_TARGET_FILE ? atomic_load(&log_fd) : STDERR_FILENO;
	if (fd < 0)
		fd = STDERR_FILENO;
	log_write(fd, line, n + w + 1);
out:
	errno = saved_errno;
}

bool log_rate_ok(struct log_rate *r, uint64_t now_ms, unsigned per_sec, unsigned *unlogged)
{
	if (now_ms / 1000 != r->sec) {
		r->sec = now_ms / 1000;
		r->n = 0;
	}
	if (r->n >= per_sec) {
		r->unlogged++;
		return false;
	}
	r->n++;
	*unlogged = r->unlogged;
	r->unlogged = 0;
	return true;
}
