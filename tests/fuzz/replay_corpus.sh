#!/usr/bin/env bash
# Feeds the parser fuzz target's seed corpus, and the torture messages of
# the integration tests (tests/integration/torture/, one per RFC 4475
# section), through the target (see replay.c); fails on a crash or a
# sanitizer report.
set -eu
: "${TOP_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${TOP_BUILDDIR:=$TOP_SRCDIR}"
exec "$TOP_BUILDDIR/tests/fuzz/replay_sip_msg" "$TOP_SRCDIR"/tests/fuzz/corpus/sip_msg/* \
	"$TOP_SRCDIR"/tests/integration/torture/*.sip
