#!/usr/bin/env bash
# Static routes and call forwards (issue 20) against the running daemon
# and a real PostgreSQL: every /v1/routes and /v1/forwards endpoint with
# the rows they leave in SQL (next hops normalised to sip:, domains in
# lowercase, defaults), their errors (400 bad JSON, query parameter or
# AOR; 404; 405 with Allow; 409 for a hop twice; 422 for each value
# refused: kind, prefix, domain, next hop, priority, weight, description,
# target, a forward to itself, a domain we do not serve), pagination and
# filters; the nodes' in-memory copies (junction_routes_loaded and
# junction_forwards_loaded in /metrics) following every change made in
# SQL directly within a second, disabled rows left out, and again after
# the database restarts; the tables' normalising triggers and CHECKs;
# junctionctl route list/add/show/del and forward list/set/show/del with
# their output and exit codes; and every answer checked against
# admin/openapi.json.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg.sh"
. "$(dirname "$0")/admin_lib.sh"
need ss psql curl jq
[ -x "$PY3" ] && "$PY3" -c 'import jsonschema' 2>/dev/null || skip "python3-jsonschema not installed" # under CI=true: a failure
[ -x "$JUNCTIONCTL" ] || { fail "no $JUNCTIONCTL"; t_done; }

PORT=$(free_port)
APORT=$(free_port)
write_config "$PORT"
pg_start || { fail "postgres"; t_done; }
pg_config
admin_config "$APORT"
pg_migrate >/dev/null || { fail "migrate"; t_done; }
start_junction "$PORT" || { fail "start"; t_done; }
wait_admin || { fail "admin API"; t_done; }

export HOME=$T_DIR/home XDG_CONFIG_HOME=
mkdir -p "$HOME/.config"
unset JUNCTION_URL JUNCTION_TOKEN

# metric NAME: its value in /metrics now
metric() { curl -s "$ADMIN_URL/metrics" | awk -v m="$1" '$1 == m { print $2 }'; }
# loaded NAME WANT WHAT: NAME reaches WANT within a second of now
loaded() {
	if wait_for 1 [ "$(metric "$1")" = "$2" ]; then
		pass "$3: $1 $2 within a second"
	else
		fail "$3: $1 is $(metric "$1"), not $2, a second later"
	fi
}
# check WHAT CONDITION...: pass when the command succeeds
check() {
	local what=$1
	shift
	if "$@"; then pass "$what"; else fail "$what"; fi
}
eq() { [ "$1" = "$2" ] || { log "  got '$1', want '$2'"; return 1; }; }
# header LINE: the last answer had this header line (name in any case)
header() { tr -d '\r' <"$T_DIR/headers" | grep -qixF -- "$1"; }

# ---- nothing yet ------------------------------------------------------------------------------
[ "$(metric junction_routes_loaded)" = 0 ] && [ "$(metric junction_forwards_loaded)" = 0 ] &&
	pass "metrics: nothing loaded at start" || fail "metrics at start: $(metric junction_routes_loaded) $(metric junction_forwards_loaded)"
api GET /v1/routes
expect 200 "empty route list"
check "empty list: no items, no next" eq "$(jqv '[(.items | length), .next] | map(tostring) | join(" ")')" "0 null"

# ---- routes: create ---------------------------------------------------------------------------
api POST /v1/routes '{"kind": "prefix", "match": "4930", "next_hop": "gw1.example.net:5060", "priority": 0, "weight": 3, "description": "Berlin"}'
expect 201 "create a prefix route, next hop as host:port"
R1=$(jqv .id)
check "created: sip: put in front, fields as given" eq "$(jqv '[.kind, .match, .next_hop, .priority, .weight, .enabled, .description] | map(tostring) | join(" ")')" \
	"prefix 4930 sip:gw1.example.net:5060 0 3 true Berlin"
check "Location names the new route" header "Location: /v1/routes/$R1"
check "created_at = updated_at" eq "$(jqv '.created_at == .updated_at')" true
api POST /v1/routes '{"kind": "prefix", "match": "4930", "next_hop": "sips:gw2.example.net;transport=tcp", "priority": 0, "weight": 1}'
expect 201 "a second hop for the same prefix"
R2=$(jqv .id)
api POST /v1/routes '{"kind": "domain", "match": "Example.ORG", "next_hop": "SIP:10.0.0.7:5070"}'
expect 201 "a domain route, defaults"
R3=$(jqv .id)
check "domain lowercased, scheme kept, defaults 0 1 true null" eq "$(jqv '[.match, .next_hop, .priority, .weight, .enabled, .description] | map(tostring) | join(" ")')" \
	"example.org SIP:10.0.0.7:5070 0 1 true null"
api POST /v1/routes '{"kind": "outbound", "match": "example.net", "next_hop": "[2001:db8::1]:5060", "enabled": false}'
expect 201 "a disabled outbound route, IPv6 next hop"
R4=$(jqv .id)
check "IPv6 reference kept, disabled" eq "$(jqv '[.next_hop, .enabled] | map(tostring) | join(" ")')" "sip:[2001:db8::1]:5060 false"
check "the rows in SQL" eq "$(psql_q "SELECT string_agg(concat_ws(' ', kind, match, next_hop, priority, weight, enabled, coalesce(description, '-')), ',' ORDER BY id) FROM route")" \
	"prefix 4930 sip:gw1.example.net:5060 0 3 t Berlin,prefix 4930 sips:gw2.example.net;transport=tcp 0 1 t -,domain example.org SIP:10.0.0.7:5070 0 1 t -,outbound example.net sip:[2001:db8::1]:5060 0 1 f -"
loaded junction_routes_loaded 3 "three enabled routes written through the API"

# ---- routes: refused --------------------------------------------------------------------------
bad_route() { # BODY CODE WHAT
	api POST /v1/routes "$1"
	expect 422 "$2" "$3"
}
bad_route '{"kind": "country", "match": "49", "next_hop": "gw"}' invalid_field "kind country"
bad_route '{"kind": "prefix", "match": "+4930", "next_hop": "gw"}' invalid_field "prefix with '+'"
bad_route '{"kind": "prefix", "match": "1234567890123456", "next_hop": "gw"}' invalid_field "prefix of 16 digits"
bad_route '{"kind": "prefix", "match": "", "next_hop": "gw"}' invalid_field "empty prefix"
bad_route '{"kind": "domain", "match": "bad_domain.com", "next_hop": "gw"}' invalid_field "domain with '_'"
bad_route '{"kind": "domain", "match": "-a.com", "next_hop": "gw"}' invalid_field "domain label starting with '-'"
bad_route '{"kind": "outbound", "match": "a..com", "next_hop": "gw"}' invalid_field "empty domain label"
bad_route '{"kind": "domain", "match": "a.com", "next_hop": "sip:user@gw.example.net"}' invalid_field "next hop with a user part"
bad_route '{"kind": "domain", "match": "a.com", "next_hop": "sip:gw.example.net?subject=x"}' invalid_field "next hop with headers"
bad_route '{"kind": "domain", "match": "a.com", "next_hop": "http://gw.example.net"}' invalid_field "next hop http://"
bad_route '{"kind": "domain", "match": "a.com", "next_hop": "gw example.net"}' invalid_field "next hop with a blank"
bad_route '{"kind": "domain", "match": "a.com", "next_hop": ""}' invalid_field "empty next hop"
bad_route "{\"kind\": \"domain\", \"match\": \"a.com\", \"next_hop\": \"sip:$(printf 'a%.0s' $(seq 260)).com\"}" invalid_field "next hop of 268 characters"
bad_route '{"kind": "domain", "match": "a.com", "next_hop": "gw", "priority": -1}' invalid_field "priority -1"
bad_route '{"kind": "domain", "match": "a.com", "next_hop": "gw", "priority": 65536}' invalid_field "priority 65536"
bad_route '{"kind": "domain", "match": "a.com", "next_hop": "gw", "weight": "3"}' invalid_field "weight as a string"
bad_route '{"kind": "domain", "match": "a.com", "next_hop": "gw", "weight": 1.5}' invalid_field "weight 1.5"
bad_route '{"kind": "domain", "match": "a.com", "next_hop": "gw", "enabled": "yes"}' invalid_field "enabled yes"
bad_route "{\"kind\": \"domain\", \"match\": \"a.com\", \"next_hop\": \"gw\", \"description\": \"$(printf 'x%.0s' $(seq 257))\"}" invalid_field "description of 257 characters"
bad_route '{"kind": "domain", "match": "a.com"}' missing_field "no next_hop"
bad_route '{"kind": "domain", "match": "a.com", "next_hop": "gw", "via": "x"}' invalid_field "unknown field"
api POST /v1/routes "{\"kind\": \"domain\", \"match\": \"a.com\", \"next_hop\": \"gw\", \"description\": \"$(printf 'é%.0s' $(seq 256))\"}"
expect 201 "a description of 256 characters (512 bytes)"
R5=$(jqv .id)
api POST /v1/routes '{"kind": "prefix", "match": 49'
expect 400 invalid_json "body not JSON"
api POST /v1/routes '["prefix"]'
expect 400 invalid_json "body not an object"
api POST /v1/routes '{"kind": "prefix", "match": "4930", "next_hop": "sip:gw1.example.net:5060"}'
expect 409 already_exists "the same hop twice for one prefix"
check "409 says which" grep -q 'prefix route 4930 -> sip:gw1.example.net:5060: this match has this next hop already' "$T_DIR/body"
api POST /v1/routes '{"kind": "domain", "match": "4930", "next_hop": "sip:gw1.example.net:5060"}'
expect 201 "the same match and hop under another kind is another route"
R6=$(jqv .id)

# ---- routes: read, replace, delete --------------------------------------------------------------
api GET "/v1/routes/$R1"
expect 200 "read a route"
check "read: the row" eq "$(jqv '[.id, .match, .next_hop, .weight] | map(tostring) | join(" ")')" "$R1 4930 sip:gw1.example.net:5060 3"
for p in 999999 0 abc -1 12345678901234567890; do
	api GET "/v1/routes/$p"
	expect 404 not_found "read route $p"
done
api GET "/v1/routes/$R1?x=1"
expect 400 bad_request "read with a query parameter"
api PATCH "/v1/routes/$R1" '{"weight": 1}'
expect 405 method_not_allowed "PATCH a route"
check "405 Allow: GET, HEAD, PUT, DELETE" grep -qi '^Allow: GET, HEAD, PUT, DELETE' "$T_DIR/headers"
api PUT /v1/routes '{}'
expect 405 method_not_allowed "PUT on the list"
check "the list's Allow: GET, HEAD, POST" grep -qi '^Allow: GET, HEAD, POST' "$T_DIR/headers"
sleep 0.01
api PUT "/v1/routes/$R1" '{"kind": "prefix", "match": "49301", "next_hop": "gw1.example.net", "priority": 7}'
expect 200 "replace a route"
check "replaced whole: what was left out is back to its default" eq "$(jqv '[.id, .match, .next_hop, .priority, .weight, .description] | map(tostring) | join(" ")')" \
	"$R1 49301 sip:gw1.example.net 7 1 null"
check "updated_at moved, created_at kept" eq "$(jqv '.updated_at > .created_at')" true
api PUT "/v1/routes/$R1" '{"kind": "prefix", "match": "4930", "next_hop": "sips:gw2.example.net;transport=tcp"}'
expect 409 already_exists "replace into a hop that exists"
api PUT "/v1/routes/$R1" '{"kind": "prefix", "next_hop": "gw"}'
expect 422 missing_field "replace without match"
api PUT /v1/routes/999999 '{"kind": "prefix", "match": "1", "next_hop": "gw"}'
expect 404 not_found "replace a route that is not there"
api DELETE "/v1/routes/$R6"
expect 204 "delete a route"
api DELETE "/v1/routes/$R6"
expect 404 not_found "delete it again"
api GET "/v1/routes/$R6"
expect 404 not_found "read it after"

# ---- routes: list, filters, pages ---------------------------------------------------------------
api GET /v1/routes
expect 200 "list"
check "list: every route by id" eq "$(jqv '[.items[].id] | map(tostring) | join(" ")')" "$R1 $R2 $R3 $R4 $R5"
api "GET" "/v1/routes?kind=prefix"
check "?kind=prefix" eq "$(jqv '[.items[].id] | map(tostring) | join(" ")')" "$R1 $R2"
api GET "/v1/routes?match=EXAMPLE.org"
check "?match= in any case" eq "$(jqv '[.items[].id] | map(tostring) | join(" ")')" "$R3"
api GET "/v1/routes?kind=domain&match=4930"
check "?kind&match: nothing" eq "$(jqv '.items | length')" 0
api GET "/v1/routes?limit=2"
expect 200 "a page of 2"
NEXT=$(jqv .next)
check "page 1" eq "$(jqv '[.items[].id] | map(tostring) | join(" ")')" "$R1 $R2"
api GET "/v1/routes?limit=2&cursor=$NEXT"
check "page 2" eq "$(jqv '[.items[].id] | map(tostring) | join(" ")')" "$R3 $R4"
api GET "/v1/routes?limit=2&cursor=$(jqv .next)"
check "page 3, the last" eq "$(jqv '[(.items | length), .next] | map(tostring) | join(" ")')" "1 null"
api GET "/v1/routes?kind=country"
expect 400 bad_request "?kind=country"
api GET "/v1/routes?limit=0"
expect 400 bad_request "?limit=0"
api GET "/v1/routes?cursor=nonsense"
expect 400 bad_request "a cursor we never gave"
api GET "/v1/routes?via=1"
expect 400 bad_request "unknown parameter"
loaded junction_routes_loaded 4 "after the API's changes (R1, R2, R3, R5 enabled)"

# ---- routes: SQL directly, the nodes follow within a second -----------------------------------
psql_q "INSERT INTO route (kind, match, next_hop) VALUES ('prefix', '33', '192.0.2.10')" >/dev/null
loaded junction_routes_loaded 5 "a route inserted in SQL"
check "SQL insert normalised by the trigger" eq "$(psql_q "SELECT next_hop FROM route WHERE match = '33'")" "sip:192.0.2.10"
psql_q "INSERT INTO route (kind, match, next_hop, weight) SELECT 'prefix', '44' || i, 'gw' || i || '.example.net', i FROM generate_series(1, 100) i" >/dev/null
loaded junction_routes_loaded 105 "100 routes in one statement"
psql_q "UPDATE route SET enabled = false WHERE match LIKE '44%'" >/dev/null
loaded junction_routes_loaded 5 "100 routes disabled"
psql_q "UPDATE route SET enabled = true WHERE id = $R4" >/dev/null
loaded junction_routes_loaded 6 "the outbound route enabled"
psql_q "UPDATE route SET match = 'EXAMPLE.com' WHERE id = $R3" >/dev/null
check "an UPDATE in SQL lowercases the domain" eq "$(psql_q "SELECT match FROM route WHERE id = $R3")" "example.com"
check "... and stamps updated_at" eq "$(psql_q "SELECT updated_at > created_at FROM route WHERE id = $R3")" t
psql_q "DELETE FROM route WHERE match LIKE '44%'" >/dev/null
loaded junction_routes_loaded 6 "disabled routes deleted: no change"
psql_q "DELETE FROM route WHERE id = $R5" >/dev/null
loaded junction_routes_loaded 5 "a route deleted in SQL"
check "routes_loaded logged" grep -q 'event=routes_loaded rows=5 ' "$T_DIR/junction.log"
for v in "('prefix', '49a', 'gw')" "('prefix', '1234567890123456', 'gw')" "('domain', 'a b', 'gw')" \
	"('domain', 'a.com', 'sip:u@gw')" "('zone', 'a.com', 'gw')" "('domain', 'a.com', 'gw'), ('domain', 'A.com', 'gw')"; do
	if psql_q "INSERT INTO route (kind, match, next_hop) VALUES $v" >/dev/null 2>&1; then
		fail "SQL accepted $v"
	else
		pass "SQL refuses $v"
	fi
done
psql_q "INSERT INTO route (kind, match, next_hop, priority) VALUES ('prefix', '1', 'gw', 70000)" >/dev/null 2>&1 &&
	fail "SQL accepted priority 70000" || pass "SQL refuses priority 70000"

# ---- forwards: create or replace ------------------------------------------------------------------
api PUT /v1/forwards/alice@example.com '{"target": "sip:bob@example.org", "description": "holiday"}'
expect 201 "create a forward"
check "created: the row" eq "$(jqv '[.aor, .target, .enabled, .description] | map(tostring) | join(" ")')" "alice@example.com sip:bob@example.org true holiday"
check "Location names it" header "Location: /v1/forwards/alice@example.com"
CREATED=$(jqv .created_at)
sleep 0.01
api PUT /v1/forwards/alice@EXAMPLE.com '{"target": "sips:voicemail.example.com;user=alice", "enabled": false}'
expect 200 "replace it (domain in any case)"
check "replaced whole: description gone, disabled" eq "$(jqv '[.aor, .target, .enabled, .description] | map(tostring) | join(" ")')" \
	"alice@example.com sips:voicemail.example.com;user=alice false null"
check "created_at kept, updated_at moved" eq "$(jqv "[.created_at == \"$CREATED\", .updated_at > .created_at] | map(tostring) | join(\" \")")" "true true"
api PUT /v1/forwards/sip:Carol@LOCALHOST '{"target": "sip:+4930123@gw.example.net;user=phone"}'
expect 201 "create with sip: and a capital user"
check "stored as user@domain, the user as written" eq "$(jqv .aor)" "Carol@localhost"
api PUT "/v1/forwards/dave@example.com" '{"target": "sip:eve@example.org"}'
expect 201 "a third forward"
check "the rows in SQL" eq "$(psql_q "SELECT string_agg(concat_ws(' ', aor, target, enabled), ',' ORDER BY id) FROM call_forward")" \
	"alice@example.com sips:voicemail.example.com;user=alice f,Carol@localhost sip:+4930123@gw.example.net;user=phone t,dave@example.com sip:eve@example.org t"
loaded junction_forwards_loaded 2 "two enabled forwards"

bad_forward() { # PATH BODY STATUS CODE WHAT
	api PUT "$1" "$2"
	expect "$3" "$4" "$5"
}
bad_forward /v1/forwards/x@example.com '{"target": "tel:+4930123"}' 422 invalid_field "tel: target"
bad_forward /v1/forwards/x@example.com '{"target": "sip:x@example.com"}' 422 invalid_field "a forward to itself"
bad_forward /v1/forwards/x@example.com '{"target": "sip:x@EXAMPLE.COM;transport=tcp"}' 422 invalid_field "to itself, in other case"
bad_forward /v1/forwards/x@example.com '{"target": "sip:y@example.com?subject=hi"}' 422 invalid_field "target with headers"
bad_forward /v1/forwards/x@example.com '{"target": "sip:y@ex ample.com"}' 422 invalid_field "target with a blank"
bad_forward /v1/forwards/x@example.com '{"target": "<sip:y@example.com>"}' 422 invalid_field "target in brackets"
bad_forward /v1/forwards/x@example.com '{"target": 5}' 422 invalid_field "target a number"
bad_forward /v1/forwards/x@example.com '{}' 422 missing_field "no target"
bad_forward /v1/forwards/x@example.com '{"target": "sip:y@example.com", "q": 1}' 422 invalid_field "unknown field"
bad_forward /v1/forwards/x@other.net '{"target": "sip:y@example.com"}' 422 invalid_field "a domain we do not serve"
bad_forward /v1/forwards/nodomain '{"target": "sip:y@example.com"}' 400 bad_request "no @ in the AOR"
bad_forward '/v1/forwards/a;b@example.com' '{"target": "sip:y@example.com"}' 400 bad_request "';' in the user"
bad_forward /v1/forwards/x@bad_domain '{"target": "sip:y@example.com"}' 400 bad_request "a bad domain"
bad_forward /v1/forwards/x@example.com 'target=sip:y' 400 invalid_json "body not JSON"
check "nothing of that was stored" eq "$(psql_q "SELECT count(*) FROM call_forward")" 3

# ---- forwards: read, list, delete --------------------------------------------------------------------
api GET /v1/forwards/Carol@localhost
expect 200 "read a forward"
check "read: the row" eq "$(jqv '[.aor, .target, .enabled] | map(tostring) | join(" ")')" "Carol@localhost sip:+4930123@gw.example.net;user=phone true"
api GET /v1/forwards/sip:Carol@LocalHost
expect 200 "read with sip: and the domain in other case"
api GET /v1/forwards/carol@localhost
expect 404 not_found "the user compares exactly"
api GET /v1/forwards/nodomain
expect 404 not_found "read a non-AOR"
api POST /v1/forwards '{"target": "sip:x@y"}'
expect 405 method_not_allowed "POST on the list"
api PATCH /v1/forwards/Carol@localhost '{"enabled": false}'
expect 405 method_not_allowed "PATCH a forward"
check "Allow: GET, HEAD, PUT, DELETE" grep -qi '^Allow: GET, HEAD, PUT, DELETE' "$T_DIR/headers"
api GET /v1/forwards
expect 200 "list forwards"
check "list: by creation" eq "$(jqv '[.items[].aor] | join(" ")')" "alice@example.com Carol@localhost dave@example.com"
api GET "/v1/forwards?domain=EXAMPLE.com"
check "?domain= in any case" eq "$(jqv '[.items[].aor] | join(" ")')" "alice@example.com dave@example.com"
api GET "/v1/forwards?limit=2"
check "page 1" eq "$(jqv '[.items[].aor] | join(" ")')" "alice@example.com Carol@localhost"
api GET "/v1/forwards?limit=2&cursor=$(jqv .next)"
check "page 2, the last" eq "$(jqv '[(.items[].aor), (.next | tostring)] | join(" ")')" "dave@example.com null"
api GET "/v1/forwards?user=x"
expect 400 bad_request "unknown parameter"
api DELETE /v1/forwards/dave@EXAMPLE.com
expect 204 "delete a forward"
api DELETE /v1/forwards/dave@example.com
expect 404 not_found "delete it again"
loaded junction_forwards_loaded 1 "after the delete"
psql_q "INSERT INTO call_forward (aor, target) VALUES ('sip:frank@LocalHost', 'sip:grace@example.org')" >/dev/null
loaded junction_forwards_loaded 2 "a forward inserted in SQL"
check "SQL insert normalised: no sip:, domain lowercased" eq "$(psql_q "SELECT aor FROM call_forward WHERE target = 'sip:grace@example.org'")" "frank@localhost"
psql_q "UPDATE call_forward SET enabled = true WHERE aor = 'alice@example.com'" >/dev/null
loaded junction_forwards_loaded 3 "a forward enabled in SQL"
psql_q "TRUNCATE call_forward" >/dev/null
loaded junction_forwards_loaded 0 "TRUNCATE"
for v in "('nodomain', 'sip:x@y')" "('a@b', 'tel:+1')" "('a b@c.com', 'sip:x@y')" "('a@c.com', 'sip:x y@z')"; do
	if psql_q "INSERT INTO call_forward (aor, target) VALUES $v" >/dev/null 2>&1; then
		fail "SQL accepted forward $v"
	else
		pass "SQL refuses forward $v"
	fi
done

# ---- junctionctl -------------------------------------------------------------------------------
jc() {
	"$JUNCTIONCTL" --url "$ADMIN_URL" --token "$ADMIN_TOKEN" "$@" >"$T_DIR/out" 2>"$T_DIR/err" </dev/null
	RC=$?
	OUT=$(cat "$T_DIR/out")
	ERR=$(cat "$T_DIR/err")
}
jc route add prefix 49 gw.example.net --priority 5 --weight 2 --description Germany
CLI_R=$(psql_q "SELECT id FROM route WHERE match = '49'")
check "route add" eq "$RC $OUT" "0 created route $CLI_R: prefix 49 -> sip:gw.example.net (enabled)"
check "route add: the row" eq "$(psql_q "SELECT concat_ws(' ', priority, weight, enabled, description) FROM route WHERE id = $CLI_R")" "5 2 t Germany"
jc route add domain Example.COM sip:sbc.example.com --disabled
check "route add --disabled" eq "$RC $OUT" "0 created route $((CLI_R + 1)): domain example.com -> sip:sbc.example.com (disabled)"
jc route add prefix 49 gw.example.net
check "route add twice: exit 1, the API's reason" eq "$RC $ERR" "1 junctionctl: prefix route 49 -> sip:gw.example.net: this match has this next hop already"
jc route add prefix 4x gw
check "route add a bad prefix: exit 1" eq "$RC" 1
grep -q "match of a prefix route must be 1 to 15 digits" <<<"$ERR" && pass "... with the reason" || fail "reason: $ERR"
jc route add prefix 49
check "route add without NEXT_HOP: exit 2" eq "$RC" 2
jc route add prefix 49 gw --priority x
check "--priority x: exit 2" eq "$RC" 2
jc route add prefix 49 gw --weight 70000
check "--weight 70000: exit 2" eq "$RC" 2
jc route list --kind prefix
check "route list --kind prefix: a table" eq "$RC $(head -n 1 <<<"$OUT" | tr -s ' ')" "0 ID KIND MATCH NEXT-HOP PRIORITY WEIGHT ENABLED DESCRIPTION"
check "route list: one line per prefix route" eq "$(tail -n +2 <<<"$OUT" | awk '{print $1, $3}' | tr '\n' ' ')" "$R1 49301 $R2 4930 $(psql_q "SELECT id FROM route WHERE match = '33'") 33 $CLI_R 49 "
jc --json route list --match example.com
check "route list --match --json" eq "$(jq -r '[.items[] | .id, .enabled] | map(tostring) | join(" ")' <<<"$OUT")" "$R3 true $((CLI_R + 1)) false"
jc route list --kind zone
check "route list --kind zone: exit 1" eq "$RC" 1
jc route show "$CLI_R"
check "route show" grep -q "^next_hop  *sip:gw.example.net$" <<<"$OUT"
check "route show: description" grep -q "^description  *Germany$" <<<"$OUT"
jc route show x1
check "route show x1: exit 2" eq "$RC" 2
jc route del "$CLI_R"
check "route del" eq "$RC $OUT" "0 deleted route $CLI_R"
jc route del "$CLI_R"
check "route del again: exit 1" eq "$RC $ERR" "1 junctionctl: no route $CLI_R"
jc route frob
check "route frob: exit 2" eq "$RC" 2
loaded junction_routes_loaded 5 "after the CLI's changes"

jc forward set heidi@example.com sip:ivan@example.org --description "night shift"
check "forward set: created" eq "$RC $OUT" "0 heidi@example.com -> sip:ivan@example.org (created, enabled)"
jc forward set sip:heidi@EXAMPLE.com sip:judy@example.org --disabled
check "forward set again: replaced" eq "$RC $OUT" "0 heidi@example.com -> sip:judy@example.org (replaced, disabled)"
jc forward set heidi@example.com tel:+1234
check "forward set tel:: exit 1" eq "$RC" 1
jc forward set heidi sip:x@y
check "forward set without a domain: exit 2" eq "$RC" 2
jc forward set heidi@example.com
check "forward set without TARGET: exit 2" eq "$RC" 2
jc forward show heidi@example.com
check "forward show" grep -q "^target  *sip:judy@example.org$" <<<"$OUT"
check "forward show: enabled no" grep -q "^enabled  *no$" <<<"$OUT"
jc forward list
check "forward list: a table" eq "$RC $(head -n 1 <<<"$OUT" | tr -s ' ')" "0 AOR TARGET ENABLED DESCRIPTION UPDATED"
check "forward list: the forward" eq "$(tail -n +2 <<<"$OUT" | awk '{print $1, $2, $3}')" "heidi@example.com sip:judy@example.org no"
jc --json forward list --domain localhost
check "forward list --domain --json: none" eq "$(jq -r '.items | length' <<<"$OUT")" 0
jc forward del heidi@example.com
check "forward del" eq "$RC $OUT" "0 deleted the forward of heidi@example.com"
jc forward del heidi@example.com
check "forward del again: exit 1" eq "$RC $ERR" "1 junctionctl: no forward heidi@example.com"
jc forward list
check "forward list: none" eq "$OUT" "no forwards"

# ---- a database restart: the node reads both tables again and listens again ------------------
log_mark
pg_stop
pg_restart || fail "postgres restart"
if wait_for 15 log_since 'event=forwards_loaded rows=0 '; then
	pass "both tables read again after the reconnect"
else
	fail "no reload after the database came back"
fi
psql_q "INSERT INTO route (kind, match, next_hop) VALUES ('prefix', '39', 'gw.example.it')" >/dev/null
loaded junction_routes_loaded 6 "a route inserted after the reconnect"
psql_q "INSERT INTO call_forward (aor, target) VALUES ('kim@localhost', 'sip:lee@example.org')" >/dev/null
loaded junction_forwards_loaded 1 "a forward inserted after the reconnect"

openapi_check
t_done
