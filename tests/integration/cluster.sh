#!/usr/bin/env bash
# Session Controller pools (issue 16) on a cluster: three Junction nodes
# (n1..n3 on 127.0.0.2..4, all in data centre dc1, geo_fallback dc2,
# record_route = cluster.test, [routing] session_controllers = yes) share
# one PostgreSQL. The Session Controllers (SCs) are SIPp UASes
# (scenarios/sc_uas.xml, -aa answers the nodes' OPTIONS probes): in dc1
# the HA pairs p1 (sc1a primary, sc1b backup, weight 100) and p2 (sc2a,
# sc2b, weight 300), in dc2 the pair p3 (sc3a, sc3b). Endpoints are SIPp
# and sipsak on 127.0.2.x. Checked, each on its own:
#  1. a user registered through n1 (SIPp, digest; the UAS is its contact)
#     is called by a SC (SIPp UAC on sc1a's address, another port, From a
#     cc.test user although [auth] invite = yes) through n2: the location
#     service finds it, the call completes, Record-Route is cluster.test;
#     a SC's call to an address that is not ours goes onward (not back to
#     a SC); OPTIONS to a node itself (sipsak) is answered by the node.
#  2. 1000 endpoint calls through the three nodes go to dc1's primaries
#     only (backups, dc2: none), p1:p2 = 1:3 within 10 % of each count,
#     every relayed INVITE with Record-Route <sip:cluster.test;lr> and its
#     Request-URI unchanged.
#  5. a fourth node with overload_dialog_rate = 50 under 200 new calls/s
#     for 5 s: 60-85 % of the calls get 503 with Retry-After (and never
#     reach a SC), the others complete.
#  6. with dc1's four servers disabled (calls then go to dc2), a server
#     added to dc1 by SQL (junction_add_sip_server through psql) gets
#     OPTIONS from all three nodes and takes every call of each of them
#     2 s after the INSERT.
# Checks 3 and 4 (failover) are in cluster_failover.sh. Which SC got which
# INVITE comes from the SCs' SIPp message logs (cluster_lib.sh).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg.sh"
. "$(dirname "$0")/cluster_lib.sh"
need ss psql sipp sipsak

# uas_up IP PORT NAME LABEL: a UAS (SIPp) for one call on IP:PORT, its
# messages logged with the SCs' (sc/NAME.1.msg) so cl_msgs reads them
uas_up() {
	sipp -sf "$SCEN/uas.xml" -i "$1" -p "$2" -m 1 -nostdin \
		-trace_msg -message_file "$T_DIR/sc/$3.1.msg" -trace_stat -stf "$T_DIR/$4_uas.csv" \
		-trace_err -error_file "$T_DIR/$4_uas.err" >"$T_DIR/$4_uas.out" 2>&1 &
	UAS_PID=$!
	T_PIDS+=("$UAS_PID")
	wait_udp "$1" "$2"
}
# uas_down: waits up to 5 s for the UAS to end its call, ends it; rc is
# its exit status
uas_down() {
	for _ in $(seq 50); do kill -0 "$UAS_PID" 2>/dev/null || break; sleep 0.1; done
	kill -TERM "$UAS_PID" 2>/dev/null
	wait "$UAS_PID"
	rc=$?
	t_forget "$UAS_PID"
}
# sc_call LABEL SC NODE TARGET: one call (sc_uac.xml) from SC's address,
# another port, through NODE to TARGET; rc and ok (1: completed) are set
sc_call() {
	timeout 30 sipp -sf "$SCEN/sc_uac.xml" -s "$4" -i "${SC_IP[$2]}" -p "$(free_port)" \
		-rsa "${NODE_IP[$3]}:$NPORT" -m 1 -nostdin -timeout 20s -timeout_error -cid_str "$1-%u-%p@%s" \
		-trace_stat -stf "$T_DIR/$1_uac.csv" -trace_err -error_file "$T_DIR/$1_uac.err" \
		"${NODE_IP[$3]}:$NPORT" >"$T_DIR/$1_uac.out" 2>&1
	rc=$?
	ok=$(tail -n 1 "$T_DIR/$1_uac.csv" 2>/dev/null | cut -d';' -f16)
}

SC_WEIGHT=([sc1a]=100 [sc1b]=100 [sc2a]=300 [sc2b]=300 [sc3a]=100 [sc3b]=100)
cl_setup
cl_pool
for s in $CL_SERVERS sc7; do sc_start "$s"; done
for n in $CL_NODES; do cl_node_start "$n"; done
cl_wait_states 10 sc1a=active sc1b=standby sc2a=active sc2b=standby sc3a=active sc3b=standby &&
	pass "sip_server_status: on each node the primaries active, the backups standby" ||
	fail "sip_server_status after start"

# ---- 1. a SC calls a user registered through another node ---------------
EPU=$(free_port)
sipp -sf "$SCEN/ep_register.xml" -s alice -au alice -ap alice-pw-1 -auth_uri cc.test -i 127.0.2.10 -p "$EPU" -m 1 \
	-nostdin -timeout 10s -timeout_error -trace_err -error_file "$T_DIR/c1_reg.err" \
	"${NODE_IP[n1]}:$NPORT" >"$T_DIR/c1_reg.out" 2>&1
rc=$?
bnode=$(psql_q "SELECT node FROM active_bindings WHERE aor = 'sip:alice@$CL_DOMAIN' AND contact = 'sip:alice@127.0.2.10:$EPU'")
[ $rc -eq 0 ] && [ "$bnode" = n1 ] && pass "1: alice registered through n1 (digest)" ||
	fail "1: REGISTER through n1: sipp rc=$rc, binding node '$bnode'"
uas_up 127.0.2.10 "$EPU" alice c1 || fail "1: the endpoint's UAS did not start"
sc_call c1 sc1a n2 "alice@$CL_DOMAIN"
[ $rc -eq 0 ] && [ "$ok" = 1 ] && pass "1: the SC's call (From sip:sc@cc.test) to alice through n2 completed" ||
	{ fail "1: the SC's call through n2: rc=$rc successful=$ok"; tail -c 1500 "$T_DIR/c1_uac.err" >&2; echo >&2; }
uas_down
ok=$(tail -n 1 "$T_DIR/c1_uas.csv" 2>/dev/null | cut -d';' -f16)
[ $rc -eq 0 ] && [ "$ok" = 1 ] && pass "1: alice's UAS took the call, ACK and BYE" ||
	fail "1: alice's UAS: rc=$rc successful=$ok"
# a SC's call to an address elsewhere (an IP address, not our domain)
# goes onward, not back to a SC: sc2a through n3 to a UAS on 127.0.2.11
EXT=$(free_port)
uas_up 127.0.2.11 "$EXT" ext c1b || fail "1: the UAS on 127.0.2.11 did not start"
sc_call c1b sc2a n3 "ext@127.0.2.11:$EXT"
[ $rc -eq 0 ] && [ "$ok" = 1 ] && pass "1: a SC's call to sip:ext@127.0.2.11 through n3 completed" ||
	{ fail "1: the SC's call to 127.0.2.11 through n3: rc=$rc successful=$ok"; tail -c 1500 "$T_DIR/c1b_uac.err" >&2; echo >&2; }
uas_down

# sipsak OPTIONS to each node itself, from an endpoint: the node answers
for n in $CL_NODES; do
	sipsak -vv -s "sip:${NODE_IP[$n]}:$NPORT" >"$T_DIR/c1_opt_$n.out" 2>&1
	rc=$?
	cid=$(grep -m 1 -i '^Call-ID:' "$T_DIR/c1_opt_$n.out" | awk '{print $2}' | tr -d '\r')
	[ -n "$cid" ] && echo "$cid" >>"$T_DIR/c1_opt.cids"
	[ $rc -eq 0 ] && grep -q '^SIP/2.0 200' "$T_DIR/c1_opt_$n.out" && [ -n "$cid" ] &&
		pass "1: $n answers sipsak's OPTIONS to itself 200" || fail "1: sipsak OPTIONS to $n: rc=$rc"
done
cl_msgs
where=$(inv_summary c1)
[ "$where" = alice=1 ] && pass "1: the INVITE reached alice only (no SC)" || fail "1: the INVITE went to: $where"
where=$(inv_summary c1b)
[ "$where" = ext=1 ] && pass "1: that INVITE went onward to 127.0.2.11 only (no SC)" || fail "1: the INVITE to 127.0.2.11 went to: $where"
via=$(awk '$1 == "alice" && $3 == "INVITE" { print $5, $7; exit }' "$T_DIR/msgs.txt")
[ "$via" = "${NODE_IP[n2]} <sip:$CL_RR_HOST;lr>" ] &&
	pass "1: alice's INVITE came from n2 with Record-Route <sip:$CL_RR_HOST;lr>" ||
	fail "1: alice's INVITE: top Via host, Record-Route: '$via'"
leaked=$(grep -c -F -f "$T_DIR/c1_opt.cids" "$T_DIR/msgs.txt" 2>/dev/null)
[ "$leaked" = 0 ] && pass "1: no SC saw the OPTIONS to the nodes themselves" || fail "1: $leaked OPTIONS to a node reached a SC"

# ---- 2. 1000 endpoint calls through the three nodes -----------------------
ep_calls c2n1 n1 334 60
ep_calls c2n2 n2 333 60
ep_calls c2n3 n3 333 60
for r in c2n1:334 c2n2:333 c2n3:333; do
	label=${r%:*} n=${r#*:}
	ep_wait "$label"
	ok=$EP_OK failed=$EP_FAILED
	[ "$ok" = "$n" ] && [ "$failed" = 0 ] && pass "2: $label: $n calls completed" ||
		{ fail "2: $label: successful=$ok failed=$failed of $n"; tail -c 1000 "$T_DIR/$label.err" >&2; echo >&2; }
done
cl_msgs
for n in $CL_NODES; do
	got=$(inv_count '*' "c2$n" "$n")
	expect=$(((${n#n} == 1) ? 334 : 333))
	[ "$got" = "$expect" ] && pass "2: the $expect INVITEs of c2$n reached a SC through $n" ||
		fail "2: $got of the $expect INVITEs of c2$n reached a SC through $n"
done
where=$(inv_summary 'c2n[123]')
log "2: INVITEs per SC: $where"
s1=$(inv_count sc1a 'c2n[123]')
s2=$(inv_count sc2a 'c2n[123]')
[ "$where" = "sc1a=$s1 sc2a=$s2" ] && [ $((s1 + s2)) = 1000 ] &&
	pass "2: all 1000 INVITEs went to dc1's primaries (backups and dc2: 0)" ||
	fail "2: INVITEs not only at dc1's primaries: $where"
# expected 1000 * 100/400 and 1000 * 300/400; within 10 % of each
[ $((s1 >= 225 && s1 <= 275)) = 1 ] && pass "2: p1 (weight 100) took $s1 of 1000 (250 +- 25)" ||
	fail "2: p1 (weight 100) took $s1 of 1000, not 250 +- 25"
[ $((s2 >= 675 && s2 <= 825)) = 1 ] && pass "2: p2 (weight 300) took $s2 of 1000 (750 +- 75)" ||
	fail "2: p2 (weight 300) took $s2 of 1000, not 750 +- 75"
bad=$(awk -v rr="<sip:$CL_RR_HOST;lr>" '$3 == "INVITE" && $6 ~ /^c2n/ && $7 != rr' "$T_DIR/msgs.txt" | wc -l)
[ "$bad" = 0 ] && [ $((s1 + s2)) -gt 0 ] && pass "2: every relayed INVITE had Record-Route <sip:$CL_RR_HOST;lr>" ||
	fail "2: $bad INVITEs without Record-Route <sip:$CL_RR_HOST;lr>"
bad=$(awk '$3 == "INVITE" && $6 ~ /^c2n/ && $8 != "sip:svc@cc.test"' "$T_DIR/msgs.txt" | wc -l)
[ "$bad" = 0 ] && [ $((s1 + s2)) -gt 0 ] && pass "2: the Request-URI reached the SCs unchanged (sip:svc@cc.test)" ||
	fail "2: $bad INVITEs reached a SC with another Request-URI"

# ---- 5. dialog rate limit on a fourth node --------------------------------
CL_ROUTING="session_controllers = yes
overload_dialog_rate = 50" cl_node_start n4
cl_wait_states 10 n4:sc1a=active n4:sc2a=active n4:sc3a=active ||
	fail "5: n4 did not find the pool in service"
timeout 60 sipp -sf "$SCEN/ep_uac_or_503.xml" -s svc -i "${EP_IP[n4]}" -p "$(free_port)" \
	-rsa "${NODE_IP[n4]}:$NPORT" -m 1000 -r 200 -nostdin -timeout 40s -timeout_error \
	-cid_str "c5-%u-%p@%s" -trace_logs -log_file "$T_DIR/c5.log" \
	-trace_stat -stf "$T_DIR/c5.csv" -trace_err -error_file "$T_DIR/c5.err" \
	"${NODE_IP[n4]}:$NPORT" >"$T_DIR/c5.out" 2>&1
rc=$?
ok=$(tail -n 1 "$T_DIR/c5.csv" 2>/dev/null | cut -d';' -f16)
failed=$(tail -n 1 "$T_DIR/c5.csv" 2>/dev/null | cut -d';' -f18)
n200=$(grep -c '^200 c5-' "$T_DIR/c5.log")
n503=$(grep -c '^503 c5-' "$T_DIR/c5.log")
nra=$(grep -c '^503 c5-.* Retry-After=[0-9][0-9]*$' "$T_DIR/c5.log")
log "5: 1000 calls at 200/s through n4: 200=$n200 503=$n503 (Retry-After in $nra)"
[ $rc -eq 0 ] && [ "$ok" = 1000 ] && [ "$failed" = 0 ] && [ $((n200 + n503)) = 1000 ] &&
	pass "5: every call answered 200 (and completed) or 503" ||
	{ fail "5: rc=$rc successful=$ok failed=$failed 200=$n200 503=$n503"; tail -c 1000 "$T_DIR/c5.err" >&2; echo >&2; }
[ $((n503 >= 600 && n503 <= 850)) = 1 ] && pass "5: $n503 of 1000 got 503 (60-85 %)" ||
	fail "5: $n503 of 1000 got 503, not 60-85 %"
[ "$nra" = "$n503" ] && [ "$n503" -gt 0 ] && pass "5: every 503 has Retry-After" || fail "5: $((n503 - nra)) 503s without Retry-After"
cl_msgs
got=$(inv_count '*' c5)
[ "$got" = "$n200" ] && [ "$n200" -gt 0 ] && pass "5: only the $n200 accepted calls reached a SC" ||
	fail "5: $got INVITEs reached a SC for $n200 accepted calls"
cl_node_stop n4

# ---- 6. a server added by SQL is probed and used within 2 s -------------
psql_q "SELECT count(*) FROM unnest(ARRAY['sc1a', 'sc1b', 'sc2a', 'sc2b']) n,
	junction_set_sip_server(n, p_enabled => false)" >/dev/null || fail "6: disable dc1"
sleep 1.5
calls_each 6 c6a 3 10
cl_msgs
where=$(inv_summary 'c6an[123]')
[ "$where" = sc3a=9 ] && pass "6: dc1 disabled: the calls of the three nodes went to dc2's primary" ||
	fail "6: dc1 disabled: INVITEs went to: $where"
from=$(opt_from sc7)
others=$(echo "$from" | tr ' ' '\n' | grep -v -e '^127\.0\.0\.1$' -e '^$')
[ -z "$others" ] && pass "6: no node probes sc7 before it is added" ||
	fail "6: sc7 was probed by $from before it was added"
T0=$(now)
psql_q "SELECT junction_add_sip_server('sc7', 'sip:${SC_IP[sc7]}:$SCPORT', 'dc1', NULL, 'primary', 100)" >/dev/null ||
	fail "6: junction_add_sip_server"
sleep_until "$(awk -v t="$T0" 'BEGIN { printf "%.6f", t + 2 }')"
calls_each 6 c6b 3 10
cl_msgs
where=$(inv_summary 'c6bn[123]')
[ "$where" = sc7=9 ] && pass "6: 2 s after the INSERT every node sends its calls to sc7" ||
	fail "6: 2 s after the INSERT the INVITEs went to: $where"
from=$(opt_from sc7 "$T0")
[ "$from" = "${NODE_IP[n1]} ${NODE_IP[n2]} ${NODE_IP[n3]}" ] && pass "6: sc7 probed by all three nodes ($from)" ||
	fail "6: sc7 probed by '$from'"
for n in $CL_NODES; do
	t=$(awk -v via="${NODE_IP[$n]}" '$1 == "sc7" && $3 == "OPTIONS" && $5 == via { print $4; exit }' "$T_DIR/msgs.txt")
	[ -n "$t" ] && fle "$t" "$(awk -v t="$T0" 'BEGIN { printf "%.6f", t + 2 }')" &&
		pass "6: $n's first probe of sc7 $(awk -v a="$t" -v b="$T0" 'BEGIN { printf "%.2f", a - b }') s after the INSERT" ||
		fail "6: $n's first probe of sc7 at '$t', INSERT at $T0"
done

for n in $CL_NODES; do cl_node_stop "$n"; done
cl_done
