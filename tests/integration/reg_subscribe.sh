#!/usr/bin/env bash
# Subscribers of the registration event package (RFC 3680 §3, RFC 6665),
# [notify] subscribe = yes: a trusted watcher subscribes to alice's
# registrations and gets the first NOTIFY (state "init"), one NOTIFY per
# change of her bindings (registered, unregistered: in its dialog, CSeq and
# version counting up, the body valid against RFC 3680's schema), a last
# NOTIFY "terminated" when it unsubscribes or its subscription runs out;
# a refresh within the dialog, 481 for a dialog we do not know, 403 for an
# untrusted watcher, 406 for one that does not accept reginfo, the
# subscription gone after a 481 to our NOTIFY, and SUBSCRIBEs of other
# packages left to the location service.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg.sh"
need psql python3 xmllint jq

SUBSCRIBER=$TOP_SRCDIR/tests/integration/reg_subscriber.py
XSD=$TOP_SRCDIR/tests/integration/reginfo.xsd
PORT=$(free_port)
SECURITY="trusted = 127.0.0.1 ::1" write_config "$PORT"
pg_start || { fail "postgres"; t_done; }
AUTH_MODE=none REG_EXTRA="sweep_interval = 1" pg_config
cat >>"$T_DIR/junction.conf" <<CONF

[notify]
subscribe = yes
max_subscribe = 300
interval = 100
CONF
pg_migrate >/dev/null || { fail "migrate"; t_done; }
start_junction "$PORT" || { fail "start"; t_done; }

AOR=sip:alice@localhost
CONTACT="sip:alice@127.0.0.1:5999"
# reg EXPIRES [CSEQ]: a REGISTER of alice's one contact
reg() {
	"$SIPSEND" -P -w 3000 udp 127.0.0.1 "$PORT" - >"$T_DIR/reg.out" <<MSG
REGISTER sip:localhost SIP/2.0
Via: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKr$RANDOM$RANDOM;rport
Max-Forwards: 70
From: <$AOR>;tag=r$RANDOM
To: <$AOR>
Call-ID: reg-sub-test
CSeq: ${2:-1} REGISTER
Contact: <$CONTACT>;expires=$1
Content-Length: 0

MSG
	head -n 1 "$T_DIR/reg.out" | grep -q '^SIP/2.0 200 ' || fail "REGISTER expires=$1: $(head -n 1 "$T_DIR/reg.out")"
}
# watch NAME SECONDS [options]: a subscriber in the background, logging to
# $T_DIR/NAME.log
watch() {
	local name=$1 run=$2
	shift 2
	python3 "$SUBSCRIBER" --to "127.0.0.1:$PORT" --aor "$AOR" --log "$T_DIR/$name.log" \
		--run "$run" "$@" &
	T_PIDS+=($!)
	eval "WATCH_$name=$!"
}
# jq over the subscriber's log
j() { jq -rs "$2" "$T_DIR/$1.log" 2>/dev/null; }
notifies() { j "$1" '[.[] | select(.kind == "request")] | length'; }
wait_notifies() { wait_for "$3" eval "[ \"\$(notifies $1)\" -ge $2 ]"; }
valid() { xmllint --noout --schema "$XSD" "$1" 2>"$T_DIR/xmllint.err"; }

# 1. subscribe: 200 with the Expires granted (capped), then the first NOTIFY
watch w1 12 --bind 127.0.0.1 --expires 900 --refresh-after-notifies 3 --refresh-expires 200 \
	--end-after-notifies 4
wait_notifies w1 1 5 || fail "no first NOTIFY"
[ "$(j w1 '[.[] | select(.kind == "response")][0].status')" = 200 ] &&
	pass "SUBSCRIBE: 200" || fail "SUBSCRIBE: $(j w1 '.[0]')"
[ "$(j w1 '[.[] | select(.kind == "response")][0].expires')" = 300 ] &&
	pass "SUBSCRIBE: Expires capped at max_subscribe (300)" || fail "Expires: $(j w1 '.[0].expires')"
n1=$(j w1 '[.[] | select(.kind == "request")][0]')
[ "$(jq -r .method <<<"$n1")" = NOTIFY ] && [ "$(jq -r .event <<<"$n1")" = reg ] &&
	[ "$(jq -r .type <<<"$n1")" = application/reginfo+xml ] &&
	pass "first NOTIFY: Event reg, application/reginfo+xml" || fail "first NOTIFY: $n1"
grep -Eq '^active;expires=(300|29[0-9])$' <<<"$(jq -r .state <<<"$n1")" &&
	pass "first NOTIFY: Subscription-State active;expires" || fail "state: $(jq -r .state <<<"$n1")"
grep -q 'state="init"' "$(jq -r .body <<<"$n1")" && grep -q 'version="0"' "$(jq -r .body <<<"$n1")" &&
	pass "first NOTIFY: registration init, version 0" || fail "body: $(cat "$(jq -r .body <<<"$n1")")"
valid "$(jq -r .body <<<"$n1")" && pass "first NOTIFY: valid reginfo" || fail "xmllint: $(cat "$T_DIR/xmllint.err")"
tag=$(j w1 '[.[] | select(.kind == "response")][0].to' | sed -n 's/.*;tag=\([^;>]*\).*/\1/p')
grep -q ";tag=$tag" <<<"$(jq -r .from <<<"$n1")" && grep -q ';tag=w' <<<"$(jq -r .to <<<"$n1")" &&
	pass "first NOTIFY: in the dialog (From our tag, To the watcher's)" || fail "tags: $n1"

# 2. a registration: one NOTIFY, the contact registered, the next version
reg 60
wait_notifies w1 2 5 || fail "no NOTIFY for the registration"
n2=$(j w1 '[.[] | select(.kind == "request")][1]')
b2=$(jq -r .body <<<"$n2")
grep -q 'event="registered"' "$b2" && grep -q "<uri>$CONTACT</uri>" "$b2" &&
	grep -q 'version="1"' "$b2" && grep -q 'registration aor="sip:alice@localhost"[^>]*state="active"' "$b2" &&
	pass "registered: contact, version 1, registration active" || fail "body 2: $(cat "$b2")"
valid "$b2" && pass "registered: valid reginfo" || fail "xmllint: $(cat "$T_DIR/xmllint.err")"
[ "$(jq -r .cseq <<<"$n2" | cut -d' ' -f1)" -gt "$(jq -r .cseq <<<"$n1" | cut -d' ' -f1)" ] &&
	[ "$(jq -r .call_id <<<"$n2")" = "$(jq -r .call_id <<<"$n1")" ] &&
	pass "registered: same dialog, CSeq up" || fail "dialog: $n1 / $n2"

# 3. removed: the contact terminated, event unregistered
reg 0 2
wait_notifies w1 3 5 || fail "no NOTIFY for the removal"
b3=$(j w1 '[.[] | select(.kind == "request")][2].body')
grep -q 'state="terminated" event="unregistered"' "$b3" &&
	grep -q 'registration [^>]*state="terminated"' "$b3" &&
	pass "unregistered: contact and registration terminated" || fail "body 3: $(cat "$b3")"

# 4. the watcher refreshed after the 3rd NOTIFY (200, a NOTIFY of the full
# state) and ended it after the 4th: 200 Expires 0, NOTIFY terminated
wait_notifies w1 5 5 || fail "no NOTIFY after the refresh and the unsubscribe"
[ "$(j w1 '[.[] | select(.kind == "response")][1].status')" = 200 ] &&
	[ "$(j w1 '[.[] | select(.kind == "response")][1].expires')" = 200 ] &&
	pass "refresh: 200, Expires 200" || fail "refresh: $(j w1 '[.[] | select(.kind == "response")][1]')"
[ "$(j w1 '[.[] | select(.kind == "response")][2].expires')" = 0 ] &&
	pass "unsubscribe: 200, Expires 0" || fail "unsubscribe: $(j w1 '[.[] | select(.kind == "response")][2]')"
[ "$(j w1 '[.[] | select(.kind == "request")][4].state')" = "terminated;reason=timeout" ] &&
	pass "unsubscribe: last NOTIFY terminated" || fail "last: $(j w1 '[.[] | select(.kind == "request")][4]')"
wait_for 5 eval '[ "$(psql_q "SELECT count(*) FROM reg_subscription")" = 0 ]' &&
	pass "unsubscribe: the subscription is gone" || fail "reg_subscription: $(psql_q "SELECT * FROM reg_subscription")"
sleep 0.5
[ "$(notifies w1)" = 5 ] && pass "nothing after the last NOTIFY" || fail "NOTIFYs: $(notifies w1)"

# 5. a subscription that runs out: the sweeper ends it with a NOTIFY
watch w2 8 --bind 127.0.0.1 --expires 2
wait_notifies w2 2 7 || fail "no NOTIFY at the expiry"
[ "$(j w2 '[.[] | select(.kind == "request")][1].state')" = "terminated;reason=timeout" ] &&
	pass "expiry: NOTIFY terminated;reason=timeout" || fail "expiry: $(j w2 '.')"
wait_for 5 eval '[ "$(psql_q "SELECT count(*) FROM reg_subscription")" = 0 ]' &&
	pass "expiry: the subscription is gone" || fail "expiry: still $(psql_q "SELECT count(*) FROM reg_subscription")"

# 6. a refresh naming a dialog we do not have: 481
watch w3 4 --bind 127.0.0.1 --expires 60 --bad-tag --refresh-after-notifies 1
wait_for 4 eval '[ "$(j w3 "[.[] | select(.kind == \"response\")] | length")" -ge 2 ]' || true
[ "$(j w3 '[.[] | select(.kind == "response")][1].status')" = 481 ] &&
	pass "unknown dialog: 481" || fail "unknown dialog: $(j w3 '.')"

# 7. a watcher that answers our NOTIFY 481 has forgotten it: it ends
psql_q "DELETE FROM reg_subscription" >/dev/null
watch w4 6 --bind 127.0.0.1 --expires 60 --answer-481-from 2
wait_notifies w4 1 5 || fail "w4: no first NOTIFY"
reg 60 3
wait_notifies w4 2 5 || fail "w4: no second NOTIFY"
wait_for 5 eval '[ "$(psql_q "SELECT count(*) FROM reg_subscription")" = 0 ]' &&
	pass "481 to a NOTIFY: the subscription ends" || fail "481: $(psql_q "SELECT * FROM reg_subscription")"
reg 0 4
sleep 0.6
[ "$(notifies w4)" = 2 ] && pass "481: no NOTIFY after it" || fail "481: $(notifies w4) NOTIFYs"

# 8. refused: an untrusted watcher (403), one that takes no reginfo (406)
watch w5 2 --bind 127.0.0.9 --expires 60
watch w6 2 --bind 127.0.0.1 --expires 60 --accept application/pidf+xml
wait "$WATCH_w5" "$WATCH_w6"
[ "$(j w5 '.[0].status')" = 403 ] && pass "untrusted watcher: 403" || fail "untrusted: $(j w5 '.')"
[ "$(j w6 '.[0].status')" = 406 ] && [ "$(j w6 '.[0].accept')" = application/reginfo+xml ] &&
	pass "no reginfo in Accept: 406 with Accept" || fail "406: $(j w6 '.')"
[ "$(psql_q "SELECT count(*) FROM reg_subscription")" = 0 ] && pass "refused: nothing stored" ||
	fail "refused: $(psql_q "SELECT count(*) FROM reg_subscription") stored"

# 9. another package is not ours to answer: it goes to alice's bindings
# through the location service (none, and no subscriber row with [auth]
# mode = none: 404)
watch w7 2 --bind 127.0.0.1 --expires 60 --event presence
wait "$WATCH_w7"
[ "$(j w7 '.[0].status')" = 404 ] && pass "Event: presence goes to the location service (404)" ||
	fail "presence: $(j w7 -c '.')"

t_done
