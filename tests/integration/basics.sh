#!/usr/bin/env bash
# The daemon's basic contract: --version, --check-config (file:line errors,
# non-zero exit), OPTIONS to the proxy answered 200 over UDP and TCP on
# IPv4 and IPv6 (sipsak and raw), CRLF keep-alive pong on TCP, SIGHUP
# keeps it running, SIGTERM exits 0.
. "$(dirname "$0")/lib.sh"
need sipsak ss

# --version
"$JUNCTION" --version | grep -Eq '^junction [0-9]+\.[0-9]+' && pass "--version" || fail "--version"

# --check-config on the shipped reference file
"$JUNCTION" --check-config -c "$TOP_SRCDIR/etc/junction.conf" >/dev/null 2>&1 &&
	pass "etc/junction.conf is valid" || fail "etc/junction.conf rejected"

# --check-config on a bad file: every error with file and line, exit != 0
cat >"$T_DIR/bad.conf" <<'CONF'
[sip]
listen = udp:127.0.0.1:5060
workers = 0
colour = blue

[nosuch]
x = 1
CONF
out=$("$JUNCTION" --check-config -c "$T_DIR/bad.conf" 2>&1)
rc=$?
[ $rc -ne 0 ] && pass "bad config exits $rc" || fail "bad config accepted"
echo "$out" | grep -q "bad.conf:3:.*workers" && pass "bad value reported at line 3" || fail "no line 3 error: $out"
echo "$out" | grep -q "bad.conf:4:.*colour" && pass "unknown key reported at line 4" || fail "no line 4 error: $out"
echo "$out" | grep -q "bad.conf:6:.*nosuch" && pass "unknown section reported at line 6" || fail "no line 6 error: $out"
# refuses: exit 1 with the error on stderr (not a crash, not a daemon left
# running: the timeout would say 124)
timeout 10 "$JUNCTION" -c "$T_DIR/bad.conf" >/dev/null 2>"$T_DIR/bad.err"
rc=$?
[ $rc -eq 1 ] && grep -q "bad.conf:3:.*workers" "$T_DIR/bad.err" && pass "daemon refuses a bad config: exit 1, error on stderr" ||
	fail "daemon with a bad config: exit $rc, stderr: $(head -n 2 "$T_DIR/bad.err")"

PORT=$(free_port)
write_config "$PORT"
start_junction "$PORT" || { fail "start"; t_done; }

# sipsak OPTIONS to the proxy (a served domain, default port): 200. (sipsak
# cuts five-digit ports out of URIs, hence -r.)
sipsak -v -s sip:localhost -r "$PORT" >"$T_DIR/sipsak.out" 2>&1 && grep -q "200 OK" "$T_DIR/sipsak.out" &&
	pass "sipsak OPTIONS udp 200" || { fail "sipsak OPTIONS udp"; cat "$T_DIR/sipsak.out" >&2; }
sipsak -v -E tcp -s sip:localhost -r "$PORT" >"$T_DIR/sipsak-tcp.out" 2>&1 && grep -q "200 OK" "$T_DIR/sipsak-tcp.out" &&
	pass "sipsak OPTIONS tcp 200" || { fail "sipsak OPTIONS tcp"; cat "$T_DIR/sipsak-tcp.out" >&2; }

# The 200 carries Allow, Accept and Supported (RFC 3261 §11.2)
resp=$(options_msg 127.0.0.1 "$PORT" | "$SIPSEND" -v udp 127.0.0.1 "$PORT" -)
for h in "SIP/2.0 200 OK" "Allow: INVITE" "Accept: application/sdp" "Supported:" "Content-Length: 0"; do
	echo "$resp" | grep -q "^$h" && pass "OPTIONS 200 has '$h'" || fail "OPTIONS 200 lacks '$h'"
done
# ... and a To tag, and received/rport on the Via (RFC 3581)
echo "$resp" | grep -q "^To: .*;tag=" && pass "To tag added" || fail "no To tag"
echo "$resp" | grep -Eq "^Via: .*;rport=[0-9]+" && pass "rport filled" || fail "rport not filled"
echo "$resp" | grep -q "^Via: .*;received=127.0.0.1" && pass "received added" || fail "received missing"

# IPv6 over UDP and TCP, with the domain name as Request-URI
options_msg example.com "" >"$T_DIR/opt6"
"$SIPSEND" udp ::1 "$PORT" "$T_DIR/opt6" | grep -q "200 OK" && pass "OPTIONS udp [::1]" || fail "OPTIONS udp [::1]"
"$SIPSEND" tcp ::1 "$PORT" "$T_DIR/opt6" | grep -q "200 OK" && pass "OPTIONS tcp [::1]" || fail "OPTIONS tcp [::1]"

# Two requests in one TCP segment are framed apart (RFC 3261 §18.3)
{ options_msg 127.0.0.1 "$PORT"; options_msg 127.0.0.1 "$PORT"; } >"$T_DIR/two"
n=$("$SIPSEND" -c 2 tcp 127.0.0.1 "$PORT" "$T_DIR/two" | grep -c "200 OK")
[ "$n" = 2 ] && pass "two pipelined requests on TCP" || fail "pipelined: $n answers"

# RFC 5626 §4.4.1: CRLFCRLF ping on a stream gets a CRLF pong
printf '\r\n\r\n' >"$T_DIR/ping"
"$SIPSEND" -k tcp 127.0.0.1 "$PORT" "$T_DIR/ping" && pass "CRLF keep-alive pong" || fail "no keep-alive pong"

# SIGHUP reopens the log and keeps serving
log_mark
kill -HUP "$JCT_PID"
wait_for 3 log_since 'event=log_reopened' && pass "SIGHUP: log reopened" || fail "SIGHUP: no log_reopened line"
options_msg 127.0.0.1 "$PORT" | "$SIPSEND" udp 127.0.0.1 "$PORT" - | grep -q "200 OK" &&
	pass "serving after SIGHUP" || fail "not serving after SIGHUP"

# SIGTERM: exit 0, promptly
start=$(date +%s)
stop_junction && pass "SIGTERM exit 0" || fail "SIGTERM exit status"
[ $(($(date +%s) - start)) -le 6 ] && pass "stopped within 6 s" || fail "slow stop"
grep -q "event=stopped clean=yes" "$T_DIR/junction.log" && pass "clean stop logged" || fail "no clean stop in log"
t_done
