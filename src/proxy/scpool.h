/*
 * scpool: the Session Controller pools (the back-end SIP Servers) as this
 * node sees them, and the choice of one for a new session.
 *
 * The servers come from the sip_server table (store_bg reloads it on
 * every NOTIFY); scpool_load() keeps the state of every server whose name
 * and URI did not change, so a reload never forgets what probing found.
 * Each server is a member of an HA pair (or a pair of its own): only the
 * pair's active member takes new sessions. What the node knows of each
 * member comes from its OPTIONS probes (scprobe.c, scpool_probe_*()) and
 * from requests it sends us (scpool_from()), the way the Genesys SIP
 * Proxy does it:
 *
 *   - every enabled server is probed every [cluster] oos_check seconds;
 *     a probe not answered alive within oos_force seconds (or oos_check,
 *     if shorter) fails;
 *   - when the active member fails, the other takes over if its last
 *     probe was answered; else the pair is out of service and its members
 *     are probed alternately every oos_force seconds until one answers,
 *     which becomes active;
 *   - a request from the standby member makes it active at once (it has
 *     taken over); a member that comes back stays standby until the
 *     active one fails.
 *
 * A new session goes to the active members of the first data centre
 * with one in service, in the order: the node's own geo_location, then
 * geo_fallback, then the rest by name. Among them the choice is a smooth
 * weighted round robin (per worker, so no lock is written), skipping a
 * server that carries more than its weighted share of the open sessions
 * (the whole cluster's, from the session table: scpool_set_sessions())
 * and of this node's calls being set up by half as much again (and a
 * slack of a few calls per server): long calls even out, and a slow
 * server drains instead of piling up.
 *
 * Threads: workers pick and match sources under a read lock; the prober
 * (worker 0), scpool_from() on a takeover and scpool_load() (the database
 * thread) change state under the write lock, which is held for
 * microseconds. State changes are logged once each, counted, and
 * published (store_bg_publish_soon()).
 */
#ifndef JCT_SCPOOL_H
#define JCT_SCPOOL_H

#include "net/endpoint.h"
#include "sip/sip_str.h"
#include "store/store_bg.h"

#include <stdbool.h>
#include <stdint.h>

struct config;

#define SCPOOL_MAX     256
#define SCPOOL_URI_MAX 256

enum scpool_state { SCPOOL_ACTIVE = 0, SCPOOL_STANDBY, SCPOOL_OOS, SCPOOL__STATES };

/* Sets the pool up, empty, for nworkers pickers. cfg is borrowed for the
 * process's life. Returns 0 or -ENOMEM. */
int scpool_init(const struct config *cfg, unsigned nworkers);
void scpool_fini(void);
/* Is the pool in use ([routing] session_controllers)? */
bool scpool_on(void);

/* Replaces the servers with rows[0..n) (the sip_server table), keeping
 * the state of those whose name and URI are unchanged. Resolves names
 * (blocking: the database thread calls it). */
void scpool_load(const struct store_sip_server *rows, unsigned n);

/* ---- a new session ------------------------------------------------------ */

struct scpool_pick {
	uint32_t id; /* the server's id, for scpool_release() */
	char uri[SCPOOL_URI_MAX];
};

/* Chooses the server for a new session (worker's picker) and counts it as
 * a call being set up there until scpool_release(id). Returns false when
 * no server is in service anywhere. */
bool scpool_choose(unsigned worker, struct scpool_pick *out);
/* The same for something that must keep going to one server while it is
 * in service (an AOR's REGISTERs, whose challenges and nonces are that
 * server's): key is a hash every node computes alike (store_lock_key()).
 * Among the pairs of the best data centre in service, the one key
 * hashes highest with (rendezvous hashing, weights not considered beyond
 * weight 0 = none), and that pair's active member. */
bool scpool_choose_key(uint64_t key, struct scpool_pick *out);
/* The call chosen for server id is set up or failed. */
void scpool_release(uint32_t id);
/* The open sessions each server serves, cluster-wide (names[i] has
 * counts[i]; a server not named has none). Any thread. */
void scpool_set_sessions(const char *const *names, const unsigned *counts, unsigned n);

/* ---- an existing session (affinity.h) ------------------------------------ */

/* The member of server id's HA pair that serves its sessions now (the
 * server itself while active, else its partner), counted as a call being
 * set up until scpool_release(out->id). False when neither is in service
 * or id is gone (the server was removed or its URI changed). */
bool scpool_take(uint32_t id, struct scpool_pick *out);
/* The id of the server named name, 0 when none. */
uint32_t scpool_id_of(struct sip_str name);
/* The name of server id into out; false when there is no such server. */
bool scpool_name_of(uint32_t id, char out[STORE_SEEN_NAME_MAX]);
/* The servers whose pair has no member in service, at most max names. */
unsigned scpool_dead(char (*out)[STORE_SEEN_NAME_MAX], unsigned max);

/* The id of the server at address a (address and port), 0 for none. */
uint32_t scpool_at(const struct netaddr *a);
/* Which server is src (by address and port, or address alone for a
 * stream or another port)? Its id, 0 for none. A request from a standby
 * member makes it active (it has taken over). */
uint32_t scpool_from(const struct sip_source *src, uint64_t now_ms);

/* ---- probing (scprobe.c) ------------------------------------------------- */

struct scpool_probe {
	uint32_t id;
	char uri[SCPOOL_URI_MAX];
	struct sip_dest dest;
	uint64_t deadline_ms; /* no alive answer by then: failed */
};

/* The probes due at now_ms (at most max), each marked outstanding. */
unsigned scpool_probes_due(uint64_t now_ms, struct scpool_probe *out, unsigned max);
/* The outcome of server id's outstanding probe: alive (rtt_us) or not,
 * with why ("no answer to OPTIONS", "503 to OPTIONS"). */
void scpool_probe_done(uint32_t id, bool alive, uint64_t rtt_us, const char *why, uint64_t now_ms);
/* Has the table been read and every server probed once (the node knows
 * where sessions go)? */
bool scpool_ready(void);
/* Milliseconds until the next probe is due (-1: none). */
int scpool_next_probe_ms(uint64_t now_ms);

/* ---- what operators see ------------------------------------------------- */

/* This node's view of each server, for sip_server_node (store_bg hook). */
unsigned scpool_seen(struct store_sip_server_seen *out, unsigned max);

struct scpool_stats {
	unsigned servers[SCPOOL__STATES]; /* by state */
	unsigned pairs, pairs_oos;        /* pairs (and single servers); none in service */
	uint64_t switchovers;             /* a member became active in place of another */
	uint64_t probes, probes_failed;
	uint64_t no_server; /* new sessions refused: nothing in service */
};
void scpool_stats(struct scpool_stats *out);

/* Per server, for labelled metrics: name, state, last probe RTT (-1: none),
 * calls being set up through this node and open sessions (cluster-wide).
 * Returns how many written. */
struct scpool_server_stat {
	char name[STORE_SEEN_NAME_MAX];
	enum scpool_state state;
	int64_t rtt_us;
	unsigned setting_up, sessions;
};
unsigned scpool_server_stats(struct scpool_server_stat *out, unsigned max);

const char *scpool_state_name(enum scpool_state s);

#endif
