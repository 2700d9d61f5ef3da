/*
 * worker: see worker.h. The loop is: take the whole queue, run each job
 * to completion, free it; sleep on the queue when it is empty. A worker
 * stops when its queue is closed and drained, so SIGTERM loses nothing
 * that was already queued.
 */
#include "runtime/worker.h"

#include "base/clock.h"
#include "base/log.h"
#include "base/siphash.h"
#include "config/config.h"
#include "net/dns.h"
#include "net/transport.h"
#include "net/udp.h"
#include "runtime/counters.h"
#include "runtime/dispatch.h"
#include "runtime/timer.h"
#include "sip/msg_edit.h"
#include "store/store.h"

#include <pthread.h>

#include <errno.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

/* Room for the edits on top of the largest message. */
#define WORKER_OUT_SLACK (MSG_EDIT_TEXT_MAX + 1024)

/* epoll data of what a worker sleeps on */
enum { WAKE_QUEUE, WAKE_STORE, WAKE_UDP, WAKE_DNS };

static struct worker *workers;
static struct queue **queues;
static unsigned nworkers;
static atomic_bool read_udp;
/* One reader at a time: a batch is read and queued whole before the next
 * is read, so the messages of one sender reach their worker in the order
 * they came (an ACK before the BYE that follows it). */
static pthread_mutex_t udp_read_lock = PTHREAD_MUTEX_INITIALIZER;

struct worker_claim;

/* Rejections (4xx-6xx we make) logged per worker per second. */
#define WORKER_REJECT_LOGS 20

struct worker {
	unsigned index;
	const struct config *cfg;
	const struct worker_app *app;
	struct queue queue;
	struct counters ctr;
	struct sip_hdr *hdrs;  /* parse scratch: cfg limits.max_headers entries */
	struct sip_hdr *hdrs2; /* a second one, for a request parsed while a response is */
	uint16_t max_hdrs;
	char *out; /* the message being sent */
	size_t out_cap;
	/* Rejections logged: a flood of bad requests must not become a
	 * flood of log lines. */
	struct log_rate rej_log;
	struct msg_edits edits;
	struct store *store;   /* NULL without a [database] */
	struct txn_layer *txn; /* the app's (worker_set_txn()), never looked into */
	struct dns *dns;       /* its resolver (net/dns.h); NULL if it failed to start */
	int dns_fd[16];        /* the resolver's sockets as registered in epfd */
	unsigned dns_nfd, dns_serial;
	struct timer_heap timers;
	uint64_t branch_seq; /* makes our branch IDs unique */
	int epfd;            /* what the worker sleeps on */
	struct udp_reader *udp;
	struct udp_tx *tx;           /* what a round sends over UDP (udp.h) */
	pthread_mutex_t run;         /* held while this worker's state is in use */
	uint64_t sleep_until_ms;     /* when it wakes by itself (UINT64_MAX: never); under run */
	struct worker_claim *claims; /* per other worker: jobs this reader runs for it */
	bool udp_on;                 /* reads the UDP sockets (worker 0 sleeps on them too) */
	bool app_ready;              /* app->init succeeded: app->fini is due */
	/* the database sockets as registered in epfd, one per connection */
	int store_fd[STORE_MAX_CONNS];
	short store_events[STORE_MAX_CONNS];
	unsigned store_serial;
	pthread_t thread;
	bool started;
	/* Progress, for the watchdog (workers_stalled_ms()): rounds run and
	 * whether it sleeps waiting for work; written by the worker. */
	_Atomic uint64_t rounds;
	_Atomic bool asleep;
	uint64_t wd_rounds, wd_since_ms; /* the watchdog's last look; its thread only */
};

/* The jobs a reader took for another worker during one read (claim_job()),
 * run once the read lock is released (run_claims()). A list that is not
 * empty means the reader holds that worker's run mutex. */
struct worker_claim {
	struct sip_job *head, *tail;
};

static int count_send(struct worker *w, const struct sip_dest *d, size_t len, int rc)
{
	if (rc < 0) {
		char a[NETADDR_STRLEN];

		ctr_inc(&w->ctr, CTR_TX_ERRORS);
		netaddr_format(&d->addr, a, sizeof(a));
		log_debug("event=send_failed dst=%s:%s error=\"%s\"", sip_proto_name(d->proto), a,
			  strerror(-rc));
		return rc;
	}
	ctr_inc(&w->ctr, CTR_TX_MESSAGES);
	ctr_add(&w->ctr.v[CTR_TX_BYTES], len);
	return 0;
}

int worker_send(struct worker *w, const struct sip_dest *d, const char *buf, size_t len)
{
	return count_send(w, d, len, transport_send(d, buf, len));
}

int worker_send_later(struct worker *w, const struct sip_dest *d, const char *buf, size_t len)
{
	return count_send(w, d, len, transport_send_later(d, buf, len));
}

void worker_reply(struct worker *w, struct sip_msg *m, const struct sip_source *src,
		  unsigned status, const char *reason, const char *extra)
{
	struct sip_reply r = {.status = status, .reason = reason, .extra = extra};

	worker_reply_full(w, m, src, &r);
}

void worker_replied(struct worker *w, struct sip_msg *m, const struct sip_source *src,
		    unsigned status)
{
	if (status >= 200 && w->app->replied)
		w->app->replied(w, m, src, status);
}

void worker_reply_db_unavailable(struct worker *w, struct sip_msg *m, const struct sip_source *src)
{
	char extra[32];

	snprintf(extra, sizeof(extra), "Retry-After: %u\r\n", w->cfg->database.retry_after);
	worker_reply(w, m, src, 503, "Database Unavailable", extra);
}

int worker_reparse(struct worker *w, struct sip_job *job, struct sip_msg *m)
{
	return sip_msg_parse(m, job->data, job->len, w->hdrs, w->max_hdrs, &w->cfg->sip.limits);
}

void worker_reply_full(struct worker *w, struct sip_msg *m, const struct sip_source *src,
		       const struct sip_reply *r)
{
	unsigned status = r->status;
	const char *reason = r->reason;
	int rc;

	if (m->method_id == SIP_METHOD_ACK)
		return; /* an ACK is never answered (§17.2.1, §17.2.3) */
	rc = sip_reply_send(m, src, r, w->out, w->out_cap);
	if (rc < 0) {
		ctr_inc(&w->ctr, rc == -EBADMSG ? CTR_DROPPED : CTR_TX_ERRORS);
		return;
	}
	ctr_local_reply_sent(&w->ctr, status, (uint64_t)rc);
	worker_replied(w, m, src, status);
	if (status >= 400 && log_enabled(LOG_LVL_INFO)) {
		char a[NETADDR_STRLEN];
		unsigned unlogged;

		if (!log_rate_ok(&w->rej_log, clock_now_ms(), WORKER_REJECT_LOGS, &unlogged))
			return;
		if (unlogged)
			log_info("event=rejected_unlogged count=%u", unlogged);
		netaddr_format(&src->remote, a, sizeof(a));
		log_info("event=rejected status=%u reason=\"%s\" method=%.*s src=%s:%s", status,
			 reason ? reason : sip_reason_phrase(status), SIP_STR_FMT(m->method),
			 sip_proto_name(src->proto), a);
	}
}

/* Returns true when the core kept the job (it frees it later). */
static bool worker_process(struct worker *w, struct sip_job *job)
{
	struct sip_msg m;
	int rc;

	rc = sip_msg_parse(&m, job->data, job->len, w->hdrs, w->max_hdrs, &w->cfg->sip.limits);
	if (job->undelivered) {
		/* Our own request, handed back by the transport: never answered */
		if (rc == 0 && m.request && w->app->undelivered)
			w->app->undelivered(w, &m);
		return false;
	}
	if (rc == 0 && job->truncated) {
		/* The datagram was cut at the buffer: too large (§18.1.1). */
		rc = -EMSGSIZE;
		m.error = (struct sip_error){513, "Message Too Large"};
	}
	if (rc < 0) {
		char a[NETADDR_STRLEN];

		ctr_inc(&w->ctr, CTR_PARSE_ERRORS);
		netaddr_format(&job->src.remote, a, sizeof(a));
		log_info("event=parse_error src=%s:%s reason=\"%s\"",
			 sip_proto_name(job->src.proto), a,
			 m.error.reason ? m.error.reason : "unknown");
		/* Answer when the headers a response needs were indexed before
		 * the error; otherwise nobody can be addressed: drop. */
		if (m.request && m.error.status)
			worker_reply(w, &m, &job->src, m.error.status, m.error.reason, NULL);
		else
			ctr_inc(&w->ctr, CTR_DROPPED);
		return false;
	}
	if (m.request) {
		ctr_add(&w->ctr.rx_requests[m.method_id], 1);
		return w->app->request(w, job, &m);
	}
	ctr_add(&w->ctr.rx_responses[ctr_class(m.status)], 1);
	w->app->response(w, &m);
	return false;
}

void worker_resume(struct worker *w, struct sip_job *job)
{
	if (!worker_process(w, job))
		job_free(job);
}

/* Runs a list of jobs (taken) on w's state. */
static void run_list(struct worker *w, struct sip_job *job)
{
	while (job) {
		struct sip_job *next = job->next;

		worker_resume(w, job);
		job = next;
	}
}

/* Milliseconds until w must act by itself (a timer, the database), -1:
 * nothing planned. */
static int next_timeout_ms(const struct worker *w, uint64_t now_ms)
{
	int timeout = timer_next_ms(&w->timers, now_ms);

	if (w->store) {
		int st = store_timeout_ms(w->store, now_ms);

		if (st >= 0 && (timeout < 0 || st < timeout))
			timeout = st;
	}
	if (w->dns) {
		int dt = dns_timeout_ms(w->dns);

		if (dt >= 0 && (timeout < 0 || dt < timeout))
			timeout = dt;
	}
	return timeout;
}

/* Keeps the resolver's sockets registered in epfd (they come and go with
 * its queries, and may reuse a number another socket had). */
static void watch_dns(struct worker *w)
{
	int fds[16];
	unsigned n;

	if (!w->dns || dns_serial(w->dns) == w->dns_serial)
		return;
	n = dns_fds(w->dns, fds, 16);
	for (unsigned i = 0; i < w->dns_nfd; i++)
		(void)epoll_ctl(w->epfd, EPOLL_CTL_DEL, w->dns_fd[i], NULL);
	for (unsigned i = 0; i < n; i++) {
		struct epoll_event ev = {.events = EPOLLIN, .data.u32 = WAKE_DNS};

		if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, fds[i], &ev) < 0 && errno != EEXIST)
			log_warn("event=epoll_failed worker=%u error=\"%s\"", w->index,
				 strerror(errno));
		w->dns_fd[i] = fds[i];
	}
	w->dns_nfd = n;
	w->dns_serial = dns_serial(w->dns);
}

/* Are the database sockets registered in epfd as the store wants them? */
static bool store_watched(const struct worker *w)
{
	unsigned n = store_conns(w->store);
	bool same = store_sock_serial(w->store) == w->store_serial;

	for (unsigned i = 0; i < n && same; i++)
		same = store_fd(w->store, i) == w->store_fd[i] &&
		       (w->store_fd[i] < 0 || store_events(w->store, i) == w->store_events[i]);
	return same;
}

/* Keeps the database sockets' registrations in epfd current: a new
 * connection may reuse an old number, which a close dropped from epfd. */
static void watch_store(struct worker *w)
{
	unsigned serial = store_sock_serial(w->store), n = store_conns(w->store);

	if (store_watched(w))
		return;
	/* First what no connection uses any more (its number may have gone
	 * to another connection of ours: that one is registered below). */
	for (unsigned i = 0; i < n; i++) {
		bool used = false;

		for (unsigned k = 0; k < n && w->store_fd[i] >= 0; k++)
			used |= store_fd(w->store, k) == w->store_fd[i];
		if (w->store_fd[i] >= 0 && !used)
			(void)epoll_ctl(w->epfd, EPOLL_CTL_DEL, w->store_fd[i], NULL);
	}
	for (unsigned i = 0; i < n; i++) {
		int fd = store_fd(w->store, i);
		short events = fd >= 0 ? store_events(w->store, i) : 0;
		struct epoll_event ev = {.events = (events & POLLIN ? EPOLLIN : 0u) |
						   (events & POLLOUT ? EPOLLOUT : 0u),
					 .data.u32 = WAKE_STORE};

		if (fd >= 0 && epoll_ctl(w->epfd, EPOLL_CTL_MOD, fd, &ev) < 0 && errno == ENOENT &&
		    epoll_ctl(w->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
			log_warn("event=epoll_failed worker=%u error=\"%s\"", w->index,
				 strerror(errno));
		w->store_fd[i] = fd;
		w->store_events[i] = events;
	}
	w->store_serial = serial;
}

/*
 * The claim of dispatch.c, called under udp_read_lock: a job for another
 * worker that sleeps (its run mutex is free) is kept to run here. The
 * first claim of a read takes that worker's mutex and its queue, so the
 * jobs queued before this read run first and a call's messages keep their
 * order; jobs read later by another reader queue behind.
 */
static bool claim_job(void *arg, unsigned shard, struct sip_job *job)
{
	struct worker *w = arg, *s = &workers[shard];
	struct worker_claim *c = &w->claims[shard];

	if (s == w)
		return false; /* its own: queued and run this round */
	if (!c->head) {
		bool closed;

		if (pthread_mutex_trylock(&s->run) != 0)
			return false; /* awake: queueing costs it nothing */
		if (queue_closed(&s->queue)) {
			pthread_mutex_unlock(&s->run);
			return false;
		}
		c->head = c->tail = queue_take(&s->queue, &closed);
		while (c->tail && c->tail->next)
			c->tail = c->tail->next;
	}
	job->next = NULL;
	if (c->tail)
		c->tail->next = job;
	else
		c->head = job;
	c->tail = job;
	return true;
}

/* Must the sleeping worker s wake before it planned to, now that someone
 * ran jobs on its state? (Under s->run.) */
static bool must_wake(const struct worker *s)
{
	uint64_t now = clock_now_ms();
	int timeout = next_timeout_ms(s, now);

	if (s->store && !store_watched(s))
		return true;
	if (s->dns && dns_serial(s->dns) != s->dns_serial)
		return true; /* a socket to sleep on */
	return timeout >= 0 && now + (uint64_t)timeout < s->sleep_until_ms;
}

/* Runs what this reader claimed, then lets each worker go, waking it only
 * when it has to act sooner than it planned. */
static void run_claims(struct worker *w)
{
	for (unsigned i = 0; i < nworkers; i++) {
		struct worker_claim *c = &w->claims[i];
		struct worker *s = &workers[i];
		bool closed, wake;

		if (!c->head)
			continue;
		run_list(s, c->head);
		/* and what other readers queued for it meanwhile */
		run_list(s, queue_take(&s->queue, &closed));
		c->head = c->tail = NULL;
		/* What these jobs sent leaves before s may run the call's next
		 * message on another thread, whose batch could leave first (a
		 * 200 before its 180). */
		ctr_add(&s->ctr.v[CTR_TX_ERRORS], udp_tx_flush());
		if (s->store)
			store_commit(s->store);
		wake = must_wake(s);
		pthread_mutex_unlock(&s->run);
		if (wake)
			queue_poke(&s->queue);
	}
}

/* Starts (on) or stops reading the UDP sockets. Only worker 0 sleeps on
 * them (adds them to its epfd): it reads, runs the jobs of workers that
 * sleep (claim_job()) and wakes a helper when a read comes back full
 * (wake_helper()). The others read them at every round they are awake
 * for, so under load all share the reading, and at a lower rate one
 * thread wakes per batch instead of one per datagram. */
static void watch_udp(struct worker *w, bool on)
{
	int fds[TRANSPORT_MAX_LISTEN];
	unsigned idx[TRANSPORT_MAX_LISTEN];
	unsigned n = transport_udp_sockets(fds, idx, TRANSPORT_MAX_LISTEN);

	/* Made here, not at start: dispatch is set up after the workers. The
	 * dispatch context is never freed: its counters stay registered. */
	if (on && !w->udp) {
		struct dispatch_ctx *d = dispatch_ctx_new();

		if (!d || !(w->udp = udp_reader_new(w->cfg->sip.limits.max_message_size,
						    &dispatch_sink, d))) {
			log_error("event=udp_reader_failed worker=%u error=\"out of memory\"",
				  w->index);
			return;
		}
		if (nworkers > 1)
			dispatch_ctx_set_claim(d, claim_job, w);
	}
	for (unsigned i = 0; i < n && w->index == 0; i++) {
		struct epoll_event ev = {.events = EPOLLIN, .data.u32 = WAKE_UDP};

		if (on ? epoll_ctl(w->epfd, EPOLL_CTL_ADD, fds[i], &ev)
		       : epoll_ctl(w->epfd, EPOLL_CTL_DEL, fds[i], NULL))
			log_warn("event=epoll_failed worker=%u error=\"%s\"", w->index,
				 strerror(errno));
	}
	w->udp_on = on;
}

/* A read came back full: more waits. Wakes the next sleeping worker, if
 * any, to read beside this one. */
static void wake_helper(struct worker *w)
{
	for (unsigned k = 1; k < nworkers; k++)
		if (queue_wake(&workers[(w->index + k) % nworkers].queue))
			return;
}

/* Reads one batch from each UDP socket; returns how many datagrams. */
static unsigned read_udp_sockets(struct worker *w)
{
	int fds[TRANSPORT_MAX_LISTEN];
	unsigned idx[TRANSPORT_MAX_LISTEN];
	unsigned n = transport_udp_sockets(fds, idx, TRANSPORT_MAX_LISTEN), got = 0;

	pthread_mutex_lock(&udp_read_lock);
	for (unsigned i = 0; i < n; i++)
		got += udp_read(w->udp, fds[i], idx[i]);
	pthread_mutex_unlock(&udp_read_lock);
	run_claims(w);
	return got;
}

/* Sleeps until the queue, the database or a UDP socket has work, or the
 * next timeout. Lets go of w->run meanwhile, so readers may run w's jobs
 * (claim_job()). */
static void worker_sleep(struct worker *w)
{
	struct epoll_event evs[8];
	uint64_t now = clock_now_ms();
	int timeout = next_timeout_ms(w, now);

	if (w->store)
		watch_store(w);
	watch_dns(w);
	if (!queue_sleep_begin(&w->queue))
		return;
	w->sleep_until_ms = timeout < 0 ? UINT64_MAX : now + (uint64_t)timeout;
	atomic_store_explicit(&w->asleep, true, memory_order_relaxed);
	pthread_mutex_unlock(&w->run);
	(void)epoll_wait(w->epfd, evs, 8, timeout);
	pthread_mutex_lock(&w->run);
	atomic_store_explicit(&w->asleep, false, memory_order_relaxed);
	queue_sleep_end(&w->queue);
}

bool workers_db_up(void)
{
	for (unsigned i = 0; i < nworkers; i++)
		if (workers[i].store &&
		    !atomic_load_explicit(&workers[i].ctr.g_db_up, memory_order_relaxed))
			return false;
	return true;
}

uint64_t workers_stalled_ms(uint64_t now_ms, unsigned *which)
{
	uint64_t worst = 0;

	for (unsigned i = 0; i < nworkers; i++) {
		struct worker *w = &workers[i];
		uint64_t r = atomic_load_explicit(&w->rounds, memory_order_relaxed);

		if (atomic_load_explicit(&w->asleep, memory_order_relaxed) || r != w->wd_rounds ||
		    !w->wd_since_ms) {
			w->wd_rounds = r;
			w->wd_since_ms = now_ms;
		} else if (now_ms - w->wd_since_ms > worst) {
			worst = now_ms - w->wd_since_ms;
			*which = i;
		}
	}
	return worst;
}

void workers_read_udp(bool on)
{
	atomic_store(&read_udp, on);
	for (unsigned i = 0; i < nworkers; i++)
		queue_poke(&workers[i].queue);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	bool closed = false;

	udp_tx_use(w->tx);
	pthread_mutex_lock(&w->run);
	for (;;) {
		bool want_udp = atomic_load_explicit(&read_udp, memory_order_relaxed) && !closed;
		unsigned datagrams = 0;
		struct sip_job *job;
		bool idle;

		if (want_udp != w->udp_on)
			watch_udp(w, want_udp);
		if (w->udp_on)
			datagrams = read_udp_sockets(w);
		if (datagrams >= UDP_READ_BATCH)
			wake_helper(w);
		job = queue_take(&w->queue, &closed);
		idle = !job && !datagrams;
		/* its only writer: a plain increment, no locked instruction */
		atomic_store_explicit(&w->rounds,
				      atomic_load_explicit(&w->rounds, memory_order_relaxed) + 1,
				      memory_order_relaxed);

		run_list(w, job);
		timer_run(&w->timers, clock_now_ms());
		/* DNS answers resume the requests that waited on them */
		if (w->dns && dns_pending(w->dns))
			dns_process(w->dns);
		if (w->store) {
			/* Send what this round queued, then take what came back;
			 * completions may queue more, sent at once. */
			store_commit(w->store);
			store_handle(w->store, clock_now_ms());
			store_commit(w->store);
			ctr_set(&w->ctr.g_db_up, store_conns_up(w->store));
			ctr_set(&w->ctr.g_db_pending, store_pending(w->store));
		}
		if (w->app->round_end)
			w->app->round_end(w);
		/* The round's answers leave together before the worker sleeps
		 * or reads again. */
		ctr_add(&w->ctr.v[CTR_TX_ERRORS], udp_tx_flush());
		/* Stop once closed and drained, including what waits on the
		 * database, so nothing acknowledged is cut off. Transactions
		 * still lingering (Timer J and the like) are not waited for. */
		/* (Lookups still waiting for DNS are not waited for: their
		 * requests are ended by dns_free(), after the join.) */
		if (closed && idle && (!w->store || !store_pending(w->store)))
			break;
		if (idle)
			worker_sleep(w);
	}
	pthread_mutex_unlock(&w->run);
	udp_tx_use(NULL);
	return NULL;
}

/* The database's round trips into the worker's histogram (store.h). */
static void count_rtt(void *arg, uint64_t us)
{
	struct worker *w = arg;

	ctr_db_latency(&w->ctr, us);
}

static int worker_init(struct worker *w, const struct config *cfg, const struct worker_app *app,
		       unsigned index, unsigned n)
{
	int rc;

	w->index = index;
	w->app = app;
	rc = pthread_mutex_init(&w->run, NULL);
	if (rc)
		return -rc;
	w->claims = calloc(n, sizeof(*w->claims));
	w->cfg = cfg;
	w->max_hdrs = (uint16_t)cfg->sip.limits.max_headers;
	w->hdrs = calloc(w->max_hdrs, sizeof(*w->hdrs));
	w->hdrs2 = calloc(w->max_hdrs, sizeof(*w->hdrs2));
	w->out_cap = cfg->sip.limits.max_message_size + WORKER_OUT_SLACK;
	w->out = malloc(w->out_cap);
	w->tx = udp_tx_new();
	for (unsigned i = 0; i < STORE_MAX_CONNS; i++)
		w->store_fd[i] = -1;
	w->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (!w->hdrs || !w->hdrs2 || !w->out || !w->tx || !w->claims)
		return -ENOMEM;
	if (w->epfd < 0)
		return -errno;
	timer_heap_init(&w->timers);
	rc = queue_init(&w->queue, cfg->sip.queue_depth);
	if (rc < 0)
		return rc;
	{
		struct epoll_event ev = {.events = EPOLLIN, .data.u32 = WAKE_QUEUE};

		if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, queue_fd(&w->queue), &ev) < 0)
			return -errno;
	}
	if (cfg->database.conninfo[0]) {
		char name[32];

		snprintf(name, sizeof(name), "worker%u", index);
		w->store = store_new(cfg->database.conninfo, name,
				     cfg->database.connections_per_worker, count_rtt, w);
		if (!w->store)
			return -ENOMEM;
	}
	w->dns = dns_new(cfg->dns.servers, cfg->dns.nservers, cfg->dns.timeout, cfg->dns.tries);
	if (!w->dns)
		return -ENOMEM;
	if (app->init) {
		rc = app->init(w);
		if (rc < 0)
			return rc;
	}
	w->app_ready = true;
	counters_register(&w->ctr);
	return 0;
}

int workers_start(const struct config *cfg, unsigned n, const struct worker_app *app)
{
	int rc;

	workers = aligned_alloc(64, sizeof(*workers) * n);
	queues = calloc(n, sizeof(*queues));
	if (!workers || !queues)
		return -ENOMEM;
	memset(workers, 0, sizeof(*workers) * n);
	for (unsigned i = 0; i < n; i++) {
		rc = worker_init(&workers[i], cfg, app, i, n);
		if (rc < 0)
			return rc;
		queues[i] = &workers[i].queue;
	}
	nworkers = n;
	for (unsigned i = 0; i < n; i++) {
		rc = pthread_create(&workers[i].thread, NULL, worker_main, &workers[i]);
		if (rc)
			return -rc;
		workers[i].started = true;
	}
	return 0;
}

struct queue **workers_queues(void)
{
	return queues;
}

unsigned workers_count(void)
{
	return nworkers;
}

unsigned worker_queue_length(unsigned i)
{
	return i < nworkers ? queue_length(&workers[i].queue) : 0;
}

int workers_stop(unsigned timeout_ms)
{
	uint64_t deadline_ns;
	struct timespec ts;
	int result = 0;

	for (unsigned i = 0; i < nworkers; i++)
		queue_close(&workers[i].queue);
	clock_gettime(CLOCK_REALTIME, &ts);
	deadline_ns = (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec +
		      (uint64_t)timeout_ms * 1000000ULL;
	ts.tv_sec = (time_t)(deadline_ns / 1000000000ULL);
	ts.tv_nsec = (long)(deadline_ns % 1000000000ULL);
	for (unsigned i = 0; i < nworkers; i++) {
		if (!workers[i].started)
			continue;
		if (pthread_timedjoin_np(workers[i].thread, NULL, &ts) != 0) {
			log_error("event=worker_stuck worker=%u", i);
			result = -ETIMEDOUT;
			continue;
		}
		workers[i].started = false;
	}
	if (result == 0) {
		/* Every worker is gone: their memory can go (counters are
		 * unregistered by process exit only after this point). */
		for (unsigned i = 0; i < nworkers; i++) {
			queue_destroy(&workers[i].queue);
			/* lookups still waiting end first (-ECANCELED), while the
			 * layers that wait on them are still there */
			dns_free(workers[i].dns);
			workers[i].dns = NULL;
			if (workers[i].app_ready && workers[i].app->fini)
				workers[i].app->fini(&workers[i]);
			workers[i].txn = NULL;
			timer_heap_destroy(&workers[i].timers);
			store_free(workers[i].store);
			workers[i].store = NULL;
			free(workers[i].hdrs);
			free(workers[i].hdrs2);
			free(workers[i].out);
			udp_reader_free(workers[i].udp);
			udp_tx_free(workers[i].tx);
			workers[i].tx = NULL;
			free(workers[i].claims);
			workers[i].claims = NULL;
			pthread_mutex_destroy(&workers[i].run);
			close(workers[i].epfd);
			workers[i].udp = NULL;
			workers[i].hdrs = NULL;
			workers[i].out = NULL;
		}
	}
	return result;
}

/* ---- what the layers above see of a worker ------------------------------ */

unsigned worker_index(const struct worker *w)
{
	return w->index;
}

const struct config *worker_config(const struct worker *w)
{
	return w->cfg;
}

struct counters *worker_counters(struct worker *w)
{
	return &w->ctr;
}

struct store *worker_store(struct worker *w)
{
	return w->store;
}

struct timer_heap *worker_timers(struct worker *w)
{
	return &w->timers;
}

struct dns *worker_dns(struct worker *w)
{
	return w->dns;
}

struct txn_layer *worker_txn(struct worker *w)
{
	return w->txn;
}

void worker_set_txn(struct worker *w, struct txn_layer *txn)
{
	w->txn = txn;
}

char *worker_out(struct worker *w)
{
	return w->out;
}

size_t worker_out_cap(const struct worker *w)
{
	return w->out_cap;
}

struct msg_edits *worker_edits(struct worker *w)
{
	return &w->edits;
}

int worker_parse_aside(struct worker *w, const char *buf, size_t len, struct sip_msg *m)
{
	return sip_msg_parse(m, buf, len, w->hdrs2, w->max_hdrs, &w->cfg->sip.limits);
}

int worker_call_id(struct worker *w, const char *prefix, char *buf, size_t cap)
{
	/* one shard in workers_count(): a handful of tries on average */
	for (unsigned tries = 0; tries < 4096; tries++) {
		int n = snprintf(buf, cap, "%s-%016llx@%s", prefix,
				 (unsigned long long)worker_unique(w), w->cfg->node.name);

		if (n <= 0 || (size_t)n >= cap)
			return -EINVAL;
		if (dispatch_shard_of_call_id(sip_str_make(buf, (size_t)n)) == w->index)
			return n;
	}
	return -EAGAIN;
}

uint64_t worker_unique(struct worker *w)
{
	uint64_t v = siphash(siphash_process_key(), &w->branch_seq, sizeof(w->branch_seq));

	w->branch_seq++;
	return v;
}
