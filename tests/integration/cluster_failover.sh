#!/usr/bin/env bash
# Session Controller failover (issue 16) on a cluster of three Junction
# nodes (cluster_lib.sh: n1..n3, dc1, geo_fallback dc2, oos_check = 2,
# oos_force = 1). The pool: in dc1 the HA pairs p1 (sc1a primary, sc1b
# backup) and p2 (sc2a, sc2b), in dc2 p3 (sc3a, sc3b), every weight 100.
# Endpoint calls (SIPp, through each node) show where the nodes send new
# calls; a stopped SC is SIGKILLed and, where the test must see what still
# reaches it, replaced by a silent socket (a "hole", like a hung server)
# that logs what comes. Checked, each on its own:
#  3a. p1's primary stops (p2 disabled, so p1 takes all of dc1's calls;
#      a call every 200 ms through each node): every node sends its new
#      calls to sc1b within oos_check + oos_force + 1 = 4 s, and after
#      the first call to sc1b none to sc1a; sip_server_status shows it.
#  3b. a request (OPTIONS) from p2's backup to n2 switches n2 to it at
#      once (the calls right after it, through n2, reach sc2b; through n1
#      and n3 still sc2a).
#  3c. sc1a back: it stays standby (sip_server_status on every node) and
#      gets no calls; when sc1b stops, calls reach sc1a within 4 s.
#  4.  all of dc1 stopped: calls go to dc2 (pairs out of service, in the
#      status too); dc1 back: new calls return to dc1 within oos_check + 2 s;
#      then every SC stopped: a new call gets 503 from each node.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg.sh"
. "$(dirname "$0")/cluster_lib.sh"
need ss psql sipp

LIMIT=4 # oos_check + oos_force + 1

# set_enabled true|false SERVER...
set_enabled() {
	local on=$1 list
	shift
	list=$(printf "'%s'," "$@")
	psql_q "SELECT count(*) FROM unnest(ARRAY[${list%,}]) n, junction_set_sip_server(n, p_enabled => $on)" \
		>/dev/null || fail "enabled = $on for $*"
}

# summary_only LABEL SC...: the INVITEs of run LABEL (regex) went to these
# SCs (a SC~hole may be listed) and to no other; prints the summary
summary_only() {
	local label=$1 where w s ok=0
	shift
	where=$(inv_summary "$label")
	for w in $where; do
		ok=0
		for s in "$@"; do [ "${w%=*}" = "$s" ] && ok=1; done
		[ $ok = 1 ] || break
	done
	echo "$where"
	[ -n "$where" ] && [ $ok = 1 ]
}

# failover_runs LABEL: a call every 200 ms through each node (40 each),
# the runs LABELn1..n3; a call not answered in 3 s fails
failover_runs() {
	local n
	for n in $CL_NODES; do ep_calls "$1$n" "$n" 40 5 -recv_timeout 3000; done
}

# failover LABEL DEAD NEW: runs of calls through every node, DEAD stopped
# (a hole in its place) a second into them, and failover_check
failover() {
	failover_runs "$1"
	sleep 1
	TSTOP=$(now)
	sc_stop "$2" hole
	failover_check "$@"
}

# failover_check LABEL DEAD NEW: the runs of failover_runs LABEL, DEAD
# stopped at TSTOP with a hole in its place: through each node the first
# call to NEW came within LIMIT s of TSTOP (never before), every call
# before it went to DEAD (answered while it lived, lost in the hole after)
# and none after it; every call completed except those lost in the hole
# and those DEAD was killed in the middle of
failover_check() {
	local label=$1 dead=$2 new=$3 n pre lost post first lat maxlost minpost where cut
	for n in $CL_NODES; do ep_wait "$label$n"; eval "OK_$n=\$EP_OK FAILED_$n=\$EP_FAILED"; done
	cl_msgs
	for n in $CL_NODES; do
		pre=$(inv_count "$dead" "$label$n" "$n")
		lost=$(inv_count "$dead~hole" "$label$n" "$n")
		post=$(inv_count "$new" "$label$n" "$n")
		first=$(inv_first "$new" "$label$n" "$n")
		where=$(summary_only "$label$n" "$dead" "$dead~hole" "$new") ||
			fail "$label: calls through $n went elsewhere too: $where"
		log "$label: through $n: $where"
		if [ -n "$first" ]; then
			lat=$(awk -v a="$first" -v b="$TSTOP" 'BEGIN { printf "%.2f", a - b }')
			fle 0 "$lat" && fle "$lat" "$LIMIT" &&
				pass "$label: $n sends new calls to $new $lat s after $dead stopped (limit $LIMIT s)" ||
				fail "$label: $n's first call to $new came $lat s after $dead stopped (limit $LIMIT s)"
		else
			fail "$label: no call through $n reached $new"
		fi
		maxlost=$(awk -v sc="$dead~hole" -v re="^$label$n-" '$1 == sc && $3 == "INVITE" && $6 ~ re {
			split($6, c, "-"); if (c[2] + 0 > m) m = c[2] + 0 } END { print m + 0 }' "$T_DIR/msgs.txt")
		minpost=$(awk -v sc="$new" -v re="^$label$n-" '$1 == sc && $3 == "INVITE" && $6 ~ re {
			split($6, c, "-"); if (m == "" || c[2] + 0 < m) m = c[2] + 0 } END { print m + 0 }' "$T_DIR/msgs.txt")
		[ "$post" -gt 0 ] && [ "$maxlost" -lt "$minpost" ] &&
			pass "$label: through $n $lost calls went to the stopped $dead before the switch, none after" ||
			fail "$label: through $n a call to the stopped $dead after the switch (last call number there $maxlost, first to $new $minpost)"
		# calls DEAD took but did not finish (killed between INVITE and BYE)
		cut=$(awk -v sc="$dead" -v re="^$label$n-" '$1 == sc && $6 ~ re && $3 == "INVITE" { inv[$6] = 1 }
			$1 == sc && $6 ~ re && $3 == "BYE" { bye[$6] = 1 }
			END { for (c in inv) if (!(c in bye)) n++; print n + 0 }' "$T_DIR/msgs.txt")
		local ok=OK_$n failed=FAILED_$n
		[ $((pre + lost + post)) = 40 ] && [ "${!ok}" = $((pre - cut + post)) ] && [ "${!failed}" = $((lost + cut)) ] &&
			pass "$label: through $n all 40 calls accounted for: $((pre - cut + post)) completed, $((lost + cut)) lost to the stopped $dead" ||
			fail "$label: through $n: $dead $pre ($cut cut off), hole $lost, $new $post; successful ${!ok} failed ${!failed} of 40"
	done
}

cl_setup
cl_pool
set_enabled false sc2a sc2b
for s in $CL_SERVERS; do sc_start "$s"; done
for n in $CL_NODES; do cl_node_start "$n"; done
cl_wait_states 10 sc1a=active sc1b=standby sc3a=active sc3b=standby &&
	pass "sip_server_status: on each node p1 and p3 on their primaries, the backups standby" ||
	fail "sip_server_status after start"

# ---- 3a. p1's primary stops ----------------------------------------------
failover f3a sc1a sc1b
cl_wait_states 2 sc1a=oos sc1b=active && pass "3a: sip_server_status: sc1a oos, sc1b active on every node" ||
	fail "3a: sip_server_status after sc1a stopped"

# ---- 3b. a request from a standby member switches that node at once -------
set_enabled true sc2a sc2b
cl_wait_states 5 sc2a=active sc2b=standby || fail "3b: p2 not in service after it was enabled"
P=$(free_port)
options_msg "${NODE_IP[n2]}" "$NPORT" | "$SIPSEND" -b "$P" -a "${SC_IP[sc2b]}" udp "${NODE_IP[n2]}" "$NPORT" - \
	>"$T_DIR/f3b_opt.out" 2>&1
grep -q '^SIP/2.0 200' "$T_DIR/f3b_opt.out" && pass "3b: n2 answers an OPTIONS from sc2b's address" ||
	fail "3b: OPTIONS from sc2b to n2: $(head -n 1 "$T_DIR/f3b_opt.out")"
calls_each 3b f3b 8 20
cl_msgs
where=$(summary_only f3bn2 sc1b sc2b) && [ "$(inv_count sc2b f3bn2)" -gt 0 ] &&
	pass "3b: right after it, n2's calls for p2 go to sc2b ($where)" ||
	fail "3b: after the OPTIONS from sc2b, n2's calls went to: $where"
for n in n1 n3; do
	where=$(summary_only "f3b$n" sc1b sc2a) && [ "$(inv_count sc2a "f3b$n")" -gt 0 ] &&
		pass "3b: $n's calls for p2 still go to sc2a ($where)" ||
		fail "3b: $n's calls went to: $where"
done
cl_wait_states 2 n2:sc2b=active n2:sc2a=standby n1:sc2a=active n3:sc2a=active &&
	pass "3b: sip_server_status: p2 on sc2b at n2 only" || fail "3b: sip_server_status of p2"

# ---- 3c. the old primary back stays standby until the backup fails --------
# (p2 disabled again: p1 takes every call, so each shows where p1 is)
set_enabled false sc2a sc2b
sc_unhole sc1a
sc_start sc1a
cl_wait_states 6 sc1a=standby sc1b=active && pass "3c: sc1a back: standby on every node (sip_server_status)" ||
	fail "3c: sip_server_status with sc1a back"
sleep 1
calls_each 3c f3c 8 20
cl_msgs
where=$(inv_summary 'f3cn[123]')
[ "$where" = sc1b=24 ] && pass "3c: with sc1a back, the calls of every node still go to sc1b" ||
	fail "3c: with sc1a back, the INVITEs went to: $where"
cl_wait_states 1 sc1a=standby sc1b=active && pass "3c: sc1a still standby after those calls" ||
	fail "3c: sc1a did not stay standby"
failover f3d sc1b sc1a
cl_wait_states 2 sc1a=active sc1b=oos && pass "3c: sip_server_status: sc1a active again, sc1b oos" ||
	fail "3c: sip_server_status after sc1b stopped"

# ---- 4. all of dc1 stopped, then back --------------------------------------
set_enabled true sc2a sc2b
p2up=0
for _ in $(seq 50); do
	p2up=$(psql_q "SELECT count(*) FROM sip_server_status WHERE server IN ('sc2a', 'sc2b') AND state = 'active'")
	[ "$p2up" = 3 ] && break
	sleep 0.1
done
[ "$p2up" = 3 ] || fail "4: p2 active on $p2up of 3 nodes after it was enabled again"
sc_stop sc1a
sc_unhole sc1b
sc_stop sc2a
sc_stop sc2b
TDOWN=$(now)
# p2's standby may have answered its last probe: the pair goes to it,
# then out of service, in up to 2 * (oos_check + oos_force) s
sleep_until "$(awk -v t="$TDOWN" 'BEGIN { printf "%.6f", t + 7 }')"
calls_each 4 f4a 6 20 -recv_timeout 3000
cl_msgs
where=$(inv_summary 'f4an[123]')
[ "$where" = sc3a=18 ] && pass "4: dc1 stopped: the calls of every node go to dc2 ($where)" ||
	fail "4: dc1 stopped: the INVITEs went to: $where"
cl_wait_states 2 sc1a=oos sc1b=oos sc2a=oos sc2b=oos sc3a=active &&
	pass "4: sip_server_status: dc1 oos on every node" || fail "4: sip_server_status with dc1 stopped"
for s in sc1a sc1b sc2a sc2b; do sc_start "$s"; done
TUP=$(now)
sleep_until "$(awk -v t="$TUP" 'BEGIN { printf "%.6f", t + 4 }')" # oos_check + 2
calls_each 4 f4b 6 20 -recv_timeout 3000
cl_msgs
where=$(summary_only 'f4bn[123]' sc1a sc1b sc2a sc2b) && [ "$(inv_count '*' 'f4bn[123]')" = 18 ] && pass "4: dc1 back: 4 s later the calls go to dc1 again ($where)" ||
	fail "4: dc1 back: the INVITEs went to: $where"

# ---- 4c. no SC in service anywhere: 503 ------------------------------------
for s in sc1a sc1b sc2a sc2b sc3a sc3b; do sc_stop "$s"; done
TDOWN=$(now)
sleep_until "$(awk -v t="$TDOWN" 'BEGIN { printf "%.6f", t + 7 }')"
for n in $CL_NODES; do
	P=$(free_port)
	printf 'INVITE sip:svc@cc.test SIP/2.0\nVia: SIP/2.0/UDP %s:%s;branch=z9hG4bKf4c%s;rport\nMax-Forwards: 70\nFrom: <sip:ep@%s>;tag=f4c\nTo: <sip:svc@cc.test>\nCall-ID: f4c-%s-%s\nCSeq: 1 INVITE\nContact: <sip:ep@%s:%s>\nContent-Length: 0\n\n' \
		"${EP_IP[$n]}" "$P" "$RANDOM" "${EP_IP[$n]}" "$n" "$RANDOM" "${EP_IP[$n]}" "$P" |
		"$SIPSEND" -P -w 3000 -b "$P" -a "${EP_IP[$n]}" udp "${NODE_IP[$n]}" "$NPORT" - >"$T_DIR/f4c_$n.out" 2>&1
	grep -q '^SIP/2.0 503 ' "$T_DIR/f4c_$n.out" && pass "4c: no SC in service anywhere: $n answers a new call 503" ||
		fail "4c: no SC in service: $n answered '$(head -n 1 "$T_DIR/f4c_$n.out")'"
done

for n in $CL_NODES; do cl_node_stop "$n"; done
cl_done
