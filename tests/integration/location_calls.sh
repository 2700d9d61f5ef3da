#!/usr/bin/env bash
# Calls to a registered user: a SIPp UAS is registered as svc@localhost,
# and SIPp calls sip:svc@localhost through Junction, which finds the
# binding in PostgreSQL (RFC 3261 §16.5) and relays every call to it, over
# UDP, with record-routing so ACK and BYE come back through the proxy.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg.sh"
need ss psql sipp

PORT=$(free_port)
UAS=$(free_port)
SIP_EXTRA="record_route = yes" write_config "$PORT"
pg_start || { fail "postgres"; t_done; }
AUTH_MODE=none pg_config
pg_migrate >/dev/null || { fail "migrate"; t_done; }
start_junction "$PORT" || { fail "start"; t_done; }

printf 'REGISTER sip:localhost SIP/2.0\nVia: SIP/2.0/UDP 127.0.0.1:%s;branch=z9hG4bKlc1;rport\nMax-Forwards: 70\nFrom: <sip:svc@localhost>;tag=1\nTo: <sip:svc@localhost>\nCall-ID: lc-%s\nCSeq: 1 REGISTER\nContact: <sip:svc@127.0.0.1:%s>\nExpires: 600\nContent-Length: 0\n\n' "$UAS" "$RANDOM" "$UAS" |
	"$SIPSEND" udp 127.0.0.1 "$PORT" - | grep -q "^SIP/2.0 200" && pass "SIPp UAS registered as svc@localhost" || fail "REGISTER"

sipp -sf "$SCEN/uas.xml" -i 127.0.0.1 -p "$UAS" -bg >/dev/null 2>&1
wait_for 5 bound udp "$UAS" || fail "the SIPp UAS does not listen on $UAS"
UAS_PID=$(pgrep -n -f "sipp -sf $SCEN/uas.xml -i 127.0.0.1 -p $UAS")
[ -n "$UAS_PID" ] && T_PIDS+=("$UAS_PID")
timeout 120 sipp -sf "$SCEN/uac_aor.xml" -s svc -i 127.0.0.1 -rsa "127.0.0.1:$PORT" \
	-m 500 -r 100 -nostdin -timeout 60s -trace_stat -stf "$T_DIR/uac.csv" \
	"127.0.0.1:$PORT" >"$T_DIR/uac.out" 2>&1
rc=$?
ok=$(tail -n 1 "$T_DIR/uac.csv" | cut -d';' -f16)
failed=$(tail -n 1 "$T_DIR/uac.csv" | cut -d';' -f18)
[ "$rc" -eq 0 ] && [ "$ok" = 500 ] && [ "$failed" = 0 ] && pass "500 calls to svc@localhost reached the registered UAS" ||
	fail "calls: rc=$rc successful=$ok failed=$failed"

stop_junction && pass "SIGTERM exit 0" || fail "exit status"
t_done
