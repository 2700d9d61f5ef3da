#!/usr/bin/env bash
# /metrics for Prometheus: after some SIP traffic (OPTIONS, a digest
# REGISTER, an INVITE to nobody) the exposition passes `promtool check
# metrics`, the counters moved, the histogram is cumulative, the
# bindings gauge and the session affinity gauges come from the database
# (a session written into its table, no call); a real Prometheus (Debian's
# package) on a free loopback port scrapes Junction until up == 1 and the
# dashboard's queries run on it; the alert rules pass `promtool check
# rules` and their unit tests.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg.sh"
. "$(dirname "$0")/admin_lib.sh"
need ss psql curl jq md5sum promtool prometheus

PORT=$(free_port)
APORT=$(free_port)
write_config "$PORT"
pg_start || { fail "postgres"; t_done; }
DB_EXTRA="connections_per_worker = 2" pg_config
admin_config "$APORT"
# Session Controller pools on, so their families are exported too: one
# server that never answers (the discard port).
cat >>"$T_DIR/junction.conf" <<CONF
[cluster]
oos_check = 1
oos_force = 1
[routing]
session_controllers = yes
CONF
pg_migrate >/dev/null || { fail "migrate"; t_done; }
psql_q "SELECT junction_add_subscriber('alice', 'localhost', 'Alice-pw-1')" >/dev/null
psql_q "SELECT name FROM junction_add_sip_server('sc-dead', 'sip:127.0.0.1:9', 'dc1')" >/dev/null
start_junction "$PORT" || { fail "start"; t_done; }
wait_admin || { fail "admin API"; t_done; }

scrape() { curl -s -o "$T_DIR/$1" -w '%{http_code}' "$ADMIN_URL/metrics"; }
value() { awk -v k="$2" '$1 == k { print $2 }' "$T_DIR/$1"; }

[ "$(scrape m0)" = 200 ] && pass "scraped without a token" || fail "scrape"
before=$(value m0 'junction_sip_requests_received_total{method="OPTIONS"}')
reg_before=$(value m0 junction_registrations_total)

for _ in 1 2 3; do options_msg 127.0.0.1 "$PORT" | "$SIPSEND" -q udp 127.0.0.1 "$PORT" -; done
sip_register alice localhost Alice-pw-1 "sip:alice@127.0.0.1:9" && pass "alice registered" || fail "REGISTER"
printf 'INVITE sip:nobody@localhost SIP/2.0\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKm%s;rport\nMax-Forwards: 70\nFrom: <sip:x@example.net>;tag=1\nTo: <sip:nobody@localhost>\nCall-ID: m-%s\nCSeq: 1 INVITE\nContent-Length: 0\n\n' "$RANDOM" "$RANDOM" |
	"$SIPSEND" -P -q udp 127.0.0.1 "$PORT" -

# bindings_active is cached up to 5 s: wait for it to show alice.
for _ in $(seq 80); do
	scrape m1 >/dev/null
	[ "$(value m1 junction_bindings_active)" = 1 ] && break
	sleep 0.1
done
promtool check metrics <"$T_DIR/m1" >"$T_DIR/promtool.out" 2>&1 && [ ! -s "$T_DIR/promtool.out" ] &&
	pass "promtool check metrics: clean" || { fail "promtool check metrics"; cat "$T_DIR/promtool.out" >&2; }
after=$(value m1 'junction_sip_requests_received_total{method="OPTIONS"}')
[ "$((after - before))" -ge 3 ] && pass "OPTIONS counted ($before -> $after)" || fail "OPTIONS: $before -> $after"
[ "$(value m1 junction_registrations_total)" -gt "$reg_before" ] && pass "registrations counted" || fail "registrations: $(value m1 junction_registrations_total)"
[ "$(value m1 junction_auth_challenges_total)" -ge 1 ] && pass "the 401 challenge counted" || fail "auth challenges"
[ "$(value m1 'junction_sip_responses_sent_total{class="4xx",code="404"}')" -ge 1 ] && pass "the 404 to nobody counted by code and class" || fail "404 not counted"
[ "$(value m1 'junction_sip_responses_sent_total{class="2xx",code="200"}')" -ge 4 ] && pass "200s counted" || fail "200s"
[ "$(value m1 junction_bindings_active)" = 1 ] && pass "bindings_active from the database: 1" || fail "bindings_active: $(value m1 junction_bindings_active)"
[ "$(value m1 junction_db_up)" = 1 ] && pass "db_up 1" || fail "db_up"
# 2 workers, [database] connections_per_worker = 2 (set above)
[ "$(value m1 junction_db_connections_up)" = 4 ] && pass "db_connections_up 4" ||
	fail "db_connections_up: $(value m1 junction_db_connections_up), expected 4"
[ "$(value m1 'junction_build_info{version="'"$("$JUNCTION" --version | cut -d' ' -f2)"'"}')" = 1 ] && pass "build_info with the version" || fail "build_info"
grep -q '^junction_queue_depth{worker="1"} ' "$T_DIR/m1" && pass "queue depth per worker" || fail "queue depth"
grep -q '^process_resident_memory_bytes [1-9]' "$T_DIR/m1" && grep -q '^process_start_time_seconds 1[0-9]\{9\}' "$T_DIR/m1" &&
	pass "process memory and start time" || fail "process metrics"
# the silent server: probed every second, each probe failing after 1 s
for _ in $(seq 40); do
	scrape m2 >/dev/null
	[ "$(value m2 junction_sip_server_probe_failures_total)" -ge 2 ] 2>/dev/null && break
	sleep 0.1
done
[ "$(value m2 junction_sip_server_pairs_out_of_service)" = 1 ] &&
	[ "$(value m2 'junction_sip_servers{state="oos"}')" = 1 ] &&
	[ "$(value m2 'junction_sip_server_up{server="sc-dead"}')" = 0 ] &&
	[ "$(value m2 junction_sip_server_probes_total)" -ge 2 ] &&
	[ "$(value m2 junction_sip_server_probe_failures_total)" -ge 2 ] &&
	pass "the silent Session Controller: out of service, probes failing" ||
	fail "pool metrics: $(grep '^junction_sip_server' "$T_DIR/m2" | tr '\n' ' ')"
# session affinity, with the pools: the workers' counters, and the
# cluster's sessions and dialogs as the database thread reads them
missing=
for t in junction_affinity_lookups_total:counter junction_affinity_unknown_total:counter \
	junction_sessions_created_total:counter junction_sessions_joined_total:counter \
	junction_sessions_moved_total:counter junction_session_writes_failed_total:counter \
	junction_dialogs_expired_total:counter junction_sessions:gauge junction_dialogs:gauge; do
	grep -q "^# TYPE ${t%:*} ${t#*:}\$" "$T_DIR/m2" || missing="$missing $t"
done
[ -z "$missing" ] && pass "session affinity families with their TYPE" || fail "affinity families:$missing"
missing=
for m in 'junction_affinity_lookups_total{source="cache"}' 'junction_affinity_lookups_total{source="database"}' \
	junction_affinity_unknown_total junction_sessions_created_total junction_sessions_joined_total \
	junction_sessions_moved_total junction_session_writes_failed_total junction_dialogs_expired_total; do
	[[ "$(value m2 "$m")" =~ ^[0-9]+$ ]] || missing="$missing $m"
done
[ -z "$missing" ] && pass "session affinity counters present" || fail "affinity counters:$missing"
# (the INVITE to nobody may have opened one too: compare with the table)
psql_q "WITH s AS (INSERT INTO session (sip_server, created_by) VALUES ('sc-dead', 'metrics.sh') RETURNING id)
	INSERT INTO dialog (call_id, from_tag, session_id, method, state, relation, node, expires_at)
	SELECT 'm-session', '1', id, 'INVITE', 'confirmed', 'new', 'metrics.sh', now() + interval '1 hour' FROM s" >/dev/null
db_sessions() {
	psql_q "SELECT format('%s %s %s', count(DISTINCT s.id), count(d.session_id) FILTER (WHERE d.state <> 'ended'),
		count(DISTINCT s.id) FILTER (WHERE s.sip_server = 'sc-dead'))
		FROM session s LEFT JOIN dialog d ON d.session_id = s.id WHERE s.ended_at IS NULL"
}
# read every 5 s
for _ in $(seq 80); do
	want=$(db_sessions)
	scrape m3 >/dev/null
	got="$(value m3 junction_sessions) $(value m3 junction_dialogs) $(value m3 'junction_sip_server_sessions{server="sc-dead"}')"
	[ "$got" = "$want" ] && break
	sleep 0.1
done
[ "$got" = "$want" ] && [ "${want##* }" -ge 1 ] &&
	pass "sessions, dialogs and sc-dead's sessions as in the database ($got)" ||
	fail "session gauges: $got, the database: $want"
awk -F'[ ]' '/^junction_db_latency_seconds_bucket/ { if ($2 < last) bad = 1; last = $2; n = $2 }
	/^junction_db_latency_seconds_count/ { c = $2 }
	END { exit !(bad == 0 && n == c && c > 0) }' "$T_DIR/m1" &&
	pass "db latency histogram cumulative, +Inf = count > 0" || fail "histogram: $(grep db_latency "$T_DIR/m1")"

# ---- the alert rules and their unit tests ------------------------------------------
cp "$TOP_SRCDIR/admin/prometheus-alerts.yml" "$TOP_SRCDIR/tests/integration/prometheus-alerts.test.yml" "$T_DIR/"
promtool check rules "$T_DIR/prometheus-alerts.yml" >"$T_DIR/rules.out" 2>&1 && pass "promtool check rules" ||
	{ fail "promtool check rules"; cat "$T_DIR/rules.out" >&2; }
(cd "$T_DIR" && promtool test rules prometheus-alerts.test.yml) >"$T_DIR/rules-test.out" 2>&1 && pass "promtool test rules: the alerts fire" ||
	{ fail "promtool test rules"; cat "$T_DIR/rules-test.out" >&2; }

# Every metric the dashboard and the rules use is one Junction exports.
missing=
for m in $(cat "$TOP_SRCDIR/admin/grafana-dashboard.json" "$TOP_SRCDIR/admin/prometheus-alerts.yml" |
	grep -o '\(junction\|process\)_[a-z_]*' | sort -u); do
	grep -q "^# TYPE ${m%_bucket} " "$T_DIR/m1" || missing="$missing $m"
done
[ -z "$missing" ] && pass "dashboard and rules use exported metrics only" || fail "not exported:$missing"
jq -e '.panels | length >= 8' "$TOP_SRCDIR/admin/grafana-dashboard.json" >/dev/null && pass "dashboard JSON" || fail "dashboard JSON"

# ---- a real Prometheus scrapes Junction once --------------------------------------------
PPORT=$(free_port)
mkdir -p "$T_DIR/prom"
cat >"$T_DIR/prom/prometheus.yml" <<CONF
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - $T_DIR/prometheus-alerts.yml
scrape_configs:
  - job_name: junction
    static_configs:
      - targets: ['127.0.0.1:$APORT']
CONF
prometheus --config.file="$T_DIR/prom/prometheus.yml" --storage.tsdb.path="$T_DIR/prom/data" \
	--web.listen-address="127.0.0.1:$PPORT" >"$T_DIR/prom/prometheus.log" 2>&1 &
PROM_PID=$!
T_PIDS+=("$PROM_PID")
q() { curl -s --get --data-urlencode "query=$1" "http://127.0.0.1:$PPORT/api/v1/query"; }
up=
for _ in $(seq 150); do
	up=$(q 'up{job="junction"}' 2>/dev/null | jq -r '.data.result[0].value[1] // empty' 2>/dev/null)
	[ "$up" = 1 ] && break
	kill -0 "$PROM_PID" 2>/dev/null || break
	sleep 0.2
done
[ "$up" = 1 ] && pass "Prometheus scraped Junction: up{job=\"junction\"} == 1" ||
	{ fail "Prometheus: up=$up"; tail -n 20 "$T_DIR/prom/prometheus.log" >&2; }
[ "$(q 'junction_bindings_active' | jq -r '.data.result[0].value[1]')" = 1 ] && pass "Prometheus has junction_bindings_active" || fail "no junction_bindings_active in Prometheus"
health=$(curl -s "http://127.0.0.1:$PPORT/api/v1/targets" | jq -r '.data.activeTargets[0].lastError')
[ -z "$health" ] && pass "the scrape had no error" || fail "scrape error: $health"
bad=0
jq -r '.panels[].targets[].expr' "$TOP_SRCDIR/admin/grafana-dashboard.json" |
	sed 's/\$__rate_interval/1m/g; s/\$instance/.*/g' | while read -r expr; do
	[ "$(q "$expr" | jq -r .status)" = success ] || { log "dashboard query refused: $expr"; bad=$((bad + 1)); }
done
[ "$bad" = 0 ] && pass "every dashboard query runs on Prometheus" || fail "$bad dashboard queries refused"
[ "$(curl -s "http://127.0.0.1:$PPORT/api/v1/rules" | jq '[.data.groups[].rules[] | select(.health == "ok")] | length')" = 12 ] &&
	pass "Prometheus loaded the 12 alert rules" || fail "rules in Prometheus"
kill -TERM "$PROM_PID"
wait "$PROM_PID" 2>/dev/null
pass "Prometheus stopped"

stop_junction && pass "SIGTERM exit 0" || fail "exit status"
t_done
