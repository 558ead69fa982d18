#!/usr/bin/env bash
# test-extra-work.sh - the icount plugin's known-answer test: a planted cost
# of exactly known size must show up exactly.  (Suite "icount", JUnit XML via
# tests/lib/check.sh; one guest boot under the plugin.)
#
# Usage: tests/icount/test-extra-work.sh [--ops N] [--extra N] [--reuse]
#        (default 20 ops per window, extra_work 1000)
#
# Every driver has the module parameter extra_work (kmod/include/uapi/
# kmodlab.h): each file operation spins "dec; jnz" extra_work times, i.e.
# KMODLAB_EXTRA_WORK_INSN_PER_ITER instructions per iteration, the same
# asm in C and C++.  One boot measures every window at extra_work 0, then
# at N (set through sysfs).  Checked, per driver x workload x variant:
#   - the run is usable (plugin armed, one vCPU, every window ok)
#   - driver instructions per op rose by exactly N x fops x INSN_PER_ITER
#     (fops: driver file operations per op, from icount-op --list)
#   - conditional branches rose by exactly N x fops (one jnz per iteration),
#     loads, stores, atomics, calls, indirect and MMIO not at all
#   - the C and C++ deltas are identical
# INSN_PER_ITER comes from the uapi header (scripts/uapi-value.sh), not from
# this script.  Host side, TARGET=vm only.
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT" || exit 1
export KMODLAB_ROOT=$ROOT
PYTHON=${PYTHON:-/usr/bin/python3}
CHECK_SUITE=icount
# shellcheck source=tests/lib/check.sh
source tests/lib/check.sh
OPS=20 EXTRA=1000 REUSE=0
while [ $# -gt 0 ]; do
	case $1 in
	--ops) OPS=${2:?}; shift ;;
	--extra) EXTRA=${2:?}; shift ;;
	--reuse) REUSE=1 ;;
	-h | --help) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "test-extra-work: unknown option $1 (try --help)" >&2; exit 2 ;;
	esac
	shift
done
# one workload per driver, and lkp_enc's three-ioctl cycle (fops 3)
WL="scull:read4k counter:ioctl_get lkp_enc:cycle lkp_enc:ioctl_read_seed"
dir=$ROOT/build/icount/extra-work
per_iter=$(scripts/uapi-value.sh KMODLAB_EXTRA_WORK_INSN_PER_ITER) || {
	check_fail "planted work: KMODLAB_EXTRA_WORK_INSN_PER_ITER in the uapi header" "scripts/uapi-value.sh found no value"
	exit 0
}
if [ $REUSE = 0 ]; then
	rm -rf "$dir"
	check "planted work: run at extra_work 0 and $EXTRA completes and is usable" \
		scripts/icount.sh --ops "$OPS" --extra-work "0 $EXTRA" --workloads "$WL" --run-dir "$dir"
fi
if [ -s "$dir/icount.json" ]; then
	check "planted work: driver delta = extra_work x fops x $per_iter insns (jcc x fops), same in C and C++" \
		"$PYTHON" -m analysis.icount_profile extra-work "$dir/icount.json" "$per_iter"
else
	check_fail "planted work: driver delta = extra_work x fops x $per_iter insns" "the run produced no icount.json"
fi
exit 0
