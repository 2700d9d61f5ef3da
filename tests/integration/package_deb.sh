#!/usr/bin/env bash
# The Debian package as an operator meets it (doc/PACKAGING.md): built
# from the tree with dpkg-buildpackage, checked by lintian (no error, no
# warning), installed with apt-get (dependencies from apt), then
#  - the files, their owners and modes, the junction system user, the
#    configuration readable by that user's group only;
#  - the units accepted by systemd-analyze verify, and an exposure below
#    3.0 by systemd-analyze security;
#  - junction --check-config on the installed configuration;
#  - the installed binary run as the junction user against a private
#    PostgreSQL, with the notification socket junction.service gives it:
#    READY=1, a REGISTER by sipsak, calls by SIPp to the registered
#    contact, STOPPING=1 and exit 0 at SIGTERM;
#  - under systemd as PID 1 (not in a container), systemctl start, reload
#    and stop of junction.service too;
#  - an upgrade in place to a rebuilt package whose shipped configuration
#    changed: the administrator's edited conffile kept, the new one beside
#    it as .dpkg-dist, owner and mode kept;
#  - apt-get purge: nothing left of the package under /etc, /usr, /lib and
#    /var but the file the administrator made, and no junction user.
# It installs on this machine, so it needs root and a machine where the
# junction package is not installed already.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg.sh"
need dpkg-buildpackage lintian systemd-analyze sipsak sipp psql python3 git

[ "$(id -u)" -eq 0 ] || skip "installs a package: needs root"
if dpkg-query -W -f='${Status}' junction 2>/dev/null | grep -q 'install ok'; then
	skip "the junction package is installed on this machine already"
fi

installed=false
package_cleanup() {
	pg_cleanup
	if $installed; then
		DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq junction >/dev/null 2>&1 || true
	fi
	rm -rf /etc/junction/test-admin-file.pem
	rmdir /etc/junction 2>/dev/null || true
}
T_CLEANUP_HOOK=package_cleanup

# --- build and lint ---------------------------------------------------
SRC=$T_DIR/src/junction
mkdir -p "$SRC"
# The tree as it is (tracked and new files, not the ignored build output).
git -C "$TOP_SRCDIR" ls-files -z -co --exclude-standard | (cd "$TOP_SRCDIR" && xargs -0 tar cf - --no-recursion) |
	tar xf - -C "$SRC" || { fail "copying the tree"; t_done; }
t0=$(now_ms)
(cd "$SRC" && DEB_BUILD_OPTIONS="nocheck parallel=$(nproc)" dpkg-buildpackage -us -uc >"$T_DIR/build.log" 2>&1) ||
	{ fail "dpkg-buildpackage"; tail -n 40 "$T_DIR/build.log" >&2; t_done; }
VERSION=$(dpkg-parsechangelog -l "$SRC/debian/changelog" -S Version)
ARCH=$(dpkg --print-architecture)
DEB=$T_DIR/src/junction_${VERSION}_${ARCH}.deb
DSC=$T_DIR/src/junction_${VERSION}.dsc
[ -f "$DEB" ] && [ -f "$DSC" ] && pass "dpkg-buildpackage -us -uc: $(basename "$DEB") and $(basename "$DSC") in $((($(now_ms) - t0) / 1000)) s" ||
	{ fail "no .deb or .dsc: $(ls "$T_DIR/src")"; t_done; }
if lintian --fail-on error,warning --tag-display-limit 0 "$DSC" "$DEB" >"$T_DIR/lintian.out" 2>&1; then
	pass "lintian: no error, no warning ($(grep -c '^[IPX]:' "$T_DIR/lintian.out") info/pedantic/experimental tags)"
else
	fail "lintian: $(grep -E '^[EW]:' "$T_DIR/lintian.out" | head -n 20)"
fi

# --- install ----------------------------------------------------------
BEFORE=$T_DIR/files.before
AFTER=$T_DIR/files.after
# What install and purge may touch, less apt's and dpkg's own records and
# what other tests may be writing meanwhile.
snapshot() {
	find /etc /usr /lib /var -xdev \( -path /var/lib/dpkg -o -path /var/lib/apt -o -path /var/cache \
		-o -path /var/log -o -path /var/tmp -o -path /var/lib/postgresql -o -path /var/lib/systemd \
		-o -path /usr/lib/python3 -o -path '/usr/lib/python3*' -o -path /etc/ld.so.cache \) -prune -o -print 2>/dev/null |
		grep -v '/__pycache__' | sort
}
snapshot >"$BEFORE"
installed=true
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$DEB" >"$T_DIR/install.log" 2>&1 &&
	pass "apt-get install ./$(basename "$DEB")" || { fail "install: $(tail -n 20 "$T_DIR/install.log")"; t_done; }

mode_of() { stat -c '%U:%G %a' "$1" 2>/dev/null || echo missing; }
expect_mode() { # PATH "OWNER:GROUP MODE"
	local got
	got=$(mode_of "$1")
	[ "$got" = "$2" ] && pass "$1: $2" || fail "$1: $got, not $2"
}
expect_mode /usr/sbin/junction "root:root 755"
expect_mode /usr/bin/junctionctl "root:root 755"
expect_mode /etc/junction "root:junction 750"
expect_mode /etc/junction/junction.conf "root:junction 640"
expect_mode /lib/systemd/system/junction.service "root:root 644"
expect_mode /lib/systemd/system/junction@.service "root:root 644"
expect_mode /usr/lib/sysusers.d/junction.conf "root:root 644"
expect_mode /etc/logrotate.d/junction "root:root 644"
expect_mode /usr/share/junction/sql/001_registrar.sql "root:root 644"
expect_mode /usr/share/junction/grafana-dashboard.json "root:root 644"
expect_mode /usr/share/junction/prometheus-alerts.yml "root:root 644"
expect_mode /usr/share/man/man8/junction.8.gz "root:root 644"
expect_mode /usr/share/man/man5/junction.conf.5.gz "root:root 644"
[ "$(ls /usr/share/junction/sql/*.sql | wc -l)" = "$(ls "$TOP_SRCDIR"/sql/[0-9]*.sql | wc -l)" ] &&
	pass "every migration in /usr/share/junction/sql" || fail "migrations: $(ls /usr/share/junction/sql)"
dpkg-query -W -f='${Conffiles}\n' junction | grep -q '/etc/junction/junction.conf' &&
	pass "/etc/junction/junction.conf is a conffile" || fail "not a conffile"
IFS=: read -r _ _ JUID _ _ JHOME JSHELL < <(getent passwd junction)
[ -n "${JUID:-}" ] && [ "$JUID" -lt 1000 ] && [ "$JHOME" = /var/lib/junction ] && [ "$JSHELL" != /bin/bash ] &&
	pass "system user junction (uid $JUID, home $JHOME, shell $JSHELL)" || fail "user junction: $(getent passwd junction)"
runuser -u nobody -- cat /etc/junction/junction.conf >/dev/null 2>&1 && fail "another user reads the configuration" ||
	pass "another user cannot read the configuration"

# --- the units --------------------------------------------------------
for u in junction.service junction@.service; do
	f=/lib/systemd/system/$u
	[ "$u" = junction@.service ] && { cp "$f" "$T_DIR/junction@test.service"; f=$T_DIR/junction@test.service; }
	if systemd-analyze verify "$f" >"$T_DIR/verify.out" 2>&1 && [ ! -s "$T_DIR/verify.out" ]; then
		pass "systemd-analyze verify $u: clean"
	else
		fail "systemd-analyze verify $u: $(cat "$T_DIR/verify.out")"
	fi
	exposure=$(systemd-analyze security --offline=true "$f" 2>/dev/null | sed -n 's/.*Overall exposure level for .*: \([0-9.]*\).*/\1/p')
	awk -v e="${exposure:-99}" 'BEGIN { exit !(e < 3.0) }' && pass "systemd-analyze security $u: exposure $exposure" ||
		fail "systemd-analyze security $u: exposure ${exposure:-unknown}"
done
grep -q '^Type=notify' /lib/systemd/system/junction.service && pass "Type=notify" || fail "not Type=notify"

# --- run it as the unit would -----------------------------------------
/usr/sbin/junction --check-config >"$T_DIR/check.out" 2>&1 &&
	grep -q '^/etc/junction/junction.conf: OK$' "$T_DIR/check.out" && pass "junction --check-config on the shipped configuration" ||
	fail "--check-config: $(cat "$T_DIR/check.out")"
PORT=$(free_port)
UAS=$(free_port)
pg_start || { fail "postgres"; t_done; }
chmod 755 "$T_DIR" # the junction user reaches PostgreSQL's socket and the listener's
# The administrator's configuration: the shipped one, edited.
# (not 127.0.0.1 as a domain of ours: the SIPp UAS's contact is there)
sed -i -e "s|^listen = .*|listen = udp:127.0.0.1:$PORT tcp:127.0.0.1:$PORT\nrecord_route = yes|" \
	-e "s|^domain = .*|domain = localhost|" /etc/junction/junction.conf
cat >>/etc/junction/junction.conf <<CONF

# --- added by the administrator (package_deb.sh) ---
[database]
conninfo = $PG_CONNINFO
[auth]
secret = package-test-secret-0123456789abcdef
[registrar]
min_expires = 10
CONF
runuser -u junction -- /usr/sbin/junction --check-config >"$T_DIR/check.out" 2>&1 &&
	pass "--check-config as junction on the edited configuration" || fail "--check-config: $(cat "$T_DIR/check.out")"
runuser -u junction -- /usr/sbin/junction --migrate >"$T_DIR/migrate.out" 2>&1 && pass "junction --migrate as junction" ||
	fail "migrate: $(cat "$T_DIR/migrate.out")"
psql_q "SELECT junction_add_subscriber('alice', 'localhost', 'Alice-pw-1')" >/dev/null || fail "subscriber"

# run_installed NAME: /usr/sbin/junction as the junction user, with
# NOTIFY_SOCKET and WATCHDOG_USEC as junction.service sets them
run_installed() {
	python3 "$TOP_SRCDIR/tests/integration/sdnotify_listen.py" "$T_DIR/$1.sock" >"$T_DIR/$1.out" 2>&1 &
	T_PIDS+=("$!")
	wait_for 5 test -S "$T_DIR/$1.sock" || fail "notification listener"
	runuser -u junction -- env NOTIFY_SOCKET="$T_DIR/$1.sock" WATCHDOG_USEC=30000000 \
		/usr/sbin/junction >>"$T_DIR/junction.log" 2>&1 &
	T_PIDS+=("$!")
	wait_for 15 grep -q READY=1 "$T_DIR/$1.out" && pass "READY=1 from the installed binary ($1)" ||
		{ fail "no READY=1 ($1)"; tail -n 20 "$T_DIR/junction.log" >&2; }
	JCT_PID=$(pgrep -u junction -n -x junction)
	[ -n "$JCT_PID" ] && [ "$(stat -c %U "/proc/$JCT_PID")" = junction ] && pass "running as junction (pid $JCT_PID)" ||
		fail "not running as junction"
}
stop_installed() {
	kill -TERM "$JCT_PID"
	wait_for 10 bash -c "! kill -0 $JCT_PID 2>/dev/null" && pass "stopped at SIGTERM" || fail "did not stop"
	grep -q 'STOPPING=1' "$T_DIR/$1.out" && pass "STOPPING=1 ($1)" || fail "no STOPPING=1 ($1)"
}
run_installed first
sipsak -U -s sip:alice@localhost -r "$PORT" -u alice -a Alice-pw-1 -C "sip:alice@127.0.0.1:$UAS" -x 120 \
	>"$T_DIR/sipsak.out" 2>&1 && pass "sipsak registers alice through the installed node" ||
	fail "sipsak: $(tail -n 5 "$T_DIR/sipsak.out")"
[ "$(psql_q "SELECT count(*) FROM active_bindings WHERE aor = 'sip:alice@localhost'")" = 1 ] &&
	pass "alice's binding in PostgreSQL" || fail "no binding"
sipp -sf "$SCEN/uas.xml" -i 127.0.0.1 -p "$UAS" -bg >/dev/null 2>&1
wait_for 5 bound udp "$UAS" || fail "the SIPp UAS does not listen on $UAS"
UAS_PID=$(pgrep -n -f "sipp -sf $SCEN/uas.xml -i 127.0.0.1 -p $UAS")
[ -n "$UAS_PID" ] && T_PIDS+=("$UAS_PID")
sipp -sf "$SCEN/uac_aor.xml" -s alice -i 127.0.0.1 -rsa "127.0.0.1:$PORT" -m 50 -r 25 -nostdin -timeout 30s \
	-trace_stat -stf "$T_DIR/uac.csv" "127.0.0.1:$PORT" >"$T_DIR/uac.out" 2>&1
ok=$(tail -n 1 "$T_DIR/uac.csv" | cut -d';' -f16)
failed=$(tail -n 1 "$T_DIR/uac.csv" | cut -d';' -f18)
[ "$ok" = 50 ] && [ "$failed" = 0 ] && pass "SIPp: 50 calls to alice through the installed node" ||
	fail "calls: successful=$ok failed=$failed"
stop_installed first

if [ "$(ps -p 1 -o comm=)" = systemd ] && systemctl is-system-running >/dev/null 2>&1; then
	systemctl daemon-reload
	systemctl start junction.service && [ "$(systemctl is-active junction.service)" = active ] &&
		pass "systemctl start junction.service" || fail "systemctl start: $(systemctl status junction.service | tail -n 20)"
	systemctl reload junction.service && pass "systemctl reload" || fail "systemctl reload"
	systemctl stop junction.service && pass "systemctl stop" || fail "systemctl stop"
else
	log "no systemd as PID 1 here ($(ps -p 1 -o comm=)): the unit's protocol was checked against a listener instead"
fi

# --- upgrade in place ---------------------------------------------------
NEWV=$VERSION+rebuild1
RB=$T_DIR/rebuild
dpkg-deb -R "$DEB" "$RB"
sed -i "s/^Version: .*/Version: $NEWV/" "$RB/DEBIAN/control"
printf '\n# A line the new package version added.\n' >>"$RB/etc/junction/junction.conf"
(cd "$RB" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | xargs -0 md5sum >DEBIAN/md5sums)
NEWDEB=$T_DIR/junction_${NEWV}_${ARCH}.deb
dpkg-deb --root-owner-group -b "$RB" "$NEWDEB" >/dev/null || fail "repacking"
sum_before=$(md5sum </etc/junction/junction.conf)
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o Dpkg::Options::=--force-confold "$NEWDEB" >"$T_DIR/upgrade.log" 2>&1 &&
	pass "upgraded in place to $NEWV" || fail "upgrade: $(tail -n 20 "$T_DIR/upgrade.log")"
[ "$(dpkg-query -W -f='${Version}' junction)" = "$NEWV" ] || fail "version after the upgrade: $(dpkg-query -W -f='${Version}' junction)"
[ "$(md5sum </etc/junction/junction.conf)" = "$sum_before" ] && pass "the administrator's configuration kept" ||
	fail "the configuration changed in the upgrade"
grep -q 'A line the new package version added' /etc/junction/junction.conf.dpkg-dist 2>/dev/null &&
	pass "the new shipped configuration beside it as junction.conf.dpkg-dist" || fail "no .dpkg-dist"
expect_mode /etc/junction/junction.conf "root:junction 640"
run_installed second
sipsak -U -s sip:alice@localhost -r "$PORT" -u alice -a Alice-pw-1 -C "sip:alice@127.0.0.1:$UAS" -x 120 \
	>"$T_DIR/sipsak.out" 2>&1 && pass "registers after the upgrade" || fail "sipsak after the upgrade"
stop_installed second

# --- purge --------------------------------------------------------------
echo "an administrator's certificate" >/etc/junction/test-admin-file.pem
DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq junction >"$T_DIR/purge.log" 2>&1 && installed=false &&
	pass "apt-get purge junction" || fail "purge: $(tail -n 20 "$T_DIR/purge.log")"
snapshot >"$AFTER"
left=$(comm -13 "$BEFORE" "$AFTER")
if [ "$left" = $'/etc/junction\n/etc/junction/test-admin-file.pem' ]; then
	pass "after the purge only the administrator's file (and its directory) is left"
else
	fail "left after the purge: $left"
fi
gone=$(comm -23 "$BEFORE" "$AFTER")
[ -z "$gone" ] && pass "nothing that was there before is gone" || fail "gone: $gone"
getent passwd junction >/dev/null && fail "user junction left" || pass "no junction user"
getent group junction >/dev/null && fail "group junction left" || pass "no junction group"
dpkg-statoverride --list | grep -q junction && fail "statoverrides left" || pass "no statoverride left"
find /etc /usr /lib /var -xdev -nouser -print -quit 2>/dev/null | grep -q . &&
	fail "files of a deleted user: $(find /etc /usr /lib /var -xdev -nouser 2>/dev/null | head)" ||
	pass "no file owned by a deleted user"
rm -f /etc/junction/test-admin-file.pem
rmdir /etc/junction
t_done
