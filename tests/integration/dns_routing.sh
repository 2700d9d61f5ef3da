#!/usr/bin/env bash
# Next hops by RFC 3263 against a real DNS server (dnsmasq on a loopback
# port, with the test's own zone): SRV priority and weight over 1,000
# calls, failover to the next SRV target when the first answers 503 and
# when it is silent (§4.3), NAPTR choosing TCP, and a DNS server that
# never answers, which must not slow calls to other targets on the same
# worker, and late answers that are waited for. Where each call went is
# read from the access log.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/proxy_lib.sh"
. "$(dirname "$0")/dns_lib.sh"
need ss sipp dnsmasq python3 curl

PORT=$(free_port)
DNS=$(free_port)
SLOW=$(free_port)
UA=$(free_port) UB=$(free_port) UC=$(free_port)
UF1=$(free_port) UF2=$(free_port) US1=$(free_port) US2=$(free_port) UT=$(free_port)
UN=$(free_port) API=$(free_port) UL=$(free_port)

# The zone (dnsmasq, tests/integration/dns_lib.sh), with slowdns.py in
# front of it: it never answers for slow.test, answers late for late.test,
# and logs every query.
DNS_TTL=300
dns_a a.test 127.0.0.1
dns_a b.test 127.0.0.1
dns_a c.test 127.0.0.1
dns_srv _sip._udp.w.test a.test "$UA" 10 3
dns_srv _sip._udp.w.test b.test "$UB" 10 1
dns_srv _sip._udp.w.test c.test "$UC" 20 1
dns_srv _sip._udp.f.test a.test "$UF1" 10 1
dns_srv _sip._udp.f.test b.test "$UF2" 20 1
dns_srv _sip._udp.s.test a.test "$US1" 10 1
dns_srv _sip._udp.s.test b.test "$US2" 20 1
dns_naptr n.test 10 10 S SIP+D2T "" _sip._tcp.n.test
dns_naptr n.test 20 10 S SIP+D2U "" _sip._udp.n.test
dns_srv _sip._tcp.n.test a.test "$UT" 10 1
dns_srv _sip._udp.n.test a.test "$UA" 10 1
dns_srv _sip._udp.late.test b.test "$UL" 10 1
dns_start "$DNS" || { fail "dnsmasq"; t_done; }
dns_slow_start "$SLOW" --drop-match 'slow\.test$' --delay-match 'late\.test$' --delay-ms 700 ||
	{ fail "slowdns"; t_done; }

# One worker: the slow lookup and the other calls share it.
SIP_EXTRA="record_route = yes" write_config "$PORT"
sed -i 's/^workers = .*/workers = 1/' "$T_DIR/junction.conf"
cat >>"$T_DIR/junction.conf" <<EOF
access = $T_DIR/access.log

[dns]
servers = 127.0.0.1:$SLOW
timeout = 500
tries = 2

[transaction]
t1 = 50

[admin]
listen = 127.0.0.1:$API
token = dns-routing-test-token
EOF
start_junction "$PORT" || { fail "start"; t_done; }

# calls NAME DOMAIN N [options]: N calls to sip:svc@DOMAIN through Junction
calls() {
	local name=$1 dom=$2
	CALLS=$3
	shift 3
	timeout 120 sipp -sf "$SCEN/uac_domain.xml" -s svc -set domain "$dom" -i 127.0.0.1 \
		-p "$(free_port)" -m "$CALLS" -nostdin -timeout 60s -timeout_error "$@" \
		-trace_stat -stf "$T_DIR/$name.csv" -trace_err -error_file "$T_DIR/$name.err" \
		"127.0.0.1:$PORT" >"$T_DIR/$name.out" 2>&1
	csv_check "$name" $?
}
# sent PORT METHOD: access log lines of METHOD sent to 127.0.0.1:PORT
sent() { grep -c "method=$2 .*target=\"[a-z]*:127.0.0.1:$1\"" "$T_DIR/access.log"; }

# 1. SRV: A and B share priority 10 by weight 3:1; C (priority 20) gets
# nothing while they answer.
uas uas_a uas.xml "$UA"
uas uas_b uas.xml "$UB"
uas uas_c uas.xml "$UC"
calls w w.test 1000 -r 200 -l 200
sleep 0.5
na=$(sent "$UA" INVITE) nb=$(sent "$UB" INVITE) nc=$(sent "$UC" INVITE)
log "SRV weights 3:1 over 1000 calls: A=$na B=$nb C=$nc"
[ "$((na + nb))" -eq 1000 ] && [ "$nc" -eq 0 ] &&
	pass "priority: every call to the priority 10 targets" ||
	fail "priority: A=$na B=$nb C=$nc"
# 750 expected for A; 5 standard deviations (13.7 each) either way
[ "$na" -ge 680 ] && [ "$na" -le 820 ] && pass "weight: A got $na of 1000 (3:1)" ||
	fail "weight: A got $na of 1000, expected about 750"

n=$(dns_queries _sip._udp.w.test SRV)
[ "$n" = 1 ] && pass "the SRV of w.test asked once for 1000 calls (cached)" ||
	fail "the SRV of w.test asked $n times"

# 2. §4.3: the first target answers 503: the call goes on to the second.
uas uas_f1 uas_503.xml "$UF1" -m 20
uas uas_f2 uas.xml "$UF2" -m 20
calls f f.test 20 -r 50
uas_wait uas_f1 20
uas_wait uas_f2 20

# 3. §4.3: the first target is silent (nothing listens): after Timer B
# (64 x T1 = 3.2 s) the call goes on to the second.
uas uas_s2 uas.xml "$US2" -m 3
t0=$(now_ms)
calls s s.test 3 -r 10
t1=$(now_ms)
uas_wait uas_s2 3
[ "$(sent "$US2" INVITE)" -eq 3 ] && [ "$((t1 - t0))" -ge 3000 ] &&
	pass "silent first target: each call sent to the second after Timer B ($((t1 - t0)) ms)" ||
	fail "silent target: second=$(sent "$US2" INVITE) in $((t1 - t0)) ms"

# 4. NAPTR prefers SIP+D2T (order 10): the calls go over TCP.
uas uas_t uas.xml "$UT" -t t1 -m 5
calls t n.test 5 -r 10
uas_wait uas_t 5
[ "$(grep -c "method=INVITE .*target=\"tcp:127.0.0.1:$UT\"" "$T_DIR/access.log")" -eq 5 ] &&
	pass "NAPTR: 5 INVITEs over TCP" || fail "NAPTR: INVITEs not over TCP"

# 5. Late answers (700 ms for every question about late.test: NAPTR,
# then SRV): the call waits for them and goes through.
uas uas_l uas.xml "$UL" -m 2
t0=$(now_ms)
calls l late.test 2 -r 10
t1=$(now_ms)
uas_wait uas_l 2
[ "$((t1 - t0))" -ge 1400 ] && pass "late DNS answers waited for ($((t1 - t0)) ms)" ||
	fail "late.test answered in $((t1 - t0)) ms: the delays were not seen"

# 6. A name server that never answers: the request waiting for it holds
# no worker. While sip:x@slow.test waits (NAPTR, SRV, A: each 2 tries x
# 500 ms, then 504), 100 calls to
# numeric targets on the same (only) worker go through at once.
inv='INVITE sip:x@slow.test SIP/2.0
Via: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKslow1;rport
Max-Forwards: 70
From: <sip:t@example.com>;tag=s1
To: <sip:x@slow.test>
Call-ID: slow-1
CSeq: 1 INVITE
Contact: <sip:t@127.0.0.1:9>
Content-Length: 0
'
t0=$(now_ms)
printf '%s\n' "$inv" | "$SIPSEND" -w 8000 udp 127.0.0.1 "$PORT" - >"$T_DIR/slow.out" 2>&1 &
SLOW=$!
sleep 0.1
CALLS=100
uas uas_n uas.xml "$UN" -m 100
timeout 60 sipp -sf "$SCEN/uac.xml" -s svc -i 127.0.0.1 -p "$(free_port)" -rsa "127.0.0.1:$PORT" \
	-m 100 -r 500 -nostdin -timeout 20s -timeout_error -trace_stat -stf "$T_DIR/n.csv" \
	"127.0.0.1:$UN" >"$T_DIR/n.out" 2>&1
csv_check n $?
t1=$(now_ms)
wait "$SLOW"
t2=$(now_ms)
uas_wait uas_n 100
log "100 numeric calls in $((t1 - t0)) ms while slow.test waited $((t2 - t0)) ms"
grep -q "^SIP/2.0 504" "$T_DIR/slow.out" && pass "slow.test: 504 once DNS gave up" ||
	fail "slow.test: no 504 ($(head -c 200 "$T_DIR/slow.out"))"
# (a worker held by the lookup would have finished them after it)
[ "$((t1 - t0))" -lt 2500 ] && [ "$((t2 - t1))" -gt 1000 ] &&
	pass "calls to other targets done while the silent server was still asked" ||
	fail "100 numeric calls took $((t1 - t0)) ms beside a silent DNS server ($((t2 - t0)) ms)"

# 20 after a 503, 3 after a silence; nothing else failed over
curl -s -H "Authorization: Bearer dns-routing-test-token" "http://127.0.0.1:$API/metrics" \
	>"$T_DIR/metrics"
grep -q "^junction_failovers_total 23$" "$T_DIR/metrics" && pass "23 failovers counted" ||
	fail "failovers: $(grep '^junction_failovers_total' "$T_DIR/metrics")"
grep -Eq "^junction_dns_cache_hits_total [0-9]{3,}$" "$T_DIR/metrics" &&
	pass "SRV and A answers served from the cache" || fail "no DNS cache hits"

kill -0 "$JCT_PID" || fail "junction died"
stop_junction && pass "SIGTERM exit 0" || fail "exit status on SIGTERM"
t_done
