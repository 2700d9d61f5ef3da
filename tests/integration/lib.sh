# Shared helpers for the integration tests (sourced, not run).
#
# Each test runs in its own temporary directory, on ports nobody else
# uses, and cleans up everything it started on exit, pass or fail.
# Environment from `make check`: JUNCTION (the built daemon), TOP_SRCDIR,
# TOP_BUILDDIR.

set -u
shopt -s lastpipe # `cmd | check` runs check here, so its failures count

: "${TOP_SRCDIR:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
: "${TOP_BUILDDIR:=$TOP_SRCDIR}"
: "${JUNCTION:=$TOP_BUILDDIR/src/junction}"
SIPSEND="$TOP_BUILDDIR/tests/integration/sipsend"
SCEN="$TOP_SRCDIR/tests/integration/scenarios"

T_DIR=$(mktemp -d "${TMPDIR:-/tmp}/jct-test.XXXXXX")
T_PIDS=()
T_FAILS=0
T_NAME=$(basename "$0" .sh)

t_cleanup() {
	local pid
	for pid in "${T_PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	for pid in "${T_PIDS[@]}"; do
		# bounded wait, then force
		for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$pid" 2>/dev/null || true
	done
	[ -n "${T_CLEANUP_HOOK:-}" ] && $T_CLEANUP_HOOK
	t_release_ports
	if [ "$T_FAILS" -eq 0 ] && [ -z "${KEEP_TEST_DIR:-}" ]; then
		rm -rf "$T_DIR"
	else
		echo "test files kept in $T_DIR" >&2
	fi
}
trap t_cleanup EXIT
trap 'exit 1' INT TERM

log() { echo "[$T_NAME] $*" >&2; }

fail() {
	log "FAIL: $*"
	T_FAILS=$((T_FAILS + 1))
}

pass() { log "ok: $*"; }

# Ends the test: 0 when nothing failed. A sanitizer report in the
# daemon's log is a failure even when every check passed.
t_done() {
	if [ -f "$T_DIR/junction.log" ] && grep -Eq "ERROR: (Address|Leak|Thread)Sanitizer|runtime error:" "$T_DIR/junction.log"; then
		fail "sanitizer report in junction.log"
	fi
	if [ "$T_FAILS" -ne 0 ]; then
		log "$T_FAILS check(s) failed"
		[ -f "$T_DIR/junction.log" ] && tail -n 40 "$T_DIR/junction.log" >&2
		exit 1
	fi
	exit 0
}

# skip WHY: ends the test as skipped (exit 77, automake's SKIP); under
# CI=true a failure (exit 1) instead, never a skip.
skip() {
	[ "${CI:-}" = true ] && { log "FAIL: $* (CI=true: no skipping)"; exit 1; }
	log "SKIP: $*"
	exit 77
}

# Skip (see skip) when a tool is missing.
need() {
	local t
	for t in "$@"; do
		command -v "$t" >/dev/null 2>&1 || skip "$t not installed"
	done
}

# bound udp|tcp PORT: something listens on PORT (for wait_for after
# starting a SIPp UAS or a listener in the background).
bound() {
	if [ "$1" = tcp ]; then
		ss -Hlnt "sport = :$2" 2>/dev/null | grep -q .
	else
		ss -Hlnu "sport = :$2" 2>/dev/null | grep -q .
	fi
}

. "$(dirname "${BASH_SOURCE[0]}")/wait_lib.sh" # now_ms, wait_for

# first_status < output: the status code of the first final (>= 200) SIP
# response in what sipsend -v or sipsak -vv printed; "none" when none.
first_status() {
	local c
	c=$(tr -d '\r' | grep -oE 'SIP/2\.0 [2-6][0-9]{2}( |$)' | head -n 1 | cut -d' ' -f2)
	echo "${c:-none}"
}

# last_status < output: the status code of the last response in it
# (sipsak -vv prints every request and response of a cycle); "none".
last_status() {
	local c
	c=$(tr -d '\r' | grep -oE '^SIP/2\.0 [1-6][0-9]{2}( |$)' | tail -n 1 | cut -d' ' -f2)
	echo "${c:-none}"
}

# expect_status CODE WHAT CMD...: runs CMD (which prints SIP messages:
# sipsend, sipsak -vv) and passes only when the first final response has
# status CODE (an egrep alternative such as '400|513' is allowed). No
# answer, a crash or a tool error is a failure, never a pass. The output
# stays in $T_DIR/expect.out.
expect_status() {
	local want=$1 what=$2 got
	shift 2
	"$@" >"$T_DIR/expect.out" 2>&1
	got=$(first_status <"$T_DIR/expect.out")
	if [[ $got =~ ^($want)$ ]]; then
		pass "$what: $got"
	else
		fail "$what: expected $want, got $got"
		head -n 20 "$T_DIR/expect.out" >&2
		return 1
	fi
}

# answers PORT [HOST [TRANSPORT]]: the daemon is alive ($JCT_PID, when
# set) and answers an OPTIONS to itself with 200.
answers() {
	local port=$1 host=${2:-127.0.0.1} tp=${3:-udp}
	[ -z "${JCT_PID:-}" ] || kill -0 "$JCT_PID" 2>/dev/null || return 1
	options_msg "$host" "$port" | "$SIPSEND" -w 2000 "$tp" "$host" "$port" - 2>/dev/null | grep -q '^SIP/2.0 200 '
}

# log_mark [FILE]: remembers how long the daemon's log is now;
# log_since PATTERN [FILE]: a line matching PATTERN (egrep) was written
# after the mark. With wait_for: `wait_for 2 log_since 'event=x'`.
log_mark() { T_LOG_MARK=$(wc -c <"${1:-$T_DIR/junction.log}"); }
log_since() { tail -c +$((${T_LOG_MARK:-0} + 1)) "${2:-$T_DIR/junction.log}" | grep -Eq -- "$1"; }

# expect_dropped PORT PATTERN WHAT CMD...: CMD sends a message the daemon
# must drop without an answer (sipsend -n, which exits 0 on silence).
# Silence alone could be a crash, so this also needs the drop logged (a
# line matching PATTERN after the message; an empty PATTERN where the
# daemon logs and counts nothing) and the daemon still answering an
# OPTIONS with 200 afterwards.
expect_dropped() {
	local port=$1 pat=$2 what=$3
	shift 3
	log_mark
	if ! "$@" >"$T_DIR/expect.out" 2>&1; then
		fail "$what: answered ($(first_status <"$T_DIR/expect.out")) or could not send"
		head -n 5 "$T_DIR/expect.out" >&2
		return 1
	fi
	if [ -n "$pat" ] && ! wait_for 2 log_since "$pat"; then
		fail "$what: no answer, but no /$pat/ logged either"
		return 1
	fi
	if ! answers "$port"; then
		fail "$what: the daemon no longer answers"
		return 1
	fi
	pass "$what: dropped (logged, still answering)"
}

# A free port (UDP and TCP) in 12000-31999, or in LOW..LOW+SPAN-1 when
# given: below the ephemeral range (32768 and up on Debian), since a port
# the kernel may meanwhile give to a client socket fails to bind later.
# A port found free is not yet bound: another test running beside this one
# could find it free too and bind it first (CI once failed so). So each
# pick is reserved in T_PORT_DIR, one directory per port made atomically,
# held until this test's cleanup; a reservation another test holds, or
# left by one killed with SIGKILL, is skipped.
#   free_port [LOW SPAN]
T_PORT_DIR=${TMPDIR:-/tmp}/jct-ports
free_port() {
	local p low=${1:-12000} span=${2:-20000}
	mkdir -p "$T_PORT_DIR" 2>/dev/null
	for _ in $(seq 200); do
		p=$((low + (RANDOM * 32768 + RANDOM) % span))
		mkdir "$T_PORT_DIR/$p" 2>/dev/null || continue
		echo $$ >"$T_PORT_DIR/$p/pid" # $$: the test's shell, even in $(...)
		if ! ss -Hlnu "sport = :$p" 2>/dev/null | grep -q . &&
			! ss -Hlnt "sport = :$p" 2>/dev/null | grep -q .; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

# Gives back the ports this test reserved, once what it started is gone.
t_release_ports() {
	local d
	for d in "$T_PORT_DIR"/*/; do
		[ "$(cat "$d/pid" 2>/dev/null)" = "$$" ] && rm -rf "$d"
	done
	return 0
}

# Writes a config for a daemon on $1 (port) to $2 ($T_DIR/junction.conf by
# default): listeners SIP_LISTEN (UDP and TCP on IPv4 and IPv6 loopback
# by default), extra [sip] lines SIP_EXTRA, [security] SECURITY.
write_config() {
	local port=$1 out=${2:-$T_DIR/junction.conf}
	cat >"$out" <<CONF
[sip]
listen = ${SIP_LISTEN:-udp:127.0.0.1:$port tcp:127.0.0.1:$port udp:[::1]:$port tcp:[::1]:$port}
domain = example.com localhost
workers = 2
${SIP_EXTRA:-}

# The tests' own loopback clients may relay and are never rate limited;
# security.sh sets SECURITY to test the default policy.
[security]
${SECURITY:-trusted = 127.0.0.0/8 ::1}

[log]
level = ${LOG_LEVEL:-info}
target = stderr
CONF
}

# Starts the daemon with $T_DIR/junction.conf and waits until it answers
# OPTIONS on 127.0.0.1:$1.
start_junction() {
	local port=$1
	"$JUNCTION" -c "$T_DIR/junction.conf" >>"$T_DIR/junction.log" 2>&1 &
	JCT_PID=$!
	T_PIDS+=("$JCT_PID")
	for _ in $(seq 100); do
		if options_msg 127.0.0.1 "$port" | "$SIPSEND" -q -w 100 udp 127.0.0.1 "$port" - >/dev/null 2>&1; then
			return 0
		fi
		kill -0 "$JCT_PID" 2>/dev/null || { log "junction exited at start"; cat "$T_DIR/junction.log" >&2; return 1; }
		sleep 0.1
	done
	log "junction did not answer on port $port"
	return 1
}

# Stops the daemon with SIGTERM; returns its exit status.
stop_junction() {
	local rc
	kill -TERM "$JCT_PID"
	wait "$JCT_PID"
	rc=$?
	T_PIDS=("${T_PIDS[@]/$JCT_PID/}")
	return $rc
}

# An OPTIONS request for the proxy itself (LF line ends; sipsend turns
# them into CRLF).
options_msg() {
	local host=$1 port=$2 branch=${3:-z9hG4bK$RANDOM$RANDOM}
	local hp=$host${port:+:$port}
	cat <<MSG
OPTIONS sip:$hp SIP/2.0
Via: SIP/2.0/UDP 127.0.0.1:9;branch=$branch;rport
Max-Forwards: 70
From: <sip:probe@example.com>;tag=$RANDOM
To: <sip:$hp>
Call-ID: opt-$RANDOM$RANDOM@test
CSeq: 1 OPTIONS
Content-Length: 0

MSG
}

# Memory (RSS, kB) of a process.
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
