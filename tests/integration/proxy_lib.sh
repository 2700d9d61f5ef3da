# Helpers of the proxy tests (sourced after lib.sh and pg.sh): registering
# contacts over UDP, SIPp UACs and UASes, checking SIPp's
# statistics. They read PORT, CALLS, SCEN, SIPSEND, T_DIR and T_PIDS of the
# test at the time they run.

# register USER CONTACT [Q]: one REGISTER (its own Call-ID) for USER@localhost
register() {
	printf 'REGISTER sip:localhost SIP/2.0\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKreg%s;rport\nMax-Forwards: 70\nFrom: <sip:%s@localhost>;tag=%s\nTo: <sip:%s@localhost>\nCall-ID: reg-%s-%s\nCSeq: 1 REGISTER\nContact: <%s>%s\nExpires: 600\nContent-Length: 0\n\n' \
		"$RANDOM$RANDOM" "$1" "$RANDOM" "$1" "$RANDOM" "$RANDOM" "$2" "${3:+;q=$3}" |
		"$SIPSEND" -P udp 127.0.0.1 "$PORT" - | grep -q "^SIP/2.0 200" &&
		pass "registered $1 -> $2${3:+ q=$3}" || fail "REGISTER $1 -> $2"
}

# uas NAME SCENARIO PORT [SIPp options]: a SIPp UAS in the background,
# its PID in NAME_PID; returns once it listens on PORT (over TCP with
# -t t1/tn, else UDP), or fails the test after 5 s
uas() {
	local name=$1 sf=$2 port=$3 tp=udp a prev=
	shift 3
	for a in "$@"; do
		[ "$prev" = -t ] && case $a in t*) tp=tcp ;; esac
		prev=$a
	done
	sipp -sf "$SCEN/$sf" -i 127.0.0.1 -p "$port" -nostdin "$@" \
		-trace_stat -stf "$T_DIR/$name.csv" -trace_err -error_file "$T_DIR/$name.err" \
		>"$T_DIR/$name.out" 2>&1 &
	T_PIDS+=("$!")
	printf -v "${name}_PID" %s "$!"
	wait_for 5 bound "$tp" "$port" || { fail "$name: SIPp not listening on $tp port $port"; tail -n 5 "$T_DIR/$name.out" >&2; }
}

# csv_check NAME RC [N]: SIPp's exit status and its final statistics line
# (field 16 SuccessfulCall(C), field 18 FailedCall(C)): N (default CALLS)
# calls, none failed
csv_check() {
	local name=$1 rc=$2 n=${3:-$CALLS} ok failed
	ok=$(tail -n 1 "$T_DIR/$name.csv" 2>/dev/null | cut -d';' -f16)
	failed=$(tail -n 1 "$T_DIR/$name.csv" 2>/dev/null | cut -d';' -f18)
	if [ "$rc" -eq 0 ] && [ "$ok" = "$n" ] && [ "$failed" = 0 ]; then
		pass "$name: $n calls, 0 failed"
	else
		fail "$name: rc=$rc successful=$ok failed=$failed"
		tail -c 1500 "$T_DIR/$name.err" >&2 2>/dev/null
		echo >&2
	fi
}

# uac NAME SCENARIO SERVICE [SIPp options]: CALLS calls from a SIPp UAC to
# sip:SERVICE@localhost through Junction (options give the rate), then
# checked with csv_check
uac() {
	local name=$1 sf=$2 svc=$3
	shift 3
	timeout 60 sipp -sf "$SCEN/$sf" -s "$svc" -i 127.0.0.1 -p "$(free_port)" -rsa "127.0.0.1:$PORT" \
		-m "$CALLS" -nostdin -timeout 40s -timeout_error "$@" \
		-trace_stat -stf "$T_DIR/$name.csv" -trace_err -error_file "$T_DIR/$name.err" \
		"127.0.0.1:$PORT" >"$T_DIR/$name.out" 2>&1
	csv_check "$name" $?
}

# uas_wait NAME [N]: waits (up to 10 s) for a UAS to finish its N (default
# CALLS) calls, then checks it
uas_wait() {
	local pid_var=${1}_PID rc
	local pid=${!pid_var}
	for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	kill -0 "$pid" 2>/dev/null && kill -TERM "$pid"
	wait "$pid"
	rc=$?
	csv_check "$1" "$rc" "${2:-}"
}

# listener NAME PORT: a bare UDP socket on PORT printing the first line of
# whatever arrives to $T_DIR/NAME.out (for 60 s at most)
listener() {
	"$SIPSEND" -l -b "$2" -w 60000 udp 127.0.0.1 "$2" /dev/null >"$T_DIR/$1.out" 2>&1 &
	T_PIDS+=("$!")
	printf -v "${1}_PID" %s "$!"
	wait_for 5 bound udp "$2" || fail "listener $1 not bound on port $2"
}

# proxy_daemon [LINE...]: a stateful, record-routing Junction on a new PORT
# with its own PostgreSQL (no authentication), each LINE (e.g. "t1 = 50")
# in its [transaction] section; ends the test on failure
proxy_daemon() {
	PORT=$(free_port)
	SIP_EXTRA="record_route = yes" write_config "$PORT"
	pg_start || { fail "postgres"; t_done; }
	AUTH_MODE=none pg_config
	[ $# -gt 0 ] && { printf '\n[transaction]\n' && printf '%s\n' "$@"; } >>"$T_DIR/junction.conf"
	pg_migrate >/dev/null || { fail "migrate"; t_done; }
	start_junction "$PORT" || { fail "start"; t_done; }
}
