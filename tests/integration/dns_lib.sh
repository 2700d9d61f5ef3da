# A DNS server on loopback for the integration tests (sourced after
# lib.sh): dnsmasq serving records the test declares, and slowdns.py in
# front of it when a test needs answers late, never, or counted.
#
# dnsmasq runs in the foreground as a child of the test (its PID in
# T_PIDS, so lib.sh's trap ends it, pass or fail), with no upstream, no
# /etc/hosts, no DHCP, reading only the file written here. It re-reads
# nothing of that file on SIGHUP (only hosts files), so dns_reload
# restarts it on the same port. By default (DNS_AUTH=1) it is the
# authoritative server of DNS_ZONES: answers carry AA, an unknown name in
# a zone is NXDOMAIN and a known name without the type asked NODATA, both
# with the zone's SOA (its minimum DNS_TTL, so a resolver may cache them,
# RFC 2308 §5); every record has the TTL DNS_TTL; a name outside the
# zones is REFUSED. With DNS_AUTH=0 a TTL given to dns_a/dns_aaaa is
# honoured (the others have DNS_TTL), every unknown name is NXDOMAIN, and
# negative answers have no SOA.
#
#   DNS_ZONES="test"       zones served (dns_zone adds one; set before dns_start)
#   DNS_TTL=60             the records' TTL, and the SOA minimum
#   DNS_AUTH=1             see above
#   dns_zone ZONE          one more zone ("e164.arpa" for ENUM)
#   dns_a NAME IP [TTL]    an A record (TTL: DNS_AUTH=0 only); several
#                          for one name make an RRset
#   dns_aaaa NAME IP [TTL] an AAAA record
#   dns_srv NAME TARGET PORT PRIORITY WEIGHT
#                          NAME as "_sip._udp.example.test"
#   dns_naptr NAME ORDER PREF FLAGS SERVICE REGEXP [REPLACEMENT]
#                          REGEXP as it will be on the wire (backslashes,
#                          commas and quotes as they are; "" for none),
#                          REPLACEMENT a name ("." or nothing: the root)
#   dns_raw LINE           any dnsmasq option line (cname=..., txt-record=...)
#   dns_clear              forgets the records (then declare, dns_reload)
#   dns_start PORT         dnsmasq on 127.0.0.1:PORT (UDP and TCP); sets
#                          DNS_PORT, DNS_PID; fails (1) when it does not serve
#   dns_reload             restarts it with the records as they are now
#                          (the port is closed for a few ms)
#   dns_stop               stops it
#   dns_query NAME TYPE [PORT [TIMEOUT]]
#                          slowdns.py query at 127.0.0.1:PORT (DNS_PORT):
#                          ";; status: ..." then one line per record
#   dns_slow_start PORT [slowdns.py serve options]
#                          slowdns.py on 127.0.0.1:PORT forwarding to
#                          DNS_PORT (--delay-match RE --delay-ms N
#                          [--delay-type T,..], --drop-match RE
#                          [--drop-type T,..]); sets SLOW_PORT, SLOW_PID;
#                          its log of queries is SLOW_LOG
#   dns_slow_stop          stops it
#   dns_queries NAME [TYPE]
#                          queries for NAME (of TYPE) slowdns.py has seen
#                          (truncate SLOW_LOG to count from zero)

DNSMASQ=${DNSMASQ:-/usr/sbin/dnsmasq}
SLOWDNS="$TOP_SRCDIR/tests/integration/slowdns.py"
DNS_DIR=$T_DIR/dns
DNS_RECORDS=$DNS_DIR/records.conf
DNS_ZONES=${DNS_ZONES:-test}
DNS_TTL=${DNS_TTL:-60}
DNS_AUTH=${DNS_AUTH:-1}
DNS_PORT=
DNS_PID=
SLOW_PORT=
SLOW_PID=
SLOW_LOG=$DNS_DIR/slowdns.log
mkdir -p "$DNS_DIR"
: >"$DNS_RECORDS"

# dnsmasq's conf syntax: inside double quotes a comma does not split and
# \\ and \" stand for \ and ".
dns__quote() {
	local s=${1//\\/\\\\}
	printf '"%s"' "${s//\"/\\\"}"
}

# Drops PID from T_PIDS (whole entries only).
dns__forget() {
	local p keep=()
	for p in "${T_PIDS[@]}"; do
		[ "$p" = "$1" ] || keep+=("$p")
	done
	T_PIDS=("${keep[@]}")
}

# Ends PID (a child of ours): SIGTERM, up to 5 s, then SIGKILL.
dns__end() {
	local pid=$1
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null
	for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	dns__forget "$pid"
}

dns_zone() { DNS_ZONES="$DNS_ZONES $1"; }
dns_raw() { printf '%s\n' "$1" >>"$DNS_RECORDS"; }
dns_clear() { : >"$DNS_RECORDS"; }

dns_a() {
	[ -n "${3:-}" ] && [ "$DNS_AUTH" = 1 ] && log "dns_a $1: TTL $3 ignored (DNS_AUTH=1: all have DNS_TTL)"
	dns_raw "host-record=$1,$2${3:+,$3}"
}

dns_aaaa() {
	[ -n "${3:-}" ] && [ "$DNS_AUTH" = 1 ] && log "dns_aaaa $1: TTL $3 ignored (DNS_AUTH=1: all have DNS_TTL)"
	dns_raw "host-record=$1,$2${3:+,$3}"
}

dns_srv() { dns_raw "srv-host=$1,$2,$3,$4,$5"; }

dns_naptr() {
	local repl=${7:-}
	[ "$repl" = . ] && repl=
	dns_raw "naptr-record=$1,$2,$3,$(dns__quote "$4"),$(dns__quote "$5"),$(dns__quote "$6")${repl:+,$repl}"
}

dns_start() {
	local port=$1 conf=$DNS_DIR/dnsmasq.conf z first= user=()
	DNS_PORT=$port
	{
		echo "# written by dns_lib.sh"
		for z in $DNS_ZONES; do
			if [ "$DNS_AUTH" = 1 ]; then
				echo "auth-zone=$z"
				[ -n "$first" ] || first=$z
			else
				echo "local=/$z/"
			fi
		done
		if [ "$DNS_AUTH" = 1 ]; then
			echo "auth-server=ns.$first,127.0.0.1"
		else
			echo "local=/#/"
		fi
		cat "$DNS_RECORDS"
	} >"$conf"
	# As root dnsmasq becomes "nobody" once its sockets are open; where
	# there is no such user it stays root.
	[ "$(id -u)" = 0 ] && ! getent passwd nobody >/dev/null && user=(--user=root)
	"$DNSMASQ" --keep-in-foreground --conf-file="$conf" --no-resolv --no-hosts --no-poll \
		--bind-interfaces --listen-address=127.0.0.1 --port="$port" --pid-file= \
		--log-facility=- --local-ttl="$DNS_TTL" --auth-ttl="$DNS_TTL" "${user[@]}" \
		${DNS_LOG_QUERIES:+--log-queries} >>"$DNS_DIR/dnsmasq.log" 2>&1 &
	DNS_PID=$!
	T_PIDS+=("$DNS_PID")
	# serving: the first zone's SOA (auth) or any answer at all
	if wait_for 5 dns__serves "$port"; then
		return 0
	fi
	log "dnsmasq does not serve on port $port"
	tail -n 20 "$DNS_DIR/dnsmasq.log" >&2
	return 1
}

dns__serves() {
	kill -0 "$DNS_PID" 2>/dev/null &&
		python3 "$SLOWDNS" query --timeout 0.3 --server "127.0.0.1:$1" "${DNS_ZONES%% *}" SOA 2>/dev/null |
		grep -q '^;; status: '
}

dns_stop() {
	dns__end "$DNS_PID"
	DNS_PID=
}

dns_reload() {
	local port=$DNS_PORT
	dns_stop
	dns_start "$port"
}

dns_query() {
	python3 "$SLOWDNS" query --server "127.0.0.1:${3:-$DNS_PORT}" --timeout "${4:-2}" "$1" "$2"
}

dns_slow_start() {
	local port=$1
	shift
	SLOW_PORT=$port
	python3 "$SLOWDNS" serve --port "$port" --upstream "127.0.0.1:$DNS_PORT" --log "$SLOW_LOG" \
		"$@" >>"$DNS_DIR/slowdns.out" 2>&1 &
	SLOW_PID=$!
	T_PIDS+=("$SLOW_PID")
	if wait_for 5 bound udp "$port" && kill -0 "$SLOW_PID" 2>/dev/null; then
		return 0
	fi
	log "slowdns.py does not listen on port $port"
	tail -n 20 "$DNS_DIR/slowdns.out" >&2
	return 1
}

dns_slow_stop() {
	dns__end "$SLOW_PID"
	SLOW_PID=
}

dns_queries() {
	local n=${1%.}
	awk -v n="${n,,}" -v t="${2:-}" '$1 == n && (t == "" || $2 == toupper(t)) { c++ } END { print c + 0 }' \
		"$SLOW_LOG" 2>/dev/null || echo 0
}
