#!/usr/bin/env bash
# The systemd notification protocol (sd_notify(3)) as junction.service's
# Type=notify and WatchdogSec rely on it, against a listener standing in
# for the service manager: READY=1 only once the listeners are open and
# the database reached (the node started while PostgreSQL is down says
# STATUS=waiting and stays unready until it comes up), WATCHDOG=1 every
# quarter of WATCHDOG_USEC (none when WATCHDOG_PID names another process),
# STOPPING=1 at SIGTERM before the drain, nothing to a socket path that is
# not absolute.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg.sh"
need python3 psql

PORT=$(free_port)
write_config "$PORT"
pg_start || { fail "postgres"; t_done; }
pg_config
pg_migrate >/dev/null || { fail "migrate"; t_done; }

listen() { # listen NAME: a listener on $T_DIR/NAME.sock writing $T_DIR/NAME.out
	python3 "$TOP_SRCDIR/tests/integration/sdnotify_listen.py" "$T_DIR/$1.sock" >"$T_DIR/$1.out" 2>&1 &
	T_PIDS+=("$!")
	wait_for 5 test -S "$T_DIR/$1.sock" || fail "listener $1 did not bind"
}
# run NAME [ENV...]: junction with NOTIFY_SOCKET=$T_DIR/NAME.sock and ENV
run_node() {
	local name=$1
	shift
	env NOTIFY_SOCKET="$T_DIR/$name.sock" "$@" "$JUNCTION" -c "$T_DIR/junction.conf" >>"$T_DIR/junction.log" 2>&1 &
	JCT_PID=$!
	T_PIDS+=("$JCT_PID")
}
# The ms of the first line matching $2 in $T_DIR/$1.out; empty if none.
first_ms() { awk -v re="$2" '$0 ~ re { print $1; exit }' "$T_DIR/$1.out"; }

# 1. A normal start: READY with a status, watchdog pings at a quarter of
# 2 s (the main loop ticks each second: so once a second), then STOPPING.
listen a
run_node a WATCHDOG_USEC=2000000
wait_for 10 grep -q 'READY=1' "$T_DIR/a.out" || fail "no READY=1"
grep -q 'READY=1|STATUS=serving, 2 workers' "$T_DIR/a.out" && pass "READY=1 with STATUS=serving, 2 workers" ||
	fail "READY line: $(grep READY "$T_DIR/a.out")"
[ "$(grep -c READY=1 "$T_DIR/a.out")" = 1 ] && pass "READY=1 sent once" || fail "READY=1 sent $(grep -c READY=1 "$T_DIR/a.out") times"
options_msg 127.0.0.1 "$PORT" | "$SIPSEND" -q -w 500 udp 127.0.0.1 "$PORT" - >/dev/null 2>&1 &&
	pass "answering OPTIONS once READY" || fail "no answer after READY=1"
sleep 4.2
pings=$(grep -c '^[0-9]* WATCHDOG=1$' "$T_DIR/a.out")
[ "$pings" -ge 4 ] && [ "$pings" -le 7 ] && pass "$pings WATCHDOG=1 in about 4 s (WATCHDOG_USEC=2000000)" ||
	fail "$pings watchdog pings in 4 s: $(cat "$T_DIR/a.out")"
# no gap between pings as long as half the interval (1 s) plus a tick
gap=$(awk '/WATCHDOG=1/ { if (p) { g = $1 - p; if (g > m) m = g } p = $1 } END { print m + 0 }' "$T_DIR/a.out")
[ "$gap" -le 1600 ] && pass "longest gap between pings ${gap} ms" || fail "a gap of $gap ms between pings"
grep -q 'STOPPING' "$T_DIR/a.out" && fail "STOPPING before SIGTERM"
stop_junction && pass "SIGTERM: exit 0" || fail "exit status"
wait_for 2 grep -q 'STOPPING=1|STATUS=draining' "$T_DIR/a.out" && pass "STOPPING=1 with STATUS=draining at SIGTERM" ||
	fail "no STOPPING=1: $(tail -n 3 "$T_DIR/a.out")"

# 2. The database down at start: not ready until it is reachable.
pg_stop
listen b
run_node b
wait_for 10 grep -q 'STATUS=waiting for the database' "$T_DIR/b.out" && pass "STATUS=waiting for the database" ||
	fail "no waiting status: $(cat "$T_DIR/b.out")"
sleep 2
grep -q READY=1 "$T_DIR/b.out" && fail "READY=1 without the database" || pass "no READY=1 while the database is down"
pg_restart || fail "postgres restart"
t_up=$(now_ms)
wait_for 15 grep -q 'READY=1' "$T_DIR/b.out" && pass "READY=1 $(($(now_ms) - t_up)) ms after PostgreSQL came back" ||
	fail "no READY=1 after the database came back"
grep -q WATCHDOG "$T_DIR/b.out" && fail "watchdog pings without WATCHDOG_USEC" || pass "no pings without WATCHDOG_USEC"
stop_junction || fail "exit status (b)"

# 3. WATCHDOG_PID names another process: the watchdog is not ours.
listen c
run_node c WATCHDOG_USEC=1000000 WATCHDOG_PID=1
wait_for 10 grep -q 'READY=1' "$T_DIR/c.out" || fail "no READY=1 (c)"
sleep 2
grep -q WATCHDOG "$T_DIR/c.out" && fail "pings for another process's watchdog" || pass "WATCHDOG_PID of another process: no pings"
stop_junction || fail "exit status (c)"

# 4. A relative socket path is not a notification socket: the node starts
# as usual and sends nothing.
listen d
(cd "$T_DIR" && exec env NOTIFY_SOCKET=d.sock "$JUNCTION" -c "$T_DIR/junction.conf" >>"$T_DIR/junction.log" 2>&1) &
JCT_PID=$!
T_PIDS+=("$JCT_PID")
wait_for 10 answers "$PORT" || fail "no start with a relative NOTIFY_SOCKET"
sleep 1
[ ! -s "$T_DIR/d.out" ] && pass "relative NOTIFY_SOCKET: nothing sent" || fail "sent to a relative path: $(cat "$T_DIR/d.out")"
stop_junction || fail "exit status (d)"
t_done
