#!/usr/bin/env bash
# Packet loss on both sides (SIPp -lost 5: 5 % of the messages each SIPp
# sends or receives are dropped): 300 calls to a registered SIPp UAS
# through Junction with record-routing, [transaction] t1 = 100 so the
# proxy retransmits fast. Every call must complete: retransmissions by the
# UAC (INVITE, BYE), the UAS (200) and Junction's transactions (Timers A,
# E, G and the replay of the last response to a retransmitted request)
# make up for every loss. (uas_loss.xml never loses its 180 and its 200
# for the BYE: SIPp itself cannot recover from those; see its comments.)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg.sh"
. "$(dirname "$0")/proxy_lib.sh"
need ss psql sipp

CALLS=300
proxy_daemon "t1 = 100"

UAS=$(free_port)
register lossy "sip:lossy@127.0.0.1:$UAS"
uas uas uas_loss.xml "$UAS" -m "$CALLS" -lost 5 -trace_shortmsg -shortmessage_file "$T_DIR/uas.short"
timeout 90 sipp -sf "$SCEN/uac_loss.xml" -s lossy -i 127.0.0.1 -p "$(free_port)" -rsa "127.0.0.1:$PORT" \
	-m "$CALLS" -r 50 -l 200 -lost 5 -nostdin -timeout 50s -timeout_error \
	-trace_shortmsg -shortmessage_file "$T_DIR/uac.short" -trace_stat -stf "$T_DIR/uac.csv" -trace_err -error_file "$T_DIR/uac.err" \
	"127.0.0.1:$PORT" >"$T_DIR/uac.out" 2>&1
csv_check uac $?
uas_wait uas

kill -0 "$JCT_PID" || fail "junction died"
stop_junction && pass "SIGTERM exit 0" || fail "exit status on SIGTERM"
# one dialog per call, each counted once however often its 200 came
grep -q "event=counters.* dialogs_created=$CALLS dialogs_ended=$CALLS" "$T_DIR/junction.log" &&
	pass "counters: $CALLS dialogs created and ended" ||
	fail "counters: $(grep -o 'dialogs_created=[0-9]* dialogs_ended=[0-9]*' "$T_DIR/junction.log")"
t_done
