#!/usr/bin/env bash
# A real PostgreSQL failover under REGISTER load: a pg_auto_failover
# formation (pgaf_lib.sh: monitor, node a primary, node b its synchronous
# standby), two Junction nodes n1, n2 with the multi-host conninfo of both
# (target_session_attrs=read-write, retry_after = 2), SIPp registering
# with digest auth through each node at RATE/s. Mid-load the primary's
# machine is lost (pgaf_kill: all of its processes SIGKILLed at a moment
# picked at random in KILL_MIN..KILL_MAX s of the load, or KILL_AT s).
# Checked, for the failover a -> b, then, after a rejoined as b's
# standby, for b -> a:
#   - during the switch every failure is a 503 with Retry-After (no other
#     status, no 200 where nothing was committed), none before the kill;
#   - each Junction node answers 200 again, without a restart, at most
#     RESUME_LIMIT (2) s after the new primary took writes (the moment
#     pgaf_wait_primary saw it; SIPp's message trace has the time of each
#     answer), and no 503 after that;
#   - every contact SIPp got a 200 for (this failover's and all before)
#     is in the new primary's binding table;
#   - /readyz answers 503 on each node 1 s into the switch, 200 "ready"
#     after it; junction_db_failovers_total went up on each node;
# and at the end each Junction is the process started at first, and exits
# 0 on SIGTERM.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg.sh"
. "$(dirname "$0")/cluster_lib.sh"
. "$(dirname "$0")/pgaf_lib.sh"
need ss psql sipp curl pg_autoctl

USERS=1000    # 500 per node, so the two SIPps never register the same AoR
RATE=100      # REGISTERs per second through each node
KILL_MIN=2000 # the kill, ms into the load: random in KILL_MIN..KILL_MAX
KILL_MAX=6000
RESUME_LIMIT=2 # s from the new primary's first write to Junction's first 200
AFTER=6        # s of load once the new primary takes writes
FAILOVER_MAX=30
CL_NODES="n1 n2"
CL_DOMAIN=localhost
CL_CLUSTER=""
CL_ROUTING=""
declare -A APORT=() START_PID=()

T_START=$(now_ms)
pgaf_setup || { fail "pg_auto_failover formation"; t_done; }
pass "formation up in $(pgaf_waited "$T_START") s: a primary, b its synchronous standby ($(pgaf_psql a "SHOW synchronous_standby_names"))"

# the schema and the subscribers, through the multi-host conninfo
NPORT=$(free_port 5100 4900)
write_config "$NPORT"
PG_CONNINFO=$PGAF_CONNINFO DB_EXTRA="connections_per_worker = 2" REG_EXTRA="max_contacts = 50" pg_config
sed -n '/^\[database\]/,$p' "$T_DIR/junction.conf" >"$T_DIR/shared.conf"
pg_migrate >"$T_DIR/migrate.log" 2>&1 || { cat "$T_DIR/migrate.log" >&2; fail "migrate"; t_done; }
psql_q() { psql -X -q -A -t -d "$PGAF_CONNINFO" -v ON_ERROR_STOP=1 -c "$1"; }
pg_subscribers "$USERS" || { fail "subscribers"; t_done; }
# users.csv split: the first half for n1's SIPp, the second for n2's
{ echo SEQUENTIAL; sed -n "2,$((USERS / 2 + 1))p" "$T_DIR/users.csv"; } >"$T_DIR/users.n1.csv"
{ echo SEQUENTIAL; sed -n "$((USERS / 2 + 2)),\$p" "$T_DIR/users.csv"; } >"$T_DIR/users.n2.csv"

for n in $CL_NODES; do
	APORT[$n]=$(free_port)
	cl_node_start "$n" "[admin]" "listen = ${NODE_IP[$n]}:${APORT[$n]}" "token = test-admin-token-0123456789abcdef"
	START_PID[$n]=${NODE_PID[$n]}
done
pass "Junction nodes n1, n2 up (pids ${START_PID[n1]}, ${START_PID[n2]})"

# readyz NODE: the status of GET /readyz (000: no answer in 2 s), the
# body in $T_DIR/NODE/readyz
readyz() {
	rm -f "$T_DIR/$1/readyz"
	curl -s -m 2 -o "$T_DIR/$1/readyz" -w '%{http_code}' "http://${NODE_IP[$1]}:${APORT[$1]}/readyz"
}
ready() { [ "$(readyz "$1")" = 200 ] && grep -q '"status": *"ready"' "$T_DIR/$1/readyz"; }
metric() { curl -s -m 2 "http://${NODE_IP[$1]}:${APORT[$1]}/metrics" | awk -v m="$2" '$1 == m { print $2 }'; }
for n in $CL_NODES; do
	wait_for 10 ready "$n" || fail "$n: /readyz before the load: $(cat "$T_DIR/$n/readyz" 2>/dev/null)"
done

# load LABEL NODE: SIPp registering through NODE in the background until
# SIGUSR1 (pid in LOAD_PID[LABEL]); its 200s' contacts in LABEL.ok, its
# messages with their times in LABEL.msg. A call answered 503 ends there
# (-default_behaviors without bye: no BYE for the REGISTER's "dialog",
# which Junction would have to route).
declare -A LOAD_PID=()
load() {
	local label=$1 node=$2
	sipp -sf "$SCEN/reg_auth.xml" -inf "$T_DIR/users.$node.csv" -auth_uri localhost \
		-i "${EP_IP[$node]}" -p "$(free_port)" -r "$RATE" -l 400 -default_behaviors all,-bye -nostdin -recv_timeout 5000 -timeout 120s \
		-trace_logs -log_file "$T_DIR/$label.ok" -trace_stat -stf "$T_DIR/$label.csv" \
		-trace_msg -message_file "$T_DIR/$label.msg" -trace_err -error_file "$T_DIR/$label.err" \
		"${NODE_IP[$node]}:$NPORT" >"$T_DIR/$label.out" 2>&1 &
	LOAD_PID[$label]=$!
	T_PIDS+=("$!")
}

# load_stop LABEL: SIGUSR1 (no new calls, the open ones finish), waited
# for (20 s at most: then it is killed, a failure)
load_stop() {
	local pid=${LOAD_PID[$1]} rc
	kill -USR1 "$pid" 2>/dev/null
	if ! wait_for 20 eval "! kill -0 $pid 2>/dev/null"; then
		fail "$1: SIPp did not finish its calls within 20 s"
		kill -KILL "$pid"
	fi
	wait "$pid"
	rc=$?
	t_forget "$pid"
	[ "$rc" -le 1 ] || fail "$1: SIPp exit status $rc"
}

# responses LABEL: every response to a REGISTER SIPp received, one line
# each: TIME (seconds since the epoch) CODE RA (1 with a Retry-After
# header, else 0). Only the messages with a time: SIPp writes an
# unexpected one (a 503) a second time, without.
responses() {
	awk '
		function out() { if (code != "" && method == "REGISTER") print ts, code, ra; code = "" }
		{ sub(/\r$/, "") }
		/^-------------------------------------------+ [0-9]+-[0-9]+-[0-9]+ / {
			out()
			split($2, d, "-"); split($3, t, ":")
			ts = sprintf("%.6f", mktime(d[1] " " d[2] " " d[3] " " t[1] " " t[2] " " int(t[3])) + (t[3] - int(t[3])))
			inbound = 0
			next
		}
		/^-------------------------------------------+$/ { out(); inbound = 0; next }
		/^UDP message received / { out(); inbound = 1; next }
		/ message sent / { out(); inbound = 0; next }
		inbound && code == "" && /^SIP\/2\.0 [0-9][0-9][0-9] / { code = $2; ra = 0; method = ""; next }
		code != "" && tolower($0) ~ /^retry-after[ \t]*:[ \t]*[0-9]/ { ra = 1; next }
		code != "" && tolower($0) ~ /^cseq[ \t]*:/ { method = $NF; next }
		code != "" && $0 == "" { out(); inbound = 0 }
		END { out() }' "$T_DIR/$1.msg"
}

# stat LABEL FIELD: a field of SIPp's final statistics, by its header name
stat() {
	awk -F';' -v f="$2" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == f) c = i } END { print (c ? $c : "?") }' \
		"$T_DIR/$1.csv" 2>/dev/null
}

# failover PHASE OLD NEW: load through both nodes, OLD (the primary) lost
# mid-load, NEW promoted; every check of the header
PHASE_LABELS=""
failover() {
	local ph=$1 old=$2 new=$3 n kill_ms t_load t_kill t_new fo waited lab code
	[ "$(pgaf_primary)" = "$old" ] || { fail "$ph: $old is not the primary ($(pgaf_state | tr '\n' ';'))"; return; }
	kill_ms=${KILL_AT:+$(awk -v s="$KILL_AT" 'BEGIN { printf "%d", s * 1000 }')}
	: "${kill_ms:=$((KILL_MIN + (RANDOM * 32768 + RANDOM) % (KILL_MAX - KILL_MIN + 1)))}"
	t_load=$(now)
	for n in $CL_NODES; do load "$ph$n" "$n"; done
	PHASE_LABELS+=" ${ph}n1 ${ph}n2"
	# (a KILL_AT of nearly 0 may come before any 200)
	for n in $CL_NODES; do
		wait_for "$(awk -v ms="$kill_ms" 'BEGIN { print ms / 1000 }')" test -s "$T_DIR/$ph$n.ok" ||
			log "$ph: no 200 through $n before the kill"
	done
	sleep_until "$(awk -v t="$t_load" -v ms="$kill_ms" 'BEGIN { printf "%.3f", t + ms / 1000 }')"
	t_kill=$EPOCHREALTIME
	pgaf_kill "$old" || fail "$ph: node $old not killed"
	log "$ph: node $old (primary) killed $kill_ms ms into the load: its postgres frozen in $(awk -v t="$t_kill" -v k="$PGAF_KILLED" 'BEGIN { printf "%d", k - t * 1000 }') ms, all gone in $(awk -v t="$t_kill" -v n="$(now)" 'BEGIN { printf "%d", (n - t) * 1000 }') ms"
	# from here on "the kill" is the moment the database stopped
	t_kill=$(awk -v k="$PGAF_KILLED" 'BEGIN { printf "%.3f", k / 1000 }')
	# 1 s into the switch (no primary takes writes yet: the monitor needs
	# 2 s to call it dead) /readyz says not ready
	sleep_until "$(awk -v t="$t_kill" 'BEGIN { printf "%.3f", t + 1 }')"
	for n in $CL_NODES; do
		code=$(readyz "$n")
		[ "$code" = 503 ] && pass "$ph: $n /readyz 503 during the switch" ||
			fail "$ph: $n /readyz 1 s after the kill: $code $(tr -d '\n' <"$T_DIR/$n/readyz" 2>/dev/null)"
	done
	t_new=$(now)
	if waited=$(pgaf_wait_primary "$new" "$FAILOVER_MAX"); then
		t_new=$(awk -v t="$t_new" -v w="$waited" 'BEGIN { printf "%.3f", t + w }')
		fo=$(awk -v a="$t_kill" -v b="$t_new" 'BEGIN { printf "%.2f", b - a }')
		pass "$ph: node $new primary and writable $fo s after the kill (pg_auto_failover)"
	else
		fail "$ph: node $new not primary within $FAILOVER_MAX s ($(pgaf_state | tr '\n' ';'))"
		pgaf_logs
		t_new=$(now)
		fo=x
	fi
	sleep_until "$(awk -v t="$t_new" -v s="$AFTER" 'BEGIN { printf "%.3f", t + s }')"
	for n in $CL_NODES; do load_stop "$ph$n"; done

	for n in $CL_NODES; do
		lab=$ph$n
		responses "$lab" >"$T_DIR/$lab.resp"
		# the first 200 past the kill's own instant (what was in flight
		# then may still be answered 200: committed, and on the standby)
		local first n200 n503 before late nra other early resume
		first=$(awk -v k="$t_kill" '$2 == 200 && $1 > k + 0.5 { print $1; exit }' "$T_DIR/$lab.resp")
		n200=$(awk '$2 == 200' "$T_DIR/$lab.resp" | wc -l)
		n503=$(awk -v k="$t_kill" '$2 == 503 && $1 >= k' "$T_DIR/$lab.resp" | wc -l)
		before=$(awk -v k="$t_kill" '$2 == 503 && $1 < k' "$T_DIR/$lab.resp" | wc -l)
		late=$(awk -v w="$t_new" -v l="$RESUME_LIMIT" '$2 == 503 && $1 > w + l' "$T_DIR/$lab.resp" | wc -l)
		nra=$(awk '$2 == 503 && $3 == 0' "$T_DIR/$lab.resp" | wc -l)
		other=$(awk '$2 != 200 && $2 != 401 && $2 != 503 { print $2 }' "$T_DIR/$lab.resp" | sort | uniq -c | tr -s ' \n' ' ')
		early=$(awk -v k="$t_kill" -v w="$t_new" '$2 == 200 && $1 > k + 0.5 && $1 < w - 0.5' "$T_DIR/$lab.resp" | wc -l)
		log "$lab: 200s $n200, 503s $n503 (after the kill), calls failed $(stat "$lab" 'FailedCall(C)') (unanswered: $(stat "$lab" 'FailedMaxUDPRetrans(C)') retransmitted, $(stat "$lab" 'FailedTimeoutOnRecv(C)') timed out)"
		[ "$n200" -gt 0 ] || fail "$lab: no 200 at all"
		[ "$n503" -gt 0 ] && pass "$lab: $n503 answered 503 during the switch" || fail "$lab: no 503 during the switch"
		[ "$before" -eq 0 ] || fail "$lab: $before 503s before the kill"
		[ "$late" -eq 0 ] && pass "$lab: no 503 later than $RESUME_LIMIT s after the failover" ||
			fail "$lab: $late 503s later than $RESUME_LIMIT s after the new primary took writes"
		[ "$nra" -eq 0 ] && pass "$lab: every 503 has a Retry-After" || fail "$lab: $nra 503s without Retry-After"
		[ -z "$other" ] || fail "$lab: answers other than 200, 401, 503:$other"
		[ "$early" -eq 0 ] || log "$lab: $early 200s while no node took writes (kill + 0.5 s .. writable - 0.5 s)"
		if [ -z "$first" ]; then
			fail "$lab: no 200 after the kill (Junction did not resume)"
		else
			resume=$(awk -v f="$first" -v w="$t_new" 'BEGIN { printf "%.2f", f - w }')
			log "$lab: first 200 after the kill $(awk -v f="$first" -v k="$t_kill" 'BEGIN { printf "%.2f", f - k }') s after it, $resume s after the new primary took writes"
			fle "$resume" "$RESUME_LIMIT" && pass "$lab: resumed $resume s after the failover (limit $RESUME_LIMIT s)" ||
				fail "$lab: resumed $resume s after the new primary took writes (limit $RESUME_LIMIT s)"
		fi
		grep -q 'event=db_failover' "$T_DIR/$n/junction.log" && log "$n: $(grep 'event=db_failover' "$T_DIR/$n/junction.log" | tail -n 1)"
	done

	# durability: every contact acknowledged so far is on the new primary
	for lab in $PHASE_LABELS; do sed -n 's/^OK //p' "$T_DIR/$lab.ok"; done | sort -u >"$T_DIR/acked.$ph"
	if pgaf_psql "$new" "SELECT contact FROM binding" | sort -u >"$T_DIR/stored.$ph" && [ -s "$T_DIR/stored.$ph" ]; then
		local missing
		missing=$(comm -23 "$T_DIR/acked.$ph" "$T_DIR/stored.$ph" | wc -l)
		[ "$missing" -eq 0 ] && pass "$ph: all $(wc -l <"$T_DIR/acked.$ph") acknowledged bindings on the new primary $new" ||
			{ fail "$ph: $missing of $(wc -l <"$T_DIR/acked.$ph") acknowledged bindings missing on the new primary $new"; comm -23 "$T_DIR/acked.$ph" "$T_DIR/stored.$ph" | head >&2; }
	else
		fail "$ph: no bindings read from node $new"
	fi

	for n in $CL_NODES; do
		wait_for 5 ready "$n" && pass "$ph: $n /readyz ready" ||
			fail "$ph: $n /readyz $(readyz "$n"): $(cat "$T_DIR/$n/readyz" 2>/dev/null)"
		local fc
		fc=$(metric "$n" junction_db_failovers_total)
		[ -n "$fc" ] && [ "$fc" -gt "${FAILOVERS_BEFORE[$n]:-0}" ] &&
			pass "$ph: $n junction_db_failovers_total $fc" || fail "$ph: $n junction_db_failovers_total '${fc}' (was ${FAILOVERS_BEFORE[$n]:-0})"
		FAILOVERS_BEFORE[$n]=${fc:-0}
		kill -0 "${START_PID[$n]}" 2>/dev/null && pass "$ph: $n still the same process" || fail "$ph: $n (pid ${START_PID[$n]}) died"
	done
	RESULT+=" $ph: manager $fo s;"
}

declare -A FAILOVERS_BEFORE=()
RESULT=""
for n in $CL_NODES; do FAILOVERS_BEFORE[$n]=$(metric "$n" junction_db_failovers_total); done

# 1. a -> b
failover f1 a b

# 2. a rejoins as b's synchronous standby (pg_rewind); then b -> a
pgaf_rejoin a || fail "rejoin a"
if w=$(pgaf_wait_secondary a 90); then
	pass "node a back as b's synchronous standby in $w s"
	RESULT+=" rejoin $w s;"
	failover f2 b a
else
	fail "node a not secondary within 90 s ($(pgaf_state | tr '\n' ';'))"
	pgaf_logs
fi
log "failover times:$RESULT"

for n in $CL_NODES; do
	[ "${NODE_PID[$n]}" = "${START_PID[$n]}" ] && kill -0 "${NODE_PID[$n]}" 2>/dev/null ||
		fail "$n is not the process started at first"
	cl_node_stop "$n"
done
log "took $(pgaf_waited "$T_START") s"
cl_done
