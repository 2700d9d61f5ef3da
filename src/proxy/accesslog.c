/*
 * accesslog: see accesslog.h for the lines; this is how they travel.
 *
 * A worker formats its line on its own stack (at most ACCESSLOG_LINE_MAX
 * bytes: every field is cut at ACCESSLOG_FIELD_MAX and escaping at most
 * sextuples a byte), then takes the ring's mutex for a memcpy and two
 * index updates. The ring holds whole lines only, so whatever the writer
 * finds between tail and tail + used ends at a line's end. The writer
 * writes that span straight from the ring without the mutex (workers
 * only write past it), with one writev(2) for a file, one syslog(3) a
 * line, and only then gives the space back: a slow disk or a blocked
 * syslog socket fills the ring, and workers then drop lines, never wait.
 *
 * The writer sleeps on an eventfd, written by the worker whose line finds
 * the ring empty (so one wake-up per burst, not per line), by
 * accesslog_reopen() (write(2) is async-signal-safe) and by
 * accesslog_close(). SIGHUP's reopen opens the path anew and only then
 * closes the old descriptor, so a file that cannot be opened leaves the
 * log going to the old one (and a warning).
 */
#include "proxy/accesslog.h"

#include "base/log.h"
#include "base/utf8.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/uio.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#define AL_ERROR_LOG_S 10 /* at most one line about write errors this often */

static pthread_mutex_t al_lock = PTHREAD_MUTEX_INITIALIZER;
/* Under al_lock: the ring, and whether accesslog_close() was called. */
static char *al_ring;
static size_t al_tail, al_used;
static bool al_closing;

static atomic_bool al_running;
static atomic_int al_reopen_asked;
static _Atomic uint64_t al_lost;
static int al_wake_fd = -1;

/* Set at open, read-only afterwards. */
static char al_node[CFG_NAME_MAX];
static enum access_format al_fmt;
static bool al_syslog;
static char al_path[PATH_MAX];

/* The writer's own. */
static pthread_t al_thread;
static int al_fd = -1;
static time_t al_error_logged;

/* ---- formatting ----------------------------------------------------------- */

struct al_out {
	char *p;
	size_t len, cap;
	bool over; /* something did not fit */
};

static void al_put(struct al_out *o, const char *s, size_t n)
{
	if (o->over || n > o->cap - o->len) {
		o->over = true;
		return;
	}
	memcpy(o->p + o->len, s, n);
	o->len += n;
}

static void al_puts(struct al_out *o, const char *s)
{
	al_put(o, s, strlen(s));
}

/* s's length cut to max bytes without splitting a UTF-8 character. */
static size_t al_cut(struct sip_str s, size_t max)
{
	size_t n = max;

	if (s.len <= max)
		return s.len;
	for (unsigned i = 0; i < 3 && n > 0 && ((unsigned char)s.p[n] & 0xc0) == 0x80; i++)
		n--;
	return n;
}

/* The value s escaped (see accesslog.h), without quotes; cut at
 * ACCESSLOG_FIELD_MAX with "..." after. */
static void al_escaped(struct al_out *o, struct sip_str s)
{
	const unsigned char *p = (const unsigned char *)s.p;
	size_t n = al_cut(s, ACCESSLOG_FIELD_MAX);
	char u[8];

	for (size_t i = 0; i < n;) {
		unsigned cp;
		size_t k = utf8_decode(p + i, n - i, &cp);

		if (k == 0) {
			al_puts(o, "\\ufffd");
			i++;
			continue;
		}
		if (cp == '"' || cp == '\\') {
			u[0] = '\\', u[1] = (char)cp;
			al_put(o, u, 2);
		} else if (cp == '\n') {
			al_puts(o, "\\n");
		} else if (cp == '\r') {
			al_puts(o, "\\r");
		} else if (cp == '\t') {
			al_puts(o, "\\t");
		} else if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == 0x2028 ||
			   cp == 0x2029) {
			snprintf(u, sizeof(u), "\\u%04x", cp);
			al_put(o, u, 6);
		} else {
			al_put(o, (const char *)p + i, k);
		}
		i += k;
	}
	if (n < s.len)
		al_puts(o, "...");
}

/* Does a logfmt value need quotes? */
static bool al_needs_quotes(struct sip_str s)
{
	for (size_t i = 0; i < s.len; i++) {
		unsigned char c = (unsigned char)s.p[i];
		if (c <= ' ' || c == '=' || c == '"' || c == '\\' || c >= 0x7f)
			return true;
	}
	return false;
}

/* key=value (logfmt) or "key":"value" (JSON), after a separator unless
 * first. quote: always quote in logfmt. */
static void al_field(struct al_out *o, enum access_format fmt, const char *key, struct sip_str v,
		     bool quote, bool first)
{
	if (fmt == ACCESS_FORMAT_JSON) {
		al_puts(o, first ? "{\"" : ",\"");
		al_puts(o, key);
		al_puts(o, "\":\"");
		al_escaped(o, v);
		al_puts(o, "\"");
		return;
	}
	if (!first)
		al_puts(o, " ");
	al_puts(o, key);
	al_puts(o, "=");
	quote = quote || al_needs_quotes(v);
	if (quote)
		al_puts(o, "\"");
	al_escaped(o, v);
	if (quote)
		al_puts(o, "\"");
}

static void al_number(struct al_out *o, enum access_format fmt, const char *key, uint64_t v)
{
	char text[24];

	snprintf(text, sizeof(text), "%llu", (unsigned long long)v);
	al_puts(o, fmt == ACCESS_FORMAT_JSON ? ",\"" : " ");
	al_puts(o, key);
	al_puts(o, fmt == ACCESS_FORMAT_JSON ? "\":" : "=");
	al_puts(o, text);
}

int accesslog_format(const struct accesslog_entry *e, const char *node, enum access_format fmt,
		     char *buf, size_t cap)
{
	struct al_out o = {.p = buf, .cap = cap};
	char when[32], src[NETADDR_STRLEN] = "";
	time_t t = (time_t)(e->at_ms / 1000);
	struct tm tm;

	if (!gmtime_r(&t, &tm) ||
	    snprintf(when, sizeof(when), "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ", tm.tm_year + 1900,
		     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		     (unsigned)(e->at_ms % 1000)) >= (int)sizeof(when))
		when[0] = '\0';
	if (e->src)
		netaddr_format(e->src, src, sizeof(src));
	al_field(&o, fmt, "time", sip_str_cstr(when), false, true);
	al_field(&o, fmt, "node", sip_str_cstr(node), false, false);
	al_field(&o, fmt, "proto",
		 sip_str_cstr(e->proto < SIP_PROTO__COUNT ? sip_proto_name(e->proto) : ""), false,
		 false);
	al_field(&o, fmt, "src", sip_str_cstr(src), false, false);
	al_field(&o, fmt, "method", e->method, false, false);
	al_field(&o, fmt, "ruri", e->ruri, true, false);
	al_field(&o, fmt, "from", e->from_user, false, false);
	al_number(&o, fmt, "status", e->status);
	al_field(&o, fmt, "target", e->target, true, false);
	al_number(&o, fmt, "duration_ms", e->duration_ms);
	al_field(&o, fmt, "call_id", e->call_id, true, false);
	al_puts(&o, fmt == ACCESS_FORMAT_JSON ? "}\n" : "\n");
	return o.over ? -ENOSPC : (int)o.len;
}

/* ---- the ring --------------------------------------------------------------- */

bool accesslog_on(void)
{
	return atomic_load_explicit(&al_running, memory_order_relaxed);
}

uint64_t accesslog_dropped(void)
{
	return atomic_load_explicit(&al_lost, memory_order_relaxed);
}

static void al_wake(void)
{
	uint64_t one = 1;

	if (al_wake_fd >= 0)
		(void)!write(al_wake_fd, &one, sizeof(one));
}

void accesslog_write(const struct accesslog_entry *e)
{
	char line[ACCESSLOG_LINE_MAX];
	bool stored = false, was_empty = false;
	size_t head, first;
	int n;

	if (!accesslog_on())
		return;
	n = accesslog_format(e, al_node, al_fmt, line, sizeof(line));
	if (n <= 0) {
		atomic_fetch_add_explicit(&al_lost, 1, memory_order_relaxed);
		return;
	}
	pthread_mutex_lock(&al_lock);
	if (al_ring && !al_closing && ACCESSLOG_RING_BYTES - al_used >= (size_t)n) {
		head = (al_tail + al_used) % ACCESSLOG_RING_BYTES;
		first = ACCESSLOG_RING_BYTES - head < (size_t)n ? ACCESSLOG_RING_BYTES - head
								: (size_t)n;
		memcpy(al_ring + head, line, first);
		memcpy(al_ring, line + first, (size_t)n - first);
		was_empty = al_used == 0;
		al_used += (size_t)n;
		stored = true;
	}
	pthread_mutex_unlock(&al_lock);
	if (!stored)
		atomic_fetch_add_explicit(&al_lost, 1, memory_order_relaxed);
	else if (was_empty)
		al_wake();
}

void accesslog_reopen(void)
{
	if (!accesslog_on() || al_syslog)
		return;
	atomic_store(&al_reopen_asked, 1);
	al_wake();
}

/* ---- the writer --------------------------------------------------------------- */

static int al_open_file(void)
{
	int fd = open(al_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);

	return fd < 0 ? -errno : fd;
}

static void al_reopen_file(void)
{
	int fd = al_open_file();

	if (fd < 0) {
		log_warn("event=access_log_reopen_failed path=\"%s\" error=\"%s\" detail=\"still "
			 "writing to the file it had open\"",
			 al_path, strerror(-fd));
		return;
	}
	close(al_fd);
	al_fd = fd;
	log_info("event=access_log_reopened path=\"%s\"", al_path);
}

static unsigned al_lines(const char *p, size_t n)
{
	unsigned k = 0;

	for (const char *q = p; (q = memchr(q, '\n', n - (size_t)(q - p))); q++)
		k++;
	return k;
}

/* Lines not written: counted, and said now and then. */
static void al_write_failed(const char *a, size_t alen, const char *b, size_t blen, int err)
{
	unsigned k = al_lines(a, alen) + al_lines(b, blen);
	time_t now = time(NULL);

	atomic_fetch_add_explicit(&al_lost, k, memory_order_relaxed);
	if (now - al_error_logged < AL_ERROR_LOG_S)
		return;
	al_error_logged = now;
	log_warn("event=access_log_write_failed path=\"%s\" error=\"%s\" lines=%u", al_path,
		 strerror(err), k);
}

/* a[0..alen) then b[0..blen) to the file, whole. */
static void al_emit_file(const char *a, size_t alen, const char *b, size_t blen)
{
	while (alen + blen > 0) {
		struct iovec iov[2] = {{(void *)a, alen}, {(void *)b, blen}};
		ssize_t w = writev(al_fd, alen ? iov : iov + 1, alen ? 2 : 1);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			al_write_failed(a, alen, b, blen, w < 0 ? errno : EIO);
			return;
		}
		if ((size_t)w >= alen) {
			b += (size_t)w - alen;
			blen -= (size_t)w - alen;
			alen = 0;
		} else {
			a += w;
			alen -= (size_t)w;
		}
	}
}

/* Each line to syslog; one that wraps round the ring's end is put
 * together first. */
static void al_emit_syslog(const char *a, size_t alen, const char *b, size_t blen)
{
	static char line[ACCESSLOG_LINE_MAX];

	while (alen > 0) {
		const char *nl = memchr(a, '\n', alen);
		size_t n;

		if (!nl) {
			/* The rest of a is the start of b's first line. */
			const char *bnl = memchr(b, '\n', blen);
			size_t tail = bnl ? (size_t)(bnl - b) : blen;

			if (alen + tail <= sizeof(line)) {
				memcpy(line, a, alen);
				memcpy(line + alen, b, tail);
				syslog(LOG_LOCAL0 | LOG_INFO, "%.*s", (int)(alen + tail), line);
			}
			b += tail + (bnl ? 1 : 0);
			blen -= tail + (bnl ? 1 : 0);
			break;
		}
		n = (size_t)(nl - a);
		syslog(LOG_LOCAL0 | LOG_INFO, "%.*s", (int)n, a);
		a += n + 1;
		alen -= n + 1;
	}
	while (blen > 0) {
		const char *nl = memchr(b, '\n', blen);
		size_t n = nl ? (size_t)(nl - b) : blen;

		syslog(LOG_LOCAL0 | LOG_INFO, "%.*s", (int)n, b);
		b += n + (nl ? 1 : 0);
		blen -= n + (nl ? 1 : 0);
	}
}

/* Writes whatever the ring holds now. Returns whether it held anything. */
static bool al_drain(void)
{
	size_t tail, used, first;

	pthread_mutex_lock(&al_lock);
	tail = al_tail;
	used = al_used;
	pthread_mutex_unlock(&al_lock);
	if (used == 0)
		return false;
	first = ACCESSLOG_RING_BYTES - tail < used ? ACCESSLOG_RING_BYTES - tail : used;
	if (al_syslog)
		al_emit_syslog(al_ring + tail, first, al_ring, used - first);
	else
		al_emit_file(al_ring + tail, first, al_ring, used - first);
	pthread_mutex_lock(&al_lock);
	al_tail = (tail + used) % ACCESSLOG_RING_BYTES;
	al_used -= used;
	pthread_mutex_unlock(&al_lock);
	return true;
}

static void *al_main(void *arg)
{
	struct pollfd p = {.fd = al_wake_fd, .events = POLLIN};
	uint64_t v;
	bool closing;

	(void)arg;
	for (;;) {
		if (poll(&p, 1, -1) > 0)
			(void)!read(al_wake_fd, &v, sizeof(v));
		if (atomic_exchange(&al_reopen_asked, 0))
			al_reopen_file();
		pthread_mutex_lock(&al_lock);
		closing = al_closing;
		pthread_mutex_unlock(&al_lock);
		while (al_drain())
			;
		if (closing)
			break;
	}
	return NULL;
}

int accesslog_open(const struct config *cfg)
{
	int rc;

	if (!cfg->log.access[0] || strcmp(cfg->log.access, "off") == 0)
		return 0;
	snprintf(al_node, sizeof(al_node), "%s", cfg->node.name);
	al_fmt = cfg->log.access_format;
	al_syslog = strcmp(cfg->log.access, "syslog") == 0;
	snprintf(al_path, sizeof(al_path), "%s", cfg->log.access);
	if (!al_syslog) {
		al_fd = al_open_file();
		if (al_fd < 0)
			return al_fd;
	}
	al_wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	al_ring = malloc(ACCESSLOG_RING_BYTES);
	if (al_wake_fd < 0 || !al_ring) {
		rc = al_wake_fd < 0 ? -errno : -ENOMEM;
		goto out;
	}
	al_tail = al_used = 0;
	al_closing = false;
	atomic_store(&al_running, true);
	rc = -pthread_create(&al_thread, NULL, al_main, NULL);
	if (rc < 0) {
		atomic_store(&al_running, false);
		goto out;
	}
	log_info("event=access_log_open target=\"%s\" format=%s", al_syslog ? "syslog" : al_path,
		 al_fmt == ACCESS_FORMAT_JSON ? "json" : "logfmt");
	return 0;
out:
	free(al_ring);
	al_ring = NULL;
	if (al_wake_fd >= 0)
		close(al_wake_fd);
	al_wake_fd = -1;
	if (al_fd >= 0)
		close(al_fd);
	al_fd = -1;
	return rc;
}

void accesslog_close(void)
{
	if (!accesslog_on())
		return;
	atomic_store(&al_running, false);
	pthread_mutex_lock(&al_lock);
	al_closing = true;
	pthread_mutex_unlock(&al_lock);
	al_wake();
	pthread_join(al_thread, NULL);
	pthread_mutex_lock(&al_lock);
	free(al_ring);
	al_ring = NULL;
	pthread_mutex_unlock(&al_lock);
	close(al_wake_fd);
	al_wake_fd = -1;
	if (al_fd >= 0)
		close(al_fd);
	al_fd = -1;
}
