#!/usr/bin/env bash
# Large requests to UDP targets (RFC 3261 §18.1.1). An INVITE of about
# 7 KB (40 extra headers, a 4 KB SDP) to a callee that listens on UDP only:
# by default ([sip] udp_mtu = 0, as Kamailio) it goes over UDP and the call
# is answered and hung up. With udp_mtu = 1300 it is tried over TCP first;
# the refused connection makes Junction send it over UDP after all (§18.1.1
# SHOULD), and the call completes. A callee listening on both transports
# gets it over TCP. The stateless proxy falls back the same way. The
# callee's own message log shows each INVITE whole, with the transport
# Junction's Via names.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg.sh"
. "$(dirname "$0")/proxy_lib.sh"
need ss psql sipp

CALLS=3
proxy_daemon

# invite_check NAME TRANSPORT: the UAS NAME got CALLS INVITEs through
# Junction, each over TRANSPORT (Junction's Via) with its 4 KB SDP whole.
invite_check() {
	local name=$1 tp=$2 got
	got=$(awk -v tp="$tp" '
		/^INVITE / { inv = 1; via = ""; len = 0; next }
		inv && /^Via: SIP\/2.0\// && via == "" { via = $2 }
		inv && /^Content-Length: / { len = $2 + 0 }
		inv && /^v=0/ { if (via == "SIP/2.0/" tp && len > 3000) n++; inv = 0 }
		END { print n + 0 }' "$T_DIR/$name.msg")
	[ "$got" = "$CALLS" ] && pass "$name: $CALLS INVITEs of over 3 KB of SDP over $tp" ||
		fail "$name: $got of $CALLS INVITEs arrived whole over $tp"
}

big_call() {
	local name=$1 user=$2 tp=$3 ua
	ua=$(free_port)
	UA_LAST=$ua
	register "$user" "sip:$user@127.0.0.1:$ua"
	uas "${name}_uas" uas.xml "$ua" -m "$CALLS" -trace_msg -message_file "$T_DIR/${name}_uas.msg"
	uac "${name}_uac" uac_big.xml "$user" -r 10
	uas_wait "${name}_uas"
	invite_check "${name}_uas" "$tp"
}

# 1. default: UDP, however large
big_call dflt big1 UDP
grep -q 'event=.*udp_mtu\|Too Large\| 513 ' "$T_DIR/junction.log" && fail "size complaint in the log"

# 2. udp_mtu = 1300: TCP refused, UDP after all
stop_junction || fail "drain exit status"
LOG_LEVEL=debug SIP_EXTRA="record_route = yes
udp_mtu = 1300" write_config "$PORT"
AUTH_MODE=none pg_config
start_junction "$PORT" || { fail "restart"; t_done; }
big_call fallback big2 UDP
# the refusal is remembered: one connect attempt for the three calls
n=$(grep -c "event=tcp_refused remote=127.0.0.1:$UA_LAST" "$T_DIR/junction.log")
[ "$n" = 1 ] && pass "one refused connect for $CALLS calls" || fail "$n refused connects for $CALLS calls"

# 3. udp_mtu = 1300 and a callee on both transports: TCP
UB=$(free_port)
register big3 "sip:big3@127.0.0.1:$UB"
uas both_udp uas.xml "$UB" -m "$CALLS" -trace_msg -message_file "$T_DIR/both_udp.msg"
uas both_tcp uas.xml "$UB" -t t1 -m "$CALLS" -trace_msg -message_file "$T_DIR/both_tcp.msg"
uac both_uac uac_big.xml big3 -r 10
uas_wait both_tcp
invite_check both_tcp TCP
# (nothing in its log counts only if the UDP side was up all along)
UDP_UP=0
kill -TERM "$both_udp_PID" 2>/dev/null && [ -f "$T_DIR/both_udp.msg" ] && UDP_UP=1
wait "$both_udp_PID" 2>/dev/null
grep -q '^INVITE ' "$T_DIR/both_udp.msg" 2>/dev/null && fail "the UDP side of the callee got an INVITE" ||
	{ [ $UDP_UP = 1 ] && pass "the UDP side of the callee got no INVITE" || fail "the UDP side of the callee was not running"; }

# 4. stateless, udp_mtu = 1300, UDP-only callee: a refused connection is
#    remembered for a minute, so the INVITE (or its retransmission, when
#    the refusal came too late for this one) goes over UDP
stop_junction || fail "drain exit status"
SIP_EXTRA="record_route = yes
mode = stateless
udp_mtu = 1300" write_config "$PORT"
AUTH_MODE=none pg_config
start_junction "$PORT" || { fail "restart stateless"; t_done; }
big_call stateless big4 UDP

t_done
