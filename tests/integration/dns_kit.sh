#!/usr/bin/env bash
# The DNS test kit checks itself (dns_lib.sh, slowdns.py): dnsmasq on
# loopback answers the A, AAAA, SRV and NAPTR records declared, field by
# field (a NAPTR regexp with backslashes, a comma and a quote arrives as
# written), authoritatively with the TTL asked; an unknown name is
# NXDOMAIN and a known name without the type NODATA, both with the SOA;
# dns_reload serves records declared since. Through slowdns.py: a delayed
# name answers after the delay while another answers at once meanwhile, a
# dropped name times out, and every query is counted. dns_stop and
# dns_slow_stop leave nothing running.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/dns_lib.sh"
need python3 ss awk
[ -x "$DNSMASQ" ] || skip "dnsmasq not installed (package dnsmasq-base)"

DPORT=$(free_port)
SPORT=$(free_port)
# long enough that the other query, a python3 start under a loaded
# machine, is done before the delayed one returns
DELAY=3000
ENUM_RE='!^\+44(.*)$!sip:\1@uk.example.net!'
ODD_RE='!^\+1([0-9]{1,3})"?$!sip:\1@x.test!'

DNS_TTL=30
dns_zone e164.test
dns_a sip1.example.test 127.0.0.11
dns_a sip1.example.test 127.0.0.12
dns_aaaa sip1.example.test ::11
dns_srv _sip._udp.example.test sip1.example.test 5070 10 60
dns_srv _sip._udp.example.test sip2.example.test 5080 20 0
dns_naptr example.test 10 50 s SIP+D2U "" _sip._udp.example.test
dns_naptr 8.4.1.0.6.4.9.7.0.2.4.4.e164.test 10 100 u E2U+sip "$ENUM_RE"
dns_naptr 8.4.1.0.6.4.9.7.0.2.4.4.e164.test 20 5 u E2U+h323 '!^.*$!h323:x@example.net!' .
dns_naptr 1.1.e164.test 10 10 u E2U+sip "$ODD_RE"
dns_a fast.example.test 127.0.0.21
dns_a slow.example.test 127.0.0.22
dns_a dead.example.test 127.0.0.23
dns_start "$DPORT" || { fail "dns_start"; t_done; }
pass "dnsmasq serves on port $DPORT"

# expect WHAT PATTERN...: each PATTERN (fixed string) is a whole line of
# $T_DIR/q.out, the output of the last dns_query
expect() {
	local what=$1 p ok=1
	shift
	for p in "$@"; do
		grep -qxF -- "$p" "$T_DIR/q.out" || { ok=0; log "missing: $p"; }
	done
	if [ $ok = 1 ]; then
		pass "$what"
	else
		fail "$what"
		cat "$T_DIR/q.out" >&2
	fi
}

dns_query sip1.example.test A >"$T_DIR/q.out"
expect "A: both records, TTL 30, authoritative" \
	"sip1.example.test. 30 A 127.0.0.11" "sip1.example.test. 30 A 127.0.0.12"
grep -q '^;; status: NOERROR flags: qr aa' "$T_DIR/q.out" && pass "A: NOERROR with AA" ||
	fail "A: not NOERROR with AA: $(head -n 1 "$T_DIR/q.out")"

dns_query sip1.example.test AAAA >"$T_DIR/q.out"
expect "AAAA" "sip1.example.test. 30 AAAA ::11"

dns_query _sip._udp.example.test SRV >"$T_DIR/q.out"
expect "SRV: priority, weight, port, target" \
	"_sip._udp.example.test. 30 SRV 10 60 5070 sip1.example.test." \
	"_sip._udp.example.test. 30 SRV 20 0 5080 sip2.example.test."

dns_query example.test NAPTR >"$T_DIR/q.out"
expect "NAPTR: a non-terminal rule (no regexp, a replacement)" \
	'example.test. 30 NAPTR 10 50 "s" "SIP+D2U" "" _sip._udp.example.test.'

dns_query 8.4.1.0.6.4.9.7.0.2.4.4.e164.test NAPTR >"$T_DIR/q.out"
expect "NAPTR: order, preference, flags, service, regexp, replacement" \
	"8.4.1.0.6.4.9.7.0.2.4.4.e164.test. 30 NAPTR 10 100 \"u\" \"E2U+sip\" \"$ENUM_RE\" ." \
	'8.4.1.0.6.4.9.7.0.2.4.4.e164.test. 30 NAPTR 20 5 "u" "E2U+h323" "!^.*$!h323:x@example.net!" .'

dns_query 1.1.e164.test NAPTR >"$T_DIR/q.out"
expect "NAPTR: a regexp with a comma and a quote" \
	"1.1.e164.test. 30 NAPTR 10 10 \"u\" \"E2U+sip\" \"$ODD_RE\" ."

dns_query nobody.example.test A >"$T_DIR/q.out"
grep -q '^;; status: NXDOMAIN' "$T_DIR/q.out" && grep -q '^; authority: test\. 30 SOA ' "$T_DIR/q.out" &&
	pass "unknown name: NXDOMAIN with the SOA" || { fail "unknown name"; cat "$T_DIR/q.out" >&2; }
dns_query 9.e164.test NAPTR >"$T_DIR/q.out"
grep -q '^;; status: NXDOMAIN' "$T_DIR/q.out" && grep -q '^; authority: e164\.test\. 30 SOA ' "$T_DIR/q.out" &&
	pass "unknown name in a second zone: NXDOMAIN" || { fail "unknown name in e164.test"; cat "$T_DIR/q.out" >&2; }
dns_query fast.example.test NAPTR >"$T_DIR/q.out"
grep -q '^;; status: NOERROR .* answers: 0 ' "$T_DIR/q.out" &&
	pass "known name, other type: NODATA" || { fail "NODATA"; cat "$T_DIR/q.out" >&2; }

# dns_reload: records declared after the start
dns_a late.example.test 127.0.0.31
dns_query late.example.test A >"$T_DIR/q.out"
grep -q '^;; status: NXDOMAIN' "$T_DIR/q.out" && pass "a record declared later: not served yet" ||
	fail "late record served before dns_reload"
old_pid=$DNS_PID
dns_reload || fail "dns_reload"
dns_query late.example.test A >"$T_DIR/q.out"
expect "dns_reload: the new record served" "late.example.test. 30 A 127.0.0.31"
kill -0 "$old_pid" 2>/dev/null && fail "the old dnsmasq still runs" || pass "the old dnsmasq is gone"

# ---- slowdns.py ------------------------------------------------------
dns_slow_start "$SPORT" --delay-match '^slow\.example\.test$' --delay-ms "$DELAY" \
	--drop-match '^dead\.' || { fail "dns_slow_start"; t_done; }
pass "slowdns.py listens on port $SPORT"

# time_ms of a query's output
took() { sed -n 's/.*time_ms: \([0-9]*\).*/\1/p' "$1"; }

dns_query slow.example.test A "$SPORT" 5 >"$T_DIR/slow.out" &
slow=$!
T_PIDS+=("$slow")
wait_for 3 grep -q '^slow\.example\.test A delay ' "$SLOW_LOG" || fail "the delayed query was not logged"
dns_query fast.example.test A "$SPORT" >"$T_DIR/q.out"
expect "another name through slowdns.py" "fast.example.test. 30 A 127.0.0.21"
t=$(took "$T_DIR/q.out")
if kill -0 "$slow" 2>/dev/null && [ "${t:-99999}" -lt $((DELAY / 3)) ]; then
	pass "another name answers in $t ms while the delayed one waits"
else
	fail "another name took ${t:-?} ms, or the delayed one was already answered"
fi
wait "$slow"
cp "$T_DIR/slow.out" "$T_DIR/q.out"
expect "the delayed name answers" "slow.example.test. 30 A 127.0.0.22"
t=$(took "$T_DIR/slow.out")
[ "${t:-0}" -ge "$DELAY" ] && pass "the delayed name took $t ms (>= $DELAY)" ||
	fail "the delayed name took ${t:-?} ms (< $DELAY)"

start=$(now_ms)
dns_query dead.example.test A "$SPORT" 1 >"$T_DIR/q.out"
rc=$?
if [ $rc = 2 ] && grep -q '^;; timeout' "$T_DIR/q.out" && [ $(($(now_ms) - start)) -ge 1000 ]; then
	pass "a dropped name times out"
else
	fail "dropped name: rc=$rc $(head -n 1 "$T_DIR/q.out")"
fi
grep -q '^dead\.example\.test A drop ' "$SLOW_LOG" && pass "the drop is logged" || fail "no drop logged"

# counting: the types apart, each query once
for _ in 1 2 3; do dns_query fast.example.test AAAA "$SPORT" >/dev/null; done
n_a=$(dns_queries fast.example.test A)
n_aaaa=$(dns_queries FAST.example.test. aaaa)
n_all=$(dns_queries fast.example.test)
[ "$n_a" = 1 ] && [ "$n_aaaa" = 3 ] && [ "$n_all" = 4 ] &&
	pass "dns_queries: 1 A, 3 AAAA, 4 in all" || fail "dns_queries: A $n_a, AAAA $n_aaaa, all $n_all"
: >"$SLOW_LOG"
dns_query fast.example.test A "$SPORT" >/dev/null
[ "$(dns_queries fast.example.test A)" = 1 ] && pass "counting from zero after truncating SLOW_LOG" ||
	fail "count after truncation: $(dns_queries fast.example.test A)"

# ---- stopping ----------------------------------------------------------
dpid=$DNS_PID spid=$SLOW_PID
dns_slow_stop
dns_stop
if ! kill -0 "$dpid" 2>/dev/null && ! kill -0 "$spid" 2>/dev/null &&
	! bound udp "$DPORT" && ! bound udp "$SPORT"; then
	pass "dns_stop, dns_slow_stop: both gone, ports free"
else
	fail "something still runs or listens"
fi
dns_query fast.example.test A "$DPORT" 0.5 >/dev/null && fail "dnsmasq still answers" ||
	pass "nothing answers after dns_stop"

t_done
