/*
 * httpauth: see httpauth.h.
 *
 * Threads: the workers call httpauth_ask() and the table and cache
 * functions; the pool threads take requests from the queue, post them,
 * store the answer in the table and hand the request back; main starts
 * and stops the pool. Locks, each held for a few instructions and never
 * across a call out: the queue's (pool.lock, with a condition variable
 * the pool threads sleep on), the table's, each mailbox's, and the
 * cache's stripes (ttlcache). Nothing here blocks a worker: the only
 * waiting is in curl_easy_perform(), on a pool thread, bounded by
 * CURLOPT_TIMEOUT_MS.
 *
 * Why a pool of blocking easy handles rather than one curl multi handle:
 * each thread's handle keeps its own connection alive, so the number of
 * connections the service sees is exactly [auth] http_connections, and a
 * slow answer holds one thread, not a loop everyone shares. The pool is
 * small (1 to 64) and the service is expected to answer in milliseconds.
 */
#include "registrar/httpauth.h"

#include "base/clock.h"
#include "base/log.h"
#include "base/siphash.h"
#include "base/strbuf.h"
#include "base/ttlcache.h"
#include "config/config.h"
#include "registrar/nonce.h"
#include "runtime/queue.h"
#include "runtime/timer.h"
#include "runtime/worker.h"

#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Failures logged per pool thread per second (a dead service fails every
 * request: one line each would flood the log). */
#define HTTPAUTH_FAIL_LOGS 5
/* How long httpauth_stop() waits for the workers to take the answers
 * left in their mailboxes. */
#define HTTPAUTH_STOP_WAIT_MS 2000

/* ---- the request's JSON ------------------------------------------------ */

/*
 * v as a JSON string (RFC 8259 §7): '"' and '\' escaped, control
 * characters as \u00XX, the rest as it is once checked to be UTF-8. With
 * unquote, the quoted-pairs of a SIP quoted-string (RFC 3261 §25.1) are
 * undone first, so the service sees the value the client hashed. Returns
 * false for text that is not UTF-8.
 */
static bool put_str(struct strbuf *b, struct sip_str v, bool unquote)
{
	const unsigned char *p = (const unsigned char *)v.p, *end = p + v.len;

	strbuf_put(b, "\"", 1);
	while (p < end) {
		unsigned char ch = *p;

		if (unquote && ch == '\\' && p + 1 < end)
			ch = *++p;
		if (ch >= 0x80) {
			size_t k = sip_utf8_seq_len(p, (size_t)(end - p));

			if (!k)
				return false;
			strbuf_put(b, p, k);
			p += k;
			continue;
		}
		if (ch == '"' || ch == '\\') {
			char e[2] = {'\\', (char)ch};
			strbuf_put(b, e, 2);
		} else if (ch < 0x20) {
			char e[7];
			snprintf(e, sizeof(e), "\\u%04x", ch);
			strbuf_put(b, e, 6);
		} else {
			strbuf_put(b, &ch, 1);
		}
		p++;
	}
	strbuf_put(b, "\"", 1);
	return true;
}

static bool member(struct strbuf *b, const char *name, struct sip_str v, bool unquote)
{
	if (b->len > 1)
		strbuf_put(b, ",", 1);
	strbuf_put(b, "\"", 1);
	strbuf_puts(b, name);
	strbuf_put(b, "\":", 2);
	return put_str(b, v, unquote);
}

ssize_t httpauth_json_request(const struct httpauth_request *r, char *buf, size_t cap)
{
	struct strbuf b = strbuf_make(buf, cap);
	bool ok;

	strbuf_put(&b, "{", 1);
	/* The credentials' values are quoted-strings or tokens (RFC 7616
	 * §3.4): unquoting a token changes nothing. */
	ok = member(&b, "username", r->username, true) && member(&b, "realm", r->realm, true) &&
	     member(&b, "nonce", r->nonce, true) && member(&b, "uri", r->uri, true) &&
	     member(&b, "response", r->response, true) &&
	     member(&b, "algorithm", r->algorithm, true) && member(&b, "qop", r->qop, true) &&
	     member(&b, "nc", r->nc, true) && member(&b, "cnonce", r->cnonce, true) &&
	     (!r->opaque.len || member(&b, "opaque", r->opaque, true)) &&
	     member(&b, "method", r->method, false) &&
	     member(&b, "request_uri", r->request_uri, false) && member(&b, "aor", r->aor, false);
	if (!ok)
		return -EILSEQ;
	strbuf_puts(&b, ",\"contact\":[");
	for (unsigned i = 0; i < r->ncontact; i++) {
		if (i)
			strbuf_put(&b, ",", 1);
		if (!put_str(&b, r->contact[i], false))
			return -EILSEQ;
	}
	strbuf_put(&b, "]", 1);
	if (!member(&b, "source", r->source, false))
		return -EILSEQ;
	strbuf_put(&b, "}", 1);
	return b.overflow ? -ENOSPC : (ssize_t)b.len;
}

int httpauth_json_answer(const char *body, size_t len, enum digest_alg alg,
			 char out[DIGEST_HEX_MAX + 1])
{
	size_t want = digest_hex_len(alg), n;
	const char *s;
	json_t *root, *v;
	int rc = -ENOENT;

	out[0] = '\0';
	if (!len)
		return -ENOENT;
	root = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);
	if (!root)
		return -ENOENT;
	v = json_is_object(root) ? json_object_get(root, "ha1") : NULL;
	if (!v || json_is_null(v))
		goto out;
	rc = -EINVAL;
	if (!json_is_string(v))
		goto out;
	s = json_string_value(v);
	n = json_string_length(v);
	if (n != want)
		goto out;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];

		if (ch >= 'A' && ch <= 'F')
			ch = (char)(ch - 'A' + 'a');
		if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f')))
			goto out;
		out[i] = ch;
	}
	out[n] = '\0';
	rc = 0;
out:
	if (rc)
		out[0] = '\0';
	json_decref(root);
	return rc;
}

/* ---- keys ----------------------------------------------------------------- */

/* parts[0..n) length-prefixed into out (two bytes each, big-endian), so
 * that ("ab", "c") and ("a", "bc") differ. Returns the length, or 0 when
 * they do not fit. */
static size_t keyed(char *out, size_t cap, const struct sip_str *parts, unsigned n)
{
	size_t k = 0;

	for (unsigned i = 0; i < n; i++) {
		if (parts[i].len > 0xffff || parts[i].len + 2 > cap - k)
			return 0;
		out[k++] = (char)(parts[i].len >> 8);
		out[k++] = (char)(parts[i].len & 0xff);
		if (parts[i].len)
			memcpy(out + k, parts[i].p, parts[i].len);
		k += parts[i].len;
	}
	return k;
}

int httpauth_key_make(struct httpauth_key *k, struct sip_str username, struct sip_str realm,
		      struct sip_str nonce, struct sip_str nc, struct sip_str cnonce,
		      struct sip_str response)
{
	const struct sip_str parts[] = {username, realm, nonce, nc, cnonce, response};

	k->len = keyed(k->text, sizeof(k->text), parts, 6);
	return k->len ? 0 : -ENAMETOOLONG;
}

/* ---- the verdict table ------------------------------------------------- */

struct ventry {
	struct ventry *next;
	uint64_t hash;
	const void *owner;
	uint64_t expires_ms;
	bool answered;
	struct httpauth_answer answer;
	size_t klen;
	char key[];
};

static struct {
	pthread_mutex_t lock;
	struct ventry **buckets;
	unsigned mask, count, max;
} table = {.lock = PTHREAD_MUTEX_INITIALIZER};

int httpauth_table_init(unsigned max_entries)
{
	unsigned n = 64;

	while (n < max_entries)
		n <<= 1;
	table.buckets = calloc(n, sizeof(*table.buckets));
	if (!table.buckets)
		return -ENOMEM;
	table.mask = n - 1;
	table.count = 0;
	table.max = max_entries;
	return 0;
}

void httpauth_table_free(void)
{
	if (!table.buckets)
		return;
	for (unsigned i = 0; i <= table.mask; i++) {
		struct ventry *e = table.buckets[i];

		while (e) {
			struct ventry *next = e->next;
			free(e);
			e = next;
		}
	}
	free(table.buckets);
	table.buckets = NULL;
	table.count = 0;
}

static uint64_t key_hash(const struct httpauth_key *k)
{
	return siphash(siphash_process_key(), k->text, k->len);
}

/* Under the lock: the link that points at k's entry (*result NULL: none). */
static struct ventry **find(const struct httpauth_key *k, uint64_t h)
{
	struct ventry **pp = &table.buckets[h & table.mask];

	for (; *pp; pp = &(*pp)->next)
		if ((*pp)->hash == h && (*pp)->klen == k->len &&
		    !memcmp((*pp)->key, k->text, k->len))
			break;
	return pp;
}

static void unlink_entry(struct ventry **pp)
{
	struct ventry *e = *pp;

	*pp = e->next;
	free(e);
	table.count--;
}

/* Under the lock, with the table full: drops the entries nobody took in
 * time (their request was lost on the way back, which should not
 * happen; the walk is as rare). */
static void sweep(uint64_t now_ms)
{
	for (unsigned i = 0; i <= table.mask; i++) {
		struct ventry **pp = &table.buckets[i];

		while (*pp) {
			if ((*pp)->expires_ms <= now_ms)
				unlink_entry(pp);
			else
				pp = &(*pp)->next;
		}
	}
}

int httpauth_table_add(const struct httpauth_key *k, const void *owner, uint64_t now_ms,
		       uint64_t expires_ms)
{
	uint64_t h = key_hash(k);
	struct ventry **pp, *e;
	int rc = 0;

	pthread_mutex_lock(&table.lock);
	if (!table.buckets) {
		rc = -ENOSPC;
		goto out;
	}
	pp = find(k, h);
	if (*pp) {
		if ((*pp)->expires_ms > now_ms) {
			rc = -EEXIST;
			goto out;
		}
		unlink_entry(pp);
	}
	if (table.count >= table.max)
		sweep(now_ms);
	if (table.count >= table.max) {
		rc = -ENOSPC;
		goto out;
	}
	e = calloc(1, sizeof(*e) + k->len);
	if (!e) {
		rc = -ENOMEM;
		goto out;
	}
	e->hash = h;
	e->owner = owner;
	e->expires_ms = expires_ms;
	e->klen = k->len;
	memcpy(e->key, k->text, k->len);
	pp = &table.buckets[h & table.mask];
	e->next = *pp;
	*pp = e;
	table.count++;
out:
	pthread_mutex_unlock(&table.lock);
	return rc;
}

int httpauth_table_answer(const struct httpauth_key *k, const struct httpauth_answer *a)
{
	uint64_t h = key_hash(k);
	struct ventry **pp;
	int rc = -ENOENT;

	pthread_mutex_lock(&table.lock);
	if (table.buckets && *(pp = find(k, h))) {
		(*pp)->answer = *a;
		(*pp)->answered = true;
		rc = 0;
	}
	pthread_mutex_unlock(&table.lock);
	return rc;
}

enum httpauth_found httpauth_table_take(const struct httpauth_key *k, const void *owner,
					uint64_t now_ms, struct httpauth_answer *out)
{
	uint64_t h = key_hash(k);
	enum httpauth_found found = HTTPAUTH_NONE;
	struct ventry **pp;

	pthread_mutex_lock(&table.lock);
	if (!table.buckets || !*(pp = find(k, h)))
		goto out;
	if ((*pp)->owner == owner && (*pp)->answered) {
		*out = (*pp)->answer;
		unlink_entry(pp);
		found = HTTPAUTH_ANSWERED;
	} else if ((*pp)->expires_ms <= now_ms) {
		unlink_entry(pp);
	} else {
		found = HTTPAUTH_BUSY;
	}
out:
	pthread_mutex_unlock(&table.lock);
	return found;
}

void httpauth_table_drop(const struct httpauth_key *k)
{
	uint64_t h = key_hash(k);
	struct ventry **pp;

	pthread_mutex_lock(&table.lock);
	if (table.buckets && *(pp = find(k, h)))
		unlink_entry(pp);
	pthread_mutex_unlock(&table.lock);
}

/* ---- the positive cache ------------------------------------------------ */

struct cval {
	uint64_t expires_s;
	uint8_t alg;
	uint8_t has_ha1;
	char ha1[DIGEST_HEX_MAX + 1];
};

static struct ttlcache *cache;

int httpauth_cache_init(unsigned max_entries, unsigned lifetime_s)
{
	/* The ttlcache's own clock is the monotonic one; its TTL only bounds
	 * what a wall clock step could keep. Each entry's end is its nonce's
	 * (expires_s), checked on every get. */
	cache = ttlcache_new(max_entries, ((uint64_t)lifetime_s + NONCE_SKEW_S) * 1000);
	return cache ? 0 : -ENOMEM;
}

void httpauth_cache_free(void)
{
	ttlcache_free(cache);
	cache = NULL;
}

static size_t cache_key(char *out, size_t cap, struct sip_str username, struct sip_str realm,
			struct sip_str nonce)
{
	const struct sip_str parts[] = {username, realm, nonce};

	return keyed(out, cap, parts, 3);
}

void httpauth_cache_put(struct sip_str username, struct sip_str realm, struct sip_str nonce,
			uint64_t expires_s, enum digest_alg alg, const char *ha1)
{
	char key[HTTPAUTH_KEY_MAX];
	size_t klen = cache_key(key, sizeof(key), username, realm, nonce);
	struct cval v = {.expires_s = expires_s, .alg = (uint8_t)alg, .has_ha1 = ha1 != NULL};

	if (!cache || !klen)
		return;
	if (ha1)
		snprintf(v.ha1, sizeof(v.ha1), "%s", ha1);
	ttlcache_put(cache, key, klen, &v, sizeof(v), clock_now_ms());
}

int httpauth_cache_get(struct sip_str username, struct sip_str realm, struct sip_str nonce,
		       uint64_t now_s, struct httpauth_cached *out)
{
	char key[HTTPAUTH_KEY_MAX];
	size_t klen = cache_key(key, sizeof(key), username, realm, nonce);
	struct cval v;

	if (!cache || !klen ||
	    ttlcache_get(cache, key, klen, clock_now_ms(), &v, sizeof(v)) != (ssize_t)sizeof(v) ||
	    now_s >= v.expires_s)
		return -ENOENT;
	out->alg = (enum digest_alg)v.alg;
	out->has_ha1 = v.has_ha1;
	memcpy(out->ha1, v.ha1, sizeof(out->ha1));
	return 0;
}

/* ---- the pool -------------------------------------------------------------- */

/* One request for the service, from httpauth_ask() until it is back with
 * its worker. */
struct ask {
	struct ask *next;
	struct httpauth_key key;
	enum digest_alg alg;
	unsigned worker;       /* index of the worker that asked */
	struct sip_job *job;   /* requeued when done is NULL */
	httpauth_done_fn done; /* else run on the worker from its mailbox */
	void *arg;
	uint64_t queued_ms;
	size_t len;
	char body[];
};

/* A worker's answers with a continuation, taken by its own timer. */
struct mailbox {
	pthread_mutex_t lock;
	struct ask *head, *tail;  /* answered, waiting for the worker */
	_Atomic unsigned waiting; /* asks with a continuation not yet run */
	struct worker *w;         /* set on the worker's thread */
	struct timer timer;       /* on the worker's heap; only its thread touches it */
} __attribute__((aligned(64)));

/* A pool thread and its connection. */
struct conn {
	pthread_t thread;
	bool started;
	CURL *h;
	size_t body_len;
	bool body_over; /* longer than body: not kept */
	char body[HTTPAUTH_BODY_MAX];
	char err[CURL_ERROR_SIZE];
	struct log_rate fail_log;
};

static struct {
	const struct config *cfg;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct ask *head, *tail; /* the queue */
	unsigned count;
	_Atomic bool running; /* read by the workers without the lock */
	bool stopping;
	struct conn *conns;
	unsigned nconns;
	struct mailbox *boxes;
	unsigned nboxes;
	struct curl_slist *hdrs;
	bool curl_ready;
} pool = {.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
	struct conn *c = arg;
	size_t len = size * n;

	/* Beyond the cap the body is not kept (its ha1 is then not read),
	 * but it is consumed: the status decides, and the connection stays
	 * usable. */
	if (!c->body_over && len <= sizeof(c->body) - c->body_len) {
		memcpy(c->body + c->body_len, p, len);
		c->body_len += len;
	} else {
		c->body_over = true;
	}
	return len;
}

static void fail_log(struct conn *c, unsigned status, const char *what)
{
	unsigned unlogged;

	if (!log_rate_ok(&c->fail_log, clock_now_ms(), HTTPAUTH_FAIL_LOGS, &unlogged))
		return;
	if (unlogged)
		log_warn("event=auth_http_failed_unlogged count=%u", unlogged);
	log_warn("event=auth_http_failed status=%u error=\"%s\"", status, what);
}

/* Posts a's body to the service and reads the verdict (httpauth.h). */
static void ask_service(struct conn *c, const struct ask *a, struct httpauth_answer *ans)
{
	long code = 0;
	CURLcode rc;

	c->body_len = 0;
	c->body_over = false;
	c->err[0] = '\0';
	curl_easy_setopt(c->h, CURLOPT_POSTFIELDS, (const char *)a->body);
	curl_easy_setopt(c->h, CURLOPT_POSTFIELDSIZE, (long)a->len);
	rc = curl_easy_perform(c->h);
	if (rc == CURLE_OK)
		curl_easy_getinfo(c->h, CURLINFO_RESPONSE_CODE, &code);
	ans->status = code > 0 && code < 1000 ? (unsigned)code : 0;
	if (rc != CURLE_OK) {
		ans->verdict = HTTPAUTH_FAIL;
		fail_log(c, 0, c->err[0] ? c->err : curl_easy_strerror(rc));
	} else if (code == 200) {
		ans->verdict = HTTPAUTH_ACCEPT;
		if (!c->body_over &&
		    httpauth_json_answer(c->body, c->body_len, a->alg, ans->ha1) == -EINVAL)
			fail_log(c, 200,
				 "ha1 is not a digest of the credentials' algorithm: ignored");
	} else if (code == 403) {
		ans->verdict = HTTPAUTH_REJECT;
	} else {
		ans->verdict = HTTPAUTH_FAIL;
		fail_log(c, ans->status, "unexpected status");
	}
}

/* The answer is in the table: the request goes back to its worker. */
static void deliver(struct ask *a)
{
	if (a->done) {
		struct mailbox *mb = &pool.boxes[a->worker];

		a->next = NULL;
		pthread_mutex_lock(&mb->lock);
		if (mb->tail)
			mb->tail->next = a;
		else
			mb->head = a;
		mb->tail = a;
		pthread_mutex_unlock(&mb->lock);
		return;
	}
	/* Forced: the job was admitted once; refusing it now would leave it
	 * unanswered. -EPIPE: the worker is stopping; nobody will answer. */
	if (queue_push(workers_queues()[a->worker], a->job, true) < 0) {
		httpauth_table_drop(&a->key);
		job_free(a->job);
	}
	free(a);
}

static void *conn_main(void *arg)
{
	struct conn *c = arg;

	for (;;) {
		struct httpauth_answer ans = {.verdict = HTTPAUTH_FAIL};
		struct ask *a;
		bool stopping;

		pthread_mutex_lock(&pool.lock);
		while (!pool.head && !pool.stopping)
			pthread_cond_wait(&pool.cond, &pool.lock);
		a = pool.head;
		if (a) {
			pool.head = a->next;
			if (!pool.head)
				pool.tail = NULL;
			pool.count--;
		}
		stopping = pool.stopping;
		pthread_mutex_unlock(&pool.lock);
		if (!a)
			break;
		if (stopping)
			fail_log(c, 0, "stopping: not sent");
		else if (clock_now_ms() - a->queued_ms > pool.cfg->auth.http_timeout)
			fail_log(c, 0, "queued longer than http_timeout: not sent");
		else
			ask_service(c, a, &ans);
		/* Before the hand-back: the request that runs again must find it. */
		(void)httpauth_table_answer(&a->key, &ans);
		deliver(a);
	}
	return NULL;
}

/* The worker's timer: runs the continuations whose answers are in, and
 * looks again in HTTPAUTH_POLL_MS while some are still out. */
static void poll_box(struct timer *t, void *arg, uint64_t now_ms)
{
	struct mailbox *mb = arg;
	struct ask *a;

	pthread_mutex_lock(&mb->lock);
	a = mb->head;
	mb->head = mb->tail = NULL;
	pthread_mutex_unlock(&mb->lock);
	while (a) {
		struct ask *next = a->next;
		httpauth_done_fn done = a->done;
		void *darg = a->arg;

		free(a);
		atomic_fetch_sub(&mb->waiting, 1);
		done(mb->w, darg, 0);
		a = next;
	}
	if (atomic_load(&mb->waiting))
		(void)timer_start(worker_timers(mb->w), t, now_ms + HTTPAUTH_POLL_MS, poll_box, mb);
}

int httpauth_ask(struct worker *w, const struct httpauth_key *k, const void *owner,
		 enum digest_alg alg, const char *body, size_t len, struct sip_job *job,
		 httpauth_done_fn done, void *arg)
{
	unsigned idx = worker_index(w);
	uint64_t now = clock_now_ms();
	struct mailbox *mb = NULL;
	struct ask *a;
	int rc = 0;

	if (!pool.running || idx >= pool.nboxes)
		return -EPIPE;
	a = malloc(sizeof(*a) + len);
	if (!a)
		return -ENOMEM;
	a->next = NULL;
	a->key = *k;
	a->alg = alg;
	a->worker = idx;
	a->job = done ? NULL : job;
	a->done = done;
	a->arg = arg;
	a->queued_ms = now;
	a->len = len;
	memcpy(a->body, body, len);
	/* Long enough for a wait in the queue and the request itself, each
	 * at most http_timeout, and the way back to the worker. */
	rc = httpauth_table_add(k, owner, now, now + 2ULL * pool.cfg->auth.http_timeout + 10000);
	if (rc < 0) {
		free(a);
		return rc == -ENOSPC ? -EBUSY : rc;
	}
	if (done) {
		mb = &pool.boxes[idx];
		mb->w = w;
		if (!timer_running(&mb->timer) &&
		    timer_start(worker_timers(w), &mb->timer, now + HTTPAUTH_POLL_MS, poll_box,
				mb) < 0) {
			httpauth_table_drop(k);
			free(a);
			return -ENOMEM;
		}
		atomic_fetch_add(&mb->waiting, 1);
	} else {
		job->replays++; /* not counted again on the way in (core.c) */
	}
	pthread_mutex_lock(&pool.lock);
	if (pool.stopping) {
		rc = -EPIPE;
	} else if (pool.count >= HTTPAUTH_QUEUE_MAX) {
		rc = -EBUSY;
	} else {
		if (pool.tail)
			pool.tail->next = a;
		else
			pool.head = a;
		pool.tail = a;
		pool.count++;
		pthread_cond_signal(&pool.cond);
	}
	pthread_mutex_unlock(&pool.lock);
	if (rc < 0) {
		httpauth_table_drop(k);
		if (mb)
			atomic_fetch_sub(&mb->waiting, 1);
		else
			job->replays--;
		free(a);
	}
	return rc;
}

/* ---- start and stop --------------------------------------------------------- */

static int conn_init(struct conn *c, const struct config *cfg)
{
	c->h = curl_easy_init();
	if (!c->h)
		return -ENOMEM;
	/* No signals (threads), no protocol but HTTP(S), no redirects (the
	 * default): the answer comes from the URL configured or not at all. */
	if (curl_easy_setopt(c->h, CURLOPT_URL, cfg->auth.http_url) != CURLE_OK ||
	    curl_easy_setopt(c->h, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK)
		return -EINVAL;
	curl_easy_setopt(c->h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c->h, CURLOPT_TIMEOUT_MS, (long)cfg->auth.http_timeout);
	curl_easy_setopt(c->h, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(c->h, CURLOPT_HTTPHEADER, pool.hdrs);
	curl_easy_setopt(c->h, CURLOPT_USERAGENT, "junction");
	curl_easy_setopt(c->h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c->h, CURLOPT_WRITEDATA, c);
	curl_easy_setopt(c->h, CURLOPT_ERRORBUFFER, c->err);
	return 0;
}

/* url for the log: a password in it (user:password@, sent as HTTP Basic
 * authentication) shown as "***". */
static void redacted(const char *url, char *out, size_t cap)
{
	const char *host = strstr(url, "://"), *at, *end;

	host = host ? host + 3 : url;
	end = host + strcspn(host, "/?#");
	at = memchr(host, '@', (size_t)(end - host));
	if (at)
		snprintf(out, cap, "%.*s***%s", (int)(host - url), url, at);
	else
		snprintf(out, cap, "%s", url);
}

int httpauth_start(const struct config *cfg)
{
	char url[CFG_URL_MAX + 8];
	int rc;

	pool.cfg = cfg;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return -EIO;
	pool.curl_ready = true;
	rc = httpauth_table_init(HTTPAUTH_TABLE_MAX);
	if (rc == 0)
		rc = httpauth_cache_init(HTTPAUTH_CACHE_MAX, cfg->auth.nonce_lifetime);
	if (rc < 0)
		goto fail;
	rc = -ENOMEM;
	pool.nboxes = cfg->sip.workers;
	pool.boxes = aligned_alloc(64, sizeof(*pool.boxes) * pool.nboxes);
	pool.conns = calloc(cfg->auth.http_connections, sizeof(*pool.conns));
	/* "Expect:" keeps libcurl from waiting for a 100 Continue. */
	pool.hdrs = curl_slist_append(NULL, "Content-Type: application/json");
	if (pool.hdrs)
		pool.hdrs = curl_slist_append(pool.hdrs, "Accept: application/json");
	if (pool.hdrs)
		pool.hdrs = curl_slist_append(pool.hdrs, "Expect:");
	if (!pool.boxes || !pool.conns || !pool.hdrs)
		goto fail;
	memset(pool.boxes, 0, sizeof(*pool.boxes) * pool.nboxes);
	for (unsigned i = 0; i < pool.nboxes; i++)
		pthread_mutex_init(&pool.boxes[i].lock, NULL);
	for (unsigned i = 0; i < cfg->auth.http_connections; i++) {
		pool.nconns++;
		rc = conn_init(&pool.conns[i], cfg);
		if (rc < 0)
			goto fail;
	}
	pool.running = true;
	for (unsigned i = 0; i < pool.nconns; i++) {
		rc = -pthread_create(&pool.conns[i].thread, NULL, conn_main, &pool.conns[i]);
		if (rc < 0)
			goto fail;
		pool.conns[i].started = true;
	}
	redacted(cfg->auth.http_url, url, sizeof(url));
	log_info("event=auth_http_started url=\"%s\" connections=%u timeout_ms=%u", url,
		 pool.nconns, cfg->auth.http_timeout);
	return 0;
fail:
	httpauth_stop();
	httpauth_destroy();
	return rc;
}

void httpauth_stop(void)
{
	bool waiting = true;

	pthread_mutex_lock(&pool.lock);
	pool.stopping = true;
	pthread_cond_broadcast(&pool.cond);
	pthread_mutex_unlock(&pool.lock);
	for (unsigned i = 0; i < pool.nconns; i++) {
		if (pool.conns[i].started)
			pthread_join(pool.conns[i].thread, NULL);
		pool.conns[i].started = false;
	}
	pool.running = false;
	/* Every answer is delivered; the continuations run from the workers'
	 * timers within HTTPAUTH_POLL_MS. */
	for (unsigned t = 0; waiting && t < HTTPAUTH_STOP_WAIT_MS; t += 10) {
		waiting = false;
		for (unsigned i = 0; i < pool.nboxes; i++)
			waiting |= atomic_load(&pool.boxes[i].waiting) != 0;
		if (waiting)
			usleep(10000);
	}
}

void httpauth_destroy(void)
{
	for (unsigned i = 0; pool.boxes && i < pool.nboxes; i++) {
		struct ask *a = pool.boxes[i].head;

		/* Answers no worker took: their workers are gone, and with them
		 * the transactions that held the jobs. */
		while (a) {
			struct ask *next = a->next;
			free(a->arg);
			free(a);
			a = next;
		}
		pthread_mutex_destroy(&pool.boxes[i].lock);
	}
	free(pool.boxes);
	pool.boxes = NULL;
	pool.nboxes = 0;
	for (unsigned i = 0; pool.conns && i < pool.nconns; i++)
		if (pool.conns[i].h)
			curl_easy_cleanup(pool.conns[i].h);
	free(pool.conns);
	pool.conns = NULL;
	pool.nconns = 0;
	curl_slist_free_all(pool.hdrs);
	pool.hdrs = NULL;
	if (pool.curl_ready)
		curl_global_cleanup();
	pool.curl_ready = false;
	httpauth_table_free();
	httpauth_cache_free();
}
