/*
 * registrar: REGISTER for the domains this node serves (RFC 3261 §10.3,
 * RFC 3665 §2, RFC 3327 Path, RFC 5626 instance and reg-id).
 *
 * Steps 1-7 that need no data are done here, on the worker: Require (420),
 * the AOR from To (404), digest authentication (401/403), every Contact
 * and its expiry (400/423, clamping to max_expires). The change itself
 * (step 7's Call-ID/CSeq ordering, the contact limit, add/refresh/remove)
 * is decided in PostgreSQL under a lock on the AOR, so nodes and workers
 * never race on one AOR: by junction_register(), or with the other
 * REGISTERs of a busy batch by junction_register_batch(). The job waits
 * for the transaction to commit; only then does the 200 with every
 * current binding (step 8) leave, so a 200 always means a durable binding.
 *
 * In stateful mode a REGISTER gets a server transaction first (§17.2.2):
 * a retransmission, also while the database works, is absorbed and
 * answered with the same response, never processed twice (its
 * nonce-count would look replayed). The transaction then owns the job.
 */
#include "registrar/registrar.h"
#include "runtime/counters.h"

#include "base/clock.h"
#include "base/log.h"
#include "config/config.h"
#include "registrar/auth.h"
#include "registrar/location.h"
#include "runtime/worker.h"
#include "sip/hdr_list.h"
#include "store/store.h"
#include "txn/txn.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define REG_URI_MAX  512
#define REG_PATH_MAX 4096
#define REG_UA_MAX   255

/* Option tags the registrar understands in Require (§10.3 step 2). */
static bool reg_supported(struct sip_str tag)
{
	return sip_str_caseeq_cstr(tag, "path");
}

/* A REGISTER in the works: its job and, in stateful mode, its server
 * transaction (which then owns the job). A delegated one has neither:
 * whoever forwarded it is told the outcome (done). */
struct reg_req {
	struct worker *w;
	struct sip_job *job;
	struct stx *st;
	registrar_committed_fn done;
	void *done_arg;
};

static void reply(const struct reg_req *rq, struct sip_msg *m, unsigned status, const char *reason,
		  const char *extra)
{
	if (rq->st)
		stx_reply(rq->st, rq->w, m, status, reason, extra);
	else
		worker_reply(rq->w, m, &rq->job->src, status, reason, extra);
}

/* The job is done with: freed unless its transaction owns it. */
static void reg_done(struct reg_req *rq)
{
	if (!rq->st)
		job_free(rq->job);
}

/* §20.17: Date: Sat, 13 Nov 2010 23:29:00 GMT */
static size_t date_header(char *buf, size_t cap)
{
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	return strftime(buf, cap, "Date: %a, %d %b %Y %H:%M:%S GMT\r\n", &tm);
}

static registrar_flow_path_fn flow_path;

void registrar_set_flow_path(registrar_flow_path_fn fn)
{
	flow_path = fn;
}

/* Path header values as one comma-separated text, or empty. */
static struct sip_str path_text(struct sip_msg *m, char *buf, size_t cap)
{
	size_t n = 0;

	for (const struct sip_hdr *h = sip_msg_hdr(m, SIP_HDR_PATH); h;
	     h = sip_msg_hdr_next(m, h)) {
		if (n + h->value.len + 2 >= cap)
			return SIP_STR_NULL;
		if (n) {
			memcpy(buf + n, ", ", 2);
			n += 2;
		}
		memcpy(buf + n, h->value.p, h->value.len);
		n += h->value.len;
	}
	return sip_str_make(buf, n);
}

/* The route set stored with the bindings: the flow's own Path first when
 * src is a connection only this node holds (registrar_set_flow_path()),
 * then the REGISTER's. Empty: none. */
static struct sip_str stored_path(struct sip_msg *m, const struct sip_source *src, char *buf,
				  size_t cap)
{
	size_t n = flow_path ? flow_path(src, buf, cap) : 0;
	struct sip_str rest;

	if (!n)
		return path_text(m, buf, cap);
	if (n + 2 >= cap)
		return SIP_STR_NULL;
	rest = path_text(m, buf + n + 2, cap - n - 2);
	if (!rest.len)
		return sip_str_make(buf, n);
	memcpy(buf + n, ", ", 2);
	return sip_str_make(buf, n + 2 + rest.len);
}

static bool supports(struct sip_msg *m, const char *tag)
{
	for (const struct sip_hdr *h = sip_msg_hdr(m, SIP_HDR_SUPPORTED); h;
	     h = sip_msg_hdr_next(m, h))
		if (sip_token_list_has(h->value, tag))
			return true;
	return false;
}

/* ---- the answer -------------------------------------------------------- */

/* 503 with Retry-After: the database is down. */
static void reply_db_down(const struct reg_req *rq, struct sip_msg *m)
{
	char extra[32];

	snprintf(extra, sizeof(extra), "Retry-After: %u\r\n",
		 worker_config(rq->w)->database.retry_after);
	reply(rq, m, 503, "Database Unavailable", extra);
}

/* A delegated REGISTER's bindings are stored, or not (status). */
static void committed(struct reg_req *rq, int err, const struct store_result *r)
{
	unsigned status = 0;

	if (err == -ECONNRESET || err == -ENOTCONN)
		status = 503;
	else if (err || store_result_rows(r) == 0)
		status = 500;
	else if (atoi(store_result_get(r, 0, 0).p) != 200)
		status = (unsigned)atoi(store_result_get(r, 0, 0).p);
	if (!status)
		ctr_inc(worker_counters(rq->w), CTR_REGISTRATIONS);
	rq->done(rq->w, rq->done_arg, status);
	free(rq);
}

static void registered(void *arg, int err, const struct store_result *r)
{
	struct reg_req *rq = arg;
	struct worker *w = rq->w;
	struct sip_msg m;
	char extra[8192];
	size_t n = 0;
	int status;

	if (rq->done) {
		committed(rq, err, r);
		return;
	}
	if (worker_reparse(w, rq->job, &m) < 0)
		goto out;
	if (err == -ECONNRESET || err == -ENOTCONN) {
		reply_db_down(rq, &m);
		goto out;
	}
	if (err || store_result_rows(r) == 0) {
		reply(rq, &m, 500, "Registration Not Stored", NULL);
		goto out;
	}
	status = atoi(store_result_get(r, 0, 0).p);
	if (status == 500) {
		/* §10.3 step 7: an older CSeq of the same Call-ID */
		reply(rq, &m, 500, "Out of Order Request", NULL);
		goto out;
	}
	if (status == 403) {
		reply(rq, &m, 403, "Too Many Registered Contacts", NULL);
		goto out;
	}
	/* §10.3 step 8: every current binding, with its remaining time. */
	for (unsigned i = 0; i < store_result_rows(r); i++) {
		struct sip_str contact = store_result_get(r, i, 1);
		struct sip_str q = store_result_get(r, i, 2);
		struct sip_str exp = store_result_get(r, i, 3);
		int k;

		if (!contact.p)
			continue;
		k = snprintf(extra + n, sizeof(extra) - n,
			     "Contact: <%.*s>;expires=%.*s;q=%.*s\r\n", SIP_STR_FMT(contact),
			     SIP_STR_FMT(exp), SIP_STR_FMT(q));
		if (k < 0 || (size_t)k >= sizeof(extra) - n)
			break;
		n += (size_t)k;
	}
	/* RFC 3327 §5.3: the Path back to a UA that supports it. */
	if (sip_msg_hdr(&m, SIP_HDR_PATH) && supports(&m, "path")) {
		char pbuf[REG_PATH_MAX];
		struct sip_str path = path_text(&m, pbuf, sizeof(pbuf));
		int k = snprintf(extra + n, sizeof(extra) - n, "Path: %.*s\r\n", SIP_STR_FMT(path));

		if (path.len && k > 0 && (size_t)k < sizeof(extra) - n)
			n += (size_t)k;
	}
	n += date_header(extra + n, sizeof(extra) - n);
	/* Before the 200: a call that follows it must not find the old
	 * bindings in this node's cache (others hear the NOTIFY). */
	if (sip_msg_to(&m))
		location_forget(sip_msg_to(&m)->uri.user, sip_msg_to(&m)->uri.host);
	reply(rq, &m, 200, NULL, extra);
	ctr_inc(worker_counters(w), CTR_REGISTRATIONS);
out:
	reg_done(rq);
	free(rq);
}

/* ---- the request ------------------------------------------------------- */

unsigned registrar_read_contacts(const struct config *cfg, struct sip_msg *m,
				 struct reg_contacts *rc, struct reg_refusal *why)
{
	const struct sip_hdr *eh = sip_msg_hdr(m, SIP_HDR_EXPIRES);
	struct hdr_list l;
	int64_t dflt = cfg->registrar.default_expires;
	uint32_t v;
	int n;

	why->reason = NULL;
	why->extra[0] = '\0';
	memset(rc, 0, sizeof(*rc));
	if (eh) {
		int err = sip_str_to_u32(eh->value, &v);

		/* §20.19: beyond 2^32-1 means 2^32-1 (clamped below) */
		if (err == -ERANGE)
			v = UINT32_MAX;
		else if (err < 0) {
			why->reason = "Bad Expires";
			return 400;
		}
		dflt = v;
	}
	{
		char pbuf[REG_PATH_MAX];

		if (sip_msg_hdr(m, SIP_HDR_PATH) && !path_text(m, pbuf, sizeof(pbuf)).len) {
			why->reason = "Path Too Long";
			return 400;
		}
	}
	n = hdr_list_collect(m, SIP_HDR_CONTACT, &l, REG_MAX_CONTACTS);
	if (n < 0) {
		why->reason = "Too Many Contacts";
		return 400;
	}
	for (int i = 0; i < n; i++) {
		struct sip_addr a;
		struct sip_str val;
		int64_t exp;

		if (sip_addr_parse(l.e[i].s, &a) == -EBADMSG) {
			why->reason = "Bad Contact";
			return 400;
		}
		if (a.star) {
			rc->star = true;
			continue;
		}
		if (a.uri_str.len > REG_URI_MAX || !sip_str_utf8_valid(a.uri_str)) {
			why->reason = "Bad Contact";
			return 400;
		}
		exp = a.expires >= 0 ? a.expires : dflt;
		/* §10.3 step 7: too brief is refused (423), too long clamped. */
		if (exp > 0 && exp < cfg->registrar.min_expires) {
			snprintf(why->extra, sizeof(why->extra), "Min-Expires: %u\r\n",
				 cfg->registrar.min_expires);
			return 423;
		}
		if (exp > cfg->registrar.max_expires)
			exp = cfg->registrar.max_expires;
		rc->uri[rc->n] = a.uri_str;
		rc->expires[rc->n] = exp;
		rc->q[rc->n] = a.q >= 0 ? a.q : 1000;
		rc->instance[rc->n] = SIP_STR_NULL;
		if (sip_param_find(a.params, "+sip.instance", &val) && val.len &&
		    sip_str_utf8_valid(val))
			rc->instance[rc->n] = val;
		rc->reg_id_null[rc->n] = true;
		if (sip_param_find(a.params, "reg-id", &val) && sip_str_to_u32(val, &v) == 0) {
			rc->reg_id[rc->n] = v;
			rc->reg_id_null[rc->n] = false;
		}
		rc->n++;
	}
	/* §10.3 step 6: "*" only alone and with Expires: 0. */
	if (rc->star && (rc->n > 0 || n > 1 || !eh || dflt != 0)) {
		why->reason = "Invalid Contact *";
		return 400;
	}
	return 0;
}

unsigned registrar_check_aor(const struct config *cfg, struct sip_msg *m, struct reg_aor *a,
			     struct reg_refusal *why)
{
	const struct sip_addr *to = sip_msg_to(m);
	size_t dlen = to ? to->uri.host.len : 0;

	why->reason = NULL;
	why->extra[0] = '\0';
	/* §10.3 step 2 */
	for (const struct sip_hdr *h = sip_msg_hdr(m, SIP_HDR_REQUIRE); h;
	     h = sip_msg_hdr_next(m, h)) {
		struct sip_str cur = h->value, tag;

		while (sip_list_next(&cur, &tag)) {
			if (!reg_supported(tag)) {
				snprintf(why->extra, sizeof(why->extra), "Unsupported: %.*s\r\n",
					 SIP_STR_FMT(tag));
				return 420;
			}
		}
	}
	/* §10.3 step 5: the AOR is a SIP or SIPS URI (§10.2: "To ... the
	 * address of record ... a SIP or SIPS URI"; RFC 4475 §3.3.4 answers
	 * another scheme with 400), and it must be ours. */
	if (to && to->uri.scheme != SIP_URI_SIP && to->uri.scheme != SIP_URI_SIPS) {
		why->reason = "To Is Not a SIP URI";
		return 400;
	}
	if (!to || !to->uri.user.len || !config_is_domain(cfg, to->uri.host) ||
	    dlen >= sizeof(a->realm) || !sip_str_utf8_valid(to->uri.user))
		return 404;
	for (size_t i = 0; i < dlen; i++)
		a->realm[i] = sip_tolower(to->uri.host.p[i]);
	a->realm[dlen] = '\0';
	a->user = to->uri.user;
	if ((size_t)snprintf(a->aor, sizeof(a->aor), "sip:%.*s@%s", SIP_STR_FMT(to->uri.user),
			     a->realm) >= sizeof(a->aor))
		return 404;
	return 0;
}

/* The q-values as numeric text for the array parameter. */
static void q_texts(const struct reg_contacts *rc, char (*buf)[8], struct sip_str *out)
{
	for (unsigned i = 0; i < rc->n; i++) {
		int k = snprintf(buf[i], 8, "%d.%03d", (int)(rc->q[i] / 1000),
				 (int)(rc->q[i] % 1000));
		out[i] = sip_str_make(buf[i], (size_t)k);
	}
}

/* Queues the change of REGISTER m (from src) in the worker's batch;
 * registered() answers once it is committed. Returns 0, or -ENOMEM /
 * -ENOTCONN (in still the caller's, nothing queued). */
static int submit(struct reg_req *in, struct sip_msg *m, const struct sip_source *from,
		  struct sip_str aor, const struct reg_contacts *rc)
{
	struct worker *w = in->w;
	const struct sip_hdr *ua = sip_msg_hdr(m, SIP_HDR_USER_AGENT);
	char qbuf[REG_MAX_CONTACTS][8];
	struct sip_str qs[REG_MAX_CONTACTS];
	char received[NETADDR_STRLEN + 8];
	char pbuf[REG_PATH_MAX];
	struct sip_str path = stored_path(m, from, pbuf, sizeof(pbuf));
	struct sip_str star = rc->star ? SIP_STR("true") : SIP_STR("false");
	struct sip_str ua_text =
		ua ? sip_str_make(ua->value.p,
				  ua->value.len > REG_UA_MAX ? REG_UA_MAX : ua->value.len)
		   : SIP_STR_NULL;
	struct sip_str node = sip_str_cstr(worker_config(w)->node.name);
	struct sip_str call_id = sip_msg_call_id(m), src;
	int64_t cseq = sip_msg_cseq(m)->num, max = worker_config(w)->registrar.max_contacts,
		n = rc->n;
	struct reg_req *rq;
	struct store_op *op;
	int err = -ENOTCONN;
	size_t k;

	rq = malloc(sizeof(*rq));
	if (!rq)
		return -ENOMEM;
	*rq = *in;
	op = store_op_begin(worker_store(w), STORE_REGISTER, true, store_lock_key(aor.p, aor.len),
			    registered, rq, &err);
	if (!op) {
		free(rq);
		return err;
	}
	k = (size_t)snprintf(received, sizeof(received), "%s:", sip_proto_name(from->proto));
	k += netaddr_format(&from->remote, received + k, sizeof(received) - k);
	q_texts(rc, qbuf, qs);

	src = sip_str_make(received, k);
	if (!path.len)
		path = SIP_STR_NULL;

	/* junction_register_batch(): this REGISTER's share of each array. */
	store_op_param_text_array(op, &aor, 1);
	store_op_param_text_array(op, &call_id, 1);
	store_op_param_int_array(op, &cseq, NULL, 1);
	store_op_param_text_array(op, rc->uri, rc->n);
	store_op_param_int_array(op, rc->expires, NULL, rc->n);
	store_op_param_text_array(op, qs, rc->n);
	store_op_param_text_array(op, rc->instance, rc->n);
	store_op_param_int_array(op, rc->reg_id, rc->reg_id_null, rc->n);
	store_op_param_text_array(op, &star, 1);
	store_op_param_text_array(op, &src, 1);
	store_op_param_text_array(op, &path, 1);
	store_op_param_text_array(op, &ua_text, 1);
	store_op_param_text_array(op, &node, 1);
	store_op_param_int_array(op, &max, NULL, 1);
	store_op_param_int_array(op, &n, NULL, 1);
	return 0;
}

static void process(struct reg_req *rq, struct sip_msg *m);

/* The subscriber came from the database: the same REGISTER again. */
static void fetched(struct worker *w, void *arg, int err)
{
	struct reg_req *rq = arg;
	struct sip_msg m;

	(void)w;
	if (worker_reparse(rq->w, rq->job, &m) < 0) {
		reg_done(rq);
	} else if (err) {
		reply_db_down(rq, &m);
		reg_done(rq);
	} else {
		rq->job->replays++;
		process(rq, &m);
	}
	free(rq);
}

/* Everything after the transaction; finishes with rq->job (answered, or
 * handed to a database round trip). rq itself stays the caller's. */
static void process(struct reg_req *rq, struct sip_msg *m)
{
	struct worker *w = rq->w;
	struct reg_refusal why;
	struct reg_contacts rc;
	struct reg_aor a;
	struct sip_str realm;
	unsigned status;

	status = registrar_check_aor(worker_config(w), m, &a, &why);
	if (status) {
		reply(rq, m, status, why.reason, why.extra[0] ? why.extra : NULL);
		reg_done(rq);
		return;
	}
	realm = sip_str_cstr(a.realm);

	/* §10.3 steps 3-4 */
	if (worker_config(w)->auth.mode == AUTH_MODE_LOCAL ||
	    worker_config(w)->auth.mode == AUTH_MODE_HTTP) {
		struct auth_outcome ao;
		char challenge[1024];

		auth_check_job(w, rq->job, m, false, realm, clock_now_ms(), &ao);
		if (ao.verdict == AUTH_DUPLICATE) {
			/* A copy of a REGISTER whose credentials the service is
			 * being asked about (no transaction absorbed it): the
			 * first copy is answered. */
			reg_done(rq);
			return;
		}
		if (ao.verdict == AUTH_ASK) {
			/* [auth] mode = http: this REGISTER runs again (fetched())
			 * once the service answered, its job kept meanwhile. */
			struct reg_req *cont = malloc(sizeof(*cont));
			const char *reason, *extra;
			int err = -ENOMEM;

			if (cont) {
				*cont = *rq;
				err = auth_ask(w, rq->job, m, false, realm, fetched, cont);
			}
			if (err == 0)
				return;
			free(cont);
			status = auth_ask_refused(w, err, &reason, &extra);
			reply(rq, m, status, reason, extra);
			reg_done(rq);
			return;
		}
		if (ao.verdict == AUTH_REJECT) {
			/* The service's 403 (RFC 3261 §22.2: not to be retried
			 * with the same credentials), a failure for the bans. */
			auth_failed(w, rq->job, &ao, realm);
			reply(rq, m, 403, NULL, NULL);
			reg_done(rq);
			return;
		}
		if (ao.verdict == AUTH_UNAVAILABLE) {
			reply(rq, m, 503, "Authentication Unavailable", AUTH_HTTP_RETRY_AFTER);
			reg_done(rq);
			return;
		}
		if (ao.verdict == AUTH_BANNED) {
			/* A 403 (not silence, whatever ban_action says): the
			 * user's own phones stop retrying. */
			ctr_inc(worker_counters(w), CTR_BANNED_DROPPED);
			reply(rq, m, 403, "User Banned", NULL);
			reg_done(rq);
			return;
		}
		if (ao.verdict == AUTH_NEED_USER) {
			struct reg_req *cont = malloc(sizeof(*cont));

			/* Fetched once; a second miss (the cache could not keep
			 * it) is the database's trouble, not the user's. */
			if (!cont || rq->job->replays > 0 ||
			    auth_fetch(w, ao.username, realm, fetched, cont) < 0) {
				free(cont);
				reply_db_down(rq, m);
				reg_done(rq);
				return;
			}
			*cont = *rq;
			return;
		}
		if (ao.verdict == AUTH_CHALLENGE) {
			if (!auth_challenge(false, realm, ao.stale, &rq->job->src.remote, challenge,
					    sizeof(challenge))) {
				reply(rq, m, 500, NULL, NULL);
				reg_done(rq);
				return;
			}
			log_debug("event=auth_challenge method=REGISTER aor=%s why=\"%s\"", a.aor,
				  ao.why);
			ctr_inc(worker_counters(w), CTR_AUTH_CHALLENGES);
			if (ao.presented && !ao.stale)
				auth_failed(w, rq->job, &ao, realm);
			reply(rq, m, 401, NULL, challenge);
			reg_done(rq);
			return;
		}
		if (worker_config(w)->auth.aor_owner && !sip_str_eq(ao.username, a.user)) {
			ctr_inc(worker_counters(w), CTR_AUTH_FAILURES);
			reply(rq, m, 403, "Not Owner of AOR", NULL);
			reg_done(rq);
			return;
		}
	}
	status = registrar_read_contacts(worker_config(w), m, &rc, &why);
	if (status) {
		reply(rq, m, status, why.reason, why.extra[0] ? why.extra : NULL);
		reg_done(rq);
		return;
	}
	if (submit(rq, m, &rq->job->src, sip_str_cstr(a.aor), &rc) < 0) {
		reply_db_down(rq, m);
		reg_done(rq);
	}
}

/* The expiry the back end granted contact uri in its 2xx resp: the
 * expires parameter of resp's Contact for uri, else resp's Expires, else
 * asked (RFC 3261 §10.2.4: the registrar's answer is what holds). */
static int64_t granted_expires(struct sip_msg *resp, struct sip_str uri, int64_t asked)
{
	const struct sip_hdr *eh = sip_msg_hdr(resp, SIP_HDR_EXPIRES);
	struct hdr_list l;
	struct sip_uri want;
	uint32_t v;
	int n = hdr_list_collect(resp, SIP_HDR_CONTACT, &l, REG_MAX_CONTACTS);

	for (int i = 0; i < n && sip_uri_parse(uri, &want) == 0; i++) {
		struct sip_addr a;

		if (sip_addr_parse(l.e[i].s, &a) == 0 && !a.star && a.expires >= 0 &&
		    sip_uri_equal(&a.uri, &want))
			return a.expires;
	}
	if (eh && sip_str_to_u32(eh->value, &v) == 0)
		return v;
	return asked;
}

unsigned registrar_commit(struct worker *w, struct sip_msg *req, const struct sip_source *src,
			  struct sip_msg *resp, registrar_committed_fn done, void *arg)
{
	const struct config *cfg = worker_config(w);
	struct reg_req rq = {.w = w, .done = done, .done_arg = arg};
	struct reg_refusal why;
	struct reg_contacts rc;
	struct reg_aor a;
	unsigned status;

	status = registrar_check_aor(cfg, req, &a, &why);
	if (!status)
		status = registrar_read_contacts(cfg, req, &rc, &why);
	if (status)
		return status;
	for (unsigned i = 0; i < rc.n; i++) {
		if (rc.expires[i] == 0)
			continue; /* a removal stays one */
		rc.expires[i] = granted_expires(resp, rc.uri[i], rc.expires[i]);
		if (rc.expires[i] > cfg->registrar.max_expires)
			rc.expires[i] = cfg->registrar.max_expires;
	}
	/* Before the 2xx goes back: a call that follows it must not find the
	 * old bindings in this node's cache. */
	location_forget(sip_msg_to(req)->uri.user, sip_msg_to(req)->uri.host);
	return submit(&rq, req, src, sip_str_cstr(a.aor), &rc) < 0 ? 503 : 0;
}

bool registrar_request(struct worker *w, struct sip_job *job, struct sip_msg *m)
{
	struct reg_req rq = {.w = w, .job = job, .st = NULL};
	int err = -ENOMEM;

	if (!worker_store(w)) {
		/* No database, no registrar. What is wrong with the REGISTER
		 * itself is still said first, as those steps need no data
		 * (§10.3 steps 2, 5 and 6; RFC 4475 §3.1.2.13). */
		struct reg_refusal why;
		struct reg_contacts rc;
		struct reg_aor a;
		unsigned status = registrar_check_aor(worker_config(w), m, &a, &why);

		if (status == 0)
			status = registrar_read_contacts(worker_config(w), m, &rc, &why);
		if (status == 400 || status == 420)
			worker_reply(w, m, &job->src, status, why.reason,
				     why.extra[0] ? why.extra : NULL);
		else
			worker_reply(w, m, &job->src, 403, "Registrar Not Configured", NULL);
		return false;
	}
	if (worker_txn(w)) {
		rq.st = stx_new(worker_txn(w), job, m, NULL, NULL, &err);
		if (!rq.st) {
			worker_reply(w, m, &job->src, 503,
				     err == -EBUSY ? "Too Many Transactions" : NULL,
				     "Retry-After: 1\r\n");
			return false;
		}
	}
	/* From here the job is the registrar's (or its transaction's): it is
	 * freed when answered, whenever that is. */
	process(&rq, m);
	return true;
}
