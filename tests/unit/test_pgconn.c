/*
 * Unit tests for pgconn: the host a non-blocking connection starts at
 * (rotated past the hosts that failed before), the defaults under the
 * conninfo's own values, and the failover accounting.
 */
#include "store/pgconn.h"
#include "store/store.h"

#include <criterion/criterion.h>
#include <string.h>

/* Nothing listens on port 1 of these addresses: each attempt is refused
 * later, asynchronously; what matters is where it starts. */
#define HOSTS "host=127.0.0.1,127.0.0.2,127.0.0.3 port=1,2,3 dbname=x user=y"

static void starts_at(const char *conninfo, unsigned first, const char *host, const char *port)
{
	PGconn *c = pgconn_start(conninfo, "test", first);

	cr_assert_not_null(c);
	cr_assert_str_eq(PQhost(c), host, "attempt %u of '%s'", first, conninfo);
	cr_assert_str_eq(PQport(c), port, "attempt %u of '%s'", first, conninfo);
	PQfinish(c);
}

Test(pgconn, rotates_the_host_list)
{
	starts_at(HOSTS, 0, "127.0.0.1", "1");
	starts_at(HOSTS, 1, "127.0.0.2", "2");
	starts_at(HOSTS, 2, "127.0.0.3", "3");
	starts_at(HOSTS, 3, "127.0.0.1", "1");
	/* a URI; one port for all hosts */
	starts_at("postgresql://127.0.0.1:7,127.0.0.2:8/x", 1, "127.0.0.2", "8");
	starts_at("host=127.0.0.1,127.0.0.2 port=9 dbname=x", 1, "127.0.0.2", "9");
	/* one host: nothing to rotate */
	starts_at("host=127.0.0.1 port=5 dbname=x", 7, "127.0.0.1", "5");
}

Test(pgconn, defaults_under_the_conninfo)
{
	PGconn *c = pgconn_start(HOSTS " application_name=mine keepalives_idle=9", "test", 0);
	PQconninfoOption *o = PQconninfo(c), *p;
	int seen = 0;

	static const char *const want[][2] = {{"target_session_attrs", "read-write"},
					      {"application_name", "mine"},
					      {"keepalives_idle", "9"},
					      {"tcp_user_timeout", "10000"},
					      {"dbname", "x"}};

	for (p = o; p->keyword; p++) {
		for (unsigned i = 0; i < 5; i++) {
			if (strcmp(p->keyword, want[i][0]) == 0) {
				cr_expect_str_eq(p->val, want[i][1], "%s", want[i][0]);
				seen++;
			}
		}
	}
	cr_assert_eq(seen, 5);
	PQconninfoFree(o);
	PQfinish(c);
}

Test(pgconn, counts_a_moved_primary)
{
	PGconn *a = pgconn_start("host=127.0.0.1 port=1 dbname=x", "t", 0);
	PGconn *b = pgconn_start("host=127.0.0.2 port=1 dbname=x", "t", 0);
	struct store_health h;
	unsigned g0 = pgconn_generation();

	/* the first server seen is no failover, nor the same one again */
	cr_assert_eq(pgconn_connected(a), g0);
	cr_assert_eq(pgconn_connected(a), g0);
	store_health(&h);
	cr_assert_eq(h.failovers, 0);
	cr_assert_str_eq(h.primary, "127.0.0.1:1");
	/* another one is, and moves the generation */
	cr_assert_eq(pgconn_connected(b), g0 + 1);
	store_health(&h);
	cr_assert_eq(h.failovers, 1);
	cr_assert_str_eq(h.primary, "127.0.0.2:1");
	PQfinish(a);
	PQfinish(b);
}

Test(pgconn, unavailable_while_a_store_is_down)
{
	struct store_health h;

	store_health(&h);
	cr_assert(h.available); /* no store yet */
	pgconn_store_new();
	store_health(&h);
	cr_assert_not(h.available);
	pgconn_store_up();
	store_health(&h);
	cr_assert(h.available);
	cr_assert_geq(h.unavailable_s, 0.0);
	pgconn_store_down();
	pgconn_store_gone(false);
	store_health(&h);
	cr_assert(h.available);
}
