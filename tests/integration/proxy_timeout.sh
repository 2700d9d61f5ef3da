#!/usr/bin/env bash
# Timeouts of the proxy's client transactions (RFC 3261 §17.1, §16.7
# step 1, §16.8), with [transaction] t1 = 50 ms: silent@localhost is
# bound to a bare UDP socket that never answers. An INVITE is
# retransmitted (Timer A) and given up by Timer B (64*T1 = 3.2 s): the
# caller gets 100 at once, then 408 within 5 s, and its ACK for the 408
# is absorbed. A MESSAGE (non-INVITE: Timers E and F) gets no answer
# (RFC 4320 §4.1: no 408 to a non-INVITE). Then
# Timer C (timer_c = 4000 ms, above Timer B): a UAS that rings and never
# answers is CANCELled after 4 s and the caller gets a final response.
# Last, an INVITE retransmitted after its 200 must be absorbed by the
# server transaction (RFC 6026), not relayed again as a new request.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg.sh"
. "$(dirname "$0")/proxy_lib.sh"
need ss psql sipp

proxy_daemon "t1 = 50" "timer_c = 4000"

# heard NAME: stops listener NAME; what it got (first lines) on stdout
heard() {
	local pid_var=${1}_PID
	kill "${!pid_var}" 2>/dev/null
	wait "${!pid_var}" 2>/dev/null
	cat "$T_DIR/$1.out"
}

CPORT=
CALLID=
BRANCH=
# new_txn: a new caller port, Call-ID and branch for request()
new_txn() {
	CPORT=$(free_port)
	BRANCH=z9hG4bKto$RANDOM$RANDOM
	CALLID=to-$RANDOM$RANDOM@test
}
# request METHOD USER [TO-TAG]: a request for USER@localhost from the
# caller on CPORT, in the transaction of new_txn (an ACK: the INVITE's)
request() {
	printf '%s sip:%s@localhost SIP/2.0\nVia: SIP/2.0/UDP 127.0.0.1:%s;branch=%s;rport\n' "$1" "$2" "$CPORT" "$BRANCH"
	printf 'Max-Forwards: 70\nFrom: <sip:caller@example.com>;tag=c%s\nTo: <sip:%s@localhost>%s\n' "$CPORT" "$2" "${3:+;tag=$3}"
	printf 'Call-ID: %s\nCSeq: 1 %s\nContact: <sip:caller@127.0.0.1:%s>\n' "$CALLID" "$1" "$CPORT"
	if [ "$1" = MESSAGE ]; then
		printf 'Content-Type: text/plain\nContent-Length: 5\n\nhello'
	else
		printf 'Content-Length: 0\n\n'
	fi
}

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# to_tag FILE: the To tag of the response in FILE
to_tag() { sed -n 's/^To:.*;tag=\([^;[:space:]]*\).*/\1/p' "$1" | tail -n 1 | tr -d '\r'; }

US=$(free_port)
register silent "sip:silent@127.0.0.1:$US"

# 1. INVITE: Timer A retransmissions, Timer B, 408
listener target "$US"
new_txn
t0=$(now_ms)
request INVITE silent | "$SIPSEND" -w 8000 -b "$CPORT" udp 127.0.0.1 "$PORT" - >"$T_DIR/invite.resp"
elapsed=$(($(now_ms) - t0))
head -n 1 "$T_DIR/invite.resp" | grep -q "^SIP/2.0 100 " && pass "INVITE: 100 Trying first" ||
	fail "INVITE: first response '$(head -n 1 "$T_DIR/invite.resp")'"
if tail -n 1 "$T_DIR/invite.resp" | grep -q "^SIP/2.0 408 " && [ "$elapsed" -ge 3000 ] && [ "$elapsed" -le 5000 ]; then
	pass "INVITE: 408 after $elapsed ms (Timer B = 3200 ms)"
else
	fail "INVITE: expected 408 in 3-5 s, got '$(tail -n 1 "$T_DIR/invite.resp")' after $elapsed ms"
fi
request ACK silent "$(to_tag "$T_DIR/invite.resp")" | "$SIPSEND" -n -w 100 -b "$CPORT" udp 127.0.0.1 "$PORT" - >/dev/null ||
	fail "INVITE: an answer to the ACK"
# Timer G would resend the 408 after 50 ms, 100 ms, ... until the ACK
"$SIPSEND" -l -n -b "$CPORT" -w 600 udp 127.0.0.1 "$CPORT" /dev/null >"$T_DIR/invite.retrans" && answers "$PORT" &&
	pass "INVITE: the ACK for the 408 was absorbed (no retransmission)" ||
	fail "INVITE: 408 retransmitted after the ACK: $(head -n 1 "$T_DIR/invite.retrans")"
# (no wait: Timer B, whose 408 came, fires after Timer A's last copy,
# and the listener writes each message as it arrives)
heard target >"$T_DIR/target.invite"
n=$(grep -c "^INVITE sip:silent@127.0.0.1:$US " "$T_DIR/target.invite")
others=$(grep -vc "^INVITE " "$T_DIR/target.invite")
# sent at 0, 50, 150, 350, 750, 1550, 3150 ms: 7 in 64*T1
[ "$n" -ge 5 ] && [ "$n" -le 8 ] && [ "$others" -eq 0 ] &&
	pass "INVITE: the target got $n copies (Timer A), nothing else" ||
	fail "INVITE: the target got $n INVITEs and $others other messages: $(sort "$T_DIR/target.invite" | uniq -c)"

# 2. MESSAGE: Timer E retransmissions, Timer F, and no 408 upstream
#    (RFC 4320 §4.1: a transaction-stateful element never sends 408 to a
#    non-INVITE; its client times out on its own)
listener target "$US"
new_txn
request MESSAGE silent | "$SIPSEND" -w 5000 -b "$CPORT" udp 127.0.0.1 "$PORT" - >"$T_DIR/message.resp"
[ ! -s "$T_DIR/message.resp" ] && answers "$PORT" && pass "MESSAGE: no answer at all after Timer F (RFC 4320), daemon still answering" ||
	fail "MESSAGE: answered '$(head -n 1 "$T_DIR/message.resp")'"
# (no wait: the 5 s above outlast Timer F, 3.2 s, and its last copy)
heard target >"$T_DIR/target.message"
n=$(grep -c "^MESSAGE sip:silent@127.0.0.1:$US " "$T_DIR/target.message")
[ "$n" -ge 5 ] && [ "$n" -le 8 ] && pass "MESSAGE: the target got $n copies (Timer E)" ||
	fail "MESSAGE: the target got $n copies: $(sort "$T_DIR/target.message" | uniq -c)"

# 3. Timer C: a branch that rings for longer than timer_c is CANCELled
#    (uas_cancel.xml requires the CANCEL), and the caller gets a final
UR=$(free_port)
register ringing "sip:ringing@127.0.0.1:$UR"
uas uas_ring uas_cancel.xml "$UR" -m 1 -trace_msg -message_file "$T_DIR/uas_ring.msg"
new_txn
t0=$(now_ms)
request INVITE ringing | "$SIPSEND" -P -w 8000 -b "$CPORT" udp 127.0.0.1 "$PORT" - >"$T_DIR/ring.resp"
elapsed=$(($(now_ms) - t0))
if grep -Eq "^SIP/2.0 (408|487) " "$T_DIR/ring.resp" && [ "$elapsed" -ge 3900 ] && [ "$elapsed" -le 6000 ]; then
	pass "Timer C: '$(head -n 1 "$T_DIR/ring.resp")' after $elapsed ms"
else
	fail "Timer C: expected 408 or 487 after 4-6 s, got '$(head -n 1 "$T_DIR/ring.resp")' after $elapsed ms"
fi
request ACK ringing "$(to_tag "$T_DIR/ring.resp")" | "$SIPSEND" -n -w 100 -b "$CPORT" udp 127.0.0.1 "$PORT" - >/dev/null
uas_wait uas_ring 1

# 4. An INVITE retransmission that arrives after the 200 (the UAC's timer
#    fired before the 200 reached it: it crossed the 200, or the 100 was
#    lost). The INVITE server transaction must absorb it (RFC 6026 §7.1,
#    Accepted state, which updates RFC 3261 §17.2.1), not take it for a
#    new request: no INVITE with a new branch to the UAS (which would fail
#    its scenario), and no late final response to the caller (a 408 from
#    Timer B, 64*T1 = 3.2 s here).
UL=$(free_port)
CPORT=$(free_port)
register late "sip:late@127.0.0.1:$UL"
uas uas_late uas.xml "$UL" -m 1 -trace_msg -message_file "$T_DIR/uas_late.msg"
CALLID=late-$RANDOM$RANDOM@test
{
	printf 'INVITE sip:late@localhost SIP/2.0\nVia: SIP/2.0/UDP 127.0.0.1:%s;branch=z9hG4bKlate%s;rport\n' "$CPORT" "$RANDOM"
	printf 'Max-Forwards: 70\nFrom: <sip:caller@example.com>;tag=lc1\nTo: <sip:late@localhost>\n'
	printf 'Call-ID: %s\nCSeq: 1 INVITE\nContact: <sip:caller@127.0.0.1:%s>\nContent-Length: 0\n\n' "$CALLID" "$CPORT"
} >"$T_DIR/late.invite"
"$SIPSEND" -P -v -w 3000 -b "$CPORT" udp 127.0.0.1 "$PORT" "$T_DIR/late.invite" >"$T_DIR/late.200"
head -n 1 "$T_DIR/late.200" | grep -q "^SIP/2.0 200 " && pass "late: the call is answered 200" ||
	fail "late: expected 200, got '$(head -n 1 "$T_DIR/late.200")'"
rr=$(sed -n 's/^Record-Route: *\(<[^>]*>\).*/\1/p' "$T_DIR/late.200" | head -n 1)
target=$(sed -n 's/^Contact: *<\([^>]*\)>.*/\1/p' "$T_DIR/late.200" | head -n 1)
totag=$(sed -n 's/^To:.*;tag=\([^;[:space:]]*\).*/\1/p' "$T_DIR/late.200" | head -n 1 | tr -d '\r')
# in_dialog METHOD CSEQ: a request in the call's dialog, along its route set
in_dialog() {
	printf '%s %s SIP/2.0\nVia: SIP/2.0/UDP 127.0.0.1:%s;branch=z9hG4bKld%s;rport\nRoute: %s\n' "$1" "$target" "$CPORT" "$RANDOM$RANDOM" "$rr"
	printf 'Max-Forwards: 70\nFrom: <sip:caller@example.com>;tag=lc1\nTo: <sip:late@localhost>;tag=%s\n' "$totag"
	printf 'Call-ID: %s\nCSeq: %s %s\nContent-Length: 0\n\n' "$CALLID" "$2" "$1"
}
in_dialog ACK 1 | "$SIPSEND" -q -n -w 100 -b "$CPORT" udp 127.0.0.1 "$PORT" -
# the INVITE again, byte for byte; then whatever comes for 4.5 s
"$SIPSEND" -v -c 1000 -w 4500 -b "$CPORT" udp 127.0.0.1 "$PORT" "$T_DIR/late.invite" >"$T_DIR/late.after"
got=$(grep "^SIP/2.0 " "$T_DIR/late.after" | sort | uniq -c | tr -s ' ' | tr '\n' ',')
if grep "^SIP/2.0 " "$T_DIR/late.after" | grep -vq "^SIP/2.0 \(100\|200\) "; then
	fail "late: a final response to the INVITE after its 200: $got"
else
	pass "late: the retransmitted INVITE was absorbed (${got:-no answer})"
fi
in_dialog BYE 2 | "$SIPSEND" -P -w 3000 -b "$CPORT" udp 127.0.0.1 "$PORT" - | grep -q "^SIP/2.0 200 " &&
	pass "late: BYE answered 200" || fail "late: BYE not answered 200"
uas_wait uas_late 1

kill -0 "$JCT_PID" || fail "junction died"
stop_junction && pass "SIGTERM exit 0" || fail "exit status on SIGTERM"
t_done
