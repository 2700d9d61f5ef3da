#!/usr/bin/env bash
# [auth] mode = http (registrar/httpauth.c): Junction challenges with its
# own nonces and asks an HTTP service, here auth_http_server.py (a real
# HTTP/1.1 server that knows the passwords and checks each digest), about
# the credentials that pass its own checks. A right password registers (a
# row in binding), a wrong one gets the service's 403 and no binding; a
# service answering 500, or slower than http_timeout, gives the endpoint
# 503 with Retry-After; a missing, stale or replayed credential costs no
# HTTP request; a nonce the service accepted is accepted again for nc=2
# without asking, and with the service's ha1 a wrong response on that
# nonce is refused without asking. INVITEs under [auth] invite go through
# the same service (407, then relayed), and a retransmission of one
# while it is being asked about is not asked about again. Every request
# the service got matches admin/openapi.json's HttpAuthRequest.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg.sh"
. "$(dirname "$0")/admin_lib.sh"
need ss psql python3 curl sipsak md5sum sha256sum
python3 -c 'import jsonschema' 2>/dev/null || skip "python3-jsonschema not installed"

PORT=$(free_port)
CATCH=$(free_port)
HPORT=$(free_port)
APORT=$(free_port)
HLOG=$T_DIR/http.log
: >"$HLOG"

python3 "$TOP_SRCDIR/tests/integration/openapi_check.py" "$TOP_SRCDIR/admin/openapi.json" /dev/null >"$T_DIR/openapi.out" 2>&1 &&
	pass "admin/openapi.json still checks out" || { fail "admin/openapi.json"; cat "$T_DIR/openapi.out" >&2; }

# The service: alice and frank get a bare 200, bob's 200 carries his ha1,
# gus's his ha1 beside 64 KiB of padding (more than Junction reads).
python3 "$TOP_SRCDIR/tests/integration/auth_http_server.py" --port "$HPORT" --log "$HLOG" \
	--openapi "$TOP_SRCDIR/admin/openapi.json" alice:secret bob:hunter2:ha1 eve:right frank:pw6 gus:pw7:big \
	>"$T_DIR/http.out" 2>&1 &
T_PIDS+=("$!")
wait_for 5 bound tcp "$HPORT" || { fail "the HTTP service did not start"; cat "$T_DIR/http.out" >&2; t_done; }

write_config "$PORT"
pg_start || { fail "postgres"; t_done; }
AUTH_MODE=http AUTH_EXTRA="http_url = http://127.0.0.1:$HPORT/auth
http_timeout = 500
http_connections = 2
invite = yes
algorithms = md5 sha256" pg_config
admin_config "$APORT"
pg_migrate >/dev/null || { fail "migrate"; t_done; }
"$JUNCTION" --check-config -c "$T_DIR/junction.conf" >/dev/null && pass "--check-config: mode = http" || fail "--check-config"
start_junction "$PORT" || { fail "start"; t_done; }
grep -q 'event=auth_http_started' "$T_DIR/junction.log" && pass "HTTP pool started" || fail "no event=auth_http_started"

rows() { psql_q "SELECT count(*) FROM binding WHERE aor = 'sip:$1@localhost'"; }
asked() { wc -l <"$HLOG"; }
asked_more_than() { [ "$(asked)" -gt "$1" ]; }
# last FIELD: a member of the last request the service got
last() { python3 -c 'import json,sys; e=json.loads(open(sys.argv[1]).readlines()[-1]); print(json.dumps(e["body"][sys.argv[2]]) if sys.argv[2] == "contact" else e["body"][sys.argv[2]])' "$HLOG" "$1"; }
control() { curl -s -o /dev/null -X POST -d "{\"mode\": \"$1\", \"sleep\": ${2:-0}}" "http://127.0.0.1:$HPORT/control"; }
H() { printf '%s' "$1" | ${ALG_SUM:-md5sum} | cut -d' ' -f1; }

# sipsak's register / unregister cycle with digest auth, through the service
sipsak -U -s sip:alice@localhost -r "$PORT" -u alice -a secret -C "sip:alice@127.0.0.1:$CATCH" >"$T_DIR/sipsak.out" 2>&1 &&
	pass "sipsak -U -a: registered through the service" || { fail "sipsak registration"; cat "$T_DIR/sipsak.out" >&2; }

CSEQ=0
CALLID=ah-$RANDOM$RANDOM
# regmsg USER [Authorization value]
regmsg() {
	printf 'REGISTER sip:localhost SIP/2.0\n'
	printf 'Via: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKh%s%s;rport\n' "$CSEQ" "$RANDOM"
	printf 'Max-Forwards: 70\nFrom: <sip:%s@localhost>;tag=a1\nTo: <sip:%s@localhost>\n' "$1" "$1"
	printf 'Call-ID: %s-%s\nCSeq: %s REGISTER\nContact: <sip:%s@127.0.0.1:%s>\n' "$CALLID" "$1" "$CSEQ" "$1" "$CATCH"
	[ -n "${2:-}" ] && printf 'Authorization: %s\n' "$2"
	printf 'Content-Length: 0\n\n'
}
send() { "$SIPSEND" -v -w 3000 udp 127.0.0.1 "$PORT" - | tr -d '\r' >"$T_DIR/${1:-last}"; }
status_of() { head -n 1 "$T_DIR/${1:-last}" | cut -d' ' -f2; }
# challenge USER: a fresh 401; sets NONCE
challenge() {
	CSEQ=$((CSEQ + 1))
	regmsg "$1" | send chal
	NONCE=$(grep -m1 '^WWW-Authenticate: ' "$T_DIR/chal" | sed 's/.*nonce="\([^"]*\)".*/\1/')
}
# answer USER PASSWORD NC [ALG [FILE]]: an authorized REGISTER for the last nonce
answer() {
	local ha1 ha2 resp alg=${4:-MD5}
	ha1=$(H "$1:localhost:$2")
	ha2=$(H "REGISTER:sip:localhost")
	resp=$(H "$ha1:$NONCE:$3:c0ffee:auth:$ha2")
	CSEQ=$((CSEQ + 1))
	regmsg "$1" "Digest username=\"$1\", realm=\"localhost\", nonce=\"$NONCE\", uri=\"sip:localhost\", response=\"$resp\", algorithm=$alg, qop=auth, nc=$3, cnonce=\"c0ffee\"" | send "${5:-last}"
}

# --- no credentials: Junction's own challenge, no HTTP request -----------
n=$(asked)
challenge alice
[ "$(status_of chal)" = 401 ] && pass "no credentials: 401" || fail "no credentials: $(status_of chal)"
grep -q '^WWW-Authenticate: Digest realm="localhost", nonce="[0-9a-f]\{64\}", qop="auth", algorithm=MD5$' "$T_DIR/chal" &&
	grep -q '^WWW-Authenticate: Digest .*algorithm=SHA-256$' "$T_DIR/chal" &&
	pass "challenge with Junction's nonce, MD5 and SHA-256" || { fail "challenge"; cat "$T_DIR/chal" >&2; }
[ "$(asked)" = "$n" ] && pass "a challenge costs no HTTP request" || fail "HTTP requests for a challenge: $(($(asked) - n))"

# --- the right password: 200 and a binding, one HTTP request -------------
answer alice secret 00000001
[ "$(status_of)" = 200 ] && pass "right password: 200" || { fail "right password: $(status_of)"; cat "$T_DIR/last" >&2; }
[ "$(rows alice)" = 1 ] && pass "alice's binding stored" || fail "alice rows=$(rows alice)"
[ "$(asked)" = $((n + 1)) ] && pass "one HTTP request" || fail "HTTP requests: $(($(asked) - n))"
ok=1
for kv in username=alice realm=localhost "nonce=$NONCE" uri=sip:localhost algorithm=MD5 qop=auth nc=00000001 \
	cnonce=c0ffee method=REGISTER request_uri=sip:localhost aor=sip:alice@localhost \
	"contact=[\"<sip:alice@127.0.0.1:$CATCH>\"]"; do
	[ "$(last "${kv%%=*}")" = "${kv#*=}" ] || { ok=0; log "request: ${kv%%=*} is $(last "${kv%%=*}"), expected ${kv#*=}"; }
done
[[ $(last source) =~ ^udp:127\.0\.0\.1:[0-9]+$ ]] || { ok=0; log "request: source is $(last source)"; }
[ "$ok" = 1 ] && pass "the request's JSON: credentials, method, URIs, AOR, Contact, source" || fail "the request's JSON"

# --- the same nonce, nc=2: accepted without asking (positive cache) ------
n=$(asked)
answer alice secret 00000002
[ "$(status_of)" = 200 ] && pass "nonce reused with nc=2: 200" || fail "nc 2: $(status_of)"
[ "$(asked)" = "$n" ] && pass "nc=2 accepted without an HTTP request" || fail "nc=2 asked the service"
# and nc=2 once more: a replay, refused before any HTTP request
CSEQ=$((CSEQ - 1))
answer alice secret 00000002
[ "$(status_of)" = 401 ] && grep -q 'stale=true' "$T_DIR/last" && pass "replayed nc: 401 stale=true" || fail "replay: $(status_of)"
[ "$(asked)" = "$n" ] && pass "the replay cost no HTTP request" || fail "the replay asked the service"
# a forged nonce: a plain challenge, nothing asked
challenge alice
NONCE=${NONCE%?}$([ "${NONCE: -1}" = 0 ] && echo 1 || echo 0)
answer alice secret 00000001
[ "$(status_of)" = 401 ] && ! grep -q stale "$T_DIR/last" && [ "$(asked)" = "$n" ] &&
	pass "forged nonce: 401, not stale, not asked" || fail "forged nonce: $(status_of), asked $(($(asked) - n))"

# --- a wrong password: the service's 403, no binding --------------------
n=$(asked)
challenge eve
answer eve wrong 00000001
[ "$(status_of)" = 403 ] && pass "wrong password: 403" || { fail "wrong password: $(status_of)"; cat "$T_DIR/last" >&2; }
[ "$(rows eve)" = 0 ] && pass "no binding for a wrong password" || fail "eve registered"
[ "$(asked)" = $((n + 1)) ] && pass "the wrong password was asked about once" || fail "HTTP requests: $(($(asked) - n))"

# --- the service fails: 503 with Retry-After ---------------------------
control 500
challenge frank
answer frank pw6 00000001
[ "$(status_of)" = 503 ] && grep -q '^Retry-After: [0-9]' "$T_DIR/last" &&
	pass "service answers 500: 503 with Retry-After" || { fail "service 500: $(status_of)"; cat "$T_DIR/last" >&2; }
[ "$(rows frank)" = 0 ] && pass "no binding when the service failed" || fail "frank registered"

# --- the service is too slow: 503 once http_timeout (500 ms) is over ----
ports_before_timeout=$(python3 -c 'import json,sys; print(len({json.loads(l).get("port") for l in open(sys.argv[1])}))' "$HLOG")
control sleep 1.5
n=$(asked)
challenge frank
t0=$(now_ms)
answer frank pw6 00000001
t1=$(now_ms)
[ "$(status_of)" = 503 ] && grep -q '^Retry-After: [0-9]' "$T_DIR/last" &&
	pass "service too slow: 503 with Retry-After after $((t1 - t0)) ms" || { fail "slow service: $(status_of)"; cat "$T_DIR/last" >&2; }
[ $((t1 - t0)) -lt 1400 ] && pass "the 503 did not wait for the slow answer" || fail "the 503 took $((t1 - t0)) ms"
wait_for 3 asked_more_than "$n" # the slow answer is logged once it is sent
control normal
[ "$(rows frank)" = 0 ] && pass "no binding when the service was too slow" || fail "frank registered"
challenge frank
answer frank pw6 00000001
[ "$(status_of)" = 200 ] && [ "$(rows frank)" = 1 ] && pass "the service is back: 200" || fail "after the timeout: $(status_of)"
[ "$ports_before_timeout" -le 2 ] && pass "at most http_connections (2) connections, kept alive" ||
	fail "$ports_before_timeout client connections before the timeout (http_connections = 2)"

# --- the service returns ha1: later requests on the nonce verified here --
n=$(asked)
challenge bob
answer bob hunter2 00000001
[ "$(status_of)" = 200 ] && [ "$(asked)" = $((n + 1)) ] && pass "bob (the service returns ha1): 200" || fail "bob: $(status_of)"
answer bob not-it 00000002
[ "$(status_of)" = 401 ] && ! grep -q stale "$T_DIR/last" && pass "cached ha1: a wrong response on the nonce is refused" ||
	{ fail "cached ha1, wrong response: $(status_of)"; cat "$T_DIR/last" >&2; }
answer bob hunter2 00000003
[ "$(status_of)" = 200 ] && pass "cached ha1: the right response on the nonce, nc=3: 200" || fail "cached ha1, nc 3: $(status_of)"
[ "$(asked)" = $((n + 1)) ] && pass "neither asked the service" || fail "HTTP requests: $(($(asked) - n))"

# an answer longer than Junction reads: the status still decides, the
# connection stays usable, and the ha1 in it is not used
n=$(asked)
challenge gus
answer gus pw7 00000001
[ "$(status_of)" = 200 ] && pass "a 200 with a 64 KiB body: 200" || fail "big body: $(status_of)"
answer gus wrong 00000002
[ "$(status_of)" = 200 ] && [ "$(asked)" = $((n + 1)) ] && pass "its ha1 was not read: nc=2 accepted on the nonce alone" ||
	fail "big body, nc 2: $(status_of), asked $(($(asked) - n))"

# --- SHA-256 (RFC 8760) ----------------------------------------------------
ALG_SUM=sha256sum
challenge alice
answer alice secret 00000001 SHA-256
[ "$(status_of)" = 200 ] && [ "$(last algorithm)" = SHA-256 ] && pass "SHA-256: 200" || fail "SHA-256: $(status_of)"
ALG_SUM=md5sum

# --- [auth] invite: 407, then the service, then relayed --------------------
invite() { # BRANCH [Proxy-Authorization value]
	printf 'INVITE sip:carol@127.0.0.1:%s SIP/2.0\n' "$CATCH"
	printf 'Via: SIP/2.0/UDP 127.0.0.1:%s;branch=z9hG4bKhi%s;rport\n' "$CATCH" "$1"
	printf 'Max-Forwards: 70\nFrom: <sip:alice@localhost>;tag=i1\nTo: <sip:carol@127.0.0.1>\n'
	printf 'Call-ID: inv-%s-%s\nCSeq: 1 INVITE\n' "$CALLID" "$1"
	[ -n "${2:-}" ] && printf 'Proxy-Authorization: %s\n' "$2"
	printf 'Content-Length: 0\n\n'
}
# invite_creds BRANCH: a 407 for a fresh INVITE, and credentials for its nonce
invite_creds() {
	local ha1 ha2 resp
	invite "$1" | "$SIPSEND" -v -w 3000 -b "$CATCH" udp 127.0.0.1 "$PORT" - | tr -d '\r' >"$T_DIR/inv407"
	NONCE=$(grep -m1 '^Proxy-Authenticate: ' "$T_DIR/inv407" | sed 's/.*nonce="\([^"]*\)".*/\1/')
	ha1=$(H "alice:localhost:secret")
	ha2=$(H "INVITE:sip:carol@127.0.0.1:$CATCH")
	resp=$(H "$ha1:$NONCE:00000001:beef:auth:$ha2")
	CREDS="Digest username=\"alice\", realm=\"localhost\", nonce=\"$NONCE\", uri=\"sip:carol@127.0.0.1:$CATCH\", response=\"$resp\", algorithm=MD5, qop=auth, nc=00000001, cnonce=\"beef\""
}
n=$(asked)
invite_creds 1
[ "$(status_of inv407)" = 407 ] && [ "$(asked)" = "$n" ] && pass "INVITE without credentials: 407, not asked" || fail "INVITE: $(status_of inv407)"
invite 2 "$CREDS" | "$SIPSEND" -P -v -c 1 -w 3000 -b "$CATCH" udp 127.0.0.1 "$PORT" - | tr -d '\r' >"$T_DIR/inv2"
head -n 1 "$T_DIR/inv2" | grep -q "^INVITE sip:carol@127.0.0.1:$CATCH SIP/2.0" && ! grep -q '^Proxy-Authorization' "$T_DIR/inv2" &&
	pass "authenticated INVITE relayed, credentials consumed" || { fail "INVITE not relayed"; cat "$T_DIR/inv2" >&2; }
[ "$(asked)" = $((n + 1)) ] && [ "$(last method)" = INVITE ] && [ "$(last aor)" = sip:alice@localhost ] &&
	[ "$(last contact)" = "[]" ] && [ "$(last request_uri)" = "sip:carol@127.0.0.1:$CATCH" ] &&
	pass "INVITE asked about: method, From as aor, no Contact" || fail "INVITE's request: $(tail -n 1 "$HLOG")"

# A retransmission while the service thinks: not asked about again, and
# not refused as a replay (it would get a 407 stale=true).
control sleep 0.3
invite_creds 3
n=$(asked)
invite 4 "$CREDS" | "$SIPSEND" -R 2 -P -v -c 3 -w 1500 -b "$CATCH" udp 127.0.0.1 "$PORT" - | tr -d '\r' >"$T_DIR/inv4"
control normal
grep -q "^INVITE sip:carol@127.0.0.1:$CATCH SIP/2.0" "$T_DIR/inv4" && ! grep -q '^SIP/2.0 4' "$T_DIR/inv4" &&
	pass "INVITE sent twice while asked about: relayed, no 407" || { fail "INVITE retransmitted"; cat "$T_DIR/inv4" >&2; }
wait_for 2 asked_more_than "$n"
sleep 0.3
[ "$(asked)" = $((n + 1)) ] && pass "one HTTP request for both copies" || fail "HTTP requests: $(($(asked) - n))"

# --- what the service got, and the counters -----------------------------
python3 - "$HLOG" <<'PY' >"$T_DIR/schema.out" 2>&1 && pass "every request matches HttpAuthRequest (admin/openapi.json), as application/json" || { fail "requests vs the schema"; cat "$T_DIR/schema.out" >&2; }
import json, sys
bad = 0
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e.get("schema_errors") or e.get("error") or e.get("content_type") != "application/json":
        print(line.strip()); bad += 1
sys.exit(1 if bad else 0)
PY
curl -s "http://127.0.0.1:$APORT/metrics" >"$T_DIR/metrics"
metric() { sed -n "s/^junction_auth_http_total{outcome=\"$1\"} \([0-9]*\)$/\1/p" "$T_DIR/metrics"; }
[ "$(metric accepted)" -ge 6 ] && [ "$(metric rejected)" -ge 1 ] && [ "$(metric failed)" -ge 2 ] && [ "$(metric cached)" -ge 2 ] &&
	pass "junction_auth_http_total: accepted $(metric accepted), rejected $(metric rejected), failed $(metric failed), cached $(metric cached)" ||
	{ fail "junction_auth_http_total"; grep junction_auth_http "$T_DIR/metrics" >&2; }
grep -q 'event=auth_http_failed status=500' "$T_DIR/junction.log" && grep -q 'event=auth_http_failed status=0 error="[^"]*timed out' "$T_DIR/junction.log" &&
	pass "the service's failures are logged" || fail "failures not logged"

# SIGTERM while the service thinks: the REGISTER is still answered.
control sleep 0.4
challenge alice
arrived=$(cat "$HLOG.in" 2>/dev/null | wc -l)
answer alice secret 00000001 MD5 atstop &
sender=$!
# with the service now, for 0.4 s (a fixed wait lost the race on a busy CI)
wait_for 3 eval '[ "$(wc -l <"$HLOG.in")" -gt "$arrived" ]' || fail "the service never got the REGISTER"
stop_junction && pass "SIGTERM while asking: exit 0" || fail "exit status"
wait "$sender"
[ "$(status_of atstop)" = 200 ] && pass "the REGISTER being asked about at SIGTERM was answered: 200" ||
	{ fail "at SIGTERM: $(status_of atstop)"; cat "$T_DIR/atstop" >&2; }
t_done
