/*
 * Unit tests for the ring of recent lines of log.c (log_recent()): warn
 * and error lines kept, info and debug not, nor lines under the level;
 * newest first; the oldest dropped past LOG_RECENT_MAX; max respected;
 * each entry exactly the line written (its ts= and the text after
 * "level=warn "), control characters replaced as in the line; a long
 * text cut at LOG_RECENT_MSG_MAX bytes with "...", never inside a UTF-8
 * character; and lines from several threads at once kept whole.
 * Criterion runs each test in a process of its own: each starts with an
 * empty ring.
 */
#include "base/log.h"

#include <criterion/criterion.h>
#include <pthread.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char path[] = "/tmp/jct-test-log-XXXXXX";
static struct log_entry got[LOG_RECENT_MAX + 8];

/* Logs to a file of its own (read back by last_line()), at level. */
static void open_at(enum log_level level)
{
	int fd = mkstemp(path);

	cr_assert_geq(fd, 0);
	close(fd);
	cr_assert_eq(log_open(level, path), 0);
}

static void done(void)
{
	log_close();
	unlink(path);
}

/* The last line of the log file, without its "\n". */
static const char *last_line(void)
{
	static char buf[8192], line[8192];
	FILE *f = fopen(path, "r");

	cr_assert_not_null(f);
	line[0] = '\0';
	while (fgets(buf, sizeof(buf), f))
		strcpy(line, buf);
	fclose(f);
	line[strcspn(line, "\n")] = '\0';
	return line;
}

Test(log_recent, empty)
{
	open_at(LOG_LVL_DEBUG);
	cr_assert_eq(log_recent(got, LOG_RECENT_MAX), 0);
	done();
}

Test(log_recent, warn_and_error_only_newest_first)
{
	open_at(LOG_LVL_DEBUG);
	log_info("event=one");
	log_warn("event=two n=%d", 2);
	log_debug("event=three");
	log_error("event=four reason=\"%s\"", "disk full");
	log_info("event=five");
	cr_assert_eq(log_recent(got, LOG_RECENT_MAX), 2);
	cr_assert_eq(got[0].level, LOG_LVL_ERROR);
	cr_assert_str_eq(got[0].message, "event=four reason=\"disk full\"");
	cr_assert_eq(got[1].level, LOG_LVL_WARN);
	cr_assert_str_eq(got[1].message, "event=two n=2");
	done();
}

Test(log_recent, entry_is_the_line_written)
{
	char want[8192];
	regex_t rx;

	open_at(LOG_LVL_INFO);
	log_warn("event=bad_thing src=192.0.2.1:5060 ua=\"a\r\nb\x01\"");
	cr_assert_eq(log_recent(got, 1), 1);
	/* the line's own time and text, CR, LF and the control byte as '?' */
	snprintf(want, sizeof(want), "ts=%s level=warn %s", got[0].time, got[0].message);
	cr_assert_str_eq(last_line(), want);
	cr_assert_str_eq(got[0].message, "event=bad_thing src=192.0.2.1:5060 ua=\"a??b?\"");
	cr_assert_eq(regcomp(&rx,
			     "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z$",
			     REG_EXTENDED | REG_NOSUB),
		     0);
	cr_assert_eq(regexec(&rx, got[0].time, 0, NULL, 0), 0, "time %s", got[0].time);
	regfree(&rx);
	done();
}

Test(log_recent, under_the_level_not_kept)
{
	open_at(LOG_LVL_ERROR);
	log_warn("event=not_written");
	log_error("event=written");
	cr_assert_eq(log_recent(got, LOG_RECENT_MAX), 1);
	cr_assert_str_eq(got[0].message, "event=written");
	done();
}

Test(log_recent, ring_drops_the_oldest)
{
	char want[64];

	open_at(LOG_LVL_INFO);
	for (int i = 0; i < LOG_RECENT_MAX + 50; i++)
		log_warn("event=n i=%d", i);
	cr_assert_eq(log_recent(got, LOG_RECENT_MAX + 8), LOG_RECENT_MAX);
	for (int k = 0; k < LOG_RECENT_MAX; k++) {
		snprintf(want, sizeof(want), "event=n i=%d", LOG_RECENT_MAX + 49 - k);
		cr_assert_str_eq(got[k].message, want);
	}
	done();
}

Test(log_recent, max_gives_the_newest)
{
	open_at(LOG_LVL_INFO);
	for (int i = 0; i < 5; i++)
		log_error("event=n i=%d", i);
	cr_assert_eq(log_recent(got, 2), 2);
	cr_assert_str_eq(got[0].message, "event=n i=4");
	cr_assert_str_eq(got[1].message, "event=n i=3");
	cr_assert_eq(log_recent(got, 0), 0);
	done();
}

Test(log_recent, long_text_cut_with_dots)
{
	char text[700], want[LOG_RECENT_MSG_MAX + 1];

	open_at(LOG_LVL_INFO);
	memset(text, 'x', sizeof(text) - 1);
	text[sizeof(text) - 1] = '\0';
	log_warn("%s", text);
	cr_assert_eq(log_recent(got, 1), 1);
	memset(want, 'x', LOG_RECENT_MSG_MAX - 3);
	strcpy(want + LOG_RECENT_MSG_MAX - 3, "...");
	cr_assert_eq(strlen(got[0].message), LOG_RECENT_MSG_MAX);
	cr_assert_str_eq(got[0].message, want);
	/* exactly LOG_RECENT_MSG_MAX bytes: kept whole */
	text[LOG_RECENT_MSG_MAX] = '\0';
	log_warn("%s", text);
	cr_assert_eq(log_recent(got, 1), 1);
	cr_assert_str_eq(got[0].message, text);
	done();
}

Test(log_recent, cut_not_inside_a_character)
{
	/* "é" (2 bytes) at 508..509: the cut at 509 would split it */
	char text[600], want[LOG_RECENT_MSG_MAX + 1];

	open_at(LOG_LVL_INFO);
	memset(text, 'x', sizeof(text) - 1);
	text[sizeof(text) - 1] = '\0';
	memcpy(text + 508, "\xc3\xa9", 2);
	log_warn("%s", text);
	cr_assert_eq(log_recent(got, 1), 1);
	memset(want, 'x', 508);
	strcpy(want + 508, "...");
	cr_assert_str_eq(got[0].message, want);
	/* "€" (3 bytes) at 506..508: kept whole, the cut after it */
	memset(text, 'x', sizeof(text) - 1);
	memcpy(text + 506, "\xe2\x82\xac", 3);
	log_warn("%s", text);
	cr_assert_eq(log_recent(got, 1), 1);
	memset(want, 'x', 506);
	strcpy(want + 506, "\xe2\x82\xac...");
	cr_assert_str_eq(got[0].message, want);
	done();
}

#define THREADS    4
#define PER_THREAD 500
static void *writer(void *arg)
{
	long t = (long)arg;

	for (int i = 0; i < PER_THREAD; i++) {
		if (i % 2)
			log_warn("event=w t=%ld i=%d pad=%0300d", t, i, 0);
		else
			log_info("event=i t=%ld i=%d", t, i);
	}
	return NULL;
}

Test(log_recent, threads_keep_whole_lines)
{
	pthread_t th[THREADS];
	size_t n;

	open_at(LOG_LVL_INFO);
	for (long t = 0; t < THREADS; t++)
		cr_assert_eq(pthread_create(&th[t], NULL, writer, (void *)t), 0);
	for (int t = 0; t < THREADS; t++)
		pthread_join(th[t], NULL);
	n = log_recent(got, LOG_RECENT_MAX);
	cr_assert_eq(n, LOG_RECENT_MAX);
	for (size_t k = 0; k < n; k++) {
		long t;
		int i, pad, used = 0;

		cr_assert_eq(got[k].level, LOG_LVL_WARN);
		cr_assert_eq(
			sscanf(got[k].message, "event=w t=%ld i=%d pad=%d%n", &t, &i, &pad, &used),
			3, "%s", got[k].message);
		cr_assert_eq((size_t)used, strlen(got[k].message), "%s", got[k].message);
		cr_assert(t >= 0 && t < THREADS && i % 2 == 1);
	}
	done();
}
