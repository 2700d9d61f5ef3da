# Waiting helpers, sourced by lib.sh and by bench/failover.sh (which
# cannot source lib.sh: it makes a test directory and sets traps).

# Milliseconds since the epoch.
now_ms() { date +%s%3N; }

# wait_for SECONDS CMD...: runs CMD every 0.1 s until it succeeds (0) or
# SECONDS (may be fractional) have passed (1). For waiting on a condition
# (a log line, a row, a port, a process gone) instead of a fixed sleep.
wait_for() {
	local end
	end=$(($(now_ms) + $(awk -v s="$1" 'BEGIN { printf "%d", s * 1000 }')))
	shift
	while :; do
		"$@" && return 0
		[ "$(now_ms)" -ge "$end" ] && return 1
		sleep 0.1
	done
}
