#!/usr/bin/env bash
# The RPM package (junction.spec, made from junction.spec.in by configure
# and shipped at the top of the `make dist` tarball), built on this Debian
# machine as a Fedora packager would build it:
#  - `make dist` in a private build directory (never the shared one,
#    where other tests run), then `rpmbuild -ta` on the tarball, %check
#    (make check-unit) included;
#  - rpmlint on the spec and the binary package (with junction.rpmlintrc,
#    whose every filter says why): no error, and only the warnings
#    explained below;
#  - the package's files: exactly the Debian package's (the units in
#    /usr/lib/systemd/system), plus rpm's build-id links; their modes,
#    owners and flags (the configuration root:junction 0640,
#    %config(noreplace));
#  - the scriptlets, run against stand-in commands: the junction user as
#    sysusers.d's junction.conf declares it, the unit preset at install,
#    disabled and stopped at erase, restarted at upgrade;
#  - installed into a private root with rpm --root --noscripts: the tree
#    on disk, rpm -V clean, and an erase that leaves only the edited
#    configuration (as junction.conf.rpmsave).
# rpmbuild runs with --nodeps: the BuildRequires (gcc, pkgconfig(libpq)...)
# name RPM packages and capabilities, which rpm looks up in its own
# database, not in dpkg's, so none can be met here although the Debian
# packages that provide them are installed (admin/install-deps).
. "$(dirname "$0")/lib.sh"
need rpmbuild rpmlint rpm rpm2archive readelf

# rpm --root chroots into the private root.
[ "$(id -u)" -eq 0 ] || skip "rpm --root needs root"

# Nothing of the `make check` running this test reaches the builds below:
# its command line (TESTS=... in MAKEFLAGS) would override what the spec's
# %check runs, and TOP_SRCDIR would point the package's tests back here.
unset MAKEFLAGS MFLAGS MAKELEVEL MAKEOVERRIDES
export -n TOP_SRCDIR TOP_BUILDDIR JUNCTION

# --- the tarball --------------------------------------------------------
B=$T_DIR/build
mkdir -p "$B"
t0=$(now_ms)
(cd "$B" && "$TOP_SRCDIR/configure" -q >"$T_DIR/configure.log" 2>&1 && make -j2 dist >"$T_DIR/dist.log" 2>&1) ||
	{ fail "configure and make dist: $(tail -n 20 "$T_DIR/dist.log" "$T_DIR/configure.log" 2>/dev/null)"; t_done; }
V=$(sed -n 's/^PACKAGE_VERSION = //p' "$B/Makefile")
TARBALL=$B/junction-$V.tar.gz
[ -f "$TARBALL" ] && pass "make dist: $(basename "$TARBALL") in $((($(now_ms) - t0) / 1000)) s" ||
	{ fail "no $TARBALL: $(ls "$B")"; t_done; }
tar -tzf "$TARBALL" >"$T_DIR/tarball.list"
for f in junction.spec junction.spec.in junction.rpmlintrc README.md doc/DESIGN.md doc/SCALING.md; do
	grep -qx "junction-$V/$f" "$T_DIR/tarball.list" && pass "in the tarball: $f" || fail "not in the tarball: $f"
done
tar -xzf "$TARBALL" -C "$T_DIR" "junction-$V/junction.spec" "junction-$V/junction.rpmlintrc"
SPEC=$T_DIR/junction-$V/junction.spec
[ "$(sed -n 's/^Version: *//p' "$SPEC")" = "$V" ] && pass "the spec's Version is configure's: $V" ||
	fail "Version: $(grep '^Version' "$SPEC"), not $V"
grep -q '@[A-Za-z_]*@' "$SPEC" && fail "unsubstituted in the spec: $(grep '@[A-Za-z_]*@' "$SPEC")"

# --- rpmbuild -------------------------------------------------------------
# Beside --nodeps (above), for this machine's rpm:
#  - packager: the Packager tag, which rpmlint's built-in defaults want
#    (no-packager-tag is an error there), is a build system's to set
#    (Fedora's koji does), never the spec's (Fedora's guidelines);
#  - __brp_compress: Debian's rpm runs brp-compress, a bash script
#    (`read -d ''`), with /bin/sh, which is dash here: the man pages would
#    stay uncompressed. bash runs it as it does on Fedora.
# Everything rpmbuild writes stays in $T_DIR.
TOP=$T_DIR/rpmbuild
mkdir -p "$TOP" "$T_DIR/tmp"
t0=$(now_ms)
if rpmbuild -ta --nodeps --define "_topdir $TOP" --define "_tmppath $T_DIR/tmp" --define '_smp_mflags -j2' \
	--define 'packager Junction developers <developers@junction.invalid>' \
	--define '__brp_compress bash %{_rpmconfigdir}/brp-compress %{?_prefix}' \
	"$TARBALL" >"$T_DIR/rpmbuild.log" 2>&1; then
	pass "rpmbuild -ta $(basename "$TARBALL") in $((($(now_ms) - t0) / 1000)) s"
else
	fail "rpmbuild: $(tail -n 40 "$T_DIR/rpmbuild.log")"
	t_done
fi
grep -q '^Executing(%check)' "$T_DIR/rpmbuild.log" && grep -q '^# FAIL: *0$' "$T_DIR/rpmbuild.log" &&
	pass "%check ran make check-unit: $(grep -m1 '^# PASS:' "$T_DIR/rpmbuild.log")" || fail "no %check, or it failed"
ARCH=$(rpm --eval '%{_arch}')
RPMS=("$TOP"/RPMS/"$ARCH"/junction-*.rpm)
SRPMS=("$TOP"/SRPMS/junction-*.src.rpm)
[ ${#RPMS[@]} = 1 ] && [ -f "${RPMS[0]}" ] && [ ${#SRPMS[@]} = 1 ] && [ -f "${SRPMS[0]}" ] ||
	{ fail "packages: $(cd "$TOP" && find RPMS SRPMS -name '*.rpm')"; t_done; }
RPM=${RPMS[0]}
[ "$(basename "$RPM")" = "junction-$V-1.$ARCH.rpm" ] && pass "$(basename "$RPM") and $(basename "${SRPMS[0]}")" ||
	fail "package name $(basename "$RPM")"
q() { rpm -qp "$@" "$RPM" 2>/dev/null; } # (Debian's rpm says on stderr to use alien)

# --- rpmlint ----------------------------------------------------------------
# No error (the rpmlintrc filters what is so on purpose, each with its
# reason). The warnings left come from this machine's rpmlint and rpm,
# not from the package:
#  - unstripped-binary-or-object /usr/sbin/junction, /usr/bin/junctionctl:
#    Debian's rpm has no debuginfo step (its %__debug_install_post is
#    empty) and its brp-strip runs `strip -g`, which keeps the symbol
#    table; on Fedora find-debuginfo strips both into junction-debuginfo.
#  - manpage-not-compressed bz2: rpmlint's built-in defaults expect bzip2;
#    rpm compresses man pages with gzip, which Fedora's rpmlint
#    configuration expects (CompressExtension = "gz").
#  - no-manual-page-for-binary junction, junctionctl: rpmlint 2.4 compares
#    a binary's name with the man sections it found ("1", "8"), not the
#    pages' names; junction.8.gz and junctionctl.1.gz are checked below.
#  - invalid-license LicenseRef-Proprietary: rpmlint's built-in defaults
#    list no valid licence at all, so every License tag is warned about.
#    LicenseRef-Proprietary is SPDX's form for a licence of one's own:
#    Junction is all rights reserved (debian/copyright).
# Any other warning fails the test.
EXPLAINED='unstripped-binary-or-object|manpage-not-compressed|no-manual-page-for-binary|invalid-license'
TMPDIR=$T_DIR/tmp rpmlint -r "$T_DIR/junction-$V/junction.rpmlintrc" "$SPEC" "$RPM" >"$T_DIR/rpmlint.out" 2>&1
rc=$?
grep -E ': [EW]: ' "$T_DIR/rpmlint.out" >&2
summary=$(grep -E 'checked;' "$T_DIR/rpmlint.out")
if [ "$rc" = 0 ] && [[ $summary == *" 0 errors,"* ]] && ! grep -q ': E: ' "$T_DIR/rpmlint.out"; then
	pass "rpmlint: no error (${summary# })"
else
	fail "rpmlint (exit $rc): $(grep -E ': E: |checked;' "$T_DIR/rpmlint.out")"
fi
other=$(grep ': W: ' "$T_DIR/rpmlint.out" | grep -Ev ": W: ($EXPLAINED) ")
[ -z "$other" ] && pass "rpmlint: every warning is one explained here" || fail "rpmlint warnings not explained: $other"

# --- the files ----------------------------------------------------------------
# The Debian package's files, the units in /usr/lib/systemd/system (where
# Debian 12 has /lib). Its /usr/share/doc/junction/copyright and
# changelog.gz are the rpm's License and %changelog. rpm adds a build-id
# link per binary (/usr/lib/.build-id/NN/REST, as on Fedora).
X=$T_DIR/extract
mkdir -p "$X"
rpm2archive - <"$RPM" | tar -xzf - -C "$X" || fail "rpm2archive"
build_id() { readelf -n "$1" | sed -n 's/.*Build ID: *\([0-9a-f]*\).*/\1/p'; }
ID_D=$(build_id "$X/usr/sbin/junction")
ID_C=$(build_id "$X/usr/bin/junctionctl")
[ -n "$ID_D" ] && [ -n "$ID_C" ] || fail "no build ids: '$ID_D' '$ID_C'"
# The expected entries: mode, user, group, rpm's file flags (c config,
# n noreplace, d doc, a artifact) and path.
{
	cat <<EOF
drwxr-x--- root junction - /etc/junction
-rw-r----- root junction cn /etc/junction/junction.conf
-rw-r--r-- root root cn /etc/logrotate.d/junction
-rwxr-xr-x root root - /usr/bin/junctionctl
drwxr-xr-x root root a /usr/lib/.build-id
drwxr-xr-x root root a /usr/lib/.build-id/${ID_D:0:2}
lrwxrwxrwx root root a /usr/lib/.build-id/${ID_D:0:2}/${ID_D:2}
drwxr-xr-x root root a /usr/lib/.build-id/${ID_C:0:2}
lrwxrwxrwx root root a /usr/lib/.build-id/${ID_C:0:2}/${ID_C:2}
-rw-r--r-- root root - /usr/lib/systemd/system/junction.service
-rw-r--r-- root root - /usr/lib/systemd/system/junction@.service
-rw-r--r-- root root - /usr/lib/sysusers.d/junction.conf
-rwxr-xr-x root root - /usr/sbin/junction
drwxr-xr-x root root - /usr/share/doc/junction
-rw-r--r-- root root d /usr/share/doc/junction/DESIGN.md
-rw-r--r-- root root d /usr/share/doc/junction/README.md
-rw-r--r-- root root d /usr/share/doc/junction/SCALING.md
drwxr-xr-x root root - /usr/share/junction
-rw-r--r-- root root - /usr/share/junction/grafana-dashboard.json
-rw-r--r-- root root - /usr/share/junction/openapi.json
-rw-r--r-- root root - /usr/share/junction/prometheus-alerts.yml
drwxr-xr-x root root - /usr/share/junction/sql
-rw-r--r-- root root d /usr/share/man/man1/junctionctl.1.gz
-rw-r--r-- root root d /usr/share/man/man5/junction.conf.5.gz
-rw-r--r-- root root d /usr/share/man/man7/junction-sql.7.gz
-rw-r--r-- root root d /usr/share/man/man8/junction.8.gz
EOF
	for f in "$TOP_SRCDIR"/sql/[0-9]*.sql; do
		echo "-rw-r--r-- root root - /usr/share/junction/sql/$(basename "$f")"
	done
} | sort -u -k5 >"$T_DIR/expected"
[ "$(grep -c /usr/share/junction/sql/ "$T_DIR/expected")" -ge 10 ] || fail "migrations in the source: $(ls "$TOP_SRCDIR/sql")"
q -l | sort >"$T_DIR/files"
if diff <(awk '{print $5}' "$T_DIR/expected") "$T_DIR/files" >"$T_DIR/files.diff"; then
	pass "the file list: the Debian package's $(grep -vc build-id "$T_DIR/files") entries and $(grep -c build-id "$T_DIR/files") of build-id"
else
	fail "the file list (< expected, > in the package): $(cat "$T_DIR/files.diff")"
fi
q --qf '[%{FILEMODES:perms} %{FILEUSERNAME} %{FILEGROUPNAME} %{FILEFLAGS:fflags} %{FILENAMES}\n]' |
	awk '{ if (NF == 4) { $5 = $4; $4 = "-" } print }' | sort -k5 >"$T_DIR/attrs"
if diff "$T_DIR/expected" "$T_DIR/attrs" >"$T_DIR/attrs.diff"; then
	pass "modes, owners and flags: junction.conf -rw-r----- root junction %config(noreplace), /etc/junction drwxr-x---"
else
	fail "modes, owners, flags (< expected, > in the package): $(cat "$T_DIR/attrs.diff")"
fi
for l in "${ID_D:0:2}/${ID_D:2} ../../../../usr/sbin/junction" "${ID_C:0:2}/${ID_C:2} ../../../../usr/bin/junctionctl"; do
	got=$(readlink "$X/usr/lib/.build-id/${l%% *}")
	[ "$got" = "${l#* }" ] && pass "build-id link to ${l##*/}" || fail "build-id link ${l%% *}: $got"
done
cmp -s "$X/usr/lib/sysusers.d/junction.conf" "$TOP_SRCDIR/etc/junction.sysusers" &&
	cmp -s "$X/etc/junction/junction.conf" "$TOP_SRCDIR/etc/junction.conf" &&
	cmp -s "$X/etc/logrotate.d/junction" "$TOP_SRCDIR/etc/junction.logrotate" &&
	pass "junction.conf, sysusers.d and logrotate.d files as in etc/" || fail "a file differs from etc/"
for u in junction.service junction@.service; do
	grep -qx 'ExecStart=/usr/sbin/junction --config /etc/junction/junction.conf' "$X/usr/lib/systemd/system/$u" ||
		grep -qx 'ExecStart=/usr/sbin/junction --config /etc/junction/%i.conf' "$X/usr/lib/systemd/system/$u" ||
		fail "$u: $(grep '^ExecStart=' "$X/usr/lib/systemd/system/$u")"
done
! grep -q '@[a-z]*@' "$X"/usr/lib/systemd/system/*.service && pass "the units name /usr/sbin and /etc" ||
	fail "unsubstituted in the units"
[ "$(q --qf '%{LICENSE}|%{VERSION}|%{RELEASE}|%{PACKAGER}')" = "LicenseRef-Proprietary|$V|1|Junction developers <developers@junction.invalid>" ] &&
	pass "License, Version, Release, Packager" || fail "header: $(q --qf '%{LICENSE}|%{VERSION}|%{RELEASE}|%{PACKAGER}')"
q --changelog | head -n 1 | grep -q "> - $V-1\$" && pass "%changelog's last entry is $V-1" ||
	fail "%changelog: $(q --changelog | head -n 1)"

# --- the scriptlets ---------------------------------------------------------------
# Run as rpm runs them (sh, $1 = the number of the package's versions
# installed after the step), with getent, groupadd, useradd and systemctl
# stand-ins that log their arguments: nothing on this machine changes.
# These are the fallbacks of the spec's systemd macros (this rpm has no
# systemd-rpm-macros); on Fedora %systemd_post and the others come from
# there and do the same through systemd-update-helper.
STUBS=$T_DIR/stubs
mkdir -p "$STUBS"
for c in groupadd useradd systemctl; do
	printf '#!/bin/sh\n{ printf "%%s|" %s "$@"; echo; } >>"%s/calls"\n' "$c" "$T_DIR" >"$STUBS/$c"
done
# getent: the user and group exist only when $T_DIR/user-exists does.
printf '#!/bin/sh\n[ -e "%s/user-exists" ]\n' "$T_DIR" >"$STUBS/getent"
chmod +x "$STUBS"/*
scriptlet() { # TAG ARG: the scriptlet's calls, one per line
	local body
	body=$(q --qf "%{$1}")
	: >"$T_DIR/calls"
	[ "$body" = "(none)" ] && { echo "no $1 scriptlet"; return; }
	PATH="$STUBS:/usr/bin:/bin" sh -c "$body" sh "$2" || echo "exit $?"
	cat "$T_DIR/calls"
}
expect_calls() { # WHAT TAG ARG EXPECTED
	local got
	got=$(scriptlet "$2" "$3")
	[ "$got" = "$4" ] && pass "$1: ${4:-nothing}" || fail "$1: got '$got', not '$4'"
}
# The user and group, from the sysusers.d line the package ships.
# (xargs splits it as sysusers.d does: blanks, and "..." for the GECOS.)
mapfile -t su < <(grep -v '^#' "$X/usr/lib/sysusers.d/junction.conf" | xargs printf '%s\n')
s_name=${su[1]} s_gecos=${su[3]} s_home=${su[4]}
[ "${#su[@]}" = 5 ] && [ "${su[0]} ${su[2]}" = "u -" ] && [ "$s_name|$s_gecos|$s_home" = "junction|Junction SIP proxy|/var/lib/junction" ] ||
	fail "the sysusers.d line: ${su[*]}"
rm -f "$T_DIR/user-exists"
expect_calls "%pre at install, no junction user yet" PREIN 1 "groupadd|-r|$s_name|
useradd|-r|-g|$s_name|-d|$s_home|-M|-s|/sbin/nologin|-c|$s_gecos|$s_name|"
touch "$T_DIR/user-exists"
expect_calls "%pre at upgrade, the user there" PREIN 2 ""
expect_calls "%post at install: the unit's preset (enabled where presets say so)" POSTIN 1 "systemctl|--no-reload|preset|junction.service|"
expect_calls "%post at upgrade" POSTIN 2 ""
expect_calls "%preun at erase: disable --now" PREUN 0 "systemctl|--no-reload|disable|--now|junction.service|"
expect_calls "%preun at upgrade" PREUN 1 ""
expect_calls "%postun at upgrade: try-restart" POSTUN 1 "systemctl|daemon-reload|
systemctl|try-restart|junction.service|"
expect_calls "%postun at erase" POSTUN 0 "systemctl|daemon-reload|"

# --- installed into a private root ----------------------------------------------
# --noscripts: the root has no shell to run %pre with, so its passwd and
# group hold the junction user %pre would have made (an id no one uses
# on this machine, so that an owner on disk can only come from them).
R=$T_DIR/root
JID=64123
mkdir -p "$R/etc"
printf 'root:x:0:0:root:/root:/bin/sh\njunction:x:%s:%s:Junction SIP proxy:/var/lib/junction:/sbin/nologin\n' "$JID" "$JID" >"$R/etc/passwd"
printf 'root:x:0:\njunction:x:%s:\n' "$JID" >"$R/etc/group"
rpmr() { rpm --root "$R" --dbpath /var/lib/rpm "$@"; }
rpmr -i --nodeps --noscripts "$RPM" >"$T_DIR/install.log" 2>&1 && pass "rpm --root -i --nodeps --noscripts" ||
	{ fail "rpm -i: $(cat "$T_DIR/install.log")"; t_done; }
[ "$(rpmr -q junction 2>/dev/null)" = "junction-$V-1.$ARCH" ] && pass "in the private root's rpm database" ||
	fail "rpm -q: $(rpmr -q junction 2>&1)"
# On disk: the package's entries as expected (owner junction = $JID), and
# besides them only the directories above them, made by rpm, root's 0755.
on_disk() {
	find "$R" -mindepth 1 \( -path "$R/var" -o -path "$R/etc/passwd" -o -path "$R/etc/group" \) -prune -o \
		-printf '%M %U %G /%P\n' | sort -k4
}
{
	awk -v j="$JID" '{ u = $2 == "root" ? 0 : j; g = $3 == "root" ? 0 : j; print $1, u, g, $5 }' "$T_DIR/expected"
	awk '{ p = $5; while ((p = substr(p, 1, match(p, /\/[^\/]*$/) - 1)) != "") print p }' "$T_DIR/expected" |
		sort -u | grep -vxFf <(awk '{print $5}' "$T_DIR/expected") | sed 's/^/drwxr-xr-x 0 0 /'
} | sort -k4 >"$T_DIR/disk.expected"
on_disk >"$T_DIR/disk"
if diff "$T_DIR/disk.expected" "$T_DIR/disk" >"$T_DIR/disk.diff"; then
	pass "the tree on disk: $(wc -l <"$T_DIR/disk") entries, /etc/junction/junction.conf -rw-r----- 0:$JID"
else
	fail "on disk (< expected, > there): $(cat "$T_DIR/disk.diff")"
fi
zcat "$R/usr/share/man/man8/junction.8.gz" | grep -q '^\.TH JUNCTION 8' && pass "junction.8.gz is junction(8)" ||
	fail "junction.8.gz: $(zcat "$R/usr/share/man/man8/junction.8.gz" | head -n 3)"
out=$(rpmr -V --nodeps junction 2>&1) && [ -z "$out" ] && pass "rpm -V: every file as the package has it" || fail "rpm -V: $out"

# Erase: what the package installed goes, but an edited configuration is
# kept as junction.conf.rpmsave (so /etc/junction stays, holding it).
# The user stays, as with Fedora's packages (not checked: no scripts).
echo "# edited by the administrator" >>"$R/etc/junction/junction.conf"
rpmr -e --nodeps --noscripts junction >"$T_DIR/erase.log" 2>&1 && pass "rpm --root -e" || fail "rpm -e: $(cat "$T_DIR/erase.log")"
grep -q 'junction.conf saved as /etc/junction/junction.conf.rpmsave' "$T_DIR/erase.log" &&
	tail -n 1 "$R/etc/junction/junction.conf.rpmsave" | grep -q 'edited by the administrator' &&
	pass "the edited configuration kept as junction.conf.rpmsave" || fail "no .rpmsave: $(cat "$T_DIR/erase.log")"
left=$(on_disk | awk '$1 !~ /^d/ {print $4}')
[ "$left" = /etc/junction/junction.conf.rpmsave ] && pass "after the erase no file of the package is left" ||
	fail "left after the erase: $left"
left=$(awk '$1 ~ /^d/ && $5 != "/etc/junction" {print $5}' "$T_DIR/expected" | while read -r d; do [ -e "$R$d" ] && echo "$d"; done)
[ -z "$left" ] && pass "and none of its directories but /etc/junction" || fail "directories left: $left"
[ -z "$(rpmr -qa 2>/dev/null)" ] && pass "the private root's rpm database is empty" || fail "rpm -qa: $(rpmr -qa 2>&1)"
t_done
