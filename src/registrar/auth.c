/*
 * auth: see auth.h.
 *
 * Verification order matters for what an attacker can learn: the nonce's
 * MAC is checked first (a forged nonce costs nothing), then the response
 * against the HA1 (unknown users compare against nothing and fail the same
 * way), and only a correct response can earn stale=true or touch the
 * nonce-count table, so neither reveals anything to someone without the
 * password.
 *
 * [auth] mode = http keeps that order for everything it can check
 * alone and puts the service where the HA1 comparison was: a request
 * that fails the local checks is challenged without a round trip, and
 * the service sees only credentials that are fresh, scoped to their
 * client and not replayed. The one difference: a stale nonce or a
 * replayed nonce-count is answered stale=true before the response is
 * known (the service would have to be asked to know it), which tells a
 * client without the password nothing it did not know.
 */
#include "registrar/auth.h"
#include "runtime/counters.h"

#include "base/clock.h"
#include "base/log.h"
#include "base/siphash.h"
#include "config/config.h"
#include "registrar/digest.h"
#include "registrar/nonce.h"
#include "registrar/subcache.h"
#include "runtime/queue.h"
#include "runtime/worker.h"
#include "security/ban.h"
#include "sip/hdr_list.h"
#include "sip/msg_edit.h"
#include "store/store.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define AUTH_NC_ENTRIES (256 * 1024)

static const struct config *acfg;
static struct nonce_key *key;
static struct nonce_nc_table *nc_table;
static struct siphash_key scope_key; /* scope_of() */

int auth_init(const struct config *cfg)
{
	static const struct siphash_key fixed = {0x6a756e6374696f6eULL, 0x6e6f6e636573636fULL};

	acfg = cfg;
	scope_key.k0 = siphash(&fixed, cfg->node.name, strlen(cfg->node.name));
	scope_key.k1 = fixed.k1;
	if ((cfg->auth.mode != AUTH_MODE_LOCAL && cfg->auth.mode != AUTH_MODE_HTTP) ||
	    !cfg->auth.secret[0])
		return 0;
	key = nonce_key_new(cfg->auth.secret);
	nc_table = nonce_nc_table_new(AUTH_NC_ENTRIES, cfg->auth.nonce_lifetime);
	if (!key || !nc_table)
		return -ENOMEM;
	return 0;
}

void auth_destroy(void)
{
	nonce_key_free(key);
	nonce_nc_table_free(nc_table);
	key = NULL;
	nc_table = NULL;
}

/* Only what we offer is accepted: taking MD5 from a client when the
 * operator turned it off would undo the choice. */
static bool offered(enum digest_alg alg)
{
	for (unsigned i = 0; i < acfg->auth.nalgorithms; i++)
		if ((acfg->auth.algorithms[i] ? DIGEST_SHA256 : DIGEST_MD5) == alg)
			return true;
	return false;
}

static void challenge(struct auth_outcome *out, bool stale, const char *why)
{
	/* presented is kept: set once credentials were found */
	out->verdict = AUTH_CHALLENGE;
	out->stale = stale;
	out->why = why;
}

/* The realm of a credentials header must be ours exactly (RFC 7616 §3.4:
 * the realm the server sent); domains compare case-insensitively. */
static bool find_credentials(struct sip_msg *m, bool proxy, struct sip_str realm,
			     struct sip_digest_cred *c)
{
	enum sip_hdr_id id = proxy ? SIP_HDR_PROXY_AUTHORIZATION : SIP_HDR_AUTHORIZATION;

	for (const struct sip_hdr *h = sip_msg_hdr(m, id); h; h = sip_msg_hdr_next(m, h)) {
		if (sip_digest_cred_parse(h->value, c) == 0 && sip_str_caseeq(c->realm, realm))
			return true;
	}
	return false;
}

/* RFC 7616 §3.3: each nonce-count once (without qop, RFC 2069, the nonce
 * itself is single use: nc 1). False with out set to a stale challenge
 * when this one was used or forgotten. */
static bool nc_taken(struct sip_str nonce, uint32_t nc, uint64_t now_s, struct auth_outcome *out)
{
	int rc = nonce_nc_check(nc_table, nonce, nc, now_s);

	if (rc < 0)
		challenge(out, true,
			  rc == -EALREADY ? "nonce-count replayed" : "nonce-count forgotten");
	return rc == 0;
}

/* The credentials of m for realm (*c), checked for what every mode needs
 * before anything else; false with out set to a challenge when there are
 * none to check (out is cleared first). */
static bool credentials_of(struct sip_msg *m, bool proxy, struct sip_str realm,
			   struct sip_digest_cred *c, struct auth_outcome *out)
{
	memset(out, 0, sizeof(*out));
	if (!key) {
		challenge(out, false, "no secret");
		return false;
	}
	if (!find_credentials(m, proxy, realm, c)) {
		challenge(out, false, "no credentials");
		return false;
	}
	out->presented = true;
	out->username = c->username;
	if (!c->username.len || !c->nonce.len || !c->response.len || !c->uri.len || c->userhash) {
		challenge(out, false, "incomplete credentials");
		return false;
	}
	return true;
}

/* Whom a nonce is for: this node and the client's address (not its port,
 * which a TCP client changes), hashed with scope_key, which auth_init()
 * derives from the node's name: every node has its own, and a restart
 * keeps it. The MAC makes a scope unforgeable; the hash only has to tell
 * them apart. */
static uint32_t scope_of(const struct netaddr *src)
{
	uint8_t host[16];
	int fam = netaddr_host_key(src, host);

	return (uint32_t)siphash(&scope_key, host, fam == AF_INET ? 4 : 16);
}

/* Is the credentials' uri the Request-URI (RFC 3261 §22.4; RFC 7616
 * §3.4.6)? The same text, or the same URI by §19.1.4's rules. */
static bool uri_matches(struct sip_msg *m, struct sip_str uri)
{
	struct sip_uri a;

	if (sip_str_eq(uri, m->ruri))
		return true;
	return sip_uri_parse(uri, &a) == 0 && sip_uri_equal(&a, sip_msg_ruri(m));
}

void auth_check(struct sip_msg *m, const struct netaddr *src, bool proxy, struct sip_str realm,
		uint64_t now_ms, struct auth_outcome *out)
{
	struct sip_digest_cred c;
	struct subscriber sub;
	enum digest_alg alg;
	char expected[DIGEST_HEX_MAX + 1];
	const char *ha1;
	uint64_t now_s = clock_wall_s(); /* nonces are checked on other nodes too */
	uint32_t nc = 1;
	bool stale = false;
	int rc;

	if (!credentials_of(m, proxy, realm, &c, out))
		return;
	if (ban_user_banned(c.username, realm, clock_wall_ms())) {
		out->verdict = AUTH_BANNED;
		out->why = "user banned";
		return;
	}
	/* Credentials for another target are not for this request, whoever
	 * captured them. */
	if (!uri_matches(m, c.uri)) {
		challenge(out, false, "uri mismatch");
		return;
	}
	if (digest_alg_parse(c.algorithm, &alg) < 0 || !offered(alg)) {
		challenge(out, false, "algorithm");
		return;
	}
	if (c.qop.len) {
		/* We offer qop=auth only (RFC 7616 §3.4: nc and cnonce then). */
		if (!sip_str_caseeq_cstr(c.qop, "auth") || !c.cnonce.len ||
		    nonce_nc_parse(c.nc, &nc) < 0) {
			challenge(out, false, "qop");
			return;
		}
	}
	rc = nonce_verify(key, c.nonce, realm, scope_of(src), now_s, acfg->auth.nonce_lifetime);
	if (rc == -ESTALE)
		stale = true;
	else if (rc < 0) {
		challenge(out, false, "nonce");
		return;
	}
	if (subcache_get(c.username, realm, now_ms, &sub) < 0) {
		out->verdict = AUTH_NEED_USER;
		out->username = c.username;
		return;
	}
	/* Unknown and disabled users compute nothing and fail like a wrong
	 * password: the same fresh challenge. */
	if (!sub.exists || !sub.enabled) {
		challenge(out, false, sub.exists ? "disabled" : "unknown user");
		return;
	}
	ha1 = alg == DIGEST_SHA256 ? sub.ha1_sha256 : sub.ha1_md5;
	if (digest_response(alg, sip_str_cstr(ha1), c.nonce, c.nc, c.cnonce, c.qop, m->method,
			    c.uri, expected) < 0 ||
	    !digest_equal_hex(expected, c.response)) {
		challenge(out, false, "wrong response");
		return;
	}
	if (stale) {
		challenge(out, true, "stale nonce");
		return;
	}
	if (!nc_taken(c.nonce, nc, now_s, out))
		return;
	out->verdict = AUTH_PASS;
	out->username = c.username;
}

size_t auth_challenge(bool proxy, struct sip_str realm, bool stale, const struct netaddr *src,
		      char *buf, size_t cap)
{
	const char *name = proxy ? "Proxy-Authenticate" : "WWW-Authenticate";
	char nonce[NONCE_LEN + 1];
	size_t n = 0;

	if (!key || nonce_make(key, realm, scope_of(src), clock_wall_s(), nonce) < 0)
		return 0;
	/* One challenge per algorithm, in the configured order of preference
	 * (RFC 8760 §2.4), sharing one nonce. */
	for (unsigned i = 0; i < acfg->auth.nalgorithms; i++) {
		enum digest_alg alg = acfg->auth.algorithms[i] ? DIGEST_SHA256 : DIGEST_MD5;
		int k = snprintf(buf + n, cap - n,
				 "%s: Digest realm=\"%.*s\", nonce=\"%s\", qop=\"auth\", "
				 "algorithm=%s%s\r\n",
				 name, SIP_STR_FMT(realm), nonce, digest_alg_name(alg),
				 stale ? ", stale=true" : "");
		if (k < 0 || (size_t)k >= cap - n)
			return 0;
		n += (size_t)k;
	}
	return n;
}

void auth_failed(struct worker *w, const struct sip_job *job, const struct auth_outcome *ao,
		 struct sip_str realm)
{
	ctr_inc(worker_counters(w), CTR_AUTH_FAILURES);
	if (!job->trusted &&
	    ban_auth_failed(&job->src.remote, ao->username, realm, clock_wall_ms()))
		ctr_inc(worker_counters(w), CTR_BANS_AUTH);
}

/* ---- fetching a subscriber ---------------------------------------------- */

struct fetch {
	struct worker *w;
	void (*done)(struct worker *w, void *arg, int err);
	void *arg;
	char user[128];
	char domain[128];
};

static void hex_copy(char *dst, size_t cap, struct sip_str v)
{
	size_t n = v.len < cap - 1 ? v.len : cap - 1;

	memcpy(dst, v.p ? v.p : "", n);
	dst[n] = '\0';
}

static void fetched(void *arg, int err, const struct store_result *r)
{
	struct fetch *f = arg;
	struct subscriber sub = {.exists = false};

	if (err == 0) {
		if (store_result_rows(r) > 0) {
			sub.exists = true;
			hex_copy(sub.ha1_md5, sizeof(sub.ha1_md5), store_result_get(r, 0, 0));
			hex_copy(sub.ha1_sha256, sizeof(sub.ha1_sha256), store_result_get(r, 0, 1));
			sub.enabled = store_result_get(r, 0, 2).len &&
				      store_result_get(r, 0, 2).p[0] == 't';
		}
		subcache_put(sip_str_cstr(f->user), sip_str_cstr(f->domain), &sub, clock_now_ms());
	}
	f->done(f->w, f->arg, err);
	free(f);
}

int auth_fetch(struct worker *w, struct sip_str username, struct sip_str realm,
	       void (*done)(struct worker *w, void *arg, int err), void *arg)
{
	struct store_op *op;
	struct fetch *f;
	int err = -ENOTCONN;

	if (!worker_store(w))
		return -ENOTCONN;
	if (username.len >= sizeof(f->user) || realm.len >= sizeof(f->domain))
		return -EINVAL;
	f = malloc(sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->w = w;
	f->done = done;
	f->arg = arg;
	memcpy(f->user, username.p, username.len);
	f->user[username.len] = '\0';
	memcpy(f->domain, realm.p, realm.len);
	f->domain[realm.len] = '\0';
	op = store_op_begin(worker_store(w), STORE_SUBSCRIBER, false, 0, fetched, f, &err);
	if (!op) {
		free(f);
		return err;
	}
	store_op_param_str(op, username);
	store_op_param_str(op, realm);
	return 0;
}

/* The replay continuation: the job goes through the worker again. */
static void replay(struct worker *w, void *arg, int err)
{
	struct sip_job *job = arg;
	struct sip_msg m;

	if (err == 0) {
		worker_resume(w, job);
		return;
	}
	if (worker_reparse(w, job, &m) == 0)
		worker_reply_db_unavailable(w, &m, &job->src);
	job_free(job);
}

bool auth_fetch_subscriber(struct worker *w, struct sip_job *job, struct sip_msg *m,
			   struct sip_str username, struct sip_str realm)
{
	if (job->replays > 0 || auth_fetch(w, username, realm, replay, job) < 0) {
		worker_reply_db_unavailable(w, m, &job->src);
		return false;
	}
	job->replays++;
	return true;
}

/* ---- [auth] mode = http ------------------------------------------------ */

/* When a nonce was issued (nonce.h: its first 12 hex digits, seconds). */
static bool nonce_issued(struct sip_str nonce, uint64_t *t)
{
	uint64_t v = 0;

	if (nonce.len != NONCE_LEN)
		return false;
	for (size_t i = 0; i < 12; i++) {
		char ch = nonce.p[i];

		if (ch >= '0' && ch <= '9')
			v = v << 4 | (uint64_t)(ch - '0');
		else if (ch >= 'a' && ch <= 'f')
			v = v << 4 | (uint64_t)(ch - 'a' + 10);
		else
			return false;
	}
	*t = v;
	return true;
}

static int cred_key(const struct sip_digest_cred *c, struct httpauth_key *k)
{
	return httpauth_key_make(k, c->username, c->realm, c->nonce, c->nc, c->cnonce, c->response);
}

/* Is c's response the one ha1 gives for m (RFC 7616 §3.4.1)? */
static bool response_from(struct sip_msg *m, const struct sip_digest_cred *c, enum digest_alg alg,
			  const char *ha1)
{
	char expected[DIGEST_HEX_MAX + 1];

	return digest_response(alg, sip_str_cstr(ha1), c->nonce, c->nc, c->cnonce, c->qop,
			       m->method, c->uri, expected) == 0 &&
	       digest_equal_hex(expected, c->response);
}

/* The service's answer to c, on the run of the request that asked. An
 * acceptance puts the nonce in the positive cache until it goes stale:
 * with the service's HA1 when that HA1 gives this very response (one
 * that does not is the service's mistake, another algorithm's or realm's
 * HA1, and would refuse the user's next requests: not kept, the 200
 * stands). */
static void answered(struct worker *w, struct sip_msg *m, const struct sip_digest_cred *c,
		     struct sip_str realm, const struct httpauth_answer *ans,
		     struct auth_outcome *out)
{
	static _Thread_local struct log_rate bad_ha1_log;
	struct counters *ctr = worker_counters(w);
	enum digest_alg alg = DIGEST_MD5;
	unsigned unlogged;
	uint64_t issued;

	if (ans->verdict == HTTPAUTH_REJECT) {
		ctr_inc(ctr, CTR_AUTH_HTTP_REJECTED);
		out->verdict = AUTH_REJECT;
		out->why = "refused by the service";
		return;
	}
	if (ans->verdict != HTTPAUTH_ACCEPT) {
		ctr_inc(ctr, CTR_AUTH_HTTP_FAILED);
		out->verdict = AUTH_UNAVAILABLE;
		out->why = "service unavailable";
		return;
	}
	ctr_inc(ctr, CTR_AUTH_HTTP_ACCEPTED);
	out->verdict = AUTH_PASS;
	if (digest_alg_parse(c->algorithm, &alg) < 0 || !nonce_issued(c->nonce, &issued))
		return; /* (checked before it was asked) */
	if (!ans->ha1[0]) {
		httpauth_cache_put(c->username, realm, c->nonce, issued + acfg->auth.nonce_lifetime,
				   alg, NULL);
	} else if (response_from(m, c, alg, ans->ha1)) {
		httpauth_cache_put(c->username, realm, c->nonce, issued + acfg->auth.nonce_lifetime,
				   alg, ans->ha1);
	} else if (log_rate_ok(&bad_ha1_log, clock_now_ms(), 1, &unlogged)) {
		log_warn("event=auth_http_bad_ha1 unlogged=%u detail=\"the ha1 the service "
			 "returned does not give the response it accepted: not cached\"",
			 unlogged);
	}
}

static void check_http(struct worker *w, const struct sip_job *job, struct sip_msg *m, bool proxy,
		       struct sip_str realm, struct auth_outcome *out)
{
	struct sip_digest_cred c;
	struct httpauth_answer ans;
	struct httpauth_cached hit;
	struct httpauth_key k;
	enum digest_alg alg;
	uint64_t now_s = clock_wall_s();
	uint32_t nc = 1;
	int rc;

	if (!credentials_of(m, proxy, realm, &c, out))
		return;
	if (!uri_matches(m, c.uri)) {
		challenge(out, false, "uri mismatch");
		return;
	}
	if (cred_key(&c, &k) < 0) {
		challenge(out, false, "credentials too long");
		return;
	}
	/* Before the nonce-count: the run with the answer, and a copy of
	 * the request that is being asked about, would fail it. */
	switch (httpauth_table_take(&k, job, clock_now_ms(), &ans)) {
	case HTTPAUTH_ANSWERED:
		answered(w, m, &c, realm, &ans, out);
		return;
	case HTTPAUTH_BUSY:
		out->verdict = AUTH_DUPLICATE;
		out->why = "being asked";
		return;
	case HTTPAUTH_NONE:
		break;
	}
	if (ban_user_banned(c.username, realm, clock_wall_ms())) {
		out->verdict = AUTH_BANNED;
		out->why = "user banned";
		return;
	}
	if (digest_alg_parse(c.algorithm, &alg) < 0 || !offered(alg)) {
		challenge(out, false, "algorithm");
		return;
	}
	if (c.qop.len && (!sip_str_caseeq_cstr(c.qop, "auth") || !c.cnonce.len ||
			  nonce_nc_parse(c.nc, &nc) < 0)) {
		challenge(out, false, "qop");
		return;
	}
	/* Stale at once (see the top of this file): a nonce that must be
	 * renewed anyway is not worth a round trip, and stale=true spares
	 * the user a prompt (RFC 7616 §3.3); a wrong password meets the
	 * service on the next try. Not a failure (phones reuse their last
	 * nonce), as in local mode. */
	rc = nonce_verify(key, c.nonce, realm, scope_of(&job->src.remote), now_s,
			  acfg->auth.nonce_lifetime);
	if (rc == -ESTALE) {
		challenge(out, true, "stale nonce");
		return;
	}
	if (rc < 0) {
		challenge(out, false, "nonce");
		return;
	}
	/* RFC 7616 §3.3, before asking: a replay costs no round trip. The
	 * count is taken here, once; the run with the answer skips it. */
	if (!nc_taken(c.nonce, nc, now_s, out))
		return;
	/* A nonce the service accepted: with its HA1, the response is
	 * checked here in full; without, its username and scope are all
	 * there is to go on (junction(8) recommends returning ha1). Another
	 * algorithm than the cached HA1's is asked about. */
	if (httpauth_cache_get(c.username, realm, c.nonce, now_s, &hit) == 0 &&
	    (!hit.has_ha1 || hit.alg == alg)) {
		if (hit.has_ha1 && !response_from(m, &c, alg, hit.ha1)) {
			challenge(out, false, "wrong response (cached ha1)");
			return;
		}
		ctr_inc(worker_counters(w), CTR_AUTH_HTTP_CACHED);
		out->verdict = AUTH_PASS;
		return;
	}
	out->verdict = AUTH_ASK;
}

void auth_check_job(struct worker *w, const struct sip_job *job, struct sip_msg *m, bool proxy,
		    struct sip_str realm, uint64_t now_ms, struct auth_outcome *out)
{
	if (acfg->auth.mode == AUTH_MODE_HTTP)
		check_http(w, job, m, proxy, realm, out);
	else
		auth_check(m, &job->src.remote, proxy, realm, now_ms, out);
}

int auth_ask(struct worker *w, struct sip_job *job, struct sip_msg *m, bool proxy,
	     struct sip_str realm, httpauth_done_fn done, void *arg)
{
	struct sip_str contact[HDR_LIST_MAX];
	char source[NETADDR_STRLEN + 8];
	struct sip_digest_cred c;
	struct httpauth_request r;
	struct httpauth_key k;
	const struct sip_addr *aor;
	struct hdr_list l;
	enum digest_alg alg;
	size_t sn;
	ssize_t n;
	int nct;

	if (!find_credentials(m, proxy, realm, &c) || digest_alg_parse(c.algorithm, &alg) < 0)
		return -EINVAL; /* (auth_check_job() said AUTH_ASK for them) */
	if (cred_key(&c, &k) < 0)
		return -ENAMETOOLONG;
	nct = hdr_list_collect(m, SIP_HDR_CONTACT, &l, HDR_LIST_MAX);
	if (nct < 0)
		return -EMSGSIZE;
	for (int i = 0; i < nct; i++)
		contact[i] = l.e[i].s;
	aor = m->method_id == SIP_METHOD_REGISTER ? sip_msg_to(m) : sip_msg_from(m);
	sn = (size_t)snprintf(source, sizeof(source), "%s:", sip_proto_name(job->src.proto));
	sn += netaddr_format(&job->src.remote, source + sn, sizeof(source) - sn);
	r = (struct httpauth_request){
		.username = c.username,
		.realm = c.realm,
		.nonce = c.nonce,
		.uri = c.uri,
		.response = c.response,
		.algorithm = sip_str_cstr(digest_alg_name(alg)),
		.qop = c.qop,
		.nc = c.nc,
		.cnonce = c.cnonce,
		.opaque = c.opaque,
		.method = m->method,
		.request_uri = m->ruri,
		.aor = aor ? aor->uri_str : SIP_STR_NULL,
		.source = sip_str_make(source, sn),
		.contact = contact,
		.ncontact = (unsigned)nct,
	};
	/* Built in the worker's scratch (nothing is being sent now) and
	 * copied into the request. */
	n = httpauth_json_request(&r, worker_out(w), worker_out_cap(w));
	if (n < 0)
		return (int)n;
	return httpauth_ask(w, &k, job, alg, worker_out(w), (size_t)n, done ? NULL : job, done,
			    arg);
}

unsigned auth_ask_refused(struct worker *w, int err, const char **reason, const char **extra)
{
	if (err == -EILSEQ || err == -ENOSPC || err == -EMSGSIZE || err == -ENAMETOOLONG ||
	    err == -EINVAL) {
		*reason = err == -EILSEQ ? "Not UTF-8" : NULL;
		*extra = NULL;
		return 400;
	}
	ctr_inc(worker_counters(w), CTR_AUTH_HTTP_FAILED);
	*reason = "Authentication Service Busy";
	*extra = "Retry-After: 1\r\n";
	return 503;
}

/* ---- relaying --------------------------------------------------------- */

int auth_consume_credentials(struct sip_msg *m, struct msg_edits *ed)
{
	for (const struct sip_hdr *h = sip_msg_hdr(m, SIP_HDR_PROXY_AUTHORIZATION); h;
	     h = sip_msg_hdr_next(m, h)) {
		struct sip_digest_cred c;

		if (sip_digest_cred_parse(h->value, &c) == 0 && config_is_domain(acfg, c.realm)) {
			int rc = msg_edit_delete(ed, h->start, h->end - h->start);
			if (rc < 0)
				return rc;
		}
	}
	return 0;
}
