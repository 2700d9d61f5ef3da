/*
 * registrar: REGISTER for the served domains (RFC 3261 §10.3), bindings
 * stored in PostgreSQL. See registrar.c.
 */
#ifndef JCT_REGISTRAR_H
#define JCT_REGISTRAR_H

#include "config/config.h"
#include "runtime/worker.h"
#include "sip/hdr_list.h"

#define REG_MAX_CONTACTS HDR_LIST_MAX
#define REG_AOR_MAX      300

/* The AOR a REGISTER is for (RFC 3261 §10.3 step 5). */
struct reg_aor {
	char aor[REG_AOR_MAX];    /* "sip:user@domain", domain lowercase */
	char realm[CFG_NAME_MAX]; /* the domain, lowercase: the digest realm */
	struct sip_str user;      /* points into the message */
};

/* The Contacts of a REGISTER, checked (§10.3 steps 6-7). */
struct reg_contacts {
	unsigned n;
	bool star;
	struct sip_str uri[REG_MAX_CONTACTS];
	int64_t expires[REG_MAX_CONTACTS]; /* clamped; 0 removes */
	int64_t q[REG_MAX_CONTACTS];       /* thousandths */
	struct sip_str instance[REG_MAX_CONTACTS];
	int64_t reg_id[REG_MAX_CONTACTS];
	bool reg_id_null[REG_MAX_CONTACTS];
};

/* A refusal: the status, its reason (NULL: standard) and header lines. */
struct reg_refusal {
	const char *reason;
	char extra[256];
};

/* Steps 2 (Require) and 5 (the AOR must be a SIP URI of our domains).
 * Returns 0 or the status to answer (420, 400 for another scheme, 404). */
unsigned registrar_check_aor(const struct config *cfg, struct sip_msg *m, struct reg_aor *a,
			     struct reg_refusal *why);

/* Steps 6 and 7 without data: Contacts, "*", Expires (423 below
 * min_expires, clamped to max_expires, default_expires when absent), q,
 * +sip.instance and reg-id. Returns 0 or the status to answer (400, 423). */
unsigned registrar_read_contacts(const struct config *cfg, struct sip_msg *m,
				 struct reg_contacts *rc, struct reg_refusal *why);

/* The outcome of registrar_commit(): 0 when the bindings are committed,
 * else the status to answer instead of the back end's 2xx (403: too many
 * contacts, 500: out of order or not stored, 503: database down). */
typedef void (*registrar_committed_fn)(struct worker *w, void *arg, unsigned status);

/*
 * [auth] mode = delegate (proxy/delegate.c): stores the bindings of
 * REGISTER req, received from src, that the back end accepted with its
 * 2xx resp, each with the expiry the back end granted (its Contact's
 * expires parameter, else its Expires, else the one asked for; at most
 * max_expires). The rest is §10.3 on the stored state, as for a REGISTER
 * Junction authenticated. req and resp are borrowed for the call. Calls
 * done(w, arg, status) once committed or failed, from the worker's loop.
 * Returns 0, or the status to answer now (done is not called).
 */
unsigned registrar_commit(struct worker *w, struct sip_msg *req, const struct sip_source *src,
			  struct sip_msg *resp, registrar_committed_fn done, void *arg);

/* The Path value ("<sip:...>") through which a binding made over src is
 * reached, into buf[0..cap): its length, or 0 when src needs none (any
 * node reaches its Contact). A connection only this node holds (a
 * WebSocket, RFC 7118) needs one, as a flow behind an edge proxy does
 * (RFC 5626 §5.1); the proxy layer knows the node's addresses and gives
 * the function at start, before any worker runs. */
typedef size_t (*registrar_flow_path_fn)(const struct sip_source *src, char *buf, size_t cap);
void registrar_set_flow_path(registrar_flow_path_fn fn);

/* Handles a REGISTER whose Request-URI is one of our domains. Takes the
 * job (returns true), except when it could not even start (no registrar
 * configured, transaction table full): answered, false, the job stays the
 * caller's. */
bool registrar_request(struct worker *w, struct sip_job *job, struct sip_msg *m);

#endif
