#!/usr/bin/env bash
# SIP over WebSocket (RFC 7118) with a real WebSocket client: SIP.js in
# Node.js (ws_ua.mjs over the ws package, from tests/integration/node,
# installed by admin/install-deps) registers alice with digest auth over
# wss and over ws; the binding's Path names node 1's UDP listener and the
# client's connection; SIPp calls alice through node 1 and through node 2
# (same database: node 2 follows the Path to node 1, which sends down the
# connection), the UA answers, gets the ACK and the BYE, and unregisters;
# the UA calls a SIPp UAS and hangs up itself. Then a raw client in
# Python (hand-made upgrade and frames): an unmasked frame, a text frame
# that is not UTF-8 and an oversized frame each close only their own
# connection with 1002, 1007, 1009; a ping gets its pong; an upgrade
# without Sec-WebSocket-Protocol: sip gets 400; a close gets a close. The
# connection, handshake and byte counters of /metrics and /v1/status
# follow all of it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg.sh"
. "$(dirname "$0")/tls_lib.sh"
. "$(dirname "$0")/admin_lib.sh"
need ss psql sipp node python3 openssl curl jq

NODE_DIR=$TOP_SRCDIR/tests/integration/node
UA=$TOP_SRCDIR/tests/integration/ws_ua.mjs
[ -f "$NODE_DIR/node_modules/sip.js/package.json" ] && [ -f "$NODE_DIR/node_modules/ws/package.json" ] ||
	skip "SIP.js and ws are not installed in $NODE_DIR (admin/install-deps runs npm ci there)"

P1=$(free_port)
P2=$(free_port)
WSP=$(free_port)
WSSP=$(free_port)
UASP=$(free_port)
ADMIN=$(free_port)
DOMAIN=localhost

# Node 1: UDP and TCP, ws and wss; the [database], [auth] and [registrar]
# sections are node 2's too.
write_config "$P1"
sed -i "/^listen = /s|\$| ws:127.0.0.1:$WSP wss:127.0.0.1:$WSSP|" "$T_DIR/junction.conf"
pg_start || { fail "postgres"; t_done; }
pg_config
sed -n '/^\[database\]/,$p' "$T_DIR/junction.conf" >"$T_DIR/shared.conf"
tls_ca && tls_cert server IP:127.0.0.1 || { fail "certificates"; t_done; }
{ echo; tls_conf; printf '\n[node]\nname = n1\n'; } >>"$T_DIR/junction.conf"
pg_migrate >"$T_DIR/migrate.log" 2>&1 || { cat "$T_DIR/migrate.log" >&2; fail "migrate"; t_done; }
psql_q "SELECT junction_add_subscriber('alice', '$DOMAIN', 'alice-pw'), junction_add_subscriber('bob', '$DOMAIN', 'bob-pw')" \
	>/dev/null || { fail "subscribers"; t_done; }
admin_config "$ADMIN"
start_junction "$P1" || { fail "start node 1"; t_done; }
wait_admin || { fail "admin API of node 1"; t_done; }

# Node 2: UDP and TCP only, on the same database.
mkdir -p "$T_DIR/n2"
SIP_LISTEN="udp:127.0.0.1:$P2 tcp:127.0.0.1:$P2" write_config "$P2" "$T_DIR/n2/junction.conf"
cat >>"$T_DIR/n2/junction.conf" <<CONF

[node]
name = n2

CONF
cat "$T_DIR/shared.conf" >>"$T_DIR/n2/junction.conf"
"$JUNCTION" -c "$T_DIR/n2/junction.conf" >>"$T_DIR/n2/junction.log" 2>&1 &
N2_PID=$!
T_PIDS+=("$N2_PID")
n2_up() {
	kill -0 "$N2_PID" 2>/dev/null &&
		options_msg 127.0.0.1 "$P2" | "$SIPSEND" -q -w 100 udp 127.0.0.1 "$P2" - >/dev/null 2>&1
}
wait_for 10 n2_up || { fail "node 2 did not start"; cat "$T_DIR/n2/junction.log" >&2; t_done; }

# drop PID from T_PIDS (the whole entry)
t_forget() {
	local keep=() p
	for p in "${T_PIDS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
	T_PIDS=("${keep[@]}")
}
# run_wait CMD...: CMD in the background (in T_PIDS while it runs, so
# the cleanup ends it), waited for; its exit status
run_wait() {
	local pid rc
	"$@" &
	pid=$!
	T_PIDS+=("$pid")
	wait "$pid"
	rc=$?
	t_forget "$pid"
	return $rc
}

# ua_start NAME ARGS...: ws_ua.mjs in the background, stdout in
# $T_DIR/NAME.out, SIP.js's log in NAME.err; UA_PID[NAME]
declare -A UA_PID=()
ua_start() {
	local name=$1
	shift
	node "$UA" "$@" >"$T_DIR/$name.out" 2>"$T_DIR/$name.err" &
	UA_PID[$name]=$!
	T_PIDS+=("$!")
}
# ua_said NAME LINE [N]: the UA has printed LINE N times (1)
ua_said() { [ "$(grep -cx -- "$2" "$T_DIR/$1.out")" -ge "${3:-1}" ]; }
# ua_wait SECONDS NAME LINE [N]: until the UA has said it (0), or has
# exited or SECONDS passed without (1: a failure, with its log)
ua_wait() {
	local secs=$1 name=$2 line=$3 n=${4:-1}
	_said_or_gone() { ua_said "$name" "$line" "$n" || ! kill -0 "${UA_PID[$name]}" 2>/dev/null; }
	wait_for "$secs" _said_or_gone
	ua_said "$name" "$line" "$n" && return 0
	fail "$name: no '$line' ($n x) within $secs s; it said: $(tr '\n' ' ' <"$T_DIR/$name.out")"
	grep -E 'FAIL|error' "$T_DIR/$name.err" | tail -n 5 >&2
	return 1
}
# reap PID SECONDS: waits up to SECONDS for PID (a child) to exit, then
# ends it (SIGTERM); its exit status, and PID out of T_PIDS
reap() {
	local pid=$1 rc
	_gone() { ! kill -0 "$pid" 2>/dev/null; }
	wait_for "$2" _gone || { log "pid $pid still running after $2 s: terminated"; kill -TERM "$pid"; }
	wait "$pid"
	rc=$?
	t_forget "$pid"
	return $rc
}
# ua_end NAME EXPECTED-LINES...: the UA exits 0 (within 10 s: it stops
# once its last line is out) having printed exactly these lines
ua_end() {
	local name=$1 rc want got
	shift
	reap "${UA_PID[$name]}" 10
	rc=$?
	want=$(printf '%s\n' "$@")
	got=$(cat "$T_DIR/$name.out")
	if [ "$rc" -eq 0 ] && [ "$got" = "$want" ]; then
		pass "$name: exit 0 after: $(tr '\n' ' ' <<<"$got")"
	else
		fail "$name: exit $rc after: $(tr '\n' ' ' <<<"$got") (expected: $(tr '\n' ' ' <<<"$want"))"
		tail -n 30 "$T_DIR/$name.err" >&2
	fi
}

# the client end (port) of the one established connection to PORT
client_port() {
	local lines
	lines=$(ss -Htn state established "dport = :$1")
	[ "$(grep -c . <<<"$lines")" = 1 ] || return 1
	awk '{ n = split($3, a, ":"); print a[n] }' <<<"$lines"
}

# binding_ok NAME TRANSPORT PORT: alice's one binding is the UA's, its
# Path naming node 1's UDP listener and the client's connection
binding_ok() {
	local name=$1 tp=$2 port=$3 cport row
	cport=$(client_port "$port") || { fail "$name: not exactly one connection to port $port"; return 1; }
	CPORT=$cport
	row=$(psql_q "SELECT count(*) OVER () || ' ' || path || ' ' || contact || ' ' || received FROM binding WHERE aor = 'sip:alice@$DOMAIN'")
	local want="1 <sip:127.0.0.1:$P1;lr;received=sip:127.0.0.1:$cport%3Btransport%3D$tp>"
	if [[ $row =~ ^"$want "sip:[a-z0-9]+@[a-z0-9]+\.invalid\;transport=ws" $tp:127.0.0.1:$cport"$ ]]; then
		pass "$name: binding with Path ${want#1 } (client port $cport)"
	else
		fail "$name: binding is '$row', expected '$want sip:...@....invalid;transport=ws $tp:127.0.0.1:$cport'"
	fi
}

# sipp_call NAME NODE-PORT: one call to alice (scenarios/uac_ws.xml)
# through the node on NODE-PORT; passes on exit 0 and 1 successful call
sipp_call() {
	local name=$1 port=$2 rc ok failed
	run_wait timeout 30 sipp -sf "$SCEN/uac_ws.xml" -s alice -i 127.0.0.1 -p "$(free_port)" -m 1 \
		-nostdin -timeout 10s -timeout_error -trace_stat -stf "$T_DIR/$name.csv" \
		-trace_err -error_file "$T_DIR/$name.err" "127.0.0.1:$port" >"$T_DIR/$name.out" 2>&1
	rc=$?
	ok=$(tail -n 1 "$T_DIR/$name.csv" 2>/dev/null | cut -d';' -f16)
	failed=$(tail -n 1 "$T_DIR/$name.csv" 2>/dev/null | cut -d';' -f18)
	if [ "$rc" -eq 0 ] && [ "$ok" = 1 ] && [ "$failed" = 0 ]; then
		pass "$name: SIPp's call to alice through 127.0.0.1:$port completed"
	else
		fail "$name: SIPp rc=$rc successful=${ok:-none} failed=${failed:-none}"
		tail -n 20 "$T_DIR/$name.err" >&2
	fi
}

# metric NAME LABELS: a sample of node 1's /metrics ("none" when absent)
metric() {
	local v
	v=$(curl -s -m 5 "$ADMIN_URL/metrics" | awk -v k="$1{$2}" '$1 == k { print $2 }')
	echo "${v:-none}"
}
metric_is() { [ "$(metric "$1" "$2")" = "$3" ]; }
# expect_metric NAME LABELS VALUE [SECONDS]: the sample has VALUE (or
# reaches it within SECONDS)
expect_metric() {
	if wait_for "${4:-0}" metric_is "$1" "$2" "$3"; then
		pass "$1{$2} = $3"
	else
		fail "$1{$2} = $(metric "$1" "$2"), expected $3"
	fi
}
HS=junction_transport_handshakes_total
CONNS=junction_transport_connections

expect_metric $CONNS 'transport="ws"' 0
expect_metric $CONNS 'transport="wss"' 0
expect_metric $HS 'transport="wss",outcome="ok"' 0

# ---- a. alice over wss; SIPp calls her through node 1 -----------------
ua_start ua1 --ca "$TLS_PKI/ca.pem" --calls 2 --timeout 40 "wss://127.0.0.1:$WSSP" "alice@$DOMAIN" alice-pw register-and-answer
if ua_wait 10 ua1 registered; then
	pass "a: SIP.js registered alice over wss (digest)"
	binding_ok a wss "$WSSP"
	expect_metric $CONNS 'transport="wss"' 1
	expect_metric $HS 'transport="wss",outcome="ok"' 1
	expect_metric $HS 'transport="wss",outcome="failed"' 0

	sipp_call a-call "$P1"
	ua_wait 5 ua1 call-ended 1 && pass "a: the UA answered, got the ACK and the BYE"
	# node 1 record-routes the dialog (its config does not ask for it)
	# with a Record-Route naming the client's flow (RFC 7118 §6)
	rr="Record-Route: <sip:127.0.0.1:$P1;lr;received=sip:127.0.0.1:${CPORT:-none}%3Btransport%3Dwss>"
	grep -qxF "$rr" <(tr -d '\r' <"$T_DIR/ua1.err") && pass "a: the INVITE carried $rr" ||
		fail "a: no '$rr' in what the UA got"

	# ---- c. the same through node 2: along the Path to node 1 ------------
	sipp_call c-call "$P2"
	ua_wait 5 ua1 call-ended 2 && pass "c: the UA answered the call that entered node 2"
	# the INVITE the UA got came through both nodes: node 1's Via on top,
	# node 2's below it
	awk '/Received WebSocket text message/ { m = 1; n = 0; next }
		m && /^INVITE / { inv = 1; n = 0; next }
		m && inv && /^Via: / { v[++n] = $0; next }
		m && inv && /^\r?$/ { if (n >= 2) print v[1] "|" v[2]; m = 0; inv = 0 }' "$T_DIR/ua1.err" | tr -d '\r' >"$T_DIR/c.vias"
	grep -Eq "^Via: SIP/2\.0/WSS 127\.0\.0\.1:$WSSP;[^|]*\|Via: SIP/2\.0/UDP 127\.0\.0\.1:$P2;" "$T_DIR/c.vias" &&
		pass "c: the INVITE came down from node 1 (WSS Via) after node 2 (UDP Via of 127.0.0.1:$P2)" ||
		{ fail "c: no INVITE with node 1's and node 2's Vias"; cat "$T_DIR/c.vias" >&2; }
fi
ua_end ua1 registered answered ack-received bye-received call-ended answered ack-received bye-received call-ended unregistered
[ "$(psql_q "SELECT count(*) FROM binding WHERE aor = 'sip:alice@$DOMAIN'")" = 0 ] &&
	pass "a: alice's wss binding removed by her un-REGISTER" || fail "a: a binding is left after the un-REGISTER"
expect_metric $CONNS 'transport="wss"' 0 5

# ---- b. alice over ws --------------------------------------------------
ua_start ua2 --calls 1 --timeout 30 "ws://127.0.0.1:$WSP" "alice@$DOMAIN" alice-pw register-and-answer
if ua_wait 10 ua2 registered; then
	pass "b: SIP.js registered alice over ws (digest)"
	binding_ok b ws "$WSP"
	expect_metric $CONNS 'transport="ws"' 1
	expect_metric $HS 'transport="ws",outcome="ok"' 1
	sipp_call b-call "$P1"
fi
ua_end ua2 registered answered ack-received bye-received call-ended unregistered
expect_metric $CONNS 'transport="ws"' 0 5

# ---- d. the WebSocket side calls a SIPp UAS and hangs up ---------------
sipp -sf "$SCEN/uas.xml" -i 127.0.0.1 -p "$UASP" -m 1 -nostdin -timeout 15s -timeout_error \
	-trace_stat -stf "$T_DIR/d-uas.csv" -trace_err -error_file "$T_DIR/d-uas.err" >"$T_DIR/d-uas.out" 2>&1 &
UAS_PID=$!
T_PIDS+=("$UAS_PID")
wait_for 5 bound udp "$UASP" || fail "d: the SIPp UAS does not listen on $UASP"
ua_start ua3 --timeout 30 "ws://127.0.0.1:$WSP" "bob@$DOMAIN" bob-pw call "sip:svc@127.0.0.1:$UASP"
ua_end ua3 registered established bye-ok unregistered
# (when the UA failed, the UAS waits for nothing more)
[ "$(cat "$T_DIR/ua3.out")" = "$(printf '%s\n' registered established bye-ok unregistered)" ] && secs=10 || secs=0
reap "$UAS_PID" $secs
rc=$?
ok=$(tail -n 1 "$T_DIR/d-uas.csv" 2>/dev/null | cut -d';' -f16)
failed=$(tail -n 1 "$T_DIR/d-uas.csv" 2>/dev/null | cut -d';' -f18)
[ "$rc" -eq 0 ] && [ "$ok" = 1 ] && [ "$failed" = 0 ] &&
	pass "d: the SIPp UAS got INVITE, ACK and the UA's BYE (1 call)" ||
	{ fail "d: SIPp UAS rc=$rc successful=${ok:-none} failed=${failed:-none}"; tail -n 20 "$T_DIR/d-uas.err" >&2; }
expect_metric $CONNS 'transport="ws"' 0 5

# ---- e. a raw client: protocol errors close one connection only --------
# so far two upgrades on ws (ua2, ua3), none refused
expect_metric $HS 'transport="ws",outcome="ok"' 2
expect_metric $HS 'transport="ws",outcome="failed"' 0
BYTES=junction_transport_bytes_total
in0=$(metric $BYTES 'transport="ws",direction="in"')
out0=$(metric $BYTES 'transport="ws",direction="out"')
cat >"$T_DIR/wsraw.py" <<'PY'
# A WebSocket client by hand (RFC 6455): the upgrade and the frames, so
# that it can send what no library would. Prints what happened, one line
# per check, for websocket.sh to compare.
import base64, hashlib, os, socket, struct, sys

WS_PORT, SIP_PORT = int(sys.argv[1]), int(sys.argv[2])
GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
SENT = RECEIVED = 0  # bytes, all connections: the server's counters move as much


def send(s, data):
    global SENT
    s.sendall(data)
    SENT += len(data)


def recv_exact(s, n):
    global RECEIVED
    b = b""
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c:
            raise EOFError("closed after %d of %d bytes" % (len(b), n))
        b += c
    RECEIVED += n
    return b


def upgrade(protocol=True):
    """A connection and its handshake: (socket, status line)."""
    s = socket.create_connection(("127.0.0.1", WS_PORT), timeout=5)
    key = base64.b64encode(os.urandom(16))
    req = (b"GET / HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n"
           b"Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n"
           % (WS_PORT, key))
    if protocol:
        req += b"Sec-WebSocket-Protocol: sip\r\n"
    send(s, req + b"\r\n")
    head = b""
    while not head.endswith(b"\r\n\r\n"):  # a byte at a time: no frame read with it
        head += recv_exact(s, 1)
    lines = head.decode().split("\r\n")
    fields = {l.split(":", 1)[0].lower(): l.split(":", 1)[1].strip() for l in lines[1:] if ":" in l}
    if lines[0].startswith("HTTP/1.1 101 "):
        accept = base64.b64encode(hashlib.sha1(key + GUID).digest()).decode()
        if fields.get("sec-websocket-accept") != accept or fields.get("sec-websocket-protocol") != "sip":
            return s, "101 with a wrong accept or protocol: %r" % fields
    return s, lines[0]


def frame(op, payload, mask=True, fin=True, length=None):
    n = len(payload) if length is None else length
    h = bytes([(0x80 if fin else 0) | op])
    m = 0x80 if mask else 0
    if n < 126:
        h += bytes([m | n])
    elif n < 65536:
        h += bytes([m | 126]) + struct.pack("!H", n)
    else:
        h += bytes([m | 127]) + struct.pack("!Q", n)
    if mask:
        k = os.urandom(4)
        h += k
        payload = bytes(b ^ k[i % 4] for i, b in enumerate(payload))
    return h + payload


def read_frame(s):
    b0, b1 = recv_exact(s, 2)
    n = b1 & 0x7F
    if n == 126:
        n = struct.unpack("!H", recv_exact(s, 2))[0]
    elif n == 127:
        n = struct.unpack("!Q", recv_exact(s, 8))[0]
    if b1 & 0x80:
        raise ValueError("a masked frame from the server")
    return b0 & 0x0F, b0 & 0x80, recv_exact(s, n)


def closed(s):
    """What the server did after its last frame: closed, or not."""
    try:
        return "closed" if recv_exact(s, 1) else "more data"
    except EOFError:
        return "closed"
    except socket.timeout:
        return "still open"
    except ConnectionResetError:
        return "reset"


def close_code(s):
    op, fin, p = read_frame(s)
    if op != 8:
        return "opcode %d (%r)" % (op, p[:40])
    return "close %d" % struct.unpack("!H", p[:2])[0] if len(p) >= 2 else "close without code"


N = 0


def options(body_extra=b""):
    global N
    N += 1
    return ("OPTIONS sip:127.0.0.1:%d SIP/2.0\r\n"
            "Via: SIP/2.0/WS raw.invalid;branch=z9hG4bKraw%d%d\r\n"
            "Max-Forwards: 70\r\nFrom: <sip:raw@localhost>;tag=r%d\r\nTo: <sip:127.0.0.1:%d>\r\n"
            "Call-ID: raw-%d-%d@test\r\nCSeq: %d OPTIONS\r\n\r\n"
            % (SIP_PORT, os.getpid(), N, N, SIP_PORT, os.getpid(), N, N)).encode() + body_extra


def answer(s):
    """The response to the last OPTIONS: its status line, when it is one."""
    op, fin, p = read_frame(s)
    text = p.decode("utf-8", "replace")
    want = "Call-ID: raw-%d-%d@test" % (os.getpid(), N)
    if op != 1 or not fin or want not in text.split("\r\n"):
        return "not the answer: opcode %d %r" % (op, text[:80])
    return text.split("\r\n")[0]


def ping(s):
    send(s, frame(9, b"junction-ping-42"))
    op, fin, p = read_frame(s)
    return "opcode %d %s" % (op, p.decode())


def request(s, msg):
    send(s, frame(1, msg))
    return answer(s)


def run(name, f):
    try:
        print(name + ": " + f(), flush=True)
    except Exception as e:  # reported as a line the test does not expect
        print("%s: %s %s" % (name, type(e).__name__, e), flush=True)


a, sa = upgrade()
b, sb = upgrade()
print("A: " + sa, flush=True)
print("B: " + sb, flush=True)
# an unmasked frame (RFC 6455 §5.1): 1002, only for A
send(a, frame(1, options(), mask=False))
run("A unmasked", lambda: close_code(a) + ", " + closed(a))
run("B options", lambda: request(b, options()))
run("B ping", lambda: ping(b))
# a text frame that is not UTF-8 (§8.1): 1007
c, sc = upgrade()
print("C: " + sc, flush=True)
send(c, frame(1, options(b"\xc3\x28")))
run("C not utf-8", lambda: close_code(c) + ", " + closed(c))
# a frame announcing more than max_message_size (§10.4): 1009 on the header
e, se = upgrade()
print("E: " + se, flush=True)
send(e, frame(2, b"", length=1 << 20))  # the header only
run("E too big", lambda: close_code(e) + ", " + closed(e))
# no Sec-WebSocket-Protocol: sip (RFC 7118 §4.1): 400, connection closed
d, sd = upgrade(protocol=False)
print("D: " + sd + ", " + closed(d), flush=True)
# B is still served, and its close is answered with a close
run("B options again", lambda: request(b, options()))
send(b, frame(8, struct.pack("!H", 1000) + b"bye"))
run("B close", lambda: close_code(b) + ", " + closed(b))
print("bytes: in %d out %d" % (SENT, RECEIVED), flush=True)
PY
run_wait timeout 30 python3 "$T_DIR/wsraw.py" "$WSP" "$P1" >"$T_DIR/wsraw.out" 2>&1
rc=$?
want="A: HTTP/1.1 101 Switching Protocols
B: HTTP/1.1 101 Switching Protocols
A unmasked: close 1002, closed
B options: SIP/2.0 200 OK
B ping: opcode 10 junction-ping-42
C: HTTP/1.1 101 Switching Protocols
C not utf-8: close 1007, closed
E: HTTP/1.1 101 Switching Protocols
E too big: close 1009, closed
D: HTTP/1.1 400 Bad Request, closed
B options again: SIP/2.0 200 OK
B close: close 1000, closed"
if [ "$rc" -eq 0 ] && [ "$(sed '$d' "$T_DIR/wsraw.out")" = "$want" ]; then
	pass "e: raw client: 1002 (unmasked), 1007 (not UTF-8), 1009 (too big) close only their connection; ping/pong; 400 without 'sip'; close answered"
else
	fail "e: raw client (rc $rc):"
	diff <(echo "$want") <(sed '$d' "$T_DIR/wsraw.out") >&2
fi
# A, B, C and E upgraded, D refused
expect_metric $HS 'transport="ws",outcome="ok"' 6
expect_metric $HS 'transport="ws",outcome="failed"' 1
expect_metric $CONNS 'transport="ws"' 0 5
# every byte the raw client sent and got, no more
if [[ $in0 =~ ^[0-9]+$ && $out0 =~ ^[0-9]+$ && $(tail -n 1 "$T_DIR/wsraw.out") =~ ^bytes:\ in\ ([0-9]+)\ out\ ([0-9]+)$ ]]; then
	expect_metric $BYTES 'transport="ws",direction="in"' $((in0 + BASH_REMATCH[1]))
	expect_metric $BYTES 'transport="ws",direction="out"' $((out0 + BASH_REMATCH[2]))
else
	fail "e: bytes: the raw client's count or /metrics' ($in0, $out0) missing"
fi
answers "$P1" && pass "e: node 1 still answers OPTIONS on UDP" || fail "e: node 1 no longer answers"

# /v1/status lists the stream transports, with the figures of /metrics
api GET /v1/status
st=$(jq -c '[.transports[] | select(.transport == "ws" or .transport == "wss") | [.transport, .connections, .handshakes, .handshake_failures]]' "$T_DIR/body")
[ "$STATUS" = 200 ] && [ "$st" = '[["ws",0,6,1],["wss",0,1,0]]' ] &&
	pass "/v1/status transports: $st" || fail "/v1/status ($STATUS) transports: $st"
openapi_check

stop_junction && pass "node 1: SIGTERM exit 0" || fail "node 1: exit status"
kill -TERM "$N2_PID"
wait "$N2_PID" && pass "node 2: SIGTERM exit 0" || fail "node 2: exit status"
t_forget "$N2_PID"
grep -Eq "ERROR: (Address|Leak|Thread)Sanitizer|runtime error:" "$T_DIR/n2/junction.log" &&
	fail "sanitizer report in n2/junction.log"
[ "$T_FAILS" -ne 0 ] && { echo "---- n2/junction.log (end)" >&2; tail -n 20 "$T_DIR/n2/junction.log" >&2; }
t_done
