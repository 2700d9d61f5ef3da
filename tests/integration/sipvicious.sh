#!/usr/bin/env bash
# SIPVicious (svwar, svmap, svcrack: what scans the Internet for SIP
# servers) against a node whose loopback clients are untrusted, with 50
# subscribers in the domain the scanners assume (the node's address,
# 127.0.0.1), some registered, some not:
#   1. svwar (REGISTER, OPTIONS, INVITE over 1990-2060) lists no extension:
#      every extension, subscriber or not, registered or not, gets the same
#      answer as svwar's random bogus user (checked for all 71 with
#      requests shaped like svwar's, since svwar gives up at the first);
#   2. with drop_scanners (the default) svwar and svmap get no answer at
#      all, and junction_security_rejected_total{reason="scanner"} counts
#      them;
#   3. svcrack against 2010, whose password is line 61 of its dictionary,
#      never finds it: the source is banned for auth_failures (GET
#      /v1/bans) after at most 20 refused guesses, the node answers other
#      sources meanwhile, and lifting the ban lets 127.0.0.1 in again;
#   4. svmap names no software with the default (empty) server_header,
#      and shows server_header's value when one is set (the control that
#      proves the check can fail).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg.sh"
. "$(dirname "$0")/admin_lib.sh"
need ss psql curl jq md5sum svmap svwar svcrack

PORT=$(free_port)
CATCH=$(free_port)
HOST=127.0.0.1
REAL_PW=p4ssw0rd-42

# boot NAME: a node with $SECURITY and $SIP_EXTRA (after the first one,
# the previous node stops first); its log is $T_DIR/junction.log.NAME
# afterwards (junction.log while it runs).
boot() {
	if [ -n "${JCT_PID:-}" ]; then
		stop_junction || fail "$PREV_BOOT: exit status"
		mv "$T_DIR/junction.log" "$T_DIR/junction.log.$PREV_BOOT"
	fi
	PREV_BOOT=$1
	# the scanners use the address they scan as the domain: it is ours
	SIP_EXTRA="domain = $HOST
${SIP_EXTRA:-}" write_config "$PORT"
	AUTH_EXTRA="invite = yes" pg_config
	admin_config "$(free_port)"
	start_junction "$PORT" && wait_admin
}

# metric NAME: a sample of /metrics (NAME with its labels, as printed)
metric() {
	curl -s -H "Authorization: Bearer $ADMIN_TOKEN" "$ADMIN_URL/metrics" |
		awk -v n="$1" '$1 == n { print $2; found = 1 } END { if (!found) print "missing" }'
}

# table_rows FILE: the extensions (or devices) in a SIPVicious result table
table_rows() { grep -E '^\| ' "$1" | grep -vE '^\| (Extension|SIP Device|Username) ' | awk -F'|' '{ gsub(/ /, "", $2); print $2 }'; }

pg_start || { fail "postgres"; t_done; }
write_config "$PORT"
pg_config
pg_migrate >/dev/null || { fail "migrate"; t_done; }

# 50 subscribers 2000-2049@127.0.0.1 with random passwords, 2010's known
declare -A PW
values=
for i in $(seq 2000 2049); do
	PW[$i]=$(head -c 12 /dev/urandom | md5sum | cut -c1-16)
	[ "$i" = 2010 ] && PW[$i]=$REAL_PW
	values+="${values:+,}('$i', '${PW[$i]}')"
done
n=$(psql_q "SELECT count(junction_add_subscriber(u, '$HOST', p)) FROM (VALUES $values) v(u, p)")
[ "$n" = 50 ] && pass "50 subscribers" || { fail "subscribers: $n"; t_done; }

# ---------------------------------------------------------------------------
# Phase A: scanners not dropped, no rate limit: what is tested is what the
# answers say, not the ban.
SECURITY="trusted = 10.255.255.0/24
drop_scanners = no
rate_limit = 0" boot A || { fail "start A"; t_done; }

REGISTERED="2000 2001 2002 2003 2004 2020 2049"
for u in $REGISTERED; do
	sip_register "$u" "$HOST" "${PW[$u]}" "sip:$u@127.0.0.1:$CATCH" 600 || fail "register $u"
done
n=$(psql_q "SELECT count(*) FROM binding WHERE aor LIKE 'sip:20__@$HOST'")
[ "$n" = 7 ] && pass "7 of them registered, 43 not" || fail "bindings: $n"

# svwar over the whole range, and on one extension of each kind
# (registered 2003, subscriber not registered 2030, no subscriber 2055):
# its first probe is a random bogus extension, whose answer is what it
# compares the others with. All twelve runs at once (each waits 3 s
# for answers that do not come at the end).
declare -A SVW_PID
for m in REGISTER OPTIONS INVITE; do
	for e in 1990-2060 2003 2030 2055; do
		timeout 30 svwar -vvv --force -P "$(free_port)" -p "$PORT" -m "$m" -e "$e" "$HOST" \
			>"$T_DIR/svwar.$m.$e" 2>&1 &
		SVW_PID[$m.$e]=$!
		T_PIDS+=("$!")
	done
done
for k in "${!SVW_PID[@]}"; do wait "${SVW_PID[$k]}"; done
for m in REGISTER OPTIONS INVITE; do
	for e in 1990-2060 2003 2030 2055; do
		f=$T_DIR/svwar.$m.$e
		found=$(table_rows "$f" | tr '\n' ' ')
		probes=$(grep -c 'sending request for' "$f")
		answered=$(grep -cE "^ERROR:TakeASip:Response: 'SIP/2.0 |exists" "$f")
		if [ -z "$found" ] && grep -q '^WARNING:root:found nothing$' "$f" && [ "$answered" -ge 1 ]; then
			pass "svwar -m $m -e $e: found nothing (answer: $(grep -oE "Response: 'SIP/2.0 [0-9]{3}" "$f" | head -n 1 | cut -d' ' -f3); $probes probe(s) after the bogus one)"
		else
			fail "svwar -m $m -e $e: found '$found' (answered $answered)"
			grep -vE 'DEBUG|sending request' "$f" | head -n 20 >&2
		fi
	done
done

# svwar ACKs our 407s with ACKs of its own for our domain (From one of our
# users, anyone can write that): none may leave the node
n=$(metric junction_sip_relayed_requests_total)
[ "$n" = 0 ] && pass "nothing relayed for the scanner (its stray ACKs included)" ||
	fail "requests relayed for svwar: $n"

# svwar stops at the first answer equal to its bogus user's: every
# extension in the range, probed as svwar probes it, must get that answer.
# svreq METHOD EXT: a request as svwar's makeRequest builds it (builtins
# only: 216 of them)
svreq() {
	local m=$1 e=$2 ruri=sip:$2@$HOST
	[ "$m" = REGISTER ] && ruri=sip:$HOST
	printf '%s %s SIP/2.0\n' "$m" "$ruri"
	printf 'Via: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK-%s%s;rport\n' "$RANDOM" "$RANDOM"
	printf 'Max-Forwards: 70\nTo: "%s"<sip:%s@%s>\n' "$e" "$e" "$HOST"
	printf 'From: "%s"<sip:%s@%s>;tag=%s01%s\n' "$e" "$e" "$HOST" "$RANDOM" "$RANDOM"
	printf 'User-Agent: friendly-scanner\nCall-ID: %s%s\nContact: sip:%s@%s\n' "$RANDOM" "$RANDOM" "$e" "$HOST"
	printf 'CSeq: 1 %s\nAccept: application/sdp\nContent-Length: 0\n\n' "$m"
}
# shapes < answers: per extension, its answer's status line, header names
# in order, and challenge without the nonce, as one line
shapes() {
	tr -d '\r' | awk '
		/^=== / { e = $2; st = 0; next }
		st == 0 && /^SIP\/2.0 / { st = 1; shape[e] = $0; next }
		st == 1 && /^$/ { st = 2; next }
		st == 1 && /^(WWW|Proxy)-Authenticate:/ { v = $0; sub(/nonce="[^"]*"/, "nonce=N", v); shape[e] = shape[e] " | " v; next }
		st == 1 { sub(/:.*/, ""); shape[e] = shape[e] " | " $0 }
		END { for (e in shape) print e "\t" shape[e] }'
}
for m in REGISTER OPTIONS INVITE; do
	: >"$T_DIR/sweep.$m"
	for e in $(seq 1990 2060) "bogus$RANDOM"; do
		svreq "$m" "$e" >"$T_DIR/sweep.req"
		echo "=== $e" >>"$T_DIR/sweep.$m"
		"$SIPSEND" -P -v -w 2000 udp 127.0.0.1 "$PORT" "$T_DIR/sweep.req" >>"$T_DIR/sweep.$m" 2>&1
	done
	shapes <"$T_DIR/sweep.$m" >"$T_DIR/shapes.$m"
	n=$(wc -l <"$T_DIR/shapes.$m")
	kinds=$(cut -f2 "$T_DIR/shapes.$m" | sort -u | wc -l)
	shape=$(cut -f2 "$T_DIR/shapes.$m" | sort -u | head -n 1)
	if [ "$n" = 72 ] && [ "$kinds" = 1 ] && [[ $shape =~ ^SIP/2.0\ (401\ Unauthorized|407\ Proxy\ Authentication\ Required)\ \| ]]; then
		pass "$m to 1990-2060 and a bogus user: 72 answers alike: ${shape%% |*}, $(grep -oE '(WWW|Proxy)-Authenticate: [^|]*' <<<"$shape")"
	else
		fail "$m: $n answers, $kinds shapes"
		cut -f2 "$T_DIR/shapes.$m" | sort | uniq -c >&2
	fi
done

# svmap: the node found, its software not named
timeout 30 svmap -P "$(free_port)" -p "$PORT" "$HOST" >"$T_DIR/svmap.A" 2>&1
row=$(grep -E "^\| $HOST:$PORT " "$T_DIR/svmap.A" | tr -s ' ')
if [ "$row" = "| $HOST:$PORT | unknown |" ] && ! grep -qiE 'junction|[0-9]+\.[0-9]+\.[0-9]+[^.:]' <(grep -v "$HOST:$PORT" "$T_DIR/svmap.A"); then
	pass "svmap: '$row' (no Server header, no software named)"
else
	fail "svmap without server_header: '$row'"
	cat "$T_DIR/svmap.A" >&2
fi

# ---------------------------------------------------------------------------
# Phase C: the default policy drops scanners that name themselves.
SECURITY="trusted = 10.255.255.0/24" boot C || { fail "start C"; t_done; }
before=$(metric 'junction_security_rejected_total{reason="scanner"}')
timeout 30 svwar -v -P "$(free_port)" -p "$PORT" -e 1990-2060 "$HOST" >"$T_DIR/svwar.C" 2>&1 &
P1=$!
T_PIDS+=("$P1")
timeout 30 svmap -v -P "$(free_port)" -p "$PORT" "$HOST" >"$T_DIR/svmap.C" 2>&1 &
P2=$!
T_PIDS+=("$P2")
wait $P1 $P2
after=$(metric 'junction_security_rejected_total{reason="scanner"}')
# (svwar's first probe unanswered: its recvfrom times out after 3 s)
if grep -q '^ERROR:TakeASip:socket error: timed out$' "$T_DIR/svwar.C" &&
	grep -q '^WARNING:root:found nothing$' "$T_DIR/svwar.C" && [ -z "$(table_rows "$T_DIR/svwar.C")" ]; then
	pass "drop_scanners: svwar: 'socket error: timed out', found nothing"
else
	fail "drop_scanners: svwar got an answer"
	cat "$T_DIR/svwar.C" >&2
fi
if grep -q '^WARNING:root:found nothing$' "$T_DIR/svmap.C" && [ -z "$(table_rows "$T_DIR/svmap.C")" ]; then
	pass "drop_scanners: svmap: found nothing"
else
	fail "drop_scanners: svmap found the node"
	cat "$T_DIR/svmap.C" >&2
fi
if [ "$before" = 0 ] && [ "$after" != missing ] && [ "$after" -ge 2 ]; then
	pass "junction_security_rejected_total{reason=\"scanner\"}: $before -> $after"
else
	fail "scanner counter: $before -> $after"
fi
answers "$PORT" && pass "the same source without a scanner's User-Agent: 200" || fail "OPTIONS without a scanner's User-Agent"

# ---------------------------------------------------------------------------
# Phase B: scanners not dropped, a Server header configured; auth_failures
# (10 in 60 s), ban_action drop as by default (rate_limit 0: the ban's
# reason can only be the guesses).
SECURITY="trusted = 10.255.255.0/24
drop_scanners = no
rate_limit = 0" SIP_EXTRA="server_header = Junction/9.9" boot B || { fail "start B"; t_done; }

timeout 30 svmap -P "$(free_port)" -p "$PORT" "$HOST" >"$T_DIR/svmap.B" 2>&1
row=$(grep -E "^\| $HOST:$PORT " "$T_DIR/svmap.B" | tr -s ' ')
if [ "$row" = "| $HOST:$PORT | Junction/9.9 |" ]; then
	pass "control: with server_header = Junction/9.9, svmap: '$row'"
else
	fail "control: svmap with server_header: '$row'"
	cat "$T_DIR/svmap.B" >&2
fi

# 60 wrong guesses, the password at line 61, 20 more after it
{
	for i in $(seq 60); do echo "guess-$i"; done
	echo "$REAL_PW"
	for i in $(seq 62 81); do echo "guess-$i"; done
} >"$T_DIR/dict.txt"
# svcrack gives up 3 s after the last answer (the first authenticated guess
# waits for the subscriber's row: room for a slow database), then waits 10 s
# more for stragglers
timeout 30 svcrack -vvv --maximumtime 3 -P "$(free_port)" -p "$PORT" -u 2010 -d "$T_DIR/dict.txt" "$HOST" \
	>"$T_DIR/svcrack.out" 2>&1
rc=$?
tried=$(grep -c "^DEBUG:ASipOfRedWine:trying " "$T_DIR/svcrack.out")
if [ "$rc" = 0 ] && ! grep -qE 'The password for|p4ssw0rd-42 *\|' "$T_DIR/svcrack.out" &&
	grep -q '^WARNING:root:found nothing$' "$T_DIR/svcrack.out" && [ -z "$(table_rows "$T_DIR/svcrack.out")" ]; then
	pass "svcrack -u 2010: found nothing ($tried guesses sent, the password is number 61)"
else
	fail "svcrack: exit $rc, $tried guesses"
	grep -v DEBUG "$T_DIR/svcrack.out" | tail -n 20 >&2
fi
grep -q "trying $REAL_PW" "$T_DIR/svcrack.out" && fail "svcrack even sent the password (guess 61)"

failures=$(metric junction_auth_failures_total)
if [ "$failures" != missing ] && [ "$failures" -ge 1 ] && [ "$failures" -le 20 ]; then
	pass "junction_auth_failures_total: $failures (at most 20)"
else
	fail "junction_auth_failures_total: $failures"
fi
api GET /v1/bans
ban=$(jq -c '[.items[] | select(.kind == "address" and .target == "127.0.0.1")] | map({kind, target, reason})' "$T_DIR/body")
if [ "$STATUS" = 200 ] && [ "$ban" = '[{"kind":"address","target":"127.0.0.1","reason":"auth_failures"}]' ]; then
	pass "GET /v1/bans: 127.0.0.1 banned for auth_failures ($(jq -r '.items[0].seconds_left' "$T_DIR/body") s left)"
else
	fail "GET /v1/bans: $STATUS $(cat "$T_DIR/body")"
fi
echo "bans: $(metric junction_bans), dropped as banned: $(metric 'junction_security_rejected_total{reason="banned"}'), bans by auth_failures: $(metric 'junction_bans_total{cause="auth_failures"}')" >&2

# the daemon is alive: another source is answered, the banned one not
# (ban_action drop), until the ban is lifted
ALT=$(free_port)
options_msg "$HOST" "$PORT" | "$SIPSEND" -w 2000 -b "$ALT" -a 127.0.0.5 udp 127.0.0.1 "$PORT" - >"$T_DIR/alt.out" 2>&1
grep -q '^SIP/2.0 200 ' "$T_DIR/alt.out" && kill -0 "$JCT_PID" &&
	pass "OPTIONS from 127.0.0.5: 200, alive" || { fail "OPTIONS from 127.0.0.5: $(head -n 1 "$T_DIR/alt.out")"; }
options_msg "$HOST" "$PORT" | "$SIPSEND" -n -w 1000 udp 127.0.0.1 "$PORT" - >/dev/null 2>&1 &&
	pass "OPTIONS from the banned 127.0.0.1: no answer" || fail "the banned source was answered"
api DELETE /v1/bans/127.0.0.1
[[ $STATUS =~ ^20[04]$ ]] && answers "$PORT" && pass "ban lifted (DELETE: $STATUS): 127.0.0.1 answered again" ||
	fail "lifting the ban: $STATUS"

stop_junction && pass "SIGTERM exit 0" || fail "exit status"
mv "$T_DIR/junction.log" "$T_DIR/junction.log.B"
cat "$T_DIR"/junction.log.* >"$T_DIR/junction.log"
t_done
