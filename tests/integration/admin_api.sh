#!/usr/bin/env bash
# The REST admin API against the running daemon and a real PostgreSQL,
# with curl: tokens (missing, wrong, other scheme), every resource and its
# error paths (bad JSON, unknown and missing fields, 404, 405, 409, 413,
# 422), pagination over more than a page and the filters, a subscriber
# created through the API registering over SIP (sipsak) and refused once
# disabled, a binding deleted through the API no longer reached (480),
# the idle timeout, HTTPS with a token file, and every answer checked
# against admin/openapi.json.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg.sh"
. "$(dirname "$0")/admin_lib.sh"
need ss psql curl jq sipsak md5sum openssl
[ -x "$PY3" ] && "$PY3" -c 'import jsonschema' 2>/dev/null || { log "SKIP: python3-jsonschema not installed"; exit 77; }

PORT=$(free_port)
APORT=$(free_port)
CATCH=$(free_port)
write_config "$PORT"
pg_start || { fail "postgres"; t_done; }
pg_config
ADMIN_EXTRA=$'max_body = 8192\nrequest_timeout = 2' admin_config "$APORT"
pg_migrate >/dev/null || { fail "migrate"; t_done; }
start_junction "$PORT" || { fail "start"; t_done; }
wait_admin || { fail "admin API"; t_done; }
grep -q "event=admin_listening listen=127.0.0.1:$APORT tls=no" "$T_DIR/junction.log" &&
	pass "admin server listening on loopback" || fail "no admin_listening line"

# ---- tokens ----------------------------------------------------------------
TOKEN= api GET /v1/status
expect 401 unauthorized "no token"
grep -qi '^WWW-Authenticate: Bearer realm="junction"' "$T_DIR/headers" && pass "401 names the Bearer scheme" || fail "no WWW-Authenticate"
TOKEN=${ADMIN_TOKEN%?}X api GET /v1/status
expect 401 unauthorized "wrong token of the right length"
grep -qi 'error="invalid_token"' "$T_DIR/headers" && pass "a wrong token is invalid_token (RFC 6750)" || fail "no invalid_token"
TOKEN=short api GET /v1/subscribers
expect 401 unauthorized "short token"
TOKEN= api GET /v1/status "" -H "Authorization: Basic $(printf 'admin:%s' "$ADMIN_TOKEN" | base64 -w0)"
expect 401 unauthorized "Basic instead of Bearer"
TOKEN= api GET /v1/nothing
expect 401 unauthorized "unknown /v1 path without a token (no hint of what exists)"
TOKEN= api POST /v1/subscribers '{"username": "x"}'
expect 401 unauthorized "POST without a token"
api GET /v1/status "" -H "Authorization: bearer   $ADMIN_TOKEN"
expect 200 "scheme is case-insensitive, blanks tolerated"
for open in /healthz /readyz /metrics; do
	TOKEN= api GET "$open"
	expect 200 "$open needs no token"
done
grep -q '^text/plain; version=0.0.4' <<<"$CTYPE" && pass "/metrics is the Prometheus text format" || fail "/metrics type $CTYPE"

# ---- status, stats, probes, routing --------------------------------------------
api GET /v1/status
expect 200 "status"
[ "$(jqv .database.state)" = up ] && [ "$(jqv '.database.latency_ms > 0')" = true ] && pass "status: database up with a latency" || fail "status database: $(jqv .database)"
[ "$(jqv '.listeners | map(.listen) | join(" ")')" = "udp:127.0.0.1:$PORT tcp:127.0.0.1:$PORT udp:[::1]:$PORT tcp:[::1]:$PORT" ] &&
	pass "status: listeners" || fail "status listeners: $(jqv .listeners)"
[ "$(jqv '.workers | length')" = 2 ] && [ "$(jqv '.workers[0] | has("queue_depth")')" = true ] && pass "status: workers and queue depths" || fail "status workers"
[ "$(jqv .mode)" = stateful ] && [ "$(jqv .version)" = "$("$JUNCTION" --version | cut -d' ' -f2)" ] && pass "status: mode and version" || fail "status mode/version"
api GET /v1/status?verbose=1
expect 400 bad_request "status with an unknown parameter"
api GET /v1/stats
expect 200 "stats"
[ "$(jqv '.counters | has("rx_messages")')" = true ] && [ "$(jqv '.requests_received.OPTIONS > 0')" = true ] && pass "stats: counters, OPTIONS counted" || fail "stats: $(head -c 300 "$T_DIR/body")"
api GET /readyz
[ "$(jqv .status)" = ready ] && [ "$(jqv .checks.database)" = up ] && pass "readyz: ready, database up" || fail "readyz: $(cat "$T_DIR/body")"
api GET /v1/openapi.json
expect 200 "openapi.json served"
cmp -s "$T_DIR/body" "$OPENAPI" && pass "the served document is admin/openapi.json" || fail "openapi.json differs"
api GET /v1/nothing
expect 404 not_found "unknown path"
api GET /nothing
expect 404 not_found "unknown path outside /v1"
api PUT /v1/subscribers '{}'
expect 405 method_not_allowed "PUT on the collection"
grep -qi '^Allow: GET, HEAD, POST' "$T_DIR/headers" && pass "405 lists Allow" || fail "no Allow header"
api DELETE /v1/status
expect 405 method_not_allowed "DELETE /v1/status"
api POST /healthz '{}'
expect 405 method_not_allowed "POST /healthz"
api HEAD /v1/status "" -I
[ "$STATUS" = 200 ] && pass "HEAD answered like GET" || fail "HEAD: $STATUS"

# ---- subscribers ---------------------------------------------------------------
api POST /v1/subscribers '{"username": "alice", "domain": "Example.COM", "password": "Alice-pw-1"}'
expect 201 "create alice"
grep -qi '^Location: /v1/subscribers/alice@example.com' "$T_DIR/headers" && pass "201 has a Location" || fail "Location"
[ "$(jqv '.username + " " + .domain + " " + .aor + " " + (.enabled | tostring)')" = "alice example.com sip:alice@example.com true" ] &&
	pass "created: username, domain (lowercase), aor, enabled" || fail "created: $(cat "$T_DIR/body")"
grep -qiE 'password|ha1|Alice-pw-1' "$T_DIR/body" && fail "the answer holds a secret" || pass "no password or HA1 in the answer"
[ "$(psql_q "SELECT ha1_md5 = md5('alice:example.com:Alice-pw-1') FROM subscriber WHERE username = 'alice'")" = t ] &&
	pass "HA1 stored" || fail "HA1 not stored"
[ "$(psql_q "SELECT count(*) FROM subscriber WHERE row_to_json(subscriber)::text LIKE '%Alice-pw-1%'")" = 0 ] &&
	pass "the password is not stored" || fail "password stored"
grep -q 'Alice-pw-1' "$T_DIR/junction.log" && fail "the password was logged" || pass "the password is not logged"
api POST /v1/subscribers '{"username": "alice", "domain": "example.com", "password": "other"}'
expect 409 already_exists "create alice again"

api POST /v1/subscribers '{"username": "bob", "domain": "example.com"}'
expect 422 missing_field "no password"
api POST /v1/subscribers '{"username": "", "domain": "example.com", "password": "x"}'
expect 422 invalid_field "empty username"
api POST /v1/subscribers '{"username": "bob smith", "domain": "example.com", "password": "x"}'
expect 422 invalid_field "username with a blank"
api POST /v1/subscribers '{"username": "bob@x", "domain": "example.com", "password": "x"}'
expect 422 invalid_field "username with @"
api POST /v1/subscribers '{"username": "bob", "domain": "example.org", "password": "x"}'
expect 422 invalid_field "a domain Junction does not serve"
api POST /v1/subscribers '{"username": "bob", "domain": "example.com", "password": ""}'
expect 422 invalid_field "empty password"
api POST /v1/subscribers '{"username": "bob", "domain": "example.com", "password": 42}'
expect 422 invalid_field "password not a string"
api POST /v1/subscribers '{"username": "bob", "domain": "example.com", "password": "x", "enabled": "yes"}'
expect 422 invalid_field "enabled not a boolean"
api POST /v1/subscribers '{"username": "bob", "domain": "example.com", "password": "x", "ha1": "00"}'
expect 422 invalid_field "unknown field"
api POST /v1/subscribers '{"username": "bob", "domain": '
expect 400 invalid_json "truncated JSON"
api POST /v1/subscribers '["bob"]'
expect 400 invalid_json "an array instead of an object"
api POST /v1/subscribers '{"username": "bob", "username": "eve", "domain": "example.com", "password": "x"}'
expect 400 invalid_json "a duplicate key"
api POST /v1/subscribers "" -H 'Content-Type: application/json'
expect 400 invalid_json "no body"
head -c 10000 /dev/zero | tr '\0' 'x' >"$T_DIR/big"
api POST /v1/subscribers "" -H 'Content-Type: application/json' --data-binary @"$T_DIR/big"
expect 413 body_too_large "a body over max_body"
api POST /v1/subscribers "" -H 'Content-Type: application/json' -H 'Transfer-Encoding: chunked' --data-binary @"$T_DIR/big"
expect 413 body_too_large "a chunked body over max_body"
[ "$(psql_q "SELECT count(*) FROM subscriber WHERE username IN ('bob', 'eve')")" = 0 ] && pass "nothing created by refused requests" || fail "bob created"

api GET /v1/subscribers/alice@example.com
expect 200 "read alice"
api GET /v1/subscribers/alice@EXAMPLE.com
expect 200 "read alice, domain in another case"
api GET /v1/subscribers/alice%40example.com
expect 200 "read alice, @ escaped"
api GET /v1/subscribers/bob@example.com
expect 404 not_found "read a subscriber that does not exist"
api GET /v1/subscribers/alice
expect 404 not_found "read without a domain"
api GET '/v1/subscribers/%FF%FE@example.com'
expect 404 not_found "a username that is not UTF-8"
api GET '/v1/%C3'
expect 404 not_found "a path that is not UTF-8: still a JSON error"
api PUT /v1/subscribers/alice@example.com '{}'
expect 405 method_not_allowed "PUT on a subscriber"

api PATCH /v1/subscribers/alice@example.com '{"enabled": false}'
expect 200 "disable alice"
[ "$(jqv .enabled)" = false ] && pass "patched: enabled false" || fail "patched: $(cat "$T_DIR/body")"
api PATCH /v1/subscribers/alice@example.com '{}'
expect 422 missing_field "PATCH with nothing to change"
api PATCH /v1/subscribers/alice@example.com '{"password": ""}'
expect 422 invalid_field "PATCH an empty password"
api PATCH /v1/subscribers/alice@example.com '{"enabled": true, "domain": "x"}'
expect 422 invalid_field "PATCH an unknown field"
api PATCH /v1/subscribers/alice@example.com 'enabled=true'
expect 400 invalid_json "PATCH with a form body"
api PATCH /v1/subscribers/nobody@example.com '{"enabled": true}'
expect 404 not_found "PATCH a subscriber that does not exist"
api PATCH /v1/subscribers/alice@example.com '{"password": "Alice-pw-2", "enabled": true}'
expect 200 "new password and enabled again"
[ "$(psql_q "SELECT ha1_md5 = md5('alice:example.com:Alice-pw-2') AND enabled FROM subscriber WHERE username = 'alice'")" = t ] &&
	pass "PATCH stored the new HA1 and enabled" || fail "PATCH not stored"

# Pagination and filters: 130 more subscribers, in SQL
psql_q "SELECT count(junction_add_subscriber(format('user%s', lpad(i::text, 3, '0')), CASE WHEN i % 2 = 0 THEN 'example.com' ELSE 'localhost' END, 'pw', i % 10 <> 0)) FROM generate_series(1, 130) i" >/dev/null
api GET /v1/subscribers
expect 200 "list"
[ "$(jqv '.items | length')" = 100 ] && [ "$(jqv '.next | type')" = string ] && pass "default page: 100 and a cursor" || fail "default page: $(jqv '.items | length') $(jqv .next)"
seen=$T_DIR/seen
: >"$seen"
cursor=
pages=0
while :; do
	api GET "/v1/subscribers?limit=40${cursor:+&cursor=$cursor}"
	[ "$STATUS" = 200 ] || { fail "page $pages: $STATUS"; break; }
	jqv '.items[].id' >>"$seen"
	pages=$((pages + 1))
	cursor=$(jqv '.next // empty')
	[ -n "$cursor" ] && [ "$pages" -lt 10 ] || break
done
[ "$pages" = 4 ] && [ "$(wc -l <"$seen")" = 131 ] && [ "$(sort -u "$seen" | wc -l)" = 131 ] &&
	pass "pages of 40: 4 pages, 131 subscribers, each once" || fail "pagination: $pages pages, $(wc -l <"$seen") rows"
[ "$(sort -n "$seen" | tr '\n' ' ')" = "$(tr '\n' ' ' <"$seen")" ] && pass "pages in id order" || fail "order"
api GET "/v1/subscribers?domain=localhost&limit=1000"
[ "$(jqv '[.items[] | select(.domain != "localhost")] | length')" = 0 ] && [ "$(jqv '.items | length')" = 65 ] &&
	pass "filter domain: 65" || fail "filter domain: $(jqv '.items | length')"
api GET "/v1/subscribers?username=user01"
[ "$(jqv '[.items[].username] | join(",")')" = "user010,user011,user012,user013,user014,user015,user016,user017,user018,user019" ] &&
	pass "filter username: a prefix" || fail "filter username: $(jqv '[.items[].username]')"
api GET "/v1/subscribers?enabled=false&domain=example.com"
[ "$(jqv '.items | length')" = 13 ] && [ "$(jqv '.next')" = null ] && pass "filter enabled=false and domain: 13, last page" || fail "filter enabled: $(jqv '.items | length')"
for bad in limit=0 limit=1001 limit=abc limit=-5 cursor=garbage cursor=aWQ6eA enabled=maybe color=red domain=%FF; do
	api GET "/v1/subscribers?$bad"
	expect 400 bad_request "list with $bad"
done
api DELETE /v1/subscribers/user001@localhost
expect 204 "delete a subscriber"
[ ! -s "$T_DIR/body" ] && pass "204 has no body" || fail "204 with a body"
api DELETE /v1/subscribers/user001@localhost
expect 404 not_found "delete it again"

# ---- SIP: a subscriber made through the API registers ------------------------
api POST /v1/subscribers '{"username": "dave", "domain": "localhost", "password": "Dave-pw-1"}'
expect 201 "create dave@localhost"
sipsak -U -s sip:dave@localhost -r "$PORT" -u dave -a Dave-pw-1 -C "sip:dave@127.0.0.1:$CATCH" >"$T_DIR/sipsak.out" 2>&1 &&
	pass "sipsak registers dave with the API's password" || { fail "sipsak registration"; cat "$T_DIR/sipsak.out" >&2; }
api PATCH /v1/subscribers/dave@localhost '{"enabled": false}'
sleep 0.3
sipsak -U -s sip:dave@localhost -r "$PORT" -u dave -a Dave-pw-1 >"$T_DIR/sipsak2.out" 2>&1 &&
	fail "disabled dave still registers" || pass "disabled through the API: refused over SIP at once"
api DELETE /v1/subscribers/dave@localhost
expect 204 "delete dave"
[ "$(psql_q "SELECT count(*) FROM binding WHERE aor = 'sip:dave@localhost'")" = 0 ] && pass "dave's bindings went with him" || fail "dave's bindings left"

# ---- bindings --------------------------------------------------------------------
api POST /v1/subscribers '{"username": "carol", "domain": "localhost", "password": "Carol-pw-1"}'
expect 201 "create carol@localhost"
sip_register carol localhost Carol-pw-1 "sip:carol@127.0.0.1:$CATCH" && pass "carol registered" || { fail "carol REGISTER"; cat "$T_DIR/reg.2" >&2; }
invite() {
	printf 'INVITE sip:%s@localhost SIP/2.0\n' "$1"
	printf 'Via: SIP/2.0/UDP 127.0.0.1:%s;branch=z9hG4bKi%s;rport\n' "$CATCH" "$RANDOM$RANDOM"
	printf 'Max-Forwards: 70\nFrom: <sip:bob@example.net>;tag=i1\nTo: <sip:%s@localhost>\n' "$1"
	printf 'Call-ID: inv-%s\nCSeq: 1 INVITE\nContent-Length: 0\n\n' "$RANDOM$RANDOM"
}
invite carol | "$SIPSEND" -P -v -c 1 -w 3000 -b "$CATCH" udp 127.0.0.1 "$PORT" - | tr -d '\r' >"$T_DIR/inv1"
head -n 1 "$T_DIR/inv1" | grep -q "^INVITE sip:carol@127.0.0.1:$CATCH SIP/2.0" && pass "INVITE reaches carol's binding" ||
	{ fail "INVITE not relayed"; cat "$T_DIR/inv1" >&2; }
api GET "/v1/bindings?aor=sip:carol@localhost"
expect 200 "bindings of carol"
[ "$(jqv '.items | length')" = 1 ] && [ "$(jqv '.items[0].contact')" = "sip:carol@127.0.0.1:$CATCH" ] &&
	[ "$(jqv '.items[0].user_agent')" = admin-test/1 ] && [ "$(jqv '.items[0].expires > 500')" = true ] &&
	[ "$(jqv '.items[0].node')" = "$(hostname)" ] && pass "binding: contact, user agent, expires, node" || fail "binding: $(cat "$T_DIR/body")"
BID=$(jqv '.items[0].id')
api GET "/v1/bindings?aor=carol@LOCALHOST"
[ "$(jqv '.items | length')" = 1 ] && pass "aor filter without scheme, domain in another case" || fail "aor normalisation"
api GET "/v1/bindings/$BID"
expect 200 "read one binding"
api DELETE "/v1/bindings/$BID"
expect 204 "delete carol's binding"
invite carol | "$SIPSEND" -P -v -w 3000 udp 127.0.0.1 "$PORT" - | tr -d '\r' >"$T_DIR/inv2"
head -n 1 "$T_DIR/inv2" | grep -q '^SIP/2.0 480 ' && pass "after the API deleted it: INVITE gets 480" ||
	{ fail "INVITE after delete: $(head -n 1 "$T_DIR/inv2")"; }
api GET "/v1/bindings/$BID"
expect 404 not_found "the deleted binding"
api DELETE "/v1/bindings/$BID"
expect 404 not_found "delete it again"
api DELETE /v1/bindings/abc
expect 404 not_found "a binding id that is not a number"
sip_register carol localhost Carol-pw-1 "sip:carol@127.0.0.1:$CATCH" && sip_register carol localhost Carol-pw-1 "sip:carol2@127.0.0.1:$CATCH" &&
	pass "carol registered twice" || fail "carol REGISTERs"
api DELETE "/v1/bindings?aor=sip:carol@localhost"
expect 200 "delete all of carol's bindings"
[ "$(jqv .deleted)" = 2 ] && pass "deleted: 2" || fail "deleted: $(cat "$T_DIR/body")"
invite carol | "$SIPSEND" -P -v -w 3000 udp 127.0.0.1 "$PORT" - | tr -d '\r' >"$T_DIR/inv3"
head -n 1 "$T_DIR/inv3" | grep -q '^SIP/2.0 480 ' && pass "after deleting the AOR's bindings: 480" || fail "INVITE: $(head -n 1 "$T_DIR/inv3")"
api DELETE /v1/bindings
expect 400 bad_request "delete bindings without ?aor="
api DELETE "/v1/bindings?aor=nobody"
expect 400 bad_request "delete with an aor that is not one"
api DELETE "/v1/bindings?node=x"
expect 400 bad_request "delete by node is not offered"

# 150 bindings in SQL for pagination and filters
psql_q "INSERT INTO binding (aor, contact, expires_at, call_id, cseq, node, q) SELECT format('sip:bulk%s@%s', i, CASE WHEN i <= 100 THEN 'example.com' ELSE 'localhost' END), format('sip:bulk%s@192.0.2.1', i), now() + interval '1 hour', 'c' || i, 1, CASE WHEN i % 3 = 0 THEN 'node-b' ELSE 'node-a' END, 0.5 FROM generate_series(1, 150) i" >/dev/null
psql_q "INSERT INTO binding (aor, contact, expires_at, call_id, cseq, node) VALUES ('sip:old@example.com', 'sip:old@192.0.2.1', now() - interval '1 minute', 'x', 1, 'node-a')" >/dev/null
: >"$seen"
cursor=
pages=0
while :; do
	api GET "/v1/bindings?limit=60${cursor:+&cursor=$cursor}"
	[ "$STATUS" = 200 ] || { fail "bindings page: $STATUS"; break; }
	jqv '.items[].id' >>"$seen"
	pages=$((pages + 1))
	cursor=$(jqv '.next // empty')
	[ -n "$cursor" ] && [ "$pages" -lt 10 ] || break
done
[ "$pages" = 3 ] && [ "$(sort -u "$seen" | wc -l)" = 150 ] && pass "bindings in pages of 60: 150, each once, none expired" ||
	fail "bindings pagination: $pages pages, $(sort -u "$seen" | wc -l)"
api GET "/v1/bindings?node=node-b&limit=1000"
[ "$(jqv '.items | length')" = 50 ] && pass "filter node: 50" || fail "filter node: $(jqv '.items | length')"
api GET "/v1/bindings?domain=LOCALHOST&limit=1000"
[ "$(jqv '.items | length')" = 50 ] && pass "filter domain: 50" || fail "filter domain: $(jqv '.items | length')"
api GET "/v1/bindings?domain=example.com&node=node-a&limit=1000"
[ "$(jqv '.items | length')" = 67 ] && pass "filters together: 67" || fail "domain+node: $(jqv '.items | length')"
api GET "/v1/bindings?aor=sip:bulk7@example.com"
[ "$(jqv '.items | length')" = 1 ] && [ "$(jqv '.items[0].q')" = 0.5 ] && [ "$(jqv '.items[0].received')" = null ] &&
	pass "filter aor: one, q 0.5, received null" || fail "filter aor: $(cat "$T_DIR/body")"
api GET "/v1/bindings?aor=sip:old@example.com"
[ "$(jqv '.items | length')" = 0 ] && pass "an expired binding is not listed" || fail "expired listed"
api GET "/v1/bindings?limit=2000"
expect 400 bad_request "bindings limit over 1000"
api GET "/v1/bindings?aor=sip:x"
expect 400 bad_request "aor without a user"

api GET /v1/status
[ "$(jqv .bindings)" = 150 ] && pass "status counts 150 active bindings" || fail "status bindings: $(jqv .bindings)"

# ---- the idle timeout (request_timeout = 2) ----------------------------------------
start=$(date +%s%N)
exec 5<>"/dev/tcp/127.0.0.1/$APORT"
printf 'GET /healthz HTTP/1.1\r\n' >&5
timeout 8 cat <&5 >/dev/null
exec 5>&-
took=$((($(date +%s%N) - start) / 1000000))
[ "$took" -ge 1500 ] && [ "$took" -lt 7000 ] && pass "an idle half-sent request is dropped after request_timeout (${took} ms)" ||
	fail "idle connection lasted ${took} ms"

# ---- the database goes away: 503 with Retry-After, then back -----------------------
pg_stop
api GET /v1/subscribers
expect 503 database_unavailable "database down: 503"
grep -qi '^Retry-After: 2' "$T_DIR/headers" && pass "503 carries Retry-After" || fail "no Retry-After"
TOKEN= api GET /readyz
[ "$STATUS" = 503 ] && [ "$(jqv .checks.database)" = down ] && pass "readyz: 503, database down" || fail "readyz with the database down: $STATUS"
api GET /v1/status
[ "$STATUS" = 200 ] && [ "$(jqv .database.state)" = down ] && [ "$(jqv .bindings)" = null ] && pass "status: database down" || fail "status when down: $STATUS"
pg_restart
for _ in $(seq 30); do
	api GET /v1/subscribers/alice@example.com
	[ "$STATUS" = 200 ] && break
	sleep 0.2
done
expect 200 "the admin connection comes back by itself"
# A restart between two requests: the next write finds its connection
# dead at BEGIN, reconnects and goes through.
pg_stop
pg_restart
api POST /v1/subscribers '{"username": "frank", "domain": "localhost", "password": "Frank-pw-1"}'
expect 201 "a write right after a database restart"
api DELETE /v1/subscribers/frank@localhost
expect 204 "a delete after it"

# ---- every answer against the OpenAPI document ----------------------------------------
openapi_check --coverage

# ---- HTTPS with a token file --------------------------------------------------------
mkdir -p "$T_DIR/tls"
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
	-keyout "$T_DIR/tls/key.pem" -out "$T_DIR/tls/cert.pem" >/dev/null 2>&1 || fail "openssl"
printf '%s\n' "tls-token-abcdefghijklmnop" >"$T_DIR/tls/token"
chmod 600 "$T_DIR/tls/token"
PORT2=$(free_port)
APORT2=$(free_port)
mv "$T_DIR/junction.conf" "$T_DIR/junction1.conf"
write_config "$PORT2"
cat >>"$T_DIR/junction.conf" <<CONF
[admin]
listen = 127.0.0.1:$APORT2
token_file = $T_DIR/tls/token
tls_cert = $T_DIR/tls/cert.pem
tls_key = $T_DIR/tls/key.pem
CONF
PID1=$JCT_PID
start_junction "$PORT2" || fail "start with TLS"
out=$(curl -s --cacert "$T_DIR/tls/cert.pem" -H "Authorization: Bearer tls-token-abcdefghijklmnop" "https://127.0.0.1:$APORT2/v1/status")
[ "$(jq -r .database.state <<<"$out")" = off ] && pass "HTTPS with the token from token_file" || fail "HTTPS: $out"
code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$T_DIR/tls/cert.pem" -H "Authorization: Bearer $ADMIN_TOKEN" "https://127.0.0.1:$APORT2/v1/status")
[ "$code" = 401 ] && pass "HTTPS: another token refused" || fail "HTTPS wrong token: $code"
curl -s -o /dev/null "http://127.0.0.1:$APORT2/healthz" && fail "plain HTTP answered on the HTTPS port" || pass "no plain HTTP on the HTTPS port"
out=$(JUNCTION_TOKEN=tls-token-abcdefghijklmnop "$JUNCTIONCTL" --url "https://127.0.0.1:$APORT2" --cacert "$T_DIR/tls/cert.pem" status 2>&1)
grep -q '^database *off' <<<"$out" && pass "junctionctl over HTTPS" || fail "junctionctl https: $out"
stop_junction && pass "SIGTERM exit 0 (TLS daemon)" || fail "exit status (TLS daemon)"
JCT_PID=$PID1
stop_junction && pass "SIGTERM exit 0" || fail "exit status"
t_done
