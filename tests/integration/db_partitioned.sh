#!/usr/bin/env bash
# The registrar on a binding table hash-partitioned 8 ways by AOR
# (bench/partition-binding.sql, doc/SCALING.md), which must need no change
# to Junction: 40 AORs registered, one Contact removed (Expires: 0) and
# one AOR cleared (Contact: *), and exactly those rows gone, none of the
# other AORs' (a removal by ctid, a row's place in its own partition,
# would take the rows at that place in every partition); then the whole
# of registrar.sh (RFC 3665 flows, ordering, max contacts, the location
# service, the sweeper) run on a partitioned table of its own.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg.sh"
need ss psql

export PG_PARTITIONED=8
PORT=$(free_port)
write_config "$PORT"
pg_start || { fail "postgres"; t_done; }
AUTH_MODE=none REG_EXTRA="max_contacts = 3" pg_config
pg_migrate >/dev/null && pass "migrated, binding in 8 hash partitions" || { fail "migrate and partition"; t_done; }
start_junction "$PORT" || { fail "start"; t_done; }

# reg USER CSEQ CONTACT-HEADER EXPIRES
reg() {
	printf 'REGISTER sip:localhost SIP/2.0\n'
	printf 'Via: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKp%s%s;rport\n' "$2" "$RANDOM$RANDOM"
	printf 'Max-Forwards: 70\nFrom: <sip:%s@localhost>;tag=p%s\nTo: <sip:%s@localhost>\n' "$1" "$RANDOM" "$1"
	printf 'Call-ID: part-%s\nCSeq: %s REGISTER\n%s\nExpires: %s\nContent-Length: 0\n\n' "$1" "$2" "$3" "$4"
}
ok=0
for i in $(seq 40); do
	reg "u$i" 1 "Contact: <sip:u$i@127.0.0.1:5070>" 3600 |
		"$SIPSEND" -P -v -w 3000 udp 127.0.0.1 "$PORT" - 2>/dev/null | head -n 1 | grep -q '^SIP/2.0 200 ' && ok=$((ok + 1))
done
[ "$ok" = 40 ] && pass "40 AORs registered" || fail "$ok of 40 REGISTERs answered 200"
spread=$(psql_q "SELECT count(DISTINCT tableoid) FROM binding")
[ "$spread" -ge 6 ] && pass "their rows in $spread of the 8 partitions" || fail "rows in $spread partitions only"

reg u1 2 "Contact: <sip:u1@127.0.0.1:5070>" 0 | "$SIPSEND" -P -v -w 3000 udp 127.0.0.1 "$PORT" - >"$T_DIR/r1" 2>&1
reg u2 2 "Contact: *" 0 | "$SIPSEND" -P -v -w 3000 udp 127.0.0.1 "$PORT" - >"$T_DIR/r2" 2>&1
head -n 1 "$T_DIR/r1" | grep -q '^SIP/2.0 200 ' && head -n 1 "$T_DIR/r2" | grep -q '^SIP/2.0 200 ' &&
	pass "u1's Contact removed, u2 cleared: 200" || fail "removals: $(head -n 1 "$T_DIR/r1") / $(head -n 1 "$T_DIR/r2")"
left=$(psql_q "SELECT string_agg(split_part(aor, '@', 1), ' ' ORDER BY id) FROM binding")
want=$(for i in $(seq 3 40); do printf 'sip:u%s ' "$i"; done)
[ "$left " = "$want" ] && pass "exactly u3..u40 left (38 rows): no other AOR's binding removed" ||
	fail "bindings left: $left"

stop_junction && pass "SIGTERM exit 0" || fail "exit status"

# registrar.sh whole, on its own partitioned table
if TMPDIR=$T_DIR bash "$(dirname "$0")/registrar.sh" >"$T_DIR/registrar.out" 2>&1; then
	pass "registrar.sh passes on a partitioned binding ($(grep -c '] ok: ' "$T_DIR/registrar.out") checks)"
else
	fail "registrar.sh on a partitioned binding:"
	grep 'FAIL' "$T_DIR/registrar.out" >&2
fi
t_done
