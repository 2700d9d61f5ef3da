#!/usr/bin/env bash
# Binding notifications since schema 11 (sql/011_binding_notify_cached.sql)
# and the location cache that keeps no "nowhere" answer (404/480) since
# then (src/registrar/location.c).
#
# A. In SQL, one psql session that LISTENs on junction_binding: exactly
#    which INSERT, DELETE and UPDATE statements on binding notify, and with
#    which payload (the AOR), each statement on its own:
#     1. the first binding of an AOR: none;
#     2. a second binding of it: one, the AOR;
#     3. two bindings of a new AOR in one INSERT: none; one INSERT for an
#        AOR with live bindings and a new one: one, the first AOR only;
#     4. a binding beside an expired one only (and the expired one
#        itself): none; a live and an expired one in one INSERT beside a
#        live one: one (an expired new row is not "added"); an expired
#        binding refreshed back to life (UPDATE): one;
#     5. removal of a live binding: one; of an expired one: none; of three
#        live ones of one AOR in one statement: one; of several AORs' rows
#        in one statement: one per AOR that had a live row;
#     6. an UPDATE that only moves expires_at later: none; one that changes
#        the contact: one;
#     7. junction_register() and junction_register_batch() (the proxy's
#        calls) for new AORs, and a refresh: none; a second contact through
#        each: one, its AOR.
#    Which check catches what: schema 10's per-row trigger (every INSERT
#    and DELETE notifies) fails 1, 3 (new AOR), 4, 5 (expired), 7 (new
#    AORs); an INSERT trigger that never notifies fails 2, 3 (live AOR)
#    and 7 (second contact). PostgreSQL folds a transaction's identical
#    notifications into one, so "one per AOR per statement" in 5 is also
#    checked in pg_trigger (0: statement level, the old trigger gone).
# B. Two nodes, n1 (A, 127.0.0.2) and n2 (B, 127.0.0.3), on one
#    PostgreSQL (cluster_lib.sh, small: no Session Controllers, [auth]
#    mode = none, location_cache_ttl = 30 s); alice@cc.test is a
#    subscriber; her phones are SIPp UASes (uas.xml): c1 on 127.0.2.1 and
#    c2 on 127.0.2.2; calls are SIPp UACs (uac_domain.xml) through n2.
#    A psql session LISTENs on junction_binding meanwhile (L).
#     1. alice has no binding: an INVITE through n2 gets 480, twice, and
#        the second is looked up in the database again (n2's
#        junction_location_cache_hits_total does not move). alice
#        registers c1 (q=0.5) through n1, and a call through n2 at once
#        (within 1 s, and within the 30 s TTL of the 480) reaches c1, from
#        the database again.
#        This is what catches location.c caching a 480/404 again (the
#        change reverted): the second 480 would be a cache hit, and the
#        call after the REGISTER would get the cached 480, since the first
#        binding tells nobody (checked in L1: no notification).
#     2. a second call through n2 reaches c1 from n2's cache (a hit).
#        alice registers c2 (q=1.0) through n1, c1 staying: the next call
#        through n2 goes to c2 (tried first; c1 gets nothing of it), looked
#        up in the database (no hit). Up to 3 s of such calls are allowed
#        for the notification to reach n2 (it travels on its own
#        connection), far below the 30 s TTL: without the notification
#        (an INSERT trigger that misses "another live binding", or a node
#        that does not drop the entry) every call then goes to c1.
#    L. the listener heard nothing for alice in 1, exactly one
#       notification (sip:alice@cc.test) for c2's REGISTER in 2.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg.sh"
. "$(dirname "$0")/cluster_lib.sh"
need ss psql sipp curl

export AUTH_MODE=none
CL_AUTH_EXTRA=""
CL_CLUSTER=""
CL_ROUTING=""
REG_EXTRA="location_cache_ttl = 30"
cl_setup # PostgreSQL, schema, subscriber alice@cc.test, NPORT

psql_bn() { psql -X -A -t -h "$PG_DIR" -p "$PGPORT" -U postgres -d junction -v ON_ERROR_STOP=1 "$@"; }

# ---- A. notifications of statements on binding -----------------------------
# (before the nodes start: their sweepers would remove the expired rows)
trg=$(psql_q "SELECT string_agg(tgname || ':' || CASE WHEN tgtype & 1 = 1 THEN 'row' ELSE 'statement' END,
	' ' ORDER BY tgname) FROM pg_trigger WHERE tgrelid = 'binding'::regclass AND tgname LIKE 'binding_notify%'")
[ "$trg" = "binding_notify_delete:statement binding_notify_insert:statement binding_notify_update:row" ] &&
	pass "A0: binding's notify triggers: INSERT and DELETE per statement, UPDATE per row" ||
	fail "A0: binding's notify triggers: '$trg'"

# ins AOR CONTACT [INTERVAL]: a VALUES row of binding (expires in 1 hour)
ins() { printf "('%s', '%s', now() + interval '%s', 'bn-%s', 1, 'sqltest')" "$1" "$2" "${3:-1 hour}" "$RANDOM"; }
INS="INSERT INTO binding (aor, contact, expires_at, call_id, cseq, node) VALUES"
# reg AOR CALL-ID CSEQ CONTACT EXPIRES: junction_register() with one contact
reg() {
	printf "SELECT string_agg(status || ' ' || contact, ',' ORDER BY contact) FROM junction_register('%s', '%s', %s,
		ARRAY['%s'], ARRAY[%s], ARRAY[1.0], ARRAY[NULL]::text[], ARRAY[NULL]::integer[], false,
		'udp:192.0.2.1:5060', NULL, 'bn-test', 'sqltest', 10);\n" "$@"
}
# batch AOR1 CONTACT1 AOR2 CONTACT2: junction_register_batch(), two
# REGISTERs of one contact each
batch() {
	printf "SELECT string_agg(reg || ' ' || status || ' ' || contact, ',' ORDER BY reg, contact)
		FROM junction_register_batch(ARRAY['%s', '%s'], ARRAY['b1-%s', 'b2-%s'], ARRAY[1, 1]::bigint[],
		ARRAY['%s', '%s'], ARRAY[600, 600], ARRAY[1.0, 1.0], ARRAY[NULL, NULL]::text[],
		ARRAY[NULL, NULL]::integer[], ARRAY[false, false], ARRAY['udp:192.0.2.1:5060', 'udp:192.0.2.1:5060'],
		ARRAY[NULL, NULL]::text[], ARRAY['bn-test', 'bn-test'], ARRAY['sqltest', 'sqltest'],
		ARRAY[10, 10], ARRAY[1, 1]);\n" "$1" "$3" "$RANDOM" "$RANDOM" "$2" "$4"
}
{
	echo "LISTEN junction_binding;"
	echo "\\echo == 1"
	echo "$INS $(ins sip:a@t.test sip:a@192.0.2.1);"
	echo "\\echo == 2"
	echo "$INS $(ins sip:a@t.test sip:a@192.0.2.2);"
	echo "\\echo == 3new"
	echo "$INS $(ins sip:b@t.test sip:b@192.0.2.1), $(ins sip:b@t.test sip:b@192.0.2.2);"
	echo "\\echo == 3mixed"
	echo "$INS $(ins sip:a@t.test sip:a@192.0.2.3), $(ins sip:c@t.test sip:c@192.0.2.1);"
	echo "\\echo == 4expired"
	echo "$INS $(ins sip:d@t.test sip:d@192.0.2.1 '-1 minute');"
	echo "\\echo == 4beside"
	echo "$INS $(ins sip:d@t.test sip:d@192.0.2.2);"
	echo "\\echo == 4mixed"
	echo "$INS $(ins sip:m@t.test sip:m@192.0.2.1);"
	echo "\\echo == 4mixed2"
	echo "$INS $(ins sip:m@t.test sip:m@192.0.2.2), $(ins sip:m@t.test sip:m@192.0.2.3 '-1 minute');"
	echo "\\echo == 4revive"
	echo "UPDATE binding SET expires_at = now() + interval '1 hour' WHERE aor = 'sip:m@t.test' AND contact = 'sip:m@192.0.2.3';"
	echo "\\echo == 5live"
	echo "DELETE FROM binding WHERE aor = 'sip:a@t.test' AND contact = 'sip:a@192.0.2.3';"
	echo "\\echo == 5expired"
	echo "DELETE FROM binding WHERE aor = 'sip:d@t.test' AND contact = 'sip:d@192.0.2.1';"
	echo "\\echo == 5three-setup"
	echo "$INS $(ins sip:h@t.test sip:h@192.0.2.1), $(ins sip:h@t.test sip:h@192.0.2.2), $(ins sip:h@t.test sip:h@192.0.2.3), $(ins sip:i@t.test sip:i@192.0.2.1 '-1 minute');"
	echo "\\echo == 5three"
	echo "DELETE FROM binding WHERE aor = 'sip:h@t.test';"
	echo "\\echo == 5several"
	echo "DELETE FROM binding WHERE aor IN ('sip:b@t.test', 'sip:c@t.test', 'sip:i@t.test');"
	echo "\\echo == 6later"
	echo "UPDATE binding SET expires_at = expires_at + interval '1 hour' WHERE aor = 'sip:a@t.test' AND contact = 'sip:a@192.0.2.1';"
	echo "\\echo == 6contact"
	echo "UPDATE binding SET contact = 'sip:a@192.0.2.9' WHERE aor = 'sip:a@t.test' AND contact = 'sip:a@192.0.2.1';"
	echo "\\echo == 7register"
	reg sip:e@t.test e-1 1 sip:e@192.0.2.1 600
	echo "\\echo == 7refresh"
	reg sip:e@t.test e-1 2 sip:e@192.0.2.1 900
	echo "\\echo == 7batch"
	batch sip:f@t.test sip:f@192.0.2.1 sip:g@t.test sip:g@192.0.2.1
	echo "\\echo == 7register2"
	reg sip:e@t.test e-2 1 sip:e@192.0.2.2 600
	echo "\\echo == 7batch2"
	batch sip:f@t.test sip:f@192.0.2.2 sip:k@t.test sip:k@192.0.2.1
	echo "\\echo == end"
} >"$T_DIR/notify.sql"
psql_bn -f "$T_DIR/notify.sql" >"$T_DIR/notify.out" 2>&1 || { fail "A: psql"; cat "$T_DIR/notify.out" >&2; }
# what psql printed for each part, one line each, "PART<TAB>LINE" (a
# notification as "notify PAYLOAD"; "PART<TAB>" marks the part's start)
awk '
	/^== / { part = $2; print part "\t"; next }
	/^Asynchronous notification "junction_binding" with payload ".*" received from server process with PID [0-9]+\.$/ {
		p = $0; sub(/^[^"]*"[^"]*" with payload "/, "", p); sub(/" received from server process.*$/, "", p)
		print part "\tnotify " p; next
	}
	$0 != "" && part != "" { print part "\t" $0 }' "$T_DIR/notify.out" >"$T_DIR/notify.parts"
# part PART WANT WHAT: what psql printed for PART, sorted, joined by ";",
# is exactly WANT
part() {
	local got
	grep -q "^$1	\$" "$T_DIR/notify.parts" || { fail "A$3: part $1 did not run"; return; }
	got=$(awk -F '\t' -v p="$1" '$1 == p && $2 != "" { print $2 }' "$T_DIR/notify.parts" | LC_ALL=C sort | paste -sd ';')
	[ "$got" = "$2" ] && pass "A$3 [$2]" || fail "A$3: expected '$2', got '$got'"
}
part 1 "INSERT 0 1" "1 first binding of sip:a@t.test: no notification"
part 2 "INSERT 0 1;notify sip:a@t.test" "2 second binding of sip:a@t.test: one notification"
part 3new "INSERT 0 2" "3 two bindings of a new AOR in one INSERT: no notification"
part 3mixed "INSERT 0 2;notify sip:a@t.test" "3 one INSERT for sip:a (live bindings) and new sip:c: one, sip:a only"
part 4expired "INSERT 0 1" "4 an expired binding of a new AOR: no notification"
part 4beside "INSERT 0 1" "4 a binding beside an expired one only: no notification"
part 4mixed "INSERT 0 1" "4 first binding of sip:m@t.test: no notification"
part 4mixed2 "INSERT 0 2;notify sip:m@t.test" "4 a live and an expired binding beside sip:m's live one: one (the expired new row is not counted as added)"
part 4revive "UPDATE 1;notify sip:m@t.test" "4 an expired binding of sip:m refreshed back to life: one notification"
part 5live "DELETE 1;notify sip:a@t.test" "5 removal of a live binding: one notification"
part 5expired "DELETE 1" "5 removal of an expired binding: no notification"
part 5three-setup "INSERT 0 4" "5 three bindings of new sip:h, an expired one of new sip:i, one INSERT: no notification"
part 5three "DELETE 3;notify sip:h@t.test" "5 removal of three live bindings of sip:h in one statement: one notification"
part 5several "DELETE 4;notify sip:b@t.test;notify sip:c@t.test" "5 removal of sip:b's 2, sip:c's 1 and sip:i's expired one: one each for b and c"
part 6later "UPDATE 1" "6 UPDATE moving expires_at later: no notification"
part 6contact "UPDATE 1;notify sip:a@t.test" "6 UPDATE changing the contact: one notification"
part 7register "200 sip:e@192.0.2.1" "7 junction_register() of a new AOR: no notification"
part 7refresh "200 sip:e@192.0.2.1" "7 junction_register() refreshing it (later expiry): no notification"
part 7batch "1 200 sip:f@192.0.2.1,2 200 sip:g@192.0.2.1" "7 junction_register_batch() of two new AORs: no notification"
part 7register2 "200 sip:e@192.0.2.1,200 sip:e@192.0.2.2;notify sip:e@t.test" "7 junction_register() of a second contact: one notification"
part 7batch2 "1 200 sip:f@192.0.2.1,1 200 sip:f@192.0.2.2,2 200 sip:k@192.0.2.1;notify sip:f@t.test" \
	"7 junction_register_batch() of a second contact of sip:f and a new sip:k: one, sip:f only"
grep -q "^end	\$" "$T_DIR/notify.parts" || fail "A: the psql script did not run to its end"
[ "$T_FAILS" -eq 0 ] || cat "$T_DIR/notify.out" >&2
psql_q "DELETE FROM binding WHERE aor LIKE '%@t.test'" >/dev/null

# ---- B. two nodes ------------------------------------------------------------
APORT=$(free_port)
P1=$(free_port)
P2=$(free_port)
UACPORT=$(free_port)
C1="sip:alice@127.0.2.1:$P1"
C2="sip:alice@127.0.2.2:$P2"
AOR="sip:alice@$CL_DOMAIN"
A=n1 B=n2

# L: a psql session LISTENing through part B; lsn_mark NAME runs a query
# whose answer ("mark NAME") ends what the session printed up to there
mkfifo "$T_DIR/lsn.in"
psql_bn <"$T_DIR/lsn.in" >"$T_DIR/lsn.out" 2>&1 &
T_PIDS+=("$!")
exec 7>"$T_DIR/lsn.in"
echo "LISTEN junction_binding;" >&7
lsn_mark() {
	echo "SELECT 'mark $1';" >&7
	wait_for 5 grep -qx "mark $1" "$T_DIR/lsn.out" || fail "L: the listening psql did not answer mark $1"
}
lsn_mark start
# lsn_heard FROM TO: the notifications heard between two marks. psql
# prints those that came while it ran a query after the query's answer:
# they are the lines after "mark TO" (up to the next mark, made here).
lsn_heard() {
	lsn_mark "$2-end"
	awk -v to="mark $2" '$0 == to { on = 1; next } /^mark / { on = 0 }
		on && /^Asynchronous notification/ { p = $0; sub(/^[^"]*"[^"]*" with payload "/, "", p); sub(/" received.*$/, "", p); printf "%s%s", (n++ ? " " : ""), p }' \
		"$T_DIR/lsn.out"
}

for n in $A $B; do
	cl_node_start "$n" "[admin]" "listen = ${NODE_IP[$n]}:$APORT" "token = bn-admin-token-0123456789abcdef"
done
# each node writes its row in node right after its LISTEN (store_bg.c)
nodes_listen() { [ "$(psql_q "SELECT count(*) FROM node WHERE name IN ('$A', '$B')")" = 2 ]; }
wait_for 10 nodes_listen || { fail "the nodes' listeners did not come up"; cl_done; }

# alice's phones: SIPp UASes, their messages logged where cl_msgs reads them
for u in c1:127.0.2.1:$P1 c2:127.0.2.2:$P2; do
	IFS=: read -r name ip port <<<"$u"
	sipp -sf "$SCEN/uas.xml" -i "$ip" -p "$port" -nostdin -trace_msg -message_file "$T_DIR/sc/$name.1.msg" \
		-trace_err -error_file "$T_DIR/$name.err" >"$T_DIR/$name.out" 2>&1 &
	T_PIDS+=("$!")
	wait_udp "$ip" "$port" || { fail "alice's UAS $name did not start"; cl_done; }
done

# metrics of node B: LOOKUPS, HITS
metric() { curl -s --max-time 3 "http://${NODE_IP[$B]}:$APORT/metrics" | awk -v k="$1" '$1 == k { print $2 }'; }
snap() {
	LOOKUPS=$(metric junction_location_lookups_total)
	HITS=$(metric junction_location_cache_hits_total)
	[ -n "$LOOKUPS" ] && [ -n "$HITS" ] || fail "no location counters in node $B's /metrics"
}
# moved: "+LOOKUPS/+HITS" since snap
moved() { echo "+$(($(metric junction_location_lookups_total) - LOOKUPS))/+$(($(metric junction_location_cache_hits_total) - HITS))"; }

# register CONTACT Q: REGISTER through node A (a Call-ID per phone); the
# answer in $T_DIR/last
register() {
	printf 'REGISTER sip:%s SIP/2.0\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKbr%s%s;rport\nMax-Forwards: 70\nFrom: <%s>;tag=br%s\nTo: <%s>\nCall-ID: bn-reg-%s-%s\nCSeq: 1 REGISTER\nContact: <%s>;q=%s\nExpires: 600\nContent-Length: 0\n\n' \
		"$CL_DOMAIN" "$RANDOM" "$RANDOM" "$AOR" "$RANDOM" "$AOR" "$2" "$$" "$1" "$2" |
		"$SIPSEND" -P -v -w 3000 udp "${NODE_IP[$A]}" "$NPORT" - >"$T_DIR/last" 2>&1
}
# invite: an INVITE for alice through node B (sipsend); the status
invite() {
	printf 'INVITE %s SIP/2.0\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKbi%s%s;rport\nMax-Forwards: 70\nFrom: <sip:bob@example.net>;tag=bi%s\nTo: <%s>\nCall-ID: bn-inv-%s%s\nCSeq: 1 INVITE\nContent-Length: 0\n\n' \
		"$AOR" "$RANDOM" "$RANDOM" "$RANDOM" "$AOR" "$RANDOM" "$RANDOM" |
		"$SIPSEND" -P -v -w 3000 udp "${NODE_IP[$B]}" "$NPORT" - 2>&1 | first_status
}
# call LABEL: a SIPp call to alice through node B (Call-ID LABEL-...);
# rc, ok (1: completed), where (which UAS got its INVITE: "c1=1", ...)
call() {
	timeout 20 sipp -sf "$SCEN/uac_domain.xml" -s alice -set domain "$CL_DOMAIN" -i 127.0.2.10 -p "$UACPORT" \
		-rsa "${NODE_IP[$B]}:$NPORT" -m 1 -nostdin -timeout 10s -timeout_error -cid_str "$1-%u-%p@%s" \
		-trace_stat -stf "$T_DIR/$1.csv" -trace_err -error_file "$T_DIR/$1.err" \
		"${NODE_IP[$B]}:$NPORT" >"$T_DIR/$1.out" 2>&1
	rc=$?
	ok=$(tail -n 1 "$T_DIR/$1.csv" 2>/dev/null | cut -d';' -f16)
	cl_msgs
	where=$(inv_summary "$1")
}

# ---- B1. no "nowhere" cached --------------------------------------------------
snap
st=$(invite)
[ "$st" = 480 ] && [ "$(moved)" = +1/+0 ] && pass "B1: INVITE through $B, alice not registered: 480, looked up" ||
	fail "B1: INVITE through $B, alice not registered: status $st, lookups/hits $(moved)"
snap
st=$(invite)
d=$(moved)
[ "$st" = 480 ] && [ "$d" = +1/+0 ] && pass "B1: a second INVITE: 480, looked up again, not from the cache ($d)" ||
	fail "B1: a second INVITE: status $st, lookups/hits $d (+1/+0 expected: the 480 must not be cached)"
T480=$(now_ms)
lsn_mark b1-before
register "$C1" 0.5
TREG=$(now_ms)
head -n 1 "$T_DIR/last" | grep -q '^SIP/2.0 200 ' && grep -q "^Contact: <$C1>;expires=" "$T_DIR/last" &&
	[ "$(psql_q "SELECT node || ' ' || q FROM active_bindings WHERE aor = '$AOR'")" = "$A 0.500" ] &&
	pass "B1: alice registered c1 (q=0.5) through $A, her first binding" ||
	{ fail "B1: REGISTER of c1 through $A"; cat "$T_DIR/last" >&2; }
snap
TCALL=$(now_ms)
call b1
d=$(moved)
[ $rc -eq 0 ] && [ "$ok" = 1 ] && [ "$where" = c1=1 ] &&
	pass "B1: a call through $B $((TCALL - TREG)) ms after the REGISTER ($((TCALL - T480)) ms after the 480) reached c1" ||
	{ fail "B1: the call through $B after the REGISTER: rc=$rc successful=$ok INVITEs at '$where'"; tail -c 1000 "$T_DIR/b1.err" >&2; }
[ $((TCALL - TREG)) -lt 1000 ] && [ $((TCALL - T480)) -lt 25000 ] &&
	pass "B1: that call within 1 s of the REGISTER, well inside the 30 s TTL of the 480" ||
	fail "B1: the call came $((TCALL - TREG)) ms after the REGISTER, $((TCALL - T480)) ms after the 480"
[ "$d" = +1/+0 ] && pass "B1: that call was looked up in the database ($d)" || fail "B1: that call: lookups/hits $d, not +1/+0"
lsn_mark b1-after
heard=$(lsn_heard b1-before b1-after)
[ -z "$heard" ] && pass "L1: alice's first binding (REGISTER through $A) notified nobody" ||
	fail "L1: alice's first binding notified: $heard"

# ---- B2. a second binding: the cached answer is dropped ------------------------
snap
call b2a
d=$(moved)
[ $rc -eq 0 ] && [ "$ok" = 1 ] && [ "$where" = c1=1 ] && [ "$d" = +1/+1 ] &&
	pass "B2: a second call through $B reached c1 from $B's cache ($d)" ||
	fail "B2: the second call through $B: rc=$rc successful=$ok INVITEs at '$where', lookups/hits $d (+1/+1 expected)"
lsn_mark b2-before
register "$C2" 1.0
head -n 1 "$T_DIR/last" | grep -q '^SIP/2.0 200 ' && grep -q "^Contact: <$C2>;expires=.*;q=1.000" "$T_DIR/last" &&
	grep -q "^Contact: <$C1>;expires=.*;q=0.500" "$T_DIR/last" &&
	pass "B2: alice registered c2 (q=1.0) through $A, c1 (q=0.5) stays" ||
	{ fail "B2: REGISTER of c2 through $A"; cat "$T_DIR/last" >&2; }
# the notification reaches n2 on its own connection: calls for up to 3 s
# (a tenth of the TTL), the first normally; the one to c2 ends the wait
T0=$(now_ms)
tries=0
while :; do
	tries=$((tries + 1))
	snap
	call "b2b$tries"
	d=$(moved)
	[ "$where" = c2=1 ] && break
	log "B2: call $tries after c2's REGISTER: INVITEs at '$where' (rc=$rc)"
	[ $(($(now_ms) - T0)) -lt 3000 ] || break
done
[ $rc -eq 0 ] && [ "$ok" = 1 ] && [ "$where" = c2=1 ] &&
	pass "B2: call $tries through $B after c2's REGISTER ($(($(now_ms) - T0)) ms) went to c2 only (c1 got nothing of it)" ||
	fail "B2: calls through $B for $(($(now_ms) - T0)) ms after c2's REGISTER: the last rc=$rc successful=$ok INVITEs at '$where'"
[ "$tries" = 1 ] || log "B2: note: the first call after the REGISTER came before $B had dropped alice"
[ "$d" = +1/+0 ] && pass "B2: that call was looked up in the database ($d)" || fail "B2: that call: lookups/hits $d, not +1/+0"
lsn_mark b2-after
heard=$(lsn_heard b2-before b2-after)
[ "$heard" = "$AOR" ] && pass "L2: alice's second binding notified once: $heard" ||
	fail "L2: alice's second binding: notifications '$heard', not exactly one $AOR"

exec 7>&-
for n in $A $B; do cl_node_stop "$n"; done
cl_done
