# bench/run's machinery (sourced): the shared PostgreSQL, starting each
# system, one load step, the step-up search, memory, and the report.
# Every process started here is stopped by bench_teardown.

WORK=${BENCH_WORK:-/var/tmp/junction-bench}
RESULTS_DIR=$bench/results
SCEN=$bench/scenarios
TSCEN=$top/tests/integration/scenarios
JPORT=25060
KPORT=25070
UASPORT=25080
# the Session Controller of sc_calls: another address than the UAC's
# (127.0.0.1), since Junction takes a request from the SC's address as
# coming from the SC
SCIP=127.0.0.2
SCPORT=25081
PGPORT=25432
JADMINPORT=25090
PIDS=()

log() { echo "[bench] $*" >&2; }
die() { log "$*"; exit 1; }

as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
psqlq() { psql -X -q -A -t -h 127.0.0.1 -p "$PGPORT" -U postgres -d "$1" -v ON_ERROR_STOP=1 -c "$2"; }

# CPU ticks (1/100 s) used so far by a process and all its descendants.
tree_ticks() {
	local pid=$1 total=0 p
	for p in $pid $(pgrep -P "$pid" 2>/dev/null); do
		[ -r "/proc/$p/stat" ] || continue
		total=$((total + $(awk '{print $14 + $15}' "/proc/$p/stat")))
		if [ "$p" != "$pid" ]; then
			local c
			for c in $(pgrep -P "$p" 2>/dev/null); do
				[ -r "/proc/$c/stat" ] && total=$((total + $(awk '{print $14 + $15}' "/proc/$c/stat")))
			done
		fi
	done
	echo $total
}
udp_rcvbuf_errors() { awk '/^Udp: [0-9]/ {print $6}' /proc/net/snmp; }
# resident and proportional set size (kB) of a process tree
tree_mem() {
	local pid=$1 rss=0 pss=0 p
	for p in $pid $(pgrep -P "$pid" 2>/dev/null); do
		[ -r "/proc/$p/smaps_rollup" ] || continue
		rss=$((rss + $(awk '/^Rss:/ {print $2}' "/proc/$p/smaps_rollup")))
		pss=$((pss + $(awk '/^Pss:/ {print $2}' "/proc/$p/smaps_rollup")))
	done
	echo "$rss $pss"
}

bench_setup() {
	mkdir -p "$WORK" "$RESULTS_DIR"
	"$top/admin/install-deps" || return 1
	local missing=()
	for p in kamailio kamailio-postgres-modules sip-tester tshark; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
	done
	if [ ${#missing[@]} -gt 0 ]; then
		log "installing ${missing[*]}"
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null ||
			return 1
	fi
	# an optimised build of our own, apart from the test builds, from
	# BENCH_SRC (default: this tree; a clean checkout of a commit works too)
	local src=${BENCH_SRC:-$top}
	(cd "$src" && { [ -x configure ] || autoreconf -fi; }) || return 1
	mkdir -p "$WORK/build"
	[ "$(cat "$WORK/build/.src" 2>/dev/null)" != "$src" ] && rm -rf "$WORK/build" && mkdir -p "$WORK/build"
	echo "$src" >"$WORK/build/.src"
	(cd "$WORK/build" && { [ -f Makefile ] || "$src/configure" -q CFLAGS="-O2 -g"; } &&
		make -j"$(nproc)" src/junction >/dev/null) || return 1
	JUNCTION=$WORK/build/src/junction
	cc -O2 -pthread -o "$WORK/sched-floor" "$bench/sched-floor.c" || return 1

	local pgbin
	pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
	PGBIN=$pgbin
	# a server left by an interrupted run goes first
	[ -f "$WORK/pg/data/postmaster.pid" ] &&
		as_pg "$pgbin/pg_ctl" -D "$WORK/pg/data" -m immediate -w stop >/dev/null 2>&1
	rm -rf "$WORK/pg"
	mkdir -p "$WORK/pg"
	[ "$(id -u)" -eq 0 ] && chown postgres "$WORK/pg"
	as_pg "$pgbin/initdb" -D "$WORK/pg/data" -A trust -U postgres >"$WORK/pg/initdb.log" || return 1
	# fsync and synchronous_commit stay on: durability is what is measured
	as_pg "$pgbin/pg_ctl" -D "$WORK/pg/data" -l "$WORK/pg/server.log" -w \
		-o "-k $WORK/pg -p $PGPORT -c listen_addresses=127.0.0.1 -c max_connections=200 -c shared_buffers=256MB" \
		start >/dev/null || return 1
	psqlq postgres "CREATE DATABASE junction" >/dev/null
	psqlq postgres "CREATE DATABASE kamailio" >/dev/null

	# Junction's schema and subscribers
	write_junction_conf auth
	"$JUNCTION" --migrate -c "$WORK/junction.conf" >/dev/null || return 1
	psqlq junction "SELECT count(junction_add_subscriber('u' || i, 'localhost', 'pw' || i))
	                FROM generate_series(1, $USERS) i" >/dev/null
	# Kamailio's (its own scripts), the same subscribers with the same HA1
	local k=/usr/share/kamailio/postgres
	psqlq kamailio "$(cat $k/standard-create.sql $k/auth_db-create.sql $k/usrloc-create.sql)" >/dev/null ||
		return 1
	psqlq kamailio "INSERT INTO subscriber (username, domain, ha1, ha1b)
	                SELECT 'u' || i, 'localhost', md5('u' || i || ':localhost:pw' || i), ''
	                FROM generate_series(1, $USERS) i" >/dev/null
	{
		echo SEQUENTIAL
		for i in $(seq "$USERS"); do echo "u$i;[authentication username=u$i password=pw$i]"; done
	} >"$WORK/users.csv"
	log "PostgreSQL on 127.0.0.1:$PGPORT with $USERS subscribers in each database"
}

# The hypervisor's share of the vCPUs' time so far (steal, /proc/stat):
# "STEAL TOTAL" in ticks, for a difference over the run.
steal_ticks() { awk '/^cpu / {t = 0; for (i = 2; i <= 9; i++) t += $i; print $9, t}' /proc/stat; }

# How late the machine itself wakes a thread, with both cores about a
# quarter and about half busy (bench/sched-floor.c): the latency floor
# under every figure of the run. Sets FLOOR (two result lines).
measure_floor() {
	local s=$((QUICK == 1 ? 2 : 5))
	FLOOR=$("$WORK/sched-floor" "$(nproc)" "$s" 300 && "$WORK/sched-floor" "$(nproc)" "$s" 1000)
	log "scheduler floor: ${FLOOR//$'\n'/; }"
}

bench_teardown() {
	local p
	for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
	sleep 1
	for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; done
	[ -n "${PGBIN:-}" ] && as_pg "$PGBIN/pg_ctl" -D "$WORK/pg/data" -m fast -w stop >/dev/null 2>&1
	return 0
}

# write_junction_conf auth|noauth|sc (sc: routing to a Session Controller)
write_junction_conf() {
	cat >"$WORK/junction.conf" <<CONF
[sip]
listen = udp:127.0.0.1:$JPORT
domain = localhost
record_route = yes
workers = ${JUNCTION_WORKERS:-2}
queue_depth = 65536
[database]
conninfo = host=127.0.0.1 port=$PGPORT dbname=junction user=postgres
connections_per_worker = ${JUNCTION_DB_CONNS:-1}
[auth]
mode = $([ "$1" = auth ] && echo local || echo none)
secret = bench-secret-0123456789abcdef
[registrar]
min_expires = 10
max_contacts = 100
[admin]
listen = 127.0.0.1:$JADMINPORT
token = bench-token-0123456789
[log]
level = warn
CONF
	[ "$1" = sc ] && cat >>"$WORK/junction.conf" <<CONF
[routing]
session_controllers = yes
[cluster]
geo_location = dc1
oos_check = 5
oos_force = 5
CONF
	return 0
}

SYS_PID=""
stop_system() {
	[ -n "$SYS_PID" ] || return 0
	kill -TERM "$SYS_PID" 2>/dev/null
	for _ in $(seq 50); do kill -0 "$SYS_PID" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$SYS_PID" 2>/dev/null
	wait "$SYS_PID" 2>/dev/null
	SYS_PID=""
}

# start_system junction|kamailio auth|noauth: clean bindings, start it
start_system() {
	local sys=$1 variant=$2
	stop_system
	psqlq junction "TRUNCATE binding" >/dev/null
	psqlq kamailio "TRUNCATE location" >/dev/null
	if [ "$sys" = junction ]; then
		write_junction_conf "$variant"
		"$JUNCTION" -c "$WORK/junction.conf" >>"$WORK/junction.log" 2>&1 &
		SYS_PID=$!
		PORT=$JPORT
	else
		# -x fm: the fast allocator operators run in production; the
		# Debian default (qm, with memory debugging) costs Kamailio ~3x
		local defs=(-A "DBURL=\"postgres://postgres@127.0.0.1:$PGPORT/kamailio\"" -A "CHILDREN=${KAMAILIO_CHILDREN:-4}")
		[ "$variant" = auth ] && defs+=(-A WITH_AUTH)
		if [ "$variant" = sc ]; then
			# the dispatcher's one destination: the Session Controller
			echo "1 sip:$SCIP:$SCPORT 0 0" >"$WORK/dispatcher.list"
			defs+=(-A WITH_DISPATCHER -A "DSLIST=\"$WORK/dispatcher.list\"")
		fi
		kamailio -f "$bench/kamailio/kamailio.cfg" -l "udp:127.0.0.1:$KPORT" -DD -E -m 512 -M 32 -x "${KAMAILIO_MEM:-fm}" \
			"${defs[@]}" >>"$WORK/kamailio.log" 2>&1 &
		SYS_PID=$!
		PORT=$KPORT
	fi
	PIDS+=("$SYS_PID")
	for _ in $(seq 50); do
		sipsak -s "sip:localhost" -r "$PORT" >/dev/null 2>&1 && return 0
		sleep 0.2
	done
	log "$sys did not start"
	return 1
}

# The called party for the call scenario, registered as uas@localhost.
start_uas() {
	[ -n "${UAS_PID:-}" ] && kill -0 "$UAS_PID" 2>/dev/null && return 0
	sipp -sf "$TSCEN/uas.xml" -i 127.0.0.1 -p "$UASPORT" -buff_size 4194304 -bg >/dev/null 2>&1
	sleep 0.3
	UAS_PID=$(pgrep -n -f "sipp -sf $TSCEN/uas.xml -i 127.0.0.1 -p $UASPORT")
	PIDS+=("$UAS_PID")
}
register_uas() {
	printf 'REGISTER sip:localhost SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:%s;branch=z9hG4bKbu%s;rport\r\nMax-Forwards: 70\r\nFrom: <sip:uas@localhost>;tag=1\r\nTo: <sip:uas@localhost>\r\nCall-ID: bench-uas-%s\r\nCSeq: 1 REGISTER\r\nContact: <sip:uas@127.0.0.1:%s>\r\nExpires: 3600\r\nContent-Length: 0\r\n\r\n' \
		"$UASPORT" "$RANDOM" "$RANDOM" "$UASPORT" >"$WORK/reg_uas"
	sipsak -f "$WORK/reg_uas" -s "sip:localhost" -r "$PORT" >/dev/null 2>&1 ||
		"$top/build/tests/integration/sipsend" udp 127.0.0.1 "$PORT" "$WORK/reg_uas" >/dev/null 2>&1
}

# The Session Controller of sc_calls: a SIPp UAS on SCIP:SCPORT (-aa: it
# answers the proxies' OPTIONS probes), started afresh for each system.
# In the foreground and in the background of this shell, so that $! is
# SIPp itself (no -bg, no pgrep); its message counts go to SC_COUNTS
# (SIPp names the file after its pid) every second.
SC_PID=""
SC_COUNTS=""
start_sc() {
	local sys=$1
	stop_sc
	if ss -Hlnu "src $SCIP:$SCPORT" 2>/dev/null | grep -q .; then
		log "$SCIP:$SCPORT is taken: no Session Controller"
		return 1
	fi
	rm -f "$WORK"/uas_*_counts.csv
	(cd "$WORK" && exec sipp -sf "$TSCEN/uas.xml" -i "$SCIP" -p "$SCPORT" -aa -nostdin \
		-buff_size 4194304 -trace_counts -fd 1 >/dev/null 2>"$WORK/sc.$sys.err") &
	SC_PID=$!
	SC_COUNTS=$WORK/uas_${SC_PID}_counts.csv
	PIDS+=("$SC_PID")
	for _ in $(seq 50); do
		ss -Hlnu "src $SCIP:$SCPORT" 2>/dev/null | grep -q . && return 0
		kill -0 "$SC_PID" 2>/dev/null || break
		sleep 0.1
	done
	log "the Session Controller (SIPp on $SCIP:$SCPORT) did not start"
	stop_sc
	return 1
}
stop_sc() {
	[ -n "$SC_PID" ] || return 0
	kill -TERM "$SC_PID" 2>/dev/null
	for _ in $(seq 50); do kill -0 "$SC_PID" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$SC_PID" 2>/dev/null
	wait "$SC_PID" 2>/dev/null
	local keep=() p
	for p in "${PIDS[@]}"; do [ "$p" = "$SC_PID" ] || keep+=("$p"); done
	PIDS=("${keep[@]}")
	SC_PID=""
}
# A column of the last line of a SIPp statistics or counts file, by its name.
sipp_stat() {
	awk -F';' -v col="$2" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == col) c = i; next }
		{ v = $c } END { print (c && v != "" ? v : 0) }' "$1" 2>/dev/null || echo 0
}
# The running system routes to the Session Controller: Junction gets it
# in its pool (sip_server, which it reloads on NOTIFY) and must see it
# active (its first OPTIONS probe answered); Kamailio has it from its
# dispatcher list, active from the start.
sc_pool_ready() {
	[ "$1" = junction ] || return 0
	psqlq junction "SELECT junction_del_sip_server('sc1');
	                SELECT junction_add_sip_server('sc1', 'sip:$SCIP:$SCPORT', 'dc1')" >/dev/null ||
		return 1
	for _ in $(seq 100); do
		[ "$(psqlq junction "SELECT state FROM sip_server_status WHERE server = 'sc1'")" = active ] &&
			return 0
		sleep 0.2
	done
	log "junction: the Session Controller sc1 did not become active"
	return 1
}
# What reached the Session Controller over sys's run, for the report
# (SC_SEEN[sys]): the INVITEs SIPp took and the BYEs it answered (the
# steps' calls, every one of them when no step failed), and, from
# Junction, its own count of requests sent to a Session Controller.
declare -A SC_SEEN
sc_count() {
	local sys=$1 inv bye sent=""
	sleep 1.5 # SIPp writes its counts every second
	inv=$(sipp_stat "$SC_COUNTS" 0_INVITE_Recv)
	bye=$(sipp_stat "$SC_COUNTS" 6_200_Sent)
	[ "$sys" = junction ] &&
		sent=$(curl -s "http://127.0.0.1:$JADMINPORT/metrics" |
			awk '$1 == "junction_session_controller_requests_total" { print $2 }')
	SC_SEEN[$sys]="$inv INVITEs, $bye BYEs answered${sent:+ (the node counted $sent requests sent to it)}"
	log "$sys sc_calls: the Session Controller took ${SC_SEEN[$sys]}"
}

# The SIPp command line of a scenario at a rate, for a number of calls.
sipp_cmd() {
	local sc=$1 rate=$2 calls=$3
	local common=(-i 127.0.0.1 -r "$rate" -m "$calls" -l $((rate * 4 + 100)) -nostdin -buff_size 4194304
		-timeout $((STEP_S + 30))s -trace_stat -stf stat.csv -fd 1 ${SIPP_EXTRA:-})
	case $sc in
	options) echo sipp -sf "$SCEN/options.xml" "${common[@]}" "127.0.0.1:$PORT" ;;
	reg_auth) echo sipp -sf "$SCEN/register_auth.xml" -inf "$WORK/users.csv" "${common[@]}" "127.0.0.1:$PORT" ;;
	reg_noauth) echo sipp -sf "$SCEN/register.xml" -inf "$WORK/users.csv" "${common[@]}" "127.0.0.1:$PORT" ;;
	calls) echo sipp -sf "$SCEN/uac.xml" -s uas -rsa "127.0.0.1:$PORT" "${common[@]}" "127.0.0.1:$PORT" ;;
	sc_calls) echo sipp -sf "$SCEN/uac.xml" -s sc -rsa "127.0.0.1:$PORT" "${common[@]}" "127.0.0.1:$PORT" ;;
	esac
}

variant_of() {
	case $1 in
	reg_auth) echo auth ;;
	sc_calls) echo sc ;;
	*) echo noauth ;;
	esac
}

# One step: sets STEP_OK (1/0) and STEP_{RATE,CPU_OP,PG_OP,P50,P99,SIPP_CPU,WHY}.
run_step() {
	# (calls on a line of its own: words of one "local" expand before it runs)
	local sys=$1 sc=$2 rate=$3 secs=${4:-$STEP_S} dir
	local calls=$((rate * secs))
	dir=$(mktemp -d "$WORK/step.XXXXXX")
	local pgpid c0 c1 p0 p1 u0 u1 rc
	pgpid=$(head -n 1 "$WORK/pg/data/postmaster.pid")
	c0=$(tree_ticks "$SYS_PID")
	p0=$(tree_ticks "$pgpid")
	u0=$(udp_rcvbuf_errors)
	# a window of the step on the wire, for the latency (bench/wire-latency):
	# at most 20,000 packets, which tshark reads in about 5 s
	# (BENCH_PGCAP=1: PostgreSQL's port too, for bench/register-path)
	local win=$((secs - 2 < 3 ? secs - 2 : 3)) cap_pid filter="udp port $PORT"
	[ -n "${BENCH_PGCAP:-}" ] && filter="$filter or tcp port $PGPORT"
	(sleep 1 && exec dumpcap -q -i lo -f "$filter" -B 64 -a "duration:$win" -c 20000 -w "$dir/cap.pcap" -P \
		>/dev/null 2>&1) &
	cap_pid=$!
	# bounded even when SIPp hangs after an overload (it has, past its -timeout)
	(cd "$dir" && TIMEFORMAT='%R %U %S' &&
		{ time timeout -k 5 -s INT $((secs * 2 + 40)) $(sipp_cmd "$sc" "$rate" "$calls") >sipp.out 2>&1; } 2>time.txt; exit $?)
	rc=$?
	wait "$cap_pid"
	c1=$(tree_ticks "$SYS_PID")
	p1=$(tree_ticks "$pgpid")
	u1=$(udp_rcvbuf_errors)
	local last ok failed elapsed
	last=$(tail -n 1 "$dir/stat.csv" 2>/dev/null)
	ok=$(echo "$last" | cut -d';' -f16)
	failed=$(echo "$last" | cut -d';' -f18)
	elapsed=$(echo "$last" | cut -d';' -f4 | awk -F: '{print $1 * 3600 + $2 * 60 + $3}')
	ok=${ok:-0}
	failed=${failed:-0}
	STEP_RATE=$rate
	STEP_CPU_OP=$(awk -v t=$((c1 - c0)) -v n="$ok" 'BEGIN { if (n > 0) printf "%.0f", t * 10000 / n; else print "-" }')
	STEP_PG_OP=$(awk -v t=$((p1 - p0)) -v n="$ok" 'BEGIN { if (n > 0) printf "%.0f", t * 10000 / n; else print "-" }')
	STEP_SIPP_CPU=$(awk '{ if ($1 > 0) printf "%.0f", ($2 + $3) * 100 / $1; else print 0 }' "$dir/time.txt" 2>/dev/null)
	local lat
	lat=$("$bench/wire-latency" "$dir/cap.pcap" "$PORT" 2>/dev/null || echo "- - 0")
	read -r STEP_P50 STEP_P99 STEP_LAT_N <<<"$lat"
	STEP_OK=1
	STEP_WHY=""
	if [ "$ok" -eq 0 ] || [ $((failed * 1000)) -ge "$calls" ] || [ $((ok + failed)) -lt "$calls" ]; then
		STEP_OK=0
		STEP_WHY="failed=$failed of $calls (ok=$ok, sipp rc=$rc)"
	elif [ $((u1 - u0)) -gt 0 ]; then
		STEP_OK=0
		STEP_WHY="$((u1 - u0)) UDP receive-buffer drops"
	elif [ "$(awk -v e="$elapsed" -v s="$secs" 'BEGIN { print (e > s * 1.15 + 2) }')" = 1 ]; then
		STEP_OK=0
		STEP_WHY="took ${elapsed}s for ${secs}s of load"
	fi
	log "$sys $sc rate=$rate (${secs}s) ok=$ok failed=$failed cpu/op=${STEP_CPU_OP}us pg/op=${STEP_PG_OP}us p50=${STEP_P50}ms p99=${STEP_P99}ms (n=$STEP_LAT_N) sipp=${STEP_SIPP_CPU}% ${STEP_WHY}"
	[ -n "${BENCH_KEEP:-}" ] && log "kept $dir" || rm -rf "$dir"
}

# After a failed step the proxy is still busy with its debris for a while
# (the UAS retransmits its unacknowledged 200s for 32 s, transactions
# time out), and a step started at once would pay for it: wait until the
# proxy's CPU stays under 5% of a core for a second, at most SETTLE_S (20)
# seconds.
settle() {
	local i t0 t1
	for ((i = 0; i < ${SETTLE_S:-20}; i++)); do
		t0=$(tree_ticks "$SYS_PID")
		sleep 1
		t1=$(tree_ticks "$SYS_PID")
		[ $((t1 - t0)) -lt 5 ] && return
	done
}

start_rate() {
	case $1 in
	options) echo 5000 ;;
	reg_noauth | reg_auth) echo 1500 ;;
	calls | sc_calls) echo 1500 ;;
	esac
}

# find_rate sys sc: search_rate, with sc_calls's Session Controller
# started before the system and stopped after it.
find_rate() {
	local sys=$1 sc=$2
	if [ "$sc" != sc_calls ]; then
		search_rate "$sys" "$sc"
		return
	fi
	if start_sc "$sys"; then
		search_rate "$sys" "$sc"
		sc_count "$sys"
	else
		NOTE[$sys/$sc]="no Session Controller"
		RATE[$sys/$sc]=0
	fi
	stop_sc
}

# The highest passing rate of sys for sc: steps of SEARCH_S seconds going
# up x1.5 until one fails (down /2 while none has passed), one step between the last pass and the failure,
# then the best rate held for STEP_S seconds (stepping down x0.8 when it
# does not hold), then 80% of it for the latency there.
search_rate() {
	local sys=$1 sc=$2 rate best=0 fail=0 steps=0
	local key="$sys/$sc"
	start_system "$sys" "$(variant_of "$sc")" || { NOTE[$key]="did not start"; return; }
	if [ "$sc" = calls ]; then
		start_uas
		register_uas
	fi
	if [ "$sc" = sc_calls ]; then
		sc_pool_ready "$sys" || { NOTE[$key]="the Session Controller is not in service"; RATE[$key]=0; return; }
	fi
	rate=$(start_rate "$sc")
	while [ $steps -lt "$MAX_STEPS" ]; do
		run_step "$sys" "$sc" "$rate" "$SEARCH_S"
		steps=$((steps + 1))
		if [ "$STEP_OK" = 1 ]; then
			best=$rate
			RATE[$key]=$rate CPU_OP[$key]=$STEP_CPU_OP PG_OP[$key]=$STEP_PG_OP P50[$key]=$STEP_P50 P99[$key]=$STEP_P99
			[ "$fail" -gt 0 ] && break
			rate=$((rate * 3 / 2))
		else
			NOTE[$key]="limit: $STEP_WHY at $rate/s"
			settle
			if [ "$best" -eq 0 ]; then
				# the start rate is already too much: go down
				rate=$((rate / 2))
				[ "$rate" -ge 100 ] && continue
				break
			fi
			[ "$fail" -gt 0 ] && break
			fail=$rate
			rate=$(((best + fail) / 2))
		fi
		[ "$fail" -gt 0 ] && [ "$rate" -le "$best" ] && break
	done
	[ "$best" -gt 0 ] || { RATE[$key]=0; return; }
	[ "$STEP_S" = "$SEARCH_S" ] && return # quick: no confirmation, no 80% step
	local tries=0
	while :; do
		run_step "$sys" "$sc" "$best" "$STEP_S"
		tries=$((tries + 1))
		[ "$STEP_OK" = 1 ] && break
		[ $tries -ge 3 ] && { NOTE[$key]="no rate held for ${STEP_S}s: $STEP_WHY"; RATE[$key]=0; return; }
		NOTE[$key]="${best}/s did not hold for ${STEP_S}s ($STEP_WHY)"
		best=$((best * 4 / 5))
		settle
	done
	RATE[$key]=$best CPU_OP[$key]=$STEP_CPU_OP PG_OP[$key]=$STEP_PG_OP P50[$key]=$STEP_P50 P99[$key]=$STEP_P99
	[ "${STEP_SIPP_CPU:-0}" -ge 90 ] && NOTE[$key]="SIPp at ${STEP_SIPP_CPU}% CPU: the load generator is the limit"
	run_step "$sys" "$sc" $((best * 4 / 5)) "$SEARCH_S"
	P99_80[$key]=$STEP_P99
}

measure_memory() {
	local sys=$1 rest with after
	start_system "$sys" noauth || return
	sleep 2
	rest=$(tree_mem "$SYS_PID")
	# MEM_BINDINGS distinct bindings: unique contacts per REGISTER
	(cd "$WORK" && sipp -sf "$SCEN/register_unique.xml" -inf "$WORK/users.csv" -i 127.0.0.1 \
		-r 2000 -m "$MEM_BINDINGS" -l 5000 -nostdin -timeout 300s "127.0.0.1:$PORT" >/dev/null 2>&1)
	# The bindings live on, the load's transactions do not: measure once
	# they are gone (RFC 3261 Timer J, 64*T1 = 32 s, for Junction's
	# REGISTER server transactions), so that the figure is the cost of
	# the bindings, not of the last 32 s of traffic (measured just after
	# the load too).
	after=$(tree_mem "$SYS_PID")
	sleep "${MEM_SETTLE_S:-35}"
	with=$(tree_mem "$SYS_PID")
	local rows
	if [ "$sys" = junction ]; then
		rows=$(psqlq junction "SELECT count(*) FROM binding")
	else
		rows=$(psqlq kamailio "SELECT count(*) FROM location")
	fi
	MEM_REST[$sys]=$rest
	MEM_WITH[$sys]=$with
	MEM_AFTER[$sys]=$after
	MEM_ROWS[$sys]=$rows
	log "$sys memory: at rest rss/pss ${rest// /\/} kB; just after the load ${after// /\/} kB; with $rows bindings ${with// /\/} kB"
}
declare -A MEM_REST MEM_WITH MEM_AFTER MEM_ROWS

ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.2f", a / b; else print "-" }'
}

report() {
	local cores kver commit
	cores=$(nproc)
	commit=$(cd "$top" && git rev-parse --short HEAD 2>/dev/null || echo unknown)
	kver=$(kamailio -v 2>/dev/null | head -n 1 | awk '{print $3}')
	echo "# Junction vs Kamailio, $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo
	echo "Machine: $cores cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo), $(uname -r);" \
		"Junction $commit, Kamailio $kver, SIPp $(sipp -v 2>/dev/null | grep -o 'v[0-9.]*' | head -n 1)," \
		"PostgreSQL $("$PGBIN/postgres" --version | awk '{print $3}') (fsync, synchronous_commit on)."
	echo "Search steps of ${SEARCH_S} s, the rate reported held for ${STEP_S} s$([ "$QUICK" = 1 ] && echo ' (quick run: indicative only)');" \
		"pass = < 0.1% failed, no UDP receive-buffer drops, rate kept."
	echo
	echo "| scenario | system | rate/s | ratio | proxy CPU µs/op | PG CPU µs/op | p50 ms | p99 ms | p99 at 80% | note |"
	echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---|"
	local sc sys
	for sc in $SCENARIOS; do
		[ "$sc" = memory ] && continue
		for sys in $systems; do
			local k="$sys/$sc" r=""
			[ "$sys" = junction ] && r=$(ratio "${RATE[junction/$sc]:-0}" "${RATE[kamailio/$sc]:-0}")
			echo "| $sc | $sys | ${RATE[$k]:-0} | $r | ${CPU_OP[$k]:--} | ${PG_OP[$k]:--} | ${P50[$k]:--} | ${P99[$k]:--} | ${P99_80[$k]:--} | ${NOTE[$k]:-} |"
		done
	done
	if [[ " $SCENARIOS " == *" memory "* ]]; then
		echo
		echo "| memory | system | RSS kB at rest | PSS kB at rest | bindings | RSS kB | PSS kB | RSS kB just after the load |"
		echo "|---|---|---:|---:|---:|---:|---:|---:|"
		for sys in $systems; do
			local rest=(${MEM_REST[$sys]:-- -}) with=(${MEM_WITH[$sys]:-- -}) after=(${MEM_AFTER[$sys]:-- -})
			echo "| memory | $sys | ${rest[0]} | ${rest[1]} | ${MEM_ROWS[$sys]:-0} | ${with[0]} | ${with[1]} | ${after[0]} |"
		done
	fi
	echo
	echo "CPU per operation: the process tree's user+system time (/proc/PID/stat) over the"
	echo "step, divided by the successful operations (a REGISTER with auth counts once; a call"
	echo "is INVITE to BYE). Kamailio: $((${KAMAILIO_CHILDREN:-4})) UDP children; Junction: ${JUNCTION_WORKERS:-2} workers with ${JUNCTION_DB_CONNS:-1} database connection(s) each."
	if [[ " $SCENARIOS " == *" sc_calls "* ]]; then
		echo
		echo "sc_calls: the calls of \`calls\`, but the proxy sends each INVITE, its Request-URI unchanged,"
		echo "to a Session Controller (a SIPp UAS on $SCIP, probed with OPTIONS every 5 s) instead of"
		echo "looking the callee up: Junction with \`[routing] session_controllers\` (its pool in"
		echo "PostgreSQL), Kamailio with \`dispatcher\` (ds_select_dst, ds_probing_mode 1). The Session"
		echo "Controller took, over all the steps:$(for sys in $systems; do echo -n " $sys ${SC_SEEN[$sys]:-not measured};"; done | sed 's/;$/./')"
	fi
	local s0=(${STEAL0:-0 0}) s1=(${STEAL1:-0 0})
	echo
	echo "The machine's latency floor (bench/sched-floor.c, before the load, nothing else"
	echo "running): threads that work, then sleep 1 ms, woke this late (µs) with both cores"
	echo "about a quarter, then half busy; no proxy answers faster than it is scheduled."
	echo
	echo '```'
	echo "${FLOOR:-not measured}"
	echo '```'
	echo
	echo "Over the run the hypervisor took $(awk -v s="$((s1[0] - s0[0]))" -v t="$((s1[1] - s0[1]))" \
		'BEGIN {printf "%.1f", (t > 0 ? 100 * s / t : 0)}')% of the cores' time (steal, /proc/stat)."
}
