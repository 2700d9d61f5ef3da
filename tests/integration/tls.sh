#!/usr/bin/env bash
# TLS (net/tls.c, net/tcp.c) against Python ssl clients and UASes, with
# certificates of a test CA (tls_lib.sh):
#   a. OPTIONS over TLS 1.2 and 1.3 answered 200 with Via received and
#      rport; a TLS 1.1 client, and a TLS 1.2 one against min_version =
#      1.3, refused with a protocol_version alert; the handshake counters
#      move by exactly what was tried; /v1/status shows the certificate
#      (subject, days_left) and the tls transport; the expiry metric is
#      the certificate's notAfter; a handshake that does not finish within
#      tcp_message_timeout is closed and counted as slow_message;
#   b. --check-config names an expired certificate, a key of another
#      certificate, a missing file and [tls] without a tls: listener, with
#      a non-zero exit; the daemon does not start with an expired one;
#   c. mutual TLS: with verify_client = require, no certificate or one
#      from another CA is refused, one from the CA is served, and five
#      refusals from one address make one log line; with verify_client =
#      optional and trusted_peers = peer.test, only a verified peer.test
#      certificate may relay to a foreign target (403 otherwise, as over
#      TCP);
#   d. outgoing TLS: a request over UDP for ;transport=tls and for a sips
#      URI reaches a TLS UAS over one reused connection (Via SIP/2.0/TLS);
#      a UAS whose certificate names another address is refused (500 to
#      the caller, as for a closed port; direction=out logged; nothing
#      reaches it); a sips URI never leaves over UDP (416 with
#      ;transport=udp, 480 through a UDP Route);
#   e. SIGHUP: a renewed certificate is served to new connections while
#      one opened before keeps working; an expired one is refused
#      (tls_reload_failed) and the previous one stays in use.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tls_lib.sh"
need python3 openssl curl jq ss
export TLS_PKI

TOKEN=tls-test-token-0123456789abcdef
HS_TIMEOUT=2

cat >"$T_DIR/tls_sip.py" <<'PY'
"""SIP over TLS for tls.sh. Certificates are NAME (TLS_PKI/NAME.pem and
.key) or an absolute path without .pem. Output: key=value lines."""
import os, signal, socket, ssl, sys, threading, time, warnings

warnings.simplefilter("ignore", DeprecationWarning)  # TLS 1.1, on purpose
signal.alarm(40)  # never outlive a stuck check
PKI = os.environ["TLS_PKI"]
VERSIONS = {"1.1": ssl.TLSVersion.TLSv1_1, "1.2": ssl.TLSVersion.TLSv1_2,
            "1.3": ssl.TLSVersion.TLSv1_3}
seq = [0]


def pem(name):
    p = name if name.startswith("/") else os.path.join(PKI, name)
    return p + ".pem", p + ".key"


def out(label, **kv):
    for k, v in kv.items():
        print("%s%s=%s" % (label + "." if label else "", k, str(v).replace("\n", " ")))
    sys.stdout.flush()


def request(method, ruri, tp, frm="sip:probe@example.com", route=None):
    seq[0] += 1
    tag = "%d-%d" % (os.getpid(), seq[0])
    return ("%s %s SIP/2.0\r\n"
            "Via: SIP/2.0/%s 127.0.0.1:9;branch=z9hG4bKtls%s;rport\r\n"
            "Max-Forwards: 70\r\n"
            "%s"
            "From: <%s>;tag=f%s\r\n"
            "To: <%s>\r\n"
            "Call-ID: tls-%s@test\r\n"
            "CSeq: 1 %s\r\n"
            "Content-Length: 0\r\n\r\n" % (
                method, ruri, tp, tag, "Route: <%s>\r\n" % route if route else "",
                frm, tag, ruri.split(";")[0], tag, method)).encode()


def header(msg, name):
    for line in msg.split("\r\n")[1:]:
        if line.lower().startswith(name.lower() + ":"):
            return line.split(":", 1)[1].strip()
    return ""


def read_message(s, buf=b""):
    """One SIP message from stream s: (text, rest); (None, b"") on EOF."""
    while b"\r\n\r\n" not in buf:
        d = s.recv(65536)
        if not d:
            return None, b""
        buf += d
    head, rest = buf.split(b"\r\n\r\n", 1)
    n = int(header(head.decode() + "\r\n", "Content-Length") or 0)
    while len(rest) < n:
        d = s.recv(65536)
        if not d:
            return None, b""
        rest += d
    return head.decode() + "\r\n\r\n" + rest[:n].decode(), rest[n:]


def final_response(s):
    """The first final response on stream s (1xx skipped), None on EOF."""
    buf = b""
    while True:
        m, buf = read_message(s, buf)
        if m is None or not m.startswith("SIP/2.0 1"):
            return m


def client_ctx(a):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False  # names are Junction's business, not ours
    ctx.load_verify_locations(os.path.join(PKI, "ca.pem"))
    if a.get("max") == "1.1":
        ctx.minimum_version = VERSIONS["1.1"]
        ctx.set_ciphers("DEFAULT:@SECLEVEL=0")  # else OpenSSL 3 offers nothing below 1.2
    if "min" in a:
        ctx.minimum_version = VERSIONS[a["min"]]
    if "max" in a:
        ctx.maximum_version = VERSIONS[a["max"]]
    if "cert" in a:
        ctx.load_cert_chain(*pem(a["cert"]))
    return ctx


def connect(port, a):
    """A stream to 127.0.0.1:port, TLS unless tp=tcp."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(5)
    if "bind" in a:
        s.bind((a["bind"], 0))
    s.connect(("127.0.0.1", port))
    return client_ctx(a).wrap_socket(s) if a.get("tp", "tls") == "tls" else s


def cn(s):
    for rdn in s.getpeercert().get("subject", ()):
        for k, v in rdn:
            if k == "commonName":
                return v
    return ""


def why(e):
    return getattr(e, "reason", None) or type(e).__name__


def stream_one(label, port, a):
    """One request on a new connection. result: answered (status, via),
    refused (the handshake or the first read failed: error), eof or
    timeout."""
    tp = a.get("tp", "tls")
    ruri = a.get("ruri", "sip:127.0.0.1:%d;transport=%s" % (port, tp))
    try:
        s = connect(port, a)
    except (ssl.SSLError, OSError) as e:
        return out(label, result="refused", error=why(e))
    info = {"lport": s.getsockname()[1]}
    if tp == "tls":
        info.update(version=s.version(), subject=cn(s))
    try:
        s.sendall(request(a.get("method", "OPTIONS"), ruri, tp.upper(), a.get("from", "sip:probe@example.com")))
        m = final_response(s)
    except socket.timeout:
        return out(label, result="timeout", **info)
    except (ssl.SSLError, OSError) as e:
        # TLS 1.3: the server judges our certificate after our Finished,
        # so its refusal is an alert on the first read.
        return out(label, result="refused", error=why(e), **info)
    s.close()
    if m is None:
        return out(label, result="eof", **info)
    out(label, result="answered", status=m.split(" ")[1], via=header(m, "Via"), **info)


def udp_one(label, port, a):
    """One request over UDP; its final response."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(8)
    s.sendto(request(a.get("method", "MESSAGE"), a["ruri"], "UDP", route=a.get("route")),
             ("127.0.0.1", port))
    try:
        while True:
            m = s.recv(65536).decode(errors="replace")
            if not m.startswith("SIP/2.0 1"):
                break
    except socket.timeout:
        return out(label, result="timeout")
    out(label, result="answered", status=m.split(" ")[1])


def clients(port, a):
    """One request per line of stdin: LABEL key=value... (port=, tp=udp|tcp|tls)."""
    for line in sys.stdin:
        if not line.strip():
            continue
        label, *kv = line.split()
        a = dict(x.split("=", 1) for x in kv)
        p = int(a.pop("port", port))
        (udp_one if a.get("tp") == "udp" else stream_one)(label, p, a)


def hold(port, a):
    """One connection across a reload: OPTIONS, then DIR/hold.ready, and
    once DIR/hold.go exists another OPTIONS on it."""
    opt = lambda: request("OPTIONS", "sip:127.0.0.1:%d;transport=tls" % port, "TLS")
    s = connect(port, a)
    s.sendall(opt())
    m = final_response(s)
    out("hold", before=m.split(" ")[1] if m else "none", subject=cn(s))
    open(os.path.join(a["dir"], "hold.ready"), "w").close()
    while not os.path.exists(os.path.join(a["dir"], "hold.go")):
        time.sleep(0.05)
    try:
        s.sendall(opt())
        m = final_response(s)
    except (ssl.SSLError, OSError) as e:
        m = "SIP/2.0 " + why(e)
    out("hold", after=m.split(" ")[1] if m else "none")


def stall(port, a):
    """Two handshakes that never finish: a silent connection and one that
    sends half a ClientHello. How long after its connect each is closed."""
    conns = []
    for name in ("silent", "half"):
        s = socket.create_connection(("127.0.0.1", port))
        conns.append((name, s, time.monotonic()))
        if name == "half":
            s.sendall(bytes.fromhex("160301020001"))  # a record header, then nothing
    for name, s, t0 in conns:
        s.settimeout(max(0.1, 8 - (time.monotonic() - t0)))
        try:
            end = "eof" if s.recv(4096) == b"" else "data"
        except socket.timeout:
            end = "timeout"
        except OSError:
            end = "reset"
        out(name, end=end, seconds="%.2f" % (time.monotonic() - t0))


def answer(m):
    """200 OK to request m."""
    lines = ["SIP/2.0 200 OK"]
    for line in m.split("\r\n")[1:]:
        name = line.split(":")[0].strip().lower()
        if name in ("via", "from", "call-id", "cseq"):
            lines.append(line)
        elif name == "to":
            lines.append(line + ";tag=uas")
    return ("\r\n".join(lines) + "\r\nContent-Length: 0\r\n\r\n").encode()


def note(path, text):
    with open(path, "a") as f:
        f.write(text + "\n")


def udp_uas(port, a):
    """Answers 200 to every request on UDP port; logs each to a["log"]."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", port))
    while True:
        d, src = s.recvfrom(65536)
        m = d.decode(errors="replace")
        if m.startswith("SIP/2.0"):
            continue
        note(a["log"], "request %s %s via=%s" % (m.split(" ")[0], m.split(" ")[1], header(m, "Via")))
        if not m.startswith("ACK "):
            s.sendto(answer(m), src)


def tls_uas(port, a):
    """The same over TLS with certificate a["cert"] (on a["host"], by
    default 127.0.0.1); logs handshakes too."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(*pem(a["cert"]))
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((a.get("host", "127.0.0.1"), port))
    ls.listen(16)

    def serve(c):
        try:
            s = ctx.wrap_socket(c, server_side=True)
        except (ssl.SSLError, OSError) as e:
            return note(a["log"], "handshake_failed %s" % why(e))
        note(a["log"], "handshake_ok")
        s.settimeout(None)
        buf = b""
        while True:
            try:
                m, buf = read_message(s, buf)
            except (ssl.SSLError, OSError):
                return
            if m is None:
                return
            if m.startswith("SIP/2.0"):
                continue
            note(a["log"], "request %s %s via=%s" % (m.split(" ")[0], m.split(" ")[1], header(m, "Via")))
            if not m.startswith("ACK "):
                s.sendall(answer(m))

    while True:
        c, _ = ls.accept()
        threading.Thread(target=serve, args=(c,), daemon=True).start()


if __name__ == "__main__":
    cmd, port = sys.argv[1], int(sys.argv[2])
    args = dict(x.split("=", 1) for x in sys.argv[3:])
    if cmd in ("udp_uas", "tls_uas"):
        signal.alarm(0)  # killed by the harness
    {"clients": clients, "hold": hold, "stall": stall, "udp_uas": udp_uas,
     "tls_uas": tls_uas}[cmd](port, args)
PY

# --- helpers ---------------------------------------------------------------------

# clients NAME [PORT]: the requests on stdin (tls_sip.py clients), each on
# a new connection; the answers as LABEL.key=value in $T_DIR/NAME.out
clients() {
	python3 "$T_DIR/tls_sip.py" clients "${2:-$TPORT}" >"$T_DIR/$1.out" 2>"$T_DIR/$1.err" ||
		{ fail "$1: client exited $?"; cat "$T_DIR/$1.err" >&2; }
}
# got NAME LABEL KEY: one value of a clients run ("" when absent)
got() { awk -v k="$2.$3" 'index($0, k "=") == 1 { sub(/^[^=]*=/, ""); print; exit }' "$T_DIR/$1.out"; }
# answered NAME LABEL CODE WHAT: that request was answered CODE
answered() {
	if [ "$(got "$1" "$2" result)" = answered ] && [ "$(got "$1" "$2" status)" = "$3" ]; then
		pass "$4: $3"
	else
		fail "$4: expected $3, got $(grep "^$2\." "$T_DIR/$1.out" | tr '\n' ' ')"
	fi
}
# refused NAME LABEL ALERT WHAT: that connection was refused by the
# server with this TLS alert (an alert proves the daemon refused it: a
# crash or a timeout shows no alert)
refused() {
	if [ "$(got "$1" "$2" result)" = refused ] && [ "$(got "$1" "$2" error)" = "$3" ]; then
		pass "$4: refused ($3)"
	else
		fail "$4: expected refused with $3, got $(grep "^$2\." "$T_DIR/$1.out" | tr '\n' ' ')"
	fi
}
# background PID-VAR CMD...: CMD in the background, killed by the harness
background() {
	local var=$1
	shift
	"$@" &
	T_PIDS+=("$!")
	printf -v "$var" %s "$!"
}

# metric NAME: one sample of /metrics (NAME with its labels), or "none"
metric() {
	curl -s "http://127.0.0.1:$APORT/metrics" | awk -v k="$1" '$1 == k { v = $2 } END { print v == "" ? "none" : v }'
}
hs() { metric "junction_transport_handshakes_total{transport=\"tls\",outcome=\"$1\"}"; }
status_json() { curl -s -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$APORT/v1/status"; }
# not_after NAME: the certificate's notAfter, Unix seconds (openssl's own reading)
not_after() { date -u -d "$(openssl x509 -enddate -noout -in "$TLS_PKI/$1.pem" | cut -d= -f2)" +%s; }
# log_lines PATTERN: how many lines since log_mark match (egrep)
log_lines() { tail -c +$((T_LOG_MARK + 1)) "$T_DIR/junction.log" | grep -cE -- "$1"; }
log_lines_text() { tail -c +$((T_LOG_MARK + 1)) "$T_DIR/junction.log" | grep -E -- "$1"; }
# line_of CONF KEY: the line number of KEY = in CONF
line_of() { grep -n "^$2 = " "$1" | head -n 1 | cut -d: -f1; }

# tls_node [LINE...]: a daemon on new ports, PORT (udp, tcp), TPORT (tls)
# and APORT (admin), with [tls] for server.pem and the LINEs added to
# [tls]; [security] from SECURITY as write_config has it
tls_node() {
	PORT=$(free_port)
	TPORT=$(free_port)
	APORT=$(free_port)
	SIP_EXTRA="tcp_message_timeout = $HS_TIMEOUT" write_config "$PORT"
	sed -i "s|^listen = .*|listen = udp:127.0.0.1:$PORT tcp:127.0.0.1:$PORT tls:127.0.0.1:$TPORT|" "$T_DIR/junction.conf"
	{
		echo
		tls_conf
		[ $# -gt 0 ] && printf '%s\n' "$@"
		printf '\n[admin]\nlisten = 127.0.0.1:%s\ntoken = %s\n' "$APORT" "$TOKEN"
	} >>"$T_DIR/junction.conf"
	start_junction "$PORT" || { fail "start"; t_done; }
	wait_for 5 curl -sf -o /dev/null "http://127.0.0.1:$APORT/healthz" || fail "admin API not up"
}

# --- certificates ------------------------------------------------------------------
tls_ca
tls_cert server "IP:127.0.0.1,DNS:server.test"
tls_cert server2 "IP:127.0.0.1,DNS:server.test"
tls_cert expired "IP:127.0.0.1" -1
tls_cert client "DNS:client.test"
tls_cert peer "DNS:peer.test"
tls_cert uas "IP:127.0.0.1"
tls_cert uas9 "IP:127.0.0.9"
# another CA, with a certificate that names peer.test too
TLS_PKI=$T_DIR/rogue tls_ca
TLS_PKI=$T_DIR/rogue tls_cert rogue "DNS:peer.test"
ROGUE=$T_DIR/rogue/rogue
[ -s "$TLS_PKI/expired.pem" ] && [ -s "$ROGUE.pem" ] && [ -s "$TLS_PKI/uas9.pem" ] || { fail "openssl: certificates"; t_done; }

# The UASes of d and c, started now so that they are up by then: a TLS
# one with a certificate for 127.0.0.1, one on 127.0.0.3 with a
# certificate for 127.0.0.9 (there because handshake failures are logged
# once a minute per address, and 127.0.0.1 has its line in a), and a UDP
# one.
UAS=$(free_port) UAS9=$(free_port) UDPUAS=$(free_port) CLOSED=$(free_port)
touch "$T_DIR/uas.log" "$T_DIR/uas9.log" "$T_DIR/udpuas.log"
background UAS_PID python3 "$T_DIR/tls_sip.py" tls_uas "$UAS" cert=uas log="$T_DIR/uas.log"
background UAS9_PID python3 "$T_DIR/tls_sip.py" tls_uas "$UAS9" cert=uas9 log="$T_DIR/uas9.log" host=127.0.0.3
background UDPUAS_PID python3 "$T_DIR/tls_sip.py" udp_uas "$UDPUAS" log="$T_DIR/udpuas.log"

# --- b. --check-config and the start ---------------------------------------------------
# check_config NAME CERT KEY [LISTEN]: a config using CERT.pem and KEY.key
# (absolute, without suffix) in $T_DIR/NAME.conf, checked; the output in
# NAME.check, the exit status in CHECK_RC
check_config() {
	local conf=$T_DIR/$1.conf
	cat >"$conf" <<CONF
[sip]
listen = ${4:-udp:127.0.0.1:5060 tls:127.0.0.1:5061}

[tls]
certificate = $2.pem
private_key = $3.key
CONF
	"$JUNCTION" -c "$conf" --check-config >"$T_DIR/$1.check" 2>&1
	CHECK_RC=$?
}
# check_says NAME LINE-KEY TEXT WHAT: exit non-zero and exactly the line
# CONF:LINE: TEXT (LINE that of key LINE-KEY; "a|b": either's)
check_says() {
	local conf=$T_DIR/$1.conf k ok=0
	for k in ${2//|/ }; do
		grep -qxF "$conf:$(line_of "$conf" "$k"): $3" "$T_DIR/$1.check" && ok=1
	done
	if [ "$CHECK_RC" -ne 0 ] && [ "$ok" = 1 ]; then
		pass "--check-config, $4: exit $CHECK_RC, \"$3\""
	else
		fail "--check-config, $4: exit $CHECK_RC, want \"$conf:LINE: $3\", got: $(cat "$T_DIR/$1.check")"
	fi
}
check_config good "$TLS_PKI/server" "$TLS_PKI/server"
[ "$CHECK_RC" -eq 0 ] && pass "--check-config: a valid certificate and key: OK" || fail "--check-config of a valid one: $(cat "$T_DIR/good.check")"
check_config expired "$TLS_PKI/expired" "$TLS_PKI/expired"
check_says expired certificate "[tls] certificate $TLS_PKI/expired.pem has expired" "expired certificate"
check_config mismatch "$TLS_PKI/server" "$TLS_PKI/client"
check_says mismatch "certificate|private_key" "[tls] private_key $TLS_PKI/client.key does not match the certificate" "key of another certificate"
check_config missing "$TLS_PKI/nonexistent" "$TLS_PKI/server"
line=$(grep -F "[tls] certificate $TLS_PKI/nonexistent.pem does not load: " "$T_DIR/missing.check")
[ "$CHECK_RC" -ne 0 ] && [[ $line == "$T_DIR/missing.conf:$(line_of "$T_DIR/missing.conf" certificate): [tls] certificate "* ]] &&
	pass "--check-config, missing file: exit $CHECK_RC, \"${line#*: }\"" ||
	fail "--check-config, missing file: exit $CHECK_RC, got: $(cat "$T_DIR/missing.check")"
check_config nolistener "$TLS_PKI/server" "$TLS_PKI/server" "udp:127.0.0.1:5060 tcp:127.0.0.1:5060"
[ "$CHECK_RC" -ne 0 ] && grep -qF "[tls] is set, but no tls: or wss: listener" "$T_DIR/nolistener.check" &&
	pass "--check-config, [tls] without a tls: listener: exit $CHECK_RC" ||
	fail "--check-config, [tls] without a tls: listener: exit $CHECK_RC, got: $(cat "$T_DIR/nolistener.check")"

# The start with the expired certificate: refused, with the same reason.
check_config start "$TLS_PKI/expired" "$TLS_PKI/expired" "udp:127.0.0.1:$(free_port) tls:127.0.0.1:$(free_port)"
timeout 10 "$JUNCTION" -c "$T_DIR/start.conf" >"$T_DIR/start.out" 2>&1
rc=$?
if [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] &&
	grep -Eq "(event=start_failed error=\"|^$T_DIR/start.conf:[0-9]+: )\[tls\] certificate $TLS_PKI/expired.pem has expired" "$T_DIR/start.out"; then
	pass "start with an expired certificate: exit $rc, \"$(head -n 1 "$T_DIR/start.out")\""
else
	fail "start with an expired certificate: exit $rc: $(head -n 5 "$T_DIR/start.out")"
fi

# --- a. versions, counters, status, metrics ----------------------------------------------
tls_node
ok0=$(hs ok) failed0=$(hs failed)
clients versions <<EOF
v12 min=1.2 max=1.2
v13 min=1.3 max=1.3
v11 max=1.1
EOF
for v in 12 13; do
	answered versions "v$v" 200 "OPTIONS over TLS 1.${v#1} ($(got versions "v$v" version))"
	[ "$(got versions "v$v" version)" = "TLSv1.${v#1}" ] || fail "TLS 1.${v#1} client: version $(got versions "v$v" version)"
	via=$(got versions "v$v" via)
	lport=$(got versions "v$v" lport)
	[[ $via == "SIP/2.0/TLS 127.0.0.1:9;"* && $via =~ \;rport=$lport(\;|$) && $via =~ \;received=127\.0\.0\.1(\;|$) ]] &&
		pass "TLS 1.${v#1}: Via rport=$lport received=127.0.0.1" || fail "TLS 1.${v#1}: Via $via (client port $lport)"
done
refused versions v11 TLSV1_ALERT_PROTOCOL_VERSION "a TLS 1.1 client"
[ "$(hs ok)" = $((ok0 + 2)) ] && [ "$(hs failed)" = $((failed0 + 1)) ] &&
	pass "handshakes: ok $ok0 -> $(hs ok), failed $failed0 -> $(hs failed)" ||
	fail "handshakes: ok $ok0 -> $(hs ok) (want +2), failed $failed0 -> $(hs failed) (want +1)"

status_json >"$T_DIR/status.json"
read -r subject days <<<"$(jq -r '.tls | "\(.subject) \(.days_left)"' "$T_DIR/status.json")"
[ "$subject" = /CN=server ] && [[ $days =~ ^(29|30)$ ]] &&
	pass "/v1/status: tls subject $subject, days_left $days" || fail "/v1/status tls: $(jq -c .tls "$T_DIR/status.json")"
[ "$(jq -r '.tls.expires_at' "$T_DIR/status.json")" = "$(date -u -d "@$(not_after server)" +%Y-%m-%dT%H:%M:%SZ)" ] &&
	pass "/v1/status: expires_at is the notAfter" || fail "/v1/status expires_at $(jq -r .tls.expires_at "$T_DIR/status.json"), notAfter $(not_after server)"
jq -e --argjson ok "$(hs ok)" --argjson bad "$(hs failed)" \
	'[.transports[] | select(.transport == "tls" and .handshakes == $ok and .handshake_failures == $bad
	  and .bytes_in > 0 and .bytes_out > 0 and has("connections"))] | length == 1' "$T_DIR/status.json" >/dev/null &&
	pass "/v1/status: transports has tls with the metrics' handshake counts" ||
	fail "/v1/status transports: $(jq -c .transports "$T_DIR/status.json")"
jq -e --arg l "tls:127.0.0.1:$TPORT" '[.listeners[] | select(.listen == $l and .transport == "tls")] | length == 1' \
	"$T_DIR/status.json" >/dev/null && pass "/v1/status: the tls listener has transport tls" ||
	fail "/v1/status listeners: $(jq -c .listeners "$T_DIR/status.json")"
exp=$(metric junction_tls_certificate_expiry_timestamp_seconds)
[ "$exp" = "$(not_after server)" ] && pass "expiry metric $exp = openssl's notAfter" ||
	fail "expiry metric $exp, openssl says $(not_after server)"

# A handshake that never finishes has tcp_message_timeout from the accept.
slow0=$(metric 'junction_tcp_closed_total{reason="slow_message"}')
python3 "$T_DIR/tls_sip.py" stall "$TPORT" >"$T_DIR/stall.out" 2>&1
for c in silent half; do
	read -r end s <<<"$(got stall $c end) $(got stall $c seconds)"
	[ "$end" = eof ] && awk -v s="$s" -v t=$HS_TIMEOUT 'BEGIN { exit !(s >= t - 0.05 && s <= t + 2) }' &&
		pass "handshake stalled ($c): closed after ${s}s (tcp_message_timeout $HS_TIMEOUT)" ||
		fail "handshake stalled ($c): $end after ${s}s"
done
[ "$(metric 'junction_tcp_closed_total{reason="slow_message"}')" = $((slow0 + 2)) ] &&
	pass "stalled handshakes counted as slow_message" ||
	fail "slow_message $slow0 -> $(metric 'junction_tcp_closed_total{reason="slow_message"}'), want +2"

# --- d. outgoing TLS -------------------------------------------------------------------------
wait_for 5 bound tcp "$UAS" && wait_for 5 bound tcp "$UAS9" && wait_for 5 bound udp "$UDPUAS" ||
	fail "the UASes do not listen"
ok0=$(hs ok) failed0=$(hs failed)
log_mark
clients out "$PORT" <<EOF
tls tp=udp ruri=sip:uas@127.0.0.1:$UAS;transport=tls
again tp=udp ruri=sip:uas@127.0.0.1:$UAS;transport=tls
sips tp=udp ruri=sips:uas@127.0.0.1:$UAS
wrongcert tp=udp ruri=sip:uas@127.0.0.3:$UAS9;transport=tls
closed tp=udp ruri=sip:uas@127.0.0.1:$CLOSED;transport=tls
sipsudp tp=udp ruri=sips:uas@127.0.0.1:$UDPUAS;transport=udp
sipsroute tp=udp ruri=sips:uas@127.0.0.1:$UAS route=sip:127.0.0.1:$UDPUAS;lr
EOF
answered out tls 200 "MESSAGE over UDP for ;transport=tls, relayed over TLS"
answered out again 200 "a second one"
answered out sips 200 "MESSAGE for a sips URI, relayed over TLS"
n=$(grep -c '^request MESSAGE ' "$T_DIR/uas.log")
bad=$(grep '^request ' "$T_DIR/uas.log" | grep -cv " via=SIP/2.0/TLS 127.0.0.1:$TPORT;branch=z9hG4bK")
[ "$n" = 3 ] && [ "$bad" = 0 ] && pass "the TLS UAS got the 3, each with Via SIP/2.0/TLS 127.0.0.1:$TPORT on top" ||
	fail "the TLS UAS got $n MESSAGEs ($bad without our TLS Via): $(cat "$T_DIR/uas.log")"
[ "$(grep -c '^handshake_ok' "$T_DIR/uas.log")" = 1 ] && pass "over one connection (one handshake at the UAS)" ||
	fail "handshakes at the UAS: $(grep -c '^handshake' "$T_DIR/uas.log")"
answered out wrongcert 500 "a UAS at 127.0.0.3 whose certificate names 127.0.0.9"
answered out closed 500 "a closed TLS port, for comparison"
wait_for 2 grep -q '^handshake_failed' "$T_DIR/uas9.log" && ! grep -q '^request' "$T_DIR/uas9.log" && pass "the UAS with the wrong certificate saw the handshake fail, and no request" ||
	fail "the UAS with the wrong certificate: $(cat "$T_DIR/uas9.log")"
log_since "event=tls_handshake_failed transport=tls remote=127.0.0.3:$UAS9 direction=out error=\"certificate: IP address mismatch\" unlogged=0" &&
	pass "logged: tls_handshake_failed direction=out (IP address mismatch)" ||
	fail "no tls_handshake_failed direction=out for 127.0.0.3:$UAS9"
[ "$(hs ok)" = $((ok0 + 1)) ] && [ "$(hs failed)" = $((failed0 + 1)) ] &&
	pass "handshakes: ok +1 (the one good outgoing connection), failed +1 (the wrong certificate)" ||
	fail "handshakes: ok $ok0 -> $(hs ok), failed $failed0 -> $(hs failed)"
answered out sipsudp 416 "sips URI with ;transport=udp"
answered out sipsroute 480 "sips URI through a UDP Route"
sleep 0.3
[ ! -s "$T_DIR/udpuas.log" ] && pass "nothing arrived on the UDP port" || fail "the UDP port got: $(cat "$T_DIR/udpuas.log")"

# --- e. reload ---------------------------------------------------------------------------------
# install NAME: NAME's certificate and key become server.pem and server.key
install() { cp "$TLS_PKI/$1.pem" "$TLS_PKI/server.pem" && cp "$TLS_PKI/$1.key" "$TLS_PKI/server.key"; }
rm -f "$T_DIR/hold.ready" "$T_DIR/hold.go"
background HOLD_PID python3 "$T_DIR/tls_sip.py" hold "$TPORT" dir="$T_DIR" >"$T_DIR/hold.out" 2>"$T_DIR/hold.err"
wait_for 10 test -e "$T_DIR/hold.ready" || fail "the held connection did not start: $(cat "$T_DIR/hold.err")"
install server2
log_mark
kill -HUP "$JCT_PID"
wait_for 3 log_since 'event=tls_reloaded' && pass "SIGHUP: tls_reloaded" || fail "SIGHUP: no tls_reloaded"
log_since 'event=tls_certificate subject="/CN=server2" days_left=(29|30)' && pass "logged: the new subject /CN=server2" ||
	fail "no event=tls_certificate for /CN=server2"
clients reload1 <<EOF
new
EOF
answered reload1 new 200 "a new connection after the reload"
[ "$(got reload1 new subject)" = server2 ] && pass "it is served the new certificate" ||
	fail "new connection: subject $(got reload1 new subject)"
touch "$T_DIR/hold.go"
wait "$HOLD_PID"
[ "$(got hold hold before)" = 200 ] && [ "$(got hold hold subject)" = server ] && [ "$(got hold hold after)" = 200 ] &&
	pass "a connection from before the reload (subject server) still answered 200" ||
	fail "held connection: $(tr '\n' ' ' <"$T_DIR/hold.out") $(cat "$T_DIR/hold.err")"
clients out2 "$PORT" <<EOF
tls tp=udp ruri=sip:uas@127.0.0.1:$UAS;transport=tls
EOF
answered out2 tls 200 "the outgoing connection after the reload"
[ "$(grep -c '^handshake_ok' "$T_DIR/uas.log")" = 1 ] && pass "still over the same outgoing connection" ||
	fail "handshakes at the UAS after the reload: $(grep -c '^handshake' "$T_DIR/uas.log")"

install expired
log_mark
kill -HUP "$JCT_PID"
wait_for 3 log_since "event=tls_reload_failed error=\"certificate $TLS_PKI/server.pem has expired\" kept=old" &&
	pass "an expired certificate: tls_reload_failed, kept=old" ||
	fail "an expired certificate: no tls_reload_failed ($(tail -n 2 "$T_DIR/junction.log"))"
log_since 'event=tls_reloaded' && fail "tls_reloaded logged for the expired certificate"
clients reload2 <<EOF
new
EOF
answered reload2 new 200 "a new connection after the failed reload"
[ "$(got reload2 new subject)" = server2 ] && pass "it still gets the previous certificate (server2)" ||
	fail "after the failed reload: subject $(got reload2 new subject)"
[ "$(status_json | jq -r .tls.subject)" = /CN=server2 ] && [ "$(metric junction_tls_certificate_expiry_timestamp_seconds)" = "$(not_after server2)" ] &&
	pass "status and expiry metric: still server2" || fail "status $(status_json | jq -c .tls), metric $(metric junction_tls_certificate_expiry_timestamp_seconds)"
stop_junction && pass "SIGTERM: exit 0" || fail "exit status on SIGTERM"
install server2 # for the nodes below

# --- a (end). min_version = 1.3 ---------------------------------------------------------------
tls_node "min_version = 1.3"
clients min13 <<EOF
v12 max=1.2
v13 min=1.3
EOF
refused min13 v12 TLSV1_ALERT_PROTOCOL_VERSION "min_version 1.3: a TLS 1.2 client"
answered min13 v13 200 "min_version 1.3: a TLS 1.3 client"
[ "$(hs ok) $(hs failed)" = "1 1" ] && pass "min_version 1.3: handshakes ok 1, failed 1" || fail "min_version 1.3: ok $(hs ok) failed $(hs failed)"
stop_junction || fail "exit status on SIGTERM"

# --- c. mutual TLS -------------------------------------------------------------------------------
tls_node "verify_client = require"
log_mark
clients mtls <<EOF
nocert
rogue cert=$ROGUE
client cert=client
nocert2
nocert3
nocert4
other bind=127.0.0.2
EOF
refused mtls nocert TLSV13_ALERT_CERTIFICATE_REQUIRED "verify_client require: no certificate"
refused mtls rogue TLSV1_ALERT_UNKNOWN_CA "verify_client require: a certificate of another CA"
answered mtls client 200 "verify_client require: a certificate of the CA"
for l in nocert2 nocert3 nocert4 other; do
	[ "$(got mtls $l result)" = refused ] || fail "verify_client require: $l not refused: $(grep "^$l\." "$T_DIR/mtls.out" | tr '\n' ' ')"
done
[ "$(hs ok) $(hs failed)" = "1 6" ] && pass "handshakes: ok 1, failed 6" || fail "handshakes: ok $(hs ok), failed $(hs failed), want 1 6"
lines=$(log_lines 'event=tls_handshake_failed transport=tls remote=127\.0\.0\.1:[0-9]+ direction=in ')
other=$(log_lines 'event=tls_handshake_failed transport=tls remote=127\.0\.0\.2:[0-9]+ direction=in ')
[ "$lines" = 1 ] && [ "$other" = 1 ] && pass "five refusals from 127.0.0.1: one log line; 127.0.0.2 its own" ||
	fail "tls_handshake_failed lines: $lines for 127.0.0.1 (want 1), $other for 127.0.0.2 (want 1)"
log_since 'event=tls_handshake_failed .*remote=127\.0\.0\.1:[0-9]+ .*error="error:0A0000C7:SSL routines::peer did not return a certificate" unlogged=0$' &&
	pass "its reason: peer did not return a certificate" || fail "the refusal's line: $(log_lines_text tls_handshake_failed)"
stop_junction || fail "exit status on SIGTERM"

# trusted_peers: who may relay to a foreign target. Loopback is not in
# [security] trusted here, so only the certificate can make it trusted.
SECURITY="trusted = 192.0.2.0/24" tls_node "verify_client = optional" "trusted_peers = peer.test"
: >"$T_DIR/udpuas.log"
RELAY="method=MESSAGE ruri=sip:bob@127.0.0.1:$UDPUAS from=sip:alice@peer.test"
clients relay <<EOF
tcp port=$PORT tp=tcp $RELAY
nocert $RELAY
client cert=client $RELAY
peer cert=peer $RELAY
rogue cert=$ROGUE $RELAY
EOF
answered relay tcp 403 "relay over plain TCP from an untrusted source"
answered relay nocert 403 "relay over TLS without a certificate"
answered relay client 403 "relay with a verified certificate not in trusted_peers (client.test)"
answered relay peer 200 "relay with the peer.test certificate"
refused relay rogue TLSV1_ALERT_UNKNOWN_CA "a peer.test certificate of another CA"
n=$(grep -c '^request MESSAGE sip:bob@127.0.0.1:' "$T_DIR/udpuas.log")
[ "$n" = 1 ] && grep -q " via=SIP/2.0/UDP 127.0.0.1:$PORT;branch=" "$T_DIR/udpuas.log" &&
	pass "the UAS got exactly the peer.test MESSAGE, from the proxy" ||
	fail "the UAS got $n MESSAGEs: $(cat "$T_DIR/udpuas.log")"
stop_junction || fail "exit status on SIGTERM"

t_done
