#!/usr/bin/env bash
# The registrar's RFC 3665 §2 flows and RFC 3261 §10.3 rules, each checked
# in the 200 (or error) and in the binding table: add, refresh, update,
# query, remove one, remove all, remove the last, Min-Expires (423), clamping, defaults,
# Call-ID/CSeq ordering, retransmission, max contacts, Path, Require (420),
# foreign AOR (404); then the location service routing an INVITE to the
# binding (with its Path), 480 and 404, the location cache following a
# change made in SQL, and expired bindings never used and swept. Authentication is off here (auth.sh tests it).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg.sh"
need ss psql

PORT=$(free_port)
CATCH=$(free_port)
write_config "$PORT"
pg_start || { fail "postgres"; t_done; }
AUTH_MODE=none REG_EXTRA="max_expires = 7200
default_expires = 1800
max_contacts = 3
sweep_interval = 1" pg_config
pg_migrate >/dev/null || { fail "migrate"; t_done; }
start_junction "$PORT" || { fail "start"; t_done; }

CALLID=reg-$RANDOM$RANDOM
CSEQ=0
# reg [headers...]: a REGISTER for alice@localhost with CALLID and CSEQ
reg() {
	printf 'REGISTER sip:localhost SIP/2.0\n'
	printf 'Via: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKr%s%s;rport\n' "$CSEQ" "$RANDOM"
	printf 'Max-Forwards: 70\nFrom: <sip:alice@localhost>;tag=r%s\nTo: <sip:alice@localhost>\n' "$RANDOM"
	printf 'Call-ID: %s\nCSeq: %s REGISTER\nUser-Agent: junction-test/1\n' "$CALLID" "$CSEQ"
	local h
	for h in "$@"; do printf '%s\n' "$h"; done
	printf 'Content-Length: 0\n\n'
}

send() { "$SIPSEND" -P -v -w 3000 udp 127.0.0.1 "$PORT" - >"$T_DIR/last"; }
# R [headers...]: the next CSeq, sent; the answer in $T_DIR/last
R() {
	CSEQ=$((CSEQ + 1))
	reg "$@" | send
}
status_is() {
	head -n 1 "$T_DIR/last" | grep -q "^SIP/2.0 $1 " && pass "$2: $1" ||
		{ fail "$2: expected $1, got '$(head -n 1 "$T_DIR/last")'"; cat "$T_DIR/last" >&2; }
}
resp_has() { grep -Eq "$1" "$T_DIR/last" && pass "$2" || { fail "$2 (/$1/)"; cat "$T_DIR/last" >&2; }; }
resp_count() { grep -Ec "$1" "$T_DIR/last"; }
db() { psql_q "$1"; }
rows() { db "SELECT count(*) FROM binding WHERE aor = 'sip:alice@localhost'"; }

C1="sip:alice@127.0.0.1:$CATCH"
C2="sip:alice@192.0.2.7:5062;transport=tcp"

# 1. add (RFC 3665 §2.1): one binding, stored before the 200
R "Contact: <$C1>" "Expires: 3600"
status_is 200 "add"
resp_has "^Contact: <$C1>;expires=(3600|3599);q=1.000" "add: the binding with its expires"
resp_has "^Date: [A-Z][a-z]{2}, [0-9]{2} [A-Z][a-z]{2} 20[0-9]{2} [0-9:]{8} GMT" "add: Date header"
resp_has "^To: <sip:alice@localhost>;tag=" "add: To tag"
[ "$(rows)" = 1 ] && pass "add: one row" || fail "add: rows=$(rows)"
[ "$(db "SELECT call_id || ' ' || cseq || ' ' || received || ' ' || user_agent || ' ' || q FROM binding")" = \
	"$CALLID 1 udp:127.0.0.1:$(db "SELECT split_part(received, ':', 3) FROM binding") junction-test/1 1.000" ] &&
	pass "add: Call-ID, CSeq, received, User-Agent, q stored" || fail "add: row is $(db 'SELECT * FROM binding')"
left=$(db "SELECT round(extract(epoch FROM expires_at - now())) FROM binding")
[ "$left" -ge 3590 ] && [ "$left" -le 3600 ] && pass "add: expires_at in an hour" || fail "add: expires in $left s"
[ "$(db "SELECT node FROM active_bindings")" = "$(hostname)" ] && pass "add: node recorded" || fail "add: node"

# 2. refresh (§2.2): same contact, later CSeq, new expiry
R "Contact: <$C1>;expires=1200"
status_is 200 "refresh"
resp_has "^Contact: <$C1>;expires=(1200|1199)" "refresh: new expiry"
[ "$(db "SELECT cseq FROM binding")" = 2 ] && pass "refresh: CSeq updated" || fail "refresh: cseq"

# 3. update (§2.3): a second contact, with q
R "Contact: <$C1>;expires=1200, <$C2>;q=0.5;expires=600"
status_is 200 "update"
[ "$(resp_count '^Contact: ')" = 2 ] && pass "update: both bindings listed" || fail "update: contacts"
resp_has "^Contact: <$C2>;expires=(600|599);q=0.500" "update: q and expires of the second"
[ "$(rows)" = 2 ] && pass "update: two rows" || fail "update: rows=$(rows)"

# 4. query (§2.4): no Contact, nothing changes
before=$(db "SELECT string_agg(contact || cseq, ',' ORDER BY contact) FROM binding")
R
status_is 200 "query"
[ "$(resp_count '^Contact: ')" = 2 ] && pass "query: current bindings listed" || fail "query: contacts"
[ "$(db "SELECT string_agg(contact || cseq, ',' ORDER BY contact) FROM binding")" = "$before" ] &&
	pass "query: table unchanged" || fail "query changed the table"

# 5. remove one (§2.5): expires=0
R "Contact: <$C2>;expires=0"
status_is 200 "remove one"
[ "$(resp_count '^Contact: ')" = 1 ] && pass "remove one: one left in the 200" || fail "remove one: contacts"
[ "$(rows)" = 1 ] && [ "$(db "SELECT contact FROM binding")" = "$C1" ] && pass "remove one: row gone" || fail "remove one: rows"

# 6. Call-ID/CSeq ordering (§10.3 step 7): an older CSeq is refused,
#    the same CSeq again is a retransmission answered like the original
stored=$(db "SELECT cseq FROM binding")
SAVED=$CSEQ
CSEQ=$((stored - 2))
R "Contact: <$C1>;expires=100"
status_is 500 "older CSeq of the same Call-ID"
[ "$(db "SELECT round(extract(epoch FROM expires_at - now())) > 200 FROM binding")" = t ] &&
	pass "older CSeq: binding untouched" || fail "older CSeq overwrote the binding"
CSEQ=$((stored - 1))
R "Contact: <$C1>;expires=100"
status_is 200 "retransmission (same CSeq)"
resp_has "^Contact: <$C1>;expires=(1200|1199|1198)" "retransmission answered like the original"
CSEQ=$SAVED
# a new Call-ID may always update (another device or a reboot)
OLDCALL=$CALLID; CALLID=reg-other-$RANDOM; SAVED=$CSEQ; CSEQ=0
R "Contact: <$C1>;expires=900"
status_is 200 "new Call-ID with a low CSeq"
[ "$(db "SELECT call_id FROM binding")" = "$CALLID" ] && pass "new Call-ID stored" || fail "call-id"
CALLID=$OLDCALL; CSEQ=$((SAVED + 10))

# 7. Expires rules: too brief (423 + Min-Expires), clamped, default
R "Contact: <$C1>" "Expires: 5"
status_is 423 "Expires 5 below min_expires 10"
resp_has "^Min-Expires: 10" "423 carries Min-Expires"
R "Contact: <$C1>;expires=999999"
status_is 200 "Expires above max"
resp_has "^Contact: <$C1>;expires=(7200|7199)" "clamped to max_expires"
R "Contact: <$C1>"
status_is 200 "no expiry given"
resp_has "^Contact: <$C1>;expires=(1800|1799)" "default_expires used"
R "Contact: <$C1>" "Expires: soon"
status_is 400 "Expires not a number"

# 8. max contacts per AOR (3)
R "Contact: <sip:a@192.0.2.1>, <sip:b@192.0.2.2>, <sip:c@192.0.2.3>"
status_is 403 "a fourth binding over max_contacts"
[ "$(rows)" = 1 ] && pass "nothing stored from the refused REGISTER" || fail "partial store: $(rows) rows"

# 9. remove all (§2.6): "*" with Expires: 0; "*" otherwise is 400
R "Contact: *" "Expires: 3600"
status_is 400 "* with Expires 3600"
R "Contact: *, <$C1>" "Expires: 0"
status_is 400 "* with another contact"
R "Contact: *" "Expires: 0"
status_is 200 "remove all"
[ "$(resp_count '^Contact: ')" = 0 ] && pass "remove all: no bindings in the 200" || fail "remove all: contacts"
[ "$(rows)" = 0 ] && pass "remove all: rows gone" || fail "remove all: rows=$(rows)"
# the last binding removed by its own Contact (a UA signing off): 200,
# no Contact left (this was once a 500 after the removal had committed)
R "Contact: <$C2>;expires=300"
R "Contact: <$C2>;expires=0"
status_is 200 "remove the last one"
[ "$(resp_count '^Contact: ')" = 0 ] && pass "remove the last one: no bindings in the 200" || fail "remove the last one: contacts"
[ "$(rows)" = 0 ] && pass "remove the last one: row gone" || fail "remove the last one: rows=$(rows)"

# 10. Path (RFC 3327): stored, returned to a UA that supports it
R "Contact: <$C1>" "Path: <sip:127.0.0.1:$CATCH;lr>" "Supported: path"
status_is 200 "REGISTER with Path"
resp_has "^Path: <sip:127.0.0.1:$CATCH;lr>" "Path returned"
[ "$(db "SELECT path FROM binding")" = "<sip:127.0.0.1:$CATCH;lr>" ] && pass "Path stored" || fail "path column"

# 11. refusals: unknown Require (420), a foreign AOR (404)
R "Contact: <$C1>" "Require: gruu-x"
status_is 420 "unknown Require"
resp_has "^Unsupported: gruu-x" "420 names the tag"
reg "Contact: <$C1>" | sed 's/^To: <sip:alice@localhost>/To: <sip:alice@elsewhere.example>/' | send
status_is 404 "AOR of a domain we do not serve"

# 12. the location service: INVITE for alice reaches her binding through
#     the Path (the Path URI is the catcher here, with lr)
invite() {
	printf 'INVITE sip:%s@localhost SIP/2.0\n' "$1"
	printf 'Via: SIP/2.0/UDP 127.0.0.1:%s;branch=z9hG4bKi%s;rport\n' "$CATCH" "$RANDOM"
	printf 'Max-Forwards: 70\nFrom: <sip:bob@example.net>;tag=i1\nTo: <sip:%s@localhost>\n' "$1"
	printf 'Call-ID: inv-%s\nCSeq: 1 INVITE\nContent-Length: 0\n\n' "$RANDOM"
}
invite alice | "$SIPSEND" -P -v -c 1 -w 3000 -b "$CATCH" udp 127.0.0.1 "$PORT" - >"$T_DIR/last"
resp_has "^INVITE $C1 SIP/2.0" "INVITE to the AOR goes to the registered contact"
resp_has "^Route: <sip:127.0.0.1:$CATCH;lr>" "the binding's Path is pre-loaded as Route"
resp_has "^Via: SIP/2.0/UDP 127.0.0.1:$PORT;branch=z9hG4bK" "relayed by us"

psql_q "SELECT junction_add_subscriber('carol', 'localhost', 'pw')" >/dev/null
invite carol | send
status_is 480 "known user, nothing registered"
invite nobody | send
status_is 404 "unknown user"

# 12b. the node caches where alice is; a change made behind its back (as
#     another node or an operator would make it, in SQL) is in force on
#     the next call all the same: the NOTIFY drops the cached answer
invite alice | "$SIPSEND" -P -v -c 1 -w 3000 -b "$CATCH" udp 127.0.0.1 "$PORT" - >"$T_DIR/last"
resp_has "^INVITE $C1 SIP/2.0" "INVITE again: same contact"
db "UPDATE binding SET contact = 'sip:alice-moved@127.0.0.1:$CATCH' WHERE aor = 'sip:alice@localhost'" >/dev/null
# the NOTIFY travels on its own connection: poll (3 s, far below the
# cache's lifetime) instead of a fixed sleep
moved() {
	invite alice | "$SIPSEND" -P -v -c 1 -w 1000 -b "$CATCH" udp 127.0.0.1 "$PORT" - >"$T_DIR/last"
	grep -q "^INVITE sip:alice-moved@127.0.0.1:$CATCH SIP/2.0" "$T_DIR/last"
}
wait_for 3 moved
resp_has "^INVITE sip:alice-moved@127.0.0.1:$CATCH SIP/2.0" "a contact changed in SQL is used at once"

# 13. an expired binding is never used, and the sweeper removes it
db "UPDATE binding SET expires_at = now() - interval '1 second'" >/dev/null
# the notification travels on its own connection, as in 12b
expired() { invite alice | send && head -n 1 "$T_DIR/last" | grep -q '^SIP/2.0 404 '; }
wait_for 3 expired
status_is 404 "expired binding not used (alice is no subscriber: 404)"
for _ in $(seq 30); do [ "$(rows)" = 0 ] && break; sleep 0.2; done
[ "$(rows)" = 0 ] && pass "expired binding swept" || fail "expired binding still there"

stop_junction && pass "SIGTERM exit 0" || fail "exit status"
hits=$(grep -o 'location_cache_hits=[0-9]*' "$T_DIR/junction.log" | tail -n 1 | cut -d= -f2)
[ "${hits:-0}" -ge 1 ] && pass "location cache used ($hits hits)" || fail "no location cache hit"
t_done
