#!/usr/bin/env bash
# Parallel forking (RFC 3261 §16.6, §16.7): three SIPp UASes registered
# for fork@localhost with the same q. For every call A answers 486 (and
# gets Junction's ACK for it, hop by hop), B rings and answers 200 (and
# gets the UAC's ACK and BYE, end to end along the Record-Route), and C
# rings and never answers: the 200 from B makes Junction CANCEL C (C
# answers 200 and 487 and gets the ACK). The UAC sees one 200. Each SIPp
# scenario requires its messages, so every run succeeding for every call
# means every branch got what it should (C its CANCEL).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg.sh"
. "$(dirname "$0")/proxy_lib.sh"
need ss psql sipp

CALLS=50
PORT=$(free_port)
SIP_EXTRA="record_route = yes" write_config "$PORT"
pg_start || { fail "postgres"; t_done; }
AUTH_MODE=none pg_config
pg_migrate >/dev/null || { fail "migrate"; t_done; }
start_junction "$PORT" || { fail "start"; t_done; }

UA=$(free_port)
UB=$(free_port)
UC=$(free_port)
register fork "sip:a@127.0.0.1:$UA"
register fork "sip:b@127.0.0.1:$UB"
register fork "sip:c@127.0.0.1:$UC"

uas uas_a uas_busy.xml "$UA" -m "$CALLS"
uas uas_b uas.xml "$UB" -m "$CALLS"
uas uas_c uas_cancel.xml "$UC" -m "$CALLS"
uac uac uac_aor.xml fork -r 10
uas_wait uas_a
uas_wait uas_b
uas_wait uas_c

kill -0 "$JCT_PID" || fail "junction died"
stop_junction && pass "SIGTERM exit 0" || fail "exit status on SIGTERM"
grep -q "event=counters.* dialogs_created=$CALLS dialogs_ended=$CALLS" "$T_DIR/junction.log" &&
	pass "counters: $CALLS dialogs created and ended" ||
	fail "counters: $(grep -o 'dialogs_created=[0-9]* dialogs_ended=[0-9]*' "$T_DIR/junction.log")"
t_done
