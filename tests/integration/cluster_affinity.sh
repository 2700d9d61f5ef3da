#!/usr/bin/env bash
# Session affinity (issue 17) on the three-node cluster of cluster.sh
# (cluster_lib.sh): every dialog of related calls reaches one Session
# Controller, whichever node it enters through. The SCs here
# (scenarios/aff_sc.xml) give a Contact nothing resolves
# (sc@pair.invalid), so an in-dialog request reaches a SC only when the
# node routes it by its session. The agents agent1 and agent2 are devices
# (a binding each, made by SQL); cust@pstn.test and the like are not.
# Checked, each on its own:
#  1. 1000 calls, each with a re-INVITE and a BYE, the ACKs, re-INVITE and
#     BYE sent through another node than the INVITE: all complete, every
#     request of a call reaches one SC, and every dialog and session ends.
#  2. related dialogs: a SC's call to agent1 (through n2) starts a session
#     on that SC; while it is up, agent1's consultation call through n3
#     goes to the same SC though the pool weighs another 1000:1 (device),
#     its REFER in the dialog through n1 too, and so do an INVITE with
#     Replaces of the consultation from a transfer target through n1
#     (replaces), with Join (join), with Target-Dialog (target-dialog), one
#     Referred-By agent1 (referred-by), and a second call of the SC to
#     agent1 (controller); a call related to nothing goes where the pool
#     says (new). A fourth node with [sessions] relate = replaces sends
#     agent1's next call where the pool says; with synchronous_commit =
#     yes its session writes wait for the WAL flush, while check 1's
#     (the default) commit asynchronously.
#  3. n1 SIGKILLed during 1 s of calls entering through it (their ACK,
#     re-INVITE and BYE through n2): every call answered before the kill
#     completes at its SC, and every INVITE that reached a SC has its
#     dialog in the database (recorded before it left).
#  4. the pair of a session's SC stopped: the next call of its agent
#     (agent2, called by sc2a) starts a new session on the other pair,
#     moved_from naming the old one, and the node logs the move.
#  5. a dialog answered 404 ends with its session; with the database
#     down a new call gets 503 with Retry-After and reaches no SC; once
#     it is back calls are recorded and complete.
#  6. the SCs of pair p1 restarted with their own address as Contact: 20
#     calls, the in-dialog requests through another node, each reach one
#     SC, and the node found each dialog's SC by its Request-URI, with no
#     database read (affinity_route_set, counted 20 times in all, and
#     nowhere before: the other checks' SCs give no address). An INVITE
#     n1 records gets one 100 Trying, not one while it is recorded and
#     another from its transaction.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg.sh"
. "$(dirname "$0")/cluster_lib.sh"
need ss psql sipp

CL_AUTH_EXTRA=""
SC_SCEN=aff_sc.xml
SC_OPTS=(-set contact sc@pair.invalid)
CL_SERVERS="sc1a sc1b sc2a sc2b"
declare -A AGENT_IP=([agent1]=127.0.2.21 [agent2]=127.0.2.22)
declare -A AGENT_PORT=() AGENT_PID=()

cl_setup
cl_pool
for s in $CL_SERVERS; do sc_start "$s"; done
for n in $CL_NODES; do cl_node_start "$n"; done
cl_wait_states 15 sc1a=active sc2a=active sc1b=standby sc2b=standby ||
	{ fail "the pool did not come up"; cl_done; }

# aff_call LABEL NODE DNODE N RATE HOLD_MS FROM SERVICE [SIPp options]: N
# calls (aff_uac.xml) from the endpoint address of NODE, INVITE through
# NODE, the rest through DNODE; waited for, EP_OK and EP_FAILED set
aff_call() {
	local label=$1 node=$2 dnode=$3 n=$4 rate=$5 hold=$6 from=$7 svc=$8
	shift 8
	aff_start "$label" "$node" "$dnode" "$n" "$rate" "$hold" "$from" "$svc" "$@"
	ep_wait "$label"
}
# aff_start: the same in the background (EP_PID[LABEL]); -i defaults to
# NODE's endpoint address
aff_start() {
	local label=$1 node=$2 dnode=$3 n=$4 rate=$5 hold=$6 from=$7 svc=$8 scen=aff_uac.xml refer=()
	shift 8
	[ "${1:-}" = refer ] && { scen=aff_uac_refer.xml refer=(-set referto "agent2@$CL_DOMAIN"); shift; }
	local ip=${EP_IP[$node]}
	[ "${1:-}" = -i ] && { ip=$2; shift 2; }
	timeout 120 sipp -sf "$SCEN/$scen" -s "$svc" -i "$ip" -p "$(free_port)" \
		-rsa "${NODE_IP[$node]}:$NPORT" -m "$n" -r "$rate" -d "$hold" -nostdin \
		-timeout 60s -timeout_error -cid_str "$label-%u-%p@%s" \
		-set from "$from" -set dhost "${NODE_IP[$dnode]}" -set dport "$NPORT" \
		-set hname X-Test -set hval "$label" "${refer[@]}" "$@" \
		-trace_stat -stf "$T_DIR/$label.csv" -trace_err -error_file "$T_DIR/$label.err" \
		"${NODE_IP[$node]}:$NPORT" >"$T_DIR/$label.out" 2>&1 &
	EP_PID[$label]=$!
	T_PIDS+=("$!")
}
# wait_sql SQL: its first non-empty answer within 10 s (the database is
# written before a request leaves, but the test reads it from outside)
wait_sql() {
	local v
	for _ in $(seq 100); do
		v=$(psql_q "$1")
		[ -n "$v" ] && break
		sleep 0.1
	done
	echo "$v"
}
# where LABEL: the SCs the INVITEs of LABEL reached ("sc=count ...")
where() { cl_msgs; inv_summary "$1"; }
# rel CALL-ID: "relation sip_server" of that dialog
rel() {
	psql_q "SELECT d.relation || ' ' || s.sip_server FROM dialog d JOIN session s ON s.id = d.session_id WHERE d.call_id = '$1'"
}
# agent_up NAME: the agent's device, a SIPp UAS (aff_sc.xml with its own
# address as contact), and its binding
agent_up() {
	local a=$1 port
	port=$(free_port)
	AGENT_PORT[$a]=$port
	sipp -sf "$SCEN/aff_sc.xml" -i "${AGENT_IP[$a]}" -p "$port" -nostdin \
		-set contact "$a@${AGENT_IP[$a]}:$port" \
		-trace_msg -message_file "$T_DIR/sc/$a.1.msg" \
		-trace_err -error_file "$T_DIR/$a.err" >"$T_DIR/$a.out" 2>&1 &
	AGENT_PID[$a]=$!
	T_PIDS+=("$!")
	wait_udp "${AGENT_IP[$a]}" "$port"
	psql_q "INSERT INTO binding (aor, contact, expires_at, call_id, cseq, node)
		VALUES ('sip:$a@$CL_DOMAIN', 'sip:$a@${AGENT_IP[$a]}:$port', now() + interval '1 hour',
		'$a-reg', 1, 'test')" >/dev/null
}

# wal_syncs: PostgreSQL's WAL flushes so far (pg_stat_wal), once every
# backend has reported them (a backend reports within a second of going
# idle): read until two readings a second apart agree
wal_syncs() {
	local a b
	b=$(psql_q "SELECT wal_sync FROM pg_stat_wal")
	for _ in $(seq 15); do
		sleep 1
		a=$b
		b=$(psql_q "SELECT wal_sync FROM pg_stat_wal")
		[ "$a" = "$b" ] && break
	done
	echo "$b"
}

# ---- 1. 1000 calls, in-dialog requests through another node --------------
syncs0=$(wal_syncs)
aff_start c1n1 n1 n2 334 60 0 "ep@127.0.2.1" svc
aff_start c1n2 n2 n3 333 60 0 "ep@127.0.2.2" svc
aff_start c1n3 n3 n1 333 60 0 "ep@127.0.2.3" svc
total=0
for r in c1n1:334 c1n2:333 c1n3:333; do
	label=${r%:*} n=${r#*:}
	ep_wait "$label"
	total=$((total + ${EP_OK//x/0}))
	[ "$EP_OK" = "$n" ] && [ "$EP_FAILED" = 0 ] || {
		fail "1: $label: successful=$EP_OK failed=$EP_FAILED of $n"
		tail -c 1000 "$T_DIR/$label.err" >&2
	}
done
[ "$total" = 1000 ] && pass "1: 1000 calls with a re-INVITE completed, in-dialog requests through another node"
# [sessions] synchronous_commit = no (the default): the batches of session
# writes commit without waiting for a WAL flush; PostgreSQL's WAL writer
# flushes a few times a second instead of once a batch (thousands here)
syncs=$(($(wal_syncs) - syncs0))
[ "$syncs" -lt 250 ] && pass "1: session writes committed asynchronously ($syncs WAL flushes for 1000 calls)" ||
	fail "1: $syncs WAL flushes for 1000 calls: session writes waited for the flush"
cl_msgs
# per Call-ID: the SCs, and how many INVITE, ACK, BYE (each once at least:
# SIPp logs retransmissions too), and whether an in-dialog request came
# through the INVITE's own node
awk -v n1="${NODE_IP[n1]}" -v n2="${NODE_IP[n2]}" -v n3="${NODE_IP[n3]}" '
	BEGIN { nx["c1n1"] = n2; nx["c1n2"] = n3; nx["c1n3"] = n1 }
	$6 ~ /^c1n[123]-/ && $3 != "OPTIONS" {
		if (!(($6, $1) in scs)) { scs[$6, $1] = 1; nsc[$6]++ }
		m[$6, $3]++
		split($6, l, "-")
		if ($3 != "INVITE" || m[$6, "ACK"]) if ($5 != nx[l[1]]) wrongvia[$6] = 1
		cids[$6] = 1
	}
	END {
		for (c in cids) {
			n++
			if (nsc[c] != 1) split_ += 1
			if (m[c, "INVITE"] < 2 || m[c, "ACK"] < 2 || m[c, "BYE"] < 1) short_ += 1
			if (c in wrongvia) via_ += 1
		}
		print n + 0, split_ + 0, short_ + 0, via_ + 0
	}' "$T_DIR/msgs.txt" >"$T_DIR/c1.sum"
read -r ncalls nsplit nshort nvia <"$T_DIR/c1.sum"
[ "$ncalls" = 1000 ] && [ "$nsplit" = 0 ] && [ "$nshort" = 0 ] &&
	pass "1: every request of each of the 1000 calls reached one SC (INVITE, ACK, re-INVITE, ACK, BYE)" ||
	fail "1: calls=$ncalls split over SCs=$nsplit missing requests=$nshort"
[ "$nvia" = 0 ] && pass "1: the ACKs, re-INVITEs and BYEs came through the other node" ||
	fail "1: $nvia calls had in-dialog requests through the INVITE's node"
for _ in $(seq 50); do
	open=$(psql_q "SELECT count(*) FROM dialog WHERE call_id LIKE 'c1n%' AND state <> 'ended'")
	[ "$open" = 0 ] && break
	sleep 0.1
done
got=$(psql_q "SELECT count(*) || ' ' || count(*) FILTER (WHERE s.ended_at IS NOT NULL) FROM dialog d JOIN session s ON s.id = d.session_id WHERE d.call_id LIKE 'c1n%' AND d.state = 'ended' AND d.relation = 'new'")
[ "$got" = "1000 1000" ] && pass "1: the 1000 dialogs and their sessions ended with their BYEs" ||
	fail "1: ended dialogs, of which with their session ended: $got (open: $open)"

# ---- 2. related dialogs -----------------------------------------------------
# the pool would send new sessions to sc1a 1000 times out of 1001
psql_q "SELECT junction_set_sip_server('sc1a', p_weight => 1000); SELECT junction_set_sip_server('sc2a', p_weight => 1)" >/dev/null
sleep 1.5
agent_up agent1
agent_up agent2
# the SC sc2a calls agent1 through n2 (from its own address, another
# port): a session on sc2a; held 25 s
aff_start c2sc n2 n2 1 1 25000 "sc@$CL_DOMAIN" agent1 -i "${SC_IP[sc2a]}"
sess=$(wait_sql "SELECT d.session_id FROM dialog d WHERE d.call_id LIKE 'c2sc-%' AND d.state = 'confirmed'")
got=$(rel "$(psql_q "SELECT call_id FROM dialog WHERE call_id LIKE 'c2sc-%'")")
[ -n "$sess" ] && [ "$got" = "new sc2a" ] && pass "2: sc2a's call to agent1 started session $sess on sc2a" ||
	fail "2: sc2a's call to agent1: session '$sess', '$got'"
# agent1's consultation call (to agent2) through n3, held 12 s, with a
# REFER through n1
aff_start c2consult n3 n1 1 1 12000 "agent1@$CL_DOMAIN" agent2 refer -i "${AGENT_IP[agent1]}"
consult=$(wait_sql "SELECT call_id FROM dialog WHERE call_id LIKE 'c2consult-%' AND state = 'confirmed'")
[ "$(where c2consult)" = "sc2a=1" ] && [ "$(rel "$consult")" = "device sc2a" ] &&
	[ "$(psql_q "SELECT session_id FROM dialog WHERE call_id = '$consult'")" = "$sess" ] &&
	pass "2: agent1's consultation call through n3 joined the session on sc2a (device)" ||
	fail "2: consultation: went to $(where c2consult), '$(rel "$consult")'"
# each related call from a party that is no device, through n1; Call-IDs
# c2<rule>-...
for r in "replaces:Replaces:$consult;to-tag=x;from-tag=y" "join:Join:$consult;to-tag=x;from-tag=y" \
	"target-dialog:Target-Dialog:$consult;local-tag=y;remote-tag=x" \
	"referred-by:Referred-By:<sip:agent1@$CL_DOMAIN>"; do
	rule=${r%%:*} rest=${r#*:}
	label="c2${rule//-/}"
	aff_call "$label" n1 n2 1 1 0 "xfer@pstn.test" svc -i 127.0.2.31 -set hname "${rest%%:*}" -set hval "${rest#*:}"
	cid=$(psql_q "SELECT call_id FROM dialog WHERE call_id LIKE '$label-%'")
	[ "$EP_OK" = 1 ] && [ "$(where "$label")" = "sc2a=1" ] && [ "$(rel "$cid")" = "$rule sc2a" ] &&
		[ "$(psql_q "SELECT session_id FROM dialog WHERE call_id = '$cid'")" = "$sess" ] &&
		pass "2: an INVITE with ${rest%%:*} through n1 joined the session on sc2a ($rule)" ||
		fail "2: ${rest%%:*}: ok=$EP_OK went to $(where "$label"), '$(rel "$cid")'"
done
# sc2a calls agent1 again: the same session (controller)
aff_call c2sc2 n3 n3 1 1 0 "sc@$CL_DOMAIN" agent1 -i "${SC_IP[sc2a]}"
cid=$(psql_q "SELECT call_id FROM dialog WHERE call_id LIKE 'c2sc2-%'")
[ "$EP_OK" = 1 ] && [ "$(rel "$cid")" = "controller sc2a" ] &&
	[ "$(psql_q "SELECT session_id FROM dialog WHERE call_id = '$cid'")" = "$sess" ] &&
	pass "2: sc2a's second call to agent1 joined its session (controller)" ||
	fail "2: sc2a's second call: ok=$EP_OK '$(rel "$cid")'"
# related to nothing: where the pool says
aff_call c2none n2 n2 1 1 0 "cust@pstn.test" svc -i 127.0.2.32
cid=$(psql_q "SELECT call_id FROM dialog WHERE call_id LIKE 'c2none-%'")
[ "$EP_OK" = 1 ] && [ "$(where c2none)" = "sc1a=1" ] && [ "$(rel "$cid")" = "new sc1a" ] &&
	pass "2: a call related to nothing started a session where the pool says (sc1a)" ||
	fail "2: unrelated call: ok=$EP_OK went to $(where c2none), '$(rel "$cid")'"
cl_msgs
refer=$(awk -v c="$consult" '$3 == "REFER" && $6 == c { print $1, $5 }' "$T_DIR/msgs.txt" | sort -u)
[ "$refer" = "sc2a ${NODE_IP[n1]}" ] && pass "2: the consultation's REFER through n1 reached sc2a" ||
	fail "2: the REFER went: '$refer'"
# a node that relates by Replaces only: agent1's call is a new session
# (and synchronous_commit = yes: each of 100 calls at 50/s, about one
# batch each, waits for a WAL flush, a few shared when batches meet;
# asynchronous, the 2 s would see the WAL writer's few a second)
cl_node_start n4 "[sessions]" "relate = replaces" "synchronous_commit = yes"
aff_call c2n4 n4 n4 1 1 0 "agent1@$CL_DOMAIN" svc -i "${AGENT_IP[agent1]}"
cid=$(psql_q "SELECT call_id FROM dialog WHERE call_id LIKE 'c2n4-%'")
[ "$EP_OK" = 1 ] && [ "$(rel "$cid")" = "new sc1a" ] &&
	pass "2: with relate = replaces, agent1's call through n4 started a new session (sc1a)" ||
	fail "2: relate = replaces: ok=$EP_OK '$(rel "$cid")'"
syncs0=$(wal_syncs)
aff_call c2sync n4 n4 100 50 0 "cust@pstn.test" svc -i 127.0.2.33
syncs=$(($(wal_syncs) - syncs0))
[ "$EP_OK" = 100 ] && [ "$syncs" -ge 50 ] &&
	pass "2: with synchronous_commit = yes, 100 calls waited for $syncs WAL flushes" ||
	fail "2: synchronous_commit = yes: ok=$EP_OK, $syncs WAL flushes for 100 calls"
cl_node_stop n4
ep_wait c2consult
[ "$EP_OK" = 1 ] && pass "2: the consultation call (INVITE, REFER, BYE) completed" ||
	fail "2: consultation call: ok=$EP_OK failed=$EP_FAILED"

# ---- 3. a node SIGKILLed mid-call -------------------------------------------
aff_start c3 n1 n2 400 100 3000 "ep@127.0.2.1" svc
sleep 1
kill -KILL "${NODE_PID[n1]}"
wait "${NODE_PID[n1]}" 2>/dev/null
t_forget "${NODE_PID[n1]}"
unset "NODE_PID[n1]"
ep_wait c3
cl_msgs
# the calls whose ACK reached a SC were answered before the kill
awk '$6 ~ /^c3-/ && $3 != "OPTIONS" { if ($3 == "ACK") { ack[$6] = $1 } if ($3 == "BYE") bye[$6] = $1 }
	END { for (c in ack) { n++; if (bye[c] == ack[c]) ok++ } print n + 0, ok + 0 }' "$T_DIR/msgs.txt" >"$T_DIR/c3.sum"
read -r answered completed <"$T_DIR/c3.sum"
[ "$answered" -ge 50 ] && [ "$completed" = "$answered" ] && [ "$EP_OK" = "$answered" ] &&
	pass "3: all $answered calls answered before n1's SIGKILL completed at their SC through n2" ||
	fail "3: answered=$answered completed at their SC=$completed SIPp ok=$EP_OK failed=$EP_FAILED"
awk '$6 ~ /^c3-/ && $3 == "INVITE" { print $6, $1 }' "$T_DIR/msgs.txt" | sort -u >"$T_DIR/c3.inv"
psql_q "SELECT d.call_id || ' ' || s.sip_server FROM dialog d JOIN session s ON s.id = d.session_id WHERE d.call_id LIKE 'c3-%'" |
	sort >"$T_DIR/c3.db"
missing=$(comm -23 "$T_DIR/c3.inv" "$T_DIR/c3.db" | wc -l)
[ "$missing" = 0 ] && pass "3: each of the $(wc -l <"$T_DIR/c3.inv") INVITEs that reached a SC has its dialog and SC in the database" ||
	fail "3: $missing INVITEs reached a SC with no dialog recorded"
cl_node_start n1

# ---- 4. a session's pair stopped ------------------------------------------
# sc2a calls agent2 (held 15 s): a session on sc2a with agent2's dialog up
aff_start c4sc n2 n2 1 1 15000 "sc@$CL_DOMAIN" agent2 -i "${SC_IP[sc2a]}"
sess4=$(wait_sql "SELECT session_id FROM dialog WHERE call_id LIKE 'c4sc-%' AND state = 'confirmed'")
sc_stop sc2a
sc_stop sc2b
cl_wait_states 15 sc2a=oos sc2b=oos || fail "4: p2 not out of service"
aff_call c4 n3 n3 1 1 0 "agent2@$CL_DOMAIN" svc -i "${AGENT_IP[agent2]}"
cid=$(psql_q "SELECT call_id FROM dialog WHERE call_id LIKE 'c4-%'")
moved=$(psql_q "SELECT s.moved_from FROM dialog d JOIN session s ON s.id = d.session_id WHERE d.call_id = '$cid'")
[ -n "$sess4" ] && [ "$EP_OK" = 1 ] && [ "$(where c4)" = "sc1a=1" ] && [ "$(rel "$cid")" = "moved sc1a" ] &&
	[ "$moved" = "$sess4" ] &&
	pass "4: with p2 out of service agent2's next call moved from session $sess4 to sc1a" ||
	fail "4: session '$sess4': ok=$EP_OK went to $(where c4), '$(rel "$cid")', moved_from '$moved'"
grep -q "event=session_moved call_id=$cid from_session=$sess4 " "$T_DIR/n3/junction.log" &&
	pass "4: n3 logged the move" || fail "4: no event=session_moved for $cid in n3's log"

ep_wait c4sc

# ---- 5. failures and the database down --------------------------------------
# sc1a's call to a user with no binding: 404, and its dialog and session end
aff_call c5nobody n2 n2 1 1 0 "sc@$CL_DOMAIN" nobody -i "${SC_IP[sc1a]}"
cid=$(psql_q "SELECT call_id FROM dialog WHERE call_id LIKE 'c5nobody-%'")
for _ in $(seq 30); do
	got=$(psql_q "SELECT d.state || ' ' || (s.ended_at IS NOT NULL) FROM dialog d JOIN session s ON s.id = d.session_id WHERE d.call_id = '$cid'")
	[ "$got" = "ended true" ] && break
	sleep 0.1
done
[ -n "$cid" ] && [ "$got" = "ended true" ] && grep -q "received 'SIP/2.0 404" "$T_DIR/c5nobody.err" &&
	pass "5: a controller's call answered 404 ended its dialog and session" ||
	fail "5: the 404'd call: '$cid' '$got'"
# invite_raw CALL-ID: an endpoint's INVITE for svc@cc.test
invite_raw() {
	cat <<MSG
INVITE sip:svc@$CL_DOMAIN SIP/2.0
Via: SIP/2.0/UDP 127.0.2.41:5999;branch=z9hG4bK$RANDOM$RANDOM;rport
Max-Forwards: 70
From: <sip:cust@pstn.test>;tag=$RANDOM
To: <sip:svc@$CL_DOMAIN>
Call-ID: $1
CSeq: 1 INVITE
Contact: <sip:cust@127.0.2.41:5999>
Content-Length: 0

MSG
}
pg_stop
sleep 0.5
invite_raw "c5down-$RANDOM@test" | "$SIPSEND" -v -P -w 3000 -a 127.0.2.41 udp "${NODE_IP[n1]}" "$NPORT" - >"$T_DIR/c5down.out" 2>&1
grep -q "^SIP/2.0 503" "$T_DIR/c5down.out" && grep -qi "^Retry-After: [0-9]" "$T_DIR/c5down.out" &&
	pass "5: database down: a new call got 503 with Retry-After" ||
	{ fail "5: database down: the answer was not 503 with Retry-After"; head -5 "$T_DIR/c5down.out" >&2; }
cl_msgs
[ "$(awk '$6 ~ /^c5down-/' "$T_DIR/msgs.txt" | wc -l)" = 0 ] &&
	pass "5: database down: the call reached no SC (never sent unrecorded)" ||
	fail "5: database down: the unrecorded call reached a SC"
pg_restart || fail "5: postgres restart"
ok=0
for _ in $(seq 30); do
	aff_call c5up n1 n1 1 1 0 "cust@pstn.test" svc -i 127.0.2.42
	[ "$EP_OK" = 1 ] && { ok=1; break; }
	sleep 0.5
done
[ $ok = 1 ] && [ -n "$(psql_q "SELECT call_id FROM dialog WHERE call_id LIKE 'c5up-%' AND state = 'ended'")" ] &&
	pass "5: database back: calls are recorded and complete again" ||
	fail "5: database back: no call completed"

# ---- 6. the SC named by the Request-URI -------------------------------------
for s in sc1a sc1b; do
	sc_stop "$s"
	SC_OPTS=(-set contact "sc@${SC_IP[$s]}:$SCPORT")
	sc_start "$s"
done
# (the active member, whichever it is now, answers the probes again)
sleep 1.5
aff_call c6 n1 n2 20 20 0 "cust@pstn.test" svc -i 127.0.2.43
[ "$EP_OK" = 20 ] && [ "$EP_FAILED" = 0 ] &&
	pass "6: 20 calls to SCs giving their address completed, in-dialog requests through n2" ||
	fail "6: successful=$EP_OK failed=$EP_FAILED of 20"
cl_msgs
got=$(awk '$6 ~ /^c6-/ && $3 != "OPTIONS" { if (!(($6, $1) in s)) { s[$6, $1] = 1; n[$6]++ }
		if ($3 == "BYE") bye[$6] = 1 }
	END { for (c in n) { k++; if (n[c] != 1) split_++; if (!(c in bye)) nobye++ }
		print k + 0, split_ + 0, nobye + 0 }' "$T_DIR/msgs.txt")
[ "$got" = "20 0 0" ] && pass "6: every request of each call reached one SC" ||
	fail "6: calls, split over SCs, without a BYE at the SC: $got"
# one 100 Trying for an INVITE sent once (§16.2): n1's stateless 100,
# sent while the dialog is recorded, is the one its transaction keeps to
# resend, not followed by one of its own (SIPp drops such a second 100
# unseen, as a retransmission: sipsend prints every response)
invite_raw "c7-$RANDOM@test" | "$SIPSEND" -w 5000 -a 127.0.2.44 udp "${NODE_IP[n1]}" "$NPORT" - >"$T_DIR/c7.out" 2>&1
n100=$(grep -c "^SIP/2.0 100 " "$T_DIR/c7.out")
[ "$n100" = 1 ] && grep -q "^SIP/2.0 200 " "$T_DIR/c7.out" &&
	pass "6: an INVITE recorded by n1 got one 100 Trying, then its 200" ||
	{ fail "6: an INVITE through n1 got $n100 100 Trying"; cat "$T_DIR/c7.out" >&2; }

ep_wait c2sc
for a in agent1 agent2; do kill "${AGENT_PID[$a]}" 2>/dev/null; done
for n in $CL_NODES; do cl_node_stop "$n"; done
# the counters each node logged as it stopped
rs=0
for n in $CL_NODES; do
	v=$(grep -o 'event=counters.* affinity_route_set=[0-9]*' "$T_DIR/$n/junction.log" | tail -n 1 | sed 's/.*=//')
	rs=$((rs + ${v:-0}))
done
[ "$rs" = 20 ] && pass "6: the nodes found those 20 dialogs' SC by the Request-URI (route_set 20 in all)" ||
	fail "6: affinity_route_set summed over the nodes: $rs, not 20"
cl_done
