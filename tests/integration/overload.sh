#!/usr/bin/env bash
# A full worker queue answers new requests 503 with Retry-After (RFC 3261
# §21.5.4) from the listener thread, and every request still gets exactly
# one answer: one worker with the smallest queue, hit by bursts.
. "$(dirname "$0")/lib.sh"
need ss

PORT=$(free_port)
SIP_EXTRA="workers = 1
queue_depth = 16" write_config "$PORT"
sed -i '/^workers = 2$/d' "$T_DIR/junction.conf"
start_junction "$PORT" || { fail "start"; t_done; }

options_msg 127.0.0.1 "$PORT" z9hG4bKburst >"$T_DIR/opt"
got503=0
for attempt in 1 2 3 4 5; do
	"$SIPSEND" -v -R 1000 -c 1000 -w 3000 udp 127.0.0.1 "$PORT" "$T_DIR/opt" >"$T_DIR/burst$attempt.out"
	n200=$(grep -c '^SIP/2.0 200 ' "$T_DIR/burst$attempt.out")
	n503=$(grep -c '^SIP/2.0 503 ' "$T_DIR/burst$attempt.out")
	log "burst $attempt: 200=$n200 503=$n503"
	[ $((n200 + n503)) -eq 1000 ] && pass "burst $attempt: every request answered once" ||
		fail "burst $attempt: $((n200 + n503)) answers to 1000 requests"
	if [ "$n503" -gt 0 ]; then
		got503=1
		grep -q '^Retry-After: [0-9]' "$T_DIR/burst$attempt.out" && pass "503 carries Retry-After" ||
			fail "503 without Retry-After"
		break
	fi
done
[ $got503 -eq 1 ] && pass "overload answered 503" || fail "no 503 in 5 bursts of 1000"
options_msg 127.0.0.1 "$PORT" | "$SIPSEND" -q udp 127.0.0.1 "$PORT" - && pass "serving after the bursts" || fail "not serving"
stop_junction && pass "SIGTERM exit 0" || fail "exit status"
rej=$(grep -o 'overload_rejected=[0-9]*' "$T_DIR/junction.log" | tail -n 1 | cut -d= -f2)
[ "${rej:-0}" -gt 0 ] && pass "overload_rejected counted ($rej)" || fail "overload_rejected=$rej"
t_done
