#!/usr/bin/env bash
# CANCEL and the hop-by-hop ACK for requests as big as Junction accepts
# (issue 18): an INVITE whose From, To and Route are each over 8 KiB and
# which has exactly [sip] max_headers header lines, sent by its Route
# straight to a SIPp callee (no database: the Route decides).
#  - the callee rings and the caller CANCELs after the 180: Junction must
#    send the callee a CANCEL (RFC 3261 §9.1: the INVITE's Request-URI,
#    top Via, Route, From, To, Call-ID, CSeq number), ACK the callee's 487
#    (§17.1.1.3) and answer the caller 487, whose ACK it absorbs;
#  - the callee answers 486: Junction must ACK it hop by hop, with the
#    INVITE's Route and the 486's To.
# Both SIPp sides must finish every call, and the CANCEL and ACKs the
# callee got must carry the 8 KiB headers whole.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/proxy_lib.sh"
need ss sipp

CALLS=5
PORT=$(free_port)
# the header lines of the INVITE in the scenario: the limit is set to that
NHDRS=$(awk '/^ *INVITE sip:/ {f = 1; next} f && /^ *$/ {print n; exit} f {n++}' "$SCEN/big_uac_cancel.xml")
PAD=$(printf '%8192s' '' | tr ' ' 'a')
SIP_EXTRA="record_route = yes
max_headers = $NHDRS
max_line_length = 16384" write_config "$PORT"
start_junction "$PORT" || { fail "start"; t_done; }

# big_lines NAME METHOD: how many METHOD requests in the UAS's message log
# carry From, To and Route lines all longer than 8192 bytes (for an ACK,
# the To of the response: with the callee's tag)
big_lines() {
	awk -v m="$2" '
		$0 ~ "^" m " " { in_m = 1; f = t = r = 0; next }
		in_m && /^From: / && length($0) > 8192 { f = 1 }
		in_m && /^To: / && length($0) > 8192 && (m != "ACK" || /;tag=[^;]*SIPpTag01/) { t = 1 }
		in_m && /^Route: / && length($0) > 8192 { r = 1 }
		in_m && /^\r?$/ { if (f && t && r) n++; in_m = 0 }
		END { print n + 0 }' "$T_DIR/$1.msg"
}

# big_case CASE UAS_XML UAC_XML UAC_MODE: CALLS calls through the proxy,
# the callee's messages traced to $T_DIR/uas_CASE.msg
big_case() {
	local uas_port
	uas_port=$(free_port)
	uas "uas_$1" "$2" "$uas_port" -m "$CALLS" -trace_msg -message_file "$T_DIR/uas_$1.msg"
	uac "uac_$1" "$3" "$4" -key uas_port "$uas_port" -key pad "$PAD" -r 10
	uas_wait "uas_$1"
}

# expect_whole CASE METHOD WHAT: every call's METHOD reached the callee whole
expect_whole() {
	local n
	n=$(big_lines "uas_$1" "$2")
	[ "$n" = "$CALLS" ] && pass "$1: $CALLS $3 with the 8 KiB From, To and Route" ||
		fail "$1: $n of $CALLS $3 reached the callee whole"
}

# 1. CANCEL after the 180
big_case cancel big_uas_cancel.xml big_uac_cancel.xml ring
expect_whole cancel CANCEL CANCELs
expect_whole cancel ACK "ACKs of the 487"

# 2. a busy callee: the 486 is ACKed hop by hop
big_case busy uas_busy.xml big_uac_busy.xml busy
expect_whole busy ACK "ACKs of the 486"

grep -q "event=cancel_not_sent\|event=ack_not_sent" "$T_DIR/junction.log" &&
	fail "a CANCEL or ACK was not sent: $(grep -m1 'not_sent' "$T_DIR/junction.log")"
kill -0 "$JCT_PID" || fail "junction died"
stop_junction && pass "SIGTERM exit 0" || fail "exit status on SIGTERM"
t_done
