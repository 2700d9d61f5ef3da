#!/usr/bin/env bash
# TCP against peers that hold resources without using them (net/tcp.c):
#   a. slowloris: 1000 connections dribbling a header byte a second are
#      all closed within tcp_message_timeout + 2 s of their first byte,
#      counted, while OPTIONS over TCP and UDP are answered in < 1 s;
#   b. tcp_max_per_source: connection N+1 from one address is closed at
#      once, one from another address is served, and a slot comes back
#      when a connection closes;
#   c. a client that never reads: closed once its output queue passes
#      tcp_max_queued, counted, with the daemon's memory bounded and other
#      clients served;
#   d. a message written a byte at a time is framed and answered.
# The sockets are driven by python3 (one process per check, with its own
# alarm, started in the background so the harness kills it on failure).
. "$(dirname "$0")/lib.sh"
need python3 curl ss

ulimit -n 4096 2>/dev/null || true
[ "$(ulimit -n)" -ge 2600 ] || skip "open file limit $(ulimit -n) < 2600"

PORT=$(free_port)
APORT=$(free_port)
TIMEOUT=3
PER_SOURCE=1100
QUEUED=16384
# queue_depth: room for the slow reader's 20,000 requests, so that the
# client served beside it meets its output cap, not full worker queues
# (503 from the dispatcher, a race with how fast the workers drain).
SIP_EXTRA="tcp_message_timeout = $TIMEOUT
tcp_max_per_source = $PER_SOURCE
tcp_max_queued = $QUEUED
tcp_max_connections = 4096
queue_depth = 32768" write_config "$PORT"
cat >>"$T_DIR/junction.conf" <<CONF

[admin]
listen = 127.0.0.1:$APORT
token = test-admin-token-0123456789abcdef
CONF
start_junction "$PORT" || { fail "start"; t_done; }
for _ in $(seq 50); do curl -sf -o /dev/null "http://127.0.0.1:$APORT/healthz" && break; sleep 0.1; done

# closed REASON: junction_tcp_closed_total{reason=REASON}, or "none".
closed() {
	curl -s "http://127.0.0.1:$APORT/metrics" |
		awk -v k="junction_tcp_closed_total{reason=\"$1\"}" '$1 == k { v = $2 } END { print v == "" ? "none" : v }'
}

cat >"$T_DIR/tcp_client.py" <<'PY'
import os, select, signal, socket, sys, threading, time

signal.alarm(90)  # never outlive a stuck check
HOST, PORT = "127.0.0.1", int(sys.argv[2])
seq = [0]


def options(tp, branch=None):
    seq[0] += 1
    n = seq[0]
    return ("OPTIONS sip:%s:%d SIP/2.0\r\n"
            "Via: SIP/2.0/%s 127.0.0.1:9;branch=z9hG4bKtl%d-%d;rport\r\n"
            "Max-Forwards: 70\r\n"
            "From: <sip:probe@example.com>;tag=t%d\r\n"
            "To: <sip:%s:%d>\r\n"
            "Call-ID: tcp-limits-%d-%d@test\r\n"
            "CSeq: 1 OPTIONS\r\n"
            "Content-Length: 0\r\n\r\n" % (HOST, PORT, tp, os.getpid(), n, n, HOST, PORT,
                                           os.getpid(), n)).encode()


def read_status(s, timeout):
    """The status of the first response on s, None on EOF or timeout."""
    s.settimeout(timeout)
    buf = b""
    try:
        while b"\r\n" not in buf:
            d = s.recv(4096)
            if not d:
                return None
            buf += d
    except (socket.timeout, OSError):
        return None
    return buf.split(b"\r\n")[0].decode(errors="replace")


def probe_tcp():
    t0 = time.monotonic()
    s = socket.create_connection((HOST, PORT), timeout=2)
    s.sendall(options("TCP"))
    st = read_status(s, 2)
    s.close()
    return st, time.monotonic() - t0


def probe_udp():
    t0 = time.monotonic()
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(2)
    s.sendto(options("UDP"), (HOST, PORT))
    try:
        st = s.recv(65535).split(b"\r\n")[0].decode(errors="replace")
    except socket.timeout:
        st = None
    s.close()
    return st, time.monotonic() - t0


def ending(s, timeout):
    """How s ends within timeout without data: eof, reset, timeout or data."""
    s.settimeout(timeout)
    try:
        return "data" if s.recv(4096) else "eof"
    except socket.timeout:
        return "timeout"
    except OSError:
        return "reset"


def gone(s):
    """True when the server closed s (EOF or reset); never blocks."""
    s.setblocking(False)  # a timeout would make recv wait
    try:
        return s.recv(4096) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True


def slowloris(n, timeout):
    msg = options("TCP")
    socks = [socket.create_connection((HOST, PORT), timeout=2) for _ in range(n)]
    for s in socks:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    first = time.monotonic()
    open_ = dict((s.fileno(), s) for s in socks)
    poll = select.poll()  # select() stops at fd 1023
    for fd in open_:
        poll.register(fd, select.POLLIN)
    pos = 0
    closed_after = []
    probes = []
    next_probe = first + 1.5
    while open_ and time.monotonic() - first < timeout + 4:
        # One byte each, then a second of watching for closes.
        for s in list(open_.values()):
            try:
                s.send(msg[pos:pos + 1])
            except OSError:
                pass
        pos += 1
        tick = time.monotonic() + 1
        while open_ and time.monotonic() < tick:
            if time.monotonic() >= next_probe and len(probes) < 4:
                probes.append(("tcp",) + probe_tcp())
                probes.append(("udp",) + probe_udp())
                next_probe += 1
            for fd, _ in poll.poll(50):
                s = open_[fd]
                if gone(s):
                    closed_after.append(time.monotonic() - first)
                    poll.unregister(fd)
                    del open_[fd]
                    s.close()
    print("slow_sent_bytes=%d" % pos)
    print("slow_closed=%d" % len(closed_after))
    print("slow_still_open=%d" % len(open_))
    print("slow_first_close=%.2f" % (min(closed_after) if closed_after else -1))
    print("slow_last_close=%.2f" % (max(closed_after) if closed_after else -1))
    for i, (tp, st, dt) in enumerate(probes):
        print("probe_%d=%s %s %.3f" % (i, tp, (st or "none").replace(" ", "_"), dt))


def per_source(n):
    held = []
    for _ in range(n):
        held.append(socket.create_connection((HOST, PORT), timeout=2))
    time.sleep(0.5)  # let the daemon accept every one
    extra = socket.create_connection((HOST, PORT), timeout=2)
    t0 = time.monotonic()
    end = ending(extra, 3)  # refused: EOF, nothing else
    print("ps_extra=%s %.3f" % (end, time.monotonic() - t0))
    extra.close()
    print("ps_held_closed=%d" % sum(1 for s in held if gone(s)))
    # Another address is its own source.
    other = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    other.bind(("127.0.0.2", 0))
    other.settimeout(2)
    other.connect((HOST, PORT))
    other.sendall(options("TCP"))
    print("ps_other=%s" % (read_status(other, 2) or "none").replace(" ", "_"))
    other.close()
    # One of the held ones is served, then closing one frees a slot.
    held[-1].sendall(options("TCP"))
    print("ps_held_last=%s" % (read_status(held[-1], 2) or "none").replace(" ", "_"))
    held.pop().close()
    time.sleep(0.3)
    again = socket.create_connection((HOST, PORT), timeout=2)
    again.sendall(options("TCP"))
    print("ps_again=%s" % (read_status(again, 2) or "none").replace(" ", "_"))
    again.close()
    for s in held:
        s.close()


def slow_reader(count):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.settimeout(5)
    s.connect((HOST, PORT))
    batch = b"".join(options("TCP") for _ in range(100))
    sent = 0
    reset_on_send = False
    t0 = time.monotonic()
    try:
        for _ in range(count // 100):
            s.sendall(batch)
            sent += 100
    except OSError:
        reset_on_send = True
    # Meanwhile, another client is served.
    other = probe_tcp()
    # Now read: what the daemon sent before it gave up, then EOF or reset.
    got = 0
    buf = b""
    end = "timeout"
    s.settimeout(5)
    try:
        while True:
            d = s.recv(65536)
            if not d:
                end = "eof"
                break
            buf += d
    except socket.timeout:
        end = "timeout"
    except OSError:
        end = "reset"
    got = buf.count(b"SIP/2.0 200 ")
    s.close()
    print("sr_sent=%d" % sent)
    print("sr_reset_on_send=%d" % reset_on_send)
    print("sr_answers_read=%d" % got)
    print("sr_end=%s" % end)
    print("sr_seconds=%.2f" % (time.monotonic() - t0))
    print("sr_other=%s %.3f" % ((other[0] or "none").replace(" ", "_"), other[1]))


def bytewise():
    s = socket.create_connection((HOST, PORT), timeout=2)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    data = b"\r\n\r\n" + options("TCP") + options("TCP")
    for i in range(len(data)):
        s.send(data[i:i + 1])
        time.sleep(0.0005)
    s.settimeout(3)
    buf = b""
    try:
        while buf.count(b"SIP/2.0 200 ") < 2:
            d = s.recv(4096)
            if not d:
                break
            buf += d
    except socket.timeout:
        pass
    print("bw_bytes=%d" % len(data))
    print("bw_pong=%d" % buf.startswith(b"\r\n"))
    print("bw_answers=%d" % buf.count(b"SIP/2.0 200 "))
    s.close()


what = sys.argv[1]
if what == "slowloris":
    slowloris(int(sys.argv[3]), int(sys.argv[4]))
elif what == "per_source":
    per_source(int(sys.argv[3]))
elif what == "slow_reader":
    slow_reader(int(sys.argv[3]))
elif what == "bytewise":
    bytewise()
sys.stdout.flush()
PY

# client NAME ARGS...: runs the python client in the background (so the
# harness kills it on failure), waits for it; its key=value lines go to
# $T_DIR/NAME.out.
client() {
	local name=$1 pid
	shift
	python3 "$T_DIR/tcp_client.py" "$name" "$PORT" "$@" >"$T_DIR/$name.out" 2>"$T_DIR/$name.err" &
	pid=$!
	T_PIDS+=("$pid")
	wait "$pid" || { fail "$name: client exited $?"; cat "$T_DIR/$name.err" >&2; }
}
val() { awk -F= -v k="$2" '$1 == k { sub(/^[^=]*=/, ""); print }' "$T_DIR/$1.out"; }

# --- d. a message a byte at a time -------------------------------------------
client bytewise
[ "$(val bytewise bw_answers)" = 2 ] && [ "$(val bytewise bw_pong)" = 1 ] &&
	pass "ping and two OPTIONS written a byte at a time ($(val bytewise bw_bytes) writes): pong and 2 answers" ||
	fail "bytewise: $(tr '\n' ' ' <"$T_DIR/bytewise.out")"

# --- a. slowloris --------------------------------------------------------------
log_mark
client slowloris 1000 "$TIMEOUT"
cat "$T_DIR/slowloris.out" >&2
[ "$(val slowloris slow_closed)" = 1000 ] && [ "$(val slowloris slow_still_open)" = 0 ] &&
	pass "slowloris: all 1000 connections closed by the daemon" ||
	fail "slowloris: $(val slowloris slow_closed) closed, $(val slowloris slow_still_open) still open"
last=$(val slowloris slow_last_close)
first=$(val slowloris slow_first_close)
awk -v f="$first" -v l="$last" -v t="$TIMEOUT" 'BEGIN { exit !(f >= t && l <= t + 2) }' &&
	pass "slowloris: closed between ${first}s and ${last}s after the first byte (timeout ${TIMEOUT}s)" ||
	fail "slowloris: closes from ${first}s to ${last}s, want within [$TIMEOUT, $((TIMEOUT + 2))]"
n=0
while read -r tp st dt; do
	n=$((n + 1))
	if [ "$st" = "SIP/2.0_200_OK" ] && awk -v d="$dt" 'BEGIN { exit !(d < 1) }'; then
		pass "during the slowloris: OPTIONS over $tp answered 200 in ${dt}s"
	else
		fail "during the slowloris: OPTIONS over $tp: $st after ${dt}s"
	fi
done < <(grep '^probe_' "$T_DIR/slowloris.out" | cut -d= -f2)
[ "$n" -ge 4 ] || fail "only $n probes ran during the slowloris"
got=$(closed slow_message)
[ "$got" = 1000 ] && pass "metric: tcp_closed_total{reason=slow_message} = 1000" ||
	fail "metric slow_message: $got, want 1000"
lines=$(tail -c +$((T_LOG_MARK + 1)) "$T_DIR/junction.log" | grep -c 'event=tcp_closed reason=slow_message')
logged=$(tail -c +$((T_LOG_MARK + 1)) "$T_DIR/junction.log" | grep -o 'event=tcp_closed reason=slow_message count=[0-9]*' |
	awk -F= '{ s += $NF } END { print s + 0 }')
[ "$logged" = 1000 ] && [ "$lines" -le 3 ] && pass "log: 1000 slow closes in $lines line(s)" ||
	fail "log: $logged slow closes in $lines lines"

# --- b. per-source limit ---------------------------------------------------------
wait_for 5 test "$(ss -Htn state established "sport = :$PORT" | wc -l)" -eq 0 ||
	fail "connections left over before the per-source check"
client per_source "$PER_SOURCE"
cat "$T_DIR/per_source.out" >&2
read -r st dt <<<"$(val per_source ps_extra)"
[ "$st" = eof ] && awk -v d="$dt" 'BEGIN { exit !(d < 0.5) }' &&
	pass "per source: connection $((PER_SOURCE + 1)) from 127.0.0.1 closed at once (EOF after ${dt}s)" ||
	fail "per source: connection $((PER_SOURCE + 1)): $st after ${dt}s"
[ "$(val per_source ps_held_closed)" = 0 ] && pass "per source: the $PER_SOURCE before it stay open" ||
	fail "per source: $(val per_source ps_held_closed) of the first $PER_SOURCE closed"
[ "$(val per_source ps_other)" = SIP/2.0_200_OK ] && pass "per source: 127.0.0.2 served meanwhile" ||
	fail "per source: 127.0.0.2 got $(val per_source ps_other)"
[ "$(val per_source ps_held_last)" = SIP/2.0_200_OK ] && [ "$(val per_source ps_again)" = SIP/2.0_200_OK ] &&
	pass "per source: the ${PER_SOURCE}th served; a slot comes back on close" ||
	fail "per source: held $(val per_source ps_held_last), after a close $(val per_source ps_again)"
got=$(closed per_source_limit)
[ "$got" = 1 ] && pass "metric: tcp_closed_total{reason=per_source_limit} = 1" || fail "metric per_source_limit: $got"

# --- c. a client that never reads ------------------------------------------------------
wait_for 5 test "$(ss -Htn state established "sport = :$PORT" | wc -l)" -eq 0 ||
	fail "connections left over before the slow reader check"
rss0=$(rss_kb "$JCT_PID")
log_mark
client slow_reader 20000
cat "$T_DIR/slow_reader.out" >&2
rss1=$(rss_kb "$JCT_PID")
got=$(closed output_cap)
[ "$got" = 1 ] && pass "slow reader: closed for its output cap (metric = 1)" || fail "slow reader: metric output_cap $got"
log_since 'event=tcp_closed reason=output_cap' && pass "slow reader: logged" || fail "slow reader: no event=tcp_closed reason=output_cap"
case $(val slow_reader sr_end) in
eof | reset) pass "slow reader: the client sees the close ($(val slow_reader sr_end)) after reading $(val slow_reader sr_answers_read) of $(val slow_reader sr_sent) answers" ;;
*) fail "slow reader: connection still open after its cap ($(val slow_reader sr_end))" ;;
esac
[ "$(val slow_reader sr_answers_read)" -lt "$(val slow_reader sr_sent)" ] 2>/dev/null ||
	fail "slow reader: every answer arrived, so nothing was capped"
[ "${rss1:-0}" -gt 0 ] && [ $((rss1 - rss0)) -lt 32768 ] &&
	pass "slow reader: daemon RSS ${rss0} -> ${rss1} kB" || fail "slow reader: RSS ${rss0} -> ${rss1} kB"
read -r st dt <<<"$(val slow_reader sr_other)"
[ "$st" = SIP/2.0_200_OK ] && pass "slow reader: another client served meanwhile in ${dt}s" ||
	fail "slow reader: another client got $st"
answers "$PORT" && pass "still answering over UDP" || fail "no longer answering over UDP"
answers "$PORT" 127.0.0.1 tcp && pass "still answering over TCP" || fail "no longer answering over TCP"

t_done
