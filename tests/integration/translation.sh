#!/usr/bin/env bash
# Translation of the Request-URI (junction(8), TRANSLATION), end to end
# with SIPp and a real DNS server: static routes by the longest E.164
# prefix and by domain, the outbound proxy of a domain, call forward
# unconditional (and its loop: 482), ENUM (NAPTR E2U+sip under a private
# suffix served by dnsmasq), a Route header bypassing all of it, a
# route to a gateway refused to an untrusted caller (no open relay), and
# a route added in SQL taking effect within a second.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg.sh"
. "$(dirname "$0")/proxy_lib.sh"
. "$(dirname "$0")/dns_lib.sh"
need ss psql sipp dnsmasq

PORT=$(free_port)
DNS=$(free_port)
GW1=$(free_port) GW2=$(free_port) GW3=$(free_port) OBP=$(free_port) LST=$(free_port)

# ENUM: +44 1234567 -> sip:carol@carrier.test (RFC 6116 §2.4: the digits
# reversed under the suffix)
dns_naptr 7.6.5.4.3.2.1.4.4.e164.test 100 10 u E2U+sip '!^.*$!sip:carol@carrier.test!'
dns_start "$DNS" || { fail "dnsmasq"; t_done; }

SIP_EXTRA="record_route = yes" SECURITY="trusted = 127.0.0.1/32" write_config "$PORT"
cat >>"$T_DIR/junction.conf" <<EOF
access = $T_DIR/access.log

[routing]
translate = forward registry enum routes
enum_suffix = e164.test
country_code = 44

[dns]
servers = 127.0.0.1:$DNS
timeout = 500
EOF
pg_start || { fail "postgres"; t_done; }
AUTH_MODE=none pg_config
pg_migrate >/dev/null || { fail "migrate"; t_done; }
psql_q "INSERT INTO route (kind, match, next_hop, priority) VALUES
	('prefix', '4420', 'sip:127.0.0.1:$GW1', 0),
	('prefix', '44207', 'sip:127.0.0.1:$GW2', 0),
	('domain', 'carrier.test', 'sip:127.0.0.1:$GW3', 0),
	('outbound', 'far.test', 'sip:127.0.0.1:$OBP', 0);
	INSERT INTO call_forward (aor, target) VALUES
	('alice@example.com', 'sip:bob@carrier.test'),
	('loop1@example.com', 'sip:loop2@example.com'),
	('loop2@example.com', 'sip:loop1@example.com')" >/dev/null || fail "provisioning"
start_junction "$PORT" || { fail "start"; t_done; }

# calls NAME USER@DOMAIN N: N SIPp calls to sip:USER@DOMAIN, all answered
calls() {
	local name=$1 to=$2
	CALLS=$3
	timeout 60 sipp -sf "$SCEN/uac_domain.xml" -s "${to%@*}" -set domain "${to#*@}" \
		-i 127.0.0.1 -p "$(free_port)" -m "$CALLS" -r 20 -nostdin -timeout 20s -timeout_error \
		-trace_stat -stf "$T_DIR/$name.csv" -trace_err -error_file "$T_DIR/$name.err" \
		"127.0.0.1:$PORT" >"$T_DIR/$name.out" 2>&1
	csv_check "$name" $?
}
# invite RURI [extra header lines]: one INVITE from 127.0.0.1 (trusted)
invite() {
	printf 'INVITE %s SIP/2.0\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK%s;rport\nMax-Forwards: 70\nFrom: <sip:t@example.com>;tag=%s\nTo: <%s>\nCall-ID: tr-%s\nCSeq: 1 INVITE\nContact: <sip:t@127.0.0.1:9>\n%sContent-Length: 0\n\n' \
		"$1" "$RANDOM$RANDOM" "$RANDOM" "$1" "$RANDOM$RANDOM" "${2:-}"
}
# relayed_to RURI PORT WHAT [extra]: INVITE RURI brings WHAT (a first
# line) to a bare socket on PORT (which may also get retransmissions of
# an earlier INVITE there)
relayed_to() {
	local lpid
	"$SIPSEND" -l -c 3 -w 1500 -b "$2" udp 127.0.0.1 "$PORT" /dev/null >"$T_DIR/lst.out" 2>&1 &
	lpid=$!
	T_PIDS+=("$lpid")
	wait_for 2 bound udp "$2" || fail "listener not bound on $2"
	invite "$1" "${4:-}" | "$SIPSEND" -n -w 300 udp 127.0.0.1 "$PORT" - >/dev/null 2>&1
	wait "$lpid"
	grep -q "^$3" "$T_DIR/lst.out" && pass "$1 -> $3" ||
		fail "$1: port $2 got '$(head -n 1 "$T_DIR/lst.out")', expected '$3'"
}

# 1.-4. Calls with SIPp first (a bare listener below never answers, so
# the INVITEs it gets are retransmitted to its port for a while).
# Static routes: the longest prefix wins, the Request-URI is kept.
uas gw1 uas.xml "$GW1" -m 3
uas gw2 uas.xml "$GW2" -m 3
calls p2 "+442071234567@example.com" 3
calls p1 "+442081234567@example.com" 3
uas_wait gw1 3
uas_wait gw2 3
# A domain route; call forward alice -> bob@carrier.test, which the
# domain route takes; ENUM: +441234567 -> sip:carol@carrier.test, the same.
uas gw3 uas.xml "$GW3" -m 9
calls d "dave@carrier.test" 3
calls f "alice@example.com" 3
calls e "+441234567@example.com" 3
uas_wait gw3 9

# What the next hops got: the Request-URI each step left.
relayed_to "sip:+442079990000@example.com" "$GW2" "INVITE sip:+442079990000@example.com SIP/2.0"
# the national form, normalised with [routing] country_code
relayed_to "sip:02081112222@example.com" "$GW1" "INVITE sip:02081112222@example.com SIP/2.0"
# a domain's outbound proxy (the URI unchanged)
relayed_to "sip:eve@far.test" "$OBP" "INVITE sip:eve@far.test SIP/2.0"
relayed_to "sip:alice@example.com" "$GW3" "INVITE sip:bob@carrier.test SIP/2.0"
relayed_to "sip:+441234567@example.com" "$GW3" "INVITE sip:carol@carrier.test SIP/2.0"
invite "sip:loop1@example.com" | "$SIPSEND" -P -w 1500 udp 127.0.0.1 "$PORT" - |
	grep -q "^SIP/2.0 482" && pass "forward loop -> 482" || fail "no 482 for a forward loop"

# 5. A Route header bypasses translation (RFC 3261 §16.4): the request
# follows it, its Request-URI untouched.
relayed_to "sip:+442071234567@example.com" "$LST" "INVITE sip:+442071234567@example.com SIP/2.0" \
	"Route: <sip:127.0.0.1:$LST;lr>
"

# 6. No open relay: from an untrusted source the gateway route is not
# taken for a number of our domain (404), and a foreign domain is refused.
for ruri in "sip:+442071234567@example.com" "sip:dave@carrier.test"; do
	invite "$ruri" | "$SIPSEND" -P -a 127.0.0.9 -b "$(free_port)" -w 1500 udp 127.0.0.1 "$PORT" - \
		>"$T_DIR/untrusted.out" 2>&1
	grep -Eq "^SIP/2.0 (403|404)" "$T_DIR/untrusted.out" &&
		pass "untrusted $ruri -> $(head -n 1 "$T_DIR/untrusted.out")" ||
		fail "untrusted $ruri -> '$(head -n 1 "$T_DIR/untrusted.out")'"
done

# 7. A route written in SQL is used within a second.
psql_q "INSERT INTO route (kind, match, next_hop) VALUES ('prefix', '4433', 'sip:127.0.0.1:$GW1')" >/dev/null
sleep 1
relayed_to "sip:+443312345@example.com" "$GW1" "INVITE sip:+443312345@example.com SIP/2.0"

grep -q 'method=INVITE ruri="sip:alice@example.com" .*target="udp:127.0.0.1:'"$GW3"'"' "$T_DIR/access.log" &&
	pass "access log: the forwarded call and where it went" || fail "access log line of the forward"

kill -0 "$JCT_PID" || fail "junction died"
stop_junction && pass "SIGTERM exit 0" || fail "exit status on SIGTERM"
t_done
