/*
 * store_migrate: the schema, versioned. Each sql/NNN_name.sql file is one
 * migration, compiled in (store_migrations.h); the schema_version table
 * records what a database has. Blocking libpq calls: this runs from the
 * command line (--migrate) and once at start-up, never on a worker.
 */
#include "store/pgconn.h"
#include "store/store.h"
#include "store/store_migrations.h"

#include <errno.h>
#include <libpq-fe.h>
#include <stdlib.h>
#include <string.h>

/* Any constant will do, as long as every node uses the same one. */
#define MIGRATE_LOCK_KEY 0x4a756e6374696f6eLL /* "Junction" */

static PGconn *connect_or_report(const char *conninfo, FILE *errs)
{
	PGconn *c = pgconn_connect(conninfo, "junction-migrate");

	if (PQstatus(c) != CONNECTION_OK) {
		if (errs)
			fprintf(errs, "junction: cannot connect to the database: %s",
				PQerrorMessage(c));
		PQfinish(c);
		return NULL;
	}
	return c;
}

/* Runs sql; on failure writes what failed to errs and returns -EIO. */
static int exec_ok(PGconn *c, const char *sql, FILE *errs, const char *what)
{
	PGresult *r = PQexec(c, sql);
	ExecStatusType st = PQresultStatus(r);
	int rc = 0;

	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		if (errs)
			fprintf(errs, "junction: %s failed: %s", what, PQresultErrorMessage(r));
		rc = -EIO;
	}
	PQclear(r);
	return rc;
}

/* The version recorded in c (0 when there is no schema_version table). */
static int read_version(PGconn *c, unsigned *have, FILE *errs)
{
	PGresult *r = PQexec(c, "SELECT coalesce(max(version), 0) FROM schema_version");
	int rc = 0;

	if (PQresultStatus(r) == PGRES_TUPLES_OK) {
		*have = (unsigned)strtoul(PQgetvalue(r, 0, 0), NULL, 10);
	} else if (strcmp(PQresultErrorField(r, PG_DIAG_SQLSTATE) ?: "", "42P01") == 0) {
		*have = 0; /* undefined_table: a database never migrated */
	} else {
		if (errs)
			fprintf(errs, "junction: reading the schema version failed: %s",
				PQresultErrorMessage(r));
		rc = -EIO;
	}
	PQclear(r);
	return rc;
}

int store_schema_version(const char *conninfo, unsigned *have, unsigned *need, FILE *errs)
{
	PGconn *c = connect_or_report(conninfo, errs);
	int rc;

	*need = store_migration_count ? store_migrations[store_migration_count - 1].version : 0;
	if (!c)
		return -ECONNREFUSED;
	rc = read_version(c, have, errs);
	PQfinish(c);
	return rc;
}

int store_migrate(const char *conninfo, FILE *out, FILE *errs)
{
	PGconn *c = connect_or_report(conninfo, errs);
	unsigned have = 0, applied = 0;
	char sql[256];
	int rc;

	if (!c)
		return -ECONNREFUSED;
	/* Several nodes may migrate at once: one at a time, each re-reading
	 * the version under the lock. */
	snprintf(sql, sizeof(sql), "SELECT pg_advisory_lock(%lld)", (long long)MIGRATE_LOCK_KEY);
	rc = exec_ok(c, "SET client_min_messages = warning", errs, "setup");
	if (rc == 0)
		rc = exec_ok(c, sql, errs, "taking the migration lock");
	if (rc == 0)
		rc = exec_ok(c,
			     "CREATE TABLE IF NOT EXISTS schema_version ("
			     " version integer PRIMARY KEY,"
			     " name text NOT NULL,"
			     " applied_at timestamptz NOT NULL DEFAULT now())",
			     errs, "creating schema_version");
	if (rc == 0)
		rc = read_version(c, &have, errs);
	for (unsigned i = 0; rc == 0 && i < store_migration_count; i++) {
		const struct store_migration *m = &store_migrations[i];
		const char *params[2];
		char ver[16];
		PGresult *r;

		if (m->version <= have)
			continue;
		rc = exec_ok(c, "BEGIN", errs, "BEGIN");
		if (rc == 0)
			rc = exec_ok(c, m->sql, errs, m->name);
		if (rc == 0) {
			snprintf(ver, sizeof(ver), "%u", m->version);
			params[0] = ver;
			params[1] = m->name;
			r = PQexecParams(
				c, "INSERT INTO schema_version (version, name) VALUES ($1, $2)", 2,
				NULL, params, NULL, NULL, 0);
			if (PQresultStatus(r) != PGRES_COMMAND_OK) {
				fprintf(errs, "junction: recording %s failed: %s", m->name,
					PQresultErrorMessage(r));
				rc = -EIO;
			}
			PQclear(r);
		}
		if (rc == 0)
			rc = exec_ok(c, "COMMIT", errs, "COMMIT");
		else
			(void)exec_ok(c, "ROLLBACK", NULL, "ROLLBACK");
		if (rc == 0) {
			fprintf(out, "junction: applied %s\n", m->name);
			applied++;
		}
	}
	if (rc == 0)
		fprintf(out, "junction: schema at version %u (%u migration%s applied)\n",
			applied ? store_migrations[store_migration_count - 1].version : have,
			applied, applied == 1 ? "" : "s");
	PQfinish(c);
	return rc;
}
