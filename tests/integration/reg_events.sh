#!/usr/bin/env bash
# Registration events ([notify], src/proxy/regevent.c, sql/006_reg_events.sql)
# with real processes: two nodes n1 and n2 on one PostgreSQL
# (cluster_lib.sh), [auth] mode = none (bindings stored without a
# challenge), and the back end played by SIPp: "be", the pool's one
# Session Controller (scenarios/ev_backend.xml answers 200 to REGISTER,
# NOTIFY and OPTIONS; ev_mute.xml answers OPTIONS only, so the pool keeps
# it in service while the events go unanswered), and "fx", a fixed
# [notify] target. What the back end got is read from its SIPp message log
# (-trace_msg): a NOTIFY is delivered when the back end answered it 200,
# and since a NOTIFY carries no event id, events are counted by their
# (AOR, event) pairs, over distinct Call-IDs (a retransmission is one).
#  a. a REGISTER gives exactly one NOTIFY, event="registered", whose body
#     validates against reginfo.xsd (RFC 3680 §5.4);
#  b. bindings that expire (3 to 5 s) give exactly one event="expired"
#     NOTIFY each, though both nodes sweep and send;
#  c. an unregister (expires=0) gives event="unregistered";
#  d. with [notify] refresh = no, a refresh with the same expiry gives no
#     event (no row, no NOTIFY); a shorter one gives "shortened";
#  e. the back end silent while n1 holds events it claimed, n1 SIGKILLed,
#     more events (one behind a claimed event of its AOR) queued on n2
#     while the back end is out of service: once it is back, n2 delivers
#     every event exactly once (n1's after their 40 s lease), an AOR's in
#     order, and the outbox empties;
#  g. meanwhile GET /v1/notifications (and junctionctl notifications)
#     shows them: sending (claimed by n1), pending with last_error, the
#     filters and the 400s; the answers validate against admin/openapi.json;
#  f. [notify] mode = register to a fixed target: a REGISTER with To = the
#     AOR, Contact = the binding's with ;expires=N, Expires: N and our Path
#     with received=, then Expires: 0 when the binding expires.
# Counters: junction_reg_events_total{outcome} on /metrics.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg.sh"
. "$(dirname "$0")/cluster_lib.sh"
. "$(dirname "$0")/admin_lib.sh"
need ss psql sipp xmllint jq curl

XSD=$TOP_SRCDIR/tests/integration/reginfo.xsd
[ -f "$XSD" ] || { fail "$XSD is missing"; t_done; }

CL_AUTH_EXTRA=""
AUTH_MODE=none
REG_EXTRA="sweep_interval = 1"
CL_NODES="n1 n2"
SC_IP[be]=127.0.1.8
SC_GEO[be]=dc1
FX_IP=127.0.1.9
declare -A APORT=()
BE_GEN=0

cl_setup
# expiries of a few seconds (pg_config writes min_expires = 10)
sed -i 's/^min_expires = 10$/min_expires = 2/' "$T_DIR/shared.conf"
cl_pool be
FXPORT=$(free_port)
APORT[n1]=$(free_port)
APORT[n2]=$(free_port)

# ---- helpers ----------------------------------------------------------------------

# be_start SCENARIO [IP PORT NAME]: a back end's SIPp (the pool's "be" by
# default), its message log $T_DIR/sc/NAME.GEN.msg; waits until it answers
# OPTIONS. No -aa: each scenario answers what it answers itself.
be_start() {
	local scen=$1 ip=${2:-${SC_IP[be]}} port=${3:-$SCPORT} name=${4:-be} pid
	BE_GEN=$((BE_GEN + 1))
	sipp -sf "$SCEN/$scen" -i "$ip" -p "$port" -nd -nostdin \
		-trace_msg -message_file "$T_DIR/sc/$name.$BE_GEN.msg" \
		-trace_err -error_file "$T_DIR/sc/$name.$BE_GEN.err" \
		>"$T_DIR/sc/$name.$BE_GEN.out" 2>&1 &
	pid=$!
	T_PIDS+=("$pid")
	SC_PID[$name]=$pid
	for _ in $(seq 50); do
		options_msg "$ip" "$port" | "$SIPSEND" -q -w 100 udp "$ip" "$port" - >/dev/null 2>&1 && return 0
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	fail "back end $name ($scen) did not start"
	cat "$T_DIR/sc/$name.$BE_GEN.out" >&2
	cl_done
}

# be_stop [NAME]: SIGKILL, as a back end that falls over
be_stop() {
	local name=${1:-be} pid=${SC_PID[${1:-be}]}
	kill -KILL "$pid"
	wait "$pid" 2>/dev/null
	t_forget "$pid"
	unset "SC_PID[$name]"
}

# node NAME [LINES]: a node with the [notify] settings (NOTIFY_LINES) and
# its admin API
NOTIFY_LINES=("mode = reginfo" "target = pool" "interval = 200" "retry_max = 2")
node() {
	local name=$1
	shift
	cl_node_start "$name" "[notify]" "${NOTIFY_LINES[@]}" \
		"[admin]" "listen = 127.0.0.1:${APORT[$name]}" "token = $ADMIN_TOKEN" "$@"
}

# node_kill NAME: SIGKILL, no goodbye
node_kill() {
	local pid=${NODE_PID[$1]}
	kill -KILL "$pid"
	wait "$pid" 2>/dev/null
	t_forget "$pid"
	unset "NODE_PID[$1]"
}

# reg USER NODE EXPIRES [CSEQ]: a REGISTER of sip:USER@cc.test for the
# contact sip:USER@127.0.2.9:5999 (the Call-ID is the user's), through
# NODE, from 127.0.2.9:EP_PORT (one source, so that a refresh does not
# change the binding's received: that would be an event of its own);
# 0 when answered 200
EP_PORT=$(free_port)
reg() {
	local user=$1 node=$2 exp=$3 cseq=${4:-1} port=${REG_PORT:-$EP_PORT}
	printf 'REGISTER sip:%s SIP/2.0\nVia: SIP/2.0/UDP 127.0.2.9:%s;branch=z9hG4bKev%s%s;rport\nMax-Forwards: 70\nFrom: <sip:%s@%s>;tag=ev%s\nTo: <sip:%s@%s>\nCall-ID: ev-%s@test\nCSeq: %s REGISTER\nContact: <sip:%s@127.0.2.9:5999>\nExpires: %s\nContent-Length: 0\n\n' \
		"$CL_DOMAIN" "$port" "$RANDOM" "$RANDOM" "$user" "$CL_DOMAIN" "$RANDOM" "$user" "$CL_DOMAIN" "$user" "$cseq" "$user" "$exp" |
		"$SIPSEND" -P -w 3000 -a 127.0.2.9 -b "$port" udp "${NODE_IP[$node]}" "$NPORT" - >"$T_DIR/reg.out" 2>&1
	[ "$(first_status <"$T_DIR/reg.out")" = 200 ]
}
reg_ok() { reg "$@" && pass "REGISTER $1 (expires $3) through $2: 200" || fail "REGISTER $1 through $2: $(first_status <"$T_DIR/reg.out")"; }

# ev_parse: every NOTIFY and REGISTER the back ends got, one line per
# Call-ID in $T_DIR/ev.txt:
#   LOG|METHOD|CALL-ID|VIA-HOST|AOR|EVENT|CONTACT|EXPIRES|ANSWERED|PATH|STATE
# for a NOTIFY, AOR is the document's, EVENT, CONTACT (its uri), EXPIRES
# and STATE its first contact's (the event's own: regevent.c writes it
# first); for a REGISTER, the To URI, "-", the Contact and Expires
# headers. ANSWERED: 1 when the back end sent a 200 for the Call-ID. Each
# NOTIFY body goes to $T_DIR/bodies/CALL-ID.xml. Lines in the order the
# requests came, per log, the logs in the order they were started.
ev_parse() {
	local f
	mkdir -p "$T_DIR/bodies"
	: >"$T_DIR/ev.txt"
	for f in $(ls "$T_DIR"/sc/*.msg 2>/dev/null | sort -t. -k2,2n); do
		awk -v src="$(basename "$f")" -v bodies="$T_DIR/bodies" '
			function attr(line, name, s) {
				if (!match(line, " " name "=\"[^\"]*\"")) return "-"
				s = substr(line, RSTART, RLENGTH); sub(/^[^"]*"/, "", s); sub(/"$/, "", s)
				return s
			}
			function flush(bf) {
				if ((method == "NOTIFY" || method == "REGISTER") && cid != "-") {
					if (!(cid in m)) order[++n] = cid
					m[cid] = method; v[cid] = via; a[cid] = aor; e[cid] = evn; c[cid] = ct
					x[cid] = ex; p[cid] = path; s[cid] = cst
					if (method == "NOTIFY") { bf = bodies "/" cid ".xml"; printf "%s", body > bf; close(bf) }
				}
				if (sent200 && scseq ~ /(NOTIFY|REGISTER)$/) ok[scid] = 1
				method = ""; sent200 = 0; phase = -1
			}
			BEGIN { phase = -1 }
			{ sub(/\r$/, "") }
			/^-----------------------------------------------/ { flush(); next }
			/ message received / { phase = 0; dir = "in"; next }
			/ message sent / { phase = 0; dir = "out"; next }
			phase == -1 { next }
			phase == 0 && $0 == "" { next }
			phase == 0 && dir == "in" && /^[A-Z]+ [^ ]+ SIP\/2\.0$/ {
				method = $1; cid = via = aor = evn = ct = ex = path = cst = "-"; body = ""; phase = 1; next
			}
			phase == 0 && dir == "out" && /^SIP\/2\.0 200 / { sent200 = 1; scid = scseq = ""; phase = 1; next }
			phase == 0 { phase = -1; next }
			phase == 1 && $0 == "" { phase = 2; next }
			phase == 1 {
				name = tolower($0); sub(/[ \t]*:.*/, "", name)
				val = $0; sub(/^[^:]*:[ \t]*/, "", val); sub(/[ \t]+$/, "", val)
				if (dir == "out") {
					if (name == "call-id" || name == "i") scid = val
					else if (name == "cseq") scseq = val
				} else if (name == "call-id" || name == "i") cid = val
				else if ((name == "via" || name == "v") && via == "-") {
					split(val, q, /[ \t]+/); h = q[2]; sub(/[;,].*/, "", h); sub(/:[0-9]+$/, "", h); via = h
				} else if (method == "REGISTER" && (name == "to" || name == "t")) {
					t = val; sub(/^[^<]*</, "", t); sub(/>.*$/, "", t); aor = t
				} else if (method == "REGISTER" && (name == "contact" || name == "m")) ct = val
				else if (method == "REGISTER" && name == "expires") ex = val
				else if (name == "path") path = val
				next
			}
			phase == 2 && dir == "in" && method == "NOTIFY" {
				body = body $0 "\n"
				if (aor == "-" && $0 ~ /<registration /) aor = attr($0, "aor")
				if (evn == "-" && $0 ~ /<contact /) { evn = attr($0, "event"); ex = attr($0, "expires"); cst = attr($0, "state") }
				if (ct == "-" && evn != "-" && match($0, /<uri>[^<]*<\/uri>/)) ct = substr($0, RSTART + 5, RLENGTH - 11)
			}
			END {
				flush()
				for (i = 1; i <= n; i++) {
					k = order[i]
					print src "|" m[k] "|" k "|" v[k] "|" a[k] "|" e[k] "|" c[k] "|" x[k] "|" (k in ok ? 1 : 0) "|" p[k] "|" s[k]
				}
			}' "$f" >>"$T_DIR/ev.txt"
	done
}

# notifies AOR EVENT [all]: distinct NOTIFYs (Call-IDs) about EVENT of
# sip:AOR@cc.test the back ends answered 200 (all: answered or not)
notifies() {
	awk -F'|' -v aor="sip:$1@$CL_DOMAIN" -v ev="$2" -v all="${3:-}" \
		'$2 == "NOTIFY" && $5 == aor && $6 == ev && (all != "" || $9 == 1) && !seen[$3]++ { n++ } END { print n + 0 }' "$T_DIR/ev.txt"
}
# all_notifies AOR: every answered NOTIFY about AOR, "event event ..." in order
all_notifies() {
	awk -F'|' -v aor="sip:$1@$CL_DOMAIN" '$2 == "NOTIFY" && $5 == aor && $9 == 1 && !seen[$3]++ { printf "%s%s", sep, $6; sep = " " } END { print "" }' "$T_DIR/ev.txt"
}
# body_of AOR EVENT: the body file of its (first answered) NOTIFY
body_of() {
	awk -F'|' -v aor="sip:$1@$CL_DOMAIN" -v ev="$2" -v d="$T_DIR/bodies" \
		'$2 == "NOTIFY" && $5 == aor && $6 == ev && $9 == 1 { print d "/" $3 ".xml"; exit }' "$T_DIR/ev.txt"
}
# rows AOR: its events in the outbox
rows() { psql_q "SELECT count(*) FROM reg_event WHERE aor = 'sip:$1@$CL_DOMAIN'"; }
# delivered N AOR EVENT: until N answered NOTIFYs of the pair are logged
# and the outbox has no row of the AOR
delivered() {
	ev_parse
	[ "$(notifies "$2" "$3")" -ge "$1" ] && [ "$(rows "$2")" = 0 ]
}
# wait_delivered SECONDS AOR EVENT WHAT: exactly one delivered
wait_delivered() {
	local secs=$1 aor=$2 ev=$3 what=$4
	if wait_for "$secs" delivered 1 "$aor" "$ev"; then
		[ "$(notifies "$aor" "$ev" all)" = 1 ] && pass "$what: exactly one event=\"$ev\" NOTIFY for $aor" ||
			fail "$what: $(notifies "$aor" "$ev" all) NOTIFYs event=$ev for $aor"
	else
		fail "$what: no answered event=\"$ev\" NOTIFY for $aor within $secs s (outbox rows: $(rows "$aor"))"
	fi
}
# valid AOR EVENT: its NOTIFY body validates against the RFC 3680 schema
valid() {
	local b
	b=$(body_of "$1" "$2")
	if [ -n "$b" ] && xmllint --noout --schema "$XSD" "$b" 2>"$T_DIR/xmllint.out"; then
		pass "$1 $2: the reginfo body validates against reginfo.xsd"
	else
		fail "$1 $2: the reginfo body does not validate"
		cat "$T_DIR/xmllint.out" "$b" >&2
	fi
}
# field AOR EVENT N: field N of its (first answered) NOTIFY's line
field() {
	awk -F'|' -v aor="sip:$1@$CL_DOMAIN" -v ev="$2" -v f="$3" \
		'$2 == "NOTIFY" && $5 == aor && $6 == ev && $9 == 1 { print $f; exit }' "$T_DIR/ev.txt"
}
setting_is() { [ "$(psql_q "SELECT mode || ' ' || refresh FROM reg_event_setting")" = "$1" ]; }

# ---- the cluster: n1, n2, the back end in the pool ----------------------------
be_start ev_backend.xml
node n1
node n2
cl_wait_states 15 be=active || { fail "the back end is not in service"; cl_done; }
wait_for 5 setting_is "reginfo false" && pass "the nodes wrote their [notify] settings (reginfo, no refresh)" ||
	fail "reg_event_setting: $(psql_q 'SELECT mode, refresh FROM reg_event_setting')"

# (b) first, so that it expires while the others run
reg_ok x1 n1 3
reg_ok x2 n2 4
reg_ok x3 n1 5
T_EXP=$(now)

# ---- (a) registered ------------------------------------------------------------
reg_ok a1 n1 60
wait_delivered 10 a1 registered "(a) a REGISTER"
valid a1 registered
[ "$(field a1 registered 7)" = "sip:a1@127.0.2.9:5999" ] && [ "$(field a1 registered 11)" = active ] &&
	[[ "$(field a1 registered 8)" =~ ^(5[89]|60)$ ]] &&
	pass "(a) its contact: the binding's URI, active, expires $(field a1 registered 8)" ||
	fail "(a) contact: $(grep 'sip:a1@' "$T_DIR/ev.txt")"
grep -q 'callid="ev-a1@test" cseq="1"' "$(body_of a1 registered)" && grep -q 'aor="sip:a1@cc.test"' "$(body_of a1 registered)" &&
	pass "(a) the document names the AOR, the Call-ID and CSeq of the REGISTER" || fail "(a) document: $(cat "$(body_of a1 registered)")"

# ---- (c) unregistered: through the other node ------------------------------
reg_ok a1 n2 0 2
wait_delivered 10 a1 unregistered "(c) an unregister (expires=0)"
valid a1 unregistered
[ "$(field a1 unregistered 11)" = terminated ] && grep -q 'registration aor="sip:a1@cc.test" [^>]*state="terminated"' "$(body_of a1 unregistered)" &&
	pass "(c) the contact and the registration terminated" || fail "(c) document: $(cat "$(body_of a1 unregistered)")"
[ "$(all_notifies a1)" = "registered unregistered" ] && pass "(c) a1: registered, then unregistered, nothing else" ||
	fail "(c) a1's NOTIFYs: $(all_notifies a1)"

# ---- (d) refresh = no -----------------------------------------------------------
reg_ok d1 n1 60
wait_delivered 10 d1 registered "(d) d1"
before=$(psql_q "SELECT coalesce(max(id), 0) FROM reg_event")
reg_ok d1 n2 60 2
[ "$(psql_q "SELECT count(*) FROM reg_event WHERE aor = 'sip:d1@cc.test'")" = 0 ] &&
	pass "(d) a refresh with the same expiry wrote no event" || fail "(d) rows after the refresh: $(psql_q "SELECT event FROM reg_event WHERE aor = 'sip:d1@cc.test'")"
sleep 1
ev_parse
[ "$(all_notifies d1)" = registered ] && pass "(d) and no NOTIFY came of it" || fail "(d) d1's NOTIFYs: $(all_notifies d1)"
# the same expiry from another source port: the route changed (received)
REG_PORT=$(free_port) reg_ok d1 n1 60 3
wait_delivered 10 d1 refreshed "(d) a refresh from a new source (received changed)"
reg_ok d1 n1 30 4
wait_delivered 10 d1 shortened "(d) a shorter expiry"
[[ "$(field d1 shortened 8)" =~ ^(29|30)$ ]] && pass "(d) shortened to $(field d1 shortened 8) s" || fail "(d) shortened: expires $(field d1 shortened 8)"
valid d1 shortened

# ---- (b) the expiries: once each, though both nodes sweep ---------------------
sleep_until "$(awk -v t="$T_EXP" 'BEGIN { printf "%.3f", t + 5 }')"
for u in x1 x2 x3; do
	wait_for 8 delivered 1 "$u" expired || fail "(b) no expired NOTIFY for $u"
done
sleep 2.5 # more sweeps by both nodes, more rounds: nothing more may come
ev_parse
for u in x1 x2 x3; do
	got="$(notifies "$u" registered all) $(notifies "$u" expired all) $(rows "$u")"
	[ "$got" = "1 1 0" ] && [ "$(all_notifies "$u")" = "registered expired" ] &&
		pass "(b) $u: one registered, then exactly one expired NOTIFY, no row left" ||
		fail "(b) $u: registered, expired NOTIFYs, rows: $got ($(all_notifies "$u"))"
done
valid x1 expired
[ "$(field x2 expired 11)" = terminated ] && pass "(b) the expired contact is terminated" || fail "(b) x2: $(grep 'sip:x2@' "$T_DIR/ev.txt")"
# who swept: junction_sweep_expired() one node at a time; whoever sent,
# the nodes' counters add up to what the back end answered
ev_parse
answered=$(awk -F'|' '$2 == "NOTIFY" && $9 == 1' "$T_DIR/ev.txt" | wc -l)
sent=0
for n in n1 n2; do
	v=$(curl -s "http://127.0.0.1:${APORT[$n]}/metrics" | awk '$1 == "junction_reg_events_total{outcome=\"sent\"}" { print $2 }')
	sent=$((sent + ${v:-0}))
done
[ "$sent" = "$answered" ] && pass "junction_reg_events_total{outcome=\"sent\"}: n1 + n2 = $sent, the NOTIFYs answered" ||
	fail "sent counters $sent, NOTIFYs answered $answered"

# ---- (e) a node dies with events claimed, the back end silent -------------------
# k1..k4 registered through n2 without a sender ([notify] mode = off:
# the events are recorded all the same), so that n1, started afterwards,
# claims all four in one round. The back end answers the probes only:
# the pool keeps it, the NOTIFYs hang (Timer F) and stay claimed.
cl_node_stop n1
cl_node_stop n2
NOTIFY_LINES=("mode = off")
node n2
for u in k1 k2 k3 k4; do reg_ok "$u" n2 120; done
be_stop
be_start ev_mute.xml
MUTE_LOG=be.$BE_GEN.msg
NOTIFY_LINES=("mode = reginfo" "target = pool" "interval = 200" "retry_max = 2")
node n1
claimed() { [ "$(psql_q "SELECT count(*) FROM reg_event WHERE aor ~ '^sip:k[1-4]@' AND state = 'sending' AND claimed_by = 'n1'")" = 4 ]; }
wait_for 10 claimed && pass "(e) n1 claimed k1..k4 and sent them to the silent back end" ||
	fail "(e) k1..k4: $(psql_q "SELECT string_agg(aor || ' ' || state || ' ' || coalesce(claimed_by, '-'), ', ') FROM reg_event")"
T_CLAIM=$(psql_q "SELECT extract(epoch FROM min(next_try)) FROM reg_event WHERE state = 'sending'")
node_kill n1
pass "(e) n1 SIGKILLed holding its claims"
be_stop
cl_node_stop n2
node n2
CL_NODES=n2 cl_wait_states 10 n2:be=oos && pass "(e) n2 finds the back end out of service" || fail "(e) the back end is still in service on n2"
reg_ok k1 n2 0 2 # behind k1's claimed "registered"
reg_ok p1 n2 120
reg_ok p2 n2 120
pending_retried() { [ "$(psql_q "SELECT count(*) FROM reg_event WHERE aor ~ '^sip:p[12]@' AND state = 'pending' AND attempts >= 1")" = 2 ]; }
wait_for 5 pending_retried && pass "(e) p1, p2 tried by n2 and pending again" ||
	fail "(e) p1, p2: $(psql_q "SELECT string_agg(aor || ' ' || state || ' ' || attempts, ', ') FROM reg_event")"

# ---- (g) GET /v1/notifications while the back end is down ------------------------
ADMIN_URL=http://127.0.0.1:${APORT[n2]}
api GET /v1/notifications
expect 200 "(g) GET /v1/notifications"
[ "$(jqv '.count')" = 7 ] && [ "$(jqv '.notifications | length')" = 7 ] &&
	pass "(g) the 7 undelivered events, count 7" || fail "(g) $(head -c 800 "$T_DIR/body")"
[ "$(jqv '[.notifications[].id] == ([.notifications[].id] | sort)')" = true ] && pass "(g) oldest first" || fail "(g) order"
[ "$(jqv '[.notifications[] | select(.state == "sending" and .claimed_by == "n1" and .attempts >= 1)] | length')" = 4 ] &&
	pass "(g) k1..k4 sending, claimed by n1" || fail "(g) sending: $(jqv '[.notifications[] | {aor, state, claimed_by}]')"
[ "$(jqv '[.notifications[] | select(.state == "pending" and .last_error == "no Session Controller in service")] | length')" = 2 ] &&
	pass "(g) p1, p2 pending, last_error: no Session Controller in service" || fail "(g) pending: $(jqv '[.notifications[] | {aor, state, last_error}]')"
now_s=$(date +%s)
[ "$(jq --argjson now "$now_s" '[.notifications[] | select(.created_at <= $now and .created_at > $now - 120
	and (.next_try | type) == "number" and (.node | type) == "string")] | length' "$T_DIR/body")" = 7 ] &&
	pass "(g) created_at and next_try in unix seconds" || fail "(g) times: $(jqv '[.notifications[] | {created_at, next_try, node}]')"
api GET '/v1/notifications?aor=k1@CC.TEST'
expect 200 "(g) ?aor="
[ "$(jqv '[.notifications[] | .event + " " + .state] | join(", ")')" = "registered sending, unregistered pending" ] && [ "$(jqv .count)" = 2 ] &&
	pass "(g) ?aor=k1@CC.TEST: registered (sending), then unregistered (pending, behind it)" || fail "(g) k1: $(cat "$T_DIR/body")"
api GET '/v1/notifications?state=pending&limit=2'
expect 200 "(g) ?state=pending&limit=2"
[ "$(jqv '.notifications | length')" = 2 ] && [ "$(jqv .count)" = 3 ] && [ "$(jqv '[.notifications[].state] | unique | join(",")')" = pending ] &&
	pass "(g) the first 2 of the 3 pending, count 3" || fail "(g) pending page: $(cat "$T_DIR/body")"
api GET '/v1/notifications?state=failed'
expect 200 "(g) ?state=failed"
[ "$(jqv '.count')" = 0 ] && [ "$(jqv '.notifications | length')" = 0 ] && pass "(g) none failed" || fail "(g) failed: $(cat "$T_DIR/body")"
api GET '/v1/notifications?state=lost'
expect 400 bad_request "(g) a state that is none"
api GET '/v1/notifications?limit=0'
expect 400 bad_request "(g) limit 0"
api GET '/v1/notifications?limit=1001'
expect 400 bad_request "(g) limit 1001"
api GET '/v1/notifications?aor=nobody'
expect 400 bad_request "(g) an aor that is none"
api GET '/v1/notifications?cursor=x'
expect 400 bad_request "(g) no cursor here"
api POST /v1/notifications '{}'
expect 405 method_not_allowed "(g) read only"
TOKEN= api GET /v1/notifications
expect 401 unauthorized "(g) without the token"
openapi_check
"$JUNCTIONCTL" --url "$ADMIN_URL" --token "$ADMIN_TOKEN" notifications --state sending >"$T_DIR/ctl.out" 2>&1
[ "$(head -n 1 "$T_DIR/ctl.out" | awk '{ print $1, $2, $4, $8, $11 }')" = "ID AOR EVENT STATE CLAIMED-BY" ] &&
	[ "$(grep -c ' sending .* n1 ' "$T_DIR/ctl.out")" = 4 ] &&
	grep -q '^[0-9]* *sip:k1@cc.test .* [0-9]\{4\}-[0-9][0-9]-[0-9][0-9]T[0-9:]*Z ' "$T_DIR/ctl.out" &&
	pass "(g) junctionctl notifications --state sending: the 4 claimed, times in UTC" ||
	{ fail "(g) junctionctl notifications"; cat "$T_DIR/ctl.out" >&2; }
"$JUNCTIONCTL" --url "$ADMIN_URL" --token "$ADMIN_TOKEN" notifications --aor p1@cc.test --json >"$T_DIR/ctl.json" 2>&1
[ "$(jq -r '.notifications[0].aor + " " + (.count | tostring)' "$T_DIR/ctl.json")" = "sip:p1@cc.test 1" ] &&
	pass "(g) junctionctl notifications --aor --json" || { fail "(g) junctionctl --aor --json"; cat "$T_DIR/ctl.json" >&2; }
"$JUNCTIONCTL" --url "$ADMIN_URL" --token "$ADMIN_TOKEN" notifications --state bogus >"$T_DIR/ctl.err" 2>&1
rc=$?
[ "$rc" = 1 ] && grep -q 'state must be pending, sending or failed' "$T_DIR/ctl.err" &&
	pass "(g) junctionctl: a bad state refused by the API, exit 1" || fail "(g) junctionctl bad state: rc $rc $(cat "$T_DIR/ctl.err")"

# ---- (e) the back end is back: n2 delivers everything once ----------------------
be_start ev_backend.xml
CL_NODES=n2 cl_wait_states 10 n2:be=active && pass "(e) the back end back in service on n2" || fail "(e) the back end not back on n2"
outbox_empty() { [ "$(psql_q "SELECT count(*) FROM reg_event")" = 0 ]; }
p_gone() { [ "$(psql_q "SELECT count(*) FROM reg_event WHERE aor ~ '^sip:p[12]@'")" = 0 ]; }
wait_for 8 p_gone &&
	pass "(e) p1, p2 delivered by n2 as soon as the back end is back" || fail "(e) p1, p2 not delivered"
# while their lease runs, n1's claims stay n1's (a second before its end
# at the latest: this read and the claim are not one instant)
early=$(psql_q "SELECT count(*) FILTER (WHERE state = 'sending' AND claimed_by = 'n1') || ' ' || (extract(epoch FROM now()) < $T_CLAIM - 1) FROM reg_event WHERE aor ~ '^sip:k[1-4]@' AND event = 'registered'")
[ "$early" = "4 true" ] && pass "(e) k1..k4 still claimed by the dead n1 while the lease runs" ||
	fail "(e) n1's claims before the lease ran out: $early (4 true expected)"
# n1's claims are n2's when their lease (40 s) has run out
secs=$(awk -v t="$T_CLAIM" -v n="$(now)" 'BEGIN { d = t - n + 12; printf "%d", (d > 12 ? d : 12) }')
wait_for "$secs" outbox_empty && pass "(e) the outbox is empty: n1's claimed events taken over after the lease" ||
	fail "(e) left in the outbox: $(psql_q "SELECT string_agg(aor || ' ' || event || ' ' || state || ' ' || coalesce(claimed_by, '-') || ' ' || attempts, ', ') FROM reg_event")"
sleep 0.5
ev_parse
bad=
for pair in "k1 registered" "k1 unregistered" "k2 registered" "k3 registered" "k4 registered" "p1 registered" "p2 registered"; do
	set -- $pair
	[ "$(notifies "$1" "$2")" = 1 ] || bad="$bad $1/$2:$(notifies "$1" "$2")"
	# delivered through n2 only (n1 is dead; its NOTIFYs went to the mute back end)
	awk -F'|' -v aor="sip:$1@$CL_DOMAIN" -v ev="$2" '$2 == "NOTIFY" && $5 == aor && $6 == ev && $9 == 1 && $4 != "127.0.0.3" { bad = 1 } END { exit bad }' "$T_DIR/ev.txt" ||
		bad="$bad $1/$2:not-from-n2"
done
[ -z "$bad" ] && pass "(e) every event delivered exactly once, by n2 (7 (AOR, event) pairs)" || fail "(e) deliveries:$bad"
[ "$(all_notifies k1)" = "registered unregistered" ] && pass "(e) k1 in order: registered, then unregistered" || fail "(e) k1: $(all_notifies k1)"
muted=$(awk -F'|' -v mute="$MUTE_LOG" '$1 == mute && $2 == "NOTIFY" && $5 ~ /^sip:k[1-4]@/ { print $5 }' "$T_DIR/ev.txt" | sort -u | wc -l)
[ "$muted" = 4 ] && pass "(e) the silent back end had got n1's 4 NOTIFYs and answered none" ||
	fail "(e) the mute back end got $muted of k1..k4"
v=$(curl -s "http://127.0.0.1:${APORT[n2]}/metrics" | awk '$1 == "junction_reg_events_total{outcome=\"retry\"}" { print $2 }')
[ "${v:-0}" -ge 2 ] && pass "junction_reg_events_total{outcome=\"retry\"} on n2: $v" || fail "retry counter on n2: ${v:-none}"
curl -s "http://127.0.0.1:${APORT[n2]}/metrics" >"$T_DIR/metrics.txt"
missing=
for m in 'junction_reg_events_total{outcome="failed"}' 'junction_delegated_registers_total{outcome="accepted"}' \
	'junction_delegated_registers_total{outcome="challenged"}' 'junction_delegated_registers_total{outcome="rejected"}' \
	'junction_delegated_registers_total{outcome="failed"}' junction_delegated_registers_forwarded_total; do
	[ "$(awk -v k="$m" '$1 == k { print $2 }' "$T_DIR/metrics.txt")" = 0 ] || missing="$missing $m"
done
grep -q '^# TYPE junction_reg_events_total counter$' "$T_DIR/metrics.txt" &&
	grep -q '^# TYPE junction_delegated_registers_total counter$' "$T_DIR/metrics.txt" && [ -z "$missing" ] &&
	pass "the event and delegation families exported (0 where nothing happened)" || fail "metrics:$missing"

# ---- (f) mode = register, to a fixed target -------------------------------------
cl_node_stop n2
be_stop
be_start ev_backend.xml "$FX_IP" "$FXPORT" fx
NOTIFY_LINES=("mode = register" "target = sip:$FX_IP:$FXPORT" "interval = 200" "retry_max = 2")
node n1
node n2
wait_for 5 setting_is "register false" && pass "(f) the nodes wrote mode register" || fail "(f) setting: $(psql_q 'SELECT mode FROM reg_event_setting')"
# from another source than 127.0.0.1, so that received shows it
printf 'REGISTER sip:%s SIP/2.0\nVia: SIP/2.0/UDP 127.0.2.7:5999;branch=z9hG4bKf%s;rport\nMax-Forwards: 70\nFrom: <sip:f1@%s>;tag=f1\nTo: <sip:f1@%s>\nCall-ID: ev-f1@test\nCSeq: 1 REGISTER\nContact: <sip:f1@127.0.2.7:5999>\nExpires: 4\nContent-Length: 0\n\n' \
	"$CL_DOMAIN" "$RANDOM" "$CL_DOMAIN" "$CL_DOMAIN" |
	"$SIPSEND" -P -w 3000 -a 127.0.2.7 -b 5999 udp "${NODE_IP[n1]}" "$NPORT" - >"$T_DIR/reg.out" 2>&1
[ "$(first_status <"$T_DIR/reg.out")" = 200 ] && pass "(f) f1 registered for 4 s from 127.0.2.7:5999" || fail "(f) REGISTER f1: $(first_status <"$T_DIR/reg.out")"
fx_regs() {
	ev_parse
	awk -F'|' -v aor="sip:f1@$CL_DOMAIN" '$1 ~ /^fx\./ && $2 == "REGISTER" && $5 == aor && $9 == 1' "$T_DIR/ev.txt" >"$T_DIR/fx.txt"
	[ "$(wc -l <"$T_DIR/fx.txt")" -ge "$1" ] && [ "$(rows f1)" = 0 ]
}
wait_for 15 fx_regs 2 || fail "(f) the back end did not get two REGISTERs for f1"
sleep 1.5
fx_regs 2
[ "$(wc -l <"$T_DIR/fx.txt")" = 2 ] && pass "(f) exactly two REGISTERs for f1 (registered, expired)" || fail "(f) REGISTERs: $(cat "$T_DIR/fx.txt")"
IFS='|' read -r _ _ _ _ aor _ ct ex _ path _ < <(sed -n 1p "$T_DIR/fx.txt")
[[ "$ct" =~ ^\<sip:f1@127\.0\.2\.7:5999\>\;expires=([34])$ ]] && [ "$ex" = "${BASH_REMATCH[1]}" ] && [ "$aor" = "sip:f1@$CL_DOMAIN" ] &&
	pass "(f) To: the AOR, Contact: $ct, Expires: $ex" || fail "(f) first REGISTER: to=$aor contact=$ct expires=$ex"
[ "$path" = "<sip:$CL_RR_HOST;lr;received=sip:127.0.2.7:5999>" ] && pass "(f) Path: $path" || fail "(f) Path: $path"
IFS='|' read -r _ _ _ _ aor _ ct ex _ _ _ < <(sed -n 2p "$T_DIR/fx.txt")
[ "$ct" = "<sip:f1@127.0.2.7:5999>;expires=0" ] && [ "$ex" = 0 ] && pass "(f) when it expired: Contact ;expires=0, Expires: 0" ||
	fail "(f) second REGISTER: contact=$ct expires=$ex"
[ "$(awk -F'|' '$1 ~ /^fx\./ && $2 == "NOTIFY"' "$T_DIR/ev.txt" | wc -l)" = 0 ] && pass "(f) no NOTIFY in register mode" || fail "(f) NOTIFYs in register mode"

cl_node_stop n1
cl_node_stop n2
cl_done
