#!/usr/bin/env bash
# Packet loss on both sides (SIPp -lost 5: 5 % of the messages each SIPp
# sends or receives are dropped): 300 calls to a registered SIPp UAS
# through Junction with record-routing, [transaction] t1 = 100 so the
# proxy retransmits fast. Every call must complete: retransmissions by the
# UAC (INVITE, BYE), the UAS (200) and Junction's transactions (Timers A,
# E, G and the replay of the last response to a retransmitted request)
# make up for every loss. (uas_loss.xml never loses its 180 and its 200
# for the BYE: SIPp itself cannot recover from those; see its comments.)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg.sh"
need ss psql sipp

CALLS=300
PORT=$(free_port)
SIP_EXTRA="record_route = yes" write_config "$PORT"
pg_start || { fail "postgres"; t_done; }
AUTH_MODE=none pg_config
cat >>"$T_DIR/junction.conf" <<CONF

[transaction]
t1 = 100
CONF
pg_migrate >/dev/null || { fail "migrate"; t_done; }
start_junction "$PORT" || { fail "start"; t_done; }

# register USER CONTACT [Q]: one REGISTER (its own Call-ID) for USER@localhost
register() {
	printf 'REGISTER sip:localhost SIP/2.0\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKreg%s;rport\nMax-Forwards: 70\nFrom: <sip:%s@localhost>;tag=%s\nTo: <sip:%s@localhost>\nCall-ID: reg-%s-%s\nCSeq: 1 REGISTER\nContact: <%s>%s\nExpires: 600\nContent-Length: 0\n\n' \
		"$RANDOM$RANDOM" "$1" "$RANDOM" "$1" "$RANDOM" "$RANDOM" "$2" "${3:+;q=$3}" |
		"$SIPSEND" -P udp 127.0.0.1 "$PORT" - | grep -q "^SIP/2.0 200" &&
		pass "registered $1 -> $2${3:+ q=$3}" || fail "REGISTER $1 -> $2"
}

# uas NAME SCENARIO PORT [SIPp options]: a SIPp UAS in the background,
# its PID in NAME_PID
uas() {
	local name=$1 sf=$2 port=$3
	shift 3
	sipp -sf "$SCEN/$sf" -i 127.0.0.1 -p "$port" -nostdin "$@" \
		-trace_stat -stf "$T_DIR/$name.csv" -trace_err -error_file "$T_DIR/$name.err" \
		>"$T_DIR/$name.out" 2>&1 &
	T_PIDS+=("$!")
	printf -v "${name}_PID" %s "$!"
}

# csv_check NAME RC [N]: SIPp's exit status and its final statistics line
# (field 16 SuccessfulCall(C), field 18 FailedCall(C)): N (default CALLS)
# calls, none failed
csv_check() {
	local name=$1 rc=$2 n=${3:-$CALLS} ok failed
	ok=$(tail -n 1 "$T_DIR/$name.csv" 2>/dev/null | cut -d';' -f16)
	failed=$(tail -n 1 "$T_DIR/$name.csv" 2>/dev/null | cut -d';' -f18)
	if [ "$rc" -eq 0 ] && [ "$ok" = "$n" ] && [ "$failed" = 0 ]; then
		pass "$name: $n calls, 0 failed"
	else
		fail "$name: rc=$rc successful=$ok failed=$failed"
		tail -c 1500 "$T_DIR/$name.err" >&2 2>/dev/null
		echo >&2
	fi
}

# uas_wait NAME [N]: waits (up to 10 s) for a UAS to finish its N (default
# CALLS) calls, then checks it
uas_wait() {
	local pid_var=${1}_PID rc
	local pid=${!pid_var}
	for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	kill -0 "$pid" 2>/dev/null && kill -TERM "$pid"
	wait "$pid"
	rc=$?
	csv_check "$1" "$rc" "${2:-}"
}

UAS=$(free_port)
register lossy "sip:lossy@127.0.0.1:$UAS"
uas uas uas_loss.xml "$UAS" -m "$CALLS" -lost 5 -trace_shortmsg -shortmessage_file "$T_DIR/uas.short"
sleep 0.5
timeout 90 sipp -sf "$SCEN/uac_loss.xml" -s lossy -i 127.0.0.1 -p "$(free_port)" -rsa "127.0.0.1:$PORT" \
	-m "$CALLS" -r 50 -l 200 -lost 5 -nostdin -timeout 50s -timeout_error \
	-trace_shortmsg -shortmessage_file "$T_DIR/uac.short" -trace_stat -stf "$T_DIR/uac.csv" -trace_err -error_file "$T_DIR/uac.err" \
	"127.0.0.1:$PORT" >"$T_DIR/uac.out" 2>&1
csv_check uac $?
uas_wait uas

kill -0 "$JCT_PID" || fail "junction died"
stop_junction && pass "SIGTERM exit 0" || fail "exit status on SIGTERM"
# one dialog per call, each counted once however often its 200 came
grep -q "event=counters.* dialogs_created=$CALLS dialogs_ended=$CALLS" "$T_DIR/junction.log" &&
	pass "counters: $CALLS dialogs created and ended" ||
	fail "counters: $(grep -o 'dialogs_created=[0-9]* dialogs_ended=[0-9]*' "$T_DIR/junction.log")"
t_done
