# bench/failover.sh (sourced by bench/lib.sh): the db_failover scenario
# (issue 22), not in bench/run's default list. For each system:
#
#  1. what synchronous replication costs: reg_auth's search twice, back to
#     back, `plain` on the run's single PostgreSQL and `sync` on a
#     pg_auto_failover formation (tests/integration/pgaf_lib.sh: a monitor
#     and two nodes on loopback, the primary with a synchronous standby, so
#     that a COMMIT returns once the standby has flushed it). Junction gets
#     the multi-host conninfo of both nodes (target_session_attrs=
#     read-write); Kamailio a db_url naming the current primary. Rows of
#     the table like any scenario's (`db_failover plain`, `db_failover
#     sync`, the ratio Junction/Kamailio); below it, sync/plain for each
#     system, and a single-row commit's latency on each (pgbench, one
#     client).
#  2. a longer run with failovers: authenticated REGISTERs at half the rate
#     `sync` held, split over two load generators (Junction: one per node,
#     two nodes with the multi-host conninfo; Kamailio: both to its one
#     instance, its db_url a libpq connection string listing both nodes,
#     see below), FO_N (4) times: the primary's machine lost (pgaf_kill:
#     every process of the node frozen then SIGKILLed), the new primary
#     writable, FO_AFTER_S (5) s of load on it alone, the old one rejoined
#     as its synchronous standby (pgaf_rejoin, pg_rewind), FO_STEADY_S (5)
#     s more. Per failover and load: the manager's time (kill to the new
#     primary writable), the 200s and refusals, the first and last refusal,
#     the first 200 after the new primary took writes, and the REGISTERs
#     answered 200 whose binding is missing on the new primary (read just
#     after it took writes); per Junction node at the end,
#     junction_db_failovers_total and junction_db_unavailable_seconds_total.
#
# Kamailio 5.6's db_postgres takes one host:port in its URL, but hands the
# URL's database part to libpq as dbname, which libpq expands as a
# connection string (PQconnectdbParams with expand_dbname, the dbname after
# host and port): "postgres://postgres@127.0.0.1:PA/host=127.0.0.1,127.0.0.1
# port=PA,PB dbname=kamailio target_session_attrs=read-write" connects to
# whichever node takes writes, and a connection found broken is reset
# (PQreset) through the same list.
#
# Environment: FO_N (4 failovers), FO_RATE (REGISTERs/s of the long run,
# both loads together; default half the rate `sync` held), FO_WARM_S (10),
# FO_AFTER_S (5), FO_STEADY_S (5), FO_MAX_S (60: the longest wait for a new
# primary), FO_PROBE_S (5: each pgbench commit probe).

# pgaf_lib.sh's needs, as tests/integration/lib.sh has them: T_DIR (the
# formation lives in $WORK/pgaf), wait_for, now_ms, need, skip, and
# free_port, here the formation's fixed ports 25440-25459 (monitor, a, b
# take the first free ones; each handed out once a run, in $WORK/fo-ports)
T_DIR=$WORK
mkdir -p "$WORK"
FO_PORT_LOW=25440
# the long run's two SIPps (their contacts' ports)
FO_SIPP_PORT=25097
. "$top/tests/integration/wait_lib.sh" # now_ms, wait_for
need() {
	local t
	for t in "$@"; do command -v "$t" >/dev/null 2>&1 || { log "db_failover: $t not installed"; return 1; }; done
}
skip() { log "db_failover: $*"; return 1; }
free_port() {
	local p
	mkdir -p "$WORK/fo-ports"
	for ((p = FO_PORT_LOW; p < FO_PORT_LOW + 20; p++)); do
		mkdir "$WORK/fo-ports/$p" 2>/dev/null || continue
		ss -Hlnut "sport = :$p" 2>/dev/null | grep -q . && continue
		echo "$p"
		return 0
	done
	return 1
}
. "$top/tests/integration/pgaf_lib.sh"

# seconds since the epoch, to the microsecond
fo_now() { echo "${EPOCHREALTIME/,/.}"; }
fo_psql() { psql -X -q -A -t -h 127.0.0.1 -p "$1" -U postgres -d "$2" -v ON_ERROR_STOP=1 -c "$3"; }
# the port of the node that is primary now
fo_pport() {
	local n
	n=$(pgaf_primary) || return 1
	echo "${PGAF_PORT[$n]}"
}
# PostgreSQL's processes for run_step's CPU (pg_ticks): both nodes
fo_pidfiles() { echo "$PGAF_DIR/a/data/postmaster.pid $PGAF_DIR/b/data/postmaster.pid"; }

# The formation, once a run, with the schemas and subscribers of
# bench_setup: node a primary, b its synchronous standby. FO_STATE: ready
# or failed (FO_WHY).
FO_STATE=""
FO_WHY=""
FO_STARTED=""
fo_setup() {
	[ "$FO_STATE" = ready ] && return 0
	[ "$FO_STATE" = failed ] && return 1
	FO_STATE=failed
	command -v pg_autoctl >/dev/null 2>&1 || { FO_WHY="pg_autoctl not installed"; return 1; }
	[ -n "$PGAF_BIN" ] && [ -x "$PGAF_BIN/postgres" ] || { FO_WHY="no PostgreSQL with pg_auto_failover"; return 1; }
	# what an interrupted run left (found by their working directories)
	pgaf_cleanup
	rm -rf "$PGAF_DIR" "$WORK/fo-ports"
	FO_STARTED=1
	local t0 pa k=/usr/share/kamailio/postgres
	t0=$(now_ms)
	# the single server's memory and connections (bench_setup's -c)
	PGAF_NODE_CONF="shared_buffers = '256MB'
max_connections = 200" pgaf_setup || { FO_WHY="the pg_auto_failover formation did not start"; return 1; }
	pa=${PGAF_PORT[a]}
	fo_psql "$pa" postgres "CREATE DATABASE kamailio" >/dev/null || { FO_WHY="CREATE DATABASE kamailio"; return 1; }
	JCONNINFO=$PGAF_CONNINFO write_junction_conf auth
	"$JUNCTION" --migrate -c "$WORK/junction.conf" >"$WORK/failover-migrate.log" 2>&1 ||
		{ FO_WHY="junction --migrate on the formation"; return 1; }
	fo_psql "$pa" junction "SELECT count(junction_add_subscriber('u' || i, 'localhost', 'pw' || i))
	                        FROM generate_series(1, $USERS) i" >/dev/null || { FO_WHY="subscribers"; return 1; }
	fo_psql "$pa" kamailio "$(cat $k/standard-create.sql $k/auth_db-create.sql $k/usrloc-create.sql)" >/dev/null ||
		{ FO_WHY="Kamailio's schema"; return 1; }
	fo_psql "$pa" kamailio "INSERT INTO subscriber (username, domain, ha1, ha1b)
	                        SELECT 'u' || i, 'localhost', md5('u' || i || ':localhost:pw' || i), ''
	                        FROM generate_series(1, $USERS) i" >/dev/null || { FO_WHY="Kamailio's subscribers"; return 1; }
	pgaf_wait_secondary b 60 >/dev/null || { FO_WHY="node b not a synchronous standby"; return 1; }
	FO_STATE=ready
	log "db_failover: formation on 127.0.0.1 (monitor ${PGAF_PORT[monitor]}, a $pa primary, b ${PGAF_PORT[b]} its synchronous standby: $(fo_psql "$pa" postgres "SHOW synchronous_standby_names")), schemas and $USERS subscribers, in $(pgaf_waited "$t0") s"
}
fo_teardown() {
	[ -n "$FO_STARTED" ] || return 0
	pgaf_cleanup
	FO_STARTED=""
	rm -rf "$WORK/fo-ports"
}

# A primary with its synchronous standby (after the long run, or a failed
# one, the other node may still be rejoining or down).
fo_sync_ready() {
	local p s
	wait_for 60 pgaf_primary >/dev/null || return 1
	p=$(pgaf_primary)
	s=a
	[ "$p" = a ] && s=b
	pgaf_is_secondary "$s" && return 0
	pgaf_none "$PGAF_DIR/$s" && { pgaf_rejoin "$s" || return 1; }
	pgaf_wait_secondary "$s" 180 >/dev/null
}

# A single-row commit's latency and rate (pgbench, one client, FO_PROBE_S
# s, UPDATEs of a 1,000-row table in database postgres) on the single
# server and on the formation's primary: FO_COMMIT[plain|sync] = "MS TPS".
declare -A FO_COMMIT
fo_commit_probe() {
	[ -n "${FO_COMMIT[plain]:-}" ] && return 0
	local k port out
	printf '\\set id random(1, 1000)\nUPDATE bench_commit SET n = n + 1 WHERE id = :id;\n' >"$WORK/commit.sql"
	for k in plain sync; do
		port=$PGPORT
		[ "$k" = sync ] && { port=$(fo_pport) || continue; }
		fo_psql "$port" postgres "CREATE TABLE IF NOT EXISTS bench_commit (id int PRIMARY KEY, n bigint NOT NULL DEFAULT 0);
		                          INSERT INTO bench_commit SELECT i FROM generate_series(1, 1000) i ON CONFLICT DO NOTHING" >/dev/null
		out=$("$PGBIN/pgbench" -h 127.0.0.1 -p "$port" -U postgres -n -c 1 -T "${FO_PROBE_S:-5}" -f "$WORK/commit.sql" postgres 2>&1)
		FO_COMMIT[$k]="$(awk '/^latency average/ { print $4 }' <<<"$out") $(awk '/^tps/ { printf "%.0f", $3 }' <<<"$out")"
		log "db_failover: a commit on $k: ${FO_COMMIT[$k]% *} ms (${FO_COMMIT[$k]#* } commits/s, pgbench, one client)"
	done
}

# find_rate's db_failover: plain, then sync on the formation, then the
# long run with failovers. The formation is up (idle) during plain too.
declare -A FO_NOTE FO_TABLE FO_END
failover_scenario() {
	local sys=$1 c port
	fo_setup && fo_commit_probe
	for c in $(cases_of db_failover); do
		if [ "$c" = db_failover:plain ]; then
			search_rate "$sys" "$c"
			continue
		fi
		if [ "$FO_STATE" != ready ]; then
			NOTE[$sys/$c]="no formation: $FO_WHY"
			RATE[$sys/$c]=0
			continue
		fi
		if ! fo_sync_ready || ! port=$(fo_pport); then
			NOTE[$sys/$c]="the formation has no primary with a synchronous standby"
			RATE[$sys/$c]=0
			continue
		fi
		# psqlq (TRUNCATEs), Kamailio's db_url: the primary;
		# Junction: both nodes; the CPU of PostgreSQL: both nodes'
		PGPORT=$port JCONNINFO=$PGAF_CONNINFO PG_PIDFILES=$(fo_pidfiles) search_rate "$sys" "$c"
	done
	stop_system
	[ "$FO_STATE" = ready ] || { FO_NOTE[$sys]="no formation: $FO_WHY"; return; }
	fo_longrun "$sys"
}

# fo_read NODE SYS FILE [standby]: every user's binding on NODE, a line
# "USER CALL-ID WRITTEN" each (WRITTEN: epoch s of its last write). standby: read while NODE is still a standby, once it
# has replayed the WAL it received (it receives no more: the primary is
# gone), so that nothing written after the kill is in it; 1 (FILE empty)
# when NODE was promoted first.
fo_caught_up() {
	[ "$(fo_psql "${PGAF_PORT[$1]}" "$2" "SELECT pg_is_in_recovery() AND pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn()")" = t ]
}
fo_read() {
	local node=$1 sys=$2 file=$3 db=kamailio
	# (Kamailio writes last_modified in its local time, the server's)
	local q="SELECT username || ' ' || callid || ' ' || extract(epoch FROM last_modified::timestamptz) FROM location"
	if [ "$sys" = junction ]; then
		db=junction
		q="SELECT split_part(split_part(aor, '@', 1), ':', 2) || ' ' || call_id || ' ' || extract(epoch FROM updated_at) FROM binding"
	fi
	if [ "${4:-}" = standby ]; then
		# (a record cut short at the end of what it received is never
		# replayed: after 1.5 s, what could be is)
		wait_for 1.5 fo_caught_up "$node" "$db"
		q="$q WHERE (SELECT pg_is_in_recovery())"
	fi
	fo_psql "${PGAF_PORT[$node]}" "$db" "$q" >"$file" 2>/dev/null && [ -s "$file" ]
}

# The long run (see the top of this file); its files in $WORK/failover.SYS.
fo_longrun() {
	local sys=$1 rate=${FO_RATE:-} i pport
	local dir=$WORK/failover.$sys
	[ -n "$rate" ] || rate=$((${RATE[$sys/db_failover:sync]:-0} / 2))
	if [ "$rate" -lt 20 ]; then
		FO_NOTE[$sys]="no rate held on the formation, so no failover run"
		return
	fi
	fo_sync_ready && pport=$(fo_pport) || { FO_NOTE[$sys]="the formation has no primary with a synchronous standby"; return; }
	rm -rf "$dir"
	mkdir -p "$dir"
	stop_system
	local targets=()
	if [ "$sys" = junction ]; then
		fo_psql "$pport" junction "TRUNCATE binding" >/dev/null
		if ! JCONNINFO=$PGAF_CONNINFO start_junction 2 auth || ! JCONNINFO=$PGAF_CONNINFO start_junction 1 auth; then
			FO_NOTE[$sys]="the Junction nodes did not start"
			stop_system
			return
		fi
		targets=("127.0.0.1:$JPORT" "$J2IP:$JPORT")
	else
		local url="postgres://postgres@127.0.0.1:${PGAF_PORT[a]}/host=127.0.0.1,127.0.0.1 port=${PGAF_PORT[a]},${PGAF_PORT[b]} dbname=kamailio target_session_attrs=read-write connect_timeout=2"
		if ! PGPORT=$pport KDBURL=$url start_system kamailio auth; then
			FO_NOTE[$sys]="Kamailio did not start"
			stop_system
			return
		fi
		targets=("127.0.0.1:$KPORT" "127.0.0.1:$KPORT")
	fi
	ports_free "$FO_SIPP_PORT" $((FO_SIPP_PORT + 1)) || { FO_NOTE[$sys]="the load's ports are taken"; stop_system; return; }
	# the users split in two, one half for each load (no AOR in both)
	local half=$((USERS / 2))
	# half the time between two REGISTERs of a user (at least 0.2 s)
	FO_HALF=$(awk -v u="$USERS" -v r="$rate" 'BEGIN { h = u / r / 2; printf "%.2f", (h < 0.2 ? 0.2 : h) }')
	{ echo SEQUENTIAL; sed -n "2,$((half + 1))p" "$WORK/users.csv"; } >"$dir/users1.csv"
	{ echo SEQUENTIAL; sed -n "$((half + 2)),\$p" "$WORK/users.csv"; } >"$dir/users2.csv"
	local lp=() t_start t_kill t_new t0 waited old new rj
	t_start=$(fo_now)
	for i in 1 2; do
		(cd "$dir" && exec sipp -sf "$SCEN/register_auth_fo.xml" -inf "$dir/users$i.csv" -auth_uri localhost \
			-i 127.0.0.1 -p $((FO_SIPP_PORT + i - 1)) -r $((rate / 2)) -l $((rate * 2 + 100)) -nostdin \
			-buff_size 4194304 -default_behaviors all,-bye -timeout 1800s -trace_logs -log_file "$dir/load$i.log" \
			-trace_stat -stf "$dir/load$i.csv" -fd 1 "${targets[i - 1]}" >"$dir/load$i.out" 2>&1) &
		lp+=($!)
		PIDS+=($!)
	done
	log "db_failover $sys: $rate REGISTERs/s (two loads of $((rate / 2))/s, to ${targets[*]}), $USERS users; ${FO_N:-4} failovers"
	sleep "${FO_WARM_S:-10}"
	: >"$dir/events"
	for ((i = 1; i <= ${FO_N:-4}; i++)); do
		old=$(pgaf_primary) || { log "db_failover: no primary before failover $i"; break; }
		new=a
		[ "$old" = a ] && new=b
		pgaf_kill "$old" || log "db_failover: node $old not killed"
		t_kill=$(awk -v k="$PGAF_KILLED" 'BEGIN { printf "%.3f", k / 1000 }')
		# the standby's bindings as the kill left them: nothing is
		# written there before its promotion, seconds away
		fo_read "$new" "$sys" "$dir/kill.$i" standby || log "db_failover $sys: failover $i: no read of node $new before its promotion"
		t0=$(fo_now)
		if ! waited=$(pgaf_wait_primary "$new" "${FO_MAX_S:-60}"); then
			log "db_failover: node $new not primary within ${FO_MAX_S:-60} s ($(pgaf_state | tr '\n' ';'))"
			pgaf_logs
			echo "$i $old $new $t_kill - - -" >>"$dir/events"
			break
		fi
		t_new=$(awk -v t="$t0" -v w="$waited" 'BEGIN { printf "%.3f", t + w }')
		# the bindings on the new primary, at once (before the loads'
		# next refreshes of the same users overwrite a lost one)
		local t_snap
		t_snap=$(fo_now)
		fo_read "$new" "$sys" "$dir/snap.$i"
		log "db_failover $sys: failover $i, node $old lost, $new writable $(awk -v a="$t_kill" -v b="$t_new" 'BEGIN { printf "%.2f", b - a }') s later; bindings read from it: $(wc -l <"$dir/kill.$i") before its promotion, $(wc -l <"$dir/snap.$i") after"
		sleep "${FO_AFTER_S:-5}"
		pgaf_rejoin "$old"
		rj=$(pgaf_wait_secondary "$old" 180) || { rj=-; log "db_failover: node $old not back as a synchronous standby in 180 s"; pgaf_logs; }
		echo "$i $old $new $t_kill $t_new $t_snap $rj" >>"$dir/events"
		[ "$rj" = - ] && break
		sleep "${FO_STEADY_S:-5}"
	done
	local t_end
	t_end=$(fo_now)
	# the nodes' own account, before they stop
	if [ "$sys" = junction ]; then
		local n m
		for n in 1 2; do
			m=$(curl -s -m 2 "http://127.0.0.1:$((JADMINPORT + n - 1))/metrics")
			FO_END[$sys/$n]="$(awk '$1 == "junction_db_failovers_total" { print $2 }' <<<"$m") $(awk '$1 == "junction_db_unavailable_seconds_total" { print $2 }' <<<"$m")"
		done
	fi
	for i in 0 1; do kill -USR1 "${lp[i]}" 2>/dev/null; done
	for i in 0 1; do
		# (until it has exited: a zombie, not yet waited for, is done)
		for _ in $(seq 150); do
			[ "$(awk '{ print $3 }' "/proc/${lp[i]}/stat" 2>/dev/null || echo Z)" = Z ] && break
			sleep 0.1
		done
		stop_pid "${lp[i]}"
	done
	stop_system
	fo_analyse "$sys" "$dir" "$t_start" "$t_end"
	fo_sync_ready || log "db_failover: the formation did not come back to a primary with a synchronous standby"
}

# The long run's figures, from the loads' logs (register_auth_fo.xml:
# "CODE DATE TIME EPOCH USER CALL-ID" per final answer), their statistics
# (-trace_stat, a line a second), the events and the reads of the new
# primary: FO_TABLE[sys] (the table's rows) and FO_END[sys/loadN].
#
# fo_check SNAPSHOT CUTOFF LOG...: "USERS MISSING OLDER": the users with a
# REGISTER answered 200 before CUTOFF (epoch s); of them, those whose
# binding in SNAPSHOT is absent, or has the Call-ID of an earlier
# REGISTER (its call number below that of their last 200; a later one is
# fine: committed, its answer a 503 or lost) and was last written before
# that 200 less FO_HALF s (half the time between two REGISTERs of a
# user): MISSING, the write answered 200 is not there; and those with an
# earlier Call-ID written after that: OLDER, a REGISTER sent before it
# (a retransmission) written over it later
fo_check() {
	local snap=$1 cut=$2
	shift 2
	[ -s "$snap" ] || { echo "- - -"; return; }
	awk -v ts="$cut" -v half="$FO_HALF" '
		FILENAME == ARGV[1] { c = $2; sub(/-.*/, "", c); stored[$1] = c + 0; wr[$1] = $3 + 0; next }
		$1 == 200 && $4 < ts { c = $6; sub(/-.*/, "", c); if (c + 0 > acked[$5]) { acked[$5] = c + 0; at[$5] = $4 } }
		END {
			for (u in acked) {
				k++
				if (!(u in stored)) m++
				else if (stored[u] < acked[u]) { if (wr[u] < at[u] - half) m++; else o++ }
			}
			printf "%d %d %d\n", k, m, o
		}' "$snap" "$@"
}
# fo_window LOG CSV KILL NEXT NEW: one load's figures from KILL to NEXT:
# "200s | refused (codes) | retransmitted | first refusal after KILL |
# last refusal after NEW | first 200 after KILL + 0.5 s, after NEW"
fo_window() {
	local retr
	retr=$(awk -F';' -v k="$3" -v e="$4" '
		NR == 1 { for (i = 1; i <= NF; i++) if ($i == "Retransmissions(P)") c = i; next }
		{ split($3, t, "\t"); if (c && t[3] > k && t[3] <= e) r += $c }
		END { print r + 0 }' "$2")
	awk -v k="$3" -v e="$4" -v w="$5" -v retr="$retr" '
		$4 < k || $4 >= e { next }
		$1 == 200 { ok++; if ($4 > k + 0.5 && (f == "" || $4 < f)) f = $4; next }
		{ no++; codes[$1]++; if (fr == "" || $4 < fr) fr = $4; if ($4 > lr) lr = $4 }
		END {
			cs = ""
			for (c in codes) cs = cs (cs == "" ? "" : ", ") codes[c] " " c
			printf "%d | %d%s | %d | ", ok, no, (cs == "" ? "" : " (" cs ")"), retr
			if (no) printf "%.2f | ", fr - k; else printf "- | "
			if (no && w != "-") printf "%.2f | ", lr - w; else printf "- | "
			if (f != "" && w != "-") printf "%.2f", f - w; else printf "-"
		}' "$1"
}
fo_analyse() {
	local sys=$1 dir=$2 t_start=$3 t_end=$4 rows="" i n old new t_kill t_new t_snap rj next node lab
	local -a ev
	mapfile -t ev <"$dir/events"
	local k1=$t_end
	[ ${#ev[@]} -gt 0 ] && k1=$(awk '{ print $4 }' <<<"${ev[0]}")
	for node in 1 2; do
		lab=$node
		[ "$sys" = junction ] && lab="node $node"
		rows+="| before | | | | $lab | $(fo_window "$dir/load$node.log" "$dir/load$node.csv" "$t_start" "$k1" -) | | | |"$'\n'
	done
	for ((i = 0; i < ${#ev[@]}; i++)); do
		read -r n old new t_kill t_new t_snap rj <<<"${ev[i]}"
		next=$t_end
		[ $((i + 1)) -lt ${#ev[@]} ] && next=$(awk '{ print $4 }' <<<"${ev[i + 1]}")
		local mgr="-" c1 c2
		[ "$t_new" != - ] && mgr=$(awk -v a="$t_kill" -v b="$t_new" 'BEGIN { printf "%.2f", b - a }')
		# before its promotion: what was answered 200 up to 1 s after the
		# kill (in flight then; the promotion is seconds away);
		# after: up to the read, just after the new primary took writes
		# (a user refreshed on it in between cannot show a loss)
		c1=$(fo_check "$dir/kill.$n" "$(awk -v k="$t_kill" -v w="$t_new" 'BEGIN { c = k + 1; if (w != "-" && w < c) c = w; printf "%.3f", c }')" \
			"$dir/load1.log" "$dir/load2.log")
		c2="- - -"
		[ "$t_snap" != - ] && c2=$(fo_check "$dir/snap.$n" "$t_snap" "$dir/load1.log" "$dir/load2.log")
		local k1c m1 o1 k2c m2 o2
		read -r k1c m1 o1 <<<"$c1"
		read -r k2c m2 o2 <<<"$c2"
		for node in 1 2; do
			lab=$node
			[ "$sys" = junction ] && lab="node $node"
			rows+="| $n | $old → $new | $mgr | $rj | $lab | $(fo_window "$dir/load$node.log" "$dir/load$node.csv" "$t_kill" "$next" "$t_new") | $k1c / $k2c | $m1 / $m2 | $o1 / $o2 |"$'\n'
		done
	done
	FO_TABLE[$sys]=$rows
	# the loads' own counts: REGISTERs ended (answered), and failed (no
	# final answer, or one the scenario does not expect)
	for n in 1 2; do
		FO_END[$sys/load$n]="$(sipp_stat "$dir/load$n.csv" 'SuccessfulCall(C)') $(sipp_stat "$dir/load$n.csv" 'FailedCall(C)')"
	done
	log "db_failover $sys:"$'\n'"$rows"
}

failover_report() {
	local sys p s cp=${FO_COMMIT[plain]:-- -} cs=${FO_COMMIT[sync]:-- -}
	echo
	echo "db_failover: reg_auth's REGISTERs (401, REGISTER with credentials, 200; the same $USERS AORs"
	echo "and contacts refreshed over and over) on two databases, back to back: plain, the run's single"
	echo "PostgreSQL; sync, a pg_auto_failover 2.0 formation on the same machine (a monitor and two"
	echo "PostgreSQL nodes with the single server's shared_buffers and max_connections; the primary's"
	echo "synchronous_standby_names 'ANY 1 (the other node)', synchronous_commit on: a COMMIT returns once"
	echo "the standby has flushed it). Junction: \`[database] conninfo\` listing both nodes"
	echo "(target_session_attrs=read-write); Kamailio: its db_url naming the primary. PG CPU of sync:"
	echo "both nodes' (the standby's WAL receiver and startup process included). A single-row commit"
	echo "(pgbench, one client, ${FO_PROBE_S:-5} s): plain ${cp% *} ms (${cp#* }/s), sync ${cs% *} ms (${cs#* }/s)."
	for sys in $systems; do
		p=$sys/db_failover:plain s=$sys/db_failover:sync
		echo
		echo "**db_failover, $sys: sync/plain = $(ratio "${RATE[$s]:-0}" "${RATE[$p]:-0}") (${RATE[$s]:-0}/${RATE[$p]:-0} REGISTERs/s);"
		echo "CPU per REGISTER (µs) sync, plain: $sys ${CPU_OP[$s]:--}, ${CPU_OP[$p]:--}; PostgreSQL ${PG_OP[$s]:--}, ${PG_OP[$p]:--}.**"
	done
	echo
	echo "The failover runs: REGISTERs at half the rate sync held, from two SIPps (half the users each,"
	echo "bench/scenarios/register_auth_fo.xml; Junction: one per node, two nodes with the multi-host"
	echo "conninfo; Kamailio: both to its one instance, its db_url's database part a libpq connection"
	echo "string listing both nodes, which db_postgres hands to libpq as dbname, expanded). ${FO_N:-4} times:"
	echo "the primary's machine lost (all its processes frozen, then SIGKILLed), the new primary"
	echo "writable (manager: kill to that, probed every 0.1 s), ${FO_AFTER_S:-5} s of load on it alone, the old"
	echo "primary back as its synchronous standby (rejoin: pg_rewind and catching up), ${FO_STEADY_S:-5} s more."
	echo "Per failover and load, from the kill to the next one: the 200s; the refusals (Junction: 503"
	echo "with Retry-After; Kamailio: 500, or 401 when it cannot read the credentials); SIPp's"
	echo "retransmissions (a REGISTER unanswered for 500 ms); the first refusal (s after the kill), the"
	echo "last (s after the new primary took writes); resume: the first 200 after the kill less the"
	echo "moment the new primary took writes (before: the load until the first kill). The bindings are"
	echo "read on the new primary twice: before its promotion (a standby that has replayed all it"
	echo "received, against the 200s up to 1 s after the kill), then just after it took writes"
	echo "(against the 200s up to that read; a user refreshed on the new primary in between cannot show"
	echo "a loss there). Checked: the users with a REGISTER answered 200; missing: those whose binding"
	echo "is absent, or carries the Call-ID of an earlier REGISTER and was last written before their"
	echo "last 200 (less half the time between two REGISTERs of a user): the write answered 200 is not"
	echo "there; older Call-ID: an earlier REGISTER's Call-ID, written after that 200 (a REGISTER sent"
	echo "before it, a retransmission, executed after it)."
	for sys in $systems; do
		echo
		if [ -z "${FO_TABLE[$sys]:-}" ]; then
			echo "$sys: ${FO_NOTE[$sys]:-not run}."
			continue
		fi
		echo "$sys, $(awk -v r="${RATE[$sys/db_failover:sync]:-0}" -v f="${FO_RATE:-}" 'BEGIN { print (f != "" ? f : int(r / 2)) }') REGISTERs/s:"
		echo
		echo "| failover | primary lost → new | manager s | rejoin s | load | 200s | refused | retransmitted | first refusal | last refusal | resume s | checked before / after promotion | missing before / after | older Call-ID before / after |"
		echo "|---|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
		printf '%s' "${FO_TABLE[$sys]}"
		echo
		local line="" n f u ok failed
		for n in 1 2; do
			read -r ok failed <<<"${FO_END[$sys/load$n]:-- -}"
			line+=" load $n: $ok REGISTERs ended, $failed failed;"
		done
		if [ "$sys" = junction ]; then
			for n in 1 2; do
				read -r f u <<<"${FO_END[$sys/$n]:-- -}"
				line+=" node $n: junction_db_failovers_total $f, junction_db_unavailable_seconds_total $u;"
			done
		fi
		echo "$sys:${line%;}."
	done
}
