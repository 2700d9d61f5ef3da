/*
 * Unit tests for scpool, the Session Controller pools: the state of every
 * server and HA pair as OPTIONS probe outcomes arrive (driven with a fake
 * now_ms), the probe schedule and deadlines, the choice of a server for a
 * new session (data-centre order, smooth weighted round robin, the rule
 * that skips a server holding too many calls being set up), takeover by
 * a request from a standby member, reloads that keep what probing found,
 * disabled and unresolvable servers, and [cluster] oos_check = 0.
 *
 * The pool resolves each server's URI, which needs a listener of the
 * URI's transport: the fixture opens UDP and TCP listeners on loopback
 * (port 0). Every URI is numeric, so nothing goes to DNS. Criterion runs
 * each test in its own process, so the pool's counters start at zero.
 */
#include "base/clock.h"
#include "base/log.h"
#include "config/config.h"
#include "net/netaddr.h"
#include "net/transport.h"
#include "proxy/dlgcache.h"
#include "proxy/scpool.h"

#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static struct config cfg;

static void setup(void)
{
	struct transport_listen l[2];

	log_open(LOG_LVL_ERROR, "stderr");
	config_defaults(&cfg);
	cfg.routing.session_controllers = true;
	/* different, so that a deadline tells which one applied */
	cfg.cluster.oos_check = 5;
	cfg.cluster.oos_force = 3;
	memset(l, 0, sizeof(l));
	l[0].proto = SIP_PROTO_UDP;
	cr_assert_eq(netaddr_parse("127.0.0.1:0", &l[0].addr), 0);
	snprintf(l[0].text, sizeof(l[0].text), "udp:127.0.0.1:0");
	l[1].proto = SIP_PROTO_TCP;
	cr_assert_eq(netaddr_parse("127.0.0.1:0", &l[1].addr), 0);
	snprintf(l[1].text, sizeof(l[1].text), "tcp:127.0.0.1:0");
	cr_assert_eq(transport_open(l, 2), 0);
	cr_assert_eq(scpool_init(&cfg, 2), 0);
}

static void teardown(void)
{
	scpool_fini();
	transport_close();
}

TestSuite(scpool, .init = setup, .fini = teardown);

/* ---- helpers ----------------------------------------------------------- */

#define SRV(n, u, g, pr, bk, w, en)                                                                \
	{                                                                                          \
		.name = (n), .uri = (u), .geo_location = (g), .ha_pair = (pr), .backup = (bk),     \
		.weight = (w), .enabled = (en)                                                     \
	}
/* A primary, a backup and a server on its own, enabled. */
#define PRI(n, u, g, pr, w) SRV(n, u, g, pr, false, w, true)
#define BAK(n, u, g, pr, w) SRV(n, u, g, pr, true, w, true)
#define ONE(n, u, g, w)     SRV(n, u, g, NULL, false, w, true)

#define NROWS(a) ((unsigned)(sizeof(a) / sizeof((a)[0])))

static const struct store_sip_server *rows;
static unsigned nrows;

/* ids as the pool gave them, by URI (from probes and picks) */
static struct {
	char uri[SCPOOL_URI_MAX];
	uint32_t id;
} ids[SCPOOL_MAX];
static unsigned nids;

static void load(const struct store_sip_server *r, unsigned n)
{
	rows = r;
	nrows = n;
	scpool_load(r, n);
}

#define LOAD(a) load((a), NROWS(a))

static const char *uri_of(const char *name)
{
	for (unsigned i = 0; i < nrows; i++)
		if (strcmp(rows[i].name, name) == 0)
			return rows[i].uri;
	cr_assert_fail("no server %s in the rows", name);
	return NULL;
}

static const char *name_of_uri(const char *uri)
{
	for (unsigned i = 0; i < nrows; i++)
		if (strcmp(rows[i].uri, uri) == 0)
			return rows[i].name;
	cr_assert_fail("no server with URI %s in the rows", uri);
	return NULL;
}

static void remember_id(const char *uri, uint32_t id)
{
	for (unsigned i = 0; i < nids; i++)
		if (strcmp(ids[i].uri, uri) == 0) {
			ids[i].id = id;
			return;
		}
	cr_assert_lt(nids, SCPOOL_MAX);
	snprintf(ids[nids].uri, sizeof(ids[nids].uri), "%s", uri);
	ids[nids++].id = id;
}

static uint32_t id_of(const char *name)
{
	const char *uri = uri_of(name);

	for (unsigned i = 0; i < nids; i++)
		if (strcmp(ids[i].uri, uri) == 0)
			return ids[i].id;
	cr_assert_fail("no id known for %s (never probed or picked)", name);
	return 0;
}

static struct scpool_probe due[SCPOOL_MAX];
static unsigned ndue;

/* The probes due at now (each marked outstanding by the pool). */
static unsigned poll_due(uint64_t now)
{
	ndue = scpool_probes_due(now, due, SCPOOL_MAX);
	for (unsigned i = 0; i < ndue; i++)
		remember_id(due[i].uri, due[i].id);
	return ndue;
}

/* The probe of name in the last poll_due(), or NULL. */
static const struct scpool_probe *due_of(const char *name)
{
	const char *uri = uri_of(name);

	for (unsigned i = 0; i < ndue; i++)
		if (strcmp(due[i].uri, uri) == 0)
			return &due[i];
	return NULL;
}

/* The names in the last poll_due(), space-separated, in pool order. */
static const char *due_names(void)
{
	static char buf[1024];

	buf[0] = '\0';
	for (unsigned i = 0; i < ndue; i++)
		snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "%s%s", i ? " " : "",
			 name_of_uri(due[i].uri));
	return buf;
}

static void alive(const char *name, uint64_t now)
{
	scpool_probe_done(id_of(name), true, 1500, "answers OPTIONS", now);
}

static void dead(const char *name, const char *why, uint64_t now)
{
	scpool_probe_done(id_of(name), false, 0, why, now);
}

/* Is name one of the space-separated names in list? */
static bool listed(const char *list, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = list; p && (p = strstr(p, name)); p += n)
		if ((p == list || p[-1] == ' ') && (p[n] == '\0' || p[n] == ' '))
			return true;
	return false;
}

/* Polls at now and answers every due probe at once: "503 to OPTIONS"
 * for those in dead_list, alive for the rest. Returns how many. */
static unsigned round_at(uint64_t now, const char *dead_list)
{
	unsigned n = poll_due(now);
	struct scpool_probe copy[SCPOOL_MAX];

	memcpy(copy, due, sizeof(copy[0]) * n);
	for (unsigned i = 0; i < n; i++) {
		const char *name = name_of_uri(copy[i].uri);

		if (listed(dead_list, name))
			scpool_probe_done(copy[i].id, false, 0, "503 to OPTIONS", now);
		else
			scpool_probe_done(copy[i].id, true, 1000 + i, "answers OPTIONS", now);
	}
	return n;
}

static bool seen_of(const char *name, struct store_sip_server_seen *out)
{
	struct store_sip_server_seen s[SCPOOL_MAX];
	unsigned n = scpool_seen(s, SCPOOL_MAX);

	for (unsigned i = 0; i < n; i++)
		if (strcmp(s[i].name, name) == 0) {
			*out = s[i];
			return true;
		}
	return false;
}

static void expect_state_at(int line, const char *name, const char *state, const char *why)
{
	struct store_sip_server_seen s;

	cr_assert(seen_of(name, &s), "line %d: %s is not in the pool", line, name);
	cr_expect_str_eq(s.state, state, "line %d: %s is %s (\"%s\"), expected %s", line, name,
			 s.state, s.reason, state);
	if (why)
		cr_expect_str_eq(s.reason, why, "line %d: %s's reason is \"%s\", expected \"%s\"",
				 line, name, s.reason, why);
}

#define EXPECT_STATE(name, state, why) expect_state_at(__LINE__, (name), (state), (why))

static struct scpool_server_stat stat_of(const char *name)
{
	struct scpool_server_stat s[SCPOOL_MAX];
	unsigned n = scpool_server_stats(s, SCPOOL_MAX);

	for (unsigned i = 0; i < n; i++)
		if (strcmp(s[i].name, name) == 0)
			return s[i];
	cr_assert_fail("%s is not in the pool", name);
	return s[0];
}

static struct scpool_stats stats(void)
{
	struct scpool_stats s;

	scpool_stats(&s);
	return s;
}

/* A new session on worker w: the name of the chosen server, or NULL.
 * release: the call is set up at once (scpool_release()). */
static const char *pick(unsigned w, bool release)
{
	struct scpool_pick p;
	const char *name;

	memset(&p, 0, sizeof(p));
	if (!scpool_choose(w, &p))
		return NULL;
	name = name_of_uri(p.uri);
	remember_id(p.uri, p.id);
	if (release)
		scpool_release(p.id);
	return name;
}

/* n picks on worker w, released; how many went to name. */
static unsigned count_picks(unsigned w, unsigned n, const char *name)
{
	unsigned c = 0;

	for (unsigned i = 0; i < n; i++) {
		const char *got = pick(w, true);

		cr_assert_not_null(got, "pick %u: no server", i);
		c += strcmp(got, name) == 0;
	}
	return c;
}

static struct sip_source source(const char *addr, enum sip_proto proto)
{
	struct sip_source s;

	memset(&s, 0, sizeof(s));
	s.proto = proto;
	cr_assert_eq(netaddr_parse(addr, &s.remote), 0, "%s", addr);
	return s;
}

static bool from(const char *addr, uint64_t now)
{
	struct sip_source s = source(addr, SIP_PROTO_UDP);

	return scpool_from(&s, now);
}

/* One HA pair in dc1, a1 primary and b1 backup. */
static const struct store_sip_server pair1[] = {
	PRI("a1", "sip:127.0.1.1:5060", "dc1", "p1", 100),
	BAK("b1", "sip:127.0.1.2:5060", "dc1", "p1", 100),
};

/* pair1 loaded and both answering: a1 active, b1 standby. Returns the
 * time of that round; the next probes are due oos_check later. */
static uint64_t pair1_in_service(void)
{
	uint64_t t0;

	LOAD(pair1);
	t0 = clock_now_ms();
	cr_assert_eq(round_at(t0, ""), 2);
	EXPECT_STATE("a1", "active", "answers OPTIONS");
	EXPECT_STATE("b1", "standby", "answers OPTIONS");
	return t0;
}

/* ---- loading and the first probes -------------------------------------- */

Test(scpool, on_follows_session_controllers)
{
	cr_assert(scpool_on());
	scpool_fini();
	cfg.routing.session_controllers = false;
	cr_assert_eq(scpool_init(&cfg, 2), 0);
	cr_assert_not(scpool_on());
}

Test(scpool, empty_pool)
{
	struct scpool_stats s = stats();
	struct scpool_probe p[4];

	cr_assert_eq(s.pairs, 0);
	cr_assert_eq(s.pairs_oos, 0);
	cr_assert_eq(scpool_probes_due(clock_now_ms(), p, 4), 0);
	cr_assert_eq(scpool_next_probe_ms(clock_now_ms()), -1);
	cr_assert_null(pick(0, true));
	cr_assert_eq(stats().no_server, 1);
}

Test(scpool, initial_load_all_oos_then_probed_at_once)
{
	static const struct store_sip_server r[] = {
		PRI("a1", "sip:127.0.1.1:5060", "dc1", "p1", 100),
		BAK("b1", "sip:127.0.1.2:5060", "dc1", "p1", 100),
		ONE("s1", "sip:127.0.1.3:5070;transport=tcp", "dc1", 100),
	};
	struct store_sip_server_seen seen[4];
	struct scpool_stats s;
	struct netaddr want;
	uint64_t t0, wall;

	LOAD(r);
	t0 = clock_now_ms();
	wall = (uint64_t)time(NULL) * 1000;
	cr_assert_eq(scpool_seen(seen, 4), 3);
	for (unsigned i = 0; i < 3; i++) {
		cr_expect_str_eq(seen[i].name, r[i].name);
		cr_expect_str_eq(seen[i].state, "oos");
		cr_expect_str_eq(seen[i].reason, "not probed yet");
		cr_expect_eq(seen[i].rtt_us, -1);
		cr_expect_eq(seen[i].switchover_ms, 0);
		cr_expect(seen[i].since_ms + 5000 > wall && seen[i].since_ms < wall + 5000,
			  "since is the wall clock of the load");
	}
	cr_assert_eq(scpool_seen(seen, 2), 2, "at most max");
	s = stats();
	cr_expect_eq(s.servers[SCPOOL_OOS], 3);
	cr_expect_eq(s.servers[SCPOOL_ACTIVE] + s.servers[SCPOOL_STANDBY], 0);
	cr_expect_eq(s.pairs, 2, "p1 and s1");
	cr_expect_eq(s.pairs_oos, 2);
	cr_expect_eq(s.probes, 0);
	cr_expect_eq(scpool_next_probe_ms(t0), 0, "due at once");
	cr_assert_null(pick(0, true), "nothing in service before the probes");

	/* every server at once, ids in row order, each with its next hop */
	cr_assert_eq(poll_due(t0), 3);
	cr_expect_str_eq(due_names(), "a1 b1 s1");
	for (unsigned i = 0; i < 3; i++) {
		cr_expect_eq(due[i].id, i + 1);
		cr_expect_str_eq(due[i].uri, r[i].uri);
		/* no pair is in service yet: the deadline is oos_force */
		cr_expect_eq(due[i].deadline_ms, t0 + 3000);
	}
	cr_expect_eq(due[0].dest.proto, SIP_PROTO_UDP);
	netaddr_parse("127.0.1.1:5060", &want);
	cr_expect(netaddr_equal(&due[0].dest.addr, &want));
	cr_expect_eq(due[2].dest.proto, SIP_PROTO_TCP);
	netaddr_parse("127.0.1.3:5070", &want);
	cr_expect(netaddr_equal(&due[2].dest.addr, &want));
	cr_expect_eq(stats().probes, 3);

	/* outstanding: not due again; the next event is their deadline */
	cr_assert_eq(poll_due(t0 + 60000), 0);
	cr_expect_eq(scpool_next_probe_ms(t0), 3000);
	cr_expect_eq(scpool_next_probe_ms(t0 + 2000), 1000);
	cr_expect_eq(scpool_next_probe_ms(t0 + 9000), 0);
	cr_expect_eq(stats().probes, 3);
}

Test(scpool, primary_alive_active_backup_alive_standby)
{
	uint64_t t0;

	LOAD(pair1);
	t0 = clock_now_ms();
	cr_assert_eq(poll_due(t0), 2);
	alive("a1", t0 + 10);
	EXPECT_STATE("a1", "active", "answers OPTIONS");
	EXPECT_STATE("b1", "oos", "not probed yet");
	cr_expect_eq(stats().pairs_oos, 0);
	alive("b1", t0 + 20);
	EXPECT_STATE("a1", "active", "answers OPTIONS");
	EXPECT_STATE("b1", "standby", "answers OPTIONS");
	cr_expect_eq(stats().switchovers, 0, "the first activation is no switchover");
	cr_expect_eq(stats().servers[SCPOOL_ACTIVE], 1);
	cr_expect_eq(stats().servers[SCPOOL_STANDBY], 1);
	cr_expect_eq(stat_of("a1").rtt_us, 1500);
	cr_expect_eq(stat_of("a1").state, SCPOOL_ACTIVE);
	cr_expect_eq(stat_of("b1").state, SCPOOL_STANDBY);

	struct store_sip_server_seen s;
	cr_assert(seen_of("a1", &s));
	cr_expect_neq(s.switchover_ms, 0, "a1 became active");
	cr_assert(seen_of("b1", &s));
	cr_expect_eq(s.switchover_ms, 0, "b1 never was");
	cr_expect_eq(s.rtt_us, 1500);

	/* the next probes: oos_check after they were sent */
	cr_expect_eq(scpool_next_probe_ms(t0 + 20), 5000 - 20);
	cr_expect_eq(poll_due(t0 + 4999), 0);
	cr_expect_eq(poll_due(t0 + 5000), 2);
}

Test(scpool, backup_answering_first_waits_for_the_primary)
{
	uint64_t t0;

	LOAD(pair1);
	t0 = clock_now_ms();
	cr_assert_eq(poll_due(t0), 2);
	alive("b1", t0 + 10);
	EXPECT_STATE("b1", "standby", "answers OPTIONS");
	EXPECT_STATE("a1", "oos", "not probed yet");
	cr_expect_eq(stats().pairs_oos, 1);
	cr_expect_null(pick(0, true), "the backup waits for the primary's outcome");
	alive("a1", t0 + 20);
	EXPECT_STATE("a1", "active", "answers OPTIONS");
	EXPECT_STATE("b1", "standby", "answers OPTIONS");
	cr_expect_eq(stats().switchovers, 0);
	cr_expect_str_eq(pick(0, true), "a1");
}

Test(scpool, backup_first_then_primary_dead)
{
	uint64_t t0;

	LOAD(pair1);
	t0 = clock_now_ms();
	cr_assert_eq(poll_due(t0), 2);
	alive("b1", t0 + 10);
	EXPECT_STATE("b1", "standby", "answers OPTIONS");
	dead("a1", "503 to OPTIONS", t0 + 20);
	EXPECT_STATE("a1", "oos", "503 to OPTIONS");
	EXPECT_STATE("b1", "active", "primary out of service");
	cr_expect_eq(stats().switchovers, 0, "a1 never was active");
	cr_expect_eq(stats().pairs_oos, 0);
	cr_expect_eq(stats().probes_failed, 1);
	cr_expect_str_eq(pick(0, true), "b1");
	/* the pair is in service: a1 is probed every oos_check */
	cr_expect_eq(poll_due(t0 + 4999), 0);
	cr_expect_eq(poll_due(t0 + 5000), 2);
}

Test(scpool, primary_dead_first_then_backup)
{
	uint64_t t0;

	LOAD(pair1);
	t0 = clock_now_ms();
	cr_assert_eq(poll_due(t0), 2);
	dead("a1", "no answer to OPTIONS", t0 + 3000);
	EXPECT_STATE("a1", "oos", "no answer to OPTIONS");
	EXPECT_STATE("b1", "oos", "not probed yet");
	alive("b1", t0 + 3001);
	EXPECT_STATE("b1", "active", "primary out of service");
	cr_expect_eq(stats().switchovers, 0);
}

Test(scpool, single_server)
{
	static const struct store_sip_server r[] = {ONE("s1", "sip:127.0.1.3:5060", "dc1", 100)};
	uint64_t t0;

	LOAD(r);
	t0 = clock_now_ms();
	cr_assert_eq(round_at(t0, ""), 1);
	EXPECT_STATE("s1", "active", "answers OPTIONS");
	cr_assert_eq(round_at(t0 + 5000, "s1"), 1);
	EXPECT_STATE("s1", "oos", "503 to OPTIONS");
	cr_expect_eq(stats().pairs_oos, 1);
	cr_expect_null(pick(0, true));
	/* out of service: probed every oos_force */
	cr_expect_eq(poll_due(t0 + 7999), 0);
	cr_assert_eq(round_at(t0 + 8000, ""), 1);
	EXPECT_STATE("s1", "active", "answers OPTIONS");
	cr_expect_eq(stats().switchovers, 0, "no partner: nothing to switch from");
}

/* ---- the choice ------------------------------------------------------------ */

static const struct store_sip_server weighted[] = {
	PRI("a1", "sip:127.0.1.1:5060", "dc1", "p1", 100),
	BAK("b1", "sip:127.0.1.2:5060", "dc1", "p1", 100),
	PRI("a2", "sip:127.0.2.1:5060", "dc1", "p2", 300),
	BAK("b2", "sip:127.0.2.2:5060", "dc1", "p2", 300),
};

Test(scpool, weighted_choice_among_active_members)
{
	unsigned c[4] = {0};

	LOAD(weighted);
	cr_assert_eq(round_at(clock_now_ms(), ""), 4);
	EXPECT_STATE("a2", "active", NULL);
	EXPECT_STATE("b2", "standby", NULL);
	/* smooth weighted round robin: 1:3, interleaved */
	cr_expect_str_eq(pick(0, true), "a2");
	cr_expect_str_eq(pick(0, true), "a1");
	cr_expect_str_eq(pick(0, true), "a2");
	cr_expect_str_eq(pick(0, true), "a2");
	for (unsigned w = 0; w < 2; w++) {
		memset(c, 0, sizeof(c));
		for (unsigned i = 0; i < 4000; i++) {
			const char *got = pick(w, true);

			cr_assert_not_null(got);
			for (unsigned k = 0; k < 4; k++)
				c[k] += strcmp(got, weighted[k].name) == 0;
		}
		cr_expect(c[0] >= 990 && c[0] <= 1010, "worker %u: a1 got %u of 4000", w, c[0]);
		cr_expect(c[2] >= 2970 && c[2] <= 3030, "worker %u: a2 got %u of 4000", w, c[2]);
		cr_expect_eq(c[1], 0, "a backup is never picked");
		cr_expect_eq(c[3], 0, "a backup is never picked");
	}
	/* released every time: nothing is being set up */
	cr_expect_eq(stat_of("a1").setting_up, 0);
	cr_expect_eq(stat_of("a2").setting_up, 0);
	/* a worker number beyond the pickers uses the first one */
	cr_expect_not_null(pick(7, true));
	cr_expect_eq(stats().no_server, 0);
}

Test(scpool, standby_takes_the_share_of_its_pair)
{
	uint64_t t0;

	LOAD(weighted);
	t0 = clock_now_ms();
	cr_assert_eq(round_at(t0, ""), 4);
	cr_assert_eq(round_at(t0 + 5000, "a2"), 4);
	EXPECT_STATE("a2", "oos", "503 to OPTIONS");
	EXPECT_STATE("b2", "active", "a2: 503 to OPTIONS");
	cr_expect_eq(count_picks(0, 4000, "b2"), 3000, "b2 has p2's weight");
	cr_expect_eq(count_picks(1, 4000, "a2"), 0);
}

Test(scpool, weight_zero_never_picked)
{
	static const struct store_sip_server r[] = {
		ONE("z0", "sip:127.0.1.9:5060", "dc1", 0),
		ONE("s1", "sip:127.0.1.3:5060", "dc1", 100),
	};
	static const struct store_sip_server only_zero[] = {
		ONE("z0", "sip:127.0.1.9:5060", "dc1", 0),
	};

	LOAD(r);
	cr_assert_eq(round_at(clock_now_ms(), ""), 2);
	EXPECT_STATE("z0", "active", "answers OPTIONS");
	cr_expect_eq(count_picks(0, 1000, "s1"), 1000);
	cr_expect_eq(stats().no_server, 0);

	LOAD(only_zero);
	EXPECT_STATE("z0", "active", "answers OPTIONS");
	cr_expect_null(pick(0, true), "weight 0 takes no new sessions");
	cr_expect_eq(stats().no_server, 1);
}

Test(scpool, weight_zero_own_data_centre_goes_to_the_next)
{
	static const struct store_sip_server r[] = {
		ONE("z0", "sip:127.0.1.9:5060", "dc1", 0),
		ONE("f1", "sip:127.0.2.1:5060", "dc2", 100),
	};

	snprintf(cfg.cluster.geo_location, sizeof(cfg.cluster.geo_location), "dc1");
	LOAD(r);
	cr_assert_eq(round_at(clock_now_ms(), ""), 2);
	cr_expect_eq(count_picks(0, 10, "f1"), 10);
}

Test(scpool, load_truncated_at_max)
{
	static struct store_sip_server r[SCPOOL_MAX + 44];
	static char names[SCPOOL_MAX + 44][16], uris[SCPOOL_MAX + 44][40];
	static struct store_sip_server_seen seen[SCPOOL_MAX + 44];
	struct scpool_stats s;

	for (unsigned i = 0; i < NROWS(r); i++) {
		snprintf(names[i], sizeof(names[i]), "s%u", i);
		snprintf(uris[i], sizeof(uris[i]), "sip:127.0.%u.%u:5060", i / 200, 1 + i % 200);
		r[i] = (struct store_sip_server)ONE(names[i], uris[i], "dc1", 100);
	}
	LOAD(r);
	cr_expect_eq(scpool_seen(seen, NROWS(seen)), SCPOOL_MAX);
	cr_expect_str_eq(seen[SCPOOL_MAX - 1].name, "s255");
	s = stats();
	cr_expect_eq(s.servers[SCPOOL_OOS], SCPOOL_MAX);
	cr_expect_eq(poll_due(clock_now_ms()), SCPOOL_MAX);
}

/* e5, e1 ... are single servers in dc5, dc1 ...; e2b a second one in dc2.
 * Rows not in name order, so that "by name" is tested. */
static const struct store_sip_server geo_rows[] = {
	ONE("e5", "sip:127.0.5.1:5060", "dc5", 100), ONE("e1", "sip:127.0.1.1:5060", "dc1", 100),
	ONE("e3", "sip:127.0.3.1:5060", "dc3", 100), ONE("e2", "sip:127.0.2.1:5060", "dc2", 100),
	ONE("e4", "sip:127.0.4.1:5060", "dc4", 100), ONE("e2b", "sip:127.0.2.2:5060", "dc2", 100),
};

/* The data centre of the next 20 picks, which must all be in one. */
static const char *picked_dc(void)
{
	const char *dc = NULL;

	for (unsigned i = 0; i < 20; i++) {
		const char *name = pick(0, true);

		if (!name)
			return NULL;
		for (unsigned k = 0; k < NROWS(geo_rows); k++) {
			if (strcmp(geo_rows[k].name, name) != 0)
				continue;
			if (dc)
				cr_assert_str_eq(geo_rows[k].geo_location, dc,
						 "picks in two data centres");
			dc = geo_rows[k].geo_location;
		}
	}
	return dc;
}

Test(scpool, geo_own_then_fallback_then_by_name)
{
	uint64_t t0;

	snprintf(cfg.cluster.geo_location, sizeof(cfg.cluster.geo_location), "dc2");
	snprintf(cfg.cluster.geo_fallback[0], CFG_GEO_MAX, "dc4");
	snprintf(cfg.cluster.geo_fallback[1], CFG_GEO_MAX, "dc3");
	cfg.cluster.ngeo_fallback = 2;
	LOAD(geo_rows);
	t0 = clock_now_ms();
	cr_assert_eq(round_at(t0, ""), 6);
	cr_expect_str_eq(picked_dc(), "dc2");
	cr_expect_eq(count_picks(0, 100, "e2"), 50, "both of dc2, equally");

	/* each round kills one more data centre (singles out of service are
	 * probed every oos_force, so every round probes all of them) */
	cr_assert_eq(round_at(t0 + 5000, "e2 e2b"), 6);
	cr_expect_str_eq(picked_dc(), "dc4", "the first fallback");
	cr_assert_eq(round_at(t0 + 10000, "e2 e2b e4"), 6);
	cr_expect_str_eq(picked_dc(), "dc3", "the second fallback");
	cr_assert_eq(round_at(t0 + 15000, "e2 e2b e4 e3"), 6);
	cr_expect_str_eq(picked_dc(), "dc1", "then the rest by name");
	cr_assert_eq(round_at(t0 + 20000, "e2 e2b e4 e3 e1"), 6);
	cr_expect_str_eq(picked_dc(), "dc5");
	cr_assert_eq(round_at(t0 + 25000, "e2 e2b e4 e3 e1 e5"), 6);
	cr_expect_null(picked_dc());
	cr_expect_eq(stats().no_server, 1);
	cr_expect_eq(stats().pairs_oos, 6);
	/* the own data centre back: first again */
	cr_assert_eq(round_at(t0 + 30000, "e2 e4 e3 e1 e5"), 6);
	cr_expect_str_eq(picked_dc(), "dc2");
	cr_expect_eq(count_picks(0, 10, "e2b"), 10);
}

Test(scpool, geo_without_location_by_name)
{
	uint64_t t0;

	LOAD(geo_rows);
	t0 = clock_now_ms();
	cr_assert_eq(round_at(t0, ""), 6);
	cr_expect_str_eq(picked_dc(), "dc1");
	cr_assert_eq(round_at(t0 + 5000, "e1"), 6);
	cr_expect_str_eq(picked_dc(), "dc2");
	cr_assert_eq(round_at(t0 + 10000, "e1 e2 e2b"), 6);
	cr_expect_str_eq(picked_dc(), "dc3");
}

Test(scpool, geo_location_without_own_servers)
{
	uint64_t t0;

	/* nothing in dc9, no fallback: the others by name */
	snprintf(cfg.cluster.geo_location, sizeof(cfg.cluster.geo_location), "dc9");
	LOAD(geo_rows);
	t0 = clock_now_ms();
	cr_assert_eq(round_at(t0, ""), 6);
	cr_expect_str_eq(picked_dc(), "dc1");
}

Test(scpool, no_server_counts_refusals)
{
	LOAD(pair1);
	cr_assert_eq(round_at(clock_now_ms(), "a1 b1"), 2);
	EXPECT_STATE("a1", "oos", "503 to OPTIONS");
	EXPECT_STATE("b1", "oos", "503 to OPTIONS");
	for (unsigned i = 0; i < 3; i++)
		cr_expect_null(pick(i % 2, true));
	cr_expect_eq(stats().no_server, 3);
	cr_expect_eq(stats().pairs, 1);
	cr_expect_eq(stats().pairs_oos, 1);
	cr_expect_eq(stats().probes_failed, 2);
}

/* ---- calls being set up --------------------------------------------------- */

Test(scpool, release_decrements)
{
	struct scpool_pick p;

	LOAD(pair1);
	cr_assert_eq(round_at(clock_now_ms(), ""), 2);
	cr_assert(scpool_choose(0, &p));
	cr_assert_str_eq(p.uri, "sip:127.0.1.1:5060");
	cr_expect_eq(stat_of("a1").setting_up, 1);
	cr_assert(scpool_choose(1, &p));
	cr_expect_eq(stat_of("a1").setting_up, 2);
	scpool_release(p.id);
	cr_expect_eq(stat_of("a1").setting_up, 1);
	scpool_release(p.id);
	cr_expect_eq(stat_of("a1").setting_up, 0);
	scpool_release(p.id);
	cr_expect_eq(stat_of("a1").setting_up, 0, "never below zero");
	scpool_release(12345); /* unknown: ignored */
	cr_expect_eq(stat_of("b1").setting_up, 0);
}

Test(scpool, slow_server_is_skipped)
{
	static const struct store_sip_server r[] = {
		ONE("q1", "sip:127.0.1.1:5060", "dc1", 100),
		ONE("q2", "sip:127.0.1.2:5060", "dc1", 100),
	};
	unsigned q1 = 0, q2 = 0, most = 0;

	LOAD(r);
	cr_assert_eq(round_at(clock_now_ms(), ""), 2);
	/* q1 never finishes a call, q2 at once: q1 may hold half as much again
	 * as its share of the calls in progress plus the slack,
	 * 1.5 * (setting + 2 * 4) / 2, so no more than 25 */
	for (unsigned i = 0; i < 50; i++) {
		const char *got = pick(0, false);

		cr_assert_not_null(got);
		if (strcmp(got, "q2") == 0) {
			q2++;
			scpool_release(id_of("q2"));
		} else {
			q1++;
		}
		if (stat_of("q1").setting_up > most)
			most = stat_of("q1").setting_up;
	}
	cr_expect_eq(most, 25, "q1 held %u calls", most);
	cr_expect_eq(q1, 25);
	cr_expect_eq(q2, 25);
	/* q1 drains: it is picked again */
	for (unsigned i = 0; i < 25; i++)
		scpool_release(id_of("q1"));
	cr_expect_eq(stat_of("q1").setting_up, 0);
	cr_expect_eq(count_picks(0, 100, "q1"), 50);
}

Test(scpool, lone_server_is_never_skipped)
{
	static const struct store_sip_server r[] = {ONE("s1", "sip:127.0.1.3:5060", "dc1", 100)};

	LOAD(r);
	cr_assert_eq(round_at(clock_now_ms(), ""), 1);
	for (unsigned i = 0; i < 100; i++)
		cr_assert_str_eq(pick(i % 2, false), "s1");
	cr_expect_eq(stat_of("s1").setting_up, 100);
}

/* ---- probing: deadlines, switchover, pairs out of service ------------------ */

Test(scpool, probe_deadline_min_of_check_and_force_in_service)
{
	uint64_t t0, t1;

	cfg.cluster.oos_check = 2;
	cfg.cluster.oos_force = 5;
	LOAD(pair1);
	t0 = clock_now_ms();
	cr_assert_eq(poll_due(t0), 2);
	cr_expect_eq(due[0].deadline_ms, t0 + 5000, "pair out of service: oos_force");
	cr_expect_eq(due[1].deadline_ms, t0 + 5000);
	alive("a1", t0);
	alive("b1", t0);
	/* in service: never longer than the probe interval */
	t1 = t0 + 2000;
	cr_expect_eq(scpool_next_probe_ms(t0), 2000);
	cr_assert_eq(poll_due(t1), 2);
	cr_expect_eq(due_of("a1")->deadline_ms, t1 + 2000);
	cr_expect_eq(due_of("b1")->deadline_ms, t1 + 2000, "the standby's pair is in service");
	cr_expect_eq(scpool_next_probe_ms(t1), 2000);
	/* both fail: the pair is out, the next probe waits oos_force */
	dead("b1", "503 to OPTIONS", t1 + 5);
	dead("a1", "no answer to OPTIONS", t1 + 2000);
	cr_expect_eq(stats().pairs_oos, 1);
	cr_assert_eq(poll_due(t1 + 2000), 1);
	cr_expect_str_eq(due_names(), "b1");
	cr_expect_eq(due[0].deadline_ms, t1 + 2000 + 5000);
}

Test(scpool, probe_deadline_oos_force_when_shorter)
{
	uint64_t t0, t1;

	cfg.cluster.oos_check = 10;
	cfg.cluster.oos_force = 3;
	t0 = pair1_in_service();
	t1 = t0 + 10000;
	cr_expect_eq(poll_due(t1 - 1), 0);
	cr_assert_eq(poll_due(t1), 2);
	cr_expect_eq(due[0].deadline_ms, t1 + 3000);
	cr_expect_eq(due[1].deadline_ms, t1 + 3000);
}

Test(scpool, active_failing_switches_to_alive_standby_at_once)
{
	uint64_t t0 = pair1_in_service(), t1 = t0 + 5000;
	struct store_sip_server_seen s;

	cr_expect_eq(stats().switchovers, 0);
	cr_assert_eq(poll_due(t1), 2);
	/* a1 fails while b1's probe is still out: b1's last answer counts */
	dead("a1", "503 to OPTIONS", t1 + 10);
	EXPECT_STATE("a1", "oos", "503 to OPTIONS");
	EXPECT_STATE("b1", "active", "a1: 503 to OPTIONS");
	cr_expect_eq(stats().switchovers, 1);
	cr_expect_eq(stats().pairs_oos, 0);
	cr_assert(seen_of("b1", &s));
	cr_expect_neq(s.switchover_ms, 0);
	cr_expect_str_eq(pick(0, true), "b1");
	alive("b1", t1 + 20);
	EXPECT_STATE("b1", "active", "a1: 503 to OPTIONS");
	/* the pair is in service: a1 is probed again after oos_check */
	cr_expect_eq(poll_due(t1 + 4999), 0);
	cr_assert_eq(poll_due(t1 + 5000), 2);
	/* the old primary comes back: it stays standby */
	alive("a1", t1 + 5010);
	alive("b1", t1 + 5010);
	EXPECT_STATE("a1", "standby", "answers OPTIONS");
	EXPECT_STATE("b1", "active", NULL);
	cr_expect_eq(count_picks(0, 10, "b1"), 10);
	cr_expect_eq(stats().switchovers, 1);
}

Test(scpool, standby_failing_changes_nothing_else)
{
	uint64_t t0 = pair1_in_service(), t1 = t0 + 5000;

	cr_assert_eq(round_at(t1, "b1"), 2);
	EXPECT_STATE("a1", "active", "answers OPTIONS");
	EXPECT_STATE("b1", "oos", "503 to OPTIONS");
	cr_expect_eq(stats().switchovers, 0);
	cr_expect_eq(stats().pairs_oos, 0);
	/* the pair is in service: b1 keeps the oos_check period */
	cr_expect_eq(poll_due(t1 + 4999), 0);
	cr_assert_eq(round_at(t1 + 5000, ""), 2);
	EXPECT_STATE("b1", "standby", "answers OPTIONS");
}

/* Both members fail, each after oos_force without an answer (the
 * prober's deadline): the pair is out of service and its members are
 * probed one at a time, alternately, every oos_force. */
Test(scpool, pair_out_of_service_members_probed_alternately)
{
	uint64_t t0 = pair1_in_service(), t1 = t0 + 5000;

	cr_assert_eq(poll_due(t1), 2);
	cr_expect_eq(due_of("a1")->deadline_ms, t1 + 3000);
	dead("b1", "503 to OPTIONS", t1 + 10);
	EXPECT_STATE("b1", "oos", "503 to OPTIONS");
	dead("a1", "no answer to OPTIONS", t1 + 3000);
	EXPECT_STATE("a1", "oos", "no answer to OPTIONS");
	cr_expect_eq(stats().switchovers, 0, "nothing to switch to");
	cr_expect_eq(stats().pairs_oos, 1);
	cr_expect_null(pick(0, true));

	/* b1 at once, then a1, b1, a1 ... each oos_force after the last */
	const char *expect[] = {"b1", "a1", "b1", "a1"};
	uint64_t at = t1 + 3000;
	for (unsigned i = 0; i < 4; i++, at += 3000) {
		cr_expect_eq(scpool_next_probe_ms(at - 1), 1, "step %u", i);
		cr_expect_eq(poll_due(at - 1), 0, "step %u: nothing before", i);
		cr_assert_eq(poll_due(at), 1, "step %u: %s", i, due_names());
		cr_expect_str_eq(due_names(), expect[i], "step %u", i);
		cr_expect_eq(due[0].deadline_ms, at + 3000, "step %u: oos_force", i);
		dead(expect[i], "no answer to OPTIONS", at + 3000);
	}
	/* at = t1 + 15000: b1's turn; it answers and takes the pair */
	cr_assert_eq(poll_due(at), 1);
	cr_expect_str_eq(due_names(), "b1");
	alive("b1", at + 50);
	EXPECT_STATE("b1", "active", "primary out of service");
	EXPECT_STATE("a1", "oos", "no answer to OPTIONS");
	cr_expect_eq(stats().switchovers, 1, "a1 was the last active");
	cr_expect_eq(stats().pairs_oos, 0);
	cr_expect_str_eq(pick(0, true), "b1");
	/* a1's turn comes; it is back, and stays standby */
	cr_assert_eq(poll_due(at + 3000), 1);
	cr_expect_str_eq(due_names(), "a1");
	cr_expect_eq(due[0].deadline_ms, at + 6000, "in service again: min(check, force)");
	alive("a1", at + 3010);
	EXPECT_STATE("a1", "standby", "answers OPTIONS");
	EXPECT_STATE("b1", "active", "primary out of service");
	cr_expect_eq(stats().switchovers, 1);
}

/*
 * A pair out of service whose members fail fast (503 to OPTIONS, not a
 * timeout) is still probed one member at a time, every oos_force: a fast
 * failure does not make the other member due at once.
 */
Test(scpool, pair_out_of_service_fast_failures_still_wait_oos_force)
{
	uint64_t t0 = pair1_in_service(), t1 = t0 + 5000, now;
	unsigned probes = 0;

	cr_assert_eq(poll_due(t1), 2);
	dead("b1", "503 to OPTIONS", t1 + 5);
	dead("a1", "503 to OPTIONS", t1 + 10); /* the pair is out */
	cr_assert_eq(poll_due(t1 + 10), 1);
	cr_expect_str_eq(due_names(), "b1");
	dead("b1", "503 to OPTIONS", t1 + 15);
	/* a prober answering every probe 5 ms later, over one oos_force: a1
	 * failed at t1+10, so its turn is t1+3010; b1's t1+3015 */
	uint64_t first = 0;
	for (now = t1 + 15; now < t1 + 3000; now += 5) {
		unsigned n = poll_due(now);
		struct scpool_probe copy[SCPOOL_MAX];

		memcpy(copy, due, sizeof(copy[0]) * n);
		if (n && !first)
			first = now;
		probes += n;
		for (unsigned i = 0; i < n; i++)
			scpool_probe_done(copy[i].id, false, 0, "503 to OPTIONS", now + 5);
	}
	cr_expect_eq(probes, 0,
		     "%u probes within one oos_force of a pair out of service, the first "
		     "%llu ms after b1's failure",
		     probes, (unsigned long long)(first - (t1 + 15)));
}

Test(scpool, pair_out_of_service_primary_back_first)
{
	uint64_t t0 = pair1_in_service(), t1 = t0 + 5000;

	cr_assert_eq(poll_due(t1), 2);
	dead("b1", "503 to OPTIONS", t1 + 5);
	dead("a1", "no answer to OPTIONS", t1 + 3000);
	cr_expect_eq(stats().pairs_oos, 1);
	cr_assert_eq(poll_due(t1 + 3000), 1);
	cr_expect_str_eq(due_names(), "b1");
	dead("b1", "no answer to OPTIONS", t1 + 6000);
	cr_assert_eq(poll_due(t1 + 6000), 1);
	cr_expect_str_eq(due_names(), "a1");
	alive("a1", t1 + 6010);
	EXPECT_STATE("a1", "active", "answers OPTIONS");
	cr_expect_eq(stats().switchovers, 0, "a1 was the last active: no switch");
	cr_expect_eq(stats().pairs_oos, 0);
	/* b1's turn: it comes back standby */
	cr_assert_eq(round_at(t1 + 9000, ""), 1);
	cr_expect_str_eq(due_names(), "b1");
	EXPECT_STATE("b1", "standby", "answers OPTIONS");
	cr_expect_eq(stats().switchovers, 0);
}

/* The active member fails while the standby's last answer was alive: the
 * standby takes over (a switch), then fails too: the pair is out. */
Test(scpool, switch_then_standby_fails_too)
{
	uint64_t t0 = pair1_in_service(), t1 = t0 + 5000;

	cr_assert_eq(round_at(t1, "a1 b1"), 2);
	EXPECT_STATE("a1", "oos", "503 to OPTIONS");
	EXPECT_STATE("b1", "oos", "503 to OPTIONS");
	cr_expect_eq(stats().switchovers, 1, "b1 was active for a moment");
	cr_expect_eq(stats().pairs_oos, 1);
	cr_expect_null(pick(0, true));
}

Test(scpool, probes_due_at_most_max)
{
	static const struct store_sip_server r[] = {
		ONE("s1", "sip:127.0.1.1:5060", "dc1", 100),
		ONE("s2", "sip:127.0.1.2:5060", "dc1", 100),
		ONE("s3", "sip:127.0.1.3:5060", "dc1", 100),
	};
	struct scpool_probe p[2];
	uint64_t t0;

	LOAD(r);
	t0 = clock_now_ms();
	cr_assert_eq(scpool_probes_due(t0, p, 2), 2);
	cr_expect_eq(p[0].id, 1);
	cr_expect_eq(p[1].id, 2);
	cr_assert_eq(scpool_probes_due(t0, p, 2), 1, "the rest next time");
	cr_expect_eq(p[0].id, 3);
	cr_expect_eq(scpool_probes_due(t0, p, 2), 0);
	cr_expect_eq(stats().probes, 3);
}

Test(scpool, outcome_for_removed_or_idle_server_ignored)
{
	static const struct store_sip_server only_a1[] = {
		PRI("a1", "sip:127.0.1.1:5060", "dc1", "p1", 100),
	};
	uint64_t t0 = pair1_in_service();

	/* no probe out: an outcome is stale */
	scpool_probe_done(id_of("a1"), false, 0, "503 to OPTIONS", t0 + 10);
	EXPECT_STATE("a1", "active", "answers OPTIONS");
	cr_expect_eq(stats().probes_failed, 0);
	/* b1 removed while its probe is out */
	cr_assert_eq(poll_due(t0 + 5000), 2);
	uint32_t b1 = id_of("b1");
	LOAD(only_a1);
	scpool_probe_done(b1, false, 0, "503 to OPTIONS", t0 + 5010);
	scpool_probe_done(999, false, 0, "503 to OPTIONS", t0 + 5010);
	cr_expect_eq(stats().probes_failed, 0);
	EXPECT_STATE("a1", "active", "answers OPTIONS");
	cr_expect_eq(scpool_seen((struct store_sip_server_seen[4]){0}, 4), 1);
}

/* ---- takeover by a request ------------------------------------------------- */

Test(scpool, request_from_standby_makes_it_active)
{
	uint64_t t0 = pair1_in_service();

	cr_expect(from("127.0.1.2:5060", t0 + 100));
	EXPECT_STATE("b1", "active", "request from it: it has taken over");
	EXPECT_STATE("a1", "standby", "b1 took over");
	cr_expect_eq(stats().switchovers, 1);
	cr_expect_eq(stats().pairs_oos, 0);
	cr_expect_eq(count_picks(0, 10, "b1"), 10);
	/* from the active member: nothing changes */
	cr_expect(from("127.0.1.2:5060", t0 + 200));
	EXPECT_STATE("b1", "active", "request from it: it has taken over");
	cr_expect_eq(stats().switchovers, 1);
	/* and back */
	cr_expect(from("127.0.1.1:5060", t0 + 300));
	EXPECT_STATE("a1", "active", "request from it: it has taken over");
	EXPECT_STATE("b1", "standby", "a1 took over");
	cr_expect_eq(stats().switchovers, 2);
	/* not one of ours */
	cr_expect_not(from("127.0.9.9:5060", t0 + 400));
	cr_expect_not(from("[::1]:5060", t0 + 400));
	EXPECT_STATE("a1", "active", NULL);
}

Test(scpool, request_from_oos_member_makes_it_active)
{
	uint64_t t0 = pair1_in_service();

	cr_assert_eq(round_at(t0 + 5000, "b1"), 2);
	EXPECT_STATE("b1", "oos", "503 to OPTIONS");
	cr_expect(from("127.0.1.2:5060", t0 + 5100));
	EXPECT_STATE("b1", "active", "request from it: it has taken over");
	EXPECT_STATE("a1", "standby", "b1 took over");
	cr_expect_eq(stats().switchovers, 1);
}

Test(scpool, request_matches_address_alone_for_another_port)
{
	uint64_t t0 = pair1_in_service();
	struct sip_source s = source("127.0.1.2:40123", SIP_PROTO_TCP);

	cr_expect(scpool_from(&s, t0 + 100), "b1 over a stream, from another port");
	EXPECT_STATE("b1", "active", "request from it: it has taken over");
}

Test(scpool, request_matches_exact_address_and_port_first)
{
	static const struct store_sip_server r[] = {
		ONE("x1", "sip:127.0.1.5:5060", "dc1", 100),
		ONE("x2", "sip:127.0.1.5:5070", "dc1", 100),
	};
	uint64_t now;

	LOAD(r);
	now = clock_now_ms();
	/* neither probed yet: a request makes it active */
	cr_expect(from("127.0.1.5:5070", now));
	EXPECT_STATE("x2", "active", "request from it: it has taken over");
	EXPECT_STATE("x1", "oos", "not probed yet");
	cr_expect(from("127.0.1.5:5080", now), "same address, another port");
	EXPECT_STATE("x1", "active", "request from it: it has taken over");
	cr_expect_eq(stats().switchovers, 0);
}

Test(scpool, request_from_disabled_server_changes_nothing)
{
	static const struct store_sip_server r[] = {
		SRV("d1", "sip:127.0.1.7:5060", "dc1", NULL, false, 100, false),
	};

	LOAD(r);
	cr_expect(from("127.0.1.7:5060", clock_now_ms()), "it is one of the servers");
	EXPECT_STATE("d1", "oos", "disabled");
	cr_expect_null(pick(0, true));
}

/* ---- reload ------------------------------------------------------------------- */

Test(scpool, reload_keeps_state_and_resets_the_picker)
{
	static const struct store_sip_server v1[] = {
		PRI("a1", "sip:127.0.1.1:5060", "dc1", "p1", 100),
		BAK("b1", "sip:127.0.1.2:5060", "dc1", "p1", 100),
		ONE("a2", "sip:127.0.2.1:5060", "dc1", 100),
		ONE("c1", "sip:127.0.3.1:5060", "dc1", 100),
		ONE("e1", "sip:127.0.4.1:5060", "dc1", 100),
	};
	static const struct store_sip_server v2[] = {
		PRI("a1", "sip:127.0.1.1:5060", "dc1", "p1", 100),
		BAK("b1", "sip:127.0.1.2:5060", "dc1", "p1", 100),
		ONE("a2", "sip:127.0.2.1:5060", "dc1", 300), /* weight changed */
		/* c1 removed */
		ONE("d1", "sip:127.0.5.1:5060", "dc1", 100), /* new */
		ONE("e1", "sip:127.0.4.1:5061", "dc2", 100), /* URI changed */
	};
	struct store_sip_server_seen seen[8];
	struct scpool_pick held;
	uint64_t t0, t2;

	LOAD(v1);
	t0 = clock_now_ms();
	cr_assert_eq(round_at(t0, "e1"), 5);
	EXPECT_STATE("a1", "active", "answers OPTIONS");
	EXPECT_STATE("b1", "standby", "answers OPTIONS");
	EXPECT_STATE("a2", "active", "answers OPTIONS");
	EXPECT_STATE("c1", "active", "answers OPTIONS");
	EXPECT_STATE("e1", "oos", "503 to OPTIONS");
	cr_assert(from("127.0.1.2:5060", t0 + 1)); /* b1 takes over */
	EXPECT_STATE("b1", "active", "request from it: it has taken over");
	/* one pick leaves the picker's state uneven; one call in progress */
	cr_assert_str_eq(pick(0, true), "b1");
	cr_assert_str_eq(pick(1, true), "b1");
	cr_assert(scpool_choose(1, &held));
	cr_assert_str_eq(held.uri, "sip:127.0.2.1:5060");
	cr_expect_eq(stat_of("a2").setting_up, 1);
	uint32_t a1_id = id_of("a1"), a2_id = id_of("a2");
	uint64_t switchovers = stats().switchovers;

	LOAD(v2);
	cr_assert_eq(scpool_seen(seen, 8), 5);
	cr_expect_str_eq(seen[0].name, "a1");
	cr_expect_str_eq(seen[3].name, "d1");
	EXPECT_STATE("a1", "standby", "b1 took over");
	EXPECT_STATE("b1", "active", "request from it: it has taken over");
	EXPECT_STATE("a2", "active", "answers OPTIONS");
	EXPECT_STATE("d1", "oos", "not probed yet");
	EXPECT_STATE("e1", "oos", "not probed yet");
	cr_expect_eq(stats().switchovers, switchovers);
	cr_expect_eq(stat_of("a2").setting_up, 1, "calls in progress survive");
	cr_expect_eq(stat_of("a2").rtt_us, 1002, "so does the last RTT");
	cr_expect_eq(stat_of("d1").rtt_us, -1);
	/* only the new servers are due now; the kept ones keep their time */
	t2 = clock_now_ms();
	cr_assert_eq(poll_due(t2), 2);
	cr_expect_str_eq(due_names(), "d1 e1");
	cr_expect_eq(id_of("d1"), 6, "a new id");
	cr_expect_eq(id_of("e1"), 7, "a new URI is a new server");
	cr_expect_eq(scpool_next_probe_ms(t2), 3000);
	cr_assert_eq(poll_due(t0 + 5000), 3);
	cr_expect_str_eq(due_names(), "a1 b1 a2");
	cr_expect_eq(id_of("a1"), a1_id);
	cr_expect_eq(id_of("a2"), a2_id);
	scpool_release(held.id);
	cr_expect_eq(stat_of("a2").setting_up, 0, "released by the id from before the reload");

	/* the picker starts over with the new weights (b1 100, a2 300) */
	cr_expect_str_eq(pick(0, true), "a2");
	cr_expect_str_eq(pick(0, true), "b1");
	cr_expect_str_eq(pick(0, true), "a2");
	cr_expect_str_eq(pick(0, true), "a2");
	cr_expect_eq(count_picks(0, 400, "a2"), 300);
}

Test(scpool, reload_same_rows_changes_nothing)
{
	uint64_t t0 = pair1_in_service();

	LOAD(pair1);
	EXPECT_STATE("a1", "active", "answers OPTIONS");
	EXPECT_STATE("b1", "standby", "answers OPTIONS");
	cr_expect_eq(poll_due(t0 + 4999), 0, "no probe out of turn");
	cr_expect_eq(stats().switchovers, 0);
}

Test(scpool, reload_keeps_outstanding_probe)
{
	uint64_t t0;

	LOAD(pair1);
	t0 = clock_now_ms();
	cr_assert_eq(poll_due(t0), 2);
	LOAD(pair1);
	cr_expect_eq(poll_due(t0 + 1), 0, "still outstanding");
	alive("a1", t0 + 20);
	EXPECT_STATE("a1", "active", "answers OPTIONS");
}

Test(scpool, reload_pairing_two_active_servers)
{
	static const struct store_sip_server v1[] = {
		ONE("a1", "sip:127.0.1.1:5060", "dc1", 100),
		ONE("b1", "sip:127.0.1.2:5060", "dc1", 100),
	};
	uint64_t t0;

	LOAD(v1);
	t0 = clock_now_ms();
	cr_assert_eq(round_at(t0, ""), 2);
	EXPECT_STATE("b1", "active", "answers OPTIONS");
	LOAD(pair1);
	EXPECT_STATE("a1", "active", "answers OPTIONS");
	EXPECT_STATE("b1", "standby", "pair has an active primary");
	cr_expect_eq(count_picks(0, 10, "a1"), 10);
}

Test(scpool, reload_removing_the_active_member)
{
	static const struct store_sip_server only_b1[] = {
		BAK("b1", "sip:127.0.1.2:5060", "dc1", "p1", 100),
	};

	pair1_in_service();
	LOAD(only_b1);
	EXPECT_STATE("b1", "active", "answers OPTIONS");
	cr_expect_str_eq(pick(0, true), "b1");
}

/* ---- disabled and unresolvable servers ------------------------------------- */

Test(scpool, disabled_servers_are_never_probed)
{
	static const struct store_sip_server r[] = {
		SRV("a1", "sip:127.0.1.1:5060", "dc1", "p1", false, 100, false),
		BAK("b1", "sip:127.0.1.2:5060", "dc1", "p1", 100),
		SRV("s1", "sip:127.0.1.3:5060", "dc1", NULL, false, 100, false),
		SRV("x1", "sip:127.0.7.1:5060", "dc1", "p7", false, 100, false),
		SRV("x2", "sip:127.0.7.2:5060", "dc1", "p7", true, 100, false),
	};
	uint64_t t0;

	LOAD(r);
	t0 = clock_now_ms();
	EXPECT_STATE("a1", "oos", "disabled");
	EXPECT_STATE("s1", "oos", "disabled");
	EXPECT_STATE("x1", "oos", "disabled");
	EXPECT_STATE("x2", "oos", "disabled");
	EXPECT_STATE("b1", "oos", "not probed yet");
	cr_assert_eq(poll_due(t0), 1);
	cr_expect_str_eq(due_names(), "b1");
	alive("b1", t0 + 10);
	EXPECT_STATE("b1", "active", "primary disabled");
	/* p1 counts; s1 and p7, disabled whole, are out on purpose */
	cr_expect_eq(stats().pairs, 1);
	cr_expect_eq(stats().pairs_oos, 0);
	cr_expect_eq(stats().switchovers, 0);
	for (uint64_t t = t0 + 5000; t < t0 + 60000; t += 5000) {
		cr_assert_eq(poll_due(t), 1);
		cr_expect_str_eq(due_names(), "b1");
		alive("b1", t);
	}
	cr_expect_eq(count_picks(0, 20, "b1"), 20);
	/* a stray outcome for a disabled server is ignored */
	scpool_probe_done(1, true, 10, "answers OPTIONS", t0 + 60000);
	EXPECT_STATE("a1", "oos", "disabled");
}

Test(scpool, disabling_and_enabling_by_reload)
{
	static const struct store_sip_server a1_off[] = {
		SRV("a1", "sip:127.0.1.1:5060", "dc1", "p1", false, 100, false),
		BAK("b1", "sip:127.0.1.2:5060", "dc1", "p1", 100),
	};
	uint64_t t0 = pair1_in_service();

	LOAD(a1_off);
	EXPECT_STATE("a1", "oos", "disabled");
	EXPECT_STATE("b1", "active", "primary disabled");
	cr_expect_eq(stats().pairs_oos, 0);
	cr_expect_eq(count_picks(0, 10, "b1"), 10);
	cr_expect_eq(poll_due(t0 + 5000), 1, "only b1 is probed");
	cr_expect_str_eq(due_names(), "b1");
	alive("b1", t0 + 5000);
	/* enabled again: probed at once, and it comes back standby */
	LOAD(pair1);
	cr_assert_eq(poll_due(t0 + 5001), 1);
	cr_expect_str_eq(due_names(), "a1");
	alive("a1", t0 + 5002);
	EXPECT_STATE("a1", "standby", "answers OPTIONS");
	EXPECT_STATE("b1", "active", "primary disabled");
}

Test(scpool, unresolvable_servers_are_oos_and_never_probed)
{
	static const struct store_sip_server r[] = {
		ONE("t1", "sip:127.0.1.1:5061;transport=tls", "dc1", 100), /* no TLS listener */
		ONE("v6", "sip:[::1]:5060", "dc1", 100),                   /* no IPv6 listener */
		ONE("bad", "not a URI", "dc1", 100),
		ONE("s1", "sip:127.0.1.3:5060", "dc1", 100),
	};
	uint64_t t0;

	LOAD(r);
	t0 = clock_now_ms();
	EXPECT_STATE("t1", "oos", "unresolvable URI");
	EXPECT_STATE("v6", "oos", "unresolvable URI");
	EXPECT_STATE("bad", "oos", "unresolvable URI");
	cr_assert_eq(poll_due(t0), 1);
	cr_expect_str_eq(due_names(), "s1");
	cr_expect_not(from("[::1]:5060", t0), "an unresolved server matches no source");
	cr_expect_eq(stats().pairs, 4);
	cr_expect_eq(stats().pairs_oos, 4);
}

/*
 * A primary whose URI does not resolve is out of service and never
 * probed; its backup, answering, takes the pair.
 */
Test(scpool, unresolvable_primary_leaves_the_backup_in_charge)
{
	static const struct store_sip_server r[] = {
		PRI("a1", "sip:127.0.1.1:5061;transport=tls", "dc1", "p1", 100),
		BAK("b1", "sip:127.0.1.2:5060", "dc1", "p1", 100),
	};
	uint64_t t0;

	LOAD(r);
	t0 = clock_now_ms();
	EXPECT_STATE("a1", "oos", "unresolvable URI");
	cr_assert_eq(poll_due(t0), 1);
	alive("b1", t0 + 10);
	EXPECT_STATE("b1", "active", NULL);
	cr_expect_eq(stats().pairs_oos, 0);
	cr_expect_str_eq(pick(0, true), "b1");
}

/* ---- [cluster] oos_check = 0: no probing ------------------------------------ */

static const struct store_sip_server no_probe_rows[] = {
	PRI("a1", "sip:127.0.1.1:5060", "dc1", "p1", 100),
	BAK("b1", "sip:127.0.1.2:5060", "dc1", "p1", 100),
	ONE("s1", "sip:127.0.1.3:5060", "dc1", 100),
	SRV("d1", "sip:127.0.1.4:5060", "dc1", NULL, false, 100, false),
};

Test(scpool, no_probing_everything_enabled_in_service)
{
	uint64_t t0;

	cfg.cluster.oos_check = 0;
	LOAD(no_probe_rows);
	t0 = clock_now_ms();
	EXPECT_STATE("a1", "active", "answers OPTIONS");
	EXPECT_STATE("b1", "standby", "answers OPTIONS");
	EXPECT_STATE("s1", "active", "answers OPTIONS");
	EXPECT_STATE("d1", "oos", "disabled");
	cr_expect_eq(stats().switchovers, 0);
	cr_expect_eq(stats().pairs_oos, 0);
	cr_expect_eq(poll_due(t0), 0);
	cr_expect_eq(poll_due(t0 + 600000), 0);
	cr_expect_eq(scpool_next_probe_ms(t0), -1);
	cr_expect_eq(stats().probes, 0);
	cr_expect_eq(count_picks(0, 100, "a1"), 50);
	/* a takeover still works */
	cr_expect(from("127.0.1.2:5060", t0));
	EXPECT_STATE("b1", "active", "request from it: it has taken over");
	EXPECT_STATE("a1", "standby", "b1 took over");
	/* a reload keeps that */
	LOAD(no_probe_rows);
	EXPECT_STATE("b1", "active", "request from it: it has taken over");
	EXPECT_STATE("a1", "standby", "b1 took over");
}

Test(scpool, no_probing_newly_enabled_server_in_service)
{
	static const struct store_sip_server d1_on[] = {
		ONE("d1", "sip:127.0.1.4:5060", "dc1", 100),
	};

	cfg.cluster.oos_check = 0;
	LOAD(no_probe_rows);
	EXPECT_STATE("d1", "oos", "disabled");
	LOAD(d1_on);
	EXPECT_STATE("d1", "active", "answers OPTIONS");
}

/*
 * Without probing (oos_check = 0), a server disabled by a reload and
 * enabled again is back in service: primaries active, backups standby.
 */
Test(scpool, no_probing_reenabled_server_back_in_service)
{
	static const struct store_sip_server off[] = {
		SRV("a1", "sip:127.0.1.1:5060", "dc1", "p1", false, 100, false),
		BAK("b1", "sip:127.0.1.2:5060", "dc1", "p1", 100),
		SRV("s1", "sip:127.0.1.3:5060", "dc1", NULL, false, 100, false),
	};
	static const struct store_sip_server on[] = {
		PRI("a1", "sip:127.0.1.1:5060", "dc1", "p1", 100),
		BAK("b1", "sip:127.0.1.2:5060", "dc1", "p1", 100),
		ONE("s1", "sip:127.0.1.3:5060", "dc1", 100),
	};

	cfg.cluster.oos_check = 0;
	LOAD(on);
	EXPECT_STATE("s1", "active", "answers OPTIONS");
	LOAD(off);
	EXPECT_STATE("s1", "oos", "disabled");
	EXPECT_STATE("a1", "oos", "disabled");
	EXPECT_STATE("b1", "active", "primary disabled");
	LOAD(on);
	EXPECT_STATE("s1", "active", NULL);
	EXPECT_STATE("a1", "standby", NULL);
	EXPECT_STATE("b1", "active", NULL);
}

/* ---- threads ------------------------------------------------------------------ */

static const struct store_sip_server busy_rows[] = {
	ONE("s1", "sip:127.0.1.1:5060", "dc1", 100),
	ONE("s2", "sip:127.0.1.2:5060", "dc1", 200),
};
static _Atomic unsigned busy_bad;

static void *picker_thread(void *arg)
{
	unsigned w = (unsigned)(uintptr_t)arg;
	struct scpool_pick p;

	for (unsigned i = 0; i < 20000; i++) {
		if (!scpool_choose(w, &p) ||
		    (strcmp(p.uri, busy_rows[0].uri) != 0 && strcmp(p.uri, busy_rows[1].uri) != 0))
			busy_bad++;
		else
			scpool_release(p.id);
	}
	return NULL;
}

Test(scpool, pickers_while_reloading)
{
	pthread_t th[2];

	cfg.cluster.oos_check = 0; /* in service from the load on */
	LOAD(busy_rows);
	for (unsigned i = 0; i < 2; i++)
		cr_assert_eq(pthread_create(&th[i], NULL, picker_thread, (void *)(uintptr_t)i), 0);
	for (unsigned i = 0; i < 200; i++)
		LOAD(busy_rows);
	for (unsigned i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	cr_expect_eq(busy_bad, 0);
	cr_expect_eq(stat_of("s1").setting_up, 0);
	cr_expect_eq(stat_of("s2").setting_up, 0);
}

/* ---- open sessions (scpool_set_sessions) ------------------------------- */

/* The cluster's open sessions weigh the choice: a server holding many is
 * skipped until the other catches up; a server no longer named has none. */
Test(scpool, sessions_weigh_the_choice)
{
	static const struct store_sip_server r[] = {
		ONE("q1", "sip:127.0.1.1:5060", "dc1", 100),
		ONE("q2", "sip:127.0.1.2:5060", "dc1", 100),
	};
	const char *names[] = {"q1", "nosuch"};
	unsigned counts[] = {40, 7}, q2 = 0;

	LOAD(r);
	cr_assert_eq(round_at(clock_now_ms(), ""), 2);
	scpool_set_sessions(names, counts, 2);
	cr_expect_eq(stat_of("q1").sessions, 40);
	cr_expect_eq(stat_of("q2").sessions, 0);
	/* q1 holds 40, q2 none: the next 6 new calls (held) go to q2, until
	 * q1 holds no more than half as much again as its share and the
	 * slack, 1.5 * (40 + 6 + 2 * 4) / 2 */
	for (unsigned i = 0; i < 6; i++) {
		const char *got = pick(0, false);

		cr_assert_not_null(got);
		q2 += strcmp(got, "q2") == 0;
	}
	cr_expect_eq(q2, 6, "q2 got %u of 6", q2);
	for (unsigned i = 0; i < 6; i++)
		scpool_release(id_of("q2"));
	scpool_set_sessions(names, counts, 0);
	cr_expect_eq(stat_of("q1").sessions, 0);
}

/* ---- an existing session's server (scpool_take) ----------------------- */

static const char *take(const char *name)
{
	struct scpool_pick pk;

	if (!scpool_take(id_of(name), &pk))
		return NULL;
	scpool_release(pk.id);
	return name_of_uri(pk.uri);
}

static bool dead_listed(const char *name)
{
	char d[SCPOOL_MAX][STORE_SEEN_NAME_MAX];
	unsigned n = scpool_dead(d, SCPOOL_MAX);

	for (unsigned i = 0; i < n; i++)
		if (strcmp(d[i], name) == 0)
			return true;
	return false;
}

/* A session recorded on a pair's primary is served by whichever member is
 * active; with neither in service the pair is dead and take fails. Names
 * and ids map both ways. */
Test(scpool, take_follows_the_pair)
{
	static const struct store_sip_server r[] = {
		PRI("a", "sip:127.0.2.1:5060", "dc1", "p", 100),
		BAK("b", "sip:127.0.2.2:5060", "dc1", "p", 100),
		ONE("c", "sip:127.0.2.3:5060", "dc1", 100),
	};
	char name[STORE_SEEN_NAME_MAX];
	uint64_t t;

	LOAD(r);
	t = clock_now_ms();
	cr_assert_eq(round_at(t, ""), 3);
	cr_expect_eq(scpool_id_of(sip_str_cstr("b")), id_of("b"));
	cr_expect_eq(scpool_id_of(sip_str_cstr("zz")), 0);
	cr_assert(scpool_name_of(id_of("c"), name));
	cr_expect_str_eq(name, "c");
	cr_expect_not(scpool_name_of(99999, name));
	cr_expect_str_eq(take("a"), "a");
	cr_expect_str_eq(take("b"), "a", "the backup's sessions go to the active primary");
	cr_expect_not(dead_listed("a"));
	/* a fails: b takes over, and serves a's sessions */
	t += 6000;
	cr_assert_eq(round_at(t, "a"), 3);
	EXPECT_STATE("b", "active", NULL);
	cr_expect_str_eq(take("a"), "b");
	cr_expect_not(dead_listed("a"));
	/* both fail: nobody serves the pair */
	t += 6000;
	(void)round_at(t, "a b");
	cr_expect_null(take("a"));
	cr_expect_null(take("b"));
	cr_expect(dead_listed("a"));
	cr_expect(dead_listed("b"));
	cr_expect_not(dead_listed("c"));
	cr_expect_eq(stat_of("a").setting_up + stat_of("b").setting_up, 0, "every take released");
	cr_expect_not(scpool_take(99999, &(struct scpool_pick){0}));
}

/* ---- the dialog cache (dlgcache.h) -------------------------------------- */

static struct sip_str cid(unsigned i)
{
	static char buf[8][32];
	static unsigned k;
	char *b = buf[k++ % 8];

	snprintf(b, 32, "call-%u@ep", i);
	return sip_str_cstr(b);
}

/* Thousands of dialogs in and out in a mixed order: the table (linear
 * probing, backward-shift deletion by the sweep) finds every one, loses
 * none, and keeps what each entry says. */
Test(scpool, dlgcache_churn)
{
	static bool in[20000];
	uint64_t now = 1000000;
	unsigned live = 0;

	cr_assert_eq(dlgcache_init(2, 100000), 0);
	for (unsigned round = 0; round < 5; round++) {
		for (unsigned i = round; i < 20000; i += 3) {
			struct dlgcache_entry *e = dlgcache_put(i % 2, cid(i), false);

			cr_assert_not_null(e);
			if (in[i]) {
				cr_assert_eq(e->session, (int64_t)i + 1, "round %u: %u", round, i);
				e->expires_ms = now; /* gone at the next sweep */
				in[i] = false;
				live--;
			} else {
				cr_assert_eq(e->state, 0, "round %u: %u is new", round, i);
				*e = (struct dlgcache_entry){.key = e->key,
							     .state = DLGCACHE_KNOWN,
							     .session = (int64_t)i + 1,
							     .expires_ms = UINT64_MAX};
				in[i] = true;
				live++;
			}
		}
		now += DLGCACHE_SWEEP_MS;
		dlgcache_sweep(0, now);
		dlgcache_sweep(1, now);
		cr_assert_eq(dlgcache_count(0) + dlgcache_count(1), live, "round %u", round);
		for (unsigned i = 0; i < 20000; i++) {
			struct dlgcache_entry *e = dlgcache_find(i % 2, cid(i));

			cr_assert_eq(e != NULL, in[i], "round %u: %u", round, i);
			if (e)
				cr_assert_eq(e->session, (int64_t)i + 1);
		}
	}
	dlgcache_fini();
}

/* The bound ([sessions] cache_size, shared by the workers) refuses new
 * entries but for a dialog being recorded; the sweep scans at most every
 * DLGCACHE_SWEEP_MS. */
Test(scpool, dlgcache_bound_and_sweep)
{
	uint64_t now = 5000000;

	cr_assert_eq(dlgcache_init(2, 200), 0);
	for (unsigned i = 0; i < 100; i++) {
		struct dlgcache_entry *e = dlgcache_put(0, cid(i), false);

		cr_assert_not_null(e);
		e->expires_ms = now + i;
	}
	cr_expect_null(dlgcache_put(0, cid(100), false), "worker 0's share is full");
	cr_expect_not_null(dlgcache_put(0, cid(1), false), "an entry it has is found");
	cr_expect_not_null(dlgcache_put(0, cid(101), true), "forced: a dialog being recorded");
	dlgcache_find(0, cid(101))->expires_ms = now;
	cr_expect_not_null(dlgcache_put(1, cid(102), false), "worker 1 has its own share");
	cr_expect_eq(dlgcache_count(0), 101);
	dlgcache_sweep(0, now + 50);
	cr_expect_eq(dlgcache_count(0), 49, "51 of the 100 and the forced one expired");
	dlgcache_sweep(0, now + 1000); /* too soon: no scan */
	cr_expect_eq(dlgcache_count(0), 49);
	dlgcache_sweep(0, now + 50 + DLGCACHE_SWEEP_MS);
	cr_expect_eq(dlgcache_count(0), 0);
	cr_expect_null(dlgcache_find(0, cid(70)));
	dlgcache_fini();
}

/* ---- by key (an AOR's REGISTERs, scpool_choose_key()) -------------------- */

static const char *pick_key(uint64_t key)
{
	struct scpool_pick p;

	memset(&p, 0, sizeof(p));
	if (!scpool_choose_key(key, &p))
		return NULL;
	remember_id(p.uri, p.id);
	scpool_release(p.id);
	return name_of_uri(p.uri);
}

Test(scpool, by_key_sticks_spreads_and_follows_the_pair)
{
	const char *first[64];
	unsigned in_p1 = 0;
	uint64_t t0;

	LOAD(weighted);
	t0 = clock_now_ms();
	cr_assert_eq(round_at(t0, ""), 4);
	for (uint64_t k = 0; k < 64; k++) {
		first[k] = pick_key(k * 0x9e3779b97f4a7c15ull);
		cr_assert_not_null(first[k]);
		cr_expect(strcmp(first[k], "a1") == 0 || strcmp(first[k], "a2") == 0,
			  "key %u: %s, a standby", (unsigned)k, first[k]);
		in_p1 += strcmp(first[k], "a1") == 0;
		/* the same key, the same server, again and again */
		cr_expect_str_eq(pick_key(k * 0x9e3779b97f4a7c15ull), first[k]);
	}
	/* rendezvous hashing spreads the keys over both pairs */
	cr_expect(in_p1 > 10 && in_p1 < 54, "p1 got %u of 64 keys", in_p1);
	/* p2's primary fails: its keys go to its standby, p1's stay put */
	cr_assert_eq(round_at(t0 + 5000, "a2"), 4);
	EXPECT_STATE("b2", "active", "a2: 503 to OPTIONS");
	for (uint64_t k = 0; k < 64; k++)
		cr_expect_str_eq(pick_key(k * 0x9e3779b97f4a7c15ull),
				 strcmp(first[k], "a2") == 0 ? "b2" : first[k]);
	/* nothing in service: no server */
	cr_assert_eq(round_at(t0 + 10000, "a1 b1 a2 b2"), 4);
	cr_expect_null(pick_key(1));
	cr_expect_eq(stat_of("a1").setting_up, 0);
}
