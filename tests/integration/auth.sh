#!/usr/bin/env bash
# Digest authentication (RFC 3261 §22, RFC 7616, RFC 8760) against
# subscribers provisioned in SQL: sipsak registers with the right password;
# a wrong password and an unknown user get the same fresh challenge; a
# replayed nonce-count is refused while the next count is accepted; SHA-256
# works like MD5; nobody registers someone else's AOR; with [auth] invite,
# INVITEs from our users are challenged with 407 and relayed once answered,
# without their credentials.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg.sh"
need ss psql sipsak md5sum sha256sum

PORT=$(free_port)
CATCH=$(free_port)
write_config "$PORT"
pg_start || { fail "postgres"; t_done; }
AUTH_EXTRA="invite = yes
algorithms = md5 sha256" pg_config
pg_migrate >/dev/null || { fail "migrate"; t_done; }
psql_q "SELECT junction_add_subscriber('alice', 'localhost', 'secret')" >/dev/null
psql_q "SELECT junction_add_subscriber('bob', 'localhost', 'hunter2')" >/dev/null
start_junction "$PORT" || { fail "start"; t_done; }

rows() { psql_q "SELECT count(*) FROM binding WHERE aor = 'sip:$1@localhost'"; }

# sipsak's register / unregister cycle (-U) with digest auth
sipsak -U -s sip:alice@localhost -r "$PORT" -u alice -a secret -C "sip:alice@127.0.0.1:$CATCH" >"$T_DIR/sipsak.out" 2>&1 &&
	pass "sipsak -U -a: registered" || { fail "sipsak registration"; cat "$T_DIR/sipsak.out" >&2; }
# refused means: sipsak answered the challenge and got 401 again (not a
# timeout, not a dead daemon)
sipsak -vv -U -s sip:alice@localhost -r "$PORT" -u alice -a wrong >"$T_DIR/sipsak-bad.out" 2>&1
if [ "$(last_status <"$T_DIR/sipsak-bad.out")" = 401 ] && grep -q '^Authorization: Digest username="alice"' "$T_DIR/sipsak-bad.out" &&
	grep -q 'request already contains (Proxy-) Authorization, but received 40' "$T_DIR/sipsak-bad.out"; then
	pass "sipsak with a wrong password refused: 401 to its credentials"
else
	fail "sipsak with a wrong password: last response $(last_status <"$T_DIR/sipsak-bad.out")"
	tail -n 20 "$T_DIR/sipsak-bad.out" >&2
fi

H() { printf '%s' "$1" | ${ALG_SUM:-md5sum} | cut -d' ' -f1; }

CSEQ=0
CALLID=auth-$RANDOM$RANDOM
# regmsg USER [Authorization value]
regmsg() {
	printf 'REGISTER sip:localhost SIP/2.0\n'
	printf 'Via: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKa%s%s;rport\n' "$CSEQ" "$RANDOM"
	printf 'Max-Forwards: 70\nFrom: <sip:%s@localhost>;tag=a1\nTo: <sip:%s@localhost>\n' "$1" "$1"
	printf 'Call-ID: %s\nCSeq: %s REGISTER\nContact: <sip:%s@127.0.0.1:%s>\n' "$CALLID" "$CSEQ" "$1" "$CATCH"
	[ -n "${2:-}" ] && printf 'Authorization: %s\n' "$2"
	printf 'Content-Length: 0\n\n'
}
send() { "$SIPSEND" -v -w 3000 udp 127.0.0.1 "$PORT" - | tr -d '\r' >"$T_DIR/${1:-last}"; }
status_of() { head -n 1 "$T_DIR/${1:-last}" | cut -d' ' -f2; }

# challenge USER: a fresh 401; sets NONCE (first challenge = preferred algorithm)
challenge() {
	CSEQ=$((CSEQ + 1))
	regmsg "$1" | send chal
	NONCE=$(grep -m1 '^WWW-Authenticate: ' "$T_DIR/chal" | sed 's/.*nonce="\([^"]*\)".*/\1/')
}
# answer USER PASSWORD NC [ALG]: an authorized REGISTER for the last nonce
answer() {
	local ha1 ha2 resp alg=${4:-MD5}
	ha1=$(H "$1:localhost:$2")
	ha2=$(H "REGISTER:sip:localhost")
	resp=$(H "$ha1:$NONCE:$3:c0ffee:auth:$ha2")
	CSEQ=$((CSEQ + 1))
	regmsg "$1" "Digest username=\"$1\", realm=\"localhost\", nonce=\"$NONCE\", uri=\"sip:localhost\", response=\"$resp\", algorithm=$alg, qop=auth, nc=$3, cnonce=\"c0ffee\"" | send "${5:-last}"
}

challenge bob
[ "$(status_of chal)" = 401 ] && pass "no credentials: 401" || fail "no credentials: $(status_of chal)"
grep -q '^WWW-Authenticate: Digest realm="localhost", nonce="[0-9a-f]\{64\}", qop="auth", algorithm=MD5$' "$T_DIR/chal" &&
	pass "MD5 challenge with qop=auth" || { fail "MD5 challenge"; cat "$T_DIR/chal" >&2; }
grep -q '^WWW-Authenticate: Digest .*algorithm=SHA-256$' "$T_DIR/chal" && pass "SHA-256 challenge offered" || fail "no SHA-256 challenge"

answer bob hunter2 00000001
[ "$(status_of)" = 200 ] && pass "digest MD5: 200" || { fail "digest MD5: $(status_of)"; cat "$T_DIR/last" >&2; }
[ "$(rows bob)" = 1 ] && pass "bob's binding stored" || fail "bob rows=$(rows bob)"

# The same nonce with the same nc again: a replay
CSEQ=$((CSEQ - 1)); saved=$CSEQ
answer bob hunter2 00000001
[ "$(status_of)" = 401 ] && pass "replayed nonce-count refused" || fail "replay: $(status_of)"
grep -q 'stale=true' "$T_DIR/last" && pass "replay answered stale=true" || fail "replay not stale"
# the next nc of the same nonce is fine (RFC 7616 §3.3)
answer bob hunter2 00000002
[ "$(status_of)" = 200 ] && pass "next nonce-count accepted" || fail "nc 2: $(status_of)"

# Wrong password and unknown user: the same answer (no enumeration)
challenge bob
answer bob not-it 00000001 MD5 wrongpw
challenge mallory
answer mallory anything 00000001 MD5 unknown
norm() { grep -v -e '^Via' -e '^From' -e '^To' -e '^Call-ID' -e '^CSeq' -e '^----' "$T_DIR/$1" | sed 's/nonce="[^"]*"/nonce=N/'; }
[ "$(status_of wrongpw)" = 401 ] && [ "$(norm wrongpw)" = "$(norm unknown)" ] &&
	pass "wrong password and unknown user answered alike" ||
	{ fail "answers differ"; diff <(norm wrongpw) <(norm unknown) >&2; }
[ "$(rows mallory)" = 0 ] && pass "no binding for the unknown user" || fail "mallory registered"

# SHA-256 (RFC 8760)
ALG_SUM=sha256sum
challenge alice
answer alice secret 00000001 SHA-256
[ "$(status_of)" = 200 ] && pass "digest SHA-256: 200" || { fail "SHA-256: $(status_of)"; cat "$T_DIR/last" >&2; }
ALG_SUM=md5sum

# alice's credentials for bob's AOR: forbidden
challenge bob
ha1=$(H "alice:localhost:secret"); ha2=$(H "REGISTER:sip:localhost")
resp=$(H "$ha1:$NONCE:00000001:c0ffee:auth:$ha2")
CSEQ=$((CSEQ + 1))
regmsg bob "Digest username=\"alice\", realm=\"localhost\", nonce=\"$NONCE\", uri=\"sip:localhost\", response=\"$resp\", algorithm=MD5, qop=auth, nc=00000001, cnonce=\"c0ffee\"" | send
[ "$(status_of)" = 403 ] && pass "another user's AOR: 403" || fail "AOR owner: $(status_of)"

# A forged nonce (MAC broken) is just a new challenge
challenge bob
last=${NONCE: -1}
[ "$last" = 0 ] && flip=1 || flip=0
NONCE=${NONCE%?}$flip
answer bob hunter2 00000001
[ "$(status_of)" = 401 ] && ! grep -q stale "$T_DIR/last" && pass "forged nonce: 401, not stale" || fail "forged nonce: $(status_of)"

# A disabled subscriber is refused like a wrong password, at once (the
# NOTIFY drops the cached entry on every node)
# (within 3 s: far below cache_ttl, 60 s, so only the NOTIFY can do it)
# tries USER PASSWORD STATUS: a challenge and its answer get STATUS
tries() { challenge "$1" && answer "$1" "$2" 00000001 && [ "$(status_of)" = "$3" ]; }
psql_q "UPDATE subscriber SET enabled = false WHERE username = 'bob'" >/dev/null
wait_for 3 tries bob hunter2 401
[ "$(status_of)" = 401 ] && pass "disabled subscriber refused" || fail "disabled: $(status_of)"
psql_q "UPDATE subscriber SET enabled = true WHERE username = 'bob'" >/dev/null
psql_q "SELECT junction_set_password('bob', 'localhost', 'newpass')" >/dev/null
wait_for 3 tries bob newpass 200
[ "$(status_of)" = 200 ] && pass "new password works at once" || fail "new password: $(status_of)"
challenge bob
answer bob hunter2 00000001
[ "$(status_of)" = 401 ] && pass "old password refused at once" || fail "old password: $(status_of)"
[ "$(psql_q "SELECT count(*) FROM subscriber WHERE ha1_md5 LIKE '%newpass%' OR ha1_sha256 LIKE '%newpass%'")" = 0 ] &&
	[ "$(psql_q "SELECT ha1_md5 FROM subscriber WHERE username = 'bob'")" = "$(H 'bob:localhost:newpass')" ] &&
	pass "only HA1 values stored" || fail "subscriber row"

# [auth] invite = yes: INVITE from our user gets 407, then goes through
invite() {
	printf 'INVITE sip:carol@127.0.0.1:%s SIP/2.0\n' "$CATCH"
	printf 'Via: SIP/2.0/UDP 127.0.0.1:%s;branch=z9hG4bKinv%s;rport\n' "$CATCH" "$1"
	printf 'Max-Forwards: 70\nFrom: <sip:alice@localhost>;tag=i1\nTo: <sip:carol@127.0.0.1>\n'
	printf 'Call-ID: inv-%s\nCSeq: %s INVITE\n' "$CALLID" "$1"
	[ -n "${2:-}" ] && printf 'Proxy-Authorization: %s\n' "$2"
	printf 'Content-Length: 0\n\n'
}
invite 1 | "$SIPSEND" -v -w 3000 -b "$CATCH" udp 127.0.0.1 "$PORT" - >"$T_DIR/inv1"
[ "$(status_of inv1)" = 407 ] && pass "INVITE without credentials: 407" || fail "INVITE: $(status_of inv1)"
NONCE=$(grep -m1 '^Proxy-Authenticate: ' "$T_DIR/inv1" | sed 's/.*nonce="\([^"]*\)".*/\1/')
[ -n "$NONCE" ] && pass "407 carries Proxy-Authenticate" || fail "no Proxy-Authenticate"
ha1=$(H "alice:localhost:secret"); ha2=$(H "INVITE:sip:carol@127.0.0.1:$CATCH")
resp=$(H "$ha1:$NONCE:00000001:beef:auth:$ha2")
invite 2 "Digest username=\"alice\", realm=\"localhost\", nonce=\"$NONCE\", uri=\"sip:carol@127.0.0.1:$CATCH\", response=\"$resp\", algorithm=MD5, qop=auth, nc=00000001, cnonce=\"beef\"" |
	"$SIPSEND" -P -v -c 1 -w 3000 -b "$CATCH" udp 127.0.0.1 "$PORT" - >"$T_DIR/inv2"
head -n 1 "$T_DIR/inv2" | grep -q "^INVITE sip:carol@127.0.0.1:$CATCH SIP/2.0" && pass "authenticated INVITE relayed" ||
	{ fail "authenticated INVITE not relayed"; cat "$T_DIR/inv2" >&2; }
# (about the INVITE that was relayed: nothing relayed is no pass)
head -n 1 "$T_DIR/inv2" | grep -q "^INVITE " && ! grep -q '^Proxy-Authorization' "$T_DIR/inv2" &&
	pass "credentials consumed (RFC 3261 §22.3)" || fail "our credentials were relayed, or nothing was"

stop_junction && pass "SIGTERM exit 0" || fail "exit status"
t_done
