#!/usr/bin/env bash
# CANCEL before the answer through the stateful proxy (RFC 3261 §9,
# §16.10): a SIPp UAS registered as ring@localhost answers 180 and waits;
# the SIPp UAC cancels each call after the 180. Junction answers the
# CANCEL 200 itself, cancels its branch (the UAS must get a CANCEL, answer
# 200 and 487 and get Junction's ACK for the 487), and the UAC gets 487
# for its INVITE and ACKs it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg.sh"
need ss psql sipp

CALLS=100
PORT=$(free_port)
UAS=$(free_port)
SIP_EXTRA="record_route = yes" write_config "$PORT"
pg_start || { fail "postgres"; t_done; }
AUTH_MODE=none pg_config
pg_migrate >/dev/null || { fail "migrate"; t_done; }
start_junction "$PORT" || { fail "start"; t_done; }

printf 'REGISTER sip:localhost SIP/2.0\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKpc%s;rport\nMax-Forwards: 70\nFrom: <sip:ring@localhost>;tag=1\nTo: <sip:ring@localhost>\nCall-ID: pc-%s\nCSeq: 1 REGISTER\nContact: <sip:ring@127.0.0.1:%s>\nExpires: 600\nContent-Length: 0\n\n' "$RANDOM" "$RANDOM" "$UAS" |
	"$SIPSEND" -P udp 127.0.0.1 "$PORT" - | grep -q "^SIP/2.0 200" && pass "SIPp UAS registered as ring@localhost" || fail "REGISTER"

# csv_check NAME RC: SIPp's exit status and its final statistics line
csv_check() {
	local name=$1 rc=$2 ok failed
	ok=$(tail -n 1 "$T_DIR/$name.csv" 2>/dev/null | cut -d';' -f16)
	failed=$(tail -n 1 "$T_DIR/$name.csv" 2>/dev/null | cut -d';' -f18)
	if [ "$rc" -eq 0 ] && [ "$ok" = "$CALLS" ] && [ "$failed" = 0 ]; then
		pass "$name: $CALLS calls, 0 failed"
	else
		fail "$name: rc=$rc successful=$ok failed=$failed"
		tail -c 1500 "$T_DIR/$name.err" >&2 2>/dev/null; echo >&2
	fi
}

sipp -sf "$SCEN/uas_cancel.xml" -i 127.0.0.1 -p "$UAS" -m "$CALLS" -nostdin \
	-trace_stat -stf "$T_DIR/uas.csv" -trace_msg -message_file "$T_DIR/uas.msg" -trace_err -error_file "$T_DIR/uas.err" \
	>"$T_DIR/uas.out" 2>&1 &
UAS_PID=$!
T_PIDS+=("$UAS_PID")
sleep 0.5
timeout 60 sipp -sf "$SCEN/uac_cancel.xml" -s ring -i 127.0.0.1 -p "$(free_port)" -rsa "127.0.0.1:$PORT" \
	-m "$CALLS" -r 50 -nostdin -timeout 40s -timeout_error \
	-trace_stat -stf "$T_DIR/uac.csv" -trace_err -error_file "$T_DIR/uac.err" \
	"127.0.0.1:$PORT" >"$T_DIR/uac.out" 2>&1
csv_check uac $?

# the UAS ends by itself once it has played its scenario CALLS times
for _ in $(seq 50); do kill -0 "$UAS_PID" 2>/dev/null || break; sleep 0.1; done
kill -0 "$UAS_PID" 2>/dev/null && kill -TERM "$UAS_PID"
wait "$UAS_PID"
csv_check uas $?

kill -0 "$JCT_PID" || fail "junction died"
stop_junction && pass "SIGTERM exit 0" || fail "exit status on SIGTERM"
t_done
