/*
 * ban: see ban.h.
 *
 * Three fixed tables, allocated at ban_init():
 *   - sources: per address, the request count of the current second and
 *     the authentication failures of the current window. 64 stripes of
 *     SRC_PER_STRIPE slots, open addressing over PROBE slots; a full
 *     probe run gives the slot seen longest ago.
 *   - users: per user@realm (by a 64-bit keyed hash), failures of the
 *     current window, the same way.
 *   - bans: every ban in force, address or user, with what the API
 *     lists; a read-write lock over BAN_MAX slots (bans are few and read
 *     far more than written). last_until, the end of the latest ban
 *     ever set, lets every lookup skip the lock once all bans are over
 *     (or while there have been none), which is nearly always.
 * Windows are fixed (the current second, the current auth_window), as
 * pike's are: a burst straddling two windows can reach twice the rate,
 * and no more.
 */
#include "security/ban.h"

#include "base/clock.h"
#include "base/log.h"
#include "base/siphash.h"
#include "config/config.h"
#include "store/store_bg.h"

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define STRIPES         64
#define SRC_PER_STRIPE  256 /* 16,384 sources tracked */
#define USER_PER_STRIPE 64  /* 4,096 users tracked */
#define PROBE           8
#define BAN_MAX         4096
#define CHANGES_MAX     256

/* Three quarters of the slots at most are in use (the probe chains stay
 * short): what ban_list() may have to return. */
_Static_assert(BAN_LIST_MAX == BAN_MAX * 3 / 4, "BAN_LIST_MAX matches the table");

_Static_assert(BAN_TARGET_MAX == STORE_BAN_TARGET_MAX && BAN_NODE_MAX == STORE_BAN_NODE_MAX,
	       "a ban fits the store's rows");

struct src_slot {
	uint8_t addr[16];
	uint8_t fam; /* 0: free */
	uint32_t win_s, count;
	uint32_t fail_s, fails;
	uint64_t seen_ms;
};

struct user_slot {
	uint64_t key; /* 0: free */
	uint32_t fail_s, fails;
	uint64_t seen_ms;
};

struct stripe {
	pthread_mutex_t lock;
	struct src_slot *src;
	struct user_slot *user;
} __attribute__((aligned(64)));

struct ban_slot {
	uint64_t key; /* 0: free */
	struct ban_info info;
};

static const struct config *bcfg;
static char node_name[BAN_NODE_MAX];
static struct stripe stripes[STRIPES];
static struct src_slot *src_mem;
static struct user_slot *user_mem;

static pthread_rwlock_t ban_lock = PTHREAD_RWLOCK_INITIALIZER;
static struct ban_slot *bans;
static atomic_uint n_active;        /* slots in use (some may have expired) */
static _Atomic uint64_t last_until; /* the latest until_ms set: no ban lasts longer */

static pthread_mutex_t changes_lock = PTHREAD_MUTEX_INITIALIZER;
static struct ban_info changes[CHANGES_MAX];
static unsigned changes_head, changes_len;

/* ---- keys -------------------------------------------------------------- */

/* Never 0 (0 marks a free slot). */
static uint64_t hash_bytes(uint8_t tag, const void *p, size_t n)
{
	struct siphash_state st;
	uint64_t h;

	siphash_init(&st, siphash_process_key());
	siphash_update(&st, &tag, 1);
	siphash_update(&st, p, n);
	h = siphash_final(&st);
	return h ? h : 1;
}

static uint64_t addr_hash(uint8_t fam, const uint8_t addr[16])
{
	return hash_bytes(fam, addr, fam == AF_INET ? 4 : 16);
}

/* user@realm, the user as sent and the realm lowercase (realms are
 * domains). Returns the length, 0 when it does not fit. */
static size_t user_target(struct sip_str user, struct sip_str realm, char out[BAN_TARGET_MAX])
{
	size_t n = user.len + 1 + realm.len;

	if (n >= BAN_TARGET_MAX)
		return 0;
	memcpy(out, user.p, user.len);
	out[user.len] = '@';
	for (size_t i = 0; i < realm.len; i++)
		out[user.len + 1 + i] = sip_tolower(realm.p[i]);
	out[n] = '\0';
	return n;
}

static uint64_t user_hash(const char *target, size_t n)
{
	return hash_bytes(0xff, target, n);
}

/* ---- the ban table ------------------------------------------------------- */

/* Under ban_lock (either): the slot of key, or NULL. */
static struct ban_slot *ban_find(uint64_t key)
{
	size_t i = key & (BAN_MAX - 1);

	for (size_t k = 0; k < BAN_MAX; k++, i = (i + 1) & (BAN_MAX - 1)) {
		if (bans[i].key == key)
			return &bans[i];
		if (bans[i].key == 0)
			return NULL;
	}
	return NULL;
}

/* Under the write lock: drops the expired slots when the table is
 * getting full (a rebuild keeps the probe chains whole). */
static void ban_compact(uint64_t now_ms)
{
	static struct ban_slot keep[BAN_MAX];
	unsigned n = 0;

	for (size_t i = 0; i < BAN_MAX; i++)
		if (bans[i].key && bans[i].info.until_ms > now_ms)
			keep[n++] = bans[i];
	memset(bans, 0, sizeof(*bans) * BAN_MAX);
	for (unsigned j = 0; j < n; j++) {
		size_t i = keep[j].key & (BAN_MAX - 1);

		while (bans[i].key)
			i = (i + 1) & (BAN_MAX - 1);
		bans[i] = keep[j];
	}
	atomic_store(&n_active, n);
}

static void change_note(const struct ban_info *b)
{
	if (!bcfg->security.share_bans)
		return;
	pthread_mutex_lock(&changes_lock);
	if (changes_len == CHANGES_MAX) {
		/* The store is away: the oldest change stays on this node. */
		changes_head = (changes_head + 1) % CHANGES_MAX;
		changes_len--;
	}
	changes[(changes_head + changes_len) % CHANGES_MAX] = *b;
	changes_len++;
	pthread_mutex_unlock(&changes_lock);
	store_bg_publish_soon(); /* to the other nodes now */
}

/* Sets (or extends) the ban of key. Returns 0 or -ENOSPC. */
static int ban_put(uint64_t key, const struct ban_info *b, bool note, uint64_t now_ms)
{
	struct ban_slot *s;
	int rc = 0;

	pthread_rwlock_wrlock(&ban_lock);
	s = ban_find(key);
	if (!s && atomic_load(&n_active) >= BAN_MAX * 3 / 4)
		ban_compact(now_ms);
	if (!s && atomic_load(&n_active) >= BAN_MAX * 3 / 4) {
		rc = -ENOSPC;
	} else if (s) {
		/* A ban lifted here is not brought back by the same ban's row
		 * (the database echoes this node's writes, the ban's insert
		 * maybe after its lift): only a later one replaces it. (Times
		 * went through the database: a millisecond of rounding.) */
		bool relifted = s->info.lifted && b->since_ms <= s->info.since_ms + 1;

		if (!relifted && (s->info.until_ms <= now_ms || b->until_ms > s->info.until_ms))
			s->info = *b;
	} else {
		size_t i = key & (BAN_MAX - 1);

		while (bans[i].key)
			i = (i + 1) & (BAN_MAX - 1);
		bans[i].key = key;
		bans[i].info = *b;
		atomic_fetch_add(&n_active, 1);
	}
	/* (under the write lock: the only writer) */
	if (rc == 0 && b->until_ms > atomic_load_explicit(&last_until, memory_order_relaxed))
		atomic_store_explicit(&last_until, b->until_ms, memory_order_relaxed);
	pthread_rwlock_unlock(&ban_lock);
	if (rc == 0 && note)
		change_note(b);
	return rc;
}

static bool ban_in_force(uint64_t key, uint64_t now_ms)
{
	const struct ban_slot *s;
	bool on;

	if (now_ms >= atomic_load_explicit(&last_until, memory_order_relaxed))
		return false;
	pthread_rwlock_rdlock(&ban_lock);
	s = ban_find(key);
	on = s && s->info.until_ms > now_ms;
	pthread_rwlock_unlock(&ban_lock);
	return on;
}

static void ban_start(enum ban_kind kind, const char *target, uint64_t key, enum ban_reason reason,
		      unsigned seconds, uint64_t now_ms)
{
	struct ban_info b = {.kind = kind, .reason = reason};

	snprintf(b.target, sizeof(b.target), "%s", target);
	snprintf(b.node, sizeof(b.node), "%s", node_name);
	b.since_ms = now_ms;
	b.until_ms = now_ms + (uint64_t)seconds * 1000;
	if (ban_put(key, &b, true, now_ms) < 0) {
		log_warn("event=ban_table_full kind=%s target=\"%s\"", ban_kind_name(kind), target);
		return;
	}
	log_warn("event=ban kind=%s target=\"%s\" reason=%s seconds=%u", ban_kind_name(kind),
		 target, ban_reason_name(reason), seconds);
}

/* ---- sources and users ----------------------------------------------------- */

static struct stripe *stripe_of(uint64_t h)
{
	return &stripes[(h >> 58) % STRIPES];
}

/* Under the stripe's lock: src's slot, claimed when new. */
/* Under the stripe's lock: src's slot, or NULL when it has none; *victim
 * (may be NULL) gets the slot to claim for it: a free one, else the one
 * seen longest ago. */
static struct src_slot *src_find(struct stripe *st, uint64_t h, uint8_t fam, const uint8_t addr[16],
				 struct src_slot **victim)
{
	size_t base = h % SRC_PER_STRIPE;
	struct src_slot *v = NULL;

	for (size_t k = 0; k < PROBE; k++) {
		struct src_slot *s = &st->src[(base + k) % SRC_PER_STRIPE];

		if (s->fam == fam && memcmp(s->addr, addr, 16) == 0)
			return s;
		if (!v || s->fam == 0 || (v->fam && s->seen_ms < v->seen_ms))
			v = s;
	}
	if (victim)
		*victim = v;
	return NULL;
}

static struct src_slot *src_slot(struct stripe *st, uint64_t h, uint8_t fam, const uint8_t addr[16],
				 uint64_t now_ms)
{
	struct src_slot *victim, *s = src_find(st, h, fam, addr, &victim);

	if (s)
		return s;
	memset(victim, 0, sizeof(*victim));
	victim->fam = fam;
	memcpy(victim->addr, addr, 16);
	victim->seen_ms = now_ms;
	return victim;
}

static struct user_slot *user_slot(struct stripe *st, uint64_t key, uint64_t now_ms)
{
	size_t base = key % USER_PER_STRIPE;
	struct user_slot *victim = NULL;

	for (size_t k = 0; k < PROBE; k++) {
		struct user_slot *s = &st->user[(base + k) % USER_PER_STRIPE];

		if (s->key == key)
			return s;
		if (!victim || s->key == 0 || (victim->key && s->seen_ms < victim->seen_ms))
			victim = s;
	}
	memset(victim, 0, sizeof(*victim));
	victim->key = key;
	victim->seen_ms = now_ms;
	return victim;
}

static void addr_text(uint8_t fam, const uint8_t addr[16], char out[BAN_TARGET_MAX])
{
	if (!inet_ntop(fam, addr, out, BAN_TARGET_MAX))
		snprintf(out, BAN_TARGET_MAX, "?");
}

bool ban_admit(const struct netaddr *src, uint64_t now_ms, bool *started)
{
	uint8_t addr[16];
	uint8_t fam = netaddr_host_key(src, addr);
	uint64_t h;
	struct stripe *st;
	struct src_slot *s;
	uint32_t sec = (uint32_t)(now_ms / 1000);
	bool over;

	*started = false;
	if (!fam)
		return true;
	h = addr_hash(fam, addr);
	if (ban_in_force(h, now_ms))
		return false;
	if (!bcfg->security.rate_limit)
		return true;
	st = stripe_of(h);
	pthread_mutex_lock(&st->lock);
	s = src_slot(st, h, fam, addr, now_ms);
	s->seen_ms = now_ms;
	if (s->win_s != sec) {
		s->win_s = sec;
		s->count = 0;
	}
	/* Exactly once, at the request that goes over. */
	over = ++s->count == bcfg->security.rate_limit + 1;
	pthread_mutex_unlock(&st->lock);
	if (over) {
		char text[BAN_TARGET_MAX];

		addr_text(fam, addr, text);
		ban_start(BAN_ADDRESS, text, h, BAN_RATE_LIMIT, bcfg->security.ban_time, now_ms);
		*started = true;
		return false;
	}
	return true;
}

bool ban_user_banned(struct sip_str user, struct sip_str realm, uint64_t now_ms)
{
	char target[BAN_TARGET_MAX];
	size_t n;

	if (now_ms >= atomic_load_explicit(&last_until, memory_order_relaxed))
		return false;
	n = user_target(user, realm, target);
	return n && ban_in_force(user_hash(target, n), now_ms);
}

/* Counts one failure in a window of auth_window seconds: true at the one
 * that reaches limit. */
static bool count_failure(uint32_t *fail_s, uint32_t *fails, unsigned limit, uint64_t now_ms)
{
	uint32_t sec = (uint32_t)(now_ms / 1000);

	if (sec - *fail_s >= bcfg->security.auth_window) {
		*fail_s = sec;
		*fails = 0;
	}
	return ++*fails == limit;
}

bool ban_auth_failed(const struct netaddr *src, struct sip_str user, struct sip_str realm,
		     uint64_t now_ms)
{
	const struct config *c = bcfg;
	uint8_t addr[16];
	uint8_t fam = netaddr_host_key(src, addr);
	bool started = false;

	if (fam && c->security.auth_failures) {
		uint64_t h = addr_hash(fam, addr);
		struct stripe *st = stripe_of(h);
		struct src_slot *s;
		bool ban;

		pthread_mutex_lock(&st->lock);
		s = src_slot(st, h, fam, addr, now_ms);
		s->seen_ms = now_ms;
		ban = count_failure(&s->fail_s, &s->fails, c->security.auth_failures, now_ms);
		pthread_mutex_unlock(&st->lock);
		if (ban) {
			char text[BAN_TARGET_MAX];

			addr_text(fam, addr, text);
			ban_start(BAN_ADDRESS, text, h, BAN_AUTH_FAILURES, c->security.ban_time,
				  now_ms);
			started = true;
		}
	}
	if (user.len && c->security.auth_failures_user) {
		char target[BAN_TARGET_MAX];
		size_t n = user_target(user, realm, target);
		uint64_t key = n ? user_hash(target, n) : 0;
		struct stripe *st;
		struct user_slot *u;
		bool ban;

		if (!key)
			return started;
		st = stripe_of(key);
		pthread_mutex_lock(&st->lock);
		u = user_slot(st, key, now_ms);
		u->seen_ms = now_ms;
		ban = count_failure(&u->fail_s, &u->fails, c->security.auth_failures_user, now_ms);
		pthread_mutex_unlock(&st->lock);
		if (ban) {
			ban_start(BAN_USER, target, key, BAN_AUTH_FAILURES, c->security.ban_time,
				  now_ms);
			started = true;
		}
	}
	return started;
}

/* ---- the API's side --------------------------------------------------------- */

/* target's key and canonical text (an address as inet_ntop writes it, a
 * user with its realm lowercase), and an address's bytes into *host (may
 * be NULL). Returns 0 or -EINVAL. */
static int target_key(enum ban_kind kind, const char *target, uint64_t *key,
		      char canon[BAN_TARGET_MAX], struct netaddr_prefix *host)
{
	if (kind == BAN_ADDRESS) {
		struct netaddr_prefix p;

		/* One address: a block of all its bits, as netaddr_host_key()
		 * lays it out (the bytes past an IPv4 address zero). */
		if (netaddr_prefix_parse(target, strlen(target), &p) < 0 ||
		    p.bits != (p.family == AF_INET ? 32 : 128))
			return -EINVAL;
		addr_text(p.family, p.addr, canon);
		*key = addr_hash(p.family, p.addr);
		if (host)
			*host = p;
		return 0;
	} else {
		const char *at = strrchr(target, '@');
		size_t n;

		if (!at || at == target || !at[1] || strlen(target) >= BAN_TARGET_MAX)
			return -EINVAL;
		for (const char *p = target; *p; p++)
			if ((unsigned char)*p <= 0x20 || *p == 0x7f)
				return -EINVAL;
		n = user_target(sip_str_make(target, (size_t)(at - target)), sip_str_cstr(at + 1),
				canon);
		if (!n)
			return -EINVAL;
		*key = user_hash(canon, n);
		return 0;
	}
}

int ban_add(enum ban_kind kind, const char *target, unsigned seconds, uint64_t now_ms)
{
	struct ban_info b = {.kind = kind, .reason = BAN_MANUAL};
	uint64_t key;

	if (target_key(kind, target, &key, b.target, NULL) < 0 || seconds == 0)
		return -EINVAL;
	snprintf(b.node, sizeof(b.node), "%s", node_name);
	b.since_ms = now_ms;
	b.until_ms = now_ms + (uint64_t)seconds * 1000;
	if (ban_put(key, &b, true, now_ms) < 0)
		return -ENOSPC;
	log_warn("event=ban kind=%s target=\"%s\" reason=manual seconds=%u", ban_kind_name(kind),
		 b.target, seconds);
	return 0;
}

int ban_lift(enum ban_kind kind, const char *target, uint64_t now_ms)
{
	char canon[BAN_TARGET_MAX];
	struct netaddr_prefix host;
	struct ban_slot *s;
	struct ban_info lifted;
	uint64_t key;

	if (target_key(kind, target, &key, canon, &host) < 0)
		return -ENOENT;
	pthread_rwlock_wrlock(&ban_lock);
	s = ban_find(key);
	if (!s || s->info.until_ms <= now_ms) {
		pthread_rwlock_unlock(&ban_lock);
		return -ENOENT;
	}
	lifted = s->info;
	/* Kept as expired, so that the probe chains stay whole. */
	s->info.until_ms = now_ms;
	s->info.lifted = true;
	pthread_rwlock_unlock(&ban_lock);
	lifted.lifted = true;
	change_note(&lifted);
	/* The failures that led to it start again from nothing. */
	if (kind == BAN_ADDRESS) {
		struct stripe *st = stripe_of(key);
		struct src_slot *src;

		pthread_mutex_lock(&st->lock);
		src = src_find(st, key, host.family, host.addr, NULL);
		if (src)
			src->fails = src->count = 0;
		pthread_mutex_unlock(&st->lock);
	}
	log_info("event=ban_lifted kind=%s target=\"%s\"", ban_kind_name(kind), canon);
	return 0;
}

bool ban_get(enum ban_kind kind, const char *target, uint64_t now_ms, struct ban_info *out)
{
	char canon[BAN_TARGET_MAX];
	const struct ban_slot *s;
	uint64_t key;
	bool found = false;

	if (target_key(kind, target, &key, canon, NULL) < 0)
		return false;
	pthread_rwlock_rdlock(&ban_lock);
	s = ban_find(key);
	if (s && s->info.until_ms > now_ms) {
		*out = s->info;
		found = true;
	}
	pthread_rwlock_unlock(&ban_lock);
	return found;
}

size_t ban_list(struct ban_info *out, size_t max, uint64_t now_ms)
{
	size_t n = 0;

	pthread_rwlock_rdlock(&ban_lock);
	for (int kind = BAN_ADDRESS; kind <= BAN_USER; kind++)
		for (size_t i = 0; i < BAN_MAX && n < max; i++)
			if (bans[i].key && bans[i].info.until_ms > now_ms &&
			    bans[i].info.kind == (enum ban_kind)kind)
				out[n++] = bans[i].info;
	pthread_rwlock_unlock(&ban_lock);
	return n;
}

size_t ban_count(uint64_t now_ms)
{
	size_t n = 0;

	if (!bans || now_ms >= atomic_load(&last_until))
		return 0;
	pthread_rwlock_rdlock(&ban_lock);
	for (size_t i = 0; i < BAN_MAX; i++)
		n += bans[i].key && bans[i].info.until_ms > now_ms;
	pthread_rwlock_unlock(&ban_lock);
	return n;
}

/* ---- between the node and the database ------------------------------------- */

unsigned ban_store_out(struct store_ban *out, unsigned max)
{
	unsigned n = 0;

	pthread_mutex_lock(&changes_lock);
	while (n < max && changes_len) {
		const struct ban_info *b = &changes[changes_head];

		out[n] = (struct store_ban){.user = b->kind == BAN_USER,
					    .since_ms = b->since_ms,
					    .until_ms = b->until_ms,
					    .lifted = b->lifted};
		snprintf(out[n].target, sizeof(out[n].target), "%s", b->target);
		snprintf(out[n].reason, sizeof(out[n].reason), "%s", ban_reason_name(b->reason));
		snprintf(out[n].node, sizeof(out[n].node), "%s", b->node);
		n++;
		changes_head = (changes_head + 1) % CHANGES_MAX;
		changes_len--;
	}
	pthread_mutex_unlock(&changes_lock);
	return n;
}

static void ban_apply(const struct ban_info *b, uint64_t now_ms)
{
	char canon[BAN_TARGET_MAX];
	struct ban_slot *s;
	uint64_t key;

	if (target_key(b->kind, b->target, &key, canon, NULL) < 0)
		return;
	if (!b->lifted) {
		if (b->until_ms > now_ms)
			(void)ban_put(key, b, false, now_ms);
		return;
	}
	/* A lift ends the ban it names, not a later one (times went through
	 * the database: a millisecond of rounding). */
	pthread_rwlock_wrlock(&ban_lock);
	s = ban_find(key);
	if (s && s->info.until_ms <= b->until_ms + 1 && s->info.since_ms <= b->since_ms + 1) {
		s->info.until_ms = 0;
		s->info.lifted = true;
	}
	pthread_rwlock_unlock(&ban_lock);
}

void ban_store_in(const struct store_ban *rows, unsigned n)
{
	uint64_t now_ms = clock_wall_ms();

	for (unsigned i = 0; i < n; i++) {
		struct ban_info b = {.kind = rows[i].user ? BAN_USER : BAN_ADDRESS,
				     .reason = ban_reason_parse(rows[i].reason),
				     .since_ms = rows[i].since_ms,
				     .until_ms = rows[i].until_ms,
				     .lifted = rows[i].lifted};

		snprintf(b.target, sizeof(b.target), "%s", rows[i].target);
		snprintf(b.node, sizeof(b.node), "%s", rows[i].node);
		ban_apply(&b, now_ms);
	}
}

/* ---- names and life ------------------------------------------------------------ */

enum ban_kind ban_kind_of(const char *target)
{
	return strchr(target, '@') ? BAN_USER : BAN_ADDRESS;
}

int ban_kind_parse(const char *s, enum ban_kind *out)
{
	if (strcmp(s, "address") == 0)
		*out = BAN_ADDRESS;
	else if (strcmp(s, "user") == 0)
		*out = BAN_USER;
	else
		return -EINVAL;
	return 0;
}

const char *ban_kind_name(enum ban_kind k)
{
	return k == BAN_USER ? "user" : "address";
}

static const char *const reason_names[] = {"rate_limit", "auth_failures", "manual"};

const char *ban_reason_name(enum ban_reason r)
{
	return r <= BAN_MANUAL ? reason_names[r] : "manual";
}

enum ban_reason ban_reason_parse(const char *s)
{
	for (unsigned i = 0; i <= BAN_MANUAL; i++)
		if (strcmp(s, reason_names[i]) == 0)
			return (enum ban_reason)i;
	return BAN_MANUAL;
}

int ban_init(const struct config *cfg, const char *node)
{
	bcfg = cfg;
	snprintf(node_name, sizeof(node_name), "%s", node);
	src_mem = calloc((size_t)STRIPES * SRC_PER_STRIPE, sizeof(*src_mem));
	user_mem = calloc((size_t)STRIPES * USER_PER_STRIPE, sizeof(*user_mem));
	bans = calloc(BAN_MAX, sizeof(*bans));
	if (!src_mem || !user_mem || !bans) {
		ban_fini();
		return -ENOMEM;
	}
	for (unsigned i = 0; i < STRIPES; i++) {
		pthread_mutex_init(&stripes[i].lock, NULL);
		stripes[i].src = src_mem + (size_t)i * SRC_PER_STRIPE;
		stripes[i].user = user_mem + (size_t)i * USER_PER_STRIPE;
	}
	atomic_store(&n_active, 0);
	return 0;
}

void ban_fini(void)
{
	free(src_mem);
	free(user_mem);
	free(bans);
	src_mem = NULL;
	user_mem = NULL;
	bans = NULL;
	atomic_store(&n_active, 0);
	atomic_store(&last_until, 0);
	changes_len = changes_head = 0;
}
