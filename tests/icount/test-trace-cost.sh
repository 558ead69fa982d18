#!/usr/bin/env bash
# test-trace-cost.sh - disabled tracepoints cost nothing but their static-key
# nop (issue 20).  Suite "icount", JUnit XML via tests/lib/check.sh; four guest
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
# counter's sync mode is a load-time parameter with a path of its own per
# mode: WL runs with the configured mode (kmodlab.conf MODPARAMS_counter_*),
# and each mode of SYNC_MODES has a boot of its own per build (counter:write1,
# icount.sh --modparams), checked the same way: four boots in all.
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
	-h | --help) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "test-trace-cost: unknown option $1 (try --help)" >&2; exit 2 ;;
	esac
	shift
done
# The paths and the tracepoints one operation of each passes:
# scull read4k: scull_read; counter write1: counter_change; lkp_enc cycle
# (3 ioctls): lkp_enc_seed_write, lkp_enc_string_write, lkp_enc_string_read.
WL="scull:read4k counter:write1 lkp_enc:cycle"
SITES="scull/read4k=1 counter/write1=1 lkp_enc/cycle=3"
# counter's other sync modes (uapi/counter.h), one boot each per build
uapi() { scripts/uapi-value.sh --raw "$1"; }
COUNTER=$(uapi COUNTER_NAME)
SYNC_MODES="$(uapi COUNTER_SYNC_ATOMIC)"
dir=$ROOT/build/icount/trace-cost${KERNEL:+-$KERNEL}
build() { nice -n 19 make --no-print-directory -s -C kmod ${KERNEL:+KERNEL=$KERNEL} "$@" >/dev/null; }

# The icount boots of one build (off: without tracepoints, on: with them):
# WL as configured, then counter:write1 in each mode of SYNC_MODES.
measure() {
	local b=$1 what=$2 mode
	check "trace cost: icount of the build $what" \
		scripts/icount.sh --ops "$OPS" --workloads "$WL" --run-dir "$dir/$b"
	for mode in $SYNC_MODES; do
		check "trace cost: icount of the build $what, $COUNTER sync=$mode" \
			scripts/icount.sh --ops "$OPS" --workloads "$COUNTER:write1" \
			--modparams "$COUNTER:sync=$mode" --run-dir "$dir/$b-$mode"
	done
}

# The check of one pair of boots (suffix "" or "-<mode>") on the paths SITES.
compare() {
	local suffix=$1 label=$2
	shift 2
	if [ -s "$dir/off$suffix/icount.json" ] && [ -s "$dir/on$suffix/icount.json" ]; then
		check "trace cost: disabled tracepoints add only their static-key nops, C and C++$label" \
			"$PYTHON" -m analysis.icount_profile trace-cost "$dir/off$suffix/icount.json" \
			"$dir/on$suffix/icount.json" "$@"
	else
		check_fail "trace cost: disabled tracepoints add only their static-key nops$label" \
			"a run produced no icount.json ($dir/off$suffix, $dir/on$suffix)"
	fi
}

if [ $REUSE = 0 ]; then
	rm -rf "$dir"
	trap 'build' EXIT	# the normal build back, whatever happens
	if check "trace cost: modules build without tracepoints (KMODLAB_TRACE=0)" build KMODLAB_TRACE=0; then
		measure off "without tracepoints"
	fi
	if check "trace cost: modules build with tracepoints" build; then
		measure on "with tracepoints, disabled"
	fi
	trap - EXIT
fi
# shellcheck disable=SC2086
compare "" "" $SITES
for mode in $SYNC_MODES; do
	compare "-$mode" " ($COUNTER sync=$mode)" "$COUNTER/write1=1"
done
exit 0
