/*
 * store_bg: the database side thread: subscriber cache invalidation by
 * LISTEN/NOTIFY, the sweep of expired bindings, and the Session
 * Controller pools: the sip_server table read on every change, and what
 * this node sees of each server written to sip_server_node; the session
 * sweep and counts; the static routes and call forwards, route and
 * call_forward read whole on every change; this node's row of the node
 * table, its heartbeat (store_bg.c).
 */
#ifndef JCT_STORE_BG_H
#define JCT_STORE_BG_H

#include <stdbool.h>
#include <stdint.h>

/* One row of sip_server; the strings are valid during the call only. */
struct store_sip_server {
	const char *name, *uri, *geo_location;
	const char *ha_pair; /* NULL: a server on its own */
	bool backup;         /* role = 'backup' */
	unsigned weight;
	bool enabled;
};

#define STORE_SEEN_NAME_MAX   64
#define STORE_SEEN_REASON_MAX 96

/* What this node sees of one server (a sip_server_node row). */
struct store_sip_server_seen {
	char name[STORE_SEEN_NAME_MAX];
	const char *state;      /* "active", "standby" or "oos" (static) */
	uint64_t since_ms;      /* wall clock, ms since the epoch */
	int64_t rtt_us;         /* last answered probe; -1: none yet */
	uint64_t switchover_ms; /* last became active; 0: never */
	char reason[STORE_SEEN_REASON_MAX];
};

/* A ban (security/ban.h) as the ban table holds it. */
#define STORE_BAN_TARGET_MAX 192
#define STORE_BAN_NODE_MAX   64
struct store_ban {
	bool user; /* target is user@realm, else an address */
	char target[STORE_BAN_TARGET_MAX];
	char reason[16]; /* rate_limit, auth_failures, manual */
	char node[STORE_BAN_NODE_MAX];
	uint64_t since_ms, until_ms; /* wall clock */
	bool lifted;
};

/* An enabled row of route (sql/007_routes.sql); the strings are valid
 * during the call only. */
struct store_route {
	int64_t id;
	const char *kind; /* "domain", "prefix" or "outbound" */
	const char *match;
	const char *next_hop;
	unsigned priority, weight;
};

/* An enabled row of call_forward; likewise. */
struct store_forward {
	const char *aor; /* user@domain, the domain in lowercase */
	const char *target;
};

/* What the thread tells the node's caches; called on its thread, so each
 * must be safe from any thread. */
struct store_bg_hooks {
	void (*binding_changed)(const char *aor);    /* NOTIFY junction_binding */
	void (*subscriber_changed)(const char *key); /* NOTIFY junction_subscriber */
	void (*resync)(void); /* (re)connected: notifications may have been missed */
	/* The whole sip_server table, read at each (re)connect and after each
	 * NOTIFY junction_sip_server. NULL: no pools on this node. */
	void (*sip_servers)(const struct store_sip_server *rows, unsigned n);
	/* Fills out[0..max) with this node's view of every server and returns
	 * how many; published at store_bg_publish_soon() and every few
	 * seconds. NULL: nothing to publish. */
	unsigned (*sip_server_seen)(struct store_sip_server_seen *out, unsigned max);
	/* The open sessions per Session Controller (names[i] has counts[i]),
	 * read every few seconds. NULL: no session affinity on this node (no
	 * session sweep either). */
	void (*session_counts)(const char *const *names, const unsigned *counts, unsigned n);
	/* Bans shared between nodes: bans_out moves up to max of this node's
	 * new bans and lifts into out and returns how many (written to the
	 * ban table after store_bg_publish_soon() or within a second);
	 * bans_in gets every ban that changed in the table (at each
	 * reconnect: all in force). NULL: bans are not shared. */
	unsigned (*bans_out)(struct store_ban *out, unsigned max);
	void (*bans_in)(const struct store_ban *rows, unsigned n);
	/* The enabled rows of route and of call_forward, each table read
	 * whole at each (re)connect and after each NOTIFY junction_route or
	 * junction_forward. NULL: not loaded on this node. */
	void (*routes)(const struct store_route *rows, unsigned n);
	void (*forwards)(const struct store_forward *rows, unsigned n);
};

/* Starts the thread; it connects (and reconnects) by itself. hooks is
 * copied; node and geo_location (copied) name this node in what it
 * publishes. */
int store_bg_start(const char *conninfo, unsigned sweep_interval_s,
		   const struct store_bg_hooks *hooks, const char *node, const char *geo_location);
/* Asks the thread to publish this node's view of the servers and its new
 * bans now (something changed). Any thread. */
void store_bg_publish_soon(void);
/* What this node's row of the node table (sql/010_nodes.sql) says of it
 * besides its name, geo_location and version (this build's): the [sip]
 * listen value (the listeners separated by blanks) and the admin API's
 * listen address (NULL: the API is off); both copied. Before
 * store_bg_start(), which then fails -ENOMEM if the copies did; without
 * it the thread writes no row. The thread writes the row when it
 * connects and every 10 s after. */
void store_bg_set_node_info(const char *sip_listen, const char *admin_listen);
/* Stops it within a poll interval and joins it. */
void store_bg_stop(void);
/* How long ended sessions stay in the session table (seconds); before
 * store_bg_start(). */
void store_bg_set_session_keep(unsigned keep_s);
/* The cluster's open sessions and dialogs as last read, and the dialogs
 * this node's sweeps expired. */
struct store_bg_sessions {
	uint64_t open, dialogs, expired;
};
void store_bg_sessions(struct store_bg_sessions *out);
/* Expired bindings removed so far. */
uint64_t store_bg_swept(void);

#endif
