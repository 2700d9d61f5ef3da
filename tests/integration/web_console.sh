#!/usr/bin/env bash
# The web console at /ui/ on the admin port, in a real browser: headless
# Chromium driven by web_console.mjs (puppeteer-core, from
# tests/integration/node, installed by admin/install-deps).
#
# Two nodes share one PostgreSQL, so that /v1/nodes lists a peer: wc-one
# (oos_check = 0: every server in service, no probing) and wc-two (probes
# every second, and nothing answers at the servers' addresses: all out of
# service), so that /v1/sip-servers holds two different views of each
# Session Controller. Three servers are created through the API, bindings
# registered over SIP through both nodes, sessions written as rows (one
# ended, one whose node name is markup), a warning provoked with a wrong
# token. Here with curl: the routes of /ui (redirect, files, 404, 405, no
# token needed, the security headers, HEAD). Then the browser: the login
# view, a wrong token refused with the API's message, the right one; on
# every view what the page shows against what the API answers at the same
# time; the live rates moving under SIP traffic; the AOR search (known and
# unknown); the markup shown as text; a token refused mid-session and the
# logout; no request outside the admin origin, the Authorization header on
# every /v1 request, no console error; and at 390x844 no view wider than
# the screen. Screenshots of every view (desktop and phone) go to
# $TOP_BUILDDIR/tests/integration/web_console-screenshots/.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg.sh"
. "$(dirname "$0")/admin_lib.sh"
need ss psql curl jq md5sum node

CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
[ -x "$CHROMIUM" ] || skip "$CHROMIUM not installed (Debian's chromium; admin/install-deps installs it)"
NODE_DIR=$TOP_SRCDIR/tests/integration/node
[ -f "$NODE_DIR/node_modules/puppeteer-core/package.json" ] ||
	skip "puppeteer-core is not installed in $NODE_DIR (admin/install-deps runs npm ci there)"
SHOTS=$TOP_BUILDDIR/tests/integration/web_console-screenshots

PORT=$(free_port)
P2=$(free_port)
APORT=$(free_port)
APORT2=$(free_port)
DEAD1=$(free_port)
DEAD2=$(free_port)
DEAD3=$(free_port)

# The browser, when web_console.mjs could not close it (it writes the
# pid): killed with whatever lib.sh stops.
BROWSER_PID_FILE=$T_DIR/browser.pid
wc_cleanup() {
	local pid
	pid=$(cat "$BROWSER_PID_FILE" 2>/dev/null)
	[ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
	pg_cleanup
}

# ---- two nodes, one database ------------------------------------------------
write_config "$PORT"
pg_start || { fail "postgres"; t_done; }
T_CLEANUP_HOOK=wc_cleanup
pg_config
sed -n '/^\[database\]/,$p' "$T_DIR/junction.conf" >"$T_DIR/shared.conf"
pg_migrate >"$T_DIR/migrate.log" 2>&1 || { cat "$T_DIR/migrate.log" >&2; fail "migrate"; t_done; }
printf '\n[node]\nname = wc-one\n\n[cluster]\ngeo_location = dc1\noos_check = 0\n\n[routing]\nsession_controllers = yes\n' \
	>>"$T_DIR/junction.conf"
admin_config "$APORT"
psql_q "SELECT junction_add_subscriber('alice', 'example.com', 'alice-pw'), junction_add_subscriber('bob', 'example.com', 'bob-pw')" \
	>/dev/null || { fail "subscribers"; t_done; }
start_junction "$PORT" || { fail "start wc-one"; t_done; }
wait_admin || { fail "admin API of wc-one"; t_done; }

mkdir -p "$T_DIR/n2"
SIP_LISTEN="udp:127.0.0.1:$P2 tcp:127.0.0.1:$P2" write_config "$P2" "$T_DIR/n2/junction.conf"
cat >>"$T_DIR/n2/junction.conf" <<CONF

[node]
name = wc-two

[cluster]
geo_location = dc2
oos_check = 1
oos_force = 1

[routing]
session_controllers = yes

[admin]
listen = 127.0.0.1:$APORT2
token = $ADMIN_TOKEN

CONF
cat "$T_DIR/shared.conf" >>"$T_DIR/n2/junction.conf"
"$JUNCTION" -c "$T_DIR/n2/junction.conf" >>"$T_DIR/n2/junction.log" 2>&1 &
N2_PID=$!
T_PIDS+=("$N2_PID")
n2_up() {
	kill -0 "$N2_PID" 2>/dev/null && curl -sf -o /dev/null "http://127.0.0.1:$APORT2/readyz"
}
wait_for 10 n2_up || { fail "wc-two did not start"; tail -n 20 "$T_DIR/n2/junction.log" >&2; t_done; }

# ---- /ui with curl ------------------------------------------------------------
CSP="default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
hdr() { grep -i "^$1:" "$T_DIR/headers" | head -n 1 | cut -d: -f2- | sed 's/^ //' | tr -d '\r'; }
TOKEN= api GET /ui
[ "$STATUS" = 301 ] && [ "$(hdr Location)" = /ui/ ] && pass "/ui: 301 to /ui/, no token needed" ||
	fail "/ui: $STATUS, Location $(hdr Location)"
for f in "/ui/ index.html text/html" "/ui/index.html index.html text/html" \
	"/ui/app.js app.js text/javascript" "/ui/style.css style.css text/css"; do
	set -- $f
	TOKEN= api GET "$1"
	if [ "$STATUS" = 200 ] && cmp -s "$T_DIR/body" "$TOP_SRCDIR/admin/ui/$2" &&
		[ "$CTYPE" = "$3; charset=utf-8" ] && [ "$(hdr Content-Security-Policy)" = "$CSP" ] &&
		[ "$(hdr X-Content-Type-Options)" = nosniff ] && [ "$(hdr Referrer-Policy)" = no-referrer ]; then
		pass "$1: admin/ui/$2 as built, $CTYPE, CSP, nosniff, no-referrer"
	else
		fail "$1: $STATUS $CTYPE CSP='$(hdr Content-Security-Policy)'"
	fi
done
STATUS=$(curl -s -I -o /dev/null -D "$T_DIR/headers" -w '%{http_code}' "$ADMIN_URL/ui/app.js")
[ "$STATUS" = 200 ] && [ "$(hdr Content-Length)" = "$(wc -c <"$TOP_SRCDIR/admin/ui/app.js")" ] &&
	[ "$(hdr Content-Security-Policy)" = "$CSP" ] &&
	pass "HEAD /ui/app.js: 200, its length, the CSP" || fail "HEAD /ui/app.js: $STATUS $(hdr Content-Length)"
grep -nE 'https?:|//[a-z0-9.-]+\.[a-z]{2,}/' "$TOP_SRCDIR"/admin/ui/* >"$T_DIR/urls" &&
	{ fail "the console's files name another site:"; cat "$T_DIR/urls" >&2; } ||
	pass "no URL of another site in the console's files"
TOKEN= api GET /ui/nothing.js
expect 404 not_found "unknown console file"
TOKEN= api GET /ui/a/b
expect 404 not_found "no subfolders"
TOKEN= api POST /ui/ '{}'
expect 405 method_not_allowed "POST /ui/"

# ---- what the views show ---------------------------------------------------
api POST /v1/sip-servers "{\"name\": \"sc-a\", \"uri\": \"sip:127.0.0.1:$DEAD1\", \"geo_location\": \"dc1\", \"ha_pair\": \"p1\", \"role\": \"primary\"}"
expect 201 "sc-a created"
api POST /v1/sip-servers "{\"name\": \"sc-b\", \"uri\": \"sip:127.0.0.1:$DEAD2\", \"geo_location\": \"dc1\", \"ha_pair\": \"p1\", \"role\": \"backup\"}"
expect 201 "sc-b created"
api POST /v1/sip-servers "{\"name\": \"sc-c\", \"uri\": \"sip:127.0.0.1:$DEAD3\", \"geo_location\": \"dc2\", \"weight\": 50}"
expect 201 "sc-c created"
views_settled() {
	api GET /v1/sip-servers
	[ "$STATUS" = 200 ] &&
		[ "$(jqv '[.sip_servers[].nodes[] | "\(.node)/\(.state)"] | sort | join(" ")')" = \
			"wc-one/active wc-one/active wc-one/standby wc-two/oos wc-two/oos wc-two/oos" ]
}
wait_for 15 views_settled && pass "each node's view of the servers: wc-one in service, wc-two out of service" ||
	fail "views: $(jqv '[.sip_servers[] | {name, nodes: [.nodes[] | "\(.node)/\(.state)"]}]' | tr -d ' \n')"

sip_register alice example.com alice-pw "sip:alice@127.0.0.1:5091;transport=udp" && pass "alice registered through wc-one" || fail "alice REGISTER"
sip_register alice example.com alice-pw "sip:alice-desk@127.0.0.1:5092" && pass "alice's second contact" || fail "alice REGISTER 2"
PORT=$P2 sip_register bob example.com bob-pw "sip:bob@127.0.0.1:5093" && pass "bob registered through wc-two" || fail "bob REGISTER"

S1=$(session_row "'sc-a', 'wc-one', now() - interval '120 s', now() - interval '5 s', NULL, NULL")
S2=$(session_row "'sc-c', 'wc-two', now() - interval '60 s', now(), NULL, NULL")
S3=$(session_row "'sc-a', 'wc-one', now() - interval '600 s', now() - interval '300 s', now() - interval '300 s', NULL")
XSS='<img src=x onerror="window.__xss=1">&amp;'
S4=$(session_row "'sc-c', '$XSS', now() - interval '30 s', now(), NULL, $S3")
[ -n "$S1" ] && [ -n "$S4" ] && pass "sessions $S1 $S2 $S3 (ended) $S4 written" || fail "session rows"

TOKEN=wrong-token-0123456789abcdef api GET /v1/status
expect 401 unauthorized "a wrong token (logged as a warning)"
nodes_listed() {
	api GET /v1/nodes
	[ "$(jqv '[.nodes[] | "\(.name)/\(.alive)/\(.self)"] | join(" ")')" = "wc-one/true/true wc-two/true/false" ]
}
wait_for 15 nodes_listed && pass "/v1/nodes: wc-one (self) and wc-two, alive" || fail "/v1/nodes: $(head -c 400 "$T_DIR/body")"

# ---- the browser ------------------------------------------------------------
mkdir -p "$SHOTS"
rm -f "$SHOTS"/*.png
log "headless $("$CHROMIUM" --version 2>/dev/null | head -n 1)"
WC_URL=$ADMIN_URL WC_TOKEN=$ADMIN_TOKEN WC_SIP_PORT=$PORT WC_SHOTS=$SHOTS \
	WC_PROFILE=$T_DIR/chromium-profile WC_BROWSER=$CHROMIUM WC_BROWSER_PID_FILE=$BROWSER_PID_FILE \
	WC_AOR=sip:alice@example.com WC_XSS=$XSS WC_XSS_SESSION=$S4 WC_ENDED_SESSION=$S3 \
	WC_WARNING='status=401' \
	timeout 90 node "$TOP_SRCDIR/tests/integration/web_console.mjs" 2>&1 | sed 's/^/    /' >&2
rc=${PIPESTATUS[0]}
[ "$rc" -eq 0 ] && pass "browser checks (web_console.mjs)" || fail "browser checks: web_console.mjs exit $rc"
log "screenshots in $SHOTS:"
ls -l "$SHOTS" | tail -n +2 | awk '{ print "    " $5 " " $9 }' >&2
[ "$(ls "$SHOTS"/*.png 2>/dev/null | wc -l)" -ge 11 ] && pass "screenshots saved" || fail "screenshots missing"

kill -0 "$JCT_PID" && kill -0 "$N2_PID" && pass "both nodes still running" || fail "a node died"
if grep -Eq "ERROR: (Address|Leak|Thread)Sanitizer|runtime error:" "$T_DIR/n2/junction.log"; then
	fail "sanitizer report in n2/junction.log"
fi
t_done
