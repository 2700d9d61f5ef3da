# Helpers of the cluster tests (cluster.sh, cluster_failover.sh), sourced
# after lib.sh and pg.sh: one PostgreSQL, Junction nodes n1..n3 on
# 127.0.0.2..4 (one port, NPORT, UDP and TCP, the same for all), Session
# Controllers (SCs) played by SIPp (scenarios/sc_uas.xml, -aa answers the
# OPTIONS probes) on 127.0.1.x:SCPORT, endpoints played by SIPp and sipsak
# on 127.0.2.x.
#
# Which SC got which INVITE comes from the SCs' SIPp message logs
# (-trace_msg: SIPp 3.6 writes each message out as it comes, so the log
# can be read while SIPp runs and is whole even after SIGKILL): every run
# of calls has a Call-ID label of its own (SIPp -cid_str LABEL-%u-%p@%s,
# %s the endpoint's address), and the topmost Via of each relayed INVITE
# names the node it came through. SIPp -aa answers an OPTIONS also when
# it is the first message of a new Call-ID (the probes); the call SIPp
# opens for it waits for an INVITE until SIPp ends, a few bytes a probe.
#
#   cl_setup                   PostgreSQL, schema, subscriber alice@cc.test,
#                              NPORT, SCPORT; ends the test on failure
#                              (CL_AUTH_EXTRA: the [auth] lines, default
#                              "invite = yes")
#   cl_pool                    the servers of the SC_* tables, by SQL
#   cl_node_start NAME [LINE]  a node (n1..n4) with its own config and log
#                              (CL_LISTEN_EXTRA: more listeners, @IP@ the
#                              node's address);
#                              LINEs ("[section]" or "key = value") are
#                              appended (a later key of the same name is an
#                              error in Junction: use CL_CLUSTER / CL_ROUTING
#                              for the keys of [cluster] and [routing])
#   cl_node_stop NAME          SIGTERM, exit status 0
#   sc_start NAME / sc_stop NAME [hole]
#                              (SC_SCEN: another scenario than sc_uas.xml,
#                              SC_OPTS: more SIPp options)
#                              a SC's SIPp up / SIGKILLed (hole: a silent
#                              socket on its address takes its place and logs
#                              what still comes, answering nothing)
#   ep_calls LABEL NODE N RATE [SIPp options]
#                              N calls (ep_uac.xml) at RATE/s from the
#                              endpoint address of NODE through NODE, in the
#                              background (pid in EP_PID[LABEL])
#   ep_wait LABEL              waits for it; EP_OK, EP_FAILED: its calls
#   calls_each CHECK LABEL N RATE [SIPp options]
#                              N calls through each of n1..n3 (runs
#                              LABEL<node>), waited for: a run that does not
#                              complete them all fails CHECK
#   cl_msgs                    parses every SC log into $T_DIR/msgs.txt
#   inv_count SC LABEL [NODE]  distinct INVITEs (Call-IDs) of run LABEL
#                              (a regex on the Call-ID) that reached SC,
#                              through NODE when given (after cl_msgs)
#   cl_states                  "node server state" of sip_server_status
#   cl_wait_states SECONDS SPEC...
#                              waits until every SPEC holds: SERVER=STATE
#                              on every node (n1..n3), NODE:SERVER=STATE on one

CL_DOMAIN=cc.test
CL_RR_HOST=cluster.test
declare -A NODE_IP=([n1]=127.0.0.2 [n2]=127.0.0.3 [n3]=127.0.0.4 [n4]=127.0.0.5)
# the endpoint address used with each node
declare -A EP_IP=([n1]=127.0.2.1 [n2]=127.0.2.2 [n3]=127.0.2.3 [n4]=127.0.2.4)
declare -A NODE_PID=()
# the pool: address, data centre, HA pair, role, weight of each SC; a
# test fills SC_WEIGHT as it needs and may add servers before cl_pool
declare -A SC_IP=([sc1a]=127.0.1.1 [sc1b]=127.0.1.2 [sc2a]=127.0.1.3 [sc2b]=127.0.1.4
	[sc3a]=127.0.1.5 [sc3b]=127.0.1.6 [sc7]=127.0.1.7)
declare -A SC_GEO=([sc1a]=dc1 [sc1b]=dc1 [sc2a]=dc1 [sc2b]=dc1 [sc3a]=dc2 [sc3b]=dc2)
declare -A SC_PAIR=([sc1a]=p1 [sc1b]=p1 [sc2a]=p2 [sc2b]=p2 [sc3a]=p3 [sc3b]=p3)
declare -A SC_ROLE=([sc1a]=primary [sc1b]=backup [sc2a]=primary [sc2b]=backup [sc3a]=primary [sc3b]=backup)
declare -A SC_WEIGHT=([sc1a]=100 [sc1b]=100 [sc2a]=100 [sc2b]=100 [sc3a]=100 [sc3b]=100)
declare -A SC_PID=() SC_GEN=() SC_HOLE=()
SC_OPTS=()
declare -A EP_PID=()
CL_SERVERS="sc1a sc1b sc2a sc2b sc3a sc3b"
CL_NODES="n1 n2 n3"

# The [cluster] and [routing] keys of every node; a test may change them
# before cl_node_start.
CL_CLUSTER="geo_location = dc1
geo_fallback = dc2
oos_check = 2
oos_force = 1
record_route = $CL_RR_HOST
alive_codes = any"
CL_ROUTING="session_controllers = yes"

# drop PID from T_PIDS (the whole entry, never a part of another one)
t_forget() {
	local keep=() p
	for p in "${T_PIDS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
	T_PIDS=("${keep[@]}")
}

now() { date +%s.%N; }

# sleep_until TIME: sleeps until TIME (seconds since the epoch, as now)
sleep_until() {
	sleep "$(awk -v t="$1" -v n="$(now)" 'BEGIN { d = t - n; printf "%.3f", (d > 0 ? d : 0) }')"
}

# fle A B: A <= B, as numbers with decimals
fle() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 <= b + 0) }'; }

# wait_udp IP PORT: until something listens there (5 s at most)
wait_udp() {
	for _ in $(seq 50); do
		ss -Hlnu "src $1:$2" 2>/dev/null | grep -q . && return 0
		sleep 0.1
	done
	return 1
}

cl_setup() {
	# below 10000: sipsak writes a port of five digits into its own
	# headers cut to four, and it talks to the nodes
	NPORT=$(free_port 5100 4900)
	SCPORT=$(free_port)
	mkdir -p "$T_DIR/sc"
	# the config junction --migrate reads; the nodes' own configs share
	# its [database], [auth] and [registrar] sections
	write_config "$NPORT"
	pg_start || { fail "postgres"; t_done; }
	AUTH_EXTRA="${CL_AUTH_EXTRA-invite = yes}" pg_config
	sed -n '/^\[database\]/,$p' "$T_DIR/junction.conf" >"$T_DIR/shared.conf"
	pg_migrate >"$T_DIR/migrate.log" 2>&1 || { cat "$T_DIR/migrate.log" >&2; fail "migrate"; t_done; }
	psql_q "SELECT junction_add_subscriber('alice', '$CL_DOMAIN', 'alice-pw-1')" >/dev/null ||
		{ fail "subscriber"; t_done; }
}

# the servers named (default CL_SERVERS) into sip_server
cl_pool() {
	local s sql=""
	for s in ${1:-$CL_SERVERS}; do
		sql+="SELECT junction_add_sip_server('$s', 'sip:${SC_IP[$s]}:$SCPORT', '${SC_GEO[$s]}', '${SC_PAIR[$s]:-}', '${SC_ROLE[$s]:-primary}', ${SC_WEIGHT[$s]:-100});"
	done
	psql_q "$sql" >/dev/null || { fail "pool"; t_done; }
}

cl_node_conf() {
	local name=$1 ip=${NODE_IP[$1]}
	shift
	mkdir -p "$T_DIR/$name"
	{
		cat <<CONF
[sip]
listen = udp:$ip:$NPORT tcp:$ip:$NPORT${CL_LISTEN_EXTRA:+ ${CL_LISTEN_EXTRA//@IP@/$ip}}
domain = $CL_DOMAIN
workers = 2
mode = stateful
record_route = yes

[security]
trusted = 127.0.0.0/8

[log]
level = ${LOG_LEVEL:-info}
target = stderr

[node]
name = $name

CONF
		# (an empty CL_CLUSTER / CL_ROUTING leaves the section out)
		[ -n "$CL_CLUSTER" ] && printf '[cluster]\n%s\n\n' "$CL_CLUSTER"
		[ -n "$CL_ROUTING" ] && printf '[routing]\n%s\n\n' "$CL_ROUTING"
		cat "$T_DIR/shared.conf"
		[ $# -gt 0 ] && printf '%s\n' "$@"
	} >"$T_DIR/$name/junction.conf"
}

# cl_node_start NAME [LINE...]: starts node NAME, waits until it answers
# OPTIONS (up to 10 s); ends the test when it does not
cl_node_start() {
	local name=$1 ip=${NODE_IP[$1]} pid
	cl_node_conf "$@"
	"$JUNCTION" -c "$T_DIR/$name/junction.conf" >>"$T_DIR/$name/junction.log" 2>&1 &
	pid=$!
	T_PIDS+=("$pid")
	NODE_PID[$name]=$pid
	for _ in $(seq 100); do
		if options_msg "$ip" "$NPORT" | "$SIPSEND" -q -w 100 udp "$ip" "$NPORT" - >/dev/null 2>&1; then
			return 0
		fi
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	fail "node $name did not start"
	tail -n 20 "$T_DIR/$name/junction.log" >&2
	t_done
}

cl_node_stop() {
	local name=$1 pid=${NODE_PID[$1]} rc
	kill -TERM "$pid"
	wait "$pid"
	rc=$?
	t_forget "$pid"
	unset "NODE_PID[$name]"
	[ "$rc" -eq 0 ] && pass "node $name: SIGTERM exit 0" || fail "node $name: exit status $rc"
}

# Sanitizer reports in any node's log fail the test; on failure the end
# of each log goes to stderr.
cl_done() {
	local d
	for d in "$T_DIR"/n[0-9]; do
		[ -f "$d/junction.log" ] || continue
		if grep -Eq "ERROR: (Address|Leak|Thread)Sanitizer|runtime error:" "$d/junction.log"; then
			fail "sanitizer report in $(basename "$d")/junction.log"
		fi
		if [ "$T_FAILS" -ne 0 ]; then
			echo "---- $(basename "$d")/junction.log (end)" >&2
			tail -n 25 "$d/junction.log" >&2
		fi
	done
	t_done
}

# sc_start NAME: the SC's SIPp (a new message log per start), waits until
# it answers an OPTIONS
sc_start() {
	local name=$1 ip=${SC_IP[$1]} gen=$((${SC_GEN[$1]:-0} + 1)) pid
	SC_GEN[$name]=$gen
	sipp -sf "$SCEN/${SC_SCEN:-sc_uas.xml}" -i "$ip" -p "$SCPORT" -aa -nostdin "${SC_OPTS[@]}" \
		-trace_msg -message_file "$T_DIR/sc/$name.$gen.msg" \
		-trace_err -error_file "$T_DIR/sc/$name.$gen.err" \
		>"$T_DIR/sc/$name.$gen.out" 2>&1 &
	pid=$!
	T_PIDS+=("$pid")
	SC_PID[$name]=$pid
	for _ in $(seq 50); do
		options_msg "$ip" "$SCPORT" | "$SIPSEND" -q -w 100 udp "$ip" "$SCPORT" - >/dev/null 2>&1 && return 0
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	fail "SC $name did not start"
	cat "$T_DIR/sc/$name.$gen.out" >&2
	t_done
}

# sc_stop NAME [hole]: the SC stops at once (SIGKILL: no goodbye); with
# "hole" a socket bound to its address logs whatever still comes there
# and answers nothing, like a server that hangs
sc_stop() {
	local name=$1 pid=${SC_PID[$1]}
	kill -KILL "$pid"
	wait "$pid" 2>/dev/null
	t_forget "$pid"
	unset "SC_PID[$name]"
	if [ "${2:-}" = hole ]; then
		"$SIPSEND" -l -v -a "${SC_IP[$name]}" -b "$SCPORT" -w 600000 udp "${SC_IP[$name]}" "$SCPORT" /dev/null \
			>"$T_DIR/sc/$name.${SC_GEN[$name]}.hole" 2>&1 &
		SC_HOLE[$name]=$!
		T_PIDS+=("$!")
	fi
}

# the silent socket of sc_stop NAME hole goes away
sc_unhole() {
	local pid=${SC_HOLE[$1]:-}
	[ -n "$pid" ] || return 0
	kill -TERM "$pid"
	wait "$pid" 2>/dev/null
	t_forget "$pid"
	unset "SC_HOLE[$1]"
}

# ep_calls LABEL NODE N RATE [SIPp options]: N endpoint calls through
# NODE in the background; the Call-IDs are LABEL-NUMBER-PID@ENDPOINT
ep_calls() {
	local label=$1 node=$2 n=$3 rate=$4
	shift 4
	timeout 120 sipp -sf "$SCEN/ep_uac.xml" -s svc -i "${EP_IP[$node]}" -p "$(free_port)" \
		-rsa "${NODE_IP[$node]}:$NPORT" -m "$n" -r "$rate" -nostdin -timeout 60s -timeout_error \
		-cid_str "$label-%u-%p@%s" "$@" \
		-trace_stat -stf "$T_DIR/$label.csv" -trace_err -error_file "$T_DIR/$label.err" \
		"${NODE_IP[$node]}:$NPORT" >"$T_DIR/$label.out" 2>&1 &
	EP_PID[$label]=$!
	T_PIDS+=("$!")
}

# ep_wait LABEL: waits for the run; EP_OK and EP_FAILED are its
# successful and failed calls (SIPp's final statistics, fields 16 and 18;
# "x" when there are none). Not in a subshell: wait needs the child.
ep_wait() {
	local label=$1 pid=${EP_PID[$1]}
	wait "$pid"
	t_forget "$pid"
	EP_OK=$(tail -n 1 "$T_DIR/$label.csv" 2>/dev/null | cut -d';' -f16)
	EP_FAILED=$(tail -n 1 "$T_DIR/$label.csv" 2>/dev/null | cut -d';' -f18)
	: "${EP_OK:=x}" "${EP_FAILED:=x}"
}

calls_each() {
	local check=$1 label=$2 calls=$3 rate=$4 n
	shift 4
	for n in $CL_NODES; do ep_calls "$label$n" "$n" "$calls" "$rate" "$@"; done
	for n in $CL_NODES; do
		ep_wait "$label$n"
		[ "$EP_OK" = "$calls" ] && [ "$EP_FAILED" = 0 ] ||
			fail "$check: $label$n: successful=$EP_OK failed=$EP_FAILED of $calls"
	done
}

# cl_msgs: every request the SCs (and the holes in their place) got, one
# line each in $T_DIR/msgs.txt: SC SOURCE METHOD TIME VIA-HOST CALL-ID RR R-URI,
# SC being NAME~hole for what came to the hole in NAME's place, SOURCE
# the log (N.msg for the Nth start, N.hole), TIME in seconds since the
# epoch (0 for a hole, which keeps no time),
# VIA-HOST the host of the topmost Via (the node that sent it), RR the
# first Record-Route value ("-" when there is none)
cl_msgs() {
	local f base sc
	: >"$T_DIR/msgs.txt"
	for f in "$T_DIR"/sc/*.msg "$T_DIR"/sc/*.hole; do
		[ -f "$f" ] || continue
		base=$(basename "$f")
		sc=${base%%.*}
		[[ $base == *.hole ]] && sc+="~hole"
		awk -v sc="$sc" -v src="${base#*.}" '
			function out() { if (method != "") print sc, src, method, ts, via, cid, rr, ruri; method = "" }
			{ sub(/\r$/, "") }
			/^-------------------------------------------+ [0-9]+-[0-9]+-[0-9]+ / {
				out()
				split($2, d, "-"); split($3, t, ":")
				ts = sprintf("%.6f", mktime(d[1] " " d[2] " " d[3] " " t[1] " " t[2] " " int(t[3])) + (t[3] - int(t[3])))
				inbound = 0
				next
			}
			/ message received / { out(); inbound = 1; next }
			/ message sent / { out(); inbound = 0; next }
			/^----$/ { out(); inbound = 1; ts = 0; next }
			method == "" && (inbound || src ~ /hole$/) && /^[A-Z]+ [^ ]+ SIP\/2\.0$/ {
				method = $1; ruri = $2; via = ""; cid = ""; rr = "-"; next
			}
			method != "" && via == "" && tolower($0) ~ /^(via|v)[ \t]*:/ {
				v = $0; sub(/^[^:]*:[ \t]*/, "", v)
				split(v, a, /[ \t]+/); h = a[2]; sub(/[;,].*/, "", h); sub(/:[0-9]+$/, "", h)
				via = h; next
			}
			method != "" && tolower($0) ~ /^(call-id|i)[ \t]*:/ {
				cid = $0; sub(/^[^:]*:[ \t]*/, "", cid); sub(/[ \t]+$/, "", cid); next
			}
			method != "" && rr == "-" && tolower($0) ~ /^record-route[ \t]*:/ {
				rr = $0; sub(/^[^:]*:[ \t]*/, "", rr); sub(/[ \t]+$/, "", rr); next
			}
			method != "" && $0 == "" { out() }
			END { out() }' "$f" >>"$T_DIR/msgs.txt"
	done
}

# inv_count SC LABEL [NODE]: distinct Call-IDs of INVITEs of run LABEL at
# SC (through NODE); SC "*" counts them at every SC
inv_count() {
	local sc=$1 label=$2 via=${3:+${NODE_IP[$3]}}
	awk -v sc="$sc" -v re="^$label-" -v via="$via" '
		$3 == "INVITE" && (sc == "*" || $1 == sc) && $6 ~ re && (via == "" || $5 == via) && !seen[$6]++ { n++ }
		END { print n + 0 }' "$T_DIR/msgs.txt"
}

# inv_first SC LABEL [NODE]: the earliest time an INVITE of LABEL reached
# SC (through NODE), or nothing
inv_first() {
	local sc=$1 label=$2 via=${3:+${NODE_IP[$3]}}
	awk -v sc="$sc" -v re="^$label-" -v via="$via" '
		$3 == "INVITE" && $1 == sc && $6 ~ re && (via == "" || $5 == via) && $4 > 0 && (t == "" || $4 < t) { t = $4 }
		END { if (t != "") print t }' "$T_DIR/msgs.txt"
}

# opt_from SC [AFTER]: the distinct Via hosts of OPTIONS that reached SC
# (at or after time AFTER), sorted, on one line
opt_from() {
	awk -v sc="$1" -v after="${2:-0}" '$1 == sc && $3 == "OPTIONS" && $4 >= after { print $5 }' "$T_DIR/msgs.txt" |
		sort -u | tr '\n' ' ' | sed 's/ $//'
}

cl_states() {
	psql_q "SELECT node || ' ' || server || ' ' || state FROM sip_server_status ORDER BY node, server"
}

# cl_wait_states SECONDS SPEC...: SPEC is SERVER=STATE (on n1, n2 and n3)
# or NODE:SERVER=STATE; 0 once all hold, 1 (and the states on stderr)
# when they do not within SECONDS
cl_wait_states() {
	local secs=$1 want=() s n
	shift
	for s in "$@"; do
		if [[ $s == *:* ]]; then
			want+=("${s%%:*} ${s#*:}")
		else
			for n in $CL_NODES; do want+=("$n $s"); done
		fi
	done
	local end=$(($(date +%s%N) / 1000000 + secs * 1000)) ok w
	while :; do
		cl_states >"$T_DIR/states.txt"
		ok=1
		for w in "${want[@]}"; do
			grep -qx "${w/=/ }" "$T_DIR/states.txt" || { ok=0; break; }
		done
		[ $ok = 1 ] && return 0
		[ $(($(date +%s%N) / 1000000)) -lt $end ] || break
		sleep 0.1
	done
	log "sip_server_status:"
	tr '\n' ';' <"$T_DIR/states.txt" >&2
	echo >&2
	return 1
}

# inv_summary LABEL: where the INVITEs of run LABEL went, "sc=count ..."
inv_summary() {
	awk -v re="^$1-" '$3 == "INVITE" && $6 ~ re && !seen[$1 " " $6]++ { n[$1]++ }
		END { for (s in n) printf "%s=%d ", s, n[s] }' "$T_DIR/msgs.txt" | tr ' ' '\n' | sort | tr '\n' ' ' | sed 's/ $//'
}
