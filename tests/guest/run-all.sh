#!/usr/bin/env bash
# run-all.sh - the guest half of `make test`: load every module, run each
# executable in tests/guest/suites/ in name order, unload, report.
#
# Runs inside the guest (vm/run --test -- tests/guest/run-all.sh) or, with
# TARGET=host, on a host whose kernel loads modules.  Suites write JUnit XML
# into build/test-results/; a suite that exits non-zero is itself recorded
# as a failure.  Usage: tests/guest/run-all.sh [SUITE-NAME-PATTERN...]
# (results into $KMODLAB_TEST_RESULTS when set: tests/run.sh's second kernel)
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT" || exit 1
export KMODLAB_ROOT=$ROOT
CHECK_SUITE=guest
source tests/lib/check.sh

[ $# -gt 0 ] || set -- '*'
check "load all modules" scripts/modules.sh load || true
# Every suite records "suite NAME ran to the end", pass or fail: tests/run.sh
# expects one per file in suites/, so a suite that never ran (guest died,
# file not executable) is missing from the summary, not silently absent.
for suite in $(for p in "$@"; do printf '%s\n' tests/guest/suites/$p; done | sort -u); do
	name=$(basename "$suite")
	if [ ! -x "$suite" ]; then
		check_fail "suite $name ran to the end" "$suite is missing or not executable (chmod +x?)"
		continue
	fi
	echo "=== suite $name"
	start=$(date +%s)
	"$suite"
	rc=$?
	echo "=== suite $name: exit $rc, $(($(date +%s) - start)) s"
	check_status "suite $name ran to the end" $rc "suite $name exited $rc"
done
check "unload all modules" scripts/modules.sh unload || true
