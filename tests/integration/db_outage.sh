#!/usr/bin/env bash
# Durability across a database outage: SIPp registers (with digest auth)
# while PostgreSQL is killed and, 30 s later, started again (no failover
# manager: the same server comes back). Every REGISTER that got a 200 has
# its binding in the table afterwards; during the outage Junction answers
# 503 with Retry-After (never 200) and /readyz says not ready; once
# PostgreSQL is back, registrations succeed again without restarting
# Junction, and the metrics count the time without a database (and no
# failover: the primary did not move).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg.sh"
. "$(dirname "$0")/admin_lib.sh"
need ss psql sipp curl

USERS=200
PORT=$(free_port)
write_config "$PORT"
pg_start || { fail "postgres"; t_done; }
# two connections per worker: a lost connection fails only what was on
# its own wire, and nothing acknowledged is lost either way
DB_EXTRA="connections_per_worker = 2" REG_EXTRA="max_contacts = 50" pg_config
admin_config "$(free_port)"
pg_migrate >/dev/null || { fail "migrate"; t_done; }
pg_subscribers "$USERS" || { fail "subscribers"; t_done; }
start_junction "$PORT" || { fail "start"; t_done; }
wait_admin || { fail "admin API"; t_done; }

# the node's /readyz status code and its JSON
readyz() { curl -s -o "$T_DIR/readyz.json" -w '%{http_code}' "$ADMIN_URL/readyz"; }
metric() { curl -s "$ADMIN_URL/metrics" | awk -v m="$1" '$1 == m { print $2 }'; }

[ "$(readyz)" = 200 ] && pass "/readyz: ready before the outage" || fail "/readyz not ready before the outage"

# 1. load across the outage: 50 REGISTERs/s for 40 s; PostgreSQL killed
#    at 4 s (immediate: no clean shutdown) and back at 34 s
sipp -sf "$SCEN/reg_auth.xml" -inf "$T_DIR/users.csv" -auth_uri localhost -i 127.0.0.1 -p "$(free_port)" \
	-m 2000 -r 50 -l 300 -nostdin -timeout 90s -recv_timeout 10s \
	-trace_logs -log_file "$T_DIR/ok.log" -trace_stat -stf "$T_DIR/load.csv" \
	-trace_msg -message_file "$T_DIR/msgs.log" \
	"127.0.0.1:$PORT" >"$T_DIR/sipp-load.out" 2>&1 &
SIPP=$!
T_PIDS+=("$SIPP")
sleep 4
pg_stop immediate && pass "PostgreSQL killed during the load" || fail "could not stop PostgreSQL"
sleep 3
code=$(readyz)
[ "$code" = 503 ] && grep -q '"database": *"down"' "$T_DIR/readyz.json" &&
	pass "/readyz during the outage: 503, database down" ||
	fail "/readyz during the outage: $code $(cat "$T_DIR/readyz.json")"
sleep 27
pg_restart && pass "PostgreSQL started again after 30 s" || fail "restart"
wait "$SIPP"

ok=$(grep -c '^OK ' "$T_DIR/ok.log" 2>/dev/null)
n503=$(grep -c '^SIP/2.0 503 ' "$T_DIR/msgs.log" 2>/dev/null)
log "200s: $ok, 503s: $n503"
[ "$ok" -gt 100 ] && pass "$ok registrations acknowledged" || fail "only $ok registrations acknowledged"
[ "$n503" -gt 0 ] && pass "$n503 answered 503 during the outage" || fail "no 503 during the outage"
grep -A8 '^SIP/2.0 503 ' "$T_DIR/msgs.log" | grep -q '^Retry-After: 2' && pass "503 carries Retry-After" ||
	fail "503 without Retry-After"

# 2. every acknowledged binding is in the table
sed -n 's/^OK //p' "$T_DIR/ok.log" | sort -u >"$T_DIR/acked"
psql_q "SELECT contact FROM binding" | sort -u >"$T_DIR/stored"
missing=$(comm -23 "$T_DIR/acked" "$T_DIR/stored" | wc -l)
[ "$missing" -eq 0 ] && pass "all $(wc -l <"$T_DIR/acked") acknowledged bindings stored" ||
	{ fail "$missing acknowledged bindings missing"; comm -23 "$T_DIR/acked" "$T_DIR/stored" | head >&2; }

# 3. recovery: a fresh run against the restarted database, no failures,
#    without a restart
sleep 1
[ "$(readyz)" = 200 ] && pass "/readyz: ready again" || fail "/readyz after the outage: $(cat "$T_DIR/readyz.json")"
down=$(metric junction_db_unavailable_seconds_total)
awk -v d="${down:-0}" 'BEGIN { exit !(d >= 29 && d <= 45) }' &&
	pass "junction_db_unavailable_seconds_total $down (the 30 s outage)" ||
	fail "junction_db_unavailable_seconds_total is '$down', expected 29 to 45"
[ "$(metric junction_db_failovers_total)" = 0 ] && pass "no failover counted: the same server came back" ||
	fail "junction_db_failovers_total is '$(metric junction_db_failovers_total)', expected 0"
sipp -sf "$SCEN/reg_auth.xml" -inf "$T_DIR/users.csv" -auth_uri localhost -i 127.0.0.1 -p "$(free_port)" \
	-m 200 -r 100 -nostdin -timeout 30s -trace_stat -stf "$T_DIR/after.csv" \
	"127.0.0.1:$PORT" >"$T_DIR/sipp-after.out" 2>&1
rc=$?
okc=$(tail -n 1 "$T_DIR/after.csv" | cut -d';' -f16)
[ "$rc" -eq 0 ] && [ "$okc" = 200 ] && pass "after the outage: 200 of 200 registered" ||
	fail "after the outage: rc=$rc successful=$okc"
grep -q 'event=db_down' "$T_DIR/junction.log" && grep -q 'event=db_up' "$T_DIR/junction.log" &&
	pass "outage and recovery logged" || fail "db_down/db_up not logged"

kill -0 "$JCT_PID" && pass "junction kept running" || fail "junction died"
stop_junction && pass "SIGTERM exit 0" || fail "exit status"
t_done
