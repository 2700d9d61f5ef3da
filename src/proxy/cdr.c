/*
 * cdr: see cdr.h for what it promises; this is how.
 *
 * The queue is a ring of cfg->cdr.queue_size slots under one mutex. A
 * slot holds a record's numbers and one malloc'ed block with its strings,
 * which the worker fills before it takes the mutex: under it there is
 * only a struct copy and two indexes, so a worker waits at most for
 * another worker's copy or the writer's index update, never for a
 * database. The writer reads the slots between tail and tail + n without
 * the mutex (workers only write past tail + count), hands them to
 * store_cdr_write() as rows pointing into the slots' blocks, and only
 * after the COMMIT frees the blocks and moves tail: a record leaves the
 * queue once it is in the table, so an outage keeps it.
 *
 * The writer sleeps on a condition variable (monotonic clock) until its
 * interval is up, or CDR_BATCH records wait (the worker whose record
 * makes the count reach CDR_BATCH signals it), or cdr_stop().
 *
 * Threads: any worker calls cdr_record(); the writer thread owns the
 * database connection; the admin server reads cdr_get_stats(); main
 * calls cdr_start() and cdr_stop() (after the workers stopped).
 */
#include "proxy/cdr.h"

#include "base/clock.h"
#include "base/log.h"
#include "store/store_cdr.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CDR_BACKOFF_MIN_MS 100
#define CDR_BACKOFF_MAX_MS 5000
#define CDR_DROP_LOG_MS    10000 /* at most one line about drops this often */

/* The strings of a record, in the slot's block one after another. */
enum cdr_field {
	F_CALL_ID = 0,
	F_FROM_URI,
	F_FROM_TAG,
	F_TO_URI,
	F_TO_TAG,
	F_RURI,
	F_TARGET,
	F_SIP_SERVER,
	F_REASON,
	F__COUNT
};

struct cdr_slot {
	uint64_t at_ms;
	char *text; /* the strings (malloc'ed; the slot's until written) */
	uint16_t len[F__COUNT];
	uint16_t status;
	uint8_t event;
};

static const char *const cdr_event_names[] = {"start", "answer", "end"};

static pthread_mutex_t cdr_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cdr_cond; /* the writer's wake-up, on CLOCK_MONOTONIC */
/* Under cdr_lock: the ring and whether cdr_stop() was called. */
static struct cdr_slot *cdr_ring;
static unsigned cdr_cap, cdr_tail, cdr_count;
static bool cdr_stopping;

static atomic_bool cdr_running;
static _Atomic uint64_t cdr_written, cdr_dropped;

/* The writer's own. */
static pthread_t cdr_thread;
static struct store_cdr *cdr_db;
static struct store_cdr_row *cdr_rows; /* CDR_BATCH rows */
static unsigned cdr_interval_ms;
static uint64_t cdr_drops_logged, cdr_drop_log_ms;

bool cdr_on(void)
{
	return atomic_load_explicit(&cdr_running, memory_order_relaxed);
}

/* s's length cut to max bytes without splitting a UTF-8 character. */
static size_t cdr_cut(struct sip_str s, size_t max)
{
	size_t n = s.len;

	if (n <= max)
		return n;
	n = max;
	/* s.p[n] is the first byte left out: step back off a character
	 * whose continuation bytes would be left out. */
	for (unsigned i = 0; i < 3 && n > 0 && ((unsigned char)s.p[n] & 0xc0) == 0x80; i++)
		n--;
	return n;
}

void cdr_record(const struct cdr_record *r)
{
	const struct sip_str reason = sip_str_cstr(r->reason);
	const struct sip_str f[F__COUNT] = {r->call_id, r->from_uri,   r->from_tag,
					    r->to_uri,  r->to_tag,     r->ruri,
					    r->target,  r->sip_server, reason};
	struct cdr_slot s = {.at_ms = r->at_ms,
			     .status = r->status <= 699 ? (uint16_t)r->status : 0,
			     .event = (uint8_t)r->event};
	size_t total = 0, off = 0;
	bool stored = false, wake = false;

	if (!cdr_on() || (unsigned)r->event > CDR_END)
		return;
	for (unsigned i = 0; i < F__COUNT; i++) {
		s.len[i] = (uint16_t)cdr_cut(f[i], i == F_REASON ? CDR_REASON_MAX : CDR_FIELD_MAX);
		total += s.len[i];
	}
	s.text = malloc(total ? total : 1);
	if (!s.text) {
		atomic_fetch_add_explicit(&cdr_dropped, 1, memory_order_relaxed);
		return;
	}
	for (unsigned i = 0; i < F__COUNT; i++) {
		if (s.len[i])
			memcpy(s.text + off, f[i].p, s.len[i]);
		off += s.len[i];
	}
	pthread_mutex_lock(&cdr_lock);
	if (!cdr_stopping && cdr_ring && cdr_count < cdr_cap) {
		cdr_ring[(cdr_tail + cdr_count) % cdr_cap] = s;
		wake = ++cdr_count == CDR_BATCH;
		stored = true;
	}
	pthread_mutex_unlock(&cdr_lock);
	if (wake)
		pthread_cond_signal(&cdr_cond);
	if (!stored) {
		free(s.text);
		atomic_fetch_add_explicit(&cdr_dropped, 1, memory_order_relaxed);
	}
}

void cdr_get_stats(struct cdr_stats *st)
{
	st->written = atomic_load_explicit(&cdr_written, memory_order_relaxed);
	st->dropped = atomic_load_explicit(&cdr_dropped, memory_order_relaxed);
	pthread_mutex_lock(&cdr_lock);
	st->queued = cdr_count;
	pthread_mutex_unlock(&cdr_lock);
}

/* ---- the writer --------------------------------------------------------- */

static void cdr_deadline(struct timespec *ts, uint64_t at_ms)
{
	ts->tv_sec = (time_t)(at_ms / 1000);
	ts->tv_nsec = (long)(at_ms % 1000) * 1000000L;
}

/* Waits (cdr_lock held) until at_ms on the monotonic clock, or until
 * woken with more than `batch` records waiting (batch 0: only by a stop).
 * Returns whether cdr_stop() was called. */
static bool cdr_wait(uint64_t at_ms, bool batch)
{
	struct timespec ts;

	cdr_deadline(&ts, at_ms);
	while (!cdr_stopping && (!batch || cdr_count < CDR_BATCH) && clock_now_ms() < at_ms)
		pthread_cond_timedwait(&cdr_cond, &cdr_lock, &ts);
	return cdr_stopping;
}

/* The row of slot i (i counted from tail), pointing into its block. */
static void cdr_row(unsigned i, struct store_cdr_row *row)
{
	const struct cdr_slot *s = &cdr_ring[(cdr_tail + i) % cdr_cap];
	struct sip_str f[F__COUNT];
	const char *p = s->text;

	for (unsigned k = 0; k < F__COUNT; k++) {
		f[k] = sip_str_make(p, s->len[k]);
		p += s->len[k];
	}
	*row = (struct store_cdr_row){.event = cdr_event_names[s->event],
				      .at_ms = s->at_ms,
				      .call_id = f[F_CALL_ID],
				      .from_uri = f[F_FROM_URI],
				      .from_tag = f[F_FROM_TAG],
				      .to_uri = f[F_TO_URI],
				      .to_tag = f[F_TO_TAG],
				      .ruri = f[F_RURI],
				      .target = f[F_TARGET],
				      .sip_server = f[F_SIP_SERVER],
				      .reason = f[F_REASON],
				      .status = s->status};
}

/* Takes the first n slots off the queue: their blocks are freed outside
 * the lock (no worker touches them), then tail moves. */
static void cdr_release(unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		struct cdr_slot *s = &cdr_ring[(cdr_tail + i) % cdr_cap];
		free(s->text);
		s->text = NULL;
	}
	pthread_mutex_lock(&cdr_lock);
	cdr_tail = (cdr_tail + n) % cdr_cap;
	cdr_count -= n;
	pthread_mutex_unlock(&cdr_lock);
}

/*
 * Writes the first n queued records (n <= CDR_BATCH). A batch the
 * database refuses goes again row by row, and a row it still refuses is
 * dropped. Returns 0 when every record left the queue, else the error
 * that stopped it (an outage: what was not written stays queued).
 */
static int cdr_flush(unsigned n)
{
	int rc;

	for (unsigned i = 0; i < n; i++)
		cdr_row(i, &cdr_rows[i]);
	rc = store_cdr_write(cdr_db, cdr_rows, n);
	if (rc == 0) {
		atomic_fetch_add_explicit(&cdr_written, n, memory_order_relaxed);
		cdr_release(n);
		return 0;
	}
	if (rc != -EINVAL)
		return rc;
	for (unsigned i = 0; i < n; i++) {
		/* Row i of the batch is now at the queue's head. */
		cdr_row(0, &cdr_rows[0]);
		rc = store_cdr_write(cdr_db, cdr_rows, 1);
		if (rc == -EINVAL) {
			/* Not the Call-ID: it is the sender's text, which
			 * an event log line would have to escape. */
			log_warn("event=cdr_record_refused event_type=%s at_ms=%llu error=\"%s\"",
				 cdr_rows[0].event, (unsigned long long)cdr_rows[0].at_ms,
				 store_cdr_error(cdr_db));
			atomic_fetch_add_explicit(&cdr_dropped, 1, memory_order_relaxed);
		} else if (rc == 0) {
			atomic_fetch_add_explicit(&cdr_written, 1, memory_order_relaxed);
		} else {
			return rc;
		}
		cdr_release(1);
	}
	return 0;
}

/* One line now and then when records were dropped. */
static void cdr_log_drops(void)
{
	uint64_t d = atomic_load_explicit(&cdr_dropped, memory_order_relaxed);
	uint64_t now = clock_now_ms();

	if (d == cdr_drops_logged || now < cdr_drop_log_ms)
		return;
	log_warn("event=cdr_dropped records=%llu total=%llu queue_size=%u",
		 (unsigned long long)(d - cdr_drops_logged), (unsigned long long)d, cdr_cap);
	cdr_drops_logged = d;
	cdr_drop_log_ms = now + CDR_DROP_LOG_MS;
}

/* At cdr_stop(): what is queued, for up to CDR_STOP_MS; the rest is
 * counted as dropped. */
static void cdr_drain(void)
{
	uint64_t end = clock_now_ms() + CDR_STOP_MS;
	unsigned n, left;

	for (;;) {
		pthread_mutex_lock(&cdr_lock);
		n = cdr_count < CDR_BATCH ? cdr_count : CDR_BATCH;
		pthread_mutex_unlock(&cdr_lock);
		if (n == 0 || clock_now_ms() >= end)
			break;
		if (cdr_flush(n) < 0) {
			uint64_t now = clock_now_ms();
			struct timespec ts = {0, 100 * 1000000L};

			if (now + 100 >= end)
				break;
			nanosleep(&ts, NULL);
		}
	}
	pthread_mutex_lock(&cdr_lock);
	left = cdr_count;
	pthread_mutex_unlock(&cdr_lock);
	if (left) {
		atomic_fetch_add_explicit(&cdr_dropped, left, memory_order_relaxed);
		log_warn(
			"event=cdr_lost records=%u detail=\"not written within %d ms of the stop\"",
			left, CDR_STOP_MS);
		cdr_release(left);
	}
}

static void *cdr_main(void *arg)
{
	uint64_t next = clock_now_ms() + cdr_interval_ms;
	unsigned backoff = 0, n;
	bool stop;
	int rc;

	(void)arg;
	for (;;) {
		pthread_mutex_lock(&cdr_lock);
		stop = cdr_wait(next, true);
		n = cdr_count < CDR_BATCH ? cdr_count : CDR_BATCH;
		pthread_mutex_unlock(&cdr_lock);
		if (stop)
			break;
		rc = n ? cdr_flush(n) : 0;
		cdr_log_drops();
		if (rc == 0) {
			backoff = 0;
			pthread_mutex_lock(&cdr_lock);
			/* Behind: go on at once; else the next interval. */
			next = clock_now_ms() + (cdr_count >= CDR_BATCH ? 0 : cdr_interval_ms);
			pthread_mutex_unlock(&cdr_lock);
			continue;
		}
		/* The database is away (logged by the store once): keep the
		 * records, try again later. */
		backoff = backoff ? backoff * 2 : CDR_BACKOFF_MIN_MS;
		if (backoff > CDR_BACKOFF_MAX_MS)
			backoff = CDR_BACKOFF_MAX_MS;
		pthread_mutex_lock(&cdr_lock);
		stop = cdr_wait(clock_now_ms() + backoff, false);
		pthread_mutex_unlock(&cdr_lock);
		if (stop)
			break;
		next = clock_now_ms();
	}
	cdr_drain();
	cdr_log_drops();
	return NULL;
}

int cdr_start(const struct config *cfg)
{
	pthread_condattr_t ca;
	int rc;

	if (!cfg->cdr.enabled)
		return 0;
	if (!cfg->database.conninfo[0])
		return -EINVAL; /* config_load() refuses this */
	cdr_cap = cfg->cdr.queue_size;
	cdr_interval_ms = cfg->cdr.flush_interval;
	cdr_ring = calloc(cdr_cap, sizeof(*cdr_ring));
	cdr_rows = calloc(CDR_BATCH, sizeof(*cdr_rows));
	cdr_db = store_cdr_new(cfg->database.conninfo, cfg->node.name);
	if (!cdr_ring || !cdr_rows || !cdr_db) {
		rc = -ENOMEM;
		goto out;
	}
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&cdr_cond, &ca);
	pthread_condattr_destroy(&ca);
	cdr_tail = cdr_count = 0;
	cdr_stopping = false;
	atomic_store(&cdr_running, true);
	rc = -pthread_create(&cdr_thread, NULL, cdr_main, NULL);
	if (rc < 0) {
		atomic_store(&cdr_running, false);
		pthread_cond_destroy(&cdr_cond);
		goto out;
	}
	log_info("event=cdr_started flush_interval_ms=%u queue_size=%u", cdr_interval_ms, cdr_cap);
	return 0;
out:
	free(cdr_ring);
	free(cdr_rows);
	store_cdr_free(cdr_db);
	cdr_ring = NULL;
	cdr_rows = NULL;
	cdr_db = NULL;
	return rc;
}

void cdr_stop(void)
{
	struct timespec ts;
	struct cdr_stats st;
	bool joined;

	if (!cdr_on())
		return;
	atomic_store(&cdr_running, false);
	pthread_mutex_lock(&cdr_lock);
	cdr_stopping = true;
	pthread_mutex_unlock(&cdr_lock);
	pthread_cond_broadcast(&cdr_cond);
	/* The drain gives up after CDR_STOP_MS; a statement it is waiting
	 * on may take longer: cancel it, and give it a moment. */
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += CDR_STOP_MS / 1000 + 1;
	joined = pthread_timedjoin_np(cdr_thread, NULL, &ts) == 0;
	if (!joined) {
		store_cdr_cancel(cdr_db);
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += 2;
		joined = pthread_timedjoin_np(cdr_thread, NULL, &ts) == 0;
	}
	cdr_get_stats(&st);
	log_info("event=cdr_stopped written=%llu dropped=%llu", (unsigned long long)st.written,
		 (unsigned long long)st.dropped);
	if (!joined) {
		/* Stuck in the database: leave it and what it uses. */
		log_error(
			"event=cdr_writer_stuck detail=\"the writer did not stop; exiting without "
			"it\"");
		pthread_detach(cdr_thread);
		return;
	}
	pthread_mutex_lock(&cdr_lock);
	free(cdr_ring);
	cdr_ring = NULL;
	cdr_cap = cdr_count = cdr_tail = 0;
	pthread_mutex_unlock(&cdr_lock);
	pthread_cond_destroy(&cdr_cond);
	free(cdr_rows);
	cdr_rows = NULL;
	store_cdr_free(cdr_db);
	cdr_db = NULL;
}
