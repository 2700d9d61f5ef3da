#!/usr/bin/env bash
# A request for one of our users that nobody can take is answered, whatever
# its method (RFC 3261 §16.7 step 6, §10): 480 when the user exists but has
# no binding, 404 when there is no such user. RFC 4320's "no 408 for a
# non-INVITE" is about a branch that timed out; a request that never had a
# branch must still get its final response. Over UDP and TCP, for INVITE,
# OPTIONS, MESSAGE, SUBSCRIBE, an unknown method and a BYE, with the
# stateful proxy; the ACK to a 4xx of ours is absorbed.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg.sh"
need ss psql

PORT=$(free_port)
write_config "$PORT"
pg_start || { fail "postgres"; t_done; }
AUTH_MODE=none pg_config
pg_migrate >/dev/null || { fail "migrate"; t_done; }
psql_q "SELECT junction_add_subscriber('carol', 'localhost', 'pw')" >/dev/null || fail "add carol"
start_junction "$PORT" || { fail "start"; t_done; }

# request METHOD USER TRANSPORT
request() {
	printf '%s sip:%s@localhost SIP/2.0\n' "$1" "$2"
	printf 'Via: SIP/2.0/%s 127.0.0.1:9;branch=z9hG4bKnb%s%s;rport\n' "${3^^}" "$RANDOM" "$RANDOM"
	printf 'Max-Forwards: 70\nFrom: <sip:probe@example.com>;tag=nb%s\nTo: <sip:%s@localhost>\n' "$RANDOM" "$2"
	printf 'Call-ID: nb-%s-%s\nCSeq: 7 %s\n' "$RANDOM" "$RANDOM" "$1"
	[ "$1" = SUBSCRIBE ] && printf 'Event: presence\nExpires: 60\n'
	printf 'Content-Length: 0\n\n'
}

for tp in udp tcp; do
	for method in INVITE OPTIONS MESSAGE SUBSCRIBE FOOBAR BYE; do
		for who in carol:480 nobody:404; do
			user=${who%:*} want=${who#*:}
			got=$(request "$method" "$user" "$tp" | "$SIPSEND" -P -w 2000 "$tp" 127.0.0.1 "$PORT" - | head -n 1 | tr -d '\r')
			[ "${got#SIP/2.0 }" != "$got" ] && [ "$(echo "$got" | cut -d' ' -f2)" = "$want" ] &&
				pass "$tp $method to $user: $want" || fail "$tp $method to $user: expected $want, got '${got:-nothing}'"
		done
	done
done

kill -0 "$JCT_PID" || fail "junction died"
stop_junction && pass "SIGTERM exit 0" || fail "exit status on SIGTERM"
t_done
