#!/usr/bin/env bash
# A real softphone through Junction: Debian's baresip (1.0, on libre) as
# two headless user agents, alice and bob, each with its own config
# directory. Both register with digest authentication against subscribers
# provisioned in SQL, with Junction's default [auth] algorithms; alice
# calls sip:bob@localhost through Junction (the location service finds
# bob's binding), bob answers, alice hangs up, both quit. Checked: the
# challenge, the answer and Junction's 200 to each REGISTER in baresip's
# log and the bindings in active_bindings, the incoming call at bob, the
# call established on both sides, closed on both sides by the BYE
# (record-routed through Junction), the bindings removed and a clean exit
# on /quit, the dialog counters and no error counted or logged by
# Junction. A baresip that gives up on the challenge (as 1.0 does when a
# second WWW-Authenticate with an algorithm it does not know follows)
# fails the registration step at once.
#
# baresip is driven through its stdio UI: its stdin is a FIFO that this
# script holds open and writes menu commands (/dial, /accept, /hangup,
# /quit) to. Every wait is bounded and fails with what it waited for.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg.sh"
. "$(dirname "$0")/admin_lib.sh"

need ss psql curl baresip # under CI=true a missing tool fails
[ -d /usr/lib/baresip/modules ] || { fail "no /usr/lib/baresip/modules"; t_done; }

WAIT=${BARESIP_WAIT:-10} # seconds, for each step

# A port below 10000 (away from free_port's range, so no other test
# takes it meanwhile) free for UDP and TCP, with the next one free too:
# baresip listens for TLS on its SIP port + 1.
port_free() { ! ss -Hlnu "sport = :$1" 2>/dev/null | grep -q . && ! ss -Hlnt "sport = :$1" 2>/dev/null | grep -q .; }
free_port_pair() {
	local p
	for _ in $(seq 200); do
		p=$((7000 + RANDOM % 2900))
		case " ${USED_PORTS:-} " in *" $p "* | *" $((p + 1)) "* | *" $((p - 1)) "*) continue ;; esac
		port_free "$p" && port_free $((p + 1)) && { echo "$p"; return 0; }
	done
	return 1
}

PORT=$(free_port)
APORT=$(free_port)
A_PORT=$(free_port_pair) || { fail "no free port pair for alice"; t_done; }
USED_PORTS=$A_PORT
B_PORT=$(free_port_pair) || { fail "no free port pair for bob"; t_done; }

SIP_EXTRA="record_route = yes
server_header = Junction/$("$JUNCTION" --version | cut -d' ' -f2)" write_config "$PORT"
pg_start || { fail "postgres"; t_done; }
pg_config
admin_config "$APORT"
pg_migrate >/dev/null || { fail "migrate"; t_done; }
psql_q "SELECT junction_add_subscriber('alice', 'localhost', 'Alice-pw-1')" >/dev/null &&
	psql_q "SELECT junction_add_subscriber('bob', 'localhost', 'Bob-pw-2')" >/dev/null || { fail "subscribers"; t_done; }
start_junction "$PORT" || { fail "start"; t_done; }
wait_admin || { fail "admin API"; t_done; }

# bs_config NAME SIPPORT PASSWORD: $T_DIR/NAME/{config,accounts}. No
# sound hardware: aubridge joins the player to the source (what comes in
# goes back out; silence to start with; ausine would not do, it only
# knows 48 kHz); no video; RTP on loopback in 10000-11999, also away from
# free_port's range.
bs_config() {
	local d=$T_DIR/$1
	mkdir -p "$d"
	cat >"$d/config" <<CONF
poll_method		epoll
sip_listen		127.0.0.1:$2
net_interface		127.0.0.1
call_local_timeout	30
call_max_calls		2
audio_player		aubridge,$1
audio_source		aubridge,$1
audio_alert		aubridge,$1-alert
rtp_ports		10000-11999
module_path		/usr/lib/baresip/modules
module			stdio.so
module			g711.so
module			aubridge.so
module_tmp		account.so
module_app		menu.so
CONF
	printf '<sip:%s@localhost>;auth_pass=%s;outbound="sip:127.0.0.1:%s";regint=600;answermode=manual;audio_codecs=pcmu\n' \
		"$1" "$3" "$PORT" >"$d/accounts"
}

# bs_start NAME FD: baresip reading its commands from the FIFO NAME.in,
# which this shell keeps open for writing on FD (7 or 8, closed in the
# other baresip); -s traces SIP into its log; -t ends it after a minute
# whatever happens here.
bs_start() {
	local d=$T_DIR/$1
	mkfifo "$d.in"
	baresip -4 -s -f "$d" -t 60 <"$d.in" >"$d.log" 2>&1 7>&- 8>&- &
	eval "BS_PID_$1=$!"
	T_PIDS+=("$!")
	eval "exec $2>\"$d.in\""
}

# bs_cmd FD COMMAND: one menu command (SIGPIPE ignored in the subshell
# only, so a baresip that died fails the next wait, not this script).
bs_cmd() { (trap '' PIPE; printf '%s\n' "$2" >&"$1") 2>/dev/null || fail "baresip gone before '$2'"; }

# wait_log NAME ERE WHAT [FAIL-ERE]: waits up to $WAIT s for a line of
# NAME's log (colour codes removed) to match; fails with WHAT otherwise,
# and at once when a line matches FAIL-ERE or baresip exits.
wait_log() {
	local deadline=$((SECONDS + WAIT)) pid gone=
	eval "pid=\$BS_PID_$1"
	until bs_log "$1" | grep -Eq -- "$2"; do
		[ -n "${4:-}" ] && bs_log "$1" | grep -Eq -- "$4" &&
			{ fail "$3: $(bs_log "$1" | grep -E -m1 -- "$4")"; bs_log "$1" | tail -n 20 >&2; return 1; }
		[ -n "$gone" ] && { fail "$3: $1's baresip exited without a line /$2/"; bs_log "$1" | tail -n 20 >&2; return 1; }
		[ "$SECONDS" -gt "$deadline" ] && { fail "$3: no line /$2/ in $1's log within ${WAIT}s"; bs_log "$1" | tail -n 20 >&2; return 1; }
		kill -0 "$pid" 2>/dev/null || gone=1 # one more look at the log first
		sleep 0.1
	done
	pass "$3"
}
bs_log() { sed 's/\x1b\[[0-9;]*m//g' "$T_DIR/$1.log" 2>/dev/null; }

# wait_sql SQL VALUE WHAT: the same for a query's result.
wait_sql() {
	local deadline=$((SECONDS + WAIT)) v=
	while [ "$SECONDS" -le "$deadline" ]; do
		v=$(psql_q "$1" 2>&1)
		[ "$v" = "$2" ] && { pass "$3"; return 0; }
		sleep 0.2
	done
	fail "$3: got '$v', expected '$2' within ${WAIT}s"
	return 1
}

bs_config alice "$A_PORT" Alice-pw-1
bs_config bob "$B_PORT" Bob-pw-2
bs_start alice 7
bs_start bob 8

# Registration: the first REGISTER is challenged (401, digest), the
# answer gets Junction's 200 with the binding, stored in PostgreSQL.
for u in alice bob; do
	wait_log $u "^$u@localhost: \{0/UDP/v4\} 200 OK \(Junction/[^)]*\) \[1 binding\]" "$u registered: 200 OK from Junction" \
		"^reg: sip:$u@localhost: |^$u@localhost: (\{[^}]*\} )?[3-6][0-9][0-9] "
	bs_log $u | grep -q '^WWW-Authenticate: Digest realm="localhost"' &&
		bs_log $u | grep -q "^Authorization: Digest username=\"$u\", realm=\"localhost\"" &&
		pass "$u answered the digest challenge" || fail "$u: no digest challenge and answer in the SIP trace"
done
[ "$T_FAILS" -eq 0 ] || t_done # nothing more to see without the registrations
wait_sql "SELECT count(*) FROM active_bindings WHERE aor = 'sip:alice@localhost' AND contact LIKE 'sip:alice-%@127.0.0.1:$A_PORT'" 1 \
	"alice's binding in active_bindings"
wait_sql "SELECT count(*) FROM active_bindings WHERE aor = 'sip:bob@localhost' AND contact LIKE 'sip:bob-%@127.0.0.1:$B_PORT'" 1 \
	"bob's binding in active_bindings"

# The call: alice dials bob's AOR through Junction (her outbound proxy),
# which finds bob's binding; bob's baresip rings, the INVITE having come
# through Junction (its Record-Route and Via), and bob accepts.
bs_cmd 7 "/dial sip:bob@localhost"
wait_log bob "^sip:bob@localhost: Incoming call from: .*sip:alice@localhost" "bob's baresip rings with alice's call" &&
	bs_cmd 8 "/accept"
bs_log bob | grep -q "^Record-Route: <sip:127.0.0.1:$PORT;lr>" && bs_log bob | grep -q "^Via: SIP/2.0/UDP 127.0.0.1:$PORT;branch=" &&
	pass "the INVITE came through Junction, record-routed" || fail "no Record-Route/Via of Junction in the INVITE at bob"
wait_log alice "^alice@localhost: Call established: sip:bob@localhost" "call established at alice"
wait_log bob "^bob@localhost: Call established: sip:alice@localhost" "call established at bob"
sleep 1 # a second of (silent) RTP, directly between the two

# alice hangs up: the BYE goes through Junction (record-routed) to bob.
bs_cmd 7 "/hangup"
wait_log alice "^sip:alice@localhost: Call with sip:bob@localhost terminated" "call closed at alice"
wait_log bob "^sip:alice@localhost: session closed: Connection reset by peer" "bob got alice's BYE"
wait_log bob "^sip:bob@localhost: Call with sip:alice@localhost terminated" "call closed at bob"

# /quit: each unregisters (an authenticated REGISTER with expires=0), then exits 0.
bs_cmd 7 "/quit"
bs_cmd 8 "/quit"
wait_sql "SELECT count(*) FROM active_bindings" 0 "both unregistered on /quit"
for u in alice bob; do
	eval "pid=\$BS_PID_$u"
	deadline=$((SECONDS + WAIT))
	while kill -0 "$pid" 2>/dev/null && [ "$SECONDS" -le "$deadline" ]; do sleep 0.1; done
	if kill -0 "$pid" 2>/dev/null; then
		fail "$u's baresip still running ${WAIT}s after /quit"
	else
		wait "$pid"
		rc=$?
		for i in "${!T_PIDS[@]}"; do [ "${T_PIDS[$i]}" = "$pid" ] && unset "T_PIDS[$i]"; done
		[ "$rc" -eq 0 ] && pass "$u's baresip exited 0" || fail "$u's baresip exited $rc"
	fi
done

# Junction's view: one dialog created and ended, nothing refused, lost
# or answered 5xx, nothing logged at warn or error.
scrape() { curl -s -o "$T_DIR/$1" -w '%{http_code}' "$ADMIN_URL/metrics"; }
value() { awk -v k="$2" '$1 == k { print $2 }' "$T_DIR/$1"; }
[ "$(scrape m)" = 200 ] || fail "scrape /metrics"
for kv in junction_dialogs_created_total=1 junction_dialogs_ended_total=1 junction_dialogs_active=0 \
	junction_auth_failures_total=0 junction_sip_parse_errors_total=0 junction_sip_send_errors_total=0 \
	junction_sip_messages_dropped_total=0 junction_overload_rejected_total=0; do
	[ "$(value m "${kv%=*}")" = "${kv#*=}" ] && pass "${kv%=*} ${kv#*=}" || fail "${kv%=*}: $(value m "${kv%=*}"), expected ${kv#*=}"
done
# two registrations and two removals, each challenged first
[ "$(value m junction_registrations_total)" -ge 4 ] && [ "$(value m junction_auth_challenges_total)" -ge 4 ] &&
	pass "registrations and challenges counted" ||
	fail "registrations_total $(value m junction_registrations_total), auth_challenges_total $(value m junction_auth_challenges_total)"
grep '^junction_sip_responses_sent_total{class="5xx"' "$T_DIR/m" && fail "5xx answers sent" || pass "no 5xx sent"
grep -E 'level=(error|warn)' "$T_DIR/junction.log" && fail "errors or warnings in junction.log" || pass "no error or warning logged"

stop_junction && pass "SIGTERM exit 0" || fail "exit status"
t_done
