/*
 * affinity: see affinity.h. The relation rules themselves run in the
 * database (junction_dialog_begin()), where every node's dialogs are;
 * this side gathers what the request says (the dialog it names, its
 * referrer, the AORs of both ends), keeps its job while the database
 * answers, and caches the answer by Call-ID.
 */
#include "proxy/affinity.h"
#include "runtime/counters.h"

#include "base/clock.h"
#include "base/log.h"
#include "config/config.h"
#include "net/netaddr.h"
#include "proxy/dlgcache.h"
#include "sip/sip_hdr.h"
#include "store/store.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define AFFINITY_AOR_MAX  512
#define AFFINITY_DEAD_MAX 64
/* An ended dialog stays cached for its BYE's retransmissions (64 x T1). */
#define AFFINITY_ENDED_MS 32000
/* The database knows no such dialog: asked again after this. */
#define AFFINITY_NONE_MS 30000
/* Requests of one dialog that wait for its lookup besides the first. */
#define AFFINITY_WAITERS_MAX 8
/* A lookup or begin that never completes cannot hold a Call-ID longer. */
#define AFFINITY_PENDING_MS 20000

/* What a kept job waits for. */
struct asked {
	struct worker *w;
	struct sip_job *job;
	bool begin;           /* junction_dialog_begin(), else a lookup */
	struct sip_job *more; /* a lookup: other requests of the dialog, by job->next */
	unsigned nmore;
	uint32_t from_sc; /* a begin: the Session Controller that sent it, 0: an endpoint */
	bool retried;     /* a begin sent again after its batch failed */
	size_t call_id_len;
	char call_id[]; /* the cache key */
};

bool affinity_on(const struct config *cfg)
{
	return cfg->routing.session_controllers && cfg->sessions.affinity;
}

static struct sip_str call_id_of(struct asked *a)
{
	return sip_str_make(a->call_id, a->call_id_len);
}

/* Is s printable ASCII? Call-IDs, tags and URIs are by their grammar
 * (RFC 3261 §25.1); a byte beyond would fail the whole batch of writes
 * it went with (not UTF-8), so such a dialog is not recorded. */
static bool printable(struct sip_str s)
{
	for (size_t i = 0; i < s.len; i++)
		if ((unsigned char)s.p[i] < 0x20 || (unsigned char)s.p[i] > 0x7e)
			return false;
	return true;
}

/* The text of s for a parameter: never SQL NULL (a missing tag is an
 * empty one). */
static struct sip_str text_of(struct sip_str s)
{
	return sip_str_make(s.p ? s.p : "", s.len);
}

/* 'sip:user@host' of u (the host in lower case, as bindings have it:
 * sip_user_at_domain()), 'sip:host' without a user, or an empty string
 * for a URI that is no SIP AOR. */
static struct sip_str aor_of(const struct sip_uri *u, char buf[AFFINITY_AOR_MAX])
{
	size_t n;

	if ((u->scheme != SIP_URI_SIP && u->scheme != SIP_URI_SIPS) || !u->host.len ||
	    !printable(u->user) || !printable(u->host))
		return sip_str_make(NULL, 0);
	memcpy(buf, "sip:", 4);
	if (u->user.len) {
		n = sip_user_at_domain(u->user, u->host, buf + 4, AFFINITY_AOR_MAX - 5);
		if (!n)
			return sip_str_make(NULL, 0);
	} else {
		if (u->host.len > AFFINITY_AOR_MAX - 5)
			return sip_str_make(NULL, 0);
		for (n = 0; n < u->host.len; n++)
			buf[4 + n] = sip_tolower(u->host.p[n]);
	}
	buf[4 + n] = '\0';
	return sip_str_make(buf, 4 + n);
}

/* The Call-ID a Replaces, Join or Target-Dialog header names (its value
 * up to the first ';'), or an empty string. */
static struct sip_str named_call_id(const struct sip_msg *m, const char *name)
{
	const struct sip_hdr *h = sip_msg_hdr_by_name(m, sip_str_cstr(name));
	struct sip_str v;
	ptrdiff_t semi;

	if (!h)
		return sip_str_make(NULL, 0);
	v = h->value;
	semi = sip_str_chr(v, ';');
	if (semi >= 0)
		v.len = (size_t)semi;
	v = sip_str_trim(v);
	return printable(v) ? v : sip_str_make(NULL, 0);
}

/* The AOR of Referred-By (RFC 3892; compact form b), or an empty string. */
static struct sip_str referrer_of(const struct sip_msg *m, char buf[AFFINITY_AOR_MAX])
{
	const struct sip_hdr *h = sip_msg_hdr_by_name(m, sip_str_cstr("Referred-By"));
	struct sip_addr a;

	if (!h)
		h = sip_msg_hdr_by_name(m, sip_str_cstr("b"));
	if (!h || sip_addr_parse(h->value, &a) < 0)
		return sip_str_make(NULL, 0);
	return aor_of(&a.uri, buf);
}

static void param(struct store_op *op, struct sip_str v)
{
	store_op_param_text_array(op, &v, 1);
}

static void param_bool(struct store_op *op, bool v)
{
	param(op, sip_str_cstr(v ? "t" : "f"));
}

static void param_int(struct store_op *op, int64_t v)
{
	store_op_param_int_array(op, &v, NULL, 1);
}

/* ---- writes nobody waits for ------------------------------------------------ */

static void written(void *arg, int err, const struct store_result *r)
{
	struct worker *w = arg;

	(void)r;
	if (err && err != -ECANCELED)
		ctr_inc(worker_counters(w), CTR_SESSION_WRITES_FAILED);
}

/* Session writes are soft state, as in Kamailio's dialog module: by
 * default their commit does not wait for the WAL flush ([sessions]
 * synchronous_commit). A database crash may lose the last fraction of a
 * second of them; those dialogs' requests then follow their route set, as
 * with affinity off. A batch that also writes a binding is flushed. */
static void relax(struct worker *w, struct store_op *op)
{
	if (!worker_config(w)->sessions.synchronous_commit)
		store_op_relax(op);
}

/* junction_dialog_update(action, ...), sent with the next batch that
 * leaves (at most 50 ms later). */
static void update(struct worker *w, const char *action, struct sip_str call_id, struct sip_str tag,
		   struct sip_str other, unsigned expires_s)
{
	struct store_op *op;
	int err;

	if (!worker_store(w) || !printable(call_id) || !printable(tag) || !printable(other))
		return;
	op = store_op_begin(worker_store(w), STORE_DIALOG_UPDATE, true,
			    store_lock_key(call_id.p, call_id.len), written, w, &err);
	if (!op) {
		ctr_inc(worker_counters(w), CTR_SESSION_WRITES_FAILED);
		return;
	}
	/* nobody waits for it: it leaves with the next batch that must */
	store_op_defer(worker_store(w), op);
	relax(w, op);
	param(op, sip_str_cstr(action));
	param(op, call_id);
	param(op, text_of(tag));
	param(op, other);
	param_int(op, expires_s);
}

/* Half the dialog timeout: how often a live dialog's expiry is pushed on. */
static uint64_t refresh_ms(const struct worker *w)
{
	return (uint64_t)worker_config(w)->sessions.dialog_timeout * 500;
}

/* ---- the answers ------------------------------------------------------------ */

/* Runs the kept job again (the cache has the answer), or answers 503 when
 * the answer is an error and the request may not go without it. */
static void resume(struct asked *a, int err)
{
	struct sip_msg m;

	if (err && a->begin) {
		if (worker_reparse(a->w, a->job, &m) == 0)
			worker_reply_db_unavailable(a->w, &m, &a->job->src);
		job_free(a->job);
	} else {
		worker_resume(a->w, a->job);
	}
	while (a->more) {
		struct sip_job *job = a->more;

		a->more = job->next;
		job->next = NULL;
		worker_resume(a->w, job);
	}
	free(a);
}

static int begin(struct worker *w, struct sip_job *job, struct sip_msg *m, uint32_t from_sc,
		 const struct scpool_pick *prop, bool retried);

/* Sends a's junction_dialog_begin() again (a takes over the job and is
 * freed). False when it cannot. */
static bool begin_again(struct asked *a)
{
	struct scpool_pick prop;
	struct sip_msg m;
	bool chose = false;
	int err;

	if (worker_reparse(a->w, a->job, &m) < 0)
		return false;
	if (!a->from_sc && !(chose = scpool_choose(worker_index(a->w), &prop)))
		return false;
	err = begin(a->w, a->job, &m, a->from_sc, chose ? &prop : NULL, true);
	if (chose)
		scpool_release(prop.id);
	if (err)
		return false;
	free(a);
	return true;
}

static void begun(void *arg, int err, const struct store_result *r)
{
	struct asked *a = arg;
	struct worker *w = a->w;
	unsigned wi = worker_index(w);
	struct dlgcache_entry *e = dlgcache_find(wi, call_id_of(a));
	uint64_t now = clock_now_ms();
	struct sip_str server, relation;

	if (!err && (store_result_rows(r) < 1 || store_result_null(r, 0, 0)))
		err = -EIO;
	/* the batch failed (it lost a deadlock with another node's): once
	 * more, in the next one */
	if (err == -EIO && !a->retried && begin_again(a))
		return;
	if (err) {
		log_warn("event=dialog_record_failed call_id=%.*s error=%d",
			 SIP_STR_FMT(call_id_of(a)), err);
		if (e)
			*e = (struct dlgcache_entry){
				.key = e->key, .state = DLGCACHE_NONE, .expires_ms = now};
		resume(a, err);
		return;
	}
	server = store_result_get(r, 0, 1);
	relation = store_result_get(r, 0, 2);
	if (!e)
		e = dlgcache_put(wi, call_id_of(a), true);
	if (e) {
		e->state = DLGCACHE_KNOWN;
		e->session = strtoll(store_result_get(r, 0, 0).p, NULL, 10);
		e->sc_id = scpool_id_of(server);
		e->early = true;
		e->refresh_ms = 0;
		e->expires_ms = now + (uint64_t)worker_config(w)->sessions.dialog_timeout * 1000;
	}
	if (sip_str_eq(relation, sip_str_cstr("new"))) {
		ctr_inc(worker_counters(w), CTR_SESSIONS_CREATED);
	} else if (sip_str_eq(relation, sip_str_cstr("moved"))) {
		ctr_inc(worker_counters(w), CTR_SESSIONS_MOVED);
		log_warn("event=session_moved call_id=%.*s from_session=%.*s to_session=%.*s "
			 "sip_server=%.*s reason=\"pair out of service\"",
			 SIP_STR_FMT(call_id_of(a)), SIP_STR_FMT(store_result_get(r, 0, 3)),
			 SIP_STR_FMT(store_result_get(r, 0, 0)), SIP_STR_FMT(server));
	} else {
		ctr_inc(worker_counters(w), CTR_SESSIONS_JOINED);
	}
	log_debug("event=dialog_recorded call_id=%.*s session=%.*s sip_server=%.*s relation=%.*s",
		  SIP_STR_FMT(call_id_of(a)), SIP_STR_FMT(store_result_get(r, 0, 0)),
		  SIP_STR_FMT(server), SIP_STR_FMT(relation));
	resume(a, 0);
}

static void looked_up(void *arg, int err, const struct store_result *r)
{
	struct asked *a = arg;
	struct worker *w = a->w;
	struct dlgcache_entry *e = dlgcache_find(worker_index(w), call_id_of(a));
	uint64_t now = clock_now_ms();

	if (e && (e->state != DLGCACHE_PENDING || e->wait != a))
		e = NULL; /* not this lookup's any more (swept and asked again) */
	if (e && !err && store_result_rows(r) > 0) {
		long left = strtol(store_result_get(r, 0, 2).p, NULL, 10);
		uint64_t left_ms = left > 0 ? (uint64_t)left * 1000 : 0;

		e->state = DLGCACHE_KNOWN;
		e->wait = NULL;
		e->session = strtoll(store_result_get(r, 0, 0).p, NULL, 10);
		e->sc_id = scpool_id_of(store_result_get(r, 0, 1));
		e->early = false;
		/* push its expiry on once half of it is gone */
		e->refresh_ms = now + (left_ms > refresh_ms(w) ? left_ms - refresh_ms(w) : 0);
		e->expires_ms = now + (uint64_t)worker_config(w)->sessions.dialog_timeout * 1000;
	} else if (e) {
		/* unknown, or the database did not answer: by route set */
		e->state = DLGCACHE_NONE;
		e->wait = NULL;
		e->expires_ms = now + (err ? 1000 : AFFINITY_NONE_MS);
	}
	resume(a, 0);
}

/* Keeps job while op's answer comes (asked, to be freed by resume()). */
static struct asked *asked_new(struct worker *w, struct sip_job *job, struct sip_str call_id,
			       bool begin)
{
	struct asked *a = malloc(sizeof(*a) + call_id.len);

	if (!a)
		return NULL;
	*a = (struct asked){.w = w, .job = job, .begin = begin, .call_id_len = call_id.len};
	memcpy(a->call_id, call_id.p, call_id.len);
	return a;
}

/* ---- new dialogs ------------------------------------------------------------ */

/* Sends junction_dialog_begin() for m; *prop the pool's pick for a new
 * session (NULL from a controller); retried: the second time. Returns 0
 * (job kept) or an errno. */
static int begin(struct worker *w, struct sip_job *job, struct sip_msg *m, uint32_t from_sc,
		 const struct scpool_pick *prop, bool retried)
{
	const struct config *cfg = worker_config(w);
	unsigned relate = cfg->sessions.relate;
	struct sip_str call_id = sip_msg_call_id(m), rel = {0}, kind = {0}, none = {0};
	char caller[AFFINITY_AOR_MAX], callee[AFFINITY_AOR_MAX], referrer[AFFINITY_AOR_MAX];
	char controller[STORE_SEEN_NAME_MAX], proposed[STORE_SEEN_NAME_MAX];
	char dead[AFFINITY_DEAD_MAX][STORE_SEEN_NAME_MAX];
	struct sip_str dead_v[AFFINITY_DEAD_MAX];
	unsigned ndead = 0;
	struct store_op *op;
	struct asked *a;
	int err = -ENOTCONN;

	static const struct {
		unsigned bit;
		const char *header, *kind;
	} named[] = {{CFG_RELATE_REPLACES, "Replaces", "replaces"},
		     {CFG_RELATE_JOIN, "Join", "join"},
		     {CFG_RELATE_TARGET_DIALOG, "Target-Dialog", "target-dialog"}};

	for (unsigned i = 0; i < sizeof(named) / sizeof(named[0]) && !rel.len; i++) {
		if (relate & named[i].bit) {
			rel = named_call_id(m, named[i].header);
			kind = sip_str_cstr(named[i].kind);
		}
	}
	if (!rel.len)
		kind = none;
	if (from_sc && !scpool_name_of(from_sc, controller))
		return -ESRCH;
	if (prop && !scpool_name_of(prop->id, proposed))
		return -ESRCH;
	if (!from_sc) {
		ndead = scpool_dead(dead, AFFINITY_DEAD_MAX);
		for (unsigned i = 0; i < ndead; i++)
			dead_v[i] = sip_str_cstr(dead[i]);
	}
	a = asked_new(w, job, call_id, true);
	if (!a)
		return -ENOMEM;
	a->from_sc = from_sc;
	a->retried = retried;
	op = store_op_begin(worker_store(w), STORE_DIALOG_BEGIN, true,
			    store_lock_key(call_id.p, call_id.len), begun, a, &err);
	if (!op) {
		free(a);
		return err;
	}
	relax(w, op);
	param(op, call_id);
	param(op, text_of(sip_msg_from(m)->tag));
	param(op, m->method);
	param(op, aor_of(&sip_msg_from(m)->uri, caller));
	param(op, aor_of(sip_msg_ruri(m), callee));
	param(op, rel);
	param(op, kind);
	param(op, relate & CFG_RELATE_REFERRED_BY ? referrer_of(m, referrer) : none);
	param_bool(op, relate & CFG_RELATE_DEVICE);
	param(op, from_sc ? sip_str_cstr(controller) : none);
	param_bool(op, relate & CFG_RELATE_CONTROLLER);
	param(op, prop ? sip_str_cstr(proposed) : none);
	store_op_param_text_array(op, dead_v, ndead);
	param(op, sip_str_cstr(cfg->node.name));
	param_int(op, cfg->sessions.early_timeout);
	return 0;
}

/* Marks the Call-ID pending and keeps the job. Returns the verdict. */
static enum affinity_verdict ask_begin(struct worker *w, struct sip_job *job, struct sip_msg *m,
				       uint32_t from_sc, const struct scpool_pick *prop)
{
	struct dlgcache_entry *e;
	int err;

	job->dialog_asked = true;
	/* §16.2: the INVITE is ours; its retransmissions stop while it
	 * waits for the database (the transaction keeps that 100 to resend
	 * and sends no other) */
	if (m->method_id == SIP_METHOD_INVITE) {
		worker_reply(w, m, &job->src, 100, NULL, NULL);
		job->trying_sent = true;
	}
	err = begin(w, job, m, from_sc, prop, false);
	if (err) {
		log_warn("event=dialog_record_failed call_id=%.*s error=%d",
			 SIP_STR_FMT(sip_msg_call_id(m)), err);
		worker_reply_db_unavailable(w, m, &job->src);
		return AFFINITY_DONE;
	}
	/* the request's retransmissions wait for the same answer */
	e = dlgcache_put(worker_index(w), sip_msg_call_id(m), false);
	if (e)
		*e = (struct dlgcache_entry){.key = e->key,
					     .state = DLGCACHE_PENDING,
					     .expires_ms = clock_now_ms() + AFFINITY_PENDING_MS};
	return AFFINITY_KEPT;
}

enum affinity_verdict affinity_new_dialog(struct worker *w, struct sip_job *job, struct sip_msg *m,
					  uint32_t from_sc, struct scpool_pick *to)
{
	struct dlgcache_entry *e = dlgcache_find(worker_index(w), sip_msg_call_id(m));
	struct scpool_pick prop;
	enum affinity_verdict v;

	if (e && e->state == DLGCACHE_PENDING)
		return AFFINITY_DONE; /* a retransmission: the first is kept */
	if (e && (e->state == DLGCACHE_KNOWN || e->state == DLGCACHE_ENDED)) {
		ctr_inc(worker_counters(w), CTR_AFFINITY_CACHE_HITS);
		if (from_sc)
			return AFFINITY_FREE;
		if (scpool_take(e->sc_id, to))
			return AFFINITY_TO;
		/* its pair went out of service since it was recorded */
		if (!scpool_choose(worker_index(w), to))
			return AFFINITY_NO_SERVER;
		log_warn("event=session_controller_lost call_id=%.*s session=%lld to=%s",
			 SIP_STR_FMT(sip_msg_call_id(m)), (long long)e->session, to->uri);
		return AFFINITY_TO;
	}
	if (job->dialog_asked || !printable(sip_msg_call_id(m)) ||
	    !printable(sip_msg_from(m)->tag)) {
		/* asked, and not cached (out of memory), or not recordable:
		 * as the pool says */
		if (from_sc)
			return AFFINITY_FREE;
		return scpool_choose(worker_index(w), to) ? AFFINITY_TO : AFFINITY_NO_SERVER;
	}
	if (from_sc)
		return ask_begin(w, job, m, from_sc, NULL);
	if (!scpool_choose(worker_index(w), &prop))
		return AFFINITY_NO_SERVER;
	v = ask_begin(w, job, m, 0, &prop);
	scpool_release(prop.id); /* taken again (or another) when the job runs again */
	return v;
}

/* ---- in-dialog requests ------------------------------------------------------ */

/* The Session Controller m's Request-URI names by its address and port
 * (its Contact, the route set's end: RFC 3261 §12.2.1.1), 0 for none. */
static uint32_t target_controller(struct sip_msg *m)
{
	const struct sip_uri *u = sip_msg_ruri(m);
	uint16_t port = u->port;
	struct netaddr a;

	if (u->scheme != SIP_URI_SIP && u->scheme != SIP_URI_SIPS)
		return 0;
	if (!port)
		port = u->scheme == SIP_URI_SIPS ? 5061 : 5060;
	if (netaddr_from_host(u->host, port, &a) < 0)
		return 0;
	return scpool_at(&a);
}

/* A BYE ends the dialog, anything else may push its expiry on. */
static void bookkeeping(struct worker *w, struct sip_msg *m, struct dlgcache_entry *e)
{
	uint64_t now = clock_now_ms();
	struct sip_str call_id = sip_msg_call_id(m);

	if (e && e->state == DLGCACHE_PENDING) {
		/* the request being looked up will note its own */
		if (m->method_id == SIP_METHOD_BYE)
			update(w, "end", call_id, sip_msg_from(m)->tag, sip_msg_to(m)->tag, 0);
		return;
	}
	if (m->method_id == SIP_METHOD_BYE) {
		if (e && e->state == DLGCACHE_ENDED)
			return; /* a retransmission */
		update(w, "end", call_id, sip_msg_from(m)->tag, sip_msg_to(m)->tag, 0);
		if (!e)
			e = dlgcache_put(worker_index(w), call_id, false);
		if (e) {
			if (e->state != DLGCACHE_KNOWN)
				e->sc_id = 0;
			e->state = DLGCACHE_ENDED;
			e->early = false;
			e->expires_ms = now + AFFINITY_ENDED_MS;
		}
		return;
	}
	if (m->method_id == SIP_METHOD_ACK || !e || e->state != DLGCACHE_KNOWN || e->early ||
	    !e->refresh_ms || now < e->refresh_ms)
		return;
	update(w, "touch", call_id, sip_msg_from(m)->tag, sip_msg_to(m)->tag,
	       worker_config(w)->sessions.dialog_timeout);
	e->refresh_ms = now + refresh_ms(w);
	e->expires_ms = now + (uint64_t)worker_config(w)->sessions.dialog_timeout * 1000;
}

enum affinity_verdict affinity_in_dialog(struct worker *w, struct sip_job *job, struct sip_msg *m,
					 struct scpool_pick *to)
{
	unsigned wi = worker_index(w);
	struct dlgcache_entry *e = dlgcache_find(wi, sip_msg_call_id(m));
	struct asked *a;
	struct store_op *op;
	uint32_t sc;
	int err;

	if (!to) {
		bookkeeping(w, m, e);
		return AFFINITY_FREE;
	}
	if (e && e->state == DLGCACHE_PENDING && e->wait && !job->dialog_asked) {
		/* another request of a dialog being looked up (the ACK, then at
		 * once the BYE): it waits for the same answer, and in order
		 * after the first (an ACK is never retransmitted: none is
		 * dropped) */
		struct asked *first = e->wait;
		struct sip_job **end = &first->more;

		if (first->nmore >= AFFINITY_WAITERS_MAX)
			return AFFINITY_DONE; /* a flood of one Call-ID: dropped */
		first->nmore++;
		while (*end)
			end = &(*end)->next;
		job->next = NULL;
		*end = job;
		job->dialog_asked = true;
		return AFFINITY_KEPT;
	}
	if (!e && !job->dialog_asked && (sc = target_controller(m)) != 0 &&
	    (e = dlgcache_put(wi, sip_msg_call_id(m), false)) != NULL) {
		/* a dialog this node did not see start, sent to a Session
		 * Controller: the one its session was given (or that joined
		 * it there), whose Contact the route set ends with; its life
		 * is not known, so it is pushed on at the next request */
		uint64_t now = clock_now_ms();

		*e = (struct dlgcache_entry){
			.key = e->key,
			.state = DLGCACHE_KNOWN,
			.sc_id = sc,
			.refresh_ms = now,
			.expires_ms =
				now + (uint64_t)worker_config(w)->sessions.dialog_timeout * 1000};
		ctr_inc(worker_counters(w), CTR_AFFINITY_ROUTE_SET);
	} else if (!e && !job->dialog_asked && worker_store(w) && printable(sip_msg_call_id(m))) {
		/* a dialog this node did not see start: ask where it is */
		e = dlgcache_put(wi, sip_msg_call_id(m), false);
		a = e ? asked_new(w, job, sip_msg_call_id(m), false) : NULL;
		op = a ? store_op_begin(worker_store(w), STORE_DIALOG_LOOKUP, false, 0, looked_up,
					a, &err)
		       : NULL;
		if (op) {
			store_op_param_str(op, sip_msg_call_id(m));
			ctr_inc(worker_counters(w), CTR_AFFINITY_DB_LOOKUPS);
			job->dialog_asked = true;
			*e = (struct dlgcache_entry){.key = e->key,
						     .state = DLGCACHE_PENDING,
						     .wait = a,
						     .expires_ms =
							     clock_now_ms() + AFFINITY_PENDING_MS};
			return AFFINITY_KEPT;
		}
		free(a);
		if (e && e->state != DLGCACHE_PENDING)
			*e = (struct dlgcache_entry){.key = e->key,
						     .state = DLGCACHE_NONE,
						     .expires_ms = clock_now_ms() + 1000};
		e = NULL; /* no memory, or the database is down: by route set */
	} else if (e) {
		if (!job->dialog_asked)
			ctr_inc(worker_counters(w), CTR_AFFINITY_CACHE_HITS);
	}
	if (!e || e->state == DLGCACHE_NONE || !e->sc_id) {
		ctr_inc(worker_counters(w), CTR_AFFINITY_UNKNOWN);
		bookkeeping(w, m, e);
		return AFFINITY_FREE;
	}
	bookkeeping(w, m, e); /* e exists: it adds no entry, so e stays valid */
	if (scpool_take(e->sc_id, to))
		return AFFINITY_TO;
	ctr_inc(worker_counters(w), CTR_AFFINITY_UNKNOWN);
	return AFFINITY_FREE;
}

/* ---- answers to new dialogs ---------------------------------------------------- */

void affinity_answered(struct worker *w, struct sip_msg *resp)
{
	struct dlgcache_entry *e = dlgcache_find(worker_index(w), sip_msg_call_id(resp));
	uint64_t now = clock_now_ms();

	if (!e || e->state != DLGCACHE_KNOWN || !e->early)
		return;
	e->early = false;
	e->refresh_ms = now + refresh_ms(w);
	e->expires_ms = now + (uint64_t)worker_config(w)->sessions.dialog_timeout * 1000;
	update(w, "confirm", sip_msg_call_id(resp), sip_msg_from(resp)->tag, sip_msg_to(resp)->tag,
	       worker_config(w)->sessions.dialog_timeout);
}

void affinity_failed(struct worker *w, struct sip_msg *m)
{
	struct dlgcache_entry *e = dlgcache_find(worker_index(w), sip_msg_call_id(m));

	if (!e || e->state != DLGCACHE_KNOWN || !e->early)
		return;
	e->early = false;
	e->state = DLGCACHE_ENDED;
	e->expires_ms = clock_now_ms() + AFFINITY_ENDED_MS;
	update(w, "end", sip_msg_call_id(m), sip_msg_from(m)->tag, sip_str_make(NULL, 0), 0);
}
