#!/usr/bin/env bash
# The security checks against two real nodes sharing a real PostgreSQL
# (security_checks.py has the SIP side): the relay policy (403 for a
# stranger's request to another domain, 407 for our users, trusted
# sources and open_relay let it through), the per-source rate limit and
# the authentication-failure bans of addresses and users, bans shared
# between the nodes through the ban table within a second, /v1/bans, and
# digest credentials bound to their Request-URI, their node and their
# client. Then the same bans seen from SQL and junctionctl.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg.sh"
. "$(dirname "$0")/admin_lib.sh"
need ss psql curl python3

P1=$(free_port)
P2=$(free_port)
PU=$(free_port)
AP1=$(free_port)
AP2=$(free_port)
SECURITY="trusted = 127.0.0.2/32
rate_limit = 30
ban_time = 60
auth_failures = 3
auth_failures_user = 4
ban_action = reply" write_config "$P1"
sed -i "s|^listen = .*|listen = udp:127.0.0.1:$P1|" "$T_DIR/junction.conf"
pg_start || { fail "postgres"; t_done; }
pg_config
printf '\n[node]\nname = sec1\n' >>"$T_DIR/junction.conf"
admin_config "$AP1"
pg_migrate >/dev/null || { fail "migrate"; t_done; }
psql_q "SELECT junction_add_subscriber(u, 'example.com', u || '-pw') FROM unnest(ARRAY['alice', 'bob', 'erin']) u" >/dev/null ||
	fail "subscribers"

# node 2: the same database, open_relay, and [auth] invite (it challenges
# every INVITE of our users, so that credentials can be captured there)
sed -e "s|127.0.0.1:$P1|127.0.0.1:$P2|; s|127.0.0.1:$AP1|127.0.0.1:$AP2|; s|^name = sec1|name = sec2|" \
	-e 's|^ban_action = reply|ban_action = reply\nopen_relay = yes|' \
	-e 's|^\[auth\]|[auth]\ninvite = yes|' "$T_DIR/junction.conf" >"$T_DIR/junction2.conf"

start_junction "$P1" || { fail "start node 1"; t_done; }
"$JUNCTION" -c "$T_DIR/junction2.conf" >>"$T_DIR/junction2.log" 2>&1 &
T_PIDS+=($!)
ADMIN_URL=http://127.0.0.1:$AP2 wait_admin || { fail "node 2"; t_done; }
ADMIN_URL=http://127.0.0.1:$AP1 wait_admin || { fail "node 1 admin"; t_done; }

P1=$P1 P2=$P2 PU=$PU A1=http://127.0.0.1:$AP1 A2=http://127.0.0.1:$AP2 TOKEN=$ADMIN_TOKEN \
	python3 "$TOP_SRCDIR/tests/integration/security_checks.py" >"$T_DIR/checks.log" 2>&1
rc=$?
while IFS= read -r line; do
	case $line in
	ok:*) pass "${line#ok: }" ;;
	FAIL:*) fail "${line#FAIL: }" ;;
	*) log "$line" ;;
	esac
done <"$T_DIR/checks.log"
[ $rc -eq 0 ] || [ "$T_FAILS" -gt 0 ] || fail "security_checks.py exited $rc"

# the database's view: the manual ban, and the lifted ones
n=$(psql_q "SELECT count(*) FROM active_bans WHERE target = '2001:db8::7' AND reason = 'manual' AND node = 'sec1'")
[ "$n" = 1 ] && pass "active_bans has the manual ban" || fail "active_bans: $n rows for 2001:db8::7"
n=$(psql_q "SELECT count(*) FROM ban WHERE target = '127.0.0.50' AND reason = 'rate_limit' AND lifted_at IS NOT NULL")
[ "$n" = 1 ] && pass "the ban table has the lifted rate_limit ban" || fail "ban rows for 127.0.0.50: $n"
# an operator's ban in SQL reaches the nodes
psql_q "SELECT junction_ban('address', '192.0.2.99', 300)" >/dev/null || fail "junction_ban()"
ok=0
for _ in $(seq 40); do
	ADMIN_URL=http://127.0.0.1:$AP2 api GET /v1/bans/192.0.2.99
	[ "$STATUS" = 200 ] && { ok=1; break; }
	sleep 0.05
done
[ $ok = 1 ] && pass "a ban made in SQL is on node 2 within 2 s" || fail "SQL ban not on node 2 ($STATUS)"
out=$(JUNCTION_URL=http://127.0.0.1:$AP1 JUNCTION_TOKEN=$ADMIN_TOKEN "$JUNCTIONCTL" ban list address)
grep -q '192.0.2.99 .*manual' <<<"$out" && grep -q '2001:db8::7' <<<"$out" &&
	pass "junctionctl ban list shows them" || fail "junctionctl ban list: $out"
JUNCTION_URL=http://127.0.0.1:$AP1 JUNCTION_TOKEN=$ADMIN_TOKEN "$JUNCTIONCTL" ban rm 192.0.2.99 >/dev/null &&
	pass "junctionctl ban rm" || fail "junctionctl ban rm"
JUNCTION_URL=http://127.0.0.1:$AP1 JUNCTION_TOKEN=$ADMIN_TOKEN "$JUNCTIONCTL" ban rm 192.0.2.99 >/dev/null 2>&1
[ $? = 1 ] && pass "junctionctl ban rm of no ban: exit 1" || fail "junctionctl ban rm twice did not exit 1"
n=$(psql_q "SELECT count(*) FROM active_bans WHERE target = '192.0.2.99'")
[ "$n" = 0 ] && pass "lifted in the database too" || fail "192.0.2.99 still active in SQL"

# the counters
curl -s "http://127.0.0.1:$AP1/metrics" >"$T_DIR/metrics1"
grep -Eq '^junction_security_rejected_total\{reason="relay_denied"\} [1-9]' "$T_DIR/metrics1" &&
	grep -Eq '^junction_bans_total\{cause="rate_limit"\} 1$' "$T_DIR/metrics1" &&
	grep -Eq '^junction_bans_total\{cause="auth_failures"\} 2$' "$T_DIR/metrics1" &&
	pass "metrics count the relay denials and the bans" ||
	fail "metrics: $(grep -E 'security_rejected|bans_total' "$T_DIR/metrics1")"
[ -f "$T_DIR/junction2.log" ] && cat "$T_DIR/junction2.log" >>"$T_DIR/junction.log"
t_done
