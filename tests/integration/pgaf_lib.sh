# A pg_auto_failover formation for one test (sourced after lib.sh): a
# monitor and two data nodes, a and b, on 127.0.0.1, each on a free_port
# port, all under $T_DIR/pgaf, run as the postgres system user (PostgreSQL
# refuses root), --auth trust, --no-ssl. Every process of a node (its
# pg_autoctl services, its postgres and whatever they start) has its
# working directory under $T_DIR/pgaf/NODE, which is how they are found:
# pgaf_kill and the cleanup SIGSTOP them all, then SIGKILL them, and the
# cleanup (chained before any T_CLEANUP_HOOK set earlier) says so when
# anything is left.
#
# Replication is what pg_auto_failover 2.0 does with one standby whose
# replication-quorum is true (the default; number_sync_standbys is 0 and
# does not matter with two nodes): while the standby is "secondary" the
# primary has synchronous_standby_names = 'ANY 1
# (pgautofailover_standby_N)' and synchronous_commit = on, so a COMMIT
# returns only once the standby has flushed it; while there is no
# secondary the primary is "wait_primary" with synchronous_standby_names
# empty (asynchronous, nothing to wait for). pgaf_setup and
# pgaf_wait_secondary check that the primary is synchronous again.
#
# The monitor's timings are made short (PGAF_GUCS) so that a failover
# takes a few seconds: a health check a second, one retry after 500 ms,
# the node unhealthy 2 s after its keeper last reported, 1 s for a
# primary to demote itself.
#
#   pgaf_setup                 monitor, node a (primary) with the
#                              database junction, node b (its synchronous
#                              standby); exports PGAF_CONNINFO (both nodes,
#                              target_session_attrs=read-write) and
#                              PGAF_PORT[monitor|a|b]; 1 (and the logs'
#                              ends on stderr) on failure
#   pgaf_primary / pgaf_standby
#                              which node (a|b) is primary / the other one,
#                              per the monitor (primary: its goal state is
#                              one that takes writes); nothing and 1 when no
#                              node is primary now
#   pgaf_state                 "node reported goal" lines, from the monitor
#   pgaf_kill NODE             the loss of a machine: every process of
#                              NODE stopped (its postgres first, within
#                              milliseconds), then SIGKILLed (its keeper
#                              cannot restart anything); PGAF_KILLED: when
#                              the postgres was frozen (ms since the epoch);
#                              1 when some process is still there 5 s later
#   pgaf_wait_primary NODE SECONDS
#                              until NODE is primary and writable (not in
#                              recovery, default_transaction_read_only off,
#                              the monitor agrees); prints the seconds
#                              waited until the probe that saw it began (a
#                              probe every 0.1 s, plus a psql's time); 1 on
#                              timeout
#   pgaf_rejoin NODE           NODE's keeper started again (pg_autoctl run):
#                              it rejoins as a standby (pg_rewind)
#   pgaf_wait_secondary NODE SECONDS
#                              until NODE is secondary and the primary
#                              synchronous again (primary state, a
#                              synchronous_standby_names naming NODE, the
#                              standby streaming in quorum); prints the
#                              seconds waited; 1 on timeout
#   pgaf_psql NODE SQL         one query on NODE (a|b: database junction;
#                              monitor: pg_auto_failover), unaligned
#   pgaf_logs                  the end of every node's log on stderr
#
# Environment: PGAF_BIN (the PostgreSQL binaries pg_autoctl uses, default
# the highest version with the pgautofailover extension); PGAF_NODE_CONF
# (lines for node a's postgresql.auto.conf, which node b copies: bench's
# db_failover gives the nodes the shared_buffers and max_connections of
# its single server).

declare -A PGAF_PORT=() PGAF_RUN=()
PGAF_NAME_a=node_a
PGAF_NAME_b=node_b
# (pwd -P: the working directories in /proc are real paths)
PGAF_DIR=$(cd "$T_DIR" && pwd -P)/pgaf
# the monitor's timings (see above); startup_grace_period: how long after
# the monitor's own start it refrains from any failover
PGAF_GUCS="pgautofailover.health_check_period = 1000
pgautofailover.health_check_timeout = 1000
pgautofailover.health_check_max_retries = 1
pgautofailover.health_check_retry_delay = 500
pgautofailover.node_considered_unhealthy_timeout = 2000
pgautofailover.primary_demote_timeout = 1000
pgautofailover.startup_grace_period = 1000"
# the states in which a node takes writes
PGAF_WRITABLE="'single','wait_primary','primary','join_primary','apply_settings'"

pgaf_bindir() {
	local d
	for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -rV); do
		[ -f "$d/../lib/pgautofailover.so" ] && { echo "$d"; return 0; }
	done
	return 1
}
: "${PGAF_BIN:=$(pgaf_bindir)}"

# pgaf_as DIR CMD...: CMD as the postgres user (when root), working
# directory DIR, pg_autoctl's own files (config, state, pid) under
# $PGAF_DIR/xdg instead of ~postgres and /tmp; pgaf_cmd DIR CMD...: that
# command line in PGAF_CMD
pgaf_cmd() {
	local dir=$1
	shift
	PGAF_CMD=(env -C "$dir" XDG_CONFIG_HOME="$PGAF_DIR/xdg/config" XDG_DATA_HOME="$PGAF_DIR/xdg/data"
		XDG_RUNTIME_DIR="$PGAF_DIR/xdg/run" PATH="$PGAF_BIN:$PATH" "$@")
	[ "$(id -u)" -eq 0 ] && PGAF_CMD=(runuser -u postgres -- "${PGAF_CMD[@]}")
	return 0
}

pgaf_as() {
	pgaf_cmd "$@"
	"${PGAF_CMD[@]}"
}

# pgaf_service NODE ARGS...: pg_autoctl ARGS in the background for NODE
# (monitor|a|b), its output appended to $PGAF_DIR/NODE.log. A simple
# command, so that $! is runuser itself (not a subshell around it):
# runuser stops itself when its child is stopped, and pgaf_kill and the
# cleanup kill it by that pid.
PGAF_RUNS=()
pgaf_service() {
	local node=$1
	shift
	echo "==== $(date +%T.%3N) pg_autoctl $1 $2" >>"$PGAF_DIR/$node.log"
	pgaf_cmd "$PGAF_DIR/$node" pg_autoctl "$@"
	"${PGAF_CMD[@]}" >>"$PGAF_DIR/$node.log" 2>&1 &
	PGAF_RUN[$node]=$!
	PGAF_RUNS+=("$!")
	disown "$!" # no "Killed" notice from bash when pgaf_kill ends it
}

pgaf_psql() {
	local node=$1 db=junction
	[ "$node" = monitor ] && db=pg_auto_failover
	psql -X -q -A -t -h 127.0.0.1 -p "${PGAF_PORT[$node]}" -U postgres -d "$db" \
		-v ON_ERROR_STOP=1 -c "$2" 2>/dev/null
}

pgaf_state() {
	pgaf_psql monitor "SELECT nodename || ' ' || reportedstate || ' ' || goalstate FROM pgautofailover.node ORDER BY nodeid"
}

# (the goal state: a keeper reports the state it reached only on its next
# call to the monitor, up to a second after it takes writes)
pgaf_primary() {
	local name
	name=$(pgaf_psql monitor "SELECT nodename FROM pgautofailover.node WHERE goalstate IN ($PGAF_WRITABLE)") || return 1
	case $name in
	"$PGAF_NAME_a") echo a ;;
	"$PGAF_NAME_b") echo b ;;
	*) return 1 ;;
	esac
}

pgaf_standby() {
	case $(pgaf_primary) in
	a) echo b ;;
	b) echo a ;;
	*) return 1 ;;
	esac
}

# pgaf_procs DIR: the processes working in DIR or below, also when it was
# removed under them (one find, not a command per process: pgaf_kill must
# be quick; a zombie has no working directory, so it is not listed)
pgaf_procs() {
	find /proc -mindepth 2 -maxdepth 2 -name cwd \( -lname "$1" -o -lname "$1/*" -o -lname "$1 (deleted)" \) 2>/dev/null |
		cut -d/ -f3
}

# pgaf_killall DIR: SIGSTOP to every process in DIR until no new one
# shows up (nothing forks any more), then SIGKILL to all of them; 0 when
# none is left within 5 s
pgaf_killall() {
	local dir=$1 p new all=" "
	for _ in $(seq 20); do
		new=0
		for p in $(pgaf_procs "$dir"); do
			[[ $all == *" $p "* ]] && continue
			kill -STOP "$p" 2>/dev/null
			all+="$p "
			new=1
		done
		[ $new = 0 ] && break
	done
	for p in $all; do kill -KILL "$p" 2>/dev/null; done
	wait_for 5 pgaf_none "$dir"
}

pgaf_none() { [ -z "$(pgaf_procs "$1")" ]; }

# pgaf_kill NODE: its postgres is frozen first, in a few milliseconds (the
# postmaster, known from postmaster.pid once its working directory proves
# it is that one, then its children: stopped, it forks no more), so that
# nothing commits there after the kill began; then every process of NODE
pgaf_kill() {
	local node=$1 pm c
	# (builtins only: a fork takes tens of ms on a loaded machine)
	read -r pm 2>/dev/null <"$PGAF_DIR/$node/data/postmaster.pid"
	if [[ ${pm:-} =~ ^[0-9]+$ ]] && [ "/proc/$pm/cwd" -ef "$PGAF_DIR/$node/data" ] &&
		kill -STOP "$pm" 2>/dev/null; then
		for c in $(<"/proc/$pm/task/$pm/children"); do kill -STOP "$c" 2>/dev/null; done
		c=${EPOCHREALTIME/[.,]/}
		PGAF_KILLED=$((c / 1000))
	else
		PGAF_KILLED=
	fi
	pgaf_killall "$PGAF_DIR/$node" || { log "pgaf: processes of node $node survive SIGKILL"; return 1; }
	: "${PGAF_KILLED:=$(now_ms)}"
	kill -KILL "${PGAF_RUN[$node]}" 2>/dev/null # runuser, when root
	return 0
}

# pgaf_writable NODE: NODE's postgres takes writes
pgaf_writable() {
	[ "$(pgaf_psql "$1" "SELECT NOT pg_is_in_recovery() AND current_setting('default_transaction_read_only') = 'off'")" = t ]
}

# pgaf_waited START_MS [END_MS]: seconds from START_MS to END_MS (now),
# in ms
pgaf_waited() { awk -v ms=$((${2:-$(now_ms)} - $1)) 'BEGIN { printf "%.3f\n", ms / 1000 }'; }

# pgaf_is_primary NODE: NODE takes writes and the monitor has it primary;
# PGAF_SEEN: when the probe that saw it writable began (a psql under load
# takes a while: the node's own answer first, then the monitor's)
pgaf_is_primary() {
	local t
	t=$(now_ms)
	pgaf_writable "$1" && [ "$(pgaf_primary)" = "$1" ] && PGAF_SEEN=$t
}

pgaf_wait_primary() {
	local node=$1 start
	start=$(now_ms)
	wait_for "$2" pgaf_is_primary "$node" || return 1
	pgaf_waited "$start" "$PGAF_SEEN"
}

# pgaf_is_secondary NODE: NODE secondary, the other node primary, with
# NODE its synchronous (quorum) standby, streaming
pgaf_is_secondary() {
	local node=$1 other=a id
	[ "$node" = a ] && other=b
	local name=PGAF_NAME_$node oname=PGAF_NAME_$other
	[ "$(pgaf_psql monitor "SELECT count(*) FROM pgautofailover.node
		WHERE (nodename = '${!name}' AND reportedstate = 'secondary' AND goalstate = 'secondary')
		   OR (nodename = '${!oname}' AND reportedstate = 'primary' AND goalstate = 'primary')")" = 2 ] || return 1
	id=$(pgaf_psql monitor "SELECT nodeid FROM pgautofailover.node WHERE nodename = '${!name}'") || return 1
	[ "$(pgaf_psql "$other" "SHOW synchronous_standby_names")" = "ANY 1 (pgautofailover_standby_$id)" ] || return 1
	[ "$(pgaf_psql "$other" "SHOW synchronous_commit")" = on ] || return 1
	[ "$(pgaf_psql "$other" "SELECT count(*) FROM pg_stat_replication
		WHERE application_name = 'pgautofailover_standby_$id' AND state = 'streaming' AND sync_state IN ('sync', 'quorum')")" = 1 ]
}

pgaf_wait_secondary() {
	local node=$1 start
	start=$(now_ms)
	wait_for "$2" pgaf_is_secondary "$node" || return 1
	pgaf_waited "$start"
}

# The pid files of a killed node name processes that may linger as
# zombies (their parents were killed with them), which pg_autoctl and
# postgres would take for running instances: gone, as after a reboot.
pgaf_rejoin() {
	local node=$1
	pgaf_none "$PGAF_DIR/$node" || { log "pgaf: node $node still runs"; return 1; }
	rm -f "$PGAF_DIR/$node/data/postmaster.pid"
	find "$PGAF_DIR/xdg/run" -path "*$PGAF_DIR/$node/*" -name '*.pid' -delete
	pgaf_service "$node" run --pgdata "$PGAF_DIR/$node/data"
}

pgaf_logs() {
	local n
	log "pg_auto_failover states: $(pgaf_state | tr '\n' ';')"
	for n in monitor a b; do
		[ -f "$PGAF_DIR/$n.log" ] || continue
		echo "---- pgaf/$n.log (end)" >&2
		tail -n 15 "$PGAF_DIR/$n.log" >&2
	done
}

# pgaf_initdb NODE: an empty cluster for NODE, with the settings that
# pg_autoctl's own tuning would otherwise size from the machine's memory
# (postgresql.auto.conf comes after pg_autoctl's included file, and
# pg_basebackup copies it to the standby); any further lines from stdin.
# checkpoint_completion_target = 0: checkpoints are not spread, since
# pg_basebackup (which pg_autoctl runs without --checkpoint=fast) would
# wait for a spread one at 10 buffers a second, minutes after a CREATE
# DATABASE
pgaf_initdb() {
	local node=$1
	pgaf_as "$PGAF_DIR/$node" initdb -D "$PGAF_DIR/$node/data" -A trust -U postgres --no-sync \
		>"$PGAF_DIR/$node.initdb.log" 2>&1 || { cat "$PGAF_DIR/$node.initdb.log" >&2; return 1; }
	{
		echo "shared_buffers = '64MB'"
		echo "effective_cache_size = '256MB'"
		echo "maintenance_work_mem = '64MB'"
		echo "work_mem = '4MB'"
		echo "checkpoint_completion_target = 0"
		cat
	} | pgaf_as "$PGAF_DIR/$node" tee -a "$PGAF_DIR/$node/data/postgresql.auto.conf" >/dev/null
}

pgaf_monitor_ready() {
	[ "$(pgaf_psql monitor "SELECT count(*) FROM pgautofailover.formation WHERE formationid = 'default'")" = 1 ]
}

pgaf_node_is() { pgaf_state | grep -qx "$1 $2 $2"; }

pgaf_setup() {
	need pg_autoctl psql
	[ -n "$PGAF_BIN" ] && [ -x "$PGAF_BIN/postgres" ] || skip "PostgreSQL with pg_auto_failover not installed"
	local n uri
	for n in monitor a b; do PGAF_PORT[$n]=$(free_port) || return 1; done
	mkdir -p "$PGAF_DIR"/{monitor,a,b} "$PGAF_DIR"/xdg/{config,data,run}
	chmod 700 "$PGAF_DIR/xdg/run"
	if [ "$(id -u)" -eq 0 ]; then
		chmod 755 "$T_DIR"
		chown -R postgres "$PGAF_DIR"
	fi
	PGAF_PREV_HOOK=${T_CLEANUP_HOOK:-}
	T_CLEANUP_HOOK=pgaf_cleanup

	# the monitor, its timings in place before it starts (node a's initdb
	# meanwhile)
	pgaf_initdb a <<<"${PGAF_NODE_CONF:-}" &
	local init_a=$!
	pgaf_initdb monitor <<<"$PGAF_GUCS
listen_addresses = '127.0.0.1'" || return 1
	wait "$init_a" || return 1
	pgaf_service monitor create monitor --pgdata "$PGAF_DIR/monitor/data" --pgport "${PGAF_PORT[monitor]}" \
		--pgctl "$PGAF_BIN/pg_ctl" --hostname 127.0.0.1 --auth trust --no-ssl --run
	wait_for 30 pgaf_monitor_ready || { log "pgaf: monitor not ready"; pgaf_logs; return 1; }
	uri="postgres://autoctl_node@127.0.0.1:${PGAF_PORT[monitor]}/pg_auto_failover?sslmode=disable"

	# node a: the first one, so the primary; the database junction
	pgaf_service a create postgres --pgdata "$PGAF_DIR/a/data" --pgport "${PGAF_PORT[a]}" \
		--pgctl "$PGAF_BIN/pg_ctl" --listen 127.0.0.1 --hostname 127.0.0.1 --name "$PGAF_NAME_a" \
		--dbname junction --username postgres --monitor "$uri" --auth trust --no-ssl --run
	wait_for 40 pgaf_node_is "$PGAF_NAME_a" single || { log "pgaf: node a not single"; pgaf_logs; return 1; }

	# node b: a copy of a (pg_basebackup), its synchronous standby
	pgaf_service b create postgres --pgdata "$PGAF_DIR/b/data" --pgport "${PGAF_PORT[b]}" \
		--pgctl "$PGAF_BIN/pg_ctl" --listen 127.0.0.1 --hostname 127.0.0.1 --name "$PGAF_NAME_b" \
		--dbname junction --username postgres --monitor "$uri" --auth trust --no-ssl --run
	pgaf_wait_secondary b 60 >/dev/null || { log "pgaf: node b not a synchronous secondary"; pgaf_logs; return 1; }

	PGAF_CONNINFO="host=127.0.0.1,127.0.0.1 port=${PGAF_PORT[a]},${PGAF_PORT[b]} dbname=junction user=postgres target_session_attrs=read-write connect_timeout=2"
	export PGAF_CONNINFO
}

pgaf_cleanup() {
	local n left
	# (also when $PGAF_DIR is gone: pgaf_procs still finds what ran there)
	for n in monitor a b; do pgaf_killall "$PGAF_DIR/$n" || true; done
	for n in "${PGAF_RUNS[@]}"; do kill -KILL "$n" 2>/dev/null; done
	left=$(pgaf_procs "$PGAF_DIR")
	for n in "${PGAF_RUNS[@]}"; do
		[ -d "/proc/$n" ] && [ "$(awk '{print $3}' "/proc/$n/stat" 2>/dev/null)" != Z ] && left+=" $n"
	done
	left=$(echo $left | tr ' ' ',')
	[ -z "$left" ] || log "pgaf: processes left behind: $(ps -o pid=,stat=,args= -p "$left" | tr '\n' ';')"
	[ -n "${PGAF_PREV_HOOK:-}" ] && $PGAF_PREV_HOOK
	return 0
}
