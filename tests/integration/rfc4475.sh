#!/usr/bin/env bash
# Junction's own messages, one for each message of RFC 4475 (SIP torture
# tests), each written to exercise the construct of its section, sent
# byte for byte over UDP and over TCP: the valid ones of §3.1.1 are
# accepted and processed like any request, the invalid ones of §3.1.2
# get the answer the RFC asks for, and so do those of §3.2-3.4.
# What each one must get is in torture/expect.txt. After every message
# the daemon must still answer OPTIONS, and it must exit cleanly.
#
# A UDP answer goes where the message's top Via says (RFC 3261 §18.2.2):
# to the source address, at the sent-by port, mostly 5060. So each
# message is sent from that port, on a loopback address of its own
# (127.0.0.0/8), where no SIP phone of the machine is in the way. The
# Route of §3.1.1.11 names 127.0.0.1:5080 itself; a lock keeps two runs
# (two builds) from catching each other's relayed message there.
. "$(dirname "$0")/lib.sh"
need ss flock

DIR="$TOP_SRCDIR/tests/integration/torture"
PORT=$(free_port)
LO=127.$((RANDOM % 200 + 20)).$((RANDOM % 250 + 1)).$((RANDOM % 250 + 1))

exec 9>"${TMPDIR:-/tmp}/junction-rfc4475.lock"
flock -w 600 9 || { fail "could not take the port lock"; t_done; }

# in_use PORT ADDR...: a UDP socket on one of these addresses, or on all.
in_use() {
	local p=$1 a
	shift
	for a in "$@" 0.0.0.0 '*' '[::]'; do
		ss -Hlnu "sport = :$p" | awk '{print $4}' | grep -qxF "$a:$p" && return 0
	done
	return 1
}
UDP_OK=1
for p in 5050 5060 5061; do
	in_use "$p" "$LO" && { log "UDP $LO:$p is taken: the UDP half is skipped"; UDP_OK=0; }
done
RELAY_OK=1
in_use 5080 127.0.0.1 && { log "UDP 127.0.0.1:5080 is taken: §3.1.1.11 is skipped"; RELAY_OK=0; }

cat >"$T_DIR/junction.conf" <<CONF
[sip]
listen = udp:127.0.0.1:$PORT tcp:127.0.0.1:$PORT
domain = example.com example.net example.org localhost
workers = 2

[security]
trusted = 127.0.0.0/8

[log]
level = ${LOG_LEVEL:-info}
target = stderr
CONF
start_junction "$PORT" || { fail "start"; t_done; }

alive() { # alive TRANSPORT WHAT
	options_msg 127.0.0.1 "$PORT" | "$SIPSEND" -q -w 2000 "$1" 127.0.0.1 "$PORT" - ||
		fail "daemon stopped answering over $1 after $2"
}

# check TRANSPORT NAME SECTION BIND WANT REASON
check() {
	local tp=$1 name=$2 bind=$4 want=$5 reason=$6 what="$1 $2 (§$3)" out bflag=()
	local file="$DIR/$name.sip"

	[ "$tp" = udp ] && bflag=(-a "$LO" -b "$bind")
	case $want in
	none)
		# silence is a pass only when the daemon still answers after it
		# (a crash is silent too); the drops are counted, checked below
		if ! "$SIPSEND" -r -n -w 800 "${bflag[@]}" "$tp" 127.0.0.1 "$PORT" "$file" >/dev/null; then
			fail "$what was answered"
		elif answers "$PORT" 127.0.0.1 "$tp"; then
			pass "$what -> no answer, daemon still answering"
		else
			fail "$what: no answer, and the daemon no longer answers"
		fi
		;;
	relay)
		# The Route sends it to 127.0.0.1:BIND; caught there, its body
		# must have come through whole.
		if [ "$tp" = udp ]; then
			"$SIPSEND" -r -v -c 1 -w 3000 -b "$bind" udp 127.0.0.1 "$PORT" "$file" >"$T_DIR/relay.out"
		else
			"$SIPSEND" -l -v -c 1 -w 3000 -b "$bind" udp 127.0.0.1 "$bind" /dev/null >"$T_DIR/relay.out" &
			local lp=$!
			wait_for 2 bound udp "$bind" || fail "$what: listener not bound"
			"$SIPSEND" -r -q -w 200 tcp 127.0.0.1 "$PORT" "$file" >/dev/null
			wait "$lp"
		fi
		if head -n 1 "$T_DIR/relay.out" | grep -q "^MESSAGE sip:" &&
			grep -aq "^Content-Length: 553" "$T_DIR/relay.out" &&
			grep -aq -- "--jct-part-5e1f9a0c--" "$T_DIR/relay.out"; then
			pass "$what -> relayed whole"
		else
			fail "$what not relayed: $(head -n 1 "$T_DIR/relay.out")"
		fi
		;;
	*+*)
		out=$("$SIPSEND" -r -P -c 2 -w 2000 "${bflag[@]}" "$tp" 127.0.0.1 "$PORT" "$file")
		local s ok=1
		for s in ${want//+/ }; do
			echo "$out" | grep -q "^SIP/2.0 $s " || ok=0
		done
		[ $ok = 1 ] && pass "$what -> $want" ||
			fail "$what: expected $want, got: $(echo "$out" | tr '\r\n' '  ')"
		;;
	*)
		out=$("$SIPSEND" -r -P -w 2000 "${bflag[@]}" "$tp" 127.0.0.1 "$PORT" "$file" | head -n 1 | tr -d '\r')
		if echo "$out" | grep -Eq "^SIP/2.0 $want " &&
			{ [ -z "$reason" ] || echo "$out" | grep -Eq -- "$reason"; }; then
			pass "$what -> $out"
		else
			fail "$what: expected $want${reason:+ /$reason/}, got: ${out:-nothing}"
		fi
		;;
	esac
	alive "$tp" "$name"
}

n=0
while read -r -u 3 name section bind udp tcp reason; do
	case $name in '' | \#*) continue ;; esac
	[ -f "$DIR/$name.sip" ] || { fail "$name.sip missing"; continue; }
	n=$((n + 1))
	if [ "$UDP_OK" = 1 ] && { [ "$udp" != relay ] || [ "$RELAY_OK" = 1 ]; }; then
		check udp "$name" "$section" "$bind" "$udp" "$reason"
	fi
	if [ "$tcp" != relay ] || [ "$RELAY_OK" = 1 ]; then
		check tcp "$name" "$section" "$bind" "$tcp" "$reason"
	fi
done 3<"$DIR/expect.txt"
[ "$n" -ge 49 ] && pass "$n messages" || fail "only $n messages in expect.txt"

stop_junction && pass "SIGTERM exit 0" || fail "exit status"
# the unanswered ones were counted, not lost in silence
dr=$(grep -o ' dropped=[0-9]*' "$T_DIR/junction.log" | tail -n 1 | cut -d= -f2)
[ "${dr:-0}" -ge 1 ] && pass "dropped messages counted ($dr)" || fail "dropped=${dr:-no counters line}"
t_done
