/*
 * ban: per-source request rates, authentication failures, and the bans
 * they lead to (Kamailio's pike and an htable of bans, fail2ban's idea,
 * built in).
 *
 * Every request from a source that is not trusted goes through
 * ban_admit(): more than [security] rate_limit requests in a second bans
 * the address for ban_time. Authentication failures are counted per
 * address and per user over auth_window; auth_failures from one address
 * ban the address, auth_failures_user for one user ban the user (every
 * request authenticating as that user is refused while it lasts, so a
 * distributed guess cannot go on; the user's own phones with it).
 *
 * Bans are shared through PostgreSQL when [security] share_bans is on:
 * this node's new bans and lifts are drained by the store thread
 * (ban_take_changes()) and written to the ban table, whose NOTIFY brings
 * every other node's to ban_apply() within a second. The tables here are
 * the node's truth in between, and all there is without a database.
 *
 * Threads: any. The address table is striped (64 mutexes over fixed
 * arrays, nothing allocated after ban_init()); an address hashes by a
 * keyed SipHash, so a flood from spoofed sources cannot aim at one
 * stripe. When a stripe is full, the entry seen longest ago that is not
 * banned makes room.
 *
 * Times are wall-clock milliseconds (clock_wall_ms()): bans cross nodes.
 */
#ifndef JCT_BAN_H
#define JCT_BAN_H

#include "net/netaddr.h"
#include "sip/sip_str.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct config;

enum ban_kind { BAN_ADDRESS = 0, BAN_USER };
enum ban_reason { BAN_RATE_LIMIT = 0, BAN_AUTH_FAILURES, BAN_MANUAL };

/* "1.2.3.4", "2001:db8::1", or "user@realm" (a user's), NUL-terminated. */
#define BAN_TARGET_MAX 192
#define BAN_NODE_MAX   64

/* A ban, as listed and as it travels between the node and the database. */
struct ban_info {
	enum ban_kind kind;
	char target[BAN_TARGET_MAX];
	enum ban_reason reason;
	char node[BAN_NODE_MAX]; /* the node that started it */
	uint64_t since_ms, until_ms;
	bool lifted; /* a change: the ban was lifted */
};

/* Sizes the tables from cfg ([security]; borrowed for the process's life)
 * for this node (name copied). Returns 0 or -ENOMEM. */
int ban_init(const struct config *cfg, const char *node);
void ban_fini(void);

/* Counts a request from src at now_ms. False when src is banned: refuse
 * it (*started: this request went over the rate and started the ban). */
bool ban_admit(const struct netaddr *src, uint64_t now_ms, bool *started);

/* Are requests authenticating as user@realm refused? */
bool ban_user_banned(struct sip_str user, struct sip_str realm, uint64_t now_ms);

/* Counts an authentication failure of user@realm (user may be empty:
 * credentials that named nobody) from src. Returns true when it started a
 * ban. */
bool ban_auth_failed(const struct netaddr *src, struct sip_str user, struct sip_str realm,
		     uint64_t now_ms);

/* Bans target (an address, or user@realm) for seconds (the API's and
 * junctionctl's manual ban). Returns 0, or -EINVAL for a target that is
 * not an address or user@realm, -ENOSPC when the table is full. */
int ban_add(enum ban_kind kind, const char *target, unsigned seconds, uint64_t now_ms);

/* Lifts target's ban. Returns 0, or -ENOENT when it has none. */
int ban_lift(enum ban_kind kind, const char *target, uint64_t now_ms);

/* target's ban in force at now_ms into *out. False when it has none. */
bool ban_get(enum ban_kind kind, const char *target, uint64_t now_ms, struct ban_info *out);

/* The most bans there can be (ban_list() never returns more). */
#define BAN_LIST_MAX 3072
/* The bans in force at now_ms, at most max of them, into out (address
 * bans first); returns how many. */
size_t ban_list(struct ban_info *out, size_t max, uint64_t now_ms);
/* How many bans are in force (for /metrics). */
size_t ban_count(uint64_t now_ms);

/* The store thread's hooks (store_bg.h bans_out, bans_in): this node's
 * new bans and lifts, oldest first, moved into out (up to max; returns
 * how many); and the bans and lifts read from the ban table (any node's,
 * ours included), applied unless something newer is known here. */
struct store_ban;
unsigned ban_store_out(struct store_ban *out, unsigned max);
void ban_store_in(const struct store_ban *rows, unsigned n);

/* The kind a target looks like: a user's (user@realm) has an '@', an
 * address never does. */
enum ban_kind ban_kind_of(const char *target);
/* Parses "address" or "user" -> kind. Returns 0 or -EINVAL. */
int ban_kind_parse(const char *s, enum ban_kind *out);
const char *ban_kind_name(enum ban_kind k);
const char *ban_reason_name(enum ban_reason r);
/* The reverse of ban_reason_name(); unknown names are BAN_MANUAL. */
enum ban_reason ban_reason_parse(const char *s);

#endif
