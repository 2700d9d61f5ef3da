#!/usr/bin/env bash
# The layers of src/ include downward only (doc/DESIGN.md): each #include
# "..." of a file names a header of its own layer or of a layer below it.
# Prints every arrow that runs upward, and fails if there is one.
set -u
src=${TOP_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}/src
# lowest first; config sits above net (it holds their types), main.c on top
order="base sip net config store runtime security txn registrar proxy admin main"

rank() {
	local i=0 l
	for l in $order; do
		[ "$l" = "$1" ] && { echo $i; return; }
		i=$((i + 1))
	done
	echo -1
}

layer_of() { # path relative to src/
	case $1 in
	main.c) echo main ;;
	*/*) echo "${1%%/*}" ;;
	*) echo unknown ;;
	esac
}

bad=0 n=0
cd "$src" || exit 1
while IFS= read -r f; do
	from=$(layer_of "$f")
	rf=$(rank "$from")
	if [ "$rf" -lt 0 ]; then
		echo "$f: not in a layer folder"
		bad=$((bad + 1))
		continue
	fi
	while IFS= read -r h; do
		n=$((n + 1))
		case $h in
		autoconfig.h | store_migrations.h) continue ;;
		esac
		[ -f "$h" ] || { echo "$f: includes \"$h\", which is not src/$h"; bad=$((bad + 1)); continue; }
		to=$(layer_of "$h")
		if [ "$(rank "$to")" -gt "$rf" ]; then
			echo "$f ($from) includes $h ($to): upward"
			bad=$((bad + 1))
		fi
	done < <(sed -n 's/^#include "\([^"]*\)".*/\1/p' "$f")
done < <(find . -name '*.[ch]' ! -name store_migrations.c ! -name admin_openapi.c | sed 's|^\./||' | sort)
echo "$n includes checked, $bad upward or misplaced"
[ "$bad" -eq 0 ]
