# A private PostgreSQL for one test (sourced after lib.sh): initdb in the
# test's directory as the postgres system user (PostgreSQL refuses root),
# a Unix socket only, a random port; stopped by the test's cleanup.
#   pg_start            start it; sets PG_CONNINFO, PGHOST, PGPORT
#   pg_stop / pg_restart
#   psql_q SQL          one value, unaligned
#   pg_migrate          junction --migrate with $T_DIR/junction.conf (and
#                       PG_PARTITIONED: binding partitioned)

pg_bindir() {
	local d
	d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
	[ -n "$d" ] || d=$(dirname "$(command -v initdb 2>/dev/null || echo /nonexistent/x)")
	echo "$d"
}

PG_BIN=$(pg_bindir)
PG_DIR=$T_DIR/pg

as_pg() {
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

pg_start() {
	[ -x "$PG_BIN/initdb" ] || skip "PostgreSQL server not installed" # under CI=true: a failure
	PGPORT=$(free_port)
	mkdir -p "$PG_DIR"
	if [ "$(id -u)" -eq 0 ]; then
		chmod 755 "$T_DIR"
		chown postgres "$PG_DIR"
	fi
	as_pg "$PG_BIN/initdb" -D "$PG_DIR/data" -A trust -U postgres --no-sync >"$PG_DIR/initdb.log" 2>&1 ||
		{ cat "$PG_DIR/initdb.log" >&2; return 1; }
	pg_start_server || return 1
	PGHOST=$PG_DIR
	export PGHOST PGPORT
	PG_CONNINFO="host=$PG_DIR port=$PGPORT dbname=junction user=postgres"
	as_pg "$PG_BIN/createdb" -h "$PG_DIR" -p "$PGPORT" -U postgres junction
	T_CLEANUP_HOOK=pg_cleanup
}

pg_start_server() {
	as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 30 \
		-o "-k $PG_DIR -p $PGPORT -c listen_addresses='' ${PG_OPTIONS:-}" start >/dev/null ||
		{ tail -n 20 "$PG_DIR/server.log" >&2; return 1; }
}

pg_stop() {
	as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m "${1:-fast}" -w stop >/dev/null 2>&1
}

pg_restart() {
	pg_start_server
}

pg_cleanup() {
	[ -d "$PG_DIR/data" ] && as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate -w stop >/dev/null 2>&1
	return 0
}

psql_q() {
	psql -X -q -A -t -h "$PG_DIR" -p "$PGPORT" -U postgres -d junction -v ON_ERROR_STOP=1 -c "$1"
}

# PG_PARTITIONED=N: binding then hash-partitioned N ways by
# bench/partition-binding.sql (doc/SCALING.md), for db_partitioned.sh
pg_migrate() {
	"$JUNCTION" --migrate -c "$T_DIR/junction.conf" || return 1
	[ -n "${PG_PARTITIONED:-}" ] || return 0
	psql -X -q -h "$PG_DIR" -p "$PGPORT" -U postgres -d junction -v ON_ERROR_STOP=1 \
		-v partitions="$PG_PARTITIONED" -f "$TOP_SRCDIR/bench/partition-binding.sql" >&2 || return 1
	[ "$(psql_q "SELECT count(*) FROM pg_inherits WHERE inhparent = 'binding'::regclass")" = "$PG_PARTITIONED" ]
}

# Appends the [database] and [auth] sections for this cluster to the config.
pg_config() {
	cat >>"$T_DIR/junction.conf" <<CONF

[database]
conninfo = $PG_CONNINFO
retry_after = 2
${DB_EXTRA:-}

[auth]
mode = ${AUTH_MODE:-local}
secret = test-secret-0123456789abcdef
${AUTH_EXTRA:-}

[registrar]
min_expires = 10
${REG_EXTRA:-}
CONF
}

# Subscribers u1..uN@localhost with passwords pw1..pwN, and SIPp's
# injection file for them at $T_DIR/users.csv (one user per call, in turn,
# with its credentials for the reg_auth scenario).
pg_subscribers() {
	local n=$1 i
	psql_q "SELECT count(junction_add_subscriber('u' || i, 'localhost', 'pw' || i)) FROM generate_series(1, $n) i" >/dev/null ||
		return 1
	{
		echo SEQUENTIAL
		for i in $(seq "$n"); do echo "u$i;[authentication username=u$i password=pw$i]"; done
	} >"$T_DIR/users.csv"
}
