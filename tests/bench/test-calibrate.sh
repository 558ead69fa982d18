#!/usr/bin/env bash
# test-calibrate.sh - the statistics find a planted cost and the gate fails it.
# (Suite "calibrate", JUnit XML via tests/lib/check.sh; one guest boot,
# about 3-5 minutes: `make calibrate QUICK=1`.)
#
# Usage: tests/bench/test-calibrate.sh [--reuse DIR]
#
# Runs the quick calibration (scripts/calibrate.sh QUICK=1: the C counter
# module on both sides of every pair; A/A, and one side with extra_work
# sized for the planted cost of CALIB_LEVELS_QUICK, +10% of the op's median
# time in kmodlab.conf), then checks, for the largest planted level:
#   - calibration.json exists with aa_false_positive_rate and levels[] whose
#     fields lie in their ranges (rates in [0, 1], ratios positive, the largest
#     level's planted p50 ratio 1 + its cost)
#   - the plant is detected: over all replicates' pairs together (16
#     pairs less the disturbed ones), the p5 ratio's CI lies above 1 and
#     contains the planted p5 ratio (1 + cost x p50/p5) +- 0.05
#   - the gate (python3 -m analysis regress) PASSES an A/A replicate against
#     another A/A replicate as baseline, and FAILS a planted replicate
#     against the same baseline (exit 1, and a ratio row FAILs as a measured
#     regression, not as "cannot gate")
# --reuse DIR: check an existing calibration run instead of making one.
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT" || exit 1
export KMODLAB_ROOT=$ROOT
PYTHON=${PYTHON:-/usr/bin/python3}
CHECK_SUITE=calibrate
# shellcheck source=tests/lib/check.sh
source tests/lib/check.sh
case ${1:-} in -h | --help) sed -n '2,/^set /{/^set /!p}' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;; esac
out=build/test-calibrate
if [ "${1:-}" = --reuse ]; then
	out=${2:?--reuse needs a directory}
else
	rm -rf "$out"
	check "make calibrate QUICK=1 completes" env QUICK=1 CALIB_OUT="$out" PYTHON="$PYTHON" scripts/calibrate.sh
fi
check "calibration.json has its fields, in range" "$PYTHON" tests/bench/check_calibration.py fields "$out"
# The largest planted level of the run (CALIB_LEVELS_QUICK): plus10 for +10%.
plant=$("$PYTHON" tests/bench/check_calibration.py condition "$out" 2>/dev/null) || plant=""
check "the largest planted cost (p5) is detected and its CI covers it" "$PYTHON" tests/bench/check_calibration.py planted "$out"

# The gate on calibration replicates: baseline A/A replicate 0.
# shellcheck disable=SC2317  # called through check
gate() {	# expected-status run-name
	local want=$1 run=$out/runs/$2 rc
	"$PYTHON" -m analysis regress --baseline "$out/runs/aa-r0" --run "$run" >"$out/regress-$2.txt" 2>&1
	rc=$?
	cat "$out/regress-$2.txt"
	[ "$rc" = "$want" ] || { echo "gate exited $rc, expected $want"; return 1; }
	# A FAIL must be a measured regression of a ratio, not "cannot gate".
	[ "$want" = 0 ] || "$PYTHON" tests/bench/check_calibration.py regressed "$run/regress.json"
}
check "the gate passes an A/A run (C against C, against an A/A baseline)" gate 0 aa-r1
if [ -n "$plant" ]; then
	check "the gate fails a planted run ($plant-r1: extra_work on one side)" gate 1 "$plant-r1"
else
	check_fail "the gate fails a planted run" "calibration.json names no planted p50 level"
fi
exit 0
