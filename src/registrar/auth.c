/*
 * auth: see auth.h.
 *
 * Verification order matters for what an attacker can learn: the nonce's
 * MAC is checked first (a forged nonce costs nothing), then the response
 * against the HA1 (unknown users compare against nothing and fail the same
 * way), and only a correct response can earn stale=true or touch the
 * nonce-count table, so neither reveals anything to someone without the
 * password.
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
	if (cfg->auth.mode != AUTH_MODE_LOCAL || !cfg->auth.secret[0])
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

	memset(out, 0, sizeof(*out));
	if (!key) {
		challenge(out, false, "no secret");
		return;
	}
	if (!find_credentials(m, proxy, realm, &c)) {
		challenge(out, false, "no credentials");
		return;
	}
	out->presented = true;
	out->username = c.username;
	if (!c.username.len || !c.nonce.len || !c.response.len || !c.uri.len || c.userhash) {
		challenge(out, false, "incomplete credentials");
		return;
	}
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
	/* RFC 7616 §3.3: each nonce-count once. Without qop (RFC 2069) the
	 * nonce itself is single use: nc 1. */
	rc = nonce_nc_check(nc_table, c.nonce, nc, now_s);
	if (rc < 0) {
		challenge(out, true,
			  rc == -EALREADY ? "nonce-count replayed" : "nonce-count forgotten");
		return;
	}
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
