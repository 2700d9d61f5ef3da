#!/usr/bin/env bash
# junctionctl against the running daemon and a real PostgreSQL: status,
# subscriber add (password from a flag, from stdin, and asked on a
# terminal without echo) / list / show / passwd / disable / enable / rm,
# binding list / rm, sip-server add / list / show / set / status / rm
# (with the nodes' view published in SQL), session list (each filter,
# --all, --limit) / show over rows written in SQL, tables and --json, the
# URL and token from flags, the
# environment and config files (and which wins), and the errors: an
# unreachable daemon (exit 3), a wrong or missing token (exit 4), API
# refusals (exit 1) and bad usage (exit 2).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg.sh"
. "$(dirname "$0")/admin_lib.sh"
need ss psql curl jq md5sum python3
[ -x "$JUNCTIONCTL" ] || { fail "no $JUNCTIONCTL"; t_done; }

PORT=$(free_port)
APORT=$(free_port)
CATCH=$(free_port)
write_config "$PORT"
pg_start || { fail "postgres"; t_done; }
pg_config
admin_config "$APORT"
pg_migrate >/dev/null || { fail "migrate"; t_done; }
start_junction "$PORT" || { fail "start"; t_done; }
wait_admin || { fail "admin API"; t_done; }

# No config file of the user's may leak in.
export HOME=$T_DIR/home XDG_CONFIG_HOME=
mkdir -p "$HOME/.config"
unset JUNCTION_URL JUNCTION_TOKEN

# jc [args...]: junctionctl with the URL and token as flags; sets RC, the
# output in OUT and standard error in ERR.
jc() {
	"$JUNCTIONCTL" --url "$ADMIN_URL" --token "$ADMIN_TOKEN" "$@" >"$T_DIR/out" 2>"$T_DIR/err" </dev/null
	RC=$?
	OUT=$(cat "$T_DIR/out")
	ERR=$(cat "$T_DIR/err")
}
ok() { [ "$RC" = 0 ] && pass "$1" || { fail "$1: exit $RC: $ERR"; echo "$OUT" >&2; }; }

# ---- status -------------------------------------------------------------------------
jc status
ok "status"
grep -q '^database  *up (' <<<"$OUT" && grep -q "^listeners  *udp:127.0.0.1:$PORT tcp:127.0.0.1:$PORT" <<<"$OUT" &&
	grep -q '^queue depths  *[0-9]* [0-9]*$' <<<"$OUT" && pass "status table: database, listeners, queues" ||
	{ fail "status table"; echo "$OUT" >&2; }
jc --json status
[ "$(jq -r .database.state <<<"$OUT")" = up ] && pass "status --json" || fail "status --json: $OUT"

# ---- subscribers --------------------------------------------------------------------
jc subscriber add alice@localhost --password Alice-pw-1
ok "subscriber add --password"
[ "$OUT" = "created sip:alice@localhost (enabled)" ] && pass "add says what it did" || fail "add output: $OUT"
echo 'Bob-pw-1' | "$JUNCTIONCTL" --url "$ADMIN_URL" --token "$ADMIN_TOKEN" subscriber add bob@localhost --password-stdin >"$T_DIR/out" 2>&1 &&
	pass "subscriber add --password-stdin" || fail "add --password-stdin: $(cat "$T_DIR/out")"
echo 'Carol-pw-1' | "$JUNCTIONCTL" --url "$ADMIN_URL" --token "$ADMIN_TOKEN" --json subscriber add carol@localhost --disabled >"$T_DIR/out" 2>&1 &&
	[ "$(jq -r .enabled "$T_DIR/out")" = false ] && pass "add reads stdin when it is no terminal; --disabled; --json" ||
	fail "add from stdin: $(cat "$T_DIR/out")"
# On a terminal: asked twice, not echoed.
"$PY3" - "$JUNCTIONCTL" "$ADMIN_URL" "$ADMIN_TOKEN" >"$T_DIR/tty.out" 2>&1 <<'PY'
import os, pty, sys, time
ctl, url, token = sys.argv[1:4]
pid, fd = pty.fork()
if pid == 0:
    os.execv(ctl, [ctl, "--url", url, "--token", token, "subscriber", "add", "dave@localhost"])
out = b""
def wait_for(s):
    global out
    deadline = time.time() + 10
    while s not in out and time.time() < deadline:
        try:
            out += os.read(fd, 1024)
        except OSError:
            break
for prompt, answer in ((b"Password for dave@localhost: ", b"Dave-pw-1\n"), (b"Again: ", b"Dave-pw-1\n")):
    wait_for(prompt)
    time.sleep(0.2)
    os.write(fd, answer)
wait_for(b"created")
try:
    while True:
        chunk = os.read(fd, 1024)
        if not chunk:
            break
        out += chunk
except OSError:
    pass
_, status = os.waitpid(pid, 0)
sys.stdout.write(out.decode(errors="replace"))
sys.exit(os.waitstatus_to_exitcode(status))
PY
rc=$?
[ "$rc" = 0 ] && grep -q 'created sip:dave@localhost' "$T_DIR/tty.out" && ! grep -q 'Dave-pw-1' "$T_DIR/tty.out" &&
	pass "add on a terminal: asked twice, no echo" || { fail "tty prompt (rc $rc)"; cat "$T_DIR/tty.out" >&2; }
sip_register dave localhost Dave-pw-1 "sip:dave@127.0.0.1:$CATCH" && pass "the password typed on the terminal works over SIP" || fail "dave REGISTER"

jc subscriber add alice@localhost --password x
[ "$RC" = 1 ] && grep -q 'subscriber alice@localhost already exists' <<<"$ERR" && pass "add twice: exit 1 with the API's message" || fail "add twice: $RC $ERR"
jc subscriber add eve@example.org --password x
[ "$RC" = 1 ] && grep -q "not one this Junction serves" <<<"$ERR" && pass "a domain not served: exit 1, message" || fail "foreign domain: $RC $ERR"
jc subscriber add eve --password x
[ "$RC" = 2 ] && pass "add without a domain: usage, exit 2" || fail "add eve: $RC"

jc subscriber list
ok "subscriber list"
head -n 1 <<<"$OUT" | grep -q '^USERNAME  DOMAIN     ENABLED  CREATED  *UPDATED$' && [ "$(wc -l <<<"$OUT")" = 5 ] &&
	grep -q '^carol  *localhost  no  ' <<<"$OUT" && pass "list: a table of 4" || { fail "list table"; echo "$OUT" >&2; }
jc --json subscriber list --disabled
[ "$(jq -r '[.items[].username] | join(",")' <<<"$OUT")" = carol ] && [ "$(jq -r .next <<<"$OUT")" = null ] &&
	pass "list --disabled --json" || fail "list --disabled: $OUT"
psql_q "SELECT count(junction_add_subscriber('u' || i, 'example.com', 'pw')) FROM generate_series(1, 1100) i" >/dev/null
jc --json subscriber list --domain example.com
[ "$(jq '.items | length' <<<"$OUT")" = 1100 ] && pass "list follows the pages (1100 over two)" || fail "list all: $(jq '.items | length' <<<"$OUT")"
jc subscriber list --domain example.com --username u10 --limit 3
[ "$(tail -n +2 <<<"$OUT" | awk '{print $1}' | tr '\n' ' ')" = "u10 u100 u101 " ] && pass "list --username prefix --limit" || fail "list prefix: $OUT"
jc subscriber list --domain nowhere.example
[ "$OUT" = "no subscribers" ] && pass "an empty list says so" || fail "empty list: $OUT"

jc subscriber show alice@localhost
ok "subscriber show"
grep -q '^aor  *sip:alice@localhost$' <<<"$OUT" && grep -q '^enabled  *yes$' <<<"$OUT" && pass "show: fields" || fail "show: $OUT"
jc subscriber show nobody@localhost
[ "$RC" = 1 ] && [ "$ERR" = "junctionctl: no subscriber nobody@localhost" ] && pass "show unknown: exit 1, 'no subscriber'" || fail "show unknown: $RC $ERR"
jc subscriber passwd alice@localhost --password Alice-pw-2
ok "subscriber passwd"
sip_register alice localhost Alice-pw-2 "sip:alice@127.0.0.1:$CATCH" && pass "the new password works over SIP" || fail "alice REGISTER"
jc subscriber disable alice@localhost
[ "$OUT" = "sip:alice@localhost: disabled" ] && pass "disable" || fail "disable: $OUT $ERR"
jc --json subscriber show alice@localhost
[ "$(jq -r .enabled <<<"$OUT")" = false ] && pass "disabled in show --json" || fail "show after disable: $OUT"
jc subscriber enable alice@localhost
ok "enable"

# ---- bindings -------------------------------------------------------------------------
jc binding list
ok "binding list"
head -n 1 <<<"$OUT" | grep -q '^ID  *AOR  *CONTACT  *EXPIRES  *Q  *NODE  *RECEIVED  *USER-AGENT$' &&
	grep -q "sip:alice@localhost  *sip:alice@127.0.0.1:$CATCH  *[0-9]*  *1  " <<<"$OUT" && pass "binding table" || { fail "binding table"; echo "$OUT" >&2; }
jc --json binding list --aor alice@localhost
[ "$(jq '.items | length' <<<"$OUT")" = 1 ] && pass "binding list --aor --json" || fail "binding list --aor: $OUT"
BID=$(jq -r '.items[0].id' <<<"$OUT")
jc binding rm "$BID"
[ "$OUT" = "deleted binding $BID" ] && pass "binding rm ID" || fail "binding rm: $OUT $ERR"
jc binding rm "$BID"
[ "$RC" = 1 ] && grep -q "no binding $BID" <<<"$ERR" && pass "binding rm again: exit 1" || fail "binding rm again: $RC $ERR"
jc binding rm --aor sip:dave@localhost
[ "$OUT" = "deleted 1 binding(s) of sip:dave@localhost" ] && pass "binding rm --aor" || fail "binding rm --aor: $OUT $ERR"
jc binding list --node "$(hostname)"
[ "$OUT" = "no bindings" ] && pass "no bindings left" || fail "bindings left: $OUT"
jc binding rm
[ "$RC" = 2 ] && pass "binding rm without what: exit 2" || fail "binding rm: $RC"

jc subscriber rm bob@localhost
[ "$OUT" = "deleted bob@localhost" ] && pass "subscriber rm" || fail "rm: $OUT $ERR"
jc subscriber rm bob@localhost
[ "$RC" = 1 ] && pass "rm again: exit 1" || fail "rm again: $RC"

# ---- sip servers ------------------------------------------------------------------------
jc sip-server list
[ "$RC" = 0 ] && [ "$OUT" = "no sip servers" ] && pass "sip-server list: an empty pool says so" || fail "empty pool: $RC $OUT $ERR"
jc sip-server add sc1 sip:10.0.1.5:5060 dc1 --ha-pair p1
[ "$RC" = 0 ] && [ "$OUT" = "created sip server sc1 (enabled)" ] && pass "sip-server add" || fail "sip-server add: $RC $OUT $ERR"
jc sip-server add sc2 sip:10.0.1.6:5060 dc1 --ha-pair p1 --role backup --weight 50 --disabled
[ "$OUT" = "created sip server sc2 (disabled)" ] && pass "sip-server add --role backup --weight --disabled" || fail "add sc2: $RC $OUT $ERR"
jc --json sip-server add sc3 'sip:sc3.dc2.example.com;transport=tcp' dc2
[ "$RC" = 0 ] && [ "$(jq -r '[.ha_pair, .role, .weight] | map(tostring) | join(" ")' <<<"$OUT")" = "null primary 100" ] &&
	pass "sip-server add --json: no pair, primary, 100" || fail "add sc3: $RC $OUT $ERR"
[ "$(psql_q "SELECT string_agg(concat_ws(' ', name, geo_location, coalesce(ha_pair, '-'), role, weight, enabled), ',' ORDER BY name) FROM sip_server")" = \
	"sc1 dc1 p1 primary 100 t,sc2 dc1 p1 backup 50 f,sc3 dc2 - primary 100 t" ] && pass "the rows in SQL" || fail "rows: $(psql_q 'TABLE sip_server')"
jc sip-server add sc1 sip:10.0.1.9 dc1
[ "$RC" = 1 ] && [ "$ERR" = "junctionctl: sip server sc1: the name is taken" ] && pass "add a taken name: exit 1 with the API's message" || fail "add sc1 again: $RC $ERR"
jc sip-server add sc4 sip:10.0.1.9 dc1 --ha-pair p1
[ "$RC" = 1 ] && grep -q 'its HA pair has a server in this role already' <<<"$ERR" && pass "add a second primary to p1: exit 1" || fail "second primary: $RC $ERR"
jc sip-server add sc4 sip:10.0.1.9 dc2 --ha-pair p1 --role backup
[ "$RC" = 1 ] && grep -q 'HA pair p1 spans two data centres' <<<"$ERR" && pass "a pair across two data centres: exit 1" || fail "span: $RC $ERR"
jc sip-server add sc4 sip:10.0.1.9 dc1 --role master
[ "$RC" = 1 ] && grep -q 'role must be primary or backup' <<<"$ERR" && pass "a bad role: exit 1" || fail "bad role: $RC $ERR"
jc sip-server add sc4 sip:alice@10.0.1.9 dc1
[ "$RC" = 1 ] && grep -q 'no user part' <<<"$ERR" && pass "a URI with a user: exit 1" || fail "uri with user: $RC $ERR"
jc sip-server add sc4 sip:10.0.1.9
[ "$RC" = 2 ] && pass "add without GEO_LOCATION: exit 2" || fail "add 2 args: $RC"
jc sip-server add sc4 sip:10.0.1.9 dc1 --weight lots
[ "$RC" = 2 ] && pass "add --weight lots: exit 2" || fail "weight lots: $RC"

jc sip-server list
ok "sip-server list"
head -n 1 <<<"$OUT" | grep -q '^NAME  URI  *GEO-LOCATION  HA-PAIR  ROLE  *WEIGHT  ENABLED  UPDATED$' && [ "$(wc -l <<<"$OUT")" = 4 ] &&
	grep -q '^sc2  *sip:10.0.1.6:5060  *dc1  *p1  *backup  *50  *no  ' <<<"$OUT" && grep -q '^sc3 .* dc2  *-  *primary ' <<<"$OUT" &&
	pass "sip-server list: a table of 3" || { fail "sip-server table"; echo "$OUT" >&2; }
jc sip-server list --geo-location dc2
[ "$(tail -n +2 <<<"$OUT" | awk '{print $1}' | tr '\n' ' ')" = "sc3 " ] && pass "list --geo-location" || fail "list --geo-location: $OUT"
jc --json sip-server list --ha-pair p1
[ "$(jq -r '[.sip_servers[].name] | join(",")' <<<"$OUT")" = "sc1,sc2" ] && pass "list --ha-pair --json" || fail "list --ha-pair: $OUT"
jc sip-server show sc1
ok "sip-server show"
grep -q '^uri  *sip:10.0.1.5:5060$' <<<"$OUT" && grep -q '^ha_pair  *p1$' <<<"$OUT" && grep -q '^enabled  *yes$' <<<"$OUT" &&
	[ "$(tail -n 1 <<<"$OUT")" = "no node has reported on it yet" ] && pass "show: fields, no nodes yet" || fail "show: $OUT"
jc sip-server show nope
[ "$RC" = 1 ] && [ "$ERR" = "junctionctl: no sip server nope" ] && pass "show unknown: exit 1, 'no sip server'" || fail "show nope: $RC $ERR"

jc sip-server set sc2 --enable --weight 75
[ "$OUT" = "sc2: updated" ] && pass "set --enable --weight" || fail "set sc2: $RC $OUT $ERR"
jc --json sip-server show sc2
[ "$(jq -r '[.enabled, .weight] | map(tostring) | join(" ")' <<<"$OUT")" = "true 75" ] && pass "set took effect" || fail "after set: $OUT"
jc sip-server set sc2 --no-ha-pair
[ "$RC" = 1 ] && grep -q 'a backup must be in an HA pair' <<<"$ERR" && pass "set --no-ha-pair on a backup: exit 1" || fail "no pair backup: $RC $ERR"
jc sip-server set sc3 --ha-pair p3 --uri sip:10.0.2.6:5070 --disable
ok "set --ha-pair --uri --disable"
jc --json sip-server show sc3
[ "$(jq -r '[.ha_pair, .uri, .enabled] | map(tostring) | join(" ")' <<<"$OUT")" = "p3 sip:10.0.2.6:5070 false" ] && pass "set: pair, uri, disabled" || fail "sc3: $OUT"
jc sip-server set sc3 --no-ha-pair --geo-location dc3
ok "set --no-ha-pair --geo-location"
[ "$(psql_q "SELECT concat_ws(' ', geo_location, coalesce(ha_pair, '-')) FROM sip_server WHERE name = 'sc3'")" = "dc3 -" ] && pass "set --no-ha-pair left the pair" || fail "sc3 pair"
jc sip-server set sc3
[ "$RC" = 2 ] && pass "set without a change: exit 2" || fail "set nothing: $RC"
jc sip-server set sc3 --enable --disable
[ "$RC" = 2 ] && pass "set --enable --disable: exit 2" || fail "enable+disable: $RC"
jc sip-server set nope --weight 1
[ "$RC" = 1 ] && [ "$ERR" = "junctionctl: no sip server nope" ] && pass "set unknown: exit 1" || fail "set nope: $RC $ERR"

jc sip-server status
[ "$OUT" = "no node has reported on a sip server yet" ] && pass "status before any node reported" || fail "status empty: $OUT"
psql_q "SELECT junction_sip_server_seen('node-b', 'dc1', ARRAY['sc1', 'sc2'], ARRAY['active', 'standby'], ARRAY[1764900000000, 1764900000000]::bigint[],
	ARRAY[2500, 800]::bigint[], ARRAY[1764900060000, NULL]::bigint[], ARRAY[NULL, NULL])" >/dev/null &&
	psql_q "SELECT junction_sip_server_seen('node-a', 'dc2', ARRAY['sc1'], ARRAY['oos'], ARRAY[1764900120000]::bigint[], ARRAY[NULL]::bigint[], ARRAY[NULL]::bigint[],
	ARRAY['no answer to OPTIONS'])" >/dev/null && pass "two nodes published what they see" || fail "junction_sip_server_seen"
jc sip-server status
ok "sip-server status"
head -n 1 <<<"$OUT" | grep -q '^NODE  *SERVER  STATE  *SINCE  *RTT-MS  SWITCHOVER  *REASON$' && [ "$(wc -l <<<"$OUT")" = 4 ] &&
	[ "$(tail -n +2 <<<"$OUT" | awk '{print $1, $2, $3, $5}' | tr '\n' ',')" = "node-a sc1 oos -,node-b sc1 active 2.5,node-b sc2 standby 0.8," ] &&
	grep -q '^node-a  *sc1  *oos  *2025-12-05T02:02:00.000Z  *-  *-  *no answer to OPTIONS$' <<<"$OUT" &&
	grep -q '^node-b  *sc1  *active  *2025-12-05T02:00:00.000Z  *2.5  *2025-12-05T02:01:00.000Z  *-$' <<<"$OUT" &&
	pass "status: a line per node and server, by node" || { fail "status table"; echo "$OUT" >&2; }
jc sip-server status sc2
[ "$(tail -n +2 <<<"$OUT" | awk '{print $1, $2, $3}')" = "node-b sc2 standby" ] && pass "status NAME" || fail "status sc2: $OUT"
jc sip-server status --geo-location dc3
[ "$OUT" = "no node has reported on a sip server yet" ] && pass "status --geo-location: none for dc3" || fail "status dc3: $OUT"
jc sip-server show sc1
grep -q '^node-b  *sc1  *active ' <<<"$OUT" && grep -q '^node-a  *sc1  *oos ' <<<"$OUT" && pass "show: the nodes' view under the fields" || fail "show sc1: $OUT"
jc --json sip-server status sc1
[ "$(jq -r '[.nodes[].node] | join(",")' <<<"$OUT")" = "node-a,node-b" ] && pass "status --json: the API's answer" || fail "status --json: $OUT"

jc sip-server rm sc2
[ "$OUT" = "deleted sip server sc2" ] && pass "sip-server rm" || fail "rm sc2: $RC $OUT $ERR"
[ "$(psql_q "SELECT count(*) FROM sip_server_status WHERE server = 'sc2'")" = 0 ] && pass "its nodes' rows went with it" || fail "sc2 status rows left"
jc sip-server rm sc2
[ "$RC" = 1 ] && [ "$ERR" = "junctionctl: no sip server sc2" ] && pass "rm again: exit 1" || fail "rm again: $RC $ERR"
jc sip-server frob
[ "$RC" = 2 ] && pass "sip-server frob: exit 2" || fail "frob: $RC"

# ---- sessions -------------------------------------------------------------------------
# Rows as the nodes write them: T3 ended, T1 with two dialogs, T2 moved
# from T3, T4 without dialogs, newest.
T3=$(session_row "'sc1', 'node-a', '2025-12-05 01:00:00+00', '2025-12-05 01:30:00+00', '2025-12-05 01:30:00+00', NULL")
dialog_row "'old-1', 'f0', 't0', $T3, 'INVITE', 'ended', 'new', 'sip:alice@localhost', 'sip:bob@localhost', 'node-a', '2025-12-05 01:00:00+00', '2025-12-05 01:30:00+00', '2025-12-05 01:40:00+00', '2025-12-05 01:30:00+00'"
T1=$(session_row "'sc1', 'node-a', '2025-12-05 03:00:00+00', '2025-12-05 03:05:00+00', NULL, NULL")
dialog_row "'call-a', 'fa', 'ta', $T1, 'INVITE', 'confirmed', 'new', 'sip:alice@localhost', 'sip:bob@localhost', 'node-a', '2025-12-05 03:00:00+00', '2025-12-05 03:00:05+00', '2099-01-01 00:00:00+00', NULL"
dialog_row "'call-b', 'fb', NULL, $T1, 'INVITE', 'early', 'replaces', 'sip:bob@localhost', 'sip:carol@localhost', 'node-b', '2025-12-05 03:01:00+00', '2025-12-05 03:01:00+00', '2099-01-01 00:00:00+00', NULL"
T2=$(session_row "'sc3', 'node-b', now() - interval '100 s', now(), NULL, $T3")
dialog_row "'call-c', 'fc', NULL, $T2, 'INVITE', 'early', 'moved', 'sip:erin@localhost', 'sip:alice@localhost', 'node-b', now() - interval '100 s', now(), now() + interval '300 s', NULL"
T4=$(session_row "'sc1', 'node-c', now() - interval '50 s', now() - interval '50 s', NULL, NULL")
[ -n "$T3" ] && [ "$T4" -gt "$T3" ] && pass "four sessions in SQL" || fail "session rows: T3=$T3 T4=$T4"
# sids: the first column of the table in OUT, one line
sids() { tail -n +2 <<<"$OUT" | awk '{print $1}' | tr '\n' ' ' | sed 's/ $//'; }

jc session list
ok "session list"
head -n 1 <<<"$OUT" | grep -q '^ID  *SIP-SERVER  HA-PAIR  NODE    DIALOGS  CREATED  *ACTIVITY  *ENDED  MOVED-FROM$' && [ "$(sids)" = "$T4 $T2 $T1" ] &&
	grep -q "^$T1  *sc1  *p1  *node-a  2  *2025-12-05T03:00:00.000Z  2025-12-05T03:05:00.000Z  -  *-\$" <<<"$OUT" &&
	grep -q "^$T2  *sc3  *-  *node-b  1  *20[0-9-]*T[0-9:.]*Z  20[0-9-]*T[0-9:.]*Z  -  *$T3\$" <<<"$OUT" &&
	grep -q "^$T4  *sc1  *p1  *node-c  0  " <<<"$OUT" && pass "session list: the open ones, newest first" || { fail "session table"; echo "$OUT" >&2; }
jc session list --all
[ "$(sids)" = "$T4 $T2 $T1 $T3" ] && grep -q "^$T3  *sc1  *p1  *node-a  0  *2025-12-05T01:00:00.000Z  2025-12-05T01:30:00.000Z  2025-12-05T01:30:00.000Z  -\$" <<<"$OUT" &&
	pass "session list --all: the ended one too" || { fail "list --all"; echo "$OUT" >&2; }
jc session list --sip-server sc3
[ "$(sids)" = "$T2" ] && pass "session list --sip-server" || fail "list --sip-server: $OUT $ERR"
jc session list --aor alice@localhost
[ "$(sids)" = "$T2 $T1" ] && pass "session list --aor: caller or callee" || fail "list --aor: $OUT $ERR"
jc session list --aor sip:carol@LOCALHOST
[ "$(sids)" = "$T1" ] && pass "session list --aor sip:, the domain in capitals" || fail "list --aor carol: $OUT $ERR"
jc session list --aor alice@localhost --all
[ "$(sids)" = "$T2 $T1 $T3" ] && pass "session list --aor --all" || fail "list --aor --all: $OUT $ERR"
jc session list --min-age 3600
[ "$(sids)" = "$T1" ] && pass "session list --min-age" || fail "list --min-age: $OUT $ERR"
jc session list --max-age 3600
[ "$(sids)" = "$T4 $T2" ] && pass "session list --max-age" || fail "list --max-age: $OUT $ERR"
jc session list --min-age 75 --max-age 3600 --sip-server sc3
[ "$(sids)" = "$T2" ] && pass "session list: ages and server together" || fail "list ages: $OUT $ERR"
jc session list --limit 1
[ "$(sids)" = "$T4" ] && pass "session list --limit" || fail "list --limit: $OUT $ERR"
jc --json session list --all
[ "$(jq -r '[.items[].id] | map(tostring) | join(" ")' <<<"$OUT")" = "$T4 $T2 $T1 $T3" ] && [ "$(jq -r .next <<<"$OUT")" = null ] &&
	[ "$(jq -r ".items[] | select(.id == $T1) | [.dialogs, .ha_pair, .ended] | map(tostring) | join(\" \")" <<<"$OUT")" = "2 p1 null" ] &&
	pass "session list --json: every page's items" || fail "list --json: $OUT"
jc session list --sip-server nope
[ "$RC" = 0 ] && [ "$OUT" = "no sessions" ] && pass "an empty session list says so" || fail "empty: $RC $OUT $ERR"
jc session list --min-age 5 --max-age 1
[ "$RC" = 1 ] && [ "$ERR" = "junctionctl: min_age (5) is over max_age (1): no session is both" ] && pass "min-age over max-age: exit 1 with the API's message" || fail "ages: $RC $ERR"
jc session list --sip-server 'bad name'
[ "$RC" = 1 ] && grep -q "sip_server 'bad name' is not a server name" <<<"$ERR" && pass "a bad server name: exit 1" || fail "bad name: $RC $ERR"
jc session list --aor nobody
[ "$RC" = 1 ] && grep -q "aor 'nobody' is not an address of record" <<<"$ERR" && pass "a bad AOR: exit 1" || fail "bad aor: $RC $ERR"
for bad in "--min-age x" "--max-age -5" "--min-age 2147483648" "--max-age 1.5"; do
	jc session list $bad
	[ "$RC" = 2 ] && pass "session list $bad: exit 2" || fail "$bad: $RC"
done
jc session list extra
[ "$RC" = 2 ] && pass "session list with an argument: exit 2" || fail "list extra: $RC"

jc session show "$T1"
ok "session show"
cat >"$T_DIR/expect" <<OUT
id           $T1
sip_server   sc1
ha_pair      p1
node         node-a
created      2025-12-05T03:00:00.000Z
activity     2025-12-05T03:05:00.000Z
ended        -
moved_from   -

CALL-ID  FROM-TAG  TO-TAG  METHOD  STATE      RELATION  CALLER               CALLEE               NODE    CREATED                   UPDATED                   EXPIRES                   ENDED
call-a   fa        ta      INVITE  confirmed  new       sip:alice@localhost  sip:bob@localhost    node-a  2025-12-05T03:00:00.000Z  2025-12-05T03:00:05.000Z  2099-01-01T00:00:00.000Z  -
call-b   fb        -       INVITE  early      replaces  sip:bob@localhost    sip:carol@localhost  node-b  2025-12-05T03:01:00.000Z  2025-12-05T03:01:00.000Z  2099-01-01T00:00:00.000Z  -
OUT
[ "$OUT" = "$(cat "$T_DIR/expect")" ] && pass "session show: the fields, then the dialogs" || { fail "session show"; diff "$T_DIR/expect" - <<<"$OUT" >&2; }
jc session show "$T2"
grep -q "^moved_from  *$T3\$" <<<"$OUT" && grep -q '^ha_pair  *-$' <<<"$OUT" && grep -q '^call-c  *fc  *-  *INVITE  *early  *moved  *sip:erin@localhost  *sip:alice@localhost  *node-b  ' <<<"$OUT" &&
	pass "session show: moved_from, no pair" || fail "show T2: $OUT"
jc session show "$T4"
[ "$(tail -n 1 <<<"$OUT")" = "no dialogs" ] && pass "session show: no dialogs says so" || fail "show T4: $OUT"
jc --json session show "$T3"
[ "$(jq -r '[.ended, (.dialogs | length), .dialogs[0].state] | map(tostring) | join(" ")' <<<"$OUT")" = "2025-12-05T01:30:00.000Z 1 ended" ] &&
	pass "session show --json: the API's answer, an ended session" || fail "show --json: $OUT"
jc session show 999999
[ "$RC" = 1 ] && [ "$ERR" = "junctionctl: no session 999999" ] && pass "show unknown: exit 1, 'no session'" || fail "show unknown: $RC $ERR"
for bad in abc -1 "1 2" ""; do
	jc session show $bad
	[ "$RC" = 2 ] && pass "session show '$bad': exit 2" || fail "show '$bad': $RC"
done
jc session show 1234567890123456789
[ "$RC" = 2 ] && pass "session show with 19 digits: exit 2" || fail "show 19 digits: $RC"
jc session frob
[ "$RC" = 2 ] && pass "session frob: exit 2" || fail "session frob: $RC"
jc session
[ "$RC" = 2 ] && pass "session without a command: exit 2" || fail "session: $RC"

# ---- errors -----------------------------------------------------------------------------
DEAD=$(free_port)
"$JUNCTIONCTL" --url "http://127.0.0.1:$DEAD" --token x status >"$T_DIR/out" 2>&1
rc=$?
[ "$rc" = 3 ] && [ "$(cat "$T_DIR/out")" = "junctionctl: cannot reach Junction at http://127.0.0.1:$DEAD: connection refused" ] &&
	pass "daemon unreachable: exit 3, connection refused" || fail "unreachable: $rc $(cat "$T_DIR/out")"
"$JUNCTIONCTL" --url "$ADMIN_URL" --token wrong-token-0123456789 subscriber list >"$T_DIR/out" 2>&1
rc=$?
[ "$rc" = 4 ] && grep -q '^junctionctl: the token was refused (401)' "$T_DIR/out" && pass "wrong token: exit 4" || fail "wrong token: $rc $(cat "$T_DIR/out")"
"$JUNCTIONCTL" --url "$ADMIN_URL" status >"$T_DIR/out" 2>&1
rc=$?
[ "$rc" = 4 ] && grep -q 'none was given' "$T_DIR/out" && pass "no token: exit 4, says none was given" || fail "no token: $rc $(cat "$T_DIR/out")"
"$JUNCTIONCTL" --url "$ADMIN_URL" --token x frobnicate >"$T_DIR/out" 2>&1
[ $? = 2 ] && pass "unknown command: exit 2" || fail "unknown command"
"$JUNCTIONCTL" --bogus >"$T_DIR/out" 2>&1
[ $? = 2 ] && pass "unknown option: exit 2" || fail "unknown option"
"$JUNCTIONCTL" --help | grep -q '^usage: junctionctl' && pass "--help" || fail "--help"
"$JUNCTIONCTL" --version | grep -q '^junctionctl [0-9]' && pass "--version" || fail "--version"

# ---- where the URL and token come from ----------------------------------------------------
JUNCTION_URL=$ADMIN_URL JUNCTION_TOKEN=$ADMIN_TOKEN "$JUNCTIONCTL" status >/dev/null 2>&1 &&
	pass "URL and token from the environment" || fail "environment"
JUNCTION_URL=$ADMIN_URL JUNCTION_TOKEN=wrong-token-0123456789 "$JUNCTIONCTL" --token "$ADMIN_TOKEN" status >/dev/null 2>&1 &&
	pass "--token wins over JUNCTION_TOKEN" || fail "flag precedence"
printf '# junctionctl\nurl = %s\ntoken = %s\n' "$ADMIN_URL" "$ADMIN_TOKEN" >"$HOME/.config/junctionctl.conf"
"$JUNCTIONCTL" status >/dev/null 2>&1 && pass "URL and token from ~/.config/junctionctl.conf" || fail "user config file"
JUNCTION_TOKEN=wrong-token-0123456789 "$JUNCTIONCTL" status >"$T_DIR/out" 2>&1
rc=$?
[ "$rc" = 4 ] && grep -q 'it came from JUNCTION_TOKEN' "$T_DIR/out" && pass "JUNCTION_TOKEN wins over the file, and the error says where it came from" ||
	fail "env over file: $rc $(cat "$T_DIR/out")"
printf '[junctionctl]\nurl = %s\ntoken = wrong-token-0123456789\n' "$ADMIN_URL" >"$T_DIR/other.conf"
"$JUNCTIONCTL" --config "$T_DIR/other.conf" status >"$T_DIR/out" 2>&1
rc=$?
[ "$rc" = 4 ] && grep -q "it came from $T_DIR/other.conf" "$T_DIR/out" && pass "--config FILE replaces the default file" || fail "--config: $rc $(cat "$T_DIR/out")"
printf 'url = %s\ncolour = red\n' "$ADMIN_URL" >"$T_DIR/bad.conf"
"$JUNCTIONCTL" --config "$T_DIR/bad.conf" status >"$T_DIR/out" 2>&1
rc=$?
[ "$rc" = 2 ] && grep -q "unknown key 'colour'" "$T_DIR/out" && pass "a config file with an unknown key: exit 2" || fail "bad config: $rc $(cat "$T_DIR/out")"
"$JUNCTIONCTL" --config "$T_DIR/missing.conf" status >"$T_DIR/out" 2>&1
[ $? = 2 ] && pass "a missing --config file: exit 2" || fail "missing config"
rm -f "$HOME/.config/junctionctl.conf"

stop_junction && pass "SIGTERM exit 0" || fail "exit status"
t_done
