#!/usr/bin/env bash
# What the stateless proxy (mode = stateless) does to a request it relays (RFC 3261 §16.4,
# §16.6, §16.11): our Via on top with a stable branch, received/rport on
# the sender's Via, Max-Forwards decremented or added, our Route removed,
# loose and strict routing, Record-Route (double when the transport
# changes), and refusals for loops and unknown users of our domains.
# The relayed request is caught by sipsend bound to the target port.
. "$(dirname "$0")/lib.sh"
need ss

PORT=$(free_port)
CATCH=$(free_port)
SIP_EXTRA="mode = stateless
record_route = yes" write_config "$PORT"
start_junction "$PORT" || { fail "start"; t_done; }

# req RURI BRANCH [headers...]
req() {
	local ruri=$1 branch=$2
	shift 2
	printf 'INVITE %s SIP/2.0\n' "$ruri"
	printf 'Via: SIP/2.0/UDP 127.0.0.1:%s;branch=%s;rport\n' "$CATCH" "$branch"
	local h
	for h in "$@"; do printf '%s\n' "$h"; done
	printf 'From: <sip:a@example.com>;tag=rt1\nTo: <sip:b@example.net>\n'
	printf 'Call-ID: route-%s\nCSeq: 1 INVITE\nContent-Length: 0\n\n' "$branch"
}

# relay NAME < request: sends from the CATCH port, prints the relayed request
relay() {
	"$SIPSEND" -v -c 1 -w 1500 -b "$CATCH" udp 127.0.0.1 "$PORT" - >"$T_DIR/$1.out"
	cat "$T_DIR/$1.out"
}

has() { # has NAME LABEL PATTERN
	grep -Eq "$3" "$T_DIR/$1.out" && pass "$1: $2" || { fail "$1: $2 (/$3/)"; cat "$T_DIR/$1.out" >&2; }
}
hasnt() {
	grep -Eq "$3" "$T_DIR/$1.out" && { fail "$1: $2 (/$3/)"; cat "$T_DIR/$1.out" >&2; } || pass "$1: $2"
}

# 1. Loose route through us to the Request-URI
req "sip:bob@127.0.0.1:$CATCH" z9hG4bKa1 "Route: <sip:127.0.0.1:$PORT;lr>" "Max-Forwards: 10" | relay loose >/dev/null
has loose "Request-URI kept" "^INVITE sip:bob@127.0.0.1:$CATCH SIP/2.0"
has loose "our Via on top" "^Via: SIP/2.0/UDP 127.0.0.1:$PORT;branch=z9hG4bK[0-9a-f]{16}"
has loose "rport and received on the sender's Via" "^Via: SIP/2.0/UDP 127.0.0.1:$CATCH;branch=z9hG4bKa1;rport=$CATCH;received=127.0.0.1"
has loose "Max-Forwards decremented" "^Max-Forwards: 9"
hasnt loose "our Route removed" "^Route:"
has loose "Record-Route added" "^Record-Route: <sip:127.0.0.1:$PORT;lr>"
has loose "headers we do not touch kept" "^Call-ID: route-z9hG4bKa1"

# 2. Max-Forwards missing: added as 70
req "sip:bob@127.0.0.1:$CATCH" z9hG4bKa2 | relay nomf >/dev/null
has nomf "Max-Forwards added" "^Max-Forwards: 70"

# 3. A further loose Route is the next hop; Request-URI untouched
req "sip:bob@unresolvable.invalid" z9hG4bKa3 "Route: <sip:127.0.0.1:$PORT;lr>, <sip:127.0.0.1:$CATCH;lr>" | relay next >/dev/null
has next "Request-URI kept" "^INVITE sip:bob@unresolvable.invalid SIP/2.0"
has next "the next Route stays" "^Route: <sip:127.0.0.1:$CATCH;lr>"
hasnt next "our Route value removed from the list" "127.0.0.1:$PORT;lr>,"

# 4. Strict next hop (no lr, §16.6 step 6): Request-URI <- Route, old one appended
req "sip:bob@unresolvable.invalid" z9hG4bKa4 "Route: <sip:127.0.0.1:$CATCH>" | relay strict >/dev/null
has strict "Request-URI is the strict route" "^INVITE sip:127.0.0.1:$CATCH SIP/2.0"
has strict "old Request-URI appended as Route" "^Route: <sip:bob@unresolvable.invalid>"

# 5. A strict router before us (§16.4): our RR URI as Request-URI
req "sip:127.0.0.1:$PORT" z9hG4bKa5 "Route: <sip:bob@127.0.0.1:$CATCH>" | relay strictprev >/dev/null
has strictprev "Request-URI restored from the last Route" "^INVITE sip:bob@127.0.0.1:$CATCH SIP/2.0"
hasnt strictprev "that Route removed" "^Route:"

# 6. Same branch for an INVITE's retransmission and its CANCEL (§16.11)
req "sip:bob@127.0.0.1:$CATCH" z9hG4bKa6 | relay inv >/dev/null
req "sip:bob@127.0.0.1:$CATCH" z9hG4bKa6 | sed 's/^INVITE /CANCEL /; s/^CSeq: 1 INVITE/CSeq: 1 CANCEL/' | relay cancel >/dev/null
b1=$(grep -m1 "^Via: SIP/2.0/UDP 127.0.0.1:$PORT" "$T_DIR/inv.out" | sed 's/.*branch=//')
b2=$(grep -m1 "^Via: SIP/2.0/UDP 127.0.0.1:$PORT" "$T_DIR/cancel.out" | sed 's/.*branch=//')
[ -n "$b1" ] && [ "$b1" = "$b2" ] && pass "CANCEL branch = INVITE branch ($b1)" || fail "branches '$b1' '$b2'"
req "sip:bob@127.0.0.1:$CATCH" z9hG4bKa7 | relay other >/dev/null
b3=$(grep -m1 "^Via: SIP/2.0/UDP 127.0.0.1:$PORT" "$T_DIR/other.out" | sed 's/.*branch=//')
[ -n "$b3" ] && [ "$b3" != "$b1" ] && pass "new transaction, new branch" || fail "branch reused: $b3"

# 7. Transport change UDP <- TCP: double Record-Route (RFC 5658) and a
# Via on UDP; the relayed request is caught on UDP.
"$SIPSEND" -l -v -c 1 -w 2000 -b "$CATCH" udp 127.0.0.1 "$PORT" /dev/null >"$T_DIR/double.out" &
LPID=$!
wait_for 2 bound udp "$CATCH" || fail "listener not bound on $CATCH"
req "sip:bob@127.0.0.1:$CATCH" z9hG4bKa8 | sed 's|Via: SIP/2.0/UDP|Via: SIP/2.0/TCP|' |
	"$SIPSEND" -n -w 300 tcp 127.0.0.1 "$PORT" - >/dev/null
wait $LPID
has double "outbound (UDP) Record-Route first" "^Record-Route: <sip:127.0.0.1:$PORT;lr>"
has double "inbound (TCP) Record-Route second" "^Record-Route: <sip:127.0.0.1:$PORT;transport=tcp;lr>"
has double "Via names the connection" "^Via: SIP/2.0/UDP 127.0.0.1:$PORT;branch=z9hG4bK[0-9a-f]+;jcon="

# 8. Refusals
req "sip:bob@127.0.0.1:$PORT" z9hG4bKa9 | "$SIPSEND" -w 1500 udp 127.0.0.1 "$PORT" - | grep -q "^SIP/2.0 482" &&
	pass "request to ourselves -> 482" || fail "no 482 for a loop to ourselves"
req "sip:alice@example.com" z9hG4bKa10 | "$SIPSEND" -w 1500 udp 127.0.0.1 "$PORT" - | grep -q "^SIP/2.0 404" &&
	pass "user of our domain without location service -> 404" || fail "no 404 for our domain"
req "sip:bob@unresolvable.invalid" z9hG4bKa11 | "$SIPSEND" -w 3000 udp 127.0.0.1 "$PORT" - | grep -q "^SIP/2.0 478 Unresolvable Destination" &&
	pass "unresolvable host -> 478" || fail "no 478 for an unresolvable host"

stop_junction && pass "SIGTERM exit 0" || fail "exit status"
t_done
