#!/usr/bin/env bash
# A worker's full transaction table ([transaction] max_transactions)
# still takes new calls: 60 calls (INVITE, 180, 200, ACK, BYE, 200) at
# 10/s through the stateful proxy to a registered SIPp UAS, with room for
# 16 transactions per worker while each call leaves two behind for 64*T1
# = 32 s (the INVITE's in Accepted for Timer L, the BYE's in Completed for
# Timer J); t4 = 100 ms ends the BYE's client transaction (Timer K) soon,
# which a table this small could not hold for the default 5 s. Every call
# must succeed (none refused with 503), and the counters
# logged at SIGTERM must show lingering transactions ended early
# (transactions_evicted). At this rate those still linger over a second,
# past SIPp's first retransmission (500 ms), so a retransmitted BYE still
# finds the transaction that answers it again.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg.sh"
. "$(dirname "$0")/proxy_lib.sh"
need ss psql sipp

CALLS=60
proxy_daemon "max_transactions = 16" "t4 = 100"

UAS=$(free_port)
register full "sip:full@127.0.0.1:$UAS"
uas uas uas.xml "$UAS" -m "$CALLS"
uac uac uac_aor.xml full -r 10 -l 20
uas_wait uas

kill -0 "$JCT_PID" || fail "junction died"
stop_junction && pass "SIGTERM exit 0" || fail "exit status on SIGTERM"
counters=$(grep -o "event=counters.*" "$T_DIR/junction.log")
log "$counters"
evicted=$(echo "$counters" | grep -o 'transactions_evicted=[0-9]*' | cut -d= -f2)
[ "${evicted:-0}" -gt 0 ] && pass "the full tables made room: $evicted lingering transactions ended early" ||
	fail "no lingering transaction was ended early (transactions_evicted=${evicted:-none})"
echo "$counters" | grep -q " dialogs_created=$CALLS dialogs_ended=$CALLS\b" &&
	pass "counters: $CALLS dialogs created and ended" ||
	fail "counters: $(echo "$counters" | grep -o 'dialogs_created=[0-9]* dialogs_ended=[0-9]*'), expected $CALLS each"
t_done
