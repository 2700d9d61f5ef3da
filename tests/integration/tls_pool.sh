#!/usr/bin/env bash
# Session Controllers over TLS: a pool entry whose URI says ;transport=tls
# is probed and called over TLS, with the server's certificate checked
# against the URI's host ([tls] verify_server, RFC 5922 §7.2). One node
# (n1, cluster_lib.sh) with udp and tls listeners; two SCs played by a
# python3 TLS server (this file): sc1a (127.0.1.1) with a certificate for
# its address, sc2a (127.0.1.3) with one for another address. Checked:
#  1. sc1a's OPTIONS probes arrive over TLS (Via SIP/2.0/TLS) and it is
#     active; sc2a's handshake fails (its certificate names 127.0.1.9),
#     it is out of service, and the failure is logged once, direction=out;
#  2. 20 calls from a SIPp endpoint over UDP all reach sc1a over TLS and
#     complete (INVITE, ACK, BYE along the route set), on one connection;
#  3. the node's metrics count the outgoing TLS handshakes and bytes.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg.sh"
. "$(dirname "$0")/cluster_lib.sh"
. "$(dirname "$0")/tls_lib.sh"
need ss psql sipp python3 openssl curl

CL_AUTH_EXTRA=""
CL_NODES="n1"
CL_SERVERS="sc1a sc2a"
SC_GEO[sc2a]=dc1
cl_setup
TLSPORT=$(free_port 5100 4900)
APORT=$(free_port)
TOKEN=test-admin-token-0123456789abcdef

tls_ca
tls_cert server "IP:${NODE_IP[n1]}"
tls_cert sc1a "IP:${SC_IP[sc1a]},DNS:sc1.test"
tls_cert sc2a "IP:127.0.1.9"

# ---- the Session Controllers ---------------------------------------------
cat >"$T_DIR/tls_sc.py" <<'PY'
# A Session Controller over TLS: answers OPTIONS and BYE with 200, INVITE
# with 200 (SDP), takes ACK; logs "METHOD top-Via" per request.
import re, socket, ssl, sys, threading
ip, port, cert, key, logf = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
log = open(logf, "a", buffering=1)
lock = threading.Lock()

def reply(req, code, extra="", body=""):
    lines = req.split("\r\n")
    keep = [l for l in lines[1:] if re.match(r"(?i)(via|from|call-id|cseq|record-route):", l)]
    to = next(l for l in lines if re.match(r"(?i)to:", l))
    if ";tag=" not in to:
        to += ";tag=sc%d" % (abs(hash(req)) % 100000)
    r = "SIP/2.0 %s\r\n" % code + "\r\n".join(keep + [to]) + "\r\n" + extra
    r += "Content-Length: %d\r\n\r\n%s" % (len(body), body)
    return r.encode()

def serve(conn):
    buf = b""
    try:
        while True:
            d = conn.recv(65536)
            if not d:
                return
            buf += d
            while b"\r\n\r\n" in buf:
                head, rest = buf.split(b"\r\n\r\n", 1)
                m = re.search(rb"(?im)^content-length:\s*(\d+)", head)
                n = int(m.group(1)) if m else 0
                if len(rest) < n:
                    break
                msg = (head + b"\r\n\r\n" + rest[:n]).decode()
                buf = rest[n:]
                method = msg.split(" ", 1)[0]
                via = next((l for l in msg.split("\r\n") if l.lower().startswith("via:")), "")
                with lock:
                    log.write("%s %s\n" % (method, via))
                if method in ("OPTIONS", "BYE"):
                    conn.sendall(reply(msg, "200 OK"))
                elif method == "INVITE":
                    sdp = "v=0\r\no=sc 1 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\nm=audio 9 RTP/AVP 0\r\n" % (ip, ip)
                    conn.sendall(reply(msg, "200 OK",
                        "Contact: <sip:sc@%s:%d;transport=tls>\r\nContent-Type: application/sdp\r\n" % (ip, port), sdp))
    except (ssl.SSLError, OSError) as e:
        with lock:
            log.write("ERROR %s\n" % e)
    finally:
        conn.close()

srv = socket.create_server((ip, port))
while True:
    c, _ = srv.accept()
    try:
        s = ctx.wrap_socket(c, server_side=True)
    except (ssl.SSLError, OSError) as e:
        with lock:
            log.write("HANDSHAKE %s\n" % e)
        c.close()
        continue
    threading.Thread(target=serve, args=(s,), daemon=True).start()
PY
for s in sc1a sc2a; do
	python3 "$T_DIR/tls_sc.py" "${SC_IP[$s]}" "$SCPORT" "$TLS_PKI/$s.pem" "$TLS_PKI/$s.key" "$T_DIR/$s.log" &
	T_PIDS+=("$!")
done
listening() { ss -Hlnt "src $1:$SCPORT" | grep -q .; }
for s in sc1a sc2a; do
	wait_for 5 listening "${SC_IP[$s]}" || { fail "$s did not start"; cl_done; }
done

# The pool's URIs say TLS.
psql_q "SELECT junction_add_sip_server('sc1a', 'sip:${SC_IP[sc1a]}:$SCPORT;transport=tls', 'dc1', 'p1', 'primary', 100);
	SELECT junction_add_sip_server('sc2a', 'sip:${SC_IP[sc2a]}:$SCPORT;transport=tls', 'dc1', 'p2', 'primary', 100)" >/dev/null ||
	{ fail "pool"; cl_done; }

CL_LISTEN_EXTRA="tls:@IP@:$TLSPORT"
cl_node_start n1 "[tls]" "certificate = $TLS_PKI/server.pem" "private_key = $TLS_PKI/server.key" \
	"ca_file = $TLS_PKI/ca.pem" "[admin]" "listen = 127.0.0.1:$APORT" "token = $TOKEN"
grep -q "listen=tls:${NODE_IP[n1]}:$TLSPORT" "$T_DIR/n1/junction.log" && pass "n1 listens on tls" || fail "no tls listener"

# ---- 1. probes ---------------------------------------------------------------
if cl_wait_states 15 sc1a=active sc2a=oos; then
	pass "sc1a active (probed over TLS), sc2a out of service (certificate for another address)"
else
	fail "pool states"
fi
grep -q "^OPTIONS Via: SIP/2.0/TLS ${NODE_IP[n1]}:$TLSPORT;" "$T_DIR/sc1a.log" &&
	pass "sc1a's probes come over TLS from the tls listener" || { fail "sc1a's probes"; cat "$T_DIR/sc1a.log" >&2; }
grep -q "^OPTIONS" "$T_DIR/sc2a.log" && fail "an OPTIONS reached sc2a" || pass "nothing reached sc2a's application"
wait_for 5 grep -q "event=tls_handshake_failed transport=tls remote=${SC_IP[sc2a]}:$SCPORT direction=out" "$T_DIR/n1/junction.log" &&
	pass "sc2a's refusal logged, direction=out" || fail "no tls_handshake_failed for sc2a"
n=$(grep -c "event=tls_handshake_failed transport=tls remote=${SC_IP[sc2a]}:" "$T_DIR/n1/junction.log")
[ "$n" = 1 ] && pass "logged once a minute (probes every 2 s)" || fail "tls_handshake_failed logged $n times"

# ---- 2. calls ----------------------------------------------------------------
ep_calls tlscalls n1 20 10
ep_wait tlscalls
[ "$EP_OK" = 20 ] && [ "${EP_FAILED/x/0}" = 0 ] && pass "20 calls through sc1a over TLS" ||
	{ fail "calls: ok=$EP_OK failed=$EP_FAILED"; tail -n 5 "$T_DIR/tlscalls.out" >&2; }
for m in INVITE ACK BYE; do
	c=$(grep -c "^$m Via: SIP/2.0/TLS ${NODE_IP[n1]}:$TLSPORT;" "$T_DIR/sc1a.log")
	[ "$c" = 20 ] && pass "sc1a got 20 ${m}s over TLS" || fail "sc1a got $c ${m}s over TLS"
done

# ---- 3. metrics --------------------------------------------------------------
metric() {
	curl -s -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$APORT/metrics" |
		awk -v k="$1" '$1 == k { v = $2 } END { print v == "" ? "none" : v }'
}
ok=$(metric 'junction_transport_handshakes_total{transport="tls",outcome="ok"}')
[ "$ok" = 1 ] && pass "one TLS handshake for the probes and 20 calls (the connection reused)" ||
	fail "tls handshakes ok: $ok"
failed=$(metric 'junction_transport_handshakes_total{transport="tls",outcome="failed"}')
[ "${failed:-0}" != none ] && [ "$failed" -ge 1 ] && pass "failed handshakes counted ($failed)" || fail "failed: $failed"
out=$(metric 'junction_transport_bytes_total{transport="tls",direction="out"}')
[ "${out:-0}" != none ] && [ "$out" -gt 20000 ] && pass "TLS bytes out: $out" || fail "TLS bytes out: $out"

cl_done
