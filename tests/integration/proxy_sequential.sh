#!/usr/bin/env bash
# Sequential forking by q (RFC 3261 §16.6): seq@localhost has three
# bindings. The q=1.0 SIPp UAS answers 486 after 300 ms; only then may the
# q=0.5 one get the INVITE (checked per call in the UASes' message logs),
# and it answers 200, so the q=0.1 binding (a bare socket) must get
# nothing. Then a 6xx ends the search (§16.7 step 5): dec@localhost's
# q=1.0 UAS answers 603, its q=0.5 binding must get nothing, and the
# caller gets the 603 (and its ACK is absorbed hop by hop: no 603
# retransmission follows it).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg.sh"
. "$(dirname "$0")/proxy_lib.sh"
need ss psql sipp

CALLS=20
PORT=$(free_port)
SIP_EXTRA="record_route = yes" write_config "$PORT"
pg_start || { fail "postgres"; t_done; }
AUTH_MODE=none pg_config
pg_migrate >/dev/null || { fail "migrate"; t_done; }
start_junction "$PORT" || { fail "start"; t_done; }

# heard NAME: stops listener NAME; what it got (first lines) on stdout
heard() {
	local pid_var=${1}_PID
	kill "${!pid_var}" 2>/dev/null
	wait "${!pid_var}" 2>/dev/null
	cat "$T_DIR/$1.out"
}

# 1. q=1.0 (486 after 300 ms), then q=0.5 (200); q=0.1 never tried
UA=$(free_port)
UB=$(free_port)
UC=$(free_port)
register seq "sip:a@127.0.0.1:$UA" 1.0
register seq "sip:b@127.0.0.1:$UB" 0.5
register seq "sip:c@127.0.0.1:$UC" 0.1
uas uas_a uas_busy.xml "$UA" -m "$CALLS" -d 300 -trace_shortmsg -shortmessage_file "$T_DIR/uas_a.short"
uas uas_b uas.xml "$UB" -m "$CALLS" -trace_shortmsg -shortmessage_file "$T_DIR/uas_b.short"
listener low "$UC"
uac uac uac_aor.xml seq -r 10
uas_wait uas_a
uas_wait uas_b
awk -F'\t' -v calls="$CALLS" '
	FNR == NR {
		if ($4 == "S" && $7 ~ /^SIP\/2.0 486/) busy[$5] = 1
		if ($4 == "R" && $7 ~ /^INVITE/ && !($5 in asked)) asked[$5] = $3
		next
	}
	$4 == "R" && $7 ~ /^INVITE/ {
		if (!seen[$5]++) n++
		# q=1.0 holds each INVITE 300 ms before its 486: q=0.5 must not
		# hear of the call before then. (Comparing with the 486 itself
		# is at the mercy of when SIPp gets to stamp its trace, a few ms
		# late on a busy machine.)
		if (!($5 in busy) || $3 + 0 < asked[$5] + 0.25) early++
	}
	END { exit !(n == calls && early == 0) }' "$T_DIR/uas_a.short" "$T_DIR/uas_b.short" &&
	pass "q=0.5 got each of the $CALLS INVITEs only after q=1.0 had answered 486" ||
	fail "q=0.5 got INVITEs out of order (see uas_a.short, uas_b.short)"
got=$(heard low)
[ -z "$got" ] && pass "q=0.1 got nothing" || fail "q=0.1 got: $(echo "$got" | sort | uniq -c | head -3)"

# 2. a 603 from q=1.0 ends the search: q=0.5 gets nothing
UD=$(free_port)
UE=$(free_port)
CPORT=$(free_port)
register dec "sip:d@127.0.0.1:$UD" 1.0
register dec "sip:e@127.0.0.1:$UE" 0.5
uas uas_d uas_decline.xml "$UD" -m 1
listener after6xx "$UE"
BRANCH=z9hG4bKdec$RANDOM$RANDOM
CALLID=dec-$RANDOM$RANDOM@test
# msg METHOD [TO-TAG]: the INVITE, or its ACK (same branch, §17.1.1.3)
msg() {
	printf '%s sip:dec@localhost SIP/2.0\nVia: SIP/2.0/UDP 127.0.0.1:%s;branch=%s;rport\n' "$1" "$CPORT" "$BRANCH"
	printf 'Max-Forwards: 70\nFrom: <sip:caller@example.com>;tag=c1\nTo: <sip:dec@localhost>%s\n' "${2:+;tag=$2}"
	printf 'Call-ID: %s\nCSeq: 1 %s\nContact: <sip:caller@127.0.0.1:%s>\nContent-Length: 0\n\n' "$CALLID" "$1" "$CPORT"
}
msg INVITE | "$SIPSEND" -P -v -w 5000 -b "$CPORT" udp 127.0.0.1 "$PORT" - >"$T_DIR/dec.resp"
head -n 1 "$T_DIR/dec.resp" | grep -q "^SIP/2.0 603 " && pass "the caller got the 603" ||
	fail "expected 603, got '$(head -n 1 "$T_DIR/dec.resp")'"
totag=$(sed -n 's/^To:.*;tag=\([^;[:space:]]*\).*/\1/p' "$T_DIR/dec.resp" | head -n 1 | tr -d '\r')
msg ACK "$totag" | "$SIPSEND" -n -w 100 -b "$CPORT" udp 127.0.0.1 "$PORT" - >/dev/null ||
	fail "an answer to the ACK"
# without the ACK absorbed, the 603 would come again after T1 (500 ms)
"$SIPSEND" -l -n -b "$CPORT" -w 1500 udp 127.0.0.1 "$CPORT" /dev/null >"$T_DIR/dec.retrans" && answers "$PORT" &&
	pass "the ACK for the 603 was absorbed (no retransmission)" ||
	fail "603 retransmitted after the ACK: $(head -n 1 "$T_DIR/dec.retrans")"
uas_wait uas_d 1
got=$(heard after6xx)
[ -z "$got" ] && pass "after the 603, q=0.5 got nothing" || fail "q=0.5 got after a 6xx: $(echo "$got" | head -3)"

kill -0 "$JCT_PID" || fail "junction died"
stop_junction && pass "SIGTERM exit 0" || fail "exit status on SIGTERM"
t_done
