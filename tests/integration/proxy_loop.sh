#!/usr/bin/env bash
# Loop detection (RFC 3261 §16.3 step 4, §16.6 step 8) with two proxies, A
# (this test's Junction, with the database) and B (a second Junction
# without one):
#  - a Route set A -> B -> A makes the same request come back to A with
#    the same Request-URI: a loop, answered 482 (relayed back through B);
#    nothing reaches the Request-URI's address;
#  - a request whose next hop is A itself is answered 482 without being
#    sent, and so is a call to a binding that leads back to the same AOR;
#  - spirals pass: alias@localhost is bound to sip:bob@localhost:PORTA with
#    the Path <B>, so A sends the call to B, B back to A with the new
#    Request-URI, and A finds bob's SIPp UAS; and alias2@localhost is bound
#    to sip:bob2@localhost:PORTA, a URI of A itself, which A relays to
#    itself and then to bob2's UAS.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg.sh"
. "$(dirname "$0")/proxy_lib.sh"
need ss psql sipp

CALLS=20
PORT=$(free_port)
PB=$(free_port)
SIP_EXTRA="record_route = yes" write_config "$PORT"
pg_start || { fail "postgres"; t_done; }
AUTH_MODE=none pg_config
pg_migrate >/dev/null || { fail "migrate"; t_done; }
start_junction "$PORT" || { fail "start"; t_done; }

# Junction B: stateful, record-routing, no database, serving b.test only
cat >"$T_DIR/junction-b.conf" <<CONF
[sip]
listen = udp:127.0.0.1:$PB
domain = b.test
workers = 1
record_route = yes

# as lib.sh's write_config: the test's loopback clients may relay
[security]
trusted = 127.0.0.0/8 ::1

[log]
level = ${LOG_LEVEL:-info}
target = stderr
CONF
"$JUNCTION" -c "$T_DIR/junction-b.conf" >>"$T_DIR/junction-b.log" 2>&1 &
JB_PID=$!
T_PIDS+=("$JB_PID")
for _ in $(seq 50); do
	options_msg 127.0.0.1 "$PB" | "$SIPSEND" -q -w 100 udp 127.0.0.1 "$PB" - >/dev/null 2>&1 && break
	sleep 0.1
done
options_msg 127.0.0.1 "$PB" | "$SIPSEND" -q -w 500 udp 127.0.0.1 "$PB" - >/dev/null 2>&1 &&
	pass "Junction B up" || fail "Junction B did not start"

CPORT=$(free_port)
BRANCH=
CALLID=
# new_txn: a new Call-ID and branch for request()
new_txn() {
	BRANCH=z9hG4bKlp$RANDOM$RANDOM
	CALLID=lp-$RANDOM$RANDOM@test
}
# request METHOD RURI [TO-TAG [ROUTE...]]: a request from CPORT
request() {
	local m=$1 ruri=$2 tag=${3:-} r
	shift 3 2>/dev/null || shift $#
	printf '%s %s SIP/2.0\nVia: SIP/2.0/UDP 127.0.0.1:%s;branch=%s;rport\n' "$m" "$ruri" "$CPORT" "$BRANCH"
	for r in "$@"; do printf 'Route: %s\n' "$r"; done
	printf 'Max-Forwards: 70\nFrom: <sip:caller@example.com>;tag=lc1\nTo: <%s>%s\n' "$ruri" "${tag:+;tag=$tag}"
	printf 'Call-ID: %s\nCSeq: 1 %s\nContact: <sip:caller@127.0.0.1:%s>\nContent-Length: 0\n\n' "$CALLID" "$m" "$CPORT"
}
# invite NAME RURI [ROUTE...]: an INVITE to A, its final answer in
# $T_DIR/NAME.resp, then the ACK for it (hop by hop: same branch, Route)
invite() {
	local name=$1 ruri=$2 totag
	shift 2
	new_txn
	request INVITE "$ruri" "" "$@" | "$SIPSEND" -P -v -w 5000 -b "$CPORT" udp 127.0.0.1 "$PORT" - >"$T_DIR/$name.resp"
	totag=$(sed -n 's/^To:.*;tag=\([^;[:space:]]*\).*/\1/p' "$T_DIR/$name.resp" | head -n 1 | tr -d '\r')
	request ACK "$ruri" "$totag" "$@" | "$SIPSEND" -q -n -w 50 -b "$CPORT" udp 127.0.0.1 "$PORT" -
}
status_is() {
	head -n 1 "$T_DIR/$2.resp" | grep -q "^SIP/2.0 $1 " && pass "$2: $1" ||
		{ fail "$2: expected $1, got '$(head -n 1 "$T_DIR/$2.resp")'"; cat "$T_DIR/$2.resp" >&2; }
}

# 1. a loop through B: Route B, A, B and a Request-URI that never changes.
#    A answers the looped INVITE 482; B ACKs that 482 hop by hop, and A,
#    which generated it, must absorb the ACK, not relay it on.
DEAD=$(free_port)
"$SIPSEND" -l -b "$DEAD" -w 3000 udp 127.0.0.1 "$DEAD" /dev/null >"$T_DIR/dead.out" 2>&1 &
DEAD_PID=$!
T_PIDS+=("$DEAD_PID")
wait_for 2 bound udp "$DEAD" || fail "listener on $DEAD not bound"
invite loop "sip:x@127.0.0.1:$DEAD" "<sip:127.0.0.1:$PB;lr>" "<sip:127.0.0.1:$PORT;lr>" "<sip:127.0.0.1:$PB;lr>"
status_is 482 loop
grep -Eq "^Via: .*127\.0\.0\.1:$PB" "$T_DIR/loop.resp" && fail "loop: B's Via left in the response"
wait "$DEAD_PID"
# (nothing arrived counts only when A did answer 482 and still answers)
LOOP_OK=0
grep -q '^SIP/2.0 482 ' "$T_DIR/loop.resp" && answers "$PORT" && LOOP_OK=1
grep -q "^INVITE " "$T_DIR/dead.out" && fail "loop: the INVITE got out: $(grep -m1 "^INVITE " "$T_DIR/dead.out")" ||
	{ [ $LOOP_OK = 1 ] && pass "loop: the INVITE never reached the Request-URI" || fail "loop: no 482, or A stopped answering"; }
grep -q "^ACK " "$T_DIR/dead.out" && fail "loop: an ACK for the 482 got out to the Request-URI: $(grep -m1 "^ACK " "$T_DIR/dead.out")" ||
	{ [ $LOOP_OK = 1 ] && pass "loop: the ACK for the 482 went no further than A" || fail "loop: no 482, or A stopped answering"; }

# 2. the next hop is A itself: 482 at once, nothing sent
invite self "sip:nobody@127.0.0.1:$PORT"
status_is 482 self
register loopy "sip:loopy@localhost:$PORT"
invite loopy "sip:loopy@localhost"
status_is 482 loopy

# 3. a spiral through B: alias -> (Path B) sip:bob@localhost:PORT -> bob.
#    A puts the Path first in the INVITE it sends (Route before Via); B
#    must relay such a request (checked alone first, straight to B).
DEAD=$(free_port)
"$SIPSEND" -l -b "$DEAD" -w 1500 udp 127.0.0.1 "$DEAD" /dev/null >"$T_DIR/dead2.out" 2>&1 &
DEAD_PID=$!
T_PIDS+=("$DEAD_PID")
wait_for 2 bound udp "$DEAD" || fail "listener on $DEAD not bound"
printf 'INVITE sip:x@127.0.0.1:%s SIP/2.0\nRoute: <sip:127.0.0.1:%s;lr>\nVia: SIP/2.0/UDP 127.0.0.1:%s;branch=z9hG4bKrf%s;rport\nMax-Forwards: 70\nFrom: <sip:caller@example.com>;tag=rf\nTo: <sip:x@example.com>\nCall-ID: rf-%s@test\nCSeq: 1 INVITE\nContent-Length: 0\n\n' \
	"$DEAD" "$PB" "$CPORT" "$RANDOM" "$RANDOM" | "$SIPSEND" -P -w 1000 -b "$CPORT" udp 127.0.0.1 "$PB" - >"$T_DIR/routefirst.resp"
wait "$DEAD_PID"
grep -q "^INVITE " "$T_DIR/dead2.out" && pass "B relays a request whose first header is its Route" ||
	fail "B did not relay a request whose first header is its Route: '$(head -n 1 "$T_DIR/routefirst.resp")'"
UB=$(free_port)
printf 'REGISTER sip:localhost SIP/2.0\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKpath%s;rport\nMax-Forwards: 70\nFrom: <sip:alias@localhost>;tag=%s\nTo: <sip:alias@localhost>\nCall-ID: reg-path-%s\nCSeq: 1 REGISTER\nContact: <sip:bob@localhost:%s>\nPath: <sip:127.0.0.1:%s;lr>\nSupported: path\nExpires: 600\nContent-Length: 0\n\n' \
	"$RANDOM" "$RANDOM" "$RANDOM" "$PORT" "$PB" |
	"$SIPSEND" -P udp 127.0.0.1 "$PORT" - | grep -q "^SIP/2.0 200" &&
	pass "registered alias -> sip:bob@localhost:$PORT with Path <B>" || fail "REGISTER alias with Path"
register bob "sip:bob@127.0.0.1:$UB"
uas uas_bob uas.xml "$UB" -m "$CALLS" -trace_msg -message_file "$T_DIR/uas_bob.msg"
timeout 60 sipp -sf "$SCEN/uac_aor.xml" -s alias -i 127.0.0.1 -p "$(free_port)" -rsa "127.0.0.1:$PORT" \
	-m "$CALLS" -r 20 -nostdin -timeout 30s -timeout_error \
	-trace_stat -stf "$T_DIR/uac_alias.csv" -trace_err -error_file "$T_DIR/uac_alias.err" \
	"127.0.0.1:$PORT" >"$T_DIR/uac_alias.out" 2>&1
csv_check uac_alias $?
uas_wait uas_bob
# the INVITE that reached bob went A, B, A: three proxy Vias over the UAC's
vias=$(awk '/^INVITE sip:bob@/ {inv = 1; n = 0; next} inv && /^Via:/ {n++} inv && /^$/ {print n; exit}' "$T_DIR/uas_bob.msg")
[ "$vias" = 4 ] && pass "spiral: bob's INVITE came through A, B and A again" ||
	fail "spiral: bob's INVITE has ${vias:-no} Via lines, expected 4"

# 4. a spiral through A alone: alias2 -> sip:bob2@localhost:PORT (A) -> bob2
UB2=$(free_port)
register alias2 "sip:bob2@localhost:$PORT"
register bob2 "sip:bob2@127.0.0.1:$UB2"
uas uas_bob2 uas.xml "$UB2" -m "$CALLS"
timeout 60 sipp -sf "$SCEN/uac_aor.xml" -s alias2 -i 127.0.0.1 -p "$(free_port)" -rsa "127.0.0.1:$PORT" \
	-m "$CALLS" -r 20 -nostdin -timeout 30s -timeout_error \
	-trace_stat -stf "$T_DIR/uac_alias2.csv" -trace_err -error_file "$T_DIR/uac_alias2.err" \
	"127.0.0.1:$PORT" >"$T_DIR/uac_alias2.out" 2>&1
csv_check uac_alias2 $?
uas_wait uas_bob2

kill -0 "$JB_PID" || fail "junction B died"
kill -0 "$JCT_PID" || fail "junction died"
stop_junction && pass "SIGTERM exit 0" || fail "exit status on SIGTERM"
grep -Eq "ERROR: (Address|Leak|Thread)Sanitizer|runtime error:" "$T_DIR/junction-b.log" && fail "sanitizer report in junction-b.log"
t_done
