/*
 * log: one line per event, written with one write(2) and no lock.
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
 */
/* First: AC_USE_SYSTEM_EXTENSIONS defines _GNU_SOURCE there, for dup3(2). */
#include "autoconfig.h"

#include "base/log.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
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

/* "ts=2026-11-21T10:00:00.123Z level=warn " into buf; returns its length. */
static size_t log_prefix(char *buf, size_t cap, enum log_level level)
{
	struct timespec ts;
	int64_t days, secs, y;
	unsigned mo, d;
	int n;

	clock_gettime(CLOCK_REALTIME, &ts);
	days = ts.tv_sec / 86400;
	secs = ts.tv_sec % 86400;
	if (secs < 0) {
		secs += 86400;
		days--;
	}
	civil_from_days(days, &y, &mo, &d);
	n = snprintf(buf, cap, "ts=%04lld-%02u-%02uT%02u:%02u:%02u.%03uZ level=%s ", (long long)y,
		     mo, d, (unsigned)(secs / 3600), (unsigned)(secs / 60 % 60),
		     (unsigned)(secs % 60), (unsigned)(ts.tv_nsec / 1000000), level_names[level]);
	return n < 0 ? 0 : (size_t)n < cap ? (size_t)n : cap - 1;
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
	va_list ap;

	if ((unsigned)level > LOG_LVL_DEBUG || !log_enabled(level))
		return;
	target = atomic_load(&log_target);
	/* syslog stamps time, level and pid itself. */
	if (target != LOG_TARGET_SYSLOG)
		n = log_prefix(line, sizeof(line), level);

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
