#!/usr/bin/env bash
# REGISTERs that arrive together are stored together: SIPp registers 1,000
# subscribers three times each (digest auth, a new Contact every time) at
# 1,000/s, and for half a second in the middle the binding table is locked
# (as a busy database would hold them), so REGISTERs pile up behind the
# batch on the wire. Every REGISTER gets its 200, every acknowledged
# Contact is in the binding table, each AOR has its three bindings, and
# PostgreSQL's own count of calls (track_functions) shows
# junction_register_batch() called, and fewer statements than REGISTERs.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg.sh"
need ss psql sipp

USERS=1000
CALLS=3000
PORT=$(free_port)
write_config "$PORT"
PG_OPTIONS="-c track_functions=pl" pg_start || { fail "postgres"; t_done; }
REG_EXTRA="max_contacts = 10" pg_config
pg_migrate >/dev/null || { fail "migrate"; t_done; }
pg_subscribers "$USERS" || { fail "subscribers"; t_done; }
start_junction "$PORT" || { fail "start"; t_done; }

sipp -sf "$SCEN/reg_auth.xml" -inf "$T_DIR/users.csv" -auth_uri localhost -i 127.0.0.1 -p "$(free_port)" \
	-m "$CALLS" -r 1000 -l 3000 -nostdin -timeout 60s \
	-trace_logs -log_file "$T_DIR/ok.log" -trace_stat -stf "$T_DIR/load.csv" \
	"127.0.0.1:$PORT" >"$T_DIR/sipp.out" 2>&1 &
SIPP=$!
T_PIDS+=("$SIPP")
sleep 1
psql_q "BEGIN; LOCK TABLE binding IN EXCLUSIVE MODE; SELECT pg_sleep(0.5); COMMIT" >/dev/null &&
	pass "binding table locked for 0.5 s" || fail "could not lock the binding table"
wait "$SIPP"
rc=$?
okc=$(tail -n 1 "$T_DIR/load.csv" | cut -d';' -f16)
[ "$rc" -eq 0 ] && [ "$okc" = "$CALLS" ] && pass "$CALLS REGISTERs, $okc answered 200" ||
	fail "SIPp rc=$rc, $okc of $CALLS answered 200"

sed -n 's/^OK //p' "$T_DIR/ok.log" | sort -u >"$T_DIR/acked"
psql_q "SELECT contact FROM binding" | sort -u >"$T_DIR/stored"
missing=$(comm -23 "$T_DIR/acked" "$T_DIR/stored" | wc -l)
[ "$(wc -l <"$T_DIR/acked")" -eq "$CALLS" ] && [ "$missing" -eq 0 ] &&
	pass "all $CALLS acknowledged bindings stored" ||
	fail "$(wc -l <"$T_DIR/acked") acknowledged, $missing of them missing"
per_aor=$(psql_q "SELECT count(*) || ' AORs with ' || n FROM (SELECT aor, count(*) n FROM binding GROUP BY aor) a GROUP BY n")
[ "$per_aor" = "$USERS AORs with 3" ] && pass "each AOR has its three bindings" || fail "bindings per AOR: $per_aor"

kill -0 "$JCT_PID" && pass "junction kept running" || fail "junction died"
stop_junction && pass "SIGTERM exit 0" || fail "exit status"

# A backend reports its function counts when it ends (or idle, later):
# wait until Junction's backends are gone.
backends_gone() { [ "$(psql_q "SELECT count(*) FROM pg_stat_activity WHERE datname = 'junction' AND pid <> pg_backend_pid()")" = 0 ]; }
wait_for 5 backends_gone || fail "Junction's database sessions did not end"
# junction_register() counts the small batches' REGISTERs, which go one by
# one, and those the batch function hands on.
batch=$(psql_q "SELECT coalesce(sum(calls), 0) FROM pg_stat_user_functions WHERE funcname = 'junction_register_batch'")
one=$(psql_q "SELECT coalesce(sum(calls), 0) FROM pg_stat_user_functions WHERE funcname = 'junction_register'")
log "calls: junction_register_batch() $batch, junction_register() $one, for $CALLS REGISTERs"
[ "$batch" -gt 0 ] && [ $((batch + one)) -lt "$CALLS" ] &&
	pass "$CALLS REGISTERs in $((batch + one)) calls, $batch of them merged" ||
	fail "$batch merged and $one single calls for $CALLS REGISTERs"

t_done
