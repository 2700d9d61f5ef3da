#!/usr/bin/env bash
# Feeds every fuzz target's seed corpus (tests/fuzz/corpus/TARGET/, crash
# reproducers included as regress-* files) through the target built with
# replay.c instead of libFuzzer, and the torture messages of the
# integration tests (tests/integration/torture/, one per RFC 4475
# section) through the message targets too; fails on a crash, an abort
# of a target's own checks, or a sanitizer report.
set -eu
: "${TOP_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${TOP_BUILDDIR:=$TOP_SRCDIR}"
corpus=$TOP_SRCDIR/tests/fuzz/corpus
torture=("$TOP_SRCDIR"/tests/integration/torture/*.sip)
rc=0
for dir in "$corpus"/*/; do
	t=$(basename "$dir")
	extra=()
	case $t in sip_msg | route) extra=("${torture[@]}") ;; esac
	printf '%-12s ' "$t"
	if ! "$TOP_BUILDDIR/tests/fuzz/replay_$t" "$dir"* "${extra[@]}"; then
		echo "replay_corpus: $t failed" >&2
		rc=1
	fi
done
exit $rc
