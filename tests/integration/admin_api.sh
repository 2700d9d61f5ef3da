#!/usr/bin/env bash
# The REST admin API against the running daemon and a real PostgreSQL,
# with curl: tokens (missing, wrong, other scheme), every resource and its
# error paths (bad JSON, unknown and missing fields, 404, 405, 409, 413,
# 422), pagination over more than a page and the filters, a subscriber
# created through the API registering over SIP (sipsak) and refused once
# disabled, a binding deleted through the API no longer reached (480),
# the idle timeout, HTTPS with a token file, and every answer checked
# against admin/openapi.json. Session Controllers: every /v1/sip-servers
# endpoint and its errors (409 for a name or a pair's role taken, 422 for
# bad values and for what only the database refuses: a pair across two
# data centres, a backup left without its pair), the rows in SQL, the
# NOTIFY every write sends, and the nodes' view after
# junction_sip_server_seen(). Sessions: /v1/sessions over rows written in
# SQL (newest first, pages, each filter alone and together, ended ones),
# /v1/sessions/ID with its dialogs, and the 400s, 401, 404 and 405.
# Nodes: /v1/nodes with this node's row (self, alive, its version and
# listeners) and one written in SQL with an old heartbeat (not alive), and
# the heartbeat bringing an aged row back; /v1/log against the warn and
# error lines of junction.log, its filters and their 400s.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg.sh"
. "$(dirname "$0")/admin_lib.sh"
need ss psql curl jq sipsak md5sum openssl
[ -x "$PY3" ] && "$PY3" -c 'import jsonschema' 2>/dev/null || skip "python3-jsonschema not installed" # under CI=true: a failure

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
# (about the 201's body: an empty answer is no pass)
[ "$STATUS" = 201 ] && [ -s "$T_DIR/body" ] && ! grep -qiE 'password|ha1|Alice-pw-1' "$T_DIR/body" &&
	pass "no password or HA1 in the answer" || fail "the answer holds a secret, or there was none"
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
expect 200 "disable dave"
# refused: sipsak's answer to the challenge gets 401 again (not a timeout,
# not a dead daemon); within 3 s, far below cache_ttl: by the NOTIFY
dave_refused() {
	sipsak -vv -U -s sip:dave@localhost -r "$PORT" -u dave -a Dave-pw-1 >"$T_DIR/sipsak2.out" 2>&1
	[ "$(last_status <"$T_DIR/sipsak2.out")" = 401 ] && grep -q '^Authorization: Digest username="dave"' "$T_DIR/sipsak2.out"
}
wait_for 3 dave_refused && pass "disabled through the API: refused over SIP at once (401 to its credentials)" ||
	{ fail "disabled dave: last response $(last_status <"$T_DIR/sipsak2.out")"; tail -n 20 "$T_DIR/sipsak2.out" >&2; }
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

# ---- sip servers (Session Controllers) -------------------------------------------------
api GET /v1/sip-servers
expect 200 "sip servers: the empty pool"
[ "$(jqv '.sip_servers | length')" = 0 ] && pass "no sip servers yet" || fail "pool: $(cat "$T_DIR/body")"
api POST /v1/sip-servers '{"name": "sc1-dc1", "uri": "sip:10.0.1.5:5060", "geo_location": "dc1", "ha_pair": "p1-dc1"}'
expect 201 "add sc1-dc1"
grep -qi '^Location: /v1/sip-servers/sc1-dc1' "$T_DIR/headers" && pass "201 has a Location" || fail "sip server Location"
[ "$(jqv '[.name, .uri, .geo_location, .ha_pair, .role, .weight, .enabled, (.nodes | length)] | map(tostring) | join(" ")')" = \
	"sc1-dc1 sip:10.0.1.5:5060 dc1 p1-dc1 primary 100 true 0" ] && pass "added: defaults primary, 100, enabled, no nodes" ||
	fail "added: $(cat "$T_DIR/body")"
api POST /v1/sip-servers '{"name": "sc2-dc1", "uri": "sip:10.0.1.6:5060", "geo_location": "dc1", "ha_pair": "p1-dc1", "role": "backup", "weight": 50}'
expect 201 "add sc2-dc1, backup of p1-dc1"
api POST /v1/sip-servers '{"name": "sc3-dc1", "uri": "sip:sc3.dc1.example.com;transport=tcp", "geo_location": "dc1", "ha_pair": "p2-dc1", "role": "primary", "weight": 10000}'
expect 201 "add sc3-dc1, a host name URI, weight 10000"
api POST /v1/sip-servers '{"name": "sc4-dc1", "uri": "sips:10.0.1.8", "geo_location": "dc1", "ha_pair": "p2-dc1", "role": "backup", "weight": 0, "enabled": false}'
expect 201 "add sc4-dc1 disabled, weight 0"
[ "$(jqv '.enabled')" = false ] && [ "$(jqv '.weight')" = 0 ] && pass "added disabled with weight 0" || fail "sc4: $(cat "$T_DIR/body")"
api POST /v1/sip-servers '{"name": "sc5-dc2", "uri": "sip:10.0.2.5", "geo_location": "dc2", "ha_pair": null}'
expect 201 "add sc5-dc2 on its own"
[ "$(jqv '.ha_pair')" = null ] && pass "ha_pair null: not in a pair" || fail "sc5: $(cat "$T_DIR/body")"
api POST /v1/sip-servers '{"name": "sc6-dc2", "uri": "sip:10.0.2.6", "geo_location": "dc2", "ha_pair": "p3-dc2"}'
expect 201 "add sc6-dc2, primary of p3-dc2"
[ "$(psql_q "SELECT string_agg(concat_ws(' ', name, uri, geo_location, coalesce(ha_pair, '-'), role, weight, enabled), ',' ORDER BY name) FROM sip_server")" = \
	"sc1-dc1 sip:10.0.1.5:5060 dc1 p1-dc1 primary 100 t,sc2-dc1 sip:10.0.1.6:5060 dc1 p1-dc1 backup 50 t,sc3-dc1 sip:sc3.dc1.example.com;transport=tcp dc1 p2-dc1 primary 10000 t,sc4-dc1 sips:10.0.1.8 dc1 p2-dc1 backup 0 f,sc5-dc2 sip:10.0.2.5 dc2 - primary 100 t,sc6-dc2 sip:10.0.2.6 dc2 p3-dc2 primary 100 t" ] &&
	pass "the sip_server rows are what the API was given" || fail "sip_server rows: $(psql_q 'TABLE sip_server')"

api POST /v1/sip-servers '{"name": "sc1-dc1", "uri": "sip:10.0.1.9", "geo_location": "dc1"}'
expect 409 already_exists "add sc1-dc1 again"
grep -q 'sip server sc1-dc1: the name is taken' "$T_DIR/body" && pass "409 says the name is taken" || fail "409 name: $(cat "$T_DIR/body")"
api POST /v1/sip-servers '{"name": "sc9", "uri": "sip:10.0.1.9", "geo_location": "dc1", "ha_pair": "p1-dc1", "role": "backup"}'
expect 409 already_exists "a second backup in p1-dc1"
grep -q 'its HA pair has a server in this role already' "$T_DIR/body" && pass "409 says the pair's role is taken" || fail "409 pair: $(cat "$T_DIR/body")"
api POST /v1/sip-servers '{"name": "sc9", "uri": "sip:10.0.1.9", "geo_location": "dc1", "ha_pair": "p3-dc2", "role": "backup"}'
expect 422 invalid_field "a backup of p3-dc2 in another data centre"
grep -q 'HA pair p3-dc2 spans two data centres' "$T_DIR/body" && pass "422 with the database's reason" || fail "422 span: $(cat "$T_DIR/body")"
api POST /v1/sip-servers '{"name": "sc9", "geo_location": "dc1"}'
expect 422 missing_field "add without uri"
api POST /v1/sip-servers '{"name": "sc9", "uri": "sip:10.0.1.9"}'
expect 422 missing_field "add without geo_location"
for bad in '"name": "-sc9"' '"name": "sc 9"' "\"name\": \"$(printf 'x%.0s' $(seq 64))\"" '"name": 9' \
	'"uri": "http://10.0.1.9"' '"uri": "sip:alice@10.0.1.9"' '"uri": "sip:"' '"uri": "sip:10.0.1.9 x"' '"uri": "sip:10.0.1.9?subject=x"' '"uri": 5060' \
	'"geo_location": "dc 1"' '"ha_pair": "p/1"' '"ha_pair": 1' '"role": "master"' '"role": "backup"' \
	'"weight": 10001' '"weight": -1' '"weight": 1.5' '"weight": "100"' '"enabled": "yes"' '"port": 5060'; do
	body=$(jq -c --argjson bad "{$bad}" '. + $bad' <<<'{"name": "sc9", "uri": "sip:10.0.1.9", "geo_location": "dc1"}')
	api POST /v1/sip-servers "$body"
	expect 422 invalid_field "add with $bad"
done
api POST /v1/sip-servers '{"name": "sc9", '
expect 400 invalid_json "add with truncated JSON"
[ "$(psql_q "SELECT count(*) FROM sip_server WHERE name NOT LIKE 'sc_-dc_'")" = 0 ] && pass "nothing added by refused requests" || fail "a refused server was added"

api GET /v1/sip-servers
expect 200 "list the sip servers"
[ "$(jqv '[.sip_servers[].name] | join(",")')" = "sc1-dc1,sc2-dc1,sc3-dc1,sc4-dc1,sc5-dc2,sc6-dc2" ] && pass "listed by name" || fail "list: $(jqv '[.sip_servers[].name]')"
api GET "/v1/sip-servers?geo_location=dc2"
[ "$(jqv '[.sip_servers[].name] | join(",")')" = "sc5-dc2,sc6-dc2" ] && pass "filter geo_location" || fail "geo filter: $(jqv '[.sip_servers[].name]')"
api GET "/v1/sip-servers?ha_pair=p1-dc1&geo_location=dc1"
[ "$(jqv '[.sip_servers[] | .name + ":" + .role] | join(",")')" = "sc1-dc1:primary,sc2-dc1:backup" ] && pass "filter ha_pair" || fail "pair filter: $(jqv '[.sip_servers[].name]')"
api GET "/v1/sip-servers?limit=10"
expect 400 bad_request "list with an unknown parameter"
api GET /v1/sip-servers/sc3-dc1
expect 200 "read sc3-dc1"
[ "$(jqv .uri)" = "sip:sc3.dc1.example.com;transport=tcp" ] && [ "$(jqv '.nodes')" = "[]" ] && pass "read: uri, no nodes yet" || fail "read: $(cat "$T_DIR/body")"
api GET /v1/sip-servers/nope
expect 404 not_found "read a sip server that does not exist"
api GET '/v1/sip-servers/bad%20name'
expect 404 not_found "read a name that cannot be"
api PUT /v1/sip-servers '{}'
expect 405 method_not_allowed "PUT on the sip servers"
api POST /v1/sip-servers/sc1-dc1 '{}'
expect 405 method_not_allowed "POST on a sip server"

# Writes tell the nodes: a listener sees the NOTIFY of a PATCH.
psql -X -q -h "$PG_DIR" -p "$PGPORT" -U postgres -d junction -c 'LISTEN junction_sip_server' -c 'SELECT pg_sleep(1.5)' >"$T_DIR/listen.out" 2>&1 &
LISTENER=$!
# until its LISTEN is done and it sleeps
listening() { [ "$(psql_q "SELECT count(*) FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(1.5)' AND state = 'active'")" = 1 ]; }
wait_for 5 listening || fail "the LISTEN session did not start"
api PATCH /v1/sip-servers/sc1-dc1 '{"weight": 0}'
expect 200 "drain sc1-dc1 (weight 0)"
wait "$LISTENER"
grep -q 'notification "junction_sip_server"' "$T_DIR/listen.out" && pass "the PATCH sent NOTIFY junction_sip_server" || fail "no NOTIFY: $(cat "$T_DIR/listen.out")"
[ "$(jqv .weight)" = 0 ] && [ "$(jqv '.updated_at > .created_at')" = true ] && [ "$(psql_q "SELECT weight FROM sip_server WHERE name = 'sc1-dc1'")" = 0 ] &&
	pass "patched: weight 0 stored, updated_at moved" || fail "patch weight: $(cat "$T_DIR/body")"
api PATCH /v1/sip-servers/sc1-dc1 '{}'
expect 422 missing_field "PATCH with nothing to change"
api PATCH /v1/sip-servers/sc1-dc1 '{"name": "sc0"}'
expect 422 invalid_field "PATCH the name"
api PATCH /v1/sip-servers/sc1-dc1 '{"weight": "high"}'
expect 422 invalid_field "PATCH a weight that is not a number"
api PATCH /v1/sip-servers/sc1-dc1 '{"uri": "sip:bob@10.0.1.5"}'
expect 422 invalid_field "PATCH a uri with a user part"
api PATCH /v1/sip-servers/sc1-dc1 'weight=0'
expect 400 invalid_json "PATCH with a form body"
api PATCH /v1/sip-servers/nope '{"weight": 1}'
expect 404 not_found "PATCH a sip server that does not exist"
api PATCH /v1/sip-servers/sc1-dc1 '{"role": "backup"}'
expect 409 already_exists "PATCH sc1-dc1 to backup: p1-dc1 has one"
api PATCH /v1/sip-servers/sc3-dc1 '{"geo_location": "dc2"}'
expect 422 invalid_field "PATCH moves one member of p2-dc1 to dc2"
grep -q 'HA pair p2-dc1 spans two data centres' "$T_DIR/body" && pass "422 with the database's reason" || fail "span: $(cat "$T_DIR/body")"
api PATCH /v1/sip-servers/sc4-dc1 '{"ha_pair": null}'
expect 422 invalid_field "PATCH a backup out of its pair"
grep -q 'a backup must be in an HA pair' "$T_DIR/body" && pass "422 says a backup needs a pair" || fail "backup: $(cat "$T_DIR/body")"
[ "$(psql_q "SELECT concat_ws(' ', weight, geo_location, ha_pair, role) FROM sip_server WHERE name IN ('sc1-dc1', 'sc3-dc1', 'sc4-dc1') ORDER BY name" | tr '\n' ',')" = \
	"0 dc1 p1-dc1 primary,10000 dc1 p2-dc1 primary,0 dc1 p2-dc1 backup," ] && pass "refused PATCHes changed nothing" || fail "rows after refusals"
api PATCH /v1/sip-servers/sc4-dc1 '{"ha_pair": "", "role": "primary", "enabled": true, "uri": "sip:10.0.1.8:5080", "weight": 200}'
expect 200 "PATCH sc4-dc1 out of its pair, primary, enabled, new uri"
[ "$(jqv '[.ha_pair, .role, .enabled, .uri, .weight] | map(tostring) | join(" ")')" = "null primary true sip:10.0.1.8:5080 200" ] &&
	pass "patched: every column given, ha_pair \"\" leaves the pair" || fail "patched sc4: $(cat "$T_DIR/body")"
api PATCH /v1/sip-servers/sc5-dc2 '{"ha_pair": "p3-dc2", "role": "backup"}'
expect 200 "PATCH sc5-dc2 into p3-dc2 as its backup"
api PATCH /v1/sip-servers/sc1-dc1 '{"ha_pair": null}'
expect 200 "PATCH sc1-dc1 out of p1-dc1 with null"
[ "$(jqv '.ha_pair')" = null ] && [ "$(jqv '.weight')" = 0 ] && pass "null leaves the pair, the rest stays" || fail "sc1: $(cat "$T_DIR/body")"

# The nodes' view: two nodes publish what they see, as junction does.
[ "$(psql_q "SELECT junction_sip_server_seen('node-a', 'dc1', ARRAY['sc1-dc1', 'sc2-dc1', 'no-such-server'], ARRAY['active', 'standby', 'oos'],
	ARRAY[1764900000000, 1764900000000, 1764900000000]::bigint[], ARRAY[1500, NULL, NULL]::bigint[], ARRAY[1764900060000, NULL, NULL]::bigint[], ARRAY[NULL, NULL, 'x'])")" = 2 ] &&
	pass "node-a published 2 rows (an unknown server ignored)" || fail "junction_sip_server_seen node-a"
[ "$(psql_q "SELECT junction_sip_server_seen('node-b', 'dc2', ARRAY['sc1-dc1'], ARRAY['oos'], ARRAY[1764900120000]::bigint[], ARRAY[NULL]::bigint[], ARRAY[NULL]::bigint[], ARRAY['no answer to OPTIONS'])")" = 1 ] &&
	pass "node-b published 1 row" || fail "junction_sip_server_seen node-b"
[ "$(psql_q "SELECT string_agg(concat_ws(' ', node, server, state, rtt_ms, reason), ',' ORDER BY node, server) FROM sip_server_status")" = \
	"node-a sc1-dc1 active 1.5,node-a sc2-dc1 standby,node-b sc1-dc1 oos no answer to OPTIONS" ] && pass "sip_server_status: a row per node and server" ||
	fail "sip_server_status: $(psql_q 'TABLE sip_server_status')"
api GET /v1/sip-servers/sc1-dc1
expect 200 "read sc1-dc1 with its nodes"
[ "$(jqv '[.nodes[] | [.node, .node_geo_location, .state, .since, .rtt_ms, .last_switchover, .reason] | map(tostring) | join(" ")] | join(",")')" = \
	"node-a dc1 active 2025-12-05T02:00:00.000Z 1.5 2025-12-05T02:01:00.000Z null,node-b dc2 oos 2025-12-05T02:02:00.000Z null null no answer to OPTIONS" ] &&
	pass "nodes: by node, state, since, rtt_ms (null when none), switchover, reason" || fail "nodes: $(jqv .nodes)"
api GET /v1/sip-servers
[ "$(jqv '[.sip_servers[] | .name + ":" + (.nodes | length | tostring)] | join(",")')" = "sc1-dc1:2,sc2-dc1:1,sc3-dc1:0,sc4-dc1:0,sc5-dc2:0,sc6-dc2:0" ] &&
	pass "list: each server with its nodes" || fail "list nodes: $(jqv '[.sip_servers[] | .name + ":" + (.nodes | length | tostring)]')"

api DELETE /v1/sip-servers/sc2-dc1
expect 204 "delete sc2-dc1"
[ ! -s "$T_DIR/body" ] && pass "204 has no body" || fail "204 with a body"
[ "$(psql_q "SELECT count(*) FROM sip_server_node WHERE server = 'sc2-dc1'")" = 0 ] && [ "$(psql_q "SELECT count(*) FROM sip_server WHERE name = 'sc2-dc1'")" = 0 ] &&
	pass "its row and the nodes' rows are gone" || fail "sc2-dc1 left behind"
api DELETE /v1/sip-servers/sc2-dc1
expect 404 not_found "delete it again"
api DELETE '/v1/sip-servers/a%2Fb'
expect 404 not_found "delete a name that cannot be"

# ---- sessions (session affinity) -----------------------------------------------------
# The nodes write these rows; here SQL does: 120 old open sessions of
# sc4-dc1 for the pages, then S1 ended, S2 with three dialogs (one ended),
# S3 moved from S1, S4 of a server no longer in the pool and without
# dialogs, S5 the newest.
api GET /v1/sessions
expect 200 "sessions: none yet"
same_json "$(cat "$T_DIR/body")" '{"items": [], "next": null}' && pass "an empty list" || fail "no sessions: $(cat "$T_DIR/body")"
psql_q "WITH s AS (INSERT INTO session (sip_server, created_by, created_at, last_activity)
	SELECT 'sc4-dc1', 'node-c', t, t FROM generate_series(1, 120) i, LATERAL (SELECT timestamptz '2025-12-04 00:00:00+00' + i * interval '1 minute' AS t) x ORDER BY i RETURNING id)
	INSERT INTO dialog (call_id, from_tag, session_id, method, state, relation, caller_aor, callee_aor, node, expires_at)
	SELECT 'bulk-' || id, 'f', id, 'INVITE', 'confirmed', 'new', 'sip:bulk@example.com', 'sip:bob@example.com', 'node-c', now() + interval '1 hour' FROM s" >/dev/null
S1=$(session_row "'sc1-dc1', 'node-a', '2025-12-05 02:00:00+00', '2025-12-05 02:20:00+00', '2025-12-05 02:20:00+00', NULL")
dialog_row "'old-1', 'f1', 't1', $S1, 'INVITE', 'ended', 'new', 'sip:alice@example.com', 'sip:bob@example.com', 'node-a', '2025-12-05 02:00:00+00', '2025-12-05 02:20:00+00', '2025-12-05 02:30:00+00', '2025-12-05 02:20:00+00'"
S2=$(session_row "'sc3-dc1', 'node-a', '2025-12-05 03:00:00+00', '2025-12-05 03:05:00+00', NULL, NULL")
dialog_row "'call-b', 'fb', NULL, $S2, 'INVITE', 'early', 'replaces', 'sip:bob@example.com', 'sip:carol@example.com', 'node-b', '2025-12-05 03:01:00+00', '2025-12-05 03:01:00+00', '2099-01-01 00:00:00+00', NULL"
dialog_row "'call-a', 'fa', 'ta', $S2, 'INVITE', 'confirmed', 'new', 'sip:alice@example.com', 'sip:bob@example.com', 'node-a', '2025-12-05 03:00:00+00', '2025-12-05 03:00:05+00', '2099-01-01 00:00:00+00', NULL"
dialog_row "'call-c', 'fc', 'tc', $S2, 'SUBSCRIBE', 'ended', 'device', 'sip:dave@example.com', 'sip:alice@example.com', 'node-b', '2025-12-05 03:02:00+00', '2025-12-05 03:03:00+00', '2025-12-05 03:04:00+00', '2025-12-05 03:03:00+00'"
S3=$(session_row "'sc6-dc2', 'node-b', now() - interval '3000 s', now(), NULL, $S1")
dialog_row "'call-d', 'fd', NULL, $S3, 'INVITE', 'early', 'moved', 'sip:erin@localhost', 'sip:alice@example.com', 'node-b', now() - interval '3000 s', now(), now() + interval '300 s', NULL"
S4=$(session_row "'sc2-dc1', 'node-c', now() - interval '20 s', now() - interval '20 s', NULL, NULL")
S5=$(session_row "'sc1-dc1', 'node-a', now() - interval '5 s', now(), NULL, NULL")
dialog_row "'call-e', 'fe', 'te', $S5, 'REFER', 'confirmed', 'referred-by', 'sip:frank@localhost', NULL, 'node-a', now() - interval '5 s', now(), now() + interval '60 s', NULL"
[ -n "$S1" ] && [ "$S5" -gt "$S1" ] && [ "$(psql_q 'SELECT count(*) FROM session')" = 125 ] && [ "$(psql_q 'SELECT count(*) FROM dialog')" = 126 ] &&
	pass "125 sessions and 126 dialogs in SQL" || fail "session rows: S1=$S1 S5=$S5"
# ses_time ID COLUMN: a time of a session as the API writes it
ses_time() { iso "(SELECT $2 FROM session WHERE id = $1)"; }
J1='{"id": '$S1', "sip_server": "sc1-dc1", "ha_pair": null, "node": "node-a", "created": "2025-12-05T02:00:00.000Z", "last_activity": "2025-12-05T02:20:00.000Z", "ended": "2025-12-05T02:20:00.000Z", "moved_from": null, "dialogs": 0}'
J2='{"id": '$S2', "sip_server": "sc3-dc1", "ha_pair": "p2-dc1", "node": "node-a", "created": "2025-12-05T03:00:00.000Z", "last_activity": "2025-12-05T03:05:00.000Z", "ended": null, "moved_from": null, "dialogs": 2}'
J3='{"id": '$S3', "sip_server": "sc6-dc2", "ha_pair": "p3-dc2", "node": "node-b", "created": "'$(ses_time "$S3" created_at)'", "last_activity": "'$(ses_time "$S3" last_activity)'", "ended": null, "moved_from": '$S1', "dialogs": 1}'
J4='{"id": '$S4', "sip_server": "sc2-dc1", "ha_pair": null, "node": "node-c", "created": "'$(ses_time "$S4" created_at)'", "last_activity": "'$(ses_time "$S4" last_activity)'", "ended": null, "moved_from": null, "dialogs": 0}'
J5='{"id": '$S5', "sip_server": "sc1-dc1", "ha_pair": null, "node": "node-a", "created": "'$(ses_time "$S5" created_at)'", "last_activity": "'$(ses_time "$S5" last_activity)'", "ended": null, "moved_from": null, "dialogs": 1}'
# ids IDS...: the ids of the last list, one line
ids() { jqv '[.items[].id] | map(tostring) | join(" ")'; }

api GET /v1/sessions
expect 200 "list sessions"
[ "$(jqv '.items | length')" = 100 ] && [ "$(jqv '.next | type')" = string ] && pass "default page: 100 and a cursor" || fail "default page: $(jqv '.items | length') $(jqv .next)"
same_json "$(jqv '.items[0:4]')" "[$J5, $J4, $J3, $J2]" && pass "open sessions newest first, each with its server's pair, node, times, moved_from, dialogs up" ||
	fail "first four: $(jqv '.items[0:4] | tojson')"
[ "$(jqv "[.items[].id] | index($S1)")" = null ] && [ "$(jqv '[.items[] | select(.ended != null)] | length')" = 0 ] && pass "the ended session is not listed" || fail "ended listed"
: >"$seen"
cursor=
pages=0
while :; do
	api GET "/v1/sessions?limit=50${cursor:+&cursor=$cursor}"
	[ "$STATUS" = 200 ] || { fail "sessions page: $STATUS"; break; }
	jqv '.items[].id' >>"$seen"
	pages=$((pages + 1))
	cursor=$(jqv '.next // empty')
	[ -n "$cursor" ] && [ "$pages" -lt 10 ] || break
done
[ "$pages" = 3 ] && [ "$(wc -l <"$seen")" = 124 ] && sort -c -r -n -u "$seen" && [ "$(head -n 1 "$seen")" = "$S5" ] &&
	[ "$(tail -n 1 "$seen")" = "$(psql_q "SELECT min(id) FROM session WHERE sip_server = 'sc4-dc1'")" ] &&
	pass "sessions in pages of 50: 124, each once, newest first" || fail "sessions pagination: $pages pages, $(wc -l <"$seen")"
api GET "/v1/sessions?limit=2"
[ "$(ids)" = "$S5 $S4" ] && cursor=$(jqv .next) && api GET "/v1/sessions?limit=2&cursor=$cursor" && [ "$(ids)" = "$S3 $S2" ] &&
	pass "limit=2 and the next page" || fail "limit=2: $(ids)"

api GET "/v1/sessions?sip_server=sc3-dc1"
[ "$(ids)" = "$S2" ] && same_json "$(jqv '.items[0]')" "$J2" && [ "$(jqv .next)" = null ] && pass "filter sip_server" || fail "sip_server: $(cat "$T_DIR/body")"
api GET "/v1/sessions?sip_server=sc2-dc1"
[ "$(ids)" = "$S4" ] && same_json "$(jqv '.items[0]')" "$J4" && pass "sip_server no longer in the pool: ha_pair null, no dialogs" || fail "sc2-dc1: $(cat "$T_DIR/body")"
api GET "/v1/sessions?sip_server=sc4-dc1&limit=1000"
[ "$(jqv '[.items[] | select(.sip_server == "sc4-dc1" and .dialogs == 1)] | length')" = 120 ] && [ "$(jqv '.items | length')" = 120 ] &&
	pass "filter sip_server: 120 of sc4-dc1" || fail "sc4-dc1: $(jqv '.items | length')"
api GET "/v1/sessions?sip_server=nope"
same_json "$(cat "$T_DIR/body")" '{"items": [], "next": null}' && pass "a server without sessions: none" || fail "nope: $(cat "$T_DIR/body")"
api GET "/v1/sessions?aor=sip:alice@example.com"
[ "$(ids)" = "$S3 $S2" ] && pass "filter aor: caller or callee of a dialog, an ended one too" || fail "aor alice: $(ids)"
api GET "/v1/sessions?aor=alice@EXAMPLE.com"
[ "$(ids)" = "$S3 $S2" ] && pass "aor without scheme, domain in another case" || fail "aor normalised: $(ids)"
api GET "/v1/sessions?aor=sips:alice@example.com&ended=yes"
[ "$(ids)" = "$S3 $S2 $S1" ] && pass "aor (sips:) with ended=yes: the ended session too" || fail "aor ended: $(ids)"
api GET "/v1/sessions?aor=sip:carol@example.com"
[ "$(ids)" = "$S2" ] && pass "aor: the callee of an early dialog" || fail "aor carol: $(ids)"
api GET "/v1/sessions?aor=sip:frank@localhost"
[ "$(ids)" = "$S5" ] && pass "aor: a caller whose dialog has no callee" || fail "aor frank: $(ids)"
api GET "/v1/sessions?aor=sip:Alice@example.com"
[ "$(jqv '.items | length')" = 0 ] && pass "aor: the user part is compared as written" || fail "aor Alice: $(ids)"
api GET "/v1/sessions?aor=sip:carol@example.com&sip_server=sc6-dc2"
[ "$(jqv '.items | length')" = 0 ] && pass "aor and sip_server together" || fail "aor+sip_server: $(ids)"
api GET "/v1/sessions?min_age=600&max_age=86400"
[ "$(ids)" = "$S3" ] && same_json "$(jqv '.items[0]')" "$J3" && pass "min_age and max_age: created 10 minutes to a day ago" || fail "ages: $(ids)"
api GET "/v1/sessions?max_age=300"
[ "$(ids)" = "$S5 $S4" ] && pass "max_age: the last 5 minutes" || fail "max_age: $(ids)"
api GET "/v1/sessions?min_age=600&limit=1000"
[ "$(jqv '.items | length')" = 122 ] && [ "$(jqv '[.items[0:2][].id] | map(tostring) | join(" ")')" = "$S3 $S2" ] && pass "min_age: 122 older than 10 minutes" || fail "min_age: $(jqv '.items | length')"
api GET "/v1/sessions?ended=yes&limit=1000"
[ "$(jqv '.items | length')" = 125 ] && same_json "$(jqv '[.items[] | select(.ended != null)]')" "[$J1]" && pass "ended=yes: open and ended, the ended one with its end and no dialog up" ||
	fail "ended=yes: $(jqv '.items | length')"
api GET "/v1/sessions?ended=yes&sip_server=sc1-dc1"
[ "$(ids)" = "$S5 $S1" ] && pass "ended=yes and sip_server" || fail "ended+sip_server: $(ids)"
api GET "/v1/sessions?ended=no&limit=1000"
[ "$(jqv '.items | length')" = 124 ] && pass "ended=no: open ones only" || fail "ended=no: $(jqv '.items | length')"
for bad in sip_server=bad%20name sip_server=-x "sip_server=$(printf 'x%.0s' $(seq 64))" aor=nobody aor=sip:x aor=sip:@example.com \
	min_age=abc min_age=-1 min_age=1.5 min_age= min_age=%2B5 max_age=2147483648 max_age=99999999999 "min_age=100&max_age=10" \
	ended=maybe ended=true limit=0 limit=1001 cursor=garbage state=open; do
	api GET "/v1/sessions?$bad"
	expect 400 bad_request "sessions with $bad"
done
api GET "/v1/sessions?min_age=100&max_age=10"
[ "$(jqv .error.message)" = "min_age (100) is over max_age (10): no session is both" ] && pass "400 says why" || fail "400 message: $(cat "$T_DIR/body")"
api GET "/v1/sessions?max_age=2147483647&min_age=0"
expect 200 "the largest and smallest ages"

J2D='{"id": '$S2', "sip_server": "sc3-dc1", "ha_pair": "p2-dc1", "node": "node-a", "created": "2025-12-05T03:00:00.000Z", "last_activity": "2025-12-05T03:05:00.000Z", "ended": null, "moved_from": null, "dialogs": [
	{"call_id": "call-a", "from_tag": "fa", "to_tag": "ta", "method": "INVITE", "state": "confirmed", "relation": "new", "caller_aor": "sip:alice@example.com", "callee_aor": "sip:bob@example.com", "node": "node-a", "created": "2025-12-05T03:00:00.000Z", "updated": "2025-12-05T03:00:05.000Z", "expires": "2099-01-01T00:00:00.000Z", "ended": null},
	{"call_id": "call-b", "from_tag": "fb", "to_tag": null, "method": "INVITE", "state": "early", "relation": "replaces", "caller_aor": "sip:bob@example.com", "callee_aor": "sip:carol@example.com", "node": "node-b", "created": "2025-12-05T03:01:00.000Z", "updated": "2025-12-05T03:01:00.000Z", "expires": "2099-01-01T00:00:00.000Z", "ended": null},
	{"call_id": "call-c", "from_tag": "fc", "to_tag": "tc", "method": "SUBSCRIBE", "state": "ended", "relation": "device", "caller_aor": "sip:dave@example.com", "callee_aor": "sip:alice@example.com", "node": "node-b", "created": "2025-12-05T03:02:00.000Z", "updated": "2025-12-05T03:03:00.000Z", "expires": "2025-12-05T03:04:00.000Z", "ended": "2025-12-05T03:03:00.000Z"}]}'
api GET "/v1/sessions/$S2"
expect 200 "read session S2"
same_json "$(cat "$T_DIR/body")" "$J2D" && pass "read: the session and every dialog, ended ones too, by creation" || fail "S2: $(cat "$T_DIR/body")"
api GET "/v1/sessions/$S4"
expect 200 "read a session without dialogs"
same_json "$(cat "$T_DIR/body")" "$(jq -c '.dialogs = []' <<<"$J4")" && pass "read: dialogs []" || fail "S4: $(cat "$T_DIR/body")"
api GET "/v1/sessions/$S1"
expect 200 "read the ended session"
same_json "$(jqv 'del(.dialogs)')" "$(jq -c 'del(.dialogs)' <<<"$J1")" && [ "$(jqv '[.dialogs[] | .call_id + " " + .state + " " + .ended] | join(",")')" = "old-1 ended 2025-12-05T02:20:00.000Z" ] &&
	pass "read: ended, with its ended dialog" || fail "S1: $(cat "$T_DIR/body")"
api GET "/v1/sessions/$S5"
[ "$(jqv '[.dialogs[0] | .relation, .method, .caller_aor, .callee_aor, .to_tag] | map(tostring) | join(" ")')" = "referred-by REFER sip:frank@localhost null te" ] &&
	pass "read: callee_aor null" || fail "S5: $(cat "$T_DIR/body")"
api GET /v1/sessions/999999
expect 404 not_found "read a session that does not exist"
[ "$(jqv .error.message)" = "no session 999999" ] && pass "404 names the session" || fail "404 message: $(cat "$T_DIR/body")"
api GET /v1/sessions/0
expect 404 not_found "read session 0"
for bad in abc 12x -1 1.5 %20 1234567890123456789; do
	api GET "/v1/sessions/$bad"
	expect 400 bad_request "read session '$bad'"
done
api GET "/v1/sessions/$S2?verbose=1"
expect 400 bad_request "read a session with a query parameter"
TOKEN= api GET /v1/sessions
expect 401 unauthorized "sessions without a token"
TOKEN=${ADMIN_TOKEN%?}X api GET "/v1/sessions/$S2"
expect 401 unauthorized "a session with a wrong token"
api POST /v1/sessions '{}'
expect 405 method_not_allowed "POST on the sessions"
grep -qi '^Allow: GET, HEAD' "$T_DIR/headers" && pass "405 lists Allow" || fail "no Allow header"
api DELETE "/v1/sessions/$S2"
expect 405 method_not_allowed "DELETE a session (read only)"
api HEAD /v1/sessions "" -I
[ "$STATUS" = 200 ] && pass "HEAD on the sessions" || fail "HEAD sessions: $STATUS"

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
api GET /v1/sip-servers
expect 503 database_unavailable "sip servers with the database down"
api POST /v1/sip-servers '{"name": "sc7", "uri": "sip:10.0.1.7", "geo_location": "dc1"}'
expect 503 database_unavailable "add a sip server with the database down"
api GET /v1/sessions
expect 503 database_unavailable "sessions with the database down"
api GET "/v1/sessions/$S2"
expect 503 database_unavailable "a session with the database down"
api GET /v1/nodes
expect 503 database_unavailable "nodes with the database down"
api GET /v1/log
[ "$STATUS" = 200 ] && jq -e '[.entries[] | select(.level == "warn" and (.message | startswith("event=admin_db_down ")))] | length > 0' "$T_DIR/body" >/dev/null &&
	pass "/v1/log answers with the database down, and says so" || fail "log with the database down: $STATUS $(head -c 600 "$T_DIR/body")"
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

# ---- bans (security.sh covers what they do to SIP) ------------------------------------
api POST /v1/bans '{"target": "192.0.2.7", "seconds": 300}'
expect 201 "a manual ban"
grep -q "^Location: /v1/bans/192.0.2.7" "$T_DIR/headers" && pass "its Location" || fail "ban Location"
api POST /v1/bans '{"kind": "user", "target": "mallory@example.com", "seconds": 60}'
expect 201 "a user's ban"
api GET /v1/bans
expect 200 "the bans"
[ "$(jq -r '[.items[].target] | join(" ")' "$T_DIR/body")" = "192.0.2.7 mallory@example.com" ] &&
	pass "address bans first" || fail "bans: $(cat "$T_DIR/body")"
api GET /v1/bans/192.0.2.7
expect 200 "one ban"
[ "$(jq -r '.reason + " " + .kind' "$T_DIR/body")" = "manual address" ] && pass "its fields" ||
	fail "ban: $(cat "$T_DIR/body")"
api GET '/v1/bans?kind=other'
expect 400 bad_request "a kind that is none"
api POST /v1/bans '{"target": "192.0.2.0/24", "seconds": 300}'
expect 422 invalid_field "a block is not one address"
api POST /v1/bans '{"target": "192.0.2.8", "seconds": 0}'
expect 422 invalid_field "zero seconds"
api POST /v1/bans '{"target": "192.0.2.8"}'
expect 422 missing_field "no seconds"
api DELETE /v1/bans/192.0.2.7
expect 204 "lifted"
api DELETE /v1/bans/192.0.2.7
expect 404 not_found "lifted twice"
api GET /v1/bans/192.0.2.7
expect 404 not_found "a lifted ban"
api DELETE /v1/bans/mallory@example.com
expect 204 "a user's ban lifted"
api PATCH /v1/bans/192.0.2.7 '{}'
expect 405 method_not_allowed "bans are not patched"

# ---- registration events (reg_events.sh covers their delivery) -------------------------
api GET /v1/notifications
expect 200 "registration events: none pending ([notify] mode = off)"
[ "$(jq -c '[.count, (.notifications | length)]' "$T_DIR/body")" = "[0,0]" ] &&
	pass "no events recorded" || fail "notifications: $(cat "$T_DIR/body")"
api GET '/v1/notifications?state=lost'
expect 400 bad_request "a state that is none"

# ---- static routes and call forwards (routes_api.sh covers them in full) ----------------
api POST /v1/routes '{"kind": "prefix", "match": "4930", "next_hop": "gw1.example.net"}'
expect 201 "a route"
RID=$(jq -r .id "$T_DIR/body")
api GET /v1/routes
expect 200 "routes"
api GET "/v1/routes/$RID"
expect 200 "the route"
api PUT "/v1/routes/$RID" '{"kind": "prefix", "match": "4931", "next_hop": "gw1.example.net"}'
expect 200 "the route replaced"
api DELETE "/v1/routes/$RID"
expect 204 "the route deleted"
api PUT /v1/forwards/alice@example.com '{"target": "sip:bob@example.com"}'
expect 201 "a forward"
api GET /v1/forwards
expect 200 "forwards"
api GET /v1/forwards/alice@example.com
expect 200 "the forward"
api DELETE /v1/forwards/alice@example.com
expect 204 "the forward deleted"

# ---- call records (cdr_writer.sh covers them) -------------------------------------------
api GET /v1/cdrs
expect 200 "call records: none ([cdr] off)"
api GET /v1/cdrs/calls
expect 200 "calls: none"
[ "$(jq -c .items "$T_DIR/body")" = "[]" ] && pass "no calls recorded" || fail "calls: $(cat "$T_DIR/body")"

# ---- the nodes of the cluster -----------------------------------------------------------
api GET /v1/status
NODE=$(jqv .node)
STARTED=$(jqv .started_at)
JVERSION=$("$JUNCTION" --version | cut -d' ' -f2)
# another node, stopped (31 s without a heartbeat): its row stays, not alive
psql_q "INSERT INTO node (name, version, geo_location, sip_listen, admin_listen, started_at, last_seen)
	VALUES ('zz-gone', '0.9.1', 'dc9', 'udp:192.0.2.9:5060 tcp:192.0.2.9:5060', NULL,
	'2026-01-02 03:04:05.678+00', now() - interval '31 seconds')" >/dev/null
for _ in 1 2 3; do # one heartbeat before and after the request: last_seen known
	seen=$(iso "(SELECT last_seen FROM node WHERE name = '$NODE')")
	api GET /v1/nodes
	[ "$seen" = "$(iso "(SELECT last_seen FROM node WHERE name = '$NODE')")" ] && break
done
expect 200 "the nodes"
want=$(jq -n --arg name "$NODE" --arg v "$JVERSION" --arg admin "127.0.0.1:$APORT" --arg seen "$seen" \
	--arg sip "udp:127.0.0.1:$PORT tcp:127.0.0.1:$PORT udp:[::1]:$PORT tcp:[::1]:$PORT" \
	--arg started "$(iso "(SELECT started_at FROM node WHERE name = '$NODE')")" \
	--arg gone_seen "$(iso "(SELECT last_seen FROM node WHERE name = 'zz-gone')")" \
	'[{name: $name, version: $v, geo_location: null, sip_listen: $sip, admin_listen: $admin,
	   started_at: $started, last_seen: $seen, alive: true, self: true},
	  {name: "zz-gone", version: "0.9.1", geo_location: "dc9",
	   sip_listen: "udp:192.0.2.9:5060 tcp:192.0.2.9:5060", admin_listen: null,
	   started_at: "2026-01-02T03:04:05.678Z", last_seen: $gone_seen, alive: false, self: false}]')
same_json "$(jq -c '.nodes | sort_by(.name)' "$T_DIR/body")" "$(jq -c 'sort_by(.name)' <<<"$want")" &&
	pass "nodes: this one (self, alive, version, listeners, no geo_location) and a gone one (not alive)" ||
	fail "nodes: $(jq -c .nodes "$T_DIR/body"), want $(jq -c . <<<"$want")"
[ "$(jq -r '[.nodes[].name] | join(",")' "$T_DIR/body")" = "$(psql_q "SELECT string_agg(name, ',' ORDER BY name) FROM node")" ] &&
	pass "nodes by name" || fail "nodes order: $(jq -c '[.nodes[].name]' "$T_DIR/body")"
[ "$(psql_q "SELECT abs(extract(epoch FROM started_at - '$STARTED'::timestamptz)) < 5 FROM node WHERE name = '$NODE'")" = t ] &&
	pass "its started_at is the start /v1/status gives ($STARTED)" || fail "started_at $(psql_q "SELECT started_at FROM node")"
# the heartbeat: a row made old comes back alive within 10 s
psql_q "UPDATE node SET last_seen = now() - interval '1 hour' WHERE name = '$NODE'" >/dev/null
api GET /v1/nodes
[ "$(jq -c --arg n "$NODE" '[.nodes[] | select(.name == $n) | .alive, .self]' "$T_DIR/body")" = "[false,true]" ] &&
	pass "a node without a heartbeat for an hour is not alive" || fail "old heartbeat: $(jq -c .nodes "$T_DIR/body")"
start=$(date +%s%N)
for _ in $(seq 60); do
	[ "$(psql_q "SELECT alive FROM cluster_nodes WHERE name = '$NODE'")" = t ] && break
	sleep 0.25
done
took=$((($(date +%s%N) - start) / 1000000))
api GET /v1/nodes
[ "$(jq -c --arg n "$NODE" '[.nodes[] | select(.name == $n) | .alive]' "$T_DIR/body")" = "[true]" ] && [ "$took" -le 11000 ] &&
	[ "$(jq -c '[.nodes[] | select(.name == "zz-gone") | .alive]' "$T_DIR/body")" = "[false]" ] &&
	pass "the next heartbeat makes it alive again (${took} ms); the gone node's row is left as it was" ||
	fail "heartbeat after ${took} ms: $(jq -c .nodes "$T_DIR/body")"
api GET '/v1/nodes?name=x'
expect 400 bad_request "nodes take no parameter"
api POST /v1/nodes '{}'
expect 405 method_not_allowed "nodes are read only"
api HEAD /v1/nodes "" -I
[ "$STATUS" = 200 ] && pass "HEAD on the nodes" || fail "HEAD nodes: $STATUS"

# ---- this node's recent warnings and errors ----------------------------------------------
TOKEN=wrong-token-0123456789abcdef api GET /v1/log-probe
expect 401 unauthorized "a wrong token (logged at warn)"
api GET /v1/log
expect 200 "recent warnings"
msg=$(jq -r '.entries[0].message' "$T_DIR/body")
[ "$(jq -r '.entries[0].level' "$T_DIR/body")" = warn ] &&
	grep -Eq '^event=admin_request method=GET path="/v1/log-probe" status=401 ms=[0-9]+\.[0-9] remote=127\.0\.0\.1:[0-9]+$' <<<"$msg" &&
	grep -Fxq "ts=$(jq -r '.entries[0].time' "$T_DIR/body") level=warn $msg" "$T_DIR/junction.log" &&
	pass "the newest entry is the refused request, its time and text those of the log line" ||
	fail "log: $(jq -c '.entries[0]' "$T_DIR/body")"
cp "$T_DIR/body" "$T_DIR/log.default"
# every entry is a warn or error line of the log, newest first, none left out
log_matches() { # BODY LEVELS LIMIT: the entries are the log's last LIMIT lines of LEVELS
	"$PY3" - "$1" "$T_DIR/junction.log" "$2" "$3" <<'PY'
import json, re, sys
body, logf, levels, limit = sys.argv[1], sys.argv[2], sys.argv[3].split(","), int(sys.argv[4])
entries = json.load(open(body))["entries"]
def cut(text):  # as log.c keeps a text over 512 bytes
    b = text.encode()
    if len(b) <= 512:
        return text
    keep = 509
    while keep > 0 and (b[keep] & 0xC0) == 0x80:
        keep -= 1
    return b[:keep].decode() + "..."
lines = []
for line in open(logf, encoding="utf-8", errors="replace"):
    m = re.match(r"^ts=(\S+) level=(warn|error) (.*)$", line.rstrip("\n"))
    if m and m.group(2) in levels:
        lines.append({"time": m.group(1), "level": m.group(2), "message": cut(m.group(3))})
# lines logged after the request are not in its answer
while lines and entries and lines[-1] != entries[0]:
    lines.pop()
want = lines[::-1][:limit]
if entries != want:
    print("got %d entries, want %d; first difference:" % (len(entries), len(want)))
    for g, w in zip(entries + [None] * len(want), want + [None] * len(entries)):
        if g != w:
            print("  got  %s\n  want %s" % (g, w))
            break
    sys.exit(1)
print(len(entries))
PY
}
n=$(log_matches "$T_DIR/log.default" warn,error 100) && pass "/v1/log: the last $n warn and error lines of the log, newest first" || fail "log vs junction.log: $n"
api GET '/v1/log?level=error&limit=200'
expect 200 "recent errors"
n=$(log_matches "$T_DIR/body" error 200) && [ "$(jq '[.entries[] | select(.level != "error")] | length' "$T_DIR/body")" = 0 ] &&
	pass "/v1/log?level=error: the last $n error lines only" || fail "errors vs junction.log: $n"
api GET '/v1/log?level=warn&limit=1'
expect 200 "the newest entry"
[ "$(jq -c .entries "$T_DIR/body")" = "$(jq -c '.entries[:1]' "$T_DIR/log.default")" ] &&
	pass "limit=1: one entry, the newest" || fail "limit=1: $(jq -c .entries "$T_DIR/body")"
for bad in limit=0 limit=201 limit=-1 limit=1x 'limit=' level=x level=info level=ERROR since=1; do
	api GET "/v1/log?$bad"
	expect 400 bad_request "/v1/log?$bad"
done
api DELETE /v1/log
expect 405 method_not_allowed "the log is read only"
api HEAD /v1/log "" -I
[ "$STATUS" = 200 ] && pass "HEAD on the log" || fail "HEAD log: $STATUS"

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
# refused means: connected, then no HTTP answer (52 empty reply, 56 reset,
# 1 or 35 a TLS record taken for junk); 7 (nobody listening) or 28 (a
# timeout) is no pass
curl -s -m 5 -o /dev/null "http://127.0.0.1:$APORT2/healthz"
rc=$?
case $rc in
1 | 35 | 52 | 56) curl -s -m 5 -o /dev/null --cacert "$T_DIR/tls/cert.pem" "https://127.0.0.1:$APORT2/healthz" &&
	pass "no plain HTTP on the HTTPS port (curl $rc), HTTPS still answers" || fail "HTTPS no longer answers" ;;
0) fail "plain HTTP answered on the HTTPS port" ;;
*) fail "plain HTTP to the HTTPS port: curl exit $rc, not a refusal" ;;
esac
out=$(JUNCTION_TOKEN=tls-token-abcdefghijklmnop "$JUNCTIONCTL" --url "https://127.0.0.1:$APORT2" --cacert "$T_DIR/tls/cert.pem" status 2>&1)
grep -q '^database *off' <<<"$out" && pass "junctionctl over HTTPS" || fail "junctionctl https: $out"
stop_junction && pass "SIGTERM exit 0 (TLS daemon)" || fail "exit status (TLS daemon)"
JCT_PID=$PID1
stop_junction && pass "SIGTERM exit 0" || fail "exit status"
t_done
