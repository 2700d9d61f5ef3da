#!/usr/bin/env bash
# Malformed and refused requests get the RFC's answer (RFC 3261 §16.3,
# §21.4, RFC 4475 categories), unanswerable ones are dropped and counted,
# and the daemon keeps answering throughout, over UDP and TCP.
. "$(dirname "$0")/lib.sh"
need ss

PORT=$(free_port)
SIP_EXTRA="max_message_size = 4096
max_headers = 40" write_config "$PORT"
start_junction "$PORT" || { fail "start"; t_done; }

N=0
# msg METHOD RURI [extra header lines...]: a request with every mandatory header
msg() {
	local method=$1 ruri=$2
	shift 2
	N=$((N + 1))
	printf '%s %s SIP/2.0\n' "$method" "$ruri"
	printf 'Via: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKm%s%s;rport\n' "$N" "$RANDOM"
	printf 'From: <sip:a@example.com>;tag=f%s\n' "$N"
	printf 'To: <sip:b@example.com>\n'
	printf 'Call-ID: malformed-%s-%s\n' "$N" "$RANDOM"
	printf 'CSeq: 1 %s\n' "$method"
	local h
	for h in "$@"; do printf '%s\n' "$h"; done
	printf 'Content-Length: 0\n\n'
}

# expect TRANSPORT STATUS PATTERN < message: the first response has STATUS
# and its text matches PATTERN (egrep, may be empty).
expect() {
	local tp=$1 status=$2 pat=$3 what=$4 out
	out=$("$SIPSEND" -v -w 1500 "$tp" 127.0.0.1 "$PORT" -)
	if echo "$out" | head -n 1 | grep -Eq "^SIP/2.0 $status " &&
		{ [ -z "$pat" ] || echo "$out" | grep -Eq "$pat"; }; then
		pass "$tp $what -> $status"
	else
		fail "$tp $what: expected $status${pat:+ /$pat/}, got: $(echo "$out" | head -n 1)"
	fi
}

# expect_none TRANSPORT WHAT PATTERN < message: no answer at all, a log
# line matching PATTERN, and the daemon still answering (lib.sh's
# expect_dropped: silence alone could be a crash)
expect_none() {
	expect_dropped "$PORT" "$3" "$1 $2" "$SIPSEND" -n -w 700 "$1" 127.0.0.1 "$PORT" -
}

alive() {
	answers "$PORT" || fail "daemon stopped answering after $1"
}

for tp in udp tcp; do
	msg INVITE sip:bob@127.0.0.2:5099 "Max-Forwards: 0" | expect $tp 483 "" "Max-Forwards 0"
	msg OPTIONS "sip:127.0.0.1:$PORT" "Max-Forwards: 0" | expect $tp 200 "Allow:" "OPTIONS to proxy with Max-Forwards 0"
	msg INVITE sip:bob@127.0.0.2:5099 "Max-Forwards: ten" | expect $tp 400 "Max-Forwards" "bad Max-Forwards"
	msg INVITE mailto:bob@example.com "Max-Forwards: 70" | expect $tp 416 "" "mailto: Request-URI"
	msg INVITE sip:bob@127.0.0.2:5099 "Proxy-Require: foo, bar" | expect $tp 420 "^Unsupported: foo, bar" "unknown Proxy-Require"
	msg INVITE sip:bob@127.0.0.2:5099 | sed 's/^CSeq: 1 INVITE/CSeq: 1 BYE/' | expect $tp 400 "CSeq" "CSeq method mismatch"
	msg INVITE sip:bob@127.0.0.2:5099 | sed 's/^CSeq: 1 INVITE/CSeq: x1 INVITE/' | expect $tp 400 "CSeq" "non-numeric CSeq"
	msg INVITE sip:bob@127.0.0.2:5099 | sed 's/^CSeq: 1 INVITE/CSeq: 99999999999 INVITE/' | expect $tp 400 "CSeq" "CSeq overflow"
	msg INVITE sip:bob@127.0.0.2:5099 | sed 's|SIP/2.0$|SIP/7.0|' | expect $tp 505 "" "SIP/7.0"
	msg INVITE "sip:bob@[::1" | expect $tp 400 "" "unterminated IPv6 reference"
	msg INVITE sip:bob@127.0.0.2:99999 | expect $tp 400 "" "port out of range"
	msg INVITE sip:bob@127.0.0.2:5099 "From: <sip:c@example.com>;tag=x" | expect $tp 400 "From" "two From headers"
	# RFC 3261 §8.2, §16.3 step 1: a 400 saying what is missing, built
	# without it; without a Via nobody can be answered.
	msg INVITE sip:bob@127.0.0.2:5099 | grep -v '^Call-ID' | expect $tp 400 "^SIP/2.0 400 Missing Call-ID" "missing Call-ID"
	msg INVITE sip:bob@127.0.0.2:5099 | grep -v '^CSeq' | expect $tp 400 "^SIP/2.0 400 Missing CSeq" "missing CSeq"
	msg INVITE sip:bob@127.0.0.2:5099 | grep -v '^From' | expect $tp 400 "^SIP/2.0 400 Missing From" "missing From"
	msg INVITE sip:bob@127.0.0.2:5099 | grep -v '^To' | expect $tp 400 "^SIP/2.0 400 Missing To" "missing To"
	msg INVITE sip:bob@127.0.0.2:5099 | grep -Ev '^(From|To|Call-ID)' |
		expect $tp 400 "^SIP/2.0 400 Missing From, To, Call-ID" "missing From, To and Call-ID"
	msg INVITE sip:bob@127.0.0.2:5099 | grep -v '^Via' | expect_none $tp "missing Via" "" # (not logged: counted, below)
	msg ACK sip:bob@127.0.0.2:5099 | grep -v '^Call-ID' | expect_none $tp "ACK missing Call-ID" "" # (logged and counted nowhere)
	msg ACK sip:bob@127.0.0.2:5099 "Max-Forwards: 0" | expect_none $tp "ACK with Max-Forwards 0" "" # (logged and counted nowhere)
	alive "$tp batch"
done

# UDP-only: body shorter than Content-Length (RFC 3261 §18.3 -> 400)
msg MESSAGE sip:bob@127.0.0.2:5099 | sed 's/^Content-Length: 0/Content-Length: 50/' | expect udp 400 "" "Content-Length beyond datagram"
# no Content-Length on a stream (RFC 3261 §18.3 -> 400)
msg OPTIONS sip:bob@127.0.0.2:5099 | grep -v '^Content-Length' | expect tcp 400 "Content-Length" "stream without Content-Length"
# message larger than max_message_size -> 513 on UDP
{ msg MESSAGE sip:bob@127.0.0.2:5099 | sed '/^Content-Length/d'; } >"$T_DIR/big"
sed -i '$d' "$T_DIR/big"
body=$(head -c 5000 /dev/zero | tr '\0' 'x')
printf 'Content-Type: text/plain\nContent-Length: 5000\n\n%s' "$body" >>"$T_DIR/big"
expect udp 513 "" "5000-byte message over max_message_size" <"$T_DIR/big"
# more header lines than max_headers
{
	msg OPTIONS sip:bob@127.0.0.2:5099 | sed '/^Content-Length/d; /^$/d'
	for i in $(seq 60); do echo "X-H$i: $i"; done
	printf 'Content-Length: 0\n\n'
} | expect udp "(400|513)" "" "60 headers over max_headers"
# garbage, an empty line, NUL bytes, binary: nothing to answer
printf 'hello world\r\n\r\n' | expect_dropped "$PORT" "event=parse_error src=udp:" "garbage" "$SIPSEND" -r -n -w 500 udp 127.0.0.1 "$PORT" -
head -c 1500 /dev/urandom | expect_dropped "$PORT" "event=parse_error src=udp:" "random bytes" "$SIPSEND" -r -n -w 500 udp 127.0.0.1 "$PORT" -
printf 'INVITE sip:bob@x SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKn\0ul;rport\r\n\r\n' |
	expect_dropped "$PORT" "event=parse_error src=udp:" "NUL in a header" "$SIPSEND" -r -w 500 -n udp 127.0.0.1 "$PORT" -
# a bad Content-Length on a stream closes the connection after a 400
printf 'OPTIONS sip:bob@127.0.0.2:5099 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:9;branch=z9hG4bKcl\r\nFrom: <sip:a@example.com>;tag=1\r\nTo: <sip:b@example.com>\r\nCall-ID: cl-bad\r\nCSeq: 1 OPTIONS\r\nContent-Length: -5\r\n\r\n' |
	"$SIPSEND" -r -v -w 1000 tcp 127.0.0.1 "$PORT" - | head -n 1 | grep -q "^SIP/2.0 400" &&
	pass "tcp negative Content-Length -> 400" || fail "tcp negative Content-Length"

# A burst of 2000 malformed datagrams: still answering, memory bounded
rss0=$(rss_kb "$JCT_PID")
printf 'INVITE sip:x@y SIP/2.0\r\nVia: broken\r\nCall-ID: b\r\n\r\n' >"$T_DIR/burst-one"
"$SIPSEND" -r -n -w 1 -R 2000 udp 127.0.0.1 "$PORT" "$T_DIR/burst-one" >/dev/null || fail "burst answered"
alive "burst"
rss1=$(rss_kb "$JCT_PID")
[ $((rss1 - rss0)) -lt 20000 ] && pass "RSS grew $((rss1 - rss0)) kB" || fail "RSS grew $((rss1 - rss0)) kB"

stop_junction && pass "SIGTERM exit 0" || fail "exit status"
grep -q "event=parse_error" "$T_DIR/junction.log" && pass "parse errors logged" || fail "parse errors not logged"
# the lifetime counters: the burst above was counted, not silently lost
pe=$(grep -o 'parse_errors=[0-9]*' "$T_DIR/junction.log" | tail -n 1 | cut -d= -f2)
dr=$(grep -o ' dropped=[0-9]*' "$T_DIR/junction.log" | tail -n 1 | cut -d= -f2)
[ "${pe:-0}" -ge 5 ] && pass "parse_errors counted ($pe)" || fail "parse_errors=$pe"
# 2000 of the burst, the two without a Via, garbage, random bytes, the NUL
[ "${dr:-0}" -ge 2005 ] && pass "unanswerable messages counted as dropped ($dr)" || fail "dropped=$dr, expected 2005 or more"
t_done
