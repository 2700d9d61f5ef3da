#!/usr/bin/env bash
# A multi-host [database] conninfo, without a failover manager: the
# connection policy of every Junction connection (pgconn.c), with two
# independent PostgreSQL servers A and B, each with the schema and the
# same subscribers, and a first host that never answers:
#   host=SILENT,A,B  a listener that accepts and says nothing (a server
#                    gone without a reset): the workers give up on it
#                    and start their next attempt at the next host; the
#                    blocking connections move on after connect_timeout
#   A read-only      (ALTER SYSTEM default_transaction_read_only, as a
#                    demoted primary): the REGISTER that meets it gets
#                    503, never 200, and every connection of the node
#                    moves to B, the next server that takes writes;
#                    counted as a failover, logged, /readyz ready on B.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg.sh"
. "$(dirname "$0")/admin_lib.sh"
need ss psql sipp curl python3

USERS=20
PORT=$(free_port)

# two servers: pg.sh's, then a second one the same way in $T_DIR/pg2
pg_start || { fail "postgres A"; t_done; }
A_DIR=$PG_DIR A_PORT=$PGPORT
PG_DIR=$T_DIR/pg2
pg_start || { fail "postgres B"; t_done; }
B_DIR=$PG_DIR B_PORT=$PGPORT
both_cleanup() {
	as_pg "$PG_BIN/pg_ctl" -D "$A_DIR/data" -m immediate -w stop >/dev/null 2>&1
	as_pg "$PG_BIN/pg_ctl" -D "$B_DIR/data" -m immediate -w stop >/dev/null 2>&1
	return 0
}
T_CLEANUP_HOOK=both_cleanup
# psql on A or B
on() {
	local d=$A_DIR p=$A_PORT
	[ "$1" = B ] && d=$B_DIR p=$B_PORT
	psql -X -q -A -t -h "$d" -p "$p" -U postgres -d junction -v ON_ERROR_STOP=1 -c "$2"
}

# the silent first host: accepts (the kernel does, from the backlog) and
# never answers the startup packet
SILENT=$(free_port)
python3 -c '
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(64)
conns = []
while True:
    c, _ = s.accept(); conns.append(c)
' "$SILENT" &
T_PIDS+=("$!")

write_config "$PORT"
cp "$T_DIR/junction.conf" "$T_DIR/base.conf"
for s in A B; do
	if [ $s = A ]; then PG_DIR=$A_DIR PGPORT=$A_PORT; else PG_DIR=$B_DIR PGPORT=$B_PORT; fi
	PG_CONNINFO="host=$PG_DIR port=$PGPORT dbname=junction user=postgres"
	cp "$T_DIR/base.conf" "$T_DIR/junction.conf"
	pg_config
	pg_migrate >/dev/null || { fail "migrate $s"; t_done; }
	pg_subscribers "$USERS" || { fail "subscribers $s"; t_done; }
done
cp "$T_DIR/base.conf" "$T_DIR/junction.conf"

# --check-config reads the conninfo as libpq will (and the start refuses
# what it refuses)
for bad in "host=a,b,c port=1,2|3 hosts but 2 ports" "host=a bogus=1|invalid connection option \"bogus\""; do
	cp "$T_DIR/base.conf" "$T_DIR/bad.conf"
	printf '\n[database]\nconninfo = %s\n[auth]\nsecret = test-secret-0123456789abcdef\n' "${bad%%|*}" >>"$T_DIR/bad.conf"
	"$JUNCTION" --check-config -c "$T_DIR/bad.conf" >"$T_DIR/check.out" 2>&1 &&
		fail "--check-config accepted conninfo '${bad%%|*}'" ||
		{ grep -qF "[database] conninfo: ${bad#*|}" "$T_DIR/check.out" &&
			pass "--check-config: conninfo '${bad%%|*}' refused: ${bad#*|}" ||
			fail "--check-config on '${bad%%|*}': $(cat "$T_DIR/check.out")"; }
done

PG_CONNINFO="host=127.0.0.1,$A_DIR,$B_DIR port=$SILENT,$A_PORT,$B_PORT dbname=junction user=postgres"
DB_EXTRA="connections_per_worker = 2" pg_config
admin_config "$(free_port)"

start_junction "$PORT" || { fail "start"; t_done; }
wait_admin || { fail "admin API"; t_done; }
metric() { curl -s "$ADMIN_URL/metrics" | awk -v m="$1" '$1 == m { print $2 }'; }

# N REGISTERs (each its own contact), one at a time; "ok 503" counts
register() {
	local label=$1 n=$2
	sipp -sf "$SCEN/reg_auth.xml" -inf "$T_DIR/users.csv" -auth_uri localhost -i 127.0.0.1 -p "$(free_port)" \
		-m "$n" -r 10 -l 1 -nostdin -timeout 30s -recv_timeout 5s \
		-trace_logs -log_file "$T_DIR/$label.log" -trace_msg -message_file "$T_DIR/$label.msgs" \
		"127.0.0.1:$PORT" >"$T_DIR/$label.out" 2>&1
	echo "$(grep -c '^OK ' "$T_DIR/$label.log" 2>/dev/null) $(grep -c '^SIP/2.0 503 ' "$T_DIR/$label.msgs" 2>/dev/null)"
}

# 1. past the silent host, onto A: every worker within its 5 s connect
#    timeout and the blocking ones' 3 s
ready=
for _ in $(seq 120); do
	[ "$(curl -s -o /dev/null -w '%{http_code}' "$ADMIN_URL/readyz")" = 200 ] && { ready=1; break; }
	sleep 0.1
done
[ -n "$ready" ] && pass "/readyz ready within 12 s past a silent first host" || fail "not ready past the silent host"
read -r ok n503 <<<"$(register a1 10)"
[ "$ok" = 10 ] && pass "10 of 10 REGISTERs stored past the silent host" || fail "past the silent host: $ok 200s, $n503 503s"
[ "$(on A "SELECT count(*) FROM binding")" = 10 ] && pass "the 10 bindings are on A" ||
	fail "bindings on A: $(on A "SELECT count(*) FROM binding")"
[ "$(metric junction_db_failovers_total)" = 0 ] && pass "no failover counted yet" ||
	fail "junction_db_failovers_total $(metric junction_db_failovers_total)"

# 2. A turns read-only under the node's open connections
on A "ALTER SYSTEM SET default_transaction_read_only = on" >/dev/null &&
	on A "SELECT pg_reload_conf()" >/dev/null && sleep 0.5 &&
	pass "A read-only (a demoted primary)" || fail "could not make A read-only"
read -r ok n503 <<<"$(register a2 20)"
sed -n 's/^OK //p' "$T_DIR/a2.log" | sort -u >"$T_DIR/acked"
on B "SELECT contact FROM binding" | sort -u >"$T_DIR/on_b"
missing=$(comm -23 "$T_DIR/acked" "$T_DIR/on_b" | wc -l)
log "after A turned read-only: $ok 200s, $n503 503s"
[ "$n503" -ge 1 ] && [ "$ok" -ge 1 ] && pass "the REGISTERs that met read-only A got 503 ($n503), then B took them ($ok 200s)" ||
	fail "after A turned read-only: $ok 200s, $n503 503s"
# the switch is over: every REGISTER goes to B (how many fell in the
# window above depends on the machine's load, not on Junction)
read -r ok3 n503 <<<"$(register a3 10)"
[ "$ok3" = 10 ] && pass "then 10 of 10 REGISTERs stored on B" || fail "after the switch: $ok3 200s, $n503 503s"
sed -n 's/^OK //p' "$T_DIR/a3.log" >>"$T_DIR/acked"
sort -u -o "$T_DIR/acked" "$T_DIR/acked"
on B "SELECT contact FROM binding" | sort -u >"$T_DIR/on_b"
missing=$(comm -23 "$T_DIR/acked" "$T_DIR/on_b" | wc -l)
ok=$((ok + ok3))
[ "$missing" = 0 ] && [ "$ok" -ge 1 ] && pass "every one of the $ok acknowledged bindings is on B" ||
	fail "$missing acknowledged bindings not on B"
[ "$(on A "SELECT count(*) FROM binding")" = 10 ] && pass "A unchanged (10 rows)" || fail "A changed"
grep -q 'level=warn event=db_failover from=".*:'"$A_PORT"'" to=".*:'"$B_PORT"'"' "$T_DIR/junction.log" &&
	pass "the failover A to B logged" || fail "no event=db_failover from A to B in the log"
[ "$(metric junction_db_failovers_total)" = 1 ] && pass "junction_db_failovers_total 1" ||
	fail "junction_db_failovers_total $(metric junction_db_failovers_total)"
# the workers' and the listener's connections all moved; the admin API's
# are replaced before their next use (checked by /readyz and /v1/status).
# The listener moves on its own tick, and a closed connection's backend
# stays in pg_stat_activity until it has exited: read again for up to 5 s
for _ in $(seq 50); do
	left=$(psql -X -q -A -t -h "$A_DIR" -p "$A_PORT" -U postgres -d postgres -c \
		"SELECT count(*) FROM pg_stat_activity WHERE application_name IN ('junction-worker', 'junction-listener')")
	[ "$left" = 0 ] && break
	sleep 0.1
done
[ "$left" = 0 ] && pass "no worker or listener connection left on A" ||
	fail "$left worker or listener connections still on A"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$ADMIN_URL/readyz")" = 200 ] && pass "/readyz ready on B" ||
	fail "/readyz not ready on B"
curl -s -H "Authorization: Bearer $ADMIN_TOKEN" "$ADMIN_URL/v1/status" >"$T_DIR/status.json"
grep -q "\"primary\": *\"$B_DIR:$B_PORT\"" "$T_DIR/status.json" && pass "/v1/status names B the primary" ||
	fail "/v1/status: $(grep -o '"database": *{[^}]*}' "$T_DIR/status.json")"

kill -0 "$JCT_PID" && pass "junction kept running" || fail "junction died"
stop_junction && pass "SIGTERM exit 0" || fail "exit status"
t_done
