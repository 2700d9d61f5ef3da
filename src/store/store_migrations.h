/*
 * store_migrations: the schema migrations compiled into the binary from
 * sql/NNN_name.sql (by sql/embed.sh at build time), in version order.
 */
#ifndef JCT_STORE_MIGRATIONS_H
#define JCT_STORE_MIGRATIONS_H

struct store_migration {
	unsigned version;
	const char *name;
	const char *sql;
};

extern const struct store_migration store_migrations[];
extern const unsigned store_migration_count;

#endif
