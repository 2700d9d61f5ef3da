#!/usr/bin/env bash
# Redirect mode ([sip] mode = redirect, RFC 3261 §8.3, §21.3.3): Junction
# relays nothing and answers a request for one of its users with 302 and
# every binding of the user as a Contact with its q; 404 for a user it does
# not know, 480 for a subscriber with no binding. The ACK for the 302 is
# not answered.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg.sh"
. "$(dirname "$0")/proxy_lib.sh"
need ss psql

PORT=$(free_port)
CPORT=$(free_port)
UA=$(free_port)
UB=$(free_port)
SIP_EXTRA="mode = redirect" write_config "$PORT"
pg_start || { fail "postgres"; t_done; }
AUTH_MODE=none pg_config
pg_migrate >/dev/null || { fail "migrate"; t_done; }
start_junction "$PORT" || { fail "start"; t_done; }

BRANCH=
CALLID=
# new_txn: a new Call-ID and branch for request()
new_txn() {
	BRANCH=z9hG4bKrd$RANDOM$RANDOM
	CALLID=rd-$RANDOM$RANDOM@test
}
# request METHOD USER [TO-TAG]: a request for USER@localhost from CPORT
request() {
	printf '%s sip:%s@localhost SIP/2.0\nVia: SIP/2.0/UDP 127.0.0.1:%s;branch=%s;rport\n' "$1" "$2" "$CPORT" "$BRANCH"
	printf 'Max-Forwards: 70\nFrom: <sip:caller@example.com>;tag=rc1\nTo: <sip:%s@localhost>%s\n' "$2" "${3:+;tag=$3}"
	printf 'Call-ID: %s\nCSeq: 1 %s\nContact: <sip:caller@127.0.0.1:%s>\nContent-Length: 0\n\n' "$CALLID" "$1" "$CPORT"
}
# invite USER: an INVITE for USER@localhost; the answer in $T_DIR/USER.resp
invite() {
	new_txn
	request INVITE "$1" | "$SIPSEND" -v -w 3000 -b "$CPORT" udp 127.0.0.1 "$PORT" - >"$T_DIR/$1.resp"
}
status_is() {
	head -n 1 "$T_DIR/$2.resp" | grep -q "^SIP/2.0 $1 " && pass "$2: $1" ||
		{ fail "$2: expected $1, got '$(head -n 1 "$T_DIR/$2.resp")'"; cat "$T_DIR/$2.resp" >&2; }
}

# 1. two bindings: 302 with both, each with its q
register alice "sip:alice@127.0.0.1:$UA" 1.0
register alice "sip:alice@127.0.0.1:$UB;transport=udp" 0.5
# nothing may reach the bindings: a redirect server relays nothing
"$SIPSEND" -l -b "$UA" -w 2500 udp 127.0.0.1 "$UA" /dev/null >"$T_DIR/ua.out" 2>&1 &
LA=$!
T_PIDS+=("$LA")
wait_for 2 bound udp "$UA" || fail "listener on $UA not bound"
invite alice
status_is 302 alice
grep -q "^SIP/2.0 100 " "$T_DIR/alice.resp" && fail "alice: a 100 Trying before the 302"
grep -Eiq "^(Contact|m): *<sip:alice@127\.0\.0\.1:$UA>;q=1(\.0{1,3})?"$'\r'"?$" "$T_DIR/alice.resp" &&
	pass "alice: Contact <sip:alice@127.0.0.1:$UA>;q=1" || fail "alice: no Contact for the q=1.0 binding"
grep -Eiq "^(Contact|m): *<sip:alice@127\.0\.0\.1:$UB;transport=udp>;q=0\.50{0,2}"$'\r'"?$" "$T_DIR/alice.resp" &&
	pass "alice: Contact <sip:alice@127.0.0.1:$UB;transport=udp>;q=0.5" || fail "alice: no Contact for the q=0.5 binding"
n=$(grep -Eic "^(Contact|m):" "$T_DIR/alice.resp")
[ "$n" = 2 ] && pass "alice: two Contacts" || fail "alice: $n Contacts"
grep -q "^To: <sip:alice@localhost>;tag=" "$T_DIR/alice.resp" && pass "alice: the 302 has a To tag" ||
	fail "alice: no To tag in the 302"
totag=$(sed -n 's/^To:.*;tag=\([^;[:space:]]*\).*/\1/p' "$T_DIR/alice.resp" | head -n 1 | tr -d '\r')
# silence counts only from a daemon that still answers (the absorbed
# ACK is counted too: acks_absorbed, checked at the end)
request ACK alice "$totag" | "$SIPSEND" -n -w 500 -b "$CPORT" udp 127.0.0.1 "$PORT" - >/dev/null &&
	answers "$PORT" && pass "alice: the ACK for the 302 is not answered" || fail "alice: an answer to the ACK, or no daemon"
wait "$LA"
[ -s "$T_DIR/ua.out" ] && fail "the binding got: $(head -n 1 "$T_DIR/ua.out")" ||
	{ grep -q '^SIP/2.0 302 ' "$T_DIR/alice.resp" && pass "nothing relayed to the binding" || fail "nothing relayed, but no 302 either"; }

# 2. an unknown user: 404
invite nobody
status_is 404 nobody

# 3. a subscriber without a binding: 480
psql_q "SELECT junction_add_subscriber('carol','localhost','pw')" >/dev/null || fail "add carol"
invite carol
status_is 480 carol

kill -0 "$JCT_PID" || fail "junction died"
stop_junction && pass "SIGTERM exit 0" || fail "exit status on SIGTERM"
acks=$(grep -o 'acks_absorbed=[0-9]*' "$T_DIR/junction.log" | tail -n 1 | cut -d= -f2)
[ "${acks:-0}" -ge 1 ] && pass "the ACK for the 302 was absorbed and counted ($acks)" || fail "acks_absorbed=${acks:-no counters line}"
t_done
