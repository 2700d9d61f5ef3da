#!/usr/bin/env bash
# CANCEL before the answer through the stateful proxy (RFC 3261 §9,
# §16.10): a SIPp UAS registered as ring@localhost answers 180 and waits;
# the SIPp UAC cancels each call after the 180. Junction answers the
# CANCEL 200 itself, cancels its branch (the UAS must get a CANCEL, answer
# 200 and 487 and get Junction's ACK for the 487), and the UAC gets 487
# for its INVITE and ACKs it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg.sh"
. "$(dirname "$0")/proxy_lib.sh"
need ss psql sipp

CALLS=100
PORT=$(free_port)
UAS=$(free_port)
SIP_EXTRA="record_route = yes" write_config "$PORT"
pg_start || { fail "postgres"; t_done; }
AUTH_MODE=none pg_config
pg_migrate >/dev/null || { fail "migrate"; t_done; }
start_junction "$PORT" || { fail "start"; t_done; }

register ring "sip:ring@127.0.0.1:$UAS"
uas uas uas_cancel.xml "$UAS" -m "$CALLS" -trace_msg -message_file "$T_DIR/uas.msg"
uac uac uac_cancel.xml ring -r 50
# the UAS ends by itself once it has played its scenario CALLS times
uas_wait uas

kill -0 "$JCT_PID" || fail "junction died"
stop_junction && pass "SIGTERM exit 0" || fail "exit status on SIGTERM"
t_done
