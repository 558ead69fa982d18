#!/usr/bin/env bash
# test-trace-cost.sh - disabled tracepoints cost nothing but their static-key
# nop (issue 20).  Suite "icount", JUnit XML via tests/lib/check.sh; two guest
# boots under the plugin; rebuilds the modules twice (KERNEL= one kernel).
#
# Usage: tests/icount/test-trace-cost.sh [--ops N] [--reuse]
#        (default 200 ops per window; --reuse: compare the last runs again)
#
# 1. the modules built with KMODLAB_TRACE=0 (no tracepoint in any driver,
#    kmod/include/kmodlab/trace/common.h): icount of WL;
# 2. the normal build (tracepoints compiled in, none enabled): icount of WL;
# 3. per path and variant, driver instructions with minus without must be at
#    most the tracepoints one operation passes (SITES: one nop each) and no
#    other instruction class may grow (analysis/icount_profile.py trace-cost).
# The normal build is restored however the script ends.  TARGET=vm only.
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT" || exit 1
export KMODLAB_ROOT=$ROOT
PYTHON=${PYTHON:-/usr/bin/python3}
CHECK_SUITE=icount
# shellcheck source=tests/lib/check.sh
source tests/lib/check.sh
OPS=200 REUSE=0
while [ $# -gt 0 ]; do
	case $1 in
	--ops) OPS=${2:?}; shift ;;
	--reuse) REUSE=1 ;;
	-h | --help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "test-trace-cost: unknown option $1 (try --help)" >&2; exit 2 ;;
	esac
	shift
done
# The paths and the tracepoints one operation of each passes:
# scull read4k: scull_read; counter write1: counter_change; lkp_enc cycle
# (3 ioctls): lkp_enc_seed_write, lkp_enc_string_write, lkp_enc_string_read.
WL="scull:read4k counter:write1 lkp_enc:cycle"
SITES="scull/read4k=1 counter/write1=1 lkp_enc/cycle=3"
dir=$ROOT/build/icount/trace-cost${KERNEL:+-$KERNEL}
build() { nice -n 19 make --no-print-directory -s -C kmod ${KERNEL:+KERNEL=$KERNEL} "$@" >/dev/null; }

if [ $REUSE = 0 ]; then
	rm -rf "$dir"
	trap 'build' EXIT	# the normal build back, whatever happens
	if check "trace cost: modules build without tracepoints (KMODLAB_TRACE=0)" build KMODLAB_TRACE=0; then
		check "trace cost: icount of the build without tracepoints" \
			scripts/icount.sh --ops "$OPS" --workloads "$WL" --run-dir "$dir/off"
	fi
	if check "trace cost: modules build with tracepoints" build; then
		check "trace cost: icount of the build with tracepoints, disabled" \
			scripts/icount.sh --ops "$OPS" --workloads "$WL" --run-dir "$dir/on"
	fi
	trap - EXIT
fi
if [ -s "$dir/off/icount.json" ] && [ -s "$dir/on/icount.json" ]; then
	# shellcheck disable=SC2086
	check "trace cost: disabled tracepoints add only their static-key nops, C and C++" \
		"$PYTHON" -m analysis.icount_profile trace-cost "$dir/off/icount.json" "$dir/on/icount.json" $SITES
else
	check_fail "trace cost: disabled tracepoints add only their static-key nops" "a run produced no icount.json"
fi
exit 0
