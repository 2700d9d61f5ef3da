#!/usr/bin/env bash
# SIPp uac -> Junction (stateless, record-routing) -> SIPp uas: 1,000 calls
# with zero failures over UDP, then over TCP; the ACK and BYE follow the
# Record-Route route set back through the proxy.
. "$(dirname "$0")/lib.sh"
need sipp ss

PORT=$(free_port)
SIP_EXTRA="mode = stateless
record_route = yes" write_config "$PORT"
start_junction "$PORT" || { fail "start"; t_done; }

run_calls() {
	local tp=$1 uas_port rc
	uas_port=$(free_port)
	sipp -sf "$SCEN/uas.xml" -i 127.0.0.1 -p "$uas_port" -t "$tp" -bg \
		-trace_err -error_file "$T_DIR/uas-$tp.err" >/dev/null 2>&1
	wait_for 5 bound "$([ "$tp" = t1 ] && echo tcp || echo udp)" "$uas_port" || fail "$tp: the SIPp UAS does not listen on $uas_port"
	UAS_PID=$(pgrep -n -f "sipp -sf $SCEN/uas.xml -i 127.0.0.1 -p $uas_port")
	[ -n "$UAS_PID" ] && T_PIDS+=("$UAS_PID")
	timeout 120 sipp -sf "$SCEN/uac.xml" -i 127.0.0.1 -t "$tp" -rsa "127.0.0.1:$PORT" \
		-m 1000 -r 200 -rp 1000 -l 400 -nostdin -timeout 60s -timeout_error \
		-trace_stat -stf "$T_DIR/uac-$tp.csv" -trace_err -error_file "$T_DIR/uac-$tp.err" \
		"127.0.0.1:$uas_port" >"$T_DIR/uac-$tp.out" 2>&1
	rc=$?
	kill "$UAS_PID" 2>/dev/null
	local ok failed
	ok=$(tail -n 1 "$T_DIR/uac-$tp.csv" | awk -F';' '{print $16}')
	failed=$(tail -n 1 "$T_DIR/uac-$tp.csv" | awk -F';' '{print $18}')
	if [ "$rc" -eq 0 ] && [ "$ok" = 1000 ] && [ "$failed" = 0 ]; then
		pass "$tp: 1000 calls, 0 failed"
	else
		fail "$tp: sipp rc=$rc successful=$ok failed=$failed"
		tail -n 20 "$T_DIR/uac-$tp.err" >&2 2>/dev/null
	fi
}

run_calls u1
run_calls t1

kill -0 "$JCT_PID" || fail "junction died"
stop_junction && pass "SIGTERM exit 0" || fail "exit status on SIGTERM"
t_done
