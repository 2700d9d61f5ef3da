/*
 * admin_nodes: the node and its peers, and what went wrong on it lately.
 *
 *   GET /v1/nodes                     every node of the cluster, by name
 *   GET /v1/log?limit=&level=         this node's last warn and error lines
 *
 * /v1/nodes reads the cluster_nodes view of sql/010_nodes.sql: each node's
 * database thread (store_bg.c) writes its own row when it connects and
 * every 10 s, so a row whose heartbeat is over 30 s old is a node that is
 * gone or cut off from the database (alive false). Rows are never
 * deleted by a node, so a node that stopped stays listed until an
 * operator removes its row. "self" marks the row of the node answering
 * ([node] name); it is computed here, not stored, since every node reads
 * the same rows. Read only, like the other tables the nodes write. The
 * list has no pages: a cluster has a handful of nodes, and NODES_MAX
 * bounds what one answer may hold.
 *
 * /v1/log answers from memory (log_recent(), the ring of base/log.c) and
 * needs no database: the database being down is when it is most wanted.
 * It covers this node only; a console asks every node of /v1/nodes for
 * the whole cluster. Entries come newest first; ?level=error leaves the
 * warnings out, and ?limit= counts the entries given after that filter.
 */
#include "admin/admin_internal.h"

#include "base/log.h"
#include "config/config.h"

#include <stdlib.h>
#include <string.h>

/* The most rows /v1/nodes gives. */
#define NODES_MAX ADMIN_LIMIT_MAX

static json_t *node_json(const struct sa_rows *rows, unsigned i, const char *self)
{
#define COL(c) sa_rows_get(rows, i, c)
	const char *name = COL(SA_NODE_NAME);

	return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:b}", "name",
			 admin_col_str(name), "version", admin_col_str(COL(SA_NODE_VERSION)),
			 "geo_location", admin_col_str(COL(SA_NODE_GEO_LOCATION)), "sip_listen",
			 admin_col_str(COL(SA_NODE_SIP_LISTEN)), "admin_listen",
			 admin_col_str(COL(SA_NODE_ADMIN_LISTEN)), "started_at",
			 admin_col_str(COL(SA_NODE_STARTED_AT)), "last_seen",
			 admin_col_str(COL(SA_NODE_LAST_SEEN)), "alive",
			 admin_col_bool(COL(SA_NODE_ALIVE)), "self",
			 name && strcmp(name, self) == 0);
#undef COL
}

void admin_nodes_list(struct admin_req *r)
{
	const char *self = admin_config()->node.name;
	struct store_admin *db;
	struct sa_rows *rows = NULL;
	json_t *nodes;
	int rc;

	if (!admin_args_only(r, (const char *const[]){NULL}))
		return;
	db = admin_db(r);
	if (!db)
		return;
	rc = store_admin_nodes(db, NODES_MAX, &rows);
	if (rc < 0) {
		admin_db_error(r, rc, "nodes");
		return;
	}
	nodes = json_array();
	for (unsigned i = 0; i < sa_rows_count(rows); i++)
		json_array_append_new(nodes, node_json(rows, i, self));
	sa_rows_free(rows);
	admin_json(r, 200, json_pack("{s:o}", "nodes", nodes));
}

void admin_log_list(struct admin_req *r)
{
	static const char *const args[] = {"limit", "level", NULL};
	const char *level = admin_arg(r, "level");
	struct log_entry *e;
	bool errors_only;
	unsigned limit;
	size_t n, given = 0;
	json_t *entries;

	/* ?limit= as every list's (ADMIN_LIMIT_DEFAULT, 100), up to the ring */
	if (!admin_args_only(r, args) || !admin_limit_arg(r, LOG_RECENT_MAX, &limit))
		return;
	if (level && strcmp(level, "warn") != 0 && strcmp(level, "error") != 0) {
		admin_error(r, 400, ADMIN_E_BAD_REQUEST,
			    "level must be warn (warnings and errors) or error, not '%.32s'",
			    level);
		return;
	}
	errors_only = level && strcmp(level, "error") == 0;
	/* The whole ring (LOG_RECENT_MAX entries, 110 kB): the filter runs
	 * on the copy, outside the ring's lock. */
	e = malloc(LOG_RECENT_MAX * sizeof(*e));
	if (!e) {
		admin_error(r, 500, ADMIN_E_INTERNAL, "out of memory");
		return;
	}
	n = log_recent(e, LOG_RECENT_MAX);
	entries = json_array();
	for (size_t i = 0; i < n && given < limit; i++) {
		if (errors_only && e[i].level != LOG_LVL_ERROR)
			continue;
		/* the text may quote what a client sent: admin_col_str() keeps
		 * the answer valid UTF-8 whatever it holds */
		json_array_append_new(entries,
				      json_pack("{s:s, s:s, s:o}", "time", e[i].time, "level",
						e[i].level == LOG_LVL_ERROR ? "error" : "warn",
						"message", admin_col_str(e[i].message)));
		given++;
	}
	free(e);
	admin_json(r, 200, json_pack("{s:o}", "entries", entries));
}
