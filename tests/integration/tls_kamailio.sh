#!/usr/bin/env bash
# Kamailio (tls module) as a real TLS peer of Junction, on both sides:
#   a. in front: SIPp UAC -UDP-> Kamailio -TLS-> Junction -UDP-> SIPp UAS,
#      300 calls at 30 a second (every request of each call, ACK and BYE
#      too, over Kamailio's TLS connection), while Junction's certificate
#      is replaced twice (A, B, A again) with SIGHUP and a Python client
#      opens a new TLS connection every 100 ms for an OPTIONS: every call
#      and every connection succeeds, and the connections see A, then B,
#      then A;
#   b. behind: SIPp UAC -UDP-> Junction -TLS-> Kamailio -UDP-> SIPp UAS,
#      50 calls to sip:svc@127.0.0.1:KTLS;transport=tls, Kamailio
#      record-routing so that ACK and BYE take the TLS hop too: all
#      succeed, over one connection (one handshake, bytes out counted).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/proxy_lib.sh"
. "$(dirname "$0")/tls_lib.sh"
need kamailio sipp python3 openssl curl ss
KMODS=/usr/lib/x86_64-linux-gnu/kamailio/modules
[ -f "$KMODS/tls.so" ] || skip "Kamailio's tls module is not installed (kamailio-tls-modules)"
export TLS_PKI

JPORT=$(free_port) JTLS=$(free_port) APORT=$(free_port)
KUDP=$(free_port) KTLS=$(free_port)
UAS_A=$(free_port) UAS_B=$(free_port)
TOKEN=tls-kamailio-token-0123456789abcdef

tls_ca
tls_cert jct_a "IP:127.0.0.1"
tls_cert jct_b "IP:127.0.0.1"
tls_cert kamailio "IP:127.0.0.1"
[ -s "$TLS_PKI/kamailio.pem" ] || { fail "openssl: certificates"; t_done; }
# install NAME: NAME's certificate and key become Junction's server.pem/key
install() { cp "$TLS_PKI/$1.pem" "$TLS_PKI/server.pem" && cp "$TLS_PKI/$1.key" "$TLS_PKI/server.key"; }
install jct_a

# --- Junction: udp and tcp on JPORT, tls on JTLS; it checks Kamailio's
# certificate against the test CA (verify_server's default) -----------------
write_config "$JPORT"
sed -i "s|^listen = .*|listen = udp:127.0.0.1:$JPORT tcp:127.0.0.1:$JPORT tls:127.0.0.1:$JTLS|" "$T_DIR/junction.conf"
{
	echo
	tls_conf
	printf '\n[admin]\nlisten = 127.0.0.1:%s\ntoken = %s\n' "$APORT" "$TOKEN"
} >>"$T_DIR/junction.conf"
start_junction "$JPORT" || { fail "start junction"; t_done; }

# --- Kamailio: what arrives over UDP goes to Junction over TLS (a); what
# arrives over TLS (from Junction) goes to the SIPp UAS of b over UDP,
# record-routed --------------------------------------------------------------
mkdir -p "$T_DIR/krun"
cat >"$T_DIR/kamailio-tls.cfg" <<CFG
[server:default]
method = TLSv1.2+
verify_certificate = no
require_certificate = no
certificate = $TLS_PKI/kamailio.pem
private_key = $TLS_PKI/kamailio.key

[client:default]
method = TLSv1.2+
verify_certificate = yes
require_certificate = yes
ca_list = $TLS_PKI/ca.pem
CFG
cat >"$T_DIR/kamailio.cfg" <<CFG
#!KAMAILIO
debug=1
log_stderror=yes
# One UDP worker: two would relay a call's ACK and BYE (sent back to
# back by SIPp) in either order, which SIPp's UAS does not take.
children=1
tcp_children=2
auto_aliases=no
enable_tls=yes
listen=udp:127.0.0.1:$KUDP
listen=tls:127.0.0.1:$KTLS

mpath="$KMODS/"
loadmodule "tls.so"
loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "rr.so"
loadmodule "maxfwd.so"
loadmodule "siputils.so"
loadmodule "textops.so"
loadmodule "pv.so"
modparam("tls", "config", "$T_DIR/kamailio-tls.cfg")

request_route {
	if (!mf_process_maxfwd_header("10")) {
		sl_send_reply("483", "Too Many Hops");
		exit;
	}
	if (proto == TLS) {
		if (has_totag()) {
			loose_route();
		} else if (is_method("INVITE")) {
			record_route();
			\$du = "sip:127.0.0.1:$UAS_B";
		}
	} else {
		\$du = "sip:127.0.0.1:$JTLS;transport=tls";
	}
	if (!t_relay())
		sl_reply_error();
}
CFG
kamailio -f "$T_DIR/kamailio.cfg" -DD -E -m 64 -M 8 -Y "$T_DIR/krun" -P "$T_DIR/krun/kamailio.pid" \
	-w "$T_DIR/krun" >"$T_DIR/kamailio.log" 2>&1 &
KAM_PID=$!
T_PIDS+=("$KAM_PID")
# kam_settled: Kamailio listens on both ports, or has exited
kam_settled() { ! kill -0 "$KAM_PID" 2>/dev/null || { bound udp "$KUDP" && bound tcp "$KTLS"; }; }
if ! wait_for 10 kam_settled || ! kill -0 "$KAM_PID" 2>/dev/null; then
	fail "kamailio did not start"
	tail -n 20 "$T_DIR/kamailio.log" >&2
	t_done
fi

# metric NAME: one sample of Junction's /metrics, or "none"
metric() {
	curl -s "http://127.0.0.1:$APORT/metrics" | awk -v k="$1" '$1 == k { v = $2 } END { print v == "" ? "none" : v }'
}
hs_ok() { metric 'junction_transport_handshakes_total{transport="tls",outcome="ok"}'; }
hs_failed() { metric 'junction_transport_handshakes_total{transport="tls",outcome="failed"}'; }
tls_out() { metric 'junction_transport_bytes_total{transport="tls",direction="out"}'; }

# The Python client of a: a new TLS connection every 100 ms, one OPTIONS
# on each, until $T_DIR/loop.stop exists; $T_DIR/loop.ready once the
# first is answered.
cat >"$T_DIR/loop.py" <<'PY'
import os, signal, socket, ssl, sys, time

signal.alarm(50)  # never outlive a stuck check
port, ca, tdir = int(sys.argv[1]), sys.argv[2], sys.argv[3]
stop = os.path.join(tdir, "loop.stop")
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.load_verify_locations(ca)


def once(n):
    """The subject CN of the server, and the status line of its answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=2) as raw:
        with ctx.wrap_socket(raw) as s:
            cn = dict(x[0] for x in s.getpeercert()["subject"])["commonName"]
            s.sendall(("OPTIONS sip:127.0.0.1:%d;transport=tls SIP/2.0\r\n"
                       "Via: SIP/2.0/TLS 127.0.0.1:9;branch=z9hG4bKloop%d-%d;rport\r\n"
                       "Max-Forwards: 70\r\nFrom: <sip:loop@example.com>;tag=l%d\r\n"
                       "To: <sip:127.0.0.1:%d>\r\nCall-ID: loop-%d-%d@test\r\n"
                       "CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n" % (
                           port, os.getpid(), n, n, port, os.getpid(), n)).encode())
            buf = b""
            while b"\r\n" not in buf:
                d = s.recv(4096)
                if not d:
                    break
                buf += d
            return cn, buf.split(b"\r\n")[0].decode(errors="replace")


n = ok = 0
seen = []  # the subjects in the order met, repeats collapsed
errors = []
while not os.path.exists(stop):
    t0 = time.monotonic()
    n += 1
    try:
        cn, line = once(n)
        if line.startswith("SIP/2.0 200 "):
            ok += 1
            if not seen or seen[-1] != cn:
                seen.append(cn)
            if ok == 1:
                open(os.path.join(tdir, "loop.ready"), "w").close()
        else:
            errors.append("%d: %s" % (n, line or "eof"))
    except (OSError, ssl.SSLError, KeyError) as e:
        errors.append("%d: %s" % (n, e))
    time.sleep(max(0, 0.1 - (time.monotonic() - t0)))
print("tried=%d" % n)
print("ok=%d" % ok)
print("seen=%s" % ",".join(seen))
print("errors=%s" % " | ".join(errors[:5]))
PY
val() { awk -F= -v k="$2" '$1 == k { sub(/^[^=]*=/, ""); print }' "$T_DIR/$1.out"; }

# reload NAME: while the calls run, NAME's certificate installed, SIGHUP,
# tls_reloaded logged
reload() {
	kill -0 "$UAC_PID" 2>/dev/null || fail "the calls ended before the reload to $1"
	install "$1"
	log_mark
	kill -HUP "$JCT_PID"
	wait_for 3 log_since "event=tls_certificate subject=\"/CN=$1\"" && log_since 'event=tls_reloaded' &&
		pass "during the calls: reloaded to $1" || fail "reload to $1: not logged"
}

# --- a. Kamailio in front, reloads and fresh connections during the calls ---
uas uas_a uas.xml "$UAS_A" -m 300
python3 "$T_DIR/loop.py" "$JTLS" "$TLS_PKI/ca.pem" "$T_DIR" >"$T_DIR/loop.out" 2>"$T_DIR/loop.err" &
LOOP_PID=$!
T_PIDS+=("$LOOP_PID")
wait_for 10 test -e "$T_DIR/loop.ready" || fail "the connection loop got no first answer: $(cat "$T_DIR/loop.err")"
timeout 60 sipp -sf "$SCEN/uac.xml" -s svc -i 127.0.0.1 -p "$(free_port)" -rsa "127.0.0.1:$KUDP" \
	-m 300 -r 30 -nostdin -timeout 40s -timeout_error \
	-trace_stat -stf "$T_DIR/uac_a.csv" -trace_err -error_file "$T_DIR/uac_a.err" \
	"127.0.0.1:$UAS_A" >"$T_DIR/uac_a.out" 2>&1 &
UAC_PID=$!
T_PIDS+=("$UAC_PID")
sleep 3
reload jct_b
sleep 3
reload jct_a
wait "$UAC_PID"
csv_check uac_a $? 300
uas_wait uas_a 300
touch "$T_DIR/loop.stop"
wait "$LOOP_PID" || fail "the connection loop exited $?: $(cat "$T_DIR/loop.err")"
tried=$(val loop tried) ok=$(val loop ok)
[ "${tried:-0}" -ge 30 ] && [ "$ok" = "$tried" ] && pass "fresh TLS connections during the calls: $ok of $tried answered 200" ||
	fail "fresh TLS connections: $ok of $tried answered 200: $(val loop errors)"
[ "$(val loop seen)" = jct_a,jct_b,jct_a ] && pass "they saw jct_a, then jct_b, then jct_a" ||
	fail "certificates seen in turn: $(val loop seen), want jct_a,jct_b,jct_a"
# Kamailio's connection lived through both reloads: one handshake for
# it, one per loop connection, none failed; it alone is still open.
tls_conns() { test "$(metric 'junction_transport_connections{transport="tls"}')" = "$1"; }
[ "$(hs_ok)" = $((tried + 1)) ] && [ "$(hs_failed)" = 0 ] && wait_for 2 tls_conns 1 &&
	pass "Kamailio's one TLS connection carried all the calls ($((tried + 1)) handshakes, one of them Kamailio's)" ||
	fail "after a: handshakes ok $(hs_ok) (want $((tried + 1))), failed $(hs_failed), connections open $(metric 'junction_transport_connections{transport="tls"}') (want 1)"

# --- b. Kamailio behind ---------------------------------------------------------------
uas uas_b uas.xml "$UAS_B" -m 50
hs0=$(hs_ok) out0=$(tls_out)
timeout 60 sipp -sf "$SCEN/uac_domain.xml" -s svc -set domain "127.0.0.1:$KTLS;transport=tls" \
	-i 127.0.0.1 -p "$(free_port)" -m 50 -r 25 -nostdin -timeout 30s -timeout_error \
	-trace_stat -stf "$T_DIR/uac_b.csv" -trace_err -error_file "$T_DIR/uac_b.err" \
	"127.0.0.1:$JPORT" >"$T_DIR/uac_b.out" 2>&1
csv_check uac_b $? 50
uas_wait uas_b 50
hs1=$(hs_ok) out1=$(tls_out)
[ $((hs1 - hs0)) = 1 ] && pass "towards Kamailio: one handshake for the 50 calls" ||
	fail "towards Kamailio: $((hs1 - hs0)) handshakes"
# 50 INVITEs, ACKs and BYEs of ~400 bytes or more each
[ $((out1 - out0)) -gt 60000 ] && pass "TLS bytes out: +$((out1 - out0))" || fail "TLS bytes out: $out0 -> $out1"

kill -0 "$KAM_PID" 2>/dev/null && pass "kamailio still running" || fail "kamailio died"
stop_junction && pass "junction: SIGTERM exit 0" || fail "junction: exit status on SIGTERM"
[ "$T_FAILS" -eq 0 ] || tail -n 20 "$T_DIR/kamailio.log" >&2
t_done
