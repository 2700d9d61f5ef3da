#!/usr/bin/env bash
# [auth] mode = delegate (src/proxy/delegate.c): the Session Controllers
# decide who registers, Junction keeps the bindings. Two nodes (n1, n2 on
# 127.0.0.2/3, cluster_lib.sh) on one PostgreSQL, [routing]
# session_controllers = yes; two SCs in service, sc1a and sc2a (127.0.1.1
# and .3, dc1, pairs of their own), played by SIPp with
# scenarios/sc_registrar.xml: 401 without credentials, 403 for a wrong
# password (pw-USER is right) or a user named bad*, 500 for err*, silence
# for mute*, else 200 with "X-SC: its address" and the Contact back with
# ;expires=60 (hdr*: no parameter but Expires: 45; plain*: no expiry at
# all); removals and fetches get a 200 without Contact. Endpoints are
# sipsend (exact messages; the digest computed here with md5sum), SIPp
# (ep_register.xml, -auth_uri) and sipsak (-f) on 127.0.2.x. Checked:
#  1. a REGISTER is forwarded, transaction-stateful, to a SC: Request-URI
#     unchanged, the node's Via on top of the endpoint's, and
#     Path: <sip:CLUSTER;lr;received=sip:EPIP:EPPORT> over UDP (any node
#     reaches the device), <sip:NODE:PORT;transport=tcp;lr;received=
#     sip:EPIP:EPPORT%3Btransport%3Dtcp> over TCP (only the node with the
#     connection does).
#  2. every REGISTER of one AOR reaches one SC, through either node; with
#     16 AORs both SCs get some.
#  3. the SC's answers go back to the endpoint as they are: 401 with its
#     WWW-Authenticate, 403, 500, 200 with its X-SC header.
#  4. only the SC's 2xx stores a binding, committed before the 200 reaches
#     the endpoint, with the expiry the SC granted (its Contact's expires
#     parameter, else its Expires, else the one asked for); 401, 403, 500
#     and no answer at all (the endpoint gets no final answer or 408)
#     store nothing.
#  5. a user registered through n1 (SIPp, digest from the SC's challenge)
#     is reached by a SC's INVITE through n2 (location service).
#  6. fetching (no Contact) and removing (;expires=0, and "*" with
#     Expires: 0) go through the SC; after its 200 the binding is gone
#     (the fetch leaves it as it was).
#  7. no SC in service on either node: 503 with Retry-After.
#  8. a REGISTER whose Expires is below [registrar] min_expires gets 423
#     with Min-Expires from the node, and no SC sees it.
# The exact bindings come from the binding table (psql), what the SCs got
# from their SIPp message logs.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg.sh"
. "$(dirname "$0")/cluster_lib.sh"
need ss psql sipp sipsak md5sum

CL_AUTH_EXTRA=""
CL_NODES="n1 n2"
CL_SERVERS="sc1a sc2a"
SC_SCEN=sc_registrar.xml
REALM=$CL_DOMAIN
declare -A SC_OF_IP=()
for s in $CL_SERVERS; do SC_OF_IP[${SC_IP[$s]}]=$s; done
# sc_name IP: the SC with that address, "" for none
sc_name() { [ -n "$1" ] && echo "${SC_OF_IP[$1]:-}"; }

cl_setup
# The nodes' [auth] says delegate; the config junction --migrate read kept
# mode = local, as delegate needs a [routing] it does not have.
sed -i '/^\[auth\]/,/^\[/ s/^mode = .*/mode = delegate/' "$T_DIR/shared.conf"
grep -qx 'mode = delegate' "$T_DIR/shared.conf" || { fail "[auth] mode = delegate not set"; cl_done; }
cl_pool
for s in $CL_SERVERS; do sc_start "$s"; done
for n in $CL_NODES; do cl_node_start "$n"; done
cl_wait_states 15 sc1a=active sc2a=active || { fail "the pool did not come up"; cl_done; }

# ---- helpers -----------------------------------------------------------

md5() { printf '%s' "$1" | md5sum | cut -d' ' -f1; }

# auth_hdr USER NONCE [PASSWORD]: the Authorization line for a REGISTER to
# sip:cc.test (RFC 2617 digest without qop, as the SC challenges)
auth_hdr() {
	local u=$1 nonce=$2 pw=${3:-pw-$1} ha1 ha2
	ha1=$(md5 "$u:$REALM:$pw")
	ha2=$(md5 "REGISTER:sip:$CL_DOMAIN")
	printf 'Authorization: Digest username="%s", realm="%s", nonce="%s", uri="sip:%s", response="%s", algorithm=MD5' \
		"$u" "$REALM" "$nonce" "$CL_DOMAIN" "$(md5 "$ha1:$nonce:$ha2")"
}

# reg_msg USER IP PORT CALL-ID CSEQ [CONTACT [EXPIRES [AUTH [TP]]]]: a
# REGISTER of USER@cc.test from IP:PORT; CONTACT "" is <sip:USER@IP:PORT>,
# "-" none; EXPIRES "-" none (default 300); TP udp or tcp
reg_msg() {
	local u=$1 ip=$2 port=$3 cid=$4 cseq=$5 contact=${6:-} exp=${7:-300} auth=${8:-} tp=${9:-udp}
	local tpp=""
	[ "$tp" = tcp ] && tpp=";transport=tcp"
	[ -n "$contact" ] || contact="<sip:$u@$ip:$port$tpp>"
	printf 'REGISTER sip:%s SIP/2.0\n' "$CL_DOMAIN"
	printf 'Via: SIP/2.0/%s %s:%s;branch=z9hG4bK%s;rport\n' "${tp^^}" "$ip" "$port" "$RANDOM$RANDOM"
	printf 'Max-Forwards: 70\nFrom: <sip:%s@%s>;tag=%s\nTo: <sip:%s@%s>\n' "$u" "$CL_DOMAIN" "$RANDOM" "$u" "$CL_DOMAIN"
	printf 'Call-ID: %s\nCSeq: %s REGISTER\n' "$cid" "$cseq"
	[ "$contact" = - ] || printf 'Contact: %s\n' "$contact"
	[ "$exp" = - ] || printf 'Expires: %s\n' "$exp"
	[ -z "$auth" ] || printf '%s\n' "$auth"
	printf 'Content-Length: 0\n\n'
}

# send_reg OUT NODE IP PORT [TP [WAIT_MS]]: sends the REGISTER on stdin from
# IP:PORT to NODE, the answers (provisionals skipped, whole) into
# $T_DIR/OUT; prints the final status or "none"
send_reg() {
	local out=$T_DIR/$1 node=$2 ip=$3 port=$4 tp=${5:-udp} w=${6:-5000}
	"$SIPSEND" -v -P -w "$w" -a "$ip" -b "$port" "$tp" "${NODE_IP[$node]}" "$NPORT" - >"$out" 2>&1
	first_status <"$out"
}

# hdr FILE NAME: the value of header NAME in the first response in FILE
hdr() {
	tr -d '\r' <"$T_DIR/$1" | awk -v n="$(echo "$2" | tr 'A-Z' 'a-z')" '
		/^SIP\/2\.0 / { inmsg = 1; next }
		inmsg && $0 == "" { exit }
		inmsg { h = $0; sub(/:.*/, "", h); if (tolower(h) == n) { sub(/^[^:]*:[ \t]*/, ""); print; exit } }'
}

# binding USER: "contact call_id cseq node received" of each of USER's
# bindings, one line each (sorted by contact); expires_in USER CONTACT:
# the seconds the binding has left
binding() {
	psql_q "SELECT contact || ' ' || call_id || ' ' || cseq || ' ' || node || ' ' || coalesce(received, '-')
		FROM binding WHERE aor = 'sip:$1@$CL_DOMAIN' ORDER BY contact"
}
expires_in() {
	psql_q "SELECT round(extract(epoch FROM expires_at - now())) FROM binding
		WHERE aor = 'sip:$1@$CL_DOMAIN' AND contact = '$2'"
}
# in_range V LOW HIGH
in_range() { [[ $1 =~ ^-?[0-9]+$ ]] && [ "$1" -ge "$2" ] && [ "$1" -le "$3" ]; }

# sc_regs: every REGISTER the SCs got, one line each in $T_DIR/regs.txt:
# SC|CALL-ID|CSEQ|R-URI|VIAS|PATH|AUTH|CONTACT|EXPIRES|USER, VIAS every Via
# value in order joined by ", ", AUTH 1 with an Authorization, "-" for a
# header that is not there, USER the user of the To URI
sc_regs() {
	local f base
	: >"$T_DIR/regs.txt"
	for f in "$T_DIR"/sc/*.msg; do
		[ -f "$f" ] || continue
		base=$(basename "$f")
		awk -v sc="${base%%.*}" '
			function out() {
				if (method == "REGISTER")
					print sc "|" cid "|" cseq "|" ruri "|" vias "|" path "|" auth "|" contact "|" expv "|" user
				method = ""
			}
			{ sub(/\r$/, "") }
			/^-------------------------------------------+ [0-9]+-[0-9]+-[0-9]+ / { out(); inbound = 0; next }
			/ message received / { out(); inbound = 1; next }
			/ message sent / { out(); inbound = 0; next }
			method == "" && inbound && /^[A-Z]+ [^ ]+ SIP\/2\.0$/ {
				method = $1; ruri = $2; vias = ""; path = "-"; auth = 0; contact = "-"; expv = "-"
				cid = ""; cseq = ""; user = ""; next
			}
			method != "" && $0 == "" { out(); next }
			method != "" {
				name = tolower($0); sub(/[ \t]*:.*/, "", name)
				v = $0; sub(/^[^:]*:[ \t]*/, "", v); sub(/[ \t]+$/, "", v)
				if (name == "via" || name == "v") vias = vias == "" ? v : vias ", " v
				else if (name == "path") path = path == "-" ? v : path ", " v
				else if (name == "authorization") auth = 1
				else if (name == "contact" || name == "m") contact = v
				else if (name == "expires") expv = v
				else if (name == "call-id" || name == "i") cid = v
				else if (name == "cseq") { split(v, a, /[ \t]+/); cseq = a[1] }
				else if (name == "to" || name == "t") {
					u = v; sub(/^[^:]*sip:/, "", u); sub(/@.*/, "", u); user = u
				}
			}
			END { out() }' "$f" >>"$T_DIR/regs.txt"
	done
}
# reg_at CALL-ID CSEQ: the line of sc_regs for that REGISTER (the first
# one: the node may retransmit), "" when no SC got it
reg_at() { awk -F'|' -v c="$1" -v s="$2" '$2 == c && $3 == s { print; exit }' "$T_DIR/regs.txt"; }
# field N LINE
field() { echo "$2" | cut -d'|' -f"$1"; }

# uas_up IP PORT LABEL / uas_down: the endpoint's UAS for one call (as in
# cluster.sh); rc is its exit status
uas_up() {
	sipp -sf "$SCEN/uas.xml" -i "$1" -p "$2" -m 1 -nostdin -trace_stat -stf "$T_DIR/$3_uas.csv" \
		-trace_err -error_file "$T_DIR/$3_uas.err" >"$T_DIR/$3_uas.out" 2>&1 &
	UAS_PID=$!
	T_PIDS+=("$UAS_PID")
	wait_udp "$1" "$2"
}
uas_down() {
	for _ in $(seq 50); do kill -0 "$UAS_PID" 2>/dev/null || break; sleep 0.1; done
	kill -TERM "$UAS_PID" 2>/dev/null
	wait "$UAS_PID"
	rc=$?
	t_forget "$UAS_PID"
}

EP1=${EP_IP[n1]} EP2=${EP_IP[n2]}

# ---- 4 (no answer), in the background: a SC that never answers ----------
# Timer F (64*T1, 32 s) runs while the other checks do.
MUTE_PORT=$(free_port)
reg_msg mute1 "$EP1" "$MUTE_PORT" "mute1-1@t" 1 >"$T_DIR/mute.msg"
"$SIPSEND" -v -P -w 40000 -a "$EP1" -b "$MUTE_PORT" udp "${NODE_IP[n1]}" "$NPORT" "$T_DIR/mute.msg" \
	>"$T_DIR/mute.out" 2>&1 &
MUTE_PID=$!
T_PIDS+=("$MUTE_PID")

# ---- 1, 3, 4: u1 through n1: challenge, credentials, refresh ---------------
P1=$(free_port)
st=$(reg_msg u1 "$EP1" "$P1" "u1-reg@t" 1 | send_reg u1_401.out n1 "$EP1" "$P1")
www=$(hdr u1_401.out WWW-Authenticate)
nonce=$(echo "$www" | sed -n 's/.*nonce="\([^"]*\)".*/\1/p')
[ "$st" = 401 ] && [[ $www == "Digest realm=\"$REALM\", nonce=\"sc"*'", algorithm=MD5' ]] && [ -n "$nonce" ] &&
	pass "3: u1's REGISTER without credentials: the SC's 401 with its WWW-Authenticate ($www)" ||
	{ fail "3: u1 without credentials: status $st, WWW-Authenticate '$www'"; head -n 20 "$T_DIR/u1_401.out" >&2; }
[ -z "$(binding u1)" ] && pass "4: the 401 stored nothing" || fail "4: after the 401: binding '$(binding u1)'"

st=$(reg_msg u1 "$EP1" "$P1" "u1-reg@t" 2 "" 300 "$(auth_hdr u1 "$nonce")" | send_reg u1_200.out n1 "$EP1" "$P1")
# read at once: the binding must be there when the 200 is
b=$(binding u1)
e=$(expires_in u1 "sip:u1@$EP1:$P1")
xsc=$(hdr u1_200.out X-SC)
ctc=$(hdr u1_200.out Contact)
[ "$st" = 200 ] && [ -n "$(sc_name "$xsc")" ] && [ "$ctc" = "<sip:u1@$EP1:$P1>;expires=60" ] &&
	pass "3: u1 with credentials: 200 with the SC's X-SC: $xsc and Contact $ctc" ||
	{ fail "3: u1 with credentials: status $st, X-SC '$xsc', Contact '$ctc'"; head -n 20 "$T_DIR/u1_200.out" >&2; }
[ "$b" = "sip:u1@$EP1:$P1 u1-reg@t 2 n1 udp:$EP1:$P1" ] && in_range "$e" 55 60 &&
	pass "4: when the 200 came, u1's binding was stored (n1, received udp:$EP1:$P1) for the 60 s the SC granted ($e)" ||
	fail "4: u1's binding when the 200 came: '$b', expires in '$e' (want 55..60)"
U1_SC=$(sc_name "$xsc")
: "${U1_SC:=none}"

sc_regs
r=$(reg_at "u1-reg@t" 2)
[ -n "$r" ] && [ "$(field 1 "$r")" = "$U1_SC" ] && pass "1: the REGISTER reached $U1_SC, the SC that answered" ||
	fail "1: u1's REGISTER (CSeq 2) at the SCs: '$r', answered by $U1_SC"
[ "$(field 4 "$r")" = "sip:$CL_DOMAIN" ] && pass "1: Request-URI unchanged (sip:$CL_DOMAIN)" ||
	fail "1: Request-URI at the SC: '$(field 4 "$r")'"
vias=$(field 5 "$r")
[[ $vias == "SIP/2.0/UDP ${NODE_IP[n1]}:$NPORT;branch=z9hG4bK"*", SIP/2.0/UDP $EP1:$P1;"* ]] &&
	pass "1: n1's Via on top of the endpoint's" || fail "1: Vias at the SC: '$vias'"
path=$(field 6 "$r")
[ "$path" = "<sip:$CL_RR_HOST;lr;received=sip:$EP1:$P1>" ] &&
	pass "1: Path: $path" || fail "1: Path at the SC: '$path' (want <sip:$CL_RR_HOST;lr;received=sip:$EP1:$P1>)"
[ "$(field 7 "$r")" = 1 ] && [ "$(field 8 "$r")" = "<sip:u1@$EP1:$P1>" ] &&
	pass "1: the endpoint's Contact and Authorization reached the SC" ||
	fail "1: at the SC: Authorization $(field 7 "$r"), Contact '$(field 8 "$r")'"

# refresh, same Call-ID: the SC answers again, the binding follows
st=$(reg_msg u1 "$EP1" "$P1" "u1-reg@t" 3 "" 300 "$(auth_hdr u1 "$nonce")" | send_reg u1_ref.out n1 "$EP1" "$P1")
b=$(binding u1)
[ "$st" = 200 ] && [ "$b" = "sip:u1@$EP1:$P1 u1-reg@t 3 n1 udp:$EP1:$P1" ] &&
	pass "4: u1's refresh: 200, binding now CSeq 3" || fail "4: u1's refresh: status $st, binding '$b'"

# ---- 4: the expiry granted: Contact parameter, else Expires, else asked ----
P=$(free_port)
st=$(reg_msg hdr1 "$EP1" "$P" "hdr1@t" 1 "<sip:hdr1@$EP1:$P>;expires=600" 600 "$(auth_hdr hdr1 "$nonce")" |
	send_reg hdr1.out n1 "$EP1" "$P")
e=$(expires_in hdr1 "sip:hdr1@$EP1:$P")
[ "$st" = 200 ] && in_range "$e" 40 45 && pass "4: the SC's 200 without a Contact parameter but Expires: 45: stored for $e s" ||
	fail "4: hdr1 (Expires: 45 in the 200): status $st, expires in '$e' (want 40..45)"
P=$(free_port)
st=$(reg_msg plain1 "$EP1" "$P" "plain1@t" 1 "" 300 "$(auth_hdr plain1 "$nonce")" | send_reg plain1.out n1 "$EP1" "$P")
e=$(expires_in plain1 "sip:plain1@$EP1:$P")
[ "$st" = 200 ] && in_range "$e" 295 300 && pass "4: the SC's 200 with no expiry: stored for the 300 s asked ($e)" ||
	fail "4: plain1 (no expiry in the 200): status $st, expires in '$e' (want 295..300)"

# ---- 3, 4: refusals store nothing ----------------------------------------
P=$(free_port)
st=$(reg_msg bad1 "$EP1" "$P" "bad1@t" 1 "" 300 "$(auth_hdr bad1 "$nonce")" | send_reg bad1.out n1 "$EP1" "$P")
xsc=$(hdr bad1.out X-SC)
[ "$st" = 403 ] && [ -n "$(sc_name "$xsc")" ] && [ -z "$(binding bad1)" ] &&
	pass "3, 4: bad1: the SC's 403 (X-SC: $xsc), nothing stored" ||
	fail "3, 4: bad1: status $st, X-SC '$xsc', binding '$(binding bad1)'"
P=$(free_port)
st=$(reg_msg u2 "$EP1" "$P" "u2@t" 1 "" 300 "$(auth_hdr u2 "$nonce" wrong-pw)" | send_reg u2.out n1 "$EP1" "$P")
[ "$st" = 403 ] && [ -z "$(binding u2)" ] && pass "3, 4: u2 with a wrong password: 403, nothing stored" ||
	fail "3, 4: u2 with a wrong password: status $st, binding '$(binding u2)'"
P=$(free_port)
st=$(reg_msg err1 "$EP2" "$P" "err1@t" 1 "" 300 "$(auth_hdr err1 "$nonce")" | send_reg err1.out n2 "$EP2" "$P")
[ "$st" = 500 ] && [ -n "$(hdr err1.out X-SC)" ] && [ -z "$(binding err1)" ] &&
	pass "3, 4: err1 through n2: the SC's 500, nothing stored" ||
	fail "3, 4: err1: status $st, X-SC '$(hdr err1.out X-SC)', binding '$(binding err1)'"

# ---- 1: over TCP, the Path says so ----------------------------------------
PT=$(free_port)
st=$(reg_msg t1 "$EP2" "$PT" "t1@t" 1 "" 300 "$(auth_hdr t1 "$nonce")" tcp | send_reg t1.out n2 "$EP2" "$PT" tcp)
b=$(binding t1)
[ "$st" = 200 ] && [ "$b" = "sip:t1@$EP2:$PT;transport=tcp t1@t 1 n2 tcp:$EP2:$PT" ] &&
	pass "4: t1 over TCP through n2: 200, binding '$b'" || fail "4: t1 over TCP: status $st, binding '$b'"
sc_regs
path=$(field 6 "$(reg_at "t1@t" 1)")
want="<sip:${NODE_IP[n2]}:$NPORT;transport=tcp;lr;received=sip:$EP2:$PT%3Btransport%3Dtcp>"
[ "$path" = "$want" ] && pass "1: over TCP: Path: $path" ||
	fail "1: over TCP: Path at the SC: '$path' (want $want)"

# ---- 8: refused by the node, the SC never asked ---------------------------
P=$(free_port)
st=$(reg_msg short1 "$EP1" "$P" "short1@t" 1 "" 5 "$(auth_hdr short1 "$nonce")" | send_reg short1.out n1 "$EP1" "$P")
me=$(hdr short1.out Min-Expires)
[ "$st" = 423 ] && [ "$me" = 10 ] && pass "8: Expires: 5: 423 with Min-Expires: 10" ||
	fail "8: Expires: 5: status $st, Min-Expires '$me'"

# ---- 2: one SC per AOR, through either node -------------------------------
for i in $(seq -w 1 16); do
	for n in n1 n2 n1 n2; do
		P=$(free_port)
		st=$(reg_msg "s$i" "${EP_IP[$n]}" "$P" "s$i-$n-$RANDOM@t" 1 | send_reg s.out "$n" "${EP_IP[$n]}" "$P")
		[ "$st" = 401 ] || fail "2: s$i through $n: status $st"
	done
done
sc_regs
grep -q "|short1$" "$T_DIR/regs.txt" && fail "8: the REGISTER with Expires: 5 reached a SC" ||
	pass "8: no SC saw the REGISTER with Expires: 5"
awk -F'|' '$10 ~ /^s[0-9][0-9]$/ { print $10, $1 }' "$T_DIR/regs.txt" | sort -u >"$T_DIR/aor_sc.txt"
split=$(awk '{ n[$1]++ } END { for (u in n) if (n[u] > 1) print u }' "$T_DIR/aor_sc.txt" | sort | tr '\n' ' ')
count=$(awk '{ print $1 }' "$T_DIR/aor_sc.txt" | sort -u | wc -l)
total=$(awk -F'|' '$10 ~ /^s[0-9][0-9]$/' "$T_DIR/regs.txt" | wc -l)
[ "$count" = 16 ] && [ -z "$split" ] && [ "$total" -ge 64 ] &&
	pass "2: the 64 REGISTERs of 16 AORs through n1 and n2: each AOR at one SC" ||
	fail "2: AORs at more than one SC: '$split' ($count AORs, $total REGISTERs seen)"
n1c=$(awk '$2 == "sc1a"' "$T_DIR/aor_sc.txt" | wc -l)
n2c=$(awk '$2 == "sc2a"' "$T_DIR/aor_sc.txt" | wc -l)
[ "$n1c" -gt 0 ] && [ "$n2c" -gt 0 ] && pass "2: both SCs got AORs (sc1a $n1c, sc2a $n2c)" ||
	fail "2: the AORs per SC: sc1a $n1c, sc2a $n2c"
u1_scs=$(awk -F'|' '$10 == "u1" { print $1 }' "$T_DIR/regs.txt" | sort -u | tr '\n' ' ')
[ "$u1_scs" = "$U1_SC " ] && pass "2: u1's three REGISTERs all at $U1_SC" || fail "2: u1's REGISTERs at: $u1_scs"

# ---- 5: registered through n1 (SIPp), called by a SC through n2 -----------
EPU=$(free_port)
sipp -sf "$SCEN/ep_register.xml" -s alice -au alice -ap pw-alice -auth_uri "$CL_DOMAIN" -i 127.0.2.10 -p "$EPU" -m 1 \
	-nostdin -timeout 10s -timeout_error -trace_err -error_file "$T_DIR/c5_reg.err" \
	"${NODE_IP[n1]}:$NPORT" >"$T_DIR/c5_reg.out" 2>&1
rc=$?
b=$(binding alice | cut -d' ' -f1,4)
[ $rc -eq 0 ] && [ "$b" = "sip:alice@127.0.2.10:$EPU n1" ] && pass "5: alice registered through n1 (SIPp's digest, the SC's challenge)" ||
	{ fail "5: alice through n1: sipp rc=$rc, binding '$b'"; tail -c 1500 "$T_DIR/c5_reg.err" >&2; echo >&2; }
uas_up 127.0.2.10 "$EPU" c5 || fail "5: alice's UAS did not start"
CP=$(free_port)
timeout 30 sipp -sf "$SCEN/sc_uac.xml" -s "alice@$CL_DOMAIN" -i "${SC_IP[sc1a]}" -p "$CP" \
	-rsa "${NODE_IP[n2]}:$NPORT" -m 1 -nostdin -timeout 20s -timeout_error -trace_stat -stf "$T_DIR/c5_uac.csv" \
	-trace_err -error_file "$T_DIR/c5_uac.err" "${NODE_IP[n2]}:$NPORT" >"$T_DIR/c5_uac.out" 2>&1
rc=$?
ok=$(tail -n 1 "$T_DIR/c5_uac.csv" 2>/dev/null | cut -d';' -f16)
[ $rc -eq 0 ] && [ "$ok" = 1 ] && pass "5: sc1a's INVITE to alice@$CL_DOMAIN through n2 completed" ||
	{ fail "5: sc1a's call through n2: rc=$rc successful=$ok"; tail -c 1500 "$T_DIR/c5_uac.err" >&2; echo >&2; }
uas_down
ok=$(tail -n 1 "$T_DIR/c5_uas.csv" 2>/dev/null | cut -d';' -f16)
[ $rc -eq 0 ] && [ "$ok" = 1 ] && pass "5: alice's endpoint took the call" || fail "5: alice's UAS: rc=$rc successful=$ok"

# ---- 5: along the Path: a SC's INVITE to a Contact nobody answers at, with
# the Path it was given as its Route, reaches the device where its REGISTER
# came from (the received parameter; a device behind NAT) ----------------
uas_up 127.0.2.10 "$EPU" c5p || fail "5: alice's UAS (path) did not start"
CP=$(free_port)
timeout 30 sipp -sf "$SCEN/sc_uac_path.xml" -s "alice@$CL_DOMAIN" -key ruri "sip:alice@192.0.2.99:5999" \
	-key route "<sip:$CL_RR_HOST;lr;received=sip:127.0.2.10:$EPU>" -i "${SC_IP[sc1a]}" -p "$CP" \
	-rsa "${NODE_IP[n2]}:$NPORT" -m 1 -nostdin -timeout 20s -timeout_error -trace_stat -stf "$T_DIR/c5p_uac.csv" \
	-trace_err -error_file "$T_DIR/c5p_uac.err" "${NODE_IP[n2]}:$NPORT" >"$T_DIR/c5p_uac.out" 2>&1
rc=$?
ok=$(tail -n 1 "$T_DIR/c5p_uac.csv" 2>/dev/null | cut -d';' -f16)
[ $rc -eq 0 ] && [ "$ok" = 1 ] && pass "5: sc1a's INVITE along alice's Path (Contact unreachable) completed through n2" ||
	{ fail "5: along the Path: rc=$rc successful=$ok"; tail -c 1500 "$T_DIR/c5p_uac.err" >&2; echo >&2; }
uas_down
ok=$(tail -n 1 "$T_DIR/c5p_uas.csv" 2>/dev/null | cut -d';' -f16)
[ $rc -eq 0 ] && [ "$ok" = 1 ] && pass "5: the device took it at its received address" || fail "5: path UAS: rc=$rc successful=$ok"

# ---- 6: fetch (sipsak), removals ------------------------------------------
# sipsak sends the file and answers the SC's challenge itself (-u, -a),
# from the port it listens on (-S), one below 10000 (see cl_setup)
SKP=$(free_port 5100 4900)
cat >"$T_DIR/sk_reg.txt" <<MSG
REGISTER sip:$CL_DOMAIN SIP/2.0
Via: SIP/2.0/UDP 127.0.0.1:$SKP;branch=z9hG4bKsk$RANDOM;rport
Max-Forwards: 70
From: <sip:sk1@$CL_DOMAIN>;tag=sk$RANDOM
To: <sip:sk1@$CL_DOMAIN>
Call-ID: sk1-reg@t
CSeq: 1 REGISTER
Contact: <sip:sk1@127.0.0.1:$SKP>
Expires: 120
Content-Length: 0

MSG
sipsak -vv -f "$T_DIR/sk_reg.txt" -s "sip:${NODE_IP[n2]}:$NPORT" -l "$SKP" -S -u sk1 -a pw-sk1 >"$T_DIR/sk_reg.out" 2>&1
rc=$?
b=$(binding sk1)
e=$(expires_in sk1 "sip:sk1@127.0.0.1:$SKP")
[ $rc -eq 0 ] && [ "$(last_status <"$T_DIR/sk_reg.out")" = 200 ] && grep -q '^X-SC: 127\.0\.1\.' "$T_DIR/sk_reg.out" &&
	[ "$b" = "sip:sk1@127.0.0.1:$SKP sk1-reg@t 2 n2 udp:127.0.0.1:$SKP" ] && in_range "$e" 55 60 &&
	pass "4: sipsak through n2: challenged, 200 from the SC, stored for $e s" ||
	{ fail "4: sipsak's REGISTER: rc=$rc last status $(last_status <"$T_DIR/sk_reg.out"), binding '$b', expires '$e'"
		tail -n 25 "$T_DIR/sk_reg.out" >&2; }
sed -e '/^Contact:/d' -e 's/^Call-ID: .*/Call-ID: sk1-fetch@t/' "$T_DIR/sk_reg.txt" >"$T_DIR/sk_fetch.txt"
sipsak -vv -f "$T_DIR/sk_fetch.txt" -s "sip:${NODE_IP[n1]}:$NPORT" -l "$SKP" -S -u sk1 -a pw-sk1 >"$T_DIR/sk_fetch.out" 2>&1
rc=$?
sc_regs
r=$(awk -F'|' '$2 == "sk1-fetch@t" && $7 == 1 { print; exit }' "$T_DIR/regs.txt")
[ $rc -eq 0 ] && [ "$(last_status <"$T_DIR/sk_fetch.out")" = 200 ] && [ -n "$r" ] && [ "$(field 8 "$r")" = - ] &&
	[ "$(binding sk1)" = "$b" ] &&
	pass "6: sipsak's fetch through n1 went to the SC ($(field 1 "$r")), 200, the binding unchanged" ||
	{ fail "6: fetch: rc=$rc last status $(last_status <"$T_DIR/sk_fetch.out"), at the SC '$r', binding '$(binding sk1)'"
		tail -n 25 "$T_DIR/sk_fetch.out" >&2; }

# u1 (registered through n1) removed through n2: Contact ;expires=0
st=$(reg_msg u1 "$EP2" "$P1" "u1-del@t" 1 "<sip:u1@$EP1:$P1>;expires=0" - "$(auth_hdr u1 "$nonce")" |
	send_reg u1_del.out n2 "$EP2" "$P1")
b=$(binding u1)
sc_regs
r=$(reg_at "u1-del@t" 1)
[ "$st" = 200 ] && [ -z "$b" ] && [ "$(field 1 "$r")" = "$U1_SC" ] &&
	pass "6: u1's removal (;expires=0) through n2 went to $U1_SC; after its 200 the binding is gone" ||
	fail "6: u1's removal: status $st, at the SC '$r', binding '$b'"
# plain1: Contact: * with Expires: 0, through n1
P=$(free_port)
st=$(reg_msg plain1 "$EP1" "$P" "plain1-del@t" 1 "*" 0 "$(auth_hdr plain1 "$nonce")" | send_reg plain1_del.out n1 "$EP1" "$P")
b=$(binding plain1)
sc_regs
r=$(reg_at "plain1-del@t" 1)
[ "$st" = 200 ] && [ -z "$b" ] && [ "$(field 8 "$r")" = "*" ] && [ "$(field 9 "$r")" = 0 ] &&
	pass "6: plain1's removal (*, Expires: 0) went to $(field 1 "$r"); after its 200 the binding is gone" ||
	fail "6: plain1's removal: status $st, at the SC '$r', binding '$b'"

# ---- 4: the SC that never answered ----------------------------------------
wait "$MUTE_PID"
t_forget "$MUTE_PID"
st=$(first_status <"$T_DIR/mute.out")
sc_regs
[[ $st =~ ^(none|408)$ ]] && [ -n "$(reg_at "mute1-1@t" 1)" ] && [ -z "$(binding mute1)" ] &&
	pass "4: the SC never answered mute1: the endpoint got $st, nothing stored" ||
	fail "4: mute1: status $st, at a SC '$(reg_at "mute1-1@t" 1)', binding '$(binding mute1)'"

# ---- 7: no SC in service --------------------------------------------------
for s in $CL_SERVERS; do sc_stop "$s"; done
if cl_wait_states 15 sc1a=oos sc2a=oos; then
	P=$(free_port)
	st=$(reg_msg u3 "$EP1" "$P" "u3@t" 1 "" 300 "$(auth_hdr u3 "$nonce")" | send_reg u3.out n1 "$EP1" "$P")
	ra=$(hdr u3.out Retry-After)
	[ "$st" = 503 ] && [[ $ra =~ ^[0-9]+ ]] && [ -z "$(binding u3)" ] &&
		pass "7: no SC in service: 503 with Retry-After: $ra, nothing stored" ||
		fail "7: no SC in service: status $st, Retry-After '$ra', binding '$(binding u3)'"
else
	fail "7: the nodes did not mark sc1a and sc2a out of service"
fi

for n in $CL_NODES; do cl_node_stop "$n"; done
cl_done
