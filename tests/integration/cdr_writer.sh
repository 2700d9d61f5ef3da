#!/usr/bin/env bash
# Call records and the access log (issue 20, parts 6 and 7), with a real
# PostgreSQL and a stateful, record-routing Junction with [cdr] enabled
# and [log] access = a file (logfmt, then JSON):
#  - the configuration: [cdr] without a [database] is refused; the access
#    log file is created at start (0640), the writer started;
#  - /v1/cdrs and /v1/cdrs/calls over rows written in SQL as nodes write
#    them (an answered call whose BYE came through another node with the
#    tags the other way round, a rejected one, one going on): order, every
#    filter, ISO 8601 with offsets, the cdr_call view's columns, and the
#    400s and 405; junctionctl cdrs (tables, --calls, --json, errors);
#    /metrics; every answer against admin/openapi.json;
#  - SIGHUP: the access log moved away (logrotate), kill -HUP, a new file
#    at the path;
#  - SIP through the proxy, with [transaction] t1 = 50 ms: REGISTERs, an
#    answered call (SIPp; start, answer, end bye), a rejected one (486:
#    start, end failure), a cancelled one (SIPp; start, end cancel), one
#    that times out (an INVITE nobody answers: start, end timeout 408) and
#    a MESSAGE nobody answers (RFC 4320: status=0): one access log line
#    per transaction with exact fields, and the cdr rows and calls;
#  - JSON lines after a restart with access_format = json; a clean stop
#    leaves nothing queued.
#
# The part marked "NEEDS PROXY WIRING" passes once proxy.c/core.c call
# accesslog_write() and cdr_record(); CDR_WIRED=no skips it (and the rest
# still runs).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg.sh"
. "$(dirname "$0")/proxy_lib.sh"
. "$(dirname "$0")/admin_lib.sh"
need ss psql curl jq sipp
WIRED=${CDR_WIRED:-yes}
NODE=cdr-n1
ACCESS=$T_DIR/access.log

PORT=$(free_port)
APORT=$(free_port)
SIP_EXTRA="record_route = yes" write_config "$PORT"

# ---- the configuration ------------------------------------------------------------
printf '\n[cdr]\nenabled = yes\n' >>"$T_DIR/junction.conf"
"$JUNCTION" --check-config -c "$T_DIR/junction.conf" >"$T_DIR/check.out" 2>&1 &&
	fail "[cdr] enabled without a [database] accepted" ||
	{ grep -q "\[cdr\] enabled = yes needs a \[database\]" "$T_DIR/check.out" &&
		pass "[cdr] enabled without a [database]: refused" || fail "check-config: $(cat "$T_DIR/check.out")"; }

pg_start || { fail "postgres"; t_done; }
AUTH_MODE=none pg_config
admin_config "$APORT"
# flush_interval low, so that rows land soon after their events.
cat >>"$T_DIR/junction.conf" <<CONF

[cdr]
flush_interval = 50

[log]
access = $ACCESS
access_format = logfmt

[node]
name = $NODE

[transaction]
t1 = 50
CONF
pg_migrate >/dev/null || { fail "migrate"; t_done; }
start_junction "$PORT" || { fail "start"; t_done; }
wait_admin || { fail "admin API"; t_done; }

[ -f "$ACCESS" ] && [ "$(stat -c %a "$ACCESS")" = 640 ] && pass "access log created at start (0640)" ||
	fail "no access log at $ACCESS ($(stat -c %a "$ACCESS" 2>&1))"
grep -q "event=access_log_open target=\"$ACCESS\" format=logfmt" "$T_DIR/junction.log" &&
	grep -q "event=cdr_started flush_interval_ms=50 queue_size=65536" "$T_DIR/junction.log" &&
	pass "access log and call record writer started" || fail "no start lines in the log"

# ---- the API over rows written in SQL -----------------------------------------------
# fx-1: answered on n1, its BYE sent by the callee through n2 (tags the
# other way round); fx-2: rejected 486; fx-3: going on.
psql_q "INSERT INTO cdr (event, at, node, call_id, from_uri, from_tag, to_uri, to_tag, ruri, target, sip_server, status, reason) VALUES
 ('start',  '2026-01-10 10:00:00+00',     'n1', 'fx-1', 'sip:alice@example.com', 'a1', 'sip:bob@example.com', NULL, 'sip:bob@example.com', 'sip:bob@192.0.2.20:5060', NULL, NULL, NULL),
 ('answer', '2026-01-10 10:00:02+00',     'n1', 'fx-1', 'sip:alice@example.com', 'a1', 'sip:bob@example.com', 'b1', 'sip:bob@example.com', 'sip:bob@192.0.2.20:5060', NULL, 200, NULL),
 ('end',    '2026-01-10 10:01:02.500+00', 'n2', 'fx-1', 'sip:bob@example.com', 'b1', 'sip:alice@example.com', 'a1', 'sip:alice@192.0.2.10:5060', NULL, NULL, NULL, 'bye'),
 ('start',  '2026-01-10 11:00:00+00',     'n1', 'fx-2', 'sip:alice@example.com', 'a2', 'sip:carol@example.com', NULL, 'sip:carol@example.com', 'sip:carol@192.0.2.30', 'sc1', NULL, NULL),
 ('end',    '2026-01-10 11:00:01+00',     'n1', 'fx-2', 'sip:alice@example.com', 'a2', 'sip:carol@example.com', 'c2', 'sip:carol@example.com', 'sip:carol@192.0.2.30', 'sc1', 486, 'failure'),
 ('start',  '2026-01-10 12:00:00+00',     'n1', 'fx-3', 'sip:alice@example.com', 'a3', 'sip:dave@example.com', NULL, 'sip:dave@example.com', NULL, NULL, NULL, NULL)" >/dev/null ||
	fail "fixture rows"

# events COND: the last body's items, as "call_id/event" joined by blanks
events() { jq -r '[.items[] | .call_id + "/" + .event] | join(" ")' "$T_DIR/body"; }

api GET /v1/cdrs
expect 200 "call records"
[ "$(events)" = "fx-3/start fx-2/end fx-2/start fx-1/end fx-1/answer fx-1/start" ] &&
	pass "events newest first" || fail "events: $(events)"
[ "$(jqv '.items[1] | [.at, .node, .status, .reason, .to_tag, .sip_server, .target] | @json')" = \
	'["2026-01-10T11:00:01.000Z","n1",486,"failure","c2","sc1","sip:carol@192.0.2.30"]' ] &&
	[ "$(jqv '.items[0] | [.status, .reason, .to_tag, .target] | @json')" = '[null,null,null,null]' ] &&
	[ "$(jqv '.items[0].id | type')" = number ] &&
	pass "an event's fields" || fail "event fields: $(jqv '.items[1]')"
api GET '/v1/cdrs?call_id=fx-1'
[ "$(events)" = "fx-1/end fx-1/answer fx-1/start" ] && pass "call_id filter" || fail "call_id: $(events)"
api GET '/v1/cdrs?from=2026-01-10T10:30:00Z&to=2026-01-10T11:30:00Z'
[ "$(events)" = "fx-2/end fx-2/start" ] && pass "from and to" || fail "from/to: $(events)"
api GET '/v1/cdrs?from=2026-01-10T11:30:00%2B01:00'
[ "$(events)" = "fx-3/start fx-2/end fx-2/start" ] && pass "an offset (+01:00)" || fail "offset: $(events)"
api GET '/v1/cdrs?from=2026-01-10T11:30:00+0100'
[ "$(events)" = "fx-3/start fx-2/end fx-2/start" ] && pass "an unencoded '+' (+0100)" || fail "'+': $STATUS $(events)"
api GET '/v1/cdrs?to=2026-01-10T10:00:02.001-00:00'
[ "$(events)" = "fx-1/answer fx-1/start" ] && pass "milliseconds; to is not included" || fail "ms: $(events)"
api GET '/v1/cdrs?from=2026-01-10&limit=2'
[ "$(events)" = "fx-3/start fx-2/end" ] && pass "a date, and limit" || fail "date/limit: $(events)"
api GET '/v1/cdrs?from=2026-01-11'
expect 200 "nothing after the last"
[ "$(jqv '.items | length')" = 0 ] && pass "an empty list" || fail "after: $(events)"

api GET /v1/cdrs/calls
expect 200 "calls"
[ "$(jqv '[.items[].call_id] | join(" ")')" = "fx-3 fx-2 fx-1" ] && pass "calls newest first" ||
	fail "calls: $(jqv '[.items[].call_id]')"
[ "$(jqv '.items[2] | [.from_tag, .started, .answered, .ended, .status, .reason, .duration_ms, .node, .nodes, .from_uri, .to_uri, .target] | @json')" = \
	'["a1","2026-01-10T10:00:00.000Z","2026-01-10T10:00:02.000Z","2026-01-10T10:01:02.500Z",200,"bye",60500,"n1",["n1","n2"],"sip:alice@example.com","sip:bob@example.com","sip:bob@192.0.2.20:5060"]' ] &&
	pass "an answered call, its BYE from the callee through another node" || fail "fx-1: $(jqv '.items[2]')"
[ "$(jqv '.items[1] | [.status, .reason, .answered, .duration_ms, .sip_server, .target] | @json')" = \
	'[486,"failure",null,null,"sc1","sip:carol@192.0.2.30"]' ] &&
	[ "$(jqv '.items[0] | [.status, .reason, .ended, .duration_ms, .nodes] | @json')" = '[null,null,null,null,["n1"]]' ] &&
	pass "a rejected call, a call going on" || fail "fx-2/3: $(jqv '.items[0:2]')"
api GET '/v1/cdrs/calls?to=2026-01-10T11:00:00Z'
[ "$(jqv '[.items[].call_id] | join(" ")')" = fx-1 ] && pass "calls by their start" || fail "calls to: $(jqv .)"
api GET '/v1/cdrs/calls?call_id=fx-2&limit=1'
[ "$(jqv '[.items[].call_id] | join(" ")')" = fx-2 ] && pass "calls of a Call-ID" || fail "calls call_id: $(jqv .)"
psql_q "SELECT count(*) FROM cdr_call WHERE ended IS NOT NULL" | grep -qx 2 && pass "completed calls in SQL: 2" ||
	fail "cdr_call completed"

for bad in 'from=yesterday' 'from=2026-13-01' 'from=2026-02-29' 'to=2026-01-10T25:00:00Z' 'from=2026-01-10T10:00:00Z+01' \
	'from=1969-12-31' 'from=2026-01-10&to=2026-01-10' 'limit=0' 'limit=1001' 'call_id=' 'cursor=abc' 'node=n1'; do
	api GET "/v1/cdrs?$bad"
	expect 400 bad_request "/v1/cdrs?$bad"
done
api GET '/v1/cdrs/calls?from=2026-01-10T12:00:00Z&to=2026-01-10T11:00:00Z'
expect 400 bad_request "calls: from after to"
api HEAD /v1/cdrs "" -I
expect 200 "HEAD /v1/cdrs"
api POST /v1/cdrs '{}'
expect 405 method_not_allowed "records are not posted"
api DELETE /v1/cdrs/calls
expect 405 method_not_allowed "calls are not deleted"

# ---- junctionctl cdrs ---------------------------------------------------------------
jc() {
	"$JUNCTIONCTL" --url "$ADMIN_URL" --token "$ADMIN_TOKEN" "$@" >"$T_DIR/out" 2>"$T_DIR/err" </dev/null
	RC=$?
}
if [ -x "$JUNCTIONCTL" ]; then
	jc cdrs --to 2026-01-10T11:30:00Z
	[ "$RC" = 0 ] && head -n 1 "$T_DIR/out" | grep -q '^AT  *EVENT  *CALL-ID  *FROM  *TO  *TARGET  *STATUS  *REASON  *NODE$' &&
		[ "$(tail -n +2 "$T_DIR/out" | awk '{print $3 "/" $2}' | tr '\n' ' ')" = "fx-2/end fx-2/start fx-1/end fx-1/answer fx-1/start " ] &&
		pass "junctionctl cdrs: a table" || fail "junctionctl cdrs: rc=$RC $(cat "$T_DIR/out" "$T_DIR/err")"
	jc cdrs --calls --call-id fx-1
	[ "$RC" = 0 ] && grep -q '^2026-01-10T10:00:00.000Z  fx-1  .* 200 .* bye .* 60500 .* n1,n2$' "$T_DIR/out" &&
		pass "junctionctl cdrs --calls" || fail "junctionctl cdrs --calls: rc=$RC $(cat "$T_DIR/out" "$T_DIR/err")"
	jc --json cdrs --call-id fx-1 --limit 2
	[ "$RC" = 0 ] && [ "$(jq -r '[.items[].event] | join(" ")' "$T_DIR/out")" = "end answer" ] &&
		pass "junctionctl --json cdrs --limit" || fail "junctionctl --json cdrs: rc=$RC $(cat "$T_DIR/out")"
	jc cdrs --from yesterday
	[ "$RC" = 1 ] && grep -q "from must be a time in ISO 8601" "$T_DIR/err" && pass "junctionctl cdrs: a bad time, exit 1" ||
		fail "junctionctl bad time: rc=$RC $(cat "$T_DIR/err")"
	jc cdrs extra
	[ "$RC" = 2 ] && pass "junctionctl cdrs: an argument, exit 2" || fail "junctionctl cdrs extra: rc=$RC"
else
	fail "no $JUNCTIONCTL"
fi
psql_q "DELETE FROM cdr WHERE call_id LIKE 'fx-%'" >/dev/null

# ---- /metrics -----------------------------------------------------------------------
curl -s "$ADMIN_URL/metrics" >"$T_DIR/metrics"
for m in junction_cdr_written_total junction_cdr_dropped_total junction_cdr_queued junction_access_log_dropped_total; do
	grep -q "^# TYPE $m " "$T_DIR/metrics" && grep -Eq "^$m [0-9]+$" "$T_DIR/metrics" && pass "metric $m" ||
		fail "no metric $m"
done

# ---- SIGHUP: logrotate's postrotate --------------------------------------------------
mv "$ACCESS" "$ACCESS.1"
log_mark
kill -HUP "$JCT_PID"
wait_for 3 log_since "event=access_log_reopened path=\"$ACCESS\"" && [ -f "$ACCESS" ] &&
	pass "SIGHUP: the access log reopened at its path" || fail "SIGHUP: no new $ACCESS"
log_since "event=log_reopened" && answers "$PORT" && pass "SIGHUP: the event log too, still answering" ||
	fail "SIGHUP: event log or answers"
ROTATED_LINES=$(wc -l <"$ACCESS.1")

openapi_check

# ---- SIP through the proxy: NEEDS PROXY WIRING ---------------------------------------
# Everything below asserts on what proxy.c and core.c write through
# accesslog_write() and cdr_record().

# The caller's requests: request METHOD USER CALLID CPORT [TO-TAG]
# (an ACK: for the INVITE's non-2xx final, in its transaction)
request() {
	local m=$1 id=${3//[^A-Za-z0-9]/}
	[ "$m" = ACK ] && m=INVITE
	printf '%s sip:%s@localhost SIP/2.0\nVia: SIP/2.0/UDP 127.0.0.1:%s;branch=z9hG4bK%s%s;rport\n' "$1" "$2" "$4" "$id" "$m"
	printf 'Max-Forwards: 70\nFrom: <sip:caller@example.com>;tag=c%s\nTo: <sip:%s@localhost>%s\n' "$id" "$2" "${5:+;tag=$5}"
	printf 'Call-ID: %s\nCSeq: 1 %s\nContact: <sip:caller@127.0.0.1:%s>\n' "$3" "$1" "$4"
	if [ "$1" = MESSAGE ]; then
		printf 'Content-Type: text/plain\nContent-Length: 5\n\nhello'
	else
		printf 'Content-Length: 0\n\n'
	fi
}
to_tag() { sed -n 's/^To:.*;tag=\([^;[:space:]]*\).*/\1/p' "$1" | tail -n 1 | tr -d '\r'; }
# line CALLID METHOD: the access log line of that transaction (one, or fail)
line() {
	grep "call_id=\"$1\"\$" "$ACCESS" | grep " method=$2 "
}
# has_line CALLID METHOD: the line is there (for wait_for)
has_line() { [ -n "$(line "$1" "$2")" ]; }
# line_is WHAT CALLID METHOD EXPECTED: the line, time and duration_ms aside,
# is EXPECTED
line_is() {
	local what=$1 got
	wait_for 5 has_line "$2" "$3"
	got=$(line "$2" "$3")
	if [ "$(grep -c . <<<"$got")" = 1 ] &&
		[[ $got =~ ^time=20[0-9][0-9]-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-5][0-9]\.[0-9]{3}Z\  ]] &&
		[[ $got =~ \ duration_ms=[0-9]+\  ]] &&
		[ "$(sed -E 's/^time=[^ ]+ //; s/ duration_ms=[0-9]+ / /' <<<"$got")" = "$4" ]; then
		pass "access log: $what"
	else
		fail "access log: $what: expected '$4', got '$got'"
	fi
}
# rows CALLID: its cdr rows as event/status/reason, oldest first
rows() {
	psql_q "SELECT string_agg(event || '/' || coalesce(status::text, '-') || '/' || coalesce(reason, '-'), ' ' ORDER BY at, id) FROM cdr WHERE call_id = '$1'"
}
# rows_are WHAT CALLID EXPECTED
rows_are() {
	local got
	wait_for 3 eval "[ \"\$(rows '$2')\" = '$3' ]"
	got=$(rows "$2")
	[ "$got" = "$3" ] && pass "cdr: $1: $3" || fail "cdr: $1: expected '$3', got '$got'"
}

# hop PORT: a target as the proxy writes it, the next hop it sent to
hop() { echo "udp:127.0.0.1:$1"; }

if [ "$WIRED" = yes ]; then
	log "NEEDS PROXY WIRING: the checks from here on"
	# REGISTERs: answered by the registrar itself, no target
	UAS=$(free_port)
	UB=$(free_port)
	UC=$(free_port)
	US=$(free_port)
	register svc "sip:svc@127.0.0.1:$UAS"
	register busy "sip:busy@127.0.0.1:$UB"
	register ring "sip:ring@127.0.0.1:$UC"
	register silent "sip:silent@127.0.0.1:$US"
	wait_for 3 eval '[ "$(grep -c " method=REGISTER " "$ACCESS")" -ge 4 ]'
	[ "$(grep -c " method=REGISTER " "$ACCESS")" = 4 ] &&
		grep " method=REGISTER " "$ACCESS" | grep -q "^time=.* node=$NODE proto=udp src=127.0.0.1:[0-9]* method=REGISTER ruri=\"sip:localhost\" from=silent status=200 target=\"\" duration_ms=[0-9]* call_id=\"reg-" &&
		pass "access log: a line per REGISTER" || fail "REGISTER lines: $(grep " method=REGISTER " "$ACCESS")"
	[ "$(wc -l <"$ACCESS.1")" = "$ROTATED_LINES" ] && pass "nothing more in the rotated file" || fail "lines went to $ACCESS.1"

	# An answered call (SIPp): start, answer, end bye; INVITE and BYE lines
	CP=$(free_port)
	uas uas_ok uas.xml "$UAS" -m 1
	CALLS=1 uac uac_ok uac_aor.xml svc -p "$CP" -cid_str "cdr-ok-%u@test"
	uas_wait uas_ok 1
	line_is "answered INVITE" cdr-ok-1@test INVITE \
		"node=$NODE proto=udp src=127.0.0.1:$CP method=INVITE ruri=\"sip:svc@localhost\" from=sipp status=200 target=\"$(hop "$UAS")\" call_id=\"cdr-ok-1@test\""
	wait_for 5 has_line cdr-ok-1@test BYE
	line cdr-ok-1@test BYE | grep -q " proto=udp src=127.0.0.1:$CP method=BYE ruri=\"sip:127.0.0.1:$UAS;transport=UDP\" from=sipp status=200 target=\"$(hop "$UAS")\" duration_ms=" &&
		pass "access log: its BYE" || fail "BYE line: $(line cdr-ok-1@test BYE)"
	# an ACK for a 2xx is no transaction of its own (RFC 3261 §17)
	[ "$(grep -c "call_id=\"cdr-ok-1@test\"" "$ACCESS")" = 2 ] && pass "access log: two transactions, two lines" ||
		fail "lines of the call: $(grep "call_id=\"cdr-ok-1@test\"" "$ACCESS")"
	rows_are answered cdr-ok-1@test "start/-/- answer/200/- end/-/bye"
	[ "$(psql_q "SELECT node || ' ' || ruri || ' ' || target || ' ' || from_uri || ' ' || (to_tag IS NULL) FROM cdr WHERE call_id = 'cdr-ok-1@test' AND event = 'start'")" = \
		"$NODE sip:svc@localhost $(hop "$UAS") sip:sipp@127.0.0.1:$CP true" ] &&
		[ "$(psql_q "SELECT to_tag IS NOT NULL FROM cdr WHERE call_id = 'cdr-ok-1@test' AND event = 'answer'")" = t ] &&
		pass "cdr: the start's fields, the answer's To tag" ||
		fail "cdr start: $(psql_q "SELECT * FROM cdr WHERE call_id = 'cdr-ok-1@test'")"
	[ "$(psql_q "SELECT status || ' ' || reason || ' ' || (duration >= interval '0') || ' ' || array_to_string(nodes, ',') FROM cdr_call WHERE call_id = 'cdr-ok-1@test'")" = "200 bye true $NODE" ] &&
		pass "cdr_call: answered, ended by a BYE, a duration" || fail "cdr_call answered: $(psql_q "SELECT * FROM cdr_call WHERE call_id = 'cdr-ok-1@test'")"

	# A rejected call (486, sipsend): start, end failure 486
	CP=$(free_port)
	uas uas_busy uas_busy.xml "$UB" -m 1
	request INVITE busy cdr-busy@test "$CP" | "$SIPSEND" -P -w 5000 -b "$CP" udp 127.0.0.1 "$PORT" - >"$T_DIR/busy.resp"
	grep -q "^SIP/2.0 486 " "$T_DIR/busy.resp" && pass "busy: 486" || fail "busy: $(cat "$T_DIR/busy.resp")"
	request ACK busy cdr-busy@test "$CP" "$(to_tag "$T_DIR/busy.resp")" | "$SIPSEND" -n -w 100 -b "$CP" udp 127.0.0.1 "$PORT" - >/dev/null
	uas_wait uas_busy 1
	line_is "rejected INVITE" cdr-busy@test INVITE \
		"node=$NODE proto=udp src=127.0.0.1:$CP method=INVITE ruri=\"sip:busy@localhost\" from=caller status=486 target=\"$(hop "$UB")\" call_id=\"cdr-busy@test\""
	rows_are rejected cdr-busy@test "start/-/- end/486/failure"

	# A cancelled call (SIPp): start, end cancel; INVITE 487 and CANCEL 200
	CP=$(free_port)
	uas uas_cancel uas_cancel.xml "$UC" -m 1
	CALLS=1 uac uac_cancel uac_cancel.xml ring -p "$CP" -cid_str "cdr-cancel-%u@test"
	uas_wait uas_cancel 1
	line_is "cancelled INVITE" cdr-cancel-1@test INVITE \
		"node=$NODE proto=udp src=127.0.0.1:$CP method=INVITE ruri=\"sip:ring@localhost\" from=sipp status=487 target=\"$(hop "$UC")\" call_id=\"cdr-cancel-1@test\""
	# (the proxy answers a CANCEL itself, RFC 3261 §16.10: no target)
	line_is "its CANCEL" cdr-cancel-1@test CANCEL \
		"node=$NODE proto=udp src=127.0.0.1:$CP method=CANCEL ruri=\"sip:ring@localhost\" from=sipp status=200 target=\"\" call_id=\"cdr-cancel-1@test\""
	rows_are cancelled cdr-cancel-1@test "start/-/- end/487/cancel"

	# A call nobody answers (Timer B, 64*T1 = 3.2 s): start, end timeout 408
	CP=$(free_port)
	listener target "$US"
	request INVITE silent cdr-silent@test "$CP" | "$SIPSEND" -P -w 8000 -b "$CP" udp 127.0.0.1 "$PORT" - >"$T_DIR/silent.resp"
	grep -q "^SIP/2.0 408 " "$T_DIR/silent.resp" && pass "silent: 408" || fail "silent: $(cat "$T_DIR/silent.resp")"
	request ACK silent cdr-silent@test "$CP" "$(to_tag "$T_DIR/silent.resp")" | "$SIPSEND" -n -w 100 -b "$CP" udp 127.0.0.1 "$PORT" - >/dev/null
	line_is "timed-out INVITE" cdr-silent@test INVITE \
		"node=$NODE proto=udp src=127.0.0.1:$CP method=INVITE ruri=\"sip:silent@localhost\" from=caller status=408 target=\"$(hop "$US")\" call_id=\"cdr-silent@test\""
	rows_are "timed out" cdr-silent@test "start/-/- end/408/timeout"
	# A MESSAGE nobody answers: no final response at all (RFC 4320)
	CP=$(free_port)
	request MESSAGE silent cdr-msg@test "$CP" | "$SIPSEND" -n -w 4000 -b "$CP" udp 127.0.0.1 "$PORT" - >/dev/null
	line_is "unanswered MESSAGE" cdr-msg@test MESSAGE \
		"node=$NODE proto=udp src=127.0.0.1:$CP method=MESSAGE ruri=\"sip:silent@localhost\" from=caller status=0 target=\"$(hop "$US")\" call_id=\"cdr-msg@test\""
	[ -z "$(rows cdr-msg@test)" ] && pass "cdr: no record for a MESSAGE" || fail "cdr for a MESSAGE: $(rows cdr-msg@test)"

	api GET '/v1/cdrs/calls?limit=10'
	[ "$(jqv '[.items[] | .call_id + ":" + (.reason // "-")] | join(" ")')" = \
		"cdr-silent@test:timeout cdr-cancel-1@test:cancel cdr-busy@test:failure cdr-ok-1@test:bye" ] &&
		pass "/v1/cdrs/calls: the four calls" || fail "/v1/cdrs/calls: $(jqv '[.items[] | .call_id + ":" + (.reason // "-")]')"
	curl -s "$ADMIN_URL/metrics" | grep -q '^junction_cdr_written_total 9$' && pass "9 records written" ||
		fail "junction_cdr_written_total: $(curl -s "$ADMIN_URL/metrics" | grep '^junction_cdr_')"
	# Nothing escaped its line: every line is one record with its keys.
	bad=$(grep -Evc '^time=[^ ]+ node=[^ ]+ proto=(udp|tcp|tls) src=[^ ]* method=[^ ]* ruri="[^"]*" from=[^ ]* status=[0-9]+ target="[^"]*" duration_ms=[0-9]+ call_id="[^"]*"$' "$ACCESS")
	[ "$bad" = 0 ] && pass "every access log line is well formed" || fail "$bad malformed access log lines"
fi

stop_junction && pass "SIGTERM exit 0" || fail "exit status"
grep -Eq "event=cdr_stopped written=[0-9]+ dropped=0" "$T_DIR/junction.log" && pass "stop: no record dropped" ||
	fail "cdr stop: $(grep event=cdr_stopped "$T_DIR/junction.log")"

# ---- JSON lines ------------------------------------------------------------------------
sed -i 's/^access_format = logfmt$/access_format = json/' "$T_DIR/junction.conf"
start_junction "$PORT" || { fail "restart"; t_done; }
grep -q "event=access_log_open target=\"$ACCESS\" format=json" "$T_DIR/junction.log" && pass "restarted with JSON lines" ||
	fail "no access_format = json"
if [ "$WIRED" = yes ]; then
	# start_junction's OPTIONS, answered here
	wait_for 3 eval 'grep -q "^{.*\"method\":\"OPTIONS\"" "$ACCESS"'
	l=$(grep "^{.*\"method\":\"OPTIONS\"" "$ACCESS" | tail -n 1)
	[ -n "$l" ] && jq -e --arg node "$NODE" '.node == $node and .proto == "udp" and (.src | startswith("127.0.0.1:")) and .status == 200 and .target == "" and .from == "probe" and (.duration_ms | type) == "number" and (keys_unsorted | join(" ")) == "time node proto src method ruri from status target duration_ms call_id"' <<<"$l" >/dev/null &&
		pass "access log: a JSON line, its keys in order" || fail "JSON line: $l"
	register svc "sip:svc@127.0.0.1:$(free_port)"
	wait_for 3 eval 'grep -q "^{.*\"method\":\"REGISTER\"" "$ACCESS"'
	l=$(grep "^{.*\"method\":\"REGISTER\"" "$ACCESS" | tail -n 1)
	[ -n "$l" ] && jq -e '.status == 200 and .target == "" and .from == "svc"' <<<"$l" >/dev/null &&
		pass "access log: a REGISTER's JSON line" || fail "JSON REGISTER line: '$l'"
fi
stop_junction && pass "SIGTERM exit 0" || fail "exit status"
t_done
