# Helpers for the tests of the admin API, junctionctl and /metrics
# (sourced after lib.sh and pg.sh).
#   admin_config PORT     appends [admin] (token, listen) to junction.conf
#   wait_admin            waits until /healthz answers
#   api METHOD PATH [BODY] [curl args...]
#                         one request with the token; sets STATUS, the body
#                         in $T_DIR/body, the headers in $T_DIR/headers, and
#                         logs the answer for openapi_check
#   openapi_check [--coverage]
#                         checks every logged answer against admin/openapi.json
#   sip_register USER DOMAIN PASSWORD CONTACT [EXPIRES]
#                         a digest-authenticated REGISTER (sipsend); 0 on 200
#   session_row VALUES    a session row as a node writes it: VALUES is the SQL
#                         of (sip_server, created_by, created_at,
#                         last_activity, ended_at, moved_from); prints its id
#   dialog_row VALUES     a dialog row: (call_id, from_tag, to_tag,
#                         session_id, method, state, relation, caller_aor,
#                         callee_aor, node, created_at, updated_at,
#                         expires_at, ended_at)
#   iso SQL               a time as the API writes it (2026-11-21T10:00:00.123Z)
#   same_json A B         the JSON texts A and B are equal (keys in any order)

ADMIN_TOKEN=test-admin-token-0123456789abcdef
JUNCTIONCTL=$TOP_BUILDDIR/admin/junctionctl
OPENAPI=$TOP_SRCDIR/admin/openapi.json
PY3=/usr/bin/python3
API_LOG=$T_DIR/api.log
API_N=0

admin_config() {
	ADMIN_PORT=$1
	ADMIN_URL=http://127.0.0.1:$1
	cat >>"$T_DIR/junction.conf" <<CONF

[admin]
listen = 127.0.0.1:$1
token = $ADMIN_TOKEN
${ADMIN_EXTRA:-}
CONF
}

wait_admin() {
	for _ in $(seq 100); do
		curl -sf -o /dev/null "${ADMIN_URL}/healthz" && return 0
		sleep 0.1
	done
	log "the admin API did not answer on $ADMIN_URL"
	return 1
}

api() {
	local method=$1 path=$2 body=${3-}
	local args=(-s -o "$T_DIR/body" -D "$T_DIR/headers" -w '%{http_code} %{content_type}' -X "$method")
	shift 2
	[ $# -gt 0 ] && shift
	[ -n "${TOKEN-$ADMIN_TOKEN}" ] && args+=(-H "Authorization: Bearer ${TOKEN-$ADMIN_TOKEN}")
	[ -n "$body" ] && args+=(-H 'Content-Type: application/json' --data-binary "$body")
	local out
	out=$(curl "${args[@]}" "$@" "$ADMIN_URL$path")
	STATUS=${out%% *}
	CTYPE=${out#* }
	[ -n "$CTYPE" ] || CTYPE=-
	API_N=$((API_N + 1))
	cp "$T_DIR/body" "$T_DIR/body.$API_N"
	echo "$method $path $STATUS $CTYPE $T_DIR/body.$API_N" >>"$API_LOG"
}

# expect STATUS [ERROR-CODE] WHAT: the last answer had this status (and error code)
expect() {
	local want=$1 code=
	[ $# -ge 3 ] && { code=$2; shift; }
	local what=$2 got_code=
	got_code=$(jq -r '.error.code // empty' "$T_DIR/body" 2>/dev/null)
	if [ "$STATUS" = "$want" ] && { [ -z "$code" ] || [ "$got_code" = "$code" ]; }; then
		pass "$what: $want${code:+ $code}"
	else
		fail "$what: expected $want${code:+ $code}, got $STATUS $got_code"
		head -c 600 "$T_DIR/body" >&2
		echo >&2
	fi
}

# jqv FILTER: a value of the last body
jqv() { jq -r "$1" "$T_DIR/body"; }

openapi_check() {
	if "$PY3" "$TOP_SRCDIR/tests/integration/openapi_check.py" "$OPENAPI" "$API_LOG" "$@" >"$T_DIR/openapi.out" 2>&1; then
		pass "$(tail -n 1 "$T_DIR/openapi.out")"
	else
		fail "answers against admin/openapi.json:"
		cat "$T_DIR/openapi.out" >&2
	fi
}

# A digest REGISTER: a challenge, then the answer (MD5, qop=auth).
sip_register() {
	local user=$1 domain=$2 pw=$3 contact=$4 expires=${5:-600}
	local callid=reg-$user-$RANDOM$RANDOM nonce ha1 ha2 resp
	_reg() {
		printf 'REGISTER sip:%s SIP/2.0\n' "$domain"
		printf 'Via: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKad%s%s;rport\n' "$1" "$RANDOM"
		printf 'Max-Forwards: 70\nFrom: <sip:%s@%s>;tag=a%s\nTo: <sip:%s@%s>\n' "$user" "$domain" "$RANDOM" "$user" "$domain"
		printf 'Call-ID: %s\nCSeq: %s REGISTER\nContact: <%s>\nExpires: %s\nUser-Agent: admin-test/1\n' "$callid" "$1" "$contact" "$expires"
		[ -n "${2:-}" ] && printf 'Authorization: %s\n' "$2"
		printf 'Content-Length: 0\n\n'
	}
	_reg 1 | "$SIPSEND" -v -w 3000 udp 127.0.0.1 "$PORT" - | tr -d '\r' >"$T_DIR/reg.1"
	nonce=$(grep -m1 '^WWW-Authenticate: .*algorithm=MD5' "$T_DIR/reg.1" | sed 's/.*nonce="\([^"]*\)".*/\1/')
	[ -n "$nonce" ] || return 1
	ha1=$(printf '%s' "$user:$domain:$pw" | md5sum | cut -d' ' -f1)
	ha2=$(printf '%s' "REGISTER:sip:$domain" | md5sum | cut -d' ' -f1)
	resp=$(printf '%s' "$ha1:$nonce:00000001:c0ffee:auth:$ha2" | md5sum | cut -d' ' -f1)
	_reg 2 "Digest username=\"$user\", realm=\"$domain\", nonce=\"$nonce\", uri=\"sip:$domain\", response=\"$resp\", algorithm=MD5, qop=auth, nc=00000001, cnonce=\"c0ffee\"" |
		"$SIPSEND" -v -w 3000 udp 127.0.0.1 "$PORT" - | tr -d '\r' >"$T_DIR/reg.2"
	head -n 1 "$T_DIR/reg.2" | grep -q '^SIP/2.0 200 '
}

session_row() {
	psql_q "INSERT INTO session (sip_server, created_by, created_at, last_activity, ended_at, moved_from) VALUES ($1) RETURNING id"
}

dialog_row() {
	psql_q "INSERT INTO dialog (call_id, from_tag, to_tag, session_id, method, state, relation, caller_aor, callee_aor, node, created_at, updated_at, expires_at, ended_at) VALUES ($1)" >/dev/null
}

iso() {
	psql_q "SELECT to_char(($1) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"
}

same_json() {
	[ "$(jq -cS . <<<"$1")" = "$(jq -cS . <<<"$2")" ]
}
