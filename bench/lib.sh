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
# sc_affinity's second Junction node: its own address (not the Session
# Controller's, whose every request Junction takes as the controller's),
# the same SIP port as the first (one capture filter, one port for
# bench/wire-latency), the next admin port
J2IP=127.0.0.3
PGPORT=25432
JADMINPORT=25090
JADMINTOKEN=bench-token-0123456789
# routing's name server (dnsmasq): _sip._udp.bench.test names the UAS
DNSPORT=25053
# tls: the front proxy (a Junction node of its own, UDP from SIPp, TCP or
# TLS to the proxy under test) on FRONTPORT (udp, tcp) and FRONTPORT + 1
# (tls), its admin port; the proxy under test listens on its PORT (udp,
# tcp) and PORT + 1 (tls)
FRONTPORT=25100
FRONTADMINPORT=25092
# tls's SIPp UAC (its own port, so that its socket's drops can be read)
UACPORT=25099
# tls's certificates (tls_setup): a private CA, and one for 127.0.0.1 each
# for the proxy under test (sut) and the front
TLS_PKI=$WORK/pki
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
# PostgreSQL's CPU ticks: the run's server, or every server whose
# postmaster.pid is in PG_PIDFILES (db_failover: the formation's two nodes)
pg_ticks() {
	local f t=0
	for f in ${PG_PIDFILES:-$WORK/pg/data/postmaster.pid}; do
		t=$((t + $(tree_ticks "$(head -n 1 "$f" 2>/dev/null)")))
	done
	echo "$t"
}
# The receive-buffer drops of the UDP sockets bound to each PORT now (the
# last column of /proc/net/udp), "PORT:DROPS ...": which of ours dropped,
# on a machine whose other users' drops count in udp_rcvbuf_errors too.
udp_port_drops() {
	local p out=""
	for p in "$@"; do
		out="$out $p:$(awk -v h="$(printf ':%04X' "$p")" 'substr($2, length($2) - 4) == h { d += $NF } END { print d + 0 }' /proc/net/udp /proc/net/udp6 2>/dev/null)"
	done
	echo "${out# }"
}
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
	# reg_storm's and memory's first registrations: STORM_USERS more
	# subscribers, s1..sN (the same password scheme), in a file of their
	# own, so that every REGISTER of a storm step is a new AOR while the
	# other reg scenarios keep refreshing (UPDATEs) the USERS u1..uN
	if [[ " $SCENARIOS " == *" reg_storm "* || " $SCENARIOS " == *" memory "* ]]; then
		psqlq junction "SELECT count(junction_add_subscriber('s' || i, 'localhost', 'pw' || i))
		                FROM generate_series(1, $STORM_USERS) i" >/dev/null || return 1
		psqlq kamailio "INSERT INTO subscriber (username, domain, ha1, ha1b)
		                SELECT 's' || i, 'localhost', md5('s' || i || ':localhost:pw' || i), ''
		                FROM generate_series(1, $STORM_USERS) i" >/dev/null || return 1
		awk -v n="$STORM_USERS" 'BEGIN { print "SEQUENTIAL"
			for (i = 1; i <= n; i++) printf "s%d;[authentication username=s%d password=pw%d]\n", i, i, i }' \
			>"$WORK/storm_users.csv"
		log "reg_storm: $STORM_USERS more subscribers (s1..s$STORM_USERS) in each database"
	fi
	# Kamailio's UDP buffers: its core probes SO_RCVBUF up to maxbuffer
	# (8 MB, kamailio.cfg), which the kernel caps at net.core.rmem_max;
	# Junction forces its 8 MB (SO_RCVBUFFORCE) past that cap. Raised for
	# the run so that both get the same, put back by bench_teardown.
	SYSCTL_OLD=""
	local key val
	for key in net.core.rmem_max net.core.wmem_max; do
		val=$(sysctl -n "$key" 2>/dev/null) || continue
		[ "$val" -ge 8388608 ] && continue
		if sysctl -qw "$key=8388608" 2>/dev/null; then
			SYSCTL_OLD="$SYSCTL_OLD $key=$val"
			log "$key raised from $val to 8388608 for the run (Kamailio's maxbuffer)"
		else
			log "$key is $val and sysctl -w failed: Kamailio's UDP receive buffer stays below Junction's 8 MB"
		fi
	done
	return 0
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
	fo_teardown # db_failover's formation (bench/failover.sh)
	# the buffer limits bench_setup raised
	local kv
	for kv in ${SYSCTL_OLD:-}; do
		sysctl -qw "$kv" 2>/dev/null && log "${kv%%=*} back to ${kv#*=}" || log "could not put ${kv%%=*} back to ${kv#*=}"
	done
	SYSCTL_OLD=""
	return 0
}

# Junction node N's (1 or 2) file of a kind (conf, log): node 1's are
# junction.conf and junction.log, node 2's junction2.conf and junction2.log.
jfile() { echo "$WORK/junction${1#1}.$2"; }
node_ip() { if [ "$1" = 1 ]; then echo 127.0.0.1; else echo "$J2IP"; fi; }

# write_junction_conf auth|noauth|sc|sc_plain|sc_affinity|delegate|events_off|events_on [N]:
# node N's configuration (N 1 unless given). sc: routing to a Session
# Controller; sc_plain and sc_affinity: the same as a node of a two-node
# cluster (one Record-Route name for both, so that each takes the other's
# as its own), with [sessions] affinity off or on; delegate: sc's pool,
# with the REGISTERs decided by the Session Controller ([auth] mode =
# delegate); events_off and events_on: auth's local REGISTERs with sc's
# pool and [notify] off, or on (an RFC 3680 reginfo NOTIFY to the AOR's
# Session Controller for every binding written, refreshes included).
# tls: noauth's node with TCP and TLS listeners beside UDP (PORT, PORT + 1)
# and [tls] (the run's certificate for 127.0.0.1, no client certificate
# asked for).
write_junction_conf() {
	local variant=$1 n=${2:-1} conf auth=none
	conf=$(jfile "$n" conf)
	case $variant in
	auth | events_*) auth=local ;;
	delegate) auth=delegate ;;
	esac
	cat >"$conf" <<CONF
[sip]
$([ "$variant" = delegate ] && echo "mode = stateful")
listen = udp:$(node_ip "$n"):$JPORT$([ "$variant" = tls ] && echo " tcp:$(node_ip "$n"):$JPORT tls:$(node_ip "$n"):$((JPORT + 1))")
domain = localhost
record_route = yes
workers = ${JUNCTION_WORKERS:-2}
queue_depth = 65536
[security]
# the per-source rate limit runs on every request (SIPp is one source);
# the security scenario's "trusted" case skips every check instead
rate_limit = 1000000
$([[ $variant == trusted || $variant == route_* ]] && echo "trusted = 127.0.0.0/8")
[database]
conninfo = ${JCONNINFO:-host=127.0.0.1 port=$PGPORT dbname=${JDB:-junction} user=postgres}
connections_per_worker = ${JUNCTION_DB_CONNS:-1}
[auth]
mode = $auth
secret = bench-secret-0123456789abcdef
[registrar]
min_expires = 10
max_contacts = 100
[admin]
listen = 127.0.0.1:$((JADMINPORT + n - 1))
token = $JADMINTOKEN
[node]
name = bench$n
[log]
level = ${JUNCTION_LOG:-warn}
$([ "$variant" = acct_on ] && echo "access = $WORK/access.log")
[dns]
servers = 127.0.0.1:$DNSPORT
CONF
	[ "$variant" = acct_on ] && printf '[cdr]\nenabled = yes\n' >>"$conf"
	[ "$variant" = tls ] && cat >>"$conf" <<CONF
[tls]
certificate = $TLS_PKI/sut.pem
private_key = $TLS_PKI/sut.key
ca_file = $TLS_PKI/ca.pem
verify_client = no
min_version = 1.2
CONF
	[[ $variant == sc* || $variant == delegate || $variant == events_* ]] && cat >>"$conf" <<CONF
[routing]
session_controllers = yes
[cluster]
geo_location = dc1
oos_check = 5
oos_force = 5
CONF
	# sc_calls sets the pool's routing beside Kamailio's dispatcher, which
	# stores no sessions: affinity off there (sc_affinity measures it), and
	# for delegate and reg_events, which measure the REGISTERs alone
	[[ $variant == sc || $variant == delegate || $variant == events_* ]] &&
		printf '[sessions]\naffinity = no\n' >>"$conf"
	# reg_events: the same node but for [notify] mode; on, every refresh is
	# an event (refresh = yes), looked for every 100 ms
	[[ $variant == events_* ]] && cat >>"$conf" <<CONF
[notify]
mode = $([ "$variant" = events_on ] && echo reginfo || echo off)
target = pool
refresh = yes
interval = 100
CONF
	[[ $variant == sc_* ]] && cat >>"$conf" <<CONF
record_route = bench.cluster
[sessions]
affinity = $([ "$variant" = sc_affinity ] && echo yes || echo no)
CONF
	return 0
}

# stop_pid PID: a process started here (a child of this shell), TERM
# then, after 5 s, KILL; it leaves PIDS.
stop_pid() {
	local pid=$1 keep=() p
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null
	for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	for p in "${PIDS[@]}"; do [ "$p" = "$pid" ] || keep+=("$p"); done
	PIDS=("${keep[@]}")
}

# The system under test: SYS_PID, and NODE2_PID for sc_affinity's second
# Junction node.
SYS_PID=""
NODE2_PID=""
FRONT_PID=""
stop_system() {
	stop_pid "$SYS_PID"
	stop_pid "$NODE2_PID"
	SYS_PID=""
	NODE2_PID=""
}
# CPU ticks of the system under test: both nodes when there are two.
sys_ticks() {
	local t
	t=$(tree_ticks "$SYS_PID")
	[ -n "$NODE2_PID" ] && t=$((t + $(tree_ticks "$NODE2_PID")))
	echo "$t"
}

# The system under test's CPU ticks and the front proxy's, when one runs.
busy_ticks() {
	local t
	t=$(sys_ticks)
	[ -n "$FRONT_PID" ] && t=$((t + $(tree_ticks "$FRONT_PID")))
	echo "$t"
}

# ports_free PORT...: wait, at most 30 s, until nothing listens on these
# ports (UDP or TCP): on a shared machine the integration tests pick
# theirs at random in 12000-31999, where bench's are (tls).
ports_free() {
	local p busy
	for _ in $(seq 60); do
		busy=""
		for p in "$@"; do
			ss -Hlnut "sport = :$p" 2>/dev/null | grep -q . && busy="$busy $p"
		done
		[ -z "$busy" ] && return 0
		sleep 0.5
	done
	log "port(s)$busy taken: $(ss -Hlnutp "sport = :${busy# }" 2>/dev/null | head -n 1)"
	return 1
}

# sip_up WHAT HOST PORT: wait until an OPTIONS for the proxy
# (sip:localhost) sent to HOST:PORT is answered.
sip_up() {
	for _ in $(seq 50); do
		sipsak -s "sip:localhost" -p "$2:$3" >/dev/null 2>&1 && return 0
		sleep 0.2
	done
	log "$1 did not start"
	return 1
}

# start_junction N VARIANT: Junction node N, on node_ip N; SYS_PID or
# NODE2_PID.
start_junction() {
	local n=$1 pid
	write_junction_conf "$2" "$n"
	"$JUNCTION" -c "$(jfile "$n" conf)" >>"$(jfile "$n" log)" 2>&1 &
	pid=$!
	PIDS+=("$pid")
	if [ "$n" = 1 ]; then SYS_PID=$pid; else NODE2_PID=$pid; fi
	sip_up "junction node $n" "$(node_ip "$n")" "$JPORT" || { tail -n 2 "$(jfile "$n" log)" >&2; return 1; }
	# A node answers OPTIONS before its workers have reached PostgreSQL
	# (their REGISTERs wait in the batch meanwhile): a load started then
	# paid a second of retransmissions for it (a reg_storm step, started
	# on a fresh node, failed at 3,375/s that held 4,049/s later). Wait
	# for what systemd's READY=1 waits for, at most 10 s.
	local i
	for ((i = 0; i < 100; i++)); do
		curl -s --max-time 1 -H "Authorization: Bearer $JADMINTOKEN" \
			"http://127.0.0.1:$((JADMINPORT + n - 1))/v1/status" | grep -q '"workers_connected": *true' && return 0
		sleep 0.1
	done
	log "junction node $n: workers not connected to PostgreSQL after 10 s"
}

# start_system junction|kamailio VARIANT (write_junction_conf's): clean
# bindings, start it. sc_plain and sc_affinity: two Junction nodes, the
# dialogs of an earlier run gone. events_*: the outbox empty and the
# recording of events off (what a node with [notify] mode = off finds
# when no node has ever set it; events_on's node sets it on as it starts).
start_system() {
	local sys=$1 variant=$2
	stop_system
	psqlq junction "TRUNCATE binding" >/dev/null
	# reg_partitioned's partitioned case runs on a database of its own
	[ "${JDB:-junction}" = junction ] || psqlq "$JDB" "TRUNCATE binding" >/dev/null || return 1
	psqlq kamailio "TRUNCATE location" >/dev/null
	if [ "$variant" = tls ]; then
		local p=$JPORT
		[ "$sys" = junction ] || p=$KPORT
		ports_free "$p" $((p + 1)) || return 1
	fi
	if [ "$sys" = junction ]; then
		PORT=$JPORT
		case $variant in
		sc_*)
			psqlq junction "TRUNCATE dialog, session" >/dev/null || return 1
			start_junction 2 "$variant" || return 1
			;;
		events_*)
			psqlq junction "TRUNCATE reg_event, reg_event_version;
			                SELECT junction_reg_event_setup('off', false, false)" >/dev/null || return 1
			;;
		esac
		start_junction 1 "$variant" || return 1
		rcvbuf_check junction
		return 0
	else
		# -x fm: the fast allocator operators run in production; the
		# Debian default (qm, with memory debugging) costs Kamailio ~3x
		# its UDP children: KCHILDREN, set by whoever starts it for a
		# scenario (kam_pick); else (bench/failover.sh's long run) the
		# registrations' count for auth, 4 for the rest
		local kch=${KCHILDREN:-}
		if [ -z "$kch" ]; then
			kch=4
			[ "$variant" = auth ] && kch=$(kam_pick reg_auth)
		fi
		local defs=(-A "DBURL=\"${KDBURL:-postgres://postgres@127.0.0.1:$PGPORT/kamailio}\"" -A "CHILDREN=$kch")
		[ "$variant" = auth ] && defs+=(-A WITH_AUTH)
		if [ "$variant" = sc ]; then
			# the dispatcher's one destination: the Session Controller
			echo "1 sip:$SCIP:$SCPORT 0 0" >"$WORK/dispatcher.list"
			defs+=(-A WITH_DISPATCHER -A "DSLIST=\"$WORK/dispatcher.list\"")
		fi
		local listen=(-l "udp:127.0.0.1:$KPORT")
		if [ "$variant" = tls ]; then
			# TCP and TLS beside UDP, as many TCP readers as UDP
			# children, the tls module's file, ctl for kamcmd
			listen+=(-l "tcp:127.0.0.1:$KPORT" -l "tls:127.0.0.1:$((KPORT + 1))")
			defs+=(-A WITH_TLS -A "TLSCFG=\"$WORK/kamailio-tls.cfg\"" -A "TCP_CHILDREN=$kch"
				-A "CTLSOCK=\"unix:$WORK/kamailio.ctl\"")
		fi
		# -m: its shared memory pool, where tm keeps every transaction
		# (a completed one for wt_timer, 5 s; an INVITE without a final
		# answer up to fr_inv_timer, 120 s): 512 MB ran out in the steps
		# just past its calls rate, and the next steps failed for want of
		# memory, not of CPU. The pages are touched only as used.
		kamailio -f "$bench/kamailio/kamailio.cfg" "${listen[@]}" -DD -E -m "${KAMAILIO_SHM:-4096}" -M 32 -x "${KAMAILIO_MEM:-fm}" \
			"${defs[@]}" >>"$WORK/kamailio.log" 2>&1 &
		SYS_PID=$!
		PORT=$KPORT
	fi
	PIDS+=("$SYS_PID")
	sip_up "$sys" 127.0.0.1 "$PORT" || return 1
	rcvbuf_check "$sys"
}

# The receive buffer the system's UDP socket got (ss -uanm: rb, which the
# kernel reports doubled: 16777216 for 8 MB), logged once a run per
# system: Junction forces 8 MB, Kamailio probes up to its maxbuffer.
declare -A RCVBUF_SEEN
rcvbuf_check() {
	[ -n "${RCVBUF_SEEN[$1]:-}" ] && return 0
	RCVBUF_SEEN[$1]=$(ss -Huanm "src 127.0.0.1:$PORT" 2>/dev/null | grep -o 'rb[0-9]*' | head -n 1)
	log "$1: its UDP socket 127.0.0.1:$PORT has a receive buffer of ${RCVBUF_SEEN[$1]#rb} bytes (ss -uanm; net.core.rmem_max $(sysctl -n net.core.rmem_max 2>/dev/null))"
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

# sc_affinity's Session Controller scenario: uas.xml, but the BYE's 200
# goes where the BYE came from (its top Via, RFC 3261 §18.2.2): SIPp sends
# every message of a call to the INVITE's source, node 1 here, which
# drops a response whose top Via is node 2's. Written to
# $WORK/sc-via/uas.xml (SIPp names its counts file after the scenario).
sc_via_scenario() {
	local bye='<recv request="BYE"/>' xml via
	xml=$(<"$TSCEN/uas.xml")
	[[ $xml == *"$bye"* ]] || { log "no $bye in $TSCEN/uas.xml"; return 1; }
	# shellcheck disable=SC2016 # [$via_host]: SIPp's variables, not the shell's
	via='<recv request="BYE">
    <action>
      <ereg regexp="SIP/2[.]0/UDP ([0-9.]+):([0-9]+)" search_in="hdr" header="Via:"
            check_it="true" assign_to="via,via_host,via_port"/>
      <setdest host="[$via_host]" port="[$via_port]" protocol="udp"/>
    </action>
  </recv>
  <Reference variables="via"/>'
	mkdir -p "$WORK/sc-via"
	printf '%s\n' "${xml/"$bye"/"$via"}" >"$WORK/sc-via/uas.xml"
	echo "$WORK/sc-via/uas.xml"
}

# The Session Controller of sc_calls, sc_affinity, delegate and
# reg_events (start_sc SYS SCENARIO): a SIPp UAS on SCIP:SCPORT (-aa: it
# answers the proxies' OPTIONS probes), started afresh for each system and
# scenario; for delegate, the registrar back end
# bench/scenarios/sc_registrar.xml; for reg_events, the back end that
# answers the registration events' NOTIFYs, bench/scenarios/ev_backend.xml.
# In the foreground and in the background of this shell, so that $! is
# SIPp itself (no -bg, no pgrep); its message counts go to SC_COUNTS
# (SIPp names the file after the scenario's and its pid) every second.
SC_PID=""
SC_COUNTS=""
start_sc() {
	local sys=$1 xml=$TSCEN/uas.xml name
	stop_sc
	case $2 in
	sc_affinity:* | mem_sessions) xml=$(sc_via_scenario) || return 1 ;;
	delegate:*) xml=$SCEN/sc_registrar.xml ;;
	reg_events:*) xml=$SCEN/ev_backend.xml ;;
	esac
	name=$(basename "$xml" .xml)
	if ss -Hlnu "src $SCIP:$SCPORT" 2>/dev/null | grep -q .; then
		log "$SCIP:$SCPORT is taken: no Session Controller"
		return 1
	fi
	rm -f "$WORK/${name}"_*_counts.csv
	(cd "$WORK" && exec sipp -sf "$xml" -i "$SCIP" -p "$SCPORT" -aa -nostdin \
		-buff_size 4194304 -trace_counts -fd 1 >/dev/null 2>"$WORK/sc.$sys.err") &
	SC_PID=$!
	SC_COUNTS=$WORK/${name}_${SC_PID}_counts.csv
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
	stop_pid "$SC_PID"
	SC_PID=""
}
# A column of the last line of a SIPp statistics or counts file, by its name.
sipp_stat() {
	awk -F';' -v col="$2" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == col) c = i; next }
		{ v = $c } END { print (c && v != "" ? v : 0) }' "$1" 2>/dev/null || echo 0
}
# The running system routes to the Session Controller: Junction gets it
# in its pool (sip_server, which it reloads on NOTIFY) and every node must
# see it active (its first OPTIONS probe answered); Kamailio has it from
# its dispatcher list, active from the start.
sc_pool_ready() {
	[ "$1" = junction ] || return 0
	local nodes=1
	[ -n "$NODE2_PID" ] && nodes=2
	psqlq junction "SELECT junction_del_sip_server('sc1');
	                SELECT junction_add_sip_server('sc1', 'sip:$SCIP:$SCPORT', 'dc1')" >/dev/null ||
		return 1
	for _ in $(seq 100); do
		[ "$(psqlq junction "SELECT count(*) FROM sip_server_status
		                     WHERE server = 'sc1' AND state = 'active'")" = "$nodes" ] && return 0
		sleep 0.2
	done
	log "junction: the Session Controller sc1 did not become active"
	return 1
}
# node_metric NAME: a sample of Junction's /metrics (NAME as printed,
# labels included), summed over the running nodes.
node_metric() {
	local ports=$JADMINPORT port
	[ -n "$NODE2_PID" ] && ports="$ports $((JADMINPORT + 1))"
	for port in $ports; do curl -s "http://127.0.0.1:$port/metrics"; done |
		awk -v m="$1" '$1 == m { s += $2; n++ } END { if (n) print s }'
}
# front_metric NAME: the same, of tls's front proxy.
front_metric() {
	curl -s "http://127.0.0.1:$FRONTADMINPORT/metrics" |
		awk -v m="$1" '$1 == m { s += $2; n++ } END { if (n) print s }'
}
# What reached the Session Controller over the run of sys for one
# scenario, for the report (SC_SEEN[sys/scenario]): the INVITEs SIPp took
# and the BYEs it answered (the steps' calls, every one of them when no
# step failed), and, from Junction, its own count of requests sent to a
# Session Controller; for two nodes, also the dialogs recorded in the
# database, the sessions node 2 read there and those it found by the
# Request-URI (the Session Controller's Contact).
declare -A SC_SEEN
sc_count() {
	local sys=$1 sc=$2 inv bye sent="" more="" dialogs lookups by_uri
	sleep 1.5 # SIPp writes its counts every second
	inv=$(sipp_stat "$SC_COUNTS" 0_INVITE_Recv)
	bye=$(sipp_stat "$SC_COUNTS" 6_200_Sent)
	if [ "$sys" = junction ]; then
		sent=$(node_metric junction_session_controller_requests_total)
	fi
	if [ "$sys" = junction ] && [ -n "$NODE2_PID" ]; then
		dialogs=$(psqlq junction "SELECT count(*) || ' dialogs recorded, ' ||
		                          count(*) FILTER (WHERE state = 'ended') || ' ended' FROM dialog")
		lookups=$(node_metric 'junction_affinity_lookups_total{source="database"}')
		by_uri=$(node_metric 'junction_affinity_lookups_total{source="route_set"}')
		more="; ${dialogs:-no dialog table}, ${lookups:-?} sessions read from the database by a node, ${by_uri:-?} found by the Request-URI"
	fi
	SC_SEEN[$sys/$sc]="$inv INVITEs, $bye BYEs answered${sent:+ (the nodes counted $sent requests sent to it)}$more"
	log "$sys $sc: the Session Controller took ${SC_SEEN[$sys/$sc]}"
}
# node_counter NAME: one of node 1's counters (/v1/stats), e.g.
# delegated_registers.
node_counter() {
	curl -s -H "Authorization: Bearer $JADMINTOKEN" "http://127.0.0.1:$JADMINPORT/v1/stats" |
		grep -o "\"$1\": *[0-9]*" | grep -o '[0-9]*$'
}
# What the registrar back end of delegate took over Junction's steps
# (SC_SEEN[junction/delegate:delegated]): the REGISTERs SIPp received and
# the 200s it sent, Junction's own counts (REGISTERs forwarded, 2xx whose
# bindings it stored, failed: not stored or no answer) and the bindings
# in the table at the end, the check that the REGISTERs did go there.
delegate_count() {
	local sys=$1 sc=$2 reg ok fwd acc failed rows
	sleep 1.5 # SIPp writes its counts every second
	reg=$(sipp_stat "$SC_COUNTS" 0_REGISTER_Recv)
	ok=$(sipp_stat "$SC_COUNTS" 1_200_Sent)
	fwd=$(node_counter delegated_registers)
	acc=$(node_counter delegated_accepted)
	failed=$(node_counter delegated_failed)
	rows=$(psqlq junction "SELECT count(*) FROM binding")
	SC_SEEN[$sys/$sc]="$reg REGISTERs, $ok answered 200 (the node forwarded ${fwd:-?}, stored ${acc:-?}, failed ${failed:-?}; ${rows:-?} bindings)"
	log "$sys $sc: the back end took ${SC_SEEN[$sys/$sc]}"
}

# reg_events: the events in the outbox (reg_event), undelivered ones
# included.
outbox_rows() { psqlq junction "SELECT count(*) FROM reg_event"; }
# reg_events:on's node writes its [notify] settings into
# reg_event_setting as it starts; the load waits for them (until then the
# triggers would find recording off).
events_ready() {
	for _ in $(seq 50); do
		[ "$(psqlq junction "SELECT mode || '/' || refresh FROM reg_event_setting")" = reginfo/true ] &&
			return 0
		sleep 0.2
	done
	log "junction: [notify] mode = reginfo not in reg_event_setting"
	return 1
}
# After a step of reg_events:on, until its events are delivered (the
# outbox empty), at most EV_DRAIN_S (5) seconds: prints the events in the
# outbox when the load ended, the seconds waited and the events left then.
outbox_drain() {
	local n0 n t0=$EPOCHREALTIME lim=${EV_DRAIN_S:-5}
	n0=$(outbox_rows)
	n=${n0:-?}
	while [ "$n" != 0 ] && [ "$(awk -v a="$t0" -v b="$EPOCHREALTIME" -v l="$lim" 'BEGIN { print (b - a < l) }')" = 1 ]; do
		sleep 0.2
		n=$(outbox_rows)
		n=${n:-?}
	done
	echo "${n0:-?} $(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }') $n"
}
# The consistency check of a reg_events case, once its load is over
# (EV_SEEN and EV_CHECK[sys/case]): every event delivered (the outbox
# empty, after up to 30 s), and as many NOTIFYs as REGISTERs that wrote a
# binding (on: each of them one event; off: none) by three counts: the
# back end's (SIPp's -trace_counts), the node's (/v1/stats registrations,
# regevents_sent, _retry, _failed) and the database's (the reginfo
# versions: one per event claimed for the target).
declare -A EV_SEEN EV_CHECK
events_count() {
	local sys=$1 sc=$2 left notify ok regs sent retry failed claimed rows want
	for _ in $(seq 100); do
		left=$(outbox_rows)
		[ "$left" = 0 ] && break
		sleep 0.3
	done
	sleep 1.5 # SIPp writes its counts every second
	notify=$(sipp_stat "$SC_COUNTS" 0_NOTIFY_Recv)
	ok=$(sipp_stat "$SC_COUNTS" 1_200_Sent)
	regs=$(node_counter registrations)
	sent=$(node_counter regevents_sent)
	retry=$(node_counter regevents_retry)
	failed=$(node_counter regevents_failed)
	claimed=$(psqlq junction "SELECT coalesce(sum(version + 1), 0) FROM reg_event_version")
	rows=$(psqlq junction "SELECT count(*) FROM binding")
	want=${regs:-?}
	[ "$sc" = reg_events:off ] && want=0
	EV_SEEN[$sys/$sc]="${regs:-?} REGISTERs answered 200 (${rows:-?} bindings); the back end took $notify NOTIFYs and answered $ok 200; the node counted ${sent:-?} events sent, ${retry:-?} to retry, ${failed:-?} failed; $claimed claimed from the outbox; ${left:-?} left in it"
	if [ "${left:-x}" = 0 ] && [ "$notify" = "$want" ] && [ "$ok" = "$want" ] &&
		[ "${sent:-x}" = "$want" ] && [ "$claimed" = "$want" ]; then
		EV_CHECK[$sys/$sc]=holds
	else
		EV_CHECK[$sys/$sc]="does NOT hold"
	fi
	log "$sys $sc: ${EV_SEEN[$sys/$sc]}: ${EV_CHECK[$sys/$sc]}"
}

# The SIPp command line of a scenario at a rate, for a number of calls
# (its -timeout: the calls' time at the rate, and 30 s more).
sipp_cmd() {
	local sc=$1 rate=$2 calls=$3
	local common=(-i 127.0.0.1 -r "$rate" -m "$calls" -l $((rate * 4 + 100)) -nostdin -buff_size 4194304
		-timeout $((calls / rate + 30))s -trace_stat -stf stat.csv -fd 1 ${SIPP_EXTRA:-})
	case $sc in
	options) echo sipp -sf "$SCEN/options.xml" "${common[@]}" "127.0.0.1:$PORT" ;;
	# first registrations: s1, s2, ... in order, each AOR once a step
	reg_storm) echo sipp -sf "$SCEN/register_auth.xml" -inf "$WORK/storm_users.csv" -auth_uri localhost "${common[@]}" "127.0.0.1:$PORT" ;;
	reg_auth | delegate:local | reg_events:* | reg_partitioned:* | db_failover:*) echo sipp -sf "$SCEN/register_auth.xml" -inf "$WORK/users.csv" -auth_uri localhost "${common[@]}" "127.0.0.1:$PORT" ;;
	# delegated: the back end answers the first REGISTER 200, no challenge
	reg_noauth | delegate:delegated) echo sipp -sf "$SCEN/register.xml" -inf "$WORK/users.csv" "${common[@]}" "127.0.0.1:$PORT" ;;
	routing:*)
		# a domain that is not the proxy's: the UAS's address, or a name
		# whose SRV record gives it
		local dom=bench.test
		[ "$sc" = routing:numeric ] && dom=127.0.0.1:$UASPORT
		echo sipp -sf "$SCEN/uac_dest.xml" -s uas -rsa "127.0.0.1:$PORT" -set dhost 127.0.0.1 \
			-set dport "$PORT" -set dom "$dom" "${common[@]}" "127.0.0.1:$PORT"
		;;
	tls:*)
		# the call of calls through the front proxy, its INVITE with a
		# Route to the proxy under test over TCP or TLS (PORT + 1)
		local tr=${sc#tls:} rport=$PORT
		[ "$tr" = tls ] && rport=$((PORT + 1))
		echo sipp -sf "$SCEN/uac_route.xml" -s uas -rsa "127.0.0.1:$FRONTPORT" -set dhost 127.0.0.1 \
			-set dport "$FRONTPORT" -set rhost "127.0.0.1:$rport" -set rtr "$tr" -p "$UACPORT" \
			"${common[@]}" "127.0.0.1:$FRONTPORT"
		;;
	calls | sc_calls | sc_affinity:* | security:* | acct:*)
		# the INVITE to the proxy, its ACK and BYE to dhost (uac.xml's
		# setdest): the proxy again, or sc_affinity's second node
		local svc=sc dhost=127.0.0.1
		[[ $sc == calls || $sc == security:* || $sc == acct:* ]] && svc=uas
		[[ $sc == sc_affinity:* ]] && dhost=$J2IP
		echo sipp -sf "$SCEN/uac.xml" -s $svc -rsa "127.0.0.1:$PORT" -set dhost $dhost -set dport "$PORT" \
			"${common[@]}" "127.0.0.1:$PORT"
		;;
	esac
}

# What is measured of a scenario: sc_affinity is two cases, one row each,
# plain ([sessions] affinity = no) and affinity (yes); security checked
# and trusted; delegate local (reg_auth's REGISTERs, Junction checking
# the credentials) and delegated (the back end deciding); reg_events off
# and on ([notify] mode); any other, itself.
cases_of() {
	case $1 in
	sc_affinity) echo sc_affinity:plain sc_affinity:affinity ;;
	security) echo security:checked security:trusted ;;
	delegate) echo delegate:local delegate:delegated ;;
	reg_events) echo reg_events:off reg_events:on ;;
	routing) echo routing:numeric routing:srv ;;
	acct) echo acct:off acct:on ;;
	tls) echo tls:tcp tls:tls ;;
	db_failover) echo db_failover:plain db_failover:sync ;;
	reg_partitioned)
		if [ "${PART_FIRST:-plain}" = partitioned ]; then
			echo reg_partitioned:partitioned reg_partitioned:plain
		else
			echo reg_partitioned:plain reg_partitioned:partitioned
		fi
		;;
	*) echo "$1" ;;
	esac
}

variant_of() {
	case $1 in
	reg_auth | reg_storm | delegate:local | reg_partitioned:* | db_failover:*) echo auth ;;
	mem_sessions) echo sc_affinity ;;
	delegate:delegated) echo delegate ;;
	reg_events:off) echo events_off ;;
	reg_events:on) echo events_on ;;
	sc_calls) echo sc ;;
	sc_affinity:plain) echo sc_plain ;;
	sc_affinity:affinity) echo sc_affinity ;;
	security:trusted) echo trusted ;;
	routing:numeric) echo route_numeric ;;
	routing:srv) echo route_srv ;;
	acct:on) echo acct_on ;;
	tls:*) echo tls ;;
	*) echo noauth ;;
	esac
}

# One step (run_step SYS CASE RATE [SECONDS [CALLS]]: CALLS, rate x
# seconds unless given, at RATE): sets STEP_OK (1/0) and
# STEP_{RATE,CPU_OP,PG_OP,SC_OP,FRONT_OP,P50,P99,SIPP_CPU,RETR,DROPS,WHY}
# (SC_OP: the Session Controller's CPU per operation, when one runs;
# FRONT_OP: tls's front proxy's; RETR: SIPp's retransmissions; DROPS: UDP
# receive-buffer drops, logged, not a failure). For tls, the capture and
# the latency are the front's UDP port's (SIPp's side): the proxy under
# test speaks TCP or TLS to the front, which a capture cannot read apart.
run_step() {
	# (calls on a line of its own: words of one "local" expand before it runs)
	local sys=$1 sc=$2 rate=$3 secs=${4:-$STEP_S} dir
	local calls=${5:-$((rate * secs))}
	dir=$(mktemp -d "$WORK/step.XXXXXX")
	local c0 c1 p0 p1 s0=0 s1=0 f0=0 f1=0 u0 u1 rc d0="" d1=""
	[[ $sc == tls:* ]] && d0="$(udp_port_drops "$FRONTPORT" "$PORT" "$UASPORT") $UACPORT:0"
	c0=$(sys_ticks)
	p0=$(pg_ticks)
	[ -n "$SC_PID" ] && s0=$(tree_ticks "$SC_PID")
	[ -n "$FRONT_PID" ] && f0=$(tree_ticks "$FRONT_PID")
	u0=$(udp_rcvbuf_errors)
	# a window of the step on the wire, for the latency (bench/wire-latency):
	# at most 20,000 packets, which tshark reads in about 5 s
	# (BENCH_PGCAP=1: PostgreSQL's port too, for bench/register-path)
	local capport=$PORT
	[[ $sc == tls:* ]] && capport=$FRONTPORT
	# (a step shorter than 4 s, reg_storm's at high rates, is caught
	# sooner and for a second)
	local win=$((secs - 2 < 3 ? secs - 2 : 3)) delay=1 cap_pid filter="udp port $capport"
	[ "$win" -lt 1 ] && win=1 delay=0.3
	[ -n "${BENCH_PGCAP:-}" ] && filter="$filter or tcp port $PGPORT"
	(sleep $delay && exec dumpcap -q -i lo -f "$filter" -B 64 -a "duration:$win" -c 20000 -w "$dir/cap.pcap" -P \
		>/dev/null 2>&1) &
	cap_pid=$!
	# tls: the drops of SIPp's own socket, read while it is open (the
	# most seen: it is gone once SIPp ends)
	local sampler=""
	if [[ $sc == tls:* ]]; then
		(m=0
		while :; do
			v=$(udp_port_drops "$UACPORT")
			[ "${v#*:}" -gt "$m" ] && m=${v#*:} && echo "$m" >"$dir/uacdrops"
			sleep 0.2
		done) &
		sampler=$!
	fi
	# bounded even when SIPp hangs after an overload (it has, past its -timeout)
	(cd "$dir" && TIMEFORMAT='%R %U %S' &&
		{ time timeout -k 5 -s INT $((secs * 2 + 40)) $(sipp_cmd "$sc" "$rate" "$calls") >sipp.out 2>&1; } 2>time.txt; exit $?)
	rc=$?
	wait "$cap_pid"
	if [ -n "$sampler" ]; then
		kill "$sampler" 2>/dev/null
		wait "$sampler" 2>/dev/null
	fi
	# reg_events:on: the CPU is read once the step's events are delivered,
	# so that each REGISTER pays for its NOTIFY (a backlog is a failure)
	local drain=""
	[ "$sc" = reg_events:on ] && drain=$(outbox_drain)
	c1=$(sys_ticks)
	p1=$(pg_ticks)
	[ -n "$SC_PID" ] && s1=$(tree_ticks "$SC_PID")
	[ -n "$FRONT_PID" ] && f1=$(tree_ticks "$FRONT_PID")
	u1=$(udp_rcvbuf_errors)
	[[ $sc == tls:* ]] && d1="$(udp_port_drops "$FRONTPORT" "$PORT" "$UASPORT") $UACPORT:$(cat "$dir/uacdrops" 2>/dev/null || echo 0)"
	# SIPp's totals, by their column names: calls that succeeded and
	# failed, its retransmissions, its time from start to end (hh:mm:ss;
	# the cumulative one, the (P) one is since the last periodic dump)
	local ok failed elapsed retr
	ok=$(sipp_stat "$dir/stat.csv" 'SuccessfulCall(C)')
	failed=$(sipp_stat "$dir/stat.csv" 'FailedCall(C)')
	retr=$(sipp_stat "$dir/stat.csv" 'Retransmissions(C)')
	elapsed=$(sipp_stat "$dir/stat.csv" 'ElapsedTime(C)' | awk -F: '{print $1 * 3600 + $2 * 60 + $3}')
	[[ $ok =~ ^[0-9]+$ ]] || ok=0
	[[ $failed =~ ^[0-9]+$ ]] || failed=0
	[[ $retr =~ ^[0-9]+$ ]] || retr=0
	STEP_RATE=$rate
	STEP_RETR=$retr
	STEP_CPU_OP=$(awk -v t=$((c1 - c0)) -v n="$ok" 'BEGIN { if (n > 0) printf "%.0f", t * 10000 / n; else print "-" }')
	STEP_PG_OP=$(awk -v t=$((p1 - p0)) -v n="$ok" 'BEGIN { if (n > 0) printf "%.0f", t * 10000 / n; else print "-" }')
	STEP_SC_OP=-
	[ -n "$SC_PID" ] &&
		STEP_SC_OP=$(awk -v t=$((s1 - s0)) -v n="$ok" 'BEGIN { if (n > 0) printf "%.0f", t * 10000 / n; else print "-" }')
	STEP_FRONT_OP=-
	[ -n "$FRONT_PID" ] &&
		STEP_FRONT_OP=$(awk -v t=$((f1 - f0)) -v n="$ok" 'BEGIN { if (n > 0) printf "%.0f", t * 10000 / n; else print "-" }')
	STEP_SIPP_CPU=$(awk '{ if ($1 > 0) printf "%.0f", ($2 + $3) * 100 / $1; else print 0 }' "$dir/time.txt" 2>/dev/null)
	local lat
	lat=$("$bench/wire-latency" "$dir/cap.pcap" "$capport" 2>/dev/null || echo "- - 0")
	read -r STEP_P50 STEP_P99 STEP_LAT_N <<<"$lat"
	# UDP receive-buffer drops do not fail a step (a system with the
	# default buffer size is not punished for it: what it loses shows as
	# SIPp's retransmissions and failed calls); they are logged and
	# reported: the machine's, or for tls those of its own sockets (the
	# front's, the proxy's, the UAS's, SIPp's), since on a shared machine
	# other programs' drops came in steps none of ours dropped in
	local udrops=$((u1 - u0)) whose="" a b
	if [ -n "$d0" ]; then
		udrops=0
		for a in $d1; do
			for b in $d0; do
				if [ "${a%%:*}" = "${b%%:*}" ]; then
					whose="$whose ${a%%:*}:$((${a#*:} - ${b#*:}))"
					udrops=$((udrops + ${a#*:} - ${b#*:}))
				fi
			done
		done
		[ $((u1 - u0)) -gt "$udrops" ] && log "$sys $sc rate=$rate: $((u1 - u0 - udrops)) UDP receive-buffer drops elsewhere on the machine (not ours)"
	fi
	STEP_DROPS=$udrops
	[ "$udrops" -gt 0 ] && log "$sys $sc rate=$rate: $udrops UDP receive-buffer drops${whose:+ (by port:$whose)} (logged, not a failure)"
	# The pass rule, the same for both systems: fewer than 0.1% of the
	# operations failed (and every one ended), SIPp retransmitted at most
	# 1% as many messages as there were operations, and it kept the
	# offered rate (took at most 15% longer than asked, +2 s)
	STEP_OK=1
	STEP_WHY=""
	if [ "$ok" -eq 0 ] || [ $((failed * 1000)) -ge "$calls" ] || [ $((ok + failed)) -lt "$calls" ]; then
		STEP_OK=0
		STEP_WHY="failed=$failed of $calls (ok=$ok, sipp rc=$rc)"
	elif [ $((retr * 100)) -gt "$calls" ]; then
		STEP_OK=0
		STEP_WHY="$retr SIPp retransmissions for $calls operations (> 1%)"
	elif [ "$(awk -v e="$elapsed" -v s="$secs" 'BEGIN { print (e > s * 1.15 + 2) }')" = 1 ]; then
		STEP_OK=0
		STEP_WHY="took ${elapsed}s for ${secs}s of load"
	elif [ -n "$drain" ] && [ "${drain##* }" != 0 ]; then
		STEP_OK=0
		STEP_WHY="${drain##* } registration events undelivered ${EV_DRAIN_S:-5}s after the load"
	fi
	[ -n "$drain" ] && drain=" outbox=$(echo "$drain" | awk '{print $1 " at the end, " $3 " after " $2 "s"}')"
	# tls: the CPU per call by offered rate, over every step at that rate
	# that passed (their ticks over their calls), else "fail"
	if [[ $sc == tls:* ]]; then
		local lk=$sys/$sc@$rate
		if [ "$STEP_OK" = 1 ]; then
			LADDER_T[$lk]=$((${LADDER_T[$lk]:-0} + c1 - c0))
			LADDER_N[$lk]=$((${LADDER_N[$lk]:-0} + ok))
			LADDER[$lk]=$(awk -v t="${LADDER_T[$lk]}" -v n="${LADDER_N[$lk]}" 'BEGIN { printf "%.0f", t * 10000 / n }')
		elif [ -z "${LADDER[$lk]:-}" ]; then
			LADDER[$lk]=fail
		fi
	fi
	# reg_partitioned: Junction's and PostgreSQL's CPU by offered rate,
	# over the steps at that rate that passed, so that the two cases
	# compare at equal rates too (PostgreSQL's CPU per REGISTER falls as
	# the rate, and with it the REGISTERs per batch, grows)
	if [[ $sc == reg_partitioned:* ]] && [ "$STEP_OK" = 1 ]; then
		local pk=$sys/$sc@$rate
		PART_T[$pk]=$((${PART_T[$pk]:-0} + c1 - c0))
		PART_P[$pk]=$((${PART_P[$pk]:-0} + p1 - p0))
		PART_N[$pk]=$((${PART_N[$pk]:-0} + ok))
	fi
	log "$sys $sc rate=$rate (${secs}s) ok=$ok failed=$failed retrans=$retr drops=$udrops cpu/op=${STEP_CPU_OP}us pg/op=${STEP_PG_OP}us${SC_PID:+ sc/op=${STEP_SC_OP}us}${FRONT_PID:+ front/op=${STEP_FRONT_OP}us} p50=${STEP_P50}ms p99=${STEP_P99}ms (n=$STEP_LAT_N) sipp=${STEP_SIPP_CPU}%${drain} ${STEP_WHY}"
	[ -n "${BENCH_KEEP:-}" ] && log "kept $dir" || rm -rf "$dir"
}

# After a failed step the proxy is still busy with its debris for a while
# (the UAS retransmits its unacknowledged 200s for 32 s, transactions
# time out), and a step started at once would pay for it: wait until the
# proxy's CPU stays under 5% of a core for a second, at most SETTLE_S (20)
# seconds.
# (tls: the front proxy's CPU too)
settle() {
	local i t0 t1
	for ((i = 0; i < ${SETTLE_S:-20}; i++)); do
		t0=$(busy_ticks)
		sleep 1
		t1=$(busy_ticks)
		[ $((t1 - t0)) -lt 5 ] && return
	done
}

start_rate() {
	case $1 in
	options) echo 5000 ;;
	reg_noauth | reg_auth | reg_storm | delegate:* | reg_events:* | reg_partitioned:* | db_failover:*) echo 1500 ;;
	calls | sc_calls | sc_affinity:* | security:* | routing:* | acct:*) echo 1500 ;;
	# 1500 is the second step: the calls scenario's steps and one below
	tls:*) echo 1000 ;;
	esac
}

# find_rate sys sc: search_rate for each case of sc, with the Session
# Controller of sc_calls, sc_affinity, delegate's delegated case and
# reg_events started before the system and stopped after it. sc_affinity,
# security, delegate and reg_events are Junction's alone.
find_rate() {
	local sys=$1 sc=$2 c
	case $sc in
	reg_events)
		[ "$sys" = junction ] || { log "$sys: no $sc (Junction only)"; return; }
		# the same node and back end for both: only [notify] mode differs
		for c in $(cases_of "$sc"); do
			if start_sc "$sys" "$c"; then
				search_rate "$sys" "$c"
				events_count "$sys" "$c"
			else
				NOTE[$sys/$c]="no Session Controller"
				RATE[$sys/$c]=0
			fi
			stop_sc
		done
		return
		;;
	delegate)
		[ "$sys" = junction ] || { log "$sys: no $sc (Junction only)"; return; }
		search_rate "$sys" delegate:local
		c=delegate:delegated
		if start_sc "$sys" "$c"; then
			search_rate "$sys" "$c"
			delegate_count "$sys" "$c"
		else
			NOTE[$sys/$c]="no Session Controller"
			RATE[$sys/$c]=0
		fi
		stop_sc
		return
		;;
	sc_calls) ;;
	sc_affinity)
		if [ "$sys" != junction ]; then
			log "$sys: no $sc (Junction only)"
			return
		fi
		;;
	security | acct)
		[ "$sys" = junction ] || { log "$sys: no $sc (Junction only)"; return; }
		for c in $(cases_of "$sc"); do search_rate "$sys" "$c"; done
		return
		;;
	tls)
		# both systems behind the same front (started afresh for each
		# case); the step lengths may be set apart (TLS_SEARCH_S,
		# TLS_STEP_S: bench/run's 5 and 10 make the four searches
		# 10-13 minutes on the shared 2-core machine)
		local SEARCH_S=${TLS_SEARCH_S:-$SEARCH_S} STEP_S=${TLS_STEP_S:-$STEP_S}
		tls_setup || { log "tls: no certificates"; NOTE[$sys/tls:tcp]="no certificates"; return; }
		for c in $(cases_of "$sc"); do
			if ! start_front; then
				NOTE[$sys/$c]="the front proxy did not start"
				RATE[$sys/$c]=0
				continue
			fi
			# new connections: to the proxy freshly started, before
			# any load (after one, Kamailio's figures were 2-5 times
			# higher, Junction's up to 1.7, and both wandered while
			# transactions and memory settled); search_rate starts it
			# afresh again
			if [ "$c" = tls:tls ]; then
				KCHILDREN=$(kam_pick "$c") start_system "$sys" tls && tls_handshakes "$sys"
			fi
			search_rate "$sys" "$c"
			tls_count "$sys" "$c"
			stop_front
		done
		return
		;;
	reg_partitioned)
		[ "$sys" = junction ] || { log "$sys: no $sc (Junction only)"; return; }
		# the same node, configuration and load; only the database
		# differs: junction (binding as migrated) or junction_part (its
		# copy, binding hash-partitioned by bench/partition-binding.sql)
		part_db_setup || NOTE[$sys/reg_partitioned:partitioned]="bench/partition-binding.sql failed"
		for c in $(cases_of "$sc"); do
			JDB=junction
			if [ "$c" = reg_partitioned:partitioned ]; then
				[ -n "${PART_READY:-}" ] || { RATE[$sys/$c]=0; continue; }
				JDB=junction_part
			fi
			search_rate "$sys" "$c"
			[ "$c" = reg_partitioned:partitioned ] && part_count
		done
		stop_system
		JDB=junction
		return
		;;
	db_failover)
		# bench/failover.sh: plain, sync on a pg_auto_failover formation,
		# then the long run with failovers
		failover_scenario "$sys"
		return
		;;
	reg_storm)
		# the search (every step on an empty binding table, load_step),
		# then the fixed step at STORM_RATE with the memory
		search_rate "$sys" "$sc"
		storm_fixed "$sys"
		return
		;;
	routing)
		[ "$sys" = junction ] || { log "$sys: no $sc (Junction only)"; return; }
		start_dns || { NOTE[$sys/routing:srv]="dnsmasq did not start"; return; }
		for c in $(cases_of "$sc"); do search_rate "$sys" "$c"; done
		return
		;;
	*)
		search_rate "$sys" "$sc"
		return
		;;
	esac
	for c in $(cases_of "$sc"); do
		if start_sc "$sys" "$c"; then
			search_rate "$sys" "$c"
			sc_count "$sys" "$c"
		else
			NOTE[$sys/$c]="no Session Controller"
			RATE[$sys/$c]=0
		fi
		stop_sc
	done
}

# What a case needs besides its load (prepare_system SYS CASE): the
# system started afresh (start_system: the bindings emptied), the UAS
# registered for the calls to a user, the cdr table emptied for acct:on,
# the Session Controller in service for the pool's cases (started before,
# start_sc), [notify] set up for reg_events:on. PREP_WHY says what failed.
prepare_system() {
	local sys=$1 sc=$2
	PREP_WHY=""
	start_system "$sys" "$(variant_of "$sc")" || { PREP_WHY="did not start"; return 1; }
	if [[ $sc == calls || $sc == security:* || $sc == routing:* || $sc == acct:* || $sc == tls:* ]]; then
		start_uas
		register_uas
	fi
	[ "$sc" = acct:on ] && psqlq junction "TRUNCATE cdr" >/dev/null
	if [[ $sc == sc_* || $sc == mem_sessions || $sc == delegate:delegated || $sc == reg_events:* ]]; then
		sc_pool_ready "$sys" || { PREP_WHY="the Session Controller is not in service"; return 1; }
	fi
	if [ "$sc" = reg_events:on ]; then
		events_ready || { PREP_WHY="[notify] not set up"; return 1; }
	fi
	return 0
}

# One step of a search or of the latency steps (load_step SYS CASE RATE
# SECONDS): run_step, but a step of reg_storm is a storm of first
# registrations, so it starts on an empty binding table with its system
# freshly started (prepare_system), and registers RATE x SECONDS AORs
# never registered in it (s1, s2, ...: SIPp reads storm_users.csv from
# its top): the step is shortened when that is more than STORM_USERS.
load_step() {
	local sys=$1 sc=$2 rate=$3 secs=$4
	if [ "$sc" = reg_storm ]; then
		if [ $((rate * secs)) -gt "$STORM_USERS" ]; then
			secs=$((STORM_USERS / rate))
			log "$sys reg_storm at $rate/s: a step of ${secs}s instead of ${4}s (no more than STORM_USERS=$STORM_USERS AORs)"
		fi
		if [ "$secs" -lt 1 ]; then
			no_step "$rate" "more than STORM_USERS ($STORM_USERS) REGISTERs a second"
			log "$sys reg_storm rate=$rate: $STEP_WHY"
			return
		fi
		if ! prepare_system "$sys" "$sc"; then
			no_step "$rate" "$PREP_WHY"
			return
		fi
	fi
	run_step "$sys" "$sc" "$rate" "$secs"
}
# no_step RATE WHY: a step that could not run: failed, no figures
no_step() {
	STEP_OK=0 STEP_RATE=$1 STEP_WHY=$2
	STEP_CPU_OP=- STEP_PG_OP=- STEP_SC_OP=- STEP_FRONT_OP=- STEP_P50=- STEP_P99=- STEP_RETR=0 STEP_DROPS=0 STEP_SIPP_CPU=0
}

# The figures of a row of the table, by SYS/CASE, and of the step that
# gave them (keep_step KEY).
ROW_FIELDS="RATE CPU_OP PG_OP SC_OP FRONT_OP P50 P99 RETR DROPS NOTE"
keep_step() {
	RATE[$1]=$STEP_RATE CPU_OP[$1]=$STEP_CPU_OP PG_OP[$1]=$STEP_PG_OP P50[$1]=$STEP_P50 P99[$1]=$STEP_P99
	SC_OP[$1]=$STEP_SC_OP FRONT_OP[$1]=$STEP_FRONT_OP RETR[$1]=$STEP_RETR DROPS[$1]=$STEP_DROPS
}
# row_copy FROM TO: every figure of row FROM to row TO (none where FROM has none)
row_copy() {
	local f
	for f in $ROW_FIELDS; do
		local -n row_a=$f
		if [ -n "${row_a[$1]+x}" ]; then row_a[$2]=${row_a[$1]}; else unset "row_a[$2]"; fi
		unset -n row_a
	done
}
row_clear() {
	local f
	for f in $ROW_FIELDS; do unset "${f}[$1]"; done
}

# Kamailio's UDP children for a case: KAMAILIO_CHILDREN when set (one
# count, or a list, e.g. "2 4 8 16", which search_rate explores), else
# the count that did best in bench's exploration (README.md, "Kamailio's
# children"), so that a full run does not pay for it. The registrations
# wait on PostgreSQL (auth_db's SELECT, usrloc db_mode=1's write, each
# child blocked on its own connection until the commit), so more
# children keep more in flight: 8 held 4,218/s with p50 16-52 ms where 4
# queued to 89-181 ms, 16 cost more CPU. The calls (tm, no database) and
# the stateless OPTIONS are bound by the 2 cores, where more processes
# only add switches: calls held the most with 4 (7,593/s; 2: 6,327, 8:
# 5,062), OPTIONS with 2 (56,952/s; 4, 8, 16: 47,460). The cases not
# explored keep 4.
kam_children() {
	if [ -n "${KAMAILIO_CHILDREN:-}" ]; then
		echo $KAMAILIO_CHILDREN
		return
	fi
	case $1 in
	options) echo 2 ;;
	reg_noauth | reg_auth | reg_storm | db_failover:*) echo 8 ;;
	calls | sc_calls) echo 4 ;;
	*) echo 4 ;;
	esac
}
# kam_pick CASE: the count Kamailio runs CASE with outside its search:
# the one its search kept, else kam_children's first.
kam_pick() {
	local c=${KCH[kamailio/$1]:-}
	[ -n "$c" ] || c=$(kam_children "$1" | awk '{print $1}')
	echo "$c"
}

# search_rate SYS CASE: search_once; Kamailio's once per count of UDP
# children kam_children gives, the highest rate kept with the figures of
# its steps. KCH[kamailio/CASE] is the count that held it, KCH_ALL what
# each count held.
declare -A KCH KCH_ALL
search_rate() {
	local sys=$1 sc=$2 key="$1/$2" n counts best=-1
	if [ "$sys" != kamailio ]; then
		search_once "$sys" "$sc"
		return
	fi
	counts=$(kam_children "$sc")
	for n in $counts; do
		row_clear "$key"
		KCHILDREN=$n search_once "$sys" "$sc"
		KCH_ALL[$key]="${KCH_ALL[$key]:+${KCH_ALL[$key]}, }$n: ${RATE[$key]:-0}/s"
		if [ "$n" = "$counts" ]; then
			KCH[$key]=$n
			return
		fi
		log "kamailio $sc with $n children: ${RATE[$key]:-0}/s at ${CPU_OP[$key]:--} µs/op"
		if [ "${RATE[$key]:-0}" -gt "$best" ]; then
			best=${RATE[$key]:-0}
			KCH[$key]=$n
			row_copy "$key" "$key#best"
		fi
	done
	row_copy "$key#best" "$key"
	row_clear "$key#best"
	log "kamailio $sc: ${KCH[$key]} children held the most (${KCH_ALL[$key]})"
}

# The highest passing rate of sys for sc: steps of SEARCH_S seconds going
# up x1.5 until one fails (down /2 while none has passed), one step
# between the last pass and the failure, then the best rate held for
# STEP_S seconds (stepping down x0.8 when it does not hold). tls: up and
# down on one grid (tls_grid), so that every case is offered the same
# rates. The latency of like for like is measured apart, at Kamailio's
# rates (latency_at_kamailio_rates).
# After a failed step, the system starts afresh (both systems alike):
# Kamailio did not come back from an overloaded calls step (in the run of
# 2026-12-06 its CPU a call went from 127 us to 2,000-31,000 us in the
# lower steps that followed, which all failed), whatever settle() waited.
# reg_storm starts afresh for every step anyway.
restart_after_failure() {
	[ "$2" = reg_storm ] && return 0
	prepare_system "$1" "$2" || log "$1 $2: not restarted after a failed step: $PREP_WHY"
}

search_once() {
	local sys=$1 sc=$2 rate best=0 fail=0 steps=0
	local key="$sys/$sc"
	# (reg_storm: load_step starts it afresh for every step)
	if [ "$sc" != reg_storm ] && ! prepare_system "$sys" "$sc"; then
		NOTE[$key]=$PREP_WHY
		RATE[$key]=0
		return
	fi
	rate=$(start_rate "$sc")
	while [ $steps -lt "$MAX_STEPS" ]; do
		load_step "$sys" "$sc" "$rate" "$SEARCH_S"
		steps=$((steps + 1))
		if [ "$STEP_OK" = 1 ]; then
			best=$rate
			keep_step "$key"
			[ "$fail" -gt 0 ] && break
			if [[ $sc == tls:* ]]; then rate=$(tls_grid_next "$rate" up); else rate=$((rate * 3 / 2)); fi
		else
			NOTE[$key]="limit: $STEP_WHY at $rate/s"
			settle
			restart_after_failure "$sys" "$sc"
			if [ "$best" -eq 0 ]; then
				# the start rate is already too much: go down
				if [[ $sc == tls:* ]]; then rate=$(tls_grid_next "$rate" down); else rate=$((rate / 2)); fi
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
	[ "$STEP_S" = "$SEARCH_S" ] && return # quick: no confirmation
	local tries=0
	while :; do
		load_step "$sys" "$sc" "$best" "$STEP_S"
		tries=$((tries + 1))
		[ "$STEP_OK" = 1 ] && break
		if [ $tries -ge 3 ]; then
			# no figures: those of the search steps are not of a rate that held
			NOTE[$key]="no rate held for ${STEP_S}s: $STEP_WHY"
			RATE[$key]=0
			unset "CPU_OP[$key]" "PG_OP[$key]" "SC_OP[$key]" "FRONT_OP[$key]" "P50[$key]" "P99[$key]" "RETR[$key]" "DROPS[$key]"
			return
		fi
		NOTE[$key]="${best}/s did not hold for ${STEP_S}s ($STEP_WHY)"
		best=$((best * 4 / 5))
		settle
		restart_after_failure "$sys" "$sc"
	done
	keep_step "$key"
	[ "${STEP_SIPP_CPU:-0}" -ge 90 ] && NOTE[$key]="SIPp at ${STEP_SIPP_CPU}% CPU: the load generator is the limit"
	return 0
}

# Latency, like for like, for the scenarios both systems run
# (LAT_SCENARIOS), once both rates are found (bench/run, after each
# scenario): each system one step of STEP_S seconds (LAT_S when set) at
# 50% and one at 100% of Kamailio's best rate for the scenario, the same
# offered rates for both, Kamailio with the children its search kept.
# Each system is started afresh (prepare_system; sc_calls: its Session
# Controller too) and runs both steps; reg_storm's steps start afresh
# each (load_step).
# LAT[SYS/SC/PCT] = "P50 P99 pass|fail", LAT_WHY the failure.
LAT_SCENARIOS="options reg_noauth reg_auth reg_storm calls sc_calls"
declare -A LAT LAT_WHY
latency_at_kamailio_rates() {
	local sc=$1 sys pct rate kr=${RATE[kamailio/$1]:-0} ready secs=${LAT_S:-$STEP_S}
	[[ " $LAT_SCENARIOS " == *" $sc "* ]] || return 0
	[[ " $systems " == *" junction "* && " $systems " == *" kamailio "* ]] || return 0
	if [ "$kr" -le 0 ]; then
		log "$sc: no latency at Kamailio's rates (Kamailio held no rate)"
		return 0
	fi
	for sys in kamailio junction; do
		log "=== $sys: $sc at 50% and 100% of Kamailio's $kr/s, ${secs}s each"
		ready=1
		PREP_WHY=""
		if [ "$sc" = sc_calls ] && ! start_sc "$sys" "$sc"; then
			ready=0 PREP_WHY="no Session Controller"
		fi
		if [ "$ready" = 1 ] && [ "$sc" != reg_storm ] &&
			! KCHILDREN=$(kam_pick "$sc") prepare_system "$sys" "$sc"; then
			ready=0
		fi
		for pct in 50 100; do
			rate=$((kr * pct / 100))
			if [ "$ready" = 0 ]; then
				LAT[$sys/$sc/$pct]="- - fail" LAT_WHY[$sys/$sc/$pct]=$PREP_WHY
				continue
			fi
			KCHILDREN=$(kam_pick "$sc") load_step "$sys" "$sc" "$rate" "$secs"
			LAT[$sys/$sc/$pct]="${STEP_P50:--} ${STEP_P99:--} $([ "$STEP_OK" = 1 ] && echo pass || echo fail)"
			LAT_WHY[$sys/$sc/$pct]=$STEP_WHY
			settle
		done
		[ "$sc" = sc_calls ] && stop_sc
	done
	stop_system
	return 0
}

# reg_storm's fixed step, which is also the memory figure (storm_fixed
# SYS, once a run per system: memory reuses it when reg_storm ran, or
# runs it): the system started afresh on an empty binding table, its
# memory at rest (tree_mem: RSS and PSS summed over its processes), then
# exactly STORM_USERS first registrations with digest auth (s1..sN) at
# STORM_RATE (2,000/s), then its memory just after the load and
# MEM_SETTLE_S (35) s later: the bindings live on, the load's
# transactions do not (RFC 3261 Timer J, 64*T1 = 32 s, for Junction's
# REGISTER server transactions), so the later figure is what the
# bindings cost. STORM[SYS] = "PROXY_CPU_OP PG_OP P50 P99 pass|fail",
# STORM_WHY[SYS] the failure.
declare -A STORM STORM_WHY MEM_REST MEM_WITH MEM_AFTER MEM_ROWS
storm_fixed() {
	local sys=$1 rate=${STORM_RATE:-2000} secs rows
	[ -n "${STORM[$sys]:-}" ] && return 0
	secs=$(((STORM_USERS + rate - 1) / rate))
	log "=== $sys: reg_storm's fixed step, $STORM_USERS first registrations at $rate/s, and the memory"
	if ! KCHILDREN=$(kam_pick reg_storm) start_system "$sys" auth; then
		STORM[$sys]="- - - - fail" STORM_WHY[$sys]="did not start"
		return
	fi
	sleep 2
	MEM_REST[$sys]=$(tree_mem "$SYS_PID")
	run_step "$sys" reg_storm "$rate" "$secs" "$STORM_USERS"
	STORM[$sys]="$STEP_CPU_OP $STEP_PG_OP ${STEP_P50:--} ${STEP_P99:--} $([ "$STEP_OK" = 1 ] && echo pass || echo fail)"
	STORM_WHY[$sys]=$STEP_WHY
	MEM_AFTER[$sys]=$(tree_mem "$SYS_PID")
	sleep "${MEM_SETTLE_S:-35}"
	MEM_WITH[$sys]=$(tree_mem "$SYS_PID")
	if [ "$sys" = junction ]; then
		rows=$(psqlq junction "SELECT count(*) FROM binding")
	else
		rows=$(psqlq kamailio "SELECT count(*) FROM location")
	fi
	MEM_ROWS[$sys]=$rows
	log "$sys memory: at rest rss/pss ${MEM_REST[$sys]// /\/} kB; just after the load ${MEM_AFTER[$sys]// /\/} kB; with $rows bindings ${MEM_WITH[$sys]// /\/} kB"
	stop_system
}
measure_memory() { storm_fixed "$1"; }

# mem_sessions (Junction only): what active sessions cost the nodes'
# memory. sc_affinity's two nodes with [sessions] affinity = yes and its
# Session Controller (sc_via_scenario's uas.xml, which waits for each
# call's BYE however late it comes), SESSIONS (10,000) calls set up at
# SESS_RATE (250/s) by bench/scenarios/uac_hold.xml (SIPp -l and -m
# SESSIONS), the INVITE to node 1, the ACK and the BYE to node 2, each
# call held SESS_HOLD_S seconds (SIPp -d; by default long enough for the
# measure below) before its BYE. Each node's RSS and PSS (tree_mem) and
# the dialog and session rows: at rest, with every call up and the
# set-up's transactions gone (MEM_SETTLE_S after the last INVITE), and
# MEM_SETTLE_S after the last BYE. SESS[...] holds them.
declare -A SESS
sess_rows() {
	psqlq junction "SELECT count(*) FILTER (WHERE state = 'confirmed') || ' confirmed and ' ||
	                       count(*) FILTER (WHERE state = 'ended') || ' ended dialogs, ' ||
	                       (SELECT count(*) FROM session WHERE ended_at IS NULL) || ' open sessions'
	                FROM dialog"
}
measure_sessions() {
	local sys=$1 n=${SESSIONS:-10000} rate=${SESS_RATE:-250} setup hold at up=0 t0 dir pid
	[ "$sys" = junction ] || { log "$sys: no mem_sessions (Junction only)"; return; }
	setup=$(((n + rate - 1) / rate))
	hold=${SESS_HOLD_S:-$((setup + ${MEM_SETTLE_S:-35} + 10))}
	# the measure with the calls up: once the set-up's transactions are
	# gone, before the first BYE
	at=$((setup + ${MEM_SETTLE_S:-35}))
	[ "$at" -ge $((hold - 2)) ] && at=$((hold - 2))
	if ! start_sc "$sys" mem_sessions; then
		SESS[note]="no Session Controller"
		return
	fi
	if ! prepare_system "$sys" mem_sessions; then
		SESS[note]=$PREP_WHY
		stop_sc
		return
	fi
	sleep 2
	SESS[rest1]=$(tree_mem "$SYS_PID") SESS[rest2]=$(tree_mem "$NODE2_PID") SESS[rows_rest]=$(sess_rows)
	log "mem_sessions: $n calls at $rate/s, each held ${hold}s; measured with the calls up ${at}s after the first"
	dir=$(mktemp -d "$WORK/sessions.XXXXXX")
	(cd "$dir" && exec sipp -sf "$SCEN/uac_hold.xml" -s sc -rsa "127.0.0.1:$PORT" -set dhost "$J2IP" \
		-set dport "$PORT" -i 127.0.0.1 -r "$rate" -m "$n" -l "$n" -d $((hold * 1000)) -nostdin \
		-buff_size 4194304 -timeout $((setup + hold + 60))s -trace_stat -stf stat.csv -fd 1 \
		"127.0.0.1:$PORT" >sipp.out 2>&1) &
	pid=$!
	PIDS+=("$pid")
	t0=$SECONDS
	while [ $((SECONDS - t0)) -lt "$at" ]; do
		sleep 1
		# (for the log: how many are up)
		[ $(((SECONDS - t0) % 10)) = 0 ] && up=$(psqlq junction "SELECT count(*) FROM dialog WHERE state = 'confirmed'") &&
			log "mem_sessions: $up dialogs confirmed after $((SECONDS - t0))s"
	done
	SESS[with1]=$(tree_mem "$SYS_PID") SESS[with2]=$(tree_mem "$NODE2_PID") SESS[rows_with]=$(sess_rows)
	log "mem_sessions: with the calls up: node 1 ${SESS[with1]// /\/} kB, node 2 ${SESS[with2]// /\/} kB; ${SESS[rows_with]}"
	wait "$pid"
	stop_pid "$pid"
	SESS[ok]=$(sipp_stat "$dir/stat.csv" 'SuccessfulCall(C)') SESS[failed]=$(sipp_stat "$dir/stat.csv" 'FailedCall(C)')
	log "mem_sessions: the calls ended ($((SECONDS - t0))s): ${SESS[ok]} ok, ${SESS[failed]} failed; ${MEM_SETTLE_S:-35}s more"
	sleep "${MEM_SETTLE_S:-35}"
	SESS[after1]=$(tree_mem "$SYS_PID") SESS[after2]=$(tree_mem "$NODE2_PID") SESS[rows_after]=$(sess_rows)
	log "mem_sessions: after: node 1 ${SESS[after1]// /\/} kB, node 2 ${SESS[after2]// /\/} kB; ${SESS[rows_after]}"
	SESS[n]=$n SESS[hold]=$hold SESS[at]=$at
	[ -n "${BENCH_KEEP:-}" ] && log "kept $dir" || rm -rf "$dir"
	sc_count "$sys" mem_sessions
	stop_system
	stop_sc
}
declare -A FRONT_OP LADDER LADDER_T LADDER_N

ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.2f", a / b; else print "-" }'
}

# sc_affinity's lines below the table: how it runs, affinity/plain and the
# goal (affinity costs at most 25% of plain calls/s).
affinity_report() {
	local a=${RATE[junction/sc_affinity:affinity]:-0} p=${RATE[junction/sc_affinity:plain]:-0} r goal
	r=$(ratio "$a" "$p")
	goal=$(awk -v r="$r" 'BEGIN { if (r == "-") print "not measured"; else if (r >= 0.75) print "holds"; else print "does NOT hold" }')
	echo
	echo "sc_affinity (Junction only: Kamailio has no equivalent, so no ratio): the calls of sc_calls"
	echo "through two Junction nodes (127.0.0.1 and $J2IP, one PostgreSQL, \`[cluster] record_route ="
	echo "bench.cluster\` on both), the INVITE to node 1, its ACK and BYE to node 2 (SIPp's setdest);"
	echo "plain: \`[sessions] affinity = no\` (node 2 follows the route set), affinity: \`yes\` (node 1"
	echo "records each dialog before its INVITE leaves, node 2 finds the Session Controller by the"
	echo "Request-URI, its Contact, and ends the dialog on the BYE). CPU per"
	echo "call is both nodes'. The Session Controller took: plain ${SC_SEEN[junction/sc_affinity:plain]:-not measured};"
	echo "affinity ${SC_SEEN[junction/sc_affinity:affinity]:-not measured}."
	echo
	echo "**sc_affinity: affinity/plain = $r ($a/$p calls/s); the goal, at most 25% fewer calls/s"
	echo "with affinity (>= 0.75), $goal.**"
}

# What registration events cost: the rates with [notify] off and on, the
# CPU per REGISTER of Junction, PostgreSQL and the back end, and the check
# that every event was delivered, once.
events_report() {
	local f=junction/reg_events:off o=junction/reg_events:on
	local fr=${RATE[$f]:-0} or=${RATE[$o]:-0}
	echo
	echo "reg_events (Junction only): reg_auth's refreshing REGISTERs (the same $USERS AORs and contacts"
	echo "over and over) through a node with \`[routing] session_controllers\` and a SIPp back end on"
	echo "$SCIP:$SCPORT in its pool (bench/scenarios/ev_backend.xml, \`-aa\`) that answers each NOTIFY"
	echo "200. off: \`[notify] mode = off\` (the triggers on binding run and find recording off);"
	echo "on: \`mode = reginfo\`, \`target = pool\`, \`refresh = yes\`, \`interval = 100\`: every"
	echo "REGISTER is an event, a row of the outbox written in its transaction and sent as an"
	echo "RFC 3680 NOTIFY to the back end, the row deleted on its 200. A step of on ends when the"
	echo "outbox is empty (at most ${EV_DRAIN_S:-5} s after the load; its CPU is counted until then)."
	echo "off: ${EV_SEEN[$f]:-not measured}; the check (no event) ${EV_CHECK[$f]:-was not made}."
	echo "on: ${EV_SEEN[$o]:-not measured}; the check (one NOTIFY per REGISTER, all delivered) ${EV_CHECK[$o]:-was not made}."
	echo
	echo "**reg_events: on/off = $(ratio "$or" "$fr") ($or/$fr REGISTERs/s); CPU per REGISTER (µs):"
	echo "Junction ${CPU_OP[$o]:--} on, ${CPU_OP[$f]:--} off; PostgreSQL ${PG_OP[$o]:--}, ${PG_OP[$f]:--}; the back end ${SC_OP[$o]:--}, ${SC_OP[$f]:--}.**"
}

# routing's name server: dnsmasq on 127.0.0.1:DNSPORT serving
# _sip._udp.bench.test (the UAS, priority 10) and its A record.
start_dns() {
	[ -n "${DNS_PID:-}" ] && kill -0 "$DNS_PID" 2>/dev/null && return 0
	cat >"$WORK/dns.conf" <<DNSCONF
no-resolv
no-hosts
listen-address=127.0.0.1
bind-interfaces
port=$DNSPORT
local-ttl=300
local=/test/
host-record=uas.bench.test,127.0.0.1
srv-host=_sip._udp.bench.test,uas.bench.test,$UASPORT,10,1
DNSCONF
	dnsmasq --no-daemon --conf-file="$WORK/dns.conf" --pid-file= --user="$(id -un)" \
		>"$WORK/dnsmasq.log" 2>&1 &
	DNS_PID=$!
	PIDS+=("$DNS_PID")
	sleep 0.5
	kill -0 "$DNS_PID"
}

# tls: the certificates (tests/integration/tls_lib.sh's openssl commands,
# in $WORK/pki: a CA, sut.pem and front.pem, each for IP:127.0.0.1, P-256
# keys) and Kamailio's tls module file, made once a run.
tls_setup() {
	[ -n "${TLS_READY:-}" ] && return 0
	# (T_DIR: where tls_lib.sh puts its pki directory)
	T_DIR=$WORK . "$top/tests/integration/tls_lib.sh" || return 1
	TLS_PKI=$WORK/pki
	rm -rf "$TLS_PKI"
	tls_ca && tls_cert sut IP:127.0.0.1 && tls_cert front IP:127.0.0.1 || return 1
	[ -s "$TLS_PKI/sut.pem" ] && [ -s "$TLS_PKI/front.pem" ] || return 1
	# the same as Junction's [tls]: TLS 1.2 or later, no client
	# certificate asked for; (client: unused, Kamailio opens none here)
	cat >"$WORK/kamailio-tls.cfg" <<TLSCFG
[server:default]
method = TLSv1.2+
verify_certificate = no
require_certificate = no
certificate = $TLS_PKI/sut.pem
private_key = $TLS_PKI/sut.key
ca_list = $TLS_PKI/ca.pem

[client:default]
method = TLSv1.2+
verify_certificate = yes
require_certificate = yes
ca_list = $TLS_PKI/ca.pem
TLSCFG
	TLS_READY=1
}

# tls's front proxy: a Junction node of its own on 127.0.0.1, UDP and TCP
# on FRONTPORT, TLS on FRONTPORT + 1 (a node sends TLS only from a TLS
# listener of its own), no database, the load's source trusted (no
# security checks), record-routing. It forwards each INVITE by its
# preloaded Route (uac_route.xml) to the proxy under test over TCP or TLS,
# the server's certificate verified ([tls] verify_server, its IP SAN),
# one connection reused for every call; the ACK and BYE by their route set.
# The same node, configuration and binary for both systems.
write_front_conf() {
	cat >"$WORK/front.conf" <<CONF
[sip]
listen = udp:127.0.0.1:$FRONTPORT tcp:127.0.0.1:$FRONTPORT tls:127.0.0.1:$((FRONTPORT + 1))
domain = localhost
record_route = yes
workers = ${JUNCTION_WORKERS:-2}
queue_depth = 65536
[security]
trusted = 127.0.0.0/8
[admin]
listen = 127.0.0.1:$FRONTADMINPORT
token = $JADMINTOKEN
[node]
name = front
[log]
level = ${JUNCTION_LOG:-warn}
[tls]
certificate = $TLS_PKI/front.pem
private_key = $TLS_PKI/front.key
ca_file = $TLS_PKI/ca.pem
verify_server = yes
min_version = 1.2
CONF
}
start_front() {
	stop_front
	ports_free "$FRONTPORT" $((FRONTPORT + 1)) "$FRONTADMINPORT" || return 1
	write_front_conf
	"$JUNCTION" -c "$WORK/front.conf" >>"$WORK/front.log" 2>&1 &
	FRONT_PID=$!
	PIDS+=("$FRONT_PID")
	sip_up "the front proxy" 127.0.0.1 "$FRONTPORT" || { stop_front; return 1; }
}
stop_front() {
	stop_pid "$FRONT_PID"
	FRONT_PID=""
}

# Kamailio's RPC (ctl's socket, tls scenario only): kamcmd CMD.
kam_rpc() { kamcmd -s "unix:$WORK/kamailio.ctl" "$@" 2>/dev/null; }

# What the connections between the front and the proxy under test were
# over a tls case (TLS_SEEN[sys/case], TLS_HS[sys/case]): the TLS
# handshakes the front completed (its junction_transport_handshakes_total,
# as client or server: its one peer is the proxy under test, so these are
# the proxy's too, whichever system), the proxy's own count where it
# keeps one (Junction's metric; Kamailio's tls.info gives only the TLS
# connections open now), and the connections open at the end (ss): from
# the front to the proxy's port, and from the proxy to the front's
# listener (a 2xx retransmission relayed by its Via, see README.md).
declare -A TLS_SEEN TLS_HS
tls_count() {
	local sys=$1 sc=$2 tr=${2#tls:} fok ffail sok sfail in out port=$PORT fport=$FRONTPORT own
	[ "$tr" = tls ] && port=$((PORT + 1)) fport=$((FRONTPORT + 1))
	fok=$(front_metric 'junction_transport_handshakes_total{transport="tls",outcome="ok"}')
	ffail=$(front_metric 'junction_transport_handshakes_total{transport="tls",outcome="failed"}')
	in=$(ss -Htn state established "( sport = :$port )" 2>/dev/null | wc -l)
	out=$(ss -Htn state established "( dport = :$fport )" 2>/dev/null | wc -l)
	if [ "$sys" = junction ]; then
		sok=$(node_metric 'junction_transport_handshakes_total{transport="tls",outcome="ok"}')
		sfail=$(node_metric 'junction_transport_handshakes_total{transport="tls",outcome="failed"}')
		own="the node counted ${sok:-?} TLS handshakes, ${sfail:-?} failed"
	else
		sok=$(kam_rpc tls.info | awk '/opened_connections/ {print $2}')
		own="tls.info: ${sok:-?} TLS connections open at the end"
	fi
	TLS_HS[$sys/$sc]=${fok:-?}
	TLS_SEEN[$sys/$sc]="the front counted ${fok:-?} TLS handshakes with it, ${ffail:-?} failed; $own; $tr connections open at the end (ss): $in from the front to port $port, $out from the proxy to the front's $fport"
	log "$sys $sc: ${TLS_SEEN[$sys/$sc]}"
}

# The cost of a new connection to the proxy under test (HS[sys/kind]),
# freshly started, nothing else running through it:
# bench/tls-handshakes opens HS_N (500) TLS connections to PORT + 1 one
# after the other, each with a full handshake and one OPTIONS answered
# 200, and HS_TCP_N (2000) TCP connections to PORT the same way, the
# proxy's CPU read before and after each loop. "N SECONDS OK FAILED
# VERSION CIPHER TICKS HANDSHAKES" (HANDSHAKES: the proxy's own count for
# Junction, else -).
declare -A HS
tls_handshakes() {
	local sys=$1 kind n port c0 c1 out h0 h1 hs
	settle
	for kind in tcp tls; do
		n=${HS_TCP_N:-2000} port=$PORT
		[ "$kind" = tls ] && n=${HS_N:-500} port=$((PORT + 1))
		h0=""
		[ "$sys" = junction ] && h0=$(node_metric 'junction_transport_handshakes_total{transport="tls",outcome="ok"}')
		c0=$(sys_ticks)
		out=$("$bench/tls-handshakes" 127.0.0.1 "$port" "$n" "$kind" "$TLS_PKI/ca.pem" 2>>"$WORK/tls-handshakes.err") ||
			out="- 0 $n - -"
		c1=$(sys_ticks)
		hs=-
		if [ -n "$h0" ]; then
			h1=$(node_metric 'junction_transport_handshakes_total{transport="tls",outcome="ok"}')
			hs=$((${h1:-0} - h0))
		fi
		HS[$sys/$kind]="$n $out $((c1 - c0)) $hs"
		[ "$kind" = tls ] && HS_CIPHER=$(echo "$out" | awk '{print $4, $5}')
		log "$sys: $n new $kind connections, each one OPTIONS: $out; $((c1 - c0)) ticks of the proxy; handshakes $hs"
		sleep 1
	done
}

# The rates tls's searches step on, from its start rate up x1.5 and down
# /1.5: ... 444 666 1000 1500 2250 3375 5062 ...
tls_grid() {
	local r up="" down=""
	r=$(start_rate tls:tcp)
	while [ "$r" -le 30000 ]; do up="$up $r"; r=$((r * 3 / 2)); done
	r=$(($(start_rate tls:tcp) * 2 / 3))
	while [ "$r" -ge 100 ]; do down="$r $down"; r=$((r * 2 / 3)); done
	echo $down $up
}
# tls_grid_next RATE up|down: the grid's next rate above or below RATE
# (0 below the lowest).
tls_grid_next() {
	local r prev=0
	for r in $(tls_grid); do
		if [ "$2" = up ]; then
			[ "$r" -gt "$1" ] && { echo "$r"; return; }
		else
			[ "$r" -ge "$1" ] && { echo "$prev"; return; }
			prev=$r
		fi
	done
	echo "$prev"
}
# tls_eq_rate KEY...: the highest rate of the grid at which every KEY
# (SYS/CASE) had a step that passed.
tls_eq_rate() {
	local r k best="" ok
	for r in $(tls_grid); do
		ok=1
		for k in "$@"; do
			[[ ${LADDER[$k@$r]:-fail} == fail ]] && ok=0
		done
		[ "$ok" = 1 ] && best=$r
	done
	echo "$best"
}
# tls's summary below the table: per system, TCP beside TLS (the rates,
# and the CPU per call at the highest rate both passed), Junction beside
# Kamailio, the CPU per call at each rate of the grid, the connections,
# the cost of a new connection.
tls_report() {
	local sys r rt rl k c n secs okc failed ver ciph ticks hs
	echo
	echo "tls: the calls of \`calls\` (INVITE to BYE, the callee \`uas\` looked up), from SIPp over UDP to"
	echo "a front proxy (a Junction node of its own, 127.0.0.1:$FRONTPORT, ${JUNCTION_WORKERS:-2} workers, no database, the"
	echo "same for both systems) that sends each INVITE by its preloaded Route (bench/scenarios/uac_route.xml)"
	echo "to the proxy under test over TCP or TLS, one connection for all the calls, and the ACK and BYE"
	echo "by their route set; the proxy under test (record-routing, transaction-stateful) relays"
	echo "to the SIPp UAS over UDP. TLS: 1.2 or later (negotiated: ${HS_CIPHER:-?}), a P-256"
	echo "certificate for 127.0.0.1 from a private CA, verified by the front, no client certificate. CPU"
	echo "per call is the proxy under test's; its rate/s, ratio and CPU columns above are at the rate"
	echo "each case held, its p50/p99 the round trip seen at the front's UDP port (SIPp's INVITE in to"
	echo "the 200 out, BYE in to its 200 out: the front twice, the proxy under test, the UAS)."
	[ -n "${TLS_SEARCH_S:-}${TLS_STEP_S:-}" ] &&
		echo "Its search steps took ${TLS_SEARCH_S:-$SEARCH_S} s and the best rate was held ${TLS_STEP_S:-$STEP_S} s (TLS_SEARCH_S, TLS_STEP_S)."
	echo "The machine is shared, so the rates are noisy: compare the CPU per call at equal rates."
	echo
	echo "| system | calls/s TCP | calls/s TLS | TLS/TCP calls/s | at calls/s | CPU µs/call TCP | CPU µs/call TLS | TLS/TCP CPU | front CPU µs/call TCP, TLS | TLS handshakes during the calls |"
	echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"
	for sys in $systems; do
		r=$(tls_eq_rate "$sys/tls:tcp" "$sys/tls:tls")
		rt=${LADDER[$sys/tls:tcp@$r]:--} rl=${LADDER[$sys/tls:tls@$r]:--}
		[ -z "$r" ] && rt=- rl=-
		echo "| $sys | ${RATE[$sys/tls:tcp]:-0} | ${RATE[$sys/tls:tls]:-0} | $(ratio "${RATE[$sys/tls:tls]:-0}" "${RATE[$sys/tls:tcp]:-0}") |" \
			"${r:--} | $rt | $rl | $(ratio "$rl" "$rt") | ${FRONT_OP[$sys/tls:tcp]:--}, ${FRONT_OP[$sys/tls:tls]:--} |" \
			"${TLS_HS[$sys/tls:tls]:--} |"
	done
	echo
	echo "calls/s: the rate each case held; at calls/s: the highest offered rate both of a system's"
	echo "cases passed, at which its CPU columns are (equal rates); front CPU: at the rates held;"
	echo "TLS handshakes: those between the front and the proxy under test over the tls case, as the"
	echo "front counted them (either way; Junction's own count is below, Kamailio keeps none)."
	if [[ " $systems " == *" junction "* ]] && [[ " $systems " == *" kamailio "* ]]; then
		local line="" tr
		for tr in tcp tls; do
			r=$(tls_eq_rate "junction/tls:$tr" "kamailio/tls:$tr")
			line="$line ${tr^^}: $(ratio "${RATE[junction/tls:$tr]:-0}" "${RATE[kamailio/tls:$tr]:-0}") in calls/s"
			line="$line (${RATE[junction/tls:$tr]:-0}/${RATE[kamailio/tls:$tr]:-0}), Kamailio/Junction CPU per call"
			if [ -n "$r" ]; then
				line="$line $(ratio "${LADDER[kamailio/tls:$tr@$r]}" "${LADDER[junction/tls:$tr@$r]}") at $r calls/s"
				line="$line (${LADDER[kamailio/tls:$tr@$r]}/${LADDER[junction/tls:$tr@$r]} µs);"
			else
				line="$line - (no rate both passed);"
			fi
		done
		echo
		echo "**tls: Junction/Kamailio:${line%;}.**"
	fi
	echo
	echo "CPU µs per call of the proxy under test at each rate of the search's grid, over the steps"
	echo "at that rate that passed (${TLS_SEARCH_S:-$SEARCH_S} s each, the held rate's ${TLS_STEP_S:-$STEP_S} s where it is one of these): their"
	echo "CPU over their calls; fail: no step at that rate passed; ·: not offered:"
	echo
	local rates=() hdr="| case |" sep="|---|"
	for r in $(tls_grid); do
		for k in "${!LADDER[@]}"; do
			if [[ $k == *"@$r" ]]; then rates+=("$r"); hdr="$hdr $r/s |"; sep="$sep---:|"; break; fi
		done
	done
	echo "$hdr"
	echo "$sep"
	for sys in $systems; do
		for c in tls:tcp tls:tls; do
			local row="| $sys ${c#tls:} |"
			for r in "${rates[@]}"; do row="$row ${LADDER[$sys/$c@$r]:-·} |"; done
			echo "$row"
		done
	done
	echo
	echo "The connections between the front and the proxy under test, over each case:"
	for sys in $systems; do
		for c in tls:tcp tls:tls; do
			echo "$sys ${c#tls:}: ${TLS_SEEN[$sys/$c]:-not measured}."
		done
	done
	echo
	echo "New connections (bench/tls-handshakes, before the tls case, to the proxy freshly started): one"
	echo "python3 client opens connections one after the other to it, sends one OPTIONS on each"
	echo "(answered 200 by the proxy) and closes it; TLS: a full handshake each (no resumption). CPU"
	echo "per connection: the proxy's, from /proc/PID/stat (10 ms ticks) over the loop. The loop's own"
	echo "rate is bound by its round trips and its own handshake work on the same 2 cores; 1,000,000"
	echo "over the CPU per connection is what one core of the proxy would take."
	echo
	echo "| system | transport | connections | ok | failed | seconds | connections/s (the loop) | CPU µs/connection | connections/s per core | handshakes counted |"
	echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"
	local cost=()
	for sys in $systems; do
		local per_tcp="" per_tls=""
		for k in tcp tls; do
			read -r n secs okc failed ver ciph ticks hs <<<"${HS[$sys/$k]:-- - - - - - - -}"
			local per="-" cps="-" core="-"
			if [ "$okc" != - ] && [ "${okc:-0}" -gt 0 ] 2>/dev/null; then
				per=$(awk -v t="$ticks" -v n="$okc" 'BEGIN { printf "%.0f", t * 10000 / n }')
				cps=$(awk -v s="$secs" -v n="$okc" 'BEGIN { if (s > 0) printf "%.0f", n / s; else print "-" }')
				core=$(awk -v p="$per" 'BEGIN { if (p > 0) printf "%.0f", 1000000 / p; else print "-" }')
			fi
			[ "$k" = tcp ] && per_tcp=$per || per_tls=$per
			echo "| $sys | $k | $n | $okc | $failed | $secs | $cps | $per | $core | $hs |"
		done
		cost+=("$sys $(awk -v a="$per_tls" -v b="$per_tcp" 'BEGIN { if (a + 0 > 0 && b != "-") printf "%.0f", a - b; else print "-" }') $per_tls $per_tcp")
	done
	echo
	local line=""
	local a b
	for k in "${cost[@]}"; do
		read -r sys c a b <<<"$k"
		line="$line $sys $c µs ($a µs a TLS connection, $b µs a TCP one),"
	done
	echo "**tls: a full TLS handshake (a new TLS connection with its OPTIONS, less a TCP one) costs the"
	echo "proxy under test${line%,}.**"
}

# The cost of RFC 3263 next hops and of accounting: ratios of two
# Junction cases each.
routing_report() {
	local n=junction/routing:numeric s=junction/routing:srv
	local nr=${RATE[$n]:-0} sr=${RATE[$s]:-0}
	echo
	echo "routing (Junction only): the calls of \`calls\` to a domain not the proxy's, from a"
	echo "trusted source: numeric, sip:uas@127.0.0.1:$UASPORT (no lookup); srv, sip:uas@bench.test"
	echo "whose next hop is _sip._udp.bench.test's SRV record (dnsmasq on 127.0.0.1:$DNSPORT, TTL"
	echo "300 s): NAPTR, SRV and A answered from the node's cache after the first call."
	echo
	echo "**routing: srv/numeric = $(ratio "$sr" "$nr") ($sr/$nr calls/s); CPU per call ${CPU_OP[$s]:--} µs srv,"
	echo "${CPU_OP[$n]:--} µs numeric.**"
}

# reg_partitioned's second database (junction_part): a copy of junction
# (the schema, the subscribers) with binding hash-partitioned by
# bench/partition-binding.sql, made once a run (no node connected to
# junction while it is copied).
declare -A PART_T PART_P PART_N
PART_SEEN=""
part_db_setup() {
	[ -n "${PART_READY:-}" ] && return 0
	stop_system
	psqlq postgres "DROP DATABASE IF EXISTS junction_part" >/dev/null || return 1
	for _ in $(seq 20); do
		psqlq postgres "CREATE DATABASE junction_part TEMPLATE junction" >/dev/null 2>&1 && break
		sleep 0.5 # the last node's connections closing
	done
	psql -X -q -h 127.0.0.1 -p "$PGPORT" -U postgres -d junction_part -v ON_ERROR_STOP=1 \
		-v partitions="${PARTITIONS:-8}" -f "$bench/partition-binding.sql" >"$WORK/partition.log" 2>&1 ||
		{ log "bench/partition-binding.sql: $(tail -n 3 "$WORK/partition.log")"; return 1; }
	[ "$(psqlq junction_part "SELECT relkind FROM pg_class WHERE oid = 'binding'::regclass")" = p ] ||
		return 1
	log "junction_part: binding in $(psqlq junction_part "SELECT count(*) FROM pg_inherits
	                                 WHERE inhparent = 'binding'::regclass") hash partitions"
	PART_READY=1
}
# What the partitioned case left in its table: the bindings per partition.
part_count() {
	PART_SEEN=$(psqlq junction_part "SELECT sum(n) || ' bindings, ' ||
	                                 string_agg(n::text, '/' ORDER BY p) || ' by partition'
	                                 FROM (SELECT tableoid::regclass::text AS p, count(*) AS n
	                                       FROM binding GROUP BY 1) s")
	log "junction_part: ${PART_SEEN:-?}"
}
# CPU µs per operation from ticks and operations
per_op() { awk -v t="$1" -v n="$2" 'BEGIN { if (n > 0) printf "%.0f", t * 10000 / n; else print "-" }'; }
# What hash-partitioning binding does to authenticated REGISTERs: the
# rates, and the CPU per REGISTER of Junction and PostgreSQL at the rates
# held and at the highest offered rate both cases passed.
partition_report() {
	local p=junction/reg_partitioned:plain q=junction/reg_partitioned:partitioned
	local pr=${RATE[$p]:-0} qr=${RATE[$q]:-0} k r eq="" jp jq pp pq
	for k in "${!PART_N[@]}"; do
		[[ $k == "$p@"* ]] || continue
		r=${k##*@}
		if [ -n "${PART_N[$q@$r]:-}" ] && { [ -z "$eq" ] || [ "$r" -gt "$eq" ]; }; then eq=$r; fi
	done
	if [ -n "$eq" ]; then
		jp=$(per_op "${PART_T[$p@$eq]}" "${PART_N[$p@$eq]}") jq=$(per_op "${PART_T[$q@$eq]}" "${PART_N[$q@$eq]}")
		pp=$(per_op "${PART_P[$p@$eq]}" "${PART_N[$p@$eq]}") pq=$(per_op "${PART_P[$q@$eq]}" "${PART_N[$q@$eq]}")
	fi
	echo
	echo "reg_partitioned (Junction only: Kamailio has no equivalent, so the ratio is partitioned"
	echo "over plain Junction): reg_auth's REGISTERs (401, REGISTER with credentials, 200; the same"
	echo "$USERS AORs and contacts refreshed over and over) through the same node, on two databases"
	echo "of the same PostgreSQL: plain, \`junction\` as migrated; partitioned, its copy"
	echo "\`junction_part\` after bench/partition-binding.sql (binding PARTITION BY HASH (aor),"
	echo "${PARTITIONS:-8} partitions, PRIMARY KEY (id, aor), fillfactor 70 on each partition); ${PART_FIRST:-plain}"
	echo "measured first (PART_FIRST). The partitioned table at the end: ${PART_SEEN:-not measured}."
	echo
	echo "**reg_partitioned: partitioned/plain = $(ratio "$qr" "$pr") ($qr/$pr REGISTERs/s); CPU per REGISTER"
	echo "(µs) at the rates held: Junction ${CPU_OP[$q]:--} partitioned, ${CPU_OP[$p]:--} plain; PostgreSQL"
	echo "${PG_OP[$q]:--}, ${PG_OP[$p]:--}; at ${eq:--} REGISTERs/s, the highest offered rate both passed:"
	echo "Junction ${jq:--}, ${jp:--}; PostgreSQL ${pq:--}, ${pp:--} (partitioned/plain $(ratio "${pq:-0}" "${pp:-0}")).**"
}

acct_report() {
	local f=junction/acct:off o=junction/acct:on
	local fr=${RATE[$f]:-0} or=${RATE[$o]:-0}
	echo
	echo "acct (Junction only): the calls of \`calls\` with nothing recorded (off) and with an"
	echo "access log line per transaction (\`[log] access\`, logfmt, to a file) and call records"
	echo "(\`[cdr] enabled\`: start, answer, end rows, batched every 200 ms) on: $(psqlq junction \
		"SELECT count(*) FROM cdr" 2>/dev/null || echo '?') cdr rows written by the last step."
	echo
	echo "**acct: on/off = $(ratio "$or" "$fr") ($or/$fr calls/s); CPU per call (µs): Junction"
	echo "${CPU_OP[$o]:--} on, ${CPU_OP[$f]:--} off; PostgreSQL ${PG_OP[$o]:--}, ${PG_OP[$f]:--}.**"
}

# The cost of the security checks of every request from a source that is
# not trusted (the scanner check, the rate count, the ban lookup).
security_report() {
	local c=${RATE[junction/security:checked]:-0} t=${RATE[junction/security:trusted]:-0}
	echo
	echo "security (Junction only): the calls of \`calls\` with the checks of an untrusted source"
	echo "on every request (checked: \`[security] rate_limit = 1000000\`, SIPp's 127.0.0.1 not"
	echo "trusted) and without them (trusted: \`trusted = 127.0.0.0/8\`). checked/trusted ="
	echo "$(ratio "$c" "$t") ($c/$t calls/s); CPU per call ${CPU_OP[junction/security:checked]:--} µs checked,"
	echo "${CPU_OP[junction/security:trusted]:--} µs trusted."
}

# What delegated registration costs against local auth: the rates, and
# the CPU per REGISTER of Junction, PostgreSQL and the back end.
delegate_report() {
	local l=junction/delegate:local d=junction/delegate:delegated
	local lr=${RATE[$l]:-0} dr=${RATE[$d]:-0}
	echo
	echo "delegate (Junction only): refreshing REGISTERs (the same $USERS AORs and contacts over and"
	echo "over: UPDATEs), local: reg_auth's (\`[auth] mode = local\`, 401 and the credentials checked"
	echo "by Junction, a REGISTER counted once); delegated: \`[auth] mode = delegate\`, each REGISTER"
	echo "forwarded, transaction-stateful, to a SIPp back end on $SCIP:$SCPORT"
	echo "(bench/scenarios/sc_registrar.xml, in the pool with \`[routing] session_controllers\`) that"
	echo "answers it 200 without a challenge; the binding is stored before the 200 goes back. The"
	echo "back end took ${SC_SEEN[$d]:-not measured}."
	echo
	echo "**delegate: delegated/local = $(ratio "$dr" "$lr") ($dr/$lr REGISTERs/s); CPU per REGISTER (µs):"
	echo "Junction ${CPU_OP[$d]:--} delegated, ${CPU_OP[$l]:--} local; PostgreSQL ${PG_OP[$d]:--}, ${PG_OP[$l]:--}; the back end ${SC_OP[$d]:--}.**"
}

# holds VALUE le|ge TARGET: whether a figure meets its target
holds() {
	awk -v v="$1" -v op="$2" -v t="$3" 'BEGIN { if (v == "-" || v == "" || t == "-" || t == "") print "not measured";
		else if ((op == "le" && v + 0 <= t + 0) || (op == "ge" && v + 0 >= t + 0)) print "holds"; else print "does NOT hold" }'
}
# 1234567 -> 1,234,567
thousands() { echo "$1" | sed -e ':a' -e 's/\([0-9]\)\([0-9]\{3\}\)\($\|[^0-9]\)/\1,\2\3/' -e 'ta'; }
# kB -> MiB, one decimal
mib() { awk -v k="$1" 'BEGIN { if (k + 0 > 0) printf "%.1f", k / 1024; else print "-" }'; }

# Below the table: the UDP children each of Kamailio's rows ran with
# (and what each count held where a list was explored), and the receive
# buffers the proxies' UDP sockets got.
children_report() {
	local sc c k line="" sys buf=""
	if [[ " $systems " == *" kamailio "* ]]; then
		for sc in $SCENARIOS; do
			for c in $(cases_of "$sc"); do
				k=kamailio/$c
				[ -n "${KCH[$k]:-}" ] || continue
				line="$line ${c/:/ } ${KCH[$k]}"
				[[ ${KCH_ALL[$k]:-} == *,* ]] && line="$line (${KCH_ALL[$k]})"
				line="$line,"
			done
		done
		[[ " $SCENARIOS " == *" reg_storm "* || " $SCENARIOS " == *" memory "* ]] &&
			line="$line reg_storm's fixed step and memory $(kam_pick reg_storm),"
		echo
		echo "Kamailio's children per scenario:${line%,} ($([ -n "${KAMAILIO_CHILDREN:-}" ] &&
			echo "KAMAILIO_CHILDREN=\"$KAMAILIO_CHILDREN\"" || echo "bench's per-scenario defaults, kam_children"))."
	fi
	for sys in $systems; do
		[ -n "${RCVBUF_SEEN[$sys]:-}" ] && buf="$buf $sys ${RCVBUF_SEEN[$sys]#rb},"
	done
	[ -n "$buf" ] && echo "UDP receive buffers of the proxies' sockets (ss -uanm, as the kernel reports them, twice what was set):${buf%,} bytes."
	return 0
}

# "P50 / P99" of a latency step, "(fail)" when it did not pass
lat_cell() {
	local p50 p99 ok
	read -r p50 p99 ok <<<"${LAT[$1/$2/$3]:-- - -}"
	echo "$p50 / $p99$([ "$ok" = fail ] && echo " (fail)")"
}
# The section "Latency at Kamailio's rates": per scenario both systems
# ran, each system's p50/p99 at 50% and 100% of Kamailio's best rate, and
# whether Junction's p99 at 100% is at most a quarter of Kamailio's.
latency_report() {
	[[ " $systems " == *" junction "* && " $systems " == *" kamailio "* ]] || return 0
	local sc kr any="" jp kp q pct sys why=""
	for sc in $SCENARIOS; do [[ " $LAT_SCENARIOS " == *" $sc "* ]] && any=1; done
	[ -n "$any" ] || return 0
	echo
	echo "## Latency at Kamailio's rates"
	echo
	echo "Once both systems' rates were found, each ran one step of ${LAT_S:-$STEP_S} s at 50% and one at 100% of"
	echo "Kamailio's best rate for the scenario, the same offered rates for both (Kamailio with the"
	echo "children its search kept, each system started afresh; reg_storm's steps each on an empty"
	echo "binding table). p50 / p99 in ms, the proxy's own, from the wire as in the table; (fail): the"
	echo "step did not pass the rule above."
	echo
	echo "| scenario | rate/s (50%) | Kamailio p50 / p99 | Junction p50 / p99 | rate/s (100%) | Kamailio p50 / p99 | Junction p50 / p99 | J p99 ≤ ¼ of K p99 at 100% |"
	echo "|---|---:|---:|---:|---:|---:|---:|---|"
	for sc in $SCENARIOS; do
		[[ " $LAT_SCENARIOS " == *" $sc "* ]] || continue
		kr=${RATE[kamailio/$sc]:-0}
		if [ "$kr" -le 0 ]; then
			echo "| $sc | - | - | - | - | - | - | not measured: Kamailio held no rate |"
			continue
		fi
		read -r _ kp _ <<<"${LAT[kamailio/$sc/100]:-- - -}"
		read -r _ jp _ <<<"${LAT[junction/$sc/100]:-- - -}"
		q=$(awk -v j="$jp" -v k="$kp" 'BEGIN { if (j == "-" || k == "-") print "-"; else if (j <= k / 4) print "yes"; else print "no" }')
		echo "| $sc | $((kr * 50 / 100)) | $(lat_cell kamailio "$sc" 50) | $(lat_cell junction "$sc" 50) | $((kr * 100 / 100)) |" \
			"$(lat_cell kamailio "$sc" 100) | $(lat_cell junction "$sc" 100) | $q |"
		for sys in kamailio junction; do
			for pct in 50 100; do
				[ -n "${LAT_WHY[$sys/$sc/$pct]:-}" ] && why="$why $sc $sys $pct%: ${LAT_WHY[$sys/$sc/$pct]};"
			done
		done
	done
	[ -n "$why" ] && echo && echo "Steps that failed:${why%;}."
	return 0
}

# reg_storm's lines below the table: how it runs, the fixed step's figures
# per system, and against the targets (PostgreSQL's CPU per registration
# Junction/Kamailio <= 0.5, the rates >= 2, Junction's p99 <= Kamailio's,
# Junction's RSS <= 64 MiB).
storm_report() {
	local sys line="" cpu pg p50 p99 ok
	local -A spg sp99
	echo
	echo "reg_storm: first registrations with digest auth (401, REGISTER with credentials, 200) of"
	echo "AORs never registered before in the step (s1, s2, ... of $(thousands "$STORM_USERS") subscribers), each 200"
	echo "an INSERT of a new binding, like the storm after a data-centre outage: every step on an"
	echo "empty binding table, its system started afresh, rate x seconds AORs (the step shortened to"
	echo "no more than $(thousands "$STORM_USERS")). The fixed step: exactly $(thousands "$STORM_USERS") registrations at"
	echo "$(thousands "${STORM_RATE:-2000}")/s for each system, PostgreSQL's and the proxy's CPU per registration, p50/p99"
	echo "as in the table, and the proxy's memory (RSS and PSS summed over its processes)"
	echo "${MEM_SETTLE_S:-35} s after the load (the memory scenario's figure too)."
	for sys in $systems; do
		read -r cpu pg p50 p99 ok <<<"${STORM[$sys]:-- - - - -}"
		spg[$sys]=$pg sp99[$sys]=$p99
		local with=(${MEM_WITH[$sys]:-- -}) name=${sys^}
		line="$line $name PG $pg µs/reg, proxy $cpu µs/reg, p50 $p50 ms, p99 $p99 ms, memory $(mib "${with[1]}") MiB PSS"
		case $ok in pass) ok=passed ;; fail) ok=failed ;; *) ok="not run" ;; esac
		line="$line ($(mib "${with[0]}") MiB RSS, ${MEM_ROWS[$sys]:-?} bindings), the step $ok${STORM_WHY[$sys]:+ (${STORM_WHY[$sys]})};"
	done
	echo
	echo "**reg_storm at $(thousands "${STORM_RATE:-2000}")/s:${line%;}.**"
	if [[ " $systems " == *" junction "* && " $systems " == *" kamailio "* ]]; then
		local pr rr jrss
		pr=$(ratio "${spg[junction]}" "${spg[kamailio]}")
		rr=$(ratio "${RATE[junction/reg_storm]:-0}" "${RATE[kamailio/reg_storm]:-0}")
		local jw=(${MEM_WITH[junction]:-- -})
		jrss=$(mib "${jw[0]}")
		echo
		echo "**reg_storm against its targets: PostgreSQL CPU per registration Junction/Kamailio = $pr"
		echo "(target ≤ 0.5: $(holds "$pr" le 0.5)); rate Junction/Kamailio = $rr (${RATE[junction/reg_storm]:-0}/${RATE[kamailio/reg_storm]:-0}"
		echo "registrations/s; target ≥ 2: $(holds "$rr" ge 2)); p99 at $(thousands "${STORM_RATE:-2000}")/s Junction ${sp99[junction]} ms, Kamailio"
		echo "${sp99[kamailio]} ms (target ≤ Kamailio's: $(holds "${sp99[junction]}" le "${sp99[kamailio]}")); Junction's RSS with the bindings $jrss MiB"
		echo "(target ≤ 64 MiB: $(holds "$jrss" le 64)).**"
	fi
	return 0
}

# mem_sessions' lines below the table: each node's memory at rest, with
# the calls up and after, the cost per session, the rows.
sessions_report() {
	local i n=${SESS[n]:-0} tr=0 tp=0
	echo
	echo "mem_sessions (Junction only): $(thousands "$n") calls up at once through sc_affinity's two nodes"
	echo "with \`[sessions] affinity = yes\` (the INVITE to node 1, which records each dialog and its"
	echo "session in PostgreSQL before it leaves, the ACK and the BYE to node 2, which finds the"
	echo "Session Controller by the ACK's Request-URI, its Contact), the Session Controller a SIPp UAS on $SCIP; the calls"
	echo "set up at ${SESS_RATE:-250}/s by bench/scenarios/uac_hold.xml, each held ${SESS[hold]:-?} s before its BYE. Memory"
	echo "(tree_mem: RSS / PSS kB) at rest, ${SESS[at]:-?} s after the first INVITE (every call up, the"
	echo "set-up's transactions gone) and ${MEM_SETTLE_S:-35} s after the last BYE."
	if [ -n "${SESS[note]:-}" ]; then
		echo
		echo "**mem_sessions: not measured: ${SESS[note]}.**"
		return 0
	fi
	echo
	echo "| node | at rest | with $(thousands "$n") sessions | after | bytes per session (RSS / PSS) |"
	echo "|---|---:|---:|---:|---:|"
	for i in 1 2; do
		local r=(${SESS[rest$i]:-0 0}) w=(${SESS[with$i]:-0 0}) a=(${SESS[after$i]:-0 0})
		local cr cp
		cr=$(awk -v a="${w[0]}" -v b="${r[0]}" -v n="$n" 'BEGIN { if (n > 0) printf "%.0f", (a - b) * 1024 / n; else print "-" }')
		cp=$(awk -v a="${w[1]}" -v b="${r[1]}" -v n="$n" 'BEGIN { if (n > 0) printf "%.0f", (a - b) * 1024 / n; else print "-" }')
		tr=$((tr + w[0] - r[0])) tp=$((tp + w[1] - r[1]))
		echo "| node $i | ${r[0]} / ${r[1]} | ${w[0]} / ${w[1]} | ${a[0]} / ${a[1]} | $cr / $cp |"
	done
	echo
	echo "In PostgreSQL: at rest ${SESS[rows_rest]:-?}; with the calls up"
	echo "${SESS[rows_with]:-?}; after ${SESS[rows_after]:-?}. SIPp: ${SESS[ok]:-?} calls ok, ${SESS[failed]:-?} failed; the Session"
	echo "Controller took ${SC_SEEN[junction/mem_sessions]:-not measured}."
	echo
	echo "**mem_sessions: $(thousands "$n") sessions cost the two nodes $(mib "$tr") MiB RSS ($(mib "$tp") MiB PSS),"
	echo "$(awk -v t="$tr" -v n="$n" 'BEGIN { if (n > 0) printf "%.0f", t * 1024 / n; else print "-" }') bytes of RSS per session.**"
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
		"pass = < 0.1% failed, SIPp's retransmissions at most 1% of the operations, rate kept (UDP receive-buffer drops reported, not a failure)."
	echo
	echo "| scenario | system | rate/s | ratio | proxy CPU µs/op | PG CPU µs/op | p50 ms | p99 ms | note |"
	echo "|---|---|---:|---:|---:|---:|---:|---:|---|"
	local sc sys c
	for sc in $SCENARIOS; do
		[[ $sc == memory || $sc == mem_sessions ]] && continue
		for sys in $systems; do
			if [[ $sc == sc_affinity || $sc == security || $sc == delegate || $sc == reg_events || $sc == routing || $sc == acct || $sc == reg_partitioned ]] && [ "$sys" != junction ]; then
				echo "| $sc | $sys | — | — | — | — | — | — | no equivalent: Junction only |"
				continue
			fi
			for c in $(cases_of "$sc"); do
				local k="$sys/$c" r="" note=""
				[ "$sys" = junction ] && r=$(ratio "${RATE[junction/$c]:-0}" "${RATE[kamailio/$c]:-0}")
				[[ $sc == sc_affinity || $sc == security || $sc == delegate || $sc == reg_events || $sc == routing || $sc == acct || $sc == reg_partitioned ]] && r="—"
				# the note: Kamailio's children, why the search stopped, and
				# what the reported step retransmitted and dropped
				[ -n "${KCH[$k]:-}" ] && note="${KCH[$k]} children"
				[ -n "${NOTE[$k]:-}" ] && note="${note:+$note; }${NOTE[$k]}"
				[ "${RETR[$k]:-0}" -gt 0 ] && note="${note:+$note; }${RETR[$k]} retransmissions"
				[ "${DROPS[$k]:-0}" -gt 0 ] && note="${note:+$note; }${DROPS[$k]} UDP receive-buffer drops"
				echo "| ${c/:/ } | $sys | ${RATE[$k]:-0} | $r | ${CPU_OP[$k]:--} | ${PG_OP[$k]:--} | ${P50[$k]:--} | ${P99[$k]:--} | $note |"
			done
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
		echo
		echo "memory: reg_storm's fixed step (below): the proxy at rest, then with the bindings of"
		echo "$STORM_USERS first registrations with digest auth (one AOR each) ${MEM_SETTLE_S:-35} s after the load, and just after it."
	fi
	echo
	echo "CPU per operation: the process tree's user+system time (/proc/PID/stat) over the"
	echo "step, divided by the successful operations (a REGISTER with auth counts once; a call"
	echo "is INVITE to BYE). Junction: ${JUNCTION_WORKERS:-2} workers with ${JUNCTION_DB_CONNS:-1} database connection(s) each."
	children_report
	latency_report
	[[ " $SCENARIOS " == *" reg_storm "* || " $SCENARIOS " == *" memory "* ]] && storm_report
	[[ " $SCENARIOS " == *" mem_sessions "* ]] && [[ " $systems " == *" junction "* ]] && sessions_report
	if [[ " $SCENARIOS " == *" sc_calls "* ]]; then
		echo
		echo "sc_calls: the calls of \`calls\`, but the proxy sends each INVITE, its Request-URI unchanged,"
		echo "to a Session Controller (a SIPp UAS on $SCIP, probed with OPTIONS every 5 s) instead of"
		echo "looking the callee up: Junction with \`[routing] session_controllers\` (its pool in"
		echo "PostgreSQL), Kamailio with \`dispatcher\` (ds_select_dst, ds_probing_mode 1). The Session"
		echo "Controller took, over all the steps:$(for sys in $systems; do echo -n " $sys ${SC_SEEN[$sys/sc_calls]:-not measured};"; done | sed 's/;$/./')"
	fi
	[[ " $SCENARIOS " == *" sc_affinity "* ]] && [[ " $systems " == *" junction "* ]] && affinity_report
	[[ " $SCENARIOS " == *" security "* ]] && [[ " $systems " == *" junction "* ]] && security_report
	[[ " $SCENARIOS " == *" delegate "* ]] && [[ " $systems " == *" junction "* ]] && delegate_report
	[[ " $SCENARIOS " == *" reg_events "* ]] && [[ " $systems " == *" junction "* ]] && events_report
	[[ " $SCENARIOS " == *" routing "* ]] && [[ " $systems " == *" junction "* ]] && routing_report
	[[ " $SCENARIOS " == *" acct "* ]] && [[ " $systems " == *" junction "* ]] && acct_report
	[[ " $SCENARIOS " == *" reg_partitioned "* ]] && [[ " $systems " == *" junction "* ]] && partition_report
	[[ " $SCENARIOS " == *" db_failover "* ]] && failover_report
	[[ " $SCENARIOS " == *" tls "* ]] && tls_report
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

# db_failover (issue 22): the scenario's own functions
. "$bench/failover.sh"
